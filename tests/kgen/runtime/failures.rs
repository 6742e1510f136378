//! What rendered pods do when something around them goes wrong, each test
//! named after what it proves: WAL archiving against an object store that
//! works, then refuses (`images::ObjectStore`, the AWS CLI of
//! `entrypoints/aws.sh`); backups on a sized claim full of partial,
//! expired and kept copies (`Cluster::limit_claim_size`); PostgreSQL
//! answering but rejecting connections, as during crash recovery; Redis
//! stopped and started; an app whose wait for its database cannot even
//! try. Each sets up its own cluster from a fresh render, like the
//! scenarios (`scenarios`), whose helpers it uses.
//!
//! It does not test what the scenarios do (that pods start and connect),
//! nor time as the kubelet would: waits are polled up to a bound.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use super::bundle::{self, Bundle, PodSource, Target};
use super::cluster::{Cluster, JobRun};
use super::images::Kind;
use super::scenarios::{
    apps, backup_jobs, containers_of_kind, databases, job_claims, kind_of, options_for, query, redis,
    start_data_services, workload_of_job,
};

const PLATFORM: Target = Target { profile: "profiles/platform.yaml", env: None };
const PLATFORM_AWS: Target = Target { profile: "profiles/platform.yaml", env: Some("aws") };
const TIMESERVICE: Target = Target { profile: "profiles/timeservice.yaml", env: None };
const TRAVERSION: Target = Target { profile: "profiles/traversion.yaml", env: None };

/// Polls of a condition that a background process brings about (the
/// archiver, statistics), half a second apart.
const POLLS: usize = 40;
const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// `check` until it says Ok, at most `POLLS` times; else panic with `what`
/// and its last answer.
fn poll<T>(what: &str, mut check: impl FnMut() -> Result<T, String>) -> T {
    let mut last = String::new();
    for _ in 0..POLLS {
        match check() {
            Ok(value) => return value,
            Err(e) => last = e,
        }
        std::thread::sleep(POLL_INTERVAL);
    }
    panic!("{what}: not so after {POLLS} checks {} ms apart; last: {last}", POLL_INTERVAL.as_millis());
}

// ---------------------------------------------------------------------------
// WAL archiving.

/// A database whose `archive_command` ships WAL with `aws s3 cp`, and
/// where its segments go.
struct Archiving {
    workload: String,
    bucket: String,
    /// The key before the segment's name (`wal/`).
    prefix: String,
}

/// The rendered `archive_command=( aws s3 cp %p s3://BUCKET/PREFIX%f ) || exit 1`.
fn archiving(bundle: &Bundle) -> Archiving {
    for source in databases(bundle) {
        let args = source.spec().containers[0].args.clone().unwrap_or_default();
        let Some(command) = args.iter().find_map(|a| a.strip_prefix("archive_command=")) else { continue };
        let url = command.split_whitespace().find_map(|w| w.strip_prefix("s3://"));
        let (bucket, key) = url.and_then(|u| u.split_once('/')).unwrap_or_else(|| {
            panic!("{}: {}: archive_command {command:?} names no s3://BUCKET/KEY", bundle.target, source.describe())
        });
        let prefix = key.strip_suffix("%f").unwrap_or_else(|| {
            panic!("{}: archive_command {command:?}: the key does not end with the segment's name", bundle.target)
        });
        return Archiving { workload: source.name.clone(), bucket: bucket.into(), prefix: prefix.into() };
    }
    panic!("{}: no database archives its WAL", bundle.target)
}

/// Write a little, finish the WAL segment: its name.
fn write_and_switch_wal(cluster: &Cluster, workload: &str) -> String {
    query(
        cluster,
        workload,
        "create table if not exists kgen_runtime_wal (n int); insert into kgen_runtime_wal select generate_series(1, 1000)",
    );
    // pg_walfile_name of the switch's end: the segment it finished.
    query(cluster, workload, "select pg_walfile_name(pg_switch_wal())")
}

/// `pg_stat_archiver`'s archived and failed counts.
fn archiver_counts(cluster: &Cluster, workload: &str) -> (u64, u64) {
    let row = query(cluster, workload, "select archived_count, failed_count from pg_stat_archiver");
    let (archived, failed) = row.split_once('|').unwrap_or_else(|| panic!("pg_stat_archiver row {row:?}"));
    (archived.parse().unwrap(), failed.parse().unwrap())
}

