//! The loop, in named stages: each step plans its files, **proposes**
//! several candidate edits (decoded together), **chooses** one by checking
//! each in a scratch copy, has it **reviewed** where the slider or the gate
//! says so, **applies** it as a checkpoint and **verifies** it with the
//! project's checks. A step that is not kept moves the run to its next
//! [`Strategy`], so no retry repeats the request before it.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use suit_context::{
    agents_chain, assemble, is_test_path, rank_files, repo_map, Segment, Shrink, Source,
};
use suit_edit::{EditError, EditFormat, FileChange, Target};
use suit_model::{
    ChatRequest, Completion, Constraint, FinishReason, Message, Meter, Model, ModelError, Sampling,
};
use suit_store::{Step, Workspace};

use crate::fragment::{self, WholeReply};
use crate::prompts::{self, FocusReason, PLAN_PREFIX, PLAN_REPLY_MAX_CHARS};
use crate::sandbox::Consent;
use crate::scratch::Scratch;
use crate::strategy::Strategy;
use crate::testout::{parse_test_output, TestReport};
use crate::{
    run_check, trim_output, Approver, Autonomy, Check, CheckOutcome, CheckStatus, Decision, Event,
    EventSink, FileSummary, Leash, LeashStop, Outcome, Policy, SegmentSummary, Tally, Verdict,
};

/// Lines of unparsed check output kept for the model (the end matters most).
const CHECK_OUTPUT_LINES: usize = 60;

/// Temperature added at each reflection on an unusable reply.
const REFLECTION_HEAT: f32 = 0.4;

/// The hottest a candidate is sampled.
const MAX_TEMPERATURE: f32 = 1.5;

/// The temperature of a candidate sampled in place of one that brought
/// nothing to check.
const REFILL_TEMPERATURE: f32 = 0.8;

/// Failing tests described to the model in detail.
const FEEDBACK_FAILURES: usize = 3;

/// Runs started by this process: part of each run's model session key, so
/// concurrent runs never share a KV-cache session.
static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Lines shown on each side of a region being edited.
const REGION_CONTEXT_LINES: usize = 40;

/// Tokens allowed per line of a change, for a reply's limit.
const LINE_TOKENS: usize = 12;

/// Tokens allowed for the plan line, for a reply's limit.
const PLAN_TOKENS: usize = 64;

/// Most lines a narrowed step grows to when it takes in the helpers the
/// function under test calls.
const NARROW_MAX_LINES: usize = 50;

/// Files suit picks by itself when the user names none.
const MAX_PICKED_FILES: usize = 3;

/// Test files shown read-only beside the files in play.
const MAX_TEST_FILES: usize = 2;

/// What to do and how.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The task as the user stated it.
    pub task: String,
    /// The slider's position at the start.
    pub autonomy: Autonomy,
    /// Files (or line ranges) the user named; empty: suit picks them.
    pub files: Vec<Target>,
    /// The project's checks (`cargo test`, `pytest -q`).
    pub checks: Vec<Check>,
    /// Step size and budgets.
    pub leash: Leash,
    /// Whether the model is small (about 2B parameters or less): it then
    /// rewrites larger targets whole instead of writing SEARCH/REPLACE blocks.
    pub small_model: bool,
    /// Constrain decoding with a grammar (the embedded model and llama.cpp
    /// servers), so every reply is a well-formed edit.
    pub constrain: bool,
    /// Tokens the prompt may use (context window minus the reply's room).
    pub context_budget: usize,
    /// Most tokens of one reply.
    pub max_output_tokens: u32,
    /// The directory the user works in (for the `AGENTS.md` chain).
    pub cwd: PathBuf,
    /// The model's name, for the run's first event.
    pub model_name: String,
    /// Candidate edits decoded together at each try when checks are
    /// configured; each is checked in a scratch copy and the best is kept.
    /// 1 asks for one reply (greedy at the first try).
    pub candidates: usize,
    /// Base seed of the sampled candidates (the same seed repeats a run).
    pub seed: u32,
}

impl RunConfig {
    /// Candidates per try when checks can verify them.
    pub const DEFAULT_CANDIDATES: usize = 4;

    /// Most tokens of one reply by default.
    pub const DEFAULT_MAX_OUTPUT_TOKENS: u32 = 2048;

    /// A run of `model_name`, whose context window holds `window` tokens,
    /// with replies of at most `max_output_tokens`: at `file` with the
    /// default leash and candidates, and no task, files or checks yet. A
    /// `small` model (about 2B parameters or less, the embedded ones)
    /// rewrites whole files under a grammar.
    pub fn for_model(
        model_name: impl Into<String>,
        window: usize,
        small: bool,
        max_output_tokens: u32,
    ) -> Self {
        RunConfig {
            task: String::new(),
            autonomy: Autonomy::File,
            files: Vec::new(),
            checks: Vec::new(),
            leash: Leash::default(),
            small_model: small,
            constrain: small,
            // The reply's room and the system prompt's.
            context_budget: window.saturating_sub(max_output_tokens as usize + 600).max(1024),
            max_output_tokens,
            cwd: PathBuf::from("."),
            model_name: model_name.into(),
            candidates: Self::DEFAULT_CANDIDATES,
            seed: 0,
        }
    }
}

/// A person's (or a reviewer program's) verdict on a proposed step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Review {
    /// Apply these final contents (`None` deletes), as `decision` says
    /// (accepted, partly accepted, edited).
    Apply {
        /// Path and final content of each file to write.
        files: Vec<(String, Option<String>)>,
        /// How the person decided.
        decision: Decision,
    },
    /// Do not apply; tell the model why, if the person said.
    Reject {
        /// The person's note for the model.
        feedback: Option<String>,
    },
    /// End the run.
    Quit,
}

/// Who verifies steps that need a person: the terminal's per-hunk review,
/// the browser GUI, or a test's script.
pub trait Reviewer: Send {
    /// Reviews a proposed step. `escalation` is set when the policy gate sent
    /// it to a person whatever the slider says.
    fn review(
        &mut self,
        step: u32,
        autonomy: Autonomy,
        changes: &[FileChange],
        escalation: Option<&str>,
    ) -> Review;

    /// The slider's position for the next step (a person may move it
    /// between steps). The default keeps it.
    fn autonomy(&mut self, current: Autonomy) -> Autonomy {
        current
    }
}

/// A reviewer for runs without a person: it refuses everything it is
/// asked about (at `auto` it is asked only about escalated steps).
#[derive(Debug, Default)]
pub struct NoPerson;

impl Reviewer for NoPerson {
    fn review(&mut self, _: u32, _: Autonomy, _: &[FileChange], e: Option<&str>) -> Review {
        Review::Reject {
            feedback: Some(match e {
                Some(reason) => format!("no person is present to approve this: {reason}"),
                None => "no person is present to approve this step".into(),
            }),
        }
    }
}

/// What a run did, also reported as the `finished` event.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    /// How it ended.
    pub outcome: Outcome,
    /// Steps taken.
    pub steps: u32,
    /// Steps applied and kept.
    pub applied: u32,
    /// One line for people.
    pub summary: String,
    /// Tokens used (prompt + completion).
    pub tokens: u64,
    /// Tries: requests for candidates (each may decode several), including
    /// reflections on unusable replies.
    pub calls: u32,
    /// Replies received (every candidate of every try).
    pub replies: u32,
    /// Replies that were well-formed, applicable, new edits.
    pub applicable: u32,
    /// Changed lines of each applied step.
    pub step_lines: Vec<usize>,
    /// Whether the first candidate of the first try (the greedy one) passed
    /// the checks: what a loop without verified candidates and retries
    /// would have achieved. `None` when no check judged it.
    pub first_candidate_passed: Option<bool>,
    /// The strategies the run tried, in order.
    pub strategies: Vec<String>,
}

/// A refusal before any work starts: bad flags, files that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RunError(pub String);

/// The files a step works on and how it asks for the change.
#[derive(Debug, Clone)]
struct Plan {
    /// Files the model may change (with their line range at `edit`, or the
    /// function a narrowed step changes).
    targets: Vec<Target>,
    /// Test files shown read-only.
    tests: Vec<String>,
    format: EditFormat,
    /// Every file of the repository (listed once per step).
    files: Vec<String>,
    strategy: Strategy,
    /// What the step is narrowed to, told to the model with the task.
    focus: Option<String>,
    /// Whether the step implements a stub: it is kept when it breaks no
    /// test, even if it fixes none yet.
    stub: bool,
    /// Most tokens of a reply to this step (see [`Loop::reply_tokens`]).
    reply_tokens: u32,
    /// The function a narrowed step rewrites; its reply holds that function
    /// alone, spliced into the file by name.
    function: Option<Narrowed>,
}

/// The function (with the helpers it calls) that a narrowed step rewrites.
#[derive(Debug, Clone)]
struct Narrowed {
    /// How the model is told of it: "`median` (and `sorted`, which it calls)".
    name: String,
    /// The lines it spans in its file (1-based, inclusive).
    lines: (usize, usize),
}

impl Plan {
    /// The reply format's name in events.
    fn format_name(&self) -> &'static str {
        if self.function.is_some() {
            "function"
        } else {
            format_name(self.format)
        }
    }
}

