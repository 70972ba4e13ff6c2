//! Checkpoints and undo through the public API, on real files and real git.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use suit_store::{
    ChangeKind, CheckpointState, Error, FileChange, NewSession, PathError, SqliteStore, Step,
    Workspace,
};

fn open(repo: &Path) -> Workspace {
    let store = SqliteStore::open(&SqliteStore::default_path(repo)).unwrap();
    Workspace::open(repo, Arc::new(store)).unwrap()
}

fn step(desc: &str, changes: Vec<FileChange>) -> Step {
    Step { session: None, description: desc.into(), changes }
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

#[cfg(unix)]
fn set_mode(p: &Path, m: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(p, fs::Permissions::from_mode(m)).unwrap();
}

/// Every regular file under `root` except `.suit/` and `.git/`, with bytes.
fn snapshot(root: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for e in fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let name = e.file_name();
            if name == ".suit" || name == ".git" {
                continue;
            }
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.push((rel, fs::read(&p).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

#[cfg(unix)]
#[test]
fn apply_and_undo_round_trip_is_byte_exact() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    let binary: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    fs::write(repo.join("blob.bin"), &binary).unwrap();
    fs::write(repo.join("no_newline.txt"), b"last line without newline").unwrap();
    fs::write(repo.join("crlf.txt"), b"one\r\ntwo\r\n").unwrap();
    fs::write(repo.join("run.sh"), b"#!/bin/sh\necho hi\n").unwrap();
    set_mode(&repo.join("run.sh"), 0o755);
    fs::write(repo.join("gone.cfg"), b"x = 1\n").unwrap();
    set_mode(&repo.join("gone.cfg"), 0o600);
    let before = snapshot(repo);

    let ws = open(repo);
    let mut new_bin = binary.clone();
    new_bin[10] = 0;
    new_bin.push(0xff);
    let cp = ws
        .apply(&step(
            "everything at once",
            vec![
                FileChange::modify("blob.bin", binary.clone(), new_bin.clone()),
                FileChange::modify(
                    "no_newline.txt",
                    &b"last line without newline"[..],
                    &b"changed, still no newline"[..],
                ),
                FileChange::modify("crlf.txt", &b"one\r\ntwo\r\n"[..], &b"one\r\n2\r\n"[..]),
                FileChange::modify(
                    "./run.sh",
                    &b"#!/bin/sh\necho hi\n"[..],
                    &b"#!/bin/sh\necho bye\n"[..],
                ),
                FileChange::delete("gone.cfg", &b"x = 1\n"[..]),
                FileChange::create("src/deep/new.rs", &b"fn main() {}\n"[..]),
            ],
        ))
        .unwrap();
    assert_eq!(cp.state, CheckpointState::Applied);
    assert_eq!(fs::read(repo.join("blob.bin")).unwrap(), new_bin);
    assert_eq!(fs::read(repo.join("crlf.txt")).unwrap(), b"one\r\n2\r\n");
    assert_eq!(mode(&repo.join("run.sh")), 0o755, "writes keep the mode");
    assert!(!repo.join("gone.cfg").exists());
    assert_eq!(fs::read(repo.join("src/deep/new.rs")).unwrap(), b"fn main() {}\n");

    let report = ws.undo(1, false).unwrap();
    assert_eq!(report.undone, vec![cp.id]);
    assert!(report.displaced.is_empty());
    assert_eq!(snapshot(repo), before);
    assert_eq!(mode(&repo.join("run.sh")), 0o755);
    assert_eq!(mode(&repo.join("gone.cfg")), 0o600, "re-created with its mode");
    assert!(!repo.join("src").exists(), "directories the step created are gone");
    assert!(matches!(ws.undo(1, false), Err(Error::NothingToUndo { requested: 1, available: 0 })));
}

#[test]
fn undo_n_steps_in_reverse_order() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    fs::write(repo.join("a.txt"), "v0\n").unwrap();
    let ws = open(repo);
    let original = snapshot(repo);
    ws.apply(&step("a1", vec![FileChange::modify("a.txt", "v0\n", "v1\n")])).unwrap();
    let after1 = snapshot(repo);
    ws.apply(&step(
        "a2 + b",
        vec![FileChange::modify("a.txt", "v1\n", "v2\n"), FileChange::create("b.txt", "b\n")],
    ))
    .unwrap();
    ws.apply(&step(
        "a3 - b",
        vec![FileChange::modify("a.txt", "v2\n", "v3\n"), FileChange::delete("b.txt", "b\n")],
    ))
    .unwrap();
    assert!(matches!(ws.undo(4, false), Err(Error::NothingToUndo { requested: 4, available: 3 })));
    assert_eq!(fs::read(repo.join("a.txt")).unwrap(), b"v3\n", "refusal wrote nothing");
    let r = ws.undo(2, false).unwrap();
    assert_eq!(r.undone.len(), 2);
    assert!(r.undone[0] > r.undone[1], "newest first");
    assert_eq!(snapshot(repo), after1);
    ws.undo(1, false).unwrap();
    assert_eq!(snapshot(repo), original);
    let states: Vec<_> = ws.log(None).unwrap().iter().map(|s| s.state).collect();
    assert_eq!(states, vec![CheckpointState::Undone; 3]);
}

#[test]
fn stale_expected_content_is_a_conflict_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    fs::write(repo.join("a.txt"), "mine\n").unwrap();
    fs::write(repo.join("b.txt"), "b\n").unwrap();
    let ws = open(repo);
    let err = ws
        .apply(&step(
            "stale",
            vec![
                FileChange::modify("b.txt", "b\n", "B\n"),
                FileChange::modify("a.txt", "theirs\n", "new\n"),
            ],
        ))
        .unwrap_err();
    match &err {
        Error::Conflict { path, .. } => assert_eq!(path, "a.txt"),
        other => panic!("expected Conflict, got {other:?}"),
    }
    assert!(err.to_string().contains("nothing was written"));
    assert_eq!(fs::read(repo.join("b.txt")).unwrap(), b"b\n");
    assert_eq!(fs::read(repo.join("a.txt")).unwrap(), b"mine\n");
    let err = ws.apply(&step("exists", vec![FileChange::create("a.txt", "x")])).unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
    assert!(ws.log(None).unwrap().is_empty(), "no checkpoint for refused steps");
}

#[test]
fn undo_refuses_when_the_user_changed_a_file_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    fs::write(repo.join("a.txt"), "v0\n").unwrap();
    fs::write(repo.join("b.txt"), "b0\n").unwrap();
    let ws = open(repo);
    let cp = ws
        .apply(&step(
            "two files",
            vec![
                FileChange::modify("a.txt", "v0\n", "v1\n"),
                FileChange::modify("b.txt", "b0\n", "b1\n"),
            ],
        ))
        .unwrap();
    fs::write(repo.join("b.txt"), "user edit\n").unwrap();
    let err = ws.undo(1, false).unwrap_err();
    match &err {
        Error::UndoConflict { step, path, .. } => {
            assert_eq!((*step, path.as_str()), (cp.id, "b.txt"))
        }
        other => panic!("expected UndoConflict, got {other:?}"),
    }
    assert!(err.to_string().contains("b.txt"));
    assert_eq!(fs::read(repo.join("a.txt")).unwrap(), b"v1\n", "nothing undone");
    let r = ws.undo(1, true).unwrap();
    assert_eq!(fs::read(repo.join("a.txt")).unwrap(), b"v0\n");
    assert_eq!(fs::read(repo.join("b.txt")).unwrap(), b"b0\n");
    assert_eq!(r.displaced.len(), 1);
    assert_eq!(r.displaced[0].0, "b.txt");
    let kept = ws.store().blob(&r.displaced[0].1).unwrap().unwrap();
    assert_eq!(kept, b"user edit\n", "the forced undo kept the user's bytes");
}

