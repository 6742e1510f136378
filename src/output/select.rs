//! `--show-only KIND/NAME`: which of a bundle's objects to print, named as
//! kubectl names them (`deployment/x`, `Deployment/x`, `deployment.apps/x`,
//! `deployments/x`, `deploy/x`),
//! and `-o name`'s `kind.group/name` lines.

use crate::diagnostic::Code;
use crate::diagnostic::Diagnostic;
use crate::object::Object;

/// One `--show-only` argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selector {
    /// As given, for messages.
    pub text: String,
    /// The kind, lower case (`deployment`).
    kind: String,
    /// The API group when given (`apps` of `deployment.apps`; `""` for the
    /// core group is never written).
    group: Option<String>,
    name: String,
}

impl Selector {
    /// Parse `KIND/NAME` or `KIND.GROUP/NAME`.
    pub fn parse(text: &str) -> Result<Selector, Box<Diagnostic>> {
        let bad = || {
            Box::new(
                Diagnostic::error(Code::Usage, format!("`--show-only {text}`: expected KIND/NAME"))
                    .hint("for example `--show-only deployment/clockwork` or `--show-only service/clockwork`"),
            )
        };
        let (kind, name) = text.split_once('/').ok_or_else(bad)?;
        if kind.is_empty() || name.is_empty() || name.contains('/') {
            return Err(bad());
        }
        let (kind, group) = match kind.split_once('.') {
            Some((k, g)) if !k.is_empty() && !g.is_empty() => (k, Some(g.to_ascii_lowercase())),
            Some(_) => return Err(bad()),
            None => (kind, None),
        };
        Ok(Selector { text: text.to_string(), kind: kind.to_ascii_lowercase(), group, name: name.to_string() })
    }

    pub fn matches(&self, object: &Object) -> bool {
        object.name() == self.name
            && names_kind(&self.kind, object.kind())
            && self.group.as_deref().is_none_or(|g| g == group(object.api_version()))
    }
}

/// kubectl's short names of the kinds kgen renders (`kubectl api-resources`).
const SHORT_NAMES: &[(&str, &str)] = &[
    ("cm", "configmap"),
    ("cj", "cronjob"),
    ("deploy", "deployment"),
    ("es", "externalsecret"),
    ("hpa", "horizontalpodautoscaler"),
    ("ing", "ingress"),
    ("netpol", "networkpolicy"),
    ("ns", "namespace"),
    ("pdb", "poddisruptionbudget"),
    ("pvc", "persistentvolumeclaim"),
    ("sa", "serviceaccount"),
    ("sc", "storageclass"),
    ("so", "scaledobject"),
    ("sts", "statefulset"),
    ("svc", "service"),
];

/// Whether `written` (lower case) names `kind` as kubectl would take it:
/// the kind, its plural, or its short name.
fn names_kind(written: &str, kind: &str) -> bool {
    let kind = kind.to_ascii_lowercase();
    let plural = if let Some(stem) = kind.strip_suffix('y') {
        format!("{stem}ies")
    } else if kind.ends_with('s') {
        format!("{kind}es")
    } else {
        format!("{kind}s")
    };
    written == kind || written == plural || SHORT_NAMES.iter().any(|(short, long)| written == *short && *long == kind)
}

/// The API group of an `apiVersion` (`""` for the core group's `v1`).
fn group(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

/// How `kubectl get -o name` names an object: `deployment.apps/x`,
/// `service/x` (the core group has no suffix).
pub fn kubectl_name(object: &Object) -> String {
    let kind = object.kind().to_ascii_lowercase();
    match group(object.api_version()) {
        "" => format!("{kind}/{}", object.name()),
        g => format!("{kind}.{g}/{}", object.name()),
    }
}

/// `-o name`: one line per object.
pub fn to_names<'a>(objects: impl IntoIterator<Item = &'a Object>) -> String {
    objects.into_iter().map(|o| kubectl_name(o) + "\n").collect()
}

/// The error for a selector no render matched, with the objects closest to
/// it among `names` (every rendered object's `kubectl_name`).
pub fn unmatched(selector: &Selector, names: &[String]) -> Diagnostic {
    let mut d =
        Diagnostic::error(Code::ShowOnly, format!("`--show-only {}` matches no rendered object", selector.text));
    // Closest first: objects of the kind (or a kind a typo away), nearest
    // name first; then objects of other kinds whose name is a typo away.
    let kind_of = |n: &str| n.split(['.', '/']).next().unwrap_or_default().to_string();
    let name_of = |n: &str| n.split_once('/').map_or(String::new(), |(_, name)| name.to_string());
    let mut scored: Vec<((usize, usize), &String)> = names
        .iter()
        .map(|n| {
            let name_distance = strsim::damerau_levenshtein(&name_of(n), &selector.name);
            let kind_distance = strsim::damerau_levenshtein(&kind_of(n), &selector.kind);
            let kind = match kind_distance {
                0 => 0,
                1..=2 => 1,
                _ => 2,
            };
            ((kind, name_distance), n)
        })
        .filter(|((kind, name_distance), _)| *kind < 2 || *name_distance <= 2)
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    if scored.is_empty() {
        d = d.hint("`kgen render -o name` lists the rendered objects as KIND/NAME");
    } else {
        let list: Vec<&str> = scored.iter().take(5).map(|(_, n)| n.as_str()).collect();
        d = d.hint(format!("the closest rendered objects: {}", list.join(", ")));
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(api_version: &str, kind: &str, name: &str) -> Object {
        Object::from_json(serde_json::json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": name}}))
            .unwrap()
    }

    #[test]
    fn kind_is_case_insensitive_and_the_group_optional() {
        let d = object("apps/v1", "Deployment", "web");
        for text in ["deployment/web", "Deployment/web", "deployment.apps/web", "DEPLOYMENT.Apps/web"] {
            assert!(Selector::parse(text).unwrap().matches(&d), "{text}");
        }
        for text in ["deployment/api", "service/web", "deployment.batch/web"] {
            assert!(!Selector::parse(text).unwrap().matches(&d), "{text}");
        }
        for text in ["web", "/web", "deployment/", "deployment/a/b", ".apps/web"] {
            assert!(Selector::parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn plurals_and_short_names_as_kubectl_takes_them() {
        let cases = [
            ("apps/v1", "Deployment", ["deployments/web", "deploy/web"]),
            ("v1", "Service", ["services/web", "svc/web"]),
            ("networking.k8s.io/v1", "Ingress", ["ingresses/web", "ing/web"]),
            ("networking.k8s.io/v1", "NetworkPolicy", ["networkpolicies/web", "netpol/web"]),
        ];
        for (api_version, kind, texts) in cases {
            let o = object(api_version, kind, "web");
            for text in texts {
                assert!(Selector::parse(text).unwrap().matches(&o), "{text}");
            }
        }
        assert!(!Selector::parse("svc/web").unwrap().matches(&object("apps/v1", "Deployment", "web")));
        assert!(!Selector::parse("deploys/web").unwrap().matches(&object("apps/v1", "Deployment", "web")));
    }

    #[test]
    fn names_as_kubectl_get_o_name() {
        assert_eq!(kubectl_name(&object("apps/v1", "Deployment", "web")), "deployment.apps/web");
        assert_eq!(kubectl_name(&object("v1", "Service", "web")), "service/web");
        let sm = object("widgets.example.com/v1", "Widget", "web");
        assert_eq!(kubectl_name(&sm), "widget.widgets.example.com/web");
        assert!(Selector::parse(&kubectl_name(&sm)).unwrap().matches(&sm));
    }
}
