//! From a profile file to a [`Profile`]: parse with positions, merge the
//! chosen environment, apply `--set` overrides, expand the single-component
//! shorthand, then deserialize, reporting every problem with its location.
//!
//! `load` reads the file; `load_text` does no IO.

use std::path::{Path, PathBuf};

use super::{Profile, SCALAR_SHORTHANDS, component_only_fields, shorthand_field};
use crate::diagnostic::Code;
use crate::diagnostic::{Diagnostic, Errors, did_you_mean};
pub use crate::files::io_reason;
use crate::files::{self, ReadError};
use crate::source::{Pos, Source, SourceMap, Span};
use crate::yaml::parse::{Limits, parse_one};
use crate::yaml::{self, Entry, Map, Node, PathSegment, Style, Value};

/// What to load: which environment and which overrides.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The environment overlay to merge (`--env`).
    pub environment: Option<String>,
    /// Overlay files (`-f/--values`), merged in order after the
    /// environment and before `--set`, like an environment.
    pub values: Vec<PathBuf>,
    /// `path=value` overrides (`--set`), applied in order after the overlay.
    pub sets: Vec<String>,
    /// The app's namespace (`-n/--namespace`): `namespace.name`, set after
    /// every `--set`.
    pub namespace: Option<String>,
    /// What the target cluster serves (`--api-versions`, `--kube-version`).
    pub target: crate::target::Target,
    /// The tree files the profile names may come from (`--files-root`);
    /// default: the profile's directory.
    pub files_root: Option<PathBuf>,
}

/// A loaded profile and what diagnostics need to point into it.
#[derive(Debug)]
pub struct Loaded {
    pub profile: Profile,
    /// The merged tree the profile was read from (for locating problems).
    pub tree: Node,
    /// Path prefix hidden when showing field paths (the shorthand
    /// component's `components.<name>`).
    pub hidden_prefix: Vec<PathSegment>,
    /// The environment that was merged, if any.
    pub environment: Option<String>,
    /// Every environment the profile defines, in order.
    pub environments: Vec<String>,
    /// The directory of the profile file (relative paths start there).
    pub dir: PathBuf,
    /// The tree files the profile names must be inside (`--files-root`);
    /// None: `dir`.
    pub files_root: Option<PathBuf>,
}

impl Loaded {
    /// The location of a field, or of its nearest written ancestor.
    pub fn span_of(&self, path: &[PathSegment]) -> Span {
        self.tree.span_of(path)
    }

    /// The location of the key that ends `path`.
    pub fn key_span_of(&self, path: &[PathSegment]) -> Span {
        self.tree.key_span_of(path)
    }

    /// A path for messages, without the shorthand prefix.
    pub fn display_path(&self, path: &[PathSegment]) -> String {
        let shown = match path.strip_prefix(self.hidden_prefix.as_slice()) {
            Some(rest) if !self.hidden_prefix.is_empty() => rest,
            _ => path,
        };
        yaml::format_path(shown)
    }
}

/// A profile file read and parsed once: its tree without `environments`,
/// and the overlays. Each environment is then loaded from it
/// ([`Parsed::load`]) without reading or parsing the text again, so that
/// `kgen check` of N environments costs N merges, not N parses.
#[derive(Debug)]
pub struct Parsed {
    /// The tree without `environments`.
    root: Node,
    /// The environments' overlays, in order.
    overlays: Vec<Entry>,
    /// Each environment's place in `overlays`.
    by_name: std::collections::HashMap<String, usize>,
    /// The shared defaults file the profile names, and where.
    defaults: Option<(String, Span)>,
    /// The directory of the profile file (relative paths start there).
    pub dir: PathBuf,
}

impl Parsed {
    /// Every environment the profile defines, in order.
    pub fn environments(&self) -> impl Iterator<Item = &str> {
        self.overlays.iter().map(|e| e.key.as_str())
    }

