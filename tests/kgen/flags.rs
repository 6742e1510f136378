//! Flags with a Helm or kubectl habit behind them: `-n/--namespace`,
//! `--show-only`, `-o name`, one assignment per `--set`, `diff --stat`,
//! environment names in shell completion, a man page per subcommand.

use crate::support::{kgen, run, scratch};

fn ok(args: &[&str]) -> String {
    let out = run(args, None);
    assert!(out.status.success(), "kgen {args:?}:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `-n` is `--set namespace.name` applied last: after the environment,
/// `-f` files and every `--set`; objects and text references follow.
#[test]
fn namespace_flag_is_the_last_word() {
    let p = "profiles/clockwork.yaml";
    let by_set = ok(&["render", p, "--env", "prod", "--set", "namespace.name=other"]);
    let by_flag = ok(&["render", p, "--env", "prod", "-n", "other"]);
    assert_eq!(by_flag, by_set);
    let after_set = ok(&["render", p, "--env", "prod", "--namespace", "other", "--set", "namespace.name=elsewhere"]);
    assert_eq!(after_set, by_set, "the flag wins over --set whatever their order");
    let dir = scratch("flags-namespace");
    let values = dir.join("values.yaml");
    std::fs::write(&values, "namespace: {name: elsewhere}\n").unwrap();
    let after_values = ok(&["render", p, "--env", "prod", "-f", values.to_str().unwrap(), "-n", "other"]);
    assert_eq!(after_values, by_set);
    assert!(by_flag.contains("kind: Namespace\nmetadata:\n") && by_flag.contains("  name: other\n"));
    assert!(!by_flag.contains("namespace: clockwork"), "{by_flag}");
    // The platform profile names its namespace in URLs and alerts.
    let platform = ok(&["render", "profiles/platform.yaml", "--env", "aws"]);
    let ns = platform.lines().find_map(|l| l.strip_prefix("  namespace: ")).unwrap().to_string();
    let moved = ok(&["render", "profiles/platform.yaml", "--env", "aws", "-n", "moved"]);
    assert!(!moved.contains(&format!("namespace: {ns}\n")), "{moved}");
    for text in ["namespace=\"{}\", deployment=\"platform\"", "\"query\": \"{}\""] {
        assert!(platform.contains(&text.replace("{}", &ns)), "{text} in the alerts or the dashboard");
        assert!(moved.contains(&text.replace("{}", "moved")), "{text} follows the namespace");
    }
    // check, diff and bootstrap take it too; bootstrap's script repeats it.
    assert!(ok(&["check", p, "-n", "other"]).contains("ok    profiles/clockwork.yaml (prod)"));
    let diff = run(&["diff", p, "--env", "prod", "--to-env", "prod", "-n", "other"], None);
    assert_eq!(diff.status.code(), Some(0), "{}", stderr(&diff));
    assert!(ok(&["bootstrap", "kind", p, "-n", "other"]).contains("--namespace other"));
    // An invalid name is located at the flag.
    let bad = run(&["render", p, "-n", "Not_A_Name"], None);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("--namespace:1:1"), "{}", stderr(&bad));
}

#[test]
fn show_only_prints_the_objects_named_as_kubectl_names_them() {
    let p = "profiles/clockwork.yaml";
    let names = ok(&[
        "render",
        p,
        "--env",
        "prod",
        "--show-only",
        "Deployment/clockwork-server",
        "--show-only",
        "service/clockwork-server",
        "--show-only",
        "ingress.networking.k8s.io/clockwork",
        "-o",
        "name",
    ]);
    assert_eq!(
        names,
        "service/clockwork-server\ndeployment.apps/clockwork-server\ningress.networking.k8s.io/clockwork\n"
    );
    let yaml = ok(&["render", p, "--env", "prod", "--show-only", "deployment/clockwork-server"]);
    assert_eq!(yaml.matches("---\n").count(), 1);
    assert!(yaml.contains("kind: Deployment\n"));
    let json: serde_json::Value =
        serde_json::from_str(&ok(&["render", p, "--show-only", "configmap/clockwork", "-o", "json"])).unwrap();
    assert_eq!(json["items"].as_array().unwrap().len(), 1);
    assert_eq!(json["items"][0]["kind"], "ConfigMap");
    // With several profiles: a selector must match in one of them.
    let both = ok(&["render", p, "profiles/timeservice.yaml", "--show-only", "serviceaccount/clockwork", "-o", "name"]);
    assert_eq!(both, "serviceaccount/clockwork\n");
    // No match: an error that names the closest objects, and no output.
    let miss = run(&["render", p, "--env", "prod", "--show-only", "deployment/clockwork"], None);
    assert_eq!(miss.status.code(), Some(1));
    assert!(miss.stdout.is_empty());
    assert!(
        stderr(&miss).contains(
            "error: `--show-only deployment/clockwork` matches no rendered object\nhint: the closest rendered objects: deployment.apps/clockwork-server"
        ),
        "{}",
        stderr(&miss)
    );
    let malformed = run(&["render", p, "--show-only", "clockwork"], None);
    assert_eq!(malformed.status.code(), Some(2));
    let dir = scratch("flags-show-only");
    let with_dir = run(&["render", p, "--show-only", "service/x", "--out-dir", dir.to_str().unwrap()], None);
    assert_eq!(with_dir.status.code(), Some(2), "--show-only and --out-dir do not go together");
}

#[test]
fn output_name_is_kubectl_get_o_name() {
    let names = ok(&["render", "profiles/clockwork.yaml", "--env", "prod", "-o", "name"]);
    let yaml = ok(&["render", "profiles/clockwork.yaml", "--env", "prod"]);
    assert_eq!(names.lines().count(), yaml.matches("\n---\n").count() + 1);
    for line in ["namespace/clockwork", "deployment.apps/clockwork-server", "service/clockwork-server"] {
        assert!(names.lines().any(|l| l == line), "{line} in\n{names}");
    }
    assert!(names.lines().any(|l| l.starts_with("prometheusrule.monitoring.coreos.com/")), "{names}");
}

/// Helm's `--set a=1,b=2` is two assignments; kgen takes one per `--set`
/// and says so, without showing the values; a comma that is part of a
/// value stays.
#[test]
fn one_assignment_per_set() {
    let p = "profiles/clockwork.yaml";
    let out = run(&["render", p, "--set", "replicas=2,image.tag=s3cr3t-ish"], None);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "error: `--set replicas=…` holds more than one assignment: `image.tag` after a comma is a field of the profile\n \
         --> --set:1:12\nhint: one assignment per --set: --set replicas=… --set image.tag=…\n\
         hint: if the comma is part of the value, quote it: `--set 'path=\"a,b=c\"'`\n\n"
    );
    assert!(!stderr(&out).contains("s3cr3t"));
    // Commas in values: text that is no field, a quoted value.
    let origins = ok(&["render", p, "--set", "settings.ALLOWED_ORIGINS=https://a.example,https://b.example"]);
    assert!(origins.contains("https://a.example,https://b.example"), "{origins}");
    let literal = ok(&["render", p, "--set", "settings.NOTE=a,b=c"]);
    assert!(literal.contains("a,b=c"));
    let quoted = ok(&["render", p, "--set", "settings.NOTE=\"x,replicas=3\""]);
    assert!(quoted.contains("x,replicas=3"));
}

