//! The model part of suit's configuration: backends, role chains, budget and
//! retry policy.
//!
//! These are the top-level keys `backends`, `roles`, `budget` and `retry` of
//! the merged TOML configuration (`~/.config/suit/config.toml` plus the repo's
//! `suit.toml`). Other top-level keys are ignored here, so the CLI's own
//! sections can live beside them.
//!
//! ```toml
//! [backends.openai]
//! kind = "openai"
//! base_url = "https://api.openai.com/v1"
//! model = "gpt-4o-mini"
//! api_key_env = "OPENAI_API_KEY"
//! price_in = 0.15
//! price_out = 0.60
//!
//! [roles]
//! chat = ["openai", "local"]
//! ```
//!
//! Two embedded backends are built in: `local` (the default chat model) and
//! `embed` (the default embedding model). A `[backends.local]` or
//! `[backends.embed]` table replaces the built-in one; other names add
//! backends. Every role defaults to `["local"]`, except `embed` which
//! defaults to `["embed"]`.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ModelError;

/// Catalog name of the default chat/code model of the built-in `local` backend.
pub const DEFAULT_MODEL: &str = "qwen2.5-coder-1.5b-instruct-q4_k_m";
/// Catalog name of the default embedding model of the built-in `embed` backend.
pub const DEFAULT_EMBEDDING_MODEL: &str = "all-minilm-l6-v2";

/// The model part of suit's configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelConfig {
    /// Backends by name. The built-in `local` and `embed` backends are always
    /// present unless a table of the same name replaces them.
    #[serde(deserialize_with = "deserialize_backends")]
    pub backends: BTreeMap<String, BackendConfig>,
    /// For each role, the ordered failover chain of backend names.
    pub roles: RolesConfig,
    /// Per-session limits.
    pub budget: BudgetConfig,
    /// Retries and circuit breaking.
    pub retry: RetryConfig,
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self {
            backends: builtin_backends(),
            roles: RolesConfig::default(),
            budget: BudgetConfig::default(),
            retry: RetryConfig::default(),
        }
    }
}

fn builtin_backends() -> BTreeMap<String, BackendConfig> {
    BTreeMap::from([
        ("local".to_string(), BackendConfig::embedded(DEFAULT_MODEL)),
        ("embed".to_string(), BackendConfig::embedded(DEFAULT_EMBEDDING_MODEL)),
    ])
}

/// Deserializes `[backends]` on top of the built-in backends.
fn deserialize_backends<'de, D>(de: D) -> Result<BTreeMap<String, BackendConfig>, D::Error>
where
    D: Deserializer<'de>,
{
    let given = BTreeMap::<String, BackendConfig>::deserialize(de)?;
    let mut all = builtin_backends();
    all.extend(given);
    Ok(all)
}

/// What serves a backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendKind {
    /// llama.cpp in-process (`kind = "embedded"`).
    Embedded,
    /// An OpenAI-compatible HTTP server (`kind = "openai"`): OpenAI, Ollama,
    /// vLLM, SGLang, llama.cpp server, ...
    OpenAi,
    /// The Anthropic Messages API (`kind = "anthropic"`).
    Anthropic,
    /// A kind suit does not know; [`ModelConfig::validate`] rejects it.
    Unknown(String),
}

impl BackendKind {
    /// The config spelling.
    pub fn as_str(&self) -> &str {
        match self {
            BackendKind::Embedded => "embedded",
            BackendKind::OpenAi => "openai",
            BackendKind::Anthropic => "anthropic",
            BackendKind::Unknown(s) => s,
        }
    }

