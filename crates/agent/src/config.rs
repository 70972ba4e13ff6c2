//! suit's configuration: built-in defaults and the files that override them.
//!
//! Precedence, lowest to highest:
//! 1. built-in defaults (the embedded default model for every role);
//! 2. the user file, `$XDG_CONFIG_HOME/suit/config.toml` (usually
//!    `~/.config/suit/config.toml`);
//! 3. the repository file, the nearest `suit.toml` in the starting directory
//!    or its ancestors;
//! 4. a file named explicitly (`--config`);
//! 5. command-line flags (`--model`, `--backend`), applied by the caller.
//!
//! Tables merge key by key (a later file changes only the keys it names);
//! arrays and plain values are replaced.

use std::path::{Path, PathBuf};

use suit_model::ModelConfig;

/// The merged configuration and the files it came from.
#[derive(Debug, Clone)]
pub struct Config {
    /// The model layer's part: backends, roles, budgets, retries.
    pub model: ModelConfig,
    /// The `[agent]` table: defaults for `suit run`.
    pub agent: AgentConfig,
    /// The files that were read, in precedence order.
    pub sources: Vec<PathBuf>,
}

/// `[agent]` in suit.toml: defaults for `suit run` that flags override.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AgentConfig {
    /// The slider's default position (`tab`, `edit`, `file`, `repo`, `auto`).
    pub autonomy: Option<String>,
    /// The project's checks, run after each step at `auto` (e.g. `cargo test`).
    pub checks: Vec<String>,
    /// Seconds before a check is killed.
    pub check_timeout: Option<u64>,
    /// Environment variables passed to checks besides the sandbox's
    /// allowlist (a token a test needs, say).
    pub check_env: Vec<String>,
    /// Directories checks may write besides the repository and their
    /// temporary directory (a shared build cache, say).
    pub check_writable: Vec<PathBuf>,
    /// Whether checks may use the network (off: a namespace of their own).
    pub check_network: bool,
    /// Most changed lines per step.
    pub max_step_lines: Option<usize>,
    /// Most steps per run.
    pub max_steps: Option<u32>,
}

/// Why the configuration could not be loaded. Each says what happened,
/// where, and what to do.
///
/// An underlying error is part of the message (before the `fix:` line),
/// not a [`source`](std::error::Error::source), so a renderer that prints
/// the chain does not repeat it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file named explicitly does not exist.
    #[error("config file {} does not exist\n  fix: check the --config path", .path.display())]
    Missing {
        /// The path as given.
        path: PathBuf,
    },
    /// A config file exists but cannot be read.
    #[error("cannot read config file {}: {error}\n  fix: make the file readable, or remove it", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying I/O error.
        error: std::io::Error,
    },
    /// A config file is not valid TOML.
    #[error("invalid config file {}: {}\n  fix: correct the TOML syntax at that line", .path.display(), .message.trim_end())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// What the TOML parser said, with the line and column.
        message: String,
    },
    /// The merged files are valid TOML but not a valid configuration (an
    /// unknown key, a wrong type, a role naming no backend).
    #[error("{}\n  (read from: {})\n  fix: correct that setting in the file that sets it (later files override earlier ones)", .message.trim_end(), sources(.files))]
    Invalid {
        /// The files that were merged, in precedence order (empty: the
        /// built-in defaults alone).
        files: Vec<PathBuf>,
        /// What is wrong, naming the key.
        message: String,
    },
}

/// The files a configuration was read from, for a message.
fn sources(files: &[PathBuf]) -> String {
    if files.is_empty() {
        "built-in defaults".to_string()
    } else {
        files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", ")
    }
}

/// The user's config file path (it may not exist): where `suit` looks for
/// settings that apply to every repository.
pub fn user_config_path() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("suit").join("config.toml"))
}

/// The nearest `suit.toml` in `start` or its ancestors: the repository's
/// settings, which override the user's.
pub fn repo_config_path(start: &Path) -> Option<PathBuf> {
    start.ancestors().map(|d| d.join("suit.toml")).find(|p| p.is_file())
}

