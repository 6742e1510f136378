//! KEDA (`keda.sh/v1alpha1`): a `ScaledObject`, the alternative to an HPA
//! when scaling on Prometheus queries.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::custom_resource;

custom_resource!(
    /// Scales a workload on triggers (CPU, memory, Prometheus queries).
    ScaledObject, ScaledObjectSpec, group = "keda.sh", version = "v1alpha1", plural = "scaledobjects"
);

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScaledObjectSpec {
    pub scale_target_ref: ScaleTargetRef,
    pub min_replica_count: u32,
    pub max_replica_count: u32,
    pub advanced: Advanced,
    pub triggers: Vec<Trigger>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScaleTargetRef {
    pub api_version: String,
    pub kind: String,
    pub name: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Advanced {
    pub horizontal_pod_autoscaler_config: HorizontalPodAutoscalerConfig,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HorizontalPodAutoscalerConfig {
    pub behavior: k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscalerBehavior,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Trigger {
    #[serde(rename = "type")]
    pub type_: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric_type: Option<String>,
    pub metadata: BTreeMap<String, String>,
}