    /// Whether the backend is reached over HTTP.
    pub fn is_http(&self) -> bool {
        matches!(self, BackendKind::OpenAi | BackendKind::Anthropic)
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for BackendKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for BackendKind {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        let s = String::deserialize(de)?;
        Ok(match s.as_str() {
            "embedded" => BackendKind::Embedded,
            "openai" => BackendKind::OpenAi,
            "anthropic" => BackendKind::Anthropic,
            _ => BackendKind::Unknown(s),
        })
    }
}

/// One `[backends.NAME]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendConfig {
    /// `embedded`, `openai` or `anthropic`.
    pub kind: BackendKind,
    /// Embedded: a catalog name, a path to a `.gguf` file or an http(s) URL.
    /// HTTP: the model id the server expects.
    pub model: String,
    /// Context window in tokens. Embedded: the window to allocate (default:
    /// the model's). HTTP: the server's window, when you want suit to budget
    /// for it (optional, informational).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ctx_size: Option<u32>,
    /// Embedded only: CPU threads (default: the number of cores).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<u32>,
    /// Embedded only: sequences decoded together in one batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel: Option<u32>,
    /// Embedded only: prompt-lookup decoding, which drafts the tokens a reply
    /// copies from its prompt and verifies them in one decode call (same
    /// output, faster edits). Default: on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lookup: Option<bool>,
    /// Embedded only: when requests wait, admit the one of the client
    /// served least so far (fair share by tokens); `false` admits them in
    /// arrival order. Default: on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fair_share: Option<bool>,
    /// Embedded only: save the KV state of long prompts in the prompt cache
    /// directory, so a later process with the same prompt head restores it
    /// instead of evaluating it again. Default: on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_cache: Option<bool>,
    /// HTTP only, required: the API root including its version, e.g.
    /// `https://api.openai.com/v1`, `http://127.0.0.1:8080/v1`,
    /// `https://api.anthropic.com/v1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// HTTP only: more API roots serving the same model (say, vLLM or
    /// llama.cpp servers on other hosts). Each call goes to whichever of
    /// `base_url` and these has the fewest calls outstanding; one that fails
    /// is taken out by its own circuit breaker until a trial call succeeds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replicas: Vec<String>,
    /// HTTP only: the name of the environment variable holding the API key.
    /// Local servers usually need none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    /// HTTP only: the longest the server may stay silent (while connecting,
    /// before the first byte, or between streamed chunks), in seconds.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    /// USD per million prompt tokens evaluated.
    #[serde(default)]
    pub price_in: f64,
    /// USD per million generated tokens.
    #[serde(default)]
    pub price_out: f64,
    /// USD per million prompt tokens served from the provider's cache
    /// (default: `price_in`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_cached: Option<f64>,
}

fn default_timeout_secs() -> u64 {
    120
}

impl BackendConfig {
    /// An embedded backend serving `model` with default settings.
    pub fn embedded(model: impl Into<String>) -> Self {
        Self {
            kind: BackendKind::Embedded,
            model: model.into(),
            ctx_size: None,
            threads: None,
            parallel: None,
            lookup: None,
            fair_share: None,
            prompt_cache: None,
            base_url: None,
            replicas: Vec::new(),
            api_key_env: None,
            timeout_secs: default_timeout_secs(),
            price_in: 0.0,
            price_out: 0.0,
            price_cached: None,
        }
    }

    /// An HTTP backend of `kind` at `base_url` serving `model`.
    pub fn http(kind: BackendKind, base_url: impl Into<String>, model: impl Into<String>) -> Self {
        Self { kind, base_url: Some(base_url.into()), ..Self::embedded(model) }
    }

    /// One configuration per server of this backend: itself at `base_url`,
    /// then one at each of its `replicas`.
    pub fn per_replica(&self) -> Vec<BackendConfig> {
        let mut out = vec![Self { replicas: Vec::new(), ..self.clone() }];
        for url in &self.replicas {
            out.push(Self { base_url: Some(url.clone()), replicas: Vec::new(), ..self.clone() });
        }
        out
    }

    /// This backend's prices.
    pub fn prices(&self) -> Prices {
        Prices {
            input: self.price_in,
            output: self.price_out,
            cached: self.price_cached.unwrap_or(self.price_in),
        }
    }

