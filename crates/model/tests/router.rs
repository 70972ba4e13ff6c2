//! The router against real HTTP backends on loopback: retries, failover,
//! circuit breaking, budgets and metering.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures::StreamExt;
use serde_json::json;
use suit_model::{
    collect, BackendConfig, BackendKind, ChatRequest, CompletionRequest, Embeddings, Message,
    Meter, Model, ModelConfig, ModelError, Router, StreamEvent, Task, TextStream,
};
use support::{anthropic_events, dead_port, openai_chat_events, AnthropicUsage, MockServer, Reply};

const CHAT: &str = "/v1/chat/completions";

fn openai_backend(server: &MockServer, price_in: f64, price_out: f64) -> BackendConfig {
    let mut backend = BackendConfig::http(BackendKind::OpenAi, server.base_url(), "m");
    backend.price_in = price_in;
    backend.price_out = price_out;
    backend
}

/// A config whose chat, edit and summarize chains are `chain`, with fast retries.
fn config(backends: Vec<(&str, BackendConfig)>, chain: &[&str]) -> ModelConfig {
    let mut config = ModelConfig::default();
    for (name, backend) in backends {
        config.backends.insert(name.to_string(), backend);
    }
    let chain: Vec<String> = chain.iter().map(|s| s.to_string()).collect();
    config.roles.chat = chain.clone();
    config.roles.edit = chain.clone();
    config.roles.summarize = chain;
    config.retry.max_retries = 2;
    config.retry.base_delay_ms = 10;
    config.retry.breaker_failures = 3;
    config.retry.breaker_cooldown_secs = 2;
    config
}

fn no_embedded(name: &str, _: &BackendConfig) -> Result<Arc<dyn Model>, ModelError> {
    Err(ModelError::Config(format!("test build has no embedded engine for {name}")))
}

fn router(config: &ModelConfig) -> Router {
    Router::from_config(config, Arc::new(Meter::new(config.budget)), no_embedded).unwrap()
}

fn hello() -> ChatRequest {
    ChatRequest::new(vec![Message::user("hello")])
}

fn ok_reply(text: &str) -> Reply {
    Reply::sse(openai_chat_events("m", &[text], "stop", (100, 10, 40)))
}

