//! The rendered objects: one enum over every kind kgen emits, each a typed
//! k8s-openapi value (or a small typed struct for a custom resource), and
//! the one install-order table.
//!
//! Adding a kind is one line in `objects!` (its place in the table is its
//! install order) plus the code that builds it, and what else the kind
//! needs (ARCHITECTURE.md, "One install-order table").

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, PersistentVolumeClaim, Secret, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::{Metadata, Resource};

use crate::crd::certmanager::Issuer;
use crate::crd::cnpg::{Cluster, ScheduledBackup};
use crate::crd::externalsecrets::ExternalSecret;
use crate::crd::gateway::{HTTPRoute, ReferenceGrant};
use crate::crd::keda::ScaledObject;
use crate::crd::prometheus::{PodMonitor, PrometheusRule, ServiceMonitor};
use crate::crd::sealedsecrets::SealedSecret;
use serde::Serialize;

/// An object of a kind kgen does not model (from `extraManifests`), kept
/// as JSON after its apiVersion, kind and metadata.
#[derive(Clone, Debug, PartialEq)]
pub struct Generic {
    pub api_version: String,
    pub kind: String,
    pub metadata: ObjectMeta,
    pub rest: serde_json::Map<String, serde_json::Value>,
}

impl Generic {
    /// A generic object from JSON with `apiVersion`, `kind` and `metadata`.
    pub fn from_json(value: serde_json::Value) -> Result<Generic, String> {
        let serde_json::Value::Object(mut rest) = value else {
            return Err("an object is a mapping".into());
        };
        let mut text = |key: &str| match rest.shift_remove(key) {
            Some(serde_json::Value::String(s)) if !s.is_empty() => Ok(s),
            _ => Err(format!("`{key}` is missing")),
        };
        let api_version = text("apiVersion")?;
        let kind = text("kind")?;
        let metadata = match rest.shift_remove("metadata") {
            Some(m) => serde_json::from_value(m).map_err(|e| format!("metadata: {e}"))?,
            None => return Err("`metadata` is missing".into()),
        };
        Ok(Generic { api_version, kind, metadata, rest })
    }
}

