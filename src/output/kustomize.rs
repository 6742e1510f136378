//! The kustomization of a `--kustomize` folder: the object files as
//! resources, and what keeps the base working under the overlays teams
//! write most (`namespace`, `namePrefix`/`nameSuffix`, `images`).
//!
//! - **Text that names an object or the namespace** (a host in a URL or a
//!   script, a job or pod regex in PromQL, the dashboard's namespace, a
//!   label selector the operator's pods match) is found by comparing the
//!   bundle with its render whose text holds markers
//!   ([`crate::model::refs`]). Each such field gets a JSON patch that
//!   writes it with kustomize `vars` (`$(Service/shop/db.name)`), and its
//!   path a `varReference` in `kustomizeconfig.yaml`. kustomize resolves
//!   vars last, after every overlay's renames, so the text follows them;
//!   its `replacements` run where they are written and replace whole
//!   fields or delimited parts, so they cannot. The files stay exactly
//!   what `kgen render` prints: the patches are in the kustomization.
//! - **kgen's Jobs** (migrations, credentials) are immutable and named by
//!   a hash of what they run. An overlay's `images` changes the image and
//!   not the name, which the API server refuses. So the kustomization
//!   generates a ConfigMap per Job holding its images (an `images` field
//!   spec reaches them) and kgen's name, left out of the output
//!   (`config.kubernetes.io/local-config`), and names the Job after it
//!   (`nameReference` on the Job's `metadata/name`): the Job's name ends in
//!   kustomize's hash of its images, computed after every overlay.
//!
//! Pure: the caller writes the files.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Map, Value, json};

use crate::diagnostic::Code;
use crate::diagnostic::{Diagnostic, Errors};
use crate::model::refs::{self, Piece, Ref};
use crate::object::Object;
use crate::output::out_dir::OutFile;
use crate::render::{credentials, migrations};

/// The kustomization kgen writes.
pub const KUSTOMIZATION: &str = "kustomization.yaml";
/// Its `configurations`: field specs for kgen's vars, Jobs and images.
pub const CONFIGURATION: &str = "kustomizeconfig.yaml";

/// Whether a file of a folder is one of the kustomize files (not objects).
pub fn is_kustomize_file(name: &str) -> bool {
    name == KUSTOMIZATION || name == CONFIGURATION
}

/// The data key of a Job's image in its generated ConfigMap, by container.
fn image_key(container: &str) -> String {
    format!("image.{container}")
}

/// A Job name is a label value of its pods: at most 63 characters, with
/// `-` and kustomize's 10-character hash.
const JOB_BASE_MAX: usize = 63 - 11;

/// The files of a kustomize base over `resources` (file name and object,
/// in order). `marked` is the same bundle rendered with markers
/// ([`crate::pipeline::render_marked`]); `namespace` is the app's.
pub fn files(namespace: &str, resources: &[(String, &Object)], marked: &[Object]) -> Result<Vec<OutFile>, Errors> {
    let mut base = Base::new(namespace, resources);
    let marked: BTreeMap<String, &Object> = marked.iter().map(|o| (o.id(), o)).collect();
    for (i, (_, o)) in resources.iter().enumerate() {
        let Some(m) = marked.get(&o.id()) else { continue };
        let mut leaves = Vec::new();
        walk(&o.to_value(), &m.to_value(), &mut Vec::new(), &mut leaves);
        for (at, plain, pieces) in leaves {
            base.reference(i, &at, &plain, &pieces)?;
        }
    }
    if !base.vars.is_empty() {
        base.escape_dollars();
    }
    for (i, (_, o)) in resources.iter().enumerate() {
        base.job(i, o);
    }
    Ok(base.finish())
}

/// A step into a JSON value.
#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