/// A metric's value as the database's exporter sidecar serves it now.
fn exporter_metric(cluster: &Cluster, source: &PodSource, metric: &str) -> Result<f64, String> {
    let container = containers_of_kind(source, Kind::PostgresExporter)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("{}: {} has no exporter sidecar", cluster.bundle.target, source.describe()));
    let pod = cluster.pod(&source.name);
    let port = pod.container(&container).ports.iter().flatten().next().map_or(9187, |p| p.container_port);
    let url = format!("http://{}:{port}/metrics", pod.ip);
    let fetched = cluster.fetch_from(&source.name, &url);
    if !fetched.success() {
        return Err(format!("GET {url} failed: {}", fetched.output.trim()));
    }
    let value = fetched.output.lines().find_map(|line| {
        let rest = line.strip_prefix(metric)?;
        (rest.starts_with('{') || rest.starts_with(' ')).then(|| rest.rsplit(' ').next()?.parse::<f64>().ok())?
    });
    value.ok_or_else(|| format!("{url} serves no {metric}"))
}

/// Whether a file exists in a running container (`kubectl exec … test -e`).
fn exists_in(cluster: &Cluster, workload: &str, container: &str, path: &str) -> bool {
    cluster.exec(workload, container, &["sh", "-c", &format!("test -e \"{path}\"")]).success()
}

