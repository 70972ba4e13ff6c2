//! Reading test-runner output as facts instead of text.
//!
//! After a step, the agent loop runs the project's checks and shows the model
//! what failed. A raw tail of the output wastes the model's context on
//! progress dots, stack frames of the runner itself and compiler chatter, and
//! often cuts off the one line that matters. This module recognises the output
//! of Python's `unittest`, pytest, `cargo test`, `go test` and `node --test`,
//! turns it into a [`TestReport`] (which tests failed, where, with what
//! message, expected and actual values), ranks candidate fixes by
//! [`TestReport::failing`], and renders a compact, bounded piece for the next
//! prompt with [`TestReport::render`].
//!
//! Parsing is best-effort and total: any input, including output cut off
//! mid-way by the loop's trimming, gives a report or `None`, never a panic.
//! Paths are kept as the runner printed them (`unittest` and `node` print
//! absolute paths; the caller's `source` lookup resolves them).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

/// A `path` and a 1-based line.
type Loc = (String, u32);
/// Per test: its log lines (location, message).
type Logs = HashMap<String, Vec<(Option<Loc>, String)>>;
/// One runner's parser: `None` when the output is not that runner's.
type Parser = fn(&[&str]) -> Option<TestReport>;

/// Which test runner printed the output, so the caller knows how to read
/// names and paths (and so the rendered summary says which tool spoke).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Runner {
    /// Python's `python3 -m unittest`.
    Unittest,
    /// Python's pytest.
    Pytest,
    /// Rust's `cargo test` (and the compile errors before it).
    Cargo,
    /// Go's `go test`.
    Go,
    /// Node's built-in `node --test` (TAP or spec reporter).
    Node,
}

/// One failing test: what the model needs to find and fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestFailure {
    /// The test's name as the runner prints it (`test_parse (test_duration.TestParse)`, `tests::it_works`, `TestFoo/sub`).
    pub name: String,
    /// Where it failed: a path relative to the project as printed, and a 1-based line.
    pub location: Option<(String, u32)>,
    /// The assertion or error in a few lines (e.g. `AssertionError: 1800 != 5400`, `assertion `left == right` failed\n  left: 3\n right: 4`, a panic message).
    pub message: String,
    /// Expected and actual values when the runner prints them apart.
    ///
    /// Conventions: for `unittest`'s `first != second` the second is taken as
    /// expected (the `assertEqual(f(x), expected)` style); for pytest's
    /// `assert a == b` and Rust's `left`/`right`, the right side is expected;
    /// Go's `got X, want Y` and Node's `actual`/`expected` say it themselves.
    pub expected: Option<String>,
    /// The value the code produced (see [`TestFailure::expected`] for the convention).
    pub actual: Option<String>,
}

/// What a test run said: the failures, the errors outside any test, and the
/// counts, so the loop can both prompt with them and rank attempts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestReport {
    /// The runner that printed the output.
    pub runner: Runner,
    /// The failing tests, in the order printed.
    pub failures: Vec<TestFailure>,
    /// Tests that passed, when the summary says so.
    pub passed: Option<u32>,
    /// Tests that failed, when the summary says so.
    pub failed: Option<u32>,
    /// Errors outside any test (a compile error, an import error, a syntax error), a few lines each with file:line when known.
    pub errors: Vec<String>,
}

/// Lines kept of a message or an error.
const MSG_LINES: usize = 6;
/// Characters kept of one line.
const LINE_CHARS: usize = 200;
/// Lines of the whole rendered piece.
const RENDER_LINES: usize = 80;

/// Parses a test runner's combined stdout+stderr; `None` when no parser
/// recognises it. Every parser runs; the one that found the most wins, so
/// noise that looks a little like another runner does not take over.
pub fn parse_test_output(output: &str) -> Option<TestReport> {
    let text = strip_ansi(output);
    // The loop's trimming leaves `[... N lines omitted ...]` markers: skip them.
    let omitted = |l: &&str| l.starts_with("[... ") && l.ends_with(" omitted ...]");
    let lines: Vec<&str> = text.lines().filter(|l| !omitted(l)).collect();
    let parsers: [Parser; 5] = [parse_cargo, parse_go, parse_pytest, parse_unittest, parse_node];
    let mut best: Option<(usize, TestReport)> = None;
    for report in parsers.iter().filter_map(|parse| parse(&lines)) {
        let score = 2 * (report.failures.len() + report.errors.len())
            + usize::from(report.passed.is_some() || report.failed.is_some());
        if best.as_ref().is_none_or(|(s, _)| score > *s) {
            best = Some((score, report));
        }
    }
    best.map(|(_, report)| report)
}

impl TestReport {
    fn new(runner: Runner) -> Self {
        Self { runner, failures: Vec::new(), passed: None, failed: None, errors: Vec::new() }
    }

    /// Failing tests plus errors: the number a candidate fix is ranked by
    /// (fewer is better). Errors with no test result at all (nothing compiled
    /// or imported) give `usize::MAX`, worse than any number of failing tests.
    pub fn failing(&self) -> usize {
        let tests = self.failures.len().max(self.failed.unwrap_or(0) as usize);
        if !self.errors.is_empty() && tests == 0 && self.passed.unwrap_or(0) == 0 {
            return usize::MAX;
        }
        tests + self.errors.len()
    }

    /// Tests that ran (passed and failed), when the summary says how many
    /// passed.
    pub fn ran(&self) -> Option<usize> {
        let failed = self.failures.len().max(self.failed.unwrap_or(0) as usize);
        self.passed.map(|passed| passed as usize + failed)
    }

    /// [`TestReport::failing`], measured against the report of the code
    /// before the change: when fewer tests ran than before, the change broke
    /// loading the tests (a syntax error makes a whole test file count as one
    /// failure), and that is worse than any number of failing tests.
    pub fn failing_since(&self, before: Option<&TestReport>) -> usize {
        match (self.ran(), before.and_then(TestReport::ran)) {
            (Some(now), Some(then)) if now < then => usize::MAX,
            _ => self.failing(),
        }
    }

    /// A compact piece for the model: for each of at most `max_failures`
    /// failures its name, `file:line`, message, expected vs actual, and the
    /// source of the failing test up to the failing line (at most 12 lines,
    /// read through `source`, which returns a file's text or `None`; an
    /// absolute path it does not know, like one in the scratch copy the checks
    /// ran in, is retried by its tails, `a/b/c.py` then `b/c.py`, and shown by
    /// the one found); then the errors, then the summary counts. At most ~80
    /// lines, so a run with hundreds of failures still leaves room in the prompt.
    pub fn render(&self, source: &dyn Fn(&str) -> Option<String>, max_failures: usize) -> String {
        let mut out: Vec<String> = Vec::new();
        let shown = self.failures.len().min(max_failures);
        let snippet_lines = if shown <= 3 { 12 } else { 6 };
        for f in &self.failures[..shown] {
            let found = f.location.as_ref().and_then(|(p, l)| Some((resolve(p, source)?, *l)));
            let at = match (&found, &f.location) {
                (Some(((path, _), line)), _) | (None, Some((path, line))) => {
                    format!(" at {path}:{line}")
                }
                (None, None) => String::new(),
            };
            out.push(clip(&format!("FAILED {}{at}", f.name)));
            out.extend(f.message.lines().take(MSG_LINES).map(|l| format!("  {}", clip(l))));
            match (&f.expected, &f.actual) {
                (Some(e), Some(a)) if !e.contains('\n') && !a.contains('\n') => {
                    out.push(clip(&format!("  expected: {e} | actual: {a}")));
                }
                (e, a) => {
                    for (label, value) in [("expected", e), ("actual  ", a)] {
                        for (i, l) in value.iter().flat_map(|v| v.lines()).take(3).enumerate() {
                            let head = if i == 0 { format!("{label}: ") } else { " ".repeat(10) };
                            out.push(clip(&format!("  {head}{l}")));
                        }
                    }
                }
            }
            if let Some(((_, text), line)) = found {
                out.extend(
                    snippet(&text, line, snippet_lines).into_iter().map(|l| format!("  {l}")),
                );
            }
        }
        if self.failures.len() > shown {
            let rest: Vec<&str> = self.failures[shown..].iter().map(|f| f.name.as_str()).collect();
            out.push(clip(&format!("… and {} more failing: {}", rest.len(), rest.join(", "))));
        }
        if !self.errors.is_empty() {
            out.push("Errors:".into());
            for e in self.errors.iter().take(5) {
                out.extend(e.lines().take(MSG_LINES).map(|l| format!("  {}", clip(l))));
            }
            if self.errors.len() > 5 {
                out.push(format!("  … and {} more errors", self.errors.len() - 5));
            }
        }
        if out.len() > RENDER_LINES - 1 {
            out.truncate(RENDER_LINES - 2);
            out.push("… (more output left out)".into());
        }
        out.push(self.summary());
        out.join("\n")
    }

    fn summary(&self) -> String {
        let runner = match self.runner {
            Runner::Unittest => "unittest",
            Runner::Pytest => "pytest",
            Runner::Cargo => "cargo test",
            Runner::Go => "go test",
            Runner::Node => "node --test",
        };
        let mut parts = Vec::new();
        if let Some(n) = self.failed {
            parts.push(format!("{n} failed"));
        }
        if let Some(n) = self.passed {
            parts.push(format!("{n} passed"));
        }
        if !self.errors.is_empty() {
            let n = self.errors.len();
            parts.push(format!("{n} error{}", if n == 1 { "" } else { "s" }));
        }
        if parts.is_empty() {
            parts.push(format!("{} failing tests seen, no summary printed", self.failures.len()));
        }
        format!("{runner}: {}", parts.join(", "))
    }
}

impl TestFailure {
    fn named(name: &str) -> Self {
        Self {
            name: name.trim().to_string(),
            location: None,
            message: String::new(),
            expected: None,
            actual: None,
        }
    }
}

/// The path `source` knows a file by, and its text: the path as printed, else
/// (for an absolute path, such as one in the scratch copy the checks ran in)
/// its longest tail that `source` knows.
fn resolve(path: &str, source: &dyn Fn(&str) -> Option<String>) -> Option<(String, String)> {
    if let Some(text) = source(path) {
        return Some((path.to_string(), text));
    }
    let mut rest = path.strip_prefix('/')?;
    for _ in 0..16 {
        if let Some(text) = source(rest) {
            return Some((rest.to_string(), text));
        }
        rest = rest.split_once('/')?.1;
    }
    None
}

