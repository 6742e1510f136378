//! The runtime scenarios: for every shipped profile × environment whose
//! data lives in the cluster, what its pods must do when they run. Each
//! test sets up its own cluster from a fresh render (nothing is shared
//! between tests). Environments that differ only in what the node does not
//! read (replicas, resources, storage sizes and classes, autoscaling,
//! ingress, …) are one scenario: `covers` lists them, and
//! `every_environment_with_data_in_the_cluster_has_a_scenario` checks that
//! they render the same pods, and that each scenario has the tests its
//! bundle calls for.
//!
//! Environments whose database is a CloudNativePG `Cluster` (an operator
//! cannot be emulated) or managed outside the cluster have no scenario.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;

use super::bundle::{self, Bundle, Controller, PodSource, SecretValues, Target, percent_encode};
use super::cluster::{Cluster, Options};
use super::images::{AppOptions, Kind};

/// What a scenario tests, one test each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Aspect {
    Databases,
    Exporters,
    Redis,
    App,
    Migrations,
    Backups,
    Restores,
}

impl Aspect {
    /// The test function for an aspect.
    fn test_name(self) -> &'static str {
        match self {
            Aspect::Databases => "databases_start_pass_their_probes_and_keep_their_data_across_a_restart",
            Aspect::Exporters => "exporter_sidecars_report_pg_up",
            Aspect::Redis => "redis_passes_its_probes",
            Aspect::App => "init_containers_finish_and_the_app_connects_with_what_it_is_given",
            Aspect::Migrations => "migrations_reach_the_database",
            Aspect::Backups => "backup_jobs_write_a_backup_to_their_volume",
            Aspect::Restores => "restore_jobs_bring_back_what_the_backup_saved",
        }
    }
}

/// A scenario as declared, for the coverage test.
pub struct Declared {
    pub profile: &'static str,
    pub env: Option<&'static str>,
    /// Other environments of the profile that run the same pods.
    pub covers: &'static [&'static str],
    pub tests: &'static [&'static str],
}

/// `name: profile, env, covers [other envs] => [tests];` → a module `name`
/// with each test run on the scenario's target, and the table `SCENARIOS`.
macro_rules! scenarios {
    ($($name:ident: $profile:literal, $env:expr, covers [$($covered:literal),*] => [$($test:ident),* $(,)?];)*) => {
        $(
            mod $name {
                use super::Target;

                fn target() -> Target {
                    Target { profile: $profile, env: $env }
                }

                $(
                    #[test]
                    fn $test() {
                        if super::super::node_available() {
                            super::$test(target());
                        }
                    }
                )*
            }
        )*

        pub const SCENARIOS: &[Declared] = &[
            $(Declared { profile: $profile, env: $env, covers: &[$($covered),*], tests: &[$(stringify!($test)),*] },)*
        ];
    };
}

