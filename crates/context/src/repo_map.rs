//! The repository map: outlines (signatures and doc comments, bodies elided)
//! of the files most relevant to the task, best first, so the model knows
//! what exists beyond the files in play.

use std::collections::HashSet;
use std::path::Path;

use suit_ingest::outline;

use crate::{Segment, Shrink, Source};

/// Files larger than this are listed in the map by path only.
const MAX_OUTLINE_BYTES: u64 = 256 * 1024;

/// At most this many files are read for outlines; the rest are listed by path.
const MAX_OUTLINED_FILES: usize = 200;

/// A file and how relevant it looks to the task.
#[derive(Debug, Clone, PartialEq)]
pub struct RankedFile {
    /// Path relative to the repository root.
    pub path: String,
    /// Relevance; higher is better, 0 means nothing points at it.
    pub score: f32,
}

/// Whether `path` looks like a test file by the naming conventions of
/// common languages (`tests/`, `test_x.py`, `x_test.go`, `x.spec.ts`, ...).
pub fn is_test_path(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    let mut parts = lower.split('/').collect::<Vec<_>>();
    let name = parts.pop().unwrap_or_default();
    if parts.iter().any(|d| matches!(*d, "test" | "tests" | "__tests__" | "spec" | "testdata")) {
        return true;
    }
    let stem = name.split('.').next().unwrap_or_default();
    stem.starts_with("test_")
        || stem.ends_with("_test")
        || stem.ends_with("_tests")
        || stem == "tests"
        || stem == "test"
        || stem == "conftest"
        || name.contains(".test.")
        || name.contains(".spec.")
        || (path.ends_with("Test.java") || path.ends_with("Tests.java"))
}

/// Lower-cased identifier-like words of at least three characters, split
/// at `_`, `-`, `.`, `/` and camelCase humps as well as kept whole.
fn words(text: &str) -> HashSet<String> {
    let mut out = HashSet::new();
    for raw in text.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
        if raw.len() >= 3 {
            out.insert(raw.to_lowercase());
        }
        let mut part = String::new();
        let mut prev_lower = false;
        for c in raw.chars() {
            if c == '_' || (c.is_uppercase() && prev_lower) {
                if part.len() >= 3 {
                    out.insert(part.to_lowercase());
                }
                part.clear();
            }
            if c != '_' {
                part.push(c);
            }
            prev_lower = c.is_lowercase();
        }
        if part.len() >= 3 {
            out.insert(part.to_lowercase());
        }
    }
    for stop in STOP_WORDS {
        out.remove(*stop);
    }
    out
}

/// Words too common in tasks and code to say anything about relevance.
const STOP_WORDS: &[&str] = &[
    "the", "and", "for", "that", "this", "with", "from", "not", "are", "but", "when", "should",
    "fix", "add", "make", "use", "into", "can", "all", "has", "have", "was", "returns", "return",
    "fn", "def", "pub", "let", "self", "mut", "str", "string", "none", "true", "false", "test",
    "tests", "src", "lib", "mod", "main", "new", "get", "set", "error", "line", "file",
];

/// Ranks `files` (relative paths) by relevance to `task`, `hints` (for
/// example the failing check's output, which names files and functions) and
/// the `focus` files in play. A file named verbatim in the hints or task
/// scores highest, then files sharing words with them, then neighbours of
/// the focus files. Ties keep the given order.
pub fn rank_files(files: &[String], task: &str, hints: &str, focus: &[String]) -> Vec<RankedFile> {
    let wanted: HashSet<String> = words(task).into_iter().chain(words(hints)).collect();
    let focus_dirs: HashSet<&str> = focus.iter().map(|f| parent(f)).collect();
    let mut ranked: Vec<RankedFile> = files
        .iter()
        .map(|path| {
            let mut score = 0.0;
            if hints.contains(path.as_str()) || task.contains(path.as_str()) {
                score += 10.0;
            }
            let name = path.rsplit('/').next().unwrap_or(path);
            if name.len() >= 4 && (task.contains(name) || hints.contains(name)) {
                score += 5.0;
            }
            let shared = words(path).intersection(&wanted).count();
            score += 3.0 * shared as f32;
            if focus_dirs.contains(parent(path)) {
                score += 1.0;
            }
            RankedFile { path: path.clone(), score }
        })
        .collect();
    ranked.sort_by(|a, b| b.score.total_cmp(&a.score));
    ranked
}

fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// The repository map of `root` as one segment: `files` (its listing, as
/// [`suit_ingest::list_files`] gives it) ranked by
/// [`rank_files`] (after also scoring words shared between each outline
/// and the task), each with its outline where tree-sitter supports the
/// language, the focus files left out (they are shown whole elsewhere).
/// Ranked best first and shortened from the end, so a tight budget keeps
/// what matters. `None` when the repository has no other files.
pub fn repo_map(
    root: &Path,
    files: &[String],
    task: &str,
    hints: &str,
    focus: &[String],
) -> Option<Segment> {
    let others: Vec<String> = files.iter().filter(|f| !focus.contains(f)).cloned().collect();
    if others.is_empty() {
        return None;
    }
    let wanted: HashSet<String> = words(task).into_iter().chain(words(hints)).collect();
    let mut ranked = rank_files(&others, task, hints, focus);
    let mut outlines: Vec<Option<String>> = Vec::with_capacity(ranked.len());
    for (i, file) in ranked.iter_mut().enumerate() {
        let text = (i < MAX_OUTLINED_FILES).then(|| read_outline(root, &file.path)).flatten();
        if let Some(text) = &text {
            let shared = words(text).intersection(&wanted).count();
            file.score += (shared as f32).min(10.0);
        }
        outlines.push(text);
    }
    let mut order: Vec<usize> = (0..ranked.len()).collect();
    order.sort_by(|&a, &b| ranked[b].score.total_cmp(&ranked[a].score));
    let mut text = String::new();
    for i in order {
        text.push_str(&ranked[i].path);
        text.push('\n');
        if let Some(outline) = &outlines[i] {
            for line in outline.lines() {
                text.push_str("    ");
                text.push_str(line);
                text.push('\n');
            }
        }
    }
    Some(
        Segment::new(
            Source::Repo(".".into()),
            "Repository map (outlines, most relevant first)",
            text,
        )
        .priority(30)
        .shrink(Shrink::KeepHead),
    )
}

fn read_outline(root: &Path, rel: &str) -> Option<String> {
    if !suit_ingest::outline_supported(rel) {
        return None;
    }
    let path = root.join(rel);
    if std::fs::metadata(&path).ok()?.len() > MAX_OUTLINE_BYTES {
        return None;
    }
    let source = std::fs::read_to_string(path).ok()?;
    outline(rel, &source)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_paths_by_convention() {
        for p in [
            "tests/cli.rs",
            "test_calc.py",
            "pkg/calc_test.go",
            "src/app.spec.ts",
            "web/x.test.js",
            "src/FooTest.java",
            "conftest.py",
        ] {
            assert!(is_test_path(p), "{p}");
        }
        for p in ["src/calc.py", "src/testing_utils_core.rs", "contest.py", "src/attest.rs"] {
            assert!(!is_test_path(p), "{p}");
        }
    }

    #[test]
    fn files_named_by_the_failure_rank_first() {
        let files: Vec<String> =
            ["README.md", "src/parser.rs", "src/render.rs", "src/duration.rs", "build.rs"]
                .map(String::from)
                .to_vec();
        let hints = "thread 'parses_hours' panicked at src/duration.rs:14:5";
        let ranked = rank_files(&files, "parse_duration returns the wrong value", hints, &[]);
        assert_eq!(ranked[0].path, "src/duration.rs");
        assert!(ranked[0].score > ranked[1].score);
        // A word shared with the task ("parser" ~ no; "render" no): zero scores stay at the end in order.
        assert_eq!(ranked.last().unwrap().score, 0.0);
    }

    #[test]
    fn map_outlines_relevant_files_first_and_skips_focus() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::write(root.join("src/lib.rs"), "pub mod money;\npub mod other;\n").unwrap();
        std::fs::write(
            root.join("src/money.rs"),
            "/// Rounds cents.\npub fn round_cents(x: f64) -> i64 {\n    x as i64\n}\n",
        )
        .unwrap();
        std::fs::write(root.join("src/other.rs"), "pub fn unrelated() -> u8 {\n    1\n}\n")
            .unwrap();
        let files = suit_ingest::list_files(root, &suit_ingest::IngestOptions::default()).unwrap();
        let task = "round_cents truncates instead of rounding";
        let map = repo_map(root, &files, task, "", &["src/lib.rs".into()]).unwrap();
        assert!(!map.source.trusted());
        let first = map.text.lines().next().unwrap();
        assert_eq!(first, "src/money.rs", "{}", map.text);
        assert!(map.text.contains("pub fn round_cents(x: f64) -> i64"), "{}", map.text);
        assert!(!map.text.contains("x as i64"), "bodies are elided: {}", map.text);
        assert!(!map.text.lines().any(|l| l == "src/lib.rs"), "focus files are left out");
    }
}
