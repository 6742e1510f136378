//! Diagnostics: an error or warning with a message, an optional location and
//! field path, and hints; rendered with the offending source line and a caret.
//!
//! Validation code creates diagnostics and collects every one it finds; the
//! command layer renders them to stderr, for people (with a snippet) or
//! as data (`Format::Json`, `Format::Github`). Every diagnostic has a
//! stable [`Code`]. Nothing here decides exit codes.

mod code;
mod format;

use std::fmt;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

pub use crate::redact::Redact;
use crate::source::{SourceMap, Span};
pub use code::Code;
pub use format::{Format, sarif_log};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem, located where possible.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The kind of problem, stable across releases.
    pub code: Code,
    pub message: String,
    pub span: Option<Span>,
    /// The profile field the problem is about, e.g. `components.web.replicas`.
    pub path: Option<String>,
    pub hints: Vec<String>,
    /// Where the problem arose, added by callers, e.g. "in environment `prod`".
    pub notes: Vec<String>,
    /// Source text that the snippet must not show (credentials).
    pub redactions: Vec<Redaction>,
    /// Whether the source line is shown; false for a file that is not the
    /// user's profile and not yet known to be a manifest (a dotenv file or
    /// a key named by mistake): `file:line:column` locates the problem
    /// without echoing what the file holds.
    pub snippet: bool,
}

/// Source text a snippet shows masked: a credential written in the profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Redaction {
    pub span: Span,
    pub kind: Redact,
}

/// Names for a hint, quoted: at most ten, then how many more.
pub fn short_list<'a>(names: impl ExactSizeIterator<Item = &'a str>) -> String {
    let total = names.len();
    let mut list: Vec<String> = names.take(10).map(|n| format!("`{n}`")).collect();
    if total > 10 {
        list.push(format!("and {} more", total - 10));
    }
    list.join(", ")
}

