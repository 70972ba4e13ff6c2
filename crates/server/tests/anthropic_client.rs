//! The official `anthropic` Python client, unchanged but for `base_url` and
//! the key, against a live server on the real embedded 0.5B coder
//! (`tests/clients/anthropic_client.py`): `messages.create`, streaming, a
//! system prompt, stop sequences and the errors it raises.
//!
//! The Python comes from `SUIT_TEST_PYTHON`, which `scripts/test.sh` points
//! at a virtual environment with the pinned `anthropic` package.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{load, CODER};
use suit_server::{serve, Served, ServedModels, ServerConfig};

const KEY: &str = "sk-suit-test-key";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_anthropic_python_client_works_against_the_server() {
    let python = std::env::var_os("SUIT_TEST_PYTHON").unwrap_or_else(|| {
        panic!(
            "SUIT_TEST_PYTHON is not set: this test runs the official `anthropic` Python client \
             against the server.\n  fix: run scripts/test.sh (it creates target/test-venv with \
             the pinned `anthropic` package and sets SUIT_TEST_PYTHON), or set SUIT_TEST_PYTHON \
             to a Python that has `anthropic` installed"
        )
    });
    let coder = load(CODER, 4096).await;
    let models = ServedModels::one(Served::new(coder, CODER));

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    // The client adds `/v1/messages` itself.
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let config = ServerConfig { api_key: Some(KEY.into()), ..ServerConfig::default() };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, models, config, async {
        stopped.await.ok();
    }));

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/anthropic_client.py");
    let started = Instant::now();
    let run = tokio::process::Command::new(&python)
        .arg(&script)
        .env("SUIT_BASE_URL", &base_url)
        .env("SUIT_MODEL", CODER)
        .env("SUIT_API_KEY", KEY)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(900), run)
        .await
        .expect("the client script finishes within 15 minutes")
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", Path::new(&python).display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("{stdout}{stderr}client script took {:.1}s", started.elapsed().as_secs_f64());
    assert!(
        output.status.success(),
        "the anthropic client script failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    assert!(stdout.contains("all anthropic client checks passed"), "{stdout}");

    stop.send(()).ok();
    server.await.unwrap().expect("the server stops cleanly");
}
