//! Profile types for running in production: autoscaling, disruption
//! budgets, spreading, routing (Ingress or Gateway API) with TLS, network
//! policies and RBAC.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

use super::schema::{PortName, Quantity};

/// Horizontal autoscaling of a component. With it on, the workload has no
/// fixed `replicas`, so applies never fight the autoscaler.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Autoscaling {
    /// Set false to turn autoscaling defined in the base off.
    pub enabled: Option<bool>,
    /// Fewest replicas (default 2).
    pub min: Option<u32>,
    /// Most replicas.
    pub max: Option<u32>,
    /// Target average CPU use, in percent of the request (the component
    /// must request CPU).
    pub cpu: Option<u32>,
    /// Target average memory use, in percent of the request (the
    /// component must request memory).
    pub memory: Option<u32>,
    /// Custom per-pod metrics (e.g. requests per second). The HPA reads
    /// them from the custom metrics API, which needs prometheus-adapter in
    /// the cluster; with `keda`, KEDA queries Prometheus instead.
    pub metrics: Vec<CustomMetric>,
    /// Seconds of lower load before scaling down (default 300).
    pub scale_down_stabilization_seconds: Option<i32>,
    /// Scale with a KEDA ScaledObject instead of an HPA (KEDA must be
    /// installed; it manages an HPA itself).
    pub keda: Option<Keda>,
}

/// A custom metric to scale on.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
#[schemars(extend("required" = ["name", "target"]))]
pub struct CustomMetric {
    /// Metric name in the custom metrics API, e.g. http_requests_per_second.
    pub name: String,
    /// Target average value per pod, e.g. "100" or "500m".
    #[schemars(with = "Quantity")]
    pub target: String,
    /// PromQL giving the total over the component's pods (KEDA only; KEDA
    /// divides it by the target to get the replica count).
    pub query: Option<String>,
}

/// KEDA settings.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Keda {
    /// Prometheus URL for custom metrics (default
    /// http://prometheus-operated.monitoring.svc:9090).
    pub prometheus_address: Option<String>,
}

/// A PodDisruptionBudget: how many pods may be down during voluntary
/// disruptions (node drains, upgrades). Made by default when a component
/// runs 2 or more replicas (maxUnavailable 1).
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct DisruptionBudget {
    /// Set false for no budget.
    pub enabled: Option<bool>,
    /// Pods that must stay available: a number or a percentage ("50%").
    pub min_available: Option<IntOrPercent>,
    /// Pods that may be unavailable: a number or a percentage.
    pub max_unavailable: Option<IntOrPercent>,
}

/// A count or a percentage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IntOrPercent {
    Int(u32),
    Percent(String),
}

