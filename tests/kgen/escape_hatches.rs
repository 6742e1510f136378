//! `patches` and `extraManifests`: what they add and change, and located
//! errors (the whole stderr) for bad patches and bad extra manifests.

use std::path::PathBuf;

use crate::support::{kgen, scratch};

const APP: &str = "name: shop\nimage: shop:1.0\nports: {http: 8080}\n";

/// A scratch directory with `app.yaml` (APP plus `extra`) and files.
fn project(name: &str, extra: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = scratch(&format!("escape-{name}"));
    std::fs::write(dir.join("app.yaml"), format!("{APP}{extra}")).unwrap();
    for (path, text) in files {
        let full = dir.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }
    dir
}

fn render_in(dir: &PathBuf) -> std::process::Output {
    kgen().args(["render", "app.yaml"]).current_dir(dir).output().unwrap()
}

/// Render and compare the whole stderr; nothing on stdout, exit 1.
fn check(name: &str, extra: &str, files: &[(&str, &str)], expected: &str) {
    let out = render_in(&project(name, extra, files));
    assert_eq!(String::from_utf8_lossy(&out.stderr), expected, "{name}");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
}

fn documents(yaml: &[u8]) -> Vec<serde_json::Value> {
    use serde::Deserialize;
    serde_yaml::Deserializer::from_slice(yaml).map(|d| serde_json::Value::deserialize(d).unwrap()).collect()
}