#[test]
fn bad_paths_are_refused_with_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let repo = dir.path();
    let ws = open(repo);
    let try_create = |p: &str| ws.apply(&step("bad", vec![FileChange::create(p, "x")]));
    assert!(matches!(try_create("/etc/x"), Err(Error::Path(PathError::Absolute(_)))));
    assert!(matches!(try_create("src/../../x"), Err(Error::Path(PathError::ParentDir(_)))));
    for p in [".git/config", ".suit/suit.db", ".env", "certs/tls.pem", "id_rsa"] {
        assert!(matches!(try_create(p), Err(Error::Path(PathError::Protected { .. }))), "{p}");
    }
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(outside.path(), repo.join("escape")).unwrap();
        assert!(matches!(
            try_create("escape/pwned.txt"),
            Err(Error::Path(PathError::OutsideRoot { .. }))
        ));
        fs::write(outside.path().join("t.txt"), "outside").unwrap();
        std::os::unix::fs::symlink(outside.path().join("t.txt"), repo.join("link.txt")).unwrap();
        let err = ws
            .apply(&step("bad", vec![FileChange::modify("link.txt", "outside", "pwned")]))
            .unwrap_err();
        assert!(matches!(err, Error::Path(PathError::OutsideRoot { .. })), "{err:?}");
        assert_eq!(fs::read(outside.path().join("t.txt")).unwrap(), b"outside");
        assert!(fs::read_dir(outside.path()).unwrap().count() == 1);
    }
    assert!(matches!(ws.apply(&step("empty", vec![])), Err(Error::InvalidStep(_))));
    assert!(matches!(
        ws.apply(&step("dup", vec![FileChange::create("a", "1"), FileChange::create("./a", "2")])),
        Err(Error::InvalidStep(_))
    ));
    assert!(!repo.join("a").exists());
}

