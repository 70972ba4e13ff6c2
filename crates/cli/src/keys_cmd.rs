//! `suit keys`: the named API keys `suit serve` accepts: add (the secret is
//! printed once), list (limits and usage, never a secret), set limits, rm.
//!
//! Keys live in a user-level database (not a repository's), shared by
//! `suit keys` and `suit serve`: `--keys PATH`, else `SUIT_KEYS`, else
//! `$SUIT_HOME/keys.db`, else `keys.db` in the user's data directory
//! (`~/.local/share/suit` on Linux, `~/Library/Application Support/suit`
//! on macOS).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use suit_store::{ApiKey, ApiKeys, KeyLimits};

/// `suit keys` arguments.
#[derive(Args)]
pub struct KeysArgs {
    /// The key database (default: $SUIT_HOME/keys.db, else keys.db in the
    /// user data directory's `suit` folder).
    #[arg(long, env = "SUIT_KEYS", value_name = "PATH", global = true)]
    keys: Option<PathBuf>,
    #[command(subcommand)]
    command: KeysCommand,
}

/// The `suit keys` subcommands.
#[derive(Subcommand)]
enum KeysCommand {
    /// Add a key and print its secret (shown this once only).
    Add {
        /// The key's name: letters, digits, `-`, `_`, `.` (e.g. `ci-bot`).
        name: String,
        /// Most tokens (prompt plus generated) the key may use in all.
        #[arg(long, value_name = "N")]
        max_tokens: Option<u64>,
        /// Most USD the key may spend in all, at the backends' prices.
        #[arg(long, value_name = "USD")]
        max_cost: Option<f64>,
        /// Most requests per minute.
        #[arg(long, value_name = "N")]
        rpm: Option<u32>,
    },
    /// List the keys: name, limits, usage, creation (never a secret).
    List {
        /// Include removed keys (their usage is kept).
        #[arg(long)]
        all: bool,
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Change a key's limits; `none` removes a limit.
    Set {
        /// The key's name.
        name: String,
        /// Most tokens in all, or `none`.
        #[arg(long, value_name = "N|none", value_parser = change::<u64>)]
        max_tokens: Option<Change<u64>>,
        /// Most USD in all, or `none`.
        #[arg(long, value_name = "USD|none", value_parser = change::<f64>)]
        max_cost: Option<Change<f64>>,
        /// Most requests per minute, or `none`.
        #[arg(long, value_name = "N|none", value_parser = change::<u32>)]
        rpm: Option<Change<u32>>,
    },
    /// Remove a key: requests with it are refused from then on.
    Rm {
        /// The key's name.
        name: String,
    },
}

/// A new value for a limit, or `none`.
#[derive(Debug, Clone, Copy)]
enum Change<T> {
    Set(T),
    Clear,
}

impl<T: Copy> Change<T> {
    fn apply(change: Option<Self>, current: Option<T>) -> Option<T> {
        match change {
            None => current,
            Some(Change::Set(value)) => Some(value),
            Some(Change::Clear) => None,
        }
    }
}

fn change<T: FromStr>(text: &str) -> Result<Change<T>, String> {
    if text.eq_ignore_ascii_case("none") {
        return Ok(Change::Clear);
    }
    text.parse().map(Change::Set).map_err(|_| format!("`{text}` is not a number or `none`"))
}

/// Where the keys live: `explicit` (`--keys` or `SUIT_KEYS`), else
/// `$SUIT_HOME/keys.db`, else `<data dir>/suit/keys.db`.
pub fn keys_path(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(path) = explicit.filter(|p| !p.as_os_str().is_empty()) {
        return Ok(path.to_path_buf());
    }
    if let Some(home) = std::env::var_os("SUIT_HOME").filter(|h| !h.is_empty()) {
        return Ok(PathBuf::from(home).join("keys.db"));
    }
    dirs::data_dir().map(|d| d.join("suit").join("keys.db")).context(
        "no place for the key store: the user data directory is unknown\n  fix: pass --keys PATH (or set SUIT_KEYS or SUIT_HOME)",
    )
}

/// Runs `suit keys`.
pub fn run(args: KeysArgs) -> Result<ExitCode> {
    let path = keys_path(args.keys.as_deref())?;
    match args.command {
        KeysCommand::Add { name, max_tokens, max_cost, rpm } => {
            let keys = open(&path)?;
            let limits = KeyLimits { max_tokens, max_cost_usd: max_cost, rpm };
            let (key, secret) = keys.add(&name, limits)?;
            eprintln!(
                "added API key `{}` ({}) to {}",
                key.name,
                describe_limits(&key.limits),
                path.display()
            );
            println!("{}", secret.expose());
            eprintln!(
                "This secret is shown now and will not be shown again (only its hash is \
                 stored): save it. Clients send it as `Authorization: Bearer <secret>`; \
                 `suit serve` now requires a key."
            );
        }
        KeysCommand::List { all, json } => {
            let keys = if path.exists() { open(&path)?.list(all)? } else { Vec::new() };
            if json {
                println!("{}", serde_json::to_string_pretty(&keys)?);
            } else if keys.is_empty() {
                eprintln!("no API keys in {} (add one with `suit keys add NAME`)", path.display());
            } else {
                print!("{}", table(&keys));
            }
        }
        KeysCommand::Set { name, max_tokens, max_cost, rpm } => {
            let keys = open_existing(&path, &name)?;
            let current = keys
                .list(false)?
                .into_iter()
                .find(|k| k.name == name)
                .map(|k| k.limits)
                .unwrap_or_default();
            let limits = KeyLimits {
                max_tokens: Change::apply(max_tokens, current.max_tokens),
                max_cost_usd: Change::apply(max_cost, current.max_cost_usd),
                rpm: Change::apply(rpm, current.rpm),
            };
            let key = keys.set_limits(&name, limits)?;
            eprintln!("API key `{}` now has {}", key.name, describe_limits(&key.limits));
        }
        KeysCommand::Rm { name } => {
            let key = open_existing(&path, &name)?.remove(&name)?;
            eprintln!(
                "removed API key `{}`: requests with it are refused from now on (by a running \
                 `suit serve` too); its usage stays in `suit keys list --all`",
                key.name
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn open(path: &Path) -> Result<ApiKeys> {
    ApiKeys::open(path).with_context(|| format!("cannot open the key store {}", path.display()))
}

/// Opens the store for a command on the key `name`, without creating it.
fn open_existing(path: &Path, name: &str) -> Result<ApiKeys> {
    if !path.exists() {
        anyhow::bail!(
            "no API key named `{name}`: the key store {} does not exist (no key was added there)\n  fix: check --keys / SUIT_KEYS, or add a key with `suit keys add NAME`",
            path.display()
        );
    }
    open(path)
}

/// `max 1000 tokens, max 2 USD, 60 requests/min`, or `no limits`.
fn describe_limits(limits: &KeyLimits) -> String {
    let mut parts = Vec::new();
    if let Some(max) = limits.max_tokens {
        parts.push(format!("max {max} tokens"));
    }
    if let Some(max) = limits.max_cost_usd {
        parts.push(format!("max {max} USD"));
    }
    if let Some(rpm) = limits.rpm {
        parts.push(format!("{rpm} requests/min"));
    }
    if parts.is_empty() {
        "no limits".to_string()
    } else {
        parts.join(", ")
    }
}

/// The keys as an aligned table.
fn table(keys: &[ApiKey]) -> String {
    let header = ["NAME", "CREATED (UTC)", "REQUESTS", "TOKENS (PROMPT+GEN)", "COST USD", "LIMITS"];
    let rows: Vec<[String; 6]> = keys
        .iter()
        .map(|k| {
            let u = &k.usage;
            let name = match k.revoked_ms {
                Some(ms) => format!("{} (removed {})", k.name, utc_minute(ms)),
                None => k.name.clone(),
            };
            [
                name,
                utc_minute(k.created_ms),
                u.requests.to_string(),
                format!("{} ({}+{})", u.tokens(), u.prompt_tokens, u.completion_tokens),
                format!("{:.6}", u.cost_usd),
                describe_limits(&k.limits),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> =
            cells.iter().zip(widths).map(|(c, w)| format!("{c:<w$}")).collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut out = line(header.to_vec());
    for row in &rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

/// `YYYY-MM-DD HH:MM` in UTC for milliseconds since the Unix epoch.
fn utc_minute(ms: i64) -> String {
    let seconds = ms.div_euclid(1000);
    let (days, of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    // Howard Hinnant's days-to-civil conversion.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}", of_day / 3600, of_day % 3600 / 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_calendar_minutes() {
        assert_eq!(utc_minute(0), "1970-01-01 00:00");
        assert_eq!(utc_minute(951_782_400_000), "2000-02-29 00:00");
        assert_eq!(utc_minute(1_767_225_599_000), "2025-12-31 23:59");
        assert_eq!(utc_minute(-60_000), "1969-12-31 23:59");
    }

    #[test]
    fn limits_are_described_and_changed() {
        assert_eq!(describe_limits(&KeyLimits::default()), "no limits");
        let all = KeyLimits { max_tokens: Some(10), max_cost_usd: Some(1.5), rpm: Some(3) };
        assert_eq!(describe_limits(&all), "max 10 tokens, max 1.5 USD, 3 requests/min");
        assert!(matches!(change::<u64>("none"), Ok(Change::Clear)));
        assert!(matches!(change::<u64>("12"), Ok(Change::Set(12))));
        assert!(change::<u64>("twelve").unwrap_err().contains("`twelve`"));
        assert_eq!(Change::apply(None, Some(4)), Some(4));
        assert_eq!(Change::apply(Some(Change::Clear), Some(4)), None);
        assert_eq!(Change::apply(Some(Change::Set(5)), None), Some(5));
    }
}
