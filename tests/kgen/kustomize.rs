//! `--kustomize` output through the real `kubectl kustomize`: the objects
//! it builds are exactly the objects kgen prints.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde::Deserialize;

use crate::support::{PROFILE_ENV, render, run, scratch, tool};

/// The documents of a YAML stream as canonical JSON texts, a set.
pub fn object_set(yaml: &str) -> BTreeSet<String> {
    serde_yaml::Deserializer::from_str(yaml)
        .map(|doc| serde_json::Value::deserialize(doc).expect("valid YAML"))
        .filter(|v| !v.is_null())
        .map(|v| canonical(&v))
        .collect()
}

/// JSON with sorted keys, so that key order does not matter.
pub fn canonical(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> =
                keys.iter().map(|k| format!("{}:{}", serde_json::to_string(k).unwrap(), canonical(&m[*k]))).collect();
            format!("{{{}}}", parts.join(","))
        }
        serde_json::Value::Array(items) => format!("[{}]", items.iter().map(canonical).collect::<Vec<_>>().join(",")),
        other => other.to_string(),
    }
}

/// The objects of a YAML stream with kgen's Jobs named by the stem of
/// their names (kgen's hash in a render, kustomize's in a base), as a set,
/// without created Secrets (a folder holds them only with
/// --include-secrets).
fn object_set_but_job_hashes(yaml: &str) -> BTreeSet<String> {
    let objects: Vec<serde_json::Value> =
        values(yaml).into_iter().filter(|o| !(o["kind"] == "Secret" && o["apiVersion"] == "v1")).collect();
    by_id(&objects).values().map(canonical).collect()
}

/// A base builds exactly the objects kgen prints, but for the names of
/// kgen's Jobs, which end in kustomize's hash of their images there.
#[test]
fn kubectl_kustomize_builds_the_same_objects() {
    let Some(kubectl) = tool("kubectl", &["kubectl"]) else {
        return;
    };
    for (i, (profile, env)) in crate::support::coverage_matrix().into_iter().enumerate() {
        let dir = scratch(&format!("kustomize-{i}"));
        let mut args = vec!["render", profile.as_str(), "--out-dir", dir.to_str().unwrap(), "--kustomize"];
        if let Some(e) = &env {
            args.extend(["--env", e]);
        }
        let out = run(&args, None);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let built = Command::new(&kubectl).arg("kustomize").arg(&dir).output().unwrap();
        assert!(built.status.success(), "kubectl kustomize: {}", String::from_utf8_lossy(&built.stderr));
        let built = String::from_utf8(built.stdout).unwrap();
        for job in values(&built).iter().filter(|o| is_kgen_job(o)) {
            let name = job["metadata"]["name"].as_str().unwrap();
            assert_eq!(name.len() - job_stem(name).len(), 11, "{profile} {env:?}: Job {name}");
        }
        let from_kubectl = object_set_but_job_hashes(&built);
        let from_kgen = object_set_but_job_hashes(&render(&profile, env.as_deref()));
        assert!(!from_kgen.is_empty());
        assert_eq!(from_kubectl, from_kgen, "{profile} {env:?}");
    }
}

