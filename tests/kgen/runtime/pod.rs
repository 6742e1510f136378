//! One pod on the node: its containers prepared from the pod template as
//! the kubelet and a container runtime would (image, environment, command
//! line, identity, mounts), init containers run in order to completion,
//! containers started in the background with their output in log files,
//! probes run (exec in an identical sandbox; httpGet and tcpSocket from the
//! pod's network namespace to its IP), and a graceful stop.
//!
//! Timing is not the kubelet's: probes are polled every quarter second until
//! a bound instead of every `periodSeconds`; `initialDelaySeconds` is
//! honoured, but ends early once the image's entrypoint says it has handed
//! over to the server (PostgreSQL's, after its temporary set-up server:
//! while that runs, a unix-socket `pg_isready` already succeeds), which is
//! what the delay is there for; and a container that exits is not
//! restarted (the pod fails instead of crash-looping). It does not make
//! volumes or namespaces (`cluster` does).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Container, Probe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::bundle::PodSource;
use super::images::Image;
use super::net::Namespaces;
use super::process::{Background, Finished, describe_status, read_lossy, run_bounded, tail};
use super::sandbox::{Identity, Sandbox};

/// How many lines of a container's output failure messages show.
pub const TAIL_LINES: usize = 25;
/// Probe polling interval.
const PROBE_POLL: Duration = Duration::from_millis(250);

/// A container ready to run: its sandbox and command line.
pub struct Prepared {
    pub name: String,
    pub spec: Container,
    pub image: Image,
    pub sandbox: Sandbox,
    pub argv: Vec<String>,
}

struct Running {
    prepared: Prepared,
    process: Background,
    started: Instant,
}

impl Running {
    /// Whether a probe with `initial_delay` may run: the delay has passed,
    /// or the entrypoint has said it started the server.
    fn past_initial_delay(&self, initial_delay: Option<i32>) -> bool {
        let delay = Duration::from_secs(initial_delay.unwrap_or(0).max(0) as u64);
        if self.started.elapsed() >= delay {
            return true;
        }
        let markers = self.prepared.image.started_markers;
        !markers.is_empty() && {
            let output = self.process.output();
            markers.iter().any(|m| output.contains(m))
        }
    }
}

/// A pod on the node.
pub struct Pod {
    pub name: String,
    pub source: PodSource,
    pub ip: String,
    /// "platform --env kind: StatefulSet platform-postgres (pod platform-postgres-0)"
    pub label: String,
    /// Dropped (killed) before the namespaces they run in.
    containers: Vec<Running>,
    ns: Namespaces,
    logs: PathBuf,
    /// Init containers that ran, with their output.
    pub init_outputs: Vec<(String, String)>,
}

impl Pod {
    pub fn new(source: PodSource, ip: String, label: String, ns: Namespaces, logs: PathBuf) -> Pod {
        std::fs::create_dir_all(&logs).unwrap();
        Pod { name: source.pod_name(), source, ip, label, containers: vec![], ns, logs, init_outputs: vec![] }
    }

    fn log_path(&self, container: &str, what: &str) -> PathBuf {
        self.logs.join(format!("{container}.{what}.log"))
    }

    fn command(&self, prepared: &Prepared, argv: &[String]) -> Command {
        let line = prepared.sandbox.command_line(argv);
        // For debugging with KGEN_RUNTIME_KEEP: the last command line per container.
        let shown: Vec<String> = line.iter().map(|a| format!("{:?}", a)).collect();
        let _ = std::fs::write(self.log_path(&prepared.name, "cmdline"), shown.join(" "));
        let mut cmd = Command::new(&line[0]);
        cmd.args(&line[1..]);
        self.ns.enter(cmd)
    }

    /// Run an init container to completion within `bound`; exit 0 required.
    pub fn run_init(&mut self, prepared: Prepared, bound: Duration) -> Result<(), String> {
        let log = self.log_path(&prepared.name, "init");
        let finished = run_bounded(self.command(&prepared, &prepared.argv), &log, bound);
        self.init_outputs.push((prepared.name.clone(), finished.output.clone()));
        match finished.status {
            Some(s) if s.success() => Ok(()),
            Some(s) => Err(format!(
                "init container `{}` failed ({}), so the pod never starts; command {:?}; last output:\n{}",
                prepared.name,
                describe_status(s),
                prepared.argv,
                tail(&finished.output, TAIL_LINES)
            )),
            None => Err(format!(
                "init container `{}` did not finish within {} s (the scenario's databases and caches were \
                 ready); command {:?}; last output:\n{}",
                prepared.name,
                bound.as_secs(),
                prepared.argv,
                tail(&finished.output, TAIL_LINES)
            )),
        }
    }