/// Checks what the run is asked to do before anything is written: the
/// level, the named files (inside the repository, not protected, existing
/// unless the level lets suit create files), and the checks.
pub fn validate(config: &RunConfig, ws: &Workspace) -> Result<(), RunError> {
    if config.task.trim().is_empty() {
        return Err(RunError("the task is empty\n  fix: say what to do, e.g. suit run \"make the failing test pass\"".into()));
    }
    if config.candidates == 0 {
        return Err(RunError(
            "candidates must be at least 1\n  fix: --candidates 1 asks for one reply per try"
                .into(),
        ));
    }
    match config.autonomy {
        Autonomy::Tab => {
            return Err(RunError(
                "at `tab` suit only completes code at a cursor\n  fix: use `suit complete FILE:LINE:COL`, or raise the level with --autonomy edit|file|repo|auto".into(),
            ))
        }
        Autonomy::Edit if config.files.len() != 1 || config.files[0].lines.is_none() => {
            return Err(RunError(
                "at `edit` suit changes one named region\n  fix: name it with --file PATH:START-END (1-based lines), or use --autonomy file".into(),
            ));
        }
        Autonomy::File if config.files.len() > 1 => {
            return Err(RunError(format!(
                "at `file` suit changes one file, but {} were named\n  fix: name one, or use --autonomy repo",
                config.files.len()
            )))
        }
        _ => {}
    }
    let unsandboxed = config.checks.iter().all(|c| c.sandbox.unsandboxed);
    let missing = crate::sandbox::protections().missing();
    if let Consent::Refused(why) =
        crate::sandbox::consent(config.autonomy, &missing, unsandboxed || config.checks.is_empty())
    {
        return Err(RunError(why));
    }
    for target in &config.files {
        crate::check_path(&target.path)
            .map_err(|e| RunError(format!("cannot use --file {}: {e}", target.path)))?;
        let content = ws
            .read(&target.path)
            .map_err(|e| RunError(format!("cannot read --file {}: {e}", target.path)))?;
        let Some(bytes) = content else {
            if config.autonomy.many_files() && target.lines.is_none() {
                continue; // suit may create it
            }
            return Err(RunError(format!(
                "--file {} does not exist in {}\n  fix: check the path (it is relative to the repository root)",
                target.path,
                ws.root().display()
            )));
        };
        let text = String::from_utf8(bytes).map_err(|_| {
            RunError(format!(
                "--file {} is not UTF-8 text; suit edits text files only",
                target.path
            ))
        })?;
        if let Some((start, end)) = target.lines {
            let lines = text.lines().count();
            if start == 0 || start > end || end > lines {
                return Err(RunError(format!(
                    "--file {}:{start}-{end} is not a range of its {lines} lines\n  fix: use 1-based START-END with START <= END <= {lines}",
                    target.path
                )));
            }
        }
    }
    Ok(())
}

/// Runs a task to its end and reports every event to `sink`.
///
/// Errors of the model (an outage with no failover left) end the run with
/// [`Outcome::Failed`]; nothing is ever half-applied: every step goes
/// through [`Workspace::apply`], and a step that breaks the checks at `auto`
/// is undone byte for byte.
pub async fn run(
    config: &RunConfig,
    model: &dyn Model,
    meter: Option<&Meter>,
    ws: &Workspace,
    reviewer: &mut dyn Reviewer,
    sink: &mut dyn EventSink,
) -> Result<RunSummary, RunError> {
    validate(config, ws)?;
    let mut run = Loop {
        config,
        model,
        meter,
        ws,
        tally: Tally::new(config.leash.clone()),
        autonomy: config.autonomy,
        started: Instant::now(),
        tokens: 0,
        calls: 0,
        replies: 0,
        applicable: 0,
        applied: 0,
        step_lines: Vec::new(),
        last_checks: Vec::new(),
        check_took: vec![None; config.checks.len()],
        report: None,
        notes: Vec::new(),
        session: None,
        untrusted: Vec::new(),
        session_key: format!(
            "run-{}-{}-{}",
            std::process::id(),
            now_ms(),
            RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ),
        strategy: 0,
        strategies: vec![Strategy::LADDER[0].name()],
        checked_in_step: 0,
        scratch: None,
        first_candidate_passed: None,
        repair_base: None,
        repairing: None,
        checked_early: HashMap::new(),
    };
    run.session = ws
        .store()
        .create_session(&suit_store::NewSession {
            task: config.task.clone(),
            repo_root: ws.repo_key().to_string(),
            autonomy: config.autonomy.as_str().into(),
        })
        .ok();
    let mut journal = Journal { sink, ws, session: run.session };
    journal.emit(Event::RunStarted {
        task: config.task.clone(),
        autonomy: config.autonomy,
        model: config.model_name.clone(),
    });
    let (outcome, summary, stop) = run.drive(reviewer, &mut journal).await;
    let result = RunSummary {
        outcome,
        steps: run.tally.steps(),
        applied: run.applied,
        summary: summary.clone(),
        tokens: run.tokens,
        calls: run.calls,
        replies: run.replies,
        applicable: run.applicable,
        step_lines: run.step_lines.clone(),
        first_candidate_passed: run.first_candidate_passed,
        strategies: run.strategies.iter().map(|s| s.to_string()).collect(),
    };
    journal.emit(Event::Finished {
        outcome,
        steps: result.steps,
        applied: result.applied,
        summary,
        tokens: run.tokens,
        cost_usd: run.cost(),
        seconds: run.started.elapsed().as_secs_f64(),
        stop,
    });
    if let Some(id) = run.session {
        let status = serde_json::to_value(outcome).ok().and_then(|v| v.as_str().map(String::from));
        let _ = ws.store().end_session(id, status.as_deref().unwrap_or("failed"));
    }
    Ok(result)
}

/// Sends events to the caller's sink and to the session's journal in the store.
struct Journal<'a> {
    sink: &'a mut dyn EventSink,
    ws: &'a Workspace,
    session: Option<i64>,
}

impl Journal<'_> {
    fn emit(&mut self, event: Event) {
        if let Event::ReplyDelta { .. } = event {
            // The whole reply is journalled once, as the proposal.
            self.sink.emit(&event);
            return;
        }
        if let (Some(id), Ok(payload)) = (self.session, serde_json::to_value(&event)) {
            let kind = payload.get("event").and_then(|k| k.as_str()).unwrap_or("event").to_string();
            let _ = self.ws.store().append_event(id, &kind, &payload);
        }
        self.sink.emit(&event);
    }
}

struct Loop<'a> {
    config: &'a RunConfig,
    model: &'a dyn Model,
    meter: Option<&'a Meter>,
    ws: &'a Workspace,
    tally: Tally,
    autonomy: Autonomy,
    started: Instant,
    tokens: u64,
    calls: u32,
    replies: u32,
    applicable: u32,
    applied: u32,
    step_lines: Vec<usize>,
    last_checks: Vec<CheckOutcome>,
    /// The longest each check has taken so far without timing out: a
    /// candidate's check that takes many times longer is stopped early (a
    /// change that makes the tests hang should not cost the whole timeout).
    check_took: Vec<Option<Duration>>,
    /// The failing checks' output, parsed (when a parser knows the runner).
    report: Option<TestReport>,
    /// What happened in earlier steps, for the model (rejections, tries).
    notes: Vec<String>,
    session: Option<i64>,
    session_key: String,
    /// The untrusted pieces of the current step's context: (source, text).
    untrusted: Vec<(String, String)>,
    /// Index into [`Strategy::LADDER`] of the way the next step asks.
    strategy: usize,
    /// Names of the strategies used so far, in order.
    strategies: Vec<&'static str>,
    /// Candidates checked in the current step: hotter sampling is tried
    /// again (with fresh seeds) while it still brings new candidates.
    checked_in_step: usize,
    /// Where candidates are checked (made at the first need).
    scratch: Option<Scratch>,
    first_candidate_passed: Option<bool>,
    /// The closest candidate of the last try not kept, for a repair.
    repair_base: Option<RepairBase>,
    /// Set while a repair step runs: the files it changed read as it left
    /// them, and its failures are the ones the model is shown.
    repairing: Option<RepairBase>,
    /// Candidates of the current try checked while the others were still
    /// being decoded, by change key: not checked again when choosing.
    checked_early: HashMap<String, Checked>,
}

/// A candidate the scratch checks rejected, kept to be repaired (see
/// [`Strategy::Repair`]).
#[derive(Debug, Clone)]
struct RepairBase {
    step: u32,
    plan: String,
    /// What its checks found, in a sentence.
    result: String,
    changes: Vec<FileChange>,
    outcomes: Vec<CheckOutcome>,
}

/// A candidate that parsed, applied in memory and passed the gate.
struct Proposal {
    /// Which reply of its try it was (0: the first, greedy one).
    candidate: u32,
    /// The plan line.
    plan: String,
    changes: Vec<FileChange>,
    escalation: Option<String>,
    /// Identifies the change it makes (paths and new contents).
    key: String,
    lines: usize,
}

/// What checking a candidate in the scratch copy found.
struct Checked {
    passed: bool,
    /// Failing tests (`usize::MAX` for a build or import error); `None`
    /// when the output was not understood.
    failing: Option<usize>,
    outcomes: Vec<CheckOutcome>,
    report: Option<TestReport>,
}

enum Proposed {
    Candidates(Vec<Proposal>),
    /// The model says the task is complete.
    Done,
    /// No usable, new edit within the reflections.
    Unusable(String),
    Stop(LeashStop),
    ModelError(String),
}

type End = (Outcome, String, Option<LeashStop>);

/// Path and final content (`None`: deleted) of each file a step writes.
type DecidedFiles = Vec<(String, Option<String>)>;

/// How a reply that changes nothing is told so.
const NO_CHANGE: &str = "the edit changes nothing.";

/// How a reply that makes a change already tried is told so.
const REPEATED: &str = "it repeats a change that already failed.";

/// A candidate's check may take this many times the longest the check has
/// taken before it is stopped ...
const SLOW_CHECK_FACTOR: u32 = 10;
/// ... but never less than this.
const MIN_CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// Remembers how long a check took, unless it timed out.
fn note_duration(took: &mut Option<Duration>, outcome: &CheckOutcome) {
    if outcome.status != CheckStatus::TimedOut {
        *took = Some(took.map_or(outcome.duration, |t| t.max(outcome.duration)));
    }
}

/// How a step ended.
enum StepResult {
    /// The run is over.
    End(End),
    /// The step's change was kept: the next step starts afresh.
    Kept,
    /// Nothing was kept, for this reason: the next step asks differently.
    NotKept(String),
}

