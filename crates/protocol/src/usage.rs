//! `GET /v1/usage` of `suit serve`: each API key's use and limits.

use serde::Serialize;

/// One key in `/v1/usage`.
#[derive(Debug, Clone, Serialize)]
pub struct KeyEntry {
    /// Always `api_key`.
    pub object: String,
    /// The key's name (never its secret).
    pub name: String,
    /// Unix seconds.
    pub created: i64,
    /// Unix seconds of its last request.
    pub last_used: Option<i64>,
    /// Unix seconds of its removal.
    pub revoked: Option<i64>,
    /// Requests served.
    pub requests: u64,
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Generated tokens.
    pub completion_tokens: u64,
    /// The two together.
    pub total_tokens: u64,
    /// At the backends' configured prices.
    pub cost_usd: f64,
    /// What it may use.
    pub limits: KeyLimits,
    /// What is left of it.
    pub remaining: Remaining,
}

/// A key's limits (`null`: none).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct KeyLimits {
    /// Most tokens in all.
    pub max_tokens: Option<u64>,
    /// Most cost in all, in USD.
    pub max_cost_usd: Option<f64>,
    /// Most requests in 60 s.
    pub rpm: Option<u32>,
}

/// What is left under a key's limits (`null`: no limit).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Remaining {
    /// Tokens.
    pub tokens: Option<u64>,
    /// USD.
    pub cost_usd: Option<f64>,
}
