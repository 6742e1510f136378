//! A rendered bundle as the node sees it: kgen's `-o json` List read into
//! k8s-openapi types (the kinds that run or feed pods), and the values of
//! Secrets, from the bundle when it creates them and from `SecretValues`
//! when it only references them (the user creates those).
//!
//! It does not run anything.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, PodSpec, PodTemplateSpec, Secret, Service};
use serde::de::DeserializeOwned;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::support;

/// One shipped profile in one environment.
#[derive(Clone, Debug)]
pub struct Target {
    pub profile: &'static str,
    pub env: Option<&'static str>,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.env {
            Some(env) => write!(f, "{} --env {env}", self.profile),
            None => write!(f, "{}", self.profile),
        }
    }
}

/// The objects of a bundle that the node uses.
pub struct Bundle {
    pub target: Target,
    pub deployments: Vec<Deployment>,
    pub statefulsets: Vec<StatefulSet>,
    pub jobs: Vec<Job>,
    pub cronjobs: Vec<CronJob>,
    pub services: Vec<Service>,
    pub secrets: Vec<Secret>,
    pub configmaps: Vec<ConfigMap>,
    pub claims: Vec<PersistentVolumeClaim>,
    /// Every object as kgen printed it.
    pub items: Vec<Value>,
}

/// Render `target` with `-o json`. The environment variables kgen reads for
/// created Secrets get the values `secrets` gives them.
pub fn render(target: &Target, secrets: &SecretValues) -> Bundle {
    let mut args = vec!["render", target.profile, "-o", "json"];
    if let Some(env) = target.env {
        args.extend(["--env", env]);
    }
    let mut cmd = support::kgen();
    // Another kgen build (say, a release's) can be put through the same
    // scenarios: KGEN_RUNTIME_KGEN=/path/to/kgen.
    if let Some(other) = std::env::var_os("KGEN_RUNTIME_KGEN") {
        let mut replaced = std::process::Command::new(other);
        replaced.current_dir(support::repo()).env("NO_COLOR", "1");
        cmd = replaced;
    }
    cmd.args(&args);
    for (var, _) in support::PROFILE_ENV {
        cmd.env(var, secrets.render_env_value(var));
    }
    let out = cmd.output().expect("kgen runs");
    assert!(out.status.success(), "kgen {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let list: Value = serde_json::from_slice(&out.stdout).expect("kgen -o json prints JSON");
    assert_eq!(list["kind"], "List", "kgen -o json prints a v1 List");
    parse(target.clone(), list["items"].as_array().expect("a List has items").clone())
}

/// A bundle from objects as JSON (for tests of the node itself).
pub fn parse(target: Target, items: Vec<Value>) -> Bundle {
    let mut bundle = Bundle {
        target,
        deployments: vec![],
        statefulsets: vec![],
        jobs: vec![],
        cronjobs: vec![],
        services: vec![],
        secrets: vec![],
        configmaps: vec![],
        claims: vec![],
        items: vec![],
    };
    for item in &items {
        match item["kind"].as_str().unwrap_or_default() {
            "Deployment" => bundle.deployments.push(typed(item)),
            "StatefulSet" => bundle.statefulsets.push(typed(item)),
            "Job" => bundle.jobs.push(typed(item)),
            "CronJob" => bundle.cronjobs.push(typed(item)),
            "Service" => bundle.services.push(typed(item)),
            "Secret" => bundle.secrets.push(typed(item)),
            "ConfigMap" => bundle.configmaps.push(typed(item)),
            "PersistentVolumeClaim" => bundle.claims.push(typed(item)),
            _ => {}
        }
    }
    bundle.items = items;
    bundle
}

fn typed<T: DeserializeOwned>(item: &Value) -> T {
    serde_json::from_value(item.clone())
        .unwrap_or_else(|e| panic!("{}/{} does not read as its type: {e}", item["kind"], item["metadata"]["name"]))
}

/// What runs a pod: the kind and name of its controller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Controller {
    Deployment,
    StatefulSet,
    Job,
    CronJob,
}

/// A pod template with where it comes from.
#[derive(Clone)]
pub struct PodSource {
    pub controller: Controller,
    pub name: String,
    pub namespace: String,
    pub template: PodTemplateSpec,
    /// StatefulSet claim templates, by template name.
    pub claim_templates: Vec<String>,
    /// A Job's `activeDeadlineSeconds`.
    pub active_deadline: Option<i64>,
    /// A suspended CronJob: run by hand (`kubectl create job --from=cronjob/…`).
    pub suspended: bool,
    /// The controller's Argo CD sync wave (0 when it has none).
    pub sync_wave: i32,
}

impl PodSource {
    pub fn spec(&self) -> &PodSpec {
        self.template.spec.as_ref().expect("a pod template has a spec")
    }

