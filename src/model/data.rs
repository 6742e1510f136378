//! Databases (SQLite, in-cluster, operator, managed), their backups, the
//! cache and migrations.

use super::*;

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
    pub password: Option<super::SecretKeyRef>,
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
