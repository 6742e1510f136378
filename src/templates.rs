//! Text templates (minijinja), embedded in the binary: the starter profile
//! and other files that really are text. Objects are never templated.

use minijinja::Environment;

const TEMPLATES: &[(&str, &str)] = &[
    ("init.yaml", include_str!("../templates/init.yaml.j2")),
    ("postgres-init.sql", include_str!("../templates/postgres-init.sql.j2")),
    ("backup-sqlite.sh", include_str!("../templates/backup-sqlite.sh.j2")),
    ("backup-postgres.sh", include_str!("../templates/backup-postgres.sh.j2")),
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

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_parses() {
        super::environment();
    }
}
