//! The request bodies of the OpenAI-compatible routes of `suit serve`
//! (`/v1/chat/completions`, `/v1/completions`, `/v1/embeddings`), as suit
//! reads them: the fields it uses, each optional where OpenAI's is. Fields
//! suit does not use are ignored; the server checks the values and answers
//! in OpenAI's JSON shape (replies are built there).

use serde::Deserialize;
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
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
