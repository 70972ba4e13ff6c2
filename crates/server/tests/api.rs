//! The OpenAI-compatible API against a real server on loopback, in front of
//! a scripted model: control flow, wire shapes and every error answer.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use serde_json::{json, Value};
use suit_model::{
    ChatRequest, Completion, CompletionRequest, Constraint, Embeddings, FinishReason, Model,
    ModelError, Prompt, Role, StreamEvent, TextStream, Usage,
};
use suit_server::{serve, Served, ServedModels, ServerConfig};

/// What the scripted model answers: this reply, streamed a word at a time.
const REPLY: &str = "Hello from the scripted model .";
/// A user message that makes the scripted model stream without end.
const ENDLESS: &str = "ENDLESS";
/// A user message that makes the scripted model fail before streaming.
const FAIL: &str = "FAIL";
/// A user message that makes the backend unreachable.
const UNREACHABLE: &str = "UNREACHABLE";
/// A user message whose stream fails after its first piece.
const BREAK_MIDWAY: &str = "BREAK_MIDWAY";

/// A model that answers from a script and records what it was asked.
#[derive(Default)]
struct ScriptedModel {
    chats: Mutex<Vec<ChatRequest>>,
    completions: Mutex<Vec<CompletionRequest>>,
    embedded: Mutex<Vec<Vec<String>>>,
    /// Streams of this model dropped so far (ended, or abandoned).
    dropped: Arc<AtomicUsize>,
}

