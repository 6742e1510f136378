//! Container images, emulated with Debian's programs: a table from image
//! reference to what the image would give a container (entrypoint, command,
//! environment, user, working directory, its own directories) and the
//! content that differs from this host, built per scenario under its root
//! and bound read-only over the host view (an image's `/usr/local/bin`, …).
//!
//! The emulations are this project's own: `entrypoints/postgres.sh` stands
//! for the official postgres image's `docker-entrypoint.sh`,
//! `entrypoints/timescaledb.sh` for TimescaleDB's, `entrypoints/redis.sh`
//! for redis's, `entrypoints/app.sh` for the user's application, and
//! `entrypoints/aws.sh` for the AWS CLI of images that add it to postgres
//! (`aws s3 cp` into the scenario's `ObjectStore`, a directory per bucket).
//! PostgreSQL is Debian's (15 on bookworm) whatever version the image names
//! (a fresh initdb does not care); TimescaleDB is not packaged for Debian, so its
//! image runs plain PostgreSQL with a stub `timescaledb` extension. As in
//! the real images, `/etc/passwd` has no entry for the pods' UID 10001.
//!
//! It does not run anything.

use std::collections::BTreeMap;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::Container;

use super::sandbox::Bind;

/// The major version of Debian's PostgreSQL here (the highest installed),
/// which plays whatever version an image names.
pub fn pg_major() -> Option<u32> {
    let versions = std::fs::read_dir("/usr/lib/postgresql").ok()?.flatten();
    let versions = versions.filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok());
    versions.filter(|v| Path::new(&format!("/usr/lib/postgresql/{v}/bin/postgres")).exists()).max()
}

/// PostgreSQL's programs (`/usr/lib/postgresql/<major>/bin`).
pub fn pg_bin() -> String {
    format!("/usr/lib/postgresql/{}/bin", pg_major().expect("PostgreSQL is installed"))
}

fn pg_extensions() -> String {
    format!("/usr/share/postgresql/{}/extension", pg_major().expect("PostgreSQL is installed"))
}
/// The stub extension's version (the profiles' image tag).
const TIMESCALEDB_STUB_VERSION: &str = "2.17.2";
/// What the postgres entrypoint prints right before it execs the server.
const POSTGRES_STARTED: &[&str] = &[
    "PostgreSQL init process complete; ready for start up.",
    "appears to contain a database; Skipping initialization",
];

/// The stub extension's objects: only TimescaleDB's restore-mode switches,
/// which backup and restore scripts call around pg_restore.
const TIMESCALEDB_STUB_SQL: &str = "\
-- Stub of TimescaleDB for kgen's runtime tests: no hypertables, only the
-- functions that bracket a restore (they do nothing here).
CREATE FUNCTION timescaledb_pre_restore() RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE FUNCTION timescaledb_post_restore() RETURNS boolean LANGUAGE sql AS 'SELECT true';
";

/// `PATH` of Debian- and Alpine-based images.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

const POSTGRES_ENTRYPOINT: &str = include_str!("entrypoints/postgres.sh");
const TIMESCALEDB_ENTRYPOINT: &str = include_str!("entrypoints/timescaledb.sh");
const REDIS_ENTRYPOINT: &str = include_str!("entrypoints/redis.sh");
const APP_STAND_IN: &str = include_str!("entrypoints/app.sh");
const AWS_CLI: &str = include_str!("entrypoints/aws.sh");
/// Where images with the AWS CLI see the object store (`entrypoints/aws.sh`).
const OBJECT_STORE_MOUNT: &str = "/run/kgen-runtime-s3";

/// The kinds of image the node knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// `postgres:<v>`: Debian-based.
    Postgres,
    /// `timescale/timescaledb:<tag>`: Alpine-based PostgreSQL.
    TimescaleDb,
    /// `redis:<tag>-alpine`.
    Redis,
    /// `quay.io/prometheuscommunity/postgres-exporter:<tag>`.
    PostgresExporter,
    /// `busybox:*`, `alpine:*`.
    Busybox,
    /// `keinos/sqlite3:<tag>`: Alpine with sqlite3.
    Sqlite,
    /// `curlimages/curl:<tag>`: Alpine with curl (kgen's credentials Job).
    Curl,
    /// Anything else: the user's application, played by `entrypoints/app.sh`.
    App,
}

/// What an image built FROM a known one adds to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Addition {
    /// The AWS CLI, played by `entrypoints/aws.sh` against the scenario's
    /// object store (`ObjectStore`).
    AwsCli,
}

