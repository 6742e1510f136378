//! How kgen's objects live in a cluster across releases: the Argo CD sync
//! wave of every object (one table, keyed by what the object is) and the
//! annotations that keep Argo CD and Flux from deleting data (PVCs, claim
//! templates and created Namespaces).
//!
//! Ownership needs no annotation: every object carries
//! `app.kubernetes.io/managed-by: kgen` and `app.kubernetes.io/instance`,
//! which together select what kgen owns for one app (docs/gitops.md,
//! "Applying, pruning and uninstalling").

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::object::Object;

use crate::kube::{ARGO_SYNC_OPTIONS, FLUX_PRUNE, SYNC_WAVE};

/// Keeps Argo CD from pruning the object when it leaves the bundle, and from
/// deleting it with the Application.
pub const ARGO_KEEP: &str = "Prune=false,Delete=false";
/// Keeps Flux from garbage-collecting the object.
pub const FLUX_KEEP: &str = "disabled";

/// What an object is, for the order in which GitOps tools apply it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InstallPhase {
    /// The namespace, accounts, RBAC, configuration and secrets.
    Setup,
    /// Databases and caches the app connects to.
    Database,
    /// Schema migrations, which need the database and precede the app.
    Migration,
    /// The app's workloads and what routes to or scales them.
    App,
}

/// The one sync-wave table.
pub const SYNC_WAVES: &[(InstallPhase, i32)] =
    &[(InstallPhase::Setup, -3), (InstallPhase::Database, -2), (InstallPhase::Migration, -1), (InstallPhase::App, 0)];

impl InstallPhase {
    pub fn wave(self) -> i32 {
        SYNC_WAVES.iter().find(|(s, _)| *s == self).map(|(_, w)| *w).expect("every phase has a wave")
    }

    /// The phase of an object that was not tagged explicitly. A standalone
    /// PVC goes with the earliest workload that mounts it (see [`finish`]),
    /// or else with the app: with a `WaitForFirstConsumer` storage class it
    /// stays Pending (not healthy) until a pod uses it, so a wave of its own
    /// before its pods would never finish, and a wave after them would hold
    /// them Pending forever.
    pub fn of_kind(kind: &str) -> InstallPhase {
        match kind {
            "Namespace" | "ServiceAccount" | "Secret" | "ConfigMap" | "StorageClass" | "Role" | "RoleBinding"
            | "ClusterRole" | "ClusterRoleBinding" | "NetworkPolicy" | "PriorityClass" | "ExternalSecret"
            | "SealedSecret" | "SecretStore" | "Certificate" | "Issuer" => InstallPhase::Setup,
            _ => InstallPhase::App,
        }
    }
}

/// Put an object in an install phase: render code for databases and migrations calls
/// this on the metadata of the objects it makes; everything else gets the
/// phase of its kind in [`finish`].
pub fn tag(meta: &mut ObjectMeta, phase: InstallPhase) {
    meta.annotations.get_or_insert_default().insert(SYNC_WAVE.into(), phase.wave().to_string());
}

/// The annotations that keep Argo CD and Flux from deleting an object that
/// holds data (a PVC, a StatefulSet's claim template, a created Namespace).
pub fn protect(meta: &mut ObjectMeta) {
    let a = meta.annotations.get_or_insert_default();
    // The profile's own sync options (say `ServerSideApply=true`) stay.
    let options = match a.get(ARGO_SYNC_OPTIONS) {
        Some(own) if !own.is_empty() => {
            let own: Vec<&str> = own
                .split(',')
                .map(str::trim)
                .filter(|o| !o.starts_with("Prune=") && !o.starts_with("Delete="))
                .collect();
            [own.join(","), ARGO_KEEP.to_string()].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(",")
        }
        _ => ARGO_KEEP.to_string(),
    };
    a.insert(ARGO_SYNC_OPTIONS.into(), options);
    a.insert(FLUX_PRUNE.into(), FLUX_KEEP.into());
}

/// Give every object a sync wave (unless tagged already) and protect the
/// objects that hold data. StatefulSet claim templates are immutable, so
/// their annotations must never change once released.
pub fn finish(objects: &mut [Object]) {
    let claim_waves = claim_waves(objects);
    for o in objects.iter_mut() {
        let phase = InstallPhase::of_kind(o.kind());
        match o {
            Object::Namespace(ns) => protect(&mut ns.metadata),
            Object::PersistentVolumeClaim(pvc) => protect(&mut pvc.metadata),
            Object::StatefulSet(sts) => {
                for claim in sts.spec.iter_mut().flat_map(|s| s.volume_claim_templates.iter_mut().flatten()) {
                    protect(&mut claim.metadata);
                }
            }
            _ => {}
        }
        let claim_wave = match o {
            Object::PersistentVolumeClaim(_) => {
                claim_waves.get(&(o.namespace().map(str::to_string), o.name().to_string())).copied()
            }
            _ => None,
        }
        .map(|w| w.to_string());
        let meta = o.metadata_mut();
        if !meta.annotations.as_ref().is_some_and(|a| a.contains_key(SYNC_WAVE)) {
            match claim_wave {
                Some(wave) => {
                    meta.annotations.get_or_insert_default().insert(SYNC_WAVE.into(), wave);
                }
                None => tag(meta, phase),
            }
        }
    }
}