fn server_error() -> Reply {
    Reply::json(
        500,
        json!({"error": {"message": "The server had an error", "type": "server_error"}}),
    )
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out_then_retried() {
    let server = MockServer::start().await;
    server.on(
        CHAT,
        vec![
            Reply::json(429, json!({"error": {"message": "slow down", "type": "requests"}}))
                .header("retry-after", "1"),
            ok_reply("fine"),
        ],
    );
    let config = config(vec![("a", openai_backend(&server, 0.0, 0.0))], &["a"]);
    let router = router(&config);
    let started = Instant::now();
    let done = collect(router.for_role(Task::Chat).chat(hello()).await.unwrap()).await.unwrap();
    let waited = started.elapsed();
    assert_eq!(done.text, "fine");
    assert_eq!(server.count(CHAT), 2);
    assert!(waited >= Duration::from_secs(1), "Retry-After was not honoured: {waited:?}");
    assert!(waited < Duration::from_secs(3), "{waited:?}");
    let report = router.meter().snapshot();
    assert_eq!((report.backends["a"].calls, report.backends["a"].failures), (1, 1));
}

#[tokio::test]
async fn a_retry_after_beyond_the_cap_fails_over_at_once() {
    let (slow, backup) = (MockServer::start().await, MockServer::start().await);
    slow.on(CHAT, vec![Reply::json(429, json!({"error": {"message": "later"}})).header("retry-after", "3600")]);
    backup.on(CHAT, vec![ok_reply("backup")]);
    let config = config(
        vec![
            ("slow", openai_backend(&slow, 0.0, 0.0)),
            ("backup", openai_backend(&backup, 0.0, 0.0)),
        ],
        &["slow", "backup"],
    );
    let started = Instant::now();
    let done =
        collect(router(&config).for_role(Task::Chat).chat(hello()).await.unwrap()).await.unwrap();
    assert_eq!(done.text, "backup");
    assert_eq!(slow.count(CHAT), 1);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn breaker_opens_skips_the_backend_and_recovers_after_the_cooldown() {
    let (flaky, backup) = (MockServer::start().await, MockServer::start().await);
    flaky.on(CHAT, vec![server_error()]);
    backup.on(CHAT, vec![ok_reply("from backup")]);
    let config = config(
        vec![
            ("flaky", openai_backend(&flaky, 1.0, 2.0)),
            ("backup", openai_backend(&backup, 3.0, 4.0)),
        ],
        &["flaky", "backup"],
    );
    let router = router(&config);
    let chat = router.for_role(Task::Chat);

    // 1 try + 2 retries, all 500: the circuit opens, backup serves.
    let done = collect(chat.chat(hello()).await.unwrap()).await.unwrap();
    assert_eq!((done.text.as_str(), done.backend.as_str()), ("from backup", "backup"));
    assert_eq!(flaky.count(CHAT), 3);

    // The open circuit skips flaky without a request.
    let done = collect(chat.chat(hello()).await.unwrap()).await.unwrap();
    assert_eq!(done.backend, "backup");
    assert_eq!(flaky.count(CHAT), 3, "an open circuit must not touch the backend");
    assert_eq!(backup.count(CHAT), 2);

    // The meter shows both backends of the session.
    let report = router.meter().snapshot();
    assert_eq!(report.backends["flaky"].failures, 3);
    assert_eq!(report.backends["flaky"].calls, 0);
    assert_eq!(report.backends["backup"].calls, 2);
    assert_eq!(report.backends["backup"].prompt_tokens, 200);
    assert_eq!(report.backends["backup"].cached_tokens, 80);
    assert_eq!(report.total.calls, 2);
    assert_eq!(report.total.failures, 3);
    // (60 evaluated * 3 + 40 cached * 3 + 10 out * 4) per million, twice.
    let expected = 2.0 * (60.0 * 3.0 + 40.0 * 3.0 + 10.0 * 4.0) / 1e6;
    assert!((report.total.cost_usd - expected).abs() < 1e-12, "{}", report.total.cost_usd);

    // After the cooldown, one trial call goes through; flaky is healthy again.
    flaky.on(CHAT, vec![ok_reply("flaky is back")]);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let done = collect(chat.chat(hello()).await.unwrap()).await.unwrap();
    assert_eq!(done.text, "flaky is back");
    assert_eq!(flaky.count(CHAT), 4);
    // Closed again: the next call goes to flaky too.
    collect(chat.chat(hello()).await.unwrap()).await.unwrap();
    assert_eq!(flaky.count(CHAT), 5);
    assert_eq!(backup.count(CHAT), 2);
}

#[tokio::test]
async fn replicas_share_calls_by_load_and_a_failing_one_is_taken_out_until_it_answers() {
    let (a, b) = (MockServer::start().await, MockServer::start().await);
    a.on(CHAT, vec![ok_reply("from a")]);
    b.on(CHAT, vec![ok_reply("from b")]);
    let mut pool = openai_backend(&a, 1.0, 2.0);
    pool.replicas = vec![b.base_url()];
    let config = config(vec![("pool", pool)], &["pool"]);
    let router = router(&config);
    let chat = router.for_role(Task::Chat);

    // Calls made one after another alternate.
    for _ in 0..4 {
        let done = collect(chat.chat(hello()).await.unwrap()).await.unwrap();
        assert_eq!(done.backend, "pool");
    }
    assert_eq!((a.count(CHAT), b.count(CHAT)), (2, 2));

    // A stream still being read keeps its replica busy: the next calls go
    // to the other one.
    let held = chat.chat(hello()).await.unwrap();
    let busy_a = a.count(CHAT) == 3;
    for _ in 0..3 {
        collect(chat.chat(hello()).await.unwrap()).await.unwrap();
    }
    let (idle, busy) = if busy_a { (&b, &a) } else { (&a, &b) };
    assert_eq!((busy.count(CHAT), idle.count(CHAT)), (3, 5));
    drop(held);

    // A failing replica hands over at once (no retries on it), and after
    // three failures its circuit opens: no request reaches it.
    a.on(CHAT, vec![server_error()]);
    let (a0, b0) = (a.count(CHAT), b.count(CHAT));
    for _ in 0..6 {
        let done = collect(chat.chat(hello()).await.unwrap()).await.unwrap();
        assert_eq!(done.text, "from b");
    }
    assert_eq!(a.count(CHAT) - a0, 3, "three failures open the circuit");
    assert_eq!(b.count(CHAT) - b0, 6);
    assert_eq!(router.meter().snapshot().backends["pool"].failures, 3);

    // When every replica fails, the attempts name each server.
    b.on(CHAT, vec![server_error()]);
    let err = chat.chat(hello()).await.err().expect("every replica fails");
    let text = err.to_string();
    assert!(text.contains(&format!("pool ({})", a.base_url())), "{text}");
    assert!(text.contains(&format!("pool ({})", b.base_url())), "{text}");

    // After the cooldown a trial call finds `a` answering again.
    a.on(CHAT, vec![ok_reply("a is back")]);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let done = collect(chat.chat(hello()).await.unwrap()).await.unwrap();
    assert_eq!(done.text, "a is back");
}

#[tokio::test]
async fn a_failed_half_open_trial_reopens_the_circuit() {
    let (flaky, backup) = (MockServer::start().await, MockServer::start().await);
    flaky.on(CHAT, vec![server_error()]);
    backup.on(CHAT, vec![ok_reply("b")]);
    let mut config = config(
        vec![
            ("flaky", openai_backend(&flaky, 0.0, 0.0)),
            ("backup", openai_backend(&backup, 0.0, 0.0)),
        ],
        &["flaky", "backup"],
    );
    config.retry.breaker_cooldown_secs = 1;
    let chat = router(&config).for_role(Task::Chat);
    collect(chat.chat(hello()).await.unwrap()).await.unwrap();
    assert_eq!(flaky.count(CHAT), 3);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // The trial fails: exactly one request, then the circuit is open again.
    collect(chat.chat(hello()).await.unwrap()).await.unwrap();
    assert_eq!(flaky.count(CHAT), 4);
    collect(chat.chat(hello()).await.unwrap()).await.unwrap();
    assert_eq!(flaky.count(CHAT), 4);
}

#[tokio::test]
async fn exhausted_chain_lists_every_attempt() {
    let broken = MockServer::start().await;
    broken.on(CHAT, vec![server_error()]);
    let port = dead_port().await;
    let dead = BackendConfig::http(BackendKind::OpenAi, format!("http://127.0.0.1:{port}/v1"), "m");
    let mut config = config(
        vec![("broken", openai_backend(&broken, 0.0, 0.0)), ("dead", dead)],
        &["broken", "dead"],
    );
    config.retry.max_retries = 1;
    let err = router(&config).for_role(Task::Chat).chat(hello()).await.err().unwrap();
    let ModelError::AllBackendsFailed { role, attempts } = &err else { panic!("{err:?}") };
    assert_eq!(role, "chat");
    assert_eq!(attempts.len(), 2, "the same failure on retry is one line: {attempts:#?}");
    assert!(
        attempts[0]
            .starts_with("broken: backend broken answered HTTP 500: The server had an error"),
        "{attempts:#?}"
    );
    assert!(attempts[0].ends_with("(2 attempts)"), "{attempts:#?}");
    assert!(attempts[1].starts_with("dead: cannot reach backend dead"), "{attempts:#?}");
    assert!(attempts[1].ends_with("(2 attempts)"), "{attempts:#?}");
    let message = err.to_string();
    assert!(message.starts_with("all backends for role `chat` failed:"), "{message}");
    assert_eq!(message.lines().count(), 3, "{message}");
}

#[tokio::test]
async fn anthropic_overload_before_any_text_fails_over_to_openai() {
    let (claude, openai) = (MockServer::start().await, MockServer::start().await);
    let usage = AnthropicUsage { input: 1, cache_creation: 0, cache_read: 0, output: 0 };
    let start = anthropic_events("c", &[], "end_turn", usage);
    claude.on(
        "/v1/messages",
        vec![Reply::sse(vec![
            start[0].clone(),
            "event: error\ndata: {\"type\": \"error\", \"error\": {\"type\": \"overloaded_error\", \"message\": \"Overloaded\"}}\n\n".into(),
        ])],
    );
    openai.on(CHAT, vec![ok_reply("served by openai")]);
    let mut config = config(
        vec![
            ("claude", BackendConfig::http(BackendKind::Anthropic, claude.base_url(), "c")),
            ("openai", openai_backend(&openai, 0.0, 0.0)),
        ],
        &["claude", "openai"],
    );
    config.retry.max_retries = 0;
    let router = router(&config);
    let mut stream = router.for_role(Task::Chat).chat(hello()).await.unwrap();
    let mut text = String::new();
    while let Some(item) = stream.next().await {
        match item.unwrap() {
            StreamEvent::Delta(d) => text.push_str(&d),
            StreamEvent::Done(done) => assert_eq!(done.backend, "openai"),
        }
    }
    assert_eq!(text, "served by openai");
    assert_eq!(claude.count("/v1/messages"), 1);
    let report = router.meter().snapshot();
    assert_eq!(report.backends["claude"].failures, 1);
    assert_eq!(report.backends["openai"].calls, 1);
}

#[tokio::test]
async fn an_error_after_streamed_text_is_returned_without_failover() {
    let (cut, backup) = (MockServer::start().await, MockServer::start().await);
    let mut events = openai_chat_events("m", &["partial ", "answer"], "stop", (1, 1, 0));
    events.truncate(3); // role chunk + two pieces, then the body ends
    cut.on(CHAT, vec![Reply::sse(events)]);
    backup.on(CHAT, vec![ok_reply("never")]);
    let config = config(
        vec![
            ("cut", openai_backend(&cut, 0.0, 0.0)),
            ("backup", openai_backend(&backup, 0.0, 0.0)),
        ],
        &["cut", "backup"],
    );
    let router = router(&config);
    let mut stream = router.for_role(Task::Chat).chat(hello()).await.unwrap();
    let mut deltas = Vec::new();
    let mut error = None;
    while let Some(item) = stream.next().await {
        match item {
            Ok(StreamEvent::Delta(d)) => deltas.push(d),
            Ok(StreamEvent::Done(_)) => panic!("the stream was cut; no Done expected"),
            Err(e) => error = Some(e),
        }
    }
    assert_eq!(deltas, ["partial ", "answer"]);
    assert!(matches!(error, Some(ModelError::Protocol { .. })), "{error:?}");
    assert_eq!(backup.count(CHAT), 0, "no failover after text was streamed");
    assert_eq!(cut.count(CHAT), 1, "no retry after text was streamed");
    let report = router.meter().snapshot();
    assert_eq!((report.backends["cut"].calls, report.backends["cut"].failures), (1, 1));
}

#[tokio::test]
async fn budget_refuses_calls_before_they_are_made() {
    let server = MockServer::start().await;
    server.on(CHAT, vec![ok_reply("one")]);
    let mut config = config(vec![("a", openai_backend(&server, 0.0, 0.0))], &["a"]);
    config.budget.max_tokens = Some(150);
    let router = router(&config);
    let chat = router.for_role(Task::Chat);
    collect(chat.chat(hello()).await.unwrap()).await.unwrap(); // 110 tokens
    collect(chat.chat(hello()).await.unwrap()).await.unwrap(); // 220 tokens
    let err = chat.chat(hello()).await.err().unwrap();
    assert!(matches!(err, ModelError::Budget(_)), "{err}");
    let message = err.to_string();
    assert!(message.contains("max_tokens = 150") && message.contains("220 tokens"), "{message}");
    assert!(message.contains("[budget]"), "{message}");
    assert_eq!(server.count(CHAT), 2, "a refused call never reaches the backend");

    config.budget = suit_model::BudgetConfig { max_calls: Some(1), ..Default::default() };
    let router = self::router(&config);
    // The budget is per session: every role draws on the same meter.
    collect(router.for_role(Task::Edit).chat(hello()).await.unwrap_or_else(|e| panic!("{e}")))
        .await
        .unwrap();
    let err = router.for_role(Task::Summarize).chat(hello()).await.err().unwrap();
    assert!(err.to_string().contains("max_calls = 1 reached: this session made 1 calls"), "{err}");
    assert_eq!(server.count(CHAT), 3);
}

/// A model that answers from a script, for the router's control flow (the
/// HTTP tests above cover real backends).
struct ScriptedModel {
    name: String,
    error: Option<fn() -> ModelError>,
    calls: AtomicUsize,
}

impl ScriptedModel {
    fn new(name: &str, error: Option<fn() -> ModelError>) -> Arc<Self> {
        Arc::new(Self { name: name.into(), error, calls: AtomicUsize::new(0) })
    }
}

#[async_trait]
impl Model for ScriptedModel {
    fn name(&self) -> &str {
        &self.name
    }
    async fn chat(&self, _request: ChatRequest) -> Result<TextStream, ModelError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if let Some(error) = self.error {
            return Err(error());
        }
        let done = suit_model::Completion {
            text: format!("scripted reply of {}", self.name),
            finish_reason: suit_model::FinishReason::Stop,
            usage: suit_model::Usage { prompt_tokens: 3, cached_tokens: 0, completion_tokens: 4 },
            model: "script".into(),
            backend: self.name.clone(),
        };
        Ok(Box::pin(futures::stream::iter(vec![
            Ok(StreamEvent::Delta(done.text.clone())),
            Ok(StreamEvent::Done(done)),
        ])))
    }
    async fn complete(&self, _request: CompletionRequest) -> Result<TextStream, ModelError> {
        Err(ModelError::Unsupported { backend: self.name.clone(), operation: "complete".into() })
    }
    async fn embed(&self, inputs: Vec<String>) -> Result<Embeddings, ModelError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(Embeddings {
            vectors: inputs.iter().map(|i| vec![i.len() as f32]).collect(),
            usage: suit_model::Usage {
                prompt_tokens: inputs.len() as u64 * 5,
                ..Default::default()
            },
            model: "script".into(),
        })
    }
    async fn tokenize(&self, _text: &str) -> Result<Vec<u32>, ModelError> {
        Err(ModelError::Unsupported { backend: self.name.clone(), operation: "tokenize".into() })
    }
    fn context_size(&self) -> Option<usize> {
        Some(4096)
    }
}

