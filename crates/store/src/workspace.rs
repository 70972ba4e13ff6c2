//! Checkpointed file changes with exact undo.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::fsutil::{read_state, remove_file, remove_temp_leftovers, write_atomic_mode};
use crate::paths::resolve;
use crate::sqlite::sha256_hex;
use crate::store::*;

/// Mode recorded for files a step creates (the real mode follows the umask).
const NEW_FILE_MODE: u32 = 0o644;

/// One file change of a step, with the content the step expects to replace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// Path relative to the repository root.
    pub path: String,
    /// The bytes the file must hold now (`None`: it must not exist).
    pub expected: Option<Vec<u8>>,
    /// The bytes to write (`None`: delete the file).
    pub new: Option<Vec<u8>>,
}

impl FileChange {
    /// Creates a file that must not exist yet.
    pub fn create(path: impl Into<String>, content: impl Into<Vec<u8>>) -> Self {
        Self { path: path.into(), expected: None, new: Some(content.into()) }
    }
    /// Replaces the content `old` of an existing file with `new`.
    pub fn modify(
        path: impl Into<String>,
        old: impl Into<Vec<u8>>,
        new: impl Into<Vec<u8>>,
    ) -> Self {
        Self { path: path.into(), expected: Some(old.into()), new: Some(new.into()) }
    }
    /// Deletes a file whose content is `old`.
    pub fn delete(path: impl Into<String>, old: impl Into<Vec<u8>>) -> Self {
        Self { path: path.into(), expected: Some(old.into()), new: None }
    }
}

/// A set of file changes applied (and undone) as one checkpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Step {
    /// Owning session (its first write records the session's baseline).
    pub session: Option<SessionId>,
    /// What the step does, for `suit log`.
    pub description: String,
    /// The changes, written in this order.
    pub changes: Vec<FileChange>,
}

/// What [`Workspace::open`] repaired after an interrupted run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Recovery {
    /// Checkpoints found half-applied and rolled back.
    pub rolled_back: Vec<i64>,
    /// Checkpoints found half-undone whose undo was completed.
    pub undo_completed: Vec<i64>,
    /// `(checkpoint, path)` left alone because the file matched neither the
    /// state before nor after the step (someone changed it since).
    pub left_alone: Vec<(i64, String)>,
}

/// Result of [`Workspace::undo`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UndoReport {
    /// Undone checkpoints, newest first.
    pub undone: Vec<i64>,
    /// Files whose later changes a forced undo overwrote: `(path, blob hash)`
    /// of the overwritten bytes, readable with [`Store::blob`].
    pub displaced: Vec<(String, String)>,
}

/// How a step changed a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ChangeKind {
    /// The file did not exist before.
    Created,
    /// The file existed before and after.
    Modified,
    /// The file was removed.
    Deleted,
}

/// One file of a [`StepLog`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileDiff {
    /// Repo-relative path.
    pub path: String,
    /// How it changed.
    pub kind: ChangeKind,
    /// Lines added (0 for binary files).
    pub added: usize,
    /// Lines removed (0 for binary files).
    pub removed: usize,
    /// Unified diff, or a one-line note for binary content.
    pub diff: String,
}

/// One step as `suit log` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepLog {
    /// Checkpoint id.
    pub id: i64,
    /// Owning session.
    pub session: Option<SessionId>,
    /// Creation time, milliseconds since the Unix epoch.
    pub created_ms: i64,
    /// Description.
    pub description: String,
    /// Lifecycle state.
    pub state: CheckpointState,
    /// Files with their diffs.
    pub files: Vec<FileDiff>,
}

/// A repository whose files suit changes in checkpointed steps.
///
/// Opening a workspace takes an exclusive lock (`.suit/workspace.lock`) so
/// one process at a time writes the tree, then repairs any step a previous
/// process left half-applied or half-undone.
pub struct Workspace {
    root: PathBuf,
    repo: String,
    store: Arc<dyn Store>,
    recovery: Recovery,
    /// Serialises apply and undo between threads of this process.
    writing: std::sync::Mutex<()>,
    _lock: File,
}

impl std::fmt::Debug for Workspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workspace").field("root", &self.root).finish()
    }
}

type Failpoint<'a> = &'a mut dyn FnMut(usize) -> Result<()>;

