//! The settings ConfigMap and the Secrets the bundle makes: created ones,
//! ExternalSecrets and SealedSecrets.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};

use super::meta;
use crate::crd::externalsecrets::{
    self as crd, Data, ExternalSecretSpec, RemoteRef, SecretStoreRef, Target, Template, TemplateMetadata,
};
use crate::crd::sealedsecrets::{SealedSecret, SealedSecretSpec, SecretTemplate};
use crate::model::{App, ExternalSecret, SecretSource};
use crate::object::Object;

pub fn render(app: &App, out: &mut Vec<Object>) {
    if let Some(cm) = &app.config_map
        && let Some(data) = &cm.data
    {
        out.push(
            ConfigMap {
                metadata: meta(app, &cm.name, None),
                data: Some(data.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
                ..Default::default()
            }
            .into(),
        );
    }
    for secret in &app.secrets {
        match &secret.source {
            SecretSource::Existing => {}
            SecretSource::Created(data) => {
                let data: BTreeMap<String, ByteString> =
                    data.iter().map(|(k, v)| (k.clone(), ByteString(v.as_bytes().to_vec()))).collect();
                out.push(
                    Secret {
                        metadata: meta(app, &secret.name, None),
                        type_: Some("Opaque".into()),
                        data: Some(data),
                        ..Default::default()
                    }
                    .into(),
                );
            }
            SecretSource::External(e) => out.push(external_secret(app, &secret.name, e).into()),
            SecretSource::Sealed(data) => out.push(
                SealedSecret::new(
                    meta(app, &secret.name, None),
                    SealedSecretSpec {
                        encrypted_data: data.clone(),
                        template: SecretTemplate { type_: "Opaque".into(), metadata: made_secret_metadata(app) },
                    },
                )
                .into(),
            ),
        }
    }
}

/// An `ExternalSecret` that makes the Secret `name`, owned by it.
fn external_secret(app: &App, name: &str, e: &ExternalSecret) -> crd::ExternalSecret {
    let data = e
        .keys
        .iter()
        .map(|(key, remote)| Data {
            secret_key: key.clone(),
            remote_ref: RemoteRef {
                key: remote.key.clone(),
                property: remote.property.clone(),
                version: remote.version.clone(),
            },
        })
        .collect();
    crd::ExternalSecret::new(
        meta(app, name, None),
        ExternalSecretSpec {
            refresh_interval: e.refresh_interval.clone(),
            secret_store_ref: SecretStoreRef { name: e.store.clone(), kind: e.store_kind.into() },
            target: Target {
                name: name.to_string(),
                creation_policy: "Owner".into(),
                template: Template { type_: "Opaque".into(), metadata: made_secret_metadata(app) },
            },
            data,
        },
    )
}

/// Labels and annotations of a Secret an operator makes for the bundle:
/// the app's, but not `managed-by: kgen`, which would let a prune by that
/// label (`kubectl apply --prune`) delete a Secret that is in no bundle.
fn made_secret_metadata(app: &App) -> TemplateMetadata {
    let mut labels = super::labels(app, None);
    labels.remove("app.kubernetes.io/managed-by");
    labels.remove("app.kubernetes.io/version");
    TemplateMetadata { labels, annotations: app.annotations.clone() }
}

/// Checksums of the app's configuration and Secrets, for pod annotations
/// that roll the pods when they change: (annotation, value) pairs.
/// `checksum/secret` covers what kgen sees of each Secret the bundle
/// makes: a created Secret's values, a sealed Secret's ciphertext (a value
/// sealed anew changes it), an external Secret's store and keys (not its
/// values, which kgen never sees: a value rotated in the store rolls no
/// pod here, see [`reload_annotation`]).
pub fn checksums(app: &App) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(data) = app.config_map.as_ref().and_then(|c| c.data.as_ref()) {
        let json = serde_json::to_vec(data).expect("strings serialize");
        out.push(("checksum/config".to_string(), super::sha256_hex(&json)));
    }
    let made: BTreeMap<&str, serde_json::Value> = app
        .secrets
        .iter()
        .filter_map(|s| {
            let value = match &s.source {
                SecretSource::Existing => return None,
                SecretSource::Created(data) => serde_json::to_value(data),
                SecretSource::Sealed(data) => serde_json::to_value(BTreeMap::from([("sealed", data)])),
                SecretSource::External(e) => serde_json::to_value(external_secret(app, &s.name, e).spec),
            };
            Some((s.name.as_str(), value.expect("strings serialize")))
        })
        .collect();
    if !made.is_empty() {
        let json = serde_json::to_vec(&made).expect("strings serialize");
        out.push(("checksum/secret".to_string(), super::sha256_hex(&json)));
    }
    out
}

/// Stakater Reloader's annotation: roll a Deployment or StatefulSet when
/// one of these Secrets changes.
pub const RELOADER_SECRETS: &str = "secret.reloader.stakater.com/reload";

/// The Reloader annotation for a workload whose pods read Secrets that an
/// ExternalSecret refreshes from a store (`refreshInterval` not `0s`): the
/// Secrets' names, comma-separated. Without Reloader in the cluster it does
/// nothing.
pub fn reload_annotation(app: &App, reads: impl Fn(&str) -> bool) -> Option<(String, String)> {
    let names: Vec<&str> = app
        .secrets
        .iter()
        .filter(|s| matches!(&s.source, SecretSource::External(e) if e.refreshes()))
        .map(|s| s.name.as_str())
        .filter(|n| reads(n))
        .collect();
    (!names.is_empty()).then(|| (RELOADER_SECRETS.to_string(), names.join(",")))
}
