//! `--tokens N`: the digest never exceeds N tokens by the named tokenizer,
//! and it ends with a notice whenever something was cut.

mod common;

use common::{local, run, write};
use proptest::prelude::*;
use suit_ingest::{FileMode, Format, IngestError, IngestOptions, TokenizerKind};

#[derive(Debug, Clone)]
struct Spec {
    dir: usize,
    kind: usize,
    units: usize,
}

const DIRS: &[&str] = &["", "src/", "src/deep/", "tests/", "docs/"];

fn content(kind: usize, units: usize, seed: usize) -> (String, String) {
    match kind {
        0 => (
            "rs".into(),
            (0..units)
                .map(|i| format!("/// Computes value {i}.\npub fn f{seed}_{i}(x: u64) -> u64 {{\n    let y = x * {i} + {seed};\n    y.wrapping_mul(31).rotate_left(3)\n}}\n\n"))
                .collect(),
        ),
        1 => (
            "py".into(),
            (0..units)
                .map(|i| format!("def g{seed}_{i}(x):\n    \"\"\"Doubles {i}.\"\"\"\n    total = x * 2 + {i}\n    return total\n\n"))
                .collect(),
        ),
        _ => ("md".into(), (0..units).map(|i| format!("Line {i} of note {seed}: some prose here.\n")).collect()),
    }
}

fn tree() -> impl Strategy<Value = Vec<Spec>> {
    prop::collection::vec(
        (0..DIRS.len(), 0..3usize, 1..40usize).prop_map(|(dir, kind, units)| Spec {
            dir,
            kind,
            units,
        }),
        1..10,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn never_exceeds_the_budget_and_always_says_what_was_cut(
        specs in tree(),
        budget in 1usize..6000,
        cl100k in any::<bool>(),
        format in 0..4usize,
        readme in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for (n, s) in specs.iter().enumerate() {
            let (ext, text) = content(s.kind, s.units, n);
            write(root, &format!("{}file{n}.{ext}", DIRS[s.dir]), text);
        }
        if readme {
            write(root, "README.md", "# Project\n\nWhat it does.\n");
        }
        let tokenizer = if cl100k { TokenizerKind::Cl100k } else { TokenizerKind::O200k };
        let format = [Format::Text, Format::Markdown, Format::Xml, Format::Json][format];
        let opts = IngestOptions {
            token_budget: Some(budget),
            tokenizer: tokenizer.into(),
            format,
            ..local(root)
        };
        match run(&opts) {
            Ok((digest, report)) => {
                let n = tokenizer.count(&digest);
                prop_assert!(n <= budget, "{n} > {budget}");
                prop_assert_eq!(report.digest_tokens, Some(n));
                let cut = report.files.iter().any(|f| f.mode != FileMode::Full) || !report.skipped.is_empty();
                let complete_marker = "Complete: every text file found is included in full.";
                if cut {
                    prop_assert!(digest.contains("does not show the whole repository"), "{}", digest);
                    prop_assert!(!digest.contains(complete_marker));
                } else {
                    prop_assert!(digest.contains(complete_marker), "{}", digest);
                }
                // The header claims the exact total.
                prop_assert!(digest.contains(&n.to_string()));
                if format == Format::Json {
                    let v: serde_json::Value = serde_json::from_str(&digest).map_err(|e| TestCaseError::fail(format!("{e}: {digest}")))?;
                    prop_assert_eq!(v["summary"]["tokens"].as_u64(), Some(n as u64));
                    prop_assert_eq!(v["notice"]["complete"].as_bool(), Some(!cut));
                } else {
                    // The notice comes last: its verdict is in the last lines
                    // (lists after it are cut to a few entries).
                    let mut from = digest.len().saturating_sub(400);
                    while !digest.is_char_boundary(from) {
                        from += 1;
                    }
                    let tail = &digest[from..];
                    prop_assert!(tail.contains("complete") || tail.contains("Complete") || tail.contains("does not show"), "{}", tail);
                }
            }
            Err(IngestError::BudgetTooSmall { budget: b, needed }) => {
                prop_assert_eq!(b, budget);
                prop_assert!(needed > budget);
            }
            Err(other) => prop_assert!(false, "{}", other),
        }
    }
}

#[test]
fn graded_packing_prefers_named_files_and_readme_then_outlines() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "README.md", "# Demo\n\nA demo project.\n");
    let (_, big) = content(0, 200, 1);
    write(root, "src/engine.rs", &big);
    let (_, other) = content(0, 200, 2);
    write(root, "src/other.rs", &other);
    let (_, py) = content(1, 300, 3);
    write(root, "tests/gen.py", &py);
    let full = run(&local(root)).unwrap().1;
    let total: usize = full.files.iter().map(|f| f.full_tokens).sum();
    let tokens_of = |p: &str| full.files.iter().find(|f| f.path == p).unwrap().full_tokens;
    let engine_outline =
        TokenizerKind::O200k.count(&suit_ingest::outline("src/engine.rs", &big).unwrap());
    assert!(engine_outline * 2 < tokens_of("src/engine.rs"));

    // Room for the named file, the README and one outline, not for the rest.
    let budget = tokens_of("src/other.rs") + tokens_of("README.md") + engine_outline + 600;
    let opts = IngestOptions {
        token_budget: Some(budget),
        named_files: vec!["src/other.rs".into()],
        ..local(root)
    };
    let (digest, report) = run(&opts).unwrap();
    let mode = |p: &str| report.files.iter().find(|f| f.path == p).unwrap().mode;
    assert_eq!(mode("README.md"), FileMode::Full);
    assert_eq!(mode("src/other.rs"), FileMode::Full, "named file first");
    assert_eq!(mode("src/engine.rs"), FileMode::Outline);
    assert!(digest.contains("pub fn f1_7(x: u64) -> u64 { … }"), "outline shows signatures");
    assert!(!digest.contains("let y = x * 7 + 1;"), "outline hides bodies");
    assert!(digest.contains("/// Computes value 7."), "outline keeps doc comments");
    assert!(digest.contains("Shortened to outlines (1): src/engine.rs"), "{digest}");
    assert_eq!(mode("tests/gen.py"), FileMode::PathOnly);
    assert!(
        digest.contains("Left out, path only (1): marked [path only] in the directory tree"),
        "{digest}"
    );
    assert!(
        digest.contains("gen.py  [path only]") && digest.contains("engine.rs  [outline]"),
        "{digest}"
    );
    assert!(report.digest_tokens.unwrap() <= budget);

    // A budget that holds everything shows everything, with a complete notice.
    let opts = IngestOptions { token_budget: Some(total * 2), ..local(root) };
    let (digest, report) = run(&opts).unwrap();
    assert!(report.files.iter().all(|f| f.mode == FileMode::Full));
    assert!(digest.contains("Complete:"));
}

