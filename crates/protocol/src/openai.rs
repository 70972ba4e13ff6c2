//! The OpenAI-compatible routes of `suit serve` (`/v1/chat/completions`,
//! `/v1/completions`, `/v1/embeddings`): the request bodies as suit reads
//! them (the fields it uses, each optional where OpenAI's is; fields suit
//! does not use are ignored; the server checks the values), and the
//! completion objects it answers with, whole or as stream chunks.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `POST /v1/chat/completions`.
#[derive(Debug, Clone, Deserialize)]
pub struct ChatCompletionRequest {
    /// The model's id, as `/v1/models` lists it.
    pub model: String,
    /// The conversation, oldest first.
    pub messages: Vec<ChatMessage>,
    /// Most tokens to generate.
    #[serde(default)]
    pub max_tokens: Option<u32>,
    /// Chat's newer name for `max_tokens`.
    #[serde(default)]
    pub max_completion_tokens: Option<u32>,
    /// 0 to 2; OpenAI's default is 1.
    #[serde(default)]
    pub temperature: Option<f32>,
    /// Nucleus sampling, (0, 1].
    #[serde(default)]
    pub top_p: Option<f32>,
    /// Seed for repeatable sampling.
    #[serde(default)]
    pub seed: Option<i64>,
    /// Stop sequences.
    #[serde(default)]
    pub stop: Option<Stop>,
    /// Choices to generate.
    #[serde(default)]
    pub n: Option<u32>,
    /// Stream the reply as server-sent events.
    #[serde(default)]
    pub stream: Option<bool>,
    /// What a stream adds.
    #[serde(default)]
    pub stream_options: Option<StreamOptions>,
    /// `flex` marks batch work, which waits while interactive requests do.
    #[serde(default)]
    pub service_tier: Option<String>,
    /// Free text, any JSON object, or JSON valid against a schema.
    #[serde(default)]
    pub response_format: Option<ResponseFormat>,
    /// Tools the model may call (suit refuses a non-empty list).
    #[serde(default)]
    pub tools: Option<Value>,
}

/// One message of a chat.
#[derive(Debug, Clone, Deserialize)]
pub struct ChatMessage {
    /// Who speaks.
    pub role: ChatRole,
    /// What is said (absent on some assistant messages).
    #[serde(default)]
    pub content: Option<MessageContent>,
}

/// A message's `role`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatRole {
    /// Instructions.
    System,
    /// Instructions, in OpenAI's newer name.
    Developer,
    /// The person.
    User,
    /// The model.
    Assistant,
    /// A tool's result.
    Tool,
    /// A function's result (OpenAI's older name for tools).
    Function,
}

/// A message's `content`: a string, or an array of content parts.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum MessageContent {
    /// Plain text.
    Text(String),
    /// Content parts (suit takes `text` parts).
    Parts(Vec<ContentPart>),
}

/// One content part.
#[derive(Debug, Clone, Deserialize)]
pub struct ContentPart {
    /// `text`, `image_url`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// The text of a `text` part.
    #[serde(default)]
    pub text: Option<String>,
}

/// `response_format`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseFormat {
    /// Free text.
    Text,
    /// Any JSON object.
    JsonObject,
    /// JSON valid against a schema.
    JsonSchema {
        /// The schema and its name.
        json_schema: JsonSchemaFormat,
    },
}

/// `response_format.json_schema`.
#[derive(Debug, Clone, Deserialize)]
pub struct JsonSchemaFormat {
    /// The JSON Schema the reply must follow.
    #[serde(default)]
    pub schema: Option<Value>,
}

/// `stop`: one string or several.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Stop {
    /// One stop sequence.
    One(String),
    /// Several.
    Many(Vec<String>),
}

/// `stream_options`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct StreamOptions {
    /// Send a last chunk with the request's `usage`.
    #[serde(default)]
    pub include_usage: Option<bool>,
}

