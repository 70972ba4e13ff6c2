//! The partial-autonomy loop of suit (the "suit" a developer wears).
//!
//! [`run`] is the loop: for each step it picks the files in play, assembles
//! the context (`suit-context`), asks the model for an edit in a format it
//! can write reliably (`suit-edit`, grammar-constrained with the embedded
//! model), sends failures back as feedback, holds the change to the
//! [`Autonomy`] slider, the [`Leash`] and the policy [`Policy`] gate, has a
//! person or the project's checks ([`run_check`]) verify it, and writes it
//! as a checkpoint that `suit undo` restores (`suit-store`). A step that
//! breaks the checks at `auto` is rolled back and its failure fed back.
//! Every event goes to an [`EventSink`] and the session's journal.

mod autonomy;
mod checks;
mod events;
mod gate;
mod leash;
mod run;

pub use autonomy::{Autonomy, UnknownAutonomy};
pub use checks::{run_check, trim_output, Check, CheckOutcome, CheckStatus};
pub use events::{
    Approver, Decision, Event, EventSink, FileSummary, JsonlSink, MemorySink, Outcome,
    SegmentSummary, Stamped,
};
pub use gate::{check_path, Action, Policy, Verdict};
pub use leash::{Leash, LeashStop, StepTooLarge, Tally};
pub use run::{run, validate, NoPerson, Review, Reviewer, RunConfig, RunError, RunSummary};
