//! Helpers shared by the integration tests: temp trees, real git, running ingest.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

use suit_ingest::{ingest, IngestError, IngestOptions, Report};

/// Writes `content` to `root/rel`, creating parent directories.
pub fn write(root: &Path, rel: &str, content: impl AsRef<[u8]>) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

/// Runs the real `git` binary in `dir` and returns its stdout; panics with stderr on failure.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Runs ingest on `opts` into memory.
pub fn run(opts: &IngestOptions) -> Result<(String, Report), IngestError> {
    let mut out = Vec::new();
    let report = ingest(opts, &mut out, &|_| {})?;
    Ok((String::from_utf8(out).expect("digest is UTF-8"), report))
}

/// Options for a local directory.
pub fn local(root: &Path) -> IngestOptions {
    IngestOptions { source: root.to_str().unwrap().to_string(), ..Default::default() }
}
