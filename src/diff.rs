//! Two bundles compared object by object: a unified diff of each changed,
//! added or removed object, and warnings for changes that `kubectl apply`
//! rejects (immutable fields) or that leave objects behind (removed
//! objects, a workload that changes kind), each with what to do.
//!
//! Objects come as JSON values (from a render, or read back from an
//! `--out-dir`) and are shown as kgen writes them, with the values of every
//! Secret masked wherever they appear (not only in the Secret). Pure: no IO.

use std::collections::HashMap;

use serde_json::Value;
use similar::TextDiff;

use crate::diagnostic::Code;
use crate::diagnostic::{Diagnostic, ValueMask};
use crate::model::{names, quantity};
use crate::yaml::emit;

/// One side of a comparison: a label for the headers and the objects.
pub struct Side<'a> {
    pub label: &'a str,
    pub objects: &'a [Value],
}

/// What changed between two bundles.
#[derive(Debug, Default)]
pub struct Report {
    /// Unified diffs, object by object, uncoloured.
    pub text: String,
    pub changed: usize,
    pub added: usize,
    pub removed: usize,
    /// Changes `kubectl apply` will reject or that leave objects behind.
    pub warnings: Vec<Diagnostic>,
    /// One line of `--stat` per changed object, in the order of `text`.
    pub stat: Vec<Stat>,
}

/// How one object changed, for `kgen diff --stat`.
#[derive(Debug)]
pub struct Stat {
    /// `Kind/namespace/name`.
    pub object: String,
    pub change: Change,
    /// Lines added and removed in its diff.
    pub plus: usize,
    pub minus: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Added,
    Removed,
    Changed,
}

impl Stat {
    fn of(object: String, change: Change, unified: &str) -> Stat {
        // The two header lines first, then hunks.
        let body = unified.lines().skip(2);
        let (mut plus, mut minus) = (0, 0);
        for line in body {
            match line.as_bytes().first() {
                Some(b'+') => plus += 1,
                Some(b'-') => minus += 1,
                _ => {}
            }
        }
        Stat { object, change, plus, minus }
    }
}

impl Report {
    pub fn differs(&self) -> bool {
        self.changed + self.added + self.removed > 0
    }

    pub fn summary(&self) -> String {
        if !self.differs() {
            return "no differences".into();
        }
        format!("{} changed, {} added, {} removed", self.changed, self.added, self.removed)
    }

    /// `--stat`: a line per changed object (what changed, lines added and
    /// removed), then the total, like `git diff --stat`.
    pub fn stat_text(&self) -> String {
        let width = self.stat.iter().map(|s| s.object.chars().count()).max().unwrap_or(0);
        let mut out = String::new();
        for s in &self.stat {
            let change = match s.change {
                Change::Added => "added",
                Change::Removed => "removed",
                Change::Changed => "changed",
            };
            out.push_str(&format!(" {:<width$} | {change:<7} +{} -{}\n", s.object, s.plus, s.minus));
        }
        let (plus, minus) = self.stat.iter().fold((0, 0), |(p, m), s| (p + s.plus, m + s.minus));
        let n = self.stat.len();
        out.push_str(&format!(
            " {n} object{} ({}), {plus} insertion{}(+), {minus} deletion{}(-)\n",
            if n == 1 { "" } else { "s" },
            self.summary(),
            if plus == 1 { "" } else { "s" },
            if minus == 1 { "" } else { "s" },
        ));
        out
    }
}

/// Whether a value is a Kubernetes object that can be compared: a mapping
/// with `apiVersion`, `kind` and `metadata.name`, all text.
pub fn is_object(v: &Value) -> bool {
    let text = |p: &str| v.pointer(p).and_then(Value::as_str).is_some_and(|s| !s.is_empty());
    text("/apiVersion") && text("/kind") && text("/metadata/name")
}

/// An object's identity: kind, namespace, name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Id {
    kind: String,
    namespace: Option<String>,
    name: String,
}

impl Id {
    fn of(v: &Value) -> Id {
        let text = |p: &str| v.pointer(p).and_then(Value::as_str).map(String::from);
        Id {
            kind: text("/kind").unwrap_or_default(),
            namespace: text("/metadata/namespace"),
            name: text("/metadata/name").unwrap_or_default(),
        }
    }

