//! The [`Store`] trait and its record types.

use serde::{Deserialize, Serialize};

use crate::error::Result;

/// Identifier of a session.
pub type SessionId = i64;

/// A session to create: one task worked on in one repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewSession {
    /// The task as the user stated it.
    pub task: String,
    /// The repository root (as the caller names it; usually canonical).
    pub repo_root: String,
    /// The autonomy level at the start (`tab`, `edit`, `file`, `repo`, `auto`).
    pub autonomy: String,
}

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Its id.
    pub id: SessionId,
    /// The task.
    pub task: String,
    /// The repository root.
    pub repo_root: String,
    /// The autonomy level at the start.
    pub autonomy: String,
    /// Creation time, milliseconds since the Unix epoch.
    pub created_ms: i64,
    /// End time, if ended.
    pub ended_ms: Option<i64>,
    /// `running` until [`Store::end_session`] sets a final status.
    pub status: String,
}

/// One entry of the append-only event journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The session it belongs to.
    pub session: SessionId,
    /// Position in the session's journal, from 1, without gaps.
    pub seq: i64,
    /// Time, milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// Kind, such as `step.started` or `check.result`.
    pub kind: String,
    /// Free-form JSON payload.
    pub payload: serde_json::Value,
}

/// A fact remembered for a repository across sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Memory {
    /// Unique key within the repository.
    pub key: String,
    /// The remembered text.
    pub text: String,
    /// Where it came from (`user`, `session:12`, a URL, ...).
    pub provenance: String,
    /// Pinned memories always go into the context window.
    pub pinned: bool,
}

/// State of a file at one moment: its bytes and Unix mode, or absent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileState {
    /// The file does not exist.
    Absent,
    /// The file exists with these bytes and this mode.
    Present {
        /// Content.
        bytes: Vec<u8>,
        /// Unix permission bits.
        mode: u32,
    },
}

/// A stored file state: a blob hash and mode, or absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StoredState {
    /// The file did not exist.
    Absent,
    /// The file existed with the blob `hash` and this mode.
    Present {
        /// sha256 of the content (hex), the key of the blob.
        hash: String,
        /// Unix permission bits.
        mode: u32,
    },
}

/// Lifecycle of a checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CheckpointState {
    /// Recorded, files being written. Found at open: rolled back.
    Pending,
    /// All files written.
    Applied,
    /// Rolled back before completion (failure or crash).
    RolledBack,
    /// Undo in progress. Found at open: the undo is completed.
    Undoing,
    /// Undone.
    Undone,
}

impl CheckpointState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Applied => "applied",
            Self::RolledBack => "rolled_back",
            Self::Undoing => "undoing",
            Self::Undone => "undone",
        }
    }
    pub(crate) fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Self::Pending,
            "applied" => Self::Applied,
            "rolled_back" => Self::RolledBack,
            "undoing" => Self::Undoing,
            "undone" => Self::Undone,
            _ => return None,
        })
    }
}

/// One file of a checkpoint to record, with full contents.
#[derive(Debug, Clone)]
pub struct NewCheckpointFile {
    /// Repo-relative path.
    pub path: String,
    /// State before the step.
    pub before: FileState,
    /// State the step writes.
    pub after: FileState,
    /// Ancestor directories the step creates for the file (outermost
    /// first); undo removes them again if they are empty.
    pub created_dirs: Vec<String>,
}

/// Git state of a repository when a session first wrote to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitSnapshot {
    /// `git rev-parse HEAD`, if the repository has a commit.
    pub head: Option<String>,
    /// `git status --porcelain` output.
    pub status: String,
    /// `git stash create` commit holding uncommitted tracked changes, if any
    /// (kept reachable under `refs/suit/sessions/<id>`).
    pub stash: Option<String>,
}

/// A checkpoint to record in one transaction (blobs, files, baseline).
#[derive(Debug, Clone)]
pub struct NewCheckpoint {
    /// Repository key (canonical root).
    pub repo: String,
    /// Owning session, if any.
    pub session: Option<SessionId>,
    /// Human description of the step.
    pub description: String,
    /// The files, before and after.
    pub files: Vec<NewCheckpointFile>,
    /// Git state to record as the session's baseline if it has none yet.
    pub git: Option<GitSnapshot>,
}

