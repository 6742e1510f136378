//! The profile's `extraManifests`: YAML files rendered with minijinja (the
//! profile's values as context), parsed with kgen's own position-keeping
//! parser and checked, so that every problem points into the extra file.
//! Kinds of the object table become their k8s-openapi types with unknown
//! fields rejected; any other kind is kept as [`Generic`]. Objects without
//! a namespace go into the app's (unless their kind is cluster-wide), and
//! get kgen's labels and a sync wave like its own objects.
//!
//! This reads the files (like `inputs`, it is outside the pure render
//! core). It does not check references between objects (`check` does).

use std::collections::BTreeMap;
use std::path::PathBuf;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use minijinja::value::Serde;

use crate::check::describe;
use crate::diagnostic::Code;
use crate::diagnostic::{Diagnostic, Errors, MAX_DIAGNOSTICS, more_problems};
use crate::files;
use crate::model::App;
use crate::object::{Generic, Object};
use crate::path;
use crate::profile::load::Loaded;
use crate::render::{self, lifecycle};
use crate::source::{Source, SourceId, SourceMap, Span};
use crate::yaml::parse::{Limits, parse_all};
use crate::yaml::{self, Node, Value};

/// Kinds that live outside namespaces: an extra manifest of these kinds is
/// not put into the app's namespace. (A cluster-wide custom kind missing
/// here belongs on this list.)
pub const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "Node",
    "PersistentVolume",
    "StorageClass",
    "VolumeSnapshotClass",
    "CSIDriver",
    "RuntimeClass",
    "PriorityClass",
    "IngressClass",
    "GatewayClass",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "ClusterIssuer",
    "ClusterSecretStore",
    "ClusterExternalSecret",
];

/// The directory a bare file name is read from, beside the profile.
pub const TEMPLATES_DIR: &str = "templates";

