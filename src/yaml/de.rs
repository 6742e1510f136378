//! A serde deserializer over [`Node`] trees that keeps going after the first
//! problem and reports each one with its location and field path.
//!
//! It is strict where YAML readers usually guess: only `true`/`false` are
//! booleans, numbers must be written as numbers, and unknown fields are
//! errors with a "did you mean" hint. A plain scalar given where a string is
//! expected is taken as written (`tag: 1.10` is the string "1.10"), which is
//! what makes `--set image.tag=1.10` typed by the profile's schema.
//!
//! After a problem it records a diagnostic and hands the visitor a neutral
//! value (0, false, empty) so that the rest of the document is still checked;
//! the result is then discarded and every diagnostic returned.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};

use super::{Node, PathSegment, Style, Value, format_path, is_null_word};
use crate::diagnostic::Code;
use crate::diagnostic::{Diagnostic, Errors, MAX_DIAGNOSTICS, did_you_mean, more_problems};

/// Settings and the diagnostics sink for one deserialization.
#[derive(Default)]
pub struct Context {
    errors: RefCell<Vec<Diagnostic>>,
    /// Errors past [`MAX_DIAGNOSTICS`], counted but not kept.
    dropped: std::cell::Cell<usize>,
    /// Paths starting with this prefix are shown without it (the profile's
    /// single-component shorthand is stored under `components.<name>`).
    pub hidden_prefix: Vec<PathSegment>,
    /// Extra field names to suggest for unknown keys, by struct name.
    pub extra_fields: Vec<(&'static str, Vec<&'static str>)>,
    /// Structs that may be written as one scalar, and the field it sets:
    /// (struct name, field name).
    pub shorthands: &'static [(&'static str, &'static str)],
}

/// The newtype-struct name that asks for a scalar's text or a list of texts
/// (never a number or boolean); see `profile::SettingValue`.
pub const TEXT_OR_LIST: &str = "$kgen::TextOrList";

impl Context {
    pub fn new(shorthands: &'static [(&'static str, &'static str)]) -> Context {
        Context { shorthands, ..Context::default() }
    }

    fn record(&self, d: Diagnostic) {
        let mut errors = self.errors.borrow_mut();
        if errors.len() < MAX_DIAGNOSTICS {
            errors.push(d);
        } else {
            self.dropped.set(self.dropped.get() + 1);
        }
    }

    fn display(&self, path: &Path<'_>) -> String {
        let mut segs = Vec::new();
        path.collect(&mut segs);
        let shown = match segs.strip_prefix(self.hidden_prefix.as_slice()) {
            Some(rest) if !self.hidden_prefix.is_empty() => rest,
            _ => &segs,
        };
        format_path(shown)
    }
}

/// Deserialize `node` into `T`, reporting every problem found.
pub fn from_node<T: de::DeserializeOwned>(node: &Node, ctx: &Context) -> Result<T, Errors> {
    let result = T::deserialize(NodeDe { node, path: &Path::Root, ctx });
    let mut errors = ctx.errors.take();
    errors.sort_by_key(|d| d.span.map(|s| (s.source, s.start.offset)));
    if ctx.dropped.get() > 0 {
        errors.push(more_problems(ctx.dropped.get()));
    }
    match result {
        Ok(value) if errors.is_empty() => Ok(value),
        Ok(_) => Err(Errors(errors)),
        Err(e) => {
            if !e.recorded {
                errors.push(Diagnostic::error(Code::FieldType, e.message).at(Some(node.span)));
            }
            Err(Errors(errors))
        }
    }
}

/// The path to the node being read, as a linked list on the stack.
#[derive(Clone, Copy)]
enum Path<'a> {
    Root,
    Key(&'a str, &'a Path<'a>),
    Index(usize, &'a Path<'a>),
}

impl Path<'_> {
    fn collect(&self, out: &mut Vec<PathSegment>) {
        match *self {
            Path::Root => {}
            Path::Key(k, parent) => {
                parent.collect(out);
                out.push(PathSegment::Key(k.to_string()));
            }
            Path::Index(i, parent) => {
                parent.collect(out);
                out.push(PathSegment::Index(i));
            }
        }
    }
}

