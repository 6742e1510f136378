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
//!   The last word may also be written together with others
//!   (`PGPASSWORD`, `CLIENTSECRET`), and `PWD` ends a credential name
//!   after another word (`MYSQL_PWD`; `PWD` alone is the shell's working
//!   directory). A value that is only a reference (`$(VAR)`, `${VAR}`) is
//!   not written as plain text.
//! - **A URL with a password** (`scheme://user:password@host`) is a
//!   credential under any name, unless the password is a reference that
//!   Kubernetes or a shell fills in: `$(VAR)` or `${VAR}`. The password may
//!   hold `/`, `?` and `#` (which a URL parser would take for the path).
//! - **A value shaped like a credential** under any name: a PEM private
//!   key, a JSON Web Token, an AWS access key ID, a GitHub, GitLab, Slack,
//!   Stripe, Google or npm token, a Slack webhook URL. These shapes are
//!   long and specific, so ordinary values do not match them.
//!
//! [`plain_text_in`] applies the rules to a whole object (every object but
//! a `v1` Secret): every string it holds, by the name of its field or
//! variable where the object names it.

use crate::redact::{Redact, is_reference, url_password_ranges};
use crate::yaml::PathSegment;

/// Whether a variable or setting named `name` holds a credential.
pub fn is_credential_name(name: &str) -> bool {
    let words = words(name);
    let Some(last) = words.last().map(String::as_str) else { return false };
    let last_two = match words.as_slice() {
        [.., a, b] => Some((a.as_str(), b.as_str())),
        _ => None,
    };
    matches!(last, "PASSWORD" | "PASSWD" | "PASS" | "SECRET" | "TOKEN" | "APIKEY" | "PASSPHRASE")
        // Written together: PGPASSWORD, CLIENTSECRET, AUTHTOKEN.
        || ["PASSWORD", "PASSWD", "SECRET", "TOKEN", "APIKEY", "PASSPHRASE"].iter().any(|w| last.ends_with(w))
        || (last == "PWD" && words.len() > 1)
        || matches!(last_two, Some(("API" | "PRIVATE" | "SECRET" | "ACCESS" | "ENCRYPTION" | "SIGNING", "KEY")))
        || KNOWN_CREDENTIAL_NAMES.contains(&name.to_ascii_uppercase().as_str())
}

/// Names that hold credentials by the convention of one tool, though no
/// rule above would say so.
const KNOWN_CREDENTIAL_NAMES: &[&str] = &["REDISCLI_AUTH", "PGPASS"];

/// Whether a field named `name` in an object that is not a Secret holds a
/// credential, for fields other than variables and ConfigMap keys. Like
/// [`is_credential_name`], except that a field ending in `SECRET`
/// (`existingSecret`, `tokenSecret`) names a Secret more often than it
/// holds one.
fn is_credential_field(name: &str) -> bool {
    is_credential_name(name) && !words(name).last().is_some_and(|w| w.ends_with("SECRET"))
}

/// Whether a value is written as plain text: not empty, and not only a
/// reference that Kubernetes or a shell fills in.
pub fn is_plain_value(value: &str) -> bool {
    !value.trim().is_empty() && !is_reference(value.trim())
}

/// Whether `value` contains a URL with a literal password.
pub fn has_url_password(value: &str) -> bool {
    !url_password_ranges(value).is_empty()
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

/// What a value looks like when its shape is a credential's (a PEM
/// private key, a JWT, a cloud or service token), for messages.
pub fn credential_shape(value: &str) -> Option<&'static str> {
    if value.contains("-----BEGIN") && value.contains("PRIVATE KEY-----") {
        return Some("a private key");
    }
    if value.contains("hooks.slack.com/services/T") {
        return Some("a Slack webhook URL");
    }
    tokens(value).find_map(token_shape)
}

/// The runs of token characters in a value (letters, digits, `_`, `-`,
/// `.`, `/`, `+`, `=`).
fn tokens(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | '+' | '=')))
        .filter(|t| t.len() >= 16)
}

