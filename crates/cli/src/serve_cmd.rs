//! `suit serve`: the chat role's model behind an OpenAI-compatible HTTP API,
//! with the embed role's model for `/v1/embeddings`, and agent sessions
//! (`/v1/sessions`) on repositories under the `--root` directories.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;
use suit_agent::engine::Routed;
use suit_agent::RunConfig;
use suit_model::{BackendKind, Model, Task};
use suit_server::{check_exposure, Served, ServedModels, ServerConfig, SessionSettings, Sessions};
use suit_store::ApiKeys;

use crate::keys_cmd::keys_path;

use crate::talk::route;

/// `suit serve` arguments.
#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on. Without an API key only loopback addresses
    /// (127.0.0.1, ::1) are allowed.
    #[arg(long, default_value = "127.0.0.1:8377")]
    addr: SocketAddr,
    /// The admin key: clients may send it (`Authorization: Bearer KEY` or
    /// `x-api-key: KEY`) without limits, and it reads every key's usage.
    /// A key (this or one from `suit keys add`) is needed to listen on a
    /// non-loopback address.
    #[arg(long, env = "SUIT_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// The key store of `suit keys` (default: $SUIT_HOME/keys.db, else
    /// keys.db in the user data directory's `suit` folder). When it holds
    /// keys, clients must send one of them.
    #[arg(long, env = "SUIT_KEYS", value_name = "PATH")]
    keys: Option<PathBuf>,
    /// Model to serve: a catalog name (see `suit models list`), a .gguf path,
    /// an http(s) URL of a GGUF, or a remote model id for HTTP backends.
    #[arg(long, short)]
    model: Option<String>,
    /// Serve only this configured backend (no failover), e.g. `local`.
    #[arg(long, short)]
    backend: Option<String>,
    /// Most requests for the model in flight, decoding or waiting; one more
    /// gets 429 with `Retry-After`.
    #[arg(long, default_value_t = suit_server::DEFAULT_MAX_IN_FLIGHT, value_name = "N")]
    max_queue: usize,
    /// A directory whose repositories agent sessions (`/v1/sessions`) may
    /// change; repeat for several (default: the current directory).
    #[arg(long = "root", value_name = "DIR")]
    roots: Vec<PathBuf>,
}

/// Runs `suit serve` until Ctrl-C.
pub async fn serve(args: ServeArgs, config_file: Option<&Path>) -> Result<ExitCode> {
    let api_key = args.api_key.filter(|k| !k.is_empty());
    let keys = open_keys(args.keys.as_deref())?;
    let stored = match &keys {
        Some(keys) => keys.list(false)?.len(),
        None => 0,
    };
    check_exposure(args.addr, api_key.is_some() || stored > 0)?;
    let routed = route(config_file, args.backend.as_deref(), args.model.as_deref(), Task::Chat)?;
    let (backend_name, backend) = &routed.first;
    let model: Arc<dyn Model> = Arc::new(routed.model.clone());
    if backend.kind == BackendKind::Embedded {
        // Load the weights now, so a missing or broken model file stops the
        // server before it listens and the first request is not slow.
        eprintln!("suit serve: loading {} …", backend.model);
        model.count_tokens("suit").await.with_context(|| {
            format!("cannot load the model of backend `{backend_name}` ({})", backend.model)
        })?;
    }
    let window = backend.ctx_size.map_or(DEFAULT_SESSION_WINDOW, |n| n as usize);
    let embedded = backend.kind == BackendKind::Embedded;
    let name = format!("{} via {backend_name}", backend.model);
    let template = RunConfig::for_model(
        name,
        window.min(DEFAULT_SESSION_WINDOW),
        embedded,
        RunConfig::DEFAULT_MAX_OUTPUT_TOKENS,
    );
    let roots = if args.roots.is_empty() {
        vec![std::env::current_dir().context("cannot read the current directory")?]
    } else {
        args.roots
    };
    let sessions = Sessions::new(SessionSettings { roots, model: model.clone(), template })
        .map_err(anyhow::Error::msg)?;
    let mut generation = Served::new(model, model_id(&backend.model));
    generation.aliases = vec![backend.model.clone(), backend_name.clone()];
    let embeddings = embedding_model(&routed);
    let models = ServedModels { generation, embeddings };
    let prices: BTreeMap<_, _> =
        routed.config.backends.iter().map(|(name, b)| (name.clone(), b.prices())).collect();
    // The embedded engine decodes `parallel` sequences together (4 unless
    // configured); an HTTP backend's own queue is out of sight: count 1.
    let slots = match backend.kind {
        BackendKind::Embedded => backend.parallel.unwrap_or(4) as usize,
        _ => 1,
    };
    let config = ServerConfig {
        api_key,
        keys,
        prices,
        max_in_flight: args.max_queue,
        slots,
        sessions: Some(Arc::new(sessions)),
        ..ServerConfig::default()
    };
    let listener = tokio::net::TcpListener::bind(args.addr).await.with_context(|| {
        format!(
            "cannot listen on {}\n  fix: pick a free port with --addr (another server may be using it)",
            args.addr
        )
    })?;
    let access = match (config.api_key.is_some(), stored) {
        (false, 0) => "loopback only, no API key".to_string(),
        (true, 0) => "clients must send the API key".to_string(),
        (admin, n) => format!(
            "clients must send one of the {n} key(s) of `suit keys list`{}",
            if admin { " or the --api-key key" } else { "" }
        ),
    };
    let embedder =
        models.embeddings.as_ref().map_or(String::new(), |e| format!(", embeddings by `{}`", e.id));
    println!(
        "suit serve: http://{}/v1 serving `{}` (backend {backend_name}){embedder}; {access}; Ctrl-C stops",
        listener.local_addr().unwrap_or(args.addr),
        models.generation.id
    );
    let shutdown = async {
        tokio::signal::ctrl_c().await.ok();
        eprintln!("suit serve: stopping (requests in flight finish first)");
    };
    suit_server::serve(listener, models, config, shutdown).await?;
    Ok(ExitCode::SUCCESS)
}

