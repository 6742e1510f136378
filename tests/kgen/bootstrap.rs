//! `kgen bootstrap`: the scripts pass shellcheck (for every shipped
//! profile and a profile with an ingress, TLS and custom resources), and
//! the kind config is one node, and the scripts run in order against stub
//! tools that fail like the real ones when a Secret or a CRD is missing.

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
fn kind_config_is_one_node_without_host_ports() {
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
    // An Ingress gets an address from cloud-provider-kind: no host ports.
    assert_eq!(with["nodes"], serde_json::json!([{"role": "control-plane"}]));
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
        "--set networkPolicy.gatewayNamespace=envoy-gateway-system",
        "port-forward service/traversion-app 3000:3000",
    ] {
        assert!(script.contains(needed), "the script lacks {needed:?}:\n{script}");
    }
    // Each warning once; only the app's own image is loaded (and rendered
    // IfNotPresent), the databases' are pulled as usual.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches("a local cluster lacks APIService v1beta1.custom.metrics.k8s.io").count(), 1, "{stderr}");
    assert!(!stderr.contains("is pulled with `imagePullPolicy: Always`"), "{stderr}");
    assert!(!script.contains("kind load docker-image timescale/"), "{script}");
    if let Some(sc) = tool("shellcheck", &["shellcheck"]) {
        shellcheck(&sc, &script, "kind with a gateway");
    }
}