impl Loop<'_> {
    fn cost(&self) -> f64 {
        self.meter.map_or(0.0, |m| m.snapshot().total.cost_usd)
    }

    /// Checks are commands: only `auto` runs them in the repository.
    fn runs_checks(&self) -> bool {
        !self.config.checks.is_empty() && self.autonomy.runs_commands()
    }

    /// Whether candidates are checked in a scratch copy before one is
    /// chosen: whenever checks are configured (at levels below `auto` they
    /// run only there, never on the real files).
    fn verifies(&self) -> bool {
        !self.config.checks.is_empty()
    }

    async fn drive(&mut self, reviewer: &mut dyn Reviewer, journal: &mut Journal<'_>) -> End {
        if self.runs_checks() {
            let all_pass = self.run_checks(0, journal).await;
            if all_pass {
                self.notes.push("The checks pass before any change.".into());
            }
        }
        loop {
            self.autonomy = reviewer.autonomy(self.autonomy);
            if let Err(stop) = self.tally.begin_step(self.tokens, self.cost()) {
                return self.stop(stop);
            }
            let step = self.tally.steps();
            journal.emit(Event::StepStarted { step, autonomy: self.autonomy });
            let strategy = Strategy::LADDER[self.strategy];
            self.repairing =
                if strategy == Strategy::Repair { self.repair_base.take() } else { None };
            let plan = match self.plan(strategy) {
                Ok(plan) => plan,
                Err(reason) => return (Outcome::Failed, reason, None),
            };
            self.checked_in_step = 0;
            let result = self.step(step, &plan, reviewer, journal).await;
            self.repairing = None;
            match result {
                StepResult::End(end) => return end,
                StepResult::Kept => {
                    self.strategy = 0;
                    self.repair_base = None;
                }
                StepResult::NotKept(reason) => {
                    if let Some(end) = self.next_strategy(step, &plan, &reason, journal) {
                        return end;
                    }
                }
            }
        }
    }

    /// One step through the stages.
    async fn step(
        &mut self,
        step: u32,
        plan: &Plan,
        reviewer: &mut dyn Reviewer,
        journal: &mut Journal<'_>,
    ) -> StepResult {
        let candidates = match self.propose(step, plan, journal).await {
            Proposed::Candidates(c) => c,
            Proposed::Done => return StepResult::End(self.finish_done()),
            Proposed::Stop(stop) => return StepResult::End(self.stop(stop)),
            Proposed::ModelError(e) => {
                return StepResult::End((Outcome::Failed, format!("the model failed: {e}"), None))
            }
            Proposed::Unusable(reason) => {
                if !self.autonomy.many_steps() {
                    return StepResult::End((
                        Outcome::Failed,
                        format!("no usable edit: {reason}"),
                        None,
                    ));
                }
                self.notes.push(format!("Step {step} produced no usable edit: {reason}"));
                return StepResult::NotKept(format!("no usable edit: {reason}"));
            }
        };
        let (proposal, checked) = self.choose(step, plan, candidates, journal).await;
        if let Some(checked) = &checked {
            // At `auto`, a change the scratch checks already reject (and
            // that is no progress) never reaches the real files.
            let alone = self.autonomy.applies_alone() && proposal.escalation.is_none();
            if alone && !checked.passed && !self.progress(checked.failing, plan.stub) {
                let result = describe_failure(checked);
                self.notes.push(prompts::tried(step, &proposal.plan, &result));
                self.repair_base = Some(RepairBase {
                    step,
                    plan: proposal.plan.clone(),
                    result: result.clone(),
                    changes: proposal.changes.clone(),
                    outcomes: checked.outcomes.clone(),
                });
                return StepResult::NotKept(result);
            }
        }
        journal.emit(Event::Diff {
            step,
            files: proposal.changes.iter().map(summary_of).collect(),
            diff: proposal.changes.iter().map(|c| c.diff(3).unified()).collect(),
            changed_lines: proposal.lines,
            candidate: proposal.candidate,
            verified: checked.as_ref().is_some_and(|c| c.passed),
        });
        let (files, decision) = match self.review(step, &proposal, reviewer, journal) {
            Ok(decided) => decided,
            Err(result) => return result,
        };
        let applied_lines = match self.apply(step, &proposal, &files, journal) {
            Ok(lines) => lines,
            Err(result) => return result,
        };
        self.verify(step, plan, &proposal, applied_lines, decision, journal).await
    }

    /// Moves to the next strategy that applies after a step that was not
    /// kept; the run stops when none is left.
    fn next_strategy(
        &mut self,
        step: u32,
        plan: &Plan,
        reason: &str,
        journal: &mut Journal<'_>,
    ) -> Option<End> {
        // Sampling hot with fresh seeds is pass@k: worth its budget while
        // it brings candidates that are new and well-formed.
        if Strategy::LADDER[self.strategy] == Strategy::Hotter && self.checked_in_step > 0 {
            journal.emit(Event::StrategyChanged {
                step,
                strategy: Strategy::Hotter.name().into(),
                reason: format!("{reason} (again, with fresh seeds)"),
            });
            return None;
        }
        loop {
            self.strategy += 1;
            let Some(&next) = Strategy::LADDER.get(self.strategy) else {
                let reason =
                    format!("tried {}; the last try: {reason}", self.strategies.join(", "));
                return Some(self.stop(LeashStop::Repeated { reason }));
            };
            let applies = match next {
                // Not for a region (a stub, a range the user named); the
                // step before may have been narrowed, so ask the plan anew.
                Strategy::OtherFormat => self
                    .plan(next)
                    .is_ok_and(|p| p.format != EditFormat::Region && p.function.is_none()),
                Strategy::Narrow => !plan.stub && self.function_under_test(plan).is_some(),
                Strategy::Repair => self.repair_base.is_some(),
                _ => true,
            };
            if applies {
                self.strategies.push(next.name());
                journal.emit(Event::StrategyChanged {
                    step,
                    strategy: next.name().into(),
                    reason: reason.to_string(),
                });
                return None;
            }
        }
    }

    /// Whether a change that leaves `failing` tests failing moves the run
    /// forward from the files as they are now.
    fn progress(&self, failing: Option<usize>, stub: bool) -> bool {
        progress(self.report.as_ref().map(TestReport::failing), failing, stub)
    }

    /// Asks the model for candidate edits, sending unusable replies back up
    /// to the leash's number of reflections.
    async fn propose(&mut self, step: u32, plan: &Plan, journal: &mut Journal<'_>) -> Proposed {
        let (context, segments, tokens) = self.context(plan).await;
        journal.emit(Event::ContextSummary {
            step,
            segments,
            tokens,
            budget: self.config.context_budget as u64,
        });
        let allow_done = self.autonomy.many_steps() && self.applied > 0;
        let mut messages = vec![
            Message::system(prompts::system(
                plan.format,
                &plan.targets,
                plan.function.as_ref().map(|f| f.name.as_str()),
                allow_done,
            )),
            Message::user(context),
        ];
        let constraint =
            self.config.constrain.then(|| Constraint::Grammar(self.grammar(plan, allow_done)));
        let n = if self.verifies() { self.config.candidates } else { 1 };
        let mut reason = String::from("no reply");
        for reflection in 0..=self.config.leash.max_reflections {
            if let Err(stop) = self.tally.check(self.tokens, self.cost()) {
                return Proposed::Stop(stop);
            }
            // Each reflection samples hotter than the last: a greedy reply
            // told it changed nothing would only repeat itself.
            let heat = REFLECTION_HEAT * reflection as f32;
            let left = self.tally.wall_left();
            let asked = self.ask(step, &messages, &constraint, plan, heat, n, journal);
            let replies = match tokio::time::timeout(left, asked).await {
                Ok(Ok(r)) => r,
                Ok(Err(e)) => return Proposed::ModelError(e.to_string()),
                Err(_) => {
                    let secs = self.tally.leash().max_wall.as_secs();
                    return Proposed::Stop(LeashStop::Wall { secs });
                }
            };
            let mut usable = Vec::new();
            let mut seen = HashSet::new();
            let mut first_error = None;
            // Replies that parsed and applied but changed nothing new.
            let mut stale = 0;
            for (i, reply) in replies.iter().enumerate() {
                let candidate = i as u32;
                journal.emit(Event::Proposal {
                    step,
                    format: plan.format_name().into(),
                    text: reply.text.clone(),
                    candidate,
                });
                if allow_done && reply.text.trim() == "DONE" {
                    if i == 0 {
                        return Proposed::Done;
                    }
                    continue;
                }
                let error = match self.check_reply(plan, &reply.text, reply.finish_reason) {
                    Ok(mut proposal) => {
                        proposal.candidate = candidate;
                        if self.tally.failed_before(&proposal.key) {
                            stale += 1;
                            format!("{REPEATED} Make a different change.")
                        } else if !seen.insert(proposal.key.clone()) {
                            continue; // the same change as an earlier candidate
                        } else {
                            usable.push(proposal);
                            continue;
                        }
                    }
                    Err(message) => {
                        stale += usize::from(
                            message.starts_with(NO_CHANGE) || message.starts_with(REPEATED),
                        );
                        message
                    }
                };
                if step == 1 && i == 0 && reflection == 0 {
                    self.first_candidate_passed = Some(false);
                }
                journal.emit(Event::EditFailed {
                    step,
                    reason: error.clone(),
                    reflection,
                    candidate,
                });
                first_error.get_or_insert((i, error));
            }
            self.applicable += usable.len() as u32;
            if !usable.is_empty() {
                return Proposed::Candidates(usable);
            }
            let Some((i, error)) = first_error else { break };
            reason = error.lines().next().unwrap_or_default().to_string();
            // Several candidates that all changed nothing new: told so, they
            // answer the same way again (the eval saw four unchanged files
            // answered by four more); the next strategy asks differently.
            if replies.len() > 1 && stale == replies.len() {
                break;
            }
            messages.push(Message::assistant(replies[i].text.clone()));
            messages.push(Message::user(prompts::unusable(&error)));
        }
        Proposed::Unusable(reason)
    }

    /// One try: `n` replies to the same messages, decoded together, each
    /// sampled its own way (the first greedy unless the strategy samples
    /// hot), `heat` added to every temperature. The first candidate's reply
    /// streams to the sink. With several candidates checked, a reply that
    /// brings nothing to check (it changes nothing, repeats a change, or
    /// cannot be used) is replaced by a fresh sampled one, up to `n` more.
    #[allow(clippy::too_many_arguments)]
    async fn ask(
        &mut self,
        step: u32,
        messages: &[Message],
        constraint: &Option<Constraint>,
        plan: &Plan,
        heat: f32,
        n: usize,
        journal: &mut Journal<'_>,
    ) -> Result<Vec<Completion>, ModelError> {
        let cost_before = self.cost();
        self.checked_early.clear();
        let seed = self.config.seed.wrapping_add(self.calls.wrapping_mul(101));
        let session_key = self.session_key.clone();
        let request = |i: usize, temperature: f32| {
            let temperature = (temperature + heat).min(MAX_TEMPERATURE);
            ChatRequest {
                messages: messages.to_vec(),
                sampling: Sampling {
                    max_tokens: plan.reply_tokens,
                    temperature,
                    top_p: if temperature > 0.0 { 0.95 } else { 1.0 },
                    seed: seed.wrapping_add(i as u32),
                    ..Sampling::default()
                },
                constraint: constraint.clone(),
                session: Some(if i == 0 {
                    session_key.clone()
                } else {
                    format!("{session_key}/{i}")
                }),
                ..ChatRequest::default()
            }
        };
        let requests: Vec<ChatRequest> =
            (0..n).map(|i| request(i, plan.strategy.temperature(i))).collect();
        // Sent together, so the backend can decode them together.
        let started = futures::future::join_all(requests.into_iter().map(|r| self.model.chat(r)));
        let mut streams = Vec::with_capacity(n);
        let mut error = None;
        for result in started.await {
            match result {
                Ok(stream) => streams.push(stream),
                Err(e) => error = Some(e),
            }
        }
        if streams.is_empty() {
            return Err(error.expect("n >= 1 requests were sent"));
        }
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut pending: futures::stream::FuturesUnordered<_> = streams
            .into_iter()
            .enumerate()
            .map(|(i, s)| collect_reply(i, s, (i == 0).then(|| tx.clone())))
            .collect();
        drop(tx);
        // With several candidates, each is checked as soon as it is whole;
        // one that passes ends the try, and the others' decoding stops. The
        // first try waits for its greedy candidate, whose result the run
        // reports on its own.
        let early = n > 1 && self.verifies();
        let mut results = Vec::with_capacity(n);
        let mut passed = false;
        let mut keys = HashSet::new();
        let mut next = n;
        loop {
            tokio::select! {
                Some(text) = rx.recv() => journal.emit(Event::ReplyDelta { step, text }),
                done = futures::StreamExt::next(&mut pending) => {
                    let Some((i, result)) = done else { break };
                    if early && !passed {
                        if let Ok(reply) = &result {
                            match self.triage(plan, reply, &mut keys) {
                                Some(proposal) => passed = self.check_early(plan, proposal).await,
                                None if next < 2 * n => {
                                    // Sampled warm: the greedy and coolest
                                    // candidates are the ones that change
                                    // nothing or repeat themselves.
                                    let refill = request(next, REFILL_TEMPERATURE);
                                    if let Ok(s) = self.model.chat(refill).await {
                                        pending.push(collect_reply(next, s, None));
                                    }
                                    next += 1;
                                }
                                None => {}
                            }
                        }
                    }
                    results.push((i, result));
                    let greedy_known = step > 1 || results.iter().any(|(j, _)| *j == 0);
                    if passed && greedy_known {
                        break;
                    }
                }
            }
        }
        self.calls += 1;
        while let Ok(text) = rx.try_recv() {
            journal.emit(Event::ReplyDelta { step, text });
        }
        drop(pending);
        results.sort_by_key(|(i, _)| *i);
        let mut replies = Vec::new();
        for (_, result) in results {
            match result {
                Ok(reply) => replies.push(reply),
                Err(e) => error = Some(e),
            }
        }
        if replies.is_empty() {
            return Err(error.unwrap_or(ModelError::Protocol {
                backend: self.model.name().into(),
                reason: "no reply".into(),
            }));
        }
        self.replies += replies.len() as u32;
        let (mut prompt, mut cached, mut completion) = (0, 0, 0);
        for reply in &replies {
            prompt += reply.usage.prompt_tokens;
            cached += reply.usage.cached_tokens;
            completion += reply.usage.completion_tokens;
        }
        self.tokens += prompt + completion;
        journal.emit(Event::Usage {
            step,
            prompt_tokens: prompt,
            cached_tokens: cached,
            completion_tokens: completion,
            cost_usd: self.cost() - cost_before,
        });
        Ok(replies)
    }

    /// A finished reply of a try, as a proposal worth checking: `None`
    /// when it cannot be used, changes nothing, repeats a change that
    /// failed or one of this try's (`keys`).
    fn triage(
        &self,
        plan: &Plan,
        reply: &Completion,
        keys: &mut HashSet<String>,
    ) -> Option<Proposal> {
        let proposal = self.check_reply(plan, &reply.text, reply.finish_reason).ok()?;
        let new = !self.tally.failed_before(&proposal.key) && keys.insert(proposal.key.clone());
        new.then_some(proposal)
    }

    /// Checks a candidate of a try still being decoded; whether it passes.
    /// The result is kept for [`Loop::choose`].
    async fn check_early(&mut self, plan: &Plan, proposal: Proposal) -> bool {
        if !self.ensure_scratch() {
            return false;
        }
        let Some(checked) = self.check_candidate(plan, &proposal).await else { return false };
        let passed = checked.passed;
        self.checked_early.insert(proposal.key, checked);
        passed
    }

    /// Makes the scratch copy candidates are checked in, once; whether
    /// there is one (the notes say why not).
    fn ensure_scratch(&mut self) -> bool {
        if self.scratch.is_none() {
            match Scratch::new() {
                Ok(s) => self.scratch = Some(s),
                Err(e) => {
                    self.notes.push(format!(
                        "Candidates could not be checked: cannot make a scratch copy: {e}"
                    ));
                    return false;
                }
            }
        }
        true
    }

    /// Picks the candidate to go on with. With checks configured, each is
    /// checked in the scratch copy: the first (greedy) one, then the others
    /// from the smallest change up, until one passes; else the one with
    /// the fewest failing tests, then the smallest change.
    async fn choose(
        &mut self,
        step: u32,
        plan: &Plan,
        mut candidates: Vec<Proposal>,
        journal: &mut Journal<'_>,
    ) -> (Proposal, Option<Checked>) {
        candidates.sort_by_key(|p| (p.candidate != 0, p.lines, p.candidate));
        if !self.verifies() {
            return (candidates.swap_remove(0), None);
        }
        if !self.ensure_scratch() {
            return (candidates.swap_remove(0), None);
        }
        let mut best: Option<(Proposal, Checked)> = None;
        let mut unchecked = Vec::new();
        for proposal in candidates {
            if self.tally.check(self.tokens, self.cost()).is_err() && best.is_some() {
                break;
            }
            let checked = match self.checked_early.remove(&proposal.key) {
                Some(checked) => checked,
                None => match self.check_candidate(plan, &proposal).await {
                    Some(checked) => checked,
                    None => {
                        unchecked.push(proposal);
                        continue;
                    }
                },
            };
            self.checked_in_step += 1;
            journal.emit(Event::CandidateChecked {
                step,
                candidate: proposal.candidate,
                passed: checked.passed,
                failing: checked.failing.filter(|&n| n != usize::MAX),
                changed_lines: proposal.lines,
            });
            if step == 1 && proposal.candidate == 0 && self.first_candidate_passed.is_none() {
                self.first_candidate_passed = Some(checked.passed);
            }
            if !checked.passed {
                self.tally.record_failure(&proposal.key);
            }
            let better = match &best {
                None => true,
                Some((b, c)) => {
                    (!checked.passed, checked.failing.unwrap_or(usize::MAX), proposal.lines)
                        < (!c.passed, c.failing.unwrap_or(usize::MAX), b.lines)
                }
            };
            let passed = checked.passed;
            if better {
                best = Some((proposal, checked));
            }
            if passed {
                break;
            }
        }
        match best {
            Some((proposal, checked)) => (proposal, Some(checked)),
            // The scratch copy failed (said in the notes): unverified.
            None => (unchecked.swap_remove(0), None),
        }
    }

    /// Runs the checks on the scratch copy holding `proposal`'s change.
    async fn check_candidate(&mut self, plan: &Plan, proposal: &Proposal) -> Option<Checked> {
        let scratch = self.scratch.as_mut()?;
        if let Err(e) = scratch.prepare(self.ws.root(), &plan.files, &proposal.changes) {
            self.notes
                .push(format!("Candidates could not be checked: the scratch copy failed: {e}"));
            return None;
        }
        let mut outcomes = Vec::new();
        for (i, check) in self.config.checks.iter().enumerate() {
            let mut check = check.clone();
            if let Some(took) = self.check_took[i] {
                check.timeout =
                    check.timeout.min((took * SLOW_CHECK_FACTOR).max(MIN_CHECK_TIMEOUT));
            }
            let mut outcome = run_check(&check, scratch.root()).await;
            outcome.output = scratch.relative(&outcome.output);
            note_duration(&mut self.check_took[i], &outcome);
            outcomes.push(outcome);
        }
        let passed = outcomes.iter().all(CheckOutcome::passed);
        let report = failing_report(&outcomes);
        let failing = if passed {
            Some(0)
        } else {
            report.as_ref().map(|r| r.failing_since(self.report.as_ref()))
        };
        Some(Checked { passed, failing, outcomes, report })
    }

    /// Verification by a person, where the slider or the gate says so.
    /// `Err` ends or skips the step.
    fn review(
        &mut self,
        step: u32,
        proposal: &Proposal,
        reviewer: &mut dyn Reviewer,
        journal: &mut Journal<'_>,
    ) -> Result<(DecidedFiles, Decision), StepResult> {
        let needs_person = !self.autonomy.applies_alone() || proposal.escalation.is_some();
        if !needs_person {
            let files = proposal
                .changes
                .iter()
                .map(|c| (c.path().to_string(), c.after().map(String::from)))
                .collect();
            return Ok((files, Decision::Accepted));
        }
        if let Some(reason) = &proposal.escalation {
            journal.emit(Event::Approval {
                step,
                decision: Decision::Escalated { reason: reason.clone() },
                by: Approver::Policy,
            });
        }
        match reviewer.review(
            step,
            self.autonomy,
            &proposal.changes,
            proposal.escalation.as_deref(),
        ) {
            Review::Apply { files, decision } => {
                journal.emit(Event::Approval {
                    step,
                    decision: decision.clone(),
                    by: Approver::Person,
                });
                Ok((files, decision))
            }
            Review::Reject { feedback } => {
                journal.emit(Event::Approval {
                    step,
                    decision: Decision::Rejected,
                    by: Approver::Person,
                });
                if !self.autonomy.many_steps() {
                    return Err(StepResult::End((
                        Outcome::Refused,
                        "the change was rejected".into(),
                        None,
                    )));
                }
                self.notes.push(match feedback {
                    Some(f) => format!("The person rejected step {step}'s change: {f}"),
                    None => format!("The person rejected step {step}'s change."),
                });
                self.tally.record_failure(&proposal.key);
                Err(StepResult::NotKept("the person rejected the change".into()))
            }
            Review::Quit => {
                journal.emit(Event::Approval {
                    step,
                    decision: Decision::Quit,
                    by: Approver::Person,
                });
                Err(StepResult::End((Outcome::Refused, "stopped by the person".into(), None)))
            }
        }
    }

    /// Writes the decided contents as one checkpoint; returns its changed
    /// lines. `Err` ends or skips the step.
    fn apply(
        &mut self,
        step: u32,
        proposal: &Proposal,
        files: &[(String, Option<String>)],
        journal: &mut Journal<'_>,
    ) -> Result<usize, StepResult> {
        let changes = match self.store_changes(&proposal.changes, files) {
            Ok(c) if c.is_empty() => {
                self.notes
                    .push(format!("Step {step} was accepted with no hunks: nothing changed."));
                if !self.autonomy.many_steps() {
                    return Err(StepResult::End((
                        Outcome::Refused,
                        "no hunk was accepted".into(),
                        None,
                    )));
                }
                return Err(StepResult::NotKept("no hunk was accepted".into()));
            }
            Ok(c) => c,
            Err(e) => return Err(StepResult::End((Outcome::Failed, e, None))),
        };
        let applied_lines = lines_of(&changes);
        let description = format!("step {step}: {}", first_line(&self.config.task));
        match self.ws.apply(&Step { session: self.session, description, changes }) {
            Ok(checkpoint) => {
                journal.emit(Event::Applied { step, checkpoint: checkpoint.id });
                Ok(applied_lines)
            }
            Err(e) => Err(StepResult::End((
                Outcome::Failed,
                format!("could not apply step {step}: {e}"),
                None,
            ))),
        }
    }

    /// Runs the checks on the real files after a step (at `auto`): keeps a
    /// step that passes them or moves the run forward, rolls back one that
    /// does not.
    async fn verify(
        &mut self,
        step: u32,
        plan: &Plan,
        proposal: &Proposal,
        applied_lines: usize,
        decision: Decision,
        journal: &mut Journal<'_>,
    ) -> StepResult {
        if !self.runs_checks() {
            self.applied += 1;
            self.step_lines.push(applied_lines);
            if self.autonomy.applies_alone() {
                journal.emit(Event::Approval { step, decision, by: Approver::Policy });
            }
            if !self.autonomy.many_steps() {
                return StepResult::End((
                    Outcome::Done,
                    format!("applied {applied_lines} changed lines"),
                    None,
                ));
            }
            self.notes.push(format!("Step {step} was applied ({applied_lines} changed lines)."));
            return StepResult::Kept;
        }
        let before = (self.last_checks.clone(), self.report.clone());
        let failing_before = self.report.as_ref().map(TestReport::failing);
        if self.run_checks(step, journal).await {
            self.applied += 1;
            self.step_lines.push(applied_lines);
            if self.autonomy.applies_alone() {
                journal.emit(Event::Approval { step, decision, by: Approver::Checks });
            }
            return StepResult::End(self.finish_done());
        }
        let failing_now = self.report.as_ref().map(|r| r.failing_since(before.1.as_ref()));
        let failed: Vec<&str> =
            self.last_checks.iter().filter(|c| !c.passed()).map(|c| c.command.as_str()).collect();
        let reason = format!("`{}` failed", failed.join("`, `"));
        if !self.autonomy.applies_alone() {
            self.applied += 1;
            self.step_lines.push(applied_lines);
            self.notes.push(format!("Step {step} was applied, but {reason}."));
            return StepResult::Kept;
        }
        if progress(failing_before, failing_now, plan.stub) {
            self.applied += 1;
            self.step_lines.push(applied_lines);
            journal.emit(Event::Approval { step, decision, by: Approver::Checks });
            self.notes.push(format!(
                "Step {step} was kept ({}): {} tests failed before it, {} after.",
                proposal.plan.trim_end_matches('.'),
                failing_before.unwrap_or_default(),
                failing_now.unwrap_or_default()
            ));
            return StepResult::Kept;
        }
        match self.ws.undo(1, false) {
            Ok(_) => journal.emit(Event::RolledBack { step, reason: reason.clone() }),
            Err(e) => {
                return StepResult::End((
                    Outcome::Failed,
                    format!("step {step} broke the checks and could not be undone: {e}"),
                    None,
                ))
            }
        }
        // The files are as they were before the step again, so the model
        // sees the checks' output for them; what the rolled back change
        // broke goes into the notes, briefly.
        let result = describe_failure(&Checked {
            passed: false,
            failing: failing_now,
            outcomes: self.last_checks.clone(),
            report: self.report.clone(),
        });
        (self.last_checks, self.report) = before;
        self.tally.record_failure(&proposal.key);
        self.notes.push(prompts::tried(
            step,
            &proposal.plan,
            &format!("it was rolled back because {reason}: {result}"),
        ));
        StepResult::NotKept(reason)
    }

    fn finish_done(&self) -> End {
        let checks = if self.config.checks.is_empty() || !self.runs_checks() {
            String::new()
        } else if self.last_checks.iter().all(|c| c.passed()) {
            ", checks pass".into()
        } else {
            return (Outcome::ChecksFailing, "the model finished but the checks fail".into(), None);
        };
        let steps = if self.applied == 1 { "1 step" } else { &format!("{} steps", self.applied) };
        (Outcome::Done, format!("{steps} applied{checks}"), None)
    }

    fn stop(&self, stop: LeashStop) -> End {
        let outcome = match stop {
            LeashStop::Repeated { .. }
                if self.runs_checks() && !self.last_checks.iter().all(|c| c.passed()) =>
            {
                Outcome::ChecksFailing
            }
            _ => Outcome::BudgetExhausted,
        };
        (outcome, stop.to_string(), Some(stop))
    }

    /// Runs the configured checks in the repository; records their outcome.
    async fn run_checks(&mut self, step: u32, journal: &mut Journal<'_>) -> bool {
        let mut outcomes = Vec::new();
        for (i, check) in self.config.checks.iter().enumerate() {
            let outcome = run_check(check, self.ws.root()).await;
            note_duration(&mut self.check_took[i], &outcome);
            journal.emit(Event::CheckResult { step, outcome: outcome.clone() });
            outcomes.push(outcome);
        }
        self.report = failing_report(&outcomes);
        self.last_checks = outcomes;
        self.last_checks.iter().all(|c| c.passed())
    }

    /// Decides which files the step works on, in which format, and what it
    /// is narrowed to.
    fn plan(&self, strategy: Strategy) -> Result<Plan, String> {
        let hints = self.check_output();
        let listed =
            suit_ingest::list_files(self.ws.root(), &suit_ingest::IngestOptions::default())
                .map_err(|e| format!("cannot list the repository's files: {e}"))?;
        let ranked = rank_files(&listed, &self.config.task, &hints, &[]);
        let mut targets = self.config.files.clone();
        if targets.is_empty() {
            let limit = if self.autonomy.many_files() { MAX_PICKED_FILES } else { 1 };
            let sources: Vec<&str> = ranked
                .iter()
                .map(|r| r.path.as_str())
                .filter(|p| !is_test_path(p) && suit_ingest::outline_supported(p))
                .collect();
            let scored: Vec<&str> = ranked
                .iter()
                .filter(|r| r.score > 0.0 && sources.contains(&r.path.as_str()))
                .map(|r| r.path.as_str())
                .take(limit)
                .collect();
            let picked =
                if scored.is_empty() { sources.into_iter().take(limit).collect() } else { scored };
            targets = picked.into_iter().map(Target::file).collect();
            if targets.is_empty() {
                return Err(
                    "found no source file to work on\n  fix: name one with --file PATH".into()
                );
            }
        }
        let tests: Vec<String> = ranked
            .iter()
            .filter(|r| {
                is_test_path(&r.path) && r.score >= 5.0 && !targets.iter().any(|t| t.path == r.path)
            })
            .map(|r| r.path.clone())
            .take(MAX_TEST_FILES)
            .collect();
        let mut plan = Plan {
            targets,
            tests,
            format: EditFormat::WholeFile,
            files: listed,
            strategy,
            focus: None,
            stub: false,
            reply_tokens: self.config.max_output_tokens,
            function: None,
        };
        // A module of stubs is written one function per step; a narrowed
        // retry changes only the function a failing test calls.
        let user_region = plan.targets.iter().any(|t| t.lines.is_some());
        let narrowed = if user_region {
            None
        } else if let Some((path, mut f)) = self.first_stub(&plan) {
            plan.stub = true;
            f.name = format!("`{}`", f.name);
            Some((path, f, FocusReason::Stub))
        } else if strategy == Strategy::Narrow {
            self.function_under_test(&plan)
                .map(|(path, f, test)| (path, f, FocusReason::UnderTest(test)))
        } else {
            None
        };
        // The model writes the function alone, spliced in by name: asked for
        // a line range, it wrote other lines, or numbered the whole file.
        if let Some((path, f, why)) = narrowed {
            plan.focus = Some(prompts::focus(&f.name, &path, &why));
            plan.function = Some(Narrowed { name: f.name.clone(), lines: (f.start, f.end) });
            plan.targets = vec![Target::file(path)];
        }
        plan.format = match plan.targets.as_slice() {
            _ if plan.function.is_some() => EditFormat::WholeFile,
            [t] if t.lines.is_some() => EditFormat::Region,
            _ => {
                let longest = plan
                    .targets
                    .iter()
                    .map(|t| self.read_text(&t.path).map_or(0, |s| s.lines().count()))
                    .max()
                    .unwrap_or(0);
                strategy.format(suit_edit::choose_format(longest, self.config.small_model))
            }
        };
        plan.reply_tokens = self.reply_tokens(&plan);
        if let Some(base) = &self.repairing {
            let files: Vec<&str> = base.changes.iter().map(FileChange::path).collect();
            plan.focus = Some(prompts::repair(&files, base.step, &base.plan, &base.result));
        }
        if strategy == Strategy::NameTheFailure {
            if let Some(report) = &self.report {
                let named = report.render(&|p| self.read_text(p), 1);
                let first = named.lines().take(6).collect::<Vec<_>>().join("\n");
                let focus = plan.focus.take().map(|f| format!("{f}\n")).unwrap_or_default();
                plan.focus = Some(format!("{focus}Make this failing test pass first:\n{first}"));
            }
        }
        Ok(plan)
    }

    /// Most tokens of a reply to `plan`: the plan line and the edit its
    /// format asks for (the files or the region copied, plus the leash's
    /// lines), a quarter more for the model's own tokenizer, and never more
    /// than `max_output_tokens`. A candidate that rambles then ends instead
    /// of holding up the candidates decoded with it (a try lasts as long as
    /// its longest reply).
    fn reply_tokens(&self, plan: &Plan) -> u32 {
        let count = |t: &str| suit_ingest::TokenizerKind::O200k.count(t);
        let leash = self.config.leash.max_step_lines * LINE_TOKENS;
        let copied: usize = plan
            .targets
            .iter()
            .map(|t| {
                let text = self.read_text(&t.path).unwrap_or_default();
                let lines = |(s, e): (usize, usize)| {
                    count(&text.lines().skip(s - 1).take(e + 1 - s).collect::<Vec<_>>().join("\n"))
                };
                let copied = match (plan.format, t.lines, &plan.function) {
                    (EditFormat::WholeFile, _, Some(f)) => lines(f.lines),
                    (EditFormat::WholeFile, _, None) => count(&text),
                    (EditFormat::Region, Some(range), _) => lines(range),
                    _ => 0,
                };
                copied + count(&t.path) + 8
            })
            .sum();
        let edit = match plan.format {
            // The leash's lines in SEARCH and again in REPLACE, per file.
            EditFormat::SearchReplace => copied + 2 * leash * plan.targets.len(),
            _ => copied + leash,
        };
        let limit = PLAN_TOKENS + edit * 5 / 4;
        u32::try_from(limit).unwrap_or(u32::MAX).min(self.config.max_output_tokens)
    }

    /// The first function of a target file whose body is a stub, preferring
    /// one the failing checks name.
    fn first_stub(&self, plan: &Plan) -> Option<(String, suit_ingest::FunctionSpan)> {
        let output = self.check_output();
        let mut stubs = Vec::new();
        for target in &plan.targets {
            let Some(text) = self.read_text(&target.path) else { continue };
            for f in suit_ingest::functions(&target.path, &text).unwrap_or_default() {
                if is_stub(&f.body) {
                    stubs.push((target.path.clone(), f));
                }
            }
        }
        let named = stubs.iter().position(|(_, f)| output.contains(&f.name));
        let at = named.unwrap_or(0);
        (at < stubs.len()).then(|| stubs.swap_remove(at))
    }

    /// The function of a target file that the first failing test calls, and
    /// that test's name.
    fn function_under_test(
        &self,
        plan: &Plan,
    ) -> Option<(String, suit_ingest::FunctionSpan, String)> {
        let report = self.report.as_ref()?;
        for failure in &report.failures {
            let single = TestReport { failures: vec![failure.clone()], ..report.clone() };
            let shown = single.render(&|p| self.read_text(p), 1);
            for target in &plan.targets {
                let Some(text) = self.read_text(&target.path) else { continue };
                let functions = suit_ingest::functions(&target.path, &text).unwrap_or_default();
                if let Some(f) = functions.iter().find(|f| calls(&shown, &f.name)) {
                    let f = with_callees(f, &functions);
                    return Some((target.path.clone(), f, failure.name.clone()));
                }
            }
        }
        None
    }

    /// The output of the latest checks, which names the files and functions
    /// a failure involves.
    fn check_output(&self) -> String {
        self.last_checks.iter().map(|c| c.output.as_str()).collect::<Vec<_>>().join("\n")
    }

    /// A file's text as the step sees it: during a repair, as the change
    /// being repaired left it.
    fn read_text(&self, path: &str) -> Option<String> {
        let repaired =
            self.repairing.as_ref().and_then(|r| r.changes.iter().find(|c| c.path() == path));
        if let Some(change) = repaired {
            return change.after().map(str::to_string);
        }
        self.ws.read(path).ok().flatten().and_then(|b| String::from_utf8(b).ok())
    }

    /// The context window for a step, and its summary.
    async fn context(&mut self, plan: &Plan) -> (String, Vec<SegmentSummary>, u64) {
        let mut segments = agents_chain(self.ws.root(), &self.config.cwd);
        if let Ok(memories) = self.ws.store().memories(self.ws.repo_key()) {
            for m in memories {
                let seg = Segment::new(Source::Memory, format!("Remembered: {}", m.key), m.text)
                    .priority(70);
                segments.push(if m.pinned { seg.pinned() } else { seg });
            }
        }
        let hints = self.check_output();
        let focus: Vec<String> =
            plan.targets.iter().map(|t| t.path.clone()).chain(plan.tests.iter().cloned()).collect();
        if let Some(map) = repo_map(self.ws.root(), &plan.files, &self.config.task, &hints, &focus)
        {
            segments.push(map);
        }
        for path in &plan.tests {
            if let Some(text) = self.read_text(path) {
                segments.push(
                    Segment::new(
                        Source::Repo(path.clone()),
                        format!("Test file {path} (read only)"),
                        text,
                    )
                    .priority(60)
                    .shrink(Shrink::KeepHead),
                );
            }
        }
        for target in &plan.targets {
            let text = self.read_text(&target.path);
            let title = match (&text, target.lines) {
                (None, _) => format!("File {} (does not exist yet)", target.path),
                (Some(_), Some((s, e))) => {
                    format!("File {} (you change lines {s}-{e})", target.path)
                }
                (Some(_), None) => format!("File {}", target.path),
            };
            let body = match (text, target.lines) {
                (Some(t), Some((s, e))) => numbered(&t, s, e),
                (Some(t), None) => t,
                (None, _) => String::new(),
            };
            segments
                .push(Segment::new(Source::Repo(target.path.clone()), title, body).priority(95));
        }
        let checks = self.repairing.as_ref().map_or(&self.last_checks, |r| &r.outcomes);
        for check in checks.iter().filter(|c| !c.passed()) {
            let (title, text) = match parse_test_output(&check.output) {
                Some(report) => (
                    format!("Failing tests of `{}`", check.command),
                    report.render(&|p| self.read_text(p), FEEDBACK_FAILURES),
                ),
                None => (
                    format!("Output of `{}` ({})", check.command, check.status),
                    trim_output(&check.output, CHECK_OUTPUT_LINES),
                ),
            };
            segments.push(
                Segment::new(Source::Tool(check.command.clone()), title, text)
                    .priority(90)
                    .shrink(Shrink::KeepTail),
            );
        }
        if !self.notes.is_empty() {
            let recent: Vec<&str> =
                self.notes.iter().rev().take(5).rev().map(String::as_str).collect();
            segments.push(
                Segment::new(Source::System, "Earlier steps", recent.join("\n")).priority(92),
            );
        }
        segments.push(Segment::new(Source::User, "Task", self.config.task.clone()).pinned());
        if let Some(focus) = &plan.focus {
            segments.push(Segment::new(Source::System, "This step", focus.clone()).pinned());
        }

        let count = |t: &str| suit_ingest::TokenizerKind::O200k.count(t);
        let mut budget = self.config.context_budget;
        for _ in 0..3 {
            let window = match assemble(segments.clone(), budget, &count) {
                Ok(w) => w,
                Err(e) => {
                    return (format!("## Task\n{}\n", self.config.task), vec![], e.tokens as u64)
                }
            };
            let text = window.render();
            // The window was fitted with a general tokenizer; the model's own
            // count decides.
            let exact = self.model.count_tokens(&text).await.unwrap_or(window.tokens);
            if exact <= self.config.context_budget || budget < 256 {
                self.untrusted = window
                    .placed
                    .iter()
                    .filter(|p| !p.segment.source.trusted())
                    .map(|p| (p.segment.source.label(), p.segment.text.clone()))
                    .collect();
                let summary = window
                    .placed
                    .iter()
                    .map(|p| SegmentSummary {
                        source: p.segment.source.label(),
                        trusted: p.segment.source.trusted(),
                        tokens: p.tokens as u64,
                        shortened: p.shortened,
                    })
                    .chain(window.dropped.iter().map(|(s, n)| SegmentSummary {
                        source: s.source.label(),
                        trusted: s.source.trusted(),
                        tokens: *n as u64,
                        shortened: true,
                    }))
                    .collect();
                return (text, summary, exact as u64);
            }
            budget = budget * self.config.context_budget / exact * 95 / 100;
        }
        (format!("## Task\n{}\n", self.config.task), vec![], 0)
    }

    fn grammar(&self, plan: &Plan, allow_done: bool) -> String {
        let paths: Vec<&str> = plan.targets.iter().map(|t| t.path.as_str()).collect();
        let leash = self.config.leash.max_step_lines;
        let (lines, blocks) = match plan.format {
            EditFormat::SearchReplace => (leash.max(8), 2 * plan.targets.len()),
            EditFormat::Region => {
                let (s, e) = plan.targets[0].lines.unwrap_or((1, 1));
                (e + 1 - s + leash, 1)
            }
            EditFormat::WholeFile if plan.function.is_some() => {
                let (s, e) = plan.function.as_ref().map_or((1, 1), |f| f.lines);
                (e + 1 - s + leash, 1)
            }
            EditFormat::WholeFile => {
                let longest = plan
                    .targets
                    .iter()
                    .map(|t| self.read_text(&t.path).map_or(0, |s| s.lines().count()))
                    .max()
                    .unwrap_or(0);
                (longest + leash, plan.targets.len())
            }
        };
        let g = suit_edit::grammar_limited(plan.format, &paths, lines, blocks);
        let edit = g.replacen("root ::=", "edit ::=", 1);
        // One sentence of printable ASCII: a period ends the line unless a
        // lower-case letter or digit follows it (`lib.rs`, `3.5`). Asked for
        // 20 words, the model wrote run-on plans up to the limit that
        // trailed off into other languages and cost a fifth of each reply;
        // allowed any character after a period, it glued the next sentence
        // on (`docstring._tokens should ...`).
        let plan_line = format!(
            "plan ::= \"{PLAN_PREFIX}\" plan-char{{1,{PLAN_REPLY_MAX_CHARS}}} \".\"? \"\\n\"\n\
             plan-char ::= [ -,/-~] | \"-\" | \".\" [a-z0-9]\n"
        );
        if allow_done {
            format!("root ::= \"DONE\" | plan edit\n{plan_line}{edit}")
        } else {
            format!("root ::= plan edit\n{plan_line}{edit}")
        }
    }

    /// Parses and applies a reply in memory, then holds it to the slider's
    /// scope, the leash and the gate. The error is worded for the model.
    fn check_reply(
        &self,
        plan: &Plan,
        text: &str,
        finish: FinishReason,
    ) -> Result<Proposal, String> {
        if finish == FinishReason::Length {
            return Err(format!(
                "your reply was cut off at the limit of {} tokens. Make a smaller change.",
                plan.reply_tokens
            ));
        }
        let text = prompts::without_copied_labels(text);
        let edit_text = prompts::without_plan(&text);
        // Above `file` the model may name other files; the gate judges them.
        let scope: &[Target] = if self.autonomy.many_files()
            && plan.format != EditFormat::Region
            && plan.function.is_none()
        {
            &[]
        } else {
            &plan.targets
        };
        let edits = suit_edit::parse(plan.format, edit_text, scope).map_err(|e| e.to_string())?;
        let read = |p: &Path| self.read_text(&p.to_string_lossy());
        let mut changes = suit_edit::apply(&edits, &read).map_err(|e: EditError| e.to_string())?;
        if let Some(function) = &plan.function {
            changes = splice_functions(changes, &function.name)?;
        } else if plan.format == EditFormat::WholeFile {
            let read = |p: &str| self.read_text(p);
            changes = complete_whole_files(changes, &self.config.task, &plan.targets, &read)?;
        }
        if self.repairing.is_some() {
            if changes.is_empty() {
                return Err(format!("{REPEATED} Fix it instead."));
            }
            changes = self.rebased(changes);
        }
        if changes.is_empty() {
            return Err(format!("{NO_CHANGE} Change the code so the task is done."));
        }
        if let Some((name, test, path)) = self.copied_test(plan, &changes) {
            return Err(format!(
                "your change adds `{name}`, a test of {test}, to {path}. Tests stay in their \
                 own files: change the code they test."
            ));
        }
        let allowed: Vec<&str> = plan.targets.iter().map(|t| t.path.as_str()).collect();
        // The planned targets were fixed by the user or by suit's planner
        // before the model spoke; any other path comes from the model, and
        // the gate escalates it when untrusted text in its context names it.
        let policy = Policy {
            user_paths: allowed.iter().map(|p| p.to_string()).collect(),
            allowed_commands: self.config.checks.iter().map(|c| c.command.clone()).collect(),
            network: false,
            untrusted: self.untrusted.clone(),
        };
        let mut escalation = None;
        for change in &changes {
            let path = change.path();
            if !allowed.contains(&path) && !self.autonomy.many_files() {
                return Err(format!(
                    "`{path}` is not one of the files you may change here ({}).",
                    allowed.join(", ")
                ));
            }
            let action = match change.after() {
                Some(_) => crate::Action::WriteFile { path: path.to_string() },
                None => crate::Action::DeleteFile { path: path.to_string() },
            };
            match policy.judge(&action) {
                Verdict::Allow => {}
                Verdict::Escalate { reason } => escalation = Some(reason),
                Verdict::Deny { reason } => {
                    return Err(format!("`{path}` may not be changed: {reason}"))
                }
            }
        }
        let lines: usize = changes.iter().map(suit_edit::changed_lines).sum();
        if let Err(e) = self.tally.check_step_size(lines) {
            return Err(format!(
                "{e}: change only what the task needs, in at most {} lines.",
                e.max
            ));
        }
        let key = change_key(&changes);
        Ok(Proposal {
            candidate: 0,
            plan: prompts::plan_of(&text),
            changes,
            escalation,
            key,
            lines,
        })
    }

    /// Changes made from the files as a repaired change left them, made
    /// from the files on disk instead: what is written is the same, the
    /// diff shows all of it. A change back to the file on disk is none.
    fn rebased(&self, changes: Vec<FileChange>) -> Vec<FileChange> {
        let mut out = Vec::with_capacity(changes.len());
        for change in changes {
            let path = change.path().to_string();
            let on_disk =
                self.ws.read(&path).ok().flatten().and_then(|b| String::from_utf8(b).ok());
            match (on_disk, change.after().map(str::to_string)) {
                (Some(before), Some(after)) if before == after => {}
                (Some(before), Some(after)) => {
                    out.push(FileChange::Modified { path, before, after })
                }
                (None, Some(after)) => out.push(FileChange::Created { path, after }),
                (Some(before), None) => out.push(FileChange::Deleted { path, before }),
                (None, None) => {}
            }
        }
        out
    }

    /// A function that `changes` add to a file and that a test file shown
    /// to the model defines: a small model told a test fails often copies
    /// the test into the source, which fixes nothing and stays behind as
    /// clutter. The function's name, the test file and the changed file.
    fn copied_test(&self, plan: &Plan, changes: &[FileChange]) -> Option<(String, String, String)> {
        let names = |path: &str, text: &str| -> Vec<String> {
            suit_ingest::functions(path, text)
                .unwrap_or_default()
                .into_iter()
                .map(|f| f.name)
                .collect()
        };
        let tests: Vec<(&String, Vec<String>)> =
            plan.tests.iter().filter_map(|p| Some((p, names(p, &self.read_text(p)?)))).collect();
        for change in changes {
            let Some(after) = change.after() else { continue };
            let before = change.before().map(|b| names(change.path(), b)).unwrap_or_default();
            for name in names(change.path(), after) {
                if before.contains(&name) {
                    continue;
                }
                if let Some((test, _)) = tests.iter().find(|(_, defined)| defined.contains(&name)) {
                    return Some((name, test.to_string(), change.path().to_string()));
                }
            }
        }
        None
    }

    /// The store's form of the decided contents, expecting each file to
    /// still hold the bytes the proposal was made from: a file the user
    /// changed meanwhile makes the step a conflict, and nothing is written.
    fn store_changes(
        &self,
        proposed: &[FileChange],
        files: &[(String, Option<String>)],
    ) -> Result<Vec<suit_store::FileChange>, String> {
        let mut out = Vec::new();
        for (path, after) in files {
            let before: Option<Vec<u8>> = match proposed.iter().find(|c| c.path() == path) {
                Some(change) => change.before().map(|b| b.as_bytes().to_vec()),
                None => self.ws.read(path).map_err(|e| format!("cannot read {path}: {e}"))?,
            };
            match (before, after) {
                (None, Some(new)) => {
                    out.push(suit_store::FileChange::create(path.clone(), new.as_bytes().to_vec()))
                }
                (Some(old), Some(new)) if old != new.as_bytes() => out.push(
                    suit_store::FileChange::modify(path.clone(), old, new.as_bytes().to_vec()),
                ),
                (Some(old), None) => out.push(suit_store::FileChange::delete(path.clone(), old)),
                _ => {}
            }
        }
        Ok(out)
    }
}

