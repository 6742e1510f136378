//! Property tests: random valid profiles render, deterministically, into
//! objects that round-trip through k8s-openapi, carry valid names, refer
//! only to what exists, keep created secrets inside Secret objects, and read
//! back the same through a YAML 1.2 and a YAML 1.1 reader; random mutations
//! of them never make kgen panic.
//!
//! Case counts are moderate by default; `KGEN_PROPTEST_CASES=N` sets the
//! number of valid profiles (mutations get four times as many), e.g.
//! `KGEN_PROPTEST_CASES=2000 cargo test --release properties`.

mod consistency;
mod generate;
mod yaml_text;

use std::collections::BTreeMap;
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::{Command, Stdio};

use kgen::object::Object;
use kgen::profile::load::{Options, load_text};
use kgen::source::SourceMap;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde::Deserialize;
use serde_json::Value;

use crate::support::python_with_pyyaml;

fn cases(default: u32) -> u32 {
    std::env::var("KGEN_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() })
}

/// One render in process: Ok((objects, the app, warnings)) or the rendered
/// diagnostics.
fn render(
    text: &str,
    env: Option<&str>,
    sets: &[String],
    vars: &BTreeMap<String, String>,
) -> Result<(Vec<Object>, kgen::model::App, Vec<String>), String> {
    let mut sources = SourceMap::default();
    let options = Options { environment: env.map(String::from), sets: sets.to_vec(), ..Options::default() };
    let lookup = |name: &str| vars.get(name).cloned();
    let result = load_text("case.yaml", text.to_string(), &options, &mut sources)
        .and_then(|loaded| kgen::pipeline::render_loaded(loaded, &lookup, &mut sources));
    match result {
        Ok(r) => {
            let warnings = r.warnings.iter().map(|d| d.render(&sources, false)).collect();
            Ok((r.objects, r.app, warnings))
        }
        Err(e) => Err(e.0.iter().map(|d| d.render(&sources, false)).collect::<Vec<_>>().join("\n")),
    }
}

/// The object read back into its k8s-openapi type and written again.
fn round_trip(value: &Value) -> Result<Value, String> {
    use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
    use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
    use k8s_openapi::api::batch::v1::{CronJob, Job};
    use k8s_openapi::api::core::v1::{ConfigMap, Namespace, PersistentVolumeClaim, Secret, Service, ServiceAccount};
    use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
    use k8s_openapi::api::policy::v1::PodDisruptionBudget;
    use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
    use k8s_openapi::api::storage::v1::StorageClass;
    fn again<T: for<'de> Deserialize<'de> + serde::Serialize>(v: &Value) -> Result<Value, String> {
        let typed = T::deserialize(v).map_err(|e| e.to_string())?;
        serde_json::to_value(typed).map_err(|e| e.to_string())
    }
    match value["kind"].as_str().unwrap_or("") {
        "Namespace" => again::<Namespace>(value),
        "ServiceAccount" => again::<ServiceAccount>(value),
        "ConfigMap" => again::<ConfigMap>(value),
        "Secret" => again::<Secret>(value),
        "Service" => again::<Service>(value),
        "Deployment" => again::<Deployment>(value),
        "StatefulSet" => again::<StatefulSet>(value),
        "NetworkPolicy" => again::<NetworkPolicy>(value),
        "PodDisruptionBudget" => again::<PodDisruptionBudget>(value),
        "HorizontalPodAutoscaler" => again::<HorizontalPodAutoscaler>(value),
        "Job" => again::<Job>(value),
        "CronJob" => again::<CronJob>(value),
        "PersistentVolumeClaim" => again::<PersistentVolumeClaim>(value),
        "StorageClass" => again::<StorageClass>(value),
        "Ingress" => again::<Ingress>(value),
        "Role" => again::<Role>(value),
        "RoleBinding" => again::<RoleBinding>(value),
        other => Err(format!("add {other} to the property tests' round trip")),
    }
    .map(|mut v| {
        // Typed values serialize in field order; compare as sets of fields.
        sort_keys(&mut v);
        v
    })
}

fn sort_keys(v: &mut Value) {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(String, Value)> = std::mem::take(m).into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            for (k, mut val) in entries {
                sort_keys(&mut val);
                m.insert(k, val);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(sort_keys),
        _ => {}
    }
}

fn check_case(case: &generate::Case, yaml_1_1: &mut Vec<(String, Value)>) -> Result<(), TestCaseError> {
    let text = yaml_text::to_yaml(&case.profile, case.style_seed);
    let envs: Vec<Option<&str>> =
        std::iter::once(None).chain(case.environments.iter().map(|e| Some(e.as_str()))).collect();
    for env in envs {
        let fail =
            |what: String| TestCaseError::fail(format!("{what}\nenvironment {env:?}, --set {:?}\n{text}", case.sets));
        let (objects, app, warnings) = render(&text, env, &case.sets, &case.env_vars).map_err(fail)?;
        let values: Vec<Value> = objects.iter().map(Object::to_value).collect();
        let yaml = kgen::output::to_yaml(&objects);

        // Deterministic: the whole pipeline again gives the same bytes.
        let again = render(&text, env, &case.sets, &case.env_vars).map_err(fail)?;
        if kgen::output::to_yaml(&again.0) != yaml {
            return Err(fail("two renders differ".into()));
        }
        // Every object round-trips through its Kubernetes type.
        for v in &values {
            let mut expected = v.clone();
            sort_keys(&mut expected);
            let back = round_trip(v).map_err(|e| fail(format!("{}: {e}", v["kind"])))?;
            if back != expected {
                return Err(fail(format!("{}/{} does not round-trip", v["kind"], v["metadata"]["name"])));
            }
        }
        // Names are valid and references resolve.
        let problems = consistency::check(&values, &consistency::External::of(&app));
        if !problems.is_empty() {
            return Err(fail(format!("inconsistent bundle:\n{}\n{yaml}", problems.join("\n"))));
        }
        // Created secrets stay inside Secret objects and out of messages.
        let outside: String = objects.iter().filter(|o| o.kind() != "Secret").map(kgen::output::object_yaml).collect();
        for (var, value) in &case.env_vars {
            if outside.contains(value.as_str()) || warnings.iter().any(|w| w.contains(value.as_str())) {
                return Err(fail(format!("the value of {var} appears outside its Secret")));
            }
        }
        // The settings come through unchanged.
        if env.is_none() {
            let data = values
                .iter()
                .find(|v| v["kind"] == "ConfigMap" && v["metadata"]["name"] == app.name)
                .map(|cm| cm["data"].clone())
                .unwrap_or(Value::Null);
            let expected: Value = if case.expected_settings.is_empty() {
                Value::Null
            } else {
                serde_json::to_value(&case.expected_settings).unwrap()
            };
            if data != expected {
                return Err(fail(format!("ConfigMap data {data} != settings {expected}")));
            }
        }
        // A YAML 1.2 reader reads what kgen wrote as the same values.
        let read: Vec<Value> = serde_yaml::Deserializer::from_str(&yaml)
            .map(|d| Value::deserialize(d).map_err(|e| fail(format!("serde_yaml: {e}\n{yaml}"))))
            .collect::<Result<_, _>>()?;
        if read != values {
            return Err(fail(format!("serde_yaml reads different values from\n{yaml}")));
        }
        yaml_1_1.push((yaml, Value::Array(values)));
    }
    Ok(())
}

#[test]
fn valid_profiles_render_deterministically_into_valid_consistent_objects() {
    let outputs = std::cell::RefCell::new(Vec::new());
    let mut runner = runner(cases(48));
    let result = runner.run(&generate::case(), |case| {
        let mut mine = Vec::new();
        let r = check_case(&case, &mut mine);
        if r.is_ok() {
            outputs.borrow_mut().extend(mine);
        }
        r
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    check_with_yaml_1_1(&outputs.borrow());
}

/// PyYAML (a YAML 1.1 reader, like kubectl's) reads every output as the
/// same values; one Python process for all of them.
fn check_with_yaml_1_1(outputs: &[(String, Value)]) {
    let Some(python) = python_with_pyyaml() else {
        return;
    };
    let script = r#"
import sys, json, yaml
out = []
for text in json.load(sys.stdin):
    try:
        out.append([d for d in yaml.safe_load_all(text)])
    except Exception as e:
        out.append({"error": str(e)})
json.dump(out, sys.stdout, default=lambda o: {"not JSON": repr(o)})
"#;
    let mut child = Command::new(python)
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python runs");
    let texts: Vec<&str> = outputs.iter().map(|(t, _)| t.as_str()).collect();
    let input = serde_json::to_vec(&texts).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "python failed");
    let read: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(read.len(), outputs.len());
    for ((text, expected), got) in outputs.iter().zip(&read) {
        assert_eq!(got, expected, "PyYAML reads this differently:\n{text}");
    }
}

/// Ways to break a profile's text.
const GARBAGE: &[&str] = &[
    ":",
    "- ",
    "{",
    "}",
    "[",
    "]",
    ",",
    "&a ",
    "*a",
    "*b",
    "<<: *a",
    "\t",
    "\"",
    "'",
    "\n  ",
    "\n",
    "---\n",
    "!!str ",
    "!!int ",
    "!x ",
    "#",
    "? ",
    "|",
    ">-",
    "%YAML 1.2\n",
    "\u{0}",
    "\u{feff}",
    "é",
    "null",
    "~",
    "-1",
    "99999999999999999999",
    "1e400",
    ".inf",
    "yes",
    "[a, b]",
    "{a: 1}",
    "{a: 1, a: 2}",
    "\\",
    "=",
    "\r\n",
    "    ",
];

/// `--set` arguments that are wrong in every way.
const BAD_SETS: &[&str] = &[
    "a..b=1",
    "[0]=x",
    "=",
    "\\",
    "replicas",
    "replicas=-1",
    "replicas=[",
    "image.tag=",
    "image=",
    "image={tag: [1]}",
    "ports.http=99999",
    "ports[0]=1",
    "components.x[5]=1",
    "settings=[a, {b: c}]",
    "settings.=x",
    "env.X={secret: nope}",
    "namespace.create=yes",
    "labels.a\\.b\\=c=d",
    "environments.prod.replicas=2",
    "probes.liveness.command=[]",
    "secrets.s.create.fromFile=/dev/null",
    "é.ü=ö",
];

/// Apply one mutation, chosen by `kind`, at the position `at` (a fraction of
/// the text), to the profile's text.
fn mutate_text(text: &str, kind: u8, at: u32, pick: usize) -> String {
    let mut bytes = text.as_bytes().to_vec();
    let pos = if bytes.is_empty() { 0 } else { (at as usize) % (bytes.len() + 1) };
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let line = if lines.is_empty() { 0 } else { (at as usize) % lines.len() };
    match kind % 8 {
        0 => bytes.truncate(pos),
        1 => {
            let g = GARBAGE[pick % GARBAGE.len()];
            bytes.splice(pos..pos, g.bytes());
        }
        2 if !bytes.is_empty() => {
            bytes.remove(pos.min(bytes.len() - 1));
        }
        3 if !lines.is_empty() => {
            // Duplicate a line: duplicate keys at every level.
            let mut l = lines.clone();
            l.insert(line, lines[line]);
            return l.concat();
        }
        4 if !lines.is_empty() => {
            let mut l = lines.clone();
            l.remove(line);
            return l.concat();
        }
        5 if lines.len() > 1 => {
            let mut l = lines.clone();
            l.swap(line, (line + pick) % lines.len());
            return l.concat();
        }
        6 if !bytes.is_empty() => {
            // A random byte, UTF-8 or not.
            let p = pos.min(bytes.len() - 1);
            bytes[p] = (pick % 256) as u8;
        }
        _ => {
            // Indent or dedent a line.
            if !lines.is_empty() {
                let mut l: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
                if pick.is_multiple_of(2) {
                    l[line].insert_str(0, "  ");
                } else {
                    l[line] = l[line].trim_start().to_string();
                }
                return l.concat();
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Apply one mutation to the profile's tree: delete a key, change a value's
/// type, or swap two scalars.
fn mutate_tree(v: &mut Value, kind: u8, pick: usize) {
    let mut paths = Vec::new();
    collect_paths(v, &mut Vec::new(), &mut paths);
    if paths.is_empty() {
        return;
    }
    let path = paths[pick % paths.len()].clone();
    let replacement = match kind % 6 {
        0 => None,
        1 => Some(Value::String("not the right type".into())),
        2 => Some(serde_json::json!([1, "two", {"three": 3}])),
        3 => Some(serde_json::json!({"unexpected": {"nested": true}})),
        4 => Some(serde_json::json!(-42)),
        _ => {
            let other = paths[(pick / 7 + 1) % paths.len()].clone();
            get(v, &other).cloned()
        }
    };
    set(v, &path, replacement);
}

fn collect_paths(v: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    if let Value::Object(m) = v {
        for (k, child) in m {
            at.push(k.clone());
            out.push(at.clone());
            collect_paths(child, at, out);
            at.pop();
        }
    }
}

fn get<'a>(v: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(k))
}

fn set(v: &mut Value, path: &[String], value: Option<Value>) {
    let Some((last, parent)) = path.split_last() else { return };
    let mut node = v;
    for k in parent {
        match node.get_mut(k) {
            Some(n) => node = n,
            None => return,
        }
    }
    if let Some(m) = node.as_object_mut() {
        match value {
            Some(val) => {
                m.insert(last.clone(), val);
            }
            None => {
                m.remove(last);
            }
        }
    }
}

/// Load and render a (probably broken) profile in every environment it
/// names; panics are caught and reported, errors must say something.
fn never_panics(text: &str, sets: &[String], vars: &BTreeMap<String, String>) -> Result<(), String> {
    let attempt = catch_unwind(AssertUnwindSafe(|| -> Result<(), String> {
        let mut sources = SourceMap::default();
        let base = Options { environment: None, sets: sets.to_vec(), ..Options::default() };
        let mut envs = vec![None];
        if let Ok(l) = load_text("case.yaml", text.to_string(), &base, &mut sources) {
            envs.extend(l.environments.into_iter().take(2).map(Some));
        }
        for env in envs {
            let mut sources = SourceMap::default();
            let options = Options { environment: env, sets: sets.to_vec(), ..Options::default() };
            let lookup = |name: &str| vars.get(name).cloned();
            let result = load_text("case.yaml", text.to_string(), &options, &mut sources)
                .and_then(|loaded| kgen::pipeline::render_loaded(loaded, &lookup, &mut sources));
            match result {
                Ok(r) => {
                    let _ = kgen::output::to_yaml(&r.objects);
                }
                Err(e) => {
                    if !e.0.iter().any(|d| d.is_error()) {
                        return Err("a failure without an error".into());
                    }
                    for d in &e.0 {
                        if d.message.trim().is_empty() {
                            return Err("an error without a message".into());
                        }
                        let _ = d.render(&sources, false);
                    }
                }
            }
        }
        Ok(())
    }));
    match attempt {
        Ok(r) => r,
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(format!("panicked: {message}"))
        }
    }
}

#[test]
fn mutated_profiles_never_panic() {
    let mutations = proptest::collection::vec((any::<bool>(), any::<u8>(), any::<u32>(), any::<usize>()), 1..4);
    let mut runner = runner(cases(48) * 4);
    let result = runner.run(&(generate::case(), mutations), |(case, mutations)| {
        let mut profile = case.profile.clone();
        let mut tree_mutated = false;
        for &(on_tree, kind, _, pick) in &mutations {
            if on_tree {
                mutate_tree(&mut profile, kind, pick);
                tree_mutated = true;
            }
        }
        let mut text = yaml_text::to_yaml(&profile, case.style_seed);
        for &(on_tree, kind, at, pick) in &mutations {
            if !on_tree || !tree_mutated {
                text = mutate_text(&text, kind, at, pick);
            }
        }
        let mut sets = case.sets.clone();
        if let Some(&(_, kind, _, pick)) = mutations.first()
            && kind % 3 == 0
        {
            sets.push(BAD_SETS[pick % BAD_SETS.len()].to_string());
        }
        never_panics(&text, &sets, &case.env_vars).map_err(|e| TestCaseError::fail(format!("{e}\n{sets:?}\n{text}")))
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