/// The error type seen by visitors; `recorded` means a diagnostic for it is
/// already in the context.
#[derive(Debug)]
pub struct Error {
    message: String,
    recorded: bool,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Error {
        Error { message: msg.to_string(), recorded: false }
    }
}

struct NodeDe<'de, 'p> {
    node: &'de Node,
    path: &'p Path<'p>,
    ctx: &'p Context,
}

impl<'de, 'p> NodeDe<'de, 'p> {
    fn report(&self, message: impl Into<String>, hint: Option<String>) {
        let mut d =
            Diagnostic::error(Code::FieldType, message).at(Some(self.node.span)).path(self.ctx.display(self.path));
        if let Some(h) = hint {
            d = d.hint(h);
        }
        self.ctx.record(d);
    }

    /// Record a visitor's own error at this node, once.
    fn settle<T>(&self, result: Result<T, Error>) -> Result<T, Error> {
        result.map_err(|e| {
            if !e.recorded {
                self.report(e.message.clone(), None);
            }
            Error { recorded: true, ..e }
        })
    }

    fn plain(&self) -> Option<&'de str> {
        match &self.node.value {
            Value::Scalar(s) if s.style == Style::Plain => Some(&s.text),
            _ => None,
        }
    }

    fn found(&self) -> String {
        match &self.node.value {
            Value::Scalar(s) if s.style != Style::Plain => format!("the string \"{}\"", s.text),
            _ => self.node.describe(),
        }
    }

    fn integer<V: Visitor<'de>>(self, visitor: V, min: i128, max: i128, what: &str) -> Result<V::Value, Error> {
        let parsed = self.plain().and_then(parse_int);
        let value = match parsed {
            Some(n) if n >= min && n <= max => n,
            Some(n) => {
                let why = if n < 0 && min == 0 {
                    "this field cannot be negative".to_string()
                } else if n < min {
                    format!("the smallest allowed is {min}")
                } else {
                    format!("the largest allowed is {max}")
                };
                self.report(format!("{} is out of range: {why}", self.found()), None);
                0
            }
            None if self.plain().is_some_and(is_overlong_int) => {
                self.report(format!("{} is out of range: the largest allowed is {max}", self.found()), None);
                0
            }
            None => {
                let hint = match &self.node.value {
                    Value::Scalar(s) if s.style == Style::Quoted && parse_int(&s.text).is_some() => {
                        Some("remove the quotes: this field is a number".to_string())
                    }
                    _ => None,
                };
                self.report(format!("expected {what}, found {}", self.found()), hint);
                0
            }
        };
        let r = if min < 0 { visitor.visit_i64(value as i64) } else { visitor.visit_u64(value as u64) };
        self.settle(r)
    }

    fn text_for_string(&self) -> Option<&'de str> {
        match &self.node.value {
            Value::Scalar(s) if !(s.style == Style::Plain && is_null_word(&s.text)) => Some(&s.text),
            _ => None,
        }
    }
}

fn parse_int(text: &str) -> Option<i128> {
    let (neg, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let n = if let Some(hex) = digits.strip_prefix("0x") {
        i128::from_str_radix(hex, 16).ok()?
    } else if let Some(oct) = digits.strip_prefix("0o") {
        i128::from_str_radix(oct, 8).ok()?
    } else if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().ok()?
    } else {
        return None;
    };
    Some(if neg { -n } else { n })
}

/// Decimal digits too many for `parse_int` (an integer, but a huge one).
fn is_overlong_int(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    digits.len() > 18 && digits.bytes().all(|b| b.is_ascii_digit())
}

fn parse_float(text: &str) -> Option<f64> {
    match text {
        ".inf" | ".Inf" | ".INF" | "+.inf" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    let ok =
        text.bytes().all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b)) && text.bytes().any(|b| b.is_ascii_digit());
    if ok { text.parse().ok() } else { None }
}

fn is_true(s: &str) -> bool {
    matches!(s, "true" | "True" | "TRUE")
}

fn is_false(s: &str) -> bool {
    matches!(s, "false" | "False" | "FALSE")
}

macro_rules! integer_methods {
    ($($method:ident: $ty:ty, $what:expr;)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            self.integer(visitor, <$ty>::MIN as i128, <$ty>::MAX as i128, $what)
        }
    )*};
}

