//! The SQLite store through its public API, on real database files.

use std::sync::Arc;

use serde_json::json;
use suit_store::{Error, Memory, NewSession, SqliteStore, Store, SCHEMA_VERSION};

fn session(store: &SqliteStore) -> i64 {
    store
        .create_session(&NewSession {
            task: "fix the failing test".into(),
            repo_root: "/r".into(),
            autonomy: "repo".into(),
        })
        .unwrap()
}

#[test]
fn creates_parent_dirs_and_sets_schema_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = SqliteStore::default_path(dir.path());
    let store = SqliteStore::open(&path).unwrap();
    assert!(path.ends_with(".suit/suit.db"));
    assert!(path.is_file());
    drop(store);
    let raw = rusqlite::Connection::open(&path).unwrap();
    let v: i64 = raw.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(v, SCHEMA_VERSION);
    let mode: String = raw.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    drop(raw);
    // Reopening an up-to-date database migrates nothing and keeps data.
    SqliteStore::open(&path).unwrap();
}

#[test]
fn sessions_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("s.db")).unwrap();
    let a = session(&store);
    let b = session(&store);
    assert!(b > a);
    store.end_session(a, "done").unwrap();
    let s = store.session(a).unwrap().unwrap();
    assert_eq!(s.status, "done");
    assert!(s.ended_ms.unwrap() >= s.created_ms);
    assert_eq!(store.session(b).unwrap().unwrap().status, "running");
    let ids: Vec<i64> = store.sessions("/r").unwrap().iter().map(|s| s.id).collect();
    assert_eq!(ids, vec![b, a]);
    assert!(store.sessions("/other").unwrap().is_empty());
    assert!(store.session(999).unwrap().is_none());
}

#[test]
fn journal_is_ordered_and_append_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.db");
    let store = SqliteStore::open(&path).unwrap();
    let s = session(&store);
    let other = session(&store);
    for i in 0..5 {
        let seq = store.append_event(s, "step.started", &json!({ "i": i })).unwrap();
        assert_eq!(seq, i + 1);
    }
    assert_eq!(store.append_event(other, "x", &json!(null)).unwrap(), 1);
    let events = store.events(s, 0).unwrap();
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
    assert_eq!(events[3].payload, json!({ "i": 3 }));
    assert!(events.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
    assert_eq!(store.events(s, 3).unwrap().len(), 2);
    // Even a raw connection cannot rewrite history.
    let raw = rusqlite::Connection::open(&path).unwrap();
    let upd = raw.execute("UPDATE events SET kind = 'forged' WHERE seq = 1", []);
    assert!(upd.unwrap_err().to_string().contains("append-only"));
    let del = raw.execute("DELETE FROM events", []);
    assert!(del.unwrap_err().to_string().contains("append-only"));
    assert_eq!(store.events(s, 0).unwrap(), events);
}

#[test]
fn concurrent_readers_see_ordered_prefixes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    let writer = Arc::new(SqliteStore::open(&path).unwrap());
    let s = session(&writer);
    const N: i64 = 200;
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || {
                // Each reader is its own connection, as another process would be.
                let store = SqliteStore::open(&path).unwrap();
                let mut last = 0;
                let mut reads = 0;
                while last < N {
                    let ev = store.events(s, 0).unwrap();
                    let seqs: Vec<i64> = ev.iter().map(|e| e.seq).collect();
                    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
                    assert!(seqs.len() as i64 >= last, "a reader saw the journal shrink");
                    last = seqs.len() as i64;
                    reads += 1;
                }
                reads
            })
        })
        .collect();
    let w = {
        let writer = writer.clone();
        std::thread::spawn(move || {
            for i in 0..N {
                writer.append_event(s, "tick", &json!(i)).unwrap();
            }
        })
    };
    w.join().unwrap();
    for r in readers {
        assert!(r.join().unwrap() >= 1);
    }
    assert_eq!(writer.events(s, 0).unwrap().len() as i64, N);
}

