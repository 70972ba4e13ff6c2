//! A scripted HTTP server on loopback that speaks the providers' wire
//! formats, records every request, and answers from per-path scripts.

#![allow(dead_code)] // each test binary uses a different part

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{Request, Response, StatusCode};
use futures::StreamExt;
use serde_json::{json, Value};

/// One request the server received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: Value,
}

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    chunks: Vec<Vec<u8>>,
    /// Pause before answering at all.
    delay: Duration,
}

impl Reply {
    /// A JSON answer.
    pub fn json(status: u16, value: Value) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            chunks: vec![value.to_string().into_bytes()],
            delay: Duration::ZERO,
        }
    }

    /// An event stream sent as the given events, each split in two chunks
    /// (mid-line) so the client must reassemble them.
    pub fn sse(events: Vec<String>) -> Self {
        let mut chunks = Vec::new();
        for event in events {
            let bytes = event.into_bytes();
            let cut = bytes.len() / 2;
            chunks.push(bytes[..cut].to_vec());
            chunks.push(bytes[cut..].to_vec());
        }
        Self {
            status: 200,
            headers: vec![
                ("content-type".into(), "text/event-stream; charset=utf-8".into()),
                ("cache-control".into(), "no-cache".into()),
            ],
            chunks,
            delay: Duration::ZERO,
        }
    }

    /// Any body with any content type.
    pub fn raw(status: u16, content_type: &str, body: &str) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            chunks: vec![body.as_bytes().to_vec()],
            delay: Duration::ZERO,
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Waits this long before answering.
    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

#[derive(Default)]
struct State {
    scripts: HashMap<String, VecDeque<Reply>>,
    requests: Vec<Recorded>,
}

/// The server; it stops when the test's runtime ends.
pub struct MockServer {
    /// `http://127.0.0.1:PORT`
    pub root: String,
    state: Arc<Mutex<State>>,
}

impl MockServer {
    /// Binds 127.0.0.1 on a free port and serves in the background.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let root = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let app = axum::Router::new().fallback(move |request: Request<Body>| {
            let state = shared.clone();
            async move { handle(state, request).await }
        });
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { root, state }
    }

    /// `root` + `/v1`, the usual `base_url`.
    pub fn base_url(&self) -> String {
        format!("{}/v1", self.root)
    }

    /// Answers requests to `path` with `replies` in order; the last one
    /// repeats. Replaces an earlier script for the path.
    pub fn on(&self, path: &str, replies: Vec<Reply>) {
        assert!(!replies.is_empty());
        self.state.lock().unwrap().scripts.insert(path.to_string(), replies.into());
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    /// How many requests reached `path`.
    pub fn count(&self, path: &str) -> usize {
        self.state.lock().unwrap().requests.iter().filter(|r| r.path == path).count()
    }

    /// The last request to `path`.
    pub fn last(&self, path: &str) -> Recorded {
        self.requests().into_iter().rev().find(|r| r.path == path).expect("no request to that path")
    }
}

async fn handle(state: Arc<Mutex<State>>, request: Request<Body>) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, 64 << 20).await.unwrap();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
    };
    let headers = parts
        .headers
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let path = parts.uri.path().to_string();
    let reply = {
        let mut state = state.lock().unwrap();
        state.requests.push(Recorded {
            method: parts.method.to_string(),
            path: path.clone(),
            headers,
            body,
        });
        state.scripts.get_mut(&path).map(|queue| {
            if queue.len() > 1 {
                queue.pop_front().unwrap()
            } else {
                queue[0].clone()
            }
        })
    };
    let Some(reply) = reply else {
        return Response::builder()
            .status(404)
            .header("content-type", "application/json")
            .body(Body::from(
                json!({"error": {"message": format!("no route {path}"), "type": "not_found"}})
                    .to_string(),
            ))
            .unwrap();
    };
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut builder = Response::builder().status(StatusCode::from_u16(reply.status).unwrap());
    for (name, value) in &reply.headers {
        builder = builder.header(name, value);
    }
    let chunks = futures::stream::iter(reply.chunks).then(|chunk| async move {
        // Separate writes, so the client sees separate reads.
        tokio::time::sleep(Duration::from_millis(2)).await;
        Ok::<_, Infallible>(Bytes::from(chunk))
    });
    builder.body(Body::from_stream(chunks)).unwrap()
}

