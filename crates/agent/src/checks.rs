//! Running the project's checks (tests, build) after a step: in the
//! [sandbox](crate::sandbox), with a timeout that kills the whole process
//! tree, an output cap, and output trimmed to what a model (or a person)
//! needs to see.

use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use suit_protocol::{CheckOutcome, CheckStatus};
use tokio::io::AsyncReadExt;

use crate::sandbox::Policy;

/// A check to run: a shell command line, like `cargo test` or `pytest -q`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// The command line, run with `sh -c`.
    pub command: String,
    /// Killed (with all its children) after this long.
    pub timeout: Duration,
    /// What it may do: network, files, environment, limits.
    pub sandbox: Policy,
}

impl Check {
    /// A check with a 5-minute timeout in the default sandbox (no network).
    pub fn new(command: impl Into<String>) -> Self {
        Self {
            command: command.into(),
            timeout: Duration::from_secs(300),
            sandbox: Policy::default(),
        }
    }
}

/// Most bytes of output kept in memory while reading a check (the rest is
/// drained and dropped, so a chatty command cannot exhaust memory).
const MAX_CAPTURE: usize = 4 << 20;

/// Most bytes of output a check may print in all: past this it is stopped
/// (a test stuck printing in a loop fails fast instead of at its timeout).
const MAX_OUTPUT: u64 = 256 << 20;

/// Lines of a check's output kept in its outcome: enough for a test-output
/// parser to find every failure of a typical run; the loop shows the model
/// far less.
const KEPT_LINES: usize = 400;

/// Bytes of a check's output kept in its outcome (the end is kept).
const KEPT_BYTES: usize = 64 << 10;

/// Runs `check` in `dir` (in the sandbox) and waits for it (or its
/// timeout, or its output cap).
pub async fn run_check(check: &Check, dir: &Path) -> CheckOutcome {
    let mut command = tokio::process::Command::new("sh");
    command.args(["-c", &check.command]);
    let started = Instant::now();
    let sandboxed = match crate::sandbox::confine(&mut command, dir, &check.sandbox) {
        Ok(s) => s,
        Err(e) => {
            return CheckOutcome {
                command: check.command.clone(),
                status: CheckStatus::NotStarted {
                    reason: format!("cannot set up its sandbox: {e}"),
                },
                output: String::new(),
                duration: started.elapsed(),
                isolated: false,
            }
        }
    };
    let isolated = sandboxed.network_isolated && sandboxed.files_confined;
    command
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let outcome = |status, output: String| CheckOutcome {
        command: check.command.clone(),
        status,
        output,
        duration: started.elapsed(),
        isolated,
    };
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            return outcome(
                CheckStatus::NotStarted {
                    reason: format!(
                        "cannot start `sh` in {} (or set up its sandbox: namespaces, limits, \
                         Landlock): {e}",
                        dir.display()
                    ),
                },
                String::new(),
            )
        }
    };
    let pgid = child.id();
    // A check dropped while it runs (the run's wall budget ended) takes its
    // whole process group with it, not only `sh`.
    let group = KillGroupOnDrop(pgid);
    let stdout = child.stdout.take().expect("piped stdout");
    let stderr = child.stderr.take().expect("piped stderr");
    let printed = std::sync::atomic::AtomicU64::new(0);
    let read = async {
        let (a, b) =
            tokio::join!(read_capped(stdout, &printed, pgid), read_capped(stderr, &printed, pgid));
        let mut text = a;
        if !b.is_empty() {
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(&b);
        }
        text
    };
    let waited = tokio::time::timeout(check.timeout, async {
        // When `sh` ends, what it left running (a server, a daemon, a
        // fork bomb) is killed, so that nothing holds its pipes open.
        let ended = async {
            let status = child.wait().await;
            kill_group(pgid);
            status
        };
        let (status, text) = tokio::join!(ended, read);
        (status, text)
    })
    .await;
    drop(group);
    drop(sandboxed);
    match waited {
        Ok((Ok(_), text)) if printed.load(Ordering::Relaxed) > MAX_OUTPUT => outcome(
            CheckStatus::Stopped {
                reason: format!("it printed more than {} MiB", MAX_OUTPUT >> 20),
            },
            kept_output(&text),
        ),
        Ok((Ok(status), text)) => {
            let status = if status.success() {
                CheckStatus::Passed
            } else if let Some(reason) = limit_signal(&status, &check.sandbox) {
                CheckStatus::Stopped { reason }
            } else {
                CheckStatus::Failed { code: status.code() }
            };
            outcome(status, kept_output(&text))
        }
        Ok((Err(e), text)) => outcome(
            CheckStatus::NotStarted { reason: format!("waiting for the check failed: {e}") },
            kept_output(&text),
        ),
        Err(_) => {
            // The whole group (`sh -c` and everything it started) was
            // killed above.
            outcome(
                CheckStatus::TimedOut,
                format!(
                    "(killed after {} s: the check did not finish in time)",
                    check.timeout.as_secs()
                ),
            )
        }
    }
}

