//! The Pod Security Standards (kubernetes.io/docs/concepts/security/
//! pod-security-standards, as the pod-security-admission library checks
//! them): one table of controls, each at the level that forbids it
//! (baseline controls hold at baseline and restricted, restricted controls
//! at restricted only), run on a pod's JSON so that every pod is held to
//! them: rendered, patched, or in an extra manifest of any workload kind.
//!
//! Pure: no IO. Which level applies is the caller's (`check::Policy`).

use serde_json::Value;

use crate::yaml::PathSegment;

/// A Pod Security Standard level, from the most open.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Privileged,
    Baseline,
    Restricted,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Privileged => "privileged",
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        match s {
            "privileged" => Some(Level::Privileged),
            "baseline" => Some(Level::Baseline),
            "restricted" => Some(Level::Restricted),
            _ => None,
        }
    }
}

/// One way a pod falls short of a level: the control, the level that
/// forbids it, what is wrong (no value a user could not see in the
/// object), where (path in the pod spec, or in the pod's metadata when
/// `in_metadata`), and what the level requires.
#[derive(Clone, Debug, PartialEq)]
pub struct Violation {
    pub control: &'static str,
    pub level: Level,
    pub what: String,
    pub at: Vec<PathSegment>,
    pub in_metadata: bool,
    pub requires: &'static str,
}

/// A pod: its spec and its metadata's annotations.
pub struct Pod<'a> {
    pub spec: &'a Value,
    pub annotations: Option<&'a serde_json::Map<String, Value>>,
}

type Control = fn(&Pod<'_>, &mut Vec<Violation>);

/// The controls, in the order of the standard's tables; each adds its
/// violations with its name and level.
const CONTROLS: &[(&str, Level, &str, Control)] = &[
    ("HostProcess", Level::Baseline, "`windowsOptions.hostProcess` unset or false", host_process),
    ("Host Namespaces", Level::Baseline, "`hostNetwork`, `hostPID` and `hostIPC` unset or false", host_namespaces),
    ("Privileged Containers", Level::Baseline, "`securityContext.privileged` unset or false", privileged),
    (
        "Capabilities",
        Level::Baseline,
        "only the runtime's default capabilities added (AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT)",
        capabilities_baseline,
    ),
    ("HostPath Volumes", Level::Baseline, "no `hostPath` volumes", host_path),
    ("Host Ports", Level::Baseline, "no `hostPort` (or 0)", host_ports),
    ("Host Probes / Lifecycle Hooks", Level::Baseline, "no `host` in probes and lifecycle hooks", host_probes),
    ("AppArmor", Level::Baseline, "AppArmor `RuntimeDefault` or `Localhost`", app_armor),
    (
        "SELinux",
        Level::Baseline,
        "SELinux type container_t, container_init_t or container_kvm_t, no user or role",
        se_linux,
    ),
    (
        "/proc Mount Type",
        Level::Baseline,
        "`procMount` unset or `Default` (any with `hostUsers: false`)",
        proc_mount_baseline,
    ),
    ("Seccomp", Level::Baseline, "seccomp `RuntimeDefault` or `Localhost`, never `Unconfined`", seccomp_baseline),
    ("Sysctls", Level::Baseline, "only the safe, namespaced sysctls", sysctls),
    (
        "Volume Types",
        Level::Restricted,
        "volumes of kinds configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected and secret only",
        volume_types,
    ),
    (
        "Privilege Escalation",
        Level::Restricted,
        "`allowPrivilegeEscalation: false` on every container",
        privilege_escalation,
    ),
    ("Running as Non-root", Level::Restricted, "`runAsNonRoot: true` for the pod or every container", run_as_non_root),
    ("Running as Non-root user", Level::Restricted, "no `runAsUser: 0`", run_as_user),
    (
        "Seccomp",
        Level::Restricted,
        "seccomp `RuntimeDefault` or `Localhost`, set for the pod or every container",
        seccomp_restricted,
    ),
    (
        "Capabilities",
        Level::Restricted,
        "`capabilities.drop: [ALL]` on every container, and only NET_BIND_SERVICE added",
        capabilities_restricted,
    ),
    ("/proc Mount Type", Level::Restricted, "`procMount` unset or `Default`", proc_mount_restricted),
];

/// Every way the pod falls short of the restricted standard (each with the
/// level that forbids it): the violations of `level` are those whose
/// `level` is at most it.
pub fn violations(pod: &Pod<'_>) -> Vec<Violation> {
    let mut out = Vec::new();
    for (control, level, requires, check) in CONTROLS {
        let from = out.len();
        check(pod, &mut out);
        for v in &mut out[from..] {
            v.control = control;
            v.level = *level;
            v.requires = requires;
        }
    }
    out
}

fn key(k: &str) -> PathSegment {
    PathSegment::Key(k.into())
}

fn at(parts: &[&str]) -> Vec<PathSegment> {
    parts.iter().map(|k| key(k)).collect()
}

fn violation(what: String, at: Vec<PathSegment>) -> Violation {
    Violation { control: "", level: Level::Baseline, what, at, in_metadata: false, requires: "" }
}

/// Containers of every kind: (name for messages, path in the spec, value).
fn containers<'a>(pod: &Pod<'a>) -> Vec<(String, Vec<PathSegment>, &'a Value)> {
    let mut out = Vec::new();
    for (list, what) in [
        ("initContainers", "init container"),
        ("containers", "container"),
        ("ephemeralContainers", "ephemeral container"),
    ] {
        for (i, c) in pod.spec.get(list).and_then(Value::as_array).into_iter().flatten().enumerate() {
            let name = c.get("name").and_then(Value::as_str).unwrap_or_default();
            out.push((format!("{what} `{name}`"), vec![key(list), PathSegment::Index(i)], c));
        }
    }
    out
}

