//! Reading the user's files, bounded: at most the limit and one byte more
//! is ever read, so a huge file or an endless one (`/dev/zero`) costs no
//! more than the limit. A file that a profile or a directory names (extra
//! manifests, dotenv files, an earlier `--out-dir`) must be a regular file,
//! checked before it is opened: opening a FIFO blocks, and a device may
//! never end. The profile named on the command line may be a pipe (`-`,
//! `<(…)`); it is read with [`read_bounded`] alone.
//!
//! A file the profile names is found with [`resolve_named`]: a relative
//! path that leads, links resolved, to a file inside the profile's
//! directory (or the root the command line allows), never into `/proc`,
//! `/sys` or `/dev`.
//!
//! Only IO: callers turn a [`ReadError`] into a located diagnostic.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// Why a file could not be read.
#[derive(Debug)]
pub enum ReadError {
    Io(std::io::Error),
    /// Not a regular file: what it is instead ("a FIFO", "a device", …).
    NotRegular(&'static str),
    /// Larger than `limit`; `head` is what was read (`limit` + 1 bytes).
    TooLarge {
        limit: u64,
        head: Vec<u8>,
    },
    /// Not UTF-8 text; `bytes` is the whole file, valid up to `valid_up_to`.
    NotUtf8 {
        bytes: Vec<u8>,
        valid_up_to: usize,
    },
    /// A path the profile names that is absolute (`/etc/shadow`, `~/x`).
    Absolute,
    /// A path that leads outside the tree files may come from: through
    /// `..` (`link: false`) or a symbolic link (`link: true`).
    Outside {
        link: bool,
    },
    /// A path into the kernel's or devices' trees (`/proc`, `/sys`, `/dev`).
    System(&'static str),
    /// Read already through a [`ReadBudget`], by this path.
    SameAs(std::path::PathBuf),
    /// What was read through a [`ReadBudget`] would pass its total.
    OverBudget {
        total: u64,
    },
}

impl ReadError {
    /// Why, to follow "cannot read `FILE`: ".
    pub fn reason(&self) -> String {
        match self {
            ReadError::Io(e) => io_reason(e),
            ReadError::NotRegular(what) => format!("it is {what}, not a regular file"),
            ReadError::TooLarge { limit, .. } => format!("it is larger than {}", format_size(*limit)),
            ReadError::NotUtf8 { bytes, valid_up_to } => {
                let line = bytes[..*valid_up_to].iter().filter(|&&b| b == b'\n').count() + 1;
                format!("it is not UTF-8 text (line {line})")
            }
            ReadError::SameAs(first) => format!("it is the same file as `{}`, read already", first.display()),
            ReadError::OverBudget { total } => {
                format!("the files read so far and this one hold more than {} in all", format_size(*total))
            }
            ReadError::Absolute => {
                "it is an absolute path, and kgen reads only files inside the profile's directory".into()
            }
            ReadError::Outside { link: false } => "it leads outside the profile's directory".into(),
            ReadError::Outside { link: true } => {
                "it is a symbolic link (or passes through one) to a file outside the profile's directory".into()
            }
            ReadError::System(tree) => format!("it is in `{tree}`, which holds the system's state, not files"),
        }
    }

    /// What to do about a path the profile may not name.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            ReadError::Absolute | ReadError::Outside { .. } => Some(
                "keep the file beside the profile (a relative path such as `./k8s/extra.yaml`), or allow a wider \
                 tree with `--files-root DIR`",
            ),
            ReadError::System(_) => Some("name a regular file of the project"),
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, ReadError::Io(e) if e.kind() == std::io::ErrorKind::NotFound)
    }
}

impl From<std::io::Error> for ReadError {
    fn from(e: std::io::Error) -> ReadError {
        ReadError::Io(e)
    }
}

/// The reason of an IO error without Rust's "(os error N)" suffix.
pub fn io_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// A size for messages: `4 MiB`, `64 KiB`, `1000 bytes`.
pub fn format_size(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}

/// Trees no file the profile names is read from, whatever the root: the
/// kernel's view of processes (`/proc/self/environ` is kgen's environment),
/// of the system, and devices.
const SYSTEM_TREES: &[&str] = &["/proc", "/sys", "/dev"];

