//! The leash: how big a step may be, how many steps and how much of the
//! budget a run may use, and the stop when it repeats itself.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use suit_protocol::LeashStop;

/// Limits of one run. Defaults suit a small local model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Leash {
    /// Most changed lines (added + removed) in one step.
    pub max_step_lines: usize,
    /// Most proposals (applied or not) in one run.
    pub max_steps: u32,
    /// Most model tokens (prompt + generated) in one run.
    pub max_tokens: Option<u64>,
    /// Most cost in USD in one run.
    pub max_cost: Option<f64>,
    /// Most wall-clock time for the run.
    pub max_wall: Duration,
    /// Most times a failed edit goes back to the model within one step.
    pub max_reflections: u32,
}

impl Default for Leash {
    fn default() -> Self {
        Self {
            max_step_lines: 40,
            max_steps: 12,
            max_tokens: None,
            max_cost: None,
            max_wall: Duration::from_secs(30 * 60),
            max_reflections: 3,
        }
    }
}

/// A step that changes more lines than the leash allows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the step changes {lines} lines, more than the leash allows ({max}); propose a smaller step"
)]
pub struct StepTooLarge {
    /// Changed lines in the step.
    pub lines: usize,
    /// The limit.
    pub max: usize,
}

/// The running tally of one run against its [`Leash`].
#[derive(Debug)]
pub struct Tally {
    leash: Leash,
    started: Instant,
    steps: u32,
    failed_proposals: HashSet<u64>,
}

impl Tally {
    /// Starts counting now.
    pub fn new(leash: Leash) -> Self {
        Self { leash, started: Instant::now(), steps: 0, failed_proposals: HashSet::new() }
    }

    /// The limits in force.
    pub fn leash(&self) -> &Leash {
        &self.leash
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u32 {
        self.steps
    }

    /// Counts a new step, or says why none may start. `tokens` and `cost`
    /// are the run's totals so far.
    pub fn begin_step(&mut self, tokens: u64, cost: f64) -> Result<(), LeashStop> {
        self.check(tokens, cost)?;
        if self.steps >= self.leash.max_steps {
            return Err(LeashStop::Steps { steps: self.steps, max: self.leash.max_steps });
        }
        self.steps += 1;
        Ok(())
    }

    /// Checks the token, cost and time budgets.
    pub fn check(&self, tokens: u64, cost: f64) -> Result<(), LeashStop> {
        if let Some(max) = self.leash.max_tokens.filter(|&m| tokens >= m) {
            return Err(LeashStop::Tokens { used: tokens, max });
        }
        if let Some(max) = self.leash.max_cost.filter(|&m| cost >= m) {
            return Err(LeashStop::Cost { used: cost, max });
        }
        let elapsed = self.started.elapsed();
        if elapsed >= self.leash.max_wall {
            return Err(LeashStop::Wall { secs: elapsed.as_secs() });
        }
        Ok(())
    }

    /// Time left of the wall-time budget: a reply still decoding when it
    /// ends is dropped, so a run ends on time even in the middle of a try.
    pub fn wall_left(&self) -> Duration {
        self.leash.max_wall.saturating_sub(self.started.elapsed())
    }

    /// Checks the size of a step.
    pub fn check_step_size(&self, changed_lines: usize) -> Result<(), StepTooLarge> {
        if changed_lines > self.leash.max_step_lines {
            Err(StepTooLarge { lines: changed_lines, max: self.leash.max_step_lines })
        } else {
            Ok(())
        }
    }

    /// Whether `proposal` (compared as [`Tally::record_failure`] does) has
    /// already failed once: proposing it again would repeat a failure.
    pub fn failed_before(&self, proposal: &str) -> bool {
        self.failed_proposals.contains(&proposal_key(proposal))
    }

    /// Records a proposal that failed (broke the checks, or a person
    /// rejected it), so the same change is not tried again. Proposals are
    /// compared with whitespace at line ends ignored. Returns false when it
    /// had failed before.
    pub fn record_failure(&mut self, proposal: &str) -> bool {
        self.failed_proposals.insert(proposal_key(proposal))
    }
}

/// A proposal's identity: its lines without trailing whitespace.
fn proposal_key(proposal: &str) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for line in proposal.lines() {
        line.trim_end().hash(&mut hasher);
    }
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_counted_against_the_budget() {
        let mut tally = Tally::new(Leash { max_steps: 2, ..Leash::default() });
        assert!(tally.begin_step(0, 0.0).is_ok());
        assert!(tally.begin_step(0, 0.0).is_ok());
        let stop = tally.begin_step(0, 0.0).unwrap_err();
        assert_eq!(stop, LeashStop::Steps { steps: 2, max: 2 });
        assert!(stop.to_string().contains("--max-steps"));
    }

    #[test]
    fn token_cost_and_time_budgets_stop_the_run() {
        let leash = Leash { max_tokens: Some(100), max_cost: Some(0.5), ..Leash::default() };
        let tally = Tally::new(leash);
        assert!(tally.check(99, 0.49).is_ok());
        assert!(matches!(tally.check(100, 0.0), Err(LeashStop::Tokens { used: 100, max: 100 })));
        assert!(matches!(tally.check(0, 0.5), Err(LeashStop::Cost { .. })));
        let tally = Tally::new(Leash { max_wall: Duration::ZERO, ..Leash::default() });
        assert!(matches!(tally.check(0, 0.0), Err(LeashStop::Wall { .. })));
    }

    #[test]
    fn step_size_is_limited() {
        let tally = Tally::new(Leash::default());
        assert!(tally.check_step_size(40).is_ok());
        let err = tally.check_step_size(41).unwrap_err();
        assert_eq!(err, StepTooLarge { lines: 41, max: 40 });
    }

    #[test]
    fn failed_proposals_are_remembered_whatever_their_trailing_blanks() {
        let mut tally = Tally::new(Leash::default());
        assert!(tally.record_failure("a\nb"));
        assert!(tally.record_failure("a\nc"));
        assert!(tally.failed_before("a  \nb"));
        assert!(!tally.record_failure("a  \nb"));
        assert!(!tally.failed_before("a\nd"));
    }
}
