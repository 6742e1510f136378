//! The stable code of each kind of diagnostic, grouped by the stage that
//! reports it: `K01xx` input and YAML syntax, `K02xx` the profile's shape
//! and types, `K03xx` the profile's rules, `K04xx` escape hatches (extra
//! manifests, patches), `K05xx` consistency of the rendered bundle,
//! `K06xx` the target cluster's API, `K07xx` files, `K08xx` the command
//! line, `K09xx` what `diff` and `bootstrap` warn about.
//!
//! The profile's rules have a code per kind of rule, by part of the
//! profile: `K0301`–`K0309` the first, broad kinds (credentials, derived
//! names, created Secrets' inputs, advice), `K031x`–`K032x` the app and
//! its settings, secrets and metadata, `K033x` components, `K034x`–`K035x`
//! databases, the cache, backups and migrations, `K036x` scaling, routing,
//! network policies and RBAC, `K037x` monitoring.
//!
//! A code is never reused nor renumbered: a kind that goes away keeps its
//! row, its description starting `retired:` and naming the codes that
//! replaced it, and nothing emits it. `docs/diagnostics.md` is this table
//! (`tests/kgen/diagnostics.rs` checks it, and that no retired code is
//! emitted).

macro_rules! codes {
    ($($variant:ident = $code:literal, $name:literal: $description:literal;)*) => {
        /// The kind of a diagnostic, stable across releases (see the module).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $(#[doc = $description] $variant,)*
        }

        impl Code {
            /// Every code, in the table's order.
            pub const ALL: &[Code] = &[$(Code::$variant),*];

            /// The variants' names, in the table's order.
            #[cfg(test)]
            const VARIANTS: &[&str] = &[$(stringify!($variant)),*];

            /// `K0101`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }

            /// A short name, `yaml-syntax`.
            pub fn name(self) -> &'static str {
                match self { $(Code::$variant => $name,)* }
            }

            /// What the kind of problem is, in a line.
            pub fn description(self) -> &'static str {
                match self { $(Code::$variant => $description,)* }
            }

            /// A code nothing emits any more (its description starts
            /// `retired:` and names its replacements).
            pub fn is_retired(self) -> bool {
                self.description().starts_with("retired:")
            }
        }
    };
}