fn path_in(base: &[PathSegment], rest: &[&str]) -> Vec<PathSegment> {
    [base, at(rest).as_slice()].concat()
}

fn field<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(k))
}

fn is_true(v: Option<&Value>) -> bool {
    v.and_then(Value::as_bool) == Some(true)
}

fn text(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str)
}

fn host_users_off(pod: &Pod<'_>) -> bool {
    pod.spec.get("hostUsers").and_then(Value::as_bool) == Some(false)
}

fn windows(pod: &Pod<'_>) -> bool {
    text(field(pod.spec, &["os", "name"])) == Some("windows")
}

fn host_process(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    if is_true(field(pod.spec, &["securityContext", "windowsOptions", "hostProcess"])) {
        out.push(violation(
            "the pod runs as a Windows HostProcess".into(),
            at(&["securityContext", "windowsOptions", "hostProcess"]),
        ));
    }
    for (name, base, c) in containers(pod) {
        if is_true(field(c, &["securityContext", "windowsOptions", "hostProcess"])) {
            out.push(violation(
                format!("{name} runs as a Windows HostProcess"),
                path_in(&base, &["securityContext", "windowsOptions", "hostProcess"]),
            ));
        }
    }
}

fn host_namespaces(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    for f in ["hostNetwork", "hostPID", "hostIPC"] {
        if is_true(pod.spec.get(f)) {
            out.push(violation(format!("the pod sets `{f}: true`"), at(&[f])));
        }
    }
}

fn privileged(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    for (name, base, c) in containers(pod) {
        if is_true(field(c, &["securityContext", "privileged"])) {
            out.push(violation(format!("{name} is privileged"), path_in(&base, &["securityContext", "privileged"])));
        }
    }
}

/// The capabilities a container runtime grants by default.
const DEFAULT_CAPABILITIES: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

