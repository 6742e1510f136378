//! Every shipped profile in every environment: snapshot, determinism,
//! round trip through k8s-openapi, and the independent validator.

use std::process::{Command, Stdio};

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, PersistentVolumeClaim, Secret, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use k8s_openapi::api::storage::v1::StorageClass;
use kgen::crd::{cnpg, prometheus};
use serde::Deserialize;

use crate::support::{profile_matrix, render, tool};

fn snapshot_name(profile: &str, env: &Option<String>) -> String {
    let stem = profile.rsplit('/').next().unwrap_or(profile).trim_end_matches(".yaml");
    format!("{stem}-{}", env.as_deref().unwrap_or("base"))
}

/// Reviewed against the seeds; a change here is a change to what users
/// apply to their clusters. The base render is kept whole; an environment
/// is kept as its difference from the base, so a change to an object they
/// share shows up once in review, and what an environment changes is all
/// its snapshot says.
#[test]
fn snapshots_of_every_profile_and_environment() {
    let mut bases = std::collections::HashMap::new();
    for (profile, env) in profile_matrix() {
        let out = render(&profile, env.as_deref());
        let snapshot = match &env {
            None => {
                bases.insert(profile.clone(), out.clone());
                out
            }
            Some(env) => {
                let base = bases.entry(profile.clone()).or_insert_with(|| render(&profile, None));
                environment_difference(base, &out, &snapshot_name(&profile, &None), env)
            }
        };
        insta::assert_snapshot!(snapshot_name(&profile, &env), snapshot);
    }
}

/// The environment's render as a unified diff against the base render.
fn environment_difference(base: &str, environment: &str, base_name: &str, env: &str) -> String {
    let diff = similar::TextDiff::from_lines(base, environment);
    let text = diff.unified_diff().context_radius(3).header(base_name, &format!("--env {env}")).to_string();
    if text.is_empty() { format!("--env {env} renders exactly what {base_name} does\n") } else { text }
}

#[test]
fn rendering_is_deterministic() {
    for (profile, env) in profile_matrix() {
        let a = render(&profile, env.as_deref());
        let b = render(&profile, env.as_deref());
        assert_eq!(a, b, "{profile} {env:?} renders differently twice");
    }
}

