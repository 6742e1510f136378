//! A local cluster for a rendered profile: a kind cluster config or the
//! minikube flags, and a bash script with the exact steps (create the
//! cluster, load the images, install what the bundle needs, apply, wait,
//! reach the app). What to install is read off the rendered objects: an
//! Ingress or Gateway API route needs a controller and host ports, TLS
//! needs cert-manager with self-signed issuers (Let's Encrypt cannot issue
//! for localhost), and custom resources need their operator's CRDs.
//!
//! Pure: the script is text from `templates/bootstrap.sh.j2`; nothing runs.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::{Value, json};

use crate::diagnostic::Diagnostic;
use crate::object::Object;
use crate::templates;
use crate::yaml::emit;

/// The local cluster tool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Cluster {
    /// kind (Kubernetes in Docker).
    Kind,
    /// minikube.
    Minikube,
}

/// What the cluster needs installed, detected from the bundle; versions are
/// pinned here, in one table.
#[derive(Clone, Debug, Serialize)]
pub struct Addon {
    /// Shown in the script's comments.
    pub name: &'static str,
    /// Shell commands that install it and wait until it is ready.
    pub commands: Vec<String>,
}

/// Custom-resource API groups and the operator whose CRDs serve them.
const OPERATORS: &[(&str, &str, &str)] = &[
    (
        "monitoring.coreos.com/",
        "Prometheus Operator CRDs (ServiceMonitor, PodMonitor, PrometheusRule)",
        "kubectl apply --server-side -f https://github.com/prometheus-operator/prometheus-operator/releases/download/v0.80.1/stripped-down-crds.yaml",
    ),
    (
        "postgresql.cnpg.io/",
        "CloudNativePG operator",
        "kubectl apply --server-side -f https://raw.githubusercontent.com/cloudnative-pg/cloudnative-pg/release-1.25/releases/cnpg-1.25.1.yaml\nkubectl -n cnpg-system rollout status deployment/cnpg-controller-manager --timeout=300s",
    ),
    (
        "external-secrets.io/",
        "External Secrets CRDs",
        "kubectl apply --server-side -f https://raw.githubusercontent.com/external-secrets/external-secrets/v0.14.4/deploy/crds/bundle.yaml",
    ),
];

const INGRESS_NGINX: &str = "kubectl apply -f https://raw.githubusercontent.com/kubernetes/ingress-nginx/controller-v1.12.1/deploy/static/provider/kind/deploy.yaml\nkubectl -n ingress-nginx rollout status deployment/ingress-nginx-controller --timeout=300s";
const GATEWAY_API: &str = "kubectl apply --server-side -f https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.2.1/standard-install.yaml\nkubectl apply --server-side -f https://github.com/envoyproxy/gateway/releases/download/v1.3.2/install.yaml\nkubectl -n envoy-gateway-system rollout status deployment/envoy-gateway --timeout=300s";
const CERT_MANAGER: &str = "kubectl apply -f https://github.com/cert-manager/cert-manager/releases/download/v1.17.1/cert-manager.yaml\nkubectl -n cert-manager rollout status deployment/cert-manager-webhook --timeout=300s";

/// What the bundle needs from a local cluster.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Needs {
    /// An Ingress (or Gateway API route) reaches the app on ports 80/443.
    pub ingress: bool,
    pub gateway_api: bool,
    /// cert-manager issuers the bundle names; each becomes a self-signed
    /// ClusterIssuer.
    pub issuers: Vec<String>,
    pub tls: bool,
    pub addons: Vec<Addon>,
    /// Images the pods run (loaded into the cluster).
    pub images: Vec<String>,
    /// `namespace`, `kind/name` of workloads to wait for.
    pub rollouts: Vec<(String, String)>,
    /// `namespace`, Service, port to forward to.
    pub service: Option<(String, String, i32)>,
    /// The Gateways the routes attach to, which the script creates.
    pub gateways: Vec<LocalGateway>,
}

