//! Monitoring objects for the Prometheus Operator and Grafana: a
//! ServiceMonitor per component that serves metrics (and per database
//! exporter), a PodMonitor per CloudNativePG cluster, one PrometheusRule with
//! the alerts that apply to what the app runs, and the dashboard ConfigMap;
//! plus the PostgreSQL exporter sidecar that `database` adds to its pods.
//!
//! PromQL is text: it is built here with `format!` from names the model
//! validated (metric and label names, durations, DNS names, finite
//! numbers). Values that are not names (the error-status regex, claim names
//! with dots) go through [`promql_string`] / [`regex_literal`]. The dashboard
//! JSON is built as a `serde_json::Value`, so it is valid by construction.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ConfigMap, Container, ContainerPort, EnvVar, HTTPGetAction, Probe, VolumeMount};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;

use super::workload::{hardened_container, resources};
use super::{label_selector, meta, selector_labels};
use crate::crd::prometheus::{
    Endpoint, PodMetricsEndpoint, PodMonitor, PodMonitorSpec, PrometheusRule, PrometheusRuleSpec, RelabelConfig, Rule,
    RuleGroup, ServiceMonitor, ServiceMonitorSpec,
};
use crate::model::{
    self, Alert, Alerts, App, Dashboard, DatabaseKind, EXPORTER_PORT, EXPORTER_PORT_NAME, Monitoring, Postgres, Scrape,
    naming,
};
use crate::object::Object;

/// The annotation Grafana's dashboard sidecar reads the folder from (set
/// `sidecar.dashboards.folderAnnotation` to it in kube-prometheus-stack).
pub const FOLDER_ANNOTATION: &str = "grafana_folder";

pub fn render(app: &App, out: &mut Vec<Object>) {
    let Some(m) = &app.monitoring else { return };
    if let Some(scrape) = &m.scrape {
        for c in &app.components {
            if let Some(metrics) = &c.metrics {
                out.push(service_monitor(app, scrape, &c.key, &c.name, &metrics.port, &metrics.path).into());
            }
        }
        for db in &app.databases {
            match &db.kind {
                DatabaseKind::InCluster(p) if p.exporter.is_some() => {
                    out.push(service_monitor(app, scrape, &db.key, &p.name, EXPORTER_PORT_NAME, "/metrics").into());
                }
                DatabaseKind::Operator(o) => out.push(pod_monitor(app, scrape, &db.key, &o.name).into()),
                _ => {}
            }
        }
    }
    if let Some(alerts) = &m.alerts {
        let targets = Monitored::of(app, m);
        let rules = rules(app, m, alerts, &targets);
        if !rules.is_empty() {
            let mut metadata = meta(app, &app.name, None);
            metadata.labels.get_or_insert_default().extend(alerts.labels.clone());
            let spec =
                PrometheusRuleSpec { groups: vec![RuleGroup { name: app.name.clone(), rules, ..Default::default() }] };
            out.push(PrometheusRule::new(metadata, spec).into());
        }
    }
    if let Some(d) = &m.dashboard {
        out.push(dashboard(app, m, d).into());
    }
}

