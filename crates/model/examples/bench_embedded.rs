//! Benchmark of the embedded llama.cpp backend, measured the way llama.cpp's
//! `llama-bench` measures, so the two can be compared on the same GGUF:
//!
//! - `pp<N>`: prompt processing, tokens per second, of an N-token prompt
//!   (a request with `max_tokens = 1`, so the time is the prefill and one
//!   sampling step; every repetition starts with a different token, so no
//!   KV prefix is reused);
//! - `tg<N>`: generation, tokens per second, over N single-token decode
//!   steps after the prefill (greedy, on a prompt that keeps going; a run
//!   that stops early is an error);
//! - time to first token of turn 2 of a chat whose turn 1 was a long prompt:
//!   warm (same model, same session, KV prefix reused) against cold (a
//!   fresh model whose context was already created by an unrelated request).
//!
//! ```text
//! cargo run --release --example bench_embedded -p suit-model -- \
//!     [--model NAME|PATH] [--threads 2] [--reps 3] [--pp 512] [--tg 128] \
//!     [--ttft-prompt 2000] [--ttft-reps 2] [--ctx 8192] [--parallel 4] \
//!     [--batch 512] [--skip-ttft] [--print-path]
//! ```
//!
//! Human-readable progress goes to stderr; the last line on stdout is one
//! JSON object with every figure. `--print-path` only resolves the model
//! (pulling it into `$SUIT_HOME/models` if needed) and prints its path.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::json;
use suit_model::catalog::Catalog;
use suit_model::llama::{LlamaModel, LlamaOptions};
use suit_model::{
    ChatRequest, Completion, CompletionRequest, Message, Model, Sampling, StreamEvent,
};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

struct Args {
    model: String,
    threads: usize,
    reps: usize,
    pp: usize,
    tg: u32,
    ttft_prompt: usize,
    ttft_reps: usize,
    ctx: u32,
    parallel: usize,
    batch: u32,
    skip_ttft: bool,
    print_path: bool,
}