    /// Start a container in the background.
    pub fn start(&mut self, prepared: Prepared) {
        let log = self.log_path(&prepared.name, "out");
        let process = Background::spawn(self.command(&prepared, &prepared.argv), &log);
        self.containers.push(Running { prepared, process, started: Instant::now() });
    }

    fn running(&self, name: &str) -> &Running {
        self.containers
            .iter()
            .find(|c| c.prepared.name == name)
            .unwrap_or_else(|| panic!("{}: no container {name}", self.label))
    }

    /// A container's output so far.
    pub fn logs(&self, container: &str) -> String {
        read_lossy(&self.log_path(container, "out"))
    }

    pub fn container_names(&self) -> Vec<String> {
        self.containers.iter().map(|c| c.prepared.name.clone()).collect()
    }

    /// A container's environment, as its processes see it.
    pub fn env(&self, container: &str) -> &BTreeMap<String, String> {
        &self.running(container).prepared.sandbox.env
    }

    /// A container's spec.
    pub fn container(&self, container: &str) -> &Container {
        &self.running(container).prepared.spec
    }

    /// "container X exited (…); last output" if it is not running.
    fn check_running(&mut self, index: usize) -> Result<(), String> {
        let running = &mut self.containers[index];
        match running.process.exit_status() {
            None => Ok(()),
            Some(status) => Err(format!(
                "container `{}` exited ({}); a kubelet would restart it (CrashLoopBackOff); command {:?}; \
                 last output:\n{}",
                running.prepared.name,
                describe_status(status),
                running.prepared.argv,
                tail(&running.process.output(), TAIL_LINES)
            )),
        }
    }

    /// Poll startup, then readiness probes of every container until all
    /// pass, within `bound`.
    pub fn wait_ready(&mut self, bound: Duration) -> Result<(), String> {
        self.wait_probes(bound, true)
    }

    /// Poll the startup probes of every container until all pass, within
    /// `bound` (the kubelet's "started": from then on liveness probes run);
    /// readiness is not asked for.
    pub fn wait_started(&mut self, bound: Duration) -> Result<(), String> {
        self.wait_probes(bound, false)
    }

