//! Regression tests for what the fuzzer and the property tests found, each
//! named after its finding.

use kgen::profile::load::{Options, load_text};
use kgen::source::SourceMap;

use crate::support::run;

/// Load and render in process; Ok(objects) or Err(rendered diagnostics).
fn render(text: &str, env: Option<&str>, sets: &[&str]) -> Result<usize, String> {
    let mut sources = SourceMap::default();
    let options = Options {
        environment: env.map(String::from),
        sets: sets.iter().map(|s| s.to_string()).collect(),
        ..Options::default()
    };
    let result = load_text("p.yaml", text.to_string(), &options, &mut sources)
        .and_then(|l| kgen::pipeline::render_loaded(l, &|_| None, &mut sources));
    match result {
        Ok(r) => Ok(r.objects.len()),
        Err(e) => Err(e.0.iter().map(|d| d.render(&sources, false)).collect::<Vec<_>>().join("\n")),
    }
}

/// fuzz finding 1: a `--set` path with multi-byte characters shifted the
/// positions of errors in its value off character boundaries, and
/// rendering the diagnostic panicked.
#[test]
fn fuzz_set_path_with_multibyte_characters_is_located_in_the_value() {
    let err = render("name: shop\nimage: shop:1.0\n", None, &["séttings.ä=[x"]).unwrap_err();
    assert_eq!(
        err,
        "error: invalid YAML: while parsing a flow sequence, expected ',' or ']'\n --> --set:1:14\n  |\n1 | séttings.ä=[x\n  |              ^"
    );
    let err = render("name: shop\nimage: shop:1.0\n", None, &["labels.ü=[a, b]"]).unwrap_err();
    assert!(err.contains("--> --set:1:10\n"), "{err}");
    // Through the binary, with a line break in the path.
    let out = run(&["render", "-", "--set", "sé\nx=[1"], Some("name: shop\nimage: shop:1.0\n"));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: invalid YAML"));
}

/// fuzz finding 2: `--env prod` where `prod:` is empty replaced the whole
/// profile with null, and expanding the shorthand panicked.
#[test]
fn fuzz_empty_environment_overlay_changes_nothing() {
    let text = "name: shop\nimage: shop:1.0\nenvironments:\n  prod:\n";
    assert_eq!(render(text, Some("prod"), &[]), render(text, None, &[]));
    assert!(render(text, Some("prod"), &[]).is_ok());
}

/// property finding 1: a component without ports whose liveness probe runs
/// a command was refused with "this probe needs a port".
#[test]
fn property_command_probe_needs_no_port() {
    let text = "name: worker\nimage: worker:1.0\nprobes:\n  liveness:\n    command: [/bin/check]\n";
    // Namespace, NetworkPolicy, ServiceAccount, Deployment.
    assert_eq!(render(text, None, &[]), Ok(4));
}

/// property finding 2: two Secrets exposing the same variable gave a
/// container the variable twice (the last one silently wins in the
/// cluster). Now an error; the corpus case 63 has its message.
#[test]
fn property_variable_from_two_secrets_is_refused() {
    let text = "name: shop\nimage: shop:1.0\nsecrets:\n  a: {env: [DB_URL]}\n  b: {env: [DB_URL]}\n";
    assert!(render(text, None, &[]).unwrap_err().contains("variable `DB_URL` is already read from Secret `a`"));
}

/// review finding: with a namespace-wide default deny, cert-manager's
/// HTTP-01 solver pods were blocked when the certificate came from a
/// ClusterIssuer, and an `acme` Issuer's solver policy failed the bundle
/// check as selecting no pods.
#[test]
fn review_cert_manager_solvers_get_through_a_default_deny() {
    for tls in ["clusterIssuer: letsencrypt-prod", "acme: {email: ops@example.com}", "issuer: mine"] {
        let profile = format!(
            "name: shop\nimage: shop:1.0\nports: {{http: 8080}}\nnetworkPolicy: {{defaultDeny: true}}\n\
             ingress:\n  className: nginx\n  tls: {{{tls}}}\n  hosts: [{{host: shop.example.com}}]\n"
        );
        let out = run(&["render", "-"], Some(&profile));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{tls}: {}", String::from_utf8_lossy(&out.stderr));
        let solver = stdout.split("\n---\n").find(|d| d.contains("name: shop-acme-solver")).expect(tls);
        assert!(solver.contains("acme.cert-manager.io/http01-solver: \"true\""), "{solver}");
        assert!(solver.contains("port: 8089"), "{solver}");
    }
    // Without a default deny nothing blocks the solvers: no policy for them.
    let profile = "name: shop\nimage: shop:1.0\nports: {http: 8080}\n\
                   ingress: {className: nginx, tls: {clusterIssuer: le}, hosts: [{host: shop.example.com}]}\n";
    let out = run(&["render", "-"], Some(profile));
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stdout).contains("acme-solver"));
}

/// review finding (operator databases): CloudNativePG's field is
/// `shared_preload_libraries` (the validator checks it on the fixture),
/// TimescaleDB's extension is created at init, the password reaches the
/// pods on its own, and backup fields CloudNativePG has no place for are
/// refused rather than dropped.
#[test]
fn review_operator_timescaledb_is_complete() {
    let out = run(&["render", "tests/kgen/fixtures/operator-timescaledb.yaml"], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let yaml = String::from_utf8_lossy(&out.stdout);
    assert!(
        yaml.contains("    shared_preload_libraries:\n      - timescaledb\n      - pg_stat_statements\n"),
        "{yaml}"
    );
    assert!(yaml.contains("- CREATE EXTENSION IF NOT EXISTS \"timescaledb\";"), "{yaml}");
    assert!(yaml.contains("- name: DATABASE_PASSWORD\n"), "{yaml}");
    let profile = "name: shop\nimage: shop:1.0\ndatabases:\n  main:\n    mode: operator\n    \
                   backup: {objectStore: s, timeZone: Europe/Berlin, retentionDays: 3}\n";
    let err = render(profile, None, &[]).unwrap_err();
    assert!(err.contains("`backup.timeZone` does not apply to an operator database"), "{err}");
    assert!(err.contains("`backup.retentionDays` does not apply to an operator database"), "{err}");
}

/// adversarial review, finding 1: counts above i32::MAX wrapped to negative
/// numbers in the output; the largest count Kubernetes keeps still renders.
#[test]
fn review_counts_at_the_int32_limit_render_as_written() {
    let profile = "name: shop\nimage: shop:1.0\nreplicas: 2147483647\n";
    let out = run(&["render", "-"], Some(profile));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("  replicas: 2147483647\n"));
    let err = render(profile, None, &["replicas=2147483648"]).unwrap_err();
    assert!(err.starts_with("error: replicas 2147483648 is more than Kubernetes allows (2147483647)"), "{err}");
}

