//! What the API server refuses in a single object, whoever made it (kgen,
//! a patch, an extra manifest): an `apiVersion` it does not serve for a
//! built-in kind, a pod without containers, a negative replica count, a
//! selector that misses the pod template, ConfigMap and Secret keys that
//! are not file names, data over 1 MiB, an Ingress host that is an IP
//! address, quantities it cannot read. Each problem comes with its path in
//! the object, so that callers can point at what wrote it.
//!
//! Works on the object's JSON, so kinds kgen does not model (a DaemonSet in
//! an extra manifest) are held to the same rules. Pure: no IO.

use serde_json::Value;

use crate::kube::DATA_MAX_BYTES;
use crate::model::{names, quantity};
use crate::yaml::PathSegment;

/// One problem: what is wrong, where in the object, and what to do.
#[derive(Debug, PartialEq)]
pub struct Problem {
    pub message: String,
    pub at: Vec<PathSegment>,
    pub hint: Option<String>,
}

fn problem(message: impl Into<String>, at: &[&str], hint: Option<&str>) -> Problem {
    Problem { message: message.into(), at: keys(at), hint: hint.map(String::from) }
}

fn keys(at: &[&str]) -> Vec<PathSegment> {
    at.iter().map(|k| PathSegment::Key(k.to_string())).collect()
}

/// Built-in kinds and the versions of their group the API server serves;
/// a kind of a group listed here that the table does not name does not
/// exist. (Custom resources live in other groups.)
const BUILT_IN: &[(&str, &[&str], &[&str])] = &[
    (
        "",
        &["v1"],
        &[
            "Binding",
            "ConfigMap",
            "Endpoints",
            "Event",
            "LimitRange",
            "List",
            "Namespace",
            "Node",
            "PersistentVolume",
            "PersistentVolumeClaim",
            "Pod",
            "PodTemplate",
            "ReplicationController",
            "ResourceQuota",
            "Secret",
            "Service",
            "ServiceAccount",
        ],
    ),
    ("apps", &["v1"], &["ControllerRevision", "DaemonSet", "Deployment", "ReplicaSet", "StatefulSet"]),
    ("batch", &["v1"], &["CronJob", "Job"]),
    ("autoscaling", &["v1", "v2"], &["HorizontalPodAutoscaler"]),
    ("policy", &["v1"], &["PodDisruptionBudget"]),
    ("networking.k8s.io", &["v1"], &["Ingress", "IngressClass", "IPAddress", "NetworkPolicy", "ServiceCIDR"]),
    ("rbac.authorization.k8s.io", &["v1"], &["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"]),
    ("scheduling.k8s.io", &["v1"], &["PriorityClass"]),
    ("coordination.k8s.io", &["v1"], &["Lease"]),
    ("discovery.k8s.io", &["v1"], &["EndpointSlice"]),
    ("node.k8s.io", &["v1"], &["RuntimeClass"]),
    ("apiextensions.k8s.io", &["v1"], &["CustomResourceDefinition"]),
];

/// The versions other built-in groups serve (their kinds are not listed).
const OTHER_GROUPS: &[(&str, &[&str])] = &[
    ("storage.k8s.io", &["v1", "v1beta1"]),
    ("admissionregistration.k8s.io", &["v1", "v1beta1", "v1alpha1"]),
    ("certificates.k8s.io", &["v1", "v1beta1", "v1alpha1"]),
    ("events.k8s.io", &["v1"]),
    ("flowcontrol.apiserver.k8s.io", &["v1"]),
    ("apiregistration.k8s.io", &["v1"]),
    ("resource.k8s.io", &["v1", "v1beta1", "v1beta2", "v1alpha3"]),
];

