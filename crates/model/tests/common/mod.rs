//! Shared helpers for tests that need real model files.

use std::path::PathBuf;

/// The local path of a catalog model, pulled once into the cache that all
/// tests and CI runs share (`SUIT_TEST_MODELS`, else `target/test-models`).
pub fn model_path(name: &str) -> PathBuf {
    // Temporary: until the catalog lands, read from SUIT_TEST_GGUF_DIR.
    let dir = std::env::var("SUIT_TEST_GGUF_DIR").expect("SUIT_TEST_GGUF_DIR");
    let file = match name {
        "smollm2-135m-instruct-q4_1" => "smol.gguf",
        "qwen2.5-coder-0.5b-instruct-q4_k_m" => "qwen05.gguf",
        "all-minilm-l6-v2" => "minilm.gguf",
        other => panic!("unknown test model {other}"),
    };
    PathBuf::from(dir).join(file)
}
