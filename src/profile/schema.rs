//! The profile's JSON Schema (`kgen schema`), for editors: derived from the
//! profile types, so that an editor with it accepts the profiles kgen
//! accepts and flags those whose shape kgen refuses.
//!
//! The types say what each field is: their doc comments are the
//! descriptions, and `#[schemars(…)]` attributes add required fields,
//! ranges, value formats ([`Quantity`], [`Duration`], [`PortName`]) and
//! examples. This module adds what holds for every type because of how
//! kgen reads a profile (`yaml::de`, `load`):
//! - a plain scalar where text is expected is read as text (`tag: 1.10`),
//!   so text accepts numbers and booleans;
//! - `null` where a mapping or a list is expected reads as empty;
//! - the short forms of [`SCALAR_SHORTHANDS`] (`image: nginx:1.27`);
//! - a component's fields at the top level, refused beside `components`;
//! - environment overlays, which merge over the rest: any field may be
//!   `null` (back to its default) and none is required.
//!
//! It does not check what `model` checks across fields or against other
//! names (references, Kubernetes name rules, cross-field limits):
//! `kgen check` does.

use schemars::generate::SchemaSettings;
use schemars::transform::RecursiveTransform;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde_json::{Map, Value, json};

use super::{API_VERSION, Profile, SCALAR_SHORTHANDS, component_only_fields};

/// The schema's `$id`.
pub const SCHEMA_ID: &str = "https://kgen.dev/schema/v1alpha1/profile.json";

// Value formats as regular expressions that JavaScript (editors) and the
// `regex` crate (the tests) read alike: no look-around.

/// An environment name (`load::take_environments`): a DNS label.
const ENVIRONMENT_NAME: &str = "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$";

/// A Kubernetes quantity (`model::quantity::parse`).
const QUANTITY: &str = r"^\+?([0-9]+(\.[0-9]*)?|\.[0-9]+)(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|[eE][-+]?[0-9]+)?$";

/// A Prometheus duration (`model::validate::monitoring::parse_duration`),
/// with a `minLength` of 1.
pub(crate) const DURATION: &str = "^(0|([0-9]+y)?([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?([0-9]+ms)?)$";

/// A percentage of at most 100 (`profile::IntOrPercent`).
pub(crate) const PERCENT: &str = r"^\+?0*([0-9]{1,2}|100)%$";

/// A port name (`model::names::port_name`), with a `maxLength` of 15:
/// words of letters and digits joined by single `-`, one with a letter.
const PORT_NAME: &str = "^([0-9]+-)*[0-9]*[a-z][a-z0-9]*(-[a-z0-9]+)*$";