#[test]
fn diff_stat_summarises_each_object() {
    let args = ["diff", "profiles/clockwork.yaml", "--env", "dev", "--to-env", "prod"];
    let full = run(&args, None);
    let stat = run(&[&args[..], &["--stat"]].concat(), None);
    assert_eq!(stat.status.code(), Some(1), "the exit status of the plain diff");
    assert_eq!(stat.stderr, full.stderr, "the same warnings and summary");
    let text = String::from_utf8(stat.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines.iter().any(|l| l.starts_with(" Deployment/clockwork/clockwork-server ") && l.contains("| changed +"))
    );
    assert!(lines.iter().any(|l| l.starts_with(" StatefulSet/clockwork/postgres ") && l.contains("| removed +0 -")));
    assert!(lines.iter().any(|l| l.starts_with(" Ingress/clockwork/clockwork ") && l.ends_with(" -0")));
    // The counts are the diff's own lines.
    let diff = String::from_utf8(full.stdout).unwrap();
    let body =
        |c: char| diff.lines().filter(|l| l.starts_with(c) && !l.starts_with("+++") && !l.starts_with("---")).count();
    let total = lines.last().unwrap();
    assert_eq!(
        *total,
        format!(" 18 objects (3 changed, 7 added, 8 removed), {} insertions(+), {} deletions(-)", body('+'), body('-'))
    );
    let same = run(&["diff", "profiles/clockwork.yaml", "--env", "prod", "--to-env", "prod", "--stat"], None);
    assert_eq!(same.status.code(), Some(0));
}

