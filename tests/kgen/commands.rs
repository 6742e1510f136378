//! The other commands: init, schema, completions, check, --help.

use crate::support::{kgen, run, scratch};

#[test]
fn init_writes_a_profile_that_renders_in_every_environment() {
    let dir = scratch("init");
    let out = kgen()
        .args(["init", "--name", "shop", "--image", "ghcr.io/acme/shop:2.1.0"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = std::fs::read_to_string(dir.join("kgen.yaml")).unwrap();
    assert!(text.starts_with("# yaml-language-server: $schema="));
    let check = kgen().arg("check").current_dir(&dir).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&check.stdout),
        "ok    kgen.yaml (base): 6 objects\nok    kgen.yaml (dev): 6 objects\nok    kgen.yaml (prod): 7 objects\n"
    );
    // It refuses to overwrite.
    let again = kgen().arg("init").current_dir(&dir).output().unwrap();
    assert_eq!(again.status.code(), Some(1));
}

#[test]
fn schema_is_json_schema_with_a_description_on_every_property() {
    let out = run(&["schema"], None);
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(schema["properties"]["ports"].is_object(), "single-component fields are at the top level");
    assert!(schema["properties"]["environments"].is_object());
    fn walk(v: &serde_json::Value, path: &str, missing: &mut Vec<String>) {
        if let Some(props) = v.get("properties").and_then(|p| p.as_object()) {
            for (k, p) in props {
                if p.get("description").is_none() && p.get("$ref").is_none() {
                    missing.push(format!("{path}.{k}"));
                }
                walk(p, &format!("{path}.{k}"), missing);
            }
        }
        if let Some(defs) = v.get("$defs").and_then(|d| d.as_object()) {
            for (k, d) in defs {
                walk(d, k, missing);
            }
        }
    }
    let mut missing = Vec::new();
    walk(&schema, "", &mut missing);
    assert!(missing.is_empty(), "fields without a description: {missing:?}");
}

#[test]
fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let out = run(&["completions", shell], None);
        assert!(out.status.success());
        assert!(String::from_utf8_lossy(&out.stdout).contains("render"));
    }
}

#[test]
fn profile_from_stdin() {
    let out = run(&["render", "-"], Some("name: hello\nimage: nginxinc/nginx-unprivileged:1.27\n"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("kind: Deployment") && !text.contains("kind: Service\n"));
}

#[test]
fn help_and_version() {
    let out = run(&["--help"], None);
    assert!(String::from_utf8_lossy(&out.stdout).contains("kgen render"));
    let out = run(&["render", "--help"], None);
    assert!(String::from_utf8_lossy(&out.stdout).contains("--set"));
    let out = run(&["--version"], None);
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("kgen {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn man_page() {
    let out = run(&["man"], None);
    assert!(out.status.success());
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(page.contains("\n.TH kgen 1 "), "{page}");
    for command in ["render", "check", "diff", "bootstrap", "init", "schema"] {
        assert!(page.contains(command), "the man page lists `{command}`");
    }
    // Hidden from --help.
    let help = String::from_utf8(run(&["--help"], None).stdout).unwrap();
    assert!(!help.contains("man page"));
}

/// Standard input is read once, however many environments a command loads.
#[test]
fn a_profile_from_stdin_serves_every_environment() {
    let profile = "name: shop\nimage: shop:1.0\nenvironments:\n  a: {replicas: 2}\n  b: {replicas: 3}\n";
    let out = run(&["check", "-"], Some(profile));
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).matches("ok    -").count(), 3);
    let out = run(&["diff", "-", "--env", "a", "--to-env", "b"], Some(profile));
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("+  replicas: 3"));
}

