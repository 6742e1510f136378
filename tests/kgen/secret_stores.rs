//! Secrets from real stores (`secrets.NAME.external`, `secrets.NAME.sealed`):
//! the typed ExternalSecret and SealedSecret, their place in the bundle,
//! `--api-versions`, what `kgen check` asks of the cluster, how pods roll,
//! and the environment that switches back to created Secrets.

use serde::Deserialize;

use crate::support::{kgen, run};

const FIXTURE: &str = "tests/kgen/fixtures/secret-stores.yaml";

fn objects(yaml: &str) -> Vec<serde_json::Value> {
    serde_yaml::Deserializer::from_str(yaml).map(|d| serde_json::Value::deserialize(d).unwrap()).collect()
}

fn render(args: &[&str]) -> Vec<serde_json::Value> {
    let out = run(&[&["render", FIXTURE], args].concat(), None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    objects(&String::from_utf8(out.stdout).unwrap())
}

fn find<'a>(objects: &'a [serde_json::Value], kind: &str, name: &str) -> Option<&'a serde_json::Value> {
    objects.iter().find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
}

#[test]
fn an_external_secret_and_a_sealed_secret_make_the_secrets_the_pods_read() {
    let bundle = render(&[]);
    let kinds: Vec<&str> = bundle.iter().map(|o| o["kind"].as_str().unwrap()).collect();
    assert!(!kinds.contains(&"Secret"), "no Secret object: {kinds:?}");
    // Before the workloads that read their Secrets, in the setup wave.
    let position = |kind: &str| kinds.iter().position(|k| *k == kind).unwrap();
    assert!(position("ExternalSecret") < position("Deployment"));
    assert!(position("SealedSecret") < position("Deployment"));

    let api = find(&bundle, "ExternalSecret", "shop-api").unwrap();
    assert_eq!(api["apiVersion"], "external-secrets.io/v1");
    assert_eq!(api["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"], "-3");
    let spec = &api["spec"];
    assert_eq!(spec["secretStoreRef"], serde_json::json!({"name": "vault", "kind": "ClusterSecretStore"}));
    assert_eq!(spec["refreshInterval"], "1h");
    assert_eq!(spec["target"]["name"], "shop-api");
    assert_eq!(spec["target"]["creationPolicy"], "Owner");
    // The Secret the operator makes is not labelled managed-by kgen: a
    // prune by that label would delete it.
    let labels = spec["target"]["template"]["metadata"]["labels"].as_object().unwrap();
    assert_eq!(labels["app.kubernetes.io/instance"], "shop");
    assert!(!labels.contains_key("app.kubernetes.io/managed-by"));
    assert_eq!(
        spec["data"],
        serde_json::json!([
            {"secretKey": "API_KEY", "remoteRef": {"key": "prod/shop/api-key"}},
            {"secretKey": "STRIPE_KEY", "remoteRef": {"key": "prod/stripe", "property": "secret"}},
        ])
    );
    // A database URL from a store: a SecretStore of the namespace by default.
    let db = find(&bundle, "ExternalSecret", "shop-db").unwrap();
    assert_eq!(db["spec"]["secretStoreRef"], serde_json::json!({"name": "shop-store", "kind": "SecretStore"}));

    let sealed = find(&bundle, "SealedSecret", "shop-signing").unwrap();
    assert_eq!(sealed["apiVersion"], "bitnami.com/v1alpha1");
    assert_eq!(sealed["spec"]["template"]["type"], "Opaque");
    assert!(sealed["spec"]["encryptedData"]["signing-key"].as_str().unwrap().starts_with("AgB"));

    // Pods roll through Reloader when the store rotates a value, and
    // through `checksum/secret` when the keys or the sealed values change.
    let deployment = find(&bundle, "Deployment", "shop").unwrap();
    assert_eq!(deployment["metadata"]["annotations"]["secret.reloader.stakater.com/reload"], "shop-api,shop-db");
    assert!(deployment["spec"]["template"]["metadata"]["annotations"]["checksum/secret"].is_string());
}

#[test]
fn checksum_secret_follows_the_keys_and_the_sealed_values() {
    let checksum = |args: &[&str]| {
        let bundle = render(args);
        let d = find(&bundle, "Deployment", "shop").unwrap();
        d["spec"]["template"]["metadata"]["annotations"]["checksum/secret"].as_str().unwrap().to_string()
    };
    let base = checksum(&[]);
    assert_eq!(checksum(&[]), base);
    assert_ne!(checksum(&["--set", "secrets.shop-api.external.keys.API_KEY=prod/shop/api-key-v2"]), base);
    assert_ne!(checksum(&["--set", "secrets.shop-signing.sealed.signing-key=AgBother"]), base);
    // A store that reads once needs no Reloader.
    let bundle = render(&["--set", "secrets.shop-api.external.refreshInterval=0s"]);
    let d = find(&bundle, "Deployment", "shop").unwrap();
    assert_eq!(d["metadata"]["annotations"]["secret.reloader.stakater.com/reload"], "shop-db");
}

