//! The outcome of a check (a test or build command) as runs report it.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How a check ended.
#[derive(JsonSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum CheckStatus {
    /// Exit code 0.
    Passed,
    /// A non-zero exit code (or a signal, as `None`).
    Failed {
        /// The exit code, if the process exited normally.
        code: Option<i32>,
    },
    /// Killed at the timeout.
    TimedOut,
    /// Stopped by a limit of its sandbox: too much output, CPU time or
    /// file size.
    Stopped {
        /// Which limit, worded for a person.
        reason: String,
    },
    /// The command could not be started.
    NotStarted {
        /// Why.
        reason: String,
    },
}

impl std::fmt::Display for CheckStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CheckStatus::Passed => write!(f, "passed"),
            CheckStatus::Failed { code: Some(code) } => write!(f, "failed with exit code {code}"),
            CheckStatus::Failed { code: None } => write!(f, "killed by a signal"),
            CheckStatus::TimedOut => write!(f, "timed out"),
            CheckStatus::Stopped { reason } => write!(f, "stopped: {reason}"),
            CheckStatus::NotStarted { reason } => write!(f, "could not start: {reason}"),
        }
    }
}

/// The result of one check.
#[derive(JsonSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckOutcome {
    /// The command line.
    pub command: String,
    /// How it ended.
    pub status: CheckStatus,
    /// Combined stdout and stderr: its error lines and its end, at most
    /// about 400 lines and 64 KiB (see [`trim_output`]).
    pub output: String,
    /// Wall time.
    pub duration: Duration,
    /// Whether it ran in the full sandbox: no network, files confined
    /// (writes only in the repository and its temporary directory, home
    /// secrets unreadable), environment filtered.
    pub isolated: bool,
}

impl CheckOutcome {
    /// Whether the check passed.
    pub fn passed(&self) -> bool {
        self.status == CheckStatus::Passed
    }
}