/// adversarial review, finding 3: with macros accepted as Kubernetes
/// accepts them, CloudNativePG gets a macro as it is (its six-field
/// schedules start with seconds, which a macro has none of).
#[test]
fn review_operator_backup_macro_gets_no_seconds_field() {
    let profile = |schedule: &str| {
        format!(
            "name: shop\nimage: shop:1.0\ndatabases:\n  main: {{mode: operator, backup: {{schedule: \"{schedule}\", objectStore: s3}}}}\n"
        )
    };
    for (written, rendered) in [("@daily", "  schedule: \"@daily\"\n"), ("30 1 * * 0", "  schedule: 0 30 1 * * 0\n")] {
        let out = run(&["render", "-"], Some(&profile(written)));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains(rendered), "{written}");
    }
}

/// Load and render in process; Ok(objects as JSON) or Err(rendered
/// diagnostics).
fn render_objects(text: &str) -> Result<Vec<serde_json::Value>, String> {
    let mut sources = SourceMap::default();
    let result = load_text("p.yaml", text.to_string(), &Options::default(), &mut sources)
        .and_then(|l| kgen::pipeline::render_loaded(l, &|_| None, &mut sources));
    match result {
        Ok(r) => Ok(r.objects.iter().map(|o| o.to_value()).collect()),
        Err(e) => Err(e.0.iter().map(|d| d.render(&sources, false)).collect::<Vec<_>>().join("\n")),
    }
}

/// The object of a kind and name.
fn object<'a>(objects: &'a [serde_json::Value], kind: &str, name: &str) -> &'a serde_json::Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

/// tester finding (UDP ports): the default probes checked the first port
/// over TCP although it was a UDP port (the pod never became ready), and
/// the NetworkPolicy allowed it over TCP.
#[test]
fn tester_udp_ports_are_not_probed_and_keep_their_protocol_in_policies() {
    let objects = render_objects(
        "name: shop\nimage: shop:1.0\ncomponents:\n  shop: {ports: {dns: {port: 5353, protocol: UDP}, health: 8080, \
         assoc: {port: 9000, protocol: SCTP}}}\n  worker: {ports: {dns: {port: 53, protocol: UDP}, tcpdns: 53}}\n\
         networkPolicy: {allowFrom: [{namespace: monitoring, ports: [5353, 8080]}]}\n",
    )
    .unwrap();
    let deployment = object(&objects, "Deployment", "shop");
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["livenessProbe"]["tcpSocket"]["port"], "health");
    assert_eq!(container["readinessProbe"]["tcpSocket"]["port"], "health");
    let ports = |rule: &serde_json::Value| -> Vec<String> {
        rule["ports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| format!("{}/{}", p["port"], p["protocol"].as_str().unwrap()))
            .collect()
    };
    let policy = object(&objects, "NetworkPolicy", "shop");
    let ingress = policy["spec"]["ingress"].as_array().unwrap();
    assert_eq!(ports(&ingress[0]), ["5353/UDP", "8080/TCP", "9000/SCTP"]);
    // allowFrom: a listed port keeps its protocol.
    assert_eq!(ports(&ingress[1]), ["5353/UDP", "8080/TCP"]);
    // To the other component: 53 over both protocols.
    let egress = policy["spec"]["egress"].as_array().unwrap();
    assert_eq!(ports(&egress[1]), ["53/TCP", "53/UDP"]);
    // Only UDP: no default probe at all.
    let objects = render_objects("name: shop\nimage: shop:1.0\nports: {dns: {port: 5353, protocol: UDP}}\n").unwrap();
    let container = &object(&objects, "Deployment", "shop")["spec"]["template"]["spec"]["containers"][0];
    assert!(container.get("livenessProbe").is_none() && container.get("readinessProbe").is_none(), "{container}");
    // Explicit probes on a UDP port are refused where the port is written.
    let err = render_objects(
        "name: shop\nimage: shop:1.0\nports: {dns: {port: 5353, protocol: UDP}, http: 8080}\n\
         probes: {liveness: {tcp: true, port: 5353}, readiness: {grpc: true, port: dns}, startup: {path: /, port: dns}}\n",
    )
    .unwrap_err();
    assert_eq!(err.matches("probes connect over TCP, but port `dns` is a UDP port").count(), 3, "{err}");
    assert!(err.contains("in `probes.liveness.port`") && err.contains("in `probes.startup.port`"), "{err}");
}

/// tester finding (autoscaling): a CPU or memory utilisation target on a
/// component that requests no CPU or memory rendered an HPA that could
/// never compute it. Now an error (corpus case 92); a preset requests
/// both, and a limit alone counts (the API server then requests it).
#[test]
fn tester_utilization_targets_need_requests() {
    for resources in [
        "small",
        "{preset: nano, requests: {memory: 50Mi}}",
        "{requests: {cpu: 100m, memory: 64Mi}}",
        "{limits: {cpu: 500m, memory: 128Mi}}",
    ] {
        let profile = format!(
            "name: shop\nimage: shop:1.0\nresources: {resources}\nautoscaling: {{min: 2, max: 5, cpu: 70, memory: 80}}\n"
        );
        let objects = render_objects(&profile).unwrap_or_else(|e| panic!("{resources}: {e}"));
        let hpa = object(&objects, "HorizontalPodAutoscaler", "shop");
        assert_eq!(hpa["spec"]["metrics"].as_array().unwrap().len(), 2, "{resources}");
    }
    let err = render_objects(
        "name: shop\nimage: shop:1.0\nresources: {requests: {memory: 100Mi}}\nautoscaling: {min: 2, max: 5, cpu: 70}\n",
    )
    .unwrap_err();
    assert!(err.starts_with("error: autoscaling targets 70% of the CPU request, but the component requests no CPU"));
    assert!(err.contains("in `autoscaling.cpu`"), "{err}");
}