/// The JSON Schema of a profile, including the single-component form (a
/// component's fields at the top level) and environment overlays.
pub fn json_schema() -> Value {
    let generator = SchemaSettings::draft2020_12().with_transform(RecursiveTransform(as_kgen_reads)).into_generator();
    let Value::Object(mut root) = generator.into_root_schema_for::<Profile>().to_value() else {
        unreachable!("a struct's schema is an object")
    };
    let mut defs = match root.remove("$defs") {
        Some(Value::Object(defs)) => defs,
        _ => Map::new(),
    };
    short_forms(&mut defs);

    let Some(Value::Object(profile_fields)) = root.remove("properties") else {
        unreachable!("a struct's schema has properties")
    };
    let component_fields = component_only_fields();
    let mut properties = Map::new();
    for (name, schema) in profile_fields {
        if name == "environments" {
            // A component's own fields, written at the top level for the
            // app's single component.
            for field in &component_fields {
                if let Some(schema) = defs["Component"]["properties"].get(*field) {
                    properties.insert(field.to_string(), schema.clone());
                }
            }
            continue;
        }
        properties.insert(name, schema);
    }

    let environment = environment_overlay(&properties, &mut defs);
    defs.insert("Environment".into(), environment);
    for (name, def) in defs.iter_mut() {
        if let Value::Object(def) = def {
            let title = name.strip_suffix(OVERLAY_SUFFIX).unwrap_or(name);
            def.entry("title").or_insert(title.into());
        }
    }
    properties.insert(
        "environments".into(),
        json!({
            "description": "Named overlays (`dev`, `prod`, …) deep-merged over the rest of the profile by \
                `--env NAME`: maps merge, lists and values replace, and `null` resets a field to its default. \
                Names are DNS labels (they name output folders).",
            "type": ["object", "null"],
            "propertyNames": {
                "pattern": ENVIRONMENT_NAME,
                "patternErrorMessage": "an environment name is lowercase letters, digits and `-`",
            },
            "additionalProperties": {"$ref": "#/$defs/Environment"},
            "examples": [{"prod": {"replicas": 3, "resources": "medium"}}],
        }),
    );

    let mut beside_components = Map::new();
    for field in component_fields.iter().copied().chain(["component"]) {
        beside_components.insert(field.to_string(), Value::Bool(false));
    }

    let mut schema = Map::new();
    schema.insert("$schema".into(), root.remove("$schema").unwrap_or(Value::Null));
    schema.insert("$id".into(), SCHEMA_ID.into());
    schema.insert("title".into(), "kgen profile".into());
    if let Some(description) = root.remove("description") {
        schema.insert("description".into(), description);
    }
    schema.insert("type".into(), "object".into());
    schema.insert("properties".into(), Value::Object(properties));
    schema.insert("additionalProperties".into(), false.into());
    if let Some(required) = root.remove("required") {
        schema.insert("required".into(), required);
    }
    // `load::expand_shorthand`: with `components`, a component's fields
    // belong under each component.
    schema.insert("if".into(), json!({"required": ["components"], "properties": {"components": {"type": "object"}}}));
    schema.insert(
        "then".into(),
        json!({
            "properties": beside_components,
            "errorMessage": "this belongs to a component, and this profile lists `components`: \
                move it under each component that needs it",
        }),
    );
    schema.insert("$defs".into(), Value::Object(defs));
    Value::Object(schema)
}

/// The schema as `kgen schema` prints it.
pub fn json_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&json_schema()).expect("a schema is JSON");
    text.push('\n');
    text
}

/// How `yaml::de` reads values, applied to every schema the types make:
/// text fields take any non-null scalar as written, mappings and lists
/// take `null` as empty (unless a field of theirs is required, which the
/// empty value lacks), and serde's defaults (those of the unset profile,
/// not kgen's, which the descriptions give) are left out.
fn as_kgen_reads(schema: &mut Schema) {
    let Some(object) = schema.as_object_mut() else { return };
    object.remove("default");
    let types: Vec<String> = match object.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts.iter().filter_map(|t| t.as_str().map(String::from)).collect(),
        _ => return,
    };
    if is_struct(object) {
        // `deserialize_struct` refuses unknown fields (Kubernetes types'
        // too, which do not say so themselves).
        object.entry("additionalProperties").or_insert(false.into());
    }
    let exact = ["enum", "const", "pattern", "format"].iter().any(|k| object.contains_key(*k));
    let is = |t: &str| types.iter().any(|x| x == t);
    let only = |allowed: &[&str]| types.iter().all(|t| allowed.contains(&t.as_str()));
    let new_types: Option<Vec<&str>> = if is("string") && only(&["string", "null"]) && !exact {
        // `deserialize_str`: `tag: 1.10` is the text "1.10".
        Some(["string", "number", "boolean"].into_iter().chain(is("null").then_some("null")).collect())
    } else if (is("object") || is("array")) && !is("null") && types.len() == 1 && !object.contains_key("required") {
        // `deserialize_struct`, `_map` and `_seq` read `null` as empty.
        Some(vec![if is("object") { "object" } else { "array" }, "null"])
    } else {
        None
    };
    if let Some(types) = new_types {
        object.insert("type".into(), json!(types));
    }
}

