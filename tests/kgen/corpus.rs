//! The bad-input corpus: every case is a profile that kgen must refuse with
//! a located, helpful message, exit code 1 and nothing on stdout — never a
//! panic.
//!
//! Cases are data, in `tests/kgen/corpus/`:
//!
//! - `NN-name.yaml`: the profile, byte for byte (it may be invalid UTF-8);
//! - `NN-name.args` (optional): extra arguments, one per line, placed before
//!   the profile; a line `-` reads the profile from stdin instead;
//! - `NN-name.stderr`: the whole expected stderr;
//! - or, for a case that needs files beside its profile (extra manifests,
//!   patches), a folder `NN-name/` with the profile as `app.yaml`: it runs
//!   in a scratch copy of the folder, to which [`PREPARED`] adds what git
//!   cannot hold (FIFOs, links into `/dev`, sparse files).
//!
//! This is the one place whole error messages are kept: other tests check
//! exit codes, parts of messages and what is on stdout.
//!
//! Inputs too large or too repetitive to keep in git are built by the
//! [`GENERATED`] table instead, with the same `.stderr` files.
//!
//! To add a case, write the `.yaml` (and `.args`), run
//! `KGEN_BLESS=1 cargo test corpus`, and review the `.stderr` it wrote.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::support::{kgen, repo, scratch};

pub(super) fn corpus_dir() -> PathBuf {
    repo().join("tests/kgen/corpus")
}

