//! Anthropic's Messages API (`POST /v1/messages`) against a real server on
//! loopback, in front of a scripted model: wire shapes, the event stream,
//! stop sequences and every error answer in Anthropic's shape.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use serde_json::{json, Value};
use suit_model::{
    ChatRequest, Completion, CompletionRequest, Embeddings, FinishReason, Model, ModelError, Role,
    StreamEvent, TextStream, Usage,
};
use suit_server::{Served, ServedModels, ServerConfig};

/// What the scripted model answers: this reply, streamed a word at a time.
const REPLY: &str = "Hello from the scripted model .";
/// A user message that makes the scripted model stream `tick 1 tick 2 …`
/// without end.
const ENDLESS: &str = "ENDLESS";
/// A user message that makes the scripted model fail before streaming.
const FAIL: &str = "FAIL";
/// A user message that makes the backend unreachable.
const UNREACHABLE: &str = "UNREACHABLE";
/// A user message whose stream fails after its first piece.
const BREAK_MIDWAY: &str = "BREAK_MIDWAY";

const MODEL: &str = "scripted-1";
const VERSION: &str = "2023-06-01";

/// A model that answers from a script (one word is one token) and records
/// what it was asked.
#[derive(Default)]
struct ScriptedModel {
    chats: Mutex<Vec<ChatRequest>>,
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

    fn dropped(&self) -> usize {
        self.dropped.load(Ordering::SeqCst)
    }

    /// The scripted reply to `trigger` (the last user text).
    fn reply(&self, trigger: &str, prompt_words: u64, max_tokens: u32) -> TextStream {
        let guard = DropCounter(self.dropped.clone());
        if trigger == ENDLESS {
            // A decode that never ends: a piece every 10 ms.
            let ticks = futures::stream::unfold((guard, 1u64), |(guard, n)| async move {
                tokio::time::sleep(Duration::from_millis(10)).await;
                Some((Ok(StreamEvent::Delta(format!("tick {n} "))), (guard, n + 1)))
            });
            return Box::pin(ticks);
        }
        let events: Vec<Result<StreamEvent, ModelError>> = if trigger == BREAK_MIDWAY {
            vec![
                Ok(StreamEvent::Delta("Half".into())),
                Err(ModelError::Engine {
                    backend: "scripted".into(),
                    reason: "decode failed".into(),
                }),
            ]
        } else {
            let words: Vec<&str> = REPLY.split(' ').collect();
            let kept = words.len().min(max_tokens as usize);
            let finish = if kept < words.len() { FinishReason::Length } else { FinishReason::Stop };
            let mut events: Vec<_> = words[..kept]
                .iter()
                .enumerate()
                .map(|(i, w)| {
                    Ok(StreamEvent::Delta(if i == 0 { w.to_string() } else { format!(" {w}") }))
                })
                .collect();
            events.push(Ok(StreamEvent::Done(Completion {
                text: words[..kept].join(" "),
                finish_reason: finish,
                usage: Usage {
                    prompt_tokens: prompt_words,
                    cached_tokens: 2,
                    completion_tokens: kept as u64,
                },
                model: "scripted".into(),
                backend: "scripted".into(),
            })));
            events
        };
        Box::pin(futures::stream::iter(events).map(move |e| {
            let _ = &guard;
            e
        }))
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
        match trigger.as_str() {
            FAIL => {
                return Err(ModelError::Engine {
                    backend: "scripted".into(),
                    reason: "the worker crashed".into(),
                })
            }
            UNREACHABLE => {
                return Err(ModelError::Unreachable {
                    backend: "scripted".into(),
                    url: "http://10.0.0.1".into(),
                    reason: "connection refused".into(),
                })
            }
            _ => {}
        }
        let words: u64 =
            request.messages.iter().map(|m| m.content.split_whitespace().count() as u64).sum();
        Ok(self.reply(&trigger, words, request.sampling.max_tokens))
    }

    async fn complete(&self, _request: CompletionRequest) -> Result<TextStream, ModelError> {
        Err(ModelError::Unsupported { backend: "scripted".into(), operation: "complete".into() })
    }

    async fn embed(&self, _inputs: Vec<String>) -> Result<Embeddings, ModelError> {
        Err(ModelError::Unsupported { backend: "scripted".into(), operation: "embed".into() })
    }

