//! Writing one file per object into a directory, safely.
//!
//! Two steps. [`plan`] checks everything and writes nothing: file names,
//! the directory, kgen's list of the files it owns, and every file it would
//! replace or remove. [`Plan::apply`] then writes the files into a fresh
//! staging directory and renames them into place.
//!
//! The list (`.kgen-files`) records the SHA-256 of every file kgen wrote.
//! kgen replaces or removes a file only when it is a regular file whose
//! contents are still what kgen wrote: a file it did not write, a file
//! edited since, a directory or a symbolic link is never overwritten,
//! removed or followed. The list itself must be a regular file. While files
//! are moved into place the list names both the old and the new contents,
//! so that an interrupted write leaves every file either kgen's (and
//! listed) or untouched.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::diagnostic::Code;
use crate::diagnostic::{Diagnostic, Errors};
use crate::files;
use crate::profile::load::io_reason;

/// The list of files kgen wrote in a directory: `sha256  name` lines.
pub const OWNED_LIST: &str = ".kgen-files";

/// The largest owned list read.
const OWNED_LIST_MAX_BYTES: u64 = 1 << 20;

/// One file to write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutFile {
    pub name: String,
    pub contents: String,
    /// Readable by the owner only (a Secret's manifest).
    pub private: bool,
}

impl OutFile {
    pub fn new(name: impl Into<String>, contents: impl Into<String>) -> OutFile {
        OutFile { name: name.into(), contents: contents.into(), private: false }
    }
}

/// What a write did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub written: usize,
    /// kgen's files it no longer renders, removed.
    pub removed: Vec<String>,
    /// Files kgen once wrote and no longer renders, left in place because
    /// they changed since (they are no longer listed as kgen's).
    pub kept: Vec<String>,
}

/// A checked write, ready to apply.
#[derive(Debug)]
pub struct Plan {
    dir: PathBuf,
    files: Vec<OutFile>,
    /// The list as it is: name → the hashes recorded for it.
    owned: BTreeMap<String, BTreeSet<String>>,
    /// kgen's files to remove (unchanged since kgen wrote them).
    stale: Vec<String>,
    /// kgen's former files that changed: left alone.
    kept: Vec<String>,
    /// Held from planning until the files are in place.
    lock: Lock,
}

/// The lock file in an output directory: one kgen at a time plans and
/// writes there (an advisory lock, released when the process ends, however
/// it ends).
pub const LOCK_FILE: &str = ".kgen-lock";

/// The prefix of a staging directory, followed by `<pid>-<attempt>`.
const STAGING_PREFIX: &str = ".kgen-staging-";

/// A held lock on an output directory.
#[derive(Debug)]
struct Lock {
    _file: fs::File,
    dir: PathBuf,
    /// The topmost folder planning created, removed again (when still
    /// empty) unless files were written.
    created: Option<PathBuf>,
    /// Whether planning created the lock file (removed again likewise,
    /// so that a refused write leaves the directory as it was).
    created_file: bool,
    written: bool,
}

impl Drop for Lock {
    fn drop(&mut self) {
        if !self.written {
            if self.created_file {
                let _ = fs::remove_file(self.dir.join(LOCK_FILE));
            }
            remove_created(&self.dir, self.created.as_deref());
        }
    }
}

/// Remove the lock file and the folders planning created (`top` and those
/// under it down to `dir`), as long as they are empty: nothing was written.
fn remove_created(dir: &Path, top: Option<&Path>) {
    let Some(top) = top else { return };
    let _ = fs::remove_file(dir.join(LOCK_FILE));
    for folder in dir.ancestors() {
        // `remove_dir` refuses a folder that is not empty.
        if fs::remove_dir(folder).is_err() || folder == top {
            break;
        }
    }
}