    /// The profile in the environment `options` names, with its `--set`
    /// overrides; `sources` must be the map the profile was parsed into.
    pub fn load(&self, options: &Options, sources: &mut SourceMap) -> Result<Loaded, Errors> {
        let mut root = self.root.clone();
        let defaults = match &self.defaults {
            Some((name, at)) => {
                let d = super::defaults::Defaults::read(&self.dir, name, options.files_root.as_deref(), *at, sources)?;
                root = d.under(root, &shorthand_field);
                Some(d)
            }
            None => None,
        };
        let environments: Vec<String> = self.environments().map(String::from).collect();
        if let Some(env) = &options.environment {
            let Some(&i) = self.by_name.get(env) else {
                return Err(unknown_environment(env, &environments).into());
            };
            let overlay = &self.overlays[i];
            // An empty environment (`prod:` with nothing under it) changes nothing.
            if !overlay.value.is_null() {
                yaml::merge(&mut root, overlay.value.clone(), &shorthand_field);
            }
        }
        for file in &options.values {
            let overlay = read_values(file, sources)?;
            if !overlay.is_null() {
                yaml::merge(&mut root, overlay, &shorthand_field);
            }
        }

        let mut index = SetIndex::default();
        for set in &options.sets {
            let (path, value) = parse_set(set, sources)?;
            if let Some((PathSegment::Key(k), span)) = path.first()
                && k == "environments"
            {
                // The environment is merged before `--set`: this would be ignored.
                return Err(Diagnostic::error(Code::SetOption, "`--set` cannot change `environments`")
                    .at(Some(*span))
                    .hint(
                        "--set applies after the environment is merged: set the field itself, e.g. `--set replicas=3`",
                    )
                    .into());
            }
            apply_set(&mut root, &mut index, &path, value)?;
        }
        if let Some(name) = &options.namespace {
            // A string whatever it looks like, located in its own source.
            let id = sources.add(Source::new("--namespace", name.as_str()));
            let source = sources.get(id);
            let span = Span { source: id, start: source.pos_of_offset(0), end: source.pos_of_offset(name.len()) };
            let path = vec![(PathSegment::Key("namespace".into()), span), (PathSegment::Key("name".into()), span)];
            apply_set(&mut root, &mut index, &path, Node::scalar(name.as_str(), Style::Quoted, span))?;
        }
        if let Some(defaults) = &defaults {
            defaults.check(&root, sources)?;
        }

        let hidden_prefix = expand_shorthand(&mut root)?;
        let mut ctx = yaml::de::Context::new(SCALAR_SHORTHANDS);
        ctx.hidden_prefix = hidden_prefix.clone();
        ctx.extra_fields = vec![("Profile", component_only_fields())];
        let mut profile: Profile = yaml::de::from_node(&root, &ctx)?;
        profile.environments.clear();
        Ok(Loaded {
            profile,
            tree: root,
            hidden_prefix,
            environment: options.environment.clone(),
            environments,
            dir: self.dir.clone(),
            files_root: options.files_root.clone(),
        })
    }
}

/// Read and load a profile file (`-` reads stdin).
pub fn load(path: &Path, options: &Options, sources: &mut SourceMap) -> Result<Loaded, Errors> {
    parse(path, sources)?.load(options, sources)
}

/// Read and parse a profile file (`-` reads stdin), once for all its
/// environments.
pub fn parse(path: &Path, sources: &mut SourceMap) -> Result<Parsed, Errors> {
    let stdin = path == Path::new("-");
    let name = if stdin { "<stdin>".to_string() } else { path.display().to_string() };
    // Read at most one byte past the limit, so that a huge file (or an
    // endless one such as /dev/zero) costs no more than the limit. The
    // profile is named on the command line: a pipe (`<(…)`) is fine.
    let limit = Limits::default().max_bytes as u64;
    let read = || -> Result<String, ReadError> { files::text(files::read_profile(path, limit)?) };
    let text = match read() {
        Ok(t) => t,
        Err(ReadError::TooLarge { head, .. }) => {
            let first_line = head.split(|&b| b == b'\n').next().unwrap_or_default();
            let first_line = String::from_utf8_lossy(&first_line[..first_line.len().min(200)]).into_owned();
            let id = sources.add(Source::new(name.clone(), first_line));
            return Err(crate::yaml::parse::too_large(id, Limits::default().max_bytes).into());
        }
        Err(ReadError::NotUtf8 { bytes, valid_up_to }) => {
            let prefix = String::from_utf8_lossy(&bytes[..valid_up_to]).into_owned();
            let id = sources.add(Source::new(name.clone(), prefix));
            let source = sources.get(id);
            let pos = source.pos_of_offset(valid_up_to);
            return Err(Diagnostic::error(Code::ReadFile, "the profile is not valid UTF-8 text")
                .at(Some(Span { source: id, start: pos, end: pos }))
                .hint("save the file as UTF-8")
                .into());
        }
        Err(e) => {
            let mut d = Diagnostic::error(Code::ReadFile, format!("cannot read profile `{name}`: {}", e.reason()));
            if e.is_not_found() && path == Path::new("kgen.yaml") {
                d = d.hint("with no PROFILE argument kgen reads ./kgen.yaml; `kgen init` writes a starter");
            }
            return Err(d.into());
        }
    };
    let mut parsed = parse_text(&name, text, sources)?;
    parsed.dir = if stdin { PathBuf::from(".") } else { path.parent().map(Path::to_path_buf).unwrap_or_default() };
    Ok(parsed)
}

