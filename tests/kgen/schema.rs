//! The profile's JSON Schema (`kgen schema`) in an editor: the real
//! yaml-language-server, driven over LSP stdio by `schema/lsp_diagnostics.js`,
//! must find nothing wrong in any profile kgen accepts (the shipped
//! profiles, `kgen init`'s, `schema/valid/`, the schema's own examples) and
//! flag what kgen refuses (`schema/invalid/`) on the lines kgen does.
//!
//! Each file names the schema with a `# yaml-language-server: $schema=…`
//! modeline, as `kgen init` writes it. A case's expected diagnostics are in
//! `schema/invalid/NAME.diagnostics` (`LINE:COLUMN message`, lines of the
//! file without the modeline); `KGEN_BLESS=1` rewrites them.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{kgen, repo, run, scratch, tool};

/// How long the language server may take for all files.
const SERVER_TIMEOUT: Duration = Duration::from_secs(120);

const MODELINE: &str = "# yaml-language-server: $schema=kgen.schema.json\n";

/// The yaml-language-server that `.ci/run` installs (the version is pinned
/// there), or one on PATH.
fn yaml_language_server() -> Option<PathBuf> {
    let prefix = std::env::var("YAML_LANGUAGE_SERVER_PREFIX").unwrap_or_else(|_| "/tmp/yaml-language-server".into());
    let pinned = format!("{prefix}/node_modules/yaml-language-server/bin/yaml-language-server");
    let server = tool("yaml-language-server (npm)", &[&pinned, "yaml-language-server"])?;
    // bin/yaml-language-server, beside its package.json.
    let package =
        std::fs::canonicalize(&server).ok().and_then(|p| p.parent()?.parent().map(|d| d.join("package.json")));
    let version = package
        .and_then(|p| std::fs::read(p).ok())
        .and_then(|text| serde_json::from_slice::<serde_json::Value>(&text).ok())
        .and_then(|json| json["version"].as_str().map(String::from));
    eprintln!(
        "note: yaml-language-server {} ({})",
        version.as_deref().unwrap_or("of unknown version"),
        server.display()
    );
    Some(server)
}

/// One file the server and kgen read.
struct Case {
    /// Where it came from, for messages.
    origin: String,
    /// The file given to both (in the directory of the schema).
    file: PathBuf,
    /// Lines put before the original text (the modeline).
    added_lines: usize,
    /// For a profile kgen refuses: where its expected diagnostics are.
    expected: Option<PathBuf>,
}

/// A copy of `source` with the modeline, in `dir`.
fn with_modeline(dir: &Path, name: &str, origin: &str, text: &str, expected: Option<PathBuf>) -> Case {
    let file = dir.join(name);
    std::fs::write(&file, format!("{MODELINE}{text}")).unwrap();
    Case { origin: origin.to_string(), file, added_lines: 1, expected }
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    files
}

