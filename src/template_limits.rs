//! The minijinja environment for the user's templates (extra manifests),
//! with every filter bounded: a filter refuses an input larger than
//! [`MAX_VALUE_BYTES`] or with more than [`MAX_ITEMS`] items, and the
//! filters that make more than they take (`indent`, `replace`, `join`,
//! `format`, `tojson`, `batch`, `slice`, `string`, `pprint`, …) first work
//! out what they would make and refuse past the same bounds, with an error
//! that minijinja locates in the template. Without this, one expression
//! such as `{{ "x"|indent(100000000000) }}` asks for 100 GB at once and the
//! process aborts.
//!
//! What is not a filter is minijinja's own: `*` repeats a string up to
//! 100 MB, `range` makes at most 100,000 numbers, and `~` and `+`
//! concatenate without a bound (docs/limits.md says so).
//!
//! No IO; used by `extra_manifests`.

use std::fmt::Write as _;

use minijinja::value::{Kwargs, Rest, Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind, State};

/// The largest text a filter takes or makes: what an extra manifest may
/// be once rendered.
pub const MAX_VALUE_BYTES: usize = 4 << 20;
/// The most items of a list or mapping a filter takes or makes (as many as
/// minijinja's `range` makes).
pub const MAX_ITEMS: usize = 100_000;
/// The widest `indent`, `format` width or precision, and `tojson` indent.
pub const MAX_WIDTH: usize = 1024;

/// What a filter checks before it runs, beyond the common input bounds.
#[derive(Clone, Copy)]
enum Check {
    /// Nothing more: the output is at most a small multiple of the input.
    None,
    /// The input is read item by item (a text character by character).
    Items,
    /// The input is written out as text first (`string`, `escape`, …).
    Text,
    Debug,
    Indent,
    Replace,
    Join,
    Format,
    ToJson,
    /// `batch` and `slice`: the count makes that many lists.
    Count,
}

/// minijinja's filters (the `builtins` and `json` features), each with what
/// it checks.
fn filters() -> Vec<(&'static str, Value, Check)> {
    use minijinja::filters as f;
    vec![
        ("safe", Value::from_function(f::safe), Check::Text),
        ("escape", Value::from_function(f::escape), Check::Text),
        ("e", Value::from_function(f::escape), Check::Text),
        ("lower", Value::from_function(f::lower), Check::Text),
        ("upper", Value::from_function(f::upper), Check::Text),
        ("title", Value::from_function(f::title), Check::Text),
        ("capitalize", Value::from_function(f::capitalize), Check::Text),
        ("trim", Value::from_function(f::trim), Check::Text),
        ("string", Value::from_function(f::string), Check::Text),
        ("pprint", Value::from_function(f::pprint), Check::Debug),
        ("replace", Value::from_function(f::replace), Check::Replace),
        ("indent", Value::from_function(f::indent), Check::Indent),
        ("join", Value::from_function(f::join), Check::Join),
        ("format", Value::from_function(f::format), Check::Format),
        ("tojson", Value::from_function(f::tojson), Check::ToJson),
        ("batch", Value::from_function(f::batch), Check::Count),
        ("slice", Value::from_function(f::slice), Check::Count),
        ("length", Value::from_function(f::length), Check::None),
        ("count", Value::from_function(f::length), Check::None),
        ("default", Value::from_function(f::default), Check::None),
        ("d", Value::from_function(f::default), Check::None),
        ("round", Value::from_function(f::round), Check::None),
        ("abs", Value::from_function(f::abs), Check::None),
        ("int", Value::from_function(f::int), Check::None),
        ("float", Value::from_function(f::float), Check::None),
        ("bool", Value::from_function(f::bool), Check::None),
        ("attr", Value::from_function(f::attr), Check::None),
        ("first", Value::from_function(f::first), Check::None),
        ("last", Value::from_function(f::last), Check::None),
        ("split", Value::from_function(f::split), Check::Items),
        ("lines", Value::from_function(f::lines), Check::Items),
        ("dictsort", Value::from_function(f::dictsort), Check::Items),
        ("items", Value::from_function(f::items), Check::Items),
        ("reverse", Value::from_function(f::reverse), Check::Items),
        ("min", Value::from_function(f::min), Check::Items),
        ("max", Value::from_function(f::max), Check::Items),
        ("sort", Value::from_function(f::sort), Check::Items),
        ("list", Value::from_function(f::list), Check::Items),
        ("sum", Value::from_function(f::sum), Check::Items),
        ("select", Value::from_function(f::select), Check::Items),
        ("reject", Value::from_function(f::reject), Check::Items),
        ("selectattr", Value::from_function(f::selectattr), Check::Items),
        ("rejectattr", Value::from_function(f::rejectattr), Check::Items),
        ("map", Value::from_function(f::map), Check::Items),
        ("groupby", Value::from_function(f::groupby), Check::Items),
        ("unique", Value::from_function(f::unique), Check::Items),
        ("chain", Value::from_function(f::chain), Check::Items),
        ("zip", Value::from_function(f::zip), Check::Items),
    ]
}

