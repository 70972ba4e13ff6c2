//! Applying edits in memory, all or nothing.

use std::path::Path;

use similar::{capture_diff_slices, Algorithm, DiffTag};

use crate::matching::{find, reindent, Miss};
use crate::path::check_path;
use crate::{Edit, EditError, EditKind, FileDiff};

/// The new state of one file after a reply's edits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileChange {
    /// The file did not exist.
    Created {
        /// Relative path.
        path: String,
        /// The new content.
        after: String,
    },
    /// The file existed and its content changed.
    Modified {
        /// Relative path.
        path: String,
        /// The content before.
        before: String,
        /// The content after.
        after: String,
    },
    /// The file is removed. Edits never delete files; this is the
    /// [`reverse`](FileChange::reverse) of a creation, for undo.
    Deleted {
        /// Relative path.
        path: String,
        /// The content before.
        before: String,
    },
}

impl FileChange {
    /// The relative path.
    pub fn path(&self) -> &str {
        match self {
            FileChange::Created { path, .. }
            | FileChange::Modified { path, .. }
            | FileChange::Deleted { path, .. } => path,
        }
    }

    /// The content before, if the file existed.
    pub fn before(&self) -> Option<&str> {
        match self {
            FileChange::Created { .. } => None,
            FileChange::Modified { before, .. } | FileChange::Deleted { before, .. } => {
                Some(before)
            }
        }
    }

    /// The content after, if the file still exists.
    pub fn after(&self) -> Option<&str> {
        match self {
            FileChange::Deleted { .. } => None,
            FileChange::Created { after, .. } | FileChange::Modified { after, .. } => Some(after),
        }
    }

    /// The change that restores the state before this one.
    pub fn reverse(&self) -> FileChange {
        let path = self.path().to_string();
        match self {
            FileChange::Created { after, .. } => {
                FileChange::Deleted { path, before: after.clone() }
            }
            FileChange::Deleted { before, .. } => {
                FileChange::Created { path, after: before.clone() }
            }
            FileChange::Modified { before, after, .. } => {
                FileChange::Modified { path, before: after.clone(), after: before.clone() }
            }
        }
    }

    /// The unified diff of this change, with `context` lines around each hunk.
    pub fn diff(&self, context: usize) -> FileDiff {
        FileDiff::new(self.path(), self.before(), self.after(), context)
    }
}

/// Lines added plus lines removed by a change (what the leash counts).
pub fn changed_lines(change: &FileChange) -> usize {
    let old = split_lines(change.before().unwrap_or(""));
    let new = split_lines(change.after().unwrap_or(""));
    capture_diff_slices(Algorithm::Myers, &old, &new)
        .iter()
        .map(|op| match op.tag() {
            DiffTag::Equal => 0,
            _ => op.old_range().len() + op.new_range().len(),
        })
        .sum()
}