/// Extra manifests of kinds kgen does not model go through kustomize too.
#[test]
fn kubectl_kustomize_keeps_extra_manifests() {
    let Some(kubectl) = tool("kubectl", &["kubectl"]) else {
        return;
    };
    let dir = scratch("kustomize-extras");
    std::fs::write(
        dir.join("app.yaml"),
        "name: shop\nimage: shop:1.0\nports: {http: 8080}\nextraManifests: [podmonitor.yaml]\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::write(
        dir.join("templates/podmonitor.yaml"),
        "apiVersion: monitoring.coreos.com/v1\nkind: PodMonitor\nmetadata:\n  name: {{ name }}\nspec:\n  podMetricsEndpoints: [{port: http, interval: 30s}]\n",
    )
    .unwrap();
    let profile = dir.join("app.yaml");
    let out_dir = dir.join("out");
    let out = run(&["render", profile.to_str().unwrap(), "--out-dir", out_dir.to_str().unwrap(), "--kustomize"], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let built = Command::new(&kubectl).arg("kustomize").arg(&out_dir).output().unwrap();
    assert!(built.status.success(), "kubectl kustomize: {}", String::from_utf8_lossy(&built.stderr));
    let stdout = run(&["render", profile.to_str().unwrap()], None);
    assert_eq!(
        object_set(&String::from_utf8(built.stdout).unwrap()),
        object_set(&String::from_utf8(stdout.stdout).unwrap())
    );
}

/// `kgen diff --from` a base reads its objects, not the kustomize files.
#[test]
fn diff_from_a_kustomize_base_sees_its_objects_only() {
    let dir = scratch("kustomize-diff");
    let args =
        ["render", "profiles/traversion.yaml", "--env", "prod", "--out-dir", dir.to_str().unwrap(), "--kustomize"];
    let out = run(&args, None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(dir.join("kustomizeconfig.yaml").is_file());
    let out = run(&["diff", "profiles/traversion.yaml", "--env", "prod", "--from", dir.to_str().unwrap()], None);
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

// Overlays of a kgen base (issue 14, item 6): the three edits teams make
// most, alone and together, on every shipped profile and environment, built
// by the real kubectl. What comes out must pass kgen's own consistency
// check, and every reference in text must follow the overlay.

/// The namespace, name prefix and image tag the overlays set.
const NAMESPACE: &str = "kustomized";
const PREFIX: &str = "eu-";
const SUFFIX: &str = "-x1";
const TAG: &str = "9.9.9-kustomized";

/// An overlay of the base: `resources: [../base]` and what it changes.
#[derive(Clone, Copy)]
struct Overlay {
    name: &'static str,
    namespace: bool,
    prefix: bool,
    /// Only with `prefix` (references are checked for both).
    suffix: bool,
    images: bool,
}

const NAMESPACE_ONLY: Overlay =
    Overlay { name: "namespace", namespace: true, prefix: false, suffix: false, images: false };
const PREFIX_ONLY: Overlay = Overlay { name: "prefix", namespace: false, prefix: true, suffix: false, images: false };
const IMAGES_ONLY: Overlay = Overlay { name: "images", namespace: false, prefix: false, suffix: false, images: true };
/// The three, and a `nameSuffix`.
const ALL: Overlay = Overlay { name: "all", namespace: true, prefix: true, suffix: true, images: true };

/// A shipped profile in one environment, its base written with
/// `--kustomize` and built by kubectl.
struct Case {
    label: String,
    profile: String,
    env: Option<String>,
    dir: std::path::PathBuf,
    rendered: kgen::pipeline::Rendered,
    /// `kubectl kustomize` of the base.
    base: Vec<serde_json::Value>,
}

/// Every shipped profile and environment, and the fixtures (features no
/// seed uses: a CloudNativePG cluster with its PodMonitor, a created
/// Secret).
fn cases(kubectl: &std::path::Path, test: &str) -> Vec<Case> {
    crate::support::coverage_matrix()
        .into_iter()
        .enumerate()
        .map(|(i, (profile, env))| {
            let label = format!("{profile} ({})", env.as_deref().unwrap_or("base"));
            let dir = scratch(&format!("{test}-{i}"));
            let base = dir.join("base");
            let mut args = vec!["render", profile.as_str(), "--out-dir", base.to_str().unwrap(), "--kustomize"];
            if let Some(e) = &env {
                args.extend(["--env", e]);
            }
            let out = run(&args, None);
            assert!(out.status.success(), "{label}: {}", String::from_utf8_lossy(&out.stderr));
            let options = kgen::profile::load::Options { environment: env.clone(), ..Default::default() };
            let mut sources = kgen::source::SourceMap::default();
            let env_var = |name: &str| PROFILE_ENV.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string());
            let values = kgen::inputs::SecretValues::Real(&env_var);
            let path = crate::support::repo().join(&profile);
            let rendered = kgen::pipeline::render_file_with(&path, &options, values, &mut sources)
                .unwrap_or_else(|e| panic!("{label}: {e:?}"));
            let base = build(kubectl, &base, &label);
            Case { label, profile, env, dir, rendered, base }
        })
        .collect()
}

/// `kubectl kustomize DIR` as JSON values.
fn build(kubectl: &std::path::Path, dir: &std::path::Path, label: &str) -> Vec<serde_json::Value> {
    let built = Command::new(kubectl).arg("kustomize").arg(dir).output().unwrap();
    assert!(built.status.success(), "{label}: kubectl kustomize: {}", String::from_utf8_lossy(&built.stderr));
    values(&String::from_utf8(built.stdout).unwrap())
}

fn values(yaml: &str) -> Vec<serde_json::Value> {
    serde_yaml::Deserializer::from_str(yaml)
        .map(|doc| serde_json::Value::deserialize(doc).expect("valid YAML"))
        .filter(|v| !v.is_null())
        .collect()
}

/// The image without its tag (`redis:7.4` → `redis`).
fn image_name(image: &str) -> &str {
    match image.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => name,
        _ => image,
    }
}

/// Every container image of the pods of an object.
fn images_of(o: &serde_json::Value) -> Vec<&str> {
    let pods = [&o["spec"]["template"]["spec"], &o["spec"]["jobTemplate"]["spec"]["template"]["spec"]];
    pods.into_iter()
        .flat_map(|p| ["initContainers", "containers"].map(|c| &p[c]))
        .filter_map(|c| c.as_array())
        .flatten()
        .filter_map(|c| c["image"].as_str())
        .collect()
}

/// Write and build an overlay of the case's base; images are overridden
/// by name, each to [`TAG`].
fn overlay(kubectl: &std::path::Path, case: &Case, o: Overlay) -> Vec<serde_json::Value> {
    let dir = case.dir.join(o.name);
    std::fs::create_dir_all(&dir).unwrap();
    let mut k = String::from("resources: [../base]\n");
    if o.namespace {
        k.push_str(&format!("namespace: {NAMESPACE}\n"));
    }
    if o.prefix {
        k.push_str(&format!("namePrefix: {PREFIX}\n"));
    }
    if o.suffix {
        k.push_str(&format!("nameSuffix: {SUFFIX}\n"));
    }
    if o.images {
        let names: BTreeSet<&str> = case.base.iter().flat_map(images_of).map(image_name).collect();
        k.push_str("images:\n");
        for name in names {
            k.push_str(&format!("  - {{name: {name}, newTag: {TAG}}}\n"));
        }
    }
    std::fs::write(dir.join("kustomization.yaml"), k).unwrap();
    build(kubectl, &dir, &format!("{} with the {} overlay", case.label, o.name))
}

/// What kgen's Job names end in: its hash under `kgen render`,
/// kustomize's (10 characters) in a base.
fn job_stem(name: &str) -> &str {
    name.rsplit_once('-').map_or(name, |(stem, _)| stem)
}

/// Whether an object is one of kgen's hash-named Jobs.
fn is_kgen_job(o: &serde_json::Value) -> bool {
    o["kind"] == "Job"
        && matches!(
            o["metadata"]["labels"]["app.kubernetes.io/component"].as_str(),
            Some(kgen::render::migrations::COMPONENT | kgen::render::credentials::COMPONENT)
        )
}

/// kgen's consistency check (`check::check`, which every render runs) on
/// what an overlay built, with the overlay's namespace and the names of
/// objects outside the bundle that derive from renamed ones (the claims of
/// a StatefulSet's template, CloudNativePG's `<cluster>-app` Secret).
fn kgen_check(case: &Case, objects: &[serde_json::Value], o: Overlay) {
    use kgen::model::DatabaseKind;
    let app = &case.rendered.app;
    let typed: Vec<kgen::object::Object> = objects
        .iter()
        .map(|v| kgen::object::Object::from_json(v.clone()).unwrap_or_else(|e| panic!("{}: {e}", case.label)))
        .collect();
    let mut policy = kgen::check::Policy::of(app, &case.rendered.loaded.profile);
    let mut external = kgen::check::External::of(app, &case.rendered.loaded.profile.external);
    // Created Secrets stay out of the folder (no --include-secrets).
    external.secrets.extend(app.secrets.iter().filter(|s| s.created().is_some()).map(|s| s.name.clone()));
    if o.namespace {
        policy.namespace = NAMESPACE.to_string();
    }
    if o.prefix {
        let suffix = if o.suffix { SUFFIX } else { "" };
        for db in &app.databases {
            if let DatabaseKind::Operator(op) = &db.kind {
                external.secrets.remove(&format!("{}-app", op.name));
                external.secrets.insert(format!("{PREFIX}{}{suffix}-app", op.name));
            }
        }
        for c in app.components.iter().filter(|c| c.sqlite_volume.is_some()) {
            external.persistent_volume_claims.remove(&format!("data-{}-0", c.name));
            external.persistent_volume_claims.insert(format!("data-{PREFIX}{}{suffix}-0", c.name));
        }
    }
    let problems = kgen::check::check(&typed, &external, &policy);
    let sources = kgen::source::SourceMap::default();
    let shown: Vec<String> = problems.iter().map(|d| d.render(&sources, false)).collect();
    assert!(problems.is_empty(), "{} with the {} overlay: kgen's check:\n{}", case.label, o.name, shown.join("\n"));
}

/// Every reference in text (`text_refs`) of what an overlay built names
/// the overlay's namespace and, for names of the bundle's objects, the
/// renamed objects; names of objects outside the bundle stay as the base
/// has them.
fn references_follow(case: &Case, objects: &[serde_json::Value], o: Overlay) {
    use crate::text_refs::{Target, references, resolve};
    let label = format!("{} with the {} overlay", case.label, o.name);
    let before = references(&case.base);
    let after = references(objects);
    assert_eq!(before.len(), after.len(), "{label}: the references of the base and the overlay differ in number");
    let old = case.rendered.app.namespace.as_str();
    let external: BTreeSet<String> = before
        .iter()
        .filter_map(|f| match &f.target {
            Target::Namespace(ns) => {
                assert_eq!(ns, old, "{}: {} of {} names another namespace", case.label, f.at, f.object);
                None
            }
            Target::Name(kinds, name) => resolve(*kinds, name, &case.base).is_none().then(|| name.clone()),
        })
        .collect();
    let namespace = if o.namespace { NAMESPACE } else { old };
    for f in &after {
        match &f.target {
            Target::Namespace(ns) => {
                assert_eq!(ns, namespace, "{label}: {} of {} names namespace `{ns}`", f.at, f.object)
            }
            Target::Name(kinds, name) => match resolve(*kinds, name, objects) {
                Some(object) => assert!(
                    (!o.prefix || object.starts_with(PREFIX)) && (!o.suffix || object.ends_with(SUFFIX)),
                    "{label}: {} of {} names `{name}`, which the overlay did not rename",
                    f.at,
                    f.object
                ),
                None => assert!(
                    external.contains(name),
                    "{label}: {} of {} names {kinds:?} `{name}`, which is not in the bundle",
                    f.at,
                    f.object
                ),
            },
        }
    }
    if o.namespace {
        for v in objects {
            let mut texts = Vec::new();
            strings(v, &mut texts);
            for t in texts {
                for old_ref in [format!("namespace=\"{old}\""), format!(".{old}.svc")] {
                    assert!(!t.contains(&old_ref), "{label}: {} still holds `{old_ref}`", crate::text_refs::id(v));
                }
            }
        }
    }
}

fn strings<'a>(v: &'a serde_json::Value, out: &mut Vec<&'a str>) {
    match v {
        serde_json::Value::String(s) => out.push(s),
        serde_json::Value::Array(items) => items.iter().for_each(|w| strings(w, out)),
        serde_json::Value::Object(m) => m.values().for_each(|w| strings(w, out)),
        _ => {}
    }
}

