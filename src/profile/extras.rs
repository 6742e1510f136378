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

/// A change to rendered objects, for what the profile cannot say. Patches
/// apply in order, after rendering and after the extra manifests are added;
/// the changed object must still be a valid object of its kind.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Patch {
    /// The object to change, by kind and name (`kgen render` shows them).
    pub target: PatchTarget,
    /// RFC 6902 JSON Patch operations, applied in order:
    /// `{op: add, path: /spec/template/spec/priorityClassName, value: high}`.
    pub json: Vec<JsonPatchOperation>,
    /// A merge patch (RFC 7386): maps merge and `null` removes a key. Unlike
    /// plain RFC 7386, lists of `containers`, `initContainers`, `env`,
    /// `ports`, `volumes` and `volumeMounts` merge item by item by `name`
    /// (an item with a new name is added); other lists replace.
    #[schemars(with = "Option<serde_json::Map<String, serde_json::Value>>")]
    pub merge: Option<serde_json::Value>,
}

/// Which rendered object a patch changes.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
#[schemars(extend("required" = ["kind", "name"]))]
pub struct PatchTarget {
    /// The object's kind, e.g. `Deployment`.
    pub kind: String,
    /// The object's name, e.g. `clockwork-server`.
    pub name: String,
}

/// One RFC 6902 operation.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
#[schemars(extend("required" = ["op", "path"]))]
pub struct JsonPatchOperation {
    /// add, remove, replace, move, copy or test.
    pub op: Option<JsonPatchOp>,
    /// A JSON Pointer into the object, e.g. `/spec/template/spec/containers/0/args`
    /// (`-` appends to a list; `~1` is a `/` in a key, `~0` a `~`).
    pub path: String,
    /// The source of move and copy.
    pub from: Option<String>,
    /// The value of add, replace and test.
    pub value: Option<serde_json::Value>,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum JsonPatchOp {
    Add,
    Remove,
    Replace,
    Move,
    Copy,
    Test,
}

/// What patches and extra manifests may do beyond kgen's own rules, each
/// named explicitly; whatever they use of it is named in a warning. (The
/// Pod Security level the pods are held to is `namespace.podSecurity`.)
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct EscapeHatches {
    /// What they are allowed; everything else outside the app's namespace
    /// is refused.
    pub allow: EscapeHatchAllowList,
}

/// What patches and extra manifests may reach beyond the app's namespace.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct EscapeHatchAllowList {
    /// Namespaces besides the app's that their objects may be in (an
    /// extra manifest's `metadata.namespace`, or a patch moving an object).
    pub namespaces: Vec<String>,
    /// Cluster-wide kinds extra manifests may add (`ClusterRole`,
    /// `ClusterRoleBinding`, `Namespace`, `PriorityClass`, …).
    pub kinds: Vec<String>,
    /// ClusterRoles a RoleBinding or ClusterRoleBinding may grant
    /// (`view`, `edit`, `cluster-admin`, …).
    pub cluster_roles: Vec<String>,
}
