//! The layers of ARCHITECTURE.md ("Layers"), enforced: every `crate::…`
//! and `super::…` path in `src/` names a module of an earlier entry of
//! [`LAYERS`] (or the module itself), so the modules form no cycle. Unit
//! tests (`#[cfg(test)]` modules) may use any module and are not read.
//!
//! Two invariants a scan of the same code holds too: the render core does
//! no IO and reads no clock or randomness, and derived names are made in
//! `model::naming`, not `format!`ed in place.

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
    for file in source_files("src") {
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

/// The `.rs` files under a folder of the repository, sorted.
fn source_files(folder: &str) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![repo().join(folder)];
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
    files
}

/// What the render core (`model`, `render`) may not name: files, the
/// environment, processes, sockets, the clock, randomness.
const IMPURE: &[&str] = &[
    "std::fs",
    "std::env",
    "std::process",
    "std::io::stdin",
    "std::time",
    "SystemTime",
    "Instant",
    "TcpStream",
    "UdpSocket",
    "rand::",
    "getrandom",
];

/// Where `text` (code only) names something of [`IMPURE`], as `line: what`.
fn impure_uses(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for word in IMPURE {
        for (at, _) in text.match_indices(word) {
            out.push(format!("{}: `{word}`", text[..at].matches('\n').count() + 1));
        }
    }
    out
}

/// Where `text` (code only) makes a name in place, `format!("{x}-suffix")`
/// or `format!("{}-suffix", x)`: the shape of the derived names that
/// belong in `model::naming`. As `line: the format string`.
fn names_made_in_place(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (at, _) in text.match_indices("format!(\"{") {
        let literal = &text[at + "format!(\"".len()..];
        let Some(end) = literal.find('"') else { continue };
        let literal = &literal[..end];
        let Some((braces, suffix)) = literal.split_once("}-") else { continue };
        let plain_value = braces[1..].chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
        let word =
            !suffix.is_empty() && suffix.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if plain_value && word {
            out.push(format!("{}: `{literal}`", text[..at].matches('\n').count() + 1));
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

/// "The render core is pure" (ARCHITECTURE.md): `model` and `render` do no
/// IO and read no environment, clock or randomness.
#[test]
fn the_render_core_is_pure() {
    let mut found = Vec::new();
    for folder in ["src/model", "src/render"] {
        for file in source_files(folder) {
            let rel = file.strip_prefix(repo()).unwrap().display().to_string();
            let text = code_only(&std::fs::read_to_string(&file).unwrap());
            found.extend(impure_uses(&text).into_iter().map(|u| format!("{rel}:{u}")));
        }
    }
    assert!(found.is_empty(), "the render core must stay pure (ARCHITECTURE.md, Invariants):\n{}", found.join("\n"));
}

/// "One naming function per object family" (ARCHITECTURE.md): what builds
/// objects or reads their names takes them from `model::naming`.
#[test]
fn derived_names_come_from_model_naming() {
    let mut found = Vec::new();
    for folder in ["src/model/validate", "src/render", "src/check"] {
        for file in source_files(folder) {
            let rel = file.strip_prefix(repo()).unwrap().display().to_string();
            let text = code_only(&std::fs::read_to_string(&file).unwrap());
            found.extend(names_made_in_place(&text).into_iter().map(|u| format!("{rel}:{u}")));
        }
    }
    for file in ["src/requirements.rs", "src/bootstrap.rs"] {
        let text = code_only(&std::fs::read_to_string(repo().join(file)).unwrap());
        found.extend(names_made_in_place(&text).into_iter().map(|u| format!("{file}:{u}")));
    }
    assert!(found.is_empty(), "derived names belong in model::naming, one function each:\n{}", found.join("\n"));
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
    // The scans of the two invariants.
    let code = code_only("let t = std::time::Instant::now();\n// std::fs::read\nlet x = std::env::var(\"A\");\n");
    assert_eq!(impure_uses(&code), ["3: `std::env`", "1: `std::time`", "1: `Instant`"]);
    let code = "let a = format!(\"{name}-headless\");\nlet b = format!(\"{}-ws\", app.name);\nlet c = format!(\"{a}-{b}\");\nlet d = format!(\"pod-security.kubernetes.io/{mode}-version\");\nlet e = format!(\"{app}: {x}-y\");\n";
    assert_eq!(names_made_in_place(code), ["1: `{name}-headless`", "2: `{}-ws`"]);
}
