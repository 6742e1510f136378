//! References that rendered objects hold in text and in fields kustomize
//! does not know, found by their shape, independently of how kgen writes
//! them: hosts in variables, URLs and scripts; label matchers in PromQL
//! (alert rules and the dashboard) and the dashboard's namespace; the
//! Services ServiceMonitors keep; CloudNativePG cluster labels and names;
//! scale targets, route backends, claims, issuers, namespaces of grants and
//! bindings. The kustomize overlay tests hold every one to what the overlay
//! renamed.

use serde_json::Value;

/// What a reference names.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    /// A namespace.
    Namespace(String),
    /// An object of one of these kinds, by name.
    Name(Kinds, String),
}

/// The kinds a name may be of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kinds {
    /// A Service, or `<cluster>-rw` (CloudNativePG's).
    Host,
    Service,
    Deployment,
    StatefulSet,
    CronJob,
    /// A Deployment's, StatefulSet's or cluster's pods.
    Workload,
    /// A PersistentVolumeClaim, a StatefulSet's `data-<name>` claim, a
    /// cluster's.
    Claim,
    /// A Secret, or `<cluster>-app` (CloudNativePG's).
    Secret,
    Cluster,
    Issuer,
}

/// A reference: the object that holds it (`Kind/namespace/name`), where,
/// and what it names.
#[derive(Clone, Debug)]
pub struct Found {
    pub object: String,
    pub at: String,
    pub target: Target,
}

/// Every reference of the objects.
pub fn references(objects: &[Value]) -> Vec<Found> {
    let mut out = Vec::new();
    for o in objects {
        let id = id(o);
        let mut found = |at: &str, target: Target| out.push(Found { object: id.clone(), at: at.to_string(), target });
        let kind = o["kind"].as_str().unwrap_or_default();
        for pod in pod_specs(o) {
            pod_references(pod, &mut found);
        }
        let spec = &o["spec"];
        match kind {
            "PrometheusRule" => {
                for rule in items(&spec["groups"]).flat_map(|g| items(&g["rules"])) {
                    promql(rule["expr"].as_str().unwrap_or_default(), "rule expr", &mut found);
                    if let Some(c) = rule["labels"]["cronjob"].as_str() {
                        found("rule label cronjob", Target::Name(Kinds::CronJob, c.into()));
                    }
                    if let Some(d) = rule["labels"]["database"].as_str() {
                        found("rule label database", Target::Name(Kinds::Workload, d.into()));
                    }
                }
            }
            "ConfigMap" => {
                for text in o["data"].as_object().into_iter().flat_map(|d| d.values()).filter_map(Value::as_str) {
                    let Ok(dashboard) = serde_json::from_str::<Value>(text) else { continue };
                    for v in items(&dashboard["templating"]["list"]).filter(|v| v["name"] == "namespace") {
                        found("dashboard namespace", Target::Namespace(v["query"].as_str().unwrap_or_default().into()));
                    }
                    for t in items(&dashboard["panels"]).flat_map(|p| items(&p["targets"])) {
                        promql(t["expr"].as_str().unwrap_or_default(), "dashboard expr", &mut found);
                    }
                }
            }
            "ServiceMonitor" => {
                for r in items(&spec["endpoints"]).flat_map(|e| items(&e["relabelings"])) {
                    if r["sourceLabels"] == serde_json::json!(["__meta_kubernetes_service_name"]) {
                        let regex = r["regex"].as_str().unwrap_or_default();
                        found("relabel regex", Target::Name(Kinds::Service, regex.into()));
                    }
                }
            }
            "HorizontalPodAutoscaler" | "ScaledObject" => {
                let name = spec["scaleTargetRef"]["name"].as_str().unwrap_or_default();
                found("scale target", Target::Name(Kinds::Workload, name.into()));
            }
            "ScheduledBackup" => {
                let name = spec["cluster"]["name"].as_str().unwrap_or_default();
                found("backup cluster", Target::Name(Kinds::Cluster, name.into()));
            }
            "HTTPRoute" => {
                for b in items(&spec["rules"]).flat_map(|r| items(&r["backendRefs"])) {
                    if b.get("namespace").is_none() {
                        found(
                            "route backend",
                            Target::Name(Kinds::Service, b["name"].as_str().unwrap_or_default().into()),
                        );
                    }
                }
            }
            "Ingress" => {
                if let Some(issuer) = o["metadata"]["annotations"]["cert-manager.io/issuer"].as_str() {
                    found("issuer annotation", Target::Name(Kinds::Issuer, issuer.into()));
                }
            }
            "ReferenceGrant" => {
                for f in items(&spec["from"]) {
                    found("grant from", Target::Namespace(f["namespace"].as_str().unwrap_or_default().into()));
                }
            }
            "RoleBinding" => {
                for s in items(&o["subjects"]).filter(|s| s["kind"] == "ServiceAccount") {
                    if let Some(ns) = s["namespace"].as_str() {
                        found("binding subject", Target::Namespace(ns.into()));
                    }
                }
            }
            "StatefulSet" => {
                if let Some(s) = spec["serviceName"].as_str() {
                    found("serviceName", Target::Name(Kinds::Service, s.into()));
                }
            }
            _ => {}
        }
        match_labels(o, &mut found);
    }
    out
}

