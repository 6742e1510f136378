//! kgen: app profiles to Kubernetes manifests. `run` is the whole program;
//! ARCHITECTURE.md maps the modules.

pub mod bootstrap;
pub mod check;
pub mod cli;
pub mod commands;
pub mod crd;
pub mod diagnostic;
pub mod diff;
pub mod extra_manifests;
pub mod files;
pub mod inputs;
pub mod kube;
pub mod model;
pub mod object;
pub mod output;
pub mod patch;
pub mod pipeline;
pub mod profile;
pub mod redact;
pub mod render;
pub mod requirements;
pub mod source;
pub mod target;
pub mod template_limits;
pub mod templates;
pub mod yaml;

use std::process::ExitCode;

use clap::Parser;

/// Parse the command line and run it.
pub fn run() -> ExitCode {
    commands::run(cli::Cli::parse())
}