/// Images the shipped profiles build FROM a known one: what they are and
/// what they add.
const DERIVED_IMAGES: &[(&str, Kind, Addition)] = &[
    // platform --env aws: postgres:16 with the AWS CLI for WAL archiving.
    ("ghcr.io/example/postgres-awscli", Kind::Postgres, Addition::AwsCli),
];

fn addition(reference: &str) -> Option<Addition> {
    let (name, _tag) = split_reference(reference);
    DERIVED_IMAGES.iter().find(|(n, _, _)| *n == name).map(|(_, _, addition)| *addition)
}

impl Kind {
    pub fn of(reference: &str) -> Kind {
        let (name, _tag) = split_reference(reference);
        if let Some((_, kind, _)) = DERIVED_IMAGES.iter().find(|(n, _, _)| *n == name) {
            return *kind;
        }
        match name {
            "postgres" | "library/postgres" | "docker.io/library/postgres" => Kind::Postgres,
            "timescale/timescaledb" | "docker.io/timescale/timescaledb" | "timescale/timescaledb-ha" => {
                Kind::TimescaleDb
            }
            "redis" | "library/redis" | "docker.io/library/redis" => Kind::Redis,
            "quay.io/prometheuscommunity/postgres-exporter" | "prometheuscommunity/postgres-exporter" => {
                Kind::PostgresExporter
            }
            "busybox" | "library/busybox" | "alpine" | "library/alpine" => Kind::Busybox,
            "keinos/sqlite3" => Kind::Sqlite,
            "curlimages/curl" | "docker.io/curlimages/curl" => Kind::Curl,
            _ => Kind::App,
        }
    }
}

/// `registry/name:tag@digest` → (`registry/name`, tag).
fn split_reference(reference: &str) -> (&str, &str) {
    let without_digest = reference.split('@').next().unwrap_or(reference);
    match without_digest.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, tag),
        _ => (without_digest, "latest"),
    }
}

/// What an image gives a container.
#[derive(Clone, Debug)]
pub struct Image {
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub env: Vec<(String, String)>,
    pub uid: u32,
    pub gid: u32,
    pub workdir: String,
    /// The signal the runtime stops the container with (`STOPSIGNAL`).
    pub stop_signal: &'static str,
    /// Lines the image prints once it has set up and serves (see
    /// `pod::Pod::wait_ready`).
    pub started_markers: &'static [&'static str],
    /// Content bound read-only over the host view.
    pub binds: Vec<Bind>,
    /// Directories the image has (empty here).
    pub dirs: Vec<String>,
}

/// How the app stand-in behaves beyond what its environment says.
#[derive(Clone, Debug, Default)]
pub struct AppOptions {
    /// Create the migration table on start even without `DB_AUTO_MIGRATE=true`
    /// (an app that migrates by itself, like Prisma's `migrate deploy`).
    pub always_migrate_on_start: bool,
}

/// The images of one scenario, built under `root` on first use.
pub struct Images {
    root: PathBuf,
    pub app: AppOptions,
    object_store: ObjectStore,
    built: BTreeMap<String, PathBuf>,
}

impl Images {
    pub fn new(root: &Path, object_store: &ObjectStore) -> Images {
        Images {
            root: root.to_path_buf(),
            app: AppOptions::default(),
            object_store: object_store.clone(),
            built: BTreeMap::new(),
        }
    }

    /// What `container`'s image gives it. The app stand-in depends on the
    /// container (its probe paths, the path its `command` names).
    pub fn for_container(&mut self, container: &Container) -> Image {
        let reference = container.image.clone().unwrap_or_default();
        match Kind::of(&reference) {
            Kind::Postgres => self.postgres(addition(&reference) == Some(Addition::AwsCli)),
            Kind::TimescaleDb => self.timescaledb(),
            Kind::Redis => self.redis(),
            Kind::PostgresExporter => self.exporter(),
            Kind::Busybox => self.busybox(Kind::Busybox),
            Kind::Sqlite => self.busybox(Kind::Sqlite),
            Kind::Curl => self.busybox(Kind::Curl),
            Kind::App => self.app(container),
        }
    }

