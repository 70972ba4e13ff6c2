//! The usage meter: tokens, calls and cost per backend and per session, and
//! the session's budget.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::config::{BudgetConfig, Prices};
use crate::{ModelError, Usage};

/// Counts of one backend, or of the whole session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct UsageTotals {
    /// Calls served (a stream that finished, or was dropped by its reader).
    pub calls: u64,
    /// Failed attempts (each retry counts).
    pub failures: u64,
    /// Prompt tokens, cached ones included.
    pub prompt_tokens: u64,
    /// Prompt tokens served from a cache.
    pub cached_tokens: u64,
    /// Generated tokens.
    pub completion_tokens: u64,
    /// Cost in USD.
    pub cost_usd: f64,
}

impl UsageTotals {
    /// Prompt plus generated tokens.
    pub fn tokens(&self) -> u64 {
        self.prompt_tokens + self.completion_tokens
    }

    fn add_call(&mut self, usage: &Usage, cost: f64) {
        self.calls += 1;
        self.prompt_tokens += usage.prompt_tokens;
        self.cached_tokens += usage.cached_tokens;
        self.completion_tokens += usage.completion_tokens;
        self.cost_usd += cost;
    }
}

/// A serializable picture of a [`Meter`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeterReport {
    /// The whole session.
    pub total: UsageTotals,
    /// Per backend, by configured name.
    pub backends: BTreeMap<String, UsageTotals>,
    /// The limits in force.
    pub budget: BudgetConfig,
}

#[derive(Debug, Default)]
struct State {
    total: UsageTotals,
    backends: BTreeMap<String, UsageTotals>,
}

/// Meters one session's model use and enforces its budget. Share it with
/// `Arc`; every method takes `&self`.
#[derive(Debug)]
pub struct Meter {
    budget: BudgetConfig,
    state: Mutex<State>,
}

impl Meter {
    /// A meter with nothing recorded, enforcing `budget`.
    pub fn new(budget: BudgetConfig) -> Self {
        Self { budget, state: Mutex::new(State::default()) }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // Counters stay consistent even if a holder panicked.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Refuses a new call when a limit is reached, naming the limit and the
    /// session's total. Calls already running are not stopped.
    pub fn check_budget(&self) -> Result<(), ModelError> {
        let total = self.state().total;
        let budget = &self.budget;
        if let Some(max) = budget.max_calls {
            if total.calls >= max {
                return Err(ModelError::Budget(format!(
                    "max_calls = {max} reached: this session made {} calls",
                    total.calls
                )));
            }
        }
        if let Some(max) = budget.max_tokens {
            if total.tokens() >= max {
                return Err(ModelError::Budget(format!(
                    "max_tokens = {max} reached: this session used {} tokens ({} prompt, {} generated)",
                    total.tokens(),
                    total.prompt_tokens,
                    total.completion_tokens
                )));
            }
        }
        if let Some(max) = budget.max_cost {
            if total.cost_usd >= max {
                return Err(ModelError::Budget(format!(
                    "max_cost = {max} USD reached: this session cost {:.4} USD",
                    total.cost_usd
                )));
            }
        }
        Ok(())
    }

    /// Records a served call of `backend` and returns its cost in USD.
    pub fn record(&self, backend: &str, usage: &Usage, prices: &Prices) -> f64 {
        let cost = cost(usage, prices);
        let mut state = self.state();
        state.total.add_call(usage, cost);
        state.backends.entry(backend.to_string()).or_default().add_call(usage, cost);
        cost
    }

    /// Records a failed attempt on `backend`.
    pub fn record_failure(&self, backend: &str) {
        let mut state = self.state();
        state.total.failures += 1;
        state.backends.entry(backend.to_string()).or_default().failures += 1;
    }

    /// The counts so far.
    pub fn snapshot(&self) -> MeterReport {
        let state = self.state();
        MeterReport { total: state.total, backends: state.backends.clone(), budget: self.budget }
    }
}

/// What `usage` costs at `prices` (USD per million tokens).
pub fn cost(usage: &Usage, prices: &Prices) -> f64 {
    let cached = usage.cached_tokens.min(usage.prompt_tokens);
    (usage.evaluated_tokens() as f64 * prices.input
        + cached as f64 * prices.cached
        + usage.completion_tokens as f64 * prices.output)
        / 1_000_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRICES: Prices = Prices { input: 0.15, output: 0.60, cached: 0.075 };

    #[test]
    fn cost_uses_cached_and_output_prices() {
        let usage =
            Usage { prompt_tokens: 1_000_000, cached_tokens: 400_000, completion_tokens: 500_000 };
        let c = cost(&usage, &PRICES);
        // 600k * 0.15 + 400k * 0.075 + 500k * 0.60, per million.
        assert!((c - (0.09 + 0.03 + 0.30)).abs() < 1e-9, "{c}");
    }

    #[test]
    fn records_per_backend_and_in_total() {
        let meter = Meter::new(BudgetConfig::default());
        meter.record(
            "a",
            &Usage { prompt_tokens: 10, cached_tokens: 2, completion_tokens: 5 },
            &PRICES,
        );
        meter.record(
            "b",
            &Usage { prompt_tokens: 1, cached_tokens: 0, completion_tokens: 1 },
            &Prices::default(),
        );
        meter.record_failure("a");
        let report = meter.snapshot();
        assert_eq!(report.total.calls, 2);
        assert_eq!(report.total.failures, 1);
        assert_eq!(report.total.prompt_tokens, 11);
        assert_eq!(report.total.cached_tokens, 2);
        assert_eq!(report.total.completion_tokens, 6);
        assert_eq!(report.backends["a"].calls, 1);
        assert_eq!(report.backends["b"].cost_usd, 0.0);
        assert!(report.backends["a"].cost_usd > 0.0);
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["backends"]["a"]["prompt_tokens"], 10);
    }

    #[test]
    fn budget_refuses_with_the_limit_and_the_total() {
        let meter =
            Meter::new(BudgetConfig { max_tokens: Some(100), max_cost: None, max_calls: None });
        meter.check_budget().unwrap();
        meter.record(
            "a",
            &Usage { prompt_tokens: 90, cached_tokens: 0, completion_tokens: 20 },
            &PRICES,
        );
        let err = meter.check_budget().unwrap_err().to_string();
        assert!(err.contains("max_tokens = 100") && err.contains("110 tokens"), "{err}");

        let meter =
            Meter::new(BudgetConfig { max_tokens: None, max_cost: Some(0.5), max_calls: Some(3) });
        let big = Usage { prompt_tokens: 0, cached_tokens: 0, completion_tokens: 1_000_000 };
        meter.record("a", &big, &PRICES);
        let err = meter.check_budget().unwrap_err().to_string();
        assert!(err.contains("max_cost = 0.5") && err.contains("0.6000 USD"), "{err}");

        let meter =
            Meter::new(BudgetConfig { max_tokens: None, max_cost: None, max_calls: Some(1) });
        meter.record("a", &Usage::default(), &PRICES);
        let err = meter.check_budget().unwrap_err().to_string();
        assert!(err.contains("max_calls = 1") && err.contains("1 calls"), "{err}");
    }
}
