//! `suit ask` and `suit chat`: talking to the model through the router.

use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use futures::StreamExt;
use suit_agent::engine::{self, Overrides, Routed};
use suit_model::{
    ChatRequest, Completion, Constraint, Message, Meter, Model, Sampling, StreamEvent, Task,
};

/// The system message of `ask` and `chat` unless `--system` replaces it.
const DEFAULT_SYSTEM: &str = "You are suit, an assistant for software work. Answer precisely and \
briefly. Put code in fenced code blocks with the language named.";

/// Options shared by `ask` and `chat`.
#[derive(Args, Clone)]
pub struct ModelArgs {
    /// Model to use: a catalog name (see `suit models list`), a .gguf path, an
    /// http(s) URL of a GGUF, or a remote model id for HTTP backends.
    #[arg(long, short)]
    model: Option<String>,
    /// Use only this configured backend (no failover), e.g. `local`.
    #[arg(long, short)]
    backend: Option<String>,
    /// Replace the default system message.
    #[arg(long)]
    system: Option<String>,
    /// Most tokens to generate per answer.
    #[arg(long, default_value_t = 1024)]
    max_tokens: u32,
    /// Sampling temperature; 0 is greedy (deterministic).
    #[arg(long, default_value_t = 0.0)]
    temperature: f32,
    /// Nucleus sampling threshold.
    #[arg(long, default_value_t = 1.0)]
    top_p: f32,
    /// Random seed for sampling.
    #[arg(long, default_value_t = 0)]
    seed: u32,
    /// Stop before this text (repeatable).
    #[arg(long)]
    stop: Vec<String>,
    /// Constrain the answer to JSON matching this JSON Schema file.
    #[arg(long, value_name = "FILE", conflicts_with = "grammar")]
    json_schema: Option<PathBuf>,
    /// Constrain the answer to this llama.cpp GBNF grammar file.
    #[arg(long, value_name = "FILE")]
    grammar: Option<PathBuf>,
    /// Print one JSON object per answer (text, usage, cost, backend) instead
    /// of streaming text.
    #[arg(long)]
    json: bool,
}

/// `suit ask` arguments.
#[derive(Args)]
pub struct AskArgs {
    /// The question. Text piped on stdin is appended to it.
    prompt: Vec<String>,
    #[command(flatten)]
    model: ModelArgs,
}

/// `suit chat` arguments.
#[derive(Args)]
pub struct ChatArgs {
    #[command(flatten)]
    model: ModelArgs,
}

/// Runs `suit ask`.
pub async fn ask(args: AskArgs, config_file: Option<&Path>) -> Result<ExitCode> {
    let mut question = args.prompt.join(" ");
    if !std::io::stdin().is_terminal() {
        let mut piped = String::new();
        std::io::stdin().read_to_string(&mut piped).context("cannot read stdin")?;
        if !piped.trim().is_empty() {
            if !question.is_empty() {
                question.push_str("\n\n");
            }
            question.push_str(&piped);
        }
    }
    if question.trim().is_empty() {
        anyhow::bail!(
            "no question given\n  fix: suit ask \"your question\" (or pipe text on stdin)"
        );
    }
    let session = Session::open(&args.model, config_file)?;
    let messages = vec![session.system(), Message::user(question)];
    let done = session.answer(messages).await?;
    session.report(&done);
    Ok(ExitCode::SUCCESS)
}

