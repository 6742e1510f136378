//! YAML text to [`Node`] trees, with every node's location.
//!
//! Built on saphyr-parser's event stream. Stricter than YAML requires, on
//! purpose: duplicate keys, non-string keys and unknown tags are errors, and
//! limits on size, nesting depth and alias expansion keep hostile input
//! (billion laughs, deep nesting) from using unbounded time or memory.
//! Merge keys (`<<: *defaults`) are supported.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, Span as YSpan};

use super::{Entry, Map, Node, Style, Value};
use crate::diagnostic::Code;
use crate::diagnostic::{Diagnostic, Errors};
use crate::source::{Pos, Source, SourceId, Span};

/// Bounds on what one YAML text may expand to.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest accepted text, in bytes.
    pub max_bytes: usize,
    /// Deepest accepted nesting of lists and mappings.
    pub max_depth: usize,
    /// Most nodes a document may hold once aliases are expanded.
    pub max_nodes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { max_bytes: 4 << 20, max_depth: 64, max_nodes: 250_000 }
    }
}

/// Parse a text that must hold exactly one document.
pub fn parse_one(source: &Source, id: SourceId, limits: &Limits) -> Result<Node, Errors> {
    let mut docs = parse_all(source, id, limits)?;
    match docs.len() {
        0 => Err(Diagnostic::error(Code::DocumentCount, "the file is empty")
            .at(Some(Span { source: id, ..Span::default() }))
            .hint("a profile needs at least `name:` and `image:`; `kgen init` writes a starter")
            .into()),
        1 => Ok(docs.pop().expect("one document")),
        _ => Err(Diagnostic::error(Code::DocumentCount, "expected one YAML document, found several")
            .at(Some(docs[1].span))
            .hint("a profile is a single document: remove the `---` separators")
            .into()),
    }
}

/// Parse every document of a text.
pub fn parse_all(source: &Source, id: SourceId, limits: &Limits) -> Result<Vec<Node>, Errors> {
    if source.text.len() > limits.max_bytes {
        return Err(too_large(id, limits.max_bytes).into());
    }
    let text = source.text.strip_prefix('\u{feff}').unwrap_or(&source.text);
    let bom = source.text.len() - text.len();
    let mut builder = Builder {
        source,
        id,
        bom,
        limits,
        stack: Vec::new(),
        anchors: HashMap::new(),
        documents: Vec::new(),
        nodes: 0,
        cursor: Cell::new((0, 0, 0)),
    };
    let mut parser = Parser::new_from_str(text);
    while let Some(event) = parser.next_event() {
        match event {
            Ok((event, span)) => builder.event(event, span)?,
            Err(e) => {
                let pos = builder.pos(e.marker());
                let span = Span { source: id, start: pos, end: pos };
                return Err(scan_error(e.info(), &source.text[pos.offset as usize..], limits).at(Some(span)).into());
            }
        }
    }
    Ok(builder.documents)
}

/// The diagnostic for a text over `max_bytes`.
pub fn too_large(id: SourceId, max_bytes: usize) -> Diagnostic {
    let size = crate::files::format_size(max_bytes as u64);
    Diagnostic::error(Code::InputLimit, format!("the text is larger than {size}, the most kgen reads here"))
        .at(Some(Span { source: id, ..Span::default() }))
        .hint("a profile describes an app; large data belongs in the image or a volume")
}

/// A diagnostic for a parser error; `rest` is the text from its position.
fn scan_error(info: &str, rest: &str, limits: &Limits) -> Diagnostic {
    if info.contains("recursion limit") {
        return Diagnostic::error(
            Code::InputLimit,
            format!("the document nests deeper than {} levels", limits.max_depth),
        );
    }
    let d = Diagnostic::error(Code::YamlSyntax, format!("invalid YAML: {info}"));
    if info.contains("tab") {
        d.hint("YAML indentation must use spaces, not tabs")
    } else if info.contains("quoted scalar") {
        d.hint("check that the quote that starts here is closed on the same line, or indent the lines it spans")
    } else if info.contains("unknown anchor") {
        let name: String = rest
            .strip_prefix('*')
            .unwrap_or(rest)
            .chars()
            .take_while(|c| !c.is_whitespace() && !",[]{}".contains(*c))
            .take(40)
            .collect();
        if name.is_empty() {
            d
        } else {
            d.hint(format!("`*{name}` repeats a node marked `&{name}` earlier in the file, and there is none"))
        }
    } else {
        d
    }
}