/// A template environment whose filters are bounded; `debug` (which
/// prints the whole context) is left out.
pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.remove_global("debug");
    for (name, original, check) in filters() {
        env.add_filter(name, move |state: &mut State, args: Rest<Value>, kwargs: Kwargs| -> Result<Value, Error> {
            let mut args: Vec<Value> = args.0;
            // Keyword arguments go on to the filter as they came (each
            // marked used here: the filter itself checks them).
            let keys: Vec<String> = kwargs.args().map(String::from).collect();
            if !keys.is_empty() {
                let pass: Kwargs =
                    keys.iter().map(|k| (k.clone(), kwargs.get::<Value>(k).unwrap_or_default())).collect();
                args.push(Value::from(pass));
            }
            for value in &args {
                within_bounds(name, value, "takes")?;
            }
            before(name, check, &args)?;
            let out = original.call(state, &args)?;
            within_bounds(name, &out, "would make")?;
            Ok(out)
        });
    }
    env
}

fn too_large(name: &str, what: &str) -> Error {
    Error::new(ErrorKind::InvalidOperation, format!("`{name}` {what}"))
}

/// A text of at most [`MAX_VALUE_BYTES`], a list or mapping of at most
/// [`MAX_ITEMS`].
fn within_bounds(name: &str, value: &Value, verb: &str) -> Result<(), Error> {
    if let Some(s) = value.as_str() {
        if s.len() > MAX_VALUE_BYTES {
            return Err(too_large(name, &format!("{verb} a text larger than 4 MiB")));
        }
    } else if matches!(value.kind(), ValueKind::Seq | ValueKind::Map | ValueKind::Iterable)
        && !value.is_kwargs()
        && value.len().is_some_and(|n| n > MAX_ITEMS)
    {
        return Err(too_large(name, &format!("{verb} more than {MAX_ITEMS} items")));
    }
    Ok(())
}

/// Counts what is written, and stops past `limit`.
struct Counter {
    written: usize,
    limit: usize,
}

impl std::fmt::Write for Counter {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.written += s.len();
        if self.written > self.limit { Err(std::fmt::Error) } else { Ok(()) }
    }
}

impl std::io::Write for Counter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.written += bytes.len();
        if self.written > self.limit { Err(std::io::Error::other("too large")) } else { Ok(bytes.len()) }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The length of `value` as text, if it is at most `limit`.
fn text_len(value: &Value, limit: usize) -> Option<usize> {
    if let Some(s) = value.as_str() {
        return (s.len() <= limit).then_some(s.len());
    }
    let mut counter = Counter { written: 0, limit };
    write!(counter, "{value}").ok().map(|()| counter.written)
}

/// A positional argument, or else the keyword argument `key`.
fn argument(args: &[Value], index: usize, key: &str) -> Option<Value> {
    let kwargs = args.last().filter(|v| v.is_kwargs());
    let positional = args.len() - usize::from(kwargs.is_some());
    if index < positional {
        return Some(args[index].clone());
    }
    kwargs.and_then(|k| k.get_attr(key).ok()).filter(|v| !v.is_undefined() && !v.is_none())
}

/// A number argument, if it is one.
fn number(value: Option<Value>) -> Option<u128> {
    value.and_then(|v| u128::try_from(v).ok())
}

