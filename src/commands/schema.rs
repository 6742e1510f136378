//! `kgen schema`: the profile's JSON Schema, for editors.

use crate::profile::{Component, Profile, component_only_fields};

/// The JSON Schema of a profile, including the single-component form (a
/// component's fields at the top level) and environment overlays.
pub fn json_schema() -> String {
    let mut schema = serde_json::to_value(schemars::schema_for!(Profile)).expect("schemas are JSON");
    let component = serde_json::to_value(schemars::schema_for!(Component)).expect("schemas are JSON");
    let top_level = component_only_fields();
    if let (Some(props), Some(component_props)) = (
        schema.get_mut("properties").and_then(|p| p.as_object_mut()),
        component.get("properties").and_then(|p| p.as_object()),
    ) {
        for field in top_level {
            if let Some(s) = component_props.get(field) {
                props.insert(field.to_string(), s.clone());
            }
        }
        props.insert(
            "environments".into(),
            serde_json::json!({
                "description": "Named overlays (`dev`, `prod`, …) deep-merged over the rest of the profile by `--env NAME`: maps merge, lists and values replace, and `null` resets a field to its default.",
                "type": "object",
                "additionalProperties": {"$ref": "#"}
            }),
        );
    }
    if let (Some(defs), Some(component_defs)) =
        (schema.get_mut("$defs").and_then(|d| d.as_object_mut()), component.get("$defs").and_then(|d| d.as_object()))
    {
        for (k, v) in component_defs {
            defs.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    if let Some(obj) = schema.as_object_mut() {
        obj.insert("$id".into(), "https://kgen.dev/schema/v1alpha1/profile.json".into());
        obj.remove("required");
    }
    let mut s = serde_json::to_string_pretty(&schema).expect("JSON");
    s.push('\n');
    s
}