struct Builder<'a> {
    source: &'a Source,
    id: SourceId,
    bom: usize,
    limits: &'a Limits,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    documents: Vec<Node>,
    /// Nodes in the current document, aliases counted at their full size.
    nodes: usize,
    /// (line, character column, byte offset) of the last position computed.
    cursor: Cell<(usize, usize, usize)>,
}

enum Frame {
    Seq {
        anchor: usize,
        span: Span,
        items: Vec<Node>,
    },
    Map {
        anchor: usize,
        span: Span,
        map: Map,
        key: Option<(String, Span, bool)>,
        merges: Vec<Node>,
        /// The keys so far once the mapping is large (see [`earlier_entry`]).
        seen: HashSet<String>,
    },
}

impl<'a> Builder<'a> {
    /// The position of a parser marker (line and character column). The
    /// byte offset is found by walking from the previous position when it
    /// is on the same line, so that the cost stays linear in the text even
    /// when it is all on one line.
    fn pos(&self, m: &Marker) -> Pos {
        let (line, col) = (m.line(), m.col());
        // Errors at the end of the text point at the end of its last line.
        let text = self.source.text.as_str();
        if line > self.source.line_count() || (line == self.source.line_count() && col == 0 && text.ends_with('\n')) {
            return self.source.pos_of_offset(text.strip_suffix('\n').unwrap_or(text).len());
        }
        // saphyr counts the characters of the text after a stripped BOM,
        // which shifts only the first line.
        let col = if line == 1 && self.bom > 0 { col + 1 } else { col };
        let offset = self.byte_offset(line, col);
        Pos { line: line as u32, column: col as u32 + 1, offset: offset as u32 }
    }

    fn byte_offset(&self, line: usize, col: usize) -> usize {
        let text = self.source.text.as_str();
        let (cursor_line, cursor_col, cursor_byte) = self.cursor.get();
        let (mut c, mut b) = if cursor_line == line && cursor_col <= col {
            (cursor_col, cursor_byte)
        } else {
            (0, self.source.line_start(line))
        };
        while c < col {
            match text[b..].chars().next() {
                Some(ch) if ch != '\n' => b += ch.len_utf8(),
                _ => break,
            }
            c += 1;
        }
        self.cursor.set((line, c, b));
        b
    }

    fn span(&self, s: YSpan) -> Span {
        Span { source: self.id, start: self.pos(&s.start), end: self.pos(&s.end) }
    }

    fn error(&self, message: impl Into<String>, span: Span) -> Errors {
        Diagnostic::error(Code::YamlSyntax, message).at(Some(span)).into()
    }

    fn count(&mut self, n: usize, span: Span) -> Result<(), Errors> {
        self.nodes += n;
        if self.nodes > self.limits.max_nodes {
            return Err(Diagnostic::error(
                Code::InputLimit,
                format!("the document expands to more than {} nodes", self.limits.max_nodes),
            )
            .at(Some(span))
            .hint("aliases (`*name`) that repeat large anchors multiply the document's size")
            .into());
        }
        Ok(())
    }

