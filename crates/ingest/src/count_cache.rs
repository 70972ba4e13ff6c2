//! A persistent cache of token counts, keyed by file content, so that
//! ingesting a tree again counts (and scans for secrets) only the files that
//! changed.
//!
//! An entry means: this text, at a path of this kind (`.env` file or not),
//! has no secrets and this many tokens. Files with secrets are never cached,
//! so they are always scanned and redacted. The file starts with a
//! fingerprint of everything a verdict depends on (the secret rules, the
//! split patterns, the crate's version); a cache written by another version
//! is ignored. A missing, unreadable or malformed cache is treated as empty:
//! the cache can make ingest faster, never wrong or failing.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rustc_hash::FxHashMap;

use crate::TokenizerKind;

const MAGIC: &[u8; 8] = b"suitcnt1";
const HEADER: usize = 16;
const ENTRY: usize = 20;

/// Most entries kept. Entries of the current run are kept first, then older
/// ones (4 MB at most).
const CAP: usize = 200_000;

/// Token counts of clean texts, loaded from and saved to one file per tokenizer.
pub(crate) struct CountCache {
    path: Option<PathBuf>,
    fingerprint: u64,
    known: FxHashMap<u128, u32>,
    /// Entries of this run (hits and new counts).
    seen: Mutex<FxHashMap<u128, u32>>,
}

impl CountCache {
    /// A cache that keeps nothing.
    pub(crate) fn disabled() -> Self {
        Self { path: None, fingerprint: 0, known: FxHashMap::default(), seen: Mutex::default() }
    }

    /// Loads the cache for `tokenizer` from `dir` (empty if there is none).
    pub(crate) fn load(dir: &Path, tokenizer: TokenizerKind) -> Self {
        let path = dir.join(format!("token-counts-{}.bin", tokenizer.name()));
        let fingerprint = fingerprint(tokenizer);
        let known = std::fs::read(&path)
            .ok()
            .and_then(|bytes| parse(&bytes, fingerprint))
            .unwrap_or_default();
        Self { path: Some(path), fingerprint, known, seen: Mutex::default() }
    }

    /// Whether counts are cached at all (if not, keys need not be computed).
    pub(crate) fn is_enabled(&self) -> bool {
        self.path.is_some()
    }

    /// Whether the cache holds no entries (a cold run: every file is counted).
    pub(crate) fn is_empty(&self) -> bool {
        self.known.is_empty()
    }

    /// The key of `text` as read from the file at `rel`.
    pub(crate) fn key(rel: &str, text: &str) -> u128 {
        let file_name = rel.rsplit('/').next().unwrap_or(rel);
        let env = crate::secrets::is_env_file(file_name);
        xxhash_rust::xxh3::xxh3_128_with_seed(text.as_bytes(), u64::from(env))
    }

    /// The token count of a clean text, if it was cached.
    pub(crate) fn get(&self, key: u128) -> Option<usize> {
        let tokens = *self.known.get(&key)?;
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).insert(key, tokens);
        Some(tokens as usize)
    }

    /// Records the count of a text that has no secrets.
    pub(crate) fn insert(&self, key: u128, tokens: usize) {
        let Ok(tokens) = u32::try_from(tokens) else { return };
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).insert(key, tokens);
    }

    /// Writes the cache back (atomically) if this run counted anything new.
    /// Failing to write only loses the speed-up, so errors are ignored.
    pub(crate) fn save(self) {
        let Some(path) = self.path else { return };
        let seen = self.seen.into_inner().unwrap_or_else(|e| e.into_inner());
        if seen.keys().all(|k| self.known.contains_key(k)) {
            return;
        }
        let mut entries: Vec<(u128, u32)> = seen.iter().map(|(k, v)| (*k, *v)).collect();
        entries.truncate(CAP);
        let room = CAP - entries.len();
        entries.extend(
            self.known
                .iter()
                .filter(|(k, _)| !seen.contains_key(k))
                .take(room)
                .map(|(k, v)| (*k, *v)),
        );
        let mut bytes = Vec::with_capacity(HEADER + entries.len() * ENTRY);
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&self.fingerprint.to_le_bytes());
        for (key, tokens) in entries {
            bytes.extend_from_slice(&key.to_le_bytes());
            bytes.extend_from_slice(&tokens.to_le_bytes());
        }
        let _ = write_atomically(&path, &bytes);
    }
}

/// Everything a cached verdict depends on, hashed.
fn fingerprint(tokenizer: TokenizerKind) -> u64 {
    let mut text = String::from(env!("CARGO_PKG_VERSION"));
    text.push_str(tokenizer.name());
    text.push_str(crate::tokens::split_pattern(tokenizer));
    for rule in crate::secrets::rule_patterns() {
        text.push('\n');
        text.push_str(rule);
    }
    xxhash_rust::xxh3::xxh3_64(text.as_bytes())
}

fn parse(bytes: &[u8], fingerprint: u64) -> Option<FxHashMap<u128, u32>> {
    let (header, body) = bytes.split_at_checked(HEADER)?;
    if &header[..8] != MAGIC || header[8..] != fingerprint.to_le_bytes() {
        return None;
    }
    if body.len() % ENTRY != 0 {
        return None;
    }
    let mut map = FxHashMap::with_capacity_and_hasher(body.len() / ENTRY, Default::default());
    for entry in body.chunks_exact(ENTRY) {
        let key = u128::from_le_bytes(entry[..16].try_into().ok()?);
        let tokens = u32::from_le_bytes(entry[16..].try_into().ok()?);
        map.insert(key, tokens);
    }
    Some(map)
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path`.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_survive_a_save_and_a_load() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CountCache::load(dir.path(), TokenizerKind::O200k);
        assert!(cache.is_empty());
        let a = CountCache::key("src/a.rs", "fn a() {}\n");
        cache.insert(a, 5);
        cache.save();
        let cache = CountCache::load(dir.path(), TokenizerKind::O200k);
        assert_eq!(cache.get(a), Some(5));
        // Another tokenizer has its own file.
        assert!(CountCache::load(dir.path(), TokenizerKind::Cl100k).is_empty());
    }

    #[test]
    fn the_same_text_in_an_env_file_is_another_entry() {
        assert_ne!(CountCache::key("a/config", "KEY=v\n"), CountCache::key("a/.env", "KEY=v\n"));
        assert_eq!(CountCache::key("a/x.txt", "same"), CountCache::key("b/y.txt", "same"));
    }

    #[test]
    fn a_damaged_or_foreign_cache_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CountCache::load(dir.path(), TokenizerKind::O200k);
        cache.insert(CountCache::key("a", "text"), 1);
        cache.save();
        let path = dir.path().join("token-counts-o200k_base.bin");
        let good = std::fs::read(&path).unwrap();
        for bad in [&good[..good.len() - 1], &good[..10], b"not a cache".as_slice()] {
            std::fs::write(&path, bad).unwrap();
            assert!(CountCache::load(dir.path(), TokenizerKind::O200k).is_empty());
        }
        let mut other = good.clone();
        other[8] ^= 1; // another version's fingerprint
        std::fs::write(&path, &other).unwrap();
        assert!(CountCache::load(dir.path(), TokenizerKind::O200k).is_empty());
    }
}
