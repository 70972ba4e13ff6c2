//! Per-key usage: who made a request ([`Caller`], attached by the auth
//! middleware), the one place that records what a request used for its
//! key, and `GET /v1/usage`.
//!
//! A reply's usage is written when its last choice has its result, before
//! the response's last bytes are sent (so a client that reads `/v1/usage`
//! after a reply sees it, and the next request is checked against it). A
//! streamed reply the client leaves, or that fails, is recorded when its
//! streams are dropped: the pieces streamed so far count as generated
//! tokens, and the prompt as the model counts its text.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::Json;
use futures::{Stream, StreamExt};

use suit_model::{Message, Prices, Prompt, StreamEvent, TextStream, Usage};
use suit_protocol::openai::List;
use suit_protocol::usage::{KeyEntry, KeyLimits, Remaining};
use suit_store::{ApiKey, ApiKeys, KeyUsage};

use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::Served;

/// What recording needs: the key store and the prices.
#[derive(Debug, Default)]
pub struct Accounts {
    /// The named keys, if the server has a key store.
    pub keys: Option<Arc<ApiKeys>>,
    /// USD per million tokens, by backend name.
    prices: BTreeMap<String, Prices>,
    /// Where tokens are counted for `/metrics`.
    metrics: Arc<Metrics>,
}

impl Accounts {
    /// The key store `keys` (if any), costing usage at `prices`, counting
    /// tokens into `metrics`.
    pub fn new(
        keys: Option<Arc<ApiKeys>>,
        prices: BTreeMap<String, Prices>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self { keys, prices, metrics }
    }

    /// The prices of `backend` when it is known and priced, else of the
    /// backend a name of `served` names, else nothing (free).
    fn prices(&self, backend: Option<&str>, served: &Served) -> Prices {
        backend
            .into_iter()
            .chain(std::iter::once(served.id.as_str()))
            .chain(served.aliases.iter().map(String::as_str))
            .find_map(|name| self.prices.get(name))
            .copied()
            .unwrap_or_default()
    }
}

/// Who a request comes from.
#[derive(Debug, Clone)]
pub enum Who {
    /// Nobody needs a key on this server (loopback, no keys).
    Open,
    /// The `--api-key` key: may read every key's usage.
    Admin,
    /// A named key from the store, as it was when the request came in.
    Key(ApiKey),
}

/// The request's caller, a request extension the auth middleware inserts;
/// handlers take it as an extractor.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who it is.
    pub who: Who,
    accounts: Arc<Accounts>,
}

impl Caller {
    /// `who`, recording into `accounts`.
    pub fn new(who: Who, accounts: Arc<Accounts>) -> Self {
        Self { who, accounts }
    }

    /// The client the model shares its time by: the key's name, or `None`
    /// (one shared account) for the admin key and open servers.
    pub fn client(&self) -> Option<String> {
        match &self.who {
            Who::Key(key) => Some(key.name.clone()),
            Who::Open | Who::Admin => None,
        }
    }

    /// The named key usage is recorded for, with the store.
    fn recorded_key(&self) -> Option<(i64, &Arc<ApiKeys>)> {
        match (&self.who, &self.accounts.keys) {
            (Who::Key(key), Some(keys)) => Some((key.id, keys)),
            _ => None,
        }
    }

    /// The streams of one request's choices, metered: when every choice has
    /// its result (or the streams are dropped), what they used is counted
    /// for `/metrics` and recorded for the caller's key. `served` is the
    /// model they come from and `prompt` the prompt (counted only if no
    /// choice finishes).
    pub fn metered(
        &self,
        streams: Vec<TextStream>,
        served: &Served,
        prompt: &impl PromptText,
    ) -> Vec<TextStream> {
        let tally = Arc::new(Mutex::new(Tally {
            caller: self.clone(),
            served: served.clone(),
            prompt: prompt.text(),
            choices: vec![Choice::Running { pieces: 0 }; streams.len()],
            recorded: false,
        }));
        streams
            .into_iter()
            .enumerate()
            .map(|(index, inner)| {
                Box::pin(MeteredStream { inner, index, tally: tally.clone() }) as TextStream
            })
            .collect()
    }

