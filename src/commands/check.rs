//! `kgen check`: validate profiles in every environment (or the one given)
//! and report every problem; prints one line per profile and environment.
//! Each profile is read and parsed once for all its environments.

use super::{Reporter, profile_paths, write_stdout};
use crate::cli::CheckArgs;
use crate::inputs::SecretValues;
use crate::pipeline;
use crate::profile::load::{self, Options};

pub fn run(args: CheckArgs, reporter: &mut Reporter) -> u8 {
    let mut failed = false;
    let mut summary = String::new();
    for path in profile_paths(&args.profiles) {
        let parsed = match load::parse(&path, &mut reporter.sources) {
            Ok(p) => p,
            Err(e) => {
                reporter.report(&e.0);
                failed = true;
                continue;
            }
        };
        let environments: Vec<Option<String>> = match &args.profile.env {
            Some(env) => vec![Some(env.clone())],
            None => {
                // The base with `--set` must load before its environments are
                // worth checking (its problems would repeat in each).
                let base = Options { environment: None, sets: args.profile.sets.clone(), ..Options::default() };
                let mark = reporter.sources.len();
                if let Err(e) = parsed.load(&base, &mut reporter.sources) {
                    reporter.report(&e.0);
                    failed = true;
                    continue;
                }
                reporter.sources.truncate(mark);
                std::iter::once(None).chain(parsed.environments().map(|e| Some(e.to_string()))).collect()
            }
        };
        // What each render adds to the sources (extra manifests, `--set`)
        // is dropped once its diagnostics are printed.
        let mark = reporter.sources.len();
        for env in environments {
            let options = match args.profile.options(env.clone()) {
                Ok(o) => o,
                Err(e) => {
                    reporter.report(&e.0);
                    return 2;
                }
            };
            let label = env.as_deref().unwrap_or("base");
            // Nothing is printed: created Secrets get placeholder values,
            // so that no secret has to be at hand to check a profile.
            let values = SecretValues::Placeholders;
            match pipeline::render_parsed_with(&parsed, &options, values, &mut reporter.sources) {
                Ok(r) => {
                    reporter.report(&r.warnings);
                    summary.push_str(&format!("ok    {} ({label}): {} objects\n", path.display(), r.objects.len()));
                }
                Err(e) => {
                    reporter.report(&e.0);
                    summary.push_str(&format!("error {} ({label})\n", path.display()));
                    failed = true;
                }
            }
            reporter.sources.truncate(mark);
        }
    }
    let code = write_stdout(&summary);
    if failed { 1 } else { code }
}