/// Where a file that the profile names is: `name` relative to `dir` (the
/// profile's directory), which must lead, `..` and symbolic links resolved,
/// to a path inside `root` (default: `dir`) and outside [`SYSTEM_TREES`].
/// The path returned is resolved (links followed), so that what is read is
/// what was checked. A file that does not exist is `Io(NotFound)` if it
/// would be inside the root.
pub fn resolve_named(dir: &Path, name: &str, root: Option<&Path>) -> Result<PathBuf, ReadError> {
    let relative = Path::new(name);
    if relative.is_absolute() || relative.has_root() || name.starts_with('~') {
        return Err(ReadError::Absolute);
    }
    let base = std::fs::canonicalize(if dir.as_os_str().is_empty() { Path::new(".") } else { dir })?;
    let root = match root {
        Some(r) => std::fs::canonicalize(r)?,
        None => base.clone(),
    };
    // First as written, `..` taken lexically: a path that leaves the tree
    // is refused whether or not it exists.
    let mut lexical = base.clone();
    for part in relative.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                lexical.pop();
            }
            Component::Normal(p) => lexical.push(p),
            Component::RootDir | Component::Prefix(_) => return Err(ReadError::Absolute),
        }
    }
    if let Some(tree) = system_tree(&lexical) {
        return Err(ReadError::System(tree));
    }
    if !lexical.starts_with(&root) {
        return Err(ReadError::Outside { link: false });
    }
    // Then with links resolved: a link inside the tree may point anywhere.
    let resolved = match std::fs::canonicalize(base.join(relative)) {
        Ok(p) => p,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // A dangling link is refused like the place it points to.
            return match std::fs::symlink_metadata(&lexical) {
                Ok(m) if m.file_type().is_symlink() => Err(ReadError::Outside { link: true }),
                _ => Err(ReadError::Io(e)),
            };
        }
        Err(e) => return Err(ReadError::Io(e)),
    };
    if let Some(tree) = system_tree(&resolved) {
        return Err(ReadError::System(tree));
    }
    if !resolved.starts_with(&root) {
        return Err(ReadError::Outside { link: true });
    }
    Ok(resolved)
}

fn system_tree(path: &Path) -> Option<&'static str> {
    SYSTEM_TREES.iter().copied().find(|t| path.starts_with(t))
}

/// Read a regular file of at most `limit` bytes of UTF-8 text.
pub fn read_text_file(path: &Path, limit: u64) -> Result<String, ReadError> {
    read_text_file_in(path, limit, None, false)
}

fn read_text_file_in(
    path: &Path,
    limit: u64,
    budget: Option<&mut ReadBudget>,
    once: bool,
) -> Result<String, ReadError> {
    check_regular(&std::fs::metadata(path)?)?;
    let file = std::fs::File::open(path)?;
    // Checked again on what was opened: the path may have changed since.
    let meta = file.metadata()?;
    check_regular(&meta)?;
    let Some(budget) = budget else {
        return text(read_bounded(file, limit)?);
    };
    if once && let Some(first) = budget.seen.get(&file_id(&meta)) {
        return Err(ReadError::SameAs(first.clone()));
    }
    // A file larger than its own limit is refused for that; past what is
    // left of the budget, for the budget.
    let left = budget.total - budget.used;
    let bytes = match read_bounded(file, limit.min(left)) {
        Err(ReadError::TooLarge { .. }) if left < limit && meta.len() <= limit => {
            return Err(ReadError::OverBudget { total: budget.total });
        }
        Err(ReadError::TooLarge { head, .. }) => return Err(ReadError::TooLarge { limit, head }),
        other => other?,
    };
    budget.used += bytes.len() as u64;
    budget.seen.entry(file_id(&meta)).or_insert_with(|| path.to_path_buf());
    text(bytes)
}

/// What one command may read in all of the files a profile or a directory
/// names (extra manifests, dotenv files, an earlier `--out-dir`): each
/// file has its own limit, and their sum this one, so that naming a file
/// many times, or many files, costs no more. Files that must be read once
/// ([`ReadBudget::read_text_file_once`]: extra manifests, the files of an
/// earlier render) are refused as [`ReadError::SameAs`] the second time,
/// by whatever name (a hard or symbolic link), before they are read.
#[derive(Debug)]
pub struct ReadBudget {
    total: u64,
    used: u64,
    /// Files read (device and inode), with the path they were read by.
    seen: std::collections::HashMap<(u64, u64), std::path::PathBuf>,
}