    /// Records an embeddings request of `served` that used `usage`.
    pub fn record_embeddings(&self, served: &Served, usage: &Usage) {
        let cost = suit_model::meter::cost(usage, &self.accounts.prices(None, served));
        self.record(usage, cost);
    }

    /// The one place usage is written: one request, its tokens and cost.
    fn record(&self, usage: &Usage, cost_usd: f64) {
        let key = match &self.who {
            Who::Key(key) => Some(key.name.as_str()),
            Who::Open | Who::Admin => None,
        };
        self.accounts.metrics.count_tokens(key, usage.prompt_tokens, usage.completion_tokens);
        let Some((id, keys)) = self.recorded_key() else { return };
        let delta = KeyUsage {
            requests: 1,
            prompt_tokens: usage.prompt_tokens,
            completion_tokens: usage.completion_tokens,
            cost_usd,
        };
        if let Err(error) = keys.record(id, &delta) {
            tracing::error!("cannot record the usage of an API key: {error}");
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Caller>()
            .cloned()
            .unwrap_or_else(|| Caller::new(Who::Open, Arc::new(Accounts::default()))))
    }
}

/// A prompt whose text can be counted.
pub trait PromptText {
    /// The prompt's text.
    fn text(&self) -> String;
}

impl PromptText for Vec<Message> {
    fn text(&self) -> String {
        self.iter().map(|m| m.content.as_str()).collect::<Vec<_>>().join("\n")
    }
}

impl PromptText for Prompt {
    fn text(&self) -> String {
        match self {
            Prompt::Text(text) => text.clone(),
            Prompt::Fim { prefix, suffix } => format!("{prefix}{suffix}"),
        }
    }
}

/// Where one choice is.
#[derive(Debug, Clone)]
enum Choice {
    /// Streaming; `pieces` of text so far.
    Running { pieces: u64 },
    /// Finished with its result.
    Done { usage: Usage, backend: String },
    /// Ended without a result (failed, or cut short) after `pieces`.
    Ended { pieces: u64 },
}

/// What the choices of one request used so far.
struct Tally {
    caller: Caller,
    served: Served,
    prompt: String,
    choices: Vec<Choice>,
    recorded: bool,
}

impl Tally {
    /// Notes what a stream yielded; records once every choice has its result.
    fn observe(
        &mut self,
        index: usize,
        item: Option<&Result<StreamEvent, suit_model::ModelError>>,
    ) {
        let Some(choice) = self.choices.get_mut(index) else { return };
        let Choice::Running { pieces } = choice else { return };
        match item {
            Some(Ok(StreamEvent::Delta(text))) => {
                if !text.is_empty() {
                    *pieces += 1;
                }
            }
            Some(Ok(StreamEvent::Done(done))) => {
                *choice = Choice::Done { usage: done.usage, backend: done.backend.clone() };
            }
            Some(Err(_)) | None => *choice = Choice::Ended { pieces: *pieces },
        }
        if !self.recorded && self.choices.iter().all(|c| matches!(c, Choice::Done { .. })) {
            self.recorded = true;
            let (usage, backend) = self.sum(None);
            self.record(&usage, backend.as_deref());
        }
    }

    /// The usage of the choices (the prompt counted once, the generated
    /// tokens of every choice; a choice without a result counts its
    /// pieces), with the backend of the first finished one. `prompt` is the
    /// prompt's size when no choice finished.
    fn sum(&self, prompt: Option<u64>) -> (Usage, Option<String>) {
        let mut usage = Usage::default();
        let mut backend = None;
        for choice in &self.choices {
            match choice {
                Choice::Done { usage: one, backend: b } => {
                    usage.prompt_tokens = usage.prompt_tokens.max(one.prompt_tokens);
                    usage.cached_tokens = usage.cached_tokens.max(one.cached_tokens);
                    usage.completion_tokens += one.completion_tokens;
                    backend.get_or_insert_with(|| b.clone());
                }
                Choice::Running { pieces } | Choice::Ended { pieces } => {
                    usage.completion_tokens += pieces;
                }
            }
        }
        if backend.is_none() {
            usage.prompt_tokens = prompt.unwrap_or(0);
        }
        (usage, backend)
    }