#[test]
fn memories_survive_reopen_and_stay_per_repo() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.db");
    {
        let store = SqliteStore::open(&path).unwrap();
        for (key, pinned) in [("style", false), ("build", true), ("tests", false)] {
            store
                .put_memory(
                    "/repo/a",
                    &Memory {
                        key: key.into(),
                        text: format!("about {key}"),
                        provenance: "user".into(),
                        pinned,
                    },
                )
                .unwrap();
        }
        store
            .put_memory(
                "/repo/b",
                &Memory {
                    key: "style".into(),
                    text: "tabs".into(),
                    provenance: "session:1".into(),
                    pinned: false,
                },
            )
            .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    let keys: Vec<String> = store.memories("/repo/a").unwrap().into_iter().map(|m| m.key).collect();
    assert_eq!(keys, ["build", "style", "tests"], "pinned first, then by key");
    store
        .put_memory(
            "/repo/a",
            &Memory {
                key: "style".into(),
                text: "rustfmt, max width 100".into(),
                provenance: "user".into(),
                pinned: true,
            },
        )
        .unwrap();
    let mems = store.memories("/repo/a").unwrap();
    assert_eq!(mems.len(), 3);
    assert_eq!(mems[1].text, "rustfmt, max width 100");
    assert!(mems[1].pinned);
    assert!(store.forget_memory("/repo/a", "tests").unwrap());
    assert!(!store.forget_memory("/repo/a", "tests").unwrap());
    assert_eq!(store.memories("/repo/a").unwrap().len(), 2);
    assert_eq!(store.memories("/repo/b").unwrap()[0].text, "tabs");
}

#[test]
fn blobs_are_content_addressed_and_verified() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.db");
    let store = SqliteStore::open(&path).unwrap();
    let h = store.put_blob(b"abc").unwrap();
    assert_eq!(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_eq!(store.put_blob(b"abc").unwrap(), h);
    assert_eq!(store.blob(&h).unwrap().unwrap(), b"abc");
    assert!(store.blob("00").unwrap().is_none());
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute("UPDATE blobs SET data = x'616263ff'", []).unwrap();
    assert!(matches!(store.blob(&h), Err(Error::MissingBlob { .. })));
}

#[test]
fn corrupt_file_gives_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("suit.db");
    std::fs::write(&path, vec![0x42u8; 8192]).unwrap();
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(matches!(err, Error::Corrupt { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains("move it aside"), "{msg}");
    // The damaged file is left as it was for the user to inspect.
    assert_eq!(std::fs::read(&path).unwrap(), vec![0x42u8; 8192]);
}

#[test]
fn foreign_sqlite_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);").unwrap();
    drop(raw);
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(err.to_string().contains("another application"), "{err}");
}

#[test]
fn newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("n.db");
    drop(SqliteStore::open(&path).unwrap());
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.pragma_update(None, "user_version", SCHEMA_VERSION + 7).unwrap();
    drop(raw);
    let err = SqliteStore::open(&path).unwrap_err();
    match &err {
        Error::NewerSchema { found, supported, .. } => {
            assert_eq!(*found, SCHEMA_VERSION + 7);
            assert_eq!(*supported, SCHEMA_VERSION);
        }
        other => panic!("expected NewerSchema, got {other:?}"),
    }
    assert!(err.to_string().contains("upgrade suit"));
}

#[test]
fn a_held_write_lock_times_out_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l.db");
    let store = SqliteStore::open(&path).unwrap();
    let s = session(&store);
    let mut raw = rusqlite::Connection::open(&path).unwrap();
    let tx = raw.transaction_with_behavior(rusqlite::TransactionBehavior::Exclusive).unwrap();
    let err = store.append_event(s, "x", &json!(1)).unwrap_err();
    assert!(matches!(err, Error::Locked { .. }), "{err:?}");
    assert!(err.to_string().contains("close other suit processes"));
    tx.rollback().unwrap();
    assert_eq!(store.append_event(s, "x", &json!(1)).unwrap(), 1);
}

#[test]
fn damaged_pages_give_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.db");
    {
        let store = SqliteStore::open(&path).unwrap();
        let s = session(&store);
        for i in 0..300 {
            store.append_event(s, "filler", &json!({ "i": i, "text": "x".repeat(200) })).unwrap();
        }
    }
    // Closing the last connection folds the WAL into the main file.
    let mut bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 16 * 4096, "{}", bytes.len());
    for b in &mut bytes[4096..12 * 4096] {
        *b = 0xA5;
    }
    std::fs::write(&path, &bytes).unwrap();
    let err = match SqliteStore::open(&path) {
        Err(e) => e,
        Ok(store) => store.events(1, 0).unwrap_err(),
    };
    assert!(matches!(err, Error::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains("move it aside"));
}