/// The changes of a reply to a narrowed step, which writes the function
/// `name` alone: each file with the reply's functions in place of their
/// namesakes. A reply with none of the file's functions is refused, worded
/// for the model.
fn splice_functions(changes: Vec<FileChange>, name: &str) -> Result<Vec<FileChange>, String> {
    let mut out = Vec::with_capacity(changes.len());
    for change in changes {
        let FileChange::Modified { path, before, after } = change else {
            out.push(change);
            continue;
        };
        match fragment::splice(&path, &before, &after) {
            Some(text) if text == before => {}
            Some(text) => out.push(FileChange::Modified { path, before, after: text }),
            None => {
                return Err(format!(
                    "your reply holds none of the functions of {path}. Write the complete \
                     function {name}, from the first line of its definition to the last."
                ))
            }
        }
    }
    Ok(out)
}

/// Whole-file changes as the reply meant them: a reply that left out
/// functions of the file keeps them (see [`fragment`]); one that holds none
/// of the file's functions but functions of another target file (written
/// under the wrong path) goes to that file; any other is refused, worded
/// for the model.
fn complete_whole_files(
    changes: Vec<FileChange>,
    task: &str,
    targets: &[Target],
    read: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<FileChange>, String> {
    let mut out: Vec<FileChange> = Vec::with_capacity(changes.len());
    let named: Vec<String> = changes.iter().map(|c| c.path().to_string()).collect();
    for change in changes {
        let FileChange::Modified { path, before, after } = change else {
            out.push(change);
            continue;
        };
        match fragment::judge(&path, &before, &after, task) {
            WholeReply::Whole => out.push(FileChange::Modified { path, before, after }),
            WholeReply::Completed(after) if after == before => {}
            WholeReply::Completed(after) => out.push(FileChange::Modified { path, before, after }),
            WholeReply::NotTheFile { missing } => {
                let elsewhere = targets.iter().filter(|t| !named.contains(&t.path)).find_map(|t| {
                    let text = read(&t.path)?;
                    match fragment::judge(&t.path, &text, &after, task) {
                        WholeReply::Completed(merged) if merged != text => {
                            Some(FileChange::Modified {
                                path: t.path.clone(),
                                before: text,
                                after: merged,
                            })
                        }
                        _ => None,
                    }
                });
                if let Some(change) = elsewhere {
                    out.push(change);
                    continue;
                }
                let names: Vec<String> = missing.iter().map(|m| format!("`{m}`")).collect();
                return Err(format!(
                    "your reply is not the whole of {path}: it leaves out {}. Write the \
                     complete file, every line of it, with your change made.",
                    names.join(", ")
                ));
            }
        }
    }
    Ok(out)
}

/// Reads a candidate's stream to its end, sending its pieces of text to
/// `tx` when given (the candidate shown as it is written).
async fn collect_reply(
    i: usize,
    stream: suit_model::TextStream,
    tx: Option<tokio::sync::mpsc::UnboundedSender<String>>,
) -> (usize, Result<Completion, ModelError>) {
    let reply = suit_model::collect_with(stream, move |text| {
        if let Some(tx) = &tx {
            let _ = tx.send(text);
        }
    })
    .await;
    (i, reply)
}

/// Whether going from `before` to `after` failing tests moves the run
/// forward: fewer failures, or, for a stub being written, no more (its own
/// tests may need the next stubs too). A build error or output nobody
/// understood is never progress.
fn progress(before: Option<usize>, after: Option<usize>, stub: bool) -> bool {
    match (before, after) {
        (Some(before), Some(after)) if after != usize::MAX => {
            after < before || (stub && after <= before)
        }
        _ => false,
    }
}

/// The parsed failures of the checks that failed, merged (`None` when no
/// failing check's output was understood).
fn failing_report(outcomes: &[CheckOutcome]) -> Option<TestReport> {
    let mut merged: Option<TestReport> = None;
    for outcome in outcomes.iter().filter(|o| !o.passed()) {
        let Some(report) = parse_test_output(&outcome.output) else {
            return None; // a failure nobody can count
        };
        match &mut merged {
            None => merged = Some(report),
            Some(m) => {
                m.failures.extend(report.failures);
                m.errors.extend(report.errors);
                m.failed = m.failed.zip(report.failed).map(|(a, b)| a + b);
                m.passed = m.passed.zip(report.passed).map(|(a, b)| a + b);
            }
        }
    }
    merged
}

/// One line on how a candidate failed the checks, for the notes.
fn describe_failure(checked: &Checked) -> String {
    match (&checked.report, checked.failing) {
        (Some(_), Some(usize::MAX) | None) | (None, _) => {
            let failed: Vec<String> = checked
                .outcomes
                .iter()
                .filter(|o| !o.passed())
                .map(|o| {
                    let last =
                        o.output.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or_default();
                    format!("`{}` {} ({})", o.command, o.status, last.trim())
                })
                .collect();
            format!("{}.", failed.join("; "))
        }
        (Some(report), Some(n)) => {
            let first = report.failures.first().map(|f| {
                let message = f.message.lines().next().unwrap_or_default();
                format!(": `{}` ({message})", f.name)
            });
            format!(
                "{n} {} still failed{}.",
                if n == 1 { "test" } else { "tests" },
                first.unwrap_or_default()
            )
        }
    }
}

/// Whether a function body is a stub: nothing but a docstring or comments
/// and `pass`, `...`, `raise NotImplementedError`, `todo!()`,
/// `unimplemented!()` or a "not implemented" throw/panic.
fn is_stub(body: &str) -> bool {
    let mut code = body.trim();
    code = code.strip_prefix('{').and_then(|c| c.strip_suffix('}')).unwrap_or(code).trim();
    let lines: Vec<&str> = code
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("//"))
        .collect();
    // A leading docstring.
    let mut rest: &[&str] = &lines;
    if let Some(first) = rest.first() {
        for quote in ["\"\"\"", "'''"] {
            if first.starts_with(quote) {
                let single = first.len() > 3 && first[3..].contains(quote);
                let end = if single {
                    0
                } else {
                    rest.iter()
                        .skip(1)
                        .position(|l| l.contains(quote))
                        .map_or(rest.len() - 1, |i| i + 1)
                };
                rest = &rest[end + 1..];
                break;
            }
        }
    }
    let [only] = rest else { return false };
    let only = only.trim_end_matches(';');
    matches!(only, "pass" | "..." | "todo!()" | "unimplemented!()")
        || only.starts_with("raise NotImplementedError")
        || only.starts_with("todo!(")
        || only.starts_with("unimplemented!(")
        || (only.starts_with("throw new Error(") && only.to_lowercase().contains("not implemented"))
        || (only.starts_with("panic(") && only.to_lowercase().contains("not implemented"))
}

