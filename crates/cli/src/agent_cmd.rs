//! `suit run`, `suit demo`, `suit eval` and `suit complete`: the autonomy
//! slider from the command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use futures::{StreamExt, TryStreamExt};
use suit_agent::config::AgentConfig;
use suit_agent::engine::{Engine, Overrides};
use suit_agent::{
    eval, Autonomy, Check, CompletionEnd, EventSink, JsonlSink, Leash, NoPerson, Outcome, Reviewer,
    RunConfig,
};
use suit_edit::Target;
use suit_model::{CompletionRequest, Model, Sampling, StreamEvent, Task};
use suit_store::{SqliteStore, Step, Workspace};

use crate::review::{TerminalReviewer, TerminalView};
use crate::web_review::{Both, WebReview};

/// Model selection shared by the agent commands.
#[derive(Args, Clone, Default)]
pub struct ModelChoice {
    /// Model for the role: a catalog name, a .gguf path, or a remote model id.
    #[arg(long, short)]
    model: Option<String>,
    /// Use only this configured backend (no failover).
    #[arg(long, short)]
    backend: Option<String>,
}

/// The leash, as flags.
#[derive(Args, Clone)]
pub struct LeashArgs {
    /// Most changed lines (added + removed) per step.
    #[arg(long)]
    max_step_lines: Option<usize>,
    /// Most steps per run.
    #[arg(long)]
    max_steps: Option<u32>,
    /// Most tokens (prompt + generated) per run.
    #[arg(long)]
    max_tokens: Option<u64>,
    /// Most cost in USD per run.
    #[arg(long)]
    max_cost: Option<f64>,
    /// Most wall time per run, in seconds.
    #[arg(long, default_value_t = 1800)]
    max_wall: u64,
    /// Times a reply that cannot be applied goes back to the model.
    #[arg(long, default_value_t = 3)]
    max_reflections: u32,
    /// Seconds before a check is killed.
    #[arg(long)]
    check_timeout: Option<u64>,
    /// Run checks even where this machine cannot sandbox them (no user
    /// namespaces for network isolation, or no Landlock for files); without
    /// it a run at `auto` refuses there. `suit doctor` shows what is missing.
    #[arg(long)]
    unsandboxed: bool,
    /// Most tokens of one reply.
    #[arg(long, default_value_t = 2048)]
    max_output_tokens: u32,
    /// Candidate edits decoded together at each try and checked in a
    /// scratch copy when checks are configured (default: 4 with checks,
    /// else 1).
    #[arg(long)]
    candidates: Option<usize>,
    /// Seed of the sampled candidates (the same seed repeats a run).
    #[arg(long, default_value_t = 0)]
    seed: u32,
}

impl LeashArgs {
    /// Candidates per try for a run with `checks`.
    fn candidates(&self, checks: &[Check]) -> usize {
        self.candidates.unwrap_or(if checks.is_empty() { 1 } else { RunConfig::DEFAULT_CANDIDATES })
    }
}

/// `suit run` arguments.
#[derive(Args)]
pub struct RunArgs {
    /// What to do, in your words.
    task: Vec<String>,
    /// How much suit may do alone: tab, edit, file, repo or auto
    /// (default: `[agent] autonomy` in suit.toml, else repo).
    #[arg(long, short)]
    autonomy: Option<String>,
    /// A file to work on, or a region of it: PATH or PATH:START-END (repeatable).
    #[arg(long, short)]
    file: Vec<String>,
    /// A check to run after each step at `auto`, e.g. "cargo test" (repeatable;
    /// default: `[agent] checks` in suit.toml).
    #[arg(long)]
    check: Vec<String>,
    /// Write one JSON event per line to stdout instead of the terminal view.
    #[arg(long)]
    json: bool,
    /// Print each step's context: every piece with its source and tokens.
    #[arg(long)]
    show_context: bool,
    /// Where a person reviews the steps: in this terminal, or on a page in
    /// the browser (served on a loopback port while the run lasts; the
    /// terminal still shows the run).
    #[arg(long, value_enum, default_value_t = ReviewIn::Terminal)]
    review: ReviewIn,
    #[command(flatten)]
    leash: LeashArgs,
    #[command(flatten)]
    model: ModelChoice,
}

