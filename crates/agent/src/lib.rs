//! The partial-autonomy loop of suit (the "suit" a developer wears).
//!
//! Built so far: the [`Autonomy`] slider and the [`Leash`] (step size and
//! budgets, and the stop when a run repeats itself). Still to come in this
//! crate: the loop itself (plan → context → propose → verify → apply →
//! check), tool dispatch, the policy gate against prompt injection and
//! sandboxed commands. Edit formats live in `suit-edit`, checkpoints and undo
//! in `suit-store`.

mod autonomy;
mod leash;

pub use autonomy::{Autonomy, UnknownAutonomy};
pub use leash::{Leash, LeashStop, StepTooLarge, Tally};
