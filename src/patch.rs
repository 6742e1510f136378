//! The profile's `patches`, applied to rendered objects: RFC 6902 JSON
//! Patch, and merge patches that merge lists of containers, env, ports,
//! volumes and mounts item by item by `name` (where plain RFC 7386 would
//! replace the whole list). A patched object is checked again as its
//! Kubernetes type, unknown fields included, and every problem points at
//! the patch in the profile.
//!
//! Pure: no IO. It does not decide what is consistent across objects
//! (`check` does, after the patches).

use serde_json::Value;

use crate::check::describe;
use crate::diagnostic::{Diagnostic, Errors, did_you_mean};
use crate::object::Object;
use crate::path;
use crate::profile::load::Loaded;
use crate::profile::{JsonPatchOp, JsonPatchOperation};
use crate::yaml::{self, PathSegment};

/// Lists that a merge patch merges item by item, by `name`.
pub const MERGED_BY_NAME: &[&str] = &["containers", "initContainers", "env", "ports", "volumes", "volumeMounts"];

/// Apply the profile's patches, in order, to the objects.
pub fn apply(loaded: &Loaded, objects: &mut [Object]) -> Result<(), Errors> {
    let mut errors = Vec::new();
    for (i, patch) in loaded.profile.patches.iter().enumerate() {
        let at = |rest: &[PathSegment]| -> Vec<PathSegment> {
            let mut p = path!["patches", i].to_vec();
            p.extend_from_slice(rest);
            p
        };
        let locate = |d: Diagnostic, p: &[PathSegment]| d.at(Some(loaded.span_of(p))).path(loaded.display_path(p));
        let target = &patch.target;
        let matching: Vec<usize> = objects
            .iter()
            .enumerate()
            .filter(|(_, o)| o.kind() == target.kind && o.name() == target.name)
            .map(|(n, _)| n)
            .collect();
        if matching.is_empty() {
            errors.push(locate(unknown_target(objects, &target.kind, &target.name), &at(&path!["target"])));
            continue;
        }
        if patch.json.is_empty() && patch.merge.is_none() {
            errors.push(locate(
                Diagnostic::error("the patch changes nothing").hint("add `json` operations or a `merge` patch"),
                &at(&[]),
            ));
            continue;
        }
        for n in matching {
            let object = &objects[n];
            let mut value = object.to_unordered_value();
            let mut failed = false;
            for (j, op) in patch.json.iter().enumerate() {
                if let Err((why, field)) = apply_operation(&mut value, op) {
                    errors.push(
                        locate(Diagnostic::error(why), &at(&path!["json", j, field]))
                            .note(format!("in {}", describe(object))),
                    );
                    failed = true;
                    break;
                }
            }
            if let Some(merge) = patch.merge.as_ref().filter(|_| !failed) {
                let mut where_ = at(&path!["merge"]);
                if let Err(why) = merge_patch(&mut value, merge, None, &mut where_) {
                    errors.push(locate(Diagnostic::error(why), &where_).note(format!("in {}", describe(object))));
                    failed = true;
                }
            }
            if failed {
                continue;
            }
            // A patch is held to the profile's rule: no credential in plain text.
            for (why, object_path) in crate::model::credentials::plain_text_in(&value) {
                let p = locate_in_patch(loaded, i, &object_path);
                errors.push(
                    locate(Diagnostic::error(why), &p)
                        .hint("keep credentials in a Secret and read them with `secretKeyRef` or `$(VAR)`")
                        .note(format!("in {} after `patches[{i}]`", describe(object))),
                );
                failed = true;
            }
            if failed {
                continue;
            }
            match revalidate(object, value) {
                Ok(patched) => objects[n] = patched,
                Err(problems) => {
                    for (d, object_path) in problems {
                        let p = locate_in_patch(loaded, i, &object_path);
                        let on_key = d.message.starts_with("unknown field") && p.len() > 2;
                        let span = if on_key { loaded.key_span_of(&p) } else { loaded.span_of(&p) };
                        let note = format!("in {} after `patches[{i}]`", describe(&objects[n]));
                        errors.push(d.at(Some(span)).path(loaded.display_path(&p)).note(note));
                    }
                }
            }
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(Errors(errors)) }
}

fn unknown_target(objects: &[Object], kind: &str, name: &str) -> Diagnostic {
    let d = Diagnostic::error(format!("the patch targets {kind} `{name}`, which is not in the bundle"));
    let same_kind: Vec<&str> = objects.iter().filter(|o| o.kind() == kind).map(Object::name).collect();
    if same_kind.is_empty() {
        let kinds: std::collections::BTreeSet<&str> = objects.iter().map(Object::kind).collect();
        return match did_you_mean(kind, kinds.iter().copied()) {
            Some(k) => d.hint(format!("did you mean kind `{k}`?")),
            None => d.hint(format!("the bundle has {}", kinds.into_iter().collect::<Vec<_>>().join(", "))),
        };
    }
    match did_you_mean(name, same_kind.iter().copied()) {
        Some(m) => d.hint(format!("did you mean `{m}`?")),
        None => d.hint(format!("{kind} objects in the bundle: {}", same_kind.join(", "))),
    }
}

/// The patched value as an object of the same kind, checked as its
/// Kubernetes type; problems come with their path in the object.
fn revalidate(original: &Object, value: Value) -> Result<Object, Vec<(Diagnostic, Vec<PathSegment>)>> {
    let kind = value.get("kind").and_then(Value::as_str).unwrap_or_default();
    let api_version = value.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
    if kind != original.kind() || api_version != original.api_version() {
        return Err(vec![(
            Diagnostic::error("a patch cannot change an object's apiVersion or kind")
                .hint("add the other object with `extraManifests` instead"),
            Vec::new(),
        )]);
    }
    if !Object::is_typed_kind(api_version, kind) {
        return Object::from_json(value).map_err(|why| vec![(Diagnostic::error(why), Vec::new())]);
    }
    let node = yaml::from_json(&value, Default::default());
    let ctx = yaml::de::Context::new(&[]);
    let typed = Object::from_node(&node, api_version, kind, &ctx).expect("a kind of the table");
    typed.map_err(|e| {
        e.0.into_iter()
            .map(|mut d| {
                let p = d.path.take().map(|p| yaml::parse_path(&p)).unwrap_or_default();
                d.span = None;
                (d, p)
            })
            .collect()
    })
}

/// Where in the profile a problem at `object_path` of a patched object
/// comes from: the deepest node of the merge patch or of the last JSON
/// operation that wrote there, or else the patch itself.
fn locate_in_patch(loaded: &Loaded, i: usize, object_path: &[PathSegment]) -> Vec<PathSegment> {
    let patch = &loaded.profile.patches[i];
    let base = path!["patches", i].to_vec();
    if patch.merge.is_some() && !object_path.is_empty() {
        let mut p = base.clone();
        p.push("merge".into());
        let first = p.iter().cloned().chain(std::iter::once(object_path[0].clone())).collect::<Vec<_>>();
        if loaded.tree.lookup(&first).is_some() {
            p.extend_from_slice(object_path);
            return deepest(loaded, p);
        }
    }
    for (j, op) in patch.json.iter().enumerate().rev() {
        let Ok(tokens) = pointer(&op.path) else { continue };
        let prefix = tokens.len() <= object_path.len()
            && tokens.iter().zip(object_path).all(|(t, s)| match s {
                PathSegment::Key(k) => t == k,
                PathSegment::Index(n) => t == &n.to_string() || t == "-",
            });
        if prefix && op.value.is_some() {
            let mut p = base.clone();
            p.extend(path!["json", j, "value"]);
            p.extend_from_slice(&object_path[tokens.len()..]);
            return deepest(loaded, p);
        }
    }
    base
}

/// The longest prefix of `p` that exists in the profile (so that an
/// unknown key's own span is found).
fn deepest(loaded: &Loaded, mut p: Vec<PathSegment>) -> Vec<PathSegment> {
    while !p.is_empty() && loaded.tree.lookup(&p).is_none() {
        p.pop();
    }
    p
}

/// A JSON Pointer's reference tokens (RFC 6901).
pub fn pointer(text: &str) -> Result<Vec<String>, String> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = text.strip_prefix('/') else {
        return Err(format!("`{text}` is not a JSON Pointer: it must start with `/`"));
    };
    Ok(rest.split('/').map(|t| t.replace("~1", "/").replace("~0", "~")).collect())
}