/// A Gateway a route names as its parent: created locally with a plain
/// HTTP listener under each section name the routes use.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct LocalGateway {
    pub namespace: String,
    pub name: String,
    pub listeners: Vec<String>,
}

/// The namespace Envoy Gateway runs its proxies in: the app's network
/// policies must let it in.
pub const ENVOY_GATEWAY_NAMESPACE: &str = "envoy-gateway-system";

/// Read what a bundle needs; warnings for what would not work locally.
pub fn needs(objects: &[Object]) -> (Needs, Vec<Diagnostic>) {
    let mut n = Needs::default();
    let mut warnings = Vec::new();
    let mut images = BTreeSet::new();
    let mut issuers = BTreeSet::new();
    let mut groups = BTreeSet::new();
    let mut gateways: std::collections::BTreeMap<(String, String), BTreeSet<String>> = Default::default();
    // Services, and those an Ingress or route sends traffic to (the app's
    // own, which the script forwards to rather than a database's).
    let mut services = Vec::new();
    let mut routed = BTreeSet::new();
    for o in objects {
        let v = o.to_value();
        let api_version = o.api_version();
        groups.insert(api_version.to_string());
        match o.kind() {
            "Ingress" => {
                n.ingress = true;
                n.tls |= v.pointer("/spec/tls").is_some_and(|t| t.as_array().is_some_and(|a| !a.is_empty()));
            }
            "HTTPRoute" | "GRPCRoute" | "Gateway" => {
                n.ingress = true;
                n.gateway_api = true;
                for parent in v.pointer("/spec/parentRefs").and_then(Value::as_array).into_iter().flatten() {
                    if parent.get("kind").and_then(Value::as_str).is_some_and(|k| k != "Gateway") {
                        continue;
                    }
                    let field = |k: &str| parent.get(k).and_then(Value::as_str);
                    let namespace = field("namespace").or(o.namespace()).unwrap_or("default");
                    let Some(name) = field("name") else { continue };
                    let listener = field("sectionName").unwrap_or("http").to_string();
                    gateways.entry((namespace.to_string(), name.to_string())).or_default().insert(listener);
                }
            }
            _ => {}
        }
        if api_version.starts_with("gateway.networking.k8s.io/") {
            n.gateway_api = true;
        }
        if api_version.starts_with("cert-manager.io/") {
            n.tls = true;
            if let Some(name) = v.pointer("/spec/issuerRef/name").and_then(Value::as_str) {
                issuer(&mut issuers, &mut warnings, name);
            }
        }
        for key in ["cert-manager.io/cluster-issuer", "cert-manager.io/issuer"] {
            if let Some(name) = o.metadata().annotations.as_ref().and_then(|a| a.get(key)) {
                n.tls = true;
                issuer(&mut issuers, &mut warnings, name);
            }
        }
        if let Some(spec) = pod_spec(&v) {
            for c in
                ["initContainers", "containers"].iter().flat_map(|k| spec.get(*k).and_then(Value::as_array)).flatten()
            {
                let Some(image) = c.get("image").and_then(Value::as_str) else { continue };
                images.insert(image.to_string());
                if c.get("imagePullPolicy").and_then(Value::as_str) == Some("Always") {
                    warnings.push(
                        Diagnostic::warning(format!(
                            "image `{image}` is pulled with `imagePullPolicy: Always`, so the image loaded into the local cluster is not used"
                        ))
                        .hint("set `image.pullPolicy: IfNotPresent` in the environment the script renders"),
                    );
                }
            }
        }
        let ns = o.namespace().unwrap_or("default").to_string();
        if matches!(o.kind(), "Deployment" | "StatefulSet") {
            n.rollouts.push((ns.clone(), format!("{}/{}", o.kind().to_ascii_lowercase(), o.name())));
        }
        if o.kind() == "Service"
            && let Some(port) =
                v.pointer("/spec/ports/0/port").and_then(Value::as_i64).and_then(|p| i32::try_from(p).ok())
        {
            services.push((ns, o.name().to_string(), port));
        }
        routed.extend(route_backends(&v));
    }
    if n.ingress && !n.gateway_api {
        n.addons.push(Addon { name: "ingress-nginx (kind provider manifest)", commands: lines(INGRESS_NGINX) });
    }
    if n.gateway_api {
        n.addons.push(Addon { name: "Gateway API CRDs and Envoy Gateway", commands: lines(GATEWAY_API) });
    }
    if n.tls {
        n.addons.push(Addon { name: "cert-manager", commands: lines(CERT_MANAGER) });
    }
    for (prefix, name, commands) in OPERATORS {
        if groups.iter().any(|g| g.starts_with(prefix)) {
            n.addons.push(Addon { name, commands: lines(commands) });
        }
    }
    n.gateways = gateways
        .into_iter()
        .map(|((namespace, name), listeners)| LocalGateway {
            namespace,
            name,
            listeners: listeners.into_iter().collect(),
        })
        .collect();
    n.service = services.iter().find(|(_, name, _)| routed.contains(name)).or(services.first()).cloned();
    n.issuers = issuers.into_iter().collect();
    n.images = images.into_iter().collect();
    let mut seen = BTreeSet::new();
    warnings.retain(|w| seen.insert(w.message.clone()));
    (n, warnings)
}

