//! API keys of `suit serve`: named secrets with limits and usage, stored
//! hashed.
//!
//! A secret is [`KEY_PREFIX`] followed by 32 bytes (256 bits) from the
//! operating system's random source, in base64url: 48 characters such as
//! `suit-Qx3…`. The store keeps only its SHA-256. [`ApiKeys::add`] returns
//! the secret once; nothing can show it again. A presented secret is found
//! by its hash ([`ApiKeys::verify`]).
//!
//! Removing a key ([`ApiKeys::remove`]) revokes it: requests with it are
//! refused from then on, its usage is kept, and its name is free again.
//!
//! ```
//! use suit_store::{ApiKeys, KeyLimits, KeyUsage};
//!
//! # fn main() -> Result<(), suit_store::Error> {
//! # let dir = tempfile::tempdir().unwrap();
//! let keys = ApiKeys::open(&dir.path().join("keys.db"))?;
//! let limits = KeyLimits { max_tokens: Some(10_000), ..KeyLimits::default() };
//! let (key, secret) = keys.add("ci-bot", limits)?;
//! // Shown once: hand `secret.expose()` to the client now.
//! let found = keys.verify(secret.expose())?.expect("the new key is valid");
//! assert_eq!(found.name, "ci-bot");
//! keys.record(key.id, &KeyUsage { requests: 1, prompt_tokens: 40, completion_tokens: 12, cost_usd: 0.0 })?;
//! assert_eq!(keys.list(false)?[0].usage.tokens(), 52);
//! keys.remove("ci-bot")?;
//! assert!(keys.verify(secret.expose())?.is_none());
//! # Ok(())
//! # }
//! ```

use std::path::Path;

use base64::Engine as _;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::sqlite::{now_ms, SqliteStore};

/// The start of every secret `suit keys add` makes, so that a leaked one is
/// recognisable (by people and by secret scanners).
pub const KEY_PREFIX: &str = "suit-";

/// Random bytes in a secret.
const SECRET_BYTES: usize = 32;

/// Longest key name.
const MAX_NAME_LEN: usize = 64;

/// A key's limits; `None` is no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct KeyLimits {
    /// Most tokens (prompt plus generated) the key may use in all.
    pub max_tokens: Option<u64>,
    /// Most USD the key may spend in all, at the served backends' prices.
    pub max_cost_usd: Option<f64>,
    /// Most requests in any 60 seconds.
    pub rpm: Option<u32>,
}

impl KeyLimits {
    /// Refuses zero, negative and non-finite limits.
    fn check(&self) -> Result<()> {
        if self.max_tokens == Some(0) {
            return Err(limit_error("max_tokens", "0", "a key without tokens can do nothing"));
        }
        if let Some(cost) = self.max_cost_usd {
            if !cost.is_finite() || cost <= 0.0 {
                return Err(limit_error(
                    "max_cost",
                    &cost.to_string(),
                    "the cost limit must be a positive number of USD",
                ));
            }
        }
        if self.rpm == Some(0) {
            return Err(limit_error("rpm", "0", "a key allowed no requests can do nothing"));
        }
        Ok(())
    }
}

fn limit_error(limit: &'static str, value: &str, reason: &'static str) -> Error {
    Error::InvalidKeyLimit { limit, value: value.to_string(), reason }
}

/// What a key has used, or an amount to add to it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct KeyUsage {
    /// Requests served.
    pub requests: u64,
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Generated tokens.
    pub completion_tokens: u64,
    /// Cost in USD at the served backends' prices (0 for a free local model).
    pub cost_usd: f64,
}

impl KeyUsage {
    /// Prompt plus generated tokens.
    pub fn tokens(&self) -> u64 {
        self.prompt_tokens + self.completion_tokens
    }
}

/// A stored key: its name, limits and usage (never its secret).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiKey {
    /// Its id in the store (names are reused after a removal; ids are not).
    pub id: i64,
    /// Its name, unique among the keys not removed.
    pub name: String,
    /// Creation time, milliseconds since the Unix epoch.
    pub created_ms: i64,
    /// When it was removed, if it was.
    pub revoked_ms: Option<i64>,
    /// When a request with it last recorded usage.
    pub last_used_ms: Option<i64>,
    /// Its limits.
    pub limits: KeyLimits,
    /// What it has used.
    pub usage: KeyUsage,
}

/// A total limit a key has used up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Quota {
    /// `max_tokens` reached.
    Tokens {
        /// The limit.
        max: u64,
        /// Tokens used.
        used: u64,
    },
    /// `max_cost` reached.
    Cost {
        /// The limit, USD.
        max: f64,
        /// USD spent.
        used: f64,
    },
}

