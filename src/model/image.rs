//! Container image references: `[registry/]repository[:tag][@digest]`.

/// A parsed image reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageRef {
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageRef {
    /// Parse a whole reference, checking each part.
    pub fn parse(reference: &str) -> Result<ImageRef, String> {
        let (rest, digest) = match reference.split_once('@') {
            Some((r, d)) => (r, Some(d.to_string())),
            None => (reference, None),
        };
        let (repository, tag) = match rest.rsplit_once(':') {
            Some((r, t)) if !t.contains('/') => (r, Some(t.to_string())),
            _ => (rest, None),
        };
        let image = ImageRef { repository: repository.to_string(), tag, digest };
        image.check()?;
        Ok(image)
    }

    /// Check the parts: lowercase repository path, tag and digest syntax.
    pub fn check(&self) -> Result<(), String> {
        check_repository(&self.repository)?;
        if let Some(tag) = &self.tag {
            let ok = !tag.is_empty()
                && tag.len() <= 128
                && tag.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
                && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
            if !ok {
                return Err(format!("tag `{tag}` is not valid: letters, digits, `_`, `.` and `-`, at most 128"));
            }
        }
        if let Some(digest) = &self.digest {
            let ok = digest.split_once(':').is_some_and(|(algo, hex)| {
                !algo.is_empty()
                    && algo.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+._-".contains(&b))
                    && hex.len() >= 32
                    && hex.bytes().all(|b| b.is_ascii_hexdigit())
            });
            if !ok {
                return Err(format!("digest `{digest}` is not valid: expected `sha256:<64 hex digits>`"));
            }
        }
        Ok(())
    }

    /// The reference as the container spec takes it.
    pub fn to_reference(&self) -> String {
        let mut s = self.repository.clone();
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(d);
        }
        s
    }
}

fn check_repository(repo: &str) -> Result<(), String> {
    if repo.is_empty() {
        return Err("the repository is empty".into());
    }
    let mut parts = repo.split('/').peekable();
    let first = parts.peek().copied().unwrap_or("");
    let has_registry = repo.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    if has_registry {
        parts.next();
        let ok = first.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:".contains(&b));
        if !ok {
            return Err(format!("registry `{first}` is not a host name"));
        }
    }
    for part in parts {
        let ok = !part.is_empty()
            && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
            && part.starts_with(|c: char| c.is_ascii_alphanumeric())
            && part.ends_with(|c: char| c.is_ascii_alphanumeric());
        if !ok {
            return Err(format!(
                "repository `{repo}` is not valid: path parts are lowercase letters, digits and `._-`"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_references() {
        let i = ImageRef::parse("localhost:5000/team/app:1.2@sha256:0123456789abcdef0123456789abcdef").unwrap();
        assert_eq!(i.repository, "localhost:5000/team/app");
        assert_eq!(i.tag.as_deref(), Some("1.2"));
        assert!(i.digest.is_some());
        assert_eq!(ImageRef::parse("nginx").unwrap().tag, None);
        assert_eq!(ImageRef::parse("ghcr.io/x/y:v1").unwrap().to_reference(), "ghcr.io/x/y:v1");
        for bad in ["", "Nginx", "nginx:", "nginx:a b", "nginx@sha256:zz", "a//b"] {
            assert!(ImageRef::parse(bad).is_err(), "{bad}");
        }
    }
}
