//! Whole-file replies that are not whole. Asked for a complete file, a
//! small model often stops copying after the function it changed, or writes
//! only that function, or writes something else entirely (another file, a
//! line of nonsense). Taken literally, the first two delete the rest of the
//! file and fail every test; the functions of the file, found with
//! tree-sitter, tell the cases apart: the functions the reply wrote replace
//! theirs and the rest of the file stays, and a reply that holds none of the
//! file's functions is sent back.

use suit_ingest::{functions, FunctionSpan};

/// What a whole-file reply turns out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WholeReply {
    /// It keeps every function of the file (or the file has none, or its
    /// language has no outline): taken as written.
    Whole,
    /// It left out functions of the file but rewrote some: the file with
    /// those functions replaced (and any new ones added after them).
    Completed(String),
    /// It holds none of the file's functions: not this file at all.
    NotTheFile {
        /// The file's functions the reply left out.
        missing: Vec<String>,
    },
}

/// Judges `after`, a whole-file reply for the file `path` that held
/// `before`, made for `task`. A reply that leaves out a function the task
/// asks to remove, rename or merge is taken as written.
pub(crate) fn judge(path: &str, before: &str, after: &str, task: &str) -> WholeReply {
    let Some(old) = functions(path, before) else { return WholeReply::Whole };
    let old_outer = outermost(&old);
    if old_outer.is_empty() {
        return WholeReply::Whole;
    }
    let new = functions(path, after)
        .filter(|found| !found.is_empty())
        .or_else(|| lone_methods(path, after))
        .unwrap_or_default();
    let mut missing: Vec<String> = Vec::new();
    for f in &old_outer {
        if !new.iter().any(|g| g.name == f.name) && !missing.contains(&f.name) {
            missing.push(f.name.clone());
        }
    }
    if missing.is_empty() {
        return WholeReply::Whole;
    }
    let new_outer = outermost(&new);
    if !new_outer.iter().any(|g| old.iter().any(|f| f.name == g.name)) {
        return WholeReply::NotTheFile { missing };
    }
    if removes(task, &missing) {
        return WholeReply::Whole;
    }
    match merge(before, after, &old, &new_outer) {
        Some(text) => WholeReply::Completed(text),
        None => WholeReply::Whole,
    }
}

/// `before` with the functions of `reply` in place of their namesakes (and
/// the imports it starts with added): the reply to a step narrowed to one
/// function, which is written alone. `None` when the reply holds none of
/// the file's functions.
pub(crate) fn splice(path: &str, before: &str, reply: &str) -> Option<String> {
    let old = functions(path, before)?;
    let new = functions(path, reply)
        .filter(|found| !found.is_empty())
        .or_else(|| lone_methods(path, reply))?;
    let new_outer = outermost(&new);
    if !new_outer.iter().any(|g| old.iter().any(|f| f.name == g.name)) {
        return None;
    }
    merge(before, reply, &old, &new_outer)
}

/// The methods of a JavaScript or TypeScript reply that holds only methods
/// (`totalCents() { … }` written without its class), which do not parse as
/// functions on their own: parsed inside a class, with their lines counted
/// in the reply.
fn lone_methods(path: &str, reply: &str) -> Option<Vec<FunctionSpan>> {
    const SCRIPTS: [&str; 6] = [".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx"];
    if !SCRIPTS.iter().any(|ext| path.ends_with(ext)) {
        return None;
    }
    let wrapped = format!("class Fragment {{\n{reply}\n}}\n");
    let lines = reply.lines().count();
    let found: Vec<FunctionSpan> = functions(path, &wrapped)?
        .into_iter()
        .filter(|f| f.start >= 2 && f.end <= lines + 1)
        .map(|f| FunctionSpan { start: f.start - 1, end: f.end - 1, ..f })
        .collect();
    (!found.is_empty()).then_some(found)
}

/// Whether `task` asks to remove, rename or merge one of the functions
/// `missing`: it names one and says a word of taking code away.
fn removes(task: &str, missing: &[String]) -> bool {
    const WORDS: [&str; 8] =
        ["remov", "delet", "drop", "renam", "rid of", "inline", "merg", "replace"];
    let lower = task.to_lowercase();
    WORDS.iter().any(|w| lower.contains(w)) && missing.iter().any(|name| names(task, name))
}

