//! The one error type of this crate. Every message is written so it can be
//! sent back to the model as is: it says what was wrong, where (line numbers
//! in the reply or in the file) and what to do instead.

use std::fmt::Write as _;

use thiserror::Error;

/// The nearest lines of a file to a SEARCH text that did not match.
#[derive(Debug, Clone, PartialEq)]
pub struct Closest {
    /// First line of the window, 1-based.
    pub start: usize,
    /// Last line of the window, 1-based, inclusive.
    pub end: usize,
    /// The lines themselves, joined with `\n`.
    pub text: String,
    /// Similarity to the SEARCH text, 0.0 to 1.0.
    pub ratio: f32,
}

/// Why a reply could not be turned into file changes.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum EditError {
    /// The reply holds no edit at all.
    #[error("your reply contains no edit. {hint}")]
    NoEdit {
        /// What an edit in the expected format looks like.
        hint: String,
    },
    /// A block of the reply is not well formed.
    #[error("line {line} of your reply: {message}")]
    Malformed {
        /// 1-based line of the reply where the problem is.
        line: usize,
        /// What is wrong there.
        message: String,
    },
    /// The reply names a file outside the set the model was given.
    #[error("line {line} of your reply names {path:?}, which is not one of the files you may edit ({})", allowed.join(", "))]
    PathNotAllowed {
        /// 1-based line of the reply.
        line: usize,
        /// The path as written.
        path: String,
        /// The paths that may be edited.
        allowed: Vec<String>,
    },
    /// A path is empty, absolute or escapes the root with `..`.
    #[error("the path {path:?} is not allowed: {reason}; use a path relative to the project root")]
    BadPath {
        /// The path as written.
        path: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// A SEARCH block (or a region) names a file that does not exist.
    #[error("{} for {path} names a file that does not exist; to create it, leave the SEARCH section empty", block_name(*block))]
    MissingFile {
        /// The path.
        path: String,
        /// 1-based number of the edit in the reply.
        block: usize,
    },
    /// An empty SEARCH section aimed at a file that already has content.
    #[error("{} for {path} has an empty SEARCH section, but {path} already exists; put the lines to replace in SEARCH", block_name(*block))]
    FileExists {
        /// The path.
        path: String,
        /// 1-based number of the edit in the reply.
        block: usize,
    },
    /// The SEARCH text matches nowhere in the file.
    #[error("{}", no_match_message(path, *block, closest.as_ref()))]
    NoMatch {
        /// The path.
        path: String,
        /// 1-based number of the edit in the reply.
        block: usize,
        /// The most similar lines of the file, if the file is not empty.
        closest: Option<Closest>,
    },
    /// The SEARCH text matches in more than one place.
    #[error("{} for {path} matches {} places (lines {}); add surrounding lines to SEARCH so it matches exactly one", block_name(*block), lines.len(), join_numbers(lines))]
    Ambiguous {
        /// The path.
        path: String,
        /// 1-based number of the edit in the reply.
        block: usize,
        /// First line (1-based) of each candidate.
        lines: Vec<usize>,
    },
    /// A region lies outside the file.
    #[error(
        "the region {start}-{end} of {path} is outside the file, which has {file_lines} lines"
    )]
    RegionOutOfRange {
        /// The path.
        path: String,
        /// First line, 1-based.
        start: usize,
        /// Last line, 1-based, inclusive.
        end: usize,
        /// Number of lines in the file.
        file_lines: usize,
    },
    /// The caller asked for something this crate cannot do (not the model's fault).
    #[error("{0}")]
    Usage(String),
}

fn block_name(block: usize) -> String {
    format!("SEARCH block {block}")
}

fn join_numbers(lines: &[usize]) -> String {
    lines.iter().map(|l| l.to_string()).collect::<Vec<_>>().join(", ")
}

fn no_match_message(path: &str, block: usize, closest: Option<&Closest>) -> String {
    let mut out = format!("{} for {path} did not match", block_name(block));
    match closest {
        Some(c) => {
            let _ = write!(
                out,
                "; the closest lines are {}\u{2013}{}:\n{}\nThe SEARCH section must copy the file's lines exactly, including comments and blank lines.",
                c.start, c.end, c.text
            );
        }
        None => out.push_str("; the file is empty"),
    }
    out
}
