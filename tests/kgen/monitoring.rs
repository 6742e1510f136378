//! Monitoring: ServiceMonitors, PodMonitors, the PrometheusRule and the
//! dashboard, checked by the real tools — `promtool check rules` on every
//! rendered rule, `promtool test rules` on the alerts of the profiles in
//! `tests/monitoring/`, the validator with checkov — and snapshotted.

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::{profile_matrix, repo, run, scratch, tool};

/// Profiles that exercise monitoring beyond the shipped ones; each may have
/// a `<stem>.test.yaml` beside it for `promtool test rules`.
const TEST_PROFILES: &[&str] = &["tests/monitoring/shop.yaml", "tests/monitoring/ledger.yaml"];

const MONITORING_GROUP: &str = "monitoring.coreos.com/";

/// Render as a JSON List and return its items; panics on failure.
fn items(args: &[&str]) -> Vec<Value> {
    let mut full = vec!["render", "-o", "json"];
    full.extend_from_slice(args);
    let out = run(&full, None);
    assert!(out.status.success(), "kgen {full:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let list: Value = serde_json::from_slice(&out.stdout).expect("a JSON List");
    list["items"].as_array().expect("items").clone()
}

fn render_args(profile: &str, env: &Option<String>) -> Vec<String> {
    let mut args = vec![profile.to_string()];
    if let Some(e) = env {
        args.extend(["--env".to_string(), e.clone()]);
    }
    args
}

/// Every shipped profile and environment, and the test profiles.
fn all_renders() -> Vec<(String, Option<String>)> {
    let mut all = profile_matrix();
    all.extend(TEST_PROFILES.iter().map(|p| (p.to_string(), None)));
    all
}

fn is_monitoring(o: &Value) -> bool {
    o["apiVersion"].as_str().is_some_and(|v| v.starts_with(MONITORING_GROUP))
        || o["metadata"]["labels"]["grafana_dashboard"].is_string()
}

fn find<'a>(items: &'a [Value], kind: &str, name: &str) -> &'a Value {
    items
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

/// Write the groups of the bundle's PrometheusRules to `file` (JSON is
/// YAML); false when there are none.
fn write_rules(items: &[Value], file: &Path) -> bool {
    let groups: Vec<&Value> = items
        .iter()
        .filter(|o| o["kind"] == "PrometheusRule")
        .flat_map(|o| o["spec"]["groups"].as_array().unwrap())
        .collect();
    std::fs::write(file, serde_json::to_string_pretty(&serde_json::json!({ "groups": groups })).unwrap()).unwrap();
    !groups.is_empty()
}

