//! Consistency of a rendered bundle: every reference between objects
//! resolves (Services and PDBs select pods, pods find their ConfigMaps,
//! Secrets, claims and accounts, probes and Services name ports that exist,
//! autoscalers scale something, ServiceMonitors find their Services and
//! ports), and every name and label is one the API server accepts. All
//! problems are reported, not only the first.
//!
//! It works on [`Object`]s by kind, not on the model, so objects changed by
//! patches or added as extra manifests are checked like rendered ones. Pure:
//! no IO. It does not judge what the profile meant (the model did that).

use std::collections::{BTreeMap, BTreeSet, HashSet};

use k8s_openapi::api::core::v1::{Container, PodSpec, Probe};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

pub mod api;
pub mod pod_security;

use crate::diagnostic::Code;
use crate::diagnostic::Diagnostic;
use crate::model::{App, DatabaseKind, names, naming};
use crate::object::Object;
use crate::profile::ExternalObjects;
use crate::render::lifecycle;

/// Objects that exist outside the bundle, by kind; names are in the app's
/// namespace (PriorityClasses are cluster-wide).
#[derive(Clone, Debug, Default)]
pub struct External {
    pub secrets: BTreeSet<String>,
    pub config_maps: BTreeSet<String>,
    pub service_accounts: BTreeSet<String>,
    pub persistent_volume_claims: BTreeSet<String>,
    pub priority_classes: BTreeSet<String>,
}

/// ConfigMaps every namespace has (the cluster's CA bundle).
const SYSTEM_CONFIG_MAPS: &[&str] = &["kube-root-ca.crt"];

/// PriorityClasses every cluster has.
const SYSTEM_PRIORITY_CLASSES: &[&str] = &["system-cluster-critical", "system-node-critical"];

impl External {
    /// What a validated app declares as existing: Secrets it references
    /// without creating, image pull secrets, an existing ConfigMap or
    /// ServiceAccount, and the profile's `external` lists.
    pub fn of(app: &App, declared: &ExternalObjects) -> External {
        let set = |v: &[String]| v.iter().cloned().collect::<BTreeSet<String>>();
        let mut e = External {
            secrets: set(&declared.secrets),
            config_maps: set(&declared.config_maps),
            service_accounts: set(&declared.service_accounts),
            persistent_volume_claims: set(&declared.persistent_volume_claims),
            priority_classes: set(&declared.priority_classes),
        };
        // Existing Secrets, and those an operator makes from the bundle's
        // ExternalSecrets and SealedSecrets.
        e.secrets.extend(app.secrets.iter().filter(|s| s.created().is_none()).map(|s| s.name.clone()));
        e.secrets.extend(app.image_pull_secrets.iter().cloned());
        if let Some(cm) = app.config_map.as_ref().filter(|c| c.data.is_none()) {
            e.config_maps.insert(cm.name.clone());
        }
        if !app.service_account.create {
            e.service_accounts.insert(app.service_account.name.clone());
        }
        for db in &app.databases {
            match &db.kind {
                DatabaseKind::InCluster(p) => {
                    e.secrets.insert(p.password_secret.clone());
                    if let Some(crate::model::ArchiveAuth::Secret(s)) = p.wal_archive.as_ref().map(|w| &w.auth) {
                        e.secrets.insert(s.clone());
                    }
                    if let Some(claim) = p.claim.as_ref().filter(|_| !p.create_claim) {
                        e.persistent_volume_claims.insert(claim.clone());
                    }
                }
                DatabaseKind::Managed(m) => {
                    e.secrets.insert(m.secret.clone());
                }
                // The operator creates `<cluster>-app` with the connection URL.
                DatabaseKind::Operator(o) => {
                    e.secrets.insert(naming::cnpg_app_secret(&o.name));
                }
                DatabaseKind::Sqlite(_) => {}
            }
        }
        // Claims a StatefulSet makes from its templates: `<template>-<name>-<ordinal>`.
        for c in app.components.iter().filter(|c| c.sqlite_volume.is_some()) {
            e.persistent_volume_claims.insert(naming::statefulset_claim(&c.name, "0"));
        }
        if let Some(crate::model::SecretKeyRef { secret, .. }) = app.cache.as_ref().and_then(|c| c.password.as_ref()) {
            e.secrets.insert(secret.clone());
        }
        e
    }
}

/// Check a bundle; every problem found, in object order. Every pod is
/// held to the policy's Pod Security level.
pub fn check(objects: &[Object], external: &External, policy: &Policy) -> Vec<Diagnostic> {
    let bundle = BundleIndex::new(objects, external);
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    let mut valid_keys = HashSet::new();
    for o in objects {
        if !seen.insert(key(o)) {
            out.push(Diagnostic::error(Code::DuplicateObject, format!("{} is in the bundle twice", describe(o))));
        }
        names_and_labels(o, &mut valid_keys, &mut out);
        out.extend(api_problems(o));
        if o.pod_template().is_some() || api::pod_spec_path(o.kind()).is_some() {
            let value = o.to_unordered_value();
            for (d, at) in pod_security_of(o, &value, policy).0 {
                out.push(d.note(format!("at `{}`", crate::yaml::format_path(&at))));
            }
        }
        if let Some(pods) = pods(o) {
            pod_references(&bundle, o, &pods, &mut out);
            claims_come_first(&bundle, o, &mut out);
        }
        match o {
            Object::Service(s) => service_problems(&bundle, o, s, &mut out),
            Object::HorizontalPodAutoscaler(h) => {
                if let Some(t) = h.spec.as_ref().map(|s| &s.scale_target_ref)
                    && !bundle.has(&t.kind, o.namespace(), &t.name)
                {
                    out.push(Diagnostic::error(
                        Code::MissingReference,
                        format!("{} scales {} `{}`, which is not in the bundle", describe(o), t.kind, t.name),
                    ));
                }
            }
            Object::PodDisruptionBudget(p) => {
                let selector = p.spec.as_ref().and_then(|s| s.selector.as_ref());
                selector_selects(&bundle, o, selector, "its selector", &mut out);
            }
            Object::NetworkPolicy(n) => {
                let selector = n.spec.as_ref().and_then(|s| s.pod_selector.as_ref());
                selector_selects(&bundle, o, selector, "its podSelector", &mut out);
                if let Some(spec) = &n.spec {
                    policy_ports(&bundle, o, spec, &mut out);
                }
            }
            Object::StatefulSet(s) => {
                if let Some(service) = s.spec.as_ref().and_then(|s| s.service_name.as_deref())
                    && !service.is_empty()
                    && !bundle.has("Service", o.namespace(), service)
                {
                    out.push(Diagnostic::error(
                        Code::MissingReference,
                        format!(
                            "{} names Service `{service}` as its serviceName, which is not in the bundle",
                            describe(o)
                        ),
                    ));
                }
            }
            Object::Ingress(i) => ingress_problems(&bundle, o, i, &mut out),
            Object::ServiceMonitor(m) if m.spec.namespace_selector.is_none() => {
                service_monitor_problems(&bundle, o, m, &mut out)
            }
            Object::RoleBinding(rb) => role_binding_problems(&bundle, o, rb, &mut out),
            _ => {}
        }
    }
    out
}