/// `suit run --review`: where a person reviews the steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReviewIn {
    /// Hunk by hunk in the terminal (`y`/`n`).
    Terminal,
    /// On the review page, in the browser.
    Web,
}

/// `suit complete` arguments.
#[derive(Args)]
pub struct CompleteArgs {
    /// The cursor: FILE:LINE:COL (1-based).
    at: String,
    /// Write the insertion into the file (as a step `suit undo` reverts).
    #[arg(long)]
    apply: bool,
    /// Most tokens to insert.
    #[arg(long, default_value_t = 128)]
    max_tokens: u32,
    /// Most lines to insert (the insertion also ends where the block at the
    /// cursor ends, or where it starts repeating the code after the cursor).
    #[arg(long)]
    max_lines: Option<usize>,
    #[command(flatten)]
    model: ModelChoice,
}

/// `suit demo` arguments.
#[derive(Args)]
pub struct DemoArgs {
    /// Where to create the demo project (default: a new temporary directory).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Write JSON events to stdout instead of the terminal view.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    model: ModelChoice,
}

/// `suit eval` arguments.
#[derive(Args)]
pub struct EvalArgs {
    /// The folder of tasks (each a folder with task.toml and repo/).
    dir: PathBuf,
    /// Only tasks whose name contains this text.
    #[arg(long)]
    filter: Option<String>,
    /// Only tasks of this set: `tuning` (no `set` in task.toml) or `holdout`.
    #[arg(long)]
    set: Option<String>,
    /// The autonomy level for every task (below `auto`, a scripted person
    /// approves every step it is shown).
    #[arg(long, default_value = "auto")]
    autonomy: String,
    /// Tasks run at the same time (the embedded model batches their decoding).
    #[arg(long, short, default_value_t = 1)]
    jobs: usize,
    /// Keep each task's events as DIR/TASK.jsonl.
    #[arg(long, value_name = "DIR")]
    events: Option<PathBuf>,
    /// Write the results as JSON to this file too.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Print every run's steps (diffs, checks, rollbacks) as they happen.
    #[arg(long)]
    show_steps: bool,
    #[command(flatten)]
    leash: LeashArgs,
    #[command(flatten)]
    model: ModelChoice,
}

impl ModelChoice {
    /// Opens the role's engine for `runs` runs of `candidates` sequences
    /// ([`Engine::open`]) with the configuration as the current directory
    /// sees it; embedded models load with a download progress bar.
    fn open(
        &self,
        config_file: Option<&Path>,
        role: Task,
        runs: usize,
        candidates: usize,
    ) -> Result<Engine> {
        let config = crate::config::load_here(config_file)?.model;
        let overrides = Overrides { backend: self.backend.clone(), model: self.model.clone() };
        Ok(Engine::open(config, &overrides, role, runs, candidates, crate::models::load_embedded)?)
    }
}

fn open_workspace(root: &Path) -> Result<Workspace> {
    let store = SqliteStore::open(&SqliteStore::default_path(root))?;
    Ok(Workspace::open(root, Arc::new(store))?)
}

/// Parses `--file`: `PATH` or `PATH:START-END`.
fn parse_target(spec: &str) -> Result<Target> {
    spec.parse::<Target>().context("bad --file")
}

fn leash(args: &LeashArgs, agent: &AgentConfig) -> Leash {
    let base = Leash::default();
    Leash {
        max_step_lines: args.max_step_lines.or(agent.max_step_lines).unwrap_or(base.max_step_lines),
        max_steps: args.max_steps.or(agent.max_steps).unwrap_or(base.max_steps),
        max_tokens: args.max_tokens,
        max_cost: args.max_cost,
        max_wall: Duration::from_secs(args.max_wall),
        max_reflections: args.max_reflections,
    }
}

