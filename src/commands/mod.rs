//! One module per subcommand. Each returns an [`Exit`] status; diagnostics
//! go to stderr through the [`Reporter`] (for people, or as JSON lines or
//! GitHub annotations with `--message-format`), data to stdout.

mod bootstrap;
mod check;
mod completions;
mod diff;
mod init;
mod render;
mod schema;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::CommandFactory;

use crate::cli::{Cli, ColorChoice, Command, MessageFormat, ProfileArgs};
use crate::diagnostic::{Code, Diagnostic, Format};
use crate::profile::load::{self, Options};
use crate::source::SourceMap;

/// The exit status of every command, mapped to a number in one place
/// ([`Exit::code`]); docs/commands.md has the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Done (`diff`: the two sides are equal).
    Success,
    /// The input has problems, or a file could not be read or written.
    Problems,
    /// The command line cannot be used (also clap's own usage errors).
    Usage,
    /// `diff`: the two sides differ.
    Differs,
    /// `diff`: a side could not be rendered or read, so nothing was compared.
    DiffFailed,
}

impl Exit {
    /// Every status, for the documentation's table.
    pub const ALL: &[Exit] = &[Exit::Success, Exit::Problems, Exit::Usage, Exit::Differs, Exit::DiffFailed];

    /// The number a shell sees: what kgen has always returned, so `diff`
    /// keeps 1 for "differs" and 2 for "failed".
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Problems | Exit::Differs => 1,
            Exit::Usage | Exit::DiffFailed => 2,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit.code())
    }
}

/// Prints diagnostics against the sources they point into.
pub struct Reporter {
    pub sources: SourceMap,
    format: Format,
    /// With `--message-format sarif`: the results so far, written as one
    /// log by [`Reporter::finish`].
    results: std::cell::RefCell<Vec<String>>,
}

impl Reporter {
    pub fn new(choice: ColorChoice, message_format: MessageFormat) -> Reporter {
        let color = choice.colors(std::io::stderr().is_terminal());
        let format = match message_format {
            MessageFormat::Human => Format::Human { color },
            MessageFormat::Json => Format::Json,
            MessageFormat::Github => Format::Github,
            MessageFormat::Sarif => Format::Sarif,
        };
        Reporter { sources: SourceMap::default(), format, results: Default::default() }
    }

    pub fn report(&self, diagnostics: &[Diagnostic]) {
        let rendered: Vec<String> = diagnostics.iter().map(|d| d.render_as(&self.sources, self.format)).collect();
        self.print(&rendered);
    }

    /// Print diagnostics already rendered (against other sources): for
    /// people each followed by a blank line, as data one a line.
    pub fn print(&self, rendered: &[String]) {
        if self.format == Format::Sarif {
            self.results.borrow_mut().extend(rendered.iter().cloned());
            return;
        }
        let mut err = std::io::stderr().lock();
        let gap = if self.is_human() { "\n" } else { "" };
        for d in rendered {
            let _ = writeln!(err, "{d}{gap}");
        }
    }

    /// A line for people about what was done (`wrote …`); not printed as
    /// JSON or SARIF, whose stderr holds diagnostics only.
    pub fn status(&self, line: &str) {
        if matches!(self.format, Format::Human { .. } | Format::Github) {
            eprintln!("{line}");
        }
    }

    /// The end of the command: with `--message-format sarif`, the log of
    /// every result reported (none is a log too: nothing was found).
    pub fn finish(&self) {
        if self.format != Format::Sarif {
            return;
        }
        let results = self.results.take().iter().filter_map(|r| serde_json::from_str(r).ok()).collect();
        let _ = writeln!(std::io::stderr().lock(), "{}", crate::diagnostic::sarif_log(results));
    }

    pub fn format(&self) -> Format {
        self.format
    }

    fn is_human(&self) -> bool {
        matches!(self.format, Format::Human { .. })
    }
}