    fn show(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} `{ns}/{}`", self.kind, self.name),
            None => format!("{} `{}`", self.kind, self.name),
        }
    }

    fn header(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{}/{ns}/{}", self.kind, self.name),
            None => format!("{}/{}", self.kind, self.name),
        }
    }

    /// Whether kind, namespace and name follow Kubernetes' rules, so that
    /// a command built from them does what it says: objects read back from
    /// a directory may hold anything.
    fn is_valid(&self) -> bool {
        let kind = self.kind.len() <= 63
            && self.kind.starts_with(|c: char| c.is_ascii_uppercase())
            && self.kind.chars().all(|c| c.is_ascii_alphanumeric());
        let namespace = self.namespace.as_deref().is_none_or(|n| names::dns1123_label(n, 63).is_ok());
        // RBAC objects may be named by any path segment (`system:viewer`).
        let rbac = ["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"].contains(&self.kind.as_str());
        let name = names::dns1123_subdomain(&self.name, 253).is_ok()
            || (rbac
                && self.name.len() <= 253
                && !matches!(self.name.as_str(), "" | "." | "..")
                && !self.name.chars().any(|c| c == '/' || c == '%' || c.is_control() || c.is_whitespace()));
        kind && namespace && name
    }

    /// `kubectl delete` for this object with `extra` arguments, every word
    /// quoted for a shell; none when its names break Kubernetes' rules.
    fn delete(&self, extra: &[&str]) -> Option<String> {
        if !self.is_valid() {
            return None;
        }
        let kind = self.kind.to_ascii_lowercase();
        let mut words = vec!["kubectl", "delete", kind.as_str(), self.name.as_str()];
        if let Some(ns) = &self.namespace {
            words.extend(["-n", ns.as_str()]);
        }
        words.extend(extra);
        Some(words.iter().map(|w| shell_quote(w)).collect::<Vec<_>>().join(" "))
    }

    /// A hint's `kubectl delete` in backticks, or what to do instead.
    fn delete_hint(&self, extra: &[&str]) -> String {
        match self.delete(extra) {
            Some(command) => format!("`{command}`"),
            None => BY_HAND.to_string(),
        }
    }
}

/// What a hint says instead of a command for an object whose names break
/// Kubernetes' rules.
const BY_HAND: &str =
    "delete it by hand (its kind, namespace or name breaks Kubernetes' naming rules, so kgen shows no command)";

/// A word as a POSIX shell reads it back: as it is when it holds only
/// characters no shell treats specially, else in single quotes.
pub fn shell_quote(word: &str) -> std::borrow::Cow<'_, str> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:=,@+".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        return std::borrow::Cow::Borrowed(word);
    }
    std::borrow::Cow::Owned(format!("'{}'", word.replace('\'', "'\\''")))
}

/// Every value the Secrets of `objects` hold (`data` decoded, and
/// `stringData`): masked wherever they appear in a diff.
fn secret_values(objects: &[&[Value]]) -> ValueMask {
    let mut values: Vec<String> = Vec::new();
    for o in
        objects.iter().flat_map(|side| side.iter()).filter(|o| o.get("kind").and_then(Value::as_str) == Some("Secret"))
    {
        for field in ["data", "stringData"] {
            for v in o.get(field).and_then(Value::as_object).into_iter().flat_map(|m| m.values()) {
                let Some(text) = v.as_str() else { continue };
                if field == "data" {
                    // The base64 form is masked with the decoded value.
                    if let Ok(k8s_openapi::ByteString(bytes)) = serde_json::from_value(v.clone()) {
                        match String::from_utf8(bytes) {
                            Ok(decoded) => values.push(decoded),
                            Err(_) => values.push(text.to_string()),
                        }
                        continue;
                    }
                }
                values.push(text.to_string());
            }
        }
    }
    ValueMask::new(values.iter().map(String::as_str))
}

/// Compare `old` with `new`. Secrets' values are masked (`***`) in their
/// objects, and wherever else they appear in the diff or its warnings.
pub fn compare(old: Side<'_>, new: Side<'_>) -> Report {
    let mask = secret_values(&[old.objects, new.objects]);
    let mut report = compare_unmasked(old, new, &mask);
    report.warnings = report.warnings.into_iter().map(|d| d.mask_values(&mask)).collect();
    report
}

