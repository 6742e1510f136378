//! kgen: app profiles to Kubernetes manifests. `run` is the whole program;
//! ARCHITECTURE.md maps the modules.
//!
//! The library's public face is [`run`] and [`pipeline`] (with
//! [`pipeline::stages`], each stage of a render). The public modules besides
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
pub(crate) mod extra_manifests;
pub(crate) mod files;
pub mod inputs;
pub(crate) mod kube;
pub mod model;
pub mod object;
pub mod output;
pub(crate) mod patch;
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
