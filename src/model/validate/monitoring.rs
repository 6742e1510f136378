//! Monitoring: the `monitoring` block (scrape settings, alerts and their
//! thresholds, the dashboard) and each component's `metrics` endpoint.
//! Prometheus names, durations and label sets are checked here, so that
//! rendering can build PromQL from them with `format!`.

use std::collections::BTreeMap;

use indexmap::IndexMap;

use super::{Builder, MetaMap};
use crate::diagnostic::Code;
use crate::model::names;
use crate::model::*;
use crate::path;
use crate::profile;
use crate::yaml::PathSegment;

/// The PostgreSQL exporter's image (prometheus-community's
/// postgres_exporter), pinned.
pub(super) const EXPORTER_IMAGE: &str = "quay.io/prometheuscommunity/postgres-exporter:v0.15.0";

/// The label kube-prometheus-stack's Prometheus selects monitors and rules
/// by: its Helm release's name.
const RELEASE_LABEL: (&str, &str) = ("release", "kube-prometheus-stack");
/// The label Grafana's dashboard sidecar looks for.
const DASHBOARD_LABEL: (&str, &str) = ("grafana_dashboard", "1");

impl Builder<'_> {
    /// The validated `monitoring` block, if it is present and on.
    pub(super) fn monitoring(&mut self, app: &str) -> Option<Monitoring> {
        let m = self.loaded.profile.monitoring.clone()?;
        if m.enabled == Some(false) {
            return None;
        }
        let namespace = m.namespace.clone().unwrap_or_else(|| "monitoring".into());
        self.apply_rule(Code::Namespace, &path!["monitoring", "namespace"], "namespace", &namespace, |s| {
            names::dns1123_label(s, 63)
        });
        let scrape = (m.service_monitor.enabled != Some(false)).then(|| self.scrape(&m.service_monitor));
        let http = self.http_metrics(&m.alerts);
        let alerts = (m.alerts.enabled != Some(false)).then(|| self.alerts(&m.alerts));
        let dashboard = (m.dashboard.enabled != Some(false)).then(|| self.dashboard(app, &m.dashboard));
        Some(Monitoring { namespace, scrape, alerts, dashboard, http })
    }

    fn scrape(&mut self, s: &profile::ServiceMonitorSettings) -> Scrape {
        let at = path!["monitoring", "serviceMonitor"];
        let interval =
            self.duration(Code::Metrics, &[&at[..], &path!["interval"]].concat(), s.interval.as_deref(), "30s");
        let timeout = self.duration(
            Code::Metrics,
            &[&at[..], &path!["scrapeTimeout"]].concat(),
            s.scrape_timeout.as_deref(),
            "10s",
        );
        if let (Ok(i), Ok(t)) = (parse_duration(&interval), parse_duration(&timeout))
            && t > i
        {
            self.error_hint(
                Code::Metrics,
                &[&at[..], &path!["scrapeTimeout"]].concat(),
                format!("scrapeTimeout `{timeout}` is longer than the interval `{interval}`"),
                "Prometheus refuses a scrape timeout longer than the scrape interval",
            );
        }
        let labels = self.object_labels(s.labels.as_ref(), "monitoring.serviceMonitor.labels", RELEASE_LABEL);
        Scrape { interval, scrape_timeout: timeout, labels }
    }

    /// Metric names from the error-rate and latency alerts' settings (read
    /// by the dashboard too, so checked even when the alerts are off).
    fn http_metrics(&mut self, a: &profile::AlertSettings) -> HttpMetrics {
        let at = path!["monitoring", "alerts"];
        let e = &a.error_rate;
        let requests = e.metric.clone().unwrap_or_else(|| "http_requests_total".into());
        self.apply_rule(
            Code::PromqlName,
            &[&at[..], &path!["errorRate", "metric"]].concat(),
            "metric name",
            &requests,
            metric_name,
        );
        let status_label = e.status_label.clone().unwrap_or_else(|| "status".into());
        self.apply_rule(
            Code::PromqlName,
            &[&at[..], &path!["errorRate", "statusLabel"]].concat(),
            "label name",
            &status_label,
            label_name,
        );
        let error_status = e.error_status.clone().unwrap_or_else(|| "5..".into());
        if error_status.is_empty() || error_status.contains(['\n', '\r', '\0']) {
            self.error_hint(
                Code::PromqlName,
                &[&at[..], &path!["errorRate", "errorStatus"]].concat(),
                "errorStatus must be a one-line regular expression",
                "for example `5..` or `5..|429`",
            );
        }
        let duration = a.latency.metric.clone().unwrap_or_else(|| "http_request_duration_seconds".into());
        self.apply_rule(
            Code::PromqlName,
            &[&at[..], &path!["latency", "metric"]].concat(),
            "metric name",
            &duration,
            metric_name,
        );
        if duration.ends_with("_bucket") {
            self.error_hint(
                Code::PromqlName,
                &[&at[..], &path!["latency", "metric"]].concat(),
                format!("metric `{duration}` names the histogram's buckets"),
                format!("give the histogram's name, `{}`", duration.trim_end_matches("_bucket")),
            );
        }
        HttpMetrics { requests, status_label, error_status, duration }
    }

    fn alerts(&mut self, a: &profile::AlertSettings) -> Alerts {
        use profile::Severity::{Critical, Warning};
        let labels = self.object_labels(a.labels.as_ref(), "monitoring.alerts.labels", RELEASE_LABEL);
        let plain = |b: &mut Self, key: &str, s: &profile::Alert, for_: &str| {
            let fields =
                AlertFields { enabled: s.enabled, threshold: None, for_: s.for_.as_deref(), severity: s.severity };
            b.alert(key, fields, (None, for_, Critical))
        };
        let app_down = plain(self, "appDown", &a.app_down, "1m");
        let database_down = plain(self, "databaseDown", &a.database_down, "1m");
        let backup = plain(self, "backup", &a.backup, "0m");
        let wal_archive = plain(self, "walArchive", &a.wal_archive, "10m");
        let e = &a.error_rate;
        let error_rate = self.alert(
            "errorRate",
            AlertFields { enabled: e.enabled, threshold: e.threshold, for_: e.for_.as_deref(), severity: e.severity },
            (Some(Range::Fraction(0.1)), "2m", Critical),
        );
        let l = &a.latency;
        let latency = self.alert(
            "latency",
            AlertFields { enabled: l.enabled, threshold: l.threshold, for_: l.for_.as_deref(), severity: l.severity },
            (Some(Range::Positive(2.0)), "5m", Critical),
        );
        let latency_quantile = l.quantile.unwrap_or(0.95);
        if !(latency_quantile > 0.0 && latency_quantile < 1.0) {
            self.error_hint(
                Code::Alert,
                &path!["monitoring", "alerts", "latency", "quantile"],
                format!("quantile {latency_quantile} is not between 0 and 1"),
                "0.95 is the 95th percentile",
            );
        }
        let window = |b: &mut Self, key: &str, value: Option<&str>| {
            let at = path!["monitoring", "alerts", key, "window"];
            let w = b.duration(Code::Alert, &at, value, "5m");
            if parse_duration(&w) == Ok(0) {
                b.error(Code::Alert, &at, "a rate window must be longer than 0");
            }
            w
        };
        let error_rate_window = window(self, "errorRate", e.window.as_deref());
        let latency_window = window(self, "latency", l.window.as_deref());
        let threshold = |b: &mut Self, key: &str, s: &profile::ThresholdAlert| {
            let fields = AlertFields {
                enabled: s.enabled,
                threshold: s.threshold,
                for_: s.for_.as_deref(),
                severity: s.severity,
            };
            b.alert(key, fields, (Some(Range::Fraction(0.8)), "5m", Warning))
        };
        let cpu = threshold(self, "cpu", &a.cpu);
        let memory = threshold(self, "memory", &a.memory);
        let pvc_usage = threshold(self, "pvcUsage", &a.pvc_usage);
        Alerts {
            labels,
            app_down,
            database_down,
            error_rate,
            latency,
            latency_quantile,
            error_rate_window,
            latency_window,
            cpu,
            memory,
            pvc_usage,
            backup,
            wal_archive,
        }
    }

    /// One alert with its defaults (threshold range, `for`, severity).
    fn alert(
        &mut self,
        key: &str,
        s: AlertFields<'_>,
        (range, for_default, severity): (Option<Range>, &str, profile::Severity),
    ) -> Option<Alert> {
        let at = path!["monitoring", "alerts", key];
        let for_ = self.duration(Code::Alert, &[&at[..], &path!["for"]].concat(), s.for_, for_default);
        let threshold = match range {
            None => 0.0,
            Some(range) => {
                let (default, max) = match range {
                    Range::Fraction(d) => (d, Some(1.0)),
                    Range::Positive(d) => (d, None),
                };
                let t = s.threshold.unwrap_or(default);
                let ok = t.is_finite() && t > 0.0 && max.is_none_or(|m| t <= m);
                if !ok {
                    let (message, hint) = match max {
                        Some(_) => (
                            format!("threshold {t} is not a fraction between 0 and 1"),
                            format!("a fraction of 1, e.g. {default} for {}%", default * 100.0),
                        ),
                        None => (format!("threshold {t} must be more than 0"), format!("e.g. {default}")),
                    };
                    self.error_hint(Code::Alert, &[&at[..], &path!["threshold"]].concat(), message, hint);
                }
                t
            }
        };
        (s.enabled != Some(false)).then(|| Alert { threshold, for_, severity: s.severity.unwrap_or(severity).as_str() })
    }

    fn dashboard(&mut self, app: &str, d: &profile::DashboardSettings) -> Dashboard {
        let at = path!["monitoring", "dashboard"];
        let labels = self.object_labels(d.labels.as_ref(), "monitoring.dashboard.labels", DASHBOARD_LABEL);
        let title = d.title.clone().unwrap_or_else(|| app.to_string());
        if title.trim().is_empty() {
            self.error(
                Code::Dashboard,
                &[&at[..], &path!["title"]].concat(),
                "the dashboard's title must not be empty",
            );
        }
        if let Some(folder) = &d.folder
            && (folder.trim().is_empty() || folder.contains(['\n', '\r']))
        {
            self.error(Code::Dashboard, &[&at[..], &path!["folder"]].concat(), "the folder must be a one-line name");
        }
        let mut panels = Vec::new();
        for (i, p) in d.panels.iter().enumerate() {
            let here = [&at[..], &path!["panels", i]].concat();
            if p.title.trim().is_empty() {
                self.error_hint(Code::Dashboard, &here, "a panel needs a `title`", "add `title: Requests per second`");
            }
            let queries = p.expr.as_slice().to_vec();
            if queries.is_empty() {
                self.error_hint(
                    Code::Dashboard,
                    &here,
                    "a panel needs a query in `expr`",
                    "add `expr: sum(rate(my_metric[5m]))`",
                );
            }
            for (j, q) in queries.iter().enumerate() {
                if q.trim().is_empty() || q.contains('\0') {
                    let mut at = here.clone();
                    at.push("expr".into());
                    if matches!(p.expr, profile::TextOrList::Many(_)) {
                        at.push(j.into());
                    }
                    self.error(Code::Dashboard, &at, "a query must not be empty");
                }
            }
            let legends = p.legend.as_slice();
            let legend = |j: usize| match legends {
                [one] => one.clone(),
                many => many.get(j).cloned().unwrap_or_default(),
            };
            if legends.len() > 1 && legends.len() != queries.len() {
                self.error_hint(
                    Code::Dashboard,
                    &[here.as_slice(), &path!["legend"]].concat(),
                    format!("{} legends for {} queries", legends.len(), queries.len()),
                    "give one legend for every query, or a list with one per query",
                );
            }
            let queries: Vec<(String, String)> = queries.into_iter().enumerate().map(|(j, q)| (q, legend(j))).collect();
            let unit = p.unit.clone().unwrap_or_else(|| "short".into());
            if unit.is_empty() || !unit.bytes().all(|b| b.is_ascii_graphic()) {
                self.error_hint(
                    Code::Dashboard,
                    &[here.as_slice(), &path!["unit"]].concat(),
                    format!("`{unit}` is not a Grafana unit"),
                    "use a unit id such as `s`, `bytes`, `reqps`, `percentunit` or `short`",
                );
            }
            panels.push(Panel { title: p.title.clone(), queries, unit });
        }
        Dashboard { name: naming::dashboard(app), title, labels, folder: d.folder.clone(), panels }
    }

    /// Labels for a monitoring object: as written, or the default label
    /// when the field is left out.
    fn object_labels(
        &mut self,
        written: Option<&IndexMap<String, String>>,
        field: &str,
        default: (&str, &str),
    ) -> BTreeMap<String, String> {
        match written {
            Some(map) => self.metadata_map(map, field, MetaMap::Labels),
            None => BTreeMap::from([(default.0.to_string(), default.1.to_string())]),
        }
    }

    /// A Prometheus duration as written, or its default; an error with
    /// `code` (what the duration is for) if it is not one.
    fn duration(&mut self, code: Code, at: &[PathSegment], value: Option<&str>, default: &str) -> String {
        let v = value.unwrap_or(default).to_string();
        if let Err(why) = parse_duration(&v) {
            self.error_hint(
                code,
                at,
                format!("`{v}` is not a Prometheus duration: {why}"),
                "for example `30s`, `5m` or `1h30m`",
            );
        }
        v
    }

    /// Check every component's `metrics` and, when monitoring is on, set
    /// where Prometheus scrapes it.
    pub(super) fn attach_metrics(&mut self, components: &mut [Component], on: bool) {
        let p = &self.loaded.profile;
        let written: Vec<(String, profile::Metrics)> =
            p.components.iter().map(|(k, c)| (k.clone(), c.metrics.clone())).collect();
        for c in components.iter_mut() {
            let Some((_, m)) = written.iter().find(|(k, _)| *k == c.key) else { continue };
            let at = path!["components", &c.key, "metrics"];
            if m.enabled == Some(false) {
                continue;
            }
            // Only a component that says it serves metrics is scraped: a
            // target that does not exist would be down forever (and with it
            // the app-down alert and the stack's own TargetDown).
            let explicit = m.enabled == Some(true) || m.port.is_some() || m.path.is_some();
            if !explicit {
                continue;
            }
            let path = m.path.clone().unwrap_or_else(|| "/metrics".into());
            if !path.starts_with('/') || path.contains(char::is_whitespace) {
                self.error(
                    Code::Metrics,
                    &[&at[..], &path!["path"]].concat(),
                    format!("metrics path `{path}` must start with `/`"),
                );
            }
            let port = match &m.port {
                Some(name) => match c.ports.iter().find(|p| &p.name == name) {
                    Some(port) => Some(port),
                    None => {
                        let declared: Vec<String> = c.ports.iter().map(|p| format!("`{}`", p.name)).collect();
                        let hint = if declared.is_empty() {
                            "declare it under the component's `ports`".to_string()
                        } else {
                            format!("declared ports: {}", declared.join(", "))
                        };
                        self.error_hint(
                            Code::Metrics,
                            &[&at[..], &path!["port"]].concat(),
                            format!("metrics are served on port `{name}`, which the component does not declare"),
                            hint,
                        );
                        continue;
                    }
                },
                None if explicit && c.ports.is_empty() => {
                    self.error_hint(
                        Code::Metrics,
                        &at,
                        "metrics need a port, and the component declares none",
                        "declare it under the component's `ports`",
                    );
                    continue;
                }
                None if explicit && !c.ports.iter().any(Port::is_tcp) => {
                    self.error_hint(
                        Code::Metrics,
                        &at,
                        "metrics need a TCP port, and the component declares none",
                        "declare it under the component's `ports`",
                    );
                    continue;
                }
                None => c.ports.iter().find(|p| p.is_tcp()),
            };
            if let Some(p) = port.filter(|p| !p.is_tcp()) {
                self.error_hint(
                    Code::Metrics,
                    &[&at[..], &path!["port"]].concat(),
                    format!("Prometheus scrapes over TCP, but port `{}` is {} port", p.name, p.protocol_with_article()),
                    "serve metrics on a TCP port",
                );
                continue;
            }
            // A component without ports serves no metrics.
            let Some(port) = port else { continue };
            if !on {
                continue;
            }
            if c.service.is_none() || !port.expose {
                let why =
                    if c.service.is_none() { "the component has no Service" } else { "its Service does not expose it" };
                let here = if m.port.is_some() { [&at[..], &path!["port"]].concat() } else { at.to_vec() };
                self.error_hint(
                    Code::Metrics,
                    &here,
                    format!("Prometheus cannot scrape port `{}`: {why}", port.name),
                    "ServiceMonitors scrape through the Service: expose the port, or set `metrics: {enabled: false}`",
                );
                continue;
            }
            c.metrics = Some(Metrics { port: port.name.clone(), path });
        }
    }
}