/// The wave of every claim a workload mounts: the earliest wave of the
/// workloads that mount it, so that Argo CD never waits on a workload whose
/// claim comes in a later wave.
fn claim_waves(objects: &[Object]) -> BTreeMap<(Option<String>, String), i32> {
    let mut waves: BTreeMap<(Option<String>, String), i32> = BTreeMap::new();
    for o in objects {
        let wave = wave_of(o);
        for claim in o.mounted_claims() {
            let w = waves.entry((o.namespace().map(str::to_string), claim.to_string())).or_insert(wave);
            *w = (*w).min(wave);
        }
    }
    waves
}

/// An object's sync wave: its annotation, or its kind's phase.
pub fn wave_of(o: &Object) -> i32 {
    o.metadata()
        .annotations
        .as_ref()
        .and_then(|a| a.get(SYNC_WAVE))
        .and_then(|w| w.trim().parse().ok())
        .unwrap_or_else(|| InstallPhase::of_kind(o.kind()).wave())
}

/// The lifecycle annotations of an object (for tests and `kgen diff`).
pub fn annotations(meta: &ObjectMeta) -> BTreeMap<&str, &str> {
    let keys = [SYNC_WAVE, ARGO_SYNC_OPTIONS, FLUX_PRUNE];
    meta.annotations
        .iter()
        .flatten()
        .filter(|(k, _)| keys.contains(&k.as_str()))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetSpec};
    use k8s_openapi::api::core::v1::{ConfigMap, Namespace, PersistentVolumeClaim};

    use super::*;

    fn named(name: &str) -> ObjectMeta {
        ObjectMeta { name: Some(name.into()), ..Default::default() }
    }

    #[test]
    fn protection_keeps_the_profiles_own_sync_options() {
        let mut meta = named("data");
        meta.annotations =
            Some([(ARGO_SYNC_OPTIONS.to_string(), "ServerSideApply=true, Prune=true".to_string())].into());
        protect(&mut meta);
        assert_eq!(annotations(&meta)[ARGO_SYNC_OPTIONS], "ServerSideApply=true,Prune=false,Delete=false");
        let mut meta = named("plain");
        protect(&mut meta);
        assert_eq!(annotations(&meta)[ARGO_SYNC_OPTIONS], ARGO_KEEP);
    }

    #[test]
    fn waves_order_setup_databases_migrations_app() {
        let waves: Vec<i32> = [InstallPhase::Setup, InstallPhase::Database, InstallPhase::Migration, InstallPhase::App]
            .map(InstallPhase::wave)
            .into();
        assert!(waves.windows(2).all(|w| w[0] < w[1]), "{waves:?}");
    }

    #[test]
    fn data_is_protected_and_every_object_has_a_wave() {
        let mut db = StatefulSet {
            metadata: named("db"),
            spec: Some(StatefulSetSpec {
                volume_claim_templates: Some(vec![PersistentVolumeClaim {
                    metadata: named("data"),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        };
        tag(&mut db.metadata, InstallPhase::Database);
        let mut objects: Vec<Object> = vec![
            Namespace { metadata: named("shop"), ..Default::default() }.into(),
            ConfigMap { metadata: named("cfg"), ..Default::default() }.into(),
            PersistentVolumeClaim { metadata: named("files"), ..Default::default() }.into(),
            db.into(),
        ];
        finish(&mut objects);
        let got: Vec<BTreeMap<&str, &str>> = objects.iter().map(|o| annotations(o.metadata())).collect();
        let keep = [(ARGO_SYNC_OPTIONS, ARGO_KEEP), (FLUX_PRUNE, FLUX_KEEP)];
        let with = |wave: &'static str, protected: bool| {
            let mut m: BTreeMap<&str, &str> = [(SYNC_WAVE, wave)].into();
            if protected {
                m.extend(keep);
            }
            m
        };
        assert_eq!(got, [with("-3", true), with("-3", false), with("0", true), with("-2", false)]);
        let Object::StatefulSet(sts) = &objects[3] else { panic!() };
        let claim = &sts.spec.as_ref().unwrap().volume_claim_templates.as_ref().unwrap()[0];
        assert_eq!(annotations(&claim.metadata), BTreeMap::from(keep));
    }
}