/// Loads and merges the built-in defaults, the user file, the nearest
/// `suit.toml` from `cwd` upwards and `explicit` (in that order), and
/// checks the result as a whole.
pub fn load(cwd: &Path, explicit: Option<&Path>) -> Result<Config, ConfigError> {
    let mut files: Vec<PathBuf> = Vec::new();
    if let Some(user) = user_config_path().filter(|p| p.is_file()) {
        files.push(user);
    }
    if let Some(repo) = repo_config_path(cwd) {
        files.push(repo);
    }
    if let Some(path) = explicit {
        if !path.is_file() {
            return Err(ConfigError::Missing { path: path.to_path_buf() });
        }
        files.push(path.to_path_buf());
    }
    let mut merged = toml::Value::Table(toml::Table::new());
    for file in &files {
        let text = std::fs::read_to_string(file)
            .map_err(|error| ConfigError::Read { path: file.clone(), error })?;
        let value: toml::Value = toml::from_str(&text)
            .map_err(|e| ConfigError::Syntax { path: file.clone(), message: e.to_string() })?;
        merge(&mut merged, value);
    }
    let invalid = |message: String| ConfigError::Invalid { files: files.clone(), message };
    let agent: AgentConfig = match merged.get("agent") {
        Some(table) => table
            .clone()
            .try_into()
            .map_err(|e: toml::de::Error| invalid(format!("invalid [agent] table: {e}")))?,
        None => AgentConfig::default(),
    };
    let model = if files.is_empty() {
        ModelConfig::default()
    } else {
        let mut base = toml::Value::try_from(ModelConfig::default())
            .map_err(|e| invalid(format!("cannot serialize the built-in defaults: {e}")))?;
        merge(&mut base, merged);
        base.try_into()
            .map_err(|e: toml::de::Error| invalid(format!("invalid configuration: {e}")))?
    };
    model.validate().map_err(|e| invalid(e.to_string()))?;
    Ok(Config { model, agent, sources: files })
}

/// Deep-merges `over` into `base`: tables key by key, everything else replaced.
fn merge(base: &mut toml::Value, over: toml::Value) {
    match (base, over) {
        (toml::Value::Table(base), toml::Value::Table(over)) => {
            for (key, value) in over {
                match base.get_mut(&key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (base, over) => *base = over,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_merge_and_values_replace() {
        let mut base: toml::Value =
            toml::from_str("[a]\nx = 1\ny = [1, 2]\n[b]\nz = \"keep\"").unwrap();
        let over: toml::Value = toml::from_str("[a]\ny = [3]\nw = true").unwrap();
        merge(&mut base, over);
        assert_eq!(base["a"]["x"].as_integer(), Some(1));
        assert_eq!(base["a"]["y"].as_array().unwrap().len(), 1);
        assert_eq!(base["a"]["w"].as_bool(), Some(true));
        assert_eq!(base["b"]["z"].as_str(), Some("keep"));
    }

    #[test]
    fn the_nearest_suit_toml_then_the_explicit_file_win() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("src").join("deep");
        std::fs::create_dir_all(&nested).unwrap();
        let repo = dir.path().join("suit.toml");
        std::fs::write(&repo, "[agent]\nmax_steps = 3\nchecks = [\"make test\"]\n").unwrap();
        let explicit = dir.path().join("other.toml");
        std::fs::write(&explicit, "[agent]\nmax_steps = 5\n").unwrap();

        let config = load(&nested, None).unwrap();
        assert_eq!(config.agent.max_steps, Some(3));
        assert_eq!(config.sources.last(), Some(&repo));

        let config = load(&nested, Some(&explicit)).unwrap();
        assert_eq!(config.agent.max_steps, Some(5), "the explicit file is read last");
        assert_eq!(config.agent.checks, ["make test"], "keys it does not name are kept");
        assert_eq!(config.sources[config.sources.len() - 2..], [repo.clone(), explicit.clone()]);
    }

    #[test]
    fn errors_name_the_file_and_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.toml");
        let err = load(dir.path(), Some(&missing)).unwrap_err();
        assert!(matches!(err, ConfigError::Missing { .. }), "{err}");
        assert!(err.to_string().contains("fix: check the --config path"), "{err}");

        std::fs::write(dir.path().join("suit.toml"), "[agent\n").unwrap();
        let err = load(dir.path(), None).unwrap_err();
        assert!(matches!(err, ConfigError::Syntax { .. }), "{err}");
        assert!(err.to_string().contains("suit.toml") && err.to_string().contains("fix:"));

        std::fs::write(dir.path().join("suit.toml"), "[agent]\nmax_stepz = 1\n").unwrap();
        let err = load(dir.path(), None).unwrap_err();
        assert!(matches!(err, ConfigError::Invalid { .. }), "{err}");
        assert!(err.to_string().contains("max_stepz") && err.to_string().contains("suit.toml"));
    }
}