/// Load a profile from text.
pub fn load_text(name: &str, text: String, options: &Options, sources: &mut SourceMap) -> Result<Loaded, Errors> {
    parse_text(name, text, sources)?.load(options, sources)
}

/// Parse a profile's text and take its environments apart; no IO.
pub fn parse_text(name: &str, text: String, sources: &mut SourceMap) -> Result<Parsed, Errors> {
    let id = sources.add(Source::new(name, text));
    let mut root = parse_one(sources.get(id), id, &Limits::default())?;
    let Some(map) = root.as_map_mut() else {
        return Err(Diagnostic::error(
            Code::ProfileShape,
            format!("a profile is a mapping of fields, found {}", root.describe()),
        )
        .at(Some(root.span))
        .hint("start with `name: my-app` and `image: …`")
        .into());
    };
    let overlays = take_environments(map)?;
    let defaults = match map.remove("defaults") {
        None => None,
        Some(e) if e.value.is_null() => None,
        Some(e) => match e.value.as_str() {
            Some(name) => Some((name.to_string(), e.value.span)),
            None => {
                return Err(Diagnostic::error(
                    Code::ProfileShape,
                    format!("`defaults` names a defaults file, found {}", e.value.describe()),
                )
                .at(Some(e.value.span))
                .path("defaults")
                .into());
            }
        },
    };
    let by_name = overlays.iter().enumerate().map(|(i, e)| (e.key.clone(), i)).collect();
    Ok(Parsed { root, overlays, by_name, defaults, dir: PathBuf::new() })
}

fn unknown_environment(env: &str, defined: &[String]) -> Diagnostic {
    let mut d = Diagnostic::error(Code::UnknownEnvironment, format!("unknown environment `{env}`"));
    d = match defined.len() {
        0 => d.hint("this profile defines no environments; add them under `environments:`"),
        _ => {
            let list = crate::diagnostic::short_list(defined.iter().map(String::as_str));
            match did_you_mean(env, defined.iter().map(String::as_str)) {
                Some(m) => d.hint(format!("did you mean `{m}`? this profile defines {list}")),
                None => d.hint(format!("this profile defines {list}")),
            }
        }
    };
    d
}

/// A `-f/--values` file: an overlay like an environment's, with the same
/// typing, `null` resets and located errors (`-` reads stdin).
fn read_values(path: &Path, sources: &mut SourceMap) -> Result<Node, Errors> {
    let name = if path == Path::new("-") { "<stdin>".to_string() } else { path.display().to_string() };
    let limit = Limits::default().max_bytes as u64;
    let text = files::read_profile(path, limit).and_then(files::text).map_err(|e| {
        let reason = match &e {
            ReadError::TooLarge { .. } => format!("it is larger than {} bytes", Limits::default().max_bytes),
            ReadError::NotUtf8 { .. } => "it is not UTF-8 text".to_string(),
            e => e.reason(),
        };
        Errors::from(Diagnostic::error(Code::ReadFile, format!("cannot read values file `{name}`: {reason}")))
    })?;
    let id = sources.add(Source::new(name, text));
    let node = parse_one(sources.get(id), id, &Limits::default())?;
    match &node.value {
        Value::Map(m) => {
            let mut errors = Vec::new();
            for key in ["environments", "apiVersion", "kind", "defaults"] {
                if let Some(e) = m.entry(key) {
                    errors.push(
                        Diagnostic::error(Code::ValuesFile, format!("`{key}` cannot be set in a values file"))
                            .at(Some(e.key_span))
                            .hint("a values file overlays the profile's fields, like an environment"),
                    );
                }
            }
            if errors.is_empty() { Ok(node) } else { Err(Errors(errors)) }
        }
        _ if node.is_null() => Ok(node),
        _ => Err(Diagnostic::error(
            Code::ValuesFile,
            format!("a values file is a mapping of fields, found {}", node.describe()),
        )
        .at(Some(node.span))
        .into()),
    }
}

