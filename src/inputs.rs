//! Values that come from outside the profile: the data of Secrets kgen is
//! asked to create, read from kgen's environment or a dotenv file. This is
//! the only place besides `profile::load` that reads the environment or
//! files, and its errors point at the profile field that asked.

use std::collections::BTreeMap;

use crate::diagnostic::Code;
use crate::diagnostic::{Collector, Diagnostic, Errors};
use crate::files::{self, ReadError};
use crate::model::names;
use crate::path;
use crate::profile::load::Loaded;
use crate::source::{Source, SourceMap, Span};

/// Values from outside the profile, gathered by [`gather`] for the model
/// (`model::build`).
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    /// Data of the Secrets the profile asks kgen to create, by Secret name.
    pub secret_data: BTreeMap<String, BTreeMap<String, String>>,
    /// Created Secrets whose keys are not known (`kgen check` without their
    /// dotenv file): every key the profile reads from them is taken to
    /// exist, with a placeholder value.
    pub open_secrets: std::collections::BTreeSet<String>,
}

/// Where the values of the Secrets kgen creates come from.
#[derive(Clone, Copy)]
pub enum SecretValues<'a> {
    /// kgen's environment (looked up with this: std::env::var in the
    /// binary, a map in tests) and the dotenv files: what `kgen render`
    /// writes.
    Real(&'a dyn Fn(&str) -> Option<String>),
    /// A placeholder for every value, for `kgen check`, which prints no
    /// values: no environment variable is needed. A dotenv file that
    /// exists is still read (its keys and syntax are checked); one that
    /// does not leaves the Secret's keys open: every key the profile reads
    /// from it is taken to exist.
    Placeholders,
}

/// The value every created Secret's key has under [`SecretValues::Placeholders`].
pub const PLACEHOLDER: &str = "kgen-check-placeholder";

/// Gather the inputs a loaded profile needs. Dotenv files with problems are
/// added to `sources`, masked, so that diagnostics can point into them.
/// Dotenv files are read through `budget`, which bounds what the files of
/// one render hold in all (many Secrets may read one file).
pub fn gather(
    loaded: &Loaded,
    values: SecretValues<'_>,
    budget: &mut files::ReadBudget,
    sources: &mut SourceMap,
) -> Result<Inputs, Errors> {
    let mut inputs = Inputs::default();
    let mut errors = Collector::default();
    for (name, secret) in &loaded.profile.secrets {
        let Some(create) = &secret.create else {
            continue;
        };
        let mut data = BTreeMap::new();
        if let Some(file) = &create.from_file {
            let at = path!["secrets", name, "create", "fromFile"];
            let full = loaded.dir.join(file);
            // Checked to be inside the project, then read by the path shown.
            let read = files::resolve_named(&loaded.dir, file, loaded.files_root.as_deref())
                .and_then(|_| budget.read_text_file(&full, SECRET_FILE_MAX_BYTES));
            match read {
                Ok(text) => {
                    let parsed = parse_dotenv(&text);
                    if parsed.errors.is_empty() {
                        data.extend(parsed.pairs);
                    } else {
                        let id = sources.add(Source::new(full.display().to_string(), parsed.masked));
                        let source = sources.get(id);
                        for e in parsed.errors {
                            let span = Span {
                                source: id,
                                start: source.pos(e.line, e.column),
                                end: source.pos(e.line, e.column + e.width),
                            };
                            let mut d = Diagnostic::error(Code::SecretInput, e.message).at(Some(span)).note(format!(
                                "in the dotenv file of Secret `{name}` (`{}`)",
                                loaded.display_path(&at)
                            ));
                            if let Some(hint) = e.hint {
                                d = d.hint(hint);
                            }
                            errors.push(d);
                        }
                    }
                }
                Err(e) if matches!(values, SecretValues::Placeholders) && e.is_not_found() => {
                    inputs.open_secrets.insert(name.clone());
                }
                Err(e) => {
                    let mut d = located(loaded, &at, format!("cannot read `{}`: {}", full.display(), e.reason()));
                    if matches!(e, ReadError::TooLarge { .. }) {
                        d = d.hint("a Secret holds at most 1 MiB");
                    }
                    if let Some(hint) = e.hint() {
                        d = d.hint(hint);
                    }
                    errors.push(d)
                }
            }
        }
        let from_file: Vec<String> = data.keys().cloned().collect();
        for (key, var) in &create.from_env {
            let at = path!["secrets", name, "create", "fromEnv", key];
            if let Err(why) = names::data_key(key) {
                errors.push(located(loaded, &at, format!("Secret key `{key}` {why}")));
                continue;
            }
            // Not a variable name: the model refuses it, and the key counts
            // as present so that it is not reported missing as well.
            if names::env_var_name(var).is_err() {
                data.insert(key.clone(), PLACEHOLDER.to_string());
                continue;
            }
            if from_file.contains(key) {
                errors.push(
                    Diagnostic::error(
                        Code::SecretInput,
                        format!("Secret key `{key}` comes from both `fromEnv` and `fromFile`"),
                    )
                    .at(Some(loaded.key_span_of(&at)))
                    .path(loaded.display_path(&at))
                    .hint("give each key one source: remove it here or from the file"),
                );
                continue;
            }
            let value = match values {
                SecretValues::Real(env) => env(var),
                SecretValues::Placeholders => Some(PLACEHOLDER.to_string()),
            };
            match value {
                Some(value) => {
                    data.insert(key.clone(), value);
                }
                None => errors.push(
                    located(loaded, &at, format!("environment variable `{var}` is not set"))
                        .hint(format!("export {var}=… before running kgen; its value goes into Secret `{name}`")),
                ),
            }
        }
        // The API server refuses a Secret of more than 1 MiB; its values
        // are never shown, only their size.
        let size: usize = data.values().map(String::len).sum();
        if size > crate::kube::DATA_MAX_BYTES {
            errors.push(
                located(
                    loaded,
                    &path!["secrets", name, "create"],
                    format!("Secret `{name}` would hold {size} bytes; the API server allows 1 MiB"),
                )
                .hint("keep large files out of Secrets (a volume, object storage)"),
            );
        }
        if matches!(values, SecretValues::Placeholders) {
            data.values_mut().for_each(|v| *v = PLACEHOLDER.to_string());
        }
        inputs.secret_data.insert(name.clone(), data);
    }
    errors.finish(inputs).map(|(inputs, _)| inputs)
}