    fn event(&mut self, event: Event<'_>, ys: YSpan) -> Result<(), Errors> {
        let span = self.span(ys);
        match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
            Event::DocumentStart(_) => {
                self.anchors.clear();
                self.nodes = 0;
            }
            Event::DocumentEnd => {}
            Event::Alias(id) => {
                // Count before copying: a refused alias costs nothing.
                let size = match self.anchors.get(&id) {
                    Some(n) => n.size(),
                    None => return Err(self.error("alias to an unknown anchor", span)),
                };
                self.count(size, span)?;
                let node = Node { span, ..self.anchors[&id].clone() };
                self.complete(node, 0, true)?;
            }
            Event::Scalar(text, style, anchor, tag) => {
                self.count(1, span)?;
                let mut style = match style {
                    ScalarStyle::Plain => Style::Plain,
                    ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => Style::Quoted,
                    ScalarStyle::Literal | ScalarStyle::Folded => Style::Block,
                };
                if let Some(tag) = tag {
                    match core_tag(&tag) {
                        Some("str") => style = Style::Quoted,
                        Some("int" | "float" | "bool" | "null") => {}
                        _ => return Err(unsupported_tag(&tag, span)),
                    }
                }
                let node = Node::scalar(text.into_owned(), style, span);
                self.complete(node, anchor, false)?;
            }
            Event::SequenceStart(anchor, tag) => {
                self.check_collection_tag(tag.as_deref(), "seq", span)?;
                self.count(1, span)?;
                self.push(Frame::Seq { anchor, span, items: Vec::new() }, span)?;
            }
            Event::MappingStart(anchor, tag) => {
                self.check_collection_tag(tag.as_deref(), "map", span)?;
                self.count(1, span)?;
                self.push(
                    Frame::Map {
                        anchor,
                        span,
                        map: Map::default(),
                        key: None,
                        merges: Vec::new(),
                        seen: HashSet::new(),
                    },
                    span,
                )?;
            }
            Event::SequenceEnd => match self.stack.pop() {
                Some(Frame::Seq { anchor, span: start, items }) => {
                    let node = Node { value: Value::Seq(items), span: start.to(span) };
                    self.complete(node, anchor, false)?;
                }
                _ => return Err(self.error("unbalanced YAML sequence", span)),
            },
            Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Map { anchor, span: start, mut map, merges, .. }) => {
                    apply_merges(&mut map, merges);
                    let node = Node { value: Value::Map(map), span: start.to(span) };
                    self.complete(node, anchor, false)?;
                }
                _ => return Err(self.error("unbalanced YAML mapping", span)),
            },
        }
        Ok(())
    }

    fn check_collection_tag(&self, tag: Option<&saphyr_parser::Tag>, expected: &str, span: Span) -> Result<(), Errors> {
        match tag {
            None => Ok(()),
            Some(t) if core_tag(t) == Some(expected) => Ok(()),
            Some(t) => Err(unsupported_tag(t, span)),
        }
    }

    fn push(&mut self, frame: Frame, span: Span) -> Result<(), Errors> {
        if self.stack.len() >= self.limits.max_depth {
            return Err(Diagnostic::error(
                Code::InputLimit,
                format!("the document nests deeper than {} levels", self.limits.max_depth),
            )
            .at(Some(span))
            .into());
        }
        self.stack.push(frame);
        Ok(())
    }

    /// A node is finished: remember its anchor and attach it to its parent.
    fn complete(&mut self, node: Node, anchor: usize, from_alias: bool) -> Result<(), Errors> {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        let Some(frame) = self.stack.last_mut() else {
            self.documents.push(node);
            return Ok(());
        };
        match frame {
            Frame::Seq { items, .. } => items.push(node),
            Frame::Map { map, key, merges, seen, .. } => match key.take() {
                None => {
                    let Value::Scalar(s) = node.value else {
                        return Err(Diagnostic::error(Code::YamlSyntax, "mapping keys must be plain strings")
                            .at(Some(node.span))
                            .into());
                    };
                    let is_merge = s.text == "<<" && s.style == Style::Plain && !from_alias;
                    *key = Some((s.text, node.span, is_merge));
                }
                Some((_, _, true)) => merges.push(node),
                Some((k, key_span, false)) => {
                    if let Some(first) = earlier_entry(map, seen, &k) {
                        let line = first.key_span.start.line;
                        return Err(Diagnostic::error(Code::DuplicateKey, format!("duplicate key `{k}`"))
                            .at(Some(key_span))
                            .hint(format!("`{k}` is already defined on line {line}; keep one of them"))
                            .into());
                    }
                    map.entries.push(Entry { key: k, key_span, value: node });
                }
            },
        }
        Ok(())
    }
}

/// The entry `map` already has for `key`: found by a scan while the map is
/// small, through `seen` (every key so far, built when the map grows past
/// that) after, so that a huge mapping still parses in linear time.
fn earlier_entry<'m>(map: &'m Map, seen: &mut HashSet<String>, key: &str) -> Option<&'m Entry> {
    const SCANNED: usize = 16;
    if map.entries.len() < SCANNED {
        return map.entries.iter().find(|e| e.key == key);
    }
    if seen.is_empty() {
        seen.extend(map.entries.iter().map(|e| e.key.clone()));
    }
    if seen.insert(key.to_string()) { None } else { map.entry(key) }
}

/// Merge keys: entries of `<<` mappings fill in keys the mapping lacks;
/// earlier merge sources win over later ones, explicit keys over all.
fn apply_merges(map: &mut Map, merges: Vec<Node>) {
    if merges.is_empty() {
        return;
    }
    let mut present: HashSet<String> = map.entries.iter().map(|e| e.key.clone()).collect();
    for source in merges {
        let sources = match source.value {
            Value::Seq(items) => items,
            _ => vec![source],
        };
        for s in sources {
            if let Value::Map(m) = s.value {
                for e in m.entries {
                    if present.insert(e.key.clone()) {
                        map.entries.push(e);
                    }
                }
            }
        }
    }
}