    fn validate(&self, name: &str) -> Result<(), ModelError> {
        let at = format!("[backends.{name}]");
        let kind = &self.kind;
        if let BackendKind::Unknown(k) = kind {
            return Err(ModelError::Config(format!(
                "{at}: unknown kind \"{k}\"; use one of \"embedded\", \"openai\" (any OpenAI-compatible server) or \"anthropic\""
            )));
        }
        if self.model.trim().is_empty() {
            return Err(ModelError::Config(format!(
                "{at}: `model` is empty; set a catalog name or .gguf path (embedded) or the server's model id (HTTP)"
            )));
        }
        if kind.is_http() {
            let Some(url) = self.base_url.as_deref() else {
                let example = if *kind == BackendKind::Anthropic {
                    "https://api.anthropic.com/v1"
                } else {
                    "https://api.openai.com/v1 or http://127.0.0.1:8080/v1"
                };
                return Err(ModelError::Config(format!(
                    "{at}: kind = \"{kind}\" needs `base_url`; set it to the API root, e.g. {example}"
                )));
            };
            let urls = std::iter::once(("base_url", url))
                .chain(self.replicas.iter().map(|r| ("replicas", r.as_str())));
            for (key, url) in urls {
                match reqwest::Url::parse(url) {
                    Ok(u) if u.scheme() == "http" || u.scheme() == "https" => {}
                    Ok(u) => {
                        return Err(ModelError::Config(format!(
                            "{at}: {key} \"{url}\" has scheme \"{}\"; use http:// or https://",
                            u.scheme()
                        )))
                    }
                    Err(e) => {
                        return Err(ModelError::Config(format!(
                            "{at}: {key} \"{url}\" is not a valid URL ({e}); write it like https://api.openai.com/v1"
                        )))
                    }
                }
            }
            for (key, set) in [
                ("threads", self.threads.is_some()),
                ("parallel", self.parallel.is_some()),
                ("lookup", self.lookup.is_some()),
                ("fair_share", self.fair_share.is_some()),
            ] {
                if set {
                    return Err(ModelError::Config(format!(
                        "{at}: `{key}` applies only to kind = \"embedded\"; remove it (the server decides)"
                    )));
                }
            }
            if self.timeout_secs == 0 {
                return Err(ModelError::Config(format!(
                    "{at}: timeout_secs = 0 would fail every call; use a number of seconds such as 120"
                )));
            }
            if let Some(var) = &self.api_key_env {
                if var.is_empty() || var.contains('=') || var.contains(char::is_whitespace) {
                    return Err(ModelError::Config(format!(
                        "{at}: api_key_env = \"{var}\" must be the *name* of an environment variable (like OPENAI_API_KEY), not the key itself"
                    )));
                }
            }
        } else {
            for (key, set) in [
                ("base_url", self.base_url.is_some()),
                ("replicas", !self.replicas.is_empty()),
                ("api_key_env", self.api_key_env.is_some()),
            ] {
                if set {
                    return Err(ModelError::Config(format!(
                        "{at}: `{key}` applies only to HTTP backends; remove it, or set kind = \"openai\" to use a server"
                    )));
                }
            }
            for (key, value) in [("threads", self.threads), ("parallel", self.parallel)] {
                if value == Some(0) {
                    return Err(ModelError::Config(format!(
                        "{at}: {key} = 0 is not allowed; use at least 1 or remove it for the default"
                    )));
                }
            }
        }
        if self.ctx_size == Some(0) {
            return Err(ModelError::Config(format!(
                "{at}: ctx_size = 0 is not allowed; remove it to use the model's window"
            )));
        }
        for (key, value) in [
            ("price_in", Some(self.price_in)),
            ("price_out", Some(self.price_out)),
            ("price_cached", self.price_cached),
        ] {
            if let Some(v) = value {
                if !v.is_finite() || v < 0.0 {
                    return Err(ModelError::Config(format!(
                        "{at}: {key} = {v} must be zero or a positive number of USD per million tokens"
                    )));
                }
            }
        }
        Ok(())
    }
}

/// Prices of one backend, in USD per million tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Prices {
    /// Per million prompt tokens evaluated.
    pub input: f64,
    /// Per million generated tokens.
    pub output: f64,
    /// Per million prompt tokens served from a cache.
    pub cached: f64,
}

/// What a call is for; each task has its own failover chain in `[roles]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// Conversation with the user, planning.
    Chat,
    /// Proposing edits to code.
    Edit,
    /// Fill-in-the-middle completion at a cursor.
    Fim,
    /// Embedding text for retrieval.
    Embed,
    /// Compacting context into summaries.
    Summarize,
}

impl Task {
    /// Every task, in config order.
    pub const ALL: [Task; 5] = [Task::Chat, Task::Edit, Task::Fim, Task::Embed, Task::Summarize];