/// Read, render, parse and check the profile's extra manifests.
/// Objects are held to `policy` (Pod Security, namespaces, cluster-wide
/// kinds, grants); what they use of what it allows comes back as warnings.
/// Files are read through `budget`: each once, and all of them within its
/// total.
pub fn load(
    loaded: &Loaded,
    app: &App,
    rendered: &[Object],
    policy: &crate::check::Policy,
    budget: &mut files::ReadBudget,
    sources: &mut SourceMap,
) -> Result<(Vec<Object>, Vec<Diagnostic>), Errors> {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let mut out: Vec<(Object, Span)> = Vec::new();
    if loaded.profile.extra_manifests.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let context = template_context(loaded, app);
    // An extra manifest, as written and as rendered, is at most what the
    // YAML parser reads.
    let max_bytes = Limits::default().max_bytes;
    for (i, entry) in loaded.profile.extra_manifests.iter().enumerate() {
        let at = path!["extraManifests", i];
        let locate = |d: Diagnostic| d.at(Some(loaded.span_of(&at))).path(loaded.display_path(&at));
        // Checked to be inside the project, then read by the path shown.
        let (file, relative) = shown_path(loaded, entry);
        let read = files::resolve_named(&loaded.dir, &relative, loaded.files_root.as_deref())
            .and_then(|_| budget.read_text_file_once(&file, max_bytes as u64));
        let text = match read {
            Ok(t) => t,
            Err(files::ReadError::SameAs(first)) => {
                let message = if first == file {
                    format!("`{}` is listed already", file.display())
                } else {
                    format!("`{}` is the same file as `{}`, listed already", file.display(), first.display())
                };
                errors.push(locate(Diagnostic::error(Code::ExtraManifest, message).hint("list each file once")));
                continue;
            }
            Err(e) => {
                let mut d =
                    Diagnostic::error(Code::ReadFile, format!("cannot read `{}`: {}", file.display(), e.reason()));
                if e.is_not_found() && !entry.contains('/') {
                    d = d.hint(format!("a bare file name is read from `{TEMPLATES_DIR}/` beside the profile; write `./{entry}` for the profile's own directory"));
                }
                if let Some(hint) = e.hint() {
                    d = d.hint(hint);
                }
                if let files::ReadError::OverBudget { .. } = e {
                    d = d.hint("extra manifests hold a few objects each; large data belongs in the image or a volume");
                }
                errors.push(locate(d));
                continue;
            }
        };
        let name = file.display().to_string();
        let original = sources.add(Source::new(name.clone(), text.clone()));
        let rendered_text = match render_template(&name, &text, &context, max_bytes) {
            Ok(t) => t,
            Err(Rendering::TooLarge(e)) => {
                let span = template_span(sources.get(original), original, &e);
                errors.push(
                    Diagnostic::error(
                        Code::ExtraManifest,
                        format!(
                            "the rendered template is larger than {}, the most kgen reads here",
                            files::format_size(max_bytes as u64)
                        ),
                    )
                    .at(Some(span))
                    .note(format!("in `extraManifests[{i}]`"))
                    .hint("a loop or a repeated string makes it this large"),
                );
                continue;
            }
            Err(Rendering::Failed(e)) => {
                let span = template_span(sources.get(original), original, &e);
                // minijinja's own wording depends on its build; undefined
                // names are the common mistake, so name them here.
                let written = e.range().and_then(|r| text.get(r)).unwrap_or_default();
                let mut d = if e.kind() == minijinja::ErrorKind::UndefinedError && !written.is_empty() {
                    Diagnostic::error(Code::Template, format!("template error: `{written}` is undefined")).hint(
                        "templates see `name`, `namespace`, `instance`, `environment`, `labels`, `components` and `profile`",
                    )
                } else {
                    let why = e.detail().map(String::from).unwrap_or_else(|| e.kind().to_string());
                    Diagnostic::error(Code::Template, format!("template error: {why}"))
                };
                d = d.at(Some(span)).note(format!("in `extraManifests[{i}]`"));
                errors.push(d);
                continue;
            }
        };
        let id = if rendered_text == text {
            original
        } else {
            sources.add(Source::new(format!("{name} (rendered)"), rendered_text))
        };
        // A file that is not YAML may be anything (a dotenv file, a key):
        // its problems are located, never shown.
        let docs = match parse_all(sources.get(id), id, &Limits::default()) {
            Ok(d) => d,
            Err(e) => {
                errors.extend(e.0.into_iter().map(Diagnostic::without_snippet));
                continue;
            }
        };
        for doc in docs.iter().filter(|d| !d.is_null()) {
            // A `v1` List holds objects, as `kubectl apply` reads it: each
            // item is an object of its own.
            let items = match doc.as_map() {
                Some(m)
                    if m.get("apiVersion").and_then(Node::as_str) == Some("v1")
                        && m.get("kind").and_then(Node::as_str) == Some("List") =>
                {
                    match m.get("items").map(|n| &n.value) {
                        Some(Value::Seq(items)) => items.iter().collect(),
                        _ => Vec::new(),
                    }
                }
                _ => vec![doc],
            };
            for item in items {
                match object(item, app, policy) {
                    Ok((o, allowed)) => {
                        let start = Span { end: item.span.start, ..item.span };
                        warnings.extend(allowed.into_iter().map(|w| w.at(Some(start))));
                        out.push((o, item.span));
                    }
                    Err(e) => errors.extend(e.0),
                }
            }
        }
    }
    let mut seen: BTreeMap<String, Span> = BTreeMap::new();
    let rendered_ids: std::collections::HashSet<String> = rendered.iter().map(Object::id).collect();
    for (o, span) in &out {
        let clash = rendered_ids.contains(&o.id());
        if clash || seen.insert(o.id(), *span).is_some() {
            let hint = if clash { "kgen renders it already: change it with `patches`" } else { "keep one of them" };
            errors.push(
                Diagnostic::error(Code::DuplicateObject, format!("{} is in the bundle already", describe(o)))
                    .at(Some(*span))
                    .hint(hint),
            );
        }
    }
    if errors.len() > MAX_DIAGNOSTICS {
        let more = errors.len() - MAX_DIAGNOSTICS;
        errors.truncate(MAX_DIAGNOSTICS);
        errors.push(more_problems(more));
    }
    if !errors.is_empty() {
        return Err(Errors(errors));
    }
    let mut objects: Vec<Object> = out.into_iter().map(|(o, _)| o).collect();
    lifecycle::finish(&mut objects);
    Ok((objects, warnings))
}

/// Where an entry of `extraManifests` is read from, as messages show it,
/// and relative to the profile's directory.
fn shown_path(loaded: &Loaded, entry: &str) -> (PathBuf, String) {
    let relative = if entry.contains('/') { entry.to_string() } else { format!("{TEMPLATES_DIR}/{entry}") };
    if std::path::Path::new(entry).is_absolute() {
        return (PathBuf::from(entry), relative);
    }
    (loaded.dir.join(&relative), relative)
}