codes! {
    MoreProblems = "K0001", "more-problems": "more problems were found than are shown";

    YamlSyntax = "K0101", "yaml-syntax": "the text is not valid YAML, or uses YAML kgen does not read (tags, non-text keys)";
    DuplicateKey = "K0102", "duplicate-key": "a mapping has the same key twice";
    InputLimit = "K0103", "input-limit": "the input is larger, deeper or expands more than kgen reads";
    DocumentCount = "K0104", "document-count": "the file is empty or holds several documents where one is expected";

    FieldType = "K0201", "field-type": "a field has a value of the wrong type or form";
    UnknownField = "K0202", "unknown-field": "a field the profile format does not have";
    ProfileShape = "K0203", "profile-shape": "the profile or an environment is not a mapping of fields, or sets what it cannot";
    UnknownEnvironment = "K0204", "unknown-environment": "`--env` or `--to-env` names an environment the profile does not define";
    SetOption = "K0205", "set-option": "a `--set` assignment that cannot be read or applied";
    ValuesFile = "K0206", "values-file": "a `-f` values file that is not a mapping of profile fields";
    DefaultsFile = "K0207", "defaults-file": "a shared defaults file (`defaults:`) that cannot be used";
    DefaultsLimit = "K0208", "defaults-limit": "a value outside a limit the defaults file sets";

    ConfigRule = "K0301", "config-rule": "retired: split into K0310–K0321; names it checked elsewhere are K0332, K0336, K0338, K0345, K0362, K0364, K0366 and K0371, an unsupported `apiVersion` K0203";
    WorkloadRule = "K0302", "workload-rule": "retired: split into K0330–K0338, K0312, K0313 and K0360";
    DataRule = "K0303", "data-rule": "retired: split into K0340–K0350, K0312, K0336 and K0307 (backup and restore CronJob names)";
    ProductionRule = "K0304", "production-rule": "retired: split into K0360–K0368 and K0307 (HTTPRoute names)";
    MonitoringRule = "K0305", "monitoring-rule": "retired: split into K0370–K0373";
    PlainCredential = "K0306", "plain-credential": "a credential written as plain text in the profile";
    ObjectName = "K0307", "object-name": "a name kgen derives for an object is not a valid Kubernetes name";
    SecretInput = "K0308", "secret-input": "a value for a Secret kgen creates is missing or comes from two places";
    Advice = "K0309", "advice": "a profile that works but likely not as meant (a warning)";

    AppIdentity = "K0310", "app-identity": "the app's name, instance, partOf or version is not a valid name or label value";
    Namespace = "K0311", "namespace": "a namespace name that is not a DNS label, or a namespace kgen cannot create or label";
    LabelOrAnnotation = "K0312", "label-or-annotation": "a label or annotation key or value Kubernetes refuses, or annotations over 256 KiB";
    ReservedMetadata = "K0313", "reserved-metadata": "a label or annotation kgen sets itself";
    ServiceAccount = "K0314", "service-account": "a service account name that is invalid, or an existing account without one";
    Settings = "K0315", "settings": "a setting key that is no variable name, settings over 1 MiB, a bad ConfigMap name, or an existing ConfigMap with no name or with settings";
    SecretName = "K0316", "secret-name": "a Secret's name, declared or referred to, that is not a valid Kubernetes name";
    SecretKey = "K0317", "secret-key": "a Secret key that is not a valid data key, or that the Secret does not have";
    SecretSource = "K0318", "secret-source": "a Secret with no values or values from two sources, a `fromEnv` variable that is no name, or a sealed value that is not ciphertext";
    ExternalSecret = "K0319", "external-secret": "an external Secret's store, refresh interval or keys in the store";
    SecurityContext = "K0320", "security-context": "a user or group ID or a capability the restricted pod security forbids";
    IntRange = "K0321", "int-range": "a count (replicas, instances, autoscaling bounds, a budget) above what Kubernetes keeps (an int32)";

    ComponentName = "K0330", "component-name": "a component name that is not a DNS label";
    Container = "K0331", "container": "a container name that is invalid or taken by kgen's init containers, or a negative grace period";
    Image = "K0332", "image": "a missing or invalid image reference (a component's, database's, cache's, backup's or migration's)";
    Port = "K0333", "port": "a port name or number that is invalid or declared twice";
    Probe = "K0334", "probe": "a probe with several checks, a port it cannot connect to, a bad path or command, or timings out of range";
    Resources = "K0335", "resources": "a CPU, memory or ephemeral-storage amount that cannot be read, or a request above its limit";
    EnvVar = "K0336", "env-var": "an environment variable with a bad name, no source or several, an undeclared source, or set twice";
    WritablePath = "K0337", "writable-path": "a writable path that is not absolute or is listed twice";
    Placement = "K0338", "placement": "a node selector, toleration or priority class Kubernetes refuses";

    DatabaseName = "K0340", "database-name": "a database's name or SQL names are invalid or taken, or a component uses an undefined database";
    DatabaseMode = "K0341", "database-mode": "a database field that does not apply to its engine and mode, or one its mode needs";
    DatabaseVersion = "K0342", "database-version": "a PostgreSQL major version that is invalid or cannot be told from the image";
    DatabaseSetup = "K0343", "database-setup": "a PostgreSQL parameter, extension, time zone or init script kgen cannot pass on";
    Sqlite = "K0344", "sqlite": "an SQLite database used by no or several components, scaled out, or with a bad file path";
    Storage = "K0345", "storage": "a volume's size, access modes, StorageClass or claim";
    WalArchive = "K0346", "wal-archive": "WAL archiving without an image for its tool, its credentials, or a one-line command";
    OperatorDatabase = "K0347", "operator-database": "a CloudNativePG database set up in a way the operator cannot run";
    Backup = "K0348", "backup": "a backup's schedule, retention, deadline or destination, or a backup field its database's mode does not take";
    Cache = "K0349", "cache": "the cache's name, memory size or eviction policy";
    Migration = "K0350", "migration": "migrations with an unknown component or database, no command, or fields out of range";

    Autoscaling = "K0360", "autoscaling": "an autoscaler's bounds, targets or metrics, or a target on a resource not requested";
    DisruptionBudget = "K0361", "disruption-budget": "a disruption budget with both bounds, or one that lets no pod be evicted";
    Ingress = "K0362", "ingress": "an Ingress without a valid class name";
    Tls = "K0363", "tls": "TLS without hosts, with several issuers, or a certificate the chosen issuer cannot get";
    Gateway = "K0364", "gateway": "Gateway API routes without the Gateway's name, or an invalid listener name";
    RouteHost = "K0365", "route-host": "a route's host that is missing, invalid or listed twice, or a path not starting with `/`";
    RouteBackend = "K0366", "route-backend": "a route to a component, Service or port that cannot take HTTP from it";
    NetworkPolicy = "K0367", "network-policy": "a default deny kgen cannot make, or a network policy rule with an unknown component, port, address range or controller namespace";
    Rbac = "K0368", "rbac": "an RBAC rule that is incomplete, grants `*`, or names an unknown verb";

    Metrics = "K0370", "metrics": "a metrics endpoint Prometheus cannot scrape, or a scrape interval or timeout that is no duration or does not fit";
    PromqlName = "K0371", "promql-name": "a metric name, label name or status pattern kgen cannot put in PromQL";
    Alert = "K0372", "alert": "an alert's threshold, quantile, window or duration";
    Dashboard = "K0373", "dashboard": "a dashboard's title, folder or panels (titles, queries, legends, units)";

    ExtraManifest = "K0401", "extra-manifest": "an extra manifest that is not a valid Kubernetes object";
    Template = "K0402", "template": "an extra manifest's template fails";
    Patch = "K0403", "patch": "a patch that does not apply, or changes what it may not";
    EscapeHatch = "K0404", "escape-hatch": "an extra or patched object outside the app's namespace or above its privileges";

    DuplicateObject = "K0501", "duplicate-object": "the same object is in the bundle twice, or rendered by two profiles";
    Selector = "K0502", "selector": "a Service, budget, policy or route selects nothing in the bundle";
    MissingReference = "K0503", "missing-reference": "an object refers to a ConfigMap, Secret, claim, account or class that is not in the bundle nor declared";
    PortReference = "K0504", "port-reference": "a probe, Service or Ingress names a port that is not declared";
    Metadata = "K0505", "metadata": "an object's name, namespace, labels or annotations are invalid";
    ApiRule = "K0506", "api-rule": "an object the Kubernetes API server would refuse";
    PodSecurity = "K0507", "pod-security": "a pod breaks the Pod Security Standard it is held to";

    TargetOption = "K0601", "target-option": "`--api-versions` or `--kube-version` cannot be read";
    TargetApi = "K0602", "target-api": "an object of an API the target cluster does not serve";

    ReadFile = "K0701", "read-file": "a file that cannot be read (missing, too large, not a regular file, outside the root)";
    WriteFile = "K0702", "write-file": "a file or directory that cannot be written";
    OutDir = "K0703", "out-dir": "an `--out-dir` that kgen does not own or that changed since kgen wrote it";
    SecretLeftOut = "K0704", "secret-left-out": "a created Secret left out of an `--out-dir` (a warning)";

    Usage = "K0801", "usage": "a command-line argument that cannot be used";
    ShowOnly = "K0802", "show-only": "a `--show-only` selector that matches no rendered object";
    FailedRenders = "K0803", "failed-renders": "some renders of a batch failed, so nothing was written";

    DiffImmutable = "K0901", "diff-immutable": "a change `kubectl apply` rejects: an immutable field";
    DiffLeftBehind = "K0902", "diff-left-behind": "a change that leaves objects or data behind";
    BootstrapLocal = "K0903", "bootstrap-local": "something the bootstrap script does not provide on a local cluster";
}