/// A Service selects pods of the bundle, and the ports it targets by name are theirs.
fn service_problems(
    bundle: &BundleIndex,
    o: &Object,
    s: &k8s_openapi::api::core::v1::Service,
    out: &mut Vec<Diagnostic>,
) {
    let spec = s.spec.as_ref();
    if let Some(selector) = spec.and_then(|s| s.selector.as_ref()).filter(|s| !s.is_empty()) {
        let selected = bundle.pods_matching(o.namespace(), &|l| map_selects(selector, l));
        if selected.is_empty() {
            out.push(
                Diagnostic::error(Code::Selector, format!("{} selects no pods in the bundle", describe(o)))
                    .hint(format!("its selector is {}", show_labels(selector))),
            );
        }
        for port in spec.and_then(|s| s.ports.as_ref()).into_iter().flatten() {
            if let Some(IntOrString::String(target)) = &port.target_port
                && !selected.is_empty()
                && !selected.iter().any(|p| declares_port(p.spec, target))
            {
                out.push(
                    Diagnostic::error(
                        Code::PortReference,
                        format!("{} targets port `{target}`, which no container of its pods declares", describe(o)),
                    )
                    .hint(port_hint(&selected)),
                );
            }
        }
    }
}

/// An Ingress routes to Services of the bundle, on ports they name.
fn ingress_problems(
    bundle: &BundleIndex,
    o: &Object,
    i: &k8s_openapi::api::networking::v1::Ingress,
    out: &mut Vec<Diagnostic>,
) {
    let spec = i.spec.as_ref();
    let rules = spec.and_then(|s| s.rules.as_ref()).into_iter().flatten();
    let backends = rules
        .filter_map(|r| r.http.as_ref())
        .flat_map(|h| h.paths.iter().map(|p| &p.backend))
        .chain(spec.and_then(|s| s.default_backend.as_ref()));
    for backend in backends {
        let Some(svc) = &backend.service else { continue };
        let Some(Object::Service(target)) = bundle.get("Service", o.namespace(), &svc.name) else {
            out.push(Diagnostic::error(
                Code::MissingReference,
                format!("{} routes to Service `{}`, which is not in the bundle", describe(o), svc.name),
            ));
            continue;
        };
        if let Some(port) = svc.port.as_ref().and_then(|p| p.name.as_ref()) {
            let ports = target.spec.as_ref().and_then(|s| s.ports.as_ref());
            if !ports.into_iter().flatten().any(|p| p.name.as_ref() == Some(port)) {
                out.push(Diagnostic::error(
                    Code::PortReference,
                    format!(
                        "{} routes to port `{port}` of Service `{}`, which has no such port",
                        describe(o),
                        svc.name
                    ),
                ));
            }
        }
    }
}

/// A monitor of its own namespace must find a Service there that names
/// every port it scrapes.
fn service_monitor_problems(
    bundle: &BundleIndex,
    o: &Object,
    m: &crate::crd::prometheus::ServiceMonitor,
    out: &mut Vec<Diagnostic>,
) {
    let services: Vec<&k8s_openapi::api::core::v1::Service> = bundle
        .objects
        .values()
        .filter_map(|s| match s {
            Object::Service(svc) if s.namespace() == o.namespace() => Some(&**svc),
            _ => None,
        })
        .filter(|svc| selects(&m.spec.selector, svc.metadata.labels.as_ref().unwrap_or(&NO_LABELS)))
        .collect();
    if services.is_empty() {
        let shown = m.spec.selector.match_labels.as_ref().map(show_labels).unwrap_or_default();
        out.push(
            Diagnostic::error(Code::Selector, format!("{} selects no Service in the bundle", describe(o)))
                .hint(format!("its selector is {shown}")),
        );
    }
    for port in m.spec.endpoints.iter().filter_map(|e| e.port.as_ref()) {
        let named = |svc: &&k8s_openapi::api::core::v1::Service| {
            let ports = svc.spec.as_ref().and_then(|s| s.ports.as_ref());
            ports.into_iter().flatten().any(|p| p.name.as_ref() == Some(port))
        };
        if !services.is_empty() && !services.iter().any(named) {
            out.push(Diagnostic::error(
                Code::PortReference,
                format!("{} scrapes port `{port}`, which no Service it selects names", describe(o)),
            ));
        }
    }
}

/// A RoleBinding binds a Role and ServiceAccounts of the bundle.
fn role_binding_problems(
    bundle: &BundleIndex,
    o: &Object,
    rb: &k8s_openapi::api::rbac::v1::RoleBinding,
    out: &mut Vec<Diagnostic>,
) {
    if rb.role_ref.kind == "Role" && !bundle.has("Role", o.namespace(), &rb.role_ref.name) {
        out.push(Diagnostic::error(
            Code::MissingReference,
            format!("{} binds Role `{}`, which is not in the bundle", describe(o), rb.role_ref.name),
        ));
    }
    for s in rb.subjects.iter().flatten().filter(|s| s.kind == "ServiceAccount") {
        let ns = s.namespace.as_deref().or(o.namespace());
        if ns == o.namespace() && !bundle.service_account(ns, &s.name) {
            out.push(missing(o, "ServiceAccount", &s.name, "binds"));
        }
    }
}

/// `Kind/namespace/name` without the kind's API group; objects are unique
/// by it.
fn key(o: &Object) -> (String, String, String) {
    (o.kind().to_string(), o.namespace().unwrap_or_default().to_string(), o.name().to_string())
}

/// "Deployment `shop/web`", for messages.
pub fn describe(o: &Object) -> String {
    match o.namespace() {
        Some(ns) => format!("{} `{ns}/{}`", o.kind(), o.name()),
        None => format!("{} `{}`", o.kind(), o.name()),
    }
}

