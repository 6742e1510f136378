//! Writes a generated profile (a JSON value) as YAML text in randomly
//! chosen but equivalent styles: block or flow collections, plain, single-
//! or double-quoted or literal-block strings, so that the property tests
//! exercise kgen's reader as well as its renderer.

use serde_json::Value;

/// Strings that YAML 1.1 (and sometimes 1.2) readers take for something
/// else, but that kgen reads as text where a string is expected; written
/// plain now and then to check exactly that.
const PLAIN_AMBIGUOUS: &[&str] =
    &["on", "off", "yes", "no", "y", "n", "NO", "True", "false", "1_000", "1:30", "2026-01-01", "1.10", "0x1F", "1e3"];

/// A small deterministic generator (xorshift), seeded by the test case.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn chance(&mut self, one_in: u64) -> bool {
        self.next().is_multiple_of(one_in)
    }
}

/// The profile as YAML text.
pub fn to_yaml(value: &Value, seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let mut out = String::new();
    match value {
        Value::Object(m) if !m.is_empty() => block_map(m, 0, &mut rng, &mut out),
        other => {
            flow(other, &mut rng, &mut out);
            out.push('\n');
        }
    }
    out
}

fn indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

fn block_map(map: &serde_json::Map<String, Value>, n: usize, rng: &mut Rng, out: &mut String) {
    for (k, v) in map {
        indent(out, n);
        key(k, out);
        out.push(':');
        after_key(v, n, rng, out);
    }
}

fn after_key(v: &Value, n: usize, rng: &mut Rng, out: &mut String) {
    match v {
        Value::Object(m) if !m.is_empty() && !rng.chance(4) => {
            out.push('\n');
            block_map(m, n + 2, rng, out);
        }
        Value::Array(items) if !items.is_empty() && !rng.chance(4) => {
            out.push('\n');
            block_seq(items, n + 2, rng, out);
        }
        Value::String(s) => {
            out.push(' ');
            block_string(s, n + 2, rng, out);
            out.push('\n');
        }
        other => {
            out.push(' ');
            flow(other, rng, out);
            out.push('\n');
        }
    }
}

fn block_seq(items: &[Value], n: usize, rng: &mut Rng, out: &mut String) {
    for item in items {
        indent(out, n);
        match item {
            Value::Object(m) if !m.is_empty() && !rng.chance(3) => {
                out.push_str("-\n");
                block_map(m, n + 2, rng, out);
            }
            Value::String(s) => {
                out.push_str("- ");
                block_string(s, n + 2, rng, out);
                out.push('\n');
            }
            other => {
                out.push_str("- ");
                flow(other, rng, out);
                out.push('\n');
            }
        }
    }
}

fn flow(v: &Value, rng: &mut Rng, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => flow_string(s, rng, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                flow(item, rng, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (i, (k, v)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                key(k, out);
                out.push_str(": ");
                flow(v, rng, out);
            }
            out.push('}');
        }
    }
}

fn key(k: &str, out: &mut String) {
    let simple = !k.is_empty()
        && k.chars().all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
        && kgen::yaml::emit::is_plain_safe(k);
    if simple { out.push_str(k) } else { double_quoted(k, out) }
}

/// A string in block context: plain, quoted or a literal block.
fn block_string(s: &str, block_indent: usize, rng: &mut Rng, out: &mut String) {
    let plain = (kgen::yaml::emit::is_plain_safe(s) || PLAIN_AMBIGUOUS.contains(&s)) && !s.contains('\n');
    match rng.below(4) {
        0 | 1 if plain => out.push_str(s),
        2 if literal_safe(s) => {
            let body = s.strip_suffix('\n');
            out.push_str(if body.is_some() { "|" } else { "|-" });
            for line in body.unwrap_or(s).split('\n') {
                out.push('\n');
                if !line.is_empty() {
                    indent(out, block_indent);
                    out.push_str(line);
                }
            }
        }
        3 if single_quote_safe(s) => single_quoted(s, out),
        _ => double_quoted(s, out),
    }
}

fn flow_string(s: &str, rng: &mut Rng, out: &mut String) {
    let simple = !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c));
    if simple && (kgen::yaml::emit::is_plain_safe(s) || PLAIN_AMBIGUOUS.contains(&s)) && rng.chance(2) {
        out.push_str(s);
    } else if single_quote_safe(s) && rng.chance(2) {
        single_quoted(s, out);
    } else {
        double_quoted(s, out);
    }
}

fn printable(c: char) -> bool {
    !(c.is_control() || matches!(c, '\u{feff}' | '\u{fffe}' | '\u{ffff}' | '\u{2028}' | '\u{2029}' | '\u{85}'))
}

fn single_quote_safe(s: &str) -> bool {
    s.chars().all(printable)
}

fn literal_safe(s: &str) -> bool {
    let body = s.strip_suffix('\n').unwrap_or(s);
    s.contains('\n')
        && !body.ends_with('\n')
        && !body.starts_with(' ')
        && body.chars().all(|c| c == '\n' || printable(c))
        && body.split('\n').all(|l| !l.ends_with(' ') && !l.starts_with('\t'))
        && !body.split('\n').next().unwrap_or("").is_empty()
        && !body.contains("\n\n")
}

fn single_quoted(s: &str, out: &mut String) {
    out.push('\'');
    out.push_str(&s.replace('\'', "''"));
    out.push('\'');
}

fn double_quoted(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if !printable(c) => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}
