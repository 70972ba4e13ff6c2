//! The model policy: which model serves a role, and how the embedded
//! engine is sized for the runs that share it.
//!
//! [`route`] takes the merged configuration ([`crate::config`]), applies the
//! command line's [`Overrides`] (`--backend`, `--model`) and builds a
//! [`Router`] with a [`Meter`]. [`Engine::open`] does the same for the
//! agent's runs: an embedded backend gets one slot per sequence decoded
//! together (`runs` × `candidates`, at least 4, unless `parallel` is
//! configured) and a window per run in its pool of cells (`ctx_size` × `runs`).
//!
//! Loading an embedded model is passed in as a function (what
//! [`Router::from_config`] calls, e.g. `suit_model::load::embedded` with the
//! caller's progress view): this crate builds without llama.cpp, and the
//! caller decides how a download is shown. Backends load on first use.
//!
//! ```no_run
//! use std::sync::Arc;
//! use suit_agent::engine::{Engine, Overrides};
//! use suit_model::{BackendConfig, Model, ModelConfig, ModelError, Task};
//!
//! /// This program serves HTTP backends only.
//! fn no_embedded(name: &str, _: &BackendConfig) -> Result<Arc<dyn Model>, ModelError> {
//!     Err(ModelError::Config(format!("{name}: embedded models are not loaded here")))
//! }
//!
//! # fn demo(config: ModelConfig) -> Result<(), suit_agent::engine::EngineError> {
//! let engine = Engine::open(config, &Overrides::default(), Task::Edit, 2, 4, no_embedded)?;
//! println!("{}: {} tokens per run", engine.name(), engine.window());
//! # Ok(()) }
//! ```

use std::sync::Arc;

use suit_model::{
    BackendConfig, BackendKind, Meter, Model, ModelConfig, ModelError, RoleModel, Router, Task,
};

use crate::RunConfig;

/// The default context window of an embedded model, in tokens.
const EMBEDDED_WINDOW: u32 = 8192;

/// The command line's say over the configuration for one role.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `--backend`: use only this configured backend for the role (no
    /// failover).
    pub backend: Option<String>,
    /// `--model`: replace the model of the role's first backend (a catalog
    /// name, a `.gguf` path, an http(s) URL, or a remote model id).
    pub model: Option<String>,
}

/// Why a role's model could not be routed. Each says what happened and,
/// where the caller can act, what to do.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// `--backend` names a backend the configuration does not define.
    #[error("no backend named `{name}` (configured: {})\n  fix: add [backends.{name}] to suit.toml or pick one of those", .configured.join(", "))]
    UnknownBackend {
        /// The name given.
        name: String,
        /// The configured backends' names.
        configured: Vec<String>,
    },
    /// The role's failover chain does not start with a configured backend.
    #[error("the {role} role names no configured backend")]
    NoBackend {
        /// The role.
        role: Task,
    },
    /// The model layer refused the configuration; its message says what
    /// to do.
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// A model for one role, routed through the configured failover chain.
pub struct Routed {
    /// The role's model (failover, retries, metering included).
    pub model: RoleModel,
    /// The session's meter.
    pub meter: Arc<Meter>,
    /// The first backend of the role's chain: name and configuration.
    pub first: (String, BackendConfig),
    /// The router the role's model came from (other roles share its
    /// backends, loaded once).
    pub router: Router,
    /// The effective model configuration (overrides applied).
    pub config: ModelConfig,
}

/// Routes `role`: applies `overrides` to `config` (`backend`: only that
/// backend serves the role; `model`: the role's first backend serves that
/// model) and builds the router, whose embedded backends `embedded` loads.
pub fn route<E>(
    config: ModelConfig,
    overrides: &Overrides,
    role: Task,
    embedded: E,
) -> Result<Routed, EngineError>
where
    E: Fn(&str, &BackendConfig) -> Result<Arc<dyn Model>, ModelError> + Send + Sync + 'static,
{
    route_tuned(config, overrides, role, &|_| {}, embedded)
}

