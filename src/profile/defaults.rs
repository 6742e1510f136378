//! Shared defaults and limits: a file a profile names with `defaults:`,
//! which a platform team keeps for many apps.
//!
//! ```yaml
//! defaults:            # fields every profile naming the file starts from
//!   imagePullSecrets: [registry]
//! limits:              # rules the final profile must keep, whatever sets it
//!   - {field: replicas, max: 10}
//!   - {field: image.repository, prefix: ghcr.io/example/}
//!   - {field: networkPolicy.defaultDeny, equals: true}
//!   - {field: resources, oneOf: [small, medium]}
//! ```
//!
//! The profile is merged over `defaults` (so it may change any default),
//! then its environment, `-f` files and `--set`s; `limits` are checked on
//! the result, and a refusal points at the field where it was set and at
//! the limit in the defaults file.

use std::path::Path;

use crate::diagnostic::Code;
use crate::diagnostic::{Diagnostic, Errors};
use crate::files;
use crate::source::{Source, SourceMap, Span};
use crate::yaml::parse::{Limits, parse_one};
use crate::yaml::{self, Node, PathSegment, Value};

/// A read defaults file.
#[derive(Debug)]
pub struct Defaults {
    /// `defaults`: the base tree.
    base: Option<Node>,
    limits: Vec<Limit>,
}

#[derive(Debug)]
struct Limit {
    field: Vec<PathSegment>,
    field_text: String,
    rule: Rule,
    /// Where the limit is written.
    span: Span,
}

#[derive(Debug)]
enum Rule {
    Max(f64),
    Min(f64),
    Equals(serde_json::Value),
    OneOf(Vec<serde_json::Value>),
    Prefix(String),
}

impl Defaults {
    /// Read the defaults file a profile names (`at` is where it names it).
    pub fn read(
        dir: &Path,
        name: &str,
        files_root: Option<&Path>,
        at: Span,
        sources: &mut SourceMap,
    ) -> Result<Defaults, Errors> {
        let unreadable = |reason: String| -> Errors {
            Diagnostic::error(Code::ReadFile, format!("cannot read defaults file `{name}`: {reason}"))
                .at(Some(at))
                .path("defaults")
                .into()
        };
        let path = files::resolve_named(dir, name, files_root).map_err(|e| unreadable(e.reason()))?;
        let text =
            files::read_text_file(&path, Limits::default().max_bytes as u64).map_err(|e| unreadable(e.reason()))?;
        // Named as the profile names it, from the profile's directory.
        let id = sources.add(Source::new(dir.join(name).display().to_string(), text));
        let root = parse_one(sources.get(id), id, &Limits::default())?;
        let Some(map) = root.as_map() else {
            return Err(Diagnostic::error(
                Code::DefaultsFile,
                format!("a defaults file is a mapping, found {}", root.describe()),
            )
            .at(Some(root.span))
            .hint("write `defaults:` (fields) and `limits:` (rules)")
            .into());
        };
        let mut errors = Vec::new();
        for entry in &map.entries {
            if !matches!(entry.key.as_str(), "defaults" | "limits") {
                errors.push(
                    Diagnostic::error(Code::DefaultsFile, format!("unknown field `{}` in a defaults file", entry.key))
                        .at(Some(entry.key_span))
                        .hint("a defaults file has `defaults` and `limits`"),
                );
            }
        }
        let base = map.get("defaults").filter(|n| !n.is_null()).cloned();
        if let Some(base) = &base {
            match base.as_map() {
                Some(m) => {
                    for key in ["environments", "apiVersion", "kind", "name", "defaults"] {
                        if let Some(e) = m.entry(key) {
                            errors.push(
                                Diagnostic::error(Code::DefaultsFile, format!("`{key}` cannot be a shared default"))
                                    .at(Some(e.key_span))
                                    .path(format!("defaults.{key}")),
                            );
                        }
                    }
                }
                None => errors.push(
                    Diagnostic::error(
                        Code::DefaultsFile,
                        format!("`defaults` is a mapping of profile fields, found {}", base.describe()),
                    )
                    .at(Some(base.span)),
                ),
            }
        }
        let mut limits = Vec::new();
        match map.get("limits") {
            None => {}
            Some(node) if node.is_null() => {}
            Some(Node { value: Value::Seq(items), .. }) => {
                for (i, item) in items.iter().enumerate() {
                    match limit(item) {
                        Ok(l) => limits.push(l),
                        Err(message) => errors.push(
                            Diagnostic::error(Code::DefaultsFile, message)
                                .at(Some(item.span))
                                .path(format!("limits[{i}]"))
                                .hint("write `{field: PATH, max|min|equals|oneOf|prefix: VALUE}`"),
                        ),
                    }
                }
            }
            Some(node) => errors.push(
                Diagnostic::error(
                    Code::DefaultsFile,
                    format!("`limits` is a list of rules, found {}", node.describe()),
                )
                .at(Some(node.span)),
            ),
        }
        if !errors.is_empty() {
            return Err(Errors(errors));
        }
        Ok(Defaults { base, limits })
    }

