//! External Secrets Operator (`external-secrets.io/v1`, served since the
//! operator's 0.16 and the only version from 0.17 on): an `ExternalSecret`
//! that makes a Secret from values in a secret store.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::custom_resource;

custom_resource!(
    /// Makes the Secret `target.name` from values in a store, and keeps it
    /// up to date.
    ExternalSecret, ExternalSecretSpec, group = "external-secrets.io", version = "v1", plural = "externalsecrets"
);

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExternalSecretSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_interval: Option<String>,
    pub secret_store_ref: SecretStoreRef,
    pub target: Target,
    pub data: Vec<Data>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretStoreRef {
    pub name: String,
    pub kind: String,
}

/// The Secret the operator makes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Target {
    pub name: String,
    /// `Owner`: the Secret belongs to the ExternalSecret and goes with it.
    pub creation_policy: String,
    pub template: Template,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Template {
    #[serde(rename = "type")]
    pub type_: String,
    pub metadata: TemplateMetadata,
}

/// Labels and annotations of the Secret the operator makes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TemplateMetadata {
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub annotations: BTreeMap<String, String>,
}

/// One key of the Secret and where its value is in the store.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Data {
    pub secret_key: String,
    pub remote_ref: RemoteRef,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RemoteRef {
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub property: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}
