//! The key check: `Authorization: Bearer KEY` or `x-api-key: KEY`.
//!
//! Two kinds of key: the admin key (`--api-key`), compared in constant
//! time, and the named keys of the key store (`suit keys add`), found by
//! the SHA-256 of the presented secret. A request that passes gets a
//! [`Caller`] extension naming its key. A named key's limits are checked
//! on the requests that use the model (every method but `GET`, so a key
//! over its limits can still read `/v1/usage`): its total tokens and cost
//! (429 `insufficient_quota`), and its requests in the last 60 seconds
//! (429 `rate_limit_exceeded` with `Retry-After`).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;
use suit_store::{ApiKey, ApiKeys, Quota};

use crate::error::ApiError;
use crate::usage::{store_failure, Accounts, Caller, Who};

/// The window of the requests-per-minute limit.
const MINUTE: Duration = Duration::from_secs(60);

/// Who may pass, and the state of the rate limits.
pub struct Gate {
    /// The admin key, if any.
    admin: Option<Arc<[u8]>>,
    accounts: Arc<Accounts>,
    /// Set once the store was seen holding keys: from then on every request
    /// needs a key, even if all the keys are removed (a server exposed
    /// because it had keys never opens up).
    locked: AtomicBool,
    /// Per key id, when its recent requests came in.
    windows: Mutex<HashMap<i64, VecDeque<Instant>>>,
}

impl Gate {
    /// Requires `admin` when it is set, and a stored key when `accounts`
    /// holds any; lets everything in otherwise.
    pub fn new(admin: Option<String>, accounts: Arc<Accounts>) -> Arc<Self> {
        // A store that cannot be read counts as holding keys: refuse rather
        // than open up.
        let locked = accounts.keys.as_ref().is_some_and(|k| k.has_keys().unwrap_or(true));
        Arc::new(Self {
            admin: admin.map(|k| Arc::from(k.into_bytes())),
            accounts,
            locked: AtomicBool::new(locked),
            windows: Mutex::new(HashMap::new()),
        })
    }

    /// Whether requests need a key.
    async fn required(&self) -> Result<bool, ApiError> {
        if self.admin.is_some() || self.locked.load(Ordering::Relaxed) {
            return Ok(true);
        }
        let Some(keys) = &self.accounts.keys else { return Ok(false) };
        let has = blocking(keys, ApiKeys::has_keys).await?;
        if has {
            self.locked.store(true, Ordering::Relaxed);
        }
        Ok(has)
    }

    /// Who presents the key `given` (if any), or the error answer that
    /// refuses the request; `uses_model` applies the key's limits.
    async fn admit(&self, given: Option<&str>, uses_model: bool) -> Result<Who, Response> {
        if !self.required().await.map_err(IntoResponse::into_response)? {
            return Ok(Who::Open);
        }
        let Some(given) = given else {
            return Err(ApiError::unauthorized(
                "You didn't provide an API key. Send it as `Authorization: Bearer KEY` \
                 (or `x-api-key: KEY`): a key from `suit keys add`, or the key `suit serve` \
                 was started with.",
                "missing_api_key",
            )
            .into_response());
        };
        if let Some(admin) = &self.admin {
            if bool::from(given.as_bytes().ct_eq(admin)) {
                return Ok(Who::Admin);
            }
        }
        let key = match &self.accounts.keys {
            Some(keys) => {
                let secret = given.to_string();
                blocking(keys, move |k| k.verify(&secret)).await.map_err(|e| e.into_response())?
            }
            None => None,
        };
        let Some(key) = key else {
            return Err(ApiError::unauthorized(
                "Incorrect API key provided. Use a key from `suit keys add` (a removed key \
                 is refused) or the key `suit serve` was started with (--api-key or \
                 SUIT_API_KEY).",
                "invalid_api_key",
            )
            .into_response());
        };
        if uses_model {
            if let Some(quota) = key.exhausted() {
                return Err(quota_error(&key.name, quota).into_response());
            }
            if let Err(wait) = self.count_request(&key) {
                return Err(rate_error(&key, wait));
            }
        }
        Ok(Who::Key(key))
    }

    /// Counts a request of `key` against its `rpm`, or says how many whole
    /// seconds until it may make another.
    fn count_request(&self, key: &ApiKey) -> Result<(), u64> {
        let Some(rpm) = key.limits.rpm else { return Ok(()) };
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let window = windows.entry(key.id).or_default();
        while window.front().is_some_and(|t| now.duration_since(*t) >= MINUTE) {
            window.pop_front();
        }
        if window.len() >= rpm as usize {
            let oldest = window.front().copied().unwrap_or(now);
            let wait = MINUTE.saturating_sub(now.duration_since(oldest));
            return Err((wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1));
        }
        window.push_back(now);
        Ok(())
    }
}

/// Runs a key store call off the async threads.
async fn blocking<T: Send + 'static>(
    keys: &Arc<ApiKeys>,
    call: impl FnOnce(&ApiKeys) -> suit_store::Result<T> + Send + 'static,
) -> Result<T, ApiError> {
    let keys = keys.clone();
    tokio::task::spawn_blocking(move || call(&keys))
        .await
        .map_err(|e| store_failure(&e.to_string()))?
        .map_err(|e| store_failure(&e.to_string()))
}

/// The 429 for a key that used up a total limit.
fn quota_error(name: &str, quota: Quota) -> ApiError {
    let message = match quota {
        Quota::Tokens { max, used } => format!(
            "This API key (`{name}`) has used {used} tokens, its limit (max_tokens) is {max}: \
             it can make no more requests. To raise the limit, the server's operator runs \
             `suit keys set {name} --max-tokens N`."
        ),
        Quota::Cost { max, used } => format!(
            "This API key (`{name}`) has spent {used:.6} USD, its limit (max_cost) is {max} USD: \
             it can make no more requests. To raise the limit, the server's operator runs \
             `suit keys set {name} --max-cost USD`."
        ),
    };
    ApiError {
        status: StatusCode::TOO_MANY_REQUESTS,
        message,
        kind: "insufficient_quota",
        param: None,
        code: Some("insufficient_quota"),
    }
}

/// The 429 for a key over its requests per minute, with `Retry-After`.
fn rate_error(key: &ApiKey, wait_seconds: u64) -> Response {
    let name = &key.name;
    let rpm = key.limits.rpm.unwrap_or(0);
    let error = ApiError {
        status: StatusCode::TOO_MANY_REQUESTS,
        message: format!(
            "Rate limit reached for API key `{name}`: {rpm} requests per minute (rpm). Try \
             again in {wait_seconds} s, or ask the server's operator to raise the limit \
             (`suit keys set {name} --rpm N`)."
        ),
        kind: "requests",
        param: None,
        code: Some("rate_limit_exceeded"),
    };
    let mut response = error.into_response();
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(wait_seconds));
    response
}

/// Middleware: passes the request on, with its [`Caller`], when it may
/// pass; else answers 401, 429 (or 500 when the key store fails).
pub async fn require_key(
    State(gate): State<Arc<Gate>>,
    mut request: Request,
    next: Next,
) -> Response {
    let given = presented_key(request.headers()).map(str::to_owned);
    let uses_model = request.method() != Method::GET;
    match gate.admit(given.as_deref(), uses_model).await {
        Ok(who) => {
            request.extensions_mut().insert(Caller::new(who, gate.accounts.clone()));
            next.run(request).await
        }
        Err(refusal) => refusal,
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
