//! The official `anthropic` Python client, unchanged but for `base_url` and
//! the key, against a live server on the real embedded 0.5B coder
//! (`tests/clients/anthropic_client.py`): `messages.create`, streaming, a
//! system prompt, stop sequences and the errors it raises.
//!
//! The Python comes from `SUIT_TEST_PYTHON`, which `scripts/test.sh` points
//! at a virtual environment with the pinned `anthropic` package.

mod common;

use common::{load, run_client_script, CODER};
use suit_server::{Served, ServedModels};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_anthropic_python_client_works_against_the_server() {
    let coder = load(CODER, 4096).await;
    let models = ServedModels::one(Served::new(coder, CODER));
    // The client adds `/v1/messages` itself.
    run_client_script("anthropic", models, "sk-suit-test-key", "", &[("SUIT_MODEL", CODER)]).await;
}
