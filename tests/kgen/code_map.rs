//! ARCHITECTURE.md's code map kept in step with the tree: a newcomer finds
//! every folder and top-level file from it, no row is named twice, and no
//! row names what is not there. The files are git's (`git ls-files`), so
//! what the build leaves behind (`target/`) is not asked for.

use std::collections::{BTreeMap, BTreeSet};

use crate::support::repo;

/// Entries of the repository that need no row: the map itself, and git's
/// own file.
const UNMAPPED: &[&str] = &["ARCHITECTURE.md", ".gitignore"];

/// A row of the code map: the paths its first cell names, and its text.
struct Row {
    paths: Vec<String>,
    text: String,
}

/// The rows of the "Code map" section.
fn rows(doc: &str) -> Vec<Row> {
    let start = doc.find("## Code map").expect("ARCHITECTURE.md has a `## Code map` section");
    let end = doc[start..].find("\n## ").map_or(doc.len(), |n| start + n);
    doc[start..end]
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let first = l[1..].split(" | ").next().unwrap_or_default();
            let paths = first.split('`').skip(1).step_by(2).map(str::to_string).collect();
            Row { paths, text: l.to_string() }
        })
        .collect()
}

/// Every tracked file, relative to the repository.
fn tracked() -> Vec<String> {
    let out = std::process::Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(repo())
        .output()
        .expect("git runs (the code map is checked against git's files)");
    assert!(out.status.success(), "git ls-files: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout.split(|b| *b == 0).filter(|f| !f.is_empty()).map(|f| String::from_utf8_lossy(f).into_owned()).collect()
}

/// The folders (`a/b/`) and files of the tree, each once.
fn entries(files: &[String]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for file in files {
        let mut at = 0;
        while let Some(n) = file[at..].find('/') {
            at += n + 1;
            out.insert(file[..at].to_string());
        }
        out.insert(file.clone());
    }
    out
}

/// Whether a row's path (`benches/*.sh`, `src/yaml/`, `Cargo.toml`) names
/// something of the tree.
fn exists(path: &str, entries: &BTreeSet<String>) -> bool {
    match path.split_once('*') {
        Some((before, after)) => entries.iter().any(|e| e.starts_with(before) && e.ends_with(after)),
        None => entries.contains(path),
    }
}

/// What is wrong with the map, one line per problem.
fn problems(doc: &str, files: &[String]) -> Vec<String> {
    let entries = entries(files);
    let rows = rows(doc);
    let mut problems = Vec::new();
    let mut named: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, row) in rows.iter().enumerate() {
        for path in &row.paths {
            if let Some(other) = named.insert(path, i) {
                problems.push(format!("`{path}` has two rows:\n  {}\n  {}", rows[other].text, row.text));
            }
            if !exists(path, &entries) {
                problems.push(format!("`{path}` has a row but is not in the tree"));
            }
        }
    }
    // Every module of src/: one row, naming both its file and its folder
    // where it has both.
    for entry in entries.iter().filter(|e| is_child_of(e, "src/")) {
        let module = entry.trim_end_matches('/').trim_end_matches(".rs");
        let (file, folder) = (format!("{module}.rs"), format!("{module}/"));
        let row_of = |p: &str| named.get(p).copied();
        match (row_of(&file), row_of(&folder)) {
            (None, None) => problems.push(format!("`{entry}` has no row")),
            (Some(a), Some(b)) if a != b => problems.push(format!("`{file}` and `{folder}` have different rows")),
            (Some(_), None) if entries.contains(&folder) => {
                problems.push(format!("the row of `{file}` does not name `{folder}`"));
            }
            (None, Some(_)) if entries.contains(&file) => {
                problems.push(format!("the row of `{folder}` does not name `{file}`"));
            }
            _ => {}
        }
    }
    // Everything else: named, or every entry inside it is.
    for entry in entries.iter().filter(|e| !e.trim_end_matches('/').contains('/')) {
        if entry != "src/" && !UNMAPPED.contains(&entry.as_str()) {
            covered(entry, &named, &entries, &mut problems);
        }
    }
    // A named folder's own folders: a row of their own, or named in its
    // row's text, so that a newcomer learns what each holds.
    for (path, &row) in &named {
        if !path.ends_with('/') {
            continue;
        }
        for sub in entries.iter().filter(|e| e.ends_with('/') && is_child_of(e, path)) {
            let name = &sub[path.len()..];
            if !named.contains_key(sub.as_str()) && !rows[row].text.contains(&format!("`{name}")) {
                problems.push(format!("the row of `{path}` does not say what `{name}` holds"));
            }
        }
    }
    problems
}

/// Whether `entry` is directly inside the folder `parent`.
fn is_child_of(entry: &str, parent: &str) -> bool {
    entry.strip_prefix(parent).is_some_and(|rest| !rest.is_empty() && !rest.trim_end_matches('/').contains('/'))
}

/// `entry` is named by a row, or is a folder whose every entry is covered.
fn covered(entry: &str, named: &BTreeMap<&str, usize>, entries: &BTreeSet<String>, problems: &mut Vec<String>) {
    if named.contains_key(entry) || named.keys().any(|p| p.contains('*') && exists(p, entries) && p.starts_with(entry))
    {
        return;
    }
    let inside = entry.ends_with('/') && named.keys().any(|p| p.starts_with(entry));
    if !inside {
        problems.push(format!("`{entry}` has no row"));
        return;
    }
    for child in entries.iter().filter(|e| is_child_of(e, entry)) {
        covered(child, named, entries, problems);
    }
}

#[test]
fn every_folder_and_top_level_file_has_one_true_row() {
    let doc = std::fs::read_to_string(repo().join("ARCHITECTURE.md")).unwrap();
    let problems = problems(&doc, &tracked());
    assert!(problems.is_empty(), "ARCHITECTURE.md's code map is out of step with the tree:\n{}", problems.join("\n"));
}

/// The check finds a duplicate, a false row, a module without a row, a
/// file and folder of one module in two rows, and a folder its row does
/// not describe.
#[test]
fn the_check_can_fail() {
    let files: Vec<String> =
        ["src/a.rs", "src/a/x.rs", "src/b.rs", "src/c/mod.rs", "src/c/d/e.rs", "README.md", "tests/t/f.rs"]
            .map(str::to_string)
            .to_vec();
    let good = "## Code map\n| `src/a.rs`, `src/a/` | a |\n| `src/b.rs` | b |\n| `src/c/` | c; `d/`: e |\n| `README.md` | r |\n| `tests/t/` | t |\n## Layers\n";
    assert_eq!(problems(good, &files), Vec::<String>::new());
    let bad = "## Code map\n| `src/a.rs` | a |\n| `src/a/` | a |\n| `src/c/` | c |\n| `README.md` | r |\n| `README.md` | again |\n| `gone.rs` | x |\n## Layers\n";
    let found = problems(bad, &files).join("\n");
    for expected in [
        "`README.md` has two rows",
        "`gone.rs` has a row but is not in the tree",
        "`src/b.rs` has no row",
        "`src/a.rs` and `src/a/` have different rows",
        "the row of `src/c/` does not say what `d/` holds",
        "`tests/` has no row",
    ] {
        assert!(found.contains(expected), "{expected} not in\n{found}");
    }
}
