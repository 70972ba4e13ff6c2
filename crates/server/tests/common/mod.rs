//! Shared helpers for tests that run real models.

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