impl Diagnostic {
    pub fn error(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            span: None,
            path: None,
            hints: Vec::new(),
            notes: Vec::new(),
            redactions: Vec::new(),
            snippet: true,
        }
    }

    pub fn warning(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Warning, ..Diagnostic::error(code, message) }
    }

    pub fn at(mut self, span: Option<Span>) -> Diagnostic {
        self.span = span.or(self.span);
        self
    }

    pub fn path(mut self, path: impl Into<String>) -> Diagnostic {
        let path = path.into();
        self.path = (!path.is_empty()).then_some(path);
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hints.push(hint.into());
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    /// Mask this text wherever the snippet shows it.
    pub fn redact(mut self, redaction: Redaction) -> Diagnostic {
        if !self.redactions.contains(&redaction) {
            self.redactions.push(redaction);
        }
        self
    }

    /// Locate the problem by `file:line:column` only, without showing the
    /// source line.
    pub fn without_snippet(mut self) -> Diagnostic {
        self.snippet = false;
        self
    }

    /// Whether the snippet of this diagnostic shows a line of `span`.
    pub fn shows(&self, span: Span) -> bool {
        self.span
            .is_some_and(|s| s.source == span.source && s.start.line <= span.end.line && span.start.line <= s.end.line)
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Render with the source line and a caret under the span.
    pub fn render(&self, sources: &SourceMap, color: bool) -> String {
        if self.span.is_none() || !self.snippet {
            let at = self.span.map(|s| {
                let source = sources.get(s.source);
                format!("{}:{}:{}", source.name, s.start.line.max(1), s.start.column.max(1))
            });
            return self.render_plain(at.as_deref(), color);
        }
        let level = match self.severity {
            Severity::Error => Level::ERROR,
            Severity::Warning => Level::WARNING,
        };
        let renderer = if color { Renderer::styled() } else { Renderer::plain() };
        let label = self.path.as_ref().map(|p| shorten(&format!("in `{p}`")).into_owned());
        let message = shorten(&self.message);
        let title = level.primary_title(message.as_ref());
        // The snippet's lines, credentials masked.
        let shown: String;
        let mut group = match self.span {
            Some(span) => {
                let source = sources.get(span.source);
                // Spans come from parsers; never hand the renderer a range
                // outside the text or inside a character.
                let floor = |mut i: usize| {
                    i = i.min(source.text.len());
                    while !source.text.is_char_boundary(i) {
                        i -= 1;
                    }
                    i
                };
                let start = floor(span.start.offset as usize);
                let end = floor(span.end.offset as usize).max(start);
                // Only the lines the span covers: the renderer scans what
                // it is given, and a profile can be megabytes long.
                let text = source.text.as_str();
                let first = text[..start].rfind('\n').map_or(0, |i| i + 1);
                let last = text[end..].find('\n').map_or(text.len(), |i| end + i);
                let line = (span.start.line as usize).max(1);
                let (masked, range) = redacted(text, first..last, start..end, span.source, &self.redactions);
                shown = masked;
                let mut annotation = AnnotationKind::Primary.span(range);
                if let Some(label) = &label {
                    annotation = annotation.label(label.as_str());
                }
                title.element(
                    Snippet::source(shown.as_str()).line_start(line).path(source.name.as_str()).annotation(annotation),
                )
            }
            None => Group::with_title(title),
        };
        if let (None, Some(label)) = (self.span, &label) {
            group = group.element(Level::NOTE.no_name().message(label.as_str()));
        }
        let mut groups = vec![group];
        for note in &self.notes {
            groups.push(Group::with_title(Level::NOTE.secondary_title(shorten(note))));
        }
        for hint in &self.hints {
            groups.push(Group::with_title(Level::HELP.with_name("hint").secondary_title(shorten(hint))));
        }
        renderer.render(&groups).to_string()
    }
}

/// The lines `lines` of `text` with the redactions masked, and where
/// `target` (the annotated range) is in them.
fn redacted(
    text: &str,
    lines: std::ops::Range<usize>,
    target: std::ops::Range<usize>,
    source: crate::source::SourceId,
    redactions: &[Redaction],
) -> (String, std::ops::Range<usize>) {
    let floor = |mut i: usize| {
        i = i.min(text.len());
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    // Byte ranges of `text` and what replaces them, in order, not overlapping.
    let mut cuts: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    for r in redactions.iter().filter(|r| r.span.source == source) {
        let from = floor(r.span.start.offset as usize).max(lines.start);
        let to = floor(r.span.end.offset as usize).min(lines.end).max(from);
        // A block scalar's span runs to the next key: mask the value only.
        let to = from + text[from..to].trim_end().len();
        if from >= to {
            continue;
        }
        let secret = &text[from..to];
        let precise = r.kind == Redact::UrlPasswords && !secret.contains(['\\', '\n', '\r']);
        if precise {
            for p in crate::redact::url_password_ranges(secret) {
                cuts.push((from + p.start..from + p.end, "****".into()));
            }
        } else {
            // Keep the line count, so that the snippet's line numbers hold.
            cuts.push((from..to, format!("****{}", "\n".repeat(secret.matches('\n').count()))));
        }
    }
    cuts.sort_by_key(|(r, _)| (r.start, std::cmp::Reverse(r.end)));
    // The text as shown, in segments: (range in `text`, start in `shown`,
    // masked or not).
    let mut shown = String::with_capacity(lines.len());
    let mut segments: Vec<(std::ops::Range<usize>, usize, bool)> = Vec::new();
    let mut at = lines.start;
    for (range, replacement) in cuts {
        if range.start < at {
            continue;
        }
        segments.push((at..range.start, shown.len(), false));
        shown.push_str(&text[at..range.start]);
        segments.push((range.clone(), shown.len(), true));
        shown.push_str(&replacement);
        at = range.end;
    }
    segments.push((at..lines.end, shown.len(), false));
    shown.push_str(&text[at..lines.end]);
    // A position inside masked text moves to the mask's start (for the
    // start of the annotation) or its end (for its end).
    let moved = |old: usize, is_end: bool| -> usize {
        for (i, (range, new, masked)) in segments.iter().enumerate() {
            let inside =
                if is_end { range.start < old && old <= range.end } else { range.start <= old && old < range.end };
            if inside {
                if !masked {
                    return new + (old - range.start);
                }
                let mask_end = segments.get(i + 1).map_or(shown.len(), |(_, next, _)| *next);
                return if is_end { mask_end } else { *new };
            }
        }
        if old <= lines.start { 0 } else { shown.len() }
    };
    let start = moved(target.start, false);
    let end = if target.end == target.start { start } else { moved(target.end, true).max(start) };
    (shown, start..end)
}

/// Masks values wherever they appear in text: the values kgen read for the
/// Secrets it creates, in messages (a last line of defence behind the rules
/// that keep them in the Secret) and in `kgen diff`'s output. A value is
/// masked with its base64 form (how a Secret's `data` holds it); values of
/// [`ValueMask::MIN_INNER`] bytes or more wherever they occur, shorter ones
/// where a whole text or a quoted word is the value.
#[derive(Clone, Debug, Default)]
pub struct ValueMask {
    matcher: Option<aho_corasick::AhoCorasick>,
    short: std::collections::HashSet<String>,
}

impl ValueMask {
    /// Values this long are masked wherever they occur; shorter ones
    /// (`on`, `1`) would garble every message they happen to occur in.
    pub const MIN_INNER: usize = 4;

    /// What replaces a value.
    pub const MASK: &str = "****";

    pub fn new<'a>(values: impl IntoIterator<Item = &'a str>) -> ValueMask {
        let mut long = std::collections::BTreeSet::new();
        let mut short = std::collections::HashSet::new();
        for value in values.into_iter().filter(|v| !v.is_empty()) {
            let encoded = base64(value.as_bytes());
            for v in [value.to_string(), encoded] {
                if v.len() >= Self::MIN_INNER {
                    long.insert(v);
                } else {
                    short.insert(v);
                }
            }
        }
        // Longest first, so that a value inside another is not found first.
        let mut long: Vec<String> = long.into_iter().collect();
        long.sort_by_key(|v| std::cmp::Reverse(v.len()));
        let matcher = (!long.is_empty()).then(|| {
            aho_corasick::AhoCorasick::builder()
                .match_kind(aho_corasick::MatchKind::LeftmostLongest)
                .build(&long)
                .expect("plain strings make a matcher")
        });
        ValueMask { matcher, short }
    }

    pub fn is_empty(&self) -> bool {
        self.matcher.is_none() && self.short.is_empty()
    }

    /// Whether `text` holds a value (as [`ValueMask::mask`] would find it).
    pub fn found_in(&self, text: &str) -> bool {
        self.mask(text) != text
    }

    /// `text` with every value masked.
    pub fn mask(&self, text: &str) -> String {
        let mut out = match &self.matcher {
            Some(m) => m.replace_all(text, &vec![Self::MASK; m.patterns_len()]),
            None => text.to_string(),
        };
        if self.short.is_empty() {
            return out;
        }
        if self.short.contains(out.as_str()) {
            return Self::MASK.into();
        }
        for v in &self.short {
            for (open, close) in [("`", "`"), ("\"", "\""), ("'", "'")] {
                let quoted = format!("{open}{v}{close}");
                if out.contains(&quoted) {
                    out = out.replace(&quoted, &format!("{open}{}{close}", Self::MASK));
                }
            }
        }
        out
    }
}

/// Standard base64 with padding (what a Secret's `data` holds).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

impl Diagnostic {
    /// Mask `mask`'s values in everything this diagnostic says (the
    /// snippet shows source text, which never holds them).
    pub fn mask_values(mut self, mask: &ValueMask) -> Diagnostic {
        if mask.is_empty() {
            return self;
        }
        self.message = mask.mask(&self.message);
        self.path = self.path.map(|p| mask.mask(&p));
        for text in self.hints.iter_mut().chain(self.notes.iter_mut()) {
            *text = mask.mask(text);
        }
        self
    }
}

impl Diagnostic {
    /// A diagnostic without a location, or located by `file:line:column`
    /// only (`at`): its lines, no snippet.
    fn render_plain(&self, at: Option<&str>, color: bool) -> String {
        let (bold, red, yellow, cyan, reset) =
            if color { ("\x1b[1m", "\x1b[1;31m", "\x1b[1;33m", "\x1b[1;36m", "\x1b[0m") } else { ("", "", "", "", "") };
        let (level, level_color) = match self.severity {
            Severity::Error => ("error", red),
            Severity::Warning => ("warning", yellow),
        };
        let mut out = format!("{level_color}{level}{reset}{bold}: {}{reset}", shorten(&self.message));
        if let Some(at) = at {
            out.push_str(&format!("\n {cyan}-->{reset} {at}"));
        }
        if let Some(path) = &self.path {
            out.push_str(&format!("\n  {cyan}in{reset} {}", shorten(&format!("`{path}`"))));
        }
        for note in &self.notes {
            out.push_str(&format!("\n{bold}note{reset}: {}", shorten(note)));
        }
        for hint in &self.hints {
            out.push_str(&format!("\n{cyan}hint{reset}: {}", shorten(hint)));
        }
        out
    }
}

/// The longest word [`did_you_mean`] looks for (a Kubernetes name is at
/// most 253 characters).
pub const MAX_SUGGESTED_CHARS: usize = 256;

/// The most characters of one quoted (`` `…` ``) value a message shows;
/// past that it shows the first [`QUOTED_SHOWN_CHARS`] and `…`. An error
/// about a 2 MB scalar needs its start, not 2 MB of it.
pub const MAX_QUOTED_CHARS: usize = 256;
const QUOTED_SHOWN_CHARS: usize = 200;
/// The most characters of one message, hint or note, whatever it quotes.
pub const MAX_TEXT_CHARS: usize = 4096;

/// `text` with every quoted value longer than [`MAX_QUOTED_CHARS`] cut,
/// the whole at most [`MAX_TEXT_CHARS`], and characters that would act on
/// a terminal instead of showing (escape sequences, other controls, bidi
/// overrides) written as escapes (`\u{1b}`): messages quote what users and
/// hostile files wrote.
pub fn shorten(text: &str) -> std::borrow::Cow<'_, str> {
    let cut = cut_long(text);
    if !cut.chars().any(acts_on_a_terminal) {
        return cut;
    }
    let mut out = String::with_capacity(cut.len() + 8);
    for c in cut.chars() {
        if acts_on_a_terminal(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Controls other than line breaks and tabs, and the bidirectional
/// overrides and isolates that reorder what a terminal shows.
fn acts_on_a_terminal(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn cut_long(text: &str) -> std::borrow::Cow<'_, str> {
    if text.len() <= MAX_QUOTED_CHARS {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len().min(MAX_TEXT_CHARS * 4));
    for (i, part) in text.split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        if i % 2 == 1 && part.chars().nth(MAX_QUOTED_CHARS).is_some() {
            out.extend(part.chars().take(QUOTED_SHOWN_CHARS));
            out.push('…');
        } else {
            out.push_str(part);
        }
    }
    if let Some((cut, _)) = out.char_indices().nth(MAX_TEXT_CHARS) {
        out.truncate(cut);
        out.push('…');
    }
    std::borrow::Cow::Owned(out)
}

/// A non-empty list of diagnostics that stopped a step; the error type of
/// every fallible stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Errors(pub Vec<Diagnostic>);

impl Errors {
    pub fn one(diagnostic: Diagnostic) -> Errors {
        Errors(vec![diagnostic])
    }

    /// Add a note to every diagnostic that points into a source (context
    /// from the caller, such as the environment being rendered).
    pub fn note(mut self, note: impl Into<String>) -> Errors {
        let note = note.into();
        for d in self.0.iter_mut().filter(|d| d.span.is_some()) {
            d.notes.push(note.clone());
        }
        self
    }
}

impl From<Diagnostic> for Errors {
    fn from(d: Diagnostic) -> Errors {
        Errors(vec![d])
    }
}

impl fmt::Display for Errors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}", d.message)?;
            if let Some(path) = &d.path {
                write!(f, " (in `{path}`)")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for Errors {}

/// Collects diagnostics while a stage keeps going after the first problem.
#[derive(Debug, Default)]
pub struct Collector {
    pub diagnostics: Vec<Diagnostic>,
    seen: std::collections::HashSet<Diagnostic>,
    /// Diagnostics past [`MAX_DIAGNOSTICS`], counted but not kept.
    dropped: usize,
}

/// The most diagnostics one stage keeps: past that, a hostile or badly
/// broken profile would cost time and pages of output for no more insight.
pub const MAX_DIAGNOSTICS: usize = 50;

impl Collector {
    /// Add a diagnostic, unless the same one is already there (a shared
    /// field checked for several users of it).
    pub fn push(&mut self, diagnostic: Diagnostic) {
        if self.is_full() {
            self.dropped += 1;
        } else if self.seen.insert(diagnostic.clone()) {
            self.diagnostics.push(diagnostic);
        }
    }

    /// True when further diagnostics are only counted (callers may skip
    /// the work of locating them).
    pub fn is_full(&self) -> bool {
        self.diagnostics.len() >= MAX_DIAGNOSTICS
    }

    /// Count a diagnostic that was not built because the collector is full.
    pub fn drop_one(&mut self) {
        self.dropped += 1;
    }

    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// `Ok(value)` and the warnings when there are no errors, `Err` otherwise.
    pub fn finish<T>(mut self, value: T) -> Result<(T, Vec<Diagnostic>), Errors> {
        if self.dropped > 0 {
            self.diagnostics.push(more_problems(self.dropped));
        }
        if self.has_errors() { Err(Errors(self.diagnostics)) } else { Ok((value, self.diagnostics)) }
    }
}

/// Give every diagnostic the redactions of the others whose text its
/// snippet shows: a credential found by one check stays masked in the
/// message of another about the same line.
pub fn share_redactions(diagnostics: &mut [Diagnostic]) {
    let all: Vec<Redaction> = diagnostics.iter().flat_map(|d| d.redactions.iter().copied()).collect();
    if all.is_empty() {
        return;
    }
    for d in diagnostics.iter_mut() {
        for r in &all {
            if d.shows(r.span) && !d.redactions.contains(r) {
                d.redactions.push(*r);
            }
        }
    }
}

/// The closing diagnostic when `n` more were not kept.
pub fn more_problems(n: usize) -> Diagnostic {
    Diagnostic::error(Code::MoreProblems, format!("{n} more problem(s) not shown"))
        .hint("fix the ones above and run kgen again")
}

/// The closest candidate to `word` by edit distance, if it is close enough
/// to be a likely typo.
///
/// The edit distance costs the product of the two lengths in time and
/// memory: words longer than [`MAX_SUGGESTED_CHARS`] get no suggestion, and
/// candidates four times as long are never suggested.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    if word.len() > MAX_SUGGESTED_CHARS {
        return None;
    }
    let word_lower = word.to_ascii_lowercase();
    candidates
        .into_iter()
        .filter(|c| c.len() <= MAX_SUGGESTED_CHARS * 4)
        .map(|c| (strsim::damerau_levenshtein(&word_lower, &c.to_ascii_lowercase()), c))
        .filter(|&(d, c)| d <= (c.len().max(word.len()) / 3).max(1))
        .min_by_key(|&(d, c)| (d, c))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_show_terminal_controls_as_escapes() {
        let shown = shorten("unknown environment `pr\u{1b}[31md\u{202e}x` at\tend\nnext");
        assert_eq!(shown, "unknown environment `pr\\u{1b}[31md\\u{202e}x` at\tend\nnext");
        assert!(matches!(shorten("plain `text`"), std::borrow::Cow::Borrowed(_)));
    }
    use crate::source::Source;

    #[test]
    fn renders_location_path_and_hint() {
        let mut sources = SourceMap::default();
        let text = "name: demo\nreplicas: three\n";
        let id = sources.add(Source::new("demo.yaml", text));
        let s = sources.get(id);
        let span = Span { source: id, start: s.pos(2, 10), end: s.pos(2, 15) };
        let out = Diagnostic::error(Code::YamlSyntax, "expected an integer, found `three`")
            .at(Some(span))
            .path("replicas")
            .hint("write a whole number such as 2")
            .render(&sources, false);
        assert_eq!(
            out,
            "error: expected an integer, found `three`\n --> demo.yaml:2:11\n  |\n2 | replicas: three\n  |           ^^^^^ in `replicas`\n  |\nhint: write a whole number such as 2"
        );
    }

    #[test]
    fn masks_credentials_in_snippets() {
        let mut sources = SourceMap::default();
        let text = "settings:\n  DB_PASSWORD: hunter2 # x\n  URL: postgres://u:hunter2@db/app\n";
        let id = sources.add(Source::new("demo.yaml", text));
        let s = sources.get(id);
        let span = |line, from, to| Span { source: id, start: s.pos(line, from), end: s.pos(line, to) };
        let whole = Redaction { span: span(2, 15, 22), kind: Redact::Whole };
        let url = Redaction { span: span(3, 7, 34), kind: Redact::UrlPasswords };
        // The source line as shown and the caret line under it.
        let shown = |d: Diagnostic| {
            let out = d.render(&sources, false);
            assert!(!out.contains("hunter2"), "{out}");
            let lines: Vec<String> = out.lines().map(String::from).collect();
            let carets = lines.iter().position(|l| l.contains('^')).unwrap();
            (lines[carets - 1].clone(), lines[carets].clone())
        };
        let (line, carets) = shown(Diagnostic::error(Code::YamlSyntax, "bad").at(Some(span(2, 2, 13))).redact(whole));
        assert_eq!((line.as_str(), carets.as_str()), ("2 |   DB_PASSWORD: **** # x", "  |   ^^^^^^^^^^^"));
        let (line, carets) = shown(Diagnostic::error(Code::YamlSyntax, "bad").at(Some(span(2, 15, 22))).redact(whole));
        assert_eq!((line.as_str(), carets.as_str()), ("2 |   DB_PASSWORD: **** # x", "  |                ^^^^"));
        let (line, carets) = shown(Diagnostic::error(Code::YamlSyntax, "bad").at(Some(span(3, 7, 34))).redact(url));
        assert_eq!(
            (line.as_str(), carets.as_str()),
            ("3 |   URL: postgres://u:****@db/app", "  |        ^^^^^^^^^^^^^^^^^^^^^^^^")
        );
        // Several lines: every line keeps its number.
        let all = Span { source: id, start: s.pos(1, 0), end: s.pos(3, 34) };
        let out =
            Diagnostic::error(Code::YamlSyntax, "bad").at(Some(all)).redact(whole).redact(url).render(&sources, false);
        assert!(!out.contains("hunter2") && out.contains("3 | ") && out.contains("u:****@db"), "{out}");
    }

    #[test]
    fn value_masks_find_values_and_their_base64() {
        assert_eq!(base64(b"hunter2"), "aHVudGVyMg==");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"abc"), "YWJj");
        assert_eq!(base64(b""), "");
        let mask = ValueMask::new(["hunter2", "hunter2x", "on", ""]);
        assert_eq!(mask.mask("a hunter2x and hunter2 (aHVudGVyMg==)"), "a **** and **** (****)");
        assert_eq!(mask.mask("on"), "****");
        assert_eq!(mask.mask("`on` but not once or \"on\""), "`****` but not once or \"****\"");
        assert!(!mask.found_in("nothing here"));
        assert!(ValueMask::new([""]).is_empty());
        let d = Diagnostic::error(Code::YamlSyntax, "test failed: `/data/K` is \"aHVudGVyMg==\"")
            .hint("hunter2")
            .mask_values(&mask);
        assert_eq!((d.message.as_str(), d.hints[0].as_str()), ("test failed: `/data/K` is \"****\"", "****"));
    }

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(did_you_mean("replica", ["replicas", "resources"]), Some("replicas"));
        assert_eq!(did_you_mean("imgae", ["image", "name"]), Some("image"));
        assert_eq!(did_you_mean("zzz", ["image", "name"]), None);
    }
}