/// The context window an agent session plans its prompts for, in tokens
/// (less when the backend's is smaller).
const DEFAULT_SESSION_WINDOW: usize = 8192;

/// The key store, when its file exists (it is created by `suit keys add`,
/// never by the server).
fn open_keys(explicit: Option<&Path>) -> Result<Option<Arc<ApiKeys>>> {
    let path = keys_path(explicit)?;
    if !path.exists() {
        if explicit.is_some_and(|p| !p.as_os_str().is_empty()) {
            anyhow::bail!(
                "the key store {} does not exist\n  fix: add a key there first (`suit keys add NAME --keys {}`), or check the path",
                path.display(),
                path.display()
            );
        }
        return Ok(None);
    }
    let keys = ApiKeys::open(&path)
        .with_context(|| format!("cannot open the key store {}", path.display()))?;
    Ok(Some(Arc::new(keys)))
}

/// The embed role's model, when its chain starts with another backend than
/// the chat model's (it is loaded at the first embeddings request).
fn embedding_model(routed: &Routed) -> Option<Served> {
    let name = routed.config.roles.chain(Task::Embed).first()?;
    if *name == routed.first.0 {
        return None;
    }
    let backend = routed.config.backends.get(name)?;
    let model: Arc<dyn Model> = Arc::new(routed.router.for_role(Task::Embed));
    let mut served = Served::new(model, model_id(&backend.model));
    served.aliases = vec![backend.model.clone(), name.clone()];
    Some(served)
}

/// The id clients name the model by: a catalog name or remote id as given,
/// a GGUF file (path or URL) by its file name without `.gguf`.
fn model_id(spec: &str) -> String {
    match spec.strip_suffix(".gguf") {
        Some(stem) => stem.rsplit(['/', '\\']).next().unwrap_or(stem).to_string(),
        None => spec.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::model_id;

    #[test]
    fn models_are_named_by_catalog_name_or_file_name() {
        assert_eq!(
            model_id("qwen2.5-coder-1.5b-instruct-q4_k_m"),
            "qwen2.5-coder-1.5b-instruct-q4_k_m"
        );
        assert_eq!(model_id("models/tiny.gguf"), "tiny");
        assert_eq!(model_id("https://example.com/m/big.gguf"), "big");
        assert_eq!(model_id("gpt-4o-mini"), "gpt-4o-mini");
    }
}