/// Problems with an object's `apiVersion` and `kind`.
pub fn api_version(api_version: &str, kind: &str) -> Option<Problem> {
    let at = &["apiVersion"];
    let (group, version) = match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    };
    let syntax = version.contains('/')
        || names::dns1123_label(version, 63).is_err()
        || (!group.is_empty() && names::dns1123_subdomain(group, 253).is_err());
    if syntax {
        return Some(problem(
            format!("`{api_version}` is not an apiVersion"),
            at,
            Some("write `version` for the core group (`v1`) or `group/version` (`apps/v1`, `example.com/v1`)"),
        ));
    }
    if let Some((_, versions, kinds)) = BUILT_IN.iter().find(|(g, _, _)| *g == group) {
        if !versions.contains(&version) {
            let shown = if group.is_empty() { "the core group".to_string() } else { format!("`{group}`") };
            let served: Vec<String> = versions
                .iter()
                .map(|v| if group.is_empty() { format!("`{v}`") } else { format!("`{group}/{v}`") })
                .collect();
            return Some(problem(
                format!("the API server serves {shown} as {}, not `{api_version}`", served.join(", ")),
                at,
                None,
            ));
        }
        if !kinds.contains(&kind) {
            return Some(problem(
                format!("the API server has no kind `{kind}` in `{api_version}`"),
                &["kind"],
                Some("a custom resource has a group of its own, e.g. `example.com/v1`"),
            ));
        }
    } else if let Some((_, versions)) = OTHER_GROUPS.iter().find(|(g, _)| *g == group)
        && !versions.contains(&version)
    {
        return Some(problem(format!("the API server does not serve `{api_version}`"), at, None));
    }
    // A built-in kind under another built-in group's name is a mistake
    // (`apps/v1` ConfigMap); under a group of its own it is a custom kind.
    None
}

/// Where a kind keeps its pod spec.
pub fn pod_spec_path(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "Pod" => &["spec"],
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "ReplicationController" | "Job" => {
            &["spec", "template", "spec"]
        }
        "CronJob" => &["spec", "jobTemplate", "spec", "template", "spec"],
        "PodTemplate" => &["template", "spec"],
        _ => return None,
    })
}

/// Whether `api_version` is the built-in group a kind of pods lives in
/// (a custom kind named `Deployment` is not checked as one).
pub fn is_built_in(api_version: &str, kind: &str) -> bool {
    let group = api_version.split_once('/').map_or("", |(g, _)| g);
    BUILT_IN.iter().any(|(g, versions, kinds)| {
        *g == group && kinds.contains(&kind) && versions.iter().any(|v| api_version.ends_with(v))
    })
}

fn get<'a>(v: &'a Value, at: &[&str]) -> Option<&'a Value> {
    at.iter().try_fold(v, |v, k| v.get(k))
}

/// Every problem the API server would refuse the object for.
pub fn problems(object: &Value) -> Vec<Problem> {
    let text = |k: &str| object.get(k).and_then(Value::as_str).unwrap_or_default();
    let (api, kind) = (text("apiVersion"), text("kind"));
    let mut out = Vec::new();
    if let Some(p) = api_version(api, kind) {
        out.push(p);
        return out;
    }
    if !is_built_in(api, kind) {
        return out;
    }
    if let Some(spec_path) = pod_spec_path(kind) {
        pod_spec(object, spec_path, &mut out);
    }
    if matches!(kind, "Deployment" | "StatefulSet" | "ReplicaSet" | "ReplicationController")
        && let Some(n) = get(object, &["spec", "replicas"]).and_then(Value::as_i64)
        && n < 0
    {
        out.push(problem(format!("replicas is {n}; it must be 0 or more"), &["spec", "replicas"], None));
    }
    if matches!(kind, "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet") {
        selector_selects_template(object, kind, &mut out);
    }
    match (api, kind) {
        ("v1", "ConfigMap") => data(object, &["data", "binaryData"], "ConfigMap", &mut out),
        ("v1", "Secret") => data(object, &["data", "stringData"], "Secret", &mut out),
        ("networking.k8s.io/v1", "Ingress") => ingress_hosts(object, &mut out),
        _ => {}
    }
    out
}