/// tester finding: `kgen check` failed when a created Secret's variables
/// were not set, though it prints no values. It checks with placeholders;
/// `kgen render` still needs the real values.
#[test]
fn check_needs_no_secret_values_but_render_does() {
    let dir = scratch("check-placeholders");
    let profile = "name: shop\nimage: shop:1.0\nsecrets:\n  shop-db:\n    create: {fromEnv: {password: SHOP_DB_PASSWORD}}\n  \
                   shop-env:\n    env: [API_TOKEN]\n    create: {fromFile: shop.env}\n\
                   databases:\n  main: {engine: postgres, credentials: {secret: shop-db}}\n";
    std::fs::write(dir.join("kgen.yaml"), profile).unwrap();
    let check = kgen().arg("check").current_dir(&dir).env_remove("SHOP_DB_PASSWORD").output().unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
    assert_eq!(String::from_utf8_lossy(&check.stdout), "ok    kgen.yaml (base): 9 objects\n");
    let render = kgen().arg("render").current_dir(&dir).env_remove("SHOP_DB_PASSWORD").output().unwrap();
    assert_eq!(render.status.code(), Some(1));
    assert!(render.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&render.stderr);
    assert!(stderr.contains("error: environment variable `SHOP_DB_PASSWORD` is not set"), "{stderr}");
    assert!(stderr.contains("error: cannot read `shop.env`"), "{stderr}");
    // A dotenv file that exists is read for its keys, not its values.
    std::fs::write(dir.join("shop.env"), "OTHER=not-a-real-token\n").unwrap();
    let check = kgen().arg("check").current_dir(&dir).output().unwrap();
    assert_eq!(check.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert!(stderr.contains("error: Secret `shop-env`, which kgen creates, has no key `API_TOKEN`"), "{stderr}");
    assert!(!stderr.contains("not-a-real-token"), "{stderr}");
    std::fs::write(dir.join("shop.env"), "API_TOKEN=\"not-a-real-token\n").unwrap();
    let check = kgen().arg("check").current_dir(&dir).output().unwrap();
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert!(stderr.contains("--> shop.env:1:11"), "{stderr}");
    assert!(!stderr.contains("not-a-real-token"), "{stderr}");
}

/// `kgen check` says what the cluster must provide, per environment, with
/// a command for each; `--output json` gives the same to CI. Secrets kgen's
/// credentials Job creates are not asked for.
#[test]
fn check_lists_what_the_cluster_must_provide() {
    let out = run(&["check", "profiles/feaf.yaml", "--output", "json"], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["renders"].as_array().unwrap().len(), 2);
    let needs = doc["requirements"].as_array().unwrap();
    let secret = needs.iter().find(|n| n["kind"] == "Secret").expect("the user's Secret");
    assert_eq!(secret["name"], "feaf-secrets");
    assert_eq!(secret["keys"], serde_json::json!(["DATABASE_URL", "POSTGRES_PASSWORD"]));
    assert_eq!(secret["environments"], serde_json::json!(["base"]));
    let cnpg = needs.iter().find(|n| n["kind"] == "CustomResourceDefinition").expect("CloudNativePG");
    assert_eq!(cnpg["environments"], serde_json::json!(["ha"]));
    assert!(cnpg["provide"].as_str().unwrap().contains("cnpg-1.25.1.yaml"), "{cnpg}");

    let dir = scratch("check-needs");
    std::fs::write(
        dir.join("kgen.yaml"),
        "name: shop\nimage: shop:1\ndatabases:\n  main: {engine: postgres}\ncache: {}\n",
    )
    .unwrap();
    let out = kgen().arg("check").current_dir(&dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("Secret"), "generated Secrets are not requirements:\n{stdout}");
}

/// `-f/--values` files overlay the profile after `--env` and before
/// `--set`, in order, with the same typing, `null` resets and located
/// errors.
#[test]
fn values_files_overlay_after_the_environment_and_before_set() {
    let dir = scratch("values-files");
    std::fs::write(
        dir.join("kgen.yaml"),
        "name: shop\nimage: shop:1\nports: {http: 8080}\nreplicas: 2\nsettings: {A: a, B: b}\nenvironments:\n  prod: {replicas: 5}\n",
    )
    .unwrap();
    std::fs::write(dir.join("region.yaml"), "replicas: 7\nsettings: {B: null, C: c}\n").unwrap();
    std::fs::write(dir.join("bigger.yaml"), "replicas: 9\n").unwrap();
    std::fs::write(dir.join("bad.yaml"), "replicas: many\n").unwrap();
    let render = |args: &[&str]| {
        let out = kgen().arg("render").args(args).current_dir(&dir).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, yaml, stderr) = render(&["--env", "prod", "-f", "region.yaml"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(yaml.contains("replicas: 7"), "{yaml}");
    assert!(yaml.contains("  A: a\n") && yaml.contains("  C: c\n") && !yaml.contains("  B: b\n"), "{yaml}");
    let (_, yaml, _) = render(&["--env", "prod", "-f", "region.yaml", "--values", "bigger.yaml"]);
    assert!(yaml.contains("replicas: 9"), "the later file wins:\n{yaml}");
    let (_, yaml, _) = render(&["-f", "bigger.yaml", "--set", "replicas=4"]);
    assert!(yaml.contains("replicas: 4"), "--set comes last:\n{yaml}");
    let (code, _, stderr) = render(&["-f", "bad.yaml"]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("--> bad.yaml:1:11"), "{stderr}");
    std::fs::write(dir.join("envs.yaml"), "environments: {x: {}}\n").unwrap();
    let (code, _, stderr) = render(&["-f", "envs.yaml"]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("`environments` cannot be set in a values file"), "{stderr}");
}

/// Two shipped profiles name one defaults file (profiles/platform-team):
/// its defaults are where they start from, and its limits refuse a value
/// from `--set` or a values file, located there and at the limit.
#[test]
fn shared_defaults_set_limits_that_profiles_cannot_override() {
    for profile in ["profiles/clockwork.yaml", "profiles/traversion.yaml"] {
        let text = std::fs::read_to_string(crate::support::repo().join(profile)).unwrap();
        assert!(text.contains("\ndefaults: platform-team/defaults.yaml\n"), "{profile}");
    }
    let out = run(&["render", "profiles/clockwork.yaml", "--set", "replicas=30"], None);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr
            .contains("error: `replicas` is `30`, which the shared defaults do not allow: at most 20\n --> --set:1:10"),
        "{stderr}"
    );
    assert!(stderr.contains("note: the limit is at profiles/platform-team/defaults.yaml:9:5"), "{stderr}");

    let dir = scratch("defaults-limits");
    std::fs::write(dir.join("open.yaml"), "autoscaling:\n  max: 500\n").unwrap();
    let values = dir.join("open.yaml");
    let out = run(&["render", "profiles/traversion.yaml", "-f", values.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("`autoscaling.max` is `500`, which the shared defaults do not allow: at most 100"),
        "{stderr}"
    );
    assert!(stderr.contains("open.yaml:2:8"), "{stderr}");
    assert!(stderr.contains("note: the limit is at profiles/platform-team/defaults.yaml:10:5"), "{stderr}");

    // The defaults are the base a profile starts from.
    std::fs::create_dir_all(dir.join("team")).unwrap();
    std::fs::write(
        dir.join("team/defaults.yaml"),
        "defaults:\n  replicas: 3\n  settings: {REGION: eu}\nlimits:\n  - {field: replicas, min: 2}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("kgen.yaml"),
        "name: shop\ndefaults: team/defaults.yaml\nimage: shop:1\nports: {http: 8080}\n",
    )
    .unwrap();
    let out = kgen().arg("render").current_dir(&dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let yaml = String::from_utf8_lossy(&out.stdout);
    assert!(yaml.contains("replicas: 3") && yaml.contains("REGION: eu"), "{yaml}");
    let out = kgen().args(["render", "--set", "replicas=1"]).current_dir(&dir).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("at least 2") && stderr.contains("team/defaults.yaml:5:5"), "{stderr}");
}

// A profile that is not there: no file to keep in the corpus.

#[test]
fn missing_file() {
    let out = kgen().args(["render", "no-such-profile.yaml"]).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: cannot read profile `no-such-profile.yaml`: No such file or directory\n\n"
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
}

#[test]
fn missing_default_profile_points_at_init() {
    let dir = scratch("no-kgen-yaml");
    let out = kgen().arg("render").current_dir(&dir).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: cannot read profile `kgen.yaml`: No such file or directory\nhint: with no PROFILE argument kgen reads ./kgen.yaml; `kgen init` writes a starter\n\n"
    );
}

/// A check skipped for a missing tool says so in `cargo test`'s output
/// (libtest captures `eprintln!` and drops it for a passing test), and
/// fails under KGEN_REQUIRE_TOOLS=1. This test runs itself in a child
/// process of the test binary, where the tool is missing on purpose.
#[test]
fn a_skipped_check_is_visible_and_fails_when_tools_are_required() {
    const NAME: &str = "commands::a_skipped_check_is_visible_and_fails_when_tools_are_required";
    if std::env::var_os("KGEN_TEST_FORCED_SKIP").is_some() {
        assert!(crate::support::tool("a tool that does not exist", &["kgen-no-such-tool-xyz"]).is_none());
        return;
    }
    let child = |require: &str| {
        std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", NAME, "--test-threads=1"])
            .env("KGEN_TEST_FORCED_SKIP", "1")
            .env("KGEN_REQUIRE_TOOLS", require)
            .output()
            .unwrap()
    };
    let skipped = child("0");
    let stderr = String::from_utf8_lossy(&skipped.stderr);
    assert!(skipped.status.success(), "{stderr}");
    assert!(stderr.contains(&format!("SKIPPED (part of) {NAME}: a tool that does not exist")), "{stderr}");
    let required = child("1");
    assert!(!required.status.success(), "{}", String::from_utf8_lossy(&required.stdout));
}
