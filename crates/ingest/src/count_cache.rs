//! A persistent cache of token counts, keyed by file content, so that
//! ingesting a tree again counts (and scans for secrets) only the files that
//! changed.
//!
//! An entry means: this text, at a path of this kind (`.env` file or not),
//! has this many tokens as shown, and has secrets or not. A text with
//! secrets is still scanned every time (to redact them and report them), only
//! not counted again. A second table maps a file's path
//! and metadata (size, modification and change times, inode) to its content
//! key, as git's index does, so that an unchanged file need not be read
//! before the digest is written; it is recorded only for files whose times
//! are older than the run by [`SETTLED`], so a file changed within one tick of
//! the clock is never mistaken for unchanged. Whatever the table says, the
//! digest shows a file only after checking that the text read has the
//! recorded content key (see `lib.rs`).
//!
//! The file starts with a fingerprint of everything a verdict depends on (the
//! secret rules, the tokenizer's identity, the crate's version); a cache written by
//! another version is ignored. A missing, unreadable or malformed cache is
//! treated as empty: the cache can make ingest faster, never wrong or failing.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use rustc_hash::FxHashMap;

use crate::Tokenizer;

const MAGIC: &[u8; 8] = b"suitcnt2";
/// Magic, fingerprint, number of count entries, number of metadata entries.
const HEADER: usize = 24;
const ENTRY: usize = 20;
const STAT_ENTRY: usize = 8 + 8 * 5 + 16;

/// Most count entries kept. Entries of the current run are kept first, then
/// older ones (4 MB at most).
const CAP: usize = 200_000;

/// Most metadata entries kept (6.4 MB at most).
const STAT_CAP: usize = 100_000;

/// How much older than the run a file's times must be for its metadata to be
/// recorded.
const SETTLED: Duration = Duration::from_secs(2);

/// A file's metadata, as far as it tells whether the file changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileStat {
    size: u64,
    mtime_ns: i64,
    ctime_ns: i64,
    ino: u64,
    dev: u64,
}

impl FileStat {
    /// The metadata of a file, where the platform reports all of it.
    pub(crate) fn of(meta: &std::fs::Metadata) -> Option<Self> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let ns = |s: i64, n: i64| s.checked_mul(1_000_000_000)?.checked_add(n);
            Some(Self {
                size: meta.size(),
                mtime_ns: ns(meta.mtime(), meta.mtime_nsec())?,
                ctime_ns: ns(meta.ctime(), meta.ctime_nsec())?,
                ino: meta.ino(),
                dev: meta.dev(),
            })
        }
        #[cfg(not(unix))]
        {
            let _ = meta;
            None
        }
    }

    /// The file's size in bytes.
    pub(crate) fn size(&self) -> u64 {
        self.size
    }
}

/// A cached count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cached {
    /// Tokens of the text as shown (secrets redacted).
    pub tokens: usize,
    /// Whether the text has secrets (so it must be scanned to be shown).
    pub secrets: bool,
}

/// The top bit of a stored count: the text has secrets.
const SECRETS: u32 = 1 << 31;

/// The content key of a clean file's text, and the metadata it had then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct StatEntry {
    stat: FileStat,
    key: u128,
}

/// Token counts of texts and the metadata table, loaded from and saved to one
/// file per tokenizer.
pub(crate) struct CountCache {
    path: Option<PathBuf>,
    fingerprint: u64,
    /// Files whose times are before this (ns since the epoch) may be recorded.
    settled_before_ns: i64,
    known: FxHashMap<u128, u32>,
    /// Entries of this run (hits and new counts).
    seen: Mutex<FxHashMap<u128, u32>>,
    /// By a hash of the file's absolute path.
    known_stats: FxHashMap<u64, StatEntry>,
    seen_stats: Mutex<FxHashMap<u64, StatEntry>>,
}

/// The key of `text` as read from the file at `rel`: what the count cache is
/// keyed by, and how a second read of a file is checked against the first.
pub(crate) fn content_key(rel: &str, text: &str) -> u128 {
    let file_name = rel.rsplit('/').next().unwrap_or(rel);
    let env = crate::secrets::is_env_file(file_name);
    xxhash_rust::xxh3::xxh3_128_with_seed(text.as_bytes(), u64::from(env))
}

