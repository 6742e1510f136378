//! Profile types for where the data lives: databases (SQLite, PostgreSQL
//! in the cluster, managed or by operator, TimescaleDB), storage, the Redis
//! cache, migrations and backups.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

use super::Resources;
use super::schema::Quantity;

/// A database the app uses. The tier path is one field each: `engine:
/// sqlite` → `engine: postgres` (a StatefulSet in the cluster) → `mode:
/// managed` (a URL from a Secret) → `mode: operator` (CloudNativePG).
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Database {
    /// sqlite, postgres (default) or timescaledb.
    pub engine: Option<Engine>,
    /// Where a postgres or timescaledb database runs: in-cluster (a
    /// StatefulSet, default), managed (outside the cluster, URL from a
    /// Secret) or operator (a CloudNativePG Cluster).
    pub mode: Option<DatabaseMode>,
    /// Name of the database's objects (StatefulSet, Service, Cluster;
    /// default `<app>-<key>`).
    pub name: Option<String>,
    /// Environment variable that gives components the connection URL
    /// (default DATABASE_URL when the profile has one database,
    /// `<KEY>_DATABASE_URL` otherwise).
    pub env: Option<String>,
    /// Database name inside the server (default: the key).
    pub database: Option<String>,
    /// The role the app connects as, which owns the database (default: the
    /// app's name).
    pub user: Option<String>,
    /// Major PostgreSQL version (default 17); picks the image and the data
    /// directory layout (18 moved it to /var/lib/postgresql).
    pub version: Option<String>,
    /// Server image (default postgres:<version>, or
    /// timescale/timescaledb:2.17.2-pg<version>).
    pub image: Option<String>,
    /// Where the data is stored.
    pub storage: Storage,
    /// Requests and limits of the database server, or a preset (default
    /// 250m/512Mi requested, 1 CPU/1Gi limit).
    pub resources: Option<Resources>,
    /// The Secret with the password (in-cluster) and optionally a full
    /// connection URL.
    pub credentials: Credentials,
    /// Server settings over the ones kgen derives from the memory request
    /// (shared_buffers 25%, effective_cache_size 50%, work_mem 1/64,
    /// maintenance_work_mem 1/8, …). Passed as server arguments, so a change
    /// takes effect on the next restart.
    pub parameters: IndexMap<String, String>,
    /// Extensions created when the database is first initialised.
    pub extensions: Vec<String>,
    /// The database's default time zone, set when it is first initialised.
    pub timezone: Option<String>,
    /// Extra SQL or shell scripts run once, when the database is first
    /// initialised (file name → content; they run in name order).
    pub init_scripts: IndexMap<String, String>,
    /// Continuous WAL archiving (in-cluster PostgreSQL). The stock images
    /// carry no archive tool, so `image` must name one that does, and the
    /// archive says how the tool authenticates. (CloudNativePG's Barman
    /// Cloud plugin, `mode: operator`, archives WAL with no image of yours.)
    pub wal_archive: Option<WalArchive>,
    /// Scheduled backups.
    pub backup: Option<Backup>,
    /// In-cluster PostgreSQL: run a Prometheus exporter (postgres_exporter)
    /// beside the server, on port `metrics` (9187) of its Service; with
    /// `monitoring`, a ServiceMonitor scrapes it and the database-down alert
    /// reads its `pg_up`. CloudNativePG databases export metrics themselves.
    pub exporter: Option<bool>,
    /// Managed (external) PostgreSQL: the Secret and key holding the URL.
    pub url: Option<SecretKeyRef>,
    /// Managed PostgreSQL: sslmode for clients (sets PGSSLMODE), e.g.
    /// require or verify-full.
    pub ssl_mode: Option<String>,
    /// Operator mode: number of instances (default 3; 1 primary, the rest
    /// replicas).
    pub instances: Option<u32>,
    /// SQLite: the database file (default `/app/data/<app>.db`).
    pub path: Option<String>,
    /// SQLite: connection and cache tuning: default, high-traffic or
    /// low-memory.
    pub tuning: Option<SqliteTuning>,
    /// SQLite: write-ahead logging (default true).
    pub wal_mode: Option<bool>,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    Sqlite,
    Postgres,
    Timescaledb,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum DatabaseMode {
    InCluster,
    Managed,
    Operator,
}

/// Continuous WAL archiving: the server runs `command` for every finished
/// WAL segment; a segment that fails to archive is kept (and the disk
/// fills), so the tool, its credentials and an alert come with it.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
#[schemars(extend("required" = ["command"]))]
pub struct WalArchive {
    /// The server's archive_command, e.g. `aws s3 cp %p
    /// s3://bucket/wal/%f` (%p: the segment's path, %f: its file name).
    pub command: String,
    /// A Secret whose keys become the server's environment: the tool's
    /// credentials (e.g. AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
    /// AWS_DEFAULT_REGION).
    pub secret: Option<String>,
    /// Or: annotations of a ServiceAccount that kgen creates for the
    /// database's pods and that binds them to a cloud identity (EKS
    /// `eks.amazonaws.com/role-arn`, GKE `iam.gke.io/gcp-service-account`,
    /// Azure `azure.workload.identity/client-id`).
    pub service_account_annotations: IndexMap<String, String>,
}

/// SQLite tunings (max open connections / max idle / cache KB):
/// default 25/5/64000, high-traffic 50/5/128000, low-memory 10/5/32000.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum SqliteTuning {
    Default,
    HighTraffic,
    LowMemory,
}

