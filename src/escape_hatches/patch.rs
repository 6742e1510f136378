//! The profile's `patches`, applied to rendered objects: RFC 6902 JSON
//! Patch, and merge patches that merge lists of containers, env, ports,
//! volumes and mounts item by item by `name` (where plain RFC 7386 would
//! replace the whole list). A patched object is checked again as its
//! Kubernetes type, unknown fields included, and every problem points at
//! the patch in the profile.
//!
//! Pure: no IO. It does not decide what is consistent across objects
//! (`check` does, after the patches).

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use crate::check::describe;
use crate::diagnostic::Code;
use crate::diagnostic::{Diagnostic, Errors, MAX_DIAGNOSTICS, Redaction, did_you_mean, more_problems};
use crate::object::Object;
use crate::path;
use crate::profile::load::Loaded;
use crate::profile::{JsonPatchOp, JsonPatchOperation};
use crate::yaml::parse::Limits;
use crate::yaml::{self, PathSegment};

/// Lists that a merge patch merges item by item, by `name`.
pub const MERGED_BY_NAME: &[&str] = &["containers", "initContainers", "env", "ports", "volumes", "volumeMounts"];

/// Apply the profile's patches, in order, to the objects. `created` are the
/// ids ([`Object::id`]) of the Secrets kgen creates: their values are read
/// from kgen's environment or files, and no patch reads or writes them.
/// Patched objects are held to `policy` (Pod Security, namespaces, grants);
/// what they use of what it allows comes back as warnings.
pub fn apply(
    loaded: &Loaded,
    objects: &mut [Object],
    created: &std::collections::HashSet<String>,
    policy: &crate::check::Policy,
) -> Result<Vec<Diagnostic>, Errors> {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    // Objects by kind and name, so that each patch finds its targets in
    // constant time (thousands of patches on thousands of objects).
    let mut by_id: HashMap<(String, String), Vec<usize>> = HashMap::new();
    for (n, o) in objects.iter().enumerate() {
        by_id.entry((o.kind().to_string(), o.name().to_string())).or_default().push(n);
    }
    // Kinds and names for the hints of a target that is not there, built
    // once if needed.
    let mut names_by_kind: Option<BTreeMap<String, Vec<String>>> = None;
    for (i, patch) in loaded.profile.patches.iter().enumerate() {
        let at = |rest: &[PathSegment]| -> Vec<PathSegment> {
            let mut p = path!["patches", i].to_vec();
            p.extend_from_slice(rest);
            p
        };
        let locate = |d: Diagnostic, p: &[PathSegment]| d.at(Some(loaded.span_of(p))).path(loaded.display_path(p));
        let target = &patch.target;
        let matching: Vec<usize> = by_id.get(&(target.kind.clone(), target.name.clone())).cloned().unwrap_or_default();
        if matching.is_empty() {
            if errors.len() >= MAX_DIAGNOSTICS {
                // Not shown: the hint's search is not worth its time.
                errors.push(Diagnostic::error(Code::Patch, "the patch targets an object that is not in the bundle"));
                continue;
            }
            let names = names_by_kind.get_or_insert_with(|| {
                let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
                for o in objects.iter() {
                    m.entry(o.kind().to_string()).or_default().push(o.name().to_string());
                }
                m
            });
            errors.push(locate(unknown_target(names, &target.kind, &target.name), &at(&path!["target"])));
            continue;
        }
        if patch.json.is_empty() && patch.merge.is_none() {
            errors.push(locate(
                Diagnostic::error(Code::Patch, "the patch changes nothing")
                    .hint("add `json` operations or a `merge` patch"),
                &at(&[]),
            ));
            continue;
        }
        for n in matching {
            let object = &objects[n];
            // kgen's Namespace carries the Pod Security labels the pods are
            // held to: it changes through the profile only.
            if matches!(object, Object::Namespace(_)) && object.name() == policy.namespace {
                errors.push(locate(
                    Diagnostic::error(
                        Code::Patch,
                        format!("a patch cannot change {}, which kgen creates for the app", describe(object)),
                    )
                    .hint(
                        "set `namespace.name`, `namespace.podSecurity`, `namespace.labels` or `namespace.annotations`",
                    ),
                    &at(&path!["target"]),
                ));
                continue;
            }
            if created.contains(&object.id()) {
                let refused = secret_values_touched(patch);
                for (why, p) in &refused {
                    let hint = format!(
                        "its values come from `secrets.{}.create` (`fromEnv` or `fromFile`); a patch may change its metadata only",
                        object.name()
                    );
                    errors.push(
                        locate(Diagnostic::error(Code::Patch, why.clone()).hint(hint), &at(p))
                            .note(format!("in {}", describe(object))),
                    );
                }
                if !refused.is_empty() {
                    continue;
                }
            }
            let mut patched = Patched::new(object.to_unordered_value(), &Limits::default());
            let mut failed = false;
            for (j, op) in patch.json.iter().enumerate() {
                if let Err((why, field)) = apply_operation(&mut patched, op) {
                    errors.push(
                        locate(Diagnostic::error(Code::Patch, why), &at(&path!["json", j, field]))
                            .note(format!("in {}", describe(object))),
                    );
                    failed = true;
                    break;
                }
            }
            let mut value = patched.value;
            if let Some(merge) = patch.merge.as_ref().filter(|_| !failed) {
                let mut where_ = at(&path!["merge"]);
                if let Err(why) = merge_patch(&mut value, merge, None, &mut where_) {
                    errors.push(
                        locate(Diagnostic::error(Code::Patch, why), &where_).note(format!("in {}", describe(object))),
                    );
                    failed = true;
                }
            }
            if failed {
                continue;
            }
            // A patch is held to the profile's rule: no credential in plain text.
            for (why, object_path, kind) in crate::model::credentials::plain_text_in(&value) {
                let p = locate_in_patch(loaded, i, &object_path);
                let span = loaded.span_of(&p);
                errors.push(
                    locate(Diagnostic::error(Code::Patch, why).redact(Redaction { span, kind }), &p)
                        .hint("keep credentials in a Secret and read them with `secretKeyRef` or `$(VAR)`")
                        .note(format!("in {} after `patches[{i}]`", describe(object))),
                );
                failed = true;
            }
            if failed {
                continue;
            }
            // What the API server would refuse, as for any object.
            let revalidated = revalidate(object, value).and_then(|patched| {
                let mut problems = crate::check::object_problems(&patched);
                let (beyond, allowed) = crate::check::escape_hatches(&patched, policy, false);
                problems.extend(beyond);
                if problems.is_empty() { Ok((patched, allowed)) } else { Err(problems) }
            });
            match revalidated {
                Ok((patched, allowed)) => {
                    let note = format!("after `patches[{i}]`");
                    warnings.extend(allowed.into_iter().map(|w| locate(w, &at(&[])).note(note.clone())));
                    if patched.name() != objects[n].name() {
                        // Later patches find it by its new name.
                        let kind = patched.kind().to_string();
                        if let Some(list) = by_id.get_mut(&(kind.clone(), objects[n].name().to_string())) {
                            list.retain(|&m| m != n);
                        }
                        let list = by_id.entry((kind, patched.name().to_string())).or_default();
                        let at = list.partition_point(|&m| m < n);
                        list.insert(at, n);
                        names_by_kind = None;
                    }
                    objects[n] = patched;
                }
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
    if errors.len() > MAX_DIAGNOSTICS {
        let more = errors.len() - MAX_DIAGNOSTICS;
        errors.truncate(MAX_DIAGNOSTICS);
        errors.push(more_problems(more));
    }
    if errors.is_empty() { Ok(warnings) } else { Err(Errors(errors)) }
}

/// The parts of a Secret that hold its values.
const SECRET_VALUES: &[&str] = &["data", "stringData"];

/// Why each operation of `patch` is refused on a Secret kgen creates, with
/// its path in the patch: reading a value (`test` is an oracle for
/// guesses, `copy` and `move` carry values out) or writing one (plain
/// text from the profile). Removing a key reads and writes nothing.
fn secret_values_touched(patch: &crate::profile::Patch) -> Vec<(String, Vec<PathSegment>)> {
    // The whole object, or a path into its values.
    let touches = |pointer_text: &str| match pointer(pointer_text) {
        Ok(tokens) => tokens.first().is_none_or(|t| SECRET_VALUES.contains(&t.as_str())),
        Err(_) => false,
    };
    let mut out = Vec::new();
    for (j, op) in patch.json.iter().enumerate() {
        let from = op.from.as_deref().filter(|f| touches(f));
        let why = match op.op {
            Some(JsonPatchOp::Test) if touches(&op.path) => Some((
                "`test` cannot read the values of a Secret kgen creates: it would tell whether a guess is right",
                "path",
            )),
            Some(JsonPatchOp::Copy | JsonPatchOp::Move) if from.is_some() => {
                Some(("a patch cannot copy or move the values of a Secret kgen creates", "from"))
            }
            Some(JsonPatchOp::Add | JsonPatchOp::Replace | JsonPatchOp::Copy | JsonPatchOp::Move)
                if touches(&op.path) =>
            {
                Some(("a patch cannot write the values of a Secret kgen creates", "path"))
            }
            _ => None,
        };
        if let Some((why, field)) = why {
            out.push((why.to_string(), path!["json", j, field].to_vec()));
        }
    }
    match &patch.merge {
        Some(Value::Object(fields)) => {
            for key in SECRET_VALUES.iter().filter(|k| fields.contains_key(**k)) {
                out.push((
                    "a patch cannot write the values of a Secret kgen creates".into(),
                    path!["merge", *key].to_vec(),
                ));
            }
        }
        Some(_) => {
            out.push(("a patch cannot write the values of a Secret kgen creates".into(), path!["merge"].to_vec()))
        }
        None => {}
    }
    out
}

fn unknown_target(names_by_kind: &BTreeMap<String, Vec<String>>, kind: &str, name: &str) -> Diagnostic {
    let d = Diagnostic::error(Code::Patch, format!("the patch targets {kind} `{name}`, which is not in the bundle"));
    let Some(same_kind) = names_by_kind.get(kind) else {
        let kinds = names_by_kind.keys().map(String::as_str);
        return match did_you_mean(kind, kinds.clone()) {
            Some(k) => d.hint(format!("did you mean kind `{k}`?")),
            None => d.hint(format!("the bundle has {}", crate::diagnostic::short_list(kinds))),
        };
    };
    match did_you_mean(name, same_kind.iter().map(String::as_str)) {
        Some(m) => d.hint(format!("did you mean `{m}`?")),
        None => d.hint(format!(
            "{kind} objects in the bundle: {}",
            crate::diagnostic::short_list(same_kind.iter().map(String::as_str))
        )),
    }
}

/// The patched value as an object of the same kind, checked as its
/// Kubernetes type; problems come with their path in the object.
fn revalidate(original: &Object, value: Value) -> Result<Object, Vec<(Diagnostic, Vec<PathSegment>)>> {
    let kind = value.get("kind").and_then(Value::as_str).unwrap_or_default();
    let api_version = value.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
    if kind != original.kind() || api_version != original.api_version() {
        return Err(vec![(
            Diagnostic::error(Code::Patch, "a patch cannot change an object's apiVersion or kind")
                .hint("add the other object with `extraManifests` instead"),
            Vec::new(),
        )]);
    }
    if !Object::is_typed_kind(api_version, kind) {
        return Object::from_json(value).map_err(|why| vec![(Diagnostic::error(Code::Patch, why), Vec::new())]);
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
        // An operation inside the field at fault (a label added to a
        // selector that no longer selects the template).
        let inside = !object_path.is_empty()
            && tokens.len() > object_path.len()
            && object_path.iter().zip(&tokens).all(|(s, t)| match s {
                PathSegment::Key(k) => t == k,
                PathSegment::Index(n) => t == &n.to_string(),
            });
        if inside {
            let mut p = base.clone();
            p.extend(path!["json", j, if op.value.is_some() { "value" } else { "path" }]);
            return p;
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
    rest.split('/').map(|t| unescape(text, t)).collect()
}

/// A reference token with `~1` read as `/` and `~0` as `~`; any other `~`
/// is an error (RFC 6901).
fn unescape(pointer: &str, token: &str) -> Result<String, String> {
    let mut out = String::with_capacity(token.len());
    let mut chars = token.chars();
    while let Some(c) = chars.next() {
        if c != '~' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('0') => out.push('~'),
            Some('1') => out.push('/'),
            _ => {
                return Err(format!(
                    "`{pointer}` is not a JSON Pointer: `~` must be followed by `0` or `1` (`~0` is `~`, `~1` is `/`)"
                ));
            }
        }
    }
    Ok(out)
}

fn show(tokens: &[String]) -> String {
    if tokens.is_empty() {
        return "the object".into();
    }
    let escaped: Vec<String> = tokens.iter().map(|t| t.replace('~', "~0").replace('/', "~1")).collect();
    format!("`/{}`", escaped.join("/"))
}

/// An object under patch, with its size kept current: a JSON Patch `copy`
/// duplicates what it copies and `move` nests, so a few operations could
/// otherwise make gigabytes of one object. It is held to a profile's
/// bounds (nodes and nesting, as [`Limits`] counts them), checked before
/// each operation writes.
#[derive(Debug)]
pub struct Patched {
    pub value: Value,
    /// Nodes of `value`: one per value, keys not counted.
    nodes: usize,
    max_nodes: usize,
    max_depth: usize,
}

impl Patched {
    pub fn new(value: Value, limits: &Limits) -> Patched {
        let (nodes, _) = measure(&value);
        Patched { value, nodes, max_nodes: limits.max_nodes, max_depth: limits.max_depth }
    }

    /// Check that writing a value of `size` (nodes, levels) at `tokens`
    /// keeps the object within bounds (an object already over them may
    /// still shrink); returns its node count after the write. `replace`:
    /// a list item at `tokens` is overwritten, not shifted.
    fn admit(&mut self, tokens: &[String], size: (usize, usize), replace: bool) -> Result<usize, String> {
        let (added, depth) = size;
        if tokens.len() + depth > self.max_depth {
            return Err(format!("the patched object would nest deeper than {} levels", self.max_depth));
        }
        let overwritten = match tokens.split_last() {
            None => self.nodes,
            Some((last, parent)) => match get_mut(&mut self.value, parent)? {
                Value::Object(m) => m.get(last).map_or(0, |v| measure(v).0),
                Value::Array(items) if replace => {
                    list_index(last, parent).ok().and_then(|i| items.get(i)).map_or(0, |v| measure(v).0)
                }
                _ => 0,
            },
        };
        let after = (self.nodes - overwritten.min(self.nodes)).saturating_add(added);
        if after > self.nodes && after > self.max_nodes {
            return Err(format!("the patched object would have more than {} nodes", self.max_nodes));
        }
        Ok(after)
    }
}

/// Nodes and levels of a value, as the YAML parser counts them: one node
/// per value (keys not counted), one level per mapping or list.
fn measure(v: &Value) -> (usize, usize) {
    fn container<'a>(children: impl Iterator<Item = &'a Value>) -> (usize, usize) {
        children.map(measure).fold((1, 1), |(nodes, depth), (n, d)| (nodes + n, depth.max(d + 1)))
    }
    match v {
        Value::Array(items) => container(items.iter()),
        Value::Object(m) => container(m.values()),
        _ => (1, 0),
    }
}

/// Apply one RFC 6902 operation; on failure, why and which field of the
/// operation is at fault (the object may then be half-changed: a failed
/// patch is dropped).
pub fn apply_operation(doc: &mut Patched, op: &JsonPatchOperation) -> Result<(), (String, &'static str)> {
    let Some(kind) = op.op else {
        return Err(("the operation has no `op`: add, remove, replace, move, copy or test".into(), "op"));
    };
    let tokens = pointer(&op.path).map_err(|e| (e, "path"))?;
    let value = || op.value.clone().ok_or_else(|| (format!("`{kind:?}` needs a `value`").to_lowercase(), "op"));
    let from = || -> Result<Vec<String>, (String, &'static str)> {
        let f = op.from.as_deref().ok_or_else(|| (format!("`{kind:?}` needs a `from` path").to_lowercase(), "op"))?;
        pointer(f).map_err(|e| (e, "from"))
    };
    let at_path = |e| (e, "path");
    match kind {
        JsonPatchOp::Add => {
            let v = value()?;
            let after = doc.admit(&tokens, measure(&v), false).map_err(at_path)?;
            add(&mut doc.value, &tokens, v).map_err(at_path)?;
            doc.nodes = after;
            Ok(())
        }
        JsonPatchOp::Remove => {
            let removed = remove(&mut doc.value, &tokens).map_err(at_path)?;
            doc.nodes -= measure(&removed).0.min(doc.nodes);
            Ok(())
        }
        JsonPatchOp::Replace => {
            let v = value()?;
            get_mut(&mut doc.value, &tokens).map_err(at_path)?;
            let after = doc.admit(&tokens, measure(&v), true).map_err(at_path)?;
            *get_mut(&mut doc.value, &tokens).map_err(at_path)? = v;
            doc.nodes = after;
            Ok(())
        }
        JsonPatchOp::Move => {
            let from = from()?;
            if tokens.len() > from.len() && tokens[..from.len()] == from[..] {
                return Err(("cannot move a value into itself".into(), "path"));
            }
            let v = remove(&mut doc.value, &from).map_err(|e| (e, "from"))?;
            // The value stays in the object: only what it overwrites goes.
            let after = doc.admit(&tokens, (0, measure(&v).1), false).map_err(at_path)?;
            add(&mut doc.value, &tokens, v).map_err(at_path)?;
            doc.nodes = after;
            Ok(())
        }
        JsonPatchOp::Copy => {
            let from = from()?;
            // Measured before it is cloned: a refused copy costs nothing.
            let size = measure(get_mut(&mut doc.value, &from).map_err(|e| (e, "from"))?);
            let after = doc.admit(&tokens, size, false).map_err(at_path)?;
            let v = get_mut(&mut doc.value, &from).map_err(|e| (e, "from"))?.clone();
            add(&mut doc.value, &tokens, v).map_err(at_path)?;
            doc.nodes = after;
            Ok(())
        }
        JsonPatchOp::Test => {
            let expected = value()?;
            let secret = doc.value.get("kind").and_then(Value::as_str) == Some("Secret");
            let actual = get_mut(&mut doc.value, &tokens).map_err(at_path)?;
            if *actual == expected {
                Ok(())
            } else if secret {
                // A Secret's fields are not shown, whatever they hold.
                Err((format!("test failed: {} is not the value given", show(&tokens)), "value"))
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
            (json!({"~/": 1}), op(Remove, "/~0~1", None, None), Ok(json!({}))),
            (json!({"~1": 1}), op(Remove, "/~01", None, None), Ok(json!({}))),
            (
                json!({"a": 1}),
                op(Add, "/a~2", Some(json!(2)), None),
                Err("`/a~2` is not a JSON Pointer: `~` must be followed by `0` or `1` (`~0` is `~`, `~1` is `/`)"),
            ),
            (
                json!({"a": 1}),
                op(Copy, "/b", None, Some("/a~")),
                Err("`/a~` is not a JSON Pointer: `~` must be followed by `0` or `1` (`~0` is `~`, `~1` is `/`)"),
            ),
        ];
        for (doc, operation, expected) in cases {
            let mut doc = Patched::new(doc, &Limits::default());
            let got = apply_operation(&mut doc, &operation).map(|()| doc.value).map_err(|(why, _)| why);
            assert_eq!(got, expected.map_err(String::from), "{operation:?}");
        }
    }

    /// `copy` doubles what it copies: the object's size is checked before
    /// each write, and kept exact through every kind of operation.
    #[test]
    fn operations_keep_the_object_within_bounds() {
        use JsonPatchOp::*;
        let limits = Limits { max_bytes: 0, max_depth: 8, max_nodes: 40 };
        let mut doc = Patched::new(json!({"a": {"x": [1]}, "l": [1, 2]}), &limits);
        let ok: Vec<JsonPatchOperation> = vec![
            op(Copy, "/a/x/-", None, Some("/a/x")),
            op(Copy, "/a/x/-", None, Some("/a/x")),
            op(Add, "/a/x", Some(json!([1, 2, 3])), None),
            op(Replace, "/l/0", Some(json!({"k": [1, 2]})), None),
            op(Move, "/l/1", None, Some("/a")),
            op(Copy, "/b", None, Some("/l")),
            op(Move, "/b", None, Some("/l/0")),
            op(Remove, "/l", None, None),
            op(Copy, "/c", None, Some("/b")),
            op(Replace, "", Some(json!({"a": [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]})), None),
            op(Copy, "/b", None, Some("/a")),
        ];
        for operation in &ok {
            apply_operation(&mut doc, operation).unwrap_or_else(|e| panic!("{operation:?}: {e:?}"));
            assert_eq!(doc.nodes, measure(&doc.value).0, "{operation:?}");
        }
        // 39 nodes: one more copy of `a` would make 58.
        let before = doc.value.clone();
        let err = apply_operation(&mut doc, &op(Copy, "/c", None, Some("/a"))).unwrap_err();
        assert_eq!(err, ("the patched object would have more than 40 nodes".into(), "path"));
        assert_eq!(doc.value, before);
        // Smaller is always fine, even past the limit.
        apply_operation(&mut doc, &op(Replace, "/b", Some(json!(1)), None)).unwrap();
        assert_eq!(doc.nodes, 21);

        let mut deep = Patched::new(json!({"a": []}), &limits);
        let nested = json!([[[[[[[1]]]]]]]);
        let err = apply_operation(&mut deep, &op(Add, "/a/-", Some(nested), None)).unwrap_err();
        assert_eq!(err, ("the patched object would nest deeper than 8 levels".into(), "path"));
        // `move` adds no node but nests.
        let mut deep = Patched::new(json!({"a": [[[[[1]]]]], "b": [[[1]]]}), &limits);
        let err = apply_operation(&mut deep, &op(Move, "/a/0/0/0/0/-", None, Some("/b"))).unwrap_err();
        assert_eq!(err, ("the patched object would nest deeper than 8 levels".into(), "path"));
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
