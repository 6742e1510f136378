//! Position-keeping YAML: a tree of [`Node`]s that remember where they came
//! from, a parser that builds it with limits ([`parse`]), a serde
//! deserializer over it that reports every problem with its location
//! ([`de`]), and an emitter that writes YAML every reader reads the same
//! way ([`emit`]).

pub mod de;
pub mod emit;
pub mod parse;

use crate::source::Span;

/// A YAML node with its location.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Scalar(Scalar),
    Seq(Vec<Node>),
    Map(Map),
}

/// How a scalar was written; plain scalars are resolved by the reader
/// (number, boolean, null or string), quoted and block scalars are strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Plain,
    Quoted,
    Block,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Scalar {
    pub text: String,
    pub style: Style,
}

/// A mapping: keys are strings, in source order, without duplicates.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Map {
    pub entries: Vec<Entry>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_span: Span,
    pub value: Node,
}

impl Node {
    pub fn scalar(text: impl Into<String>, style: Style, span: Span) -> Node {
        Node { value: Value::Scalar(Scalar { text: text.into(), style }), span }
    }

    pub fn map(entries: Vec<Entry>, span: Span) -> Node {
        Node { value: Value::Map(Map { entries }), span }
    }

    /// A plain `null`, `~` or empty scalar.
    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar(s) if s.style == Style::Plain && is_null_word(&s.text))
    }

    pub fn as_map(&self) -> Option<&Map> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_map_mut(&mut self) -> Option<&mut Map> {
        match &mut self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s) => Some(&s.text),
            _ => None,
        }
    }

    /// What kind of node this is, for messages: "a mapping", "a list", ...
    pub fn describe(&self) -> String {
        match &self.value {
            Value::Map(_) => "a mapping".into(),
            Value::Seq(_) => "a list".into(),
            Value::Scalar(s) if s.style == Style::Plain && is_null_word(&s.text) => "null".into(),
            Value::Scalar(s) => format!("`{}`", truncate(&s.text, 40)),
        }
    }

    /// What the node is, without its text (for files that may hold
    /// anything): `a mapping`, `a list`, `null` or `text`.
    pub fn describe_kind(&self) -> &'static str {
        match &self.value {
            Value::Map(_) => "a mapping",
            Value::Seq(_) => "a list",
            Value::Scalar(s) if s.style == Style::Plain && is_null_word(&s.text) => "null",
            Value::Scalar(_) => "text",
        }
    }

    /// The path of the first scalar (depth first, in order) whose text
    /// satisfies `pred`.
    pub fn find_scalar(&self, pred: &dyn Fn(&str) -> bool) -> Option<Vec<PathSegment>> {
        fn walk(node: &Node, pred: &dyn Fn(&str) -> bool, at: &mut Vec<PathSegment>) -> bool {
            match &node.value {
                Value::Scalar(s) => pred(&s.text),
                Value::Seq(items) => items.iter().enumerate().any(|(i, item)| {
                    at.push(PathSegment::Index(i));
                    let found = walk(item, pred, at);
                    if !found {
                        at.pop();
                    }
                    found
                }),
                Value::Map(m) => m.entries.iter().any(|e| {
                    at.push(PathSegment::Key(e.key.clone()));
                    let found = walk(&e.value, pred, at);
                    if !found {
                        at.pop();
                    }
                    found
                }),
            }
        }
        let mut at = Vec::new();
        walk(self, pred, &mut at).then_some(at)
    }

    /// The node at a dotted path of map keys and list indexes, if present.
    pub fn lookup<'a>(&'a self, path: &[PathSegment]) -> Option<&'a Node> {
        let mut node = self;
        for seg in path {
            node = match (seg, &node.value) {
                (PathSegment::Key(k), Value::Map(m)) => m.get(k)?,
                (PathSegment::Index(i), Value::Seq(items)) => items.get(*i)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// The span of the deepest node along `path` that exists (the key of a
    /// map entry when the path ends at a key), for pointing at problems with
    /// values that were not written.
    pub fn span_of(&self, path: &[PathSegment]) -> Span {
        let mut node = self;
        let mut span = self.span;
        for seg in path {
            match (seg, &node.value) {
                (PathSegment::Key(k), Value::Map(m)) => match m.entry(k) {
                    Some(e) => {
                        span = e.value.span;
                        node = &e.value;
                    }
                    None => return span,
                },
                (PathSegment::Index(i), Value::Seq(items)) => match items.get(*i) {
                    Some(n) => {
                        span = n.span;
                        node = n;
                    }
                    None => return span,
                },
                _ => return span,
            }
        }
        span
    }

    /// The span of the key that ends `path` (the value's span when the path
    /// ends at a list item or the key is missing).
    pub fn key_span_of(&self, path: &[PathSegment]) -> Span {
        if let Some((PathSegment::Key(k), parent)) = path.split_last()
            && let Some(map) = self.lookup(parent).and_then(Node::as_map)
            && let Some(e) = map.entry(k)
        {
            return e.key_span;
        }
        self.span_of(path)
    }

    /// Number of nodes in this tree (for expansion limits).
    pub fn size(&self) -> usize {
        1 + match &self.value {
            Value::Scalar(_) => 0,
            Value::Seq(items) => items.iter().map(Node::size).sum(),
            Value::Map(m) => m.entries.iter().map(|e| e.value.size()).sum(),
        }
    }
}

impl Map {
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.key == key)
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        self.entries.iter_mut().find(|e| e.key == key).map(|e| &mut e.value)
    }

    pub fn remove(&mut self, key: &str) -> Option<Entry> {
        let i = self.entries.iter().position(|e| e.key == key)?;
        Some(self.entries.remove(i))
    }

    /// Insert or replace, keeping the position of an existing key.
    pub fn insert(&mut self, entry: Entry) {
        match self.entries.iter_mut().find(|e| e.key == entry.key) {
            Some(e) => *e = entry,
            None => self.entries.push(entry),
        }
    }
}

