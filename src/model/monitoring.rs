//! Monitoring with the Prometheus Operator: scrapes, alerts, dashboards.

use super::*;

/// Monitoring with the Prometheus Operator. Every part is optional; the
/// objects that need its CRDs exist only for the parts that are on.
#[derive(Clone, Debug)]
pub struct Monitoring {
    /// The namespace Prometheus runs in; network policies allow scrapes
    /// from it.
    pub namespace: String,
    /// ServiceMonitors (and PodMonitors for CloudNativePG), when on.
    pub scrape: Option<Scrape>,
    /// The PrometheusRule, when on.
    pub alerts: Option<Alerts>,
    /// The Grafana dashboard ConfigMap, when on.
    pub dashboard: Option<Dashboard>,
    /// The app's request metrics, which alerts and the dashboard read.
    pub http: HttpMetrics,
}

/// How Prometheus scrapes the app.
#[derive(Clone, Debug, PartialEq)]
pub struct Scrape {
    /// Prometheus durations, `scrape_timeout` ≤ `interval`.
    pub interval: String,
    pub scrape_timeout: String,
    /// Labels on every ServiceMonitor and PodMonitor.
    pub labels: BTreeMap<String, String>,
}

/// The names of the request metrics the app exports (valid Prometheus
/// metric and label names).
#[derive(Clone, Debug, PartialEq)]
pub struct HttpMetrics {
    /// A counter of requests, e.g. `http_requests_total`.
    pub requests: String,
    /// Its label with the response status.
    pub status_label: String,
    /// A regular expression (RE2) matching the failed statuses.
    pub error_status: String,
    /// A histogram of request durations in seconds, without `_bucket`.
    pub duration: String,
}

/// The alerting rules that are on, with their settings.
#[derive(Clone, Debug, PartialEq)]
pub struct Alerts {
    /// Labels on the PrometheusRule.
    pub labels: BTreeMap<String, String>,
    pub app_down: Option<Alert>,
    pub database_down: Option<Alert>,
    /// Fires when the share of failed requests exceeds the threshold.
    pub error_rate: Option<Alert>,
    /// Fires when the latency quantile exceeds the threshold (seconds).
    pub latency: Option<Alert>,
    /// The latency quantile, between 0 and 1.
    pub latency_quantile: f64,
    /// Rate windows of the error-rate and latency rules (durations).
    pub error_rate_window: String,
    pub latency_window: String,
    /// Fractions of the CPU and memory limits and of volume capacity.
    pub cpu: Option<Alert>,
    pub memory: Option<Alert>,
    pub pvc_usage: Option<Alert>,
    pub backup: Option<Alert>,
    pub wal_archive: Option<Alert>,
}

/// One alert's settings.
#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    /// Finite and positive; unused by alerts without a threshold.
    pub threshold: f64,
    /// A Prometheus duration.
    pub for_: String,
    pub severity: &'static str,
}

/// The Grafana dashboard ConfigMap.
#[derive(Clone, Debug, PartialEq)]
pub struct Dashboard {
    /// Name of the ConfigMap.
    pub name: String,
    pub title: String,
    /// Labels on the ConfigMap (the sidecar's label).
    pub labels: BTreeMap<String, String>,
    /// The Grafana folder (an annotation).
    pub folder: Option<String>,
    /// The profile's own panels, after the standard ones.
    pub panels: Vec<Panel>,
}

/// A dashboard panel from the profile.
#[derive(Clone, Debug, PartialEq)]
pub struct Panel {
    pub title: String,
    /// PromQL queries, each with its legend format (may be empty).
    pub queries: Vec<(String, String)>,
    pub unit: String,
}
