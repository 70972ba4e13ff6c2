//! The errors `ingest` can return. Each names what went wrong, where, and what to do.

use std::path::PathBuf;

/// Why an ingest could not produce a digest at all.
///
/// Problems with single files (unreadable, binary, too large) are not errors:
/// they are listed in the [`Report`](crate::Report) and in the digest itself.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The path given as input does not exist.
    #[error("{path}: no such file or directory; pass an existing directory or a git URL")]
    NotFound {
        /// The path as given.
        path: PathBuf,
    },
    /// The input path exists but could not be opened.
    #[error("{path}: cannot read: {source}")]
    Unreadable {
        /// The path as given.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// An `--include` or `--exclude` pattern is not a valid glob.
    #[error("invalid glob {pattern:?}: {message}; see `--help` for the glob syntax")]
    BadGlob {
        /// The pattern as given.
        pattern: String,
        /// What globset said about it.
        message: String,
    },
    /// The input looked like a URL but could not be understood.
    #[error("cannot understand {input:?} as a repository URL: {reason}")]
    BadUrl {
        /// The input as given.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The `git` binary is not installed or could not be started.
    #[error("cannot run git ({source}); install git to ingest a remote repository")]
    GitMissing {
        /// The error from starting the process.
        source: std::io::Error,
    },
    /// Cloning a remote repository failed.
    #[error("cannot clone {url}{}: {stderr}; check the URL, the ref and your network", .git_ref.as_ref().map(|r| format!(" at {r}")).unwrap_or_default())]
    CloneFailed {
        /// The URL that was cloned.
        url: String,
        /// The ref asked for, if any.
        git_ref: Option<String>,
        /// What git printed.
        stderr: String,
    },
    /// The subpath of a remote URL (`/tree/REF/SUBPATH`) does not exist in the clone.
    #[error("{subpath} does not exist in {url}; check the path after /tree/REF/")]
    SubpathMissing {
        /// The URL.
        url: String,
        /// The missing subpath.
        subpath: String,
    },
    /// The token budget cannot even hold the digest's header and notice.
    #[error("a token budget of {budget} is too small: the header and notice alone need {needed} tokens; raise --tokens to at least {needed}")]
    BudgetTooSmall {
        /// The budget asked for.
        budget: usize,
        /// The smallest budget that works for this input.
        needed: usize,
    },
    /// Writing the digest failed (disk full, closed pipe...).
    #[error("cannot write the digest: {0}")]
    Write(#[from] std::io::Error),
}