/// Counts itself into `dropped` when its stream is dropped.
struct DropCounter(Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl ScriptedModel {
    fn chats(&self) -> Vec<ChatRequest> {
        self.chats.lock().unwrap().clone()
    }

    /// The scripted reply to `trigger` (the last user text), honouring
    /// `max_tokens` (one word is one token).
    fn reply(&self, trigger: &str, prompt_words: u64, max_tokens: u32) -> TextStream {
        let guard = DropCounter(self.dropped.clone());
        if trigger == ENDLESS {
            // A decode that never ends: a piece every 10 ms.
            let ticks = futures::stream::unfold(guard, |guard| async move {
                tokio::time::sleep(Duration::from_millis(10)).await;
                Some((Ok(StreamEvent::Delta("tick ".into())), guard))
            });
            return Box::pin(ticks);
        }
        if trigger == BREAK_MIDWAY {
            let events = vec![
                Ok(StreamEvent::Delta("Half".into())),
                Err(ModelError::Engine {
                    backend: "scripted".into(),
                    reason: "decode failed".into(),
                }),
            ];
            return Box::pin(futures::stream::iter(events).map(move |e| {
                let _ = &guard;
                e
            }));
        }
        let words: Vec<&str> = REPLY.split(' ').collect();
        let kept = words.len().min(max_tokens as usize);
        let finish = if kept < words.len() { FinishReason::Length } else { FinishReason::Stop };
        let text = words[..kept].join(" ");
        let mut events: Vec<Result<StreamEvent, ModelError>> = words[..kept]
            .iter()
            .enumerate()
            .map(|(i, w)| {
                Ok(StreamEvent::Delta(if i == 0 { w.to_string() } else { format!(" {w}") }))
            })
            .collect();
        events.push(Ok(StreamEvent::Done(Completion {
            text,
            finish_reason: finish,
            usage: Usage {
                prompt_tokens: prompt_words,
                cached_tokens: 0,
                completion_tokens: kept as u64,
            },
            model: "scripted".into(),
            backend: "scripted".into(),
        })));
        Box::pin(futures::stream::iter(events).map(move |e| {
            let _ = &guard;
            e
        }))
    }
}

fn failure(trigger: &str) -> Option<ModelError> {
    match trigger {
        FAIL => Some(ModelError::Engine {
            backend: "scripted".into(),
            reason: "the worker crashed".into(),
        }),
        UNREACHABLE => Some(ModelError::Unreachable {
            backend: "scripted".into(),
            url: "http://10.0.0.1".into(),
            reason: "connection refused".into(),
        }),
        _ => None,
    }
}

#[async_trait]
impl Model for ScriptedModel {
    fn name(&self) -> &str {
        "scripted"
    }

    async fn chat(&self, request: ChatRequest) -> Result<TextStream, ModelError> {
        self.chats.lock().unwrap().push(request.clone());
        let trigger = request.messages.last().map(|m| m.content.clone()).unwrap_or_default();
        if let Some(error) = failure(&trigger) {
            return Err(error);
        }
        let words: u64 =
            request.messages.iter().map(|m| m.content.split_whitespace().count() as u64).sum();
        Ok(self.reply(&trigger, words, request.sampling.max_tokens))
    }

    async fn complete(&self, request: CompletionRequest) -> Result<TextStream, ModelError> {
        self.completions.lock().unwrap().push(request.clone());
        let (trigger, words) = match &request.prompt {
            Prompt::Text(text) => (text.clone(), text.split_whitespace().count() as u64),
            Prompt::Fim { prefix, suffix } => (
                prefix.clone(),
                (prefix.split_whitespace().count() + suffix.split_whitespace().count()) as u64,
            ),
        };
        if let Some(error) = failure(&trigger) {
            return Err(error);
        }
        Ok(self.reply(&trigger, words, request.sampling.max_tokens))
    }

    async fn embed(&self, inputs: Vec<String>) -> Result<Embeddings, ModelError> {
        self.embedded.lock().unwrap().push(inputs.clone());
        let vectors = inputs.iter().map(|t| vec![t.len() as f32, 0.5, -1.0]).collect();
        let tokens = inputs.iter().map(|t| t.split_whitespace().count() as u64).sum();
        Ok(Embeddings {
            vectors,
            usage: Usage { prompt_tokens: tokens, ..Usage::default() },
            model: "scripted".into(),
        })
    }

    async fn tokenize(&self, text: &str) -> Result<Vec<u32>, ModelError> {
        Ok(text.split_whitespace().map(|_| 0).collect())
    }

    fn context_size(&self) -> Option<usize> {
        Some(4096)
    }
}

const MODEL: &str = "scripted-1";

/// A server on 127.0.0.1:0 in front of a fresh scripted model; stops when dropped.
struct TestServer {
    base: String,
    model: Arc<ScriptedModel>,
    http: reqwest::Client,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl TestServer {
    async fn start(configure: impl FnOnce(&mut ServerConfig)) -> Self {
        let model = Arc::new(ScriptedModel::default());
        let mut served = Served::new(model.clone(), MODEL);
        served.aliases.push("scripted-alias".into());
        Self::serving(model, ServedModels::one(served), configure).await
    }

    async fn serving(
        model: Arc<ScriptedModel>,
        models: ServedModels,
        configure: impl FnOnce(&mut ServerConfig),
    ) -> Self {
        let mut config = ServerConfig { body_limit: 64 * 1024, ..ServerConfig::default() };
        configure(&mut config);
        let server = common::spawn_server(models, config).await;
        Self { base: server.base, model, http: reqwest::Client::new(), _stop: server.stop }
    }

    async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.http.post(format!("{}{path}", self.base)).json(&body).send().await.unwrap()
    }

    async fn post_json(&self, path: &str, body: Value) -> Value {
        let response = self.post(path, body).await;
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, 200, "{text}");
        serde_json::from_str(&text).unwrap()
    }
}

/// Checks an error answer: its status, OpenAI's shape, and its code.
async fn assert_error(response: reqwest::Response, status: u16, code: Option<&str>) -> Value {
    assert_eq!(response.status().as_u16(), status);
    assert!(
        response.headers()["content-type"].to_str().unwrap().starts_with("application/json"),
        "error bodies are JSON"
    );
    let body: Value = response.json().await.unwrap();
    let error = &body["error"];
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert!(error["type"].as_str().is_some(), "{body}");
    assert!(error.get("param").is_some() && error.get("code").is_some(), "{body}");
    assert_eq!(error["code"].as_str(), code, "{body}");
    body
}

fn chat(content: Value) -> Value {
    json!({ "model": MODEL, "messages": [{ "role": "user", "content": content }], "temperature": 0 })
}

/// The `data:` payloads of an event stream, in order.
fn sse_payloads(body: &str) -> Vec<String> {
    body.split("\n\n")
        .filter(|e| !e.trim().is_empty())
        .map(|e| {
            e.strip_prefix("data: ")
                .unwrap_or_else(|| panic!("not a data event: {e:?}"))
                .to_string()
        })
        .collect()
}