/// What the files one render or one `kgen diff --from` reads may hold in all.
pub const MAX_TOTAL_READ_BYTES: u64 = 64 << 20;

impl Default for ReadBudget {
    fn default() -> ReadBudget {
        ReadBudget::new(MAX_TOTAL_READ_BYTES)
    }
}

impl ReadBudget {
    pub fn new(total: u64) -> ReadBudget {
        ReadBudget { total, used: 0, seen: Default::default() }
    }

    /// [`read_text_file`], counted against the budget (every time).
    pub fn read_text_file(&mut self, path: &Path, limit: u64) -> Result<String, ReadError> {
        read_text_file_in(path, limit, Some(self), false)
    }

    /// [`ReadBudget::read_text_file`] of a file this budget has not read.
    pub fn read_text_file_once(&mut self, path: &Path, limit: u64) -> Result<String, ReadError> {
        read_text_file_in(path, limit, Some(self), true)
    }
}

/// A file's identity: device and inode (on other systems, none: every
/// file is new).
fn file_id(meta: &std::fs::Metadata) -> (u64, u64) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        (meta.dev(), meta.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        (u64::MAX, NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    }
}

/// The profile named on the command line, at most `limit` bytes: `-` is
/// standard input. Standard input and pipes can be read only once, and a
/// command may load its profile several times (once per environment), so
/// what they held is kept for the process; regular files are read again.
pub fn read_profile(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static STREAMS: OnceLock<Mutex<HashMap<PathBuf, Vec<u8>>>> = OnceLock::new();
    let stdin = path == Path::new("-");
    if !stdin && std::fs::metadata(path)?.is_file() {
        return read_bounded(std::fs::File::open(path)?, limit);
    }
    let streams = STREAMS.get_or_init(Default::default);
    let mut streams = streams.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(bytes) = streams.get(path) {
        return Ok(bytes.clone());
    }
    let bytes = if stdin {
        read_bounded(std::io::stdin().lock(), limit)?
    } else {
        read_bounded(std::fs::File::open(path)?, limit)?
    };
    streams.insert(path.to_path_buf(), bytes.clone());
    Ok(bytes)
}

/// Everything `reader` holds, if that is at most `limit` bytes; never
/// reads more than `limit` + 1.
pub fn read_bounded(reader: impl Read, limit: u64) -> Result<Vec<u8>, ReadError> {
    let mut bytes = Vec::new();
    reader.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit, head: bytes });
    }
    Ok(bytes)
}

/// Bytes as UTF-8 text.
pub fn text(bytes: Vec<u8>) -> Result<String, ReadError> {
    String::from_utf8(bytes).map_err(|e| {
        let valid_up_to = e.utf8_error().valid_up_to();
        ReadError::NotUtf8 { bytes: e.into_bytes(), valid_up_to }
    })
}