/// The largest dotenv file read: a Secret holds at most 1 MiB.
const SECRET_FILE_MAX_BYTES: u64 = 1 << 20;

fn located(loaded: &Loaded, at: &[crate::yaml::PathSegment], message: String) -> Diagnostic {
    Diagnostic::error(Code::SecretInput, message).at(Some(loaded.span_of(at))).path(loaded.display_path(at))
}

/// A dotenv file, read: its pairs in order, and the problems found.
#[derive(Debug, Default, PartialEq)]
pub struct Dotenv {
    pub pairs: Vec<(String, String)>,
    pub errors: Vec<DotenvError>,
    /// The text with every value, and every line that might hold one,
    /// masked by `*` character for character: what a diagnostic may show.
    pub masked: String,
}

/// A problem in a dotenv file: 1-based line, 0-based character column, the
/// width in characters it covers. The message never holds a value.
#[derive(Debug, PartialEq)]
pub struct DotenvError {
    pub line: usize,
    pub column: usize,
    pub width: usize,
    pub message: String,
    pub hint: Option<&'static str>,
}

/// Read a dotenv file as python-dotenv and Docker Compose do:
///
/// - `KEY=value` lines, an optional `export ` before the key, spaces around
///   `=`; blank lines and lines starting with `#` are skipped;
/// - an unquoted value ends at the line's end or at a ` #` comment, and is
///   trimmed; it may be empty;
/// - a single-quoted value is taken as written, a double-quoted one knows
///   the escapes `\n`, `\r`, `\t`, `\"`, `\'` and `\\` (others are kept as
///   written); both may span lines, and may be followed by a comment;
/// - a quote that is never closed, text after a closing quote, a line
///   without `=`, an invalid key and a key set twice are errors.
///
/// Values are taken literally: `$VAR` is not expanded (a Secret's value
/// does not come from kgen's own environment by accident).
pub fn parse_dotenv(text: &str) -> Dotenv {
    let mut c =
        Cursor { rest: text.strip_prefix('\u{feff}').unwrap_or(text), line: 1, column: 0, out: Dotenv::default() };
    let mut first_line: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    loop {
        c.skip_blanks();
        match c.peek() {
            None => break,
            Some('\n' | '\r') => {
                c.bump(true);
                continue;
            }
            Some('#') => {
                c.take_line(true);
                continue;
            }
            Some(_) => {}
        }
        let line_text = c.rest.split('\n').next().unwrap_or("");
        if !line_text.contains('=') {
            // The line may be a value pasted on its own: never shown.
            c.error_here(line_text.trim_end().chars().count(), "expected KEY=value".into());
            c.hint("every line is `KEY=value`, a `# comment` or blank");
            c.take_line(false);
            continue;
        }
        if let Some(after) = c.rest.strip_prefix("export")
            && after.starts_with([' ', '\t'])
        {
            c.bump_n(6, true);
            c.skip_blanks();
        }
        let (line, column) = (c.line, c.column);
        let raw_key = c.rest.split('=').next().unwrap_or("");
        let key = raw_key.trim_end();
        let key_ok = names::data_key(key);
        c.bump_n(key.chars().count(), key_ok.is_ok());
        c.skip_blanks();
        c.bump(true); // `=`
        c.skip_blanks();
        let width = key.chars().count().max(1);
        match &key_ok {
            Err(why) => c.error_at(line, column, width, format!("the key before `=` {why}")),
            Ok(()) => {
                if let Some(first) = first_line.get(key) {
                    c.error_at(line, column, width, format!("`{key}` is already set on line {first}"));
                    c.hint("give each key once: a Secret holds one value per key");
                } else {
                    first_line.insert(key.to_string(), line);
                }
            }
        }
        let value = match c.peek() {
            Some(quote @ ('"' | '\'')) => c.quoted(quote, key),
            _ => Some(c.unquoted()),
        };
        if let (Some(value), Ok(())) = (value, key_ok) {
            c.out.pairs.push((key.to_string(), value));
        }
    }
    c.out
}

