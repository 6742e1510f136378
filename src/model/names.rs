//! Name and label rules as the Kubernetes API server applies them. The
//! names kgen derives are `naming`'s.

/// Why `s` is not a DNS-1123 label (lowercase alphanumerics and `-`,
/// alphanumeric at both ends, at most `max` characters).
pub fn dns1123_label(s: &str, max: usize) -> Result<(), String> {
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.len() > max {
        return Err(format!("is {} characters, more than {max}", s.len()));
    }
    if !s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        return Err("may contain only lowercase letters, digits and `-`".into());
    }
    if s.starts_with('-') || s.ends_with('-') {
        return Err("must start and end with a letter or digit".into());
    }
    Ok(())
}

/// Why `s` is not a DNS-1035 label (a DNS-1123 label starting with a letter).
pub fn dns1035_label(s: &str, max: usize) -> Result<(), String> {
    dns1123_label(s, max)?;
    if !s.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err("must start with a letter".into());
    }
    Ok(())
}

/// Why `s` is not a DNS-1123 subdomain: dot-separated parts of lowercase
/// alphanumerics and `-`, alphanumeric at both ends, at most `max`
/// characters in all. As in the API server's `IsDNS1123Subdomain`, a part
/// may be longer than a DNS label's 63 characters: only the total counts.
pub fn dns1123_subdomain(s: &str, max: usize) -> Result<(), String> {
    if s.len() > max {
        return Err(format!("is {} characters, more than {max}", s.len()));
    }
    for part in s.split('.') {
        dns1123_label(part, usize::MAX)
            .map_err(|e| if part.is_empty() { "has an empty part between dots".into() } else { e })?;
    }
    Ok(())
}

/// Why `s` is not a host name that DNS can serve: a DNS-1123 subdomain of
/// at most `max` characters whose parts are labels of at most 63.
pub fn dns_host_name(s: &str, max: usize) -> Result<(), String> {
    dns1123_subdomain(s, max)?;
    match s.split('.').find(|part| part.len() > 63) {
        Some(part) => Err(format!("has a part of {} characters, more than DNS allows (63)", part.len())),
        None => Ok(()),
    }
}

/// Why `s` is not a valid label value (at most 63 characters of
/// alphanumerics, `-`, `_` and `.`, alphanumeric at both ends; may be empty).
pub fn label_value(s: &str) -> Result<(), String> {
    if s.len() > 63 {
        return Err(format!("is {} characters, more than 63", s.len()));
    }
    if !s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)) {
        return Err("may contain only letters, digits, `-`, `_` and `.`".into());
    }
    let alnum_ends =
        s.starts_with(|c: char| c.is_ascii_alphanumeric()) && s.ends_with(|c: char| c.is_ascii_alphanumeric());
    if !s.is_empty() && !alnum_ends {
        return Err("must start and end with a letter or digit".into());
    }
    Ok(())
}

/// Why `s` is not a valid label or annotation key (`[prefix/]name`).
pub fn qualified_key(s: &str) -> Result<(), String> {
    if s.matches('/').count() > 1 {
        return Err("may contain at most one `/`, between a DNS prefix and the name (`example.com/name`)".into());
    }
    let (prefix, name) = match s.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    if let Some(p) = prefix {
        dns1123_subdomain(p, 253).map_err(|e| format!("prefix `{p}` {e}"))?;
    }
    if name.is_empty() || name.len() > 63 {
        return Err("name part must be 1 to 63 characters".into());
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        || !name.starts_with(|c: char| c.is_ascii_alphanumeric())
        || !name.ends_with(|c: char| c.is_ascii_alphanumeric())
    {
        return Err(
            "name part may contain letters, digits, `-`, `_` and `.`, and must start and end with a letter or digit"
                .into(),
        );
    }
    Ok(())
}

/// Why `s` is not a port name (IANA service name: at most 15 lowercase
/// alphanumerics and `-`, at least one letter, no `--`, no `-` at the ends).
pub fn port_name(s: &str) -> Result<(), String> {
    dns1123_label(s, 15)?;
    if s.contains("--") {
        return Err("must not contain `--`".into());
    }
    if !s.bytes().any(|b| b.is_ascii_lowercase()) {
        return Err("must contain a letter".into());
    }
    Ok(())
}

/// Why `s` is not a portable environment variable name.
pub fn env_var_name(s: &str) -> Result<(), String> {
    let ok = s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok { Ok(()) } else { Err("must be letters, digits and `_`, not starting with a digit".into()) }
}

/// Why `s` is not a ConfigMap or Secret key.
pub fn data_key(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 253 {
        return Err("must be 1 to 253 characters".into());
    }
    if !s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)) || s == "." || s.starts_with("..") {
        return Err("may contain only letters, digits, `-`, `_` and `.`".into());
    }
    Ok(())
}

