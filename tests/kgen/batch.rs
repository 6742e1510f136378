//! Batch rendering for CI: several profiles into DIR/<app>/<env>, every
//! failure reported, nothing written unless everything rendered, and
//! objects two profiles both render are reported.

use std::path::Path;

use crate::support::{render, run, scratch};

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    names
}

const HELLO: &str = "name: hello\nnamespace: {name: tools}\nimage: nginxinc/nginx-unprivileged:1.27\n";

#[test]
fn a_folder_per_app_and_environment() {
    let dir = scratch("batch-ok");
    std::fs::write(dir.join("hello.yaml"), HELLO).unwrap();
    let build = dir.join("build");
    let hello = dir.join("hello.yaml");
    let out = run(
        &["render", "profiles/clockwork.yaml", hello.to_str().unwrap(), "--out-dir", build.to_str().unwrap()],
        None,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stderr), format!("wrote 5 bundles into {}\n", build.display()));
    assert_eq!(files(&build), ["clockwork", "hello"]);
    assert_eq!(files(&build.join("clockwork")), ["base", "dev", "prod", "shared"]);
    assert_eq!(files(&build.join("hello")), ["base"]);
    // Each folder holds what `kgen render --env` prints.
    let prod = build.join("clockwork/prod");
    let mut from_files: Vec<String> = files(&prod)
        .iter()
        .filter(|n| n.ends_with(".yaml"))
        .map(|n| std::fs::read_to_string(prod.join(n)).unwrap())
        .collect();
    let mut from_stream: Vec<String> = render("profiles/clockwork.yaml", Some("prod"))
        .split("---\n")
        .filter(|d| !d.is_empty())
        .map(|d| format!("---\n{d}"))
        .collect();
    from_files.sort();
    from_stream.sort();
    assert_eq!(from_files, from_stream);

    // --env picks one environment; a profile without it is an error.
    let only = dir.join("only-prod");
    let out = run(
        &["render", "profiles/clockwork.yaml", "--env", "prod", "--batch", "--out-dir", only.to_str().unwrap()],
        None,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(files(&only.join("clockwork")), ["prod"]);
}

