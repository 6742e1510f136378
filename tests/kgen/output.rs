//! What kgen writes: YAML every reader reads the same, JSON, and files in
//! an output directory.

use std::process::{Command, Stdio};

use crate::support::{python_with_pyyaml, run, scratch};

/// Settings that a YAML 1.1 reader (kubectl, PyYAML) would turn into
/// booleans, numbers, dates or null come back as the same strings.
#[test]
fn ambiguous_strings_read_back_as_strings_in_yaml_1_1() {
    let values = [
        "on",
        "off",
        "yes",
        "no",
        "y",
        "n",
        "NO",
        "True",
        "null",
        "~",
        "1_000",
        "1:30",
        "2026-01-01",
        "0x1F",
        "1e3",
        "08",
        ".5",
        "+1",
        "-1",
        "=",
        "<<",
        "",
        " padded ",
        "a: b",
        "#x",
        "line\nbreak\n",
        "tab\tx",
    ];
    let mut profile = String::from("name: quoting\nimage: q:1.0\nsettings:\n");
    for (i, v) in values.iter().enumerate() {
        profile.push_str(&format!("  K{i}: {}\n", serde_json::to_string(v).unwrap()));
    }
    let out = run(&["render", "-"], Some(&profile));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let yaml = String::from_utf8(out.stdout).unwrap();

    // An independent YAML 1.2 reader.
    let cm = yaml.split("---\n").find(|d| d.contains("kind: ConfigMap")).unwrap();
    let parsed: serde_json::Value = serde_yaml::from_str(cm).unwrap();
    for (i, v) in values.iter().enumerate() {
        assert_eq!(parsed["data"][format!("K{i}")], serde_json::Value::String(v.to_string()), "YAML 1.2 reader, {v:?}");
    }

    // A YAML 1.1 reader, like kubectl's.
    let Some(python) = python_with_pyyaml() else {
        return;
    };
    let script = "import sys, yaml, json\nfor d in yaml.safe_load_all(sys.stdin):\n    if d and d.get('kind') == 'ConfigMap': print(json.dumps(d['data']))";
    let mut child =
        Command::new(python).args(["-c", script]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(yaml.as_bytes()).unwrap();
    let result = child.wait_with_output().unwrap();
    assert!(result.status.success());
    let data: serde_json::Value = serde_json::from_slice(&result.stdout).unwrap();
    for (i, v) in values.iter().enumerate() {
        assert_eq!(data[format!("K{i}")], serde_json::Value::String(v.to_string()), "YAML 1.1 reader, {v:?}");
    }
}

#[test]
fn json_output_is_a_list_of_the_same_objects() {
    let yaml = run(&["render", "profiles/clockwork.yaml", "--env", "prod"], None);
    let json = run(&["render", "profiles/clockwork.yaml", "--env", "prod", "-o", "json"], None);
    assert!(json.status.success());
    let list: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!((list["apiVersion"].as_str(), list["kind"].as_str()), (Some("v1"), Some("List")));
    let from_yaml: Vec<serde_json::Value> = String::from_utf8(yaml.stdout)
        .unwrap()
        .split("---\n")
        .filter(|d| !d.trim().is_empty())
        .map(|d| serde_yaml::from_str(d).unwrap())
        .collect();
    assert_eq!(list["items"].as_array().unwrap(), &from_yaml);
}

#[test]
fn out_dir_writes_one_file_per_object_in_install_order() {
    let dir = scratch("out-dir");
    let target = dir.join("clockwork");
    let out = run(&["render", "profiles/clockwork.yaml", "--env", "prod", "--out-dir", target.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty());
    let mut names: Vec<String> =
        std::fs::read_dir(&target).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            ".kgen-files",
            ".kgen-lock",
            "00-namespace-clockwork.yaml",
            "05-networkpolicy-clockwork-migrations.yaml",
            "05-networkpolicy-clockwork-server.yaml",
            "10-poddisruptionbudget-clockwork-server.yaml",
            "15-serviceaccount-clockwork.yaml",
            "25-configmap-clockwork-dashboard.yaml",
            "25-configmap-clockwork.yaml",
            "45-service-clockwork-server.yaml",
            "50-deployment-clockwork-server.yaml",
            "55-horizontalpodautoscaler-clockwork-server.yaml",
            "60-job-clockwork-migrate-3374672a.yaml",
            "65-ingress-clockwork.yaml",
            "92-prometheusrule-clockwork.yaml"
        ]
    );
    // The same documents as stdout, one per file (files sort by kind, then
    // name; within a kind the stream's order may differ).
    let stream = run(&["render", "profiles/clockwork.yaml", "--env", "prod"], None);
    let mut from_files: Vec<String> =
        names[2..].iter().map(|n| std::fs::read_to_string(target.join(n)).unwrap()).collect();
    let mut from_stream: Vec<String> = String::from_utf8(stream.stdout)
        .unwrap()
        .split("---\n")
        .filter(|d| !d.is_empty())
        .map(|d| format!("---\n{d}"))
        .collect();
    from_files.sort();
    from_stream.sort();
    assert_eq!(from_files, from_stream);

    // A file kgen did not write is never overwritten, and nothing changes.
    std::fs::remove_dir_all(&target).unwrap();
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("50-deployment-clockwork-server.yaml"), "mine").unwrap();
    let out = run(&["render", "profiles/clockwork.yaml", "--out-dir", target.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("refusing to overwrite `50-deployment-clockwork-server.yaml`")
    );
    assert_eq!(std::fs::read_dir(&target).unwrap().count(), 1);
}

