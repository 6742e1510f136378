//! One component: image, ports, probes, resources, environment and the
//! writable paths.

use std::collections::{BTreeMap, HashMap, HashSet};

use indexmap::IndexSet;

use super::{Builder, CredentialPlace, MetaMap, RESERVED_LABELS};
use crate::diagnostic::Code;
use crate::diagnostic::Diagnostic;
use crate::model::image::ImageRef;
use crate::model::names::{self, NameRule};
use crate::model::*;
use crate::path;
use crate::profile;
use crate::yaml::PathSegment;

impl Builder<'_> {
    pub(super) fn component(
        &mut self,
        key: &str,
        app: &str,
        secrets: &[Secret],
        config_map: &Option<ConfigMap>,
    ) -> Option<Component> {
        let p = &self.loaded.profile;
        let c = &p.components[key];
        let at = path!["components", key].to_vec();
        let name = naming::component_object_name(app, key);
        self.component_name_rules(key, app, c, &at, &name);

        let container_name = self.container_name(&at, key, c);
        let image = self.image(key, c);
        let ports = self.ports(&at, c);
        let (liveness, readiness, startup) = self.probes(&at, c, &ports);
        let replicas = c.replicas.unwrap_or(1);
        self.int32(&[at.as_slice(), &path!["replicas"]].concat(), "replicas", replicas);
        let (autoscaling, disruption_budget, spread) = self.scaling(&at, key, c);
        let priority_class_name = self.priority_class(&at, c);
        let resources = self.resources(&at, c);
        if let Some(a) = &autoscaling {
            self.utilization_needs_requests(&at, c, a, &resources);
        }
        let env = self.env(&at, c, secrets, config_map);
        let writable_paths = self.writable_paths(&at, c);
        let service = (c.service.enabled != Some(false) && ports.iter().any(|p| p.expose)).then(|| Service {
            type_: c.service.type_.unwrap_or(profile::ServiceType::ClusterIP).as_str(),
            annotations: c.service.annotations.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        });
        for (field, list) in [("command", &c.command), ("args", &c.args)] {
            for (i, arg) in list.iter().flatten().enumerate() {
                let mut here = at.clone();
                here.extend(path![field, i]);
                self.no_credential(&here, CredentialPlace::Command(&format!("`{field}`")), arg);
            }
        }
        let pod_annotations = self.pod_annotations(key, c, &at);
        self.placement_rules(c, &at);
        let (image, pull_policy) = image?;
        Some(Component {
            key: key.to_string(),
            name,
            container_name,
            image,
            pull_policy,
            command: c.command.clone(),
            args: c.args.clone(),
            ports,
            liveness,
            readiness,
            startup,
            replicas,
            resources,
            env,
            service,
            pod_annotations,
            pod_labels: c.pod_labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            writable_paths,
            termination_grace_period_seconds: c.termination_grace_period_seconds,
            node_selector: c.node_selector.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            tolerations: c.tolerations.clone(),
            sqlite_volume: None,
            wait_for: Vec::new(),
            migrate_on_start: false,
            autoscaling,
            disruption_budget,
            spread,
            priority_class_name,
            metrics: None,
        })
    }

    /// The component's name, and the `<app>-<component>` name of its
    /// objects (a component named after the app is checked with the app).
    fn component_name_rules(&mut self, key: &str, app: &str, c: &profile::Component, at: &[PathSegment], name: &str) {
        if key != app {
            if let Err(why) = names::dns1123_label(key, 63) {
                self.key_error(Code::ComponentName, at, format!("component name `{key}` {why}"));
            } else if !app.is_empty() {
                let has_service = c.service.enabled != Some(false) && !c.ports.is_empty();
                let rule = if has_service { NameRule::Service } else { NameRule::Label };
                if let Err(why) = rule.check(name) {
                    self.diag(
                        Diagnostic::error(Code::ObjectName, format!("object name `{name}` {why}"))
                            .hint("objects are named `<app>-<component>`: shorten the app or the component name"),
                        at,
                        true,
                    );
                }
            }
        }
    }

    /// The pod annotations of the component: the app's (checked once, with
    /// the first component) and its own; its Service's annotations checked.
    fn pod_annotations(&mut self, key: &str, c: &profile::Component, at: &[PathSegment]) -> BTreeMap<String, String> {
        let p = &self.loaded.profile;
        let mut pod_annotations = if key == p.components.keys().next().map_or("", String::as_str) {
            self.metadata_map(&p.pod_annotations, "podAnnotations", MetaMap::PodAnnotations)
        } else {
            p.pod_annotations.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
        };
        let mut at_annotations = at.to_vec();
        at_annotations.push("podAnnotations".into());
        let own = self.metadata_map_at(&c.pod_annotations, &at_annotations, MetaMap::PodAnnotations);
        pod_annotations.extend(own);
        let mut at_service = at.to_vec();
        at_service.extend(path!["service", "annotations"]);
        self.metadata_map_at(&c.service.annotations, &at_service, MetaMap::Annotations);
        pod_annotations
    }

    /// Pod labels, node selector, tolerations and the grace period.
    fn placement_rules(&mut self, c: &profile::Component, at: &[PathSegment]) {
        let mut at_labels = at.to_vec();
        at_labels.push("podLabels".into());
        for (k, v) in &c.pod_labels {
            let mut at = at_labels.clone();
            at.push(k.into());
            if let Err(why) = names::qualified_key(k) {
                self.key_error(Code::LabelOrAnnotation, &at, format!("key `{k}` {why}"));
            } else if RESERVED_LABELS.contains(&k.as_str()) {
                self.key_error(Code::ReservedMetadata, &at, format!("label `{k}` is set by kgen"));
            }
            if let Err(why) = names::label_value(v) {
                self.error(Code::LabelOrAnnotation, &at, format!("label value `{v}` {why}"));
            }
        }
        let mut at_selector = at.to_vec();
        at_selector.push("nodeSelector".into());
        for (k, v) in &c.node_selector {
            let mut at = at_selector.clone();
            at.push(k.into());
            if let Err(why) = names::qualified_key(k) {
                self.key_error(Code::Placement, &at, format!("node label key `{k}` {why}"));
            }
            if let Err(why) = names::label_value(v) {
                self.error(Code::Placement, &at, format!("node label value `{v}` {why}"));
            }
        }
        self.tolerations(at, c);
        if let Some(g) = c.termination_grace_period_seconds
            && g < 0
        {
            let mut at = at.to_vec();
            at.push("terminationGracePeriodSeconds".into());
            self.error(Code::Container, &at, "terminationGracePeriodSeconds must be 0 or more");
        }
    }

    /// Tolerations as the API server checks them: a label key (empty only
    /// with `Exists`), a label value (none with `Exists`), a known operator
    /// and effect.
    fn tolerations(&mut self, at: &[PathSegment], c: &profile::Component) {
        for (i, t) in c.tolerations.iter().enumerate() {
            let here = [at, &path!["tolerations", i]].concat();
            let exists = t.operator.as_deref() == Some("Exists");
            match t.key.as_deref() {
                None | Some("") if !exists => self.error_hint(
                    Code::Placement,
                    &here,
                    "a toleration without `key` must have `operator: Exists`",
                    "name the taint's key, or tolerate every taint with `operator: Exists`",
                ),
                None | Some("") => {}
                Some(k) => {
                    if let Err(why) = names::qualified_key(k) {
                        self.error(
                            Code::Placement,
                            &[here.as_slice(), &path!["key"]].concat(),
                            format!("taint key `{k}` {why}"),
                        );
                    }
                }
            }
            match t.operator.as_deref() {
                None | Some("Equal") => {
                    if let Some(v) = &t.value
                        && let Err(why) = names::label_value(v)
                    {
                        self.error(
                            Code::Placement,
                            &[here.as_slice(), &path!["value"]].concat(),
                            format!("taint value `{v}` {why}"),
                        );
                    }
                }
                Some("Exists") => {
                    if t.value.as_deref().is_some_and(|v| !v.is_empty()) {
                        self.error_hint(
                            Code::Placement,
                            &[here.as_slice(), &path!["value"]].concat(),
                            "a toleration with `operator: Exists` has no `value`",
                            "remove `value`, or use `operator: Equal`",
                        );
                    }
                }
                Some(other) => self.error_hint(
                    Code::Placement,
                    &[here.as_slice(), &path!["operator"]].concat(),
                    format!("unknown toleration operator `{other}`"),
                    "use `Equal` (the default) or `Exists`",
                ),
            }
            if let Some(effect) = t.effect.as_deref()
                && !matches!(effect, "" | "NoSchedule" | "PreferNoSchedule" | "NoExecute")
            {
                self.error_hint(
                    Code::Placement,
                    &[here.as_slice(), &path!["effect"]].concat(),
                    format!("unknown taint effect `{effect}`"),
                    "use `NoSchedule`, `PreferNoSchedule` or `NoExecute` (or leave it out for all three)",
                );
            }
            if t.toleration_seconds.is_some() && t.effect.as_deref() != Some("NoExecute") {
                self.error_hint(
                    Code::Placement,
                    &[here.as_slice(), &path!["tolerationSeconds"]].concat(),
                    "`tolerationSeconds` applies only to the `NoExecute` effect",
                    "set `effect: NoExecute`, or remove `tolerationSeconds`",
                );
            }
        }
    }

    /// The main container's name: `containerName`, or the component's key.
    /// Init containers are named `migrate` and `wait-for-<database>`.
    fn container_name(&mut self, at: &[PathSegment], key: &str, c: &profile::Component) -> String {
        let Some(name) = &c.container_name else { return key.to_string() };
        let mut at = at.to_vec();
        at.push("containerName".into());
        if let Err(why) = names::dns1123_label(name, 63) {
            self.error(Code::Container, &at, format!("container name `{name}` {why}"));
        } else if name == "migrate" || name.starts_with("wait-for-") {
            self.error_hint(
                Code::Container,
                &at,
                format!("container name `{name}` is taken by kgen's init containers"),
                "init containers are named `migrate` and `wait-for-<database>`: choose another name",
            );
        }
        name.clone()
    }

    /// The component's image: its own fields over the app's.
    fn image(&mut self, key: &str, c: &profile::Component) -> Option<(String, &'static str)> {
        let app_image = self.loaded.profile.image.clone().unwrap_or_default();
        let own = c.image.clone();
        let (merged, at) = match own {
            Some(own) if own.reference.is_some() => (own, path!["components", key, "image"].to_vec()),
            Some(own) => (
                profile::Image {
                    reference: app_image.reference,
                    repository: own.repository.or(app_image.repository),
                    tag: own.tag.or(app_image.tag),
                    digest: own.digest.or(app_image.digest),
                    pull_policy: own.pull_policy.or(app_image.pull_policy),
                },
                path!["components", key, "image"].to_vec(),
            ),
            None => (app_image, path!["image"].to_vec()),
        };
        let mut parsed = match (&merged.reference, &merged.repository) {
            (None, None) => {
                self.error_hint(Code::Image, &at, "no container image", "add `image: registry/repository:tag`");
                return None;
            }
            (Some(r), _) => match ImageRef::parse(r) {
                Ok(i) => i,
                Err(why) => {
                    self.error(Code::Image, &at, format!("image `{r}`: {why}"));
                    return None;
                }
            },
            (None, Some(repo)) => ImageRef { repository: repo.clone(), tag: None, digest: None },
        };
        if merged.reference.is_some() && merged.repository.is_some() {
            self.error_hint(
                Code::Image,
                &at,
                "image has both `reference` and `repository`",
                "give the whole reference, or its parts",
            );
        }
        if merged.tag.is_some() {
            parsed.tag = merged.tag.clone();
        }
        if merged.digest.is_some() {
            parsed.digest = merged.digest.clone();
        }
        if let Err(why) = parsed.check() {
            self.error(Code::Image, &at, format!("image: {why}"));
            return None;
        }
        let pinned_locally =
            matches!(merged.pull_policy, Some(profile::PullPolicy::IfNotPresent | profile::PullPolicy::Never));
        if parsed.digest.is_none() && parsed.tag.as_deref().is_none_or(|t| t == "latest") && !pinned_locally {
            self.warning(
                &at,
                format!("image `{}` has no version tag", parsed.to_reference()),
                "pin a tag (or a digest) so that every node runs the same image",
            );
        }
        // A digest is immutable; a tag can move, so pull it every time (and
        // have the registry check the pod's pull credentials).
        let default_policy =
            if parsed.digest.is_some() { profile::PullPolicy::IfNotPresent } else { profile::PullPolicy::Always };
        let policy = merged.pull_policy.unwrap_or(default_policy).as_str();
        Some((parsed.to_reference(), policy))
    }

    fn ports(&mut self, at: &[PathSegment], c: &profile::Component) -> Vec<Port> {
        let mut out: Vec<Port> = Vec::new();
        // A port number may be declared once per protocol (DNS listens on
        // 53/UDP and 53/TCP), as Kubernetes allows.
        let mut numbers: HashMap<(u16, &str), &str> = HashMap::new();
        for (name, p) in &c.ports {
            let mut here = at.to_vec();
            here.extend(path!["ports", name]);
            if let Err(why) = names::port_name(name) {
                self.key_error(Code::Port, &here, format!("port name `{name}` {why}"));
            }
            if p.port == 0 {
                self.error(Code::Port, &here, "port 0 is not allowed: ports are 1 to 65535");
            }
            let protocol = p.protocol.unwrap_or(profile::Protocol::Tcp).as_str();
            if let Some(other) = numbers.insert((p.port, protocol), name) {
                numbers.insert((p.port, protocol), other);
                self.error(
                    Code::Port,
                    &here,
                    format!("port {} is already declared as `{other}`", show_port(p.port, protocol)),
                );
                continue;
            }
            let service_port = p.service_port.unwrap_or(p.port);
            if service_port == 0 {
                self.error(Code::Port, &here, "servicePort 0 is not allowed: ports are 1 to 65535");
            }
            out.push(Port {
                name: name.clone(),
                container_port: p.port,
                service_port,
                protocol,
                expose: p.expose.unwrap_or(true),
            });
        }
        let mut seen = BTreeMap::new();
        for p in &out {
            if p.expose
                && let Some(first) = seen.insert((p.service_port, p.protocol), p.name.clone())
            {
                let mut here = at.to_vec();
                here.extend(path!["ports", &p.name]);
                let port = show_port(p.service_port, p.protocol);
                self.error(Code::Port, &here, format!("service port {port} is already used by `{first}`"));
            }
        }
        out
    }

    fn probes(
        &mut self,
        at: &[PathSegment],
        c: &profile::Component,
        ports: &[Port],
    ) -> (Option<Probe>, Option<Probe>, Option<Probe>) {
        let probes = &c.probes;
        let has_startup = probes.startup.as_ref().is_some_and(|p| p.enabled != Some(false));
        let liveness = self.probe(at, "liveness", probes.liveness.as_ref(), probes, ports, has_startup);
        let readiness = self.probe(at, "readiness", probes.readiness.as_ref(), probes, ports, has_startup);
        let startup = self.probe(at, "startup", probes.startup.as_ref(), probes, ports, has_startup);
        (liveness, readiness, startup)
    }

    fn probe(
        &mut self,
        at: &[PathSegment],
        kind: &str,
        spec: Option<&profile::Probe>,
        probes: &profile::Probes,
        ports: &[Port],
        has_startup: bool,
    ) -> Option<Probe> {
        let mut here = at.to_vec();
        here.extend(path!["probes", kind]);
        let default = profile::Probe::default();
        let spec = match spec {
            Some(s) if s.enabled == Some(false) => return None,
            Some(s) => s,
            // Without a written probe: liveness and readiness default to the
            // shared path, or a TCP check of the first TCP port (a UDP or
            // SCTP port cannot be probed).
            None if kind == "startup" => return None,
            None if probes.path.is_none() && probes.port.is_none() && !ports.iter().any(Port::is_tcp) => {
                return None;
            }
            None => {
                here.pop();
                &default
            }
        };
        let actions: Vec<&str> = [
            ("path", spec.path.is_some()),
            ("command", spec.command.is_some()),
            ("tcp", spec.tcp == Some(true)),
            ("grpc", spec.grpc == Some(true)),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect();
        if actions.len() > 1 {
            let list = actions.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(" and ");
            self.error_hint(
                Code::Probe,
                &here,
                format!("the {kind} probe has both {list}"),
                "a probe checks one way: give one of `path`, `command`, `tcp: true` or `grpc: true`",
            );
            return None;
        }
        if let Some(command) = &spec.command {
            for (i, arg) in command.iter().enumerate() {
                let mut at = here.clone();
                at.extend(path!["command", i]);
                self.no_credential(&at, CredentialPlace::Command("a probe command"), arg);
            }
        }
        // The probe's own port, or the shared one; where it is written.
        let port_ref = match (&spec.port, &probes.port) {
            (Some(p), _) => Some((p, [here.as_slice(), &path!["port"]].concat())),
            (None, Some(p)) => Some((p, [at, &path!["probes", "port"]].concat())),
            (None, None) => None,
        };
        // A command probe needs no port.
        let port = if spec.command.is_some() { None } else { self.probe_port(&here, port_ref, ports) };
        let action = if let Some(command) = &spec.command {
            if command.is_empty() {
                self.error(Code::Probe, &here, "a probe command must not be empty");
            }
            ProbeAction::Exec { command: command.clone() }
        } else if spec.grpc == Some(true) {
            let number = match &port {
                Some(PortTarget::Number(n)) => *n,
                Some(PortTarget::Name(n)) => ports.iter().find(|p| &p.name == n).map(|p| p.container_port).unwrap_or(0),
                // `probe_port` said why.
                None => return None,
            };
            ProbeAction::Grpc { port: number }
        } else if let Some(path) =
            spec.path.as_ref().or(if spec.tcp == Some(true) { None } else { probes.path.as_ref() })
        {
            if !path.starts_with('/') {
                self.error(Code::Probe, &here, format!("probe path `{path}` must start with `/`"));
            }
            let scheme = if spec.scheme == Some(profile::Scheme::Https) { "HTTPS" } else { "HTTP" };
            ProbeAction::Http { path: path.clone(), port: port.clone()?, scheme }
        } else {
            ProbeAction::Tcp { port: port.clone()? }
        };
        if matches!(action, ProbeAction::Grpc { port: 0 }) {
            self.error_hint(Code::Probe, &here, "a gRPC probe needs a port", "declare the component's `ports`");
            return None;
        }
        let (delay, period, timeout, failure) = match kind {
            "liveness" => (if has_startup { None } else { Some(10) }, 10, 2, 3),
            "readiness" => (None, 5, 2, 3),
            _ => (None, 5, 2, 30),
        };
        let probe = Probe {
            action,
            initial_delay_seconds: spec.initial_delay_seconds.or(delay),
            period_seconds: spec.period_seconds.unwrap_or(period),
            timeout_seconds: spec.timeout_seconds.unwrap_or(timeout),
            failure_threshold: spec.failure_threshold.unwrap_or(failure),
            success_threshold: spec.success_threshold,
        };
        for (field, value, min) in [
            ("initialDelaySeconds", probe.initial_delay_seconds.unwrap_or(0), 0),
            ("periodSeconds", probe.period_seconds, 1),
            ("timeoutSeconds", probe.timeout_seconds, 1),
            ("failureThreshold", probe.failure_threshold, 1),
            ("successThreshold", probe.success_threshold.unwrap_or(1), 1),
        ] {
            if value < min {
                let mut at = here.clone();
                at.push(field.into());
                self.error(Code::Probe, &at, format!("{field} must be at least {min}"));
            }
        }
        if kind != "readiness" && probe.success_threshold.is_some_and(|s| s != 1) {
            let mut at = here.clone();
            at.push("successThreshold".into());
            self.error(Code::Probe, &at, format!("a {kind} probe's successThreshold must be 1"));
        }
        Some(probe)
    }

    /// The port an HTTP, TCP or gRPC probe connects to: the one named, or
    /// the first TCP port. Probes connect over TCP, so a UDP or SCTP port
    /// is refused.
    fn probe_port(
        &mut self,
        here: &[PathSegment],
        port: Option<(&profile::PortRef, Vec<PathSegment>)>,
        ports: &[Port],
    ) -> Option<PortTarget> {
        let (port, port_at) = match &port {
            Some((p, at)) => (Some(*p), at.as_slice()),
            None => (None, here),
        };
        let not_tcp = |b: &mut Self, p: &Port| {
            b.error_hint(
                Code::Probe,
                port_at,
                format!("probes connect over TCP, but port `{}` is {} port", p.name, p.protocol_with_article()),
                "probe a TCP port, or give the probe a `command`",
            );
        };
        match port {
            None => match ports.iter().find(|p| p.is_tcp()) {
                Some(p) => Some(PortTarget::Name(p.name.clone())),
                None => {
                    let message =
                        if ports.is_empty() { "this probe needs a port" } else { "this probe needs a TCP port" };
                    self.error_hint(
                        Code::Probe,
                        here,
                        message,
                        "declare a TCP port under the component's `ports`, or give the probe a `command`",
                    );
                    None
                }
            },
            Some(profile::PortRef::Name(n)) => {
                if let Some(p) = ports.iter().find(|p| &p.name == n) {
                    if !p.is_tcp() {
                        not_tcp(self, p);
                        return None;
                    }
                    Some(PortTarget::Name(n.clone()))
                } else {
                    let hint = if ports.is_empty() {
                        "declare it under the component's `ports`".to_string()
                    } else {
                        format!(
                            "declared ports: {}",
                            crate::diagnostic::short_list(ports.iter().map(|p| p.name.as_str()))
                        )
                    };
                    self.error_hint(
                        Code::Probe,
                        port_at,
                        format!("the probe targets port `{n}`, which no container declares"),
                        hint,
                    );
                    None
                }
            }
            Some(profile::PortRef::Number(n)) => {
                let declared: Vec<&Port> = ports.iter().filter(|p| p.container_port == *n).collect();
                Some(match (declared.iter().find(|p| p.is_tcp()), declared.first()) {
                    (Some(p), _) => PortTarget::Name(p.name.clone()),
                    (None, Some(p)) => {
                        not_tcp(self, p);
                        return None;
                    }
                    (None, None) => PortTarget::Number(*n),
                })
            }
        }
    }

    /// A CPU or memory target is a percentage of the pods' request: without
    /// one the autoscaler cannot compute it and never scales. A limit
    /// alone counts, as the API server then requests the limit.
    fn utilization_needs_requests(
        &mut self,
        at: &[PathSegment],
        c: &profile::Component,
        a: &Autoscaling,
        resources: &Resources,
    ) {
        for (field, name, target) in [("cpu", "CPU", a.cpu), ("memory", "memory", a.memory)] {
            let Some(percent) = target else { continue };
            if resources.requests.contains_key(field) || resources.limits.contains_key(field) {
                continue;
            }
            let written = c
                .autoscaling
                .as_ref()
                .is_some_and(|w| if field == "cpu" { w.cpu.is_some() } else { w.memory.is_some() });
            let mut here = [at, &path!["autoscaling"]].concat();
            if written {
                here.push(field.into());
            }
            let (by_default, instead) = if written {
                ("", format!("drop `{field}` and scale on a per-pod metric under `autoscaling.metrics`"))
            } else {
                (" by default", "scale on something else: set `autoscaling.memory` or `autoscaling.metrics`".into())
            };
            self.error_hint(
                Code::Autoscaling,
                &here,
                format!(
                    "autoscaling targets {percent}% of the {name} request{by_default}, but the component requests \
                     no {name}: the autoscaler cannot compute its use"
                ),
                format!("add `resources.requests.{field}` (a `resources` preset requests both), or {instead}"),
            );
        }
    }

    fn resources(&mut self, at: &[PathSegment], c: &profile::Component) -> Resources {
        let p = &self.loaded.profile;
        match (&c.resources, &p.resources) {
            (Some(r), _) => self.resolve_resources(&[at, &path!["resources"]].concat(), r),
            (None, Some(r)) => self.resolve_resources(&path!["resources"], r),
            (None, None) => preset(profile::Preset::Small),
        }
    }

    /// Resources as written, or `default` when nothing is written.
    pub(super) fn resources_or(
        &mut self,
        at: &[PathSegment],
        spec: Option<&profile::Resources>,
        default: Resources,
    ) -> Resources {
        match spec {
            Some(r) => self.resolve_resources(at, r),
            None => default,
        }
    }

    /// A preset with its overrides; quantities checked, requests ≤ limits.
    fn resolve_resources(&mut self, at: &[PathSegment], spec: &profile::Resources) -> Resources {
        let mut out = spec.preset.map(preset).unwrap_or_default();
        for (section, amounts) in [("requests", &spec.requests), ("limits", &spec.limits)] {
            let target = if section == "requests" { &mut out.requests } else { &mut out.limits };
            for (field, name, value) in [
                ("cpu", "cpu", &amounts.cpu),
                ("memory", "memory", &amounts.memory),
                ("ephemeralStorage", "ephemeral-storage", &amounts.ephemeral_storage),
            ] {
                if let Some(v) = value {
                    target.insert(name.to_string(), v.clone());
                    if let Err(why) = quantity::parse(v) {
                        self.error(Code::Resources, &[at, &path![section, field]].concat(), why);
                    }
                }
            }
        }
        for (name, request) in &out.requests {
            if let (Some(limit), Ok(r)) = (out.limits.get(name), quantity::parse(request))
                && let Ok(l) = quantity::parse(limit)
                && r > l
            {
                let field = if name == "ephemeral-storage" { "ephemeralStorage" } else { name.as_str() };
                let written = [section_path(at, "requests", field), section_path(at, "limits", field)]
                    .into_iter()
                    .find(|p| self.loaded.tree.lookup(p).is_some())
                    .unwrap_or_else(|| at.to_vec());
                self.error_hint(
                    Code::Resources,
                    &written,
                    format!("the {name} request {request} is more than its limit {limit}"),
                    "a container may not request more than its limit: raise the limit or lower the request",
                );
            }
        }
        out
    }

    fn env(
        &mut self,
        at: &[PathSegment],
        c: &profile::Component,
        secrets: &[Secret],
        config_map: &Option<ConfigMap>,
    ) -> Vec<EnvVar> {
        let p = &self.loaded.profile;
        let mut vars: Vec<EnvVar> = Vec::new();
        for s in secrets {
            for (var, key) in &s.env {
                vars.push(EnvVar {
                    name: var.clone(),
                    source: EnvValue::SecretKey { secret: s.name.clone(), key: key.clone(), optional: false },
                });
            }
        }
        let app_env: Vec<(Vec<PathSegment>, &String, &profile::EnvSource)> =
            p.env.iter().map(|(k, v)| (path!["env", k].to_vec(), k, v)).collect();
        let own_env: Vec<(Vec<PathSegment>, &String, &profile::EnvSource)> = c
            .env
            .iter()
            .map(|(k, v)| {
                let mut h = at.to_vec();
                h.extend(path!["env", k]);
                (h, k, v)
            })
            .collect();
        let only_first_component = p.components.keys().next().map(String::as_str)
            == at.last().and_then(|s| match s {
                PathSegment::Key(k) => Some(k.as_str()),
                PathSegment::Index(_) => None,
            });
        let mut index: HashMap<String, usize> = vars.iter().enumerate().map(|(i, v)| (v.name.clone(), i)).collect();
        let secret_names: IndexSet<&str> = secrets.iter().map(|s| s.name.as_str()).collect();
        for (own, list) in [(false, app_env), (true, own_env)] {
            for (here, name, src) in list {
                // App-level problems are reported once, for the first component.
                let report = own || only_first_component;
                let Some(source) = self.env_source(&here, name, src, &secret_names, config_map, report) else {
                    continue;
                };
                let var = EnvVar { name: name.clone(), source };
                let existing = index.get(name.as_str()).copied();
                match existing.map(|i| &mut vars[i]) {
                    Some(existing) if own => *existing = var,
                    Some(_) => {
                        if report {
                            self.key_error(
                                Code::EnvVar,
                                &here,
                                format!("`{name}` is already set from a Secret in `secrets`"),
                            );
                        }
                    }
                    None => {
                        index.insert(name.clone(), vars.len());
                        vars.push(var);
                    }
                }
            }
        }
        vars
    }

    fn env_source(
        &mut self,
        here: &[PathSegment],
        name: &str,
        src: &profile::EnvSource,
        secret_names: &IndexSet<&str>,
        config_map: &Option<ConfigMap>,
        report: bool,
    ) -> Option<EnvValue> {
        let mut problems: Vec<(String, Option<String>)> = Vec::new();
        if let Err(why) = names::env_var_name(name) {
            problems.push((format!("variable `{name}` {why}"), None));
        }
        let set = [src.value.is_some(), src.secret.is_some(), src.config_map.is_some(), src.field.is_some()];
        let result = match set.iter().filter(|&&b| b).count() {
            1 => {
                let key = src.key.clone().unwrap_or_else(|| name.to_string());
                let optional = src.optional.unwrap_or(false);
                if let Some(v) = &src.value {
                    if report {
                        self.no_credential(here, CredentialPlace::Variable(name), v);
                    }
                    Some(EnvValue::Literal(v.clone()))
                } else if let Some(secret) = &src.secret {
                    if !secret_names.contains(secret.as_str()) {
                        let hint = if secret_names.is_empty() {
                            format!("declare it: `secrets: {{{secret}: {{}}}}` (an existing Secret)")
                        } else {
                            format!("declared secrets: {}", crate::diagnostic::short_list(secret_names.iter().copied()))
                        };
                        problems.push((
                            format!("`{name}` reads Secret `{secret}`, which `secrets` does not declare"),
                            Some(hint),
                        ));
                    }
                    Some(EnvValue::SecretKey { secret: secret.clone(), key, optional })
                } else if let Some(cm) = &src.config_map {
                    let ours = config_map.as_ref().is_some_and(|c| &c.name == cm && c.data.is_some());
                    if ours && config_map.as_ref().and_then(|c| c.data.as_ref()).is_some_and(|d| !d.contains_key(&key))
                    {
                        problems.push((
                            format!("ConfigMap `{cm}` has no key `{key}`"),
                            Some("add it under `settings`".into()),
                        ));
                    }
                    Some(EnvValue::ConfigMapKey { config_map: cm.clone(), key, optional })
                } else {
                    src.field.clone().map(EnvValue::Field)
                }
            }
            0 => {
                problems.push((
                    format!("`{name}` has no value"),
                    Some("give `value`, `secret`, `configMap` or `field`".into()),
                ));
                None
            }
            _ => {
                problems.push((
                    format!("`{name}` has more than one source"),
                    Some("give one of `value`, `secret`, `configMap` or `field`".into()),
                ));
                None
            }
        };
        if report {
            for (message, hint) in problems {
                let mut d = Diagnostic::error(Code::EnvVar, message);
                if let Some(h) = hint {
                    d = d.hint(h);
                }
                self.diag(d, here, false);
            }
        }
        result
    }

    fn writable_paths(&mut self, at: &[PathSegment], c: &profile::Component) -> Vec<String> {
        let p = &self.loaded.profile;
        let (paths, here) = match (&c.writable_paths, &p.security.writable_paths) {
            (Some(w), _) => (w.clone(), {
                let mut h = at.to_vec();
                h.push("writablePaths".into());
                h
            }),
            (None, Some(w)) => (w.clone(), path!["security", "writablePaths"].to_vec()),
            (None, None) => (vec!["/tmp".to_string()], Vec::new()),
        };
        let mut seen = HashSet::new();
        for (i, path) in paths.iter().enumerate() {
            let mut h = here.clone();
            h.push(i.into());
            if !path.starts_with('/') || path == "/" {
                self.error(
                    Code::WritablePath,
                    &h,
                    format!("writable path `{path}` must be an absolute path below `/`"),
                );
            } else if !seen.insert(path.as_str()) {
                self.error(Code::WritablePath, &h, format!("writable path `{path}` is listed twice"));
            }
        }
        paths
    }
}

