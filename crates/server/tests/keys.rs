//! Named API keys against a real server on loopback, in front of a scripted
//! model (its replies are fixed: these tests are about keys, limits and
//! usage, not about what a model says), with the keys in a real SQLite
//! store in a temporary directory.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use serde_json::{json, Value};
use suit_model::{
    ChatRequest, Completion, CompletionRequest, Embeddings, FinishReason, Model, ModelError,
    Prices, Prompt, StreamEvent, TextStream, Usage,
};
use suit_server::{serve, Served, ServedModels, ServerConfig};
use suit_store::{ApiKeys, KeyLimits};

/// The scripted reply: six words, streamed a word at a time; one word is
/// one token.
const REPLY: &str = "Hello from the scripted model .";
const REPLY_TOKENS: u64 = 6;
/// A user message that makes the scripted model stream without end.
const ENDLESS: &str = "ENDLESS";
/// A chat that answers with the request's client.
const WHO: &str = "WHO";
/// The backend name the scripted model's results carry.
const BACKEND: &str = "scripted";
const MODEL: &str = "scripted-1";
const ADMIN: &str = "sk-admin";

/// A model that answers from a script, counting words as tokens.
struct ScriptedModel;

fn words(text: &str) -> u64 {
    text.split_whitespace().count() as u64
}

fn reply(trigger: &str, prompt_tokens: u64) -> TextStream {
    if trigger == ENDLESS {
        let ticks = futures::stream::unfold((), |()| async {
            tokio::time::sleep(Duration::from_millis(10)).await;
            Some((Ok(StreamEvent::Delta("tick ".into())), ()))
        });
        return Box::pin(ticks);
    }
    let mut events: Vec<Result<StreamEvent, ModelError>> =
        REPLY.split(' ').map(|w| Ok(StreamEvent::Delta(format!("{w} ")))).collect();
    events.push(Ok(StreamEvent::Done(Completion {
        text: REPLY.into(),
        finish_reason: FinishReason::Stop,
        usage: Usage { prompt_tokens, cached_tokens: 0, completion_tokens: REPLY_TOKENS },
        model: "scripted".into(),
        backend: BACKEND.into(),
    })));
    Box::pin(futures::stream::iter(events))
}

#[async_trait]
impl Model for ScriptedModel {
    fn name(&self) -> &str {
        "scripted"
    }

    async fn chat(&self, request: ChatRequest) -> Result<TextStream, ModelError> {
        let trigger = request.messages.last().map(|m| m.content.clone()).unwrap_or_default();
        let prompt = request.messages.iter().map(|m| words(&m.content)).sum();
        if trigger == WHO {
            // Says whose request it is, as the model's scheduler sees it.
            let who = request.client.unwrap_or_else(|| "(shared)".into());
            return Ok(Box::pin(futures::stream::iter([Ok(StreamEvent::Done(Completion {
                text: who,
                finish_reason: FinishReason::Stop,
                usage: Usage { prompt_tokens: prompt, cached_tokens: 0, completion_tokens: 1 },
                model: "scripted".into(),
                backend: BACKEND.into(),
            }))])));
        }
        Ok(reply(&trigger, prompt))
    }

    async fn complete(&self, request: CompletionRequest) -> Result<TextStream, ModelError> {
        let (trigger, prompt) = match &request.prompt {
            Prompt::Text(text) => (text.clone(), words(text)),
            Prompt::Fim { prefix, suffix } => (prefix.clone(), words(prefix) + words(suffix)),
        };
        Ok(reply(&trigger, prompt))
    }

    async fn embed(&self, inputs: Vec<String>) -> Result<Embeddings, ModelError> {
        Ok(Embeddings {
            vectors: inputs.iter().map(|_| vec![0.5, -1.0]).collect(),
            usage: Usage {
                prompt_tokens: inputs.iter().map(|t| words(t)).sum(),
                ..Usage::default()
            },
            model: "scripted".into(),
        })
    }

    async fn tokenize(&self, text: &str) -> Result<Vec<u32>, ModelError> {
        Ok(text.split_whitespace().map(|_| 0).collect())
    }
}

