//! Diagnostics as data (`--message-format json|github|sarif`) and the
//! exit status of each command.

use crate::corpus::{Case, corpus_dir, run_case_with, static_cases};
use crate::support::{kgen, repo, scratch};

/// Values the corpus writes as credentials: never in any output that
/// does not show them for people too.
const SECRETS: &[&str] = &["hunter2", "s3cret", "AKIAIOSFODNN7EXAMPLE", "dDBrZW4", ":pw@"];

fn documented_codes() -> String {
    std::fs::read_to_string(repo().join("docs/diagnostics.md")).unwrap()
}

/// The codes the documented table marks retired (`retired:` starts the
/// description): nothing may emit them.
fn retired_codes(docs: &str) -> Vec<String> {
    docs.lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split(" | ").collect();
            let code = cells.first()?.strip_prefix("| `")?.strip_suffix('`')?;
            cells.get(2)?.starts_with("retired:").then(|| code.to_string())
        })
        .collect()
}

/// Every corpus case as JSON: one object a line, each with a documented
/// code that is not retired, and a location wherever the human form has
/// one; the same exit status, nothing on stdout, and no credential.
#[test]
fn corpus_cases_as_json_lines() {
    let docs = documented_codes();
    let retired = retired_codes(&docs);
    assert!(retired.iter().any(|c| c == "K0301"), "the table marks no retired code: {retired:?}");
    each_case_in("json", |case, human, stdout, stderr| {
        let mut problems = Vec::new();
        if !stdout.is_empty() && case.args.first().is_none_or(|a| a != "check") {
            problems.push("stdout is not empty".into());
        }
        let mut located = false;
        let mut errors = 0;
        for line in stderr.lines() {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                problems.push(format!("not JSON: {line}"));
                continue;
            };
            let c = v["code"].as_str().unwrap_or_default();
            if !docs.contains(&format!("| `{c}` |")) {
                problems.push(format!("undocumented code `{c}`"));
            }
            if retired.iter().any(|r| r == c) {
                problems.push(format!("retired code `{c}`"));
            }
            for field in ["message", "severity"] {
                if !v[field].is_string() {
                    problems.push(format!("no {field}: {line}"));
                }
            }
            errors += usize::from(v["severity"] == "error");
            located |= v["file"].is_string() && v["line"].as_u64().is_some_and(|l| l >= 1) && v["column"].is_u64();
        }
        if errors == 0 {
            problems.push("no error".into());
        }
        if human.contains(" --> ") && !located {
            problems.push("the human form is located, the JSON is not".into());
        }
        problems
    });
}