/// tester finding (names): a 51-character app name with a default deny or
/// a cache rendered names the bundle check refused ("a bug in kgen"): the
/// validator and the check disagreed on which kinds allow what length.
/// Now, for app names of every length, with every feature that derives
/// names from it, a profile renders and passes the check, or is refused
/// with errors located in the profile.
#[test]
fn tester_every_app_name_length_renders_or_is_refused_where_the_name_is() {
    // Each feature alone (an error in one would hide another's), then all.
    let features = [
        "networkPolicy: {defaultDeny: true}\n",
        "cache: {}\n",
        "databases:\n  main: {engine: postgres}\n",
        "databases:\n  main: {engine: timescaledb, backup: {schedule: \"0 3 * * *\"}, exporter: true}\nmonitoring: {}\n",
        "databases:\n  main: {mode: operator, backup: {schedule: \"0 3 * * *\", objectStore: s3://b/p}}\n",
        "databases:\n  local: {engine: sqlite, backup: {schedule: \"0 3 * * *\"}}\n",
        "databases:\n  main: {engine: postgres}\nmigrations: {command: [migrate]}\n",
        "components:\n  web: {ports: {http: 8080}}\n  worker: {}\n",
        "ports: {http: 8080}\nautoscaling: {max: 3}\nmonitoring: {}\n",
        "ports: {http: 8080}\nnetworkPolicy: {defaultDeny: true}\n\
         ingress: {className: nginx, tls: {acme: {email: ops@example.com}}, hosts: [{host: shop.example.com, websocket: true}]}\n",
        "ports: {http: 8080}\ngateway: {name: public, namespace: gateways, hosts: [{host: shop.example.com}]}\n",
        "networkPolicy: {defaultDeny: true}\ncache: {}\n\
         databases:\n  main: {engine: postgres, backup: {schedule: \"0 3 * * *\"}}\n\
         migrations: {command: [migrate]}\n\
         components:\n  web: {ports: {http: 8080}}\n  worker: {}\n",
    ];
    let mut rendered = 0;
    for len in 1..=70 {
        let names = [
            "a".repeat(len),
            (0..len).map(|i| if i % 4 == 3 && i + 1 < len { '-' } else { (b'a' + (i % 26) as u8) as char }).collect(),
        ];
        for (name, extra) in names.iter().flat_map(|n| features.iter().map(move |f| (n, f))) {
            let text = format!("name: {name}\nimage: shop:1.0\n{extra}");
            let mut sources = SourceMap::default();
            let result = load_text("p.yaml", text.clone(), &Options::default(), &mut sources)
                .and_then(|l| kgen::pipeline::render_loaded(l, &|_| Some("placeholder".into()), &mut sources));
            match result {
                Ok(_) => rendered += 1,
                Err(e) => {
                    for d in &e.0 {
                        let shown = d.render(&sources, false);
                        assert!(!shown.contains("bug in kgen"), "{len}:\n{text}\n{shown}");
                        assert!(d.span.is_some(), "not located, {len}:\n{text}\n{shown}");
                    }
                }
            }
        }
    }
    // Short names render with every feature.
    assert!(rendered >= features.len() * 2 * 30, "only {rendered} rendered");
}

/// tester finding (names): ConfigMaps, Secrets and NetworkPolicies may be
/// named with up to 253 characters, but names longer than 63 were refused
/// (by the validator for referenced Secrets and ConfigMaps, by the bundle
/// check for derived names).
#[test]
fn tester_subdomain_names_may_be_longer_than_a_label() {
    let app = "a".repeat(51);
    let objects = render_objects(&format!(
        "name: {app}\nimage: shop:1.0\nnetworkPolicy: {{defaultDeny: true}}\ncache: {{}}\nports: {{http: 8080}}\n"
    ))
    .unwrap();
    object(&objects, "NetworkPolicy", &format!("{app}-default-deny"));
    object(&objects, "ConfigMap", &format!("{app}-redis-config"));
    let long = "s".repeat(200);
    let objects = render_objects(&format!(
        "name: shop\nimage: shop:1.0\nsecrets:\n  {long}: {{env: [TOKEN]}}\n\
         configMap: {{create: false, name: c{long}}}\nimagePullSecrets: [p{long}]\n"
    ))
    .unwrap();
    let pod = &object(&objects, "Deployment", "shop")["spec"]["template"]["spec"];
    assert_eq!(pod["containers"][0]["env"][0]["valueFrom"]["secretKeyRef"]["name"], long.as_str());
    assert_eq!(pod["imagePullSecrets"][0]["name"], format!("p{long}"));
}

// Issue 13: the promises hold against a hostile profile. Each test is named
// after what it proves; the inputs are the issue's examples.

/// A project folder with `app.yaml` and other files (a `@` prefix makes a
/// symbolic link to the text), for tests through the binary.
fn project(name: &str, profile: &str, files: &[(&str, &str)]) -> std::path::PathBuf {
    let dir = crate::support::scratch(&format!("issue13-{name}")).join("project");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("app.yaml"), profile).unwrap();
    for (path, text) in files {
        let full = dir.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        match text.strip_prefix('@') {
            Some(target) => std::os::unix::fs::symlink(target, full).unwrap(),
            None => std::fs::write(full, text).unwrap(),
        }
    }
    dir
}