fn overflow() -> ModelError {
    ModelError::ContextOverflow { model: "m".into(), tokens: 9000, limit: 4096, reserved: 512 }
}

#[tokio::test]
async fn errors_in_the_request_itself_do_not_fail_over() {
    let (first, second) =
        (ScriptedModel::new("first", Some(overflow)), ScriptedModel::new("second", None));
    let mut config = ModelConfig {
        roles: suit_model::RolesConfig {
            chat: vec!["first".into(), "second".into()],
            edit: vec!["second".into()],
            fim: vec!["first".into(), "second".into()],
            embed: vec!["second".into()],
            summarize: vec!["second".into()],
        },
        ..ModelConfig::default()
    };
    let router = Router::new(
        &config,
        vec![first.clone(), second.clone()],
        Arc::new(Meter::new(Default::default())),
    )
    .unwrap();
    let err = router.for_role(Task::Chat).chat(hello()).await.err().unwrap();
    assert!(matches!(err, ModelError::ContextOverflow { .. }), "{err}");
    assert_eq!(second.calls.load(Ordering::SeqCst), 0);

    // Unsupported everywhere stays Unsupported, naming the role's chain.
    let err =
        router.for_role(Task::Fim).complete(CompletionRequest::fim("a", "b")).await.err().unwrap();
    assert!(matches!(err, ModelError::Unsupported { .. }), "{err}");
    assert!(err.to_string().contains("first, second"), "{err}");

    // Embeddings are metered; context size comes from the chain.
    let out = router.for_role(Task::Embed).embed(vec!["ab".into(), "abc".into()]).await.unwrap();
    assert_eq!(out.vectors, vec![vec![2.0], vec![3.0]]);
    assert_eq!(router.meter().snapshot().backends["second"].prompt_tokens, 10);
    assert_eq!(router.for_role(Task::Embed).context_size(), Some(4096));
    assert_eq!(router.for_role(Task::Embed).name(), "embed");

    // A role naming a backend that was not given is a config error.
    config.roles.edit = vec!["ghost".into()];
    let err = Router::new(&config, vec![first, second], Arc::new(Meter::new(Default::default())))
        .err()
        .unwrap();
    assert!(err.to_string().contains("ghost"), "{err}");
}

