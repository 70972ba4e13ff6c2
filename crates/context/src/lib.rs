//! Context window assembly for suit (the "RAM manager").
//!
//! What goes into a model's window is a list of [`Segment`]s, each labelled
//! with its [`Source`] (user, suit itself, memory, an instruction file, a
//! repository file, tool output, the web) and a priority. [`assemble`] fits
//! them under a token budget: pinned segments always stay, the rest go in by
//! priority, and a segment that does not fit is shortened (if its kind allows)
//! or left out — and the [`Window`] says which. [`Window::render`] writes the
//! text for the model with untrusted pieces fenced and marked;
//! [`Window::show`] lists every piece with its provenance and token count for
//! people (`--show-context`).
//!
//! The crate also gathers the standard pieces: the `AGENTS.md` chain from the
//! repository root down to the working directory ([`agents_chain`]) and a
//! repository map of outlines ranked by relevance ([`repo_map`]).

mod agents;
mod repo_map;
mod window;

pub use agents::{agents_chain, AGENTS_FILE};
pub use repo_map::{is_test_path, rank_files, repo_map, RankedFile};
pub use window::{assemble, BudgetError, Placed, Window};

use serde::Serialize;

/// Where a piece of context came from. Everything not from the user or suit
/// itself is untrusted: it is fenced when rendered, and actions derived from
/// it go to a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum Source {
    /// The user's own words (the task, pinned notes they wrote).
    User,
    /// suit's instructions.
    System,
    /// A fact remembered across sessions.
    Memory,
    /// An instruction file of the repository (`AGENTS.md`), by path.
    Instructions(String),
    /// A repository file (or a view of it, like the repo map), by path.
    Repo(String),
    /// Output of a command, by command line.
    Tool(String),
    /// A fetched page, by URL.
    Web(String),
}

impl Source {
    /// A short label: `user`, `system`, `memory`, `agents:AGENTS.md`,
    /// `repo:src/x.rs`, `tool:cargo test`, `web:https://…`.
    pub fn label(&self) -> String {
        match self {
            Source::User => "user".into(),
            Source::System => "system".into(),
            Source::Memory => "memory".into(),
            Source::Instructions(p) => format!("agents:{p}"),
            Source::Repo(p) => format!("repo:{p}"),
            Source::Tool(c) => format!("tool:{c}"),
            Source::Web(u) => format!("web:{u}"),
        }
    }

    /// Whether the text came from the user or suit itself. Instruction files
    /// are repository content, so they are untrusted too: they guide the
    /// model but cannot authorise actions.
    pub fn trusted(&self) -> bool {
        matches!(self, Source::User | Source::System | Source::Memory)
    }
}

/// How a segment may be made smaller when the budget is tight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Shrink {
    /// Whole or not at all (a file the model must rewrite exactly).
    Never,
    /// Keep the beginning, cut the end (documents, maps ranked best-first).
    KeepHead,
    /// Keep the end, cut the beginning (logs, where the last lines matter).
    KeepTail,
}

/// One piece of the context window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segment {
    /// Where it came from.
    pub source: Source,
    /// A heading for the model and for `--show-context` ("Task", "File
    /// src/calc.py", "Output of `cargo test`").
    pub title: String,
    /// The text.
    pub text: String,
    /// Higher goes in first when the budget is tight.
    pub priority: u8,
    /// Kept whatever the budget (the task, pinned facts). Never shortened.
    pub pinned: bool,
    /// How it may be shortened.
    pub shrink: Shrink,
}

impl Segment {
    /// A segment that may not be shortened, with priority 50 and not pinned.
    pub fn new(source: Source, title: impl Into<String>, text: impl Into<String>) -> Self {
        Segment {
            source,
            title: title.into(),
            text: text.into(),
            priority: 50,
            pinned: false,
            shrink: Shrink::Never,
        }
    }

    /// Sets the priority.
    pub fn priority(mut self, priority: u8) -> Self {
        self.priority = priority;
        self
    }

    /// Pins it: it stays whatever the budget.
    pub fn pinned(mut self) -> Self {
        self.pinned = true;
        self
    }

    /// Sets how it may be shortened.
    pub fn shrink(mut self, shrink: Shrink) -> Self {
        self.shrink = shrink;
        self
    }
}
