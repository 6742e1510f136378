//! kgen's integration tests: one binary that runs the real `kgen`.

mod batch;
mod bootstrap;
mod commands;
mod diff;
mod errors;
mod escape_hatches;
mod kustomize;
mod output;
mod profiles;
mod support;