/// A case whose input is built by code: (name, args, input).
type Generated = (&'static str, &'static [&'static str], fn() -> Vec<u8>);

/// Cases whose input is generated: very large files, deep nesting.
const GENERATED: &[Generated] = &[
    ("g01-file-over-4-mib", &[], || {
        let mut s = String::from("name: big\nimage: big:1.0\nsettings:\n");
        while s.len() <= 4 << 20 {
            s.push_str(&format!("  K{}: {}\n", s.len(), "x".repeat(100)));
        }
        s.into_bytes()
    }),
    ("g02-stdin-over-4-mib", &["-"], || {
        let mut s = String::from("name: big\nimage: big:1.0\nsettings:\n  BIG: ");
        s.push_str(&"x".repeat(5 << 20));
        s.into_bytes()
    }),
    ("g03-nesting-10000-deep", &[], || {
        let mut s = String::from("name: deep\nimage: deep:1.0\nsettings:\n  X: ");
        s.push_str(&"[".repeat(10_000));
        s.push_str(&"]".repeat(10_000));
        s.push('\n');
        s.into_bytes()
    }),
    ("g04-block-nesting-100-deep", &[], || {
        let mut s = String::from("name: deep\nimage: deep:1.0\nlabels:\n");
        for i in 0..100 {
            s.push_str(&" ".repeat(2 * (i + 1)));
            s.push_str("a:\n");
        }
        s.into_bytes()
    }),
    ("g05-setting-of-2-mib", &[], || {
        let mut s = String::from("name: big\nimage: big:1.0\nsettings:\n  BIG: ");
        s.push_str(&"x".repeat(2 << 20));
        s.push('\n');
        s.into_bytes()
    }),
    ("g06-set-value-over-64-kib", &["--set"], || {
        // The `--set` argument is appended by `run_case` from the input.
        format!("settings.BIG={}", "x".repeat(70_000)).into_bytes()
    }),
    ("g07-set-value-nesting-1000-deep", &["--set"], || {
        format!("settings.X={}{}", "[".repeat(1000), "]".repeat(1000)).into_bytes()
    }),
    // Wide inputs: each of these once took minutes (quadratic work).
    ("g08-100k-invalid-label-keys", &[], || {
        let mut s = String::from("name: wide\nimage: wide:1.0\nlabels:\n");
        for i in 0..100_000 {
            s.push_str(&format!("  \"bad key {i}\": v\n"));
        }
        s.into_bytes()
    }),
    ("g09-50k-components-sharing-50k-variables", &[], || {
        let mut s = String::from("name: wide\nimage: wide:1.0\nenv:\n");
        for i in 0..50_000 {
            s.push_str(&format!("  E{i}: v\n"));
        }
        s.push_str("components:\n");
        for i in 0..50_000 {
            s.push_str(&format!("  c{i}: {{}}\n"));
        }
        s.into_bytes()
    }),
    ("g10-one-line-of-1-mib", &[], || {
        let items = vec!["1"; 200_000].join(",");
        format!("{{name: wide, image: wide:1.0, settings: {{X: [{items}]}}, typo: 1}}\n").into_bytes()
    }),
    ("g11-60k-duplicate-ports", &[], || {
        let mut s = String::from("name: wide\nimage: wide:1.0\nports:\n");
        for i in 0..60_000 {
            s.push_str(&format!("  p{i}: 8080\n"));
        }
        s.into_bytes()
    }),
    ("g12-20k-undeclared-secrets", &[], || {
        let mut s = String::from("name: wide\nimage: wide:1.0\nsecrets:\n");
        for i in 0..20_000 {
            s.push_str(&format!("  s{i}: {{env: [V{i}]}}\n"));
        }
        s.push_str("env:\n");
        for i in 0..20_000 {
            s.push_str(&format!("  X{i}: {{secret: nope{i}}}\n"));
        }
        s.into_bytes()
    }),
];

/// Cases that need more than one file or many arguments, built by code
/// into `dir`: (name, build), where build writes the case's files and
/// returns the arguments before the profile (the first may be a command
/// other than `render`) and the profile's bytes.
type Wide = (&'static str, fn(&Path) -> (Vec<String>, Vec<u8>));

/// Issue 13's "not linear" and "unbounded in total" findings, each at a
/// size that took seconds (or gigabytes) before its fix.
const WIDE: &[Wide] = &[
    ("g13-a-2-mib-label-key-in-a-message", |_| {
        let key = "k".repeat(2 << 20);
        (vec![], format!("name: wide\nimage: wide:1.0\nlabels: {{\"{key}\": v}}\n").into_bytes())
    }),
    ("g14-check-of-2000-environments", |_| {
        let mut s = String::from("name: wide\nimage: wide:1.0\nenvironments:\n");
        for i in 0..2000 {
            s.push_str(&format!("  e{i}: {{replicas: {}}}\n", i % 5 + 1));
        }
        s.push_str("  last: {replicas: many}\n");
        (vec!["check".into()], s.into_bytes())
    }),
    ("g15-16000-patches-on-16000-extra-objects", |dir| {
        let mut extra = String::new();
        let mut s = String::from("name: wide\nimage: wide:1.0\nextraManifests: [./g15-objects.yaml]\npatches:\n");
        for i in 0..16_000 {
            extra
                .push_str(&format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}}}\ndata: {{a: x}}\n"));
            s.push_str(&format!("  - {{target: {{kind: ConfigMap, name: c{i}}}, merge: {{data: {{b: y}}}}}}\n"));
        }
        s.push_str("  - {target: {kind: ConfigMap, name: c16000}, merge: {data: {b: y}}}\n");
        std::fs::write(dir.join("g15-objects.yaml"), extra).unwrap();
        (vec![], s.into_bytes())
    }),
    ("g16-40000-set-arguments", |_| {
        let mut args = Vec::new();
        for i in 0..40_000 {
            args.push("--set".to_string());
            args.push(format!("settings.K{i}=v"));
        }
        args.extend(["--set".to_string(), "replicas=many".to_string()]);
        (args, SET_BASE.as_bytes().to_vec())
    }),
    ("g17-one-4-mib-extra-manifest-named-150-times", |dir| {
        let big = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: big}}\ndata:\n  a: \"{}\"\n",
            "x".repeat(4_000_000)
        );
        std::fs::write(dir.join("g17-big.yaml"), big).unwrap();
        let mut s = String::from("name: wide\nimage: wide:1.0\nextraManifests:\n");
        for _ in 0..150 {
            s.push_str("  - ./g17-big.yaml\n");
        }
        (vec![], s.into_bytes())
    }),
    ("g18-25-extra-manifests-of-3-mib", |dir| {
        let mut s = String::from("name: wide\nimage: wide:1.0\nextraManifests:\n");
        for i in 0..25 {
            let name = format!("g18-extra-{i}.yaml");
            let text = format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}}}\ndata:\n  a: \"{}\"\n",
                "x".repeat(3 << 20)
            );
            std::fs::write(dir.join(&name), text).unwrap();
            s.push_str(&format!("  - ./{name}\n"));
        }
        (vec![], s.into_bytes())
    }),
    ("g19-set-path-30000-deep-with-two-profiles", |dir| {
        std::fs::write(dir.join("g19-other.yaml"), SET_BASE).unwrap();
        let path = vec!["a"; 30_000].join(".");
        (vec!["g19-other.yaml".into(), "--set".into(), format!("{path}=1")], SET_BASE.as_bytes().to_vec())
    }),
];