/// Scrapes the named port of the Service called `service` (the relabelling
/// keeps only that Service: a StatefulSet's headless Service selects the
/// same pods).
fn service_monitor(app: &App, s: &Scrape, component: &str, service: &str, port: &str, path: &str) -> ServiceMonitor {
    let mut metadata = meta(app, service, Some(component));
    metadata.labels.get_or_insert_default().extend(s.labels.clone());
    let spec = ServiceMonitorSpec {
        selector: label_selector(selector_labels(app, component)),
        endpoints: vec![Endpoint {
            port: Some(port.to_string()),
            path: Some(path.to_string()),
            interval: Some(s.interval.clone()),
            scrape_timeout: Some(s.scrape_timeout.clone()),
            relabelings: vec![RelabelConfig {
                action: Some("keep".into()),
                source_labels: vec!["__meta_kubernetes_service_name".into()],
                regex: Some(app.name_in_text("Service", service)),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    };
    ServiceMonitor::new(metadata, spec)
}

/// Scrapes CloudNativePG's exporter on every instance of a cluster.
fn pod_monitor(app: &App, s: &Scrape, component: &str, cluster: &str) -> PodMonitor {
    let mut metadata = meta(app, cluster, Some(component));
    metadata.labels.get_or_insert_default().extend(s.labels.clone());
    let spec = PodMonitorSpec {
        selector: Some(label_selector(BTreeMap::from([(
            "cnpg.io/cluster".to_string(),
            app.name_in_text("Cluster", cluster),
        )]))),
        pod_metrics_endpoints: vec![PodMetricsEndpoint {
            port: Some(EXPORTER_PORT_NAME.into()),
            interval: Some(s.interval.clone()),
            scrape_timeout: Some(s.scrape_timeout.clone()),
            ..Default::default()
        }],
        ..Default::default()
    };
    PodMonitor::new(metadata, spec)
}

/// The postgres_exporter sidecar of an in-cluster database: it connects over
/// localhost as the database's user, with the password read from the
/// mounted credentials file (never an environment value).
pub fn postgres_exporter(app: &App, p: &Postgres, image: &str, password_dir: &str) -> Container {
    let env = |name: &str, value: String| EnvVar { name: name.into(), value: Some(value), value_from: None };
    let probe = |period: i32| Probe {
        http_get: Some(HTTPGetAction {
            path: Some("/".into()),
            port: IntOrString::String(EXPORTER_PORT_NAME.into()),
            ..Default::default()
        }),
        period_seconds: Some(period),
        timeout_seconds: Some(3),
        failure_threshold: Some(3),
        ..Default::default()
    };
    let mut c = hardened_container(app, "exporter", image);
    c.env = Some(vec![
        env("DATA_SOURCE_URI", format!("localhost:5432/{}?sslmode=disable", p.database)),
        env("DATA_SOURCE_USER", p.user.clone()),
        env("DATA_SOURCE_PASS_FILE", format!("{password_dir}/password")),
    ]);
    c.ports = Some(vec![ContainerPort {
        name: Some(EXPORTER_PORT_NAME.into()),
        container_port: i32::from(EXPORTER_PORT),
        protocol: Some("TCP".into()),
        ..Default::default()
    }]);
    c.liveness_probe = Some(probe(20));
    c.readiness_probe = Some(probe(10));
    c.resources = Some(resources(&exporter_resources()));
    c.volume_mounts = Some(vec![VolumeMount {
        name: "credentials".into(),
        mount_path: password_dir.into(),
        read_only: Some(true),
        ..Default::default()
    }]);
    c
}

/// Requests 10m/32Mi, limits 200m/128Mi.
fn exporter_resources() -> model::Resources {
    let map = |cpu: &str, mem: &str| {
        BTreeMap::from([("cpu".to_string(), cpu.to_string()), ("memory".to_string(), mem.to_string())])
    };
    model::Resources { requests: map("10m", "32Mi"), limits: map("200m", "128Mi") }
}

/// Seconds in hours and minutes, for messages (`114000` → `31h40m`).
fn human_seconds(s: u64) -> String {
    let (h, m) = (s / 3600, s % 3600 / 60);
    match (h, m) {
        (0, m) => format!("{m}m"),
        (h, 0) => format!("{h}h"),
        (h, m) => format!("{h}h{m}m"),
    }
}

/// What the app runs, as Prometheus sees it.
struct Monitored {
    /// Components scraped through their ServiceMonitor: (key, job), where
    /// the job is the Service's name.
    scraped: Vec<(String, String)>,
    workloads: Vec<MonitoredWorkload>,
    /// Regexes of the app's PersistentVolumeClaims.
    claims: Vec<String>,
}

/// A long-running workload, for the resource alerts.
struct MonitoredWorkload {
    /// A regex of its pods' names.
    pods: String,
    cpu_limit: bool,
    memory_limit: bool,
}

impl MonitoredWorkload {
    fn new(pods: String, (cpu_limit, memory_limit): (bool, bool)) -> MonitoredWorkload {
        MonitoredWorkload { pods, cpu_limit, memory_limit }
    }

    fn has_limit(&self, resource: LimitedResource) -> bool {
        match resource {
            LimitedResource::Cpu => self.cpu_limit,
            LimitedResource::Memory => self.memory_limit,
        }
    }
}

/// A resource whose use an alert compares with the container's limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LimitedResource {
    Cpu,
    Memory,
}

impl LimitedResource {
    /// Its name in `kube_pod_container_resource_limits`.
    fn name(self) -> &'static str {
        match self {
            LimitedResource::Cpu => "cpu",
            LimitedResource::Memory => "memory",
        }
    }
}

impl Monitored {
    fn of(app: &App, m: &Monitoring) -> Monitored {
        // A Deployment's pods are `<name>-<template hash>-<5 characters>`, a
        // StatefulSet's `<name>-<ordinal>`, CloudNativePG's instances (pods
        // and claims) `<cluster>-<serial>`.
        let deployment = |name: &str| {
            naming::deployment_pod(
                &regex_literal(&app.name_in_text("Deployment", name)),
                "[a-z0-9]{1,10}",
                "[a-z0-9]{5}",
            )
        };
        let ordinal =
            |name: &str| naming::statefulset_pod(&regex_literal(&app.name_in_text("StatefulSet", name)), "[0-9]+");
        let instance = |name: &str| naming::cnpg_instance(&regex_literal(&app.name_in_text("Cluster", name)), "[0-9]+");
        // The claims of a StatefulSet's pods.
        let claims_of =
            |kind: &str, name: &str| naming::statefulset_claim(&regex_literal(&app.name_in_text(kind, name)), "[0-9]+");
        let claim = |name: &str| regex_literal(&app.name_in_text("PersistentVolumeClaim", name));
        let limits = |r: &model::Resources| (r.limits.contains_key("cpu"), r.limits.contains_key("memory"));
        let mut workloads = Vec::new();
        let mut claims = Vec::new();
        let mut scraped = Vec::new();
        for c in &app.components {
            if c.metrics.is_some() && m.scrape.is_some() {
                scraped.push((c.key.clone(), app.name_in_text("Service", &c.name)));
            }
            let limits_of = limits(&c.resources);
            match &c.sqlite_volume {
                Some(_) => {
                    workloads.push(MonitoredWorkload::new(ordinal(&c.name), limits_of));
                    claims.push(claims_of("StatefulSet", &c.name));
                }
                None => workloads.push(MonitoredWorkload::new(deployment(&c.name), limits_of)),
            }
        }
        for db in &app.databases {
            match &db.kind {
                DatabaseKind::InCluster(p) => {
                    let limits_of = limits(&p.resources);
                    workloads.push(MonitoredWorkload::new(ordinal(&p.name), limits_of));
                    match &p.claim {
                        // A claim kgen does not create keeps its name.
                        Some(existing) if !p.create_claim => claims.push(regex_literal(existing)),
                        Some(created) => claims.push(claim(created)),
                        None => claims.push(claims_of("StatefulSet", &p.name)),
                    }
                    if let Some(b) = &p.backup {
                        claims.push(claim(&b.name));
                    }
                }
                DatabaseKind::Operator(o) => {
                    let limits_of = limits(&o.resources);
                    workloads.push(MonitoredWorkload::new(instance(&o.name), limits_of));
                    claims.push(instance(&o.name));
                }
                DatabaseKind::Sqlite(s) => {
                    if let Some(b) = &s.backup {
                        claims.push(claim(&b.name));
                    }
                }
                DatabaseKind::Managed(_) => {}
            }
        }
        if let Some(cache) = &app.cache {
            let limits_of = limits(&cache.resources);
            workloads.push(MonitoredWorkload::new(deployment(&cache.name), limits_of));
        }
        Monitored { scraped, workloads, claims }
    }

    /// A regex matching the pods of the workloads `keep` selects.
    fn pods(&self, keep: impl Fn(&MonitoredWorkload) -> bool) -> Option<String> {
        let list: Vec<&str> = self.workloads.iter().filter(|w| keep(w)).map(|w| w.pods.as_str()).collect();
        (!list.is_empty()).then(|| list.join("|"))
    }
}

/// The alerting rules that apply to what the app runs.
fn rules(app: &App, m: &Monitoring, a: &Alerts, t: &Monitored) -> Vec<Rule> {
    let ns = &app.namespace_in_text();
    let r = RuleMaker { app, ns, prefix: camel_case(&app.name) };
    let mut rules = Vec::new();
    down_rules(&r, a, t, &mut rules);
    database_down_rules(&r, m, a, &mut rules);
    wal_archive_rules(&r, m, a, &mut rules);
    backup_rules(&r, a, &mut rules);
    http_rules(&r, m, a, t, &mut rules);
    resource_rules(&r, a, t, &mut rules);
    volume_rules(&r, a, t, &mut rules);
    rules
}

/// What every alert rule of the app shares: its namespace as PromQL
/// text, and the prefix of its alert names.
struct RuleMaker<'a> {
    app: &'a App,
    ns: &'a str,
    prefix: String,
}

impl RuleMaker<'_> {
    fn rule(&self, name: &str, alert: &Alert, expr: String, summary: String, description: String) -> Rule {
        Rule {
            alert: Some(format!("{}{name}", self.prefix)),
            expr,
            for_: Some(alert.for_.clone()),
            labels: BTreeMap::from([("severity".to_string(), alert.severity.to_string())]),
            annotations: BTreeMap::from([("summary".to_string(), summary), ("description".to_string(), description)]),
            ..Default::default()
        }
    }
}