/// Kills a check's process group when dropped (the check timed out, was
/// dropped mid-run, or ended).
struct KillGroupOnDrop(Option<u32>);

impl Drop for KillGroupOnDrop {
    fn drop(&mut self) {
        kill_group(self.0);
    }
}

/// Sends `SIGKILL` to the process group `pgid`, if there is one.
fn kill_group(pgid: Option<u32>) {
    if let Some(pgid) = pgid {
        // SAFETY: killpg only sends a signal; a group that is gone makes it
        // fail with ESRCH, which is ignored.
        unsafe { libc::killpg(pgid as i32, libc::SIGKILL) };
    }
}

/// The limit a check ran into, when a signal of the sandbox's limits ended
/// it: `SIGXCPU` (CPU time) or `SIGXFSZ` (file size).
fn limit_signal(status: &std::process::ExitStatus, policy: &Policy) -> Option<String> {
    use std::os::unix::process::ExitStatusExt;
    // `sh -c` reports a child killed by signal N as exit code 128 + N.
    let signal = status.signal().or_else(|| status.code().filter(|c| *c > 128).map(|c| c - 128))?;
    match signal {
        libc::SIGXCPU => Some(format!(
            "a process used more than {} s of CPU time (the sandbox's limit)",
            policy.cpu_seconds
        )),
        libc::SIGXFSZ => Some(format!(
            "it wrote a file larger than {} MiB (the sandbox's limit)",
            policy.file_bytes >> 20
        )),
        _ => None,
    }
}

/// Reads one of a check's pipes to its end, keeping at most
/// [`MAX_CAPTURE`] bytes; `printed` counts the bytes of both pipes, and
/// past [`MAX_OUTPUT`] the check's group `pgid` is killed.
async fn read_capped(
    mut reader: impl tokio::io::AsyncRead + Unpin,
    printed: &std::sync::atomic::AtomicU64,
    pgid: Option<u32>,
) -> String {
    let mut kept = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match reader.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = MAX_CAPTURE.saturating_sub(kept.len());
                kept.extend_from_slice(&buf[..n.min(room)]);
                if printed.fetch_add(n as u64, Ordering::Relaxed) + n as u64 > MAX_OUTPUT {
                    kill_group(pgid);
                    break;
                }
            }
        }
    }
    String::from_utf8_lossy(&kept).into_owned()
}

/// What an outcome keeps of a check's output: [`trim_output`] to
/// [`KEPT_LINES`], then at most [`KEPT_BYTES`] from the end (a single
/// enormous line is cut too).
fn kept_output(text: &str) -> String {
    let trimmed = trim_output(text, KEPT_LINES);
    if trimmed.len() <= KEPT_BYTES {
        return trimmed;
    }
    let mut cut = trimmed.len() - KEPT_BYTES;
    while !trimmed.is_char_boundary(cut) {
        cut += 1;
    }
    format!("[... {cut} bytes omitted ...]\n{}", &trimmed[cut..])
}

