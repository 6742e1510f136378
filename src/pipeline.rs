//! The whole chain for one profile: load → gather inputs → validate →
//! render → add extra manifests → apply patches → check the bundle's
//! consistency → sort. Commands call this; it adds nothing of its own.

use std::collections::HashSet;
use std::path::Path;

use crate::diagnostic::Code;
use crate::diagnostic::{Diagnostic, Errors, ValueMask};
use crate::escape_hatches::{extra_manifests, patch};
use crate::inputs::{Inputs, SecretValues};
use crate::model::{self, App, credentials};
use crate::object::{self, Object};
use crate::profile::load::{self, Loaded, Options, Parsed};
use crate::source::SourceMap;
use crate::{check, files, inputs, render};

/// A rendered profile.
#[derive(Debug)]
pub struct Rendered {
    pub loaded: Loaded,
    pub app: App,
    pub objects: Vec<Object>,
    pub warnings: Vec<Diagnostic>,
}

/// Load, validate and render a profile file, reading secret inputs from the
/// process environment.
pub fn render_file(path: &Path, options: &Options, sources: &mut SourceMap) -> Result<Rendered, Errors> {
    render_file_with(path, options, SecretValues::Real(&|name| std::env::var(name).ok()), sources)
}

/// [`render_file`] with created Secrets' values from `values`: `kgen check`
/// renders with placeholders.
pub fn render_file_with(
    path: &Path,
    options: &Options,
    values: SecretValues<'_>,
    sources: &mut SourceMap,
) -> Result<Rendered, Errors> {
    let parsed = load::parse(path, sources).map_err(|e| in_environment(e, options))?;
    render_parsed_with(&parsed, options, values, sources)
}

/// [`render_file_with`] of a profile parsed already (once for all its
/// environments); `sources` must be the map it was parsed into.
pub fn render_parsed_with(
    parsed: &Parsed,
    options: &Options,
    values: SecretValues<'_>,
    sources: &mut SourceMap,
) -> Result<Rendered, Errors> {
    let loaded = parsed.load(options, sources).map_err(|e| in_environment(e, options))?;
    let rendered = render_loaded_with(loaded, values, sources).map_err(|e| in_environment(e, options))?;
    options.target.check(&rendered.objects).map_err(|e| in_environment(e, options))?;
    Ok(rendered)
}

/// Validate and render a loaded profile, with created Secrets' values from
/// `env` and their files; extra manifests are read into `sources`.
pub fn render_loaded(
    loaded: Loaded,
    env: &dyn Fn(&str) -> Option<String>,
    sources: &mut SourceMap,
) -> Result<Rendered, Errors> {
    render_loaded_with(loaded, SecretValues::Real(env), sources)
}

/// [`render_loaded`] with created Secrets' values from `values`.
pub fn render_loaded_with(
    loaded: Loaded,
    values: SecretValues<'_>,
    sources: &mut SourceMap,
) -> Result<Rendered, Errors> {
    // What the profile's files (dotenv files, extra manifests) hold in all.
    let mut budget = files::ReadBudget::default();
    let inputs = inputs::gather(&loaded, values, &mut budget, sources)?;
    // What kgen read for the Secrets it creates appears in no message,
    // whatever went wrong where.
    let mask = ValueMask::new(created_values(&inputs));
    render_with_inputs(loaded, &inputs, &mut budget, sources)
        .map(|mut r| {
            r.warnings = r.warnings.into_iter().map(|d| d.mask_values(&mask)).collect();
            r
        })
        .map_err(|e| {
            let mut all: Vec<Diagnostic> = e.0.into_iter().map(|d| d.mask_values(&mask)).collect();
            crate::diagnostic::share_redactions(&mut all);
            Errors(all)
        })
}

/// The values read for the Secrets kgen creates (placeholders are none).
fn created_values(inputs: &Inputs) -> impl Iterator<Item = &str> {
    inputs.secret_data.values().flat_map(|data| data.values()).map(String::as_str).filter(|v| *v != inputs::PLACEHOLDER)
}