/// Objects by `Kind/namespace/name`, kgen's Jobs by the stem of their name.
fn by_id(objects: &[serde_json::Value]) -> BTreeMap<String, serde_json::Value> {
    objects
        .iter()
        .map(|o| {
            let mut o = o.clone();
            if is_kgen_job(&o) {
                let stem = job_stem(o["metadata"]["name"].as_str().unwrap()).to_string();
                o["metadata"]["name"] = stem.into();
            }
            (crate::text_refs::id(&o), o)
        })
        .collect()
}

/// An overlay's `namespace` gives what kgen renders for that namespace
/// (`--set namespace.name=…`): the Prometheus rules, the dashboard, every
/// host, selector and binding. Apart from what the README states: kgen's
/// Jobs are named by kustomize's hash, the dashboard's uid stays the
/// base's, and kustomize moves objects kgen puts in another namespace (a
/// ReferenceGrant) into the overlay's.
#[test]
fn kustomize_namespace_overlay_equals_a_render_in_that_namespace() {
    let Some(kubectl) = tool("kubectl", &["kubectl"]) else {
        return;
    };
    for case in cases(&kubectl, "kustomize-namespace") {
        let built = overlay(&kubectl, &case, NAMESPACE_ONLY);
        kgen_check(&case, &built, NAMESPACE_ONLY);
        references_follow(&case, &built, NAMESPACE_ONLY);
        let set = format!("namespace.name={NAMESPACE}");
        let mut args = vec!["render", case.profile.as_str(), "--set", &set];
        if let Some(e) = &case.env {
            args.extend(["--env", e]);
        }
        let out = run(&args, None);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        // The profile's own PromQL (a KEDA query) as it would be written
        // for that namespace: the overlay rewrites its namespace matchers.
        let old = &case.rendered.app.namespace;
        let text = String::from_utf8(out.stdout)
            .unwrap()
            .replace(&format!("namespace=\"{old}\""), &format!("namespace=\"{NAMESPACE}\""));
        let native: Vec<serde_json::Value> =
            values(&text).into_iter().filter(|o| !(o["kind"] == "Secret" && o["apiVersion"] == "v1")).collect();
        let (elsewhere, native): (Vec<_>, Vec<_>) = native.into_iter().partition(|o| {
            o["metadata"]["namespace"].as_str().is_some_and(|ns| ns != NAMESPACE) && o["kind"] != "Namespace"
        });
        let mut built = by_id(&built);
        for o in &elsewhere {
            let moved =
                built.keys().find(|id| id.starts_with(&format!("{}/{NAMESPACE}/", o["kind"].as_str().unwrap())));
            let moved = moved
                .cloned()
                .unwrap_or_else(|| panic!("{}: {} is not in the overlay", case.label, crate::text_refs::id(o)));
            built.remove(&moved);
        }
        let mut native = by_id(&native);
        for objects in [&mut built, &mut native] {
            for o in objects.values_mut() {
                dashboard_uid_left_out(o);
            }
        }
        assert_eq!(
            native.keys().collect::<Vec<_>>(),
            built.keys().collect::<Vec<_>>(),
            "{}: objects of the overlay and of the render in its namespace",
            case.label
        );
        for (id, n) in &native {
            assert_eq!(
                canonical(&built[id]),
                canonical(n),
                "{}: {id} differs from a render in `{NAMESPACE}`",
                case.label
            );
        }
    }
}