/// What a template sees: the app's `name`, `namespace`, `instance`,
/// `environment` (`base` without one), `labels` (kgen's labels for
/// app-wide objects), `components` (by key: `name`, `image`,
/// `selectorLabels`) and `profile` (the merged profile as written).
pub fn template_context(loaded: &Loaded, app: &App) -> minijinja::Value {
    let components: BTreeMap<&str, serde_json::Value> = app
        .components
        .iter()
        .map(|c| {
            let value = serde_json::json!({
                "name": c.name,
                "image": c.image,
                "selectorLabels": render::selector_labels(app, &c.key),
            });
            (c.key.as_str(), value)
        })
        .collect();
    minijinja::context! {
        name => app.name.as_str(),
        namespace => app.namespace.as_str(),
        instance => app.instance.as_str(),
        environment => loaded.environment.as_deref().unwrap_or("base"),
        labels => Serde(render::labels(app, None)),
        components => Serde(components),
        profile => Serde(yaml::to_json(&loaded.tree)),
    }
}

/// Where in the template a minijinja error points.
fn template_span(source: &Source, id: SourceId, e: &minijinja::Error) -> Span {
    match (e.range(), e.line()) {
        (Some(r), _) => Span { source: id, start: source.pos_of_offset(r.start), end: source.pos_of_offset(r.end) },
        (None, Some(line)) => {
            let p = source.pos(line, 0);
            Span { source: id, start: p, end: p }
        }
        _ => Span { source: id, ..Span::default() },
    }
}

/// Why a template did not render.
enum Rendering {
    /// Its output passed the limit (the error says where).
    TooLarge(minijinja::Error),
    Failed(minijinja::Error),
}

/// Template output that refuses to grow past `max` bytes: minijinja
/// writes as it renders, so a loop that would print gigabytes stops there.
struct Bounded {
    text: Vec<u8>,
    max: usize,
    full: bool,
}

impl std::io::Write for Bounded {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.text.len() + bytes.len() > self.max {
            self.full = true;
            return Err(std::io::Error::other("the rendered template is too large"));
        }
        self.text.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Render a template, its output bounded by `max_bytes`. Fuel bounds the
/// instructions it runs. What one expression builds before it is written
/// is bounded by minijinja alone: it refuses to repeat a string past 100 MB
/// (`"x" * 1000000000`), but `~` (concatenation) has no bound, so a
/// template that doubles a string a few times still takes that memory.
fn render_template(name: &str, text: &str, context: &minijinja::Value, max_bytes: usize) -> Result<String, Rendering> {
    let mut env = crate::template_limits::environment();
    // Plain substitution, as in any text template: minijinja would quote
    // every value as JSON in a `.yaml` file, so `{{ name }}-extra` would
    // not be YAML. `| tojson` quotes a value where it must be.
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_fuel(Some(1_000_000));
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .keep_trailing_newline(true)
            .build()
            .expect("default delimiters are valid"),
    );
    let template = env.template_from_named_str(name, text).map_err(Rendering::Failed)?;
    let mut out = Bounded { text: Vec::new(), max: max_bytes, full: false };
    match template.render_captured_to(context, &mut out) {
        Ok(_) => Ok(String::from_utf8_lossy(&out.text).into_owned()),
        Err(e) if out.full => Err(Rendering::TooLarge(e)),
        Err(e) => Err(Rendering::Failed(e)),
    }
}

