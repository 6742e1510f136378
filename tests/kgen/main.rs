//! kgen's integration tests: one binary that runs the real `kgen`.

mod batch;
mod commands;
mod errors;
mod escape_hatches;
mod kustomize;
mod monitoring;
mod output;
mod profiles;
mod support;