/// The object kinds whose names have rules of their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameRule {
    /// Services: DNS-1035 label.
    Service,
    /// Namespaces, Jobs and containers: DNS-1123 label.
    Label,
    /// StatefulSets: a label short enough for the pod's
    /// `controller-revision-hash` label (`<name>-<10-char hash>`).
    StatefulSet,
    /// CronJobs: 52 characters, leaving room for the Job suffix.
    CronJob,
    /// Everything else: DNS-1123 subdomain.
    Subdomain,
}

impl NameRule {
    /// The rule for objects of a kind: the one table the model's naming
    /// and the bundle check share.
    pub fn of_kind(kind: &str) -> NameRule {
        match kind {
            "Service" => NameRule::Service,
            "Namespace" | "Job" => NameRule::Label,
            "StatefulSet" => NameRule::StatefulSet,
            "CronJob" => NameRule::CronJob,
            _ => NameRule::Subdomain,
        }
    }

    pub fn check(self, name: &str) -> Result<(), String> {
        match self {
            NameRule::Service => dns1035_label(name, 63),
            NameRule::Label => dns1123_label(name, 63),
            NameRule::StatefulSet => dns1123_label(name, 52),
            NameRule::CronJob => dns1123_subdomain(name, 52),
            NameRule::Subdomain => dns1123_subdomain(name, 253),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_rules() {
        assert!(dns1123_label("web-1", 63).is_ok());
        for bad in ["", "Web", "-web", "web-", "web_1", &"a".repeat(64)] {
            assert!(dns1123_label(bad, 63).is_err(), "{bad}");
        }
        assert!(dns1035_label("1web", 63).is_err());
        assert!(dns1123_subdomain("a.b-c.d", 253).is_ok());
        assert!(dns1123_subdomain("a..b", 253).is_err());
        // Only the whole name is bounded, not each part (ConfigMaps, Secrets…).
        assert!(dns1123_subdomain(&"a".repeat(253), 253).is_ok());
        assert!(dns1123_subdomain(&format!("{}.b", "a".repeat(100)), 253).is_ok());
        assert!(dns1123_subdomain(&"a".repeat(254), 253).is_err());
        assert!(dns_host_name("shop.example.com", 253).is_ok());
        assert!(dns_host_name(&format!("{}.example.com", "a".repeat(64)), 253).is_err());
    }

    #[test]
    fn kind_rules_leave_room_for_suffixes() {
        let name53 = "a".repeat(53);
        assert!(NameRule::Label.check(&name53).is_ok());
        assert!(NameRule::CronJob.check(&name53).is_err());
        assert!(NameRule::StatefulSet.check(&name53).is_err());
    }

    #[test]
    fn keys_values_ports_env() {
        assert!(qualified_key("app.kubernetes.io/name").is_ok());
        assert!(qualified_key("a/b/c").is_err());
        assert!(label_value("1.4.2").is_ok());
        assert!(label_value("1.4.2+build").is_err());
        assert!(port_name("http").is_ok());
        assert!(port_name("8080").is_err());
        assert!(port_name("very-long-port-name").is_err());
        assert!(env_var_name("DATABASE_URL").is_ok());
        assert!(env_var_name("1X").is_err());
        assert!(data_key("01-init.sql").is_ok());
    }
}