/// `…Down`: each component with no pod up (its metrics targets when scraped).
fn down_rules(r: &RuleMaker, a: &Alerts, t: &Monitored, rules: &mut Vec<Rule>) {
    let (app, ns) = (r.app, r.ns);
    if let Some(alert) = &a.app_down {
        for c in &app.components {
            let scraped = t.scraped.iter().find(|(k, _)| *k == c.key);
            let workload = app.name_in_text(super::scaling::workload_kind(c), &c.name);
            let (expr, how) = if let Some((_, job)) = scraped {
                let up = format!("up{{namespace=\"{ns}\", job=\"{job}\"}}");
                (
                    format!("sum by (namespace, job) ({up}) == 0\nor\nabsent({up})"),
                    format!("No metrics target of {ns}/{job} has been up for {}.", alert.for_),
                )
            } else if c.sqlite_volume.is_some() {
                (
                    format!(
                        "kube_statefulset_status_replicas_ready{{namespace=\"{ns}\", statefulset=\"{workload}\"}} < 1"
                    ),
                    format!("No pod of {ns}/{workload} has been ready for {}.", alert.for_),
                )
            } else {
                (
                    format!(
                        "kube_deployment_status_replicas_available{{namespace=\"{ns}\", deployment=\"{workload}\"}} < 1"
                    ),
                    format!("No pod of {ns}/{workload} has been available for {}.", alert.for_),
                )
            };
            let mut r = r.rule("Down", alert, expr, format!("{workload} is down"), how);
            r.labels.insert("component".into(), c.key.clone());
            rules.push(r);
        }
    }
}