/// Time one case may take, even in a debug build on a busy machine; the
/// wide cases above took minutes before their fixes.
const CASE_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(20);

/// The profile every generated `--set` case renders.
const SET_BASE: &str = "name: shop\nimage: shop:1.0\n";

pub(super) struct Case {
    pub(super) name: String,
    pub(super) args: Vec<String>,
    pub(super) input: Vec<u8>,
    /// The file to run on, relative to the working directory.
    pub(super) file: PathBuf,
    pub(super) stdin: bool,
    /// The working directory of a folder case (a scratch copy); others
    /// run where they are told.
    pub(super) dir: Option<PathBuf>,
}

/// Folder cases that need files git cannot hold, made in the case's
/// scratch copy before it runs.
const PREPARED: &[(&str, fn(&Path))] = &[("134-extra-manifests-not-regular-files", |dir| {
    std::fs::create_dir(dir.join("templates")).unwrap();
    std::os::unix::fs::symlink("/dev/urandom", dir.join("templates/random.yaml")).unwrap();
    let mkfifo = std::process::Command::new("mkfifo").arg(dir.join("templates/fifo.yaml")).status().unwrap();
    assert!(mkfifo.success());
    // 200 MB, sparse: it costs no disk.
    std::fs::File::create(dir.join("big.yaml")).unwrap().set_len(200 << 20).unwrap();
})];

/// A scratch copy of a folder case, prepared; each call its own, so that
/// tests running at once do not share one.
fn folder_copy(case: &Path) -> PathBuf {
    static COPIES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COPIES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = case.file_name().unwrap().to_string_lossy().into_owned();
    let copy = scratch(&format!("corpus-folders/{n}/{name}"));
    copy_tree(case, &copy);
    if let Some((_, prepare)) = PREPARED.iter().find(|(n, _)| *n == name) {
        prepare(&copy);
    }
    copy
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

pub(super) fn static_cases() -> Vec<Case> {
    let dir = corpus_dir();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml") || p.is_dir())
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let args: Vec<String> = std::fs::read_to_string(dir.join(format!("{name}.args")))
                .map(|t| t.lines().map(String::from).collect())
                .unwrap_or_default();
            let stdin = args.iter().any(|a| a == "-");
            let (file, folder) = if path.is_dir() {
                (PathBuf::from("app.yaml"), Some(folder_copy(&path)))
            } else {
                (PathBuf::from(path.file_name().unwrap()), None)
            };
            let input = std::fs::read(folder.as_deref().unwrap_or(&dir).join(&file)).unwrap();
            Case { input, file, name, args, stdin, dir: folder }
        })
        .collect()
}

fn generated_cases() -> Vec<Case> {
    let dir = scratch("corpus-generated");
    GENERATED
        .iter()
        .map(|(name, args, make)| {
            let input = make();
            let mut args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
            let stdin = args.iter().any(|a| a == "-");
            let (file, input) = if args.last().is_some_and(|a| a == "--set") {
                // The generated text is the `--set` argument.
                args.push(String::from_utf8(input).unwrap());
                (PathBuf::from(format!("{name}.yaml")), SET_BASE.as_bytes().to_vec())
            } else {
                (PathBuf::from(format!("{name}.yaml")), input)
            };
            std::fs::write(dir.join(&file), &input).unwrap();
            Case { name: name.to_string(), args, input, file, stdin, dir: None }
        })
        .collect()
}

fn wide_cases(dir: &Path) -> Vec<Case> {
    WIDE.iter()
        .map(|(name, build)| {
            let (args, input) = build(dir);
            let file = PathBuf::from(format!("{name}.yaml"));
            std::fs::write(dir.join(&file), &input).unwrap();
            Case { name: name.to_string(), args, input, file, stdin: false, dir: None }
        })
        .collect()
}

/// Run one case; returns (exit code, stdout, stderr).
fn run_case(case: &Case, cwd: &Path) -> (Option<i32>, Vec<u8>, String) {
    run_case_with(case, cwd, &[])
}