/// Every WAL segment PostgreSQL finishes is copied whole, by the rendered
/// `archive_command`, to the bucket and key it names; `pg_stat_archiver`
/// and the exporter sidecar count it.
#[test]
fn finished_wal_segments_arrive_in_the_bucket_the_archive_command_names() {
    if !super::node_available() {
        return;
    }
    let target = PLATFORM_AWS;
    let mut cluster = Cluster::with(target.clone(), options_for(&target));
    let a = archiving(&cluster.bundle);
    let source = cluster.bundle.pod_source(&a.workload);
    cluster.object_store().create_bucket(&a.bucket);
    cluster.start_ready(&a.workload);
    let segment = write_and_switch_wal(&cluster, &a.workload);
    let key = format!("{}{segment}", a.prefix);
    let store = cluster.object_store().clone();
    let object = poll(&format!("{target}: segment {segment} is in s3://{}/{key}", a.bucket), || {
        let path = store.object_path(&a.bucket, &key);
        if path.is_file() {
            Ok(path)
        } else {
            let log = super::process::tail(&cluster.pod(&a.workload).logs("postgres"), 8);
            Err(format!("the bucket holds {:?}; the server's log ends:\n{log}", store.keys(&a.bucket)))
        }
    });
    let segment_size = query(&cluster, &a.workload, "select pg_size_bytes(current_setting('wal_segment_size'))");
    let size = std::fs::metadata(&object).unwrap().len();
    assert_eq!(size.to_string(), segment_size, "{target}: s3://{}/{key} is not a whole segment", a.bucket);
    // The server may have recycled its own copy since; if not, they are equal.
    let ours =
        cluster.exec(&a.workload, "postgres", &["sh", "-c", &format!("sha256sum < \"$PGDATA/pg_wal/{segment}\"")]);
    if ours.success() {
        let digest = sha256_hex(&std::fs::read(&object).unwrap());
        assert!(ours.output.starts_with(&digest), "{target}: s3://{}/{key} differs from pg_wal/{segment}", a.bucket);
    }
    let (archived, failed) = poll(&format!("{target}: pg_stat_archiver counts the segment"), || {
        let (archived, failed) = archiver_counts(&cluster, &a.workload);
        if archived >= 1 { Ok((archived, failed)) } else { Err(format!("archived_count {archived}")) }
    });
    assert_eq!(failed, 0, "{target}: archiving failed {failed} times with a working bucket ({archived} archived)");
    poll(&format!("{target}: the exporter reports pg_stat_archiver_archived_count ≥ 1"), || {
        let value = exporter_metric(&cluster, &source, "pg_stat_archiver_archived_count")?;
        if value >= 1.0 { Ok(()) } else { Err(format!("it says {value}")) }
    });
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// When the archive tool fails, each failure is counted in
/// `pg_stat_archiver.failed_count` and by the exporter sidecar as
/// `pg_stat_archiver_failed_count` (what the rendered `WalArchiveFailing`
/// alert watches), also when the tool exits with a status PostgreSQL
/// would otherwise take for "command not found" and not count (the AWS
/// CLI's 255: the rendered `( … ) || exit 1` makes it an ordinary
/// failure); the server keeps serving and keeps every unarchived segment,
/// which reaches the bucket once the tool works again.
#[test]
fn archive_failures_are_counted_and_the_wal_kept_until_the_tool_works_again() {
    if !super::node_available() {
        return;
    }
    let target = PLATFORM_AWS;
    let mut cluster = Cluster::with(target.clone(), options_for(&target));
    let a = archiving(&cluster.bundle);
    let source = cluster.bundle.pod_source(&a.workload);
    let db = a.workload.clone();
    let store = cluster.object_store().clone();

    // No bucket yet: every upload fails (NoSuchBucket, exit 1).
    cluster.start_ready(&db);
    let first = write_and_switch_wal(&cluster, &db);
    poll(&format!("{target}: failed uploads are counted"), || {
        let (_, failed) = archiver_counts(&cluster, &db);
        if failed >= 1 { Ok(()) } else { Err(format!("failed_count {failed}; aws calls: {:?}", store.calls())) }
    });
    poll(&format!("{target}: the exporter reports pg_stat_archiver_failed_count ≥ 1"), || {
        let value = exporter_metric(&cluster, &source, "pg_stat_archiver_failed_count")?;
        if value >= 1.0 { Ok(()) } else { Err(format!("it says {value}")) }
    });
    let ready = format!("$PGDATA/pg_wal/archive_status/{first}.ready");
    assert!(exists_in(&cluster, &db, "postgres", &ready), "{target}: {first} is no longer waiting to be archived");
    // The server keeps serving: its probes pass and it takes writes.
    cluster.check_liveness(&db);
    if let Err(e) = cluster.pod_mut(&db).check_readiness() {
        panic!("{target}: the server stopped being ready while archiving failed: {e}");
    }

    // The bucket exists, but the CLI fails before any transfer with 255.
    // The archiver has given up for now (it retries on the next segment).
    let calls_before = settled_calls(&cluster, &db);
    let (_, failed_before) = archiver_counts(&cluster, &db);
    store.fail_every_call_with(Some(255));
    store.create_bucket(&a.bucket);
    let second = write_and_switch_wal(&cluster, &db);
    poll(&format!("{target}: each call of the tool exiting 255 is counted as a failure"), || {
        let (_, failed) = archiver_counts(&cluster, &db);
        let calls = store.calls();
        let exited_255 = calls[calls_before..].iter().filter(|(status, _)| *status == 255).count() as u64;
        if exited_255 >= 1 && failed - failed_before >= exited_255 {
            Ok(())
        } else {
            let log = super::process::tail(&cluster.pod(&db).logs("postgres"), 8);
            Err(format!(
                "{exited_255} calls exited 255, failed_count went from {failed_before} to {failed}; \
                 the server's log ends:\n{log}"
            ))
        }
    });
    assert!(store.keys(&a.bucket).is_empty(), "{target}: an upload succeeded while the tool failed");
    cluster.check_liveness(&db);

    // The tool works again: every kept segment arrives.
    store.fail_every_call_with(None);
    let third = write_and_switch_wal(&cluster, &db);
    for segment in [&first, &second, &third] {
        let key = format!("{}{segment}", a.prefix);
        poll(&format!("{target}: the kept segment {segment} is in s3://{}/{key}", a.bucket), || {
            if store.object_path(&a.bucket, &key).is_file() {
                Ok(())
            } else {
                Err(format!("the bucket holds {:?}", store.keys(&a.bucket)))
            }
        });
    }
    poll(&format!("{target}: {first} is no longer waiting to be archived"), || {
        if exists_in(&cluster, &db, "postgres", &ready) { Err("its .ready file is there".into()) } else { Ok(()) }
    });
    query(&cluster, &db, "select count(*) from kgen_runtime_wal");
}

/// Wait until the archiver stops calling the tool (after three failures in
/// a row it waits for the next segment, or a minute): how many calls so far.
fn settled_calls(cluster: &Cluster, workload: &str) -> usize {
    const QUIET: Duration = Duration::from_millis(1500);
    let store = cluster.object_store();
    let mut seen = store.calls().len();
    for _ in 0..20 {
        std::thread::sleep(QUIET);
        let now = store.calls().len();
        if now == seen {
            return now;
        }
        seen = now;
    }
    panic!(
        "{}: {workload}'s archiver kept calling the tool for {} s; the server's log ends:\n{}",
        cluster.bundle.target,
        20.0 * QUIET.as_secs_f32(),
        super::process::tail(&cluster.pod(workload).logs("postgres"), 10)
    );
}

// ---------------------------------------------------------------------------
// Backups on a full volume.

/// A backup CronJob of a scenario, its workload started, its backup claim
/// sized.
struct Backup {
    cluster: Cluster,
    job: PodSource,
    workload: PodSource,
    /// The claim the job writes its copies to.
    claim: String,
    /// The job's user, who owns the copies.
    uid: u32,
}

/// The first backup CronJob of `target` whose workload is a database
/// (`want`: PostgreSQL or the SQLite of an app), with its backup claim
/// sized to `kib` KiB and its workload ready.
fn backup(target: Target, want: Kind, kib: u64) -> Backup {
    let mut cluster = Cluster::with(target.clone(), options_for(&target));
    let jobs = backup_jobs(&cluster.bundle);
    let job = jobs
        .into_iter()
        .find(|j| {
            let kind = kind_of(&workload_of_job(&cluster.bundle, j));
            kind == want || (want == Kind::Postgres && kind == Kind::TimescaleDb)
        })
        .unwrap_or_else(|| panic!("{target}: no backup CronJob of a {want:?} workload"));
    let workload = workload_of_job(&cluster.bundle, &job);
    let own = workload_claims(&workload);
    let claim = job_claims(&job)
        .into_iter()
        .find(|c| !own.contains(c))
        .unwrap_or_else(|| panic!("{target}: {} mounts no claim of its own", job.describe()));
    cluster.limit_claim_size(&claim, kib);
    cluster.start_ready(&workload.name);
    let uid = job.spec().security_context.as_ref().and_then(|s| s.run_as_user).unwrap_or(0) as u32;
    Backup { cluster, job, workload, claim, uid }
}

/// The claims a workload's pod mounts (`<template>-<sts>-0` for templates).
fn workload_claims(source: &PodSource) -> Vec<String> {
    let volumes = source.spec().volumes.iter().flatten();
    let mut claims: Vec<String> =
        volumes.filter_map(|v| v.persistent_volume_claim.as_ref()).map(|c| c.claim_name.clone()).collect();
    claims.extend(source.claim_templates.iter().map(|t| format!("{t}-{}-0", source.name)));
    claims
}

/// How the job names its copies: `<prefix>_<%Y%m%d_%H%M%S>.<extension>`,
/// read off the name of one it wrote.
#[derive(Clone)]
struct CopyNames {
    prefix: String,
    extension: String,
}

impl CopyNames {
    fn of(name: &str) -> CopyNames {
        let (stem, extension) = name.rsplit_once('.').unwrap_or_else(|| panic!("backup {name} has no extension"));
        let stamp = stem.len().checked_sub(16).map(|i| &stem[i..]).unwrap_or_default();
        let is_stamp = stamp.len() == 16
            && stamp.starts_with('_')
            && stamp[1..].chars().enumerate().all(|(i, c)| if i == 8 { c == '_' } else { c.is_ascii_digit() });
        assert!(is_stamp, "backup {name} is not named <prefix>_YYYYmmdd_HHMMSS.<extension>");
        CopyNames { prefix: stem[..stem.len() - 16].to_string(), extension: extension.to_string() }
    }

    /// The name of a copy made at `time`.
    fn at(&self, time: SystemTime) -> String {
        let secs = time.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
        let out = Command::new("date").args(["-u", "-d", &format!("@{secs}"), "+%Y%m%d_%H%M%S"]).output().unwrap();
        format!("{}_{}.{}", self.prefix, String::from_utf8_lossy(&out.stdout).trim(), self.extension)
    }

    fn is_copy(&self, name: &str) -> bool {
        name.starts_with(&format!("{}_", self.prefix)) && name.ends_with(&format!(".{}", self.extension))
    }
}

const DAY: Duration = Duration::from_secs(86_400);
/// Every shipped profile's `backup.retentionDays`.
const RETENTION_DAYS: u64 = 7;

impl Backup {
    fn dir(&self) -> PathBuf {
        self.cluster.claim_path(&self.claim)
    }

    /// Run the backup job; copies are named by the second, so never twice
    /// in one.
    fn run(&mut self) -> JobRun {
        std::thread::sleep(Duration::from_millis(1100));
        self.cluster.run_job(&self.job.name)
    }

    /// Files on the claim (`lost+found` aside).
    fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.dir())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n != "lost+found")
            .collect();
        names.sort();
        names
    }

    /// Run the job once on the empty claim: how it names its copies.
    fn first_copy(&mut self) -> (CopyNames, String) {
        let run = self.run();
        run.assert_succeeded();
        let files = self.files();
        let [copy] = &files[..] else { panic!("{}: one run left {files:?} on {}", run.label, self.claim) };
        (CopyNames::of(copy), copy.clone())
    }

    /// A file of `kib` KiB on the claim, last modified `age` ago, owned by
    /// the job's user as the job's own copies are.
    fn put(&self, name: &str, kib: u64, age: Duration) {
        let path = self.dir().join(name);
        std::fs::write(&path, vec![0x6bu8; (kib * 1024) as usize]).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::os::unix::fs::chown(&path, Some(self.uid), Some(self.uid)).unwrap();
        let file = std::fs::File::options().write(true).open(&path).unwrap();
        file.set_modified(SystemTime::now() - age).unwrap();
    }

    fn free_kib(&self) -> u64 {
        free_kib(&self.dir())
    }

    /// What the job will ask to be free: the newest copy's size plus a
    /// tenth and 1 MiB (the rendered script's estimate).
    fn needed_kib(&self, newest: &str) -> u64 {
        let out = Command::new("du").arg("-k").arg(self.dir().join(newest)).output().unwrap();
        let kib: u64 = String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap().parse().unwrap();
        kib * 11 / 10 + 1024
    }

    fn describe(&self) -> String {
        format!("{}: {} on claim {}", self.cluster.bundle.target, self.job.describe(), self.claim)
    }
}

