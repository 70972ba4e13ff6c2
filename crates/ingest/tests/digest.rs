//! The digest itself: summary, tree, contents, formats, secrets, streaming.

mod common;

use common::{local, run, write};
use suit_ingest::{ingest, Format, IngestOptions, Progress, SkipReason, TokenizerKind};

fn sample(root: &std::path::Path) {
    write(root, "README.md", "# Sample\n\n```rust\nfn main() {}\n```\n");
    write(root, "src/main.rs", "fn main() {\n    println!(\"hi <&> ]]>\");\n}\n");
    write(root, "src/util.py", "def f():\n    return 1\n");
    write(root, "assets/logo.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
}

#[test]
fn text_digest_has_summary_tree_contents_and_notice() {
    let dir = tempfile::tempdir().unwrap();
    sample(dir.path());
    let (digest, report) = run(&local(dir.path())).unwrap();
    let name = dir.path().file_name().unwrap().to_str().unwrap();
    let total: usize = report.files.iter().map(|f| f.tokens).sum();
    assert_eq!(report.content_tokens, total);
    // Per-file counts are the tokenizer's counts of the file contents.
    let main_tokens = TokenizerKind::O200k
        .count(&std::fs::read_to_string(dir.path().join("src/main.rs")).unwrap());
    assert!(digest.starts_with(&format!("Digest of {name}\nSource: ")), "{digest}");
    assert!(digest.contains(&format!("Files: 3\nSkipped: 1 (see the notice at the end)\nTokens: {total} in file contents (o200k_base)\n")), "{digest}");
    assert!(digest.contains(&format!("FILE: src/main.rs ({main_tokens} tokens)")), "{digest}");
    assert!(digest.contains("├── assets/\n│   └── logo.png  [skipped: binary]\n"), "{digest}");
    assert!(digest.contains("    println!(\"hi <&> ]]>\");\n"));
    // Order: summary, tree, files in tree order, notice last.
    let pos = |s: &str| digest.find(s).unwrap_or_else(|| panic!("{s} missing"));
    assert!(pos("Directory structure:") < pos("FILE: README.md"));
    assert!(pos("FILE: README.md") < pos("FILE: src/main.rs"));
    assert!(pos("FILE: src/main.rs") < pos("FILE: src/util.py"));
    assert!(pos("FILE: src/util.py") < pos("Notice:"));
    assert!(digest.trim_end().ends_with("- Skipped (1): assets/logo.png (binary)"), "{digest}");
}

#[test]
fn every_format_is_well_formed() {
    let dir = tempfile::tempdir().unwrap();
    sample(dir.path());
    let opts = |format| IngestOptions { format, ..local(dir.path()) };

    let (json, report) = run(&opts(Format::Json)).unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).expect(&json);
    assert_eq!(v["summary"]["files"], 3);
    assert_eq!(v["summary"]["tokens"].as_u64(), Some(report.content_tokens as u64));
    assert_eq!(v["files"][1]["path"], "src/main.rs");
    assert_eq!(v["files"][1]["content"], "fn main() {\n    println!(\"hi <&> ]]>\");\n}\n");
    assert_eq!(v["notice"]["skipped"][0], "assets/logo.png (binary)");

    let (md, _) = run(&opts(Format::Markdown)).unwrap();
    assert!(md.contains("## README.md\n\n_"), "{md}");
    // The README holds a ``` fence, so its block uses a longer one.
    assert!(md.contains("````markdown\n# Sample\n\n```rust\nfn main() {}\n```\n````\n"), "{md}");
    assert!(md.contains("```rust\nfn main() {\n"), "{md}");

    let (xml, _) = run(&opts(Format::Xml)).unwrap();
    assert!(xml.starts_with("<digest name="), "{xml}");
    assert!(xml.trim_end().ends_with("</notice>\n</digest>"), "{xml}");
    assert!(xml.contains("<file path=\"src/main.rs\" mode=\"full\""), "{xml}");
    // CDATA is closed and reopened around "]]>" so the document stays valid.
    assert!(xml.contains("hi <&> ]]]]><![CDATA[>\");"), "{xml}");
    assert_eq!(xml.matches("<file ").count(), xml.matches("</file>").count());
}

