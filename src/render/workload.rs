//! A component's pods and the Deployment (or, for a component that keeps
//! an SQLite database, the single-replica StatefulSet) that runs them: the
//! container, its probes, environment, resources, init containers and the
//! restricted security context. Other renderers build their pods from the
//! helpers here.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment, StatefulSet,
    StatefulSetPersistentVolumeClaimRetentionPolicy, StatefulSetSpec, StatefulSetUpdateStrategy,
};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMapEnvSource, ConfigMapKeySelector, ConfigMapProjection, Container, ContainerPort,
    DownwardAPIProjection, DownwardAPIVolumeFile, EmptyDirVolumeSource, EnvFromSource, EnvVar, EnvVarSource,
    ExecAction, GRPCAction, HTTPGetAction, KeyToPath, LocalObjectReference, ObjectFieldSelector, PersistentVolumeClaim,
    PersistentVolumeClaimSpec, PodSecurityContext, PodSpec, PodTemplateSpec, Probe, ProjectedVolumeSource,
    ResourceRequirements, SeccompProfile, SecretKeySelector, SecretProjection, SecurityContext, Service,
    ServiceAccountTokenProjection, ServicePort, ServiceSpec, TCPSocketAction, TopologySpreadConstraint, Volume,
    VolumeMount, VolumeProjection, VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{config, label_selector, meta, selector_labels, versioned_labels, versioned_meta};
use crate::model::{self, App, Component, EnvValue, PortTarget, ProbeAction, StorageRequest, WaitFor, naming};
use crate::object::Object;

pub fn render(app: &App, c: &Component, out: &mut Vec<Object>) {
    match &c.sqlite_volume {
        None => out.push(deployment(app, c).into()),
        Some(volume) => {
            out.push(stateful_set(app, c, volume).into());
            out.push(headless_service(app, &naming::headless_service(&c.name), &c.key, &governing_ports(c)).into());
        }
    }
}

fn governing_ports(c: &Component) -> Vec<(String, u16)> {
    c.ports.iter().map(|p| (p.name.clone(), p.container_port)).collect()
}

