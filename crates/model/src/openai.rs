//! OpenAI-compatible HTTP backend: OpenAI, Ollama, vLLM, SGLang, llama.cpp
//! server and anything else that speaks `/v1/chat/completions`.
//!
//! - chat → `POST {base_url}/chat/completions`, streamed (`stream: true`,
//!   `stream_options.include_usage: true`, so the last chunk carries usage,
//!   including `prompt_tokens_details.cached_tokens`).
//! - raw completion and fill-in-the-middle → `POST {base_url}/completions`;
//!   FIM sends `prompt` (the prefix) and `suffix`, the OpenAI completions
//!   fields. Ollama honours `suffix` with the model's FIM template; servers
//!   that do not implement it reject or ignore it, so route the `fim` role
//!   to the embedded backend or to such a server.
//! - embeddings → `POST {base_url}/embeddings`.
//! - tokenize → `POST /tokenize` at the server root (llama.cpp server and
//!   vLLM have it); other servers answer [`ModelError::Unsupported`], and so
//!   does `count_tokens`: suit does not guess token counts.
//!
//! Constraints: [`Constraint::JsonSchema`] becomes
//! `response_format: {type: "json_schema", json_schema: {name, schema, strict: true}}`.
//! [`Constraint::Grammar`] is sent as llama.cpp server's `grammar` field;
//! only llama.cpp server honours it, other servers ignore or reject it.
//!
//! Sampling: `temperature`, `top_p`, `seed`, `stop` and `max_tokens` are
//! sent as such. `max_tokens` is what every compatible server understands;
//! OpenAI itself deprecated it for chat (its reasoning models reject it), so
//! chat requests to `api.openai.com` send `max_completion_tokens` instead.

use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::config::BackendConfig;
use crate::http::{api_key, error_value_message, snippet, HttpClient};
use crate::sse::{drive, Decoder, SseEvent};
use crate::{
    ChatRequest, Completion, CompletionRequest, Constraint, Embeddings, FinishReason, Model,
    ModelError, Prompt, Sampling, StreamEvent, TextStream, Usage,
};

/// A backend speaking the OpenAI API.
#[derive(Debug)]
pub struct OpenAiBackend {
    http: HttpClient,
    model: String,
    api_key: Option<String>,
    ctx_size: Option<usize>,
    /// Set once the server showed it has no `/tokenize`, so later calls do
    /// not ask again.
    no_tokenize: AtomicBool,
}

impl OpenAiBackend {
    /// The backend configured as `[backends.NAME]`. Reads the API key from
    /// the variable named by `api_key_env`, if set.
    pub fn new(name: &str, config: &BackendConfig) -> Result<Self, ModelError> {
        Ok(Self {
            http: HttpClient::new(name, config)?,
            model: config.model.clone(),
            api_key: api_key(name, config)?,
            ctx_size: config.ctx_size.map(|n| n as usize),
            no_tokenize: AtomicBool::new(false),
        })
    }

    fn headers(&self) -> Result<HeaderMap, ModelError> {
        let mut headers = HeaderMap::new();
        if let Some(key) = &self.api_key {
            let value = HeaderValue::from_str(&format!("Bearer {key}")).map_err(|_| {
                ModelError::InvalidRequest {
                    backend: self.http.backend.clone(),
                    reason: "the API key contains characters not allowed in an HTTP header".into(),
                }
            })?;
            headers.insert(AUTHORIZATION, value);
        }
        Ok(headers)
    }

    async fn stream(
        &self,
        path: &str,
        body: Value,
        kind: ChunkKind,
    ) -> Result<TextStream, ModelError> {
        let url = self.http.url(path);
        let response = self.http.post(&url, self.headers()?, &body).await?;
        let response = self.http.expect_event_stream(&url, response).await?;
        let decoder = OpenAiDecoder {
            backend: self.http.backend.clone(),
            model: self.model.clone(),
            kind,
            text: String::new(),
            finish: None,
            usage: None,
            served_model: None,
        };
        Ok(drive(&self.http.backend, &url, self.http.timeout, response, decoder))
    }

    /// Whether this is OpenAI's own API (not a compatible server).
    fn is_openai(&self) -> bool {
        reqwest::Url::parse(&self.http.base_url)
            .is_ok_and(|u| u.host_str().is_some_and(|h| h.eq_ignore_ascii_case("api.openai.com")))
    }

