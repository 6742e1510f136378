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
    std::fs::write(dir.join("20-secret-clockwork-postgres.yaml"), "mine").unwrap();
    let before = snapshot(&dir);
    let out = render_into(&dir, &["--env", "dev"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: refusing to overwrite `20-secret-clockwork-postgres.yaml` (kgen did not write it)"),
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

#[cfg(unix)]
#[test]
fn created_secrets_are_written_for_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch("out-dir-secret").join("out");
    let out = render_into(&dir, &["--env", "dev"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mode = |n: &str| std::fs::metadata(dir.join(n)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("20-secret-clockwork-postgres.yaml"), 0o600);
}