fn dashboard_uid_left_out(o: &mut serde_json::Value) {
    if o["kind"] != "ConfigMap" {
        return;
    }
    let Some(data) = o["data"].as_object_mut() else { return };
    for text in data.values_mut() {
        if let Some(mut dashboard) = text.as_str().and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
            && dashboard.get("uid").is_some()
        {
            dashboard["uid"] = "left out".into();
            *text = dashboard.to_string().into();
        }
    }
}

/// An overlay's `namePrefix` renames every object but the Namespace, and
/// every reference follows: variables, URLs, scripts, PromQL, the
/// dashboard, selectors of the operator's pods, scale targets.
#[test]
fn kustomize_name_prefix_overlay_renames_every_reference() {
    let Some(kubectl) = tool("kubectl", &["kubectl"]) else {
        return;
    };
    for case in cases(&kubectl, "kustomize-prefix") {
        let built = overlay(&kubectl, &case, PREFIX_ONLY);
        kgen_check(&case, &built, PREFIX_ONLY);
        references_follow(&case, &built, PREFIX_ONLY);
        for o in built.iter().filter(|o| o["kind"] != "Namespace") {
            let name = o["metadata"]["name"].as_str().unwrap();
            assert!(name.starts_with(PREFIX), "{}: {} is not renamed", case.label, crate::text_refs::id(o));
        }
    }
}