impl<'de> Deserialize<'de> for IntOrPercent {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<IntOrPercent, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = IntOrPercent;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a number or a percentage such as \"50%\"")
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<IntOrPercent, E> {
                u32::try_from(n).map(IntOrPercent::Int).map_err(|_| E::custom(format!("{n} must be 0 or more")))
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<IntOrPercent, E> {
                u32::try_from(n).map(IntOrPercent::Int).map_err(|_| E::custom(format!("{n} is too large")))
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<IntOrPercent, E> {
                match s.strip_suffix('%').map(str::parse::<u32>) {
                    Some(Ok(p)) if p <= 100 => Ok(IntOrPercent::Percent(s.to_string())),
                    _ => Err(E::custom(format!("`{s}` is not a number or a percentage such as \"50%\""))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// As `deserialize` reads it: a whole number, or text that is a
/// percentage of at most 100.
impl JsonSchema for IntOrPercent {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "IntOrPercent".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A count or a percentage (\"50%\").",
            "anyOf": [
                {
                    "type": "string",
                    "pattern": super::schema::PERCENT,
                    "patternErrorMessage": "not a number or a percentage such as \"50%\"",
                },
                {"type": "integer", "minimum": 0, "maximum": u32::MAX},
            ],
        })
    }
}

/// Where a component's replicas are spread.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Spread {
    /// Across zones and nodes (the default with 2 or more replicas).
    Both,
    /// Across zones.
    Zones,
    /// Across nodes.
    Nodes,
    /// No constraint.
    None,
}

/// HTTP routing through an Ingress (networking.k8s.io/v1).
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Ingress {
    /// Set false to turn an ingress defined in the base off.
    pub enabled: Option<bool>,
    /// The IngressClass (required: kgen assumes no default class).
    /// Controller-specific annotations follow it (nginx, traefik, haproxy).
    pub class_name: Option<String>,
    /// Extra annotations on the Ingress.
    pub annotations: IndexMap<String, String>,
    /// TLS for every host.
    pub tls: Option<Tls>,
    /// Hosts and their paths.
    pub hosts: Vec<Host>,
}

/// HTTP routing through Gateway API `HTTPRoute`s attached to an existing
/// Gateway.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Gateway {
    /// Set false to turn gateway routes defined in the base off.
    pub enabled: Option<bool>,
    /// The Gateway to attach to.
    pub name: Option<String>,
    /// Its namespace (default: the app's).
    pub namespace: Option<String>,
    /// The Gateway listener to attach to, e.g. https.
    pub section_name: Option<String>,
    /// Hosts and their paths (TLS is the Gateway listener's).
    pub hosts: Vec<Host>,
}

/// A host name and what its paths route to.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
#[schemars(extend("required" = ["host"]))]
pub struct Host {
    /// The host name, e.g. api.example.com.
    pub host: String,
    /// Paths (default: `/` to the first component with a Service).
    pub paths: Vec<RoutePath>,
    /// Long-lived WebSocket connections: long read and send timeouts.
    pub websocket: Option<bool>,
}

/// A path prefix and its backend.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct RoutePath {
    /// Path (default `/`).
    pub path: Option<String>,
    /// Prefix (default), Exact or ImplementationSpecific.
    pub path_type: Option<PathType>,
    /// The component that serves it (default: the first with a Service).
    pub component: Option<String>,
    /// The component's port name (default: its first exposed port).
    #[schemars(with = "Option<PortName>")]
    pub port: Option<String>,
    /// A Service outside the app instead of a component (Gateway API may
    /// reach another namespace; an Ingress cannot).
    pub service: Option<ServiceRef>,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
pub enum PathType {
    Prefix,
    Exact,
    ImplementationSpecific,
}

/// A Service by name, namespace and port number.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
#[schemars(extend("required" = ["name", "port"]))]
pub struct ServiceRef {
    /// Service name.
    pub name: String,
    /// Its namespace (default: the app's).
    pub namespace: Option<String>,
    /// Service port number.
    #[schemars(range(min = 1))]
    pub port: u16,
}

/// TLS certificates from cert-manager (or an existing Secret).
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Tls {
    /// Secret that holds the certificate (default `<app>-tls`).
    pub secret_name: Option<String>,
    /// An existing cert-manager ClusterIssuer, e.g. letsencrypt-prod.
    pub cluster_issuer: Option<String>,
    /// An existing cert-manager Issuer in the app's namespace.
    pub issuer: Option<String>,
    /// Let's Encrypt through an Issuer kgen creates (HTTP-01 through the
    /// ingress class).
    pub acme: Option<Acme>,
    /// A self-signed Issuer kgen creates (local clusters: Let's Encrypt
    /// cannot issue for localhost).
    pub self_signed: Option<bool>,
}

/// A Let's Encrypt account.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
#[schemars(extend("required" = ["email"]))]
pub struct Acme {
    /// Contact e-mail for the account.
    pub email: String,
    /// staging (untrusted certificates, generous limits) or production.
    pub server: Option<AcmeServer>,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AcmeServer {
    Staging,
    Production,
}

/// NetworkPolicies for the app's pods, derived from the profile: who may
/// reach each component, database and cache, and where they may connect.
/// They select only the app's own pods, so they are safe in a shared
/// namespace. On by default.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct NetworkPolicy {
    /// Set false for no NetworkPolicies.
    pub enabled: Option<bool>,
    /// Also deny all traffic of every pod in the namespace that no other
    /// policy allows (only in a namespace kgen creates).
    pub default_deny: Option<bool>,
    /// Namespace of the ingress controller (default from the ingress class:
    /// ingress-nginx, traefik, haproxy-controller, projectcontour).
    pub ingress_namespace: Option<String>,
    /// Namespace of the Gateway's proxies (default: the Gateway's).
    pub gateway_namespace: Option<String>,
    /// Extra sources allowed to reach the app's components.
    pub allow_from: Vec<Peer>,
    /// Destinations outside the cluster the components may connect to
    /// (managed databases, object storage, an OIDC issuer, APIs).
    pub egress: Vec<Egress>,
    /// Where the Kubernetes API server is, for pods that call it (RBAC
    /// rules, the CloudNativePG instances; default 0.0.0.0/0 on 443 and
    /// 6443).
    pub api_server_cidr: Option<String>,
}

/// Pods in a namespace allowed in.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Peer {
    /// Their namespace (default: the app's).
    pub namespace: Option<String>,
    /// Their labels (default: any pod of the namespace).
    pub pod_labels: IndexMap<String, String>,
    /// Ports they may reach, each a port of the components (default: every
    /// port of the components), with its protocol.
    pub ports: Vec<u16>,
    /// Only these components (default: all).
    pub components: Vec<String>,
}

/// A destination outside the cluster.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
#[schemars(extend("required" = ["cidr"]))]
pub struct Egress {
    /// What it is, e.g. "managed PostgreSQL" (documentation only).
    pub description: Option<String>,
    /// Address range, e.g. 10.20.0.0/16, or 0.0.0.0/0 for anywhere.
    pub cidr: String,
    /// Ranges inside `cidr` to exclude.
    pub except: Vec<String>,
    /// TCP ports (default: any).
    pub ports: Vec<u16>,
}

/// Kubernetes API access for the app's pods: a Role with these rules, bound
/// to the app's ServiceAccount, whose token is then mounted.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Rbac {
    /// What the app may do in its namespace.
    pub rules: Vec<RbacRule>,
}

/// One rule of a Role.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct RbacRule {
    /// API groups ("" is the core group).
    pub api_groups: Vec<String>,
    /// Resources, e.g. configmaps, leases.
    pub resources: Vec<String>,
    /// Verbs, e.g. get, list, watch.
    pub verbs: Vec<String>,
    /// Limit the rule to these objects.
    pub resource_names: Vec<String>,
}