/// Containers: at least one, named once each, with an image, and
/// resources the API server can read (a request no larger than its limit).
fn pod_spec(object: &Value, spec_path: &[&str], out: &mut Vec<Problem>) {
    let Some(spec) = get(object, spec_path) else {
        out.push(problem("the object has no pod spec", &spec_path[..spec_path.len() - 1], None));
        return;
    };
    let at = |rest: &[PathSegment]| [keys(spec_path), rest.to_vec()].concat();
    let containers = spec.get("containers").and_then(Value::as_array);
    if containers.is_none_or(|c| c.is_empty()) {
        out.push(Problem {
            message: "a pod needs at least one container".into(),
            at: at(&[PathSegment::Key("containers".into())]),
            hint: Some("add a container under `containers`".into()),
        });
    }
    let mut seen = std::collections::HashSet::new();
    for list in ["initContainers", "containers"] {
        for (i, c) in spec.get(list).and_then(Value::as_array).into_iter().flatten().enumerate() {
            let here = |rest: &[&str]| {
                at(&[[PathSegment::Key(list.into()), PathSegment::Index(i)].as_slice(), keys(rest).as_slice()].concat())
            };
            let name = c.get("name").and_then(Value::as_str).unwrap_or_default();
            if let Err(why) = names::dns1123_label(name, 63) {
                out.push(Problem {
                    message: format!("container name `{name}` {why}"),
                    at: here(&["name"]),
                    hint: None,
                });
            } else if !seen.insert(name) {
                out.push(Problem {
                    message: format!("container `{name}` is in the pod twice"),
                    at: here(&["name"]),
                    hint: Some("containers and init containers share one set of names".into()),
                });
            }
            if c.get("image").and_then(Value::as_str).is_none_or(|s| s.trim().is_empty()) {
                out.push(Problem {
                    message: format!("container `{name}` has no image"),
                    at: here(&["image"]),
                    hint: None,
                });
            }
            resources(c, name, &here, out);
        }
    }
}

fn resources(c: &Value, name: &str, here: &dyn Fn(&[&str]) -> Vec<PathSegment>, out: &mut Vec<Problem>) {
    let mut parsed: [std::collections::BTreeMap<&str, f64>; 2] = Default::default();
    for (n, part) in ["requests", "limits"].iter().enumerate() {
        for (resource, q) in
            c.get("resources").and_then(|r| r.get(part)).and_then(Value::as_object).into_iter().flatten()
        {
            let text = match q {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => String::new(),
            };
            match quantity::parse(&text) {
                Ok(v) => {
                    parsed[n].insert(resource, v);
                }
                Err(why) => out.push(Problem {
                    message: format!("container `{name}`: {part}.{resource}: {why}"),
                    at: here(&["resources", part, resource]),
                    hint: None,
                }),
            }
        }
    }
    for (resource, request) in &parsed[0] {
        if let Some(limit) = parsed[1].get(resource)
            && request > limit
        {
            out.push(Problem {
                message: format!("container `{name}` requests more {resource} than its limit"),
                at: here(&["resources", "requests", resource]),
                hint: Some("a request must be at most the limit".into()),
            });
        }
    }
}

/// A workload's selector must be set and select its own pod template.
fn selector_selects_template(object: &Value, kind: &str, out: &mut Vec<Problem>) {
    let at = &["spec", "selector"];
    let selector: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector> =
        get(object, at).and_then(|s| serde_json::from_value(s.clone()).ok());
    let empty = selector.as_ref().is_none_or(|s| {
        s.match_labels.as_ref().is_none_or(|m| m.is_empty())
            && s.match_expressions.as_ref().is_none_or(|e| e.is_empty())
    });
    if empty {
        out.push(problem(
            format!("a {kind} needs a selector"),
            at,
            Some("select the pod template's labels with `matchLabels`"),
        ));
        return;
    }
    let labels: std::collections::BTreeMap<String, String> = get(object, &["spec", "template", "metadata", "labels"])
        .and_then(|l| serde_json::from_value(l.clone()).ok())
        .unwrap_or_default();
    if !crate::check::selects(selector.as_ref().expect("not empty"), &labels) {
        out.push(problem(
            format!("the {kind}'s selector does not select its own pod template's labels"),
            at,
            Some("the API server refuses it: give the template the labels the selector asks for"),
        ));
    }
}

