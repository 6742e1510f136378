//! Text templates (minijinja), embedded in the binary: the starter profile
//! and other files that really are text. Objects are never templated.

use minijinja::Environment;

const TEMPLATES: &[(&str, &str)] = &[
    ("init.yaml", include_str!("../templates/init.yaml.j2")),
    ("bootstrap.sh", include_str!("../templates/bootstrap.sh.j2")),
];

/// An environment with every embedded template, strict about undefined
/// values. Built on demand: rendering objects never needs it.
pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .keep_trailing_newline(true)
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()
            .expect("default delimiters are valid"),
    );
    env.add_filter("sh", shell_quote);
    for (name, source) in TEMPLATES {
        env.add_template(name, source).expect("embedded templates parse");
    }
    env
}

/// Render an embedded template.
pub fn render(name: &str, context: minijinja::Value) -> String {
    environment()
        .get_template(name)
        .and_then(|t| t.render(context))
        .expect("embedded templates render with their documented context")
}

/// A word for a shell: as it is when it holds only safe characters,
/// otherwise in single quotes (`'` written as `'\''`).
pub fn shell_quote(s: String) -> String {
    let safe = !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./:=@%+,".contains(&b));
    if safe { s } else { format!("'{}'", s.replace('\'', "'\\''")) }
}

#[cfg(test)]
mod tests {
    #[test]
    fn shell_quoting() {
        assert_eq!(super::shell_quote("profiles/app.yaml".into()), "profiles/app.yaml");
        assert_eq!(super::shell_quote("a b".into()), "'a b'");
        assert_eq!(super::shell_quote("it's".into()), "'it'\\''s'");
        assert_eq!(super::shell_quote(String::new()), "''");
    }

    #[test]
    fn every_template_parses() {
        super::environment();
    }
}
