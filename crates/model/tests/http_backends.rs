//! The OpenAI-compatible and Anthropic backends against a real HTTP server on
//! loopback that speaks each provider's wire format.

mod support;

use std::time::Duration;

use futures::StreamExt;
use serde_json::json;
use suit_model::{
    collect, AnthropicBackend, BackendConfig, BackendKind, ChatRequest, CompletionRequest,
    Constraint, FinishReason, Message, Model, ModelError, OpenAiBackend, StreamEvent, Usage,
};
use support::{
    anthropic_events, dead_port, openai_chat_events, openai_completion_events, AnthropicUsage,
    MockServer, Reply,
};

fn openai(server: &MockServer) -> OpenAiBackend {
    let config = BackendConfig::http(BackendKind::OpenAi, server.base_url(), "gpt-4o-mini");
    OpenAiBackend::new("openai", &config).unwrap()
}

fn anthropic_config(server: &MockServer, key_var: &str) -> BackendConfig {
    let mut config =
        BackendConfig::http(BackendKind::Anthropic, server.base_url(), "claude-sonnet-4-5");
    config.api_key_env = Some(key_var.to_string());
    config
}

/// Drains a stream, returning the deltas and the final result or error.
async fn drain(
    mut stream: suit_model::TextStream,
) -> (Vec<String>, Result<suit_model::Completion, ModelError>) {
    let mut deltas = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(StreamEvent::Delta(d)) => deltas.push(d),
            Ok(StreamEvent::Done(done)) => {
                assert!(stream.next().await.is_none(), "nothing may follow Done");
                return (deltas, Ok(done));
            }
            Err(e) => return (deltas, Err(e)),
        }
    }
    panic!("stream ended without Done or an error")
}