/// A struct's schema: an object with named fields.
fn is_struct(object: &Map<String, Value>) -> bool {
    object.contains_key("properties")
        && object.get("type").is_some_and(|t| t == "object" || t == &json!(["object", "null"]))
}

/// The types of [`SCALAR_SHORTHANDS`] also take one scalar, read as the
/// field it stands for (`ports: {http: 8080}` is `{http: {port: 8080}}`).
fn short_forms(defs: &mut Map<String, Value>) {
    for (type_name, field) in SCALAR_SHORTHANDS {
        let Some(def) = defs.get_mut(*type_name) else {
            panic!("the schema has no `{type_name}`, which SCALAR_SHORTHANDS names")
        };
        let Some(scalar) = def["properties"].get(*field).cloned() else {
            panic!("`{type_name}` has no field `{field}`, which SCALAR_SHORTHANDS names")
        };
        let mut scalar = without_null(scalar);
        if let Some(s) = scalar.as_object_mut() {
            s.remove("description");
            s.remove("examples");
        }
        let mut object = def.take();
        let description = object.as_object_mut().and_then(|o| o.remove("description"));
        let examples = object.as_object_mut().and_then(|o| o.remove("examples"));
        // Editors name a branch by its title (`integer | object(Port)`).
        object["title"] = (*type_name).into();
        let mut short = Map::new();
        if let Some(d) = description {
            short.insert("description".into(), d);
        }
        short.insert("anyOf".into(), json!([scalar, object]));
        if let Some(e) = examples {
            short.insert("examples".into(), e);
        }
        *def = Value::Object(short);
    }
}

/// A field's schema without the `null` its `Option` adds.
fn without_null(mut schema: Value) -> Value {
    if let Some(Value::Array(types)) = schema.get_mut("type") {
        types.retain(|t| t != "null");
        if types.len() == 1 {
            let t = types.remove(0);
            schema["type"] = t;
        }
        return schema;
    }
    if let Some(Value::Array(branches)) = schema.get("anyOf") {
        let rest: Vec<Value> = branches.iter().filter(|b| !is_null_type(b)).cloned().collect();
        if rest.len() == 1 {
            let mut only = rest.into_iter().next().expect("one");
            if let (Some(o), Some(d)) = (only.as_object_mut(), schema.get("description")) {
                o.entry("description").or_insert(d.clone());
            }
            return only;
        }
        schema["anyOf"] = Value::Array(rest);
    }
    schema
}

fn is_null_type(schema: &Value) -> bool {
    schema.get("type").is_some_and(|t| t == "null")
}

/// The schema of an environment: the profile's fields as they merge over
/// the rest (`yaml::merge`): in a mapping that merges, any entry may be
/// `null`, which removes it (the field goes back to its default), and no
/// field is required. Lists and what they hold replace, and are read as in
/// the base. `apiVersion`, `kind` and `environments` cannot be set.
fn environment_overlay(properties: &Map<String, Value>, defs: &mut Map<String, Value>) -> Value {
    let mut fields = Map::new();
    fields.insert(
        "description".into(),
        "An environment: fields merged over the rest of the profile. `null` resets a field to its default.".into(),
    );
    fields.insert("type".into(), json!(["object", "null"]));
    let mut props = Map::new();
    let mut overlays = Overlays { base: defs.clone(), made: Map::new() };
    for (name, schema) in properties {
        if matches!(name.as_str(), "apiVersion" | "kind") {
            continue;
        }
        props.insert(name.clone(), overlays.entry(schema));
    }
    fields.insert("properties".into(), Value::Object(props));
    fields.insert("additionalProperties".into(), false.into());
    for (name, def) in overlays.made {
        if let Value::Object(_) = def {
            defs.insert(overlay_name(&name), def);
        }
    }
    Value::Object(fields)
}