    /// The name the pod gets: `<sts>-0`, a Deployment's `<name>-<hash>-<id>`,
    /// a Job's `<name>-<id>`, a CronJob's `<name>-<scheduled>-<id>`.
    pub fn pod_name(&self) -> String {
        match self.controller {
            Controller::StatefulSet => format!("{}-0", self.name),
            Controller::Deployment => format!("{}-5d8f9c7b6-k2x7q", self.name),
            Controller::Job => format!("{}-w4m9z", self.name),
            Controller::CronJob => format!("{}-29433600-w4m9z", self.name),
        }
    }

    pub fn describe(&self) -> String {
        format!("{:?} {}", self.controller, self.name)
    }
}

impl Bundle {
    /// The pod template of the Deployment, StatefulSet, Job or CronJob named `name`.
    pub fn pod_source(&self, name: &str) -> PodSource {
        self.pod_sources().into_iter().find(|s| s.name == name).unwrap_or_else(|| {
            let names: Vec<String> = self.pod_sources().iter().map(PodSource::describe).collect();
            panic!("{}: no workload named {name}; the bundle has {names:?}", self.target)
        })
    }

    /// Every workload's pod template, in bundle order by kind.
    pub fn pod_sources(&self) -> Vec<PodSource> {
        let mut out = vec![];
        for d in &self.deployments {
            let spec = d.spec.as_ref().expect("a Deployment has a spec");
            out.push(source(Controller::Deployment, &d.metadata, spec.template.clone(), vec![], None));
        }
        for s in &self.statefulsets {
            let spec = s.spec.as_ref().expect("a StatefulSet has a spec");
            let templates = spec
                .volume_claim_templates
                .iter()
                .flatten()
                .map(|t| t.metadata.name.clone().expect("a claim template has a name"))
                .collect();
            out.push(source(Controller::StatefulSet, &s.metadata, spec.template.clone(), templates, None));
        }
        for j in &self.jobs {
            let spec = j.spec.as_ref().expect("a Job has a spec");
            out.push(source(Controller::Job, &j.metadata, spec.template.clone(), vec![], spec.active_deadline_seconds));
        }
        for c in &self.cronjobs {
            let spec = c.spec.as_ref().expect("a CronJob has a spec");
            let job = spec.job_template.spec.clone().expect("a CronJob's job template has a spec");
            let mut cron = source(Controller::CronJob, &c.metadata, job.template, vec![], job.active_deadline_seconds);
            cron.suspended = spec.suspend == Some(true);
            out.push(cron);
        }
        out
    }

    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.metadata.name.as_deref() == Some(name))
    }

    pub fn configmap(&self, name: &str) -> Option<&ConfigMap> {
        self.configmaps.iter().find(|c| c.metadata.name.as_deref() == Some(name))
    }

    pub fn secret(&self, name: &str) -> Option<&Secret> {
        self.secrets.iter().find(|s| s.metadata.name.as_deref() == Some(name))
    }

    /// Whether a pod template's labels match a selector.
    pub fn selects(selector: &BTreeMap<String, String>, source: &PodSource) -> bool {
        let labels = source.template.metadata.as_ref().and_then(|m| m.labels.as_ref());
        !selector.is_empty() && selector.iter().all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
    }

    /// The Deployments and StatefulSets a Service selects.
    pub fn service_backends(&self, service: &Service) -> Vec<PodSource> {
        let selector = service.spec.as_ref().and_then(|s| s.selector.clone()).unwrap_or_default();
        self.pod_sources()
            .into_iter()
            .filter(|s| matches!(s.controller, Controller::Deployment | Controller::StatefulSet))
            .filter(|s| Bundle::selects(&selector, s))
            .collect()
    }
}

fn source(
    controller: Controller,
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    template: PodTemplateSpec,
    claim_templates: Vec<String>,
    active_deadline: Option<i64>,
) -> PodSource {
    PodSource {
        controller,
        name: meta.name.clone().expect("objects have names"),
        namespace: meta.namespace.clone().unwrap_or_else(|| "default".into()),
        template,
        claim_templates,
        active_deadline,
        suspended: false,
        sync_wave: meta
            .annotations
            .as_ref()
            .and_then(|a| a.get("argocd.argoproj.io/sync-wave"))
            .and_then(|w| w.parse().ok())
            .unwrap_or(0),
    }
}

/// Values of Secret keys the bundle references but does not create (and of
/// the environment variables kgen reads for Secrets it creates).
///
/// By default every value is a password made of URL-special characters and
/// base64 (`/`, `+`, `=`), derived from the secret and key names, so that
/// runs are reproducible: what a user may well have in their Secret, and
/// what breaks a connection string that splices it in raw.
#[derive(Clone)]
pub struct SecretValues {
    style: PasswordStyle,
    overrides: BTreeMap<(String, String), String>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PasswordStyle {
    /// `p/a?s#s@w:o%r+d= x` and base64.
    UrlSpecial,
    /// Hex digits only: nothing to escape anywhere.
    Benign,
}

/// The characters that every URL-special password starts with.
pub const URL_SPECIAL_PREFIX: &str = "p/a?s#s@w:o%r+d= x";

impl Default for SecretValues {
    fn default() -> Self {
        SecretValues { style: PasswordStyle::UrlSpecial, overrides: BTreeMap::new() }
    }
}

impl SecretValues {
    pub fn benign() -> SecretValues {
        SecretValues { style: PasswordStyle::Benign, overrides: BTreeMap::new() }
    }

