//! Fidelity with git as the oracle: the files ingested are exactly
//! `git ls-files --cached --others --exclude-standard`, minus binaries,
//! default-ignored paths and (unless asked for) hidden ones.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{git, local, run, write};
use globset::{Glob, GlobSetBuilder};
use suit_ingest::{
    IngestOptions, SkipReason, DEFAULT_IGNORED_DIRS, DEFAULT_IGNORED_FILES, DEFAULT_MAX_FILE_SIZE,
};

/// Independent binary check: a NUL byte in the first 8 KiB.
fn looks_binary(path: &Path) -> bool {
    let bytes = std::fs::read(path).unwrap_or_default();
    bytes[..bytes.len().min(8192)].contains(&0)
}

/// What git says should be in the digest of `root`.
fn oracle(root: &Path, hidden: bool) -> BTreeSet<String> {
    let mut files = GlobSetBuilder::new();
    for g in DEFAULT_IGNORED_FILES {
        files.add(Glob::new(g).unwrap());
    }
    let files = files.build().unwrap();
    let listed = git(root, &["ls-files", "-z", "--cached", "--others", "--exclude-standard"]);
    listed
        .split('\0')
        .filter(|p| !p.is_empty())
        .filter(|p| {
            let path = root.join(p);
            let meta = match std::fs::symlink_metadata(&path) {
                Ok(m) => m,
                Err(_) => return false, // deleted from the work tree
            };
            let parts: Vec<&str> = p.split('/').collect();
            let name = parts[parts.len() - 1];
            meta.file_type().is_file()
                && meta.len() <= DEFAULT_MAX_FILE_SIZE
                && (hidden || !parts.iter().any(|c| c.starts_with('.')))
                && !parts[..parts.len() - 1].iter().any(|c| DEFAULT_IGNORED_DIRS.contains(c))
                && !files.is_match(name)
                && !looks_binary(&path)
        })
        .map(str::to_string)
        .collect()
}

fn ingested(opts: &IngestOptions) -> BTreeSet<String> {
    let (_, report) = run(opts).unwrap();
    report.files.iter().map(|f| f.path.clone()).collect()
}

fn nested_negation_repo(root: &Path) {
    git(root, &["init", "-q"]);
    write(root, ".gitignore", "*.log\n!keep.log\n/generated/\nscratch*\n!scratch-keep.md\n");
    write(root, "keep.log", "kept by a negation\n");
    write(root, "drop.log", "ignored\n");
    write(root, "generated/out.rs", "fn x() {}\n");
    write(root, "scratch.txt", "ignored\n");
    write(root, "scratch-keep.md", "re-included\n");
    write(root, "src/main.rs", "fn main() {}\n");
    write(root, "src/.gitignore", "*.tmp\n!important.tmp\nsub/\n");
    write(root, "src/a.tmp", "ignored\n");
    write(root, "src/important.tmp", "re-included at depth 1\n");
    write(root, "src/sub/hidden.rs", "ignored: directory rule\n");
    write(root, "src/deep/er/.gitignore", "!*.log\nx*\n!xy.txt\n");
    write(root, "src/deep/er/trace.log", "re-included at depth 3 against the root rule\n");
    write(root, "src/deep/er/xa.txt", "ignored\n");
    write(root, "src/deep/er/xy.txt", "re-included\n");
    write(root, "src/deep/er/ok.py", "print('ok')\n");
    write(root, "src/ünï code/ñame with space.md", "unicode path\n");
    write(root, "info-excluded.txt", "ignored by .git/info/exclude\n");
    std::fs::write(root.join(".git/info/exclude"), "info-excluded.txt\n").unwrap();
    write(root, ".hidden/config.toml", "a = 1\n");
    write(root, ".env.example", "A=1\n");
    write(root, "logo.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0");
    write(root, "data.ts", "export const x: number = 1;\n");
    write(root, "Cargo.lock", "# lockfile\n");
    write(root, "node_modules/dep/index.js", "module.exports = 1;\n");
    write(root, "web/dist/app.js", "built\n");
    write(root, "web/app.min.js", "minified\n");
    write(root, "web/app.js", "source\n");
    // Tracked although ignored: git still lists it, and so must the walk.
    write(root, "generated/tracked.rs", "fn tracked() {}\n");
    git(root, &["add", "-f", "generated/tracked.rs"]);
    git(root, &["add", "src/main.rs", "keep.log", ".gitignore", "src/.gitignore", "web/app.js"]);
    git(root, &["commit", "-q", "-m", "init"]);
}

