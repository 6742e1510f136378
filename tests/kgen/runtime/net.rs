//! The scenario's network, made only of namespaces it creates: a "cluster"
//! network namespace with a bridge (10.244.0.1/24) and the Services' cluster
//! IPs (10.96.0.0/24, on its loopback); one network namespace per pod (with
//! its IPC and UTS namespaces, held by a `sleep` like the pause container),
//! joined to the bridge by a veth pair, its address from 10.244.0.0/24, its
//! default route the bridge; a userspace proxy (socat, what kube-proxy's
//! userspace mode did) per Service port, from cluster IP:port to the
//! selected pod's target port. Names resolve through the scenario's
//! `/etc/hosts` (see `cluster`). Nothing here has a route to any other
//! network, and no interface is created in the host's namespace.
//!
//! NetworkPolicies are not enforced: every pod reaches every pod.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use super::process::{Background, run_checked};

/// The bridge's address in the cluster namespace (the pods' gateway).
pub const GATEWAY: &str = "10.244.0.1";

/// Namespaces held by a sleeping process: network, IPC and UTS.
pub struct Namespaces {
    holder: Background,
}

impl Namespaces {
    /// New namespaces with `lo` up and `hostname` set. `log` collects what
    /// the holder prints (nothing, normally).
    pub fn new(hostname: &str, log: &Path) -> Namespaces {
        // A holder dies with the test (SIGKILL when the thread that started
        // it ends), and in any case after an hour.
        let mut cmd = Command::new("setpriv");
        cmd.args(["--pdeathsig", "KILL", "--", "unshare", "--net", "--ipc", "--uts", "--", "sleep", "3600"]);
        let holder = Background::spawn(cmd, log);
        let ns = Namespaces { holder };
        ns.wait_unshared();
        run_checked(ns.enter(Command::new("busybox")).args(["hostname", hostname]));
        run_checked(ns.enter(Command::new("ip")).args(["link", "set", "lo", "up"]));
        ns
    }

    /// Wait until the holder runs `sleep`, that is, after it unshared: before
    /// that, /proc/<pid>/ns/net is the host's.
    fn wait_unshared(&self) {
        let pid = self.holder.pid();
        let deadline = Instant::now() + Duration::from_secs(10);
        let host_net = std::fs::read_link("/proc/self/ns/net").expect("own network namespace");
        loop {
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            let net = std::fs::read_link(format!("/proc/{pid}/ns/net")).ok();
            if comm.trim() == "sleep" && net.as_ref().is_some_and(|n| *n != host_net) {
                return;
            }
            assert!(Instant::now() < deadline, "unshare (pid {pid}) did not start sleep within 10 s");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn pid(&self) -> u32 {
        self.holder.pid()
    }

    /// `cmd` run inside the namespaces (nsenter execs it: same process).
    pub fn enter(&self, cmd: Command) -> Command {
        let pid = self.pid();
        let mut entered = Command::new("nsenter");
        entered.args([
            format!("--net=/proc/{pid}/ns/net"),
            format!("--ipc=/proc/{pid}/ns/ipc"),
            format!("--uts=/proc/{pid}/ns/uts"),
            "--".into(),
        ]);
        entered.arg(cmd.get_program()).args(cmd.get_args());
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => entered.env(k, v),
                None => entered.env_remove(k),
            };
        }
        entered
    }
}

/// The cluster namespace, its bridge, Service addresses, proxies and the
/// API server.
pub struct Network {
    cluster: Namespaces,
    proxies: Vec<Background>,
    veths: usize,
}

impl Network {
    pub fn new(log: &Path) -> Network {
        let cluster = Namespaces::new("kgen-runtime-cluster", log);
        let ip = |args: &[&str]| run_checked(cluster.enter(Command::new("ip")).args(args));
        ip(&["link", "add", "br0", "type", "bridge"]);
        ip(&["addr", "add", &format!("{GATEWAY}/24"), "dev", "br0"]);
        ip(&["link", "set", "br0", "up"]);
        Network { cluster, proxies: vec![], veths: 0 }
    }

    /// Give a Service address to the cluster namespace.
    pub fn add_service_ip(&self, ip: &str) {
        run_checked(self.cluster.enter(Command::new("ip")).args(["addr", "add", &format!("{ip}/32"), "dev", "lo"]));
    }

    /// Join `pod` to the bridge with address `ip`.
    pub fn attach(&mut self, pod: &Namespaces, ip: &str) {
        self.veths += 1;
        let host_side = format!("veth{}", self.veths);
        let pod_pid = pod.pid().to_string();
        let in_cluster = |args: &[&str]| run_checked(self.cluster.enter(Command::new("ip")).args(args));
        in_cluster(&["link", "add", &host_side, "type", "veth", "peer", "name", "eth0", "netns", &pod_pid]);
        in_cluster(&["link", "set", &host_side, "master", "br0", "up"]);
        let in_pod = |args: &[&str]| run_checked(pod.enter(Command::new("ip")).args(args));
        in_pod(&["addr", "add", &format!("{ip}/24"), "dev", "eth0"]);
        in_pod(&["link", "set", "eth0", "up"]);
        in_pod(&["route", "add", "default", "via", GATEWAY]);
    }

    /// Proxy `service_ip:port` to `pod_ip:target_port` (TCP).
    pub fn proxy(&mut self, service_ip: &str, port: i32, pod_ip: &str, target_port: i32, log: &Path) {
        // Dies with the test, like the namespace holders.
        let mut socat = Command::new("setpriv");
        socat.args([
            "--pdeathsig".to_string(),
            "KILL".into(),
            "--".into(),
            "socat".into(),
            format!("TCP-LISTEN:{port},bind={service_ip},fork,reuseaddr"),
            format!("TCP:{pod_ip}:{target_port},connect-timeout=5"),
        ]);
        self.spawn(socat, log);
    }

    /// Run a server in the cluster namespace (stopped with the network).
    pub fn spawn(&mut self, server: Command, log: &Path) {
        let process = Background::spawn(self.cluster.enter(server), log);
        self.proxies.push(process);
    }

    /// The cluster namespace's holder and the proxies.
    pub fn process_ids(&self) -> Vec<u32> {
        std::iter::once(self.cluster.pid()).chain(self.proxies.iter().map(Background::pid)).collect()
    }

    /// Wait until every proxy or server listens (bounded), so that a client
    /// never races its start.
    pub fn wait_listening(&mut self, listeners: &[(String, i32)]) {
        let deadline = Instant::now() + Duration::from_secs(10);
        for (ip, port) in listeners {
            loop {
                let out = run_checked(self.cluster.enter(Command::new("ss")).args(["-Hltn"]));
                if out.contains(&format!("{ip}:{port} ")) {
                    break;
                }
                for proxy in &mut self.proxies {
                    if let Some(status) = proxy.exit_status() {
                        panic!("a Service proxy or the API server exited ({status}):\n{}", proxy.output());
                    }
                }
                assert!(Instant::now() < deadline, "nothing listened on {ip}:{port} within 10 s");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}
