//! The model layer's error type.

use std::path::PathBuf;
use std::time::Duration;

/// Everything that can go wrong in the model layer. Each message says what
/// happened, where, and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A model file is missing.
    #[error("model file not found: {path}\n  fix: check the path, or name a catalog model instead (`suit models list`; `suit models pull {hint}` downloads one)")]
    ModelNotFound {
        /// Where it was looked for.
        path: PathBuf,
        /// The catalog name or path to suggest.
        hint: String,
    },
    /// A model file exists but llama.cpp could not load it.
    #[error("could not load model {path}: {reason}\n  fix: the file may be truncated or not GGUF; run `suit models rm NAME` and pull it again, or point --model at a valid GGUF")]
    LoadFailed {
        /// The file.
        path: PathBuf,
        /// What llama.cpp said.
        reason: String,
    },
    /// The catalog has no model of this name.
    #[error("unknown model `{name}`\n  fix: run `suit models list` for the catalog, or pass a path to a .gguf file or an http(s) URL")]
    UnknownModel {
        /// The name given.
        name: String,
    },
    /// Downloading or assembling a model failed.
    #[error("could not fetch model `{name}`: {reason}")]
    Download {
        /// The catalog name or URL.
        name: String,
        /// What went wrong and what to do.
        reason: String,
    },
    /// A downloaded or cached file did not have the expected checksum.
    #[error("checksum mismatch for {what}: expected sha256 {expected}, got {actual}\n  fix: the file is corrupt or was tampered with; it was not installed. Run `suit models pull` again")]
    Checksum {
        /// The file or part checked.
        what: String,
        /// The expected sha256.
        expected: String,
        /// The actual sha256.
        actual: String,
    },
    /// A cached model file no longer has the sha256 it was installed with.
    #[error("model file {path} is corrupt: its sha256 is {actual}, expected {expected}\n  fix: run `suit models rm {name} && suit models pull {spec}`")]
    CorruptModel {
        /// The name to remove it by.
        name: String,
        /// The catalog name or URL to pull it again from.
        spec: String,
        /// The file.
        path: PathBuf,
        /// The sha256 it should have.
        expected: String,
        /// The sha256 it has.
        actual: String,
    },
    /// The prompt does not fit in the model's context window.
    #[error("prompt is {tokens} tokens but the context window of {model} holds {limit} (including {reserved} reserved for the answer)\n  fix: shorten the input, lower max_tokens, or use a model with a larger context (`ctx_size` in config)")]
    ContextOverflow {
        /// Model name.
        model: String,
        /// Prompt tokens.
        tokens: usize,
        /// Context size.
        limit: usize,
        /// Tokens reserved for generation.
        reserved: usize,
    },
    /// The request is not valid for this backend or model.
    #[error("invalid request to {backend}: {reason}")]
    InvalidRequest {
        /// The backend's name.
        backend: String,
        /// What is wrong.
        reason: String,
    },
    /// The backend does not implement this operation.
    #[error("{backend} does not support {operation}\n  fix: route the `{operation}` role to a backend that does (see `roles` in suit.toml)")]
    Unsupported {
        /// The backend's name.
        backend: String,
        /// The operation (`embed`, `fim`, `grammar`, ...).
        operation: String,
    },
    /// The backend could not be reached (connection refused, DNS, TLS).
    #[error("cannot reach backend {backend} at {url}: {reason}\n  fix: check that the server is running and the URL in the config is right")]
    Unreachable {
        /// The backend's name.
        backend: String,
        /// The URL tried.
        url: String,
        /// The transport error.
        reason: String,
    },
    /// The backend answered with an HTTP error.
    #[error("backend {backend} answered HTTP {status}: {body}")]
    Http {
        /// The backend's name.
        backend: String,
        /// HTTP status code.
        status: u16,
        /// The start of the response body.
        body: String,
        /// `Retry-After`, when the server sent one.
        retry_after: Option<Duration>,
    },
    /// The backend's answer could not be understood.
    #[error("backend {backend} sent a malformed response: {reason}")]
    Protocol {
        /// The backend's name.
        backend: String,
        /// What was wrong with it.
        reason: String,
    },
    /// The call took longer than its timeout.
    #[error("backend {backend} timed out after {after:?}")]
    Timeout {
        /// The backend's name.
        backend: String,
        /// The timeout.
        after: Duration,
    },
    /// The API key's environment variable is not set.
    #[error("backend {backend} needs an API key in the environment variable {var}, which is not set\n  fix: export {var}=... or change `api_key_env` in the config")]
    MissingApiKey {
        /// The backend's name.
        backend: String,
        /// The variable name.
        var: String,
    },
    /// A budget was exhausted; the call was refused before it was made.
    #[error("budget exhausted: {0}\n  fix: raise the limit under [budget] in suit.toml, or start a new session")]
    Budget(String),
    /// Every backend in a role's chain failed or was skipped.
    #[error("all backends for role `{role}` failed:\n{}", .attempts.iter().map(|a| format!("  - {a}")).collect::<Vec<_>>().join("\n"))]
    AllBackendsFailed {
        /// The role.
        role: String,
        /// One line per backend tried or skipped.
        attempts: Vec<String>,
    },
    /// The configuration is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// An engine-internal failure (llama.cpp decode, tokenizer).
    #[error("{backend} failed: {reason}")]
    Engine {
        /// The backend's name.
        backend: String,
        /// What failed.
        reason: String,
    },
    /// A file-system error, with the path it concerns.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done ("cannot write", ...).
        what: String,
        /// The path.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl ModelError {
    /// Whether retrying the same call on the same backend may succeed:
    /// rate limits, server errors, timeouts and refused connections.
    pub fn is_transient(&self) -> bool {
        match self {
            ModelError::Http { status, .. } => *status == 429 || *status == 408 || *status >= 500,
            ModelError::Timeout { .. } | ModelError::Unreachable { .. } => true,
            _ => false,
        }
    }

    /// Whether another backend might serve the call: anything but errors in
    /// the request itself and exhausted budgets.
    pub fn allows_failover(&self) -> bool {
        !matches!(
            self,
            ModelError::ContextOverflow { .. } | ModelError::Budget(_) | ModelError::Config(_)
        )
    }
}