/// Each document parses back (with an independent YAML reader) into its
/// k8s-openapi type, and carries apiVersion, kind, a name and kgen's labels.
#[test]
fn output_round_trips_through_kubernetes_types() {
    for (profile, env) in profile_matrix() {
        let out = render(&profile, env.as_deref());
        for doc in serde_yaml::Deserializer::from_str(&out) {
            let value = serde_yaml::Value::deserialize(doc).expect("valid YAML");
            let json: serde_json::Value = serde_json::to_value(&value).unwrap();
            let kind = json["kind"].as_str().expect("kind").to_string();
            assert!(json["apiVersion"].is_string(), "{kind} has no apiVersion");
            let name = json["metadata"]["name"].as_str().unwrap_or_default();
            assert!(!name.is_empty(), "{kind} has no name");
            let labels = &json["metadata"]["labels"];
            for label in [
                "app.kubernetes.io/name",
                "app.kubernetes.io/instance",
                "app.kubernetes.io/managed-by",
                "app.kubernetes.io/part-of",
            ] {
                assert!(labels[label].is_string(), "{kind}/{name} lacks label {label}");
            }
            let reparsed = match kind.as_str() {
                "Namespace" => serde_json::to_value(Namespace::deserialize(&json).unwrap()),
                "ServiceAccount" => serde_json::to_value(ServiceAccount::deserialize(&json).unwrap()),
                "ConfigMap" => serde_json::to_value(ConfigMap::deserialize(&json).unwrap()),
                "Secret" => serde_json::to_value(Secret::deserialize(&json).unwrap()),
                "Service" => serde_json::to_value(Service::deserialize(&json).unwrap()),
                "Deployment" => serde_json::to_value(Deployment::deserialize(&json).unwrap()),
                "StatefulSet" => serde_json::to_value(StatefulSet::deserialize(&json).unwrap()),
                "Job" => serde_json::to_value(Job::deserialize(&json).unwrap()),
                "CronJob" => serde_json::to_value(CronJob::deserialize(&json).unwrap()),
                "PersistentVolumeClaim" => serde_json::to_value(PersistentVolumeClaim::deserialize(&json).unwrap()),
                "StorageClass" => serde_json::to_value(StorageClass::deserialize(&json).unwrap()),
                "Cluster" => serde_json::to_value(cnpg::Cluster::deserialize(&json).unwrap()),
                "NetworkPolicy" => serde_json::to_value(NetworkPolicy::deserialize(&json).unwrap()),
                "PodDisruptionBudget" => serde_json::to_value(PodDisruptionBudget::deserialize(&json).unwrap()),
                "HorizontalPodAutoscaler" => serde_json::to_value(HorizontalPodAutoscaler::deserialize(&json).unwrap()),
                "Ingress" => serde_json::to_value(Ingress::deserialize(&json).unwrap()),
                "Role" => serde_json::to_value(Role::deserialize(&json).unwrap()),
                "RoleBinding" => serde_json::to_value(RoleBinding::deserialize(&json).unwrap()),
                "Issuer" => serde_json::to_value(kgen::crd::certmanager::Issuer::deserialize(&json).unwrap()),
                "HTTPRoute" => serde_json::to_value(kgen::crd::gateway::HTTPRoute::deserialize(&json).unwrap()),
                "ReferenceGrant" => {
                    serde_json::to_value(kgen::crd::gateway::ReferenceGrant::deserialize(&json).unwrap())
                }
                "ScaledObject" => serde_json::to_value(kgen::crd::keda::ScaledObject::deserialize(&json).unwrap()),
                "ScheduledBackup" => serde_json::to_value(cnpg::ScheduledBackup::deserialize(&json).unwrap()),
                "ServiceMonitor" => serde_json::to_value(prometheus::ServiceMonitor::deserialize(&json).unwrap()),
                "PodMonitor" => serde_json::to_value(prometheus::PodMonitor::deserialize(&json).unwrap()),
                "PrometheusRule" => serde_json::to_value(prometheus::PrometheusRule::deserialize(&json).unwrap()),
                other => panic!("add {other} to the round-trip test"),
            }
            .unwrap();
            assert_eq!(reparsed, json, "{kind}/{name} does not round-trip: a field was lost or changed");
        }
    }
}

/// `../shared/validate/validate-k8s.sh`: strict schemas of Kubernetes
/// 1.37 and 1.29 (and of the CRDs) plus API-server rules; zero schema
/// errors, for the shipped profiles and the coverage fixtures.
#[test]
fn validator_reports_no_schema_errors() {
    let script = crate::support::repo().join("../shared/validate/validate-k8s.sh");
    let Some(script) = tool("validate-k8s.sh", &[script.to_str().unwrap()]) else {
        return;
    };
    for (profile, env) in crate::support::coverage_matrix() {
        let out = render(&profile, env.as_deref());
        for version in [None, Some("1.29.0")] {
            let mut cmd = Command::new("bash");
            cmd.arg(&script).args(["--no-checkov", "--no-yamllint"]);
            if let Some(v) = version {
                cmd.args(["-k", v]);
            }
            let mut child =
                cmd.arg("-").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
            use std::io::Write;
            child.stdin.take().unwrap().write_all(out.as_bytes()).unwrap();
            let result = child.wait_with_output().unwrap();
            let report = String::from_utf8_lossy(&result.stdout);
            assert!(
                result.status.success() && report.contains(" 0 schema errors"),
                "{profile} {env:?} (k8s {version:?}):\n{report}\n{}",
                String::from_utf8_lossy(&result.stderr)
            );
        }
    }
}

