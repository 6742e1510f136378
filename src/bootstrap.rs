//! A local cluster for a rendered profile: a kind cluster config or the
//! minikube flags, and a bash script with the exact steps (create the
//! cluster, load the images, install what the bundle needs, create the
//! Secrets it reads, apply, wait, reach the app). What to install is read
//! off the rendered objects: an Ingress needs a controller (minikube's
//! ingress addon; on kind, cloud-provider-kind, which kind's documentation
//! recommends and which serves Ingresses natively), Gateway API routes
//! Envoy Gateway, TLS cert-manager with self-signed issuers (Let's Encrypt
//! cannot issue for localhost), and custom resources their operator's
//! CRDs. Every Secret the bundle reads and does not make (see
//! `requirements`; an ExternalSecret or SealedSecret makes its Secret) is
//! created with random URL-safe values when missing.
//!
//! Pure: the script is text from `templates/bootstrap.sh.j2`; nothing runs.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::{Value, json};

use crate::diagnostic::Code;
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

/// kind's recommended load balancer and Ingress controller, run next to the
/// cluster as its documentation shows; the app's Ingress uses its class.
const CLOUD_PROVIDER_KIND: &str = "docker inspect cloud-provider-kind >/dev/null 2>&1 || docker run -d --name cloud-provider-kind --restart unless-stopped --network host -v /var/run/docker.sock:/var/run/docker.sock registry.k8s.io/cloud-provider-kind/cloud-controller-manager:v0.9.0\nfor _ in $(seq 60); do kubectl get ingressclass cloud-provider-kind >/dev/null 2>&1 && break; sleep 2; done\nkubectl get ingressclass cloud-provider-kind >/dev/null";
/// The IngressClass cloud-provider-kind serves.
pub const KIND_INGRESS_CLASS: &str = "cloud-provider-kind";
const GATEWAY_API: &str = "kubectl apply --server-side -f https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.2.1/standard-install.yaml\nkubectl apply --server-side -f https://github.com/envoyproxy/gateway/releases/download/v1.3.2/install.yaml\nkubectl -n envoy-gateway-system rollout status deployment/envoy-gateway --timeout=300s";

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
    /// The app's images the pods run (loaded into the cluster).
    pub images: Vec<String>,
    /// `namespace`, `kind/name` of workloads to wait for.
    pub rollouts: Vec<(String, String)>,
    /// `namespace`, Service, port to forward to.
    pub service: Option<(String, String, i32)>,
    /// The Gateways the routes attach to, which the script creates.
    pub gateways: Vec<LocalGateway>,
    /// Namespaces of the Secrets below, created before them.
    pub secret_namespaces: Vec<String>,
    /// Secrets the script creates when missing, with random values.
    pub secrets: Vec<LocalSecret>,
}

