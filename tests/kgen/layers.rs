//! The layers of ARCHITECTURE.md ("Layers"), enforced: every `crate::…`
//! and `super::…` path in `src/` names a module of an earlier entry of
//! [`LAYERS`] (or the module itself), so the modules form no cycle. Unit
//! tests (`#[cfg(test)]` modules) may use any module and are not read.

use std::collections::BTreeSet;
use std::path::Path;

use crate::support::repo;

/// The modules in order, by layer: a module may use the modules of earlier
/// layers and those listed before it in its own. An entry names a
/// top-level module or a submodule (`model::names`), which then has the
/// place of its own: the longest entry that a module path starts with
/// decides its place.
const LAYERS: &[(&str, &[&str])] = &[
    ("leaves", &["source", "files", "redact", "kube", "templates", "template_limits", "crd", "model::names"]),
    ("syntax", &["diagnostic", "yaml"]),
    ("objects", &["object", "target"]),
    ("profile", &["profile"]),
    ("inputs", &["inputs"]),
    ("model", &["model"]),
    ("render", &["render"]),
    ("check", &["check", "requirements"]),
    ("escape hatches", &["escape_hatches"]),
    ("pipeline", &["pipeline"]),
    ("output", &["output", "diff", "bootstrap"]),
    ("commands", &["cli", "commands"]),
];

/// The entries in order.
fn order() -> Vec<&'static str> {
    LAYERS.iter().flat_map(|(_, modules)| modules.iter().copied()).collect()
}

/// The place of a module path (`["model", "validate", "config"]`) in
/// [`order`]: its longest entry.
fn place(path: &[String]) -> Option<usize> {
    let order = order();
    (1..=path.len()).rev().find_map(|n| order.iter().position(|e| *e == path[..n].join("::")))
}

/// A source file's module path: `src/model/validate/mod.rs` is
/// `model::validate`, `src/model/names.rs` is `model::names`.
fn module_of(file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(repo().join("src")).unwrap();
    let mut path: Vec<String> = rel.iter().map(|s| s.to_string_lossy().into_owned()).collect();
    let last = path.pop().unwrap();
    let stem = last.strip_suffix(".rs").unwrap();
    if stem != "mod" {
        path.push(stem.to_string());
    }
    path
}

/// The text with comments and `#[cfg(test)]` modules blanked out (same
/// length and lines, so offsets still give line numbers). Relies on
/// rustfmt's layout: a test module ends with a `}` in column 0.
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_test = false;
    let mut lines = text.split_inclusive('\n').peekable();
    while let Some(line) = lines.next() {
        let blank = |l: &str| l.chars().map(|c| if c == '\n' { c } else { ' ' }).collect::<String>();
        if !in_test && line.trim_end() == "#[cfg(test)]" {
            let next = lines.peek().map_or("", |l| l.trim_end());
            if next.contains("mod ") && next.ends_with('{') && !next.starts_with(' ') {
                in_test = true;
            }
        }
        if in_test {
            if line.trim_end() == "}" {
                in_test = false;
            }
            out.push_str(&blank(line));
            continue;
        }
        match line.find("//") {
            Some(i) => {
                out.push_str(&line[..i]);
                out.push_str(&blank(&line[i..]));
            }
            None => out.push_str(line),
        }
    }
    out
}

/// The module paths of a use tree or path starting at `rest` (just after
/// `crate::` or `super::`), relative to that root: `{a, b::{c, d}}` gives
/// `a`, `b::c`, `b::d`.
fn use_paths(rest: &str) -> Vec<Vec<String>> {
    fn tree(s: &str, i: &mut usize, prefix: &[String], out: &mut Vec<Vec<String>>) {
        let b = s.as_bytes();
        let skip_ws = |i: &mut usize| {
            while *i < b.len() && b[*i].is_ascii_whitespace() {
                *i += 1;
            }
        };
        skip_ws(i);
        if *i < b.len() && b[*i] == b'{' {
            *i += 1;
            loop {
                skip_ws(i);
                if *i >= b.len() || b[*i] == b'}' {
                    *i += 1;
                    return;
                }
                tree(s, i, prefix, out);
                skip_ws(i);
                if *i < b.len() && b[*i] == b',' {
                    *i += 1;
                }
            }
        }
        let start = *i;
        while *i < b.len() && (b[*i].is_ascii_alphanumeric() || b[*i] == b'_') {
            *i += 1;
        }
        if start == *i {
            // `*` or something else: the prefix alone.
            while *i < b.len() && !matches!(b[*i], b',' | b'}' | b';') {
                *i += 1;
            }
            out.push(prefix.to_vec());
            return;
        }
        let mut path = prefix.to_vec();
        path.push(s[start..*i].to_string());
        if s[*i..].starts_with("::") {
            *i += 2;
            tree(s, i, &path, out);
        } else {
            // Skip `as name` and the like.
            while *i < b.len() && !matches!(b[*i], b',' | b'}' | b';' | b'(' | b')' | b'\n') {
                *i += 1;
            }
            out.push(path);
        }
    }
    let mut out = Vec::new();
    tree(rest, &mut 0, &[], &mut out);
    out
}

