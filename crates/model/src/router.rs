//! The router: one [`Model`] per task, served by an ordered chain of
//! backends with retries, failover and a circuit breaker per backend, and
//! every call metered.
//!
//! Per call, [`RoleModel`] checks the session budget, then walks the task's
//! chain (`[roles]`):
//! - a backend whose circuit is open is skipped without being touched;
//! - transient errors (429, 408, 5xx, timeouts, refused connections) are
//!   retried on the same backend with exponential backoff, honouring
//!   `Retry-After` up to `retry.max_delay_secs` (a longer wait fails over at
//!   once);
//! - errors that allow it ([`ModelError::allows_failover`]) move on to the
//!   next backend;
//! - `retry.breaker_failures` consecutive failures open a backend's circuit
//!   for `retry.breaker_cooldown_secs`; then one trial call is let through
//!   (half-open) and its outcome closes or reopens the circuit.
//!
//! When the chain is exhausted, [`ModelError::AllBackendsFailed`] lists one
//! line per attempt and skip; when only one attempt was made in all, its own
//! error is returned instead (a missing model file stays
//! [`ModelError::ModelNotFound`]). Errors in the request itself (context
//! overflow, budget) are returned at once, without failover.
//!
//! A stream counts as served once its first item arrived: failover happens
//! only before that, so no text is ever duplicated; an error after text was
//! streamed reaches the caller as is. The meter records a stream's usage
//! when it finishes.
//!
//! ```no_run
//! # async fn demo() -> Result<(), suit_model::ModelError> {
//! use std::sync::Arc;
//! use suit_model::{collect, ChatRequest, Message, Meter, Model, ModelConfig, Router, Task};
//! let config = ModelConfig::default();
//! let meter = Arc::new(Meter::new(config.budget));
//! let router = Router::from_config(&config, meter.clone(), |name, _backend| {
//!     Err(suit_model::ModelError::Config(format!("no embedded engine for {name} in this build")))
//! })?;
//! let chat = router.for_role(Task::Chat);
//! let done = collect(chat.chat(ChatRequest::new(vec![Message::user("hi")])).await?).await?;
//! println!("{} via {}; session: {:?}", done.text, done.backend, meter.snapshot().total);
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use async_trait::async_trait;
use futures::{Stream, StreamExt};
use tokio::sync::OnceCell;
use tokio::time::Instant;

use crate::anthropic::AnthropicBackend;
use crate::config::{
    BackendConfig, BackendKind, ModelConfig, Prices, RetryConfig, RolesConfig, Task,
};
use crate::meter::Meter;
use crate::openai::OpenAiBackend;
use crate::{
    ChatRequest, CompletionRequest, Embeddings, Model, ModelError, Prompt, StreamEvent, TextStream,
    Usage,
};

type Build = Arc<dyn Fn() -> Result<Arc<dyn Model>, ModelError> + Send + Sync>;

/// Routes each task to its chain of backends. Cheap to clone.
#[derive(Clone)]
pub struct Router {
    inner: Arc<Inner>,
    meter: Arc<Meter>,
}

/// What every view of one router shares: backends, breakers, policy.
struct Inner {
    /// Keyed by backend name; a backend's replicas after the first by
    /// `name#2`, `name#3`, ...
    slots: BTreeMap<String, Slot>,
    /// Each backend's slot keys: itself, then its replicas.
    groups: BTreeMap<String, Vec<String>>,
    /// Turns the order of equally loaded replicas, so that calls made one
    /// after another spread over them.
    turn: AtomicUsize,
    roles: RolesConfig,
    retry: RetryConfig,
}

impl Inner {
    /// The slots of backend `name`, least loaded first.
    fn by_load(&self, name: &str) -> Option<Vec<&Slot>> {
        let keys = self.groups.get(name)?;
        let n = keys.len();
        let turn = if n > 1 { self.turn.fetch_add(1, Ordering::Relaxed) % n } else { 0 };
        let mut slots: Vec<(usize, usize, &Slot)> = keys
            .iter()
            .enumerate()
            .filter_map(|(i, key)| {
                let slot = self.slots.get(key)?;
                Some((slot.outstanding.load(Ordering::Relaxed), (i + n - turn) % n, slot))
            })
            .collect();
        slots.sort_by_key(|&(load, order, _)| (load, order));
        Some(slots.into_iter().map(|(_, _, slot)| slot).collect())
    }
}