scenarios! {
    clockwork_dev: "profiles/clockwork.yaml", Some("dev"), covers [] => [
        databases_start_pass_their_probes_and_keep_their_data_across_a_restart,
        init_containers_finish_and_the_app_connects_with_what_it_is_given,
        migrations_reach_the_database,
    ];
    feaf: "profiles/feaf.yaml", None, covers [] => [
        databases_start_pass_their_probes_and_keep_their_data_across_a_restart,
        init_containers_finish_and_the_app_connects_with_what_it_is_given,
        migrations_reach_the_database,
        backup_jobs_write_a_backup_to_their_volume,
        restore_jobs_bring_back_what_the_backup_saved,
    ];
    peer_fullstack: "benches/profiles/peer-fullstack.yaml", None, covers [] => [
        databases_start_pass_their_probes_and_keep_their_data_across_a_restart,
        redis_passes_its_probes,
        init_containers_finish_and_the_app_connects_with_what_it_is_given,
        migrations_reach_the_database,
    ];
    peer_fullstack_prod: "benches/profiles/peer-fullstack.yaml", Some("prod"), covers [] => [
        databases_start_pass_their_probes_and_keep_their_data_across_a_restart,
        redis_passes_its_probes,
        init_containers_finish_and_the_app_connects_with_what_it_is_given,
        migrations_reach_the_database,
    ];
    platform: "profiles/platform.yaml", None, covers ["aws-io2", "gcp", "azure"] => [
        databases_start_pass_their_probes_and_keep_their_data_across_a_restart,
        exporter_sidecars_report_pg_up,
        init_containers_finish_and_the_app_connects_with_what_it_is_given,
        backup_jobs_write_a_backup_to_their_volume,
        restore_jobs_bring_back_what_the_backup_saved,
    ];
    platform_aws: "profiles/platform.yaml", Some("aws"), covers [] => [
        databases_start_pass_their_probes_and_keep_their_data_across_a_restart,
        exporter_sidecars_report_pg_up,
        init_containers_finish_and_the_app_connects_with_what_it_is_given,
        backup_jobs_write_a_backup_to_their_volume,
        restore_jobs_bring_back_what_the_backup_saved,
    ];
    platform_kind: "profiles/platform.yaml", Some("kind"), covers [] => [
        databases_start_pass_their_probes_and_keep_their_data_across_a_restart,
        exporter_sidecars_report_pg_up,
        init_containers_finish_and_the_app_connects_with_what_it_is_given,
    ];
    timeservice: "profiles/timeservice.yaml", None, covers [] => [
        init_containers_finish_and_the_app_connects_with_what_it_is_given,
        backup_jobs_write_a_backup_to_their_volume,
        restore_jobs_bring_back_what_the_backup_saved,
    ];
    timeservice_dev: "profiles/timeservice.yaml", Some("dev"), covers [] => [
        init_containers_finish_and_the_app_connects_with_what_it_is_given,
    ];
    timeservice_prod: "profiles/timeservice.yaml", Some("prod"), covers [] => [
        init_containers_finish_and_the_app_connects_with_what_it_is_given,
        backup_jobs_write_a_backup_to_their_volume,
        restore_jobs_bring_back_what_the_backup_saved,
    ];
    traversion: "profiles/traversion.yaml", None, covers ["prod", "keda", "gateway"] => [
        databases_start_pass_their_probes_and_keep_their_data_across_a_restart,
        exporter_sidecars_report_pg_up,
        redis_passes_its_probes,
        init_containers_finish_and_the_app_connects_with_what_it_is_given,
        backup_jobs_write_a_backup_to_their_volume,
        restore_jobs_bring_back_what_the_backup_saved,
    ];
    traversion_staging: "profiles/traversion.yaml", Some("staging"), covers [] => [
        databases_start_pass_their_probes_and_keep_their_data_across_a_restart,
        exporter_sidecars_report_pg_up,
        redis_passes_its_probes,
        init_containers_finish_and_the_app_connects_with_what_it_is_given,
        backup_jobs_write_a_backup_to_their_volume,
        restore_jobs_bring_back_what_the_backup_saved,
    ];
}

// ---------------------------------------------------------------------------
// The bundle's workloads, by what they run.

pub(super) fn kind_of(source: &PodSource) -> Kind {
    Kind::of(source.spec().containers[0].image.as_deref().unwrap_or_default())
}

fn is_long_running(source: &PodSource) -> bool {
    matches!(source.controller, Controller::Deployment | Controller::StatefulSet)
}

/// PostgreSQL and TimescaleDB workloads.
pub(super) fn databases(bundle: &Bundle) -> Vec<PodSource> {
    let sources = bundle.pod_sources().into_iter().filter(is_long_running);
    sources.filter(|s| matches!(kind_of(s), Kind::Postgres | Kind::TimescaleDb)).collect()
}

pub(super) fn redis(bundle: &Bundle) -> Vec<PodSource> {
    bundle.pod_sources().into_iter().filter(is_long_running).filter(|s| kind_of(s) == Kind::Redis).collect()
}

/// Workloads running the app's image.
pub(super) fn apps(bundle: &Bundle) -> Vec<PodSource> {
    bundle.pod_sources().into_iter().filter(is_long_running).filter(|s| kind_of(s) == Kind::App).collect()
}

/// Containers of `source` (init containers too) running `kind` images.
pub(super) fn containers_of_kind(source: &PodSource, kind: Kind) -> Vec<String> {
    let spec = source.spec();
    let all = spec.init_containers.iter().flatten().chain(&spec.containers);
    all.filter(|c| Kind::of(c.image.as_deref().unwrap_or_default()) == kind).map(|c| c.name.clone()).collect()
}

/// Migration Jobs: Jobs running the app's image.
fn migration_jobs(bundle: &Bundle) -> Vec<PodSource> {
    let jobs = bundle.pod_sources().into_iter().filter(|s| s.controller == Controller::Job);
    jobs.filter(|s| !containers_of_kind(s, Kind::App).is_empty()).collect()
}

/// Scheduled CronJobs: backups.
pub(super) fn backup_jobs(bundle: &Bundle) -> Vec<PodSource> {
    let cronjobs = bundle.pod_sources().into_iter().filter(|s| s.controller == Controller::CronJob);
    cronjobs.filter(|s| !s.suspended).collect()
}

/// Suspended CronJobs, run by hand: restores.
fn restore_jobs(bundle: &Bundle) -> Vec<PodSource> {
    let cronjobs = bundle.pod_sources().into_iter().filter(|s| s.controller == Controller::CronJob);
    cronjobs.filter(|s| s.suspended).collect()
}