#[tokio::test]
async fn embedded_backends_are_built_on_first_use_only() {
    let server = MockServer::start().await;
    server.on(CHAT, vec![server_error()]);
    let mut config =
        config(vec![("remote", openai_backend(&server, 0.0, 0.0))], &["remote", "local"]);
    config.retry.max_retries = 0;
    let built = Arc::new(AtomicUsize::new(0));
    let counter = built.clone();
    let router =
        Router::from_config(&config, Arc::new(Meter::new(config.budget)), move |name, backend| {
            assert_eq!(backend.kind, BackendKind::Embedded);
            counter.fetch_add(1, Ordering::SeqCst);
            Ok(ScriptedModel::new(name, None) as Arc<dyn Model>)
        })
        .unwrap();
    assert_eq!(built.load(Ordering::SeqCst), 0, "nothing is loaded before it is needed");
    let chat = router.for_role(Task::Chat);
    let done = collect(chat.chat(hello()).await.unwrap()).await.unwrap();
    assert_eq!(done.text, "scripted reply of local");
    collect(chat.chat(hello()).await.unwrap()).await.unwrap();
    assert_eq!(built.load(Ordering::SeqCst), 1, "built once, then reused");
    let report = router.meter().snapshot();
    assert_eq!(report.backends["local"].calls, 2);
    assert_eq!(report.backends["remote"].failures, 2);

    // A backend that cannot be built is reported and failed over.
    let failing =
        Router::from_config(&config, Arc::new(Meter::new(config.budget)), no_embedded).unwrap();
    let err = failing.for_role(Task::Chat).chat(hello()).await.err().unwrap();
    let message = err.to_string();
    assert!(message.contains("local: could not start: invalid configuration: test build has no embedded engine for local"), "{message}");

    // An invalid config is refused up front.
    config.roles.chat = vec!["nope".into()];
    assert!(matches!(
        Router::from_config(&config, Arc::new(Meter::new(config.budget)), no_embedded),
        Err(ModelError::Config(_))
    ));
}

