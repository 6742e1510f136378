//! Generators of random VALID profiles, as JSON values (written as YAML by
//! `yaml_text`), with the `--set` arguments and secret inputs of a case.
//!
//! One strategy per part of the profile; `case()` puts them together. To
//! cover a new feature, add a strategy for its section and one line in
//! `case()` that inserts it (and, if it references other parts, a rule in
//! `consistency`). Values come from the tables below, so adding a nasty
//! string or a quantity is one line.

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value, json};

/// Setting, annotation and argument values that readers love to misread.
pub const NASTY: &[&str] = &[
    "on",
    "off",
    "yes",
    "no",
    "y",
    "n",
    "NO",
    "True",
    "FALSE",
    "null",
    "~",
    "",
    "1_000",
    "1:30",
    "2026-01-01",
    "2026-01-01T10:00:00Z",
    "0x1F",
    "0o17",
    "1e3",
    ".5",
    "+1",
    "-1",
    "08",
    "1.10",
    ".inf",
    ".NaN",
    "=",
    "<<",
    "a: b",
    "#not a comment",
    "x #y",
    "key: value # comment",
    "- item",
    "? q",
    "[1, 2]",
    "{a: 1}",
    "&anchor",
    "*alias",
    "!!str",
    "%TAG",
    "@at",
    "`tick`",
    "|",
    ">",
    "'single'",
    "\"double\"",
    "back\\slash",
    " leading space",
    "trailing space ",
    "line\nbreak",
    "two\nlines\n",
    "\n",
    "tab\there",
    "crlf\r\n",
    "ünïcödé",
    "日本語",
    "emoji 🚀",
    "\u{feff}bom",
    "nbsp\u{a0}x",
    "line\u{2028}sep",
    "nel\u{85}x",
    "bell\u{7}",
    "del\u{7f}",
    "https://example.com/a?b=c#d",
    "http://localhost:3000,https://app.example.com",
    "/var/lib/data",
    "C:\\Windows",
    "${NOT_EXPANDED}",
    "$(ALSO_NOT)",
    "%s %d",
    "---",
    "...",
];

/// Label values: valid for Kubernetes, still misread by YAML 1.1.
const LABEL_VALUES: &[&str] =
    &["on", "no", "yes", "true", "1_000", "2026-01-01", "1.10", "0x1F", "1e3", "v1", "team-a", ""];

/// Image tags that must stay strings.
const TAGS: &[&str] = &["1.10", "1.0", "2026-01-01", "1_000", "on", "v2.3.4", "latest-stable", "1e3", "0x1F"];

/// (request, limit) pairs with request ≤ limit.
const CPU: &[(&str, &str)] =
    &[("10m", "100m"), ("100m", "1"), ("250m", "500m"), ("1", "2"), ("0.5", "1.5"), ("1e-1", "1")];
const MEMORY: &[(&str, &str)] =
    &[("32Mi", "64Mi"), ("128Mi", "1Gi"), ("1G", "2Gi"), ("500M", "1e9"), ("64Ki", "1Mi"), ("1.5Gi", "2Gi")];
const PRESETS: &[&str] = &["nano", "micro", "small", "medium", "large", "xlarge"];

/// A generated case: the profile, its environments, `--set` arguments, the
/// values of the environment variables created Secrets read, and what the
/// base render's ConfigMap must hold.
#[derive(Clone, Debug)]
pub struct Case {
    pub profile: Value,
    pub environments: Vec<String>,
    pub sets: Vec<String>,
    pub env_vars: BTreeMap<String, String>,
    /// Settings after `--set`, as the base render's ConfigMap holds them.
    pub expected_settings: BTreeMap<String, String>,
    /// Seed of the YAML writer's style choices.
    pub style_seed: u64,
}

fn nasty() -> BoxedStrategy<String> {
    prop_oneof![
        4 => select(NASTY).prop_map(String::from),
        1 => "[ -~]{0,24}",
        1 => "\\PC{0,12}",
        1 => (select(NASTY), select(NASTY)).prop_map(|(a, b)| format!("{a}{b}")),
    ]
    .prop_filter("not a credential", |s| !kgen::model::credentials::has_url_password(s))
    .boxed()
}

