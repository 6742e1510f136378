//! Databases, the cache and migrations: where the data lives, how the
//! components reach it (environment variables, init containers, the SQLite
//! volume) and what is checked (single-writer SQLite, references, names).

use super::workload::preset;
use super::{Builder, CredentialPlace};
use crate::diagnostic::Code;
use crate::diagnostic::Diagnostic;
use crate::model::names::{self, NameRule};
use crate::model::refs::TextRefs;
use crate::model::*;
use crate::model::{cron, quantity};
use crate::path;
use crate::profile::{self, DatabaseMode, Engine};
use crate::yaml::PathSegment;

/// Default major PostgreSQL version.
const POSTGRES_VERSION: u32 = 17;
/// TimescaleDB release used for the default image.
const TIMESCALEDB_RELEASE: &str = "2.17.2";
/// Image for SQLite backups: sqlite3 and a POSIX shell.
const SQLITE_BACKUP_IMAGE: &str = "keinos/sqlite3:3.46.1";
const REDIS_IMAGE: &str = "redis:7.4-alpine";

impl Builder<'_> {
    /// Every database of the profile, with the components that use it.
    pub(super) fn databases(&mut self, app: &str) -> Vec<Database> {
        let p = &self.loaded.profile;
        let several = p.databases.len() > 1;
        let mut out = Vec::new();
        for (key, db) in &p.databases {
            let at = path!["databases", key].to_vec();
            if let Err(why) = names::dns1123_label(key, 63) {
                self.key_error(Code::DatabaseName, &at, format!("database name `{key}` {why}"));
                continue;
            }
            if p.components.contains_key(key) {
                self.key_error(Code::DatabaseName, &at, format!("`{key}` names both a database and a component"));
            }
            let used_by: Vec<String> = p
                .components
                .iter()
                .filter(|(_, c)| c.databases.as_ref().is_none_or(|list| list.contains(key)))
                .map(|(k, _)| k.clone())
                .collect();
            let engine = db.engine.unwrap_or(Engine::Postgres);
            let mode = db.mode.unwrap_or(DatabaseMode::InCluster);
            self.check_applicable(&at, db, engine, mode);
            let env = db.env.clone().unwrap_or_else(|| {
                if several {
                    format!("{}_DATABASE_URL", key.to_ascii_uppercase().replace('-', "_"))
                } else {
                    "DATABASE_URL".into()
                }
            });
            if let Err(why) = names::env_var_name(&env) {
                self.error(Code::EnvVar, &[at.as_slice(), &path!["env"]].concat(), format!("variable `{env}` {why}"));
            }
            let name = db.name.clone().unwrap_or_else(|| naming::database(app, key));
            let kind = match (engine, mode) {
                (Engine::Sqlite, _) => match self.sqlite(&at, key, db, app, &used_by) {
                    Some(s) => DatabaseKind::Sqlite(s),
                    None => continue,
                },
                (_, DatabaseMode::Managed) => DatabaseKind::Managed(self.managed(&at, db)),
                (_, DatabaseMode::Operator) => {
                    DatabaseKind::Operator(Box::new(self.operator(&at, key, db, engine, &name, app)))
                }
                (_, DatabaseMode::InCluster) => {
                    DatabaseKind::InCluster(Box::new(self.in_cluster(&at, key, db, engine, &name, app)))
                }
            };
            out.push(Database { key: key.clone(), env, used_by, kind });
        }
        for (ckey, c) in &p.components {
            for (i, used) in c.databases.iter().flatten().enumerate() {
                if !p.databases.contains_key(used) {
                    let declared: Vec<String> = p.databases.keys().map(|k| format!("`{k}`")).collect();
                    let hint = if declared.is_empty() {
                        "declare it under `databases`".to_string()
                    } else {
                        format!("declared databases: {}", declared.join(", "))
                    };
                    self.error_hint(
                        Code::DatabaseName,
                        &path!["components", ckey, "databases", i],
                        format!("component `{ckey}` uses database `{used}`, which the profile does not define"),
                        hint,
                    );
                }
            }
        }
        out
    }

    /// Fields that make sense only for some engines and modes.
    fn check_applicable(&mut self, at: &[PathSegment], db: &profile::Database, engine: Engine, mode: DatabaseMode) {
        let set: [(&str, bool); 21] = [
            ("mode", db.mode.is_some()),
            ("user", db.user.is_some()),
            ("version", db.version.is_some()),
            ("image", db.image.is_some()),
            ("resources", db.resources.is_some()),
            (
                "credentials",
                db.credentials.secret.is_some()
                    || db.credentials.password_key.is_some()
                    || db.credentials.url_key.is_some(),
            ),
            ("parameters", !db.parameters.is_empty()),
            ("extensions", !db.extensions.is_empty()),
            ("timezone", db.timezone.is_some()),
            ("initScripts", !db.init_scripts.is_empty()),
            ("walArchive", db.wal_archive.is_some()),
            ("url", db.url.is_some()),
            ("sslMode", db.ssl_mode.is_some()),
            ("instances", db.instances.is_some()),
            ("path", db.path.is_some()),
            ("tuning", db.tuning.is_some()),
            ("walMode", db.wal_mode.is_some()),
            ("exporter", db.exporter.is_some()),
            ("database", db.database.is_some()),
            ("name", db.name.is_some()),
            (
                "storage",
                db.storage.size.is_some()
                    || db.storage.class.is_some()
                    || db.storage.provider.is_some()
                    || db.storage.claim.is_some()
                    || db.storage.access_modes.is_some(),
            ),
        ];
        let (allowed, what): (&[&str], &str) = match (engine, mode) {
            (Engine::Sqlite, _) => (&["path", "tuning", "walMode", "storage"], "sqlite"),
            (_, DatabaseMode::Managed) => (&["mode", "url", "sslMode"], "a managed database"),
            (_, DatabaseMode::Operator) => (
                &[
                    "mode",
                    "name",
                    "database",
                    "user",
                    "version",
                    "image",
                    "resources",
                    "parameters",
                    "extensions",
                    "timezone",
                    "instances",
                    "storage",
                ],
                "an operator database",
            ),
            (_, DatabaseMode::InCluster) => (
                &[
                    "mode",
                    "name",
                    "database",
                    "user",
                    "version",
                    "image",
                    "resources",
                    "credentials",
                    "parameters",
                    "extensions",
                    "timezone",
                    "initScripts",
                    "walArchive",
                    "exporter",
                    "storage",
                ],
                "an in-cluster database",
            ),
        };
        for (field, is_set) in set {
            if is_set && !allowed.contains(&field) {
                let hint = match field {
                    "url" | "sslMode" => "`url` and `sslMode` describe a managed database: add `mode: managed`",
                    "instances" => "`instances` applies to `mode: operator` (CloudNativePG)",
                    "exporter" if mode == DatabaseMode::Operator => {
                        "CloudNativePG exports metrics itself; with `monitoring`, kgen adds a PodMonitor for them"
                    }
                    "exporter" => "the exporter runs beside a PostgreSQL server kgen runs (`mode: in-cluster`)",
                    "path" | "tuning" | "walMode" => "these apply to `engine: sqlite`",
                    _ => "remove it",
                };
                self.diag(
                    Diagnostic::error(Code::DatabaseMode, format!("`{field}` does not apply to {what}")).hint(hint),
                    &[at, &path![field]].concat(),
                    true,
                );
            }
        }
        if mode == DatabaseMode::Managed && db.url.is_none() {
            self.error_hint(
                Code::DatabaseMode,
                at,
                "a managed database needs `url`",
                "add `url: {secret: <name>, key: DATABASE_URL}` (an existing Secret)",
            );
        }
    }

    fn sqlite(
        &mut self,
        at: &[PathSegment],
        key: &str,
        db: &profile::Database,
        app: &str,
        used_by: &[String],
    ) -> Option<Sqlite> {
        let p = &self.loaded.profile;
        let component = match used_by {
            [one] => one.clone(),
            [] => {
                self.error_hint(
                    Code::Sqlite,
                    at,
                    format!("no component uses the sqlite database `{key}`"),
                    "list it in a component's `databases`",
                );
                return None;
            }
            many => {
                self.error_hint(Code::Sqlite,
                    at,
                    format!("the sqlite database `{key}` is used by {} components ({})", many.len(), many.join(", ")),
                    "SQLite has a single writer and its file lives on one pod's volume: give it to one component (its `databases`), or use `engine: postgres`",
                );
                return None;
            }
        };
        let c = &p.components[&component];
        if c.autoscaling.as_ref().is_some_and(|a| a.enabled != Some(false)) {
            self.error_hint(
                Code::Sqlite,
                &path!["components", &component, "autoscaling"],
                format!("`{component}` keeps an SQLite database, so it cannot autoscale"),
                "SQLite allows one writer and locks its file on one node's volume; to scale out use `engine: postgres`",
            );
        }
        let replicas = c.replicas.unwrap_or(1);
        if replicas > 1 {
            self.error_hint(Code::Sqlite,
                &path!["components", &component, "replicas"],
                format!("`{component}` keeps an SQLite database, so it runs exactly one replica (found {replicas})"),
                "SQLite allows one writer and locks its file on one node's volume; for more replicas use `engine: postgres`",
            );
        }
        if p.databases.values().filter(|d| d.engine == Some(Engine::Sqlite)).count() > 1 {
            self.error_hint(
                Code::Sqlite,
                at,
                "only one sqlite database per app is supported",
                "keep the tables in one file, or use postgres",
            );
        }
        let path = db.path.clone().unwrap_or_else(|| format!("/app/data/{app}.db"));
        let parent = path.rsplit_once('/').map(|(d, _)| d.to_string()).unwrap_or_default();
        if !path.starts_with('/') || parent.is_empty() || path.ends_with('/') {
            self.error(
                Code::Sqlite,
                &[at, &path!["path"]].concat(),
                format!("`{path}` must be an absolute file path in a directory, such as /app/data/app.db"),
            );
        }
        let (open, idle, cache) = match db.tuning.unwrap_or(profile::SqliteTuning::Default) {
            profile::SqliteTuning::Default => (25, 5, 64000),
            profile::SqliteTuning::HighTraffic => (50, 5, 128000),
            profile::SqliteTuning::LowMemory => (10, 5, 32000),
        };
        let storage = self.storage_request(&[at, &path!["storage"]].concat(), &db.storage, "1Gi");
        let name = naming::component_object_name(app, &component);
        let backup = self.backup(at, db, &name, &storage, SQLITE_BACKUP_IMAGE);
        self.sqlite_volumes.push((component.clone(), SqliteVolume { mount_path: parent, claim: storage }));
        Some(Sqlite {
            component,
            path,
            max_open_conns: open,
            max_idle_conns: idle,
            cache_size_kb: cache,
            wal_mode: db.wal_mode.unwrap_or(true),
            backup,
        })
    }

    fn managed(&mut self, at: &[PathSegment], db: &profile::Database) -> Managed {
        let url = db.url.clone().unwrap_or_default();
        if db.url.is_some() {
            self.apply_rule(
                Code::SecretName,
                &[at, &path!["url", "secret"]].concat(),
                "Secret name",
                &url.secret,
                |s| names::dns1123_subdomain(s, 253),
            );
        }
        Managed {
            secret: url.secret,
            key: url.key.unwrap_or_else(|| "DATABASE_URL".into()),
            ssl_mode: db.ssl_mode.clone(),
        }
    }

    /// The major version, from `version`, the image tag (when the image is
    /// valid), or the default.
    fn major_version(&mut self, at: &[PathSegment], db: &profile::Database, image_ok: bool) -> u32 {
        if let Some(v) = &db.version {
            return match v.split('.').next().and_then(|m| m.parse::<u32>().ok()).filter(|m| (12..=30).contains(m)) {
                Some(m) => m,
                None => {
                    self.error(
                        Code::DatabaseVersion,
                        &[at, &path!["version"]].concat(),
                        format!("version `{v}` is not a PostgreSQL major version such as 16 or 17"),
                    );
                    POSTGRES_VERSION
                }
            };
        }
        if let Some(image) = &db.image
            && image_ok
        {
            let tag = image.rsplit_once(':').map(|(_, t)| t).unwrap_or("");
            let digits = |s: &str| s.chars().take_while(char::is_ascii_digit).collect::<String>();
            let candidate = match tag.rsplit_once("-pg") {
                Some((_, pg)) => digits(pg),
                None => digits(tag),
            };
            return match candidate.parse::<u32>().ok().filter(|m| (12..=30).contains(m)) {
                Some(m) => m,
                None => {
                    self.error_hint(
                        Code::DatabaseVersion,
                        &[at, &path!["image"]].concat(),
                        format!("cannot tell the PostgreSQL version of `{image}`"),
                        "add `version: <major>`: it decides where the data directory goes",
                    );
                    POSTGRES_VERSION
                }
            };
        }
        POSTGRES_VERSION
    }

    fn in_cluster(
        &mut self,
        at: &[PathSegment],
        key: &str,
        db: &profile::Database,
        engine: Engine,
        name: &str,
        app: &str,
    ) -> Postgres {
        self.database_name(at, db, name, NameRule::StatefulSet);
        let image_ok = self.image_field(&[at, &path!["image"]].concat(), db.image.as_deref());
        let major = self.major_version(at, db, image_ok);
        let image = db.image.clone().unwrap_or_else(|| default_image(engine, major));
        let (database, user) = self.sql_identities(at, db, key, app);
        let password_secret = db.credentials.secret.clone().unwrap_or_else(|| naming::password_secret(name));
        // A Secret the profile creates from its inputs is not generated.
        let generate_password = db.credentials.generate.unwrap_or(db.credentials.secret.is_none())
            && !self.loaded.profile.secrets.contains_key(&password_secret);
        self.apply_rule(
            Code::SecretName,
            &[at, &path!["credentials", "secret"]].concat(),
            "Secret name",
            &password_secret,
            |s| names::dns1123_subdomain(s, 253),
        );
        let storage_at = [at, &path!["storage"]].concat();
        let storage = self.storage_request(&storage_at, &db.storage, "10Gi");
        let claim = db.storage.claim.clone();
        if let Some(c) = &claim {
            self.apply_rule(Code::Storage, &[storage_at.as_slice(), &path!["claim"]].concat(), "claim name", c, |s| {
                names::dns1123_subdomain(s, 253)
            });
        } else if db.storage.existing_claim == Some(true) {
            self.error_hint(
                Code::Storage,
                &storage_at,
                "`existingClaim` needs the claim's name in `claim`",
                "add `claim: <name>`",
            );
        }
        let resources =
            self.resources_or(&[at, &path!["resources"]].concat(), db.resources.as_ref(), database_resources());
        let mut parameters = tuned_parameters(&resources);
        self.override_parameters(at, &mut parameters, db);
        let wal_archive = db.wal_archive.as_ref().and_then(|w| self.wal_archive(at, db, w, &mut parameters));
        let mut extensions = db.extensions.clone();
        if engine == Engine::Timescaledb && !extensions.iter().any(|e| e == "timescaledb") {
            extensions.insert(0, "timescaledb".into());
        }
        preload_libraries(&mut parameters, &extensions);
        let init_sql = self.init_sql(at, db, &extensions, &database);
        let mut init_scripts = Vec::new();
        if let Some(sql) = init_sql {
            init_scripts.push(("01-init-database.sql".to_string(), sql));
        }
        for (file, content) in &db.init_scripts {
            if let Err(why) = names::data_key(file) {
                self.key_error(
                    Code::DatabaseSetup,
                    &[at, &path!["initScripts", file]].concat(),
                    format!("script name `{file}` {why}"),
                );
            } else if !(file.ends_with(".sql") || file.ends_with(".sh") || file.ends_with(".sql.gz")) {
                self.key_error(
                    Code::DatabaseSetup,
                    &[at, &path!["initScripts", file]].concat(),
                    format!("`{file}` must end in .sql, .sql.gz or .sh (the image runs only those)"),
                );
            }
            init_scripts.push((file.clone(), content.clone()));
        }
        let backup = self.backup(at, db, name, &storage, &image);
        let exporter =
            (db.exporter == Some(true)).then(|| Exporter { image: super::monitoring::EXPORTER_IMAGE.into() });
        Postgres {
            name: name.to_string(),
            engine: if engine == Engine::Timescaledb { "timescaledb" } else { "postgresql" },
            image,
            major,
            database,
            user,
            password_secret,
            password_key: db.credentials.password_key.clone().unwrap_or_else(|| "password".into()),
            generate_password,
            url_key: db.credentials.url_key.clone(),
            storage,
            create_claim: claim.is_some() && db.storage.existing_claim != Some(true),
            claim,
            resources,
            parameters,
            init_scripts,
            backup,
            wal_archive,
            exporter,
        }
    }

    /// WAL archiving: the archive tool must come from an image of the
    /// user's, with its credentials named, and nothing else may set the
    /// archive command.
    fn wal_archive(
        &mut self,
        at: &[PathSegment],
        db: &profile::Database,
        w: &profile::WalArchive,
        parameters: &mut Vec<(String, String)>,
    ) -> Option<WalArchive> {
        let here = [at, &path!["walArchive"]].concat();
        let mut ok = true;
        // A command line like any other: no credential in plain text.
        self.no_credential(
            &[here.as_slice(), &path!["command"]].concat(),
            CredentialPlace::Command("`walArchive.command`"),
            &w.command,
        );
        if w.command.trim().is_empty() || w.command.contains('\n') || w.command.contains('\0') {
            self.error(
                Code::WalArchive,
                &[here.as_slice(), &path!["command"]].concat(),
                "the archive command must be one non-empty line",
            );
            ok = false;
        }
        if db.image.is_none() {
            self.error_hint(Code::WalArchive,
                &here,
                "WAL archiving needs an image with the archive tool: the stock PostgreSQL images have none, so every segment would fail to archive and the volume would fill",
                "set `image` to one that carries the tool (e.g. the AWS CLI or wal-g), or use `mode: operator` (CloudNativePG's Barman Cloud plugin archives WAL)",
            );
            ok = false;
        }
        let auth = match (&w.secret, w.service_account_annotations.is_empty()) {
            (Some(secret), true) => {
                self.apply_rule(
                    Code::SecretName,
                    &[here.as_slice(), &path!["secret"]].concat(),
                    "Secret name",
                    secret,
                    |s| names::dns1123_subdomain(s, 253),
                );
                Some(ArchiveAuth::Secret(secret.clone()))
            }
            (None, false) => {
                for key in w.service_account_annotations.keys() {
                    if let Err(why) = names::qualified_key(key) {
                        self.key_error(
                            Code::LabelOrAnnotation,
                            &[here.as_slice(), &path!["serviceAccountAnnotations", key]].concat(),
                            format!("annotation `{key}` {why}"),
                        );
                    }
                }
                Some(ArchiveAuth::ServiceAccount(w.service_account_annotations.clone().into_iter().collect()))
            }
            (Some(_), false) => {
                self.error(
                    Code::WalArchive,
                    &here,
                    "give the archive tool's credentials one way: `secret` or `serviceAccountAnnotations`",
                );
                None
            }
            (None, true) => {
                self.error_hint(Code::WalArchive,
                    &here,
                    "WAL archiving needs the archive tool's credentials",
                    "add `secret: <Secret with the tool's environment>` or `serviceAccountAnnotations` for a cloud identity (e.g. `eks.amazonaws.com/role-arn`)",
                );
                None
            }
        };
        if !ok {
            return None;
        }
        // A missing tool exits 127, which stops the archiver without counting a
        // failure (pg_stat_archiver would show nothing wrong): any failure
        // is made an ordinary one, which is counted, alerted on and retried.
        let command = format!("( {} ) || exit 1", w.command.trim());
        for (k, v) in [("wal_level", "replica"), ("archive_mode", "on"), ("archive_command", command.as_str())] {
            parameters.retain(|(name, _)| name != k);
            parameters.push((k.into(), v.into()));
        }
        auth.map(|auth| WalArchive { auth })
    }

    /// With monitoring on, WAL archiving is watched through the exporter:
    /// say so when nothing would notice it failing.
    pub(super) fn unwatched_archives(&mut self, databases: &[Database], monitoring: Option<&Monitoring>) {
        let Some(m) = monitoring else { return };
        let alerting = m.alerts.as_ref().is_some_and(|a| a.wal_archive.is_some());
        for db in databases {
            let DatabaseKind::InCluster(p) = &db.kind else { continue };
            if p.wal_archive.is_some() && alerting && (p.exporter.is_none() || m.scrape.is_none()) {
                self.warning(
                    &path!["databases", &db.key, "walArchive"],
                    "nothing alerts when WAL archiving fails: the alert reads the database's exporter, which is off or not scraped",
                    "set `exporter: true` on the database (and keep `monitoring.serviceMonitor` on)",
                );
            }
        }
    }

    fn operator(
        &mut self,
        at: &[PathSegment],
        key: &str,
        db: &profile::Database,
        engine: Engine,
        name: &str,
        app: &str,
    ) -> Operator {
        self.database_name(at, db, name, NameRule::StatefulSet);
        if engine == Engine::Timescaledb && db.image.is_none() {
            self.error_hint(
                Code::OperatorDatabase,
                at,
                "CloudNativePG's images do not include TimescaleDB",
                "set `image` to a CloudNativePG-compatible image with TimescaleDB, or use `mode: in-cluster`",
            );
        }
        let image_ok = self.image_field(&[at, &path!["image"]].concat(), db.image.as_deref());
        let image = match (&db.image, &db.version) {
            (Some(i), _) => {
                self.major_version(at, db, image_ok);
                Some(i.clone())
            }
            (None, Some(_)) => {
                Some(format!("ghcr.io/cloudnative-pg/postgresql:{}", self.major_version(at, db, image_ok)))
            }
            (None, None) => None,
        };
        let (database, user) = self.sql_identities(at, db, key, app);
        let storage = self.storage_request(&[at, &path!["storage"]].concat(), &db.storage, "10Gi");
        if db.storage.claim.is_some() {
            self.error(
                Code::OperatorDatabase,
                &[at, &path!["storage", "claim"]].concat(),
                "the operator creates its own claims; `claim` does not apply",
            );
        }
        let resources =
            self.resources_or(&[at, &path!["resources"]].concat(), db.resources.as_ref(), database_resources());
        let mut parameters = tuned_parameters(&resources);
        self.override_parameters(at, &mut parameters, db);
        if let Some(i) = parameters.iter().position(|(k, _)| k == "shared_preload_libraries") {
            self.error_hint(
                Code::DatabaseSetup,
                &[at, &path!["parameters", "shared_preload_libraries"]].concat(),
                "CloudNativePG manages shared_preload_libraries itself",
                "remove it; TimescaleDB is preloaded for `engine: timescaledb`",
            );
            parameters.remove(i);
        }
        let mut shared_preload_libraries: Vec<String> =
            db.extensions.iter().filter(|e| PRELOADED_EXTENSIONS.contains(&e.as_str())).cloned().collect();
        if engine == Engine::Timescaledb && !shared_preload_libraries.iter().any(|l| l == "timescaledb") {
            shared_preload_libraries.insert(0, "timescaledb".into());
        }
        let mut init_sql = Vec::new();
        if engine == Engine::Timescaledb && !db.extensions.iter().any(|e| e == "timescaledb") {
            init_sql.push("CREATE EXTENSION IF NOT EXISTS \"timescaledb\";".to_string());
        }
        for ext in &db.extensions {
            if self.sql_word(&[at, &path!["extensions"]].concat(), "extension", ext) {
                init_sql.push(format!("CREATE EXTENSION IF NOT EXISTS \"{ext}\";"));
            }
        }
        if let Some(tz) = &db.timezone
            && self.timezone_ok(Code::DatabaseSetup, &[at, &path!["timezone"]].concat(), tz)
        {
            init_sql.push(format!("ALTER DATABASE \"{database}\" SET timezone TO '{tz}';"));
        }
        let instances = db.instances.unwrap_or(3);
        if instances == 0 {
            self.error(Code::OperatorDatabase, &[at, &path!["instances"]].concat(), "instances must be at least 1");
        }
        self.int32(&[at, &path!["instances"]].concat(), "instances", instances);
        let backup = db.backup.as_ref().filter(|b| b.enabled != Some(false)).and_then(|b| {
            let bat = [at, &path!["backup"]].concat();
            let elsewhere = [
                (
                    "timeZone",
                    b.time_zone.is_some(),
                    "CloudNativePG runs schedules in the operator's time zone (UTC): write the schedule in UTC",
                ),
                (
                    "retentionDays",
                    b.retention_days.is_some(),
                    "set `retentionPolicy` (e.g. \"30d\") on the ObjectStore",
                ),
                ("storage", b.storage.is_some(), "operator backups go to the ObjectStore's bucket, not to a volume"),
                ("image", b.image.is_some(), "the Barman Cloud Plugin brings its own image"),
            ];
            for (field, is_set, hint) in elsewhere {
                if is_set {
                    self.diag(
                        Diagnostic::error(
                            Code::Backup,
                            format!("`backup.{field}` does not apply to an operator database"),
                        )
                        .hint(hint),
                        &[bat.as_slice(), &path![field]].concat(),
                        true,
                    );
                }
            }
            let schedule = b.schedule.clone().unwrap_or_else(|| "0 2 * * *".into());
            self.check_cron(&[bat.as_slice(), &path!["schedule"]].concat(), &schedule);
            match &b.object_store {
                Some(store) => {
                    // CloudNativePG reads six fields, seconds first; macros as they are.
                    let schedule = if schedule.starts_with('@') { schedule } else { format!("0 {schedule}") };
                    Some(OperatorBackup { schedule, object_store: store.clone() })
                }
                None => {
                    self.error_hint(
                        Code::Backup,
                        &bat,
                        "operator backups go to object storage through the Barman Cloud Plugin",
                        "add `objectStore: <name of an ObjectStore (barmancloud.cnpg.io/v1)>`",
                    );
                    None
                }
            }
        });
        Operator {
            name: name.to_string(),
            instances,
            image,
            database,
            user,
            storage,
            resources,
            parameters,
            shared_preload_libraries,
            init_sql,
            backup,
        }
    }

    fn database_name(&mut self, at: &[PathSegment], db: &profile::Database, name: &str, rule: NameRule) {
        if let Err(why) = rule.check(name).and_then(|()| NameRule::Service.check(name)) {
            let field = if db.name.is_some() { [at, &path!["name"]].concat() } else { at.to_vec() };
            self.diag(
                Diagnostic::error(Code::ObjectName, format!("database object name `{name}` {why}"))
                    .hint("set a shorter `name`"),
                &field,
                db.name.is_none(),
            );
        }
    }

    /// The database and role names, checked to be plain SQL identifiers.
    fn sql_identities(&mut self, at: &[PathSegment], db: &profile::Database, key: &str, app: &str) -> (String, String) {
        let database = db.database.clone().unwrap_or_else(|| key.replace('-', "_"));
        let user = db.user.clone().unwrap_or_else(|| app.replace('-', "_"));
        for (field, value) in [("database", &database), ("user", &user)] {
            let here = if (field == "database" && db.database.is_some()) || (field == "user" && db.user.is_some()) {
                [at, &path![field]].concat()
            } else {
                at.to_vec()
            };
            let ok = value.len() <= 63
                && value.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
                && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !ok {
                self.error_hint(
                    Code::DatabaseName,
                    &here,
                    format!("{field} name `{value}` is not a plain SQL name"),
                    "use lowercase letters, digits and `_`, starting with a letter (at most 63)",
                );
            }
        }
        (database, user)
    }

    fn override_parameters(
        &mut self,
        at: &[PathSegment],
        parameters: &mut Vec<(String, String)>,
        db: &profile::Database,
    ) {
        for (k, v) in &db.parameters {
            let here = [at, &path!["parameters", k]].concat();
            if k.is_empty()
                || !k.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.')
            {
                self.key_error(Code::DatabaseSetup, &here, format!("`{k}` is not a PostgreSQL setting name"));
            }
            if v.contains('\n') || v.contains('\0') {
                self.error(Code::DatabaseSetup, &here, "a setting's value must be one line");
            }
            if ["archive_command", "archive_library", "archive_mode"].contains(&k.as_str()) {
                self.diag(
                    Diagnostic::error(Code::DatabaseSetup, format!("`{k}` is set by `walArchive`"))
                        .hint("use `walArchive: {command, secret | serviceAccountAnnotations}` with an `image` that carries the tool"),
                    &here,
                    true,
                );
                continue;
            }
            match parameters.iter_mut().find(|(name, _)| name == k) {
                Some(existing) => existing.1 = v.clone(),
                None => parameters.push((k.clone(), v.clone())),
            }
        }
    }

    fn sql_word(&mut self, at: &[PathSegment], what: &str, word: &str) -> bool {
        let ok = !word.is_empty()
            && word.len() <= 63
            && word.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !ok {
            self.error(Code::DatabaseSetup, at, format!("{what} `{word}` is not a valid name"));
        }
        ok
    }

    /// Whether `tz` is a time zone name; an error with `code` (the
    /// database's or its backup's) if not.
    fn timezone_ok(&mut self, code: Code, at: &[PathSegment], tz: &str) -> bool {
        let ok =
            !tz.is_empty() && tz.len() <= 64 && tz.bytes().all(|b| b.is_ascii_alphanumeric() || b"/_+-".contains(&b));
        if !ok {
            self.error_hint(
                code,
                at,
                format!("`{tz}` is not a time zone name"),
                "use an IANA name such as UTC or Europe/Berlin",
            );
        }
        ok
    }

    /// 01-init-database.sql: extensions and the time zone (run once, when
    /// the database is created).
    fn init_sql(
        &mut self,
        at: &[PathSegment],
        db: &profile::Database,
        extensions: &[String],
        database: &str,
    ) -> Option<String> {
        let extensions: Vec<String> = extensions
            .iter()
            .filter(|e| self.sql_word(&[at, &path!["extensions"]].concat(), "extension", e))
            .cloned()
            .collect();
        let timezone = db
            .timezone
            .clone()
            .filter(|tz| self.timezone_ok(Code::DatabaseSetup, &[at, &path!["timezone"]].concat(), tz));
        let database = database.to_string();
        if extensions.is_empty() && timezone.is_none() {
            return None;
        }
        Some(crate::templates::render("postgres-init.sql", minijinja::context! { extensions, timezone, database }))
    }

    fn backup(
        &mut self,
        at: &[PathSegment],
        db: &profile::Database,
        name: &str,
        data: &StorageRequest,
        image: &str,
    ) -> Option<Backup> {
        let b = db.backup.as_ref().filter(|b| b.enabled != Some(false))?;
        let bat = [at, &path!["backup"]].concat();
        let schedule = b.schedule.clone().unwrap_or_else(|| "0 2 * * *".into());
        self.check_cron(&[bat.as_slice(), &path!["schedule"]].concat(), &schedule);
        if b.object_store.is_some() {
            self.error_hint(
                Code::Backup,
                &[bat.as_slice(), &path!["objectStore"]].concat(),
                "`objectStore` applies to operator databases",
                "remove it",
            );
        }
        let backup_name = naming::backup(name);
        let restore_name = naming::restore(name);
        for (what, job) in [("backup", &backup_name), ("restore", &restore_name)] {
            if let Err(why) = NameRule::CronJob.check(job) {
                self.error_hint(
                    Code::ObjectName,
                    &bat,
                    format!("{what} CronJob name `{job}` {why}"),
                    "set a shorter database `name`",
                );
            }
        }
        let retention_days = b.retention_days.unwrap_or(7);
        if retention_days == 0 {
            self.error(
                Code::Backup,
                &[bat.as_slice(), &path!["retentionDays"]].concat(),
                "retentionDays must be at least 1",
            );
        }
        // Every copy the schedule can keep within the retention, each at
        // most as large as the data (a dump is usually much smaller).
        let cadence = cron::cadence(&schedule, u64::from(retention_days));
        let copies = cadence.map_or(u64::from(retention_days) + 1, |c| c.most_runs_in_window.max(1));
        let data_bytes = quantity::parse(&data.size).unwrap_or(0.0);
        let storage = match &b.storage {
            Some(s) => {
                let sized = quantity::bytes_ceil(data_bytes * copies as f64);
                self.storage_request(&[bat.as_slice(), &path!["storage"]].concat(), s, &sized)
            }
            None => StorageRequest { size: quantity::bytes_ceil(data_bytes * copies as f64), ..data.clone() },
        };
        if let Some(tz) = &b.time_zone {
            self.timezone_ok(Code::Backup, &[bat.as_slice(), &path!["timeZone"]].concat(), tz);
        }
        self.image_field(&[bat.as_slice(), &path!["image"]].concat(), b.image.as_deref());
        // pg_dump took 15–51 CPU-seconds per GB: 2 minutes per GiB at one
        // CPU leaves room.
        let gib = data_bytes / 1024f64.powi(3);
        let active_deadline_seconds = match b.active_deadline_seconds {
            Some(s) if s >= 1 => s,
            Some(_) => {
                self.error(
                    Code::Backup,
                    &[bat.as_slice(), &path!["activeDeadlineSeconds"]].concat(),
                    "activeDeadlineSeconds must be at least 1",
                );
                3600
            }
            None => ((gib * 120.0).ceil() as i64).max(3600),
        };
        let resources = self.resources_or(
            &[bat.as_slice(), &path!["resources"]].concat(),
            b.resources.as_ref(),
            backup_resources(),
        );
        Some(Backup {
            name: backup_name,
            restore_name,
            schedule,
            time_zone: b.time_zone.clone(),
            retention_days,
            longest_gap_seconds: cadence.map_or(86_400, |c| c.longest_gap_minutes * 60),
            storage,
            image: b.image.clone().unwrap_or_else(|| image.to_string()),
            active_deadline_seconds,
            resources,
        })
    }

    fn check_cron(&mut self, at: &[PathSegment], schedule: &str) {
        if let Err(why) = cron::check(schedule) {
            let hint = if schedule.contains("TZ") {
                "write the schedule alone; a backup of a database kgen runs takes `timeZone`"
            } else {
                "five fields: minute (0-59) hour (0-23) day-of-month (1-31) month (1-12) day-of-week (0-6, \
                 Sunday is 0), e.g. `0 2 * * *`, or a macro such as `@daily`"
            };
            self.error_hint(Code::Backup, at, format!("`{schedule}` is not a cron schedule: {why}"), hint);
        }
    }

    /// A storage request: size (checked), class or preset, access modes.
    pub(super) fn storage_request(
        &mut self,
        at: &[PathSegment],
        s: &profile::Storage,
        default_size: &str,
    ) -> StorageRequest {
        let size = s.size.clone().unwrap_or_else(|| default_size.to_string());
        if let Err(why) = quantity::parse(&size) {
            self.error(Code::Storage, &[at, &path!["size"]].concat(), why);
        } else if quantity::parse(&size).is_ok_and(|b| b < 1.0) {
            self.error(Code::Storage, &[at, &path!["size"]].concat(), format!("size `{size}` is too small"));
        }
        let access_modes = s.access_modes.clone().unwrap_or_else(|| vec!["ReadWriteOnce".into()]);
        for (i, m) in access_modes.iter().enumerate() {
            if !matches!(m.as_str(), "ReadWriteOnce" | "ReadOnlyMany" | "ReadWriteMany" | "ReadWriteOncePod") {
                self.error_hint(
                    Code::Storage,
                    &[at, &path!["accessModes", i]].concat(),
                    format!("unknown access mode `{m}`"),
                    "use ReadWriteOnce, ReadWriteOncePod, ReadOnlyMany or ReadWriteMany",
                );
            }
        }
        if let Some(c) = &s.class {
            self.apply_rule(Code::Storage, &[at, &path!["class"]].concat(), "StorageClass name", c, |s| {
                names::dns1123_subdomain(s, 253)
            });
        }
        let class = match s.provider {
            None => s.class.clone(),
            Some(profile::StorageProvider::Kind | profile::StorageProvider::Minikube) => {
                if s.class.is_some() {
                    self.error_hint(
                        Code::Storage,
                        &[at, &path!["class"]].concat(),
                        "kind and minikube use their `standard` class",
                        "remove `class`",
                    );
                }
                Some("standard".into())
            }
            Some(provider) => {
                let (disk, provisioner, parameters) = provider_class(provider);
                let name = s.class.clone().unwrap_or_else(|| naming::storage_class(&self.loaded.profile.name, disk));
                let class = StorageClass { name: name.clone(), provisioner, parameters };
                if let Some(existing) = self.storage_classes.iter().find(|c| c.name == name) {
                    if *existing != class {
                        self.error(
                            Code::Storage,
                            &[at, &path!["class"]].concat(),
                            format!("StorageClass `{name}` is defined twice, differently"),
                        );
                    }
                } else {
                    self.storage_classes.push(class);
                }
                Some(name)
            }
        };
        StorageRequest { size, class, access_modes }
    }

    pub(super) fn cache(&mut self, app: &str) -> Option<Cache> {
        let p = &self.loaded.profile;
        let c = p.cache.as_ref().filter(|c| c.enabled != Some(false))?;
        let at = path!["cache"].to_vec();
        let name = c.name.clone().unwrap_or_else(|| naming::cache(app));
        if let Err(why) = NameRule::Service.check(&name) {
            self.error(Code::Cache, &at, format!("cache name `{name}` {why}"));
        }
        let key = "redis".to_string();
        if p.components.contains_key(&key) || p.databases.contains_key(&key) {
            self.error(Code::Cache, &at, "the cache's component label `redis` is also a component or database name");
        }
        let resources = self.resources_or(&path!["cache", "resources"], c.resources.as_ref(), cache_resources());
        let max_memory = c.max_memory.clone().unwrap_or_else(|| {
            let limit = resources.limits.get("memory").or(resources.requests.get("memory"));
            let bytes = limit.and_then(|m| quantity::parse(m).ok()).unwrap_or(134217728.0);
            format!("{}mb", ((bytes * 0.75) / 1048576.0).floor().max(1.0) as u64)
        });
        let memory_ok = max_memory.trim_end_matches(|c: char| c.is_ascii_alphabetic()).parse::<u64>().is_ok()
            && matches!(
                max_memory.trim_start_matches(|c: char| c.is_ascii_digit()).to_ascii_lowercase().as_str(),
                "" | "b" | "kb" | "mb" | "gb" | "k" | "m" | "g"
            );
        if !memory_ok {
            self.error(
                Code::Cache,
                &path!["cache", "maxMemory"],
                format!("`{max_memory}` is not a Redis memory size such as 200mb"),
            );
        }
        let persistence = c.persistence.as_ref().filter(|p| p.enabled != Some(false)).map(|p| {
            // Four times the memory cap leaves room for the append-only
            // file's rewrites.
            let memory = redis_bytes(&max_memory).unwrap_or(0.0);
            let size = quantity::bytes_ceil((memory * 4.0).max(1024f64.powi(3)));
            let storage = p.storage.clone().unwrap_or_default();
            self.storage_request(&path!["cache", "persistence", "storage"], &storage, &size)
        });
        let default_policy = if persistence.is_some() { "volatile-lru" } else { "allkeys-lru" };
        let policy = c.max_memory_policy.clone().unwrap_or_else(|| default_policy.into());
        const POLICIES: &[&str] = &[
            "noeviction",
            "allkeys-lru",
            "allkeys-lfu",
            "allkeys-random",
            "volatile-lru",
            "volatile-lfu",
            "volatile-random",
            "volatile-ttl",
        ];
        if !POLICIES.contains(&policy.as_str()) {
            self.error_hint(
                Code::Cache,
                &path!["cache", "maxMemoryPolicy"],
                format!("unknown eviction policy `{policy}`"),
                format!("use one of: {}", POLICIES.join(", ")),
            );
        }
        self.image_field(&path!["cache", "image"], c.image.as_deref());
        let env = c.env.clone().unwrap_or_else(|| "REDIS_URL".into());
        if let Err(why) = names::env_var_name(&env) {
            self.error(Code::EnvVar, &path!["cache", "env"], format!("variable `{env}` {why}"));
        }
        // Redis always has a password: the profile's, or one kgen's
        // credentials Job generates.
        let generate_password = c.password.is_none() && !p.secrets.contains_key(&naming::password_secret(&name));
        let password = Some(match &c.password {
            Some(r) => {
                SecretKeyRef { secret: r.secret.clone(), key: r.key.clone().unwrap_or_else(|| "password".into()) }
            }
            None => SecretKeyRef { secret: naming::password_secret(&name), key: "password".to_string() },
        });
        if let Some(SecretKeyRef { secret, .. }) = &password {
            self.apply_rule(Code::SecretName, &path!["cache", "password", "secret"], "Secret name", secret, |s| {
                names::dns1123_subdomain(s, 253)
            });
        }
        Some(Cache {
            key,
            name,
            image: c.image.clone().unwrap_or_else(|| REDIS_IMAGE.into()),
            max_memory,
            max_memory_policy: policy,
            resources,
            password,
            generate_password,
            env,
            persistence,
        })
    }

    /// Add what using the databases and the cache means to each component:
    /// environment variables, waiting for in-cluster servers, the SQLite
    /// volume.
    pub(super) fn attach_data(&mut self, components: &mut [Component], databases: &[Database], cache: &Option<Cache>) {
        let volumes = std::mem::take(&mut self.sqlite_volumes);
        for c in components.iter_mut() {
            if let Some((_, v)) = volumes.iter().find(|(k, _)| *k == c.key) {
                c.sqlite_volume = Some(v.clone());
            }
            let mut added: Vec<(EnvVar, String)> = Vec::new();
            for db in databases.iter().filter(|d| d.used_by.contains(&c.key)) {
                let origin = format!("database `{}`", db.key);
                for var in database_env(db, TextRefs::Plain) {
                    added.push((var, origin.clone()));
                }
                if let Some(w) = wait_for(db, TextRefs::Plain) {
                    c.wait_for.push(w);
                }
            }
            if c.wait_for.iter().any(|w| w.pgpass.is_some()) {
                let pgpass = EnvVar { name: "PGPASSFILE".into(), source: EnvValue::Literal(PGPASS_FILE.into()) };
                added.push((pgpass, "the in-cluster databases".into()));
            }
            if let Some(cache) = cache {
                for var in cache_env(cache, TextRefs::Plain) {
                    added.push((var, "the cache".into()));
                }
            }
            for (var, origin) in added {
                if let Some(existing) = c.env.iter().position(|v| v.name == var.name) {
                    let here = path!["components", &c.key, "env", &var.name];
                    self.diag(
                        Diagnostic::error(
                            Code::EnvVar,
                            format!("`{}` is set by {origin} and also in the profile's env or secrets", var.name),
                        )
                        .hint("remove one, or give the database another `env` name"),
                        &here,
                        true,
                    );
                    c.env.remove(existing);
                }
                c.env.push(var);
            }
        }
    }

    pub(super) fn migrations(&mut self, components: &mut [Component], databases: &[Database]) -> Option<Migrations> {
        let m = &self.loaded.profile.migrations;
        let strategy = m.strategy.unwrap_or(profile::MigrationStrategy::None);
        let at = path!["migrations"].to_vec();
        if strategy == profile::MigrationStrategy::None {
            return None;
        }
        let key = match &m.component {
            Some(k) if components.iter().any(|c| &c.key == k) => k.clone(),
            Some(k) => {
                self.error(
                    Code::Migration,
                    &path!["migrations", "component"],
                    format!("migrations use component `{k}`, which the profile does not define"),
                );
                return None;
            }
            None => components.first()?.key.clone(),
        };
        let used: Vec<&Database> = databases.iter().filter(|d| d.used_by.contains(&key)).collect();
        let database = match &m.database {
            Some(d) => match used.iter().find(|db| &db.key == d) {
                Some(db) => Some(*db),
                None => {
                    self.error(
                        Code::Migration,
                        &path!["migrations", "database"],
                        format!("migrations use database `{d}`, which component `{key}` does not use"),
                    );
                    return None;
                }
            },
            None => used.first().copied(),
        };
        if database.is_none() {
            self.error_hint(
                Code::Migration,
                &at,
                format!("migrations need a database, and component `{key}` uses none"),
                "declare one under `databases`",
            );
            return None;
        }
        let auto_env = m.auto_migrate_env.clone().unwrap_or_else(|| "DB_AUTO_MIGRATE".into());
        if !auto_env.is_empty()
            && let Err(why) = names::env_var_name(&auto_env)
        {
            self.error(Code::EnvVar, &path!["migrations", "autoMigrateEnv"], format!("variable `{auto_env}` {why}"));
        }
        let component = components.iter_mut().find(|c| c.key == key).expect("found above");
        if !auto_env.is_empty() {
            let value = if strategy == profile::MigrationStrategy::Auto { "true" } else { "false" };
            component.env.retain(|v| v.name != auto_env);
            component.env.push(EnvVar { name: auto_env.clone(), source: EnvValue::Literal(value.into()) });
        }
        let strategy = match strategy {
            profile::MigrationStrategy::Job => MigrationStrategy::Job,
            profile::MigrationStrategy::InitContainer => MigrationStrategy::InitContainer,
            _ => {
                for field in ["command", "args", "image"] {
                    let set = match field {
                        "command" => m.command.is_some(),
                        "args" => m.args.is_some(),
                        _ => m.image.is_some(),
                    };
                    if set {
                        self.diag(
                            Diagnostic::error(Code::Migration, format!("`{field}` does not apply to strategy auto"))
                                .hint("the app migrates itself on start"),
                            &path!["migrations", field],
                            true,
                        );
                    }
                }
                return None;
            }
        };
        let command = match &m.command {
            Some(c) if !c.is_empty() => c.clone(),
            _ => {
                self.error_hint(
                    Code::Migration,
                    &at,
                    "migrations need a `command`",
                    "for example `command: [/app/server, migrate, up]`",
                );
                return None;
            }
        };
        // The migration command is a command line like any other: no
        // credential in plain text.
        for (field, list) in [("command", Some(&command)), ("args", m.args.as_ref())] {
            for (i, arg) in list.into_iter().flatten().enumerate() {
                self.no_credential(
                    &path!["migrations", field, i],
                    CredentialPlace::Command(&format!("`migrations.{field}`")),
                    arg,
                );
            }
        }
        if strategy == MigrationStrategy::InitContainer {
            component.migrate_on_start = true;
        }
        self.image_field(&path!["migrations", "image"], m.image.as_deref());
        let image = m.image.clone().unwrap_or_else(|| component.image.clone());
        let resources =
            self.resources_or(&path!["migrations", "resources"], m.resources.as_ref(), preset(profile::Preset::Nano));
        let backoff_limit = m.backoff_limit.unwrap_or(3);
        let active_deadline_seconds = m.active_deadline_seconds.unwrap_or(600);
        let ttl = m.ttl_seconds_after_finished.unwrap_or(3600);
        for (field, bad) in [
            ("backoffLimit", backoff_limit < 0),
            ("activeDeadlineSeconds", active_deadline_seconds < 1),
            ("ttlSecondsAfterFinished", ttl < 0),
        ] {
            if bad {
                self.error(Code::Migration, &path!["migrations", field], format!("{field} is out of range"));
            }
        }
        Some(Migrations {
            strategy,
            command,
            args: m.args.clone(),
            image,
            component: key,
            backoff_limit,
            active_deadline_seconds,
            ttl_seconds_after_finished: ttl,
            resources,
        })
    }
}

