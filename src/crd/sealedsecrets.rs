//! Sealed Secrets (`bitnami.com/v1alpha1`): a `SealedSecret` whose
//! encrypted values the controller decrypts into a Secret of the same name.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::custom_resource;
use super::externalsecrets::TemplateMetadata;

custom_resource!(
    /// Encrypted values (`kubeseal` output) that only the cluster's
    /// controller can decrypt, into the Secret of the same name.
    SealedSecret, SealedSecretSpec, group = "bitnami.com", version = "v1alpha1", plural = "sealedsecrets"
);

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SealedSecretSpec {
    pub encrypted_data: BTreeMap<String, String>,
    pub template: SecretTemplate,
}

/// The Secret the controller makes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretTemplate {
    #[serde(rename = "type")]
    pub type_: String,
    pub metadata: TemplateMetadata,
}
