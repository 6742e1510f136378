//! A pod's volumes as host directories, made the way the kubelet makes them:
//!
//! - `emptyDir`: a directory with mode 0777 (`medium: Memory` too: the
//!   scenario's whole root is a tmpfs anyway);
//! - `persistentVolumeClaim` and StatefulSet claim templates
//!   (`<template>-<sts>-0`): a directory per claim in the scenario, kept
//!   across pods, fresh as a provisioner makes it (root:root 0755 with a
//!   `lost+found`);
//! - `secret`, `configMap`, `downwardAPI`, `projected`: files with
//!   `defaultMode` or the item's `mode`, `items` mapping keys to paths,
//!   mounted read-only; a projected service-account token is one the
//!   scenario's API server accepts (`api::token`), `kube-root-ca.crt` its CA;
//!
//! then, with `fsGroup`, the kubelet's ownership change: group fsGroup,
//! `g+rw` (`g+r` for read-only volumes), setgid and `g+x` on directories,
//! recursively; for a claim with `fsGroupChangePolicy: OnRootMismatch` only
//! when the volume's root does not already look right.
//!
//! Not emulated: the atomic-writer layout of secret volumes (`..data`
//! links), size limits (`emptyDir.sizeLimit`, claim sizes: every volume
//! shares the scenario's tmpfs, except claims a test sizes with
//! `Cluster::limit_claim_size`), hostPath and other volume types (an error).

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::{Container, KeyToPath, PodSpec, Volume};

use super::bundle::PodSource;
use super::env::{PodFacts, Sources, field};
use super::sandbox::Bind;

/// A made volume.
#[derive(Clone, Debug)]
pub struct MadeVolume {
    pub host: PathBuf,
    /// Secret, ConfigMap, downward API and projected volumes are always read-only.
    pub read_only: bool,
}

/// Make every volume of a pod. `pod_dir` holds the pod's own volumes,
/// `claims_dir` the scenario's claims.
pub fn make_volumes(
    source: &PodSource,
    pod_dir: &Path,
    claims_dir: &Path,
    sources: &dyn Sources,
    facts: &PodFacts,
) -> Result<BTreeMap<String, MadeVolume>, String> {
    let spec = source.spec();
    let security = spec.security_context.as_ref();
    let fs_group = security.and_then(|s| s.fs_group).map(|g| g as u32);
    let on_root_mismatch = security.and_then(|s| s.fs_group_change_policy.as_deref()) == Some("OnRootMismatch");
    let mut out = BTreeMap::new();
    for volume in spec.volumes.iter().flatten() {
        let made = make_volume(volume, &pod_dir.join("volumes").join(&volume.name), claims_dir, sources, facts)
            .map_err(|e| format!("volume {}: {e}", volume.name))?;
        if let Some(gid) = fs_group {
            let is_claim = volume.persistent_volume_claim.is_some();
            if !(is_claim && on_root_mismatch && ownership_matches(&made.host, gid)) {
                change_ownership(&made.host, gid, made.read_only);
            }
        }
        out.insert(volume.name.clone(), made);
    }
    for template in &source.claim_templates {
        let claim = format!("{template}-{}-0", source.name);
        let host = claim_dir(claims_dir, &claim);
        if let Some(gid) = fs_group
            && !(on_root_mismatch && ownership_matches(&host, gid))
        {
            change_ownership(&host, gid, false);
        }
        out.insert(template.clone(), MadeVolume { host, read_only: false });
    }
    Ok(out)
}

/// The binds of a container's `volumeMounts`, `subPath` included.
pub fn container_mounts(
    container: &Container,
    volumes: &BTreeMap<String, MadeVolume>,
    env: &BTreeMap<String, String>,
) -> Result<Vec<Bind>, String> {
    let mut out = vec![];
    for mount in container.volume_mounts.iter().flatten() {
        let volume =
            volumes.get(&mount.name).ok_or_else(|| format!("volumeMount {} names no volume of the pod", mount.name))?;
        let sub_path = match (&mount.sub_path, &mount.sub_path_expr) {
            (Some(p), _) if !p.is_empty() => p.clone(),
            (_, Some(expr)) if !expr.is_empty() => super::env::expand(expr, |k| env.get(k).cloned()),
            _ => String::new(),
        };
        let mut host = volume.host.clone();
        if !sub_path.is_empty() {
            if sub_path.split('/').any(|c| c == "..") || sub_path.starts_with('/') {
                return Err(format!("subPath {sub_path:?} of volumeMount {} leaves the volume", mount.name));
            }
            host = host.join(&sub_path);
            if !host.exists() {
                // The kubelet creates it with the volume root's mode.
                let mode = std::fs::metadata(&volume.host).map(|m| m.mode() & 0o7777).unwrap_or(0o755);
                std::fs::create_dir_all(&host).map_err(|e| format!("subPath {sub_path}: {e}"))?;
                set_mode(&host, mode);
            }
        }
        out.push(Bind {
            host,
            dest: mount.mount_path.clone(),
            read_only: volume.read_only || mount.read_only == Some(true),
        });
    }
    Ok(out)
}