/// A Redis memory size (`400mb`, `1gb`, `512k`, `1000`) in bytes, as
/// Redis reads it: `k` is 1000, `kb` 1024.
fn redis_bytes(size: &str) -> Option<f64> {
    let digits = size.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let n: f64 = digits.parse().ok()?;
    let factor = match size[digits.len()..].to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" => 1e3,
        "kb" => 1024.0,
        "m" => 1e6,
        "mb" => 1024f64.powi(2),
        "g" => 1e9,
        "gb" => 1024f64.powi(3),
        _ => return None,
    };
    Some(n * factor)
}

/// Requests 100m/128Mi, limits 1 CPU/512Mi: pg_dump's compression is
/// CPU-bound.
fn backup_resources() -> Resources {
    let map = |cpu: &str, mem: &str| {
        std::collections::BTreeMap::from([
            ("cpu".to_string(), cpu.to_string()),
            ("memory".to_string(), mem.to_string()),
        ])
    };
    Resources { requests: map("100m", "128Mi"), limits: map("1", "512Mi") }
}

fn default_image(engine: Engine, major: u32) -> String {
    match engine {
        Engine::Timescaledb => format!("timescale/timescaledb:{TIMESCALEDB_RELEASE}-pg{major}"),
        _ => format!("postgres:{major}"),
    }
}