/// Run one case with `extra` arguments after the subcommand.
pub(super) fn run_case_with(case: &Case, cwd: &Path, extra: &[&str]) -> (Option<i32>, Vec<u8>, String) {
    let mut args: Vec<String> = Vec::new();
    if case.args.first().is_none_or(|a| a != "check") {
        args.push("render".into());
    }
    args.extend(extra.iter().map(|a| a.to_string()));
    args.extend(case.args.iter().cloned());
    if !case.stdin {
        args.push(case.file.to_string_lossy().into_owned());
    }
    let mut child = kgen()
        .args(&args)
        .current_dir(case.dir.as_deref().unwrap_or(cwd))
        .stdin(if case.stdin { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if case.stdin {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        // kgen stops reading at its limit: a broken pipe here is fine.
        let _ = stdin.write_all(&case.input);
    }
    let out = child.wait_with_output().unwrap();
    (out.status.code(), out.stdout, String::from_utf8_lossy(&out.stderr).into_owned())
}

fn check_cases(cases: Vec<Case>, cwd: &Path) {
    let bless = std::env::var("KGEN_BLESS").as_deref() == Ok("1");
    let mut failures = Vec::new();
    for case in &cases {
        let started = std::time::Instant::now();
        let (code, stdout, stderr) = run_case(case, cwd);
        let took = started.elapsed();
        let expected_path = corpus_dir().join(format!("{}.stderr", case.name));
        let mut problems = Vec::new();
        if code != Some(1) {
            problems.push(format!("exit code {code:?}, expected 1 (None is a crash)"));
        }
        // `kgen check` prints its summary, one line per environment.
        if !stdout.is_empty() && case.args.first().is_none_or(|a| a != "check") {
            problems.push(format!("{} bytes on stdout", stdout.len()));
        }
        if stderr.contains("panicked") || stderr.contains("RUST_BACKTRACE") {
            problems.push("a panic".into());
        }
        if took > CASE_TIME_LIMIT {
            problems.push(format!("took {took:?}, more than {CASE_TIME_LIMIT:?}"));
        }
        if !stderr.starts_with("error: ") {
            problems.push("stderr does not start with `error: `".into());
        }
        if bless {
            std::fs::write(&expected_path, &stderr).unwrap();
        } else {
            match std::fs::read_to_string(&expected_path) {
                Ok(expected) if expected == stderr => {}
                Ok(expected) => problems.push(format!("stderr differs:\n--- expected\n{expected}--- actual\n{stderr}")),
                Err(_) => problems.push(format!("no {} (KGEN_BLESS=1 writes it):\n{stderr}", expected_path.display())),
            }
        }
        if !problems.is_empty() {
            failures.push(format!("{}: {}", case.name, problems.join("; ")));
        }
    }
    assert!(failures.is_empty(), "{} of {} corpus cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn corpus_cases_are_refused_with_located_messages() {
    let cases = static_cases();
    assert!(cases.len() >= 40, "the corpus has {} cases", cases.len());
    check_cases(cases, &corpus_dir());
}

#[test]
fn generated_corpus_cases_are_refused_with_located_messages() {
    let cases = generated_cases();
    check_cases(cases, &repo().join("target/test-scratch/corpus-generated"));
}

/// The wide cases of issue 13: linear work and bounded memory in total.
#[test]
fn wide_corpus_cases_are_refused_with_located_messages() {
    let dir = scratch("corpus-wide");
    let cases = wide_cases(&dir);
    check_cases(cases, &dir);
}

/// Every `.stderr` belongs to a case (a renamed case leaves none behind).
#[test]
fn corpus_has_no_orphaned_expectations() {
    let generated: Vec<&str> = GENERATED.iter().map(|(n, _, _)| *n).chain(WIDE.iter().map(|(n, _)| *n)).collect();
    for entry in std::fs::read_dir(corpus_dir()).unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.extension().is_some_and(|x| x == "stderr" || x == "args") {
            assert!(
                path.with_extension("yaml").exists()
                    || path.with_extension("").is_dir()
                    || generated.contains(&stem.as_str()),
                "{} has no case",
                path.display()
            );
        }
    }
    for (name, _) in PREPARED {
        assert!(corpus_dir().join(name).join("app.yaml").exists(), "PREPARED names {name}, which is no folder case");
    }
}
