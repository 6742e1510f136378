//! What a bundle needs from the cluster that it does not contain: Secrets
//! (with their keys), custom resource definitions and the operators behind
//! them, StorageClasses, IngressClasses, Gateways, cert-manager issuers,
//! a custom metrics adapter, ServiceAccounts, ConfigMaps and
//! PriorityClasses, each with the command or manifest that provides it.
//! Read off the rendered objects (and the Secrets kgen's credentials Job
//! creates), for `kgen check` and the bootstrap script.
//!
//! Pure: nothing is looked up in a cluster.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use crate::model::naming;
use crate::object::Object;

/// One thing the cluster must provide.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Requirement {
    /// `Secret`, `CustomResourceDefinition`, `StorageClass`, `IngressClass`,
    /// `Gateway`, `ClusterIssuer`, `Issuer`, `SecretStore`,
    /// `ClusterSecretStore`, `APIService`, `ServiceAccount`, `ConfigMap`,
    /// `PriorityClass`.
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
    /// The keys read from a Secret or ConfigMap (none known for `envFrom`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<String>,
    /// How to provide it: a command, or what to install.
    pub provide: String,
}

impl Requirement {
    /// `Secret shop/shop-api (keys API_KEY, TOKEN)`.
    pub fn describe(&self) -> String {
        let mut out = match &self.namespace {
            Some(ns) => format!("{} {ns}/{}", self.kind, self.name),
            None => format!("{} {}", self.kind, self.name),
        };
        if !self.keys.is_empty() {
            let label = if self.keys.len() == 1 { "key" } else { "keys" };
            out.push_str(&format!(" ({label} {})", self.keys.join(", ")));
        }
        out
    }
}

/// Custom-resource API groups, the operator (or CRDs) that serves each, and
/// how to install it; versions are pinned here, in one table.
pub const OPERATORS: &[(&str, &str, &str)] = &[
    (
        "monitoring.coreos.com",
        "Prometheus Operator CRDs (ServiceMonitor, PodMonitor, PrometheusRule)",
        "kubectl apply --server-side -f https://github.com/prometheus-operator/prometheus-operator/releases/download/v0.80.1/stripped-down-crds.yaml",
    ),
    (
        "postgresql.cnpg.io",
        "CloudNativePG operator",
        "kubectl apply --server-side -f https://raw.githubusercontent.com/cloudnative-pg/cloudnative-pg/release-1.25/releases/cnpg-1.25.1.yaml\nkubectl -n cnpg-system rollout status deployment/cnpg-controller-manager --timeout=300s",
    ),
    (
        "external-secrets.io",
        "External Secrets Operator",
        "helm install external-secrets oci://ghcr.io/external-secrets/charts/external-secrets --version 1.1.1 -n external-secrets --create-namespace --wait",
    ),
    (
        "gateway.networking.k8s.io",
        "Gateway API CRDs (and an implementation, e.g. Envoy Gateway)",
        "kubectl apply --server-side -f https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.2.1/standard-install.yaml",
    ),
    (
        "cert-manager.io",
        "cert-manager",
        "kubectl apply -f https://github.com/cert-manager/cert-manager/releases/download/v1.17.1/cert-manager.yaml\nkubectl -n cert-manager rollout status deployment/cert-manager-webhook --timeout=300s",
    ),
    (
        "keda.sh",
        "KEDA",
        "kubectl apply --server-side -f https://github.com/kedacore/keda/releases/download/v2.16.1/keda-2.16.1.yaml",
    ),
    (
        "bitnami.com",
        "Sealed Secrets controller",
        "kubectl apply -f https://github.com/bitnami-labs/sealed-secrets/releases/download/v0.27.3/controller.yaml",
    ),
];

/// API groups every cluster serves.
const BUILT_IN_GROUPS: &[&str] = &[
    "",
    "apps",
    "batch",
    "autoscaling",
    "policy",
    "networking.k8s.io",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "scheduling.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "node.k8s.io",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "certificates.k8s.io",
    "flowcontrol.apiserver.k8s.io",
];

