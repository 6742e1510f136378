//! The profile: a serde mirror of the YAML the user writes, and the steps
//! that turn a file into one (`load`: parse, pick the environment, apply
//! `--set`, expand the single-component shorthand, deserialize).
//!
//! Types here hold what the user wrote, with `Option`s for everything left
//! out; defaults and cross-field rules live in `model`. This module reads
//! files and environment variables only in `load`.

pub mod data;
pub mod defaults;
pub mod extras;
pub mod load;
pub mod monitoring;
pub mod production;
pub mod schema;
pub mod settings;
pub mod workload;

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

pub use data::*;
pub use extras::*;
pub use monitoring::*;
pub use production::*;
pub use settings::*;
pub use workload::*;

/// The profile format version this build reads.
pub const API_VERSION: &str = "kgen.dev/v1alpha1";

/// An app profile: what the app is, not how Kubernetes spells it. Every
/// field has a default; the smallest profile is a `name` and an `image`.
///
/// Workload fields (`ports`, `probes`, `replicas`, `command`, …) describe the
/// app's one component when written at the top level; an app with several
/// workloads lists them under `components` instead.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
#[schemars(extend("required" = ["name"]))]
pub struct Profile {
    /// Profile format version: `kgen.dev/v1alpha1`.
    #[schemars(with = "Option<schema::ApiVersion>")]
    pub api_version: Option<String>,
    /// Always `App`.
    #[schemars(extend("enum" = ["App", null]))]
    pub kind: Option<String>,
    /// A shared defaults file (relative to the profile): its `defaults`
    /// are the fields this profile starts from, its `limits` rules the
    /// final profile must keep (see `profile::defaults`).
    #[schemars(extend("examples" = ["platform-team/defaults.yaml"]))]
    pub defaults: Option<String>,
    /// The app's name: a DNS label (lowercase letters, digits and `-`,
    /// starting with a letter). Object names start with it.
    #[schemars(extend("examples" = ["shop"]))]
    pub name: String,
    /// The `app.kubernetes.io/instance` label (default: `name`); tells two
    /// installations of the same app apart.
    pub instance: Option<String>,
    /// The `app.kubernetes.io/part-of` label (default: `name`).
    pub part_of: Option<String>,
    /// The `app.kubernetes.io/version` label of what runs the app: its
    /// workloads, their pods and the migration Job (default: the image tag).
    pub version: Option<String>,
    /// Namespace name, or its settings (created by default).
    #[schemars(extend("examples" = ["shop", {"name": "apps", "create": false}]))]
    pub namespace: NamespaceSettings,
    /// Extra labels on every object.
    #[schemars(extend("examples" = [{"team": "payments"}]))]
    pub labels: IndexMap<String, String>,
    /// Extra annotations on every object.
    pub annotations: IndexMap<String, String>,
    /// Container image of every component: `repository:tag`, or its parts.
    #[schemars(extend("examples" = ["ghcr.io/example/shop:1.4.2", {"repository": "ghcr.io/example/shop", "tag": "1.4.2", "pullPolicy": "IfNotPresent"}]))]
    pub image: Option<Image>,
    /// Secrets with registry credentials for pulling images.
    pub image_pull_secrets: Vec<String>,
    /// Name of the single component written at the top level (default: the
    /// app's name, so its objects are named like the app).
    pub component: Option<String>,
    /// The app's workloads by name, when it has more than one.
    #[schemars(extend("examples" = [{"web": {"ports": {"http": 8080}, "probes": {"path": "/healthz"}}, "worker": {"command": ["/app/worker"]}}]))]
    pub components: IndexMap<String, Component>,
    /// Plain (non-secret) settings, stored in a ConfigMap and given to every
    /// component as environment variables.
    #[schemars(extend("examples" = [{"LOG_LEVEL": "info", "ALLOWED_ORIGINS": ["https://a.example.com", "https://b.example.com"]}]))]
    pub settings: IndexMap<String, SettingValue>,
    /// Create the settings ConfigMap, or use an existing one.
    pub config_map: ConfigMapSettings,
    /// Secrets the app reads, by Secret name.
    #[schemars(extend("examples" = [{"shop-secrets": {"env": ["API_TOKEN"]}}]))]
    pub secrets: IndexMap<String, SecretSettings>,
    /// Environment variables of every component: literal values or
    /// references to Secret and ConfigMap keys.
    #[schemars(extend("examples" = [{"LOG_FORMAT": "json", "POD_NAME": {"field": "metadata.name"}}]))]
    pub env: IndexMap<String, EnvSource>,
    /// Default requests and limits of every component, or a preset name
    /// (default: small).
    #[schemars(extend("examples" = ["medium", {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}}]))]
    pub resources: Option<Resources>,
    /// Annotations on every pod.
    pub pod_annotations: IndexMap<String, String>,
    /// Databases by name (default: none, a stateless app). Components use
    /// every database unless they list theirs in `databases`.
    #[schemars(extend("examples" = [{"main": {"engine": "postgres", "storage": "20Gi"}}]))]
    pub databases: IndexMap<String, Database>,
    /// A Redis cache shared by the components.
    #[schemars(extend("examples" = [{"maxMemory": "200mb"}]))]
    pub cache: Option<Cache>,
    /// How database migrations run.
    #[schemars(extend("examples" = [{"strategy": "job", "command": ["/app/migrate", "up"]}]))]
    pub migrations: Migrations,
    /// HTTP routing through an Ingress.
    #[schemars(extend("examples" = [{"className": "nginx", "tls": {"clusterIssuer": "letsencrypt-prod"}, "hosts": [{"host": "shop.example.com"}]}]))]
    pub ingress: Option<Ingress>,
    /// HTTP routing through Gateway API HTTPRoutes.
    #[schemars(extend("examples" = [{"name": "public", "namespace": "gateways", "hosts": [{"host": "shop.example.com"}]}]))]
    pub gateway: Option<Gateway>,
    /// NetworkPolicies derived from the profile (on by default).
    pub network_policy: NetworkPolicy,
    /// Kubernetes API access for the app (a Role and RoleBinding).
    pub rbac: Option<Rbac>,
    /// Monitoring with the Prometheus Operator: ServiceMonitors, alerting
    /// rules and a Grafana dashboard (default: none).
    #[schemars(extend("examples" = [{}, {"alerts": {"latency": {"threshold": 1}}, "dashboard": {"folder": "Shop"}}]))]
    pub monitoring: Option<Monitoring>,
    /// The ServiceAccount of the pods.
    pub service_account: ServiceAccountSettings,
    /// Pod and container security settings (restricted by default).
    pub security: Security,
    /// Objects the app uses that exist in the cluster already (besides
    /// those declared under `secrets`, `configMap` and `serviceAccount`).
    pub external: ExternalObjects,
    /// Extra manifests: YAML files rendered with minijinja (the profile's
    /// values as context) and added to the bundle, labelled and namespaced
    /// like kgen's own objects. A bare file name is read from `templates/`
    /// beside the profile, any other relative path from the profile's
    /// directory.
    #[schemars(extend("examples" = [["service-entry.yaml"]]))]
    pub extra_manifests: Vec<String>,
    /// Changes to rendered objects by kind and name: JSON Patch operations
    /// or merge patches, for anything the profile cannot say.
    #[schemars(extend("examples" = [[{"target": {"kind": "Deployment", "name": "shop"}, "merge": {"spec": {"revisionHistoryLimit": 3}}}]]))]
    pub patches: Vec<Patch>,
    /// What patches and extra manifests may do beyond the app's namespace
    /// (other namespaces, cluster-wide kinds, ClusterRole grants); refused
    /// unless listed here, and then named in a warning.
    pub escape_hatches: EscapeHatches,
    /// Named overlays (`dev`, `prod`, …) deep-merged over the rest of the
    /// profile by `--env NAME`: maps merge, lists and values replace, and
    /// `null` resets a field to its default.
    #[schemars(with = "IndexMap<String, serde_json::Value>")]
    pub environments: IndexMap<String, serde::de::IgnoredAny>,
}

