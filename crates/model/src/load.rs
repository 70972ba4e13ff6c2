//! Getting a configured model onto this machine and into memory: a model
//! spec is resolved through the [`Catalog`] (downloaded and verified when
//! needed), then a `kind = "embedded"` backend is loaded into llama.cpp
//! with its configured settings.
//!
//! This module never prints. What a caller may want to show (a download
//! starting, its progress, the file ready) arrives as [`LoadEvent`]s, so a
//! terminal can draw a progress bar and a server can log a line.
//! Operations block (network, file I/O, loading weights): from async code,
//! call them inside `tokio::task::spawn_blocking`.
//!
//! ```no_run
//! # #[cfg(feature = "embedded")]
//! # fn demo() -> Result<(), suit_model::ModelError> {
//! use suit_model::load::{self, LoadEvent};
//! use suit_model::BackendConfig;
//! let backend = BackendConfig::embedded("smollm2-135m-instruct-q4_1");
//! let model = load::embedded("local", &backend, &mut |event| {
//!     if let LoadEvent::Downloading { download, .. } = event {
//!         eprintln!("downloading {} ...", download.name);
//!     }
//! })?;
//! # Ok(()) }
//! ```

use std::path::Path;

use crate::catalog::{Catalog, PendingDownload, Progress, ResolvedModel};
use crate::ModelError;

/// What getting a model's file reports, in this order: a download about to
/// start (only when the file is not on this machine yet), its progress,
/// then the file ready.
#[derive(Debug)]
pub enum LoadEvent<'a> {
    /// The model is not on this machine: it is about to be downloaded into
    /// `dir`, once (later loads reuse the file).
    Downloading {
        /// The model and its size, when known.
        download: &'a PendingDownload,
        /// The models directory it goes into.
        dir: &'a Path,
    },
    /// A step of fetching, assembling, converting or verifying the file.
    Progress(Progress),
    /// The file is on this machine and verified; loading it may follow.
    Ready(&'a ResolvedModel),
}

/// Turns a model spec (catalog name, `.gguf` path or http(s) URL) into a
/// verified local file through `catalog`, downloading it when needed, and
/// tells `on_event` what happens so the caller can show it.
pub fn fetch(
    catalog: &Catalog,
    spec: &str,
    on_event: &mut dyn FnMut(LoadEvent<'_>),
) -> Result<ResolvedModel, ModelError> {
    if let Some(pending) = catalog.pending(spec)? {
        on_event(LoadEvent::Downloading { download: &pending, dir: catalog.dir() });
    }
    let resolved = catalog.resolve(spec, &mut |p| on_event(LoadEvent::Progress(p)))?;
    on_event(LoadEvent::Ready(&resolved));
    Ok(resolved)
}

/// The llama.cpp options of the embedded backend `name` serving the file at
/// `path`: the backend's settings over [`LlamaOptions::new`]'s defaults,
/// with the prompt cache in its default directory unless it is turned off.
///
/// [`LlamaOptions::new`]: crate::llama::LlamaOptions::new
#[cfg(feature = "embedded")]
pub fn llama_options(
    name: &str,
    path: impl Into<std::path::PathBuf>,
    backend: &crate::BackendConfig,
) -> crate::llama::LlamaOptions {
    let mut options = crate::llama::LlamaOptions::new(name, path);
    if let Some(ctx) = backend.ctx_size {
        options.ctx_size = ctx;
    }
    if let Some(threads) = backend.threads {
        options.threads = threads as usize;
    }
    if let Some(parallel) = backend.parallel {
        options.parallel = parallel as usize;
    }
    if let Some(lookup) = backend.lookup {
        options.lookup = lookup;
    }
    if let Some(fair) = backend.fair_share {
        options.fair_share = fair;
    }
    if backend.prompt_cache.unwrap_or(true) {
        options.prompt_cache = crate::catalog::default_prompt_cache_dir();
    }
    options
}

/// Builds the backend of a `kind = "embedded"` config entry called `name`:
/// resolves its model through the built-in catalog (downloading it if
/// needed, reported to `on_event`) and loads it into llama.cpp. This is
/// what [`Router::from_config`](crate::Router::from_config) is given to
/// build embedded backends.
#[cfg(feature = "embedded")]
pub fn embedded(
    name: &str,
    backend: &crate::BackendConfig,
    on_event: &mut dyn FnMut(LoadEvent<'_>),
) -> Result<crate::llama::LlamaModel, ModelError> {
    let catalog = Catalog::builtin()?;
    let resolved = fetch(&catalog, &backend.model, on_event)?;
    crate::llama::LlamaModel::load(llama_options(name, resolved.path, backend))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "embedded")]
    #[test]
    fn a_backends_settings_override_the_engine_defaults() {
        let defaults = crate::llama::LlamaOptions::new("local", "m.gguf");
        let plain = llama_options("local", "m.gguf", &crate::BackendConfig::embedded("m.gguf"));
        assert_eq!(
            (plain.ctx_size, plain.threads, plain.parallel, plain.lookup, plain.fair_share),
            (
                defaults.ctx_size,
                defaults.threads,
                defaults.parallel,
                defaults.lookup,
                defaults.fair_share
            )
        );
        assert_eq!(plain.prompt_cache, crate::catalog::default_prompt_cache_dir());

        let backend = crate::BackendConfig {
            ctx_size: Some(4096),
            threads: Some(3),
            parallel: Some(12),
            lookup: Some(false),
            fair_share: Some(false),
            prompt_cache: Some(false),
            ..crate::BackendConfig::embedded("m.gguf")
        };
        let tuned = llama_options("edit", "/x/m.gguf", &backend);
        assert_eq!(tuned.name, "edit");
        assert_eq!(tuned.path, std::path::PathBuf::from("/x/m.gguf"));
        assert_eq!((tuned.ctx_size, tuned.threads, tuned.parallel), (4096, 3, 12));
        assert!(!tuned.lookup && !tuned.fair_share);
        assert_eq!(tuned.prompt_cache, None, "prompt_cache = false: no cache on disk");
    }

    #[test]
    fn a_file_on_disk_is_ready_without_a_download() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("tiny.gguf");
        std::fs::write(&file, b"GGUF\x03\0\0\0 not really a model").unwrap();
        let catalog = Catalog::builtin().unwrap().in_dir(dir.path().join("models"));
        let mut events = Vec::new();
        let resolved = fetch(&catalog, file.to_str().unwrap(), &mut |e| {
            events.push(match e {
                LoadEvent::Downloading { .. } => "downloading",
                LoadEvent::Progress(_) => "progress",
                LoadEvent::Ready(_) => "ready",
            })
        })
        .unwrap();
        assert_eq!(resolved.path, file);
        assert_eq!(events.last(), Some(&"ready"));
        assert!(!events.contains(&"downloading"), "{events:?}");
    }
}