/// Whether `text` holds `name` as a whole word.
fn names(text: &str, name: &str) -> bool {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(name).any(|(at, _)| {
        !text[..at].chars().next_back().is_some_and(word)
            && !text[at + name.len()..].chars().next().is_some_and(word)
    })
}

/// The spans not inside another span.
fn outermost(spans: &[FunctionSpan]) -> Vec<FunctionSpan> {
    spans
        .iter()
        .filter(|f| {
            !spans.iter().any(|g| {
                (g.start, g.end) != (f.start, f.end) && g.start <= f.start && f.end <= g.end
            })
        })
        .cloned()
        .collect()
}

/// One replacement of old lines `start..=end` (1-based) by new lines.
struct Replacement {
    start: usize,
    end: usize,
    lines: Vec<String>,
}

/// `before` with each function of `new_outer` (spans of `after`) in place
/// of the old function of its name, and functions the file did not have
/// inserted next to the one they followed in the reply. `None` when a name
/// cannot be matched to one old function or two replacements overlap.
fn merge(
    before: &str,
    after: &str,
    old: &[FunctionSpan],
    new_outer: &[FunctionSpan],
) -> Option<String> {
    let old_lines: Vec<&str> = before.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = after.split_inclusive('\n').collect();
    let slice = |from: usize, to: usize| -> Vec<String> {
        new_lines
            .get(from - 1..to.min(new_lines.len()))
            .unwrap_or_default()
            .iter()
            .map(|l| l.to_string())
            .collect()
    };
    let mut replacements: Vec<Replacement> = Vec::new();
    // New functions before the first one that replaces an old one.
    let mut pending: Vec<String> = Vec::new();
    let mut last: Option<(usize, isize)> = None; // index into replacements, indent shift
    for (i, g) in new_outer.iter().enumerate() {
        let same: Vec<&FunctionSpan> = old.iter().filter(|f| f.name == g.name).collect();
        let target = match same.len() {
            0 => None,
            1 => Some(same[0]),
            n => {
                // Several of the name (methods of different types): matched
                // in order when the reply has as many.
                let nth = new_outer[..i].iter().filter(|h| h.name == g.name).count();
                let count = new_outer.iter().filter(|h| h.name == g.name).count();
                if count != n {
                    return None;
                }
                Some(same[nth])
            }
        };
        match target {
            Some(f) => {
                let shift = indent(old_lines.get(f.start - 1)?) as isize
                    - indent(new_lines.get(g.start - 1)?) as isize;
                let mut lines: Vec<String> = std::mem::take(&mut pending);
                lines.extend(slice(g.start, g.end));
                let lines = lines.iter().map(|l| shifted(l, shift)).collect();
                replacements.push(Replacement { start: f.start, end: f.end, lines });
                last = Some((replacements.len() - 1, shift));
            }
            None => match last {
                // The gap before it in the reply, then the function.
                Some((at, shift)) => {
                    let from = new_outer[i - 1].end + 1;
                    let added = slice(from, g.end);
                    replacements[at].lines.extend(added.iter().map(|l| shifted(l, shift)));
                }
                None => {
                    let to = new_outer.get(i + 1).map_or(g.end, |next| next.start - 1);
                    pending.extend(slice(g.start, to));
                }
            },
        }
    }
    if replacements.is_empty() {
        return None;
    }
    replacements.sort_by_key(|r| r.start);
    if replacements.windows(2).any(|w| w[1].start <= w[0].end) {
        return None;
    }
    // A reply that starts as the file starts (truncated further down) brings
    // its own head: imports it added, constants it changed.
    let old_first = outermost(old).iter().map(|f| f.start).min()?;
    let new_first = new_outer.first()?.start;
    let same_head = replacements[0].start == old_first
        && first_text(&old_lines[..old_first - 1]).is_some()
        && first_text(&old_lines[..old_first - 1])
            == first_text(&new_lines[..(new_first - 1).min(new_lines.len())]);
    // A function written alone may bring the imports its change needs.
    if !same_head {
        let imports = new_imports(&old_lines[..old_first - 1], &new_lines[..new_first - 1]);
        if !imports.is_empty() {
            let at = import_point(&old_lines[..old_first - 1]);
            let mut lines: Vec<String> =
                imports.iter().map(|l| format!("{}\n", l.trim())).collect();
            if at + 1 == old_first {
                lines.push("\n".to_string());
            }
            replacements.insert(0, Replacement { start: at + 1, end: at, lines });
        }
    }
    let mut out: Vec<String> = Vec::with_capacity(old_lines.len());
    let mut next = 1;
    if same_head {
        out.extend(slice(1, new_first - 1));
        next = old_first;
    }
    for r in &replacements {
        out.extend(old_lines[next - 1..r.start - 1].iter().map(|l| l.to_string()));
        out.extend(r.lines.iter().cloned());
        next = r.end + 1;
    }
    out.extend(old_lines.get(next - 1..).unwrap_or_default().iter().map(|l| l.to_string()));
    let mut text: String = out.concat();
    if before.ends_with('\n') && !text.ends_with('\n') {
        text.push('\n');
    }
    Some(text)
}

