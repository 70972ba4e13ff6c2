//! `suit`: the command-line interface. Thin by design: it parses arguments
//! and calls the library crates.

mod agent_cmd;
mod audit_cmd;
mod config;
mod docs_cmd;
mod ingest_cmd;
mod keys_cmd;
mod models;
mod review;
mod serve_cmd;
mod steps;
mod talk;
mod web_review;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// suit: a local-first partial-autonomy assistant for software work.
#[derive(Parser)]
#[command(name = "suit", version, about, long_about = None)]
struct Cli {
    /// Read this config file last (after ~/.config/suit/config.toml and the
    /// repository's suit.toml).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// More logging on stderr (-v: info, -vv: debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Do a task in small, verified steps: suit proposes diffs; you (or, at
    /// `auto`, the project's checks) verify each; `suit undo` reverts any.
    Run(agent_cmd::RunArgs),
    /// Create a small project with a failing test and watch suit fix it at
    /// `auto` with the embedded model.
    Demo(agent_cmd::DemoArgs),
    /// Fill in code at a cursor (FILE:LINE:COL) with the coder model's
    /// fill-in-the-middle; --apply writes it.
    Complete(agent_cmd::CompleteArgs),
    /// Run a folder of tasks and report pass rate, tries, tokens and time.
    Eval(agent_cmd::EvalArgs),
    /// Ask the model one question and stream the answer to stdout.
    ///
    /// Text piped on stdin is added to the question, so
    /// `cat src/main.rs | suit ask "explain this"` works.
    Ask(talk::AskArgs),
    /// An interactive chat with history (commands: /reset, /usage, /exit).
    Chat(talk::ChatArgs),
    /// Serve the chat model over an OpenAI-compatible HTTP API
    /// (/v1/chat/completions, /v1/completions, /v1/embeddings, /v1/models).
    Serve(serve_cmd::ServeArgs),
    /// Named API keys for `suit serve`: add (prints the secret once), list,
    /// set limits, rm.
    Keys(keys_cmd::KeysArgs),
    /// Turn a repository (a folder or a git URL) into one text an LLM can read.
    Ingest(ingest_cmd::IngestArgs),
    /// Convert HTML (a file, a folder or a URL) to markdown.
    Md(docs_cmd::MdArgs),
    /// Build or check an llms.txt index of a documentation site.
    #[command(subcommand, name = "llms-txt")]
    LlmsTxt(docs_cmd::LlmsTxtCommand),
    /// Find GUI-only instructions ("click", "navigate to") in docs; suggest
    /// the matching curl command from an OpenAPI spec.
    DocsLint(docs_cmd::DocsLintArgs),
    /// List the steps suit applied in this repository, with their diffs.
    Log(steps::LogArgs),
    /// Restore the files exactly as they were before the last N steps.
    Undo(steps::UndoArgs),
    /// Facts suit remembers for this repository across sessions (pinned
    /// facts go into every step's context).
    Memory {
        #[command(subcommand)]
        command: steps::MemoryCommand,
    },
    /// Show the effective configuration and the files it was read from.
    Config,
    /// Find text aimed at coding agents in a repository: hidden instructions,
    /// invisible or bidirectional Unicode, risky requests in AGENTS.md and
    /// the like, downloads piped into a shell, base64 blobs (exit 1 when
    /// something is found).
    Audit(audit_cmd::AuditArgs),
    /// Show which protections this machine gives the commands suit runs
    /// (network isolation, file confinement, process cap); exits 1 when
    /// one is missing.
    Doctor,
    /// Manage local model files: list, pull, path, rm.
    Models {
        #[command(subcommand)]
        command: models::ModelsCommand,
    },
}