/// The failing test's source, from its `def`/`fn`/`func`/`test(` line down to
/// the failing line (eliding the middle of long tests), else a few lines around it.
fn snippet(text: &str, line: u32, max: usize) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let idx = (line as usize).wrapping_sub(1);
    if idx >= lines.len() || max < 4 {
        return Vec::new();
    }
    let fmt =
        |i: usize| format!("{}{:>4} | {}", if i == idx { '>' } else { ' ' }, i + 1, clip(lines[i]));
    match (idx.saturating_sub(60)..=idx).rev().find(|&i| is_test_start(lines[i])) {
        Some(s) if idx - s < max => (s..=idx).map(fmt).collect(),
        Some(s) => {
            let mut v = vec![fmt(s), "     ...".to_string()];
            v.extend((idx + 3 - max..=idx).map(fmt));
            v
        }
        None => (idx.saturating_sub(3)..=(idx + 2).min(lines.len() - 1)).map(fmt).collect(),
    }
}

fn is_test_start(line: &str) -> bool {
    let t = line.trim_start();
    let t = t.strip_prefix("pub ").unwrap_or(t);
    let t = t.strip_prefix("async ").unwrap_or(t);
    ["def ", "fn ", "func ", "test(", "it(", "t.test(", "describe("]
        .iter()
        .any(|p| t.starts_with(p))
}

// ---------------------------------------------------------------- helpers

fn strip_ansi(s: &str) -> Cow<'_, str> {
    if !s.contains('\x1b') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\x1b' {
            out.push(c);
        } else if chars.clone().next() == Some('[') {
            chars.next();
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        }
    }
    Cow::Owned(out)
}

/// Leading spaces and tabs, in bytes (always a char boundary).
fn indent(line: &str) -> usize {
    line.bytes().take_while(|b| *b == b' ' || *b == b'\t').count()
}

fn clip(line: &str) -> String {
    match line.char_indices().nth(LINE_CHARS) {
        Some((i, _)) => format!("{}…", &line[..i]),
        None => line.to_string(),
    }
}

/// At most `max` lines (each clipped), with `…` when some were left out.
fn cap<'a>(lines: impl IntoIterator<Item = &'a str>, max: usize) -> String {
    let all: Vec<&str> = lines.into_iter().collect();
    let mut kept: Vec<String> = all.iter().take(max).map(|l| clip(l)).collect();
    if all.len() > max {
        kept.push("…".into());
    }
    kept.join("\n")
}

fn num(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `path:line` or `path:line:col` (a trailing `:` allowed).
fn parse_loc(s: &str) -> Option<Loc> {
    let s = s.trim().trim_end_matches(':');
    let s = s.strip_prefix("file://").unwrap_or(s);
    let (rest, last) = s.rsplit_once(':')?;
    let last = num(last)?;
    let (path, line) = match rest.rsplit_once(':') {
        Some((p, l)) => match num(l) {
            Some(l) => (p, l),
            None => (rest, last),
        },
        None => (rest, last),
    };
    let ok = !path.is_empty() && line > 0 && !path.contains(char::is_whitespace);
    ok.then(|| (path.to_string(), line))
}

fn is_library(path: &str) -> bool {
    ["/lib/python", "site-packages", "/rustc/", "/.cargo/registry", "/go/src/", "node:"]
        .iter()
        .any(|m| path.contains(m))
        || path.starts_with('<')
}

fn is_test_file(path: &str) -> bool {
    let base = path.rsplit(['/', '\\']).next().unwrap_or(path);
    base.starts_with("test")
        || ["_test.", ".test.", ".spec.", "_spec."].iter().any(|m| base.contains(m))
        || path.starts_with("tests/")
        || path.contains("/tests/")
        || path.contains("/test/")
}

/// The frame to show: the last in a test file, else the last outside libraries.
fn pick(locs: &[Loc]) -> Option<Loc> {
    let project = |l: &&Loc| !is_library(&l.0);
    let found = locs.iter().rev().find(|l| project(l) && is_test_file(&l.0));
    found.or_else(|| locs.iter().rev().find(project)).or(locs.last()).cloned()
}

/// `N word` items (`3 failed`, `1 passed`), as found.
fn counts<'a>(items: impl Iterator<Item = &'a str>) -> Vec<(u32, &'a str)> {
    items.filter_map(|i| i.trim().split_once(' ').and_then(|(n, w)| Some((num(n)?, w)))).collect()
}

fn count_of(counts: &[(u32, &str)], words: &[&str]) -> u32 {
    counts.iter().filter(|(_, w)| words.contains(w)).map(|(n, _)| n).sum()
}

/// `left == right` style: (expected, actual) from `actual <op> expected`.
fn split_eq(s: &str, op: &str) -> Option<(String, String)> {
    let (a, e) = s.split_once(op)?;
    let (a, e) = (a.trim(), e.trim());
    (!a.is_empty() && !e.is_empty() && !e.contains(op)).then(|| (e.to_string(), a.to_string()))
}

fn set_expected(f: &mut TestFailure, pair: Option<(String, String)>) {
    if let Some((e, a)) = pair {
        f.expected = Some(e);
        f.actual = Some(a);
    }
}

// ------------------------------------------------------- python unittest

/// A Python traceback: its frames and the final exception lines.
struct Traceback {
    frames: Vec<Loc>,
    /// The first source line printed under each frame.
    code: Vec<Option<String>>,
    exception: Vec<String>,
}

fn parse_traceback(block: &[&str]) -> Traceback {
    let mut tb = Traceback { frames: Vec::new(), code: Vec::new(), exception: Vec::new() };
    let mut after = 0;
    for (i, l) in block.iter().enumerate() {
        let Some(rest) = l.trim_start().strip_prefix("File \"") else { continue };
        let Some((path, tail)) = rest.split_once('"') else { continue };
        let line = tail.strip_prefix(", line ").and_then(|t| num(t.split(',').next()?.trim()));
        if let Some(line) = line {
            let code = block[i + 1..].iter().take_while(|c| indent(c) > indent(l)).count();
            tb.frames.push((path.to_string(), line));
            tb.code.push(block.get(i + 1).filter(|_| code > 0).map(|c| c.trim().to_string()));
            after = i + 1 + code;
        }
    }
    let rest = block[after.min(block.len())..].iter().map(|l| l.trim_end());
    tb.exception = rest.filter(|l| !l.is_empty()).map(String::from).collect();
    tb
}

impl Traceback {
    fn as_error(&self) -> String {
        let exc = self.exception.last().map_or("error", String::as_str);
        let last = self.frames.len().checked_sub(1);
        let Some(i) = self.frames.iter().rposition(|f| !is_library(&f.0)).or(last) else {
            return clip(exc);
        };
        let (path, line) = &self.frames[i];
        let code = self.code.get(i).cloned().flatten();
        let code = code.map(|c| format!("\n    {}", clip(&c))).unwrap_or_default();
        format!("{path}:{line}: {}{code}", clip(exc))
    }
}

fn is_rule(line: &str, c: char) -> bool {
    line.len() >= 20 && line.chars().all(|x| x == c)
}

fn parse_unittest(lines: &[&str]) -> Option<TestReport> {
    let mut r = TestReport::new(Runner::Unittest);
    let (mut seen, mut ran, mut import_errors) = (false, None, 0u32);
    let mut summary: Option<Vec<(u32, &str)>> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let head = line.strip_prefix("FAIL: ").or_else(|| line.strip_prefix("ERROR: "));
        if let Some(name) = head.filter(|_| lines.get(i + 1).is_some_and(|l| is_rule(l, '-'))) {
            let start = i + 2;
            let end = (start..lines.len())
                .find(|&j| is_rule(lines[j], '=') || is_rule(lines[j], '-'))
                .unwrap_or(lines.len());
            let block = &lines[start..end];
            let tb = parse_traceback(block);
            seen = true;
            if name.contains("loader._FailedTest")
                || block.iter().any(|l| l.starts_with("ImportError: Failed to import test module"))
            {
                import_errors += 1;
                r.errors.push(tb.as_error());
            } else {
                let mut f = TestFailure::named(name);
                f.location = pick(&tb.frames);
                f.message = cap(tb.exception.iter().map(String::as_str), MSG_LINES);
                let first = tb.exception.first().map_or("", String::as_str);
                let first = first.strip_prefix("AssertionError: ").unwrap_or("");
                // `Lists differ: [1, 2] != [1, 3]`: drop the prefix.
                let first = match first.split_once(" differ: ") {
                    Some((_, rest)) => rest,
                    None => first,
                };
                let first = first.split(" : ").next().unwrap_or(first);
                set_expected(&mut f, split_eq(first, " != "));
                r.failures.push(f);
            }
            i = end;
            continue;
        }
        if let Some(rest) = line.strip_prefix("Ran ").filter(|r| r.contains(" test")) {
            ran = rest.split(' ').next().and_then(num);
            seen |= ran.is_some();
        }
        if line == "NO TESTS RAN" {
            r.errors.push("no tests ran".into());
        }
        if line == "OK"
            || line == "FAILED"
            || line.starts_with("OK (")
            || line.starts_with("FAILED (")
        {
            let inner = line.split_once('(').map_or("", |(_, r)| r.trim_end_matches(')'));
            let items = inner.split(", ").filter_map(|kv| kv.split_once('='));
            summary = Some(items.filter_map(|(k, v)| Some((num(v)?, k))).collect());
        }
        i += 1;
    }
    if !seen {
        // A traceback from unittest itself (e.g. a syntax error in a named module).
        let start =
            lines.iter().rposition(|l| l.starts_with("Traceback (most recent call last):"))?;
        if !lines[start..].iter().any(|l| l.contains("/unittest/")) {
            return None;
        }
        r.errors.push(parse_traceback(&lines[start + 1..]).as_error());
    }
    if let (Some(ran), Some(s)) = (ran, summary) {
        let bad = count_of(&s, &["failures", "errors"]);
        let other = count_of(&s, &["skipped", "expected failures", "unexpected successes"]);
        r.failed = Some(bad.saturating_sub(import_errors));
        r.passed = Some(ran.saturating_sub(bad + other));
    }
    Some(r)
}

// ----------------------------------------------------------------- pytest

fn pytest_counts(line: &str) -> Option<Vec<(u32, &str)>> {
    let t = line.trim().trim_matches('=').trim();
    let (head, tail) = t.rsplit_once(" in ")?;
    tail.starts_with(|c: char| c.is_ascii_digit()).then_some(())?;
    let items: Vec<&str> = head.split(", ").collect();
    let words = ["passed", "failed", "error", "errors", "skipped", "xfailed", "xpassed"];
    let words = [&words[..], &["warning", "warnings", "deselected", "rerun"]].concat();
    let found: Vec<_> =
        counts(items.iter().copied()).into_iter().filter(|(_, w)| words.contains(w)).collect();
    (found.len() == items.len()).then_some(found)
}