/// Profiles kgen accepts: the shipped ones, `kgen init`'s, `schema/valid/`
/// and one per example the schema gives for a top-level field.
fn valid_cases(dir: &Path, schema: &serde_json::Value) -> Vec<Case> {
    let mut cases = Vec::new();
    for (folder, prefix) in [("profiles", "shipped"), ("tests/kgen/schema/valid", "valid")] {
        for path in yaml_files(&repo().join(folder)) {
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            let text = std::fs::read_to_string(&path).unwrap();
            cases.push(with_modeline(dir, &format!("{prefix}-{name}"), &format!("{folder}/{name}"), &text, None));
        }
    }

    // `kgen init` writes the modeline itself, naming kgen.schema.json beside
    // the profile.
    let digest = "a".repeat(64);
    let variants: [&[&str]; 4] = [
        &[],
        &["--name", "shop", "--image", "ghcr.io/acme/shop:2.1.0"],
        &["--name", "x1", "--image", &format!("localhost:5000/team/x1@sha256:{digest}")],
        &["--name", "web-api", "--image", "nginx"],
    ];
    for (i, args) in variants.iter().enumerate() {
        let name = format!("init-{i}.yaml");
        let out = kgen().args(["init", &name]).args(*args).current_dir(dir).output().unwrap();
        assert!(out.status.success(), "kgen init {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        cases.push(Case {
            origin: format!("kgen init {}", args.join(" ")),
            file: dir.join(name),
            added_lines: 0,
            expected: None,
        });
    }
    let out = run(&["init", "-"], None);
    std::fs::write(dir.join("init-stdout.yaml"), &out.stdout).unwrap();
    cases.push(Case {
        origin: "kgen init -".into(),
        file: dir.join("init-stdout.yaml"),
        added_lines: 0,
        expected: None,
    });

    // The schema's examples of top-level fields, each in a small profile
    // with a port and a database (what routes and migrations need).
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::write(
        dir.join("templates/service-entry.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: service-entry\ndata:\n  host: api.example.com\n",
    )
    .unwrap();
    for (field, property) in schema["properties"].as_object().unwrap() {
        for (i, example) in property["examples"].as_array().into_iter().flatten().enumerate() {
            let serde_json::Value::Object(mut profile) = serde_json::json!({
                "name": "shop",
                "image": "ghcr.io/example/shop:1.4.2",
                "ports": {"http": 8080},
                "databases": {"main": {"engine": "postgres"}},
            }) else {
                unreachable!()
            };
            if field == "components" {
                profile.remove("ports");
            }
            profile.insert(field.clone(), example.clone());
            // JSON is YAML (flow style).
            let text = format!("{}\n", serde_json::Value::Object(profile));
            let name = format!("example-{field}-{i}.yaml");
            cases.push(with_modeline(dir, &name, &format!("the schema's example {i} of `{field}`"), &text, None));
        }
    }
    cases
}

/// Profiles kgen refuses, from `schema/invalid/`.
fn invalid_cases(dir: &Path) -> Vec<Case> {
    yaml_files(&repo().join("tests/kgen/schema/invalid"))
        .into_iter()
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            let text = std::fs::read_to_string(&path).unwrap();
            let expected = path.with_extension("diagnostics");
            with_modeline(
                dir,
                &format!("invalid-{name}"),
                &format!("tests/kgen/schema/invalid/{name}"),
                &text,
                Some(expected),
            )
        })
        .collect()
}

/// The server's diagnostics for every file, as `LINE:COLUMN message` (lines
/// of the original text), by file.
fn server_diagnostics(node: &Path, server: &Path, dir: &Path, cases: &[Case]) -> Vec<Vec<(usize, String)>> {
    let driver = repo().join("tests/kgen/schema/lsp_diagnostics.js");
    let mut child = Command::new(node)
        .arg(&driver)
        .arg(server)
        .arg(SERVER_TIMEOUT.as_millis().to_string())
        .args(cases.iter().map(|c| c.file.file_name().unwrap()))
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node runs");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        stdout.read_to_string(&mut text).map(|_| text)
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        stderr.read_to_string(&mut text).map(|_| text)
    });
    // The driver stops itself at SERVER_TIMEOUT; this bounds the driver.
    let deadline = Instant::now() + SERVER_TIMEOUT + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the yaml-language-server driver did not finish in time");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = out.join().unwrap().unwrap();
    let err = err.join().unwrap().unwrap();
    assert!(status.success(), "the yaml-language-server driver failed ({status}):\n{err}");
    let report: serde_json::Value = serde_json::from_str(&out).expect("the driver prints JSON");
    cases
        .iter()
        .map(|case| {
            let name = case.file.file_name().unwrap().to_string_lossy();
            let diagnostics = report[name.as_ref()].as_array().unwrap_or_else(|| panic!("no report for {name}"));
            let mut found: Vec<(usize, String)> = diagnostics
                .iter()
                .map(|d| {
                    let line = d["line"].as_u64().unwrap() as usize - case.added_lines;
                    let message = d["message"].as_str().unwrap().replace('\n', " ");
                    (line, format!("{line}:{} {message}", d["column"]))
                })
                .collect();
            found.sort();
            found
        })
        .collect()
}