/// `df`'s available KiB of the filesystem `dir` is on.
fn free_kib(dir: &Path) -> u64 {
    let out = Command::new("df").arg("-Pk").arg(dir).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().nth(1).unwrap_or_else(|| panic!("df -Pk {}: {text}", dir.display()));
    line.split_whitespace().nth(3).unwrap().parse().unwrap()
}

/// A volume filled by killed runs' partial copies and copies past their
/// retention, with too little room for the next copy: the job removes
/// them first, then writes its copy, and keeps every copy within retention.
fn backups_make_room_first_by_removing_partial_and_expired_copies(target: Target, want: Kind) {
    let mut b = backup(target, want, 4096);
    let (names, first) = b.first_copy();
    let now = SystemTime::now();
    let kept_copy = names.at(now - 6 * DAY);
    let partials = [format!("{}.partial", names.at(now - DAY)), format!("{first}.partial")];
    let expired: Vec<String> = [RETENTION_DAYS + 1, RETENTION_DAYS + 2, 40]
        .iter()
        .map(|days| names.at(now - Duration::from_secs(days * DAY.as_secs())))
        .collect();
    b.put(&kept_copy, 64, 6 * DAY);
    for partial in &partials {
        b.put(partial, 768, DAY);
    }
    for (name, days) in expired.iter().zip([RETENTION_DAYS + 1, RETENTION_DAYS + 2, 40]) {
        b.put(name, 512, Duration::from_secs(days * DAY.as_secs() + 3600));
    }
    let label = b.describe();
    assert!(
        b.free_kib() < b.needed_kib(&first),
        "{label}: the volume was meant to be too full for the next copy before room is made ({} KiB free)",
        b.free_kib()
    );
    let before = b.files();
    let run = b.run();
    run.assert_succeeded();
    let after = b.files();
    for gone in partials.iter().chain(&expired) {
        assert!(!after.contains(gone), "{label}: {gone} is still there after the job; files: {after:?}");
    }
    for kept in [&kept_copy, &first] {
        assert!(after.contains(kept), "{label}: {kept}, within {RETENTION_DAYS} days, was removed; files: {after:?}");
    }
    let new: Vec<&String> = after.iter().filter(|f| !before.contains(f)).collect();
    assert!(
        new.len() == 1 && names.is_copy(new[0]),
        "{label}: expected one new copy, the claim went from {before:?} to {after:?}; the job said:\n{}",
        run.output("backup")
    );
}

