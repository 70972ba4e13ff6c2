//! The partial-autonomy loop of suit (the "suit" a developer wears).
//!
//! Not built yet. This crate will own the loop (plan → context → propose →
//! verify → apply → check), the autonomy levels `tab`, `edit`, `file`, `repo`
//! and `auto`, edit formats and matching, the leash (diff budget),
//! checkpoints and undo, tool dispatch, the policy gate against prompt
//! injection and sandboxed commands.
