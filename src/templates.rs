//! Text templates (minijinja), embedded in the binary: the starter profile
//! and other files that really are text. Objects are never templated.

use minijinja::Environment;

const TEMPLATES: &[(&str, &str)] = &[
    ("init.yaml", include_str!("../templates/init.yaml.j2")),
    ("postgres-init.sql", include_str!("../templates/postgres-init.sql.j2")),
    ("backup-sqlite.sh", include_str!("../templates/backup-sqlite.sh.j2")),
    ("backup-postgres.sh", include_str!("../templates/backup-postgres.sh.j2")),
    ("wait-for-postgres.sh", include_str!("../templates/wait-for-postgres.sh.j2")),
    ("backup-room.sh", include_str!("../templates/backup-room.sh.j2")),
    ("restore-postgres.sh", include_str!("../templates/restore-postgres.sh.j2")),
    ("restore-sqlite.sh", include_str!("../templates/restore-sqlite.sh.j2")),
    ("bootstrap.sh", include_str!("../templates/bootstrap.sh.j2")),
];

/// The embedded templates, strict about undefined values. Each template is
/// compiled the first time it is used, once per process; rendering objects
/// that need no text never compiles any.
pub fn environment() -> &'static Environment<'static> {
    static ENV: std::sync::OnceLock<Environment<'static>> = std::sync::OnceLock::new();
    ENV.get_or_init(build_environment)
}

fn build_environment() -> Environment<'static> {
    // Only kgen's own filter: the templates need no built-in ones, and
    // registering those is a measurable part of a render.
    let mut env = Environment::empty();
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
    env.set_loader(|name| Ok(TEMPLATES.iter().find(|(n, _)| *n == name).map(|(_, source)| source.to_string())));
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
        for (name, _) in super::TEMPLATES {
            super::environment().get_template(name).unwrap();
        }
    }
}