    /// The config spelling (`chat`, `edit`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Task::Chat => "chat",
            Task::Edit => "edit",
            Task::Fim => "fim",
            Task::Embed => "embed",
            Task::Summarize => "summarize",
        }
    }
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `[roles]`: for each task, the backends to try, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RolesConfig {
    /// Chain for [`Task::Chat`].
    pub chat: Vec<String>,
    /// Chain for [`Task::Edit`].
    pub edit: Vec<String>,
    /// Chain for [`Task::Fim`].
    pub fim: Vec<String>,
    /// Chain for [`Task::Embed`].
    pub embed: Vec<String>,
    /// Chain for [`Task::Summarize`].
    pub summarize: Vec<String>,
}

impl Default for RolesConfig {
    fn default() -> Self {
        let local = vec!["local".to_string()];
        Self {
            chat: local.clone(),
            edit: local.clone(),
            fim: local.clone(),
            embed: vec!["embed".to_string()],
            summarize: local,
        }
    }
}

impl RolesConfig {
    /// The chain of `task`.
    pub fn chain(&self, task: Task) -> &[String] {
        match task {
            Task::Chat => &self.chat,
            Task::Edit => &self.edit,
            Task::Fim => &self.fim,
            Task::Embed => &self.embed,
            Task::Summarize => &self.summarize,
        }
    }

    /// Replaces the failover chain for `task` (for example with one backend
    /// named on the command line).
    pub fn set_chain(&mut self, task: Task, chain: Vec<String>) {
        match task {
            Task::Chat => self.chat = chain,
            Task::Edit => self.edit = chain,
            Task::Fim => self.fim = chain,
            Task::Embed => self.embed = chain,
            Task::Summarize => self.summarize = chain,
        }
    }
}

/// `[budget]`: limits per session (per [`crate::Meter`]). Unset means no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BudgetConfig {
    /// Prompt plus generated tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    /// Cost in USD.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_cost: Option<f64>,
    /// Calls served.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_calls: Option<u64>,
}

/// `[retry]`: retries of transient errors and the per-backend circuit breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryConfig {
    /// Retries of a transient error on the same backend before failing over.
    pub max_retries: u32,
    /// First backoff delay; it doubles on each retry.
    pub base_delay_ms: u64,
    /// Longest single wait, in seconds. A `Retry-After` longer than this
    /// fails over at once instead of waiting.
    pub max_delay_secs: u64,
    /// Consecutive failures that open a backend's circuit (0: never).
    pub breaker_failures: u32,
    /// How long an open circuit skips the backend before one trial call.
    pub breaker_cooldown_secs: u64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_retries: 2,
            base_delay_ms: 250,
            max_delay_secs: 20,
            breaker_failures: 3,
            breaker_cooldown_secs: 30,
        }
    }
}

