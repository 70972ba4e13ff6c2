//! Loading suit's configuration.
//!
//! Precedence, lowest to highest:
//! 1. built-in defaults (the embedded default model for every role);
//! 2. the user file, `$XDG_CONFIG_HOME/suit/config.toml` (usually
//!    `~/.config/suit/config.toml`);
//! 3. the repository file, the nearest `suit.toml` in the current directory or
//!    its ancestors;
//! 4. a file passed with `--config`;
//! 5. command-line flags (`--model`, `--backend`).
//!
//! Tables merge key by key (a later file changes only the keys it names);
//! arrays and plain values are replaced.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use suit_model::ModelConfig;

/// The merged configuration and the files it came from.
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
    /// Most changed lines per step.
    pub max_step_lines: Option<usize>,
    /// Most steps per run.
    pub max_steps: Option<u32>,
}

/// The user's config file path (it may not exist).
pub fn user_config_path() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("suit").join("config.toml"))
}

/// The nearest `suit.toml` in `start` or its ancestors.
pub fn repo_config_path(start: &Path) -> Option<PathBuf> {
    start.ancestors().map(|d| d.join("suit.toml")).find(|p| p.is_file())
}

/// Loads and merges the configuration files.
pub fn load(explicit: Option<&Path>) -> Result<Config> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let mut files: Vec<PathBuf> = Vec::new();
    if let Some(user) = user_config_path().filter(|p| p.is_file()) {
        files.push(user);
    }
    if let Some(repo) = repo_config_path(&cwd) {
        files.push(repo);
    }
    if let Some(path) = explicit {
        if !path.is_file() {
            anyhow::bail!(
                "config file {} does not exist\n  fix: check the --config path",
                path.display()
            );
        }
        files.push(path.to_path_buf());
    }
    let mut merged = toml::Value::Table(toml::Table::new());
    for file in &files {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read config file {}", file.display()))?;
        let value: toml::Value = toml::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "invalid config file {}: {e}  fix: correct the TOML syntax at that line",
                file.display()
            )
        })?;
        merge(&mut merged, value);
    }
    let agent: AgentConfig = match merged.get("agent") {
        Some(table) => table.clone().try_into().map_err(|e: toml::de::Error| {
            anyhow::anyhow!(
                "invalid [agent] table in {}: {e}",
                files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", ")
            )
        })?,
        None => AgentConfig::default(),
    };
    let model = if files.is_empty() {
        ModelConfig::default()
    } else {
        let mut base = toml::Value::try_from(ModelConfig::default())
            .context("cannot serialize the default config")?;
        merge(&mut base, merged);
        base.try_into().map_err(|e: toml::de::Error| {
            anyhow::anyhow!(
                "invalid configuration in {}: {e}",
                files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", ")
            )
        })?
    };
    model.validate().map_err(|e| {
        anyhow::anyhow!(
            "{e}\n  (read from: {})",
            if files.is_empty() {
                "built-in defaults".to_string()
            } else {
                files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", ")
            }
        )
    })?;
    Ok(Config { model, agent, sources: files })
}

/// `suit config`: prints the merged configuration as TOML, after a comment
/// listing the files it came from in precedence order.
pub fn show(explicit: Option<&Path>) -> Result<std::process::ExitCode> {
    let config = load(explicit)?;
    println!("# effective configuration; read from, lowest precedence first:");
    println!("#   built-in defaults");
    for source in &config.sources {
        println!("#   {}", source.display());
    }
    let user = user_config_path().map(|p| p.display().to_string()).unwrap_or_default();
    println!("# (the user file is {user}; the nearest suit.toml applies per repository)\n");
    print!("{}", toml::to_string_pretty(&config.model).context("cannot render the config")?);
    let agent = toml::to_string_pretty(&config.agent).context("cannot render the config")?;
    if !agent.trim().is_empty() {
        print!("\n[agent]\n{agent}");
    }
    Ok(std::process::ExitCode::SUCCESS)
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
}
