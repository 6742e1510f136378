//! The documentation cannot drift from kgen:
//!
//! - `docs/reference.md` is the JSON Schema (`kgen schema`) rendered as
//!   Markdown (titles, descriptions, types, examples); the test renders it
//!   and compares it with the committed file, and `KGEN_BLESS=1` rewrites
//!   the file.
//! - Every kgen command shown in `README.md` and `docs/*.md` (a line of a
//!   `sh`, `bash`, `shell` or `console` block that starts with `kgen `,
//!   `$ kgen ` or `cargo run --release -- `) runs against the shipped
//!   profiles, each block in its own scratch copy of the repository's
//!   profiles, its commands in order. A command is run up to its first
//!   pipe, `&&`, `||`, `;` or comment: what follows needs a cluster or a
//!   shell. It must succeed (`kgen diff` may exit 1: the bundles differ);
//!   what it pipes into `kubectl` must be YAML or JSON, into `bash` a
//!   script bash can parse, and what a `console` block shows after it must
//!   be in its output.
//! - The README's test command is the one `.ci/run` runs, and relative
//!   links in the Markdown files lead to files and headings that exist.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Deserialize;
use serde_json::Value;

use crate::support::{repo, run, scratch};

// ---------------------------------------------------------------------------
// docs/reference.md from the schema

const REFERENCE: &str = "docs/reference.md";

