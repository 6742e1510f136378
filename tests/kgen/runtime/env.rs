//! A container's environment and command line, by the kubelet's rules:
//! service links, then `envFrom` (ConfigMaps and Secrets, with `prefix`),
//! then `env` in order, where `value` expands `$(VAR)` from what is defined
//! before it (`$$` is `$`, an unresolvable reference stays as written) and
//! `valueFrom` reads Secrets, ConfigMaps, pod fields and resources; explicit
//! variables win over service links; `command` and `args` expand from the
//! result. Then the runtime's part: the image's variables under the
//! container's, `HOSTNAME`, and `HOME` when nothing set it.
//!
//! It does not know about images beyond their variables, nor start anything.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, EnvVarSource};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

/// What the downward API can tell a container about its pod.
pub struct PodFacts {
    pub name: String,
    pub namespace: String,
    pub ip: String,
    pub node_name: String,
    pub host_ip: String,
    pub service_account: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

/// A Service as the kubelet sees it for service links.
pub struct ServiceLink {
    pub name: String,
    /// `None` for a headless Service (those get no variables).
    pub cluster_ip: Option<String>,
    /// (name, port, protocol)
    pub ports: Vec<(Option<String>, i32, String)>,
}

/// `<NAME>_SERVICE_HOST`, `<NAME>_SERVICE_PORT[_<PORT NAME>]`, `<NAME>_PORT`
/// and `<NAME>_PORT_<port>_<PROTO>[_PROTO|_PORT|_ADDR]`, as the kubelet
/// writes them (pkg/kubelet/envvars), for every Service with a cluster IP.
pub fn service_link_variables(links: &[ServiceLink]) -> Vec<(String, String)> {
    let mut out = vec![];
    for link in links {
        let (Some(ip), Some((_, first_port, _))) = (&link.cluster_ip, link.ports.first()) else {
            continue;
        };
        let prefix = variable_name(&link.name);
        out.push((format!("{prefix}_SERVICE_HOST"), ip.clone()));
        out.push((format!("{prefix}_SERVICE_PORT"), first_port.to_string()));
        for (name, port, _) in &link.ports {
            if let Some(name) = name {
                out.push((format!("{prefix}_SERVICE_PORT_{}", variable_name(name)), port.to_string()));
            }
        }
        for (i, (_, port, protocol)) in link.ports.iter().enumerate() {
            let lower = protocol.to_lowercase();
            let url = format!("{lower}://{ip}:{port}");
            if i == 0 {
                out.push((format!("{prefix}_PORT"), url.clone()));
            }
            let port_prefix = format!("{prefix}_PORT_{port}_{}", protocol.to_uppercase());
            out.push((port_prefix.clone(), url));
            out.push((format!("{port_prefix}_PROTO"), lower));
            out.push((format!("{port_prefix}_PORT"), port.to_string()));
            out.push((format!("{port_prefix}_ADDR"), ip.clone()));
        }
    }
    out
}

fn variable_name(name: &str) -> String {
    name.replace('-', "_").to_uppercase()
}

/// Where `envFrom` and `valueFrom` read. `None`: no such object, or no such key.
pub trait Sources {
    fn configmap(&self, name: &str) -> Option<BTreeMap<String, String>>;
    fn secret(&self, name: &str) -> Option<BTreeMap<String, Vec<u8>>>;
}

/// The variables the kubelet passes to the runtime for `container`, or why
/// it would refuse to start it (CreateContainerConfigError).
pub fn kubelet_variables(
    container: &Container,
    pod: &PodFacts,
    service_links: &[(String, String)],
    sources: &dyn Sources,
) -> Result<BTreeMap<String, String>, String> {
    let services: BTreeMap<String, String> = service_links.iter().cloned().collect();
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    for from in container.env_from.iter().flatten() {
        let prefix = from.prefix.clone().unwrap_or_default();
        if let Some(r) = &from.config_map_ref {
            match sources.configmap(&r.name) {
                Some(data) => env.extend(data.into_iter().map(|(k, v)| (format!("{prefix}{k}"), v))),
                None if r.optional == Some(true) => {}
                None => return Err(format!("configmap \"{}\" not found (envFrom)", r.name)),
            }
        }
        if let Some(r) = &from.secret_ref {
            match sources.secret(&r.name) {
                Some(data) => env.extend(data.into_iter().map(|(k, v)| (format!("{prefix}{k}"), lossy(v)))),
                None if r.optional == Some(true) => {}
                None => return Err(format!("secret \"{}\" not found (envFrom)", r.name)),
            }
        }
    }
    // Names that are not valid variable names are dropped (with an event).
    env.retain(|k, _| valid_variable_name(k));
    for var in container.env.iter().flatten() {
        let value = match (&var.value, &var.value_from) {
            (_, Some(from)) => match value_from(from, container, pod, sources)? {
                Some(v) => v,
                None => continue,
            },
            (Some(v), None) => expand(v, |name| env.get(name).or_else(|| services.get(name)).cloned()),
            (None, None) => String::new(),
        };
        env.insert(var.name.clone(), value);
    }
    for (k, v) in services {
        env.entry(k).or_insert(v);
    }
    Ok(env)
}

fn valid_variable_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_graphic() && c != '=')
}