#[tokio::test]
async fn openai_chat_streams_deltas_and_parses_usage_with_cached_tokens() {
    let server = MockServer::start().await;
    server.on(
        "/v1/chat/completions",
        vec![Reply::sse(openai_chat_events(
            "gpt-4o-mini-2024-07-18",
            &["Hel", "lo", " wörld"],
            "stop",
            (1200, 3, 1024),
        ))],
    );
    let mut config = BackendConfig::http(BackendKind::OpenAi, server.base_url(), "gpt-4o-mini");
    config.api_key_env = Some("SUIT_TEST_OPENAI_KEY_CHAT".into());
    std::env::set_var("SUIT_TEST_OPENAI_KEY_CHAT", "sk-test-123");
    let backend = OpenAiBackend::new("openai", &config).unwrap();

    let mut request =
        ChatRequest::new(vec![Message::system("Be brief."), Message::user("Say hello")]);
    request.sampling.temperature = 0.5;
    request.sampling.top_p = 0.9;
    request.sampling.seed = 42;
    request.sampling.max_tokens = 64;
    request.sampling.stop = vec!["\n\n".into()];
    let (deltas, done) = drain(backend.chat(request).await.unwrap()).await;
    let done = done.unwrap();
    assert_eq!(deltas, ["Hel", "lo", " wörld"]);
    assert_eq!(done.text, "Hello wörld");
    assert_eq!(done.finish_reason, FinishReason::Stop);
    assert_eq!(
        done.usage,
        Usage { prompt_tokens: 1200, cached_tokens: 1024, completion_tokens: 3 }
    );
    assert_eq!(done.model, "gpt-4o-mini-2024-07-18");
    assert_eq!(done.backend, "openai");

    let sent = server.last("/v1/chat/completions");
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.headers["authorization"], "Bearer sk-test-123");
    assert!(sent.headers["content-type"].starts_with("application/json"));
    let body = &sent.body;
    assert_eq!(body["model"], "gpt-4o-mini");
    assert_eq!(
        body["messages"],
        json!([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello"}])
    );
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"], json!({"include_usage": true}));
    assert_eq!(body["temperature"], 0.5);
    assert!((body["top_p"].as_f64().unwrap() - 0.9).abs() < 1e-6);
    assert_eq!(body["seed"], 42);
    assert_eq!(body["max_tokens"], 64);
    assert_eq!(body["stop"], json!(["\n\n"]));
    assert!(body.get("response_format").is_none() && body.get("grammar").is_none());
}

#[tokio::test]
async fn openai_constraints_become_response_format_and_grammar() {
    let server = MockServer::start().await;
    server.on(
        "/v1/chat/completions",
        vec![Reply::sse(openai_chat_events("m", &["{}"], "stop", (5, 1, 0)))],
    );
    let backend = openai(&server);
    let schema = json!({"title": "Plan", "type": "object", "properties": {"steps": {"type": "array", "items": {"type": "string"}}}, "required": ["steps"], "additionalProperties": false});
    let mut request = ChatRequest::new(vec![Message::user("plan")]);
    request.constraint = Some(Constraint::JsonSchema(schema.clone()));
    collect(backend.chat(request.clone()).await.unwrap()).await.unwrap();
    let body = server.last("/v1/chat/completions").body;
    assert_eq!(
        body["response_format"],
        json!({"type": "json_schema", "json_schema": {"name": "Plan", "schema": schema, "strict": true}})
    );
    // No Authorization header when no key is configured.
    assert!(!server.last("/v1/chat/completions").headers.contains_key("authorization"));

    request.constraint = Some(Constraint::Grammar("root ::= \"yes\" | \"no\"".into()));
    collect(backend.chat(request).await.unwrap()).await.unwrap();
    let body = server.last("/v1/chat/completions").body;
    assert_eq!(body["grammar"], "root ::= \"yes\" | \"no\"");
    assert!(body.get("response_format").is_none());
}

#[tokio::test]
async fn openai_completion_and_fill_in_the_middle_use_the_completions_endpoint() {
    let server = MockServer::start().await;
    server.on(
        "/v1/completions",
        vec![Reply::sse(openai_completion_events("qwen-coder", &["a + ", "b"], "length", (17, 2)))],
    );
    let backend = openai(&server);

    let mut fim = CompletionRequest::fim("fn add(a: i32, b: i32) -> i32 {\n    ", "\n}\n");
    fim.sampling.max_tokens = 2;
    let (deltas, done) = drain(backend.complete(fim).await.unwrap()).await;
    let done = done.unwrap();
    assert_eq!(deltas, ["a + ", "b"]);
    assert_eq!(done.text, "a + b");
    assert_eq!(done.finish_reason, FinishReason::Length);
    assert_eq!(done.usage, Usage { prompt_tokens: 17, cached_tokens: 0, completion_tokens: 2 });
    let body = server.last("/v1/completions").body;
    assert_eq!(body["prompt"], "fn add(a: i32, b: i32) -> i32 {\n    ");
    assert_eq!(body["suffix"], "\n}\n");
    assert_eq!(body["max_tokens"], 2);
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"]["include_usage"], true);

    collect(backend.complete(CompletionRequest::text("Once upon")).await.unwrap()).await.unwrap();
    let body = server.last("/v1/completions").body;
    assert_eq!(body["prompt"], "Once upon");
    assert!(body.get("suffix").is_none());
}

#[tokio::test]
async fn openai_embeddings_come_back_in_input_order() {
    let server = MockServer::start().await;
    server.on(
        "/v1/embeddings",
        vec![Reply::json(
            200,
            json!({
                "object": "list",
                "data": [
                    {"object": "embedding", "index": 1, "embedding": [0.0, 1.0, 0.5]},
                    {"object": "embedding", "index": 0, "embedding": [1.0, 0.0, -0.5]},
                ],
                "model": "text-embedding-3-small",
                "usage": {"prompt_tokens": 8, "total_tokens": 8},
            }),
        )],
    );
    let backend = openai(&server);
    let out = backend.embed(vec!["first".into(), "second".into()]).await.unwrap();
    assert_eq!(out.vectors, vec![vec![1.0, 0.0, -0.5], vec![0.0, 1.0, 0.5]]);
    assert_eq!(out.usage.prompt_tokens, 8);
    assert_eq!(out.model, "text-embedding-3-small");
    let body = server.last("/v1/embeddings").body;
    assert_eq!(body["input"], json!(["first", "second"]));
    assert_eq!(body["model"], "gpt-4o-mini");

    // A count that does not match the inputs is a protocol error.
    let err = backend.embed(vec!["a".into(), "b".into(), "c".into()]).await.unwrap_err();
    assert!(matches!(err, ModelError::Protocol { .. }), "{err}");
    assert!(
        err.to_string().contains("2 embeddings") && err.to_string().contains("3 inputs"),
        "{err}"
    );
    // No call for no input.
    let before = server.count("/v1/embeddings");
    assert!(backend.embed(Vec::new()).await.unwrap().vectors.is_empty());
    assert_eq!(server.count("/v1/embeddings"), before);
}

#[tokio::test]
async fn openai_tokenize_uses_the_servers_tokenize_endpoint_or_says_unsupported() {
    let server = MockServer::start().await;
    server.on("/tokenize", vec![Reply::json(200, json!({"tokens": [9707, 11, 1879]}))]);
    let backend = openai(&server);
    assert_eq!(backend.tokenize("Hello, world").await.unwrap(), [9707, 11, 1879]);
    assert_eq!(backend.count_tokens("Hello, world").await.unwrap(), 3);
    let body = server.last("/tokenize").body;
    assert_eq!(body["content"], "Hello, world");
    assert_eq!(body["prompt"], "Hello, world");

    // A server without /tokenize (the mock answers 404 for unknown paths).
    let bare = MockServer::start().await;
    let backend = openai(&bare);
    let err = backend.tokenize("x").await.unwrap_err();
    assert!(matches!(err, ModelError::Unsupported { .. }), "{err}");
    assert!(err.to_string().contains("tokenize"), "{err}");
    assert!(matches!(backend.count_tokens("x").await.unwrap_err(), ModelError::Unsupported { .. }));
    // The server was asked once; the answer is remembered.
    assert_eq!(bare.count("/tokenize"), 1);
}

#[tokio::test]
async fn openai_http_errors_carry_status_message_and_retry_after() {
    let server = MockServer::start().await;
    server.on(
        "/v1/chat/completions",
        vec![Reply::json(
            429,
            json!({"error": {"message": "Rate limit reached for gpt-4o-mini", "type": "requests", "param": null, "code": "rate_limit_exceeded"}}),
        )
        .header("retry-after", "7")],
    );
    let backend = openai(&server);
    let err = backend.chat(ChatRequest::new(vec![Message::user("hi")])).await.err().unwrap();
    match &err {
        ModelError::Http { backend, status, body, retry_after } => {
            assert_eq!((backend.as_str(), *status), ("openai", 429));
            assert_eq!(body, "Rate limit reached for gpt-4o-mini (requests)");
            assert_eq!(*retry_after, Some(Duration::from_secs(7)));
        }
        other => panic!("expected Http, got {other:?}"),
    }
    assert!(err.is_transient());

    // A wrong base_url: 404 with a hint.
    let config = BackendConfig::http(BackendKind::OpenAi, format!("{}/wrong", server.root), "m");
    let backend = OpenAiBackend::new("openai", &config).unwrap();
    let err = backend.chat(ChatRequest::new(vec![Message::user("hi")])).await.err().unwrap();
    assert!(matches!(err, ModelError::Http { status: 404, .. }), "{err}");
    assert!(err.to_string().contains("check base_url"), "{err}");
}

#[tokio::test]
async fn unreachable_server_is_reported_with_its_url() {
    let port = dead_port().await;
    let config =
        BackendConfig::http(BackendKind::OpenAi, format!("http://127.0.0.1:{port}/v1"), "m");
    let backend = OpenAiBackend::new("vllm", &config).unwrap();
    let err = backend.chat(ChatRequest::new(vec![Message::user("hi")])).await.err().unwrap();
    assert!(matches!(err, ModelError::Unreachable { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("cannot reach backend vllm"), "{message}");
    assert!(message.contains(&format!("http://127.0.0.1:{port}/v1/chat/completions")), "{message}");
    assert!(message.contains("check that the server is running"), "{message}");
    assert!(err.is_transient());
}

#[tokio::test]
async fn malformed_event_streams_are_protocol_errors() {
    let server = MockServer::start().await;
    let backend = openai(&server);
    let request = ChatRequest::new(vec![Message::user("hi")]);

    // A chunk that is not JSON, after some text.
    let mut events = openai_chat_events("m", &["ok"], "stop", (1, 1, 0));
    events.insert(2, "data: {\"choices\": [{\"delta\": \n\n".into());
    server.on("/v1/chat/completions", vec![Reply::sse(events)]);
    let (deltas, result) = drain(backend.chat(request.clone()).await.unwrap()).await;
    assert_eq!(deltas, ["ok"]);
    let err = result.unwrap_err();
    assert!(matches!(err, ModelError::Protocol { .. }), "{err}");
    assert!(err.to_string().contains("not valid JSON"), "{err}");

    // A body cut off before [DONE].
    let mut events = openai_chat_events("m", &["par", "tial"], "stop", (1, 1, 0));
    events.truncate(3);
    server.on("/v1/chat/completions", vec![Reply::sse(events)]);
    let (deltas, result) = drain(backend.chat(request.clone()).await.unwrap()).await;
    assert_eq!(deltas, ["par", "tial"]);
    let err = result.unwrap_err();
    assert!(err.to_string().contains("ended before `data: [DONE]`"), "{err}");

    // JSON where an event stream was asked for.
    server.on("/v1/chat/completions", vec![Reply::json(200, json!({"choices": []}))]);
    let err = backend.chat(request.clone()).await.err().unwrap();
    assert!(matches!(err, ModelError::Protocol { .. }), "{err}");
    assert!(err.to_string().contains("instead of text/event-stream"), "{err}");

    // Garbage that is not an event stream at all.
    server.on(
        "/v1/chat/completions",
        vec![Reply::raw(200, "text/event-stream", "<html>oops</html>")],
    );
    let (_, result) = drain(backend.chat(request).await.unwrap()).await;
    assert!(matches!(result.unwrap_err(), ModelError::Protocol { .. }));
}

#[tokio::test]
async fn a_silent_server_times_out() {
    let server = MockServer::start().await;
    server.on(
        "/v1/chat/completions",
        vec![Reply::sse(openai_chat_events("m", &["late"], "stop", (1, 1, 0)))
            .delayed(Duration::from_secs(3))],
    );
    let mut config = BackendConfig::http(BackendKind::OpenAi, server.base_url(), "m");
    config.timeout_secs = 1;
    let backend = OpenAiBackend::new("slow", &config).unwrap();
    let started = std::time::Instant::now();
    let err = backend.chat(ChatRequest::new(vec![Message::user("hi")])).await.err().unwrap();
    assert!(matches!(err, ModelError::Timeout { .. }), "{err:?}");
    assert!(err.to_string().contains("slow timed out after 1s"), "{err}");
    assert!(started.elapsed() < Duration::from_millis(2900), "{:?}", started.elapsed());
}

#[tokio::test]
async fn missing_api_key_variable_is_named() {
    let server = MockServer::start().await;
    let mut config = BackendConfig::http(BackendKind::OpenAi, server.base_url(), "m");
    config.api_key_env = Some("SUIT_TEST_SURELY_UNSET_KEY".into());
    let err = OpenAiBackend::new("openai", &config).unwrap_err();
    assert!(matches!(err, ModelError::MissingApiKey { .. }), "{err}");
    assert!(err.to_string().contains("SUIT_TEST_SURELY_UNSET_KEY"), "{err}");
}

#[tokio::test]
async fn anthropic_chat_streams_messages_events() {
    let server = MockServer::start().await;
    let usage = AnthropicUsage { input: 21, cache_creation: 0, cache_read: 2048, output: 12 };
    server.on(
        "/v1/messages",
        vec![Reply::sse(anthropic_events(
            "claude-sonnet-4-5-20250929",
            &["Hi", " there", "!"],
            "end_turn",
            usage,
        ))],
    );
    std::env::set_var("SUIT_TEST_ANTHROPIC_KEY_CHAT", "sk-ant-test");
    let backend =
        AnthropicBackend::new("claude", &anthropic_config(&server, "SUIT_TEST_ANTHROPIC_KEY_CHAT"))
            .unwrap();

    let mut request = ChatRequest::new(vec![
        Message::system("You are terse."),
        Message::user("Greet me"),
        Message::assistant("Hello."),
        Message::system("Use an exclamation mark."),
        Message::user("Again"),
    ]);
    request.sampling.max_tokens = 100;
    request.sampling.temperature = 0.2;
    request.sampling.stop = vec!["END".into()];
    let (deltas, done) = drain(backend.chat(request).await.unwrap()).await;
    let done = done.unwrap();
    assert_eq!(deltas, ["Hi", " there", "!"]);
    assert_eq!(done.text, "Hi there!");
    assert_eq!(done.finish_reason, FinishReason::Stop);
    assert_eq!(
        done.usage,
        Usage { prompt_tokens: 2069, cached_tokens: 2048, completion_tokens: 12 }
    );
    assert_eq!(done.model, "claude-sonnet-4-5-20250929");
    assert_eq!(done.backend, "claude");

    let sent = server.last("/v1/messages");
    assert_eq!(sent.headers["x-api-key"], "sk-ant-test");
    assert_eq!(sent.headers["anthropic-version"], "2023-06-01");
    assert!(!sent.headers.contains_key("authorization"));
    let body = &sent.body;
    assert_eq!(body["model"], "claude-sonnet-4-5");
    assert_eq!(body["system"], "You are terse.\n\nUse an exclamation mark.");
    assert_eq!(
        body["messages"],
        json!([
            {"role": "user", "content": "Greet me"},
            {"role": "assistant", "content": "Hello."},
            {"role": "user", "content": "Again"},
        ])
    );
    assert_eq!(body["max_tokens"], 100);
    assert_eq!(body["stream"], true);
    assert_eq!(body["stop_sequences"], json!(["END"]));
    assert!((body["temperature"].as_f64().unwrap() - 0.2).abs() < 1e-6);
    assert!(body.get("top_p").is_none(), "top_p = 1 is not sent");
    assert!(body.get("seed").is_none());
    assert!(body.get("output_config").is_none());
}

#[tokio::test]
async fn anthropic_json_schema_uses_output_config_and_max_tokens_maps_to_length() {
    let server = MockServer::start().await;
    let usage = AnthropicUsage { input: 10, cache_creation: 5, cache_read: 0, output: 4 };
    server.on(
        "/v1/messages",
        vec![Reply::sse(anthropic_events("claude-x", &["{\"a\":"], "max_tokens", usage))],
    );
    let backend = AnthropicBackend::new(
        "claude",
        &BackendConfig::http(BackendKind::Anthropic, server.base_url(), "claude-x"),
    )
    .unwrap();
    let schema = json!({"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"], "additionalProperties": false});
    let mut request = ChatRequest::new(vec![Message::user("give json")]);
    request.constraint = Some(Constraint::JsonSchema(schema.clone()));
    request.sampling.top_p = 0.8;
    let done = collect(backend.chat(request).await.unwrap()).await.unwrap();
    assert_eq!(done.finish_reason, FinishReason::Length);
    assert_eq!(done.usage, Usage { prompt_tokens: 15, cached_tokens: 0, completion_tokens: 4 });
    let body = server.last("/v1/messages").body;
    assert_eq!(body["output_config"], json!({"format": {"type": "json_schema", "schema": schema}}));
    assert!((body["top_p"].as_f64().unwrap() - 0.8).abs() < 1e-6);
    assert!(body.get("system").is_none());
}

#[tokio::test]
async fn anthropic_errors_in_status_and_in_stream() {
    let server = MockServer::start().await;
    let backend = AnthropicBackend::new(
        "claude",
        &BackendConfig::http(BackendKind::Anthropic, server.base_url(), "c"),
    )
    .unwrap();
    let request = ChatRequest::new(vec![Message::user("hi")]);

    server.on(
        "/v1/messages",
        vec![Reply::json(429, json!({"type": "error", "error": {"type": "rate_limit_error", "message": "Number of request tokens has exceeded your per-minute rate limit"}}))
            .header("retry-after", "12")],
    );
    let err = backend.chat(request.clone()).await.err().unwrap();
    match err {
        ModelError::Http { status: 429, body, retry_after, .. } => {
            assert!(body.contains("per-minute rate limit (rate_limit_error)"), "{body}");
            assert_eq!(retry_after, Some(Duration::from_secs(12)));
        }
        other => panic!("expected a 429, got {other:?}"),
    }

    // An `error` event after `message_start`, before any text.
    let start = anthropic_events(
        "c",
        &[],
        "end_turn",
        AnthropicUsage { input: 1, cache_creation: 0, cache_read: 0, output: 0 },
    );
    let events = vec![
        start[0].clone(),
        "event: error\ndata: {\"type\": \"error\", \"error\": {\"type\": \"overloaded_error\", \"message\": \"Overloaded\"}}\n\n".to_string(),
    ];
    server.on("/v1/messages", vec![Reply::sse(events)]);
    let (deltas, result) = drain(backend.chat(request.clone()).await.unwrap()).await;
    assert!(deltas.is_empty());
    let err = result.unwrap_err();
    assert!(matches!(err, ModelError::Http { status: 529, .. }), "{err}");
    assert!(err.to_string().contains("Overloaded"), "{err}");

    // A stream that stops before message_stop.
    let mut events = anthropic_events(
        "c",
        &["cut"],
        "end_turn",
        AnthropicUsage { input: 1, cache_creation: 0, cache_read: 0, output: 1 },
    );
    events.truncate(4);
    server.on("/v1/messages", vec![Reply::sse(events)]);
    let (deltas, result) = drain(backend.chat(request).await.unwrap()).await;
    assert_eq!(deltas, ["cut"]);
    assert!(result.unwrap_err().to_string().contains("before `message_stop`"));
}

#[tokio::test]
async fn anthropic_counts_tokens_and_refuses_what_the_api_lacks() {
    let server = MockServer::start().await;
    server.on("/v1/messages/count_tokens", vec![Reply::json(200, json!({"input_tokens": 14}))]);
    let backend = AnthropicBackend::new(
        "claude",
        &BackendConfig::http(BackendKind::Anthropic, server.base_url(), "claude-x"),
    )
    .unwrap();
    assert_eq!(backend.count_tokens("How many tokens is this?").await.unwrap(), 14);
    let sent = server.last("/v1/messages/count_tokens");
    assert_eq!(
        sent.body,
        json!({"model": "claude-x", "messages": [{"role": "user", "content": "How many tokens is this?"}]})
    );
    assert_eq!(sent.headers["anthropic-version"], "2023-06-01");

    let mut request = ChatRequest::new(vec![Message::user("x")]);
    request.constraint = Some(Constraint::Grammar("root ::= \"a\"".into()));
    let err = backend.chat(request).await.err().unwrap();
    assert!(
        matches!(err, ModelError::Unsupported { .. }) && err.to_string().contains("grammar"),
        "{err}"
    );
    assert!(matches!(
        backend.complete(CompletionRequest::fim("a", "b")).await.err().unwrap(),
        ModelError::Unsupported { .. }
    ));
    assert!(matches!(
        backend.embed(vec!["a".into()]).await.unwrap_err(),
        ModelError::Unsupported { .. }
    ));
    assert!(matches!(backend.tokenize("a").await.unwrap_err(), ModelError::Unsupported { .. }));
    let err =
        backend.chat(ChatRequest::new(vec![Message::system("only system")])).await.err().unwrap();
    assert!(matches!(err, ModelError::InvalidRequest { .. }), "{err}");
    // None of these reached the server.
    assert_eq!(server.count("/v1/messages"), 0);
}

#[tokio::test]
async fn anthropic_conversations_mark_their_prefix_for_the_prompt_cache() {
    let server = MockServer::start().await;
    let usage = AnthropicUsage { input: 4, cache_creation: 0, cache_read: 3000, output: 2 };
    server.on("/v1/messages", vec![Reply::sse(anthropic_events("c", &["ok"], "end_turn", usage))]);
    let backend = AnthropicBackend::new(
        "claude",
        &BackendConfig::http(BackendKind::Anthropic, server.base_url(), "c"),
    )
    .unwrap();
    let mut request = ChatRequest::new(vec![
        Message::system("long shared instructions"),
        Message::user("first"),
        Message::assistant("answer"),
        Message::user("second"),
    ]);
    request.session = Some("s1".into());
    let done = collect(backend.chat(request).await.unwrap()).await.unwrap();
    assert_eq!(done.usage.cached_tokens, 3000);
    let body = server.last("/v1/messages").body;
    let ephemeral = json!({"type": "ephemeral"});
    assert_eq!(
        body["system"],
        json!([{"type": "text", "text": "long shared instructions", "cache_control": ephemeral}])
    );
    assert_eq!(body["messages"][0], json!({"role": "user", "content": "first"}));
    assert_eq!(
        body["messages"][2],
        json!({"role": "user", "content": [{"type": "text", "text": "second", "cache_control": ephemeral}]})
    );
}