#[test]
fn a_failed_render_writes_nothing() {
    let dir = scratch("failed-render");
    let target = dir.join("out");
    let out =
        run(&["render", "profiles/clockwork.yaml", "--set", "replicas=x", "--out-dir", target.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(!target.exists());
}

#[test]
fn closed_stdout_is_not_an_error() {
    let mut child = crate::support::kgen()
        .args(["render", "profiles/clockwork.yaml", "--env", "prod"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

/// Custom resources only when asked for (ARCHITECTURE.md): a profile with
/// a database, a cache, routes, backups and migrations but none of the
/// features that need an operator renders built-in kinds only; asking
/// for monitoring adds exactly the Prometheus Operator's kinds.
#[test]
fn custom_resources_only_when_asked_for() {
    const PROFILE: &str = "name: shop\nimage: shop:1.0\nports: {http: 8080}\n\
        ingress: {className: nginx, hosts: [{host: shop.example.com}]}\n\
        databases: {db: {engine: postgres, backup: {schedule: \"0 3 * * *\"}}}\n\
        cache: {}\nmigrations: {strategy: job, command: [./migrate]}\nautoscaling: {min: 2, max: 4}\n";
    const BUILT_IN: &[&str] = &[
        "v1",
        "apps/v1",
        "batch/v1",
        "policy/v1",
        "networking.k8s.io/v1",
        "rbac.authorization.k8s.io/v1",
        "autoscaling/v2",
        "storage.k8s.io/v1",
    ];
    let dir = scratch("output-custom-resources");
    let kinds = |profile: &str| -> Vec<String> {
        std::fs::write(dir.join("app.yaml"), profile).unwrap();
        let json = run(&["render", dir.join("app.yaml").to_str().unwrap(), "-o", "json"], None);
        assert!(json.status.success(), "{}", String::from_utf8_lossy(&json.stderr));
        let list: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| format!("{} {}", o["apiVersion"].as_str().unwrap(), o["kind"].as_str().unwrap()))
            .collect()
    };
    let plain = kinds(PROFILE);
    let custom: Vec<&String> = plain.iter().filter(|k| !BUILT_IN.contains(&k.split(' ').next().unwrap())).collect();
    assert!(custom.is_empty(), "custom resources nobody asked for: {custom:?}");
    assert!(
        plain.iter().any(|k| k.ends_with(" StatefulSet")) && plain.iter().any(|k| k.ends_with(" CronJob")),
        "{plain:?}"
    );
    let monitored = kinds(&format!("{PROFILE}monitoring: {{}}\n"));
    let added: std::collections::BTreeSet<&str> = monitored
        .iter()
        .filter(|k| !BUILT_IN.contains(&k.split(' ').next().unwrap()))
        .map(|k| k.split(' ').next().unwrap())
        .collect();
    assert_eq!(added.into_iter().collect::<Vec<_>>(), ["monitoring.coreos.com/v1"], "{monitored:?}");
}