/// A server on 127.0.0.1:0 with a key store in a temporary directory;
/// stops when dropped.
struct KeyServer {
    base: String,
    keys: Arc<ApiKeys>,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl KeyServer {
    /// Starts after `setup` has added keys to the store (before the server
    /// reads it), with the admin key and `prices`.
    async fn start(setup: impl FnOnce(&ApiKeys), prices: BTreeMap<String, Prices>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let keys = Arc::new(ApiKeys::open(&dir.path().join("keys.db")).unwrap());
        setup(&keys);
        let config = ServerConfig {
            api_key: Some(ADMIN.into()),
            keys: Some(keys.clone()),
            prices,
            ..ServerConfig::default()
        };
        let models = ServedModels::one(Served::new(Arc::new(ScriptedModel), MODEL));
        let server = common::spawn_server(models, config).await;
        let http = reqwest::Client::new();
        Self { base: server.base, keys, http, _dir: dir, _stop: server.stop }
    }

    async fn post(&self, key: Option<&str>, path: &str, body: Value) -> reqwest::Response {
        let mut request = self.http.post(format!("{}{path}", self.base)).json(&body);
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        request.send().await.unwrap()
    }

    /// A chat reply (200 expected), as JSON or, streamed, as its body text.
    async fn chat(&self, key: &str, content: &str, stream: bool) -> String {
        let body = json!({
            "model": MODEL,
            "messages": [{ "role": "user", "content": content }],
            "stream": stream,
        });
        let response = self.post(Some(key), "/v1/chat/completions", body).await;
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, 200, "{text}");
        text
    }

    /// `GET /v1/usage` with `key`: its `data`, by name.
    async fn usage(&self, key: &str) -> BTreeMap<String, Value> {
        let response =
            self.http.get(format!("{}/v1/usage", self.base)).bearer_auth(key).send().await.unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["object"], "list", "{body}");
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["name"].as_str().unwrap().to_string(), e.clone()))
            .collect()
    }
}

fn add(keys: &ApiKeys, name: &str, limits: KeyLimits) -> String {
    keys.add(name, limits).unwrap().1.expose().to_string()
}

/// Checks an error answer: status, OpenAI's shape, code; returns the body.
async fn assert_error(response: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status().as_u16(), status);
    let body: Value = response.json().await.unwrap();
    let error = &body["error"];
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert!(error["type"].as_str().is_some() && error.get("param").is_some(), "{body}");
    assert_eq!(error["code"], code, "{body}");
    body
}

fn chat_body(content: &str) -> Value {
    json!({ "model": MODEL, "messages": [{ "role": "user", "content": content }] })
}