#[test]
fn every_failure_is_reported_and_nothing_is_written() {
    let dir = scratch("batch-fail");
    std::fs::write(dir.join("hello.yaml"), HELLO).unwrap();
    std::fs::write(dir.join("bad.yaml"), "name: bad\nimage: bad:1\nreplicas: many\n").unwrap();
    std::fs::write(dir.join("worse.yaml"), "name: Worse\nimage: w:1\n").unwrap();
    let build = dir.join("build");
    let out = crate::support::kgen()
        .args(["render", "hello.yaml", "bad.yaml", "worse.yaml", "--out-dir", "build"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--> bad.yaml:3:11"), "{stderr}");
    assert!(stderr.contains("--> worse.yaml:1:7"), "{stderr}");
    assert!(stderr.ends_with("error: 2 of 3 renders failed; nothing was written\n\n"), "{stderr}");
    assert!(!build.exists());
}

#[test]
fn an_object_two_profiles_render_is_reported() {
    let dir = scratch("batch-duplicate");
    std::fs::write(dir.join("a.yaml"), "name: a\nnamespace: shared\nimage: a:1\n").unwrap();
    std::fs::write(dir.join("b.yaml"), "name: b\nnamespace: shared\nimage: b:1\n").unwrap();
    let out = crate::support::kgen()
        .args(["render", "a.yaml", "b.yaml", "--out-dir", "build"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: Namespace/shared is rendered by both `a.yaml` and `b.yaml` (environment `base`)\n\
         hint: let one profile own it: for a shared namespace, set `namespace.create: false` in the others\n\n"
    );
    assert!(!dir.join("build").exists());
}

/// Several profiles in one process render on several threads; the stream
/// is still each profile's render, in the order given, and errors come in
/// that order too.
#[test]
fn several_profiles_in_one_process_stream_in_order() {
    let paths: Vec<String> = ["timeservice", "clockwork", "feaf", "platform", "traversion"]
        .iter()
        .map(|p| format!("profiles/{p}.yaml"))
        .collect();
    let args: Vec<&str> = std::iter::once("render").chain(paths.iter().map(String::as_str)).collect();
    let out = run(&args, None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let expected: String = paths.iter().map(|p| render(p, None)).collect();
    assert!(String::from_utf8(out.stdout).unwrap() == expected, "the batch stream differs from the single renders");

    let broken = scratch("batch-order");
    std::fs::write(broken.join("a.yaml"), "name: a\nimage: a:1\nreplicas: x\n").unwrap();
    std::fs::write(broken.join("b.yaml"), "name: b\nimage: b:1\nreplicas: y\n").unwrap();
    let (a, b) = (broken.join("a.yaml"), broken.join("b.yaml"));
    let out = run(&["render", b.to_str().unwrap(), "profiles/feaf.yaml", a.to_str().unwrap()], None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let (at_b, at_a) = (stderr.find("b.yaml:3").expect(&stderr), stderr.find("a.yaml:3").expect(&stderr));
    assert!(at_b < at_a, "{stderr}");
    assert!(stderr.ends_with("2 of 3 renders failed; nothing was written\n\n"), "{stderr}");
    assert!(out.stdout.is_empty());
}

/// Output does not depend on the machine: every shipped profile in every
/// environment, rendered on one core (`taskset`, which the thread count
/// follows) and on all of them, gives the same bytes on stdout and the
/// same messages.
#[test]
fn one_core_or_many_give_the_same_output() {
    let Some(taskset) = crate::support::tool("taskset", &["taskset"]) else { return };
    let paths: Vec<String> = ["timeservice", "clockwork", "feaf", "platform", "traversion"]
        .iter()
        .map(|p| format!("profiles/{p}.yaml"))
        .collect();
    let dir = scratch("batch-threads");
    let render_on = |cores: Option<&str>, out: &str| {
        let mut cmd = match cores {
            Some(c) => {
                let mut cmd = std::process::Command::new(&taskset);
                cmd.args(["-c", c]).arg(env!("CARGO_BIN_EXE_kgen"));
                cmd
            }
            None => std::process::Command::new(env!("CARGO_BIN_EXE_kgen")),
        };
        let target = dir.join(out);
        cmd.arg("render").args(&paths).arg("--batch").arg("--out-dir").arg(&target).current_dir(crate::support::repo());
        let output = cmd.output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let mut files = Vec::new();
        let mut dirs = vec![target.clone()];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    dirs.push(p);
                } else {
                    files.push((p.strip_prefix(&target).unwrap().to_path_buf(), std::fs::read(&p).unwrap()));
                }
            }
        }
        files.sort();
        let stderr = String::from_utf8(output.stderr).unwrap().replace(target.to_str().unwrap(), "OUT");
        (files, stderr)
    };
    let (one_files, one_messages) = render_on(Some("0"), "one");
    let (all_files, all_messages) = render_on(None, "all");
    assert!(one_files.len() > 100, "{} files", one_files.len());
    assert!(one_files == all_files, "the files differ between one core and all");
    assert_eq!(one_messages, all_messages);
}

/// A symbolic link where kgen would create an app's folder cannot send the
/// files elsewhere: the batch is refused and nothing is written.
#[cfg(unix)]
#[test]
fn a_linked_app_folder_is_refused() {
    let dir = scratch("batch-link");
    std::fs::write(dir.join("hello.yaml"), HELLO).unwrap();
    let (build, outside) = (dir.join("build"), dir.join("outside"));
    std::fs::create_dir_all(&build).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, build.join("hello")).unwrap();
    let hello = dir.join("hello.yaml");
    let out = run(&["render", hello.to_str().unwrap(), "--batch", "--out-dir", build.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("it is a symbolic link"));
    assert!(files(&outside).is_empty());
}

/// The shipped profiles, as the README and docs/gitops.md batch them, with nothing exported
/// (issue 12): `render profiles/*.yaml --out-dir` writes every profile and
/// environment and no Secret; `check` agrees with `render` on the same
/// profiles, also when two of them collide (the benchmarks' peer of
/// clockwork renders clockwork's objects).
#[test]
fn the_shipped_profiles_batch_with_nothing_exported_and_check_agrees_with_render() {
    let mut profiles: Vec<String> = std::fs::read_dir(crate::support::repo().join("profiles"))
        .unwrap()
        .map(|e| format!("profiles/{}", e.unwrap().file_name().to_string_lossy()))
        .filter(|p| p.ends_with(".yaml"))
        .collect();
    profiles.sort();
    let dir = scratch("batch-shipped");
    let build = dir.join("build");
    let bare = |args: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_kgen"));
        cmd.current_dir(crate::support::repo()).env_clear().env("PATH", std::env::var_os("PATH").unwrap_or_default());
        cmd.args(args).output().expect("kgen runs")
    };
    let mut args = vec!["render"];
    args.extend(profiles.iter().map(String::as_str));
    args.extend(["--out-dir", build.to_str().unwrap()]);
    let out = bare(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut written = 0;
    for app in files(&build) {
        for env in files(&build.join(&app)) {
            for file in files(&build.join(&app).join(&env)) {
                let text = std::fs::read_to_string(build.join(&app).join(&env).join(&file)).unwrap();
                assert!(!text.contains("\nkind: Secret\n"), "{app}/{env}/{file} holds a Secret");
                written += 1;
            }
        }
    }
    assert!(written > 100, "only {written} files written");

    args[0] = "check";
    args.truncate(args.len() - 2);
    let check = bare(&args);
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));

    let colliding = ["profiles/clockwork.yaml", "benches/profiles/peer-clockwork.yaml"];
    let render = bare(&[&["render"][..], &colliding, &["--out-dir", dir.join("clash").to_str().unwrap()]].concat());
    let check = bare(&[&["check"][..], &colliding[..]].concat());
    assert_eq!(render.status.code(), Some(1), "{}", String::from_utf8_lossy(&render.stderr));
    assert_eq!(check.status.code(), Some(1), "{}", String::from_utf8_lossy(&check.stderr));
    let clash = "Namespace/clockwork is rendered by both `profiles/clockwork.yaml` and `benches/profiles/peer-clockwork.yaml` (environments `base`, `prod`)";
    for out in [&render, &check] {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.matches(clash).count(), 1, "{stderr}");
    }
}