fn parse_pytest(lines: &[&str]) -> Option<TestReport> {
    let mut r = TestReport::new(Runner::Pytest);
    let mut seen = false;
    let mut section = "";
    let mut summary_errors = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if let Some(found) = pytest_counts(line) {
            r.passed = Some(count_of(&found, &["passed"]));
            r.failed = Some(count_of(&found, &["failed"]));
            seen = true;
        } else if line.trim_matches(['=', ' ']).starts_with("no tests ran in ") {
            r.errors.push("no tests ran".into());
            seen = true;
        } else if line.starts_with("==") && line.trim_end().ends_with("==") {
            section = line.trim_matches('=').trim();
            seen |= ["FAILURES", "ERRORS", "short test summary info", "test session starts"]
                .contains(&section);
        }
        let header = line.trim_start_matches('_').strip_prefix(' ');
        let header = header.and_then(|h| h.trim_end().trim_end_matches('_').strip_suffix(' '));
        let header =
            header.filter(|h| !h.is_empty() && !h.contains("_ _") && line.starts_with('_'));
        if let Some(name) = header.filter(|_| section == "FAILURES" || section == "ERRORS") {
            let end = (i + 1..lines.len())
                .find(|&j| {
                    let l = lines[j];
                    (l.starts_with('_') && !l.starts_with("_ _"))
                        || l.starts_with("==")
                        || l.contains(" Captured ")
                })
                .unwrap_or(lines.len());
            pytest_block(&mut r, name, &lines[i + 1..end]);
            i = end;
            continue;
        }
        if section == "short test summary info" {
            let (kind, rest) = line.split_once(' ').unwrap_or((line, ""));
            let (id, msg) = rest.split_once(" - ").unwrap_or((rest, ""));
            if kind == "FAILED" && !id.is_empty() {
                let known = r.failures.iter().any(|f| {
                    id.ends_with(&format!("::{}", f.name.replace('.', "::")))
                        || id.ends_with(&f.name)
                });
                if !known {
                    let mut f = TestFailure::named(id.split_once("::").map_or(id, |(_, n)| n));
                    f.message = msg.to_string();
                    r.failures.push(f);
                }
            } else if kind == "ERROR" && !id.contains("::") && !id.is_empty() {
                summary_errors
                    .push(format!("{id}: error while collecting {msg}").trim().to_string());
            }
        }
        i += 1;
    }
    if r.errors.is_empty() {
        r.errors = summary_errors;
    }
    seen.then_some(r)
}

fn pytest_block(r: &mut TestReport, name: &str, block: &[&str]) {
    let (mut group, mut last_group, mut locs, mut file_loc) =
        (Vec::new(), Vec::new(), Vec::new(), None);
    for l in block {
        if *l == "E" || l.starts_with("E ") {
            let content = &l[1..];
            match content
                .trim_start()
                .strip_prefix("File \"")
                .and_then(|r| r.split_once("\", line "))
            {
                Some((p, n)) => file_loc = num(n.trim()).map(|n| (p.to_string(), n)).or(file_loc),
                None => group.push(content),
            }
            continue;
        }
        if !group.is_empty() {
            last_group = std::mem::take(&mut group);
        }
        if indent(l) == 0 {
            let cand = l.split_once(": ").map_or(l.trim_end(), |(a, _)| a);
            if let Some(loc) = parse_loc(cand).filter(|(p, _)| p.ends_with(".py")) {
                locs.push(loc);
            }
        }
    }
    if !group.is_empty() {
        last_group = group;
    }
    let strip =
        last_group.iter().filter(|l| !l.trim().is_empty()).map(|l| indent(l)).min().unwrap_or(0);
    let msg: Vec<&str> = last_group
        .iter()
        .map(|l| l.get(strip..).unwrap_or("").trim_end())
        .filter(|l| !l.is_empty())
        .collect();
    let location = file_loc.or_else(|| pick(&locs));
    if let Some(target) = name.strip_prefix("ERROR collecting ") {
        let exc = msg.last().copied().unwrap_or("collection error");
        let at = location.map_or(target.to_string(), |(p, l)| format!("{p}:{l}"));
        let code = msg.iter().take(msg.len().saturating_sub(1)).map(|c| c.trim());
        let code = code.filter(|c| !c.starts_with('^')).take(2);
        let code = code.map(|c| format!("\n    {}", clip(c))).collect::<String>();
        r.errors.push(format!("{at}: {}{code}", clip(exc)));
        return;
    }
    let mut f = TestFailure::named(name);
    f.location = location;
    f.message = cap(msg.iter().copied(), MSG_LINES);
    let first = msg.first().copied().unwrap_or("");
    let pair = match first.strip_prefix("AssertionError: ") {
        // unittest's `assertEqual` under pytest: `AssertionError: 2 != 3`.
        Some(rest) if !rest.starts_with("assert ") => split_eq(rest, " != "),
        rest => rest.unwrap_or(first).strip_prefix("assert ").and_then(|a| split_eq(a, " == ")),
    };
    set_expected(&mut f, pair);
    r.failures.push(f);
}

// ------------------------------------------------------------- cargo test

fn parse_cargo(lines: &[&str]) -> Option<TestReport> {
    let mut r = TestReport::new(Runner::Cargo);
    let (mut seen, mut passed, mut failed, mut counted) = (false, 0, 0, false);
    let (mut listed, mut fallback) = (Vec::new(), None);
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let name = line.strip_prefix("---- ").and_then(|s| s.strip_suffix(" stdout ----"));
        if let Some(name) = name {
            let end = (i + 1..lines.len())
                .find(|&j| {
                    let l = lines[j];
                    l.starts_with("---- ") || l == "failures:" || l.starts_with("test result:")
                })
                .unwrap_or(lines.len());
            r.failures.push(cargo_failure(name, &lines[i + 1..end]));
            seen = true;
            i = end;
            continue;
        }
        if let Some(rest) = line.strip_prefix("test result: ") {
            let found = counts(rest.split(['.', ';']));
            passed += count_of(&found, &["passed"]);
            failed += count_of(&found, &["failed"]);
            seen = true;
            counted = true;
        } else if let Some(rest) =
            line.strip_prefix("thread '").filter(|l| l.contains("overflowed its stack"))
        {
            let name = rest.split_once('\'').map_or(rest, |(n, _)| n);
            let mut f = TestFailure::named(name);
            f.message = "stack overflow".into();
            r.failures.push(f);
        } else if line.trim_start().starts_with("process didn't exit successfully") {
            r.errors.push(format!("the test binary crashed: {}", clip(line.trim())));
        } else if line == "failures:" {
            let names = lines[i + 1..].iter().skip_while(|l| l.is_empty());
            let names = names.map_while(|l| l.strip_prefix("    "));
            listed.extend(names.filter(|n| !n.is_empty() && !n.contains(char::is_whitespace)));
        } else if line.starts_with("running ")
            && (line.ends_with(" tests") || line.ends_with(" test"))
        {
            seen = true;
        } else if line.starts_with("error[E") || line.starts_with("error: ") {
            let end = (i + 1..lines.len().min(i + 100)).find(|&j| lines[j].trim().is_empty());
            let end = end.unwrap_or(lines.len().min(i + 100));
            let block = &lines[i..end];
            let loc =
                block.iter().find_map(|l| l.trim_start().strip_prefix("--> ")).and_then(parse_loc);
            if line.starts_with("error[E") || loc.is_some() {
                let e = rust_error(line, block, loc);
                if !r.errors.contains(&e) {
                    r.errors.push(e);
                }
                i = end;
                continue;
            } else if line.starts_with("error: could not compile") && fallback.is_none() {
                fallback = Some(line.to_string());
            }
        }
        i += 1;
    }
    for name in listed {
        if !r.failures.iter().any(|f| f.name == name) {
            r.failures.push(TestFailure::named(name));
        }
    }
    if r.errors.is_empty() {
        r.errors.extend(fallback);
    }
    if counted {
        (r.passed, r.failed) = (Some(passed), Some(failed));
    }
    (seen || !r.errors.is_empty()).then_some(r)
}

/// `path:line: error[E…]: message` and the source lines around the error's line.
fn rust_error(head: &str, block: &[&str], loc: Option<Loc>) -> String {
    let source: Vec<&str> = block
        .iter()
        .skip(1)
        .take_while(|l| !["= ", "help:", "note:"].iter().any(|p| l.trim_start().starts_with(p)))
        .filter(|l| {
            let t = l.trim_start();
            t.starts_with(|c: char| c.is_ascii_digit())
                || t.strip_prefix('|').is_some_and(|x| !x.trim().is_empty())
        })
        .map(|l| l.trim_end())
        .collect();
    let at = loc.as_ref().and_then(|(_, n)| {
        source.iter().position(|l| l.trim_start().starts_with(&format!("{n} |")))
    });
    let end = at.map_or(source.len(), |a| (a + 2).min(source.len()));
    let mut e = loc.map(|(p, l)| format!("{p}:{l}: ")).unwrap_or_default();
    e.push_str(&clip(head));
    for l in &source[end.saturating_sub(4)..end] {
        e.push_str(&format!("\n  {}", clip(l)));
    }
    e
}

fn cargo_failure(name: &str, block: &[&str]) -> TestFailure {
    let mut f = TestFailure::named(name);
    let panic = block.iter().position(|l| l.starts_with("thread '") && l.contains(" panicked at "));
    let Some(p) = panic else {
        // A test returning `Err`, or `should_panic` that did not.
        let msg: Vec<&str> = block.iter().map(|l| l.trim_end()).filter(|l| !l.is_empty()).collect();
        f.location =
            msg.iter().find_map(|l| l.rsplit_once(" at ").and_then(|(_, loc)| parse_loc(loc)));
        f.message = cap(msg, 3);
        return f;
    };
    let after = block[p].split_once(" panicked at ").map_or("", |(_, a)| a);
    let mut msg = Vec::new();
    if let Some(old) = after.strip_prefix('\'') {
        // Before Rust 1.73: `panicked at 'message', src/lib.rs:10:5`.
        for l in std::iter::once(old).chain(block[p + 1..].iter().copied()) {
            if let Some((m, loc)) =
                l.rsplit_once("', ").and_then(|(m, loc)| Some((m, parse_loc(loc)?)))
            {
                msg.push(m);
                f.location = Some(loc);
                break;
            }
            msg.push(l);
        }
    } else {
        f.location = parse_loc(after);
        let rest = block[p + 1..].iter().copied();
        msg.extend(rest.take_while(|l| {
            !l.is_empty() && !l.starts_with("note: ") && !l.starts_with("stack backtrace:")
        }));
    }
    f.message = cap(msg.iter().copied(), MSG_LINES);
    let first = msg.first().copied().unwrap_or("");
    if first.contains("`left == right`") || first.contains("`(left == right)`") {
        let value = |key: &str| {
            let v = msg.iter().find_map(|l| l.trim_start().strip_prefix(key))?;
            Some(v.trim().trim_end_matches(',').trim_matches('`').to_string())
        };
        if let (Some(left), Some(right)) = (value("left:"), value("right:")) {
            set_expected(&mut f, Some((right, left)));
        }
    }
    f
}

// ---------------------------------------------------------------- go test