#[test]
fn every_rendered_rule_and_dashboard_query_passes_promtool_check() {
    let Some(promtool) = tool("promtool", &["promtool"]) else { return };
    let dir = scratch("promtool-check");
    let mut checked = 0;
    for (i, (profile, env)) in all_renders().into_iter().enumerate() {
        let args = render_args(&profile, &env);
        let items = items(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let rules = dir.join(format!("rules-{i}.yaml"));
        let dashboards = dir.join(format!("dashboards-{i}.yaml"));
        for (file, written) in
            [(&rules, write_rules(&items, &rules)), (&dashboards, write_queries(&items, &dashboards))]
        {
            if !written {
                continue;
            }
            let out = Command::new(&promtool).arg("check").arg("rules").arg(file).output().unwrap();
            assert!(
                out.status.success(),
                "promtool check rules on {profile} {env:?} ({}):\n{}{}",
                file.display(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            checked += 1;
        }
    }
    assert!(checked >= 5, "only {checked} rule files were checked");
}

/// Write the queries of the bundle's dashboards, with Grafana's variables
/// replaced, as recording rules (so that promtool parses them); false when
/// there are none.
fn write_queries(items: &[Value], file: &Path) -> bool {
    let mut rules = Vec::new();
    for cm in items.iter().filter(|o| o["kind"] == "ConfigMap" && o["metadata"]["labels"]["grafana_dashboard"] == "1") {
        for text in cm["data"].as_object().unwrap().values() {
            let dashboard: Value = serde_json::from_str(text.as_str().unwrap()).expect("dashboard JSON");
            for target in dashboard["panels"].as_array().unwrap().iter().flat_map(|p| p["targets"].as_array().unwrap())
            {
                let expr =
                    target["expr"].as_str().unwrap().replace("$namespace", "ns").replace("$__rate_interval", "1m");
                rules
                    .push(serde_json::json!({"record": format!("dashboard:query{}:value", rules.len()), "expr": expr}));
            }
        }
    }
    let groups = serde_json::json!({"groups": [{"name": "dashboard", "rules": rules}]});
    std::fs::write(file, serde_json::to_string_pretty(&groups).unwrap()).unwrap();
    !rules.is_empty()
}

/// Input series in, expected alerts out: `tests/monitoring/<stem>.test.yaml`
/// against the rules rendered from `<stem>.yaml`.
#[test]
fn alerts_fire_as_the_promtool_unit_tests_expect() {
    let Some(promtool) = tool("promtool", &["promtool"]) else { return };
    for profile in TEST_PROFILES {
        let stem = Path::new(profile).file_stem().unwrap().to_str().unwrap();
        let dir = scratch(&format!("promtool-test-{stem}"));
        assert!(write_rules(&items(&[profile]), &dir.join(format!("{stem}.rules.yaml"))));
        let test = format!("{stem}.test.yaml");
        std::fs::copy(repo().join("tests/monitoring").join(&test), dir.join(&test)).unwrap();
        let out = Command::new(&promtool).args(["test", "rules", &test]).current_dir(&dir).output().unwrap();
        assert!(
            out.status.success(),
            "promtool test rules {test}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The monitoring objects of the test profiles, reviewed: selectors, ports,
/// labels Prometheus selects by, every alert expression, the dashboard.
#[test]
fn snapshots_of_the_monitoring_objects() {
    for profile in TEST_PROFILES {
        let out = run(&["render", profile], None);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        let docs: Vec<&str> = text
            .split("---\n")
            .filter(|d| d.contains("apiVersion: monitoring.coreos.com/v1\n") || d.contains("grafana_dashboard:"))
            .collect();
        let name = Path::new(profile).file_stem().unwrap().to_str().unwrap();
        insta::assert_snapshot!(format!("monitoring-{name}"), docs.join("---\n"));
    }
}

#[test]
fn nothing_needs_the_prometheus_operator_unless_monitoring_is_on() {
    for (profile, env) in profile_matrix() {
        let args = render_args(&profile, &env);
        let items = items(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let has_monitoring = kgen_profile_has_monitoring(&profile, &env);
        let monitoring: Vec<&Value> = items.iter().filter(|o| is_monitoring(o)).collect();
        assert_eq!(!monitoring.is_empty(), has_monitoring, "{profile} {env:?}: {monitoring:?}");
    }
    let shop = TEST_PROFILES[0];
    for off in [
        vec!["--set", "monitoring=null"],
        vec!["--set", "monitoring.enabled=false"],
        vec![
            "--set",
            "monitoring.serviceMonitor.enabled=false",
            "--set",
            "monitoring.alerts.enabled=false",
            "--set",
            "monitoring.dashboard.enabled=false",
        ],
    ] {
        let mut args = vec![shop];
        args.extend(off.iter().copied());
        let items = items(&args);
        assert!(!items.iter().any(is_monitoring), "{off:?}");
        // The exporter is the database's, not monitoring's: it stays.
        assert!(find(&items, "StatefulSet", "shop-main").to_string().contains("postgres-exporter"));
    }
    // Each part alone.
    for (part, kinds) in [
        ("serviceMonitor", &["ServiceMonitor", "ServiceMonitor"][..]),
        ("alerts", &["PrometheusRule"][..]),
        ("dashboard", &["ConfigMap"][..]),
    ] {
        let mut args = vec![shop.to_string()];
        for other in ["serviceMonitor", "alerts", "dashboard"].iter().filter(|p| **p != part) {
            args.extend(["--set".to_string(), format!("monitoring.{other}.enabled=false")]);
        }
        let items = items(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let got: Vec<&str> = items.iter().filter(|o| is_monitoring(o)).map(|o| o["kind"].as_str().unwrap()).collect();
        assert_eq!(got, kinds, "only {part}");
    }
}

fn kgen_profile_has_monitoring(profile: &str, env: &Option<String>) -> bool {
    let mut sources = kgen::source::SourceMap::default();
    let options = kgen::profile::load::Options { environment: env.clone(), sets: Vec::new(), ..Default::default() };
    let loaded = kgen::profile::load::load(&repo().join(profile), &options, &mut sources).unwrap();
    loaded.profile.monitoring.is_some_and(|m| m.enabled != Some(false))
}

/// The exporter reads the password from the mounted file, is hardened like
/// every container, and its port is on the database's Service, which the
/// ServiceMonitor selects.
#[test]
fn postgres_exporter_sidecar() {
    let items = items(&[TEST_PROFILES[0]]);
    let sts = find(&items, "StatefulSet", "shop-main");
    let pod = &sts["spec"]["template"]["spec"];
    let exporter = pod["containers"].as_array().unwrap().iter().find(|c| c["name"] == "exporter").unwrap();
    let env = exporter["env"].as_array().unwrap();
    assert!(env.iter().all(|e| e["valueFrom"].is_null()), "no secret in the environment: {env:?}");
    let pass_file = env.iter().find(|e| e["name"] == "DATA_SOURCE_PASS_FILE").unwrap()["value"].as_str().unwrap();
    let mount = exporter["volumeMounts"].as_array().unwrap().iter().find(|m| m["name"] == "credentials").unwrap();
    assert_eq!(mount["readOnly"], true);
    assert_eq!(pass_file, format!("{}/password", mount["mountPath"].as_str().unwrap()));
    let security = &exporter["securityContext"];
    assert_eq!(security["readOnlyRootFilesystem"], true);
    assert_eq!(security["allowPrivilegeEscalation"], false);
    assert_eq!(security["capabilities"]["drop"], serde_json::json!(["ALL"]));
    for probe in ["livenessProbe", "readinessProbe"] {
        assert_eq!(exporter[probe]["httpGet"]["port"], "metrics", "{probe}");
    }
    assert!(exporter["resources"]["limits"]["memory"].is_string());
    assert!(exporter["image"].as_str().unwrap().ends_with(":v0.15.0"), "pinned");
    let service = find(&items, "Service", "shop-main");
    let ports = service["spec"]["ports"].as_array().unwrap();
    assert!(ports.iter().any(|p| p["name"] == "metrics" && p["port"] == 9187 && p["targetPort"] == "metrics"));
    let monitor = find(&items, "ServiceMonitor", "shop-main");
    assert_eq!(monitor["spec"]["selector"]["matchLabels"], service["spec"]["selector"]);
    assert_eq!(monitor["spec"]["endpoints"][0]["port"], "metrics");
}

/// The Time Service dashboard has the panels its seed lists, in a valid
/// Grafana layout.
#[test]
fn timeservice_dashboard_has_the_seed_panels() {
    let items = items(&["profiles/timeservice.yaml", "--env", "prod"]);
    let cm = find(&items, "ConfigMap", "timeservice-dashboard");
    assert_eq!(cm["metadata"]["labels"]["grafana_dashboard"], "1");
    assert_eq!(cm["metadata"]["annotations"]["grafana_folder"], "Time Service");
    let json: Value = serde_json::from_str(cm["data"]["timeservice.json"].as_str().unwrap()).expect("dashboard JSON");
    let panels = json["panels"].as_array().unwrap();
    let titles: Vec<&str> = panels.iter().map(|p| p["title"].as_str().unwrap()).collect();
    for wanted in [
        "Request rate",
        "Error rate",
        "Latency (p50, p95, p99)",
        "CPU (cores)",
        "Memory (working set)",
        "Container restarts (1h)",
        "Volume usage",
        "Query duration (p50, p95, p99)",
        "Connection pool (open, idle)",
        "Database file size",
    ] {
        assert!(titles.contains(&wanted), "no panel {wanted:?} in {titles:?}");
    }
    let mut ids: Vec<i64> = panels.iter().map(|p| p["id"].as_i64().unwrap()).collect();
    ids.dedup();
    assert_eq!(ids.len(), panels.len(), "panel ids are unique");
    let mut cells: Vec<(i64, i64)> =
        panels.iter().map(|p| (p["gridPos"]["x"].as_i64().unwrap(), p["gridPos"]["y"].as_i64().unwrap())).collect();
    cells.sort();
    cells.dedup();
    assert_eq!(cells.len(), panels.len(), "panels do not overlap");
    let quantiles = panels.iter().find(|p| p["title"] == "Query duration (p50, p95, p99)").unwrap();
    let legends: Vec<&str> =
        quantiles["targets"].as_array().unwrap().iter().map(|t| t["legendFormat"].as_str().unwrap()).collect();
    assert_eq!(legends, ["p50", "p95", "p99"]);
    let monitor = find(&items, "ServiceMonitor", "timeservice");
    assert_eq!(monitor["metadata"]["labels"]["release"], "kube-prometheus-stack");
    assert_eq!(monitor["spec"]["endpoints"][0]["port"], "http");
    assert_eq!(monitor["spec"]["endpoints"][0]["path"], "/metrics");
}

/// The validator with checkov in strict mode: no schema error, and the
/// monitoring objects and the exporter add no checkov failure to what the
/// same render without them has.
#[test]
fn validator_strict_on_renders_with_monitoring() {
    let script = repo().join("../shared/validate/validate-k8s.sh");
    let Some(script) = tool("validate-k8s.sh", &[script.to_str().unwrap()]) else { return };
    let mut cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (vec!["profiles/timeservice.yaml", "--env", "prod"], vec!["--set", "monitoring=null"]),
        (TEST_PROFILES[0..1].to_vec(), vec!["--set", "monitoring=null", "--set", "databases.main.exporter=false"]),
        (TEST_PROFILES[1..2].to_vec(), vec!["--set", "monitoring=null"]),
    ];
    for (args, without) in cases.drain(..) {
        let validate = |args: &[&str]| {
            let mut full = vec!["render"];
            full.extend_from_slice(args);
            let out = run(&full, None);
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            let mut child = Command::new("bash")
                .arg(&script)
                .args(["--strict", "--skip-check", "CKV_K8S_43", "-"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            use std::io::Write;
            child.stdin.take().unwrap().write_all(&out.stdout).unwrap();
            let result = child.wait_with_output().unwrap();
            String::from_utf8_lossy(&result.stdout).into_owned()
        };
        let report = validate(&args);
        assert!(report.contains(" 0 schema errors"), "{args:?}:\n{report}");
        assert!(!report.contains("skipped (CRD)"), "every monitoring object is checked against its CRD:\n{report}");
        let failures = |r: &str| -> Vec<String> {
            r.lines().filter(|l| l.trim_start().starts_with("FAILED ")).map(|l| l.trim().to_string()).collect()
        };
        let with = failures(&report);
        if with.is_empty() {
            continue;
        }
        let baseline: Vec<&str> = args.iter().copied().chain(without.iter().copied()).collect();
        let base = failures(&validate(&baseline));
        let added: Vec<&String> = with.iter().filter(|f| !base.contains(f)).collect();
        assert!(added.is_empty(), "{args:?}: monitoring adds checkov failures {added:?}\n{report}");
    }
}