fn added(c: &Value) -> Vec<&str> {
    field(c, &["securityContext", "capabilities", "add"])
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

fn capabilities_baseline(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    for (name, base, c) in containers(pod) {
        for cap in added(c).into_iter().filter(|c| !DEFAULT_CAPABILITIES.contains(c)) {
            out.push(violation(
                format!("{name} adds capability `{cap}`"),
                path_in(&base, &["securityContext", "capabilities", "add"]),
            ));
        }
    }
}

fn volumes<'a>(pod: &Pod<'a>) -> impl Iterator<Item = (usize, &'a Value)> {
    pod.spec.get("volumes").and_then(Value::as_array).into_iter().flatten().enumerate()
}

fn host_path(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    for (i, v) in volumes(pod) {
        if v.get("hostPath").is_some_and(|h| !h.is_null()) {
            let name = text(v.get("name")).unwrap_or_default();
            out.push(violation(
                format!("volume `{name}` is a hostPath"),
                vec![key("volumes"), PathSegment::Index(i), key("hostPath")],
            ));
        }
    }
}

fn host_ports(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    for (name, base, c) in containers(pod) {
        for (j, p) in c.get("ports").and_then(Value::as_array).into_iter().flatten().enumerate() {
            if let Some(port) = p.get("hostPort").and_then(Value::as_i64).filter(|&n| n != 0) {
                let mut here = base.clone();
                here.extend([key("ports"), PathSegment::Index(j), key("hostPort")]);
                out.push(violation(format!("{name} binds host port {port}"), here));
            }
        }
    }
}

fn host_probes(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    for (name, base, c) in containers(pod) {
        for handler in [
            &["livenessProbe", "httpGet"][..],
            &["livenessProbe", "tcpSocket"],
            &["readinessProbe", "httpGet"],
            &["readinessProbe", "tcpSocket"],
            &["startupProbe", "httpGet"],
            &["startupProbe", "tcpSocket"],
            &["lifecycle", "postStart", "httpGet"],
            &["lifecycle", "postStart", "tcpSocket"],
            &["lifecycle", "preStop", "httpGet"],
            &["lifecycle", "preStop", "tcpSocket"],
        ] {
            let mut path = handler.to_vec();
            path.push("host");
            if text(field(c, &path)).is_some_and(|h| !h.is_empty()) {
                out.push(violation(format!("{name} sets `{}`", path.join(".")), path_in(&base, &path)));
            }
        }
    }
}

fn app_armor(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    for (k, v) in pod.annotations.into_iter().flatten() {
        if let Some(container) = k.strip_prefix("container.apparmor.security.beta.kubernetes.io/") {
            let value = v.as_str().unwrap_or_default();
            if !(value.is_empty() || value == "runtime/default" || value.starts_with("localhost/")) {
                let mut v = violation(
                    format!("container `{container}` has the AppArmor profile `{value}`"),
                    vec![key("annotations"), key(k)],
                );
                v.in_metadata = true;
                out.push(v);
            }
        }
    }
    let bad = |v: Option<&Value>| text(v).is_some_and(|t| t != "RuntimeDefault" && t != "Localhost");
    if bad(field(pod.spec, &["securityContext", "appArmorProfile", "type"])) {
        out.push(violation(
            "the pod's AppArmor profile is not RuntimeDefault or Localhost".into(),
            at(&["securityContext", "appArmorProfile", "type"]),
        ));
    }
    for (name, base, c) in containers(pod) {
        if bad(field(c, &["securityContext", "appArmorProfile", "type"])) {
            out.push(violation(
                format!("{name}'s AppArmor profile is not RuntimeDefault or Localhost"),
                path_in(&base, &["securityContext", "appArmorProfile", "type"]),
            ));
        }
    }
}