    /// The server root: `base_url` without a trailing `/v1`.
    fn root_url(&self) -> &str {
        self.http.base_url.strip_suffix("/v1").unwrap_or(&self.http.base_url)
    }
}

/// Adds the sampling fields to a request body.
fn put_sampling(body: &mut Map<String, Value>, sampling: &Sampling, max_tokens_field: &str) {
    body.insert("temperature".into(), json!(sampling.temperature));
    body.insert("top_p".into(), json!(sampling.top_p));
    body.insert("seed".into(), json!(sampling.seed));
    body.insert(max_tokens_field.into(), json!(sampling.max_tokens));
    if !sampling.stop.is_empty() {
        body.insert("stop".into(), json!(sampling.stop));
    }
    body.insert("stream".into(), json!(true));
    body.insert("stream_options".into(), json!({"include_usage": true}));
}

/// Adds an output constraint to a request body.
fn put_constraint(body: &mut Map<String, Value>, constraint: &Option<Constraint>) {
    match constraint {
        None => {}
        Some(Constraint::Grammar(grammar)) => {
            body.insert("grammar".into(), json!(grammar));
        }
        Some(Constraint::JsonSchema(schema)) => {
            body.insert(
                "response_format".into(),
                json!({
                    "type": "json_schema",
                    "json_schema": {"name": schema_name(schema), "schema": schema, "strict": true},
                }),
            );
        }
    }
}

/// The schema's `title` when it is a valid OpenAI schema name, else `response`.
fn schema_name(schema: &Value) -> String {
    schema
        .get("title")
        .and_then(Value::as_str)
        .filter(|t| {
            !t.is_empty()
                && t.len() <= 64
                && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        })
        .unwrap_or("response")
        .to_string()
}

#[async_trait]
impl Model for OpenAiBackend {
    fn name(&self) -> &str {
        &self.http.backend
    }

    async fn chat(&self, request: ChatRequest) -> Result<TextStream, ModelError> {
        let mut body = Map::new();
        body.insert("model".into(), json!(self.model));
        let messages: Vec<Value> = request
            .messages
            .iter()
            .map(|m| json!({"role": m.role.as_str(), "content": m.content}))
            .collect();
        body.insert("messages".into(), Value::Array(messages));
        let max_tokens_field =
            if self.is_openai() { "max_completion_tokens" } else { "max_tokens" };
        put_sampling(&mut body, &request.sampling, max_tokens_field);
        put_constraint(&mut body, &request.constraint);
        self.stream("/chat/completions", Value::Object(body), ChunkKind::Chat).await
    }

    async fn complete(&self, request: CompletionRequest) -> Result<TextStream, ModelError> {
        let mut body = Map::new();
        body.insert("model".into(), json!(self.model));
        match &request.prompt {
            Prompt::Text(text) => {
                body.insert("prompt".into(), json!(text));
            }
            Prompt::Fim { prefix, suffix } => {
                body.insert("prompt".into(), json!(prefix));
                body.insert("suffix".into(), json!(suffix));
            }
        }
        put_sampling(&mut body, &request.sampling, "max_tokens");
        put_constraint(&mut body, &request.constraint);
        self.stream("/completions", Value::Object(body), ChunkKind::Completion).await
    }

    async fn embed(&self, inputs: Vec<String>) -> Result<Embeddings, ModelError> {
        if inputs.is_empty() {
            return Ok(Embeddings {
                vectors: Vec::new(),
                usage: Usage::default(),
                model: self.model.clone(),
            });
        }
        let url = self.http.url("/embeddings");
        let body = json!({"model": self.model, "input": inputs, "encoding_format": "float"});
        let response = self.http.post(&url, self.headers()?, &body).await?;
        let answer: EmbeddingsAnswer = self.http.json(&url, response).await?;
        let mut data = answer.data;
        data.sort_by_key(|d| d.index);
        let in_order = data.iter().enumerate().all(|(i, d)| d.index == i);
        if data.len() != inputs.len() || !in_order {
            return Err(ModelError::Protocol {
                backend: self.http.backend.clone(),
                reason: format!(
                    "{url} returned {} embeddings (indices {:?}) for {} inputs",
                    data.len(),
                    data.iter().map(|d| d.index).collect::<Vec<_>>(),
                    inputs.len()
                ),
            });
        }
        Ok(Embeddings {
            vectors: data.into_iter().map(|d| d.embedding).collect(),
            usage: Usage {
                prompt_tokens: answer.usage.map(|u| u.prompt_tokens).unwrap_or(0),
                ..Usage::default()
            },
            model: answer.model.unwrap_or_else(|| self.model.clone()),
        })
    }

