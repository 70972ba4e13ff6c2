//! Benchmark of verified candidates on the embedded backend: the wall time
//! and decode throughput of one reply against several replies to the same
//! edit-shaped prompt decoded together, as `suit run` asks for them (the
//! first greedy, the others sampled hotter, each in its own KV sequence
//! that shares the prompt's cells).
//!
//! ```text
//! cargo run --release --example bench_candidates -p suit-model -- \
//!     [--model NAME|PATH] [--threads 2] [--reps 2] [--candidates 4] [--max-tokens 400]
//!     [--no-lookup] [--grammar]
//! ```
//!
//! Each repetition uses a prompt with a different first line, so no KV
//! prefix is reused between measurements. Human-readable lines go to
//! stderr; the last line on stdout is one JSON object with every figure.

use std::time::Instant;

use serde_json::json;
use suit_model::catalog::Catalog;
use suit_model::llama::{LlamaModel, LlamaOptions};
use suit_model::{collect, ChatRequest, Constraint, Message, Model, Sampling};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The file the prompt asks the model to fix: a real-sized Python module
/// with one bug (the split on a single space).
const SOURCE: &str = r#""""Word statistics for plain-text files."""

from collections import Counter


def words(text):
    """Split `text` into lower-case words, dropping punctuation at the ends."""
    out = []
    for raw in text.split(" "):
        word = raw.strip(".,;:!?\"'()[]")
        if word:
            out.append(word.lower())
    return out


def top_words(text, n=10):
    """The `n` most frequent words with their counts, most frequent first.

    Words with the same count come in alphabetical order, so the result is
    stable from one run to the next.
    """
    counts = Counter(words(text))
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return ranked[:n]


def longest_word(text):
    """The longest word of `text`, or None when it has no words."""
    found = words(text)
    if not found:
        return None
    return max(found, key=len)


def summary(text):
    """One line: the number of words, distinct words and the longest one."""
    found = words(text)
    distinct = len(set(found))
    longest = longest_word(text) or "-"
    return f"{len(found)} words, {distinct} distinct, longest: {longest}"
"#;

struct Args {
    model: String,
    threads: usize,
    reps: usize,
    candidates: usize,
    max_tokens: u32,
    /// Prompt-lookup decoding (`--no-lookup` turns it off).
    lookup: bool,
    /// Constrain every reply with the grammar `suit run` uses for a
    /// whole-file edit (`--grammar`).
    grammar: bool,
}

