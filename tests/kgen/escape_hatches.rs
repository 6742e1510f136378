//! `patches` and `extraManifests`: what they add and change. Their error
//! messages are corpus cases (`tests/kgen/corpus/123-…` to `136-…`).

use std::path::PathBuf;

use crate::support::{kgen, scratch};

const APP: &str = "name: shop\nimage: shop:1.0\nports: {http: 8080}\n";

/// A scratch directory with `app.yaml` (APP plus `extra`) and files.
fn project(name: &str, extra: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = scratch(&format!("escape-{name}"));
    std::fs::write(dir.join("app.yaml"), format!("{APP}{extra}")).unwrap();
    for (path, text) in files {
        let full = dir.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }
    dir
}

fn render_in(dir: &PathBuf) -> std::process::Output {
    kgen().args(["render", "app.yaml"]).current_dir(dir).output().unwrap()
}

fn documents(yaml: &[u8]) -> Vec<serde_json::Value> {
    use serde::Deserialize;
    serde_yaml::Deserializer::from_slice(yaml).map(|d| serde_json::Value::deserialize(d).unwrap()).collect()
}

#[test]
fn patches_and_extra_manifests_change_the_bundle() {
    let dir = project(
        "ok",
        "extraManifests: [pdb.yaml, ./monitoring/podmonitor.yaml]
patches:
  - target: {kind: Deployment, name: shop}
    merge:
      spec:
        template:
          spec:
            containers:
              - name: shop
                env: [{name: EXTRA, value: \"1\"}]
  - target: {kind: Service, name: shop}
    json:
      - {op: add, path: /spec/sessionAffinity, value: ClientIP}
",
        &[
            (
                "templates/pdb.yaml",
                "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: {{ name }}\nspec:\n  minAvailable: 1\n  selector:\n    matchLabels: {{ components.shop.selectorLabels | tojson }}\n",
            ),
            (
                "monitoring/podmonitor.yaml",
                "apiVersion: monitoring.coreos.com/v1\nkind: PodMonitor\nmetadata:\n  name: shop\nspec:\n  podMetricsEndpoints: [{port: http}]\n",
            ),
        ],
    );
    let out = render_in(&dir);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let docs = documents(&out.stdout);
    let kinds: Vec<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
    // Extra manifests are ordered with everything else; unknown kinds last.
    assert_eq!(
        kinds,
        ["Namespace", "NetworkPolicy", "PodDisruptionBudget", "ServiceAccount", "Service", "Deployment", "PodMonitor"]
    );
    let pdb = &docs[2];
    assert_eq!(pdb["metadata"]["namespace"], "shop");
    assert_eq!(pdb["metadata"]["labels"]["app.kubernetes.io/managed-by"], "kgen");
    assert_eq!(pdb["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"], "shop");
    assert_eq!(docs[4]["spec"]["sessionAffinity"], "ClientIP");
    let env = &docs[5]["spec"]["template"]["spec"]["containers"][0]["env"];
    assert_eq!(env, &serde_json::json!([{"name": "EXTRA", "value": "1"}]));
    assert_eq!(docs[5]["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"], "0");
}

/// Template values are substituted as text (no JSON quoting in `.yaml`
/// files), and `tojson` quotes where a value must stay a string.
#[test]
fn extra_manifest_values_are_plain_text() {
    let dir = project(
        "plain-text",
        "extraManifests: [cm.yaml]\n",
        &[(
            "templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ name }}-extra\n  labels: {{ labels | tojson }}\n\
             data:\n  env: \"{{ environment }}\"\n  version: {{ \"1.10\" | tojson }}\n",
        )],
    );
    let out = render_in(&dir);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let docs = documents(&out.stdout);
    let cm = docs.iter().find(|d| d["kind"] == "ConfigMap").expect("the extra ConfigMap");
    assert_eq!(cm["metadata"]["name"], "shop-extra");
    assert_eq!(cm["metadata"]["labels"]["app.kubernetes.io/name"], "shop");
    assert_eq!(cm["data"], serde_json::json!({"env": "base", "version": "1.10"}));
}

/// `kgen check` after patches: a reference the bundle cannot resolve fails
/// it (the messages are corpus case 136), and declared as existing it is
/// listed as what the cluster must provide.
#[test]
fn check_after_patches_lists_what_they_need() {
    const PATCHES: &str = "patches:\n  - target: {kind: Deployment, name: shop}\n    json:\n      - {op: add, path: /spec/template/spec/serviceAccountName, value: robot}\n      - {op: add, path: /spec/template/spec/priorityClassName, value: high}\n";
    let dir = project("check-inconsistent", PATCHES, &[]);
    let out = kgen().args(["check", "app.yaml"]).current_dir(&dir).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "error app.yaml (base)\n");
    let dir = project(
        "check-external",
        &format!("external: {{serviceAccounts: [robot], priorityClasses: [high]}}\n{PATCHES}"),
        &[],
    );
    let out = kgen().args(["check", "app.yaml"]).current_dir(&dir).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "ok    app.yaml (base): 5 objects\n\napp.yaml needs from the cluster:\n  \
         PriorityClass high\n      kubectl create priorityclass high --value=1000\n  \
         ServiceAccount shop/robot\n      kubectl -n shop create serviceaccount robot\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
