//! The migration Job. Jobs are immutable, so its name carries a hash of
//! the image and command: a new release with a new image is a new Job, and
//! re-applying an unchanged one is a no-op.

use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{PodSpec, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::lifecycle::{self, InstallPhase};
use super::workload::{database_access, migration_container, pod_security_context, pull_secrets, writable_volumes};
use super::{sha256_hex, versioned_labels, versioned_meta};
use crate::model::{App, MigrationStrategy, naming};
use crate::object::Object;

/// Component label of migration Jobs.
pub const COMPONENT: &str = naming::MIGRATIONS_COMPONENT;

pub fn render(app: &App, out: &mut Vec<Object>) {
    let Some(m) = app.migrations.as_ref().filter(|m| m.strategy == MigrationStrategy::Job) else { return };
    let Some(c) = app.component(&m.component) else { return };
    let mut migrate = migration_container(app, c, m);
    let (mut volumes, mut mounts) = writable_volumes(&c.writable_paths);
    let access = database_access(app, c);
    volumes.extend(access.volumes);
    mounts.extend(access.mount);
    migrate.volume_mounts = (!mounts.is_empty()).then_some(mounts);
    let wait = access.init_containers;
    // An Argo CD Sync hook in the migration wave: it runs after the database
    // and before the app, and Argo CD does not recreate it once its TTL has
    // removed it. Plain `kubectl apply` ignores these annotations.
    let mut metadata = versioned_meta(app, &job_name(app, m), Some(COMPONENT));
    lifecycle::tag(&mut metadata, InstallPhase::Migration);
    let annotations = metadata.annotations.get_or_insert_default();
    annotations.insert("argocd.argoproj.io/hook".into(), "Sync".into());
    annotations.insert("argocd.argoproj.io/hook-delete-policy".into(), "BeforeHookCreation".into());
    out.push(
        Job {
            metadata,
            spec: Some(JobSpec {
                backoff_limit: Some(m.backoff_limit),
                active_deadline_seconds: Some(m.active_deadline_seconds),
                ttl_seconds_after_finished: Some(m.ttl_seconds_after_finished),
                template: PodTemplateSpec {
                    metadata: Some(ObjectMeta {
                        labels: Some(versioned_labels(app, Some(COMPONENT))),
                        ..Default::default()
                    }),
                    spec: Some(PodSpec {
                        restart_policy: Some("Never".into()),
                        service_account_name: Some(app.service_account.name.clone()),
                        automount_service_account_token: Some(app.service_account.automount_token),
                        security_context: Some(pod_security_context(app)),
                        image_pull_secrets: pull_secrets(app),
                        init_containers: (!wait.is_empty()).then_some(wait),
                        containers: vec![migrate],
                        volumes: (!volumes.is_empty()).then_some(volumes),
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

/// The Job's name (`naming::migration_job`) with 8 hex of its image and
/// command.
pub fn job_name(app: &App, m: &crate::model::Migrations) -> String {
    let identity = serde_json::to_vec(&(&m.image, &m.command, &m.args)).expect("strings serialize");
    naming::migration_job(&app.name, &sha256_hex(&identity)[..8])
}
