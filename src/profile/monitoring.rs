//! Profile types for monitoring with the Prometheus Operator: the app-wide
//! `monitoring` block (ServiceMonitors, PrometheusRule alerts, a Grafana
//! dashboard) and a component's `metrics` endpoint.
//!
//! Nothing here is on by default: without `monitoring`, kgen emits no
//! object that needs the Prometheus Operator's CRDs.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

use super::schema::{Duration, PortName};

/// Monitoring for a cluster that runs the Prometheus Operator (e.g. the
/// kube-prometheus-stack Helm chart): a ServiceMonitor per component that
/// serves metrics, a PrometheusRule with alerts, and a Grafana dashboard in a
/// ConfigMap. Writing `monitoring: {}` turns all three on with their
/// defaults; each part can be turned off with `enabled: false`.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Monitoring {
    /// Set false to turn all monitoring off (e.g. in an environment).
    pub enabled: Option<bool>,
    /// The namespace Prometheus runs in (default `monitoring`); network
    /// policies let it scrape the app's metrics ports.
    pub namespace: Option<String>,
    /// How Prometheus scrapes the components' `metrics` endpoints (and a
    /// database's exporter).
    pub service_monitor: ServiceMonitorSettings,
    /// Alerting rules (a PrometheusRule): app down, database down, error
    /// rate, latency, CPU, memory and volume usage.
    pub alerts: AlertSettings,
    /// A Grafana dashboard in a ConfigMap, for Grafana's dashboard sidecar.
    pub dashboard: DashboardSettings,
}

/// The ServiceMonitors (and, for CloudNativePG databases, PodMonitors).
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ServiceMonitorSettings {
    /// Set false for no ServiceMonitor or PodMonitor (when Prometheus finds
    /// the app some other way).
    pub enabled: Option<bool>,
    /// Time between scrapes, a Prometheus duration such as `30s` (default).
    #[schemars(with = "Option<Duration>")]
    pub interval: Option<String>,
    /// How long a scrape may take (default `10s`); at most `interval`.
    #[schemars(with = "Option<Duration>")]
    pub scrape_timeout: Option<String>,
    /// Labels on the ServiceMonitors and PodMonitors (default `release:
    /// kube-prometheus-stack`: kube-prometheus-stack's Prometheus selects
    /// only monitors that carry its Helm release's name). Set them to what
    /// your Prometheus' `serviceMonitorSelector` and `podMonitorSelector`
    /// expect; `{}` for none.
    pub labels: Option<IndexMap<String, String>>,
}

/// The PrometheusRule: which alerts, and their thresholds.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct AlertSettings {
    /// Set false for no PrometheusRule.
    pub enabled: Option<bool>,
    /// Labels on the PrometheusRule (default `release:
    /// kube-prometheus-stack`, which kube-prometheus-stack's
    /// `ruleSelector` expects); `{}` for none.
    pub labels: Option<IndexMap<String, String>>,
    /// A component is down: no scrape target up for a component that serves
    /// metrics, no available pod otherwise (default: for 1m, critical).
    pub app_down: Alert,
    /// A database kgen runs is down: `pg_up` from the exporter when
    /// `exporter` is on, CloudNativePG's `cnpg_collector_up`, or else no
    /// ready pod (kube-state-metrics); default: for 1m, critical. Managed
    /// databases are not watched.
    pub database_down: Alert,
    /// Too many requests fail (components that serve metrics): the share of
    /// requests with an error status (default: more than 0.1, i.e. 10%,
    /// for 2m, critical).
    pub error_rate: ErrorRateAlert,
    /// Requests are slow (components that serve metrics): a quantile of the
    /// request duration histogram (default: p95 above 2 seconds for 5m,
    /// critical).
    pub latency: LatencyAlert,
    /// A container uses most of its CPU limit (default: more than 0.8, i.e.
    /// 80%, for 5m, warning). Needs cAdvisor and kube-state-metrics metrics.
    pub cpu: ThresholdAlert,
    /// A container uses most of its memory limit (working set; default: more
    /// than 0.8 for 5m, warning).
    pub memory: ThresholdAlert,
    /// A persistent volume of the app is filling up (used / capacity from the
    /// kubelet; default: more than 0.8 for 5m, warning).
    pub pvc_usage: ThresholdAlert,
    /// A scheduled backup failed, or none has succeeded for longer than its
    /// schedule's longest interval plus its deadline (kube-state-metrics;
    /// default: for 0m, critical).
    pub backup: Alert,
    /// WAL archiving fails (the exporter's `pg_stat_archiver_failed_count`
    /// grows; default: for 10m, critical): segments that cannot be
    /// archived are kept and fill the volume.
    pub wal_archive: Alert,
}

/// An alert without a threshold.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Alert {
    /// Set false to drop this alert.
    pub enabled: Option<bool>,
    /// How long the condition must hold before the alert fires, a Prometheus
    /// duration such as `1m`.
    #[serde(rename = "for")]
    #[schemars(with = "Option<Duration>")]
    pub for_: Option<String>,
    /// The alert's `severity` label, which Alertmanager routes on.
    pub severity: Option<Severity>,
}

/// An alert on a fraction of a limit or capacity.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ThresholdAlert {
    /// Set false to drop this alert.
    pub enabled: Option<bool>,
    /// The fraction above which the alert fires, more than 0 and at most 1
    /// (0.8 is 80%).
    pub threshold: Option<f64>,
    /// How long the condition must hold before the alert fires, a Prometheus
    /// duration such as `5m`.
    #[serde(rename = "for")]
    #[schemars(with = "Option<Duration>")]
    pub for_: Option<String>,
    /// The alert's `severity` label.
    pub severity: Option<Severity>,
}