fn checks(commands: &[String], agent: &AgentConfig, leash: &LeashArgs) -> Vec<Check> {
    commands
        .iter()
        .map(|c| {
            let mut check = Check::new(c.clone());
            if let Some(secs) = leash.check_timeout.or(agent.check_timeout) {
                check.timeout = Duration::from_secs(secs);
            }
            check.sandbox.unsandboxed = leash.unsandboxed;
            check.sandbox.network = agent.check_network;
            check.sandbox.env = agent.check_env.clone();
            check.sandbox.writable = agent.check_writable.clone();
            check
        })
        .collect()
}

fn autonomy(text: &str) -> Result<Autonomy> {
    text.parse::<Autonomy>().map_err(|e| anyhow::anyhow!("{e}"))
}

/// Below `auto`, where this machine lacks a protection of the sandbox,
/// asks the person at the terminal before any check runs (`auto` refused
/// already in `validate`); without a terminal to ask at, refuses.
fn ask_to_run_unsandboxed(config: &RunConfig, unsandboxed: bool) -> Result<()> {
    use std::io::IsTerminal;
    let missing = suit_agent::sandbox::protections().missing();
    let accepted = unsandboxed || config.checks.is_empty();
    let consent = suit_agent::sandbox::consent(config.autonomy, &missing, accepted);
    let Some(question) = consent.question() else { return Ok(()) };
    if !std::io::stdin().is_terminal() {
        anyhow::bail!("{question}\n  fix: run in a terminal to answer, or pass --unsandboxed");
    }
    eprint!("suit: {question}. Run the checks anyway? [y/N] ");
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).context("cannot read the answer")?;
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        anyhow::bail!("not run: the checks would run without the missing protections")
    }
}

/// Runs `suit run`.
pub async fn run(args: RunArgs, config_file: Option<&Path>) -> Result<ExitCode> {
    let task = args.task.join(" ");
    let root = crate::steps::repo_root()?;
    let agent = crate::config::load_here(config_file)?.agent;
    let commands = if args.check.is_empty() { agent.checks.clone() } else { args.check.clone() };
    let checks = checks(&commands, &agent, &args.leash);
    let candidates = args.leash.candidates(&checks);
    let engine = args
        .model
        .open(config_file, Task::Edit, 1, candidates)?
        .with_max_output_tokens(args.leash.max_output_tokens);
    let level = autonomy(args.autonomy.as_deref().or(agent.autonomy.as_deref()).unwrap_or("repo"))?;
    let files: Vec<Target> = args.file.iter().map(|f| parse_target(f)).collect::<Result<_>>()?;
    // Paths are relative to the repository root; accept ones relative to the
    // current directory too.
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let prefix =
        cwd.strip_prefix(&root).map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
    let files = files
        .into_iter()
        .map(|mut t| {
            if !prefix.is_empty() && !root.join(&t.path).exists() && cwd.join(&t.path).exists() {
                t.path = format!("{prefix}/{}", t.path);
            }
            t
        })
        .collect();
    let config = RunConfig {
        task,
        autonomy: level,
        files,
        checks,
        leash: leash(&args.leash, &agent),
        cwd,
        seed: args.leash.seed,
        ..engine.run_config()
    };
    let ws = open_workspace(&root)?;
    suit_agent::validate(&config, &ws)?;
    ask_to_run_unsandboxed(&config, args.leash.unsandboxed)?;
    if level >= Autonomy::Auto && config.checks.is_empty() && !args.json {
        eprintln!("suit: no checks configured: at `auto` steps are applied unverified (add --check \"CMD\")");
    }
    if args.review == ReviewIn::Web {
        return run_with_web_review(engine, config, ws, &args).await;
    }
    let person = std::io::stdin().is_terminal_or_piped();
    if !level.applies_alone() && !person {
        anyhow::bail!(
            "at `{}` you approve every change, but stdin is neither a terminal nor a pipe\n  fix: run suit in a terminal, pipe the answers (y/n per hunk), or use --autonomy auto with --check",
            level.as_str()
        );
    }
    let mut reviewer: Box<dyn Reviewer> =
        if person { Box::new(TerminalReviewer::new()) } else { Box::new(NoPerson) };
    engine.warm().await?;
    let mut sink: Box<dyn EventSink> = if args.json {
        Box::new(JsonlSink::new(std::io::stdout()))
    } else {
        Box::new(TerminalView::new(args.show_context, level.applies_alone()))
    };
    let summary = suit_agent::run(
        &config,
        &engine.routed().model,
        Some(&engine.routed().meter),
        &ws,
        reviewer.as_mut(),
        sink.as_mut(),
    )
    .await?;
    Ok(ExitCode::from(summary.outcome.exit_code()))
}

