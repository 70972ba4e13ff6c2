//! Anthropic Messages API backend.
//!
//! - chat → `POST {base_url}/messages` with `stream: true`, headers
//!   `x-api-key` and `anthropic-version: 2023-06-01`. System messages are
//!   joined into the top-level `system` field. The event stream
//!   (`message_start`, `content_block_start`, `content_block_delta`,
//!   `content_block_stop`, `message_delta`, `message_stop`, `ping`, `error`)
//!   is decoded into text deltas; only `text_delta` carries text (thinking
//!   and tool deltas are skipped); unknown event types are ignored, as the
//!   API's versioning policy asks.
//! - usage: `prompt_tokens` is the sum of `input_tokens`,
//!   `cache_creation_input_tokens` and `cache_read_input_tokens`;
//!   `cached_tokens` is `cache_read_input_tokens` (cache writes are metered
//!   at the input price).
//! - prompt caching: a request with a [`ChatRequest::session`] is part of a
//!   conversation, so its system prompt and newest message carry
//!   `cache_control: {type: "ephemeral"}` breakpoints and the next turn
//!   reads the shared prefix from Anthropic's cache (`cache_read_input_tokens`).
//!   Prompts below the model's minimum cacheable length are simply not
//!   cached. Requests without a session are sent without breakpoints.
//! - JSON Schema constraints use structured outputs:
//!   `output_config: {format: {type: "json_schema", schema}}`. Grammars are
//!   unsupported. `seed` is not part of the API and is not sent; `top_p` is
//!   sent only when it is below 1, because recent models reject requests
//!   that set both `temperature` and `top_p`.
//! - count_tokens → `POST {base_url}/messages/count_tokens`, counting the
//!   text as one user message (so it includes the few tokens that frame a
//!   message). tokenize, complete and embed are unsupported.

use async_trait::async_trait;
use reqwest::header::{HeaderMap, HeaderValue};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::config::BackendConfig;
use crate::http::{api_key, snippet, HttpClient};
use crate::sse::{drive, Decoder, SseEvent};
use crate::{
    ChatRequest, Completion, CompletionRequest, Constraint, Embeddings, FinishReason, Model,
    ModelError, Role, StreamEvent, TextStream, Usage,
};

/// The API version suit speaks.
const ANTHROPIC_VERSION: &str = "2023-06-01";

/// A prompt-cache breakpoint (`cache_control`) with the default lifetime.
fn ephemeral() -> Value {
    json!({"type": "ephemeral"})
}

/// A backend speaking the Anthropic Messages API.
#[derive(Debug)]
pub struct AnthropicBackend {
    http: HttpClient,
    model: String,
    api_key: Option<String>,
    ctx_size: Option<usize>,
}

impl AnthropicBackend {
    /// The backend configured as `[backends.NAME]`. Reads the API key from
    /// the variable named by `api_key_env`, if set.
    pub fn new(name: &str, config: &BackendConfig) -> Result<Self, ModelError> {
        Ok(Self {
            http: HttpClient::new(name, config)?,
            model: config.model.clone(),
            api_key: api_key(name, config)?,
            ctx_size: config.ctx_size.map(|n| n as usize),
        })
    }

    fn headers(&self) -> Result<HeaderMap, ModelError> {
        let mut headers = HeaderMap::new();
        headers.insert("anthropic-version", HeaderValue::from_static(ANTHROPIC_VERSION));
        if let Some(key) = &self.api_key {
            let value = HeaderValue::from_str(key).map_err(|_| ModelError::InvalidRequest {
                backend: self.http.backend.clone(),
                reason: "the API key contains characters not allowed in an HTTP header".into(),
            })?;
            headers.insert("x-api-key", value);
        }
        Ok(headers)
    }

    fn unsupported(&self, operation: &str) -> ModelError {
        ModelError::Unsupported {
            backend: self.http.backend.clone(),
            operation: operation.to_string(),
        }
    }