impl Workspace {
    /// Opens the repository at `root` with `store`, locks it and recovers
    /// interrupted steps (see [`Workspace::recovery`]).
    pub fn open(root: &Path, store: Arc<dyn Store>) -> Result<Self> {
        let root = root.canonicalize().map_err(|e| Error::io("open repository root", root, e))?;
        let state_dir = root.join(".suit");
        let lock_path = state_dir.join("workspace.lock");
        std::fs::create_dir_all(&state_dir)
            .map_err(|e| Error::io("create directory", &state_dir, e))?;
        // Keep suit's state out of `git status` without touching the user's .gitignore.
        let ignore = state_dir.join(".gitignore");
        if !ignore.exists() {
            write_atomic_mode(&ignore, b"*\n", None)?;
        }
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| Error::io("open lock file", &lock_path, e))?;
        match fs4::FileExt::try_lock(&lock) {
            Ok(()) => {}
            Err(fs4::TryLockError::WouldBlock) => {
                return Err(Error::io(
                    "lock",
                    &lock_path,
                    std::io::Error::other(
                        "another suit process is changing files in this repository\n  fix: wait for it to finish, or stop it",
                    ),
                ))
            }
            Err(fs4::TryLockError::Error(e)) => return Err(Error::io("lock", &lock_path, e)),
        }
        let repo = root.to_string_lossy().into_owned();
        let mut ws = Workspace {
            root,
            repo,
            store,
            recovery: Recovery::default(),
            writing: std::sync::Mutex::new(()),
            _lock: lock,
        };
        ws.recovery = ws.recover()?;
        Ok(ws)
    }

    /// The canonical repository root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The key under which this repository's checkpoints and memories are stored.
    pub fn repo_key(&self) -> &str {
        &self.repo
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// What opening repaired.
    pub fn recovery(&self) -> &Recovery {
        &self.recovery
    }

    /// Reads a repo-relative file through the same path checks as writes, so
    /// protected files (secrets, `.git/`) are refused (`None` if it does not exist).
    pub fn read(&self, path: &str) -> Result<Option<Vec<u8>>> {
        let (_, full) = resolve(&self.root, path)?;
        Ok(read_state(&full)?.map(|(b, _)| b))
    }

    /// Applies a step as one checkpoint: checks every path and expected
    /// content (a [`Error::Conflict`] writes nothing), records the previous
    /// bytes, then writes the files atomically. If writing fails part-way the
    /// files already written are restored and [`Error::RolledBack`] returned;
    /// if the process dies, the next [`Workspace::open`] rolls back.
    pub fn apply(&self, step: &Step) -> Result<Checkpoint> {
        self.apply_with(step, &mut |_| Ok(()))
    }

    /// [`Workspace::apply`] with a hook called after each written file (with
    /// the count written so far), for crash tests.
    pub(crate) fn apply_with(&self, step: &Step, failpoint: Failpoint<'_>) -> Result<Checkpoint> {
        let _writing = self.writing.lock().unwrap_or_else(|p| p.into_inner());
        if step.changes.is_empty() {
            return Err(Error::InvalidStep("the step changes no file".into()));
        }
        let mut seen = HashSet::new();
        let mut files = Vec::with_capacity(step.changes.len());
        for change in &step.changes {
            let (path, full) = resolve(&self.root, &change.path)?;
            if !seen.insert(path.clone()) {
                return Err(Error::InvalidStep(format!(
                    "{path} appears twice; merge its changes into one"
                )));
            }
            let current = read_state(&full)?;
            let matches = match (&change.expected, &current) {
                (None, None) => true,
                (Some(e), Some((b, _))) => e == b,
                _ => false,
            };
            if !matches {
                return Err(Error::Conflict {
                    path,
                    expected: describe(change.expected.as_deref()),
                    found: describe(current.as_ref().map(|(b, _)| b.as_slice())),
                });
            }
            let (before, mode) = match current {
                Some((bytes, mode)) => (FileState::Present { bytes, mode }, mode),
                None => (FileState::Absent, NEW_FILE_MODE),
            };
            let after = match &change.new {
                Some(bytes) => FileState::Present { bytes: bytes.clone(), mode },
                None => FileState::Absent,
            };
            let created_dirs = missing_dirs(&self.root, &path);
            files.push(NewCheckpointFile { path, before, after, created_dirs });
        }
        let git = match step.session {
            Some(s) if !self.store.has_baseline(s)? => git_snapshot(&self.root, s),
            _ => None,
        };
        let cp = self.store.record_checkpoint(&NewCheckpoint {
            repo: self.repo.clone(),
            session: step.session,
            description: step.description.clone(),
            files,
            git,
        })?;
        for (i, change) in step.changes.iter().enumerate() {
            let f = &cp.files[i];
            let full = self.root.join(&f.path);
            let written = match &change.new {
                Some(bytes) => write_atomic_mode(&full, bytes, None),
                None => remove_file(&full).map(|_| ()),
            }
            .and_then(|()| failpoint(i + 1));
            if let Err(err) = written {
                // If restoring fails too, the checkpoint stays pending and the
                // next open retries the rollback.
                let left = self.restore_before(&cp, false)?;
                if left.is_empty() {
                    self.store.set_checkpoint_state(
                        cp.id,
                        CheckpointState::Pending,
                        CheckpointState::RolledBack,
                    )?;
                }
                return Err(Error::RolledBack {
                    step: cp.id,
                    path: f.path.clone(),
                    cause: Box::new(err),
                });
            }
        }
        self.store.set_checkpoint_state(
            cp.id,
            CheckpointState::Pending,
            CheckpointState::Applied,
        )?;
        Ok(Checkpoint { state: CheckpointState::Applied, ..cp })
    }

    /// Undoes the last `n` applied steps, newest first, restoring the exact
    /// previous bytes and modes (re-creating deleted files, deleting created
    /// ones). Refuses with [`Error::UndoConflict`] naming the file if a file
    /// was changed after its step, unless `force`, in which case the
    /// overwritten bytes are kept as blobs (see [`UndoReport::displaced`]).
    pub fn undo(&self, n: usize, force: bool) -> Result<UndoReport> {
        let _writing = self.writing.lock().unwrap_or_else(|p| p.into_inner());
        let applied: Vec<Checkpoint> = self
            .store
            .checkpoints(&self.repo)?
            .into_iter()
            .filter(|c| c.state == CheckpointState::Applied)
            .collect();
        if n > applied.len() {
            return Err(Error::NothingToUndo { requested: n, available: applied.len() });
        }
        let targets: Vec<&Checkpoint> = applied.iter().rev().take(n).collect();
        // Check all targets first, simulating the undo of newer steps.
        let mut expected: HashMap<&str, &StoredState> = HashMap::new();
        for cp in &targets {
            for f in cp.files.iter().rev() {
                let now = match expected.get(f.path.as_str()) {
                    Some(s) => hash_of(s),
                    None => self.disk_hash(&f.path)?,
                };
                if now != hash_of(&f.after) && !force {
                    return Err(Error::UndoConflict {
                        step: cp.id,
                        path: f.path.clone(),
                        found: match &now {
                            None => "absent".into(),
                            Some(h) => format!("content {}", &h[..12]),
                        },
                    });
                }
                expected.insert(&f.path, &f.before);
            }
        }
        let mut report = UndoReport::default();
        for cp in targets {
            if force {
                for f in &cp.files {
                    let full = self.root.join(&f.path);
                    if let Some((bytes, _)) = read_state(&full)? {
                        let h = sha256_hex(&bytes);
                        let known = [hash_of(&f.after), hash_of(&f.before)];
                        if !known.contains(&Some(h)) {
                            let hash = self.store.put_blob(&bytes)?;
                            report.displaced.push((f.path.clone(), hash));
                        }
                    }
                }
            }
            self.store.set_checkpoint_state(
                cp.id,
                CheckpointState::Applied,
                CheckpointState::Undoing,
            )?;
            self.restore_before(cp, true)?;
            self.store.set_checkpoint_state(
                cp.id,
                CheckpointState::Undoing,
                CheckpointState::Undone,
            )?;
            report.undone.push(cp.id);
        }
        Ok(report)
    }

    /// Steps of this repository, newest first, with unified diffs: all of
    /// them, or the newest `limit`.
    pub fn log(&self, limit: Option<usize>) -> Result<Vec<StepLog>> {
        let mut out = Vec::new();
        let all = self.store.checkpoints(&self.repo)?;
        for cp in all.into_iter().rev().take(limit.unwrap_or(usize::MAX)) {
            let mut files = Vec::with_capacity(cp.files.len());
            for f in &cp.files {
                let before = self.load(&f.before)?;
                let after = self.load(&f.after)?;
                files.push(file_diff(&f.path, before.as_deref(), after.as_deref()));
            }
            out.push(StepLog {
                id: cp.id,
                session: cp.session,
                created_ms: cp.created_ms,
                description: cp.description,
                state: cp.state,
                files,
            });
        }
        Ok(out)
    }

    fn recover(&self) -> Result<Recovery> {
        let mut rec = Recovery::default();
        for cp in self.store.checkpoints(&self.repo)? {
            let (to, list) = match cp.state {
                CheckpointState::Pending => (CheckpointState::RolledBack, &mut rec.rolled_back),
                CheckpointState::Undoing => (CheckpointState::Undone, &mut rec.undo_completed),
                _ => continue,
            };
            for path in self.restore_before(&cp, false)? {
                rec.left_alone.push((cp.id, path));
            }
            self.store.set_checkpoint_state(cp.id, cp.state, to)?;
            list.push(cp.id);
        }
        Ok(rec)
    }

    /// Puts every file of `cp` back to its state before the step, newest
    /// write first. Without `force` a file is only restored if it holds the
    /// step's content; others (changed since) are returned untouched.
    fn restore_before(&self, cp: &Checkpoint, force: bool) -> Result<Vec<String>> {
        let mut left = Vec::new();
        for f in cp.files.iter().rev() {
            let full = self.root.join(&f.path);
            remove_temp_leftovers(&full);
            let now = self.disk_hash(&f.path)?;
            if now == hash_of(&f.before) {
                if let StoredState::Present { mode, .. } = f.before {
                    // Same bytes; make sure the mode is back too.
                    if let Some((bytes, m)) = read_state(&full)? {
                        if m != mode {
                            write_atomic_mode(&full, &bytes, Some(mode))?;
                        }
                    }
                }
                continue;
            }
            if now != hash_of(&f.after) && !force {
                left.push(f.path.clone());
                continue;
            }
            match &f.before {
                StoredState::Absent => {
                    remove_file(&full)?;
                    // Directories the step created for this file go too, if empty.
                    for d in f.created_dirs.iter().rev() {
                        let _ = std::fs::remove_dir(self.root.join(d));
                    }
                }
                StoredState::Present { hash, mode } => {
                    let bytes = self.store.blob(hash)?.ok_or_else(|| Error::MissingBlob {
                        hash: hash.clone(),
                        path: PathBuf::from(&self.repo),
                    })?;
                    write_atomic_mode(&full, &bytes, Some(*mode))?;
                }
            }
        }
        Ok(left)
    }

    fn disk_hash(&self, rel: &str) -> Result<Option<String>> {
        Ok(read_state(&self.root.join(rel))?.map(|(b, _)| sha256_hex(&b)))
    }

    fn load(&self, s: &StoredState) -> Result<Option<Vec<u8>>> {
        match s {
            StoredState::Absent => Ok(None),
            StoredState::Present { hash, .. } => {
                self.store.blob(hash)?.map(Some).ok_or_else(|| Error::MissingBlob {
                    hash: hash.clone(),
                    path: PathBuf::from(&self.repo),
                })
            }
        }
    }
}

