//! Writes any `Serialize` value (typed Kubernetes objects, JSON values) as
//! block-style YAML that YAML 1.1 readers (kubectl, PyYAML) and YAML 1.2
//! readers read back identically, streaming: no intermediate tree.
//!
//! Every string that either reader could take for a boolean, number, date or
//! null (`on`, `no`, `1_000`, `1:30`, `2026-01-01`, `8080`, …) is quoted;
//! multi-line text becomes a literal block.
//!
//! The one key-order rule of kgen's output lives here too, applied by the
//! emitter as it writes and by [`order_json`] to JSON values (the JSON
//! output, diffs): keys keep the value's order, except that a document
//! starts with [`DOCUMENT_LEADS`] and a list item with [`LIST_ITEM_LEADS`]
//! (containers, ports, env read better so).

use std::fmt::Write as _;

use serde::ser::{self, Serialize};

/// The keys a document starts with, in this order (those it has).
pub const DOCUMENT_LEADS: &[&str] = &["apiVersion", "kind", "metadata"];

/// The keys a mapping in a list starts with.
pub const LIST_ITEM_LEADS: &[&str] = &["name"];

/// Apply the key-order rule to a JSON value: the same order the emitter
/// writes, so JSON and YAML output agree.
pub fn order_json(value: &mut serde_json::Value) {
    lead_with(value, DOCUMENT_LEADS);
    items_lead(value);
}

fn items_lead(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Array(items) => {
            for item in items {
                lead_with(item, LIST_ITEM_LEADS);
                items_lead(item);
            }
        }
        serde_json::Value::Object(map) => map.values_mut().for_each(items_lead),
        _ => {}
    }
}

/// Move `leads` (those present) to the front of a JSON mapping, in order.
fn lead_with(value: &mut serde_json::Value, leads: &[&str]) {
    let serde_json::Value::Object(map) = value else {
        return;
    };
    let present = leads.iter().filter(|k| map.contains_key(**k));
    if present.zip(map.keys()).all(|(lead, key)| lead == key) {
        return;
    }
    let mut old = std::mem::take(map);
    for k in leads {
        if let Some(v) = old.shift_remove(*k) {
            map.insert((*k).to_string(), v);
        }
    }
    map.extend(old);
}

/// Append `value` as one YAML document body (no `---`).
pub fn write_document<T: Serialize + ?Sized>(out: &mut String, value: &T) {
    value.serialize(Emitter { out, pos: Pos::Document }).expect("values serialize to YAML");
}

/// The whole value as a YAML string.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> String {
    let mut out = String::new();
    write_document(&mut out, value);
    out
}

fn indent(out: &mut String, n: usize) {
    for _ in 0..n {
        out.push(' ');
    }
}

/// Where a value is written.
#[derive(Clone, Copy, Debug)]
enum Pos {
    /// A whole document.
    Document,
    /// After `key:` of an entry at this indentation.
    MapValue(usize),
    /// After the `-` of a list item at this indentation.
    SeqItem(usize),
}

/// The error type; writing to a String cannot fail, but serde needs one.
#[derive(Debug)]
pub struct Error(String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: std::fmt::Display>(msg: T) -> Error {
        Error(msg.to_string())
    }
}

struct Emitter<'a> {
    out: &'a mut String,
    pos: Pos,
}

impl<'a> Emitter<'a> {
    /// A scalar in its position.
    fn scalar(self, write: impl FnOnce(&mut String, usize)) -> Result<(), Error> {
        let block_indent = match self.pos {
            Pos::Document => 0,
            Pos::MapValue(n) | Pos::SeqItem(n) => {
                self.out.push(' ');
                n + 2
            }
        };
        write(self.out, block_indent);
        self.out.push('\n');
        Ok(())
    }

    fn text(self, s: &str) -> Result<(), Error> {
        self.scalar(|out, block| write_string(out, s, block))
    }

