//! The validated app: every default applied, every cross-field rule
//! checked, nothing optional that rendering needs. Built from a loaded
//! profile by [`build`], which reports all problems it finds at once.
//!
//! This module does no IO; values that come from outside the profile (a
//! created Secret's data) arrive in [`Inputs`].

mod build;
pub mod credentials;
pub mod cron;
pub mod image;
pub mod names;
pub mod quantity;
pub mod refs;

use std::collections::BTreeMap;

use indexmap::IndexMap;

pub use build::build;

use crate::inputs::Inputs;

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
    pub databases: Vec<Database>,
    pub cache: Option<Cache>,
    pub migrations: Option<Migrations>,
    /// StorageClasses that storage presets create.
    pub storage_classes: Vec<StorageClass>,
    /// Monitoring with the Prometheus Operator, when the profile asks for it.
    pub monitoring: Option<Monitoring>,
    pub ingress: Option<Ingress>,
    pub gateway: Option<Gateway>,
    /// A cert-manager Issuer kgen creates for the Ingress's TLS.
    pub issuer: Option<Issuer>,
    pub network_policy: Option<NetworkPolicy>,
    /// Rules of the app's Role (its ServiceAccount token is then mounted).
    pub rbac: Vec<RbacRule>,
    /// How rendered text names the bundle's objects and the namespace:
    /// plain, except in [`App::marked`].
    pub text_refs: refs::TextRefs,
}

/// A Secret that kgen's credentials Job creates in the cluster when it does
/// not exist, with a random URL-safe value for each key; values never pass
/// through kgen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratedSecret {
    pub name: String,
    pub keys: Vec<String>,
}

impl App {
    /// The Secrets kgen's credentials Job creates: those of the servers
    /// kgen runs (in-cluster databases, the cache) whose passwords nobody
    /// else provides. Sorted by name, each key once.
    pub fn generated_secrets(&self) -> Vec<GeneratedSecret> {
        let mut wanted: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
        for db in &self.databases {
            if let DatabaseKind::InCluster(p) = &db.kind
                && p.generate_password
            {
                wanted.entry(p.password_secret.clone()).or_default().insert(p.password_key.clone());
            }
        }
        if let Some(c) = &self.cache
            && c.generate_password
            && let Some((secret, key)) = &c.password
        {
            wanted.entry(secret.clone()).or_default().insert(key.clone());
        }
        wanted.into_iter().map(|(name, keys)| GeneratedSecret { name, keys: keys.into_iter().collect() }).collect()
    }
}

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
    /// Where its values come from.
    pub source: SecretSource,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SecretSource {
    /// It exists in the cluster; kgen only references it.
    Existing,
    /// kgen creates it with this data (from its environment or a file).
    Created(BTreeMap<String, String>),
    /// An `ExternalSecret` makes it from a secret store.
    External(ExternalSecret),
    /// A `SealedSecret` with these encrypted values (key: ciphertext).
    Sealed(BTreeMap<String, String>),
}

/// An `ExternalSecret`: which store, and each key's value there.
#[derive(Clone, Debug, PartialEq)]
pub struct ExternalSecret {
    pub store: String,
    /// `SecretStore` or `ClusterSecretStore`.
    pub store_kind: &'static str,
    pub refresh_interval: Option<String>,
    /// Secret key to its value in the store, in the profile's order.
    pub keys: Vec<(String, RemoteValue)>,
}

/// A value in a secret store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteValue {
    pub key: String,
    pub property: Option<String>,
    pub version: Option<String>,
}

impl ExternalSecret {
    /// Whether the operator reads the values more than once, so a value
    /// rotated in the store changes the Secret (`0s` reads them once).
    pub fn refreshes(&self) -> bool {
        !self.refresh_interval.as_deref().is_some_and(|i| cron::go_duration_seconds(i) == Some(0.0))
    }
}

impl Secret {
    /// The data of a Secret kgen creates.
    pub fn created(&self) -> Option<&BTreeMap<String, String>> {
        match &self.source {
            SecretSource::Created(data) => Some(data),
            _ => None,
        }
    }