/// Whether `text` calls `name` (as `name(` or `.name(`, not as part of a
/// longer identifier).
fn calls(text: &str, name: &str) -> bool {
    let pattern = format!("{name}(");
    text.match_indices(&pattern).any(|(at, _)| {
        !text[..at].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

/// `f`'s span grown to take in the functions of its file that it calls,
/// directly or through each other, while the span stays within
/// [`NARROW_MAX_LINES`]: the cause of a failure is often in a helper of the
/// function the test calls. The name lists them: "`compare` (and `parse`,
/// which it calls)".
fn with_callees(
    f: &suit_ingest::FunctionSpan,
    functions: &[suit_ingest::FunctionSpan],
) -> suit_ingest::FunctionSpan {
    let mut span = f.clone();
    let mut taken = vec![f.name.clone()];
    let mut bodies = vec![f.body.clone()];
    while let Some(body) = bodies.pop() {
        for g in functions {
            if taken.contains(&g.name) || !calls(&body, &g.name) {
                continue;
            }
            let (start, end) = (span.start.min(g.start), span.end.max(g.end));
            if end + 1 - start > NARROW_MAX_LINES.max(f.end + 1 - f.start) {
                continue;
            }
            (span.start, span.end) = (start, end);
            taken.push(g.name.clone());
            bodies.push(g.body.clone());
        }
    }
    if taken.len() > 1 {
        let callees: Vec<String> = taken[1..].iter().map(|n| format!("`{n}`")).collect();
        span.name = format!("`{}` (and {}, which it calls)", f.name, callees.join(", "));
    } else {
        span.name = format!("`{}`", f.name);
    }
    span
}

/// A change's identity: each path and its new contents (lines without
/// trailing blanks), so the same change written differently is one.
fn change_key(changes: &[FileChange]) -> String {
    let mut key = String::new();
    for change in changes {
        key.push_str(change.path());
        key.push('\0');
        match change.after() {
            Some(text) => {
                for line in text.lines() {
                    key.push_str(line.trim_end());
                    key.push('\n');
                }
            }
            None => key.push_str("(deleted)"),
        }
        key.push('\0');
    }
    key
}

fn lines_of(changes: &[suit_store::FileChange]) -> usize {
    changes
        .iter()
        .map(|c| {
            let text =
                |b: &Option<Vec<u8>>| b.as_deref().map(|b| String::from_utf8_lossy(b).into_owned());
            let change = match (text(&c.expected), text(&c.new)) {
                (None, Some(after)) => FileChange::Created { path: c.path.clone(), after },
                (Some(before), Some(after)) => {
                    FileChange::Modified { path: c.path.clone(), before, after }
                }
                (Some(before), None) => FileChange::Deleted { path: c.path.clone(), before },
                (None, None) => return 0,
            };
            suit_edit::changed_lines(&change)
        })
        .sum()
}

fn summary_of(change: &FileChange) -> FileSummary {
    let diff = change.diff(0);
    let (added, removed) =
        diff.hunks().iter().fold((0, 0), |(a, r), h| (a + h.added(), r + h.removed()));
    let status = match change {
        FileChange::Created { .. } => "created",
        FileChange::Modified { .. } => "modified",
        FileChange::Deleted { .. } => "deleted",
    };
    FileSummary { path: change.path().to_string(), status: status.into(), added, removed }
}

fn format_name(format: EditFormat) -> &'static str {
    match format {
        EditFormat::WholeFile => "whole_file",
        EditFormat::Region => "region",
        EditFormat::SearchReplace => "search_replace",
    }
}

/// Lines around `start..=end` (1-based) with their numbers: the region and
/// up to [`REGION_CONTEXT_LINES`] lines on each side, so a region of a long
/// file fits the window.
fn numbered(text: &str, start: usize, end: usize) -> String {
    let first = start.saturating_sub(REGION_CONTEXT_LINES).max(1);
    let last = end + REGION_CONTEXT_LINES;
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(n, _)| (first..=last).contains(n))
        .map(|(n, l)| format!("{n:>5} {l}\n"))
        .collect()
}

/// The first line of `text`, cut at a word boundary to at most 72
/// characters (with `…` when cut).
fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default().trim();
    match line.char_indices().nth(72) {
        None => line.to_string(),
        Some((i, _)) => {
            let cut = line[..i].rfind(' ').filter(|&at| at > 0).unwrap_or(i);
            format!("{}…", line[..cut].trim_end())
        }
    }
}

