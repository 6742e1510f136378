//! A scenario's "cluster": one rendered bundle on one node. It owns a tmpfs
//! scratch root (volumes, claims, images, the object store, logs; claims a
//! test sizes are tmpfs mounts of their own), the network (pod and Service
//! addresses, proxies, `/etc/hosts`), and the pods it starts; all of it is
//! torn down in `Drop` (processes killed by group, namespaces gone with
//! their holders, the mounts unmounted and removed), also when a test
//! panics. At most `CONCURRENT_SCENARIOS` clusters exist at once.
//!
//! One pod per workload (replicas are not emulated); the objects a kubelet
//! does not read (HPAs, PDBs, NetworkPolicies, Ingresses, …) are ignored.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::api::ApiServer;
use super::bundle::{self, Bundle, Controller, PodSource, SecretStore, SecretValues, Target};
use super::env::{self, PodFacts, ServiceLink, Sources};
use super::images::{AppOptions, Images, ObjectStore};
use super::net::{Namespaces, Network};
use super::pod::{self, Pod, Prepared};
use super::process::{Finished, run_checked, tail};
use super::sandbox::{Bind, Sandbox};
use super::volumes;

/// Scenarios that may run at once (2 cores).
const CONCURRENT_SCENARIOS: usize = 2;
/// How long an init container may take once what it waits for is up.
pub const INIT_BOUND: Duration = Duration::from_secs(20);
/// How long a pod may take to pass its startup and readiness probes.
pub const READY_BOUND: Duration = Duration::from_secs(45);
/// A Job's bound when its `activeDeadlineSeconds` is longer (or unset).
pub const JOB_BOUND: Duration = Duration::from_secs(60);
/// At most this long for a graceful stop.
const STOP_GRACE: Duration = Duration::from_secs(15);
const NODE_NAME: &str = "kgen-runtime-node";
const NODE_IP: &str = "10.244.0.1";
const KUBERNETES_SERVICE_IP: &str = "10.96.0.1";

/// How a scenario's cluster is set up.
#[derive(Clone, Default)]
pub struct Options {
    pub secrets: SecretValues,
    pub app: AppOptions,
    /// The user created every Secret the bundle references but does not
    /// create, with `secrets`' values, before applying the bundle (else only
    /// the bundle's setup Jobs create Secrets, and `secrets` fills in what
    /// is still missing when a pod needs it).
    pub secrets_exist_beforehand: bool,
}

/// One bundle on one node.
pub struct Cluster {
    pub bundle: Bundle,
    pub secrets: SecretValues,
    pods: Vec<Pod>,
    finished: Vec<Pod>,
    network: Option<Network>,
    api: Option<ApiServer>,
    /// The setup Jobs run when the bundle was applied.
    pub setup: Vec<JobRun>,
    images: Images,
    object_store: ObjectStore,
    pod_ips: BTreeMap<String, String>,
    service_ips: BTreeMap<String, String>,
    next_ip: u8,
    root: Option<Scratch>,
    _slot: Slot,
}

impl Cluster {
    /// Render `target` with URL-special secret values and set its node up.
    pub fn new(target: Target) -> Cluster {
        Cluster::with(target, Options::default())
    }

    pub fn with(target: Target, options: Options) -> Cluster {
        let bundle = bundle::render(&target, &options.secrets);
        Cluster::of_bundle(bundle, options)
    }

