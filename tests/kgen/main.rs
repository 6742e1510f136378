//! kgen's integration tests: one binary that runs the real `kgen`.

mod batch;
mod bootstrap;
mod commands;
mod corpus;
mod diff;
mod docs;
mod errors;
mod escape_hatches;
mod flags;
mod kustomize;
mod monitoring;
mod out_dir;
mod output;
mod profiles;
mod properties;
mod regressions;
mod runtime;
mod schema;
mod support;
mod text_refs;