/// One step of a field path.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PathSegment {
    Key(String),
    Index(usize),
}

impl From<&str> for PathSegment {
    fn from(s: &str) -> PathSegment {
        PathSegment::Key(s.to_string())
    }
}

impl From<&String> for PathSegment {
    fn from(s: &String) -> PathSegment {
        PathSegment::Key(s.clone())
    }
}

impl From<usize> for PathSegment {
    fn from(i: usize) -> PathSegment {
        PathSegment::Index(i)
    }
}

/// Build a field path: `path!["components", key, "ports"]`.
#[macro_export]
macro_rules! path {
    ($($seg:expr),* $(,)?) => { [$($crate::yaml::PathSegment::from($seg)),*] };
}

/// Format a path the way users write it: `components.web.ports[0].name`.
pub fn format_path(path: &[PathSegment]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            PathSegment::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            PathSegment::Index(i) => {
                out.push('[');
                out.push_str(&i.to_string());
                out.push(']');
            }
        }
    }
    out
}

/// Words a YAML 1.2 core-schema reader takes for null.
pub fn is_null_word(s: &str) -> bool {
    matches!(s, "" | "~" | "null" | "Null" | "NULL")
}

/// Deep-merge `overlay` into `base`: maps merge key by key, lists and scalars
/// replace, and a `null` in the overlay removes the key (back to its
/// default). This is the one merge rule for environments.
///
/// `shorthand` names, for a path, the field a scalar there stands for
/// (`image: nginx` is `image: {reference: nginx}`), so that an overlay
/// mapping can merge into a base written in short form.
pub fn merge(base: &mut Node, overlay: Node, shorthand: &dyn Fn(&[PathSegment]) -> Option<&'static str>) {
    let mut path = Vec::new();
    merge_at(base, overlay, shorthand, &mut path);
}

fn merge_at(
    base: &mut Node,
    overlay: Node,
    shorthand: &dyn Fn(&[PathSegment]) -> Option<&'static str>,
    path: &mut Vec<PathSegment>,
) {
    if matches!(overlay.value, Value::Map(_)) {
        expand_scalar(base, path, shorthand);
    }
    match (&mut base.value, overlay.value) {
        (Value::Map(b), Value::Map(o)) => {
            // Keys of the base, indexed, so that merging is linear.
            let mut index: std::collections::HashMap<String, usize> =
                b.entries.iter().enumerate().map(|(i, e)| (e.key.clone(), i)).collect();
            let mut removed = vec![false; b.entries.len()];
            for entry in o.entries {
                match index.get(&entry.key).copied() {
                    Some(i) if entry.value.is_null() => removed[i] = true,
                    None if entry.value.is_null() => {}
                    Some(i) => {
                        path.push(PathSegment::Key(entry.key));
                        merge_at(&mut b.entries[i].value, entry.value, shorthand, path);
                        path.pop();
                    }
                    None => {
                        index.insert(entry.key.clone(), b.entries.len());
                        removed.push(false);
                        b.entries.push(entry);
                    }
                }
            }
            let mut i = 0;
            b.entries.retain(|_| {
                i += 1;
                !removed[i - 1]
            });
        }
        (_, value) => {
            *base = Node { value, span: overlay.span };
        }
    }
}

/// Turn a short-form scalar at `path` into its mapping form, if `shorthand`
/// says it has one.
pub fn expand_scalar(
    node: &mut Node,
    path: &[PathSegment],
    shorthand: &dyn Fn(&[PathSegment]) -> Option<&'static str>,
) {
    if matches!(node.value, Value::Scalar(_))
        && !node.is_null()
        && let Some(field) = shorthand(path)
    {
        let span = node.span;
        let scalar = std::mem::replace(node, Node::map(Vec::new(), span));
        *node = Node::map(vec![Entry { key: field.to_string(), key_span: span, value: scalar }], span);
    }
}

