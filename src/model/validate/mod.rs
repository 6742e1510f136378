//! Profile → App: apply defaults and check every rule, collecting all
//! problems with the location of the field they are about. One file per
//! part of the profile; `Builder` carries the diagnostics.

mod config;
mod data;
mod monitoring;
mod production;
mod workload;

pub(super) use data::mark_references;

use super::image::ImageRef;
use super::*;
use super::{credentials, names};
use crate::diagnostic::Code;
use crate::diagnostic::{Collector, Diagnostic, Errors, Redaction};
use crate::kube;
use crate::path;
use crate::profile::{API_VERSION, load::Loaded};
use crate::redact::Redact;
use crate::yaml::PathSegment;

/// Labels kgen sets itself on every object.
pub(super) const RESERVED_LABELS: &[&str] = &[
    kube::LABEL_NAME,
    kube::LABEL_INSTANCE,
    kube::LABEL_COMPONENT,
    kube::LABEL_MANAGED_BY,
    kube::LABEL_PART_OF,
    kube::LABEL_VERSION,
];

/// Annotations kgen sets itself on objects: Argo CD's sync wave (from
/// `render::lifecycle`'s one table) and Flux's prune switch. Argo CD's sync
/// options are the profile's to set: kgen adds its `Prune=false,Delete=false`
/// to them on the objects that hold data.
pub(super) const RESERVED_ANNOTATIONS: &[&str] = &[kube::SYNC_WAVE, kube::FLUX_PRUNE];

/// Annotations kgen sets itself on pods: checksums of the created settings
/// and Secrets, which roll the pods when those change (`render::config`).
pub(super) const RESERVED_POD_ANNOTATIONS: &[&str] = &["checksum/config", "checksum/secret"];