fn path_key(abs: &Path) -> u64 {
    xxhash_rust::xxh3::xxh3_64(abs.as_os_str().as_encoded_bytes())
}

impl CountCache {
    /// A cache that keeps nothing.
    pub(crate) fn disabled() -> Self {
        Self {
            path: None,
            fingerprint: 0,
            settled_before_ns: i64::MIN,
            known: FxHashMap::default(),
            seen: Mutex::default(),
            known_stats: FxHashMap::default(),
            seen_stats: Mutex::default(),
        }
    }

    /// Loads the cache for `tokenizer` from `dir` (empty if there is none).
    pub(crate) fn load(dir: &Path, tokenizer: &Tokenizer) -> Self {
        let path = dir.join(format!("token-counts-{}.bin", tokenizer.cache_name()));
        let fingerprint = fingerprint(tokenizer);
        let (known, known_stats) = std::fs::read(&path)
            .ok()
            .and_then(|bytes| parse(&bytes, fingerprint))
            .unwrap_or_default();
        let settled_before_ns = SystemTime::now()
            .checked_sub(SETTLED)
            .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
            .and_then(|d| i64::try_from(d.as_nanos()).ok())
            .unwrap_or(i64::MIN);
        Self {
            path: Some(path),
            fingerprint,
            settled_before_ns,
            known,
            seen: Mutex::default(),
            known_stats,
            seen_stats: Mutex::default(),
        }
    }

    /// The count of the text with content key `key`, if it was cached.
    pub(crate) fn get(&self, key: u128) -> Option<Cached> {
        let stored = *self.known.get(&key)?;
        lock(&self.seen).insert(key, stored);
        Some(Cached { tokens: (stored & !SECRETS) as usize, secrets: stored & SECRETS != 0 })
    }

    /// Records the count of a text as shown, and whether it has secrets.
    pub(crate) fn insert(&self, key: u128, tokens: usize, secrets: bool) {
        if self.path.is_none() {
            return;
        }
        let Some(tokens) = u32::try_from(tokens).ok().filter(|t| t & SECRETS == 0) else {
            return;
        };
        lock(&self.seen).insert(key, tokens | if secrets { SECRETS } else { 0 });
    }

    /// The content key and token count of the clean file at `abs`, if its
    /// metadata is as recorded: the file need not be read to be counted.
    pub(crate) fn get_by_stat(&self, abs: &Path, stat: &FileStat) -> Option<(u128, usize)> {
        let path = path_key(abs);
        let entry = self.known_stats.get(&path).filter(|e| e.stat == *stat)?;
        let hit = self.get(entry.key).filter(|hit| !hit.secrets)?;
        lock(&self.seen_stats).insert(path, *entry);
        Some((entry.key, hit.tokens))
    }

    /// Records that the file at `abs`, with metadata `stat`, holds the clean
    /// text of `key` (ignored for a file changed too recently to be sure).
    pub(crate) fn insert_stat(&self, abs: &Path, stat: &FileStat, key: u128) {
        if self.path.is_none()
            || stat.mtime_ns >= self.settled_before_ns
            || stat.ctime_ns >= self.settled_before_ns
        {
            return;
        }
        lock(&self.seen_stats).insert(path_key(abs), StatEntry { stat: *stat, key });
    }

