//! Values that come from outside the profile: the data of Secrets kgen is
//! asked to create, read from kgen's environment or a dotenv file. This is
//! the only place besides `profile::load` that reads the environment or
//! files, and its errors point at the profile field that asked.

use std::collections::BTreeMap;

use crate::diagnostic::{Diagnostic, Errors};
use crate::files::{self, ReadError};
use crate::model::{Inputs, names};
use crate::path;
use crate::profile::load::Loaded;

/// Gather the inputs a loaded profile needs; `env` looks up environment
/// variables (std::env::var in the binary, a map in tests).
pub fn gather(loaded: &Loaded, env: &dyn Fn(&str) -> Option<String>) -> Result<Inputs, Errors> {
    let mut inputs = Inputs::default();
    let mut errors = Vec::new();
    for (name, secret) in &loaded.profile.secrets {
        let Some(create) = &secret.create else {
            continue;
        };
        let mut data = BTreeMap::new();
        if let Some(file) = &create.from_file {
            let at = path!["secrets", name, "create", "fromFile"];
            let full = loaded.dir.join(file);
            match files::read_text_file(&full, SECRET_FILE_MAX_BYTES) {
                Ok(text) => match parse_dotenv(&text) {
                    Ok(pairs) => data.extend(pairs),
                    Err((line, why)) => errors.push(located(loaded, &at, format!("{}:{line}: {why}", full.display()))),
                },
                Err(e) => {
                    let mut d = located(loaded, &at, format!("cannot read `{}`: {}", full.display(), e.reason()));
                    if matches!(e, ReadError::TooLarge { .. }) {
                        d = d.hint("a Secret holds at most 1 MiB");
                    }
                    errors.push(d)
                }
            }
        }
        let from_file: Vec<String> = data.keys().cloned().collect();
        for (key, var) in &create.from_env {
            let at = path!["secrets", name, "create", "fromEnv", key];
            if let Err(why) = names::data_key(key) {
                errors.push(located(loaded, &at, format!("Secret key `{key}` {why}")));
                continue;
            }
            // Not a variable name: the model refuses it.
            if names::env_var_name(var).is_err() {
                continue;
            }
            if from_file.contains(key) {
                errors.push(
                    Diagnostic::error(format!("Secret key `{key}` comes from both `fromEnv` and `fromFile`"))
                        .at(Some(loaded.key_span_of(&at)))
                        .path(loaded.display_path(&at))
                        .hint("give each key one source: remove it here or from the file"),
                );
                continue;
            }
            match env(var) {
                Some(value) => {
                    data.insert(key.clone(), value);
                }
                None => errors.push(
                    located(loaded, &at, format!("environment variable `{var}` is not set"))
                        .hint(format!("export {var}=… before running kgen; its value goes into Secret `{name}`")),
                ),
            }
        }
        inputs.secret_data.insert(name.clone(), data);
    }
    if errors.is_empty() { Ok(inputs) } else { Err(Errors(errors)) }
}

/// The largest dotenv file read: a Secret holds at most 1 MiB.
const SECRET_FILE_MAX_BYTES: u64 = 1 << 20;

fn located(loaded: &Loaded, at: &[crate::yaml::PathSegment], message: String) -> Diagnostic {
    Diagnostic::error(message).at(Some(loaded.span_of(at))).path(loaded.display_path(at))
}

/// `KEY=value` lines; blank lines and `#` comments are skipped, and a value
/// may be wrapped in single or double quotes.
pub fn parse_dotenv(text: &str) -> Result<Vec<(String, String)>, (usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((key, value)) = line.split_once('=') else {
            return Err((i + 1, "expected KEY=value".into()));
        };
        let key = key.trim();
        // The key is not repeated: on a malformed line it may be a value.
        names::data_key(key).map_err(|why| (i + 1, format!("the key before `=` {why}")))?;
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
            .unwrap_or(value);
        out.push((key.to_string(), value.to_string()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotenv_lines() {
        let pairs = parse_dotenv("# c\nA=1\nexport B=\"two words\"\n\nC='x=y'\n").unwrap();
        assert_eq!(pairs, [("A".into(), "1".into()), ("B".into(), "two words".into()), ("C".into(), "x=y".into())]);
        assert_eq!(parse_dotenv("oops\n").unwrap_err().0, 1);
    }
}
