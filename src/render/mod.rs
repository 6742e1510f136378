//! App → typed Kubernetes objects. One file per concern; each adds its
//! objects to the list. Pure: no IO, no clock, no randomness, so the same
//! app always renders the same objects.

mod cache;
mod config;
pub mod credentials;
mod database;
mod identity;
pub mod lifecycle;
pub mod migrations;
pub mod monitoring;
mod network;
mod rbac;
mod routing;
mod scaling;
mod service;
mod workload;

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use crate::kube;
use crate::model::App;
use crate::object::Object;

/// The value of `app.kubernetes.io/managed-by` on everything kgen renders.
pub const MANAGED_BY: &str = "kgen";

/// Render every object of the app, in the order this function makes them
/// (by concern, a component's objects together); the pipeline puts the
/// whole bundle in install order once, after extra manifests and patches
/// ([`crate::object::sort`]).
pub fn render(app: &App) -> Vec<Object> {
    let mut out = Vec::new();
    identity::render(app, &mut out);
    config::render(app, &mut out);
    credentials::render(app, &mut out);
    database::render(app, &mut out);
    cache::render(app, &mut out);
    for component in &app.components {
        workload::render(app, component, &mut out);
        service::render(app, component, &mut out);
        scaling::render(app, component, &mut out);
    }
    migrations::render(app, &mut out);
    routing::render(app, &mut out);
    network::render(app, &mut out);
    rbac::render(app, &mut out);
    monitoring::render(app, &mut out);
    no_service_links(&mut out);
    reload_on_rotation(app, &mut out);
    lifecycle::finish(&mut out);
    out
}

/// No pod gets the kubelet's Service links (`REDIS_PORT=tcp://10.96.0.10:6379`
/// for a Service named `redis`): they shadow variables apps read as plain
/// ports and hosts, and kgen passes every address its pods need explicitly.
fn no_service_links(objects: &mut [Object]) {
    for spec in objects.iter_mut().filter_map(|o| o.pod_template_mut()?.spec.as_mut()) {
        spec.enable_service_links = Some(false);
    }
}

/// Deployments and StatefulSets whose pods read a Secret that an
/// ExternalSecret refreshes get Reloader's annotation: a value rotated in
/// the store changes the Secret but not the pod template, so only a
/// controller that watches the Secret can roll them.
fn reload_on_rotation(app: &App, objects: &mut [Object]) {
    for o in objects.iter_mut() {
        if !matches!(o, Object::Deployment(_) | Object::StatefulSet(_)) {
            continue;
        }
        let Some(spec) = o.pod_template().and_then(|t| t.spec.as_ref()) else { continue };
        let read = secrets_read(spec);
        if let Some((key, names)) = config::reload_annotation(app, |name| read.contains(name)) {
            // The profile's own value for the annotation is kept, and added to.
            let annotations = o.metadata_mut().annotations.get_or_insert_default();
            let mut all: Vec<String> = annotations.get(&key).map_or_else(Vec::new, |own| {
                own.split(',').map(str::trim).filter(|n| !n.is_empty()).map(String::from).collect()
            });
            for name in names.split(',') {
                if !all.iter().any(|n| n == name) {
                    all.push(name.to_string());
                }
            }
            annotations.insert(key, all.join(","));
        }
    }
}

/// The Secrets a pod reads: variables, `envFrom`, volumes.
fn secrets_read(spec: &k8s_openapi::api::core::v1::PodSpec) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    for c in spec.init_containers.iter().flatten().chain(&spec.containers) {
        for e in c.env.iter().flatten() {
            if let Some(r) = e.value_from.as_ref().and_then(|f| f.secret_key_ref.as_ref()) {
                out.insert(r.name.clone());
            }
        }
        for e in c.env_from.iter().flatten() {
            if let Some(r) = &e.secret_ref {
                out.insert(r.name.clone());
            }
        }
    }
    for v in spec.volumes.iter().flatten() {
        if let Some(name) = v.secret.as_ref().and_then(|s| s.secret_name.clone()) {
            out.insert(name);
        }
        for source in v.projected.iter().flat_map(|p| p.sources.iter().flatten()) {
            if let Some(s) = &source.secret {
                out.insert(s.name.clone());
            }
        }
    }
    out
}

/// Labels that select a component's pods: stable across kgen versions and
/// app versions (never the version label).
pub fn selector_labels(app: &App, component: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (kube::LABEL_NAME.into(), app.name.clone()),
        (kube::LABEL_INSTANCE.into(), app.instance.clone()),
        (kube::LABEL_COMPONENT.into(), component.to_string()),
    ])
}

/// The recommended labels of an object (`component` None for app-wide
/// objects), plus the profile's extra labels. Without the app's version:
/// that goes only on what runs the versioned software ([`versioned_labels`]),
/// so that a release changes those objects and nothing else.
pub fn labels(app: &App, component: Option<&str>) -> BTreeMap<String, String> {
    let mut l = app.labels.clone();
    l.insert(kube::LABEL_NAME.into(), app.name.clone());
    l.insert(kube::LABEL_INSTANCE.into(), app.instance.clone());
    if let Some(c) = component {
        l.insert(kube::LABEL_COMPONENT.into(), c.to_string());
    }
    l.insert(kube::LABEL_PART_OF.into(), app.part_of.clone());
    l.insert(kube::LABEL_MANAGED_BY.into(), MANAGED_BY.into());
    l
}

/// The recommended labels with `app.kubernetes.io/version`: for the app's
/// workloads, their pods and the migration Job, which run the versioned
/// software. Never in a selector.
pub fn versioned_labels(app: &App, component: Option<&str>) -> BTreeMap<String, String> {
    let mut l = labels(app, component);
    if let Some(v) = &app.version {
        l.insert(kube::LABEL_VERSION.into(), v.clone());
    }
    l
}

/// Metadata of an object that runs the app's versioned software.
pub fn versioned_meta(app: &App, name: &str, component: Option<&str>) -> ObjectMeta {
    ObjectMeta { labels: Some(versioned_labels(app, component)), ..meta(app, name, component) }
}

/// Labels of the pods of databases, caches and jobs: the recommended
/// labels (never the app's version, so that an app release does not
/// restart them).
pub fn support_pod_labels(app: &App, component: &str) -> BTreeMap<String, String> {
    labels(app, Some(component))
}

/// Metadata of a namespaced object of the app.
pub fn meta(app: &App, name: &str, component: Option<&str>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: Some(app.namespace.clone()),
        labels: Some(labels(app, component)),
        annotations: (!app.annotations.is_empty()).then(|| app.annotations.clone()),
        ..Default::default()
    }
}

/// A count as the int32 Kubernetes keeps it; the model refuses larger ones
/// (saturating keeps rendering total all the same).
pub fn int32(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

pub fn label_selector(labels: BTreeMap<String, String>) -> LabelSelector {
    LabelSelector { match_labels: Some(labels), ..Default::default() }
}

/// Hex SHA-256 of some bytes (checksum annotations).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
