//! `kgen check`: validate profiles in every environment (or the one given)
//! and report every problem; prints one line per profile and environment.

use super::{Reporter, profile_paths, variants, write_stdout};
use crate::cli::CheckArgs;
use crate::inputs::SecretValues;
use crate::pipeline;

pub fn run(args: CheckArgs, reporter: &mut Reporter) -> u8 {
    let mut failed = false;
    let mut summary = String::new();
    for path in profile_paths(&args.profiles) {
        let Some(environments) = variants(&path, &args.profile, true, reporter) else {
            failed = true;
            continue;
        };
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
            match pipeline::render_file_with(&path, &options, SecretValues::Placeholders, &mut reporter.sources) {
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
        }
    }
    let code = write_stdout(&summary);
    if failed { 1 } else { code }
}
