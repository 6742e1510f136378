//! Bad input: each case asserts the whole stderr, the exit code, and that
//! nothing reached stdout.

use crate::support::scratch;

/// Run kgen on a profile text (written to `case.yaml` in a scratch
/// directory, shown under that name) and compare the whole stderr.
pub fn check(profile: &str, args: &[&str], expected_stderr: &str) {
    let dir = scratch(&format!("errors-{:x}", fxhash(profile, args)));
    std::fs::write(dir.join("case.yaml"), profile).unwrap();
    let mut full = vec!["render"];
    full.extend_from_slice(args);
    full.push("case.yaml");
    let out = crate::support::kgen().args(&full).current_dir(&dir).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stderr), expected_stderr, "stderr for {args:?}");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "nothing on stdout");
}

fn fxhash(a: &str, b: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for byte in a.bytes().chain(b.iter().flat_map(|s| s.bytes())) {
        h = (h ^ u64::from(byte)).wrapping_mul(0x100000001b3);
    }
    h
}

const GOOD: &str = "name: shop\nimage: shop:1.0\nports:\n  http: 8080\nenvironments:\n  prod:\n    replicas: 3\n";

#[test]
fn unknown_field() {
    check(
        "name: shop\nimage: shop:1.0\nreplica: 2\n",
        &[],
        "error: unknown field `replica`
 --> case.yaml:3:1
  |
3 | replica: 2
  | ^^^^^^^ in `replica`
  |
hint: did you mean `replicas`?

",
    );
}

#[test]
fn wrong_type() {
    check(
        "name: shop\nimage: shop:1.0\nreplicas: \"2\"\n",
        &[],
        "error: expected a whole number, found the string \"2\"
 --> case.yaml:3:11
  |
3 | replicas: \"2\"
  |           ^^^ in `replicas`
  |
hint: remove the quotes: this field is a number

",
    );
}

#[test]
fn bad_set_path() {
    check(
        GOOD,
        &["--set", "image.tga=1.10"],
        "error: unknown field `tga` in `image`
 --> --set:1:7
  |
1 | image.tga=1.10
  |       ^^^ in `image.tga`
  |
hint: did you mean `tag`?

",
    );
}

#[test]
fn unknown_environment() {
    check(
        GOOD,
        &["--env", "prd"],
        "error: unknown environment `prd`\nhint: did you mean `prod`? this profile defines `prod`\n\n",
    );
}

#[test]
fn invalid_dns_name() {
    check(
        "name: Shop_1\nimage: shop:1.0\n",
        &[],
        "error: app name `Shop_1` may contain only lowercase letters, digits and `-`
 --> case.yaml:1:7
  |
1 | name: Shop_1
  |       ^^^^^^ in `name`

",
    );
}

#[test]
fn missing_file() {
    let out = crate::support::kgen().args(["render", "no-such-profile.yaml"]).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: cannot read profile `no-such-profile.yaml`: No such file or directory\n\n"
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
}

#[test]
fn missing_default_profile_points_at_init() {
    let dir = scratch("no-kgen-yaml");
    let out = crate::support::kgen().arg("render").current_dir(&dir).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: cannot read profile `kgen.yaml`: No such file or directory\nhint: with no PROFILE argument kgen reads ./kgen.yaml; `kgen init` writes a starter\n\n"
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    check(
        "name: shop\nimage: shop:1.0\nports:\n  http: 8080\nprobes:\n  port: web\nsecrets:\n  db: {}\nenv:\n  TOKEN: {secret: other}\n",
        &[],
        "error: the probe targets port `web`, which no container declares
 --> case.yaml:6:9
  |
6 |   port: web
  |         ^^^ in `probes.port`
  |
hint: declared ports: `http`

error: `TOKEN` reads Secret `other`, which `secrets` does not declare
  --> case.yaml:10:10
   |
10 |   TOKEN: {secret: other}
   |          ^^^^^^^^^^^^^^^ in `env.TOKEN`
   |
hint: declared secrets: `db`

",
    );
}

#[test]
fn created_secret_needs_its_environment_variable() {
    check(
        "name: shop\nimage: shop:1.0\nsecrets:\n  shop-db:\n    env: [DATABASE_URL]\n    create:\n      fromEnv:\n        DATABASE_URL: SHOP_DB_URL_UNSET\n",
        &[],
        "error: environment variable `SHOP_DB_URL_UNSET` is not set
 --> case.yaml:8:23
  |
8 |         DATABASE_URL: SHOP_DB_URL_UNSET
  |                       ^^^^^^^^^^^^^^^^^ in `secrets.shop-db.create.fromEnv.DATABASE_URL`
  |
hint: export SHOP_DB_URL_UNSET=… before running kgen; its value goes into Secret `shop-db`

",
    );
}

#[test]
fn sqlite_with_more_than_one_replica() {
    check(
        "name: ts\nimage: ts:1.0\nreplicas: 3\ndatabases:\n  data:\n    engine: sqlite\n",
        &[],
        "error: `ts` keeps an SQLite database, so it runs exactly one replica (found 3)
 --> case.yaml:3:11
  |
3 | replicas: 3
  |           ^ in `replicas`
  |
hint: SQLite allows one writer and locks its file on one node's volume; for more replicas use `engine: postgres`

",
    );
}

#[test]
fn sqlite_shared_by_two_components() {
    check(
        "name: ts\nimage: ts:1.0\ncomponents:\n  web: {}\n  worker: {}\ndatabases:\n  data:\n    engine: sqlite\n",
        &[],
        "error: the sqlite database `data` is used by 2 components (web, worker)
 --> case.yaml:8:5
  |
8 |     engine: sqlite
  |     ^^^^^^^^^^^^^^ in `databases.data`
  |
hint: SQLite has a single writer and its file lives on one pod's volume: give it to one component (its `databases`), or use `engine: postgres`

",
    );
}

