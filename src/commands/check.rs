//! `kgen check`: validate profiles in every environment (or the one given)
//! and report every problem, with the same checks as `kgen render` (objects
//! two profiles both render included); prints one line per profile and
//! environment, then what the cluster must provide (`requirements`), or
//! all of it as JSON. Each profile is read and parsed once for all its
//! environments.

use std::path::PathBuf;

use super::{Exit, Messages, Reporter, profile_paths, write_stdout};
use crate::cli::{CheckArgs, CheckFormat};
use crate::inputs::SecretValues;
use crate::pipeline;
use crate::profile::load::{self, Options};
use crate::requirements::{self, Requirement};

pub fn run(args: CheckArgs, reporter: &mut Reporter) -> Exit {
    let mut failed = false;
    let mut summary = String::new();
    let mut messages = Messages::default();
    // (profile, environment, object ids) of every render, for duplicates.
    let mut rendered: Vec<(PathBuf, String, Vec<String>)> = Vec::new();
    // (profile, environment, ok, objects), for JSON.
    let mut results: Vec<serde_json::Value> = Vec::new();
    // Per profile: each requirement with the environments that have it.
    let mut needs: Vec<ProfileNeeds> = Vec::new();
    for path in profile_paths(&args.profiles) {
        let parsed = match load::parse(&path, &mut reporter.sources) {
            Ok(p) => p,
            Err(e) => {
                reporter.report(&e.0);
                failed = true;
                continue;
            }
        };
        let environments: Vec<Option<String>> = match &args.profile.env {
            Some(env) => vec![Some(env.clone())],
            None => {
                // The base with `--set` must load before its environments are
                // worth checking (its problems would repeat in each).
                let base = Options { environment: None, sets: args.profile.sets.clone(), ..Options::default() };
                let mark = reporter.sources.len();
                if let Err(e) = parsed.load(&base, &mut reporter.sources) {
                    reporter.report(&e.0);
                    failed = true;
                    continue;
                }
                reporter.sources.truncate(mark);
                std::iter::once(None).chain(parsed.environments().map(|e| Some(e.to_string()))).collect()
            }
        };
        // What each render adds to the sources (extra manifests, `--set`)
        // is dropped once its diagnostics are printed.
        let mark = reporter.sources.len();
        let mut profile_needs: Vec<(Requirement, Vec<String>)> = Vec::new();
        let checked = environments.len();
        for env in environments {
            let options = match args.profile.options(env.clone()) {
                Ok(o) => o,
                Err(e) => {
                    reporter.report(&e.0);
                    return Exit::Usage;
                }
            };
            let label = env.as_deref().unwrap_or("base");
            // Nothing is printed: created Secrets get placeholder values,
            // so that no secret has to be at hand to check a profile.
            let values = SecretValues::Placeholders;
            let show = |diagnostics: &[crate::diagnostic::Diagnostic], reporter: &Reporter| -> Vec<String> {
                diagnostics.iter().map(|d| d.render_as(&reporter.sources, reporter.format())).collect()
            };
            match pipeline::render_parsed_with(&parsed, &options, values, &mut reporter.sources) {
                Ok(r) => {
                    messages.add(label, &show(&r.warnings, reporter));
                    summary.push_str(&format!("ok    {} ({label}): {} objects\n", path.display(), r.objects.len()));
                    results.push(serde_json::json!({
                        "profile": path.display().to_string(), "environment": label, "ok": true, "objects": r.objects.len(),
                    }));
                    let generated: Vec<String> = r.app.generated_secrets().into_iter().map(|s| s.name).collect();
                    for need in requirements::of(&r.objects, &generated) {
                        match profile_needs.iter_mut().find(|(n, _)| *n == need) {
                            Some((_, envs)) => envs.push(label.to_string()),
                            None => profile_needs.push((need, vec![label.to_string()])),
                        }
                    }
                    let ids = r.objects.iter().map(crate::object::Object::id).collect();
                    rendered.push((path.clone(), label.to_string(), ids));
                }
                Err(e) => {
                    messages.add(label, &show(&e.0, reporter));
                    summary.push_str(&format!("error {} ({label})\n", path.display()));
                    results.push(serde_json::json!({
                        "profile": path.display().to_string(), "environment": label, "ok": false,
                    }));
                    failed = true;
                }
            }
            reporter.sources.truncate(mark);
        }
        messages.flush(reporter);
        profile_needs.sort();
        needs.push(ProfileNeeds { path: path.clone(), environments: checked, needs: profile_needs });
    }
    let renders: Vec<super::Rendered> =
        rendered.iter().map(|(path, environment, ids)| super::Rendered { path, environment, ids }).collect();
    let duplicates = super::duplicate_objects(&renders);
    if !duplicates.is_empty() {
        reporter.report(&duplicates);
        failed = true;
    }
    let code = match args.output {
        CheckFormat::Text => write_stdout(&(summary + &needs_text(&needs))),
        CheckFormat::Json => write_stdout(&needs_json(results, &needs, failed)),
    };
    if failed { Exit::Problems } else { code }
}

/// A profile's requirements, each with the environments that have it.
struct ProfileNeeds {
    path: PathBuf,
    /// How many environments were checked.
    environments: usize,
    needs: Vec<(Requirement, Vec<String>)>,
}

/// What each profile needs from the cluster, with the environments that
/// need it when not all of them do, and how to provide it.
fn needs_text(needs: &[ProfileNeeds]) -> String {
    let mut out = String::new();
    for profile in needs.iter().filter(|p| !p.needs.is_empty()) {
        out.push_str(&format!("\n{} needs from the cluster:\n", profile.path.display()));
        for (need, environments) in &profile.needs {
            out.push_str(&format!("  {}", need.describe()));
            if environments.len() < profile.environments {
                out.push_str(&format!(" [{}]", environments.join(", ")));
            }
            out.push('\n');
            for line in need.provide.lines() {
                out.push_str(&format!("      {line}\n"));
            }
        }
    }
    out
}

fn needs_json(results: Vec<serde_json::Value>, needs: &[ProfileNeeds], failed: bool) -> String {
    let requirements: Vec<serde_json::Value> = needs
        .iter()
        .flat_map(|profile| {
            profile.needs.iter().map(move |(need, environments)| {
                let mut v = serde_json::to_value(need).expect("requirements serialise");
                v["profile"] = profile.path.display().to_string().into();
                v["environments"] = environments.clone().into();
                v
            })
        })
        .collect();
    let doc = serde_json::json!({"ok": !failed, "renders": results, "requirements": requirements});
    let mut text = serde_json::to_string_pretty(&doc).expect("JSON serialises");
    text.push('\n');
    text
}