    /// The keys a Secret made from the bundle holds (created, external,
    /// sealed); None when it exists already and its keys are unknown.
    pub fn known_keys(&self) -> Option<Vec<&str>> {
        match &self.source {
            SecretSource::Existing => None,
            SecretSource::Created(data) | SecretSource::Sealed(data) => Some(data.keys().map(String::as_str).collect()),
            SecretSource::External(e) => Some(e.keys.iter().map(|(k, _)| k.as_str()).collect()),
        }
    }
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

/// The pod's pgpass file, written by the init containers that wait for
/// in-cluster databases and read by libpq through `PGPASSFILE`.
pub const PGPASS_FILE: &str = "/run/kgen/pgpass";

/// A storage request for a claim.
#[derive(Clone, Debug, PartialEq)]
pub struct StorageRequest {
    pub size: String,
    pub class: Option<String>,
    pub access_modes: Vec<String>,
}

/// A StorageClass created by a cloud disk preset.
#[derive(Clone, Debug, PartialEq)]
pub struct StorageClass {
    pub name: String,
    pub provisioner: &'static str,
    pub parameters: Vec<(&'static str, &'static str)>,
}

/// A database, and how components reach it.
#[derive(Clone, Debug)]
pub struct Database {
    pub key: String,
    /// The variable with the connection URL.
    pub env: String,
    /// Components that use it.
    pub used_by: Vec<String>,
    pub kind: DatabaseKind,
}

#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant, reason = "one per database of an app: boxing would save nothing that counts")]
pub enum DatabaseKind {
    Sqlite(Sqlite),
    /// PostgreSQL or TimescaleDB in a StatefulSet of kgen's.
    InCluster(Box<Postgres>),
    /// PostgreSQL outside the cluster; the URL comes from a Secret.
    Managed(Managed),
    /// A CloudNativePG Cluster.
    Operator(Box<Operator>),
}

#[derive(Clone, Debug)]
pub struct Sqlite {
    /// The component that keeps the file.
    pub component: String,
    pub path: String,
    pub max_open_conns: u32,
    pub max_idle_conns: u32,
    pub cache_size_kb: u32,
    pub wal_mode: bool,
    pub backup: Option<Backup>,
}

#[derive(Clone, Debug)]
pub struct Postgres {
    pub name: String,
    /// `postgresql` or `timescaledb`.
    pub engine: &'static str,
    pub image: String,
    pub major: u32,
    pub database: String,
    pub user: String,
    pub password_secret: String,
    pub password_key: String,
    /// kgen's credentials Job creates `password_secret` when it is missing.
    pub generate_password: bool,
    /// A key of `password_secret` with the whole URL for the app.
    pub url_key: Option<String>,
    /// A claim template (`data`), or a named claim (created when
    /// `create_claim`).
    pub storage: StorageRequest,
    pub claim: Option<String>,
    pub create_claim: bool,
    pub resources: Resources,
    /// Server settings, in order, passed as `-c key=value`.
    pub parameters: Vec<(String, String)>,
    /// Scripts for /docker-entrypoint-initdb.d, in order (name, content).
    pub init_scripts: Vec<(String, String)>,
    pub backup: Option<Backup>,
    pub wal_archive: Option<WalArchive>,
    /// A postgres_exporter sidecar serving metrics on [`EXPORTER_PORT`]
    /// (port name [`EXPORTER_PORT_NAME`]).
    pub exporter: Option<Exporter>,
}

/// Continuous WAL archiving of an in-cluster server (its
/// `archive_command` is among the server parameters).
#[derive(Clone, Debug, PartialEq)]
pub struct WalArchive {
    /// How the archive tool authenticates.
    pub auth: ArchiveAuth,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ArchiveAuth {
    /// A Secret whose keys become the server's environment.
    Secret(String),
    /// A ServiceAccount (named like the database) kgen creates with these
    /// annotations, for a cloud's workload identity.
    ServiceAccount(BTreeMap<String, String>),
}

/// The port of a database's metrics exporter (postgres_exporter's default,
/// and CloudNativePG's).
pub const EXPORTER_PORT: u16 = 9187;
/// The name of the exporter's port, on the pod and on the Service.
pub const EXPORTER_PORT_NAME: &str = "metrics";

/// A Prometheus exporter beside a database server.
#[derive(Clone, Debug, PartialEq)]
pub struct Exporter {
    pub image: String,
}

#[derive(Clone, Debug)]
pub struct Managed {
    pub secret: String,
    pub key: String,
    pub ssl_mode: Option<String>,
}

/// A CloudNativePG Cluster.
#[derive(Clone, Debug)]
pub struct Operator {
    pub name: String,
    pub instances: u32,
    /// Image override (e.g. one with TimescaleDB).
    pub image: Option<String>,
    pub database: String,
    pub user: String,
    pub storage: StorageRequest,
    pub resources: Resources,
    pub parameters: Vec<(String, String)>,
    pub shared_preload_libraries: Vec<String>,
    /// Statements run once after the database is created.
    pub init_sql: Vec<String>,
    pub backup: Option<OperatorBackup>,
}

#[derive(Clone, Debug)]
pub struct OperatorBackup {
    /// Six-field cron (seconds first), as CloudNativePG expects.
    pub schedule: String,
    pub object_store: String,
}

/// A backup CronJob and where it keeps its dumps.
#[derive(Clone, Debug)]
pub struct Backup {
    /// Name of the CronJob and its PersistentVolumeClaim.
    pub name: String,
    /// Name of the suspended CronJob that restores a copy (`kubectl create
    /// job --from=cronjob/<restore_name>`).
    pub restore_name: String,
    pub schedule: String,
    pub time_zone: Option<String>,
    pub retention_days: u32,
    /// The longest wait between two scheduled runs, in seconds.
    pub longest_gap_seconds: u64,
    pub storage: StorageRequest,
    pub image: String,
    pub active_deadline_seconds: i64,
    pub resources: Resources,
}

/// The Redis cache.
#[derive(Clone, Debug)]
pub struct Cache {
    pub key: String,
    pub name: String,
    pub image: String,
    pub max_memory: String,
    pub max_memory_policy: String,
    pub resources: Resources,
    /// The Secret and key of the password.
    pub password: Option<(String, String)>,
    /// kgen's credentials Job creates the password's Secret when missing.
    pub generate_password: bool,
    pub env: String,
    /// The claim of the append-only file (`<name>-data`), when Redis keeps
    /// its keys.
    pub persistence: Option<StorageRequest>,
}

#[derive(Clone, Debug)]
pub struct Migrations {
    pub strategy: MigrationStrategy,
    pub command: Vec<String>,
    pub args: Option<Vec<String>>,
    pub image: String,
    /// The component whose settings and environment the migration uses.
    pub component: String,
    pub backoff_limit: i32,
    pub active_deadline_seconds: i64,
    pub ttl_seconds_after_finished: i32,
    pub resources: Resources,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MigrationStrategy {
    Job,
    InitContainer,
}

/// Monitoring with the Prometheus Operator. Every part is optional; the
/// objects that need its CRDs exist only for the parts that are on.
#[derive(Clone, Debug)]
pub struct Monitoring {
    /// The namespace Prometheus runs in; network policies allow scrapes
    /// from it.
    pub namespace: String,
    /// ServiceMonitors (and PodMonitors for CloudNativePG), when on.
    pub scrape: Option<Scrape>,
    /// The PrometheusRule, when on.
    pub alerts: Option<Alerts>,
    /// The Grafana dashboard ConfigMap, when on.
    pub dashboard: Option<Dashboard>,
    /// The app's request metrics, which alerts and the dashboard read.
    pub http: HttpMetrics,
}

/// How Prometheus scrapes the app.
#[derive(Clone, Debug, PartialEq)]
pub struct Scrape {
    /// Prometheus durations, `scrape_timeout` ≤ `interval`.
    pub interval: String,
    pub scrape_timeout: String,
    /// Labels on every ServiceMonitor and PodMonitor.
    pub labels: BTreeMap<String, String>,
}

/// The names of the request metrics the app exports (valid Prometheus
/// metric and label names).
#[derive(Clone, Debug, PartialEq)]
pub struct HttpMetrics {
    /// A counter of requests, e.g. `http_requests_total`.
    pub requests: String,
    /// Its label with the response status.
    pub status_label: String,
    /// A regular expression (RE2) matching the failed statuses.
    pub error_status: String,
    /// A histogram of request durations in seconds, without `_bucket`.
    pub duration: String,
}

/// The alerting rules that are on, with their settings.
#[derive(Clone, Debug, PartialEq)]
pub struct Alerts {
    /// Labels on the PrometheusRule.
    pub labels: BTreeMap<String, String>,
    pub app_down: Option<Alert>,
    pub database_down: Option<Alert>,
    /// Fires when the share of failed requests exceeds the threshold.
    pub error_rate: Option<Alert>,
    /// Fires when the latency quantile exceeds the threshold (seconds).
    pub latency: Option<Alert>,
    /// The latency quantile, between 0 and 1.
    pub latency_quantile: f64,
    /// Rate windows of the error-rate and latency rules (durations).
    pub error_rate_window: String,
    pub latency_window: String,
    /// Fractions of the CPU and memory limits and of volume capacity.
    pub cpu: Option<Alert>,
    pub memory: Option<Alert>,
    pub pvc_usage: Option<Alert>,
    pub backup: Option<Alert>,
    pub wal_archive: Option<Alert>,
}

/// One alert's settings.
#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    /// Finite and positive; unused by alerts without a threshold.
    pub threshold: f64,
    /// A Prometheus duration.
    pub for_: String,
    pub severity: &'static str,
}

/// The Grafana dashboard ConfigMap.
#[derive(Clone, Debug, PartialEq)]
pub struct Dashboard {
    /// Name of the ConfigMap.
    pub name: String,
    pub title: String,
    /// Labels on the ConfigMap (the sidecar's label).
    pub labels: BTreeMap<String, String>,
    /// The Grafana folder (an annotation).
    pub folder: Option<String>,
    /// The profile's own panels, after the standard ones.
    pub panels: Vec<Panel>,
}

/// A dashboard panel from the profile.
#[derive(Clone, Debug, PartialEq)]
pub struct Panel {
    pub title: String,
    /// PromQL queries, each with its legend format (may be empty).
    pub queries: Vec<(String, String)>,
    pub unit: String,
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

impl App {
    /// The name of the `kind` object `name` of the bundle, where text holds
    /// it (a host in a URL, a job in PromQL): see [`refs`].
    pub fn name_in_text(&self, kind: &str, name: &str) -> String {
        self.text_refs.name(kind, name)
    }

    /// The app's namespace, where text holds it.
    pub fn namespace_in_text(&self) -> String {
        self.text_refs.namespace(&self.namespace)
    }

    /// The same app, whose text names objects and the namespace by marker
    /// (the kustomize writer's input): the variables the model composed
    /// from names (hosts, URLs, operator Secrets) and the hosts pods wait
    /// for, and through [`App::text_refs`] everything rendering writes.
    pub fn marked(&self) -> App {
        let mut app = self.clone();
        app.text_refs = refs::TextRefs::Marked;
        build::mark_references(&mut app);
        app
    }

    /// The component whose key is `key`.
    pub fn component(&self, key: &str) -> Option<&Component> {
        self.components.iter().find(|c| c.key == key)
    }
}

impl Database {
    /// Name of the database's own objects, if it has any.
    pub fn object_name(&self) -> Option<&str> {
        match &self.kind {
            DatabaseKind::InCluster(p) => Some(&p.name),
            DatabaseKind::Operator(o) => Some(&o.name),
            DatabaseKind::Sqlite(_) | DatabaseKind::Managed(_) => None,
        }
    }
}