#[test]
fn reference_to_an_undefined_database() {
    check(
        "name: shop\nimage: shop:1.0\ncomponents:\n  web:\n    databases: [orders]\ndatabases:\n  main: {}\n",
        &[],
        "error: component `web` uses database `orders`, which the profile does not define
 --> case.yaml:5:17
  |
5 |     databases: [orders]
  |                 ^^^^^^ in `components.web.databases[0]`
  |
hint: declared databases: `main`

",
    );
}

#[test]
fn bad_storage_size() {
    check(
        "name: shop\nimage: shop:1.0\ndatabases:\n  main:\n    storage: 1 GB\n",
        &[],
        "error: `1 GB` is not a Kubernetes quantity (examples: 250m, 1, 512Mi, 10Gi)
 --> case.yaml:5:14
  |
5 |     storage: 1 GB
  |              ^^^^ in `databases.main.storage.size`

",
    );
}

#[test]
fn unknown_storage_provider() {
    check(
        "name: shop\nimage: shop:1.0\ndatabases:\n  main:\n    storage: {provider: aws-gp2}\n",
        &[],
        "error: unknown value `aws-gp2`
 --> case.yaml:5:25
  |
5 |     storage: {provider: aws-gp2}
  |                         ^^^^^^^ in `databases.main.storage.provider`
  |
hint: did you mean `aws-gp3`?

",
    );
}

#[test]
fn managed_database_fields_on_an_in_cluster_one() {
    check(
        "name: shop\nimage: shop:1.0\ndatabases:\n  main:\n    sslMode: require\n",
        &[],
        "error: `sslMode` does not apply to an in-cluster database
 --> case.yaml:5:5
  |
5 |     sslMode: require
  |     ^^^^^^^ in `databases.main.sslMode`
  |
hint: `url` and `sslMode` describe a managed database: add `mode: managed`

",
    );
}

#[test]
fn autoscaling_min_above_max() {
    check(
        "name: shop\nimage: shop:1.0\nports: {http: 8080}\nautoscaling:\n  min: 5\n  max: 3\n",
        &[],
        "error: autoscaling min 5 is more than max 3
 --> case.yaml:5:8
  |
5 |   min: 5
  |        ^ in `autoscaling.min`
  |
hint: min is the fewest replicas, max the most

",
    );
}

#[test]
fn sqlite_with_autoscaling() {
    check(
        "name: ts\nimage: ts:1.0\nautoscaling: {max: 3}\ndatabases:\n  data: {engine: sqlite}\n",
        &[],
        "error: `ts` keeps an SQLite database, so it cannot autoscale
 --> case.yaml:3:14
  |
3 | autoscaling: {max: 3}
  |              ^^^^^^^^ in `autoscaling`
  |
hint: SQLite allows one writer and locks its file on one node's volume; to scale out use `engine: postgres`

",
    );
}

#[test]
fn disruption_budget_that_blocks_evictions() {
    check(
        "name: shop\nimage: shop:1.0\nports: {http: 8080}\nreplicas: 2\ndisruptionBudget:\n  minAvailable: 2\n",
        &[],
        "error: this disruption budget lets no pod of `shop` be evicted (with 2 replicas)
 --> case.yaml:6:3
  |
6 |   minAvailable: 2
  |   ^^^^^^^^^^^^^^^ in `disruptionBudget`
  |
hint: node drains and cluster upgrades would hang: allow at least one pod to be down (e.g. `maxUnavailable: 1`), or run more replicas

",
    );
}

#[test]
fn tls_without_hosts() {
    check(
        "name: shop\nimage: shop:1.0\nports: {http: 8080}\ningress:\n  className: nginx\n  tls: {clusterIssuer: letsencrypt-prod}\n",
        &[],
        "error: routing needs at least one host
 --> case.yaml:5:3
  |
5 | /   className: nginx
6 | |   tls: {clusterIssuer: letsencrypt-prod}
  | |________________________________________^ in `ingress`
  |
hint: add `hosts: [{host: app.example.com}]`

error: TLS needs hosts
 --> case.yaml:6:8
  |
6 |   tls: {clusterIssuer: letsencrypt-prod}
  |        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ in `ingress.tls`
  |
hint: list the hosts under `ingress.hosts`: a certificate is issued for host names

",
    );
}

#[test]
fn crd_feature_missing_from_api_versions() {
    check(
        "name: shop\nimage: shop:1.0\nports: {http: 8080}\nautoscaling: {max: 4, keda: {}}\n",
        &["--api-versions", "monitoring.coreos.com/v1"],
        "error: ScaledObject `shop` needs keda.sh/v1alpha1, which --api-versions does not list
hint: install KEDA in the cluster and add `--api-versions keda.sh/v1alpha1`, or turn off `autoscaling.keda` in the profile

",
    );
}

#[test]
fn ingress_to_another_namespace() {
    check(
        "name: shop\nimage: shop:1.0\nports: {http: 8080}\ningress:\n  className: nginx\n  hosts:\n    - host: grafana.example.com\n      paths:\n        - service: {name: grafana, namespace: monitoring, port: 80}\n",
        &[],
        "error: an Ingress cannot route to Service `grafana` in namespace `monitoring`
 --> case.yaml:9:47
  |
9 |         - service: {name: grafana, namespace: monitoring, port: 80}
  |                                               ^^^^^^^^^^ in `ingress.hosts[0].paths[0].service.namespace`
  |
hint: an Ingress reaches Services in its own namespace only: route this host with `gateway` (kgen adds a ReferenceGrant), or let the stack in that namespace expose it with its own Ingress

",
    );
}