fn compare_unmasked(old: Side<'_>, new: Side<'_>, mask: &ValueMask) -> Report {
    let mut report = Report::default();
    let old_ids: Vec<(Id, &Value)> = old.objects.iter().map(|v| (Id::of(v), v)).collect();
    let new_ids: Vec<(Id, &Value)> = new.objects.iter().map(|v| (Id::of(v), v)).collect();
    // Each side by identity (the first object of an identity), so that
    // comparing is linear in the objects.
    let index = |list: &[(Id, &Value)]| -> HashMap<Id, usize> {
        let mut m = HashMap::with_capacity(list.len());
        for (i, (id, _)) in list.iter().enumerate() {
            m.entry(id.clone()).or_insert(i);
        }
        m
    };
    let (old_index, new_index) = (index(&old_ids), index(&new_ids));
    let lookup = |id: &Id| -> Option<Value> { old_index.get(id).map(|&i| old_ids[i].1.clone()) };

    for (id, new_value) in &new_ids {
        let mut old_value = lookup(id);
        let mut shown = (*new_value).clone();
        if id.kind == "Secret" {
            mask_secret(old_value.as_mut(), Some(&mut shown));
        }
        let old_text = old_value.as_ref().map(emit::to_string).unwrap_or_default();
        let new_text = emit::to_string(&shown);
        if old_text == new_text {
            continue;
        }
        let change = match &old_value {
            Some(o) => {
                report.changed += 1;
                immutable_changes(id, o, new_value, &mut report.warnings);
                Change::Changed
            }
            None => {
                report.added += 1;
                Change::Added
            }
        };
        let old_header =
            if old_value.is_some() { format!("{} ({})", id.header(), old.label) } else { "/dev/null".into() };
        let new_header = format!("{} ({})", id.header(), new.label);
        let (old_shown, new_shown) = (mask.mask(&old_text), mask.mask(&new_text));
        if old_shown == new_shown {
            // Only a masked value changed: say so without showing it.
            report.text.push_str(&format!(
                "--- {}\n+++ {}\n@@ a Secret's value changed where it appears (masked) @@\n",
                mask.mask(&old_header),
                mask.mask(&new_header)
            ));
            report.stat.push(Stat { object: mask.mask(&id.header()), change, plus: 0, minus: 0 });
            continue;
        }
        let diff = unified(&old_shown, &new_shown, &mask.mask(&old_header), &mask.mask(&new_header));
        report.stat.push(Stat::of(mask.mask(&id.header()), change, &diff));
        report.text.push_str(&diff);
    }
    let removed: Vec<&(Id, &Value)> = old_ids.iter().filter(|(id, _)| !new_index.contains_key(id)).collect();
    // Workloads the new side adds, the candidates to succeed a removed one.
    let added_workloads: Vec<&(Id, &Value)> =
        new_ids.iter().filter(|(n, _)| WORKLOADS.contains(&n.kind.as_str()) && !old_index.contains_key(n)).collect();
    for (id, old_value) in &removed {
        report.removed += 1;
        let mut shown = (*old_value).clone();
        if id.kind == "Secret" {
            mask_secret(Some(&mut shown), None);
        }
        let text = mask.mask(&emit::to_string(&shown));
        let diff = unified(&text, "", &mask.mask(&format!("{} ({})", id.header(), old.label)), "/dev/null");
        report.stat.push(Stat::of(mask.mask(&id.header()), Change::Removed, &diff));
        report.text.push_str(&diff);
        let successor = WORKLOADS
            .contains(&id.kind.as_str())
            .then(|| added_workloads.iter().find(|(n, v)| n.kind != id.kind && same_component(old_value, v)));
        report.warnings.push(match successor.flatten() {
            Some((n, _)) => Diagnostic::warning(
                Code::DiffLeftBehind,
                format!(
                    "the workload changes kind: {} replaces {}, and `kubectl apply` leaves the {} running beside it",
                    n.show(),
                    id.show(),
                    id.kind
                ),
            )
            .hint(format!("once the {} is ready: {} (or apply with pruning)", n.kind, id.delete_hint(&[]))),
            None if KEEP.contains(&id.kind.as_str()) => Diagnostic::warning(
                Code::DiffLeftBehind,
                format!("{} is no longer rendered; it holds data, and stays", id.show()),
            )
            .hint(format!("delete it only when the data may go: {}", id.delete_hint(&[]))),
            None => Diagnostic::warning(
                Code::DiffLeftBehind,
                format!("{} is no longer rendered; `kubectl apply` leaves it in the cluster", id.show()),
            )
            .hint(format!("{}, or apply with pruning", id.delete_hint(&[]))),
        });
    }
    report
}