fn dns_label(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[a-z]([a-z0-9-]{{0,{}}}[a-z0-9])?", max.saturating_sub(2))).unwrap()
}

/// Names of environment variables and settings that are not credentials.
fn var_name(prefix: &'static str) -> impl Strategy<Value = String> {
    "[A-Z][A-Z0-9_]{0,10}"
        .prop_map(move |s| format!("{prefix}{s}"))
        .prop_filter("not a credential name", |s| !kgen::model::credentials::is_credential_name(s))
}

fn image() -> impl Strategy<Value = Value> {
    let repo = ("(ghcr\\.io/|registry\\.example\\.com:5000/)?", "[a-z][a-z0-9]{0,6}(/[a-z][a-z0-9]{0,6})?")
        .prop_map(|(r, p)| format!("{r}{p}"));
    let digest = "[0-9a-f]{64}".prop_map(|h| format!("sha256:{h}"));
    (
        repo,
        select(TAGS),
        proptest::option::of(digest),
        0..4usize,
        proptest::option::of(select(&["IfNotPresent", "Always"][..])),
    )
        .prop_map(|(repo, tag, digest, form, pull)| {
            let reference = match &digest {
                Some(d) if form == 0 => format!("{repo}@{d}"),
                _ => format!("{repo}:{tag}"),
            };
            match form {
                0 | 1 => Value::String(reference),
                2 => json!({"reference": reference, "pullPolicy": pull.unwrap_or("IfNotPresent")}),
                _ => {
                    let mut m = Map::new();
                    m.insert("repository".into(), json!(repo));
                    m.insert("tag".into(), json!(tag));
                    if let Some(d) = digest {
                        m.insert("digest".into(), json!(d));
                    }
                    if let Some(p) = pull {
                        m.insert("pullPolicy".into(), json!(p));
                    }
                    Value::Object(m)
                }
            }
        })
}

fn resources() -> impl Strategy<Value = Value> {
    prop_oneof![
        select(PRESETS).prop_map(|p| json!(p)),
        (select(CPU), select(MEMORY), any::<bool>()).prop_map(|((cr, cl), (mr, ml), limits)| {
            if limits {
                json!({"requests": {"cpu": cr, "memory": mr}, "limits": {"cpu": cl, "memory": ml}})
            } else {
                json!({"preset": "small", "requests": {"cpu": cr}, "limits": {"cpu": cl, "memory": "1Gi"}})
            }
        }),
    ]
}

/// A component: ports (distinct numbers and names), probes that fit them,
/// resources, replicas, command and args, and a container name.
fn component() -> impl Strategy<Value = Value> {
    let ports = proptest::collection::btree_map("[a-z]{1,8}", (1u16..=65535, proptest::option::of(1u16..=65535)), 0..4);
    (
        ports,
        0..6usize,
        proptest::option::of(resources()),
        proptest::option::of(0u32..6),
        proptest::option::of(proptest::collection::vec(nasty(), 0..3)),
        proptest::option::of(proptest::collection::vec(nasty(), 0..3)),
        proptest::collection::btree_map("[a-z]{1,6}", select(LABEL_VALUES), 0..2),
        proptest::option::of("c-[a-z0-9]{1,10}"),
    )
        .prop_map(|(ports, probe_kind, resources, replicas, command, args, pod_labels, container_name)| {
            let mut c = Map::new();
            if let Some(name) = container_name {
                c.insert("containerName".into(), json!(name));
            }
            let mut used = std::collections::BTreeSet::new();
            let mut port_map = Map::new();
            for (name, (port, service_port)) in ports {
                if !used.insert(port) {
                    continue;
                }
                match service_port.filter(|s| used.insert(*s)) {
                    Some(sp) => port_map.insert(name, json!({"port": port, "servicePort": sp})),
                    None => port_map.insert(name, json!(port)),
                };
            }
            let first_port = port_map.keys().next().cloned();
            if !port_map.is_empty() {
                c.insert("ports".into(), Value::Object(port_map));
            }
            let probes = match (probe_kind, &first_port) {
                (0, _) => None,
                (1, Some(_)) => Some(json!({"path": "/healthz"})),
                (2, Some(p)) => Some(
                    json!({"liveness": {"tcp": true, "port": p}, "readiness": {"path": "/ready", "periodSeconds": 3}}),
                ),
                (3, Some(_)) => Some(json!({"path": "/h", "startup": {"path": "/started", "failureThreshold": 60}})),
                (4, _) => {
                    Some(json!({"liveness": {"command": ["/bin/check", "--quick"]}, "readiness": {"enabled": false}}))
                }
                _ => None,
            };
            if let Some(p) = probes {
                c.insert("probes".into(), p);
            }
            if let Some(r) = resources {
                c.insert("resources".into(), r);
            }
            if let Some(r) = replicas {
                c.insert("replicas".into(), json!(r));
            }
            if let Some(cmd) = command {
                c.insert("command".into(), json!(cmd));
            }
            if let Some(a) = args {
                c.insert("args".into(), json!(a));
            }
            if !pod_labels.is_empty() {
                c.insert("podLabels".into(), json!(pod_labels));
            }
            Value::Object(c)
        })
}