/// Create `dir` if needed and lock it. Another kgen writing there now is
/// an error (not a wait): two renders into one folder at once are a
/// mistake in the build, and neither should win silently.
fn lock(dir: &Path) -> Result<Lock, Errors> {
    let created = if dir.exists() {
        None
    } else {
        let top =
            dir.ancestors().take_while(|a| !a.as_os_str().is_empty() && !a.exists()).last().map(Path::to_path_buf);
        fs::create_dir_all(dir).map_err(|e| fail(format!("cannot create `{}`: {}", dir.display(), io_reason(&e))))?;
        top
    };
    let path = dir.join(LOCK_FILE);
    let mut created_file = false;
    let opened = (|| -> Result<fs::File, String> {
        // Never through a link, and only a regular file.
        match fs::symlink_metadata(&path) {
            Ok(m) if !m.file_type().is_file() => return Err("it is not a regular file".into()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => created_file = true,
            Err(e) => return Err(io_reason(&e)),
            _ => {}
        }
        let mut options = fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&path).map_err(|e| io_reason(&e))?;
        if !file.metadata().map_err(|e| io_reason(&e))?.is_file() {
            return Err("it is not a regular file".into());
        }
        Ok(file)
    })();
    let file = match opened {
        Ok(f) => f,
        Err(why) => {
            remove_created(dir, created.as_deref());
            return Err(Diagnostic::error(Code::OutDir, format!("cannot lock `{}`: {why}", path.display()))
                .hint("kgen keeps an empty lock file of this name in the output directory: move away what is there")
                .into());
        }
    };
    let lock = Lock { _file: file, dir: dir.to_path_buf(), created, created_file, written: false };
    match lock._file.try_lock() {
        Ok(()) => Ok(lock),
        Err(fs::TryLockError::WouldBlock) => Err({
            // Not ours to remove: the other kgen holds it.
            let mut lock = lock;
            lock.created_file = false;
            drop(lock);
            Diagnostic::error(
                Code::OutDir,
                format!(
                    "another kgen is writing into `{}` now (it holds `{LOCK_FILE}` there); nothing was written",
                    dir.display()
                ),
            )
            .hint("run one kgen per output directory at a time, then run this one again")
        }
        .into()),
        Err(fs::TryLockError::Error(e)) => Err(fail(format!("cannot lock `{}`: {}", path.display(), io_reason(&e)))),
    }
}

