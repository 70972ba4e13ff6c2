//! The request body of Anthropic's Messages API (`POST /v1/messages`) as
//! `suit serve` reads it. Fields suit does not use are ignored; the server
//! checks the values and answers in Anthropic's shape.

use serde::Deserialize;
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
