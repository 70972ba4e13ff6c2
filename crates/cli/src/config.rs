//! `suit config`, and the configuration as the current directory sees it.
//! The layering itself (defaults, user file, nearest `suit.toml`,
//! `--config`) is [`suit_agent::config`].

use std::path::Path;

use anyhow::{Context, Result};
use suit_agent::config::{self, Config};

/// [`config::load`] from the process's current directory (the nearest
/// `suit.toml` is looked for from there).
pub fn load_here(explicit: Option<&Path>) -> Result<Config> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    Ok(config::load(&cwd, explicit)?)
}

/// `suit config`: prints the merged configuration as TOML, after a comment
/// listing the files it came from in precedence order.
pub fn show(explicit: Option<&Path>) -> Result<std::process::ExitCode> {
    let config = load_here(explicit)?;
    println!("# effective configuration; read from, lowest precedence first:");
    println!("#   built-in defaults");
    for source in &config.sources {
        println!("#   {}", source.display());
    }
    let user = config::user_config_path().map(|p| p.display().to_string()).unwrap_or_default();
    println!("# (the user file is {user}; the nearest suit.toml applies per repository)\n");
    print!("{}", toml::to_string_pretty(&config.model).context("cannot render the config")?);
    let agent = toml::to_string_pretty(&config.agent).context("cannot render the config")?;
    if !agent.trim().is_empty() {
        print!("\n[agent]\n{agent}");
    }
    Ok(std::process::ExitCode::SUCCESS)
}
