//! End-to-end tests of `suit run` and `suit complete` through the binary
//! with the real coder models: Qwen2.5-Coder-0.5B for the mechanics, and
//! the default 1.5B where its own habits are what is tested.

mod common;

use std::process::Command;

use common::{text, Home};

const CODER: &str = "qwen2.5-coder-0.5b-instruct-q4_k_m";
const DEFAULT_MODEL: &str = "qwen2.5-coder-1.5b-instruct-q4_k_m";

const BUGGY: &str = "def area(width, height):\n    return width + height\n";
const TESTS: &str = "import unittest\n\nfrom shapes import area\n\n\nclass AreaTest(unittest.TestCase):\n    def test_area(self):\n        self.assertEqual(area(3, 4), 12)\n\n\nif __name__ == \"__main__\":\n    unittest.main()\n";

#[test]
fn run_at_auto_with_the_real_model_ends_with_a_clear_outcome_and_no_half_state() {
    let p = Home::with_files(&[("shapes.py", BUGGY), ("test_shapes.py", TESTS)]);
    let out = p.suit(
        &[
            "run",
            "area() adds instead of multiplying; make the test pass",
            "--autonomy",
            "auto",
            "--check",
            "python3 -m unittest -q",
            "--model",
            CODER,
            "--max-steps",
            "2",
            "--max-output-tokens",
            "256",
            "--json",
        ],
        "",
    );
    let stderr = text(&out.stderr);
    let events: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}\n{stderr}"))
        })
        .collect();
    let last = events.last().unwrap_or_else(|| panic!("no events; stderr: {stderr}"));
    assert_eq!(last["event"], "finished", "{stderr}");
    let outcome = last["outcome"].as_str().unwrap();
    let code = out.status.code().unwrap();
    match outcome {
        "done" => assert_eq!(code, 0),
        "checks_failing" => assert_eq!(code, 2),
        "budget_exhausted" => assert_eq!(code, 3),
        other => panic!("unexpected outcome {other}: {events:#?}"),
    }
    // Grammar-constrained decoding: every reply was a well-formed edit of
    // the planned file (a reply may still be refused for changing nothing,
    // for its size, or for holding none of the file's functions).
    let proposals = events.iter().filter(|e| e["event"] == "proposal").count();
    assert!(proposals >= 1);
    for e in events.iter().filter(|e| e["event"] == "edit_failed") {
        let reason = e["reason"].as_str().unwrap();
        assert!(
            reason.contains("changes nothing")
                || reason.contains("leash")
                || reason.contains("is not the whole of shapes.py"),
            "malformed reply: {reason}"
        );
    }
    let context = events.iter().find(|e| e["event"] == "context_summary").unwrap();
    let sources: Vec<&str> = context["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["source"].as_str().unwrap())
        .collect();
    assert!(sources.contains(&"repo:shapes.py"), "suit picked the file to change: {sources:?}");
    assert!(sources.contains(&"tool:python3 -m unittest -q"), "{sources:?}");
    // Either the tests pass now, or every step was rolled back.
    let check = Command::new("python3")
        .args(["-m", "unittest", "-q"])
        .current_dir(p.work())
        .output()
        .unwrap();
    if outcome == "done" {
        assert!(check.status.success());
        let log = p.suit(&["log", "--oneline"], "");
        assert!(text(&log.stdout).contains("step"), "{}", text(&log.stdout));
        // The journal says who let the step through.
        assert!(text(&log.stdout).contains("accepted by the checks"), "{}", text(&log.stdout));
        let undo = p.suit(&["undo"], "");
        assert!(undo.status.success(), "{}", text(&undo.stderr));
        assert_eq!(p.read("shapes.py"), BUGGY);
    } else {
        assert_eq!(p.read("shapes.py"), BUGGY);
    }
    assert_eq!(p.read("test_shapes.py"), TESTS);
}

