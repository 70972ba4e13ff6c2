//! `GET /metrics` in the Prometheus text format: requests in flight and
//! turned away, time to the first byte of a reply (the first token of a
//! stream), request latency, and tokens per key (`rate()` of them is
//! tokens/s).

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::error::ApiError;

/// Prompt or generated tokens.
#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq, EncodeLabelValue)]
pub enum TokenKind {
    /// Prompt tokens evaluated or reused.
    Prompt,
    /// Tokens generated.
    Completion,
}

/// The labels of the token counter.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TokenLabels {
    /// The key's name; `-` for requests without a named key.
    key: String,
    kind: TokenKind,
}

/// The server's metrics, shared by the middleware and the handlers.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Requests for the model decoding or waiting.
    pub in_flight: Gauge,
    /// Requests turned away with 429 because the queue was full.
    pub rejected: Counter,
    /// Seconds from a request's arrival to the first byte of its reply.
    pub first_byte: Histogram,
    /// Seconds from a request's arrival to the end of its reply.
    pub duration: Histogram,
    tokens: Family<TokenLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("suit");
        let in_flight = Gauge::default();
        let rejected = Counter::default();
        // 10 ms to ~5 min.
        let first_byte = Histogram::new(exponential_buckets(0.01, 2.0, 15));
        let duration = Histogram::new(exponential_buckets(0.01, 2.0, 15));
        let tokens = Family::<TokenLabels, Counter>::default();
        registry.register(
            "requests_in_flight",
            "Requests for the model decoding or waiting in the queue",
            in_flight.clone(),
        );
        registry.register(
            "requests_rejected",
            "Requests turned away with 429 because the queue was full",
            rejected.clone(),
        );
        registry.register(
            "time_to_first_byte_seconds",
            "Seconds from a request's arrival to the first byte of its reply (the first token of a stream)",
            first_byte.clone(),
        );
        registry.register(
            "request_duration_seconds",
            "Seconds from a request's arrival to the end of its reply",
            duration.clone(),
        );
        registry.register("tokens", "Tokens served, by key and kind", tokens.clone());
        Self { registry, in_flight, rejected, first_byte, duration, tokens }
    }
}

impl Metrics {
    /// Counts the tokens of one request for `key` (`None`: no named key).
    pub fn count_tokens(&self, key: Option<&str>, prompt: u64, completion: u64) {
        let key = key.unwrap_or("-").to_string();
        self.tokens
            .get_or_create(&TokenLabels { key: key.clone(), kind: TokenKind::Prompt })
            .inc_by(prompt);
        self.tokens
            .get_or_create(&TokenLabels { key, kind: TokenKind::Completion })
            .inc_by(completion);
    }

    /// The text exposition.
    fn render(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

/// `GET /metrics`.
pub async fn metrics(State(metrics): State<Arc<Metrics>>) -> Response {
    match metrics.render() {
        Ok(text) => (
            [(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")],
            text,
        )
            .into_response(),
        Err(_) => ApiError {
            status: axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            message: "The metrics could not be written.".into(),
            kind: "server_error",
            param: None,
            code: None,
        }
        .into_response(),
    }
}