/// A volume whose kept copies leave less room than the last copy took:
/// the job fails before writing, saying so and what to do. Then, with no
/// copy to estimate from and more data than the volume holds, the copy
/// itself runs out of room: the job fails and leaves no partial file.
fn backups_fail_clearly_when_the_next_copy_cannot_fit(target: Target, want: Kind) {
    let mut b = backup(target, want, 2048);
    let (names, first) = b.first_copy();
    let label = b.describe();
    let room = b.free_kib();
    let fill = room.saturating_sub(256);
    let now = SystemTime::now();
    let kept = [names.at(now - 2 * DAY), names.at(now - DAY)];
    b.put(&kept[0], fill / 2, 2 * DAY);
    b.put(&kept[1], fill - fill / 2, DAY);
    assert!(b.free_kib() < b.needed_kib(&first), "{label}: the volume was meant to be too full for the next copy");
    let before = b.files();
    let run = b.run();
    let said = job_output(&run);
    assert!(run.failure.is_some(), "{label}: the job succeeded on a full volume; it said:\n{said}");
    let expected = format!("backup volume full: {} KiB free", b.free_kib());
    assert!(
        said.contains(&expected) && said.contains(&format!("grow the claim {} or keep fewer days", b.claim)),
        "{label}: the job failed without saying the volume is full ({expected:?}, grow the claim …):\n{said}"
    );
    assert_eq!(b.files(), before, "{label}: the failed job changed the claim");

    // No copy left to estimate from, and more data than fits.
    for name in b.files() {
        std::fs::remove_file(b.dir().join(name)).unwrap();
    }
    grow_data_beyond(&b, 3 * 1024);
    let run = b.run();
    let said = job_output(&run);
    assert!(run.failure.is_some(), "{label}: a copy of 3 MiB of data fit on a 2 MiB volume; the job said:\n{said}");
    assert!(
        ["No space left on device", "disk is full"].iter().any(|m| said.contains(m)),
        "{label}: the job failed without saying the volume is full:\n{said}"
    );
    let left = b.files();
    assert!(left.is_empty(), "{label}: the failed copy left {left:?} on the claim");
}