#[tokio::test]
async fn sessions_share_backends_and_breakers_but_not_meters() {
    let flaky = MockServer::start().await;
    flaky.on(CHAT, vec![server_error()]);
    let mut config = config(vec![("flaky", openai_backend(&flaky, 0.0, 0.0))], &["flaky", "local"]);
    config.retry.max_retries = 0;
    config.retry.breaker_failures = 1;
    config.retry.breaker_cooldown_secs = 60;
    let built = Arc::new(AtomicUsize::new(0));
    let counter = built.clone();
    let first_meter =
        Arc::new(Meter::new(suit_model::BudgetConfig { max_calls: Some(1), ..Default::default() }));
    let first = Router::from_config(&config, first_meter.clone(), move |name, _| {
        counter.fetch_add(1, Ordering::SeqCst);
        Ok(ScriptedModel::new(name, None) as Arc<dyn Model>)
    })
    .unwrap();
    let second_meter = Arc::new(Meter::new(Default::default()));
    let second = first.with_meter(second_meter.clone());

    collect(first.for_role(Task::Chat).chat(hello()).await.unwrap()).await.unwrap();
    // The first session's budget is spent; the second one's is not.
    assert!(matches!(
        first.for_role(Task::Chat).chat(hello()).await.err(),
        Some(ModelError::Budget(_))
    ));
    let done = collect(second.for_role(Task::Chat).chat(hello()).await.unwrap()).await.unwrap();
    assert_eq!(done.backend, "local");
    // The circuit opened by the first session also protects the second.
    assert_eq!(flaky.count(CHAT), 1);
    assert_eq!(built.load(Ordering::SeqCst), 1, "the embedded backend is loaded once for both");
    assert_eq!(first_meter.snapshot().total.calls, 1);
    assert_eq!(second_meter.snapshot().total.calls, 1);
    assert_eq!(second_meter.snapshot().total.failures, 0);
}

