//! Shared helpers of the server's tests: a server on a loopback port, real
//! models, the official client scripts.

// Each test binary uses a part of this module.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use suit_model::catalog::Catalog;
use suit_model::llama::{LlamaModel, LlamaOptions};

/// The chat and completion model of these tests.
pub const CODER: &str = "qwen2.5-coder-0.5b-instruct-q4_k_m";

/// The cache of real models that all tests share: `SUIT_TEST_MODELS`, else
/// `<workspace>/target/test-models`.
pub fn shared_models() -> PathBuf {
    std::env::var_os("SUIT_TEST_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-models"))
}

/// The local path of a catalog model, pulled (and verified) on first use.
pub fn model_path(name: &str) -> PathBuf {
    let catalog = Catalog::builtin().expect("built-in catalog").in_dir(shared_models());
    catalog
        .resolve(name, &mut |_| {})
        .unwrap_or_else(|e| panic!("cannot get model {name}: {e}"))
        .path
}

/// A catalog model loaded in-process with a window of `ctx_size` tokens.
pub async fn load(name: &'static str, ctx_size: u32) -> Arc<LlamaModel> {
    let path = tokio::task::spawn_blocking(move || model_path(name)).await.unwrap();
    let model = tokio::task::spawn_blocking(move || {
        let mut options = LlamaOptions::new(name, path);
        options.ctx_size = ctx_size;
        options.prompt_cache = None;
        LlamaModel::load(options)
    })
    .await
    .unwrap()
    .unwrap_or_else(|e| panic!("cannot load {name}: {e}"));
    Arc::new(model)
}

/// Serves `models` with the admin key `key` on a loopback port, runs the
/// official client script `tests/clients/<client>_client.py` against it
/// (`SUIT_BASE_URL` is the server's root plus `path`; `env` adds more) with
/// the Python of `SUIT_TEST_PYTHON`, and checks that it ends with "all
/// <client> client checks passed".
pub async fn run_client_script(
    client: &str,
    models: suit_server::ServedModels,
    key: &str,
    path: &str,
    env: &[(&str, &str)],
) {
    use std::time::{Duration, Instant};
    let python = std::env::var_os("SUIT_TEST_PYTHON").unwrap_or_else(|| {
        panic!(
            "SUIT_TEST_PYTHON is not set: this test runs the official `{client}` Python client \
             against the server.\n  fix: run scripts/test.sh (it creates target/test-venv with \
             the pinned `{client}` package and sets SUIT_TEST_PYTHON), or set SUIT_TEST_PYTHON \
             to a Python that has `{client}` installed"
        )
    });
    let config = suit_server::ServerConfig { api_key: Some(key.into()), ..Default::default() };
    let server = spawn_server(models, config).await;
    let base_url = format!("{}{path}", server.base);

    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/clients/{client}_client.py"));
    let started = Instant::now();
    let run = tokio::process::Command::new(&python)
        .arg(&script)
        .env("SUIT_BASE_URL", &base_url)
        .env("SUIT_API_KEY", key)
        .envs(env.iter().copied())
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
        "the {client} client script failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    assert!(stdout.contains(&format!("all {client} client checks passed")), "{stdout}");

    server.stop.send(()).ok();
    server.task.await.unwrap().expect("the server stops cleanly");
}

/// A server on a loopback port; dropping `stop` (or sending on it) stops it.
pub struct Running {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Stops the server.
    pub stop: tokio::sync::oneshot::Sender<()>,
    /// The server's task: how it stopped.
    pub task: tokio::task::JoinHandle<Result<(), suit_server::ServeError>>,
}

/// Serves `models` with `config` on 127.0.0.1 and a free port.
pub async fn spawn_server(
    models: suit_server::ServedModels,
    config: suit_server::ServerConfig,
) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(suit_server::serve(listener, models, config, async {
        stopped.await.ok();
    }));
    Running { base, stop, task }
}