/// Full texts cannot crowd out the map of the rest: a budget that holds two
/// files in full shows most of them at least as outlines.
#[test]
fn a_tight_budget_shows_outlines_of_many_files_before_a_few_in_full() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let body: String =
        (0..25).map(|i| format!("    let v{i} = x.wrapping_mul({i}) ^ (x >> {i});\n")).collect();
    for k in 0..8 {
        let src: String = (0..4)
            .map(|j| format!("/// Step {j} of module {k}.\npub fn step{k}_{j}(x: u64) -> u64 {{\n{body}    x\n}}\n\n"))
            .collect();
        write(root, &format!("src/m{k}.rs"), &src);
    }
    let full = run(&local(root)).unwrap().1;
    let one = full.files.iter().map(|f| f.full_tokens).max().unwrap();
    let outline = TokenizerKind::O200k.count(
        &suit_ingest::outline(
            "src/m0.rs",
            &std::fs::read_to_string(root.join("src/m0.rs")).unwrap(),
        )
        .unwrap(),
    );
    assert!(outline * 8 < one, "outlines are small: {outline} of {one}");

    let budget = 2 * one + 700;
    let opts = IngestOptions { token_budget: Some(budget), ..local(root) };
    let (_, report) = run(&opts).unwrap();
    let shown = report.files.iter().filter(|f| f.mode != FileMode::PathOnly).count();
    let in_full = report.files.iter().filter(|f| f.mode == FileMode::Full).count();
    assert!(shown >= 7, "{shown} of 8 shown: {:?}", report.files);
    assert!(in_full >= 1, "the most important file is still shown in full");
    assert!(report.digest_tokens.unwrap() <= budget);
}