    /// The profile's tree merged over the defaults.
    pub fn under(&self, profile: Node, shorthand: &dyn Fn(&[PathSegment]) -> Option<&'static str>) -> Node {
        match &self.base {
            Some(base) => {
                let mut merged = base.clone();
                yaml::merge(&mut merged, profile, shorthand);
                merged
            }
            None => profile,
        }
    }

    /// Every limit the final tree breaks, located where the value was set,
    /// with the limit's place in the defaults file.
    pub fn check(&self, root: &Node, sources: &SourceMap) -> Result<(), Errors> {
        let mut errors = Vec::new();
        for limit in &self.limits {
            let node = root.lookup(&limit.field).filter(|n| !n.is_null());
            let text = node.and_then(Node::as_str);
            let broken = match (&limit.rule, node) {
                (Rule::Max(max), Some(_)) => text.and_then(|t| t.parse::<f64>().ok()).is_none_or(|v| v > *max),
                (Rule::Min(min), Some(_)) => text.and_then(|t| t.parse::<f64>().ok()).is_none_or(|v| v < *min),
                (Rule::Prefix(prefix), Some(_)) => text.is_none_or(|t| !t.starts_with(prefix.as_str())),
                (Rule::Equals(want), found) => found.map(yaml::to_json).as_ref() != Some(want),
                (Rule::OneOf(allowed), found) => found.map(yaml::to_json).is_none_or(|v| !allowed.contains(&v)),
                (_, None) => false,
            };
            if !broken {
                continue;
            }
            let shown = match node {
                Some(n) => match n.as_str() {
                    Some(t) => format!("`{}`", crate::diagnostic::shorten(t)),
                    None => n.describe(),
                },
                None => "nothing".to_string(),
            };
            let start = limit.span.start;
            let file = sources.get(limit.span.source).name.clone();
            errors.push(
                Diagnostic::error(
                    Code::DefaultsLimit,
                    format!(
                        "`{}` is {shown}, which the shared defaults do not allow: {}",
                        limit.field_text,
                        limit.rule.describe()
                    ),
                )
                .at(Some(root.span_of(&limit.field)))
                .path(limit.field_text.clone())
                .note(format!("the limit is at {file}:{}:{}", start.line, start.column))
                .hint("limits are the platform's: change the value, or ask whoever keeps the defaults file"),
            );
        }
        if errors.is_empty() { Ok(()) } else { Err(Errors(errors)) }
    }
}

impl Rule {
    fn describe(&self) -> String {
        match self {
            Rule::Max(v) => format!("at most {v}"),
            Rule::Min(v) => format!("at least {v}"),
            Rule::Equals(v) => format!("must be {v}"),
            Rule::OneOf(v) => {
                format!("one of {}", v.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", "))
            }
            Rule::Prefix(p) => format!("must start with `{p}`"),
        }
    }
}

/// One `limits` item: `{field: PATH, RULE: VALUE}`.
fn limit(item: &Node) -> Result<Limit, String> {
    let map = item.as_map().ok_or_else(|| format!("a limit is a mapping, found {}", item.describe()))?;
    let field_text = map.get("field").and_then(Node::as_str).ok_or("a limit needs `field`, a profile field path")?;
    let rules: Vec<_> = map.entries.iter().filter(|e| e.key != "field").collect();
    let [rule] = rules[..] else {
        return Err("a limit has `field` and exactly one of `max`, `min`, `equals`, `oneOf`, `prefix`".into());
    };
    let number = |n: &Node| -> Result<f64, String> {
        n.as_str()
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| format!("`{}` is a number, found {}", rule.key, n.describe()))
    };
    let rule = match rule.key.as_str() {
        "max" => Rule::Max(number(&rule.value)?),
        "min" => Rule::Min(number(&rule.value)?),
        "equals" => Rule::Equals(yaml::to_json(&rule.value)),
        "oneOf" => match &rule.value.value {
            Value::Seq(items) => Rule::OneOf(items.iter().map(yaml::to_json).collect()),
            _ => return Err(format!("`oneOf` is a list, found {}", rule.value.describe())),
        },
        "prefix" => Rule::Prefix(rule.value.as_str().ok_or("`prefix` is text")?.to_string()),
        other => return Err(format!("unknown rule `{other}` (max, min, equals, oneOf, prefix)")),
    };
    Ok(Limit { field: yaml::parse_path(field_text), field_text: field_text.to_string(), rule, span: item.span })
}