/// Overlay versions of the definitions an environment reaches.
struct Overlays {
    base: Map<String, Value>,
    /// By base name: the overlay definition, or `null` where the base one
    /// serves unchanged (or is being made).
    made: Map<String, Value>,
}

/// Overlay definitions are named after their base one.
const OVERLAY_SUFFIX: &str = "InEnvironment";

fn overlay_name(base: &str) -> String {
    format!("{base}{OVERLAY_SUFFIX}")
}

impl Overlays {
    /// A mapping entry's schema: itself merged, or `null`.
    fn entry(&mut self, schema: &Value) -> Value {
        let merged = self.merged(schema);
        self.or_null(merged)
    }

    /// A value that merges into the base's: its mappings' entries may be
    /// `null` and it requires nothing.
    fn merged(&mut self, schema: &Value) -> Value {
        let Value::Object(object) = schema else { return schema.clone() };
        let mut out = object.clone();
        out.remove("required");
        if let Some(Value::String(reference)) = object.get("$ref")
            && let Some(name) = reference.strip_prefix("#/$defs/")
        {
            out.insert("$ref".into(), format!("#/$defs/{}", self.definition(name)).into());
        }
        if let Some(Value::Object(props)) = object.get("properties") {
            let props: Map<String, Value> = props.iter().map(|(k, v)| (k.clone(), self.entry(v))).collect();
            out.insert("properties".into(), Value::Object(props));
        }
        if let Some(extra @ Value::Object(_)) = object.get("additionalProperties") {
            out.insert("additionalProperties".into(), self.entry(extra));
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(Value::Array(branches)) = object.get(key) {
                let branches: Vec<Value> = branches.iter().map(|b| self.merged(b)).collect();
                out.insert(key.into(), Value::Array(branches));
            }
        }
        Value::Object(out)
    }

    /// The name of the definition an overlay refers to for `name`.
    fn definition(&mut self, name: &str) -> String {
        if let Some(made) = self.made.get(name) {
            return if made.is_null() { name.to_string() } else { overlay_name(name) };
        }
        let Some(base) = self.base.get(name).cloned() else { return name.to_string() };
        self.made.insert(name.to_string(), Value::Null);
        let merged = self.merged(&base);
        if merged == base {
            name.to_string()
        } else {
            self.made.insert(name.to_string(), merged);
            overlay_name(name)
        }
    }

    /// `schema`, or `null`.
    fn or_null(&self, schema: Value) -> Value {
        if self.accepts_null(&schema) {
            return schema;
        }
        let Value::Object(mut object) = schema else { return schema };
        if let Some(types) = object.get_mut("type") {
            let mut list = match types.take() {
                Value::Array(list) => list,
                one => vec![one],
            };
            list.push("null".into());
            *types = Value::Array(list);
            if let Some(Value::Array(values)) = object.get_mut("enum") {
                values.push(Value::Null);
            }
            if let Some(value) = object.remove("const") {
                object.insert("enum".into(), json!([value, null]));
            }
            return Value::Object(object);
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(Value::Array(branches)) = object.get_mut(key) {
                branches.push(json!({"type": "null"}));
                return Value::Object(object);
            }
        }
        if let Some(reference) = object.remove("$ref") {
            object.insert("anyOf".into(), json!([{"$ref": reference}, {"type": "null"}]));
        }
        Value::Object(object)
    }

    fn accepts_null(&self, schema: &Value) -> bool {
        let Value::Object(object) = schema else { return schema == &Value::Bool(true) };
        let mut decided = false;
        for (key, value) in object {
            let accepts = match key.as_str() {
                "type" => match value {
                    Value::String(t) => t == "null",
                    Value::Array(ts) => ts.iter().any(|t| t == "null"),
                    _ => false,
                },
                "enum" => value.as_array().is_some_and(|vs| vs.contains(&Value::Null)),
                "const" => value.is_null(),
                "anyOf" | "oneOf" => value.as_array().is_some_and(|bs| bs.iter().any(|b| self.accepts_null(b))),
                "$ref" => value
                    .as_str()
                    .and_then(|r| r.strip_prefix("#/$defs/"))
                    .and_then(|name| self.base.get(name))
                    .is_some_and(|def| self.accepts_null(def)),
                _ => continue,
            };
            if !accepts {
                return false;
            }
            decided = true;
        }
        // `{}` accepts anything.
        decided || !object.keys().any(|k| matches!(k.as_str(), "not" | "allOf"))
    }
}

