//! Anthropic's Messages API (`POST /v1/messages`) as `suit serve` speaks
//! it: the request body as suit reads it (fields suit does not use are
//! ignored; the server checks the values), and the message object and
//! stream events it answers with.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `POST /v1/messages`.
#[derive(Debug, Clone, Deserialize)]
pub struct MessagesRequest {
    /// The model's id.
    pub model: String,
    /// Most tokens to generate (required by the API; the server says so).
    #[serde(default)]
    pub max_tokens: Option<u32>,
    /// The conversation, oldest first.
    pub messages: Vec<Message>,
    /// Instructions.
    #[serde(default)]
    pub system: Option<Content>,
    /// Stop sequences.
    #[serde(default)]
    pub stop_sequences: Option<Vec<String>>,
    /// 0 to 1.
    #[serde(default)]
    pub temperature: Option<f32>,
    /// Nucleus sampling.
    #[serde(default)]
    pub top_p: Option<f32>,
    /// Sampling from the `k` likeliest tokens (1: greedy).
    #[serde(default)]
    pub top_k: Option<u32>,
    /// Stream the reply as Anthropic's events.
    #[serde(default)]
    pub stream: Option<bool>,
    /// Tools the model may call (suit refuses them).
    #[serde(default)]
    pub tools: Option<Value>,
}

/// One message.
#[derive(Debug, Clone, Deserialize)]
pub struct Message {
    /// `user` or `assistant`.
    pub role: String,
    /// What is said.
    pub content: Content,
}

/// `content` (and `system`): a string, or a list of content blocks.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Content {
    /// Plain text.
    Text(String),
    /// Content blocks (suit takes `text` blocks).
    Blocks(Vec<Block>),
}

/// A content block.
#[derive(Debug, Clone, Deserialize)]
pub struct Block {
    /// `text`, `image`, `tool_use`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// The text of a `text` block (any JSON, so a wrong type is named).
    #[serde(default)]
    pub text: Option<Value>,
}

/// A reply: the message object, whole or (in `message_start`) before its
/// content.
#[derive(Debug, Clone, Serialize)]
pub struct MessageObject {
    /// `msg_…`.
    pub id: String,
    /// Always `message`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Always `assistant`.
    pub role: String,
    /// The model as the request named it.
    pub model: String,
    /// The text blocks (one; none in `message_start`).
    pub content: Vec<TextBlock>,
    /// Why it ended, once it has.
    pub stop_reason: Option<StopReason>,
    /// The stop sequence that ended it, if one did.
    pub stop_sequence: Option<String>,
    /// Tokens in and out.
    pub usage: Usage,
}

/// A `text` content block of a reply.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename = "text")]
pub struct TextBlock {
    /// The text.
    pub text: String,
}

/// Why a reply ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The model ended its turn.
    EndTurn,
    /// `max_tokens` was reached.
    MaxTokens,
    /// A stop sequence was generated (it is not in the text).
    StopSequence,
}

/// `usage`: `input_tokens` leaves out the tokens read from cache.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// Prompt tokens evaluated.
    pub input_tokens: u64,
    /// Always 0: suit's cache is written as it goes, at no extra cost.
    pub cache_creation_input_tokens: u64,
    /// Prompt tokens reused from the model's cache.
    pub cache_read_input_tokens: u64,
    /// Tokens generated.
    pub output_tokens: u64,
}

/// One event of a streamed reply, in the order suit sends them; each goes
/// out as `event: <type>` and `data: <this, as JSON>`.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamEvent {
    /// The message, without content yet.
    MessageStart {
        /// The message so far.
        message: MessageObject,
    },
    /// The text block opens.
    ContentBlockStart {
        /// Always 0: one block.
        index: usize,
        /// The block, empty.
        content_block: TextBlock,
    },
    /// Keeps the connection alive.
    Ping,
    /// More text.
    ContentBlockDelta {
        /// Always 0.
        index: usize,
        /// The text.
        delta: TextDelta,
    },
    /// The text block closes.
    ContentBlockStop {
        /// Always 0.
        index: usize,
    },
    /// How the message ended, and its usage.
    MessageDelta {
        /// The stop reason and sequence.
        delta: MessageDelta,
        /// Tokens in and out.
        usage: Usage,
    },
    /// The end.
    MessageStop,
}

impl StreamEvent {
    /// The event's name, for its `event:` line.
    pub fn name(&self) -> &'static str {
        match self {
            StreamEvent::MessageStart { .. } => "message_start",
            StreamEvent::ContentBlockStart { .. } => "content_block_start",
            StreamEvent::Ping => "ping",
            StreamEvent::ContentBlockDelta { .. } => "content_block_delta",
            StreamEvent::ContentBlockStop { .. } => "content_block_stop",
            StreamEvent::MessageDelta { .. } => "message_delta",
            StreamEvent::MessageStop => "message_stop",
        }
    }
}

/// A `text_delta`.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename = "text_delta")]
pub struct TextDelta {
    /// The next piece of text.
    pub text: String,
}

/// `message_delta.delta`.
#[derive(Debug, Clone, Serialize)]
pub struct MessageDelta {
    /// Why the message ended.
    pub stop_reason: StopReason,
    /// The stop sequence that ended it, if one did.
    pub stop_sequence: Option<String>,
}

/// An error answer in Anthropic's shape: `{"type": "error", "error": {...}}`.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorBody {
    /// Always `error`.
    #[serde(rename = "type")]
    pub kind: String,
    /// What went wrong.
    pub error: ErrorDetail,
}

/// What went wrong, in Anthropic's terms.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorDetail {
    /// `invalid_request_error`, `overloaded_error`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// For a person, naming the field at fault.
    pub message: String,
}
