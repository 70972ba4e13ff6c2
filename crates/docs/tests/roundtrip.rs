//! HTML → markdown → HTML round trip over the CommonMark spec examples.
//!
//! Each example's markdown is rendered to HTML by pulldown-cmark, converted
//! back to markdown by suit-docs, rendered again, and both HTML documents are
//! compared structurally (tags, attributes, whitespace-normalized text).
//!
//! Exclusion rule: examples whose markdown contains raw HTML (pulldown-cmark
//! reports an `Html` or `InlineHtml` event) are left out, since their HTML is
//! not made from markdown constructs at all. Everything else counts.

mod common;

use suit_docs::{convert_html, ConvertOptions};

#[derive(serde::Deserialize)]
struct Spec {
    examples: Vec<Example>,
    gfm_tables: Vec<Named>,
}

#[derive(serde::Deserialize)]
struct Example {
    example: u32,
    markdown: String,
}

#[derive(serde::Deserialize)]
struct Named {
    name: String,
    markdown: String,
}

fn spec() -> Spec {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/commonmark-spec.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("spec fixture")).expect("spec json")
}

fn round_trip(md: &str, gfm: bool) -> Result<(), String> {
    let html = common::render(md, gfm);
    let opts = ConvertOptions { base_url: None, main_content: false };
    let back = convert_html(&html, &opts).markdown;
    let html2 = common::render(&back, gfm);
    let (a, b) = (common::normalize(&html), common::normalize(&html2));
    if a == b {
        Ok(())
    } else {
        Err(format!("html:\n{html}\nmarkdown:\n{back}\nre-rendered:\n{html2}"))
    }
}

#[test]
fn commonmark_spec_round_trip() {
    let spec = spec();
    let (mut total, mut passed, mut excluded) = (0, 0, 0);
    let mut failures = Vec::new();
    for ex in &spec.examples {
        if common::has_raw_html(&ex.markdown) {
            excluded += 1;
            continue;
        }
        total += 1;
        match round_trip(&ex.markdown, false) {
            Ok(()) => passed += 1,
            Err(e) => failures.push(format!("example {}:\n{}\n{e}", ex.example, ex.markdown)),
        }
    }
    let rate = passed as f64 * 100.0 / total as f64;
    eprintln!(
        "CommonMark round trip: {passed}/{total} = {rate:.1}% ({excluded} raw-HTML examples excluded)"
    );
    for f in failures.iter().take(40) {
        eprintln!("---- {f}");
    }
    assert!(total > 500, "the spec fixture should hold the full example set");
    assert!(rate >= 98.0, "round-trip pass rate {rate:.1}% is below 98%");
}

#[test]
fn gfm_tables_round_trip() {
    let spec = spec();
    let mut failures = Vec::new();
    for t in &spec.gfm_tables {
        if common::has_raw_html(&t.markdown) {
            continue;
        }
        if let Err(e) = round_trip(&t.markdown, true) {
            failures.push(format!("{}:\n{}\n{e}", t.name, t.markdown));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n----\n"));
}

#[test]
fn extensions_round_trip() {
    for md in [
        "Text with a note[^a].\n\n[^a]: The note, *emphasized*.\n",
        "Term\n: Definition one\n\nOther\n: Two\n",
        "- [x] done\n- [ ] todo\n",
        "~~gone~~ and | a pipe\n",
        "| a | b |\n| :-- | --: |\n| `x\\|y` | **z** |\n",
    ] {
        round_trip(md, true).unwrap_or_else(|e| panic!("{md}\n{e}"));
    }
}

#[test]
fn comparison_sees_structure() {
    // The comparison itself must tell different structures apart.
    assert_ne!(common::normalize("<p>a <em>b</em></p>"), common::normalize("<p>a b</p>"));
    assert_ne!(
        common::normalize("<pre><code>a  b</code></pre>"),
        common::normalize("<pre><code>a b</code></pre>")
    );
    assert_ne!(
        common::normalize("<ol start=\"2\"><li>a</li></ol>"),
        common::normalize("<ol><li>a</li></ol>")
    );
    assert_eq!(common::normalize("<p>a\n  b </p>\n"), common::normalize("<p>a b</p>"));
    assert!(round_trip("- a\n- b\n", false).is_ok());
}