/// `8080` for a TCP port, `53/UDP` for others, for messages.
fn show_port(number: u16, protocol: &str) -> String {
    if protocol == "TCP" { number.to_string() } else { format!("{number}/{protocol}") }
}

/// `base.section.field`.
fn section_path(base: &[PathSegment], section: &str, field: &str) -> Vec<PathSegment> {
    let mut p = base.to_vec();
    p.extend(path![section, field]);
    p
}

/// Requests and limits of a named preset.
pub(super) fn preset(p: profile::Preset) -> Resources {
    use profile::Preset::*;
    let (cpu_r, mem_r, cpu_l, mem_l) = match p {
        Nano => ("25m", "32Mi", "100m", "64Mi"),
        Micro => ("50m", "64Mi", "250m", "128Mi"),
        Small => ("100m", "128Mi", "500m", "256Mi"),
        Medium => ("250m", "256Mi", "1", "512Mi"),
        Large => ("500m", "512Mi", "2", "1Gi"),
        Xlarge => ("1", "2Gi", "4", "4Gi"),
    };
    let map = |cpu: &str, mem: &str| {
        BTreeMap::from([("cpu".to_string(), cpu.to_string()), ("memory".to_string(), mem.to_string())])
    };
    Resources { requests: map(cpu_r, mem_r), limits: map(cpu_l, mem_l) }
}