/// `suit run --review web`: the run here, its review on the page.
async fn run_with_web_review(
    engine: Engine,
    config: RunConfig,
    ws: Workspace,
    args: &RunArgs,
) -> Result<ExitCode> {
    let ws = Arc::new(ws);
    let model: Arc<dyn Model> = Arc::new(engine.routed().model.clone());
    let page = WebReview::start(
        model,
        engine.name(),
        config.clone(),
        &config.task,
        config.autonomy,
        ws.clone(),
    )?;
    eprintln!("suit: review the steps at {}", page.url);
    if !page.open_in_browser() {
        eprintln!("suit: (no browser could be opened here: open that address in one)");
    }
    engine.warm().await?;
    let mut reviewer = page.session().reviewer();
    let view: Box<dyn EventSink> = if args.json {
        Box::new(JsonlSink::new(std::io::stdout()))
    } else {
        Box::new(TerminalView::new(args.show_context, config.autonomy.applies_alone()))
    };
    let mut sink = Both(view, page.session().sink());
    let meter = Some(&*engine.routed().meter);
    let ran = tokio::select! {
        ran = suit_agent::run(&config, &engine.routed().model, meter, &ws, &mut reviewer, &mut sink) => ran,
        () = page.session().stopped() => {
            eprintln!("suit: stopped from the review page");
            return Ok(ExitCode::from(Outcome::Refused.exit_code()));
        }
    };
    Ok(ExitCode::from(ran?.outcome.exit_code()))
}

/// Whether stdin can carry a person's answers.
trait StdinExt {
    fn is_terminal_or_piped(&self) -> bool;
}

impl StdinExt for std::io::Stdin {
    fn is_terminal_or_piped(&self) -> bool {
        use std::io::IsTerminal;
        if self.is_terminal() {
            return true;
        }
        // A pipe or a file: answers may come from it.
        std::fs::metadata("/dev/stdin").map(|m| !m.file_type().is_char_device()).unwrap_or(false)
    }
}

use std::os::unix::fs::FileTypeExt;

/// The demo project: a leap-year function with a bug and its tests.
const DEMO_FILES: &[(&str, &str)] = &[
    (
        "calendar_utils.py",
        "\"\"\"Small calendar helpers.\"\"\"\n\n\ndef is_leap_year(year):\n    \"\"\"Return True if `year` is a leap year in the Gregorian calendar.\"\"\"\n    return year % 4 == 0\n\n\ndef days_in_year(year):\n    \"\"\"Return the number of days in `year`.\"\"\"\n    return 366 if is_leap_year(year) else 365\n",
    ),
    (
        "test_calendar_utils.py",
        "import unittest\n\nfrom calendar_utils import days_in_year, is_leap_year\n\n\nclass LeapYearTest(unittest.TestCase):\n    def test_ordinary_leap_years(self):\n        self.assertTrue(is_leap_year(2024))\n        self.assertFalse(is_leap_year(2023))\n\n    def test_centuries_are_not_leap_years(self):\n        self.assertFalse(is_leap_year(1900))\n        self.assertFalse(is_leap_year(2100))\n\n    def test_every_fourth_century_is(self):\n        self.assertTrue(is_leap_year(2000))\n\n    def test_days(self):\n        self.assertEqual(days_in_year(1900), 365)\n        self.assertEqual(days_in_year(2000), 366)\n\n\nif __name__ == \"__main__\":\n    unittest.main()\n",
    ),
    ("AGENTS.md", "Python 3, standard library only. Run the tests with `python3 -m unittest -q`.\n"),
];