    fn wait_probes(&mut self, bound: Duration, readiness: bool) -> Result<(), String> {
        let deadline = Instant::now() + bound;
        let count = self.containers.len();
        let mut started: Vec<bool> = self.containers.iter().map(|c| c.prepared.spec.startup_probe.is_none()).collect();
        let mut ready = vec![false; count];
        let mut last_failure: Vec<String> = vec![String::new(); count];
        loop {
            for i in 0..count {
                if ready[i] {
                    continue;
                }
                self.check_running(i)?;
                let spec = self.containers[i].prepared.spec.clone();
                if !started[i] {
                    match self.probe(i, spec.startup_probe.as_ref().unwrap()) {
                        Ok(()) => started[i] = true,
                        Err(e) => last_failure[i] = format!("startup probe: {e}"),
                    }
                }
                if started[i] && !readiness {
                    ready[i] = true;
                    continue;
                }
                let readiness = spec.readiness_probe.as_ref();
                let delay = readiness.and_then(|p| p.initial_delay_seconds);
                if started[i] && !self.containers[i].past_initial_delay(delay) {
                    last_failure[i] = "readiness probe: not run yet (initialDelaySeconds)".into();
                } else if started[i] {
                    match readiness.map(|p| self.probe(i, p)) {
                        None | Some(Ok(())) => ready[i] = true,
                        Some(Err(e)) => last_failure[i] = format!("readiness probe: {e}"),
                    }
                }
            }
            if ready.iter().all(|r| *r) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let i = ready.iter().position(|r| !r).unwrap();
                let running = &self.containers[i];
                return Err(format!(
                    "container `{}` was not {} within {} s; last {}\n  container output:\n{}",
                    running.prepared.name,
                    if readiness { "ready" } else { "started" },
                    bound.as_secs(),
                    last_failure[i],
                    tail(&running.process.output(), TAIL_LINES)
                ));
            }
            std::thread::sleep(PROBE_POLL);
        }
    }

    /// Run every liveness probe once (not before its initial delay); all
    /// must pass.
    pub fn check_liveness(&mut self) -> Result<(), String> {
        self.probe_each_once(|c| c.liveness_probe.as_ref(), "liveness probe failed (a kubelet would restart it)")
    }

    /// Run every readiness probe once (not before its initial delay); all
    /// must pass.
    pub fn check_readiness(&mut self) -> Result<(), String> {
        self.probe_each_once(
            |c| c.readiness_probe.as_ref(),
            "readiness probe failed (a kubelet would take the pod out of its Services)",
        )
    }

    fn probe_each_once(&mut self, which: fn(&Container) -> Option<&Probe>, failed: &str) -> Result<(), String> {
        for i in 0..self.containers.len() {
            self.check_running(i)?;
            let spec = self.containers[i].prepared.spec.clone();
            if let Some(probe) = which(&spec) {
                while !self.containers[i].past_initial_delay(probe.initial_delay_seconds) {
                    // Bounded by the delay itself.
                    std::thread::sleep(PROBE_POLL);
                }
                self.probe(i, probe).map_err(|e| {
                    format!(
                        "container `{}`: {failed}: {e}\n  container output:\n{}",
                        spec.name,
                        tail(&self.containers[i].process.output(), TAIL_LINES)
                    )
                })?;
            }
        }
        Ok(())
    }

    /// One attempt of a probe of container `index`.
    fn probe(&self, index: usize, probe: &Probe) -> Result<(), String> {
        let running = &self.containers[index];
        let timeout = Duration::from_secs(probe.timeout_seconds.unwrap_or(1).max(1) as u64);
        let log = self.log_path(&running.prepared.name, "probe");
        // Network probes get a second more than their timeout to start.
        let (what, cmd, bound) = if let Some(exec) = &probe.exec {
            let argv = exec.command.clone().unwrap_or_default();
            (format!("exec {argv:?}"), self.command(&running.prepared, &argv), timeout)
        } else if let Some(http) = &probe.http_get {
            if http.scheme.as_deref().is_some_and(|s| s != "HTTP") {
                return Err("httpGet probes over HTTPS are not emulated".into());
            }
            let host = http.host.clone().unwrap_or_else(|| self.ip.clone());
            let port = self.port(&running.prepared.spec, &http.port)?;
            let url = format!("http://{host}:{port}{}", http.path.as_deref().unwrap_or("/"));
            let mut wget = Command::new("busybox");
            // No -T: Debian's busybox 1.35 wget crashes with it; the run is bounded.
            wget.args(["wget", "-q", "-O", "/dev/null", &url]);
            (format!("httpGet {url}"), self.ns.enter(wget), timeout + Duration::from_secs(1))
        } else if let Some(tcp) = &probe.tcp_socket {
            let host = tcp.host.clone().unwrap_or_else(|| self.ip.clone());
            let port = self.port(&running.prepared.spec, &tcp.port)?;
            let secs = timeout.as_secs();
            let mut socat = Command::new("socat");
            socat.args(["-T", &secs.to_string(), "/dev/null", &format!("TCP:{host}:{port},connect-timeout={secs}")]);
            (format!("tcpSocket {host}:{port}"), self.ns.enter(socat), timeout + Duration::from_secs(1))
        } else {
            return Err("probe type not emulated (exec, httpGet and tcpSocket are)".into());
        };
        let finished = run_bounded(cmd, &log, bound);
        if finished.success() {
            Ok(())
        } else {
            Err(format!("{what}: {}\n{}", finished.describe(bound), tail(&finished.output, 10)))
        }
    }

    /// A probe's port: a number, or a name of the container's ports.
    fn port(&self, container: &Container, port: &IntOrString) -> Result<i32, String> {
        match port {
            IntOrString::Int(n) => Ok(*n),
            IntOrString::String(name) => container
                .ports
                .iter()
                .flatten()
                .find(|p| p.name.as_deref() == Some(name))
                .map(|p| p.container_port)
                .ok_or_else(|| format!("container `{}` has no port named {name}", container.name)),
        }
    }

    /// `kubectl exec`: run `argv` in an identical sandbox of `container`.
    pub fn exec(&self, container: &str, argv: &[&str], bound: Duration) -> Finished {
        let running = self.running(container);
        let argv: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
        let log = self.log_path(container, "exec");
        run_bounded(self.command(&running.prepared, &argv), &log, bound)
    }

    /// A command run in the pod's network namespace (not in a container).
    pub fn in_netns(&self, cmd: Command, bound: Duration) -> Finished {
        run_bounded(self.ns.enter(cmd), &self.logs.join("netns.log"), bound)
    }

    /// Wait for every container to exit (a Job's pod), within `bound`.
    pub fn wait_exited(&mut self, bound: Duration) -> Vec<(String, Finished)> {
        let deadline = Instant::now() + bound;
        let mut out = vec![];
        for running in &mut self.containers {
            let left = deadline.saturating_duration_since(Instant::now());
            let status = running.process.wait_bounded(left);
            if status.is_none() {
                running.process.kill();
            }
            out.push((running.prepared.name.clone(), Finished { status, output: running.process.output() }));
        }
        out
    }

    /// Stop the containers as a runtime does: the image's stop signal to
    /// each main process, at most `grace` to exit, then SIGKILL.
    pub fn stop(&mut self, grace: Duration) {
        for running in &mut self.containers {
            if running.process.exit_status().is_some() {
                continue;
            }
            for pid in main_processes(running.process.pid()) {
                let _ = Command::new("kill")
                    .args([&format!("-{}", running.prepared.image.stop_signal), &pid.to_string()])
                    .status();
            }
        }
        let deadline = Instant::now() + grace;
        for running in &mut self.containers {
            let left = deadline.saturating_duration_since(Instant::now());
            running.process.wait_bounded(left);
            running.process.kill();
        }
    }
}