/// `Kind/namespace/name`.
pub fn id(o: &Value) -> String {
    let m = &o["metadata"];
    match m["namespace"].as_str() {
        Some(ns) => {
            format!("{}/{ns}/{}", o["kind"].as_str().unwrap_or_default(), m["name"].as_str().unwrap_or_default())
        }
        None => format!("{}/{}", o["kind"].as_str().unwrap_or_default(), m["name"].as_str().unwrap_or_default()),
    }
}

fn items(v: &Value) -> impl Iterator<Item = &Value> {
    v.as_array().into_iter().flatten()
}

fn pod_specs(o: &Value) -> Vec<&Value> {
    [&o["spec"]["template"]["spec"], &o["spec"]["jobTemplate"]["spec"]["template"]["spec"]]
        .into_iter()
        .filter(|s| s.is_object())
        .collect()
}

fn pod_references(pod: &Value, found: &mut impl FnMut(&str, Target)) {
    for c in items(&pod["initContainers"]).chain(items(&pod["containers"])) {
        for e in items(&c["env"]) {
            let name = e["name"].as_str().unwrap_or_default();
            if let Some(value) = e["value"].as_str() {
                if name.ends_with("_HOST") {
                    host(value, &format!("env {name}"), found);
                }
                for h in url_hosts(value) {
                    host(&h, &format!("URL in env {name}"), found);
                }
            }
            if let Some(secret) = e["valueFrom"]["secretKeyRef"]["name"].as_str() {
                found(&format!("secret of env {name}"), Target::Name(Kinds::Secret, secret.into()));
            }
        }
        for text in items(&c["command"]).chain(items(&c["args"])).filter_map(Value::as_str) {
            script_hosts(text, found);
        }
    }
    for v in items(&pod["volumes"]) {
        if let Some(claim) = v["persistentVolumeClaim"]["claimName"].as_str() {
            found("claimName", Target::Name(Kinds::Claim, claim.into()));
        }
    }
}

/// A host, unless it is outside the bundle (a DNS name with dots, the
/// loopback) or filled in at run time.
fn host(h: &str, at: &str, found: &mut impl FnMut(&str, Target)) {
    if h.is_empty() || h.contains('.') || h == "localhost" || h.starts_with("127.") || h.contains('$') {
        return;
    }
    found(at, Target::Name(Kinds::Host, h.to_string()));
}

/// The hosts of the URLs in a text: after `://` and any `user@`, up to a
/// port, path or query.
fn url_hosts(text: &str) -> Vec<String> {
    text.match_indices("://")
        .map(|(i, _)| {
            let rest = &text[i + 3..];
            let authority = rest.split(['/', '?', '#', ' ', '"', '\'']).next().unwrap_or_default();
            let host = authority.rsplit('@').next().unwrap_or_default();
            host.split(':').next().unwrap_or_default().to_string()
        })
        .collect()
}

/// Hosts a script connects to: `--host=<host>`, and the host of a pgpass
/// line (`printf '%s:…' <host> …`).
fn script_hosts(text: &str, found: &mut impl FnMut(&str, Target)) {
    for (i, _) in text.match_indices("--host=") {
        let h: String = text[i + 7..].chars().take_while(|c| !c.is_whitespace() && !"'\";)".contains(*c)).collect();
        host(&h, "--host in a script", found);
    }
    for line in text.lines().map(str::trim_start).filter(|l| l.starts_with("printf '%s:")) {
        // printf '<format>' <host> …
        let after = line.splitn(3, '\'').nth(2).unwrap_or_default();
        if let Some(h) = after.split_whitespace().next() {
            host(h.trim_matches('\''), "pgpass line", found);
        }
    }
}

/// Label matchers that name the namespace or objects.
fn promql(expr: &str, at: &str, found: &mut impl FnMut(&str, Target)) {
    for label in
        ["namespace", "job", "statefulset", "deployment", "cronjob", "job_name", "pod", "persistentvolumeclaim"]
    {
        for op in ["=\"", "=~\""] {
            let pattern = format!("{label}{op}");
            for (i, _) in expr.match_indices(&pattern) {
                // A whole label name: not the end of another (`job_name` in `xjob_name`).
                if expr[..i].chars().next_back().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                    continue;
                }
                let value = quoted(&expr[i + pattern.len()..]);
                let at = format!("{at} {label}");
                match label {
                    "namespace" if value != "$namespace" => found(&at, Target::Namespace(value)),
                    "namespace" => {}
                    "job" => value.split('|').for_each(|v| found(&at, Target::Name(Kinds::Service, v.into()))),
                    "statefulset" => found(&at, Target::Name(Kinds::StatefulSet, value)),
                    "deployment" => found(&at, Target::Name(Kinds::Deployment, value)),
                    "cronjob" => found(&at, Target::Name(Kinds::CronJob, value)),
                    "job_name" => {
                        for v in value.split('|') {
                            found(&at, Target::Name(Kinds::CronJob, v.trim_end_matches("-[0-9]+").into()));
                        }
                    }
                    "pod" => {
                        for v in value.split('|') {
                            let stem = v.trim_end_matches("-[a-z0-9]{1,10}-[a-z0-9]{5}").trim_end_matches("-[0-9]+");
                            found(&at, Target::Name(Kinds::Workload, stem.into()));
                        }
                    }
                    _ => {
                        for v in value.split('|') {
                            found(&at, Target::Name(Kinds::Claim, v.replace("-[0-9]+", "-0")));
                        }
                    }
                }
            }
        }
    }
}