/// ConfigMap and Secret data: keys that are file names, in one field only,
/// at most 1 MiB together.
fn data(object: &Value, fields: &[&str; 2], kind: &str, out: &mut Vec<Problem>) {
    let mut size = 0usize;
    let mut seen = std::collections::HashSet::new();
    for field in fields {
        for (key, value) in object.get(*field).and_then(Value::as_object).into_iter().flatten() {
            if let Err(why) = names::data_key(key) {
                out.push(problem(
                    format!("{kind} key `{key}` {why}"),
                    &[field, key],
                    Some("a key is a file name: letters, digits, `-`, `_` and `.`"),
                ));
            } else if !seen.insert(key.as_str()) {
                out.push(problem(
                    format!("{kind} key `{key}` is in both `{}` and `{}`", fields[0], fields[1]),
                    &[field, key],
                    None,
                ));
            }
            let text = value.as_str().unwrap_or_default();
            // `data` of a Secret and `binaryData` are base64: count the bytes they hold.
            size += if *field == "data" && kind == "Secret" || *field == "binaryData" {
                text.len() / 4 * 3
            } else {
                text.len()
            };
        }
    }
    if size > DATA_MAX_BYTES {
        out.push(problem(
            format!("the {kind} holds {size} bytes of data; the API server allows 1 MiB ({DATA_MAX_BYTES})"),
            &[fields[0]],
            Some("split it, or keep large files out of the cluster's database (a volume, object storage)"),
        ));
    }
}