#[test]
fn log_shows_diffs_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    fs::write(repo.join("lib.rs"), "fn a() {}\nfn b() {}\n").unwrap();
    fs::write(repo.join("data.bin"), [0u8, 1, 2]).unwrap();
    let ws = open(repo);
    let store = ws.store().clone();
    let sid = store
        .create_session(&NewSession {
            task: "t".into(),
            repo_root: ws.repo_key().into(),
            autonomy: "auto".into(),
        })
        .unwrap();
    let mut s1 = step(
        "rename b",
        vec![FileChange::modify(
            "lib.rs",
            "fn a() {}\nfn b() {}\n",
            "fn a() {}\nfn c() {}\nfn d() {}\n",
        )],
    );
    s1.session = Some(sid);
    ws.apply(&s1).unwrap();
    ws.apply(&step(
        "files",
        vec![
            FileChange::create("new.txt", "hello\n"),
            FileChange::delete("data.bin", vec![0u8, 1, 2]),
        ],
    ))
    .unwrap();
    assert_eq!(ws.log(Some(1)).unwrap()[0].description, "files");
    let log = ws.log(None).unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].description, "files");
    assert_eq!(log[1].session, Some(sid));
    let lib = &log[1].files[0];
    assert_eq!((lib.kind, lib.added, lib.removed), (ChangeKind::Modified, 2, 1));
    assert!(lib.diff.contains("--- a/lib.rs"), "{}", lib.diff);
    assert!(lib.diff.contains("-fn b() {}\n+fn c() {}\n+fn d() {}\n"), "{}", lib.diff);
    let new = &log[0].files[0];
    assert_eq!((new.kind, new.added), (ChangeKind::Created, 1));
    assert!(new.diff.contains("--- /dev/null"));
    let bin = &log[0].files[1];
    assert_eq!(bin.kind, ChangeKind::Deleted);
    assert!(bin.diff.starts_with("Binary files a/data.bin and /dev/null differ"));
    // The session's baseline holds the state before its first write.
    let base = store.baseline(sid).unwrap().unwrap();
    assert_eq!(base.files.len(), 1);
    assert_eq!(base.files[0].0, "lib.rs");
    // Checkpoint transitions of a session land in its journal.
    ws.undo(2, false).unwrap();
    let kinds: Vec<String> = store.events(sid, 0).unwrap().into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds, ["checkpoint.applied", "checkpoint.undoing", "checkpoint.undone"]);
    assert_eq!(store.events(sid, 0).unwrap()[0].payload["files"][0], "lib.rs");
}

