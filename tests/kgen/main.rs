//! kgen's integration tests: one binary that runs the real `kgen`.

mod batch;
mod bootstrap;
mod code_map;
mod commands;
mod corpus;
mod diagnostics;
mod diff;
mod docs;
mod escape_hatches;
mod flags;
mod kustomize;
mod layers;
mod monitoring;
mod out_dir;
mod output;
mod profiles;
mod properties;
mod regressions;
mod runtime;
mod schema;
mod secret_stores;
mod support;
mod text_refs;