/// Bash completes `--env` and `--to-env` with the environments of the
/// profile on the command line, through the real completion script.
#[test]
fn bash_completes_environment_names() {
    let Some(bash) = crate::support::tool("bash", &["bash"]) else { return };
    let complete = |words: &[&str]| -> Vec<String> {
        let script = r#"source <("$0" completions bash)
COMP_WORDS=("$0" "$@"); COMP_CWORD=$#
_kgen "$0" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}""#;
        let out = std::process::Command::new(&bash)
            .current_dir(crate::support::repo())
            .arg("-c")
            .arg(script)
            .arg(env!("CARGO_BIN_EXE_kgen"))
            .args(words)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().lines().filter(|l| !l.is_empty()).map(String::from).collect()
    };
    assert_eq!(complete(&["render", "profiles/clockwork.yaml", "--env", ""]), ["dev", "prod", "shared"]);
    assert_eq!(complete(&["check", "-e", "p", "profiles/clockwork.yaml"]).len(), 0, "the profile comes after");
    // -f's file is not the profile; --to-env too.
    assert_eq!(
        complete(&["diff", "-f", "profiles/platform.yaml", "profiles/clockwork.yaml", "--to-env", "p"]),
        ["prod"]
    );
    // Other options still complete files.
    let files = complete(&["render", "--out-dir", "profile"]);
    assert!(files.iter().any(|f| f == "profiles"), "{files:?}");
    let envs = ok(&["__complete-envs", "profiles/clockwork.yaml"]);
    assert_eq!(envs, "dev\nprod\nshared\n");
}

#[test]
fn a_man_page_per_subcommand() {
    let dir = scratch("flags-man");
    let out = kgen().args(["man", "--out-dir", dir.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for (command, options) in [
        ("render", &["show\\-only", "out\\-dir", "namespace"][..]),
        ("check", &["namespace", "output"]),
        ("diff", &["stat", "to\\-env", "from"]),
        ("bootstrap", &["out\\-dir"]),
        ("init", &["force"]),
        ("schema", &[]),
        ("completions", &[]),
    ] {
        let page = std::fs::read_to_string(dir.join(format!("kgen-{command}.1"))).unwrap();
        assert!(page.contains(&format!(".TH kgen-{command} 1")), "{page}");
        for option in options {
            assert!(page.contains(&format!("\\-\\-{option}")), "kgen-{command}.1 names --{option}");
        }
        assert_eq!(ok(&["man", command]), page, "`kgen man {command}` prints the same page");
    }
    assert!(std::fs::read_to_string(dir.join("kgen.1")).unwrap().contains(".TH kgen 1"));
    assert!(!dir.join("kgen-man.1").exists() && !dir.join("kgen-__complete-envs.1").exists(), "hidden commands");
    let unknown = run(&["man", "nope"], None);
    assert_eq!(unknown.status.code(), Some(2));
}