/// Remove `environments` from the profile and check its shape.
fn take_environments(map: &mut Map) -> Result<Vec<Entry>, Errors> {
    let Some(entry) = map.remove("environments") else {
        return Ok(Vec::new());
    };
    if entry.value.is_null() {
        return Ok(Vec::new());
    }
    let Value::Map(envs) = entry.value.value else {
        return Err(Diagnostic::error(
            Code::ProfileShape,
            format!("`environments` maps names to overlays, found {}", entry.value.describe()),
        )
        .at(Some(entry.value.span))
        .into());
    };
    let mut errors = Vec::new();
    for env in &envs.entries {
        if !is_dns_label(&env.key) {
            errors.push(
                Diagnostic::error(Code::ProfileShape, format!("environment name `{}` is not valid", env.key))
                    .at(Some(env.key_span))
                    .hint("use lowercase letters, digits and `-` (it names output folders)"),
            );
        }
        match &env.value.value {
            Value::Map(m) => {
                for key in ["environments", "apiVersion", "kind", "defaults"] {
                    if let Some(e) = m.entry(key) {
                        errors.push(
                            Diagnostic::error(
                                Code::ProfileShape,
                                format!("`{key}` cannot be set inside an environment"),
                            )
                            .at(Some(e.key_span))
                            .path(format!("environments.{}.{key}", env.key)),
                        );
                    }
                }
            }
            _ if env.value.is_null() => {}
            _ => errors.push(
                Diagnostic::error(
                    Code::ProfileShape,
                    format!("an environment is a mapping of fields, found {}", env.value.describe()),
                )
                .at(Some(env.value.span))
                .path(format!("environments.{}", env.key)),
            ),
        }
    }
    if errors.is_empty() { Ok(envs.entries) } else { Err(Errors(errors)) }
}

pub(crate) fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// A `--set` path step with the span of its text.
type SetPath = Vec<(PathSegment, Span)>;

/// Parse `a.b[0].c=value`: dots separate keys (`\.` is a literal dot),
/// `[N]` indexes a list; the value is YAML (`[a, b]` is a list).
fn parse_set(arg: &str, sources: &mut SourceMap) -> Result<(SetPath, Node), Errors> {
    let id = sources.add(Source::new("--set", arg));
    let source = sources.get(id);
    let span =
        |from: usize, to: usize| Span { source: id, start: source.pos_of_offset(from), end: source.pos_of_offset(to) };
    let Some(eq) = find_unescaped_eq(arg) else {
        return Err(Diagnostic::error(Code::SetOption, "expected `--set path=value`")
            .at(Some(span(0, arg.len())))
            .hint("for example `--set replicas=3` or `--set image.tag=1.10`")
            .into());
    };
    let mut path = Vec::new();
    let mut key = String::new();
    let mut start = 0;
    let mut chars = arg[..eq].char_indices().peekable();
    let bad = |at: usize, why: &str| -> Errors {
        Diagnostic::error(Code::SetOption, format!("invalid `--set` path: {why}")).at(Some(span(at, eq))).into()
    };
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' if matches!(chars.peek(), Some((_, '.' | '[' | '=' | '\\'))) => {
                key.push(chars.next().expect("peeked").1);
            }
            '.' | '[' => {
                if !key.is_empty() {
                    path.push((PathSegment::Key(std::mem::take(&mut key)), span(start, i)));
                } else if c == '.' && !matches!(path.last(), Some((PathSegment::Index(_), _))) {
                    return Err(bad(i, "empty key"));
                }
                if c == '[' {
                    let close = arg[i..eq].find(']').map(|j| i + j).ok_or_else(|| bad(i, "missing `]`"))?;
                    let n: usize =
                        arg[i + 1..close].parse().map_err(|_| bad(i, "a list index is a number, as in `ports[0]`"))?;
                    path.push((PathSegment::Index(n), span(i, close + 1)));
                    while chars.peek().is_some_and(|&(j, _)| j <= close) {
                        chars.next();
                    }
                }
                start = i + 1;
            }
            c => {
                if key.is_empty() {
                    start = i;
                }
                key.push(c);
            }
        }
    }
    if !key.is_empty() {
        path.push((PathSegment::Key(key), span(start, eq)));
    }
    if path.is_empty() {
        return Err(bad(0, "empty path"));
    }
    let max_depth = Limits::default().max_depth;
    if path.len() > max_depth {
        return Err(Diagnostic::error(Code::SetOption, format!("the `--set` path is deeper than {max_depth} levels"))
            .at(Some(span(0, eq)))
            .hint("a profile nests no deeper than that either")
            .into());
    }
    if let Some(d) = comma_joined(arg, eq, &path, &span) {
        return Err(d.into());
    }
    // Parse the value in place: blank out `path=` so positions line up.
    let value_text = &arg[eq + 1..];
    let node = if value_text.trim().is_empty() {
        Node::scalar(value_text, Style::Quoted, span(eq + 1, arg.len()))
    } else {
        // Byte for byte, so that offsets match; line breaks stay.
        let mut padded = String::with_capacity(arg.len());
        for c in arg[..=eq].chars() {
            if c == '\n' {
                padded.push('\n');
            } else {
                padded.extend(std::iter::repeat_n(' ', c.len_utf8()));
            }
        }
        padded.push_str(value_text);
        let tmp = Source::new("--set", padded);
        let limits = Limits { max_bytes: 1 << 16, max_depth: 16, max_nodes: 10_000 };
        let line_start = arg[..eq].rfind('\n').map_or(0, |i| i + 1);
        let realign = Realign {
            source,
            line: arg[..eq].matches('\n').count() as u32 + 1,
            prefix_bytes: (eq + 1 - line_start) as u32,
            shift: (eq + 1 - line_start - arg[line_start..=eq].chars().count()) as u32,
        };
        let mut node = parse_one(&tmp, id, &limits).map_err(|mut e| {
            for d in &mut e.0 {
                if let Some(span) = &mut d.span {
                    realign.span(span);
                }
            }
            e
        })?;
        relocate(&mut node, &realign);
        node
    };
    Ok((path, node))
}

