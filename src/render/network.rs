//! NetworkPolicies derived from the profile. Each selects only the app's
//! own pods (safe in a shared namespace) and allows exactly what the
//! profile implies: DNS, the ingress controller or gateway to routed ports,
//! components to the databases and cache they use on those ports only,
//! databases only from their users, migrations and backups, the
//! CloudNativePG operator and replication, declared external egress.

use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort,
    NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::lifecycle::{self, InstallPhase};
use super::{label_selector, meta, selector_labels};
use crate::model::naming::{self, MIGRATIONS_COMPONENT as MIGRATIONS};
use crate::model::{self, App, Backend, DatabaseKind};
use crate::object::Object;

/// Where CloudNativePG's operator runs (its default install).
const CNPG_OPERATOR_NAMESPACE: &str = "cnpg-system";

pub fn render(app: &App, out: &mut Vec<Object>) {
    let Some(np) = &app.network_policy else { return };
    let mut push = |name: &str, component: Option<&str>, spec: NetworkPolicySpec| {
        let mut m = meta(app, name, component);
        lifecycle::tag(&mut m, InstallPhase::Setup);
        out.push(NetworkPolicy { metadata: m, spec: Some(spec) }.into());
    };
    if np.default_deny && app.namespace_object.is_some() {
        push(&naming::default_deny_policy(&app.name), None, spec(LabelSelector::default(), Some(vec![]), Some(vec![])));
        // cert-manager answers HTTP-01 challenges from solver pods in the
        // Ingress's namespace; the default deny would block them. (A DNS-01
        // issuer makes no solver pods, and then this policy selects none.)
        let cert_manager =
            app.ingress.as_ref().and_then(|i| i.tls.as_ref()).is_some_and(|t| t.issuer_annotation.is_some());
        if cert_manager && let Some(ns) = &np.ingress_namespace {
            let solver = label_selector(BTreeMap::from([(
                "acme.cert-manager.io/http01-solver".to_string(),
                "true".to_string(),
            )]));
            push(
                &naming::acme_solver_policy(&app.name),
                None,
                spec(solver, Some(vec![ingress_rule(vec![namespace_peer(ns)], vec![tcp(8089)])]), None),
            );
        }
    }
    for c in &app.components {
        let (ingress, egress) = component_rules(app, np, c);
        push(&c.name, Some(&c.key), spec(label_selector(selector_labels(app, &c.key)), Some(ingress), Some(egress)));
    }
    for db in &app.databases {
        let users = users_of(app, &db.key);
        match &db.kind {
            DatabaseKind::InCluster(p) => {
                let mut egress = vec![dns()];
                if p.parameters.iter().any(|(k, _)| k == "archive_command") {
                    egress.extend(declared_egress(np));
                }
                let mut ingress = vec![ingress_rule(users, vec![tcp(5432)])];
                if let (Some(m), Some(_)) = (scraping(app), &p.exporter) {
                    ingress.push(ingress_rule(vec![namespace_peer(m)], vec![tcp(model::EXPORTER_PORT)]));
                }
                push(
                    &p.name,
                    Some(&db.key),
                    spec(label_selector(selector_labels(app, &db.key)), Some(ingress), Some(egress)),
                );
            }
            DatabaseKind::Operator(o) => {
                // The operator labels the cluster's pods with its name.
                let cluster = label_selector(BTreeMap::from([(
                    "cnpg.io/cluster".to_string(),
                    app.name_in_text("Cluster", &o.name),
                )]));
                let own = NetworkPolicyPeer { pod_selector: Some(cluster.clone()), ..Default::default() };
                let operator = NetworkPolicyPeer {
                    namespace_selector: Some(namespace_selector(CNPG_OPERATOR_NAMESPACE)),
                    pod_selector: Some(label_selector(BTreeMap::from([(
                        "app.kubernetes.io/name".to_string(),
                        "cloudnative-pg".to_string(),
                    )]))),
                    ..Default::default()
                };
                let mut egress = vec![
                    dns(),
                    egress_rule(vec![own.clone()], vec![tcp(5432), tcp(8000)]),
                    egress_rule(vec![ip_peer(&np.api_server_cidr, &[])], vec![tcp(443), tcp(6443)]),
                ];
                egress.extend(declared_egress(np));
                push(
                    &o.name,
                    Some(&db.key),
                    spec(
                        cluster,
                        Some({
                            let mut rules = vec![
                                ingress_rule(users, vec![tcp(5432)]),
                                ingress_rule(vec![operator], vec![tcp(8000)]),
                                ingress_rule(vec![own], vec![tcp(5432), tcp(8000)]),
                            ];
                            if let Some(m) = scraping(app) {
                                rules.push(ingress_rule(vec![namespace_peer(m)], vec![tcp(model::EXPORTER_PORT)]));
                            }
                            rules
                        }),
                        Some(egress),
                    ),
                );
            }
            DatabaseKind::Sqlite(_) | DatabaseKind::Managed(_) => {}
        }
        if let Some(backup) = backup_of(db) {
            let key = match &db.kind {
                DatabaseKind::Sqlite(s) => s.component.clone(),
                _ => db.key.clone(),
            };
            // The backup job and the restore job reach the same server.
            for (name, component) in [
                (&backup.name, naming::backup_component(&key)),
                (&backup.restore_name, naming::restore_component(&key)),
            ] {
                let mut egress = vec![dns()];
                if let DatabaseKind::InCluster(_) = &db.kind {
                    egress.push(egress_rule(vec![pod_peer(selector_labels(app, &db.key))], vec![tcp(5432)]));
                }
                push(
                    name,
                    Some(&component),
                    spec(label_selector(selector_labels(app, &component)), Some(vec![]), Some(egress)),
                );
            }
        }
    }
    if !app.generated_secrets().is_empty() {
        let component = super::credentials::COMPONENT;
        push(
            &naming::credentials_account(&app.name),
            Some(component),
            spec(
                label_selector(selector_labels(app, component)),
                Some(vec![]),
                Some(vec![dns(), egress_rule(vec![ip_peer(&np.api_server_cidr, &[])], vec![tcp(443), tcp(6443)])]),
            ),
        );
    }
    if let Some(cache) = &app.cache {
        let users: Vec<NetworkPolicyPeer> =
            app.components.iter().map(|c| pod_peer(selector_labels(app, &c.key))).collect();
        push(
            &cache.name,
            Some(&cache.key),
            spec(
                label_selector(selector_labels(app, &cache.key)),
                Some(vec![ingress_rule(users, vec![tcp(6379)])]),
                Some(vec![]),
            ),
        );
    }
    if let Some(m) = app.migrations.as_ref().filter(|m| m.strategy == model::MigrationStrategy::Job)
        && let Some(c) = app.component(&m.component)
    {
        let mut egress = vec![dns()];
        egress.extend(database_egress(app, &c.key));
        egress.extend(declared_egress(np));
        push(
            &naming::migration_policy(&app.name),
            Some(MIGRATIONS),
            spec(label_selector(selector_labels(app, MIGRATIONS)), Some(vec![]), Some(egress)),
        );
    }
}