fn unsupported_tag(tag: &saphyr_parser::Tag, span: Span) -> Errors {
    let written = match core_tag(tag) {
        Some(suffix) => format!("!!{suffix}"),
        None => format!("{}{}", tag.handle, tag.suffix),
    };
    Diagnostic::error(Code::YamlSyntax, format!("unsupported YAML tag `{written}`"))
        .at(Some(span))
        .hint("kgen reads plain YAML values; remove the tag (`!!str` is the one tag it takes)")
        .into()
}

fn core_tag(tag: &saphyr_parser::Tag) -> Option<&str> {
    (tag.handle == "tag:yaml.org,2002:" || tag.handle == "!!").then_some(tag.suffix.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceMap;

    fn parse(text: &str) -> Result<Vec<Node>, String> {
        let mut sources = SourceMap::default();
        let id = sources.add(Source::new("t.yaml", text));
        let limits = Limits { max_bytes: 10_000, max_depth: 8, max_nodes: 500 };
        parse_all(sources.get(id), id, &limits).map_err(|e| {
            let d = &e.0[0];
            let at = d.span.map(|s| s.start.to_string()).unwrap_or_default();
            format!("{at} {}", d.message)
        })
    }

    fn check_err(text: &str, expected: &str) {
        assert_eq!(parse(text).unwrap_err(), expected, "input: {text:?}");
    }

    #[test]
    fn keeps_positions() {
        let docs = parse("a: 1\nb:\n  c: x\n").unwrap();
        let c = docs[0].as_map().unwrap().get("b").unwrap().as_map().unwrap().get("c").unwrap();
        assert_eq!((c.span.start.line, c.span.start.column), (3, 6));
        assert_eq!(c.as_str(), Some("x"));
    }

    #[test]
    fn rejects_bad_input_with_locations() {
        check_err("a: 1\na: 2\n", "2:1 duplicate key `a`");
        check_err("a: [1\n", "1:6 invalid YAML: while parsing a flow sequence, expected ',' or ']'");
        check_err("? [a]\n: 1\n", "1:3 mapping keys must be plain strings");
        check_err("a: !custom x\n", "1:4 unsupported YAML tag `!custom`");
        check_err("a: *nope\n", "1:4 invalid YAML: while parsing node, found unknown anchor");
        check_err(&"[".repeat(20), "1:9 the document nests deeper than 8 levels");
    }

    #[test]
    fn duplicate_keys_are_found_in_small_and_large_mappings() {
        let keys = |n: usize| (0..n).map(|i| format!("k{i}: {i}\n")).collect::<String>();
        // Within the first keys (scanned), at the threshold, and far past it
        // (through the set of keys).
        for (n, dup, line) in [(5, "k2", 6), (16, "k15", 17), (40, "k3", 41), (40, "k39", 41)] {
            check_err(&format!("{}{dup}: again\n", keys(n)), &format!("{line}:1 duplicate key `{dup}`"));
        }
        assert!(parse(&keys(40)).is_ok());
    }

    #[test]
    fn alias_bombs_hit_the_node_limit() {
        let bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n";
        let err = parse(bomb).unwrap_err();
        assert!(err.ends_with("the document expands to more than 500 nodes"), "{err}");
    }

    #[test]
    fn merge_keys_fill_missing_entries() {
        let docs = parse("base: &b {x: 1, y: 2}\nthis:\n  <<: *b\n  y: 3\n").unwrap();
        let this = docs[0].as_map().unwrap().get("this").unwrap().as_map().unwrap();
        let kv: Vec<_> = this.entries.iter().map(|e| (e.key.as_str(), e.value.as_str().unwrap())).collect();
        assert_eq!(kv, [("y", "3"), ("x", "1")]);
    }

    #[test]
    fn tags_and_styles() {
        let docs = parse("a: !!str 10\nb: 'x'\nc: |\n  z\n").unwrap();
        let m = docs[0].as_map().unwrap();
        let style = |k: &str| match &m.get(k).unwrap().value {
            Value::Scalar(s) => s.style,
            _ => panic!(),
        };
        assert_eq!([style("a"), style("b"), style("c")], [Style::Quoted, Style::Quoted, Style::Block]);
    }

    #[test]
    fn documents_and_empty_files() {
        assert_eq!(parse("").unwrap().len(), 0);
        assert_eq!(parse("a: 1\n---\nb: 2\n").unwrap().len(), 2);
    }
}