fn parse_args() -> Result<Args, BoxError> {
    let mut args = Args {
        model: "qwen2.5-coder-1.5b-instruct-q4_k_m".into(),
        threads: 2,
        reps: 2,
        candidates: 4,
        max_tokens: 400,
        lookup: true,
        grammar: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value =
            || it.next().ok_or_else(|| format!("{flag} needs a value (see bench_candidates.rs)"));
        match flag.as_str() {
            "--model" | "-m" => args.model = value()?,
            "--threads" | "-t" => args.threads = value()?.parse()?,
            "--reps" | "-r" => args.reps = value()?.parse()?,
            "--candidates" | "-n" => args.candidates = value()?.parse()?,
            "--max-tokens" => args.max_tokens = value()?.parse()?,
            "--no-lookup" => args.lookup = false,
            "--grammar" => args.grammar = true,
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }
    if args.reps == 0 || args.candidates < 2 {
        return Err("--reps must be at least 1 and --candidates at least 2".into());
    }
    Ok(args)
}

/// The shape of the grammar `suit run` gives a whole-file edit of
/// `words.py`: a plan line, the path, then the file in a fence of at most
/// the file's lines plus the leash.
fn whole_file_grammar() -> String {
    let lines = SOURCE.lines().count() + 40;
    format!(
        "root ::= plan edit\n\
         plan ::= \"Plan: \" [^\\n]{{1,400}} \"\\n\"\n\
         edit ::= file \"\\n\"?\n\
         file ::= path \"\\n```\" lang \"\\n\" body \"```\"\n\
         path ::= \"words.py\"\n\
         lang ::= [a-z]*\n\
         body ::= bline{{0,{lines}}}\n\
         bline ::= \"\\n\" | [^`\\n] rest | \"`\" bline-0-1\n\
         bline-0-1 ::= \"\\n\" | [^`\\n] rest | \"`\" bline-0-2\n\
         bline-0-2 ::= \"\\n\" | [^`\\n] rest\n\
         rest ::= [^\\n]* \"\\n\"\n"
    )
}

/// The request of candidate `i` for repetition `rep`, sampled as the loop
/// samples its candidates.
fn request(rep: usize, i: usize, args: &Args) -> ChatRequest {
    let max_tokens = args.max_tokens;
    let messages = vec![
        Message::system(format!(
            "Session {rep}. You are a careful software engineer. Answer with the complete new \
             content of the file: the path alone on one line, then the whole file in one fenced \
             code block."
        )),
        Message::user(format!(
            "File words.py\n```python\n{SOURCE}```\n\nTask: words() splits only on single \
             spaces, so tabs and newlines end up inside words. Fix it."
        )),
    ];
    let temperature = [0.0, 0.5, 0.8, 1.0].get(i).copied().unwrap_or(1.0);
    let mut r = ChatRequest::new(messages);
    r.sampling = Sampling {
        max_tokens,
        temperature,
        top_p: if temperature > 0.0 { 0.95 } else { 1.0 },
        seed: i as u32,
        ..Sampling::default()
    };
    r.session = Some(format!("bench-{rep}/{i}"));
    if args.grammar {
        r.constraint = Some(Constraint::Grammar(whole_file_grammar()));
    }
    r
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), BoxError> {
    let args = parse_args()?;
    let catalog = Catalog::builtin()?;
    let path = if args.model.ends_with(".gguf") {
        args.model.clone().into()
    } else {
        catalog.resolve(&args.model, &mut |_| {})?.path
    };
    let mut options = LlamaOptions::new("bench", path);
    options.threads = args.threads;
    options.parallel = args.candidates;
    options.ctx_size = 8192;
    options.lookup = args.lookup;
    let model = tokio::task::spawn_blocking(move || LlamaModel::load(options)).await??;
    model.count_tokens("warm up").await?;

    let (mut one_secs, mut one_tokens, mut many_secs, mut many_tokens) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut shared = 0;
    for rep in 0..args.reps {
        // One reply (the greedy candidate alone).
        let start = Instant::now();
        let one = collect(model.chat(request(2 * rep, 0, &args)).await?).await?;
        let secs = start.elapsed().as_secs_f64();
        one_secs.push(secs);
        one_tokens.push(one.usage.completion_tokens as f64);
        eprintln!(
            "rep {rep}: 1 reply   {:>6.1} s, {} tokens, {:.1} tokens/s",
            secs,
            one.usage.completion_tokens,
            one.usage.completion_tokens as f64 / secs
        );
        // All candidates together, on a prompt no cache holds.
        let before = model.stats();
        let start = Instant::now();
        let mut streams = Vec::new();
        for i in 0..args.candidates {
            streams.push(model.chat(request(2 * rep + 1, i, &args)).await?);
        }
        let replies = futures::future::join_all(streams.into_iter().map(collect)).await;
        let secs = start.elapsed().as_secs_f64();
        let tokens: u64 = replies
            .into_iter()
            .map(|r| r.map(|r| r.usage.completion_tokens))
            .sum::<Result<_, _>>()?;
        shared += model.stats().prompt_tokens_shared - before.prompt_tokens_shared;
        many_secs.push(secs);
        many_tokens.push(tokens as f64);
        eprintln!(
            "rep {rep}: {} replies {:>6.1} s, {tokens} tokens, {:.1} tokens/s",
            args.candidates,
            secs,
            tokens as f64 / secs
        );
    }
    let sum = |xs: &[f64]| xs.iter().sum::<f64>();
    let (t1, n1, tn, nn) = (sum(&one_secs), sum(&one_tokens), sum(&many_secs), sum(&many_tokens));
    let ratio = tn / t1;
    eprintln!(
        "{} candidates cost {ratio:.2}x the wall time of one; decode {:.1} vs {:.1} tokens/s",
        args.candidates,
        nn / tn,
        n1 / t1
    );
    println!(
        "{}",
        json!({
            "model": args.model,
            "threads": args.threads,
            "candidates": args.candidates,
            "lookup": args.lookup,
            "grammar": args.grammar,
            "reps": args.reps,
            "one": { "seconds": one_secs, "tokens": one_tokens, "tokens_per_s": n1 / t1 },
            "many": { "seconds": many_secs, "tokens": many_tokens, "tokens_per_s": nn / tn },
            "wall_ratio": ratio,
            "prompt_tokens_shared": shared,
        })
    );
    Ok(())
}