/// `docs/diagnostics.md`: the table of codes, with how to get them.
#[cfg(test)]
fn docs_page() -> String {
    let mut out = String::from(
        "# Diagnostic codes\n\n\
         <!-- Generated from src/diagnostic/code.rs by its unit test; \
         `KGEN_BLESS=1 cargo test --lib diagnostic` rewrites it. -->\n\n\
         Every error and warning kgen reports has a stable code, grouped by the stage \
         that finds it. A code is never reused. People see the message only; \
         `--message-format json` prints each diagnostic as one JSON object a line on \
         stderr, `--message-format github` as a GitHub Actions annotation, and \
         `--message-format sarif` as one SARIF log whose rules are these codes \
         (see [commands](commands.md#messages-as-data)).\n\n\
         | code | name | what it reports |\n|---|---|---|\n",
    );
    for c in Code::ALL {
        out.push_str(&format!("| `{}` | `{}` | {} |\n", c.as_str(), c.name(), c.description()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::Code;

    /// The documented table is this one.
    #[test]
    fn docs_table_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/diagnostics.md");
        let page = super::docs_page();
        if std::env::var("KGEN_BLESS").as_deref() == Ok("1") {
            std::fs::write(&path, &page).unwrap();
        }
        let written = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(written == page, "docs/diagnostics.md is out of date: run `KGEN_BLESS=1 cargo test --lib diagnostic`");
    }

    /// The codes a retired row's description names: `K0310–K0321` is a
    /// range, every code in it.
    fn named_codes(description: &str) -> Vec<String> {
        let words: Vec<&str> = description
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '–'))
            .filter(|w| w.strip_prefix('K').is_some_and(|n| n.starts_with(|c: char| c.is_ascii_digit())))
            .collect();
        let mut out = Vec::new();
        for w in words {
            let number = |s: &str| s.strip_prefix('K').and_then(|n| n.parse::<u32>().ok());
            match w.split_once('–') {
                Some((a, b)) => {
                    let (a, b) = (number(a).unwrap(), number(b).unwrap());
                    assert!(a < b, "{w}");
                    out.extend((a..=b).map(|n| format!("K{n:04}")));
                }
                None => out.push(format!("K{:04}", number(w).unwrap())),
            }
        }
        out
    }

    /// A retired code says which codes replaced it, and those are live.
    #[test]
    fn retired_codes_name_their_replacements() {
        let live = |code: &str| Code::ALL.iter().find(|c| c.as_str() == code).map(|c| !c.is_retired());
        let mut retired = 0;
        for c in Code::ALL.iter().filter(|c| c.is_retired()) {
            retired += 1;
            let named = named_codes(c.description());
            assert!(!named.is_empty(), "{} names no replacement", c.as_str());
            for n in named {
                assert_eq!(live(&n), Some(true), "{} names {n}, which is not a live code", c.as_str());
            }
        }
        assert!(retired >= 5);
        assert_eq!(named_codes("retired: split into K0310–K0312 and K0203"), ["K0310", "K0311", "K0312", "K0203"]);
    }

    /// No source file outside this table names a retired code.
    #[test]
    fn nothing_emits_a_retired_code() {
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    out.push(path);
                }
            }
        }
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        walk(&src, &mut files);
        let retired: Vec<String> = Code::ALL
            .iter()
            .zip(Code::VARIANTS)
            .filter(|(c, _)| c.is_retired())
            .map(|(_, v)| format!("Code::{v}"))
            .collect();
        assert_eq!(retired.len(), 5);
        for file in files.iter().filter(|f| !f.ends_with("diagnostic/code.rs")) {
            let text = std::fs::read_to_string(file).unwrap();
            for r in &retired {
                let used = text
                    .match_indices(r.as_str())
                    .any(|(i, _)| !text[i + r.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_'));
                assert!(!used, "{} uses the retired {r}", file.display());
            }
        }
    }

    #[test]
    fn codes_and_names_are_unique_and_well_formed() {
        let mut codes = std::collections::BTreeSet::new();
        let mut names = std::collections::BTreeSet::new();
        for c in Code::ALL {
            assert!(codes.insert(c.as_str()), "code {} twice", c.as_str());
            assert!(names.insert(c.name()), "name {} twice", c.name());
            let s = c.as_str();
            assert!(s.len() == 5 && s.starts_with('K') && s[1..].bytes().all(|b| b.is_ascii_digit()), "{s}");
            assert!(!c.description().is_empty());
        }
    }
}