    /// The postgres image, with the AWS CLI (and the object store it
    /// reaches) when `aws_cli`.
    fn postgres(&mut self, aws_cli: bool) -> Image {
        let name = if aws_cli { "postgres-awscli/local-bin" } else { "postgres/local-bin" };
        let bin = self.build(name, |dir| {
            write_executable(&dir.join("docker-entrypoint.sh"), POSTGRES_ENTRYPOINT);
            if aws_cli {
                write_executable(&dir.join("aws"), AWS_CLI);
            }
        });
        let mut binds = vec![ro(bin, "/usr/local/bin")];
        if aws_cli {
            binds.push(Bind {
                host: self.object_store.root.clone(),
                dest: OBJECT_STORE_MOUNT.into(),
                read_only: false,
            });
        }
        Image {
            entrypoint: vec!["docker-entrypoint.sh".into()],
            cmd: vec!["postgres".into()],
            env: vec![
                ("PATH".into(), format!("/usr/local/sbin:/usr/local/bin:{}:/usr/sbin:/usr/bin:/sbin:/bin", pg_bin())),
                ("PG_MAJOR".into(), pg_major().unwrap_or_default().to_string()),
                // The image generates en_US.utf8; this host has C.UTF-8.
                ("LANG".into(), "C.UTF-8".into()),
                ("PGDATA".into(), "/var/lib/postgresql/data".into()),
            ],
            uid: 0,
            gid: 0,
            workdir: "/".into(),
            stop_signal: "INT",
            started_markers: POSTGRES_STARTED,
            binds,
            dirs: postgres_dirs(),
        }
    }

    fn timescaledb(&mut self) -> Image {
        // Alpine: busybox userland, PostgreSQL's programs in /usr/local/bin.
        let bin = self.build("timescaledb/local-bin", |dir| {
            install_busybox(dir);
            link_all(Path::new(&pg_bin()), dir);
            write_executable(&dir.join("postgres-docker-entrypoint.sh"), POSTGRES_ENTRYPOINT);
            write_executable(&dir.join("docker-entrypoint.sh"), TIMESCALEDB_ENTRYPOINT);
        });
        let extensions = self.build("timescaledb/extension", |dir| {
            for entry in std::fs::read_dir(pg_extensions()).expect("PostgreSQL's extension directory") {
                let entry = entry.unwrap();
                std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
            }
            // A stub: CREATE EXTENSION timescaledb succeeds and does nothing.
            let control = format!(
                "# Stub of TimescaleDB for kgen's runtime tests (not packaged for Debian).\n\
                 comment = 'stub of timescaledb: no hypertables'\n\
                 default_version = '{TIMESCALEDB_STUB_VERSION}'\n\
                 relocatable = false\n\
                 schema = public\n"
            );
            std::fs::write(dir.join("timescaledb.control"), control).unwrap();
            std::fs::write(dir.join(format!("timescaledb--{TIMESCALEDB_STUB_VERSION}.sql")), TIMESCALEDB_STUB_SQL)
                .unwrap();
        });
        Image {
            entrypoint: vec!["docker-entrypoint.sh".into()],
            cmd: vec!["postgres".into()],
            env: vec![
                ("PATH".into(), DEFAULT_PATH.into()),
                ("PG_MAJOR".into(), pg_major().unwrap_or_default().to_string()),
                ("LANG".into(), "C.UTF-8".into()),
                ("PGDATA".into(), "/var/lib/postgresql/data".into()),
            ],
            uid: 0,
            gid: 0,
            workdir: "/".into(),
            stop_signal: "INT",
            started_markers: POSTGRES_STARTED,
            binds: vec![ro(bin, "/usr/local/bin"), ro(extensions, &pg_extensions())],
            dirs: postgres_dirs(),
        }
    }

    fn redis(&mut self) -> Image {
        let bin = self.build("redis/local-bin", |dir| {
            install_busybox(dir);
            for program in ["redis-server", "redis-cli", "redis-benchmark", "redis-check-aof", "redis-check-rdb"] {
                let host = Path::new("/usr/bin").join(program);
                if host.exists() {
                    symlink(&host, dir.join(program)).unwrap();
                }
            }
            write_executable(&dir.join("docker-entrypoint.sh"), REDIS_ENTRYPOINT);
        });
        Image {
            entrypoint: vec!["docker-entrypoint.sh".into()],
            cmd: vec!["redis-server".into()],
            env: vec![("PATH".into(), DEFAULT_PATH.into())],
            uid: 0,
            gid: 0,
            workdir: "/data".into(),
            stop_signal: "TERM",
            started_markers: &["Ready to accept connections"],
            binds: vec![ro(bin, "/usr/local/bin")],
            dirs: vec!["/data".into()],
        }
    }

    fn exporter(&mut self) -> Image {
        // A busybox base whose /bin holds the exporter (Debian's 0.11.1; the
        // variables and the :9187 default are the same as the image's).
        let bin = self.build("postgres-exporter/bin", |dir| {
            install_busybox(dir);
            symlink("/usr/bin/prometheus-postgres-exporter", dir.join("postgres_exporter")).unwrap();
        });
        Image {
            entrypoint: vec!["/bin/postgres_exporter".into()],
            cmd: vec![],
            env: vec![("PATH".into(), DEFAULT_PATH.into())],
            uid: 65534,
            gid: 65534,
            workdir: "/".into(),
            stop_signal: "TERM",
            started_markers: &["msg=\"Listening on\""],
            binds: vec![ro(bin, "/bin")],
            dirs: vec![],
        }
    }