#[test]
fn api_versions_without_the_operators_are_errors() {
    let out = run(&["render", FIXTURE, "--api-versions", "monitoring.coreos.com/v1"], None);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ExternalSecret `shop-api` needs external-secrets.io/v1, which --api-versions does not list"),
        "{stderr}"
    );
    assert!(stderr.contains("SealedSecret `shop-signing` needs bitnami.com/v1alpha1"), "{stderr}");
    assert!(stderr.contains("`secrets.*.external`"), "{stderr}");
    // An operator older than 0.17 serves only v1beta1: not enough.
    let out = run(&["render", FIXTURE, "--api-versions", "external-secrets.io/v1beta1,bitnami.com/v1alpha1"], None);
    assert_eq!(out.status.code(), Some(1));
    let out = run(&["render", FIXTURE, "--api-versions", "external-secrets.io/v1,bitnami.com/v1alpha1"], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn check_asks_for_the_operators_and_stores_not_the_secrets() {
    let out = run(&["check", FIXTURE, "--output", "json"], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let needs: Vec<(String, String)> = report["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["kind"].as_str().unwrap().to_string(), r["name"].as_str().unwrap().to_string()))
        .collect();
    let has = |kind: &str, name: &str| needs.iter().any(|(k, n)| k == kind && n == name);
    assert!(has("ClusterSecretStore", "vault"), "{needs:?}");
    assert!(has("SecretStore", "shop-store"), "{needs:?}");
    assert!(has("CustomResourceDefinition", "external-secrets.io (ExternalSecret)"), "{needs:?}");
    assert!(has("CustomResourceDefinition", "bitnami.com (SealedSecret)"), "{needs:?}");
    assert!(!needs.iter().any(|(k, _)| k == "Secret"), "{needs:?}");
    let operator = report["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "external-secrets.io (ExternalSecret)")
        .unwrap();
    assert!(operator["provide"].as_str().unwrap().contains("--version 1.1.1"), "{operator}");
}

#[test]
fn bootstrap_creates_no_secret_a_store_provides_and_says_why_pods_wait() {
    let out = run(&["bootstrap", "kind", FIXTURE], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let script = String::from_utf8_lossy(&out.stdout);
    for name in ["shop-api", "shop-db", "shop-signing"] {
        assert!(!script.contains(&format!("secret generic {name}")), "{script}");
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("a local cluster lacks ClusterSecretStore vault"), "{stderr}");
    assert!(stderr.contains("SealedSecret `shop-signing` was sealed for another cluster's key"), "{stderr}");
}

#[test]
fn an_environment_switches_back_to_created_secrets_with_null() {
    let out = kgen()
        .args(["render", FIXTURE, "--env", "local"])
        .envs([
            ("SHOP_API_KEY", "a"),
            ("SHOP_STRIPE_KEY", "b"),
            ("SHOP_DATABASE_URL", "postgres://db/shop"),
            ("SHOP_SIGNING_KEY", "c"),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bundle = objects(&String::from_utf8(out.stdout).unwrap());
    let kinds: Vec<&str> = bundle.iter().map(|o| o["kind"].as_str().unwrap()).collect();
    assert!(!kinds.contains(&"ExternalSecret") && !kinds.contains(&"SealedSecret"), "{kinds:?}");
    for name in ["shop-api", "shop-db", "shop-signing"] {
        assert!(find(&bundle, "Secret", name).is_some(), "{name}: {kinds:?}");
    }
    let d = find(&bundle, "Deployment", "shop").unwrap();
    assert!(d["metadata"]["annotations"].get("secret.reloader.stakater.com/reload").is_none());
}

/// The validator has no Sealed Secrets schema, so the SealedSecret is held
/// to the one of sealed-secrets' own CRD (`tests/kgen/crd-schemas/`), by the
/// validator's schema checker with that directory beside its own. A
/// misspelt field must fail, or the check proves nothing.
#[test]
fn sealed_secrets_pass_the_schema_of_their_crd() {
    use std::process::Command;
    let shared = crate::support::repo().join("../shared/validate");
    let script = shared.join("validate-k8s.sh");
    let Some(script) = crate::support::tool("validate-k8s.sh", &[script.to_str().unwrap()]) else {
        return;
    };
    let dir = crate::support::scratch("sealed-secret-schema");
    let out = run(&["render", FIXTURE, "--show-only", "sealedsecret/shop-signing"], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rendered = String::from_utf8(out.stdout).unwrap();
    std::fs::write(dir.join("sealed.yaml"), &rendered).unwrap();
    std::fs::write(dir.join("misspelt.yaml"), rendered.replace("encryptedData:", "encryptedDatas:")).unwrap();
    // The validator alone skips it (and makes its Python environment).
    let alone = Command::new("bash")
        .arg(&script)
        .args(["--no-checkov", "--no-yamllint"])
        .arg(dir.join("sealed.yaml"))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&alone.stdout).contains("1 skipped CRD"),
        "{}",
        String::from_utf8_lossy(&alone.stdout)
    );

    let schemas = dir.join("crd-schemas");
    std::fs::create_dir_all(&schemas).unwrap();
    for group in std::fs::read_dir(shared.join("crd-schemas")).unwrap() {
        let group = group.unwrap();
        if group.file_type().unwrap().is_dir() {
            std::os::unix::fs::symlink(group.path(), schemas.join(group.file_name())).unwrap();
        }
    }
    std::os::unix::fs::symlink(
        crate::support::repo().join("tests/kgen/crd-schemas/bitnami.com"),
        schemas.join("bitnami.com"),
    )
    .unwrap();
    let venv = std::env::var("VALIDATORS_VENV").unwrap_or_else(|_| "/tmp/validators/venv".into());
    let check = |file: &str| {
        let out = Command::new(format!("{venv}/bin/python"))
            .arg(shared.join("k8s_schema_check.py"))
            .arg("--crd-dir")
            .arg(&schemas)
            .arg(dir.join(file))
            .output()
            .unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let (ok, report) = check("sealed.yaml");
    assert!(ok && report.contains("PASS bitnami.com/v1alpha1 SealedSecret"), "{report}");
    let (ok, report) = check("misspelt.yaml");
    assert!(!ok && report.contains("'encryptedData' is a required property"), "{report}");
}
