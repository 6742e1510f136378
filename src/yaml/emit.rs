//! Writes JSON-like values as block-style YAML that YAML 1.1 readers
//! (kubectl, PyYAML) and YAML 1.2 readers read back identically.
//!
//! Every string that either reader could take for a boolean, number, date or
//! null (`on`, `no`, `1_000`, `1:30`, `2026-01-01`, `8080`, …) is quoted;
//! multi-line text becomes a literal block. Keys keep the value's order.

use serde_json::Value;

/// Append `value` as one YAML document body (no `---`).
pub fn write_document(out: &mut String, value: &Value) {
    match value {
        Value::Object(map) if !map.is_empty() => write_map(out, map, 0),
        Value::Array(items) if !items.is_empty() => write_seq(out, items, 0),
        other => {
            write_inline(out, other, 0);
            out.push('\n');
        }
    }
}

/// The whole value as a YAML string.
pub fn to_string(value: &Value) -> String {
    let mut out = String::new();
    write_document(&mut out, value);
    out
}

fn indent(out: &mut String, n: usize) {
    for _ in 0..n {
        out.push(' ');
    }
}

fn write_map(out: &mut String, map: &serde_json::Map<String, Value>, n: usize) {
    for (i, (key, value)) in map.iter().enumerate() {
        // The first entry of a map inside a list item shares the `- ` line.
        if i > 0 || !out.ends_with("- ") {
            indent(out, n);
        }
        write_string(out, key, usize::MAX);
        out.push(':');
        write_value_after_key(out, value, n);
    }
}

fn write_value_after_key(out: &mut String, value: &Value, n: usize) {
    match value {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            write_map(out, m, n + 2);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_seq(out, items, n + 2);
        }
        other => {
            out.push(' ');
            write_inline(out, other, n + 2);
            out.push('\n');
        }
    }
}

fn write_seq(out: &mut String, items: &[Value], n: usize) {
    for item in items {
        indent(out, n);
        match item {
            Value::Object(m) if !m.is_empty() => {
                out.push_str("- ");
                write_map(out, m, n + 2);
            }
            Value::Array(inner) if !inner.is_empty() => {
                out.push_str("-\n");
                write_seq(out, inner, n + 2);
            }
            other => {
                out.push_str("- ");
                write_inline(out, other, n + 2);
                out.push('\n');
            }
        }
    }
}

/// A scalar or an empty collection; `block_indent` is where the lines of a
/// literal block go.
fn write_inline(out: &mut String, value: &Value, block_indent: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_string(out, s, block_indent),
        Value::Array(_) => out.push_str("[]"),
        Value::Object(_) => out.push_str("{}"),
    }
}

fn write_number(out: &mut String, n: &serde_json::Number) {
    let text = n.to_string();
    if n.is_f64() && !text.contains('.') && !text.contains("inf") && !text.contains("NaN") {
        // YAML 1.1 floats need a dot and a signed exponent: 1e300 -> 1.0e+300.
        match text.split_once('e') {
            Some((mantissa, exp)) => {
                let sign = if exp.starts_with('-') || exp.starts_with('+') { "" } else { "+" };
                out.push_str(&format!("{mantissa}.0e{sign}{exp}"));
            }
            None => {
                out.push_str(&text);
                out.push_str(".0");
            }
        }
    } else {
        out.push_str(&text);
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

/// True when `s` reads back as this same string, unquoted, in YAML 1.1 and
/// 1.2 (block context). Errs on the side of quoting.
pub fn is_plain_safe(s: &str) -> bool {
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
    let lower = s.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "y" | "yes"
            | "n"
            | "no"
            | "true"
            | "false"
            | "on"
            | "off"
            | "null"
            | "~"
            | "="
            | "<<"
            | ".inf"
            | "+.inf"
            | "-.inf"
            | ".nan"
    ) {
        return false;
    }
    if first.is_ascii_digit() || first == '+' || first == '.' {
        // Numbers in every base and notation, sexagesimal, and dates.
        if s.chars().all(|c| c.is_ascii_hexdigit() || "_.:+-xXoObB".contains(c)) {
            return false;
        }
        let b = s.as_bytes();
        if b.len() >= 8 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' {
            return false;
        }
    }
    true
}

/// True when `s` can be written as a literal block and read back unchanged.
fn is_block_safe(s: &str) -> bool {
    let body = s.strip_suffix('\n').unwrap_or(s);
    s.contains('\n')
        && !body.ends_with('\n')
        && !body.starts_with([' ', '\t'])
        && body.trim().chars().next().is_some()
        && !s.chars().any(|c| {
            (c.is_control() && c != '\n' && c != '\t')
                || is_special_unicode(c)
                || matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}')
        })
        && body.split('\n').all(|line| !line.ends_with([' ', '\t']))
        && !body.split('\n').next().unwrap_or("").is_empty()
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
            "n": 1.5, "big": 1e300, "t": true, "z": null
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
big: 1.0e+300
t: true
z: null
";
        assert_eq!(to_string(&v), expected);
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