#[test]
fn temp_repo_with_nested_negations_matches_git() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    nested_negation_repo(root);
    for hidden in [false, true] {
        let opts = IngestOptions { hidden, ..local(root) };
        let got = ingested(&opts);
        let want = oracle(root, hidden);
        assert_eq!(got, want, "hidden={hidden}");
    }
    // The oracle is not vacuous: the tricky cases are in it, the ignored ones are not.
    let got = ingested(&local(root));
    for p in [
        "keep.log",
        "scratch-keep.md",
        "src/important.tmp",
        "src/deep/er/trace.log",
        "src/deep/er/xy.txt",
        "data.ts",
        "src/ünï code/ñame with space.md",
    ] {
        assert!(got.contains(p), "{p} missing from {got:?}");
    }
    for p in [
        "drop.log",
        "generated/out.rs",
        "src/a.tmp",
        "src/sub/hidden.rs",
        "src/deep/er/xa.txt",
        "info-excluded.txt",
        "logo.png",
        "Cargo.lock",
        "web/app.min.js",
        ".hidden/config.toml",
    ] {
        assert!(!got.contains(p), "{p} should be left out");
    }
    // The binary is listed as skipped with its reason, in the report and the tree.
    let (digest, report) = run(&local(root)).unwrap();
    assert!(report.skipped.iter().any(|s| s.path == "logo.png" && s.reason == SkipReason::Binary));
    assert!(digest.contains("logo.png  [skipped: binary]"), "{digest}");
}

#[test]
fn suitignore_and_globs_apply_on_top_of_git() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    nested_negation_repo(root);
    write(root, ".suitignore", "web/\n");
    write(root, "src/deep/.ignore", "ok.py\n");
    let got = ingested(&local(root));
    assert!(!got.iter().any(|p| p.starts_with("web/")), "{got:?}");
    assert!(got.contains("generated/tracked.rs"));
    // A tracked, git-ignored file is still subject to .suitignore and .ignore.
    write(root, "generated/.ignore", "tracked.rs\n");
    assert!(!ingested(&local(root)).contains("generated/tracked.rs"));
    std::fs::remove_file(root.join("generated/.ignore")).unwrap();
    assert!(!got.contains("src/deep/er/ok.py") && got.contains("src/deep/er/xy.txt"), "{got:?}");
    std::fs::remove_file(root.join("src/deep/.ignore")).unwrap();
    let opts = IngestOptions {
        include: vec!["*.rs".into()],
        exclude: vec!["src/deep".into()],
        ..local(root)
    };
    assert_eq!(
        ingested(&opts),
        BTreeSet::from(["generated/tracked.rs".to_string(), "src/main.rs".to_string()])
    );
    let opts =
        IngestOptions { include: vec!["src".into()], exclude: vec!["*.md".into()], ..local(root) };
    let got = ingested(&opts);
    assert!(
        got.contains("src/deep/er/ok.py") && !got.iter().any(|p| p.ends_with(".md")),
        "{got:?}"
    );
    std::fs::remove_file(root.join(".suitignore")).unwrap();
    let opts = IngestOptions { default_ignores: false, ..local(root) };
    let got = ingested(&opts);
    assert!(
        got.contains("Cargo.lock")
            && got.contains("node_modules/dep/index.js")
            && got.contains("web/app.min.js"),
        "{got:?}"
    );
}

#[test]
fn this_repository_matches_git() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let root = root.canonicalize().unwrap();
    // Others may add files while this runs: retry until git agrees with itself.
    let mut last = None;
    for _ in 0..5 {
        let before = oracle(&root, false);
        let got = ingested(&local(&root));
        let after = oracle(&root, false);
        if before == after {
            assert!(got.len() > 10, "{got:?}");
            assert_eq!(got, before);
            return;
        }
        last = Some((before, after));
    }
    panic!("the repository kept changing during the test: {last:?}");
}

/// The same check on a large tree of your choice, run by `bench/ingest/run.sh`:
/// `SUIT_FIDELITY_REPO=/path/to/git/work/tree cargo test -p suit-ingest --test fidelity -- --ignored`.
#[test]
#[ignore = "needs SUIT_FIDELITY_REPO, a large git work tree; run by bench/ingest/run.sh"]
fn large_tree_matches_git() {
    let root =
        std::env::var_os("SUIT_FIDELITY_REPO").expect("set SUIT_FIDELITY_REPO to a git work tree");
    let root = Path::new(&root).canonicalize().unwrap();
    let want = oracle(&root, false);
    let got = ingested(&local(&root));
    assert!(got.len() > 100, "{} files", got.len());
    let missing: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    assert!(missing.is_empty() && extra.is_empty(), "missing {missing:?}\nextra {extra:?}");
}