/// A PromQL string's text (up to the closing quote), regex escapes of
/// names removed.
fn quoted(rest: &str) -> String {
    let mut out = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => break,
            '\\' => {
                if let Some(n) = chars.next()
                    && n != '\\'
                {
                    out.push(n);
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// `cnpg.io/cluster` in any label selector.
fn match_labels(o: &Value, found: &mut impl FnMut(&str, Target)) {
    fn walk(v: &Value, found: &mut impl FnMut(&str, Target)) {
        match v {
            Value::Object(m) => {
                for (k, w) in m {
                    if k == "matchLabels"
                        && let Some(c) = w["cnpg.io/cluster"].as_str()
                    {
                        found("cnpg.io/cluster selector", Target::Name(Kinds::Cluster, c.into()));
                    }
                    walk(w, found);
                }
            }
            Value::Array(items) => items.iter().for_each(|w| walk(w, found)),
            _ => {}
        }
    }
    walk(&o["spec"], found);
}

/// The name of the object of the bundle a name refers to, if any.
pub fn resolve(kinds: Kinds, name: &str, objects: &[Value]) -> Option<String> {
    let has = |kind: &str, n: &str| objects.iter().any(|o| o["kind"] == kind && o["metadata"]["name"] == n);
    let any = |ks: &[&str], n: &str| ks.iter().any(|k| has(k, n));
    let found = |n: &str| Some(n.to_string());
    match kinds {
        Kinds::Host if has("Service", name) => found(name),
        Kinds::Host => name.strip_suffix("-rw").filter(|c| has("Cluster", c)).and_then(found),
        Kinds::Service => has("Service", name).then(|| name.to_string()),
        Kinds::Deployment => has("Deployment", name).then(|| name.to_string()),
        Kinds::StatefulSet => has("StatefulSet", name).then(|| name.to_string()),
        Kinds::CronJob => has("CronJob", name).then(|| name.to_string()),
        Kinds::Workload => any(&["Deployment", "StatefulSet", "Cluster"], name).then(|| name.to_string()),
        Kinds::Claim if has("PersistentVolumeClaim", name) => found(name),
        Kinds::Claim => {
            let stem = name.strip_suffix("-0")?;
            match stem.strip_prefix("data-") {
                Some(s) if has("StatefulSet", s) => found(s),
                _ => has("Cluster", stem).then(|| stem.to_string()),
            }
        }
        Kinds::Secret if has("Secret", name) => found(name),
        Kinds::Secret => name.strip_suffix("-app").filter(|c| has("Cluster", c)).and_then(found),
        Kinds::Cluster => has("Cluster", name).then(|| name.to_string()),
        Kinds::Issuer => has("Issuer", name).then(|| name.to_string()),
    }
}

#[test]
fn shapes_of_references() {
    let mut out = Vec::new();
    let mut found = |_: &str, t: Target| out.push(t);
    promql(
        "up{namespace=\"shop\", job=\"db|web\"} or x{pod=~\"web-[a-z0-9]{1,10}-[a-z0-9]{5}|db-[0-9]+\", persistentvolumeclaim=~\"data-db-[0-9]+|my\\\\.claim\", job_name=~\"backup-[0-9]+\"}",
        "expr",
        &mut found,
    );
    script_hosts("pg_isready --host=db --port=5432\nprintf '%s:%s\\n' db '5432' > f\n--host=127.0.0.1", &mut found);
    for h in url_hosts("postgres://u@db:5432/x redis://cache:6379/0 http://x.y.svc:9090") {
        host(&h, "url", &mut found);
    }
    let name = |k, n: &str| Target::Name(k, n.to_string());
    assert_eq!(
        out,
        vec![
            Target::Namespace("shop".into()),
            name(Kinds::Service, "db"),
            name(Kinds::Service, "web"),
            name(Kinds::CronJob, "backup"),
            name(Kinds::Workload, "web"),
            name(Kinds::Workload, "db"),
            name(Kinds::Claim, "data-db-0"),
            name(Kinds::Claim, "my.claim"),
            name(Kinds::Host, "db"),
            name(Kinds::Host, "db"),
            name(Kinds::Host, "db"),
            name(Kinds::Host, "cache"),
        ]
    );
}