/// The strings where `marked` holds markers that `plain` does not: path,
/// plain text, marked text in pieces. Other differences (a hash of marked
/// text) are not references and are left as they are.
fn walk(plain: &Value, marked: &Value, at: &mut Vec<Step>, out: &mut Vec<(Vec<Step>, String, Vec<Piece>)>) {
    match (plain, marked) {
        (Value::String(p), Value::String(m)) if p != m && refs::has_marker(m) => {
            // Unreadable markers are left to the check below.
            let pieces = refs::split(m).unwrap_or_else(|| vec![Piece::Text(m.clone())]);
            out.push((at.clone(), p.clone(), pieces));
        }
        (Value::Object(p), Value::Object(m)) => {
            for (k, v) in p {
                if let Some(w) = m.get(k) {
                    at.push(Step::Key(k.clone()));
                    walk(v, w, at, out);
                    at.pop();
                }
            }
        }
        (Value::Array(p), Value::Array(m)) if p.len() == m.len() => {
            for (n, (v, w)) in p.iter().zip(m).enumerate() {
                at.push(Step::Index(n));
                walk(v, w, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

/// The JSON pointer of a path.
fn pointer(at: &[Step]) -> String {
    at.iter()
        .map(|s| match s {
            Step::Key(k) => format!("/{}", k.replace('~', "~0").replace('/', "~1")),
            Step::Index(n) => format!("/{n}"),
        })
        .collect()
}

/// The kustomize field spec path that reaches a string: its keys, without
/// list indexes (kustomize walks lists); for an item of a list of strings
/// the list, for a value under a key with `/` (a label) its map. `None`
/// when a key on the way holds `/`, which a field spec cannot name.
fn field_spec_path(at: &[Step]) -> Option<String> {
    let mut keys: Vec<&str> = at
        .iter()
        .filter_map(|s| match s {
            Step::Key(k) => Some(k.as_str()),
            Step::Index(_) => None,
        })
        .collect();
    if matches!(at.last(), Some(Step::Key(k)) if k.contains('/')) {
        keys.pop();
    }
    (!keys.is_empty() && keys.iter().all(|k| !k.contains('/'))).then(|| keys.join("/"))
}

/// The group of an apiVersion (`apps/v1` → `apps`, `v1` → ``).
fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

fn version_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or(api_version, |(_, v)| v)
}

/// What is being built.
struct Base<'a> {
    namespace: &'a str,
    resources: &'a [(String, &'a Object)],
    /// The objects of the app's namespace by kind and name.
    index: HashMap<(&'a str, &'a str), &'a Object>,
    /// The object whose namespace the namespace's var reads: the app's
    /// ServiceAccount, or else its first object (a Job is renamed).
    anchor: Option<&'a Object>,
    /// JSON patch operations by resource index.
    ops: BTreeMap<usize, Vec<Value>>,
    /// Paths already replaced, by resource index.
    replaced: BTreeSet<(usize, String)>,
    vars: BTreeMap<String, Value>,
    /// `varReference` field specs: (group, kind, path).
    var_paths: BTreeSet<(String, String, String)>,
    /// `images` field specs: data keys of the Jobs' ConfigMaps.
    image_keys: BTreeSet<String>,
    generators: Vec<Value>,
}

impl<'a> Base<'a> {
    fn new(namespace: &'a str, resources: &'a [(String, &'a Object)]) -> Base<'a> {
        let ours = || resources.iter().map(|(_, o)| *o).filter(|o| o.namespace() == Some(namespace));
        let index = ours().map(|o| ((o.kind(), o.name()), o)).collect();
        let anchor = ours().find(|o| o.kind() == "ServiceAccount").or_else(|| ours().find(|o| o.kind() != "Job"));
        Base {
            namespace,
            resources,
            index,
            anchor,
            ops: BTreeMap::new(),
            replaced: BTreeSet::new(),
            vars: BTreeMap::new(),
            var_paths: BTreeSet::new(),
            image_keys: BTreeSet::new(),
            generators: Vec::new(),
        }
    }

    /// The var that holds what `r` names (declared on first use), or `None`
    /// when no object of the folder holds it: then the text keeps the name.
    fn var(&mut self, r: &Ref) -> Option<String> {
        let (object, field) = match r {
            Ref::Object { kind, name } => (*self.index.get(&(kind.as_str(), name.as_str()))?, "name"),
            // An overlay's `namespace` moves every object of the app's.
            Ref::Namespace => (self.anchor?, "namespace"),
        };
        let name = format!("{}.{field}", object.id());
        self.vars.entry(name.clone()).or_insert_with(|| {
            json!({
                "name": name,
                "objref": {
                    "apiVersion": object.api_version(),
                    "kind": object.kind(),
                    "name": object.name(),
                    "namespace": self.namespace,
                },
                "fieldref": {"fieldpath": format!("metadata.{field}")},
            })
        });
        Some(name)
    }

    fn replace(&mut self, i: usize, at: &[Step], value: String) -> Result<(), Errors> {
        let o = self.resources[i].1;
        let Some(path) = field_spec_path(at) else {
            return Err(bug(format!(
                "{} holds a reference at `{}`, which kustomize cannot reach",
                o.id(),
                pointer(at)
            )));
        };
        self.var_paths.insert((group_of(o.api_version()).to_string(), o.kind().to_string(), path));
        self.replaced.insert((i, pointer(at)));
        self.ops.entry(i).or_default().push(json!({"op": "replace", "path": pointer(at), "value": value}));
        Ok(())
    }

    /// The text `plain` at `at` of resource `i`, in `pieces`: written with
    /// vars for the names kustomize may change, and [`escape`]d elsewhere.
    fn reference(&mut self, i: usize, at: &[Step], plain: &str, pieces: &[Piece]) -> Result<(), Errors> {
        let mut as_plain = String::new();
        let mut value = String::new();
        for (n, piece) in pieces.iter().enumerate() {
            match piece {
                Piece::Text(t) => {
                    as_plain.push_str(t);
                    value.push_str(&escape(t, matches!(pieces.get(n + 1), Some(Piece::Ref(_)))));
                }
                Piece::Ref(r) => {
                    let name = match r {
                        Ref::Namespace => self.namespace,
                        Ref::Object { name, .. } => name.as_str(),
                    };
                    as_plain.push_str(name);
                    match self.var(r) {
                        Some(var) => value.push_str(&format!("$({var})")),
                        None => value.push_str(name),
                    }
                }
            }
        }
        if as_plain != plain {
            let o = self.resources[i].1;
            return Err(bug(format!("the marked text of {} at `{}` is not its text", o.id(), pointer(at))));
        }
        self.replace(i, at, value)
    }

    /// Once vars are declared, kustomize expands `$$` to `$` in every field
    /// a var may be in: text with `$$` is written doubled there, so that it
    /// comes out as it is.
    fn escape_dollars(&mut self) {
        let resources = self.resources;
        for (i, (_, o)) in resources.iter().enumerate() {
            let mut found = Vec::new();
            dollars(&o.to_value(), &mut Vec::new(), &mut found);
            for (at, text) in found {
                if !self.replaced.contains(&(i, pointer(&at))) && field_spec_path(&at).is_some() {
                    // Checked by field_spec_path: this cannot fail.
                    let _ = self.replace(i, &at, escape(&text, false));
                }
            }
        }
    }

    /// A Job kgen names by a hash of what it runs: named by kustomize's hash
    /// of its images instead (see the module's documentation).
    fn job(&mut self, i: usize, o: &Object) {
        let Object::Job(job) = o else { return };
        let component = job.metadata.labels.as_ref().and_then(|l| l.get("app.kubernetes.io/component"));
        if !component.is_some_and(|c| c == migrations::COMPONENT || c == credentials::COMPONENT) {
            return;
        }
        let Some((stem, _hash)) = o.name().rsplit_once('-') else { return };
        let stem: String = stem.chars().take(JOB_BASE_MAX).collect();
        let stem = stem.trim_end_matches('-').to_string();
        if self.index.contains_key(&("ConfigMap", stem.as_str())) {
            return;
        }
        let mut literals = vec![format!("job={}", o.name())];
        let spec = job.spec.as_ref().and_then(|s| s.template.spec.as_ref());
        let containers = spec.into_iter().flat_map(|s| s.init_containers.iter().flatten().chain(&s.containers));
        for c in containers {
            if let Some(image) = &c.image {
                literals.push(format!("{}={image}", image_key(&c.name)));
                self.image_keys.insert(image_key(&c.name));
            }
        }
        self.generators.push(json!({
            "name": stem,
            "namespace": o.namespace(),
            "literals": literals,
            "options": {"annotations": {"config.kubernetes.io/local-config": "true"}},
        }));
        self.ops.entry(i).or_default().push(json!({"op": "replace", "path": "/metadata/name", "value": stem}));
    }

    fn finish(self) -> Vec<OutFile> {
        let mut k = String::from(HEADER);
        k.push_str("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n");
        let resources: Vec<&str> = self.resources.iter().map(|(f, _)| f.as_str()).collect();
        let generated = !self.generators.is_empty();
        let configured = !self.var_paths.is_empty() || generated;
        let mut body = Map::new();
        body.insert("resources".into(), json!(resources));
        if configured {
            body.insert("configurations".into(), json!([CONFIGURATION]));
        }
        if !self.ops.is_empty() {
            let patches: Vec<Value> = self
                .ops
                .iter()
                .map(|(i, ops)| {
                    let o = self.resources[*i].1;
                    let mut target = Map::new();
                    let group = group_of(o.api_version());
                    if !group.is_empty() {
                        target.insert("group".into(), json!(group));
                    }
                    target.insert("version".into(), json!(version_of(o.api_version())));
                    target.insert("kind".into(), json!(o.kind()));
                    target.insert("name".into(), json!(o.name()));
                    if let Some(ns) = o.namespace() {
                        target.insert("namespace".into(), json!(ns));
                    }
                    // JSON: kustomize drops the last line break of a YAML
                    // block scalar in a patch.
                    let patch = serde_json::to_string_pretty(ops).expect("JSON values serialize");
                    json!({"target": target, "patch": patch})
                })
                .collect();
            body.insert("patches".into(), json!(patches));
        }
        if !self.vars.is_empty() {
            body.insert("vars".into(), Value::Array(self.vars.into_values().collect()));
        }
        if generated {
            body.insert("configMapGenerator".into(), Value::Array(self.generators));
        }
        crate::yaml::emit::write_document(&mut k, &Value::Object(body));
        let mut files = vec![OutFile::new(KUSTOMIZATION, k)];
        if configured {
            let mut config = Map::new();
            if !self.var_paths.is_empty() {
                let specs: Vec<Value> = self
                    .var_paths
                    .iter()
                    .map(|(group, kind, path)| {
                        let mut spec = Map::new();
                        if !group.is_empty() {
                            spec.insert("group".into(), json!(group));
                        }
                        spec.insert("kind".into(), json!(kind));
                        spec.insert("path".into(), json!(path));
                        Value::Object(spec)
                    })
                    .collect();
                config.insert("varReference".into(), json!(specs));
            }
            if generated {
                config.insert(
                    "nameReference".into(),
                    json!([{
                        "kind": "ConfigMap",
                        "version": "v1",
                        "fieldSpecs": [{"group": "batch", "kind": "Job", "path": "metadata/name"}],
                    }]),
                );
                let images: Vec<Value> = self
                    .image_keys
                    .iter()
                    .map(|key| json!({"version": "v1", "kind": "ConfigMap", "path": format!("data/{key}")}))
                    .collect();
                config.insert("images".into(), json!(images));
            }
            let mut text = String::from(CONFIGURATION_HEADER);
            crate::yaml::emit::write_document(&mut text, &Value::Object(config));
            files.push(OutFile::new(CONFIGURATION, text));
        }
        files
    }
}

/// Text as a field that kustomize expands vars in writes it: there `$$`
/// is `$` and `$(` starts a var, so a `$` before `$` or `(` (or before a
/// var, when `var_follows`) is doubled.
fn escape(text: &str, var_follows: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '$' {
            let next = chars.peek().copied().or(var_follows.then_some('$'));
            if matches!(next, Some('$' | '(')) {
                out.push('$');
            }
        }
    }
    out
}

/// Strings holding `$$`, with their paths.
fn dollars(v: &Value, at: &mut Vec<Step>, out: &mut Vec<(Vec<Step>, String)>) {
    match v {
        Value::String(s) if s.contains("$$") => out.push((at.clone(), s.clone())),
        Value::Object(m) => {
            for (k, w) in m {
                at.push(Step::Key(k.clone()));
                dollars(w, at, out);
                at.pop();
            }
        }
        Value::Array(items) => {
            for (n, w) in items.iter().enumerate() {
                at.push(Step::Index(n));
                dollars(w, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

fn bug(message: String) -> Errors {
    Diagnostic::error(Code::WriteFile, format!("cannot write the kustomization: {message}"))
        .note("this is a bug in kgen, please report it; without --kustomize the folder is written")
        .into()
}

const HEADER: &str = "\
# Written by kgen: a kustomize base of the files beside it. Overlays may set
# `namespace`, `namePrefix`/`nameSuffix` and `images`. Text that names the
# bundle's objects or its namespace (hosts, URLs, scripts, PromQL, the
# dashboard) is written by the patches below with `vars`, which kustomize
# resolves after every overlay (it warns that vars are deprecated: its
# `replacements` cannot follow an overlay's renames). kgen's Jobs are named
# after a ConfigMap kustomize generates from their images and leaves out,
# so that an overlay's `images` makes new Jobs.
";

const CONFIGURATION_HEADER: &str = "\
# Written by kgen: where kustomize finds the vars of kustomization.yaml,
# the name of each Job (its generated ConfigMap's) and the Jobs' images.
";

#[cfg(test)]
mod tests {
    use super::*;

    /// kustomize's expansion of text without vars (its `expansion.Expand`).
    fn expand(text: &str) -> String {
        let mut out = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match (c, chars.peek()) {
                ('$', Some('$')) => {
                    chars.next();
                    out.push('$');
                }
                _ => out.push(c),
            }
        }
        out
    }

    #[test]
    fn escaped_text_expands_to_itself() {
        for text in ["plain", "$HOME ${x} $(cat f) $$ $", "a$$(b)", "$", "$$$", "x$("] {
            assert_eq!(expand(&escape(text, false)), text, "{text}");
        }
        assert_eq!(escape("$namespace ${x}", false), "$namespace ${x}");
        assert_eq!(escape("$(cat f) $$", false), "$$(cat f) $$$");
        // Before a var, a last `$` is doubled: `$$(var)` would be no var.
        assert_eq!(escape("cost: $", true), "cost: $$");
    }

    #[test]
    fn field_specs_reach_strings_lists_and_label_maps() {
        let key = |k: &str| Step::Key(k.to_string());
        let at = [key("spec"), key("containers"), Step::Index(0), key("command"), Step::Index(2)];
        assert_eq!(field_spec_path(&at).as_deref(), Some("spec/containers/command"));
        let at = [key("spec"), key("selector"), key("matchLabels"), key("cnpg.io/cluster")];
        assert_eq!(field_spec_path(&at).as_deref(), Some("spec/selector/matchLabels"));
        let at = [key("data"), key("app.json")];
        assert_eq!(field_spec_path(&at).as_deref(), Some("data/app.json"));
        assert_eq!(pointer(&[key("a/b"), key("c~d"), Step::Index(1)]), "/a~1b/c~0d/1");
    }
}