    async fn tokenize(&self, text: &str) -> Result<Vec<u32>, ModelError> {
        Ok(text.split_whitespace().map(|_| 0).collect())
    }

    fn context_size(&self) -> Option<usize> {
        Some(4096)
    }
}

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
        let models = ServedModels::one(Served::new(model.clone(), MODEL));
        let mut config = ServerConfig { body_limit: 64 * 1024, ..ServerConfig::default() };
        configure(&mut config);
        let server = common::spawn_server(models, config).await;
        Self { base: server.base, model, http: reqwest::Client::new(), _stop: server.stop }
    }

    /// A request to `/v1/messages` as the `anthropic` SDK sends it.
    fn request(&self, key: Option<&str>) -> reqwest::RequestBuilder {
        let request = self
            .http
            .post(format!("{}/v1/messages", self.base))
            .header("anthropic-version", VERSION);
        match key {
            Some(key) => request.header("x-api-key", key),
            None => request,
        }
    }

    async fn post(&self, body: Value) -> reqwest::Response {
        self.request(None).json(&body).send().await.unwrap()
    }

    async fn post_json(&self, body: Value) -> Value {
        let response = self.post(body).await;
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, 200, "{text}");
        serde_json::from_str(&text).unwrap()
    }

    /// The events of a streamed reply, as (name, data) pairs.
    async fn post_stream(&self, mut body: Value) -> Vec<(String, Value)> {
        body["stream"] = json!(true);
        let response = self.post(body).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        events(&response.text().await.unwrap())
    }
}

/// A request body with one user message.
fn ask(content: Value) -> Value {
    json!({
        "model": MODEL,
        "max_tokens": 64,
        "messages": [{ "role": "user", "content": content }],
        "temperature": 0,
    })
}

/// Splits an event stream into (name, data) pairs, checking each event is
/// `event: NAME` then `data: JSON` and that `data.type` is its name.
fn events(body: &str) -> Vec<(String, Value)> {
    body.split("\n\n")
        .filter(|e| !e.trim().is_empty())
        .map(|e| {
            let (name, data) = e
                .strip_prefix("event: ")
                .and_then(|rest| rest.split_once("\ndata: "))
                .unwrap_or_else(|| panic!("not an `event:` then `data:` event: {e:?}"));
            let data: Value = serde_json::from_str(data).unwrap();
            assert_eq!(data["type"], name, "{e}");
            (name.to_string(), data)
        })
        .collect()
}

/// Checks an error answer: its status, Anthropic's shape and its type; gives
/// back the message.
async fn assert_error(response: reqwest::Response, status: u16, kind: &str) -> String {
    assert_eq!(response.status().as_u16(), status);
    assert!(
        response.headers()["content-type"].to_str().unwrap().starts_with("application/json"),
        "error bodies are JSON"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["type"], "error", "{body}");
    assert_eq!(body["error"]["type"], kind, "{body}");
    assert_eq!(body["error"].as_object().unwrap().len(), 2, "only `type` and `message`: {body}");
    let message = body["error"]["message"].as_str().unwrap_or_default().to_string();
    assert!(!message.is_empty(), "{body}");
    message
}

#[tokio::test]
async fn a_reply_is_one_message_with_its_text_stop_reason_and_usage() {
    let server = TestServer::start(|_| {}).await;
    let reply = server
        .post_json(json!({
            "model": MODEL,
            "max_tokens": 100,
            "system": [{ "type": "text", "text": "Be brief.", "cache_control": { "type": "ephemeral" } }],
            "messages": [
                { "role": "user", "content": "An earlier question" },
                { "role": "assistant", "content": [{ "type": "text", "text": "An answer" }] },
                { "role": "user", "content": [
                    { "type": "text", "text": "first part" },
                    { "type": "text", "text": "second part" }
                ]}
            ],
            "temperature": 0.5, "top_p": 0.9,
            "metadata": { "user_id": "someone" }
        }))
        .await;
    assert!(reply["id"].as_str().unwrap().starts_with("msg_"), "{reply}");
    assert_eq!(reply["type"], "message");
    assert_eq!(reply["role"], "assistant");
    assert_eq!(reply["model"], MODEL);
    assert_eq!(reply["content"], json!([{ "type": "text", "text": REPLY }]));
    assert_eq!(reply["stop_reason"], "end_turn");
    assert_eq!(reply["stop_sequence"], Value::Null);
    // 2 + 3 + 2 + 4 prompt words, 2 of them from the cache; 6 reply words.
    assert_eq!(
        reply["usage"],
        json!({
            "input_tokens": 9,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 2,
            "output_tokens": 6,
        })
    );

    let asked = &server.model.chats()[0];
    let roles: Vec<Role> = asked.messages.iter().map(|m| m.role).collect();
    assert_eq!(roles, [Role::System, Role::User, Role::Assistant, Role::User]);
    assert_eq!(asked.messages[0].content, "Be brief.");
    assert_eq!(asked.messages[3].content, "first part\nsecond part");
    assert_eq!(asked.sampling.temperature, 0.5);
    assert_eq!(asked.sampling.top_p, 0.9);
    assert_eq!(asked.sampling.max_tokens, 100);
    assert!(asked.sampling.stop.is_empty());
}

