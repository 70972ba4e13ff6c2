//! What the embedded backend gives on this machine, behind `suit models
//! bench`: prompt and generation speed (llama-bench's `pp` and `tg`), and
//! how much faster prompt-lookup decoding sends back an edit-shaped reply (a
//! whole file with one function renamed) than plain decoding, with both
//! replies compared byte for byte.

use std::time::Instant;

use futures::StreamExt;
use serde::Serialize;

use crate::llama::{LlamaModel, LlamaOptions};
use crate::{
    ChatRequest, CompletionRequest, Message, Model, ModelError, Sampling, StreamEvent, TextStream,
};

/// Figures of one `measure` run.
#[derive(Debug, Clone, Serialize)]
pub struct SpeedReport {
    /// The model's name from its GGUF metadata.
    pub model: String,
    /// CPU threads used.
    pub threads: usize,
    /// Prompt tokens evaluated cold (`pp`).
    pub prompt_tokens: u64,
    /// How fast they were evaluated.
    pub prompt_tokens_per_s: f64,
    /// Tokens generated one at a time, prompt lookup off (`tg`).
    pub generated_tokens: u64,
    /// How fast they were generated.
    pub generation_tokens_per_s: f64,
    /// The edit-shaped reply.
    pub edit: EditSpeed,
    /// Seconds to the first token of the `pp` prompt with a short new
    /// tail, in a new engine that restores the prompt's head from the
    /// prompt cache on disk (the cold figure is `prompt_tokens` /
    /// `prompt_tokens_per_s`).
    pub restored_first_token_secs: f64,
    /// Prompt tokens that came from the prompt cache.
    pub restored_tokens: u64,
}

/// Plain and prompt-lookup decoding of the same greedy edit reply.
#[derive(Debug, Clone, Serialize)]
pub struct EditSpeed {
    /// Tokens of the reply (the lookup one).
    pub tokens: u64,
    /// Decode speed of plain decoding.
    pub plain_tokens_per_s: f64,
    /// Decode speed with prompt lookup.
    pub lookup_tokens_per_s: f64,
    /// Drafted tokens the sampler took, of those drafted.
    pub acceptance: f64,
    /// Mean tokens per verified draft.
    pub mean_draft: f64,
    /// Whether both replies are the same bytes (greedy decoding; see
    /// `docs/decisions.md` on near ties).
    pub identical: bool,
}

impl EditSpeed {
    /// Lookup tokens/s over plain tokens/s.
    pub fn speedup(&self) -> f64 {
        self.lookup_tokens_per_s / self.plain_tokens_per_s.max(1e-9)
    }
}

/// Prompt tokens of the `pp` measurement (llama-bench's default pp512).
const PROMPT_TOKENS: usize = 512;
/// Tokens of the `tg` measurement (llama-bench's default tg128).
const GENERATED_TOKENS: u32 = 128;