/// What one alert's profile settings have in common.
struct AlertFields<'a> {
    enabled: Option<bool>,
    threshold: Option<f64>,
    for_: Option<&'a str>,
    severity: Option<profile::Severity>,
}

/// The allowed thresholds of an alert, with the default.
#[derive(Clone, Copy)]
enum Range {
    /// More than 0, at most 1.
    Fraction(f64),
    /// More than 0.
    Positive(f64),
}

/// A Prometheus duration (`1h30m`, `30s`, `500ms`, `0`) in milliseconds:
/// units y, w, d, h, m, s, ms, each at most once and in that order.
pub fn parse_duration(s: &str) -> Result<u64, String> {
    const UNITS: &[(&str, u64)] = &[
        ("y", 365 * 86_400_000),
        ("w", 7 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
        ("ms", 1),
    ];
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err("it is empty".into());
    }
    let mut rest = s;
    let mut next_unit = 0;
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err("expected a number followed by a unit (y, w, d, h, m, s, ms)".into());
        }
        let n: u64 = rest[..digits].parse().map_err(|_| "the number is too large".to_string())?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = &rest[..unit_len];
        let Some(i) = UNITS.iter().position(|(u, _)| *u == unit) else {
            return Err(if unit.is_empty() {
                "a number needs a unit (y, w, d, h, m, s, ms)".into()
            } else {
                format!("unknown unit `{unit}` (use y, w, d, h, m, s, ms)")
            });
        };
        if i < next_unit {
            return Err("units must go from the largest to the smallest, each once".into());
        }
        next_unit = i + 1;
        total = n.checked_mul(UNITS[i].1).and_then(|v| total.checked_add(v)).ok_or("it is too long")?;
        rest = &rest[unit_len..];
    }
    Ok(total)
}