/// Secrets: existing ones referenced by keys, and created ones whose values
/// come from environment variables; returns (secrets, env var values).
fn secrets() -> impl Strategy<Value = (Map<String, Value>, BTreeMap<String, String>)> {
    let one =
        (prop_oneof![Just("S_DATABASE_URL".to_string()), var_name("S_")], any::<bool>(), "[A-Za-z0-9+/=_-]{20,40}");
    proptest::collection::btree_map("[a-z]{2,8}-secret", one, 0..3).prop_map(|secrets| {
        let mut out = Map::new();
        let mut vars = BTreeMap::new();
        for (name, (key, create, value)) in secrets {
            // A variable comes from one Secret only (kgen refuses two).
            if out.values().any(|s: &Value| s["env"][0] == key) {
                continue;
            }
            let mut s = Map::new();
            s.insert("env".into(), json!([key]));
            if create {
                let var = format!("KGEN_TEST_{}", name.replace('-', "_").to_uppercase());
                s.insert("create".into(), json!({"fromEnv": {key.clone(): var.clone()}}));
                vars.insert(var, value);
            }
            out.insert(name, Value::Object(s));
        }
        (out, vars)
    })
}

fn settings() -> impl Strategy<Value = BTreeMap<String, Value>> {
    let value = prop_oneof![
        3 => nasty().prop_map(Value::String),
        1 => proptest::collection::vec(nasty().prop_filter("no commas", |s| !s.contains(',')), 1..3).prop_map(|v| json!(v)),
    ];
    proptest::collection::btree_map(var_name("C_"), value, 0..6)
}

/// The text a setting value becomes in the ConfigMap.
fn setting_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(|i| i.as_str().unwrap().to_string()).collect::<Vec<_>>().join(","),
        _ => unreachable!(),
    }
}

fn metadata() -> impl Strategy<Value = (BTreeMap<String, &'static str>, BTreeMap<String, String>)> {
    let key = "(example\\.com/)?[a-z][a-z0-9]{0,6}"
        .prop_filter("not a credential name", |k| !kgen::model::credentials::is_credential_name(k));
    (
        proptest::collection::btree_map(key.clone(), select(LABEL_VALUES), 0..3),
        proptest::collection::btree_map(key, nasty(), 0..3),
    )
}