    fn busybox(&mut self, kind: Kind) -> Image {
        let bin = self.build("busybox/local-bin", install_busybox);
        // keinos/sqlite3 is Alpine with /usr/bin/sqlite3 and user `sqlite`,
        // curlimages/curl Alpine with /usr/bin/curl and user `curl_user`
        // (both programs are there on this host); busybox and alpine run a
        // shell as root.
        let (cmd, uid) = match kind {
            Kind::Sqlite => (vec!["/bin/sh".into(), "-c".into(), "/usr/bin/sqlite3".into()], 100),
            Kind::Curl => (vec!["/usr/bin/curl".into()], 100),
            _ => (vec!["sh".into()], 0),
        };
        Image {
            entrypoint: vec![],
            cmd,
            env: vec![("PATH".into(), DEFAULT_PATH.into())],
            uid,
            gid: uid,
            workdir: "/".into(),
            stop_signal: "TERM",
            started_markers: &[],
            binds: vec![ro(bin, "/usr/local/bin")],
            dirs: vec![],
        }
    }

    /// The app stand-in at the image's entrypoint and wherever the
    /// container's `command` names a program (`/app/clockwork` …), with a
    /// document root answering the container's HTTP probe paths.
    fn app(&mut self, container: &Container) -> Image {
        let probe_paths = http_probe_paths(container);
        let ports: Vec<String> = container
            .ports
            .iter()
            .flatten()
            .filter(|p| p.protocol.as_deref().unwrap_or("TCP") == "TCP")
            .map(|p| p.container_port.to_string())
            .collect();
        let always = self.app.always_migrate_on_start;
        let share_name = format!("app/share-{}", hex_id(&format!("{probe_paths:?} {ports:?} {always}")));
        let share = self.build(&share_name, |dir| {
            let www = dir.join("www");
            std::fs::create_dir_all(&www).unwrap();
            for path in probe_paths.iter().chain(std::iter::once(&"/index.html".to_string())) {
                let file = www.join(path.trim_start_matches('/'));
                std::fs::create_dir_all(file.parent().unwrap()).unwrap();
                std::fs::write(&file, "ok\n").unwrap();
                set_mode(&file, 0o644);
            }
            let conf = format!(
                "ALWAYS_MIGRATE_ON_START={}\nPORTS=\"{}\"\nPSQL={}/psql\n",
                if always { "yes" } else { "no" },
                ports.join(" "),
                pg_bin()
            );
            std::fs::write(dir.join("stand-in.conf"), conf).unwrap();
            set_mode_tree(dir);
        });
        let stand_in = self.build("app/stand-in", |dir| {
            write_executable(&dir.join("app"), APP_STAND_IN);
        });
        let stand_in = stand_in.join("app");
        let mut binds =
            vec![ro(share, "/usr/local/share/kgen-app-stand-in"), ro(stand_in.clone(), "/usr/local/bin/app")];
        if let Some(program) = container.command.as_ref().and_then(|c| c.first())
            && !is_shell(program)
        {
            let dest = if program.starts_with('/') { program.clone() } else { format!("/usr/local/bin/{program}") };
            binds.push(ro(stand_in, &dest));
        }
        Image {
            entrypoint: vec!["/usr/local/bin/app".into()],
            cmd: vec![],
            env: vec![("PATH".into(), DEFAULT_PATH.into())],
            uid: 0,
            gid: 0,
            workdir: "/".into(),
            stop_signal: "TERM",
            started_markers: &["kgen-stand-in: serving HTTP"],
            binds,
            dirs: vec![],
        }
    }

    /// `root/name`, made by `fill` the first time it is asked for.
    fn build(&mut self, name: &str, fill: impl FnOnce(&Path)) -> PathBuf {
        if let Some(dir) = self.built.get(name) {
            return dir.clone();
        }
        let dir = self.root.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        fill(&dir);
        set_mode(&dir, 0o755);
        self.built.insert(name.to_string(), dir.clone());
        dir
    }
}

fn postgres_dirs() -> Vec<String> {
    ["/var/lib/postgresql/data", "/var/run/postgresql", "/docker-entrypoint-initdb.d"].map(String::from).to_vec()
}

fn ro(host: PathBuf, dest: &str) -> Bind {
    Bind { host, dest: dest.to_string(), read_only: true }
}

