//! Helpers shared by the integration tests: running the binary, the shipped
//! profiles and their environments, and locating external checkers.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Environment variables the test profiles read at render time (the
/// shipped profiles read none: kgen generates what they need).
pub const PROFILE_ENV: &[(&str, &str)] = &[("KGEN_FIXTURE_API_KEY", "fixture-api-key-7f3a9c")];

/// `kgen` with plain diagnostics, run from the repository root.
pub fn kgen() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kgen"));
    cmd.current_dir(repo()).env("NO_COLOR", "1");
    for (var, _) in PROFILE_ENV {
        cmd.env_remove(var);
    }
    cmd
}

/// Run kgen with arguments and optional stdin.
pub fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = kgen();
    cmd.args(args);
    for (k, v) in PROFILE_ENV {
        cmd.env(k, v);
    }
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("kgen runs");
    if let Some(input) = stdin {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    child.wait_with_output().expect("kgen finishes")
}

/// Render a shipped profile in an environment; panics on failure.
pub fn render(profile: &str, env: Option<&str>) -> String {
    let mut args = vec!["render", profile];
    if let Some(e) = env {
        args.extend(["--env", e]);
    }
    let out = run(&args, None);
    assert!(out.status.success(), "kgen {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// Every shipped profile (`profiles/`, and the benchmarks' profiles in
/// `benches/profiles/`) with its environments (`None` is the base).
pub fn profile_matrix() -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let mut paths: Vec<String> = vec![];
    for dir in ["profiles", "benches/profiles"] {
        let files = std::fs::read_dir(repo().join(dir)).unwrap().map(|e| e.unwrap().path());
        let yaml = files.filter(|p| p.extension().is_some_and(|x| x == "yaml"));
        paths.extend(yaml.map(|p| format!("{dir}/{}", p.file_name().unwrap().to_string_lossy())));
    }
    paths.sort_by_key(|p| p.rsplit('/').next().unwrap_or_default().to_string());
    for rel in paths {
        let path = repo().join(&rel);
        let mut sources = kgen::source::SourceMap::default();
        let loaded =
            kgen::profile::load::load(&path, &Default::default(), &mut sources).expect("shipped profiles load");
        out.push((rel.clone(), None));
        for e in loaded.environments {
            out.push((rel.clone(), Some(e)));
        }
    }
    out
}

/// The shipped profiles' matrix plus the profiles of `tests/kgen/fixtures/`
/// (features no seed uses, each in its base), for the external checkers.
pub fn coverage_matrix() -> Vec<(String, Option<String>)> {
    let mut out = profile_matrix();
    let mut fixtures: Vec<String> = std::fs::read_dir(repo().join("tests/kgen/fixtures"))
        .unwrap()
        .map(|e| format!("tests/kgen/fixtures/{}", e.unwrap().file_name().to_string_lossy()))
        .filter(|p| p.ends_with(".yaml"))
        .collect();
    fixtures.sort();
    out.extend(fixtures.into_iter().map(|p| (p, None)));
    out
}

/// A scratch directory under target/, fresh for each call.
pub fn scratch(name: &str) -> PathBuf {
    let dir = repo().join("target").join("test-scratch").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// An external checker (python with PyYAML, kubectl, the validator, …).
/// Missing tools skip the test with a note, unless KGEN_REQUIRE_TOOLS=1
/// (set by .ci/run), where a missing tool is a failure.
pub fn tool(name: &str, candidates: &[&str]) -> Option<PathBuf> {
    let found =
        candidates.iter().map(PathBuf::from).find(|p| if p.is_absolute() { p.exists() } else { which(p).is_some() });
    let found = found.map(|p| if p.is_absolute() { p } else { which(&p).unwrap() });
    if found.is_none() {
        skip(&format!("{name} is required but not found in {candidates:?}"), "run .ci/run to install it");
    }
    found
}

/// Skip (part of) a test because something outside the repository is
/// missing: `why` says what, `remedy` how to get it. With
/// KGEN_REQUIRE_TOOLS=1 (set by .ci/run) this fails the test instead.
///
/// The note goes straight to the process's stderr, not through
/// `eprintln!`, which libtest captures and drops for a passing test: a
/// skipped check would otherwise show as a plain `ok`.
pub fn skip(why: &str, remedy: &str) {
    if std::env::var("KGEN_REQUIRE_TOOLS").as_deref() == Ok("1") {
        panic!("{why} (KGEN_REQUIRE_TOOLS=1)");
    }
    use std::io::Write;
    let test = std::thread::current().name().unwrap_or("a test").to_string();
    let _ = writeln!(std::io::stderr().lock(), "SKIPPED (part of) {test}: {why}; {remedy}");
}

fn which(name: &Path) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| std::env::split_paths(&paths).map(|d| d.join(name)).find(|p| p.is_file()))
}

/// A Python with PyYAML (a YAML 1.1 reader, like kubectl's).
pub fn python_with_pyyaml() -> Option<PathBuf> {
    let venv = std::env::var("VALIDATORS_VENV").unwrap_or_else(|_| "/tmp/validators/venv".into());
    let candidates = [format!("{venv}/bin/python"), "python3".to_string()];
    let found = candidates.iter().map(PathBuf::from).find(|p| {
        Command::new(p).args(["-c", "import yaml"]).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
    });
    if found.is_none() {
        tool("python3 with PyYAML", &[]);
    }
    found
}