/// Who may reach a component, and where it may connect.
fn component_rules(
    app: &App,
    np: &model::NetworkPolicy,
    c: &model::Component,
) -> (Vec<NetworkPolicyIngressRule>, Vec<NetworkPolicyEgressRule>) {
    let mut ingress = Vec::new();
    // Every port with its protocol: a UDP or SCTP port is allowed as such.
    let declared: Vec<(u16, &str)> = c.ports.iter().map(|p| (p.container_port, p.protocol)).collect();
    if !declared.is_empty() {
        // The app's own pods (other components) may call it.
        ingress.push(ingress_rule(vec![pod_peer(app_labels(app))], ports_of(declared.clone())));
    }
    for (route, namespace) in [
        (app.ingress.as_ref().map(|i| &i.hosts), &np.ingress_namespace),
        (app.gateway.as_ref().map(|g| &g.hosts), &np.gateway_namespace),
    ] {
        let (Some(hosts), Some(ns)) = (route, namespace) else { continue };
        let ports: Vec<(u16, &str)> = hosts
            .iter()
            .flat_map(|h| &h.paths)
            .filter_map(|r| match &r.backend {
                Backend::Component { key, port_name, .. } if *key == c.key => {
                    c.ports.iter().find(|p| &p.name == port_name).map(|p| (p.container_port, p.protocol))
                }
                _ => None,
            })
            .collect();
        if !ports.is_empty() {
            ingress.push(ingress_rule(vec![namespace_peer(ns)], sorted_ports_of(ports)));
        }
    }
    if let (Some(m), Some(metrics)) = (scraping(app), &c.metrics)
        && let Some(port) = c.ports.iter().find(|p| p.name == metrics.port)
    {
        ingress.push(ingress_rule(vec![namespace_peer(m)], vec![port_with(port.container_port, port.protocol)]));
    }
    for peer in np.allow_from.iter().filter(|p| p.components.is_empty() || p.components.contains(&c.key)) {
        // The listed numbers this component declares, with their protocols
        // (the model checked that each is declared by a component it names).
        let ports: Vec<(u16, &str)> = if peer.ports.is_empty() {
            declared.clone()
        } else {
            peer.ports.iter().flat_map(|&n| declared.iter().filter(move |(p, _)| *p == n).copied()).collect()
        };
        if ports.is_empty() {
            continue;
        }
        let from = NetworkPolicyPeer {
            namespace_selector: peer.namespace.as_deref().map(namespace_selector),
            pod_selector: (!peer.pod_labels.is_empty() || peer.namespace.is_none())
                .then(|| label_selector(peer.pod_labels.clone())),
            ..Default::default()
        };
        ingress.push(ingress_rule(vec![from], ports_of(ports)));
    }
    let mut egress = vec![dns()];
    let app_ports: Vec<(u16, &str)> = app
        .components
        .iter()
        .filter(|o| o.key != c.key)
        .flat_map(|o| o.ports.iter().map(|p| (p.container_port, p.protocol)))
        .collect();
    if !app_ports.is_empty() {
        egress.push(egress_rule(vec![pod_peer(app_labels(app))], sorted_ports_of(app_ports)));
    }
    egress.extend(database_egress(app, &c.key));
    if let Some(cache) = &app.cache {
        egress.push(egress_rule(vec![pod_peer(selector_labels(app, &cache.key))], vec![tcp(6379)]));
    }
    if !app.rbac.is_empty() {
        egress.push(egress_rule(vec![ip_peer(&np.api_server_cidr, &[])], vec![tcp(443), tcp(6443)]));
    }
    egress.extend(declared_egress(np));
    (ingress, egress)
}

