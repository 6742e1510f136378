//! `kgen bootstrap`: the scripts pass shellcheck (for every shipped
//! profile and a profile with an ingress, TLS and custom resources), and
//! the kind config maps ports 80/443 only when the app has an ingress.

use std::path::Path;
use std::process::Command;

use serde::Deserialize;

use crate::support::{kgen, profile_matrix, run, scratch, tool};

fn shellcheck(shellcheck: &Path, script: &str, what: &str) {
    let dir = scratch("bootstrap-shellcheck");
    let file = dir.join("bootstrap.sh");
    std::fs::write(&file, script).unwrap();
    let out = Command::new(shellcheck).args(["--shell=bash", "--severity=style"]).arg(&file).output().unwrap();
    assert!(out.status.success(), "shellcheck on {what}:\n{}\n{script}", String::from_utf8_lossy(&out.stdout));
}

/// A profile whose bundle needs an ingress controller, cert-manager and the
/// Prometheus Operator's CRDs (through extra manifests, until the profile
/// says so itself).
fn ingress_project() -> std::path::PathBuf {
    let dir = scratch("bootstrap-ingress");
    std::fs::write(
        dir.join("web.yaml"),
        "name: web\nimage: {reference: web:dev, pullPolicy: IfNotPresent}\nports: {http: 8080}\nextraManifests: [ingress.yaml, monitor.yaml]\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::write(
        dir.join("templates/ingress.yaml"),
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\n  annotations: {cert-manager.io/cluster-issuer: letsencrypt-prod}\nspec:\n  tls: [{hosts: [web.localhost], secretName: web-tls}]\n  rules:\n    - host: web.localhost\n      http:\n        paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {name: http}}}}]\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("templates/monitor.yaml"),
        "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata:\n  name: web\nspec:\n  endpoints: [{port: http}]\n  selector: {matchLabels: {app.kubernetes.io/name: web}}\n",
    )
    .unwrap();
    dir
}

#[test]
fn scripts_pass_shellcheck() {
    let Some(sc) = tool("shellcheck", &["shellcheck"]) else {
        return;
    };
    let mut profiles: Vec<String> = profile_matrix().into_iter().map(|(p, _)| p).collect();
    profiles.dedup();
    for profile in &profiles {
        for cluster in ["kind", "minikube"] {
            let out = run(&["bootstrap", cluster, profile], None);
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            shellcheck(&sc, &String::from_utf8(out.stdout).unwrap(), &format!("{cluster} {profile}"));
        }
    }
    let dir = ingress_project();
    for cluster in ["kind", "minikube"] {
        let out = kgen().args(["bootstrap", cluster, "web.yaml"]).current_dir(&dir).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let script = String::from_utf8(out.stdout).unwrap();
        for needed in ["cert-manager", "kind: ClusterIssuer", "name: letsencrypt-prod", "stripped-down-crds.yaml"] {
            assert!(script.contains(needed), "{cluster} script lacks {needed}:\n{script}");
        }
        shellcheck(&sc, &script, &format!("{cluster} with an ingress"));
    }
    // Written to a directory: the script next to its kind config.
    let out = kgen().args(["bootstrap", "kind", "web.yaml", "--out-dir", "local"]).current_dir(&dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let script = std::fs::read_to_string(dir.join("local/bootstrap.sh")).unwrap();
    assert!(script.contains("--config \"$(dirname \"$0\")/kind-cluster.yaml\""));
    shellcheck(&sc, &script, "kind, --out-dir");
}

#[test]
fn kind_config_maps_ports_for_an_ingress() {
    let config = |dir: &Path, profile: &str| -> serde_json::Value {
        let out_dir = dir.join("out");
        let out = kgen()
            .args(["bootstrap", "kind", profile, "--out-dir", out_dir.to_str().unwrap()])
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = std::fs::read_to_string(out_dir.join("kind-cluster.yaml")).unwrap();
        serde_json::Value::deserialize(serde_yaml::Deserializer::from_str(&text)).unwrap()
    };
    let with = config(&ingress_project(), "web.yaml");
    assert_eq!(with["apiVersion"], "kind.x-k8s.io/v1alpha4");
    assert_eq!(with["kind"], "Cluster");
    let ports: Vec<i64> = with["nodes"][0]["extraPortMappings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["hostPort"].as_i64().unwrap())
        .collect();
    assert_eq!(ports, [80, 443]);
    let clockwork = crate::support::repo().join("profiles/clockwork.yaml");
    let without = config(&scratch("bootstrap-clockwork"), clockwork.to_str().unwrap());
    assert!(without["nodes"][0].get("extraPortMappings").is_none());
}

/// With Gateway API routes the script creates Envoy Gateway's class and the
/// Gateway the routes name, renders the app so that Envoy Gateway's proxies
/// get through its network policies, and forwards to the app's own Service.
#[test]
fn a_gateway_is_created_and_let_in() {
    let out = run(&["bootstrap", "kind", "profiles/traversion.yaml", "--env", "gateway"], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let script = String::from_utf8(out.stdout).unwrap();
    for needed in [
        "kind: GatewayClass",
        "controllerName: gateway.envoyproxy.io/gatewayclass-controller",
        "kind: Gateway\nmetadata:\n  name: public\n  namespace: gateway-system\n",
        "    - name: https\n      protocol: HTTP\n      port: 80\n",
        "--set networkPolicy.gatewayNamespace=envoy-gateway-system |",
        "port-forward service/traversion-app 3000:3000",
    ] {
        assert!(script.contains(needed), "the script lacks {needed:?}:\n{script}");
    }
    // Each warning once, though several objects run the same image.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches("image `timescale/timescaledb:2.17.2-pg17` is pulled").count(), 1, "{stderr}");
    if let Some(sc) = tool("shellcheck", &["shellcheck"]) {
        shellcheck(&sc, &script, "kind with a gateway");
    }
}