pub(crate) fn split_lines(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

/// Applies `edits` in order (later edits see the result of earlier ones) to
/// the files that `files` reads (relative path → content, `None` if the file
/// does not exist). Returns one change per file whose content changed, in
/// the order the reply first names them, or the first error: nothing is
/// half-applied.
pub fn apply(
    edits: &[Edit],
    files: &dyn Fn(&Path) -> Option<String>,
) -> Result<Vec<FileChange>, EditError> {
    let mut states: Vec<(String, Option<String>, Option<String>)> = Vec::new();
    for (index, edit) in edits.iter().enumerate() {
        let block = index + 1;
        let path = check_path(&edit.path)?;
        let slot = match states.iter().position(|s| s.0 == path) {
            Some(k) => k,
            None => {
                let content = files(Path::new(&path));
                states.push((path.clone(), content.clone(), content));
                states.len() - 1
            }
        };
        let current = states[slot].2.clone();
        let next = apply_one(&path, block, &edit.kind, current.as_deref())?;
        states[slot].2 = Some(next);
    }
    Ok(states
        .into_iter()
        .filter(|(_, before, after)| before != after)
        .filter_map(|(path, before, after)| match (before, after) {
            (None, Some(after)) => Some(FileChange::Created { path, after }),
            (Some(before), Some(after)) => Some(FileChange::Modified { path, before, after }),
            (Some(before), None) => Some(FileChange::Deleted { path, before }),
            (None, None) => None,
        })
        .collect())
}

fn apply_one(
    path: &str,
    block: usize,
    kind: &EditKind,
    current: Option<&str>,
) -> Result<String, EditError> {
    match kind {
        EditKind::WholeFile { content } => Ok(adapt(content, current)),
        EditKind::Region { start, end, content } => {
            let Some(current) = current else {
                return Err(EditError::MissingFile { path: path.to_string(), block });
            };
            let mut doc = Doc::parse(current);
            if *start == 0 || start > end || *end > doc.lines.len() {
                return Err(EditError::RegionOutOfRange {
                    path: path.to_string(),
                    start: *start,
                    end: *end,
                    file_lines: doc.lines.len(),
                });
            }
            let new = region_lines(&doc.lines[start - 1..*end], &content_lines(content));
            doc.lines.splice(start - 1..*end, new);
            Ok(doc.render())
        }
        EditKind::SearchReplace { search, replace } => {
            if search.trim().is_empty() {
                return match current {
                    Some(c) if !c.trim().is_empty() => {
                        Err(EditError::FileExists { path: path.to_string(), block })
                    }
                    _ => Ok(adapt(replace, current)),
                };
            }
            let Some(current) = current else {
                return Err(EditError::MissingFile { path: path.to_string(), block });
            };
            let mut doc = Doc::parse(current);
            let search_text = search.replace("\r\n", "\n");
            let wanted = content_lines(&search_text);
            let file: Vec<&str> = doc.lines.iter().map(String::as_str).collect();
            let found = find(&file, &wanted).map_err(|miss| match miss {
                Miss::None(closest) => {
                    EditError::NoMatch { path: path.to_string(), block, closest }
                }
                Miss::Ambiguous(lines) => {
                    EditError::Ambiguous { path: path.to_string(), block, lines }
                }
            })?;
            let replace_text = replace.replace("\r\n", "\n");
            let replacement = content_lines(&replace_text);
            let new: Vec<String> = match &found.indent {
                Some((file_indent, search_indent)) => {
                    reindent(&replacement, file_indent, search_indent)
                }
                None => replacement.into_iter().map(String::from).collect(),
            };
            doc.lines.splice(found.start..found.start + found.len, new);
            Ok(doc.render())
        }
    }
}

/// Lines of an edit's text (each written with a `\n` terminator).
/// The new lines of a region. When the reply's first line is the region's
/// first line at another indentation (a method written as if at the top
/// level), every line is shifted back to the region's indentation.
fn region_lines(region: &[String], reply: &[&str]) -> Vec<String> {
    let old = region.iter().map(String::as_str).find(|l| !l.trim().is_empty());
    let new = reply.iter().copied().find(|l| !l.trim().is_empty());
    let (Some(old), Some(new)) = (old, new) else {
        return reply.iter().map(|l| l.to_string()).collect();
    };
    let indent = |l: &str| l[..l.len() - l.trim_start().len()].to_string();
    let (old_indent, new_indent) = (indent(old), indent(new));
    if old.trim() != new.trim() || old_indent == new_indent {
        return reply.iter().map(|l| l.to_string()).collect();
    }
    reindent(reply, &old_indent, &new_indent)
}

fn content_lines(text: &str) -> Vec<&str> {
    if text.is_empty() {
        return Vec::new();
    }
    text.strip_suffix('\n').unwrap_or(text).split('\n').collect()
}

/// New whole content, in the line-end and final-newline style of the file
/// it replaces.
fn adapt(content: &str, existing: Option<&str>) -> String {
    let mut text = content.replace("\r\n", "\n");
    if let Some(old) = existing.filter(|o| !o.is_empty()) {
        if !old.ends_with('\n') {
            if let Some(stripped) = text.strip_suffix('\n') {
                text.truncate(stripped.len());
            }
        }
        if Doc::parse(old).crlf {
            text = text.replace('\n', "\r\n");
        }
    }
    text
}

/// A file as lines, remembering its line ends and final newline.
struct Doc {
    lines: Vec<String>,
    trailing_newline: bool,
    crlf: bool,
}

impl Doc {
    fn parse(text: &str) -> Doc {
        // CRLF only if every line end is CRLF; in mixed files the `\r`s stay
        // in the lines (the trailing-whitespace pass still matches them).
        let crlf = text.contains("\r\n") && !text.replace("\r\n", "").contains('\n');
        let body = if crlf { text.replace("\r\n", "\n") } else { text.to_string() };
        let trailing_newline = body.ends_with('\n');
        let lines = if body.is_empty() {
            Vec::new()
        } else {
            content_lines(&body).into_iter().map(String::from).collect()
        };
        Doc { lines, trailing_newline, crlf }
    }

    fn render(&self) -> String {
        if self.lines.is_empty() {
            return String::new();
        }
        let mut out = self.lines.join("\n");
        if self.trailing_newline {
            out.push('\n');
        }
        if self.crlf {
            out = out.replace('\n', "\r\n");
        }
        out
    }
}