fn before(name: &str, check: Check, args: &[Value]) -> Result<(), Error> {
    let Some(value) = args.first() else { return Ok(()) };
    let max = MAX_VALUE_BYTES;
    let text = |v: &Value| text_len(v, max).ok_or_else(|| too_large(name, "takes a text larger than 4 MiB"));
    match check {
        Check::None => {}
        Check::Items => {
            if value.as_str().is_some_and(|s| s.len() > MAX_ITEMS) {
                return Err(too_large(
                    name,
                    &format!("takes a text of more than {MAX_ITEMS} characters, item by item"),
                ));
            }
        }
        Check::Text => {
            text(value)?;
        }
        Check::Debug => {
            let mut counter = Counter { written: 0, limit: max };
            if write!(counter, "{value:#?}").is_err() {
                return Err(too_large(name, "would make a text larger than 4 MiB"));
            }
        }
        Check::Indent => {
            let width = number(argument(args, 1, "width")).unwrap_or(4);
            if width > MAX_WIDTH as u128 {
                return Err(too_large(name, &format!("is asked for a width of {width}, more than {MAX_WIDTH}")));
            }
            let len = text(value)?;
            let lines = match value.as_str() {
                Some(s) => s.matches('\n').count(),
                None => value.to_string().matches('\n').count(),
            } + 1;
            if (len as u128) + (lines as u128) * width > max as u128 {
                return Err(too_large(name, "would make a text larger than 4 MiB"));
            }
        }
        Check::Replace => {
            let (Some(from), Some(to)) = (args.get(1), args.get(2)) else { return Ok(()) };
            let len = text(value)?;
            let (from, to) = (from.to_string(), to.to_string());
            let s = value.as_str().map(String::from).unwrap_or_else(|| value.to_string());
            let times = if from.is_empty() { s.chars().count() + 1 } else { s.matches(from.as_str()).count() };
            let after = len as u128 + times as u128 * to.len() as u128;
            if after.saturating_sub(times as u128 * from.len() as u128) > max as u128 {
                return Err(too_large(name, "would make a text larger than 4 MiB"));
            }
        }
        Check::Join => {
            let joiner = argument(args, 1, "d").map(|j| j.to_string()).unwrap_or_default();
            let mut total: u128 = 0;
            if let Ok(items) = value.try_iter() {
                for (i, item) in items.enumerate() {
                    let left = max as u128 - total;
                    let len = text_len(&item, left.min(max as u128) as usize)
                        .ok_or_else(|| too_large(name, "would make a text larger than 4 MiB"))?;
                    total += len as u128 + if i > 0 { joiner.len() as u128 } else { 0 };
                    if total > max as u128 {
                        return Err(too_large(name, "would make a text larger than 4 MiB"));
                    }
                }
            }
        }
        Check::Format => {
            let spec = text(value).map(|_| value.to_string())?;
            if let Some(n) = widest_number(&spec)
                && n > MAX_WIDTH as u128
            {
                return Err(too_large(name, &format!("is asked for a width of {n}, more than {MAX_WIDTH}")));
            }
            let mut total = spec.len();
            for arg in &args[1..] {
                total += text(arg)?;
                if total > max {
                    return Err(too_large(name, "would make a text larger than 4 MiB"));
                }
            }
        }
        Check::ToJson => {
            let indent = match argument(args, 1, "indent") {
                Some(v) if v.kind() == ValueKind::Bool => u128::from(v.is_true()) * 2,
                other => number(other).unwrap_or(0),
            };
            if indent > MAX_WIDTH as u128 {
                return Err(too_large(name, &format!("is asked for an indent of {indent}, more than {MAX_WIDTH}")));
            }
            let spaces = " ".repeat(indent as usize);
            let mut counter = Counter { written: 0, limit: max };
            let formatter = serde_json::ser::PrettyFormatter::with_indent(spaces.as_bytes());
            let mut serializer = serde_json::Serializer::with_formatter(&mut counter, formatter);
            let result = serde::Serialize::serialize(value, &mut serializer);
            if result.is_err() && counter.written > max {
                return Err(too_large(name, "would make a text larger than 4 MiB"));
            }
        }
        Check::Count => {
            let count = number(argument(args, 1, "count")).unwrap_or(0);
            if count > MAX_ITEMS as u128 {
                return Err(too_large(name, &format!("is asked for {count} lists, more than {MAX_ITEMS}")));
            }
        }
    }
    Ok(())
}