/// Why `s` is not a Prometheus metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`).
pub fn metric_name(s: &str) -> Result<(), String> {
    let ok = s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':');
    if ok { Ok(()) } else { Err("must be letters, digits, `_` and `:`, not starting with a digit".into()) }
}

/// Why `s` is not a Prometheus label name (`[a-zA-Z_][a-zA-Z0-9_]*`, not
/// starting with the reserved `__`).
pub fn label_name(s: &str) -> Result<(), String> {
    let ok = s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !ok {
        return Err("must be letters, digits and `_`, not starting with a digit".into());
    }
    if s.starts_with("__") {
        return Err("starts with `__`, which Prometheus reserves".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        for (text, ms) in [("0", 0), ("30s", 30_000), ("1h30m", 5_400_000), ("500ms", 500), ("1d", 86_400_000)] {
            assert_eq!(parse_duration(text), Ok(ms), "{text}");
        }
        for bad in ["", "30", "1.5m", "5 m", "1m1h", "1s1s", "-1m", "1min", "m"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    /// The schema's duration format (`profile::schema`) agrees.
    #[test]
    fn durations_agree_with_the_schema() {
        use crate::profile::schema::{DURATION, tests::matches};
        for d in [
            "0",
            "30s",
            "1h30m",
            "500ms",
            "1d",
            "1y2w3d4h5m6s7ms",
            "0s",
            "",
            "30",
            "1.5m",
            "5 m",
            "1m1h",
            "1s1s",
            "-1m",
            "1min",
            "m",
            "ms",
            "1ms1s",
        ] {
            assert_eq!(matches(DURATION, d) && !d.is_empty(), parse_duration(d).is_ok(), "{d:?}");
        }
    }

    #[test]
    fn prometheus_names() {
        for good in ["http_requests_total", "job:rate5m", "_x"] {
            assert_eq!(metric_name(good), Ok(()), "{good}");
        }
        for bad in ["", "1x", "http-requests", "a b", "ä"] {
            assert!(metric_name(bad).is_err(), "{bad}");
        }
        assert_eq!(label_name("status_code"), Ok(()));
        for bad in ["", "job:x", "__name__", "9a"] {
            assert!(label_name(bad).is_err(), "{bad}");
        }
    }
}