    /// Set a node up for a bundle.
    pub fn of_bundle(bundle: Bundle, options: Options) -> Cluster {
        let slot = Slot::take();
        let root = Scratch::new(&bundle.target);
        let object_store = ObjectStore::new(&root.path.join("object-store"));
        let mut images = Images::new(&root.path.join("images"), &object_store);
        images.app = options.app;
        let network = Network::new(&root.path.join("cluster.log"));
        let mut cluster = Cluster {
            bundle,
            secrets: options.secrets,
            pods: vec![],
            finished: vec![],
            network: Some(network),
            api: None,
            setup: vec![],
            images,
            object_store,
            pod_ips: BTreeMap::new(),
            service_ips: BTreeMap::new(),
            next_ip: 10,
            root: Some(root),
            _slot: slot,
        };
        cluster.plan_addresses();
        cluster.write_name_files();
        cluster.start_proxies();
        let api_dir = cluster.root().join("api");
        let network = cluster.network.as_mut().expect("the network lives as long as the cluster");
        let api = ApiServer::start(&api_dir, KUBERNETES_SERVICE_IP, &cluster.bundle, network);
        if options.secrets_exist_beforehand {
            for name in bundle::referenced_secrets(&cluster.bundle) {
                if cluster.bundle.secret(&name).is_none() {
                    api.create_secret(
                        &name,
                        &SecretStore { bundle: &cluster.bundle, values: &cluster.secrets }.all(&name),
                    );
                }
            }
        }
        cluster.api = Some(api);
        cluster.run_setup_jobs();
        cluster
    }

    /// Run the Jobs that the bundle orders before every workload (a sync
    /// wave lower than any Deployment's or StatefulSet's), in wave order, as
    /// a GitOps tool applying it would; each must succeed.
    fn run_setup_jobs(&mut self) {
        let first_workload = self
            .bundle
            .pod_sources()
            .iter()
            .filter(|s| matches!(s.controller, Controller::Deployment | Controller::StatefulSet))
            .map(|s| s.sync_wave)
            .min()
            .unwrap_or(0);
        let mut jobs: Vec<PodSource> = self
            .bundle
            .pod_sources()
            .into_iter()
            .filter(|s| s.controller == Controller::Job && s.sync_wave < first_workload)
            .collect();
        jobs.sort_by_key(|s| (s.sync_wave, s.name.clone()));
        for job in jobs {
            let run = self.run_job(&job.name);
            run.assert_succeeded();
            self.setup.push(run);
        }
    }

    /// The scenario's API server.
    pub fn api(&self) -> &ApiServer {
        self.api.as_ref().expect("the API server lives as long as the cluster")
    }

    fn root(&self) -> &Path {
        &self.root.as_ref().expect("the scratch root lives as long as the cluster").path
    }

    fn network(&mut self) -> &mut Network {
        self.network.as_mut().expect("the network lives as long as the cluster")
    }

    /// Pod addresses for every Deployment and StatefulSet (one pod each),
    /// cluster IPs for Services that have one.
    fn plan_addresses(&mut self) {
        for source in self.bundle.pod_sources() {
            if matches!(source.controller, Controller::Deployment | Controller::StatefulSet) {
                let ip = self.allocate_ip();
                self.pod_ips.insert(source.name.clone(), ip);
            }
        }
        let mut next = 10;
        for service in &self.bundle.services {
            let spec = service.spec.as_ref();
            if spec.and_then(|s| s.cluster_ip.as_deref()) == Some("None") {
                continue;
            }
            let name = service.metadata.name.clone().unwrap();
            self.service_ips.insert(name, format!("10.96.0.{next}"));
            next += 1;
        }
    }

    fn allocate_ip(&mut self) -> String {
        assert!(self.next_ip < 250, "more than 240 pods in one scenario");
        let ip = format!("10.244.0.{}", self.next_ip);
        self.next_ip += 1;
        ip
    }