/// The objects of a bundle by kind, namespace and name, and what exists
/// outside it.
struct BundleIndex<'a> {
    objects: BTreeMap<(&'a str, &'a str, &'a str), &'a Object>,
    pods: Vec<Pods<'a>>,
    /// Labels of pods an operator creates from an object in the bundle
    /// (a CloudNativePG Cluster's instances), by namespace.
    operator_pods: Vec<(Option<&'a str>, BTreeMap<String, String>)>,
    external: &'a External,
}

impl<'a> BundleIndex<'a> {
    fn new(objects: &'a [Object], external: &'a External) -> BundleIndex<'a> {
        BundleIndex {
            objects: objects.iter().map(|o| ((o.kind(), o.namespace().unwrap_or(""), o.name()), o)).collect(),
            pods: objects.iter().filter_map(pods).collect(),
            operator_pods: objects.iter().filter_map(operator_pods).collect(),
            external,
        }
    }

    fn get(&self, kind: &str, ns: Option<&str>, name: &str) -> Option<&'a Object> {
        self.objects.get(&(kind, ns.unwrap_or(""), name)).copied()
    }

    fn has(&self, kind: &str, ns: Option<&str>, name: &str) -> bool {
        self.get(kind, ns, name).is_some()
    }

    fn pods_matching(&self, ns: Option<&str>, selects: &dyn Fn(&BTreeMap<String, String>) -> bool) -> Vec<&Pods<'a>> {
        self.pods.iter().filter(|p| p.owner.namespace() == ns && selects(p.labels)).collect()
    }

    fn service_account(&self, ns: Option<&str>, name: &str) -> bool {
        name == "default" || self.has("ServiceAccount", ns, name) || self.external.service_accounts.contains(name)
    }
}

/// The pods a workload runs: their labels and spec.
struct Pods<'a> {
    owner: &'a Object,
    labels: &'a BTreeMap<String, String>,
    spec: &'a PodSpec,
    /// Names of a StatefulSet's volumeClaimTemplates (volumes too).
    claim_templates: Vec<&'a str>,
}

static NO_LABELS: BTreeMap<String, String> = BTreeMap::new();

/// The labels of pods an operator runs for an object of the bundle: a
/// CloudNativePG Cluster's instances, cert-manager's HTTP-01 solvers for an
/// Ingress that asks it for a certificate.
fn operator_pods(o: &Object) -> Option<(Option<&str>, BTreeMap<String, String>)> {
    let labels = match o {
        Object::Cluster(c) => [("cnpg.io/cluster", c.metadata.name.clone().unwrap_or_default())],
        Object::Ingress(i)
            if i.metadata.annotations.as_ref().is_some_and(|a| {
                a.contains_key("cert-manager.io/cluster-issuer") || a.contains_key("cert-manager.io/issuer")
            }) =>
        {
            [("acme.cert-manager.io/http01-solver", "true".to_string())]
        }
        _ => return None,
    };
    Some((o.namespace(), labels.into_iter().map(|(k, v)| (k.to_string(), v)).collect()))
}

fn pods(o: &Object) -> Option<Pods<'_>> {
    let template = o.pod_template()?;
    let claim_templates = match o {
        Object::StatefulSet(s) => s
            .spec
            .iter()
            .flat_map(|spec| spec.volume_claim_templates.iter().flatten())
            .filter_map(|c| c.metadata.name.as_deref())
            .collect(),
        _ => Vec::new(),
    };
    let labels = template.metadata.as_ref().and_then(|m| m.labels.as_ref()).unwrap_or(&NO_LABELS);
    Some(Pods { owner: o, labels, spec: template.spec.as_ref()?, claim_templates })
}

fn containers(spec: &PodSpec) -> impl Iterator<Item = &Container> {
    spec.init_containers.iter().flatten().chain(&spec.containers)
}

fn declares_port(spec: &PodSpec, name: &str) -> bool {
    containers(spec).flat_map(|c| c.ports.iter().flatten()).any(|p| p.name.as_deref() == Some(name))
}

