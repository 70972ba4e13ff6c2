//! The partial-autonomy loop of suit (the "suit" a developer wears).
//!
//! [`run`] is the loop: for each step it picks the files in play, assembles
//! the context (`suit-context`), asks the model for several candidate edits
//! at once in a format it can write reliably (`suit-edit`,
//! grammar-constrained with the embedded model), checks each candidate in a
//! scratch copy with the project's checks ([`run_check`]) and keeps the best,
//! holds it to the [`Autonomy`] slider, the [`Leash`] and the policy
//! [`Policy`] gate, has a person or the checks verify it, and writes it as a
//! checkpoint that `suit undo` restores (`suit-store`). Test output is parsed
//! ([`parse_test_output`]) so the next try is told which test failed, where
//! and why; a step that is not kept makes the next one ask differently.
//! Every event goes to an [`EventSink`] and the session's journal.
//!
//! [`config`] loads suit's layered configuration (built-in defaults, the
//! user file, the nearest `suit.toml`, an explicit file); [`eval`] runs the
//! loop on a folder of tasks and judges each with the task's own tests;
//! [`engine`] is the model policy: it routes a role's model from the
//! configuration and sizes the embedded engine for the runs that share it;
//! [`sandbox`] confines every check (network, files, environment, limits);
//! [`audit`] finds text in a repository aimed at coding agents.

pub mod audit;
mod checks;
mod complete;
pub mod config;
pub mod engine;
pub mod eval;
mod events;
mod fragment;
mod gate;
mod leash;
mod prompts;
mod run;
pub mod sandbox;
mod scratch;
mod strategy;
mod testout;

pub use checks::{run_check, trim_output, Check};
pub use complete::CompletionEnd;
pub use events::{EventSink, JsonlSink, MemorySink};
pub use gate::{check_path, Action, Policy, Verdict};
pub use leash::{Leash, StepTooLarge, Tally};
pub use prompts::PLAN_MAX_CHARS;
pub use run::{run, validate, NoPerson, Review, Reviewer, RunConfig, RunError, RunSummary};
pub use testout::{parse_test_output, Runner, TestFailure, TestReport};
// The types that cross process boundaries live in `suit-protocol`; they are
// re-exported so the loop's users need one import.
pub use suit_protocol::{
    Approver, Autonomy, CheckOutcome, CheckStatus, Decision, Event, FileSummary, LeashStop,
    Outcome, SegmentSummary, Stamped, UnknownAutonomy,
};