fn token_shape(token: &str) -> Option<&'static str> {
    let alnum = |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric());
    let base64url = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let upper_digits = |s: &str| s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    let with = |prefix: &str, min: usize, ok: &dyn Fn(&str) -> bool| {
        token.strip_prefix(prefix).is_some_and(|rest| rest.len() >= min && ok(rest))
    };
    // AKIA/ASIA + 16: an AWS access key ID, within a longer token or alone.
    for prefix in ["AKIA", "ASIA"] {
        if let Some(i) = token.find(prefix) {
            let rest = &token[i + 4..];
            let before_ok = i == 0 || !token.as_bytes()[i - 1].is_ascii_alphanumeric();
            let id = rest.get(..16).is_some_and(upper_digits);
            let after_ok = rest.as_bytes().get(16).is_none_or(|b| !b.is_ascii_alphanumeric());
            if before_ok && id && after_ok {
                return Some("an AWS access key ID");
            }
        }
    }
    if ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"].iter().any(|p| with(p, 36, &alnum))
        || with("github_pat_", 40, &base64url)
    {
        return Some("a GitHub token");
    }
    if with("glpat-", 20, &base64url) {
        return Some("a GitLab token");
    }
    if ["xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xapp-"]
        .iter()
        .any(|p| with(p, 10, &|r: &str| r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')))
    {
        return Some("a Slack token");
    }
    if ["sk_live_", "rk_live_"].iter().any(|p| with(p, 16, &alnum)) {
        return Some("a Stripe secret key");
    }
    if with("AIza", 35, &base64url) {
        return Some("a Google API key");
    }
    if with("npm_", 36, &alnum) {
        return Some("an npm token");
    }
    // header.payload.signature, each base64url; the header and the payload
    // are JSON objects (`{"` is `eyJ`).
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() == 3
        && parts[0].starts_with("eyJ")
        && parts[1].starts_with("eyJ")
        && parts.iter().all(|p| base64url(p))
        && parts[2].len() >= 16
    {
        return Some("a JSON Web Token");
    }
    None
}

/// A value that is a credential whatever it is called: a URL with a
/// password, or a credential's shape. Why, and how to mask it.
pub fn value_problem(value: &str) -> Option<(String, Redact)> {
    if has_url_password(value) {
        return Some(("contains a URL with a password".into(), Redact::UrlPasswords));
    }
    credential_shape(value).map(|shape| (format!("holds what looks like {shape}"), Redact::Whole))
}

/// Credentials written as plain text anywhere in an object that is not a
/// Secret (one kgen rendered, a patch changed or an extra manifest holds):
/// variables under a credential name, ConfigMap keys (`data` and
/// `binaryData`) under one, command-line flags (`--password=…`,
/// `--password …`), fields under one, and under any name a URL with a
/// password or a value shaped like a credential; the items of a `List`
/// too. Each with its path in the object.
pub fn plain_text_in(object: &serde_json::Value) -> Vec<(String, Vec<PathSegment>, Redact)> {
    let mut found = Vec::new();
    object_leaks(object, &mut Vec::new(), &mut found);
    found
}

type Found = Vec<(String, Vec<PathSegment>, Redact)>;

fn object_leaks(object: &serde_json::Value, at: &mut Vec<PathSegment>, found: &mut Found) {
    use serde_json::Value;
    let text = |k: &str| object.get(k).and_then(Value::as_str).unwrap_or_default();
    let (api_version, kind) = (text("apiVersion"), text("kind"));
    if api_version == "v1" && kind == "Secret" {
        return;
    }
    if (kind == "List" || kind.ends_with("List"))
        && let Some(Value::Array(items)) = object.get("items")
    {
        for (i, item) in items.iter().enumerate() {
            at.extend([PathSegment::Key("items".into()), PathSegment::Index(i)]);
            object_leaks(item, at, found);
            at.truncate(at.len() - 2);
        }
    }
    let is_config_map = api_version == "v1" && kind == "ConfigMap";
    if is_config_map {
        for field in ["data", "binaryData"] {
            for (key, value) in object.get(field).and_then(Value::as_object).into_iter().flatten() {
                let raw = value.as_str().unwrap_or_default();
                let decoded = if field == "binaryData" {
                    serde_json::from_value::<k8s_openapi::ByteString>(value.clone())
                        .map(|b| String::from_utf8_lossy(&b.0).into_owned())
                        .unwrap_or_default()
                } else {
                    raw.to_string()
                };
                let mut here = at.clone();
                here.extend([PathSegment::Key(field.into()), PathSegment::Key(key.clone())]);
                if is_plain_value(&decoded) && is_credential_name(key) {
                    found.push((format!("ConfigMap key `{key}` holds a credential"), here, Redact::Whole));
                } else if let Some((why, _)) = value_problem(&decoded) {
                    found.push((format!("ConfigMap key `{key}` {why}"), here, Redact::Whole));
                }
            }
        }
    }
    let is_list = kind == "List" || kind.ends_with("List");
    // A SealedSecret's values are ciphertext, and an ExternalSecret's
    // `secretKey`s name keys of the Secret it makes: neither is a value.
    let without_names;
    let object = if let Some(strip) = names_not_values(api_version, kind) {
        let mut copy = object.clone();
        strip(&mut copy);
        without_names = copy;
        &without_names
    } else {
        object
    };
    if let Value::Object(map) = object {
        for (key, child) in map {
            let done = (is_list && key == "items") || (is_config_map && matches!(key.as_str(), "data" | "binaryData"));
            if !done {
                at.push(PathSegment::Key(key.clone()));
                walk(key, child, at, found);
                at.pop();
            }
        }
    }
}

/// For custom resources whose fields hold names or ciphertext where the
/// name rule would see credentials, what removes those fields.
fn names_not_values(api_version: &str, kind: &str) -> Option<fn(&mut serde_json::Value)> {
    let group = api_version.split_once('/').map_or("", |(g, _)| g);
    match (group, kind) {
        ("bitnami.com", "SealedSecret") => Some(|o| {
            if let Some(spec) = o.get_mut("spec").and_then(serde_json::Value::as_object_mut) {
                spec.shift_remove("encryptedData");
            }
        }),
        ("external-secrets.io", "ExternalSecret") => Some(|o| {
            for item in o.pointer_mut("/spec/data").and_then(serde_json::Value::as_array_mut).into_iter().flatten() {
                if let Some(item) = item.as_object_mut() {
                    item.shift_remove("secretKey");
                }
            }
        }),
        _ => None,
    }
}

/// A field `key` of value `value` at `at`, and everything under it.
fn walk(key: &str, value: &serde_json::Value, at: &mut Vec<PathSegment>, found: &mut Found) {
    use serde_json::Value;
    let here = |tail: &[PathSegment]| [at.as_slice(), tail].concat();
    match (key, value) {
        ("env", Value::Array(vars)) => {
            for (i, var) in vars.iter().enumerate() {
                let name = var.get("name").and_then(Value::as_str).unwrap_or_default();
                let literal = var.get("value").and_then(Value::as_str).unwrap_or_default();
                let tail = [PathSegment::Index(i), PathSegment::Key("value".into())];
                if is_plain_value(literal) && is_credential_name(name) {
                    found.push((
                        format!("variable `{name}` holds a credential as plain text"),
                        here(&tail),
                        Redact::Whole,
                    ));
                } else if let Some((why, redact)) = value_problem(literal) {
                    found.push((format!("variable `{name}` {why}"), here(&tail), redact));
                }
                // The rest of the item (valueFrom) holds names only.
            }
        }
        ("command" | "args", Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let Some(arg) = item.as_str() else { continue };
                if let Some((why, redact)) = value_problem(arg) {
                    found.push((format!("`{key}` {why}"), here(&[PathSegment::Index(i)]), redact));
                } else if let Some(flag) = credential_flag(arg) {
                    match arg.split_once('=') {
                        Some((_, value)) if is_plain_value(value) => found.push((
                            format!("`{key}` gives `{flag}` a credential as plain text"),
                            here(&[PathSegment::Index(i)]),
                            Redact::Whole,
                        )),
                        Some(_) => {}
                        // `--password VALUE`: the value is the next item.
                        None => {
                            if let Some(next) = items.get(i + 1).and_then(Value::as_str)
                                && !next.starts_with('-')
                                && is_plain_value(next)
                            {
                                found.push((
                                    format!("`{key}` gives `{flag}` a credential as plain text"),
                                    here(&[PathSegment::Index(i + 1)]),
                                    Redact::Whole,
                                ));
                            }
                        }
                    }
                }
            }
        }
        ("annotations" | "labels", Value::Object(entries)) => {
            // Keys follow other tools' conventions (Vault's
            // `agent-inject-token: "true"`): only values are checked.
            let what = if key == "labels" { "label" } else { "annotation" };
            for (name, v) in entries {
                if let Some((why, redact)) = v.as_str().and_then(value_problem) {
                    found.push((format!("{what} `{name}` {why}"), here(&[PathSegment::Key(name.clone())]), redact));
                }
            }
        }
        (_, Value::Object(map)) => {
            for (k, child) in map {
                at.push(PathSegment::Key(k.clone()));
                walk(k, child, at, found);
                at.pop();
            }
        }
        (_, Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                at.push(PathSegment::Index(i));
                walk(key, item, at, found);
                at.pop();
            }
        }
        (_, Value::String(s)) => {
            if is_plain_value(s) && is_credential_field(key) && !looks_like_a_path(s) {
                found.push((format!("field `{key}` holds a credential as plain text"), at.clone(), Redact::Whole));
            } else if let Some((why, redact)) = value_problem(s) {
                found.push((format!("field `{key}` {why}"), at.clone(), redact));
            }
        }
        _ => {}
    }
}