    /// Start a mapping with `len` entries (None: unknown).
    fn map(self, len: Option<usize>) -> Result<MapEmitter<'a>, Error> {
        let (entry_indent, inline_first) = match self.pos {
            Pos::Document => (0, false),
            Pos::MapValue(n) => {
                if len == Some(0) {
                    self.out.push_str(" {}\n");
                } else {
                    self.out.push('\n');
                }
                (n + 2, false)
            }
            Pos::SeqItem(n) => {
                if len == Some(0) {
                    self.out.push_str(" {}\n");
                } else {
                    self.out.push(' ');
                }
                (n + 2, true)
            }
        };
        let start = self.out.len();
        Ok(MapEmitter {
            out: self.out,
            pos: self.pos,
            entry_indent,
            inline_first,
            start,
            count: 0,
            known_empty: len == Some(0),
            leads: match self.pos {
                Pos::Document => DOCUMENT_LEADS,
                Pos::SeqItem(_) => LIST_ITEM_LEADS,
                Pos::MapValue(_) => &[],
            },
            written: [None; DOCUMENT_LEADS.len()],
            key_start: 0,
            lead: None,
        })
    }

    fn seq(self, len: Option<usize>) -> Result<SeqEmitter<'a>, Error> {
        let item_indent = match self.pos {
            Pos::Document => 0,
            Pos::MapValue(n) | Pos::SeqItem(n) => {
                if len == Some(0) {
                    self.out.push_str(" []\n");
                } else {
                    self.out.push('\n');
                }
                n + 2
            }
        };
        Ok(SeqEmitter { out: self.out, pos: self.pos, item_indent, count: 0, known_empty: len == Some(0) })
    }
}

/// A leading entry as written (byte offsets in the output): `line` where
/// its line starts, `key` where its key starts (after the indentation),
/// `end` after its value; `index` is its place among the mapping's entries.
#[derive(Clone, Copy)]
struct Entry {
    index: usize,
    line: usize,
    key: usize,
    end: usize,
}

struct MapEmitter<'a> {
    out: &'a mut String,
    pos: Pos,
    entry_indent: usize,
    /// The first entry shares the line of a list item's `-`.
    inline_first: bool,
    /// Where the first entry starts.
    start: usize,
    count: usize,
    known_empty: bool,
    /// The keys this mapping starts with (by its position), and where
    /// each was written.
    leads: &'static [&'static str],
    written: [Option<Entry>; DOCUMENT_LEADS.len()],
    /// Where the current entry's line starts.
    key_start: usize,
    /// The current entry's place in `leads`, if it leads.
    lead: Option<usize>,
}

impl MapEmitter<'_> {
    fn begin_key(&mut self, key: &str) {
        self.key_start = self.out.len();
        if !self.inline(self.count) {
            indent(self.out, self.entry_indent);
        }
        self.lead = self.leads.iter().position(|lead| *lead == key);
        write_string(self.out, key, usize::MAX);
        self.out.push(':');
    }

    /// Whether entry `index` shares the line of a list item's `-`.
    fn inline(&self, index: usize) -> bool {
        self.inline_first && index == 0
    }

    fn end_value(&mut self) {
        if let Some(rank) = self.lead {
            let line = self.key_start;
            let key = if self.inline(self.count) { line } else { line + self.entry_indent };
            self.written[rank] = Some(Entry { index: self.count, line, key, end: self.out.len() });
        }
        self.count += 1;
    }

    fn finish(self) -> Result<(), Error> {
        if self.count == 0 && !self.known_empty {
            // An unknown-length mapping that turned out empty.
            match self.pos {
                Pos::Document => self.out.push_str("{}\n"),
                Pos::MapValue(_) => {
                    self.out.pop();
                    self.out.push_str(" {}\n");
                }
                Pos::SeqItem(_) => self.out.push_str("{}\n"),
            }
            return Ok(());
        }
        let leads: Vec<Entry> = self.written.iter().flatten().copied().collect();
        if leads.iter().enumerate().all(|(i, e)| e.index == i) {
            return Ok(());
        }
        // The leading entries first, in order (the first takes a list
        // item's `-` line), then the others as they were written.
        let tail = self.out[self.start..].to_string();
        let at = |offset: usize| offset - self.start;
        self.out.truncate(self.start);
        for (i, e) in leads.iter().enumerate() {
            if !self.inline(i) {
                indent(self.out, self.entry_indent);
            }
            self.out.push_str(&tail[at(e.key)..at(e.end)]);
        }
        if self.inline_first && leads.iter().all(|e| e.index != 0) {
            // The entry that had the `-` line gets its indentation.
            indent(self.out, self.entry_indent);
        }
        let mut cuts = leads;
        cuts.sort_by_key(|e| e.line);
        let mut from = 0;
        for e in cuts {
            self.out.push_str(&tail[from..at(e.line)]);
            from = at(e.end);
        }
        self.out.push_str(&tail[from..]);
        Ok(())
    }
}

