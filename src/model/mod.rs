//! The validated app: every default applied, every cross-field rule
//! checked, nothing optional that rendering needs. Built from a loaded
//! profile by [`build`], which reports all problems it finds at once.
//!
//! This module does no IO; values that come from outside the profile (a
//! created Secret's data) arrive in [`Inputs`].

mod build;
pub mod credentials;
pub mod image;
pub mod names;
pub mod quantity;

use std::collections::BTreeMap;

use indexmap::IndexMap;

pub use build::build;

/// Values from outside the profile, gathered by the caller.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    /// Data of the Secrets the profile asks kgen to create, by Secret name.
    pub secret_data: BTreeMap<String, BTreeMap<String, String>>,
}

/// The app, validated.
#[derive(Clone, Debug)]
pub struct App {
    pub name: String,
    pub instance: String,
    pub part_of: String,
    pub version: Option<String>,
    pub namespace: String,
    /// Set when kgen creates the namespace.
    pub namespace_object: Option<NamespaceObject>,
    /// Extra labels and annotations for every object.
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub image_pull_secrets: Vec<String>,
    pub service_account: ServiceAccount,
    /// The ConfigMap of the settings, when there are settings or an
    /// existing one is named.
    pub config_map: Option<ConfigMap>,
    pub secrets: Vec<Secret>,
    pub security: Security,
    pub components: Vec<Component>,
}

#[derive(Clone, Debug)]
pub struct NamespaceObject {
    pub pod_security: &'static str,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

#[derive(Clone, Debug)]
pub struct ServiceAccount {
    pub name: String,
    pub create: bool,
    pub annotations: BTreeMap<String, String>,
    pub automount_token: bool,
}

#[derive(Clone, Debug)]
pub struct ConfigMap {
    pub name: String,
    /// None when the ConfigMap exists already.
    pub data: Option<IndexMap<String, String>>,
}

#[derive(Clone, Debug)]
pub struct Secret {
    pub name: String,
    /// (variable, key) pairs given to every component.
    pub env: Vec<(String, String)>,
    /// Data of a Secret kgen creates; None for an existing one.
    pub data: Option<BTreeMap<String, String>>,
}

#[derive(Clone, Debug)]
pub struct Security {
    pub run_as_user: i64,
    pub run_as_group: i64,
    pub fs_group: i64,
    pub read_only_root_filesystem: bool,
    pub add_capabilities: Vec<String>,
}

/// One workload.
#[derive(Clone, Debug)]
pub struct Component {
    /// The `app.kubernetes.io/component` label.
    pub key: String,
    /// Name of the workload and its Service.
    pub name: String,
    pub image: String,
    pub pull_policy: &'static str,
    pub command: Option<Vec<String>>,
    pub args: Option<Vec<String>>,
    pub ports: Vec<Port>,
    pub liveness: Option<Probe>,
    pub readiness: Option<Probe>,
    pub startup: Option<Probe>,
    pub replicas: u32,
    pub resources: Resources,
    /// Environment variables in order (settings come in through `envFrom`).
    pub env: Vec<EnvVar>,
    pub service: Option<Service>,
    pub pod_annotations: BTreeMap<String, String>,
    pub pod_labels: BTreeMap<String, String>,
    pub writable_paths: Vec<String>,
    pub termination_grace_period_seconds: Option<i64>,
    pub node_selector: BTreeMap<String, String>,
    pub tolerations: Vec<k8s_openapi::api::core::v1::Toleration>,
}

#[derive(Clone, Debug)]
pub struct Port {
    pub name: String,
    pub container_port: u16,
    pub service_port: u16,
    pub protocol: &'static str,
    pub expose: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ProbeAction {
    Http { path: String, port: PortTarget, scheme: &'static str },
    Tcp { port: PortTarget },
    Grpc { port: u16 },
    Exec { command: Vec<String> },
}

/// A port named in a probe: by name when the container declares it.
#[derive(Clone, Debug, PartialEq)]
pub enum PortTarget {
    Name(String),
    Number(u16),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Probe {
    pub action: ProbeAction,
    pub initial_delay_seconds: Option<i32>,
    pub period_seconds: i32,
    pub timeout_seconds: i32,
    pub failure_threshold: i32,
    pub success_threshold: Option<i32>,
}

/// Requests and limits by resource name (`cpu`, `memory`,
/// `ephemeral-storage`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Resources {
    pub requests: BTreeMap<String, String>,
    pub limits: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EnvVar {
    pub name: String,
    pub source: EnvValue,
}

#[derive(Clone, Debug, PartialEq)]
pub enum EnvValue {
    Literal(String),
    SecretKey { secret: String, key: String, optional: bool },
    ConfigMapKey { config_map: String, key: String, optional: bool },
    Field(String),
}

#[derive(Clone, Debug)]
pub struct Service {
    pub type_: &'static str,
    pub annotations: BTreeMap<String, String>,
}

impl App {
    /// The component whose key is `key`.
    pub fn component(&self, key: &str) -> Option<&Component> {
        self.components.iter().find(|c| c.key == key)
    }
}
