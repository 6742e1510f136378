//! Databases: PostgreSQL or TimescaleDB in a StatefulSet of kgen's
//! (headless Service, init scripts, credentials as files), CloudNativePG
//! Clusters, named claims, StorageClasses of storage presets, and the
//! backup CronJobs with their claims.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetSpec, StatefulSetUpdateStrategy};
use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{
    Affinity, ConfigMap, ConfigMapVolumeSource, Container, ContainerPort, EmptyDirVolumeSource, EnvFromSource, EnvVar,
    ExecAction, KeyToPath, PersistentVolumeClaim, PersistentVolumeClaimVolumeSource, PodAffinity, PodAffinityTerm,
    PodSpec, PodTemplateSpec, Probe, SecretEnvSource, SecretVolumeSource, ServiceAccount, Volume, VolumeMount,
};
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::lifecycle::{self, InstallPhase};
use super::workload::{
    claim_spec, claim_template, hardened_container, headless_service, pod_security_context, pull_secrets, resources,
    retain_claims,
};
use super::{label_selector, labels, meta, selector_labels, support_pod_labels};
use crate::crd::cnpg;
use crate::model::{
    App, ArchiveAuth, Backup, Database, DatabaseKind, EXPORTER_PORT, EXPORTER_PORT_NAME, Operator, Postgres, Sqlite,
    naming,
};
use crate::object::Object;

pub fn render(app: &App, out: &mut Vec<Object>) {
    for class in &app.storage_classes {
        out.push(storage_class(app, class).into());
    }
    for db in &app.databases {
        match &db.kind {
            DatabaseKind::InCluster(p) => in_cluster(app, db, p, out),
            DatabaseKind::Operator(o) => operator(app, db, o, out),
            DatabaseKind::Sqlite(s) => {
                if let Some(b) = &s.backup {
                    sqlite_backup(app, s, b, out);
                }
            }
            DatabaseKind::Managed(_) => {}
        }
    }
}

/// Metadata of a database's server objects: applied in the database wave.
fn database_meta(app: &App, name: &str, component: &str) -> ObjectMeta {
    let mut m = meta(app, name, Some(component));
    lifecycle::tag(&mut m, InstallPhase::Database);
    m
}

fn storage_class(app: &App, c: &crate::model::StorageClass) -> StorageClass {
    StorageClass {
        metadata: ObjectMeta { name: Some(c.name.clone()), labels: Some(labels(app, None)), ..Default::default() },
        provisioner: c.provisioner.to_string(),
        parameters: Some(c.parameters.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()),
        reclaim_policy: Some("Retain".into()),
        allow_volume_expansion: Some(true),
        volume_binding_mode: Some("WaitForFirstConsumer".into()),
        ..Default::default()
    }
}

/// A standalone claim (a database's named claim, a backup's claim).
fn claim(app: &App, name: &str, component: &str, storage: &crate::model::StorageRequest) -> PersistentVolumeClaim {
    PersistentVolumeClaim {
        metadata: meta(app, name, Some(component)),
        spec: Some(claim_spec(storage)),
        ..Default::default()
    }
}

/// Where the image keeps its data: PostgreSQL 18 images mount the parent
/// directory and keep PGDATA in a versioned subdirectory; older ones use
/// `/var/lib/postgresql/data`, where PGDATA must be a subdirectory (a fresh
/// volume's root holds `lost+found`).
fn data_layout(major: u32) -> (&'static str, String) {
    if major >= 18 {
        ("/var/lib/postgresql", format!("/var/lib/postgresql/{major}/docker"))
    } else {
        ("/var/lib/postgresql/data", "/var/lib/postgresql/data/pgdata".to_string())
    }
}

/// What a probe of the server asks of `pg_isready`.
#[derive(Clone, Copy)]
enum ServerCheck {
    /// The server accepts connections (readiness).
    Accepting,
    /// The server answers, even if only to say it is starting or recovering
    /// (`pg_isready` exit 1): a server in crash recovery must not be killed
    /// for rejecting connections, or it starts its recovery over (startup
    /// and liveness).
    Answering,
}

