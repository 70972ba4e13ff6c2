//! Bad input: each case gives a clear message naming the problem, and a
//! partial result is never presented as complete.

mod common;

use std::io::Write;

use common::{local, run, write};
use suit_ingest::{ingest, IngestError, IngestOptions, SkipReason};

#[test]
fn nonexistent_path_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-dir");
    let err = run(&local(&missing)).unwrap_err();
    assert!(matches!(err, IngestError::NotFound { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("no-such-dir") && msg.contains("no such file"), "{msg}");
}

#[test]
fn unreadable_file_is_listed_and_named_in_the_notice() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "ok.txt", "fine\n");
    // Reading /proc/self/mem at offset 0 fails with EIO even for root,
    // unlike a chmod 000 file.
    std::os::unix::fs::symlink("/proc/self/mem", root.join("mem.txt")).unwrap();
    let opts = IngestOptions { follow_links: true, ..local(root) };
    let (digest, report) = run(&opts).unwrap();
    let skipped = report.skipped.iter().find(|s| s.path == "mem.txt").expect("listed");
    assert!(
        matches!(&skipped.reason, SkipReason::Unreadable { error } if !error.is_empty()),
        "{skipped:?}"
    );
    assert!(digest.contains("mem.txt  [skipped: unreadable:"), "{digest}");
    assert!(digest.contains("Skipped (1): mem.txt (unreadable:"), "{digest}");
    assert!(!digest.contains("Complete:"), "{digest}");
    assert_eq!(report.files.len(), 1);
}

#[test]
fn invalid_utf8_is_shown_with_replacements_and_warned() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "latin1.txt",
        b"caf\xe9 cr\xe8me, a plain sentence long enough to be text\n".as_slice(),
    );
    let (digest, report) = run(&local(root)).unwrap();
    assert!(digest.contains("caf\u{FFFD} cr\u{FFFD}me"), "{digest}");
    assert_eq!(report.warnings.len(), 1);
    assert!(
        report.warnings[0].contains("latin1.txt") && report.warnings[0].contains("UTF-8"),
        "{:?}",
        report.warnings
    );
}

#[test]
fn symlink_loops_are_detected_and_listed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "a/file.rs", "fn a() {}\n");
    std::os::unix::fs::symlink("..", root.join("a/loop")).unwrap();
    let opts = IngestOptions { follow_links: true, ..local(root) };
    let (digest, report) = run(&opts).unwrap();
    let looped = report.skipped.iter().find(|s| s.path == "a/loop").expect("loop listed");
    assert!(matches!(&looped.reason, SkipReason::SymlinkLoop { .. }), "{looped:?}");
    assert!(digest.contains("symlink loop"), "{digest}");
    assert_eq!(report.files.len(), 1);
    // Not following links: the link is listed, nothing loops.
    let (_, report) = run(&local(root)).unwrap();
    assert!(report.skipped.iter().any(|s| s.path == "a/loop" && s.reason == SkipReason::Symlink));
}

#[test]
fn very_large_files_are_skipped_with_their_size() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "big.txt", "x".repeat(2 * 1024 * 1024));
    write(root, "small.txt", "y\n");
    let opts = IngestOptions { max_file_size: 1024 * 1024, ..local(root) };
    let (digest, report) = run(&opts).unwrap();
    assert_eq!(report.files.len(), 1);
    let big = report.skipped.iter().find(|s| s.path == "big.txt").expect("listed");
    assert_eq!(big.reason, SkipReason::TooLarge { size: 2 * 1024 * 1024, limit: 1024 * 1024 });
    assert!(digest.contains("Skipped: 1"), "{digest}");
    assert!(digest.contains("big.txt (too large: 2097152 bytes, limit 1048576)"), "{digest}");
}

#[test]
fn uncloneable_url_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}/nowhere/repo.git", dir.path().display());
    let opts = IngestOptions {
        source: url.clone(),
        cache_dir: Some(dir.path().join("cache")),
        ..Default::default()
    };
    let err = run(&opts).unwrap_err();
    assert!(matches!(err, IngestError::CloneFailed { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains(&url) && msg.contains("check the URL"), "{msg}");
    // Nothing half-cloned is left in the cache.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("cache/repos")).unwrap().collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn bad_glob_and_tiny_budget_are_named() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.rs", "fn a() {}\n");
    let opts = IngestOptions { include: vec!["src/[".into()], ..local(dir.path()) };
    let msg = run(&opts).unwrap_err().to_string();
    assert!(msg.contains("src/["), "{msg}");
    let opts = IngestOptions { token_budget: Some(5), ..local(dir.path()) };
    match run(&opts).unwrap_err() {
        IngestError::BudgetTooSmall { budget, needed } => {
            assert_eq!(budget, 5);
            assert!(needed > 5);
            // The minimum it names really works.
            let opts = IngestOptions { token_budget: Some(needed), ..local(dir.path()) };
            run(&opts).unwrap();
        }
        other => panic!("{other:?}"),
    }
}

struct FailingWriter(usize);

impl Write for FailingWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0 < buf.len() {
            return Err(std::io::Error::new(std::io::ErrorKind::StorageFull, "disk full"));
        }
        self.0 -= buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_failing_writer_is_an_error_not_a_success() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..10 {
        write(dir.path(), &format!("f{i}.txt"), "some text\n".repeat(50));
    }
    let err = ingest(&local(dir.path()), &mut FailingWriter(2000), &|_| {}).unwrap_err();
    assert!(matches!(err, IngestError::Write(_)), "{err:?}");
    assert!(err.to_string().contains("disk full"), "{err}");
}