fn now_ms() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stubs_are_told_from_code() {
        for body in [
            "pass",
            "\"\"\"Parse it.\"\"\"\n    raise NotImplementedError",
            "\"\"\"Parse it.\n\n    More.\n    \"\"\"\n    ...",
            "{\n    todo!()\n}",
            "{ unimplemented!(\"later\") }",
            "{\n  throw new Error('not implemented');\n}",
            "{\n\tpanic(\"not implemented\")\n}",
        ] {
            assert!(is_stub(body), "{body:?}");
        }
        for body in [
            "return x + 1",
            "{\n    x + 1\n}",
            "\"\"\"Doc.\"\"\"\n    return 1",
            "{}",
            "{\n    todo!();\n    x\n}",
        ] {
            assert!(!is_stub(body), "{body:?}");
        }
    }

    #[test]
    fn progress_is_fewer_failures_or_a_stub_written_without_breaking_any() {
        assert!(progress(Some(4), Some(2), false));
        assert!(!progress(Some(4), Some(4), false));
        assert!(progress(Some(4), Some(4), true));
        assert!(!progress(Some(4), Some(5), true));
        assert!(!progress(Some(4), Some(usize::MAX), true), "a build error is no progress");
        assert!(!progress(None, Some(1), false), "unknown before");
        assert!(!progress(Some(3), None, false), "output nobody understood");
    }

    #[test]
    fn a_narrowed_step_takes_in_the_helpers_it_calls() {
        let text = "def parse(v):\n    return v.split('.')\n\n\ndef compare(a, b):\n    return parse(a) < parse(b)\n\n\ndef other():\n    return 1\n\n\ndef latest(vs):\n    return max(vs, key=lambda v: compare(v, vs[0]))\n";
        let functions = suit_ingest::functions("v.py", text).unwrap();
        let latest = functions.iter().find(|f| f.name == "latest").unwrap();
        let grown = with_callees(latest, &functions);
        assert_eq!((grown.start, grown.end), (1, 14));
        assert_eq!(grown.name, "`latest` (and `compare`, `parse`, which it calls)");
        let other = functions.iter().find(|f| f.name == "other").unwrap();
        assert_eq!(with_callees(other, &functions).name, "`other`");
    }

    #[test]
    fn calls_match_whole_names_only() {
        assert!(calls("self.assertEqual(parse_duration('1h'), 60)", "parse_duration"));
        assert!(calls("x = obj.parse(1)", "parse"));
        assert!(!calls("reparse(1)", "parse"));
        assert!(!calls("parse_duration", "parse_duration"));
    }

    #[test]
    fn a_change_is_the_same_whatever_its_trailing_blanks() {
        let change = |after: &str| FileChange::Modified {
            path: "a.py".into(),
            before: "x\n".into(),
            after: after.into(),
        };
        assert_eq!(change_key(&[change("y  \nz\n")]), change_key(&[change("y\nz")]));
        assert_ne!(change_key(&[change("y\n")]), change_key(&[change("z\n")]));
    }

    #[test]
    fn the_first_line_is_cut_between_words() {
        let long = "word ".repeat(30);
        let cut = first_line(&long);
        assert!(cut.ends_with("word…"), "{cut}");
        assert!(cut.chars().count() <= 73);
        assert_eq!(first_line("short task\nmore"), "short task");
    }
}