/// Everything `objects` needs that they do not contain. `generated` are
/// the Secrets kgen's credentials Job creates in the cluster (not needed).
pub fn of(objects: &[Object], generated: &[String]) -> Vec<Requirement> {
    let values: Vec<(&Object, Value)> = objects.iter().map(|o| (o, o.to_value())).collect();
    let has = |kind: &str, ns: Option<&str>, name: &str| {
        objects.iter().any(|o| o.kind() == kind && o.name() == name && (ns.is_none() || o.namespace() == ns))
    };
    let mut provided_secrets: BTreeSet<(String, String)> = BTreeSet::new();
    for (o, v) in &values {
        let ns = o.namespace().unwrap_or("default").to_string();
        let text = |p: &str| v.pointer(p).and_then(Value::as_str).map(String::from);
        match o.kind() {
            "Secret" | "SealedSecret" => {
                provided_secrets.insert((ns.clone(), o.name().to_string()));
            }
            "ExternalSecret" => {
                let target = text("/spec/target/name").unwrap_or_else(|| o.name().to_string());
                provided_secrets.insert((ns.clone(), target));
            }
            "Certificate" => provided_secrets.extend(text("/spec/secretName").map(|s| (ns.clone(), s))),
            // CloudNativePG makes `<cluster>-app` and `<cluster>-superuser`.
            "Cluster" if o.api_version().starts_with("postgresql.cnpg.io/") => {
                for secret in [naming::cnpg_app_secret(o.name()), naming::cnpg_superuser_secret(o.name())] {
                    provided_secrets.insert((ns.clone(), secret));
                }
            }
            // cert-manager's ingress-shim issues the TLS Secrets.
            "Ingress" if annotated_issuer(o).is_some() => {
                for tls in v.pointer("/spec/tls").and_then(Value::as_array).into_iter().flatten() {
                    provided_secrets
                        .extend(tls.get("secretName").and_then(Value::as_str).map(|s| (ns.clone(), s.into())));
                }
            }
            _ => {}
        }
    }
    let namespaces: BTreeSet<&str> = objects.iter().filter_map(Object::namespace).collect();
    for ns in namespaces {
        provided_secrets.extend(generated.iter().map(|g| (ns.to_string(), g.clone())));
    }

    let mut out = Needs::default();
    for (o, v) in &values {
        let ns = o.namespace().unwrap_or("default");
        if let Some(group) = group_of(o.api_version())
            && !BUILT_IN_GROUPS.contains(&group)
        {
            out.crd(group, o.kind());
        }
        if let Some(spec) = pod_spec(v) {
            out.pod(ns, spec, objects);
        }
        match o.kind() {
            "PersistentVolumeClaim" => out.storage_class(v.pointer("/spec/storageClassName"), objects),
            "StatefulSet" => {
                for claim in v.pointer("/spec/volumeClaimTemplates").and_then(Value::as_array).into_iter().flatten() {
                    out.storage_class(claim.pointer("/spec/storageClassName"), objects);
                }
            }
            "Ingress" => {
                match v.pointer("/spec/ingressClassName").and_then(Value::as_str) {
                    Some(class) if !has("IngressClass", None, class) => out.add(Requirement {
                        kind: "IngressClass",
                        namespace: None,
                        name: class.to_string(),
                        keys: vec![],
                        provide: format!(
                            "an ingress controller whose IngressClass is `{class}` (ingress-nginx's is `nginx`)"
                        ),
                    }),
                    Some(_) => {}
                    None => out.add(Requirement {
                        kind: "IngressClass",
                        namespace: None,
                        name: "(the default)".into(),
                        keys: vec![],
                        provide: "an IngressClass marked `ingressclass.kubernetes.io/is-default-class: \"true\"`"
                            .into(),
                    }),
                }
                for tls in v.pointer("/spec/tls").and_then(Value::as_array).into_iter().flatten() {
                    if let Some(secret) = tls.get("secretName").and_then(Value::as_str) {
                        out.secret(ns, secret, ["tls.crt", "tls.key"].map(String::from).to_vec(), SecretType::Tls);
                    }
                }
            }
            "HTTPRoute" | "GRPCRoute" | "TLSRoute" | "TCPRoute" => {
                for parent in v.pointer("/spec/parentRefs").and_then(Value::as_array).into_iter().flatten() {
                    if parent.get("kind").and_then(Value::as_str).is_some_and(|k| k != "Gateway") {
                        continue;
                    }
                    let Some(name) = parent.get("name").and_then(Value::as_str) else { continue };
                    let gw_ns = parent.get("namespace").and_then(Value::as_str).unwrap_or(ns);
                    if !has("Gateway", Some(gw_ns), name) {
                        out.add(Requirement {
                            kind: "Gateway",
                            namespace: Some(gw_ns.to_string()),
                            name: name.to_string(),
                            keys: vec![],
                            provide: "a Gateway of a GatewayClass from an implementation (e.g. Envoy Gateway), whose listeners allow routes from this namespace".into(),
                        });
                    }
                }
            }
            "Gateway" => {
                if let Some(class) = v.pointer("/spec/gatewayClassName").and_then(Value::as_str)
                    && !has("GatewayClass", None, class)
                {
                    out.add(Requirement {
                        kind: "GatewayClass",
                        namespace: None,
                        name: class.to_string(),
                        keys: vec![],
                        provide: "a Gateway API implementation serving this class (e.g. Envoy Gateway)".into(),
                    });
                }
            }
            "Certificate" => {
                let kind = v.pointer("/spec/issuerRef/kind").and_then(Value::as_str).unwrap_or("Issuer");
                if let Some(name) = v.pointer("/spec/issuerRef/name").and_then(Value::as_str) {
                    out.issuer(kind == "ClusterIssuer", ns, name, objects);
                }
            }
            "ExternalSecret" => {
                let kind = v.pointer("/spec/secretStoreRef/kind").and_then(Value::as_str).unwrap_or("SecretStore");
                if let Some(name) = v.pointer("/spec/secretStoreRef/name").and_then(Value::as_str) {
                    let cluster = kind == "ClusterSecretStore";
                    let store_ns = (!cluster).then(|| ns.to_string());
                    if !has(if cluster { "ClusterSecretStore" } else { "SecretStore" }, store_ns.as_deref(), name) {
                        out.add(Requirement {
                            kind: if cluster { "ClusterSecretStore" } else { "SecretStore" },
                            namespace: store_ns,
                            name: name.to_string(),
                            keys: vec![],
                            provide: "a store of the External Secrets Operator with access to your secret manager (https://external-secrets.io/latest/provider/)".into(),
                        });
                    }
                }
            }
            "HorizontalPodAutoscaler" => {
                for metric in v.pointer("/spec/metrics").and_then(Value::as_array).into_iter().flatten() {
                    let (api, adapter) = match metric.get("type").and_then(Value::as_str) {
                        Some("Pods" | "Object") => {
                            ("v1beta1.custom.metrics.k8s.io", "prometheus-adapter with a rule per metric")
                        }
                        Some("External") => {
                            ("v1beta1.external.metrics.k8s.io", "KEDA or prometheus-adapter with an external rule")
                        }
                        _ => continue,
                    };
                    out.add(Requirement {
                        kind: "APIService",
                        namespace: None,
                        name: api.to_string(),
                        keys: vec![],
                        provide: format!("a metrics adapter serving it: {adapter}"),
                    });
                }
            }
            _ => {}
        }
        if let Some((cluster, name)) = annotated_issuer(o) {
            out.issuer(cluster, ns, &name, objects);
        }
    }
    out.secrets.retain(|(ns, name), _| !provided_secrets.contains(&(ns.clone(), name.clone())));
    out.finish()
}