/// What a Job's containers printed.
fn job_output(run: &JobRun) -> String {
    run.containers.iter().map(|(name, _)| run.output(name)).collect::<Vec<_>>().join("\n")
}

/// Add about `kib` KiB of incompressible data to the backed-up database.
fn grow_data_beyond(b: &Backup, kib: u64) {
    let rows = kib / 4;
    let cluster = &b.cluster;
    let workload = &b.workload;
    if kind_of(workload) == Kind::App {
        let container = &workload.spec().containers[0].name;
        let db_path = cluster.pod(&workload.name).env(container).get("DB_PATH").cloned().expect("the app has DB_PATH");
        let sql = format!(
            "create table kgen_runtime_bulk (b blob); with recursive n(i) as (select 1 union all select i + 1 from n \
             where i < {rows}) insert into kgen_runtime_bulk select randomblob(4096) from n;"
        );
        let done = cluster.exec(&workload.name, container, &["sqlite3", "-cmd", ".timeout 5000", &db_path, &sql]);
        assert!(done.success(), "{}: sqlite3 {db_path}: {}", cluster.bundle.target, done.output);
    } else {
        query(
            cluster,
            &workload.name,
            &format!(
                "create table kgen_runtime_bulk (b bytea); insert into kgen_runtime_bulk \
                 select decode(string_agg(md5(random()::text || g), ''), 'hex') \
                 from generate_series(1, 256 * {rows}) g group by g % {rows}"
            ),
        );
    }
}

#[test]
fn postgres_backups_make_room_first_by_removing_partial_and_expired_copies() {
    if super::node_available() {
        backups_make_room_first_by_removing_partial_and_expired_copies(PLATFORM, Kind::Postgres);
    }
}

#[test]
fn sqlite_backups_make_room_first_by_removing_partial_and_expired_copies() {
    if super::node_available() {
        backups_make_room_first_by_removing_partial_and_expired_copies(TIMESERVICE, Kind::App);
    }
}