/// Runs `suit demo`.
pub async fn demo(args: DemoArgs, config_file: Option<&Path>) -> Result<ExitCode> {
    if std::process::Command::new("python3").arg("--version").output().is_err() {
        anyhow::bail!("the demo project is in Python, and python3 was not found\n  fix: install Python 3 (e.g. apt install python3)");
    }
    let dir = match &args.dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            if std::fs::read_dir(dir)?.next().is_some() {
                anyhow::bail!(
                    "{} is not empty\n  fix: name a new or empty directory",
                    dir.display()
                );
            }
            dir.clone()
        }
        None => tempfile::Builder::new().prefix("suit-demo-").tempdir()?.keep(),
    };
    for (name, text) in DEMO_FILES {
        std::fs::write(dir.join(name), text)
            .with_context(|| format!("cannot write the demo file {name}"))?;
    }
    let root = dir.canonicalize()?;
    if !args.json {
        eprintln!("suit demo: a project with a failing test in {}\n", root.display());
    }
    let candidates = RunConfig::DEFAULT_CANDIDATES;
    let engine = args.model.open(config_file, Task::Edit, 1, candidates)?;
    let config = RunConfig {
        task: "is_leap_year gets century years wrong; make the tests pass.".into(),
        autonomy: Autonomy::Auto,
        files: Vec::new(),
        checks: vec![Check::new("python3 -m unittest -q")],
        leash: Leash::default(),
        cwd: root.clone(),
        seed: 0,
        ..engine.run_config()
    };
    let ws = open_workspace(&root)?;
    if !args.json {
        eprintln!("loading the model {} ...", engine.name());
    }
    engine.warm().await?;
    let mut sink: Box<dyn EventSink> = if args.json {
        Box::new(JsonlSink::new(std::io::stdout()))
    } else {
        Box::new(TerminalView::new(false, true))
    };
    let summary = suit_agent::run(
        &config,
        &engine.routed().model,
        Some(&engine.routed().meter),
        &ws,
        &mut NoPerson,
        sink.as_mut(),
    )
    .await?;
    if !args.json {
        eprintln!(
            "\nThe project is in {0}: `cd {0} && suit log` shows the steps, `suit undo` reverts them.",
            root.display()
        );
    }
    Ok(ExitCode::from(summary.outcome.exit_code()))
}

