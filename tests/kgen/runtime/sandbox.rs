//! One container's sandbox: the `bwrap` + `setpriv` command line that runs
//! a program the way a container runtime would, as root on this host.
//!
//! The root filesystem is a read-only view of the host: bwrap's own tmpfs
//! root, with `/usr`, `/etc`, `/var` and `/opt` bound read-only, `/bin`,
//! `/sbin` and `/lib*` recreated as the symbolic links they are on this
//! merged-/usr system, empty `/tmp` and `/run`, a fresh `/proc` (own PID
//! namespace) and `/dev`, and then `--remount-ro /`: nothing is writable
//! except the volumes, as with `readOnlyRootFilesystem: true`. bwrap cannot
//! create a mount point under a read-only bind, so a host directory that is
//! an ancestor of a mount point (an image's `/usr/local/bin`, a volume at
//! `/var/lib/postgresql/data`, the scenario's `/etc/hosts`) is "exploded":
//! created on the tmpfs root, its other entries bound one by one. Mount
//! points are resolved through the view's symbolic links first
//! (`/var/run/postgresql` is `/run/postgresql`).
//!
//! Identity comes from `setpriv` inside the sandbox: user, group,
//! supplementary groups, capabilities (bounding, inheritable, ambient) and
//! no_new_privs. The environment is exactly the container's (`--clearenv`).
//!
//! Not emulated: seccomp profiles, AppArmor/SELinux, resource limits, user
//! namespaces; the network, IPC and UTS namespaces are the pod's, entered by
//! the caller (see `net`).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Host directories that make up the image's root, bound read-only.
const BASE_DIRS: &[&str] = &["usr", "etc", "var", "opt"];
/// Top-level symbolic links of a merged-/usr system, recreated as they are.
const BASE_LINKS: &[&str] = &["bin", "sbin", "lib", "lib32", "lib64", "libx32"];
/// Empty directories of the root (read-only unless a volume goes there).
const EMPTY_DIRS: &[&str] = &["tmp", "run", "root", "home"];

/// Capabilities a container runtime grants by default (containerd, Docker).
const DEFAULT_CAPABILITIES: &[&str] = &[
    "chown",
    "dac_override",
    "fowner",
    "fsetid",
    "kill",
    "setgid",
    "setuid",
    "setpcap",
    "net_bind_service",
    "net_raw",
    "sys_chroot",
    "mknod",
    "audit_write",
    "setfcap",
];

/// A host file or directory bound into the sandbox.
#[derive(Clone, Debug)]
pub struct Bind {
    pub host: PathBuf,
    pub dest: String,
    pub read_only: bool,
}

/// Who the process runs as.
#[derive(Clone, Debug)]
pub struct Identity {
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
    /// Capability names as Kubernetes writes them (`NET_BIND_SERVICE`).
    pub add: Vec<String>,
    pub drop: Vec<String>,
    pub no_new_privs: bool,
}

/// Everything that makes one container's sandbox.
#[derive(Clone, Debug)]
pub struct Sandbox {
    /// The image's content over the host view (its /usr/local/bin, …), read-only.
    pub image_binds: Vec<Bind>,
    /// Directories the image has (created empty, read-only).
    pub image_dirs: Vec<String>,
    /// The pod's volumes, in `volumeMounts` order.
    pub mounts: Vec<Bind>,
    pub workdir: String,
    pub env: BTreeMap<String, String>,
    pub identity: Identity,
}