#[tokio::test]
async fn a_stored_key_works_and_a_wrong_or_missing_one_gets_401() {
    let mut secret = String::new();
    let server =
        KeyServer::start(|k| secret = add(k, "alice", KeyLimits::default()), BTreeMap::new()).await;
    let reply: Value =
        serde_json::from_str(&server.chat(&secret, "hi there", false).await).unwrap();
    assert_eq!(reply["usage"]["completion_tokens"], REPLY_TOKENS);
    // The same secret as `x-api-key` works too.
    let response = server
        .http
        .post(format!("{}/v1/chat/completions", server.base))
        .header("x-api-key", &secret)
        .json(&chat_body("hi"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let mut wrong = secret.clone();
    let last = wrong.pop().unwrap();
    wrong.push(if last == 'A' { 'B' } else { 'A' });
    let response = server.post(Some(&wrong), "/v1/chat/completions", chat_body("hi")).await;
    assert_error(response, 401, "invalid_api_key").await;
    let response = server.post(None, "/v1/chat/completions", chat_body("hi")).await;
    let body = assert_error(response, 401, "missing_api_key").await;
    assert!(body["error"]["message"].as_str().unwrap().contains("suit keys add"), "{body}");
    // The admin key passes too.
    server.chat(ADMIN, "hi", false).await;
    let health = server.http.get(format!("{}/healthz", server.base)).send().await.unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn a_key_removed_while_the_server_runs_gets_401_and_the_server_stays_closed() {
    let mut secret = String::new();
    let server =
        KeyServer::start(|k| secret = add(k, "alice", KeyLimits::default()), BTreeMap::new()).await;
    server.chat(&secret, "hi", false).await;
    // Another process (`suit keys rm`) removes it from the same file.
    let other = ApiKeys::open(server.keys.path()).unwrap();
    other.remove("alice").unwrap();
    assert!(!other.has_keys().unwrap());
    let response = server.post(Some(&secret), "/v1/chat/completions", chat_body("hi")).await;
    assert_error(response, 401, "invalid_api_key").await;
    // No key left does not open the server up.
    let response = server.post(None, "/v1/chat/completions", chat_body("hi")).await;
    assert_error(response, 401, "missing_api_key").await;
    // A key added while it runs works at once.
    let (_, fresh) = other.add("bob", KeyLimits::default()).unwrap();
    server.chat(fresh.expose(), "hi", false).await;
}

#[tokio::test]
async fn a_key_over_its_max_tokens_gets_429_insufficient_quota() {
    let (mut small, mut other) = (String::new(), String::new());
    let limits = KeyLimits { max_tokens: Some(10), ..KeyLimits::default() };
    let server = KeyServer::start(
        |k| {
            small = add(k, "small", limits);
            other = add(k, "other", KeyLimits::default());
        },
        BTreeMap::new(),
    )
    .await;
    // 5 prompt tokens + 6 generated = 11: over the limit after this request.
    server.chat(&small, "one two three four five", false).await;
    let response = server.post(Some(&small), "/v1/chat/completions", chat_body("hi")).await;
    let body = assert_error(response, 429, "insufficient_quota").await;
    assert_eq!(body["error"]["type"], "insufficient_quota");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("max_tokens") && message.contains("11"), "{message}");
    assert!(message.contains("suit keys set small --max-tokens"), "{message}");
    let response =
        server.post(Some(&small), "/v1/embeddings", json!({ "model": MODEL, "input": "x" })).await;
    assert_error(response, 429, "insufficient_quota").await;
    // It can still read its usage; other keys are not affected.
    assert_eq!(server.usage(&small).await["small"]["total_tokens"], 11);
    server.chat(&other, "hi", false).await;
    // Raising the limit lets it in again.
    server.keys.set_limits("small", KeyLimits { max_tokens: Some(100), ..limits }).unwrap();
    server.chat(&small, "hi", false).await;
}

#[tokio::test]
async fn a_key_over_its_max_cost_gets_429_and_usage_is_priced() {
    let mut secret = String::new();
    let limits = KeyLimits { max_cost_usd: Some(0.000_01), ..KeyLimits::default() };
    // USD per million tokens: 5 prompt tokens cost 5, 6 generated 12.
    let prices =
        BTreeMap::from([(BACKEND.to_string(), Prices { input: 1.0, output: 2.0, cached: 0.5 })]);
    let server = KeyServer::start(|k| secret = add(k, "spender", limits), prices).await;
    server.chat(&secret, "one two three four five", false).await;
    let usage = server.usage(&secret).await;
    let cost = usage["spender"]["cost_usd"].as_f64().unwrap();
    assert!((cost - 17e-6).abs() < 1e-12, "{cost}");
    assert_eq!(usage["spender"]["remaining"]["cost_usd"], 0.0);
    let response = server.post(Some(&secret), "/v1/chat/completions", chat_body("hi")).await;
    let body = assert_error(response, 429, "insufficient_quota").await;
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("max_cost") && message.contains("--max-cost"), "{message}");
}

#[tokio::test]
async fn a_key_over_its_rpm_gets_429_with_retry_after() {
    let mut secret = String::new();
    let limits = KeyLimits { rpm: Some(2), ..KeyLimits::default() };
    let server = KeyServer::start(|k| secret = add(k, "burst", limits), BTreeMap::new()).await;
    server.chat(&secret, "hi", false).await;
    server.chat(&secret, "hi", false).await;
    let response = server.post(Some(&secret), "/v1/chat/completions", chat_body("hi")).await;
    let retry: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "Retry-After: {retry}");
    let body = assert_error(response, 429, "rate_limit_exceeded").await;
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("2 requests per minute") && message.contains("--rpm"), "{message}");
    // Reading the usage is not a request to the model: not limited.
    let usage = server.usage(&secret).await;
    assert_eq!(usage["burst"]["requests"], 2, "the refused request is not counted");
}