/// The workload whose data a backup or restore CronJob handles: kgen names
/// them `<workload>-backup` and `<workload>-restore`.
pub(super) fn workload_of_job(bundle: &Bundle, job: &PodSource) -> PodSource {
    let base = job.name.strip_suffix("-backup").or_else(|| job.name.strip_suffix("-restore"));
    let found = base.and_then(|b| bundle.pod_sources().into_iter().find(|s| s.name == b && is_long_running(s)));
    found.unwrap_or_else(|| panic!("{}: cannot tell whose data {} handles", bundle.target, job.describe()))
}

/// Start every database and Redis and wait until they are ready.
pub(super) fn start_data_services(cluster: &mut Cluster) {
    let bundle = &cluster.bundle;
    let names: Vec<String> = databases(bundle).iter().chain(&redis(bundle)).map(|s| s.name.clone()).collect();
    for name in &names {
        cluster.start(name);
    }
    for name in &names {
        cluster.wait_ready(name);
    }
}

/// The user and database the postgres container was set up with.
fn database_login(cluster: &Cluster, workload: &str) -> (String, String) {
    let env = cluster.pod(workload).env("postgres");
    let user = env.get("POSTGRES_USER").cloned().unwrap_or_else(|| "postgres".into());
    let database = env.get("POSTGRES_DB").cloned().unwrap_or_else(|| user.clone());
    (user, database)
}

