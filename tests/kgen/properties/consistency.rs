//! A small, independent checker of a rendered bundle: names the API server
//! accepts, and references that resolve inside the bundle (or to what the
//! profile declares as existing). Deliberately simple and separate from
//! kgen's own rules, so that the two can disagree.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// What the profile says exists outside the bundle.
#[derive(Default)]
pub struct External {
    pub config_maps: BTreeSet<String>,
    pub secrets: BTreeSet<String>,
    pub service_accounts: BTreeSet<String>,
    pub namespace: Option<String>,
}

impl External {
    pub fn of(app: &kgen::model::App) -> External {
        let mut e = External::default();
        if let Some(cm) = app.config_map.as_ref().filter(|c| c.data.is_none()) {
            e.config_maps.insert(cm.name.clone());
        }
        for s in app.secrets.iter().filter(|s| s.created().is_none()) {
            e.secrets.insert(s.name.clone());
        }
        if !app.service_account.create {
            e.service_accounts.insert(app.service_account.name.clone());
        }
        if app.namespace_object.is_none() {
            e.namespace = Some(app.namespace.clone());
        }
        e
    }
}

fn dns_label(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn dns_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(|p| dns_label(p, 63))
}

fn label_value(s: &str) -> bool {
    s.len() <= 63
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        && (s.is_empty()
            || (s.starts_with(|c: char| c.is_ascii_alphanumeric()) && s.ends_with(|c: char| c.is_ascii_alphanumeric())))
}

fn qualified_key(s: &str) -> bool {
    let (prefix, name) = match s.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    prefix.is_none_or(dns_subdomain) && !name.is_empty() && label_value(name)
}

fn iana_port_name(s: &str) -> bool {
    dns_label(s, 15) && !s.contains("--") && s.bytes().any(|b| b.is_ascii_lowercase())
}

fn str_map(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect())
        .unwrap_or_default()
}

fn strs(v: &Value) -> impl Iterator<Item = &Value> {
    v.as_array().into_iter().flatten()
}

/// Every problem found in `objects` (JSON values of rendered objects).
pub fn check(objects: &[Value], external: &External) -> Vec<String> {
    let mut problems = Vec::new();
    let mut p = |s: String| problems.push(s);
    let namespaces: BTreeSet<&str> =
        objects.iter().filter(|o| o["kind"] == "Namespace").filter_map(|o| o["metadata"]["name"].as_str()).collect();

    for o in objects {
        let kind = o["kind"].as_str().unwrap_or("?");
        let name = o["metadata"]["name"].as_str().unwrap_or("");
        let id = format!("{kind}/{name}");
        let name_ok = match kind {
            "Service" => dns_label(name, 63) && name.starts_with(|c: char| c.is_ascii_lowercase()),
            "Namespace" => dns_label(name, 63),
            _ => dns_subdomain(name),
        };
        if !name_ok {
            p(format!("{id}: invalid name"));
        }
        if kind != "Namespace" {
            match o["metadata"]["namespace"].as_str() {
                Some(ns) if namespaces.contains(ns) || external.namespace.as_deref() == Some(ns) => {}
                other => p(format!("{id}: namespace {other:?} is neither rendered nor declared")),
            }
        }
        for (k, v) in str_map(&o["metadata"]["labels"]) {
            if !qualified_key(&k) || !label_value(&v) {
                p(format!("{id}: invalid label {k}={v}"));
            }
        }
        for k in str_map(&o["metadata"]["annotations"]).keys() {
            if !qualified_key(k) {
                p(format!("{id}: invalid annotation key {k}"));
            }
        }
        match kind {
            "Deployment" | "StatefulSet" => check_workload(o, &id, objects, external, &mut p),
            "Service" => {
                let selector = str_map(&o["spec"]["selector"]);
                let pods: Vec<&Value> = objects
                    .iter()
                    .filter(|w| matches!(w["kind"].as_str(), Some("Deployment" | "StatefulSet")))
                    .map(|w| &w["spec"]["template"])
                    .filter(|t| {
                        let labels = str_map(&t["metadata"]["labels"]);
                        !selector.is_empty() && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
                    })
                    .collect();
                if pods.is_empty() {
                    p(format!("{id}: selects no pods"));
                }
                for port in strs(&o["spec"]["ports"]) {
                    if let Some(target) = port["targetPort"].as_str() {
                        let declared = pods.iter().any(|t| {
                            strs(&t["spec"]["containers"])
                                .flat_map(|c| strs(&c["ports"]))
                                .any(|cp| cp["name"].as_str() == Some(target))
                        });
                        if !declared {
                            p(format!("{id}: targetPort {target} is not a container port of the selected pods"));
                        }
                    }
                }
            }
            "Secret" | "ConfigMap" => {
                let size: usize =
                    ["data", "stringData"].iter().flat_map(|f| str_map(&o[*f])).map(|(k, v)| k.len() + v.len()).sum();
                if size > 1 << 20 {
                    p(format!("{id}: more than 1 MiB of data"));
                }
            }
            _ => {}
        }
    }
    problems
}