impl Pod {
    /// Every process of the pod: the namespace holder, each container's
    /// bwrap and everything under it (for teardown checks).
    pub fn process_ids(&self) -> Vec<u32> {
        let parents = parent_table();
        let mut out = vec![self.ns.pid()];
        let mut pending: Vec<u32> = self.containers.iter().map(|c| c.process.pid()).collect();
        while let Some(pid) = pending.pop() {
            out.push(pid);
            pending.extend(parents.iter().filter(|(_, p)| **p == pid).map(|(c, _)| *c));
        }
        out
    }
}

/// The container's main process: bwrap (outside) → bwrap (PID 1 inside) → it.
fn main_processes(bwrap: u32) -> Vec<u32> {
    let parents = parent_table();
    let children = |pid: u32| -> Vec<u32> { parents.iter().filter(|(_, p)| **p == pid).map(|(c, _)| *c).collect() };
    children(bwrap).into_iter().flat_map(children).collect()
}

/// pid → parent pid, for every process.
fn parent_table() -> BTreeMap<u32, u32> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        // The command name may hold spaces and parentheses; the fields
        // after its closing parenthesis are: state, ppid, …
        if let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r)
            && let Some(ppid) = rest.split_whitespace().nth(1).and_then(|p| p.parse().ok())
        {
            out.insert(pid, ppid);
        }
    }
    out
}

/// Who a container runs as: container securityContext over the pod's over
/// the image's user; a UID set without a group gets group 0 (the UID has no
/// passwd entry in the image).
pub fn identity(container: &Container, source: &PodSource, image: &Image) -> Result<Identity, String> {
    let pod = source.spec().security_context.as_ref();
    let own = container.security_context.as_ref();
    let uid = own.and_then(|s| s.run_as_user).or(pod.and_then(|s| s.run_as_user));
    let gid = own.and_then(|s| s.run_as_group).or(pod.and_then(|s| s.run_as_group));
    let (uid, gid) = match (uid, gid) {
        (Some(u), Some(g)) => (u as u32, g as u32),
        (Some(u), None) => (u as u32, 0),
        (None, Some(g)) => (image.uid, g as u32),
        (None, None) => (image.uid, image.gid),
    };
    let non_root = own.and_then(|s| s.run_as_non_root).or(pod.and_then(|s| s.run_as_non_root)) == Some(true);
    if non_root && uid == 0 {
        return Err(format!(
            "CreateContainerConfigError: container `{}` has runAsNonRoot and its image runs as root",
            container.name
        ));
    }
    if own.and_then(|s| s.privileged) == Some(true) {
        return Err(format!("container `{}` is privileged: not emulated", container.name));
    }
    let caps = own.and_then(|s| s.capabilities.as_ref());
    Ok(Identity {
        uid,
        gid,
        groups: super::volumes::pod_groups(source.spec()),
        add: caps.and_then(|c| c.add.clone()).unwrap_or_default(),
        drop: caps.and_then(|c| c.drop.clone()).unwrap_or_default(),
        no_new_privs: own.and_then(|s| s.allow_privilege_escalation) == Some(false),
    })
}

/// The runtime's command line: `command` replaces the image's entrypoint
/// (and then its CMD is not used), `args` its CMD; both expanded.
pub fn command_line(
    container: &Container,
    image: &Image,
    env: &BTreeMap<String, String>,
) -> Result<Vec<String>, String> {
    let expand = |items: &Vec<String>| super::env::expand_all(items, env);
    let argv: Vec<String> = match (&container.command, &container.args) {
        (Some(command), args) => expand(command).into_iter().chain(args.iter().flat_map(expand)).collect(),
        (None, Some(args)) => image.entrypoint.iter().cloned().chain(expand(args)).collect(),
        (None, None) => image.entrypoint.iter().chain(&image.cmd).cloned().collect(),
    };
    if argv.is_empty() {
        return Err(format!("container `{}` has no command and its image no entrypoint or CMD", container.name));
    }
    Ok(argv)
}