fn se_linux(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    let mut check = |who: String, base: Vec<PathSegment>, options: Option<&Value>| {
        let Some(o) = options else { return };
        let here = |f: &str| [base.as_slice(), &[key("securityContext"), key("seLinuxOptions"), key(f)]].concat();
        if text(o.get("type"))
            .is_some_and(|t| !t.is_empty() && !["container_t", "container_init_t", "container_kvm_t"].contains(&t))
        {
            out.push(violation(format!("{who} sets a custom SELinux type"), here("type")));
        }
        for f in ["user", "role"] {
            if text(o.get(f)).is_some_and(|t| !t.is_empty()) {
                out.push(violation(format!("{who} sets an SELinux {f}"), here(f)));
            }
        }
    };
    check("the pod".into(), Vec::new(), field(pod.spec, &["securityContext", "seLinuxOptions"]));
    for (name, base, c) in containers(pod) {
        check(name, base, field(c, &["securityContext", "seLinuxOptions"]));
    }
}

fn proc_mount(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    for (name, base, c) in containers(pod) {
        if text(field(c, &["securityContext", "procMount"])).is_some_and(|m| m != "Default") {
            out.push(violation(
                format!("{name} unmasks /proc (`procMount`)"),
                path_in(&base, &["securityContext", "procMount"]),
            ));
        }
    }
}

fn proc_mount_baseline(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    if !host_users_off(pod) {
        proc_mount(pod, out);
    }
}

fn proc_mount_restricted(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    // Baseline reports it already unless user namespaces relax it there.
    if host_users_off(pod) {
        proc_mount(pod, out);
    }
}

fn seccomp_type(v: &Value) -> Option<&str> {
    text(field(v, &["securityContext", "seccompProfile", "type"]))
}

fn seccomp_baseline(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    if seccomp_type(pod.spec) == Some("Unconfined") {
        out.push(violation(
            "the pod's seccomp profile is Unconfined".into(),
            at(&["securityContext", "seccompProfile", "type"]),
        ));
    }
    for (name, base, c) in containers(pod) {
        if seccomp_type(c) == Some("Unconfined") {
            out.push(violation(
                format!("{name}'s seccomp profile is Unconfined"),
                path_in(&base, &["securityContext", "seccompProfile", "type"]),
            ));
        }
    }
}

/// The sysctls the baseline standard allows (namespaced, isolated).
const SAFE_SYSCTLS: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_wmem",
    "net.ipv4.tcp_slow_start_after_idle",
    "net.ipv4.tcp_notsent_lowat",
];

fn sysctls(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    for (i, s) in
        field(pod.spec, &["securityContext", "sysctls"]).and_then(Value::as_array).into_iter().flatten().enumerate()
    {
        let name = text(s.get("name")).unwrap_or_default();
        if !SAFE_SYSCTLS.contains(&name) {
            out.push(violation(
                format!("the pod sets sysctl `{name}`"),
                vec![key("securityContext"), key("sysctls"), PathSegment::Index(i), key("name")],
            ));
        }
    }
}

/// Volume sources the restricted standard allows.
const RESTRICTED_VOLUMES: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

fn volume_types(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    for (i, v) in volumes(pod) {
        let name = text(v.get("name")).unwrap_or_default();
        for (source, value) in v.as_object().into_iter().flatten() {
            // hostPath is a baseline violation already.
            if source != "name"
                && source != "hostPath"
                && !value.is_null()
                && !RESTRICTED_VOLUMES.contains(&source.as_str())
            {
                out.push(violation(
                    format!("volume `{name}` is of kind `{source}`"),
                    vec![key("volumes"), PathSegment::Index(i), key(source)],
                ));
            }
        }
    }
}

fn privilege_escalation(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    if windows(pod) {
        return;
    }
    for (name, base, c) in containers(pod) {
        let value = field(c, &["securityContext", "allowPrivilegeEscalation"]).and_then(Value::as_bool);
        if value != Some(false) {
            let what = if value == Some(true) {
                "sets `allowPrivilegeEscalation: true`"
            } else {
                "does not set `securityContext.allowPrivilegeEscalation: false`"
            };
            out.push(violation(
                format!("{name} {what}"),
                path_in(&base, &["securityContext", "allowPrivilegeEscalation"]),
            ));
        }
    }
}