impl<'de, 'p> de::Deserializer<'de> for NodeDe<'de, 'p> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let result = match &self.node.value {
            Value::Seq(items) => {
                visitor.visit_seq(SeqAccess { items: items.iter().enumerate(), path: self.path, ctx: self.ctx })
            }
            Value::Map(m) => visitor.visit_map(MapAccess::new(&m.entries, self.path, self.ctx, None)),
            Value::Scalar(s) if s.style != Style::Plain => visitor.visit_str(&s.text),
            Value::Scalar(s) => {
                let t = s.text.as_str();
                if is_null_word(t) {
                    visitor.visit_unit()
                } else if is_true(t) {
                    visitor.visit_bool(true)
                } else if is_false(t) {
                    visitor.visit_bool(false)
                } else if let Some(n) = parse_int(t) {
                    if let Ok(n) = i64::try_from(n) {
                        visitor.visit_i64(n)
                    } else if let Ok(n) = u64::try_from(n) {
                        visitor.visit_u64(n)
                    } else {
                        visitor.visit_str(t)
                    }
                } else if let Some(f) = parse_float(t) {
                    visitor.visit_f64(f)
                } else {
                    visitor.visit_str(t)
                }
            }
        };
        self.settle(result)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let value = match self.plain() {
            Some(t) if is_true(t) => true,
            Some(t) if is_false(t) => false,
            other => {
                let hint = match other.map(str::to_ascii_lowercase).as_deref() {
                    Some("yes" | "no" | "on" | "off" | "y" | "n") => Some(
                        "YAML 1.1 words such as `yes` and `on` are not booleans here: write true or false".to_string(),
                    ),
                    _ if matches!(&self.node.value, Value::Scalar(s) if s.style == Style::Quoted) => {
                        Some("remove the quotes: this field is true or false".to_string())
                    }
                    _ => None,
                };
                self.report(format!("expected true or false, found {}", self.found()), hint);
                false
            }
        };
        let r = visitor.visit_bool(value);
        self.settle(r)
    }

    integer_methods! {
        deserialize_i8: i8, "a whole number";
        deserialize_i16: i16, "a whole number";
        deserialize_i32: i32, "a whole number";
        deserialize_i64: i64, "a whole number";
        deserialize_u8: u8, "a whole number";
        deserialize_u16: u16, "a whole number";
        deserialize_u32: u32, "a whole number";
        deserialize_u64: u64, "a whole number";
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let value = match self.plain().and_then(|t| parse_float(t).or_else(|| parse_int(t).map(|n| n as f64))) {
            Some(f) => f,
            None => {
                self.report(format!("expected a number, found {}", self.found()), None);
                0.0
            }
        };
        let r = visitor.visit_f64(value);
        self.settle(r)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.text_for_string() {
            Some(t) => {
                let r = visitor.visit_str(t);
                self.settle(r)
            }
            None => {
                let hint = self.node.is_null().then(|| "write a value, or `\"\"` for an empty string".to_string());
                self.report(format!("expected a string, found {}", self.found()), hint);
                let r = visitor.visit_str("");
                self.settle(r)
            }
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.node.is_null() { visitor.visit_none() } else { visitor.visit_some(self) }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if !self.node.is_null() {
            self.report(format!("expected nothing (null), found {}", self.found()), None);
        }
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, Error> {
        if name != TEXT_OR_LIST {
            return visitor.visit_newtype_struct(self);
        }
        let r = match &self.node.value {
            _ if self.node.is_null() => visitor.visit_unit(),
            Value::Scalar(s) => visitor.visit_str(&s.text),
            Value::Seq(_) => return self.deserialize_seq(visitor),
            Value::Map(_) => {
                self.report(format!("expected text or a list, found {}", self.found()), None);
                visitor.visit_unit()
            }
        };
        self.settle(r)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let items: &'de [Node] = match &self.node.value {
            Value::Seq(items) => items,
            _ if self.node.is_null() => &[],
            _ => {
                self.report(format!("expected a list, found {}", self.found()), None);
                &[]
            }
        };
        let r = visitor.visit_seq(SeqAccess { items: items.iter().enumerate(), path: self.path, ctx: self.ctx });
        self.settle(r)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let entries: &'de [super::Entry] = match &self.node.value {
            Value::Map(m) => &m.entries,
            _ if self.node.is_null() => &[],
            _ => {
                self.report(format!("expected a mapping, found {}", self.found()), None);
                &[]
            }
        };
        let r = visitor.visit_map(MapAccess::new(entries, self.path, self.ctx, None));
        self.settle(r)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let fields = Some((name, fields));
        let r = match &self.node.value {
            Value::Map(m) => visitor.visit_map(MapAccess::new(&m.entries, self.path, self.ctx, fields)),
            _ if self.node.is_null() => visitor.visit_map(MapAccess::new(&[], self.path, self.ctx, fields)),
            Value::Scalar(_) if let Some(&(_, field)) = self.ctx.shorthands.iter().find(|(n, _)| *n == name) => visitor
                .visit_map(ShorthandAccess { field: Some(field), node: self.node, path: self.path, ctx: self.ctx }),
            Value::Scalar(s) => {
                // Types with their own shorthand visitor accept a string; for
                // every other struct this is a type error.
                visitor.visit_str::<Error>(&s.text).map_err(|e| {
                    if e.message.starts_with("invalid type") {
                        self.report(format!("expected a mapping, found {}", self.found()), None);
                    } else {
                        self.report(e.message, None);
                    }
                    Error { message: String::new(), recorded: true }
                })
            }
            Value::Seq(_) => {
                self.report(format!("expected a mapping, found {}", self.found()), None);
                Err(Error { message: String::new(), recorded: true })
            }
        };
        self.settle(r)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match &self.node.value {
            Value::Scalar(s) if !self.node.is_null() => {
                let chosen = if variants.contains(&s.text.as_str()) {
                    s.text.as_str()
                } else {
                    let hint = match did_you_mean(&s.text, variants.iter().copied()) {
                        Some(m) => format!("did you mean `{m}`?"),
                        None => format!("expected one of: {}", variants.join(", ")),
                    };
                    self.report(format!("unknown value {}", self.found()), Some(hint));
                    variants.first().copied().unwrap_or("")
                };
                let r = visitor.visit_enum(chosen.into_deserializer());
                self.settle(r)
            }
            Value::Map(m) if m.entries.len() == 1 => {
                let entry = &m.entries[0];
                let r = visitor.visit_enum(EnumAccess { node: self.node, entry, path: self.path, ctx: self.ctx });
                self.settle(r)
            }
            _ => {
                self.report(format!("expected one of {}, found {}", variants.join(", "), self.found()), None);
                Err(Error { message: String::new(), recorded: true })
            }
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }
}

