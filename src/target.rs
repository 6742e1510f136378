//! What the target cluster serves (`--api-versions`, `--kube-version`, as
//! `helm template` takes them): objects of an API the cluster lacks are a
//! clear error here instead of a failed `kubectl apply`.

use std::collections::BTreeSet;

use crate::diagnostic::Code;
use crate::diagnostic::{Diagnostic, Errors};
use crate::object::Object;

/// Oldest and newest Kubernetes minor versions kgen's output is made for.
pub const SUPPORTED: (u32, u32) = (29, 37);

/// API groups every supported cluster serves.
const BUILT_IN: &[&str] = &[
    "v1",
    "apps/v1",
    "batch/v1",
    "autoscaling/v2",
    "policy/v1",
    "networking.k8s.io/v1",
    "rbac.authorization.k8s.io/v1",
    "storage.k8s.io/v1",
    "scheduling.k8s.io/v1",
    "coordination.k8s.io/v1",
];

/// The cluster kgen renders for; empty means "don't check".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Target {
    /// `group/version` or `group/version/Kind` entries the cluster serves
    /// besides the built-in APIs.
    pub api_versions: Option<BTreeSet<String>>,
    /// Kubernetes minor version, e.g. 31 for 1.31.
    pub kube_minor: Option<u32>,
}

impl Target {
    /// Parse the command-line values.
    pub fn new(api_versions: &[String], kube_version: Option<&str>) -> Result<Target, Errors> {
        let api_versions = (!api_versions.is_empty()).then(|| {
            api_versions
                .iter()
                .flat_map(|v| v.split(','))
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .collect()
        });
        let kube_minor = match kube_version {
            None => None,
            Some(v) => {
                let trimmed = v.trim_start_matches('v');
                let mut parts = trimmed.split('.');
                let major = parts.next().and_then(|p| p.parse::<u32>().ok());
                let minor = parts.next().and_then(|p| p.split(['-', '+']).next()?.parse::<u32>().ok());
                match (major, minor) {
                    (Some(1), Some(minor)) => Some(minor),
                    _ => {
                        return Err(Diagnostic::error(
                            Code::TargetOption,
                            format!("`{v}` is not a Kubernetes version"),
                        )
                        .hint("write it like 1.31 or v1.31.2")
                        .into());
                    }
                }
            }
        };
        if let Some(minor) = kube_minor
            && minor < SUPPORTED.0
        {
            return Err(Diagnostic::error(
                Code::TargetOption,
                format!("kgen's output needs Kubernetes 1.{} or newer, not 1.{minor}", SUPPORTED.0),
            )
            .hint("it uses fields and API versions that older clusters lack; upgrade the cluster")
            .into());
        }
        Ok(Target { api_versions, kube_minor })
    }

    /// Every object whose API the target cluster does not serve.
    pub fn check(&self, objects: &[Object]) -> Result<(), Errors> {
        let Some(served) = &self.api_versions else { return Ok(()) };
        let mut errors = Vec::new();
        let mut reported = BTreeSet::new();
        for o in objects {
            let api = o.api_version();
            let with_kind = format!("{api}/{}", o.kind());
            if BUILT_IN.contains(&api) || served.contains(api) || served.contains(&with_kind) {
                continue;
            }
            if !reported.insert(with_kind.clone()) {
                continue;
            }
            let (needs, field) = feature_of(o.kind());
            errors.push(
                Diagnostic::error(Code::TargetApi, format!(
                    "{} `{}` needs {api}, which --api-versions does not list",
                    o.kind(),
                    o.name()
                ))
                .hint(format!("install {needs} in the cluster and add `--api-versions {api}`, or turn off `{field}` in the profile")),
            );
        }
        if errors.is_empty() { Ok(()) } else { Err(Errors(errors)) }
    }
}

/// What provides a custom resource, and the profile field that asks for it.
fn feature_of(kind: &str) -> (&'static str, &'static str) {
    match kind {
        "ServiceMonitor" | "PodMonitor" | "PrometheusRule" => ("the Prometheus Operator CRDs", "monitoring"),
        "Cluster" | "ScheduledBackup" => ("the CloudNativePG operator", "databases.*.mode: operator"),
        "HTTPRoute" | "ReferenceGrant" => ("the Gateway API CRDs", "gateway"),
        "Issuer" | "Certificate" => ("cert-manager", "ingress.tls"),
        "ScaledObject" => ("KEDA", "autoscaling.keda"),
        "ExternalSecret" => ("the External Secrets Operator (0.17 or newer)", "secrets.*.external"),
        "SealedSecret" => ("the Sealed Secrets controller", "secrets.*.sealed"),
        _ => ("its CRD", "extraManifests"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kube_versions() {
        assert_eq!(Target::new(&[], Some("v1.31.2")).unwrap().kube_minor, Some(31));
        assert_eq!(Target::new(&[], Some("1.29")).unwrap().kube_minor, Some(29));
        assert!(Target::new(&[], Some("1.25")).is_err());
        assert!(Target::new(&[], Some("latest")).is_err());
    }

    #[test]
    fn api_versions_split_on_commas() {
        let t = Target::new(&["monitoring.coreos.com/v1,keda.sh/v1alpha1".into()], None).unwrap();
        assert_eq!(t.api_versions.unwrap().len(), 2);
    }
}
