//! suit's HTTP server (time-sharing): an OpenAI-compatible API in front of
//! suit's model layer, so existing clients (the `openai` SDKs, Aider,
//! editors, scripts) can use a local model.
//!
//! Endpoints: `GET /healthz`, `GET /v1/models`, `POST /v1/chat/completions`
//! (streaming and not, `n` choices decoded together, JSON-schema output),
//! `POST /v1/completions` (with `suffix` for fill-in-the-middle) and
//! `POST /v1/embeddings`. Every error is in OpenAI's shape,
//! `{"error":{"message","type","param","code"}}`, with its HTTP status.
//! `POST /v1/messages` speaks Anthropic's Messages API (streaming and not)
//! for Anthropic's clients, its errors in Anthropic's shape.
//!
//! Keys: the admin key ([`ServerConfig::api_key`]) and the named keys of
//! the key store ([`ServerConfig::keys`], `suit keys`), each with limits
//! (total tokens, total cost, requests per minute) and its usage recorded;
//! `GET /v1/usage` shows a key its own usage, and the admin every key's.
//!
//! Agent sessions (`/v1/sessions`, when [`ServerConfig::sessions`] is set):
//! runs of suit's loop that clients start, stream (server-sent events,
//! resumable with `Last-Event-ID`) and steer hunk by hunk, and the review
//! page at `/` that drives them in a browser.
//!
//! Sharing: the routes that use the model wait in one bounded queue
//! ([`ServerConfig::max_in_flight`]; beyond it, 429 with `Retry-After`);
//! each request carries its key's name and priority to the model, whose
//! scheduler shares it fairly among keys. `GET /metrics` reports the queue,
//! latencies and tokens per key in the Prometheus text format.
//!
//! ```no_run
//! # async fn demo(model: std::sync::Arc<dyn suit_model::Model>) -> Result<(), suit_server::ServeError> {
//! use suit_server::{serve, Served, ServedModels, ServerConfig};
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8377").await.unwrap();
//! let models = ServedModels::one(Served::new(model, "qwen2.5-coder-1.5b-instruct-q4_k_m"));
//! // Serve until the process ends; pass a future that completes to stop.
//! serve(listener, models, ServerConfig::default(), std::future::pending()).await
//! # }
//! ```

mod admission;
mod auth;
mod chat;
mod completions;
mod embeddings;
mod error;
mod extract;
mod gui;
mod ids;
mod messages;
mod metrics;
mod params;
mod sessions;
mod sessions_api;
mod sse;
mod usage;

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::routing::{get, post};
use axum::Router;
use suit_model::{Model, Prices};
use suit_store::ApiKeys;

pub use error::ApiError;
pub use sessions::{Attached, SessionSettings, Sessions};

/// The largest request body accepted by default: 4 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 4 << 20;

/// One model the server serves, and the names requests may call it by.
#[derive(Clone)]
pub struct Served {
    /// The model.
    pub model: Arc<dyn Model>,
    /// The id `/v1/models` lists.
    pub id: String,
    /// Other names requests may use for it (a backend's name, the model
    /// spec it was configured with).
    pub aliases: Vec<String>,
}

impl Served {
    /// `model`, listed and asked for as `id`.
    pub fn new(model: Arc<dyn Model>, id: impl Into<String>) -> Self {
        Self { model, id: id.into(), aliases: Vec::new() }
    }

    /// Whether a request naming `name` means this model.
    fn answers_to(&self, name: &str) -> bool {
        self.id == name || self.aliases.iter().any(|a| a == name)
    }
}

/// The models behind the endpoints.
#[derive(Clone)]
pub struct ServedModels {
    /// Chat and text completions (and embeddings, when `embeddings` is `None`).
    pub generation: Served,
    /// Embeddings, when a model of their own makes them.
    pub embeddings: Option<Served>,
}

impl ServedModels {
    /// One model for every endpoint.
    pub fn one(served: Served) -> Self {
        Self { generation: served, embeddings: None }
    }

