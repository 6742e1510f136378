//! Diagnostics as data: one JSON object per line, or GitHub Actions
//! workflow commands (`::error file=…::message`). Neither shows source
//! text, so nothing a snippet would mask (a credential) can appear; the
//! message, hints and notes are the ones the human form prints.

use super::{Diagnostic, Severity, shorten};
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
}

impl Diagnostic {
    /// This diagnostic in `format`: one line for the machine formats.
    pub fn render_as(&self, sources: &SourceMap, format: Format) -> String {
        match format {
            Format::Human { color } => self.render(sources, color),
            Format::Json => self.to_json(sources).to_string(),
            Format::Github => self.to_github(sources),
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
        let mut message = shorten(&self.message).into_owned();
        if let Some(path) = &self.path {
            message.push_str(&format!("\nin `{}`", shorten(path)));
        }
        for note in &self.notes {
            message.push_str(&format!("\nnote: {}", shorten(note)));
        }
        for hint in &self.hints {
            message.push_str(&format!("\nhint: {}", shorten(hint)));
        }
        format!("::{} {}::{}", self.severity_word(), properties.join(","), github_data(&message))
    }

    fn severity_word(&self) -> &'static str {
        match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
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
    }
}