/// Hide a Secret's values, as `kubectl diff` does: `***` where both sides
/// agree, `*** (before)` and `*** (after)` where the value changes.
fn mask_secret(old: Option<&mut Value>, new: Option<&mut Value>) {
    let original_old = old.as_ref().map(|v| (*v).clone());
    let original_new = new.as_ref().map(|v| (*v).clone());
    let mask = |side: Option<&mut Value>, other: &Option<Value>, label: &str| {
        let Some(side) = side else { return };
        for field in ["data", "stringData"] {
            let Some(Value::Object(values)) = side.get_mut(field) else { continue };
            for (key, value) in values.iter_mut() {
                let same = other.as_ref().and_then(|o| o.get(field)).and_then(|d| d.get(key)) == Some(&*value);
                *value = Value::String(if same { "***".into() } else { format!("*** ({label})") });
            }
        }
    };
    mask(old, &original_new, "before");
    mask(new, &original_old, "after");
}

/// Kinds that run pods for a component.
const WORKLOADS: &[&str] = &["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"];
/// Kinds that hold data and are never deleted lightly.
const KEEP: &[&str] = &["PersistentVolumeClaim", "Namespace"];

fn same_component(a: &Value, b: &Value) -> bool {
    let label = |v: &Value, k: &str| {
        v.pointer("/metadata/labels").and_then(|l| l.get(k)).and_then(Value::as_str).map(String::from)
    };
    ["app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component"]
        .iter()
        .all(|k| label(a, k).is_some() && label(a, k) == label(b, k))
}

/// What to do about a change `kubectl apply` rejects.
#[derive(Clone, Copy)]
enum Fix {
    /// Delete the StatefulSet but keep its pods and claims.
    Orphan,
    /// Delete the object and apply again.
    Recreate,
    /// A claim cannot change this: a new claim.
    NewClaim,
}

/// Fields the API server will not change on an existing object, by kind
/// (JSON Pointers).
const IMMUTABLE: &[(&str, &str, Fix)] = &[
    ("Deployment", "/spec/selector", Fix::Recreate),
    ("StatefulSet", "/spec/selector", Fix::Orphan),
    ("StatefulSet", "/spec/serviceName", Fix::Orphan),
    ("StatefulSet", "/spec/podManagementPolicy", Fix::Orphan),
    ("StatefulSet", "/spec/volumeClaimTemplates", Fix::Orphan),
    ("DaemonSet", "/spec/selector", Fix::Recreate),
    ("Job", "/spec/selector", Fix::Recreate),
    ("Job", "/spec/template", Fix::Recreate),
    ("RoleBinding", "/roleRef", Fix::Recreate),
    ("ClusterRoleBinding", "/roleRef", Fix::Recreate),
    ("Service", "/spec/clusterIP", Fix::Recreate),
    ("PersistentVolumeClaim", "/spec/storageClassName", Fix::NewClaim),
    ("PersistentVolumeClaim", "/spec/accessModes", Fix::NewClaim),
];