    /// Give `secret`'s `key` exactly `value`.
    pub fn set(mut self, secret: &str, key: &str, value: impl Into<String>) -> SecretValues {
        self.overrides.insert((secret.to_string(), key.to_string()), value.into());
        self
    }

    /// The value of a key of a Secret the user creates.
    pub fn value(&self, secret: &str, key: &str) -> String {
        match self.overrides.get(&(secret.to_string(), key.to_string())) {
            Some(v) => v.clone(),
            None => self.password(&format!("secret {secret} key {key}")),
        }
    }

    /// The value kgen reads from `var` at render time for a created Secret.
    pub fn render_env_value(&self, var: &str) -> String {
        self.password(&format!("render variable {var}"))
    }

    fn password(&self, seed: &str) -> String {
        let digest = Sha256::digest(format!("kgen runtime tests: {seed}").as_bytes());
        match self.style {
            PasswordStyle::UrlSpecial => {
                format!("{URL_SPECIAL_PREFIX}{}", base64::engine::general_purpose::STANDARD.encode(digest))
            }
            PasswordStyle::Benign => digest.iter().take(16).map(|b| format!("{b:02x}")).collect(),
        }
    }
}

/// Percent-encoding of a URL's userinfo part (RFC 3986: unreserved stay).
pub fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The data of a Secret: the bundle's when it creates it, else the values
/// the user would have put in it.
pub struct SecretStore<'a> {
    pub bundle: &'a Bundle,
    pub values: &'a SecretValues,
}

impl SecretStore<'_> {
    /// All keys of a Secret: the bundle's, or the keys the bundle references.
    pub fn all(&self, secret: &str) -> BTreeMap<String, Vec<u8>> {
        match self.bundle.secret(secret) {
            Some(s) => {
                let mut out: BTreeMap<String, Vec<u8>> =
                    s.data.iter().flatten().map(|(k, v)| (k.clone(), v.0.clone())).collect();
                for (k, v) in s.string_data.iter().flatten() {
                    out.insert(k.clone(), v.as_bytes().to_vec());
                }
                out
            }
            None => referenced_keys(self.bundle, secret)
                .into_iter()
                .map(|k| {
                    let v = self.values.value(secret, &k).into_bytes();
                    (k, v)
                })
                .collect(),
        }
    }
}

/// Every Secret some pod template names (env, envFrom, volumes).
pub fn referenced_secrets(bundle: &Bundle) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for source in bundle.pod_sources() {
        let spec = source.spec();
        for c in spec.containers.iter().chain(spec.init_containers.iter().flatten()) {
            for e in c.env.iter().flatten() {
                if let Some(r) = e.value_from.as_ref().and_then(|v| v.secret_key_ref.as_ref()) {
                    names.insert(r.name.clone());
                }
            }
            for e in c.env_from.iter().flatten() {
                if let Some(r) = &e.secret_ref {
                    names.insert(r.name.clone());
                }
            }
        }
        for v in spec.volumes.iter().flatten() {
            if let Some(name) = v.secret.as_ref().and_then(|s| s.secret_name.clone()) {
                names.insert(name);
            }
            for p in v.projected.iter().flat_map(|p| p.sources.iter().flatten()) {
                if let Some(s) = &p.secret {
                    names.insert(s.name.clone());
                }
            }
        }
    }
    names
}

/// Every key of `secret` that some pod template names.
pub fn referenced_keys(bundle: &Bundle, secret: &str) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for source in bundle.pod_sources() {
        let spec = source.spec();
        for c in spec.containers.iter().chain(spec.init_containers.iter().flatten()) {
            for e in c.env.iter().flatten() {
                if let Some(r) = e.value_from.as_ref().and_then(|v| v.secret_key_ref.as_ref())
                    && r.name == secret
                {
                    keys.insert(r.key.clone());
                }
            }
        }
        for v in spec.volumes.iter().flatten() {
            if let Some(s) = &v.secret
                && s.secret_name.as_deref() == Some(secret)
            {
                keys.extend(s.items.iter().flatten().map(|i| i.key.clone()));
            }
            for p in v.projected.iter().flat_map(|p| p.sources.iter().flatten()) {
                if let Some(s) = &p.secret
                    && s.name == secret
                {
                    keys.extend(s.items.iter().flatten().map(|i| i.key.clone()));
                }
            }
        }
    }
    keys
}
