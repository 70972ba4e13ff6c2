//! suit's model layer: the processor of an operating system built around an LLM.
//!
//! One [`Model`] interface covers every backend: chat, raw completion
//! (including fill-in-the-middle), embeddings and tokenization, streamed,
//! with sampling controls and grammar- or JSON-Schema-constrained output.
//!
//! Backends:
//! - [`llama::LlamaModel`]: llama.cpp in-process (feature `embedded`, on by
//!   default). Works offline; reuses the KV cache of a session's previous call
//!   so only new tokens are evaluated; decodes concurrent requests together
//!   in one batch.
//! - an OpenAI-compatible HTTP backend (Ollama, vLLM, llama.cpp server,
//!   hosted APIs) and an Anthropic Messages backend.
//!
//! The catalog ([`catalog`]) gets pinned weights onto a machine; [`load`]
//! turns a configured backend into a loaded model, reporting a download's
//! progress to the caller.
//!
//! ```no_run
//! # async fn demo(model: &dyn suit_model::Model) -> Result<(), suit_model::ModelError> {
//! use suit_model::{collect, ChatRequest, Message};
//! let stream = model.chat(ChatRequest::new(vec![Message::user("Say hi")])).await?;
//! let done = collect(stream).await?;
//! println!("{} ({} tokens out)", done.text, done.usage.completion_tokens);
//! # Ok(()) }
//! ```

mod error;
mod types;

pub mod anthropic;
pub mod catalog;
pub mod config;
mod http;
pub mod load;
pub mod meter;
pub mod openai;
pub mod router;
mod sse;

#[cfg(feature = "embedded")]
mod fair;
#[cfg(feature = "embedded")]
pub mod llama;
#[cfg(feature = "embedded")]
mod prompt_cache;
#[cfg(feature = "embedded")]
pub mod speed;

use async_trait::async_trait;
use futures::StreamExt;

pub use anthropic::AnthropicBackend;
pub use config::{
    BackendConfig, BackendKind, BudgetConfig, ModelConfig, Prices, RetryConfig, RolesConfig, Task,
};
pub use error::ModelError;
pub use meter::{Meter, MeterReport, UsageTotals};
pub use openai::OpenAiBackend;
pub use router::{RoleModel, Router};
pub use types::*;

/// The one interface to "the processor". Every backend implements it; the
/// router implements it too, so callers never know which backend served them.
#[async_trait]
pub trait Model: Send + Sync {
    /// The configured name of this backend (e.g. `local`, `openai`).
    fn name(&self) -> &str;

    /// Chat: messages in, a stream of the assistant's reply out.
    async fn chat(&self, request: ChatRequest) -> Result<TextStream, ModelError>;

    /// Raw completion of a prompt, or fill-in-the-middle.
    async fn complete(&self, request: CompletionRequest) -> Result<TextStream, ModelError>;

    /// Embeds each input into one vector.
    async fn embed(&self, inputs: Vec<String>) -> Result<Embeddings, ModelError>;

    /// Splits text into the model's tokens.
    async fn tokenize(&self, text: &str) -> Result<Vec<u32>, ModelError>;

    /// Number of tokens `text` takes for this model.
    async fn count_tokens(&self, text: &str) -> Result<usize, ModelError> {
        Ok(self.tokenize(text).await?.len())
    }

    /// The context window in tokens, when known.
    fn context_size(&self) -> Option<usize> {
        None
    }
}

/// Drains a stream into its final [`Completion`].
pub async fn collect(stream: TextStream) -> Result<Completion, ModelError> {
    collect_with(stream, |_| {}).await
}

/// Drains a stream into its final [`Completion`], passing each piece of text
/// to `on_delta` as it arrives (to show a reply while it is generated).
pub async fn collect_with(
    mut stream: TextStream,
    mut on_delta: impl FnMut(String) + Send,
) -> Result<Completion, ModelError> {
    while let Some(event) = stream.next().await {
        match event? {
            StreamEvent::Delta(text) => on_delta(text),
            StreamEvent::Done(done) => return Ok(done),
        }
    }
    Err(ModelError::Protocol {
        backend: "stream".into(),
        reason: "the stream ended without a final result".into(),
    })
}