    async fn tokenize(&self, text: &str) -> Result<Vec<u32>, ModelError> {
        let unsupported = || {
            ModelError::Unsupported {
            backend: self.http.backend.clone(),
            operation: "tokenize (the server has no /tokenize endpoint; llama.cpp server and vLLM have one)".into(),
        }
        };
        if self.no_tokenize.load(Ordering::Relaxed) {
            return Err(unsupported());
        }
        let url = format!("{}/tokenize", self.root_url());
        // llama.cpp server reads `content`/`add_special`, vLLM reads
        // `prompt`/`add_special_tokens`; each ignores the other's fields.
        let body = json!({
            "model": self.model,
            "content": text,
            "add_special": false,
            "prompt": text,
            "add_special_tokens": false,
        });
        let response = match self.http.post(&url, self.headers()?, &body).await {
            Ok(response) => response,
            Err(ModelError::Http { status: 404 | 405 | 501, .. }) => {
                self.no_tokenize.store(true, Ordering::Relaxed);
                return Err(unsupported());
            }
            Err(e) => return Err(e),
        };
        let answer: TokenizeAnswer = self.http.json(&url, response).await?;
        Ok(answer.tokens)
    }

    fn context_size(&self) -> Option<usize> {
        self.ctx_size
    }
}

#[derive(Deserialize)]
struct EmbeddingsAnswer {
    data: Vec<EmbeddingItem>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct EmbeddingItem {
    #[serde(default)]
    index: usize,
    embedding: Vec<f32>,
}

#[derive(Deserialize)]
struct TokenizeAnswer {
    tokens: Vec<u32>,
}

/// Which endpoint a stream comes from.
#[derive(Debug, Clone, Copy)]
enum ChunkKind {
    /// `choices[].delta.content`
    Chat,
    /// `choices[].text`
    Completion,
}

#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    choices: Vec<ChunkChoice>,
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize)]
struct ChunkChoice {
    #[serde(default)]
    delta: Option<ChunkDelta>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct ChunkDelta {
    #[serde(default)]
    content: Option<String>,
}

#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
    #[serde(default)]
    prompt_tokens_details: Option<PromptDetails>,
}

#[derive(Deserialize)]
struct PromptDetails {
    #[serde(default)]
    cached_tokens: Option<u64>,
}

struct OpenAiDecoder {
    backend: String,
    model: String,
    kind: ChunkKind,
    text: String,
    finish: Option<FinishReason>,
    usage: Option<Usage>,
    served_model: Option<String>,
}

impl OpenAiDecoder {
    fn protocol(&self, reason: String) -> ModelError {
        ModelError::Protocol { backend: self.backend.clone(), reason }
    }
}

impl Decoder for OpenAiDecoder {
    fn event(&mut self, event: SseEvent) -> Result<Vec<StreamEvent>, ModelError> {
        let data = event.data.trim();
        if data == "[DONE]" {
            if self.usage.is_none() {
                tracing::warn!(backend = %self.backend, "the server reported no token usage; counting 0 tokens");
            }
            return Ok(vec![StreamEvent::Done(Completion {
                text: std::mem::take(&mut self.text),
                finish_reason: self.finish.unwrap_or(FinishReason::Stop),
                usage: self.usage.unwrap_or_default(),
                model: self.served_model.clone().unwrap_or_else(|| self.model.clone()),
                backend: self.backend.clone(),
            })]);
        }
        let value: Value = serde_json::from_str(data).map_err(|e| {
            self.protocol(format!("a stream chunk is not valid JSON ({e}): {}", snippet(data)))
        })?;
        if value.get("error").is_some_and(|e| !e.is_null()) {
            let message = error_value_message(&value).unwrap_or_else(|| snippet(data));
            let status = value["error"]
                .get("code")
                .and_then(Value::as_u64)
                .filter(|c| (400..600).contains(c))
                .unwrap_or(500) as u16;
            return Err(ModelError::Http {
                backend: self.backend.clone(),
                status,
                body: format!("error inside the stream: {message}"),
                retry_after: None,
            });
        }
        let chunk: Chunk = serde_json::from_value(value).map_err(|e| {
            self.protocol(format!("unexpected stream chunk ({e}): {}", snippet(data)))
        })?;
        debug_assert!(chunk.error.is_none());
        if let Some(model) = chunk.model.filter(|m| !m.is_empty()) {
            self.served_model = Some(model);
        }
        if let Some(usage) = chunk.usage {
            self.usage = Some(Usage {
                prompt_tokens: usage.prompt_tokens,
                cached_tokens: usage
                    .prompt_tokens_details
                    .and_then(|d| d.cached_tokens)
                    .unwrap_or(0),
                completion_tokens: usage.completion_tokens,
            });
        }
        let mut out = Vec::new();
        // Only the first choice matters: suit never asks for `n > 1`.
        if let Some(choice) = chunk.choices.into_iter().next() {
            let piece = match self.kind {
                ChunkKind::Chat => choice.delta.and_then(|d| d.content),
                ChunkKind::Completion => choice.text,
            };
            if let Some(piece) = piece.filter(|p| !p.is_empty()) {
                self.text.push_str(&piece);
                out.push(StreamEvent::Delta(piece));
            }
            if let Some(reason) = choice.finish_reason {
                self.finish = Some(if reason == "length" {
                    FinishReason::Length
                } else {
                    FinishReason::Stop
                });
            }
        }
        Ok(out)
    }