/// Whether `line` is a whole one-line import: `import x`, `from x import
/// y`, `use x;`, `const x = require("x");`.
fn is_import(line: &str) -> bool {
    let l = line.trim();
    let python = (l.starts_with("import ") || (l.starts_with("from ") && l.contains(" import ")))
        && !l.ends_with('(')
        && !l.ends_with('\\');
    let rust = l.starts_with("use ") && l.ends_with(';');
    let script = (l.starts_with("import ")
        && (l.ends_with(';') || l.ends_with('"') || l.ends_with('\'')))
        || (l.contains("require(") && l.starts_with("const ") && l.ends_with([';', ')']));
    python || rust || script
}

/// The import lines of `reply_head` (the reply's lines before its first
/// function) that the file's head `old_head` does not hold yet.
fn new_imports<'a>(old_head: &[&str], reply_head: &[&'a str]) -> Vec<&'a str> {
    let have: Vec<&str> = old_head.iter().map(|l| l.trim()).collect();
    let mut out: Vec<&str> = Vec::new();
    for line in reply_head.iter().filter(|l| is_import(l)) {
        if !have.contains(&line.trim()) && !out.iter().any(|o| o.trim() == line.trim()) {
            out.push(line);
        }
    }
    out
}

/// The line (1-based; 0 = before the first) after which new imports go in
/// a file whose head (the lines before its first function) is `head`: after
/// its last import, or else after the leading comments, module docstring and
/// directives that must stay first.
fn import_point(head: &[&str]) -> usize {
    if let Some(last) = head.iter().rposition(|l| is_import(l) && !l.starts_with([' ', '\t'])) {
        return last + 1;
    }
    let mut at = 0;
    let mut in_docstring: Option<&str> = None;
    let mut docstring_seen = false;
    for (i, line) in head.iter().enumerate() {
        let l = line.trim();
        if let Some(quote) = in_docstring {
            if l.contains(quote) {
                in_docstring = None;
                at = i + 1;
            }
            continue;
        }
        let quote = ["\"\"\"", "'''"].into_iter().find(|q| l.starts_with(q));
        if let Some(q) = quote.filter(|_| !docstring_seen) {
            docstring_seen = true;
            if l.len() >= 2 * q.len() && l[q.len()..].contains(q) {
                at = i + 1;
            } else {
                in_docstring = Some(q);
            }
            continue;
        }
        let leading = l.is_empty()
            || l.starts_with("//")
            || (l.starts_with('#') && !l.starts_with("#["))
            || l.trim_end_matches(';') == "\"use strict\""
            || l.trim_end_matches(';') == "'use strict'";
        if !leading {
            break;
        }
        if !l.is_empty() {
            at = i + 1;
        }
    }
    at
}

/// The first line with text, trimmed.
fn first_text<'a>(lines: &[&'a str]) -> Option<&'a str> {
    lines.iter().map(|l| l.trim()).find(|l| !l.is_empty())
}

/// The width of a line's leading whitespace.
fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches([' ', '\t']).len()
}