fn lossy(bytes: Vec<u8>) -> String {
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A `valueFrom`; `Ok(None)` for an optional reference that does not resolve.
fn value_from(
    from: &EnvVarSource,
    container: &Container,
    pod: &PodFacts,
    sources: &dyn Sources,
) -> Result<Option<String>, String> {
    if let Some(r) = &from.secret_key_ref {
        let optional = r.optional == Some(true);
        return match sources.secret(&r.name) {
            Some(data) => match data.get(&r.key) {
                Some(v) => Ok(Some(lossy(v.clone()))),
                None if optional => Ok(None),
                None => Err(format!("couldn't find key {} in Secret {}", r.key, r.name)),
            },
            None if optional => Ok(None),
            None => Err(format!("secret \"{}\" not found", r.name)),
        };
    }
    if let Some(r) = &from.config_map_key_ref {
        let optional = r.optional == Some(true);
        return match sources.configmap(&r.name) {
            Some(data) => match data.get(&r.key) {
                Some(v) => Ok(Some(v.clone())),
                None if optional => Ok(None),
                None => Err(format!("couldn't find key {} in ConfigMap {}", r.key, r.name)),
            },
            None if optional => Ok(None),
            None => Err(format!("configmap \"{}\" not found", r.name)),
        };
    }
    if let Some(r) = &from.field_ref {
        return field(&r.field_path, pod).map(Some);
    }
    if let Some(r) = &from.resource_field_ref {
        return resource(&r.resource, r.divisor.as_ref(), container).map(Some);
    }
    Err("valueFrom names no source".into())
}

/// A downward API field.
pub fn field(path: &str, pod: &PodFacts) -> Result<String, String> {
    let subscript = |prefix: &str, map: &BTreeMap<String, String>| {
        let key = path.strip_prefix(prefix)?.strip_suffix("']")?;
        Some(map.get(key).cloned().unwrap_or_default())
    };
    let value = match path {
        "metadata.name" => pod.name.clone(),
        "metadata.namespace" => pod.namespace.clone(),
        "metadata.uid" => format!("00000000-0000-4000-8000-{:012x}", pod.name.len()),
        "spec.nodeName" => pod.node_name.clone(),
        "spec.serviceAccountName" => pod.service_account.clone(),
        "status.hostIP" | "status.hostIPs" => pod.host_ip.clone(),
        "status.podIP" | "status.podIPs" => pod.ip.clone(),
        _ => {
            let value = subscript("metadata.labels['", &pod.labels)
                .or_else(|| subscript("metadata.annotations['", &pod.annotations));
            value.ok_or_else(|| format!("unsupported fieldRef {path}"))?
        }
    };
    Ok(value)
}

/// A `resourceFieldRef`: the limit (or request), in units of the divisor,
/// rounded up, as the kubelet computes it. Without a limit the kubelet uses
/// the node's allocatable; this node says 2 CPUs and 8Gi.
fn resource(name: &str, divisor: Option<&Quantity>, container: &Container) -> Result<String, String> {
    let resources = container.resources.as_ref();
    let (kind, resource) = name.split_once('.').ok_or_else(|| format!("unsupported resourceFieldRef {name}"))?;
    let table = match kind {
        "limits" => resources.and_then(|r| r.limits.as_ref()),
        "requests" => resources.and_then(|r| r.requests.as_ref()),
        _ => return Err(format!("unsupported resourceFieldRef {name}")),
    };
    let node_default = if resource == "cpu" { "2" } else { "8Gi" };
    let amount = table.and_then(|t| t.get(resource)).map(|q| q.0.clone()).unwrap_or_else(|| node_default.into());
    let divisor = divisor.map(|d| d.0.clone()).unwrap_or_else(|| "1".into());
    let value = quantity(&amount)? / quantity(&divisor)?;
    Ok(format!("{}", value.ceil() as u64))
}

/// A Kubernetes quantity as a number (enough precision for env values).
pub fn quantity(text: &str) -> Result<f64, String> {
    const SUFFIXES: &[(&str, f64)] = &[
        ("Ki", 1024.0),
        ("Mi", 1048576.0),
        ("Gi", 1073741824.0),
        ("Ti", 1099511627776.0),
        ("m", 0.001),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
    ];
    let (number, factor) =
        SUFFIXES.iter().find_map(|(s, f)| text.strip_suffix(s).map(|n| (n, *f))).unwrap_or((text, 1.0));
    number.parse::<f64>().map(|n| n * factor).map_err(|_| format!("not a quantity: {text}"))
}

/// `$(VAR)` expansion as Kubernetes does it (third_party/forked/golang/expansion).
pub fn expand(input: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    let bytes = input.as_bytes();
    let mut out = String::new();
    let mut checkpoint = 0;
    let mut cursor = 0;
    while cursor < bytes.len() {
        if bytes[cursor] == b'$' && cursor + 1 < bytes.len() {
            out.push_str(&input[checkpoint..cursor]);
            let rest = &input[cursor + 1..];
            let advance = match rest.as_bytes()[0] {
                b'$' => {
                    out.push('$');
                    1
                }
                b'(' => match rest.find(')') {
                    Some(close) => {
                        let name = &rest[1..close];
                        out.push_str(&lookup(name).unwrap_or_else(|| format!("$({name})")));
                        close + 1
                    }
                    None => {
                        out.push_str("$(");
                        1
                    }
                },
                _ => {
                    // `$` and the next character are kept as they are.
                    let next = rest.chars().next().expect("not empty");
                    out.push('$');
                    out.push(next);
                    next.len_utf8()
                }
            };
            cursor += advance;
            checkpoint = cursor + 1;
        }
        cursor += 1;
    }
    if checkpoint < input.len() {
        out.push_str(&input[checkpoint..]);
    }
    out
}

/// `command` and `args` with `$(VAR)` expanded from the container's variables.
pub fn expand_all(items: &[String], env: &BTreeMap<String, String>) -> Vec<String> {
    items.iter().map(|s| expand(s, |name| env.get(name).cloned())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(name: &str) -> Option<String> {
        match name {
            "A" => Some("a/b".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn expansion_follows_kubernetes_rules() {
        let cases = [
            ("$(A)", "a/b"),
            ("x$(A)y", "xa/by"),
            ("$$(A)", "$(A)"),
            ("$$$(A)", "$a/b"),
            ("$(MISSING)", "$(MISSING)"),
            ("$(EMPTY)!", "!"),
            ("$(A", "$(A"),
            ("$A", "$A"),
            ("trailing$", "trailing$"),
            ("ü$(A)ü", "üa/bü"),
            ("$ü", "$ü"),
        ];
        for (input, expected) in cases {
            assert_eq!(expand(input, lookup), expected, "expanding {input:?}");
        }
    }

    #[test]
    fn service_links_are_named_like_the_kubelets() {
        let links = [
            ServiceLink {
                name: "redis-cache".into(),
                cluster_ip: Some("10.96.0.10".into()),
                ports: vec![(Some("redis".into()), 6379, "TCP".into())],
            },
            ServiceLink { name: "db".into(), cluster_ip: None, ports: vec![(None, 5432, "TCP".into())] },
        ];
        let vars: BTreeMap<String, String> = service_link_variables(&links).into_iter().collect();
        let expected = [
            ("REDIS_CACHE_SERVICE_HOST", "10.96.0.10"),
            ("REDIS_CACHE_SERVICE_PORT", "6379"),
            ("REDIS_CACHE_SERVICE_PORT_REDIS", "6379"),
            ("REDIS_CACHE_PORT", "tcp://10.96.0.10:6379"),
            ("REDIS_CACHE_PORT_6379_TCP", "tcp://10.96.0.10:6379"),
            ("REDIS_CACHE_PORT_6379_TCP_PROTO", "tcp"),
            ("REDIS_CACHE_PORT_6379_TCP_PORT", "6379"),
            ("REDIS_CACHE_PORT_6379_TCP_ADDR", "10.96.0.10"),
        ];
        let expected: BTreeMap<String, String> = expected.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert_eq!(vars, expected);
    }
}