    /// `system` and `messages` of a request body.
    fn conversation(
        &self,
        request: &ChatRequest,
    ) -> Result<(Option<String>, Vec<Value>), ModelError> {
        let system: Vec<&str> = request
            .messages
            .iter()
            .filter(|m| m.role == Role::System)
            .map(|m| m.content.as_str())
            .collect();
        let messages: Vec<Value> = request
            .messages
            .iter()
            .filter(|m| m.role != Role::System)
            .map(|m| json!({"role": m.role.as_str(), "content": m.content}))
            .collect();
        if messages.is_empty() {
            return Err(ModelError::InvalidRequest {
                backend: self.http.backend.clone(),
                reason: "the Messages API needs at least one user message besides system messages"
                    .into(),
            });
        }
        let system = (!system.is_empty()).then(|| system.join("\n\n"));
        Ok((system, messages))
    }
}

#[async_trait]
impl Model for AnthropicBackend {
    fn name(&self) -> &str {
        &self.http.backend
    }

    async fn chat(&self, request: ChatRequest) -> Result<TextStream, ModelError> {
        let (system, mut messages) = self.conversation(&request)?;
        let sampling = &request.sampling;
        let mut body = Map::new();
        body.insert("model".into(), json!(self.model));
        body.insert("max_tokens".into(), json!(sampling.max_tokens.max(1)));
        let cache = request.session.is_some();
        if cache {
            // A conversation: cache its prefix up to the newest message, so
            // the next turn reads it instead of paying for it again.
            if let Some(last) = messages.last_mut() {
                let text = last["content"].take();
                last["content"] =
                    json!([{"type": "text", "text": text, "cache_control": ephemeral()}]);
            }
        }
        body.insert("messages".into(), Value::Array(messages));
        if let Some(system) = system {
            let system = if cache {
                json!([{"type": "text", "text": system, "cache_control": ephemeral()}])
            } else {
                json!(system)
            };
            body.insert("system".into(), system);
        }
        body.insert("temperature".into(), json!(sampling.temperature.clamp(0.0, 1.0)));
        if sampling.top_p < 1.0 {
            body.insert("top_p".into(), json!(sampling.top_p));
        }
        if !sampling.stop.is_empty() {
            body.insert("stop_sequences".into(), json!(sampling.stop));
        }
        match &request.constraint {
            None => {}
            Some(Constraint::JsonSchema(schema)) => {
                body.insert(
                    "output_config".into(),
                    json!({"format": {"type": "json_schema", "schema": schema}}),
                );
            }
            Some(Constraint::Grammar(_)) => {
                return Err(self.unsupported(
                    "grammar constraints (the Anthropic API accepts JSON Schema constraints only)",
                ))
            }
        }
        body.insert("stream".into(), json!(true));

        let url = self.http.url("/messages");
        let response = self.http.post(&url, self.headers()?, &Value::Object(body)).await?;
        let response = self.http.expect_event_stream(&url, response).await?;
        let decoder = AnthropicDecoder {
            backend: self.http.backend.clone(),
            model: self.model.clone(),
            text: String::new(),
            usage: Usage::default(),
            finish: None,
            started: false,
        };
        Ok(drive(&self.http.backend, &url, self.http.timeout, response, decoder))
    }

    async fn complete(&self, _request: CompletionRequest) -> Result<TextStream, ModelError> {
        Err(self.unsupported("raw and fill-in-the-middle completion"))
    }

    async fn embed(&self, _inputs: Vec<String>) -> Result<Embeddings, ModelError> {
        Err(self.unsupported("embed"))
    }

    async fn tokenize(&self, _text: &str) -> Result<Vec<u32>, ModelError> {
        Err(self.unsupported("tokenize (the API only counts tokens)"))
    }

    async fn count_tokens(&self, text: &str) -> Result<usize, ModelError> {
        let url = self.http.url("/messages/count_tokens");
        let body = json!({"model": self.model, "messages": [{"role": "user", "content": text}]});
        let response = self.http.post(&url, self.headers()?, &body).await?;
        #[derive(Deserialize)]
        struct Count {
            input_tokens: usize,
        }
        let count: Count = self.http.json(&url, response).await?;
        Ok(count.input_tokens)
    }