/// Runs `suit complete`.
pub async fn complete(args: CompleteArgs, config_file: Option<&Path>) -> Result<ExitCode> {
    let (path, line, col) = parse_cursor(&args.at)?;
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let offset = cursor_offset(&text, line, col).with_context(|| {
        format!(
            "{}:{line}:{col} is past the end of the file (lines and columns are 1-based)",
            path.display()
        )
    })?;
    let (prefix, suffix) = text.split_at(offset);
    let engine = args.model.open(config_file, Task::Fim, 1, 1)?;
    let request = CompletionRequest {
        sampling: Sampling { max_tokens: args.max_tokens, ..Sampling::default() },
        ..CompletionRequest::fim(prefix, suffix)
    };
    let insertion = complete_at(&engine, request, prefix, suffix, args.max_lines).await?;
    if !args.apply {
        print!("{insertion}");
        if !insertion.ends_with('\n') {
            println!();
        }
        return Ok(ExitCode::SUCCESS);
    }
    if insertion.is_empty() {
        eprintln!("suit: the model proposed no insertion; {} is unchanged", path.display());
        return Ok(ExitCode::SUCCESS);
    }
    let root = crate::steps::repo_root()?;
    let abs = path.canonicalize()?;
    let rel = abs
        .strip_prefix(root.canonicalize()?)
        .with_context(|| {
            format!("{} is outside the repository {}", path.display(), root.display())
        })?
        .to_string_lossy()
        .into_owned();
    let ws = open_workspace(&root)?;
    let new = format!("{prefix}{insertion}{suffix}");
    let step = Step {
        session: None,
        description: format!("complete {rel}:{line}:{col}"),
        changes: vec![suit_store::FileChange::modify(
            rel.clone(),
            text.into_bytes(),
            new.into_bytes(),
        )],
    };
    let checkpoint = ws.apply(&step)?;
    print!("{insertion}");
    if !insertion.ends_with('\n') {
        println!();
    }
    eprintln!("suit: inserted into {rel} as step {} (`suit undo` reverts it)", checkpoint.id);
    Ok(ExitCode::SUCCESS)
}

/// Streams a completion and stops it where [`CompletionEnd`] says a person
/// would stop (dropping the stream ends the model's work on it).
async fn complete_at(
    engine: &Engine,
    request: CompletionRequest,
    prefix: &str,
    suffix: &str,
    max_lines: Option<usize>,
) -> Result<String> {
    let end = CompletionEnd::new(prefix, suffix, max_lines);
    let mut stream = engine.routed().model.complete(request).await?;
    let mut text = String::new();
    while let Some(event) = stream.next().await {
        match event? {
            StreamEvent::Delta(delta) => {
                text.push_str(&delta);
                if let Some(keep) = end.end(&text) {
                    text.truncate(keep);
                    return Ok(text);
                }
            }
            StreamEvent::Done(done) => {
                text = done.text;
                break;
            }
        }
    }
    let keep = end.end(&text).unwrap_or(text.len());
    text.truncate(keep);
    Ok(text)
}

fn parse_cursor(at: &str) -> Result<(PathBuf, usize, usize)> {
    let bad = || {
        anyhow::anyhow!(
            "`{at}` is not FILE:LINE:COL\n  fix: e.g. suit complete src/lib.rs:12:5 (1-based)"
        )
    };
    let (rest, col) = at.rsplit_once(':').ok_or_else(bad)?;
    let (file, line) = rest.rsplit_once(':').ok_or_else(bad)?;
    let line: usize = line.parse().map_err(|_| bad())?;
    let col: usize = col.parse().map_err(|_| bad())?;
    if line == 0 || col == 0 || file.is_empty() {
        return Err(bad());
    }
    Ok((PathBuf::from(file), line, col))
}

/// The byte offset of 1-based `line` and `col` (in characters); a column
/// past the end of the line means its end.
fn cursor_offset(text: &str, line: usize, col: usize) -> Option<usize> {
    let mut start = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let body = l.strip_suffix('\n').unwrap_or(l);
            let within = body.char_indices().nth(col - 1).map_or(body.len(), |(b, _)| b);
            return Some(start + within);
        }
        start += l.len();
    }
    // The line just after a final newline (an empty last line).
    (line == text.split_inclusive('\n').count() + 1 && col == 1).then_some(text.len())
}

