//! Source texts that diagnostics point into: profile files, `--set` arguments,
//! and other inputs, each with a line index for turning positions into
//! `file:line:column`.
//!
//! This module does no IO: callers read files and hand the text over.

use std::fmt;

/// Identifies one [`Source`] inside a [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct SourceId(pub u32);

/// A position in a source: 1-based line, 1-based column (in characters),
/// and the byte offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
    pub offset: u32,
}

/// A range of text in one source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub source: SourceId,
    pub start: Pos,
    pub end: Pos,
}

impl Span {
    /// A span that covers `self` and `other` (same source assumed).
    pub fn to(self, other: Span) -> Span {
        Span { end: other.end, ..self }
    }
}

/// One named text.
#[derive(Debug)]
pub struct Source {
    pub name: String,
    pub text: String,
    line_starts: Vec<u32>,
}

impl Source {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Source {
        let text = text.into();
        let mut line_starts = vec![0];
        line_starts.extend(text.bytes().enumerate().filter(|&(_, b)| b == b'\n').map(|(i, _)| i as u32 + 1));
        Source { name: name.into(), text, line_starts }
    }

    /// The position of a 1-based line and a 0-based character column.
    pub fn pos(&self, line: usize, char_column: usize) -> Pos {
        let line = line.clamp(1, self.line_starts.len());
        let start = self.line_starts[line - 1] as usize;
        let rest = &self.text[start..];
        let line_text = rest.split('\n').next().unwrap_or("");
        let byte_in_line: usize = line_text.chars().take(char_column).map(char::len_utf8).sum();
        Pos { line: line as u32, column: char_column as u32 + 1, offset: (start + byte_in_line) as u32 }
    }

    /// The byte offset where a 1-based line starts (clamped to the text).
    pub fn line_start(&self, line: usize) -> usize {
        self.line_starts[line.clamp(1, self.line_starts.len()) - 1] as usize
    }

    /// Number of lines (a text ending in a newline has an empty last line).
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// The position of a byte offset (clamped to the text).
    pub fn pos_of_offset(&self, offset: usize) -> Pos {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = match self.line_starts.binary_search(&(offset as u32)) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line] as usize;
        let column = self.text[start..offset].chars().count();
        Pos { line: line as u32 + 1, column: column as u32 + 1, offset: offset as u32 }
    }
}

/// All sources of one run; diagnostics refer to them by [`SourceId`].
#[derive(Debug, Default)]
pub struct SourceMap {
    sources: Vec<Source>,
}

impl SourceMap {
    pub fn add(&mut self, source: Source) -> SourceId {
        self.sources.push(source);
        SourceId(self.sources.len() as u32 - 1)
    }

    pub fn get(&self, id: SourceId) -> &Source {
        &self.sources[id.0 as usize]
    }

    /// How many sources there are: a mark for [`SourceMap::truncate`].
    pub fn len(&self) -> usize {
        self.sources.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }

    /// Forget the sources added after `mark` (a render's extra manifests
    /// and `--set` arguments, once its diagnostics are printed), so that
    /// rendering many environments holds one render's sources at a time.
    pub fn truncate(&mut self, mark: usize) {
        self.sources.truncate(mark);
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters_not_bytes() {
        let s = Source::new("t", "a: 1\nnäme: x\n");
        let p = s.pos(2, 6);
        assert_eq!((p.line, p.column), (2, 7));
        assert_eq!(&s.text[p.offset as usize..p.offset as usize + 1], "x");
        assert_eq!(s.pos_of_offset(p.offset as usize), p);
    }

    #[test]
    fn offsets_past_the_end_are_clamped() {
        let s = Source::new("t", "ab");
        assert_eq!(s.pos_of_offset(99), Pos { line: 1, column: 3, offset: 2 });
    }
}