    /// `/etc/hosts` (Service names with their namespace forms, StatefulSet
    /// pods under their Service, every planned pod) and `/etc/resolv.conf`.
    fn write_name_files(&self) {
        let qualified =
            |name: &str, ns: &str| format!("{name} {name}.{ns} {name}.{ns}.svc {name}.{ns}.svc.cluster.local");
        let mut hosts = String::from("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
        hosts.push_str(&format!("{KUBERNETES_SERVICE_IP}\t{}\n", qualified("kubernetes", "default")));
        for service in &self.bundle.services {
            let name = service.metadata.name.clone().unwrap();
            let ns = service.metadata.namespace.clone().unwrap_or_else(|| "default".into());
            let address = match self.service_ips.get(&name) {
                Some(ip) => Some(ip.clone()),
                None => self.bundle.service_backends(service).first().and_then(|b| self.pod_ips.get(&b.name).cloned()),
            };
            if let Some(address) = address {
                hosts.push_str(&format!("{address}\t{}\n", qualified(&name, &ns)));
            }
        }
        for source in self.bundle.pod_sources() {
            let Some(ip) = self.pod_ips.get(&source.name) else { continue };
            hosts.push_str(&format!("{ip}\t{}\n", source.pod_name()));
            let sts = self.bundle.statefulsets.iter().find(|s| s.metadata.name.as_deref() == Some(&source.name));
            if let Some(service) = sts.and_then(|s| s.spec.as_ref()?.service_name.clone()) {
                let pod = format!("{}.{service}", source.pod_name());
                hosts.push_str(&format!("{ip}\t{}\n", qualified(&pod, &source.namespace)));
            }
        }
        let namespace = self.bundle.pod_sources().first().map(|s| s.namespace.clone()).unwrap_or_default();
        let resolv = format!(
            "# kgen runtime tests: no DNS server; names come from /etc/hosts.\n\
             search {namespace}.svc.cluster.local svc.cluster.local cluster.local\n\
             nameserver 127.0.0.1\n"
        );
        write_readable(&self.root().join("etc/hosts"), &hosts);
        write_readable(&self.root().join("etc/resolv.conf"), &resolv);
    }

    /// A proxy per port of every Service with a cluster IP and a backend.
    fn start_proxies(&mut self) {
        let mut listeners = vec![];
        let mut proxies = vec![];
        for (name, ip) in self.service_ips.clone() {
            let service = self.bundle.service(&name).unwrap().clone();
            let backends = self.bundle.service_backends(&service);
            let Some(backend) = backends.first() else { continue };
            let pod_ip = self.pod_ips[&backend.name].clone();
            for port in service.spec.as_ref().and_then(|s| s.ports.clone()).unwrap_or_default() {
                if port.protocol.as_deref().unwrap_or("TCP") != "TCP" {
                    continue;
                }
                let target = target_port(backend, port.target_port.as_ref(), port.port)
                    .unwrap_or_else(|e| panic!("{}: Service {name}: {e}", self.bundle.target));
                proxies.push((ip.clone(), port.port, pod_ip.clone(), target));
                listeners.push((ip.clone(), port.port));
            }
        }
        let log = self.root().join("proxies.log");
        let network = self.network();
        network.add_service_ip(KUBERNETES_SERVICE_IP);
        for ip in listeners.iter().map(|(ip, _)| ip).collect::<std::collections::BTreeSet<_>>() {
            network.add_service_ip(ip);
        }
        for (ip, port, pod_ip, target) in proxies {
            network.proxy(&ip, port, &pod_ip, target, &log);
        }
        network.wait_listening(&listeners);
    }

    /// The service links every pod of the bundle gets (with the API
    /// server's, which the kubelet adds even with service links off).
    fn service_links(&self, enabled: bool) -> Vec<(String, String)> {
        let mut links = vec![ServiceLink {
            name: "kubernetes".into(),
            cluster_ip: Some(KUBERNETES_SERVICE_IP.into()),
            ports: vec![(Some("https".into()), 443, "TCP".into())],
        }];
        if enabled {
            for service in &self.bundle.services {
                let name = service.metadata.name.clone().unwrap();
                let ports = service.spec.as_ref().and_then(|s| s.ports.clone()).unwrap_or_default();
                links.push(ServiceLink {
                    cluster_ip: self.service_ips.get(&name).cloned(),
                    name,
                    ports: ports
                        .iter()
                        .map(|p| (p.name.clone(), p.port, p.protocol.clone().unwrap_or_else(|| "TCP".into())))
                        .collect(),
                });
            }
        }
        env::service_link_variables(&links)
    }

    fn label(&self, source: &PodSource) -> String {
        format!("{}: {} (pod {})", self.bundle.target, source.describe(), source.pod_name())
    }

    /// Start the pod of a Deployment or StatefulSet: init containers to
    /// completion, then its containers in the background. Panics with the
    /// failing container's output.
    pub fn start(&mut self, workload: &str) {
        if let Err(e) = self.try_start(workload) {
            panic!("{}: {e}", self.label(&self.bundle.pod_source(workload)));
        }
    }

    /// `start`, or why the pod does not start (an init container that
    /// failed or did not finish, with its output); a pod that does not
    /// start is torn down (a kubelet would run the init container again).
    pub fn try_start(&mut self, workload: &str) -> Result<(), String> {
        let pod = self.create_pod(workload)?;
        self.pods.push(pod);
        Ok(())
    }

    /// Start a workload and wait until it is ready.
    pub fn start_ready(&mut self, workload: &str) {
        self.start(workload);
        self.wait_ready(workload);
    }

    /// Wait for a started workload's startup and readiness probes.
    pub fn wait_ready(&mut self, workload: &str) {
        let pod = self.pod_mut(workload);
        if let Err(e) = pod.wait_ready(READY_BOUND) {
            panic!("{}: {e}", pod.label);
        }
    }

    /// Wait for a started workload's startup probes only (a server that
    /// runs but is not meant to be ready).
    pub fn wait_started(&mut self, workload: &str) {
        let pod = self.pod_mut(workload);
        if let Err(e) = pod.wait_started(READY_BOUND) {
            panic!("{}: {e}", pod.label);
        }
    }

    /// Run each liveness probe of a started workload once.
    pub fn check_liveness(&mut self, workload: &str) {
        let pod = self.pod_mut(workload);
        if let Err(e) = pod.check_liveness() {
            panic!("{}: {e}", pod.label);
        }
    }

    /// Stop a workload's pod gracefully (its claims stay).
    pub fn stop(&mut self, workload: &str) {
        let index = self.pod_index(workload);
        let mut pod = self.pods.remove(index);
        let grace = pod.source.spec().termination_grace_period_seconds.unwrap_or(30);
        pod.stop(STOP_GRACE.min(Duration::from_secs(grace as u64)));
    }

    pub fn pod(&self, workload: &str) -> &Pod {
        &self.pods[self.pod_index(workload)]
    }

    pub fn pod_mut(&mut self, workload: &str) -> &mut Pod {
        let index = self.pod_index(workload);
        &mut self.pods[index]
    }

    fn pod_index(&self, workload: &str) -> usize {
        self.pods
            .iter()
            .position(|p| p.source.name == workload)
            .unwrap_or_else(|| panic!("{}: workload {workload} was not started", self.bundle.target))
    }

    /// Run a Job, or one job of a CronJob, to completion: init containers,
    /// then the containers until they exit, within the Job's
    /// `activeDeadlineSeconds` capped at `JOB_BOUND`.
    pub fn run_job(&mut self, name: &str) -> JobRun {
        let source = self.bundle.pod_source(name);
        assert!(
            matches!(source.controller, Controller::Job | Controller::CronJob),
            "{}: {} is not a Job or CronJob",
            self.bundle.target,
            source.describe()
        );
        let deadline = source.active_deadline.map(|s| Duration::from_secs(s.max(1) as u64));
        let bound = deadline.map_or(JOB_BOUND, |d| d.min(JOB_BOUND));
        let mut pod = match self.create_pod(name) {
            Ok(pod) => pod,
            Err(e) => return JobRun { label: self.label(&source), failure: Some(e), containers: vec![] },
        };
        // The containers of a Job's pod run to completion together.
        let containers = pod.wait_exited(bound);
        let failed = containers.iter().find(|(_, f)| !f.success());
        let failure = failed.map(|(name, f)| {
            format!("container `{name}` {}; last output:\n{}", f.describe(bound), tail(&f.output, pod::TAIL_LINES))
        });
        pod.stop(Duration::ZERO);
        let label = pod.label.clone();
        self.finished.push(pod);
        JobRun { label, failure, containers }
    }

    /// A claim's directory (a StatefulSet's is `<template>-<sts>-0`).
    pub fn claim_path(&self, claim: &str) -> PathBuf {
        self.root().join("claims").join(claim)
    }

    /// Give a claim a size, as a provisioned volume has one: its directory
    /// becomes a tmpfs of `kib` KiB (a fresh volume: root 0755 with a
    /// `lost+found`), where writing more fails with ENOSPC and `df` says
    /// what is free. Before the claim is first used; other claims share the
    /// scenario's tmpfs.
    pub fn limit_claim_size(&mut self, claim: &str, kib: u64) {
        let dir = self.claim_path(claim);
        assert!(
            !dir.exists(),
            "{}: claim {claim} is in use already: size it before a pod mounts it",
            self.bundle.target
        );
        std::fs::create_dir_all(&dir).unwrap();
        run_checked(
            Command::new("mount")
                .args(["-t", "tmpfs", "-o", &format!("size={kib}k,mode=0755"), "kgen-claim"])
                .arg(&dir),
        );
        self.root.as_mut().expect("the scratch root lives as long as the cluster").mounts.push(dir.clone());
        let lost_found = dir.join("lost+found");
        std::fs::create_dir(&lost_found).unwrap();
        std::fs::set_permissions(&lost_found, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    }

    /// The scenario's S3, which images with the AWS CLI reach.
    pub fn object_store(&self) -> &ObjectStore {
        &self.object_store
    }

    /// `kubectl exec` into a started workload's container.
    pub fn exec(&self, workload: &str, container: &str, argv: &[&str]) -> Finished {
        self.pod(workload).exec(container, argv, Duration::from_secs(30))
    }

    /// GET `url` from inside a started workload's network namespace.
    pub fn fetch_from(&self, workload: &str, url: &str) -> Finished {
        let mut wget = Command::new("busybox");
        // No -T: Debian's busybox 1.35 wget crashes with it; the run is bounded.
        wget.args(["wget", "-q", "-O", "-", url]);
        self.pod(workload).in_netns(wget, Duration::from_secs(10))
    }

    /// A pod for `name`, its init containers run, its containers started;
    /// or why not (without the pod's label: callers add it).
    fn create_pod(&mut self, name: &str) -> Result<Pod, String> {
        let source = self.bundle.pod_source(name);
        let label = self.label(&source);
        let ip = match self.pod_ips.get(name) {
            Some(ip) => ip.clone(),
            None => self.allocate_ip(),
        };
        let pod_dir = self.root().join("pods").join(source.pod_name());
        let _ = std::fs::remove_dir_all(&pod_dir);
        std::fs::create_dir_all(&pod_dir).unwrap();
        let ns = Namespaces::new(&source.pod_name(), &pod_dir.join("holder.log"));
        self.network().attach(&ns, &ip);
        let mut pod = Pod::new(source.clone(), ip, label.clone(), ns, pod_dir.join("logs"));
        let facts = self.facts(&pod);
        let claims = self.root().join("claims");
        let store = self.store();
        let volumes = volumes::make_volumes(&source, &pod_dir, &claims, &store, &facts)
            .map_err(|e| format!("ContainerCreating: {e}"))?;
        let spec = source.spec().clone();
        for container in spec.init_containers.iter().flatten() {
            let prepared = self.prepare(container, &source, &facts, &volumes)?;
            pod.run_init(prepared, INIT_BOUND)?;
        }
        for container in &spec.containers {
            let prepared = self.prepare(container, &source, &facts, &volumes)?;
            pod.start(prepared);
        }
        Ok(pod)
    }

    fn facts(&self, pod: &Pod) -> PodFacts {
        let meta = pod.source.template.metadata.clone().unwrap_or_default();
        PodFacts {
            name: pod.name.clone(),
            namespace: pod.source.namespace.clone(),
            ip: pod.ip.clone(),
            node_name: NODE_NAME.into(),
            host_ip: NODE_IP.into(),
            service_account: pod.source.spec().service_account_name.clone().unwrap_or_else(|| "default".into()),
            labels: meta.labels.unwrap_or_default(),
            annotations: meta.annotations.unwrap_or_default(),
        }
    }

    /// A container's sandbox and command line, or the kubelet's reason not
    /// to create it.
    fn prepare(
        &mut self,
        container: &k8s_openapi::api::core::v1::Container,
        source: &PodSource,
        facts: &PodFacts,
        volumes: &BTreeMap<String, volumes::MadeVolume>,
    ) -> Result<Prepared, String> {
        let image = self.images.for_container(container);
        let links = self.service_links(source.spec().enable_service_links != Some(false));
        let store = self.store();
        let kubelet = env::kubelet_variables(container, facts, &links, &store)
            .map_err(|e| format!("container `{}`: CreateContainerConfigError: {e}", container.name))?;
        let argv = pod::command_line(container, &image, &kubelet)?;
        let mut env: BTreeMap<String, String> = image.env.iter().cloned().collect();
        env.insert("HOSTNAME".into(), facts.name.clone());
        env.extend(kubelet.clone());
        env.entry("HOME".into()).or_insert_with(|| "/".into());
        let identity = pod::identity(container, source, &image)?;
        let mounts = volumes::container_mounts(container, volumes, &kubelet)
            .map_err(|e| format!("container `{}`: {e}", container.name))?;
        let mut image_binds = image.binds.clone();
        for file in ["hosts", "resolv.conf"] {
            image_binds.push(Bind {
                host: self.root().join("etc").join(file),
                dest: format!("/etc/{file}"),
                read_only: true,
            });
        }
        // A container with `readOnlyRootFilesystem: false` runs the same way,
        // which is stricter than a real node: its root would be writable.
        let sandbox = Sandbox {
            image_binds,
            image_dirs: image.dirs.clone(),
            mounts,
            workdir: container.working_dir.clone().unwrap_or_else(|| image.workdir.clone()),
            env,
            identity,
        };
        Ok(Prepared { name: container.name.clone(), spec: container.clone(), image, sandbox, argv })
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Containers first, then the pods' and the cluster's namespaces
        // (the proxies and the API server with them), then the files.
        for mut pod in self.pods.drain(..).chain(self.finished.drain(..)) {
            pod.stop(Duration::ZERO);
        }
        self.network = None;
        self.api = None;
        self.root = None;
    }
}

impl Cluster {
    /// Every process the cluster runs (for teardown checks).
    pub fn process_ids(&self) -> Vec<u32> {
        let pods = self.pods.iter().flat_map(Pod::process_ids);
        pods.chain(self.network.iter().flat_map(Network::process_ids)).collect()
    }

    /// The scratch root (for teardown checks).
    pub fn scratch_path(&self) -> PathBuf {
        self.root().to_path_buf()
    }
}

/// How a Job's pod ended.
pub struct JobRun {
    pub label: String,
    /// Why it failed, if it did.
    pub failure: Option<String>,
    pub containers: Vec<(String, Finished)>,
}

impl JobRun {
    /// Panic with the failure, if any.
    pub fn assert_succeeded(&self) {
        if let Some(failure) = &self.failure {
            panic!("{}: the Job's pod failed: {failure}", self.label);
        }
    }

    pub fn output(&self, container: &str) -> &str {
        self.containers.iter().find(|(n, _)| n == container).map(|(_, f)| f.output.as_str()).unwrap_or_default()
    }
}

/// A Service port's target: a number, or a port name of the backend's containers.
fn target_port(backend: &PodSource, target: Option<&IntOrString>, port: i32) -> Result<i32, String> {
    match target {
        None => Ok(port),
        Some(IntOrString::Int(n)) => Ok(*n),
        Some(IntOrString::String(name)) => backend
            .spec()
            .containers
            .iter()
            .flat_map(|c| c.ports.iter().flatten())
            .find(|p| p.name.as_deref() == Some(name))
            .map(|p| p.container_port)
            .ok_or_else(|| format!("targetPort {name} is no port of {}", backend.describe())),
    }
}

/// Secrets and ConfigMaps for `env` and `volumes`: the bundle's, those
/// in the API server, and (for Secrets) the values a user would have put in
/// the ones still missing.
struct Store<'a> {
    bundle: &'a Bundle,
    values: &'a SecretValues,
    created: BTreeMap<String, BTreeMap<String, Vec<u8>>>,
    ca: &'a str,
}

impl Cluster {
    fn store(&self) -> Store<'_> {
        Store { bundle: &self.bundle, values: &self.secrets, created: self.api().secrets(), ca: self.api().ca() }
    }
}