/// A value that names a file rather than holding a secret.
fn looks_like_a_path(s: &str) -> bool {
    s.starts_with('/') && !s.contains(char::is_whitespace)
}

/// The flag of a command-line argument named after a credential
/// (`--password`, `--api-token=…`); not a negation (`--no-password`).
fn credential_flag(arg: &str) -> Option<String> {
    let name = arg.strip_prefix("--")?.split('=').next()?;
    (!name.starts_with("no-") && is_credential_name(name)).then(|| format!("--{name}"))
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
    fn sealed_values_and_external_secret_keys_are_not_plain_text() {
        let sealed = serde_json::json!({
            "apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret", "metadata": {"name": "s"},
            "spec": {"encryptedData": {"DB_PASSWORD": "AgBy3i4OJSWK"}, "template": {"type": "Opaque"}},
        });
        assert!(plain_text_in(&sealed).is_empty());
        let external = serde_json::json!({
            "apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret", "metadata": {"name": "s"},
            "spec": {"data": [{"secretKey": "DB_PASSWORD", "remoteRef": {"key": "prod/db"}}]},
        });
        assert!(plain_text_in(&external).is_empty());
        // Elsewhere, the same fields are checked as before.
        let other = serde_json::json!({
            "apiVersion": "example.com/v1", "kind": "Thing", "metadata": {"name": "s"},
            "spec": {"data": [{"secretKey": "hunter2"}]},
        });
        assert_eq!(plain_text_in(&other).len(), 1);
    }

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
            "PGPASSWORD",
            "MYSQL_PWD",
            "REDISCLI_AUTH",
            "OAUTH_CLIENTSECRET",
            "SLACK_AUTHTOKEN",
            "GPG_PASSPHRASE",
            "DATA_ENCRYPTION_KEY",
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
            "PWD",
            "PGPASSFILE",
            "TOKENIZER",
            "GOOGLE_APPLICATION_CREDENTIALS",
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
            "postgres://app:pa/ss@db/app",
            "postgres://app:p?w#d@db:5432/app",
            "redis://:a/b?c#d@cache:6379/0",
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
            "https://example.com:8443/users/@me",
            "http://registry:5000/v2/app@sha256",
        ] {
            assert!(!has_url_password(v), "{v}");
        }
    }

    #[test]
    fn plain_text_credentials_are_found_anywhere_in_an_object() {
        let object = serde_json::json!({
            "apiVersion": "v1",
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
    fn credential_shapes() {
        let cases = [
            ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY-----", "a private key"),
            ("-----BEGIN RSA PRIVATE KEY-----", "a private key"),
            (
                "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
                "a JSON Web Token",
            ),
            ("AKIAIOSFODNN7EXAMPLE", "an AWS access key ID"),
            ("aws_access_key_id=ASIAIOSFODNN7EXAMPLE", "an AWS access key ID"),
            ("ghp_0123456789abcdefghijABCDEFGHIJ012345", "a GitHub token"),
            ("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789", "a GitHub token"),
            ("glpat-0123456789abcdefghij", "a GitLab token"),
            ("xoxb-123456789012-1234567890123-abcdefghijklmnop", "a Slack token"),
            ("https://hooks.slack.com/services/T000/B000/XXXX", "a Slack webhook URL"),
            ("sk_live_0123456789abcdefghij", "a Stripe secret key"),
            ("AIzaSyA0123456789abcdefghijklmnopqrstuv", "a Google API key"),
            ("npm_0123456789abcdefghijABCDEFGHIJ012345", "an npm token"),
        ];
        for (value, shape) in cases {
            assert_eq!(credential_shape(value), Some(shape), "{value}");
        }
        for value in [
            "-----BEGIN CERTIFICATE-----",
            "-----BEGIN PUBLIC KEY-----",
            "AKIA",
            "MAKIAIOSFODNN7EXAMPLE1",
            "ghp_short",
            "eyJhbGciOiJIUzI1NiJ9",
            "a.b.c",
            "sk-something",
            "/run/kgen/pgpass",
            "kgen-check-placeholder",
            "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            assert_eq!(credential_shape(value), None, "{value}");
        }
    }

    /// issue 13: the places a value can land in, and none of kgen's own.
    #[test]
    fn every_field_a_value_can_land_in() {
        let found = |object: serde_json::Value| -> Vec<String> {
            plain_text_in(&object)
                .into_iter()
                .map(|(why, at, _)| format!("{why} at {}", crate::yaml::format_path(&at)))
                .collect()
        };
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        assert_eq!(
            found(
                serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"labels": {"k": "AKIAIOSFODNN7EXAMPLE"}},
                "data": {"PGPASSWORD": "x", "url": "postgres://u:a/b@db/x"},
                "binaryData": {"TOKEN": "eA==", "jwt": k8s_openapi::ByteString(jwt.as_bytes().to_vec())}})
            ),
            [
                "ConfigMap key `PGPASSWORD` holds a credential at data.PGPASSWORD",
                "ConfigMap key `url` contains a URL with a password at data.url",
                "ConfigMap key `TOKEN` holds a credential at binaryData.TOKEN",
                "ConfigMap key `jwt` holds what looks like a JSON Web Token at binaryData.jwt",
                "label `k` holds what looks like an AWS access key ID at metadata.labels.k",
            ]
        );
        assert_eq!(
            found(serde_json::json!({"apiVersion": "v1", "kind": "List", "items": [
                {"apiVersion": "v1", "kind": "ConfigMap", "data": {"API_TOKEN": "t"}},
                {"apiVersion": "v1", "kind": "Secret", "stringData": {"API_TOKEN": "fine in a Secret"}},
                {"apiVersion": "example.com/v1", "kind": "Secret", "spec": {"password": "hunter2", "name": "x"}},
            ]})),
            [
                "ConfigMap key `API_TOKEN` holds a credential at items[0].data.API_TOKEN",
                "field `password` holds a credential as plain text at items[2].spec.password",
            ]
        );
        assert_eq!(
            found(serde_json::json!({"kind": "Job", "spec": {"containers": [{
                "command": ["migrate", "--database-password=hunter2", "--api-token", "t0k", "--no-password", "db"],
                "args": ["--password=$(DB_PASSWORD)", "--password-file=/run/x", jwt],
                "env": [{"name": "MYSQL_PWD", "value": "p"}, {"name": "PGPASSFILE", "value": "/run/kgen/pgpass"},
                        {"name": "DB_PASSWORD", "value": "$(OTHER)"}, {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
                        {"name": "GH", "value": "ghp_0123456789abcdefghijABCDEFGHIJ012345"}]}]}})),
            [
                "`command` gives `--database-password` a credential as plain text at spec.containers[0].command[1]",
                "`command` gives `--api-token` a credential as plain text at spec.containers[0].command[3]",
                "`args` holds what looks like a JSON Web Token at spec.containers[0].args[2]",
                "variable `MYSQL_PWD` holds a credential as plain text at spec.containers[0].env[0].value",
                "variable `GH` holds what looks like a GitHub token at spec.containers[0].env[4].value",
            ]
        );
        // Names of Secrets, paths and references are not credentials.
        assert_eq!(
            found(
                serde_json::json!({"kind": "Cluster", "spec": {"existingSecret": "db-creds", "tokenPath": "/var/run/token",
                "passwordFile": "/run/secrets/password", "bearerTokenFile": "/var/run/secrets/token", "token": "/var/run/x"}})
            ),
            Vec::<String>::new()
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
        assert_eq!(mask_url_passwords("postgres://app:p?w#d/x@db/app x"), "postgres://app:****@db/app x");
    }
}