/// `line` with `shift` spaces added to (or taken from) its indentation;
/// blank lines stay as they are.
fn shifted(line: &str, shift: isize) -> String {
    if shift == 0 || line.trim().is_empty() {
        return line.to_string();
    }
    if shift > 0 {
        format!("{}{line}", " ".repeat(shift as usize))
    } else {
        let cut = (-shift as usize).min(indent(line));
        line[cut..].to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MONEY: &str = r#""""Money arithmetic."""

from decimal import ROUND_HALF_EVEN, Decimal

CENT = Decimal("0.01")


def to_cents(amount):
    """Round to cents."""
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_EVEN)


def add_tax(net, rate):
    return to_cents(Decimal(net) * (1 + Decimal(rate) / 100))


def split(total, parts):
    cents = int(to_cents(total) / CENT)
    return [cents // parts] * parts
"#;

    const TASK: &str = "to_cents('2.345') gives 2.34; fix the rounding of to_cents and add_tax.";

    #[test]
    fn a_reply_that_keeps_every_function_is_taken_as_written() {
        let after = MONEY.replace("HALF_EVEN)", "HALF_UP)");
        assert_eq!(judge("money.py", MONEY, &after, TASK), WholeReply::Whole);
        // Deleting statements inside functions is an ordinary edit.
        let after = MONEY.replace("    cents = int(to_cents(total) / CENT)\n", "");
        assert_eq!(judge("money.py", MONEY, &after, TASK), WholeReply::Whole);
    }

    #[test]
    fn a_copy_that_stops_early_keeps_the_rest_of_the_file_and_its_own_head() {
        // The reply stopped after add_tax, and changed the import and one line.
        let cut = MONEY.find("\n\ndef split").unwrap();
        let after = MONEY[..cut]
            .replace("ROUND_HALF_EVEN, Decimal", "ROUND_HALF_UP, Decimal")
            .replace("rounding=ROUND_HALF_EVEN", "rounding=ROUND_HALF_UP");
        let WholeReply::Completed(text) = judge("money.py", MONEY, &after, TASK) else {
            panic!("expected a completed file");
        };
        let expected = MONEY.replace("HALF_EVEN", "HALF_UP");
        assert_eq!(text, expected);
    }

    #[test]
    fn a_lone_function_replaces_its_namesake_and_nothing_else() {
        let after = "def add_tax(net, rate):\n    return to_cents(Decimal(net) * (100 + Decimal(rate)) / 100)\n";
        let WholeReply::Completed(text) = judge("money.py", MONEY, after, TASK) else {
            panic!("expected a completed file");
        };
        assert_eq!(
            text,
            MONEY.replace(
                "to_cents(Decimal(net) * (1 + Decimal(rate) / 100))",
                "to_cents(Decimal(net) * (100 + Decimal(rate)) / 100)"
            )
        );
    }

    #[test]
    fn a_new_function_goes_after_the_one_it_followed() {
        let after = "def add_tax(net, rate):\n    return to_cents(Decimal(net) * (1 + Decimal(rate) / 100))\n\n\ndef net_of(gross, rate):\n    return to_cents(Decimal(gross) / (1 + Decimal(rate) / 100))\n";
        let WholeReply::Completed(text) = judge("money.py", MONEY, after, TASK) else {
            panic!("expected a completed file");
        };
        assert!(text
            .contains("/ 100))\n\n\ndef net_of(gross, rate):\n    return to_cents(Decimal(gross)"));
        assert!(text.contains("def split(total, parts):"));
        assert!(text.find("def net_of").unwrap() < text.find("def split").unwrap());
    }

    #[test]
    fn a_method_written_alone_is_indented_as_its_class_needs() {
        let before = "class Shape:\n    def area(self):\n        return 0\n\n    def name(self):\n        return 'shape'\n";
        let after = "def area(self):\n    return 1\n";
        let WholeReply::Completed(text) = judge("shape.py", before, after, "") else {
            panic!("expected a completed file");
        };
        assert_eq!(text, before.replace("return 0", "return 1"));
    }

    #[test]
    fn a_reply_with_none_of_the_files_functions_is_not_the_file() {
        for after in ["obj['file_path']\n", "class T:\n    def test_x(self):\n        pass\n"] {
            assert_eq!(
                judge("money.py", MONEY, after, TASK),
                WholeReply::NotTheFile {
                    missing: vec!["to_cents".into(), "add_tax".into(), "split".into()]
                },
                "{after}"
            );
        }
    }

    #[test]
    fn a_function_the_task_names_may_go() {
        let cut = MONEY.find("\n\ndef split").unwrap();
        let after = &MONEY[..cut];
        let task = "Remove split(); nobody calls it.";
        assert_eq!(judge("money.py", MONEY, after, task), WholeReply::Whole);
        assert_eq!(judge("money.py", MONEY, after, "Rename split to share."), WholeReply::Whole);
        // A longer name that contains it is another function.
        let task = "Remove split_even(); nobody calls it.";
        assert!(matches!(judge("money.py", MONEY, after, task), WholeReply::Completed(_)));
        // Named, but not to be taken away.
        let task = "split() loses a cent; fix it.";
        assert!(matches!(judge("money.py", MONEY, after, task), WholeReply::Completed(_)));
    }

    #[test]
    fn rust_functions_in_an_impl_are_matched_by_name() {
        let before = "pub struct C(u32);\n\nimpl C {\n    pub fn get(&self) -> u32 {\n        self.0\n    }\n\n    pub fn bump(&mut self) {\n        self.0 += 2;\n    }\n}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn t() {}\n}\n";
        let after = "pub fn bump(&mut self) {\n    self.0 += 1;\n}\n";
        let WholeReply::Completed(text) = judge("src/lib.rs", before, after, "") else {
            panic!("expected a completed file");
        };
        assert_eq!(text, before.replace("self.0 += 2;", "self.0 += 1;"));
    }

    #[test]
    fn a_javascript_method_written_without_its_class_replaces_its_namesake() {
        let before = "class Cart {\n  constructor() {\n    this.lines = [];\n  }\n\n  totalCents() {\n    return 0;\n  }\n}\n\nmodule.exports = { Cart };\n";
        let after = "  totalCents() {\n    return this.lines.length;\n  }\n";
        let WholeReply::Completed(text) = judge("src/cart.js", before, after, "") else {
            panic!("expected a completed file");
        };
        assert_eq!(text, before.replace("return 0;", "return this.lines.length;"));
    }

    #[test]
    fn a_function_written_alone_brings_its_imports_after_the_files_own() {
        let reply = "from decimal import ROUND_HALF_UP\n\ndef to_cents(amount):\n    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)\n";
        let text = splice("money.py", MONEY, reply).unwrap();
        assert_eq!(
            text,
            MONEY
                .replace(
                    "import ROUND_HALF_EVEN, Decimal\n",
                    "import ROUND_HALF_EVEN, Decimal\nfrom decimal import ROUND_HALF_UP\n"
                )
                .replace("rounding=ROUND_HALF_EVEN", "rounding=ROUND_HALF_UP")
                .replace("    \"\"\"Round to cents.\"\"\"\n", "")
        );
        // An import the file has already is not added twice.
        let reply = "from decimal import ROUND_HALF_EVEN, Decimal\n\ndef split(total, parts):\n    return []\n";
        let text = splice("money.py", MONEY, reply).unwrap();
        assert_eq!(text.matches("import").count(), 1, "{text}");
    }

    #[test]
    fn new_imports_go_after_docstrings_and_inner_attributes_but_before_items() {
        let py = "\"\"\"Paths.\n\nMore.\n\"\"\"\n\n\ndef f():\n    return 1\n";
        let text = splice("p.py", py, "import os\n\ndef f():\n    return os.sep\n").unwrap();
        assert_eq!(
            text,
            "\"\"\"Paths.\n\nMore.\n\"\"\"\nimport os\n\n\ndef f():\n    return os.sep\n"
        );
        let rs = "//! Colors.\n\n#[derive(Debug)]\npub struct S;\n\npub fn f() -> u8 {\n    1\n}\n";
        let reply = "use std::fmt;\n\npub fn f() -> u8 {\n    2\n}\n";
        let text = splice("src/lib.rs", rs, reply).unwrap();
        assert_eq!(
            text,
            "//! Colors.\nuse std::fmt;\n\n#[derive(Debug)]\npub struct S;\n\npub fn f() -> u8 {\n    2\n}\n"
        );
        // A file that starts with its function gets the import on top.
        let text =
            splice("q.py", "def f():\n    return 1\n", "import os\ndef f():\n    return 2\n");
        assert_eq!(text.unwrap(), "import os\n\ndef f():\n    return 2\n");
    }

    #[test]
    fn a_spliced_function_keeps_the_rest_of_a_one_function_file() {
        let before = "LIMIT = 3\n\n\ndef f(x):\n    return min(x, LIMIT)\n";
        let text = splice("f.py", before, "def f(x):\n    return max(x, LIMIT)\n").unwrap();
        assert_eq!(text, before.replace("min(", "max("));
        assert_eq!(splice("f.py", before, "def g():\n    pass\n"), None);
        assert_eq!(splice("notes.txt", "a\n", "b\n"), None);
    }

    #[test]
    fn files_without_functions_or_outline_are_taken_as_written() {
        assert_eq!(judge("notes.md", "# a\n", "# b\n", ""), WholeReply::Whole);
        assert_eq!(judge("c.py", "X = 1\n", "X = 2\n", ""), WholeReply::Whole);
    }
}