/// One document of an extra manifest as an object of the app, and the
/// warnings for what it uses of what `policy` allows.
fn object(doc: &Node, app: &App, policy: &crate::check::Policy) -> Result<(Object, Vec<Diagnostic>), Errors> {
    // Problems with the whole document point at its start.
    let start = Span { end: doc.span.start, ..doc.span };
    // Until a document has the fields of a manifest, it may be any file:
    // its problems are located, never shown.
    let Some(map) = doc.as_map() else {
        return Err(Diagnostic::error(
            Code::ExtraManifest,
            format!("a manifest is a mapping, found {}", doc.describe_kind()),
        )
        .at(Some(doc.span))
        .without_snippet()
        .into());
    };
    let mut errors = Vec::new();
    let mut text = |key: &str, hint: &str| match map.get(key) {
        Some(n) if matches!(n.value, Value::Scalar(_)) && !n.is_null() => n.as_str().map(String::from),
        Some(n) => {
            errors.push(
                Diagnostic::error(Code::ExtraManifest, format!("`{key}` must be text, found {}", n.describe()))
                    .at(Some(n.span)),
            );
            None
        }
        None => {
            errors.push(
                Diagnostic::error(Code::ExtraManifest, format!("the manifest has no `{key}`"))
                    .at(Some(start))
                    .hint(hint.to_string()),
            );
            None
        }
    };
    let api_version = text("apiVersion", "add `apiVersion`, e.g. `apiVersion: v1`");
    let kind = text("kind", "add `kind`, e.g. `kind: ConfigMap`");
    let name = match map.get("metadata").and_then(Node::as_map) {
        Some(m) => match m.get("name") {
            Some(n) if n.as_str().is_some_and(|s| !s.is_empty()) => true,
            Some(n) => {
                errors.push(Diagnostic::error(Code::ExtraManifest, "`metadata.name` must be text").at(Some(n.span)));
                false
            }
            None => {
                errors.push(
                    Diagnostic::error(Code::ExtraManifest, "the manifest has no `metadata.name`")
                        .at(Some(map.get("metadata").expect("present").span)),
                );
                false
            }
        },
        None => {
            errors.push(
                Diagnostic::error(Code::ExtraManifest, "the manifest has no `metadata` with a `name`").at(Some(start)),
            );
            false
        }
    };
    let (Some(api_version), Some(kind), true) = (api_version, kind, name) else {
        let manifest = map.get("apiVersion").is_some() || map.get("kind").is_some();
        let errors = errors.into_iter().map(|d| if manifest { d } else { d.without_snippet() });
        return Err(Errors(errors.collect()));
    };
    let ctx = yaml::de::Context::new(&[]);
    let mut object = match Object::from_node(doc, &api_version, &kind, &ctx) {
        Some(typed) => typed?,
        None => {
            let metadata_node = map.get("metadata").expect("checked above");
            let metadata: ObjectMeta = yaml::de::from_node(metadata_node, &ctx)?;
            let mut rest = match yaml::to_json(doc) {
                serde_json::Value::Object(m) => m,
                _ => unreachable!("a mapping"),
            };
            for key in ["apiVersion", "kind", "metadata"] {
                rest.shift_remove(key);
            }
            Object::Generic(Box::new(Generic { api_version, kind: kind.clone(), metadata, rest }))
        }
    };
    // Held to the profile's rule: no credential in plain text outside a
    // `v1` Secret (a custom kind named `Secret` is not one).
    {
        let leaks: Vec<Diagnostic> = crate::model::credentials::plain_text_in(&yaml::to_json(doc))
            .into_iter()
            .map(|(why, at, redact)| {
                let span = doc.span_of(&at);
                Diagnostic::error(Code::ExtraManifest, why)
                    .at(Some(span))
                    .redact(crate::diagnostic::Redaction { span, kind: redact })
                    .hint("keep credentials in a Secret and read them with `secretKeyRef` or `$(VAR)`")
            })
            .collect();
        if !leaks.is_empty() {
            return Err(Errors(leaks));
        }
    }
    // What the API server would refuse, before kgen adds to it.
    let problems = crate::check::object_problems(&object);
    if !problems.is_empty() {
        return Err(Errors(
            problems
                .into_iter()
                .map(|(d, at)| {
                    let span = if at.is_empty() { start } else { doc.span_of(&at) };
                    d.at(Some(span))
                })
                .collect(),
        ));
    }
    let cluster_scoped = CLUSTER_SCOPED.contains(&object.kind());
    let meta = object.metadata_mut();
    if cluster_scoped {
        if let Some(ns) = &meta.namespace {
            return Err(Diagnostic::error(
                Code::ExtraManifest,
                format!("a {kind} is cluster-wide and has no namespace, found `{ns}`"),
            )
            .at(Some(start))
            .into());
        }
    } else if meta.namespace.is_none() {
        meta.namespace = Some(app.namespace.clone());
    }
    meta.labels.get_or_insert_default().extend(render::labels(app, None));
    // Beyond the app's namespace and its Pod Security level only as the
    // profile allows.
    let (beyond, allowed) = crate::check::escape_hatches(&object, policy, true);
    if !beyond.is_empty() {
        return Err(Errors(beyond.into_iter().map(|(d, at)| d.at(Some(doc.span_of(&at)))).collect()));
    }
    Ok((object, allowed))
}
