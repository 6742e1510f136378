//! Telling credentials from plain values, so that none ends up in a
//! ConfigMap, a literal environment variable, a command line or an
//! annotation (all readable by anyone who can read the object).
//!
//! Two rules, chosen to catch the common leaks without flagging ordinary
//! settings:
//!
//! - **A name that ends in a credential word** holds a credential: the last
//!   word of the name (split at `_`, `-`, `.` and lower-to-upper case
//!   changes) is `PASSWORD`, `PASSWD`, `PASS`, `SECRET` or `TOKEN`, or the
//!   last two are `API KEY`, `PRIVATE KEY`, `SECRET KEY` or `ACCESS KEY`
//!   (`APIKEY` counts as well). So `DB_PASSWORD`, `JWT_SECRET`,
//!   `GITHUB_TOKEN`, `STRIPE_API_KEY` and `AWS_SECRET_ACCESS_KEY` are
//!   credentials, while `TOKEN_TTL`, `PASSWORD_MIN_LENGTH`, `SECRET_NAME`,
//!   `PASSWORD_FILE` and `AWS_ACCESS_KEY_ID` are not. An empty value is
//!   never a credential.
//! - **A URL with a password** (`scheme://user:password@host`) is a
//!   credential under any name, unless the password is a reference that
//!   Kubernetes or a shell fills in: `$(VAR)` or `${VAR}`.

use crate::diagnostic::Redact;
use crate::yaml::PathSegment;

/// Whether a variable or setting named `name` holds a credential.
pub fn is_credential_name(name: &str) -> bool {
    let words = words(name);
    let last = words.last().map(String::as_str);
    let last_two = match words.as_slice() {
        [.., a, b] => Some((a.as_str(), b.as_str())),
        _ => None,
    };
    matches!(last, Some("PASSWORD" | "PASSWD" | "PASS" | "SECRET" | "TOKEN" | "APIKEY"))
        || matches!(last_two, Some(("API" | "PRIVATE" | "SECRET" | "ACCESS", "KEY")))
}

/// Whether `value` contains a URL with a literal password.
pub fn has_url_password(value: &str) -> bool {
    !url_password_ranges(value).is_empty()
}

/// The byte ranges of the literal passwords of the URLs in `value`.
pub fn url_password_ranges(value: &str) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = value[at..].find("://") {
        let start = at + i + 3;
        let after = &value[start..];
        let authority = after.split(['/', '?', '#', ' ', '\n', '\t', '"', '\'']).next().unwrap_or("");
        if let Some((userinfo, _host)) = authority.rsplit_once('@')
            && let Some((user, password)) = userinfo.split_once(':')
            && !password.is_empty()
            && !is_reference(password)
        {
            let from = start + user.len() + 1;
            out.push(from..from + password.len());
        }
        at = start;
    }
    out
}

/// `value` with the passwords of its URLs written as `****`.
pub fn mask_url_passwords(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut from = 0;
    for r in url_password_ranges(value) {
        out.push_str(&value[from..r.start]);
        out.push_str("****");
        from = r.end;
    }
    out.push_str(&value[from..]);
    out
}

/// Credentials written as plain text anywhere in a rendered object (one a
/// patch changed): literal variables under a credential name or holding a
/// URL with a password, such URLs in commands, arguments and annotations,
/// and credential-named keys of a ConfigMap. Each with its path in the
/// object.
pub fn plain_text_in(object: &serde_json::Value) -> Vec<(String, Vec<PathSegment>, Redact)> {
    let mut found = Vec::new();
    let is_config_map = object.get("kind").and_then(serde_json::Value::as_str) == Some("ConfigMap");
    if is_config_map && let Some(data) = object.get("data").and_then(serde_json::Value::as_object) {
        for (key, value) in data {
            let value = value.as_str().unwrap_or_default();
            if !value.is_empty() && (is_credential_name(key) || has_url_password(value)) {
                found.push((
                    format!("ConfigMap key `{key}` holds a credential"),
                    path_of(&["data", key]),
                    Redact::Whole,
                ));
            }
        }
    }
    walk(object, &mut Vec::new(), &mut found);
    found
}

fn path_of(keys: &[&str]) -> Vec<PathSegment> {
    keys.iter().map(|k| PathSegment::Key(k.to_string())).collect()
}