fn check_workload(o: &Value, id: &str, objects: &[Value], external: &External, p: &mut impl FnMut(String)) {
    let has = |kind: &str, name: &str| {
        objects.iter().any(|x| x["kind"] == kind && x["metadata"]["name"].as_str() == Some(name))
    };
    let data_key = |kind: &str, name: &str, key: &str| {
        objects
            .iter()
            .find(|x| x["kind"] == kind && x["metadata"]["name"].as_str() == Some(name))
            .is_some_and(|x| x["data"].get(key).is_some())
    };
    let template = &o["spec"]["template"];
    let labels = str_map(&template["metadata"]["labels"]);
    let selector = str_map(&o["spec"]["selector"]["matchLabels"]);
    if selector.is_empty() || !selector.iter().all(|(k, v)| labels.get(k) == Some(v)) {
        p(format!("{id}: selector does not match its pod labels"));
    }
    for (k, v) in &labels {
        if !qualified_key(k) || !label_value(v) {
            p(format!("{id}: invalid pod label {k}={v}"));
        }
    }
    let spec = &template["spec"];
    if let Some(sa) = spec["serviceAccountName"].as_str()
        && !has("ServiceAccount", sa)
        && !external.service_accounts.contains(sa)
    {
        p(format!("{id}: ServiceAccount {sa} is neither rendered nor declared"));
    }
    let volumes: BTreeSet<&str> = strs(&spec["volumes"]).filter_map(|v| v["name"].as_str()).collect();
    for v in &volumes {
        if !dns_label(v, 63) {
            p(format!("{id}: invalid volume name {v}"));
        }
    }
    for c in strs(&spec["containers"]) {
        let cname = c["name"].as_str().unwrap_or("");
        if !dns_label(cname, 63) {
            p(format!("{id}: invalid container name {cname}"));
        }
        let mut port_names = BTreeSet::new();
        let mut port_numbers = BTreeSet::new();
        for port in strs(&c["ports"]) {
            if let Some(n) = port["name"].as_str()
                && (!iana_port_name(n) || !port_names.insert(n))
            {
                p(format!("{id}: invalid or repeated port name {n}"));
            }
            if !port_numbers.insert(port["containerPort"].as_i64()) {
                p(format!("{id}: repeated container port {}", port["containerPort"]));
            }
        }
        let mut env_names = BTreeSet::new();
        for e in strs(&c["env"]) {
            let n = e["name"].as_str().unwrap_or("");
            if !env_names.insert(n) {
                p(format!("{id}: variable {n} is set twice"));
            }
            if let Some(r) = e["valueFrom"].get("secretKeyRef") {
                let (name, key) = (r["name"].as_str().unwrap_or(""), r["key"].as_str().unwrap_or(""));
                if !data_key("Secret", name, key) && !external.secrets.contains(name) {
                    p(format!("{id}: {n} reads Secret {name} key {key}, which is neither rendered nor declared"));
                }
            }
            if let Some(r) = e["valueFrom"].get("configMapKeyRef") {
                let (name, key) = (r["name"].as_str().unwrap_or(""), r["key"].as_str().unwrap_or(""));
                if !data_key("ConfigMap", name, key) && !external.config_maps.contains(name) {
                    p(format!("{id}: {n} reads ConfigMap {name} key {key}, which is neither rendered nor declared"));
                }
            }
        }
        for from in strs(&c["envFrom"]) {
            if let Some(name) = from["configMapRef"]["name"].as_str()
                && !has("ConfigMap", name)
                && !external.config_maps.contains(name)
            {
                p(format!("{id}: envFrom ConfigMap {name} is neither rendered nor declared"));
            }
            if let Some(name) = from["secretRef"]["name"].as_str()
                && !has("Secret", name)
                && !external.secrets.contains(name)
            {
                p(format!("{id}: envFrom Secret {name} is neither rendered nor declared"));
            }
        }
        for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
            let pr = &c[probe];
            for action in ["httpGet", "tcpSocket"] {
                if let Some(port) = pr[action]["port"].as_str()
                    && !port_names.contains(port)
                {
                    p(format!("{id}: {probe} targets port {port}, which {cname} does not declare"));
                }
            }
        }
        for m in strs(&c["volumeMounts"]) {
            let n = m["name"].as_str().unwrap_or("");
            if !volumes.contains(n) {
                p(format!("{id}: mount of unknown volume {n}"));
            }
        }
    }
}