#[test]
fn one_writer_per_repository() {
    let dir = tempfile::tempdir().unwrap();
    let ws = open(dir.path());
    let store = SqliteStore::open(&SqliteStore::default_path(dir.path())).unwrap();
    let err = Workspace::open(dir.path(), Arc::new(store)).unwrap_err();
    assert!(err.to_string().contains("another suit process"), "{err}");
    drop(ws);
    open(dir.path());
}

fn git(repo: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn dirty_git_tree_is_restored_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    git(repo, &["init", "-q"]);
    fs::write(repo.join("main.py"), "print('committed')\n").unwrap();
    fs::write(repo.join("util.py"), "X = 1\n").unwrap();
    git(repo, &["add", "."]);
    git(repo, &["commit", "-q", "-m", "init"]);
    // Uncommitted user work: a modified tracked file, a staged change, an untracked file.
    fs::write(repo.join("main.py"), "print('my uncommitted work')\r\n").unwrap();
    fs::write(repo.join("util.py"), "X = 2  # staged\n").unwrap();
    git(repo, &["add", "util.py"]);
    fs::write(repo.join("notes.txt"), "untracked thoughts").unwrap();
    let status_before = git(repo, &["status", "--porcelain"]);
    let files_before = snapshot(repo);

    let ws = open(repo);
    let sid = ws
        .store()
        .create_session(&NewSession {
            task: "refactor".into(),
            repo_root: ws.repo_key().into(),
            autonomy: "auto".into(),
        })
        .unwrap();
    let mut changes = vec![
        FileChange::modify("main.py", "print('my uncommitted work')\r\n", "print('agent')\n"),
        FileChange::modify("notes.txt", "untracked thoughts", "agent notes\n"),
    ];
    for (i, c) in changes.drain(..).enumerate() {
        ws.apply(&Step { session: Some(sid), description: format!("step {i}"), changes: vec![c] })
            .unwrap();
    }
    ws.apply(&Step {
        session: Some(sid),
        description: "delete util, add new".into(),
        changes: vec![
            FileChange::delete("util.py", "X = 2  # staged\n"),
            FileChange::create("pkg/new.py", "Y = 3\n"),
        ],
    })
    .unwrap();
    assert_ne!(snapshot(repo), files_before);

    let base = ws.store().baseline(sid).unwrap().unwrap();
    let g = base.git.expect("git baseline recorded");
    assert_eq!(g.status, status_before);
    let stash = g.stash.expect("dirty tree gives a stash commit");
    assert_eq!(git(repo, &["rev-parse", &format!("refs/suit/sessions/{sid}")]).trim(), stash);
    assert_eq!(
        git(repo, &["show", &format!("{stash}:main.py")]),
        "print('my uncommitted work')\r\n"
    );
    let paths: Vec<&str> = base.files.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, ["main.py", "notes.txt", "pkg/new.py", "util.py"]);

    ws.undo(3, false).unwrap();
    assert_eq!(snapshot(repo), files_before);
    assert_eq!(git(repo, &["status", "--porcelain"]), status_before);
}

#[test]
fn racing_steps_on_one_file_cannot_both_apply() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.txt"), "v0\n").unwrap();
    let ws = Arc::new(open(dir.path()));
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let ws = ws.clone();
            std::thread::spawn(move || {
                ws.apply(&step(
                    "race",
                    vec![FileChange::modify("a.txt", "v0\n", format!("thread {i}\n"))],
                ))
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(results
        .iter()
        .filter_map(|r| r.as_ref().err())
        .all(|e| matches!(e, Error::Conflict { .. })));
    ws.undo(1, false).unwrap();
    assert_eq!(fs::read(dir.path().join("a.txt")).unwrap(), b"v0\n");
}