/// The namespace Prometheus scrapes from, when it scrapes the app.
fn scraping(app: &App) -> Option<&str> {
    app.monitoring.as_ref().filter(|m| m.scrape.is_some()).map(|m| m.namespace.as_str())
}

/// Egress from a component's pods to the databases it uses.
fn database_egress(app: &App, component: &str) -> Vec<NetworkPolicyEgressRule> {
    app.databases
        .iter()
        .filter(|d| d.used_by.iter().any(|u| u == component))
        .filter_map(|d| match &d.kind {
            DatabaseKind::InCluster(_) => {
                Some(egress_rule(vec![pod_peer(selector_labels(app, &d.key))], vec![tcp(5432)]))
            }
            DatabaseKind::Operator(o) => Some(egress_rule(
                vec![pod_peer(BTreeMap::from([("cnpg.io/cluster".to_string(), app.name_in_text("Cluster", &o.name))]))],
                vec![tcp(5432)],
            )),
            DatabaseKind::Sqlite(_) | DatabaseKind::Managed(_) => None,
        })
        .collect()
}

/// The pods that may connect to a database: its components, the migration
/// Job and its backup job.
fn users_of(app: &App, key: &str) -> Vec<NetworkPolicyPeer> {
    let mut peers: Vec<NetworkPolicyPeer> = app
        .databases
        .iter()
        .filter(|d| d.key == key)
        .flat_map(|d| d.used_by.iter())
        .map(|c| pod_peer(selector_labels(app, c)))
        .collect();
    if let Some(m) = app.migrations.as_ref().filter(|m| m.strategy == model::MigrationStrategy::Job)
        && app.databases.iter().any(|d| d.key == key && d.used_by.contains(&m.component))
    {
        peers.push(pod_peer(selector_labels(app, MIGRATIONS)));
    }
    if app.databases.iter().any(|d| d.key == key && backup_of(d).is_some()) {
        peers.push(pod_peer(selector_labels(app, &naming::backup_component(key))));
        peers.push(pod_peer(selector_labels(app, &naming::restore_component(key))));
    }
    peers
}

