//! kgen: app profiles to Kubernetes manifests. `run` is the whole program;
//! ARCHITECTURE.md maps the modules.
//!
//! The library's public face is [`run`], [`pipeline`] (the whole chain)
//! and [`stages`] (each stage of a render). The public modules besides
//! are those the integration tests reach into (typed custom resources,
//! credential rules, the YAML emitter's plain-scalar rule, `--out-dir`'s
//! list); the rest are the crate's own.

pub(crate) mod bootstrap;
pub mod check;
pub(crate) mod cli;
pub(crate) mod commands;
pub mod crd;
pub(crate) mod diagnostic;
pub(crate) mod diff;
pub(crate) mod escape_hatches;
pub(crate) mod files;
pub mod inputs;
pub(crate) mod kube;
pub mod model;
pub mod object;
pub mod output;
pub mod pipeline;
// The profile's doc comments are the JSON Schema's descriptions (`kgen
// schema`, docs/reference.md): text for users of the profile, written
// for editors, not rustdoc.
#[allow(
    rustdoc::broken_intra_doc_links,
    rustdoc::invalid_html_tags,
    rustdoc::bare_urls,
    reason = "doc comments here are JSON Schema descriptions"
)]
pub mod profile;
pub(crate) mod redact;
pub mod render;
pub(crate) mod requirements;
pub mod source;
pub(crate) mod target;
pub(crate) mod template_limits;
pub(crate) mod templates;
pub mod yaml;

use std::process::ExitCode;

use clap::Parser;

/// Parse the command line and run it.
pub fn run() -> ExitCode {
    commands::run(cli::Cli::parse())
}

/// The stages of a render, in order, as one public face of the library:
/// what the benchmarks time one by one, the fuzz target drives and the
/// tests call in process (the whole chain is [`pipeline::render_loaded`]).
/// The crate root is above every layer (ARCHITECTURE.md, "Layers"), so
/// it may gather them.
pub mod stages {
    // 1. Parse, merge the environment and `--set`, deserialize.
    pub use crate::profile::load::{Loaded, Options, load, load_text};
    pub use crate::source::{Source, SourceMap};
    // 2. Values from outside the profile.
    pub use crate::inputs::{Inputs, SecretValues};
    // 3. Validate: `Profile` → `App`.
    pub use crate::model::{App, build};
    // 4. Render: `App` → objects.
    pub use crate::render::render;
    // 5. The profile's patches, then the consistency check and the
    //    install order.
    pub use crate::check::{External, Policy, check};
    pub use crate::escape_hatches::patch::apply as apply_patches;
    pub use crate::object::{Object, sort};
    // 6. Serialise, and read back.
    pub use crate::output::{to_json, to_yaml};
    pub use crate::yaml::parse::{Limits, parse_all};
    // What a failed stage returns.
    pub use crate::diagnostic::{Diagnostic, Errors};
}