/// One whole case.
pub fn case() -> impl Strategy<Value = Case> {
    let identity = (dns_label(12), 0..4usize, image(), metadata());
    let workloads = (any::<bool>(), proptest::collection::btree_map("[a-z][a-z0-9]{0,6}", component(), 1..4));
    let config = (settings(), secrets(), proptest::collection::btree_map(var_name("E_"), nasty(), 0..3), 0..4usize);
    let variation = (
        proptest::collection::btree_set("[a-z][a-z0-9]{0,5}", 0..3),
        proptest::collection::vec(0..4usize, 0..3),
        any::<u64>(),
        select(TAGS),
        0u32..5,
    );
    (identity, workloads, config, variation).prop_map(
        |(
            (name, namespace_kind, image, (labels, annotations)),
            (single, components),
            (settings, (secrets, env_vars), env_literals, refs),
            (environments, set_kinds, style_seed, tag, replicas),
        )| {
            let mut p = Map::new();
            p.insert("apiVersion".into(), json!("kgen.dev/v1alpha1"));
            p.insert("kind".into(), json!("App"));
            p.insert("name".into(), json!(name));
            match namespace_kind {
                0 => {}
                1 => {
                    p.insert("namespace".into(), json!(format!("{name}-ns")));
                }
                2 => {
                    p.insert("namespace".into(), json!({"name": "shared", "create": false}));
                }
                _ => {
                    p.insert("namespace".into(), json!({"name": name, "labels": {"team": "a"}}));
                }
            }
            p.insert("image".into(), image);
            if !labels.is_empty() {
                p.insert("labels".into(), json!(labels));
            }
            if !annotations.is_empty() {
                p.insert("annotations".into(), json!(annotations));
            }
            // Components: the single-component shorthand, or a map.
            let keys: Vec<String> = components.keys().cloned().collect();
            if single {
                let (_, c) = components.into_iter().next().unwrap();
                for (k, v) in c.as_object().unwrap() {
                    p.insert(k.clone(), v.clone());
                }
            } else {
                p.insert("components".into(), json!(components));
            }
            let mut expected_settings: BTreeMap<String, String> =
                settings.iter().map(|(k, v)| (k.clone(), setting_text(v))).collect();
            let has_settings = !settings.is_empty();
            if has_settings {
                p.insert("settings".into(), json!(settings));
            } else if refs == 3 {
                p.insert("configMap".into(), json!({"create": false, "name": "external-config"}));
            }
            if refs == 2 {
                p.insert("serviceAccount".into(), json!({"create": false, "name": "external-sa"}));
            }
            // Environment variables: literals, and references to what exists.
            let mut env = Map::new();
            for (k, v) in env_literals {
                env.insert(k, json!(v));
            }
            if let Some((secret, s)) = secrets.iter().next() {
                let key = s["env"][0].as_str().unwrap();
                env.insert("E_FROM_SECRET".into(), json!({"secret": secret, "key": key}));
            }
            if let Some(k) = settings.keys().next().filter(|_| refs == 1) {
                env.insert("E_FROM_CONFIG".into(), json!({"configMap": name, "key": k}));
            }
            env.insert("E_POD_NAME".into(), json!({"field": "metadata.name"}));
            p.insert("env".into(), Value::Object(env));
            if !secrets.is_empty() {
                p.insert("secrets".into(), Value::Object(secrets));
            }
            // Environments: overlays of replicas, settings and the tag.
            let replicas_at = |n: u32| -> Value {
                if single { json!({"replicas": n}) } else { json!({"components": {keys[0].clone(): {"replicas": n}}}) }
            };
            let mut envs = Map::new();
            for (i, e) in environments.iter().enumerate() {
                let mut overlay = replicas_at(replicas + i as u32).as_object().unwrap().clone();
                overlay.insert("image".into(), json!({"tag": tag}));
                if i == 1 && has_settings {
                    overlay.insert("settings".into(), json!({"C_FROM_ENV": "on"}));
                }
                envs.insert(e.clone(), Value::Object(overlay));
            }
            if !envs.is_empty() {
                p.insert("environments".into(), Value::Object(envs));
            }
            // `--set` arguments, typed by the schema.
            let mut sets = Vec::new();
            for kind in set_kinds {
                match kind {
                    0 => sets.push(format!("image.tag={tag}")),
                    1 if single => sets.push(format!("replicas={replicas}")),
                    1 => sets.push(format!("components.{}.replicas={replicas}", keys[0])),
                    2 => {
                        sets.push("settings.C_SET=2026-01-01".into());
                        expected_settings.insert("C_SET".into(), "2026-01-01".into());
                    }
                    _ => sets.push("labels.example\\.com/set=yes".into()),
                }
            }
            if sets.iter().any(|s| s.starts_with("settings.")) && !has_settings && refs == 3 {
                // An existing ConfigMap takes no settings: drop that --set.
                sets.retain(|s| !s.starts_with("settings."));
                expected_settings.remove("C_SET");
            }
            Case {
                profile: Value::Object(p),
                environments: environments.into_iter().collect(),
                sets,
                env_vars,
                expected_settings,
                style_seed,
            }
        },
    )
}
