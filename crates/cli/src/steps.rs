//! `suit log` and `suit undo`: the checkpoints of applied steps.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;
use suit_agent::{Approver, Decision, Event};
use suit_store::{CheckpointState, SqliteStore, Workspace};

/// `suit log` arguments.
#[derive(Args)]
pub struct LogArgs {
    /// Show at most this many steps, newest first.
    #[arg(short = 'n', long, default_value_t = 20)]
    limit: usize,
    /// Only the summary line of each step, no diffs.
    #[arg(long)]
    oneline: bool,
}

/// `suit undo` arguments.
#[derive(Args)]
pub struct UndoArgs {
    /// How many of the latest applied steps to undo.
    #[arg(default_value_t = 1)]
    steps: usize,
    /// Undo even if a file was changed after the step (the overwritten bytes
    /// are kept in suit's store).
    #[arg(long)]
    force: bool,
}

/// `suit memory` subcommands: facts suit remembers for this repository.
#[derive(clap::Subcommand)]
pub enum MemoryCommand {
    /// Remember a fact; pinned facts go into every step's context.
    Add {
        /// A short unique name for the fact (adding it again replaces it).
        key: String,
        /// The fact, in your words.
        text: Vec<String>,
        /// Keep it in the context window whatever the budget.
        #[arg(long)]
        pin: bool,
    },
    /// List the remembered facts, pinned first.
    List,
    /// Forget a fact.
    Rm {
        /// Its name.
        key: String,
    },
}

/// Runs `suit memory`.
pub fn memory(command: MemoryCommand) -> Result<ExitCode> {
    let root = repo_root()?;
    let store = SqliteStore::open(&SqliteStore::default_path(&root))?;
    let repo = root.canonicalize().context("cannot resolve the repository root")?;
    let repo = repo.to_string_lossy();
    use suit_store::Store;
    match command {
        MemoryCommand::Add { key, text, pin } => {
            let text = text.join(" ");
            if text.trim().is_empty() {
                anyhow::bail!(
                    "the fact is empty\n  fix: suit memory add {key} \"what to remember\""
                );
            }
            let memory = suit_store::Memory {
                key: key.clone(),
                text,
                provenance: "user".into(),
                pinned: pin,
            };
            store.put_memory(&repo, &memory)?;
            eprintln!("remembered `{key}`{}", if pin { " (pinned)" } else { "" });
        }
        MemoryCommand::List => {
            for m in store.memories(&repo)? {
                println!("{}{}: {}", m.key, if m.pinned { " [pinned]" } else { "" }, m.text);
            }
        }
        MemoryCommand::Rm { key } => {
            if !store.forget_memory(&repo, &key)? {
                anyhow::bail!("no fact named `{key}`\n  fix: see the names with suit memory list");
            }
            eprintln!("forgot `{key}`");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The repository root: the nearest ancestor of the current directory with
/// a `.git` or `.suit` directory, else the current directory.
pub fn repo_root() -> Result<PathBuf> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    Ok(cwd
        .ancestors()
        .find(|d| d.join(".git").exists() || d.join(".suit").is_dir())
        .map(Path::to_path_buf)
        .unwrap_or(cwd))
}

fn open_workspace() -> Result<Workspace> {
    let root = repo_root()?;
    let store = SqliteStore::open(&SqliteStore::default_path(&root))?;
    let ws = Workspace::open(&root, Arc::new(store))?;
    let recovery = ws.recovery();
    for id in &recovery.rolled_back {
        eprintln!("suit: step {id} was interrupted while being applied; it was rolled back");
    }
    for id in &recovery.undo_completed {
        eprintln!("suit: the undo of step {id} was interrupted; it was completed");
    }
    for (id, path) in &recovery.left_alone {
        eprintln!("suit: step {id}: {path} was changed since; left as it is");
    }
    Ok(ws)
}

/// Runs `suit log`.
pub fn log(args: LogArgs) -> Result<ExitCode> {
    let ws = open_workspace()?;
    let steps = ws.log(Some(args.limit))?;
    if steps.is_empty() {
        eprintln!("no steps recorded in {}", ws.root().display());
    }
    let mut journals: std::collections::HashMap<i64, Vec<Event>> = Default::default();
    for step in steps {
        let state = match step.state {
            CheckpointState::Pending => "being applied",
            CheckpointState::Applied => "applied",
            CheckpointState::RolledBack => "rolled back",
            CheckpointState::Undoing => "being undone",
            CheckpointState::Undone => "undone",
        };
        let lines: usize = step.files.iter().map(|f| f.added + f.removed).sum();
        println!(
            "step {} [{state}] {} ({} file{}, {lines} lines)",
            step.id,
            step.description,
            step.files.len(),
            if step.files.len() == 1 { "" } else { "s" }
        );
        if let Some(session) = step.session {
            let events = journals.entry(session).or_insert_with(|| {
                let stored = ws.store().events(session, 0).unwrap_or_default();
                stored.into_iter().filter_map(|e| serde_json::from_value(e.payload).ok()).collect()
            });
            if let Some(how) = how_decided(events, step.id) {
                println!("  {how}");
            }
        }
        if !args.oneline {
            for file in &step.files {
                print!("{}", file.diff);
            }
            println!();
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Who let the step of checkpoint `checkpoint` through, from its session's
/// journal: the checks, a person, and any escalation of the policy gate
/// with its reason.
fn how_decided(events: &[Event], checkpoint: i64) -> Option<String> {
    let step = events.iter().find_map(|e| match e {
        Event::Applied { step, checkpoint: c } if *c == checkpoint => Some(*step),
        _ => None,
    })?;
    let said: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            Event::Approval { step: s, decision, by } if *s == step => {
                let who = match by {
                    Approver::Person => "a person",
                    Approver::Checks => "the checks",
                    Approver::Policy => "the policy gate",
                };
                Some(match decision {
                    Decision::Escalated { reason } => {
                        format!("sent to a person by {who}: {reason}")
                    }
                    Decision::Accepted => format!("accepted by {who}"),
                    Decision::Partial { hunks } => {
                        format!("accepted in part by {who} ({} hunks kept)", hunks.len())
                    }
                    Decision::Edited => format!("edited and accepted by {who}"),
                    Decision::Rejected => format!("rejected by {who}"),
                    Decision::Quit => format!("ended by {who}"),
                })
            }
            _ => None,
        })
        .collect();
    (!said.is_empty()).then(|| said.join("; "))
}

/// Runs `suit undo`.
pub fn undo(args: UndoArgs) -> Result<ExitCode> {
    let ws = open_workspace()?;
    let report = ws.undo(args.steps, args.force)?;
    for id in &report.undone {
        eprintln!("undone: step {id}");
    }
    for (path, blob) in &report.displaced {
        eprintln!("kept your later version of {path} in suit's store (blob {blob})");
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_says_who_let_a_step_through() {
        let approval = |decision, by| Event::Approval { step: 2, decision, by };
        let events = vec![
            approval(Decision::Rejected, Approver::Checks),
            Event::Applied { step: 1, checkpoint: 6 },
            approval(
                Decision::Escalated { reason: "a path only a README names".into() },
                Approver::Policy,
            ),
            approval(Decision::Accepted, Approver::Person),
            Event::Applied { step: 2, checkpoint: 7 },
        ];
        assert_eq!(
            how_decided(&events, 7).as_deref(),
            Some(
                "rejected by the checks; sent to a person by the policy gate: a path only a \
                 README names; accepted by a person"
            )
        );
        assert_eq!(how_decided(&events, 6), None, "step 1 has no decision journalled");
        assert_eq!(how_decided(&events, 99), None);
    }
}
