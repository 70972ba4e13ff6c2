//! Agent sessions over HTTP (`suit serve`, `/v1/sessions`): what a client
//! asks to start, what it is shown of a session and of the step waiting for
//! review, and the decisions it sends back. The review page in the browser
//! and `curl` speak exactly these.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{Autonomy, Outcome};

/// `POST /v1/sessions`: a run of the loop on a repository the server may
/// touch.
#[derive(JsonSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSession {
    /// The task, as a developer would type it.
    pub task: String,
    /// The repository's directory: inside one of the server's roots.
    pub repo: String,
    /// The slider's position at the start (default `file`: a person
    /// approves every hunk).
    #[serde(default = "default_autonomy")]
    pub autonomy: Autonomy,
    /// Check commands (tests, build), run in the repository at `auto`.
    #[serde(default)]
    pub checks: Vec<String>,
    /// Files in play (relative to the repository); empty: suit chooses.
    #[serde(default)]
    pub files: Vec<String>,
    /// Most steps (default: the server's).
    #[serde(default)]
    pub max_steps: Option<u32>,
    /// Most seconds of wall time (default: the server's).
    #[serde(default)]
    pub max_wall_secs: Option<u64>,
}

fn default_autonomy() -> Autonomy {
    Autonomy::File
}

/// Where a session is.
#[derive(JsonSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    /// The loop is working (asking the model, checking, writing).
    Running,
    /// A step waits for a person's decisions on its hunks.
    Review,
    /// The run ended (its outcome says how).
    Finished,
}

/// A session as clients see it (`GET /v1/sessions/{id}`).
#[derive(JsonSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionView {
    /// The session's id.
    pub id: String,
    /// The task.
    pub task: String,
    /// The repository (as the server resolved it).
    pub repo: String,
    /// The slider's position for the next step.
    pub autonomy: Autonomy,
    /// Where the session is.
    pub state: SessionState,
    /// How the run ended, once it has.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// Events so far (the next event's id in the stream).
    pub events: u64,
    /// The step waiting for review, in state `review`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review: Option<PendingReview>,
    /// Milliseconds since the Unix epoch when it started.
    pub started_ms: u64,
}

/// A proposed step waiting for a person: nothing of it is on disk yet.
#[derive(JsonSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingReview {
    /// The step number.
    pub step: u32,
    /// Why the policy gate sent it to a person, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub escalation: Option<String>,
    /// The files it changes, each with its hunks.
    pub files: Vec<ReviewFile>,
}

/// One file of a pending step.
#[derive(JsonSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewFile {
    /// Path relative to the repository.
    pub path: String,
    /// `created`, `modified` or `deleted`.
    pub status: String,
    /// Its hunks, in file order.
    pub hunks: Vec<ReviewHunk>,
}

/// One hunk of a pending step, with the decision taken on it so far.
#[derive(JsonSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewHunk {
    /// Its id in decisions (unique within the session).
    pub id: String,
    /// The unified-diff text of the hunk (`@@` header, context, `-`, `+`).
    pub text: String,
    /// Lines added.
    pub added: usize,
    /// Lines removed.
    pub removed: usize,
    /// The decision taken, if one was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
}

/// A person's decision on a hunk.
#[derive(JsonSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Write it.
    Accept,
    /// Leave it out.
    Reject,
}

/// `POST /v1/sessions/{id}/review`: decisions on hunks of the pending step.
/// Once every hunk has one, the accepted hunks are written; when none is,
/// the step is rejected and `note` goes to the model.
#[derive(JsonSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewDecisions {
    /// Decisions, by hunk id; each hunk is decided once.
    pub hunks: Vec<HunkDecision>,
    /// A note for the model about what to do differently.
    #[serde(default)]
    pub note: Option<String>,
}

/// A decision on one hunk.
#[derive(JsonSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HunkDecision {
    /// The hunk's id.
    pub id: String,
    /// Accept or reject.
    pub verdict: Verdict,
}

/// `POST /v1/sessions/{id}/autonomy`: the slider's position from the next
/// step on.
#[derive(JsonSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetAutonomy {
    /// The new position.
    pub autonomy: Autonomy,
}

/// `POST /v1/sessions/{id}/undo`: restore the bytes before the repository's
/// last steps (as `suit undo N`).
#[derive(JsonSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UndoSteps {
    /// How many steps (default 1).
    #[serde(default = "one")]
    pub steps: usize,
}

fn one() -> usize {
    1
}

/// What an undo restored.
#[derive(JsonSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Undone {
    /// The checkpoints undone, newest first.
    pub checkpoints: Vec<i64>,
}