/// One file of a stored checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointFile {
    /// Repo-relative path.
    pub path: String,
    /// State before the step.
    pub before: StoredState,
    /// State after the step.
    pub after: StoredState,
    /// Ancestor directories the step created (outermost first).
    pub created_dirs: Vec<String>,
}

/// A stored checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Its id (increasing).
    pub id: i64,
    /// Repository key.
    pub repo: String,
    /// Owning session.
    pub session: Option<SessionId>,
    /// Creation time, milliseconds since the Unix epoch.
    pub created_ms: i64,
    /// Description.
    pub description: String,
    /// Lifecycle state.
    pub state: CheckpointState,
    /// Touched files, in the order written.
    pub files: Vec<CheckpointFile>,
}

/// What a session changed first: the state of every file before the
/// session's first write to it, and the git state at its first write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionBaseline {
    /// Git state at the first write (absent outside git repositories).
    pub git: Option<GitSnapshot>,
    /// `(path, state before the session first touched it)`, sorted by path.
    pub files: Vec<(String, StoredState)>,
}

/// Persistent state of suit. [`crate::SqliteStore`] is the embedded
/// implementation; a server database can implement the same trait.
///
/// Every method is one transaction. The event journal is append-only: there
/// is no method to change or delete an event.
pub trait Store: Send + Sync {
    /// Creates a session with status `running`.
    fn create_session(&self, new: &NewSession) -> Result<SessionId>;
    /// Ends a session with a final status (`done`, `failed`, ...).
    fn end_session(&self, id: SessionId, status: &str) -> Result<()>;
    /// Looks a session up.
    fn session(&self, id: SessionId) -> Result<Option<Session>>;
    /// Sessions of a repository, newest first.
    fn sessions(&self, repo_root: &str) -> Result<Vec<Session>>;

    /// Appends an event to a session's journal and returns its sequence number.
    fn append_event(
        &self,
        session: SessionId,
        kind: &str,
        payload: &serde_json::Value,
    ) -> Result<i64>;
    /// Events of a session with `seq > after_seq`, in order.
    fn events(&self, session: SessionId, after_seq: i64) -> Result<Vec<Event>>;

    /// Inserts or replaces a memory of a repository.
    fn put_memory(&self, repo: &str, memory: &Memory) -> Result<()>;
    /// Memories of a repository: pinned first, then by key.
    fn memories(&self, repo: &str) -> Result<Vec<Memory>>;
    /// Forgets a memory; returns whether it existed.
    fn forget_memory(&self, repo: &str, key: &str) -> Result<bool>;

    /// Stores bytes under their sha256 (hex) and returns the hash.
    fn put_blob(&self, bytes: &[u8]) -> Result<String>;
    /// Reads a blob, verified against its hash.
    fn blob(&self, hash: &str) -> Result<Option<Vec<u8>>>;

    /// Records a checkpoint in state `Pending`, its blobs, and the session
    /// baseline (first state of each file, git snapshot) in one transaction.
    fn record_checkpoint(&self, new: &NewCheckpoint) -> Result<Checkpoint>;
    /// Moves a checkpoint from state `from` to `to`; returns false (and
    /// changes nothing) if it was not in `from`. In the same transaction, a
    /// checkpoint owned by a session appends `checkpoint.<to>` (for example
    /// `checkpoint.applied`) to that session's journal, with the checkpoint
    /// id, previous state, description and paths as payload.
    fn set_checkpoint_state(
        &self,
        id: i64,
        from: CheckpointState,
        to: CheckpointState,
    ) -> Result<bool>;
    /// Checkpoints of a repository, oldest first.
    fn checkpoints(&self, repo: &str) -> Result<Vec<Checkpoint>>;
    /// Whether a session already has a git baseline or any file baseline.
    fn has_baseline(&self, session: SessionId) -> Result<bool>;
    /// The starting state a session recorded, if it wrote anything.
    fn baseline(&self, session: SessionId) -> Result<Option<SessionBaseline>>;
}