/// Names of the Services an Ingress or a Gateway API route sends to.
fn route_backends(v: &Value) -> Vec<String> {
    let rules = v.pointer("/spec/rules").and_then(Value::as_array).into_iter().flatten();
    let mut out = Vec::new();
    for rule in rules {
        for path in rule.pointer("/http/paths").and_then(Value::as_array).into_iter().flatten() {
            out.extend(path.pointer("/backend/service/name").and_then(Value::as_str).map(String::from));
        }
        for backend in rule.get("backendRefs").and_then(Value::as_array).into_iter().flatten() {
            if backend.get("namespace").is_none() {
                out.extend(backend.get("name").and_then(Value::as_str).map(String::from));
            }
        }
    }
    out
}

/// An issuer the script creates, if its name is one cert-manager takes
/// (the script writes it into a manifest).
fn issuer(issuers: &mut BTreeSet<String>, warnings: &mut Vec<Diagnostic>, name: &str) {
    match crate::model::names::dns1123_subdomain(name, 253) {
        Ok(()) => {
            issuers.insert(name.to_string());
        }
        Err(why) => warnings.push(
            Diagnostic::warning(format!("issuer name `{name}` {why}, so the script creates no issuer for it"))
                .hint("name cert-manager issuers with lowercase letters, digits, `-` and `.`"),
        ),
    }
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(String::from).collect()
}

fn pod_spec(v: &Value) -> Option<&Value> {
    v.pointer("/spec/template/spec").or_else(|| v.pointer("/spec/jobTemplate/spec/template/spec"))
}

/// The kind cluster config: one node; with an ingress, the node is labelled
/// for ingress-nginx and ports 80 and 443 are mapped to the host.
pub fn kind_config(needs: &Needs) -> String {
    let mut node = json!({"role": "control-plane"});
    if needs.ingress {
        node["kubeadmConfigPatches"] = json!([
            "kind: InitConfiguration\nnodeRegistration:\n  kubeletExtraArgs:\n    node-labels: \"ingress-ready=true\"\n"
        ]);
        node["extraPortMappings"] = json!([
            {"containerPort": 80, "hostPort": 80, "protocol": "TCP"},
            {"containerPort": 443, "hostPort": 443, "protocol": "TCP"},
        ]);
    }
    let config = json!({"kind": "Cluster", "apiVersion": "kind.x-k8s.io/v1alpha4", "nodes": [node]});
    emit::to_string(&config)
}