/// Requirements gathered, with Secrets and ConfigMaps merged by name.
#[derive(Default)]
struct Needs {
    secrets: BTreeMap<(String, String), (BTreeSet<String>, SecretType)>,
    configmaps: BTreeMap<(String, String), BTreeSet<String>>,
    crds: BTreeMap<String, BTreeSet<String>>,
    other: BTreeSet<Requirement>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SecretType {
    Generic,
    Tls,
    Registry,
}

impl Needs {
    fn add(&mut self, requirement: Requirement) {
        self.other.insert(requirement);
    }

    fn secret(&mut self, ns: &str, name: &str, keys: Vec<String>, kind: SecretType) {
        let entry = self.secrets.entry((ns.to_string(), name.to_string())).or_insert((BTreeSet::new(), kind));
        entry.0.extend(keys);
    }

    fn crd(&mut self, group: &str, kind: &str) {
        self.crds.entry(group.to_string()).or_default().insert(kind.to_string());
    }

    fn issuer(&mut self, cluster: bool, ns: &str, name: &str, objects: &[Object]) {
        let kind = if cluster { "ClusterIssuer" } else { "Issuer" };
        let namespace = (!cluster).then(|| ns.to_string());
        let present =
            objects.iter().any(|o| o.kind() == kind && o.name() == name && (cluster || o.namespace() == Some(ns)));
        if !present {
            self.add(Requirement {
                kind,
                namespace,
                name: name.to_string(),
                keys: vec![],
                provide: format!("a cert-manager {kind} (for example ACME with an HTTP-01 solver)"),
            });
        }
    }

