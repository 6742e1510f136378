//! Writing one file per object into a directory, safely: everything is
//! rendered before this is called; files are written into a staging
//! directory and renamed into place; a list of the files kgen owns lets a
//! later render replace and remove only its own files, and files kgen did
//! not write are never overwritten.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use crate::diagnostic::{Diagnostic, Errors};
use crate::profile::load::io_reason;

/// The list of files kgen wrote in a directory, one name per line.
pub const OWNED_LIST: &str = ".kgen-files";

/// What a write did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub written: usize,
    pub removed: Vec<String>,
}

/// Replace kgen's files in `dir` with `files` (name, contents).
pub fn write(dir: &Path, files: &[(String, String)]) -> Result<Report, Errors> {
    let fail = |what: String| Errors::one(Diagnostic::error(what));
    for (name, _) in files {
        let plain = !name.is_empty()
            && name != OWNED_LIST
            && !name.starts_with('.')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if !plain {
            return Err(fail(format!("refusing to write a file named `{name}`")));
        }
    }
    match fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() || (m.file_type().is_symlink() && dir.is_dir()) => {}
        Ok(_) => {
            return Err(fail(format!("`{}` exists and is not a directory", dir.display())));
        }
        Err(_) => fs::create_dir_all(dir)
            .map_err(|e| fail(format!("cannot create `{}`: {}", dir.display(), io_reason(&e))))?,
    }
    let owned = read_owned(dir)?;
    let wanted: BTreeSet<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    if wanted.len() != files.len() {
        return Err(fail("two objects would be written to the same file".into()));
    }

    let foreign: Vec<&str> =
        wanted.iter().copied().filter(|n| !owned.contains(*n) && fs::symlink_metadata(dir.join(n)).is_ok()).collect();
    if !foreign.is_empty() {
        let list = foreign.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", ");
        return Err(Diagnostic::error(format!(
            "refusing to overwrite {list} in `{}`: kgen did not write {}",
            dir.display(),
            if foreign.len() == 1 { "it" } else { "them" }
        ))
        .hint("move the file away, or render into an empty directory")
        .into());
    }

    let staging = create_staging(dir)?;
    let result = (|| {
        for (name, contents) in files {
            fs::write(staging.join(name), contents)
                .map_err(|e| fail(format!("cannot write `{}`: {}", staging.join(name).display(), io_reason(&e))))?;
        }
        let mut list = String::from("# Files written by kgen; it replaces and removes only these.\n");
        for name in &wanted {
            list.push_str(name);
            list.push('\n');
        }
        fs::write(staging.join(OWNED_LIST), list)
            .map_err(|e| fail(format!("cannot write the file list: {}", io_reason(&e))))?;
        for (name, _) in files {
            fs::rename(staging.join(name), dir.join(name))
                .map_err(|e| fail(format!("cannot move `{name}` into `{}`: {}", dir.display(), io_reason(&e))))?;
        }
        let mut removed = Vec::new();
        for old in owned.iter().filter(|o| !wanted.contains(o.as_str())) {
            let path = dir.join(old);
            if fs::symlink_metadata(&path).is_ok_and(|m| !m.is_dir()) {
                fs::remove_file(&path)
                    .map_err(|e| fail(format!("cannot remove `{}`: {}", path.display(), io_reason(&e))))?;
                removed.push(old.clone());
            }
        }
        fs::rename(staging.join(OWNED_LIST), dir.join(OWNED_LIST))
            .map_err(|e| fail(format!("cannot update the file list: {}", io_reason(&e))))?;
        Ok(Report { written: files.len(), removed })
    })();
    let _ = fs::remove_dir_all(&staging);
    result
}

/// The file names listed as kgen's in `dir`.
pub fn read_owned(dir: &Path) -> Result<BTreeSet<String>, Errors> {
    let path = dir.join(OWNED_LIST);
    match fs::read_to_string(&path) {
        Ok(text) => Ok(text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.contains('/') && !l.starts_with('.'))
            .map(String::from)
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeSet::new()),
        Err(e) => Err(Errors::one(Diagnostic::error(format!("cannot read `{}`: {}", path.display(), io_reason(&e))))),
    }
}

fn create_staging(dir: &Path) -> Result<PathBuf, Errors> {
    for attempt in 0..100 {
        let path = dir.join(format!(".kgen-staging-{}-{attempt}", std::process::id()));
        match fs::create_dir(&path) {
            Ok(()) => return Ok(path),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(Errors::one(Diagnostic::error(format!(
                    "cannot create a staging directory in `{}`: {}",
                    dir.display(),
                    io_reason(&e)
                ))));
            }
        }
    }
    Err(Errors::one(Diagnostic::error(format!("cannot create a staging directory in `{}`", dir.display()))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("kgen-outdir-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    fn files(names: &[&str]) -> Vec<(String, String)> {
        names.iter().map(|n| (n.to_string(), format!("{n}\n"))).collect()
    }

    #[test]
    fn replaces_and_removes_only_its_own_files() {
        let d = tmp("own");
        write(&d, &files(&["a.yaml", "b.yaml"])).unwrap();
        fs::write(d.join("notes.txt"), "mine").unwrap();
        let r = write(&d, &files(&["a.yaml", "c.yaml"])).unwrap();
        assert_eq!(r.removed, ["b.yaml"]);
        let mut names: Vec<_> =
            fs::read_dir(&d).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        assert_eq!(names, [".kgen-files", "a.yaml", "c.yaml", "notes.txt"]);
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn refuses_to_overwrite_foreign_files() {
        let d = tmp("foreign");
        fs::create_dir_all(&d).unwrap();
        fs::write(d.join("a.yaml"), "hand-written").unwrap();
        let err = write(&d, &files(&["a.yaml", "b.yaml"])).unwrap_err();
        assert!(err.0[0].message.starts_with("refusing to overwrite `a.yaml`"));
        assert_eq!(fs::read_to_string(d.join("a.yaml")).unwrap(), "hand-written");
        assert!(!d.join("b.yaml").exists());
        fs::remove_dir_all(&d).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_is_replaced_not_followed() {
        let d = tmp("link");
        let outside = tmp("outside");
        fs::create_dir_all(&outside).unwrap();
        write(&d, &files(&["a.yaml"])).unwrap();
        fs::remove_file(d.join("a.yaml")).unwrap();
        std::os::unix::fs::symlink(outside.join("target"), d.join("a.yaml")).unwrap();
        write(&d, &files(&["a.yaml"])).unwrap();
        assert!(!outside.join("target").exists());
        assert!(fs::symlink_metadata(d.join("a.yaml")).unwrap().is_file());
        fs::remove_dir_all(&d).unwrap();
        fs::remove_dir_all(&outside).unwrap();
    }
}