#[test]
fn postgres_backups_fail_clearly_when_the_next_copy_cannot_fit() {
    if super::node_available() {
        backups_fail_clearly_when_the_next_copy_cannot_fit(PLATFORM, Kind::Postgres);
    }
}

#[test]
fn sqlite_backups_fail_clearly_when_the_next_copy_cannot_fit() {
    if super::node_available() {
        backups_fail_clearly_when_the_next_copy_cannot_fit(TIMESERVICE, Kind::App);
    }
}

// ---------------------------------------------------------------------------
// Probes while PostgreSQL answers but rejects connections.

/// A server that answers but rejects connections (`pg_isready` exit 1, as
/// during crash recovery; here a standby with `hot_standby = off`) passes
/// its startup and liveness probes, so it is not killed, and fails its
/// readiness probe, so it gets no traffic; once it accepts connections
/// again, it is ready.
#[test]
fn a_database_rejecting_connections_stays_alive_but_not_ready() {
    if !super::node_available() {
        return;
    }
    let target = PLATFORM;
    let mut cluster = Cluster::with(target.clone(), options_for(&target));
    let db = databases(&cluster.bundle)[0].name.clone();
    cluster.start_ready(&db);
    query(&cluster, &db, "alter system set hot_standby = off");
    let standby = cluster.exec(&db, "postgres", &["sh", "-c", "touch \"$PGDATA/standby.signal\""]);
    assert!(standby.success(), "{target}: touch $PGDATA/standby.signal: {}", standby.output);
    cluster.stop(&db);

    cluster.start(&db);
    cluster.wait_started(&db);
    for _ in 0..4 {
        match cluster.pod_mut(&db).check_readiness() {
            Err(e) if e.contains("rejecting connections") => {}
            Err(e) => panic!("{target}: {db} is not ready, but not because it rejects connections: {e}"),
            Ok(()) => panic!(
                "{target}: {db} passed its readiness probe while rejecting connections; its output:\n{}",
                super::process::tail(&cluster.pod(&db).logs("postgres"), 10)
            ),
        }
        cluster.check_liveness(&db);
        std::thread::sleep(POLL_INTERVAL);
    }
    let logs = cluster.pod(&db).logs("postgres");
    assert!(logs.contains("entering standby mode"), "{target}: {db} did not run as a standby:\n{logs}");

    let primary = cluster.exec(&db, "postgres", &["sh", "-c", "rm \"$PGDATA/standby.signal\""]);
    assert!(primary.success(), "{target}: rm $PGDATA/standby.signal: {}", primary.output);
    cluster.stop(&db);
    cluster.start_ready(&db);
    cluster.check_liveness(&db);
    query(&cluster, &db, "alter system reset hot_standby");
}

// ---------------------------------------------------------------------------
// Redis persistence.

/// With `cache.persistence`, a key written with the password Redis's
/// Secret holds (as the app is given it) is still there after Redis is
/// stopped and started again: it was appended to the file on its claim.
/// Without the password, Redis refuses the write.
#[test]
fn redis_keeps_its_keys_across_a_restart() {
    if !super::node_available() {
        return;
    }
    let target = TRAVERSION;
    let mut cluster = Cluster::with(target.clone(), options_for(&target));
    let source = redis(&cluster.bundle).into_iter().next().unwrap_or_else(|| panic!("{target}: no Redis"));
    let name = source.name.clone();
    let claim = workload_claims(&source).into_iter().next().unwrap_or_else(|| panic!("{target}: Redis has no claim"));
    let password = redis_password(&cluster, &source);
    cluster.start_ready(&name);
    let refused = redis_cli(&cluster, &name, None, &["SET", "kgen-runtime-key", "unauthenticated"]);
    assert!(refused.contains("NOAUTH"), "{target}: Redis took a write without its password: {refused:?}");
    let set = redis_cli(&cluster, &name, Some(&password), &["SET", "kgen-runtime-key", "written before the restart"]);
    assert_eq!(set.trim(), "OK", "{target}: SET with the Secret's password");
    cluster.stop(&name);
    let files = super::scenarios::files(&cluster.claim_path(&claim));
    assert!(files.iter().any(|f| f.contains(".aof")), "{target}: no append-only file on claim {claim}: {files:?}");
    cluster.start_ready(&name);
    let got = redis_cli(&cluster, &name, Some(&password), &["GET", "kgen-runtime-key"]);
    assert_eq!(got.trim(), "written before the restart", "{target}: {name} lost its key across a restart");
}

