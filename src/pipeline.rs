//! The whole chain for one profile: load → gather inputs → validate →
//! render → add extra manifests → apply patches → check the bundle's
//! consistency → sort. Commands call this; it adds nothing of its own.

use std::path::Path;

use crate::diagnostic::{Diagnostic, Errors};
use crate::inputs::SecretValues;
use crate::model::{self, App};
use crate::object::{self, Object};
use crate::profile::load::{self, Loaded, Options, Parsed};
use crate::source::SourceMap;
use crate::{check, extra_manifests, files, inputs, patch, render};

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
    let (app, warnings) = model::build(&loaded, &inputs)?;
    let mut objects = render::render(&app);
    // Problems with extra manifests and with patches are reported together.
    let mut errors = Vec::new();
    match extra_manifests::load(&loaded, &app, &objects, &mut budget, sources) {
        Ok(extras) => objects.extend(extras),
        Err(e) => errors.extend(e.0),
    }
    if let Err(e) = patch::apply(&loaded, &mut objects) {
        errors.extend(e.0);
    }
    if !errors.is_empty() {
        return Err(Errors(errors));
    }
    let external = check::External::of(&app, &loaded.profile.external);
    let problems = check::check(&objects, &external);
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

/// Errors of a render in the environment `options` names, with a note
/// saying which.
pub fn in_environment(e: Errors, options: &Options) -> Errors {
    match &options.environment {
        Some(env) => e.note(format!("with environment `{env}`")),
        None => e,
    }
}