fn make_volume(
    volume: &Volume,
    dir: &Path,
    claims_dir: &Path,
    sources: &dyn Sources,
    facts: &PodFacts,
) -> Result<MadeVolume, String> {
    if volume.empty_dir.is_some() {
        make_dir(dir, 0o777);
        return Ok(MadeVolume { host: dir.to_path_buf(), read_only: false });
    }
    if let Some(claim) = &volume.persistent_volume_claim {
        let host = claim_dir(claims_dir, &claim.claim_name);
        return Ok(MadeVolume { host, read_only: claim.read_only == Some(true) });
    }
    let mut files = Files::default();
    let default_mode;
    if let Some(secret) = &volume.secret {
        let name = secret.secret_name.clone().unwrap_or_default();
        default_mode = secret.default_mode;
        match sources.secret(&name) {
            Some(data) => files.add_keys(&data, secret.items.as_deref(), secret.optional, &format!("secret {name}"))?,
            None if secret.optional == Some(true) => {}
            None => return Err(format!("secret \"{name}\" not found")),
        }
    } else if let Some(cm) = &volume.config_map {
        default_mode = cm.default_mode;
        match configmap_bytes(sources, &cm.name) {
            Some(data) => files.add_keys(&data, cm.items.as_deref(), cm.optional, &format!("configmap {}", cm.name))?,
            None if cm.optional == Some(true) => {}
            None => return Err(format!("configmap \"{}\" not found", cm.name)),
        }
    } else if let Some(downward) = &volume.downward_api {
        default_mode = downward.default_mode;
        for item in downward.items.iter().flatten() {
            files.add_downward(item, facts)?;
        }
    } else if let Some(projected) = &volume.projected {
        default_mode = projected.default_mode;
        for source in projected.sources.iter().flatten() {
            if let Some(projection) = &source.service_account_token {
                let token = super::api::token(&facts.namespace, &facts.service_account, &facts.name);
                files.insert(&projection.path, token.into_bytes(), None);
            }
            if let Some(cm) = &source.config_map {
                match configmap_bytes(sources, &cm.name) {
                    Some(data) => {
                        files.add_keys(&data, cm.items.as_deref(), cm.optional, &format!("configmap {}", cm.name))?
                    }
                    None if cm.optional == Some(true) => {}
                    None => return Err(format!("configmap \"{}\" not found", cm.name)),
                }
            }
            if let Some(secret) = &source.secret {
                match sources.secret(&secret.name) {
                    Some(data) => files.add_keys(
                        &data,
                        secret.items.as_deref(),
                        secret.optional,
                        &format!("secret {}", secret.name),
                    )?,
                    None if secret.optional == Some(true) => {}
                    None => return Err(format!("secret \"{}\" not found", secret.name)),
                }
            }
            if let Some(downward) = &source.downward_api {
                for item in downward.items.iter().flatten() {
                    files.add_downward(item, facts)?;
                }
            }
            if source.cluster_trust_bundle.is_some() {
                return Err("clusterTrustBundle projections are not emulated".into());
            }
        }
    } else {
        return Err(
            "volume type not emulated (emptyDir, persistentVolumeClaim, secret, configMap, downwardAPI, projected are)"
                .into(),
        );
    }
    make_dir(dir, 0o755);
    files.write(dir, default_mode.map(|m| m as u32).unwrap_or(0o644))?;
    Ok(MadeVolume { host: dir.to_path_buf(), read_only: true })
}

fn configmap_bytes(sources: &dyn Sources, name: &str) -> Option<BTreeMap<String, Vec<u8>>> {
    sources.configmap(name).map(|d| d.into_iter().map(|(k, v)| (k, v.into_bytes())).collect())
}