impl Serialize for Generic {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(3 + self.rest.len()))?;
        map.serialize_entry("apiVersion", &self.api_version)?;
        map.serialize_entry("kind", &self.kind)?;
        map.serialize_entry("metadata", &self.metadata)?;
        for (k, v) in &self.rest {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

macro_rules! objects {
    ($($variant:ident($ty:ty) = $rank:literal),* $(,)?) => {
        /// One rendered Kubernetes object.
        #[derive(Clone, Debug, PartialEq)]
        pub enum Object {
            $($variant(Box<$ty>),)*
            Generic(Box<Generic>),
        }

        /// Kinds in install order: namespaces and CRD-independent kinds
        /// first, workloads before what scales or routes to them, custom
        /// resources last (as Helm's install order does) but for those
        /// that make the Secrets pods read (ExternalSecret, SealedSecret),
        /// which go with the Secrets.
        ///
        /// Each kind has a fixed rank (with gaps for kinds to come): it is
        /// also the prefix of the kind's files in `--out-dir`, which stay
        /// the same across kgen versions.
        pub const INSTALL_ORDER: &[(&str, usize)] = &[$((<$ty as Resource>::KIND, $rank)),*];

        impl Object {
            pub fn kind(&self) -> &str {
                match self {
                    $(Object::$variant(_) => <$ty as Resource>::KIND,)*
                    Object::Generic(g) => &g.kind,
                }
            }

            pub fn api_version(&self) -> &str {
                match self {
                    $(Object::$variant(_) => <$ty as Resource>::API_VERSION,)*
                    Object::Generic(g) => &g.api_version,
                }
            }

            pub fn metadata(&self) -> &ObjectMeta {
                match self {
                    $(Object::$variant(o) => o.metadata(),)*
                    Object::Generic(g) => &g.metadata,
                }
            }

            pub fn metadata_mut(&mut self) -> &mut ObjectMeta {
                match self {
                    $(Object::$variant(o) => o.metadata_mut(),)*
                    Object::Generic(g) => &mut g.metadata,
                }
            }

            /// Append the object as a YAML document body (streamed: no JSON
            /// value in between).
            pub fn write_yaml(&self, out: &mut String) {
                match self {
                    $(Object::$variant(o) => crate::yaml::emit::write_document(out, &**o),)*
                    Object::Generic(g) => crate::yaml::emit::write_document(out, &**g),
                }
            }

            /// The object as JSON, keys in the order its YAML has
            /// ([`crate::yaml::emit::order_json`]): `apiVersion`, `kind`
            /// and `metadata` first, then the fields in the order of the
            /// type (alphabetical for Kubernetes types), with `name` first
            /// in list items.
            pub fn to_value(&self) -> serde_json::Value {
                let mut value = self.to_unordered_value();
                crate::yaml::emit::order_json(&mut value);
                value
            }

            /// The object as JSON with the fields in the type's order, for
            /// code that reads it rather than people (patches).
            pub fn to_unordered_value(&self) -> serde_json::Value {
                let value = match self {
                    $(Object::$variant(o) => serde_json::to_value(&**o),)*
                    Object::Generic(g) => serde_json::to_value(g),
                };
                value.expect("Kubernetes objects serialize to JSON")
            }
        }

        impl Object {
            /// An object from JSON: a kind of the table (matched by
            /// apiVersion and kind) as its k8s-openapi type, any other as
            /// [`Generic`]. k8s-openapi ignores unknown fields; callers that
            /// must reject them parse with `yaml::de` instead.
            pub fn from_json(value: serde_json::Value) -> Result<Object, String> {
                let api_version = value.get("apiVersion").and_then(|v| v.as_str()).unwrap_or_default().to_string();
                let kind = value.get("kind").and_then(|v| v.as_str()).unwrap_or_default().to_string();
                $(if kind == <$ty as Resource>::KIND && api_version == <$ty as Resource>::API_VERSION {
                    return serde_json::from_value::<$ty>(value).map(Object::from).map_err(|e| e.to_string());
                })*
                Generic::from_json(value).map(|g| Object::Generic(Box::new(g)))
            }

            /// Whether `apiVersion` and `kind` name a kind of the table.
            pub fn is_typed_kind(api_version: &str, kind: &str) -> bool {
                false $(|| (kind == <$ty as Resource>::KIND && api_version == <$ty as Resource>::API_VERSION))*
            }

            /// Parse a YAML node of a kind of the table into its
            /// k8s-openapi type with kgen's deserializer, which reports every
            /// problem with its location, unknown fields included. None for
            /// kinds outside the table.
            pub fn from_node(
                node: &crate::yaml::Node,
                api_version: &str,
                kind: &str,
                ctx: &crate::yaml::de::Context,
            ) -> Option<Result<Object, crate::diagnostic::Errors>> {
                $(if kind == <$ty as Resource>::KIND && api_version == <$ty as Resource>::API_VERSION {
                    return Some(crate::yaml::de::from_node::<$ty>(node, ctx).map(Object::from));
                })*
                None
            }
        }

        $(impl From<$ty> for Object {
            fn from(o: $ty) -> Object {
                Object::$variant(Box::new(o))
            }
        })*
    };
}

objects! {
    Namespace(Namespace) = 0,
    NetworkPolicy(NetworkPolicy) = 5,
    PodDisruptionBudget(PodDisruptionBudget) = 10,
    ServiceAccount(ServiceAccount) = 15,
    Secret(Secret) = 20,
    ExternalSecret(ExternalSecret) = 21,
    SealedSecret(SealedSecret) = 22,
    ConfigMap(ConfigMap) = 25,
    StorageClass(StorageClass) = 30,
    PersistentVolumeClaim(PersistentVolumeClaim) = 35,
    Role(Role) = 40,
    RoleBinding(RoleBinding) = 42,
    Service(Service) = 45,
    Deployment(Deployment) = 50,
    StatefulSet(StatefulSet) = 52,
    HorizontalPodAutoscaler(HorizontalPodAutoscaler) = 55,
    Job(Job) = 60,
    CronJob(CronJob) = 62,
    Ingress(Ingress) = 65,
    Issuer(Issuer) = 70,
    Cluster(Cluster) = 75,
    ScheduledBackup(ScheduledBackup) = 76,
    HTTPRoute(HTTPRoute) = 80,
    ReferenceGrant(ReferenceGrant) = 81,
    ScaledObject(ScaledObject) = 85,
    ServiceMonitor(ServiceMonitor) = 90,
    PodMonitor(PodMonitor) = 91,
    PrometheusRule(PrometheusRule) = 92,
}

impl Object {
    pub fn name(&self) -> &str {
        self.metadata().name.as_deref().unwrap_or("")
    }

    pub fn namespace(&self) -> Option<&str> {
        self.metadata().namespace.as_deref()
    }

    /// Position in the install order; kinds outside the table go last.
    pub fn install_rank(&self) -> usize {
        let kind = self.kind();
        INSTALL_ORDER.iter().find(|(k, _)| *k == kind).map_or(UNKNOWN_KIND_RANK, |(_, rank)| *rank)
    }

    /// The pod template of a workload (Deployment, StatefulSet, Job, or a
    /// CronJob's job template).
    pub fn pod_template(&self) -> Option<&k8s_openapi::api::core::v1::PodTemplateSpec> {
        match self {
            Object::Deployment(d) => Some(&d.spec.as_ref()?.template),
            Object::StatefulSet(s) => Some(&s.spec.as_ref()?.template),
            Object::Job(j) => Some(&j.spec.as_ref()?.template),
            Object::CronJob(c) => Some(&c.spec.as_ref()?.job_template.spec.as_ref()?.template),
            _ => None,
        }
    }

    /// [`Object::pod_template`], to change.
    pub fn pod_template_mut(&mut self) -> Option<&mut k8s_openapi::api::core::v1::PodTemplateSpec> {
        match self {
            Object::Deployment(d) => Some(&mut d.spec.as_mut()?.template),
            Object::StatefulSet(s) => Some(&mut s.spec.as_mut()?.template),
            Object::Job(j) => Some(&mut j.spec.as_mut()?.template),
            Object::CronJob(c) => Some(&mut c.spec.as_mut()?.job_template.spec.as_mut()?.template),
            _ => None,
        }
    }

    /// The claims a workload's pods mount by name (not claim templates).
    pub fn mounted_claims(&self) -> impl Iterator<Item = &str> {
        self.pod_template()
            .and_then(|t| t.spec.as_ref())
            .into_iter()
            .flat_map(|spec| spec.volumes.iter().flatten())
            .filter_map(|v| v.persistent_volume_claim.as_ref().map(|c| c.claim_name.as_str()))
    }

    /// `Kind/namespace/name`, for messages.
    pub fn id(&self) -> String {
        match self.namespace() {
            Some(ns) => format!("{}/{ns}/{}", self.kind(), self.name()),
            None => format!("{}/{}", self.kind(), self.name()),
        }
    }
}

/// The rank of kinds outside the table (extra manifests): last.
pub const UNKNOWN_KIND_RANK: usize = 99;

/// Sort objects into install order; objects of one kind by namespace and
/// name. The sort is stable, so the result depends only on the objects.
pub fn sort(objects: &mut [Object]) {
    objects
        .sort_by(|a, b| (a.install_rank(), a.namespace(), a.name()).cmp(&(b.install_rank(), b.namespace(), b.name())));
}

#[cfg(test)]
mod install_order_tests {
    use super::*;

    /// The table's order is the install order, and every rank is unique
    /// and below the rank of unknown kinds.
    #[test]
    fn ranks_increase_down_the_table() {
        assert!(INSTALL_ORDER.windows(2).all(|w| w[0].1 < w[1].1), "{INSTALL_ORDER:?}");
        assert!(INSTALL_ORDER.iter().all(|(_, r)| *r < UNKNOWN_KIND_RANK));
    }
}