/// Measures the model of `options` (its `lookup` and `parallel` are set
/// here). Loads the model twice, once with prompt lookup and once without;
/// `progress` hears what is being measured. Blocking parts (loading) run on
/// the calling thread.
pub async fn measure(
    options: LlamaOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<SpeedReport, ModelError> {
    let threads = options.threads;
    let cache = tempfile::tempdir().map_err(|e| ModelError::Engine {
        backend: options.name.clone(),
        reason: format!("cannot create a temporary prompt cache: {e}"),
    })?;
    let load = |lookup: bool| {
        let mut o = options.clone();
        o.parallel = 1;
        o.ctx_size = o.ctx_size.min(4096);
        o.lookup = lookup;
        o.prompt_cache = Some(cache.path().to_path_buf());
        LlamaModel::load(o)
    };
    progress("loading the model");
    let plain = load(false)?;
    timed(plain.complete(CompletionRequest::text("warm up")).await?).await?;

    progress("prompt processing (pp512)");
    let prompt = prompt_of(&plain, PROMPT_TOKENS);
    let mut request = CompletionRequest::text(prompt.clone());
    request.sampling = Sampling::greedy(1);
    let start = Instant::now();
    let pp = timed(plain.complete(request).await?).await?;
    let prompt_secs = start.elapsed().as_secs_f64() - pp.decode_secs;

    progress("text generation (tg128)");
    let mut request = CompletionRequest::text(COUNTING);
    request.sampling = Sampling::greedy(GENERATED_TOKENS);
    let tg = timed(plain.complete(request).await?).await?;

    progress("an edit-shaped reply, plain");
    let edit = edit_request(&plain);
    let plain_edit = timed(plain.chat(edit.clone()).await?).await?;
    drop(plain);
    progress("an edit-shaped reply, prompt lookup");
    let lookup = load(true)?;
    progress("the same prompt with a new tail, its head from the prompt cache");
    let mut request = CompletionRequest::text(format!("{prompt}\n\ndef tail():\n"));
    request.sampling = Sampling::greedy(1);
    let start = Instant::now();
    timed(lookup.complete(request).await?).await?;
    let restored_first_token_secs = start.elapsed().as_secs_f64();
    let restored_tokens = lookup.stats().prompt_tokens_restored;
    let before = lookup.stats();
    let lookup_edit = timed(lookup.chat(edit).await?).await?;
    let after = lookup.stats();
    let drafted = after.tokens_drafted - before.tokens_drafted;
    let accepted = after.drafts_accepted - before.drafts_accepted;
    let drafts = after.drafts - before.drafts;
    Ok(SpeedReport {
        model: lookup.model_name().to_string(),
        threads,
        prompt_tokens: pp.prompt_tokens,
        prompt_tokens_per_s: pp.prompt_tokens as f64 / prompt_secs.max(1e-9),
        generated_tokens: tg.tokens,
        generation_tokens_per_s: tg.rate(),
        edit: EditSpeed {
            tokens: lookup_edit.tokens,
            plain_tokens_per_s: plain_edit.rate(),
            lookup_tokens_per_s: lookup_edit.rate(),
            acceptance: accepted as f64 / drafted.max(1) as f64,
            mean_draft: drafted as f64 / drafts.max(1) as f64,
            identical: plain_edit.text == lookup_edit.text,
        },
        restored_first_token_secs,
        restored_tokens,
    })
}

/// One streamed reply, timed from its first token to its last.
struct Timed {
    text: String,
    prompt_tokens: u64,
    tokens: u64,
    decode_secs: f64,
}

impl Timed {
    /// Tokens per second after the first (which the prompt's decode made).
    fn rate(&self) -> f64 {
        self.tokens.saturating_sub(1) as f64 / self.decode_secs.max(1e-9)
    }
}

async fn timed(mut stream: TextStream) -> Result<Timed, ModelError> {
    let mut first: Option<Instant> = None;
    while let Some(event) = stream.next().await {
        match event? {
            StreamEvent::Delta(_) => {
                first.get_or_insert_with(Instant::now);
            }
            StreamEvent::Done(done) => {
                return Ok(Timed {
                    text: done.text,
                    prompt_tokens: done.usage.prompt_tokens,
                    tokens: done.usage.completion_tokens,
                    decode_secs: first.map_or(0.0, |t| t.elapsed().as_secs_f64()),
                });
            }
        }
    }
    Err(ModelError::Engine {
        backend: "llama.cpp".into(),
        reason: "the reply ended without its last event".into(),
    })
}

/// A prompt of about `tokens` tokens of code (the module below, repeated
/// with numbered copies so no two lines of the repeat are the same).
fn prompt_of(model: &LlamaModel, tokens: usize) -> String {
    let mut text = String::new();
    let mut copy = 0;
    while model.tokenize_plain(&text).len() < tokens {
        copy += 1;
        text.push_str(&MODULE.replace("def ", &format!("def v{copy}_")));
    }
    // Trim to the budget, a line at a time.
    while model.tokenize_plain(&text).len() > tokens {
        let cut = text.trim_end_matches('\n').rfind('\n').unwrap_or(0);
        text.truncate(cut + 1);
    }
    text
}

/// The edit request: the module sent back whole with one function renamed.
fn edit_request(model: &LlamaModel) -> ChatRequest {
    let file_tokens = model.tokenize_plain(MODULE).len() as u32;
    let mut request = ChatRequest::new(vec![
        Message::system(
            "You are a careful software engineer. Reply with the complete new content of the \
             file in one fenced code block, and nothing else.",
        ),
        Message::user(format!(
            "File inventory.py\n```python\n{MODULE}```\n\nRename the function `restock` to \
             `restock_item`: its definition and every use of it in this file."
        )),
    ]);
    request.sampling = Sampling::greedy(file_tokens + file_tokens / 4 + 64);
    request
}

/// A prompt whose greedy continuation is long and never ends by itself.
const COUNTING: &str = "Numbers from 1 to 500, separated by commas: 1, 2, 3, 4, 5, 6,";

/// A small, ordinary module: what an edit reply sends back.
const MODULE: &str = r#""""Stock levels of a small shop."""

from dataclasses import dataclass, field


@dataclass
class Item:
    name: str
    price: float
    quantity: int = 0


@dataclass
class Inventory:
    items: dict = field(default_factory=dict)

    def add(self, name, price, quantity=0):
        if name in self.items:
            raise ValueError(f"{name} is already stocked")
        self.items[name] = Item(name, price, quantity)

    def restock(self, name, quantity):
        if quantity <= 0:
            raise ValueError("quantity must be positive")
        self.items[name].quantity += quantity

    def sell(self, name, quantity=1):
        item = self.items[name]
        if item.quantity < quantity:
            raise ValueError(f"only {item.quantity} {name} left")
        item.quantity -= quantity
        return item.price * quantity

    def value(self):
        return sum(i.price * i.quantity for i in self.items.values())

    def low(self, threshold=3):
        return sorted(n for n, i in self.items.items() if i.quantity <= threshold)


def restock_all(inventory, quantity):
    for name in inventory.items:
        inventory.restock(name, quantity)


def report(inventory):
    lines = [f"{i.name:<12} {i.quantity:>4} x {i.price:>7.2f}" for i in inventory.items.values()]
    lines.append(f"{'total':<12} {inventory.value():>16.2f}")
    return "\n".join(lines)
"#;
