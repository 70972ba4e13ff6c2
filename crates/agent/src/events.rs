//! What a run reports, defined once: the terminal view, `--json` (one JSON
//! object per line) and the server's event stream all carry these events.

use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::{Autonomy, CheckOutcome, LeashStop};

/// One event of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stamped {
    /// Milliseconds since the Unix epoch.
    pub ts_ms: u64,
    /// The event.
    #[serde(flatten)]
    pub event: Event,
}

/// Where a run sends its events.
pub trait EventSink: Send {
    /// Receives one event.
    fn emit(&mut self, event: &Event);
}

/// Writes one JSON object per line, flushed after each, so a reader sees
/// events as they happen.
pub struct JsonlSink<W: Write + Send> {
    out: W,
    deltas: bool,
}

impl<W: Write + Send> JsonlSink<W> {
    /// Writes every event to `out`.
    pub fn new(out: W) -> Self {
        Self { out, deltas: true }
    }

    /// Leaves out `reply_delta` events: for a record of the run rather than
    /// a live view (each reply is still written whole, as `proposal`).
    pub fn without_reply_deltas(mut self) -> Self {
        self.deltas = false;
        self
    }
}

impl<W: Write + Send> EventSink for JsonlSink<W> {
    fn emit(&mut self, event: &Event) {
        if !self.deltas && matches!(event, Event::ReplyDelta { .. }) {
            return;
        }
        let ts_ms =
            SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_millis()
                as u64;
        let stamped = Stamped { ts_ms, event: event.clone() };
        if let Ok(line) = serde_json::to_string(&stamped) {
            let _ = writeln!(self.out, "{line}");
            let _ = self.out.flush();
        }
    }
}

/// Keeps events in memory (for tests and the server).
#[derive(Debug, Default)]
pub struct MemorySink {
    /// The events, in order.
    pub events: Vec<Event>,
}

impl EventSink for MemorySink {
    fn emit(&mut self, event: &Event) {
        self.events.push(event.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CheckStatus, Outcome};

    fn samples() -> Vec<Event> {
        vec![
            Event::RunStarted {
                task: "fix".into(),
                autonomy: Autonomy::Auto,
                model: "local".into(),
            },
            Event::StepStarted { step: 1, autonomy: Autonomy::Repo },
            Event::ContextSummary {
                step: 1,
                segments: vec![SegmentSummary {
                    source: "repo:src/lib.rs".into(),
                    trusted: false,
                    tokens: 120,
                    shortened: false,
                }],
                tokens: 120,
                budget: 4096,
            },
            Event::ReplyDelta { step: 1, text: "Plan: ".into() },
            Event::Proposal {
                step: 1,
                format: "search_replace".into(),
                text: "...".into(),
                candidate: 1,
            },
            Event::EditFailed { step: 1, reason: "no match".into(), reflection: 1, candidate: 2 },
            Event::CandidateChecked {
                step: 1,
                candidate: 0,
                passed: false,
                failing: Some(2),
                changed_lines: 4,
            },
            Event::StrategyChanged {
                step: 1,
                strategy: "other edit format".into(),
                reason: "2 tests still failed".into(),
            },
            Event::Diff {
                step: 1,
                files: vec![FileSummary {
                    path: "src/lib.rs".into(),
                    status: "modified".into(),
                    added: 1,
                    removed: 1,
                }],
                diff: "-a\n+b\n".into(),
                changed_lines: 2,
                candidate: 0,
                verified: true,
            },
            Event::Approval {
                step: 1,
                decision: Decision::Partial { hunks: vec![0] },
                by: Approver::Person,
            },
            Event::Applied { step: 1, checkpoint: 7 },
            Event::CheckResult {
                step: 1,
                outcome: CheckOutcome {
                    command: "cargo test".into(),
                    status: CheckStatus::Failed { code: Some(101) },
                    output: "1 failed".into(),
                    duration: Duration::from_millis(1500),
                    isolated: true,
                },
            },
            Event::RolledBack { step: 1, reason: "checks failed".into() },
            Event::Usage {
                step: 1,
                prompt_tokens: 900,
                cached_tokens: 800,
                completion_tokens: 40,
                cost_usd: 0.0,
            },
            Event::Finished {
                outcome: Outcome::BudgetExhausted,
                steps: 3,
                applied: 1,
                summary: "stopped".into(),
                tokens: 3000,
                cost_usd: 0.0,
                seconds: 12.5,
                stop: Some(LeashStop::Steps { steps: 3, max: 3 }),
            },
        ]
    }

    #[test]
    fn every_event_is_one_json_line_that_round_trips() {
        let mut buffer = Vec::new();
        {
            let mut sink = JsonlSink::new(&mut buffer);
            for event in samples() {
                sink.emit(&event);
            }
        }
        let text = String::from_utf8(buffer).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), samples().len());
        for (line, event) in lines.iter().zip(samples()) {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            assert!(value["ts_ms"].as_u64().unwrap() > 1_600_000_000_000);
            assert!(value["event"].is_string(), "{line}");
            let back: Stamped = serde_json::from_str(line).unwrap();
            assert_eq!(back.event, event);
        }
    }

    #[test]
    fn the_schema_uses_stable_names() {
        let names: Vec<String> = samples()
            .iter()
            .map(|e| serde_json::to_value(e).unwrap()["event"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "run_started",
                "step_started",
                "context_summary",
                "reply_delta",
                "proposal",
                "edit_failed",
                "candidate_checked",
                "strategy_changed",
                "diff",
                "approval",
                "applied",
                "check_result",
                "rolled_back",
                "usage",
                "finished"
            ]
        );
        let finished = serde_json::to_value(samples().last().unwrap()).unwrap();
        assert_eq!(finished["outcome"], "budget_exhausted");
        assert_eq!(finished["stop"]["limit"], "steps");
    }

    #[test]
    fn outcomes_have_distinct_exit_codes() {
        let all = [
            Outcome::Done,
            Outcome::Failed,
            Outcome::ChecksFailing,
            Outcome::BudgetExhausted,
            Outcome::Refused,
        ];
        let mut codes: Vec<u8> = all.iter().map(|o| o.exit_code()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
        assert_eq!(Outcome::Done.exit_code(), 0);
    }
}
