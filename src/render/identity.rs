//! The Namespace (when kgen creates it) and the ServiceAccount.

use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{labels, meta};
use crate::model::App;
use crate::object::Object;

pub fn render(app: &App, out: &mut Vec<Object>) {
    if let Some(ns) = &app.namespace_object {
        let mut l = labels(app, None);
        l.extend(ns.labels.clone());
        for mode in ["enforce", "audit", "warn"] {
            l.insert(format!("pod-security.kubernetes.io/{mode}"), ns.pod_security.to_string());
            l.insert(format!("pod-security.kubernetes.io/{mode}-version"), "latest".to_string());
        }
        let mut annotations = app.annotations.clone();
        annotations.extend(ns.annotations.clone());
        out.push(
            Namespace {
                metadata: ObjectMeta {
                    name: Some(app.namespace.clone()),
                    labels: Some(l),
                    annotations: (!annotations.is_empty()).then_some(annotations),
                    ..Default::default()
                },
                ..Default::default()
            }
            .into(),
        );
    }
    let sa = &app.service_account;
    if sa.create {
        let mut metadata = meta(app, &sa.name, None);
        if !sa.annotations.is_empty() {
            metadata.annotations.get_or_insert_default().extend(sa.annotations.clone());
        }
        out.push(
            ServiceAccount {
                metadata,
                automount_service_account_token: Some(sa.automount_token),
                ..Default::default()
            }
            .into(),
        );
    }
}
