//! Cost of a checkpointed step: apply, log and undo on a real repository in
//! a temporary directory (every write is fsynced, as in normal use).
//!
//! Run with `cargo bench -p suit-store`. Prints milliseconds per operation.

use std::sync::Arc;
use std::time::Instant;

use suit_store::{FileChange, SqliteStore, Step, Workspace};

const STEPS: usize = 100;
const FILES_PER_STEP: usize = 3;

fn main() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let repo = dir.path();
    let mut contents: Vec<String> = (0..FILES_PER_STEP)
        .map(|f| (0..200).map(|l| format!("line {l} of file {f}\n")).collect())
        .collect();
    for (f, c) in contents.iter().enumerate() {
        std::fs::write(repo.join(format!("f{f}.txt")), c).expect("write");
    }
    let store = SqliteStore::open(&SqliteStore::default_path(repo)).expect("store");
    let ws = Workspace::open(repo, Arc::new(store)).expect("workspace");

    let t = Instant::now();
    for s in 0..STEPS {
        let mut changes = Vec::new();
        for (f, c) in contents.iter_mut().enumerate() {
            let new = c.replacen(&format!("line {s} "), &format!("LINE {s} "), 1);
            changes.push(FileChange::modify(format!("f{f}.txt"), c.as_str(), new.as_str()));
            *c = new;
        }
        ws.apply(&Step { session: None, description: format!("step {s}"), changes })
            .expect("apply");
    }
    let apply = t.elapsed();

    let t = Instant::now();
    let log = ws.log(Some(20)).expect("log");
    let log_time = t.elapsed();
    assert_eq!(log.len(), 20);

    let t = Instant::now();
    for _ in 0..STEPS {
        ws.undo(1, false).expect("undo");
    }
    let undo = t.elapsed();

    let per = |d: std::time::Duration| d.as_secs_f64() * 1000.0 / STEPS as f64;
    println!("steps of {FILES_PER_STEP} files (200 lines each), {STEPS} steps");
    println!("apply: {:.2} ms/step", per(apply));
    println!("undo:  {:.2} ms/step", per(undo));
    println!("log of the newest 20 steps with diffs: {:.1} ms", log_time.as_secs_f64() * 1000.0);
}