/// Run a parsed command line.
pub fn run(cli: Cli) -> ExitCode {
    let mut reporter = Reporter::new(cli.color, cli.message_format);
    let exit = match cli.command {
        Command::Render(args) => render::run(args, &mut reporter),
        Command::Bootstrap(args) => bootstrap::run(args, &mut reporter),
        Command::Check(args) => check::run(args, &mut reporter),
        Command::Diff(args) => diff::run(args, cli.color, &mut reporter),
        Command::Init(args) => init::run(args, &mut reporter),
        Command::Schema => write_stdout(&schema::json_schema()),
        Command::Man(args) => man(args, &mut reporter),
        Command::Completions { shell } => completions::run(shell),
        Command::CompleteEnvs { profile } => completions::environments(&profile),
    };
    reporter.finish();
    ExitCode::from(exit)
}

/// `kgen man`: the page of `kgen`, of one subcommand, or all of them
/// written into a directory.
fn man(args: crate::cli::ManArgs, reporter: &mut Reporter) -> Exit {
    let pages = match man_pages() {
        Ok(p) => p,
        Err(e) => {
            reporter.report(&[Diagnostic::error(Code::WriteFile, format!("cannot render the man pages: {e}"))]);
            return Exit::Problems;
        }
    };
    if let Some(dir) = &args.out_dir {
        let written = std::fs::create_dir_all(dir)
            .and_then(|()| pages.iter().try_for_each(|(name, page)| std::fs::write(dir.join(name), page)));
        if let Err(e) = written {
            reporter.report(&[Diagnostic::error(
                Code::WriteFile,
                format!("cannot write man pages into `{}`: {e}", dir.display()),
            )]);
            return Exit::Problems;
        }
        reporter.status(&format!("wrote {} man pages into {}", pages.len(), dir.display()));
        return Exit::Success;
    }
    let wanted = match &args.command {
        Some(command) => format!("kgen-{command}.1"),
        None => "kgen.1".to_string(),
    };
    match pages.iter().find(|(name, _)| *name == wanted) {
        Some((_, page)) => write_stdout(page),
        None => {
            let commands: Vec<&str> =
                pages.iter().filter_map(|(n, _)| n.strip_prefix("kgen-")?.strip_suffix(".1")).collect();
            let mut d =
                Diagnostic::error(Code::Usage, format!("no man page for `{}`", args.command.unwrap_or_default()));
            d = d.hint(format!("pages: {}", commands.join(", ")));
            reporter.report(&[d]);
            Exit::Usage
        }
    }
}

/// Every man page: `kgen.1` and one per visible subcommand (`kgen-render.1`),
/// as file name and roff.
fn man_pages() -> std::io::Result<Vec<(String, String)>> {
    fn walk(cmd: &clap::Command, out: &mut Vec<(String, String)>) -> std::io::Result<()> {
        let man = clap_mangen::Man::new(cmd.clone());
        let mut page = Vec::new();
        man.render(&mut page)?;
        out.push((man.get_filename(), String::from_utf8_lossy(&page).into_owned()));
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            walk(sub, out)?;
        }
        Ok(())
    }
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut out = Vec::new();
    walk(&cmd, &mut out)?;
    Ok(out)
}

/// Write data to stdout; a closed pipe (`kgen render | head`) is not an error.
pub fn write_stdout(text: &str) -> Exit {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Exit::Success,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Exit::Success,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: cannot write to stdout: {e}");
            Exit::Problems
        }
    }
}

/// The profiles named on the command line, or ./kgen.yaml.
fn profile_paths(given: &[PathBuf]) -> Vec<PathBuf> {
    if given.is_empty() { vec![PathBuf::from("kgen.yaml")] } else { given.to_vec() }
}

/// The environments to render a profile in: the one `--env` names, or with
/// `every` the base and every environment the profile defines, or the
/// base. None (after reporting why) when the profile does not load.
fn variants(
    path: &std::path::Path,
    args: &ProfileArgs,
    every: bool,
    reporter: &mut Reporter,
) -> Option<Vec<Option<String>>> {
    if let Some(env) = &args.env {
        return Some(vec![Some(env.clone())]);
    }
    if !every {
        return Some(vec![None]);
    }
    let base = Options { environment: None, sets: args.sets.clone(), ..Options::default() };
    match load::load(path, &base, &mut reporter.sources) {
        Ok(l) => Some(std::iter::once(None).chain(l.environments.into_iter().map(Some)).collect()),
        Err(e) => {
            reporter.report(&e.0);
            None
        }
    }
}

