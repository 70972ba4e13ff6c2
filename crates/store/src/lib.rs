//! Persistent state for suit (the "disk"), and checkpointed file changes.
//!
//! - [`Store`]: sessions, an append-only event journal, memories that
//!   outlive sessions, content-addressed blobs and checkpoints, behind one
//!   trait; [`SqliteStore`] implements it on a SQLite file (WAL mode,
//!   versioned schema), by default at `<repo>/.suit/suit.db`.
//! - [`Workspace`]: applies a [`Step`] (a set of file changes) as one
//!   checkpoint, written atomically; nothing is ever left half-written, and
//!   [`Workspace::undo`] restores the exact previous bytes.
//! - [`write_atomic`] and [`remove_file`]: crash-safe single-file writes.
//! - [`ApiKeys`]: the named API keys of `suit serve`, stored as SHA-256
//!   hashes, with their limits and usage (a user-level database, not a
//!   repository's).
//!
//! ```
//! use std::sync::Arc;
//! use suit_store::{FileChange, SqliteStore, Step, Workspace};
//!
//! # fn main() -> Result<(), suit_store::Error> {
//! # let dir = tempfile::tempdir().unwrap();
//! # let repo = dir.path();
//! std::fs::write(repo.join("a.txt"), "old\n").unwrap();
//! let store = Arc::new(SqliteStore::open(&SqliteStore::default_path(repo))?);
//! let ws = Workspace::open(repo, store)?;
//! ws.apply(&Step {
//!     session: None,
//!     description: "rewrite a.txt".into(),
//!     changes: vec![FileChange::modify("a.txt", "old\n", "new\n")],
//! })?;
//! assert_eq!(ws.log(None)?[0].files[0].added, 1);
//! ws.undo(1, false)?;
//! assert_eq!(std::fs::read(repo.join("a.txt")).unwrap(), b"old\n");
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod error;
mod fsutil;
mod keys;
mod paths;
mod sqlite;
mod store;
mod workspace;

pub use error::{Error, PathError, Result};
pub use fsutil::{is_special, remove_file, write_atomic};
pub use keys::{ApiKey, ApiKeys, KeyLimits, KeyUsage, Quota, Secret, KEY_PREFIX};
pub use paths::check_relative_path;
pub use sqlite::{SqliteStore, SCHEMA_VERSION};
pub use store::{
    Checkpoint, CheckpointFile, CheckpointState, Event, FileState, GitSnapshot, Memory,
    NewCheckpoint, NewCheckpointFile, NewSession, Session, SessionBaseline, SessionId, Store,
    StoredState,
};
pub use workspace::{
    ChangeKind, FileChange, FileDiff, Recovery, Step, StepLog, UndoReport, Workspace,
};