    fn eof(&mut self) -> ModelError {
        self.protocol(format!(
            "the stream ended before `data: [DONE]` after {} characters of text; the server may have crashed or a proxy cut the response",
            self.text.len()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoder(kind: ChunkKind) -> OpenAiDecoder {
        OpenAiDecoder {
            backend: "b".into(),
            model: "m".into(),
            kind,
            text: String::new(),
            finish: None,
            usage: None,
            served_model: None,
        }
    }

    fn data(text: &str) -> SseEvent {
        SseEvent { event: "message".into(), data: text.into() }
    }

    #[test]
    fn decodes_chat_chunks_usage_and_done() {
        let mut d = decoder(ChunkKind::Chat);
        let first = d
            .event(data(r#"{"id":"c","object":"chat.completion.chunk","model":"gpt-x","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"usage":null}"#))
            .unwrap();
        assert!(first.is_empty());
        let second = d
            .event(data(r#"{"id":"c","model":"gpt-x","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":"length"}],"usage":null}"#))
            .unwrap();
        assert_eq!(second, [StreamEvent::Delta("Hi".into())]);
        d.event(data(r#"{"id":"c","model":"gpt-x","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":1,"total_tokens":11,"prompt_tokens_details":{"cached_tokens":4}}}"#)).unwrap();
        let done = d.event(data("[DONE]")).unwrap();
        let [StreamEvent::Done(c)] = done.as_slice() else { panic!("{done:?}") };
        assert_eq!(c.text, "Hi");
        assert_eq!(c.finish_reason, FinishReason::Length);
        assert_eq!(c.usage, Usage { prompt_tokens: 10, cached_tokens: 4, completion_tokens: 1 });
        assert_eq!(c.model, "gpt-x");
    }

    #[test]
    fn in_stream_errors_keep_their_status() {
        let mut d = decoder(ChunkKind::Completion);
        let err = d
            .event(data(r#"{"error":{"object":"error","message":"boom","type":"BadRequestError","code":400}}"#))
            .unwrap_err();
        assert!(
            matches!(err, ModelError::Http { status: 400, ref body, .. } if body.contains("boom")),
            "{err}"
        );
        let err = d.event(data(r#"{"error":{"message":"overloaded"}}"#)).unwrap_err();
        assert!(err.is_transient(), "{err}");
    }

    #[test]
    fn only_openais_own_api_gets_max_completion_tokens() {
        let backend = |url: &str| {
            OpenAiBackend::new("o", &BackendConfig::http(crate::BackendKind::OpenAi, url, "m"))
                .unwrap()
        };
        assert!(backend("https://api.openai.com/v1").is_openai());
        assert!(!backend("http://127.0.0.1:8080/v1").is_openai());
        assert!(!backend("https://openai.example.com/v1").is_openai());
        let mut body = Map::new();
        put_sampling(&mut body, &Sampling::greedy(9), "max_completion_tokens");
        assert_eq!(body["max_completion_tokens"], 9);
        assert!(!body.contains_key("max_tokens"));
    }

    #[test]
    fn schema_names_fall_back_to_response() {
        assert_eq!(schema_name(&json!({"title": "Plan_v2"})), "Plan_v2");
        assert_eq!(schema_name(&json!({"title": "has spaces"})), "response");
        assert_eq!(schema_name(&json!({"type": "object"})), "response");
    }
}