impl Command {
    /// Whether the command may run the embedded model (and so its OpenMP threads).
    fn may_load_model(&self) -> bool {
        matches!(
            self,
            Command::Run(_)
                | Command::Demo(_)
                | Command::Complete(_)
                | Command::Eval(_)
                | Command::Ask(_)
                | Command::Chat(_)
                | Command::Serve(_)
        )
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.command.may_load_model() {
        short_openmp_spin();
    }
    init_logging(cli.verbose);
    let config = cli.config.as_deref();
    let result = match run_sync(cli.command, config) {
        Ok(result) => result,
        Err(command) => run_async(*command, config),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Prints what the sandbox of checks can use on this machine.
fn doctor() -> ExitCode {
    let found = suit_agent::sandbox::protections();
    let yes_no = |ok: bool| if ok { "yes" } else { "NO " };
    println!("The sandbox of checks (and of any command suit runs) on this machine:");
    println!("  {}  no network: a user and network namespace of its own", yes_no(found.network));
    let files = if found.files() {
        format!("(Landlock ABI {})", found.landlock_abi)
    } else {
        "(no Landlock in this kernel)".to_string()
    };
    println!(
        "  {}  files: writes only in the repository and a private TMPDIR, home secrets \
         unreadable {files}",
        yes_no(found.files())
    );
    println!("  {}  processes capped ({})", yes_no(found.process_cap), found.process_cap_how());
    println!("  yes  environment: only allowlisted variables are passed");
    println!("  yes  limits: CPU time, memory, file size, output size, wall time");
    let missing = found.missing();
    if missing.is_empty() {
        println!("Every check runs fully sandboxed, at every autonomy level.");
        ExitCode::SUCCESS
    } else {
        println!(
            "Missing: {}. At `auto` suit refuses to run checks here unless given --unsandboxed.",
            missing.join("; ")
        );
        ExitCode::FAILURE
    }
}

/// Runs a command that needs neither the network nor a model without the
/// async runtime; gives any other command back.
fn run_sync(
    command: Command,
    config: Option<&Path>,
) -> Result<anyhow::Result<ExitCode>, Box<Command>> {
    Ok(match command {
        Command::Ingest(args) => ingest_cmd::run(args, config),
        Command::DocsLint(args) => docs_cmd::run_docs_lint(args),
        Command::Log(args) => steps::log(args),
        Command::Undo(args) => steps::undo(args),
        Command::Memory { command } => steps::memory(command),
        Command::Config => config::show(config),
        Command::Doctor => Ok(doctor()),
        Command::Audit(args) => Ok(audit_cmd::run(args)),
        Command::Keys(args) => keys_cmd::run(args),
        other => return Err(Box::new(other)),
    })
}

/// Runs a command that needs the async runtime (model calls, HTTP).
fn run_async(command: Command, config: Option<&Path>) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async move {
        match command {
            Command::Run(args) => agent_cmd::run(args, config).await,
            Command::Demo(args) => agent_cmd::demo(args, config).await,
            Command::Complete(args) => agent_cmd::complete(args, config).await,
            Command::Eval(args) => agent_cmd::eval(args, config).await,
            Command::Ask(args) => talk::ask(args, config).await,
            Command::Chat(args) => talk::chat(args, config).await,
            Command::Serve(args) => serve_cmd::serve(args, config).await,
            Command::Md(args) => docs_cmd::run_md(args).await,
            Command::LlmsTxt(command) => docs_cmd::run_llms_txt(command).await,
            Command::Models { command } => models::run(command).await,
            other => match run_sync(other, config) {
                Ok(result) => result,
                Err(_) => anyhow::bail!("internal error: a command has no runner"),
            },
        }
    })
}

/// llama.cpp's OpenMP threads spin while they wait (libgomp's default is
/// 300,000 spins). On a busy machine (a build in the background) that makes
/// decoding 3-20x slower, while never spinning (`OMP_WAIT_POLICY=PASSIVE`)
/// makes it 1.5x slower on an idle one (bench/model). A short spin keeps
/// both: on 2 cores, 28.4 tokens/s idle (30.7 spinning, 20.2 passive) and
/// 8.0 beside two busy processes (9.2 passive; the default spin stalled).
/// libgomp reads its settings before `main`, so when neither is set suit
/// re-executes itself once with `GOMP_SPINCOUNT=10000`.
fn short_openmp_spin() {
    use std::os::unix::process::CommandExt;
    if std::env::var_os("OMP_WAIT_POLICY").is_some() || std::env::var_os("GOMP_SPINCOUNT").is_some()
    {
        return;
    }
    let Ok(exe) = std::env::current_exe() else { return };
    let args: Vec<_> = std::env::args_os().skip(1).collect();
    // exec only returns on failure; then carry on with the default policy.
    let _ = std::process::Command::new(exe).args(args).env("GOMP_SPINCOUNT", "10000").exec();
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn,llama_cpp_2=off,llama-cpp-2=off",
        1 => "info,llama_cpp_2=warn",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("SUIT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
