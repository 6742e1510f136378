//! The one place that derives object names from the profile, one function
//! per derived name (a stable contract: renaming an object orphans the old
//! one in users' clusters), and the names other controllers derive that
//! kgen must predict (Kubernetes' own, CloudNativePG's). A shape that names
//! two different things (a backup CronJob and its pods' component label)
//! is two functions: they are two contracts. The rules names must follow
//! are `names`'.

// Objects named after the app.

/// The base name of a component's objects: `<app>` for the component named
/// like the app, `<app>-<component>` otherwise.
pub fn component_object_name(app: &str, component: &str) -> String {
    if component == app { app.to_string() } else { format!("{app}-{component}") }
}

/// A database's objects (StatefulSet and Service, or CloudNativePG
/// Cluster) when the profile names none: `<app>-<database key>`.
pub fn database(app: &str, key: &str) -> String {
    format!("{app}-{key}")
}

/// The cache's objects (Deployment, Service) when the profile names none:
/// `<app>-redis`.
pub fn cache(app: &str) -> String {
    format!("{app}-redis")
}

/// A StorageClass kgen creates for a cloud provider's disk type when the
/// profile names none: `<app>-<disk>`.
pub fn storage_class(app: &str, disk: &str) -> String {
    format!("{app}-{disk}")
}

/// The Ingress of the WebSocket hosts (the plain hosts' is `<app>`):
/// `<app>-ws`.
pub fn websocket_ingress(app: &str) -> String {
    format!("{app}-ws")
}

/// The TLS Secret of the Ingress when the profile names none: `<app>-tls`.
pub fn tls_secret(app: &str) -> String {
    format!("{app}-tls")
}

/// The TLS Secret of the WebSocket hosts' Ingress: `<tls secret>-ws`.
pub fn websocket_tls_secret(tls_secret: &str) -> String {
    format!("{tls_secret}-ws")
}

/// The Gateway API HTTPRoute of a host: `<app>-<first DNS label of the
/// host>`, and `-<n>` (from 2) after it when an earlier host took that name.
pub fn http_route(app: &str, first_label: &str, n: Option<usize>) -> String {
    match n {
        None => format!("{app}-{first_label}"),
        Some(n) => format!("{app}-{first_label}-{n}"),
    }
}

/// The ReferenceGrant in another namespace that lets the app's HTTPRoutes
/// reach Services there: `<app>-<app's namespace>-routes`.
pub fn reference_grant(app: &str, namespace: &str) -> String {
    format!("{app}-{namespace}-routes")
}

/// The cert-manager Issuer kgen creates for `tls.acme`:
/// `<app>-letsencrypt`, or `<app>-letsencrypt-staging` for the staging
/// server.
pub fn acme_issuer(app: &str, staging: bool) -> String {
    format!("{app}-letsencrypt{}", if staging { "-staging" } else { "" })
}

/// The cert-manager Issuer kgen creates for `tls.selfSigned`:
/// `<app>-selfsigned`.
pub fn self_signed_issuer(app: &str) -> String {
    format!("{app}-selfsigned")
}

/// The Secret of an ACME Issuer's account key (cert-manager creates it):
/// `<issuer>-account-key`.
pub fn acme_account_key(issuer: &str) -> String {
    format!("{issuer}-account-key")
}

/// The Grafana dashboard ConfigMap: `<app>-dashboard`.
pub fn dashboard(app: &str) -> String {
    format!("{app}-dashboard")
}

/// The NetworkPolicy that denies all traffic the others do not allow:
/// `<app>-default-deny`.
pub fn default_deny_policy(app: &str) -> String {
    format!("{app}-default-deny")
}

/// The NetworkPolicy that lets the ingress controller reach cert-manager's
/// HTTP-01 solver pods: `<app>-acme-solver`.
pub fn acme_solver_policy(app: &str) -> String {
    format!("{app}-acme-solver")
}

// The migration Job and the credentials Job.

/// The component label of the migration Job's pods: `migrations`.
pub const MIGRATIONS_COMPONENT: &str = "migrations";

/// The NetworkPolicy of the migration Job's pods: `<app>-migrations`.
pub fn migration_policy(app: &str) -> String {
    format!("{app}-{MIGRATIONS_COMPONENT}")
}

/// The migration Job: `<app>-migrate-<hash>` (the hash of its image and
/// command), at most 63 characters: the app name is cut to fit, without a
/// trailing `-`.
pub fn migration_job(app: &str, hash: &str) -> String {
    hashed_job(app, "-migrate-", hash)
}

