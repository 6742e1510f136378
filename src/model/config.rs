//! The namespace, the service account, and the settings and Secrets the
//! components read.

use super::*;

#[derive(Clone, Debug)]
pub struct NamespaceObject {
    pub pod_security: &'static str,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

#[derive(Clone, Debug)]
pub struct ServiceAccount {
    pub name: String,
    pub create: bool,
    pub annotations: BTreeMap<String, String>,
    pub automount_token: bool,
}

#[derive(Clone, Debug)]
pub struct ConfigMap {
    pub name: String,
    /// None when the ConfigMap exists already.
    pub data: Option<IndexMap<String, String>>,
}

#[derive(Clone, Debug)]
pub struct Secret {
    pub name: String,
    /// (variable, key) pairs given to every component.
    pub env: Vec<(String, String)>,
    /// Where its values come from.
    pub source: SecretSource,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SecretSource {
    /// It exists in the cluster; kgen only references it.
    Existing,
    /// kgen creates it with this data (from its environment or a file).
    Created(BTreeMap<String, String>),
    /// An `ExternalSecret` makes it from a secret store.
    External(ExternalSecret),
    /// A `SealedSecret` with these encrypted values (key: ciphertext).
    Sealed(BTreeMap<String, String>),
}

/// An `ExternalSecret`: which store, and each key's value there.
#[derive(Clone, Debug, PartialEq)]
pub struct ExternalSecret {
    pub store: String,
    /// `SecretStore` or `ClusterSecretStore`.
    pub store_kind: &'static str,
    pub refresh_interval: Option<String>,
    /// Secret key to its value in the store, in the profile's order.
    pub keys: Vec<(String, RemoteValue)>,
}

/// A value in a secret store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteValue {
    pub key: String,
    pub property: Option<String>,
    pub version: Option<String>,
}

impl ExternalSecret {
    /// Whether the operator reads the values more than once, so a value
    /// rotated in the store changes the Secret (`0s` reads them once).
    pub fn refreshes(&self) -> bool {
        !self.refresh_interval.as_deref().is_some_and(|i| cron::go_duration_seconds(i) == Some(0.0))
    }
}

impl Secret {
    /// The data of a Secret kgen creates.
    pub fn created(&self) -> Option<&BTreeMap<String, String>> {
        match &self.source {
            SecretSource::Created(data) => Some(data),
            _ => None,
        }
    }

    /// The keys a Secret made from the bundle holds (created, external,
    /// sealed); None when it exists already and its keys are unknown.
    pub fn known_keys(&self) -> Option<Vec<&str>> {
        match &self.source {
            SecretSource::Existing => None,
            SecretSource::Created(data) | SecretSource::Sealed(data) => Some(data.keys().map(String::as_str).collect()),
            SecretSource::External(e) => Some(e.keys.iter().map(|(k, _)| k.as_str()).collect()),
        }
    }
}
