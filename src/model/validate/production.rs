//! Production settings: autoscaling, disruption budgets, spreading,
//! routing (Ingress, Gateway API, TLS issuers), NetworkPolicies and RBAC.

use super::{Builder, MetaMap};
use crate::diagnostic::Code;
use crate::diagnostic::Diagnostic;
use crate::model::names;
use crate::model::*;
use crate::path;
use crate::profile;
use crate::yaml::PathSegment;

/// KEDA's default Prometheus (kube-prometheus-stack's operated Service).
const KEDA_PROMETHEUS: &str = "http://prometheus-operated.monitoring.svc:9090";

const LETSENCRYPT_PRODUCTION: &str = "https://acme-v02.api.letsencrypt.org/directory";
const LETSENCRYPT_STAGING: &str = "https://acme-staging-v02.api.letsencrypt.org/directory";

/// Namespaces the common ingress controllers install into, by class.
const INGRESS_NAMESPACES: &[(&str, &str)] = &[
    ("nginx", "ingress-nginx"),
    ("traefik", "traefik"),
    ("haproxy", "haproxy-controller"),
    ("contour", "projectcontour"),
];

/// Verbs a Role may grant.
const VERBS: &[&str] = &["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"];

impl Builder<'_> {
    /// Autoscaling, the disruption budget and spreading of a component.
    pub(super) fn scaling(
        &mut self,
        at: &[PathSegment],
        key: &str,
        c: &profile::Component,
    ) -> (Option<Autoscaling>, Option<DisruptionBudget>, Vec<&'static str>) {
        let autoscaling = c.autoscaling.as_ref().filter(|a| a.enabled != Some(false)).and_then(|a| {
            let here = [at, &path!["autoscaling"]].concat();
            let min = a.min.unwrap_or(2);
            let Some(max) = a.max else {
                self.error_hint(Code::Autoscaling, &here, "autoscaling needs `max`", "add `max: <most replicas>`");
                return None;
            };
            if min == 0 {
                self.error(Code::Autoscaling, &[here.as_slice(), &path!["min"]].concat(), "min must be at least 1");
            }
            self.int32(&[here.as_slice(), &path!["min"]].concat(), "autoscaling min", min);
            self.int32(&[here.as_slice(), &path!["max"]].concat(), "autoscaling max", max);
            if min > max {
                self.error_hint(Code::Autoscaling,
                    &[here.as_slice(), &path!["min"]].concat(),
                    format!("autoscaling min {min} is more than max {max}"),
                    "min is the fewest replicas, max the most",
                );
            }
            for (field, v) in [("cpu", a.cpu), ("memory", a.memory)] {
                if v.is_some_and(|p| p == 0 || p > 1000) {
                    self.error(Code::Autoscaling,
                        &[here.as_slice(), &path![field]].concat(),
                        format!("{field} is a percentage of the request, 1 to 1000"),
                    );
                }
            }
            let mut metrics = Vec::new();
            for (i, m) in a.metrics.iter().enumerate() {
                let mat = [here.as_slice(), &path!["metrics", i]].concat();
                let ok = !m.name.is_empty()
                    && m.name.starts_with(|ch: char| ch.is_ascii_alphabetic() || ch == '_' || ch == ':')
                    && m.name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':');
                if !ok {
                    self.error(Code::Autoscaling,
                        &[mat.as_slice(), &path!["name"]].concat(),
                        format!("`{}` is not a metric name", m.name),
                    );
                }
                if let Err(why) = quantity::parse(&m.target) {
                    self.error(Code::Autoscaling, &[mat.as_slice(), &path!["target"]].concat(), why);
                }
                if a.keda.is_some() && m.query.is_none() {
                    self.error_hint(Code::Autoscaling,
                        &mat,
                        "KEDA scales on a PromQL query",
                        "add `query:` giving the metric's total over the component's pods",
                    );
                }
                metrics.push(CustomMetric { name: m.name.clone(), target: m.target.clone(), query: m.query.clone() });
            }
            if a.keda.is_none() && !a.metrics.is_empty() {
                let names: Vec<String> = a.metrics.iter().map(|m| format!("`{}`", m.name)).collect();
                self.warning(
                    &[here.as_slice(), &path!["metrics", 0, "name"]].concat(),
                    format!(
                        "the autoscaler reads {} from the custom metrics API, which only an adapter serves: without one it cannot compute the metric and never scales down",
                        names.join(", ")
                    ),
                    "install prometheus-adapter with a rule that serves it, or scale on a Prometheus query with `keda: {}` and a `query` per metric",
                );
            }
            let (cpu, memory) = if a.cpu.is_none() && a.memory.is_none() && metrics.is_empty() {
                (Some(80), None)
            } else {
                (a.cpu, a.memory)
            };
            let stabilization = a.scale_down_stabilization_seconds.unwrap_or(300);
            if !(0..=3600).contains(&stabilization) {
                self.error(Code::Autoscaling, &[here.as_slice(), &path!["scaleDownStabilizationSeconds"]].concat(), "must be 0 to 3600");
            }
            Some(Autoscaling {
                min,
                max,
                cpu,
                memory,
                metrics,
                scale_down_stabilization_seconds: stabilization,
                keda: a.keda.as_ref().map(|k| k.prometheus_address.clone().unwrap_or_else(|| KEDA_PROMETHEUS.into())),
            })
        });
        let replicas = c.replicas.unwrap_or(1);
        let fewest = autoscaling.as_ref().map_or(replicas, |a| a.min);
        let budget = self.disruption_budget(at, key, c, fewest, autoscaling.is_some());
        let spread = match c.spread {
            Some(profile::Spread::None) => Vec::new(),
            Some(profile::Spread::Zones) => vec!["topology.kubernetes.io/zone"],
            Some(profile::Spread::Nodes) => vec!["kubernetes.io/hostname"],
            Some(profile::Spread::Both) => vec!["topology.kubernetes.io/zone", "kubernetes.io/hostname"],
            None if fewest >= 2 || autoscaling.is_some() => {
                vec!["topology.kubernetes.io/zone", "kubernetes.io/hostname"]
            }
            None => Vec::new(),
        };
        (autoscaling, budget, spread)
    }

    fn disruption_budget(
        &mut self,
        at: &[PathSegment],
        key: &str,
        c: &profile::Component,
        fewest: u32,
        autoscaled: bool,
    ) -> Option<DisruptionBudget> {
        let here = [at, &path!["disruptionBudget"]].concat();
        let Some(spec) = c.disruption_budget.as_ref().filter(|b| b.enabled != Some(false)) else {
            return (c.disruption_budget.is_none() && fewest >= 2)
                .then_some(DisruptionBudget::MaxUnavailable(IntOrPercent::Int(1)));
        };
        let convert = |v: &profile::IntOrPercent| match v {
            profile::IntOrPercent::Int(n) => IntOrPercent::Int(*n),
            profile::IntOrPercent::Percent(p) => IntOrPercent::Percent(p.clone()),
        };
        for (field, value) in [("minAvailable", &spec.min_available), ("maxUnavailable", &spec.max_unavailable)] {
            if let Some(profile::IntOrPercent::Int(n)) = value {
                self.int32(&[here.as_slice(), &path![field]].concat(), field, *n);
            }
        }
        let budget = match (&spec.min_available, &spec.max_unavailable) {
            (Some(_), Some(_)) => {
                self.error_hint(
                    Code::DisruptionBudget,
                    &here,
                    "give minAvailable or maxUnavailable, not both",
                    "Kubernetes takes one of them",
                );
                return None;
            }
            (Some(m), None) => DisruptionBudget::MinAvailable(convert(m)),
            (None, Some(m)) => DisruptionBudget::MaxUnavailable(convert(m)),
            (None, None) => DisruptionBudget::MaxUnavailable(IntOrPercent::Int(1)),
        };
        let replicas = if fewest == 1 { "replica" } else { "replicas" };
        let what = if autoscaled {
            format!("at its minimum of {fewest} {replicas}")
        } else {
            format!("with {fewest} {replicas}")
        };
        let blocks = match &budget {
            DisruptionBudget::MaxUnavailable(IntOrPercent::Int(n)) => *n == 0,
            DisruptionBudget::MaxUnavailable(IntOrPercent::Percent(p)) => p == "0%",
            DisruptionBudget::MinAvailable(IntOrPercent::Int(n)) => *n >= fewest,
            DisruptionBudget::MinAvailable(IntOrPercent::Percent(p)) => {
                let pct: u64 = p.trim_end_matches('%').parse().unwrap_or(100);
                // Kubernetes rounds minAvailable percentages up.
                (u64::from(fewest) * pct).div_ceil(100) >= u64::from(fewest)
            }
        };
        if blocks {
            self.error_hint(Code::DisruptionBudget,
                &here,
                format!("this disruption budget lets no pod of `{key}` be evicted ({what})"),
                "node drains and cluster upgrades would hang: allow at least one pod to be down (e.g. `maxUnavailable: 1`), or run more replicas",
            );
        }
        Some(budget)
    }

    /// The Ingress and Gateway routes, and the Issuer kgen creates for TLS.
    pub(super) fn routing(
        &mut self,
        components: &[Component],
        namespace: &str,
    ) -> (Option<Ingress>, Option<Gateway>, Option<Issuer>) {
        let p = &self.loaded.profile;
        let mut issuer = None;
        let ingress = p.ingress.as_ref().filter(|i| i.enabled != Some(false)).and_then(|i| {
            let at = path!["ingress"].to_vec();
            let Some(class_name) = i.class_name.clone() else {
                self.error_hint(Code::Ingress,
                    &at,
                    "an Ingress needs `className`",
                    "name the IngressClass of your controller (kubectl get ingressclass); kgen assumes no default class",
                );
                return None;
            };
            self.apply_rule(Code::Ingress, &path!["ingress", "className"], "IngressClass", &class_name, |s| names::dns1123_subdomain(s, 253));
            let hosts = self.hosts(&at, &i.hosts, components, namespace, true);
            let tls = i.tls.as_ref().and_then(|t| {
                let tat = path!["ingress", "tls"];
                if i.hosts.is_empty() {
                    self.error_hint(Code::Tls, &tat, "TLS needs hosts", "list the hosts under `ingress.hosts`: a certificate is issued for host names");
                    return None;
                }
                let secret_name = t.secret_name.clone().unwrap_or_else(|| naming::tls_secret(&p.name));
                // WebSocket hosts get an Ingress of their own, with `<secretName>-ws`.
                let room = if i.hosts.iter().any(|h| h.websocket == Some(true)) {
                    naming::websocket_tls_secret(&secret_name).len() - secret_name.len()
                } else {
                    0
                };
                if let Err(why) = names::dns1123_subdomain(&secret_name, 253 - room) {
                    let here = [tat.as_slice(), &path!["secretName"]].concat();
                    let d = Diagnostic::error(Code::ObjectName, format!("Secret name `{secret_name}` {why}"));
                    let d = if room > 0 { d.hint("WebSocket hosts use a certificate of their own, `<secretName>-ws`") } else { d };
                    self.diag(d, &here, false);
                }
                let chosen = [t.cluster_issuer.is_some(), t.issuer.is_some(), t.acme.is_some(), t.self_signed == Some(true)];
                if chosen.iter().filter(|&&b| b).count() > 1 {
                    self.error_hint(Code::Tls, &tat, "choose one of clusterIssuer, issuer, acme and selfSigned", "each names where the certificate comes from");
                }
                let annotation = if let Some(ci) = &t.cluster_issuer {
                    Some(("cert-manager.io/cluster-issuer", ci.clone()))
                } else if let Some(is) = &t.issuer {
                    Some(("cert-manager.io/issuer", is.clone()))
                } else if let Some(acme) = &t.acme {
                    if !acme.email.contains('@') || acme.email.contains(char::is_whitespace) {
                        self.error(Code::Tls, &[tat.as_slice(), &path!["acme", "email"]].concat(), format!("`{}` is not an e-mail address", acme.email));
                    }
                    for (n, h) in i.hosts.iter().enumerate() {
                        if h.host.starts_with("*.") {
                            self.error_hint(Code::Tls,
                                &path!["ingress", "hosts", n, "host"],
                                format!("Let's Encrypt issues no wildcard certificate for `{}` over HTTP-01, the challenge of `tls.acme`", h.host),
                                "use `tls.clusterIssuer` with an issuer that solves DNS-01, or list the host names",
                            );
                        }
                    }
                    let staging = acme.server == Some(profile::AcmeServer::Staging);
                    let name = naming::acme_issuer(&p.name, staging);
                    issuer = Some(Issuer {
                        name: name.clone(),
                        kind: IssuerKind::Acme {
                            email: acme.email.clone(),
                            server: if staging { LETSENCRYPT_STAGING } else { LETSENCRYPT_PRODUCTION },
                            ingress_class: class_name.clone(),
                        },
                    });
                    Some(("cert-manager.io/issuer", name))
                } else if t.self_signed == Some(true) {
                    let name = naming::self_signed_issuer(&p.name);
                    issuer = Some(Issuer { name: name.clone(), kind: IssuerKind::SelfSigned });
                    Some(("cert-manager.io/issuer", name))
                } else {
                    None
                };
                Some(Tls { secret_name, issuer_annotation: annotation })
            });
            let annotations = self.metadata_map(&i.annotations, "ingress.annotations", MetaMap::Annotations);
            Some(Ingress { class_name, annotations, tls, hosts })
        });
        let gateway = p.gateway.as_ref().filter(|g| g.enabled != Some(false)).and_then(|g| {
            let at = path!["gateway"].to_vec();
            let Some(name) = g.name.clone() else {
                self.error_hint(
                    Code::Gateway,
                    &at,
                    "gateway routes need the Gateway's `name`",
                    "add `name:` (and `namespace:` when it lives elsewhere)",
                );
                return None;
            };
            let gw_namespace = g.namespace.clone().unwrap_or_else(|| namespace.to_string());
            self.apply_rule(Code::Namespace, &path!["gateway", "namespace"], "namespace", &gw_namespace, |s| {
                names::dns1123_label(s, 63)
            });
            if let Some(section) = &g.section_name {
                self.apply_rule(Code::Gateway, &path!["gateway", "sectionName"], "listener name", section, |s| {
                    names::dns1123_subdomain(s, 253)
                });
            }
            let hosts = self.hosts(&at, &g.hosts, components, namespace, false);
            Some(Gateway { name, namespace: gw_namespace, section_name: g.section_name.clone(), hosts })
        });
        (ingress, gateway, issuer)
    }

    fn hosts(
        &mut self,
        at: &[PathSegment],
        hosts: &[profile::Host],
        components: &[Component],
        namespace: &str,
        ingress: bool,
    ) -> Vec<RouteHost> {
        let mut out: Vec<RouteHost> = Vec::new();
        if hosts.is_empty() {
            self.error_hint(
                Code::RouteHost,
                at,
                "routing needs at least one host",
                "add `hosts: [{host: app.example.com}]`",
            );
        }
        for (i, h) in hosts.iter().enumerate() {
            let hat = [at, &path!["hosts", i]].concat();
            let bare = h.host.strip_prefix("*.").unwrap_or(&h.host);
            if let Err(why) = names::dns_host_name(bare, 253).and_then(|()| {
                if bare.contains('.') {
                    Ok(())
                } else {
                    Err("must be a fully qualified name such as app.example.com".into())
                }
            }) {
                self.error(
                    Code::RouteHost,
                    &[hat.as_slice(), &path!["host"]].concat(),
                    format!("host `{}` {why}", h.host),
                );
            }
            if out.iter().any(|o| o.host == h.host) {
                self.error(
                    Code::RouteHost,
                    &[hat.as_slice(), &path!["host"]].concat(),
                    format!("host `{}` is listed twice", h.host),
                );
            }
            let default_path = [profile::RoutePath::default()];
            let paths: &[profile::RoutePath] = if h.paths.is_empty() { &default_path } else { &h.paths };
            let mut routes = Vec::new();
            for (j, rp) in paths.iter().enumerate() {
                let pat = if h.paths.is_empty() { hat.clone() } else { [hat.as_slice(), &path!["paths", j]].concat() };
                let path = rp.path.clone().unwrap_or_else(|| "/".into());
                if !path.starts_with('/') {
                    self.error(Code::RouteHost, &pat, format!("path `{path}` must start with `/`"));
                }
                let path_type = match rp.path_type.unwrap_or(profile::PathType::Prefix) {
                    profile::PathType::Prefix => "Prefix",
                    profile::PathType::Exact => "Exact",
                    profile::PathType::ImplementationSpecific => "ImplementationSpecific",
                };
                if let Some(backend) = self.backend(&pat, rp, components, namespace, ingress) {
                    routes.push(Route { path, path_type, backend });
                }
            }
            let first = bare.split('.').next().unwrap_or("route");
            let mut name = naming::http_route(&self.loaded.profile.name, first, None);
            let mut n = 2;
            while out.iter().any(|o| o.name == name) {
                name = naming::http_route(&self.loaded.profile.name, first, Some(n));
                n += 1;
            }
            if !ingress && let Err(why) = names::dns1123_subdomain(&name, 253) {
                self.error(Code::ObjectName, &hat, format!("HTTPRoute name `{name}` {why}"));
            }
            out.push(RouteHost { name, host: h.host.clone(), websocket: h.websocket == Some(true), paths: routes });
        }
        out
    }

    fn backend(
        &mut self,
        at: &[PathSegment],
        rp: &profile::RoutePath,
        components: &[Component],
        namespace: &str,
        ingress: bool,
    ) -> Option<Backend> {
        if let Some(s) = &rp.service {
            if rp.component.is_some() || rp.port.is_some() {
                self.error_hint(
                    Code::RouteBackend,
                    at,
                    "a path goes to a component or to a `service`, not both",
                    "remove one",
                );
            }
            let ns = s.namespace.clone().unwrap_or_else(|| namespace.to_string());
            if ingress && ns != namespace {
                self.error_hint(Code::RouteBackend,
                    &[at, &path!["service", "namespace"]].concat(),
                    format!("an Ingress cannot route to Service `{}` in namespace `{ns}`", s.name),
                    "an Ingress reaches Services in its own namespace only: route this host with `gateway` (kgen adds a ReferenceGrant), or let the stack in that namespace expose it with its own Ingress",
                );
                return None;
            }
            self.apply_rule(
                Code::RouteBackend,
                &[at, &path!["service", "name"]].concat(),
                "Service name",
                &s.name,
                |n| names::dns1035_label(n, 63),
            );
            if s.port == 0 {
                self.error(Code::RouteBackend, &[at, &path!["service", "port"]].concat(), "port 0 is not allowed");
            }
            return Some(Backend::External { name: s.name.clone(), namespace: ns, port: s.port });
        }
        let with_service: Vec<&Component> = components.iter().filter(|c| c.service.is_some()).collect();
        let component = match &rp.component {
            Some(k) => match components.iter().find(|c| &c.key == k) {
                Some(c) if c.service.is_some() => c,
                Some(_) => {
                    self.error_hint(
                        Code::RouteBackend,
                        &[at, &path!["component"]].concat(),
                        format!("component `{k}` has no Service to route to"),
                        "give it `ports`",
                    );
                    return None;
                }
                None => {
                    self.error(
                        Code::RouteBackend,
                        &[at, &path!["component"]].concat(),
                        format!("route to component `{k}`, which the profile does not define"),
                    );
                    return None;
                }
            },
            None => match with_service.first() {
                Some(c) => c,
                None => {
                    self.error_hint(
                        Code::RouteBackend,
                        at,
                        "nothing to route to: no component has a Service",
                        "give a component `ports`",
                    );
                    return None;
                }
            },
        };
        let exposed: Vec<&Port> = component.ports.iter().filter(|p| p.expose).collect();
        let port = match &rp.port {
            Some(name) => match exposed.iter().find(|p| &p.name == name) {
                Some(p) => *p,
                None => {
                    let names: Vec<String> = exposed.iter().map(|p| format!("`{}`", p.name)).collect();
                    self.error_hint(
                        Code::RouteBackend,
                        &[at, &path!["port"]].concat(),
                        format!("component `{}` exposes no port `{name}`", component.key),
                        format!("its Service ports: {}", names.join(", ")),
                    );
                    return None;
                }
            },
            None => match exposed.iter().find(|p| p.is_tcp()) {
                Some(p) => *p,
                None => {
                    self.error_hint(
                        Code::RouteBackend,
                        at,
                        format!("component `{}` exposes no TCP port to route HTTP to", component.key),
                        "declare a TCP port under its `ports`",
                    );
                    return None;
                }
            },
        };
        if !port.is_tcp() {
            self.error_hint(
                Code::RouteBackend,
                &[at, &path!["port"]].concat(),
                format!("HTTP is routed over TCP, but port `{}` is {} port", port.name, port.protocol_with_article()),
                "route to a TCP port: Ingresses and HTTPRoutes carry HTTP only",
            );
            return None;
        }
        Some(Backend::Component {
            key: component.key.clone(),
            service: component.name.clone(),
            port_name: port.name.clone(),
            port: port.service_port,
        })
    }

    /// Settings and variables that name an endpoint outside the cluster
    /// (`https://auth.example.com/realms/main`) which the rendered egress
    /// does not let the app reach: a warning with the rule to add. Values
    /// named like origins or the app's own addresses (CORS, redirects) are
    /// not endpoints the app calls.
    pub(super) fn unreachable_endpoints(
        &mut self,
        np: &NetworkPolicy,
        config_map: &Option<ConfigMap>,
        components: &[Component],
        databases: &[Database],
        cache: &Option<Cache>,
    ) {
        let mut in_cluster: Vec<&str> = components.iter().map(|c| c.name.as_str()).collect();
        in_cluster.extend(databases.iter().filter_map(|d| d.object_name()));
        in_cluster.extend(cache.iter().map(|c| c.name.as_str()));
        let settings = config_map.iter().flat_map(|cm| cm.data.iter().flatten());
        let mut seen = std::collections::HashSet::new();
        let literals = components.iter().flat_map(|c| {
            c.env.iter().filter_map(move |v| match &v.source {
                EnvValue::Literal(value) => Some((c, &v.name, value)),
                _ => None,
            })
        });
        let mut found: Vec<(Vec<PathSegment>, String, String, u16)> = Vec::new();
        for (name, value) in settings {
            if let Some((host, port)) = outside_endpoint(name, value, &in_cluster) {
                found.push((path!["settings", name].to_vec(), name.clone(), host, port));
            }
        }
        for (c, name, value) in literals {
            if !seen.insert((c.key.clone(), name.clone())) {
                continue;
            }
            if let Some((host, port)) = outside_endpoint(name, value, &in_cluster) {
                let at = if self.loaded.profile.components.contains_key(&c.key)
                    && self.loaded.profile.env.contains_key(name)
                {
                    path!["env", name].to_vec()
                } else {
                    path!["components", &c.key, "env", name].to_vec()
                };
                found.push((at, name.clone(), host, port));
            }
        }
        for (at, name, host, port) in found {
            let allowed = np.egress.iter().any(|e| e.ports.is_empty() || e.ports.contains(&port));
            if !allowed {
                self.warning(
                    &at,
                    format!(
                        "`{name}` names {host}:{port}, outside the cluster, but the network policies let the app's pods reach only DNS and the bundle's own services there"
                    ),
                    format!(
                        "allow it: `networkPolicy: {{egress: [{{description: {host}, cidr: 0.0.0.0/0, except: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16], ports: [{port}]}}]}}` (or its own address range)"
                    ),
                );
            }
        }
    }

    pub(super) fn network_policy(
        &mut self,
        namespace_created: bool,
        ingress: &Option<Ingress>,
        gateway: &Option<Gateway>,
    ) -> Option<NetworkPolicy> {
        let n = &self.loaded.profile.network_policy;
        if n.enabled == Some(false) {
            return None;
        }
        let at = path!["networkPolicy"].to_vec();
        let default_deny = n.default_deny.unwrap_or(false);
        if default_deny && !namespace_created {
            self.error_hint(
                Code::NetworkPolicy,
                &path!["networkPolicy", "defaultDeny"],
                "a namespace-wide default deny is only made in a namespace kgen creates",
                "in a shared namespace it would cut off other apps; kgen's policies already isolate this app's pods",
            );
        }
        let ingress_namespace = match (&n.ingress_namespace, ingress) {
            (Some(ns), _) => Some(ns.clone()),
            (None, Some(i)) => match INGRESS_NAMESPACES.iter().find(|(class, _)| *class == i.class_name) {
                Some((_, ns)) => Some(ns.to_string()),
                None => {
                    self.error_hint(
                        Code::NetworkPolicy,
                        &at,
                        format!("which namespace does the `{}` ingress controller run in?", i.class_name),
                        "set `networkPolicy.ingressNamespace` so that its traffic is allowed in",
                    );
                    None
                }
            },
            (None, None) => None,
        };
        let gateway_namespace = n.gateway_namespace.clone().or_else(|| gateway.as_ref().map(|g| g.namespace.clone()));
        for (field, ns) in [("ingressNamespace", &n.ingress_namespace), ("gatewayNamespace", &n.gateway_namespace)] {
            if let Some(ns) = ns {
                self.apply_rule(Code::Namespace, &path!["networkPolicy", field], "namespace", ns, |s| {
                    names::dns1123_label(s, 63)
                });
            }
        }
        let mut allow_from = Vec::new();
        for (i, peer) in n.allow_from.iter().enumerate() {
            let pat = path!["networkPolicy", "allowFrom", i];
            if let Some(ns) = &peer.namespace {
                self.apply_rule(Code::Namespace, &pat, "namespace", ns, |s| names::dns1123_label(s, 63));
            }
            for c in &peer.components {
                if !self.loaded.profile.components.contains_key(c) {
                    self.error(Code::NetworkPolicy, &pat, format!("component `{c}` is not defined"));
                }
            }
            if peer.ports.contains(&0) {
                self.error(Code::NetworkPolicy, &pat, "port 0 is not allowed");
            }
            // Each port must be one that a component it lets in listens on.
            let components = &self.loaded.profile.components;
            let targets: Vec<&profile::Component> = components
                .iter()
                .filter(|(k, _)| peer.components.is_empty() || peer.components.contains(k))
                .map(|(_, c)| c)
                .collect();
            for (j, port) in peer.ports.iter().enumerate().filter(|(_, p)| **p != 0) {
                if !targets.iter().any(|c| c.ports.values().any(|p| p.port == *port)) {
                    let declared: std::collections::BTreeSet<String> =
                        targets.iter().flat_map(|c| c.ports.values().map(|p| p.port.to_string())).collect();
                    let hint = if declared.is_empty() {
                        "the components it lets in declare no ports".to_string()
                    } else {
                        format!("their ports: {}", crate::diagnostic::short_list(declared.iter().map(String::as_str)))
                    };
                    self.error_hint(
                        Code::NetworkPolicy,
                        &[pat.as_slice(), &path!["ports", j]].concat(),
                        format!("port {port} is not a port of the components this rule lets traffic in to"),
                        hint,
                    );
                }
            }

            let labels =
                self.metadata_map(&peer.pod_labels, &format!("networkPolicy.allowFrom.{i}.podLabels"), MetaMap::Labels);
            allow_from.push(Peer {
                namespace: peer.namespace.clone(),
                pod_labels: labels,
                ports: peer.ports.clone(),
                components: peer.components.clone(),
            });
        }
        let mut egress = Vec::new();
        for (i, e) in n.egress.iter().enumerate() {
            let eat = path!["networkPolicy", "egress", i];
            for cidr in std::iter::once(&e.cidr).chain(&e.except) {
                if !is_cidr(cidr) {
                    self.error_hint(
                        Code::NetworkPolicy,
                        &eat,
                        format!("`{cidr}` is not an address range"),
                        "write it as an IP range such as 10.0.0.0/8 or 0.0.0.0/0",
                    );
                }
            }
            if e.ports.contains(&0) {
                self.error(Code::NetworkPolicy, &eat, "port 0 is not allowed");
            }
            egress.push(Egress { cidr: e.cidr.clone(), except: e.except.clone(), ports: e.ports.clone() });
        }
        let api_server_cidr = n.api_server_cidr.clone().unwrap_or_else(|| "0.0.0.0/0".into());
        if !is_cidr(&api_server_cidr) {
            self.error(
                Code::NetworkPolicy,
                &path!["networkPolicy", "apiServerCidr"],
                format!("`{api_server_cidr}` is not an address range"),
            );
        }
        Some(NetworkPolicy { default_deny, ingress_namespace, gateway_namespace, allow_from, egress, api_server_cidr })
    }

    pub(super) fn rbac(&mut self) -> Vec<RbacRule> {
        let Some(r) = &self.loaded.profile.rbac else { return Vec::new() };
        if r.rules.is_empty() {
            self.error_hint(Code::Rbac, &path!["rbac"], "`rbac` has no rules", "add rules, or remove `rbac`");
        }
        let mut out = Vec::new();
        for (i, rule) in r.rules.iter().enumerate() {
            let at = path!["rbac", "rules", i];
            if rule.api_groups.is_empty() {
                self.error_hint(
                    Code::Rbac,
                    &at,
                    "a rule needs `apiGroups`",
                    "use [\"\"] for the core group (configmaps, pods, secrets)",
                );
            }
            if rule.resources.is_empty() || rule.verbs.is_empty() {
                self.error(Code::Rbac, &at, "a rule needs `resources` and `verbs`");
            }
            for (field, values) in
                [("apiGroups", &rule.api_groups), ("resources", &rule.resources), ("verbs", &rule.verbs)]
            {
                if values.iter().any(|v| v == "*") {
                    self.error_hint(
                        Code::Rbac,
                        &[at.as_slice(), &path![field]].concat(),
                        format!("`*` in {field} grants more than the app needs"),
                        "list exactly what the app uses (least privilege)",
                    );
                }
            }
            for v in &rule.verbs {
                if v != "*" && !VERBS.contains(&v.as_str()) {
                    self.error_hint(
                        Code::Rbac,
                        &[at.as_slice(), &path!["verbs"]].concat(),
                        format!("unknown verb `{v}`"),
                        format!("use {}", VERBS.join(", ")),
                    );
                }
            }
            out.push(RbacRule {
                api_groups: rule.api_groups.clone(),
                resources: rule.resources.clone(),
                verbs: rule.verbs.clone(),
                resource_names: rule.resource_names.clone(),
            });
        }
        out
    }

    pub(super) fn priority_class(&mut self, at: &[PathSegment], c: &profile::Component) -> Option<String> {
        let pc = c.priority_class_name.clone()?;
        self.apply_rule(Code::Placement, &[at, &path!["priorityClassName"]].concat(), "PriorityClass", &pc, |s| {
            names::dns1123_subdomain(s, 253)
        });
        Some(pc)
    }
}

