//! Processes the node starts: each in its own process group, killed as a
//! group, every wait bounded. Output goes to a file (stdout and stderr
//! interleaved, like `kubectl logs`), read back for failure messages.
//!
//! It does not decide what to run or in which namespaces; callers build the
//! `Command`.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How often bounded waits look at a process.
const POLL: Duration = Duration::from_millis(25);

/// A process running in the background in its own process group; the group
/// is killed and the process reaped when this is dropped.
pub struct Background {
    child: Child,
    log: PathBuf,
    exited: Option<ExitStatus>,
}

impl Background {
    /// Start `cmd` with stdout and stderr appended to `log`, stdin empty.
    pub fn spawn(mut cmd: Command, log: &Path) -> Background {
        let out = File::options().create(true).append(true).open(log).expect("log file opens");
        let err = out.try_clone().expect("log file handle clones");
        cmd.stdin(Stdio::null()).stdout(out).stderr(err).process_group(0);
        let child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        Background { child, log: log.to_path_buf(), exited: None }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exit status, if the process has exited (it is reaped then).
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        if self.exited.is_none() {
            self.exited = self.child.try_wait().expect("try_wait works");
        }
        self.exited
    }

    /// Wait at most `bound` for the process to exit.
    pub fn wait_bounded(&mut self, bound: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + bound;
        loop {
            if let Some(status) = self.exit_status() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(POLL);
        }
    }

    /// Everything the process wrote so far.
    pub fn output(&self) -> String {
        read_lossy(&self.log)
    }

    /// Kill the whole process group and reap the leader. Once the leader is
    /// reaped its id may be reused, so a group whose leader has exited is
    /// left alone: the node's leaders are bwrap (its PID namespace dies with
    /// it), nsenter/unshare exec'ing their program, and socat.
    pub fn kill(&mut self) {
        if self.exit_status().is_none() {
            kill_group(self.child.id());
            // SIGKILL cannot be ignored; only a process stuck in the kernel
            // could make this wait long.
            self.exited = self.wait_bounded(Duration::from_secs(10));
            if self.exited.is_none() && !std::thread::panicking() {
                panic!("process {} survived SIGKILL for 10 s", self.child.id());
            }
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.kill();
    }
}

/// SIGKILL to a process group, with `kill(1)` (no unsafe code here).
fn kill_group(pgid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// How a bounded run ended.
pub struct Finished {
    /// `None` when the bound was reached and the process group killed.
    pub status: Option<ExitStatus>,
    pub output: String,
}

impl Finished {
    pub fn success(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    /// "exit status 3", "killed by signal 9" or "did not finish within 5 s".
    pub fn describe(&self, bound: Duration) -> String {
        match self.status {
            None => format!("did not finish within {} s", bound.as_secs_f32()),
            Some(s) => describe_status(s),
        }
    }
}

pub fn describe_status(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        _ => format!("{status}"),
    }
}

/// Run `cmd` to completion, at most `bound`; its output goes to `log`.
pub fn run_bounded(cmd: Command, log: &Path, bound: Duration) -> Finished {
    let _ = std::fs::remove_file(log);
    let mut process = Background::spawn(cmd, log);
    let status = process.wait_bounded(bound);
    process.kill();
    Finished { status, output: process.output() }
}

/// Run a short host command (ip, mount, …) that must succeed.
pub fn run_checked(cmd: &mut Command) -> String {
    let out = cmd.stdin(Stdio::null()).output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}{}",
        describe_status(out.status),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn read_lossy(path: &Path) -> String {
    std::fs::read(path).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default()
}

/// The last `n` lines of `text`, indented, for failure messages.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(n);
    let shown: Vec<String> = lines[start..].iter().map(|l| format!("    | {l}")).collect();
    if shown.is_empty() { "    | (no output)".to_string() } else { shown.join("\n") }
}
