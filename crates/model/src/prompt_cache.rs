//! A prompt cache that outlives the process: the KV state of a long prompt,
//! saved as one file per prompt in a directory per model, so the next
//! process whose prompt starts the same way restores the shared head
//! instead of evaluating it again (a second `suit run` in a repository
//! shares the system prompt and the files it shows).
//!
//! A file holds a header (the model's identity, the engine version, the
//! token count, a SHA-256 of tokens and state), the prompt's tokens and
//! llama.cpp's serialized sequence state. A file that does not match (other
//! model, other engine, truncated, corrupted) is ignored with a warning and
//! deleted; the request then evaluates its prompt as if there were no
//! cache. The directory is bounded in bytes: the least recently used files
//! go first. Files are written to a temporary name and renamed, so a
//! reader never sees half a file.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use sha2::{Digest, Sha256};

/// The engine whose state format the files hold: `llama-cpp-2` as pinned in
/// this crate's manifest (a test keeps the two the same). A file written by
/// another version is ignored.
pub(crate) const ENGINE: &str = "llama-cpp-2 =0.1.160";

const MAGIC: &[u8; 8] = b"SUITKV\x00\x01";

/// Header of a state file (JSON after the magic and a length).
#[derive(serde::Serialize, serde::Deserialize)]
struct Header {
    identity: String,
    engine: String,
    tokens: usize,
    state_bytes: u64,
    sha256: String,
}

/// A saved prompt: where it is and which tokens it holds.
struct Entry {
    path: PathBuf,
    tokens: Vec<i32>,
}

/// The saved prompts of one model, known from their headers.
pub(crate) struct PromptCache {
    dir: PathBuf,
    identity: String,
    max_bytes: u64,
    entries: Vec<Entry>,
}

impl PromptCache {
    /// The cache of the model `identity` under `root` (a subdirectory per
    /// model), holding at most `max_bytes`. Reads the headers of the files
    /// already there; unreadable ones are dropped with a warning.
    pub(crate) fn open(root: &Path, identity: &str, max_bytes: u64) -> Self {
        let key = hex(&Sha256::digest(format!("{identity}\n{ENGINE}").as_bytes())[..8]);
        let dir = root.join(key);
        let mut cache =
            Self { dir, identity: identity.to_string(), max_bytes, entries: Vec::new() };
        let Ok(listing) = fs::read_dir(&cache.dir) else { return cache };
        for item in listing.flatten() {
            let path = item.path();
            if path.extension().is_some_and(|e| e == "kv") {
                let head = File::open(&path).map_err(|e| e.to_string());
                match head.and_then(|mut file| cache.read_head(&mut file)) {
                    Ok((_, tokens)) => cache.entries.push(Entry { path, tokens }),
                    Err(why) => cache.discard(&path, &why),
                }
            }
        }
        cache
    }

    /// The saved prompt sharing the longest head with `tokens`, and how
    /// many tokens it shares.
    pub(crate) fn best(&self, tokens: &[i32]) -> Option<(usize, usize)> {
        self.entries
            .iter()
            .enumerate()
            .map(|(i, e)| (i, common(&e.tokens, tokens)))
            .max_by_key(|&(_, n)| n)
            .filter(|&(_, n)| n > 0)
    }

    /// How many tokens entry `index` holds (all of them are restored).
    pub(crate) fn tokens_of(&self, index: usize) -> usize {
        self.entries[index].tokens.len()
    }

    /// Whether exactly these tokens are saved already.
    pub(crate) fn holds(&self, tokens: &[i32]) -> bool {
        self.entries.iter().any(|e| e.tokens == tokens)
    }

    /// The tokens and state of entry `index`, checked against the header's
    /// hash. A bad file is deleted and its error returned (for a warning).
    pub(crate) fn load(&mut self, index: usize) -> Result<(Vec<i32>, Vec<u8>), String> {
        let path = self.entries[index].path.clone();
        let read = || -> Result<(Vec<i32>, Vec<u8>), String> {
            let mut file = File::open(&path).map_err(|e| e.to_string())?;
            let (header, tokens) = self.read_head(&mut file)?;
            // The state follows the tokens, to the end of the file.
            let mut state = Vec::with_capacity(header.state_bytes as usize);
            file.read_to_end(&mut state).map_err(|e| e.to_string())?;
            if hex(&digest(&tokens, &state)) != header.sha256 {
                return Err("its contents do not match their checksum".into());
            }
            Ok((tokens, state))
        };
        match read() {
            Ok(found) => {
                // Used now: the last to be evicted.
                let _ = File::options()
                    .append(true)
                    .open(&path)
                    .and_then(|f| f.set_modified(SystemTime::now()));
                Ok(found)
            }
            Err(why) => {
                self.entries.remove(index);
                self.discard(&path, &why);
                Err(format!("{}: {why}", path.display()))
            }
        }
    }