    /// Writes the cache back (atomically) if this run learned anything new.
    /// Failing to write only loses the speed-up, so errors are ignored.
    pub(crate) fn save(self) {
        let Some(path) = self.path else { return };
        let seen = self.seen.into_inner().unwrap_or_else(|e| e.into_inner());
        let seen_stats = self.seen_stats.into_inner().unwrap_or_else(|e| e.into_inner());
        let new_counts = seen.iter().any(|(k, v)| self.known.get(k) != Some(v));
        let new_stats = seen_stats.iter().any(|(k, v)| self.known_stats.get(k) != Some(v));
        if !new_counts && !new_stats {
            return;
        }
        let counts = newest_first(seen, self.known, CAP);
        let stats = newest_first(seen_stats, self.known_stats, STAT_CAP);
        let mut bytes =
            Vec::with_capacity(HEADER + counts.len() * ENTRY + stats.len() * STAT_ENTRY);
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&self.fingerprint.to_le_bytes());
        bytes.extend_from_slice(&(counts.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&(stats.len() as u32).to_le_bytes());
        for (key, tokens) in counts {
            bytes.extend_from_slice(&key.to_le_bytes());
            bytes.extend_from_slice(&tokens.to_le_bytes());
        }
        for (path, e) in stats {
            bytes.extend_from_slice(&path.to_le_bytes());
            bytes.extend_from_slice(&e.stat.size.to_le_bytes());
            bytes.extend_from_slice(&e.stat.mtime_ns.to_le_bytes());
            bytes.extend_from_slice(&e.stat.ctime_ns.to_le_bytes());
            bytes.extend_from_slice(&e.stat.ino.to_le_bytes());
            bytes.extend_from_slice(&e.stat.dev.to_le_bytes());
            bytes.extend_from_slice(&e.key.to_le_bytes());
        }
        let _ = write_atomically(&path, &bytes);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// This run's entries, then older ones, up to `cap`.
fn newest_first<K: Copy + Eq + std::hash::Hash, V: Copy>(
    seen: FxHashMap<K, V>,
    known: FxHashMap<K, V>,
    cap: usize,
) -> Vec<(K, V)> {
    let mut entries: Vec<(K, V)> = seen.iter().map(|(k, v)| (*k, *v)).collect();
    entries.truncate(cap);
    let room = cap - entries.len();
    entries.extend(known.into_iter().filter(|(k, _)| !seen.contains_key(k)).take(room));
    entries
}

/// Everything a cached verdict depends on, hashed.
fn fingerprint(tokenizer: &Tokenizer) -> u64 {
    let mut text = String::from(env!("CARGO_PKG_VERSION"));
    text.push('\n');
    text.push_str(&tokenizer.identity());
    for rule in crate::secrets::rule_patterns() {
        text.push('\n');
        text.push_str(rule);
    }
    xxhash_rust::xxh3::xxh3_64(text.as_bytes())
}

type Tables = (FxHashMap<u128, u32>, FxHashMap<u64, StatEntry>);

fn parse(bytes: &[u8], fingerprint: u64) -> Option<Tables> {
    let (header, body) = bytes.split_at_checked(HEADER)?;
    if &header[..8] != MAGIC || header[8..16] != fingerprint.to_le_bytes() {
        return None;
    }
    let n_counts = u32::from_le_bytes(header[16..20].try_into().ok()?) as usize;
    let n_stats = u32::from_le_bytes(header[20..24].try_into().ok()?) as usize;
    if body.len() != n_counts.checked_mul(ENTRY)? + n_stats.checked_mul(STAT_ENTRY)? {
        return None;
    }
    let (count_bytes, stat_bytes) = body.split_at(n_counts * ENTRY);
    let mut counts = FxHashMap::with_capacity_and_hasher(n_counts, Default::default());
    for entry in count_bytes.chunks_exact(ENTRY) {
        let key = u128::from_le_bytes(entry[..16].try_into().ok()?);
        let tokens = u32::from_le_bytes(entry[16..].try_into().ok()?);
        counts.insert(key, tokens);
    }
    let mut stats = FxHashMap::with_capacity_and_hasher(n_stats, Default::default());
    for e in stat_bytes.chunks_exact(STAT_ENTRY) {
        let u = |i: usize| e[i..i + 8].try_into().ok().map(u64::from_le_bytes);
        let stat = FileStat {
            size: u(8)?,
            mtime_ns: u(16)? as i64,
            ctime_ns: u(24)? as i64,
            ino: u(32)?,
            dev: u(40)?,
        };
        let key = u128::from_le_bytes(e[48..64].try_into().ok()?);
        stats.insert(u(0)?, StatEntry { stat, key });
    }
    Some((counts, stats))
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
impl CountCache {
    /// Lets every file's metadata be recorded, however recent (tests only).
    pub(crate) fn settle_everything(&mut self) {
        self.settled_before_ns = i64::MAX;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TokenizerKind;

    /// Writes `text` to `name` in `dir`; its path, metadata and content key.
    fn written(dir: &Path, name: &str, text: &str) -> (PathBuf, FileStat, u128) {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let stat = FileStat::of(&std::fs::metadata(&path).unwrap()).unwrap();
        (path, stat, content_key(name, text))
    }

    #[test]
    fn metadata_entries_survive_a_save_and_match_only_equal_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let (file, stat, key) = written(dir.path(), "a.rs", "fn a() {}\n");
        let mut cache = CountCache::load(dir.path(), &TokenizerKind::O200k.into());
        cache.settle_everything();
        cache.insert(key, 5, false);
        cache.insert_stat(&file, &stat, key);
        cache.save();
        let cache = CountCache::load(dir.path(), &TokenizerKind::O200k.into());
        assert_eq!(cache.get_by_stat(&file, &stat), Some((key, 5)));
        assert_eq!(cache.get_by_stat(&dir.path().join("b.rs"), &stat), None);
        for changed in [
            FileStat { size: stat.size + 1, ..stat },
            FileStat { mtime_ns: stat.mtime_ns + 1, ..stat },
            FileStat { ctime_ns: stat.ctime_ns + 1, ..stat },
            FileStat { ino: stat.ino + 1, ..stat },
        ] {
            assert_eq!(cache.get_by_stat(&file, &changed), None, "{changed:?}");
        }
        drop(cache);
        // A text with secrets is never taken by metadata: it must be scanned.
        let (secret, secret_stat, secret_key) = written(dir.path(), "b.rs", "KEY = '...'\n");
        let mut cache = CountCache::load(dir.path(), &TokenizerKind::O200k.into());
        cache.settle_everything();
        cache.insert(secret_key, 6, true);
        cache.insert_stat(&secret, &secret_stat, secret_key);
        cache.save();
        let cache = CountCache::load(dir.path(), &TokenizerKind::O200k.into());
        assert_eq!(cache.get(secret_key), Some(Cached { tokens: 6, secrets: true }));
        assert_eq!(cache.get_by_stat(&secret, &secret_stat), None);
    }

    #[test]
    fn files_changed_just_now_are_not_recorded_by_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let (file, stat, key) = written(dir.path(), "a.rs", "x");
        let cache = CountCache::load(dir.path(), &TokenizerKind::O200k.into());
        cache.insert(key, 1, false);
        cache.insert_stat(&file, &stat, key);
        cache.save();
        let cache = CountCache::load(dir.path(), &TokenizerKind::O200k.into());
        assert_eq!(cache.get(key).map(|c| c.tokens), Some(1), "the count is kept");
        assert_eq!(cache.get_by_stat(&file, &stat), None, "the metadata is not");
    }

    #[test]
    fn counts_survive_a_save_and_a_load() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CountCache::load(dir.path(), &TokenizerKind::O200k.into());
        assert!(cache.known.is_empty());
        let a = content_key("src/a.rs", "fn a() {}\n");
        cache.insert(a, 5, false);
        let b = content_key("src/b.rs", "let key = \"...\";\n");
        cache.insert(b, 9, true);
        cache.save();
        let cache = CountCache::load(dir.path(), &TokenizerKind::O200k.into());
        assert_eq!(cache.get(a), Some(Cached { tokens: 5, secrets: false }));
        assert_eq!(cache.get(b), Some(Cached { tokens: 9, secrets: true }));
        // Another tokenizer has its own file.
        assert!(CountCache::load(dir.path(), &TokenizerKind::Cl100k.into()).known.is_empty());
    }

    #[test]
    fn the_same_text_in_an_env_file_is_another_entry() {
        assert_ne!(content_key("a/config", "KEY=v\n"), content_key("a/.env", "KEY=v\n"));
        assert_eq!(content_key("a/x.txt", "same"), content_key("b/y.txt", "same"));
    }

    #[test]
    fn a_damaged_or_foreign_cache_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CountCache::load(dir.path(), &TokenizerKind::O200k.into());
        cache.insert(content_key("a", "text"), 1, false);
        cache.save();
        let path = dir.path().join("token-counts-o200k_base.bin");
        let good = std::fs::read(&path).unwrap();
        let mut wrong_count = good.clone();
        wrong_count[20] = 1; // claims a metadata entry it does not have
        for bad in [&good[..good.len() - 1], &good[..10], b"not a cache", &wrong_count] {
            std::fs::write(&path, bad).unwrap();
            assert!(CountCache::load(dir.path(), &TokenizerKind::O200k.into()).known.is_empty());
        }
        let mut other = good.clone();
        other[8] ^= 1; // another version's fingerprint
        std::fs::write(&path, &other).unwrap();
        assert!(CountCache::load(dir.path(), &TokenizerKind::O200k.into()).known.is_empty());
    }
}
