//! `--out-dir` file safety through the binary: a refused or failed write
//! changes nothing, files kgen did not write are never touched, links
//! never lead outside, and Secrets are written readable by their owner only.

use std::collections::BTreeMap;
use std::path::Path;

use crate::support::{run, scratch};

/// Every file under `dir` (relative path → contents), links as their target.
fn snapshot(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let path = e.unwrap().path();
            let rel = path.strip_prefix(base).unwrap().to_string_lossy().into_owned();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.file_type().is_symlink() {
                out.insert(rel, format!("-> {}", std::fs::read_link(&path).unwrap().display()));
            } else if meta.is_dir() {
                walk(base, &path, out);
            } else {
                out.insert(rel, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    if dir.exists() {
        walk(dir, dir, &mut out);
    }
    out
}

fn render_into(dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["render", "profiles/clockwork.yaml", "--out-dir", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    run(&args, None)
}

#[test]
fn a_refused_write_leaves_the_directory_as_it_was() {
    let dir = scratch("out-dir-refused").join("out");
    assert!(render_into(&dir, &[]).status.success());
    // A hand-written file where the next render would put a new object.
    std::fs::write(dir.join("52-statefulset-postgres.yaml"), "mine").unwrap();
    let before = snapshot(&dir);
    let out = render_into(&dir, &["--env", "dev"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: refusing to overwrite `52-statefulset-postgres.yaml` (kgen did not write it)"),
        "{stderr}"
    );
    assert_eq!(snapshot(&dir), before);
}

#[test]
fn a_conflict_in_one_of_several_profiles_writes_none_of_them() {
    let base = scratch("out-dir-several");
    let other = base.join("other.yaml");
    std::fs::write(&other, "name: other\nimage: other:1.0\nnamespace: {name: clockwork, create: false}\n").unwrap();
    let dir = base.join("out");
    std::fs::create_dir_all(dir.join("other/base")).unwrap();
    std::fs::write(dir.join("other/base/15-serviceaccount-other.yaml"), "mine").unwrap();
    let before = snapshot(&dir);
    let out =
        run(&["render", "profiles/clockwork.yaml", other.to_str().unwrap(), "--out-dir", dir.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(snapshot(&dir), before, "clockwork's folder must not be written either");
}

#[test]
fn two_profiles_for_one_folder_are_refused() {
    let base = scratch("out-dir-same-folder");
    for (file, ns) in [("a.yaml", "one"), ("b.yaml", "two")] {
        std::fs::write(base.join(file), format!("name: same\nimage: same:1.0\nnamespace: {ns}\n")).unwrap();
    }
    let dir = base.join("out");
    let a = base.join("a.yaml");
    let b = base.join("b.yaml");
    let out = run(&["render", a.to_str().unwrap(), b.to_str().unwrap(), "--out-dir", dir.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("would both write"));
    assert!(!dir.exists());
}

#[cfg(unix)]
#[test]
fn links_in_the_output_directory_never_lead_outside() {
    use std::os::unix::fs::symlink;
    let base = scratch("out-dir-links");
    let outside = base.join("outside.txt");
    std::fs::write(&outside, "outside").unwrap();
    let dir = base.join("out");
    // The owned list as a link out of the directory.
    std::fs::create_dir_all(&dir).unwrap();
    symlink(&outside, dir.join(".kgen-files")).unwrap();
    let out = render_into(&dir, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "outside");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    // A target file as a link out of the directory.
    std::fs::remove_file(dir.join(".kgen-files")).unwrap();
    symlink(&outside, dir.join("50-deployment-clockwork-server.yaml")).unwrap();
    let out = render_into(&dir, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("(a symbolic link)"));
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "outside");
}

/// issue 12: a created Secret went into the directory meant for git. It is
/// left out with a warning unless `--include-secrets`, and then it is
/// readable by its owner only.
#[cfg(unix)]
#[test]
fn created_secrets_stay_out_of_the_directory_unless_asked_for() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch("out-dir-secret").join("out");
    let profile = "tests/kgen/fixtures/created-secret.yaml";
    let out = run(&["render", profile, "--out-dir", dir.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("warning: Secret `keyed/keyed-api` was not written into"), "{stderr}");
    let files: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(!files.iter().any(|f| f.contains("secret")), "{files:?}");
    let fixture_value = crate::support::PROFILE_ENV[0].1;
    for f in &files {
        assert!(!std::fs::read_to_string(dir.join(f)).unwrap_or_default().contains(fixture_value), "{f}");
    }
    let out = run(&["render", profile, "--out-dir", dir.to_str().unwrap(), "--include-secrets"], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let mode = |n: &str| std::fs::metadata(dir.join(n)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("20-secret-keyed-api.yaml"), 0o600);
}

/// `.kgen-files` lists exactly the YAML files of `dir`, each with its hash,
/// and no staging folder is left: the state every run must leave.
fn assert_consistent(dir: &Path) {
    let listed = kgen::output::out_dir::read_owned(dir).unwrap();
    let mut present = BTreeMap::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().into_string().unwrap();
        assert!(!name.starts_with(".kgen-staging-"), "{name} left in {}", dir.display());
        if name.ends_with(".yaml") {
            present.insert(name, sha256(&std::fs::read(e.path()).unwrap()));
        }
    }
    let listed: BTreeMap<String, String> =
        listed.into_iter().map(|(name, hashes)| (name, hashes.into_iter().next().unwrap())).collect();
    assert_eq!(listed, present, "in {}", dir.display());
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// issue 13: two concurrent writers both exited 0 and left files that the
/// list did not name (later refused as foreign). One at a time now: the
/// other says so and writes nothing.
#[test]
fn issue13_two_concurrent_writers_leave_a_listed_directory() {
    let dir = scratch("out-dir-concurrent").join("out");
    for round in 0..12 {
        let env = if round % 2 == 0 { ["--env", "prod"] } else { ["--env", "dev"] };
        let spawn = |args: &[&str]| {
            let mut cmd = crate::support::kgen();
            for (k, v) in crate::support::PROFILE_ENV {
                cmd.env(k, v);
            }
            cmd.args(["render", "profiles/clockwork.yaml", "--out-dir", dir.to_str().unwrap()])
                .args(args)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = (spawn(&[]), spawn(&env));
        let outcomes = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
        for out in &outcomes {
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                out.status.success() || stderr.contains("another kgen is writing into"),
                "round {round}: {:?} {stderr}",
                out.status
            );
        }
        assert!(outcomes.iter().any(|o| o.status.success()), "round {round}: neither wrote");
        assert_consistent(&dir);
        // Nothing is foreign afterwards: a plain render replaces it all.
        let out = render_into(&dir, &[]);
        assert!(out.status.success(), "round {round}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// issue 13: after SIGKILL the staging folder, holding a copy of the
/// Secret, was never cleaned. It is owner-only while it exists, and the
/// next run removes it. Killed at increasing delays, so that some kills
/// land while files are staged.
#[cfg(unix)]
#[test]
fn issue13_a_killed_run_s_staging_is_private_and_removed_by_the_next_run() {
    use std::os::unix::fs::PermissionsExt;
    let base = scratch("out-dir-killed");
    let dir = base.join("out");
    let mut left_behind = 0;
    for delay_ms in 0..40u64 {
        let mut cmd = crate::support::kgen();
        for (k, v) in crate::support::PROFILE_ENV {
            cmd.env(k, v);
        }
        let mut child = cmd
            .args(["render", "profiles/clockwork.yaml", "profiles/platform.yaml", "profiles/feaf.yaml"])
            .args(["--out-dir", dir.to_str().unwrap()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_micros(delay_ms * 500));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        for app in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            for env in std::fs::read_dir(app.path()).into_iter().flatten().flatten() {
                for e in std::fs::read_dir(env.path()).into_iter().flatten().flatten() {
                    if e.file_name().to_string_lossy().starts_with(".kgen-staging-") {
                        left_behind += 1;
                        let mode = e.metadata().unwrap().permissions().mode() & 0o777;
                        assert_eq!(mode, 0o700, "{}", e.path().display());
                    }
                }
            }
        }
    }
    // A staging folder as a killed run leaves it, whether or not the kills
    // above landed at that moment.
    let clockwork = dir.join("clockwork/base");
    std::fs::create_dir_all(clockwork.join(".kgen-staging-999999-0")).unwrap();
    std::fs::write(clockwork.join(".kgen-staging-999999-0/20-secret-clockwork-postgres.yaml"), "secret").unwrap();
    let out = run(
        &[
            "render",
            "profiles/clockwork.yaml",
            "profiles/platform.yaml",
            "profiles/feaf.yaml",
            "--out-dir",
            dir.to_str().unwrap(),
        ],
        None,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for app in std::fs::read_dir(&dir).unwrap().flatten() {
        for env in std::fs::read_dir(app.path()).unwrap().flatten() {
            assert_consistent(&env.path());
        }
    }
    eprintln!("note: {left_behind} staging folder(s) of killed runs were found and removed");
}

/// issue 13: ENOSPC in batch mode left part of the batch written. Every
/// folder is staged before any file moves: on a full filesystem (a small
/// tmpfs mounted for the test; root only) nothing changes.
#[cfg(target_os = "linux")]
#[test]
fn issue13_a_full_disk_in_a_batch_writes_nothing() {
    let mnt = scratch("out-dir-enospc").join("mnt");
    std::fs::create_dir_all(&mnt).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=400k", "tmpfs", mnt.to_str().unwrap()])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        crate::support::skip("mounting a tmpfs is required and failed (not root?)", "run as root");
        return;
    }
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(self.0).status();
        }
    }
    let _unmount = Unmount(&mnt);
    let dir = mnt.join("out");
    // A first batch that fits, then one whose new objects do not.
    let out = run(&["render", "profiles/clockwork.yaml", "--batch", "--out-dir", dir.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let before = snapshot(&dir);
    let profiles =
        ["profiles/clockwork.yaml", "profiles/platform.yaml", "profiles/feaf.yaml", "profiles/traversion.yaml"];
    let mut args = vec!["render"];
    args.extend(profiles);
    args.extend(["--out-dir", dir.to_str().unwrap()]);
    let out = run(&args, None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("No space left on device; nothing was written"), "{stderr}");
    assert_eq!(snapshot(&dir), before);
}

/// issue 13: `--out-dir` read a same-named foreign file whole before
/// refusing it (1 GiB: 1 GB of memory). A file kgen did not list is
/// refused unread: here a sparse 2 GiB one.
#[test]
fn issue13_a_foreign_file_is_refused_unread() {
    let dir = scratch("out-dir-foreign-large").join("out");
    std::fs::create_dir_all(&dir).unwrap();
    let file = std::fs::File::create(dir.join("00-namespace-clockwork.yaml")).unwrap();
    file.set_len(2 << 30).unwrap();
    let out = render_into(&dir, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with("error: refusing to overwrite `00-namespace-clockwork.yaml` (kgen did not write it)"));
}

/// A batch refused after some folders were planned (and so created and
/// locked) leaves no folder behind.
#[test]
fn issue13_a_refused_batch_leaves_no_folder_behind() {
    let dir = scratch("out-dir-refused-batch").join("fresh");
    let out = run(
        &["render", "profiles/clockwork.yaml", "profiles/clockwork.yaml", "--out-dir", dir.to_str().unwrap()],
        None,
    );
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!dir.exists(), "{} was left behind", dir.display());
}
