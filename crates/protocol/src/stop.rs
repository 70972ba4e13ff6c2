//! Why a run stopped before its task was done: the leash's limits.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Why a run stopped before it was done.
#[derive(JsonSchema, Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "limit", rename_all = "snake_case")]
pub enum LeashStop {
    /// The step budget is spent.
    #[error("step budget exhausted: {steps} of {max} steps used (raise it with --max-steps)")]
    Steps {
        /// Steps used.
        steps: u32,
        /// The limit.
        max: u32,
    },
    /// The token budget is spent.
    #[error("token budget exhausted: {used} of {max} tokens used (raise it with --max-tokens)")]
    Tokens {
        /// Tokens used.
        used: u64,
        /// The limit.
        max: u64,
    },
    /// The cost budget is spent.
    #[error("cost budget exhausted: ${used:.4} of ${max:.4} (raise it with --max-cost)")]
    Cost {
        /// USD used.
        used: f64,
        /// The limit.
        max: f64,
    },
    /// The time budget is spent.
    #[error("time budget exhausted after {secs} s (raise it with --max-wall)")]
    Wall {
        /// Seconds used.
        secs: u64,
    },
    /// Every way of asking was tried and no change was kept.
    #[error("no change passed the checks ({reason}); stopping instead of looping")]
    Repeated {
        /// The strategies tried and how the last try failed.
        reason: String,
    },
}