/// An overlay's `images` changes every container's image and makes kgen's
/// Jobs new Jobs (a Job's pod template is immutable): their names end in
/// kustomize's hash of their images. Nothing else changes.
#[test]
fn kustomize_images_overlay_makes_new_jobs() {
    let Some(kubectl) = tool("kubectl", &["kubectl"]) else {
        return;
    };
    for case in cases(&kubectl, "kustomize-images") {
        let built = overlay(&kubectl, &case, IMAGES_ONLY);
        kgen_check(&case, &built, IMAGES_ONLY);
        references_follow(&case, &built, IMAGES_ONLY);
        let jobs = |objects: &[serde_json::Value]| -> BTreeMap<String, String> {
            objects
                .iter()
                .filter(|o| is_kgen_job(o))
                .map(|o| {
                    let name = o["metadata"]["name"].as_str().unwrap().to_string();
                    (job_stem(&name).to_string(), name)
                })
                .collect()
        };
        let (before, after) = (jobs(&case.base), jobs(&built));
        assert_eq!(before.keys().collect::<Vec<_>>(), after.keys().collect::<Vec<_>>(), "{}", case.label);
        for (stem, name) in &after {
            assert_ne!(&before[stem], name, "{}: Job {name} kept its name with new images", case.label);
            assert!(name.len() <= 63, "{}: Job {name} is longer than 63 characters", case.label);
        }
        let mut built = by_id(&built);
        let base = by_id(&case.base);
        for o in built.values_mut() {
            for image in images_of(o) {
                assert!(
                    image.ends_with(&format!(":{TAG}")),
                    "{}: {} runs {image}",
                    case.label,
                    crate::text_refs::id(o)
                );
            }
        }
        // With the base's images back, the objects are the base's.
        for (id, o) in built.iter_mut() {
            let old: Vec<String> = images_of(&base[id]).into_iter().map(String::from).collect();
            let mut n = 0;
            for pod in ["/spec/template/spec", "/spec/jobTemplate/spec/template/spec"] {
                for list in ["initContainers", "containers"] {
                    let Some(containers) = o.pointer_mut(&format!("{pod}/{list}")).and_then(|c| c.as_array_mut())
                    else {
                        continue;
                    };
                    for c in containers.iter_mut().filter(|c| c.get("image").is_some()) {
                        c["image"] = old[n].clone().into();
                        n += 1;
                    }
                }
            }
            assert_eq!(canonical(o), canonical(&base[id]), "{}: {id} changed beyond its images", case.label);
        }
    }
}