/// A JSON value as a tree whose every node has `span` (for checking values
/// that were not read from a file with kgen's deserializer). Strings become
/// quoted scalars, so they are never read as numbers or booleans.
pub fn from_json(value: &serde_json::Value, span: Span) -> Node {
    use serde_json::Value as J;
    let scalar = |text: String, style| Node::scalar(text, style, span);
    match value {
        J::Null => scalar("null".into(), Style::Plain),
        J::Bool(b) => scalar(b.to_string(), Style::Plain),
        J::Number(n) => scalar(n.to_string(), Style::Plain),
        J::String(s) => scalar(s.clone(), Style::Quoted),
        J::Array(items) => Node { value: Value::Seq(items.iter().map(|v| from_json(v, span)).collect()), span },
        J::Object(m) => Node::map(
            m.iter().map(|(k, v)| Entry { key: k.clone(), key_span: span, value: from_json(v, span) }).collect(),
            span,
        ),
    }
}

/// A tree as JSON, plain scalars resolved as YAML 1.2's core schema does
/// (null, true/false, integers, floats; everything else a string).
pub fn to_json(node: &Node) -> serde_json::Value {
    use serde_json::Value as J;
    match &node.value {
        Value::Seq(items) => J::Array(items.iter().map(to_json).collect()),
        Value::Map(m) => J::Object(m.entries.iter().map(|e| (e.key.clone(), to_json(&e.value))).collect()),
        Value::Scalar(s) if s.style != Style::Plain => J::String(s.text.clone()),
        Value::Scalar(s) => {
            let t = s.text.as_str();
            if is_null_word(t) {
                J::Null
            } else if matches!(t, "true" | "True" | "TRUE") {
                J::Bool(true)
            } else if matches!(t, "false" | "False" | "FALSE") {
                J::Bool(false)
            } else if let Ok(n) = t.parse::<i64>() {
                J::from(n)
            } else if let Some(f) =
                t.parse::<f64>().ok().filter(|f| f.is_finite() && t.bytes().any(|b| b.is_ascii_digit()))
                && t.bytes().all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
            {
                serde_json::Number::from_f64(f).map(J::Number).unwrap_or_else(|| J::String(t.to_string()))
            } else {
                J::String(t.to_string())
            }
        }
    }
}

/// Parse a path written as [`format_path`] writes it (`a.b[0].c`).
pub fn parse_path(text: &str) -> Vec<PathSegment> {
    let mut out = Vec::new();
    for part in text.split('.').filter(|p| !p.is_empty()) {
        let (key, rest) = part.split_once('[').map(|(k, r)| (k, Some(r))).unwrap_or((part, None));
        if !key.is_empty() {
            out.push(PathSegment::Key(key.to_string()));
        }
        for index in rest.into_iter().flat_map(|r| r.split('[')) {
            match index.trim_end_matches(']').parse() {
                Ok(i) => out.push(PathSegment::Index(i)),
                Err(_) => out.push(PathSegment::Key(index.to_string())),
            }
        }
    }
    out
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{Source, SourceMap};

    fn tree(text: &str) -> Node {
        let mut sources = SourceMap::default();
        let id = sources.add(Source::new("t.yaml", text));
        parse::parse_one(sources.get(id), id, &parse::Limits::default()).unwrap()
    }

    #[test]
    fn merge_maps_merge_lists_replace_null_removes() {
        let mut base = tree("a: {x: 1, y: 2}\nl: [1, 2]\nk: v\n");
        merge(&mut base, tree("a: {y: 3, z: 4}\nl: [9]\nk: ~\n"), &|_| None);
        let a = base.as_map().unwrap().get("a").unwrap().as_map().unwrap();
        let keys: Vec<_> = a.entries.iter().map(|e| (e.key.as_str(), e.value.as_str().unwrap())).collect();
        assert_eq!(keys, [("x", "1"), ("y", "3"), ("z", "4")]);
        let Value::Seq(l) = &base.as_map().unwrap().get("l").unwrap().value else { panic!() };
        assert_eq!(l.len(), 1);
        assert!(base.as_map().unwrap().get("k").is_none());
    }

    #[test]
    fn span_of_falls_back_to_the_deepest_existing_node() {
        let t = tree("a:\n  b: 1\n");
        let path = [PathSegment::Key("a".into()), PathSegment::Key("missing".into())];
        assert_eq!(t.span_of(&path).start.line, 2);
    }

    #[test]
    fn paths_format_like_users_write_them() {
        let p = [PathSegment::Key("ports".into()), PathSegment::Index(0), PathSegment::Key("name".into())];
        assert_eq!(format_path(&p), "ports[0].name");
    }
}