/// Reads a dotenv text, writing what it reads (masked or not) as it goes.
struct Cursor<'a> {
    rest: &'a str,
    line: usize,
    column: usize,
    out: Dotenv,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<char> {
        self.rest.chars().next()
    }

    /// Move past one character, copying it to the masked text or masking it
    /// (line breaks are always kept, so positions stay the same).
    fn bump(&mut self, show: bool) -> Option<char> {
        let ch = self.peek()?;
        self.rest = &self.rest[ch.len_utf8()..];
        if ch == '\n' {
            self.line += 1;
            self.column = 0;
        } else {
            self.column += 1;
        }
        self.out.masked.push(if show || ch == '\n' || ch == '\r' { ch } else { '*' });
        Some(ch)
    }

    fn bump_n(&mut self, n: usize, show: bool) {
        for _ in 0..n {
            self.bump(show);
        }
    }

    fn skip_blanks(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t')) {
            self.bump(true);
        }
    }

    /// The rest of the line, without its line break.
    fn take_line(&mut self, show: bool) {
        while self.peek().is_some_and(|ch| ch != '\n') {
            self.bump(show);
        }
    }

    fn error_at(&mut self, line: usize, column: usize, width: usize, message: String) {
        self.out.errors.push(DotenvError { line, column, width, message, hint: None });
    }

    /// A hint for the last error.
    fn hint(&mut self, hint: &'static str) {
        if let Some(e) = self.out.errors.last_mut() {
            e.hint = Some(hint);
        }
    }

    fn error_here(&mut self, width: usize, message: String) {
        self.error_at(self.line, self.column, width, message);
    }

    /// An unquoted value: up to the line's end or a ` #` comment, trimmed.
    fn unquoted(&mut self) -> String {
        let line = self.rest.split('\n').next().unwrap_or("");
        let end = line
            .char_indices()
            .find(|&(i, ch)| {
                let after_blank =
                    if i == 0 { self.out.masked.ends_with([' ', '\t']) } else { line[..i].ends_with([' ', '\t']) };
                ch == '#' && after_blank
            })
            .map_or(line.len(), |(i, _)| i);
        let value = line[..end].trim_end_matches([' ', '\t', '\r']).to_string();
        self.bump_n(value.chars().count(), false);
        self.take_line(true);
        value
    }

    /// A quoted value from its opening quote; None when it is never closed
    /// or followed by more than a comment.
    fn quoted(&mut self, quote: char, key: &str) -> Option<String> {
        let (line, column) = (self.line, self.column);
        self.bump(true);
        let mut value = String::new();
        loop {
            match self.bump(false) {
                None => {
                    let kind = if quote == '"' { "double" } else { "single" };
                    self.error_at(line, column, 1, format!("the {kind}-quoted value of `{key}` is never closed"));
                    self.hint("a quoted value runs to its closing quote, across lines: close it, or escape a `\"` in it as `\\\"`");
                    return None;
                }
                Some(ch) if ch == quote => {
                    // The closing quote is shown, not masked.
                    self.out.masked.pop();
                    self.out.masked.push(quote);
                    break;
                }
                Some('\\') if quote == '"' => match self.peek() {
                    Some(escaped @ ('n' | 'r' | 't' | '"' | '\'' | '\\')) => {
                        self.bump(false);
                        value.push(match escaped {
                            'n' => '\n',
                            'r' => '\r',
                            't' => '\t',
                            other => other,
                        });
                    }
                    _ => value.push('\\'),
                },
                Some(ch) => value.push(ch),
            }
        }
        self.skip_blanks();
        match self.peek() {
            None | Some('\n' | '\r' | '#') => {
                self.take_line(true);
                Some(value)
            }
            Some(_) => {
                let width = self.rest.split('\n').next().unwrap_or("").trim_end().chars().count();
                self.error_here(
                    width,
                    format!("unexpected text after the closing quote of `{key}`: only a ` #` comment may follow"),
                );
                self.take_line(false);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        let parsed = parse_dotenv(text);
        assert_eq!(parsed.errors, [], "{text}");
        parsed.pairs
    }

    fn errors(text: &str) -> Vec<(usize, usize, String)> {
        parse_dotenv(text).errors.into_iter().map(|e| (e.line, e.column + 1, e.message)).collect()
    }

    /// What python-dotenv and Docker Compose read, case by case.
    #[test]
    fn dotenv_values() {
        let cases: &[(&str, &str)] = &[
            ("A=1", "1"),
            ("A=", ""),
            ("A=  ", ""),
            ("A = spaced out ", "spaced out"),
            ("export A=1", "1"),
            ("A=abc # comment", "abc"),
            ("A=abc#not-a-comment", "abc#not-a-comment"),
            ("A=#not-a-comment", "#not-a-comment"),
            ("A= # only a comment", ""),
            ("A=\"tok\"  # main", "tok"),
            ("A='tok' # main", "tok"),
            ("A=\"a\\nb\"", "a\nb"),
            ("A=\"tab\\there \\\"q\\\" back\\\\slash \\x\"", "tab\there \"q\" back\\slash \\x"),
            ("A='a\\nb $X'", "a\\nb $X"),
            ("A=\"two\nlines\"", "two\nlines"),
            ("A='two\nlines'", "two\nlines"),
            ("A=\"x=y # not a comment\"", "x=y # not a comment"),
            ("A=$HOME", "$HOME"),
            ("A=1\r", "1"),
            ("\u{feff}A=1", "1"),
            ("A=\"\"", ""),
        ];
        for (text, value) in cases {
            assert_eq!(pairs(text), [("A".to_string(), value.to_string())], "{text}");
        }
        let all = pairs("# c\n\n  export B=\"two words\"\r\nC='x=y'\n\tD=4\n");
        assert_eq!(all.len(), 3);
    }

    #[test]
    fn dotenv_errors_are_located_and_never_show_values() {
        assert_eq!(
            errors("A=1\nTOKEN=\"abc\nB=2\n"),
            [(2, 7, "the double-quoted value of `TOKEN` is never closed".into())]
        );
        assert_eq!(errors("A='x"), [(1, 3, "the single-quoted value of `A` is never closed".into())]);
        assert_eq!(errors("A=1\n  A=2\n"), [(2, 3, "`A` is already set on line 1".into())]);
        assert_eq!(errors("oops\n"), [(1, 1, "expected KEY=value".into())]);
        assert_eq!(
            errors("A=\"x\" y\n"),
            [(1, 7, "unexpected text after the closing quote of `A`: only a ` #` comment may follow".into())]
        );
        assert_eq!(errors("BAD KEY=1\n")[0].0, 1);
        let parsed =
            parse_dotenv("# keys\nexport TOKEN=\"s3cr\\\"et\" # note\nSECRETLINE\nK='multi\nline' \nBAD KEY=v\n");
        assert_eq!(
            parsed.masked,
            "# keys\nexport TOKEN=\"********\" # note\n**********\nK='*****\n****' \n*******=*\n"
        );
        for e in &parsed.errors {
            assert!(!e.message.contains("s3cr") && !e.message.contains("SECRETLINE"), "{}", e.message);
        }
    }
}