fn check_regular(meta: &std::fs::Metadata) -> Result<(), ReadError> {
    let kind = meta.file_type();
    if kind.is_file() {
        return Ok(());
    }
    if kind.is_dir() {
        return Err(ReadError::NotRegular("a directory"));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return Err(ReadError::NotRegular("a FIFO (named pipe)"));
        }
        if kind.is_socket() {
            return Err(ReadError::NotRegular("a socket"));
        }
        if kind.is_char_device() || kind.is_block_device() {
            return Err(ReadError::NotRegular("a device"));
        }
    }
    Err(ReadError::NotRegular("something else"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_no_further_than_the_limit() {
        let endless = std::io::repeat(b'x');
        match read_bounded(endless, 10) {
            Err(ReadError::TooLarge { limit: 10, head }) => assert_eq!(head.len(), 11),
            other => panic!("{other:?}"),
        }
        assert_eq!(read_bounded(&b"0123456789"[..], 10).unwrap().len(), 10);
    }

    #[cfg(unix)]
    #[test]
    fn refuses_what_is_not_a_regular_file() {
        let e = read_text_file(Path::new("/dev/zero"), 10).unwrap_err();
        assert_eq!(e.reason(), "it is a device, not a regular file");
        let e = read_text_file(Path::new("/"), 10).unwrap_err();
        assert_eq!(e.reason(), "it is a directory, not a regular file");
    }

    #[cfg(unix)]
    #[test]
    fn named_files_stay_inside_the_tree() {
        let dir = std::env::temp_dir().join(format!("kgen-files-{}", std::process::id()));
        let project = dir.join("project");
        std::fs::create_dir_all(project.join("k8s")).unwrap();
        std::fs::write(project.join("k8s/extra.yaml"), "x").unwrap();
        std::fs::write(dir.join("outside.yaml"), "x").unwrap();
        let _ = std::os::unix::fs::symlink(dir.join("outside.yaml"), project.join("link.yaml"));
        let _ = std::os::unix::fs::symlink("/etc/hostname", project.join("etc.yaml"));
        let _ = std::os::unix::fs::symlink(dir.join("gone"), project.join("dangling.yaml"));
        let _ = std::os::unix::fs::symlink("/proc/self", project.join("self"));
        let reason = |name: &str, root: Option<&Path>| match resolve_named(&project, name, root) {
            Ok(p) => Ok(p.strip_prefix(&dir).unwrap().to_path_buf()),
            Err(e) => Err(e.reason()),
        };
        assert_eq!(reason("k8s/extra.yaml", None), Ok("project/k8s/extra.yaml".into()));
        assert_eq!(reason("./k8s/../k8s/./extra.yaml", None), Ok("project/k8s/extra.yaml".into()));
        let outside = Err("it leads outside the profile's directory".to_string());
        let link =
            Err("it is a symbolic link (or passes through one) to a file outside the profile's directory".into());
        assert_eq!(reason("../outside.yaml", None), outside);
        assert_eq!(reason("k8s/../../outside.yaml", None), outside);
        assert_eq!(reason("../nope.yaml", None), outside);
        assert_eq!(reason("link.yaml", None), link);
        assert_eq!(reason("etc.yaml", None), link);
        assert_eq!(reason("dangling.yaml", None), link);
        assert_eq!(
            reason("self/environ", None),
            Err("it is in `/proc`, which holds the system's state, not files".into())
        );
        let absolute =
            Err("it is an absolute path, and kgen reads only files inside the profile's directory".to_string());
        assert_eq!(reason("/etc/shadow", None), absolute);
        assert_eq!(reason("~/x", None), absolute);
        assert!(resolve_named(&project, "missing.yaml", None).unwrap_err().is_not_found());
        // A wider root allows the file beside the project, never `/proc`.
        assert_eq!(reason("../outside.yaml", Some(&dir)), Ok("outside.yaml".into()));
        assert_eq!(reason("link.yaml", Some(&dir)), Ok("outside.yaml".into()));
        assert!(reason("self/environ", Some(Path::new("/"))).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_budget_reads_each_file_once_and_no_more_than_its_total() {
        let dir = std::env::temp_dir().join(format!("kgen-budget-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a"), "0123456789").unwrap();
        std::fs::hard_link(dir.join("a"), dir.join("b")).unwrap();
        std::os::unix::fs::symlink(dir.join("a"), dir.join("c")).unwrap();
        std::fs::write(dir.join("d"), "0123456789").unwrap();
        std::fs::write(dir.join("e"), "0123456789").unwrap();
        let mut budget = ReadBudget::new(25);
        assert_eq!(budget.read_text_file_once(&dir.join("a"), 100).unwrap(), "0123456789");
        for same in ["b", "c"] {
            let e = budget.read_text_file_once(&dir.join(same), 100).unwrap_err();
            assert_eq!(e.reason(), format!("it is the same file as `{}`, read already", dir.join("a").display()));
        }
        budget.read_text_file(&dir.join("d"), 100).unwrap();
        let e = budget.read_text_file(&dir.join("e"), 100).unwrap_err();
        assert_eq!(e.reason(), "the files read so far and this one hold more than 25 bytes in all");
        // A file's own limit still says why it is refused.
        let e = ReadBudget::new(25).read_text_file(&dir.join("e"), 5).unwrap_err();
        assert_eq!(e.reason(), "it is larger than 5 bytes");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn sizes_and_reasons() {
        assert_eq!(format_size(4 << 20), "4 MiB");
        assert_eq!(format_size(64 << 10), "64 KiB");
        assert_eq!(format_size(1000), "1000 bytes");
        assert_eq!(format_size(0), "0 bytes");
        let e = text(b"a: 1\nb: \xff\n".to_vec()).unwrap_err();
        assert_eq!(e.reason(), "it is not UTF-8 text (line 2)");
    }
}