/// Remove what a killed kgen left: its staging folders, which may hold a
/// copy of a Secret. Called with the lock held, so that no staging folder
/// is in use; only real folders named as kgen names them go.
fn remove_stale_staging(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(STAGING_PREFIX)) else { continue };
        let numbered = rest
            .split_once('-')
            .is_some_and(|(pid, n)| [pid, n].iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())));
        if numbered && entry.file_type().is_ok_and(|t| t.is_dir()) {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

fn fail(message: String) -> Errors {
    Errors::one(Diagnostic::error(Code::OutDir, message))
}

/// A name kgen writes: plain characters, no path, not hidden.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name != OWNED_LIST
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// What is at `path`, without following a symbolic link.
enum Found {
    Nothing,
    /// A regular file and the SHA-256 of its contents.
    File(String),
    /// A regular file kgen did not list (not read).
    Foreign,
    Other(&'static str),
}

/// What is at `path`; a regular file is hashed only when `listed` (a file
/// kgen did not list is not kgen's, whatever it holds: it is never read),
/// and then streamed, so that memory does not depend on its size.
fn inspect(path: &Path, listed: bool) -> Result<Found, Errors> {
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Found::Nothing),
        Err(e) => return Err(fail(format!("cannot inspect `{}`: {}", path.display(), io_reason(&e)))),
    };
    let ft = meta.file_type();
    if ft.is_symlink() {
        return Ok(Found::Other("a symbolic link"));
    }
    if ft.is_dir() {
        return Ok(Found::Other("a directory"));
    }
    if !ft.is_file() {
        return Ok(Found::Other("not a regular file"));
    }
    if !listed {
        return Ok(Found::Foreign);
    }
    let hash = fs::File::open(path)
        .and_then(|mut file| {
            use sha2::Digest;
            use std::io::Read;
            let mut hasher = sha2::Sha256::new();
            let mut buffer = vec![0; 1 << 16];
            loop {
                match file.read(&mut buffer) {
                    Ok(0) => break,
                    Ok(n) => hasher.update(&buffer[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
        })
        .map_err(|e| fail(format!("cannot read `{}`: {}", path.display(), io_reason(&e))))?;
    Ok(Found::File(hash))
}

/// `root` joined with `parts`, the folders kgen names under an output
/// directory (an app, an environment). Each must be a plain name, and one
/// that exists must be a real directory: a symbolic link there would send
/// kgen's files outside `root`.
pub fn subdirectory(root: &Path, parts: &[&str]) -> Result<PathBuf, Errors> {
    let mut dir = root.to_path_buf();
    for part in parts {
        if !is_plain_name(part) {
            return Err(fail(format!("refusing to write into a folder named `{part}`")));
        }
        dir.push(part);
        match fs::symlink_metadata(&dir) {
            Ok(m) if m.file_type().is_dir() => {}
            Ok(m) => {
                let what = if m.file_type().is_symlink() { "a symbolic link" } else { "not a directory" };
                return Err(Diagnostic::error(
                    Code::OutDir,
                    format!("refusing to write into `{}`: it is {what}", dir.display()),
                )
                .hint("kgen writes only into folders it can create itself under the output directory")
                .into());
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(fail(format!("cannot inspect `{}`: {}", dir.display(), io_reason(&e)))),
        }
    }
    Ok(dir)
}

/// Check a write of `files` into `dir` and lock it (creating it, and the
/// empty lock file, if needed: removed again, when empty, if the plan is
/// dropped); nothing else is written. A staging folder a killed kgen left
/// is removed.
pub fn plan(dir: &Path, files: Vec<OutFile>) -> Result<Plan, Errors> {
    for f in &files {
        if !is_plain_name(&f.name) {
            return Err(fail(format!("refusing to write a file named `{}`", f.name)));
        }
    }
    let wanted: BTreeSet<&str> = files.iter().map(|f| f.name.as_str()).collect();
    if wanted.len() != files.len() {
        return Err(fail("two objects would be written to the same file".into()));
    }
    match fs::metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(fail(format!("`{}` exists and is not a directory", dir.display()))),
        Err(_) => {
            // It will be created: its nearest existing ancestor must be a directory.
            if let Some(ancestor) = dir.ancestors().skip(1).find(|a| !a.as_os_str().is_empty() && a.exists())
                && !ancestor.is_dir()
            {
                return Err(fail(format!(
                    "cannot create `{}`: `{}` is not a directory",
                    dir.display(),
                    ancestor.display()
                )));
            }
        }
    }
    // From here until the files are in place, this kgen alone plans and
    // writes in `dir`; what a killed one left is removed first.
    let lock = lock(dir)?;
    remove_stale_staging(dir);
    let owned = read_owned(dir)?;

    let mut conflicts = Vec::new();
    for f in &files {
        let recorded = owned.get(&f.name);
        match inspect(&dir.join(&f.name), recorded.is_some())? {
            Found::Nothing => {}
            Found::File(hash) => match recorded {
                Some(hashes) if hashes.contains(&hash) => {}
                _ => conflicts.push(format!("`{}` (changed since kgen wrote it)", f.name)),
            },
            Found::Foreign => conflicts.push(format!("`{}` (kgen did not write it)", f.name)),
            Found::Other(what) => conflicts.push(format!("`{}` ({what})", f.name)),
        }
    }
    if !conflicts.is_empty() {
        return Err(Diagnostic::error(Code::OutDir, format!(
            "refusing to overwrite {} in `{}`",
            conflicts.join(", "),
            dir.display()
        ))
        .hint("kgen replaces only files it wrote and nobody changed since: move these away, or render into an empty directory")
        .into());
    }

    let mut stale = Vec::new();
    let mut kept = Vec::new();
    for (name, hashes) in owned.iter().filter(|(n, _)| !wanted.contains(n.as_str())) {
        match inspect(&dir.join(name), true)? {
            Found::Nothing => {}
            Found::File(hash) if hashes.contains(&hash) => stale.push(name.clone()),
            _ => kept.push(name.clone()),
        }
    }
    Ok(Plan { dir: dir.to_path_buf(), files, owned, stale, kept, lock })
}

/// Replace kgen's files in `dir` with `files`: [`plan`], then apply.
pub fn write(dir: &Path, files: Vec<OutFile>) -> Result<Report, Errors> {
    plan(dir, files)?.apply()
}

impl Plan {
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Write the files: into a staging directory, then renamed into place.
    pub fn apply(self) -> Result<Report, Errors> {
        apply_all(vec![self]).map(|mut reports| reports.remove(0))
    }

    /// Write every file and both versions of the list into a fresh staging
    /// folder; nothing in the directory changes.
    fn stage(&self) -> Result<Staged, Errors> {
        let staging = create_staging(&self.dir)?;
        let result = self.stage_in(staging.clone());
        if result.is_err() {
            let _ = fs::remove_dir_all(&staging);
        }
        result
    }

    fn stage_in(&self, staging: PathBuf) -> Result<Staged, Errors> {
        let staged = Staged { staging, interim: PathBuf::new(), list: PathBuf::new() };
        let mut new_list: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for f in &self.files {
            write_new(&staged.staging.join(&f.name), f.contents.as_bytes(), f.private)?;
            new_list.entry(f.name.clone()).or_default().insert(sha256_hex(f.contents.as_bytes()));
        }
        // While files move, the list names old and new contents alike.
        let mut interim = self.owned.clone();
        for (name, hashes) in &new_list {
            interim.entry(name.clone()).or_default().extend(hashes.iter().cloned());
        }
        let interim_path = staged.staging.join(format!("{OWNED_LIST}.interim"));
        write_new(&interim_path, list_text(&interim).as_bytes(), false)?;
        let list_path = staged.staging.join(OWNED_LIST);
        write_new(&list_path, list_text(&new_list).as_bytes(), false)?;
        Ok(Staged { interim: interim_path, list: list_path, ..staged })
    }

    /// Move staged files into place: renames and removals only, no new
    /// data (a full disk stops [`Plan::stage`], not this). The list names
    /// old and new contents while files move, so that an interruption
    /// leaves every file either kgen's (and listed) or untouched.
    fn commit(&mut self, staged: &Staged) -> Result<Report, Errors> {
        let dir = &self.dir;
        let list_error =
            |e: std::io::Error| fail(format!("cannot update the file list in `{}`: {}", dir.display(), io_reason(&e)));
        fs::rename(&staged.interim, dir.join(OWNED_LIST)).map_err(list_error)?;
        self.lock.written = true;
        for f in &self.files {
            fs::rename(staged.staging.join(&f.name), dir.join(&f.name))
                .map_err(|e| fail(format!("cannot move `{}` into `{}`: {}", f.name, dir.display(), io_reason(&e))))?;
        }
        let mut removed = Vec::new();
        for name in &self.stale {
            let path = dir.join(name);
            fs::remove_file(&path)
                .map_err(|e| fail(format!("cannot remove `{}`: {}", path.display(), io_reason(&e))))?;
            removed.push(name.clone());
        }
        fs::rename(&staged.list, dir.join(OWNED_LIST)).map_err(list_error)?;
        Ok(Report { written: self.files.len(), removed, kept: self.kept.clone() })
    }
}

/// A plan's staging folder, filled.
struct Staged {
    staging: PathBuf,
    /// The list naming old and new contents, and the final one.
    interim: PathBuf,
    list: PathBuf,
}

/// Apply several plans as one: every file of every plan is staged first,
/// so that a full disk or another write error leaves every directory as
/// it was ("nothing was written"); then each is moved into place, which
/// needs no space. Should a rename or removal fail there, the error says
/// which directories were written and which not.
pub fn apply_all(mut plans: Vec<Plan>) -> Result<Vec<Report>, Errors> {
    let mut staged = Vec::with_capacity(plans.len());
    for plan in &plans {
        match plan.stage() {
            Ok(s) => staged.push(s),
            Err(e) => {
                for s in &staged {
                    let _ = fs::remove_dir_all(&s.staging);
                }
                let mut e = e;
                for d in &mut e.0 {
                    d.message.push_str("; nothing was written");
                }
                drop_in_reverse(plans);
                return Err(e);
            }
        }
    }
    let mut reports = Vec::with_capacity(plans.len());
    let total = plans.len();
    for (i, (plan, s)) in plans.iter_mut().zip(&staged).enumerate() {
        let result = plan.commit(s);
        let _ = fs::remove_dir_all(&s.staging);
        match result {
            Ok(report) => reports.push(report),
            Err(mut e) => {
                for later in &staged[i + 1..] {
                    let _ = fs::remove_dir_all(&later.staging);
                }
                if total > 1 {
                    let done: Vec<String> = plans[..i].iter().map(|p| format!("`{}`", p.dir.display())).collect();
                    let untouched: Vec<String> =
                        plans[i + 1..].iter().map(|p| format!("`{}`", p.dir.display())).collect();
                    let written = if done.is_empty() { "none".to_string() } else { done.join(", ") };
                    let left = if untouched.is_empty() { "none".to_string() } else { untouched.join(", ") };
                    let note = format!(
                        "written completely: {written}; interrupted: `{}` (each file old or new, all listed); not written: {left}",
                        plans[i].dir.display()
                    );
                    for d in &mut e.0 {
                        d.notes.push(note.clone());
                    }
                }
                drop_in_reverse(plans);
                return Err(e);
            }
        }
    }
    Ok(reports)
}

/// Drop plans last first: the folders a later plan created lie inside
/// those an earlier one did, and each removes only empty ones.
pub fn drop_in_reverse(mut plans: Vec<Plan>) {
    while let Some(plan) = plans.pop() {
        drop(plan);
    }
}

/// The owned list's text.
fn list_text(list: &BTreeMap<String, BTreeSet<String>>) -> String {
    let mut text = String::from("# Files written by kgen (SHA-256, name); it replaces and removes only these.\n");
    for (name, hashes) in list {
        for hash in hashes {
            text.push_str(&format!("{hash}  {name}\n"));
        }
    }
    text
}

/// Create a new file (never an existing one, never through a link).
fn write_new(path: &Path, contents: &[u8], private: bool) -> Result<(), Errors> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if private { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = private;
    options
        .open(path)
        .and_then(|mut f| f.write_all(contents))
        .map_err(|e| fail(format!("cannot write `{}`: {}", path.display(), io_reason(&e))))
}

/// The files listed as kgen's in `dir`, with the hashes recorded for each.
/// A line without a hash owns nothing.
pub fn read_owned(dir: &Path) -> Result<BTreeMap<String, BTreeSet<String>>, Errors> {
    let path = dir.join(OWNED_LIST);
    match fs::symlink_metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(fail(format!("cannot read `{}`: {}", path.display(), io_reason(&e)))),
        Ok(m) if !m.file_type().is_file() => {
            return Err(Diagnostic::error(
                Code::OutDir,
                format!("`{}` is not a regular file; kgen neither reads nor replaces it", path.display()),
            )
            .hint("remove it (kgen then treats every file in the directory as not its own)")
            .into());
        }
        Ok(_) => {}
    }
    let text = match files::read_text_file(&path, OWNED_LIST_MAX_BYTES) {
        Ok(t) => t,
        Err(files::ReadError::TooLarge { .. }) => {
            return Err(fail(format!("`{}` is larger than 1 MiB; it is not kgen's list", path.display())));
        }
        Err(e) => return Err(fail(format!("cannot read `{}`: {}", path.display(), e.reason()))),
    };
    let mut owned: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        // A name without the hash kgen writes proves nothing about the file:
        // it stays somebody else's.
        let Some((hash, name)) =
            line.split_once("  ").filter(|(h, _)| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        else {
            continue;
        };
        // Only plain names in the directory itself: `../x`, `/etc/x` and
        // `.hidden` never name a file kgen wrote.
        let name = name.trim();
        if is_plain_name(name) {
            owned.entry(name.to_string()).or_default().insert(hash.to_ascii_lowercase());
        }
    }
    Ok(owned)
}

fn create_staging(dir: &Path) -> Result<PathBuf, Errors> {
    for attempt in 0..100 {
        let path = dir.join(format!("{STAGING_PREFIX}{}-{attempt}", std::process::id()));
        // create_dir fails on anything already there, a symlink included;
        // only the owner may look inside (it may hold a Secret's file).
        let mut builder = fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        match builder.create(&path) {
            Ok(()) => return Ok(path),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(fail(format!(
                    "cannot create a staging directory in `{}`: {}",
                    dir.display(),
                    io_reason(&e)
                )));
            }
        }
    }
    Err(fail(format!("cannot create a staging directory in `{}`", dir.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("kgen-outdir-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    fn files(names: &[&str]) -> Vec<OutFile> {
        names.iter().map(|n| OutFile::new(*n, format!("{n}\n"))).collect()
    }

    fn listing(d: &Path) -> Vec<String> {
        let mut names: Vec<_> = fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n != LOCK_FILE)
            .collect();
        names.sort();
        names
    }

    #[test]
    fn replaces_and_removes_only_its_own_files() {
        let d = tmp("own");
        write(&d, files(&["a.yaml", "b.yaml"])).unwrap();
        fs::write(d.join("notes.txt"), "mine").unwrap();
        let r = write(&d, files(&["a.yaml", "c.yaml"])).unwrap();
        assert_eq!(r.removed, ["b.yaml"]);
        assert_eq!(listing(&d), [".kgen-files", "a.yaml", "c.yaml", "notes.txt"]);
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn refuses_to_overwrite_foreign_files() {
        let d = tmp("foreign");
        fs::create_dir_all(&d).unwrap();
        fs::write(d.join("a.yaml"), "hand-written").unwrap();
        let err = write(&d, files(&["a.yaml", "b.yaml"])).unwrap_err();
        assert_eq!(
            err.0[0].message,
            format!("refusing to overwrite `a.yaml` (kgen did not write it) in `{}`", d.display())
        );
        assert_eq!(fs::read_to_string(d.join("a.yaml")).unwrap(), "hand-written");
        assert_eq!(listing(&d), ["a.yaml"]);
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn edited_files_are_neither_overwritten_nor_removed() {
        let d = tmp("edited");
        write(&d, files(&["a.yaml", "b.yaml"])).unwrap();
        fs::write(d.join("a.yaml"), "edited by hand").unwrap();
        let err = write(&d, files(&["a.yaml"])).unwrap_err();
        assert!(err.0[0].message.contains("`a.yaml` (changed since kgen wrote it)"), "{}", err.0[0].message);
        assert_eq!(fs::read_to_string(d.join("a.yaml")).unwrap(), "edited by hand");
        // No longer rendered and edited: kept, and no longer kgen's.
        let r = write(&d, files(&["c.yaml"])).unwrap();
        assert_eq!((r.removed, r.kept), (vec!["b.yaml".to_string()], vec!["a.yaml".to_string()]));
        assert_eq!(fs::read_to_string(d.join("a.yaml")).unwrap(), "edited by hand");
        assert!(!fs::read_to_string(d.join(OWNED_LIST)).unwrap().contains("a.yaml"));
        fs::remove_dir_all(&d).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_never_followed_or_replaced() {
        use std::os::unix::fs::symlink;
        let d = tmp("link");
        let outside = tmp("outside");
        fs::create_dir_all(&outside).unwrap();
        fs::write(outside.join("target"), "outside").unwrap();
        // A file kgen wrote, replaced by a link out of the directory.
        write(&d, files(&["a.yaml"])).unwrap();
        fs::remove_file(d.join("a.yaml")).unwrap();
        symlink(outside.join("target"), d.join("a.yaml")).unwrap();
        let err = write(&d, files(&["a.yaml"])).unwrap_err();
        assert!(err.0[0].message.contains("`a.yaml` (a symbolic link)"));
        // No longer rendered: the link stays, the target is untouched.
        write(&d, files(&["b.yaml"])).unwrap();
        assert!(fs::symlink_metadata(d.join("a.yaml")).unwrap().file_type().is_symlink());
        assert_eq!(fs::read_to_string(outside.join("target")).unwrap(), "outside");
        // The owned list as a link: refused, nothing written.
        fs::remove_file(d.join(OWNED_LIST)).unwrap();
        symlink(outside.join("target"), d.join(OWNED_LIST)).unwrap();
        let err = write(&d, files(&["c.yaml"])).unwrap_err();
        assert!(err.0[0].message.ends_with("is not a regular file; kgen neither reads nor replaces it"));
        assert!(!d.join("c.yaml").exists());
        assert_eq!(fs::read_to_string(outside.join("target")).unwrap(), "outside");
        fs::remove_dir_all(&d).unwrap();
        fs::remove_dir_all(&outside).unwrap();
    }

    /// The staging directory's name is predictable; something already
    /// there (a link out of the directory) is skipped, never written into.
    #[cfg(unix)]
    #[test]
    fn a_planted_staging_link_is_skipped() {
        let d = tmp("staging");
        let outside = tmp("staging-outside");
        fs::create_dir_all(&d).unwrap();
        fs::create_dir_all(&outside).unwrap();
        let planted = d.join(format!(".kgen-staging-{}-0", std::process::id()));
        std::os::unix::fs::symlink(&outside, &planted).unwrap();
        write(&d, files(&["a.yaml"])).unwrap();
        assert_eq!(fs::read_dir(&outside).unwrap().count(), 0);
        assert!(fs::symlink_metadata(&planted).unwrap().file_type().is_symlink());
        assert_eq!(
            listing(&d),
            [".kgen-files".into(), format!(".kgen-staging-{}-0", std::process::id()), "a.yaml".into()]
        );
        fs::remove_dir_all(&d).unwrap();
        fs::remove_dir_all(&outside).unwrap();
    }

    #[test]
    fn list_entries_outside_the_directory_are_ignored() {
        let d = tmp("escape");
        let parent_file = d.parent().unwrap().join(format!("kgen-outdir-victim-{}", std::process::id()));
        fs::create_dir_all(&d).unwrap();
        fs::write(&parent_file, "victim").unwrap();
        fs::write(d.join("notes.txt"), "mine").unwrap();
        let victim = parent_file.file_name().unwrap().to_string_lossy().into_owned();
        let list =
            format!("../{victim}\n{}\n/etc/hostname\n.hidden\n{}  notes.txt\n", parent_file.display(), "0".repeat(64));
        fs::write(d.join(OWNED_LIST), list).unwrap();
        let r = write(&d, files(&["a.yaml"])).unwrap();
        assert_eq!(r.removed, Vec::<String>::new());
        assert_eq!(fs::read_to_string(&parent_file).unwrap(), "victim");
        assert_eq!(fs::read_to_string(d.join("notes.txt")).unwrap(), "mine");
        fs::remove_dir_all(&d).unwrap();
        fs::remove_file(&parent_file).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn private_files_are_readable_by_the_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let d = tmp("private");
        let mut f = files(&["a.yaml", "secret.yaml"]);
        f[1].private = true;
        write(&d, f).unwrap();
        let mode = |n: &str| fs::metadata(d.join(n)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode("secret.yaml"), 0o600);
        assert_ne!(mode("a.yaml") & 0o044, 0);
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_name_without_a_hash_owns_nothing() {
        let d = tmp("hashless");
        fs::create_dir_all(&d).unwrap();
        fs::write(d.join("a.yaml"), "precious").unwrap();
        fs::write(d.join("notes.txt"), "precious").unwrap();
        fs::write(d.join(OWNED_LIST), "a.yaml\nnotes.txt\n").unwrap();
        let err = write(&d, files(&["a.yaml"])).unwrap_err();
        assert!(err.0[0].message.contains("`a.yaml` (kgen did not write it)"), "{:?}", err.0[0].message);
        write(&d, files(&["b.yaml"])).unwrap();
        assert_eq!(fs::read_to_string(d.join("a.yaml")).unwrap(), "precious");
        assert_eq!(fs::read_to_string(d.join("notes.txt")).unwrap(), "precious");
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn subdirectories_are_never_links() {
        let d = tmp("subdirectory");
        let outside = tmp("subdirectory-outside");
        fs::create_dir_all(&d).unwrap();
        fs::create_dir_all(&outside).unwrap();
        assert_eq!(subdirectory(&d, &["shop", "base"]).unwrap(), d.join("shop").join("base"));
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&outside, d.join("shop")).unwrap();
            let err = subdirectory(&d, &["shop", "base"]).unwrap_err();
            assert!(err.0[0].message.contains("it is a symbolic link"), "{}", err.0[0].message);
        }
        assert!(subdirectory(&d, &["..", "x"]).is_err());
        fs::remove_dir_all(&d).unwrap();
        fs::remove_dir_all(&outside).unwrap();
    }
}
