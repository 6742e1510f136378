//! `kgen diff`: exit codes (0 equal, 1 different, 2 error), the unified
//! diff, and warnings for changes `kubectl apply` rejects or that leave
//! objects behind.

use crate::support::{run, scratch};

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn exit_codes() {
    let same = run(&["diff", "profiles/clockwork.yaml", "--env", "prod", "--to-env", "prod"], None);
    assert_eq!(
        (same.status.code(), stdout(&same), stderr(&same)),
        (Some(0), String::new(), "prod → prod: no differences\n".into())
    );

    let differ = run(&["diff", "profiles/clockwork.yaml", "--env", "dev", "--to-env", "prod"], None);
    assert_eq!(differ.status.code(), Some(1));
    let text = stdout(&differ);
    assert!(
        text.contains(
            "--- Deployment/clockwork/clockwork-server (dev)\n+++ Deployment/clockwork/clockwork-server (prod)\n"
        ),
        "{text}"
    );
    // prod autoscales: the Deployment leaves `replicas` to the HPA.
    assert!(text.contains("\n-  replicas: 1\n"), "{text}");
    assert!(text.contains("+++ HorizontalPodAutoscaler/clockwork/clockwork-server (prod)\n"), "{text}");
    assert!(!text.contains('\x1b'), "no colour when stdout is not a terminal");
    // dev's in-cluster database and its credentials Job go with prod.
    assert!(text.contains("--- StatefulSet/clockwork/postgres (dev)\n+++ /dev/null\n"), "{text}");
    assert!(stderr(&differ).ends_with("dev → prod: 3 changed, 7 added, 8 removed\n"), "{}", stderr(&differ));

    let colored =
        run(&["diff", "profiles/clockwork.yaml", "--env", "dev", "--to-env", "prod", "--color", "always"], None);
    assert!(stdout(&colored).contains("\x1b[31m-  replicas: 1\x1b[0m"), "{}", stdout(&colored));

    let error = run(&["diff", "profiles/clockwork.yaml", "--to-env", "staging"], None);
    assert_eq!(error.status.code(), Some(2));
    assert!(stderr(&error).starts_with("error: unknown environment `staging`"), "{}", stderr(&error));
    assert!(error.stdout.is_empty());

    let usage = run(&["diff", "profiles/clockwork.yaml"], None);
    assert_eq!(usage.status.code(), Some(2), "--to-env or --from is required");
}

/// Against an earlier --out-dir: equal, then an edited file stands for an
/// earlier release whose selector differs, and one whose workload kind
/// differs.
#[test]
fn against_an_earlier_render_with_immutable_field_warnings() {
    let dir = scratch("diff-out-dir");
    let target = dir.join("prod");
    let t = target.to_str().unwrap();
    let out = run(&["render", "profiles/clockwork.yaml", "--env", "prod", "--out-dir", t], None);
    assert!(out.status.success());
    let same = run(&["diff", "profiles/clockwork.yaml", "--env", "prod", "--from", t], None);
    assert_eq!(same.status.code(), Some(0), "{}", stderr(&same));

    let file = target.join("50-deployment-clockwork-server.yaml");
    let original = std::fs::read_to_string(&file).unwrap();
    let edited = original.replacen("    matchLabels:\n", "    matchLabels:\n      tier: web\n", 1);
    std::fs::write(&file, &edited).unwrap();
    let changed = run(&["diff", "profiles/clockwork.yaml", "--env", "prod", "--from", t], None);
    assert_eq!(changed.status.code(), Some(1));
    assert!(stdout(&changed).contains("\n-      tier: web\n"), "{}", stdout(&changed));
    assert_eq!(
        stderr(&changed),
        format!(
            "warning: Deployment `clockwork/clockwork-server`: `spec.selector` cannot change, and `kubectl apply` will be rejected\n\
             hint: `kubectl delete deployment clockwork-server -n clockwork`, then apply (it is created anew)\n\n\
             {t} → prod: 1 changed, 0 added, 0 removed\n"
        )
    );

    std::fs::write(&file, original.replacen("kind: Deployment", "kind: StatefulSet", 1)).unwrap();
    let kind = run(&["diff", "profiles/clockwork.yaml", "--env", "prod", "--from", t], None);
    assert_eq!(kind.status.code(), Some(1));
    assert!(
        stderr(&kind).starts_with(
            "warning: the workload changes kind: Deployment `clockwork/clockwork-server` replaces StatefulSet `clockwork/clockwork-server`, and `kubectl apply` leaves the StatefulSet running beside it\n\
             hint: once the Deployment is ready: `kubectl delete statefulset clockwork-server -n clockwork` (or apply with pruning)\n"
        ),
        "{}",
        stderr(&kind)
    );

    let not_kgen = run(&["diff", "profiles/clockwork.yaml", "--from", dir.to_str().unwrap()], None);
    assert_eq!(not_kgen.status.code(), Some(2));
    assert!(stderr(&not_kgen).contains("it is not a directory kgen rendered into"));
}

/// Files of an earlier render that are not what kgen wrote: a link to an
/// endless device, a FIFO (opening one blocks), text that is no object.
/// Every one is reported, with exit 2 (an error, not a difference).
#[cfg(unix)]
#[test]
fn from_a_directory_of_files_that_are_not_objects() {
    let dir = scratch("diff-not-objects");
    let t = dir.to_str().unwrap();
    let out = run(&["render", "profiles/clockwork.yaml", "--env", "prod", "--out-dir", t], None);
    assert!(out.status.success());
    let replace = |name: &str| {
        let path = dir.join(name);
        assert!(path.is_file(), "{name} is rendered");
        std::fs::remove_file(&path).unwrap();
        path
    };
    std::os::unix::fs::symlink("/dev/zero", replace("00-namespace-clockwork.yaml")).unwrap();
    let fifo = replace("15-serviceaccount-clockwork.yaml");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    std::fs::write(replace("25-configmap-clockwork.yaml"), "hello\n").unwrap();
    std::fs::write(replace("50-deployment-clockwork-server.yaml"), "- a\n").unwrap();
    let out = run(&["diff", "profiles/clockwork.yaml", "--env", "prod", "--from", t], None);
    assert_eq!(
        stderr(&out),
        format!(
            "error: cannot read `{t}/00-namespace-clockwork.yaml`: it is a device, not a regular file

error: cannot read `{t}/15-serviceaccount-clockwork.yaml`: it is a FIFO (named pipe), not a regular file

error: `{t}/25-configmap-clockwork.yaml` is not a Kubernetes object: it needs `apiVersion`, `kind` and `metadata.name`
 --> {t}/25-configmap-clockwork.yaml:1:1
hint: kgen wrote one object per file here: the file was changed since

error: `{t}/50-deployment-clockwork-server.yaml` is not a Kubernetes object: it needs `apiVersion`, `kind` and `metadata.name`
 --> {t}/50-deployment-clockwork-server.yaml:1:1
hint: kgen wrote one object per file here: the file was changed since

"
        )
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}