fn port_hint(pods: &[&Pods<'_>]) -> String {
    let names: BTreeSet<String> = pods
        .iter()
        .flat_map(|p| containers(p.spec))
        .flat_map(|c| c.ports.iter().flatten())
        .filter_map(|p| p.name.as_ref().map(|n| format!("`{n}`")))
        .collect();
    if names.is_empty() {
        "its pods declare no named ports".into()
    } else {
        format!("its pods declare {}", names.into_iter().collect::<Vec<_>>().join(", "))
    }
}

/// Everything a pod spec refers to by name.
fn pod_references(bundle: &BundleIndex<'_>, o: &Object, pods: &Pods<'_>, out: &mut Vec<Diagnostic>) {
    let ns = o.namespace();
    let spec = pods.spec;
    let ext = bundle.external;
    let secret = |name: &str| bundle.has("Secret", ns, name) || ext.secrets.contains(name);
    let config_map = |name: &str| {
        bundle.has("ConfigMap", ns, name) || ext.config_maps.contains(name) || SYSTEM_CONFIG_MAPS.contains(&name)
    };

    if let Some(sa) = spec.service_account_name.as_deref()
        && !bundle.service_account(ns, sa)
    {
        out.push(missing(o, "ServiceAccount", sa, "runs as"));
    }
    if let Some(pc) = spec.priority_class_name.as_deref()
        && !SYSTEM_PRIORITY_CLASSES.contains(&pc)
        && !bundle.has("PriorityClass", None, pc)
        && !ext.priority_classes.contains(pc)
    {
        out.push(missing(o, "PriorityClass", pc, "uses"));
    }
    for s in spec.image_pull_secrets.iter().flatten() {
        if !secret(&s.name) {
            out.push(missing(o, "Secret", &s.name, "pulls images with"));
        }
    }
    let mut volume_names: BTreeSet<&str> = pods.claim_templates.iter().copied().collect();
    for v in spec.volumes.iter().flatten() {
        volume_names.insert(&v.name);
        if let Some(cm) = &v.config_map
            && cm.optional != Some(true)
            && !config_map(&cm.name)
        {
            out.push(missing(o, "ConfigMap", &cm.name, "mounts"));
        }
        if let Some(s) = &v.secret
            && s.optional != Some(true)
            && let Some(name) = &s.secret_name
            && !secret(name)
        {
            out.push(missing(o, "Secret", name, "mounts"));
        }
        if let Some(pvc) = &v.persistent_volume_claim
            && !bundle.has("PersistentVolumeClaim", ns, &pvc.claim_name)
            && !ext.persistent_volume_claims.contains(&pvc.claim_name)
        {
            out.push(missing(o, "PersistentVolumeClaim", &pvc.claim_name, "mounts"));
        }
        for source in v.projected.iter().flat_map(|p| p.sources.iter().flatten()) {
            if let Some(cm) = source.config_map.as_ref().filter(|c| c.optional != Some(true))
                && !config_map(&cm.name)
            {
                out.push(missing(o, "ConfigMap", &cm.name, "mounts"));
            }
            if let Some(s) = source.secret.as_ref().filter(|s| s.optional != Some(true))
                && !secret(&s.name)
            {
                out.push(missing(o, "Secret", &s.name, "mounts"));
            }
        }
    }
    for c in containers(spec) {
        for from in c.env_from.iter().flatten() {
            if let Some(cm) = from.config_map_ref.as_ref().filter(|r| r.optional != Some(true))
                && !config_map(&cm.name)
            {
                out.push(missing(o, "ConfigMap", &cm.name, "reads"));
            }
            if let Some(s) = from.secret_ref.as_ref().filter(|r| r.optional != Some(true))
                && !secret(&s.name)
            {
                out.push(missing(o, "Secret", &s.name, "reads"));
            }
        }
        for env in c.env.iter().flatten() {
            let Some(from) = &env.value_from else { continue };
            if let Some(r) = from.config_map_key_ref.as_ref().filter(|r| r.optional != Some(true)) {
                match bundle.get("ConfigMap", ns, &r.name) {
                    Some(Object::ConfigMap(cm)) => {
                        if !cm.data.as_ref().is_some_and(|d| d.contains_key(&r.key))
                            && !cm.binary_data.as_ref().is_some_and(|d| d.contains_key(&r.key))
                        {
                            out.push(missing_key(o, &env.name, "ConfigMap", &r.name, &r.key));
                        }
                    }
                    _ if config_map(&r.name) => {}
                    _ => out.push(missing(o, "ConfigMap", &r.name, "reads")),
                }
            }
            if let Some(r) = from.secret_key_ref.as_ref().filter(|r| r.optional != Some(true)) {
                match bundle.get("Secret", ns, &r.name) {
                    Some(Object::Secret(s)) => {
                        if !s.data.as_ref().is_some_and(|d| d.contains_key(&r.key))
                            && !s.string_data.as_ref().is_some_and(|d| d.contains_key(&r.key))
                        {
                            out.push(missing_key(o, &env.name, "Secret", &r.name, &r.key));
                        }
                    }
                    _ if secret(&r.name) => {}
                    _ => out.push(missing(o, "Secret", &r.name, "reads")),
                }
            }
        }
        for m in c.volume_mounts.iter().flatten() {
            if !volume_names.contains(m.name.as_str()) {
                out.push(Diagnostic::error(
                    Code::MissingReference,
                    format!(
                        "{}: container `{}` mounts volume `{}`, which the pod does not define",
                        describe(o),
                        c.name,
                        m.name
                    ),
                ));
            }
        }
        let probes =
            [("liveness", &c.liveness_probe), ("readiness", &c.readiness_probe), ("startup", &c.startup_probe)];
        for (what, probe) in probes {
            if let Some(port) = probe.as_ref().and_then(probe_port_name)
                && !c.ports.iter().flatten().any(|p| p.name.as_deref() == Some(port))
            {
                let declared: Vec<String> =
                    c.ports.iter().flatten().filter_map(|p| p.name.as_ref().map(|n| format!("`{n}`"))).collect();
                let hint = if declared.is_empty() {
                    "the container declares no named ports".to_string()
                } else {
                    format!("the container declares {}", declared.join(", "))
                };
                out.push(
                    Diagnostic::error(Code::PortReference, format!(
                        "{}: the {what} probe of container `{}` targets port `{port}`, which the container does not declare",
                        describe(o),
                        c.name
                    ))
                    .hint(hint),
                );
            }
        }
    }
}

/// A claim is applied no later than the workloads that mount it: Argo CD
/// waits for a wave to be healthy before the next, and a pod whose claim
/// comes later never starts.
fn claims_come_first(bundle: &BundleIndex<'_>, o: &Object, out: &mut Vec<Diagnostic>) {
    let wave = lifecycle::wave_of(o);
    for claim in o.mounted_claims() {
        if let Some(pvc) = bundle.get("PersistentVolumeClaim", o.namespace(), claim)
            && lifecycle::wave_of(pvc) > wave
        {
            out.push(
                Diagnostic::error(
                    Code::MissingReference,
                    format!(
                        "{} mounts {} from a later sync wave ({} after {wave}): Argo CD would wait forever",
                        describe(o),
                        describe(pvc),
                        lifecycle::wave_of(pvc)
                    ),
                )
                .hint(format!("give the claim sync wave {wave} or lower")),
            );
        }
    }
}

fn probe_port_name(p: &Probe) -> Option<&str> {
    let port = p.http_get.as_ref().map(|h| &h.port).or(p.tcp_socket.as_ref().map(|t| &t.port))?;
    match port {
        IntOrString::String(s) => Some(s),
        IntOrString::Int(_) => None,
    }
}

fn missing(o: &Object, kind: &str, name: &str, verb: &str) -> Diagnostic {
    let hint = match kind {
        "Secret" => "declare an existing Secret under `secrets`, or add it with `extraManifests`",
        "ConfigMap" => {
            "declare an existing ConfigMap with `configMap: {create: false, name: …}` or under `external.configMaps`"
        }
        "ServiceAccount" => "use an existing ServiceAccount with `serviceAccount: {create: false, name: …}`",
        "PersistentVolumeClaim" => "declare an existing claim under `external.persistentVolumeClaims`",
        "PriorityClass" => "declare it under `external.priorityClasses`, or add it with `extraManifests`",
        _ => "add it to the bundle",
    };
    Diagnostic::error(
        Code::MissingReference,
        format!("{} {verb} {kind} `{name}`, which is neither in the bundle nor declared as existing", describe(o)),
    )
    .hint(hint)
}

fn missing_key(o: &Object, var: &str, kind: &str, name: &str, key: &str) -> Diagnostic {
    Diagnostic::error(
        Code::MissingReference,
        format!("{}: variable `{var}` reads key `{key}` of {kind} `{name}`, which has no such key", describe(o)),
    )
}

/// A PDB's or NetworkPolicy's selector must select pods in the bundle (an
/// empty selector selects every pod of the namespace).
fn selector_selects(
    bundle: &BundleIndex<'_>,
    o: &Object,
    selector: Option<&LabelSelector>,
    what: &str,
    out: &mut Vec<Diagnostic>,
) {
    let Some(selector) = selector else { return };
    let empty = selector.match_labels.as_ref().is_none_or(|m| m.is_empty())
        && selector.match_expressions.as_ref().is_none_or(|e| e.is_empty());
    if empty {
        return;
    }
    let operated = bundle.operator_pods.iter().any(|(ns, labels)| *ns == o.namespace() && selects(selector, labels));
    if !operated && bundle.pods_matching(o.namespace(), &|l| selects(selector, l)).is_empty() {
        let shown = selector.match_labels.as_ref().map(show_labels).unwrap_or_else(|| "match expressions".into());
        out.push(
            Diagnostic::error(Code::Selector, format!("{} selects no pods in the bundle", describe(o)))
                .hint(format!("{what} is {shown}")),
        );
    }
}

/// A NetworkPolicy allows only ports that its pods (ingress) or the pods
/// it lets them reach (egress) listen on. Pods an operator runs are not in
/// the bundle, so their ports are not checked.
fn policy_ports(
    bundle: &BundleIndex<'_>,
    o: &Object,
    spec: &k8s_openapi::api::networking::v1::NetworkPolicySpec,
    out: &mut Vec<Diagnostic>,
) {
    use k8s_openapi::api::networking::v1::NetworkPolicyPort;
    let ns = o.namespace();
    // Both default to TCP; a port allowed over TCP does not let UDP in.
    let protocol = |p: &Option<String>| p.clone().unwrap_or_else(|| "TCP".into());
    let listens = |pods: &[&Pods<'_>], port: &NetworkPolicyPort| {
        let on = |cp: &&k8s_openapi::api::core::v1::ContainerPort| {
            protocol(&cp.protocol) == protocol(&port.protocol)
                && match &port.port {
                    Some(IntOrString::Int(n)) => cp.container_port == *n,
                    Some(IntOrString::String(name)) => cp.name.as_ref() == Some(name),
                    None => true,
                }
        };
        port.port.is_none()
            || pods.iter().any(|p| containers(p.spec).flat_map(|c| c.ports.iter().flatten()).any(|cp| on(&cp)))
    };
    let show = |port: &NetworkPolicyPort| {
        let number = match &port.port {
            Some(IntOrString::Int(n)) => n.to_string(),
            Some(IntOrString::String(s)) => s.clone(),
            None => "any".into(),
        };
        match protocol(&port.protocol).as_str() {
            "TCP" => number,
            other => format!("{number}/{other}"),
        }
    };
    let operated = |selector: &LabelSelector| {
        bundle.operator_pods.iter().any(|(pns, labels)| *pns == ns && selects(selector, labels))
    };
    if let Some(selector) = &spec.pod_selector
        && !operated(selector)
    {
        let own: Vec<&Pods<'_>> = bundle.pods_matching(ns, &|l| selects(selector, l));
        for rule in spec.ingress.iter().flatten() {
            for port in rule.ports.iter().flatten() {
                if !own.is_empty() && !listens(&own, port) {
                    out.push(Diagnostic::error(
                        Code::PortReference,
                        format!(
                            "{} lets traffic in on port {}, which none of its pods listens on",
                            describe(o),
                            show(port)
                        ),
                    ));
                }
            }
        }
    }
    for rule in spec.egress.iter().flatten() {
        for peer in rule.to.iter().flatten() {
            let (Some(selector), None) = (&peer.pod_selector, &peer.namespace_selector) else { continue };
            if operated(selector) {
                continue;
            }
            let targets: Vec<&Pods<'_>> = bundle.pods_matching(ns, &|l| selects(selector, l));
            if targets.is_empty() {
                out.push(Diagnostic::error(
                    Code::Selector,
                    format!("{} lets traffic out to pods that are not in the bundle", describe(o)),
                ));
                continue;
            }
            for port in rule.ports.iter().flatten() {
                if !listens(&targets, port) {
                    out.push(Diagnostic::error(
                        Code::PortReference,
                        format!(
                            "{} lets traffic out on port {}, which none of the pods it reaches listens on",
                            describe(o),
                            show(port)
                        ),
                    ));
                }
            }
        }
    }
}

fn map_selects(selector: &BTreeMap<String, String>, labels: &BTreeMap<String, String>) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// Whether a label selector selects a set of labels, as the API server
/// evaluates it.
pub fn selects(selector: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    let by_labels = selector.match_labels.as_ref().is_none_or(|m| map_selects(m, labels));
    by_labels
        && selector.match_expressions.iter().flatten().all(|e| {
            let value = labels.get(&e.key);
            let values = e.values.as_deref().unwrap_or_default();
            match e.operator.as_str() {
                "In" => value.is_some_and(|v| values.contains(v)),
                "NotIn" => value.is_none_or(|v| !values.contains(v)),
                "Exists" => value.is_some(),
                "DoesNotExist" => value.is_none(),
                _ => false,
            }
        })
}

fn show_labels(labels: &BTreeMap<String, String>) -> String {
    labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
}

/// What the API server refuses in one object ([`api::problems`]), and its
/// names and labels, as diagnostics that name the object and the field;
/// patches and extra manifests locate them in the profile or the file.
pub fn object_problems(o: &Object) -> Vec<(Diagnostic, Vec<crate::yaml::PathSegment>)> {
    let mut out: Vec<(Diagnostic, Vec<crate::yaml::PathSegment>)> = api::problems(&o.to_unordered_value())
        .into_iter()
        .map(|p| {
            let d = Diagnostic::error(Code::ApiRule, p.message);
            (if let Some(h) = p.hint { d.hint(h) } else { d }, p.at)
        })
        .collect();
    let mut names = Vec::new();
    names_and_labels(o, &mut HashSet::new(), &mut names);
    out.extend(names.into_iter().map(|d| (d, Vec::new())));
    out
}

fn api_problems(o: &Object) -> Vec<Diagnostic> {
    api::problems(&o.to_unordered_value())
        .into_iter()
        .map(|p| {
            let field = crate::yaml::format_path(&p.at);
            api_diagnostic(o, p.message, p.hint).note(format!("at `{field}`"))
        })
        .collect()
}

fn api_diagnostic(o: &Object, message: String, hint: Option<String>) -> Diagnostic {
    let d = Diagnostic::error(Code::ApiRule, format!("{}: {message}", describe(o)));
    match hint {
        Some(h) => d.hint(h),
        None => d,
    }
}

/// What the bundle may hold beyond the app's namespace, and the Pod
/// Security level every pod is held to: the profile's `namespace`
/// (`podSecurity`) and `escapeHatches.allow`.
#[derive(Clone, Debug)]
pub struct Policy {
    pub namespace: String,
    pub level: pod_security::Level,
    pub namespaces: BTreeSet<String>,
    pub kinds: BTreeSet<String>,
    pub cluster_roles: BTreeSet<String>,
}

impl Policy {
    pub fn of(app: &App, profile: &crate::profile::Profile) -> Policy {
        let level = profile.namespace.pod_security.map_or(pod_security::Level::Restricted, |l| {
            pod_security::Level::parse(l.as_str()).expect("the profile's levels are the standard's")
        });
        let allow = &profile.escape_hatches.allow;
        let set = |v: &[String]| v.iter().cloned().collect::<BTreeSet<String>>();
        Policy {
            namespace: app.namespace.clone(),
            level,
            namespaces: set(&allow.namespaces),
            kinds: set(&allow.kinds),
            cluster_roles: set(&allow.cluster_roles),
        }
    }

    /// The app's namespace only, restricted pods.
    pub fn strict(namespace: &str) -> Policy {
        Policy {
            namespace: namespace.to_string(),
            level: pod_security::Level::Restricted,
            namespaces: BTreeSet::new(),
            kinds: BTreeSet::new(),
            cluster_roles: BTreeSet::new(),
        }
    }
}

/// How an object a patch changed or an extra manifest added (`added`)
/// goes beyond the policy: errors, each with its path in the object, and
/// warnings naming what it uses of what the profile allows. Pods are held
/// to the policy's Pod Security level; an added object to the app's
/// namespace, a cluster-wide kind and a ClusterRole grant to what
/// `escapeHatches.allow` lists.
pub fn escape_hatches(
    o: &Object,
    policy: &Policy,
    added: bool,
) -> (Vec<(Diagnostic, Vec<crate::yaml::PathSegment>)>, Vec<Diagnostic>) {
    use crate::yaml::PathSegment;
    let key = |k: &str| PathSegment::Key(k.to_string());
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let allow_hint =
        |field: &str, item: &str| format!("if it must be, list `{item}` under `escapeHatches.allow.{field}`");
    match o.namespace() {
        Some(ns) if ns != policy.namespace => {
            if policy.namespaces.contains(ns) {
                warnings.push(Diagnostic::warning(
                    Code::EscapeHatch,
                    format!(
                        "{} is outside the app's namespace `{}`, as `escapeHatches.allow.namespaces` allows",
                        describe(o),
                        policy.namespace
                    ),
                ));
            } else {
                errors.push((
                    Diagnostic::error(
                        Code::EscapeHatch,
                        format!("{} is outside the app's namespace `{}`", describe(o), policy.namespace),
                    )
                    .hint(allow_hint("namespaces", ns)),
                    vec![key("metadata"), key("namespace")],
                ));
            }
        }
        None if added => {
            if policy.kinds.contains(o.kind()) {
                warnings.push(Diagnostic::warning(
                    Code::EscapeHatch,
                    format!(
                        "{} is cluster-wide, outside the app's namespace, as `escapeHatches.allow.kinds` allows",
                        describe(o)
                    ),
                ));
            } else {
                errors.push((
                    Diagnostic::error(
                        Code::EscapeHatch,
                        format!("{} is cluster-wide, outside the app's namespace", describe(o)),
                    )
                    .hint(allow_hint("kinds", o.kind())),
                    vec![key("kind")],
                ));
            }
        }
        _ => {}
    }
    let value = o.to_unordered_value();
    if matches!(o.kind(), "RoleBinding" | "ClusterRoleBinding")
        && value.pointer("/roleRef/kind").and_then(serde_json::Value::as_str) == Some("ClusterRole")
    {
        let role = value.pointer("/roleRef/name").and_then(serde_json::Value::as_str).unwrap_or_default();
        if policy.cluster_roles.contains(role) {
            warnings.push(Diagnostic::warning(
                Code::EscapeHatch,
                format!("{} grants ClusterRole `{role}`, as `escapeHatches.allow.clusterRoles` allows", describe(o)),
            ));
        } else {
            errors.push((
                Diagnostic::error(Code::EscapeHatch, format!("{} grants ClusterRole `{role}`", describe(o))).hint(
                    format!("grant a Role of the app's namespace (`rbac.rules`); {}", allow_hint("clusterRoles", role)),
                ),
                vec![key("roleRef"), key("name")],
            ));
        }
    }
    let (pod_errors, pod_warning) = pod_security_of(o, &value, policy);
    errors.extend(pod_errors);
    warnings.extend(pod_warning);
    (errors, warnings)
}

/// A pod of `o` held to the policy's level: an error per violation of it,
/// and one warning for what it uses below restricted that the level allows.
fn pod_security_of(
    o: &Object,
    value: &serde_json::Value,
    policy: &Policy,
) -> (Vec<(Diagnostic, Vec<crate::yaml::PathSegment>)>, Option<Diagnostic>) {
    use crate::yaml::PathSegment;
    use pod_security::Level;
    let (api_version, kind) = (o.api_version(), o.kind());
    let Some(spec_path) = api::pod_spec_path(kind).filter(|_| api::is_built_in(api_version, kind)) else {
        return (Vec::new(), None);
    };
    let Some(spec) = spec_path.iter().try_fold(value, |v, k| v.get(k)) else { return (Vec::new(), None) };
    let meta_path: Vec<&str> = match kind {
        "Pod" => vec!["metadata"],
        _ => spec_path[..spec_path.len() - 1].iter().copied().chain(["metadata"]).collect(),
    };
    let annotations = meta_path
        .iter()
        .try_fold(value, |v, k| v.get(k))
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.as_object());
    let pod = pod_security::Pod { spec, annotations };
    let mut errors = Vec::new();
    let mut allowed = Vec::new();
    for v in pod_security::violations(&pod) {
        if v.level > policy.level {
            allowed.push(v.what);
            continue;
        }
        let base: Vec<&str> = if v.in_metadata { meta_path.clone() } else { spec_path.to_vec() };
        let at: Vec<PathSegment> = base.iter().map(|k| PathSegment::Key(k.to_string())).chain(v.at).collect();
        let opt_in = match v.level {
            Level::Restricted => "`namespace.podSecurity: baseline`",
            _ => "`namespace.podSecurity: privileged`",
        };
        let hint = if v.control == "Privilege Escalation" || v.control == "Capabilities" && v.level == Level::Restricted
        {
            format!(
                "kgen's containers set `securityContext: {{allowPrivilegeEscalation: false, capabilities: {{drop: [ALL]}}, runAsNonRoot: true, readOnlyRootFilesystem: true}}`; or allow it for the namespace with {opt_in}"
            )
        } else {
            format!("the standard requires {}; or allow it for the namespace with {opt_in}", v.requires)
        };
        errors.push((
            Diagnostic::error(
                Code::PodSecurity,
                format!(
                    "{}: {}, which the {} Pod Security Standard forbids ({})",
                    describe(o),
                    v.what,
                    policy.level.name(),
                    v.control
                ),
            )
            .hint(hint),
            at,
        ));
    }
    let warning = (!allowed.is_empty()).then(|| {
        Diagnostic::warning(
            Code::PodSecurity,
            format!(
                "{} runs below the restricted Pod Security Standard, as `namespace.podSecurity: {}` allows: {}",
                describe(o),
                policy.level.name(),
                allowed.join("; ")
            ),
        )
    });
    (errors, warning)
}