    fn record(&self, usage: &Usage, backend: Option<&str>) {
        let prices = self.caller.accounts.prices(backend, &self.served);
        self.caller.record(usage, suit_model::meter::cost(usage, &prices));
    }
}

impl Drop for Tally {
    /// The client left, or a choice failed: records what was generated.
    fn drop(&mut self) {
        if self.recorded {
            return;
        }
        self.recorded = true;
        if self.choices.iter().any(|c| matches!(c, Choice::Done { .. })) {
            let (usage, backend) = self.sum(None);
            self.record(&usage, backend.as_deref());
            return;
        }
        // No result carries the prompt's size: ask the model to count it
        // (a rough count of its text if the model cannot).
        let rough = (self.prompt.len() / 4) as u64;
        let (usage, _) = self.sum(Some(rough));
        let rest = Tally {
            caller: self.caller.clone(),
            served: self.served.clone(),
            prompt: std::mem::take(&mut self.prompt),
            choices: std::mem::take(&mut self.choices),
            recorded: true,
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    let counted = rest.served.model.count_tokens(&rest.prompt).await;
                    let prompt = counted.map_or(rough, |n| n as u64);
                    let (usage, _) = rest.sum(Some(prompt));
                    rest.record(&usage, None);
                });
            }
            Err(_) => rest.record(&usage, None),
        }
    }
}

/// One choice's stream, reporting to its request's [`Tally`].
struct MeteredStream {
    inner: TextStream,
    index: usize,
    tally: Arc<Mutex<Tally>>,
}

impl Stream for MeteredStream {
    type Item = Result<StreamEvent, suit_model::ModelError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let item = match self.inner.poll_next_unpin(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(item) => item,
        };
        // Counters stay consistent even if a holder panicked.
        self.tally.lock().unwrap_or_else(|e| e.into_inner()).observe(self.index, item.as_ref());
        Poll::Ready(item)
    }
}

/// `GET /v1/usage`: a named key's own usage and limits; with the admin key
/// (or on an open server), every key's, removed ones included.
pub async fn usage(caller: Caller) -> Result<Json<List<KeyEntry>>, ApiError> {
    let keys = match caller.who {
        Who::Key(key) => vec![key],
        Who::Admin | Who::Open => match caller.accounts.keys.clone() {
            None => Vec::new(),
            Some(store) => tokio::task::spawn_blocking(move || store.list(true))
                .await
                .map_err(|e| store_failure(&e.to_string()))?
                .map_err(|e| store_failure(&e.to_string()))?,
        },
    };
    Ok(Json(List::of(keys.iter().map(entry).collect())))
}

/// The 500 for a key store that cannot be read (the detail goes to the log).
pub fn store_failure(detail: &str) -> ApiError {
    tracing::error!("the API key store failed: {detail}");
    ApiError {
        status: axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        message: "The server could not read its API key store. Try again; if it keeps \
                  failing, tell the server's operator (the detail is in the server's log)."
            .into(),
        kind: "server_error",
        param: None,
        code: Some("key_store_error"),
    }
}

/// One key in `/v1/usage`.
fn entry(key: &ApiKey) -> KeyEntry {
    let usage = &key.usage;
    let limits = &key.limits;
    let seconds = |ms: i64| ms.div_euclid(1000);
    KeyEntry {
        object: "api_key".into(),
        name: key.name.clone(),
        created: seconds(key.created_ms),
        last_used: key.last_used_ms.map(seconds),
        revoked: key.revoked_ms.map(seconds),
        requests: usage.requests,
        prompt_tokens: usage.prompt_tokens,
        completion_tokens: usage.completion_tokens,
        total_tokens: usage.tokens(),
        cost_usd: usage.cost_usd,
        limits: KeyLimits {
            max_tokens: limits.max_tokens,
            max_cost_usd: limits.max_cost_usd,
            rpm: limits.rpm,
        },
        remaining: Remaining {
            tokens: limits.max_tokens.map(|max| max.saturating_sub(usage.tokens())),
            cost_usd: limits.max_cost_usd.map(|max| (max - usage.cost_usd).max(0.0)),
        },
    }
}