/// Types that may be written as a single scalar, and the field that scalar
/// sets: `image: nginx:1.27` means `image: {reference: nginx:1.27}`.
pub const SCALAR_SHORTHANDS: &[(&str, &str)] = &[
    ("Image", "reference"),
    ("Port", "port"),
    ("Resources", "preset"),
    ("EnvSource", "value"),
    ("NamespaceSettings", "name"),
    ("Storage", "size"),
    ("SecretStoreRef", "name"),
    ("RemoteRef", "key"),
];

/// Where the types of [`SCALAR_SHORTHANDS`] appear in a profile (`*` is any
/// key), so that merging and `--set` can expand a short form before adding
/// fields to it. A test checks this list against the schema.
pub const SHORTHAND_PATHS: &[(&str, &str)] = &[
    ("namespace", "name"),
    ("image", "reference"),
    ("resources", "preset"),
    ("env.*", "value"),
    ("ports.*", "port"),
    ("components.*.image", "reference"),
    ("components.*.resources", "preset"),
    ("components.*.env.*", "value"),
    ("components.*.ports.*", "port"),
    ("databases.*.storage", "size"),
    ("databases.*.backup.storage", "size"),
    ("databases.*.resources", "preset"),
    ("databases.*.backup.resources", "preset"),
    ("cache.resources", "preset"),
    ("cache.persistence.storage", "size"),
    ("migrations.resources", "preset"),
    ("secrets.*.external.store", "name"),
    ("secrets.*.external.keys.*", "key"),
];