impl Sources for Store<'_> {
    fn configmap(&self, name: &str) -> Option<BTreeMap<String, String>> {
        if name == "kube-root-ca.crt" && self.bundle.configmap(name).is_none() {
            return Some(BTreeMap::from([("ca.crt".to_string(), self.ca.to_string())]));
        }
        let cm = self.bundle.configmap(name)?;
        let mut data = cm.data.clone().unwrap_or_default();
        for (k, v) in cm.binary_data.iter().flatten() {
            data.insert(k.clone(), String::from_utf8_lossy(&v.0).into_owned());
        }
        Some(data)
    }

    fn secret(&self, name: &str) -> Option<BTreeMap<String, Vec<u8>>> {
        if self.bundle.secret(name).is_none()
            && let Some(created) = self.created.get(name)
        {
            return Some(created.clone());
        }
        Some(SecretStore { bundle: self.bundle, values: self.values }.all(name))
    }
}

fn write_readable(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).unwrap();
}

/// The scenario's files: a tmpfs (fsync is free, so initdb and PostgreSQL
/// are quick) on a directory under target/test-scratch/runtime/, unmounted
/// (the sized claims' tmpfs mounts in it first) and removed on drop.
/// Directories left by a killed test process are cleaned up by the next
/// scenario.
struct Scratch {
    path: PathBuf,
    /// Mounts inside it (`Cluster::limit_claim_size`).
    mounts: Vec<PathBuf>,
}

