//! The partial-autonomy loop of suit (the "suit" a developer wears).
//!
//! Built so far: the [`Autonomy`] slider and the [`Leash`] (step size and
//! budgets, and the stop when a run repeats itself), and [`run_check`]
//! (the project's checks, sandboxed and with a timeout). Still to come in this
//! crate: the loop itself (plan → context → propose → verify → apply →
//! check), tool dispatch, the policy gate against prompt injection and
//! sandboxed commands. Edit formats live in `suit-edit`, checkpoints and undo
//! in `suit-store`.

mod autonomy;
mod checks;
mod events;
mod gate;
mod leash;

pub use autonomy::{Autonomy, UnknownAutonomy};
pub use checks::{run_check, trim_output, Check, CheckOutcome, CheckStatus};
pub use events::{
    Approver, Decision, Event, EventSink, FileSummary, JsonlSink, MemorySink, Outcome,
    SegmentSummary, Stamped,
};
pub use gate::{check_path, Action, Policy, Verdict};
pub use leash::{Leash, LeashStop, StepTooLarge, Tally};
