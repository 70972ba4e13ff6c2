//! suit's own docs for agents: `docs/llms.txt` and `docs/llms-full.txt` are
//! what `scripts/llms-txt.sh` builds from the Markdown files it names, and
//! `suit llms-txt check` finds no error in them (every link resolves).

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// The Markdown files the script indexes, as written in it.
fn indexed(script: &str) -> Vec<String> {
    let build = script.split("llms-txt build").nth(1).expect("the script runs llms-txt build");
    let files: Vec<String> = build
        .split_whitespace()
        .take_while(|w| !w.starts_with('-'))
        .filter(|w| w.ends_with(".md"))
        .map(str::to_string)
        .collect();
    assert!(files.len() >= 2, "{files:?}");
    files
}

#[test]
fn the_published_llms_txt_is_current_and_checks_clean() {
    let root = workspace();
    let script = std::fs::read_to_string(root.join("scripts/llms-txt.sh")).unwrap();
    // Build in a copy of the files, laid out as in the repository.
    let copy = tempfile::tempdir().unwrap();
    for file in indexed(&script).iter().map(String::as_str).chain(["scripts/llms-txt.sh"]) {
        let to = copy.path().join(file);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(root.join(file), &to).unwrap_or_else(|e| panic!("{file}: {e}"));
    }
    let built = Command::new("bash")
        .arg(copy.path().join("scripts/llms-txt.sh"))
        .env("SUIT", env!("CARGO_BIN_EXE_suit"))
        .output()
        .unwrap();
    assert!(built.status.success(), "{}", String::from_utf8_lossy(&built.stderr));
    for name in ["llms.txt", "llms-full.txt"] {
        let fresh = std::fs::read_to_string(copy.path().join("docs").join(name)).unwrap();
        let published = std::fs::read_to_string(root.join("docs").join(name)).unwrap_or_default();
        assert!(
            fresh == published,
            "docs/{name} is not current: run scripts/llms-txt.sh and commit the result"
        );
    }

    let checked = Command::new(env!("CARGO_BIN_EXE_suit"))
        .args(["llms-txt", "check"])
        .arg(root.join("docs/llms.txt"))
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&checked.stdout).into_owned()
        + &String::from_utf8_lossy(&checked.stderr);
    assert!(checked.status.success(), "{report}");
    assert!(report.contains("0 errors"), "{report}");
}