/// [`route`], with `tune` applied to every configured backend before any is
/// loaded (the agent's runs size the embedded engine).
fn route_tuned<E>(
    mut config: ModelConfig,
    overrides: &Overrides,
    role: Task,
    tune: &dyn Fn(&mut BackendConfig),
    embedded: E,
) -> Result<Routed, EngineError>
where
    E: Fn(&str, &BackendConfig) -> Result<Arc<dyn Model>, ModelError> + Send + Sync + 'static,
{
    if let Some(backend) = &overrides.backend {
        if !config.backends.contains_key(backend) {
            return Err(EngineError::UnknownBackend {
                name: backend.clone(),
                configured: config.backends.keys().cloned().collect(),
            });
        }
        config.roles.set_chain(role, vec![backend.clone()]);
    }
    let first_name = config.roles.chain(role).first().cloned().unwrap_or_default();
    if let Some(model) = &overrides.model {
        if let Some(backend) = config.backends.get_mut(&first_name) {
            backend.model = model.clone();
        }
    }
    for backend in config.backends.values_mut() {
        tune(backend);
    }
    let first = config.backends.get(&first_name).cloned().ok_or(EngineError::NoBackend { role })?;
    let meter = Arc::new(Meter::new(config.budget));
    let router = Router::from_config(&config, meter.clone(), embedded)?;
    Ok(Routed { model: router.for_role(role), meter, first: (first_name, first), router, config })
}

/// Sizes an embedded backend for `runs` runs at once of `candidates`
/// sequences each: one slot per sequence (at least 4) unless `parallel` is
/// configured, and a window per run (`ctx_size`, else 8192) in its pool.
fn size_embedded(backend: &mut BackendConfig, runs: usize, candidates: usize) {
    if backend.kind != BackendKind::Embedded {
        return;
    }
    let sequences = (runs * candidates).max(4) as u32;
    backend.parallel.get_or_insert(sequences);
    let window = backend.ctx_size.unwrap_or(EMBEDDED_WINDOW);
    backend.ctx_size = Some(window * runs as u32);
}

/// The window of one of `runs` runs on `backend` (sized by
/// [`size_embedded`] when embedded), in tokens.
fn run_window(backend: &BackendConfig, runs: usize) -> usize {
    match backend.ctx_size {
        Some(n) if backend.kind == BackendKind::Embedded => n as usize / runs,
        Some(n) => n as usize,
        None => EMBEDDED_WINDOW as usize,
    }
}

/// The model the agent's runs use, sized for them, and how to drive it.
pub struct Engine {
    routed: Routed,
    /// Tokens of one run's window.
    window: usize,
    /// An embedded model: small, and decoded under a grammar.
    embedded: bool,
    name: String,
    /// Candidate sequences per try of a run.
    candidates: usize,
    /// Most tokens of one reply.
    max_output_tokens: u32,
}

impl Engine {
    /// Routes `role`'s model (see [`route`]) for `runs` runs at once of
    /// `candidates` sequences each; an embedded backend gets a slot per
    /// sequence (unless `parallel` is configured) and a window per run.
    pub fn open<E>(
        config: ModelConfig,
        overrides: &Overrides,
        role: Task,
        runs: usize,
        candidates: usize,
        embedded: E,
    ) -> Result<Self, EngineError>
    where
        E: Fn(&str, &BackendConfig) -> Result<Arc<dyn Model>, ModelError> + Send + Sync + 'static,
    {
        let runs = runs.max(1);
        let tune = |backend: &mut BackendConfig| size_embedded(backend, runs, candidates);
        let routed = route_tuned(config, overrides, role, &tune, embedded)?;
        let (name, backend) = &routed.first;
        Ok(Engine {
            window: run_window(backend, runs),
            // Embedded models are small here (the catalog's are 0.5-1.5B): they
            // rewrite whole files and decode under a grammar.
            embedded: backend.kind == BackendKind::Embedded,
            name: format!("{} via {name}", backend.model),
            candidates,
            max_output_tokens: RunConfig::DEFAULT_MAX_OUTPUT_TOKENS,
            routed,
        })
    }

    /// Replies of at most `tokens` (default
    /// [`RunConfig::DEFAULT_MAX_OUTPUT_TOKENS`]); the context budget shrinks
    /// by as much.
    pub fn with_max_output_tokens(mut self, tokens: u32) -> Self {
        self.max_output_tokens = tokens;
        self
    }

    /// The routed model, its meter and the router it came from.
    pub fn routed(&self) -> &Routed {
        &self.routed
    }

    /// The model as the run reports it: `MODEL via BACKEND`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Tokens of one run's context window.
    pub fn window(&self) -> usize {
        self.window
    }

    /// A run's configuration for this model, with the candidates it was
    /// opened for: the context budget is the window less the reply's room
    /// and the system prompt's. The caller sets the task, files and checks.
    pub fn run_config(&self) -> RunConfig {
        let base =
            RunConfig::for_model(&self.name, self.window, self.embedded, self.max_output_tokens);
        RunConfig { candidates: self.candidates, ..base }
    }