/// `--set a=1,b=2`, which Helm reads as two assignments: kgen takes one
/// per `--set` (a value may hold commas), so text after a comma that reads
/// as `<field>=`, a field the profile's schema has, is an error. A quoted
/// or flow value (`"a,b=c"`, `[a, b]`) is taken as written. The message
/// names the paths only: a value may be a secret.
fn comma_joined(arg: &str, eq: usize, path: &SetPath, span: &dyn Fn(usize, usize) -> Span) -> Option<Diagnostic> {
    let value = &arg[eq + 1..];
    if !value.contains(',') || value.trim_start().starts_with(['"', '\'', '[', '{']) {
        return None;
    }
    let mut paths = vec![set_path_text(path)];
    let mut first = None;
    for (i, _) in value.match_indices(',') {
        let start = eq + 1 + i + 1;
        let rest = &arg[start..];
        let Some(end) = find_unescaped_eq(rest) else { continue };
        let candidate = &rest[..end];
        let Some(segments) = simple_path(candidate) else { continue };
        if crate::profile::schema::knows_path(&segments) {
            paths.push(candidate.to_string());
            first.get_or_insert((start, start + end));
        }
    }
    let (from, to) = first?;
    let split = paths.iter().map(|p| format!("--set {p}=…")).collect::<Vec<_>>().join(" ");
    Some(
        Diagnostic::error(
            Code::SetOption,
            format!(
                "`--set {}=…` holds more than one assignment: `{}` after a comma is a field of the profile",
                paths[0], paths[1]
            ),
        )
        .at(Some(span(from, to)))
        .without_snippet()
        .hint(format!("one assignment per --set: {split}"))
        .hint("if the comma is part of the value, quote it: `--set 'path=\"a,b=c\"'`"),
    )
}

