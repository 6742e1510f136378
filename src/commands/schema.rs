//! `kgen schema`: the profile's JSON Schema, for editors (made by
//! `profile::schema`).

/// The schema as printed: pretty JSON and a final newline.
pub fn json_schema() -> String {
    crate::profile::schema::json_schema_text()
}