/// The error-rate alert and the request counter it reads.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ErrorRateAlert {
    /// Set false to drop this alert.
    pub enabled: Option<bool>,
    /// The share of failed requests above which the alert fires, more than
    /// 0 and at most 1 (default 0.1, i.e. 10%).
    pub threshold: Option<f64>,
    /// How long the condition must hold (default `2m`).
    #[serde(rename = "for")]
    #[schemars(with = "Option<Duration>")]
    pub for_: Option<String>,
    /// The alert's `severity` label (default critical).
    pub severity: Option<Severity>,
    /// The request counter the app exports (default `http_requests_total`);
    /// the dashboard's request and error panels read it too.
    pub metric: Option<String>,
    /// The counter's label with the response status (default `status`;
    /// some libraries use `code` or `status_code`).
    pub status_label: Option<String>,
    /// A regular expression for the failed statuses (default `5..`).
    pub error_status: Option<String>,
    /// The window the rates are taken over (default `5m`).
    #[schemars(with = "Option<Duration>")]
    pub window: Option<String>,
}

/// The latency alert and the histogram it reads.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct LatencyAlert {
    /// Set false to drop this alert.
    pub enabled: Option<bool>,
    /// Seconds above which the alert fires (default 2).
    pub threshold: Option<f64>,
    /// The quantile compared with the threshold, more than 0 and less than
    /// 1 (default 0.95, the 95th percentile).
    pub quantile: Option<f64>,
    /// How long the condition must hold (default `5m`).
    #[serde(rename = "for")]
    #[schemars(with = "Option<Duration>")]
    pub for_: Option<String>,
    /// The alert's `severity` label (default critical).
    pub severity: Option<Severity>,
    /// The request duration histogram in seconds, without the `_bucket`
    /// suffix (default `http_request_duration_seconds`); the dashboard's
    /// latency panel reads it too.
    pub metric: Option<String>,
    /// The window the rates are taken over (default `5m`).
    #[schemars(with = "Option<Duration>")]
    pub window: Option<String>,
}

/// Alert severities, as kube-prometheus-stack's Alertmanager routes them.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// The Grafana dashboard: request rate, error rate, latency (p50, p95,
/// p99), CPU, memory, restarts and volume usage, plus the profile's own
/// panels.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct DashboardSettings {
    /// Set false for no dashboard ConfigMap.
    pub enabled: Option<bool>,
    /// The dashboard's title (default: the app's name).
    pub title: Option<String>,
    /// Labels on the ConfigMap (default `grafana_dashboard: "1"`, the label
    /// Grafana's dashboard sidecar looks for); `{}` for none.
    pub labels: Option<IndexMap<String, String>>,
    /// The Grafana folder, set as the ConfigMap's `grafana_folder`
    /// annotation (the sidecar's `folderAnnotation` in kube-prometheus-stack
    /// must name it).
    pub folder: Option<String>,
    /// Extra panels after the standard ones.
    pub panels: Vec<Panel>,
}

/// A time-series panel of the dashboard.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
#[schemars(extend("required" = ["title", "expr"]))]
pub struct Panel {
    /// The panel's title.
    pub title: String,
    /// The PromQL query, or a list of queries (e.g. three quantiles).
    /// `$namespace` is the app's namespace and `$__rate_interval` Grafana's
    /// rate window.
    pub expr: TextOrList,
    /// Grafana's unit for the values, e.g. `s`, `bytes`, `reqps`,
    /// `percentunit` or `short` (default).
    pub unit: Option<String>,
    /// Grafana's legend format of the series, e.g. `{{pod}}`: one for every
    /// query, or a list with one per query.
    pub legend: TextOrList,
}

/// One text, or a list of texts.
#[derive(Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[schemars(untagged)]
pub enum TextOrList {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl TextOrList {
    pub fn as_slice(&self) -> &[String] {
        match self {
            TextOrList::None => &[],
            TextOrList::One(q) => std::slice::from_ref(q),
            TextOrList::Many(q) => q,
        }
    }
}

impl<'de> Deserialize<'de> for TextOrList {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<TextOrList, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = TextOrList;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("text or a list of text")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<TextOrList, E> {
                Ok(TextOrList::One(s.to_string()))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<TextOrList, E> {
                Ok(TextOrList::None)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<TextOrList, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<String>()? {
                    items.push(item);
                }
                Ok(TextOrList::Many(items))
            }
        }
        d.deserialize_newtype_struct(crate::yaml::de::TEXT_OR_LIST, V)
    }
}

/// Where a component serves Prometheus metrics. With `monitoring`, a
/// component that says it serves them (`enabled: true`, a `port` or a
/// `path`) is scraped; the others are watched through kube-state-metrics
/// only, so that no alert waits on a target that does not exist.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Metrics {
    /// Set true to scrape `/metrics` on the first port; false (the
    /// default unless `port` or `path` is set) when the component serves no
    /// metrics.
    pub enabled: Option<bool>,
    /// The name of the port that serves metrics (default: the first port);
    /// the Service must expose it.
    #[schemars(with = "Option<PortName>")]
    pub port: Option<String>,
    /// The HTTP path of the metrics (default `/metrics`).
    pub path: Option<String>,
}