/// Stub `kind`, `minikube`, `docker` and `kubectl` (tests/kgen/stubs) that
/// record their calls; the stub kubectl fails like the real one when a CRD
/// or a Secret is missing. Returns the bin folder.
fn stub_tools(python: &Path, dir: &Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let stubs = crate::support::repo().join("tests/kgen/stubs");
    let write = |name: &str, text: String| {
        std::fs::write(bin.join(name), text).unwrap();
        std::fs::set_permissions(bin.join(name), std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    write(
        "kubectl",
        format!("#!/bin/sh\nexec '{}' '{}' \"$@\"\n", python.display(), stubs.join("kubectl.py").display()),
    );
    let record = "echo \"$(basename \"$0\") $*\" >> \"$KGEN_STUB_STATE/calls.log\"\n";
    write("kind", format!("#!/bin/sh\n{record}[ \"$1 $2\" = 'get clusters' ] && exit 0\nexit 0\n"));
    write("docker", format!("#!/bin/sh\n{record}case \"$1\" in inspect) exit 1 ;; esac\nexit 0\n"));
    write("minikube", format!("#!/bin/sh\n{record}[ \"$1\" = ip ] && echo 192.168.49.2\nexit 0\n"));
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_kgen"), bin.join("kgen")).unwrap();
    bin
}

/// Run a bootstrap script against the stubs; (success, calls, stderr).
fn run_script(bin: &Path, cwd: &Path, script: &str, state: &Path) -> (bool, Vec<String>, String) {
    let _ = std::fs::remove_dir_all(state);
    std::fs::create_dir_all(state).unwrap();
    let file = state.join("bootstrap.sh");
    std::fs::write(&file, script).unwrap();
    let out = Command::new("bash")
        .arg(&file)
        .current_dir(cwd)
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("KGEN_STUB_STATE", state)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let calls = std::fs::read_to_string(state.join("calls.log")).unwrap_or_default();
    (out.status.success(), calls.lines().map(String::from).collect(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// The bootstrap script on a profile that is a name, an image and a
/// database (and a cache), on kind and minikube, against stub tools: the
/// cluster comes first, then the app's image, then every Secret the bundle
/// reads, then the bundle, then the rollouts, which pass because nothing
/// is missing; without the Secrets step the rollout fails as it would on a
/// real cluster. Every shipped profile's script runs through too.
#[test]
fn bootstrap_scripts_run_in_order_against_stub_tools() {
    let Some(python) = crate::support::python_with_pyyaml() else { return };
    let dir = scratch("bootstrap-stubs");
    let bin = stub_tools(&python, &dir);
    let state = dir.join("state");
    for (name, profile) in [
        ("db", "name: shop\nimage: shop:1\nports: {http: 8080}\ndatabases:\n  main: {engine: postgres}\n"),
        (
            "db-cache",
            "name: shop\nimage: shop:1\nports: {http: 8080}\ndatabases:\n  main: {engine: postgres}\ncache: {}\n",
        ),
    ] {
        let project = dir.join(name);
        std::fs::create_dir_all(&project).unwrap();
        std::fs::write(project.join("kgen.yaml"), profile).unwrap();
        for cluster in ["kind", "minikube"] {
            let out = kgen().args(["bootstrap", cluster]).current_dir(&project).output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            let script = String::from_utf8(out.stdout).unwrap();
            let (ok, calls, stderr) = run_script(&bin, &project, &script, &state);
            assert!(ok, "{name} on {cluster}: the script failed:\n{stderr}\ncalls:\n{}", calls.join("\n"));
            let at = |prefix: &str| {
                calls
                    .iter()
                    .position(|c| c.starts_with(prefix))
                    .unwrap_or_else(|| panic!("{name} on {cluster}: no call `{prefix}…`:\n{}", calls.join("\n")))
            };
            let cluster_up = if cluster == "kind" { at("kind create cluster") } else { at("minikube start") };
            let image = if cluster == "kind" { at("kind load docker-image shop:1") } else { at("minikube --profile") };
            let secret = at("kubectl -n shop create secret generic shop-main-credentials");
            let apply = at("kubectl apply --server-side --field-manager=kgen -f -");
            let rollout = at("kubectl -n shop rollout status statefulset/shop-main");
            assert!(cluster_up < image && image < secret && secret < apply && apply < rollout, "{}", calls.join("\n"));
            if name == "db-cache" {
                at("kubectl -n shop create secret generic shop-redis-credentials");
                at("kubectl -n shop rollout status deployment/shop-redis");
            }
            assert!(!calls.iter().any(|c| c.contains("ingress-nginx")), "{}", calls.join("\n"));

            // A missing step fails the run: the Secrets are not there.
            let start = script.find("echo \"==> 4.").unwrap();
            let end = script.find("echo \"==> 5.").unwrap();
            let without = format!("{}{}", &script[..start], &script[end..]);
            let (ok, _, stderr) = run_script(&bin, &project, &without, &state);
            assert!(!ok, "{name} on {cluster}: the script without its Secrets step passed");
            assert!(
                stderr.contains("CreateContainerConfigError: secret \"shop-main-credentials\" not found"),
                "{stderr}"
            );
        }
    }
    // minikube's ingress is its addon; kind's is cloud-provider-kind, whose
    // class the app's Ingress uses.
    let ingress =
        "name: web\nimage: web:1\nports: {http: 8080}\ningress: {className: nginx, hosts: [{host: web.localhost}]}\n";
    let project = dir.join("ingress");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(project.join("kgen.yaml"), ingress).unwrap();
    for cluster in ["kind", "minikube"] {
        let out = kgen().args(["bootstrap", cluster]).current_dir(&project).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let script = String::from_utf8(out.stdout).unwrap();
        let (ok, calls, stderr) = run_script(&bin, &project, &script, &state);
        assert!(ok, "ingress on {cluster}:\n{stderr}");
        let log = calls.join("\n");
        assert!(!log.contains("ingress-nginx"), "{log}");
        if cluster == "kind" {
            assert!(log.contains("docker run -d --name cloud-provider-kind"), "{log}");
            assert!(script.contains("--set ingress.className=cloud-provider-kind"), "{script}");
        } else {
            assert!(
                log.contains(
                    "minikube start --profile kgen-web --driver=docker --cpus=2 --memory=4096 --addons=ingress"
                ),
                "{log}"
            );
            assert!(!log.contains("cloud-provider-kind"), "{log}");
        }
    }
    let mut profiles: Vec<String> = profile_matrix().into_iter().map(|(p, _)| p).collect();
    profiles.dedup();
    for profile in profiles {
        let out = run(&["bootstrap", "kind", &profile], None);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let script = String::from_utf8(out.stdout).unwrap();
        let (ok, calls, stderr) = run_script(&bin, &crate::support::repo(), &script, &state);
        assert!(ok, "{profile} on kind:\n{stderr}\ncalls:\n{}", calls.join("\n"));
    }
}
