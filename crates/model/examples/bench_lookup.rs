//! Benchmark of prompt-lookup decoding on the embedded backend: edit-shaped
//! replies (a whole Python file sent back with one function renamed) and
//! free-form chat, each decoded greedily by two copies of one model, one
//! with lookup off and one with it on, back to back.
//!
//! ```text
//! cargo run --release --example bench_lookup -p suit-model -- \
//!     [--model NAME|PATH] [--threads 2] FILE.py...
//! ```
//!
//! For every file it reports decode tokens/s of both (from the first
//! streamed token to the last, so the same prefill is left out), whether
//! the two outputs are byte-identical, the share of drafted tokens accepted
//! and the mean draft length. Human-readable lines go to stderr; the last
//! line on stdout is one JSON object with every figure.

use std::time::Instant;

use futures::StreamExt;
use serde_json::json;
use suit_model::catalog::Catalog;
use suit_model::llama::{EngineStats, LlamaModel, LlamaOptions};
use suit_model::{ChatRequest, Message, Model, Sampling, StreamEvent};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Free-form questions: replies that copy little from their prompt.
const CHAT: [&str; 3] = [
    "Explain in two paragraphs how a hash map handles collisions.",
    "Write a short story (about 150 words) about a lighthouse keeper who learns to program.",
    "List ten practical tips for writing clear commit messages, one sentence each.",
];

struct Args {
    model: String,
    threads: usize,
    files: Vec<String>,
}

fn parse_args() -> Result<Args, BoxError> {
    let mut args =
        Args { model: "qwen2.5-coder-1.5b-instruct-q4_k_m".into(), threads: 2, files: Vec::new() };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value =
            || it.next().ok_or_else(|| format!("{flag} needs a value (see bench_lookup.rs)"));
        match flag.as_str() {
            "--model" | "-m" => args.model = value()?,
            "--threads" | "-t" => args.threads = value()?.parse()?,
            other if other.starts_with('-') => {
                return Err(format!("unknown argument {other:?}").into())
            }
            file => args.files.push(file.to_string()),
        }
    }
    if args.files.is_empty() {
        return Err("give the Python files to rewrite (see bench/model/lookup.sh)".into());
    }
    Ok(args)
}