impl Sandbox {
    /// `bwrap … -- setpriv … -- argv`. The caller enters the pod's namespaces.
    pub fn command_line(&self, argv: &[String]) -> Vec<OsString> {
        let mut args = Args::default();
        args.push(["bwrap", "--unshare-pid", "--die-with-parent", "--new-session"]);
        args.push(["--proc", "/proc", "--dev", "/dev"]);
        let mut view = View::host();
        let image_binds: Vec<Bind> = self.image_binds.iter().map(|b| view.add(b)).collect();
        let mut mounts: Vec<Bind> = self.mounts.iter().map(|b| view.add(b)).collect();
        // Parents before children, as container runtimes sort them.
        mounts.sort_by_key(|b| b.dest.matches('/').count());
        let dirs: Vec<String> = self
            .image_dirs
            .iter()
            .chain(std::iter::once(&self.workdir))
            .map(|d| view.resolve(d))
            .filter(|d| !view.exists(d))
            .collect();
        let points: Vec<String> =
            image_binds.iter().chain(&mounts).map(|b| b.dest.clone()).chain(dirs.clone()).collect();
        root(&mut args, &points);
        // bwrap makes missing parents of a mount point with mode 0700, which
        // a non-root UID cannot cross; a runtime makes them 0755.
        let mut made: Vec<String> = vec![];
        for point in &points {
            for dir in ancestors(point).into_iter().chain(dirs.iter().filter(|d| *d == point).cloned()) {
                if !view.exists(&dir) && !made.contains(&dir) {
                    args.push(["--perms", "0755", "--dir", &dir]);
                    made.push(dir);
                }
            }
        }
        for bind in image_binds.iter().chain(&mounts) {
            let flag = if bind.read_only { "--ro-bind" } else { "--bind" };
            args.push([flag.as_ref(), bind.host.as_os_str(), bind.dest.as_ref()]);
        }
        args.push(["--remount-ro", "/", "--chdir", &self.workdir, "--clearenv"]);
        for (k, v) in &self.env {
            args.push(["--setenv", k, v]);
        }
        args.push(["--"]);
        args.0.extend(self.identity.setpriv().into_iter().map(OsString::from));
        args.push(["--"]);
        args.0.extend(argv.iter().map(OsString::from));
        args.0
    }
}

impl Identity {
    fn setpriv(&self) -> Vec<String> {
        // util-linux's, by its path: an image's PATH may find busybox's first.
        let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].into_iter().find(|p| Path::new(p).exists());
        let setpriv = setpriv.expect("util-linux's setpriv").to_string();
        let mut out = vec![setpriv, format!("--reuid={}", self.uid), format!("--regid={}", self.gid)];
        if self.groups.is_empty() {
            out.push("--clear-groups".into());
        } else {
            let groups: Vec<String> = self.groups.iter().map(u32::to_string).collect();
            out.push(format!("--groups={}", groups.join(",")));
        }
        let lower =
            |v: &[String]| -> Vec<String> { v.iter().map(|c| c.trim_start_matches("CAP_").to_lowercase()).collect() };
        let (add, drop) = (lower(&self.add), lower(&self.drop));
        let mut bounding: Vec<String> = if drop.iter().any(|c| c == "all") {
            vec![]
        } else {
            DEFAULT_CAPABILITIES.iter().map(|c| c.to_string()).filter(|c| !drop.contains(c)).collect()
        };
        bounding.extend(add.iter().filter(|c| !bounding.contains(c)).cloned().collect::<Vec<_>>());
        let plus = |caps: &[String]| caps.iter().map(|c| format!(",+{c}")).collect::<String>();
        out.push(format!("--bounding-set=-all{}", plus(&bounding)));
        out.push(format!("--inh-caps=-all{}", plus(&add)));
        if !add.is_empty() {
            out.push(format!("--ambient-caps=-all{}", plus(&add)));
        }
        if self.no_new_privs {
            out.push("--no-new-privs".into());
        }
        out
    }
}

#[derive(Default)]
struct Args(Vec<OsString>);

impl Args {
    fn push<const N: usize, S: AsRef<std::ffi::OsStr>>(&mut self, items: [S; N]) {
        self.0.extend(items.iter().map(|s| s.as_ref().to_os_string()));
    }
}

/// The base of the root filesystem: host directories bound read-only, the
/// ancestors of mount points exploded, the top-level links, empty dirs.
fn root(args: &mut Args, points: &[String]) {
    for name in BASE_LINKS {
        let dest = format!("/{name}");
        if points.iter().any(|p| p == &dest || p.starts_with(&format!("{dest}/"))) {
            continue; // the image has its own (e.g. the exporter's /bin)
        }
        if let Ok(target) = std::fs::read_link(Path::new("/").join(name)) {
            args.push(["--symlink".as_ref(), target.as_os_str(), dest.as_ref()]);
        }
    }
    for name in BASE_DIRS {
        let host = Path::new("/").join(name);
        if host.is_dir() {
            bind_or_explode(args, &host, points);
        }
    }
    for name in EMPTY_DIRS {
        args.push(["--dir", &format!("/{name}")]);
    }
}

