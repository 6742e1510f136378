//! Profile → App: apply defaults and check every rule, collecting all
//! problems with the location of the field they are about. One file per
//! part of the profile; `Builder` carries the diagnostics.

mod config;
mod data;
mod monitoring;
mod workload;

use super::image::ImageRef;
use super::names;
use super::*;
use crate::diagnostic::{Collector, Diagnostic, Errors};
use crate::path;
use crate::profile::{API_VERSION, load::Loaded};
use crate::yaml::PathSegment;

/// Labels kgen sets itself on every object.
pub(super) const RESERVED_LABELS: &[&str] = &[
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/component",
    "app.kubernetes.io/managed-by",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/version",
];

/// Namespaces that exist in every cluster and are never created.
pub(super) const SYSTEM_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

/// Validate a loaded profile into an [`App`]; warnings come back beside it.
pub fn build(loaded: &Loaded, inputs: &Inputs) -> Result<(App, Vec<Diagnostic>), Errors> {
    let mut b = Builder { loaded, out: Collector::default(), sqlite_volumes: Vec::new(), storage_classes: Vec::new() };
    let app = b.app(inputs);
    b.out.finish(app)
}

pub(super) struct Builder<'a> {
    loaded: &'a Loaded,
    out: Collector,
    /// SQLite volumes found while building databases, by component.
    sqlite_volumes: Vec<(String, SqliteVolume)>,
    /// StorageClasses that storage presets create.
    storage_classes: Vec<StorageClass>,
}

impl Builder<'_> {
    pub(super) fn diag(&mut self, d: Diagnostic, path: &[PathSegment], on_key: bool) {
        let span = if on_key { self.loaded.tree.key_span_of(path) } else { self.loaded.span_of(path) };
        self.out.push(d.at(Some(span)).path(self.loaded.display_path(path)));
    }

    pub(super) fn error(&mut self, path: &[PathSegment], message: impl Into<String>) {
        self.diag(Diagnostic::error(message), path, false);
    }

    pub(super) fn error_hint(&mut self, path: &[PathSegment], message: impl Into<String>, hint: impl Into<String>) {
        self.diag(Diagnostic::error(message).hint(hint), path, false);
    }

    /// An error about a map key (a component name, a label key, …).
    pub(super) fn key_error(&mut self, path: &[PathSegment], message: impl Into<String>) {
        self.diag(Diagnostic::error(message), path, true);
    }

    pub(super) fn warning(&mut self, path: &[PathSegment], message: impl Into<String>, hint: impl Into<String>) {
        self.diag(Diagnostic::warning(message).hint(hint), path, false);
    }

    pub(super) fn check(
        &mut self,
        path: &[PathSegment],
        what: &str,
        value: &str,
        rule: impl Fn(&str) -> Result<(), String>,
    ) {
        if let Err(why) = rule(value) {
            self.error(path, format!("{what} `{value}` {why}"));
        }
    }

    fn app(&mut self, inputs: &Inputs) -> App {
        let p = &self.loaded.profile;
        if let Some(v) = &p.api_version
            && v != API_VERSION
        {
            self.error_hint(
                &path!["apiVersion"],
                format!("unsupported apiVersion `{v}`"),
                format!("this kgen reads `{API_VERSION}`"),
            );
        }
        if let Some(k) = &p.kind
            && k != "App"
        {
            self.error_hint(&path!["kind"], format!("unsupported kind `{k}`"), "a profile's kind is `App`");
        }
        let name = p.name.clone();
        if name.is_empty() {
            self.error_hint(&[], "the profile has no `name`", "add `name: my-app` (lowercase letters, digits and `-`)");
        } else {
            self.check(&path!["name"], "app name", &name, |s| names::dns1035_label(s, 63));
        }
        let instance = p.instance.clone().unwrap_or_else(|| name.clone());
        self.check(&path!["instance"], "instance", &instance, names::label_value);
        let part_of = p.part_of.clone().unwrap_or_else(|| name.clone());
        self.check(&path!["partOf"], "partOf", &part_of, names::label_value);

        let namespace = self.namespace(&name);
        let labels = self.metadata_map(&p.labels, "labels", true);
        let annotations = self.metadata_map(&p.annotations, "annotations", false);
        for (i, s) in p.image_pull_secrets.iter().enumerate() {
            self.check(&path!["imagePullSecrets", i], "secret name", s, |s| names::dns1123_subdomain(s, 253));
        }
        let service_account = self.service_account(&name);
        let config_map = self.config_map(&name);
        let secrets = self.secrets(inputs);
        let security = self.security();

        let databases = self.databases(&name);
        let cache = self.cache(&name);
        let mut components = Vec::new();
        let keys: Vec<String> = p.components.keys().cloned().collect();
        for key in &keys {
            if let Some(c) = self.component(key, &name, &secrets, &config_map) {
                components.push(c);
            }
        }
        self.attach_data(&mut components, &databases, &cache);
        let migrations = self.migrations(&mut components, &databases);
        let monitoring = self.monitoring(&name);
        self.attach_metrics(&mut components, monitoring.is_some());
        let version = match &p.version {
            Some(v) => {
                self.check(&path!["version"], "version", v, names::label_value);
                Some(v.clone())
            }
            None => self.version_from_image(&components),
        };
        App {
            name,
            instance,
            part_of,
            version,
            namespace: namespace.0,
            namespace_object: namespace.1,
            labels,
            annotations,
            image_pull_secrets: p.image_pull_secrets.clone(),
            service_account,
            config_map,
            secrets,
            security,
            components,
            databases,
            cache,
            migrations,
            storage_classes: std::mem::take(&mut self.storage_classes),
            monitoring,
        }
    }

    fn version_from_image(&self, components: &[Component]) -> Option<String> {
        let first = components.first()?;
        let image = ImageRef::parse(&first.image).ok()?;
        let tag = image.tag?;
        names::label_value(&tag).ok()?;
        Some(tag)
    }
}