/// `…DatabaseDown`: each database kgen runs, by its exporter or operator when scraped.
fn database_down_rules(r: &RuleMaker, m: &Monitoring, a: &Alerts, rules: &mut Vec<Rule>) {
    let (app, ns) = (r.app, r.ns);
    if let Some(alert) = &a.database_down {
        for db in &app.databases {
            let (name, expr, how) = match &db.kind {
                DatabaseKind::InCluster(p) if p.exporter.is_some() && m.scrape.is_some() => {
                    // The exporter's job is the Service's name.
                    let job = app.name_in_text("Service", &p.name);
                    let pg_up = format!("pg_up{{namespace=\"{ns}\", job=\"{job}\"}}");
                    (
                        app.name_in_text("StatefulSet", &p.name),
                        format!("max by (namespace, job) ({pg_up}) < 1\nor\nabsent({pg_up})"),
                        format!(
                            "The exporter of {ns}/{job} has not reached PostgreSQL, or has not been scraped, for {}.",
                            alert.for_
                        ),
                    )
                }
                DatabaseKind::InCluster(p) => {
                    let name = app.name_in_text("StatefulSet", &p.name);
                    (
                        name.clone(),
                        format!(
                            "kube_statefulset_status_replicas_ready{{namespace=\"{ns}\", statefulset=\"{name}\"}} < 1"
                        ),
                        format!("The pod of {ns}/{name} has not been ready for {}.", alert.for_),
                    )
                }
                DatabaseKind::Operator(o) if m.scrape.is_some() => {
                    let name = app.name_in_text("Cluster", &o.name);
                    let up = format!("cnpg_collector_up{{namespace=\"{ns}\", pod=~\"{name}-[0-9]+\"}}");
                    (
                        name.clone(),
                        format!("max by (namespace) ({up}) < 1\nor\nabsent({up})"),
                        format!(
                            "No instance of {ns}/{name} has reported PostgreSQL up, or been scraped, for {}.",
                            alert.for_
                        ),
                    )
                }
                DatabaseKind::Operator(o) => {
                    let name = app.name_in_text("Cluster", &o.name);
                    (
                        name.clone(),
                        format!(
                            "sum by (namespace) (kube_pod_status_ready{{namespace=\"{ns}\", pod=~\"{name}-[0-9]+\", condition=\"true\"}}) < 1"
                        ),
                        format!("No instance of {ns}/{name} has been ready for {}.", alert.for_),
                    )
                }
                DatabaseKind::Sqlite(_) | DatabaseKind::Managed(_) => continue,
            };
            let mut r = r.rule("DatabaseDown", alert, expr, format!("database {name} is down"), how);
            r.labels.insert("database".into(), name);
            rules.push(r);
        }
    }
}

/// `…WalArchiveFailing`: failed WAL archiving, from the exporter.
fn wal_archive_rules(r: &RuleMaker, m: &Monitoring, a: &Alerts, rules: &mut Vec<Rule>) {
    let (app, ns) = (r.app, r.ns);
    if let Some(alert) = &a.wal_archive
        && m.scrape.is_some()
    {
        for db in &app.databases {
            let DatabaseKind::InCluster(p) = &db.kind else { continue };
            if p.wal_archive.is_none() || p.exporter.is_none() {
                continue;
            }
            let job = app.name_in_text("Service", &p.name);
            let name = app.name_in_text("StatefulSet", &p.name);
            let failed = format!("pg_stat_archiver_failed_count{{namespace=\"{ns}\", job=\"{job}\"}}");
            let mut r = r.rule(
                "WalArchiveFailing",
                alert,
                format!("max by (namespace, job) (increase({failed}[10m])) > 0"),
                format!("WAL archiving of {name} fails"),
                format!(
                    "{ns}/{name} failed to archive WAL segments in the last 10 minutes; they are kept until archived and fill its volume."
                ),
            );
            r.labels.insert("database".into(), name);
            rules.push(r);
        }
    }
}