    /// The model that makes embeddings.
    fn embedder(&self) -> &Served {
        self.embeddings.as_ref().unwrap_or(&self.generation)
    }
}

/// Who may use the server, and how much it reads.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The admin key (`Authorization: Bearer KEY` or `x-api-key: KEY`): it
    /// passes without limits and reads every key's usage at `/v1/usage`.
    /// With neither it nor stored keys every request is let in.
    pub api_key: Option<String>,
    /// The named keys (`suit keys`). Once the store holds a key, every
    /// request must present one of them (or `api_key`); each key's limits
    /// are enforced and its usage recorded.
    pub keys: Option<Arc<ApiKeys>>,
    /// USD per million tokens by backend name, to cost the keys' usage: a
    /// reply at the backend that served it; embeddings, and a reply cut
    /// short, at the backend the served model's id or an alias names.
    /// Backends not listed cost nothing.
    pub prices: BTreeMap<String, Prices>,
    /// Largest request body in bytes; larger ones get 413.
    pub body_limit: usize,
    /// Most requests for the model in flight (decoding or waiting); one
    /// more gets 429 with `Retry-After`.
    pub max_in_flight: usize,
    /// Requests the model decodes at once (its parallel sequences), to
    /// estimate `Retry-After`.
    pub slots: usize,
    /// The longest a client may take to send a request's headers (also the
    /// longest a kept-alive connection may stay idle); then the connection
    /// is closed. A client sending a byte a second is cut off.
    pub header_read_timeout: Duration,
    /// The longest a request body may take once its headers arrived; then
    /// 408. Meanwhile the request holds its place in the queue.
    pub body_read_timeout: Duration,
    /// Agent sessions (`/v1/sessions`): runs of the loop on repositories
    /// under their roots; `None`: not served.
    pub sessions: Option<Arc<Sessions>>,
}

/// The default of [`ServerConfig::header_read_timeout`] and
/// [`ServerConfig::body_read_timeout`].
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The default of [`ServerConfig::max_in_flight`].
pub const DEFAULT_MAX_IN_FLIGHT: usize = 64;

impl Default for ServerConfig {
    /// No key, no key store, no prices, the default body limit.
    fn default() -> Self {
        Self {
            api_key: None,
            keys: None,
            prices: BTreeMap::new(),
            body_limit: DEFAULT_BODY_LIMIT,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            slots: 1,
            header_read_timeout: DEFAULT_READ_TIMEOUT,
            body_read_timeout: DEFAULT_READ_TIMEOUT,
            sessions: None,
        }
    }
}

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address is reachable from other machines and no key is set.
    #[error("refusing to serve on {addr} without an API key: that address is reachable from other machines, and anyone who reaches it could use the model\n  fix: add a key with `suit keys add NAME`, or pass --api-key KEY (or set SUIT_API_KEY), or bind a loopback address such as 127.0.0.1:8377")]
    ExposedWithoutKey {
        /// The address asked for.
        addr: SocketAddr,
    },
    /// The key store could not be read.
    #[error("cannot read the API key store: {0}")]
    Keys(#[from] suit_store::Error),
    /// The listener failed.
    #[error("the server on {addr} failed: {source}")]
    Io {
        /// The address served.
        addr: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// Checks the loopback rule: without a key (the admin key, or stored
/// keys), only loopback addresses (127.0.0.0/8, ::1) may be served.
pub fn check_exposure(addr: SocketAddr, has_key: bool) -> Result<(), ServeError> {
    if has_key || addr.ip().is_loopback() {
        Ok(())
    } else {
        Err(ServeError::ExposedWithoutKey { addr })
    }
}

/// Shared state of the request handlers.
#[derive(Clone)]
struct AppState {
    models: Arc<ServedModels>,
    /// Unix seconds when the server started (the `created` of `/v1/models`).
    started: u64,
}

/// The server's routes, ready to be served by `axum::serve`.
pub fn router(models: ServedModels, config: ServerConfig) -> Router {
    let state = AppState { models: Arc::new(models), started: ids::unix_now() };
    let metrics = Arc::new(metrics::Metrics::default());
    let admission =
        Arc::new(admission::Admission::new(config.max_in_flight, config.slots, metrics.clone()));
    // The routes that use the model wait in one bounded queue.
    let model_routes = Router::new()
        .route("/v1/chat/completions", post(chat::chat_completions))
        .route("/v1/completions", post(completions::completions))
        .route("/v1/embeddings", post(embeddings::embeddings))
        .route("/v1/messages", post(messages::messages))
        .route_layer(axum::middleware::from_fn_with_state(admission, admission::admit));
    let mut api = Router::new()
        .route("/v1/models", get(list_models))
        .route("/v1/usage", get(usage::usage))
        .route("/metrics", get(metrics::metrics).with_state(metrics.clone()))
        .merge(model_routes);
    let sessions = config.sessions.is_some();
    if let Some(sessions) = config.sessions {
        api = api.merge(sessions_api::routes(sessions));
    }
    let api = api
        .fallback(error::unknown_route)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            auth::Gate::new(
                config.api_key,
                Arc::new(usage::Accounts::new(config.keys, config.prices, metrics.clone())),
            ),
            auth::require_key,
        ))
        // Outside the key check, so its 401 comes in Anthropic's shape there too.
        .layer(axum::middleware::from_fn(messages::anthropic_errors))
        .layer(DefaultBodyLimit::max(config.body_limit))
        .layer(axum::Extension(extract::BodyReadTimeout(config.body_read_timeout)))
        .with_state(state);
    let public = Router::new().route("/healthz", get(healthz));
    // The review page is static; what it shows comes from the API, behind the key.
    let public = if sessions { public.merge(gui::routes()) } else { public };
    public.merge(api)
}