/// Names the API server accepts for the kind, and valid label and
/// annotation keys and values (the object's and its pods'). Keys found
/// valid go in `valid_keys`, so that each is checked once per bundle.
fn names_and_labels<'a>(o: &'a Object, valid_keys: &mut HashSet<&'a str>, out: &mut Vec<Diagnostic>) {
    if let Err(why) = names::NameRule::of_kind(o.kind()).check(o.name()) {
        out.push(Diagnostic::error(Code::Metadata, format!("{}: the name {why}", describe(o))));
    }
    if let Some(ns) = o.namespace()
        && let Err(why) = names::dns1123_label(ns, 63)
    {
        out.push(Diagnostic::error(Code::Metadata, format!("{}: namespace `{ns}` {why}", describe(o))));
    }
    let meta = o.metadata();
    let pod_meta = pods(o).and_then(|_| pod_template_metadata(o));
    let labels = meta.labels.iter().chain(pod_meta.and_then(|m| m.labels.as_ref()));
    let mut key_problem = |k: &'a str| {
        if valid_keys.contains(k) {
            return None;
        }
        let problem = names::qualified_key(k).err();
        if problem.is_none() {
            valid_keys.insert(k);
        }
        problem
    };
    for (k, v) in labels.flatten() {
        if let Some(why) = key_problem(k) {
            out.push(Diagnostic::error(Code::Metadata, format!("{}: label key `{k}` {why}", describe(o))));
        }
        if let Err(why) = names::label_value(v) {
            out.push(Diagnostic::error(
                Code::Metadata,
                format!("{}: label `{k}` has value `{v}`, which {why}", describe(o)),
            ));
        }
    }
    let annotations = meta.annotations.iter().chain(pod_meta.and_then(|m| m.annotations.as_ref()));
    for k in annotations.flat_map(|a| a.keys()) {
        if let Some(why) = key_problem(k) {
            out.push(Diagnostic::error(Code::Metadata, format!("{}: annotation key `{k}` {why}", describe(o))));
        }
    }
}