/// Run every static corpus case with `--message-format FORMAT` and hold it
/// to exit status 1, to showing no corpus credential the human form masks,
/// and to `check` (the format's own rules: the case, its human stderr, the
/// stdout and stderr in FORMAT → problems); fails naming every case with a
/// problem.
fn each_case_in(format: &str, mut check: impl FnMut(&Case, &str, &str, &str) -> Vec<String>) {
    let mut failures = Vec::new();
    for case in static_cases() {
        let human = std::fs::read_to_string(corpus_dir().join(format!("{}.stderr", case.name))).unwrap();
        let (code, stdout, stderr) = run_case_with(&case, &corpus_dir(), &["--message-format", format]);
        let stdout = String::from_utf8_lossy(&stdout);
        let mut problems = Vec::new();
        if code != Some(1) {
            problems.push(format!("exit status {code:?}"));
        }
        problems.extend(check(&case, &human, &stdout, &stderr));
        problems.extend(shown_credentials(&human, &stderr));
        if !problems.is_empty() {
            failures.push(format!("{}: {}\n{stderr}", case.name, problems.join("; ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The profile's rules report a code per kind of rule, not a catch-all:
/// corpus cases and the codes (code and name) their problems have.
#[test]
fn rules_have_the_code_of_their_kind() {
    let expected: &[(&str, &[&str])] = &[
        ("100-autoscaling-min-above-max", &["K0360 autoscaling"]),
        ("105-disruption-budget-that-blocks-evictions", &["K0361 disruption-budget"]),
        ("107-ingress-to-another-namespace", &["K0366 route-backend"]),
        ("110-reference-to-an-undefined-database", &["K0340 database-name"]),
        ("111-sqlite-shared-by-two-components", &["K0344 sqlite"]),
        ("114-tls-without-hosts", &["K0363 tls", "K0365 route-host"]),
        ("25-request-over-limit", &["K0335 resources"]),
        ("27-component-name-invalid", &["K0330 component-name"]),
        ("29-label-key-invalid", &["K0312 label-or-annotation"]),
        ("43-probe-path-and-command", &["K0334 probe"]),
        ("45-env-two-sources", &["K0336 env-var"]),
        ("51-image-uppercase", &["K0332 image"]),
        ("54-namespace-invalid", &["K0311 namespace"]),
        ("55-writable-path-relative", &["K0337 writable-path"]),
        ("60-setting-key-invalid", &["K0315 settings"]),
        ("61-port-declared-twice", &["K0333 port"]),
        ("67-container-name-of-an-init-container", &["K0331 container"]),
        ("79-secret-from-two-sources", &["K0318 secret-source"]),
        ("80-replicas-over-int32", &["K0321 int-range"]),
        ("84-cron-schedules-out-of-range", &["K0348 backup"]),
        ("86-node-selector-and-tolerations", &["K0338 placement"]),
        ("87-annotations-set-by-kgen", &["K0313 reserved-metadata"]),
        (
            "89-secret-store-fields",
            &["K0309 advice", "K0317 secret-key", "K0318 secret-source", "K0319 external-secret"],
        ),
        ("92-autoscaling-without-requests", &["K0360 autoscaling"]),
        ("120-metrics-port-that-does-not-exist", &["K0370 metrics"]),
    ];
    let cases = static_cases();
    let mut failures = Vec::new();
    for (name, codes) in expected {
        let case = cases.iter().find(|c| c.name == *name).unwrap_or_else(|| panic!("no corpus case {name}"));
        let (_, _, stderr) = run_case_with(case, &corpus_dir(), &["--message-format", "json"]);
        let found: std::collections::BTreeSet<String> = stderr
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .map(|v| format!("{} {}", v["code"].as_str().unwrap_or_default(), v["name"].as_str().unwrap_or_default()))
            .collect();
        let want: std::collections::BTreeSet<String> = codes.iter().map(|c| c.to_string()).collect();
        if found != want {
            failures.push(format!("{name}: {found:?}, expected {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A problem for each corpus credential the machine-readable form shows
/// that the human form (which masks them) does not.
fn shown_credentials(human: &str, stderr: &str) -> Vec<String> {
    SECRETS.iter().filter(|s| !human.contains(*s) && stderr.contains(*s)).map(|s| format!("shows `{s}`")).collect()
}

/// GitHub annotations: one workflow command a line, titled with the code,
/// located like the human form, and no credential.
#[test]
fn corpus_cases_as_github_annotations() {
    each_case_in("github", |_, human, _, stderr| {
        let mut problems = Vec::new();
        for line in stderr.lines() {
            // `::error PROPERTIES::MESSAGE`: the title (the only
            // property with a space) last, the code in it.
            let rest = line.strip_prefix("::error ").or_else(|| line.strip_prefix("::warning "));
            let shaped = rest.and_then(|r| r.split_once("::")).is_some_and(|(props, message)| {
                let (before, code) = props.split_once("title=kgen ").unwrap_or((" ", ""));
                !before.contains(' ')
                    && code.len() == 5
                    && code.starts_with('K')
                    && code[1..].bytes().all(|b| b.is_ascii_digit())
                    && !message.is_empty()
            });
            if !shaped {
                problems.push(format!("not a workflow command: {line}"));
            }
        }
        if human.contains(" --> ") && !stderr.contains("file=") {
            problems.push("not located".into());
        }
        if human.contains(" --> ") && !(stderr.contains(",line=") && stderr.contains(",col=")) {
            problems.push("no line and column".into());
        }
        problems
    });
}

/// SARIF: one log a command, a result for each diagnostic of the JSON
/// form in the same order (code, level, file, line, column), every code a
/// rule of the log and documented, no credential; and the logs read by a
/// real consumer, Microsoft's sarif-tools (`sarif csv`: one row a result,
/// with its code, file and line).
#[test]
fn corpus_cases_as_sarif_logs() {
    let docs = documented_codes();
    let dir = scratch("diagnostics-sarif");
    let mut expected_rows = Vec::new();
    let mut total_results = 0;
    each_case_in("sarif", |case, _, _, stderr| {
        std::fs::write(dir.join(format!("{}.sarif", case.name)), stderr).unwrap();
        let log: serde_json::Value = match serde_json::from_str(stderr) {
            Ok(log) => log,
            Err(e) => return vec![format!("stderr is not one JSON document ({e})")],
        };
        let (_, _, json) = run_case_with(case, &corpus_dir(), &["--message-format", "json"]);
        let mut problems = Vec::new();
        let run = &log["runs"][0];
        if log["version"] != "2.1.0" || run["tool"]["driver"]["name"] != "kgen" {
            problems.push("not a SARIF 2.1.0 log of kgen".into());
        }
        let rules = run["tool"]["driver"]["rules"].as_array().cloned().unwrap_or_default();
        let results = run["results"].as_array().cloned().unwrap_or_default();
        let lines: Vec<serde_json::Value> = json.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
        total_results += results.len();
        if results.len() != lines.len() {
            problems.push(format!("{} results for {} diagnostics", results.len(), lines.len()));
        }
        for (result, line) in results.iter().zip(&lines) {
            let rule = result["ruleIndex"].as_u64().and_then(|i| rules.get(i as usize));
            if result["ruleId"] != line["code"] || rule.is_none_or(|r| r["id"] != line["code"]) {
                problems.push(format!("rule {} for code {}", result["ruleId"], line["code"]));
            }
            if !docs.contains(&format!("| `{}` |", result["ruleId"].as_str().unwrap_or_default())) {
                problems.push(format!("undocumented rule {}", result["ruleId"]));
            }
            if result["level"] != line["severity"] || !result["message"]["text"].is_string() {
                problems.push(format!("level {} for {}", result["level"], line["severity"]));
            }
            let at = &result["locations"][0]["physicalLocation"];
            let file = line["file"].as_str().filter(|f| !f.starts_with("--") && !f.ends_with(")") && *f != "<stdin>");
            if let Some(file) = file {
                let uri = at["artifactLocation"]["uri"].as_str().unwrap_or_default();
                let region = &at["region"];
                if percent_decoded(uri) != file
                    || region["startLine"] != line["line"]
                    || region["startColumn"] != line["column"]
                {
                    problems.push(format!("located at {at} for {line}"));
                }
                expected_rows.push((
                    result["ruleId"].as_str().unwrap_or_default().to_string(),
                    uri.to_string(),
                    region["startLine"].to_string(),
                ));
            }
        }
        problems
    });
    assert!(expected_rows.len() > 100, "the corpus gives {} located results", expected_rows.len());

    let venv = std::env::var("SARIF_TOOLS_VENV").unwrap_or_else(|_| "/tmp/sarif-tools".into());
    let Some(sarif) = crate::support::tool("sarif-tools", &[&format!("{venv}/bin/sarif"), "sarif"]) else {
        return;
    };
    let csv = dir.join("results.csv");
    let out = std::process::Command::new(sarif).arg("csv").arg("-o").arg(&csv).arg(&dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&csv).unwrap();
    // Tool,Severity,Code,Description,Location,Line: the description may
    // span lines (quoted); the row ends with `,<location>,<line>`.
    assert_eq!(text.matches("\nkgen,").count(), total_results, "one row a result:\n{text}");
    for (code, uri, line) in &expected_rows {
        let row_start = format!("kgen,error,{code},");
        let row_start_warning = format!("kgen,warning,{code},");
        let row_end = format!(",{},{line}\n", percent_decoded(uri));
        assert!(
            (text.contains(&row_start) || text.contains(&row_start_warning)) && text.contains(&row_end),
            "sarif csv lacks {code} at {uri}:{line}:\n{text}"
        );
    }
}

fn percent_decoded(uri: &str) -> String {
    let bytes = uri.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = uri.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn one_json_diagnostic_in_full() {
    let dir = scratch("diagnostics-json");
    std::fs::write(dir.join("kgen.yaml"), "name: shop\nimage: shop:1.0\nreplicas: three\n").unwrap();
    let out = kgen().args(["check", "--message-format", "json", "kgen.yaml"]).current_dir(&dir).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<serde_json::Value> = stderr.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    let d = &lines[0];
    assert_eq!(d["code"], "K0201", "{d}");
    assert_eq!(d["severity"], "error");
    assert_eq!((d["file"].as_str(), d["line"].as_u64(), d["column"].as_u64()), (Some("kgen.yaml"), Some(3), Some(11)));
    assert_eq!(d["path"], "replicas");
    assert!(d["hints"].is_array() && d["notes"].is_array(), "{d}");
    // stdout (the data) is the same as for people.
    let human = kgen().args(["check", "kgen.yaml"]).current_dir(&dir).output().unwrap();
    assert_eq!(out.stdout, human.stdout);
    // GitHub: the annotation names the file, line and column.
    let out = kgen().args(["check", "--message-format", "github", "kgen.yaml"]).current_dir(&dir).output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with("::error file=kgen.yaml,line=3,col=11,endLine=3,endColumn=16,title=kgen K0201::"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

/// The exit status of each command, as docs/commands.md tables them.
#[test]
fn exit_statuses_per_command() {
    let dir = scratch("diagnostics-exit");
    std::fs::write(dir.join("good.yaml"), "name: shop\nimage: shop:1.0\nenvironments:\n  prod: {replicas: 3}\n")
        .unwrap();
    std::fs::write(dir.join("bad.yaml"), "name: shop\nimage: shop:1.0\nreplicas: three\n").unwrap();
    let status = |args: &[&str]| kgen().args(args).current_dir(&dir).output().unwrap().status.code();
    let cases: &[(&[&str], i32)] = &[
        (&["render", "good.yaml"], 0),
        (&["render", "bad.yaml"], 1),
        (&["render", "good.yaml", "--kube-version", "one"], 2),
        (&["render", "good.yaml", "--show-only", "nonsense"], 2),
        (&["render", "--no-such-flag"], 2),
        (&["check", "good.yaml"], 0),
        (&["check", "bad.yaml"], 1),
        (&["check", "good.yaml", "--kube-version", "one"], 2),
        (&["diff", "good.yaml", "--to-env", "prod", "--stat"], 1),
        (&["diff", "good.yaml", "--env", "prod", "--to-env", "prod"], 0),
        (&["diff", "bad.yaml", "--to-env", "prod"], 2),
        (&["bootstrap", "kind", "bad.yaml"], 1),
        (&["bootstrap", "kind", "good.yaml", "--kube-version", "one"], 2),
        (&["init", "good.yaml"], 1),
        (&["init", "-", "--name", "Not_A_Name"], 2),
        (&["man", "no-such-command"], 2),
    ];
    for (args, want) in cases {
        for format in ["human", "json"] {
            let mut all = args.to_vec();
            all.extend(["--message-format", format]);
            if args.contains(&"--no-such-flag") {
                all.truncate(args.len());
            }
            assert_eq!(status(&all), Some(*want), "kgen {}", all.join(" "));
        }
    }
}
