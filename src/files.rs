//! Reading the user's files, bounded: at most the limit and one byte more
//! is ever read, so a huge file or an endless one (`/dev/zero`) costs no
//! more than the limit. A file that a profile or a directory names (extra
//! manifests, dotenv files, an earlier `--out-dir`) must be a regular file,
//! checked before it is opened: opening a FIFO blocks, and a device may
//! never end. The profile named on the command line may be a pipe (`-`,
//! `<(…)`); it is read with [`read_bounded`] alone.
//!
//! Only IO: callers turn a [`ReadError`] into a located diagnostic.

use std::io::Read;
use std::path::Path;

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
    use std::path::PathBuf;
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
