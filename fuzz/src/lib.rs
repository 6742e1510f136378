//! The fuzz harness: one input through parse, environments, `--set`,
//! validation and rendering, with the invariants that must hold whatever
//! the input. A panic (or an `assert!` here) is a finding.
//!
//! Input format: the profile text, then optionally `\0`-separated `--set`
//! arguments (at most 4), so the fuzzer reaches the `--set` parser too.

use kgen::stages::{self, Options, SourceMap, load_text};

/// Environment variables a created Secret may read.
fn env(name: &str) -> Option<String> {
    (name.len() < 64 && name.starts_with(|c: char| c.is_ascii_uppercase())).then(|| format!("value-of-{name}"))
}

/// Run one fuzz input.
pub fn check(data: &[u8]) {
    let mut parts = data.split(|&b| b == 0);
    let profile = parts.next().unwrap_or_default();
    let sets: Vec<String> = parts.take(4).map(|s| String::from_utf8_lossy(s).into_owned()).collect();
    let Ok(text) = std::str::from_utf8(profile) else {
        return;
    };
    let base = Options { environment: None, sets: sets.clone(), ..Options::default() };
    let mut sources = SourceMap::default();
    let environments = match load_text("fuzz.yaml", text.to_string(), &base, &mut sources) {
        Ok(loaded) => {
            let envs = loaded.environments.clone();
            render(loaded, &mut sources);
            envs
        }
        Err(errors) => {
            check_errors(&errors, &sources);
            return;
        }
    };
    for env in environments.into_iter().take(3) {
        let options = Options { environment: Some(env), sets: sets.clone(), ..Options::default() };
        let mut sources = SourceMap::default();
        match load_text("fuzz.yaml", text.to_string(), &options, &mut sources) {
            Ok(loaded) => render(loaded, &mut sources),
            Err(errors) => check_errors(&errors, &sources),
        }
    }
}

fn render(loaded: stages::Loaded, sources: &mut SourceMap) {
    match kgen::pipeline::render_loaded(loaded, &env, sources) {
        Ok(rendered) => {
            let yaml = stages::to_yaml(&rendered.objects);
            let _ = stages::to_json(&rendered.objects);
            // What kgen writes, kgen's own strict reader reads back.
            let mut out = SourceMap::default();
            let id = out.add(stages::Source::new("out.yaml", yaml));
            let limits = stages::Limits { max_bytes: usize::MAX, max_depth: 64, max_nodes: usize::MAX };
            if let Err(e) = stages::parse_all(out.get(id), id, &limits) {
                panic!("rendered YAML does not parse: {e}\n{}", out.get(id).text);
            }
        }
        Err(errors) => check_errors(&errors, sources),
    }
}

/// Every failure has at least one error with a message, and renders.
fn check_errors(errors: &stages::Errors, sources: &SourceMap) {
    assert!(errors.0.iter().any(|d| d.is_error()), "failure without an error");
    for d in &errors.0 {
        assert!(!d.message.trim().is_empty(), "empty message");
        let _ = d.render(sources, false);
    }
}