/// `POST /v1/completions`: raw text completion, or fill-in-the-middle with
/// a `suffix`.
#[derive(Debug, Clone, Deserialize)]
pub struct TextCompletionRequest {
    /// The model's id.
    pub model: String,
    /// The text to continue.
    pub prompt: CompletionPrompt,
    /// The text after the gap to fill.
    #[serde(default)]
    pub suffix: Option<String>,
    /// Most tokens to generate.
    #[serde(default)]
    pub max_tokens: Option<u32>,
    /// 0 to 2.
    #[serde(default)]
    pub temperature: Option<f32>,
    /// Nucleus sampling, (0, 1].
    #[serde(default)]
    pub top_p: Option<f32>,
    /// Seed for repeatable sampling.
    #[serde(default)]
    pub seed: Option<i64>,
    /// Stop sequences.
    #[serde(default)]
    pub stop: Option<Stop>,
    /// Choices to generate.
    #[serde(default)]
    pub n: Option<u32>,
    /// Stream the reply as server-sent events.
    #[serde(default)]
    pub stream: Option<bool>,
    /// What a stream adds.
    #[serde(default)]
    pub stream_options: Option<StreamOptions>,
    /// `flex` marks batch work, which waits while interactive requests do.
    #[serde(default)]
    pub service_tier: Option<String>,
}

/// `prompt`: a string, or an array of strings (suit takes one).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum CompletionPrompt {
    /// One prompt.
    One(String),
    /// Several prompts.
    Many(Vec<String>),
}

/// `POST /v1/embeddings`.
#[derive(Debug, Clone, Deserialize)]
pub struct EmbeddingsRequest {
    /// The model's id.
    pub model: String,
    /// The texts to embed.
    pub input: EmbeddingsInput,
    /// `float` (the default) or `base64` (little-endian f32s, what the
    /// `openai` SDKs ask for).
    #[serde(default)]
    pub encoding_format: Option<String>,
    /// Dimensions of the vectors (suit takes only the model's own).
    #[serde(default)]
    pub dimensions: Option<u32>,
}

/// `input`: a string or an array of strings; anything else (token arrays)
/// is read as `Other` so the server can refuse it by name.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum EmbeddingsInput {
    /// One text.
    One(String),
    /// Several texts.
    Many(Vec<String>),
    /// Anything else.
    Other(Value),
}

/// A completion object: a whole reply (`chat.completion`,
/// `text_completion`) or one chunk of a streamed one
/// (`chat.completion.chunk`, `text_completion`), with choices of kind `C`:
/// [`ChatChoice`], [`ChunkChoice`] or [`TextChoice`].
#[derive(Debug, Clone, Serialize)]
pub struct CompletionObject<C> {
    /// `chatcmpl-…` or `cmpl-…`, the same in every chunk of a reply.
    pub id: String,
    /// The object's type, as above.
    pub object: String,
    /// Unix seconds.
    pub created: u64,
    /// The model id the request named.
    pub model: String,
    /// Always `null`: there is no fingerprint of the serving setup.
    pub system_fingerprint: Option<String>,
    /// The choices (in a chunk, the one that moved; none in the last,
    /// usage-only chunk).
    pub choices: Vec<C>,
    /// A whole reply's usage. In a stream: absent unless the client asked
    /// for usage (`stream_options.include_usage`); then `null` in every chunk
    /// but the last, which holds it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Option<Usage>>,
}

/// A choice of a whole chat reply.
#[derive(Debug, Clone, Serialize)]
pub struct ChatChoice {
    /// Its position among the `n` choices.
    pub index: usize,
    /// The reply.
    pub message: AssistantMessage,
    /// Always `null` (log probabilities are not reported).
    pub logprobs: Option<Value>,
    /// Why it ended.
    pub finish_reason: FinishReason,
}

/// The model's message in a chat reply.
#[derive(Debug, Clone, Serialize)]
pub struct AssistantMessage {
    /// Always [`ChatRole::Assistant`].
    pub role: ChatRole,
    /// The text.
    pub content: String,
    /// Always `null`: suit does not refuse in a separate field.
    pub refusal: Option<String>,
}