/// The credentials Job's ServiceAccount, Role, RoleBinding and
/// NetworkPolicy: `<app>-credentials`.
pub fn credentials_account(app: &str) -> String {
    format!("{app}-credentials")
}

/// The credentials Job: `<app>-credentials-<hash>` (the hash of its image
/// and script), at most 63 characters (a Job's name is a label value of its
/// pods): the app name is cut to fit, without a trailing `-`.
pub fn credentials_job(app: &str, hash: &str) -> String {
    hashed_job(app, "-credentials-", hash)
}

/// `<app><infix><hash>` in 63 characters.
fn hashed_job(app: &str, infix: &str, hash: &str) -> String {
    let prefix: String = app.chars().take(63 - infix.len() - hash.len()).collect();
    format!("{}{infix}{hash}", prefix.trim_end_matches('-'))
}

// Objects named after a server kgen runs (a database or the cache).

/// The Secret with the password of a database or cache kgen runs, when the
/// profile names none: `<server>-credentials`.
pub fn password_secret(server: &str) -> String {
    format!("{server}-credentials")
}

/// The governing (headless) Service of a component's StatefulSet:
/// `<statefulset>-headless`.
pub fn headless_service(statefulset: &str) -> String {
    format!("{statefulset}-headless")
}

/// The ConfigMap of a PostgreSQL server's init scripts:
/// `<database>-init-scripts`.
pub fn init_scripts(database: &str) -> String {
    format!("{database}-init-scripts")
}

/// The cache's `redis.conf` ConfigMap: `<cache>-config`.
pub fn cache_config(cache: &str) -> String {
    format!("{cache}-config")
}

/// The cache's persistent claim: `<cache>-data`.
pub fn cache_claim(cache: &str) -> String {
    format!("{cache}-data")
}

/// A database's backup CronJob and the claim its copies go to:
/// `<database>-backup` (for SQLite, `<component>-backup`).
pub fn backup(database: &str) -> String {
    format!("{database}-backup")
}

/// A database's restore CronJob: `<database>-restore` (for SQLite,
/// `<component>-restore`).
pub fn restore(database: &str) -> String {
    format!("{database}-restore")
}

/// The component label of a backup CronJob's pods and objects (a selector
/// label, not an object name): `<database key>-backup` (for SQLite, the
/// component key's).
pub fn backup_component(key: &str) -> String {
    format!("{key}-backup")
}

/// The component label of a restore CronJob's pods and objects (a selector
/// label, not an object name): `<database key>-restore` (for SQLite, the
/// component key's).
pub fn restore_component(key: &str) -> String {
    format!("{key}-restore")
}

/// The CloudNativePG ScheduledBackup of a cluster: `<cluster>-backup`.
pub fn scheduled_backup(cluster: &str) -> String {
    format!("{cluster}-backup")
}

// Names other controllers derive, which kgen predicts.

/// The claim template of every StatefulSet kgen renders.
pub const DATA_CLAIM_TEMPLATE: &str = "data";

/// The claim a StatefulSet makes from its data claim template for the pod
/// `ordinal` (a number, or a regex of numbers in PromQL):
/// `data-<statefulset>-<ordinal>`.
pub fn statefulset_claim(statefulset: &str, ordinal: &str) -> String {
    format!("{DATA_CLAIM_TEMPLATE}-{statefulset}-{ordinal}")
}

/// A StatefulSet's pod (Kubernetes names it): `<statefulset>-<ordinal>`
/// (a number, or a regex of numbers in PromQL).
pub fn statefulset_pod(statefulset: &str, ordinal: &str) -> String {
    format!("{statefulset}-{ordinal}")
}

/// A Deployment's pod (Kubernetes names it):
/// `<deployment>-<pod template hash>-<5 random characters>` (each part a
/// regex in PromQL).
pub fn deployment_pod(deployment: &str, template_hash: &str, random: &str) -> String {
    format!("{deployment}-{template_hash}-{random}")
}

/// A Job a CronJob starts (Kubernetes names it):
/// `<cronjob>-<scheduled time in minutes since the epoch>` (a regex in
/// PromQL).
pub fn cron_job_job(cron_job: &str, minutes: &str) -> String {
    format!("{cron_job}-{minutes}")
}

/// The Secret CloudNativePG creates with the application user's password
/// and connection URI: `<cluster>-app`.
pub fn cnpg_app_secret(cluster: &str) -> String {
    format!("{cluster}-app")
}