fn walk(value: &serde_json::Value, at: &mut Vec<PathSegment>, found: &mut Vec<(String, Vec<PathSegment>, Redact)>) {
    use serde_json::Value;
    let leak = |what: String, at: &[PathSegment], tail: &[PathSegment], kind| (what, [at, tail].concat(), kind);
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let here = PathSegment::Key(key.clone());
                match (key.as_str(), child) {
                    ("env", Value::Array(vars)) => {
                        for (i, var) in vars.iter().enumerate() {
                            let name = var.get("name").and_then(Value::as_str).unwrap_or_default();
                            let literal = var.get("value").and_then(Value::as_str).unwrap_or_default();
                            if !literal.is_empty() && (is_credential_name(name) || has_url_password(literal)) {
                                let tail = [here.clone(), PathSegment::Index(i), PathSegment::Key("value".into())];
                                let kind = if is_credential_name(name) { Redact::Whole } else { Redact::UrlPasswords };
                                let why = format!("variable `{name}` holds a credential as plain text");
                                found.push(leak(why, at, &tail, kind));
                            }
                        }
                    }
                    ("command" | "args", Value::Array(items)) => {
                        for (i, item) in items.iter().enumerate() {
                            if item.as_str().is_some_and(has_url_password) {
                                let tail = [here.clone(), PathSegment::Index(i)];
                                found.push(leak(
                                    format!("`{key}` contains a URL with a password"),
                                    at,
                                    &tail,
                                    Redact::UrlPasswords,
                                ));
                            }
                        }
                    }
                    ("annotations", Value::Object(annotations)) => {
                        for (name, v) in annotations {
                            if v.as_str().is_some_and(has_url_password) {
                                let tail = [here.clone(), PathSegment::Key(name.clone())];
                                let why = format!("annotation `{name}` contains a URL with a password");
                                found.push(leak(why, at, &tail, Redact::UrlPasswords));
                            }
                        }
                    }
                    _ => {
                        at.push(here);
                        walk(child, at, found);
                        at.pop();
                    }
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                at.push(PathSegment::Index(i));
                walk(item, at, found);
                at.pop();
            }
        }
        _ => {}
    }
}

/// `$(VAR)` (expanded by Kubernetes in env values, commands and args) or
/// `${VAR}` (expanded by a shell).
fn is_reference(s: &str) -> bool {
    let inner = s.strip_prefix("$(").and_then(|r| r.strip_suffix(')'));
    let inner = inner.or_else(|| s.strip_prefix("${").and_then(|r| r.strip_suffix('}')));
    inner.is_some_and(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
}

/// The words of a name, upper-cased: `dbPassword` and `DB_PASSWORD` are
/// both `[DB, PASSWORD]`.
fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        word.extend(c.to_uppercase());
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_names_end_in_a_credential_word() {
        for name in [
            "PASSWORD",
            "DB_PASSWORD",
            "dbPassword",
            "REDIS_PASS",
            "JWT_SECRET",
            "client-secret",
            "GITHUB_TOKEN",
            "STRIPE_API_KEY",
            "OPENAI_APIKEY",
            "SSH_PRIVATE_KEY",
            "DJANGO_SECRET_KEY",
            "AWS_SECRET_ACCESS_KEY",
            "MYSQL_ROOT_PASSWD",
        ] {
            assert!(is_credential_name(name), "{name}");
        }
        for name in [
            "TOKEN_TTL",
            "PASSWORD_MIN_LENGTH",
            "SECRET_NAME",
            "PASSWORD_FILE",
            "AWS_ACCESS_KEY_ID",
            "BYPASS",
            "COMPASS",
            "TOKENS",
            "KEY",
            "CACHE_KEY",
            "PORT",
            "ENV",
            "",
        ] {
            assert!(!is_credential_name(name), "{name}");
        }
    }

    #[test]
    fn urls_with_passwords() {
        for v in [
            "postgres://app:s3cret@db:5432/app",
            "redis://:hunter2@redis:6379/0",
            "see https://a.example and amqp://u:p@mq/",
            "mongodb+srv://u:p@cluster.example/db?retryWrites=true",
        ] {
            assert!(has_url_password(v), "{v}");
        }
        for v in [
            "postgres://app@db:5432/app",
            "postgres://app:$(DB_PASSWORD)@db:5432/app",
            "postgres://app:${DB_PASSWORD}@db/app",
            "https://example.com/a:b@c",
            "http://localhost:3000",
            "user:pass@host",
            "mailto:ops@example.com",
            "https://u:@host/",
        ] {
            assert!(!has_url_password(v), "{v}");
        }
    }

    #[test]
    fn plain_text_credentials_are_found_anywhere_in_an_object() {
        let object = serde_json::json!({
            "kind": "ConfigMap",
            "metadata": {"annotations": {"a": "plain", "b": "s3://k:v@bucket"}},
            "data": {"API_TOKEN": "t0k", "MODE": "fast", "EMPTY_SECRET": ""},
            "spec": {"containers": [{"env": [{"name": "URL", "value": "postgres://u:$(PW)@db"}, {"name": "X_PASS", "value": "p"}],
                                     "args": ["--x", "http://u:p@h"]}]}
        });
        let found: Vec<String> = plain_text_in(&object)
            .into_iter()
            .map(|(why, at, _)| format!("{why} at {}", crate::yaml::format_path(&at)))
            .collect();
        assert_eq!(
            found,
            [
                "ConfigMap key `API_TOKEN` holds a credential at data.API_TOKEN",
                "annotation `b` contains a URL with a password at metadata.annotations.b",
                "variable `X_PASS` holds a credential as plain text at spec.containers[0].env[1].value",
                "`args` contains a URL with a password at spec.containers[0].args[1]",
            ]
        );
    }

    #[test]
    fn url_passwords_are_masked() {
        assert_eq!(mask_url_passwords("postgres://shop:hunter2@db/shop"), "postgres://shop:****@db/shop");
        assert_eq!(
            mask_url_passwords("redis://:pw@r:6379 and amqp://u:p@mq/"),
            "redis://:****@r:6379 and amqp://u:****@mq/"
        );
        assert_eq!(mask_url_passwords("https://u:a@b@host/"), "https://u:****@host/");
        assert_eq!(mask_url_passwords("postgres://app:$(DB_PASSWORD)@db"), "postgres://app:$(DB_PASSWORD)@db");
    }
}