/// An IPv4 or IPv6 range `address/prefix`.
fn is_cidr(s: &str) -> bool {
    let Some((addr, prefix)) = s.split_once('/') else { return false };
    match (addr.parse::<std::net::IpAddr>(), prefix.parse::<u8>()) {
        (Ok(std::net::IpAddr::V4(_)), Ok(p)) => p <= 32,
        (Ok(std::net::IpAddr::V6(_)), Ok(p)) => p <= 128,
        _ => false,
    }
}

/// The host and port of a URL that the app calls outside the cluster, if
/// `value` is one: not a name of the bundle's Services or the cluster's DNS
/// (`*.svc`, `*.cluster.local`), not loopback, and not a setting named like
/// an origin, a redirect or the app's own public address.
fn outside_endpoint(name: &str, value: &str, in_cluster: &[&str]) -> Option<(String, u16)> {
    const NOT_CALLED: &[&str] = &["ORIGIN", "ORIGINS", "CORS", "REDIRECT", "CALLBACK", "PUBLIC", "SITE", "FRONTEND"];
    const OWN_ADDRESS: &[&str] = &["BASE_URL", "APP_URL", "ROOT_URL", "EXTERNAL_URL"];
    let upper = name.to_ascii_uppercase();
    if upper.split('_').any(|word| NOT_CALLED.contains(&word)) || OWN_ADDRESS.contains(&upper.as_str()) {
        return None;
    }
    let (scheme, rest) = value.trim().split_once("://")?;
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" | "ws" => 80,
        "https" | "wss" | "grpcs" => 443,
        "postgres" | "postgresql" => 5432,
        "mysql" => 3306,
        "redis" | "rediss" => 6379,
        "amqp" => 5672,
        "amqps" => 5671,
        "mongodb" => 27017,
        "nats" => 4222,
        "kafka" => 9092,
        _ => return None,
    };
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = match host_port.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => match p.parse::<u16>() {
            Ok(port) => (h, port),
            Err(_) => (host_port, default_port),
        },
        _ => (host_port, default_port),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
    let labels: Vec<&str> = host.split('.').collect();
    // A name without a dot is a Service of the namespace (or unresolvable
    // outside it); `<service>.<namespace>` is a Service of the bundle.
    let local = host == "localhost"
        || host.starts_with("127.")
        || host == "::1"
        || host.ends_with(".svc")
        || host.ends_with(".cluster.local")
        || labels.len() == 1
        || labels.len() == 2 && in_cluster.contains(&labels[0]);
    (!local).then_some((host, port))
}