/// `…BackupFailed` and `…BackupOverdue`: each backup CronJob.
fn backup_rules(r: &RuleMaker, a: &Alerts, rules: &mut Vec<Rule>) {
    let (app, ns) = (r.app, r.ns);
    if let Some(alert) = &a.backup {
        for b in app.databases.iter().filter_map(|db| match &db.kind {
            DatabaseKind::Sqlite(s) => s.backup.as_ref(),
            DatabaseKind::InCluster(p) => p.backup.as_ref(),
            DatabaseKind::Managed(_) | DatabaseKind::Operator(_) => None,
        }) {
            let name = app.name_in_text("CronJob", &b.name);
            let cron_job = format!("namespace=\"{ns}\", cronjob=\"{name}\"");
            // A Job of the CronJob is `<name>-<minutes since the epoch>`; a
            // failed one is kept (failedJobsHistoryLimit) until its TTL.
            let jobs =
                format!("namespace=\"{ns}\", job_name=~\"{}\"", naming::cron_job_job(&regex_literal(&name), "[0-9]+"));
            let mut failed = r.rule(
                "BackupFailed",
                alert,
                format!("max by (namespace, job_name) (kube_job_status_failed{{{jobs}}}) > 0"),
                format!("backup {name} failed"),
                format!(
                    "Job {ns}/{{{{ $labels.job_name }}}} failed: `kubectl -n {ns} logs job/{{{{ $labels.job_name }}}}` says why."
                ),
            );
            failed.labels.insert("cronjob".into(), name.clone());
            rules.push(failed);
            // Overdue: no success for the longest gap of the schedule plus a
            // run's deadline and the hour a late start is allowed; a CronJob
            // that never succeeded counts from its creation.
            let overdue = b.longest_gap_seconds + b.active_deadline_seconds.unsigned_abs() + 3600;
            let mut stale = r.rule(
                "BackupOverdue",
                alert,
                format!(
                    "time() - max by (namespace, cronjob) (kube_cronjob_status_last_successful_time{{{cron_job}}}) > {overdue}\nor\n(time() - max by (namespace, cronjob) (kube_cronjob_created{{{cron_job}}}) > {overdue}\n  unless max by (namespace, cronjob) (kube_cronjob_status_last_successful_time{{{cron_job}}}) > 0)"
                ),
                format!("backup {name} is overdue"),
                format!(
                    "No run of {ns}/{name} has succeeded for more than {} (its longest interval, deadline and an hour's grace).",
                    human_seconds(overdue)
                ),
            );
            stale.labels.insert("cronjob".into(), name);
            rules.push(stale);
        }
    }
}

/// `…HighErrorRate` and `…HighLatency`: each scraped component's HTTP metrics.
fn http_rules(r: &RuleMaker, m: &Monitoring, a: &Alerts, t: &Monitored, rules: &mut Vec<Rule>) {
    let ns = r.ns;
    let requests = &m.http.requests;
    if let Some(alert) = &a.error_rate {
        let status = &m.http.status_label;
        let errors = promql_string(&m.http.error_status);
        let window = &a.error_rate_window;
        for (key, job) in &t.scraped {
            let sel = format!("namespace=\"{ns}\", job=\"{job}\"");
            let mut r = r.rule(
                "HighErrorRate",
                alert,
                format!(
                    "sum by (namespace, job) (rate({requests}{{{sel}, {status}=~{errors}}}[{window}]))\n  /\nsum by (namespace, job) (rate({requests}{{{sel}}}[{window}]))\n  > {}",
                    alert.threshold
                ),
                format!("{job} fails too many requests"),
                format!(
                    "{{{{ $value | humanizePercentage }}}} of the requests to {ns}/{job} failed over {window} (threshold {}%).",
                    percent(alert.threshold)
                ),
            );
            r.labels.insert("component".into(), key.clone());
            rules.push(r);
        }
    }
    if let Some(alert) = &a.latency {
        let histogram = &m.http.duration;
        let q = a.latency_quantile;
        let window = &a.latency_window;
        for (key, job) in &t.scraped {
            let mut r = r.rule(
                "HighLatency",
                alert,
                format!(
                    "histogram_quantile({q}, sum by (namespace, job, le) (rate({histogram}_bucket{{namespace=\"{ns}\", job=\"{job}\"}}[{window}])))\n  > {}",
                    alert.threshold
                ),
                format!("{job} responds slowly"),
                format!(
                    "The {} latency of {ns}/{job} is {{{{ $value | humanizeDuration }}}} (threshold {}s).",
                    quantile_name(q),
                    alert.threshold
                ),
            );
            r.labels.insert("component".into(), key.clone());
            rules.push(r);
        }
    }
}

/// `…HighCpu` and `…HighMemory`: containers near their limits.
fn resource_rules(r: &RuleMaker, a: &Alerts, t: &Monitored, rules: &mut Vec<Rule>) {
    let ns = r.ns;
    for (alert, name, resource, usage, what) in [
        (
            &a.cpu,
            "HighCpu",
            LimitedResource::Cpu,
            "rate(container_cpu_usage_seconds_total{SEL, container!=\"\", container!=\"POD\"}[5m])",
            "CPU",
        ),
        (
            &a.memory,
            "HighMemory",
            LimitedResource::Memory,
            "container_memory_working_set_bytes{SEL, container!=\"\", container!=\"POD\"}",
            "memory",
        ),
    ] {
        let Some(alert) = alert else { continue };
        let pods = t.pods(|w| w.has_limit(resource));
        let resource = resource.name();
        let Some(pods) = pods else { continue };
        let sel = format!("namespace=\"{ns}\", pod=~\"{pods}\"");
        let usage = usage.replace("SEL", &sel);
        rules.push(r.rule(
            name,
            alert,
            format!(
                "sum by (namespace, pod, container) ({usage})\n  /\nsum by (namespace, pod, container) (kube_pod_container_resource_limits{{{sel}, resource=\"{resource}\"}})\n  > {}",
                alert.threshold
            ),
            format!("{{{{ $labels.pod }}}} uses most of its {what} limit"),
            format!(
                "Container {{{{ $labels.container }}}} of {ns}/{{{{ $labels.pod }}}} uses {{{{ $value | humanizePercentage }}}} of its {what} limit (threshold {}%).",
                percent(alert.threshold)
            ),
        ));
    }
}

