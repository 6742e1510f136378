//! A component's pods and the Deployment that runs them: the container,
//! its probes, environment, resources and the restricted security context.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMapEnvSource, ConfigMapKeySelector, Container, ContainerPort, EmptyDirVolumeSource,
    EnvFromSource, EnvVar, EnvVarSource, ExecAction, GRPCAction, HTTPGetAction, LocalObjectReference,
    ObjectFieldSelector, PodSecurityContext, PodSpec, PodTemplateSpec, Probe, ResourceRequirements, SeccompProfile,
    SecretKeySelector, SecurityContext, TCPSocketAction, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{config, label_selector, labels, meta, selector_labels};
use crate::model::{self, App, Component, EnvValue, PortTarget, ProbeAction};
use crate::object::Object;

pub fn render(app: &App, c: &Component, out: &mut Vec<Object>) {
    out.push(deployment(app, c).into());
}

fn deployment(app: &App, c: &Component) -> Deployment {
    Deployment {
        metadata: meta(app, &c.name, Some(&c.key)),
        spec: Some(DeploymentSpec {
            replicas: Some(c.replicas as i32),
            selector: label_selector(selector_labels(app, &c.key)),
            strategy: Some(DeploymentStrategy {
                type_: Some("RollingUpdate".into()),
                rolling_update: Some(RollingUpdateDeployment {
                    max_surge: Some(IntOrString::String("25%".into())),
                    max_unavailable: Some(IntOrString::Int(0)),
                }),
            }),
            template: pod_template(app, c),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The pod template of a component's workload.
pub fn pod_template(app: &App, c: &Component) -> PodTemplateSpec {
    let mut pod_labels = labels(app, Some(&c.key));
    pod_labels.extend(c.pod_labels.clone());
    let mut annotations: BTreeMap<String, String> = config::checksums(app).into_iter().collect();
    annotations.extend(c.pod_annotations.clone());
    let (volumes, mounts) = writable_volumes(&c.writable_paths);
    let mut container = container(app, c);
    container.volume_mounts = (!mounts.is_empty()).then_some(mounts);
    PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(pod_labels),
            annotations: (!annotations.is_empty()).then_some(annotations),
            ..Default::default()
        }),
        spec: Some(PodSpec {
            service_account_name: Some(app.service_account.name.clone()),
            automount_service_account_token: Some(app.service_account.automount_token),
            security_context: Some(pod_security_context(app)),
            image_pull_secrets: (!app.image_pull_secrets.is_empty())
                .then(|| app.image_pull_secrets.iter().map(|n| LocalObjectReference { name: n.clone() }).collect()),
            termination_grace_period_seconds: c.termination_grace_period_seconds,
            node_selector: (!c.node_selector.is_empty()).then(|| c.node_selector.clone()),
            tolerations: (!c.tolerations.is_empty()).then(|| c.tolerations.clone()),
            containers: vec![container],
            volumes: (!volumes.is_empty()).then_some(volumes),
            ..Default::default()
        }),
    }
}

/// The restricted Pod Security Standard at pod level.
pub fn pod_security_context(app: &App) -> PodSecurityContext {
    let s = &app.security;
    PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(s.run_as_user),
        run_as_group: Some(s.run_as_group),
        fs_group: Some(s.fs_group),
        seccomp_profile: Some(SeccompProfile { type_: "RuntimeDefault".into(), ..Default::default() }),
        ..Default::default()
    }
}

/// The restricted Pod Security Standard at container level.
pub fn container_security_context(app: &App) -> SecurityContext {
    let s = &app.security;
    SecurityContext {
        allow_privilege_escalation: Some(false),
        privileged: Some(false),
        read_only_root_filesystem: Some(s.read_only_root_filesystem),
        run_as_non_root: Some(true),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".into()]),
            add: (!s.add_capabilities.is_empty()).then(|| s.add_capabilities.clone()),
        }),
        ..Default::default()
    }
}

fn container(app: &App, c: &Component) -> Container {
    let env_from = app.config_map.as_ref().map(|cm| {
        vec![EnvFromSource {
            config_map_ref: Some(ConfigMapEnvSource { name: cm.name.clone(), optional: None }),
            ..Default::default()
        }]
    });
    Container {
        name: c.key.clone(),
        image: Some(c.image.clone()),
        image_pull_policy: Some(c.pull_policy.to_string()),
        command: c.command.clone(),
        args: c.args.clone(),
        ports: (!c.ports.is_empty()).then(|| {
            c.ports
                .iter()
                .map(|p| ContainerPort {
                    name: Some(p.name.clone()),
                    container_port: i32::from(p.container_port),
                    protocol: Some(p.protocol.to_string()),
                    ..Default::default()
                })
                .collect()
        }),
        env_from,
        env: (!c.env.is_empty()).then(|| c.env.iter().map(env_var).collect()),
        liveness_probe: c.liveness.as_ref().map(probe),
        readiness_probe: c.readiness.as_ref().map(probe),
        startup_probe: c.startup.as_ref().map(probe),
        resources: Some(resources(&c.resources)),
        security_context: Some(container_security_context(app)),
        ..Default::default()
    }
}

