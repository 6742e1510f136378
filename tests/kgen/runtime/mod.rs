//! The runtime layer: the containers of rendered bundles, *run*, the way a
//! kubelet would run them, on this one Linux machine, as root, with real
//! programs from Debian packages (PostgreSQL, Redis, SQLite,
//! postgres_exporter, busybox). Static validation says a bundle is
//! well-formed; these tests say whether its pods start and talk to each
//! other: init containers finish, databases initialise with the rendered
//! arguments and init scripts and pass their probes, the app (a stand-in)
//! connects with exactly the URLs and passwords it is given, migrations and
//! backups reach their databases and volumes.
//!
//! The node (`cluster`, `pod`) runs every container in a bubblewrap sandbox
//! with a read-only root (`sandbox`), as the pod's UID with no capabilities,
//! with volumes made like the kubelet makes them (`volumes`), the kubelet's
//! environment and command-line rules (`env`), emulated images (`images`,
//! `entrypoints/`), and one network namespace per pod behind Service
//! proxies (`net`). An API server (`api`) serves Secrets over TLS to the
//! tokens pods are given, as the bundle's RBAC allows; the Jobs the bundle
//! orders before its workloads (kgen's credentials Job) run when a
//! scenario starts, so databases initialise with the passwords it
//! generated. Secrets still missing get passwords full of URL-special
//! characters (`bundle::SecretValues`), as do all of them in scenarios
//! where the user created them beforehand.
//!
//! `scenarios` runs every shipped profile × environment with data in the
//! cluster; `failures` what their pods do when something goes wrong: WAL
//! archiving to an object store (a directory per bucket, reached by an
//! emulated AWS CLI) that works and then refuses, backups on a sized and
//! full claim, a database that answers but rejects connections, Redis
//! restarted, a wait for a database that cannot even try.
//!
//! What it does not do: enforce NetworkPolicies (every pod reaches every
//! pod), resource limits, seccomp or AppArmor profiles; run replicas (one
//! pod per workload), operators (CloudNativePG clusters) or managed
//! databases; restart crashed containers (a crash fails the test); keep
//! the kubelet's probe timing (probes are polled quickly up to a bound).
//!
//! Needs root, bubblewrap, util-linux, iproute2, socat, busybox and the
//! Debian packages above; without them the tests skip with a note, unless
//! KGEN_REQUIRE_TOOLS=1 (`.ci/run`), where they fail.
//!
//! `cargo test --release runtime` runs this layer alone. For debugging:
//! KGEN_RUNTIME_KEEP=1 copies each scenario's files (volumes, logs, each
//! container's last bwrap command line) next to it as `<scenario>.kept`
//! (removed by the next run); KGEN_RUNTIME_KGEN=/path/to/kgen renders with
//! another kgen build, to see what an older release would have done.

mod api;
mod bundle;
mod cluster;
mod env;
mod failures;
mod images;
mod net;
mod pod;
mod process;
mod sandbox;
mod scenarios;
mod volumes;

use crate::support::tool;

/// The programs and files the node uses, by what they are for.
const TOOLS: &[(&str, &[&str])] = &[
    ("bubblewrap", &["bwrap"]),
    ("setpriv (util-linux)", &["setpriv"]),
    ("nsenter (util-linux)", &["nsenter"]),
    ("unshare (util-linux)", &["unshare"]),
    ("mount (util-linux)", &["mount"]),
    ("ip (iproute2)", &["ip"]),
    ("ss (iproute2)", &["ss"]),
    ("socat", &["socat"]),
    ("curl", &["/usr/bin/curl"]),
    ("openssl", &["openssl"]),
    ("python3", &["python3"]),
    ("busybox", &["/usr/bin/busybox", "/bin/busybox"]),
    ("bash", &["bash"]),
    ("timeout (coreutils)", &["timeout"]),
    ("getent (libc-bin)", &["getent"]),
    ("PostgreSQL server (postgresql)", &["/usr/lib/postgresql"]),
    (
        "nss_wrapper (libnss-wrapper)",
        &["/usr/lib/x86_64-linux-gnu/libnss_wrapper.so", "/usr/lib/aarch64-linux-gnu/libnss_wrapper.so"],
    ),
    ("redis-server", &["/usr/bin/redis-server"]),
    ("redis-cli (redis-tools)", &["/usr/bin/redis-cli"]),
    ("sqlite3", &["/usr/bin/sqlite3"]),
    ("postgres_exporter (prometheus-postgres-exporter)", &["/usr/bin/prometheus-postgres-exporter"]),
];

/// Whether the node can run here: root and every tool. Without them the
/// caller skips (a note is printed) or, with KGEN_REQUIRE_TOOLS=1, fails.
pub fn node_available() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let root = status.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0"));
    if !root {
        crate::support::skip("the runtime tests need root", "run them as root (.ci/run)");
        return false;
    }
    let tools = TOOLS.iter().all(|(name, candidates)| tool(name, candidates).is_some());
    let postgres =
        ["postgres", "initdb", "pg_ctl", "psql", "pg_isready", "pg_dump", "pg_restore"].iter().all(|program| {
            let path = images::pg_major().map(|v| format!("/usr/lib/postgresql/{v}/bin/{program}")).unwrap_or_default();
            tool(&format!("{program} (postgresql)"), &[path.as_str()]).is_some()
        });
    tools && postgres
}