fn pg_isready(
    p: &Postgres,
    check: ServerCheck,
    initial_delay: Option<i32>,
    period: i32,
    timeout: i32,
    failures: i32,
) -> Probe {
    // Over TCP, as clients connect: the image's set-up server, which runs the
    // init scripts, listens on the socket only and must not count.
    let command = match check {
        ServerCheck::Accepting => vec![
            "pg_isready".into(),
            "--host=127.0.0.1".into(),
            "--username".into(),
            p.user.clone(),
            "--dbname".into(),
            p.database.clone(),
        ],
        ServerCheck::Answering => vec![
            "sh".into(),
            "-c".into(),
            format!(
                "pg_isready --host=127.0.0.1 --username={} --dbname={}; [ $? -le 1 ]",
                crate::templates::shell_quote(p.user.clone()),
                crate::templates::shell_quote(p.database.clone())
            ),
        ],
    };
    Probe {
        exec: Some(ExecAction { command: Some(command) }),
        initial_delay_seconds: initial_delay,
        period_seconds: Some(period),
        timeout_seconds: Some(timeout),
        failure_threshold: Some(failures),
        ..Default::default()
    }
}

fn empty_dir(name: &str) -> Volume {
    Volume { name: name.into(), empty_dir: Some(EmptyDirVolumeSource::default()), ..Default::default() }
}

fn mount(name: &str, path: &str, read_only: bool) -> VolumeMount {
    VolumeMount {
        name: name.into(),
        mount_path: path.into(),
        read_only: read_only.then_some(true),
        ..Default::default()
    }
}

