//! The Redis cache: a Deployment with bounded memory (and, as a store, an
//! append-only file on a claim), its configuration file, and its Service. The password, when there is
//! one, is read from a mounted Secret into an included config file, never
//! passed on a command line or in an environment variable.

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy};
use k8s_openapi::api::core::v1::{
    ConfigMap, ConfigMapVolumeSource, ContainerPort, EmptyDirVolumeSource, ExecAction, KeyToPath,
    PersistentVolumeClaim, PersistentVolumeClaimVolumeSource, PodSpec, PodTemplateSpec, Probe, SecretVolumeSource,
    Service, ServicePort, ServiceSpec, TCPSocketAction, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::lifecycle::{self, InstallPhase};
use super::workload::{
    claim_spec, hardened_container, pod_security_context, pull_secrets, resources, small_tool_resources,
};
use super::{label_selector, meta, selector_labels, sha256_hex, support_pod_labels};
use crate::model::{App, Cache, SecretKeyRef, naming};
use crate::object::Object;

pub fn render(app: &App, out: &mut Vec<Object>) {
    let Some(c) = &app.cache else { return };
    let config = redis_conf(c);
    let config_name = naming::cache_config(&c.name);
    out.push(
        ConfigMap {
            metadata: meta(app, &config_name, Some(&c.key)),
            data: Some([("redis.conf".to_string(), config.clone())].into()),
            ..Default::default()
        }
        .into(),
    );
    let mount = |name: &str, path: &str, read_only: bool| VolumeMount {
        name: name.into(),
        mount_path: path.into(),
        read_only: read_only.then_some(true),
        ..Default::default()
    };
    let mut volumes = vec![
        Volume {
            name: "config".into(),
            config_map: Some(ConfigMapVolumeSource { name: config_name, ..Default::default() }),
            ..Default::default()
        },
        match &c.persistence {
            None => {
                Volume { name: "data".into(), empty_dir: Some(EmptyDirVolumeSource::default()), ..Default::default() }
            }
            Some(storage) => {
                let claim_name = naming::cache_claim(&c.name);
                out.push(
                    PersistentVolumeClaim {
                        metadata: meta(app, &claim_name, Some(&c.key)),
                        spec: Some(claim_spec(storage)),
                        ..Default::default()
                    }
                    .into(),
                );
                Volume {
                    name: "data".into(),
                    persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource { claim_name, read_only: None }),
                    ..Default::default()
                }
            }
        },
    ];
    let mut mounts = vec![mount("config", "/etc/redis", true), mount("data", "/data", false)];
    let mut init_containers = None;
    let ping = match &c.password {
        None => vec!["redis-cli".to_string(), "ping".to_string()],
        Some(SecretKeyRef { secret, key }) => {
            volumes.push(Volume {
                name: "password".into(),
                secret: Some(SecretVolumeSource {
                    secret_name: Some(secret.clone()),
                    items: Some(vec![KeyToPath { key: key.clone(), path: "password".into(), mode: None }]),
                    default_mode: Some(0o440),
                    ..Default::default()
                }),
                ..Default::default()
            });
            volumes.push(Volume {
                name: "auth".into(),
                empty_dir: Some(EmptyDirVolumeSource::default()),
                ..Default::default()
            });
            mounts.push(mount("password", "/run/secrets/redis", true));
            mounts.push(mount("auth", "/run/redis", true));
            let mut init = hardened_container(app, "auth-config", &c.image);
            init.command = Some(vec![
                "sh".into(),
                "-c".into(),
                "umask 077; printf 'requirepass \"%s\"\\n' \"$(sed 's/[\\\\\"]/\\\\&/g' /run/secrets/redis/password)\" > /run/redis/auth.conf".into(),
            ]);
            init.volume_mounts =
                Some(vec![mount("password", "/run/secrets/redis", true), mount("auth", "/run/redis", false)]);
            init.resources = Some(resources(&small_tool_resources()));
            init_containers = Some(vec![init]);
            vec![
                "sh".to_string(),
                "-c".to_string(),
                "REDISCLI_AUTH=\"$(cat /run/secrets/redis/password)\" redis-cli ping | grep -q PONG".to_string(),
            ]
        }
    };
    let mut container = hardened_container(app, "redis", &c.image);
    container.command = Some(vec!["redis-server".into(), "/etc/redis/redis.conf".into()]);
    container.ports = Some(vec![ContainerPort {
        name: Some("redis".into()),
        container_port: 6379,
        protocol: Some("TCP".into()),
        ..Default::default()
    }]);
    container.liveness_probe = Some(Probe {
        tcp_socket: Some(TCPSocketAction { port: IntOrString::String("redis".into()), host: None }),
        initial_delay_seconds: Some(5),
        period_seconds: Some(10),
        timeout_seconds: Some(2),
        failure_threshold: Some(3),
        ..Default::default()
    });
    container.readiness_probe = Some(Probe {
        exec: Some(ExecAction { command: Some(ping) }),
        period_seconds: Some(5),
        timeout_seconds: Some(2),
        failure_threshold: Some(3),
        ..Default::default()
    });
    container.resources = Some(resources(&c.resources));
    container.volume_mounts = Some(mounts);
    out.push(
        Deployment {
            metadata: cache_meta(app, c),
            spec: Some(DeploymentSpec {
                replicas: Some(1),
                selector: label_selector(selector_labels(app, &c.key)),
                strategy: Some(DeploymentStrategy { type_: Some("Recreate".into()), rolling_update: None }),
                template: PodTemplateSpec {
                    metadata: Some(ObjectMeta {
                        labels: Some(support_pod_labels(app, &c.key)),
                        annotations: Some([("checksum/config".to_string(), sha256_hex(config.as_bytes()))].into()),
                        ..Default::default()
                    }),
                    spec: Some(PodSpec {
                        automount_service_account_token: Some(false),
                        security_context: Some(pod_security_context(app)),
                        image_pull_secrets: pull_secrets(app),
                        init_containers,
                        containers: vec![container],
                        volumes: Some(volumes),
                        ..Default::default()
                    }),
                },
                ..Default::default()
            }),
            ..Default::default()
        }
        .into(),
    );
    out.push(
        Service {
            metadata: cache_meta(app, c),
            spec: Some(ServiceSpec {
                type_: Some("ClusterIP".into()),
                selector: Some(selector_labels(app, &c.key)),
                ports: Some(vec![ServicePort {
                    name: Some("redis".into()),
                    port: 6379,
                    target_port: Some(IntOrString::String("redis".into())),
                    protocol: Some("TCP".into()),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        }
        .into(),
    );
}

/// Metadata of the cache's server objects: applied in the database wave.
fn cache_meta(app: &App, c: &Cache) -> ObjectMeta {
    let mut m = meta(app, &c.name, Some(&c.key));
    lifecycle::tag(&mut m, InstallPhase::Database);
    m
}

/// redis.conf: a cache with no snapshots, no append-only file and a memory
/// cap, or a store that appends every write to a file on its claim; the
/// password comes from an included file.
fn redis_conf(c: &Cache) -> String {
    let mut conf = String::from(match c.persistence {
        None => {
            "# Redis as a cache: nothing is written to disk.\nbind * -::*\nport 6379\ndir /data\nsave \"\"\nappendonly no\n"
        }
        Some(_) => {
            "# Redis as a store: every write is appended to a file on the claim (fsync every\n# second), which Redis replays on start.\nbind * -::*\nport 6379\ndir /data\nsave \"\"\nappendonly yes\nappendfsync everysec\n"
        }
    });
    conf.push_str(&format!("maxmemory {}\nmaxmemory-policy {}\n", c.max_memory, c.max_memory_policy));
    if c.password.is_some() {
        conf.push_str("include /run/redis/auth.conf\n");
    } else {
        conf.push_str("# No password: NetworkPolicies restrict who can connect.\nprotected-mode no\n");
    }
    conf
}