/// The first top-level or method `def` name of a Python source.
fn first_function(source: &str) -> Option<&str> {
    source.lines().find_map(|line| {
        let rest = line.trim_start().strip_prefix("def ")?;
        let name = &rest[..rest.find('(')?];
        (!name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_')).then_some(name)
    })
}

/// One measured reply.
struct Reply {
    text: String,
    tokens: u64,
    decode_secs: f64,
    stats: EngineStats,
}

impl Reply {
    /// Tokens per second after the first one (which the prefill produced).
    fn rate(&self) -> f64 {
        (self.tokens.saturating_sub(1)) as f64 / self.decode_secs.max(1e-9)
    }
}

async fn measure(model: &LlamaModel, request: ChatRequest) -> Result<Reply, BoxError> {
    let before = model.stats();
    let mut stream = model.chat(request).await?;
    let mut first: Option<Instant> = None;
    let done = loop {
        match stream.next().await.ok_or("the stream ended without a reply")?? {
            StreamEvent::Delta(_) => {
                first.get_or_insert_with(Instant::now);
            }
            StreamEvent::Done(done) => break done,
        }
    };
    let decode_secs = first.map_or(0.0, |t| t.elapsed().as_secs_f64());
    let after = model.stats();
    Ok(Reply {
        text: done.text,
        tokens: done.usage.completion_tokens,
        decode_secs,
        stats: EngineStats {
            drafts: after.drafts - before.drafts,
            tokens_drafted: after.tokens_drafted - before.tokens_drafted,
            drafts_accepted: after.drafts_accepted - before.drafts_accepted,
            ..EngineStats::default()
        },
    })
}

/// Plain and lookup replies to one request, in an order that alternates.
async fn pair(
    plain: &LlamaModel,
    lookup: &LlamaModel,
    request: ChatRequest,
    lookup_first: bool,
) -> Result<(Reply, Reply), BoxError> {
    Ok(if lookup_first {
        let l = measure(lookup, request.clone()).await?;
        (measure(plain, request).await?, l)
    } else {
        let p = measure(plain, request.clone()).await?;
        (p, measure(lookup, request).await?)
    })
}

fn summary(rows: &[(Reply, Reply)]) -> serde_json::Value {
    let tokens = |f: fn(&(Reply, Reply)) -> &Reply| rows.iter().map(|r| f(r).tokens).sum::<u64>();
    let secs =
        |f: fn(&(Reply, Reply)) -> &Reply| rows.iter().map(|r| f(r).decode_secs).sum::<f64>();
    let plain_rate = (tokens(|r| &r.0) - rows.len() as u64) as f64 / secs(|r| &r.0);
    let lookup_rate = (tokens(|r| &r.1) - rows.len() as u64) as f64 / secs(|r| &r.1);
    let mut ratios: Vec<f64> = rows.iter().map(|(p, l)| l.rate() / p.rate()).collect();
    ratios.sort_by(f64::total_cmp);
    let drafted: u64 = rows.iter().map(|r| r.1.stats.tokens_drafted).sum();
    let accepted: u64 = rows.iter().map(|r| r.1.stats.drafts_accepted).sum();
    let drafts: u64 = rows.iter().map(|r| r.1.stats.drafts).sum();
    json!({
        "replies": rows.len(),
        "identical": rows.iter().filter(|(p, l)| p.text == l.text).count(),
        "plain_tokens_per_s": plain_rate,
        "lookup_tokens_per_s": lookup_rate,
        "speedup": lookup_rate / plain_rate,
        "median_speedup": ratios.get(ratios.len() / 2),
        "min_speedup": ratios.first(),
        "acceptance": accepted as f64 / drafted.max(1) as f64,
        "mean_draft_length": drafted as f64 / drafts.max(1) as f64,
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), BoxError> {
    let args = parse_args()?;
    let path = if args.model.ends_with(".gguf") {
        args.model.clone().into()
    } else {
        Catalog::builtin()?.resolve(&args.model, &mut |_| {})?.path
    };
    let load = |lookup: bool| {
        let mut options = LlamaOptions::new(if lookup { "lookup" } else { "plain" }, &path);
        options.threads = args.threads;
        options.parallel = 1;
        options.ctx_size = 8192;
        options.lookup = lookup;
        LlamaModel::load(options)
    };
    let (plain, lookup) = (load(false)?, load(true)?);
    plain.count_tokens("warm up").await?;

    let mut edits = Vec::new();
    let mut files = Vec::new();
    for (i, file) in args.files.iter().enumerate() {
        let source = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
        let Some(name) = first_function(&source) else {
            eprintln!("{file}: no `def`, skipped");
            continue;
        };
        let file_tokens = plain.count_tokens(&source).await? as u32;
        let base = std::path::Path::new(file)
            .file_name()
            .map_or(file.as_str(), |n| n.to_str().unwrap_or(file));
        let mut request = ChatRequest::new(vec![
            Message::system(
                "You are a careful software engineer. Reply with the complete new content of \
                 the file in one fenced code block, and nothing else.",
            ),
            Message::user(format!(
                "File {base}\n```python\n{source}```\n\nRename the function `{name}` to \
                 `{name}_v2`: its definition and every use of it in this file."
            )),
        ]);
        request.sampling = Sampling::greedy(file_tokens + file_tokens / 4 + 64);
        let (p, l) = pair(&plain, &lookup, request, i % 2 == 1).await?;
        eprintln!(
            "{base:<28} {:>5} tokens  plain {:>5.1} tok/s  lookup {:>6.1} tok/s  {:>4.2}x  \
             accepted {:>3.0}%  draft {:>4.1}  {}",
            l.tokens,
            p.rate(),
            l.rate(),
            l.rate() / p.rate(),
            100.0 * l.stats.drafts_accepted as f64 / l.stats.tokens_drafted.max(1) as f64,
            l.stats.tokens_drafted as f64 / l.stats.drafts.max(1) as f64,
            if p.text == l.text { "identical" } else { "DIFFERENT" }
        );
        files.push(json!({
            "file": base,
            "tokens": l.tokens,
            "plain_tokens_per_s": p.rate(),
            "lookup_tokens_per_s": l.rate(),
            "identical": p.text == l.text,
            "acceptance": l.stats.drafts_accepted as f64 / l.stats.tokens_drafted.max(1) as f64,
            "mean_draft_length": l.stats.tokens_drafted as f64 / l.stats.drafts.max(1) as f64,
        }));
        edits.push((p, l));
    }
    let mut chats = Vec::new();
    for (i, question) in CHAT.iter().enumerate() {
        let mut request = ChatRequest::new(vec![Message::user(*question)]);
        request.sampling = Sampling::greedy(256);
        let (p, l) = pair(&plain, &lookup, request, i % 2 == 1).await?;
        eprintln!(
            "chat {i}: {:>4} tokens  plain {:>5.1} tok/s  lookup {:>5.1} tok/s  {:>4.2}x  {}",
            l.tokens,
            p.rate(),
            l.rate(),
            l.rate() / p.rate(),
            if p.text == l.text { "identical" } else { "DIFFERENT" }
        );
        chats.push((p, l));
    }
    let (edit, chat) = (summary(&edits), summary(&chats));
    eprintln!("edits: {edit}\nchat: {chat}");
    println!(
        "{}",
        json!({
            "model": args.model,
            "threads": args.threads,
            "edits": edit,
            "chat": chat,
            "files": files,
        })
    );
    Ok(())
}
