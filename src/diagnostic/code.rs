//! The stable code of each kind of diagnostic, grouped by the stage that
//! reports it: `K01xx` input and YAML syntax, `K02xx` the profile's shape
//! and types, `K03xx` the profile's rules, `K04xx` escape hatches (extra
//! manifests, patches), `K05xx` consistency of the rendered bundle,
//! `K06xx` the target cluster's API, `K07xx` files, `K08xx` the command
//! line, `K09xx` what `diff` and `bootstrap` warn about.
//!
//! A code is never reused: a kind that goes away keeps its row, marked
//! retired in its description. `docs/diagnostics.md` is this table
//! (`tests/kgen/diagnostics.rs` checks it).

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

    ConfigRule = "K0301", "config-rule": "a rule of settings, secrets, labels or annotations is broken";
    WorkloadRule = "K0302", "workload-rule": "a rule of components (images, ports, probes, resources, volumes) is broken";
    DataRule = "K0303", "data-rule": "a rule of databases, caches, backups or migrations is broken";
    ProductionRule = "K0304", "production-rule": "a rule of autoscaling, budgets, routing, network policies or RBAC is broken";
    MonitoringRule = "K0305", "monitoring-rule": "a rule of monitoring (metrics, alerts, dashboards) is broken";
    PlainCredential = "K0306", "plain-credential": "a credential written as plain text in the profile";
    ObjectName = "K0307", "object-name": "a name kgen derives for an object is not a valid Kubernetes name";
    SecretInput = "K0308", "secret-input": "a value for a Secret kgen creates is missing or comes from two places";
    Advice = "K0309", "advice": "a profile that works but likely not as meant (a warning)";

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