    fn context_size(&self) -> Option<usize> {
        self.ctx_size
    }
}

#[derive(Deserialize, Default)]
struct WireUsage {
    #[serde(default)]
    input_tokens: Option<u64>,
    #[serde(default)]
    output_tokens: Option<u64>,
    #[serde(default)]
    cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    cache_read_input_tokens: Option<u64>,
}

struct AnthropicDecoder {
    backend: String,
    model: String,
    text: String,
    usage: Usage,
    finish: Option<FinishReason>,
    started: bool,
}

impl AnthropicDecoder {
    fn protocol(&self, reason: String) -> ModelError {
        ModelError::Protocol { backend: self.backend.clone(), reason }
    }

    /// Folds a usage object into the running counts. `message_start` has the
    /// input side; `message_delta` has cumulative output (and, on newer API
    /// versions, may repeat the input side).
    fn add_usage(&mut self, value: Option<&Value>) -> Result<(), ModelError> {
        let Some(value) = value.filter(|v| !v.is_null()) else { return Ok(()) };
        let usage: WireUsage = serde_json::from_value(value.clone())
            .map_err(|e| self.protocol(format!("unexpected usage object ({e}): {value}")))?;
        if usage.input_tokens.is_some()
            || usage.cache_creation_input_tokens.is_some()
            || usage.cache_read_input_tokens.is_some()
        {
            let read = usage.cache_read_input_tokens.unwrap_or(0);
            self.usage.prompt_tokens = usage.input_tokens.unwrap_or(0)
                + usage.cache_creation_input_tokens.unwrap_or(0)
                + read;
            self.usage.cached_tokens = read;
        }
        if let Some(out) = usage.output_tokens {
            self.usage.completion_tokens = out;
        }
        Ok(())
    }
}

/// The HTTP status an Anthropic error type stands for, so that in-stream
/// errors are retried and failed over like the same error as a status.
fn error_status(kind: &str) -> u16 {
    match kind {
        "invalid_request_error" => 400,
        "authentication_error" => 401,
        "billing_error" => 402,
        "permission_error" => 403,
        "not_found_error" => 404,
        "request_too_large" => 413,
        "rate_limit_error" => 429,
        "timeout_error" => 504,
        "overloaded_error" => 529,
        _ => 500, // api_error and anything new
    }
}