/// The Secret CloudNativePG creates with the superuser's password:
/// `<cluster>-superuser`.
pub fn cnpg_superuser_secret(cluster: &str) -> String {
    format!("{cluster}-superuser")
}

/// The Service CloudNativePG creates for a cluster's primary (read-write):
/// `<cluster>-rw`.
pub fn cnpg_rw_service(cluster: &str) -> String {
    format!("{cluster}-rw")
}

/// A CloudNativePG instance, its pod and its claim (the operator names
/// them): `<cluster>-<serial>` (a number, or a regex of numbers in PromQL).
pub fn cnpg_instance(cluster: &str, serial: &str) -> String {
    format!("{cluster}-{serial}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_names() {
        assert_eq!(component_object_name("shop", "shop"), "shop");
        assert_eq!(component_object_name("shop", "worker"), "shop-worker");
        assert_eq!(database("shop", "db"), "shop-db");
        assert_eq!(cache("shop"), "shop-redis");
        assert_eq!(storage_class("shop", "ssd"), "shop-ssd");
        assert_eq!(websocket_ingress("shop"), "shop-ws");
        assert_eq!(tls_secret("shop"), "shop-tls");
        assert_eq!(websocket_tls_secret("shop-tls"), "shop-tls-ws");
        assert_eq!(http_route("shop", "www", None), "shop-www");
        assert_eq!(http_route("shop", "www", Some(2)), "shop-www-2");
        assert_eq!(reference_grant("shop", "prod"), "shop-prod-routes");
        assert_eq!(acme_issuer("shop", false), "shop-letsencrypt");
        assert_eq!(acme_issuer("shop", true), "shop-letsencrypt-staging");
        assert_eq!(self_signed_issuer("shop"), "shop-selfsigned");
        assert_eq!(acme_account_key("shop-letsencrypt"), "shop-letsencrypt-account-key");
        assert_eq!(dashboard("shop"), "shop-dashboard");
        assert_eq!(default_deny_policy("shop"), "shop-default-deny");
        assert_eq!(acme_solver_policy("shop"), "shop-acme-solver");
        assert_eq!(migration_policy("shop"), "shop-migrations");
        assert_eq!(migration_job("shop", "0123abcd"), "shop-migrate-0123abcd");
        assert_eq!(credentials_account("shop"), "shop-credentials");
        assert_eq!(credentials_job("shop", "0123abcd"), "shop-credentials-0123abcd");
        assert_eq!(password_secret("shop-db"), "shop-db-credentials");
        assert_eq!(headless_service("shop-db"), "shop-db-headless");
        assert_eq!(init_scripts("shop-db"), "shop-db-init-scripts");
        assert_eq!(cache_config("shop-redis"), "shop-redis-config");
        assert_eq!(cache_claim("shop-redis"), "shop-redis-data");
        assert_eq!(backup("shop-db"), "shop-db-backup");
        assert_eq!(restore("shop-db"), "shop-db-restore");
        assert_eq!(backup_component("db"), "db-backup");
        assert_eq!(restore_component("db"), "db-restore");
        assert_eq!(scheduled_backup("shop-pg"), "shop-pg-backup");
        assert_eq!(statefulset_claim("shop-db", "0"), "data-shop-db-0");
        assert_eq!(statefulset_pod("shop-db", "0"), "shop-db-0");
        assert_eq!(deployment_pod("shop", "[a-z0-9]+", "[a-z0-9]{5}"), "shop-[a-z0-9]+-[a-z0-9]{5}");
        assert_eq!(cron_job_job("shop-db-backup", "[0-9]+"), "shop-db-backup-[0-9]+");
        assert_eq!(cnpg_app_secret("shop-pg"), "shop-pg-app");
        assert_eq!(cnpg_superuser_secret("shop-pg"), "shop-pg-superuser");
        assert_eq!(cnpg_rw_service("shop-pg"), "shop-pg-rw");
        assert_eq!(cnpg_instance("shop-pg", "1"), "shop-pg-1");
    }

    /// The hashed Job names stay within 63 characters and end in no `-`
    /// before the infix, whatever the app name.
    #[test]
    fn hashed_jobs_fit_a_label_value() {
        let long = format!("{}-{}", "a".repeat(40), "b".repeat(40));
        for name in [migration_job(&long, "0123abcd"), credentials_job(&long, "0123abcd")] {
            assert!(name.len() <= 63, "{name}");
        }
        let cut = format!("{}-x", "a".repeat(45));
        assert_eq!(migration_job(&cut, "0123abcd"), format!("{}-migrate-0123abcd", "a".repeat(45)));
    }
}