    /// Saves `state` as the state of `tokens`, then evicts the least
    /// recently used files beyond the size bound.
    pub(crate) fn save(&mut self, tokens: &[i32], state: &[u8]) -> Result<(), String> {
        if self.holds(tokens) {
            return Ok(());
        }
        fs::create_dir_all(&self.dir)
            .map_err(|e| format!("cannot create {}: {e}", self.dir.display()))?;
        let sum = digest(tokens, state);
        let path = self.dir.join(format!("{}.kv", hex(&sum[..12])));
        let header = serde_json::to_vec(&Header {
            identity: self.identity.clone(),
            engine: ENGINE.into(),
            tokens: tokens.len(),
            state_bytes: state.len() as u64,
            sha256: hex(&sum),
        })
        .map_err(|e| e.to_string())?;
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)
            .map_err(|e| format!("cannot write in {}: {e}", self.dir.display()))?;
        let write = |f: &mut File| -> std::io::Result<()> {
            f.write_all(MAGIC)?;
            f.write_all(&(header.len() as u32).to_le_bytes())?;
            f.write_all(&header)?;
            f.write_all(&token_bytes(tokens))?;
            f.write_all(state)
        };
        write(tmp.as_file_mut()).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        tmp.persist(&path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        self.entries.push(Entry { path, tokens: tokens.to_vec() });
        self.evict();
        Ok(())
    }

    /// Deletes the least recently used files until the rest fit the bound.
    fn evict(&mut self) {
        let mut files: Vec<(SystemTime, u64, usize)> = self
            .entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| {
                let meta = fs::metadata(&e.path).ok()?;
                Some((meta.modified().ok()?, meta.len(), i))
            })
            .collect();
        let mut total: u64 = files.iter().map(|f| f.1).sum();
        files.sort();
        let mut gone = Vec::new();
        // The newest file stays even when it alone is over the bound.
        for &(_, len, i) in files.iter().take(files.len().saturating_sub(1)) {
            if total <= self.max_bytes {
                break;
            }
            let _ = fs::remove_file(&self.entries[i].path);
            total -= len;
            gone.push(i);
        }
        gone.sort_unstable();
        for i in gone.into_iter().rev() {
            self.entries.remove(i);
        }
    }

    /// Reads and checks a file's header and tokens, leaving `file` at the
    /// start of its state.
    fn read_head(&self, file: &mut File) -> Result<(Header, Vec<i32>), String> {
        let mut magic = [0u8; 12];
        file.read_exact(&mut magic).map_err(|_| "it is too short to be a state file")?;
        if &magic[..8] != MAGIC {
            return Err("it is not a suit state file".into());
        }
        let header_len = u32::from_le_bytes(magic[8..12].try_into().expect("4 bytes")) as usize;
        if header_len > 1 << 16 {
            return Err("its header is too long".into());
        }
        let mut header = vec![0u8; header_len];
        file.read_exact(&mut header).map_err(|_| "its header is cut short")?;
        let header: Header =
            serde_json::from_slice(&header).map_err(|e| format!("bad header: {e}"))?;
        if header.identity != self.identity {
            return Err("it was saved by another model".into());
        }
        if header.engine != ENGINE {
            return Err(format!("it was saved by {} (this is {ENGINE})", header.engine));
        }
        let expected = (12 + header_len + 4 * header.tokens) as u64 + header.state_bytes;
        if file_len(file)? != expected {
            return Err("its length does not match its header (truncated?)".into());
        }
        let mut bytes = vec![0u8; 4 * header.tokens];
        file.read_exact(&mut bytes).map_err(|e| e.to_string())?;
        let tokens = bytes
            .chunks_exact(4)
            .map(|c| i32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect();
        Ok((header, tokens))
    }

    fn discard(&self, path: &Path, why: &str) {
        tracing::warn!(
            "prompt cache: ignoring {} ({why}); the prompt is evaluated again",
            path.display()
        );
        let _ = fs::remove_file(path);
    }
}

fn file_len(file: &File) -> Result<u64, String> {
    file.metadata().map(|m| m.len()).map_err(|e| e.to_string())
}