struct SeqAccess<'de, 'p> {
    items: std::iter::Enumerate<std::slice::Iter<'de, Node>>,
    path: &'p Path<'p>,
    ctx: &'p Context,
}

impl<'de> de::SeqAccess<'de> for SeqAccess<'de, '_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Error> {
        match self.items.next() {
            None => Ok(None),
            Some((i, node)) => {
                let path = Path::Index(i, self.path);
                seed.deserialize(NodeDe { node, path: &path, ctx: self.ctx }).map(Some)
            }
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct MapAccess<'de, 'p> {
    entries: std::slice::Iter<'de, super::Entry>,
    current: Option<&'de super::Entry>,
    path: &'p Path<'p>,
    ctx: &'p Context,
    fields: Option<(&'static str, &'static [&'static str])>,
}

impl<'de, 'p> MapAccess<'de, 'p> {
    fn new(
        entries: &'de [super::Entry],
        path: &'p Path<'p>,
        ctx: &'p Context,
        fields: Option<(&'static str, &'static [&'static str])>,
    ) -> MapAccess<'de, 'p> {
        MapAccess { entries: entries.iter(), current: None, path, ctx, fields }
    }

    fn unknown_field(&self, entry: &super::Entry, struct_name: &str, fields: &[&'static str]) {
        let extra =
            self.ctx.extra_fields.iter().filter(|(n, _)| *n == struct_name).flat_map(|(_, f)| f.iter().copied());
        let candidates: Vec<&str> = fields.iter().copied().chain(extra).collect();
        let hint = match did_you_mean(&entry.key, candidates.iter().copied()) {
            Some(m) => format!("did you mean `{m}`?"),
            None if fields.len() <= 12 => format!("expected one of: {}", fields.join(", ")),
            None => "`kgen schema` lists every field".to_string(),
        };
        let path = Path::Key(&entry.key, self.path);
        let where_ = match self.ctx.display(self.path) {
            p if p.is_empty() => String::new(),
            p => format!(" in `{p}`"),
        };
        self.ctx.record(
            Diagnostic::error(Code::UnknownField, format!("unknown field `{}`{where_}", entry.key))
                .at(Some(entry.key_span))
                .path(self.ctx.display(&path))
                .hint(hint),
        );
    }
}

impl<'de> de::MapAccess<'de> for MapAccess<'de, '_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Error> {
        while let Some(entry) = self.entries.next() {
            if let Some((name, fields)) = self.fields
                && !fields.contains(&entry.key.as_str())
            {
                self.unknown_field(entry, name, fields);
                continue;
            }
            self.current = Some(entry);
            let key: de::value::BorrowedStrDeserializer<'de, Error> =
                de::value::BorrowedStrDeserializer::new(&entry.key);
            return seed.deserialize(key).map(Some);
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let entry = self.current.take().expect("next_value after next_key");
        let path = Path::Key(&entry.key, self.path);
        seed.deserialize(NodeDe { node: &entry.value, path: &path, ctx: self.ctx })
    }
}

/// A scalar read as a mapping with one field (see `Context::shorthands`).
struct ShorthandAccess<'de, 'p> {
    field: Option<&'static str>,
    node: &'de Node,
    path: &'p Path<'p>,
    ctx: &'p Context,
}

impl<'de> de::MapAccess<'de> for ShorthandAccess<'de, '_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Error> {
        match self.field {
            Some(f) => seed.deserialize(de::value::BorrowedStrDeserializer::<Error>::new(f)).map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        self.field = None;
        seed.deserialize(NodeDe { node: self.node, path: self.path, ctx: self.ctx })
    }
}

/// A variant written as a mapping with one entry, `{Variant: value}`.
struct EnumAccess<'de, 'p> {
    node: &'de Node,
    entry: &'de super::Entry,
    path: &'p Path<'p>,
    ctx: &'p Context,
}

impl<'de, 'p> de::EnumAccess<'de> for EnumAccess<'de, 'p> {
    type Error = Error;
    type Variant = VariantAccess<'de, 'p>;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, VariantAccess<'de, 'p>), Error> {
        let key: de::value::BorrowedStrDeserializer<'de, Error> =
            de::value::BorrowedStrDeserializer::new(&self.entry.key);
        let v = seed.deserialize(key)?;
        Ok((v, VariantAccess { node: self.node, entry: self.entry, path: self.path, ctx: self.ctx }))
    }
}

struct VariantAccess<'de, 'p> {
    node: &'de Node,
    entry: &'de super::Entry,
    path: &'p Path<'p>,
    ctx: &'p Context,
}

impl<'de> de::VariantAccess<'de> for VariantAccess<'de, '_> {
    type Error = Error;

    /// A variant without a value is written alone (`pullPolicy: Always`),
    /// never as a mapping whose value would be dropped.
    fn unit_variant(self) -> Result<(), Error> {
        let key = &self.entry.key;
        self.ctx.record(
            Diagnostic::error(Code::FieldType, format!("expected `{key}` alone, found a mapping"))
                .at(Some(self.node.span))
                .path(self.ctx.display(self.path))
                .hint(format!("write the value by itself: `{key}`")),
        );
        Err(Error { message: String::new(), recorded: true })
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
        let path = Path::Key(&self.entry.key, self.path);
        seed.deserialize(NodeDe { node: &self.entry.value, path: &path, ctx: self.ctx })
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        let path = Path::Key(&self.entry.key, self.path);
        de::Deserializer::deserialize_seq(NodeDe { node: &self.entry.value, path: &path, ctx: self.ctx }, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(self, fields: &'static [&'static str], visitor: V) -> Result<V::Value, Error> {
        let path = Path::Key(&self.entry.key, self.path);
        de::Deserializer::deserialize_struct(
            NodeDe { node: &self.entry.value, path: &path, ctx: self.ctx },
            "",
            fields,
            visitor,
        )
    }
}