fn parse_go(lines: &[&str]) -> Option<TestReport> {
    let mut r = TestReport::new(Runner::Go);
    let (mut seen, mut verbose, mut passed) = (false, false, 0);
    let mut failed: Vec<String> = Vec::new();
    let mut logs: Logs = HashMap::new();
    let mut failed_packages = Vec::new();
    let mut current: Option<String> = None;
    let mut log_indent = usize::MAX;
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim_start();
        let test_name =
            |rest: &str| rest.rsplit_once(" (").map_or(rest, |(n, _)| n).trim().to_string();
        if let Some(rest) = t.strip_prefix("--- FAIL: ") {
            failed.push(test_name(rest));
            current = failed.last().cloned();
            seen = true;
        } else if t.starts_with("--- PASS: ") || t.starts_with("--- SKIP: ") {
            passed += u32::from(t.starts_with("--- PASS: "));
            (seen, current) = (true, None);
        } else if let Some(rest) = ["=== RUN", "=== CONT", "=== NAME", "=== PAUSE"]
            .iter()
            .find_map(|p| t.strip_prefix(p).filter(|r| r.starts_with(' ')))
        {
            current = Some(rest.trim().to_string());
            (seen, verbose) = (true, true);
        } else if let Some(msg) = t.strip_prefix("panic: ").filter(|_| indent(line) == 0) {
            let msg = format!("panic: {}", msg.trim_end_matches(" [recovered]"));
            // Frames are `pkg.Func(args)` then `\t/path/file.go:12 +0x1d`.
            let trace: Vec<&str> = lines[i + 1..].iter().take(80).copied().collect();
            let at =
                |j: usize| trace.get(j + 1).and_then(|l| parse_loc(l.trim().split(' ').next()?));
            if let Some(name) = current.clone() {
                let top = format!(".{}(", name.split('/').next().unwrap_or(""));
                let frame = trace.iter().position(|l| l.contains(&top) && !l.starts_with('\t'));
                logs.entry(name).or_default().push((frame.and_then(at), msg));
            } else {
                // Outside any test (`init`, `TestMain`): the first frame of the project.
                let loc = (0..trace.len()).filter_map(at).find(|(p, _)| !is_library(p));
                r.errors.push(loc.map_or(msg.clone(), |(p, l)| format!("{p}:{l}: {msg}")));
            }
            seen = true;
        } else if indent(line) == 0 {
            let located = line
                .split_once(": ")
                .and_then(|(l, _)| parse_loc(l).filter(|(p, _)| p.ends_with(".go")));
            if located.is_some() {
                r.errors.push(clip(line));
            }
            seen |= located.is_some()
                || ["ok  \t", "FAIL\t", "?   \t"].iter().any(|p| line.starts_with(p));
            if let Some(pkg) = line.strip_prefix("FAIL\t") {
                failed_packages.push(pkg.split('\t').next().unwrap_or(pkg));
            }
        } else if let Some(name) = &current {
            let located = t
                .split_once(": ")
                .and_then(|(l, m)| Some((parse_loc(l).filter(|(p, _)| p.ends_with(".go"))?, m)));
            if let Some((loc, msg)) = located {
                logs.entry(name.clone()).or_default().push((Some(loc), msg.to_string()));
                log_indent = indent(line);
            } else if indent(line) > log_indent {
                if let Some(last) = logs.get_mut(name).and_then(|v| v.last_mut()) {
                    last.1.push('\n');
                    last.1.push_str(t);
                }
            }
        }
    }
    // Parents of failing subtests fail too: show them only with messages of their own.
    let parents: HashSet<&str> =
        failed.iter().flat_map(|n| n.match_indices('/').map(|(at, _)| &n[..at])).collect();
    let mut done = HashSet::new();
    for name in &failed {
        let entries = logs.get(name).map_or(&[][..], |v| v.as_slice());
        if (parents.contains(name.as_str()) && entries.is_empty()) || !done.insert(name) {
            continue;
        }
        let mut f = TestFailure::named(name);
        f.location = entries.iter().find_map(|(loc, _)| loc.clone());
        f.message = cap(entries.iter().flat_map(|(_, m)| m.lines()), MSG_LINES);
        set_expected(&mut f, entries.first().and_then(|(_, m)| got_want(m)));
        r.failures.push(f);
    }
    if r.failures.is_empty() && r.errors.is_empty() {
        // A package failed but the reason was cut off: count it as an error, not a pass.
        let no_reason =
            failed_packages.iter().map(|p| format!("{p}: failed, no failing test in the output"));
        r.errors.extend(no_reason);
    }
    if verbose {
        (r.passed, r.failed) = (Some(passed), Some(r.failures.len() as u32));
    }
    seen.then_some(r)
}

/// `got X, want Y` or `F(x) = X; want Y` → (expected, actual).
fn got_want(msg: &str) -> Option<(String, String)> {
    let m = msg.lines().next()?;
    let at = m.find("want ").or_else(|| m.find("want:"))?;
    let (left, want) = (&m[..at], &m[at + 4..]);
    let want = want.trim_start_matches(':').trim().trim_end_matches(['.', ',']);
    let left = left.trim_end().trim_end_matches([',', ';']);
    let got = match left.rsplit_once("got") {
        Some((_, g)) => g,
        None => left.rsplit_once(" = ")?.1,
    };
    let got = got.trim_start_matches(':').trim();
    (!got.is_empty() && !want.is_empty()).then(|| (want.to_string(), got.to_string()))
}

// ------------------------------------------------------------ node --test

fn parse_node(lines: &[&str]) -> Option<TestReport> {
    let mut r = TestReport::new(Runner::Node);
    let (mut seen, mut fail, mut file_failures) = (false, None, 0);
    let mut diag: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let t = lines[i].trim_start();
        let stat = |key: &str| {
            ["# ", "ℹ "].iter().find_map(|p| t.strip_prefix(p)?.strip_prefix(key)).and_then(num)
        };
        if t == "TAP version 13" {
            seen = true;
        } else if let Some(n) = stat("pass ") {
            (r.passed, seen) = (Some(n), true);
        } else if let Some(n) = stat("fail ") {
            (fail, seen) = (Some(n), true);
        } else if let Some(rest) = t.strip_prefix("not ok ") {
            let name = rest.split_once(" - ").map_or(rest, |(_, n)| n);
            let (yaml, end) = tap_yaml(lines, i + 1);
            let get = |k: &str| yaml.iter().find(|(key, _)| key == k).map(|(_, v)| unquote(v));
            if get("exitCode").is_some() {
                r.errors.push(file_error(name, &diag));
                file_failures += 1;
            } else if get("failureType").as_deref() != Some("subtestsFailed") {
                r.failures.push(tap_failure(name, &get));
            }
            (seen, i) = (true, end.max(i + 1));
            diag.clear();
            continue;
        } else if t.starts_with("ok ") {
            diag.clear();
        } else if let Some(c) = t.strip_prefix("# ").filter(|c| !c.starts_with("Subtest: ")) {
            diag.push(c);
        }
        i += 1;
    }
    if r.failures.is_empty() && r.errors.is_empty() {
        // The spec reporter (`✖ name (1.2ms)` and an indented error).
        let first = lines.iter().position(|l| is_mark(l)).unwrap_or(lines.len());
        let from = lines.iter().position(|l| l.trim() == "✖ failing tests:").map_or(0, |p| p + 1);
        let (mut test_at, mut i) = (None, from);
        while i < lines.len() {
            let (line, t) = (lines[i], lines[i].trim_start());
            if let Some(loc) = t.strip_prefix("test at ") {
                test_at = parse_loc(loc);
            } else if let Some(rest) = t.strip_prefix("✖ ").filter(|r| *r != "failing tests:") {
                seen = true;
                let name = rest.rsplit_once(" (").map_or(rest, |(n, _)| n);
                let end = (i + 1..lines.len())
                    .find(|&j| !lines[j].trim().is_empty() && indent(lines[j]) <= indent(line))
                    .unwrap_or(lines.len());
                let block: Vec<&str> =
                    lines[i + 1..end].iter().filter(|l| !l.trim().is_empty()).copied().collect();
                let strip = block.iter().map(|l| indent(l)).min().unwrap_or(0);
                let block: Vec<&str> = block.iter().map(|l| l[strip..].trim_end()).collect();
                if block.first() == Some(&"'test failed'") {
                    // The file's own stderr: from its `path:line` to the next reporter line.
                    let own =
                        lines.iter().position(|l| parse_loc(l).is_some_and(|(p, _)| p == name));
                    let diag = match own {
                        Some(k) => lines[k..]
                            .iter()
                            .take_while(|l| !is_mark(l))
                            .take(20)
                            .copied()
                            .collect(),
                        None => lines[..first].to_vec(),
                    };
                    r.errors.push(file_error(name, &diag));
                    file_failures += 1;
                } else if !block.is_empty() {
                    r.failures.push(spec_failure(name, &block, test_at.take()));
                }
                i = end;
                continue;
            }
            i += 1;
        }
    }
    r.failed = fail.map(|f: u32| f.saturating_sub(file_failures));
    seen.then_some(r)
}

/// A line of the spec reporter's tree or summary.
fn is_mark(line: &str) -> bool {
    line.trim_start().starts_with(['✔', '✖', '▶', 'ℹ', '﹣'])
}

/// A TAP YAML block (`---` … `...`) as keys and (dedented) values.
fn tap_yaml(lines: &[&str], start: usize) -> (Vec<(String, String)>, usize) {
    let mut map: Vec<(String, String)> = Vec::new();
    let Some(first) = lines.get(start).filter(|l| l.trim() == "---") else { return (map, start) };
    let base = indent(first);
    let mut j = start + 1;
    while let Some(l) = lines.get(j) {
        j += 1;
        let ind = indent(l);
        if l.trim() == "..." && ind == base {
            break;
        } else if ind == base && !l.trim().is_empty() {
            if let Some((k, v)) = l.trim().split_once(':') {
                let v = v.trim();
                let v = if v.starts_with(['|', '>']) { "" } else { v };
                map.push((k.to_string(), v.to_string()));
            }
        } else if ind > base || l.trim().is_empty() {
            if let Some((_, v)) = map.last_mut() {
                if !v.is_empty() {
                    v.push('\n');
                }
                v.push_str(l.get(ind.min(base + 2)..).unwrap_or(""));
            }
        } else {
            j -= 1;
            break;
        }
    }
    (map, j)
}

fn unquote(v: &str) -> String {
    if let Some(s) = v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
        s.replace("''", "'")
    } else if let Some(s) = v.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        s.replace("\\\"", "\"").replace("\\n", "\n")
    } else {
        v.to_string()
    }
}

/// The `path:line` inside a stack frame: `at f (/p/x.js:3:7)` or `/p/x.js:3:7`.
fn frame_loc(frame: &str) -> Option<Loc> {
    let f = frame.trim().trim_start_matches("at ").trim_end_matches(" {");
    let inner = f.strip_suffix(')').and_then(|f| f.rsplit_once('(')).map_or(f, |(_, l)| l);
    parse_loc(inner).filter(|(p, _)| !is_library(p))
}