/// Ancestor directories of `rel` that do not exist yet, outermost first.
fn missing_dirs(root: &Path, rel: &str) -> Vec<String> {
    let parts: Vec<&str> = rel.split('/').collect();
    let mut out = Vec::new();
    for i in 1..parts.len() {
        let d = parts[..i].join("/");
        if !root.join(&d).exists() {
            out.push(d);
        }
    }
    out
}

fn hash_of(s: &StoredState) -> Option<String> {
    match s {
        StoredState::Absent => None,
        StoredState::Present { hash, .. } => Some(hash.clone()),
    }
}

fn describe(bytes: Option<&[u8]>) -> String {
    match bytes {
        None => "absent".into(),
        Some(b) => format!("{} bytes, sha256 {}", b.len(), &sha256_hex(b)[..12]),
    }
}

fn as_text(b: &[u8]) -> Option<&str> {
    if b.contains(&0) {
        return None;
    }
    std::str::from_utf8(b).ok()
}

fn file_diff(path: &str, before: Option<&[u8]>, after: Option<&[u8]>) -> FileDiff {
    let kind = match (before, after) {
        (None, _) => ChangeKind::Created,
        (Some(_), None) => ChangeKind::Deleted,
        _ => ChangeKind::Modified,
    };
    let old = before.unwrap_or_default();
    let new = after.unwrap_or_default();
    let (a, b) = (
        if before.is_some() { format!("a/{path}") } else { "/dev/null".into() },
        if after.is_some() { format!("b/{path}") } else { "/dev/null".into() },
    );
    match (as_text(old), as_text(new)) {
        (Some(o), Some(n)) => {
            let diff = similar::TextDiff::from_lines(o, n);
            let (mut added, mut removed) = (0, 0);
            for c in diff.iter_all_changes() {
                match c.tag() {
                    similar::ChangeTag::Insert => added += 1,
                    similar::ChangeTag::Delete => removed += 1,
                    similar::ChangeTag::Equal => {}
                }
            }
            let text = diff.unified_diff().context_radius(3).header(&a, &b).to_string();
            FileDiff { path: path.into(), kind, added, removed, diff: text }
        }
        _ => FileDiff {
            path: path.into(),
            kind,
            added: 0,
            removed: 0,
            diff: format!("Binary files {a} and {b} differ\n"),
        },
    }
}

