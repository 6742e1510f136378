//! The settings ConfigMap and the Secrets kgen is asked to create.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};

use super::meta;
use crate::model::App;
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
        if let Some(data) = &secret.data {
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
    }
}

/// A checksum of the app's created configuration, for a pod annotation that
/// rolls the pods when it changes: (annotation, value) pairs.
pub fn checksums(app: &App) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(data) = app.config_map.as_ref().and_then(|c| c.data.as_ref()) {
        let json = serde_json::to_vec(data).expect("strings serialize");
        out.push(("checksum/config".to_string(), super::sha256_hex(&json)));
    }
    let created: BTreeMap<&str, &BTreeMap<String, String>> =
        app.secrets.iter().filter_map(|s| s.data.as_ref().map(|d| (s.name.as_str(), d))).collect();
    if !created.is_empty() {
        let json = serde_json::to_vec(&created).expect("strings serialize");
        out.push(("checksum/secret".to_string(), super::sha256_hex(&json)));
    }
    out
}