impl ApiKey {
    /// The first total limit (tokens, then cost) this key has used up, if
    /// any. (`rpm` is a rate, kept by the server, not a total.)
    pub fn exhausted(&self) -> Option<Quota> {
        let usage = &self.usage;
        if let Some(max) = self.limits.max_tokens.filter(|&max| usage.tokens() >= max) {
            return Some(Quota::Tokens { max, used: usage.tokens() });
        }
        if let Some(max) = self.limits.max_cost_usd.filter(|&max| usage.cost_usd >= max) {
            return Some(Quota::Cost { max, used: usage.cost_usd });
        }
        None
    }
}

/// A new key's secret. It is returned once; its `Debug` does not show it.
pub struct Secret(String);

impl Secret {
    /// The secret itself, for the one time it is shown.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({KEY_PREFIX}…)")
    }
}

/// The API keys in one database file (a user-level file, not a
/// repository's; `suit keys` and `suit serve` share it). Safe to share
/// between threads; several processes may open the same file, and a key
/// removed by one is refused by the others at their next request.
#[derive(Debug)]
pub struct ApiKeys {
    store: SqliteStore,
}

const KEY_COLS: &str = "k.id, k.name, k.created_ms, k.revoked_ms, u.last_used_ms, k.max_tokens,
     k.max_cost_usd, k.rpm, u.requests, u.prompt_tokens, u.completion_tokens, u.cost_usd";
const KEY_FROM: &str = "api_keys k JOIN api_key_usage u ON u.key_id = k.id";

fn key_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ApiKey> {
    Ok(ApiKey {
        id: r.get(0)?,
        name: r.get(1)?,
        created_ms: r.get(2)?,
        revoked_ms: r.get(3)?,
        last_used_ms: r.get(4)?,
        limits: KeyLimits {
            max_tokens: r.get::<_, Option<i64>>(5)?.map(|v| v.max(0) as u64),
            max_cost_usd: r.get(6)?,
            rpm: r.get::<_, Option<i64>>(7)?.map(|v| v.clamp(0, u32::MAX as i64) as u32),
        },
        usage: KeyUsage {
            requests: r.get::<_, i64>(8)?.max(0) as u64,
            prompt_tokens: r.get::<_, i64>(9)?.max(0) as u64,
            completion_tokens: r.get::<_, i64>(10)?.max(0) as u64,
            cost_usd: r.get(11)?,
        },
    })
}

/// The active key named `name`.
fn active(c: &Connection, name: &str) -> rusqlite::Result<Option<ApiKey>> {
    c.query_row(
        &format!("SELECT {KEY_COLS} FROM {KEY_FROM} WHERE k.name = ?1 AND k.revoked_ms IS NULL"),
        [name],
        key_row,
    )
    .optional()
}

/// The names of the active keys, sorted.
fn active_names(c: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt = c.prepare("SELECT name FROM api_keys WHERE revoked_ms IS NULL ORDER BY name")?;
    let names = stmt.query_map([], |r| r.get(0))?;
    names.collect()
}

/// Saturating conversion for SQLite's signed integers.
fn sql_int(v: u64) -> i64 {
    v.min(i64::MAX as u64) as i64
}

/// Checks a key name: 1 to 64 ASCII letters, digits, `-`, `_`, `.`.
fn check_name(name: &str) -> Result<()> {
    let reason = if name.is_empty() {
        Some("it is empty")
    } else if name.len() > MAX_NAME_LEN {
        Some("it is longer than 64 characters")
    } else if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
        Some("it has characters other than letters, digits, `-`, `_` and `.`")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(Error::InvalidKeyName { name: name.to_string(), reason }),
        None => Ok(()),
    }
}

/// A fresh secret: the prefix and 32 random bytes in base64url.
fn new_secret() -> Result<Secret> {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| Error::Random(e.to_string()))?;
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    Ok(Secret(format!("{KEY_PREFIX}{encoded}")))
}

fn hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

impl ApiKeys {
    /// Opens (creating it and its directory if needed) the key database at
    /// `path`, migrating an older schema.
    pub fn open(path: &Path) -> Result<Self> {
        Ok(Self { store: SqliteStore::open(path)? })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        self.store.path()
    }