#[test]
fn secrets_are_redacted_or_dropped_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let token = format!("ghp_{}", "Zx9Q".repeat(9));
    write(root, "config.py", format!("TOKEN = \"{token}\"\nDEBUG = True\n"));
    write(root, "keys/id_rsa", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n");
    write(root, ".env", "API_KEY=abc123\n");
    write(root, "clean.rs", "fn clean() {}\n");

    let opts = IngestOptions { hidden: true, ..local(root) };
    let (digest, report) = run(&opts).unwrap();
    assert!(
        !digest.contains(&token)
            && !digest.contains("b3BlbnNzaC1rZXktdjEAAAAA")
            && !digest.contains("abc123"),
        "{digest}"
    );
    assert!(digest.contains("TOKEN = \"[REDACTED:github-token]\""), "{digest}");
    assert!(digest.contains("API_KEY=[REDACTED:env-value]"), "{digest}");
    let mut found: Vec<_> =
        report.secrets.iter().map(|s| (s.path.as_str(), s.line, s.kind)).collect();
    found.sort();
    assert_eq!(
        found,
        vec![
            (".env", 1, "env-value"),
            ("config.py", 1, "github-token"),
            ("keys/id_rsa", 1, "private-key")
        ]
    );
    assert!(digest.contains("Secrets redacted (3):"), "{digest}");

    let opts = IngestOptions { hidden: true, drop_secrets: true, ..local(root) };
    let (digest, report) = run(&opts).unwrap();
    assert_eq!(report.files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(), vec!["clean.rs"]);
    assert!(report
        .skipped
        .iter()
        .any(|s| s.path == "config.py" && s.reason == SkipReason::Secrets { count: 1 }));
    assert!(!digest.contains("DEBUG = True"), "dropped files are not shown at all");
    assert_eq!(report.secrets.len(), 3);
}

#[test]
fn the_count_cache_changes_nothing_but_the_work() {
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let root = dir.path();
    sample(root);
    let token = format!("ghp_{}", "Zx9Q".repeat(9));
    write(root, "config.py", format!("TOKEN = \"{token}\"\n"));
    // The same text is a secret in an environment file, and not elsewhere.
    write(root, "app.txt", "API_KEY=abc123\n");
    write(root, ".env", "API_KEY=abc123\n");
    let plain = IngestOptions { hidden: true, ..local(root) };
    let cached = IngestOptions { count_cache: Some(cache.path().into()), ..plain.clone() };
    let (expected, report) = run(&plain).unwrap();
    let cache_file = cache.path().join("token-counts-o200k_base.bin");
    for round in ["cold", "warm"] {
        let (digest, again) = run(&cached).unwrap();
        assert_eq!(digest, expected, "{round} cache: the digest is the same");
        assert_eq!(again.secrets, report.secrets, "{round} cache: secrets are still found");
        assert!(digest.contains("[REDACTED:env-value]") && !digest.contains(&token), "{digest}");
        assert!(digest.contains("API_KEY=abc123"), "app.txt is shown as it is");
    }
    // Six texts are cached: four clean ones (README.md, src/main.rs,
    // src/util.py, app.txt) and the two with secrets, flagged so that they
    // are scanned every time (checked above: still redacted when warm).
    // The header: magic, fingerprint, count entries, metadata entries.
    let bytes = std::fs::read(&cache_file).unwrap();
    let entries = u32::from_le_bytes(bytes[16..20].try_into().unwrap());
    assert_eq!(entries, 6);
    let flagged = bytes[24..24 + entries as usize * 20]
        .chunks_exact(20)
        .filter(|e| u32::from_le_bytes(e[16..].try_into().unwrap()) >> 31 == 1)
        .count();
    assert_eq!(flagged, 2);

    // A changed file is counted afresh.
    let edited = "fn main() {\n    println!(\"changed, and longer than before\");\n}\n";
    write(root, "src/main.rs", edited);
    let (digest, _) = run(&cached).unwrap();
    let tokens = TokenizerKind::O200k.count(edited);
    assert!(digest.contains(&format!("FILE: src/main.rs ({tokens} tokens)")), "{digest}");
    assert_eq!(run(&plain).unwrap().0, digest);

    // Counts do come from the cache: a doctored entry shows through.
    let mut bytes = std::fs::read(&cache_file).unwrap();
    let entries = u32::from_le_bytes(bytes[16..20].try_into().unwrap()) as usize;
    for entry in bytes[24..24 + entries * 20].chunks_exact_mut(20) {
        let flag = u32::from_le_bytes(entry[16..].try_into().unwrap()) & (1 << 31);
        entry[16..].copy_from_slice(&(7777u32 | flag).to_le_bytes());
    }
    std::fs::write(&cache_file, &bytes).unwrap();
    let (digest, _) = run(&cached).unwrap();
    assert!(digest.contains("FILE: src/util.py (7777 tokens)"), "{digest}");
    assert!(digest.contains("FILE: config.py (7777 tokens)"), "a count with secrets is cached");
    assert!(!digest.contains(&token), "and the file is still redacted");
}

