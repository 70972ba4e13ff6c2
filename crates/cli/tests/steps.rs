//! `suit log` and `suit undo` through the binary, on steps recorded with the
//! store's public API (as the agent loop records them).

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use suit_store::{FileChange, SqliteStore, Step, Workspace};

fn suit(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_suit"))
        .args(args)
        .current_dir(dir)
        .env("XDG_CONFIG_HOME", dir.join(".config-test"))
        .output()
        .unwrap()
}

#[test]
fn log_lists_steps_and_undo_restores_exact_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    std::fs::create_dir(repo.join(".git")).unwrap();
    std::fs::create_dir(repo.join("src")).unwrap();
    let original = b"fn main() {\r\n    println!(\"hi\");\r\n}".to_vec(); // CRLF, no final newline
    std::fs::write(repo.join("src/main.rs"), &original).unwrap();
    {
        let store = Arc::new(SqliteStore::open(&SqliteStore::default_path(repo)).unwrap());
        let ws = Workspace::open(repo, store).unwrap();
        ws.apply(&Step {
            session: None,
            description: "greet the world".into(),
            changes: vec![FileChange::modify(
                "src/main.rs",
                original.clone(),
                b"fn main() {\n    println!(\"hello, world\");\n}\n".to_vec(),
            )],
        })
        .unwrap();
        ws.apply(&Step {
            session: None,
            description: "add notes".into(),
            changes: vec![FileChange::create("NOTES.md", b"notes\n".to_vec())],
        })
        .unwrap();
    }
    // From a subdirectory: the repository root is found.
    let out = suit(&repo.join("src"), &["log"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(log.contains("add notes") && log.contains("greet the world"), "{log}");
    assert!(log.find("add notes") < log.find("greet the world"), "newest first: {log}");
    assert!(log.contains("+    println!(\"hello, world\");"), "{log}");

    let out = suit(repo, &["undo", "2"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!repo.join("NOTES.md").exists(), "a created file is removed");
    assert_eq!(std::fs::read(repo.join("src/main.rs")).unwrap(), original, "byte-exact");

    let out = suit(repo, &["log", "--oneline"]);
    let log = String::from_utf8_lossy(&out.stdout);
    assert_eq!(log.matches("[undone]").count(), 2, "{log}");

    // Nothing left: a clear refusal, nothing touched.
    let out = suit(repo, &["undo"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("only 0 applied step"), "{err}");
    assert_eq!(std::fs::read(repo.join("src/main.rs")).unwrap(), original);
}

#[test]
fn undo_refuses_to_overwrite_later_edits() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    std::fs::create_dir(repo.join(".git")).unwrap();
    std::fs::write(repo.join("a.txt"), "one\n").unwrap();
    {
        let store = Arc::new(SqliteStore::open(&SqliteStore::default_path(repo)).unwrap());
        let ws = Workspace::open(repo, store).unwrap();
        ws.apply(&Step {
            session: None,
            description: "two".into(),
            changes: vec![FileChange::modify("a.txt", b"one\n".to_vec(), b"two\n".to_vec())],
        })
        .unwrap();
    }
    std::fs::write(repo.join("a.txt"), "mine\n").unwrap();
    let out = suit(repo, &["undo"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("a.txt"), "{err}");
    assert_eq!(std::fs::read_to_string(repo.join("a.txt")).unwrap(), "mine\n", "nothing lost");
    let out = suit(repo, &["undo", "--force"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read_to_string(repo.join("a.txt")).unwrap(), "one\n");
}

#[test]
fn memory_remembers_lists_and_forgets_facts_per_repository() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    std::fs::create_dir(repo.join(".git")).unwrap();
    std::fs::create_dir(repo.join("src")).unwrap();
    let out = suit(repo, &["memory", "add", "style", "Use", "tabs", "--pin"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    suit(repo, &["memory", "add", "db", "Postgres 16"]);
    let list = suit(&repo.join("src"), &["memory", "list"]);
    assert_eq!(
        String::from_utf8_lossy(&list.stdout),
        "style [pinned]: Use tabs\ndb: Postgres 16\n"
    );
    // The agent reads the same facts from the store.
    let store = SqliteStore::open(&SqliteStore::default_path(repo)).unwrap();
    let key = repo.canonicalize().unwrap().to_string_lossy().into_owned();
    let memories = suit_store::Store::memories(&store, &key).unwrap();
    assert_eq!(memories.len(), 2);
    assert!(suit(repo, &["memory", "rm", "db"]).status.success());
    let gone = suit(repo, &["memory", "rm", "db"]);
    assert_eq!(gone.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&gone.stderr).contains("no fact named `db`"));
    let empty = suit(repo, &["memory", "add", "x"]);
    assert!(String::from_utf8_lossy(&empty.stderr).contains("the fact is empty"));
}
