//! Writing rendered objects: a multi-document YAML stream or a JSON `List`
//! on stdout, or one file per object in a directory (`out_dir`).

pub mod kustomize;
pub mod out_dir;
pub mod select;

use crate::object::Object;

/// Output formats of `kgen render`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Multi-document YAML (`---` before each object).
    Yaml,
    /// One JSON object: `{"apiVersion": "v1", "kind": "List", "items": [...]}`.
    Json,
    /// One `kind.group/name` line per object, as `kubectl get -o name`
    /// prints (`deployment.apps/web`, `service/web`).
    Name,
}

/// The objects as a YAML stream.
pub fn to_yaml<'a>(objects: impl IntoIterator<Item = &'a Object>) -> String {
    let mut out = String::with_capacity(16 * 1024);
    for o in objects {
        out.push_str("---\n");
        o.write_yaml(&mut out);
    }
    out
}

/// One object as a YAML document (with its `---`).
pub fn object_yaml(object: &Object) -> String {
    let mut out = String::from("---\n");
    object.write_yaml(&mut out);
    out
}

/// The objects as a pretty-printed JSON `v1 List`, which `kubectl apply -f`
/// accepts.
pub fn to_json<'a>(objects: impl IntoIterator<Item = &'a Object>) -> String {
    let list = serde_json::json!({
        "apiVersion": "v1",
        "kind": "List",
        "items": objects.into_iter().map(Object::to_value).collect::<Vec<_>>(),
    });
    let mut s = serde_json::to_string_pretty(&list).expect("JSON values serialize");
    s.push('\n');
    s
}

/// A stable file name for an object: install rank, kind and name, so that
/// `kubectl apply -f DIR` applies files in install order.
pub fn file_name(object: &Object) -> String {
    format!("{:02}-{}-{}.yaml", object.install_rank(), object.kind().to_ascii_lowercase(), object.name())
}