/// A port on loopback where nothing listens.
pub async fn dead_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    port
}

/// OpenAI chat completion chunks, exactly as the API frames them: a role
/// chunk, one chunk per piece, a finish chunk, the usage chunk, `[DONE]`.
pub fn openai_chat_events(
    model: &str,
    pieces: &[&str],
    finish: &str,
    usage: (u64, u64, u64),
) -> Vec<String> {
    let (prompt, completion, cached) = usage;
    let head = |choices: Value, usage: Value| {
        json!({
            "id": "chatcmpl-AbC123",
            "object": "chat.completion.chunk",
            "created": 1_730_000_000,
            "model": model,
            "service_tier": "default",
            "system_fingerprint": "fp_0123456789",
            "choices": choices,
            "usage": usage,
        })
    };
    let mut events = vec![head(
        json!([{"index": 0, "delta": {"role": "assistant", "content": "", "refusal": null}, "logprobs": null, "finish_reason": null}]),
        Value::Null,
    )];
    for piece in pieces {
        events.push(head(
            json!([{"index": 0, "delta": {"content": piece}, "logprobs": null, "finish_reason": null}]),
            Value::Null,
        ));
    }
    events.push(head(
        json!([{"index": 0, "delta": {}, "logprobs": null, "finish_reason": finish}]),
        Value::Null,
    ));
    events.push(head(
        json!([]),
        json!({
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
        }),
    ));
    let mut out: Vec<String> = events.into_iter().map(|e| format!("data: {e}\n\n")).collect();
    out.push("data: [DONE]\n\n".into());
    out
}

/// Legacy completions chunks (`object: text_completion`) ending in usage and `[DONE]`.
pub fn openai_completion_events(
    model: &str,
    pieces: &[&str],
    finish: &str,
    usage: (u64, u64),
) -> Vec<String> {
    let mut out = Vec::new();
    for (i, piece) in pieces.iter().enumerate() {
        let finish_reason = if i + 1 == pieces.len() { json!(finish) } else { Value::Null };
        let chunk = json!({
            "id": "cmpl-xyz",
            "object": "text_completion",
            "created": 1_730_000_000,
            "model": model,
            "choices": [{"text": piece, "index": 0, "logprobs": null, "finish_reason": finish_reason}],
            "usage": null,
        });
        out.push(format!("data: {chunk}\n\n"));
    }
    let usage = json!({
        "id": "cmpl-xyz", "object": "text_completion", "created": 1_730_000_000, "model": model, "choices": [],
        "usage": {"prompt_tokens": usage.0, "completion_tokens": usage.1, "total_tokens": usage.0 + usage.1},
    });
    out.push(format!("data: {usage}\n\n"));
    out.push("data: [DONE]\n\n".into());
    out
}

/// An Anthropic Messages event stream, framed as the API sends it
/// (`event:` line, `data:` line, blank line), with a `ping`.
pub fn anthropic_events(
    model: &str,
    pieces: &[&str],
    stop_reason: &str,
    usage: AnthropicUsage,
) -> Vec<String> {
    let event = |name: &str, data: Value| format!("event: {name}\ndata: {data}\n\n");
    let mut out = vec![
        event(
            "message_start",
            json!({"type": "message_start", "message": {
                "id": "msg_01XFDUDYJgAACzvnptvVoYEL", "type": "message", "role": "assistant", "content": [],
                "model": model, "stop_reason": null, "stop_sequence": null,
                "usage": {"input_tokens": usage.input, "cache_creation_input_tokens": usage.cache_creation,
                          "cache_read_input_tokens": usage.cache_read, "output_tokens": 1}}}),
        ),
        event(
            "content_block_start",
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ),
        event("ping", json!({"type": "ping"})),
    ];
    for piece in pieces {
        out.push(event(
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}}),
        ));
    }
    out.push(event("content_block_stop", json!({"type": "content_block_stop", "index": 0})));
    out.push(event(
        "message_delta",
        json!({"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": null}, "usage": {"output_tokens": usage.output}}),
    ));
    out.push(event("message_stop", json!({"type": "message_stop"})));
    out
}

/// Token counts of an Anthropic response.
#[derive(Debug, Clone, Copy)]
pub struct AnthropicUsage {
    pub input: u64,
    pub cache_creation: u64,
    pub cache_read: u64,
    pub output: u64,
}
