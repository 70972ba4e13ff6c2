//! The types that cross suit's process boundaries, in one place: the events
//! a run reports (to the terminal, `--json`, the session journal and the
//! server's event stream), the slider's levels, check outcomes, the leash's
//! stops, the requests and views of agent sessions over HTTP, and the
//! requests and answers of the model API `suit serve` speaks ([`openai`],
//! [`anthropic`], [`usage`]). The run and session types derive a JSON Schema;
//! [`event_schema`] is the one published as `docs/events.schema.json`.

pub mod anthropic;
mod autonomy;
mod check;
mod events;
pub mod openai;
mod session;
mod stop;
pub mod usage;

pub use autonomy::{Autonomy, UnknownAutonomy};
pub use check::{CheckOutcome, CheckStatus};
pub use events::{Approver, Decision, Event, FileSummary, Outcome, SegmentSummary, Stamped};
pub use session::{
    HunkDecision, NewSession, PendingReview, ReviewDecisions, ReviewFile, ReviewHunk, SessionState,
    SessionView, SetAutonomy, UndoSteps, Undone, Verdict,
};
pub use stop::LeashStop;

/// The JSON Schema of one line of a run's event stream (a [`Stamped`]
/// event), as published in `docs/events.schema.json`.
pub fn event_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(Stamped);
    serde_json::to_value(schema).expect("a schema is JSON")
}
