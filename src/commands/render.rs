//! `kgen render`: profiles to YAML or JSON on stdout, or files in a
//! directory. Everything is rendered first; nothing is printed or written
//! unless every profile renders.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{Reporter, profile_paths, variants, write_stdout};
use crate::cli::RenderArgs;
use crate::diagnostic::Diagnostic;
use crate::object::Object;
use crate::output::out_dir::{self, OutFile};
use crate::output::{self, Format};
use crate::pipeline::{self, Rendered};

/// One profile rendered in one environment.
/// What is kept of a rendered profile until everything has rendered: the
/// objects (or, for a YAML stream, their text), not the profile's tree.
struct Bundle {
    path: PathBuf,
    app: String,
    environment: String,
    /// `Kind/namespace/name` of every object, to find duplicates.
    ids: Vec<String>,
    /// The objects, unless they are already in the YAML stream.
    objects: Vec<Object>,
}

impl Bundle {
    fn environment(&self) -> &str {
        &self.environment
    }
}

pub fn run(args: RenderArgs, reporter: &mut Reporter) -> u8 {
    let paths = profile_paths(&args.profiles);
    let batch = args.out_dir.is_some() && (paths.len() > 1 || args.batch);
    let mut bundles: Vec<Bundle> = Vec::new();
    let mut attempted = 0;
    // A YAML stream is written as each profile renders (and printed only
    // once all have), so that a batch holds text, not objects.
    let stream = args.out_dir.is_none() && args.output == Format::Yaml;
    let mut text = String::new();
    for path in &paths {
        // In batch mode without --env: the base and every environment.
        let Some(envs) = variants(path, &args.profile, batch, reporter) else {
            attempted += 1;
            continue;
        };
        for env in envs {
            attempted += 1;
            let options = match args.profile.options(env) {
                Ok(o) => o,
                Err(e) => {
                    reporter.report(&e.0);
                    return 2;
                }
            };
            match pipeline::render_file(path, &options, &mut reporter.sources) {
                Ok(r) => {
                    reporter.report(&r.warnings);
                    let Rendered { loaded, app, objects, .. } = r;
                    let ids = objects.iter().map(Object::id).collect();
                    let objects = if stream {
                        text.push_str(&output::to_yaml(&objects));
                        Vec::new()
                    } else {
                        objects
                    };
                    bundles.push(Bundle {
                        path: path.clone(),
                        app: app.name,
                        environment: loaded.environment.unwrap_or_else(|| "base".into()),
                        ids,
                        objects,
                    });
                }
                Err(e) => reporter.report(&e.0),
            }
        }
    }
    if bundles.len() < attempted {
        if attempted > 1 {
            reporter.report(&[Diagnostic::error(format!(
                "{} of {attempted} renders failed; nothing was written",
                attempted - bundles.len()
            ))]);
        }
        return 1;
    }
    let duplicates = duplicate_objects(&bundles);
    if !duplicates.is_empty() {
        reporter.report(&duplicates);
        return 1;
    }

    let Some(dir) = &args.out_dir else {
        if !stream {
            text = output::to_json(bundles.iter().flat_map(|b| &b.objects));
        }
        return write_stdout(&text);
    };
    // Check every target before writing any, so that a problem with one
    // leaves all of them as they were.
    let mut targets: BTreeMap<PathBuf, &Bundle> = BTreeMap::new();
    let mut plans = Vec::new();
    for b in &bundles {
        let target = if batch { dir.join(&b.app).join(b.environment()) } else { dir.clone() };
        if let Some(other) = targets.insert(target.clone(), b) {
            reporter.report(&[Diagnostic::error(format!(
                "`{}` and `{}` would both write `{}`; nothing was written",
                other.path.display(),
                b.path.display(),
                target.display()
            ))
            .hint("give the apps different `name`s")]);
            return 1;
        }
        match out_dir::plan(&target, files_for(&b.objects, args.kustomize)) {
            Ok(plan) => plans.push(plan),
            Err(e) => {
                reporter.report(&e.0);
                return 1;
            }
        }
    }
    for plan in plans {
        let dir = plan.dir().to_path_buf();
        match plan.apply() {
            Ok(report) => {
                for kept in &report.kept {
                    reporter.report(&[Diagnostic::warning(format!(
                        "kept `{kept}` in `{}`: kgen no longer renders it, and it changed since kgen wrote it",
                        dir.display()
                    ))]);
                }
            }
            Err(e) => {
                reporter.report(&e.0);
                return 1;
            }
        }
    }
    if batch {
        eprintln!("wrote {} bundles into {}", bundles.len(), dir.display());
    }
    0
}

/// One file per object (a Secret's readable by its owner only), plus a
/// kustomization.yaml listing them in order.
fn files_for(objects: &[Object], kustomize: bool) -> Vec<OutFile> {
    let mut files: Vec<OutFile> = objects
        .iter()
        .map(|o| OutFile {
            name: output::file_name(o),
            contents: output::object_yaml(o),
            private: o.kind() == "Secret",
        })
        .collect();
    if kustomize {
        let mut k = String::from("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n");
        for f in &files {
            k.push_str("  - ");
            k.push_str(&f.name);
            k.push('\n');
        }
        files.push(OutFile::new("kustomization.yaml", k));
    }
    files
}

/// Objects that two profiles render for the same environment (e.g. a
/// shared Namespace): they would fight over it in the cluster.
fn duplicate_objects(bundles: &[Bundle]) -> Vec<Diagnostic> {
    let mut seen: BTreeMap<(&str, String), &Path> = BTreeMap::new();
    let mut out = Vec::new();
    for b in bundles {
        for id in &b.ids {
            if let Some(first) = seen.insert((b.environment(), id.clone()), &b.path)
                && first != b.path
            {
                out.push(
                    Diagnostic::error(format!(
                        "{} is rendered by both `{}` and `{}` (environment `{}`)",
                        id,
                        first.display(),
                        b.path.display(),
                        b.environment()
                    ))
                    .hint(
                        "let one profile own it: for a shared namespace, set `namespace.create: false` in the others",
                    ),
                );
            }
        }
    }
    out
}
