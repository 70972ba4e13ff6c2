//! Typed errors of the store and the workspace.

use std::path::PathBuf;

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a repo-relative path was refused.
#[derive(Debug, thiserror::Error)]
pub enum PathError {
    /// The path was empty.
    #[error("empty path: name a file relative to the repository root")]
    Empty,
    /// The path was absolute.
    #[error("`{0}` is absolute: give the path relative to the repository root")]
    Absolute(String),
    /// The path used `..` to leave its directory.
    #[error("`{0}` contains `..`: paths may not climb out of the repository root")]
    ParentDir(String),
    /// The path is not valid UTF-8.
    #[error("`{0}` is not valid UTF-8: suit only edits files with UTF-8 names")]
    NotUtf8(String),
    /// The path resolves outside the repository through a symbolic link.
    #[error("`{path}` resolves to {target}, outside the repository root: suit never writes outside the repository")]
    OutsideRoot {
        /// The path as given.
        path: String,
        /// Where it resolves to.
        target: PathBuf,
    },
    /// The path itself is a symbolic link (inside the repository).
    #[error("`{path}` is a symbolic link to {target}: edit the file it points to instead")]
    Symlink {
        /// The path as given.
        path: String,
        /// The link's target.
        target: PathBuf,
    },
    /// The path is protected (version control, suit's own state, secrets).
    #[error("`{path}` is protected ({reason}): suit never writes it")]
    Protected {
        /// The path as given.
        path: String,
        /// Which rule matched.
        reason: &'static str,
    },
}

/// Errors of the store and the workspace.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database file is damaged or is not a SQLite database.
    #[error("database {path} is corrupt or not a suit database ({detail})\n  fix: move it aside (for example rename it to suit.db.bad); suit starts a fresh one")]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// What SQLite reported.
        detail: String,
    },
    /// Another process held the database lock for too long.
    #[error("database {path} stayed locked by another process for {waited_ms} ms\n  fix: close other suit processes working on this repository and retry")]
    Locked {
        /// The database file.
        path: PathBuf,
        /// How long suit waited.
        waited_ms: u64,
    },
    /// The database was written by a newer suit.
    #[error("database {path} has schema version {found}, newer than this suit understands (up to {supported})\n  fix: upgrade suit, or use another database path")]
    NewerSchema {
        /// The database file.
        path: PathBuf,
        /// Version found in the file.
        found: i64,
        /// Newest version this build knows.
        supported: i64,
    },
    /// Any other SQLite failure.
    #[error("database {path}: {cause}")]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// The underlying error.
        cause: rusqlite::Error,
    },
    /// A file system operation failed.
    #[error("{op} {path}: {cause}")]
    Io {
        /// What suit was doing (`read`, `write`, `remove`, ...).
        op: &'static str,
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        cause: std::io::Error,
    },
    /// A path was refused.
    #[error(transparent)]
    Path(#[from] PathError),
    /// The file on disk is not what the step expected; nothing was written.
    #[error("{path} changed on disk since the step was proposed (expected {expected}, found {found}); nothing was written\n  fix: re-read the file and propose the step again")]
    Conflict {
        /// Repo-relative path.
        path: String,
        /// What the step expected (`absent` or a size and hash prefix).
        expected: String,
        /// What is on disk.
        found: String,
    },
    /// Undo refused: a file was changed after the step.
    #[error("cannot undo step {step}: {path} was changed after that step (now {found}); nothing was undone\n  fix: save or commit your change and retry, or force the undo (your current bytes are then kept in the store)")]
    UndoConflict {
        /// The step that could not be undone.
        step: i64,
        /// Repo-relative path of the changed file.
        path: String,
        /// What is on disk.
        found: String,
    },
    /// Fewer applied steps exist than were asked to undo.
    #[error("asked to undo {requested} step(s) but only {available} applied step(s) exist in this repository")]
    NothingToUndo {
        /// Steps asked for.
        requested: usize,
        /// Applied steps available.
        available: usize,
    },
    /// The step itself is malformed.
    #[error("invalid step: {0}")]
    InvalidStep(String),
    /// Writing a step failed part-way; the files already written were restored.
    #[error(
        "step {step} failed while writing {path} and was rolled back (no file changed): {cause}"
    )]
    RolledBack {
        /// The checkpoint id.
        step: i64,
        /// The file being written when it failed.
        path: String,
        /// The cause.
        cause: Box<Error>,
    },
    /// A stored blob is missing or does not match its hash.
    #[error(
        "blob {hash} is missing or damaged in {path}; the checkpoint cannot be restored from it"
    )]
    MissingBlob {
        /// The blob's sha256.
        hash: String,
        /// The database file or repository it was looked up for.
        path: PathBuf,
    },
    /// `suit keys add` with a name an active key already has.
    #[error("an API key named `{name}` already exists in {path}\n  fix: pick another name, or remove the old key first (`suit keys rm {name}`)")]
    KeyExists {
        /// The name asked for.
        name: String,
        /// The key store.
        path: PathBuf,
    },
    /// No active key has this name.
    #[error("no API key named `{name}` in {path}; {}\n  fix: use one of the names `suit keys list` shows", existing_keys(existing))]
    KeyNotFound {
        /// The name asked for.
        name: String,
        /// The names of the active keys.
        existing: Vec<String>,
        /// The key store.
        path: PathBuf,
    },
    /// A key name that is empty, too long or has characters other than
    /// letters, digits, `-`, `_` and `.`.
    #[error("invalid API key name `{name}`: {reason}\n  fix: use 1 to 64 letters, digits, `-`, `_` or `.` (for example `ci-bot`)")]
    InvalidKeyName {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A key limit that is zero, negative or not a number.
    #[error("invalid API key limit {limit} = {value}: {reason}\n  fix: give a positive number, or leave the limit out for none")]
    InvalidKeyLimit {
        /// `max_tokens`, `max_cost` or `rpm`.
        limit: &'static str,
        /// The value as given.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The operating system gave no random bytes for a new key's secret.
    #[error("cannot make a secret for the new API key: the operating system's random source failed ({0})\n  fix: retry; if it keeps failing, check that /dev/urandom (or the platform's equivalent) is available")]
    Random(String),
}

/// "the keys are: a, b", or that there are none.
fn existing_keys(names: &[String]) -> String {
    if names.is_empty() {
        "there are no keys (add one with `suit keys add NAME`)".to_string()
    } else {
        format!("the keys are: {}", names.join(", "))
    }
}

impl Error {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { op, path: path.into(), cause: source }
    }
}