fn immutable_changes(id: &Id, old: &Value, new: &Value, out: &mut Vec<Diagnostic>) {
    for (kind, pointer, fix) in IMMUTABLE {
        if id.kind != *kind {
            continue;
        }
        let (a, b) = (old.pointer(pointer), new.pointer(pointer));
        // An unset clusterIP keeps the one the cluster assigned.
        if a == b || (*pointer == "/spec/clusterIP" && b.is_none()) {
            continue;
        }
        let field = pointer.trim_start_matches('/').replace('/', ".");
        let message = format!("{}: `{field}` cannot change, and `kubectl apply` will be rejected", id.show());
        let hint = match fix {
            Fix::Orphan | Fix::Recreate if !id.is_valid() => BY_HAND.to_string(),
            Fix::Orphan if *pointer == "/spec/volumeClaimTemplates" && only_storage_grew(a, b) => format!(
                "resize each claim in place (`kubectl patch pvc <claim>-{}-0 -n {} -p '{{\"spec\":{{\"resources\":{{\"requests\":{{\"storage\":\"…\"}}}}}}}}'`), then {} and apply",
                id.name,
                id.namespace.as_deref().unwrap_or("default"),
                id.delete_hint(&["--cascade=orphan"])
            ),
            Fix::Orphan => format!(
                "{} keeps its pods and volumes; the next apply creates the StatefulSet anew and adopts them",
                id.delete_hint(&["--cascade=orphan"])
            ),
            Fix::Recreate => format!("{}, then apply (it is created anew)", id.delete_hint(&[])),
            Fix::NewClaim => "a claim cannot change this: copy the data into a new claim with the new settings".into(),
        };
        out.push(Diagnostic::warning(Code::DiffImmutable, message).hint(hint));
    }
    if id.kind == "Service" {
        let ty = |v: &Value| v.pointer("/spec/type").and_then(Value::as_str).unwrap_or("ClusterIP").to_string();
        let (a, b) = (ty(old), ty(new));
        if a != b && (a == "ExternalName" || b == "ExternalName") {
            out.push(
                Diagnostic::warning(
                    Code::DiffImmutable,
                    format!("{}: the type changes from {a} to {b}, which `kubectl apply` rejects", id.show()),
                )
                .hint(format!("{}, then apply", id.delete_hint(&[]))),
            );
        }
    }
    if id.kind == "PersistentVolumeClaim" {
        let size = |v: &Value| {
            v.pointer("/spec/resources/requests/storage").and_then(Value::as_str).and_then(|q| quantity::parse(q).ok())
        };
        if let (Some(a), Some(b)) = (size(old), size(new)) {
            if b < a {
                out.push(
                    Diagnostic::warning(
                        Code::DiffImmutable,
                        format!("{}: the claim shrinks, which Kubernetes does not allow", id.show()),
                    )
                    .hint("keep the size, or copy the data into a new, smaller claim"),
                );
            } else if b > a {
                out.push(Diagnostic::warning(Code::DiffImmutable, format!("{}: the claim grows", id.show())).hint(
                    "applied in place when its StorageClass has `allowVolumeExpansion: true`; otherwise rejected",
                ));
            }
        }
    }
}

/// Whether two claim-template lists differ only in requested storage, and
/// only upwards.
fn only_storage_grew(a: Option<&Value>, b: Option<&Value>) -> bool {
    let (Some(Value::Array(a)), Some(Value::Array(b))) = (a, b) else { return false };
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).all(|(x, y)| {
        let size = |v: &Value| {
            v.pointer("/spec/resources/requests/storage").and_then(Value::as_str).and_then(|q| quantity::parse(q).ok())
        };
        let strip = |v: &Value| {
            let mut v = v.clone();
            if let Some(r) = v.pointer_mut("/spec/resources/requests") {
                r.as_object_mut().map(|m| m.shift_remove("storage"));
            }
            v
        };
        strip(x) == strip(y) && size(x) <= size(y)
    })
}

/// A unified diff of two texts with three lines of context.
///
/// Finding the shortest diff costs about (lines of both) × (lines that
/// differ): two 40,000-line objects that differ everywhere took a minute.
/// Past [`MAX_DIFF_WORK`] the diff is the whole old text removed and the
/// whole new one added (still a valid diff, the same on every machine).
fn unified(old: &str, new: &str, old_header: &str, new_header: &str) -> String {
    let lines = old.lines().count() + new.lines().count();
    if lines.saturating_mul(unmatched_lines(old, new) + 1) > MAX_DIFF_WORK {
        let mut out = format!("--- {old_header}\n+++ {new_header}\n");
        let (o, n) = (old.lines().count(), new.lines().count());
        out.push_str(&format!("@@ -{},{o} +{},{n} @@\n", usize::from(o > 0), usize::from(n > 0)));
        for line in old.lines() {
            out.push_str(&format!("-{line}\n"));
        }
        for line in new.lines() {
            out.push_str(&format!("+{line}\n"));
        }
        return out;
    }
    TextDiff::from_lines(old, new).unified_diff().context_radius(3).header(old_header, new_header).to_string()
}

/// The most work [`unified`] spends on finding a short diff, in line
/// comparisons.
const MAX_DIFF_WORK: usize = 50_000_000;

