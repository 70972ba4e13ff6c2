//! Request, response and streaming types shared by every backend.

use std::pin::Pin;

use futures::Stream;
use serde::{Deserialize, Serialize};

use crate::ModelError;

/// Who said a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions that frame the conversation.
    System,
    /// The person (or the program acting for them).
    User,
    /// The model.
    Assistant,
}

impl Role {
    /// The lowercase wire name (`system`, `user`, `assistant`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// One message of a chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Who said it.
    pub role: Role,
    /// What was said.
    pub content: String,
}

impl Message {
    /// A system message.
    pub fn system(content: impl Into<String>) -> Self {
        Self { role: Role::System, content: content.into() }
    }
    /// A user message.
    pub fn user(content: impl Into<String>) -> Self {
        Self { role: Role::User, content: content.into() }
    }
    /// An assistant message.
    pub fn assistant(content: impl Into<String>) -> Self {
        Self { role: Role::Assistant, content: content.into() }
    }
}

/// How the next token is chosen, and when generation stops.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Sampling {
    /// 0 means greedy decoding (always the most likely token).
    pub temperature: f32,
    /// Nucleus sampling: keep the smallest set of tokens whose probability
    /// sums to at least this (1.0 disables it).
    pub top_p: f32,
    /// Seed of the random sampler, for repeatable non-greedy output.
    pub seed: u32,
    /// Generation stops before any of these strings; they are not returned.
    pub stop: Vec<String>,
    /// Upper bound on generated tokens.
    pub max_tokens: u32,
}

impl Default for Sampling {
    fn default() -> Self {
        Self { temperature: 0.0, top_p: 1.0, seed: 0, stop: Vec::new(), max_tokens: 512 }
    }
}

impl Sampling {
    /// Greedy decoding with at most `max_tokens` tokens.
    pub fn greedy(max_tokens: u32) -> Self {
        Self { max_tokens, ..Self::default() }
    }
}

/// A constraint on the shape of the output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Constraint {
    /// A llama.cpp GBNF grammar whose `root` rule the output must match.
    /// Only the embedded backend supports raw grammars.
    Grammar(String),
    /// A JSON Schema the output must validate against. The embedded backend
    /// compiles it to a grammar; HTTP backends pass it as a structured-output
    /// request where the API has one.
    JsonSchema(serde_json::Value),
}

/// How urgent a request is, when several wait for one model.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Someone is waiting for the answer (an editor, a chat): goes first.
    #[default]
    Interactive,
    /// Background work (an eval, a batch of documents): waits while
    /// interactive requests do.
    Batch,
}

/// A chat request: messages in, one assistant message out.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// The conversation so far, oldest first.
    pub messages: Vec<Message>,
    /// Sampling and stopping.
    #[serde(default)]
    pub sampling: Sampling,
    /// An optional output constraint.
    #[serde(default)]
    pub constraint: Option<Constraint>,
    /// A key that groups calls of one conversation. Backends that cache
    /// (the embedded one) keep this session's evaluated prefix so the next
    /// call only evaluates what is new.
    #[serde(default)]
    pub session: Option<String>,
    /// Who the request is for (an API key's name). Backends that schedule
    /// (the embedded one) share the model fairly among clients by tokens
    /// served; requests without a client share one anonymous account.
    #[serde(default)]
    pub client: Option<String>,
    /// Interactive requests go ahead of batch work.
    #[serde(default)]
    pub priority: Priority,
}

impl ChatRequest {
    /// A request with these messages and default (greedy) sampling.
    pub fn new(messages: Vec<Message>) -> Self {
        Self { messages, ..Self::default() }
    }
}

/// What to complete: raw text, or a fill-in-the-middle gap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prompt {
    /// Continue this text as is (no chat template).
    Text(String),
    /// Fill the gap between `prefix` and `suffix` with the model's
    /// fill-in-the-middle tokens.
    Fim {
        /// Text before the cursor.
        prefix: String,
        /// Text after the cursor.
        suffix: String,
    },
}

/// A raw completion request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompletionRequest {
    /// What to complete.
    pub prompt: Prompt,
    /// Sampling and stopping.
    #[serde(default)]
    pub sampling: Sampling,
    /// An optional output constraint.
    #[serde(default)]
    pub constraint: Option<Constraint>,
    /// See [`ChatRequest::session`].
    #[serde(default)]
    pub session: Option<String>,
    /// See [`ChatRequest::client`].
    #[serde(default)]
    pub client: Option<String>,
    /// See [`ChatRequest::priority`].
    #[serde(default)]
    pub priority: Priority,
}

impl CompletionRequest {
    /// Complete `text` with default (greedy) sampling.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            prompt: Prompt::Text(text.into()),
            sampling: Sampling::default(),
            constraint: None,
            session: None,
            client: None,
            priority: Priority::Interactive,
        }
    }
    /// Fill the gap between `prefix` and `suffix`.
    pub fn fim(prefix: impl Into<String>, suffix: impl Into<String>) -> Self {
        Self {
            prompt: Prompt::Fim { prefix: prefix.into(), suffix: suffix.into() },
            ..Self::text("")
        }
    }
}

/// Token counts of one call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Tokens in the prompt.
    pub prompt_tokens: u64,
    /// Of the prompt tokens, how many were served from a cache rather than
    /// evaluated (KV prefix reuse, or a provider's prompt cache).
    pub cached_tokens: u64,
    /// Tokens generated.
    pub completion_tokens: u64,
}

impl Usage {
    /// Prompt tokens that were actually evaluated.
    pub fn evaluated_tokens(&self) -> u64 {
        self.prompt_tokens.saturating_sub(self.cached_tokens)
    }
    /// Adds another call's counts to these.
    pub fn add(&mut self, other: &Usage) {
        self.prompt_tokens += other.prompt_tokens;
        self.cached_tokens += other.cached_tokens;
        self.completion_tokens += other.completion_tokens;
    }
}

/// Why generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// The model ended its turn, or a stop sequence matched.
    Stop,
    /// `max_tokens` was reached.
    Length,
}

/// The finished result of a generation call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Completion {
    /// The generated text (stop sequences excluded).
    pub text: String,
    /// Why it ended.
    pub finish_reason: FinishReason,
    /// Token counts.
    pub usage: Usage,
    /// The model that produced it, as the backend names it.
    pub model: String,
    /// The backend that served it (its configured name).
    pub backend: String,
}

/// One item of a generation stream.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// More text, in order.
    Delta(String),
    /// The end: the whole result. Always the last item of a stream that did
    /// not fail.
    Done(Completion),
}

/// A stream of generated text, ending with [`StreamEvent::Done`].
pub type TextStream = Pin<Box<dyn Stream<Item = Result<StreamEvent, ModelError>> + Send>>;

/// Embedding vectors, one per input, in input order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Embeddings {
    /// One vector per input.
    pub vectors: Vec<Vec<f32>>,
    /// Token counts (only `prompt_tokens` is set).
    pub usage: Usage,
    /// The model that produced them.
    pub model: String,
}

/// Cosine similarity of two vectors of equal length (0 if either is zero).
pub fn cosine_similarity(a: &[f32], b: &[f32]) -> f32 {
    let (mut dot, mut na, mut nb) = (0.0f32, 0.0f32, 0.0f32);
    for (x, y) in a.iter().zip(b) {
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na.sqrt() * nb.sqrt())
    }
}