/// A call in progress on a slot, counted while it lives.
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    fn start(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Self(count.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One server of a backend: built on first use, with its prices, circuit
/// breaker and count of calls outstanding.
struct Slot {
    /// Its key in [`Inner::slots`].
    key: String,
    /// The backend's name: what the meter records.
    name: String,
    /// How attempts name it: the backend, with the server's URL when the
    /// backend has replicas.
    label: String,
    outstanding: Arc<AtomicUsize>,
    prices: Prices,
    ctx_size: Option<usize>,
    model: OnceCell<Arc<dyn Model>>,
    build: Option<Build>,
    breaker: Mutex<Breaker>,
}

impl Slot {
    async fn model(&self) -> Result<Arc<dyn Model>, ModelError> {
        let model = self
            .model
            .get_or_try_init(|| async {
                let Some(build) = self.build.clone() else {
                    return Err(ModelError::Config(format!(
                        "backend {} has no builder",
                        self.name
                    )));
                };
                // Building an embedded backend loads weights: keep it off
                // the async workers.
                tokio::task::spawn_blocking(move || build()).await.map_err(|e| {
                    ModelError::Engine {
                        backend: self.name.clone(),
                        reason: format!("building the backend panicked: {e}"),
                    }
                })?
            })
            .await?;
        Ok(model.clone())
    }

    fn breaker(&self) -> std::sync::MutexGuard<'_, Breaker> {
        self.breaker.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Router {
    /// A router over the backends of `config`, built on first use (a
    /// command that only chats never loads the embedding model). HTTP kinds
    /// are built by this crate; `embedded` builds the `kind = "embedded"`
    /// ones from their name and table. `config` is validated first.
    pub fn from_config<F>(
        config: &ModelConfig,
        meter: Arc<Meter>,
        embedded: F,
    ) -> Result<Self, ModelError>
    where
        F: Fn(&str, &BackendConfig) -> Result<Arc<dyn Model>, ModelError> + Send + Sync + 'static,
    {
        config.validate()?;
        let embedded = Arc::new(embedded);
        let mut slots = BTreeMap::new();
        let mut groups = BTreeMap::new();
        for (name, backend) in &config.backends {
            let mut keys = Vec::new();
            for (i, server) in backend.per_replica().into_iter().enumerate() {
                let (n, b) = (name.clone(), server.clone());
                let build: Build =
                    match backend.kind {
                        BackendKind::Embedded => {
                            let embedded = embedded.clone();
                            Arc::new(move || embedded(&n, &b))
                        }
                        BackendKind::OpenAi => Arc::new(move || {
                            Ok(Arc::new(OpenAiBackend::new(&n, &b)?) as Arc<dyn Model>)
                        }),
                        BackendKind::Anthropic => Arc::new(move || {
                            Ok(Arc::new(AnthropicBackend::new(&n, &b)?) as Arc<dyn Model>)
                        }),
                        BackendKind::Unknown(_) => unreachable!("validate() rejects unknown kinds"),
                    };
                let key = if i == 0 { name.clone() } else { format!("{name}#{}", i + 1) };
                let mut slot = Slot::new(&key, name, Some(&server), OnceCell::new(), Some(build));
                if !backend.replicas.is_empty() {
                    slot.label = format!("{name} ({})", server.base_url.unwrap_or_default());
                }
                slots.insert(key.clone(), slot);
                keys.push(key);
            }
            groups.insert(name.clone(), keys);
        }
        Ok(Self::assemble(slots, groups, config, meter))
    }

    /// A router over already built backends, keyed by [`Model::name`].
    /// `config` supplies the roles, the retry policy and each backend's
    /// prices (a backend without a `[backends]` table costs nothing). Every
    /// backend named in `config.roles` must be among `backends`.
    pub fn new(
        config: &ModelConfig,
        backends: Vec<Arc<dyn Model>>,
        meter: Arc<Meter>,
    ) -> Result<Self, ModelError> {
        let mut slots = BTreeMap::new();
        for model in backends {
            let name = model.name().to_string();
            let slot = Slot::new(
                &name,
                &name,
                config.backends.get(&name),
                OnceCell::new_with(Some(model)),
                None,
            );
            if slots.insert(name.clone(), slot).is_some() {
                return Err(ModelError::Config(format!(
                    "two backends are named \"{name}\"; names must be unique"
                )));
            }
        }
        for task in Task::ALL {
            let chain = config.roles.chain(task);
            if chain.is_empty() {
                return Err(ModelError::Config(format!(
                    "roles.{task} is empty; list at least one backend"
                )));
            }
            for name in chain {
                if !slots.contains_key(name) {
                    return Err(ModelError::Config(format!(
                        "roles.{task} names backend \"{name}\", which was not given (given: {})",
                        slots.keys().cloned().collect::<Vec<_>>().join(", ")
                    )));
                }
            }
        }
        let groups = slots.keys().map(|k| (k.clone(), vec![k.clone()])).collect();
        Ok(Self::assemble(slots, groups, config, meter))
    }

    fn assemble(
        slots: BTreeMap<String, Slot>,
        groups: BTreeMap<String, Vec<String>>,
        config: &ModelConfig,
        meter: Arc<Meter>,
    ) -> Self {
        let inner = Inner {
            slots,
            groups,
            turn: AtomicUsize::new(0),
            roles: config.roles.clone(),
            retry: config.retry,
        };
        Self { meter, inner: Arc::new(inner) }
    }

    /// The model serving `task`. It implements [`Model`]; callers never see
    /// which backend served them (except in [`crate::Completion::backend`]).
    pub fn for_role(&self, task: Task) -> RoleModel {
        RoleModel { inner: self.inner.clone(), meter: self.meter.clone(), task }
    }

    /// The session's meter.
    pub fn meter(&self) -> &Arc<Meter> {
        &self.meter
    }

    /// The same backends, breakers and policy, metered and budgeted by
    /// `meter`: one router per session (or per API key) without loading the
    /// backends again.
    pub fn with_meter(&self, meter: Arc<Meter>) -> Router {
        Router { inner: self.inner.clone(), meter }
    }
}

impl Slot {
    fn new(
        key: &str,
        name: &str,
        config: Option<&BackendConfig>,
        model: OnceCell<Arc<dyn Model>>,
        build: Option<Build>,
    ) -> Self {
        Self {
            key: key.to_string(),
            name: name.to_string(),
            label: name.to_string(),
            outstanding: Arc::new(AtomicUsize::new(0)),
            prices: config.map(BackendConfig::prices).unwrap_or_default(),
            ctx_size: config.and_then(|c| c.ctx_size).map(|n| n as usize),
            model,
            build,
            breaker: Mutex::new(Breaker::default()),
        }
    }
}

/// A task's view of the router; implements [`Model`].
#[derive(Clone)]
pub struct RoleModel {
    inner: Arc<Inner>,
    meter: Arc<Meter>,
    task: Task,
}

/// Whether an error says something about the backend's health (and so
/// counts towards opening its circuit), rather than about the request.
fn counts_against_backend(e: &ModelError) -> bool {
    e.is_transient() || matches!(e, ModelError::Protocol { .. })
}

/// An error on one line, for the attempts list.
fn one_line(e: &ModelError) -> String {
    e.to_string().lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("; ")
}

impl RoleModel {
    /// Walks the chain (each backend's replicas least loaded first); returns
    /// the result, the slot that served it and its call, still counted.
    async fn run<T, F, Fut>(
        &self,
        operation: &str,
        call: F,
    ) -> Result<(T, &Slot, InFlight), ModelError>
    where
        F: Fn(Arc<dyn Model>) -> Fut,
        Fut: Future<Output = Result<T, ModelError>>,
    {
        let inner = &*self.inner;
        let retry = inner.retry;
        let chain = inner.roles.chain(self.task);
        let mut attempts = Vec::new();
        let mut unsupported = Vec::new();
        let mut last_error = None;
        for backend in chain {
            let Some(slots) = inner.by_load(backend) else {
                attempts.push(format!("{backend}: not configured"));
                continue;
            };
            // A failing replica hands over to the next at once.
            let tries = if slots.len() > 1 { 1 } else { retry.max_retries + 1 };
            for slot in slots {
                let name = &slot.label;
                let mut attempt = 0u32;
                loop {
                    attempt += 1;
                    let admitted = slot.breaker().admit(Instant::now(), &retry);
                    if let Err(reason) = admitted {
                        attempts.push(format!("{name}: skipped, {reason}"));
                        break;
                    }
                    let model = match slot.model().await {
                        Ok(model) => model,
                        Err(e) => {
                            slot.breaker().release();
                            // A backend that cannot be built (missing weights,
                            // no API key) says nothing about the request: try
                            // the next one.
                            attempts.push(format!("{name}: could not start: {}", one_line(&e)));
                            last_error = Some(e);
                            break;
                        }
                    };
                    let in_flight = InFlight::start(&slot.outstanding);
                    let error = match call(model).await {
                        Ok(value) => {
                            slot.breaker().success();
                            return Ok((value, slot, in_flight));
                        }
                        Err(e) => e,
                    };
                    drop(in_flight);
                    if !matches!(error, ModelError::Unsupported { .. }) {
                        self.meter.record_failure(&slot.name);
                    }
                    if counts_against_backend(&error) {
                        slot.breaker().failure(Instant::now(), &retry);
                    } else {
                        slot.breaker().release();
                    }
                    // The same failure on retry is one line with a count.
                    let line = format!("{name}: {}", one_line(&error));
                    match attempts.last_mut() {
                        Some(last) if attempt > 1 && last.starts_with(&line) => {
                            *last = format!("{line} ({attempt} attempts)");
                        }
                        _ => attempts.push(line),
                    }
                    tracing::debug!(backend = %name, task = %self.task, operation, %error, "attempt failed");
                    if !error.allows_failover() {
                        return Err(error);
                    }
                    if let ModelError::Unsupported { operation, .. } = &error {
                        unsupported.push(operation.clone());
                        last_error = Some(error);
                        break;
                    }
                    if !error.is_transient() || attempt >= tries {
                        last_error = Some(error);
                        break;
                    }
                    let cap = Duration::from_secs(retry.max_delay_secs);
                    let backoff = Duration::from_millis(retry.base_delay_ms)
                        .saturating_mul(1u32 << (attempt - 1).min(20))
                        .min(cap);
                    let delay = match &error {
                        ModelError::Http { retry_after: Some(after), .. } if *after > cap => {
                            attempts.push(format!(
                            "{name}: asked to retry after {after:?}, longer than retry.max_delay_secs = {}; failing over",
                            retry.max_delay_secs
                        ));
                            break;
                        }
                        ModelError::Http { retry_after: Some(after), .. } => *after,
                        _ => backoff,
                    };
                    tokio::time::sleep(delay).await;
                }
            }
        }
        if attempts.len() == 1 {
            if let Some(error) = last_error {
                // One attempt in all: its own error says it best.
                return Err(error);
            }
        }
        if !unsupported.is_empty() && unsupported.len() == attempts.len() {
            return Err(ModelError::Unsupported {
                backend: format!("no backend of role `{}` ({})", self.task, chain.join(", ")),
                operation: unsupported.swap_remove(0),
            });
        }
        Err(ModelError::AllBackendsFailed { role: self.task.to_string(), attempts })
    }

    async fn stream<F, Fut>(&self, operation: &str, call: F) -> Result<TextStream, ModelError>
    where
        F: Fn(Arc<dyn Model>) -> Fut,
        Fut: Future<Output = Result<TextStream, ModelError>>,
    {
        self.meter.check_budget()?;
        let ((first, rest), slot, in_flight) = self
            .run(operation, |model| {
                let backend = model.name().to_string();
                let started = call(model);
                async move {
                    let mut stream = started.await?;
                    match stream.next().await {
                        Some(Ok(first)) => Ok((first, stream)),
                        Some(Err(e)) => Err(e),
                        None => Err(ModelError::Protocol {
                            backend,
                            reason: "the stream ended before its first item".into(),
                        }),
                    }
                }
            })
            .await?;
        Ok(Box::pin(Metered {
            first: Some(first),
            rest,
            inner: self.inner.clone(),
            meter: self.meter.clone(),
            slot: slot.key.clone(),
            finished: false,
            _in_flight: in_flight,
        }))
    }
}

#[async_trait]
impl Model for RoleModel {
    fn name(&self) -> &str {
        self.task.as_str()
    }

    async fn chat(&self, request: ChatRequest) -> Result<TextStream, ModelError> {
        self.stream("chat", |model| {
            let request = request.clone();
            async move { model.chat(request).await }
        })
        .await
    }

    async fn complete(&self, request: CompletionRequest) -> Result<TextStream, ModelError> {
        let operation =
            if matches!(request.prompt, Prompt::Fim { .. }) { "fim" } else { "complete" };
        self.stream(operation, |model| {
            let request = request.clone();
            async move { model.complete(request).await }
        })
        .await
    }

    async fn embed(&self, inputs: Vec<String>) -> Result<Embeddings, ModelError> {
        self.meter.check_budget()?;
        let (embeddings, slot, _) = self
            .run("embed", |model| {
                let inputs = inputs.clone();
                async move { model.embed(inputs).await }
            })
            .await?;
        self.meter.record(&slot.name, &embeddings.usage, &slot.prices);
        Ok(embeddings)
    }

    async fn tokenize(&self, text: &str) -> Result<Vec<u32>, ModelError> {
        let (tokens, _, _) =
            self.run("tokenize", |model| async move { model.tokenize(text).await }).await?;
        Ok(tokens)
    }

    async fn count_tokens(&self, text: &str) -> Result<usize, ModelError> {
        let (count, _, _) =
            self.run("count_tokens", |model| async move { model.count_tokens(text).await }).await?;
        Ok(count)
    }

    /// The smallest window known along the chain, so that what is built
    /// for this task fits whichever backend serves it.
    fn context_size(&self) -> Option<usize> {
        self.inner
            .roles
            .chain(self.task)
            .iter()
            .filter_map(|name| self.inner.slots.get(name))
            .filter_map(|slot| slot.model.get().and_then(|m| m.context_size()).or(slot.ctx_size))
            .min()
    }
}

/// Forwards a committed stream, metering it when it ends; its slot counts
/// the call as outstanding while it lives.
struct Metered {
    first: Option<StreamEvent>,
    rest: TextStream,
    inner: Arc<Inner>,
    meter: Arc<Meter>,
    /// The key of the slot serving it.
    slot: String,
    finished: bool,
    _in_flight: InFlight,
}

impl Metered {
    fn observe(&mut self, item: &Result<StreamEvent, ModelError>) {
        if self.finished {
            return;
        }
        let Some(slot) = self.inner.slots.get(&self.slot) else { return };
        match item {
            Ok(StreamEvent::Done(done)) => {
                self.finished = true;
                self.meter.record(&slot.name, &done.usage, &slot.prices);
            }
            Ok(StreamEvent::Delta(_)) => {}
            Err(e) => {
                self.finished = true;
                // Text was already streamed, so the provider did work: count
                // the call (its tokens are unknown) and the failure.
                self.meter.record(&slot.name, &Usage::default(), &slot.prices);
                self.meter.record_failure(&slot.name);
                if counts_against_backend(e) {
                    slot.breaker().failure(Instant::now(), &self.inner.retry);
                }
            }
        }
    }
}

impl Stream for Metered {
    type Item = Result<StreamEvent, ModelError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(first) = self.first.take() {
            let item = Ok(first);
            self.observe(&item);
            return Poll::Ready(Some(item));
        }
        if self.finished {
            // Nothing follows the final item or an error.
            return Poll::Ready(None);
        }
        match self.rest.poll_next_unpin(cx) {
            Poll::Ready(Some(item)) => {
                self.observe(&item);
                Poll::Ready(Some(item))
            }
            Poll::Ready(None) => {
                let backend = self.inner.slots.get(&self.slot).map_or("", |s| s.name.as_str());
                let error = ModelError::Protocol {
                    backend: backend.to_string(),
                    reason: "the stream ended without a final result".into(),
                };
                let item = Err(error);
                self.observe(&item);
                Poll::Ready(Some(item))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for Metered {
    fn drop(&mut self) {
        if !self.finished {
            // The reader stopped early; the call still happened.
            if let Some(slot) = self.inner.slots.get(&self.slot) {
                self.meter.record(&slot.name, &Usage::default(), &slot.prices);
            }
        }
    }
}

/// A per-backend circuit breaker.
#[derive(Debug, Default)]
struct Breaker {
    failures: u32,
    state: BreakerState,
}

#[derive(Debug, Default)]
enum BreakerState {
    #[default]
    Closed,
    Open {
        until: Instant,
    },
    HalfOpen {
        trial_running: bool,
    },
}

impl Breaker {
    /// Whether a call may go to the backend now; the error says why not.
    fn admit(&mut self, now: Instant, retry: &RetryConfig) -> Result<(), String> {
        match self.state {
            BreakerState::Closed => Ok(()),
            BreakerState::Open { until } if now < until => Err(format!(
                "circuit open for another {:.1}s after {} consecutive failures (retry.breaker_cooldown_secs = {})",
                (until - now).as_secs_f64(),
                self.failures,
                retry.breaker_cooldown_secs
            )),
            BreakerState::Open { .. } | BreakerState::HalfOpen { trial_running: false } => {
                self.state = BreakerState::HalfOpen { trial_running: true };
                Ok(())
            }
            BreakerState::HalfOpen { trial_running: true } => {
                Err("circuit half-open and its one trial call is still running".into())
            }
        }
    }

    fn success(&mut self) {
        self.failures = 0;
        self.state = BreakerState::Closed;
    }

    fn failure(&mut self, now: Instant, retry: &RetryConfig) {
        self.failures = self.failures.saturating_add(1);
        let open = match self.state {
            BreakerState::HalfOpen { .. } => true,
            _ => retry.breaker_failures > 0 && self.failures >= retry.breaker_failures,
        };
        if open {
            let until = now + Duration::from_secs(retry.breaker_cooldown_secs);
            self.state = BreakerState::Open { until };
        }
    }

    /// The call ended in an error that says nothing about the backend's
    /// health: let the next call be the trial.
    fn release(&mut self) {
        if let BreakerState::HalfOpen { .. } = self.state {
            self.state = BreakerState::HalfOpen { trial_running: false };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn retry(failures: u32, cooldown: u64) -> RetryConfig {
        RetryConfig {
            breaker_failures: failures,
            breaker_cooldown_secs: cooldown,
            ..RetryConfig::default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn breaker_opens_after_consecutive_failures_and_half_opens() {
        let cfg = retry(2, 10);
        let mut b = Breaker::default();
        b.admit(Instant::now(), &cfg).unwrap();
        b.failure(Instant::now(), &cfg);
        b.admit(Instant::now(), &cfg).unwrap();
        b.failure(Instant::now(), &cfg);
        let reason = b.admit(Instant::now(), &cfg).unwrap_err();
        assert!(reason.contains("circuit open") && reason.contains("2 consecutive"), "{reason}");
        tokio::time::advance(Duration::from_secs(10)).await;
        b.admit(Instant::now(), &cfg).unwrap();
        // Only one trial at a time.
        assert!(b.admit(Instant::now(), &cfg).unwrap_err().contains("half-open"));
        // A failed trial reopens at once.
        b.failure(Instant::now(), &cfg);
        assert!(b.admit(Instant::now(), &cfg).is_err());
        tokio::time::advance(Duration::from_secs(10)).await;
        b.admit(Instant::now(), &cfg).unwrap();
        b.success();
        b.admit(Instant::now(), &cfg).unwrap();
        b.admit(Instant::now(), &cfg).unwrap();
        assert_eq!(b.failures, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_success_resets_the_count_and_zero_disables() {
        let cfg = retry(2, 10);
        let mut b = Breaker::default();
        b.failure(Instant::now(), &cfg);
        b.success();
        b.failure(Instant::now(), &cfg);
        b.admit(Instant::now(), &cfg).unwrap();
        let never = retry(0, 10);
        let mut b = Breaker::default();
        for _ in 0..100 {
            b.failure(Instant::now(), &never);
        }
        b.admit(Instant::now(), &never).unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn released_trial_lets_the_next_call_try() {
        let cfg = retry(1, 5);
        let mut b = Breaker::default();
        b.failure(Instant::now(), &cfg);
        tokio::time::advance(Duration::from_secs(5)).await;
        b.admit(Instant::now(), &cfg).unwrap();
        b.release();
        b.admit(Instant::now(), &cfg).unwrap();
    }
}