fn backup_of(db: &model::Database) -> Option<&model::Backup> {
    match &db.kind {
        DatabaseKind::Sqlite(s) => s.backup.as_ref(),
        DatabaseKind::InCluster(p) => p.backup.as_ref(),
        DatabaseKind::Managed(_) | DatabaseKind::Operator(_) => None,
    }
}

fn declared_egress(np: &model::NetworkPolicy) -> Vec<NetworkPolicyEgressRule> {
    np.egress
        .iter()
        .map(|e| NetworkPolicyEgressRule {
            to: Some(vec![ip_peer(&e.cidr, &e.except)]),
            ports: (!e.ports.is_empty()).then(|| e.ports.iter().map(|&p| tcp(p)).collect()),
        })
        .collect()
}

/// DNS lookups: port 53 in kube-system, where the cluster DNS runs.
fn dns() -> NetworkPolicyEgressRule {
    let port = |protocol: &str| NetworkPolicyPort {
        port: Some(IntOrString::Int(53)),
        protocol: Some(protocol.into()),
        end_port: None,
    };
    egress_rule(vec![namespace_peer("kube-system")], vec![port("UDP"), port("TCP")])
}

fn app_labels(app: &App) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/name".to_string(), app.name.clone()),
        ("app.kubernetes.io/instance".to_string(), app.instance.clone()),
    ])
}

fn spec(
    pod_selector: LabelSelector,
    ingress: Option<Vec<NetworkPolicyIngressRule>>,
    egress: Option<Vec<NetworkPolicyEgressRule>>,
) -> NetworkPolicySpec {
    let mut types = Vec::new();
    if ingress.is_some() {
        types.push("Ingress".to_string());
    }
    if egress.is_some() {
        types.push("Egress".to_string());
    }
    NetworkPolicySpec { pod_selector: Some(pod_selector), policy_types: Some(types), ingress, egress }
}

fn ingress_rule(from: Vec<NetworkPolicyPeer>, ports: Vec<NetworkPolicyPort>) -> NetworkPolicyIngressRule {
    NetworkPolicyIngressRule { from: Some(from), ports: Some(ports) }
}

fn egress_rule(to: Vec<NetworkPolicyPeer>, ports: Vec<NetworkPolicyPort>) -> NetworkPolicyEgressRule {
    NetworkPolicyEgressRule { to: Some(to), ports: Some(ports) }
}

fn tcp(port: u16) -> NetworkPolicyPort {
    port_with(port, "TCP")
}

/// A port with its protocol (`TCP`, `UDP` or `SCTP`), as the pods declare it.
fn port_with(port: u16, protocol: &str) -> NetworkPolicyPort {
    NetworkPolicyPort { port: Some(IntOrString::Int(i32::from(port))), protocol: Some(protocol.into()), end_port: None }
}

/// Ports with their protocols, in order, each once.
fn ports_of(ports: Vec<(u16, &str)>) -> Vec<NetworkPolicyPort> {
    let mut seen = std::collections::BTreeSet::new();
    ports.into_iter().filter(|p| seen.insert(*p)).map(|(p, protocol)| port_with(p, protocol)).collect()
}

/// Ports with their protocols, sorted, each once.
fn sorted_ports_of(mut ports: Vec<(u16, &str)>) -> Vec<NetworkPolicyPort> {
    ports.sort_unstable();
    ports_of(ports)
}

fn pod_peer(labels: BTreeMap<String, String>) -> NetworkPolicyPeer {
    NetworkPolicyPeer { pod_selector: Some(label_selector(labels)), ..Default::default() }
}

fn namespace_selector(ns: &str) -> LabelSelector {
    label_selector(BTreeMap::from([("kubernetes.io/metadata.name".to_string(), ns.to_string())]))
}

fn namespace_peer(ns: &str) -> NetworkPolicyPeer {
    NetworkPolicyPeer { namespace_selector: Some(namespace_selector(ns)), ..Default::default() }
}

fn ip_peer(cidr: &str, except: &[String]) -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        ip_block: Some(IPBlock { cidr: cidr.to_string(), except: (!except.is_empty()).then(|| except.to_vec()) }),
        ..Default::default()
    }
}
