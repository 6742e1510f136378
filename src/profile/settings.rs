//! Profile types for identity and configuration: the namespace, plain
//! settings (a ConfigMap), secrets, the service account and the security
//! context.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

/// The namespace the app lives in: a name, or its settings.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct NamespaceSettings {
    /// Namespace name (default: the app's name).
    pub name: Option<String>,
    /// Create the Namespace object (default true). Set false to deploy into
    /// a namespace that already exists; it is then not emitted.
    pub create: Option<bool>,
    /// Pod Security Standard enforced on a created namespace (default
    /// restricted), and the level every pod of the bundle is held to
    /// (patched and extra ones too); below restricted, what a pod uses of
    /// it is named in a warning. With `create: false`, the level the
    /// existing namespace allows.
    pub pod_security: Option<PodSecurityLevel>,
    /// Extra labels on a created namespace.
    pub labels: IndexMap<String, String>,
    /// Extra annotations on a created namespace.
    pub annotations: IndexMap<String, String>,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PodSecurityLevel {
    Restricted,
    Baseline,
    Privileged,
}

impl PodSecurityLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            PodSecurityLevel::Restricted => "restricted",
            PodSecurityLevel::Baseline => "baseline",
            PodSecurityLevel::Privileged => "privileged",
        }
    }
}

/// The ConfigMap that holds `settings`.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ConfigMapSettings {
    /// Create the ConfigMap from `settings` (default true). Set false to read
    /// the settings from an existing ConfigMap named `name`.
    pub create: Option<bool>,
    /// ConfigMap name (default: the app's name).
    pub name: Option<String>,
}

/// A plain setting: text, or a list joined with commas
/// (`ALLOWED_ORIGINS: [https://a, https://b]`).
#[derive(Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[schemars(untagged)]
pub enum SettingValue {
    #[default]
    Empty,
    Text(String),
    List(Vec<String>),
}

impl SettingValue {
    pub fn to_text(&self) -> String {
        match self {
            SettingValue::Empty => String::new(),
            SettingValue::Text(t) => t.clone(),
            SettingValue::List(items) => items.join(","),
        }
    }
}

impl<'de> Deserialize<'de> for SettingValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<SettingValue, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = SettingValue;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("text or a list of text")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<SettingValue, E> {
                Ok(SettingValue::Text(s.to_string()))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<SettingValue, E> {
                Ok(SettingValue::Empty)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<SettingValue, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<String>()? {
                    items.push(item);
                }
                Ok(SettingValue::List(items))
            }
        }
        d.deserialize_newtype_struct(crate::yaml::de::TEXT_OR_LIST, V)
    }
}

/// A Secret the app reads. By default it already exists in the cluster
/// (made by hand, by a platform team, …) and kgen only references it; or
/// its values come from one source: `create` (kgen's environment or a
/// file), `external` (a secret store, through the External Secrets
/// Operator) or `sealed` (Sealed Secrets). kgen never puts secret values
/// from the profile into its output.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct SecretSettings {
    /// Keys exposed as environment variables of every component: a list of
    /// keys (each variable named like its key), or a map of variable name
    /// to key.
    pub env: KeyMap,
    /// Create the Secret, with values read at render time from kgen's own
    /// environment or a file — never from the profile.
    pub create: Option<SecretCreate>,
    /// Take the Secret's values from a secret store: kgen renders an
    /// `ExternalSecret` (`external-secrets.io/v1`, External Secrets
    /// Operator 0.17 or newer) whose operator makes the Secret; no value
    /// passes through kgen.
    pub external: Option<ExternalSource>,
    /// The Secret's values encrypted with `kubeseal` for this Secret's name
    /// and namespace (key: ciphertext): kgen renders a `SealedSecret`
    /// (`bitnami.com/v1alpha1`) that the Sealed Secrets controller decrypts
    /// into the Secret.
    pub sealed: Option<IndexMap<String, String>>,
}