/// A Kubernetes quantity as `model::quantity` reads it (`250m`, `1`,
/// `512Mi`, `10Gi`, `1e3`): text, or a plain number read as text.
pub struct Quantity;

impl JsonSchema for Quantity {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Quantity".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A Kubernetes quantity: a number with an optional suffix (m, k, M, G, T, P, E, \
                Ki, Mi, Gi, Ti, Pi, Ei, or an exponent such as e3).",
            "anyOf": [
                {
                    "type": "string",
                    "pattern": QUANTITY,
                    "patternErrorMessage": "not a Kubernetes quantity (examples: 250m, 1, 512Mi, 10Gi)",
                },
                {"type": "number", "minimum": 0, "maximum": f64::MAX},
            ],
            "examples": ["250m", "512Mi", "10Gi"],
        })
    }
}

/// A Prometheus duration as `model::validate::monitoring::parse_duration`
/// reads it: units y, w, d, h, m, s, ms, each at most once and in that
/// order (`1h30m`), or `0`.
pub struct Duration;

impl JsonSchema for Duration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A Prometheus duration: numbers with units y, w, d, h, m, s, ms, from the largest \
                to the smallest, each at most once (`1h30m`), or 0.",
            "anyOf": [
                {
                    "type": "string",
                    "minLength": 1,
                    "pattern": DURATION,
                    "patternErrorMessage": "not a Prometheus duration such as 30s, 5m or 1h30m",
                },
                {"type": "integer", "const": 0},
            ],
            "examples": ["30s", "5m", "1h30m"],
        })
    }
}

/// A port name (`model::names::port_name`): at most 15 lowercase letters,
/// digits and `-`, with a letter, no `--` and no `-` at either end.
pub struct PortName;

impl JsonSchema for PortName {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "PortName".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A port name: at most 15 lowercase letters, digits and `-`, with a letter.",
            "type": "string",
            "maxLength": 15,
            "pattern": PORT_NAME,
            "patternErrorMessage": "a port name is at most 15 lowercase letters, digits and `-`, with a letter",
            "examples": ["http", "metrics"],
        })
    }
}

/// The profile format version, the one this build reads.
pub struct ApiVersion;

impl JsonSchema for ApiVersion {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ApiVersion".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "string", "const": API_VERSION})
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::{names, quantity};

    pub(crate) fn matches(pattern: &str, text: &str) -> bool {
        regex::Regex::new(pattern).unwrap().is_match(text)
    }

    /// Fields named `required` (by `#[schemars(extend("required" = …))]`)
    /// are fields of their type.
    #[test]
    fn required_fields_exist() {
        let schema = json_schema();
        let mut schemas: Vec<(&str, &Value)> = vec![("the profile", &schema)];
        for (name, def) in schema["$defs"].as_object().unwrap() {
            schemas.push((name, def));
            for branch in def["anyOf"].as_array().into_iter().flatten() {
                schemas.push((name, branch));
            }
        }
        let mut checked = 0;
        for (name, s) in schemas {
            for field in s["required"].as_array().into_iter().flatten() {
                let field = field.as_str().unwrap();
                assert!(s["properties"].get(field).is_some(), "`{name}` requires `{field}`, which it does not have");
                checked += 1;
            }
        }
        assert!(checked > 10, "{checked}");
    }