/// Records the git state before a session's first write: HEAD, `git status
/// --porcelain`, and a `git stash create` commit of uncommitted tracked
/// changes, kept reachable under `refs/suit/sessions/<id>`. `None` outside a
/// git repository or without a git binary.
fn git_snapshot(root: &Path, session: SessionId) -> Option<GitSnapshot> {
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git")
            .arg("-C")
            .arg(root)
            .args(args)
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("GIT_INDEX_FILE")
            .env("GIT_OPTIONAL_LOCKS", "0")
            .output()
            .ok()?;
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    };
    if git(&["rev-parse", "--is-inside-work-tree"])?.trim() != "true" {
        return None;
    }
    let status = git(&["status", "--porcelain"])?;
    let head = git(&["rev-parse", "--verify", "-q", "HEAD"]).map(|s| s.trim().to_string());
    let stash = git(&["stash", "create"]).map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    if let Some(hash) = &stash {
        let name = format!("refs/suit/sessions/{session}");
        let _ = git(&["update-ref", "-m", "suit: session baseline", &name, hash]);
    }
    Some(GitSnapshot { head, status, stash })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SqliteStore;
    use std::fs;

    fn open(repo: &Path) -> Workspace {
        let store = SqliteStore::open(&SqliteStore::default_path(repo)).unwrap();
        Workspace::open(repo, Arc::new(store)).unwrap()
    }

    /// Three files: a modification, a creation and a deletion.
    fn setup(repo: &Path) -> Step {
        fs::write(repo.join("a.txt"), "a0\n").unwrap();
        fs::write(repo.join("c.txt"), "c0\n").unwrap();
        Step {
            session: None,
            description: "three files".into(),
            changes: vec![
                FileChange::modify("a.txt", "a0\n", "a1\n"),
                FileChange::create("sub/b.txt", "b1\n"),
                FileChange::delete("c.txt", "c0\n"),
            ],
        }
    }

    fn assert_original(repo: &Path) {
        assert_eq!(fs::read(repo.join("a.txt")).unwrap(), b"a0\n");
        assert!(!repo.join("sub/b.txt").exists());
        assert_eq!(fs::read(repo.join("c.txt")).unwrap(), b"c0\n");
        let leftovers: Vec<_> = fs::read_dir(repo.join("sub"))
            .map(|d| d.flatten().map(|e| e.file_name()).collect())
            .unwrap_or_default();
        assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    }

    #[test]
    fn failure_part_way_rolls_back_in_process() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path();
        let step = setup(repo);
        let ws = open(repo);
        let err = ws
            .apply_with(&step, &mut |n| {
                if n == 2 {
                    Err(Error::io("write", "sub/b.txt", std::io::Error::other("disk full")))
                } else {
                    Ok(())
                }
            })
            .unwrap_err();
        assert!(matches!(err, Error::RolledBack { .. }), "{err:?}");
        assert!(err.to_string().contains("disk full"));
        assert_original(repo);
        let log = ws.log(None).unwrap();
        assert_eq!(log[0].state, CheckpointState::RolledBack);
        assert!(matches!(ws.undo(1, false), Err(Error::NothingToUndo { .. })));
    }

    #[test]
    fn panic_part_way_is_rolled_back_on_next_open() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path();
        let step = setup(repo);
        let ws = open(repo);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            ws.apply_with(&step, &mut |n| {
                if n == 2 {
                    panic!("simulated crash after 2 files");
                }
                Ok(())
            })
        }));
        assert!(r.is_err());
        // Half-written: the first two files hold the step's content.
        assert_eq!(fs::read(repo.join("a.txt")).unwrap(), b"a1\n");
        assert!(repo.join("sub/b.txt").exists());
        drop(ws);
        let ws = open(repo);
        assert_eq!(ws.recovery().rolled_back.len(), 1);
        assert!(ws.recovery().left_alone.is_empty());
        assert_original(repo);
        assert_eq!(ws.log(None).unwrap()[0].state, CheckpointState::RolledBack);
        // Recovery is done once.
        drop(ws);
        assert_eq!(open(repo).recovery(), &Recovery::default());
    }

    /// The real thing: the child process aborts (no unwinding, no
    /// destructors) after writing `k` files; the parent reopens.
    #[test]
    fn process_abort_part_way_is_rolled_back_on_next_open() {
        const ENV: &str = "SUIT_STORE_CRASH_CHILD_REPO";
        if let Ok(repo) = std::env::var(ENV) {
            let repo = PathBuf::from(repo);
            let k: usize = std::env::var("SUIT_STORE_CRASH_AFTER").unwrap().parse().unwrap();
            let step = Step {
                session: None,
                description: "three files".into(),
                changes: vec![
                    FileChange::modify("a.txt", "a0\n", "a1\n"),
                    FileChange::create("sub/b.txt", "b1\n"),
                    FileChange::delete("c.txt", "c0\n"),
                ],
            };
            let ws = open(&repo);
            let _ = ws.apply_with(&step, &mut |n| {
                if n == k {
                    std::process::abort();
                }
                Ok(())
            });
            unreachable!("the child must have aborted");
        }
        for k in 1..=3 {
            let dir = tempfile::tempdir().unwrap();
            let repo = dir.path();
            setup(repo);
            let status = std::process::Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "workspace::tests::process_abort_part_way_is_rolled_back_on_next_open",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(ENV, repo)
                .env("SUIT_STORE_CRASH_AFTER", k.to_string())
                .output()
                .unwrap();
            assert!(!status.status.success(), "child did not crash (k={k})");
            let changed = fs::read(repo.join("a.txt")).unwrap() == b"a1\n";
            assert!(changed, "the child wrote before dying (k={k})");
            let ws = open(repo);
            assert_eq!(ws.recovery().rolled_back.len(), 1, "k={k}");
            assert_original(repo);
        }
    }

    #[test]
    fn interrupted_undo_is_completed_on_next_open() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path();
        let step = setup(repo);
        let ws = open(repo);
        let cp = ws.apply(&step).unwrap();
        // As if an undo died after marking the checkpoint and restoring one file.
        ws.store()
            .set_checkpoint_state(cp.id, CheckpointState::Applied, CheckpointState::Undoing)
            .unwrap();
        fs::write(repo.join("c.txt"), "c0\n").unwrap();
        drop(ws);
        let ws = open(repo);
        assert_eq!(ws.recovery().undo_completed, vec![cp.id]);
        assert_original(repo);
        assert_eq!(ws.log(None).unwrap()[0].state, CheckpointState::Undone);
    }

    #[test]
    fn recovery_leaves_files_changed_since_the_crash_alone() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path();
        let step = setup(repo);
        let ws = open(repo);
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            ws.apply_with(&step, &mut |n| {
                assert!(n < 1, "simulated crash");
                Ok(())
            })
        }));
        drop(ws);
        fs::write(repo.join("a.txt"), "edited after the crash\n").unwrap();
        let ws = open(repo);
        assert_eq!(ws.recovery().left_alone, vec![(1, "a.txt".to_string())]);
        assert_eq!(fs::read(repo.join("a.txt")).unwrap(), b"edited after the crash\n");
    }
}
