//! Atomic file writes and removals.

use std::fs;
use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

/// Prefix of the temporary files `write_atomic` creates beside the target;
/// recovery removes leftovers that carry it.
pub(crate) fn temp_prefix(file_name: &str) -> String {
    format!(".{file_name}.suit~")
}

/// Writes `bytes` to `path` atomically: a temporary file in the same
/// directory is written and flushed to disk, renamed over `path`, and the
/// directory is flushed, so readers (and a crash) see either the old or the
/// new content, never a mix. An existing file keeps its permissions; missing
/// parent directories are created. A device or a FIFO (`/dev/stdout`) is
/// written into instead.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_mode(path, bytes, None)
}

/// Whether `meta` is of something other than a regular file or a directory:
/// a device, a FIFO or a socket, which must be written into, not replaced.
pub fn is_special(meta: &fs::Metadata) -> bool {
    !meta.is_file() && !meta.is_dir()
}

/// [`write_atomic`] with an explicit Unix mode (`None`: keep the existing
/// file's mode, or the default for new files).
pub(crate) fn write_atomic_mode(path: &Path, bytes: &[u8], mode: Option<u32>) -> Result<()> {
    let dir = parent_dir(path);
    let name = path
        .file_name()
        .ok_or_else(|| Error::io("write", path, std::io::Error::other("not a file path")))?
        .to_string_lossy()
        .into_owned();
    if !dir.is_dir() {
        create_dirs_durably(dir)?;
    }
    let existing_mode = match fs::metadata(path) {
        Ok(m) if is_special(&m) => {
            // A device or a pipe (`-o /dev/stdout`): write into it; a rename
            // would replace it with a plain file.
            let mut file = fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| Error::io("open", path, e))?;
            return file.write_all(bytes).map_err(|e| Error::io("write", path, e));
        }
        Ok(m) => Some(file_mode(&m)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(Error::io("inspect", path, e)),
    };
    let prefix = temp_prefix(&name);
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // 0o666 before the umask, like any newly created file.
        builder.permissions(fs::Permissions::from_mode(0o666));
    }
    let mut tmp =
        builder.tempfile_in(dir).map_err(|e| Error::io("create temporary file in", dir, e))?;
    tmp.write_all(bytes).map_err(|e| Error::io("write", tmp.path().to_path_buf(), e))?;
    if let Some(m) = mode.or(existing_mode) {
        set_mode(tmp.path(), m)?;
    }
    tmp.as_file().sync_all().map_err(|e| Error::io("flush", tmp.path().to_path_buf(), e))?;
    tmp.persist(path).map_err(|e| Error::io("rename temporary file onto", path, e.error))?;
    sync_dir(dir)
}

/// Creates `dir` and its missing ancestors, flushing each new entry's parent
/// so the directories survive a crash along with the file written into them.
fn create_dirs_durably(dir: &Path) -> Result<()> {
    let mut missing = Vec::new();
    let mut d = Some(dir);
    while let Some(p) = d.filter(|p| !p.as_os_str().is_empty() && !p.exists()) {
        missing.push(p);
        d = p.parent();
    }
    fs::create_dir_all(dir).map_err(|e| Error::io("create directory", dir, e))?;
    for p in missing.iter().rev() {
        sync_dir(parent_dir(p))?;
    }
    Ok(())
}

/// Removes the file at `path` (if present) and flushes its directory so the
/// removal survives a crash. Returns whether a file was removed.
pub fn remove_file(path: &Path) -> Result<bool> {
    match fs::remove_file(path) {
        Ok(()) => {
            sync_dir(parent_dir(path))?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::io("remove", path, e)),
    }
}

/// Removes temporary files a crashed [`write_atomic`] may have left beside `path`.
pub(crate) fn remove_temp_leftovers(path: &Path) {
    let (Some(name), dir) = (path.file_name(), parent_dir(path)) else {
        return;
    };
    let prefix = temp_prefix(&name.to_string_lossy());
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let n = entry.file_name();
        let n = n.to_string_lossy();
        if n.starts_with(&prefix) && n.ends_with(".tmp") {
            let _ = fs::remove_file(entry.path());
        }
    }
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Bytes and mode of a file, `None` when it does not exist.
pub(crate) fn read_state(path: &Path) -> Result<Option<(Vec<u8>, u32)>> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => {
            Err(Error::io("read", path, std::io::Error::other("is a directory, not a file")))
        }
        Ok(m) => {
            let bytes = fs::read(path).map_err(|e| Error::io("read", path, e))?;
            Ok(Some((bytes, file_mode(&m))))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("inspect", path, e)),
    }
}

#[cfg(unix)]
fn file_mode(m: &fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    m.permissions().mode() & 0o7777
}

#[cfg(not(unix))]
fn file_mode(m: &fs::Metadata) -> u32 {
    if m.permissions().readonly() {
        0o444
    } else {
        0o644
    }
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(|e| Error::io("set permissions of", path, e))
}

#[cfg(not(unix))]
fn set_mode(path: &Path, mode: u32) -> Result<()> {
    let mut p = fs::metadata(path).map_err(|e| Error::io("inspect", path, e))?.permissions();
    p.set_readonly(mode & 0o222 == 0);
    fs::set_permissions(path, p).map_err(|e| Error::io("set permissions of", path, e))
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> Result<()> {
    fs::File::open(dir).and_then(|d| d.sync_all()).map_err(|e| Error::io("flush directory", dir, e))
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_atomic_creates_parents_and_replaces_content() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a/b/c.txt");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two\r\n\0").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two\r\n\0");
        let names: Vec<_> =
            fs::read_dir(p.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("c.txt")]);
        assert!(remove_file(&p).unwrap());
        assert!(!remove_file(&p).unwrap());
        assert!(!p.exists());
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_written_into_not_replaced() {
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success());
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || fs::read(fifo).unwrap())
        };
        write_atomic(&fifo, b"through the pipe").unwrap();
        assert_eq!(reader.join().unwrap(), b"through the pipe");
        assert!(fs::metadata(&fifo).unwrap().file_type().is_fifo(), "still a FIFO");
    }

    #[cfg(unix)]
    #[test]
    fn write_atomic_keeps_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("run.sh");
        fs::write(&p, b"#!/bin/sh\n").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o751)).unwrap();
        write_atomic(&p, b"#!/bin/sh\necho hi\n").unwrap();
        assert_eq!(fs::metadata(&p).unwrap().permissions().mode() & 0o7777, 0o751);
        // A new file is not left with the temporary file's private 0600 mode.
        let q = dir.path().join("new.txt");
        write_atomic(&q, b"x").unwrap();
        let mode = fs::metadata(&q).unwrap().permissions().mode() & 0o777;
        let umask = fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                let line = s.lines().find(|l| l.starts_with("Umask:"))?.to_string();
                u32::from_str_radix(line["Umask:".len()..].trim(), 8).ok()
            })
            .unwrap_or(0o022);
        assert_eq!(mode, 0o666 & !umask, "new files get the umask default, not 0600");
    }
}