/// Where an `ExternalSecret` reads the Secret's values.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
#[schemars(extend("required" = ["store", "keys"]))]
pub struct ExternalSource {
    /// The `SecretStore` (in the app's namespace) or `ClusterSecretStore`
    /// to read from: its name, or its name and kind.
    pub store: SecretStoreRef,
    /// How often the operator reads the values again, as a Go duration
    /// (`1h`, `15m`, `0s` reads them once); default the operator's (1h).
    pub refresh_interval: Option<String>,
    /// Secret key to the value in the store: its key (path) there, or its
    /// key with a `property` (a field of a JSON value) and `version`.
    pub keys: IndexMap<String, RemoteRef>,
}

/// A store of the External Secrets Operator.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
#[schemars(extend("required" = ["name"]))]
pub struct SecretStoreRef {
    /// The store's name.
    pub name: String,
    /// `SecretStore` (default; in the app's namespace) or
    /// `ClusterSecretStore`.
    pub kind: Option<SecretStoreKind>,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
pub enum SecretStoreKind {
    SecretStore,
    ClusterSecretStore,
}

impl SecretStoreKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SecretStoreKind::SecretStore => "SecretStore",
            SecretStoreKind::ClusterSecretStore => "ClusterSecretStore",
        }
    }
}

/// A value in a secret store.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
#[schemars(extend("required" = ["key"]))]
pub struct RemoteRef {
    /// The value's key (name or path) in the store.
    pub key: String,
    /// A property of the value, for stores that keep JSON objects.
    pub property: Option<String>,
    /// A version of the value, for stores that keep versions (default the
    /// latest).
    pub version: Option<String>,
}

/// Where the values of a created Secret come from.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct SecretCreate {
    /// Key to the name of an environment variable of the `kgen` process.
    pub from_env: IndexMap<String, String>,
    /// A dotenv file (`KEY=value` lines), relative to the profile.
    pub from_file: Option<String>,
}

/// Environment variable names mapped to Secret keys; a list `[A, B]` means
/// `{A: A, B: B}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[schemars(untagged)]
pub enum KeyMap {
    #[default]
    None,
    List(Vec<String>),
    Map(IndexMap<String, String>),
}

impl KeyMap {
    /// (variable, key) pairs in order.
    pub fn pairs(&self) -> Vec<(String, String)> {
        match self {
            KeyMap::None => Vec::new(),
            KeyMap::List(keys) => keys.iter().map(|k| (k.clone(), k.clone())).collect(),
            KeyMap::Map(m) => m.iter().map(|(v, k)| (v.clone(), k.clone())).collect(),
        }
    }
}

impl<'de> Deserialize<'de> for KeyMap {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<KeyMap, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = KeyMap;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a list of keys or a map of variable names to keys")
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<KeyMap, E> {
                Ok(KeyMap::None)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<KeyMap, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<String>()? {
                    items.push(item);
                }
                Ok(KeyMap::List(items))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<KeyMap, A::Error> {
                let mut out = IndexMap::new();
                while let Some((k, v)) = map.next_entry::<String, String>()? {
                    out.insert(k, v);
                }
                Ok(KeyMap::Map(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// The Kubernetes ServiceAccount the pods run as.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ServiceAccountSettings {
    /// Create the ServiceAccount (default true); false uses an existing one
    /// named `name`.
    pub create: Option<bool>,
    /// ServiceAccount name (default: the app's name).
    pub name: Option<String>,
    /// Annotations, e.g. for cloud workload identity.
    pub annotations: IndexMap<String, String>,
    /// Mount the API token into pods (default false; RBAC rules turn it on).
    pub automount_token: Option<bool>,
}

/// The pods' security context. The defaults satisfy the `restricted` Pod
/// Security Standard.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Security {
    /// User ID of the containers (default 10001; 10000 or more keeps clear
    /// of users on the host).
    pub run_as_user: Option<i64>,
    /// Group ID of the containers (default 10001).
    pub run_as_group: Option<i64>,
    /// Group that owns mounted volumes (default 10001).
    pub fs_group: Option<i64>,
    /// Keep the root filesystem read-only (default true).
    pub read_only_root_filesystem: Option<bool>,
    /// Paths that get a writable, empty directory (default `[/tmp]`).
    pub writable_paths: Option<Vec<String>>,
    /// Linux capabilities to add; the restricted standard allows only
    /// NET_BIND_SERVICE. All others are dropped.
    pub add_capabilities: Vec<String>,
}
