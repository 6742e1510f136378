//! The components: workloads, their ports, probes, environment and
//! resources.

use super::*;

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
    /// Name of the main container.
    pub container_name: String,
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
    /// Set when the component keeps an SQLite database: it runs as a
    /// single-replica StatefulSet with a `data` volume claim template.
    pub sqlite_volume: Option<SqliteVolume>,
    /// Databases the pods wait for before starting (init containers).
    pub wait_for: Vec<WaitFor>,
    /// Run the migrations in an init container before the app starts.
    pub migrate_on_start: bool,
    pub autoscaling: Option<Autoscaling>,
    pub disruption_budget: Option<DisruptionBudget>,
    /// Topology keys to spread replicas over.
    pub spread: Vec<&'static str>,
    pub priority_class_name: Option<String>,
    /// Where Prometheus scrapes the component: set only when monitoring is
    /// on and the component serves metrics on one of its ports.
    pub metrics: Option<Metrics>,
}

/// A component's metrics endpoint.
#[derive(Clone, Debug, PartialEq)]
pub struct Metrics {
    /// The name of a port the component declares and its Service exposes.
    pub port: String,
    /// The HTTP path, starting with `/`.
    pub path: String,
}

/// The `data` volume of a component that keeps an SQLite database.
#[derive(Clone, Debug)]
pub struct SqliteVolume {
    pub mount_path: String,
    pub claim: StorageRequest,
}

/// An init container that waits until a database accepts connections.
#[derive(Clone, Debug, PartialEq)]
pub struct WaitFor {
    /// Database key, for the container name `wait-for-<key>`.
    pub key: String,
    pub image: String,
    pub host: String,
    pub port: u16,
    /// The role and database `pg_isready` names: as a UID with no passwd
    /// entry, libpq has no default user and makes no attempt without one.
    pub user: String,
    pub database: String,
    /// Where the password is, for a database whose URL carries none: the
    /// init container writes the pod's pgpass file from it.
    pub pgpass: Option<SecretKeyRef>,
}

/// A key of a Secret.
#[derive(Clone, Debug, PartialEq)]
pub struct SecretKeyRef {
    pub secret: String,
    pub key: String,
}

#[derive(Clone, Debug)]
pub struct Port {
    pub name: String,
    pub container_port: u16,
    pub service_port: u16,
    pub protocol: &'static str,
    pub expose: bool,
}

impl Port {
    /// Whether it speaks TCP, which probes, HTTP routes and scrapes need.
    pub fn is_tcp(&self) -> bool {
        self.protocol == "TCP"
    }

    /// "a UDP", "an SCTP", for messages.
    pub fn protocol_with_article(&self) -> String {
        let article = if self.protocol == "SCTP" { "an" } else { "a" };
        format!("{article} {}", self.protocol)
    }
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
