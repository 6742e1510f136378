//! The app-wide parts: namespace, metadata, service account, settings,
//! secrets and the security context.

use std::collections::BTreeMap;

use indexmap::IndexMap;

use super::{
    Builder, CredentialPlace, MetaMap, RESERVED_ANNOTATIONS, RESERVED_LABELS, RESERVED_POD_ANNOTATIONS,
    SYSTEM_NAMESPACES,
};
use crate::diagnostic::Code;
use crate::diagnostic::{Diagnostic, Redact, Redaction};
use crate::model::names;
use crate::model::*;
use crate::path;
use crate::profile;
use crate::yaml::PathSegment;

/// The most data a ConfigMap (or Secret) holds: keys and values, in bytes.
pub(super) const CONFIG_MAP_MAX_BYTES: usize = 1 << 20;

/// The most an object's annotations may add up to, keys and values.
pub(super) const ANNOTATIONS_MAX_BYTES: usize = 256 << 10;

impl Builder<'_> {
    pub(super) fn namespace(&mut self, app: &str) -> (String, Option<NamespaceObject>) {
        let ns = &self.loaded.profile.namespace;
        let name = ns.name.clone().unwrap_or_else(|| app.to_string());
        // A namespace named after the app is checked with the app's name.
        if ns.name.is_some() {
            self.apply_rule(Code::Namespace, &path!["namespace", "name"], "namespace", &name, |s| {
                names::dns1123_label(s, 63)
            });
        }
        let system = SYSTEM_NAMESPACES.contains(&name.as_str());
        let create = match ns.create {
            Some(true) if system => {
                self.error(
                    Code::Namespace,
                    &path!["namespace", "create"],
                    format!("`{name}` exists in every cluster and cannot be created by kgen"),
                );
                false
            }
            Some(c) => c,
            None => !system,
        };
        if !create {
            if !ns.labels.is_empty() || !ns.annotations.is_empty() {
                self.error_hint(
                    Code::Namespace,
                    &path!["namespace"],
                    "namespace labels and annotations apply only to a namespace kgen creates",
                    "remove them, or set `namespace.create: true`",
                );
            }
            return (name, None);
        }
        let labels = self.metadata_map(&ns.labels, "namespace.labels", MetaMap::Labels);
        let annotations = self.metadata_map(&ns.annotations, "namespace.annotations", MetaMap::Annotations);
        let pod_security = ns.pod_security.unwrap_or(profile::PodSecurityLevel::Restricted).as_str();
        (name, Some(NamespaceObject { pod_security, labels, annotations }))
    }

    /// Check label or annotation keys (and label values); `field` is a
    /// dotted path to the map.
    pub(super) fn metadata_map(
        &mut self,
        map: &IndexMap<String, String>,
        field: &str,
        kind: MetaMap,
    ) -> BTreeMap<String, String> {
        let base: Vec<PathSegment> = field.split('.').map(PathSegment::from).collect();
        self.metadata_map_at(map, &base, kind)
    }

    /// [`Self::metadata_map`] for a map at a path whose keys may contain dots.
    pub(super) fn metadata_map_at(
        &mut self,
        map: &IndexMap<String, String>,
        base: &[PathSegment],
        kind: MetaMap,
    ) -> BTreeMap<String, String> {
        let labels = kind == MetaMap::Labels;
        let (reserved, why) = match kind {
            MetaMap::Labels => (RESERVED_LABELS, ""),
            MetaMap::Annotations => (
                RESERVED_ANNOTATIONS,
                "kgen sets Argo CD's sync waves from its one table and keeps Argo CD and Flux from pruning data; \
                 change a single object with `patches`",
            ),
            MetaMap::PodAnnotations => (
                RESERVED_POD_ANNOTATIONS,
                "kgen sets `checksum/config` and `checksum/secret` so that pods restart when the settings or \
                 created Secrets change: choose another key",
            ),
        };
        for (k, v) in map {
            let mut at = base.to_vec();
            at.push(k.into());
            if let Err(why) = names::qualified_key(k) {
                self.key_error(Code::LabelOrAnnotation, &at, format!("key `{k}` {why}"));
            }
            if labels {
                self.no_credential(&at, CredentialPlace::Label(k), v);
            } else {
                self.no_credential(&at, CredentialPlace::Annotation(k), v);
                if reserved.contains(&k.as_str()) {
                    self.diag(
                        Diagnostic::error(Code::ReservedMetadata, format!("annotation `{k}` is set by kgen")).hint(why),
                        &at,
                        true,
                    );
                }
            }
            if labels {
                if reserved.contains(&k.as_str()) {
                    self.diag(
                        Diagnostic::error(Code::ReservedMetadata, format!("label `{k}` is set by kgen"))
                            .hint("use the profile's `name`, `instance`, `partOf` or `version` fields"),
                        &at,
                        true,
                    );
                }
                if let Err(why) = names::label_value(v) {
                    self.error(Code::LabelOrAnnotation, &at, format!("label value `{v}` {why}"));
                }
            }
        }
        if !labels {
            let size: usize = map.iter().map(|(k, v)| k.len() + v.len()).sum();
            if size > ANNOTATIONS_MAX_BYTES {
                self.error(
                    Code::LabelOrAnnotation,
                    base,
                    format!(
                        "the annotations add up to {size} bytes; Kubernetes allows 256 KiB ({ANNOTATIONS_MAX_BYTES})"
                    ),
                );
            }
        }
        map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }

    pub(super) fn service_account(&mut self, app: &str) -> ServiceAccount {
        let sa = &self.loaded.profile.service_account;
        let name = sa.name.clone().unwrap_or_else(|| app.to_string());
        if sa.name.is_some() {
            self.apply_rule(Code::ServiceAccount, &path!["serviceAccount", "name"], "service account", &name, |s| {
                names::dns1123_subdomain(s, 253)
            });
        }
        let create = sa.create.unwrap_or(true);
        if !create && sa.name.is_none() {
            self.error_hint(
                Code::ServiceAccount,
                &path!["serviceAccount", "create"],
                "an existing service account needs a name",
                "add `serviceAccount.name`",
            );
        }
        let annotations = self.metadata_map(&sa.annotations, "serviceAccount.annotations", MetaMap::Annotations);
        ServiceAccount { name, create, annotations, automount_token: sa.automount_token.unwrap_or(false) }
    }

    pub(super) fn config_map(&mut self, app: &str) -> Option<ConfigMap> {
        let p = &self.loaded.profile;
        let create = p.config_map.create.unwrap_or(true);
        let name = p.config_map.name.clone().unwrap_or_else(|| app.to_string());
        if p.config_map.name.is_some() {
            self.apply_rule(Code::Settings, &path!["configMap", "name"], "ConfigMap name", &name, |s| {
                names::dns1123_subdomain(s, 253)
            });
        }
        if !create {
            if p.config_map.name.is_none() {
                self.error_hint(
                    Code::Settings,
                    &path!["configMap", "create"],
                    "an existing ConfigMap needs a name",
                    "add `configMap.name`",
                );
            }
            if !p.settings.is_empty() {
                self.error_hint(
                    Code::Settings,
                    &path!["settings"],
                    "`settings` cannot be used with an existing ConfigMap",
                    "put these settings in the existing ConfigMap, or set `configMap.create: true`",
                );
            }
            return Some(ConfigMap { name, data: None });
        }
        if p.settings.is_empty() {
            return None;
        }
        let mut data = IndexMap::new();
        let mut size = 0;
        for (k, v) in &p.settings {
            let at = path!["settings", k];
            if let Err(why) = names::env_var_name(k) {
                self.key_error(Code::Settings, &at, format!("setting `{k}` {why}"));
            }
            let text = v.to_text();
            self.no_credential(&at, CredentialPlace::Setting(k), &text);
            size += k.len() + text.len();
            data.insert(k.clone(), text);
        }
        if size > CONFIG_MAP_MAX_BYTES {
            self.error_hint(
                Code::Settings,
                &path!["settings"],
                format!(
                    "the settings add up to {size} bytes; a ConfigMap holds at most 1 MiB ({CONFIG_MAP_MAX_BYTES})"
                ),
                "large data belongs in the image or a volume, not in environment variables",
            );
        }
        Some(ConfigMap { name, data: Some(data) })
    }

    pub(super) fn secrets(&mut self, inputs: &Inputs) -> Vec<Secret> {
        let p = &self.loaded.profile;
        let mut out = Vec::new();
        let mut exposed: BTreeMap<String, String> = BTreeMap::new();
        for (name, s) in &p.secrets {
            let at = path!["secrets", name].to_vec();
            if let Err(why) = names::dns1123_subdomain(name, 253) {
                self.key_error(Code::SecretName, &at, format!("Secret name `{name}` {why}"));
            }
            let env = s.env.pairs();
            for (var, key) in &env {
                let mut at = at.clone();
                at.extend(path!["env"]);
                if let Err(why) = names::env_var_name(var) {
                    self.error(Code::EnvVar, &at, format!("variable `{var}` {why}"));
                }
                if let Err(why) = names::data_key(key) {
                    self.error(Code::SecretKey, &at, format!("Secret key `{key}` {why}"));
                }
                if let Some(first) = exposed.insert(var.clone(), name.clone()) {
                    self.error_hint(
                        Code::EnvVar,
                        &at,
                        format!("variable `{var}` is already read from Secret `{first}`"),
                        format!(
                            "a container gets each variable once: map it to another name (`env: {{OTHER_NAME: {key}}}`)"
                        ),
                    );
                }
            }
            let sources: Vec<&str> =
                [("create", s.create.is_some()), ("external", s.external.is_some()), ("sealed", s.sealed.is_some())]
                    .into_iter()
                    .filter_map(|(field, set)| set.then_some(field))
                    .collect();
            if let [first, second, ..] = sources[..] {
                let mut at = at.clone();
                at.push(second.into());
                self.diag(
                    Diagnostic::error(Code::SecretSource, format!("Secret `{name}` takes its values from `{first}` and from `{second}`"))
                        .hint(format!(
                            "keep one and set the other to `null` (`{first}: null` or `{second}: null`): an environment that switches the source resets the base's"
                        )),
                    &at,
                    true,
                );
            }
            let source = if let Some(e) = &s.external {
                self.external_secret(&at, e)
            } else if let Some(sealed) = &s.sealed {
                self.sealed_secret(&at, sealed)
            } else {
                match &s.create {
                    None => SecretSource::Existing,
                    Some(c) => {
                        for (key, var) in &c.from_env {
                            // The bootstrap script checks these variables: a name
                            // is a shell word, never code.
                            if let Err(why) = names::env_var_name(var) {
                                self.error_hint(
                                    Code::SecretSource,
                                    &[at.as_slice(), &path!["create", "fromEnv", key]].concat(),
                                    format!("environment variable name `{var}` {why}"),
                                    "name the variable of kgen's environment that holds the value, e.g. `STRIPE_KEY`",
                                );
                            }
                        }
                        if c.from_env.is_empty() && c.from_file.is_none() {
                            let mut at = at.clone();
                            at.push("create".into());
                            self.error_hint(
                                Code::SecretSource,
                                &at,
                                "a created Secret needs its values",
                                "add `fromEnv` (key: VARIABLE) or `fromFile` (a dotenv file)",
                            );
                        }
                        SecretSource::Created(inputs.secret_data.get(name).cloned().unwrap_or_default())
                    }
                }
            };
            out.push(Secret { name: name.clone(), env, source });
        }
        out
    }

    /// An `ExternalSecret`'s store, refresh interval and remote keys.
    fn external_secret(&mut self, at: &[PathSegment], e: &profile::ExternalSource) -> SecretSource {
        let here = |tail: &[PathSegment]| [at, &path!["external"], tail].concat();
        if e.store.name.is_empty() {
            self.error_hint(Code::ExternalSecret,
                &here(&path!["store"]),
                "an external Secret needs the store it reads from",
                "name a SecretStore of the namespace (`store: vault`) or a ClusterSecretStore (`store: {name: vault, kind: ClusterSecretStore}`)",
            );
        } else if let Err(why) = names::dns1123_subdomain(&e.store.name, 253) {
            let store = &e.store.name;
            self.error(Code::ExternalSecret, &here(&path!["store", "name"]), format!("store name `{store}` {why}"));
        }
        if let Some(interval) = &e.refresh_interval
            && crate::model::cron::go_duration_seconds(interval).is_none()
        {
            self.error_hint(
                Code::ExternalSecret,
                &here(&path!["refreshInterval"]),
                format!("`{interval}` is not a duration"),
                "write a Go duration such as `1h`, `15m` or `1h30m`; `0s` reads the values once",
            );
        }
        if e.keys.is_empty() {
            self.error_hint(
                Code::ExternalSecret,
                &here(&path!["keys"]),
                "an external Secret needs its keys",
                "map each key of the Secret to its key in the store (`API_KEY: prod/shop/api-key`)",
            );
        }
        let mut keys = Vec::new();
        for (key, remote) in &e.keys {
            let at = here(&path!["keys", key]);
            if let Err(why) = names::data_key(key) {
                self.key_error(Code::SecretKey, &at, format!("Secret key `{key}` {why}"));
            }
            if remote.key.trim().is_empty() {
                self.error_hint(
                    Code::ExternalSecret,
                    &at,
                    format!("Secret key `{key}` has no key in the store"),
                    "write the value's key (name or path) in the store, e.g. `prod/shop/api-key`",
                );
            }
            for (field, value) in [("property", &remote.property), ("version", &remote.version)] {
                if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                    self.error(
                        Code::ExternalSecret,
                        &[at.as_slice(), &path![field]].concat(),
                        format!("`{field}` is empty"),
                    );
                }
            }
            keys.push((
                key.clone(),
                RemoteValue {
                    key: remote.key.clone(),
                    property: remote.property.clone(),
                    version: remote.version.clone(),
                },
            ));
        }
        SecretSource::External(ExternalSecret {
            store: e.store.name.clone(),
            store_kind: e.store.kind.unwrap_or(profile::SecretStoreKind::SecretStore).as_str(),
            refresh_interval: e.refresh_interval.clone(),
            keys,
        })
    }

    /// A `SealedSecret`'s encrypted values: `kubeseal` output, base64.
    fn sealed_secret(&mut self, at: &[PathSegment], sealed: &IndexMap<String, String>) -> SecretSource {
        if sealed.is_empty() {
            self.error_hint(Code::SecretSource,
                &[at, &path!["sealed"]].concat(),
                "a sealed Secret needs its encrypted values",
                "seal each value with `kubeseal --raw --name NAME --namespace NAMESPACE` and add it as `KEY: <ciphertext>`",
            );
        }
        for (key, ciphertext) in sealed {
            let at = [at, &path!["sealed", key]].concat();
            if let Err(why) = names::data_key(key) {
                self.key_error(Code::SecretKey, &at, format!("Secret key `{key}` {why}"));
            }
            let base64 = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=');
            if ciphertext.is_empty() || !ciphertext.chars().all(base64) {
                // It may be the value itself: masked wherever a snippet shows it.
                let redaction = Redaction { span: self.loaded.span_of(&at), kind: Redact::Whole };
                self.credentials.push(redaction);
                self.diag(
                    Diagnostic::error(Code::SecretSource, format!("the value of `{key}` is not sealed: kubeseal's ciphertext is base64"))
                        .hint("seal the value with `kubeseal --raw --name NAME --namespace NAMESPACE`; never write it in the profile as it is")
                        .redact(redaction),
                    &at,
                    false,
                );
            }
        }
        SecretSource::Sealed(sealed.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
    }

    /// Every key read from a Secret kgen creates must be in its data (a
    /// dotenv file without a key listed under `env`, say), or the pods
    /// would not start. A Secret whose keys are open (`kgen check` without
    /// its dotenv file) gets a placeholder for each key read instead.
    pub(super) fn created_secret_keys(
        &mut self,
        inputs: &Inputs,
        secrets: &mut [Secret],
        databases: &[Database],
        cache: &Option<Cache>,
    ) {
        let p = &self.loaded.profile;
        // (Secret, key, where the profile reads it).
        let mut reads: Vec<(String, String, Vec<PathSegment>)> = Vec::new();
        for (name, s) in &p.secrets {
            match &s.env {
                profile::KeyMap::None => {}
                profile::KeyMap::List(keys) => reads.extend(
                    keys.iter()
                        .enumerate()
                        .map(|(i, k)| (name.clone(), k.clone(), path!["secrets", name, "env", i].to_vec())),
                ),
                profile::KeyMap::Map(m) => reads.extend(
                    m.iter().map(|(var, k)| (name.clone(), k.clone(), path!["secrets", name, "env", var].to_vec())),
                ),
            }
        }
        let component_env = p.components.iter().flat_map(|(key, c)| {
            c.env.iter().map(move |(var, src)| (src, var, path!["components", key, "env", var].to_vec()))
        });
        for (src, var, at) in p.env.iter().map(|(var, src)| (src, var, path!["env", var].to_vec())).chain(component_env)
        {
            if let Some(secret) = src.secret.as_ref().filter(|_| src.optional != Some(true)) {
                reads.push((secret.clone(), src.key.clone().unwrap_or_else(|| var.clone()), at));
            }
        }
        for db in databases {
            match &db.kind {
                DatabaseKind::InCluster(pg) => {
                    let at = path!["databases", &db.key, "credentials"].to_vec();
                    reads.push((pg.password_secret.clone(), pg.password_key.clone(), at.clone()));
                    if let Some(url_key) = &pg.url_key {
                        reads.push((pg.password_secret.clone(), url_key.clone(), at));
                    }
                }
                DatabaseKind::Managed(m) => {
                    reads.push((m.secret.clone(), m.key.clone(), path!["databases", &db.key, "url"].to_vec()))
                }
                DatabaseKind::Sqlite(_) | DatabaseKind::Operator(_) => {}
            }
        }
        if let Some(SecretKeyRef { secret, key }) = cache.as_ref().and_then(|c| c.password.as_ref()) {
            reads.push((secret.clone(), key.clone(), path!["cache", "password"].to_vec()));
        }
        // Secrets whose keys the bundle defines, and the keys read from
        // each (an archive's Secret is read whole).
        let mut used: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
        let mut read_whole = std::collections::BTreeSet::new();
        for db in databases {
            if let DatabaseKind::InCluster(pg) = &db.kind
                && let Some(WalArchive { auth: ArchiveAuth::Secret(s), .. }) = &pg.wal_archive
            {
                read_whole.insert(s.clone());
            }
        }
        for (secret, key, at) in reads {
            let Some(made) = secrets.iter_mut().find(|s| s.name == secret) else { continue };
            used.entry(secret.clone()).or_default().insert(key.clone());
            let missing = match &mut made.source {
                SecretSource::Existing => continue,
                SecretSource::Created(data) => {
                    if data.contains_key(&key) {
                        continue;
                    }
                    if inputs.open_secrets.contains(&secret) {
                        data.insert(key, crate::inputs::PLACEHOLDER.to_string());
                        continue;
                    }
                    let create = p.secrets.get(&secret).and_then(|s| s.create.as_ref());
                    let sources = match create.and_then(|c| c.from_file.as_deref()) {
                        Some(file) => format!("add `{key}` to `{file}` or to `secrets.{secret}.create.fromEnv`"),
                        None => format!("add `{key}: <VARIABLE>` to `secrets.{secret}.create.fromEnv`"),
                    };
                    ("which kgen creates", sources)
                }
                SecretSource::External(e) => {
                    if e.keys.iter().any(|(k, _)| *k == key) {
                        continue;
                    }
                    (
                        "whose values come from a secret store",
                        format!("add `{key}: <its key in the store>` to `secrets.{secret}.external.keys`"),
                    )
                }
                SecretSource::Sealed(data) => {
                    if data.contains_key(&key) {
                        continue;
                    }
                    (
                        "whose values are sealed",
                        format!(
                            "seal the value with `kubeseal --raw` and add `{key}: <ciphertext>` to `secrets.{secret}.sealed`"
                        ),
                    )
                }
            };
            let (what, hint) = missing;
            self.error_hint(Code::SecretKey, &at, format!("Secret `{secret}`, {what}, has no key `{key}`"), hint);
        }
        // A key of a store or a sealed value that nothing reads is left
        // over or misspelt; an extra manifest may read it, so a warning.
        for (name, s) in &p.secrets {
            if read_whole.contains(name) {
                continue;
            }
            let (field, keys): (&str, Vec<&String>) = match (&s.external, &s.sealed) {
                (Some(e), _) => ("external.keys", e.keys.keys().collect()),
                (None, Some(sealed)) => ("sealed", sealed.keys().collect()),
                _ => continue,
            };
            let read = used.get(name);
            for key in keys {
                if read.is_some_and(|r| r.contains(key)) {
                    continue;
                }
                let mut at = path!["secrets", name].to_vec();
                at.extend(field.split('.').map(PathSegment::from));
                at.push(key.into());
                self.warning(
                    &at,
                    format!("nothing in the profile reads key `{key}` of Secret `{name}`"),
                    format!("read it (`secrets.{name}.env`), or remove it if nothing outside the profile does"),
                );
            }
        }
    }

    pub(super) fn security(&mut self) -> Security {
        let s = &self.loaded.profile.security;
        let run_as_user = s.run_as_user.unwrap_or(10001);
        let run_as_group = s.run_as_group.unwrap_or(10001);
        let fs_group = s.fs_group.unwrap_or(10001);
        for (field, id) in [("runAsUser", run_as_user), ("runAsGroup", run_as_group), ("fsGroup", fs_group)] {
            let at = path!["security", field];
            if id <= 0 || id > i64::from(u32::MAX) {
                self.error_hint(
                    Code::SecurityContext,
                    &at,
                    format!("{field} {id} is not allowed"),
                    "pods run as a non-root user: use an ID of 10000 or more",
                );
            } else if id < 10000 && field == "runAsUser" {
                self.warning(
                    &at,
                    format!("runAsUser {id} is below 10000 and may match a user on the node"),
                    "use an ID of 10000 or more",
                );
            }
        }
        for (i, cap) in s.add_capabilities.iter().enumerate() {
            if cap != "NET_BIND_SERVICE" {
                self.error_hint(
                    Code::SecurityContext,
                    &path!["security", "addCapabilities", i],
                    format!("capability `{cap}` is not allowed by the restricted Pod Security Standard"),
                    "only NET_BIND_SERVICE may be added",
                );
            }
        }
        Security {
            run_as_user,
            run_as_group,
            fs_group,
            read_only_root_filesystem: s.read_only_root_filesystem.unwrap_or(true),
            add_capabilities: s.add_capabilities.clone(),
        }
    }
}