#[tokio::test]
async fn health_and_the_models_list() {
    let server = TestServer::start(|_| {}).await;
    let health: Value = server
        .http
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health, json!({ "status": "ok" }));
    let models: Value = server
        .http
        .get(format!("{}/v1/models", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(models["object"], "list");
    let data = models["data"].as_array().unwrap();
    assert_eq!(data.len(), 1);
    assert_eq!(data[0]["id"], MODEL);
    assert_eq!(data[0]["object"], "model");
    assert_eq!(data[0]["owned_by"], "suit");
    assert!(data[0]["created"].as_u64().unwrap() > 1_600_000_000);
}

#[tokio::test]
async fn a_chat_reply_has_its_message_usage_and_finish_reason() {
    let server = TestServer::start(|_| {}).await;
    let reply = server
        .post_json(
            "/v1/chat/completions",
            json!({
                "model": MODEL,
                "messages": [
                    { "role": "system", "content": "Be brief." },
                    { "role": "user", "content": [
                        { "type": "text", "text": "first part" },
                        { "type": "text", "text": "second part" }
                    ]}
                ],
                "temperature": 0.5, "top_p": 0.9, "seed": 7
            }),
        )
        .await;
    assert_eq!(reply["object"], "chat.completion");
    assert!(reply["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert_eq!(reply["model"], MODEL);
    let choices = reply["choices"].as_array().unwrap();
    assert_eq!(choices.len(), 1);
    assert_eq!(choices[0]["index"], 0);
    assert_eq!(choices[0]["message"]["role"], "assistant");
    assert_eq!(choices[0]["message"]["content"], REPLY);
    assert_eq!(choices[0]["finish_reason"], "stop");
    // 2 + 4 prompt words, 6 reply words.
    assert_eq!(reply["usage"]["prompt_tokens"], 6);
    assert_eq!(reply["usage"]["completion_tokens"], 6);
    assert_eq!(reply["usage"]["total_tokens"], 12);

    let asked = &server.model.chats()[0];
    assert_eq!(asked.messages[0].role, Role::System);
    assert_eq!(asked.messages[1].content, "first part\nsecond part");
    assert_eq!(asked.sampling.temperature, 0.5);
    assert_eq!(asked.sampling.top_p, 0.9);
    assert_eq!(asked.sampling.seed, 7);
    assert_eq!(asked.constraint, None);
}

#[tokio::test]
async fn max_tokens_ends_a_reply_with_length_and_stop_sequences_are_passed_on() {
    let server = TestServer::start(|_| {}).await;
    let mut body = chat(json!("hi"));
    body["max_tokens"] = json!(2);
    body["stop"] = json!("END");
    let reply = server.post_json("/v1/chat/completions", body).await;
    assert_eq!(reply["choices"][0]["message"]["content"], "Hello from");
    assert_eq!(reply["choices"][0]["finish_reason"], "length");
    assert_eq!(reply["usage"]["completion_tokens"], 2);

    let mut body = chat(json!("hi"));
    body["max_completion_tokens"] = json!(3);
    body["stop"] = json!(["END", "\n\n"]);
    server.post_json("/v1/chat/completions", body).await;
    let asked = server.model.chats();
    assert_eq!(asked[0].sampling.stop, ["END"]);
    assert_eq!(asked[0].sampling.max_tokens, 2);
    assert_eq!(asked[1].sampling.stop, ["END", "\n\n"]);
    assert_eq!(asked[1].sampling.max_tokens, 3);
    // Without a limit, a reply may fill the model's window.
    server.post_json("/v1/chat/completions", chat(json!("hi"))).await;
    assert_eq!(server.model.chats()[2].sampling.max_tokens, 4096);
}

#[tokio::test]
async fn n_choices_are_requested_together_with_distinct_seeds() {
    let server = TestServer::start(|_| {}).await;
    let mut body = chat(json!("two please"));
    body["n"] = json!(2);
    body["seed"] = json!(40);
    body["temperature"] = json!(0.8);
    let reply = server.post_json("/v1/chat/completions", body).await;
    let choices = reply["choices"].as_array().unwrap();
    assert_eq!(choices.len(), 2);
    assert_eq!(choices[0]["index"], 0);
    assert_eq!(choices[1]["index"], 1);
    // The prompt counts once, the generated tokens of both choices.
    assert_eq!(reply["usage"]["prompt_tokens"], 2);
    assert_eq!(reply["usage"]["completion_tokens"], 12);
    let seeds: Vec<u32> = server.model.chats().iter().map(|r| r.sampling.seed).collect();
    assert_eq!(seeds, [40, 41]);

    let mut body = chat(json!("hi"));
    body["n"] = json!(0);
    assert_error(server.post("/v1/chat/completions", body).await, 400, None).await;
}

#[tokio::test]
async fn a_streamed_chat_sends_the_role_then_text_then_the_finish_reason_then_done() {
    let server = TestServer::start(|_| {}).await;
    let mut body = chat(json!("stream it"));
    body["stream"] = json!(true);
    let response = server.post("/v1/chat/completions", body).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let payloads = sse_payloads(&response.text().await.unwrap());
    assert_eq!(payloads.last().unwrap(), "[DONE]");
    let chunks: Vec<Value> =
        payloads[..payloads.len() - 1].iter().map(|p| serde_json::from_str(p).unwrap()).collect();
    let id = chunks[0]["id"].as_str().unwrap();
    for chunk in &chunks {
        assert_eq!(chunk["object"], "chat.completion.chunk");
        assert_eq!(chunk["id"], id, "one id for the whole stream");
        assert_eq!(chunk["model"], MODEL);
        assert!(chunk.get("usage").is_none(), "no usage unless asked for");
    }
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    assert!(chunks[0]["choices"][0]["finish_reason"].is_null());
    let text: String =
        chunks[1..].iter().filter_map(|c| c["choices"][0]["delta"]["content"].as_str()).collect();
    assert_eq!(text, REPLY);
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"][0]["finish_reason"], "stop");
    assert_eq!(last["choices"][0]["delta"], json!({}));
    assert!(chunks[..chunks.len() - 1].iter().all(|c| c["choices"][0]["finish_reason"].is_null()));
}

#[tokio::test]
async fn a_streamed_chat_with_include_usage_ends_with_a_usage_chunk_for_all_choices() {
    let server = TestServer::start(|_| {}).await;
    let mut body = chat(json!("stream two"));
    body["stream"] = json!(true);
    body["n"] = json!(2);
    body["stream_options"] = json!({ "include_usage": true });
    let text = server.post("/v1/chat/completions", body).await.text().await.unwrap();
    let payloads = sse_payloads(&text);
    assert_eq!(payloads.last().unwrap(), "[DONE]");
    let chunks: Vec<Value> =
        payloads[..payloads.len() - 1].iter().map(|p| serde_json::from_str(p).unwrap()).collect();
    let usage_chunk = chunks.last().unwrap();
    assert_eq!(usage_chunk["choices"], json!([]));
    assert_eq!(usage_chunk["usage"]["completion_tokens"], 12);
    assert_eq!(usage_chunk["usage"]["total_tokens"], 14);
    for chunk in &chunks[..chunks.len() - 1] {
        assert!(chunk["usage"].is_null(), "other chunks carry usage: null");
    }
    for index in 0..2 {
        let of_choice: Vec<&Value> = chunks
            .iter()
            .flat_map(|c| c["choices"].as_array().unwrap())
            .filter(|c| c["index"] == index)
            .collect();
        assert_eq!(of_choice[0]["delta"]["role"], "assistant");
        assert_eq!(of_choice.last().unwrap()["finish_reason"], "stop");
        let text: String =
            of_choice.iter().filter_map(|c| c["delta"]["content"].as_str()).collect();
        assert_eq!(text, REPLY);
    }
}

#[tokio::test]
async fn response_formats_become_json_schema_constraints() {
    let server = TestServer::start(|_| {}).await;
    let schema = json!({
        "type": "object",
        "properties": { "name": { "type": "string" } },
        "required": ["name"]
    });
    let mut body = chat(json!("json please"));
    body["response_format"] = json!({ "type": "json_schema", "json_schema": { "name": "person", "schema": schema, "strict": true } });
    server.post_json("/v1/chat/completions", body).await;
    let mut body = chat(json!("any json"));
    body["response_format"] = json!({ "type": "json_object" });
    server.post_json("/v1/chat/completions", body).await;
    let mut body = chat(json!("plain"));
    body["response_format"] = json!({ "type": "text" });
    server.post_json("/v1/chat/completions", body).await;
    let asked = server.model.chats();
    assert_eq!(asked[0].constraint, Some(Constraint::JsonSchema(schema)));
    assert_eq!(asked[1].constraint, Some(Constraint::JsonSchema(json!({ "type": "object" }))));
    assert_eq!(asked[2].constraint, None);

    let mut body = chat(json!("bad"));
    body["response_format"] = json!({ "type": "json_schema", "json_schema": { "name": "x" } });
    let error = assert_error(server.post("/v1/chat/completions", body).await, 400, None).await;
    assert_eq!(error["error"]["param"], "response_format.json_schema.schema");
}

#[tokio::test]
async fn text_completions_fill_in_the_middle_with_a_suffix_and_stream() {
    let server = TestServer::start(|_| {}).await;
    let reply = server
        .post_json(
            "/v1/completions",
            json!({ "model": MODEL, "prompt": "def add(a, b):\n", "suffix": "\nprint(add(1, 2))", "max_tokens": 4, "stop": "\n\n", "temperature": 0 }),
        )
        .await;
    assert_eq!(reply["object"], "text_completion");
    assert!(reply["id"].as_str().unwrap().starts_with("cmpl-"));
    assert_eq!(reply["choices"][0]["text"], "Hello from the scripted");
    assert_eq!(reply["choices"][0]["finish_reason"], "length");
    assert_eq!(reply["usage"]["completion_tokens"], 4);
    let asked = server.model.completions.lock().unwrap()[0].clone();
    assert_eq!(
        asked.prompt,
        Prompt::Fim { prefix: "def add(a, b):\n".into(), suffix: "\nprint(add(1, 2))".into() }
    );
    assert_eq!(asked.sampling.stop, ["\n\n"]);
    assert_eq!(asked.sampling.temperature, 0.0);

    let response = server
        .post("/v1/completions", json!({ "model": MODEL, "prompt": ["Once upon"], "stream": true }))
        .await;
    let payloads = sse_payloads(&response.text().await.unwrap());
    assert_eq!(payloads.last().unwrap(), "[DONE]");
    let chunks: Vec<Value> =
        payloads[..payloads.len() - 1].iter().map(|p| serde_json::from_str(p).unwrap()).collect();
    assert!(chunks.iter().all(|c| c["object"] == "text_completion"));
    let text: String = chunks.iter().filter_map(|c| c["choices"][0]["text"].as_str()).collect();
    assert_eq!(text, REPLY);
    assert_eq!(chunks.last().unwrap()["choices"][0]["finish_reason"], "stop");
    assert_eq!(
        server.model.completions.lock().unwrap()[1].prompt,
        Prompt::Text("Once upon".into())
    );
}

#[tokio::test]
async fn embeddings_come_as_floats_or_base64() {
    let server = TestServer::start(|_| {}).await;
    let reply = server
        .post_json("/v1/embeddings", json!({ "model": MODEL, "input": ["a b", "abcd"] }))
        .await;
    assert_eq!(reply["object"], "list");
    assert_eq!(reply["model"], MODEL);
    assert_eq!(reply["data"][0]["object"], "embedding");
    assert_eq!(reply["data"][1]["index"], 1);
    assert_eq!(reply["data"][1]["embedding"], json!([4.0, 0.5, -1.0]));
    assert_eq!(reply["usage"], json!({ "prompt_tokens": 3, "total_tokens": 3 }));

    let reply = server
        .post_json(
            "/v1/embeddings",
            json!({ "model": "scripted-alias", "input": "abc", "encoding_format": "base64" }),
        )
        .await;
    let encoded = reply["data"][0]["embedding"].as_str().unwrap();
    let bytes: Vec<u8> = [3.0f32, 0.5, -1.0].iter().flat_map(|x| x.to_le_bytes()).collect();
    assert_eq!(encoded, base64_of(&bytes));
    assert_eq!(server.model.embedded.lock().unwrap()[1], ["abc"]);

    for bad in [json!([1, 2, 3]), json!([]), json!(5)] {
        let response = server.post("/v1/embeddings", json!({ "model": MODEL, "input": bad })).await;
        let error = assert_error(response, 400, None).await;
        assert_eq!(error["error"]["param"], "input");
    }
}

/// Standard base64, written out here so the test does not share the
/// server's encoder.
fn base64_of(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[tokio::test]
async fn bad_requests_get_openai_errors_with_the_right_status() {
    let server = TestServer::start(|_| {}).await;
    let url = format!("{}/v1/chat/completions", server.base);
    // Malformed JSON.
    let response = server
        .http
        .post(&url)
        .header("content-type", "application/json")
        .body("{\"model\": \"scripted-1\", \"messages\": [")
        .send()
        .await
        .unwrap();
    assert_error(response, 400, Some("invalid_json")).await;
    // Well-formed JSON, wrong types: the field is named.
    let mut body = chat(json!("hi"));
    body["max_tokens"] = json!("many");
    let error = assert_error(server.post("/v1/chat/completions", body).await, 400, None).await;
    assert_eq!(error["error"]["param"], "max_tokens", "{error}");
    let error = assert_error(
        server.post("/v1/chat/completions", json!({ "model": MODEL, "messages": "hi" })).await,
        400,
        None,
    )
    .await;
    assert_eq!(error["error"]["param"], "messages");
    // A missing field.
    assert_error(server.post("/v1/chat/completions", json!({ "model": MODEL })).await, 400, None)
        .await;
    // An unknown model; the alias is served.
    let mut body = chat(json!("hi"));
    body["model"] = json!("gpt-4o");
    let error =
        assert_error(server.post("/v1/chat/completions", body).await, 404, Some("model_not_found"))
            .await;
    assert!(error["error"]["message"].as_str().unwrap().contains(MODEL));
    let mut body = chat(json!("hi"));
    body["model"] = json!("scripted-alias");
    server.post_json("/v1/chat/completions", body).await;
    // A body over the limit (64 KiB in these tests).
    let huge = chat(json!("x".repeat(100 * 1024)));
    assert_error(server.post("/v1/chat/completions", huge).await, 413, Some("request_too_large"))
        .await;
    // Unknown routes and methods.
    let response = server.http.get(format!("{}/v1/nothing", server.base)).send().await.unwrap();
    assert_error(response, 404, Some("unknown_url")).await;
    let response = server.http.get(&url).send().await.unwrap();
    assert_error(response, 405, Some("method_not_allowed")).await;
    // Out-of-range values and unsupported features.
    let mut body = chat(json!("hi"));
    body["temperature"] = json!(3);
    assert_error(server.post("/v1/chat/completions", body).await, 400, None).await;
    let mut body = chat(json!("hi"));
    body["messages"] =
        json!([{ "role": "user", "content": [{ "type": "image_url", "image_url": {} }] }]);
    assert_error(server.post("/v1/chat/completions", body).await, 400, None).await;
    let mut body = chat(json!("hi"));
    body["messages"] = json!([]);
    assert_error(server.post("/v1/chat/completions", body).await, 400, None).await;
    // Nothing reached the model but the one request for the alias.
    assert_eq!(server.model.chats().len(), 1);
}

#[tokio::test]
async fn model_failures_are_server_errors_with_the_models_message() {
    let server = TestServer::start(|_| {}).await;
    let error = assert_error(
        server.post("/v1/chat/completions", chat(json!(FAIL))).await,
        500,
        Some("model_error"),
    )
    .await;
    assert!(error["error"]["message"].as_str().unwrap().contains("the worker crashed"));
    assert_eq!(error["error"]["type"], "server_error");
    let error = assert_error(
        server.post("/v1/completions", json!({ "model": MODEL, "prompt": UNREACHABLE })).await,
        503,
        Some("model_unavailable"),
    )
    .await;
    assert!(error["error"]["message"].as_str().unwrap().contains("connection refused"));

    // A stream that fails midway ends with an error event, no [DONE].
    let mut body = chat(json!(BREAK_MIDWAY));
    body["stream"] = json!(true);
    let payloads =
        sse_payloads(&server.post("/v1/chat/completions", body).await.text().await.unwrap());
    let last: Value = serde_json::from_str(payloads.last().unwrap()).unwrap();
    assert!(last["error"]["message"].as_str().unwrap().contains("decode failed"), "{last}");
    assert!(!payloads.contains(&"[DONE]".to_string()));
}

#[tokio::test]
async fn a_key_is_required_when_configured_but_not_for_health() {
    let server = TestServer::start(|c| c.api_key = Some("sk-right".into())).await;
    let url = format!("{}/v1/chat/completions", server.base);
    let response = server.http.post(&url).json(&chat(json!("hi"))).send().await.unwrap();
    let response_headers = response.headers().clone();
    assert_error(response, 401, Some("missing_api_key")).await;
    assert_eq!(response_headers["www-authenticate"], "Bearer");
    let response = server
        .http
        .post(&url)
        .bearer_auth("sk-wrong")
        .json(&chat(json!("hi")))
        .send()
        .await
        .unwrap();
    assert_error(response, 401, Some("invalid_api_key")).await;
    let response = server
        .http
        .post(&url)
        .bearer_auth("sk-righ")
        .json(&chat(json!("hi")))
        .send()
        .await
        .unwrap();
    assert_error(response, 401, Some("invalid_api_key")).await;
    // Unknown routes ask for the key too (they do not reveal what exists).
    let response = server.http.get(format!("{}/v1/nothing", server.base)).send().await.unwrap();
    assert_error(response, 401, Some("missing_api_key")).await;
    assert!(server.model.chats().is_empty());

    let response = server
        .http
        .post(&url)
        .bearer_auth("sk-right")
        .json(&chat(json!("hi")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let response = server
        .http
        .post(&url)
        .header("x-api-key", "sk-right")
        .json(&chat(json!("hi")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let health = server.http.get(format!("{}/healthz", server.base)).send().await.unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn a_client_that_disconnects_mid_stream_stops_the_decode() {
    let server = TestServer::start(|_| {}).await;
    let mut body = chat(json!(ENDLESS));
    body["stream"] = json!(true);
    let response = server.post("/v1/chat/completions", body).await;
    assert_eq!(response.status(), 200);
    let mut bytes = response.bytes_stream();
    let mut seen = String::new();
    while !seen.contains("tick") {
        let piece = bytes.next().await.expect("the stream goes on").unwrap();
        seen.push_str(&String::from_utf8_lossy(&piece));
    }
    assert_eq!(server.model.dropped.load(Ordering::SeqCst), 0, "the decode is still running");
    drop(bytes);
    let waited = std::time::Instant::now();
    while server.model.dropped.load(Ordering::SeqCst) == 0 {
        assert!(
            waited.elapsed() < Duration::from_secs(5),
            "the model's stream was not dropped after the client left"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    eprintln!("stream dropped {:?} after the client left", waited.elapsed());
}

#[tokio::test]
async fn a_non_loopback_address_without_a_key_is_refused() {
    let listener = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
    let models = ServedModels::one(Served::new(Arc::new(ScriptedModel::default()), MODEL));
    let error = serve(listener, models, ServerConfig::default(), async {}).await.unwrap_err();
    let message = error.to_string();
    assert!(message.contains("without an API key"), "{message}");
    assert!(message.contains("--api-key"), "{message}");
}

#[tokio::test]
async fn a_model_of_their_own_makes_the_embeddings() {
    let generator = Arc::new(ScriptedModel::default());
    let embedder = Arc::new(ScriptedModel::default());
    let models = ServedModels {
        generation: Served::new(generator.clone(), MODEL),
        embeddings: Some(Served::new(embedder.clone(), "scripted-embedder")),
    };
    let server = TestServer::serving(generator.clone(), models, |_| {}).await;
    let listed: Value = server
        .http
        .get(format!("{}/v1/models", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> =
        listed["data"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [MODEL, "scripted-embedder"]);
    server.post_json("/v1/embeddings", json!({ "model": "scripted-embedder", "input": "x" })).await;
    assert_eq!(embedder.embedded.lock().unwrap().len(), 1);
    assert!(generator.embedded.lock().unwrap().is_empty());
    // Each endpoint answers to its own model only.
    let response = server.post("/v1/embeddings", json!({ "model": MODEL, "input": "x" })).await;
    let error = assert_error(response, 404, Some("model_not_found")).await;
    assert!(error["error"]["message"].as_str().unwrap().contains("scripted-embedder"));
    let mut body = chat(json!("hi"));
    body["model"] = json!("scripted-embedder");
    assert_error(server.post("/v1/chat/completions", body).await, 404, Some("model_not_found"))
        .await;
}

#[tokio::test]
async fn a_full_queue_answers_429_with_retry_after_and_frees_as_replies_end() {
    let server = TestServer::start(|c| c.max_in_flight = 2).await;
    let mut endless = chat(json!(ENDLESS));
    endless["stream"] = json!(true);
    // Two replies that never end take both places.
    let mut open = Vec::new();
    for _ in 0..2 {
        let response = server.post("/v1/chat/completions", endless.clone()).await;
        assert_eq!(response.status(), 200);
        let mut bytes = response.bytes_stream();
        bytes.next().await.expect("a first piece").unwrap();
        open.push(bytes);
    }
    let busy = server.post("/v1/chat/completions", chat(json!("hi"))).await;
    assert_eq!(busy.status(), 429);
    let wait: u64 = busy.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    let error: Value = busy.json().await.unwrap();
    assert_eq!(error["error"]["code"], "server_busy", "{error}");
    // Reading usage or the model list needs no place in the queue.
    let models = server.http.get(format!("{}/v1/models", server.base)).send().await.unwrap();
    assert_eq!(models.status(), 200);
    // A client that leaves gives its place back.
    drop(open.pop());
    let waited = std::time::Instant::now();
    loop {
        let response = server.post("/v1/chat/completions", chat(json!("hi"))).await;
        if response.status() == 200 {
            // A whole reply keeps its length (it is not re-sent as a stream).
            assert!(response.headers().contains_key("content-length"), "{response:?}");
            break;
        }
        assert_eq!(response.status(), 429);
        assert!(waited.elapsed() < Duration::from_secs(5), "the place was not given back");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_client_that_sends_a_byte_at_a_time_is_cut_off_and_frees_its_place() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = TestServer::start(|c| {
        c.max_in_flight = 1;
        c.header_read_timeout = Duration::from_millis(600);
        c.body_read_timeout = Duration::from_millis(600);
    })
    .await;
    let addr = server.base.trim_start_matches("http://").to_string();
    let body = chat(json!("hi")).to_string();
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    // Slow headers: the connection is closed, nothing is answered.
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let started = std::time::Instant::now();
    let mut closed = false;
    for byte in head.as_bytes() {
        if slow.write_all(&[*byte]).await.is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        if started.elapsed() > Duration::from_secs(3) {
            break;
        }
    }
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(3), slow.read_to_end(&mut rest)).await;
    assert!(closed || matches!(read, Ok(Ok(_))), "the slow connection is still open");
    assert!(started.elapsed() < Duration::from_secs(4));
    // Quick headers, slow body: 408 in OpenAI's shape, and the one place in
    // the queue is free again for the next request.
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow.write_all(head.as_bytes()).await.unwrap();
    slow.write_all(&body.as_bytes()[..5]).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut answer))
        .await
        .expect("an answer within the body deadline")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"code\":\"request_timeout\""), "{answer}");
    server.post_json("/v1/chat/completions", chat(json!("hi"))).await;
}

#[tokio::test]
async fn flex_service_tier_is_batch_priority() {
    let server = TestServer::start(|_| {}).await;
    let mut body = chat(json!("hi"));
    server.post_json("/v1/chat/completions", body.clone()).await;
    body["service_tier"] = json!("flex");
    server.post_json("/v1/chat/completions", body).await;
    let chats = server.model.chats();
    assert_eq!(chats[0].priority, suit_model::Priority::Interactive);
    assert_eq!(chats[1].priority, suit_model::Priority::Batch);
    assert_eq!(chats[1].client, None, "an open server has one shared account");
}

#[tokio::test]
async fn metrics_count_requests_tokens_and_times_in_prometheus_text() {
    let server = TestServer::start(|_| {}).await;
    let reply = server.post_json("/v1/chat/completions", chat(json!("hi"))).await;
    let completion = reply["usage"]["completion_tokens"].as_u64().unwrap();
    let response = server.http.get(format!("{}/metrics", server.base)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let value = |line_start: &str| -> f64 {
        let line = text
            .lines()
            .find(|l| l.starts_with(line_start))
            .unwrap_or_else(|| panic!("no `{line_start}` in:\n{text}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    assert_eq!(value("suit_tokens_total{key=\"-\",kind=\"Completion\"}"), completion as f64);
    assert_eq!(value("suit_request_duration_seconds_count"), 1.0);
    assert_eq!(value("suit_time_to_first_byte_seconds_count"), 1.0);
    assert_eq!(value("suit_requests_in_flight"), 0.0);
    assert_eq!(value("suit_requests_rejected_total"), 0.0);
    assert!(text.trim_end().ends_with("# EOF"), "OpenMetrics ends with # EOF");
}
