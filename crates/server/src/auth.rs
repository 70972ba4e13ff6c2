//! The API key check: `Authorization: Bearer KEY` or `x-api-key: KEY`,
//! compared in constant time.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use crate::error::ApiError;

/// The key requests must present, if any.
#[derive(Clone)]
pub struct Keys {
    key: Option<Arc<[u8]>>,
}

impl Keys {
    /// Requires `key` when it is set; lets everything in otherwise.
    pub fn new(key: Option<String>) -> Self {
        Self { key: key.map(|k| Arc::from(k.into_bytes())) }
    }
}

/// Middleware: passes the request on when it carries the key, else 401.
pub async fn require_key(State(keys): State<Keys>, request: Request, next: Next) -> Response {
    let Some(expected) = &keys.key else {
        return next.run(request).await;
    };
    match presented_key(request.headers()) {
        None => ApiError::unauthorized(
            "You didn't provide an API key. Send it as `Authorization: Bearer KEY` \
             (or `x-api-key: KEY`); it is the key `suit serve` was started with.",
            "missing_api_key",
        )
        .into_response(),
        Some(given) if bool::from(given.as_bytes().ct_eq(expected)) => next.run(request).await,
        Some(_) => ApiError::unauthorized(
            "Incorrect API key provided. Use the key `suit serve` was started with \
             (--api-key or SUIT_API_KEY).",
            "invalid_api_key",
        )
        .into_response(),
    }
}

/// The key in `Authorization: Bearer KEY`, else in `x-api-key`.
fn presented_key(headers: &HeaderMap) -> Option<&str> {
    let bearer = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim);
    bearer.or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()).map(str::trim))
}
