//! The whole chain for one profile: load → gather inputs → validate →
//! render → check the bundle's consistency. Commands call this; it adds
//! nothing of its own.

use std::path::Path;

use crate::diagnostic::{Diagnostic, Errors};
use crate::model::{self, App};
use crate::object::Object;
use crate::profile::load::{self, Loaded, Options};
use crate::source::SourceMap;
use crate::{check, inputs, render};

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
    let loaded = load::load(path, options, sources).map_err(|e| in_environment(e, options))?;
    render_loaded(loaded, &|name| std::env::var(name).ok()).map_err(|e| in_environment(e, options))
}

/// Validate and render a loaded profile.
pub fn render_loaded(loaded: Loaded, env: &dyn Fn(&str) -> Option<String>) -> Result<Rendered, Errors> {
    let inputs = inputs::gather(&loaded, env)?;
    let (app, warnings) = model::build(&loaded, &inputs)?;
    let objects = render::render(&app);
    let external = check::External::of(&app, &loaded.profile.external);
    let problems = check::check(&objects, &external);
    if !problems.is_empty() {
        let note = "kgen rendered an inconsistent bundle from a valid profile: this is a bug in kgen, please report it";
        return Err(Errors(problems.into_iter().map(|d| d.note(note)).collect()));
    }
    Ok(Rendered { loaded, app, objects, warnings })
}

fn in_environment(e: Errors, options: &Options) -> Errors {
    match &options.environment {
        Some(env) => e.note(format!("with environment `{env}`")),
        None => e,
    }
}