fn render_with_inputs(
    loaded: Loaded,
    inputs: &Inputs,
    budget: &mut files::ReadBudget,
    sources: &mut SourceMap,
) -> Result<Rendered, Errors> {
    let (app, mut warnings) = model::build(&loaded, inputs)?;
    let policy = check::Policy::of(&app, &loaded.profile);
    if policy.level != check::pod_security::Level::Restricted {
        let at = crate::path!["namespace", "podSecurity"];
        warnings.push(
            Diagnostic::warning(
                Code::Advice,
                format!(
                    "pods may run below the restricted Pod Security Standard: namespace `{}` allows {}",
                    app.namespace,
                    policy.level.name()
                ),
            )
            .at(Some(loaded.span_of(&at)))
            .path(loaded.display_path(&at)),
        );
    }
    let mut objects = render::render(&app);
    // The Secrets kgen creates: no patch reads or writes their values.
    let created: HashSet<String> = objects.iter().filter(|o| matches!(o, Object::Secret(_))).map(Object::id).collect();
    // Every rendered object is held to the plain-text rule, not only what
    // the model checks field by field.
    let leaks = rendered_credentials(&loaded, &objects);
    if !leaks.is_empty() {
        return Err(Errors(leaks));
    }
    // Problems with extra manifests and with patches are reported together.
    let mut errors = Vec::new();
    match extra_manifests::load(&loaded, &app, &objects, &policy, budget, sources) {
        Ok((extras, allowed)) => {
            objects.extend(extras);
            warnings.extend(allowed);
        }
        Err(e) => errors.extend(e.0),
    }
    match patch::apply(&loaded, &mut objects, &created, &policy) {
        Ok(allowed) => warnings.extend(allowed),
        Err(e) => errors.extend(e.0),
    }
    if !errors.is_empty() {
        return Err(Errors(errors));
    }
    let leaks = values_stay_in_secrets(&objects, &created, inputs);
    if !leaks.is_empty() {
        return Err(Errors(leaks));
    }
    let external = check::External::of(&app, &loaded.profile.external);
    let problems = check::check(&objects, &external, &policy);
    if !problems.is_empty() {
        let escape_hatches = !loaded.profile.patches.is_empty() || !loaded.profile.extra_manifests.is_empty();
        let note = if escape_hatches {
            "the bundle is inconsistent after the profile's patches and extra manifests"
        } else {
            "kgen rendered an inconsistent bundle from a valid profile: this is a bug in kgen, please report it"
        };
        return Err(Errors(problems.into_iter().map(|d| d.note(note)).collect()));
    }
    object::sort(&mut objects);
    Ok(Rendered { loaded, app, objects, warnings })
}

/// The bundle of `rendered` again, with the text that names its objects or
/// its namespace written as markers ([`App::marked`]): what the kustomize
/// writer compares the bundle with to find that text. The same extra
/// manifests (read again) and patches; the bundle was checked already.
pub fn render_marked(rendered: &Rendered, sources: &mut SourceMap) -> Result<Vec<Object>, Errors> {
    let loaded = &rendered.loaded;
    let policy = check::Policy::of(&rendered.app, &loaded.profile);
    let mut objects = render::render(&rendered.app.marked());
    let created: HashSet<String> = objects.iter().filter(|o| matches!(o, Object::Secret(_))).map(Object::id).collect();
    let mut budget = files::ReadBudget::default();
    let (extras, _) = extra_manifests::load(loaded, &rendered.app, &objects, &policy, &mut budget, sources)?;
    objects.extend(extras);
    patch::apply(loaded, &mut objects, &created, &policy)?;
    object::sort(&mut objects);
    Ok(objects)
}

