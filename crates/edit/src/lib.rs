//! suit's edit formats: how a model's reply describes a change to files, and
//! how that reply becomes new file contents.
//!
//! The crate is pure: it never touches the disk. A caller
//! 1. picks a format ([`choose_format`]) and teaches it ([`prompts`]),
//! 2. constrains decoding with [`grammar()`] when the model is embedded,
//! 3. turns the reply into [`Edit`]s with [`parse`],
//! 4. computes the new contents with [`apply`] (all or nothing), reading files
//!    through a closure, and
//! 5. shows [`FileDiff`] hunks for review and keeps the accepted subset.
//!
//! Every [`EditError`] is worded for the model, so a failed reply can be sent
//! back as feedback.

mod apply;
mod diff;
mod error;
mod grammar;
mod matching;
mod parse;
mod path;
pub mod prompts;

pub use apply::{apply, changed_lines, FileChange};
pub use diff::{FileDiff, Hunk};
pub use error::{Closest, EditError};
pub use grammar::{grammar, grammar_limited};
pub use matching::MatchPass;
pub use parse::parse;
pub use path::check_path;

/// How the model writes its edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EditFormat {
    /// The complete new content of each file, in one fenced block per file,
    /// the path on the line before the fence.
    WholeFile,
    /// The new text of one named line range (a function, a region), in one
    /// fenced block.
    Region,
    /// Aider-style `<<<<<<< SEARCH` / `=======` / `>>>>>>> REPLACE` blocks,
    /// each preceded by its path; an empty SEARCH creates a file.
    SearchReplace,
}

/// Files at most this long are rewritten whole by a small model.
pub const SMALL_MODEL_WHOLE_FILE_MAX_LINES: usize = 100;
/// Files at most this long are rewritten whole by a capable model.
pub const WHOLE_FILE_MAX_LINES: usize = 30;

/// Picks the format for a target of `target_lines` lines.
///
/// Small models (about 2B parameters and below) produce well-formed whole
/// rewrites far more reliably than SEARCH/REPLACE blocks, so they rewrite
/// targets of up to [`SMALL_MODEL_WHOLE_FILE_MAX_LINES`] lines whole
/// (about 1,000 output tokens, ~100 s at 10 tokens/s on two cores); capable
/// models rewrite only targets of up to [`WHOLE_FILE_MAX_LINES`] lines and
/// use SEARCH/REPLACE above that, which costs output tokens only for the
/// changed lines. When the target is a named line range (a region), a
/// `WholeFile` answer means: use [`EditFormat::Region`] for that range.
pub fn choose_format(target_lines: usize, model_is_small: bool) -> EditFormat {
    let limit =
        if model_is_small { SMALL_MODEL_WHOLE_FILE_MAX_LINES } else { WHOLE_FILE_MAX_LINES };
    if target_lines <= limit {
        EditFormat::WholeFile
    } else {
        EditFormat::SearchReplace
    }
}

/// A file (or a line range of it) the model was asked to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Path relative to the caller's root.
    pub path: String,
    /// 1-based inclusive line range, for [`EditFormat::Region`].
    pub lines: Option<(usize, usize)>,
}

impl Target {
    /// A whole file.
    pub fn file(path: impl Into<String>) -> Self {
        Target { path: path.into(), lines: None }
    }

    /// Lines `start..=end` (1-based) of a file.
    pub fn region(path: impl Into<String>, start: usize, end: usize) -> Self {
        Target { path: path.into(), lines: Some((start, end)) }
    }
}

/// A target spec that is not `PATH` or `PATH:START-END`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad line range in {spec}: expected PATH:START-END (1-based line numbers)")]
pub struct BadTarget {
    /// The spec as given.
    pub spec: String,
}

impl std::str::FromStr for Target {
    type Err = BadTarget;

    /// Parses `PATH` (a whole file) or `PATH:START-END` (1-based, inclusive
    /// lines), the way people name targets on the command line and in eval
    /// tasks; a leading `./` is dropped.
    fn from_str(spec: &str) -> Result<Self, BadTarget> {
        let normalize = |path: &str| path.trim_start_matches("./").to_string();
        if let Some((path, range)) = spec.rsplit_once(':') {
            if let Some((a, b)) = range.split_once('-') {
                let bad = || BadTarget { spec: spec.to_string() };
                let start: usize = a.trim().parse().map_err(|_| bad())?;
                let end: usize = b.trim().parse().map_err(|_| bad())?;
                return Ok(Target::region(normalize(path), start, end));
            }
        }
        Ok(Target::file(normalize(spec)))
    }
}

/// One change described by a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    /// Canonical relative path (see [`check_path`]).
    pub path: String,
    /// 1-based line of the reply where the edit starts (for feedback).
    pub reply_line: usize,
    /// What to do to the file.
    pub kind: EditKind,
}

/// The kinds of change an [`Edit`] makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditKind {
    /// Replace the whole content (creating the file if it does not exist).
    WholeFile {
        /// The new content, lines ending in `\n`.
        content: String,
    },
    /// Replace lines `start..=end` (1-based).
    Region {
        /// First line.
        start: usize,
        /// Last line, inclusive.
        end: usize,
        /// The new text of the range, lines ending in `\n`.
        content: String,
    },
    /// Replace the single match of `search` with `replace`; an empty
    /// `search` creates the file.
    SearchReplace {
        /// Lines to find, each ending in `\n`.
        search: String,
        /// Lines to put in their place, each ending in `\n`.
        replace: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_as_files_or_line_ranges() {
        assert_eq!("./src/a.rs:3-9".parse(), Ok(Target::region("src/a.rs", 3, 9)));
        assert_eq!("src/a.rs".parse(), Ok(Target::file("src/a.rs")));
        assert_eq!("a:b.rs".parse(), Ok(Target::file("a:b.rs")), "no range: all of it is the path");
        let err = "src/a.rs:x-9".parse::<Target>().unwrap_err();
        assert!(err.to_string().contains("PATH:START-END"), "{err}");
    }
}