/// Runs `suit chat`.
pub async fn chat(args: ChatArgs, config_file: Option<&Path>) -> Result<ExitCode> {
    let session = Session::open(&args.model, config_file)?;
    let interactive = std::io::stdin().is_terminal();
    if interactive {
        eprintln!("suit chat: type a message; /reset clears the history, /usage shows totals, /exit quits.");
    }
    let mut messages = vec![session.system()];
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    loop {
        if interactive {
            eprint!("> ");
            std::io::stderr().flush().ok();
        }
        let Some(line) = lines.next() else { break };
        let line = line.context("cannot read stdin")?;
        match line.trim() {
            "" => continue,
            "/exit" | "/quit" => break,
            "/reset" => {
                messages.truncate(1);
                eprintln!("(history cleared)");
                continue;
            }
            "/usage" => {
                eprintln!("{}", serde_json::to_string_pretty(&session.meter.snapshot())?);
                continue;
            }
            _ => {}
        }
        messages.push(Message::user(line));
        match session.answer(messages.clone()).await {
            Ok(done) => {
                messages.push(Message::assistant(done.text.clone()));
                session.report(&done);
            }
            Err(e) => {
                messages.pop();
                eprintln!("error: {e:#}");
                if interactive {
                    eprintln!("(the message was not added to the history; /reset starts over)");
                } else {
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// [`engine::route`] with the configuration as the current directory sees
/// it and `--backend`/`--model` as given; embedded models load with a
/// download progress bar.
pub fn route(
    config_file: Option<&Path>,
    backend: Option<&str>,
    model: Option<&str>,
    role: Task,
) -> Result<Routed> {
    let config = crate::config::load_here(config_file)?.model;
    let overrides =
        Overrides { backend: backend.map(str::to_string), model: model.map(str::to_string) };
    Ok(engine::route(config, &overrides, role, crate::models::load_embedded)?)
}

/// One conversation: the routed chat model, its meter and the request shape.
struct Session {
    model: suit_model::RoleModel,
    meter: Arc<Meter>,
    args: ModelArgs,
    constraint: Option<Constraint>,
    key: String,
}

impl Session {
    fn open(args: &ModelArgs, config_file: Option<&Path>) -> Result<Self> {
        let routed =
            route(config_file, args.backend.as_deref(), args.model.as_deref(), Task::Chat)?;
        let constraint = match (&args.json_schema, &args.grammar) {
            (Some(path), _) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read JSON schema {}", path.display()))?;
                let schema = serde_json::from_str(&text).with_context(|| {
                    format!("{} is not valid JSON; a JSON Schema file is expected", path.display())
                })?;
                Some(Constraint::JsonSchema(schema))
            }
            (None, Some(path)) => Some(Constraint::Grammar(
                std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read grammar {}", path.display()))?,
            )),
            (None, None) => None,
        };
        Ok(Self {
            model: routed.model,
            meter: routed.meter,
            args: args.clone(),
            constraint,
            key: format!("cli-{}", std::process::id()),
        })
    }

    fn system(&self) -> Message {
        Message::system(self.args.system.clone().unwrap_or_else(|| DEFAULT_SYSTEM.to_string()))
    }

    /// Streams one answer to stdout (or collects it for `--json`).
    async fn answer(&self, messages: Vec<Message>) -> Result<Completion> {
        let request = ChatRequest {
            messages,
            sampling: Sampling {
                temperature: self.args.temperature,
                top_p: self.args.top_p,
                seed: self.args.seed,
                stop: self.args.stop.clone(),
                max_tokens: self.args.max_tokens,
            },
            constraint: self.constraint.clone(),
            session: Some(self.key.clone()),
            ..ChatRequest::default()
        };
        let started = Instant::now();
        let mut stream = self.model.chat(request).await?;
        let mut stdout = std::io::stdout().lock();
        let mut ends_with_newline = true;
        while let Some(event) = stream.next().await {
            match event? {
                StreamEvent::Delta(text) if !self.args.json => {
                    stdout.write_all(text.as_bytes())?;
                    stdout.flush()?;
                    ends_with_newline = text.ends_with('\n');
                }
                StreamEvent::Delta(_) => {}
                StreamEvent::Done(done) => {
                    if self.args.json {
                        let report = serde_json::json!({
                            "text": done.text,
                            "finish_reason": done.finish_reason,
                            "model": done.model,
                            "backend": done.backend,
                            "usage": done.usage,
                            "seconds": started.elapsed().as_secs_f64(),
                            "session": self.meter.snapshot(),
                        });
                        writeln!(stdout, "{report}")?;
                    } else if !ends_with_newline {
                        writeln!(stdout)?;
                    }
                    return Ok(done);
                }
            }
        }
        anyhow::bail!("the model's stream ended without a final result")
    }

    /// A one-line usage note on stderr, for people at a terminal.
    fn report(&self, done: &Completion) {
        if self.args.json || !std::io::stderr().is_terminal() {
            return;
        }
        let total = self.meter.snapshot().total;
        eprintln!(
            "\x1b[2m[{} via {} · {} prompt ({} cached) + {} generated tokens · session ${:.4}]\x1b[0m",
            done.model,
            done.backend,
            done.usage.prompt_tokens,
            done.usage.cached_tokens,
            done.usage.completion_tokens,
            total.cost_usd
        );
    }
}