    fn storage_class(&mut self, class: Option<&Value>, objects: &[Object]) {
        let Some(class) = class.and_then(Value::as_str).filter(|c| !c.is_empty()) else { return };
        if !objects.iter().any(|o| o.kind() == "StorageClass" && o.name() == class) {
            self.add(Requirement {
                kind: "StorageClass",
                namespace: None,
                name: class.to_string(),
                keys: vec![],
                provide: format!(
                    "a StorageClass named `{class}` from the cluster's CSI driver (`kubectl get storageclass`)"
                ),
            });
        }
    }

    /// What a pod reads: Secrets, ConfigMaps, its ServiceAccount and
    /// PriorityClass.
    fn pod(&mut self, ns: &str, spec: &Value, objects: &[Object]) {
        let present = |kind: &str, name: &str| {
            objects.iter().any(|o| o.kind() == kind && o.name() == name && o.namespace() == Some(ns))
        };
        let optional = |v: &Value| v.get("optional").and_then(Value::as_bool) == Some(true);
        let containers = ["initContainers", "containers"].into_iter().filter_map(|k| spec.get(k)?.as_array());
        for c in containers.flatten() {
            for e in c.get("env").and_then(Value::as_array).into_iter().flatten() {
                if let Some(r) = e.pointer("/valueFrom/secretKeyRef").filter(|r| !optional(r))
                    && let (Some(name), Some(key)) =
                        (r.get("name").and_then(Value::as_str), r.get("key").and_then(Value::as_str))
                {
                    self.secret(ns, name, vec![key.to_string()], SecretType::Generic);
                }
                if let Some(r) = e.pointer("/valueFrom/configMapKeyRef").filter(|r| !optional(r))
                    && let (Some(name), Some(key)) =
                        (r.get("name").and_then(Value::as_str), r.get("key").and_then(Value::as_str))
                    && !present("ConfigMap", name)
                {
                    self.configmaps.entry((ns.to_string(), name.to_string())).or_default().insert(key.to_string());
                }
            }
            for e in c.get("envFrom").and_then(Value::as_array).into_iter().flatten() {
                if let Some(name) = e.get("secretRef").filter(|r| !optional(r)).and_then(|r| r.get("name")?.as_str()) {
                    self.secret(ns, name, vec![], SecretType::Generic);
                }
                if let Some(name) = e.get("configMapRef").filter(|r| !optional(r)).and_then(|r| r.get("name")?.as_str())
                    && !present("ConfigMap", name)
                {
                    self.configmaps.entry((ns.to_string(), name.to_string())).or_default();
                }
            }
        }
        let item_keys = |source: &Value| -> Vec<String> {
            let items = source.get("items").and_then(Value::as_array).into_iter().flatten();
            items.filter_map(|i| i.get("key")?.as_str().map(String::from)).collect()
        };
        for volume in spec.get("volumes").and_then(Value::as_array).into_iter().flatten() {
            if let Some(s) = volume.get("secret").filter(|s| !optional(s))
                && let Some(name) = s.get("secretName").and_then(Value::as_str)
            {
                self.secret(ns, name, item_keys(s), SecretType::Generic);
            }
            if let Some(cm) = volume.get("configMap").filter(|s| !optional(s))
                && let Some(name) = cm.get("name").and_then(Value::as_str)
                && !present("ConfigMap", name)
            {
                self.configmaps.entry((ns.to_string(), name.to_string())).or_default().extend(item_keys(cm));
            }
            for source in volume.pointer("/projected/sources").and_then(Value::as_array).into_iter().flatten() {
                if let Some(s) = source.get("secret").filter(|s| !optional(s))
                    && let Some(name) = s.get("name").and_then(Value::as_str)
                {
                    self.secret(ns, name, item_keys(s), SecretType::Generic);
                }
                if let Some(cm) = source.get("configMap").filter(|s| !optional(s))
                    && let Some(name) = cm.get("name").and_then(Value::as_str)
                    // Every namespace has the cluster's CA bundle.
                    && name != "kube-root-ca.crt"
                    && !present("ConfigMap", name)
                {
                    self.configmaps.entry((ns.to_string(), name.to_string())).or_default().extend(item_keys(cm));
                }
            }
        }
        for pull in spec.get("imagePullSecrets").and_then(Value::as_array).into_iter().flatten() {
            if let Some(name) = pull.get("name").and_then(Value::as_str) {
                self.secret(ns, name, vec![".dockerconfigjson".into()], SecretType::Registry);
            }
        }
        if let Some(account) = spec.get("serviceAccountName").and_then(Value::as_str)
            && account != "default"
            && !present("ServiceAccount", account)
        {
            self.add(Requirement {
                kind: "ServiceAccount",
                namespace: Some(ns.to_string()),
                name: account.to_string(),
                keys: vec![],
                provide: format!("kubectl -n {ns} create serviceaccount {account}"),
            });
        }
        if let Some(class) = spec.get("priorityClassName").and_then(Value::as_str)
            && !class.starts_with("system-")
            && !objects.iter().any(|o| o.kind() == "PriorityClass" && o.name() == class)
        {
            self.add(Requirement {
                kind: "PriorityClass",
                namespace: None,
                name: class.to_string(),
                keys: vec![],
                provide: format!("kubectl create priorityclass {class} --value=1000"),
            });
        }
    }