impl Decoder for AnthropicDecoder {
    fn event(&mut self, event: SseEvent) -> Result<Vec<StreamEvent>, ModelError> {
        let value: Value = serde_json::from_str(&event.data).map_err(|e| {
            self.protocol(format!(
                "the data of a `{}` event is not valid JSON ({e}): {}",
                event.event,
                snippet(&event.data)
            ))
        })?;
        let kind = value.get("type").and_then(Value::as_str).unwrap_or(&event.event).to_string();
        let mut out = Vec::new();
        match kind.as_str() {
            "message_start" => {
                self.started = true;
                let message = &value["message"];
                if let Some(model) = message.get("model").and_then(Value::as_str) {
                    self.model = model.to_string();
                }
                self.add_usage(message.get("usage"))?;
            }
            "content_block_start" => {
                let block = &value["content_block"];
                if block.get("type").and_then(Value::as_str) == Some("text") {
                    if let Some(text) =
                        block.get("text").and_then(Value::as_str).filter(|t| !t.is_empty())
                    {
                        self.text.push_str(text);
                        out.push(StreamEvent::Delta(text.to_string()));
                    }
                }
            }
            "content_block_delta" => {
                let delta = &value["delta"];
                if delta.get("type").and_then(Value::as_str) == Some("text_delta") {
                    let text = delta.get("text").and_then(Value::as_str).ok_or_else(|| {
                        self.protocol(format!(
                            "a text_delta without text: {}",
                            snippet(&event.data)
                        ))
                    })?;
                    if !text.is_empty() {
                        self.text.push_str(text);
                        out.push(StreamEvent::Delta(text.to_string()));
                    }
                }
            }
            "message_delta" => {
                if let Some(reason) = value["delta"].get("stop_reason").and_then(Value::as_str) {
                    self.finish = Some(if reason == "max_tokens" {
                        FinishReason::Length
                    } else {
                        FinishReason::Stop
                    });
                }
                self.add_usage(value.get("usage"))?;
            }
            "message_stop" => {
                if !self.started {
                    return Err(
                        self.protocol("`message_stop` arrived before `message_start`".into())
                    );
                }
                out.push(StreamEvent::Done(Completion {
                    text: std::mem::take(&mut self.text),
                    finish_reason: self.finish.unwrap_or(FinishReason::Stop),
                    usage: self.usage,
                    model: self.model.clone(),
                    backend: self.backend.clone(),
                }));
            }
            "error" => {
                let error = &value["error"];
                let error_type = error.get("type").and_then(Value::as_str).unwrap_or("api_error");
                let message =
                    error.get("message").and_then(Value::as_str).unwrap_or("(no message)");
                return Err(ModelError::Http {
                    backend: self.backend.clone(),
                    status: error_status(error_type),
                    body: format!("error inside the stream: {message} ({error_type})"),
                    retry_after: None,
                });
            }
            // ping, content_block_stop, and event types added later.
            _ => {}
        }
        Ok(out)
    }

    fn eof(&mut self) -> ModelError {
        self.protocol(format!(
            "the stream ended before `message_stop` after {} characters of text; the server may have crashed or a proxy cut the response",
            self.text.len()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoder() -> AnthropicDecoder {
        AnthropicDecoder {
            backend: "claude".into(),
            model: "m".into(),
            text: String::new(),
            usage: Usage::default(),
            finish: None,
            started: false,
        }
    }

    fn ev(event: &str, data: &str) -> SseEvent {
        SseEvent { event: event.into(), data: data.into() }
    }

    #[test]
    fn skips_thinking_and_counts_cache_reads() {
        let mut d = decoder();
        d.event(ev("message_start", r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude-x","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":5,"cache_creation_input_tokens":3,"cache_read_input_tokens":100,"output_tokens":1}}}"#)).unwrap();
        d.event(ev("content_block_start", r#"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}"#)).unwrap();
        let thinking = d
            .event(ev("content_block_delta", r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}}"#))
            .unwrap();
        assert!(thinking.is_empty());
        let text = d
            .event(ev("content_block_delta", r#"{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"ok"}}"#))
            .unwrap();
        assert_eq!(text, [StreamEvent::Delta("ok".into())]);
        d.event(ev("message_delta", r#"{"type":"message_delta","delta":{"stop_reason":"max_tokens","stop_sequence":null},"usage":{"output_tokens":7}}"#)).unwrap();
        let done = d.event(ev("message_stop", r#"{"type":"message_stop"}"#)).unwrap();
        let [StreamEvent::Done(c)] = done.as_slice() else { panic!("{done:?}") };
        assert_eq!(c.usage, Usage { prompt_tokens: 108, cached_tokens: 100, completion_tokens: 7 });
        assert_eq!(c.finish_reason, FinishReason::Length);
        assert_eq!(c.model, "claude-x");
        assert_eq!(c.text, "ok");
    }

    #[test]
    fn error_events_map_to_statuses() {
        let mut d = decoder();
        let err = d
            .event(ev(
                "error",
                r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
            ))
            .unwrap_err();
        assert!(matches!(err, ModelError::Http { status: 529, .. }), "{err}");
        assert!(err.is_transient());
        let err = d
            .event(ev(
                "error",
                r#"{"type":"error","error":{"type":"invalid_request_error","message":"bad"}}"#,
            ))
            .unwrap_err();
        assert!(!err.is_transient(), "{err}");
    }
}