/// The GatewayClass of Envoy Gateway and the Gateways the routes attach
/// to, as one YAML stream. Every listener is plain HTTP (a local cluster
/// has no certificate for the app's hosts); the first takes port 80.
pub fn local_gateways(needs: &Needs) -> String {
    let class = json!({
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "GatewayClass",
        "metadata": {"name": "kgen-local"},
        "spec": {"controllerName": "gateway.envoyproxy.io/gatewayclass-controller"},
    });
    let mut docs = vec![emit::to_string(&class)];
    for gw in &needs.gateways {
        let namespace = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": gw.namespace}});
        let listeners: Vec<Value> = gw
            .listeners
            .iter()
            .enumerate()
            .map(|(i, name)| {
                json!({
                    "name": name,
                    "protocol": "HTTP",
                    "port": if i == 0 { 80 } else { 8000 + i },
                    "allowedRoutes": {"namespaces": {"from": "All"}},
                })
            })
            .collect();
        let gateway = json!({
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "Gateway",
            "metadata": {"name": gw.name, "namespace": gw.namespace},
            "spec": {"gatewayClassName": "kgen-local", "listeners": listeners},
        });
        docs.push(emit::to_string(&namespace));
        docs.push(emit::to_string(&gateway));
    }
    docs.join("---\n")
}

/// `minikube start` flags.
pub fn minikube_flags(needs: &Needs) -> Vec<String> {
    let mut flags = vec!["--driver=docker".to_string(), "--cpus=2".to_string(), "--memory=4096".to_string()];
    if needs.ingress && !needs.gateway_api {
        flags.push("--addons=ingress".into());
    }
    flags
}

/// What the script is made from.
pub struct Plan<'a> {
    pub cluster: Cluster,
    pub app: &'a str,
    /// The `kgen render` arguments that reproduce this bundle.
    pub render_args: Vec<String>,
    pub needs: &'a Needs,
    /// Where the kind config is, next to the script; inline when None.
    pub kind_config_file: Option<&'a str>,
    /// Environment variables the render reads (values of created Secrets).
    pub env_vars: Vec<String>,
}

/// The bootstrap script.
pub fn script(plan: &Plan<'_>) -> String {
    let needs = plan.needs;
    let context = minijinja::context! {
        cluster => minijinja::value::Serde(plan.cluster),
        app => plan.app,
        render_args => minijinja::value::Serde(&plan.render_args),
        kind_config => kind_config(needs),
        local_gateways => (!needs.gateways.is_empty()).then(|| local_gateways(needs)),
        envoy_gateway_namespace => ENVOY_GATEWAY_NAMESPACE,
        kind_config_file => plan.kind_config_file,
        minikube_flags => minijinja::value::Serde(minikube_flags(needs)),
        needs => minijinja::value::Serde(needs),
        env_vars => minijinja::value::Serde(&plan.env_vars),
    };
    templates::render("bootstrap.sh", context)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variable_names_are_quoted_in_the_script() {
        // The model refuses such a name; the script quotes it all the same.
        let needs = Needs::default();
        let plan = Plan {
            cluster: Cluster::Kind,
            app: "shop",
            render_args: vec!["shop.yaml".into()],
            needs: &needs,
            kind_config_file: None,
            env_vars: vec!["X}\"; touch /tmp/PWN; echo \"${Y".into(), "SHOP_TOKEN".into()],
        };
        let script = script(&plan);
        assert!(script.contains("printenv 'X}\"; touch /tmp/PWN; echo \"${Y' >/dev/null"), "{script}");
        assert!(script.contains("printenv SHOP_TOKEN >/dev/null"), "{script}");
    }

    #[test]
    fn issuers_are_created_only_under_valid_names() {
        let mut issuers = BTreeSet::new();
        let mut warnings = Vec::new();
        issuer(&mut issuers, &mut warnings, "letsencrypt-prod");
        issuer(&mut issuers, &mut warnings, "x\nISSUER\nrm -rf /");
        assert_eq!(issuers.into_iter().collect::<Vec<_>>(), ["letsencrypt-prod"]);
        assert_eq!(warnings.len(), 1);
    }
}
