//! Remote input through the real `git` binary, on a local bare repository
//! served with `file://` (the same fetch path as https, without a network).

mod common;

use std::path::Path;

use common::{git, run, write};
use suit_ingest::IngestOptions;

fn bare_repo(dir: &Path) -> String {
    let work = dir.join("work");
    std::fs::create_dir_all(&work).unwrap();
    git(&work, &["init", "-q"]);
    write(&work, "README.md", "# demo\n");
    write(&work, "src/lib.rs", "pub fn v1() {}\n");
    git(&work, &["add", "."]);
    git(&work, &["commit", "-q", "-m", "one"]);
    git(&work, &["tag", "v1"]);
    write(&work, "src/lib.rs", "pub fn v2() {}\n");
    write(&work, "docs/guide.md", "guide\n");
    git(&work, &["add", "."]);
    git(&work, &["commit", "-q", "-m", "two"]);
    git(&work, &["checkout", "-q", "-b", "dev"]);
    write(&work, "src/dev.rs", "pub fn dev() {}\n");
    git(&work, &["add", "."]);
    git(&work, &["commit", "-q", "-m", "dev"]);
    git(&work, &["checkout", "-q", "main"]);
    git(dir, &["clone", "-q", "--bare", work.to_str().unwrap(), "remote.git"]);
    format!("file://{}", dir.join("remote.git").display())
}

fn files(opts: &IngestOptions) -> (String, Vec<String>) {
    let (digest, report) = run(opts).unwrap();
    (digest, report.files.iter().map(|f| f.path.clone()).collect())
}

#[test]
fn clones_default_branch_tag_and_branch_shallowly_into_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let url = bare_repo(dir.path());
    let cache = dir.path().join("cache");
    let base =
        IngestOptions { source: url.clone(), cache_dir: Some(cache.clone()), ..Default::default() };

    let (digest, got) = files(&base);
    assert_eq!(got, vec!["README.md", "docs/guide.md", "src/lib.rs"]);
    assert!(digest.contains("pub fn v2()") && digest.contains("Digest of remote"), "{digest}");
    assert!(digest.contains(&format!("Source: {url} (commit ")), "{digest}");

    let (digest, got) = files(&IngestOptions { git_ref: Some("v1".into()), ..base.clone() });
    assert_eq!(got, vec!["README.md", "src/lib.rs"]);
    assert!(digest.contains("pub fn v1()") && digest.contains(" at v1"), "{digest}");

    let (_, got) = files(&IngestOptions { git_ref: Some("dev".into()), ..base.clone() });
    assert!(got.contains(&"src/dev.rs".to_string()), "{got:?}");

    // Shallow: one commit in the clone; the cache holds one folder per URL and ref.
    let clones: Vec<_> =
        std::fs::read_dir(cache.join("repos")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(clones.len(), 3, "{clones:?}");
    for clone in &clones {
        assert_eq!(git(clone, &["rev-list", "--count", "HEAD"]).trim(), "1");
    }
    // A second run replaces the cached clone and gives the same digest.
    let (again, _) = files(&base);
    assert_eq!(again, files(&base).0);
}

#[test]
fn missing_ref_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let url = bare_repo(dir.path());
    let opts = IngestOptions {
        source: url.clone(),
        git_ref: Some("no-such-branch".into()),
        cache_dir: Some(dir.path().join("cache")),
        ..Default::default()
    };
    let msg = run(&opts).unwrap_err().to_string();
    assert!(msg.contains(&url) && msg.contains("no-such-branch"), "{msg}");
}