    /// Loads the model now, so its load time is not counted as a step's.
    pub async fn warm(&self) -> Result<(), ModelError> {
        self.routed.model.count_tokens("warm up").await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A loader for tests that never load a model (backends load on first
    /// use, so opening an engine does not call it).
    fn no_embedded(name: &str, _: &BackendConfig) -> Result<Arc<dyn Model>, ModelError> {
        Err(ModelError::Config(format!("test: {name} is not loaded")))
    }

    #[test]
    fn an_embedded_engine_gets_a_slot_per_sequence_and_a_window_per_run() {
        // (runs, candidates) -> (parallel, ctx_size, window per run)
        for ((runs, candidates), (parallel, ctx_size, window)) in [
            ((1, 1), (4, 8192, 8192)),
            ((1, 4), (4, 8192, 8192)),
            ((3, 4), (12, 3 * 8192, 8192)),
            ((2, 1), (4, 2 * 8192, 8192)),
            ((0, 4), (4, 8192, 8192)),
        ] {
            let engine = Engine::open(
                ModelConfig::default(),
                &Overrides::default(),
                Task::Edit,
                runs,
                candidates,
                no_embedded,
            )
            .unwrap();
            let (name, backend) = &engine.routed().first;
            assert_eq!(name, "local");
            assert_eq!(backend.parallel, Some(parallel), "{runs} runs × {candidates}");
            assert_eq!(backend.ctx_size, Some(ctx_size), "{runs} runs × {candidates}");
            assert_eq!(engine.window(), window, "{runs} runs × {candidates}");
            let run = engine.run_config();
            assert_eq!(run.candidates, candidates);
            assert!(run.small_model && run.constrain, "an embedded model is small");
        }
    }

    #[test]
    fn configured_sizes_are_kept_per_run_and_http_backends_are_not_sized() {
        let mut config = ModelConfig::default();
        let local = config.backends.get_mut("local").unwrap();
        local.parallel = Some(2);
        local.ctx_size = Some(4096);
        config.backends.insert(
            "remote".into(),
            BackendConfig {
                ctx_size: Some(32768),
                ..BackendConfig::http(BackendKind::OpenAi, "http://127.0.0.1:9/v1", "m")
            },
        );

        let engine =
            Engine::open(config.clone(), &Overrides::default(), Task::Edit, 3, 4, no_embedded)
                .unwrap();
        let backend = &engine.routed().first.1;
        assert_eq!((backend.parallel, backend.ctx_size), (Some(2), Some(3 * 4096)));
        assert_eq!(engine.window(), 4096);

        let remote = Overrides { backend: Some("remote".into()), model: None };
        let engine = Engine::open(config, &remote, Task::Edit, 3, 4, no_embedded).unwrap();
        let backend = &engine.routed().first.1;
        assert_eq!((backend.parallel, backend.ctx_size), (None, Some(32768)));
        assert_eq!(engine.window(), 32768, "an HTTP server's window is not shared out");
        assert_eq!(engine.name(), "m via remote");
        assert!(!engine.run_config().small_model);
    }

    #[test]
    fn overrides_pick_the_backend_and_the_model() {
        let overrides = Overrides { backend: None, model: Some("other.gguf".into()) };
        let routed = route(ModelConfig::default(), &overrides, Task::Chat, no_embedded).unwrap();
        assert_eq!(routed.first.0, "local");
        assert_eq!(routed.first.1.model, "other.gguf");
        assert_eq!(routed.config.backends["local"].model, "other.gguf");
        assert_eq!(routed.first.1.parallel, None, "route does not size the engine");

        let overrides = Overrides { backend: Some("embed".into()), model: None };
        let routed = route(ModelConfig::default(), &overrides, Task::Chat, no_embedded).unwrap();
        assert_eq!(routed.config.roles.chain(Task::Chat), ["embed"]);
        assert_eq!(routed.first.0, "embed");

        let overrides = Overrides { backend: Some("nope".into()), model: None };
        let err = route(ModelConfig::default(), &overrides, Task::Chat, no_embedded)
            .err()
            .expect("an unknown backend is refused");
        assert!(matches!(err, EngineError::UnknownBackend { .. }), "{err}");
        let text = err.to_string();
        assert!(text.contains("no backend named `nope` (configured: embed, local)"), "{text}");
        assert!(text.contains("fix: add [backends.nope] to suit.toml"), "{text}");
    }
}