/// The three overlays together.
#[test]
fn kustomize_overlays_together() {
    let Some(kubectl) = tool("kubectl", &["kubectl"]) else {
        return;
    };
    for case in cases(&kubectl, "kustomize-all") {
        let built = overlay(&kubectl, &case, ALL);
        kgen_check(&case, &built, ALL);
        references_follow(&case, &built, ALL);
        for o in &built {
            for image in images_of(o) {
                assert!(
                    image.ends_with(&format!(":{TAG}")),
                    "{}: {} runs {image}",
                    case.label,
                    crate::text_refs::id(o)
                );
            }
            if let Some(ns) = o["metadata"]["namespace"].as_str() {
                assert_eq!(ns, NAMESPACE, "{}: {}", case.label, crate::text_refs::id(o));
            }
        }
        // `<prefix><stem><suffix>-<hash>`, the hash not the base's.
        let base_jobs: BTreeMap<String, String> = case
            .base
            .iter()
            .filter(|o| is_kgen_job(o))
            .map(|o| {
                let (stem, hash) = o["metadata"]["name"].as_str().unwrap().rsplit_once('-').unwrap();
                (format!("{PREFIX}{stem}{SUFFIX}"), hash.to_string())
            })
            .collect();
        let jobs: Vec<&serde_json::Value> = built.iter().filter(|o| is_kgen_job(o)).collect();
        assert_eq!(jobs.len(), base_jobs.len(), "{}", case.label);
        for o in jobs {
            let name = o["metadata"]["name"].as_str().unwrap();
            let (stem, hash) = name.rsplit_once('-').unwrap();
            let base_hash = base_jobs.get(stem).unwrap_or_else(|| panic!("{}: Job {name} is not renamed", case.label));
            assert_ne!(hash, base_hash, "{}: Job {name} kept its hash with new images", case.label);
        }
    }
}

