//! The sandbox every command suit runs goes into (the project's checks,
//! and so any command a model could slip into them).
//!
//! Built from what the kernel offers an unprivileged process, set up in the
//! child between `fork` and `exec`:
//!
//! - **No network**: a user and network namespace of its own (only a
//!   loopback interface, brought up, so tests that serve on `127.0.0.1`
//!   still work; the host's loopback is not reachable).
//! - **Files** (Landlock): writes only beneath the repository, a private
//!   temporary directory (`TMPDIR`) and a few devices (`/dev/null`, …);
//!   reads everywhere except the secrets of the home directory (`~/.ssh`,
//!   `~/.aws`, `~/.config`, shell history, keyrings, …). Signals and
//!   abstract Unix sockets do not reach processes outside the sandbox.
//! - **Environment**: only variables on an allowlist (and those the user
//!   names) are passed, so API keys and tokens stay out.
//! - **Limits** (`setrlimit`): CPU seconds, memory, file size, processes
//!   (inside the namespace), no core dumps; the caller caps output size and
//!   wall time.
//!
//! Everything the child does after `fork` is a plain system call on data
//! prepared before it (no allocation, no locks), as `pre_exec` requires.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use landlock::{
    Access, AccessFs, CompatLevel, Compatible, Ruleset, RulesetAttr, RulesetCreatedAttr, Scope, ABI,
};
use serde::{Deserialize, Serialize};

/// Environment variables passed to a sandboxed command by default: what
/// shells, compilers and test runners need to find their tools, nothing
/// that holds a credential.
pub const PASSED_ENV: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "LC_CTYPE",
    "LC_MESSAGES",
    "TERM",
    "TZ",
    "NO_COLOR",
    "CARGO_HOME",
    "RUSTUP_HOME",
    "RUSTUP_TOOLCHAIN",
    "RUSTFLAGS",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_JOBS",
    "CARGO_NET_OFFLINE",
    "PYTHONPATH",
    "PYTHONDONTWRITEBYTECODE",
    "VIRTUAL_ENV",
    "NODE_PATH",
    "GOPATH",
    "GOROOT",
    "GOFLAGS",
    "JAVA_HOME",
];

/// Paths under the home directory a sandboxed command cannot read: keys,
/// cloud and tool credentials, shell history, keyrings.
pub const HOME_SECRETS: &[&str] = &[
    ".ssh",
    ".gnupg",
    ".aws",
    ".azure",
    ".config",
    ".docker",
    ".kube",
    ".netrc",
    ".git-credentials",
    ".pypirc",
    ".npmrc",
    ".bash_history",
    ".zsh_history",
    ".python_history",
    ".node_repl_history",
    ".psql_history",
    ".mysql_history",
    ".local/share/keyrings",
    ".password-store",
    ".cargo/credentials",
    ".cargo/credentials.toml",
];

/// Devices a sandboxed command may open for writing.
const WRITABLE_DEVICES: &[&str] =
    &["/dev/null", "/dev/zero", "/dev/full", "/dev/tty", "/dev/random", "/dev/urandom"];

/// What a sandboxed command may do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Policy {
    /// Whether it may use the network (no network namespace then).
    pub network: bool,
    /// Variables passed besides [`PASSED_ENV`].
    pub env: Vec<String>,
    /// Directories it may write besides the repository and its temporary
    /// directory.
    pub writable: Vec<PathBuf>,
    /// Most CPU seconds of any one of its processes.
    pub cpu_seconds: u64,
    /// Most memory (data segment and private writable mappings) of any one
    /// of its processes, in bytes.
    pub memory_bytes: u64,
    /// Largest file it may write, in bytes.
    pub file_bytes: u64,
    /// Most processes at once (counted inside its namespace).
    pub processes: u64,
    /// The home directory whose secrets are hidden and that is passed as
    /// `HOME` (default: `$HOME`).
    pub home: Option<PathBuf>,
    /// Run even where this machine lacks a protection (see
    /// [`Protections::missing`]); without it a run at `auto` refuses.
    pub unsandboxed: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            network: false,
            env: Vec::new(),
            writable: Vec::new(),
            cpu_seconds: 1200,
            memory_bytes: 8 << 30,
            file_bytes: 4 << 30,
            processes: 512,
            home: None,
            unsandboxed: false,
        }
    }
}