/// Where a credential written as plain text would end up, with the key or
/// variable that holds it, for [`Builder::no_credential`]'s message and hint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum CredentialPlace<'a> {
    Label(&'a str),
    Annotation(&'a str),
    /// A key of the created settings.
    Setting(&'a str),
    /// An environment variable.
    Variable(&'a str),
    /// A command or its arguments, named as messages name it
    /// ("a probe command", "`migrations.command`").
    Command(&'a str),
}

impl<'a> CredentialPlace<'a> {
    /// What the place is called in messages, and the name of its key or
    /// variable.
    fn what_and_name(self) -> (&'a str, Option<&'a str>) {
        match self {
            CredentialPlace::Label(key) => ("label", Some(key)),
            CredentialPlace::Annotation(key) => ("annotation", Some(key)),
            CredentialPlace::Setting(key) => ("setting", Some(key)),
            CredentialPlace::Variable(name) => ("variable", Some(name)),
            CredentialPlace::Command(what) => (what, None),
        }
    }
}

/// What a map of metadata is, for its checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum MetaMap {
    Labels,
    Annotations,
    /// Annotations of pods (`podAnnotations`).
    PodAnnotations,
}

/// The most entries (fields, list items) a render may expand to, counted
/// roughly: as many as the largest profile the parser accepts may hold.
const EXPANSION_BUDGET: usize = 250_000;

/// The entries one component renders besides what it shares with the others
/// (its Deployment, Service, probes, security context…), roughly.
const COMPONENT_COST: usize = 64;

/// The largest count Kubernetes keeps (replicas, instances, budgets: int32
/// fields of the API).
pub(super) const INT32_MAX: u32 = i32::MAX as u32;

/// Namespaces that exist in every cluster and are never created.
pub(super) const SYSTEM_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

/// Validate a loaded profile into an [`App`]; warnings come back beside it.
pub fn build(loaded: &Loaded, inputs: &Inputs) -> Result<(App, Vec<Diagnostic>), Errors> {
    let mut b = Builder {
        loaded,
        out: Collector::default(),
        credentials: Vec::new(),
        sqlite_volumes: Vec::new(),
        storage_classes: Vec::new(),
    };
    let app = b.app(inputs);
    b.mask_credentials();
    b.out.finish(app)
}

pub(super) struct Builder<'a> {
    loaded: &'a Loaded,
    out: Collector,
    /// Where the profile writes credentials: no snippet may show them.
    credentials: Vec<Redaction>,
    /// SQLite volumes found while building databases, by component.
    sqlite_volumes: Vec<(String, SqliteVolume)>,
    /// StorageClasses that storage presets create.
    storage_classes: Vec<StorageClass>,
}

impl Builder<'_> {
    pub(super) fn diag(&mut self, d: Diagnostic, path: &[PathSegment], on_key: bool) {
        if self.out.is_full() {
            self.out.drop_one();
            return;
        }
        let span = if on_key { self.loaded.tree.key_span_of(path) } else { self.loaded.span_of(path) };
        self.out.push(d.at(Some(span)).path(self.loaded.display_path(path)));
    }

    pub(super) fn error(&mut self, code: Code, path: &[PathSegment], message: impl Into<String>) {
        self.diag(Diagnostic::error(code, message), path, false);
    }

    pub(super) fn error_hint(
        &mut self,
        code: Code,
        path: &[PathSegment],
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.diag(Diagnostic::error(code, message).hint(hint), path, false);
    }

    /// An error about a map key (a component name, a label key, …).
    pub(super) fn key_error(&mut self, code: Code, path: &[PathSegment], message: impl Into<String>) {
        self.diag(Diagnostic::error(code, message), path, true);
    }

    /// A profile that works, but likely not as meant ([`Code::Advice`]).
    pub(super) fn warning(&mut self, path: &[PathSegment], message: impl Into<String>, hint: impl Into<String>) {
        self.diag(Diagnostic::warning(Code::Advice, message).hint(hint), path, false);
    }

    /// Refuse a credential written as plain text in the profile, where
    /// `place` says it would end up. Messages never repeat the value, and
    /// snippets show it masked.
    pub(super) fn no_credential(&mut self, path: &[PathSegment], place: CredentialPlace<'_>, value: &str) {
        if value.is_empty() {
            return;
        }
        let (what, name) = place.what_and_name();
        let metadata = matches!(place, CredentialPlace::Label(_) | CredentialPlace::Annotation(_));
        let settings = matches!(place, CredentialPlace::Setting(_) | CredentialPlace::Variable(_));
        let keep_in_secret = "keep it in a Secret and list it under `secrets.<name>.env`; kgen can create that \
                              Secret from its own environment with `create.fromEnv`";
        let pass_through_env = "read it from a Secret into an environment variable (`secrets.<name>.env`) and \
                                refer to it as `$(VAR)`";
        // Annotation keys follow other tools' conventions (Vault's
        // `agent-inject-token: "true"`): only their values are checked.
        let (diagnostic, kind) = if let Some(n) = name
            && !metadata
            && credentials::is_credential_name(n)
            && credentials::is_plain_value(value)
        {
            let message = format!("{what} `{n}` looks like a credential, written as plain text");
            (Diagnostic::error(Code::PlainCredential, message).hint(keep_in_secret), Redact::Whole)
        } else if credentials::has_url_password(value) {
            let hint = if matches!(place, CredentialPlace::Annotation(_)) {
                "anyone who can read the object reads its annotations: keep credentials in a Secret".to_string()
            } else if settings {
                format!(
                    "{keep_in_secret}, or put only the password there and write `user:$(DB_PASSWORD)@` \
                     (Kubernetes fills in `$(VAR)`)"
                )
            } else {
                pass_through_env.to_string()
            };
            let subject = match name {
                Some(n) => format!("{what} `{n}`"),
                None => what.to_string(),
            };
            let message = format!("{subject} contains a URL with a password (`user:password@`)");
            (Diagnostic::error(Code::PlainCredential, message).hint(hint), Redact::UrlPasswords)
        } else if let Some(shape) = credentials::credential_shape(value) {
            let subject = match name {
                Some(n) => format!("{what} `{n}`"),
                None => what.to_string(),
            };
            let hint = if metadata {
                "anyone who can read the object reads its metadata: keep credentials in a Secret"
            } else if settings {
                keep_in_secret
            } else {
                pass_through_env
            };
            let message = format!("{subject} holds what looks like {shape}, written as plain text");
            (Diagnostic::error(Code::PlainCredential, message).hint(hint), Redact::Whole)
        } else {
            return;
        };
        // A variable written as `{value: …}` keeps its value one level down.
        let mut value_path = path.to_vec();
        if self.loaded.tree.lookup(path).and_then(|n| n.as_map()).is_some_and(|m| m.get("value").is_some()) {
            value_path.push("value".into());
        }
        let redaction = Redaction { span: self.loaded.span_of(&value_path), kind };
        self.credentials.push(redaction);
        self.diag(diagnostic.redact(redaction), path, false);
    }

    /// Mask the credentials in every snippet that shows their lines (a
    /// problem with a key shows the value beside it).
    fn mask_credentials(&mut self) {
        for d in &mut self.out.diagnostics {
            for r in &self.credentials {
                if d.shows(r.span) && !d.redactions.contains(r) {
                    d.redactions.push(*r);
                }
            }
        }
    }

    /// Check an image reference the profile writes (a database's, the
    /// cache's, a backup's); true when there is none or it is valid.
    pub(super) fn image_field(&mut self, path: &[PathSegment], image: Option<&str>) -> bool {
        let Some(image) = image else { return true };
        match ImageRef::parse(image) {
            Ok(_) => true,
            Err(why) => {
                self.error_hint(
                    Code::Image,
                    path,
                    format!("image `{image}`: {why}"),
                    "write it as `[registry/]repository[:tag][@sha256:digest]`, e.g. `postgres:17`",
                );
                false
            }
        }
    }

    /// Refuse a count above what the Kubernetes API keeps (an int32).
    pub(super) fn int32(&mut self, path: &[PathSegment], field: &str, value: u32) {
        if value > INT32_MAX {
            self.error(Code::IntRange, path, format!("{field} {value} is more than Kubernetes allows ({INT32_MAX})"));
        }
    }

    /// An error with `code` at `path` when `value` breaks `rule`: "`what`
    /// `value` why". The caller knows what it checks, so it gives the code.
    pub(super) fn apply_rule(
        &mut self,
        code: Code,
        path: &[PathSegment],
        what: &str,
        value: &str,
        rule: impl Fn(&str) -> Result<(), String>,
    ) {
        if let Err(why) = rule(value) {
            self.error(code, path, format!("{what} `{value}` {why}"));
        }
    }

    fn app(&mut self, inputs: &Inputs) -> App {
        let (name, instance, part_of) = self.identity();
        let p = &self.loaded.profile;
        let namespace = self.namespace(&name);
        let labels = self.metadata_map(&p.labels, "labels", MetaMap::Labels);
        let annotations = self.metadata_map(&p.annotations, "annotations", MetaMap::Annotations);
        for (i, s) in p.image_pull_secrets.iter().enumerate() {
            self.apply_rule(Code::SecretName, &path!["imagePullSecrets", i], "secret name", s, |s| {
                names::dns1123_subdomain(s, 253)
            });
        }
        let service_account = self.service_account(&name);
        let config_map = self.config_map(&name);
        let mut secrets = self.secrets(inputs);
        let security = self.security();
        let parts = if self.expands_too_far(&secrets) {
            Parts::default()
        } else {
            self.parts(inputs, &name, &namespace, &config_map, &mut secrets)
        };
        App {
            name,
            instance,
            part_of,
            version: parts.version,
            namespace: namespace.0,
            namespace_object: namespace.1,
            labels,
            annotations,
            image_pull_secrets: parts.image_pull_secrets,
            service_account,
            config_map,
            secrets,
            security,
            components: parts.components,
            databases: parts.databases,
            cache: parts.cache,
            migrations: parts.migrations,
            storage_classes: std::mem::take(&mut self.storage_classes),
            ingress: parts.ingress,
            gateway: parts.gateway,
            issuer: parts.issuer,
            network_policy: parts.network_policy,
            rbac: parts.rbac,
            monitoring: parts.monitoring,
            text_refs: Default::default(),
        }
    }

    /// `apiVersion`, `kind`, and the app's name, instance and `partOf`
    /// (the last two default to the name, and are checked with it).
    fn identity(&mut self) -> (String, String, String) {
        let p = &self.loaded.profile;
        if let Some(v) = &p.api_version
            && v != API_VERSION
        {
            self.error_hint(
                Code::ProfileShape,
                &path!["apiVersion"],
                format!("unsupported apiVersion `{v}`"),
                format!("this kgen reads `{API_VERSION}`"),
            );
        }
        if let Some(k) = &p.kind
            && k != "App"
        {
            self.error_hint(
                Code::ProfileShape,
                &path!["kind"],
                format!("unsupported kind `{k}`"),
                "a profile's kind is `App`",
            );
        }
        let name = p.name.clone();
        if name.is_empty() {
            self.error_hint(
                Code::ProfileShape,
                &[],
                "the profile has no `name`",
                "add `name: my-app` (lowercase letters, digits and `-`)",
            );
        } else {
            self.apply_rule(Code::AppIdentity, &path!["name"], "app name", &name, |s| names::dns1035_label(s, 63));
        }
        // Defaults from the name are checked with the name.
        let instance = p.instance.clone().unwrap_or_else(|| name.clone());
        if p.instance.is_some() {
            self.apply_rule(Code::AppIdentity, &path!["instance"], "instance", &instance, names::label_value);
        }
        let part_of = p.part_of.clone().unwrap_or_else(|| name.clone());
        if p.part_of.is_some() {
            self.apply_rule(Code::AppIdentity, &path!["partOf"], "partOf", &part_of, names::label_value);
        }

        (name, instance, part_of)
    }

    /// Whether the profile would render far more than it says (many
    /// components times many entries each copies); an error if so.
    fn expands_too_far(&mut self, secrets: &[Secret]) -> bool {
        let p = &self.loaded.profile;
        let shared = p.env.len()
            + secrets.iter().map(|s| s.env.len()).sum::<usize>()
            + p.pod_annotations.len()
            + p.image_pull_secrets.len()
            + 2 * (p.labels.len() + p.annotations.len());
        let expansion = p.components.len().saturating_mul(COMPONENT_COST + shared);
        if expansion > EXPANSION_BUDGET {
            self.diag(
                Diagnostic::error(
                    Code::InputLimit,
                    format!(
                        "the profile would render about {expansion} entries ({} components, each with {} shared \
                     entries), more than the {EXPANSION_BUDGET} kgen renders",
                        p.components.len(),
                        COMPONENT_COST + shared
                    ),
                )
                .hint("split the app into several profiles"),
                &path!["components"],
                true,
            );
            return true;
        }
        false
    }

    /// What runs, what it uses and what watches it: components, data,
    /// migrations, routing, network policies, RBAC, monitoring.
    fn parts(
        &mut self,
        inputs: &Inputs,
        name: &str,
        (namespace, created_namespace): &(String, Option<NamespaceObject>),
        config_map: &Option<ConfigMap>,
        secrets: &mut [Secret],
    ) -> Parts {
        let p = &self.loaded.profile;
        let databases = self.databases(name);
        let cache = self.cache(name);
        let mut components = Vec::new();
        let keys: Vec<String> = p.components.keys().cloned().collect();
        for key in &keys {
            if let Some(c) = self.component(key, name, secrets, config_map) {
                components.push(c);
            }
        }
        self.attach_data(&mut components, &databases, &cache);
        self.created_secret_keys(inputs, secrets, &databases, &cache);
        let migrations = self.migrations(&mut components, &databases);
        let (ingress, gateway, issuer) = self.routing(&components, namespace);
        let network_policy = self.network_policy(created_namespace.is_some(), &ingress, &gateway);
        if let Some(np) = &network_policy {
            self.unreachable_endpoints(np, config_map, &components, &databases, &cache);
        }
        let rbac = self.rbac();
        let monitoring = self.monitoring(name);
        self.attach_metrics(&mut components, monitoring.is_some());
        self.unwatched_archives(&databases, monitoring.as_ref());
        let version = match &p.version {
            Some(v) => {
                self.apply_rule(Code::AppIdentity, &path!["version"], "version", v, names::label_value);
                Some(v.clone())
            }
            None => self.version_from_image(&components),
        };
        Parts {
            version,
            image_pull_secrets: p.image_pull_secrets.clone(),
            components,
            databases,
            cache,
            migrations,
            ingress,
            gateway,
            issuer,
            network_policy,
            rbac,
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

/// The parts of an [`App`] that a profile too large to render leaves
/// empty (see `Builder::expands_too_far`).
#[derive(Default)]
struct Parts {
    version: Option<String>,
    image_pull_secrets: Vec<String>,
    components: Vec<Component>,
    databases: Vec<Database>,
    cache: Option<Cache>,
    migrations: Option<Migrations>,
    ingress: Option<Ingress>,
    gateway: Option<Gateway>,
    issuer: Option<Issuer>,
    network_policy: Option<NetworkPolicy>,
    rbac: Vec<RbacRule>,
    monitoring: Option<Monitoring>,
}