#[test]
fn reference_is_the_schema_rendered() {
    let out = run(&["schema"], None);
    assert!(out.status.success(), "kgen schema failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let schema: Value = serde_json::from_slice(&out.stdout).expect("kgen schema prints JSON");
    let rendered = reference_markdown(&schema);
    let path = repo().join(REFERENCE);
    if std::env::var("KGEN_BLESS").as_deref() == Ok("1") {
        std::fs::write(&path, &rendered).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != rendered {
        let first = committed.lines().zip(rendered.lines()).position(|(a, b)| a != b);
        let line = first.unwrap_or_else(|| committed.lines().count().min(rendered.lines().count()));
        panic!(
            "{REFERENCE} is not `kgen schema` rendered (first difference at line {}): \
             run `KGEN_BLESS=1 cargo test --release --test kgen docs::reference` and commit it\n\
             --- committed\n{}\n--- rendered\n{}",
            line + 1,
            committed.lines().nth(line).unwrap_or("(end of file)"),
            rendered.lines().nth(line).unwrap_or("(end of file)"),
        );
    }
}

/// The reference: the profile's fields, then one section per type of the
/// schema that has fields, then the value types (formats and enumerations
/// with a description), each in the order the profile first reaches it.
fn reference_markdown(schema: &Value) -> String {
    let defs = schema["$defs"].as_object().expect("the schema has $defs");
    let mut order = Vec::new();
    let mut seen = HashSet::new();
    reachable(schema, defs, &mut order, &mut seen);
    let sections: Vec<&str> =
        order.iter().map(String::as_str).filter(|d| has_fields(&defs[*d]) && !is_environment(d)).collect();
    let values: Vec<&str> = order
        .iter()
        .map(String::as_str)
        .filter(|d| !has_fields(&defs[*d]) && !is_environment(d) && has_value_section(&defs[*d]))
        .collect();

    let mut md = String::new();
    md.push_str("# Profile reference\n\n");
    md.push_str(
        "<!-- Generated from `kgen schema` by tests/kgen/docs.rs: do not edit. After changing the \
         profile's types, run `KGEN_BLESS=1 cargo test --release --test kgen docs::reference`. -->\n\n",
    );
    md.push_str(
        "Every field of a profile, from the JSON Schema that `kgen schema` prints (the one editors \
         use, made from the types kgen reads a profile into). Text fields also take a plain number \
         or `true`/`false`, read as text; any field may be `null`, which means its default (in an \
         environment: back to the default). Rules across fields are checked by `kgen check` and \
         `kgen render`, not here: see the [profile guide](profile.md).\n\n",
    );
    md.push_str("Types: [Profile](#profile)");
    for d in &sections {
        md.push_str(&format!(", [{}](#{})", title(d), slug(&title(d))));
    }
    md.push_str(". Values: ");
    let links: Vec<String> = values.iter().map(|d| format!("[{}](#{})", title(d), slug(&title(d)))).collect();
    md.push_str(&links.join(", "));
    md.push_str(".\n\n");

    md.push_str("## Profile\n\n");
    md.push_str(&paragraph(schema["description"].as_str().unwrap_or_default()));
    md.push_str("\n\n");
    md.push_str(&fields_table(schema, defs));

    for d in &sections {
        let def = &defs[*d];
        md.push_str(&format!("\n## {}\n\n", title(d)));
        if let Some(text) = def["description"].as_str() {
            md.push_str(&paragraph(text));
            md.push_str("\n\n");
        }
        let forms = short_forms(def, defs);
        if !forms.is_empty() {
            md.push_str(&format!("Written as {}, or a mapping:\n\n", forms.join(" or ")));
        }
        md.push_str(&examples_line(def));
        if d == &"Environment" {
            md.push_str(&environment_fields(schema, def));
        } else {
            md.push_str(&fields_table(object_of(def), defs));
        }
    }

    md.push_str("\n## Values\n");
    for d in &values {
        let def = &defs[*d];
        md.push_str(&format!("\n### {}\n\n", title(d)));
        if let Some(text) = def["description"].as_str() {
            md.push_str(&paragraph(text));
            md.push_str("\n\n");
        }
        md.push_str(&format!("Type: {}.\n", type_of(def, defs, false)));
        let examples = examples_line(def);
        if !examples.is_empty() {
            md.push('\n');
            md.push_str(examples.trim_end());
            md.push('\n');
        }
    }
    md
}

/// `$defs` names in the order the schema first refers to them.
fn reachable(v: &Value, defs: &serde_json::Map<String, Value>, order: &mut Vec<String>, seen: &mut HashSet<String>) {
    match v {
        Value::Object(map) => {
            if let Some(name) = map.get("$ref").and_then(Value::as_str).and_then(def_name) {
                let name = name.to_string();
                if seen.insert(name.clone()) {
                    order.push(name.clone());
                    reachable(&defs[&name], defs, order, seen);
                }
            }
            for (key, child) in map {
                if key != "$defs" && key != "examples" {
                    reachable(child, defs, order, seen);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| reachable(i, defs, order, seen)),
        _ => {}
    }
}

fn def_name(reference: &str) -> Option<&str> {
    reference.strip_prefix("#/$defs/")
}

/// The environments' copies of types (`DatabaseInEnvironment`) read as
/// their namesakes; `Environment` itself gets a section of its own.
fn is_environment(def: &str) -> bool {
    def.ends_with("InEnvironment")
}

fn base_def(def: &str) -> &str {
    def.strip_suffix("InEnvironment").unwrap_or(def)
}

/// A section's heading: the type's name without a Kubernetes API prefix.
fn title(def: &str) -> String {
    base_def(def).rsplit('.').next().unwrap_or(def).to_string()
}

/// GitHub's anchor for a heading.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The mapping form of a type: itself, or the mapping among its forms.
fn object_of(def: &Value) -> &Value {
    if def.get("properties").is_some() {
        return def;
    }
    alternatives(def).into_iter().find(|a| a.get("properties").is_some()).unwrap_or(def)
}

fn has_fields(def: &Value) -> bool {
    object_of(def).get("properties").is_some()
}

/// Formats and enumerations worth a section: those with a description.
fn has_value_section(def: &Value) -> bool {
    def.get("description").is_some()
}

fn alternatives(v: &Value) -> Vec<&Value> {
    ["anyOf", "oneOf"].iter().filter_map(|k| v.get(*k)?.as_array()).flatten().collect()
}

/// The other forms a type with fields may be written in (`image: app:1.0`).
fn short_forms(def: &Value, defs: &serde_json::Map<String, Value>) -> Vec<String> {
    alternatives(def)
        .into_iter()
        .filter(|a| a.get("properties").is_none() && !is_null(a))
        .map(|a| type_of(a, defs, true))
        .collect()
}

fn is_null(v: &Value) -> bool {
    v.get("type").and_then(Value::as_str) == Some("null")
}

fn fields_table(object: &Value, defs: &serde_json::Map<String, Value>) -> String {
    let Some(properties) = object.get("properties").and_then(Value::as_object) else {
        return String::new();
    };
    let required: HashSet<&str> =
        object.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
    let mut md = String::from("| field | type | description |\n|---|---|---|\n");
    for (name, field) in properties {
        let mut description = String::new();
        if required.contains(name.as_str()) {
            description.push_str("**Required.** ");
        }
        description.push_str(&cell(field_description(field, defs)));
        let examples = example_values(field);
        if !examples.is_empty() {
            let label = if examples.len() == 1 { "Example" } else { "Examples" };
            description.push_str(&format!("<br>{label}: {}", examples.join(", ")));
        }
        md.push_str(&format!("| `{name}` | {} | {} |\n", type_of(field, defs, true), description.trim()));
    }
    md
}

/// A field's description, or that of the type it refers to.
fn field_description<'a>(field: &'a Value, defs: &'a serde_json::Map<String, Value>) -> &'a str {
    if let Some(text) = field.get("description").and_then(Value::as_str) {
        return text;
    }
    let referred = field.get("$ref").and_then(Value::as_str).and_then(def_name).map(|d| &defs[d]);
    referred.and_then(|d| d.get("description")).and_then(Value::as_str).unwrap_or_default()
}

/// The fields of an environment: the profile's, named by difference.
fn environment_fields(schema: &Value, environment: &Value) -> String {
    let keys = |v: &Value| -> Vec<String> {
        v.get("properties").and_then(Value::as_object).map(|m| m.keys().cloned().collect()).unwrap_or_default()
    };
    let profile = keys(schema);
    let own = keys(environment);
    let missing: Vec<String> = profile.iter().filter(|k| !own.contains(k)).map(|k| format!("`{k}`")).collect();
    let extra: Vec<String> = own.iter().filter(|k| !profile.contains(k)).map(|k| format!("`{k}`")).collect();
    let mut md = String::from("An environment takes the fields of the [Profile](#profile), with the same types");
    if !missing.is_empty() {
        md.push_str(&format!(", except {}", join_words(&missing)));
    }
    if !extra.is_empty() {
        md.push_str(&format!(", and also {}", join_words(&extra)));
    }
    md.push_str(".\n");
    md
}

fn join_words(words: &[String]) -> String {
    match words {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// How a value is written: `text`, `integer (1–65535)`, `list of text`,
/// `map of [Database](#database)`, `` `a`, `b` or `c` ``.
fn type_of(v: &Value, defs: &serde_json::Map<String, Value>, link: bool) -> String {
    if let Some(reference) = v.get("$ref").and_then(Value::as_str).and_then(def_name) {
        let def = &defs[reference];
        if has_fields(def) || (link && has_value_section(def) && !is_enum(def)) {
            return format!("[{}](#{})", title(reference), slug(&title(reference)));
        }
        let inline = type_of(def, defs, false);
        if link && has_value_section(def) {
            return format!("{inline} ([{}](#{}))", title(reference), slug(&title(reference)));
        }
        return inline;
    }
    if let Some(values) = v.get("enum").and_then(Value::as_array) {
        let words: Vec<String> = values.iter().filter(|x| !x.is_null()).map(|x| format!("`{}`", flow(x))).collect();
        return join_alternatives(&words);
    }
    if let Some(value) = v.get("const") {
        return format!("`{}`", flow(value));
    }
    let alternatives = alternatives(v);
    if !alternatives.is_empty() {
        let mut words: Vec<String> = Vec::new();
        for a in alternatives.iter().filter(|a| !is_null(a)) {
            let word = type_of(a, defs, link);
            if !words.contains(&word) {
                words.push(word);
            }
        }
        if alternatives.iter().all(|a| a.get("const").is_some()) {
            let consts: Vec<String> = alternatives.iter().map(|a| format!("`{}`", flow(&a["const"]))).collect();
            return join_alternatives(&consts);
        }
        return join_alternatives(&words);
    }
    let types: Vec<&str> = match v.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let types: Vec<&str> = types.into_iter().filter(|t| *t != "null").collect();
    if types.contains(&"string") && types.contains(&"number") && types.contains(&"boolean") {
        return "text".into();
    }
    let mut words = Vec::new();
    for t in types {
        words.push(match t {
            "string" => "text".to_string(),
            "integer" => integer_range(v),
            "array" => match v.get("items") {
                Some(items) => format!("list of {}", type_of(items, defs, link)),
                None => "list".into(),
            },
            "object" => match v.get("additionalProperties") {
                Some(values @ Value::Object(_)) => format!("map of {}", type_of(values, defs, link)),
                _ => "mapping".into(),
            },
            other => other.to_string(),
        });
    }
    if words.is_empty() { "any".into() } else { join_alternatives(&words) }
}

fn is_enum(def: &Value) -> bool {
    def.get("enum").is_some()
        || (!alternatives(def).is_empty() && alternatives(def).iter().all(|a| a.get("const").is_some()))
}

fn integer_range(v: &Value) -> String {
    let min = v.get("minimum").and_then(Value::as_f64);
    let max = v.get("maximum").and_then(Value::as_f64).filter(|m| *m < i32::MAX as f64);
    match (min, max) {
        (Some(min), Some(max)) => format!("integer ({min}–{max})"),
        (Some(min), None) => format!("integer ≥ {min}"),
        _ => "integer".into(),
    }
}

fn join_alternatives(words: &[String]) -> String {
    match words {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

fn example_values(v: &Value) -> Vec<String> {
    v.get("examples")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|e| format!("`{}`", cell_code(&flow(e))))
        .collect()
}

fn examples_line(def: &Value) -> String {
    let examples = example_values(def);
    match examples.len() {
        0 => String::new(),
        1 => format!("Example: {}\n\n", examples[0]),
        _ => format!("Examples: {}\n\n", examples.join(", ")),
    }
}

/// A description as one paragraph of Markdown.
fn paragraph(text: &str) -> String {
    escape_html(&text.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// A description in a table cell: one line, `|` escaped.
fn cell(text: &str) -> String {
    paragraph(text).replace('|', "\\|")
}

fn cell_code(text: &str) -> String {
    text.replace('|', "\\|")
}

/// `<` outside code spans would start an HTML tag.
fn escape_html(text: &str) -> String {
    let mut out = String::new();
    let mut in_code = false;
    for c in text.chars() {
        match c {
            '`' => {
                in_code = !in_code;
                out.push(c);
            }
            '<' if !in_code => out.push_str("&lt;"),
            _ => out.push(c),
        }
    }
    out
}

/// A value in YAML flow style, as a profile would write it.
fn flow(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => flow_text(s),
        Value::Array(items) => format!("[{}]", items.iter().map(flow).collect::<Vec<_>>().join(", ")),
        Value::Object(map) => {
            let entries: Vec<String> = map.iter().map(|(k, v)| format!("{}: {}", flow_text(k), flow(v))).collect();
            format!("{{{}}}", entries.join(", "))
        }
    }
}

/// Text plain when every YAML reader reads it back as the same text,
/// otherwise double-quoted.
fn flow_text(s: &str) -> String {
    let plain_char = |c: char| c.is_alphanumeric() || "-_./:@+=()$~^* ".contains(c);
    let first_ok = s.chars().next().is_some_and(|c| c.is_alphanumeric() || c == '/' || c == '.');
    let reserved = ["true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"];
    let numeric = s.chars().next().is_some_and(|c| c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_digit() || "._:eE+-".contains(c));
    let plain = first_ok
        && s.chars().all(plain_char)
        && !s.contains(": ")
        && !s.ends_with(':')
        && !s.ends_with(' ')
        && !reserved.contains(&s.to_lowercase().as_str())
        && !numeric
        && s.parse::<f64>().is_err();
    if plain { s.to_string() } else { serde_json::to_string(s).unwrap() }
}

// ---------------------------------------------------------------------------
// The commands the documentation shows

/// The Markdown files whose commands run and whose links are checked.
fn markdown_files() -> Vec<PathBuf> {
    let mut files = vec![repo().join("README.md"), repo().join("ARCHITECTURE.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(repo().join("docs"))
        .expect("docs/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

/// A fenced code block: its language and its lines, with their numbers.
struct Block {
    language: String,
    lines: Vec<(usize, String)>,
}

fn code_blocks(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut current: Option<(String, usize, Block)> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        match current.take() {
            None => {
                if let Some(rest) = trimmed.strip_prefix("```") {
                    let block = Block { language: rest.trim().to_string(), lines: Vec::new() };
                    current = Some(("```".into(), indent, block));
                }
            }
            Some((fence, fence_indent, mut block)) => {
                if trimmed.starts_with(&fence) && trimmed.trim() == fence {
                    blocks.push(block);
                } else {
                    let cut = line.char_indices().take_while(|(j, c)| *j < fence_indent && *c == ' ').count();
                    block.lines.push((i + 1, line[cut..].to_string()));
                    current = Some((fence, fence_indent, block));
                }
            }
        }
    }
    blocks
}

/// One documented kgen command.
struct DocCommand {
    /// `file:line`, for messages.
    origin: String,
    /// As the documentation shows it.
    shown: String,
    /// What runs: the kgen part, `cargo run --release --` spelled `kgen`.
    kgen_part: String,
    /// The program the output is piped into, if any.
    piped_into: Option<String>,
    /// For a `console` block: the output shown after the command.
    expected_output: Option<Vec<String>>,
}

/// A block's commands, with their logical lines joined (`\` at the end).
fn block_commands(file: &str, block: &Block) -> Vec<DocCommand> {
    let console = block.language == "console";
    let mut logical: Vec<(usize, String)> = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (number, line) in &block.lines {
        let (start, mut text) = match pending.take() {
            Some((start, so_far)) => (start, format!("{so_far} {}", line.trim())),
            None => (*number, line.clone()),
        };
        if text.ends_with('\\') {
            text.pop();
            pending = Some((start, text.trim_end().to_string()));
        } else {
            logical.push((start, text));
        }
    }
    if let Some(p) = pending {
        logical.push(p);
    }

    let mut commands: Vec<DocCommand> = Vec::new();
    for (number, text) in logical {
        let trimmed = text.trim();
        let command = if console {
            match trimmed.strip_prefix("$ ") {
                Some(c) => Some(c),
                None => {
                    // Output of the command before it.
                    if let Some(last) = commands.last_mut()
                        && let Some(expected) = last.expected_output.as_mut()
                    {
                        expected.push(text.trim_end().to_string());
                    }
                    continue;
                }
            }
        } else {
            Some(trimmed)
        };
        let Some(command) = command else { continue };
        let spelled = if let Some(rest) = command.strip_prefix("cargo run --release -- ") {
            format!("kgen {rest}")
        } else if command.starts_with("kgen ") {
            command.to_string()
        } else {
            if console {
                // A command that is not kgen's: its output is not checked.
                commands.push(DocCommand {
                    origin: String::new(),
                    shown: String::new(),
                    kgen_part: String::new(),
                    piped_into: None,
                    expected_output: None,
                });
            }
            continue;
        };
        let (kgen_part, piped_into) = split_at_shell_operator(&spelled);
        commands.push(DocCommand {
            origin: format!("{file}:{number}"),
            shown: command.to_string(),
            kgen_part,
            piped_into,
            expected_output: console.then(Vec::new),
        });
    }
    commands.retain(|c| !c.kgen_part.is_empty());
    commands
}

/// The command up to its first unquoted `|`, `||`, `&&`, `;` or comment,
/// and the first word after a single `|`.
fn split_at_shell_operator(command: &str) -> (String, Option<String>) {
    let chars: Vec<char> = command.chars().collect();
    let mut quote: Option<char> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                } else if c == '\\' && q == '"' {
                    i += 1;
                }
            }
            None => match c {
                '\'' | '"' => quote = Some(c),
                '\\' => i += 1,
                '#' if i == 0 || chars[i - 1].is_whitespace() => {
                    return (chars[..i].iter().collect::<String>().trim().to_string(), None);
                }
                ';' => return (chars[..i].iter().collect::<String>().trim().to_string(), None),
                '&' if chars.get(i + 1) == Some(&'&') => {
                    return (chars[..i].iter().collect::<String>().trim().to_string(), None);
                }
                '|' => {
                    let head = chars[..i].iter().collect::<String>().trim().to_string();
                    if chars.get(i + 1) == Some(&'|') {
                        return (head, None);
                    }
                    let rest: String = chars[i + 1..].iter().collect();
                    let next = rest.split_whitespace().find(|w| !w.contains('=')).map(String::from);
                    return (head, next);
                }
                _ => {}
            },
        }
        i += 1;
    }
    (command.trim().to_string(), None)
}

fn documented_commands() -> Vec<Vec<DocCommand>> {
    let mut blocks = Vec::new();
    for path in markdown_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        let file = path.strip_prefix(repo()).unwrap().display().to_string();
        for block in code_blocks(&text) {
            if ["sh", "bash", "shell", "console"].contains(&block.language.as_str()) {
                let commands = block_commands(&file, &block);
                if !commands.is_empty() {
                    blocks.push(commands);
                }
            }
        }
    }
    blocks
}

/// A scratch copy of what documented commands read, with `kgen` on PATH.
fn scratch_repository(name: &str) -> PathBuf {
    let dir = scratch(name);
    for tree in ["profiles", "benches/profiles"] {
        copy_tree(&repo().join(tree), &dir.join(tree));
    }
    std::fs::create_dir_all(dir.join(".bin")).unwrap();
    std::fs::create_dir_all(dir.join(".home")).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_kgen"), dir.join(".bin/kgen")).unwrap();
    dir
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn documented_commands_run() {
    let blocks = documented_commands();
    let count: usize = blocks.iter().map(Vec::len).sum();
    assert!(count >= 10, "only {count} documented kgen commands found: is the parser broken?");
    let mut failures = Vec::new();
    for (n, block) in blocks.iter().enumerate() {
        let dir = scratch_repository(&format!("docs-commands/{n}"));
        let path = format!("{}:{}", dir.join(".bin").display(), std::env::var("PATH").unwrap_or_default());
        for command in block {
            let out = Command::new("bash")
                .args(["-c", &command.kgen_part])
                .current_dir(&dir)
                .env("PATH", &path)
                .env("HOME", dir.join(".home"))
                .env("NO_COLOR", "1")
                .env_remove("KGEN_BLESS")
                .stdin(Stdio::null())
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            let problem = command_problem(command, out.status.code(), &stdout, &stderr);
            if let Some(problem) = problem {
                failures.push(format!(
                    "{}: `{}`\n  ran `{}`: {problem}\n  stderr: {}",
                    command.origin,
                    command.shown,
                    command.kgen_part,
                    stderr.lines().take(12).collect::<Vec<_>>().join("\n          ")
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} documented commands fail:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

fn command_problem(command: &DocCommand, code: Option<i32>, stdout: &str, stderr: &str) -> Option<String> {
    let differs_is_fine = command.kgen_part.starts_with("kgen diff ");
    // A `console` block may show an error on purpose: its output starts with `error:`.
    let shows_an_error = command
        .expected_output
        .as_ref()
        .and_then(|lines| lines.iter().find(|l| !l.trim().is_empty()))
        .is_some_and(|first| first.starts_with("error:"));
    match code {
        Some(1) if shows_an_error => {}
        _ if shows_an_error => return Some(format!("exit status {code:?} where the documentation shows an error")),
        Some(0) => {}
        Some(1) if differs_is_fine => {}
        other => return Some(format!("exit status {other:?}")),
    }
    if stderr.contains("panicked") {
        return Some("a panic".into());
    }
    match command.piped_into.as_deref() {
        // An error prints nothing to stdout, on purpose.
        _ if shows_an_error => {}
        Some("kubectl") => {
            if stdout.trim().is_empty() {
                return Some("nothing to pipe into kubectl".into());
            }
            if let Err(e) = yaml_or_json(stdout) {
                return Some(format!("output kubectl cannot read: {e}"));
            }
        }
        Some("bash" | "sh") => {
            if stdout.trim().is_empty() {
                return Some("no script to run".into());
            }
            let mut check = Command::new("bash")
                .arg("-n")
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            use std::io::Write;
            check.stdin.take().unwrap().write_all(stdout.as_bytes()).unwrap();
            let checked = check.wait_with_output().unwrap();
            if !checked.status.success() {
                return Some(format!("a script bash cannot parse: {}", String::from_utf8_lossy(&checked.stderr)));
            }
        }
        Some(_) => {
            if stdout.trim().is_empty() {
                return Some("nothing on stdout for the pipe".into());
            }
        }
        None => {
            let writes_elsewhere = command.kgen_part.contains('>') || command.kgen_part.contains("--out-dir");
            let prints_objects = ["kgen render ", "kgen schema"].iter().any(|p| command.kgen_part.starts_with(p));
            if prints_objects && !writes_elsewhere {
                if stdout.trim().is_empty() {
                    return Some("printed nothing".into());
                }
                if let Err(e) = yaml_or_json(stdout) {
                    return Some(format!("printed neither YAML nor JSON: {e}"));
                }
            }
        }
    }
    if let Some(expected) = &command.expected_output {
        let actual: Vec<&str> = stdout.lines().chain(stderr.lines()).map(str::trim_end).collect();
        let mut at = 0;
        for line in expected.iter().map(|l| l.trim_end()).filter(|l| !l.is_empty() && *l != "…" && *l != "...") {
            match actual[at..].iter().position(|a| *a == line) {
                Some(found) => at += found + 1,
                None => return Some(format!("the documented output line `{line}` is not in the output (in order)")),
            }
        }
    }
    None
}

fn yaml_or_json(text: &str) -> Result<(), String> {
    if text.trim_start().starts_with('{') {
        return serde_json::from_str::<Value>(text).map(drop).map_err(|e| e.to_string());
    }
    let mut documents = 0;
    for document in serde_yaml::Deserializer::from_str(text) {
        let value = Value::deserialize(document).map_err(|e| e.to_string())?;
        if !value.is_null() {
            documents += 1;
        }
    }
    if documents == 0 { Err("no documents".into()) } else { Ok(()) }
}

#[test]
fn command_lines_are_split_where_a_cluster_takes_over() {
    let cases = [
        ("kgen render a.yaml | kubectl apply -f -", ("kgen render a.yaml", Some("kubectl"))),
        ("kgen render a.yaml | KUBECTL_APPLYSET=true kubectl apply", ("kgen render a.yaml", Some("kubectl"))),
        ("kgen bootstrap kind a.yaml > up.sh && bash up.sh", ("kgen bootstrap kind a.yaml > up.sh", None)),
        ("kgen check p/*.yaml   # every profile", ("kgen check p/*.yaml", None)),
        ("kgen diff a.yaml --from d || [ $? -eq 1 ]", ("kgen diff a.yaml --from d", None)),
        ("kgen render --set 'a=x|y' a.yaml", ("kgen render --set 'a=x|y' a.yaml", None)),
        ("kgen render --set \"a=#1\" a.yaml; echo", ("kgen render --set \"a=#1\" a.yaml", None)),
    ];
    for (line, (part, piped)) in cases {
        assert_eq!(split_at_shell_operator(line), (part.to_string(), piped.map(String::from)), "{line}");
    }
    let block = Block {
        language: "console".into(),
        lines: vec![
            (1, "$ kgen check a.yaml \\".into()),
            (2, "    --env prod".into()),
            (3, "ok    a.yaml (prod): 3 objects".into()),
            (4, "$ echo done".into()),
            (5, "done".into()),
        ],
    };
    let commands = block_commands("x.md", &block);
    assert_eq!(commands.len(), 1);
    assert_eq!(commands[0].kgen_part, "kgen check a.yaml --env prod");
    assert_eq!(commands[0].expected_output.as_deref(), Some(&["ok    a.yaml (prod): 3 objects".to_string()][..]));
}

// ---------------------------------------------------------------------------
// The README's test command and links

#[test]
fn readme_test_command_is_what_ci_runs() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let ci = std::fs::read_to_string(repo().join(".ci/run")).unwrap();
    let shown: Vec<String> = code_blocks(&readme)
        .into_iter()
        .filter(|b| ["sh", "bash", "console"].contains(&b.language.as_str()))
        .flat_map(|b| b.lines.into_iter().map(|(_, l)| l))
        .map(|l| l.trim().trim_start_matches("$ ").to_string())
        .filter(|l| l.starts_with("cargo test"))
        .map(|l| l.split(" #").next().unwrap().trim().to_string())
        .collect();
    let ci_runs: Vec<&str> = ci.lines().map(str::trim).filter(|l| l.starts_with("cargo test")).collect();
    assert_eq!(ci_runs.len(), 1, ".ci/run runs one cargo test command: {ci_runs:?}");
    assert!(!shown.is_empty(), "the README shows no test command");
    for command in &shown {
        assert_eq!(command, ci_runs[0], "the README's test command is not the one .ci/run runs");
    }
}

#[test]
fn relative_links_resolve() {
    let mut headings: BTreeMap<PathBuf, HashSet<String>> = BTreeMap::new();
    let mut problems = Vec::new();
    let files = markdown_files();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let file = path.strip_prefix(repo()).unwrap().display().to_string();
        for (number, target) in links(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (file_part, anchor) = match target.split_once('#') {
                Some((f, a)) => (f, Some(a)),
                None => (target.as_str(), None),
            };
            let linked = if file_part.is_empty() { path.clone() } else { path.parent().unwrap().join(file_part) };
            if !linked.exists() {
                problems.push(format!("{file}:{number}: `{target}`: no such file"));
                continue;
            }
            if let Some(anchor) = anchor {
                let anchors = headings.entry(linked.clone()).or_insert_with(|| {
                    std::fs::read_to_string(&linked).map(|t| heading_anchors(&t)).unwrap_or_default()
                });
                if !anchors.contains(anchor) {
                    problems.push(format!("{file}:{number}: `{target}`: no heading with that anchor"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "broken links:\n{}", problems.join("\n"));
}

/// `[text](target)` links outside code blocks and code spans.
fn links(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut in_block = false;
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if in_block {
            continue;
        }
        let mut in_code = false;
        let chars: Vec<char> = line.chars().collect();
        let mut j = 0;
        while j < chars.len() {
            match chars[j] {
                '`' => in_code = !in_code,
                ']' if !in_code && chars.get(j + 1) == Some(&'(') => {
                    let rest: String = chars[j + 2..].iter().collect();
                    if let Some(end) = rest.find(')') {
                        let target = rest[..end].split_whitespace().next().unwrap_or_default().to_string();
                        out.push((i + 1, target));
                    }
                }
                _ => {}
            }
            j += 1;
        }
    }
    out
}

fn heading_anchors(text: &str) -> HashSet<String> {
    let mut anchors = HashSet::new();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut in_block = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if in_block || !line.starts_with('#') {
            continue;
        }
        let heading = line.trim_start_matches('#').trim();
        let base = slug(heading);
        let n = counts.entry(base.clone()).or_default();
        anchors.insert(if *n == 0 { base.clone() } else { format!("{base}-{n}") });
        *n += 1;
    }
    anchors
}