/// Run kgen in `dir` with extra environment variables: (exit code, stdout,
/// stderr).
fn kgen_in(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let out = crate::support::kgen().args(args).current_dir(dir).envs(env.iter().copied()).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A profile that creates Secret `shop-secrets` from `$SHOP_KEY`, and
/// patches it.
fn secret_profile(patch: &str) -> String {
    format!(
        "name: shop\nimage: shop:1.0\nsecrets:\n  shop-secrets:\n    env: [API_KEY]\n    create: {{fromEnv: {{API_KEY: SHOP_KEY}}}}\n\
         patches:\n  - target: {{kind: Secret, name: shop-secrets}}\n{patch}"
    )
}

const SHOP_KEY: &str = "hunter2-issue13-value";
/// base64 of SHOP_KEY, as the Secret's `data` holds it.
const SHOP_KEY_B64: &str = "aHVudGVyMi1pc3N1ZTEzLXZhbHVl";

fn assert_no_secret(text: &str) {
    assert!(!text.contains(SHOP_KEY) && !text.contains(SHOP_KEY_B64), "a secret value leaked:\n{text}");
}

/// issue 13 (secrets): a JSON Patch `test` on a created Secret printed the
/// value and told whether a guess was right. It is refused, with the same
/// message for a right and a wrong guess.
#[test]
fn issue13_patch_test_on_a_created_secret_is_refused_and_no_oracle() {
    let mut stderrs = Vec::new();
    for guess in [SHOP_KEY_B64, "Z3Vlc3M="] {
        let dir = project(
            "test-oracle",
            &secret_profile(&format!("    json:\n      - {{op: test, path: /data/API_KEY, value: \"{guess}\"}}\n")),
            &[],
        );
        let (code, stdout, stderr) = kgen_in(&dir, &["render", "app.yaml"], &[("SHOP_KEY", SHOP_KEY)]);
        assert_eq!((code, stdout.as_str()), (Some(1), ""));
        assert!(stderr.starts_with("error: `test` cannot read the values of a Secret kgen creates"), "{stderr}");
        stderrs.push(stderr.replace(guess, "GUESS"));
    }
    assert_eq!(stderrs[0], stderrs[1]);
    // On the whole object too.
    let dir = project("test-root", &secret_profile("    json:\n      - {op: test, path: \"\", value: {}}\n"), &[]);
    let (code, _, stderr) = kgen_in(&dir, &["render", "app.yaml"], &[("SHOP_KEY", SHOP_KEY)]);
    assert_eq!(code, Some(1));
    assert!(stderr.starts_with("error: `test` cannot read"), "{stderr}");
    assert_no_secret(&stderr);
}

/// issue 13 (secrets): `copy` of a Secret value into a label made the label
/// check print it, and into an annotation put it on stdout; `move` and a
/// patch writing plain text into the Secret passed too.
#[test]
fn issue13_patches_cannot_read_or_write_created_secret_values() {
    let cases = [
        "    json:\n      - {op: copy, from: /data/API_KEY, path: /metadata/labels/leak}\n",
        "    json:\n      - {op: copy, from: /data/API_KEY, path: /metadata/annotations/leak}\n",
        "    json:\n      - {op: move, from: /data, path: /metadata/annotations}\n",
        "    json:\n      - {op: copy, from: \"\", path: /metadata/annotations}\n",
        "    json:\n      - {op: add, path: /stringData, value: {API_KEY: plain-text-password}}\n",
        "    json:\n      - {op: replace, path: /data/API_KEY, value: cGxhaW4=}\n",
        "    merge: {stringData: {API_KEY: plain-text-password}}\n",
        "    merge: {data: {API_KEY: cGxhaW4=}}\n",
    ];
    for patch in cases {
        let dir = project("copy", &secret_profile(patch), &[]);
        let (code, stdout, stderr) = kgen_in(&dir, &["render", "app.yaml"], &[("SHOP_KEY", SHOP_KEY)]);
        assert_eq!((code, stdout.as_str()), (Some(1), ""), "{patch}");
        assert!(stderr.starts_with("error: a patch cannot"), "{patch}: {stderr}");
        assert!(stderr.contains("hint: its values come from `secrets.shop-secrets.create`"), "{stderr}");
        assert_no_secret(&stderr);
    }
    // Its metadata may change, and removing a key reads nothing.
    let dir = project(
        "metadata",
        &secret_profile(
            "    json:\n      - {op: add, path: /metadata/labels/tier, value: web}\n      - {op: remove, path: /data/API_KEY}\n",
        ),
        &[],
    );
    let (code, _, stderr) = kgen_in(&dir, &["render", "app.yaml"], &[("SHOP_KEY", SHOP_KEY)]);
    // The Deployment reads the key that was removed.
    assert_eq!(code, Some(1));
    assert!(stderr.contains("reads key `API_KEY` of Secret `shop-secrets`, which has no such key"), "{stderr}");
}

/// issue 13 (secrets): `kgen diff` masked only a Secret's `data` and
/// `stringData`; a value copied into an annotation was printed. It now
/// masks every occurrence of every Secret value, in either bundle.
#[test]
fn issue13_diff_masks_secret_values_by_value() {
    let profile = "name: shop\nimage: shop:1.0\nsecrets:\n  shop-secrets:\n    env: [API_KEY]\n    create: {fromEnv: {API_KEY: SHOP_KEY}}\n";
    let dir = project("diff", profile, &[]);
    let (code, _, stderr) = kgen_in(&dir, &["render", "app.yaml", "--out-dir", "old"], &[("SHOP_KEY", SHOP_KEY)]);
    assert_eq!(code, Some(0), "{stderr}");
    // An earlier render holds the value elsewhere (as a patch once made it).
    let sa = std::fs::read_dir(dir.join("old"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("serviceaccount"))
        .unwrap();
    let text = std::fs::read_to_string(&sa).unwrap();
    assert!(text.contains("\n  annotations:\n"), "{text}");
    let text = text.replacen(
        "\n  annotations:\n",
        &format!("\n  annotations:\n    leak: \"{SHOP_KEY}\"\n    encoded: {SHOP_KEY_B64}\n"),
        1,
    );
    std::fs::write(&sa, text).unwrap();
    let (code, stdout, stderr) = kgen_in(&dir, &["diff", "app.yaml", "--from", "old"], &[("SHOP_KEY", SHOP_KEY)]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stdout.contains("-    leak: \"****\"") || stdout.contains("-    leak: ****"), "{stdout}");
    assert_no_secret(&stdout);
    assert_no_secret(&stderr);
}

/// issue 13 (files): `extraManifests` accepted absolute paths, `../` and
/// symbolic links, and an extra manifest at `/etc/shadow` had its first
/// line echoed, under `kgen check` too. Every one is refused before it is
/// read, at the entry of the profile.
#[test]
fn issue13_extra_manifests_stay_inside_the_profile_directory() {
    let outside_dir = crate::support::scratch("issue13-files-outside");
    std::fs::write(outside_dir.join("shadow"), "root:$6$issue13-first-line:19000:0:99999:7:::\n").unwrap();
    let shadow = outside_dir.join("shadow");
    let link = format!("@{}", shadow.display());
    let dir = project(
        "files",
        "name: shop\nimage: shop:1.0\nextraManifests: [/etc/shadow, ../../issue13-files-outside/shadow, ./link.yaml, ./k8s/../../x.yaml, linked.yaml]\n",
        &[("link.yaml", &link), ("templates/linked.yaml", &link)],
    );
    for command in ["render", "check"] {
        let (code, stdout, stderr) = kgen_in(&dir, &[command, "app.yaml"], &[]);
        assert_eq!(code, Some(1), "{stderr}");
        assert!(!stdout.contains("issue13-first-line"), "{stdout}");
        assert!(!stderr.contains("issue13-first-line") && !stderr.contains("root:"), "{stderr}");
        assert_eq!(stderr.matches("error: cannot read").count(), 5, "{stderr}");
        assert!(stderr.contains("error: cannot read `/etc/shadow`: it is an absolute path, and kgen reads only files inside the profile's directory\n --> app.yaml:3:18"), "{stderr}");
        assert!(
            stderr.contains("`../../issue13-files-outside/shadow`: it leads outside the profile's directory"),
            "{stderr}"
        );
        assert!(
            stderr.contains(
                "`./link.yaml`: it is a symbolic link (or passes through one) to a file outside the profile's directory"
            ),
            "{stderr}"
        );
        assert!(stderr.contains("`templates/linked.yaml`: it is a symbolic link"), "{stderr}");
        assert!(stderr.contains("hint: keep the file beside the profile"), "{stderr}");
    }
}

/// issue 13 (files): `fromFile: /proc/self/environ` made kgen's whole
/// environment (CI secrets included) a Secret. Absolute paths, links into
/// `/proc` and escapes are refused, by `kgen check` as well.
#[test]
fn issue13_from_file_cannot_read_the_process_environment() {
    for (file, extra) in [
        ("/proc/self/environ", None),
        ("env", Some(("env", "@/proc/self/environ"))),
        ("self/environ", Some(("self", "@/proc/self"))),
        ("../../../../../../../../proc/self/environ", None),
    ] {
        let profile = format!(
            "name: shop\nimage: shop:1.0\nsecrets:\n  ci:\n    env: [TOKEN]\n    create: {{fromFile: \"{file}\"}}\n"
        );
        let dir = project("environ", &profile, extra.as_slice());
        for command in ["render", "check"] {
            let (code, stdout, stderr) = kgen_in(&dir, &[command, "app.yaml"], &[("CI_TOKEN", "ci-token-issue13")]);
            assert_eq!(code, Some(1), "{file}: {stderr}");
            assert!(!stdout.contains("ci-token-issue13"));
            assert!(
                stderr.contains(&format!("error: cannot read `{file}`: it ")) || stderr.contains("cannot read `./"),
                "{file}: {stderr}"
            );
            assert!(stderr.contains("in `secrets.ci.create.fromFile`"), "{stderr}");
            assert!(!stderr.contains("ci-token-issue13"), "{stderr}");
        }
    }
}

/// issue 13 (files): a wider tree is allowed from the command line only
/// (`--files-root`), never by the profile, and never `/proc`.
#[test]
fn issue13_files_root_allows_a_wider_tree_from_the_command_line() {
    let dir = project(
        "files-root",
        "name: shop\nimage: shop:1.0\nextraManifests: [../shared/cm.yaml]\n",
        &[("../shared/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared}\ndata: {A: \"1\"}\n")],
    );
    let (code, _, stderr) = kgen_in(&dir, &["render", "app.yaml"], &[]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("it leads outside the profile's directory"), "{stderr}");
    let (code, stdout, stderr) = kgen_in(&dir, &["render", "app.yaml", "--files-root", ".."], &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("name: shared"));
}

/// issue 13 (files): a file inside the project that is not a manifest (a
/// dotenv file named by mistake) has its problems located, never shown.
#[test]
fn issue13_a_file_that_is_not_a_manifest_is_located_not_shown() {
    let dir = project(
        "not-a-manifest",
        "name: shop\nimage: shop:1.0\nextraManifests: [./.env, ./secrets.yaml, ./broken.yaml]\n",
        &[
            (".env", "DB_PASSWORD=issue13-dotenv-value\n"),
            ("secrets.yaml", "password: issue13-yaml-value\n"),
            ("broken.yaml", "token: [issue13-broken-value\n"),
        ],
    );
    let (code, _, stderr) = kgen_in(&dir, &["check", "app.yaml"], &[]);
    assert_eq!(code, Some(1));
    assert!(!stderr.contains("issue13-"), "{stderr}");
    assert!(stderr.contains("error: a manifest is a mapping, found text\n --> ./.env:1:1\n"), "{stderr}");
    assert!(stderr.contains("error: the manifest has no `apiVersion`\n --> ./secrets.yaml:1:1\n"), "{stderr}");
    assert!(stderr.contains(" --> ./broken.yaml:"), "{stderr}");
}

/// issue 13 (secrets): whatever carries a created Secret's value into
/// another object, the bundle is refused and the value is never printed.
#[test]
fn issue13_no_other_object_holds_a_created_secret_value() {
    let profile = format!(
        "name: shop\nimage: shop:1.0\nsettings:\n  GREETING: \"{SHOP_KEY}\"\nsecrets:\n  shop-secrets:\n    env: [API_KEY]\n    create: {{fromEnv: {{API_KEY: SHOP_KEY}}}}\n"
    );
    let dir = project("holds", &profile, &[]);
    let (code, stdout, stderr) = kgen_in(&dir, &["render", "app.yaml"], &[("SHOP_KEY", SHOP_KEY)]);
    assert_eq!((code, stdout.as_str()), (Some(1), ""));
    assert!(
        stderr.starts_with(
            "error: ConfigMap `shop/shop` holds a value that kgen read for a Secret it creates, at `data.GREETING`"
        ),
        "{stderr}"
    );
    assert_no_secret(&stderr.replace(&format!("GREETING: \"{SHOP_KEY}\""), ""));
    // `kgen check` reads no values: nothing to find.
    let (code, _, stderr) = kgen_in(&dir, &["check", "app.yaml"], &[]);
    assert_eq!(code, Some(0), "{stderr}");
}

/// issue 13 (plain text): the rule held only field by field in the model;
/// every rendered object is now checked too, and what it finds is located
/// at the profile's text, masked in every snippet that shows it.
#[test]
fn issue13_every_rendered_object_is_held_to_the_plain_text_rule() {
    let err = render("name: shop\nimage: shop:1.0\nargs: [--db-password=hunter2, --api-token, t0ken]\n", None, &[])
        .unwrap_err();
    assert!(
        err.starts_with("error: `args` gives `--db-password` a credential as plain text, in Deployment `shop/shop`\n --> p.yaml:3:8\n"),
        "{err}"
    );
    assert!(err.contains("error: `args` gives `--api-token` a credential as plain text"), "{err}");
    assert!(!err.contains("hunter2") && !err.contains("t0ken"), "{err}");
}

/// issue 13 (API server): a created Secret over 1 MiB passed; the API
/// server refuses it. The size is said, never a value.
#[test]
fn issue13_a_created_secret_over_1_mib_is_refused() {
    let keys: Vec<String> = (0..10).map(|i| format!("K{i}: V{i}")).collect();
    let profile = format!(
        "name: shop\nimage: shop:1.0\nsecrets:\n  big:\n    env: [K0]\n    create:\n      fromEnv: {{{}}}\n",
        keys.join(", ")
    );
    let dir = project("big-secret", &profile, &[]);
    let values: Vec<(String, String)> = (0..10).map(|i| (format!("V{i}"), format!("{i}").repeat(120_000))).collect();
    let env: Vec<(&str, &str)> = values.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (code, stdout, stderr) = kgen_in(&dir, &["render", "app.yaml"], &env);
    assert_eq!((code, stdout.as_str()), (Some(1), ""));
    assert!(
        stderr.starts_with(
            "error: Secret `big` would hold 1200000 bytes; the API server allows 1 MiB\n --> app.yaml:7:7\n"
        ),
        "{stderr}"
    );
    assert!(stderr.len() < 1000);
    // `kgen check` reads no values and passes.
    let (code, _, stderr) = kgen_in(&dir, &["check", "app.yaml"], &[]);
    assert_eq!(code, Some(0), "{stderr}");
}

/// issue 13 (Pod Security): escape hatches may loosen security only where
/// the profile opts in, and then every loosening is named in a warning.
#[test]
fn issue13_opting_in_renders_and_names_every_loosening_in_a_warning() {
    let manifest = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent, namespace: kube-system}\nspec:\n  selector: {matchLabels: {app: agent}}\n  template:\n    metadata: {labels: {app: agent}}\n    spec:\n      containers: [{name: agent, image: \"agent:1\", securityContext: {privileged: true}}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: shop-view}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\nsubjects: [{kind: ServiceAccount, name: shop, namespace: shop}]\n";
    let profile = "name: shop\nimage: shop:1.0\nnamespace: {podSecurity: privileged}\n\
        escapeHatches:\n  allow: {namespaces: [kube-system], kinds: [ClusterRoleBinding], clusterRoles: [view]}\n\
        extraManifests: [./agent.yaml]\n\
        patches:\n  - target: {kind: Deployment, name: shop}\n    merge: {spec: {template: {spec: {hostNetwork: true}}}}\n";
    let dir = project("opt-in", profile, &[("agent.yaml", manifest)]);
    let (code, stdout, stderr) = kgen_in(&dir, &["render", "app.yaml"], &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("name: agent") && stdout.contains("hostNetwork: true"));
    assert!(stdout.contains("pod-security.kubernetes.io/enforce: privileged"));
    for warning in [
        "warning: pods may run below the restricted Pod Security Standard: namespace `shop` allows privileged",
        "warning: DaemonSet `kube-system/agent` is outside the app's namespace `shop`, as `escapeHatches.allow.namespaces` allows",
        "warning: DaemonSet `kube-system/agent` runs below the restricted Pod Security Standard, as `namespace.podSecurity: privileged` allows: container `agent` is privileged;",
        "warning: ClusterRoleBinding `shop-view` is cluster-wide, outside the app's namespace, as `escapeHatches.allow.kinds` allows",
        "warning: ClusterRoleBinding `shop-view` grants ClusterRole `view`, as `escapeHatches.allow.clusterRoles` allows",
        "warning: Deployment `shop/shop` runs below the restricted Pod Security Standard, as `namespace.podSecurity: privileged` allows: the pod sets `hostNetwork: true`",
    ] {
        assert!(stderr.contains(warning), "{warning}\n{stderr}");
    }
    // Baseline still refuses what only privileged allows.
    let baseline = profile.replace("podSecurity: privileged", "podSecurity: baseline");
    let dir = project("opt-in-baseline", &baseline, &[("agent.yaml", manifest)]);
    let (code, _, stderr) = kgen_in(&dir, &["render", "app.yaml"], &[]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("error: DaemonSet `kube-system/agent`: container `agent` is privileged, which the baseline Pod Security Standard forbids (Privileged Containers)"), "{stderr}");
    assert!(stderr.contains("error: Deployment `shop/shop`: the pod sets `hostNetwork: true`, which the baseline Pod Security Standard forbids"), "{stderr}");
}

/// Render a profile from standard input; (exit code, stdout, stderr).
fn render_stdin(text: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let mut all = vec!["render", "-"];
    all.extend(args);
    let out = run(&all, Some(text));
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

/// issue 11: `archive_command=aws s3 cp …` on the stock postgres image,
/// which has no `aws`, filled the disk. WAL archiving needs an image of the
/// user's and the tool's credentials, and nothing else sets the command.
#[test]
fn issue11_wal_archiving_needs_an_image_with_the_tool_and_its_credentials() {
    let base = "name: shop\nimage: shop:1.0\ndatabases:\n  main:\n";
    let (code, _, err) = render_stdin(&format!("{base}    walArchive: {{command: aws s3 cp %p s3://b/%f}}\n"), &[]);
    assert_eq!(code, Some(1));
    assert!(err.contains("error: WAL archiving needs an image with the archive tool"), "{err}");
    assert!(err.contains("error: WAL archiving needs the archive tool's credentials"), "{err}");
    let (code, _, err) = render_stdin(&format!("{base}    parameters: {{archive_command: /bin/true}}\n"), &[]);
    assert_eq!(code, Some(1));
    assert!(err.contains("error: `archive_command` is set by `walArchive`"), "{err}");
    let ok = format!(
        "{base}    image: registry.example.com/pg-awscli:17\n    walArchive:\n      command: aws s3 cp %p s3://b/%f\n      secret: wal-creds\n"
    );
    let (code, out, err) = render_stdin(&ok, &[]);
    assert_eq!(code, Some(0), "{err}");
    // A missing tool (exit 127) is made an ordinary, counted failure.
    assert!(out.contains("archive_command=( aws s3 cp %p s3://b/%f ) || exit 1"), "{out}");
    assert!(out.contains("secretRef:\n                name: wal-creds"), "{out}");
}

/// issue 11: timeservice prod turned OIDC on while its network policy let
/// its pods reach only DNS.
#[test]
fn issue11_a_setting_naming_an_endpoint_the_egress_blocks_is_a_warning_with_the_fix() {
    let text = "name: shop\nimage: shop:1.0\nports: {http: 8080}\nsettings:\n  OIDC_ISSUER_URL: https://auth.example.com/realms/main\n  ALLOWED_ORIGINS: https://shop.example.com\n";
    let (code, _, err) = render_stdin(text, &[]);
    assert_eq!(code, Some(0));
    assert!(err.contains("warning: `OIDC_ISSUER_URL` names auth.example.com:443, outside the cluster"), "{err}");
    assert!(err.contains("ports: [443]"), "{err}");
    assert!(!err.contains("ALLOWED_ORIGINS"), "{err}");
    let allowed = format!("{text}networkPolicy:\n  egress: [{{cidr: 0.0.0.0/0, ports: [443]}}]\n");
    let (code, _, err) = render_stdin(&allowed, &[]);
    assert_eq!((code, err.as_str()), (Some(0), ""));
}

/// issue 11: a `Pods` metric with no adapter serving it keeps the HPA from
/// ever scaling down; the render says so.
#[test]
fn issue11_custom_autoscaling_metrics_say_they_need_an_adapter() {
    let text = "name: shop\nimage: shop:1.0\nports: {http: 8080}\nautoscaling:\n  max: 5\n  metrics: [{name: requests_per_second, target: \"10\"}]\n";
    let (code, _, err) = render_stdin(text, &[]);
    assert_eq!(code, Some(0));
    assert!(err.contains("warning: the autoscaler reads `requests_per_second` from the custom metrics API"), "{err}");
    let keda = text
        .replace("autoscaling:\n", "autoscaling:\n  keda: {}\n")
        .replace("\"10\"}]", "\"10\", query: 'sum(rate(x[1m]))'}]");
    let (code, _, err) = render_stdin(&keda, &[]);
    assert_eq!((code, err.as_str()), (Some(0), ""));
}

/// issue 11: with monitoring on, every component with a port was scraped at
/// /metrics, so an app without metrics was "down" forever. Only a component
/// that says it serves metrics is scraped; the others are watched through
/// kube-state-metrics.
#[test]
fn issue11_only_components_that_serve_metrics_are_scraped() {
    let text = "name: shop\nimage: shop:1.0\nports: {http: 8080}\nmonitoring: {}\n";
    let (code, out, err) = render_stdin(text, &[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(!out.contains("kind: ServiceMonitor"), "{out}");
    assert!(
        out.contains("kube_deployment_status_replicas_available{namespace=\"shop\", deployment=\"shop\"} < 1"),
        "{out}"
    );
    let (code, out, _) = render_stdin(&format!("{text}metrics: {{port: http}}\n"), &[]);
    assert_eq!(code, Some(0));
    assert!(out.contains("kind: ServiceMonitor"), "{out}");
    assert!(out.contains("up{namespace=\"shop\", job=\"shop\"}"), "{out}");
}

/// issue 11: standalone database claims were in sync wave 0 under their
/// StatefulSets in wave -2, and Argo CD waited forever.
#[test]
fn issue11_no_shipped_claim_comes_after_a_workload_that_mounts_it() {
    for (profile, env) in crate::support::profile_matrix() {
        let out = crate::support::render(&profile, env.as_deref());
        let objects: Vec<serde_yaml::Value> =
            serde_yaml::Deserializer::from_str(&out).map(|d| serde::Deserialize::deserialize(d).unwrap()).collect();
        let wave = |o: &serde_yaml::Value| -> i32 {
            o["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"].as_str().unwrap().parse().unwrap()
        };
        for o in objects.iter().filter(|o| o["kind"] == "PersistentVolumeClaim") {
            let name = o["metadata"]["name"].as_str().unwrap();
            for w in &objects {
                let spec = match w["kind"].as_str() {
                    Some("CronJob") => &w["spec"]["jobTemplate"]["spec"]["template"]["spec"],
                    Some("Deployment" | "StatefulSet" | "Job") => &w["spec"]["template"]["spec"],
                    _ => continue,
                };
                let mounts = spec["volumes"].as_sequence().into_iter().flatten();
                if mounts.clone().any(|v| v["persistentVolumeClaim"]["claimName"].as_str() == Some(name)) {
                    assert!(
                        wave(o) <= wave(w),
                        "{profile} {env:?}: claim {name} after {}",
                        w["metadata"]["name"].as_str().unwrap_or_default()
                    );
                }
            }
        }
    }
}

/// Render a profile with one extra manifest through the binary; returns
/// (exit code, stderr).
fn render_with_extra(case: &str, extra: &str, args: &[&str]) -> (Option<i32>, String) {
    let dir = crate::support::scratch(case);
    std::fs::write(dir.join("p.yaml"), "name: shop\nimage: shop:1.0\nextraManifests: [./x.yaml]\n").unwrap();
    std::fs::write(dir.join("x.yaml"), extra).unwrap();
    let p = dir.join("p.yaml");
    let mut all = vec!["render", p.to_str().unwrap()];
    all.extend(args);
    let out = run(&all, None);
    assert!(out.stdout.is_empty() || out.status.success());
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn config_map_with(expression: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: a}}\ndata:\n  a: \"{expression}\"\n")
}

/// issue 13: `{{ "x"|indent(100000000000) }}` aborted the process (SIGABRT).
#[test]
fn issue13_indent_of_100_gb_is_a_located_error() {
    let (code, stderr) =
        render_with_extra("issue13-indent", &config_map_with(r#"{{ "x"|indent(100000000000) }}"#), &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.starts_with("error: template error: `indent` is asked for a width of 100000000000, more than 1024\n"),
        "{stderr}"
    );
    assert!(stderr.contains("x.yaml:5:14\n"), "{stderr}");
}

/// issue 13: `{{ "%100000000000s"|format("x") }}` aborted the process.
#[test]
fn issue13_format_width_of_100_gb_is_a_located_error() {
    let (code, stderr) =
        render_with_extra("issue13-format", &config_map_with(r#"{{ "%100000000000s"|format("x") }}"#), &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.starts_with("error: template error: `format` is asked for a width of 100000000000, more than 1024\n"),
        "{stderr}"
    );
}

/// issue 13: `join`, `replace`, `tojson(indent=…)` and `indent` built 1–2 GB
/// before the 4 MiB output bound applied; each stops at 4 MiB now, with
/// the template's line.
#[test]
fn issue13_join_replace_tojson_and_indent_stop_at_4_mib() {
    let cases = [
        (r#"{{ (["x" * 1000000] * 100)|join }}"#, "`join` would make a text larger than 4 MiB"),
        (
            r#"{{ ("x" * 4000000)|replace("x", "yyyyyyyyyyyyyyyyyyyy") }}"#,
            "`replace` would make a text larger than 4 MiB",
        ),
        (r#"{{ (["x" * 1000000] * 100)|tojson(indent=2) }}"#, "`tojson` would make a text larger than 4 MiB"),
        (
            r#"{{ {"a": [[["x"]]]}|tojson(indent=100000000) }}"#,
            "`tojson` is asked for an indent of 100000000, more than 1024",
        ),
        (r#"{{ ("x\n" * 2000000)|indent(1000) }}"#, "`indent` would make a text larger than 4 MiB"),
    ];
    for (expression, message) in cases {
        let started = std::time::Instant::now();
        let (code, stderr) = render_with_extra("issue13-filters", &config_map_with(expression), &[]);
        assert_eq!(code, Some(1), "{expression}: {stderr}");
        assert!(stderr.starts_with(&format!("error: template error: {message}\n")), "{expression}: {stderr}");
        assert!(stderr.contains(" --> "), "{expression}: not located: {stderr}");
        // Not a timing test: a guard against building the gigabytes again.
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "{expression}");
    }
}

/// issue 13: a deep `--set` path with two profiles overflowed a worker
/// thread's stack (SIGSEGV); the path's depth is bounded like a profile's.
#[test]
fn issue13_deep_set_path_with_two_profiles_is_a_located_error() {
    // 30,000 levels: deep enough to overflow a worker's stack, short
    // enough for the 64 KiB a `--set` may hold.
    let path = vec!["a"; 30_000].join(".");
    let set = format!("{path}=1");
    let out = run(&["render", "profiles/clockwork.yaml", "profiles/feaf.yaml", "--set", &set], None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{}", &stderr[..stderr.len().min(2000)]);
    assert!(
        stderr.starts_with("error: the `--set` path is deeper than 64 levels\n --> --set:1:1\n"),
        "{}",
        &stderr[..stderr.len().min(2000)]
    );
    // Up to the bound, it renders on the worker threads as on the main one.
    let path = format!("labels.{}", vec!["a"; 40].join("."));
    let out = run(&["render", "profiles/clockwork.yaml", "profiles/feaf.yaml", "--set", &format!("{path}=1")], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("labels"));
}

/// issue 13: an error about a 2 MB scalar printed all 2 MB of it.
#[test]
fn issue13_an_error_about_a_2_mb_scalar_shows_its_start() {
    let big = "a".repeat(2 << 20);
    for profile in [
        format!("name: {big}\nimage: shop:1.0\n"),
        format!("name: shop\nimage: shop:1.0\nlabels: {{\"{big}\": v}}\n"),
        format!("name: shop\nimage: shop:1.0\nenv: {{A: {{secret: \"{big}\"}}}}\n"),
        format!(
            "name: shop\nimage: shop:1.0\npatches: [{{target: {{kind: Deployment, name: \"{big}\"}}, merge: {{}}}}]\n"
        ),
    ] {
        let out = run(&["render", "-"], Some(&profile));
        assert_eq!(out.status.code(), Some(1));
        assert!(
            out.stderr.len() < 4096,
            "{} bytes of stderr: {}",
            out.stderr.len(),
            String::from_utf8_lossy(&out.stderr[..300])
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("`{}…`", "a".repeat(200))));
    }
}

/// issue 13: `kgen diff --from DIR` printed "exact kubectl delete commands"
/// built from names read from DIR, unvalidated: a name could run a command
/// when the hint was pasted into a shell.
#[test]
fn issue13_diff_hints_print_no_command_for_invalid_names() {
    let dir = crate::support::scratch("issue13-diff-injection").join("out");
    let out = run(&["render", "profiles/clockwork.yaml", "--out-dir", dir.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let hostile =
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \"x; touch /tmp/pwned #\"\n  namespace: \"$(id)\"\n";
    std::fs::write(dir.join("90-configmap-hostile.yaml"), hostile).unwrap();
    let list = std::fs::read_to_string(dir.join(".kgen-files")).unwrap();
    use sha2::Digest;
    let hash: String = sha2::Sha256::digest(hostile.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    std::fs::write(dir.join(".kgen-files"), format!("{list}{hash}  90-configmap-hostile.yaml\n")).unwrap();
    let out = run(&["diff", "profiles/clockwork.yaml", "--from", dir.to_str().unwrap()], None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("hint: delete it by hand (its kind, namespace or name breaks Kubernetes' naming rules, so kgen shows no command), or apply with pruning"),
        "{stderr}"
    );
    assert!(!stderr.contains("kubectl delete configmap x;"), "{stderr}");
}

/// issue 13: `diff --from` kept every listed file: 100 hard links of one
/// 4 MiB file took 411 MB. A file is read once, whatever its names.
#[cfg(unix)]
#[test]
fn issue13_diff_from_reads_a_hard_linked_file_once() {
    let dir = crate::support::scratch("issue13-diff-links").join("out");
    std::fs::create_dir_all(&dir).unwrap();
    let big = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: big}}\ndata:\n  a: \"{}\"\n",
        "x".repeat(4_000_000)
    );
    std::fs::write(dir.join("f0.yaml"), &big).unwrap();
    use sha2::Digest;
    let hash: String = sha2::Sha256::digest(big.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    let mut list = format!("{hash}  f0.yaml\n");
    for i in 1..100 {
        std::fs::hard_link(dir.join("f0.yaml"), dir.join(format!("f{i}.yaml"))).unwrap();
        list.push_str(&format!("{hash}  f{i}.yaml\n"));
    }
    std::fs::write(dir.join(".kgen-files"), list).unwrap();
    let out = run(&["diff", "profiles/clockwork.yaml", "--from", dir.to_str().unwrap()], None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{}", &stderr[..stderr.len().min(2000)]);
    let f0 = dir.join("f0.yaml");
    let f1 = dir.join("f1.yaml");
    assert!(
        stderr.starts_with(&format!(
            "error: cannot read `{}`: it is the same file as `{}`, read already\n",
            f1.display(),
            f0.display()
        )),
        "{}",
        &stderr[..stderr.len().min(2000)]
    );
}
