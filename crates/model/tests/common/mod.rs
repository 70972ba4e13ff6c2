//! Shared helpers for tests that need real model files.

use std::path::{Path, PathBuf};

use suit_model::catalog::Catalog;

/// The cache of real models that all tests and CI runs share:
/// `SUIT_TEST_MODELS`, else `<workspace>/target/test-models`.
pub fn shared_models() -> PathBuf {
    std::env::var_os("SUIT_TEST_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-models"))
}

/// The local path of a catalog model, pulled (and verified) on first use.
#[allow(dead_code)] // not every test binary that includes this module uses it
pub fn model_path(name: &str) -> PathBuf {
    let catalog = Catalog::builtin().expect("built-in catalog").in_dir(shared_models());
    catalog
        .resolve(name, &mut |_| {})
        .unwrap_or_else(|e| panic!("cannot get model {name}: {e}"))
        .path
}