/// Files of a secret-like volume: relative path → (content, mode).
#[derive(Default)]
struct Files(BTreeMap<String, (Vec<u8>, Option<u32>)>);

impl Files {
    fn insert(&mut self, path: &str, content: Vec<u8>, mode: Option<i32>) {
        self.0.insert(path.to_string(), (content, mode.map(|m| m as u32)));
    }

    fn add_keys(
        &mut self,
        data: &BTreeMap<String, Vec<u8>>,
        items: Option<&[KeyToPath]>,
        optional: Option<bool>,
        what: &str,
    ) -> Result<(), String> {
        match items {
            None => {
                for (k, v) in data {
                    self.insert(k, v.clone(), None);
                }
            }
            Some(items) => {
                for item in items {
                    match data.get(&item.key) {
                        Some(v) => self.insert(&item.path, v.clone(), item.mode),
                        None if optional == Some(true) => {}
                        None => return Err(format!("{what} has no key {}", item.key)),
                    }
                }
            }
        }
        Ok(())
    }

    fn add_downward(
        &mut self,
        item: &k8s_openapi::api::core::v1::DownwardAPIVolumeFile,
        facts: &PodFacts,
    ) -> Result<(), String> {
        let value = match (&item.field_ref, &item.resource_field_ref) {
            (Some(f), _) => field(&f.field_path, facts)?,
            (_, Some(r)) => return Err(format!("resourceFieldRef {} in a volume is not emulated", r.resource)),
            _ => return Err(format!("downwardAPI item {} has no source", item.path)),
        };
        self.insert(&item.path, value.into_bytes(), item.mode);
        Ok(())
    }

    fn write(&self, dir: &Path, default_mode: u32) -> Result<(), String> {
        for (path, (content, mode)) in &self.0 {
            if path.starts_with('/') || path.split('/').any(|c| c == "..") {
                return Err(format!("item path {path:?} leaves the volume"));
            }
            let file = dir.join(path);
            if let Some(parent) = file.parent() {
                std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
            }
            std::fs::write(&file, content).map_err(|e| e.to_string())?;
            set_mode(&file, mode.unwrap_or(default_mode));
        }
        Ok(())
    }
}

/// A claim's directory, made on first use like a fresh volume.
fn claim_dir(claims_dir: &Path, claim: &str) -> PathBuf {
    let dir = claims_dir.join(claim);
    if !dir.exists() {
        make_dir(&dir, 0o755);
        make_dir(&dir.join("lost+found"), 0o700);
    }
    dir
}

fn make_dir(dir: &Path, mode: u32) {
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    set_mode(dir, mode);
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("cannot chmod {}: {e}", path.display()));
}

/// The kubelet's `OnRootMismatch` test: the root already has the group,
/// setgid and group rwx (r-x for read-only volumes is not asked here).
fn ownership_matches(root: &Path, gid: u32) -> bool {
    std::fs::metadata(root).is_ok_and(|m| m.gid() == gid && m.mode() & 0o2070 == 0o2070)
}

/// The kubelet's SetVolumeOwnership: every file and directory gets group
/// `gid` and `g+rw` (`g+r` read-only); directories also setgid and `g+x`.
fn change_ownership(path: &Path, gid: u32, read_only: bool) {
    let meta = std::fs::symlink_metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if meta.file_type().is_symlink() {
        let _ = std::os::unix::fs::lchown(path, None, Some(gid));
        return;
    }
    std::os::unix::fs::chown(path, None, Some(gid)).unwrap_or_else(|e| panic!("chown {}: {e}", path.display()));
    let mut mask = if read_only { 0o440 } else { 0o660 };
    if meta.is_dir() {
        mask |= 0o2000 | 0o110;
    }
    set_mode(path, (meta.mode() & 0o7777) | mask);
    if meta.is_dir() {
        for entry in std::fs::read_dir(path).unwrap().flatten() {
            change_ownership(&entry.path(), gid, read_only);
        }
    }
}

/// The pod's `fsGroup` and `supplementalGroups`, for the process identity.
pub fn pod_groups(spec: &PodSpec) -> Vec<u32> {
    let security = spec.security_context.as_ref();
    let mut groups: Vec<u32> = security.and_then(|s| s.fs_group).map(|g| g as u32).into_iter().collect();
    for g in security.and_then(|s| s.supplemental_groups.clone()).unwrap_or_default() {
        if !groups.contains(&(g as u32)) {
            groups.push(g as u32);
        }
    }
    groups
}
