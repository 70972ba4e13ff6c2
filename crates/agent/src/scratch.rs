//! A scratch copy of the workspace where candidate changes are checked
//! before one is chosen: nothing reaches the real files until then.
//!
//! The copy is made once per run, in a temporary directory, from the files
//! the repository's ignore rules keep (so `target/` and `node_modules/` are
//! not copied). Before each candidate it is brought back to the
//! workspace's current contents and the candidate's changes are written
//! over them. Files the checks make themselves (build output, caches) stay
//! between candidates, so an incremental build stays incremental.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use suit_edit::FileChange;

/// The scratch copy of one run.
pub(crate) struct Scratch {
    dir: tempfile::TempDir,
    /// What each file copied or written here holds now.
    written: BTreeMap<String, Vec<u8>>,
}

impl Scratch {
    /// An empty scratch directory.
    pub(crate) fn new() -> io::Result<Self> {
        let dir = tempfile::Builder::new().prefix("suit-scratch-").tempdir()?;
        Ok(Self { dir, written: BTreeMap::new() })
    }

    /// Where the copy is (checks run here).
    pub(crate) fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Makes the copy hold the workspace at `source` (its `files`, as
    /// listed there) with `changes` applied on top.
    pub(crate) fn prepare(
        &mut self,
        source: &Path,
        files: &[String],
        changes: &[FileChange],
    ) -> io::Result<()> {
        let mut want: BTreeMap<String, Option<Vec<u8>>> = BTreeMap::new();
        for path in files {
            match std::fs::read(source.join(path)) {
                Ok(bytes) => {
                    want.insert(path.clone(), Some(bytes));
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        for change in changes {
            want.insert(change.path().to_string(), change.after().map(|s| s.as_bytes().to_vec()));
        }
        // Files written here before and not wanted now go.
        let stale: Vec<String> =
            self.written.keys().filter(|p| !want.contains_key(*p)).cloned().collect();
        for path in stale {
            remove(&self.path(&path))?;
            self.written.remove(&path);
        }
        for (path, bytes) in want {
            match bytes {
                None => {
                    if self.written.remove(&path).is_some() {
                        remove(&self.path(&path))?;
                    }
                }
                Some(bytes) => {
                    if self.written.get(&path) != Some(&bytes) {
                        let full = self.path(&path);
                        if let Some(parent) = full.parent() {
                            std::fs::create_dir_all(parent)?;
                        }
                        std::fs::write(&full, &bytes)?;
                        self.written.insert(path, bytes);
                    }
                }
            }
        }
        Ok(())
    }

    /// `text` with this copy's absolute paths made relative, so check
    /// output names files as the workspace does.
    pub(crate) fn relative(&self, text: &str) -> String {
        let mut text = text.to_string();
        let mut roots = vec![self.dir.path().to_path_buf()];
        if let Ok(canonical) = self.dir.path().canonicalize() {
            roots.push(canonical);
        }
        for root in roots {
            text = text.replace(&format!("{}/", root.display()), "");
        }
        text
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }
}

fn remove(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_copy_follows_the_workspace_and_each_candidate() {
        let ws = tempfile::tempdir().unwrap();
        std::fs::write(ws.path().join("a.py"), "a = 1\n").unwrap();
        std::fs::create_dir(ws.path().join("pkg")).unwrap();
        std::fs::write(ws.path().join("pkg/b.py"), "b = 1\n").unwrap();
        let files = vec!["a.py".to_string(), "pkg/b.py".to_string()];
        let mut scratch = Scratch::new().unwrap();
        let read = |s: &Scratch, p: &str| std::fs::read_to_string(s.root().join(p)).ok();

        let first = [
            FileChange::Modified {
                path: "a.py".into(),
                before: "a = 1\n".into(),
                after: "a = 2\n".into(),
            },
            FileChange::Created { path: "c.py".into(), after: "c = 1\n".into() },
            FileChange::Deleted { path: "pkg/b.py".into(), before: "b = 1\n".into() },
        ];
        scratch.prepare(ws.path(), &files, &first).unwrap();
        assert_eq!(read(&scratch, "a.py").as_deref(), Some("a = 2\n"));
        assert_eq!(read(&scratch, "c.py").as_deref(), Some("c = 1\n"));
        assert_eq!(read(&scratch, "pkg/b.py"), None);
        // A file a check made stays.
        std::fs::write(scratch.root().join("build.log"), "x").unwrap();

        scratch.prepare(ws.path(), &files, &[]).unwrap();
        assert_eq!(read(&scratch, "a.py").as_deref(), Some("a = 1\n"));
        assert_eq!(read(&scratch, "c.py"), None);
        assert_eq!(read(&scratch, "pkg/b.py").as_deref(), Some("b = 1\n"));
        assert_eq!(read(&scratch, "build.log").as_deref(), Some("x"));

        // The workspace changed (a step was applied): the copy follows.
        std::fs::write(ws.path().join("a.py"), "a = 3\n").unwrap();
        scratch.prepare(ws.path(), &files, &[]).unwrap();
        assert_eq!(read(&scratch, "a.py").as_deref(), Some("a = 3\n"));

        let out = format!("File \"{}/a.py\", line 1", scratch.root().display());
        assert_eq!(scratch.relative(&out), "File \"a.py\", line 1");
    }
}