/// `…VolumeFillingUp`: the app's claims.
fn volume_rules(r: &RuleMaker, a: &Alerts, t: &Monitored, rules: &mut Vec<Rule>) {
    let ns = r.ns;
    if let Some(alert) = &a.pvc_usage
        && !t.claims.is_empty()
    {
        let sel = format!("namespace=\"{ns}\", persistentvolumeclaim=~\"{}\"", t.claims.join("|"));
        rules.push(r.rule(
            "VolumeFillingUp",
            alert,
            format!(
                "max by (namespace, persistentvolumeclaim) (kubelet_volume_stats_used_bytes{{{sel}}})\n  /\nmax by (namespace, persistentvolumeclaim) (kubelet_volume_stats_capacity_bytes{{{sel}}})\n  > {}",
                alert.threshold
            ),
            "PVC {{ $labels.persistentvolumeclaim }} is filling up".to_string(),
            format!(
                "{ns}/{{{{ $labels.persistentvolumeclaim }}}} is {{{{ $value | humanizePercentage }}}} full (threshold {}%).",
                percent(alert.threshold)
            ),
        ));
    }
}

/// The dashboard ConfigMap: one JSON file, labelled for Grafana's sidecar.
fn dashboard(app: &App, m: &Monitoring, d: &Dashboard) -> ConfigMap {
    let t = Monitored::of(app, m);
    let mut metadata = meta(app, &d.name, None);
    metadata.labels.get_or_insert_default().extend(d.labels.clone());
    if let Some(folder) = &d.folder {
        metadata.annotations.get_or_insert_default().insert(FOLDER_ANNOTATION.into(), folder.clone());
    }
    let json = serde_json::to_string_pretty(&dashboard_json(app, m, d, &t)).expect("JSON values serialize");
    ConfigMap {
        metadata,
        data: Some(BTreeMap::from([(format!("{}.json", app.name), json + "\n")])),
        ..Default::default()
    }
}

/// A panel: (title, unit, [(query, legend)]).
type PanelSpec = (String, String, Vec<(String, String)>);

fn dashboard_json<'a>(app: &'a App, m: &Monitoring, d: &'a Dashboard, t: &Monitored) -> GrafanaDashboard<'a> {
    let ns = "namespace=\"$namespace\"";
    let mut panels: Vec<PanelSpec> = Vec::new();
    let text = |s: &str| s.to_string();
    if !t.scraped.is_empty() {
        let jobs = t.scraped.iter().map(|(_, j)| j.as_str()).collect::<Vec<_>>().join("|");
        let sel = format!("{ns}, job=~\"{jobs}\"");
        let requests = &m.http.requests;
        let status = &m.http.status_label;
        let errors = promql_string(&m.http.error_status);
        let rate = |filter: &str| format!("sum by (job) (rate({requests}{{{filter}}}[$__rate_interval]))");
        panels.push((text("Request rate"), text("reqps"), vec![(rate(&sel), text("{{job}}"))]));
        panels.push((
            text("Error rate"),
            text("percentunit"),
            vec![(format!("{}\n/\n{}", rate(&format!("{sel}, {status}=~{errors}")), rate(&sel)), text("{{job}}"))],
        ));
        let histogram = &m.http.duration;
        let quantiles = [0.5, 0.95, 0.99]
            .iter()
            .map(|q| {
                (
                    format!(
                        "histogram_quantile({q}, sum by (job, le) (rate({histogram}_bucket{{{sel}}}[$__rate_interval])))"
                    ),
                    format!("{} {{{{job}}}}", quantile_name(*q)),
                )
            })
            .collect();
        panels.push((text("Latency (p50, p95, p99)"), text("s"), quantiles));
    }
    if let Some(pods) = t.pods(|_| true) {
        let sel = format!("{ns}, pod=~\"{pods}\", container!=\"\", container!=\"POD\"");
        panels.push((
            text("CPU (cores)"),
            text("short"),
            vec![(
                format!("sum by (pod) (rate(container_cpu_usage_seconds_total{{{sel}}}[$__rate_interval]))"),
                text("{{pod}}"),
            )],
        ));
        panels.push((
            text("Memory (working set)"),
            text("bytes"),
            vec![(format!("sum by (pod) (container_memory_working_set_bytes{{{sel}}})"), text("{{pod}}"))],
        ));
        panels.push((
            text("Container restarts (1h)"),
            text("short"),
            vec![(
                format!(
                    "sum by (pod) (increase(kube_pod_container_status_restarts_total{{{ns}, pod=~\"{pods}\"}}[1h]))"
                ),
                text("{{pod}}"),
            )],
        ));
    }
    if !t.claims.is_empty() {
        let sel = format!("{ns}, persistentvolumeclaim=~\"{}\"", t.claims.join("|"));
        panels.push((
            text("Volume usage"),
            text("percentunit"),
            vec![(
                format!(
                    "max by (persistentvolumeclaim) (kubelet_volume_stats_used_bytes{{{sel}}})\n/\nmax by (persistentvolumeclaim) (kubelet_volume_stats_capacity_bytes{{{sel}}})"
                ),
                text("{{persistentvolumeclaim}}"),
            )],
        ));
    }
    for p in &d.panels {
        let queries = p.queries.iter().map(|(q, legend)| (profile_promql(app, q), legend.clone())).collect();
        panels.push((p.title.clone(), p.unit.clone(), queries));
    }
    let panels = panels
        .into_iter()
        .enumerate()
        .map(|(i, (title, unit, queries))| GrafanaPanel {
            id: i + 1,
            type_: "timeseries",
            title,
            datasource: Datasource { type_: "prometheus", uid: "${datasource}" },
            grid_pos: GridPos { h: 8, w: 12, x: (i % 2) * 12, y: (i / 2) * 8 },
            field_config: FieldConfig { defaults: FieldDefaults { unit }, overrides: [] },
            options: PanelOptions { tooltip: Tooltip { mode: "multi", sort: "desc" } },
            targets: queries
                .into_iter()
                .enumerate()
                .map(|(j, (expr, legend))| GrafanaTarget { ref_id: ref_id(j), expr, legend_format: legend })
                .collect(),
        })
        .collect();
    GrafanaDashboard {
        uid: dashboard_uid(app),
        title: &d.title,
        tags: ["kgen", &app.name],
        editable: true,
        schema_version: 39,
        time: TimeRange { from: "now-6h", to: "now" },
        refresh: "30s",
        templating: Templating {
            list: [
                TemplateVariable {
                    name: "datasource",
                    label: Some("Data source"),
                    type_: "datasource",
                    query: "prometheus".into(),
                    current: Some(BTreeMap::new()),
                    hide: 0,
                },
                TemplateVariable {
                    name: "namespace",
                    label: None,
                    type_: "constant",
                    query: app.namespace_in_text(),
                    current: None,
                    hide: 2,
                },
            ],
        },
        panels,
    }
}

