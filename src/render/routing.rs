//! HTTP routing: Ingresses (one for plain hosts, one for WebSocket hosts,
//! whose controller-specific timeouts differ), Gateway API HTTPRoutes with
//! ReferenceGrants for Services in other namespaces, and the cert-manager
//! Issuer kgen creates for TLS.

use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule, IngressServiceBackend, IngressSpec,
    IngressTLS, ServiceBackendPort,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::lifecycle::{self, InstallPhase};
use super::{labels, meta};
use crate::crd::{certmanager, gateway};
use crate::model::{self, App, Backend, IssuerKind, RouteHost, naming};
use crate::object::Object;

pub fn render(app: &App, out: &mut Vec<Object>) {
    if let Some(i) = &app.ingress {
        let (plain, websocket): (Vec<&RouteHost>, Vec<&RouteHost>) = i.hosts.iter().partition(|h| !h.websocket);
        if !plain.is_empty() {
            out.push(ingress(app, i, &app.name, &plain, false).into());
        }
        if !websocket.is_empty() {
            out.push(ingress(app, i, &naming::websocket_ingress(&app.name), &websocket, true).into());
        }
    }
    if let Some(g) = &app.gateway {
        for host in &g.hosts {
            out.push(http_route(app, g, host).into());
        }
        reference_grants(app, g, out);
    }
    if let Some(issuer) = &app.issuer {
        out.push(self::issuer(app, issuer).into());
    }
}

/// Annotations an ingress controller needs for long-lived WebSocket
/// connections, by ingress class (none for controllers that need none).
fn websocket_annotations(class: &str) -> &'static [(&'static str, &'static str)] {
    match class {
        "nginx" => &[
            ("nginx.ingress.kubernetes.io/proxy-read-timeout", "3600"),
            ("nginx.ingress.kubernetes.io/proxy-send-timeout", "3600"),
        ],
        "haproxy" => &[("haproxy.org/timeout-tunnel", "3600s")],
        _ => &[],
    }
}

