//! Text that names an object of the bundle, or the app's namespace: a
//! host in a URL or a script, a Prometheus job or pod regex, a claim named
//! in a message. Rendering writes such names through [`TextRefs`]: as the
//! names themselves, or (for the kustomize writer) as markers that say
//! which object's name or which namespace the text holds, so that an
//! overlay's `namePrefix` or `namespace` can reach them.
//!
//! A marker is made of characters that no quoting or escaping of a shell
//! word, a PromQL string or regex, JSON or YAML changes, nor anything else
//! rendering changes (`__kgen_<hex of the reference>__`), so it goes
//! through rendering as a name would. Pure: no IO.

/// How rendered text names objects and the namespace.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TextRefs {
    /// The names, as everything kgen prints holds them.
    #[default]
    Plain,
    /// Markers in place of the names (see the module's documentation).
    Marked,
}

/// What a piece of text names.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Ref {
    /// The app's namespace.
    Namespace,
    /// An object of the bundle in the app's namespace, by kind and name.
    Object { kind: String, name: String },
}

impl TextRefs {
    /// The name of the `kind` object `name`, in text.
    pub fn name(self, kind: &str, name: &str) -> String {
        match self {
            TextRefs::Plain => name.to_string(),
            TextRefs::Marked => marker(&Ref::Object { kind: kind.to_string(), name: name.to_string() }),
        }
    }

    /// The namespace `namespace` (the app's), in text.
    pub fn namespace(self, namespace: &str) -> String {
        match self {
            TextRefs::Plain => namespace.to_string(),
            TextRefs::Marked => marker(&Ref::Namespace),
        }
    }
}

const OPEN: &str = "__kgen_";
const CLOSE: &str = "__";

/// The marker of a reference.
pub fn marker(r: &Ref) -> String {
    let text = match r {
        Ref::Namespace => "namespace".to_string(),
        Ref::Object { kind, name } => format!("{kind}/{name}"),
    };
    let hex: String = text.bytes().map(|b| format!("{b:02x}")).collect();
    format!("{OPEN}{hex}{CLOSE}")
}

/// A piece of marked text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    Ref(Ref),
}

/// Marked text as text and references; `None` when it holds something
/// that starts like a marker but is not one.
pub fn split(marked: &str) -> Option<Vec<Piece>> {
    let mut out = Vec::new();
    let mut rest = marked;
    while let Some(at) = rest.find(OPEN) {
        if at > 0 {
            out.push(Piece::Text(rest[..at].to_string()));
        }
        let after = &rest[at + OPEN.len()..];
        let hex_len = after.bytes().take_while(u8::is_ascii_hexdigit).count();
        if !after[hex_len..].starts_with(CLOSE) || hex_len == 0 || hex_len % 2 != 0 {
            return None;
        }
        let bytes: Option<Vec<u8>> =
            (0..hex_len).step_by(2).map(|i| u8::from_str_radix(&after[i..i + 2], 16).ok()).collect();
        let text = String::from_utf8(bytes?).ok()?;
        out.push(Piece::Ref(match text.split_once('/') {
            None if text == "namespace" => Ref::Namespace,
            Some((kind, name)) if !kind.is_empty() && !name.is_empty() => {
                Ref::Object { kind: kind.to_string(), name: name.to_string() }
            }
            _ => return None,
        }));
        rest = &after[hex_len + CLOSE.len()..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest.to_string()));
    }
    Some(out)
}

/// Whether `text` holds anything that looks like a marker.
pub fn has_marker(text: &str) -> bool {
    text.contains(OPEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_round_trip_between_text() {
        let db = TextRefs::Marked.name("Service", "db");
        let ns = TextRefs::Marked.namespace("shop");
        let text = format!("postgres://app@{db}:5432/app ns={ns}");
        assert_eq!(
            split(&text).unwrap(),
            vec![
                Piece::Text("postgres://app@".into()),
                Piece::Ref(Ref::Object { kind: "Service".into(), name: "db".into() }),
                Piece::Text(":5432/app ns=".into()),
                Piece::Ref(Ref::Namespace),
            ]
        );
        assert_eq!(TextRefs::Plain.name("Service", "db"), "db");
        assert_eq!(split("no markers").unwrap(), vec![Piece::Text("no markers".into())]);
    }

    #[test]
    fn markers_survive_quoting_and_escaping() {
        let m = TextRefs::Marked.name("PersistentVolumeClaim", "data.v1");
        assert_eq!(crate::templates::shell_quote(m.clone()), m);
        assert_eq!(crate::render::monitoring::regex_literal(&m), m);
    }

    #[test]
    fn broken_markers_are_refused() {
        assert_eq!(split("__kgen_zz__"), None);
        assert_eq!(split("__kgen_616"), None);
        assert_eq!(split("__kgen_61__"), None);
    }
}