    fn finish(self) -> Vec<Requirement> {
        let mut out: Vec<Requirement> = self.other.into_iter().collect();
        for ((ns, name), (keys, kind)) in self.secrets {
            let quoted_ns = crate::templates::shell_quote(ns.clone());
            let quoted_name = crate::templates::shell_quote(name.clone());
            let provide = match kind {
                SecretType::Tls => {
                    format!("kubectl -n {quoted_ns} create secret tls {quoted_name} --cert=tls.crt --key=tls.key")
                }
                SecretType::Registry => format!(
                    "kubectl -n {quoted_ns} create secret docker-registry {quoted_name} --docker-server=REGISTRY --docker-username=USER --docker-password=TOKEN"
                ),
                SecretType::Generic if keys.is_empty() => {
                    format!("kubectl -n {quoted_ns} create secret generic {quoted_name} --from-env-file=FILE")
                }
                SecretType::Generic => {
                    let literals: Vec<String> = keys
                        .iter()
                        .map(|k| format!("--from-literal={}=…", crate::templates::shell_quote(k.clone())))
                        .collect();
                    format!("kubectl -n {quoted_ns} create secret generic {quoted_name} {}", literals.join(" "))
                }
            };
            out.push(Requirement {
                kind: "Secret",
                namespace: Some(ns),
                name,
                keys: keys.into_iter().collect(),
                provide,
            });
        }
        for ((ns, name), keys) in self.configmaps {
            let provide = format!(
                "kubectl -n {} create configmap {} --from-file=…",
                crate::templates::shell_quote(ns.clone()),
                crate::templates::shell_quote(name.clone())
            );
            out.push(Requirement {
                kind: "ConfigMap",
                namespace: Some(ns),
                name,
                keys: keys.into_iter().collect(),
                provide,
            });
        }
        for (group, kinds) in self.crds {
            let operator = OPERATORS.iter().find(|(g, _, _)| *g == group);
            let provide = match operator {
                Some((_, what, how)) => format!("{what}: {}", how.lines().next().unwrap_or_default()),
                None => format!("the CRDs of `{group}` and the controller that serves them"),
            };
            let kinds: Vec<String> = kinds.into_iter().collect();
            out.push(Requirement {
                kind: "CustomResourceDefinition",
                namespace: None,
                name: format!("{group} ({})", kinds.join(", ")),
                keys: vec![],
                provide,
            });
        }
        out.sort();
        out
    }
}

/// The issuer a cert-manager annotation names: (cluster-wide, name).
fn annotated_issuer(o: &Object) -> Option<(bool, String)> {
    let annotations = o.metadata().annotations.as_ref()?;
    if let Some(name) = annotations.get("cert-manager.io/cluster-issuer") {
        return Some((true, name.clone()));
    }
    annotations.get("cert-manager.io/issuer").map(|n| (false, n.clone()))
}

/// `group/version` → group (`v1` → the core group "").
fn group_of(api_version: &str) -> Option<&str> {
    match api_version.split_once('/') {
        Some((group, _)) => Some(group),
        None => Some(""),
    }
}

fn pod_spec(v: &Value) -> Option<&Value> {
    v.pointer("/spec/template/spec").or_else(|| v.pointer("/spec/jobTemplate/spec/template/spec"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objects(yaml: &str) -> Vec<Object> {
        let docs: Vec<serde_json::Value> = yaml
            .split("\n---\n")
            .map(|d| serde_json::to_value(serde_yaml::from_str::<serde_yaml::Value>(d).unwrap()).unwrap())
            .collect();
        docs.into_iter().map(|v| Object::from_json(v).unwrap()).collect()
    }

    #[test]
    fn secrets_the_bundle_reads_but_does_not_make_are_required_with_their_keys() {
        let bundle = objects(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec:\n      containers:\n        - name: web\n          image: web:1\n          env:\n            - {name: A, valueFrom: {secretKeyRef: {name: api, key: TOKEN}}}\n            - {name: B, valueFrom: {secretKeyRef: {name: db, key: password}}}\n            - {name: C, valueFrom: {secretKeyRef: {name: made, key: x}}}\n            - {name: D, valueFrom: {secretKeyRef: {name: maybe, key: x, optional: true}}}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: made, namespace: shop}\n",
        );
        let needs = of(&bundle, &["db".to_string()]);
        let secrets: Vec<String> = needs.iter().filter(|r| r.kind == "Secret").map(Requirement::describe).collect();
        assert_eq!(secrets, ["Secret shop/api (key TOKEN)"]);
        let api = needs.iter().find(|r| r.name == "api").unwrap();
        assert_eq!(api.provide, "kubectl -n shop create secret generic api --from-literal=TOKEN=…");
    }

    #[test]
    fn custom_resources_storage_classes_and_issuers_are_required() {
        let bundle = objects(
            "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: web, namespace: shop}\nspec: {endpoints: [], selector: {}}\n---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data, namespace: shop}\nspec: {storageClassName: fast, accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}\n---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web, namespace: shop, annotations: {cert-manager.io/cluster-issuer: le}}\nspec: {ingressClassName: nginx, tls: [{hosts: [a.example], secretName: web-tls}], rules: []}\n",
        );
        let described: Vec<String> = of(&bundle, &[]).iter().map(Requirement::describe).collect();
        assert_eq!(
            described,
            [
                "ClusterIssuer le",
                "CustomResourceDefinition monitoring.coreos.com (ServiceMonitor)",
                "IngressClass nginx",
                "StorageClass fast",
            ]
        );
    }
}