#[test]
fn complete_fills_the_cursor_and_apply_is_undoable() {
    let source = "def fahrenheit_to_celsius(f):\n    \n";
    let p = Home::with_files(&[("temp.py", source)]);
    let out = p.suit(&["complete", "temp.py:2:5", "--model", CODER, "--max-tokens", "24"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let insertion = text(&out.stdout);
    assert!(!insertion.trim().is_empty(), "no insertion");
    assert_eq!(p.read("temp.py"), source, "without --apply nothing is written");

    let out =
        p.suit(&["complete", "temp.py:2:5", "--model", CODER, "--max-tokens", "24", "--apply"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let written = p.read("temp.py");
    assert!(written.starts_with("def fahrenheit_to_celsius(f):\n    "));
    assert!(written.len() > source.len());
    assert!(written.contains(text(&out.stdout).trim_end()), "{written}");
    let undo = p.suit(&["undo"], "");
    assert!(undo.status.success(), "{}", text(&undo.stderr));
    assert_eq!(p.read("temp.py"), source);

    let bad = p.suit(&["complete", "temp.py:9:1", "--model", CODER], "");
    assert!(!bad.status.success());
    assert!(text(&bad.stderr).contains("past the end"), "{}", text(&bad.stderr));
}

#[test]
fn completions_end_where_the_block_at_the_cursor_ends() {
    // Function bodies taken out of real-sized modules: the completion must
    // fill the body and stop, not go on with the next functions.
    let python = "import re\n\n\ndef words(text):\n    \n\n\ndef count_words(text):\n    \
                  return len(words(text))\n\n\ndef longest_word(text):\n    found = words(text)\n    \
                  return max(found, key=len) if found else None\n";
    let rust = "pub fn mean(values: &[f64]) -> Option<f64> {\n    \n}\n\npub fn median(values: \
                &[f64]) -> Option<f64> {\n    let mut v = values.to_vec();\n    \
                v.sort_by(f64::total_cmp);\n    v.get(v.len() / 2).copied()\n}\n";
    let p = Home::with_files(&[("text.py", python), ("stats.rs", rust)]);
    for (at, body_indent) in [("text.py:5:5", 4), ("stats.rs:2:5", 4)] {
        let out = p.suit(&["complete", at, "--model", CODER, "--max-tokens", "128"], "");
        assert!(out.status.success(), "{}", text(&out.stderr));
        let insertion = text(&out.stdout);
        assert!(!insertion.trim().is_empty(), "{at}: no insertion");
        for line in insertion.lines().skip(1).filter(|l| !l.trim().is_empty()) {
            let indent = line.len() - line.trim_start().len();
            assert!(indent >= body_indent, "{at}: the insertion leaves the block: {insertion:?}");
        }
        assert!(!insertion.contains("def count_words") && !insertion.contains("fn median"));
    }
    let out = p.suit(&["complete", "text.py:5:5", "--model", CODER, "--apply"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let parsed = Command::new("python3")
        .args(["-c", "import ast, sys; ast.parse(open(sys.argv[1]).read())"])
        .arg(p.work().join("text.py"))
        .output()
        .expect("python3");
    assert!(parsed.status.success(), "{}\n{}", text(&parsed.stderr), p.read("text.py"));
    let out = p.suit(&["complete", "text.py:5:5", "--model", CODER, "--max-lines", "1"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).trim_end().lines().count() <= 1, "{}", text(&out.stdout));
}

#[test]
fn run_refuses_bad_requests_with_a_fix() {
    let p = Home::with_files(&[("shapes.py", BUGGY)]);
    for (args, expected) in [
        (vec!["run", "fix it", "--autonomy", "edit", "--file", "shapes.py"], "PATH:START-END"),
        (vec!["run", "fix it", "--autonomy", "file", "--file", "nope.py"], "does not exist"),
        (vec!["run", "fix it", "--autonomy", "sideways"], "sideways"),
        (vec!["run", "fix it", "--autonomy", "repo", "--file", "../x.py"], "cannot use --file"),
    ] {
        let mut full = args.clone();
        full.extend(["--model", CODER]);
        let out = p.suit(&full, "");
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(text(&out.stderr).contains(expected), "{args:?}: {}", text(&out.stderr));
    }
    assert_eq!(p.read("shapes.py"), BUGGY);
}

/// A function with two bugs (it splits on single spaces, and it does not
/// lower-case) and five tests, three failing.
const WORDFREQ: &str = r#""""Word frequencies of a text."""


def word_counts(text):
    """Count how often each word occurs in `text`.

    Words are separated by any whitespace (spaces, tabs, newlines) and
    compared without regard to case: "The" and "the" are the same word.
    """
    counts = {}
    for word in text.split(" "):
        if not word:
            continue
        counts[word] = counts.get(word, 0) + 1
    return counts
"#;

const WORDFREQ_TESTS: &str = r#"import unittest

from wordfreq import word_counts


class WordCountsTest(unittest.TestCase):
    def test_single_spaces(self):
        self.assertEqual(word_counts("a b a"), {"a": 2, "b": 1})

    def test_tabs_and_newlines_separate_words(self):
        self.assertEqual(word_counts("a\tb\nc"), {"a": 1, "b": 1, "c": 1})

    def test_case_is_ignored(self):
        self.assertEqual(word_counts("The the THE"), {"the": 3})

    def test_runs_of_whitespace(self):
        self.assertEqual(word_counts("  x   y  \n"), {"x": 1, "y": 1})

    def test_empty(self):
        self.assertEqual(word_counts(""), {})


if __name__ == "__main__":
    unittest.main()
"#;

#[test]
fn with_the_default_model_a_no_op_reply_is_followed_by_a_changed_request_not_a_stop() {
    // One candidate per try, so every reply is the model's own greedy or
    // sampled answer to one request. After the first fix (the split), the
    // 1.5B model answers the next request with the file unchanged.
    let p = Home::with_files(&[("wordfreq.py", WORDFREQ), ("test_wordfreq.py", WORDFREQ_TESTS)]);
    let out = p.suit(
        &[
            "run",
            "word_counts must split on any whitespace and ignore case; make the tests pass",
            "--autonomy",
            "auto",
            "--check",
            "python3 -m unittest -q",
            "--file",
            "wordfreq.py",
            "--model",
            DEFAULT_MODEL,
            "--candidates",
            "1",
            "--max-steps",
            "3",
            "--max-reflections",
            "1",
            "--max-output-tokens",
            "400",
            "--json",
        ],
        "",
    );
    let stderr = text(&out.stderr);
    let events: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|e: &serde_json::Value| e["event"] != "reply_delta")
        .collect();
    let last = events.last().unwrap_or_else(|| panic!("no events; stderr: {stderr}"));
    assert_eq!(last["event"], "finished", "{stderr}");
    let no_op = events
        .iter()
        .position(|e| {
            e["event"] == "edit_failed"
                && e["reason"].as_str().is_some_and(|r| r.contains("changes nothing"))
        })
        .unwrap_or_else(|| panic!("the model made no no-op reply this time: {events:#?}"));
    // What follows the no-op is a new request (a hotter reflection or the
    // next strategy), never a stop.
    let after = &events[no_op + 1..];
    let next = after
        .iter()
        .find(|e| e["event"] == "proposal" || e["event"] == "finished")
        .expect("an event after the no-op");
    assert_eq!(next["event"], "proposal", "the run stopped at a no-op: {events:#?}");
    assert_ne!(last["stop"]["limit"], "repeated", "strategies were left: {events:#?}");
    // Files are whole: the function is the original or a kept step's, and
    // the tests are untouched.
    assert_eq!(p.read("test_wordfreq.py"), WORDFREQ_TESTS);
    let check = Command::new("python3")
        .args(["-c", "import wordfreq"])
        .current_dir(p.work())
        .output()
        .unwrap();
    assert!(check.status.success(), "wordfreq.py still imports");
}