/// The test's declared location, moved to the failing line when the stack
/// passes through the same file.
fn refine(at: Option<Loc>, frames: &[&str]) -> Option<Loc> {
    let frames: Vec<Loc> = frames.iter().filter_map(|f| frame_loc(f)).collect();
    match at {
        Some((path, line)) => {
            let same = frames
                .iter()
                .find(|(p, _)| p.ends_with(path.as_str()) || path.ends_with(p.as_str()));
            Some((path, same.map_or(line, |(_, l)| *l)))
        }
        None => frames.into_iter().next(),
    }
}

fn tap_failure(name: &str, get: &dyn Fn(&str) -> Option<String>) -> TestFailure {
    let mut f = TestFailure::named(name);
    let error = get("error").unwrap_or_default();
    let error: Vec<&str> =
        error.lines().map(str::trim_end).filter(|l| !l.trim().is_empty()).collect();
    let mut message = cap(error.iter().copied(), MSG_LINES);
    if let Some(kind) = get("name").filter(|k| !message.starts_with(k.as_str())) {
        message = format!("{kind}: {message}");
    }
    f.message = message;
    let stack = get("stack").unwrap_or_default();
    f.location =
        refine(get("location").and_then(|l| parse_loc(&l)), &stack.lines().collect::<Vec<_>>());
    if let (Some(e), Some(a)) = (get("expected"), get("actual")) {
        set_expected(&mut f, Some((cap(e.lines(), 3), cap(a.lines(), 3))));
    }
    f
}

fn spec_failure(name: &str, block: &[&str], test_at: Option<Loc>) -> TestFailure {
    let mut f = TestFailure::named(name);
    let split = block.iter().position(|l| l.trim_start().starts_with("at ")).unwrap_or(block.len());
    let mut msg: Vec<String> = block[..split].iter().map(|l| l.to_string()).collect();
    // `AssertionError [ERR_ASSERTION]: 6 == 7` → `AssertionError: 6 == 7`.
    if let Some(first) = msg.first_mut() {
        let parts = first.split_once(" [").and_then(|(k, r)| Some((k, r.split_once("]:")?.1)));
        if let Some((kind, rest)) = parts.filter(|(k, _)| !k.contains(' ')) {
            *first = format!("{kind}:{rest}");
        }
    }
    f.message = cap(msg.iter().map(String::as_str), MSG_LINES);
    f.location = refine(test_at, &block[split..]);
    let value = |k: &str| {
        let v = block.iter().find_map(|l| l.trim_start().strip_prefix(k));
        v.map(|v| v.trim_end_matches(',').to_string())
    };
    if let (Some(e), Some(a)) = (value("expected: "), value("actual: ")) {
        set_expected(&mut f, Some((e, a)));
    }
    f
}

