//! The credentials Job: it creates, inside the cluster, the Secrets of the
//! servers kgen runs (in-cluster databases, the cache) when they do not
//! exist, with random URL-safe passwords, and never touches one that does.
//! Values never pass through kgen, so a render stays deterministic and
//! holds no secret; they survive re-applies and upgrades because an
//! existing Secret is kept. Its ServiceAccount may only create Secrets.
//!
//! It runs in the setup wave, before the servers; with a plain `kubectl
//! apply`, pods that read a Secret wait (CreateContainerConfigError) until
//! the Job made it, then start.

use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{EmptyDirVolumeSource, PodSpec, PodTemplateSpec, ServiceAccount, Volume, VolumeMount};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::lifecycle::{self, InstallPhase};
use super::workload::{API_TOKEN_VOLUME, api_token_volume, hardened_container, pod_security_context, pull_secrets};
use super::{meta, sha256_hex, support_pod_labels};
use crate::model::{App, naming};
use crate::object::Object;

/// The component label of the Job's pods and the suffix of its objects.
pub const COMPONENT: &str = "kgen-credentials";
/// A small image with a POSIX shell and curl, to call the API server.
pub const IMAGE: &str = "curlimages/curl:8.11.1";

pub fn render(app: &App, out: &mut Vec<Object>) {
    let secrets = app.generated_secrets();
    if secrets.is_empty() {
        return;
    }
    let account = naming::credentials_account(&app.name);
    out.push(
        ServiceAccount {
            metadata: meta(app, &account, Some(COMPONENT)),
            automount_service_account_token: Some(false),
            ..Default::default()
        }
        .into(),
    );
    out.push(
        Role {
            metadata: meta(app, &account, Some(COMPONENT)),
            rules: Some(vec![PolicyRule {
                api_groups: Some(vec![String::new()]),
                resources: Some(vec!["secrets".into()]),
                verbs: vec!["create".into()],
                ..Default::default()
            }]),
        }
        .into(),
    );
    out.push(
        RoleBinding {
            metadata: meta(app, &account, Some(COMPONENT)),
            role_ref: RoleRef {
                api_group: "rbac.authorization.k8s.io".into(),
                kind: "Role".into(),
                name: account.clone(),
            },
            subjects: Some(vec![Subject {
                kind: "ServiceAccount".into(),
                name: account.clone(),
                namespace: Some(app.namespace.clone()),
                ..Default::default()
            }]),
        }
        .into(),
    );
    // The Secrets' labels: the app's, but not `managed-by: kgen`, so that
    // removing what kgen manages never removes a password a database's
    // volume was initialised with.
    let labels = [
        ("app.kubernetes.io/name", app.name.as_str()),
        ("app.kubernetes.io/instance", app.instance.as_str()),
        ("app.kubernetes.io/part-of", app.part_of.as_str()),
        ("app.kubernetes.io/created-by", super::MANAGED_BY),
    ]
    .iter()
    .map(|(k, v)| format!("\"{k}\":\"{v}\""))
    .collect::<Vec<_>>()
    .join(",");
    let context = minijinja::context! {
        labels => labels,
        secrets => secrets.iter().map(|s| minijinja::context! { name => s.name.clone(), keys => s.keys.clone() }).collect::<Vec<_>>(),
    };
    let script = crate::templates::render("create-credentials.sh", context);
    let mut container = hardened_container(app, "create", IMAGE);
    container.command = Some(vec!["sh".into(), "-c".into(), script.clone()]);
    container.resources = Some(super::workload::resources(&super::workload::small_tool_resources()));
    container.volume_mounts = Some(vec![
        VolumeMount {
            name: API_TOKEN_VOLUME.into(),
            mount_path: "/var/run/secrets/kubernetes.io/serviceaccount".into(),
            read_only: Some(true),
            ..Default::default()
        },
        VolumeMount { name: "tmp".into(), mount_path: "/tmp".into(), ..Default::default() },
    ]);
    // Jobs are immutable: a new set of Secrets is a new Job, named with 8
    // hex of its image and script.
    let hash = &sha256_hex(format!("{IMAGE}\n{script}").as_bytes())[..8];
    let name = naming::credentials_job(&app.name, hash);
    let mut metadata = meta(app, &name, Some(COMPONENT));
    lifecycle::tag(&mut metadata, InstallPhase::Setup);
    out.push(
        Job {
            metadata,
            spec: Some(JobSpec {
                backoff_limit: Some(4),
                active_deadline_seconds: Some(300),
                template: PodTemplateSpec {
                    metadata: Some(ObjectMeta {
                        labels: Some(support_pod_labels(app, COMPONENT)),
                        ..Default::default()
                    }),
                    spec: Some(PodSpec {
                        restart_policy: Some("Never".into()),
                        service_account_name: Some(account),
                        automount_service_account_token: Some(false),
                        security_context: Some(pod_security_context(app)),
                        image_pull_secrets: pull_secrets(app),
                        containers: vec![container],
                        volumes: Some(vec![
                            api_token_volume(),
                            Volume {
                                name: "tmp".into(),
                                empty_dir: Some(EmptyDirVolumeSource::default()),
                                ..Default::default()
                            },
                        ]),
                        ..Default::default()
                    }),
                },
                ..Default::default()
            }),
            ..Default::default()
        }
        .into(),
    );
}