#[tokio::test]
async fn max_tokens_ends_a_reply_with_max_tokens_and_top_k_1_is_greedy() {
    let server = TestServer::start(|_| {}).await;
    let mut body = ask(json!("hi"));
    body["max_tokens"] = json!(2);
    body["temperature"] = json!(0.8);
    body["top_k"] = json!(1);
    let reply = server.post_json(body).await;
    assert_eq!(reply["content"][0]["text"], "Hello from");
    assert_eq!(reply["stop_reason"], "max_tokens");
    assert_eq!(reply["usage"]["output_tokens"], 2);
    assert_eq!(server.model.chats()[0].sampling.temperature, 0.0, "top_k 1 is greedy");

    let mut body = ask(json!("hi"));
    body["temperature"] = json!(0.8);
    body["top_k"] = json!(40);
    server.post_json(body).await;
    assert_eq!(server.model.chats()[1].sampling.temperature, 0.8, "other top_k are not applied");
}

#[tokio::test]
async fn a_streamed_reply_is_anthropics_event_sequence() {
    let server = TestServer::start(|_| {}).await;
    let mut body = ask(json!("hi there"));
    body["system"] = json!("Be brief.");
    let events = server.post_stream(body).await;
    let names: Vec<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    let words = REPLY.split(' ').count();
    let mut expected = vec!["message_start", "content_block_start", "ping"];
    expected.extend(std::iter::repeat_n("content_block_delta", words));
    expected.extend(["content_block_stop", "message_delta", "message_stop"]);
    assert_eq!(names, expected);

    let start = &events[0].1["message"];
    assert!(start["id"].as_str().unwrap().starts_with("msg_"));
    assert_eq!(start["type"], "message");
    assert_eq!(start["role"], "assistant");
    assert_eq!(start["model"], MODEL);
    assert_eq!(start["content"], json!([]));
    assert_eq!(start["stop_reason"], Value::Null);
    assert_eq!(
        events[1].1,
        json!({ "type": "content_block_start", "index": 0, "content_block": { "type": "text", "text": "" } })
    );
    let text: String = events
        .iter()
        .filter(|(name, _)| name == "content_block_delta")
        .map(|(_, data)| {
            assert_eq!(data["index"], 0);
            assert_eq!(data["delta"]["type"], "text_delta");
            data["delta"]["text"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(text, REPLY);
    assert_eq!(events[names.len() - 3].1, json!({ "type": "content_block_stop", "index": 0 }));
    let delta = &events[names.len() - 2].1;
    assert_eq!(delta["delta"], json!({ "stop_reason": "end_turn", "stop_sequence": null }));
    // 2 + 2 prompt words, 2 of them from the cache; 6 reply words.
    assert_eq!(delta["usage"]["input_tokens"], 2);
    assert_eq!(delta["usage"]["cache_read_input_tokens"], 2);
    assert_eq!(delta["usage"]["output_tokens"], 6);
    assert_eq!(server.model.dropped(), 1);
}

#[tokio::test]
async fn a_stop_sequence_cuts_the_reply_and_is_reported() {
    let server = TestServer::start(|_| {}).await;
    let mut body = ask(json!("hi"));
    body["stop_sequences"] = json!(["model", "the scr"]);
    let reply = server.post_json(body.clone()).await;
    // "the scr" spans two streamed words, and comes first.
    assert_eq!(reply["content"], json!([{ "type": "text", "text": "Hello from " }]));
    assert_eq!(reply["stop_reason"], "stop_sequence");
    assert_eq!(reply["stop_sequence"], "the scr");
    // Counted with the model's tokenizer: the prompt's 1 word, and the
    // reply's 4 words through the stop sequence.
    assert_eq!(reply["usage"]["input_tokens"], 1);
    assert_eq!(reply["usage"]["output_tokens"], 4);

    let events = server.post_stream(body).await;
    let text: String = events
        .iter()
        .filter_map(|(_, data)| data["delta"]["text"].as_str())
        .collect::<Vec<_>>()
        .concat();
    assert_eq!(text, "Hello from ");
    let (name, delta) = &events[events.len() - 2];
    assert_eq!(name, "message_delta");
    assert_eq!(
        delta["delta"],
        json!({ "stop_reason": "stop_sequence", "stop_sequence": "the scr" })
    );
    assert_eq!(events.last().unwrap().0, "message_stop");

    // A stop sequence ends a decode that would not end by itself.
    let mut body = ask(json!(ENDLESS));
    body["stop_sequences"] = json!(["tick 3"]);
    let reply = server.post_json(body).await;
    assert_eq!(reply["content"][0]["text"], "tick 1 tick 2 ");
    assert_eq!(reply["stop_sequence"], "tick 3");
    assert_eq!(server.model.dropped(), 3, "every model stream was dropped");
    assert!(server.model.chats().iter().all(|c| c.sampling.stop.is_empty()));
}

#[tokio::test]
async fn unsupported_content_blocks_are_refused_by_type() {
    let server = TestServer::start(|_| {}).await;
    let image = json!({
        "type": "image",
        "source": { "type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo=" }
    });
    let response =
        server.post(ask(json!([{ "type": "text", "text": "What is this?" }, image]))).await;
    let message = assert_error(response, 400, "invalid_request_error").await;
    assert!(
        message.contains("`image`") && message.contains("messages.0.content.1.type"),
        "{message}"
    );

    let tool_result = json!([{ "type": "tool_result", "tool_use_id": "t1", "content": "42" }]);
    let response = server.post(ask(tool_result)).await;
    let message = assert_error(response, 400, "invalid_request_error").await;
    assert!(message.contains("`tool_result`"), "{message}");

    let mut body = ask(json!("hi"));
    body["system"] = json!([{ "type": "document", "source": {} }]);
    let message = assert_error(server.post(body).await, 400, "invalid_request_error").await;
    assert!(message.contains("`document`") && message.contains("system.0.type"), "{message}");
    assert!(server.model.chats().is_empty());
}

#[tokio::test]
async fn bad_requests_get_anthropic_errors_naming_the_field() {
    let server = TestServer::start(|_| {}).await;
    let mut body = ask(json!("hi"));
    body.as_object_mut().unwrap().remove("max_tokens");
    let message = assert_error(server.post(body).await, 400, "invalid_request_error").await;
    assert!(message.contains("max_tokens") && message.contains("required"), "{message}");

    let mut body = ask(json!("hi"));
    body["max_tokens"] = json!(0);
    let message = assert_error(server.post(body).await, 400, "invalid_request_error").await;
    assert!(message.contains("max_tokens"), "{message}");

    let mut body = ask(json!("hi"));
    body["temperature"] = json!(1.5);
    let message = assert_error(server.post(body).await, 400, "invalid_request_error").await;
    assert!(message.contains("temperature") && message.contains("between 0 and 1"), "{message}");

    let mut body = ask(json!("hi"));
    body["messages"] = json!([{ "role": "system", "content": "Be brief." }]);
    let message = assert_error(server.post(body).await, 400, "invalid_request_error").await;
    assert!(message.contains("top-level `system`"), "{message}");

    let mut body = ask(json!("hi"));
    body["messages"] = json!([
        { "role": "user", "content": "hi" },
        { "role": "assistant", "content": "The answer is" }
    ]);
    let message = assert_error(server.post(body).await, 400, "invalid_request_error").await;
    assert!(message.contains("prefill"), "{message}");

    let mut body = ask(json!("hi"));
    body["messages"] = json!([]);
    assert_error(server.post(body).await, 400, "invalid_request_error").await;

    let mut body = ask(json!("hi"));
    body["tools"] = json!([{ "name": "get_weather", "input_schema": { "type": "object" } }]);
    let message = assert_error(server.post(body).await, 400, "invalid_request_error").await;
    assert!(message.contains("tools"), "{message}");

    let mut body = ask(json!("hi"));
    body["stop_sequences"] = json!("END");
    let message = assert_error(server.post(body).await, 400, "invalid_request_error").await;
    assert!(message.contains("stop_sequences"), "{message}");

    let malformed = server.request(None).body("{\"model\": ").send().await.unwrap();
    assert_error(malformed, 400, "invalid_request_error").await;

    let huge = ask(json!("word ".repeat(20_000)));
    assert_error(server.post(huge).await, 413, "request_too_large").await;

    let mut body = ask(json!("hi"));
    body["model"] = json!("claude-nothing");
    let message = assert_error(server.post(body).await, 404, "not_found_error").await;
    assert!(message.contains("claude-nothing") && message.contains(MODEL), "{message}");

    let get = server.http.get(format!("{}/v1/messages", server.base)).send().await.unwrap();
    assert_error(get, 405, "invalid_request_error").await;
    let count = server
        .http
        .post(format!("{}/v1/messages/count_tokens", server.base))
        .json(&ask(json!("hi")))
        .send()
        .await
        .unwrap();
    assert_error(count, 404, "not_found_error").await;
    assert!(server.model.chats().is_empty());
}

#[tokio::test]
async fn model_failures_are_api_and_overloaded_errors_and_a_stream_error_event() {
    let server = TestServer::start(|_| {}).await;
    let message = assert_error(server.post(ask(json!(FAIL))).await, 500, "api_error").await;
    assert!(message.contains("the worker crashed"), "{message}");
    assert_error(server.post(ask(json!(UNREACHABLE))).await, 503, "overloaded_error").await;

    let events = server.post_stream(ask(json!(BREAK_MIDWAY))).await;
    let names: Vec<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        ["message_start", "content_block_start", "ping", "content_block_delta", "error"]
    );
    let error = &events.last().unwrap().1;
    assert_eq!(error["error"]["type"], "api_error");
    assert!(error["error"]["message"].as_str().unwrap().contains("decode failed"), "{error}");
}

#[tokio::test]
async fn a_bad_key_gets_a_401_in_anthropics_shape_here_and_openais_elsewhere() {
    let server = TestServer::start(|c| c.api_key = Some("sk-right".into())).await;
    let wrong = server.request(Some("sk-wrong")).json(&ask(json!("hi"))).send().await.unwrap();
    let message = assert_error(wrong, 401, "authentication_error").await;
    assert!(message.contains("Incorrect API key"), "{message}");
    let missing = server.request(None).json(&ask(json!("hi"))).send().await.unwrap();
    assert_error(missing, 401, "authentication_error").await;
    assert!(server.model.chats().is_empty());

    // The OpenAI routes keep OpenAI's shape.
    let openai = server
        .http
        .post(format!("{}/v1/chat/completions", server.base))
        .header("x-api-key", "sk-wrong")
        .json(&json!({ "model": MODEL, "messages": [{ "role": "user", "content": "hi" }] }))
        .send()
        .await
        .unwrap();
    assert_eq!(openai.status(), 401);
    let body: Value = openai.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_api_key", "{body}");
    assert!(body.get("type").is_none(), "{body}");

    let right = server.request(Some("sk-right")).json(&ask(json!("hi"))).send().await.unwrap();
    assert_eq!(right.status(), 200);
    let bearer = server.request(None).bearer_auth("sk-right").json(&ask(json!("hi")));
    assert_eq!(bearer.send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn a_client_that_disconnects_mid_stream_stops_the_decode() {
    let server = TestServer::start(|_| {}).await;
    let mut body = ask(json!(ENDLESS));
    body["stream"] = json!(true);
    let response = server.post(body).await;
    assert_eq!(response.status(), 200);
    let mut bytes = response.bytes_stream();
    let mut seen = String::new();
    while !seen.contains("tick") {
        let piece = bytes.next().await.expect("the stream goes on").unwrap();
        seen.push_str(&String::from_utf8_lossy(&piece));
    }
    assert_eq!(server.model.dropped(), 0, "the decode is still running");
    drop(bytes);
    let waited = std::time::Instant::now();
    while server.model.dropped() == 0 {
        assert!(
            waited.elapsed() < Duration::from_secs(5),
            "the model's stream was not dropped after the client left"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