fn pod_template_metadata(o: &Object) -> Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta> {
    let template = match o {
        Object::Deployment(d) => &d.spec.as_ref()?.template,
        Object::StatefulSet(s) => &s.spec.as_ref()?.template,
        Object::Job(j) => &j.spec.as_ref()?.template,
        Object::CronJob(c) => &c.spec.as_ref()?.job_template.spec.as_ref()?.template,
        _ => return None,
    };
    template.metadata.as_ref()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Objects from JSON, by kind.
    fn bundle(values: &[serde_json::Value]) -> Vec<Object> {
        values.iter().map(|v| Object::from_json(v.clone()).expect("valid test object")).collect()
    }

    fn messages(objects: &[Object], external: &External) -> Vec<String> {
        // Pods here are about references: Pod Security has tests of its own.
        let policy = Policy { level: pod_security::Level::Privileged, ..Policy::strict("shop") };
        check(objects, external, &policy).into_iter().map(|d| d.message).collect()
    }

    fn meta(name: &str) -> serde_json::Value {
        serde_json::json!({"name": name, "namespace": "shop", "labels": {"app": "shop"}})
    }

    fn deployment(pod: serde_json::Value) -> serde_json::Value {
        serde_json::json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta("web"),
            "spec": {
                "selector": {"matchLabels": {"app": "shop"}},
                "template": {"metadata": {"labels": {"app": "shop", "tier": "web"}}, "spec": pod},
            }
        })
    }

    fn container(extra: serde_json::Value) -> serde_json::Value {
        let mut c =
            serde_json::json!({"name": "web", "image": "shop:1", "ports": [{"name": "http", "containerPort": 8080}]});
        c.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        c
    }

    #[test]
    fn network_policies_allow_only_ports_that_pods_listen_on() {
        let policy = |ingress_port: u16, egress_port: u16| {
            serde_json::json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta("web"),
            "spec": {
                "podSelector": {"matchLabels": {"app": "shop"}},
                "ingress": [{"ports": [{"port": ingress_port}]}],
                "egress": [{"to": [{"podSelector": {"matchLabels": {"app": "shop"}}}], "ports": [{"port": egress_port}]},
                           {"to": [{"podSelector": {"matchLabels": {"app": "gone"}}}]}],
            }})
        };
        let pod = deployment(serde_json::json!({"containers": [container(serde_json::json!({}))]}));
        assert_eq!(
            messages(&bundle(&[policy(9090, 5432), pod]), &External::default()),
            [
                "NetworkPolicy `shop/web` lets traffic in on port 9090, which none of its pods listens on",
                "NetworkPolicy `shop/web` lets traffic out on port 5432, which none of the pods it reaches listens on",
                "NetworkPolicy `shop/web` lets traffic out to pods that are not in the bundle",
            ]
        );
    }

    #[test]
    fn network_policy_ports_match_the_protocol_pods_listen_on() {
        let policy = |protocol: &str| {
            serde_json::json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta("web"),
            "spec": {"podSelector": {"matchLabels": {"app": "shop"}}, "ingress": [{"ports": [{"port": 5353, "protocol": protocol}]}]}})
        };
        let pod = deployment(serde_json::json!({"containers": [container(serde_json::json!({
            "ports": [{"name": "dns", "containerPort": 5353, "protocol": "UDP"}],
        }))]}));
        assert_eq!(messages(&bundle(&[policy("UDP"), pod.clone()]), &External::default()), Vec::<String>::new());
        assert_eq!(
            messages(&bundle(&[policy("TCP"), pod]), &External::default()),
            ["NetworkPolicy `shop/web` lets traffic in on port 5353, which none of its pods listens on"]
        );
    }

    /// Regression (issue 11): a standalone claim in wave 0 under a
    /// StatefulSet in wave -2 deadlocked Argo CD.
    #[test]
    fn claims_are_not_in_a_later_wave_than_their_workloads() {
        let claim = |wave: &str| {
            let mut m = meta("data");
            m["annotations"] = serde_json::json!({"argocd.argoproj.io/sync-wave": wave});
            serde_json::json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": m,
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}})
        };
        let mut pod = deployment(serde_json::json!({
            "containers": [container(serde_json::json!({"volumeMounts": [{"name": "data", "mountPath": "/data"}]}))],
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}],
        }));
        pod["metadata"]["annotations"] = serde_json::json!({"argocd.argoproj.io/sync-wave": "-2"});
        assert_eq!(messages(&bundle(&[claim("-2"), pod.clone()]), &External::default()), Vec::<String>::new());
        assert_eq!(
            messages(&bundle(&[claim("0"), pod]), &External::default()),
            [
                "Deployment `shop/web` mounts PersistentVolumeClaim `shop/data` from a later sync wave (0 after -2): Argo CD would wait forever"
            ]
        );
    }

    #[test]
    fn a_consistent_bundle_passes() {
        let objects = bundle(&[
            serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("cfg"), "data": {"A": "1"}}),
            serde_json::json!({"apiVersion": "v1", "kind": "Service", "metadata": meta("web"),
                "spec": {"selector": {"app": "shop"}, "ports": [{"port": 80, "targetPort": "http"}]}}),
            deployment(serde_json::json!({"containers": [container(serde_json::json!({
                "envFrom": [{"configMapRef": {"name": "cfg"}}],
                "env": [{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "A"}}}],
                "readinessProbe": {"httpGet": {"path": "/", "port": "http"}},
            }))]})),
        ]);
        assert_eq!(messages(&objects, &External::default()), Vec::<String>::new());
    }

    /// One broken reference per case, and the message it gives.
    #[test]
    fn broken_references() {
        let svc = |selector: serde_json::Value, target: &str| {
            serde_json::json!({"apiVersion": "v1", "kind": "Service", "metadata": meta("web"),
                "spec": {"selector": selector, "ports": [{"port": 80, "targetPort": target}]}})
        };
        let plain = || deployment(serde_json::json!({"containers": [container(serde_json::json!({}))]}));
        let cases: Vec<(Vec<serde_json::Value>, &str)> = vec![
            (
                vec![svc(serde_json::json!({"app": "other"}), "http"), plain()],
                "Service `shop/web` selects no pods in the bundle",
            ),
            (
                vec![svc(serde_json::json!({"app": "shop"}), "metrics"), plain()],
                "Service `shop/web` targets port `metrics`, which no container of its pods declares",
            ),
            (
                vec![deployment(
                    serde_json::json!({"containers": [container(serde_json::json!({"envFrom": [{"secretRef": {"name": "db"}}]}))]}),
                )],
                "Deployment `shop/web` reads Secret `db`, which is neither in the bundle nor declared as existing",
            ),
            (
                vec![deployment(
                    serde_json::json!({"containers": [container(serde_json::json!({"env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "X"}}}]}))]}),
                )],
                "Deployment `shop/web` reads ConfigMap `cfg`, which is neither in the bundle nor declared as existing",
            ),
            (
                vec![
                    serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("cfg"), "data": {"A": "1"}}),
                    deployment(
                        serde_json::json!({"containers": [container(serde_json::json!({"env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "X"}}}]}))]}),
                    ),
                ],
                "Deployment `shop/web`: variable `X` reads key `X` of ConfigMap `cfg`, which has no such key",
            ),
            (
                vec![deployment(
                    serde_json::json!({"volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}], "containers": [container(serde_json::json!({}))]}),
                )],
                "Deployment `shop/web` mounts PersistentVolumeClaim `data`, which is neither in the bundle nor declared as existing",
            ),
            (
                vec![deployment(
                    serde_json::json!({"serviceAccountName": "robot", "containers": [container(serde_json::json!({}))]}),
                )],
                "Deployment `shop/web` runs as ServiceAccount `robot`, which is neither in the bundle nor declared as existing",
            ),
            (
                vec![deployment(
                    serde_json::json!({"priorityClassName": "high", "containers": [container(serde_json::json!({}))]}),
                )],
                "Deployment `shop/web` uses PriorityClass `high`, which is neither in the bundle nor declared as existing",
            ),
            (
                vec![deployment(
                    serde_json::json!({"imagePullSecrets": [{"name": "regcred"}], "containers": [container(serde_json::json!({}))]}),
                )],
                "Deployment `shop/web` pulls images with Secret `regcred`, which is neither in the bundle nor declared as existing",
            ),
            (
                vec![deployment(
                    serde_json::json!({"containers": [container(serde_json::json!({"livenessProbe": {"tcpSocket": {"port": "grpc"}}}))]}),
                )],
                "Deployment `shop/web`: the liveness probe of container `web` targets port `grpc`, which the container does not declare",
            ),
            (
                vec![deployment(
                    serde_json::json!({"containers": [container(serde_json::json!({"volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}]}))]}),
                )],
                "Deployment `shop/web`: container `web` mounts volume `tmp`, which the pod does not define",
            ),
            (
                vec![
                    plain(),
                    serde_json::json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": meta("web"),
                "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web"}, "maxReplicas": 3}}),
                ],
                "HorizontalPodAutoscaler `shop/web` scales StatefulSet `web`, which is not in the bundle",
            ),
            (
                vec![
                    plain(),
                    serde_json::json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": meta("web"),
                "spec": {"minAvailable": 1, "selector": {"matchLabels": {"tier": "worker"}}}}),
                ],
                "PodDisruptionBudget `shop/web` selects no pods in the bundle",
            ),
            (
                vec![
                    plain(),
                    serde_json::json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta("web"),
                "spec": {"podSelector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["db"]}]}}}),
                ],
                "NetworkPolicy `shop/web` selects no pods in the bundle",
            ),
            (
                vec![serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "Cfg", "namespace": "shop", "labels": {"app": "a b"}}})],
                "ConfigMap `shop/Cfg`: the name may contain only lowercase letters, digits and `-`",
            ),
        ];
        for (objects, expected) in cases {
            let got = messages(&bundle(&objects), &External::default());
            assert_eq!(got.first().map(String::as_str), Some(expected), "all: {got:?}");
        }
    }

    #[test]
    fn every_problem_is_reported_and_externals_count() {
        let objects = bundle(&[deployment(serde_json::json!({
            "serviceAccountName": "robot",
            "containers": [container(serde_json::json!({"envFrom": [{"secretRef": {"name": "db"}}, {"configMapRef": {"name": "cfg"}}]}))],
        }))]);
        assert_eq!(messages(&objects, &External::default()).len(), 3);
        let external = External {
            secrets: ["db".to_string()].into(),
            config_maps: ["cfg".to_string()].into(),
            service_accounts: ["robot".to_string()].into(),
            ..External::default()
        };
        assert_eq!(messages(&objects, &external), Vec::<String>::new());
    }

    #[test]
    fn label_selector_operators() {
        let labels: BTreeMap<String, String> = [("tier".to_string(), "web".to_string())].into();
        let sel = |op: &str, values: &[&str]| -> LabelSelector {
            serde_json::from_value(
                serde_json::json!({"matchExpressions": [{"key": "tier", "operator": op, "values": values}]}),
            )
            .unwrap()
        };
        assert!(selects(&sel("In", &["web", "db"]), &labels));
        assert!(!selects(&sel("NotIn", &["web"]), &labels));
        assert!(selects(&sel("Exists", &[]), &labels));
        assert!(!selects(&sel("DoesNotExist", &[]), &labels));
    }

    #[test]
    fn service_monitors_find_their_service_and_port() {
        let service = serde_json::json!({"apiVersion": "v1", "kind": "Service", "metadata": meta("web"),
            "spec": {"selector": {"app": "shop"}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}});
        let pods = deployment(serde_json::json!({"containers": [container(serde_json::json!({}))]}));
        let monitor = |selector: serde_json::Value, port: &str| {
            serde_json::json!({"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": meta("web"),
                "spec": {"selector": {"matchLabels": selector}, "endpoints": [{"port": port}]}})
        };
        let cases = [
            (monitor(serde_json::json!({"app": "shop"}), "http"), None),
            (
                monitor(serde_json::json!({"app": "other"}), "http"),
                Some("ServiceMonitor `shop/web` selects no Service in the bundle"),
            ),
            (
                monitor(serde_json::json!({"app": "shop"}), "metrics"),
                Some("ServiceMonitor `shop/web` scrapes port `metrics`, which no Service it selects names"),
            ),
        ];
        for (m, expected) in cases {
            let objects = bundle(&[service.clone(), pods.clone(), m]);
            let expected: Vec<String> = expected.into_iter().map(String::from).collect();
            assert_eq!(messages(&objects, &External::default()), expected);
        }
    }
}