/// The password of the Secret Redis's pod mounts (the one clients get).
fn redis_password(cluster: &Cluster, source: &PodSource) -> String {
    let volumes = source.spec().volumes.iter().flatten();
    let (secret, key) = volumes
        .filter_map(|v| v.secret.as_ref())
        .find_map(|s| Some((s.secret_name.clone()?, s.items.as_ref()?.first()?.key.clone())))
        .unwrap_or_else(|| panic!("{}: Redis mounts no Secret", cluster.bundle.target));
    let created = cluster.api().secrets();
    let data = created
        .get(&secret)
        .cloned()
        .unwrap_or_else(|| bundle::SecretStore { bundle: &cluster.bundle, values: &cluster.secrets }.all(&secret));
    String::from_utf8(data[&key].clone()).expect("the password is text")
}

/// `redis-cli` from Redis's pod network namespace to its address, with the
/// password through REDISCLI_AUTH (never on the command line): its output.
fn redis_cli(cluster: &Cluster, workload: &str, password: Option<&str>, args: &[&str]) -> String {
    let pod = cluster.pod(workload);
    let port =
        pod.container(&pod.container_names()[0]).ports.iter().flatten().next().map_or(6379, |p| p.container_port);
    let mut cmd = Command::new("redis-cli");
    cmd.args(["-h", &pod.ip, "-p", &port.to_string()]).args(args);
    if let Some(password) = password {
        cmd.env("REDISCLI_AUTH", password);
    }
    let done = pod.in_netns(cmd, Duration::from_secs(10));
    assert!(done.status.is_some(), "{}: redis-cli {args:?} did not finish", cluster.bundle.target);
    done.output
}

// ---------------------------------------------------------------------------
// The wait for a database, misconfigured.

/// An app's `wait-for-<database>` init container whose `pg_isready` cannot
/// even try (exit 3: here a pod environment libpq refuses, `PGSSLMODE`
/// misspelt) fails at once, saying the connection settings are wrong,
/// instead of waiting out its deadline as if the database were down.
#[test]
fn the_wait_for_a_database_fails_at_once_when_its_settings_are_wrong() {
    if !super::node_available() {
        return;
    }
    let target = TRAVERSION;
    let options = options_for(&target);
    let mut bundle = bundle::render(&target, &options.secrets);
    let mut misconfigured = vec![];
    for deployment in &mut bundle.deployments {
        let spec = deployment.spec.as_mut().and_then(|s| s.template.spec.as_mut()).expect("a pod template");
        for container in spec.init_containers.iter_mut().flatten() {
            if container.name.starts_with("wait-for-") {
                container.env.get_or_insert_with(Vec::new).push(k8s_openapi::api::core::v1::EnvVar {
                    name: "PGSSLMODE".into(),
                    value: Some("verify_full".into()),
                    ..Default::default()
                });
                misconfigured.push(container.name.clone());
            }
        }
    }
    assert!(!misconfigured.is_empty(), "{target}: no wait-for-* init container");
    let mut cluster = Cluster::of_bundle(bundle, options);
    start_data_services(&mut cluster);
    for app in apps(&cluster.bundle) {
        let waits = app.spec().init_containers.iter().flatten().any(|c| misconfigured.contains(&c.name));
        if !waits {
            continue;
        }
        let started = Instant::now();
        let outcome = cluster.try_start(&app.name);
        let took = started.elapsed();
        let failure = match outcome {
            Ok(()) => panic!("{target}: {} started although its wait cannot reach the database", app.describe()),
            Err(e) => e,
        };
        // The message quotes the script; what the container said comes last.
        let said = failure.split_once("last output:\n").map_or("", |(_, output)| output);
        assert!(
            failure.contains("init container `wait-for-")
                && failure.contains("failed (exit status 1)")
                && said.contains("no attempt")
                && said.contains("the connection settings are wrong"),
            "{target}: {} did not fail saying its connection settings are wrong:\n{failure}",
            app.describe()
        );
        assert!(
            took < Duration::from_secs(10),
            "{target}: {} took {} s to give up on settings that cannot work",
            app.describe(),
            took.as_secs()
        );
    }
}