/// Bind `host` read-only at the same path, unless a mount point is at or
/// under it: then create it and treat each entry the same way.
fn bind_or_explode(args: &mut Args, host: &Path, points: &[String]) {
    let path = host.to_str().expect("host paths are UTF-8");
    if points.iter().any(|p| p == path) {
        return; // replaced entirely by a bind
    }
    let inside = format!("{path}/");
    if !points.iter().any(|p| p.starts_with(&inside)) {
        args.push(["--ro-bind", path, path]);
        return;
    }
    let mode = std::fs::metadata(host).map(|m| m.permissions().mode() & 0o7777).unwrap_or(0o755);
    args.push(["--perms", &format!("{mode:o}"), "--dir", path]);
    let mut entries: Vec<PathBuf> = std::fs::read_dir(host).into_iter().flatten().flatten().map(|e| e.path()).collect();
    entries.sort();
    for entry in entries {
        let meta = std::fs::symlink_metadata(&entry).expect("a listed entry exists");
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&entry).expect("a link has a target");
            args.push(["--symlink".as_ref(), target.as_os_str(), entry.as_os_str()]);
        } else if meta.is_dir() {
            bind_or_explode(args, &entry, points);
        } else if !points.iter().any(|p| Path::new(p) == entry) {
            args.push(["--ro-bind".as_ref(), entry.as_os_str(), entry.as_os_str()]);
        }
    }
}

/// What a path in the sandbox is, to resolve symbolic links the way the
/// sandbox will see them: the host, with binds over it.
struct View {
    binds: Vec<(String, PathBuf)>,
}

impl View {
    fn host() -> View {
        View { binds: vec![] }
    }

    /// Resolve `bind`'s destination and remember what is bound there. An
    /// image's own `/bin` (say) replaces the host's link, not `/usr/bin`.
    fn add(&mut self, bind: &Bind) -> Bind {
        let top_level_link = BASE_LINKS.iter().any(|l| bind.dest.trim_end_matches('/') == format!("/{l}"));
        let dest = if top_level_link { bind.dest.trim_end_matches('/').to_string() } else { self.resolve(&bind.dest) };
        self.binds.push((dest.clone(), bind.host.clone()));
        Bind { dest, ..bind.clone() }
    }

    /// The host path behind a sandbox path (the host itself for the base
    /// directories and links, nothing for the rest of the tmpfs root).
    fn host_path(&self, path: &str) -> Option<PathBuf> {
        let bound = self
            .binds
            .iter()
            .filter(|(dest, _)| path == dest || path.starts_with(&format!("{dest}/")))
            .max_by_key(|(dest, _)| dest.len());
        if let Some((dest, host)) = bound {
            return Some(host.join(path[dest.len()..].trim_start_matches('/')));
        }
        let top = path.trim_start_matches('/').split('/').next().unwrap_or_default();
        (BASE_DIRS.contains(&top) || BASE_LINKS.contains(&top)).then(|| PathBuf::from(path))
    }

    /// Whether a (resolved) path exists in the view before the root is built.
    fn exists(&self, path: &str) -> bool {
        path == "/" || self.host_path(path).is_some_and(|h| h.exists())
    }

    /// An absolute sandbox path with every symbolic link resolved.
    fn resolve(&self, path: &str) -> String {
        let mut pending: Vec<String> = components(path).into_iter().rev().collect();
        let mut done: Vec<String> = vec![];
        let mut hops = 0;
        while let Some(part) = pending.pop() {
            match part.as_str() {
                "." => continue,
                ".." => {
                    done.pop();
                    continue;
                }
                _ => {}
            }
            done.push(part);
            let current = format!("/{}", done.join("/"));
            let link = self.host_path(&current).and_then(|h| std::fs::read_link(h).ok());
            if let Some(target) = link {
                hops += 1;
                assert!(hops < 40, "too many symbolic links resolving {path}");
                let target = target.to_str().expect("link targets are UTF-8").to_string();
                done.pop();
                if target.starts_with('/') {
                    done.clear();
                }
                pending.extend(components(&target).into_iter().rev());
            }
        }
        format!("/{}", done.join("/"))
    }
}

/// `/a/b/c` → [`/a`, `/a/b`].
fn ancestors(path: &str) -> Vec<String> {
    let parts = components(path);
    (1..parts.len()).map(|n| format!("/{}", parts[..n].join("/"))).collect()
}

fn components(path: &str) -> Vec<String> {
    path.split('/').filter(|c| !c.is_empty()).map(str::to_string).collect()
}