/// Values of Secrets kgen creates appear only in those Secrets: never in a
/// ConfigMap, an env literal, an argument or an annotation.
#[test]
fn created_secret_values_stay_in_secrets() {
    for (profile, env) in crate::support::coverage_matrix() {
        let out = render(&profile, env.as_deref());
        for (_, value) in crate::support::PROFILE_ENV {
            use base64::Engine as _;
            let encoded = base64::engine::general_purpose::STANDARD.encode(value);
            for doc in out.split("---\n").filter(|d| !d.trim().is_empty()) {
                let is_secret = doc.contains("\nkind: Secret\n");
                assert!(!doc.contains(value), "{profile} {env:?}: a secret value in plain text:\n{doc}");
                if !is_secret {
                    assert!(!doc.contains(&encoded), "{profile} {env:?}: a secret value outside a Secret:\n{doc}");
                }
            }
        }
    }
}

/// Production renders pass the validator with `--strict`: checkov finds
/// nothing but image digests (CKV_K8S_43: pin a digest in the profile to
/// satisfy it) and secrets read from environment variables where the seed's
/// app reads them that way (CKV_K8S_35).
#[test]
fn production_renders_pass_checkov() {
    let script = crate::support::repo().join("../shared/validate/validate-k8s.sh");
    let Some(script) = tool("validate-k8s.sh", &[script.to_str().unwrap()]) else { return };
    let production = [
        ("profiles/clockwork.yaml", Some("prod")),
        ("profiles/traversion.yaml", Some("prod")),
        ("profiles/timeservice.yaml", Some("prod")),
        ("profiles/feaf.yaml", None),
        ("profiles/feaf.yaml", Some("ha")),
        ("profiles/platform.yaml", Some("aws")),
    ];
    for (profile, env) in production {
        let out = render(profile, env);
        let mut child = Command::new("bash")
            .arg(&script)
            .args(["--strict", "--skip-check", "CKV_K8S_43,CKV_K8S_35", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(out.as_bytes()).unwrap();
        let result = child.wait_with_output().unwrap();
        let report = String::from_utf8_lossy(&result.stdout);
        assert!(result.status.success() && report.contains(" 0 checkov failures"), "{profile} {env:?}:\n{report}");
    }
}

/// Secret hygiene: a value kgen reads for a created Secret appears in that
/// Secret only (base64, as Kubernetes stores it), never in another object,
/// and never in a message.
#[test]
fn created_secret_values_appear_only_in_secret_objects() {
    let encoded = |v: &str| serde_json::to_value(k8s_openapi::ByteString(v.as_bytes().to_vec())).unwrap();
    let mut found_in_a_secret = false;
    for (profile, env) in crate::support::coverage_matrix() {
        let out = render(&profile, env.as_deref());
        for doc in serde_yaml::Deserializer::from_str(&out) {
            let value = serde_json::Value::deserialize(doc).unwrap();
            let text = serde_json::to_string(&value).unwrap();
            for (var, secret) in crate::support::PROFILE_ENV {
                let b64 = encoded(secret);
                let b64 = b64.as_str().unwrap();
                if value["kind"] == "Secret" {
                    found_in_a_secret |= text.contains(b64);
                    assert!(!text.contains(secret), "{profile} {env:?}: {var} in plain text in a Secret");
                } else {
                    assert!(
                        !text.contains(secret) && !text.contains(b64),
                        "{profile} {env:?}: the value of {var} is in {}",
                        value["kind"]
                    );
                }
            }
        }
        // A failed render with the same inputs does not print it either.
        let mut args = vec!["render", profile.as_str(), "--set", "replicas=many"];
        if let Some(e) = &env {
            args.extend(["--env", e]);
        }
        let failed = crate::support::run(&args, None);
        assert_eq!(failed.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&failed.stderr);
        for (var, secret) in crate::support::PROFILE_ENV {
            assert!(!stderr.contains(secret), "{profile} {env:?}: the value of {var} is in a message");
        }
    }
    assert!(found_in_a_secret, "no test profile creates a Secret: this test checks nothing");
}
