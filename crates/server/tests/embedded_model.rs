//! The server in front of the real embedded engine: what the engine does
//! for `n` choices and for a client that goes away mid-stream, read from its
//! counters.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{json, Value};
use suit_model::llama::LlamaModel;
use suit_server::{serve, Served, ServedModels, ServerConfig};

use common::{load, CODER};

/// A server on 127.0.0.1:0 in front of `model`; its base URL.
async fn start(model: Arc<LlamaModel>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let models = ServedModels::one(Served::new(model, CODER));
    tokio::spawn(serve(listener, models, ServerConfig::default(), std::future::pending()));
    base
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n_choices_are_decoded_together_and_a_vanished_clients_decode_stops() {
    let model = load(CODER, 4096).await;
    let base = start(model.clone()).await;
    let http = reqwest::Client::new();

    // n = 2: both choices in the engine's batches at once.
    let before = model.stats();
    let reply: Value = http
        .post(format!("{base}/v1/chat/completions"))
        .json(&json!({
            "model": CODER,
            "messages": [{ "role": "user", "content": "Name three fruits." }],
            "n": 2, "temperature": 0.8, "seed": 1, "max_tokens": 16
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(reply["choices"].as_array().map(Vec::len), Some(2), "{reply}");
    let after = model.stats();
    assert!(
        after.multi_sequence_batches > before.multi_sequence_batches,
        "the two choices were never decoded in one batch: {before:?} -> {after:?}"
    );

    // A client that leaves mid-stream: the engine stops generating for it.
    let response = http
        .post(format!("{base}/v1/chat/completions"))
        .json(&json!({
            "model": CODER,
            "messages": [{ "role": "user", "content": "Write a long essay on the history of computing." }],
            "max_tokens": 2000, "temperature": 0, "stream": true
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut body = response.bytes_stream();
    let mut events = 0;
    while events < 10 {
        let piece = body.next().await.expect("the stream goes on").unwrap();
        events += piece.windows(6).filter(|w| w == b"data: ").count();
    }
    let at_disconnect = model.stats().tokens_generated;
    drop(body);
    let left = Instant::now();
    // Wait until generation has been still for 500 ms.
    let mut last = at_disconnect;
    let mut still_since = Instant::now();
    while still_since.elapsed() < Duration::from_millis(500) {
        assert!(
            left.elapsed() < Duration::from_secs(10),
            "the decode went on after the client left"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
        let now = model.stats().tokens_generated;
        if now != last {
            last = now;
            still_since = Instant::now();
        }
    }
    let extra = last - at_disconnect;
    eprintln!(
        "after the client left: {extra} more tokens, generation still {:?} after it left",
        still_since.duration_since(left)
    );
    assert!(extra <= 4, "{extra} tokens were generated after the client left");
    assert!(last < 1000, "the reply ran on: {last} tokens generated in all");
}