/// A key of a Secret.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
#[schemars(extend("required" = ["secret"]))]
pub struct SecretKeyRef {
    /// Secret name.
    pub secret: String,
    /// Key in the Secret (default DATABASE_URL).
    pub key: Option<String>,
}

/// Where a database's password (and optionally URL) comes from.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Credentials {
    /// Secret name (default `<database name>-credentials`).
    pub secret: Option<String>,
    /// kgen's credentials Job creates the Secret in the cluster, with a
    /// random URL-safe password, when it does not exist; it never replaces
    /// one (default: true unless `secret` names a Secret of yours).
    pub generate: Option<bool>,
    /// Key of the password (default `password`).
    pub password_key: Option<String>,
    /// Key of a full connection URL for the app; without it kgen composes
    /// the URL from the password.
    pub url_key: Option<String>,
}

/// Persistent storage: a size and class, a cloud preset, or a named claim.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Storage {
    /// Size, e.g. 10Gi (default 1Gi for SQLite, 10Gi for PostgreSQL).
    #[schemars(with = "Option<Quantity>")]
    pub size: Option<String>,
    /// StorageClass name (default: the cluster's default class, or the
    /// class a `provider` preset creates).
    pub class: Option<String>,
    /// A disk preset: aws-gp3, aws-io2, gcp-pd-ssd, gcp-pd-balanced,
    /// azure-premium, azure-standard (kgen emits a StorageClass with
    /// reclaimPolicy Retain and volume expansion), or kind / minikube (their
    /// `standard` class).
    pub provider: Option<StorageProvider>,
    /// Access modes (default [ReadWriteOnce]).
    pub access_modes: Option<Vec<String>>,
    /// Use a PersistentVolumeClaim of this name instead of a StatefulSet
    /// volume claim template; kgen creates it unless `existingClaim` is set.
    pub claim: Option<String>,
    /// The claim named `claim` exists already; kgen only mounts it.
    pub existing_claim: Option<bool>,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum StorageProvider {
    AwsGp3,
    AwsIo2,
    GcpPdSsd,
    GcpPdBalanced,
    AzurePremium,
    AzureStandard,
    Kind,
    Minikube,
}