/// Lines of either text without a copy in the other (counted with
/// repeats): no diff has fewer changes.
fn unmatched_lines(old: &str, new: &str) -> usize {
    let mut counts: HashMap<&str, isize> = HashMap::new();
    for line in old.lines() {
        *counts.entry(line).or_default() += 1;
    }
    for line in new.lines() {
        *counts.entry(line).or_default() -= 1;
    }
    counts.values().map(|c| c.unsigned_abs()).sum()
}

/// Colour a unified diff for a terminal: removals red, additions green,
/// hunk headers cyan, file headers bold.
pub fn colorize(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    for line in text.split_inclusive('\n') {
        let (start, body) = match line {
            l if l.starts_with("---") || l.starts_with("+++") => ("\x1b[1m", l),
            l if l.starts_with("@@") => ("\x1b[36m", l),
            l if l.starts_with('-') => ("\x1b[31m", l),
            l if l.starts_with('+') => ("\x1b[32m", l),
            l => ("", l),
        };
        if start.is_empty() {
            out.push_str(body);
        } else {
            let (content, newline) = body.strip_suffix('\n').map(|c| (c, "\n")).unwrap_or((body, ""));
            out.push_str(start);
            out.push_str(content);
            out.push_str("\x1b[0m");
            out.push_str(newline);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn sts(vct_storage: &str, service: &str) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "db", "namespace": "shop", "labels": {"app.kubernetes.io/name": "shop", "app.kubernetes.io/instance": "shop", "app.kubernetes.io/component": "db"}},
            "spec": {"serviceName": service, "selector": {"matchLabels": {"a": "b"}},
                "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"resources": {"requests": {"storage": vct_storage}}}}]}})
    }

    fn warnings(old: &[Value], new: &[Value]) -> Vec<String> {
        let r = compare(Side { label: "old", objects: old }, Side { label: "new", objects: new });
        r.warnings.iter().map(|d| format!("{} | {}", d.message, d.hints.join(" "))).collect()
    }

    /// Names read back from a directory are not trusted: a hint prints a
    /// command only for names Kubernetes accepts, every word quoted.
    #[test]
    fn delete_commands_are_built_from_valid_names_only() {
        let cm = |name: &str, ns: &str| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns}});
        let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "system:it's"}});
        let old = [cm("x;rm -rf ~", "shop"), cm("a", "shop$(id)"), cm("ok.name", "shop"), role];
        let hints: Vec<String> =
            warnings(&old, &[]).into_iter().map(|w| w.split(" | ").nth(1).unwrap().to_string()).collect();
        assert_eq!(
            hints,
            [
                format!("{BY_HAND}, or apply with pruning"),
                format!("{BY_HAND}, or apply with pruning"),
                "`kubectl delete configmap ok.name -n shop`, or apply with pruning".to_string(),
                "`kubectl delete clusterrole 'system:it'\\''s'`, or apply with pruning".to_string(),
            ]
        );
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("$(id)"), "'$(id)'");
        assert_eq!(shell_quote("--cascade=orphan"), "--cascade=orphan");
    }

    /// Two large objects that differ on every line: the whole of each,
    /// removed and added, rather than a minute's search for a shorter diff.
    #[test]
    fn large_diffs_that_differ_everywhere_replace_the_whole_text() {
        let text = |prefix: &str| (0..40_000).map(|i| format!("k{i}: {prefix}{i}\n")).collect::<String>();
        let (old, new) = (text("old"), text("new"));
        let out = unified(&old, &new, "a", "b");
        assert!(out.starts_with("--- a\n+++ b\n@@ -1,40000 +1,40000 @@\n-k0: old0\n"), "{}", &out[..200]);
        assert_eq!(out.lines().count(), 80_003);
        // Small ones get the shortest diff.
        assert_eq!(unified("a\nb\n", "a\nc\n", "x", "y"), "--- x\n+++ y\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n");
    }

    #[test]
    fn equal_bundles_do_not_differ() {
        let r = compare(
            Side { label: "a", objects: &[sts("1Gi", "db")] },
            Side { label: "b", objects: &[sts("1Gi", "db")] },
        );
        assert!(!r.differs());
        assert_eq!(r.text, "");
    }

    #[test]
    fn immutable_fields_are_flagged_with_what_to_do() {
        let got = warnings(&[sts("1Gi", "db")], &[sts("1Gi", "db-headless")]);
        assert_eq!(
            got,
            [
                "StatefulSet `shop/db`: `spec.serviceName` cannot change, and `kubectl apply` will be rejected | `kubectl delete statefulset db -n shop --cascade=orphan` keeps its pods and volumes; the next apply creates the StatefulSet anew and adopts them"
            ]
        );
        let got = warnings(&[sts("1Gi", "db")], &[sts("5Gi", "db")]);
        assert_eq!(got.len(), 1);
        assert!(
            got[0].contains("`spec.volumeClaimTemplates` cannot change")
                && got[0].contains("resize each claim in place"),
            "{got:?}"
        );
    }

    #[test]
    fn a_workload_that_changes_kind_is_flagged() {
        let mut deployment = sts("1Gi", "db");
        deployment["kind"] = json!("Deployment");
        let mut statefulset = sts("1Gi", "db");
        statefulset["metadata"]["name"] = json!("db-0");
        let r = compare(Side { label: "a", objects: &[deployment] }, Side { label: "b", objects: &[statefulset] });
        assert_eq!((r.changed, r.added, r.removed), (0, 1, 1));
        assert_eq!(r.warnings.len(), 1);
        assert_eq!(
            r.warnings[0].message,
            "the workload changes kind: StatefulSet `shop/db-0` replaces Deployment `shop/db`, and `kubectl apply` leaves the Deployment running beside it"
        );
        assert_eq!(
            r.warnings[0].hints,
            ["once the StatefulSet is ready: `kubectl delete deployment db -n shop` (or apply with pruning)"]
        );
    }

    /// Secrets' values are masked by value: in the Secret and wherever
    /// else they appear (a patch once copied one into an annotation).
    #[test]
    fn secret_values_are_masked_wherever_they_appear() {
        let secret = |v: &str| {
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "shop"},
                "data": {"K": k8s_openapi::ByteString(v.as_bytes().to_vec())}})
        };
        let cm = |v: &str, n: &str| {
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "shop",
                "annotations": {"copied": v, "encoded": n}}, "data": {"n": "1"}})
        };
        let old = [secret("hunter2-old"), cm("x", "y")];
        let new = [secret("hunter2-new"), cm("pw hunter2-new", "aHVudGVyMi1uZXc=")];
        let r = compare(Side { label: "a", objects: &old }, Side { label: "b", objects: &new });
        assert!(!r.text.contains("hunter2") && !r.text.contains("aHVudGVyMi1"), "{}", r.text);
        assert!(r.text.contains("copied: pw ****") && r.text.contains("K: \"*** (after)\""), "{}", r.text);
        // A change only in a masked value is reported, not shown.
        let old = [secret("hunter2-old"), cm("hunter2-old", "y")];
        let new = [secret("hunter2-new"), cm("hunter2-new", "y")];
        let r = compare(Side { label: "a", objects: &old }, Side { label: "b", objects: &new });
        assert_eq!(r.changed, 2);
        assert!(r.text.contains("@@ a Secret's value changed where it appears (masked) @@"), "{}", r.text);
        assert!(!r.text.contains("hunter2"), "{}", r.text);
    }

    #[test]
    fn claims_shrinking_and_class_changes() {
        let pvc = |size: &str, class: &str| {
            json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "files", "namespace": "shop"},
            "spec": {"storageClassName": class, "resources": {"requests": {"storage": size}}}})
        };
        let got = warnings(&[pvc("10Gi", "gp3")], &[pvc("5Gi", "io2")]);
        assert_eq!(
            got,
            [
                "PersistentVolumeClaim `shop/files`: `spec.storageClassName` cannot change, and `kubectl apply` will be rejected | a claim cannot change this: copy the data into a new claim with the new settings",
                "PersistentVolumeClaim `shop/files`: the claim shrinks, which Kubernetes does not allow | keep the size, or copy the data into a new, smaller claim",
            ]
        );
        let got = warnings(&[pvc("10Gi", "gp3")], &[]);
        assert_eq!(
            got,
            [
                "PersistentVolumeClaim `shop/files` is no longer rendered; it holds data, and stays | delete it only when the data may go: `kubectl delete persistentvolumeclaim files -n shop`"
            ]
        );
    }
}
