//! Profile types for what the profile itself cannot say: objects that exist
//! in the cluster already (`external`), patches on rendered objects
//! (`patches`) and extra manifests (`extraManifests`).

use schemars::JsonSchema;
use serde::Deserialize;

/// Objects the app uses that exist in the cluster already, made outside
/// kgen. `kgen check` accepts references to them. Existing Secrets are
/// declared under `secrets`, an existing ConfigMap with `configMap.create:
/// false` and an existing ServiceAccount with `serviceAccount.create: false`;
/// this lists the others, typically used by patches and extra manifests.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ExternalObjects {
    /// ConfigMaps in the app's namespace.
    pub config_maps: Vec<String>,
    /// Secrets in the app's namespace (besides those under `secrets`).
    pub secrets: Vec<String>,
    /// PersistentVolumeClaims in the app's namespace.
    pub persistent_volume_claims: Vec<String>,
    /// ServiceAccounts in the app's namespace.
    pub service_accounts: Vec<String>,
    /// PriorityClasses (cluster-wide); `system-cluster-critical` and
    /// `system-node-critical` always exist.
    pub priority_classes: Vec<String>,
}