/// An Ingress rule's host is a DNS name (a leading `*.` allowed), never an
/// IP address.
fn ingress_hosts(object: &Value, out: &mut Vec<Problem>) {
    for (i, rule) in get(object, &["spec", "rules"]).and_then(Value::as_array).into_iter().flatten().enumerate() {
        let Some(host) = rule.get("host").and_then(Value::as_str) else { continue };
        let at = vec![
            PathSegment::Key("spec".into()),
            PathSegment::Key("rules".into()),
            PathSegment::Index(i),
            PathSegment::Key("host".into()),
        ];
        let bare = host.strip_prefix("*.").unwrap_or(host);
        if host.parse::<std::net::IpAddr>().is_ok() || bare.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok()
        {
            out.push(Problem {
                message: format!("Ingress host `{host}` is an IP address; the API server accepts DNS names only"),
                at,
                hint: Some("leave `host` out to match every host, or use a DNS name".into()),
            });
        } else if let Err(why) = names::dns1123_subdomain(bare, 253) {
            out.push(Problem { message: format!("Ingress host `{host}` {why}"), at, hint: None });
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn messages(v: Value) -> Vec<String> {
        problems(&v).into_iter().map(|p| format!("{} at {}", p.message, crate::yaml::format_path(&p.at))).collect()
    }

    #[test]
    fn api_versions_of_built_in_kinds() {
        let cases = [
            ("v1", "ConfigMap", None),
            ("v2", "ConfigMap", Some("the API server serves the core group as `v1`, not `v2`")),
            ("v1/../..", "ConfigMap", Some("`v1/../..` is not an apiVersion")),
            ("apps/v1beta1", "Deployment", Some("the API server serves `apps` as `apps/v1`, not `apps/v1beta1`")),
            ("v1", "Deployment", Some("the API server has no kind `Deployment` in `v1`")),
            ("example.com/v1", "Secret", None),
            ("Example.com/v1", "Widget", Some("`Example.com/v1` is not an apiVersion")),
            ("autoscaling/v2", "HorizontalPodAutoscaler", None),
            ("storage.k8s.io/v1", "StorageClass", None),
            ("storage.k8s.io/v9", "StorageClass", Some("the API server does not serve `storage.k8s.io/v9`")),
            ("", "ConfigMap", Some("`` is not an apiVersion")),
        ];
        for (api, kind, expected) in cases {
            assert_eq!(api_version(api, kind).map(|p| p.message), expected.map(String::from), "{api} {kind}");
        }
    }

    #[test]
    fn objects_the_api_server_refuses() {
        let deployment = |spec: Value| json!({"apiVersion": "apps/v1", "kind": "Deployment", "spec": spec});
        let template = json!({"metadata": {"labels": {"app": "shop"}}, "spec": {"containers": [{"name": "web", "image": "shop:1"}]}});
        assert_eq!(
            messages(deployment(json!({"selector": {"matchLabels": {"app": "shop"}}, "template": template}))),
            Vec::<String>::new()
        );
        assert_eq!(
            messages(deployment(
                json!({"replicas": -5, "selector": {"matchLabels": {"app": "other"}}, "template": template})
            )),
            [
                "replicas is -5; it must be 0 or more at spec.replicas",
                "the Deployment's selector does not select its own pod template's labels at spec.selector",
            ]
        );
        assert_eq!(
            messages(deployment(json!({"selector": {}, "template": {"spec": {"containers": null}}}))),
            [
                "a pod needs at least one container at spec.template.spec.containers",
                "a Deployment needs a selector at spec.selector",
            ]
        );
        assert_eq!(
            messages(
                json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "spec": {"selector": {"matchLabels": {"a": "b"}},
                "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"initContainers": [{"name": "x", "image": "i"}],
                "containers": [{"name": "x", "image": "", "resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "1", "memory": "1 Gi"}}}]}}}})
            ),
            [
                "container `x` is in the pod twice at spec.template.spec.containers[0].name",
                "container `x` has no image at spec.template.spec.containers[0].image",
                "container `x`: limits.memory: `1 Gi` is not a Kubernetes quantity (examples: 250m, 1, 512Mi, 10Gi) at spec.template.spec.containers[0].resources.limits.memory",
                "container `x` requests more cpu than its limit at spec.template.spec.containers[0].resources.requests.cpu",
            ]
        );
        assert_eq!(
            messages(
                json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"../../etc/x": "1", "a": "1"}, "binaryData": {"a": "MQ=="}})
            ),
            [
                "ConfigMap key `../../etc/x` may contain only letters, digits, `-`, `_` and `.` at data.../../etc/x",
                "ConfigMap key `a` is in both `data` and `binaryData` at binaryData.a",
            ]
        );
        let big = "QUFB".repeat(300_000);
        assert_eq!(messages(json!({"apiVersion": "v1", "kind": "Secret", "data": {"a": big}})), Vec::<String>::new());
        let big = "QUFB".repeat(400_000);
        assert_eq!(
            messages(json!({"apiVersion": "v1", "kind": "Secret", "data": {"a": big}})),
            ["the Secret holds 1200000 bytes of data; the API server allows 1 MiB (1048576) at data"]
        );
        assert_eq!(
            messages(json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "spec": {"rules": [
                {"host": "10.0.0.1"}, {"host": "*.example.com"}, {"host": "[::1]"}, {"host": "Bad_Host"}]}})),
            [
                "Ingress host `10.0.0.1` is an IP address; the API server accepts DNS names only at spec.rules[0].host",
                "Ingress host `[::1]` is an IP address; the API server accepts DNS names only at spec.rules[2].host",
                "Ingress host `Bad_Host` may contain only lowercase letters, digits and `-` at spec.rules[3].host",
            ]
        );
        // A custom kind named like a built-in one is not held to its rules.
        assert_eq!(
            messages(json!({"apiVersion": "example.com/v1", "kind": "Deployment", "spec": {"replicas": -1}})),
            Vec::<String>::new()
        );
    }
}