    /// The value formats agree with the functions `model` checks values
    /// with, on good and bad examples (durations: `model::validate::monitoring`).
    #[test]
    fn formats_agree_with_the_model() {
        for q in [
            "250m", "1", "0.5", ".5", "1.", "+1", "512Mi", "10Gi", "1e3", "1E-3", "2k", "1Ei", "1n", "", "-1", "1 GB",
            "1GB", "abc", "1..2", "Gi", ".", "1e", "1Kii", "m",
        ] {
            assert_eq!(matches(QUANTITY, q), quantity::parse(q).is_ok(), "{q:?}");
        }
        for p in [
            "http",
            "metrics",
            "h2c",
            "8080-http",
            "a-b-c",
            "1a",
            "a1",
            "x",
            "abcdefghijklmno",
            "abcdefghijklmnop",
            "8080",
            "",
            "-a",
            "a-",
            "a--b",
            "HTTP",
            "a_b",
            "1-2",
            "web-1",
        ] {
            assert_eq!(matches(PORT_NAME, p) && p.len() <= 15, names::port_name(p).is_ok(), "{p:?}");
        }
        let long = "a".repeat(63);
        let too_long = "a".repeat(64);
        for e in ["dev", "prod", "eu-1", "1", &long, &too_long, "", "-a", "a-", "Prod", "a.b", "a_b"] {
            assert_eq!(matches(ENVIRONMENT_NAME, e), crate::profile::load::is_dns_label(e), "{e:?}");
        }
    }
}

/// Whether the profile's schema has a field at `path` (keys of maps with
/// any keys, such as `settings.NAME`, count): for telling a comma-joined
/// `--set a=1,b=2` from a value with a comma.
pub fn knows_path(path: &[crate::yaml::PathSegment]) -> bool {
    let schema = json_schema();
    let defs = schema.get("$defs").cloned().unwrap_or(Value::Null);
    fn resolve<'a>(mut s: &'a Value, defs: &'a Value) -> &'a Value {
        // References nest only a few levels; a cycle would be a bug.
        for _ in 0..16 {
            match s.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/$defs/")) {
                Some(name) => s = &defs[name],
                None => break,
            }
        }
        s
    }
    fn walk(s: &Value, path: &[crate::yaml::PathSegment], defs: &Value) -> bool {
        use crate::yaml::PathSegment;
        let s = resolve(s, defs);
        let Some((first, rest)) = path.split_first() else { return true };
        let branches = ["anyOf", "oneOf", "allOf"]
            .iter()
            .filter_map(|k| s.get(*k).and_then(Value::as_array))
            .flatten()
            .any(|b| walk(b, path, defs));
        if branches {
            return true;
        }
        match first {
            PathSegment::Key(k) => {
                if let Some(p) = s.get("properties").and_then(|p| p.get(k)) {
                    return walk(p, rest, defs);
                }
                match s.get("additionalProperties") {
                    Some(a) if a.is_object() => walk(a, rest, defs),
                    _ => false,
                }
            }
            PathSegment::Index(_) => s.get("items").is_some_and(|i| i.is_object() && walk(i, rest, defs)),
        }
    }
    walk(&schema, path, &defs)
}

#[cfg(test)]
mod knows_path_tests {
    use super::knows_path;
    use crate::yaml::PathSegment::{Index, Key};

    #[test]
    fn fields_of_the_schema_and_keys_of_open_maps() {
        assert!(knows_path(&[Key("replicas".into())]));
        assert!(knows_path(&[Key("image".into()), Key("tag".into())]));
        assert!(knows_path(&[Key("settings".into()), Key("ANY_NAME".into())]));
        assert!(knows_path(&[Key("ports".into()), Key("http".into()), Key("port".into())]));
        assert!(knows_path(&[Key("imagePullSecrets".into()), Index(0)]));
        assert!(knows_path(&[Key("namespace".into()), Key("name".into())]));
        assert!(!knows_path(&[Key("https://b".into())]));
        assert!(!knows_path(&[Key("b".into())]));
        assert!(!knows_path(&[Key("image".into()), Key("nope".into())]));
    }
}