/// What this machine lets the sandbox do: `suit doctor` shows it, and a run
/// at `auto` refuses commands when a protection is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Protections {
    /// Network namespaces for unprivileged processes (user namespaces).
    pub network: bool,
    /// The kernel's Landlock ABI version (0 when Landlock is off).
    pub landlock_abi: i32,
    /// Whether the number of processes is capped: `RLIMIT_NPROC` in the
    /// namespace, or, for root (whom that limit does not bind), a pids
    /// control group.
    pub process_cap: bool,
}

impl Protections {
    /// How processes are capped, for `suit doctor`.
    pub fn process_cap_how(&self) -> &'static str {
        // SAFETY: geteuid cannot fail.
        match (unsafe { libc::geteuid() } == 0, self.process_cap) {
            (true, true) => "a pids control group per check",
            (true, false) => "root ignores RLIMIT_NPROC and no pids control group is writable",
            (false, true) => "RLIMIT_NPROC inside the check's namespace",
            (false, false) => "RLIMIT_NPROC needs the check's own user namespace",
        }
    }

    /// Whether files can be confined (Landlock with file rights).
    pub fn files(&self) -> bool {
        self.landlock_abi >= 1
    }

    /// What is missing for a full sandbox, worded for a person; empty when
    /// nothing is.
    pub fn missing(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if !self.network {
            out.push("network isolation (unprivileged user namespaces are disabled)");
        }
        if !self.files() {
            out.push("file confinement (the kernel has no Landlock; Linux 5.13 or newer with `lsm=landlock`)");
        }
        out
    }
}

/// Whether checks may run where protections are `missing`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Consent {
    /// Nothing is missing, or the user accepted the risk (`--unsandboxed`).
    Given,
    /// Below `auto`: a person must say yes first (the terminal asks; a
    /// caller that cannot ask refuses with [`Consent::question`]'s text).
    Ask(String),
    /// At `auto`: refused, with why and what to do.
    Refused(String),
}

impl Consent {
    /// The question to put to a person, or the refusal to show.
    pub fn question(&self) -> Option<&str> {
        match self {
            Consent::Given => None,
            Consent::Ask(q) | Consent::Refused(q) => Some(q),
        }
    }
}

/// Decides whether a run at `level` may run its checks when this machine
/// lacks the protections `missing` (see [`Protections::missing`]);
/// `accepted` is the user's `--unsandboxed` (or a run without checks).
pub fn consent(level: suit_protocol::Autonomy, missing: &[&str], accepted: bool) -> Consent {
    if missing.is_empty() || accepted {
        return Consent::Given;
    }
    let lacks = missing.join(" and ");
    if level == suit_protocol::Autonomy::Auto {
        Consent::Refused(format!(
            "at `auto` suit runs checks only in its sandbox, and this machine lacks {lacks}\n  \
             fix: run at --autonomy repo to review each step yourself, or accept the risk with \
             --unsandboxed (`suit doctor` shows what this machine protects)"
        ))
    } else {
        Consent::Ask(format!(
            "this machine lacks {lacks}: your checks would run with less protection than the \
             sandbox gives (`suit doctor` tells more; --unsandboxed skips this question)"
        ))
    }
}

/// Probes what this machine offers (once per process).
pub fn protections() -> Protections {
    static FOUND: std::sync::OnceLock<Protections> = std::sync::OnceLock::new();
    *FOUND.get_or_init(|| {
        let network = can_unshare();
        // SAFETY: geteuid cannot fail.
        let root = unsafe { libc::geteuid() } == 0;
        let process_cap = if root { PidsGroup::new(1).is_some() } else { network };
        Protections { network, landlock_abi: landlock_abi(), process_cap }
    })
}

/// The kernel's Landlock ABI version, 0 without Landlock.
fn landlock_abi() -> i32 {
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
    // SAFETY: asks for the ABI version only; no pointer is read.
    let v = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    v.max(0) as i32
}