fn show(tokens: &[String]) -> String {
    if tokens.is_empty() {
        return "the object".into();
    }
    let escaped: Vec<String> = tokens.iter().map(|t| t.replace('~', "~0").replace('/', "~1")).collect();
    format!("`/{}`", escaped.join("/"))
}

/// Apply one RFC 6902 operation; on failure, why and which field of the
/// operation is at fault.
pub fn apply_operation(doc: &mut Value, op: &JsonPatchOperation) -> Result<(), (String, &'static str)> {
    let Some(kind) = op.op else {
        return Err(("the operation has no `op`: add, remove, replace, move, copy or test".into(), "op"));
    };
    let tokens = pointer(&op.path).map_err(|e| (e, "path"))?;
    let value = || op.value.clone().ok_or_else(|| (format!("`{kind:?}` needs a `value`").to_lowercase(), "op"));
    let from = || -> Result<Vec<String>, (String, &'static str)> {
        let f = op.from.as_deref().ok_or_else(|| (format!("`{kind:?}` needs a `from` path").to_lowercase(), "op"))?;
        pointer(f).map_err(|e| (e, "from"))
    };
    match kind {
        JsonPatchOp::Add => add(doc, &tokens, value()?).map_err(|e| (e, "path")),
        JsonPatchOp::Remove => remove(doc, &tokens).map(drop).map_err(|e| (e, "path")),
        JsonPatchOp::Replace => {
            let v = value()?;
            let slot = get_mut(doc, &tokens).map_err(|e| (e, "path"))?;
            *slot = v;
            Ok(())
        }
        JsonPatchOp::Move => {
            let from = from()?;
            if tokens.len() > from.len() && tokens[..from.len()] == from[..] {
                return Err(("cannot move a value into itself".into(), "path"));
            }
            let v = remove(doc, &from).map_err(|e| (e, "from"))?;
            add(doc, &tokens, v).map_err(|e| (e, "path"))
        }
        JsonPatchOp::Copy => {
            let from = from()?;
            let v = get_mut(doc, &from).map_err(|e| (e, "from"))?.clone();
            add(doc, &tokens, v).map_err(|e| (e, "path"))
        }
        JsonPatchOp::Test => {
            let expected = value()?;
            let actual = get_mut(doc, &tokens).map_err(|e| (e, "path"))?;
            if *actual == expected {
                Ok(())
            } else {
                Err((format!("test failed: {} is {actual}, not {expected}", show(&tokens)), "value"))
            }
        }
    }
}

