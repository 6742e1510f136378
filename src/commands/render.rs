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
struct Bundle {
    path: PathBuf,
    rendered: Rendered,
}

impl Bundle {
    fn environment(&self) -> &str {
        self.rendered.loaded.environment.as_deref().unwrap_or("base")
    }
}

pub fn run(args: RenderArgs, reporter: &mut Reporter) -> u8 {
    let paths = profile_paths(&args.profiles);
    let batch = args.out_dir.is_some() && (paths.len() > 1 || args.batch);
    let mut bundles: Vec<Bundle> = Vec::new();
    let mut attempted = 0;
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
                    bundles.push(Bundle { path: path.clone(), rendered: r });
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
        let objects: Vec<&Object> = bundles.iter().flat_map(|b| &b.rendered.objects).collect();
        let text = match args.output {
            Format::Yaml => output::to_yaml(objects.iter().copied()),
            Format::Json => output::to_json(objects.iter().copied()),
        };
        return write_stdout(&text);
    };
    // Check every target before writing any, so that a problem with one
    // leaves all of them as they were.
    let mut targets: BTreeMap<PathBuf, &Bundle> = BTreeMap::new();
    let mut plans = Vec::new();
    for b in &bundles {
        let target = if batch { dir.join(&b.rendered.app.name).join(b.environment()) } else { dir.clone() };
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
        match out_dir::plan(&target, files_for(&b.rendered.objects, args.kustomize)) {
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
        for o in &b.rendered.objects {
            if let Some(first) = seen.insert((b.environment(), o.id()), &b.path)
                && first != b.path
            {
                out.push(
                    Diagnostic::error(format!(
                        "{} is rendered by both `{}` and `{}` (environment `{}`)",
                        o.id(),
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
