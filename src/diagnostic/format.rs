//! Diagnostics as data: one JSON object per line, GitHub Actions workflow
//! commands (`::error file=…::message`), or a SARIF 2.1.0 log (code
//! scanning, editors). None shows source text, so nothing a snippet would
//! mask (a credential) can appear; the message, hints and notes are the
//! ones the human form prints.

use super::{Code, Diagnostic, Severity, shorten};
use crate::source::SourceMap;

/// How diagnostics are written to stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// For people: the message, the source line with a caret, hints.
    Human { color: bool },
    /// One JSON object per diagnostic and line.
    Json,
    /// GitHub Actions workflow commands: annotations on the files.
    Github,
    /// One SARIF 2.1.0 log for the whole command ([`sarif_log`]); each
    /// diagnostic is one of its results.
    Sarif,
}

impl Diagnostic {
    /// This diagnostic in `format`: one line for the machine formats.
    pub fn render_as(&self, sources: &SourceMap, format: Format) -> String {
        match format {
            Format::Human { color } => self.render(sources, color),
            Format::Json => self.to_json(sources).to_string(),
            Format::Github => self.to_github(sources),
            Format::Sarif => self.to_sarif(sources).to_string(),
        }
    }

    /// `{code, name, severity, message, file, line, column, end_line,
    /// end_column, path, hints, notes}`; lines and columns count from 1,
    /// columns in characters, `null` where unknown.
    pub fn to_json(&self, sources: &SourceMap) -> serde_json::Value {
        let span = self.span;
        let file = span.map(|s| sources.get(s.source).name.clone());
        let n = |v: Option<u32>| v.map(|v| v.max(1));
        serde_json::json!({
            "code": self.code.as_str(),
            "name": self.code.name(),
            "severity": self.severity_word(),
            "message": shorten(&self.message),
            "file": file,
            "line": n(span.map(|s| s.start.line)),
            "column": n(span.map(|s| s.start.column)),
            "end_line": n(span.map(|s| s.end.line)),
            "end_column": n(span.map(|s| s.end.column)),
            "path": self.path.as_deref().map(shorten),
            "hints": self.hints.iter().map(|h| shorten(h)).collect::<Vec<_>>(),
            "notes": self.notes.iter().map(|h| shorten(h)).collect::<Vec<_>>(),
        })
    }

    /// `::error file=F,line=L,col=C,endLine=…,endColumn=…,title=kgen CODE::message`,
    /// the field path, notes and hints on further lines of the message.
    pub fn to_github(&self, sources: &SourceMap) -> String {
        let mut properties = Vec::new();
        if let Some(s) = self.span {
            properties.push(format!("file={}", github_property(&sources.get(s.source).name)));
            properties.push(format!("line={}", s.start.line.max(1)));
            properties.push(format!("col={}", s.start.column.max(1)));
            properties.push(format!("endLine={}", s.end.line.max(1)));
            properties.push(format!("endColumn={}", s.end.column.max(1)));
        }
        properties.push(format!("title={}", github_property(&format!("kgen {}", self.code.as_str()))));
        format!("::{} {}::{}", self.severity_word(), properties.join(","), github_data(&self.text()))
    }

    /// A SARIF result: `ruleId` (the code), `ruleIndex` (its place in the
    /// log's rules), `level`, `message.text` and, for a file, a physical
    /// location (columns in characters, the end exclusive). A place that
    /// is no file (`--set`, stdin, a template's rendered text) is named at
    /// the start of the message instead.
    pub fn to_sarif(&self, sources: &SourceMap) -> serde_json::Value {
        let mut text = self.text();
        let mut locations = Vec::new();
        if let Some(s) = self.span {
            let name = &sources.get(s.source).name;
            match artifact_uri(name) {
                Some(uri) => locations.push(serde_json::json!({
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri},
                        "region": {
                            "startLine": s.start.line.max(1),
                            "startColumn": s.start.column.max(1),
                            "endLine": s.end.line.max(1),
                            "endColumn": s.end.column.max(1),
                        },
                    },
                })),
                None => text = format!("{}:{}:{}: {text}", shorten(name), s.start.line.max(1), s.start.column.max(1)),
            }
        }
        let mut result = serde_json::json!({
            "ruleId": self.code.as_str(),
            "ruleIndex": Code::ALL.iter().position(|c| *c == self.code),
            "level": self.severity_word(),
            "message": {"text": text},
        });
        if !locations.is_empty() {
            result["locations"] = serde_json::Value::Array(locations);
        }
        result
    }

    /// The message with the field path, notes and hints on further lines.
    fn text(&self) -> String {
        let mut text = shorten(&self.message).into_owned();
        if let Some(path) = &self.path {
            text.push_str(&format!("\nin `{}`", shorten(path)));
        }
        for note in &self.notes {
            text.push_str(&format!("\nnote: {}", shorten(note)));
        }
        for hint in &self.hints {
            text.push_str(&format!("\nhint: {}", shorten(hint)));
        }
        text
    }

    fn severity_word(&self) -> &'static str {
        match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// The SARIF 2.1.0 log of one command: kgen as the tool, every code as a