/// Diagnostics of the renders of one command, each distinct message printed
/// once, with the environments it was reported for when there were several
/// (a problem of a profile's base shows in each of its environments).
#[derive(Default)]
pub struct Messages {
    seen: Vec<Seen>,
}

/// A distinct message and where it was reported.
struct Seen {
    /// The message without its "with environment" note: what makes it
    /// distinct.
    key: String,
    /// The message as first reported.
    first: String,
    /// The environments that reported it, in order.
    environments: Vec<String>,
}

impl Messages {
    pub fn add(&mut self, environment: &str, rendered: &[String]) {
        // The environment a message came from is named once, below.
        let own_note = format!("\nnote: with environment `{environment}`");
        for message in rendered {
            let key = message.replace(&own_note, "");
            match self.seen.iter_mut().find(|s| s.key == key) {
                Some(seen) => {
                    if !seen.environments.iter().any(|e| e == environment) {
                        seen.environments.push(environment.to_string());
                    }
                }
                None => {
                    self.seen.push(Seen { key, first: message.clone(), environments: vec![environment.to_string()] })
                }
            }
        }
    }

    /// Print what was added since the last flush.
    pub fn flush(&mut self, reporter: &Reporter) {
        let human = reporter.is_human();
        let rendered: Vec<String> = std::mem::take(&mut self.seen)
            .into_iter()
            .map(|Seen { key, first, environments }| match environments.len() {
                // Data stays one object a line; each environment's own
                // diagnostic has its note.
                _ if !human => first,
                0 | 1 => first,
                _ => {
                    let list = environments.iter().map(|e| format!("`{e}`")).collect::<Vec<_>>().join(", ");
                    format!("{key}\nnote: reported for environments {list}")
                }
            })
            .collect();
        reporter.print(&rendered);
    }
}

/// One render of a batch, for [`duplicate_objects`].
pub struct Rendered<'a> {
    pub path: &'a std::path::Path,
    pub environment: &'a str,
    /// `Kind/namespace/name` of every object.
    pub ids: &'a [String],
}

/// Objects that two profiles render for the same environment (e.g. a
/// shared Namespace): they would fight over it in the cluster. One error
/// per object and pair of profiles, naming the environments.
pub fn duplicate_objects(renders: &[Rendered]) -> Vec<Diagnostic> {
    use std::collections::BTreeMap;
    let mut owner: BTreeMap<(&str, &str), &std::path::Path> = BTreeMap::new();
    // (object, first profile, second profile) → environments, in order found.
    let mut clashes: Vec<((&str, &std::path::Path, &std::path::Path), Vec<&str>)> = Vec::new();
    for r in renders {
        for id in r.ids {
            let Some(first) = owner.insert((r.environment, id.as_str()), r.path) else { continue };
            if first == r.path {
                continue;
            }
            let key = (id.as_str(), first, r.path);
            match clashes.iter_mut().find(|(k, _)| *k == key) {
                Some((_, environments)) => environments.push(r.environment),
                None => clashes.push((key, vec![r.environment])),
            }
        }
    }
    clashes
        .into_iter()
        .map(|((id, first, second), environments)| {
            let list = environments.iter().map(|e| format!("`{e}`")).collect::<Vec<_>>().join(", ");
            let label = if environments.len() == 1 { "environment" } else { "environments" };
            Diagnostic::error(
                Code::DuplicateObject,
                format!("{id} is rendered by both `{}` and `{}` ({label} {list})", first.display(), second.display()),
            )
            .hint("let one profile own it: for a shared namespace, set `namespace.create: false` in the others")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::Exit;

    /// docs/commands.md tables every status with its number.
    #[test]
    fn exit_statuses_are_documented() {
        let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/commands.md")).unwrap();
        for exit in Exit::ALL {
            let row = format!("| `{exit:?}` | {} |", exit.code());
            assert!(docs.contains(&row), "docs/commands.md lacks `{row}`");
        }
    }
}