impl Scratch {
    fn new(target: &Target) -> Scratch {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static SEQUENCE: AtomicUsize = AtomicUsize::new(0);
        let base = crate::support::repo().join("target/test-scratch/runtime");
        std::fs::create_dir_all(&base).unwrap();
        remove_stale(&base);
        let slug: String =
            format!("{}-{}", target.profile.rsplit('/').next().unwrap_or(target.profile), target.env.unwrap_or("base"))
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' })
                .collect();
        let sequence = SEQUENCE.fetch_add(1, Ordering::SeqCst);
        let path = base.join(format!("{}-{sequence}-{slug}", std::process::id()));
        std::fs::create_dir_all(&path).unwrap();
        run_checked(Command::new("mount").args(["-t", "tmpfs", "-o", "size=2g,mode=0755", "kgen-runtime"]).arg(&path));
        Scratch { path, mounts: vec![] }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::env::var_os("KGEN_RUNTIME_KEEP").is_some() {
            // For debugging: the files stay (the tmpfs is copied out first).
            let kept = self.path.with_extension("kept");
            let _ = Command::new("cp").arg("-a").arg(&self.path).arg(&kept).status();
            eprintln!("note: KGEN_RUNTIME_KEEP: the scenario's files are in {}", kept.display());
        }
        for mount in self.mounts.drain(..).rev() {
            unmount_and_remove(&mount);
        }
        unmount_and_remove(&self.path);
    }
}