#[test]
fn patches_and_extra_manifests_change_the_bundle() {
    let dir = project(
        "ok",
        "extraManifests: [pdb.yaml, ./monitoring/podmonitor.yaml]
patches:
  - target: {kind: Deployment, name: shop}
    merge:
      spec:
        template:
          spec:
            containers:
              - name: shop
                env: [{name: EXTRA, value: \"1\"}]
  - target: {kind: Service, name: shop}
    json:
      - {op: add, path: /spec/sessionAffinity, value: ClientIP}
",
        &[
            (
                "templates/pdb.yaml",
                "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: {{ name }}\nspec:\n  minAvailable: 1\n  selector:\n    matchLabels: {{ components.shop.selectorLabels | tojson }}\n",
            ),
            (
                "monitoring/podmonitor.yaml",
                "apiVersion: monitoring.coreos.com/v1\nkind: PodMonitor\nmetadata:\n  name: shop\nspec:\n  podMetricsEndpoints: [{port: http}]\n",
            ),
        ],
    );
    let out = render_in(&dir);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let docs = documents(&out.stdout);
    let kinds: Vec<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
    // Extra manifests are ordered with everything else; unknown kinds last.
    assert_eq!(
        kinds,
        ["Namespace", "NetworkPolicy", "PodDisruptionBudget", "ServiceAccount", "Service", "Deployment", "PodMonitor"]
    );
    let pdb = &docs[2];
    assert_eq!(pdb["metadata"]["namespace"], "shop");
    assert_eq!(pdb["metadata"]["labels"]["app.kubernetes.io/managed-by"], "kgen");
    assert_eq!(pdb["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"], "shop");
    assert_eq!(docs[4]["spec"]["sessionAffinity"], "ClientIP");
    let env = &docs[5]["spec"]["template"]["spec"]["containers"][0]["env"];
    assert_eq!(env, &serde_json::json!([{"name": "EXTRA", "value": "1"}]));
    assert_eq!(docs[5]["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"], "0");
}

/// Template values are substituted as text (no JSON quoting in `.yaml`
/// files), and `tojson` quotes where a value must stay a string.
#[test]
fn extra_manifest_values_are_plain_text() {
    let dir = project(
        "plain-text",
        "extraManifests: [cm.yaml]\n",
        &[(
            "templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ name }}-extra\n  labels: {{ labels | tojson }}\n\
             data:\n  env: \"{{ environment }}\"\n  version: {{ \"1.10\" | tojson }}\n",
        )],
    );
    let out = render_in(&dir);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let docs = documents(&out.stdout);
    let cm = docs.iter().find(|d| d["kind"] == "ConfigMap").expect("the extra ConfigMap");
    assert_eq!(cm["metadata"]["name"], "shop-extra");
    assert_eq!(cm["metadata"]["labels"]["app.kubernetes.io/name"], "shop");
    assert_eq!(cm["data"], serde_json::json!({"env": "base", "version": "1.10"}));
}

#[test]
fn patch_on_a_missing_key() {
    check(
        "missing-key",
        "patches:\n  - target: {kind: Deployment, name: shop}\n    json:\n      - {op: remove, path: /spec/template/spec/nodeSelector}\n",
        &[],
        "error: `/spec/template/spec/nodeSelector` does not exist: `/spec/template/spec` has no `nodeSelector`
 --> app.yaml:7:28
  |
7 |       - {op: remove, path: /spec/template/spec/nodeSelector}
  |                            ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ in `patches[0].json[0].path`
  |
note: in Deployment `shop/shop`

",
    );
}

#[test]
fn patch_with_a_bad_path() {
    check(
        "bad-path",
        "patches:\n  - target: {kind: Service, name: shop}\n    json:\n      - {op: replace, path: spec/type, value: NodePort}\n",
        &[],
        "error: `spec/type` is not a JSON Pointer: it must start with `/`
 --> app.yaml:7:29
  |
7 |       - {op: replace, path: spec/type, value: NodePort}
  |                             ^^^^^^^^^ in `patches[0].json[0].path`
  |
note: in Service `shop/shop`

",
    );
}

#[test]
fn patch_with_an_unknown_target() {
    check(
        "unknown-target",
        "patches:\n  - target: {kind: Deployment, name: shp}\n    json:\n      - {op: add, path: /spec/replicas, value: 2}\n",
        &[],
        "error: the patch targets Deployment `shp`, which is not in the bundle
 --> app.yaml:5:13
  |
5 |   - target: {kind: Deployment, name: shp}
  |             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ in `patches[0].target`
  |
hint: did you mean `shop`?

",
    );
}

#[test]
fn patch_that_adds_an_unknown_field() {
    check(
        "unknown-field",
        "patches:\n  - target: {kind: Deployment, name: shop}\n    merge:\n      spec:\n        template:\n          spec:\n            containers:\n              - name: shop\n                imagePolicy: Never\n",
        &[],
        "error: unknown field `imagePolicy` in `spec.template.spec.containers[0]`
  --> app.yaml:12:17
   |
12 |                 imagePolicy: Never
   |                 ^^^^^^^^^^^ in `patches[0].merge.spec.template.spec.containers[0].imagePolicy`
   |
note: in Deployment `shop/shop` after `patches[0]`
hint: did you mean `imagePullPolicy`?

",
    );
}

#[test]
fn patch_that_breaks_a_reference_fails_the_consistency_check() {
    check(
        "inconsistent",
        "patches:\n  - target: {kind: Service, name: shop}\n    json:\n      - {op: replace, path: /spec/ports/0/targetPort, value: metrics}\n",
        &[],
        "error: Service `shop/shop` targets port `metrics`, which no container of its pods declares
note: the bundle is inconsistent after the profile's patches and extra manifests
hint: its pods declare `http`

",
    );
}

#[test]
fn extra_manifest_without_a_kind() {
    check(
        "no-kind",
        "extraManifests: [cm.yaml]\n",
        &[("templates/cm.yaml", "apiVersion: v1\nmetadata:\n  name: extra\n")],
        "error: the manifest has no `kind`
 --> templates/cm.yaml:1:1
  |
1 | apiVersion: v1
  | ^
  |
hint: add `kind`, e.g. `kind: ConfigMap`

",
    );
}

#[test]
fn extra_manifest_with_an_unknown_field() {
    check(
        "extra-unknown-field",
        "extraManifests: [cm.yaml]\n",
        &[("templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndatta:\n  A: \"1\"\n")],
        "error: unknown field `datta`
 --> templates/cm.yaml:5:1
  |
5 | datta:
  | ^^^^^ in `datta`
  |
hint: did you mean `data`?

",
    );
}

#[test]
fn extra_manifest_with_a_yaml_error() {
    check(
        "extra-yaml",
        "extraManifests: [./extra/cm.yaml]\n",
        &[("extra/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra\n")],
        // Located, not shown: a file that is not YAML may hold anything.
        "error: invalid YAML: while parsing a flow mapping, did not find expected ',' or '}'
 --> ./extra/cm.yaml:3:23

",
    );
}

#[test]
fn extra_manifest_with_a_template_error() {
    check(
        "extra-template",
        "extraManifests: [cm.yaml]\n",
        &[("templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ nmae }}\n")],
        "error: template error: `nmae` is undefined
 --> templates/cm.yaml:4:12
  |
4 |   name: {{ nmae }}
  |            ^^^^
  |
note: in `extraManifests[0]`
hint: templates see `name`, `namespace`, `instance`, `environment`, `labels`, `components` and `profile`

",
    );
}

#[test]
fn check_reports_an_inconsistent_bundle() {
    let dir = project(
        "check-inconsistent",
        "patches:\n  - target: {kind: Deployment, name: shop}\n    json:\n      - {op: add, path: /spec/template/spec/serviceAccountName, value: robot}\n      - {op: add, path: /spec/template/spec/priorityClassName, value: high}\n",
        &[],
    );
    let out = kgen().args(["check", "app.yaml"]).current_dir(&dir).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "error app.yaml (base)\n");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: Deployment `shop/shop` runs as ServiceAccount `robot`, which is neither in the bundle nor declared as existing
note: the bundle is inconsistent after the profile's patches and extra manifests
hint: use an existing ServiceAccount with `serviceAccount: {create: false, name: …}`

error: Deployment `shop/shop` uses PriorityClass `high`, which is neither in the bundle nor declared as existing
note: the bundle is inconsistent after the profile's patches and extra manifests
hint: declare it under `external.priorityClasses`, or add it with `extraManifests`

"
    );
    // Declared as existing, both are fine.
    let dir = project(
        "check-external",
        "external: {serviceAccounts: [robot], priorityClasses: [high]}\npatches:\n  - target: {kind: Deployment, name: shop}\n    json:\n      - {op: add, path: /spec/template/spec/serviceAccountName, value: robot}\n      - {op: add, path: /spec/template/spec/priorityClassName, value: high}\n",
        &[],
    );
    let out = kgen().args(["check", "app.yaml"]).current_dir(&dir).output().unwrap();
    // ... and listed as what the cluster must provide.
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "ok    app.yaml (base): 5 objects\n\napp.yaml needs from the cluster:\n  \
         PriorityClass high\n      kubectl create priorityclass high --value=1000\n  \
         ServiceAccount shop/robot\n      kubectl -n shop create serviceaccount robot\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn extra_manifest_template_output_is_bounded() {
    // 10 GB of output if rendered whole: it stops at 4 MiB.
    check(
        "extra-output-too-large",
        "extraManifests: [loop.yaml]\n",
        &[("templates/loop.yaml", "{% for i in range(100000) %}{{ \"x\" * 100000 }}{% endfor %}\n")],
        "error: the rendered template is larger than 4 MiB, the most kgen reads here
 --> templates/loop.yaml:1:1
  |
1 | {% for i in range(100000) %}{{ \"x\" * 100000 }}{% endfor %}
  | ^
  |
note: in `extraManifests[0]`
hint: a loop or a repeated string makes it this large

",
    );
    // minijinja refuses to build a string of a gigabyte before writing it.
    check(
        "extra-huge-string",
        "extraManifests: [big.yaml]\n",
        &[("templates/big.yaml", "a: {{ \"x\" * 1000000000 }}\n")],
        "error: template error: repeated string is too large
 --> templates/big.yaml:1:7
  |
1 | a: {{ \"x\" * 1000000000 }}
  |       ^^^^^^^^^^^^^^^^
  |
note: in `extraManifests[0]`

",
    );
}

/// Devices, FIFOs (opening one blocks) and directories are refused before
/// they are opened, through a symbolic link too; a large file is read no
/// further than 4 MiB.
#[cfg(unix)]
#[test]
fn extra_manifests_are_bounded_regular_files() {
    let dir = project("extra-not-regular", "extraManifests: [random.yaml, fifo.yaml, ./templates, ./big.yaml]\n", &[]);
    std::fs::create_dir(dir.join("templates")).unwrap();
    std::os::unix::fs::symlink("/dev/urandom", dir.join("templates/random.yaml")).unwrap();
    let mkfifo = std::process::Command::new("mkfifo").arg(dir.join("templates/fifo.yaml")).status().unwrap();
    assert!(mkfifo.success());
    // 200 MB (sparse: it costs no disk).
    std::fs::File::create(dir.join("big.yaml")).unwrap().set_len(200 << 20).unwrap();
    let out = render_in(&dir);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: cannot read `templates/random.yaml`: it is in `/dev`, which holds the system's state, not files
 --> app.yaml:4:18
  |
4 | extraManifests: [random.yaml, fifo.yaml, ./templates, ./big.yaml]
  |                  ^^^^^^^^^^^ in `extraManifests[0]`
  |
hint: name a regular file of the project

error: cannot read `templates/fifo.yaml`: it is a FIFO (named pipe), not a regular file
 --> app.yaml:4:31
  |
4 | extraManifests: [random.yaml, fifo.yaml, ./templates, ./big.yaml]
  |                               ^^^^^^^^^ in `extraManifests[1]`

error: cannot read `./templates`: it is a directory, not a regular file
 --> app.yaml:4:42
  |
4 | extraManifests: [random.yaml, fifo.yaml, ./templates, ./big.yaml]
  |                                          ^^^^^^^^^^^ in `extraManifests[2]`

error: cannot read `./big.yaml`: it is larger than 4 MiB
 --> app.yaml:4:55
  |
4 | extraManifests: [random.yaml, fifo.yaml, ./templates, ./big.yaml]
  |                                                       ^^^^^^^^^^ in `extraManifests[3]`

"
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
}

/// Extra manifests are held to the profile's rule: a credential in plain
/// text outside a Secret is refused, and the snippet masks it.
#[test]
fn extra_manifest_with_a_credential_in_plain_text() {
    check(
        "plain-credential",
        "extraManifests: [cm.yaml]\n",
        &[(
            "templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shop-extra\ndata:\n  API_TOKEN: s3cr3t-t0ken\n",
        )],
        "error: ConfigMap key `API_TOKEN` holds a credential
 --> templates/cm.yaml:6:14
  |
6 |   API_TOKEN: ****
  |              ^^^^
  |
hint: keep credentials in a Secret and read them with `secretKeyRef` or `$(VAR)`

",
    );
}