/// The password Secret mounted as a file named `password`, readable by the
/// pod's group only.
fn password_volume(p: &Postgres) -> Volume {
    Volume {
        name: "credentials".into(),
        secret: Some(SecretVolumeSource {
            secret_name: Some(p.password_secret.clone()),
            items: Some(vec![KeyToPath { key: p.password_key.clone(), path: "password".into(), mode: None }]),
            default_mode: Some(0o440),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn in_cluster(app: &App, db: &Database, p: &Postgres, out: &mut Vec<Object>) {
    let (mount_path, pgdata) = data_layout(p.major);
    let env = |name: &str, value: &str| EnvVar { name: name.into(), value: Some(value.into()), value_from: None };
    let mut container = hardened_container(app, "postgres", &p.image);
    container.args = Some(p.parameters.iter().flat_map(|(k, v)| ["-c".to_string(), format!("{k}={v}")]).collect());
    container.env = Some(vec![
        env("POSTGRES_DB", &p.database),
        env("POSTGRES_USER", &p.user),
        env("POSTGRES_PASSWORD_FILE", "/run/secrets/postgres/password"),
        env("PGDATA", &pgdata),
    ]);
    container.ports = Some(vec![ContainerPort {
        name: Some("postgresql".into()),
        container_port: 5432,
        protocol: Some("TCP".into()),
        ..Default::default()
    }]);
    // Seed 003's probe timings; the startup probe covers initdb (until the
    // server first answers), liveness tolerates crash recovery.
    container.liveness_probe = Some(pg_isready(p, ServerCheck::Answering, Some(30), 10, 5, 3));
    container.readiness_probe = Some(pg_isready(p, ServerCheck::Accepting, Some(10), 5, 3, 3));
    container.startup_probe = Some(pg_isready(p, ServerCheck::Answering, None, 5, 5, 60));
    container.resources = Some(resources(&p.resources));
    let mut mounts = vec![
        mount("data", mount_path, false),
        mount("credentials", "/run/secrets/postgres", true),
        mount("run", "/var/run/postgresql", false),
        mount("tmp", "/tmp", false),
        mount("dshm", "/dev/shm", false),
    ];
    let mut volumes = vec![
        password_volume(p),
        empty_dir("run"),
        empty_dir("tmp"),
        Volume {
            name: "dshm".into(),
            empty_dir: Some(EmptyDirVolumeSource {
                medium: Some("Memory".into()),
                size_limit: Some(Quantity("128Mi".into())),
            }),
            ..Default::default()
        },
    ];
    if !p.init_scripts.is_empty() {
        let init_name = naming::init_scripts(&p.name);
        out.push(
            ConfigMap {
                metadata: meta(app, &init_name, Some(&db.key)),
                data: Some(p.init_scripts.iter().cloned().collect()),
                ..Default::default()
            }
            .into(),
        );
        mounts.push(mount("init", "/docker-entrypoint-initdb.d", true));
        volumes.push(Volume {
            name: "init".into(),
            config_map: Some(ConfigMapVolumeSource {
                name: init_name,
                default_mode: Some(0o444),
                ..Default::default()
            }),
            ..Default::default()
        });
    }
    container.volume_mounts = Some(mounts);
    let mut service_account = None;
    match p.wal_archive.as_ref().map(|w| &w.auth) {
        Some(ArchiveAuth::Secret(secret)) => {
            container.env_from = Some(vec![EnvFromSource {
                secret_ref: Some(SecretEnvSource { name: secret.clone(), optional: None }),
                ..Default::default()
            }]);
        }
        Some(ArchiveAuth::ServiceAccount(annotations)) => {
            let mut metadata = meta(app, &p.name, Some(&db.key));
            metadata.annotations = Some(annotations.clone());
            out.push(
                ServiceAccount { metadata, automount_service_account_token: Some(false), ..Default::default() }.into(),
            );
            service_account = Some(p.name.clone());
        }
        None => {}
    }
    let mut containers = vec![container];
    let mut service_ports = vec![("postgresql".to_string(), 5432)];
    if let Some(exporter) = &p.exporter {
        containers.push(super::monitoring::postgres_exporter(app, p, &exporter.image, "/run/secrets/postgres"));
        service_ports.push((EXPORTER_PORT_NAME.to_string(), EXPORTER_PORT));
    }
    let claim_templates = match &p.claim {
        Some(name) => {
            if p.create_claim {
                out.push(claim(app, name, &db.key, &p.storage).into());
            }
            volumes.push(Volume {
                name: "data".into(),
                persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                    claim_name: name.clone(),
                    read_only: None,
                }),
                ..Default::default()
            });
            None
        }
        None => Some(vec![claim_template(app, &db.key, &p.storage)]),
    };
    let mut security = pod_security_context(app);
    security.fs_group_change_policy = Some("OnRootMismatch".into());
    out.push(
        StatefulSet {
            metadata: database_meta(app, &p.name, &db.key),
            spec: Some(StatefulSetSpec {
                replicas: Some(1),
                service_name: Some(p.name.clone()),
                selector: label_selector(selector_labels(app, &db.key)),
                update_strategy: Some(StatefulSetUpdateStrategy {
                    type_: Some("RollingUpdate".into()),
                    rolling_update: None,
                }),
                persistent_volume_claim_retention_policy: Some(retain_claims()),
                template: PodTemplateSpec {
                    metadata: Some(ObjectMeta { labels: Some(support_pod_labels(app, &db.key)), ..Default::default() }),
                    spec: Some(PodSpec {
                        service_account_name: service_account,
                        automount_service_account_token: Some(false),
                        security_context: Some(security),
                        image_pull_secrets: pull_secrets(app),
                        termination_grace_period_seconds: Some(60),
                        containers,
                        volumes: Some(volumes),
                        ..Default::default()
                    }),
                },
                volume_claim_templates: claim_templates,
                ..Default::default()
            }),
            ..Default::default()
        }
        .into(),
    );
    let mut service = headless_service(app, &p.name, &db.key, &service_ports);
    lifecycle::tag(&mut service.metadata, InstallPhase::Database);
    out.push(service.into());
    if let Some(b) = &p.backup {
        postgres_backup(app, db, p, b, out);
    }
}

fn operator(app: &App, db: &Database, o: &Operator, out: &mut Vec<Object>) {
    let plugins = o
        .backup
        .iter()
        .map(|b| cnpg::PluginConfiguration {
            name: cnpg::BARMAN_PLUGIN.into(),
            is_wal_archiver: Some(true),
            parameters: BTreeMap::from([("barmanObjectName".to_string(), b.object_store.clone())]),
        })
        .collect();
    let spec = cnpg::ClusterSpec {
        instances: o.instances,
        image_name: o.image.clone(),
        postgresql: cnpg::PostgresConfiguration {
            parameters: o.parameters.iter().cloned().collect(),
            shared_preload_libraries: o.shared_preload_libraries.clone(),
        },
        bootstrap: cnpg::Bootstrap {
            initdb: cnpg::InitDb {
                database: o.database.clone(),
                owner: o.user.clone(),
                post_init_application_sql: o.init_sql.clone(),
            },
        },
        storage: cnpg::StorageConfiguration { size: o.storage.size.clone(), storage_class: o.storage.class.clone() },
        resources: Some(resources(&o.resources)),
        plugins,
        enable_superuser_access: Some(false),
    };
    out.push(cnpg::Cluster::new(database_meta(app, &o.name, &db.key), spec).into());
    if let Some(b) = &o.backup {
        let spec = cnpg::ScheduledBackupSpec {
            schedule: b.schedule.clone(),
            cluster: cnpg::LocalObjectReference { name: app.name_in_text("Cluster", &o.name) },
            method: "plugin".into(),
            plugin_configuration: cnpg::PluginReference { name: cnpg::BARMAN_PLUGIN.into() },
            backup_owner_reference: "self".into(),
        };
        out.push(cnpg::ScheduledBackup::new(meta(app, &naming::scheduled_backup(&o.name), Some(&db.key)), spec).into());
    }
}

/// A backup CronJob: hardened, one run at a time, writing to its own claim,
/// with a deadline that grows with the data.
fn backup_cron_job(app: &App, b: &Backup, component: &str, pod: PodSpec, container: Container) -> CronJob {
    let backup_component = naming::backup_component(component);
    let mut cron_job = cron_job(app, &b.name, &backup_component, pod, container);
    let spec = cron_job.spec.as_mut().expect("built above");
    spec.schedule = b.schedule.clone();
    spec.time_zone = b.time_zone.clone();
    if let Some(job) = spec.job_template.spec.as_mut() {
        job.active_deadline_seconds = Some(b.active_deadline_seconds);
    }
    cron_job
}

/// The restore path of a backup: a suspended CronJob (it never runs on its
/// own) to start by hand, `kubectl create job --from=cronjob/<name>`; it
/// restores `BACKUP_FILE` or the newest copy.
fn restore_cron_job(app: &App, b: &Backup, component: &str, pod: PodSpec, container: Container) -> CronJob {
    let mut cron_job = cron_job(app, &b.restore_name, &naming::restore_component(component), pod, container);
    let spec = cron_job.spec.as_mut().expect("built above");
    spec.suspend = Some(true);
    // A schedule is required; suspended, it is never used.
    spec.schedule = b.schedule.clone();
    if let Some(job) = spec.job_template.spec.as_mut() {
        job.active_deadline_seconds = Some(b.active_deadline_seconds);
        job.backoff_limit = Some(0);
    }
    cron_job
}

fn cron_job(app: &App, name: &str, component: &str, mut pod: PodSpec, container: Container) -> CronJob {
    pod.containers = vec![container];
    pod.restart_policy = Some("Never".into());
    pod.automount_service_account_token = Some(false);
    pod.security_context = Some(pod_security_context(app));
    pod.image_pull_secrets = pull_secrets(app);
    CronJob {
        metadata: meta(app, name, Some(component)),
        spec: Some(CronJobSpec {
            concurrency_policy: Some("Forbid".into()),
            starting_deadline_seconds: Some(3600),
            successful_jobs_history_limit: Some(3),
            failed_jobs_history_limit: Some(1),
            job_template: JobTemplateSpec {
                metadata: None,
                spec: Some(JobSpec {
                    backoff_limit: Some(2),
                    ttl_seconds_after_finished: Some(86400),
                    template: PodTemplateSpec {
                        metadata: Some(ObjectMeta {
                            labels: Some(support_pod_labels(app, component)),
                            ..Default::default()
                        }),
                        spec: Some(pod),
                    },
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn backup_volume(b: &Backup) -> Volume {
    Volume {
        name: "backup".into(),
        persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
            claim_name: b.name.clone(),
            read_only: None,
        }),
        ..Default::default()
    }
}

/// The room-making part of every backup script (partial copies, retention,
/// a clear failure when the next copy would not fit).
fn backup_context(app: &App, b: &Backup, prefix: &str, extension: &str) -> minijinja::Value {
    minijinja::context! {
        prefix => prefix,
        extension => extension,
        retention_days => b.retention_days,
        claim => app.name_in_text("PersistentVolumeClaim", &b.name),
    }
}

/// `VACUUM INTO` a dated copy, on the node of the app's pod (the data claim
/// is ReadWriteOnce); its restore replaces the file while the app is
/// stopped.
fn sqlite_backup(app: &App, s: &Sqlite, b: &Backup, out: &mut Vec<Object>) {
    let Some(component) = app.component(&s.component) else { return };
    let Some(volume) = &component.sqlite_volume else { return };
    let context = minijinja::context! { db_path => s.path.clone(), ..backup_context(app, b, &component.name, "db") };
    let container = |name: &str, template: &str| {
        let mut c = hardened_container(app, name, &b.image);
        c.command = Some(vec!["sh".into(), "-c".into(), crate::templates::render(template, context.clone())]);
        c.env = Some(vec![EnvVar { name: "SQLITE_TMPDIR".into(), value: Some("/tmp".into()), value_from: None }]);
        c.resources = Some(resources(&b.resources));
        c.volume_mounts = Some(vec![
            mount("data", &volume.mount_path, false),
            mount("backup", "/backup", false),
            mount("tmp", "/tmp", false),
        ]);
        c
    };
    let volumes = vec![
        Volume {
            name: "data".into(),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                // The StatefulSet's claim: `<template>-<StatefulSet>-<ordinal>`.
                claim_name: naming::statefulset_claim(&app.name_in_text("StatefulSet", &component.name), "0"),
                read_only: None,
            }),
            ..Default::default()
        },
        backup_volume(b),
        empty_dir("tmp"),
    ];
    let pod = PodSpec {
        affinity: Some(Affinity {
            pod_affinity: Some(PodAffinity {
                required_during_scheduling_ignored_during_execution: Some(vec![PodAffinityTerm {
                    label_selector: Some(label_selector(selector_labels(app, &component.key))),
                    topology_key: "kubernetes.io/hostname".into(),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        }),
        volumes: Some(volumes.clone()),
        ..Default::default()
    };
    out.push(claim(app, &b.name, &naming::backup_component(&component.key), &b.storage).into());
    out.push(backup_cron_job(app, b, &component.key, pod, container("backup", "backup-sqlite.sh")).into());
    // The app is stopped during a restore: no pod to be beside.
    let restore_pod = PodSpec { volumes: Some(volumes), ..Default::default() };
    out.push(restore_cron_job(app, b, &component.key, restore_pod, container("restore", "restore-sqlite.sh")).into());
}

/// `pg_dump` in the custom format, with the password from a pgpass file;
/// its restore is `pg_restore` of a copy into the running server.
fn postgres_backup(app: &App, db: &Database, p: &Postgres, b: &Backup, out: &mut Vec<Object>) {
    let context = minijinja::context! {
        host => app.name_in_text("Service", &p.name),
        database => p.database.clone(),
        user => p.user.clone(),
        timescaledb => p.engine == "timescaledb",
        ..backup_context(app, b, &p.name, "dump")
    };
    let container = |name: &str, template: &str| {
        let mut c = hardened_container(app, name, &b.image);
        c.command = Some(vec!["sh".into(), "-c".into(), crate::templates::render(template, context.clone())]);
        c.resources = Some(resources(&b.resources));
        c.volume_mounts = Some(vec![
            mount("credentials", "/run/secrets/postgres", true),
            mount("backup", "/backup", false),
            mount("tmp", "/tmp", false),
        ]);
        c
    };
    let pod =
        PodSpec { volumes: Some(vec![password_volume(p), backup_volume(b), empty_dir("tmp")]), ..Default::default() };
    out.push(claim(app, &b.name, &naming::backup_component(&db.key), &b.storage).into());
    out.push(backup_cron_job(app, b, &db.key, pod.clone(), container("backup", "backup-postgres.sh")).into());
    out.push(restore_cron_job(app, b, &db.key, pod, container("restore", "restore-postgres.sh")).into());
}
