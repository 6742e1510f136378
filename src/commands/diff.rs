//! `kgen diff`: the current render against another environment of the
//! profile or an earlier `--out-dir`, object by object. Exit 0 when equal,
//! 1 when they differ, 2 on error.

use std::io::IsTerminal;
use std::path::Path;

use super::{Exit, Reporter, profile_paths, write_stdout};
use crate::cli::{ColorChoice, DiffArgs};
use crate::diagnostic::Code;
use crate::diagnostic::{Diagnostic, Errors};
use crate::diff::{self, Side};
use crate::output::out_dir;
use crate::pipeline;
use crate::source::{Source, SourceMap, Span};
use crate::yaml::{self, parse::Limits, parse::parse_all};

pub fn run(args: DiffArgs, color: ColorChoice, reporter: &mut Reporter) -> Exit {
    let path = profile_paths(args.profile_path.as_slice()).remove(0);
    let render = |env: Option<String>, reporter: &mut Reporter| -> Option<Vec<serde_json::Value>> {
        let options = match args.profile.options(env) {
            Ok(o) => o,
            Err(e) => {
                reporter.report(&e.0);
                return None;
            }
        };
        match pipeline::render_file(&path, &options, &mut reporter.sources) {
            Ok(r) => {
                reporter.report(&r.warnings);
                Some(r.objects.iter().map(|o| o.to_value()).collect())
            }
            Err(e) => {
                reporter.report(&e.0);
                None
            }
        }
    };
    let env_label = |e: &Option<String>| e.clone().unwrap_or_else(|| "base".into());
    let (old_label, old, new_label, new) = match (&args.to_env, &args.from) {
        (Some(to), _) => {
            let Some(old) = render(args.profile.env.clone(), reporter) else { return Exit::DiffFailed };
            let Some(new) = render(Some(to.clone()), reporter) else { return Exit::DiffFailed };
            (env_label(&args.profile.env), old, to.clone(), new)
        }
        (None, Some(dir)) => {
            let old = match read_out_dir(dir, &mut reporter.sources) {
                Ok(o) => o,
                Err(e) => {
                    reporter.report(&e.0);
                    return Exit::DiffFailed;
                }
            };
            let Some(new) = render(args.profile.env.clone(), reporter) else { return Exit::DiffFailed };
            (dir.display().to_string(), old, env_label(&args.profile.env), new)
        }
        (None, None) => unreachable!("clap requires --to-env or --from"),
    };
    let report = diff::compare(Side { label: &old_label, objects: &old }, Side { label: &new_label, objects: &new });
    let colored = color.colors(std::io::stdout().is_terminal());
    let text = if args.stat {
        report.stat_text()
    } else if colored {
        diff::colorize(&report.text)
    } else {
        report.text.clone()
    };
    if write_stdout(&text) != Exit::Success {
        return Exit::DiffFailed;
    }
    reporter.report(&report.warnings);
    reporter.status(&format!("{old_label} → {new_label}: {}", report.summary()));
    if report.differs() { Exit::Differs } else { Exit::Success }
}

/// The objects of a directory kgen rendered into, as JSON values, in the
/// order of its file list. Every file must be a regular file of Kubernetes
/// objects; problems are reported for all files together.
fn read_out_dir(dir: &Path, sources: &mut SourceMap) -> Result<Vec<serde_json::Value>, Errors> {
    let files = out_dir::read_owned(dir)?;
    if files.is_empty() {
        return Err(Diagnostic::error(
            Code::OutDir,
            format!("`{}` has no `{}`: it is not a directory kgen rendered into", dir.display(), out_dir::OWNED_LIST),
        )
        .hint("pass the folder of one bundle, e.g. build/<app>/<env>")
        .into());
    }
    let limits = Limits::default();
    let mut out = Vec::new();
    let mut errors = Vec::new();
    // Each file at most 4 MiB, all of them within the budget; one file by
    // two names (a hard link) is read once.
    let mut budget = crate::files::ReadBudget::default();
    for name in files.keys().filter(|n| n.ends_with(".yaml") && !crate::output::kustomize::is_kustomize_file(n)) {
        let file = dir.join(name);
        let text = match budget.read_text_file_once(&file, limits.max_bytes as u64) {
            Ok(t) => t,
            Err(e) => {
                let mut d =
                    Diagnostic::error(Code::ReadFile, format!("cannot read `{}`: {}", file.display(), e.reason()));
                let over = matches!(e, crate::files::ReadError::OverBudget { .. });
                if over || matches!(e, crate::files::ReadError::SameAs(_)) {
                    d = d.hint("kgen writes one object per file, each file once: the directory was changed since");
                }
                errors.push(d);
                if over || errors.len() > crate::diagnostic::MAX_DIAGNOSTICS {
                    break;
                }
                continue;
            }
        };
        let id = sources.add(Source::new(file.display().to_string(), text));
        // Located, never shown: an earlier render holds Secrets' values.
        let docs = match parse_all(sources.get(id), id, &limits) {
            Ok(d) => d,
            Err(e) => {
                errors.extend(e.0.into_iter().map(Diagnostic::without_snippet));
                continue;
            }
        };
        for doc in docs.iter().filter(|d| !d.is_null()) {
            let value = yaml::to_json(doc);
            if !diff::is_object(&value) {
                errors.push(
                    Diagnostic::error(
                        Code::OutDir,
                        format!(
                            "`{}` is not a Kubernetes object: it needs `apiVersion`, `kind` and `metadata.name`",
                            file.display()
                        ),
                    )
                    .at(Some(Span { end: doc.span.start, ..doc.span }))
                    .without_snippet()
                    .hint("kgen wrote one object per file here: the file was changed since"),
                );
                continue;
            }
            out.push(value);
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(Errors(errors)) }
}