/// A Secret the bundle reads and the script creates when it is missing.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct LocalSecret {
    pub namespace: String,
    pub name: String,
    pub keys: Vec<String>,
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
/// `app_images` are the app's own images, which the script loads into the
/// cluster (the others are pulled by the node as usual).
pub fn needs(objects: &[Object], cluster: Cluster, app_images: &[&str]) -> (Needs, Vec<Diagnostic>) {
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
                if !app_images.contains(&image) {
                    continue;
                }
                images.insert(image.to_string());
                if c.get("imagePullPolicy").and_then(Value::as_str) == Some("Always") {
                    warnings.push(
                        Diagnostic::warning(Code::BootstrapLocal, format!(
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
    // minikube's ingress addon is enabled by `minikube start`.
    if n.ingress && !n.gateway_api && cluster == Cluster::Kind {
        n.addons.push(Addon {
            name: "cloud-provider-kind (load balancers and Ingress)",
            commands: lines(CLOUD_PROVIDER_KIND),
        });
    }
    if n.gateway_api {
        n.addons.push(Addon { name: "Gateway API CRDs and Envoy Gateway", commands: lines(GATEWAY_API) });
    }
    for (group, name, commands) in crate::requirements::OPERATORS {
        let used = groups.iter().any(|g| g.split_once('/').is_some_and(|(g, _)| g == *group));
        let wanted = match *group {
            "cert-manager.io" => n.tls,
            // Envoy Gateway's install above brings the CRDs.
            "gateway.networking.k8s.io" => false,
            _ => used,
        };
        if wanted {
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
            Diagnostic::warning(
                Code::BootstrapLocal,
                format!("issuer name `{name}` {why}, so the script creates no issuer for it"),
            )
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

/// The kind cluster config: one node (an Ingress gets a load balancer
/// address from cloud-provider-kind, no host ports).
pub fn kind_config(_needs: &Needs) -> String {
    let node = json!({"role": "control-plane"});
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

/// `--set`s that make the render fit the local cluster: Envoy Gateway's
/// namespace through the app's network policies, kind's IngressClass, and
/// `IfNotPresent` for the app's own images (which the script loads); with
/// a warning for each change that loosens what the real cluster gets.
pub fn local_overrides(
    rendered: &crate::pipeline::Rendered,
    needs: &Needs,
    cluster: Cluster,
) -> (Vec<String>, Vec<Diagnostic>) {
    let mut sets = Vec::new();
    let mut warnings = Vec::new();
    let has_policies = rendered.objects.iter().any(|o| o.kind() == "NetworkPolicy");
    if !needs.gateways.is_empty() && has_policies {
        sets.push(format!("networkPolicy.gatewayNamespace={ENVOY_GATEWAY_NAMESPACE}"));
    }
    if cluster == Cluster::Kind && !needs.gateway_api && rendered.app.ingress.is_some() {
        sets.push(format!("ingress.className={KIND_INGRESS_CLASS}"));
        if has_policies {
            // Its proxies run as containers beside the cluster, not in a
            // namespace a policy could name.
            sets.push("networkPolicy.enabled=false".into());
            warnings.push(
                Diagnostic::warning(Code::BootstrapLocal,
                    "on kind, the app is rendered without its network policies: cloud-provider-kind's Ingress proxies run beside the cluster, where no namespace selector reaches",
                )
                .hint("to test the policies locally, use minikube (its ingress addon runs in the namespace `ingress-nginx`)"),
            );
        }
    }
    let pulled_always = |image: &str| {
        rendered.objects.iter().any(|o| {
            let v = o.to_value();
            let Some(spec) = pod_spec(&v) else { return false };
            ["initContainers", "containers"].iter().flat_map(|k| spec.get(*k).and_then(Value::as_array)).flatten().any(
                |c| {
                    c.get("image").and_then(Value::as_str) == Some(image)
                        && c.get("imagePullPolicy").and_then(Value::as_str) == Some("Always")
                },
            )
        })
    };
    let profile = &rendered.loaded.profile;
    let app_images: Vec<&str> = rendered.app.components.iter().map(|c| c.image.as_str()).collect();
    if profile.image.is_some() && app_images.iter().any(|i| pulled_always(i)) {
        sets.push("image.pullPolicy=IfNotPresent".into());
    }
    for (key, component) in &profile.components {
        let image = rendered.app.components.iter().find(|c| &c.key == key).map(|c| c.image.as_str());
        if component.image.is_some() && image.is_some_and(pulled_always) {
            sets.push(format!("components.{key}.image.pullPolicy=IfNotPresent"));
        }
    }
    (sets, warnings)
}

/// The Secrets the script creates (those the bundle reads and nothing in
/// it makes, and those kgen's credentials Job would make, so that pods
/// start at once); warnings for what the script cannot provide.
pub fn secrets(
    needs: &mut Needs,
    app: &crate::model::App,
    requirements: &[crate::requirements::Requirement],
) -> Vec<Diagnostic> {
    let mut warnings = Vec::new();
    let mut secrets = BTreeSet::new();
    for g in app.generated_secrets() {
        secrets.insert(LocalSecret { namespace: app.namespace.clone(), name: g.name, keys: g.keys });
    }
    for r in requirements {
        let namespace = r.namespace.clone().unwrap_or_else(|| app.namespace.clone());
        match r.kind {
            "Secret" if r.keys.iter().any(|k| k == "tls.crt" || k == ".dockerconfigjson") => warnings.push(
                Diagnostic::warning(Code::BootstrapLocal, format!("the script does not create {}", r.describe())).hint(r.provide.clone()),
            ),
            "Secret" => {
                if r.keys.is_empty() {
                    warnings.push(Diagnostic::warning(Code::BootstrapLocal, format!(
                        "{} is read whole (`envFrom`): the script creates it empty; add the keys the app expects",
                        r.describe()
                    )));
                } else {
                    warnings.push(
                        Diagnostic::warning(Code::BootstrapLocal, format!(
                            "the script creates {} with random values; where the app expects a particular value (a URL, an API key), replace it",
                            r.describe()
                        ))
                        .hint(r.provide.clone()),
                    );
                }
                secrets.insert(LocalSecret { namespace, name: r.name.clone(), keys: r.keys.clone() });
            }
            // Installed or created by the script.
            "CustomResourceDefinition"
                if crate::requirements::OPERATORS.iter().any(|(g, _, _)| r.name.starts_with(&format!("{g} "))) => {}
            "SecretStore" | "ClusterSecretStore" => warnings.push(
                Diagnostic::warning(Code::BootstrapLocal, format!(
                    "a local cluster lacks {}, so the Secrets the bundle's ExternalSecrets make from it stay missing and the pods that read them do not start",
                    r.describe()
                ))
                .hint("render an environment whose Secrets come from elsewhere (`external: null` and `create.fromEnv`), or create the store in the local cluster"),
            ),
            "IngressClass" | "Gateway" | "GatewayClass" | "ClusterIssuer" => {}
            "StorageClass" if r.name == "standard" => {}
            _ => warnings.push(
                Diagnostic::warning(Code::BootstrapLocal, format!("a local cluster lacks {}; the script does not provide it", r.describe()))
                    .hint(r.provide.clone()),
            ),
        }
    }
    for s in app.secrets.iter().filter(|s| matches!(s.source, crate::model::SecretSource::Sealed(_))) {
        warnings.push(
            Diagnostic::warning(Code::BootstrapLocal, format!(
                "SealedSecret `{}` was sealed for another cluster's key: the local controller cannot decrypt it, and the pods that read the Secret do not start",
                s.name
            ))
            .hint("render an environment whose Secrets come from elsewhere (`sealed: null` and `create.fromEnv`), or seal the values anew with the local controller's key"),
        );
    }
    needs.secret_namespaces =
        secrets.iter().map(|s| s.namespace.clone()).collect::<BTreeSet<_>>().into_iter().collect();
    needs.secrets = secrets.into_iter().collect();
    warnings
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