/// The field a scalar at `path` stands for, if the type there has a short
/// form.
pub fn shorthand_field(path: &[crate::yaml::PathSegment]) -> Option<&'static str> {
    use crate::yaml::PathSegment;
    SHORTHAND_PATHS.iter().find_map(|(pattern, field)| {
        let parts: Vec<&str> = pattern.split('.').collect();
        let matches = parts.len() == path.len()
            && parts.iter().zip(path).all(|(p, seg)| match seg {
                PathSegment::Key(k) => *p == "*" || p == k,
                PathSegment::Index(_) => false,
            });
        matches.then_some(*field)
    })
}

/// The names serde uses for the fields of `T` (what a YAML mapping for `T`
/// may contain).
pub fn field_names<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    struct Probe;
    #[derive(Debug)]
    struct Fields(&'static [&'static str]);
    impl std::fmt::Display for Fields {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("fields")
        }
    }
    impl std::error::Error for Fields {}
    impl serde::de::Error for Fields {
        fn custom<M: std::fmt::Display>(_: M) -> Fields {
            Fields(&[])
        }
    }
    impl<'de> serde::Deserializer<'de> for Probe {
        type Error = Fields;
        fn deserialize_struct<V: serde::de::Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Fields> {
            Err(Fields(fields))
        }
        fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Fields> {
            Err(Fields(&[]))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
            ignored_any
        }
    }
    match T::deserialize(Probe) {
        Err(Fields(f)) => f,
        Ok(_) => &[],
    }
}

/// Fields of a component that are written at the top level of a
/// single-component profile (those the app itself does not also have).
pub fn component_only_fields() -> Vec<&'static str> {
    let app = field_names::<Profile>();
    field_names::<Component>().iter().copied().filter(|f| !app.contains(f)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_come_from_serde() {
        let f = field_names::<Port>();
        assert_eq!(f, ["port", "servicePort", "protocol", "expose"]);
    }

    /// Every place the schema uses a short-form type is in SHORTHAND_PATHS
    /// (the top-level component fields counted as well).
    #[test]
    fn shorthand_paths_cover_the_schema() {
        let schema = schema::json_schema();
        let defs = &schema["$defs"];
        let mut found = Vec::new();
        fn walk(
            node: &serde_json::Value,
            defs: &serde_json::Value,
            path: String,
            found: &mut Vec<(String, String)>,
            depth: usize,
        ) {
            if depth > 12 {
                return;
            }
            if let Some(r) = node.get("$ref").and_then(|r| r.as_str()) {
                let name = r.trim_start_matches("#/$defs/");
                if let Some((_, field)) = SCALAR_SHORTHANDS.iter().find(|(n, _)| *n == name) {
                    found.push((path.clone(), field.to_string()));
                }
                walk(&defs[name], defs, path, found, depth + 1);
                return;
            }
            for key in ["anyOf", "oneOf", "allOf"] {
                for sub in node.get(key).and_then(|v| v.as_array()).into_iter().flatten() {
                    walk(sub, defs, path.clone(), found, depth + 1);
                }
            }
            if let Some(props) = node.get("properties").and_then(|p| p.as_object()) {
                for (k, v) in props {
                    let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                    walk(v, defs, p, found, depth + 1);
                }
            }
            if let Some(ap) = node.get("additionalProperties").filter(|v| v.is_object()) {
                walk(ap, defs, format!("{path}.*"), found, depth + 1);
            }
        }
        walk(&schema, defs, String::new(), &mut found, 0);
        for (path, field) in &found {
            if path.starts_with("environments") {
                continue;
            }
            assert!(SHORTHAND_PATHS.contains(&(path.as_str(), field.as_str())), "missing {path} -> {field}");
            if let Some(rest) = path.strip_prefix("components.*.")
                && component_only_fields().iter().any(|f| rest.split('.').next() == Some(*f))
            {
                assert!(SHORTHAND_PATHS.contains(&(rest, field.as_str())), "missing {rest} -> {field}");
            }
        }
    }

    #[test]
    fn component_only_fields_exclude_shared_ones() {
        let f = component_only_fields();
        assert!(f.contains(&"ports") && f.contains(&"replicas"));
        assert!(!f.contains(&"image") && !f.contains(&"env") && !f.contains(&"resources"));
    }
}