/// Keeps what matters of a check's output within about `max_lines` lines:
/// the lines that report errors and failures (with a little context), then
/// the end of the output, where test runners print their summary.
pub fn trim_output(text: &str, max_lines: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() <= max_lines {
        return text.trim_end().to_string();
    }
    const MARKERS: [&str; 12] = [
        "error",
        "Error",
        "FAILED",
        "FAIL",
        "failed",
        "panicked",
        "assert",
        "Traceback",
        "Exception",
        "expected",
        "-->",
        "E   ",
    ];
    let tail = max_lines / 3;
    let budget = max_lines - tail;
    let mut keep = vec![false; lines.len()];
    let mut kept = 0;
    for (i, line) in lines.iter().enumerate().take(lines.len() - tail) {
        if kept >= budget {
            break;
        }
        if MARKERS.iter().any(|m| line.contains(m)) {
            let end = (i + 3).min(lines.len());
            for k in &mut keep[i.saturating_sub(1)..end] {
                if !*k && kept < budget {
                    *k = true;
                    kept += 1;
                }
            }
        }
    }
    for k in keep.iter_mut().skip(lines.len() - tail) {
        *k = true;
    }
    let mut out = String::new();
    let mut skipped = 0;
    for (line, k) in lines.iter().zip(&keep) {
        if *k {
            if skipped > 0 {
                out.push_str(&format!("[... {skipped} lines omitted ...]\n"));
                skipped = 0;
            }
            out.push_str(line);
            out.push('\n');
        } else {
            skipped += 1;
        }
    }
    out.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn passing_and_failing_checks() {
        let dir = tempfile::tempdir().unwrap();
        let ok = run_check(&Check::new("echo fine"), dir.path()).await;
        assert!(ok.passed(), "{ok:?}");
        assert_eq!(ok.output, "fine");
        let bad = run_check(&Check::new("echo broken >&2; exit 3"), dir.path()).await;
        assert_eq!(bad.status, CheckStatus::Failed { code: Some(3) });
        assert_eq!(bad.output, "broken");
    }

    #[tokio::test]
    async fn a_hanging_check_is_killed_with_its_children() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("survived");
        let check = Check {
            timeout: Duration::from_millis(500),
            ..Check::new(format!("(sleep 2; touch {}) & sleep 30", marker.display()))
        };
        let started = Instant::now();
        let out = run_check(&check, dir.path()).await;
        assert_eq!(out.status, CheckStatus::TimedOut);
        assert!(started.elapsed() < Duration::from_secs(5));
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert!(!marker.exists(), "a child of the check outlived the timeout");
    }

    #[tokio::test]
    async fn a_check_dropped_while_it_runs_takes_its_children_along() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("survived");
        let check = Check::new(format!("(sleep 2; touch {}) & sleep 30", marker.display()));
        let dropped =
            tokio::time::timeout(Duration::from_millis(500), run_check(&check, dir.path())).await;
        assert!(dropped.is_err(), "the check should still be running");
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert!(!marker.exists(), "a child of the dropped check lived on");
    }

    #[tokio::test]
    async fn checks_have_no_network_unless_allowed() {
        let dir = tempfile::tempdir().unwrap();
        // Interfaces other than loopback are invisible in the sandbox.
        let probe = "cat /proc/net/dev | tail -n +3 | grep -v ' lo:' | wc -l";
        let out = run_check(&Check::new(probe), dir.path()).await;
        if crate::sandbox::protections().network {
            assert_eq!(out.output.trim(), "0", "{out:?}");
        }
        let open = Check::new(probe);
        let open = Check { sandbox: Policy { network: true, ..Policy::default() }, ..open };
        let open = run_check(&open, dir.path()).await;
        assert!(!open.isolated);
    }

    #[test]
    fn trimming_keeps_errors_and_the_summary() {
        let mut text = String::new();
        for i in 0..500 {
            text.push_str(&format!("test case_{i} ... ok\n"));
        }
        text.push_str("thread 'x' panicked at src/lib.rs:3:5:\nassertion failed: 1 == 2\n");
        for i in 0..500 {
            text.push_str(&format!("test more_{i} ... ok\n"));
        }
        text.push_str("test result: FAILED. 999 passed; 1 failed\n");
        let trimmed = trim_output(&text, 30);
        assert!(trimmed.lines().count() <= 34, "{trimmed}");
        assert!(trimmed.contains("panicked at src/lib.rs:3:5"));
        assert!(trimmed.contains("assertion failed"));
        assert!(trimmed.ends_with("test result: FAILED. 999 passed; 1 failed"));
        assert!(trimmed.contains("lines omitted"));
        assert_eq!(trim_output("short\n", 30), "short");
    }
}