/// Requests 250m/512Mi, limits 1/1Gi.
fn database_resources() -> Resources {
    resources_of("250m", "512Mi", "1", "1Gi")
}

/// Requests 50m/64Mi, limits 250m/256Mi.
fn cache_resources() -> Resources {
    resources_of("50m", "64Mi", "250m", "256Mi")
}

fn resources_of(cpu_r: &str, mem_r: &str, cpu_l: &str, mem_l: &str) -> Resources {
    let map = |cpu: &str, mem: &str| {
        std::collections::BTreeMap::from([
            ("cpu".to_string(), cpu.to_string()),
            ("memory".to_string(), mem.to_string()),
        ])
    };
    Resources { requests: map(cpu_r, mem_r), limits: map(cpu_l, mem_l) }
}

/// PostgreSQL settings derived from the memory request, the way seed 003
/// sizes them (its 256MB shared_buffers are 25% of a 1Gi request).
fn tuned_parameters(resources: &Resources) -> Vec<(String, String)> {
    let memory = resources
        .requests
        .get("memory")
        .or(resources.limits.get("memory"))
        .and_then(|m| quantity::parse(m).ok())
        .unwrap_or(536870912.0);
    let mb = |fraction: f64, min: u64| format!("{}MB", ((memory * fraction / 1048576.0) as u64).max(min));
    let shared = ((memory * 0.25 / 1048576.0) as u64).max(16);
    [
        ("shared_buffers", format!("{shared}MB")),
        ("effective_cache_size", mb(0.5, 32)),
        ("work_mem", mb(1.0 / 64.0, 4)),
        ("maintenance_work_mem", mb(1.0 / 8.0, 32)),
        ("wal_buffers", format!("{}MB", (shared / 16).clamp(1, 16))),
        ("random_page_cost", "1.1".to_string()),
        ("checkpoint_completion_target", "0.9".to_string()),
        ("autovacuum_max_workers", "3".to_string()),
        ("log_min_duration_statement", "1000".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// Disk type, CSI provisioner and parameters of a cloud storage preset.
fn provider_class(p: profile::StorageProvider) -> (&'static str, &'static str, Vec<(&'static str, &'static str)>) {
    use profile::StorageProvider::*;
    match p {
        AwsGp3 => (
            "gp3",
            "ebs.csi.aws.com",
            vec![("type", "gp3"), ("encrypted", "true"), ("csi.storage.k8s.io/fstype", "ext4")],
        ),
        AwsIo2 => (
            "io2",
            "ebs.csi.aws.com",
            vec![("type", "io2"), ("iopsPerGB", "50"), ("encrypted", "true"), ("csi.storage.k8s.io/fstype", "ext4")],
        ),
        GcpPdSsd => ("pd-ssd", "pd.csi.storage.gke.io", vec![("type", "pd-ssd")]),
        GcpPdBalanced => ("pd-balanced", "pd.csi.storage.gke.io", vec![("type", "pd-balanced")]),
        AzurePremium => ("managed-premium", "disk.csi.azure.com", vec![("skuName", "Premium_LRS")]),
        AzureStandard => ("managed", "disk.csi.azure.com", vec![("skuName", "Standard_LRS")]),
        Kind | Minikube => unreachable!("kind and minikube use their standard class"),
    }
}

/// In a built app, the variables and waits the model composed from names
/// (hosts, URLs, the operator's Secrets), written as `app.text_refs` says
/// ([`App::marked`]).
pub(crate) fn mark_references(app: &mut App) {
    let refs = app.text_refs;
    let (databases, cache) = (&app.databases, &app.cache);
    for c in &mut app.components {
        let used = || databases.iter().filter(|d| d.used_by.contains(&c.key));
        let mut vars: Vec<(EnvVar, EnvVar)> = Vec::new();
        for db in used() {
            vars.extend(database_env(db, TextRefs::Plain).into_iter().zip(database_env(db, refs)));
        }
        if let Some(cache) = cache {
            vars.extend(cache_env(cache, TextRefs::Plain).into_iter().zip(cache_env(cache, refs)));
        }
        for var in &mut c.env {
            if let Some((_, marked)) = vars.iter().find(|(plain, _)| plain == var) {
                *var = marked.clone();
            }
        }
        let waits: Vec<(WaitFor, WaitFor)> =
            used().filter_map(|db| Some((wait_for(db, TextRefs::Plain)?, wait_for(db, refs)?))).collect();
        for w in &mut c.wait_for {
            if let Some((_, marked)) = waits.iter().find(|(plain, _)| plain == w) {
                *w = marked.clone();
            }
        }
    }
}

/// The variable that carries a database's password when kgen composes the
/// URL: DATABASE_URL → DATABASE_PASSWORD.
fn password_var(url_var: &str) -> String {
    part_var(url_var, "PASSWORD")
}

/// A connection part beside a URL variable: (DATABASE_URL, HOST) →
/// DATABASE_HOST.
fn part_var(url_var: &str, part: &str) -> String {
    format!("{}_{part}", url_var.strip_suffix("_URL").unwrap_or(url_var))
}

/// Environment variables that connect a component to a database.
///
/// A URL kgen composes never carries the password: no encoding can be
/// applied to a value that only the kubelet sees, and a raw password with
/// `/`, `?`, `#` or `@` breaks the URL. libpq (and pgx, node-postgres,
/// asyncpg, JDBC) finds the password in the pod's pgpass file
/// (`PGPASSFILE`); every client can use the parts (`…_HOST`, `…_PORT`,
/// `…_NAME`, `…_USER`, `…_PASSWORD`). A URL with the password comes only
/// from a Secret that carries it (`credentials.urlKey`, a managed
/// database, CloudNativePG's `-app` Secret).
fn database_env(db: &Database, refs: TextRefs) -> Vec<EnvVar> {
    let var = |name: &str, source: EnvValue| EnvVar { name: name.to_string(), source };
    let literal = |value: String| EnvValue::Literal(value);
    let secret =
        |secret: &str, key: &str| EnvValue::SecretKey { secret: secret.into(), key: key.into(), optional: false };
    match &db.kind {
        DatabaseKind::Sqlite(s) => vec![
            var("DB_PATH", literal(s.path.clone())),
            var("DB_MAX_OPEN_CONNS", literal(s.max_open_conns.to_string())),
            var("DB_MAX_IDLE_CONNS", literal(s.max_idle_conns.to_string())),
            var("DB_CACHE_SIZE_KB", literal(s.cache_size_kb.to_string())),
            var("DB_WAL_MODE", literal(s.wal_mode.to_string())),
        ],
        DatabaseKind::InCluster(p) => {
            let host = refs.name("Service", &p.name);
            let parts = |password: EnvValue| {
                vec![
                    var(&part_var(&db.env, "HOST"), literal(host.clone())),
                    var(&part_var(&db.env, "PORT"), literal("5432".into())),
                    var(&part_var(&db.env, "NAME"), literal(p.database.clone())),
                    var(&part_var(&db.env, "USER"), literal(p.user.clone())),
                    var(&password_var(&db.env), password),
                ]
            };
            let mut vars = parts(secret(&p.password_secret, &p.password_key));
            let url = match &p.url_key {
                Some(key) => secret(&p.password_secret, key),
                None => literal(format!("postgres://{}@{host}:5432/{}?sslmode=disable", p.user, p.database)),
            };
            vars.push(var(&db.env, url));
            vars
        }
        DatabaseKind::Managed(m) => {
            let mut v = vec![var(&db.env, secret(&m.secret, &m.key))];
            if let Some(mode) = &m.ssl_mode {
                v.push(var("PGSSLMODE", literal(mode.clone())));
            }
            v
        }
        DatabaseKind::Operator(o) => {
            // The operator names it after the cluster.
            let app_secret = naming::cnpg_app_secret(&refs.name("Cluster", &o.name));
            vec![var(&password_var(&db.env), secret(&app_secret, "password")), var(&db.env, secret(&app_secret, "uri"))]
        }
    }
}

/// Variables that connect a component to the cache: the parts, and a URL
/// without the password (see [`database_env`]; Redis clients take the
/// password as an option, `redis-cli` from `REDISCLI_AUTH`).
fn cache_env(c: &Cache, refs: TextRefs) -> Vec<EnvVar> {
    let var = |name: String, source: EnvValue| EnvVar { name, source };
    let host = refs.name("Service", &c.name);
    let mut vars = vec![
        var(part_var(&c.env, "HOST"), EnvValue::Literal(host.clone())),
        var(part_var(&c.env, "PORT"), EnvValue::Literal("6379".into())),
    ];
    if let Some(SecretKeyRef { secret, key }) = &c.password {
        vars.push(var(
            password_var(&c.env),
            EnvValue::SecretKey { secret: secret.clone(), key: key.clone(), optional: false },
        ));
    }
    vars.push(var(c.env.clone(), EnvValue::Literal(format!("redis://{host}:6379/0"))));
    vars
}

/// An init container that waits for a database server kgen runs or the
/// operator runs; managed databases are not waited for.
fn wait_for(db: &Database, refs: TextRefs) -> Option<WaitFor> {
    match &db.kind {
        DatabaseKind::InCluster(p) => Some(WaitFor {
            key: db.key.clone(),
            image: p.image.clone(),
            host: refs.name("Service", &p.name),
            port: 5432,
            user: p.user.clone(),
            database: p.database.clone(),
            pgpass: p
                .url_key
                .is_none()
                .then(|| SecretKeyRef { secret: p.password_secret.clone(), key: p.password_key.clone() }),
        }),
        DatabaseKind::Operator(o) => Some(WaitFor {
            key: db.key.clone(),
            image: o.image.clone().unwrap_or_else(|| format!("ghcr.io/cloudnative-pg/postgresql:{POSTGRES_VERSION}")),
            // The operator's Service for the primary.
            host: naming::cnpg_rw_service(&refs.name("Cluster", &o.name)),
            port: 5432,
            user: o.user.clone(),
            database: o.database.clone(),
            pgpass: None,
        }),
        DatabaseKind::Sqlite(_) | DatabaseKind::Managed(_) => None,
    }
}

/// Extensions whose library the server must preload (`CREATE EXTENSION`
/// alone leaves them unusable).
const PRELOADED_EXTENSIONS: &[&str] = &["timescaledb", "pg_stat_statements", "pg_cron", "pgaudit"];

/// Add the libraries of `extensions` that need preloading to
/// `shared_preload_libraries`, after any the profile lists.
fn preload_libraries(parameters: &mut Vec<(String, String)>, extensions: &[String]) {
    let needed = extensions.iter().filter(|e| PRELOADED_EXTENSIONS.contains(&e.as_str()));
    match parameters.iter_mut().find(|(k, _)| k == "shared_preload_libraries") {
        Some((_, listed)) => {
            let mut libraries: Vec<&str> = listed.split(',').map(str::trim).filter(|l| !l.is_empty()).collect();
            for library in needed {
                if !libraries.contains(&library.as_str()) {
                    libraries.push(library);
                }
            }
            *listed = libraries.join(",");
        }
        None => {
            let libraries: Vec<&str> = needed.map(String::as_str).collect();
            if !libraries.is_empty() {
                parameters.insert(0, ("shared_preload_libraries".into(), libraries.join(",")));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn extensions_that_need_a_library_are_preloaded_once() {
        let mut parameters = vec![("shared_buffers".to_string(), "256MB".to_string())];
        preload_libraries(&mut parameters, &strings(&["timescaledb", "pgcrypto", "pg_stat_statements"]));
        assert_eq!(parameters[0], ("shared_preload_libraries".into(), "timescaledb,pg_stat_statements".into()));

        let mut listed = vec![("shared_preload_libraries".to_string(), "auto_explain, timescaledb".to_string())];
        preload_libraries(&mut listed, &strings(&["timescaledb", "pg_stat_statements"]));
        assert_eq!(listed, [("shared_preload_libraries".into(), "auto_explain,timescaledb,pg_stat_statements".into())]);

        let mut none = Vec::new();
        preload_libraries(&mut none, &strings(&["uuid-ossp"]));
        assert!(none.is_empty());
    }
}