pub fn env_var(v: &model::EnvVar) -> EnvVar {
    let (value, value_from) = match &v.source {
        EnvValue::Literal(s) => (Some(s.clone()), None),
        EnvValue::SecretKey { secret, key, optional } => (
            None,
            Some(EnvVarSource {
                secret_key_ref: Some(SecretKeySelector {
                    name: secret.clone(),
                    key: key.clone(),
                    optional: optional.then_some(true),
                }),
                ..Default::default()
            }),
        ),
        EnvValue::ConfigMapKey { config_map, key, optional } => (
            None,
            Some(EnvVarSource {
                config_map_key_ref: Some(ConfigMapKeySelector {
                    name: config_map.clone(),
                    key: key.clone(),
                    optional: optional.then_some(true),
                }),
                ..Default::default()
            }),
        ),
        EnvValue::Field(path) => (
            None,
            Some(EnvVarSource {
                field_ref: Some(ObjectFieldSelector { field_path: path.clone(), api_version: None }),
                ..Default::default()
            }),
        ),
    };
    EnvVar { name: v.name.clone(), value, value_from }
}

pub fn probe(p: &model::Probe) -> Probe {
    let port = |t: &PortTarget| match t {
        PortTarget::Name(n) => IntOrString::String(n.clone()),
        PortTarget::Number(n) => IntOrString::Int(i32::from(*n)),
    };
    let mut probe = Probe {
        initial_delay_seconds: p.initial_delay_seconds,
        period_seconds: Some(p.period_seconds),
        timeout_seconds: Some(p.timeout_seconds),
        failure_threshold: Some(p.failure_threshold),
        success_threshold: p.success_threshold,
        ..Default::default()
    };
    match &p.action {
        ProbeAction::Http { path, port: t, scheme } => {
            probe.http_get = Some(HTTPGetAction {
                path: Some(path.clone()),
                port: port(t),
                scheme: (*scheme != "HTTP").then(|| scheme.to_string()),
                ..Default::default()
            })
        }
        ProbeAction::Tcp { port: t } => probe.tcp_socket = Some(TCPSocketAction { port: port(t), host: None }),
        ProbeAction::Grpc { port } => probe.grpc = Some(GRPCAction { port: i32::from(*port), service: None }),
        ProbeAction::Exec { command } => probe.exec = Some(ExecAction { command: Some(command.clone()) }),
    }
    probe
}

pub fn resources(r: &model::Resources) -> ResourceRequirements {
    let q = |m: &BTreeMap<String, String>| {
        (!m.is_empty()).then(|| m.iter().map(|(k, v)| (k.clone(), Quantity(v.clone()))).collect())
    };
    ResourceRequirements { requests: q(&r.requests), limits: q(&r.limits), ..Default::default() }
}

/// emptyDir volumes and their mounts for the writable paths.
pub fn writable_volumes(paths: &[String]) -> (Vec<Volume>, Vec<VolumeMount>) {
    let mut volumes: Vec<Volume> = Vec::new();
    let mut mounts = Vec::new();
    let mut taken: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut next: BTreeMap<String, usize> = BTreeMap::new();
    for path in paths {
        let base = volume_name(path);
        let mut name = base.clone();
        while !taken.insert(name.clone()) {
            let n = next.entry(base.clone()).or_insert(2);
            name = format!("{}-{n}", &base[..base.len().min(56)]);
            *n += 1;
        }
        volumes.push(Volume {
            name: name.clone(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Default::default()
        });
        mounts.push(VolumeMount { name, mount_path: path.clone(), ..Default::default() });
    }
    (volumes, mounts)
}

/// A DNS-label volume name for a path: `/var/cache/nginx` → `var-cache-nginx`.
fn volume_name(path: &str) -> String {
    let mut name = String::new();
    for c in path.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            name.push(c);
        } else if !name.ends_with('-') && !name.is_empty() {
            name.push('-');
        }
    }
    let name = name.trim_end_matches('-');
    let name = &name[..name.len().min(63)];
    let name = name.trim_end_matches('-');
    if name.is_empty() { "writable".to_string() } else { name.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_names_are_dns_labels() {
        assert_eq!(volume_name("/tmp"), "tmp");
        assert_eq!(volume_name("/var/cache/Nginx/"), "var-cache-nginx");
        assert_eq!(volume_name("/"), "writable");
        let (v, _) = writable_volumes(&["/a/b".into(), "/a-b".into()]);
        assert_eq!(v.iter().map(|v| v.name.as_str()).collect::<Vec<_>>(), ["a-b", "a-b-2"]);
    }
}
