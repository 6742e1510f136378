//! Scaling and availability of a component: the HorizontalPodAutoscaler
//! (or a KEDA ScaledObject) and the PodDisruptionBudget.

use std::collections::BTreeMap;

use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HPAScalingRules, HorizontalPodAutoscaler, HorizontalPodAutoscalerBehavior,
    HorizontalPodAutoscalerSpec, MetricIdentifier, MetricSpec, MetricTarget, PodsMetricSource, ResourceMetricSource,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{int32, label_selector, meta, selector_labels};
use crate::crd::keda;
use crate::model::{App, Autoscaling, Component, DisruptionBudget, IntOrPercent};
use crate::object::Object;

pub fn render(app: &App, c: &Component, out: &mut Vec<Object>) {
    if let Some(a) = &c.autoscaling {
        match &a.keda {
            None => out.push(hpa(app, c, a).into()),
            Some(prometheus) => out.push(scaled_object(app, c, a, prometheus).into()),
        }
    }
    if let Some(b) = &c.disruption_budget {
        let value = |v: &IntOrPercent| match v {
            IntOrPercent::Int(n) => IntOrString::Int(int32(*n)),
            IntOrPercent::Percent(p) => IntOrString::String(p.clone()),
        };
        let (min_available, max_unavailable) = match b {
            DisruptionBudget::MinAvailable(v) => (Some(value(v)), None),
            DisruptionBudget::MaxUnavailable(v) => (None, Some(value(v))),
        };
        out.push(
            PodDisruptionBudget {
                metadata: meta(app, &c.name, Some(&c.key)),
                spec: Some(PodDisruptionBudgetSpec {
                    selector: Some(label_selector(selector_labels(app, &c.key))),
                    min_available,
                    max_unavailable,
                    ..Default::default()
                }),
                ..Default::default()
            }
            .into(),
        );
    }
}

/// The workload kind a component runs as.
pub fn workload_kind(c: &Component) -> &'static str {
    if c.sqlite_volume.is_some() { "StatefulSet" } else { "Deployment" }
}

fn behavior(a: &Autoscaling) -> HorizontalPodAutoscalerBehavior {
    HorizontalPodAutoscalerBehavior {
        scale_down: Some(HPAScalingRules {
            stabilization_window_seconds: Some(a.scale_down_stabilization_seconds),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn hpa(app: &App, c: &Component, a: &Autoscaling) -> HorizontalPodAutoscaler {
    let resource = |name: &str, percent: u32| MetricSpec {
        type_: "Resource".into(),
        resource: Some(ResourceMetricSource {
            name: name.into(),
            target: MetricTarget {
                type_: "Utilization".into(),
                average_utilization: Some(int32(percent)),
                ..Default::default()
            },
        }),
        ..Default::default()
    };
    let mut metrics: Vec<MetricSpec> = [("cpu", a.cpu), ("memory", a.memory)]
        .into_iter()
        .filter_map(|(name, p)| p.map(|p| resource(name, p)))
        .collect();
    metrics.extend(a.metrics.iter().map(|m| MetricSpec {
        type_: "Pods".into(),
        pods: Some(PodsMetricSource {
            metric: MetricIdentifier { name: m.name.clone(), selector: None },
            target: MetricTarget {
                type_: "AverageValue".into(),
                average_value: Some(Quantity(m.target.clone())),
                ..Default::default()
            },
        }),
        ..Default::default()
    }));
    HorizontalPodAutoscaler {
        metadata: meta(app, &c.name, Some(&c.key)),
        spec: Some(HorizontalPodAutoscalerSpec {
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some("apps/v1".into()),
                kind: workload_kind(c).into(),
                name: c.name.clone(),
            },
            min_replicas: Some(int32(a.min)),
            max_replicas: int32(a.max),
            metrics: Some(metrics),
            behavior: Some(behavior(a)),
        }),
        ..Default::default()
    }
}

fn scaled_object(app: &App, c: &Component, a: &Autoscaling, prometheus: &str) -> keda::ScaledObject {
    let mut triggers: Vec<keda::Trigger> = [("cpu", a.cpu), ("memory", a.memory)]
        .into_iter()
        .filter_map(|(name, p)| {
            p.map(|p| keda::Trigger {
                type_: name.into(),
                metric_type: Some("Utilization".into()),
                metadata: BTreeMap::from([("value".to_string(), p.to_string())]),
            })
        })
        .collect();
    triggers.extend(a.metrics.iter().map(|m| keda::Trigger {
        type_: "prometheus".into(),
        metric_type: Some("AverageValue".into()),
        metadata: BTreeMap::from([
            ("serverAddress".to_string(), prometheus.to_string()),
            ("query".to_string(), super::monitoring::profile_promql(app, m.query.as_deref().unwrap_or_default())),
            ("threshold".to_string(), m.target.clone()),
        ]),
    }));
    keda::ScaledObject::new(
        meta(app, &c.name, Some(&c.key)),
        keda::ScaledObjectSpec {
            scale_target_ref: keda::ScaleTargetRef {
                api_version: "apps/v1".into(),
                kind: workload_kind(c).into(),
                name: app.name_in_text(workload_kind(c), &c.name),
            },
            min_replica_count: a.min,
            max_replica_count: a.max,
            advanced: keda::Advanced {
                horizontal_pod_autoscaler_config: keda::HorizontalPodAutoscalerConfig { behavior: behavior(a) },
            },
            triggers,
        },
    )
}
