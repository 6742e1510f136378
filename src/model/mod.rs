//! The validated app: every default applied, every cross-field rule
//! checked, nothing optional that rendering needs. Built from a loaded
//! profile by [`build`], which reports all problems it finds at once.
//!
//! This module does no IO; values that come from outside the profile (a
//! created Secret's data) arrive in [`Inputs`].

//!
//! The types are in one file per part of the profile, as in `profile/`
//! (`config`, `workload`, `data`, `production`, `monitoring`); the rules
//! that make them are in `validate/`, by the same parts.

mod config;
pub mod credentials;
pub mod cron;
mod data;
pub mod image;
mod monitoring;
pub mod names;
pub mod naming;
mod production;
pub mod quantity;
pub mod refs;
mod validate;
mod workload;

use std::collections::BTreeMap;

use indexmap::IndexMap;

pub use config::*;
pub use data::*;
pub use monitoring::*;
pub use production::*;
pub use validate::build;
pub use workload::*;

use crate::inputs::Inputs;

/// The app, validated.
#[derive(Clone, Debug)]
pub struct App {
    pub name: String,
    pub instance: String,
    pub part_of: String,
    pub version: Option<String>,
    pub namespace: String,
    /// Set when kgen creates the namespace.
    pub namespace_object: Option<NamespaceObject>,
    /// Extra labels and annotations for every object.
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub image_pull_secrets: Vec<String>,
    pub service_account: ServiceAccount,
    /// The ConfigMap of the settings, when there are settings or an
    /// existing one is named.
    pub config_map: Option<ConfigMap>,
    pub secrets: Vec<Secret>,
    pub security: Security,
    pub components: Vec<Component>,
    pub databases: Vec<Database>,
    pub cache: Option<Cache>,
    pub migrations: Option<Migrations>,
    /// StorageClasses that storage presets create.
    pub storage_classes: Vec<StorageClass>,
    /// Monitoring with the Prometheus Operator, when the profile asks for it.
    pub monitoring: Option<Monitoring>,
    pub ingress: Option<Ingress>,
    pub gateway: Option<Gateway>,
    /// A cert-manager Issuer kgen creates for the Ingress's TLS.
    pub issuer: Option<Issuer>,
    pub network_policy: Option<NetworkPolicy>,
    /// Rules of the app's Role (its ServiceAccount token is then mounted).
    pub rbac: Vec<RbacRule>,
    /// How rendered text names the bundle's objects and the namespace:
    /// plain, except in [`App::marked`].
    pub text_refs: refs::TextRefs,
}

/// A Secret that kgen's credentials Job creates in the cluster when it does
/// not exist, with a random URL-safe value for each key; values never pass
/// through kgen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratedSecret {
    pub name: String,
    pub keys: Vec<String>,
}

impl App {
    /// The Secrets kgen's credentials Job creates: those of the servers
    /// kgen runs (in-cluster databases, the cache) whose passwords nobody
    /// else provides. Sorted by name, each key once.
    pub fn generated_secrets(&self) -> Vec<GeneratedSecret> {
        let mut wanted: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
        for db in &self.databases {
            if let DatabaseKind::InCluster(p) = &db.kind
                && p.generate_password
            {
                wanted.entry(p.password_secret.clone()).or_default().insert(p.password_key.clone());
            }
        }
        if let Some(c) = &self.cache
            && c.generate_password
            && let Some(SecretKeyRef { secret, key }) = &c.password
        {
            wanted.entry(secret.clone()).or_default().insert(key.clone());
        }
        wanted.into_iter().map(|(name, keys)| GeneratedSecret { name, keys: keys.into_iter().collect() }).collect()
    }
}

impl App {
    /// The name of the `kind` object `name` of the bundle, where text holds
    /// it (a host in a URL, a job in PromQL): see [`refs`].
    pub fn name_in_text(&self, kind: &str, name: &str) -> String {
        self.text_refs.name(kind, name)
    }

    /// The app's namespace, where text holds it.
    pub fn namespace_in_text(&self) -> String {
        self.text_refs.namespace(&self.namespace)
    }

    /// The same app, whose text names objects and the namespace by marker
    /// (the kustomize writer's input): the variables the model composed
    /// from names (hosts, URLs, operator Secrets) and the hosts pods wait
    /// for, and through [`App::text_refs`] everything rendering writes.
    pub fn marked(&self) -> App {
        let mut app = self.clone();
        app.text_refs = refs::TextRefs::Marked;
        validate::mark_references(&mut app);
        app
    }

    /// The component whose key is `key`.
    pub fn component(&self, key: &str) -> Option<&Component> {
        self.components.iter().find(|c| c.key == key)
    }
}
