//! End-to-end tests of `suit run` and `suit complete` through the binary
//! with the real small coder model (Qwen2.5-Coder-0.5B, greedy decoding).

mod common;

use std::process::Command;

use common::{text, Home};

const CODER: &str = "qwen2.5-coder-0.5b-instruct-q4_k_m";

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
    // the planned file (a reply may still be refused for changing nothing).
    let proposals = events.iter().filter(|e| e["event"] == "proposal").count();
    assert!(proposals >= 1);
    for e in events.iter().filter(|e| e["event"] == "edit_failed") {
        let reason = e["reason"].as_str().unwrap();
        assert!(
            reason.contains("changes nothing") || reason.contains("leash"),
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