fn unmount_and_remove(path: &Path) {
    let unmounted = Command::new("umount").arg(path).status().is_ok_and(|s| s.success());
    if !unmounted {
        let _ = Command::new("umount").arg("-l").arg(path).status();
    }
    let _ = std::fs::remove_dir_all(path);
}

/// Scratch roots of test processes that no longer run.
fn remove_stale(base: &Path) {
    for entry in std::fs::read_dir(base).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.split('-').next().and_then(|p| p.parse::<u32>().ok()) else { continue };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            unmount_and_remove(&entry.path());
        }
    }
}

/// A permit to run a scenario; at most `CONCURRENT_SCENARIOS` at once.
struct Slot;

static SLOTS: Mutex<usize> = Mutex::new(0);
static FREED: Condvar = Condvar::new();

impl Slot {
    fn take() -> Slot {
        let mut taken = SLOTS.lock().unwrap_or_else(|e| e.into_inner());
        while *taken >= CONCURRENT_SCENARIOS {
            taken = FREED.wait(taken).unwrap_or_else(|e| e.into_inner());
        }
        *taken += 1;
        Slot
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        *SLOTS.lock().unwrap_or_else(|e| e.into_inner()) -= 1;
        FREED.notify_one();
    }
}

#[test]
fn a_scenario_that_panics_midway_leaves_no_process_mount_or_file() {
    if !super::node_available() {
        return;
    }
    let mut seen: Option<(Vec<u32>, PathBuf)> = None;
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut cluster = Cluster::new(Target { profile: "profiles/platform.yaml", env: Some("kind") });
        cluster.limit_claim_size("kgen-runtime-sized-claim", 1024);
        let database = bundle_first_statefulset(&cluster.bundle);
        cluster.start(&database);
        cluster.wait_ready(&database);
        seen = Some((cluster.process_ids(), cluster.scratch_path()));
        panic!("a scenario failing on purpose, with a database running");
    }));
    assert!(outcome.is_err(), "the scenario was meant to panic");
    let (pids, scratch) = seen.expect("the scenario got as far as its database");
    assert!(pids.len() > 5, "expected holders, proxies, bwrap and PostgreSQL processes, saw {pids:?}");
    // Processes killed inside a PID namespace are reaped by the host's init
    // a moment later: give it a (bounded) moment.
    let mut alive: Vec<String> = vec![];
    for _ in 0..40 {
        alive = pids.iter().filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()).collect();
        if alive.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(alive.is_empty(), "processes survived the scenario's teardown:\n{}", alive.join("\n"));
    assert!(!scratch.exists(), "{} survived the teardown", scratch.display());
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains(scratch.to_str().unwrap()), "{} is still mounted", scratch.display());
}