#[tokio::test]
async fn concurrent_calls_are_all_metered_and_dropped_streams_count_as_calls() {
    let server = MockServer::start().await;
    server.on(CHAT, vec![ok_reply("x")]);
    let config = config(vec![("a", openai_backend(&server, 1.0, 1.0))], &["a"]);
    let router = router(&config);
    let calls = (0..8).map(|_| {
        let chat = router.for_role(Task::Chat);
        async move { collect(chat.chat(hello()).await.unwrap()).await.unwrap() }
    });
    let results = futures::future::join_all(calls).await;
    assert!(results.iter().all(|done| done.text == "x"));
    let report = router.meter().snapshot();
    assert_eq!(report.total.calls, 8);
    assert_eq!(report.total.prompt_tokens, 800);
    assert_eq!(report.total.completion_tokens, 80);

    // A reader that stops after the first delta: the call still counts.
    let mut stream = router.for_role(Task::Chat).chat(hello()).await.unwrap();
    assert!(matches!(stream.next().await, Some(Ok(StreamEvent::Delta(_)))));
    drop(stream);
    let report = router.meter().snapshot();
    assert_eq!(report.total.calls, 9);
    assert_eq!(report.total.prompt_tokens, 800, "the dropped call's tokens are unknown");
}

#[tokio::test]
async fn a_single_attempt_returns_its_own_error() {
    let server = MockServer::start().await;
    server.on(
        CHAT,
        vec![Reply::json(
            400,
            json!({"error": {"message": "Invalid 'messages'", "type": "invalid_request_error"}}),
        )],
    );
    let config = config(vec![("a", openai_backend(&server, 0.0, 0.0))], &["a"]);
    let router = router(&config);
    let err = router.for_role(Task::Chat).chat(hello()).await.err().unwrap();
    assert!(matches!(err, ModelError::Http { status: 400, .. }), "{err:?}");
    assert!(err.to_string().contains("Invalid 'messages'"), "{err}");
    assert_eq!(server.count(CHAT), 1, "a 400 is not retried");
    assert_eq!(router.meter().snapshot().backends["a"].failures, 1);

    // The built-in embedded backend that cannot be built keeps its error type.
    let config = ModelConfig::default();
    let router = Router::from_config(&config, Arc::new(Meter::new(config.budget)), |_, backend| {
        Err(ModelError::ModelNotFound {
            path: backend.model.clone().into(),
            hint: backend.model.clone(),
        })
    })
    .unwrap();
    let err = router.for_role(Task::Chat).chat(hello()).await.err().unwrap();
    assert!(matches!(err, ModelError::ModelNotFound { .. }), "{err:?}");
    assert!(
        err.to_string().contains("suit models pull qwen2.5-coder-1.5b-instruct-q4_k_m"),
        "{err}"
    );
}