/// A choice's piece of a streamed chat reply.
#[derive(Debug, Clone, Serialize)]
pub struct ChunkChoice {
    /// Its position among the `n` choices.
    pub index: usize,
    /// What the piece adds.
    pub delta: Delta,
    /// Always `null`.
    pub logprobs: Option<Value>,
    /// In the choice's last chunk, why it ended; else `null`.
    pub finish_reason: Option<FinishReason>,
}

/// What a chunk adds to a chat reply: the role first, then text; empty in
/// the chunk that ends the choice.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Delta {
    /// In the first chunk of each choice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<ChatRole>,
    /// The next piece of text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}

/// A choice of a text completion, whole or a streamed piece of it.
#[derive(Debug, Clone, Serialize)]
pub struct TextChoice {
    /// Its position among the `n` choices.
    pub index: usize,
    /// The text (in a stream, the next piece).
    pub text: String,
    /// Always `null`.
    pub logprobs: Option<Value>,
    /// Why it ended (in a stream, `null` until its last chunk).
    pub finish_reason: Option<FinishReason>,
}

/// Why a choice ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// The model ended its turn, or a stop sequence came.
    Stop,
    /// `max_tokens` (or the window) ran out.
    Length,
}

/// `usage`: tokens of one request, its `n` choices together.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// Tokens of the prompt (counted once for all choices).
    pub prompt_tokens: u64,
    /// Tokens generated, all choices.
    pub completion_tokens: u64,
    /// The two together.
    pub total_tokens: u64,
    /// Where the prompt's tokens came from.
    pub prompt_tokens_details: PromptTokensDetails,
}

/// `usage.prompt_tokens_details`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PromptTokensDetails {
    /// Prompt tokens reused from the model's cache instead of evaluated.
    pub cached_tokens: u64,
}

/// A list answer: `{"object": "list", "data": [...]}` (`/v1/models`,
/// `/v1/usage`, `/v1/sessions`).
#[derive(Debug, Clone, Serialize)]
pub struct List<T> {
    /// Always `list`.
    pub object: String,
    /// The items.
    pub data: Vec<T>,
}

impl<T> List<T> {
    /// The list of `data`.
    pub fn of(data: Vec<T>) -> Self {
        Self { object: "list".into(), data }
    }
}

/// One model of `/v1/models`.
#[derive(Debug, Clone, Serialize)]
pub struct ModelEntry {
    /// The id requests name it by.
    pub id: String,
    /// Always `model`.
    pub object: String,
    /// Unix seconds: when the server started.
    pub created: u64,
    /// Always `suit`.
    pub owned_by: String,
}

/// The answer of `/v1/embeddings`.
#[derive(Debug, Clone, Serialize)]
pub struct Embeddings {
    /// Always `list`.
    pub object: String,
    /// One vector per input, in order.
    pub data: Vec<Embedding>,
    /// The model id the request named.
    pub model: String,
    /// Tokens read.
    pub usage: EmbeddingsUsage,
}

/// One vector of `/v1/embeddings`.
#[derive(Debug, Clone, Serialize)]
pub struct Embedding {
    /// Always `embedding`.
    pub object: String,
    /// The input's position.
    pub index: usize,
    /// The vector.
    pub embedding: Vector,
}

/// A vector as numbers, or as base64 of its little-endian f32 bytes
/// (`encoding_format: "base64"`).
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Vector {
    /// `float`.
    Floats(Vec<f32>),
    /// `base64`.
    Base64(String),
}

/// `usage` of `/v1/embeddings`.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct EmbeddingsUsage {
    /// Tokens read.
    pub prompt_tokens: u64,
    /// The same.
    pub total_tokens: u64,
}

/// An error answer: `{"error": {...}}`.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// What went wrong, in OpenAI's terms.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorDetail {
    /// For a person: what happened and what to do.
    pub message: String,
    /// `invalid_request_error`, `authentication_error`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// The request field at fault, if one is.
    pub param: Option<String>,
    /// A machine-readable code, when there is one.
    pub code: Option<String>,
}
