//! What production needs besides the workloads: routing (Ingress, Gateway
//! API, TLS issuers), network policies, RBAC, autoscaling and disruption
//! budgets.

use super::*;

/// Routing through an Ingress.
#[derive(Clone, Debug)]
pub struct Ingress {
    pub class_name: String,
    pub annotations: BTreeMap<String, String>,
    pub tls: Option<Tls>,
    pub hosts: Vec<RouteHost>,
}

/// Routing through Gateway API.
#[derive(Clone, Debug)]
pub struct Gateway {
    pub name: String,
    pub namespace: String,
    pub section_name: Option<String>,
    pub hosts: Vec<RouteHost>,
}

#[derive(Clone, Debug)]
pub struct RouteHost {
    /// Name of its HTTPRoute: `<app>-<first label of the host>`.
    pub name: String,
    pub host: String,
    pub websocket: bool,
    pub paths: Vec<Route>,
}

#[derive(Clone, Debug)]
pub struct Route {
    pub path: String,
    pub path_type: &'static str,
    pub backend: Backend,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Backend {
    /// A component's Service, by port name and number.
    Component { key: String, service: String, port_name: String, port: u16 },
    /// Any Service, maybe in another namespace.
    External { name: String, namespace: String, port: u16 },
}

#[derive(Clone, Debug)]
pub struct Tls {
    /// `<app>-tls`, or the profile's; websocket hosts use `<secret>-ws`.
    pub secret_name: String,
    /// cert-manager's annotation: (`cert-manager.io/cluster-issuer` or
    /// `cert-manager.io/issuer`, issuer name).
    pub issuer_annotation: Option<(&'static str, String)>,
}

#[derive(Clone, Debug)]
pub struct Issuer {
    pub name: String,
    pub kind: IssuerKind,
}

#[derive(Clone, Debug)]
pub enum IssuerKind {
    Acme { email: String, server: &'static str, ingress_class: String },
    SelfSigned,
}

#[derive(Clone, Debug)]
pub struct NetworkPolicy {
    pub default_deny: bool,
    pub ingress_namespace: Option<String>,
    pub gateway_namespace: Option<String>,
    pub allow_from: Vec<Peer>,
    pub egress: Vec<Egress>,
    pub api_server_cidr: String,
}

#[derive(Clone, Debug)]
pub struct Peer {
    pub namespace: Option<String>,
    pub pod_labels: BTreeMap<String, String>,
    pub ports: Vec<u16>,
    pub components: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct Egress {
    pub cidr: String,
    pub except: Vec<String>,
    pub ports: Vec<u16>,
}

#[derive(Clone, Debug)]
pub struct RbacRule {
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
    pub verbs: Vec<String>,
    pub resource_names: Vec<String>,
}

/// Horizontal autoscaling of a component.
#[derive(Clone, Debug)]
pub struct Autoscaling {
    pub min: u32,
    pub max: u32,
    pub cpu: Option<u32>,
    pub memory: Option<u32>,
    pub metrics: Vec<CustomMetric>,
    pub scale_down_stabilization_seconds: i32,
    /// KEDA's Prometheus address, when KEDA scales instead of an HPA.
    pub keda: Option<String>,
}

#[derive(Clone, Debug)]
pub struct CustomMetric {
    pub name: String,
    pub target: String,
    pub query: Option<String>,
}

/// A count or a percentage (`IntOrString` in Kubernetes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IntOrPercent {
    Int(u32),
    Percent(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DisruptionBudget {
    MinAvailable(IntOrPercent),
    MaxUnavailable(IntOrPercent),
}