fn get_mut<'a>(doc: &'a mut Value, tokens: &[String]) -> Result<&'a mut Value, String> {
    let mut node = doc;
    for (depth, t) in tokens.iter().enumerate() {
        let here = &tokens[..depth];
        node = match node {
            Value::Object(m) => {
                if !m.contains_key(t) {
                    let mut why = format!("{} does not exist: {} has no `{t}`", show(&tokens[..=depth]), show(here));
                    if let Some(m) = did_you_mean(t, m.keys().map(String::as_str)) {
                        why.push_str(&format!(" (did you mean `{m}`?)"));
                    }
                    return Err(why);
                }
                m.get_mut(t).expect("checked above")
            }
            Value::Array(items) => {
                let len = items.len();
                let index = list_index(t, here)?;
                items.get_mut(index).ok_or_else(|| {
                    format!("{} does not exist: {} has {len} item(s)", show(&tokens[..=depth]), show(here))
                })?
            }
            other => {
                return Err(format!(
                    "{} does not exist: {} is {}, not a mapping or list",
                    show(&tokens[..=depth]),
                    show(here),
                    describe_value(other)
                ));
            }
        };
    }
    Ok(node)
}

fn list_index(token: &str, list: &[String]) -> Result<usize, String> {
    let digits =
        !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit()) && (token == "0" || !token.starts_with('0'));
    if !digits {
        return Err(format!("{} is a list: `{token}` is not an index", show(list)));
    }
    token.parse().map_err(|_| format!("index `{token}` is too large"))
}