/// A `--set` path of plain keys and indexes (`a.b[0].c`, `\.` a literal
/// dot), or None when the text is not one.
fn simple_path(text: &str) -> Option<Vec<PathSegment>> {
    if text.is_empty() || !text.chars().all(|c| c.is_ascii_alphanumeric() || "_-.[]\\".contains(c)) {
        return None;
    }
    let mut out = Vec::new();
    let mut key = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => key.push(chars.next()?),
            '.' => {
                if !key.is_empty() {
                    out.push(PathSegment::Key(std::mem::take(&mut key)));
                } else if !matches!(out.last(), Some(PathSegment::Index(_))) {
                    return None;
                }
            }
            '[' => {
                if !key.is_empty() {
                    out.push(PathSegment::Key(std::mem::take(&mut key)));
                }
                let mut n = String::new();
                loop {
                    match chars.next()? {
                        ']' => break,
                        d => n.push(d),
                    }
                }
                out.push(PathSegment::Index(n.parse().ok()?));
            }
            ']' => return None,
            c => key.push(c),
        }
    }
    if !key.is_empty() {
        out.push(PathSegment::Key(key));
    }
    (!out.is_empty()).then_some(out)
}

fn find_unescaped_eq(s: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            '=' if !escaped => return Some(i),
            _ => escaped = false,
        }
    }
    None
}

/// Point spans of a node parsed from a padded copy at the real source.
fn relocate(node: &mut Node, realign: &Realign<'_>) {
    realign.span(&mut node.span);
    match &mut node.value {
        Value::Scalar(_) => {}
        Value::Seq(items) => items.iter_mut().for_each(|n| relocate(n, realign)),
        Value::Map(m) => {
            for e in &mut m.entries {
                realign.span(&mut e.key_span);
                relocate(&mut e.value, realign);
            }
        }
    }
}

/// Positions in a `--set` value parsed from a copy whose `path=` is blanked
/// out byte for byte: offsets and lines match the real text; columns on
/// the line of the `=` are off by the path's multi-byte characters.
struct Realign<'a> {
    source: &'a Source,
    /// The line of the `=`.
    line: u32,
    /// Bytes from the start of that line through the `=`.
    prefix_bytes: u32,
    /// Those bytes less the characters they encode.
    shift: u32,
}

impl Realign<'_> {
    fn pos(&self, pos: Pos) -> Pos {
        if pos.line > self.line || (pos.line == self.line && pos.column > self.prefix_bytes) {
            let column = if pos.line == self.line { pos.column - self.shift } else { pos.column };
            Pos { column, ..pos }
        } else {
            // Inside the path (rare: whole-text errors): slow but exact.
            self.source.pos_of_offset(pos.offset as usize)
        }
    }

    fn span(&self, span: &mut Span) {
        span.start = self.pos(span.start);
        span.end = self.pos(span.end);
    }
}

/// Where the keys of the maps `--set` walks through are, by path, so that
/// each step is a hash lookup and many `--set`s cost time linear in their
/// number (a map's keys are a list, found by scanning). Built as the paths
/// are walked; what a `--set` replaces loses its index.
#[derive(Default)]
struct SetIndex {
    /// The node's keys and their places, once walked as a mapping.
    keys: Option<std::collections::HashMap<String, usize>>,
    children: std::collections::HashMap<PathSegment, SetIndex>,
}