/// The overlays `docs/gitops.md` gives where an overlay alone cannot: the
/// ReferenceGrant an overlay's `namespace` moved goes back one level up,
/// and a new literal in a Job's generated ConfigMap makes a new Job (for a
/// patch to its pod template).
#[test]
fn kustomize_documented_workarounds_work() {
    let Some(kubectl) = tool("kubectl", &["kubectl"]) else {
        return;
    };
    let dir = scratch("kustomize-workarounds");
    let write = |sub: &str, text: &str| {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
        std::fs::write(dir.join(sub).join("kustomization.yaml"), text).unwrap();
    };
    let base = |sub: &str, profile: &str, env: &str| {
        let out =
            run(&["render", profile, "--env", env, "--out-dir", dir.join(sub).to_str().unwrap(), "--kustomize"], None);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };

    base("gateway", "profiles/traversion.yaml", "gateway");
    write("staging", &format!("resources: [../gateway]\nnamespace: {NAMESPACE}\n"));
    write(
        "staging-fixed",
        "resources: [../staging]\npatches:\n  - target: {kind: ReferenceGrant}\n    patch: '[{\"op\": \"replace\", \"path\": \"/metadata/namespace\", \"value\": \"monitoring\"}]'\n",
    );
    let grants = |sub: &str| -> Vec<serde_json::Value> {
        build(&kubectl, &dir.join(sub), sub).into_iter().filter(|o| o["kind"] == "ReferenceGrant").collect()
    };
    let moved = grants("staging");
    assert!(!moved.is_empty() && moved.iter().all(|g| g["metadata"]["namespace"] == NAMESPACE), "{moved:?}");
    for g in grants("staging-fixed") {
        assert_eq!(g["metadata"]["namespace"], "monitoring");
        assert_eq!(g["spec"]["from"][0]["namespace"], NAMESPACE);
    }

    base("prod", "profiles/clockwork.yaml", "prod");
    write(
        "rerun",
        "resources: [../prod]\nconfigMapGenerator:\n  - {name: clockwork-migrate, namespace: clockwork, behavior: merge, literals: [revision=2]}\n",
    );
    let jobs = |sub: &str| -> BTreeSet<String> {
        build(&kubectl, &dir.join(sub), sub)
            .iter()
            .filter(|o| is_kgen_job(o))
            .map(|o| o["metadata"]["name"].as_str().unwrap().to_string())
            .collect()
    };
    let (before, after) = (jobs("prod"), jobs("rerun"));
    assert_eq!(before.len(), 1);
    assert_eq!(after.len(), 1);
    assert_ne!(before, after);
    assert!(after.iter().all(|j| job_stem(j) == "clockwork-migrate"), "{after:?}");
    let config_maps =
        |sub: &str| build(&kubectl, &dir.join(sub), sub).iter().filter(|o| o["kind"] == "ConfigMap").count();
    assert_eq!(config_maps("rerun"), config_maps("prod"), "the generated ConfigMap stays out of the output");
}