/// A Grafana dashboard (the fields kgen writes, in Grafana's JSON order).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GrafanaDashboard<'a> {
    uid: String,
    title: &'a str,
    tags: [&'a str; 2],
    editable: bool,
    schema_version: u32,
    time: TimeRange,
    refresh: &'static str,
    templating: Templating,
    panels: Vec<GrafanaPanel>,
}

#[derive(Serialize)]
struct TimeRange {
    from: &'static str,
    to: &'static str,
}

#[derive(Serialize)]
struct Templating {
    list: [TemplateVariable; 2],
}

#[derive(Serialize)]
struct TemplateVariable {
    name: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<&'static str>,
    #[serde(rename = "type")]
    type_: &'static str,
    query: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    current: Option<BTreeMap<String, String>>,
    hide: u8,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GrafanaPanel {
    id: usize,
    #[serde(rename = "type")]
    type_: &'static str,
    title: String,
    datasource: Datasource,
    grid_pos: GridPos,
    field_config: FieldConfig,
    options: PanelOptions,
    targets: Vec<GrafanaTarget>,
}

#[derive(Serialize)]
struct Datasource {
    #[serde(rename = "type")]
    type_: &'static str,
    uid: &'static str,
}

#[derive(Serialize)]
struct GridPos {
    h: usize,
    w: usize,
    x: usize,
    y: usize,
}

#[derive(Serialize)]
struct FieldConfig {
    defaults: FieldDefaults,
    overrides: [(); 0],
}

#[derive(Serialize)]
struct FieldDefaults {
    unit: String,
}

#[derive(Serialize)]
struct PanelOptions {
    tooltip: Tooltip,
}

#[derive(Serialize)]
struct Tooltip {
    mode: &'static str,
    sort: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GrafanaTarget {
    ref_id: String,
    expr: String,
    legend_format: String,
}

/// PromQL the profile writes (a KEDA query, a dashboard panel), with the
/// label matchers whose value is the app's namespace (`namespace="shop"`),
/// an object of the bundle (`service="web"`, `statefulset="db"`, …), or a
/// claim or pod of one of its StatefulSets (`data-db-0`, `db-0`), written
/// through [`App::name_in_text`]: as they are, unless rendering marks
/// references.
pub fn profile_promql(app: &App, query: &str) -> String {
    if app.text_refs == model::refs::TextRefs::Plain {
        return query.to_string();
    }
    let objects = named_objects(app);
    let named = |kind: &str, name: &str| objects.iter().any(|(k, n)| *k == kind && *n == name);
    // A pod `<StatefulSet>-<ordinal>`: the StatefulSet, marked, and the
    // ordinal.
    let ordinal = |name: &str| {
        let (stem, n) = name.rsplit_once('-')?;
        (named("StatefulSet", stem) && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            .then(|| (app.name_in_text("StatefulSet", stem), n.to_string()))
    };
    let mut out = String::with_capacity(query.len());
    let mut rest = query;
    while let Some(at) = rest.find('"') {
        let (before, after) = rest.split_at(at);
        out.push_str(before);
        // The string's end: the next `"` that no `\` escapes.
        let body = &after[1..];
        let mut escaped = false;
        let Some(end) = body.char_indices().find_map(|(i, c)| {
            let closes = c == '"' && !escaped;
            escaped = c == '\\' && !escaped;
            closes.then_some(i)
        }) else {
            out.push_str(after);
            return out;
        };
        let value = &body[..end];
        // `label="value"`, or `=~`, `!=`, `!~`.
        let lhs = before.trim_end();
        let operand = ["=~", "!~", "!=", "="].iter().find_map(|op| lhs.strip_suffix(op));
        let label = operand.map(|l| {
            let l = l.trim_end();
            &l[l.trim_end_matches(|c: char| c.is_ascii_alphanumeric() || c == '_').len()..]
        });
        let kind = match label {
            Some("service" | "job") => "Service",
            Some("deployment") => "Deployment",
            Some("statefulset") => "StatefulSet",
            Some("cronjob") => "CronJob",
            Some("persistentvolumeclaim") => "PersistentVolumeClaim",
            _ => "",
        };
        let written = match label {
            _ if value.contains('\\') => None,
            Some("namespace") if value == app.namespace => Some(app.namespace_in_text()),
            _ if named(kind, value) => Some(app.name_in_text(kind, value)),
            Some("pod") => ordinal(value).map(|(sts, n)| naming::statefulset_pod(&sts, &n)),
            Some("persistentvolumeclaim") => value
                .strip_prefix(naming::DATA_CLAIM_TEMPLATE)
                .and_then(|v| v.strip_prefix('-'))
                .and_then(ordinal)
                .map(|(sts, n)| naming::statefulset_claim(&sts, &n)),
            _ => None,
        };
        out.push('"');
        out.push_str(written.as_deref().unwrap_or(value));
        out.push('"');
        rest = &body[end + 1..];
    }
    out.push_str(rest);
    out
}

/// The objects of the bundle that PromQL may name, by kind: Services,
/// workloads, backup CronJobs and the claims kgen creates.
fn named_objects(app: &App) -> Vec<(&'static str, &str)> {
    let mut out = Vec::new();
    for c in &app.components {
        if c.service.is_some() {
            out.push(("Service", c.name.as_str()));
        }
        out.push((super::scaling::workload_kind(c), c.name.as_str()));
    }
    for db in &app.databases {
        let backup = match &db.kind {
            DatabaseKind::InCluster(p) => {
                out.extend([("Service", p.name.as_str()), ("StatefulSet", p.name.as_str())]);
                if let Some(claim) = p.claim.as_deref().filter(|_| p.create_claim) {
                    out.push(("PersistentVolumeClaim", claim));
                }
                p.backup.as_ref()
            }
            DatabaseKind::Sqlite(s) => s.backup.as_ref(),
            DatabaseKind::Operator(_) | DatabaseKind::Managed(_) => None,
        };
        if let Some(b) = backup {
            out.extend([("CronJob", b.name.as_str()), ("CronJob", b.restore_name.as_str())]);
            out.push(("PersistentVolumeClaim", b.name.as_str()));
        }
    }
    if let Some(cache) = &app.cache {
        out.extend([("Service", cache.name.as_str()), ("Deployment", cache.name.as_str())]);
    }
    out
}

/// A stable dashboard uid (Grafana allows 40 characters): two apps of the
/// same name in different namespaces get different ones.
fn dashboard_uid(app: &App) -> String {
    let hash = super::sha256_hex(format!("{}/{}", app.namespace, app.name).as_bytes());
    format!("kgen-{}", &hash[..16])
}

/// Grafana's query ids: A, B, …, Z, then A1, B1, ….
fn ref_id(i: usize) -> String {
    let letter = char::from(b'A' + (i % 26) as u8);
    if i < 26 { letter.to_string() } else { format!("{letter}{}", i / 26) }
}

/// `timeservice` → `Timeservice`, `my-app` → `MyApp` (alert names are
/// Prometheus metric names; an app name is a DNS-1035 label).
pub fn camel_case(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map(|f| f.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect()
}

/// A PromQL double-quoted string literal.
pub fn promql_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A name as a regular expression matching only itself, ready to go inside
/// a PromQL double-quoted string (regex escapes are doubled).
pub fn regex_literal(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if ".+*?()|[]{}^$\\".contains(c) {
            out.push_str("\\\\");
        }
        out.push(c);
    }
    out
}

/// 0.1 → "10", 0.85 → "85".
fn percent(fraction: f64) -> String {
    let p = (fraction * 10000.0).round() / 100.0;
    format!("{p}")
}

/// 0.95 → "p95", 0.999 → "p99.9".
fn quantile_name(q: f64) -> String {
    format!("p{}", percent(q))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_literals() {
        assert_eq!(camel_case("timeservice"), "Timeservice");
        assert_eq!(camel_case("my-app-2"), "MyApp2");
        assert_eq!(promql_string(r#"5..|"x\"#), r#""5..|\"x\\""#);
        assert_eq!(regex_literal("data.v1"), r"data\\.v1");
        assert_eq!(percent(0.1), "10");
        assert_eq!(quantile_name(0.999), "p99.9");
        assert_eq!(ref_id(0), "A");
        assert_eq!(ref_id(27), "B1");
    }
}
