//! kgen's integration tests: one binary that runs the real `kgen`.

mod commands;
mod corpus;
mod errors;
mod out_dir;
mod output;
mod profiles;
mod properties;
mod regressions;
mod support;