/// The largest number written in a printf-style format (its widths and
/// precisions), saturating.
fn widest_number(spec: &str) -> Option<u128> {
    let mut widest: Option<u128> = None;
    let mut current: Option<u128> = None;
    for c in spec.chars().chain(std::iter::once(' ')) {
        match c.to_digit(10) {
            Some(d) => current = Some(current.unwrap_or(0).saturating_mul(10).saturating_add(d as u128)),
            None => {
                if let Some(n) = current.take() {
                    widest = Some(widest.map_or(n, |w| w.max(n)));
                }
            }
        }
    }
    widest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(template: &str) -> Result<String, String> {
        let mut env = environment();
        env.set_fuel(Some(1_000_000));
        env.render_str(template, minijinja::context! {}).map_err(|e| e.detail().unwrap_or_default().to_string())
    }

    /// Each of these once asked for gigabytes at once (or aborted).
    #[test]
    fn filters_refuse_what_would_be_too_large() {
        let cases = [
            (r#"{{ "x"|indent(100000000000) }}"#, "`indent` is asked for a width of 100000000000, more than 1024"),
            (r#"{{ ("x\n" * 100000)|indent(1000) }}"#, "`indent` would make a text larger than 4 MiB"),
            (r#"{{ "%100000000000s"|format("x") }}"#, "`format` is asked for a width of 100000000000, more than 1024"),
            (r#"{{ (["x" * 1000000] * 100)|join }}"#, "`join` would make a text larger than 4 MiB"),
            (r#"{{ ("x" * 1000000)|replace("", "yyyyyyyyyyyyy") }}"#, "`replace` would make a text larger than 4 MiB"),
            (
                r#"{{ {"a": [[["x"]]]}|tojson(indent=100000000) }}"#,
                "`tojson` is asked for an indent of 100000000, more than 1024",
            ),
            (r#"{{ (["x" * 100000] * 100)|tojson(indent=2) }}"#, "`tojson` would make a text larger than 4 MiB"),
            (r#"{{ [1]|batch(100000000000, "x") }}"#, "`batch` is asked for 100000000000 lists, more than 100000"),
            (r#"{{ [1]|slice(100000000000) }}"#, "`slice` is asked for 100000000000 lists, more than 100000"),
            (r#"{{ ("x" * 5000000)|upper }}"#, "`upper` takes a text larger than 4 MiB"),
            (r#"{{ ("x" * 200000)|list|length }}"#, "`list` takes a text of more than 100000 characters, item by item"),
            (r#"{{ (["x" * 100000] * 100)|string }}"#, "`string` takes a text larger than 4 MiB"),
            (r#"{{ (["x" * 100000] * 100)|pprint }}"#, "`pprint` would make a text larger than 4 MiB"),
        ];
        for (template, expected) in cases {
            match render(template) {
                Ok(text) => panic!("{template}: rendered {} bytes", text.len()),
                Err(err) => assert!(err.starts_with(expected), "{template}: {err}"),
            }
        }
    }

    #[test]
    fn filters_work_as_minijinja_s_within_bounds() {
        let cases = [
            (r#"{{ "a\nb"|indent(2) }}"#, "a\n  b"),
            (r#"{{ "a\nb"|indent(width=2, first=true) }}"#, "  a\n  b"),
            (r#"{{ "%5s|%-3d|"|format("x", 7) }}"#, "    x|7  |"),
            (r#"{{ ["a", "b"]|join(", ") }}"#, "a, b"),
            (r#"{{ "a-b"|replace("-", "+") }}"#, "a+b"),
            (r#"{{ {"a": [1]}|tojson }}"#, r#"{"a": [1]}"#),
            (r#"{{ {"a": 1}|tojson(indent=2) }}"#, "{\n  \"a\": 1\n}"),
            (r#"{{ [1, 2, 3]|batch(2, 0)|list }}"#, "[[1, 2], [3, 0]]"),
            (r#"{{ "ab"|upper }}{{ [3, 1]|sort|join }}{{ "x"|default("y") }}"#, "AB13x"),
        ];
        for (template, expected) in cases {
            assert_eq!(render(template).as_deref(), Ok(expected), "{template}");
        }
        assert!(render("{{ debug() }}").is_err());
    }
}
