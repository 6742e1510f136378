//! Typed structs for the custom resources kgen emits (CloudNativePG,
//! Prometheus Operator, External Secrets, Sealed Secrets, …): the fields kgen sets, checked against the
//! vendored CRD schemas by the validator. Each implements k8s-openapi's
//! `Resource` and `Metadata` traits so it fits the object table like a
//! built-in kind.

pub mod certmanager;
pub mod cnpg;
pub mod externalsecrets;
pub mod gateway;
pub mod keda;
pub mod prometheus;
pub mod sealedsecrets;

/// Define a custom resource type: a struct with `apiVersion`, `kind`,
/// `metadata` and `spec`, and its k8s-openapi traits.
macro_rules! custom_resource {
    ($(#[$doc:meta])* $name:ident, $spec:ty, group = $group:literal, version = $version:literal, plural = $plural:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        pub struct $name {
            pub api_version: String,
            pub kind: String,
            pub metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
            pub spec: $spec,
        }

        impl $name {
            pub fn new(metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta, spec: $spec) -> $name {
                $name {
                    api_version: <$name as k8s_openapi::Resource>::API_VERSION.to_string(),
                    kind: <$name as k8s_openapi::Resource>::KIND.to_string(),
                    metadata,
                    spec,
                }
            }
        }

        impl k8s_openapi::Resource for $name {
            const API_VERSION: &'static str = concat!($group, "/", $version);
            const GROUP: &'static str = $group;
            const KIND: &'static str = stringify!($name);
            const VERSION: &'static str = $version;
            const URL_PATH_SEGMENT: &'static str = $plural;
            type Scope = k8s_openapi::NamespaceResourceScope;
        }

        impl k8s_openapi::Metadata for $name {
            type Ty = k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
            fn metadata(&self) -> &Self::Ty {
                &self.metadata
            }
            fn metadata_mut(&mut self) -> &mut Self::Ty {
                &mut self.metadata
            }
        }
    };
}

pub(crate) use custom_resource;