/// A scheduled backup.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Backup {
    /// Set false to turn a backup defined in the base off in an environment.
    pub enabled: Option<bool>,
    /// Cron schedule as a Kubernetes CronJob takes it (default `0 2 * * *`,
    /// daily at 02:00): minute (0-59), hour (0-23), day of month (1-31),
    /// month (1-12 or JAN-DEC), day of week (0-6 or SUN-SAT); `*`, lists,
    /// ranges and `/step`; or a macro such as `@daily`.
    pub schedule: Option<String>,
    /// Time zone of the schedule, e.g. Europe/Berlin (default: the
    /// controller's, usually UTC).
    pub time_zone: Option<String>,
    /// Days to keep backups (default 7). Older copies are removed before
    /// each new one is written.
    pub retention_days: Option<u32>,
    /// Where copies are kept (a PersistentVolumeClaim `<name>-backup`;
    /// default: the database's class, and room for every copy the schedule
    /// keeps within `retentionDays`, each as large as the data volume).
    pub storage: Option<Storage>,
    /// How long one backup may run, in seconds (default: 2 minutes per GiB
    /// of data, at least an hour).
    pub active_deadline_seconds: Option<i64>,
    /// Requests and limits of the backup container, or a preset (default
    /// 100m/128Mi requested, 1 CPU/512Mi limit).
    pub resources: Option<Resources>,
    /// Image with the backup tool (SQLite: an image with sqlite3 and a
    /// shell; PostgreSQL: the server image, which has pg_dump).
    pub image: Option<String>,
    /// Operator mode: the Barman Cloud Plugin ObjectStore to back up to
    /// (it holds the bucket and its credentials).
    pub object_store: Option<String>,
}

/// A Redis cache (no persistence, bounded memory).
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Cache {
    /// Set false to turn the cache off in an environment.
    pub enabled: Option<bool>,
    /// Name of its Deployment and Service (default `<app>-redis`).
    pub name: Option<String>,
    /// Image (default redis:7.4-alpine).
    pub image: Option<String>,
    /// Memory cap for keys, e.g. 200mb (default: 75% of the memory limit).
    pub max_memory: Option<String>,
    /// Eviction policy (default allkeys-lru).
    pub max_memory_policy: Option<String>,
    /// Requests and limits, or a preset (default micro).
    pub resources: Option<Resources>,
    /// Secret and key with the password (`requirepass`); mounted as a file,
    /// never on a command line. Default: `<name>-credentials`, key
    /// `password`, which kgen's credentials Job creates with a random
    /// password when it does not exist.
    pub password: Option<SecretKeyRef>,
    /// Environment variable with the cache URL for the app (default
    /// REDIS_URL; `<PREFIX>_HOST`, `_PORT` and `_PASSWORD` come beside it).
    pub env: Option<String>,
    /// Keep the keys across restarts, for Redis as a store (sessions,
    /// queues) rather than a cache: every write is appended to a file on a
    /// PersistentVolumeClaim `<name>-data`, and the eviction policy defaults
    /// to volatile-lru (only keys with an expiry are evicted). `{}` turns it
    /// on.
    pub persistence: Option<CachePersistence>,
}

/// Redis persistence: an append-only file on a claim.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct CachePersistence {
    /// Set false to turn persistence defined in the base off in an
    /// environment.
    pub enabled: Option<bool>,
    /// The claim (default: four times `maxMemory`, at least 1Gi, which
    /// leaves room for the file's rewrites).
    pub storage: Option<Storage>,
}

/// How database migrations run.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Migrations {
    /// job (a Job per image and command), initContainer (before every pod
    /// starts), auto (the app migrates itself on start) or none (default).
    pub strategy: Option<MigrationStrategy>,
    /// The migration command (job and initContainer).
    pub command: Option<Vec<String>>,
    /// Arguments of the command.
    pub args: Option<Vec<String>>,
    /// Image (default: the component's image).
    pub image: Option<String>,
    /// The component whose image, settings and secrets the migration uses
    /// (default: the first).
    pub component: Option<String>,
    /// The database to wait for (default: the component's first).
    pub database: Option<String>,
    /// Variable that tells the app whether to migrate on start ("true" for
    /// auto, "false" otherwise; default DB_AUTO_MIGRATE, `""` for none).
    pub auto_migrate_env: Option<String>,
    /// Retries of a failed migration Job (default 3).
    pub backoff_limit: Option<i32>,
    /// Seconds a migration may run (default 600).
    pub active_deadline_seconds: Option<i64>,
    /// Seconds a finished Job is kept (default 3600).
    pub ttl_seconds_after_finished: Option<i32>,
    /// Requests and limits (default nano).
    pub resources: Option<Resources>,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum MigrationStrategy {
    Job,
    InitContainer,
    Auto,
    None,
}