fn bundle_first_statefulset(bundle: &Bundle) -> String {
    bundle.statefulsets[0].metadata.name.clone().expect("a StatefulSet has a name")
}

/// A container can write to its volumes and nowhere else, runs as the pod's
/// user with its groups and no capabilities, and gets its files' modes.
#[test]
fn containers_write_only_to_their_volumes_as_the_pods_user_without_capabilities() {
    if !super::node_available() {
        return;
    }
    let script = r#"
        set -eu
        refused() { if "$@" 2>/dev/null; then echo "not refused: $*"; exit 1; fi; }
        touch /data/written
        refused touch /etc/written
        refused touch /tmp/written
        refused touch /written
        test "$(id -u):$(id -g)" = 10001:10001
        id -G | tr ' ' '\n' | sort -u | tr '\n' ' ' | grep -qx '10001 2000 '
        grep -q 'CapEff:[[:space:]]*0000000000000000' /proc/self/status
        grep -q 'NoNewPrivs:[[:space:]]*1' /proc/self/status
        test "$(stat -c %a:%g /data)" = 2777:10001
        test "$(stat -c %a:%g /secret/key)" = 440:10001
        test "$(cat /secret/key)" = value
        echo all-checks-passed
    "#;
    let job = serde_json::json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "filesystem", "namespace": "node-test"},
        "spec": {"template": {"spec": {
            "restartPolicy": "Never",
            "securityContext": {"runAsUser": 10001, "runAsGroup": 10001, "fsGroup": 10001, "supplementalGroups": [2000]},
            "containers": [{
                "name": "check", "image": "busybox:1.36", "command": ["sh", "-c", script],
                "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]},
                                    "readOnlyRootFilesystem": true},
                "volumeMounts": [{"name": "data", "mountPath": "/data"}, {"name": "secret", "mountPath": "/secret"}]
            }],
            "volumes": [
                {"name": "data", "emptyDir": {}},
                {"name": "secret", "secret": {"secretName": "s", "defaultMode": 256, "items": [{"key": "k", "path": "key"}]}}
            ]
        }}}
    });
    let secret = serde_json::json!({
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "node-test"},
        "data": {"k": "dmFsdWU="}
    });
    let target = Target { profile: "node-test", env: None };
    let mut cluster = Cluster::of_bundle(bundle::parse(target, vec![job, secret]), Options::default());
    let run = cluster.run_job("filesystem");
    run.assert_succeeded();
    assert!(run.output("check").contains("all-checks-passed"), "{}", run.output("check"));
}