fn run_as_non_root(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    if host_users_off(pod) {
        return;
    }
    let pod_level = field(pod.spec, &["securityContext", "runAsNonRoot"]).and_then(Value::as_bool);
    if pod_level == Some(false) {
        out.push(violation("the pod sets `runAsNonRoot: false`".into(), at(&["securityContext", "runAsNonRoot"])));
    }
    for (name, base, c) in containers(pod) {
        match field(c, &["securityContext", "runAsNonRoot"]).and_then(Value::as_bool) {
            Some(false) => out.push(violation(
                format!("{name} sets `runAsNonRoot: false`"),
                path_in(&base, &["securityContext", "runAsNonRoot"]),
            )),
            None if pod_level != Some(true) => out.push(violation(
                format!("{name} does not set `securityContext.runAsNonRoot: true`, nor does the pod"),
                path_in(&base, &["securityContext", "runAsNonRoot"]),
            )),
            _ => {}
        }
    }
}

fn run_as_user(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    if host_users_off(pod) {
        return;
    }
    let root = |v: &Value| field(v, &["securityContext", "runAsUser"]).and_then(Value::as_i64) == Some(0);
    if root(pod.spec) {
        out.push(violation("the pod runs as root (`runAsUser: 0`)".into(), at(&["securityContext", "runAsUser"])));
    }
    for (name, base, c) in containers(pod) {
        if root(c) {
            out.push(violation(
                format!("{name} runs as root (`runAsUser: 0`)"),
                path_in(&base, &["securityContext", "runAsUser"]),
            ));
        }
    }
}

fn seccomp_restricted(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    if windows(pod) {
        return;
    }
    let allowed = |t: Option<&str>| matches!(t, Some("RuntimeDefault" | "Localhost"));
    let pod_type = seccomp_type(pod.spec);
    // Unconfined is a baseline violation already.
    if pod_type.is_some_and(|t| !allowed(Some(t)) && t != "Unconfined") {
        out.push(violation(
            "the pod's seccomp profile is not RuntimeDefault or Localhost".into(),
            at(&["securityContext", "seccompProfile", "type"]),
        ));
    }
    for (name, base, c) in containers(pod) {
        match seccomp_type(c) {
            Some("Unconfined") => {}
            Some(t) if !allowed(Some(t)) => out.push(violation(
                format!("{name}'s seccomp profile is not RuntimeDefault or Localhost"),
                path_in(&base, &["securityContext", "seccompProfile", "type"]),
            )),
            None if !allowed(pod_type) => out.push(violation(
                format!("{name} has no seccomp profile RuntimeDefault or Localhost, of its own or the pod's"),
                path_in(&base, &["securityContext", "seccompProfile"]),
            )),
            _ => {}
        }
    }
}