/// `kgen check`'s verdict on a file (every environment), and the lines of
/// the original text its errors point at.
fn kgen_check(case: &Case) -> (bool, BTreeSet<usize>, String) {
    let out = kgen().arg("check").arg(&case.file).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let file = case.file.display().to_string();
    let mut lines = BTreeSet::new();
    let mut in_error = false;
    for line in stderr.lines() {
        if line.starts_with("error") {
            in_error = true;
        } else if line.starts_with("warning") {
            in_error = false;
        }
        if let Some(at) = line.trim_start().strip_prefix("--> ").and_then(|l| l.strip_prefix(file.as_str()))
            && in_error
            && let Some(n) = at.split(':').nth(1).and_then(|n| n.parse::<usize>().ok())
        {
            lines.insert(n - case.added_lines);
        }
    }
    (out.status.success(), lines, stderr)
}

/// Issue 14: the schema accepts what kgen accepts (no false diagnostics on
/// shipped profiles, `kgen init`'s or any short form and `null` reset), and
/// flags what kgen refuses, where kgen does.
#[test]
fn yaml_language_server_agrees_with_kgen() {
    let (Some(node), Some(server)) = (tool("node", &["node"]), yaml_language_server()) else { return };
    let dir = scratch("schema-editor");
    // The shared defaults file the shipped profiles (and the schema's
    // example of `defaults`) name, beside the copies.
    std::fs::create_dir_all(dir.join("platform-team")).unwrap();
    let defaults = crate::support::repo().join("profiles/platform-team/defaults.yaml");
    std::fs::copy(defaults, dir.join("platform-team/defaults.yaml")).unwrap();
    let schema = run(&["schema"], None);
    assert!(schema.status.success());
    std::fs::write(dir.join("kgen.schema.json"), &schema.stdout).unwrap();
    let schema: serde_json::Value = serde_json::from_slice(&schema.stdout).unwrap();

    let mut cases = valid_cases(&dir, &schema);
    let valid = cases.len();
    cases.extend(invalid_cases(&dir));
    assert!(cases.len() > valid, "schema/invalid/ has cases");
    let found = server_diagnostics(&node, &server, &dir, &cases);

    let bless = std::env::var("KGEN_BLESS").as_deref() == Ok("1");
    let mut failures = Vec::new();
    for (case, diagnostics) in cases.iter().zip(&found) {
        let (accepted, kgen_lines, stderr) = kgen_check(case);
        let shown: Vec<&str> = diagnostics.iter().map(|(_, d)| d.as_str()).collect();
        match &case.expected {
            None => {
                if !accepted {
                    failures.push(format!("{}: kgen check refuses it:\n{stderr}", case.origin));
                }
                if !diagnostics.is_empty() {
                    failures.push(format!(
                        "{}: the schema flags a profile kgen accepts:\n  {}",
                        case.origin,
                        shown.join("\n  ")
                    ));
                }
            }
            Some(expected) => {
                if accepted {
                    failures.push(format!("{}: kgen check accepts it", case.origin));
                }
                let server_lines: BTreeSet<usize> = diagnostics.iter().map(|(l, _)| *l).collect();
                if server_lines != kgen_lines {
                    failures.push(format!(
                        "{}: the schema flags lines {server_lines:?}, kgen lines {kgen_lines:?}:\n  {}\n{stderr}",
                        case.origin,
                        shown.join("\n  ")
                    ));
                }
                let text: String = shown.iter().map(|d| format!("{d}\n")).collect();
                if bless {
                    std::fs::write(expected, &text).unwrap();
                } else {
                    let want = std::fs::read_to_string(expected).unwrap_or_default();
                    if want != text {
                        failures.push(format!(
                            "{}: diagnostics differ from {} (KGEN_BLESS=1 rewrites it):\n--- expected\n{want}--- found\n{text}",
                            case.origin,
                            expected.strip_prefix(repo()).unwrap_or(expected).display()
                        ));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of {} files:\n\n{}", failures.len(), cases.len(), failures.join("\n\n"));
}