fn deployment(app: &App, c: &Component) -> Deployment {
    Deployment {
        metadata: versioned_meta(app, &c.name, Some(&c.key)),
        spec: Some(DeploymentSpec {
            // With an autoscaler the replica count is its to set.
            replicas: c.autoscaling.is_none().then_some(super::int32(c.replicas)),
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

/// A single-replica StatefulSet with a `data` claim template: one writer
/// for the SQLite file, a stable claim `data-<name>-0`.
fn stateful_set(app: &App, c: &Component, volume: &model::SqliteVolume) -> StatefulSet {
    let mut template = pod_template(app, c);
    if let Some(spec) = template.spec.as_mut() {
        for container in &mut spec.containers {
            container.volume_mounts.get_or_insert_default().push(VolumeMount {
                name: "data".into(),
                mount_path: volume.mount_path.clone(),
                ..Default::default()
            });
        }
    }
    StatefulSet {
        metadata: versioned_meta(app, &c.name, Some(&c.key)),
        spec: Some(StatefulSetSpec {
            replicas: Some(1),
            service_name: Some(naming::headless_service(&c.name)),
            selector: label_selector(selector_labels(app, &c.key)),
            template,
            update_strategy: Some(StatefulSetUpdateStrategy {
                type_: Some("RollingUpdate".into()),
                rolling_update: None,
            }),
            persistent_volume_claim_retention_policy: Some(retain_claims()),
            volume_claim_templates: Some(vec![claim_template(app, &c.key, &volume.claim)]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Keep claims when a StatefulSet is deleted or scaled down (the data
/// outlives the workload).
pub fn retain_claims() -> StatefulSetPersistentVolumeClaimRetentionPolicy {
    StatefulSetPersistentVolumeClaimRetentionPolicy {
        when_deleted: Some("Retain".into()),
        when_scaled: Some("Retain".into()),
    }
}

/// The `data` volume claim template of a StatefulSet. Its labels are only
/// the selector labels: the template is immutable, so nothing that changes
/// between releases (like the version) may go in.
pub fn claim_template(app: &App, component: &str, storage: &StorageRequest) -> PersistentVolumeClaim {
    PersistentVolumeClaim {
        metadata: ObjectMeta {
            name: Some("data".into()),
            labels: Some(selector_labels(app, component)),
            ..Default::default()
        },
        spec: Some(claim_spec(storage)),
        ..Default::default()
    }
}

pub fn claim_spec(storage: &StorageRequest) -> PersistentVolumeClaimSpec {
    PersistentVolumeClaimSpec {
        access_modes: Some(storage.access_modes.clone()),
        storage_class_name: storage.class.clone(),
        resources: Some(VolumeResourceRequirements {
            requests: Some(BTreeMap::from([("storage".to_string(), Quantity(storage.size.clone()))])),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A headless Service (no cluster IP): stable DNS names for a StatefulSet's
/// pods.
pub fn headless_service(app: &App, name: &str, component: &str, ports: &[(String, u16)]) -> Service {
    Service {
        metadata: meta(app, name, Some(component)),
        spec: Some(ServiceSpec {
            cluster_ip: Some("None".into()),
            selector: Some(selector_labels(app, component)),
            ports: Some(
                ports
                    .iter()
                    .map(|(n, p)| ServicePort {
                        name: Some(n.clone()),
                        port: i32::from(*p),
                        target_port: Some(IntOrString::String(n.clone())),
                        protocol: Some("TCP".into()),
                        ..Default::default()
                    })
                    .collect(),
            ),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The pod template of a component's workload.
pub fn pod_template(app: &App, c: &Component) -> PodTemplateSpec {
    let mut pod_labels = versioned_labels(app, Some(&c.key));
    pod_labels.extend(c.pod_labels.clone());
    let mut annotations: BTreeMap<String, String> = config::checksums(app).into_iter().collect();
    annotations.extend(c.pod_annotations.clone());
    let (mut volumes, mut mounts) = writable_volumes(&c.writable_paths);
    let access = database_access(app, c);
    volumes.extend(access.volumes);
    mounts.extend(access.mount);
    let mut container = container(app, c);
    container.volume_mounts = (!mounts.is_empty()).then(|| mounts.clone());
    if !app.rbac.is_empty() && !app.service_account.automount_token {
        volumes.push(api_token_volume());
        container.volume_mounts.get_or_insert_default().push(VolumeMount {
            name: API_TOKEN_VOLUME.into(),
            mount_path: "/var/run/secrets/kubernetes.io/serviceaccount".into(),
            read_only: Some(true),
            ..Default::default()
        });
    }
    let mut init_containers = access.init_containers;
    if c.migrate_on_start
        && let Some(m) = &app.migrations
    {
        let mut migrate = migration_container(app, c, m);
        migrate.volume_mounts = (!mounts.is_empty()).then_some(mounts);
        init_containers.push(migrate);
    }
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
            image_pull_secrets: pull_secrets(app),
            termination_grace_period_seconds: c.termination_grace_period_seconds,
            node_selector: (!c.node_selector.is_empty()).then(|| c.node_selector.clone()),
            tolerations: (!c.tolerations.is_empty()).then(|| c.tolerations.clone()),
            init_containers: (!init_containers.is_empty()).then_some(init_containers),
            containers: vec![container],
            volumes: (!volumes.is_empty()).then_some(volumes),
            priority_class_name: c.priority_class_name.clone(),
            topology_spread_constraints: (!c.spread.is_empty()).then(|| {
                c.spread
                    .iter()
                    .map(|key| TopologySpreadConstraint {
                        max_skew: 1,
                        topology_key: key.to_string(),
                        when_unsatisfiable: "ScheduleAnyway".into(),
                        label_selector: Some(label_selector(selector_labels(app, &c.key))),
                        ..Default::default()
                    })
                    .collect()
            }),
            ..Default::default()
        }),
    }
}

pub const API_TOKEN_VOLUME: &str = "kube-api-access";

/// The ServiceAccount token, mounted explicitly (and only) into the app's
/// container when its RBAC rules need the API: a short-lived, audience-bound
/// projected token, the cluster CA and the namespace, at the path client
/// libraries read. Automounting stays off for every other container.
pub fn api_token_volume() -> Volume {
    Volume {
        name: API_TOKEN_VOLUME.into(),
        projected: Some(ProjectedVolumeSource {
            default_mode: Some(0o444),
            sources: Some(vec![
                VolumeProjection {
                    service_account_token: Some(ServiceAccountTokenProjection {
                        path: "token".into(),
                        expiration_seconds: Some(3607),
                        audience: None,
                    }),
                    ..Default::default()
                },
                VolumeProjection {
                    config_map: Some(ConfigMapProjection {
                        name: "kube-root-ca.crt".into(),
                        items: Some(vec![KeyToPath { key: "ca.crt".into(), path: "ca.crt".into(), mode: None }]),
                        optional: None,
                    }),
                    ..Default::default()
                },
                VolumeProjection {
                    downward_api: Some(DownwardAPIProjection {
                        items: Some(vec![DownwardAPIVolumeFile {
                            path: "namespace".into(),
                            field_ref: Some(ObjectFieldSelector {
                                api_version: Some("v1".into()),
                                field_path: "metadata.namespace".into(),
                            }),
                            ..Default::default()
                        }]),
                    }),
                    ..Default::default()
                },
            ]),
        }),
        ..Default::default()
    }
}

pub fn pull_secrets(app: &App) -> Option<Vec<LocalObjectReference>> {
    (!app.image_pull_secrets.is_empty())
        .then(|| app.image_pull_secrets.iter().map(|n| LocalObjectReference { name: n.clone() }).collect())
}

/// A hardened container with the app's security context and no other
/// settings; callers fill in the rest.
pub fn hardened_container(app: &App, name: &str, image: &str) -> Container {
    Container {
        name: name.to_string(),
        image: Some(image.to_string()),
        image_pull_policy: Some(if image.contains('@') { "IfNotPresent" } else { "Always" }.to_string()),
        security_context: Some(container_security_context(app)),
        ..Default::default()
    }
}

/// How a component's pods reach its databases: init containers that wait
/// for each server (and write the pgpass file), and the volumes they and
/// the app's containers mount.
pub struct DatabaseAccess {
    pub init_containers: Vec<Container>,
    pub volumes: Vec<Volume>,
    /// The pgpass file's folder, for every container that connects.
    pub mount: Option<VolumeMount>,
}

/// The emptyDir that holds the pod's pgpass file.
const PGPASS_VOLUME: &str = "pgpass";
/// The database passwords the waiting init containers read.
const PASSWORDS_VOLUME: &str = "database-passwords";
const PASSWORDS_DIR: &str = "/run/secrets/kgen-databases";
/// How long a wait lasts before the container exits (and is restarted).
const WAIT_SECONDS: u32 = 300;

/// Volume names kgen's pod plumbing uses; writable paths take others.
const RESERVED_VOLUMES: &[&str] = &[API_TOKEN_VOLUME, PGPASS_VOLUME, PASSWORDS_VOLUME];

pub fn database_access(app: &App, c: &Component) -> DatabaseAccess {
    let with_pgpass: Vec<&WaitFor> = c.wait_for.iter().filter(|w| w.pgpass.is_some()).collect();
    let mut init_containers = Vec::new();
    for w in &c.wait_for {
        let first = with_pgpass.first().is_some_and(|f| f.key == w.key);
        init_containers.push(wait_container(app, w, first));
    }
    if with_pgpass.is_empty() {
        return DatabaseAccess { init_containers, volumes: Vec::new(), mount: None };
    }
    let sources = with_pgpass
        .iter()
        .filter_map(|w| w.pgpass.as_ref().map(|s| (w, s)))
        .map(|(w, s)| VolumeProjection {
            secret: Some(SecretProjection {
                name: s.secret.clone(),
                items: Some(vec![KeyToPath { key: s.key.clone(), path: w.key.clone(), mode: None }]),
                optional: None,
            }),
            ..Default::default()
        })
        .collect();
    let volumes = vec![
        Volume {
            name: PASSWORDS_VOLUME.into(),
            projected: Some(ProjectedVolumeSource { default_mode: Some(0o440), sources: Some(sources) }),
            ..Default::default()
        },
        Volume { name: PGPASS_VOLUME.into(), empty_dir: Some(EmptyDirVolumeSource::default()), ..Default::default() },
    ];
    let pgpass_dir = model::PGPASS_FILE.rsplit_once('/').map_or("/", |(dir, _)| dir);
    for container in &mut init_containers {
        let waits_with_pgpass = with_pgpass.iter().any(|w| container.name == wait_container_name(w));
        if waits_with_pgpass {
            container.volume_mounts = Some(vec![
                VolumeMount {
                    name: PASSWORDS_VOLUME.into(),
                    mount_path: PASSWORDS_DIR.into(),
                    read_only: Some(true),
                    ..Default::default()
                },
                VolumeMount { name: PGPASS_VOLUME.into(), mount_path: pgpass_dir.into(), ..Default::default() },
            ]);
        }
    }
    let mount = VolumeMount {
        name: PGPASS_VOLUME.into(),
        mount_path: pgpass_dir.into(),
        read_only: Some(true),
        ..Default::default()
    };
    DatabaseAccess { init_containers, volumes, mount: Some(mount) }
}

fn wait_container_name(w: &WaitFor) -> String {
    format!("wait-for-{}", w.key)
}

/// An init container that blocks until a database accepts connections, for
/// a bounded time, and fails at once when `pg_isready` cannot even try;
/// `first` truncates the pgpass file, the others append to it.
fn wait_container(app: &App, w: &WaitFor, first: bool) -> Container {
    let pgpass = w.pgpass.as_ref().map(|_| {
        minijinja::context! {
            password_file => format!("{PASSWORDS_DIR}/{}", w.key),
            file => model::PGPASS_FILE,
            redirect => if first { ">" } else { ">>" },
        }
    });
    let script = crate::templates::render(
        "wait-for-postgres.sh",
        minijinja::context! {
            host => w.host.clone(),
            port => w.port,
            user => w.user.clone(),
            database => w.database.clone(),
            timeout => WAIT_SECONDS,
            pgpass => pgpass,
        },
    );
    Container {
        command: Some(vec!["sh".into(), "-c".into(), script]),
        resources: Some(resources(&small_tool_resources())),
        ..hardened_container(app, &wait_container_name(w), &w.image)
    }
}

/// Requests and limits of init containers that wait or write a file.
pub fn small_tool_resources() -> model::Resources {
    tool_resources(("10m", "16Mi"), ("100m", "64Mi"))
}

fn tool_resources(requests: (&str, &str), limits: (&str, &str)) -> model::Resources {
    let map = |(cpu, mem): (&str, &str)| {
        BTreeMap::from([("cpu".to_string(), cpu.to_string()), ("memory".to_string(), mem.to_string())])
    };
    model::Resources { requests: map(requests), limits: map(limits) }
}

/// The migration command in the component's environment.
pub fn migration_container(app: &App, c: &Component, m: &model::Migrations) -> Container {
    let main = container(app, c);
    let mut migrate = Container {
        command: Some(m.command.clone()),
        args: m.args.clone(),
        env: main.env,
        env_from: main.env_from,
        resources: Some(resources(&m.resources)),
        ..hardened_container(app, "migrate", &m.image)
    };
    if m.image == c.image {
        migrate.image_pull_policy = main.image_pull_policy;
    }
    migrate
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

/// The component's main container.
pub fn container(app: &App, c: &Component) -> Container {
    let env_from = app.config_map.as_ref().map(|cm| {
        vec![EnvFromSource {
            config_map_ref: Some(ConfigMapEnvSource { name: cm.name.clone(), optional: None }),
            ..Default::default()
        }]
    });
    Container {
        name: c.container_name.clone(),
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
    let mut taken: std::collections::HashSet<String> = RESERVED_VOLUMES.iter().map(|n| n.to_string()).collect();
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