/// Whether a child can get a user and network namespace of its own.
fn can_unshare() -> bool {
    let mut probe = std::process::Command::new("true");
    // SAFETY: the closure makes a single system call.
    unsafe {
        use std::os::unix::process::CommandExt;
        probe.pre_exec(|| {
            if libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNET) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    probe
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A command made ready to run in the sandbox: keep it alive until the
/// command has finished (it owns the private temporary directory).
pub struct Sandboxed {
    /// The private temporary directory (`TMPDIR`), removed on drop.
    _tmp: tempfile::TempDir,
    /// The command's own process-count group, emptied and removed on drop.
    _pids: Option<PidsGroup>,
    /// Whether the network namespace is in place.
    pub network_isolated: bool,
    /// Whether files are confined.
    pub files_confined: bool,
}

/// Puts `command` (about to run in `repo`) into the sandbox of `policy`:
/// its environment, its temporary directory and the set-up its child runs
/// before `exec`. Protections this machine lacks are left out (see
/// [`protections`]); the caller decides whether to run without them.
pub fn confine(
    command: &mut tokio::process::Command,
    repo: &Path,
    policy: &Policy,
) -> io::Result<Sandboxed> {
    let found = protections();
    let tmp = tempfile::Builder::new().prefix("suit-check-").tempdir()?;
    command.env_clear();
    for name in PASSED_ENV.iter().copied().chain(policy.env.iter().map(String::as_str)) {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    for name in ["TMPDIR", "TMP", "TEMP"] {
        command.env(name, tmp.path());
    }
    let home = policy.home.clone().or_else(|| std::env::var_os("HOME").map(PathBuf::from));
    if let Some(home) = &home {
        command.env("HOME", home);
    }

    let network = !policy.network && found.network;
    let files = if found.files() {
        let mut writable = vec![repo.to_path_buf(), tmp.path().to_path_buf()];
        writable.extend(policy.writable.iter().cloned());
        let denied: Vec<PathBuf> =
            home.iter().flat_map(|h| HOME_SECRETS.iter().map(move |s| h.join(s))).collect();
        Some(ruleset(&writable, &denied).map_err(|e| {
            io::Error::other(format!("cannot build the Landlock rules of the sandbox: {e}"))
        })?)
    } else {
        None
    };
    let files_confined = files.is_some();

    // The process limit of `setrlimit` is not enforced for root; a pids
    // control group (where this process may make one) caps root too.
    // SAFETY: geteuid cannot fail.
    let pids =
        if unsafe { libc::geteuid() } == 0 { PidsGroup::new(policy.processes) } else { None };
    let join = pids.as_ref().map(|g| g.procs.as_raw_fd());

    // Everything the child needs, made now: it must not allocate.
    // SAFETY: getuid/getgid cannot fail.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    let setup = ChildSetup {
        network,
        uid_map: format!("{uid} {uid} 1").into_bytes(),
        gid_map: format!("{gid} {gid} 1").into_bytes(),
        setgroups: c"/proc/self/setgroups".to_owned(),
        uid_map_path: c"/proc/self/uid_map".to_owned(),
        gid_map_path: c"/proc/self/gid_map".to_owned(),
        limits: [
            (libc::RLIMIT_CPU, policy.cpu_seconds, policy.cpu_seconds + 5),
            (libc::RLIMIT_DATA, policy.memory_bytes, policy.memory_bytes),
            (libc::RLIMIT_FSIZE, policy.file_bytes, policy.file_bytes),
            (libc::RLIMIT_CORE, 0, 0),
        ],
        // Outside a namespace of its own, the count would be every process
        // of the user's, which a limit for the check must not cap.
        processes: network.then_some(policy.processes),
        landlock: files,
        join,
    };
    // SAFETY: `ChildSetup::run` makes system calls only, on data owned by
    // the closure.
    unsafe {
        command.pre_exec(move || setup.run());
    }
    Ok(Sandboxed { _tmp: tmp, _pids: pids, network_isolated: network, files_confined })
}

/// The Landlock rules: every access beneath `writable`, reading and
/// running everywhere else except beneath `denied`.
fn ruleset(writable: &[PathBuf], denied: &[PathBuf]) -> Result<OwnedFd, String> {
    let abi = ABI::V6;
    let all = AccessFs::from_all(abi);
    let read = AccessFs::from_read(abi);
    let created = Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(all)
        .and_then(|r| r.scope(Scope::from_all(abi)))
        .and_then(|r| r.create())
        .and_then(|r| r.add_rules(landlock::path_beneath_rules(readable(denied), read)))
        .and_then(|r| r.add_rules(landlock::path_beneath_rules(writable, all)))
        .and_then(|r| r.add_rules(landlock::path_beneath_rules(WRITABLE_DEVICES, all)))
        .map_err(|e| e.to_string())?;
    let fd: Option<OwnedFd> = created.into();
    fd.ok_or_else(|| "this kernel does not enforce Landlock".to_string())
}

/// The paths that together cover the whole file tree except `denied`: the
/// siblings of every directory on the way from `/` to a denied path.
fn readable(denied: &[PathBuf]) -> Vec<PathBuf> {
    fn walk(dir: &Path, denied: &[PathBuf], out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            if denied.contains(&path) {
                continue;
            }
            if denied.iter().any(|d| d.starts_with(&path)) {
                // On the way to a secret: only a real directory is entered
                // (a symbolic link is allowed whole, as its target is).
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    walk(&path, denied, out);
                    continue;
                }
            }
            out.push(path);
        }
    }
    let mut out = Vec::new();
    walk(Path::new("/"), denied, &mut out);
    out
}

/// What the child does between `fork` and `exec`.
struct ChildSetup {
    network: bool,
    uid_map: Vec<u8>,
    gid_map: Vec<u8>,
    setgroups: CString,
    uid_map_path: CString,
    gid_map_path: CString,
    limits: [(libc::__rlimit_resource_t, u64, u64); 4],
    processes: Option<u64>,
    landlock: Option<OwnedFd>,
    /// `cgroup.procs` of the command's pids group, to join first.
    join: Option<i32>,
}

impl ChildSetup {
    /// Runs in the child: system calls only.
    fn run(&self) -> io::Result<()> {
        // The OS error alone (a message would allocate); the parent says
        // that the sandbox's set-up failed.
        let fail = io::Error::last_os_error;
        // SAFETY: each call gets pointers to live, initialized data owned
        // by `self` or the stack.
        unsafe {
            if let Some(fd) = self.join {
                // The pid in decimal, without allocating.
                let mut digits = [0u8; 20];
                let mut at = digits.len();
                let mut pid = libc::getpid() as u64;
                loop {
                    at -= 1;
                    digits[at] = b'0' + (pid % 10) as u8;
                    pid /= 10;
                    if pid == 0 {
                        break;
                    }
                }
                let text = &digits[at..];
                if libc::write(fd, text.as_ptr().cast(), text.len()) != text.len() as isize {
                    return Err(fail());
                }
            }
            if self.network {
                if libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNET) != 0 {
                    return Err(fail());
                }
                for (path, data) in [
                    (&self.setgroups, &b"deny"[..]),
                    (&self.uid_map_path, &self.uid_map),
                    (&self.gid_map_path, &self.gid_map),
                ] {
                    if write_file(path, data).is_err() {
                        return Err(fail());
                    }
                }
                loopback_up();
            }
            for &(resource, soft, hard) in &self.limits {
                let limit = libc::rlimit { rlim_cur: soft, rlim_max: hard };
                if libc::setrlimit(resource, &limit) != 0 {
                    return Err(fail());
                }
            }
            if let Some(n) = self.processes {
                let limit = libc::rlimit { rlim_cur: n, rlim_max: n };
                if libc::setrlimit(libc::RLIMIT_NPROC, &limit) != 0 {
                    return Err(fail());
                }
            }
            if let Some(fd) = &self.landlock {
                if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
                    return Err(fail());
                }
                if libc::syscall(libc::SYS_landlock_restrict_self, fd.as_raw_fd(), 0) != 0 {
                    return Err(fail());
                }
            }
        }
        Ok(())
    }
}