fn ingress(app: &App, i: &model::Ingress, name: &str, hosts: &[&RouteHost], websocket: bool) -> Ingress {
    let mut metadata = meta(app, name, None);
    let annotations = metadata.annotations.get_or_insert_default();
    annotations.extend(i.annotations.clone());
    if websocket {
        annotations.extend(websocket_annotations(&i.class_name).iter().map(|(k, v)| (k.to_string(), v.to_string())));
    }
    let tls = i.tls.as_ref().map(|t| {
        if let Some((key, issuer)) = &t.issuer_annotation {
            // The Issuer kgen creates is an object of the bundle.
            let ours = *key == "cert-manager.io/issuer" && app.issuer.as_ref().is_some_and(|i| i.name == *issuer);
            annotations.insert(key.to_string(), if ours { app.name_in_text("Issuer", issuer) } else { issuer.clone() });
        }
        let secret = if websocket { naming::websocket_tls_secret(&t.secret_name) } else { t.secret_name.clone() };
        vec![IngressTLS { hosts: Some(hosts.iter().map(|h| h.host.clone()).collect()), secret_name: Some(secret) }]
    });
    if annotations.is_empty() {
        metadata.annotations = None;
    }
    let rules = hosts
        .iter()
        .map(|h| IngressRule {
            host: Some(h.host.clone()),
            http: Some(HTTPIngressRuleValue {
                paths: h
                    .paths
                    .iter()
                    .filter_map(|r| {
                        let Backend::Component { service, port_name, .. } = &r.backend else { return None };
                        Some(HTTPIngressPath {
                            path: Some(r.path.clone()),
                            path_type: r.path_type.to_string(),
                            backend: IngressBackend {
                                service: Some(IngressServiceBackend {
                                    name: service.clone(),
                                    port: Some(ServiceBackendPort { name: Some(port_name.clone()), number: None }),
                                }),
                                resource: None,
                            },
                        })
                    })
                    .collect(),
            }),
        })
        .collect();
    Ingress {
        metadata,
        spec: Some(IngressSpec {
            ingress_class_name: Some(i.class_name.clone()),
            tls,
            rules: Some(rules),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn http_route(app: &App, g: &model::Gateway, host: &RouteHost) -> gateway::HTTPRoute {
    let rules = host
        .paths
        .iter()
        .map(|r| {
            let backend = match &r.backend {
                Backend::Component { service, port, .. } => {
                    gateway::BackendRef { name: app.name_in_text("Service", service), namespace: None, port: *port }
                }
                Backend::External { name, namespace, port } => gateway::BackendRef {
                    name: name.clone(),
                    namespace: (namespace != &app.namespace).then(|| namespace.clone()),
                    port: *port,
                },
            };
            gateway::HttpRouteRule {
                matches: vec![gateway::HttpRouteMatch {
                    path: gateway::HttpPathMatch {
                        type_: if r.path_type == "Exact" { "Exact" } else { "PathPrefix" }.into(),
                        value: r.path.clone(),
                    },
                }],
                backend_refs: vec![backend],
                timeouts: host.websocket.then(|| gateway::HttpRouteTimeouts { request: "3600s".into() }),
            }
        })
        .collect();
    gateway::HTTPRoute::new(
        meta(app, &host.name, None),
        gateway::HttpRouteSpec {
            parent_refs: vec![gateway::ParentReference {
                name: g.name.clone(),
                namespace: (g.namespace != app.namespace).then(|| g.namespace.clone()),
                section_name: g.section_name.clone(),
            }],
            hostnames: vec![host.host.clone()],
            rules,
        },
    )
}

/// One ReferenceGrant per other namespace, in that namespace, naming the
/// Services the app's routes reach there.
fn reference_grants(app: &App, g: &model::Gateway, out: &mut Vec<Object>) {
    let mut by_namespace: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for r in g.hosts.iter().flat_map(|h| &h.paths) {
        if let Backend::External { name, namespace, .. } = &r.backend
            && namespace != &app.namespace
        {
            let names = by_namespace.entry(namespace).or_default();
            if !names.contains(&name.as_str()) {
                names.push(name);
            }
        }
    }
    for (namespace, services) in by_namespace {
        let mut metadata = ObjectMeta {
            name: Some(naming::reference_grant(&app.name, &app.namespace)),
            namespace: Some(namespace.to_string()),
            labels: Some(labels(app, None)),
            annotations: (!app.annotations.is_empty()).then(|| app.annotations.clone()),
            ..Default::default()
        };
        lifecycle::tag(&mut metadata, InstallPhase::Setup);
        out.push(
            gateway::ReferenceGrant::new(
                metadata,
                gateway::ReferenceGrantSpec {
                    from: vec![gateway::ReferenceGrantFrom {
                        group: "gateway.networking.k8s.io".into(),
                        kind: "HTTPRoute".into(),
                        namespace: app.namespace_in_text(),
                    }],
                    to: services
                        .into_iter()
                        .map(|s| gateway::ReferenceGrantTo {
                            group: String::new(),
                            kind: "Service".into(),
                            name: Some(s.to_string()),
                        })
                        .collect(),
                },
            )
            .into(),
        );
    }
}

fn issuer(app: &App, issuer: &model::Issuer) -> certmanager::Issuer {
    let spec = match &issuer.kind {
        IssuerKind::Acme { email, server, ingress_class } => certmanager::IssuerSpec {
            acme: Some(certmanager::AcmeIssuer {
                server: server.to_string(),
                email: email.clone(),
                private_key_secret_ref: certmanager::SecretKeySelector { name: naming::acme_account_key(&issuer.name) },
                solvers: vec![certmanager::AcmeSolver {
                    http01: certmanager::Http01Solver {
                        ingress: certmanager::Http01Ingress { ingress_class_name: ingress_class.clone() },
                    },
                }],
            }),
            self_signed: None,
        },
        IssuerKind::SelfSigned => {
            certmanager::IssuerSpec { acme: None, self_signed: Some(certmanager::SelfSignedIssuer {}) }
        }
    };
    certmanager::Issuer::new(meta(app, &issuer.name, None), spec)
}