/// Runs `suit eval`.
pub async fn eval(args: EvalArgs, config_file: Option<&Path>) -> Result<ExitCode> {
    let tasks = eval::tasks(&args.dir, args.filter.as_deref(), args.set.as_deref())?;
    let level = autonomy(&args.autonomy)?;
    let candidates = args.leash.candidates.unwrap_or(RunConfig::DEFAULT_CANDIDATES);
    let jobs = args.jobs.max(1);
    let engine = args
        .model
        .open(config_file, Task::Edit, jobs, candidates)?
        .with_max_output_tokens(args.leash.max_output_tokens);
    let settings = eval::Settings {
        run: RunConfig {
            task: String::new(),
            autonomy: level,
            files: Vec::new(),
            checks: Vec::new(),
            leash: leash(&args.leash, &AgentConfig::default()),
            cwd: PathBuf::new(),
            seed: args.leash.seed,
            ..engine.run_config()
        },
        check_timeout: Duration::from_secs(args.leash.check_timeout.unwrap_or(120)),
        unsandboxed: args.leash.unsandboxed,
        events: args.events.clone(),
    };
    eprintln!("suit eval: {} tasks with {} at {}", tasks.len(), engine.name(), level.as_str());
    engine.warm().await?;
    // Tasks run `--jobs` at a time: the embedded model decodes their
    // sequences together in one batch (continuous batching).
    let (engine, settings, show_steps) = (&engine, &settings, args.show_steps);
    let results: Vec<eval::TaskResult> = futures::stream::iter(tasks.iter())
        .map(|task| async move {
            let mut sinks: Vec<Box<dyn EventSink>> = Vec::new();
            if show_steps {
                // Tasks may run side by side: no live replies on a shared terminal.
                let mut view = TerminalView::new(false, true);
                view.stream = false;
                sinks.push(Box::new(view));
            }
            let routed = engine.routed();
            let result =
                eval::run_task(task, settings, &routed.model, Some(&routed.meter), sinks).await?;
            eprintln!(
                "{:<32} {:<4} {:>2} tries {:>6} tokens {:>5.0} s  {}",
                result.name,
                if result.passed { "PASS" } else { "fail" },
                result.tries,
                result.tokens,
                result.seconds,
                result.summary.lines().next().unwrap_or_default()
            );
            if let Some(attack) = result.attack.as_ref().filter(|a| !a.applied.is_empty()) {
                eprintln!(
                    "{:<32} attack ({}, {}) carried out: {}; unauthorized: {}",
                    "",
                    attack.vector,
                    attack.goal,
                    attack.applied.join(", "),
                    if attack.unauthorized.is_empty() {
                        "none".into()
                    } else {
                        attack.unauthorized.join(", ")
                    }
                );
            }
            anyhow::Ok(result)
        })
        .buffered(jobs)
        .try_collect()
        .await?;
    let report = eval::report(&results);
    println!("{report}");
    if let Some(path) = &args.output {
        let json = serde_json::json!({ "model": engine.name(), "autonomy": level.as_str(), "candidates": candidates, "seed": args.leash.seed, "tasks": results, "report": report });
        suit_store::write_atomic(path, serde_json::to_string_pretty(&json)?.as_bytes())?;
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_offsets_are_one_based_and_char_aware() {
        let text = "ab\ncé d\n";
        assert_eq!(cursor_offset(text, 1, 1), Some(0));
        assert_eq!(cursor_offset(text, 2, 3), Some(3 + "cé".len()));
        assert_eq!(cursor_offset(text, 2, 99), Some(3 + "cé d".len()));
        assert_eq!(cursor_offset(text, 3, 1), Some(text.len()));
        assert_eq!(cursor_offset(text, 4, 1), None);
    }

    #[test]
    fn targets_and_cursors_parse_or_explain() {
        assert_eq!(parse_target("./src/a.rs:3-9").unwrap(), Target::region("src/a.rs", 3, 9));
        assert_eq!(parse_target("src/a.rs").unwrap(), Target::file("src/a.rs"));
        assert!(parse_target("src/a.rs:x-9").is_err());
        assert_eq!(parse_cursor("a/b.py:3:7").unwrap(), (PathBuf::from("a/b.py"), 3, 7));
        assert!(parse_cursor("a/b.py:3").unwrap_err().to_string().contains("FILE:LINE:COL"));
        assert!(parse_cursor("a/b.py:0:1").is_err());
    }
}