impl ser::SerializeMap for MapEmitter<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        let key = key.serialize(KeySerializer)?;
        self.begin_key(&key);
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        value.serialize(Emitter { out: self.out, pos: Pos::MapValue(self.entry_indent) })?;
        self.end_value();
        Ok(())
    }

    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeStruct for MapEmitter<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
        self.begin_key(key);
        value.serialize(Emitter { out: self.out, pos: Pos::MapValue(self.entry_indent) })?;
        self.end_value();
        Ok(())
    }

    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeStructVariant for MapEmitter<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
        ser::SerializeStruct::serialize_field(self, key, value)
    }

    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

struct SeqEmitter<'a> {
    out: &'a mut String,
    pos: Pos,
    item_indent: usize,
    count: usize,
    known_empty: bool,
}

impl SeqEmitter<'_> {
    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        indent(self.out, self.item_indent);
        self.out.push('-');
        value.serialize(Emitter { out: self.out, pos: Pos::SeqItem(self.item_indent) })?;
        self.count += 1;
        Ok(())
    }

    fn finish(self) -> Result<(), Error> {
        if self.count == 0 && !self.known_empty {
            match self.pos {
                Pos::Document => self.out.push_str("[]\n"),
                Pos::MapValue(_) | Pos::SeqItem(_) => {
                    self.out.pop();
                    self.out.push_str(" []\n");
                }
            }
        }
        Ok(())
    }
}

impl ser::SerializeSeq for SeqEmitter<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.item(value)
    }

    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeTuple for SeqEmitter<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.item(value)
    }

    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeTupleStruct for SeqEmitter<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.item(value)
    }

    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeTupleVariant for SeqEmitter<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.item(value)
    }

    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl<'a> ser::Serializer for Emitter<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = SeqEmitter<'a>;
    type SerializeTuple = SeqEmitter<'a>;
    type SerializeTupleStruct = SeqEmitter<'a>;
    type SerializeTupleVariant = SeqEmitter<'a>;
    type SerializeMap = MapEmitter<'a>;
    type SerializeStruct = MapEmitter<'a>;
    type SerializeStructVariant = MapEmitter<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.scalar(|out, _| out.push_str(if v { "true" } else { "false" }))
    }

    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        self.scalar(|out, _| {
            let _ = write!(out, "{v}");
        })
    }

    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        self.serialize_u64(u64::from(v))
    }

    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        self.serialize_u64(u64::from(v))
    }

    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        self.serialize_u64(u64::from(v))
    }

    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        self.scalar(|out, _| {
            let _ = write!(out, "{v}");
        })
    }

    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        self.serialize_f64(f64::from(v))
    }

    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        self.scalar(|out, _| write_float(out, v))
    }

    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.text(v.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.text(v)
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        self.text(&String::from_utf8_lossy(v))
    }

    fn serialize_none(self) -> Result<(), Error> {
        self.serialize_unit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Error> {
        self.scalar(|out, _| out.push_str("null"))
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }

    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> Result<(), Error> {
        self.text(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        let mut map = self.map(Some(1))?;
        ser::SerializeMap::serialize_entry(&mut map, variant, value)?;
        ser::SerializeMap::end(map)
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<SeqEmitter<'a>, Error> {
        self.seq(len)
    }

    fn serialize_tuple(self, len: usize) -> Result<SeqEmitter<'a>, Error> {
        self.seq(Some(len))
    }

    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<SeqEmitter<'a>, Error> {
        self.seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        len: usize,
    ) -> Result<SeqEmitter<'a>, Error> {
        self.seq(Some(len))
    }

    fn serialize_map(self, len: Option<usize>) -> Result<MapEmitter<'a>, Error> {
        self.map(len)
    }

    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<MapEmitter<'a>, Error> {
        self.map(Some(len))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        len: usize,
    ) -> Result<MapEmitter<'a>, Error> {
        self.map(Some(len))
    }
}

/// Turns a map key into text.
struct KeySerializer;

impl ser::Serializer for KeySerializer {
    type Ok = String;
    type Error = Error;
    type SerializeSeq = ser::Impossible<String, Error>;
    type SerializeTuple = ser::Impossible<String, Error>;
    type SerializeTupleStruct = ser::Impossible<String, Error>;
    type SerializeTupleVariant = ser::Impossible<String, Error>;
    type SerializeMap = ser::Impossible<String, Error>;
    type SerializeStruct = ser::Impossible<String, Error>;
    type SerializeStructVariant = ser::Impossible<String, Error>;