fn apply_set(root: &mut Node, index: &mut SetIndex, path: &SetPath, value: Node) -> Result<(), Errors> {
    let mut node = root;
    let mut index = index;
    let mut walked: Vec<PathSegment> = Vec::new();
    for (i, (seg, seg_span)) in path.iter().enumerate() {
        let last = i + 1 == path.len();
        let was_map = matches!(node.value, Value::Map(_));
        yaml::expand_scalar(node, &walked, &shorthand_field);
        let not_container = |what: &str, node: &Node, walked: &[PathSegment]| -> Errors {
            let at =
                if walked.is_empty() { "the profile".to_string() } else { format!("`{}`", yaml::format_path(walked)) };
            Diagnostic::error(
                Code::SetOption,
                format!("cannot set `{}`: {at} is {}, not {what}", set_path_text(path), node.describe()),
            )
            .at(Some(*seg_span))
            .into()
        };
        match seg {
            PathSegment::Key(k) => {
                if node.is_null() {
                    *node = Node::map(Vec::new(), *seg_span);
                }
                if !matches!(node.value, Value::Map(_)) {
                    return Err(not_container("a mapping", node, &walked));
                }
                let Value::Map(map) = &mut node.value else { unreachable!("checked above") };
                if !was_map {
                    // A null or a shorthand scalar became this mapping.
                    *index = SetIndex::default();
                }
                let keys = index.keys.get_or_insert_with(|| {
                    let mut keys = std::collections::HashMap::with_capacity(map.entries.len());
                    for (n, e) in map.entries.iter().enumerate() {
                        keys.entry(e.key.clone()).or_insert(n);
                    }
                    keys
                });
                let place = match keys.get(k) {
                    Some(&n) => n,
                    None => {
                        // A null becomes a mapping or a list, as the next step needs.
                        keys.insert(k.clone(), map.entries.len());
                        map.entries.push(Entry {
                            key: k.clone(),
                            key_span: *seg_span,
                            value: Node::scalar("", Style::Plain, *seg_span),
                        });
                        map.entries.len() - 1
                    }
                };
                if last {
                    map.entries[place] = Entry { key: k.clone(), key_span: *seg_span, value };
                    index.children.remove(seg);
                    return Ok(());
                }
                node = &mut map.entries[place].value;
            }
            PathSegment::Index(n) => {
                if node.is_null() {
                    *node = Node { value: Value::Seq(Vec::new()), span: *seg_span };
                    *index = SetIndex::default();
                }
                if !matches!(node.value, Value::Seq(_)) {
                    return Err(not_container("a list", node, &walked));
                }
                let Value::Seq(items) = &mut node.value else { unreachable!("checked above") };
                if *n > items.len() {
                    return Err(Diagnostic::error(
                        Code::SetOption,
                        format!(
                            "cannot set `{}`: the list has {} item(s), so the next index is {}",
                            set_path_text(path),
                            items.len(),
                            items.len()
                        ),
                    )
                    .at(Some(*seg_span))
                    .into());
                }
                if *n == items.len() {
                    items.push(Node::scalar("", Style::Plain, *seg_span));
                }
                if last {
                    items[*n] = value;
                    index.children.remove(seg);
                    return Ok(());
                }
                node = &mut items[*n];
            }
        }
        index = index.children.entry(seg.clone()).or_default();
        walked.push(seg.clone());
    }
    Ok(())
}

fn set_path_text(path: &SetPath) -> String {
    yaml::format_path(&path.iter().map(|(s, _)| s.clone()).collect::<Vec<_>>())
}