/// A pids control group of one command: caps its processes (root
/// included) and, when dropped, kills what is left in it (even processes
/// that left the command's process group) and removes it.
struct PidsGroup {
    dir: PathBuf,
    procs: std::fs::File,
}

impl PidsGroup {
    /// A new group under this process's own pids group, capped at `max`
    /// processes; `None` where there is no pids controller this process
    /// may write (cgroup v2 with `pids` delegated, or v1's `pids`).
    fn new(max: u64) -> Option<Self> {
        static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let parent = own_pids_cgroup()?;
        let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = parent.join(format!("suit-check-{}-{n}", std::process::id()));
        std::fs::create_dir(&dir).ok()?;
        let made = std::fs::write(dir.join("pids.max"), max.to_string())
            .and_then(|()| std::fs::OpenOptions::new().write(true).open(dir.join("cgroup.procs")));
        match made {
            Ok(procs) => Some(Self { dir, procs }),
            Err(_) => {
                let _ = std::fs::remove_dir(&dir);
                None
            }
        }
    }
}

impl Drop for PidsGroup {
    fn drop(&mut self) {
        // v2 kills the whole group in one write; v1 needs each process.
        if std::fs::write(self.dir.join("cgroup.kill"), "1").is_err() {
            for _ in 0..50 {
                let Ok(list) = std::fs::read_to_string(self.dir.join("cgroup.procs")) else {
                    break;
                };
                if list.trim().is_empty() {
                    break;
                }
                for pid in list.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
                    // SAFETY: sends a signal to a process of the group.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
        for _ in 0..50 {
            if std::fs::remove_dir(&self.dir).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}

/// The directory of this process's pids control group: cgroup v2 when its
/// group delegates `pids` to children, else v1's `pids` hierarchy.
fn own_pids_cgroup() -> Option<PathBuf> {
    let groups = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    // mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS ... - FSTYPE SOURCE SUPER
    let mount_of = |v2: bool| {
        mounts.lines().find_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let mut right = right.split(' ');
            let fstype = right.next()?;
            let options = right.nth(1).unwrap_or("");
            let point = left.split(' ').nth(4)?;
            let fits = if v2 {
                fstype == "cgroup2"
            } else {
                fstype == "cgroup" && options.split(',').any(|o| o == "pids")
            };
            fits.then(|| PathBuf::from(point))
        })
    };
    let path_of = |v2: bool| {
        groups.lines().find_map(|line| {
            let mut parts = line.splitn(3, ':');
            let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
            let fits = if v2 {
                controllers.is_empty()
            } else {
                controllers.split(',').any(|c| c == "pids")
            };
            fits.then(|| path.trim_start_matches('/').to_string())
        })
    };
    if let (Some(mount), Some(path)) = (mount_of(true), path_of(true)) {
        let dir = mount.join(path);
        let delegated = std::fs::read_to_string(dir.join("cgroup.subtree_control"))
            .is_ok_and(|c| c.split_whitespace().any(|c| c == "pids"));
        if delegated {
            return Some(dir);
        }
    }
    Some(mount_of(false)?.join(path_of(false)?))
}

/// Writes `data` to the file at `path` (open, write, close).
///
/// # Safety
/// Plain system calls; safe between `fork` and `exec`.
unsafe fn write_file(path: &CString, data: &[u8]) -> Result<(), ()> {
    let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
    if fd < 0 {
        return Err(());
    }
    let n = libc::write(fd, data.as_ptr().cast(), data.len());
    libc::close(fd);
    if n == data.len() as isize {
        Ok(())
    } else {
        Err(())
    }
}

/// Brings the loopback interface of a fresh network namespace up, so that
/// a test can serve and connect on `127.0.0.1`. A failure leaves it down.
///
/// # Safety
/// Plain system calls; safe between `fork` and `exec`.
unsafe fn loopback_up() {
    let s = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
    if s < 0 {
        return;
    }
    let mut req: libc::ifreq = std::mem::zeroed();
    for (i, b) in b"lo".iter().enumerate() {
        req.ifr_name[i] = *b as libc::c_char;
    }
    if libc::ioctl(s, libc::SIOCGIFFLAGS, &mut req) == 0 {
        req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
        libc::ioctl(s, libc::SIOCSIFFLAGS, &req);
    }
    libc::close(s);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readable_paths_cover_the_tree_but_the_denied_ones() {
        let home = tempfile::tempdir().unwrap();
        for d in [".ssh", ".cache", "src/app", ".local/share/keyrings", ".local/bin"] {
            std::fs::create_dir_all(home.path().join(d)).unwrap();
        }
        std::fs::write(home.path().join(".profile"), "").unwrap();
        let denied: Vec<PathBuf> =
            [".ssh", ".local/share/keyrings"].iter().map(|s| home.path().join(s)).collect();
        let paths = readable(&denied);
        for allowed in [".cache", "src", ".profile", ".local/bin"] {
            assert!(paths.contains(&home.path().join(allowed)), "{allowed} missing");
        }
        for d in &denied {
            assert!(!paths.iter().any(|p| p.starts_with(d) || d == p), "{d:?} readable");
        }
        assert!(!paths.contains(&home.path().to_path_buf()), "the home itself is listed whole");
        assert!(paths.contains(&PathBuf::from("/usr")));
    }

    #[test]
    fn auto_refuses_and_lower_levels_ask_when_a_protection_is_missing() {
        use suit_protocol::Autonomy;
        let missing = ["network isolation (…)"];
        assert!(
            matches!(consent(Autonomy::Auto, &missing, false), Consent::Refused(m) if m.contains("--unsandboxed"))
        );
        assert!(
            matches!(consent(Autonomy::Repo, &missing, false), Consent::Ask(m) if m.contains("network isolation"))
        );
        assert_eq!(consent(Autonomy::Auto, &missing, true), Consent::Given);
        assert_eq!(consent(Autonomy::Auto, &[], false), Consent::Given);
    }

    #[test]
    fn missing_protections_are_named() {
        let none = Protections { network: false, landlock_abi: 0, process_cap: false };
        let text = none.missing().join("; ");
        assert!(text.contains("network isolation") && text.contains("Landlock"), "{text}");
        let all = Protections { network: true, landlock_abi: 3, process_cap: true };
        assert!(all.missing().is_empty());
    }
}