fn token_bytes(tokens: &[i32]) -> Vec<u8> {
    tokens.iter().flat_map(|t| t.to_le_bytes()).collect()
}

fn digest(tokens: &[i32], state: &[u8]) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(token_bytes(tokens));
    hash.update(state);
    hash.finalize().into()
}

fn common(a: &[i32], b: &[i32]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 % 251) as u8).collect()
    }

    #[test]
    fn a_saved_prompt_is_found_by_its_head_and_loaded_whole() {
        let root = tempfile::tempdir().unwrap();
        let mut cache = PromptCache::open(root.path(), "model A", 1 << 20);
        cache.save(&[1, 2, 3, 4, 5], &state(1000)).unwrap();
        let mut again = PromptCache::open(root.path(), "model A", 1 << 20);
        assert_eq!(again.best(&[1, 2, 3, 9]), Some((0, 3)));
        assert_eq!(again.best(&[7, 8]), None);
        let (tokens, bytes) = again.load(0).unwrap();
        assert_eq!((tokens, bytes), (vec![1, 2, 3, 4, 5], state(1000)));
        // Another model does not see it.
        assert_eq!(PromptCache::open(root.path(), "model B", 1 << 20).best(&[1, 2, 3]), None);
    }

    #[test]
    fn corrupted_truncated_and_foreign_files_are_ignored_and_deleted() {
        let root = tempfile::tempdir().unwrap();
        let mut cache = PromptCache::open(root.path(), "model A", 1 << 20);
        cache.save(&[1, 2, 3], &state(1000)).unwrap();
        let path = cache.entries[0].path.clone();

        // A flipped byte in the state: found by the checksum on load.
        let mut bytes = fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        fs::write(&path, &bytes).unwrap();
        let mut reopened = PromptCache::open(root.path(), "model A", 1 << 20);
        let err = reopened.load(0).unwrap_err();
        assert!(err.contains("checksum"), "{err}");
        assert!(!path.exists());
        assert_eq!(reopened.best(&[1, 2, 3]), None);

        // Truncated: dropped when the directory is read.
        cache.entries.clear();
        cache.save(&[1, 2, 3], &state(1000)).unwrap();
        let bytes = fs::read(&path).unwrap();
        fs::write(&path, &bytes[..bytes.len() - 10]).unwrap();
        assert_eq!(PromptCache::open(root.path(), "model A", 1 << 20).best(&[1, 2, 3]), None);
        assert!(!path.exists());

        // Another engine's file, and garbage with the right extension.
        cache.entries.clear();
        cache.save(&[1, 2, 3], &state(10)).unwrap();
        let path = cache.entries[0].path.clone();
        let mut bytes = fs::read(&path).unwrap();
        let at = bytes.windows(ENGINE.len()).position(|w| w == ENGINE.as_bytes()).unwrap();
        bytes[at..at + ENGINE.len()].copy_from_slice(b"llama-cpp-2 =0.0.001");
        fs::write(&path, &bytes).unwrap();
        fs::write(cache.dir.join("junk.kv"), b"not a state").unwrap();
        let reopened = PromptCache::open(root.path(), "model A", 1 << 20);
        assert!(reopened.entries.is_empty());
        assert_eq!(fs::read_dir(&cache.dir).unwrap().count(), 0);
    }

    #[test]
    fn the_least_recently_used_files_go_when_the_cache_is_full() {
        let root = tempfile::tempdir().unwrap();
        let mut cache = PromptCache::open(root.path(), "m", 2500);
        cache.save(&[1], &state(1000)).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        cache.save(&[2], &state(1000)).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let first = cache.best(&[1]).unwrap().0;
        cache.load(first).unwrap(); // [1] is now the most recently used
        std::thread::sleep(std::time::Duration::from_millis(20));
        cache.save(&[3], &state(1000)).unwrap();
        let kept: Vec<Vec<i32>> = cache.entries.iter().map(|e| e.tokens.clone()).collect();
        assert_eq!(kept, vec![vec![1], vec![3]]);
        assert_eq!(fs::read_dir(&cache.dir).unwrap().count(), 2);
    }

    #[test]
    fn the_engine_named_in_files_is_the_one_the_manifest_pins() {
        let manifest = include_str!("../Cargo.toml");
        let version = ENGINE.strip_prefix("llama-cpp-2 ").unwrap();
        assert!(
            manifest.contains(&format!("llama-cpp-2 = {{ version = \"{version}\"")),
            "update ENGINE when llama-cpp-2 changes: old state files must be ignored"
        );
    }
}