    fn serialize_str(self, v: &str) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_char(self, v: char) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_bool(self, v: bool) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_i64(self, v: i64) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_u64(self, v: u64) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_i32(self, v: i32) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_u32(self, v: u32) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_i8(self, v: i8) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_i16(self, v: i16) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_u8(self, v: u8) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_u16(self, v: u16) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_f32(self, v: f32) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_f64(self, v: f64) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<String, Error> {
        Ok(variant.to_string())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Result<String, Error> {
        value.serialize(self)
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<String, Error> {
        Err(ser::Error::custom("map keys must be text"))
    }
    fn serialize_none(self) -> Result<String, Error> {
        Err(ser::Error::custom("map keys must be text"))
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<String, Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<String, Error> {
        Err(ser::Error::custom("map keys must be text"))
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<String, Error> {
        Err(ser::Error::custom("map keys must be text"))
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<String, Error> {
        Err(ser::Error::custom("map keys must be text"))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(ser::Error::custom("map keys must be text"))
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
        Err(ser::Error::custom("map keys must be text"))
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeTupleStruct, Error> {
        Err(ser::Error::custom("map keys must be text"))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(ser::Error::custom("map keys must be text"))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(ser::Error::custom("map keys must be text"))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Error> {
        Err(ser::Error::custom("map keys must be text"))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(ser::Error::custom("map keys must be text"))
    }
}

/// Floats as YAML 1.1 and 1.2 both read them: a dot, and a signed exponent.
fn write_float(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str(".nan");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { ".inf" } else { "-.inf" });
    } else {
        let text = v.to_string();
        out.push_str(&text);
        if !text.contains('.') {
            out.push_str(".0");
        }
    }
}

/// A string as a plain scalar when that is safe, a literal block for
/// multi-line text (`block_indent` = usize::MAX forbids blocks, for keys),
/// double-quoted otherwise.
fn write_string(out: &mut String, s: &str, block_indent: usize) {
    if is_plain_safe(s) {
        out.push_str(s);
    } else if block_indent != usize::MAX && is_block_safe(s) {
        let body = s.strip_suffix('\n');
        out.push_str(if body.is_some() { "|" } else { "|-" });
        for line in body.unwrap_or(s).split('\n') {
            out.push('\n');
            if !line.is_empty() {
                indent(out, block_indent);
                out.push_str(line);
            }
        }
    } else {
        write_double_quoted(out, s);
    }
}

fn write_double_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            '\u{85}' => out.push_str("\\N"),
            '\u{a0}' => out.push_str("\\_"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if (c as u32) < 0x20 || (0x7f..=0x9f).contains(&(c as u32)) => {
                out.push_str(&format!("\\x{:02X}", c as u32));
            }
            c if is_special_unicode(c) => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn is_special_unicode(c: char) -> bool {
    matches!(c, '\u{feff}' | '\u{fffe}' | '\u{ffff}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}')
}

/// Words YAML 1.1 or 1.2 readers take for booleans, null or special floats
/// (compared without case).
const AMBIGUOUS_WORDS: &[&str] =
    &["y", "yes", "n", "no", "true", "false", "on", "off", "null", "~", "=", "<<", ".inf", "+.inf", "-.inf", ".nan"];

/// True when `s` reads back as this same string, unquoted, in YAML 1.1 and
/// 1.2 (block context). Errs on the side of quoting.
pub fn is_plain_safe(s: &str) -> bool {
    let b = s.as_bytes();
    let (Some(&first), Some(&last)) = (b.first(), b.last()) else {
        return false;
    };
    if first == b' ' || last == b' ' || b"-?:,[]{}#&*!|>'\"%@`".contains(&first) {
        return false;
    }
    for (i, &c) in b.iter().enumerate() {
        if !NEEDS_A_LOOK[usize::from(c)] {
            continue;
        }
        match c {
            b'#' if i > 0 && b[i - 1] == b' ' => return false,
            b':' if b.get(i + 1).is_none_or(|&n| n == b' ') => return false,
            b'#' | b':' => {}
            0x80.. => return is_plain_safe_unicode(s),
            _ => return false,
        }
    }
    !is_ambiguous(s)
}

/// Bytes [`is_plain_safe`] must look at more closely: control characters,
/// DEL, non-ASCII, `#` and `:`.
static NEEDS_A_LOOK: [bool; 256] = {
    let mut table = [false; 256];
    let mut c = 0;
    while c < 256 {
        table[c] = c < 0x20 || c >= 0x7f || c == b'#' as usize || c == b':' as usize;
        c += 1;
    }
    table
};

/// Words and numbers (in every base and notation, sexagesimal) and dates.
fn is_ambiguous(s: &str) -> bool {
    let b = s.as_bytes();
    let first = b[0];
    // Every ambiguous word starts with one of these (in either case).
    let word_start = matches!(first | 0x20, b'y' | b'n' | b't' | b'f' | b'o') || b"~=<.+-".contains(&first);
    if word_start && s.len() <= 5 && AMBIGUOUS_WORDS.iter().any(|w| w.eq_ignore_ascii_case(s)) {
        return true;
    }
    if first.is_ascii_digit() || first == b'+' || first == b'.' {
        if b.iter().all(|c| c.is_ascii_hexdigit() || b"_.:+-xXoObB".contains(c)) {
            return true;
        }
        if b.len() >= 8 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' {
            return true;
        }
    }
    false
}

/// [`is_plain_safe`] for text with non-ASCII characters.
fn is_plain_safe_unicode(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    let last = s.chars().next_back().unwrap_or(first);
    if first.is_whitespace() || last.is_whitespace() || "-?:,[]{}#&*!|>'\"%@`".contains(first) {
        return false;
    }
    let mut prev = ' ';
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_control() || is_special_unicode(c) || matches!(c, '\u{85}' | '\u{a0}' | '\u{2028}' | '\u{2029}') {
            return false;
        }
        if c == '#' && prev.is_whitespace() {
            return false;
        }
        if c == ':' && chars.peek().is_none_or(|n| n.is_whitespace()) {
            return false;
        }
        prev = c;
    }
    !is_ambiguous(s)
}

/// True when `s` can be written as a literal block and read back unchanged:
/// several lines, the first not empty nor indented, no trailing blanks on
/// any line, no control characters but tabs, at most one final newline.
fn is_block_safe(s: &str) -> bool {
    let body = s.strip_suffix('\n').unwrap_or(s);
    let b = body.as_bytes();
    if b.is_empty() || matches!(b[0], b' ' | b'\t' | b'\n') || matches!(b[b.len() - 1], b' ' | b'\t' | b'\n') {
        return false;
    }
    // The first byte is neither blank nor a line break (checked above), so
    // the text is not all blank.
    let mut lines = 1;
    let mut unicode = false;
    for (i, &c) in b.iter().enumerate() {
        if c >= 0x20 && c != 0x7f {
            unicode |= c >= 0x80;
            continue;
        }
        match c {
            b'\n' if matches!(b[i - 1], b' ' | b'\t') => return false,
            b'\n' => lines += 1,
            b'\t' => {}
            _ => return false,
        }
    }
    if lines < 2 && body.len() == s.len() {
        return false;
    }
    !unicode
        || !s.chars().any(|c| {
            is_special_unicode(c)
                || matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}')
                || (c.is_control() && c != '\n' && c != '\t')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quotes_what_yaml_1_1_would_misread() {
        for s in [
            "on",
            "off",
            "yes",
            "no",
            "y",
            "n",
            "NO",
            "True",
            "null",
            "~",
            "",
            "1_000",
            "1:30",
            "2026-01-01",
            "8080",
            "1.4.2",
            "0x1F",
            "1e3",
            "-1",
            ".5",
            "+1",
            "=",
            "<<",
            ".inf",
            "- x",
            "a: b",
            "a #b",
            "x:",
            "*ref",
            "&a",
            "!tag",
            "%x",
            "@x",
            "`x",
            "{a}",
            "[a]",
            " lead",
            "trail ",
            "tab\there",
            "2026-01-01T10:00:00Z",
        ] {
            assert!(!is_plain_safe(s), "{s:?} must be quoted");
        }
        for s in [
            "nginx",
            "10Gi",
            "100m",
            "/healthz",
            "v1.2.3",
            "app.kubernetes.io/name",
            "http",
            "a:b",
            "a#b",
            "ClusterIP",
            "postgres://h:5432/db",
        ] {
            assert!(is_plain_safe(s), "{s:?} can stay plain");
        }
    }

    #[test]
    fn writes_nested_block_yaml() {
        let v = json!({
            "kind": "Pod",
            "metadata": {"name": "x", "labels": {"on": "yes"}},
            "spec": {"containers": [{"name": "a", "args": ["-c", "8080"], "env": []}], "empty": {}},
            "data": {"script.sql": "CREATE TABLE t;\nSELECT 1;\n", "nonl": "a\nb"},
            "n": 1.5, "big": 3.0, "t": true, "z": null
        });
        let expected = "\
kind: Pod
metadata:
  name: x
  labels:
    \"on\": \"yes\"
spec:
  containers:
    - name: a
      args:
        - \"-c\"
        - \"8080\"
      env: []
  empty: {}
data:
  script.sql: |
    CREATE TABLE t;
    SELECT 1;
  nonl: |-
    a
    b
\"n\": 1.5
big: 3.0
t: true
z: null
";
        assert_eq!(to_string(&v), expected);
    }

    #[test]
    fn metadata_follows_kind_and_names_come_first_in_list_items() {
        let v = json!({
            "apiVersion": "v1", "kind": "X", "data": {"a": "b"}, "metadata": {"name": "m"},
            "items": [
                {"image": "i", "name": "c", "ports": [{"containerPort": 1, "name": "http"}], "z": "last"},
                {"name": "first", "x": 1},
                {"a": "1", "name": "line\nbreak"}
            ]
        });
        let expected = "\
apiVersion: v1
kind: X
metadata:
  name: m
data:
  a: b
items:
  - name: c
    image: i
    ports:
      - name: http
        containerPort: 1
    z: last
  - name: first
    x: 1
  - name: |-
      line
      break
    a: \"1\"
";
        assert_eq!(to_string(&v), expected);
    }

    #[test]
    fn leading_keys_move_in_order_from_anywhere() {
        let v = json!({
            "spec": {"metadata": "stays", "name": "stays"},
            "metadata": {"name": "m", "labels": {}},
            "kind": "K",
            "list": [
                {"name": "n1"},
                {"a": 1, "b": {"c": 2}, "name": "n2"},
                {"a": [{"x": 1, "name": "inner"}]},
                [{"b": 1, "name": "nested"}]
            ],
            "apiVersion": "v1"
        });
        let expected = "\
apiVersion: v1
kind: K
metadata:
  name: m
  labels: {}
spec:
  metadata: stays
  name: stays
list:
  - name: n1
  - name: n2
    a: 1
    b:
      c: 2
  - a:
      - name: inner
        x: 1
  -
    - name: nested
      b: 1
";
        assert_eq!(to_string(&v), expected);
    }

    /// JSON output and YAML output follow the one rule: the YAML the
    /// emitter writes reads back with its keys in the order `order_json`
    /// gives the JSON.
    #[test]
    fn json_and_yaml_order_agree() {
        let values = [
            json!({"kind": "K", "x": [{"b": 1, "name": "n"}], "metadata": {}, "apiVersion": "v"}),
            json!({"metadata": {"name": "m"}, "kind": "K", "rest": [[{"a": true, "name": "x"}]]}),
            json!([{"z": 1, "name": "a"}, {"name": "b"}, {"y": [{"q": 1, "name": "c"}]}]),
            json!({"data": {"name": "not-a-list-item", "a": 1}, "apiVersion": "v"}),
        ];
        for v in values {
            let text = to_string(&v);
            let mut sources = crate::source::SourceMap::default();
            let id = sources.add(crate::source::Source::new("emitted", text.clone()));
            let node = crate::yaml::parse::parse_one(sources.get(id), id, &Default::default())
                .unwrap_or_else(|_| panic!("the emitter's YAML parses: {text}"));
            let mut ordered = v.clone();
            order_json(&mut ordered);
            assert_eq!(
                serde_json::to_string(&crate::yaml::to_json(&node)).unwrap(),
                serde_json::to_string(&ordered).unwrap(),
                "{text}"
            );
        }
    }

    #[test]
    fn escapes_control_characters() {
        assert_eq!(to_string(&json!("a\u{7}\"\\")), "\"a\\x07\\\"\\\\\"\n");
        assert_eq!(to_string(&json!("two\n\nnewlines\n\n")), "\"two\\n\\nnewlines\\n\\n\"\n");
    }

    #[test]
    fn lists_of_lists_and_empty_strings() {
        assert_eq!(to_string(&json!({"a": [[1, 2], []], "b": ""})), "a:\n  -\n    - 1\n    - 2\n  - []\nb: \"\"\n");
    }
}