#[test]
fn streams_many_files_in_order_with_progress() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..300 {
        write(dir.path(), &format!("d{}/f{i:03}.txt", i % 7), format!("file {i}\n"));
    }
    let events = std::sync::Mutex::new(Vec::new());
    let mut out = Vec::new();
    let report = ingest(&local(dir.path()), &mut out, &|p| events.lock().unwrap().push(p)).unwrap();
    let digest = String::from_utf8(out).unwrap();
    assert_eq!(report.files.len(), 300);
    let order: Vec<&str> = digest
        .lines()
        .filter_map(|l| l.strip_prefix("FILE: "))
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    let paths: Vec<&str> = report.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(order, paths);
    let mut sorted = paths.clone();
    sorted.sort_by(|a, b| a.split('/').cmp(b.split('/')));
    assert_eq!(paths, sorted);
    let events = events.into_inner().unwrap();
    assert!(events.contains(&Progress::Walked { files: 300, skipped: 0 }));
    assert!(events.contains(&Progress::Read { done: 300, total: 300 }));
    assert!(events.contains(&Progress::Written { done: 300, total: 300 }));
}

#[test]
fn a_single_file_and_cl100k_work() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "one.rs", "fn one() -> u8 { 1 }\n");
    let opts = IngestOptions {
        source: dir.path().join("one.rs").to_str().unwrap().into(),
        tokenizer: TokenizerKind::Cl100k.into(),
        ..Default::default()
    };
    let (digest, report) = run(&opts).unwrap();
    assert_eq!(report.files.len(), 1);
    assert_eq!(report.files[0].path, "one.rs");
    assert!(
        digest.contains("(cl100k_base)") && digest.contains("fn one() -> u8 { 1 }"),
        "{digest}"
    );
}

/// A notebook is shown as its cells: the code and the text, not the outputs
/// (here a base64 image), counted as shown, the same with a cache.
#[test]
fn notebooks_show_cells_without_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let root = dir.path();
    let png = "iVBORw0KGgoAAAANSUhEUgAA".repeat(2_000);
    let nb = serde_json::json!({
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"language": "python", "name": "python3"}},
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Analysis\n", "Plots the data."]},
            {"cell_type": "code", "metadata": {}, "execution_count": 1,
             "source": ["import math\n", "print(math.tau)"],
             "outputs": [{"output_type": "display_data", "data": {"image/png": png}, "metadata": {}}]}
        ]
    });
    write(root, "analysis.ipynb", nb.to_string());
    write(root, "broken.ipynb", "{ not json");
    let plain = local(root);
    let (digest, report) = run(&plain).unwrap();
    let cells = "# Jupyter notebook: 2 cells, 1 output left out\n\n# %% [markdown]\n# # Analysis\n# Plots the data.\n\n# %%\nimport math\nprint(math.tau)\n";
    assert!(digest.contains(cells), "{digest}");
    assert!(!digest.contains("iVBOR"), "outputs are left out");
    assert!(digest.contains("{ not json"), "what is not a notebook is shown as it is");
    let nb_report = report.files.iter().find(|f| f.path == "analysis.ipynb").unwrap();
    assert_eq!(nb_report.tokens, TokenizerKind::O200k.count(cells));
    let cached = IngestOptions { count_cache: Some(cache.path().into()), ..plain };
    for _ in 0..2 {
        assert_eq!(run(&cached).unwrap().0, digest);
    }
}
