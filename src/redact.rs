//! What a message must not show of a credential, shared by the layers that
//! find credentials (`model::credentials`) and those that print source text
//! (`diagnostic`): how much of a text to mask ([`Redact`]) and where the
//! passwords of URLs are ([`url_password_ranges`]). A leaf: it uses no
//! other module of kgen.

/// How much of a credential's source text a snippet masks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Redact {
    /// The whole text is secret.
    Whole,
    /// The passwords of the URLs in it are secret (the whole text when they
    /// cannot be told apart in the source: escapes, several lines).
    UrlPasswords,
}

/// The byte ranges of the literal passwords of the URLs in `value`.
///
/// After `scheme://`, the user name runs to the first `:` (and holds no
/// `/`, `?`, `#` or `@`), and the password from there to the last `@` of
/// the URL (which ends at a space or a quote): a password may hold `/`,
/// `?` and `#`. A port (`host:8080/path@x`) is not a password.
pub fn url_password_ranges(value: &str) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = value[at..].find("://") {
        let start = at + i + 3;
        let after = &value[start..];
        let url = after.split([' ', '\n', '\t', '\r', '"', '\'', '`', '<', '>']).next().unwrap_or("");
        at = start;
        let Some(colon) = url.find(':') else { continue };
        let user = &url[..colon];
        if user.contains(['/', '?', '#', '@']) {
            continue;
        }
        let Some(end) = url.rfind('@').filter(|&e| e > colon) else { continue };
        let password = &url[colon + 1..end];
        let digits = password.bytes().take_while(u8::is_ascii_digit).count();
        let port = digits > 0 && password[digits..].starts_with(['/', '?', '#']);
        if password.is_empty() || port || is_reference(password) {
            continue;
        }
        let from = start + colon + 1;
        out.push(from..from + password.len());
        at = from + password.len();
    }
    out
}

/// `$(VAR)` (expanded by Kubernetes in env values, commands and args) or
/// `${VAR}` (expanded by a shell).
pub fn is_reference(s: &str) -> bool {
    let inner = s.strip_prefix("$(").and_then(|r| r.strip_suffix(')'));
    let inner = inner.or_else(|| s.strip_prefix("${").and_then(|r| r.strip_suffix('}')));
    inner.is_some_and(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
}