/// Serves [`router`] on `listener` until `shutdown` completes, then lets
/// requests in flight finish. Refuses a non-loopback listener without a key
/// (the admin key or a stored one; see [`check_exposure`]).
pub async fn serve(
    listener: tokio::net::TcpListener,
    models: ServedModels,
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let addr = listener
        .local_addr()
        .map_err(|source| ServeError::Io { addr: "the listener".into(), source })?;
    let has_keys = match &config.keys {
        Some(keys) => keys.has_keys()?,
        None => false,
    };
    check_exposure(addr, config.api_key.is_some() || has_keys)?;
    let header_read_timeout = config.header_read_timeout;
    let app = router(models, config);
    let connections = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, say: the connections open
                    // go on, and accepting resumes when one closes.
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Streamed tokens go out as they come, not when a segment fills.
        let _ = stream.set_nodelay(true);
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(header_read_timeout)
            .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
        let connection = connections.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%peer, %error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    connections.shutdown().await;
    Ok(())
}

/// The pause after a failed accept (no file descriptor left) before the next.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// `GET /v1/models`: the models this server serves.
async fn list_models(
    State(state): State<AppState>,
) -> axum::Json<suit_protocol::openai::List<suit_protocol::openai::ModelEntry>> {
    let models = &state.models;
    let data = std::iter::once(&models.generation)
        .chain(models.embeddings.as_ref())
        .map(|served| suit_protocol::openai::ModelEntry {
            id: served.id.clone(),
            object: "model".into(),
            created: state.started,
            owned_by: "suit".into(),
        })
        .collect();
    axum::Json(suit_protocol::openai::List::of(data))
}

/// `GET /healthz`: the process is up.
async fn healthz() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "status": "ok" }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_is_served_without_a_key() {
        assert!(check_exposure("127.0.0.1:8377".parse().unwrap(), false).is_ok());
        assert!(check_exposure("[::1]:8377".parse().unwrap(), false).is_ok());
        assert!(check_exposure("0.0.0.0:8377".parse().unwrap(), false).is_err());
        assert!(check_exposure("192.168.1.2:8377".parse().unwrap(), false).is_err());
        assert!(check_exposure("0.0.0.0:8377".parse().unwrap(), true).is_ok());
    }
}
