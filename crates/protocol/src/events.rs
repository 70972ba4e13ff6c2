//! What a run reports, defined once: the terminal view, `--json` (one JSON
//! object per line), the session journal and the server's event stream all
//! carry these events.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{Autonomy, CheckOutcome, LeashStop};

/// One event of a run.
#[derive(JsonSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The run began.
    RunStarted {
        /// The task as the user stated it.
        task: String,
        /// The slider's position at the start.
        autonomy: Autonomy,
        /// The model role chain or backend serving the run.
        model: String,
    },
    /// A step began.
    StepStarted {
        /// 1-based step number.
        step: u32,
        /// The slider's position for this step (it may change between steps).
        autonomy: Autonomy,
    },
    /// What went into the model's context window for this step.
    ContextSummary {
        /// Step number.
        step: u32,
        /// Each piece with where it came from.
        segments: Vec<SegmentSummary>,
        /// Tokens used of the budget.
        tokens: u64,
        /// The budget.
        budget: u64,
    },
    /// A piece of the model's reply, as it is generated (the whole reply
    /// follows in `proposal`). Sent to the sink only, not journalled.
    ReplyDelta {
        /// Step number.
        step: u32,
        /// The new text.
        text: String,
    },
    /// A reply of the model for this step (one per candidate).
    Proposal {
        /// Step number.
        step: u32,
        /// The edit format it was asked for.
        format: String,
        /// The raw reply.
        text: String,
        /// Which candidate of the try it is (0: the first, greedy one).
        #[serde(default)]
        candidate: u32,
    },
    /// A reply that could not be applied; it goes back to the model.
    EditFailed {
        /// Step number.
        step: u32,
        /// What was wrong, as told to the model.
        reason: String,
        /// How many times this step has gone back to the model.
        reflection: u32,
        /// Which candidate of the try it was.
        #[serde(default)]
        candidate: u32,
    },
    /// A candidate edit was checked in a scratch copy of the workspace
    /// (the real files are untouched until one is chosen).
    CandidateChecked {
        /// Step number.
        step: u32,
        /// Which candidate.
        candidate: u32,
        /// Whether every check passed.
        passed: bool,
        /// Failing tests, when the output was understood.
        #[serde(skip_serializing_if = "Option::is_none")]
        failing: Option<usize>,
        /// Added plus removed lines.
        changed_lines: usize,
    },
    /// A step was not kept, and the next one asks differently.
    StrategyChanged {
        /// The step that was not kept.
        step: u32,
        /// The strategy of the next step.
        strategy: String,
        /// Why the step was not kept.
        reason: String,
    },
    /// The change a proposal makes.
    Diff {
        /// Step number.
        step: u32,
        /// Per file.
        files: Vec<FileSummary>,
        /// Unified diff of the whole step.
        diff: String,
        /// Added plus removed lines.
        changed_lines: usize,
        /// The candidate it comes from.
        #[serde(default)]
        candidate: u32,
        /// Whether it passed the checks in a scratch copy.
        #[serde(default)]
        verified: bool,
    },
    /// Who decided about a step, and what.
    Approval {
        /// Step number.
        step: u32,
        /// The decision.
        decision: Decision,
        /// Who made it.
        by: Approver,
    },
    /// A step was written to disk as a checkpoint (`suit undo` restores it).
    Applied {
        /// Step number.
        step: u32,
        /// The checkpoint's id.
        checkpoint: i64,
    },
    /// A check ran after a step.
    CheckResult {
        /// Step number.
        step: u32,
        /// Its outcome.
        outcome: CheckOutcome,
    },
    /// An applied step was undone because it broke the checks.
    RolledBack {
        /// Step number.
        step: u32,
        /// Why.
        reason: String,
    },
    /// Model use of a step.
    Usage {
        /// Step number.
        step: u32,
        /// Prompt tokens.
        prompt_tokens: u64,
        /// Prompt tokens served from a cache.
        cached_tokens: u64,
        /// Generated tokens.
        completion_tokens: u64,
        /// Cost in USD.
        cost_usd: f64,
    },
    /// The run ended.
    Finished {
        /// How.
        outcome: Outcome,
        /// Steps taken.
        steps: u32,
        /// Steps applied (and kept).
        applied: u32,
        /// One-line summary for people.
        summary: String,
        /// Total tokens.
        tokens: u64,
        /// Total cost in USD.
        cost_usd: f64,
        /// Wall time.
        seconds: f64,
        /// The limit that stopped the run, if one did.
        #[serde(skip_serializing_if = "Option::is_none")]
        stop: Option<LeashStop>,
    },
}

/// One piece of context, as reported (not its text).
#[derive(JsonSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentSummary {
    /// Where it came from (`user`, `system`, `memory`, `repo:src/x.rs`, ...).
    pub source: String,
    /// Whether it is trusted (from the user or suit itself).
    pub trusted: bool,
    /// Its size in tokens.
    pub tokens: u64,
    /// Whether it was shortened to fit.
    pub shortened: bool,
}

/// One file of a step.
#[derive(JsonSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSummary {
    /// Path relative to the repository root.
    pub path: String,
    /// `created`, `modified` or `deleted`.
    pub status: String,
    /// Lines added.
    pub added: usize,
    /// Lines removed.
    pub removed: usize,
}

/// A decision about a step.
#[derive(JsonSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Applied as proposed.
    Accepted,
    /// Applied in part: these hunks (0-based) were kept.
    Partial {
        /// Kept hunks.
        hunks: Vec<usize>,
    },
    /// Edited by the person before applying.
    Edited,
    /// Not applied.
    Rejected,
    /// Sent to a person by the policy gate, whatever the slider said.
    Escalated {
        /// Why.
        reason: String,
    },
    /// The person ended the run.
    Quit,
}

/// Who decided.
#[derive(JsonSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Approver {
    /// A person, in the terminal or the review GUI.
    Person,
    /// The project's checks, at `auto`.
    Checks,
    /// The deterministic policy gate.
    Policy,
}

/// How a run ended. Each outcome has its own exit code.
#[derive(JsonSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The task is done (and the checks pass, where there are checks).
    Done,
    /// The run ended with the checks failing.
    ChecksFailing,
    /// A limit of the leash stopped the run.
    BudgetExhausted,
    /// The person refused the proposals or quit.
    Refused,
    /// Something else went wrong (the error is in the summary).
    Failed,
}

impl Outcome {
    /// The process exit code for this outcome: 0 done, 1 failed, 2 checks
    /// failing, 3 budget exhausted, 4 refused.
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Done => 0,
            Outcome::Failed => 1,
            Outcome::ChecksFailing => 2,
            Outcome::BudgetExhausted => 3,
            Outcome::Refused => 4,
        }
    }
}

/// An event with the time it happened, as written to JSONL.
#[derive(JsonSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stamped {
    /// Milliseconds since the Unix epoch.
    pub ts_ms: u64,
    /// The event.
    #[serde(flatten)]
    pub event: Event,
}