fn parse_args() -> Result<Args, BoxError> {
    let mut args = Args {
        model: "qwen2.5-coder-1.5b-instruct-q4_k_m".into(),
        threads: 2,
        reps: 3,
        pp: 512,
        tg: 128,
        ttft_prompt: 2000,
        ttft_reps: 2,
        ctx: 8192,
        parallel: 4,
        batch: 512,
        skip_ttft: false,
        print_path: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| {
            it.next().ok_or_else(|| {
                format!("{name} needs a value (see the header of bench_embedded.rs)")
            })
        };
        match flag.as_str() {
            "--model" | "-m" => args.model = value(&flag)?,
            "--threads" | "-t" => args.threads = value(&flag)?.parse()?,
            "--reps" | "-r" => args.reps = value(&flag)?.parse()?,
            "--pp" | "-p" => args.pp = value(&flag)?.parse()?,
            "--tg" | "-n" => args.tg = value(&flag)?.parse()?,
            "--ttft-prompt" => args.ttft_prompt = value(&flag)?.parse()?,
            "--ttft-reps" => args.ttft_reps = value(&flag)?.parse()?,
            "--ctx" => args.ctx = value(&flag)?.parse()?,
            "--parallel" => args.parallel = value(&flag)?.parse()?,
            "--batch" => args.batch = value(&flag)?.parse()?,
            "--skip-ttft" => args.skip_ttft = true,
            "--print-path" => args.print_path = true,
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }
    if args.reps == 0 || args.ttft_reps == 0 || args.pp < 2 || args.tg == 0 {
        return Err(
            "--reps and --ttft-reps must be at least 1, --pp at least 2, --tg at least 1".into()
        );
    }
    Ok(args)
}

/// Mean and sample standard deviation.
fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    if xs.len() < 2 {
        return (mean, 0.0);
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

fn summary(xs: &[f64]) -> serde_json::Value {
    let (mean, sd) = mean_sd(xs);
    json!({ "mean": round2(mean), "stddev": round2(sd), "samples": xs.iter().map(|x| round2(*x)).collect::<Vec<_>>() })
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// A streamed request's timings: first text, end, and the final completion.
struct Timed {
    first: Duration,
    done: Duration,
    completion: Completion,
}

async fn timed(
    stream: impl std::future::Future<Output = Result<suit_model::TextStream, suit_model::ModelError>>,
) -> Result<Timed, BoxError> {
    let start = Instant::now();
    let mut stream = stream.await?;
    let mut first = None;
    while let Some(event) = stream.next().await {
        match event? {
            StreamEvent::Delta(_) => {
                first.get_or_insert_with(|| start.elapsed());
            }
            StreamEvent::Done(completion) => {
                let done = start.elapsed();
                return Ok(Timed { first: first.unwrap_or(done), done, completion });
            }
        }
    }
    Err("the stream ended without a completion".into())
}

/// Words to build prompts from; `variant` changes the first word so that
/// prompts of different repetitions share no KV prefix.
fn filler_words(variant: usize) -> impl Iterator<Item = String> {
    const WORDS: &[&str] = &[
        "the", "parser", "reads", "each", "line", "of", "input", "and", "returns", "a", "token",
        "stream", "while", "errors", "name", "file", "column", "with", "fix", "hint", "for",
        "user", "cache", "keeps", "recent", "results", "so", "repeated", "queries", "stay", "fast",
    ];
    let lead = ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel"];
    std::iter::once(format!("{}{}", lead[variant % lead.len()], variant / lead.len()))
        .chain((0..).map(|i| WORDS[(i * 7 + i / WORDS.len()) % WORDS.len()].to_string()))
}

/// A plain-text prompt that tokenizes to exactly `target` tokens (counting
/// the BOS token the backend adds, if the model adds one).
async fn prompt_of_exactly(
    model: &LlamaModel,
    target: usize,
    variant: usize,
    bos: usize,
) -> Result<String, BoxError> {
    let count = |text: String| async move { model.tokenize(&text).await.map(|t| t.len() + bos) };
    let words: Vec<String> = filler_words(variant).take(target * 2).collect();
    let text_of = |n: usize| words[..n].join(" ");
    // Largest word count whose text stays within the target.
    let (mut lo, mut hi) = (1usize, words.len());
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if count(text_of(mid)).await? <= target {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    let mut text = text_of(lo);
    // Top up one token at a time (" the" is a single token in BPE vocabularies).
    for _ in 0..64 {
        let n = count(text.clone()).await?;
        if n == target {
            return Ok(text);
        }
        if n > target {
            break;
        }
        text.push_str(" the");
    }
    Err(format!("cannot build a prompt of exactly {target} tokens").into())
}

/// Whether the backend puts a BOS token in front of a text prompt.
async fn adds_bos(model: &LlamaModel) -> Result<bool, BoxError> {
    // A 1-token completion request reports its prompt length in the usage.
    let text = "hello";
    let plain = model.tokenize(text).await?.len() as u64;
    let mut request = CompletionRequest::text(text);
    request.sampling = Sampling::greedy(1);
    let done = timed(model.complete(request)).await?.completion;
    Ok(done.usage.prompt_tokens > plain)
}

fn load(path: &PathBuf, args: &Args) -> Result<LlamaModel, BoxError> {
    let mut options = LlamaOptions::new("bench", path);
    options.threads = args.threads;
    options.ctx_size = args.ctx;
    options.parallel = args.parallel;
    options.batch_size = args.batch;
    Ok(LlamaModel::load(options)?)
}

/// Prompt processing: tokens per second of an exactly `n`-token prompt.
async fn bench_pp(model: &LlamaModel, n: usize, reps: usize) -> Result<Vec<f64>, BoxError> {
    let bos = usize::from(adds_bos(model).await?);
    let mut rates = Vec::new();
    for rep in 0..reps {
        let text = prompt_of_exactly(model, n, rep + 1, bos).await?;
        let before = model.stats();
        let mut request = CompletionRequest::text(text);
        request.sampling = Sampling::greedy(1);
        let t = timed(model.complete(request)).await?;
        let evaluated = model.stats().prompt_tokens_evaluated - before.prompt_tokens_evaluated;
        if evaluated != n as u64 || t.completion.usage.prompt_tokens != n as u64 {
            return Err(format!(
                "pp rep {rep}: the prompt has {} tokens and {evaluated} were evaluated, expected {n} \
                 (was a KV prefix reused?)",
                t.completion.usage.prompt_tokens
            )
            .into());
        }
        let rate = n as f64 / t.done.as_secs_f64();
        eprintln!("  pp{n} rep {rep}: {:.0} ms, {rate:.2} tok/s", t.done.as_secs_f64() * 1e3);
        rates.push(rate);
    }
    Ok(rates)
}

/// Generation: tokens per second over `n` single-token decode steps, timed
/// from the first streamed token (which the prefill produced) to the end.
async fn bench_tg(model: &LlamaModel, n: u32, reps: usize) -> Result<Vec<f64>, BoxError> {
    // Counting keeps going for as long as anyone wants.
    let prompts = [
        "1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,",
        "0 1 2 3 4 5 6 7 8 9 10 11 12 13 14",
        "a, b, c, d, e, f, g, h, i, j, k, l, m,",
    ];
    let mut rates = Vec::new();
    let mut attempts = 0;
    while rates.len() < reps {
        let prompt = prompts[attempts % prompts.len()];
        attempts += 1;
        if attempts > reps + 2 * prompts.len() {
            return Err(format!("tg{n}: generation kept stopping before {n} tokens").into());
        }
        let mut request = CompletionRequest::text(prompt);
        request.sampling = Sampling::greedy(n + 1);
        let t = timed(model.complete(request)).await?;
        if t.completion.usage.completion_tokens != u64::from(n + 1) {
            eprintln!(
                "  tg{n}: {prompt:?} stopped after {} tokens; trying another prompt",
                t.completion.usage.completion_tokens
            );
            continue;
        }
        let secs = (t.done - t.first).as_secs_f64();
        let rate = f64::from(n) / secs;
        eprintln!("  tg{n} rep {}: {:.0} ms, {rate:.2} tok/s", rates.len(), secs * 1e3);
        rates.push(rate);
    }
    Ok(rates)
}

/// A chat whose first user turn is about `tokens` tokens of source code.
fn long_chat(model_tokens: usize) -> Vec<Message> {
    let mut code = String::new();
    let mut i = 0;
    // ~26 tokens a function; the caller checks the real count.
    while code.len() < model_tokens * 4 {
        code.push_str(&format!(
            "fn step_{i}(x: u64) -> u64 {{\n    // advance state {i}\n    x.wrapping_mul({}) ^ (x >> {})\n}}\n\n",
            6364136223846793005u64.wrapping_add(i as u64),
            i % 31 + 1
        ));
        i += 1;
    }
    vec![
        Message::system("You are a careful Rust reviewer. Answer briefly."),
        Message::user(format!("Here is a module:\n\n```rust\n{code}```\n\nWhat does it do?")),
    ]
}

struct Ttft {
    turn1_tokens: u64,
    turn2_tokens: u64,
    warm_ms: Vec<f64>,
    warm_evaluated: Vec<u64>,
    cold_ms: Vec<f64>,
}

/// Time to first token of turn 2, warm (prefix reused) and cold.
async fn bench_ttft(model: &LlamaModel, path: &PathBuf, args: &Args) -> Result<Ttft, BoxError> {
    let mut messages = long_chat(args.ttft_prompt);
    // Trim the module until turn 1 is close to the requested size.
    let turn1_tokens = model.chat_prompt_tokens(&messages)?.len();
    if turn1_tokens > args.ttft_prompt + 200 {
        let scale = args.ttft_prompt as f64 / turn1_tokens as f64;
        messages = long_chat((args.ttft_prompt as f64 * scale) as usize);
    }
    let mut turn1 = ChatRequest::new(messages.clone());
    turn1.sampling = Sampling::greedy(16);
    turn1.session = Some("ttft".into());
    let first = timed(model.chat(turn1)).await?;
    let turn1_tokens = first.completion.usage.prompt_tokens;
    eprintln!(
        "  turn 1: {turn1_tokens} prompt tokens, first token after {:.0} ms",
        first.first.as_secs_f64() * 1e3
    );
    let mut history = messages;
    history.push(Message::assistant(&first.completion.text));
    let questions =
        ["Which function shifts by the most bits?", "Name one function.", "Is any of it unsafe?"];
    let turn2 = |k: usize| {
        let mut m = history.clone();
        m.push(Message::user(questions[k % questions.len()]));
        let mut request = ChatRequest::new(m);
        request.sampling = Sampling::greedy(1);
        request.session = Some("ttft".into());
        request
    };
    let mut warm_ms = Vec::new();
    let mut warm_evaluated = Vec::new();
    let mut turn2_tokens = 0;
    for k in 0..args.ttft_reps {
        let t = timed(model.chat(turn2(k))).await?;
        let usage = t.completion.usage;
        turn2_tokens = usage.prompt_tokens;
        warm_evaluated.push(usage.prompt_tokens - usage.cached_tokens);
        warm_ms.push(t.first.as_secs_f64() * 1e3);
        eprintln!(
            "  turn 2 warm: {} of {} tokens evaluated, first token after {:.0} ms",
            usage.prompt_tokens - usage.cached_tokens,
            usage.prompt_tokens,
            t.first.as_secs_f64() * 1e3
        );
    }
    let mut cold_ms = Vec::new();
    for k in 0..args.ttft_reps {
        let fresh = load(path, args)?;
        // Create the llama.cpp context with an unrelated request, so the
        // cold figure is the prefill, not the allocation.
        let mut hello = CompletionRequest::text("Hello");
        hello.sampling = Sampling::greedy(1);
        timed(fresh.complete(hello)).await?;
        let t = timed(fresh.chat(turn2(k))).await?;
        let usage = t.completion.usage;
        if usage.cached_tokens > 8 {
            return Err(format!("cold turn 2 reused {} cached tokens", usage.cached_tokens).into());
        }
        cold_ms.push(t.first.as_secs_f64() * 1e3);
        eprintln!(
            "  turn 2 cold: {} tokens evaluated, first token after {:.0} ms",
            usage.prompt_tokens - usage.cached_tokens,
            t.first.as_secs_f64() * 1e3
        );
    }
    Ok(Ttft { turn1_tokens, turn2_tokens, warm_ms, warm_evaluated, cold_ms })
}

fn resolve(spec: &str) -> Result<PathBuf, BoxError> {
    let path = PathBuf::from(spec);
    if path.is_file() {
        return Ok(path);
    }
    let mut last = None;
    let resolved = Catalog::builtin()?.resolve(spec, &mut |p| {
        let pct = p.total.filter(|t| *t > 0).map(|t| p.done * 100 / t);
        if pct != last {
            last = pct;
            if let Some(pct) = pct {
                eprint!("\r{spec}: {:?} {pct}%", p.phase);
            }
        }
    });
    if last.is_some() {
        eprintln!();
    }
    Ok(resolved?.path)
}

async fn run() -> Result<(), BoxError> {
    let args = parse_args()?;
    let path = resolve(&args.model)?;
    if args.print_path {
        println!("{}", path.display());
        return Ok(());
    }
    eprintln!("loading {} ({} threads)", path.display(), args.threads);
    let model = load(&path, &args)?;

    // Warm-up, as llama-bench does: one short prefill and a few tokens.
    let mut warmup = CompletionRequest::text("Warm up: 1, 2, 3,");
    warmup.sampling = Sampling::greedy(4);
    timed(model.complete(warmup)).await?;

    eprintln!("pp{} x{}", args.pp, args.reps);
    let pp = bench_pp(&model, args.pp, args.reps).await?;
    eprintln!("tg{} x{}", args.tg, args.reps);
    let tg = bench_tg(&model, args.tg, args.reps).await?;
    let ttft = if args.skip_ttft {
        serde_json::Value::Null
    } else {
        eprintln!("turn-2 time to first token, ~{}-token turn 1", args.ttft_prompt);
        let t = bench_ttft(&model, &path, &args).await?;
        let (warm, _) = mean_sd(&t.warm_ms);
        let (cold, _) = mean_sd(&t.cold_ms);
        json!({
            "turn1_prompt_tokens": t.turn1_tokens,
            "turn2_prompt_tokens": t.turn2_tokens,
            "warm_evaluated_tokens": t.warm_evaluated,
            "warm_ms": summary(&t.warm_ms),
            "cold_ms": summary(&t.cold_ms),
            "speedup": round2(cold / warm),
        })
    };
    let file_name = path.file_name().map(|f| f.to_string_lossy().into_owned());
    let mut report = json!({
        "backend": "suit embedded llama.cpp",
        "model": model.model_name(),
        "file": file_name,
        "threads": args.threads,
        "reps": args.reps,
        "ctx_size": args.ctx,
        "parallel": args.parallel,
        "batch_size": args.batch,
        "ttft_turn2": ttft,
    });
    report[format!("pp{}", args.pp)] = summary(&pp);
    report[format!("tg{}", args.tg)] = summary(&tg);
    println!("{report}");
    Ok(())
}

fn main() {
    // One runtime thread: the engine has its own worker thread, and the
    // benchmark should not add threads that compete with llama.cpp's.
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    if let Err(e) = runtime.block_on(run()) {
        eprintln!("bench_embedded: {e}");
        std::process::exit(1);
    }
}