fn describe_value(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn add(doc: &mut Value, tokens: &[String], value: Value) -> Result<(), String> {
    let Some((last, parent)) = tokens.split_last() else {
        *doc = value;
        return Ok(());
    };
    match get_mut(doc, parent)? {
        Value::Object(m) => {
            m.insert(last.clone(), value);
            Ok(())
        }
        Value::Array(items) => {
            let index = if last == "-" { items.len() } else { list_index(last, parent)? };
            if index > items.len() {
                return Err(format!("{} has {} item(s): cannot add at index {index}", show(parent), items.len()));
            }
            items.insert(index, value);
            Ok(())
        }
        other => Err(format!("cannot add to {}: it is {}", show(parent), describe_value(other))),
    }
}

fn remove(doc: &mut Value, tokens: &[String]) -> Result<Value, String> {
    let Some((last, parent)) = tokens.split_last() else {
        return Err("cannot remove the whole object".into());
    };
    // Reuse get_mut's messages for a missing target.
    get_mut(doc, tokens)?;
    match get_mut(doc, parent)? {
        Value::Object(m) => Ok(m.shift_remove(last).expect("checked above")),
        Value::Array(items) => Ok(items.remove(list_index(last, parent)?)),
        _ => unreachable!("get_mut found a child"),
    }
}

/// Merge `patch` into `target` (RFC 7386, with name-merged lists). On
/// failure, `at` is the profile path of the offending part of the patch.
pub fn merge_patch(
    target: &mut Value,
    patch: &Value,
    key: Option<&str>,
    at: &mut Vec<PathSegment>,
) -> Result<(), String> {
    match patch {
        Value::Object(fields) => {
            if !target.is_object() {
                *target = Value::Object(Default::default());
            }
            let map = target.as_object_mut().expect("made an object");
            for (k, v) in fields {
                if v.is_null() {
                    map.shift_remove(k);
                    continue;
                }
                at.push(PathSegment::Key(k.clone()));
                merge_patch(map.entry(k.clone()).or_insert(Value::Null), v, Some(k), at)?;
                at.pop();
            }
            Ok(())
        }
        Value::Array(items) if key.is_some_and(|k| MERGED_BY_NAME.contains(&k)) && target.is_array() => {
            let list = target.as_array_mut().expect("checked");
            for (n, item) in items.iter().enumerate() {
                at.push(PathSegment::Index(n));
                let Some(name) = item.get("name").and_then(Value::as_str) else {
                    return Err(format!(
                        "items of `{}` are merged by `name`, and this one has none",
                        key.unwrap_or_default()
                    ));
                };
                match list.iter_mut().find(|existing| existing.get("name").and_then(Value::as_str) == Some(name)) {
                    Some(existing) => merge_patch(existing, item, None, at)?,
                    None => {
                        let mut fresh = Value::Null;
                        merge_patch(&mut fresh, item, None, at)?;
                        list.push(fresh);
                    }
                }
                at.pop();
            }
            Ok(())
        }
        other => {
            *target = without_nulls(other);
            Ok(())
        }
    }
}

/// A replacing value: `null` in a merge patch removes a key, so a mapping
/// that replaces carries none.
fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            Value::Object(m.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), without_nulls(v))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn op(op: JsonPatchOp, path: &str, value: Option<Value>, from: Option<&str>) -> JsonPatchOperation {
        JsonPatchOperation { op: Some(op), path: path.into(), value, from: from.map(String::from) }
    }

    /// RFC 6902 appendix A, the cases that matter for objects.
    #[test]
    fn json_patch_operations() {
        use JsonPatchOp::*;
        let cases: Vec<(Value, JsonPatchOperation, Result<Value, &str>)> = vec![
            (json!({"a": 1}), op(Add, "/b", Some(json!(2)), None), Ok(json!({"a": 1, "b": 2}))),
            (json!({"l": [1, 3]}), op(Add, "/l/1", Some(json!(2)), None), Ok(json!({"l": [1, 2, 3]}))),
            (json!({"l": [1]}), op(Add, "/l/-", Some(json!(2)), None), Ok(json!({"l": [1, 2]}))),
            (json!({"a": 1, "b": 2}), op(Remove, "/a", None, None), Ok(json!({"b": 2}))),
            (json!({"a": {"b/c": 1}}), op(Replace, "/a/b~1c", Some(json!(2)), None), Ok(json!({"a": {"b/c": 2}}))),
            (json!({"a": 1}), op(Move, "/b", None, Some("/a")), Ok(json!({"b": 1}))),
            (json!({"a": [1]}), op(Copy, "/b", None, Some("/a")), Ok(json!({"a": [1], "b": [1]}))),
            (json!({"a": 1}), op(Test, "/a", Some(json!(1)), None), Ok(json!({"a": 1}))),
            (json!({"a": 1}), op(Test, "/a", Some(json!(2)), None), Err("test failed: `/a` is 1, not 2")),
            (
                json!({"spec": {}}),
                op(Remove, "/spec/x", None, None),
                Err("`/spec/x` does not exist: `/spec` has no `x`"),
            ),
            (
                json!({"spec": {"replicas": 1}}),
                op(Replace, "/spec/replica", Some(json!(2)), None),
                Err("`/spec/replica` does not exist: `/spec` has no `replica` (did you mean `replicas`?)"),
            ),
            (
                json!({"l": [1]}),
                op(Add, "/l/5", Some(json!(2)), None),
                Err("`/l` has 1 item(s): cannot add at index 5"),
            ),
            (
                json!({"a": 1}),
                op(Add, "a", Some(json!(2)), None),
                Err("`a` is not a JSON Pointer: it must start with `/`"),
            ),
            (json!({"a": "x"}), op(Add, "/a/b", Some(json!(2)), None), Err("cannot add to `/a`: it is a string")),
        ];
        for (mut doc, operation, expected) in cases {
            let got = apply_operation(&mut doc, &operation).map(|()| doc).map_err(|(why, _)| why);
            assert_eq!(got, expected.map_err(String::from), "{operation:?}");
        }
    }

    #[test]
    fn merge_patch_merges_named_lists_and_replaces_others() {
        let mut doc = json!({"spec": {"containers": [
            {"name": "web", "image": "a:1", "env": [{"name": "A", "value": "1"}], "args": ["x"]},
            {"name": "side", "image": "s:1"}
        ]}});
        let patch = json!({"spec": {"containers": [
            {"name": "web", "env": [{"name": "B", "value": "2"}, {"name": "A", "value": "9"}], "args": ["y"], "image": null}
        ], "priorityClassName": "high"}});
        merge_patch(&mut doc, &patch, None, &mut Vec::new()).unwrap();
        assert_eq!(
            doc,
            json!({"spec": {"containers": [
                {"name": "web", "env": [{"name": "A", "value": "9"}, {"name": "B", "value": "2"}], "args": ["y"]},
                {"name": "side", "image": "s:1"}
            ], "priorityClassName": "high"}})
        );
        let mut at = Vec::new();
        let err = merge_patch(&mut doc, &json!({"spec": {"containers": [{"image": "x"}]}}), None, &mut at).unwrap_err();
        assert_eq!(err, "items of `containers` are merged by `name`, and this one has none");
        assert_eq!(yaml::format_path(&at), "spec.containers[0]");
    }
}