/// Move top-level component fields under `components.<name>` when the
/// profile has no `components`; reject them at the top level when it has.
/// Returns the prefix to hide when showing paths.
fn expand_shorthand(root: &mut Node) -> Result<Vec<PathSegment>, Errors> {
    let fields = component_only_fields();
    let span = root.span;
    let Some(map) = root.as_map_mut() else {
        return Err(Diagnostic::error(
            Code::ProfileShape,
            format!("a profile is a mapping of fields, found {}", root.describe()),
        )
        .at(Some(span))
        .into());
    };
    let has_components = map.get("components").is_some_and(|n| !n.is_null());
    if has_components {
        let mut errors = Vec::new();
        for e in &map.entries {
            if fields.contains(&e.key.as_str()) || e.key == "component" {
                errors.push(
                    Diagnostic::error(
                        Code::ProfileShape,
                        format!("`{}` belongs to a component, and this profile lists `components`", e.key),
                    )
                    .at(Some(e.key_span))
                    .path(e.key.clone())
                    .hint(format!("move `{}` under each component that needs it", e.key)),
                );
            }
        }
        return if errors.is_empty() { Ok(Vec::new()) } else { Err(Errors(errors)) };
    }
    let key = map
        .get("component")
        .and_then(Node::as_str)
        .or_else(|| map.get("name").and_then(Node::as_str))
        .filter(|s| !s.is_empty())
        .unwrap_or("app")
        .to_string();
    let mut moved = Vec::new();
    let mut kept = Vec::new();
    for e in std::mem::take(&mut map.entries) {
        if fields.contains(&e.key.as_str()) { moved.push(e) } else { kept.push(e) }
    }
    map.entries = kept;
    let span = root.span;
    let component = Node::map(moved, span);
    let components = Node::map(vec![Entry { key: key.clone(), key_span: span, value: component }], span);
    let map = root.as_map_mut().expect("mapping");
    map.entries.retain(|e| e.key != "components");
    map.entries.push(Entry { key: "components".into(), key_span: span, value: components });
    Ok(vec![PathSegment::Key("components".into()), PathSegment::Key(key)])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str, env: Option<&str>, sets: &[&str]) -> Result<Loaded, String> {
        let mut sources = SourceMap::default();
        let options = Options {
            environment: env.map(String::from),
            sets: sets.iter().map(|s| s.to_string()).collect(),
            ..Options::default()
        };
        load_text("p.yaml", text.to_string(), &options, &mut sources).map_err(|e| {
            e.0.iter()
                .map(|d| {
                    let at = d.span.map(|s| format!("{}:{} ", sources.get(s.source).name, s.start)).unwrap_or_default();
                    let path = d.path.as_ref().map(|p| format!(" [{p}]")).unwrap_or_default();
                    let hint = d.hints.first().map(|h| format!(" ({h})")).unwrap_or_default();
                    format!("{at}{}{path}{hint}", d.message)
                })
                .collect::<Vec<_>>()
                .join("\n")
        })
    }

    const BASE: &str = "name: shop\nimage: shop:1.0\nreplicas: 2\nports: {http: 8080}\nenvironments:\n  prod:\n    replicas: 5\n    image: {tag: \"2.0\"}\n";

    #[test]
    fn shorthand_component_is_named_like_the_app() {
        let l = load(BASE, None, &[]).unwrap();
        let c = &l.profile.components["shop"];
        assert_eq!(c.replicas, Some(2));
        assert_eq!(c.ports["http"].port, 8080);
        assert_eq!(l.profile.image.unwrap().reference.as_deref(), Some("shop:1.0"));
        assert_eq!(l.environments, ["prod"]);
    }

    #[test]
    fn environment_overlays_merge() {
        let l = load(BASE, Some("prod"), &[]).unwrap();
        assert_eq!(l.profile.components["shop"].replicas, Some(5));
        let image = l.profile.image.unwrap();
        assert_eq!((image.reference.as_deref(), image.tag.as_deref()), (Some("shop:1.0"), Some("2.0")));
    }

    #[test]
    fn set_is_typed_by_the_schema() {
        let l = load(BASE, Some("prod"), &["image.tag=1.10", "replicas=3", "labels.team\\.io/owner=web"]).unwrap();
        assert_eq!(l.profile.image.unwrap().tag.as_deref(), Some("1.10"));
        assert_eq!(l.profile.components["shop"].replicas, Some(3));
        assert_eq!(l.profile.labels["team.io/owner"], "web");
    }

    #[test]
    fn errors_are_located_and_collected() {
        let err = load("name: shop\nreplicas: many\nportz: {}\nimage: {tga: x}\n", None, &[]).unwrap_err();
        assert_eq!(
            err,
            "p.yaml:2:11 expected a whole number, found `many` [replicas]\n\
             p.yaml:3:1 unknown field `portz` [portz] (did you mean `ports`?)\n\
             p.yaml:4:9 unknown field `tga` in `image` [image.tga] (did you mean `tag`?)"
        );
    }

    /// `pullPolicy: {Always: 3}` was read as `Always`, its value dropped.
    #[test]
    fn a_value_of_an_enumeration_is_not_a_mapping() {
        let err = load("name: shop\nimage: {reference: shop:1.0, pullPolicy: {Always: 3}}\n", None, &[]).unwrap_err();
        assert_eq!(
            err,
            "p.yaml:2:42 expected `Always` alone, found a mapping [image.pullPolicy] (write the value by itself: `Always`)"
        );
    }

    #[test]
    fn bad_set_paths_name_the_nearest_field() {
        let err = load(BASE, None, &["image.tga=1"]).unwrap_err();
        assert_eq!(err, "--set:1:7 unknown field `tga` in `image` [image.tga] (did you mean `tag`?)");
        let err = load(BASE, None, &["replicas=three"]).unwrap_err();
        assert_eq!(err, "--set:1:10 expected a whole number, found `three` [replicas]");
        let err = load(BASE, None, &["replicas"]).unwrap_err();
        assert!(err.starts_with("--set:1:1 expected `--set path=value`"), "{err}");
    }

    #[test]
    fn unknown_environment_lists_the_defined_ones() {
        let err = load(BASE, Some("prd"), &[]).unwrap_err();
        assert_eq!(err, "unknown environment `prd` (did you mean `prod`? this profile defines `prod`)");
    }

    #[test]
    fn component_fields_beside_components_are_errors() {
        let err = load("name: a\nreplicas: 2\ncomponents:\n  web: {}\n", None, &[]).unwrap_err();
        assert!(err.starts_with("p.yaml:2:1 `replicas` belongs to a component"), "{err}");
    }
}