/// Every module edge of the crate that runs against the table, as
/// `file:line: from -> to`, and modules the table lacks.
fn violations() -> Vec<String> {
    let order = order();
    let mut out = Vec::new();
    let mut files = Vec::new();
    let mut dirs = vec![repo().join("src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|e| e == "rs") {
                files.push(p);
            }
        }
    }
    files.sort();
    for file in files {
        let module = module_of(&file);
        // The crate root and the binary are above every layer.
        if module == ["lib"] || module == ["main"] {
            continue;
        }
        let rel = file.strip_prefix(repo()).unwrap().display().to_string();
        let Some(from) = place(&module) else {
            out.push(format!("{rel}: module `{}` is in no layer (tests/kgen/layers.rs)", module.join("::")));
            continue;
        };
        let text = code_only(&std::fs::read_to_string(&file).unwrap());
        for (root, parent) in [("crate::", Vec::new()), ("super::", module[..module.len() - 1].to_vec())] {
            for (at, _) in text.match_indices(root) {
                // `$crate::` (macros) is the crate too; `a::super::` is not a root.
                let before = text[..at].chars().last();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                    continue;
                }
                let line = text[..at].matches('\n').count() + 1;
                for path in use_paths(&text[at + root.len()..]) {
                    let target: Vec<String> = parent.iter().cloned().chain(path).collect();
                    let Some(to) = place(&target) else { continue };
                    if to > from {
                        out.push(format!(
                            "{rel}:{line}: `{}` uses `{}` ({} layer uses {} layer)",
                            module.join("::"),
                            target.join("::"),
                            layer_of(order[from]),
                            layer_of(order[to]),
                        ));
                    }
                }
            }
        }
    }
    out
}

fn layer_of(entry: &str) -> &'static str {
    LAYERS.iter().find(|(_, modules)| modules.contains(&entry)).map(|(name, _)| *name).unwrap()
}

#[test]
fn modules_use_only_earlier_layers() {
    let found = violations();
    assert!(
        found.is_empty(),
        "modules that use a later layer (ARCHITECTURE.md, \"Layers\"): move the item down or the use up\n{}",
        found.join("\n")
    );
}

/// Every entry of the table names a module that exists.
#[test]
fn the_table_names_real_modules() {
    let src = repo().join("src");
    let mut missing = BTreeSet::new();
    for entry in order() {
        let rel = entry.replace("::", "/");
        if !src.join(format!("{rel}.rs")).is_file() && !src.join(&rel).join("mod.rs").is_file() {
            missing.insert(entry);
        }
    }
    assert!(missing.is_empty(), "entries of LAYERS without a module: {missing:?}");
}

/// ARCHITECTURE.md's layer table is this one.
#[test]
fn architecture_md_lists_the_layers() {
    let doc = std::fs::read_to_string(repo().join("ARCHITECTURE.md")).unwrap();
    for (layer, modules) in LAYERS {
        let row = format!("| {layer} | {} |", modules.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", "));
        assert!(doc.contains(&row), "ARCHITECTURE.md lacks the row\n{row}");
    }
}

/// The check finds a back edge, in a `use` tree over several lines, and
/// ignores comments and unit tests.
#[test]
fn the_check_can_fail() {
    let text = "use crate::{\n    diagnostic,\n    render::{lifecycle, self},\n};\n// crate::commands\n#[cfg(test)]\nmod tests {\n    use crate::commands;\n}\n";
    let code = code_only(text);
    assert!(!code.contains("commands"), "{code}");
    let at = code.find("crate::").unwrap() + "crate::".len();
    let paths: Vec<String> = use_paths(&code[at..]).iter().map(|p| p.join("::")).collect();
    assert_eq!(paths, ["diagnostic", "render::lifecycle", "render::self"]);
    let model = place(&["model".into()]).unwrap();
    assert!(place(&["render".into(), "lifecycle".into()]).unwrap() > model);
    assert!(place(&["model".into(), "names".into()]).unwrap() < place(&["inputs".into()]).unwrap());
    assert_eq!(place(&["model".into(), "build".into(), "config".into()]), Some(model));
}