#[tokio::test]
async fn usage_shows_the_tokens_of_streamed_and_unstreamed_requests() {
    let (mut alice, mut bob) = (String::new(), String::new());
    let limits = KeyLimits { max_tokens: Some(1_000), ..KeyLimits::default() };
    let server = KeyServer::start(
        |k| {
            alice = add(k, "alice", limits);
            bob = add(k, "bob", KeyLimits::default());
        },
        BTreeMap::new(),
    )
    .await;
    // Not streamed: 3 prompt tokens, 6 generated.
    server.chat(&alice, "one two three", false).await;
    // Streamed: 2 prompt tokens, 6 generated; read to the end.
    let streamed = server.chat(&alice, "four five", true).await;
    assert!(streamed.ends_with("data: [DONE]\n\n"), "{streamed}");
    // Two choices of one prompt: the prompt counts once, 12 generated.
    let body = json!({ "model": MODEL, "prompt": "six seven eight nine", "n": 2, "stream": true });
    let response = server.post(Some(&alice), "/v1/completions", body).await;
    assert_eq!(response.status(), 200);
    response.text().await.unwrap();
    // Embeddings: 3 prompt tokens.
    let body = json!({ "model": MODEL, "input": ["a b", "c"] });
    assert_eq!(server.post(Some(&alice), "/v1/embeddings", body).await.status(), 200);

    let own = server.usage(&alice).await;
    assert_eq!(own.keys().collect::<Vec<_>>(), ["alice"], "a key sees only itself");
    let entry = &own["alice"];
    assert_eq!(entry["requests"], 4, "{entry}");
    assert_eq!(entry["prompt_tokens"], 3 + 2 + 4 + 3, "{entry}");
    assert_eq!(entry["completion_tokens"], 6 + 6 + 12, "{entry}");
    assert_eq!(entry["total_tokens"], 36, "{entry}");
    assert_eq!(entry["cost_usd"], 0.0, "an unpriced backend is free");
    assert_eq!(entry["limits"]["max_tokens"], 1_000, "{entry}");
    assert_eq!(entry["remaining"]["tokens"], 1_000 - 36, "{entry}");
    assert!(entry["last_used"].as_i64().is_some(), "{entry}");

    server.chat(&bob, "x", false).await;
    let all = server.usage(ADMIN).await;
    assert_eq!(all.keys().collect::<Vec<_>>(), ["alice", "bob"], "the admin sees every key");
    assert_eq!(all["alice"]["total_tokens"], 36);
    assert_eq!(all["bob"]["total_tokens"], 1 + 6);
    assert_eq!(all["bob"]["limits"]["max_tokens"], Value::Null);
}

#[tokio::test]
async fn a_stream_the_client_leaves_records_what_was_generated() {
    let mut secret = String::new();
    let server =
        KeyServer::start(|k| secret = add(k, "leaver", KeyLimits::default()), BTreeMap::new())
            .await;
    let body = json!({
        "model": MODEL,
        "messages": [{ "role": "system", "content": "be brief now" }, { "role": "user", "content": ENDLESS }],
        "stream": true,
    });
    let response = server.post(Some(&secret), "/v1/chat/completions", body).await;
    assert_eq!(response.status(), 200);
    let mut bytes = response.bytes_stream();
    let mut seen = String::new();
    while seen.matches("tick").count() < 3 {
        let piece = bytes.next().await.expect("the stream goes on").unwrap();
        seen.push_str(&String::from_utf8_lossy(&piece));
    }
    drop(bytes);
    let waited = std::time::Instant::now();
    let entry = loop {
        let usage = server.usage(ADMIN).await;
        if usage["leaver"]["requests"] == 1 {
            break usage["leaver"].clone();
        }
        assert!(waited.elapsed() < Duration::from_secs(5), "nothing recorded: {usage:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let generated = entry["completion_tokens"].as_u64().unwrap();
    assert!(generated >= 3, "at least the pieces the client read: {entry}");
    // The prompt as the model counts its text: "be brief now" and "ENDLESS".
    assert_eq!(entry["prompt_tokens"], 4, "{entry}");
}

#[tokio::test]
async fn stored_keys_let_the_server_listen_on_an_exposed_address() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Arc::new(ApiKeys::open(&dir.path().join("keys.db")).unwrap());
    let models = || ServedModels::one(Served::new(Arc::new(ScriptedModel), MODEL));
    let config = ServerConfig { keys: Some(keys.clone()), ..ServerConfig::default() };
    // An empty store is no key.
    let listener = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
    let error = serve(listener, models(), config.clone(), async {}).await.unwrap_err();
    assert!(error.to_string().contains("suit keys add"), "{error}");

    let secret = add(&keys, "remote", KeyLimits::default());
    let listener = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, models(), config, async {
        stopped.await.ok();
    }));
    let http = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/v1/chat/completions");
    let response = http.post(&url).json(&chat_body("hi")).send().await.unwrap();
    assert_error(response, 401, "missing_api_key").await;
    let response =
        http.post(&url).bearer_auth(&secret).json(&chat_body("hi")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    // Without an admin key, a stored key still sees only its own usage.
    let usage: Value = http
        .get(format!("http://127.0.0.1:{port}/v1/usage"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(usage["data"].as_array().unwrap().len(), 1, "{usage}");
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_keys_name_is_the_client_the_model_shares_its_time_by() {
    let mut secret = String::new();
    let server =
        KeyServer::start(|k| secret = add(k, "alice", KeyLimits::default()), BTreeMap::new()).await;
    let reply: Value = serde_json::from_str(&server.chat(&secret, WHO, false).await).unwrap();
    assert_eq!(reply["choices"][0]["message"]["content"], "alice", "{reply}");
    let reply: Value = serde_json::from_str(&server.chat(ADMIN, WHO, false).await).unwrap();
    assert_eq!(reply["choices"][0]["message"]["content"], "(shared)", "{reply}");
}