fn capabilities_restricted(pod: &Pod<'_>, out: &mut Vec<Violation>) {
    if windows(pod) {
        return;
    }
    for (name, base, c) in containers(pod) {
        let drops_all = field(c, &["securityContext", "capabilities", "drop"])
            .and_then(Value::as_array)
            .is_some_and(|d| d.iter().any(|v| v.as_str() == Some("ALL")));
        if !drops_all {
            out.push(violation(
                format!("{name} does not drop ALL capabilities (`securityContext.capabilities.drop: [ALL]`)"),
                path_in(&base, &["securityContext", "capabilities", "drop"]),
            ));
        }
        // Beyond the default set is a baseline violation already.
        for cap in added(c).into_iter().filter(|c| *c != "NET_BIND_SERVICE" && DEFAULT_CAPABILITIES.contains(c)) {
            out.push(violation(
                format!("{name} adds capability `{cap}`"),
                path_in(&base, &["securityContext", "capabilities", "add"]),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// kgen's hardening, as `render::workload` writes it.
    fn hardened() -> Value {
        json!({"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "runAsNonRoot": true, "readOnlyRootFilesystem": true})
    }

    fn pod(extra: Value, container: Value) -> Value {
        let mut spec = json!({
            "securityContext": {"runAsNonRoot": true, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [container],
        });
        for (k, v) in extra.as_object().unwrap() {
            spec[k] = v.clone();
        }
        spec
    }

    fn found(spec: &Value, annotations: Option<Value>) -> Vec<(String, &'static str, String)> {
        let annotations = annotations.unwrap_or(json!({}));
        let p = Pod { spec, annotations: annotations.as_object() };
        violations(&p).into_iter().map(|v| (v.what, v.level.name(), crate::yaml::format_path(&v.at))).collect()
    }

    #[test]
    fn kgen_hardening_meets_restricted() {
        let spec = pod(
            json!({"volumes": [{"name": "tmp", "emptyDir": {}}, {"name": "s", "projected": {"sources": []}}]}),
            json!({"name": "app", "image": "a", "securityContext": hardened()}),
        );
        assert_eq!(found(&spec, None), []);
    }

    /// One case per control: the pod, and what is reported.
    #[test]
    fn every_control_of_the_standard() {
        let c = |sc: Value| json!({"name": "app", "image": "a", "securityContext": sc});
        let with = |extra: Value| {
            let mut sc = hardened();
            for (k, v) in extra.as_object().unwrap() {
                sc[k] = v.clone();
            }
            sc
        };
        let cases: Vec<(Value, Option<Value>, Vec<(&str, &str, &str)>)> = vec![
            (
                pod(json!({"hostNetwork": true, "hostPID": true, "hostIPC": false}), c(hardened())),
                None,
                vec![
                    ("the pod sets `hostNetwork: true`", "baseline", "hostNetwork"),
                    ("the pod sets `hostPID: true`", "baseline", "hostPID"),
                ],
            ),
            (
                pod(json!({}), c(with(json!({"privileged": true})))),
                None,
                vec![("container `app` is privileged", "baseline", "containers[0].securityContext.privileged")],
            ),
            (
                pod(
                    json!({}),
                    c(with(
                        json!({"capabilities": {"drop": ["ALL"], "add": ["SYS_ADMIN", "NET_BIND_SERVICE", "CHOWN"]}}),
                    )),
                ),
                None,
                vec![
                    (
                        "container `app` adds capability `SYS_ADMIN`",
                        "baseline",
                        "containers[0].securityContext.capabilities.add",
                    ),
                    (
                        "container `app` adds capability `CHOWN`",
                        "restricted",
                        "containers[0].securityContext.capabilities.add",
                    ),
                ],
            ),
            (
                pod(
                    json!({"volumes": [{"name": "root", "hostPath": {"path": "/"}}, {"name": "n", "nfs": {"server": "x", "path": "/"}}]}),
                    c(hardened()),
                ),
                None,
                vec![
                    ("volume `root` is a hostPath", "baseline", "volumes[0].hostPath"),
                    ("volume `n` is of kind `nfs`", "restricted", "volumes[1].nfs"),
                ],
            ),
            (
                pod(
                    json!({}),
                    json!({"name": "app", "securityContext": hardened(), "ports": [{"containerPort": 80, "hostPort": 80}], "livenessProbe": {"httpGet": {"host": "10.0.0.1", "port": 80}}}),
                ),
                None,
                vec![
                    ("container `app` binds host port 80", "baseline", "containers[0].ports[0].hostPort"),
                    (
                        "container `app` sets `livenessProbe.httpGet.host`",
                        "baseline",
                        "containers[0].livenessProbe.httpGet.host",
                    ),
                ],
            ),
            (
                pod(
                    json!({}),
                    c(with(
                        json!({"appArmorProfile": {"type": "Unconfined"}, "seLinuxOptions": {"type": "spc_t", "user": "root"}}),
                    )),
                ),
                Some(json!({"container.apparmor.security.beta.kubernetes.io/app": "unconfined"})),
                vec![
                    (
                        "container `app` has the AppArmor profile `unconfined`",
                        "baseline",
                        "annotations.container.apparmor.security.beta.kubernetes.io/app",
                    ),
                    (
                        "container `app`'s AppArmor profile is not RuntimeDefault or Localhost",
                        "baseline",
                        "containers[0].securityContext.appArmorProfile.type",
                    ),
                    (
                        "container `app` sets a custom SELinux type",
                        "baseline",
                        "containers[0].securityContext.seLinuxOptions.type",
                    ),
                    (
                        "container `app` sets an SELinux user",
                        "baseline",
                        "containers[0].securityContext.seLinuxOptions.user",
                    ),
                ],
            ),
            (
                pod(json!({}), c(with(json!({"procMount": "Unmasked", "seccompProfile": {"type": "Unconfined"}})))),
                None,
                vec![
                    (
                        "container `app` unmasks /proc (`procMount`)",
                        "baseline",
                        "containers[0].securityContext.procMount",
                    ),
                    (
                        "container `app`'s seccomp profile is Unconfined",
                        "baseline",
                        "containers[0].securityContext.seccompProfile.type",
                    ),
                ],
            ),
            (
                pod(
                    json!({"hostUsers": false}),
                    c(with(json!({"procMount": "Unmasked", "runAsNonRoot": false, "runAsUser": 0}))),
                ),
                None,
                vec![(
                    "container `app` unmasks /proc (`procMount`)",
                    "restricted",
                    "containers[0].securityContext.procMount",
                )],
            ),
            (
                pod(
                    json!({"securityContext": {"sysctls": [{"name": "net.ipv4.tcp_syncookies", "value": "1"}, {"name": "kernel.msgmax", "value": "1"}], "runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}}}),
                    c(hardened()),
                ),
                None,
                vec![("the pod sets sysctl `kernel.msgmax`", "baseline", "securityContext.sysctls[1].name")],
            ),
            // A sidecar without kgen's hardening, in kgen's pod.
            (
                pod(json!({}), json!({"name": "sidecar", "image": "s"})),
                None,
                vec![
                    (
                        "container `sidecar` does not set `securityContext.allowPrivilegeEscalation: false`",
                        "restricted",
                        "containers[0].securityContext.allowPrivilegeEscalation",
                    ),
                    (
                        "container `sidecar` does not drop ALL capabilities (`securityContext.capabilities.drop: [ALL]`)",
                        "restricted",
                        "containers[0].securityContext.capabilities.drop",
                    ),
                ],
            ),
            // Root, and nothing at pod level.
            (
                json!({"securityContext": {"runAsUser": 0}, "containers": [c(with(json!({"runAsNonRoot": false})))]}),
                None,
                vec![
                    (
                        "container `app` sets `runAsNonRoot: false`",
                        "restricted",
                        "containers[0].securityContext.runAsNonRoot",
                    ),
                    ("the pod runs as root (`runAsUser: 0`)", "restricted", "securityContext.runAsUser"),
                    (
                        "container `app` has no seccomp profile RuntimeDefault or Localhost, of its own or the pod's",
                        "restricted",
                        "containers[0].securityContext.seccompProfile",
                    ),
                ],
            ),
            (
                json!({"containers": [{"name": "w", "image": "i"}], "os": {"name": "windows"}, "securityContext": {"runAsNonRoot": true}}),
                None,
                vec![],
            ),
        ];
        for (spec, annotations, expected) in cases {
            let expected: Vec<(String, &str, String)> =
                expected.into_iter().map(|(w, l, a)| (w.to_string(), l, a.to_string())).collect();
            assert_eq!(found(&spec, annotations), expected, "{spec}");
        }
    }
}
