//! `kgen init`: write a commented starter profile.

use super::{Exit, Reporter, write_stdout};
use crate::cli::InitArgs;
use crate::diagnostic::Code;
use crate::diagnostic::Diagnostic;
use crate::model::names;
use crate::profile::load::io_reason;
use crate::templates;

pub fn run(args: InitArgs, reporter: &mut Reporter) -> Exit {
    if let Err(why) = names::dns1035_label(&args.name, 63) {
        reporter.report(&[Diagnostic::error(Code::Usage, format!("app name `{}` {why}", args.name))]);
        return Exit::Usage;
    }
    let text = starter(&args.name, &args.image);
    if args.path.as_os_str() == "-" {
        return write_stdout(&text);
    }
    if args.path.exists() && !args.force {
        reporter.report(&[Diagnostic::error(Code::WriteFile, format!("`{}` already exists", args.path.display()))
            .hint("pass --force to overwrite it, or give another path")]);
        return Exit::Problems;
    }
    match std::fs::write(&args.path, text) {
        Ok(()) => {
            reporter.status(&format!(
                "wrote {}; render it with `kgen render {}`",
                args.path.display(),
                args.path.display()
            ));
            Exit::Success
        }
        Err(e) => {
            reporter.report(&[Diagnostic::error(
                Code::WriteFile,
                format!("cannot write `{}`: {}", args.path.display(), io_reason(&e)),
            )]);
            Exit::Problems
        }
    }
}

/// The starter profile for an app.
pub fn starter(name: &str, image: &str) -> String {
    templates::render("init.yaml", minijinja::context! { name, image, api_version => crate::profile::API_VERSION })
}