    /// Adds a key named `name` with `limits`, and returns it with its
    /// secret: the only time the secret is available.
    pub fn add(&self, name: &str, limits: KeyLimits) -> Result<(ApiKey, Secret)> {
        check_name(name)?;
        limits.check()?;
        let secret = new_secret()?;
        let digest = hash(secret.expose());
        let created_ms = now_ms();
        let added = self.store.write(|tx| {
            if active(tx, name)?.is_some() {
                return Ok(None);
            }
            tx.execute(
                "INSERT INTO api_keys (name, secret_sha256, created_ms, max_tokens, max_cost_usd, rpm)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    name,
                    digest.as_slice(),
                    created_ms,
                    limits.max_tokens.map(sql_int),
                    limits.max_cost_usd,
                    limits.rpm
                ],
            )?;
            let id = tx.last_insert_rowid();
            tx.execute("INSERT INTO api_key_usage (key_id) VALUES (?1)", [id])?;
            Ok(Some(id))
        })?;
        let Some(id) = added else {
            return Err(Error::KeyExists { name: name.to_string(), path: self.path().into() });
        };
        let key = ApiKey {
            id,
            name: name.to_string(),
            created_ms,
            revoked_ms: None,
            last_used_ms: None,
            limits,
            usage: KeyUsage::default(),
        };
        Ok((key, secret))
    }

    /// The keys, by name: the active ones, and the removed ones too when
    /// `include_removed`.
    pub fn list(&self, include_removed: bool) -> Result<Vec<ApiKey>> {
        let filter = if include_removed { "" } else { "WHERE k.revoked_ms IS NULL" };
        self.store.read(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {KEY_COLS} FROM {KEY_FROM} {filter} ORDER BY k.name, k.id"
            ))?;
            let rows = stmt.query_map([], key_row)?;
            rows.collect()
        })
    }

    /// Whether any key is active (not removed).
    pub fn has_keys(&self) -> Result<bool> {
        self.store.read(|c| {
            c.query_row(
                "SELECT EXISTS (SELECT 1 FROM api_keys WHERE revoked_ms IS NULL)",
                [],
                |r| r.get(0),
            )
        })
    }

    /// Removes (revokes) the key named `name` and returns it; its usage is
    /// kept. [`Error::KeyNotFound`] names the keys that exist.
    pub fn remove(&self, name: &str) -> Result<ApiKey> {
        let now = now_ms();
        self.change(name, |tx, key| {
            tx.execute("UPDATE api_keys SET revoked_ms = ?2 WHERE id = ?1", params![key.id, now])?;
            key.revoked_ms = Some(now);
            Ok(())
        })
    }

    /// Replaces the limits of the key named `name` and returns it.
    pub fn set_limits(&self, name: &str, limits: KeyLimits) -> Result<ApiKey> {
        limits.check()?;
        self.change(name, |tx, key| {
            tx.execute(
                "UPDATE api_keys SET max_tokens = ?2, max_cost_usd = ?3, rpm = ?4 WHERE id = ?1",
                params![key.id, limits.max_tokens.map(sql_int), limits.max_cost_usd, limits.rpm],
            )?;
            key.limits = limits;
            Ok(())
        })
    }

    /// Applies `f` to the active key named `name`, in one transaction.
    fn change(
        &self,
        name: &str,
        f: impl FnOnce(&rusqlite::Transaction<'_>, &mut ApiKey) -> rusqlite::Result<()>,
    ) -> Result<ApiKey> {
        let changed = self.store.write(|tx| match active(tx, name)? {
            Some(mut key) => {
                f(tx, &mut key)?;
                Ok(Ok(key))
            }
            None => Ok(Err(active_names(tx)?)),
        })?;
        changed.map_err(|existing| Error::KeyNotFound {
            name: name.to_string(),
            existing,
            path: self.path().into(),
        })
    }

    /// The active key whose secret is `secret`, with its usage so far, or
    /// `None` (unknown, removed, or not a suit key). The secret is found by
    /// its SHA-256; no secret is stored or compared.
    pub fn verify(&self, secret: &str) -> Result<Option<ApiKey>> {
        if !secret.starts_with(KEY_PREFIX) {
            return Ok(None);
        }
        let digest = hash(secret);
        self.store.read(|c| {
            c.query_row(
                &format!(
                    "SELECT {KEY_COLS} FROM {KEY_FROM}
                     WHERE k.secret_sha256 = ?1 AND k.revoked_ms IS NULL"
                ),
                [digest.as_slice()],
                key_row,
            )
            .optional()
        })
    }

    /// Adds `usage` to the key with id `id` (a removed key too: a request
    /// admitted before the removal still counts) and sets its last use.
    pub fn record(&self, id: i64, usage: &KeyUsage) -> Result<()> {
        let cost = if usage.cost_usd.is_finite() { usage.cost_usd.max(0.0) } else { 0.0 };
        self.store.write(|tx| {
            tx.execute(
                "UPDATE api_key_usage SET requests = requests + ?2,
                   prompt_tokens = prompt_tokens + ?3, completion_tokens = completion_tokens + ?4,
                   cost_usd = cost_usd + ?5, last_used_ms = ?6
                 WHERE key_id = ?1",
                params![
                    id,
                    sql_int(usage.requests),
                    sql_int(usage.prompt_tokens),
                    sql_int(usage.completion_tokens),
                    cost,
                    now_ms()
                ],
            )?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sqlite::{MIGRATIONS, SCHEMA_VERSION};
    use crate::{NewSession, Store};

    fn open() -> (tempfile::TempDir, ApiKeys) {
        let dir = tempfile::tempdir().unwrap();
        let keys = ApiKeys::open(&dir.path().join("user").join("keys.db")).unwrap();
        (dir, keys)
    }

    #[test]
    fn add_returns_a_prefixed_high_entropy_secret_that_is_stored_only_hashed() {
        let (dir, keys) = open();
        let (key, secret) = keys.add("alice", KeyLimits::default()).unwrap();
        let text = secret.expose();
        assert!(text.starts_with(KEY_PREFIX), "{text}");
        let body = &text[KEY_PREFIX.len()..];
        let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(body).unwrap();
        assert_eq!(decoded.len(), 32);
        assert!(!format!("{secret:?}").contains(body));
        let (_, other) = keys.add("bob", KeyLimits::default()).unwrap();
        assert_ne!(other.expose(), text, "secrets are random");
        drop(keys);
        // Neither the secret nor its base64 body is anywhere in the files.
        for entry in std::fs::read_dir(dir.path().join("user")).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            assert!(!bytes.windows(body.len()).any(|w| w == body.as_bytes()));
        }
        let raw = Connection::open(dir.path().join("user").join("keys.db")).unwrap();
        let stored: Vec<u8> = raw
            .query_row("SELECT secret_sha256 FROM api_keys WHERE id = ?1", [key.id], |r| r.get(0))
            .unwrap();
        assert_eq!(stored, hash(text).to_vec());
    }

    #[test]
    fn a_duplicate_name_is_refused_and_names_are_checked() {
        let (_dir, keys) = open();
        keys.add("alice", KeyLimits::default()).unwrap();
        let err = keys.add("alice", KeyLimits::default()).unwrap_err();
        assert!(matches!(&err, Error::KeyExists { name, .. } if name == "alice"), "{err}");
        assert!(err.to_string().contains("suit keys rm alice"), "{err}");
        for bad in ["", "has space", "semi;colon", &"x".repeat(65), "naïve"] {
            let err = keys.add(bad, KeyLimits::default()).unwrap_err();
            assert!(matches!(err, Error::InvalidKeyName { .. }), "{bad:?}: {err}");
        }
        let zero = KeyLimits { rpm: Some(0), ..KeyLimits::default() };
        assert!(matches!(keys.add("z", zero), Err(Error::InvalidKeyLimit { limit: "rpm", .. })));
        let nan = KeyLimits { max_cost_usd: Some(f64::NAN), ..KeyLimits::default() };
        assert!(matches!(
            keys.add("z", nan),
            Err(Error::InvalidKeyLimit { limit: "max_cost", .. })
        ));
        assert_eq!(keys.list(false).unwrap().len(), 1);
    }

    #[test]
    fn verify_accepts_the_right_secret_only() {
        let (_dir, keys) = open();
        let limits = KeyLimits { max_tokens: Some(5), max_cost_usd: Some(0.5), rpm: Some(3) };
        let (key, secret) = keys.add("alice", limits).unwrap();
        let found = keys.verify(secret.expose()).unwrap().unwrap();
        assert_eq!(found, key);
        let mut wrong = secret.expose().to_string();
        let last = wrong.pop().unwrap();
        wrong.push(if last == 'A' { 'B' } else { 'A' });
        assert!(keys.verify(&wrong).unwrap().is_none());
        assert!(keys.verify("").unwrap().is_none());
        assert!(keys.verify(&secret.expose()[KEY_PREFIX.len()..]).unwrap().is_none());
    }

    #[test]
    fn a_removed_key_is_refused_keeps_its_usage_and_frees_its_name() {
        let (_dir, keys) = open();
        let (key, secret) = keys.add("alice", KeyLimits::default()).unwrap();
        keys.add("bob", KeyLimits::default()).unwrap();
        keys.record(key.id, &KeyUsage { requests: 1, prompt_tokens: 3, ..KeyUsage::default() })
            .unwrap();
        let removed = keys.remove("alice").unwrap();
        assert!(removed.revoked_ms.is_some());
        assert!(keys.verify(secret.expose()).unwrap().is_none());
        assert_eq!(keys.list(false).unwrap().iter().map(|k| &k.name).collect::<Vec<_>>(), ["bob"]);
        let all = keys.list(true).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].usage.prompt_tokens, 3, "usage survives the removal");
        let err = keys.remove("alice").unwrap_err();
        match &err {
            Error::KeyNotFound { name, existing, .. } => {
                assert_eq!(name, "alice");
                assert_eq!(existing, &["bob".to_string()]);
            }
            other => panic!("{other}"),
        }
        assert!(err.to_string().contains("the keys are: bob"), "{err}");
        let (again, _) = keys.add("alice", KeyLimits::default()).unwrap();
        assert_ne!(again.id, key.id);
        assert_eq!(keys.list(false).unwrap()[0].usage, KeyUsage::default());
        keys.remove("alice").unwrap();
        keys.remove("bob").unwrap();
        assert!(!keys.has_keys().unwrap());
        let none = keys.remove("carol").unwrap_err().to_string();
        assert!(none.contains("there are no keys"), "{none}");
    }

    #[test]
    fn usage_accumulates_and_exhausts_the_limits() {
        let (_dir, keys) = open();
        let limits = KeyLimits { max_tokens: Some(100), max_cost_usd: Some(0.01), rpm: None };
        let (key, secret) = keys.add("alice", limits).unwrap();
        assert!(keys.has_keys().unwrap());
        let one =
            KeyUsage { requests: 1, prompt_tokens: 30, completion_tokens: 10, cost_usd: 0.002 };
        keys.record(key.id, &one).unwrap();
        keys.record(key.id, &one).unwrap();
        let now = keys.verify(secret.expose()).unwrap().unwrap();
        assert_eq!(now.usage.requests, 2);
        assert_eq!(now.usage.prompt_tokens, 60);
        assert_eq!(now.usage.completion_tokens, 20);
        assert!((now.usage.cost_usd - 0.004).abs() < 1e-12);
        assert!(now.last_used_ms.is_some());
        assert_eq!(now.exhausted(), None);
        keys.record(key.id, &one).unwrap();
        let over = keys.verify(secret.expose()).unwrap().unwrap();
        assert_eq!(over.exhausted(), Some(Quota::Tokens { max: 100, used: 120 }));
        let raised = KeyLimits { max_tokens: Some(1_000), ..limits };
        assert_eq!(keys.set_limits("alice", raised).unwrap().limits, raised);
        keys.record(key.id, &KeyUsage { cost_usd: 0.01, ..KeyUsage::default() }).unwrap();
        let broke = keys.verify(secret.expose()).unwrap().unwrap();
        assert!(matches!(broke.exhausted(), Some(Quota::Cost { max, .. }) if max == 0.01));
    }

    #[test]
    fn a_database_of_the_previous_schema_is_migrated_and_keeps_its_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.db");
        {
            // A version-1 database, as the previous suit wrote it.
            let raw = Connection::open(&path).unwrap();
            raw.execute_batch(MIGRATIONS[0]).unwrap();
            raw.pragma_update(None, "user_version", 1).unwrap();
            raw.pragma_update(None, "application_id", 0x5355_4954).unwrap();
            raw.execute(
                "INSERT INTO sessions (task, repo_root, autonomy, created_ms, status)
                 VALUES ('old task', '/r', 'edit', 1, 'done')",
                [],
            )
            .unwrap();
        }
        let keys = ApiKeys::open(&path).unwrap();
        assert!(!keys.has_keys().unwrap());
        let (_, secret) = keys.add("alice", KeyLimits::default()).unwrap();
        assert!(keys.verify(secret.expose()).unwrap().is_some());
        drop(keys);
        let raw = Connection::open(&path).unwrap();
        let version: i64 = raw.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        assert_eq!(SCHEMA_VERSION, 2);
        drop(raw);
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.sessions("/r").unwrap()[0].task, "old task");
        let id = store
            .create_session(&NewSession {
                task: "new".into(),
                repo_root: "/r".into(),
                autonomy: "edit".into(),
            })
            .unwrap();
        assert!(id > 1);
    }
}