fn is_shell(program: &str) -> bool {
    let name = program.rsplit('/').next().unwrap_or(program);
    matches!(name, "sh" | "bash" | "ash" | "dash")
}

/// The paths of a container's httpGet probes.
fn http_probe_paths(container: &Container) -> Vec<String> {
    let probes = [&container.startup_probe, &container.readiness_probe, &container.liveness_probe];
    let mut paths: Vec<String> = probes
        .iter()
        .filter_map(|p| p.as_ref()?.http_get.as_ref())
        .map(|h| h.path.clone().unwrap_or_else(|| "/".into()))
        .map(|p| p.split('?').next().unwrap_or_default().to_string())
        .filter(|p| p != "/")
        .collect();
    paths.sort();
    paths.dedup();
    paths
}

fn hex_id(text: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes()).iter().take(4).map(|b| format!("{b:02x}")).collect()
}

/// Applets that Debian's busybox builds without features Alpine's has
/// (`find -delete`): the host's GNU programs stand in for them.
const APPLETS_FROM_HOST: &[&str] = &["find"];

/// A busybox userland: a link per applet, first on `PATH`.
fn install_busybox(dir: &Path) {
    let out = std::process::Command::new("busybox").arg("--list").output().expect("busybox runs");
    let applets = String::from_utf8_lossy(&out.stdout).into_owned();
    for applet in applets.lines().filter(|l| !l.is_empty() && !APPLETS_FROM_HOST.contains(l)) {
        let _ = symlink("/usr/bin/busybox", dir.join(applet));
    }
}

/// A link in `dir` to every program of `from`.
fn link_all(from: &Path, dir: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let link = dir.join(entry.file_name());
        let _ = std::fs::remove_file(&link);
        symlink(entry.path(), link).unwrap();
    }
}

fn write_executable(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    set_mode(path, 0o755);
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Directories 0755, files 0644: readable by any UID.
fn set_mode_tree(dir: &Path) {
    set_mode(dir, 0o755);
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            set_mode_tree(&path);
        } else {
            set_mode(&path, 0o644);
        }
    }
}

/// The scenario's S3: a directory per bucket, objects as files under their
/// keys, reached by the AWS CLI of the images that have it (bound read-write
/// at `OBJECT_STORE_MOUNT`, as the network would reach the service). It
/// starts with no bucket, so that archiving fails until a test creates one.
#[derive(Clone, Debug)]
pub struct ObjectStore {
    root: PathBuf,
}

impl ObjectStore {
    /// An empty store at `root` (writable by every UID, as a service that
    /// takes any caller's upload).
    pub fn new(root: &Path) -> ObjectStore {
        std::fs::create_dir_all(root).unwrap();
        set_mode(root, 0o777);
        ObjectStore { root: root.to_path_buf() }
    }

    pub fn create_bucket(&self, bucket: &str) {
        let dir = self.root.join(bucket);
        std::fs::create_dir_all(&dir).unwrap();
        set_mode(&dir, 0o777);
    }

    /// Where an object is (or would be) on the host.
    pub fn object_path(&self, bucket: &str, key: &str) -> PathBuf {
        self.root.join(bucket).join(key)
    }

    /// Keys of a bucket's objects, sorted.
    pub fn keys(&self, bucket: &str) -> Vec<String> {
        let base = self.root.join(bucket);
        let mut out = vec![];
        let mut pending = vec![base.clone()];
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    pending.push(path);
                } else if !entry.file_name().to_string_lossy().starts_with(".upload.") {
                    out.push(path.strip_prefix(&base).unwrap().to_string_lossy().into_owned());
                }
            }
        }
        out.sort();
        out
    }

    /// Every `aws` call so far: its exit status and arguments, in order.
    pub fn calls(&self) -> Vec<(u8, String)> {
        let log = std::fs::read_to_string(self.root.join(".calls")).unwrap_or_default();
        log.lines()
            .filter_map(|l| {
                let (status, call) = l.split_once(' ')?;
                Some((status.parse().ok()?, call.to_string()))
            })
            .collect()
    }

    /// Make every `aws` call fail before any transfer with `status` (the
    /// CLI's 255: credentials it cannot load, an endpoint it cannot reach),
    /// or, with `None`, work again.
    pub fn fail_every_call_with(&self, status: Option<u8>) {
        let file = self.root.join(".exit-status");
        match status {
            Some(status) => {
                std::fs::write(&file, format!("{status}\n")).unwrap();
                set_mode(&file, 0o644);
            }
            None => {
                let _ = std::fs::remove_file(file);
            }
        }
    }
}