/// `psql` in the database's container, over its unix socket, like
/// `kubectl exec`; the query's output, or a panic with psql's.
pub(super) fn query(cluster: &Cluster, workload: &str, sql: &str) -> String {
    let (user, database) = database_login(cluster, workload);
    let argv =
        ["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "--username", &user, "--dbname", &database, "-c", sql];
    let finished = cluster.exec(workload, "postgres", &argv);
    assert!(
        finished.success(),
        "{}: kubectl exec {workload} -c postgres -- psql … -c {sql:?}: {}\n{}",
        cluster.bundle.target,
        finished.describe(Duration::from_secs(30)),
        finished.output
    );
    finished.output.trim().to_string()
}

// ---------------------------------------------------------------------------
// The tests.

pub(super) fn options_for(target: &Target) -> Options {
    let mut options = Options::default();
    if target.profile.ends_with("feaf.yaml") && target.env.is_none() {
        // The user creates feaf-secrets with the password and the URL; a
        // correct URL percent-encodes the password (the profile's comment:
        // postgresql://feaf_user:PASSWORD@feaf-postgres:5432/feaf).
        let password = SecretValues::default().value("feaf-secrets", "POSTGRES_PASSWORD");
        let url = format!("postgresql://feaf_user:{}@feaf-postgres:5432/feaf", percent_encode(&password));
        options.secrets = SecretValues::default().set("feaf-secrets", "DATABASE_URL", url);
        // The backend runs `prisma migrate deploy` itself on start.
        options.app = AppOptions { always_migrate_on_start: true };
    }
    if target.profile.ends_with("traversion.yaml") {
        // The profile names its database Secret: a user may have created it,
        // with whatever password, before the first apply (kgen's credentials
        // Job then keeps it). Elsewhere the Job generates every password.
        options.secrets_exist_beforehand = true;
    }
    options
}

/// kgen's credentials Job, run when the bundle is applied, creates each
/// Secret it owns with random URL-safe values through the API (as its
/// ServiceAccount, over TLS); run again (a re-apply, an upgrade), it keeps
/// every value; it never reads a Secret.
#[test]
fn the_credentials_job_creates_what_is_missing_once_and_keeps_it() {
    if !super::node_available() {
        return;
    }
    let target = Target { profile: "profiles/clockwork.yaml", env: Some("dev") };
    let mut cluster = Cluster::new(target.clone());
    let [setup] = &cluster.setup[..] else { panic!("{target}: expected one setup Job, ran {}", cluster.setup.len()) };
    let job = setup.label.clone();
    let created = cluster.api().secrets();
    assert!(!created.is_empty(), "{job}: created no Secret; its output:\n{}", setup.output("create"));
    for (name, data) in &created {
        assert!(
            setup.output("create").contains(&format!("created Secret {name}")),
            "{job}: {}",
            setup.output("create")
        );
        for (key, value) in data {
            let value = String::from_utf8_lossy(value);
            assert!(
                value.len() == 32 && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
                "{job}: Secret {name} key {key} is not 32 URL-safe characters"
            );
        }
    }
    let again = cluster.run_job(&setup_job_name(&cluster));
    again.assert_succeeded();
    assert_eq!(cluster.api().secrets(), created, "{job}: a second run changed a Secret");
    for name in created.keys() {
        assert!(again.output("create").contains(&format!("Secret {name} exists: kept")), "{}", again.output("create"));
    }
    let requests = cluster.api().requests();
    assert!(
        requests.iter().all(|r| r.starts_with("POST ") && r.ends_with("/clockwork-credentials)")),
        "{job}: requests other than creates by its account:\n{}",
        requests.join("\n")
    );
    // The database initialises with the generated password and the app
    // connects with it.
    start_data_services(&mut cluster);
    for source in apps(&cluster.bundle) {
        cluster.start_ready(&source.name);
    }
}

fn setup_job_name(cluster: &Cluster) -> String {
    let jobs = cluster.bundle.pod_sources().into_iter().filter(|s| s.controller == Controller::Job);
    jobs.filter(|s| kind_of(s) == Kind::Curl).map(|s| s.name).next().expect("a credentials Job")
}

/// Each database starts with the rendered arguments and init scripts,
/// passes its startup and readiness probes, then its liveness probe; a row
/// written before a restart is there after it (the claim persists).
fn databases_start_pass_their_probes_and_keep_their_data_across_a_restart(target: Target) {
    let mut cluster = Cluster::with(target.clone(), options_for(&target));
    let names: Vec<String> = databases(&cluster.bundle).iter().map(|s| s.name.clone()).collect();
    assert!(!names.is_empty(), "{target}: no database workload");
    for name in &names {
        cluster.start(name);
    }
    for name in &names {
        cluster.wait_ready(name);
        cluster.check_liveness(name);
        query(
            &cluster,
            name,
            "create table kgen_runtime_restart (note text); insert into kgen_runtime_restart values ('before')",
        );
    }
    for name in &names {
        cluster.stop(name);
        cluster.start_ready(name);
        let rows = query(&cluster, name, "select note from kgen_runtime_restart");
        assert_eq!(rows, "before", "{target}: {name} lost its data across a restart");
        cluster.check_liveness(name);
    }
}

/// Each postgres_exporter sidecar serves /metrics with `pg_up 1`.
fn exporter_sidecars_report_pg_up(target: Target) {
    let mut cluster = Cluster::with(target.clone(), options_for(&target));
    let with_exporter: Vec<PodSource> = databases(&cluster.bundle)
        .into_iter()
        .filter(|s| !containers_of_kind(s, Kind::PostgresExporter).is_empty())
        .collect();
    assert!(!with_exporter.is_empty(), "{target}: no database with an exporter sidecar");
    for source in &with_exporter {
        cluster.start_ready(&source.name);
    }
    for source in &with_exporter {
        for container in containers_of_kind(source, Kind::PostgresExporter) {
            scrape_until_pg_up(&cluster, source, &container);
        }
    }
}

/// Scrape an exporter like Prometheus does, every second, until `pg_up 1`
/// (bounded): right after the pod is ready the server may still be
/// finishing its start.
fn scrape_until_pg_up(cluster: &Cluster, source: &PodSource, container: &str) {
    const SCRAPES: usize = 15;
    let pod = cluster.pod(&source.name);
    let port = pod.container(container).ports.iter().flatten().next().map_or(9187, |p| p.container_port);
    let url = format!("http://{}:{port}/metrics", pod.ip);
    let mut last = String::new();
    for _ in 0..SCRAPES {
        let fetched = cluster.fetch_from(&source.name, &url);
        if fetched.success() {
            let pg_up: Vec<&str> = fetched.output.lines().filter(|l| l.starts_with("pg_up")).collect();
            if pg_up.iter().any(|l| l.trim_end().ends_with(" 1")) {
                return;
            }
            last = format!("it says {pg_up:?}");
        } else {
            last = format!("GET {url} failed: {}", fetched.output.trim());
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    panic!(
        "{}: exporter `{container}` did not report pg_up 1 in {SCRAPES} scrapes, a second apart ({last}); its output:\n{}",
        pod.label,
        super::process::tail(&pod.logs(container), 15)
    );
}

/// Redis starts with the rendered configuration and passes its readiness
/// (exec) and liveness probes.
fn redis_passes_its_probes(target: Target) {
    let mut cluster = Cluster::with(target.clone(), options_for(&target));
    let names: Vec<String> = redis(&cluster.bundle).iter().map(|s| s.name.clone()).collect();
    assert!(!names.is_empty(), "{target}: no Redis workload");
    for name in &names {
        cluster.start_ready(name);
        cluster.check_liveness(name);
    }
}

/// With the databases and Redis ready, every app workload's init containers
/// finish (the `wait-for-*` ones included), and the app stand-in connects
/// with every PostgreSQL and Redis URL it is given and writes to its SQLite
/// database, then passes its probes.
fn init_containers_finish_and_the_app_connects_with_what_it_is_given(target: Target) {
    let mut cluster = Cluster::with(target.clone(), options_for(&target));
    start_data_services(&mut cluster);
    let apps = apps(&cluster.bundle);
    assert!(!apps.is_empty(), "{target}: no app workload");
    for source in &apps {
        cluster.start(&source.name);
        cluster.wait_ready(&source.name);
        cluster.check_liveness(&source.name);
    }
    for source in &apps {
        let pod = cluster.pod(&source.name);
        for container in containers_of_kind(source, Kind::App) {
            if !pod.container_names().contains(&container) {
                continue; // an init container (it finished: checked above)
            }
            let logs = pod.logs(&container);
            let env = pod.env(&container);
            for prefix in postgres_part_prefixes(env) {
                let expected = format!("kgen-stand-in: ok postgres-parts {prefix}_* ");
                assert!(
                    logs.contains(&expected),
                    "{}: the app `{container}` did not connect with {prefix}_HOST, _PORT, …; its output:\n{}",
                    pod.label,
                    super::process::tail(&logs, 20)
                );
            }
            for (name, value) in env {
                let expected = if value.starts_with("postgres://") || value.starts_with("postgresql://") {
                    format!("kgen-stand-in: ok postgres {name} ")
                } else if value.starts_with("redis://") || value.starts_with("rediss://") {
                    format!("kgen-stand-in: ok redis {name} ")
                } else if name == "DB_PATH" {
                    format!("kgen-stand-in: ok sqlite DB_PATH {value}")
                } else {
                    continue;
                };
                assert!(
                    logs.contains(&expected),
                    "{}: the app `{container}` did not connect with {name}; its output:\n{}",
                    pod.label,
                    super::process::tail(&logs, 20)
                );
            }
        }
    }
}

/// Prefixes P with P_HOST, P_PORT, P_USER and P_NAME (or _DATABASE, _DB):
/// PostgreSQL connection parts (the app stand-in's rule).
fn postgres_part_prefixes(env: &std::collections::BTreeMap<String, String>) -> Vec<String> {
    let set = |name: String| env.get(&name).is_some_and(|v| !v.is_empty());
    env.keys()
        .filter_map(|k| k.strip_suffix("_HOST"))
        .filter(|p| set(format!("{p}_PORT")) && set(format!("{p}_USER")))
        .filter(|p| ["NAME", "DATABASE", "DB"].iter().any(|s| set(format!("{p}_{s}"))))
        .map(str::to_string)
        .collect()
}

/// Whatever the bundle's migration strategy (a Job, an init container of
/// the app, or the app itself with DB_AUTO_MIGRATE), the migration reaches
/// the database: the stand-in's table is there afterwards.
fn migrations_reach_the_database(target: Target) {
    let mut cluster = Cluster::with(target.clone(), options_for(&target));
    start_data_services(&mut cluster);
    let jobs = migration_jobs(&cluster.bundle);
    if jobs.is_empty() {
        // An init container or the app itself migrates.
        for source in apps(&cluster.bundle) {
            cluster.start(&source.name);
            cluster.wait_ready(&source.name);
        }
    }
    for job in &jobs {
        let run = cluster.run_job(&job.name);
        run.assert_succeeded();
    }
    let mut reached = vec![];
    for source in databases(&cluster.bundle) {
        let exists = query(
            &cluster,
            &source.name,
            "select count(*) from pg_tables where tablename = 'kgen_stand_in_migrations'",
        );
        if exists == "1" {
            reached.push(source.name.clone());
        }
    }
    assert!(
        !reached.is_empty(),
        "{target}: no database has the migration's table after the migration ({})",
        if jobs.is_empty() {
            "by the app or its init containers".to_string()
        } else {
            format!("Jobs {:?}", jobs.iter().map(|j| &j.name).collect::<Vec<_>>())
        }
    );
}

/// Each backup CronJob's job, run once with its databases up, succeeds and
/// leaves a new, readable backup on its volume: a pg_dump archive that
/// pg_restore lists, or an SQLite database with the app's rows.
fn backup_jobs_write_a_backup_to_their_volume(target: Target) {
    let mut cluster = Cluster::with(target.clone(), options_for(&target));
    start_data_services(&mut cluster);
    // An SQLite app's data lives in its own pod: start it so that there is
    // something to back up.
    let sqlite_apps: Vec<String> =
        apps(&cluster.bundle).into_iter().filter(|s| !s.claim_templates.is_empty()).map(|s| s.name).collect();
    for name in &sqlite_apps {
        cluster.start(name);
        cluster.wait_ready(name);
    }
    let jobs = backup_jobs(&cluster.bundle);
    assert!(!jobs.is_empty(), "{target}: no backup CronJob");
    for job in &jobs {
        let claims = job_claims(job);
        let before: BTreeSet<String> = claims.iter().flat_map(|c| files(&cluster.claim_path(c))).collect();
        let run = cluster.run_job(&job.name);
        run.assert_succeeded();
        let new: Vec<(String, String)> = claims
            .iter()
            .flat_map(|c| files(&cluster.claim_path(c)).into_iter().map(move |f| (c.clone(), f)))
            .filter(|(_, f)| !before.contains(f))
            .collect();
        let outputs: Vec<&str> = run.containers.iter().map(|(name, _)| run.output(name)).collect();
        assert!(
            !new.is_empty(),
            "{}: the job succeeded but wrote no file to its volumes {claims:?}; its output:\n{}",
            run.label,
            outputs.join("\n")
        );
        for (claim, file) in &new {
            check_backup_file(&cluster.claim_path(claim).join(file), &run.label);
        }
    }
}

/// The claims a job's pod mounts.
pub(super) fn job_claims(job: &PodSource) -> Vec<String> {
    let volumes = job.spec().volumes.iter().flatten();
    volumes.filter_map(|v| v.persistent_volume_claim.as_ref()).map(|c| c.claim_name.clone()).collect()
}

/// Regular files in a directory, recursively, relative to it.
pub(super) fn files(dir: &std::path::Path) -> Vec<String> {
    let mut out = vec![];
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.is_file() {
                out.push(path.strip_prefix(dir).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    out
}

fn check_backup_file(path: &std::path::Path, label: &str) {
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    assert!(size > 0, "{label}: the backup {} is empty", path.display());
    let name = path.to_string_lossy();
    let (program, args): (String, Vec<String>) = if name.ends_with(".db") {
        ("sqlite3".into(), vec![sqlite_read_only(path), "select count(*) from kgen_stand_in_writes".into()])
    } else {
        (format!("{}/pg_restore", super::images::pg_bin()), vec!["--list".into(), name.to_string()])
    };
    let out = std::process::Command::new(&program).args(&args).output().expect("the backup checker runs");
    assert!(
        out.status.success(),
        "{label}: the backup {} does not read back with {program}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An SQLite URI that reads a file without creating -wal or -shm files
/// (which, made by root here, the app could not open later).
fn sqlite_read_only(path: &std::path::Path) -> String {
    format!("file:{}?immutable=1", path.display())
}

/// Rows of the app stand-in's SQLite table, read from the claim.
fn sqlite_rows(path: &std::path::Path) -> String {
    let out = std::process::Command::new("sqlite3")
        .args([sqlite_read_only(path).as_str(), "select count(*) from kgen_stand_in_writes"])
        .output()
        .expect("sqlite3 runs");
    assert!(out.status.success(), "sqlite3 cannot read {}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Each restore CronJob, run by hand after its backup and a change to the
/// data, brings back what the backup saved (for SQLite, with the app
/// stopped first, as the job's script asks, and started again after).
fn restore_jobs_bring_back_what_the_backup_saved(target: Target) {
    let mut cluster = Cluster::with(target.clone(), options_for(&target));
    start_data_services(&mut cluster);
    let restores = restore_jobs(&cluster.bundle);
    assert!(!restores.is_empty(), "{target}: no restore CronJob");
    for restore in &restores {
        let workload = workload_of_job(&cluster.bundle, restore);
        let backup = backup_jobs(&cluster.bundle)
            .into_iter()
            .find(|b| workload_of_job(&cluster.bundle, b).name == workload.name)
            .unwrap_or_else(|| panic!("{target}: no backup CronJob for {}", workload.describe()));
        if kind_of(&workload) == Kind::App {
            restore_sqlite(&mut cluster, &workload, &backup, restore);
        } else {
            restore_postgres(&mut cluster, &workload, &backup, restore);
        }
    }
}

fn restore_postgres(cluster: &mut Cluster, database: &PodSource, backup: &PodSource, restore: &PodSource) {
    let db = &database.name;
    query(
        cluster,
        db,
        "create table kgen_runtime_restore (note text); insert into kgen_runtime_restore values ('saved')",
    );
    cluster.run_job(&backup.name).assert_succeeded();
    query(cluster, db, "drop table kgen_runtime_restore; create table kgen_runtime_after_backup (note text)");
    cluster.run_job(&restore.name).assert_succeeded();
    let tables = query(cluster, db, "select tablename from pg_tables where tablename like 'kgen_runtime_%' order by 1");
    let note = if tables.contains("kgen_runtime_restore") {
        query(cluster, db, "select note from kgen_runtime_restore")
    } else {
        String::new()
    };
    assert_eq!(
        note,
        "saved",
        "{}: after {} ran, the table the backup saved is not back as it was (tables now: {tables:?})",
        cluster.bundle.target,
        restore.describe()
    );
}

fn restore_sqlite(cluster: &mut Cluster, app: &PodSource, backup: &PodSource, restore: &PodSource) {
    cluster.start_ready(&app.name);
    let db_path = cluster.pod(&app.name).env(&app.spec().containers[0].name).get("DB_PATH").cloned();
    let db_path = db_path.unwrap_or_else(|| panic!("{}: {} has no DB_PATH", cluster.bundle.target, app.describe()));
    let claim_file = sqlite_claim_file(cluster, app, &db_path);
    cluster.run_job(&backup.name).assert_succeeded();
    cluster.stop(&app.name);
    let saved = sqlite_rows(&claim_file);
    // A later write: the app starts again and records itself.
    cluster.start_ready(&app.name);
    cluster.stop(&app.name);
    assert_ne!(sqlite_rows(&claim_file), saved, "the app's restart was meant to add a row");
    cluster.run_job(&restore.name).assert_succeeded();
    assert_eq!(
        sqlite_rows(&claim_file),
        saved,
        "{}: after {} ran, {db_path} does not hold what the backup saved",
        cluster.bundle.target,
        restore.describe()
    );
    cluster.start_ready(&app.name);
}

/// The host path of an SQLite file on the app's claim.
pub(super) fn sqlite_claim_file(cluster: &Cluster, app: &PodSource, db_path: &str) -> std::path::PathBuf {
    let container = &app.spec().containers[0];
    let mounts = container.volume_mounts.iter().flatten();
    let mount = mounts
        .filter(|m| db_path.starts_with(&format!("{}/", m.mount_path.trim_end_matches('/'))))
        .max_by_key(|m| m.mount_path.len())
        .unwrap_or_else(|| panic!("{}: {db_path} is on no volume of {}", cluster.bundle.target, app.describe()));
    assert!(app.claim_templates.contains(&mount.name), "{}: {db_path} is not on a claim", cluster.bundle.target);
    let claim = format!("{}-{}-0", mount.name, app.name);
    cluster.claim_path(&claim).join(&db_path[mount.mount_path.trim_end_matches('/').len() + 1..])
}

// ---------------------------------------------------------------------------
// Coverage.

/// What the node reads of a bundle, without what it ignores: object
/// metadata but names, replicas, update strategies, template annotations
/// (checksums), resources (limits are not enforced), pull policies, claim
/// sizes and classes, Job deadlines beyond its bound; and the kinds it does
/// not read.
fn runtime_view(bundle: &Bundle) -> Value {
    let kinds =
        ["Deployment", "StatefulSet", "Job", "CronJob", "Service", "ConfigMap", "Secret", "PersistentVolumeClaim"];
    let mut out = vec![];
    for item in &bundle.items {
        let kind = item["kind"].as_str().unwrap_or_default();
        if !kinds.contains(&kind) {
            continue;
        }
        let mut item = item.clone();
        let meta = item["metadata"].clone();
        item["metadata"] = serde_json::json!({"name": meta["name"], "namespace": meta["namespace"]});
        strip(&mut item, kind);
        out.push(item);
    }
    Value::Array(out)
}

fn strip(value: &mut Value, kind: &str) {
    if kind == "PersistentVolumeClaim" {
        value["spec"] = Value::Null;
    }
    if let Some(spec) = value.get_mut("spec").and_then(Value::as_object_mut) {
        spec.remove("replicas");
        spec.remove("strategy");
        spec.remove("updateStrategy");
        for template in spec.get_mut("volumeClaimTemplates").and_then(Value::as_array_mut).into_iter().flatten() {
            template["metadata"] = serde_json::json!({"name": template["metadata"]["name"]});
            template["spec"] = Value::Null;
        }
    }
    strip_pod_fields(value);
}

/// Drop pod-template annotations, `resources` and `imagePullPolicy`, and
/// cap `activeDeadlineSeconds` at the node's Job bound, wherever they are.
fn strip_pod_fields(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.remove("resources");
            map.remove("imagePullPolicy");
            if let Some(deadline) = map.get_mut("activeDeadlineSeconds") {
                let cap = super::cluster::JOB_BOUND.as_secs();
                *deadline = Value::from(deadline.as_u64().unwrap_or(cap).min(cap));
            }
            if let Some(template) =
                map.get_mut("template").and_then(|t| t.get_mut("metadata")).and_then(Value::as_object_mut)
            {
                template.remove("annotations");
            }
            map.values_mut().for_each(strip_pod_fields);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_pod_fields),
        _ => {}
    }
}

/// Where two JSON values first differ: `[3].spec.template…: a ≠ b`.
fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            let null = Value::Null;
            keys.into_iter().find_map(|k| {
                first_difference(x.get(k).unwrap_or(&null), y.get(k).unwrap_or(&null), &format!("{path}.{k}"))
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            x.iter().zip(y).enumerate().find_map(|(i, (p, q))| first_difference(p, q, &format!("{path}[{i}]")))
        }
        _ if a == b => None,
        _ => {
            let short = |v: &Value| v.to_string().chars().take(80).collect::<String>();
            Some(format!("{path}: {} ≠ {}", short(a), short(b)))
        }
    }
}

/// The aspects a bundle calls for.
fn aspects_called_for(bundle: &Bundle) -> BTreeSet<Aspect> {
    let always_migrates = options_for(&bundle.target).app.always_migrate_on_start;
    let mut out = BTreeSet::new();
    if !databases(bundle).is_empty() {
        out.insert(Aspect::Databases);
    }
    if databases(bundle).iter().any(|s| !containers_of_kind(s, Kind::PostgresExporter).is_empty()) {
        out.insert(Aspect::Exporters);
    }
    if !redis(bundle).is_empty() {
        out.insert(Aspect::Redis);
    }
    let apps = apps(bundle);
    if !apps.is_empty() {
        out.insert(Aspect::App);
    }
    let migrates_on_start = apps.iter().any(|s| {
        let spec = s.spec();
        let init_migration = spec
            .init_containers
            .iter()
            .flatten()
            .any(|c| Kind::of(c.image.as_deref().unwrap_or_default()) == Kind::App);
        let auto = spec
            .containers
            .iter()
            .flat_map(|c| c.env.iter().flatten())
            .any(|e| e.name == "DB_AUTO_MIGRATE" && e.value.as_deref() == Some("true"));
        init_migration || auto || always_migrates
    });
    if !migration_jobs(bundle).is_empty() || (migrates_on_start && !databases(bundle).is_empty()) {
        out.insert(Aspect::Migrations);
    }
    if !backup_jobs(bundle).is_empty() {
        out.insert(Aspect::Backups);
    }
    if !restore_jobs(bundle).is_empty() {
        out.insert(Aspect::Restores);
    }
    out
}

/// Why an environment has no scenario, if it has none by right.
fn no_scenario_reason(bundle: &Bundle) -> Option<&'static str> {
    let operator =
        bundle.items.iter().any(|i| i["apiVersion"].as_str().is_some_and(|a| a.starts_with("postgresql.cnpg.io/")));
    let in_cluster = !databases(bundle).is_empty()
        || !redis(bundle).is_empty()
        || apps(bundle).iter().any(|s| !s.claim_templates.is_empty());
    match (in_cluster, operator) {
        (true, _) => None,
        (false, true) => Some("its database is a CloudNativePG Cluster: an operator cannot be emulated"),
        (false, false) => Some("its database is managed outside the cluster"),
    }
}

#[test]
fn every_environment_with_data_in_the_cluster_has_a_scenario() {
    let mut problems = vec![];
    let render = |profile: &'static str, env: Option<&'static str>| {
        bundle::render(&Target { profile, env }, &SecretValues::benign())
    };
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    for (profile, env) in crate::support::profile_matrix() {
        let (profile, env) = (leak(profile), env.map(leak));
        let target = Target { profile, env };
        let bundle = render(profile, env);
        let declared = SCENARIOS.iter().find(|d| d.profile == profile && d.env == env);
        let covering = SCENARIOS.iter().find(|d| d.profile == profile && env.is_some_and(|e| d.covers.contains(&e)));
        match (declared, covering, no_scenario_reason(&bundle)) {
            (Some(d), _, None) => {
                let declared: BTreeSet<&str> = d.tests.iter().copied().collect();
                let called_for: BTreeSet<&str> =
                    aspects_called_for(&bundle).into_iter().map(Aspect::test_name).collect();
                let missing: Vec<&&str> = called_for.difference(&declared).collect();
                let extra: Vec<&&str> = declared.difference(&called_for).collect();
                if !missing.is_empty() || !extra.is_empty() {
                    problems.push(format!("{target}: the scenario lacks tests {missing:?} and has tests {extra:?} for nothing in the bundle"));
                }
            }
            (None, Some(d), None) => {
                let representative = render(d.profile, d.env);
                let (theirs, ours) = (runtime_view(&representative), runtime_view(&bundle));
                if let Some(difference) = first_difference(&theirs, &ours, "") {
                    let rep = Target { profile: d.profile, env: d.env };
                    problems.push(format!(
                        "{target}: no longer runs the same pods as {rep} ({difference}); give it its own scenario"
                    ));
                }
            }
            (None, None, None) => problems.push(format!("{target}: has data in the cluster but no runtime scenario")),
            (Some(_), _, Some(reason)) | (None, Some(_), Some(reason)) => {
                problems.push(format!("{target}: has a scenario, but {reason}"))
            }
            (None, None, Some(reason)) => eprintln!("note: no runtime scenario for {target}: {reason}"),
        }
    }
    assert!(problems.is_empty(), "runtime scenarios out of date:\n  {}", problems.join("\n  "));
}