/// rule (so `ruleIndex` is a code's place in [`Code::ALL`]), and the
/// results (each from [`Diagnostic::to_sarif`]) in the order reported.
pub fn sarif_log(results: Vec<serde_json::Value>) -> serde_json::Value {
    let rules: Vec<serde_json::Value> = Code::ALL
        .iter()
        .map(|c| serde_json::json!({"id": c.as_str(), "name": c.name(), "shortDescription": {"text": c.description()}}))
        .collect();
    serde_json::json!({
        "$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "kgen", "version": env!("CARGO_PKG_VERSION"), "rules": rules}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

/// A source's name as a SARIF artifact URI: a relative path as a relative
/// reference, an absolute one as a `file:` URI, each byte but unreserved
/// characters and `/` percent-encoded. `None` for what is no file: a
/// command-line argument (`--set`), `<stdin>`, an extra manifest's
/// rendered text.
fn artifact_uri(name: &str) -> Option<String> {
    if name.starts_with("--") || name == "<stdin>" || name.ends_with(" (rendered)") {
        return None;
    }
    let mut uri = String::with_capacity(name.len() + 7);
    if name.starts_with('/') {
        uri.push_str("file://");
    }
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            uri.push(b as char);
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    Some(uri)
}

/// A workflow command's message: `%`, CR and LF escaped.
fn github_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// A workflow command's property value: also `:` and `,`.
fn github_property(text: &str) -> String {
    github_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Code;
    use crate::source::{Source, Span};

    #[test]
    fn json_and_github_forms() {
        let mut sources = SourceMap::default();
        let id = sources.add(Source::new("a,b:c.yaml", "name: demo\nreplicas: three\n"));
        let s = sources.get(id);
        let span = Span { source: id, start: s.pos(2, 10), end: s.pos(2, 15) };
        let d = Diagnostic::error(Code::FieldType, "expected an integer, found `three` (100%)")
            .at(Some(span))
            .path("replicas")
            .hint("write a whole number:\nsuch as 2");
        let json = d.to_json(&sources);
        assert_eq!(json["code"], "K0201");
        assert_eq!(
            (json["line"].as_u64(), json["column"].as_u64(), json["end_column"].as_u64()),
            (Some(2), Some(11), Some(16))
        );
        assert_eq!(json["path"], "replicas");
        assert_eq!(json["hints"][0], "write a whole number:\nsuch as 2");
        assert_eq!(
            d.to_github(&sources),
            "::error file=a%2Cb%3Ac.yaml,line=2,col=11,endLine=2,endColumn=16,title=kgen K0201::expected an integer, found `three` (100%25)%0Ain `replicas`%0Ahint: write a whole number:%0Asuch as 2"
        );
        let plain = Diagnostic::warning(Code::Advice, "x");
        assert_eq!(plain.to_github(&sources), "::warning title=kgen K0309::x");
        assert!(plain.to_json(&sources)["file"].is_null());

        let sarif = d.to_sarif(&sources);
        assert_eq!(sarif["ruleId"], "K0201");
        assert_eq!(
            sarif_log(vec![])["runs"][0]["tool"]["driver"]["rules"][sarif["ruleIndex"].as_u64().unwrap() as usize]["id"],
            "K0201"
        );
        let location = &sarif["locations"][0]["physicalLocation"];
        assert_eq!(location["artifactLocation"]["uri"], "a%2Cb%3Ac.yaml");
        assert_eq!(
            location["region"],
            serde_json::json!({"startLine": 2, "startColumn": 11, "endLine": 2, "endColumn": 16})
        );
        assert_eq!(
            sarif["message"]["text"],
            "expected an integer, found `three` (100%)\nin `replicas`\nhint: write a whole number:\nsuch as 2"
        );
        assert!(plain.to_sarif(&sources).get("locations").is_none());
    }

    #[test]
    fn sarif_locations_name_files_only() {
        assert_eq!(artifact_uri("profiles/my app.yaml").as_deref(), Some("profiles/my%20app.yaml"));
        assert_eq!(artifact_uri("/srv/ü.yaml").as_deref(), Some("file:///srv/%C3%BC.yaml"));
        for not_a_file in ["--set", "--namespace", "<stdin>", "templates/cm.yaml (rendered)"] {
            assert_eq!(artifact_uri(not_a_file), None, "{not_a_file}");
        }
        let mut sources = SourceMap::default();
        let id = sources.add(Source::new("--set", "replicas=x"));
        let s = sources.get(id);
        let span = Span { source: id, start: s.pos(1, 9), end: s.pos(1, 10) };
        let d = Diagnostic::error(Code::FieldType, "expected an integer").at(Some(span));
        let sarif = d.to_sarif(&sources);
        assert!(sarif.get("locations").is_none());
        assert_eq!(sarif["message"]["text"], "--set:1:10: expected an integer");
    }
}
