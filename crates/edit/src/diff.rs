//! Unified diffs split into hunks that can be accepted one by one.

use std::fmt::Write as _;
use std::ops::Range;

use similar::{capture_diff_slices, Algorithm, DiffTag};

use crate::apply::split_lines;

/// The difference between two versions of a file, as hunks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDiff {
    path: String,
    created: bool,
    deleted: bool,
    old: String,
    new: String,
    hunks: Vec<Hunk>,
}

/// One hunk: a run of changed lines with its context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hunk {
    old: Range<usize>,
    new: Range<usize>,
    text: String,
    added: usize,
    removed: usize,
}

impl Hunk {
    /// The hunk in unified format, `@@ -a,b +c,d @@` header included.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Lines this hunk adds.
    pub fn added(&self) -> usize {
        self.added
    }

    /// Lines this hunk removes.
    pub fn removed(&self) -> usize {
        self.removed
    }

    /// The 0-based range of old lines the hunk covers (context included).
    pub fn old_lines(&self) -> Range<usize> {
        self.old.clone()
    }
}

impl FileDiff {
    /// Diffs `old` against `new` (`None`: the file does not exist on that
    /// side) with `context` unchanged lines around each change.
    pub fn new(path: &str, old: Option<&str>, new: Option<&str>, context: usize) -> FileDiff {
        let (old_text, new_text) = (old.unwrap_or(""), new.unwrap_or(""));
        let (a, b) = (split_lines(old_text), split_lines(new_text));
        let ops = line_ops(&a, &b);
        // Changes closer than 2 * context equal lines share a hunk. (Done
        // here rather than with `similar::group_diff_ops`, whose ranges are
        // inconsistent with zero context.)
        let mut groups: Vec<Range<usize>> = Vec::new();
        let mut last_end = 0;
        for (k, op) in ops.iter().enumerate().filter(|(_, op)| op.0 != DiffTag::Equal) {
            match groups.last_mut() {
                Some(group) if op.1.start - last_end <= 2 * context => group.end = k + 1,
                _ => groups.push(k..k + 1),
            }
            last_end = op.1.end;
        }
        let hunks = groups
            .into_iter()
            .map(|group| {
                let (first, last) = (&ops[group.start], &ops[group.end - 1]);
                let before = context.min(first.1.start);
                let after = context.min(a.len() - last.1.end);
                let old = first.1.start - before..last.1.end + after;
                let new = first.2.start - before..last.2.end + after;
                let start = |r: &Range<usize>| if r.is_empty() { r.start } else { r.start + 1 };
                let mut text = format!(
                    "@@ -{},{} +{},{} @@\n",
                    start(&old),
                    old.len(),
                    start(&new),
                    new.len()
                );
                let (mut added, mut removed) = (0, 0);
                (old.start..first.1.start).for_each(|i| push_line(&mut text, ' ', a[i]));
                for op in &ops[group] {
                    let (tag, o, n) = op.clone();
                    if tag == DiffTag::Equal {
                        o.for_each(|i| push_line(&mut text, ' ', a[i]));
                        continue;
                    }
                    removed += o.len();
                    added += n.len();
                    o.for_each(|i| push_line(&mut text, '-', a[i]));
                    n.for_each(|i| push_line(&mut text, '+', b[i]));
                }
                (last.1.end..old.end).for_each(|i| push_line(&mut text, ' ', a[i]));
                Hunk { old, new, text, added, removed }
            })
            .collect();
        FileDiff {
            path: path.to_string(),
            created: old.is_none(),
            deleted: new.is_none(),
            old: old_text.to_string(),
            new: new_text.to_string(),
            hunks,
        }
    }

    /// The hunks, in file order.
    pub fn hunks(&self) -> &[Hunk] {
        &self.hunks
    }

    /// The whole diff in unified format, with `--- a/` and `+++ b/` headers
    /// (`/dev/null` for a created or deleted file); empty if nothing changed.
    pub fn unified(&self) -> String {
        if self.hunks.is_empty() {
            return String::new();
        }
        let from = if self.created { "/dev/null".to_string() } else { format!("a/{}", self.path) };
        let to = if self.deleted { "/dev/null".to_string() } else { format!("b/{}", self.path) };
        let mut out = format!("--- {from}\n+++ {to}\n");
        self.hunks.iter().for_each(|h| out.push_str(&h.text));
        out
    }

    /// The old text with only the hunks whose indices are in `accepted`
    /// applied (all of them give the new text, none the old).
    pub fn apply_hunks(&self, accepted: &[usize]) -> String {
        let (a, b) = (split_lines(&self.old), split_lines(&self.new));
        let mut out = String::with_capacity(self.new.len().max(self.old.len()));
        let mut at = 0;
        let chosen =
            self.hunks.iter().enumerate().filter(|(k, _)| accepted.contains(k)).map(|(_, h)| h);
        for hunk in chosen {
            a[at..hunk.old.start].iter().for_each(|l| out.push_str(l));
            b[hunk.new.clone()].iter().for_each(|l| out.push_str(l));
            at = hunk.old.end;
        }
        a[at..].iter().for_each(|l| out.push_str(l));
        out
    }
}

/// The diff operations between two line lists, with ranges recomputed from
/// the operations' lengths (`similar` can report a `Delete`'s position in
/// the new text inconsistently).
fn line_ops(a: &[&str], b: &[&str]) -> Vec<(DiffTag, Range<usize>, Range<usize>)> {
    let (mut i, mut j) = (0, 0);
    capture_diff_slices(Algorithm::Myers, a, b)
        .iter()
        .map(|op| {
            let (old_len, new_len) = (op.old_range().len(), op.new_range().len());
            let out = (op.tag(), i..i + old_len, j..j + new_len);
            (i, j) = (i + old_len, j + new_len);
            out
        })
        .collect()
}

fn push_line(out: &mut String, sign: char, line: &str) {
    let _ = write!(out, "{sign}{line}");
    if !line.ends_with('\n') {
        out.push_str("\n\\ No newline at end of file\n");
    }
}