/// A test file that failed as a whole (a syntax error, a crash on load): the
/// runner's stderr printed before it, as `path:line: Error` and the code line.
fn file_error(name: &str, diag: &[&str]) -> String {
    let lines: Vec<&str> = diag
        .iter()
        .map(|l| l.trim_end())
        .filter(|l| {
            let t = l.trim();
            !t.is_empty()
                && !t.starts_with("at ")
                && !t.starts_with("Node.js v")
                && !t.starts_with('^')
        })
        .collect();
    let Some(err) = lines.iter().rev().find(|l| l.contains("Error")) else {
        return format!("{name}: test file failed");
    };
    match lines.first().and_then(|l| parse_loc(l)) {
        Some((p, l)) => {
            let code =
                lines.get(1).filter(|c| *c != err).map(|c| format!("\n    {}", clip(c.trim())));
            format!("{p}:{l}: {}{}", clip(err.trim()), code.unwrap_or_default())
        }
        None => format!("{name}: {}", clip(err.trim())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real: `python3 -m unittest -v test_duration test_broken` (Python 3.11.7).
    const UT_VERBOSE: &str = r#"test_half (test_duration.TestParse.test_half) ... ERROR
test_hours (test_duration.TestParse.test_hours) ... FAIL
test_list (test_duration.TestParse.test_list) ... FAIL
test_minutes (test_duration.TestParse.test_minutes) ... ok
test_true (test_duration.TestParse.test_true) ... FAIL
test_broken (unittest.loader._FailedTest.test_broken) ... ERROR

======================================================================
ERROR: test_half (test_duration.TestParse.test_half)
----------------------------------------------------------------------
Traceback (most recent call last):
  File "/tmp/proj/test_duration.py", line 13, in test_half
    self.assertEqual(parse("1.5h"), 5400)
                     ^^^^^^^^^^^^^
  File "/tmp/proj/duration.py", line 2, in parse
    n = int(s[:-1])
        ^^^^^^^^^^^
ValueError: invalid literal for int() with base 10: '1.5'

======================================================================
ERROR: test_broken (unittest.loader._FailedTest.test_broken)
----------------------------------------------------------------------
ImportError: Failed to import test module: test_broken
Traceback (most recent call last):
  File "/root/.pyenv/versions/3.11.7/lib/python3.11/unittest/loader.py", line 162, in loadTestsFromName
    module = __import__(module_name)
             ^^^^^^^^^^^^^^^^^^^^^^^
  File "/tmp/proj/test_broken.py", line 2, in <module>
    import nosuchmodule
ModuleNotFoundError: No module named 'nosuchmodule'


======================================================================
FAIL: test_hours (test_duration.TestParse.test_hours)
----------------------------------------------------------------------
Traceback (most recent call last):
  File "/tmp/proj/test_duration.py", line 10, in test_hours
    self.assertEqual(parse("1h"), 3600)
AssertionError: 60 != 3600

======================================================================
FAIL: test_list (test_duration.TestParse.test_list)
----------------------------------------------------------------------
Traceback (most recent call last):
  File "/tmp/proj/test_duration.py", line 16, in test_list
    self.assertEqual([1, 2], [1, 3])
AssertionError: Lists differ: [1, 2] != [1, 3]

First differing element 1:
2
3

- [1, 2]
?     ^

+ [1, 3]
?     ^


======================================================================
FAIL: test_true (test_duration.TestParse.test_true)
----------------------------------------------------------------------
Traceback (most recent call last):
  File "/tmp/proj/test_duration.py", line 19, in test_true
    self.assertTrue(parse("1m") > 100)
AssertionError: False is not true

----------------------------------------------------------------------
Ran 6 tests in 0.003s

FAILED (failures=3, errors=2)
"#;

    /// Real: `python3 -m unittest` discovering a test that imports a module with a syntax error.
    const UT_SYNTAX: &str = r#"E
======================================================================
ERROR: test_a (unittest.loader._FailedTest.test_a)
----------------------------------------------------------------------
ImportError: Failed to import test module: test_a
Traceback (most recent call last):
  File "/root/.pyenv/versions/3.11.7/lib/python3.11/unittest/loader.py", line 419, in _find_test_path
    module = self._get_module_from_name(name)
             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/root/.pyenv/versions/3.11.7/lib/python3.11/unittest/loader.py", line 362, in _get_module_from_name
    __import__(name)
  File "/tmp/proj2/test_a.py", line 2, in <module>
    import mod
  File "/tmp/proj2/mod.py", line 1
    def f(:
          ^
SyntaxError: invalid syntax


----------------------------------------------------------------------
Ran 1 test in 0.000s

FAILED (errors=1)
"#;

    /// Real: `sh -c 'flake8 .; pytest'` (pytest 9.2, flake8 missing: noise on top).
    const PYTEST: &str = r#"sh: 1: flake8: not found
============================= test session starts ==============================
platform linux -- Python 3.11.7, pytest-9.2.0, pluggy-1.7.0
rootdir: /tmp/tout/pt
configfile: pytest.ini
collected 6 items

tests/test_calc.py .FF                                                   [ 50%]
tests/test_cls.py F.F                                                    [100%]

=================================== FAILURES ===================================
_________________________________ test_add_big _________________________________

    def test_add_big():
        x = add(3, 4)
>       assert x == 7
E       assert 8 == 7

tests/test_calc.py:10: AssertionError
________________________________ test_div_zero _________________________________

    def test_div_zero():
>       assert div(1, 0) == 0
               ^^^^^^^^^

tests/test_calc.py:14: 
_ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ 

a = 1, b = 0

    def div(a, b):
>       return a / b
               ^^^^^
E       ZeroDivisionError: division by zero

calc.py:5: ZeroDivisionError
____________________________ TestThing.test_raises _____________________________

self = <test_cls.TestThing object at 0x7f04787c4150>

    def test_raises(self):
>       raise KeyError("missing")
E       KeyError: 'missing'

tests/test_cls.py:5: KeyError
________________________________ test_param[2] _________________________________

n = 2

    @pytest.mark.parametrize("n", [1, 2])
    def test_param(n):
>       assert n == 1
E       assert 2 == 1

tests/test_cls.py:9: AssertionError
=========================== short test summary info ============================
FAILED tests/test_calc.py::test_add_big - assert 8 == 7
FAILED tests/test_calc.py::test_div_zero - ZeroDivisionError: division by zero
FAILED tests/test_cls.py::TestThing::test_raises - KeyError: 'missing'
FAILED tests/test_cls.py::test_param[2] - assert 2 == 1
========================= 4 failed, 2 passed in 0.12s ==========================
"#;

    /// Real: `pytest -q` with an import error and a syntax error in test modules.
    const PYTEST_COLLECT: &str = r#"
==================================== ERRORS ====================================
______________________ ERROR collecting tests/test_imp.py ______________________
ImportError while importing test module '/tmp/tout/pt/tests/test_imp.py'.
Hint: make sure your test modules/packages have valid Python names.
Traceback:
/root/.pyenv/versions/3.11.7/lib/python3.11/importlib/__init__.py:126: in import_module
    return _bootstrap._gcd_import(name[level:], package, level)
           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
tests/test_imp.py:1: in <module>
    import nosuch
E   ModuleNotFoundError: No module named 'nosuch'
______________________ ERROR collecting tests/test_syn.py ______________________
../venv/lib/python3.11/site-packages/_pytest/python.py:528: in importtestmodule
    mod = import_path(
../venv/lib/python3.11/site-packages/_pytest/pathlib.py:640: in import_path
    importlib.import_module(module_name)
/root/.pyenv/versions/3.11.7/lib/python3.11/importlib/__init__.py:126: in import_module
    return _bootstrap._gcd_import(name[level:], package, level)
           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
<frozen importlib._bootstrap>:1204: in _gcd_import
    ???
<frozen importlib._bootstrap>:1176: in _find_and_load
    ???
<frozen importlib._bootstrap>:1147: in _find_and_load_unlocked
    ???
<frozen importlib._bootstrap>:690: in _load_unlocked
    ???
../venv/lib/python3.11/site-packages/_pytest/assertion/rewrite.py:176: in exec_module
    source_hash, co = _rewrite_test(fn, self.config)
                      ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
../venv/lib/python3.11/site-packages/_pytest/assertion/rewrite.py:339: in _rewrite_test
    tree = ast.parse(source, filename=strfn)
           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
/root/.pyenv/versions/3.11.7/lib/python3.11/ast.py:50: in parse
    return compile(source, filename, mode, flags,
E     File "/tmp/tout/pt/tests/test_syn.py", line 1
E       def test_y(:
E                  ^
E   SyntaxError: invalid syntax
=========================== short test summary info ============================
ERROR tests/test_imp.py
ERROR tests/test_syn.py
!!!!!!!!!!!!!!!!!!! Interrupted: 2 errors during collection !!!!!!!!!!!!!!!!!!!!
2 errors in 0.44s
"#;

    /// Real: `cargo test --no-fail-fast` (Rust 1.95), two test binaries.
    const CARGO: &str = r#"    Finished `test` profile [unoptimized + debuginfo] target(s) in 0.04s
     Running unittests src/lib.rs (target/debug/deps/crt-bd4320a1ed4935a6)

running 4 tests
test tests::big ... FAILED
test tests::custom ... FAILED
test tests::boom ... FAILED
test tests::small ... ok

failures:

---- tests::big stdout ----

thread 'tests::big' (4837) panicked at src/lib.rs:17:9:
assertion `left == right` failed
  left: 8
 right: 7
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace

---- tests::custom stdout ----

thread 'tests::custom' (4839) panicked at src/lib.rs:28:9:
sum too big: 11

---- tests::boom stdout ----

thread 'tests::boom' (4838) panicked at src/lib.rs:23:18:
index out of bounds: the len is 0 but the index is 0


failures:
    tests::big
    tests::boom
    tests::custom

test result: FAILED. 1 passed; 3 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s

error: test failed, to rerun pass `--lib`
     Running tests/it.rs (target/debug/deps/it-c6cef259331a044a)

running 2 tests
test integration_ok ... ok
test integration_bad ... FAILED

failures:

---- integration_bad stdout ----

thread 'integration_bad' (4842) panicked at tests/it.rs:9:7:
called `Result::unwrap()` on an `Err` value: "nope"
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace


failures:
    integration_bad

test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

error: test failed, to rerun pass `--test it`
   Doc-tests crt

running 0 tests

test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

error: 2 targets failed:
    `--lib`
    `--test it`
"#;

    /// Real: tail of `cargo test` with `assert_ne!`, a test returning `Err` and a `should_panic`.
    const CARGO_MISC: &str = r#"failures:

---- ne stdout ----

thread 'ne' (18691) panicked at tests/it.rs:12:5:
assertion `left != right` failed: values must differ
  left: 1
 right: 1
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace

---- returns_err stdout ----
Error: "bad input"

---- should stdout ----
note: test did not panic as expected at tests/it.rs:8:4

failures:
    ne
    returns_err
    should

test result: FAILED. 0 passed; 3 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s
"#;

    /// Real: `cargo test` with a borrow error and an unused-variable warning (noise).
    const CARGO_COMPILE: &str = r#"   Compiling crt v0.1.0 (/tmp/tout/crt2)
error[E0382]: borrow of moved value: `v`
 --> src/lib.rs:4:5
  |
1 | pub fn take(v: Vec<i32>) -> usize {
  |             - move occurs because `v` has type `Vec<i32>`, which does not implement the `Copy` trait
2 |     let unused = 3;
3 |     let w = v;
  |             - value moved here
4 |     v.len() + w.len()
  |     ^ value borrowed here after move
  |
help: consider cloning the value if the performance cost is acceptable
  |
3 |     let w = v.clone();
  |              ++++++++

warning: unused variable: `unused`
 --> src/lib.rs:2:9
  |
2 |     let unused = 3;
  |         ^^^^^^ help: if this is intentional, prefix it with an underscore: `_unused`
  |
  = note: `#[warn(unused_variables)]` (part of `#[warn(unused)]`) on by default

For more information about this error, try `rustc --explain E0382`.
warning: `crt` (lib) generated 1 warning
error: could not compile `crt` (lib) due to 1 previous error; 1 warning emitted
warning: build failed, waiting for other jobs to finish...
warning: `crt` (lib test) generated 1 warning (1 duplicate)
error: could not compile `crt` (lib test) due to 1 previous error; 1 warning emitted
"#;

    /// Hand-made in the format of Rust before 1.73 (`panicked at 'msg', file:line:col`).
    const CARGO_OLD: &str = r#"
running 2 tests
test tests::big ... FAILED
test tests::custom ... FAILED

failures:

---- tests::big stdout ----
thread 'tests::big' panicked at 'assertion failed: `(left == right)`
  left: `8`,
 right: `7`', src/lib.rs:17:9
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace

---- tests::custom stdout ----
thread 'tests::custom' panicked at 'sum too big: 11', src/lib.rs:28:9


failures:
    tests::big
    tests::custom

test result: FAILED. 0 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

"#;

    /// Hand-made (Go is not installed) in the exact format of `go test` (Go 1.21): subtests, a
    /// multi-line `t.Errorf`, a panic.
    const GO: &str = r#"--- FAIL: TestAdd (0.00s)
    calc_test.go:12: Add(3, 4) = 8; want 7
--- FAIL: TestTable (0.00s)
    --- FAIL: TestTable/negative (0.00s)
        calc_test.go:27: got -2, want -3
    --- FAIL: TestTable/multi (0.00s)
        calc_test.go:27: got 5, want 6
            inputs: [2 3]
--- FAIL: TestIndex (0.00s)
panic: runtime error: index out of range [5] with length 3 [recovered]
	panic: runtime error: index out of range [5] with length 3

goroutine 21 [running]:
testing.tRunner.func1.2({0x5160e0, 0xc000014180})
	/usr/local/go/src/testing/testing.go:1545 +0x238
testing.tRunner.func1()
	/usr/local/go/src/testing/testing.go:1548 +0x397
panic({0x5160e0?, 0xc000014180?})
	/usr/local/go/src/runtime/panic.go:914 +0x21f
example.com/calc.Index(...)
	/home/dev/calc/calc.go:12
example.com/calc.TestIndex(0xc000083a00?)
	/home/dev/calc/calc_test.go:35 +0x1d
testing.tRunner(0xc000083a00, 0x52d3b8)
	/usr/local/go/src/testing/testing.go:1595 +0xff
created by testing.(*T).Run in goroutine 1
	/usr/local/go/src/testing/testing.go:1648 +0x3ad
exit status 2
FAIL	example.com/calc	0.004s
FAIL
"#;

    /// Hand-made in the format of `go test -v` (Go 1.21).
    const GO_VERBOSE: &str = r#"=== RUN   TestAdd
    calc_test.go:12: Add(3, 4) = 8; want 7
--- FAIL: TestAdd (0.00s)
=== RUN   TestSub
--- PASS: TestSub (0.00s)
=== RUN   TestTable
=== RUN   TestTable/positive
=== RUN   TestTable/negative
    calc_test.go:27: got -2, want -3
--- FAIL: TestTable (0.00s)
    --- PASS: TestTable/positive (0.00s)
    --- FAIL: TestTable/negative (0.00s)
FAIL
FAIL	example.com/calc	0.003s
ok  	example.com/calc/util	(cached)
FAIL
"#;

    /// Hand-made in the format of a `go test` build failure, with a `sh:` line as noise.
    const GO_BUILD: &str = r#"sh: 1: golangci-lint: not found
# example.com/calc [example.com/calc.test]
./calc.go:7:9: undefined: y
./calc_test.go:10:14: cannot use "x" (untyped string constant) as int value in argument to Add
FAIL	example.com/calc [build failed]
ok  	example.com/calc/util	0.002s
FAIL
"#;

    /// Real: `node --test` (Node 20.20, TAP when not on a terminal): a file with a syntax
    /// error, an exception, a failing test in a suite.
    const NODE_TAP: &str = r#"TAP version 13
# /tmp/tout/nd/test/broken.test.js:1
# const x = ;
#           ^
# SyntaxError: Unexpected token ';'
#     at wrapSafe (node:internal/modules/cjs/loader:1464:18)
#     at Module._compile (node:internal/modules/cjs/loader:1495:20)
#     at Module._extensions..js (node:internal/modules/cjs/loader:1623:10)
#     at Module.load (node:internal/modules/cjs/loader:1266:32)
#     at Module._load (node:internal/modules/cjs/loader:1091:12)
#     at Function.executeUserEntryPoint [as runMain] (node:internal/modules/run_main:164:12)
#     at node:internal/main/run_main_module:28:49
# Node.js v20.20.2
# Subtest: /tmp/tout/nd/test/broken.test.js
not ok 1 - /tmp/tout/nd/test/broken.test.js
  ---
  duration_ms: 173.690794
  location: '/tmp/tout/nd/test/broken.test.js:1:1'
  failureType: 'testCodeFailure'
  exitCode: 1
  signal: ~
  error: 'test failed'
  code: 'ERR_TEST_FAILURE'
  ...
# Subtest: parses
not ok 2 - parses
  ---
  duration_ms: 11.294264
  location: '/tmp/tout/nd/test/calc.test.js:4:1'
  failureType: 'testCodeFailure'
  error: "Expected property name or '}' in JSON at position 1"
  code: 'ERR_TEST_FAILURE'
  name: 'SyntaxError'
  stack: |-
    JSON.parse (<anonymous>)
    exports.parse (/tmp/tout/nd/calc.js:2:29)
    TestContext.<anonymous> (/tmp/tout/nd/test/calc.test.js:5:3)
    Test.runInAsyncScope (node:async_hooks:206:9)
    Test.run (node:internal/test_runner/test:796:25)
    Test.processPendingSubtests (node:internal/test_runner/test:526:18)
    node:internal/test_runner/harness:255:12
    node:internal/process/task_queues:140:7
    AsyncResource.runInAsyncScope (node:async_hooks:206:9)
    AsyncResource.runMicrotask (node:internal/process/task_queues:137:8)
  ...
# Subtest: math
    # Subtest: multiplies
    not ok 1 - multiplies
      ---
      duration_ms: 7.630262
      location: '/tmp/tout/nd/test/suite.test.js:5:3'
      failureType: 'testCodeFailure'
      error: '6 == 7'
      code: 'ERR_ASSERTION'
      name: 'AssertionError'
      expected: 7
      actual: 6
      operator: '=='
      stack: |-
        TestContext.<anonymous> (/tmp/tout/nd/test/suite.test.js:6:12)
        Test.runInAsyncScope (node:async_hooks:206:9)
        Test.run (node:internal/test_runner/test:796:25)
        Test.start (node:internal/test_runner/test:702:17)
        node:internal/test_runner/test:1133:71
        node:internal/per_context/primordials:482:82
        new Promise (<anonymous>)
        new SafePromise (node:internal/per_context/primordials:450:29)
        node:internal/per_context/primordials:482:9
        Array.map (<anonymous>)
      ...
    # Subtest: ok
    ok 2 - ok
      ---
      duration_ms: 0.247397
      ...
    1..2
not ok 3 - math
  ---
  duration_ms: 9.783841
  type: 'suite'
  location: '/tmp/tout/nd/test/suite.test.js:4:1'
  failureType: 'subtestsFailed'
  error: '1 subtest failed'
  code: 'ERR_TEST_FAILURE'
  ...
1..3
# tests 4
# suites 1
# pass 1
# fail 3
# cancelled 0
# skipped 0
# todo 0
# duration_ms 816.496349
"#;

    /// Real: `node --test --test-reporter=spec` (Node 20.20).
    const NODE_SPEC: &str = r#"▶ math
  ✖ multiplies (5.345774ms)
    AssertionError [ERR_ASSERTION]: 6 == 7
        at TestContext.<anonymous> (/tmp/tout/nd/test/suite.test.js:6:12)
        at Test.runInAsyncScope (node:async_hooks:206:9)
        at Test.run (node:internal/test_runner/test:796:25)
        at Test.start (node:internal/test_runner/test:702:17)
        at node:internal/test_runner/test:1133:71
        at node:internal/per_context/primordials:482:82
        at new Promise (<anonymous>)
        at new SafePromise (node:internal/per_context/primordials:450:29)
        at node:internal/per_context/primordials:482:9
        at Array.map (<anonymous>) {
      generatedMessage: true,
      code: 'ERR_ASSERTION',
      actual: 6,
      expected: 7,
      operator: '=='
    }

  ✔ ok (0.280156ms)
✖ math (8.121145ms)
ℹ tests 2
ℹ suites 1
ℹ pass 1
ℹ fail 1
ℹ cancelled 0
ℹ skipped 0
ℹ todo 0
ℹ duration_ms 280.35958

✖ failing tests:

test at test/suite.test.js:5:3
✖ multiplies (5.345774ms)
  AssertionError [ERR_ASSERTION]: 6 == 7
      at TestContext.<anonymous> (/tmp/tout/nd/test/suite.test.js:6:12)
      at Test.runInAsyncScope (node:async_hooks:206:9)
      at Test.run (node:internal/test_runner/test:796:25)
      at Test.start (node:internal/test_runner/test:702:17)
      at node:internal/test_runner/test:1133:71
      at node:internal/per_context/primordials:482:82
      at new Promise (<anonymous>)
      at new SafePromise (node:internal/per_context/primordials:450:29)
      at node:internal/per_context/primordials:482:9
      at Array.map (<anonymous>) {
    generatedMessage: true,
    code: 'ERR_ASSERTION',
    actual: 6,
    expected: 7,
    operator: '=='
  }
"#;

    const ALL: [&str; 13] = [
        UT_VERBOSE,
        UT_SYNTAX,
        PYTEST,
        PYTEST_COLLECT,
        CARGO,
        CARGO_MISC,
        CARGO_COMPILE,
        CARGO_OLD,
        GO,
        GO_VERBOSE,
        GO_BUILD,
        NODE_TAP,
        NODE_SPEC,
    ];

    fn parse(text: &str) -> TestReport {
        parse_test_output(text).expect("recognised")
    }

    fn names(r: &TestReport) -> Vec<&str> {
        r.failures.iter().map(|f| f.name.as_str()).collect()
    }

    fn loc(path: &str, line: u32) -> Option<(String, u32)> {
        Some((path.to_string(), line))
    }

    fn values(f: &TestFailure) -> (Option<&str>, Option<&str>) {
        (f.expected.as_deref(), f.actual.as_deref())
    }

    #[test]
    fn unittest_failures_exceptions_and_import_errors() {
        let r = parse(UT_VERBOSE);
        assert_eq!(r.runner, Runner::Unittest);
        let n: Vec<_> = names(&r).iter().map(|n| n.split(' ').next().unwrap_or("")).collect();
        assert_eq!(n, ["test_half", "test_hours", "test_list", "test_true"]);
        let half = &r.failures[0];
        assert_eq!(half.location, loc("/tmp/proj/test_duration.py", 13));
        assert_eq!(half.message, "ValueError: invalid literal for int() with base 10: '1.5'");
        assert_eq!(values(&r.failures[1]), (Some("3600"), Some("60")));
        assert_eq!(r.failures[1].message, "AssertionError: 60 != 3600");
        assert_eq!(values(&r.failures[2]), (Some("[1, 3]"), Some("[1, 2]")));
        assert_eq!(values(&r.failures[3]), (None, None));
        let import =
            "/tmp/proj/test_broken.py:2: ModuleNotFoundError: No module named 'nosuchmodule'";
        assert_eq!(r.errors, [format!("{import}\n    import nosuchmodule")]);
        assert_eq!((r.passed, r.failed, r.failing()), (Some(1), Some(4), 5));
    }

    #[test]
    fn unittest_syntax_error_is_worse_than_any_failure() {
        let r = parse(UT_SYNTAX);
        assert_eq!(r.errors, ["/tmp/proj2/mod.py:1: SyntaxError: invalid syntax\n    def f(:"]);
        assert_eq!((r.failures.len(), r.failing()), (0, usize::MAX));
        // The bare traceback unittest prints for a broken module named on the command line.
        let bare = "Traceback (most recent call last):\n  File \"/usr/lib/python3.11/unittest/main.py\", \
            line 161, in createTests\n    self.test = x\n  File \"/p/test_syn.py\", line 2\n    def f(:\n\
            \x20         ^\nSyntaxError: invalid syntax\n";
        assert_eq!(
            parse(bare).errors,
            ["/p/test_syn.py:2: SyntaxError: invalid syntax\n    def f(:"]
        );
    }

    #[test]
    fn pytest_failures_with_noise() {
        let r = parse(PYTEST);
        assert_eq!(r.runner, Runner::Pytest);
        assert_eq!(
            names(&r),
            ["test_add_big", "test_div_zero", "TestThing.test_raises", "test_param[2]"]
        );
        let big = &r.failures[0];
        assert_eq!(
            (big.location.clone(), big.message.as_str()),
            (loc("tests/test_calc.py", 10), "assert 8 == 7")
        );
        assert_eq!(values(big), (Some("7"), Some("8")));
        let zero = &r.failures[1];
        assert_eq!(zero.location, loc("tests/test_calc.py", 14));
        assert_eq!(
            (zero.message.as_str(), zero.expected.clone()),
            ("ZeroDivisionError: division by zero", None)
        );
        assert_eq!(r.failures[2].message, "KeyError: 'missing'");
        assert_eq!(r.failures[3].location, loc("tests/test_cls.py", 9));
        assert_eq!((r.passed, r.failed, r.errors.len()), (Some(2), Some(4), 0));
    }

    #[test]
    fn pytest_collection_errors() {
        let r = parse(PYTEST_COLLECT);
        let syntax =
            "/tmp/tout/pt/tests/test_syn.py:1: SyntaxError: invalid syntax\n    def test_y(:";
        assert_eq!(
            r.errors,
            ["tests/test_imp.py:1: ModuleNotFoundError: No module named 'nosuch'", syntax]
        );
        assert_eq!(r.failing(), usize::MAX);
    }

    #[test]
    fn cargo_panics_across_binaries() {
        let r = parse(CARGO);
        assert_eq!(r.runner, Runner::Cargo);
        assert_eq!(names(&r), ["tests::big", "tests::custom", "tests::boom", "integration_bad"]);
        let big = &r.failures[0];
        assert_eq!(big.location, loc("src/lib.rs", 17));
        assert_eq!(big.message, "assertion `left == right` failed\n  left: 8\n right: 7");
        assert_eq!(values(big), (Some("7"), Some("8")));
        assert_eq!(r.failures[1].message, "sum too big: 11");
        assert_eq!(r.failures[2].message, "index out of bounds: the len is 0 but the index is 0");
        assert_eq!(r.failures[3].location, loc("tests/it.rs", 9));
        assert_eq!((r.passed, r.failed, r.failing()), (Some(2), Some(4), 4));
    }

    #[test]
    fn cargo_failures_without_assertions() {
        let r = parse(CARGO_MISC);
        assert_eq!(names(&r), ["ne", "returns_err", "should"]);
        assert_eq!(values(&r.failures[0]), (None, None));
        assert_eq!(r.failures[1].message, "Error: \"bad input\"");
        assert_eq!(r.failures[2].location, loc("tests/it.rs", 8));
    }

    #[test]
    fn cargo_compile_error_with_warnings() {
        let r = parse(CARGO_COMPILE);
        let e = "src/lib.rs:4: error[E0382]: borrow of moved value: `v`\n  3 |     let w = v;\n    \
            |             - value moved here\n  4 |     v.len() + w.len()\n    |     ^ value borrowed here after move";
        assert_eq!(r.errors, [e]);
        assert_eq!(r.failing(), usize::MAX);
    }

    #[test]
    fn cargo_before_rust_1_73() {
        let r = parse(CARGO_OLD);
        assert_eq!(values(&r.failures[0]), (Some("7"), Some("8")));
        assert_eq!(r.failures[1].location, loc("src/lib.rs", 28));
        assert_eq!(r.failures[1].message, "sum too big: 11");
    }

    #[test]
    fn go_subtests_logs_and_panics() {
        let r = parse(GO);
        assert_eq!(r.runner, Runner::Go);
        assert_eq!(names(&r), ["TestAdd", "TestTable/negative", "TestTable/multi", "TestIndex"]);
        assert_eq!(r.failures[0].location, loc("calc_test.go", 12));
        assert_eq!(values(&r.failures[0]), (Some("7"), Some("8")));
        assert_eq!(values(&r.failures[1]), (Some("-3"), Some("-2")));
        assert_eq!(r.failures[2].message, "got 5, want 6\ninputs: [2 3]");
        let panic = &r.failures[3];
        assert_eq!(panic.message, "panic: runtime error: index out of range [5] with length 3");
        assert_eq!(panic.location, loc("/home/dev/calc/calc_test.go", 35));
        assert_eq!((r.passed, r.failed), (None, None));
        let v = parse(GO_VERBOSE);
        assert_eq!(names(&v), ["TestAdd", "TestTable/negative"]);
        assert_eq!((v.passed, v.failed), (Some(2), Some(2)));
    }

    #[test]
    fn go_build_errors() {
        let r = parse(GO_BUILD);
        assert_eq!(r.errors.len(), 2);
        assert_eq!(r.errors[0], "./calc.go:7:9: undefined: y");
        assert_eq!(r.failing(), usize::MAX);
    }

    #[test]
    fn node_tap_with_a_broken_file() {
        let r = parse(NODE_TAP);
        assert_eq!(r.runner, Runner::Node);
        assert_eq!(names(&r), ["parses", "multiplies"]);
        let parses = &r.failures[0];
        assert_eq!(parses.location, loc("/tmp/tout/nd/test/calc.test.js", 5));
        assert_eq!(
            parses.message,
            "SyntaxError: Expected property name or '}' in JSON at position 1"
        );
        let mult = &r.failures[1];
        assert_eq!(
            (mult.message.as_str(), values(mult)),
            ("AssertionError: 6 == 7", (Some("7"), Some("6")))
        );
        assert_eq!(mult.location, loc("/tmp/tout/nd/test/suite.test.js", 6));
        let broken = "/tmp/tout/nd/test/broken.test.js:1: SyntaxError: Unexpected token ';'\n    const x = ;";
        assert_eq!(r.errors, [broken]);
        assert_eq!((r.passed, r.failed, r.failing()), (Some(1), Some(2), 3));
    }

    #[test]
    fn a_change_that_stops_a_test_file_loading_is_worse_than_any_failures() {
        let before = parse(
            "TAP version 13\n# Subtest: total\nnot ok 1 - total\n  ---\n  location: \
             '/tmp/proj/test/cart.test.js:7:1'\n  error: |-\n    5994 !== 5997\n  ...\n\
             # Subtest: parse\nok 2 - parse\n  ---\n  ...\n\
             # Subtest: format\nok 3 - format\n  ---\n  ...\n\
             1..3\n# tests 3\n# pass 2\n# fail 1\n",
        );
        // src/cart.js no longer parses: its test file counts as one failing
        // test and the tests of the other file still run.
        let broken = parse(
            "TAP version 13\n# /tmp/proj/src/cart.js:1\n# use strict';\n\
             # SyntaxError: Unexpected identifier 'strict'\n\
             # Subtest: /tmp/proj/test/cart.test.js\nnot ok 1 - /tmp/proj/test/cart.test.js\n\
             \x20 ---\n  location: '/tmp/proj/test/cart.test.js:1:1'\n  error: 'test failed'\n  ...\n\
             # Subtest: format\nok 2 - format\n  ---\n  ...\n\
             1..2\n# tests 2\n# pass 1\n# fail 1\n",
        );
        assert_eq!((before.ran(), broken.ran()), (Some(3), Some(2)));
        assert_eq!(broken.failing(), 1, "alone, it looks like progress");
        assert_eq!(broken.failing_since(Some(&before)), usize::MAX);
        assert_eq!(before.failing_since(Some(&before)), 1);
        assert_eq!(broken.failing_since(None), 1, "nothing to compare with");
    }

    #[test]
    fn node_spec_reporter() {
        let full = parse(NODE_SPEC);
        // Without the closing `✖ failing tests:` section (cut off), the tree gives the same.
        let cut = parse(&NODE_SPEC[..NODE_SPEC.find("✖ failing tests:").unwrap_or(0)]);
        for r in [full, cut] {
            assert_eq!(names(&r), ["multiplies"]);
            let f = &r.failures[0];
            assert_eq!(
                (f.message.as_str(), values(f)),
                ("AssertionError: 6 == 7", (Some("7"), Some("6")))
            );
            assert_eq!((r.passed, r.failed), (Some(1), Some(1)));
        }
    }

    #[test]
    fn crashes_and_missing_reasons_are_not_passes() {
        // Real (Rust 1.95): a test binary aborted by a stack overflow.
        let overflow = "running 2 tests\n\nthread 'tests::overflow' (9847) has overflowed its stack\n\
            fatal runtime error: stack overflow, aborting\nerror: test failed, to rerun pass `--lib`\n\n\
            Caused by:\n  process didn't exit successfully: `/tmp/crt4/target/debug/deps/crt4-8c` \
            (signal: 6, SIGABRT: process abort signal)\n";
        let r = parse(overflow);
        assert_eq!((names(&r), r.errors.len(), r.failing()), (vec!["tests::overflow"], 1, 2));
        // Go: a panic outside any test; a failed package whose reason was cut off.
        let init = "panic: boom\n\ngoroutine 1 [running]:\nexample.com/calc.init.0()\n\
            \t/home/dev/calc/calc.go:5 +0x25\nFAIL\texample.com/calc\t0.004s\nFAIL\n";
        assert_eq!(parse(init).errors, ["/home/dev/calc/calc.go:5: panic: boom"]);
        assert_eq!(parse("FAIL\texample.com/calc\t0.004s\nFAIL\n").failing(), usize::MAX);
        // Real (pytest 9.2 -q) in an empty directory.
        assert_eq!(parse("\nno tests ran in 0.00s\n").failing(), usize::MAX);
        // The loop's trimming markers do not end up in messages.
        let trimmed = CARGO.replace("  left: 8", "[... 3 lines omitted ...]\n  left: 8");
        assert_eq!(parse(&trimmed), parse(CARGO));
    }

    #[test]
    fn unrecognised_text_gives_none() {
        for text in [
            "",
            "hello\nworld",
            "make: *** [Makefile:3: all] Error 1",
            "ok\nFAIL",
            "3 apples in 2 bags",
        ] {
            assert_eq!(parse_test_output(text), None, "{text:?}");
        }
    }

    #[test]
    fn render_shows_the_failing_test_source() {
        let test_file =
            "from calc import add\n\n\ndef test_add_small():\n    assert add(1, 2) == 3\n\n\n\
            def test_add_big():\n    x = add(3, 4)\n    assert x == 7\n";
        let source = |p: &str| (p == "tests/test_calc.py").then(|| test_file.to_string());
        let text = parse(PYTEST).render(&source, 2);
        let expected = "FAILED test_add_big at tests/test_calc.py:10\n  assert 8 == 7\n  expected: 7 | actual: 8\n\
            \x20     8 | def test_add_big():\n      9 |     x = add(3, 4)\n  >  10 |     assert x == 7\n\
            FAILED test_div_zero at tests/test_calc.py:14\n  ZeroDivisionError: division by zero\n\
            … and 2 more failing: TestThing.test_raises, test_param[2]\npytest: 4 failed, 2 passed";
        assert_eq!(text, expected);
        let errors = parse(CARGO_COMPILE).render(&|_| None, 5);
        assert!(errors.starts_with("Errors:\n  src/lib.rs:4: error[E0382]"), "{errors}");
        assert!(errors.ends_with("\ncargo test: 1 error"), "{errors}");
        // Absolute paths (unittest, node, in the scratch copy) are found by their tail.
        let test_file = "import unittest\n\n\n\n\n\n\nclass TestParse:\n    def test_hours(self):\n        self.assertEqual(parse(\"1h\"), 3600)\n";
        let source = |p: &str| (p == "test_duration.py").then(|| test_file.to_string());
        let text = parse(UT_VERBOSE).render(&source, 2);
        assert!(text.contains("FAILED test_hours (test_duration.TestParse.test_hours) at test_duration.py:10\n  \
            AssertionError: 60 != 3600\n  expected: 3600 | actual: 60\n      9 |     def test_hours(self):\n  \
            >  10 |         self.assertEqual(parse(\"1h\"), 3600)\n"), "{text}");
    }

    #[test]
    fn render_is_bounded_and_elides_long_tests() {
        let long: String = std::iter::once("fn long_test() {".to_string())
            .chain((2..=40).map(|i| format!("    step({i});")))
            .collect::<Vec<_>>()
            .join("\n");
        let piece = snippet(&long, 30, 12);
        assert_eq!(
            (piece.len(), piece[0].as_str(), piece[1].as_str()),
            (12, "    1 | fn long_test() {", "     ...")
        );
        assert_eq!(piece[11], ">  30 |     step(30);");
        let failure = TestFailure {
            name: "t".repeat(500),
            location: loc("x.rs", 30),
            message: "line\n".repeat(50),
            expected: Some("e\n".repeat(9)),
            actual: Some("a".into()),
        };
        let report = TestReport {
            runner: Runner::Cargo,
            failures: vec![failure; 200],
            passed: None,
            failed: None,
            errors: vec!["err\n".repeat(20); 20],
        };
        let text = report.render(&|_| Some(long.clone()), 50);
        assert!(text.lines().count() <= 80, "{}", text.lines().count());
        assert!(text.lines().all(|l| l.chars().count() <= 210));
        assert!(text.ends_with("\ncargo test: 20 errors"), "{text}");
    }

    #[test]
    fn truncated_output_keeps_what_was_found() {
        for fixture in ALL {
            let lines: Vec<&str> = fixture.lines().collect();
            let head = lines[..lines.len() * 6 / 10].join("\n");
            let r = parse_test_output(&head).unwrap_or_else(|| panic!("not recognised: {head}"));
            assert!(r.failing() > 0, "{head}");
            let mut cut = 0;
            while cut < fixture.len() {
                if fixture.is_char_boundary(cut) {
                    let _ = parse_test_output(&fixture[..cut]).map(|r| r.render(&|_| None, 3));
                    let _ = parse_test_output(&fixture[cut..]);
                }
                cut += 5;
            }
        }
    }

    #[test]
    fn garbage_never_panics() {
        let pieces = [
            "--- FAIL: T (0s)",
            "not ok 1 - x",
            "  ---",
            "  ...",
            "  error: |-",
            "    ",
            "thread 'a' panicked at ",
            "'",
            "', ",
            ":",
            "7",
            "99999999999",
            "\n",
            "\t",
            "E   ",
            "File \"",
            "\", line ",
            "_ x _",
            "== FAILURES ==",
            "== ERRORS ==",
            "FAIL: t (x)",
            "------------------------------",
            "====================",
            "error[E1]: x",
            " --> ",
            "✖ ",
            "ℹ fail ",
            "# pass ",
            "test at ",
            "panic: ",
            "got ",
            "want ",
            " != ",
            " == ",
            "assert ",
            "left: ",
            "right: ",
            "é",
            "😀",
            "\x1b[31m",
            "\x1b",
            " | ",
            "(",
            ")",
            "x.go:",
            "a.py:",
            "Traceback (most recent call last):",
            "/unittest/",
            "ERROR collecting ",
            "failures:",
            "test result: ",
            "=== RUN ",
            "exitCode: 1",
            "location: '",
            "stack: |-",
            "---- x stdout ----",
            "at f (/a.js:1:2)",
            "\r",
            "Ran 3 tests",
            "FAILED (errors=1)",
            "1 failed in 1s",
            "✖ failing tests:",
            "AssertionError: ",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for round in 0..3000 {
            let text: String = if round % 3 == 0 {
                let bytes: Vec<u8> = (0..next(300)).map(|_| next(256) as u8).collect();
                String::from_utf8_lossy(&bytes).into_owned()
            } else {
                (0..next(80)).map(|_| pieces[next(pieces.len())]).collect()
            };
            if let Some(r) = parse_test_output(&text) {
                let rendered = r.render(&|_| Some(text.clone()), next(6));
                assert!(rendered.lines().count() <= 80);
                let _ = r.failing();
            }
        }
    }

    #[test]
    fn serializes_runner_in_snake_case() {
        let r = parse(GO_BUILD);
        let json = serde_json::to_string(&r).expect("serializes");
        assert!(json.contains("\"runner\":\"go\""), "{json}");
        assert_eq!(serde_json::from_str::<TestReport>(&json).ok(), Some(r));
    }
}
