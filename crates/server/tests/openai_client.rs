//! The official `openai` Python client, unchanged but for `base_url` and
//! the key, against a live server on real embedded models
//! (`tests/clients/openai_client.py`): the 0.5B coder for chat and text
//! completions, MiniLM for embeddings.
//!
//! The Python comes from `SUIT_TEST_PYTHON`, which `scripts/test.sh` points
//! at a virtual environment with the pinned `openai` package.

mod common;

use common::{load, run_client_script, CODER};
use suit_server::{Served, ServedModels};

const EMBEDDER: &str = "all-minilm-l6-v2";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_openai_python_client_works_against_the_server() {
    let coder = load(CODER, 4096).await;
    let embedder = load(EMBEDDER, 512).await;
    let models = ServedModels {
        generation: Served::new(coder, CODER),
        embeddings: Some(Served::new(embedder, EMBEDDER)),
    };
    let env = [("SUIT_MODEL", CODER), ("SUIT_EMBEDDING_MODEL", EMBEDDER)];
    run_client_script("openai", models, "sk-suit-test-key", "/v1", &env).await;
}