/// Credentials written as plain text in rendered objects (the model
/// refuses those it knows the field of; this finds the rest), each located
/// at the profile's text that holds it, masked.
fn rendered_credentials(loaded: &Loaded, objects: &[Object]) -> Vec<Diagnostic> {
    use crate::diagnostic::Redaction;
    let mut out = Vec::new();
    for o in objects {
        let value = o.to_unordered_value();
        for (why, at, redact) in credentials::plain_text_in(&value) {
            let pointer: String = at
                .iter()
                .map(|s| match s {
                    crate::yaml::PathSegment::Key(k) => format!("/{}", k.replace('~', "~0").replace('/', "~1")),
                    crate::yaml::PathSegment::Index(i) => format!("/{i}"),
                })
                .collect();
            let text = value.pointer(&pointer).and_then(serde_json::Value::as_str).unwrap_or_default();
            // The profile's text that holds it: the same text, or a part.
            let written = loaded.tree.find_scalar(&|s| !s.is_empty() && s == text).or_else(|| {
                loaded.tree.find_scalar(&|s| {
                    !s.is_empty()
                        && text.contains(s)
                        && (credentials::value_problem(s).is_some() || s.starts_with("--"))
                })
            });
            let mut d = Diagnostic::error(Code::PlainCredential, format!("{why}, in {}", check::describe(o)))
                .hint("keep credentials in a Secret and read them with `secretKeyRef` or `$(VAR)`");
            if let Some(p) = written.filter(|_| !text.is_empty()) {
                let span = loaded.span_of(&p);
                d = d.at(Some(span)).path(loaded.display_path(&p)).redact(Redaction { span, kind: redact });
            }
            out.push(d);
        }
    }
    out
}

/// Values this long or longer that a created Secret holds may appear in
/// no other object (shorter ones could be there by chance: `true`, a port).
const LEAK_MIN_BYTES: usize = 8;

/// Every object but the created Secrets themselves, checked for a value
/// read for a created Secret: whatever moved it there (a rule kgen missed),
/// it would be readable by anyone who can read that object.
fn values_stay_in_secrets(objects: &[Object], created: &HashSet<String>, inputs: &Inputs) -> Vec<Diagnostic> {
    let mask = ValueMask::new(created_values(inputs).filter(|v| v.len() >= LEAK_MIN_BYTES));
    if mask.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for o in objects.iter().filter(|o| !created.contains(&o.id())) {
        let mut at = Vec::new();
        if let Some(found) = find_value(&o.to_unordered_value(), &mask, &mut at) {
            out.push(
                Diagnostic::error(Code::PlainCredential, format!(
                    "{} holds a value that kgen read for a Secret it creates, at `{}`",
                    check::describe(o),
                    found
                ))
                .hint("a created Secret's values stay in it: read them with `secretKeyRef`; a value that is there by chance is easy to guess, so generate it (`openssl rand -hex 32`)"),
            );
        }
    }
    out
}

/// The path of the first string (or key) of `value` that holds a value of
/// `mask`.
fn find_value(value: &serde_json::Value, mask: &ValueMask, at: &mut Vec<crate::yaml::PathSegment>) -> Option<String> {
    use crate::yaml::PathSegment;
    match value {
        serde_json::Value::String(s) if mask.found_in(s) => Some(crate::yaml::format_path(at)),
        serde_json::Value::Array(items) => items.iter().enumerate().find_map(|(i, v)| {
            at.push(PathSegment::Index(i));
            let found = find_value(v, mask, at);
            at.pop();
            found
        }),
        serde_json::Value::Object(map) => map.iter().find_map(|(k, v)| {
            at.push(PathSegment::Key(k.clone()));
            let found = if mask.found_in(k) { Some(crate::yaml::format_path(at)) } else { find_value(v, mask, at) };
            at.pop();
            found
        }),
        _ => None,
    }
}

/// Errors of a render in the environment `options` names, with a note
/// saying which.
pub fn in_environment(e: Errors, options: &Options) -> Errors {
    match &options.environment {
        Some(env) => e.note(format!("with environment `{env}`")),
        None => e,
    }
}
