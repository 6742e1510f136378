//! `kgen render`: profiles to YAML or JSON on stdout, or files in a
//! directory. Nothing is printed or written unless every profile renders.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::{Reporter, profile_paths, write_stdout};
use crate::cli::RenderArgs;
use crate::diagnostic::Diagnostic;
use crate::object::Object;
use crate::output::out_dir::{self, OutFile};
use crate::output::{self, Format};
use crate::pipeline::{self, Rendered};
use crate::profile::load::Options;

pub fn run(args: RenderArgs, reporter: &mut Reporter) -> u8 {
    let options = Options { environment: args.profile.env.clone(), sets: args.profile.sets.clone() };
    let paths = profile_paths(&args.profiles);
    let mut rendered: Vec<(PathBuf, Rendered)> = Vec::new();
    let mut failed = false;
    for path in &paths {
        match pipeline::render_file(path, &options, &mut reporter.sources) {
            Ok(r) => {
                reporter.report(&r.warnings);
                rendered.push((path.clone(), r));
            }
            Err(e) => {
                reporter.report(&e.0);
                failed = true;
            }
        }
    }
    if failed {
        if paths.len() > 1 {
            reporter.report(&[Diagnostic::error(format!(
                "{} of {} profiles failed; nothing was written",
                paths.len() - rendered.len(),
                paths.len()
            ))]);
        }
        return 1;
    }
    if let Some(d) = duplicate_objects(&rendered) {
        reporter.report(&[d]);
        return 1;
    }

    match &args.out_dir {
        None => {
            let objects: Vec<Object> = rendered.into_iter().flat_map(|(_, r)| r.objects).collect();
            let text = match args.output {
                Format::Yaml => output::to_yaml(&objects),
                Format::Json => output::to_json(&objects),
            };
            write_stdout(&text)
        }
        Some(dir) => {
            // Check every target before writing any, so that a conflict in
            // one leaves all of them as they were.
            let single = rendered.len() == 1;
            let mut plans = Vec::new();
            let mut targets: BTreeMap<PathBuf, &PathBuf> = BTreeMap::new();
            for (path, r) in &rendered {
                let target = if single {
                    dir.clone()
                } else {
                    dir.join(&r.app.name).join(r.loaded.environment.as_deref().unwrap_or("base"))
                };
                if let Some(first) = targets.insert(target.clone(), path) {
                    reporter.report(&[Diagnostic::error(format!(
                        "`{}` and `{}` would both be written to `{}`",
                        first.display(),
                        path.display(),
                        target.display()
                    ))
                    .hint("the folder is named after the app and environment: give the apps different names")]);
                    return 1;
                }
                match out_dir::plan(&target, files_for(&r.objects, args.kustomize)) {
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
                                "kept `{}` in `{}`: kgen no longer renders it, and it changed since kgen wrote it",
                                kept,
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
            0
        }
    }
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

/// Two profiles that render the same object (e.g. a shared Namespace).
fn duplicate_objects(rendered: &[(PathBuf, Rendered)]) -> Option<Diagnostic> {
    let mut seen: BTreeMap<String, &PathBuf> = BTreeMap::new();
    for (path, r) in rendered {
        for o in &r.objects {
            if let Some(first) = seen.insert(o.id(), path)
                && first != path
            {
                return Some(
                    Diagnostic::error(format!(
                        "{} is rendered by both `{}` and `{}`",
                        o.id(),
                        first.display(),
                        path.display()
                    ))
                    .hint(
                        "let one profile own it: for a shared namespace, set `namespace.create: false` in the others",
                    ),
                );
            }
        }
    }
    None
}