#[cfg(test)]
mod endpoint_tests {
    use super::outside_endpoint;

    #[test]
    fn endpoints_outside_the_cluster() {
        let services = ["api", "db"];
        let e = |name: &str, value: &str| outside_endpoint(name, value, &services);
        assert_eq!(
            e("OIDC_ISSUER_URL", "https://auth.example.com/realms/main"),
            Some(("auth.example.com".into(), 443))
        );
        assert_eq!(e("SMTP_URL", "smtp://mail.example.com"), None);
        assert_eq!(e("PAYMENTS_API", "http://pay.example.com:8443/v1"), Some(("pay.example.com".into(), 8443)));
        assert_eq!(e("DATABASE_URL", "postgres://u@db.example.com/x"), Some(("db.example.com".into(), 5432)));
        // In the cluster, or not an endpoint the app calls.
        assert_eq!(e("API_URL", "http://api:8080"), None);
        assert_eq!(e("API_URL", "http://api.shop.svc.cluster.local"), None);
        assert_eq!(e("API_URL", "http://api.shop"), None);
        assert_eq!(e("ALLOWED_ORIGINS", "https://time.example.com"), None);
        assert_eq!(e("PUBLIC_URL", "https://shop.example.com"), None);
        assert_eq!(e("LOCAL", "http://localhost:9000"), None);
        assert_eq!(e("NAME", "not a url"), None);
    }
}
