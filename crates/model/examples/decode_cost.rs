//! What a llama.cpp decode call costs by the number of tokens it carries,
//! after a 1,000-token context: the ceiling of any draft-and-verify method
//! (prompt lookup, a draft model) on this machine. If 16 tokens cost as
//! much as 7 single-token calls, a draft that is always taken whole can be
//! at most ~2.3x faster than plain decoding.
//!
//! ```text
//! cargo run --release --example decode_cost -p suit-model -- [--model NAME|PATH] [--threads 2]
//! ```
//!
//! Prints one line per batch size (median of 5 calls, logits for every
//! token, as verifying a draft needs) and the cost relative to one token.

use std::num::NonZeroU32;
use std::time::Instant;

use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::LlamaModel;
use suit_model::catalog::Catalog;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn main() -> Result<(), BoxError> {
    let (mut model, mut threads) = ("qwen2.5-coder-1.5b-instruct-q4_k_m".to_string(), 2);
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--model" | "-m" => model = value,
            "--threads" | "-t" => threads = value.parse()?,
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }
    let path = if model.ends_with(".gguf") {
        model.into()
    } else {
        Catalog::builtin()?.resolve(&model, &mut |_| {})?.path
    };
    let backend = LlamaBackend::init()?;
    let params = LlamaModelParams::default().with_use_mmap(false);
    let model = LlamaModel::load_from_file(&backend, &path, &params)?;
    let params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(4096))
        .with_n_batch(512)
        .with_n_threads(threads)
        .with_n_threads_batch(threads);
    let mut ctx = model.new_context(&backend, params)?;
    let text = "def scale(x, factor):\n    return x * factor + 1\n".repeat(80);
    let tokens = model.vocab().tokenize(text.as_bytes(), true, false);
    let context = tokens.len().min(1000);
    let mut batch = LlamaBatch::new(512, 1);
    for (i, chunk) in tokens[..context].chunks(256).enumerate() {
        batch.clear();
        for (k, &t) in chunk.iter().enumerate() {
            batch.add(t, (i * 256 + k) as i32, &[0], false)?;
        }
        ctx.decode(&mut batch)?;
    }
    let mut single = 0.0;
    for n in [1usize, 2, 3, 4, 6, 8, 12, 16, 24, 32] {
        let mut times = Vec::new();
        for _ in 0..5 {
            batch.clear();
            for k in 0..n {
                batch.add(tokens[k + 5], (context + k) as i32, &[0], true)?;
            }
            let start = Instant::now();
            ctx.decode(&mut batch)?;
            times.push(start.elapsed().as_secs_f64() * 1000.0);
            ctx.clear_kv_cache_seq(Some(0), Some(context as u32), None)?;
        }
        times.sort_by(f64::total_cmp);
        let ms = times[2];
        if n == 1 {
            single = ms;
        }
        println!(
            "{n:>2} tokens: {ms:>6.0} ms per call, {:>5.1} ms per token, {:>4.1}x one token",
            ms / n as f64,
            ms / single
        );
    }
    Ok(())
}
