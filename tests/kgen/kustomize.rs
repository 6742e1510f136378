//! `--kustomize` output through the real `kubectl kustomize`: the objects
//! it builds are exactly the objects kgen prints.

use std::collections::BTreeSet;
use std::process::Command;

use serde::Deserialize;

use crate::support::{profile_matrix, render, run, scratch, tool};

/// The documents of a YAML stream as canonical JSON texts, a set.
pub fn object_set(yaml: &str) -> BTreeSet<String> {
    serde_yaml::Deserializer::from_str(yaml)
        .map(|doc| serde_json::Value::deserialize(doc).expect("valid YAML"))
        .filter(|v| !v.is_null())
        .map(|v| canonical(&v))
        .collect()
}

/// JSON with sorted keys, so that key order does not matter.
fn canonical(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> =
                keys.iter().map(|k| format!("{}:{}", serde_json::to_string(k).unwrap(), canonical(&m[*k]))).collect();
            format!("{{{}}}", parts.join(","))
        }
        serde_json::Value::Array(items) => format!("[{}]", items.iter().map(canonical).collect::<Vec<_>>().join(",")),
        other => other.to_string(),
    }
}

#[test]
fn kubectl_kustomize_builds_the_same_objects() {
    let Some(kubectl) = tool("kubectl", &["kubectl"]) else {
        return;
    };
    for (i, (profile, env)) in profile_matrix().into_iter().enumerate() {
        let dir = scratch(&format!("kustomize-{i}"));
        let mut args = vec!["render", profile.as_str(), "--out-dir", dir.to_str().unwrap(), "--kustomize"];
        if let Some(e) = &env {
            args.extend(["--env", e]);
        }
        let out = run(&args, None);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let built = Command::new(&kubectl).arg("kustomize").arg(&dir).output().unwrap();
        assert!(built.status.success(), "kubectl kustomize: {}", String::from_utf8_lossy(&built.stderr));
        let from_kubectl = object_set(&String::from_utf8(built.stdout).unwrap());
        let from_kgen = object_set(&render(&profile, env.as_deref()));
        assert!(!from_kgen.is_empty());
        assert_eq!(from_kubectl, from_kgen, "{profile} {env:?}");
    }
}

/// Extra manifests of kinds kgen does not model go through kustomize too.
#[test]
fn kubectl_kustomize_keeps_extra_manifests() {
    let Some(kubectl) = tool("kubectl", &["kubectl"]) else {
        return;
    };
    let dir = scratch("kustomize-extras");
    std::fs::write(
        dir.join("app.yaml"),
        "name: shop\nimage: shop:1.0\nports: {http: 8080}\nextraManifests: [podmonitor.yaml]\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::write(
        dir.join("templates/podmonitor.yaml"),
        "apiVersion: monitoring.coreos.com/v1\nkind: PodMonitor\nmetadata:\n  name: {{ name }}\nspec:\n  podMetricsEndpoints: [{port: http, interval: 30s}]\n",
    )
    .unwrap();
    let profile = dir.join("app.yaml");
    let out_dir = dir.join("out");
    let out = run(&["render", profile.to_str().unwrap(), "--out-dir", out_dir.to_str().unwrap(), "--kustomize"], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let built = Command::new(&kubectl).arg("kustomize").arg(&out_dir).output().unwrap();
    assert!(built.status.success(), "kubectl kustomize: {}", String::from_utf8_lossy(&built.stderr));
    let stdout = run(&["render", profile.to_str().unwrap()], None);
    assert_eq!(
        object_set(&String::from_utf8(built.stdout).unwrap()),
        object_set(&String::from_utf8(stdout.stdout).unwrap())
    );
}