impl ModelConfig {
    /// Checks the configuration as a whole; the error names the key, the
    /// backend and what to do.
    pub fn validate(&self) -> Result<(), ModelError> {
        for (name, backend) in &self.backends {
            if name.trim().is_empty() {
                return Err(ModelError::Config(
                    "[backends] has a backend with an empty name; give it a name like [backends.local]".into(),
                ));
            }
            backend.validate(name)?;
        }
        let defined = || self.backends.keys().cloned().collect::<Vec<_>>().join(", ");
        for task in Task::ALL {
            let chain = self.roles.chain(task);
            if chain.is_empty() {
                return Err(ModelError::Config(format!(
                    "roles.{task} is empty; list at least one backend, e.g. {task} = [\"local\"]"
                )));
            }
            for (i, name) in chain.iter().enumerate() {
                let Some(backend) = self.backends.get(name) else {
                    return Err(ModelError::Config(format!(
                        "roles.{task} names backend \"{name}\", but there is no [backends.{name}]; define it or remove it from the chain (defined: {})",
                        defined()
                    )));
                };
                if chain[..i].contains(name) {
                    return Err(ModelError::Config(format!(
                        "roles.{task} lists backend \"{name}\" twice; list each backend once (retries are set under [retry])"
                    )));
                }
                if backend.kind == BackendKind::Anthropic && matches!(task, Task::Embed | Task::Fim)
                {
                    return Err(ModelError::Config(format!(
                        "roles.{task} names backend \"{name}\" (kind = \"anthropic\"), but the Anthropic API has no {}; route {task} to an embedded or OpenAI-compatible backend",
                        if task == Task::Embed { "embeddings" } else { "raw or fill-in-the-middle completion" }
                    )));
                }
            }
        }
        if let Some(cost) = self.budget.max_cost {
            if !cost.is_finite() || cost < 0.0 {
                return Err(ModelError::Config(format!(
                    "budget.max_cost = {cost} must be zero or a positive number of USD"
                )));
            }
        }
        if self.retry.max_delay_secs == 0 && self.retry.max_retries > 0 {
            return Err(ModelError::Config(
                "retry.max_delay_secs = 0 leaves no time to wait between retries; raise it or set retry.max_retries = 0".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> ModelConfig {
        toml::from_str(text).unwrap_or_else(|e| panic!("parse failed: {e}"))
    }

    fn config_error(text: &str) -> String {
        match parse(text).validate() {
            Err(ModelError::Config(message)) => message,
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn default_config_is_valid_and_uses_builtin_backends() {
        let config = ModelConfig::default();
        config.validate().unwrap();
        assert_eq!(config.backends["local"].kind, BackendKind::Embedded);
        assert_eq!(config.backends["local"].model, DEFAULT_MODEL);
        assert_eq!(config.backends["embed"].model, DEFAULT_EMBEDDING_MODEL);
        assert_eq!(config.roles.chain(Task::Chat), ["local"]);
        assert_eq!(config.roles.chain(Task::Embed), ["embed"]);
        assert_eq!(config.retry.max_retries, 2);
        assert_eq!(config.budget, BudgetConfig::default());
        // An empty file means the defaults.
        assert_eq!(parse(""), config);
    }

    #[test]
    fn parses_the_documented_example_and_ignores_other_sections() {
        let config = parse(
            r#"
            [ui]
            theme = "dark"
            [agent]
            autonomy = "edit"

            [backends.local]
            kind = "embedded"
            model = "some-model"
            ctx_size = 8192
            threads = 2
            parallel = 4
            [backends.openai]
            kind = "openai"
            base_url = "https://api.openai.com/v1"
            model = "gpt-4o-mini"
            api_key_env = "OPENAI_API_KEY"
            timeout_secs = 60
            price_in = 0.15
            price_out = 0.60
            price_cached = 0.075
            [roles]
            chat = ["openai", "local"]
            fim = ["local"]
            [budget]
            max_tokens = 2000000
            max_cost = 5.0
            max_calls = 500
            [retry]
            max_retries = 1
            base_delay_ms = 100
            breaker_failures = 5
            breaker_cooldown_secs = 10
            "#,
        );
        config.validate().unwrap();
        let local = &config.backends["local"];
        assert_eq!(
            (local.model.as_str(), local.ctx_size, local.threads, local.parallel),
            ("some-model", Some(8192), Some(2), Some(4))
        );
        // The built-in embedding backend survives when other backends are defined.
        assert_eq!(config.backends["embed"].model, DEFAULT_EMBEDDING_MODEL);
        let openai = &config.backends["openai"];
        assert_eq!(openai.kind, BackendKind::OpenAi);
        assert_eq!(openai.base_url.as_deref(), Some("https://api.openai.com/v1"));
        assert_eq!(openai.api_key_env.as_deref(), Some("OPENAI_API_KEY"));
        assert_eq!(openai.timeout_secs, 60);
        assert_eq!(openai.prices(), Prices { input: 0.15, output: 0.60, cached: 0.075 });
        assert_eq!(config.roles.chat, ["openai", "local"]);
        // Roles not given keep their defaults.
        assert_eq!(config.roles.edit, ["local"]);
        assert_eq!(config.roles.embed, ["embed"]);
        assert_eq!(config.budget.max_tokens, Some(2_000_000));
        assert_eq!(config.budget.max_cost, Some(5.0));
        assert_eq!(config.budget.max_calls, Some(500));
        assert_eq!(config.retry.max_retries, 1);
        assert_eq!(config.retry.base_delay_ms, 100);
        assert_eq!(config.retry.breaker_failures, 5);
        assert_eq!(config.retry.breaker_cooldown_secs, 10);
        assert_eq!(config.retry.max_delay_secs, RetryConfig::default().max_delay_secs);
    }

    #[test]
    fn cached_price_defaults_to_the_input_price_and_timeout_to_120s() {
        let config = parse(
            r#"
            [backends.vllm]
            kind = "openai"
            base_url = "http://127.0.0.1:8000/v1"
            model = "qwen"
            price_in = 2.0
            "#,
        );
        config.validate().unwrap();
        let vllm = &config.backends["vllm"];
        assert_eq!(vllm.prices(), Prices { input: 2.0, output: 0.0, cached: 2.0 });
        assert_eq!(vllm.timeout_secs, 120);
        assert_eq!(vllm.api_key_env, None);
    }

    #[test]
    fn round_trips_through_toml() {
        let mut config = ModelConfig::default();
        config.backends.insert(
            "claude".into(),
            BackendConfig::http(BackendKind::Anthropic, "https://api.anthropic.com/v1", "claude-x"),
        );
        config.roles.chat = vec!["claude".into(), "local".into()];
        let text = toml::to_string(&config).unwrap();
        assert_eq!(parse(&text), config);
    }

    #[test]
    fn unknown_keys_inside_model_sections_are_rejected_by_name() {
        let err = toml::from_str::<ModelConfig>(
            "[backends.x]\nkind = \"openai\"\nmodel = \"m\"\nbase_urll = \"http://h/v1\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("base_urll"), "{err}");
        let err = toml::from_str::<ModelConfig>("[roles]\nchatt = [\"local\"]\n").unwrap_err();
        assert!(err.to_string().contains("chatt"), "{err}");
    }

    #[test]
    fn rejects_a_role_naming_an_unknown_backend() {
        let msg = config_error("[roles]\nchat = [\"openai\", \"local\"]\n");
        assert!(msg.contains("roles.chat"), "{msg}");
        assert!(msg.contains("\"openai\""), "{msg}");
        assert!(msg.contains("[backends.openai]"), "{msg}");
        assert!(msg.contains("defined: embed, local"), "{msg}");
    }

    #[test]
    fn rejects_an_empty_or_repeating_chain() {
        let msg = config_error("[roles]\nedit = []\n");
        assert!(msg.contains("roles.edit is empty"), "{msg}");
        let msg = config_error("[roles]\nchat = [\"local\", \"local\"]\n");
        assert!(msg.contains("twice"), "{msg}");
    }

    #[test]
    fn rejects_http_backends_without_base_url() {
        let msg = config_error("[backends.openai]\nkind = \"openai\"\nmodel = \"gpt-4o-mini\"\n");
        assert!(msg.contains("[backends.openai]"), "{msg}");
        assert!(msg.contains("base_url"), "{msg}");
        let msg = config_error("[backends.c]\nkind = \"anthropic\"\nmodel = \"claude\"\n");
        assert!(msg.contains("https://api.anthropic.com/v1"), "{msg}");
    }

    #[test]
    fn rejects_bad_base_urls() {
        let msg = config_error(
            "[backends.o]\nkind = \"openai\"\nmodel = \"m\"\nbase_url = \"localhost:8080\"\n",
        );
        assert!(msg.contains("[backends.o]") && msg.contains("localhost:8080"), "{msg}");
        let msg = config_error(
            "[backends.o]\nkind = \"openai\"\nmodel = \"m\"\nbase_url = \"not a url\"\n",
        );
        assert!(msg.contains("not a valid URL"), "{msg}");
    }

    #[test]
    fn rejects_an_unknown_kind() {
        let msg = config_error("[backends.x]\nkind = \"gemini\"\nmodel = \"m\"\n");
        assert!(msg.contains("[backends.x]") && msg.contains("unknown kind \"gemini\""), "{msg}");
        assert!(msg.contains("\"embedded\""), "{msg}");
    }

    #[test]
    fn rejects_negative_or_invalid_prices_and_cost() {
        let base = "[backends.o]\nkind = \"openai\"\nmodel = \"m\"\nbase_url = \"http://h/v1\"\n";
        for (key, line) in [
            ("price_in", "price_in = -1.0"),
            ("price_out", "price_out = -0.5"),
            ("price_cached", "price_cached = -0.1"),
            ("price_in", "price_in = nan"),
        ] {
            let msg = config_error(&format!("{base}{line}\n"));
            assert!(msg.contains("[backends.o]") && msg.contains(key), "{msg}");
        }
        let msg = config_error("[budget]\nmax_cost = -2.0\n");
        assert!(msg.contains("budget.max_cost"), "{msg}");
    }

    #[test]
    fn rejects_keys_of_the_other_kind() {
        let msg = config_error(
            "[backends.o]\nkind = \"openai\"\nmodel = \"m\"\nbase_url = \"http://h/v1\"\nthreads = 4\n",
        );
        assert!(msg.contains("`threads` applies only to kind = \"embedded\""), "{msg}");
        let msg = config_error(
            "[backends.local]\nkind = \"embedded\"\nmodel = \"m\"\nbase_url = \"http://h\"\n",
        );
        assert!(msg.contains("`base_url` applies only to HTTP backends"), "{msg}");
        let msg =
            config_error("[backends.local]\nkind = \"embedded\"\nmodel = \"m\"\nthreads = 0\n");
        assert!(msg.contains("threads = 0"), "{msg}");
    }

    #[test]
    fn replicas_are_checked_like_base_url_and_become_one_server_each() {
        let base = "[backends.o]\nkind = \"openai\"\nmodel = \"m\"\nbase_url = \"http://h/v1\"\n";
        let msg = config_error(&format!("{base}replicas = [\"http://g/v1\", \"g:8000/v1\"]\n"));
        assert!(msg.contains("replicas \"g:8000/v1\""), "{msg}");
        let msg = config_error(
            "[backends.local]\nkind = \"embedded\"\nmodel = \"m\"\nreplicas = [\"http://g/v1\"]\n",
        );
        assert!(msg.contains("`replicas` applies only to HTTP backends"), "{msg}");
        let config: ModelConfig =
            toml::from_str(&format!("{base}replicas = [\"http://g/v1\"]\n")).unwrap();
        config.validate().unwrap();
        let servers = config.backends["o"].per_replica();
        let urls: Vec<_> = servers.iter().map(|s| s.base_url.as_deref().unwrap()).collect();
        assert_eq!(urls, ["http://h/v1", "http://g/v1"]);
        assert!(servers.iter().all(|s| s.replicas.is_empty() && s.model == "m"));
    }

    #[test]
    fn rejects_an_api_key_in_place_of_a_variable_name() {
        let msg = config_error(
            "[backends.o]\nkind = \"openai\"\nmodel = \"m\"\nbase_url = \"http://h/v1\"\napi_key_env = \"sk-abc def\"\n",
        );
        assert!(msg.contains("api_key_env") && msg.contains("name"), "{msg}");
    }

    #[test]
    fn rejects_anthropic_for_embeddings_and_fim() {
        let base = "[backends.c]\nkind = \"anthropic\"\nmodel = \"m\"\nbase_url = \"https://api.anthropic.com/v1\"\n";
        let msg = config_error(&format!("{base}[roles]\nembed = [\"c\"]\n"));
        assert!(msg.contains("roles.embed") && msg.contains("embeddings"), "{msg}");
        let msg = config_error(&format!("{base}[roles]\nfim = [\"c\"]\n"));
        assert!(msg.contains("roles.fim"), "{msg}");
        // Chat through Anthropic is fine.
        parse(&format!("{base}[roles]\nchat = [\"c\", \"local\"]\n")).validate().unwrap();
    }

    #[test]
    fn rejects_an_empty_model_and_zero_timeout() {
        let msg = config_error("[backends.local]\nkind = \"embedded\"\nmodel = \"\"\n");
        assert!(msg.contains("`model` is empty"), "{msg}");
        let msg = config_error(
            "[backends.o]\nkind = \"openai\"\nmodel = \"m\"\nbase_url = \"http://h/v1\"\ntimeout_secs = 0\n",
        );
        assert!(msg.contains("timeout_secs = 0"), "{msg}");
    }
}
