//! The embedded backend: llama.cpp in-process, through `llama-cpp-2`.
//!
//! One worker thread owns the llama.cpp context and runs a continuous-batching
//! loop, the way llama.cpp's own server does:
//!
//! - the KV cache is split into *slots* (sequences) over one pool of cells.
//!   A request takes the idle slot of its session, else the idle slot whose
//!   cached tokens share the longest prefix with the new prompt, and
//!   evaluates only the tokens after that common prefix ("KV prefix reuse").
//!   When another slot, idle or busy, holds a longer common prefix, its cells
//!   are shared into the new slot instead of being evaluated again, so
//!   several replies to one prompt (candidates to verify) pay its prefill
//!   once; a request whose prompt another slot is still evaluating waits for
//!   it rather than evaluating the same tokens beside it;
//! - the pool of cells is accounted for exactly (a cell is free when no slot
//!   holds it). A request is admitted when its prompt fits; when running
//!   sequences outgrow the pool, idle slots are evicted, then the request
//!   admitted last is preempted: its cells are freed and it waits in the
//!   queue, to continue where it stopped (its prompt and the tokens it has
//!   generated are evaluated again). A request never fails for want of cells;
//! - every step decodes one batch holding the next prompt chunk or the next
//!   token of every active request, so concurrent requests share the work;
//! - a generating request drafts the tokens that may follow by *prompt
//!   lookup* (the latest earlier place in its own tokens where its last few
//!   tokens occur, and what came after them there: an edit reply mostly
//!   copies the file it was given) and verifies the draft in the same decode
//!   call; the sampler then takes the drafted tokens it would have sampled
//!   anyway, one by one, so the output is the one plain decoding gives, only
//!   sooner. A draft is verified only when it is expected to pay: on a CPU
//!   each token added to a decode call costs about half a one-token call,
//!   and the request's earlier drafts tell how likely the next drafted token
//!   is to be taken;
//! - text streams out token by token, with stop sequences held back until
//!   they can no longer match.
//!
//! Prompt text that did not come from a chat template (message contents, FIM
//! prefix and suffix, raw completions) is tokenized with special-token parsing
//! off, so a repository file that contains `<|im_end|>` cannot forge a turn.

use std::collections::VecDeque;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::{mpsc as std_mpsc, Arc, OnceLock};
use std::thread;

use async_trait::async_trait;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::context::session::LlamaStateSeqFlags;
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaModel as RawModel};
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::data::LlamaTokenData;
use llama_cpp_2::token::data_array::LlamaTokenDataArray;
use llama_cpp_2::token::LlamaToken;
use tokio::sync::{mpsc, oneshot};

use crate::prompt_cache::PromptCache;

use crate::fair::{Candidate, FairShare};
use crate::{
    ChatRequest, Completion, CompletionRequest, Constraint, Embeddings, FinishReason, Message,
    Model, ModelError, Priority, Prompt, Sampling, StreamEvent, TextStream, Usage,
};

/// How to load and run a GGUF model in-process.
#[derive(Debug, Clone)]
pub struct LlamaOptions {
    /// The backend's configured name (used in errors and usage reports).
    pub name: String,
    /// The GGUF file.
    pub path: PathBuf,
    /// Context window in tokens, shared by all slots.
    pub ctx_size: u32,
    /// CPU threads for decoding (default: all cores).
    pub threads: usize,
    /// Sequences decoded together in one batch (slots of the KV cache).
    pub parallel: usize,
    /// Most tokens evaluated in one decode call.
    pub batch_size: u32,
    /// Prompt-lookup decoding: drafts verified in the decode call of the
    /// token before them (see the module documentation).
    pub lookup: bool,
    /// Admit waiting requests by the least served client (see `fair`);
    /// `false`: in arrival order.
    pub fair_share: bool,
    /// Where the KV state of long prompts is saved for later processes
    /// (a subdirectory per model); `None`: no prompt cache on disk.
    pub prompt_cache: Option<PathBuf>,
    /// Most bytes the prompt cache of this model keeps.
    pub prompt_cache_bytes: u64,
}

impl LlamaOptions {
    /// Defaults for `path`: 8192-token context, all cores, 4 slots.
    pub fn new(name: impl Into<String>, path: impl Into<PathBuf>) -> Self {
        let threads = thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        Self {
            name: name.into(),
            path: path.into(),
            ctx_size: 8192,
            threads,
            parallel: 4,
            batch_size: 512,
            lookup: true,
            fair_share: true,
            prompt_cache: None,
            prompt_cache_bytes: 2 << 30,
        }
    }
}

/// Counters of what the engine actually did, for tests and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EngineStats {
    /// Prompt tokens that went through a decode call.
    pub prompt_tokens_evaluated: u64,
    /// Prompt tokens served from the KV cache instead.
    pub prompt_tokens_reused: u64,
    /// Tokens generated.
    pub tokens_generated: u64,
    /// Decode calls that carried tokens of more than one sequence.
    pub multi_sequence_batches: u64,
    /// Prompt tokens whose cells were shared from another slot's cache.
    pub prompt_tokens_shared: u64,
    /// Requests set aside (to continue later) because the cache was full.
    pub preemptions: u64,
    /// Decode steps that verified a prompt-lookup draft.
    pub drafts: u64,
    /// Tokens drafted by prompt lookup and verified.
    pub tokens_drafted: u64,
    /// Drafted tokens the sampler took (each saved a decode step).
    pub drafts_accepted: u64,
    /// Prompt tokens restored from the prompt cache on disk.
    pub prompt_tokens_restored: u64,
    /// Prompts whose KV state was saved to the prompt cache on disk.
    pub prompts_saved: u64,
}

/// A GGUF model running in-process on llama.cpp. Cheap to share behind an
/// `Arc`; all calls are served by one worker thread.
pub struct LlamaModel {
    options: LlamaOptions,
    model: Arc<RawModel>,
    model_name: String,
    ctx_size: usize,
    jobs: std_mpsc::Sender<Job>,
    stats: Arc<std::sync::Mutex<EngineStats>>,
    /// Joined on drop, so the process never exits while llama.cpp decodes
    /// (which crashes in its teardown).
    worker: Option<thread::JoinHandle<()>>,
}

fn backend() -> Result<&'static LlamaBackend, ModelError> {
    static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            llama_cpp_2::send_logs_to_tracing(llama_cpp_2::LogOptions::default());
            LlamaBackend::init().map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| ModelError::Engine { backend: "llama.cpp".into(), reason: e.clone() })
}

impl LlamaModel {
    /// Loads the model (memory-mapping off, to keep resident memory low) and
    /// starts its worker thread. Blocking: call it from `spawn_blocking` in
    /// async code.
    pub fn load(options: LlamaOptions) -> Result<Self, ModelError> {
        let backend = backend()?;
        crate::catalog::check_gguf(&options.path)?;
        let params = LlamaModelParams::default().with_use_mmap(false);
        let model = RawModel::load_from_file(backend, &options.path, &params).map_err(|e| {
            ModelError::LoadFailed { path: options.path.clone(), reason: e.to_string() }
        })?;
        let model_name = model
            .meta_val_str("general.name")
            .ok()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| file_stem(&options.path));
        let train_ctx = model.n_ctx_train() as usize;
        let ctx_size = if train_ctx > 0 {
            (options.ctx_size as usize).min(train_ctx)
        } else {
            options.ctx_size as usize
        };
        let prompt_cache = options.prompt_cache.as_ref().map(|root| {
            let modified = std::fs::metadata(&options.path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_secs());
            let identity = format!(
                "{model_name}\n{}\n{}\n{modified}\n{}",
                file_stem(&options.path),
                model.size(),
                model.n_vocab()
            );
            PromptCache::open(root, &identity, options.prompt_cache_bytes)
        });
        let model = Arc::new(model);
        let stats = Arc::new(std::sync::Mutex::new(EngineStats::default()));
        let (jobs, rx) = std_mpsc::channel();
        let worker = Worker {
            model: model.clone(),
            name: options.name.clone(),
            ctx_size: ctx_size as u32,
            threads: options.threads.max(1) as i32,
            parallel: options.parallel.max(1),
            batch_size: options.batch_size.max(32),
            lookup: options.lookup,
            fair_share: options.fair_share,
            prompt_cache: std::cell::RefCell::new(prompt_cache),
            stats: stats.clone(),
            model_name: model_name.clone(),
            next_cell: std::cell::Cell::new(0),
            fair: Default::default(),
        };
        let handle = thread::Builder::new()
            .name(format!("llama-{}", options.name))
            .spawn(move || worker.run(rx))
            .map_err(|e| ModelError::Engine {
                backend: options.name.clone(),
                reason: format!("cannot start the worker thread: {e}"),
            })?;
        Ok(Self { options, model, model_name, ctx_size, jobs, stats, worker: Some(handle) })
    }

    /// The model's name from its GGUF metadata (or the file name).
    pub fn model_name(&self) -> &str {
        &self.model_name
    }

    /// What the engine has done so far.
    pub fn stats(&self) -> EngineStats {
        *self.stats.lock().expect("stats lock")
    }

    /// Renders messages with the model's own chat template and tokenizes the
    /// result: template text with special tokens, message contents without.
    pub fn chat_prompt_tokens(&self, messages: &[Message]) -> Result<Vec<u32>, ModelError> {
        Ok(self.chat_tokens(messages)?.into_iter().map(|t| t.0 as u32).collect())
    }

    fn engine_err(&self, reason: impl Into<String>) -> ModelError {
        ModelError::Engine { backend: self.options.name.clone(), reason: reason.into() }
    }

    pub(crate) fn tokenize_plain(&self, text: &str) -> Vec<LlamaToken> {
        self.model.vocab().tokenize(text.as_bytes(), false, false)
    }

    fn chat_tokens(&self, messages: &[Message]) -> Result<Vec<LlamaToken>, ModelError> {
        if messages.is_empty() {
            return Err(ModelError::InvalidRequest {
                backend: self.options.name.clone(),
                reason: "a chat needs at least one message".into(),
            });
        }
        let template = self.model.chat_template(None).map_err(|_| ModelError::InvalidRequest {
            backend: self.options.name.clone(),
            reason: format!(
                "{} has no chat template (it is probably a base model); use `complete` instead",
                self.model_name
            ),
        })?;
        // Render the template around sentinel contents, then splice the real
        // contents back in as plain (non-special) tokens.
        let sentinel = |i: usize| format!("\u{E000}{i}\u{E001}");
        let chat = messages
            .iter()
            .enumerate()
            .map(|(i, m)| LlamaChatMessage::new(m.role.as_str().to_string(), sentinel(i)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.engine_err(format!("bad chat message: {e}")))?;
        let rendered = self
            .model
            .apply_chat_template(&template, &chat, true)
            .map_err(|e| self.engine_err(format!("chat template failed: {e}")))?;
        let vocab = self.model.vocab();
        let mut tokens = Vec::new();
        if vocab.should_add_bos() && !rendered.starts_with('\u{E000}') {
            tokens.push(vocab.bos());
        }
        let mut rest = rendered.as_str();
        let mut first = true;
        for (i, m) in messages.iter().enumerate() {
            let mark = sentinel(i);
            let Some(at) = rest.find(&mark) else {
                return Err(self.engine_err(format!(
                    "the chat template of {} dropped message {i}; cannot build the prompt",
                    self.model_name
                )));
            };
            let template_part = &rest[..at];
            if !template_part.is_empty() {
                let parsed = vocab.tokenize(template_part.as_bytes(), false, true);
                // tokenize() may add BOS for the first piece on some vocabularies.
                let skip =
                    usize::from(first && !tokens.is_empty() && parsed.first() == tokens.first());
                tokens.extend_from_slice(&parsed[skip..]);
            }
            first = false;
            tokens.extend(self.tokenize_plain(&m.content));
            rest = &rest[at + mark.len()..];
        }
        if !rest.is_empty() {
            tokens.extend(vocab.tokenize(rest.as_bytes(), false, true));
        }
        Ok(tokens)
    }

    fn completion_tokens(&self, prompt: &Prompt) -> Result<Vec<LlamaToken>, ModelError> {
        let vocab = self.model.vocab();
        let mut tokens = Vec::new();
        if vocab.should_add_bos() {
            tokens.push(vocab.bos());
        }
        match prompt {
            Prompt::Text(text) if text.is_empty() => {
                return Err(ModelError::InvalidRequest {
                    backend: self.options.name.clone(),
                    reason: "the prompt is empty; give the model some text to continue".into(),
                })
            }
            Prompt::Text(text) => tokens.extend(self.tokenize_plain(text)),
            Prompt::Fim { prefix, suffix } => {
                let (pre, suf, mid) = (vocab.fim_pre(), vocab.fim_suf(), vocab.fim_mid());
                if [pre, suf, mid].iter().any(|t| t.0 < 0) {
                    return Err(ModelError::Unsupported {
                        backend: format!("{} ({})", self.options.name, self.model_name),
                        operation: "fim".into(),
                    });
                }
                tokens.push(pre);
                tokens.extend(self.tokenize_plain(prefix));
                tokens.push(suf);
                tokens.extend(self.tokenize_plain(suffix));
                tokens.push(mid);
            }
        }
        Ok(tokens)
    }

    fn grammar_of(&self, constraint: &Option<Constraint>) -> Result<Option<String>, ModelError> {
        match constraint {
            None => Ok(None),
            Some(Constraint::Grammar(g)) => Ok(Some(g.clone())),
            Some(Constraint::JsonSchema(schema)) => {
                llama_cpp_2::json_schema_to_grammar(&schema.to_string()).map(Some).map_err(|e| {
                    ModelError::InvalidRequest {
                        backend: self.options.name.clone(),
                        reason: format!("cannot compile the JSON schema to a grammar: {e}"),
                    }
                })
            }
        }
    }

    fn generate(
        &self,
        tokens: Vec<LlamaToken>,
        sampling: Sampling,
        constraint: &Option<Constraint>,
        session: Option<String>,
        share: Share,
    ) -> Result<TextStream, ModelError> {
        if tokens.is_empty() {
            return Err(ModelError::InvalidRequest {
                backend: self.options.name.clone(),
                reason: "the prompt is empty; give the model some text to continue".into(),
            });
        }
        if tokens.len() >= self.ctx_size {
            return Err(ModelError::ContextOverflow {
                model: self.model_name.clone(),
                tokens: tokens.len(),
                limit: self.ctx_size,
                reserved: 1,
            });
        }
        let grammar = self.grammar_of(constraint)?;
        let (tx, rx) = mpsc::unbounded_channel();
        self.jobs
            .send(Job::Generate(GenerateJob { tokens, sampling, grammar, session, share, tx }))
            .map_err(|_| self.engine_err("the model worker has stopped"))?;
        Ok(Box::pin(futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        })))
    }
}

/// A model's tokenizer alone: the vocabulary of a GGUF file, loaded without
/// its weights (quick, little memory), to count tokens as the model sees
/// them. Safe to use from several threads at once.
pub struct ModelTokenizer {
    model: RawModel,
    name: String,
    identity: String,
}

impl ModelTokenizer {
    /// Loads the vocabulary of the GGUF file at `path`. Blocking.
    pub fn load(path: &Path) -> Result<Self, ModelError> {
        let backend = backend()?;
        crate::catalog::check_gguf(path)?;
        let params = LlamaModelParams::default().with_vocab_only(true);
        let model = RawModel::load_from_file(backend, path, &params).map_err(|e| {
            ModelError::LoadFailed { path: path.to_path_buf(), reason: e.to_string() }
        })?;
        let name = model
            .meta_val_str("general.name")
            .ok()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| file_stem(path));
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let identity = format!("{name}\n{}\n{size}\n{}", file_stem(path), model.n_vocab());
        Ok(Self { model, name, identity })
    }

    /// The model's name (from its GGUF metadata, or the file name).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Identifies the vocabulary: the model's name, file name, file size and
    /// vocabulary size.
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// The number of tokens in `text`, without special tokens (a `<|...|>`
    /// marker in the text counts as plain text).
    pub fn count(&self, text: &str) -> usize {
        self.model.vocab().tokenize(text.as_bytes(), false, false).len()
    }
}

fn file_stem(path: &Path) -> String {
    path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "model".into())
}

#[async_trait]
impl Model for LlamaModel {
    fn name(&self) -> &str {
        &self.options.name
    }

    async fn chat(&self, request: ChatRequest) -> Result<TextStream, ModelError> {
        let tokens = self.chat_tokens(&request.messages)?;
        let share =
            Share { client: request.client.unwrap_or_default(), priority: request.priority };
        self.generate(tokens, request.sampling, &request.constraint, request.session, share)
    }

    async fn complete(&self, request: CompletionRequest) -> Result<TextStream, ModelError> {
        let tokens = self.completion_tokens(&request.prompt)?;
        let share =
            Share { client: request.client.unwrap_or_default(), priority: request.priority };
        self.generate(tokens, request.sampling, &request.constraint, request.session, share)
    }

    async fn embed(&self, inputs: Vec<String>) -> Result<Embeddings, ModelError> {
        let vocab = self.model.vocab();
        let limit = self.ctx_size.min(self.options.batch_size as usize);
        let mut batches = Vec::with_capacity(inputs.len());
        for (i, text) in inputs.iter().enumerate() {
            let mut tokens = vocab.tokenize(text.as_bytes(), true, false);
            if tokens.len() > limit {
                return Err(ModelError::ContextOverflow {
                    model: format!("{} (input {i})", self.model_name),
                    tokens: tokens.len(),
                    limit,
                    reserved: 0,
                });
            }
            if tokens.is_empty() {
                tokens.push(vocab.bos());
            }
            batches.push(tokens);
        }
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Job::Embed(batches, tx))
            .map_err(|_| self.engine_err("the model worker has stopped"))?;
        let (vectors, tokens) =
            rx.await.map_err(|_| self.engine_err("the model worker has stopped"))??;
        Ok(Embeddings {
            vectors,
            usage: Usage { prompt_tokens: tokens, ..Usage::default() },
            model: self.model_name.clone(),
        })
    }

    async fn tokenize(&self, text: &str) -> Result<Vec<u32>, ModelError> {
        Ok(self.tokenize_plain(text).into_iter().map(|t| t.0 as u32).collect())
    }

    fn context_size(&self) -> Option<usize> {
        Some(self.ctx_size)
    }
}

impl Drop for LlamaModel {
    fn drop(&mut self) {
        let _ = self.jobs.send(Job::Shutdown);
        // The worker ends after its current decode call (a request whose
        // stream was dropped is not decoded further).
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

type EventTx = mpsc::UnboundedSender<Result<StreamEvent, ModelError>>;
/// Vectors in input order, and the tokens embedded.
type EmbedResult = Result<(Vec<Vec<f32>>, u64), ModelError>;

/// Cells a newly admitted request should find free beyond its prompt, so it
/// is not preempted as soon as it starts generating.
const GROWTH_ROOM: usize = 256;

/// A prompt shares cells with another slot only when this many more tokens
/// would be shared than the slot's own cache already holds; fewer are
/// cheaper to evaluate than to wait for.
const MIN_SHARED_GAIN: usize = 32;

/// What each token added to a decode call costs, in one-token calls, as
/// measured on a 2-core CPU with a 1.5B model (`examples/decode_cost.rs`: 16
/// tokens cost ~7 one-token calls). A constant, not a timing, so that the
/// same request gives the same drafts and so the same reply.
const MARGINAL_COST: f64 = 0.45;

/// What a token added to a decode call of `sequences` generating sequences
/// costs, in units of one sequence's share of that call. A call costs
/// `a + b·n` for `n` tokens, with `b / (a + b)` = [`MARGINAL_COST`]; a
/// drafted token costs `b`, while each sequence's share of the call is
/// `(a + b·n) / n`. Alone, a draft is cheap (the weights are read once for
/// all its tokens); among several sequences the call is already busy
/// computing, and a draft must be taken far more often to pay.
fn marginal_cost(sequences: usize) -> f64 {
    let b = MARGINAL_COST / (1.0 - MARGINAL_COST); // in units of `a`
    let n = sequences.max(1) as f64;
    b * n / (1.0 + b * n)
}
/// Prompts shorter than this are not saved to the prompt cache on disk
/// (evaluating them costs little more than reading them back).
const MIN_SAVED_PROMPT: usize = 256;
/// The longest prompt-lookup draft verified in one decode call.
const DRAFT_MAX: usize = 32;
/// The shortest suffix of a request's tokens that must recur for a draft
/// (two tokens recur often in prose and predict little).
const LOOKUP_MIN_MATCH: usize = 3;
/// Longest suffix compared when looking for where to copy a draft from.
const LOOKUP_MAX_MATCH: usize = 8;

enum Job {
    Generate(GenerateJob),
    Embed(Vec<Vec<LlamaToken>>, oneshot::Sender<EmbedResult>),
    Shutdown,
}

struct GenerateJob {
    tokens: Vec<LlamaToken>,
    sampling: Sampling,
    grammar: Option<String>,
    session: Option<String>,
    share: Share,
    tx: EventTx,
}

/// Whose request it is and how urgent, for the fair scheduler.
struct Share {
    /// The client ("" for requests that name none).
    client: String,
    priority: Priority,
}

/// A sequence of the KV cache and, while it serves one, the request.
struct Slot {
    seq: i32,
    /// Tokens whose keys and values are in the cache, in position order.
    cached: Vec<LlamaToken>,
    /// The cell of each cached token. A prefix copied from another slot
    /// keeps that slot's cell ids: llama.cpp shares those cells.
    cells: Vec<u64>,
    session: Option<String>,
    last_used: u64,
    active: Option<Active>,
}

impl Slot {
    /// Forgets the slot's cache (and frees the cells no other slot holds).
    fn evict(&mut self, ctx: &mut LlamaContext<'_>) {
        let _ = ctx.clear_kv_cache_seq(Some(self.seq as u32), None, None);
        self.cached.clear();
        self.cells.clear();
        self.session = None;
    }
}

/// A request waiting for a slot: new, or preempted to free cells.
struct Waiting {
    /// The tokens its sequence must hold before it samples again: the
    /// prompt, and after a preemption the tokens generated so far too.
    tokens: Vec<LlamaToken>,
    session: Option<String>,
    active: Active,
    /// Whether it ran before and was preempted (its usage is already set).
    preempted: bool,
}

/// Picks a request's next token: its sampling chain, held to its grammar.
///
/// Applying a grammar to every token of a 150k-token vocabulary costs as
/// much as the decode itself, so the token is sampled without the grammar
/// first and only checked against it; the grammar filters the whole
/// vocabulary only when it rejects that token (as llama.cpp's own server
/// does). A token the grammar allows is kept, any other is drawn again
/// among the allowed ones: without `top_p`, the same distribution as
/// filtering first.
struct TokenSampler {
    chain: LlamaSampler,
    grammar: Option<LlamaSampler>,
    /// The end-of-generation token, taken if the grammar allows nothing.
    end: LlamaToken,
}

impl TokenSampler {
    /// Samples and accepts the token for the logits at `idx` of the last
    /// decoded batch.
    fn sample(&mut self, ctx: &LlamaContext<'_>, idx: i32) -> LlamaToken {
        let Some(grammar) = self.grammar.as_mut() else {
            return self.chain.sample(ctx, idx);
        };
        let mut all = ctx.token_data_array_ith(idx);
        self.chain.apply(&mut all);
        let mut token = all.selected_token();
        if let Some(t) = token {
            let mut one = LlamaTokenDataArray::new(vec![LlamaTokenData::new(t, 0.0, 0.0)], false);
            grammar.apply(&mut one);
            if one.data[0].logit() == f32::NEG_INFINITY {
                token = None;
            }
        }
        let token = token.unwrap_or_else(|| {
            let mut allowed = ctx.token_data_array_ith(idx);
            grammar.apply(&mut allowed);
            self.chain.apply(&mut allowed);
            allowed.selected_token().unwrap_or(self.end)
        });
        grammar.accept(token);
        self.chain.accept(token);
        token
    }
}

struct Active {
    /// Tokens to evaluate next (the rest of the prompt, or the last sample).
    pending: Vec<LlamaToken>,
    /// Index of this slot's logits in the batch just decoded.
    logits_at: Option<i32>,
    sampler: TokenSampler,
    tx: EventTx,
    sampling: Sampling,
    share: Share,
    generated: u32,
    bytes: Vec<u8>,
    sent: usize,
    usage: Usage,
    /// When it was (last) admitted: the latest is preempted first.
    admitted: u64,
    /// The tokens drafted after the pending one in the batch just decoded.
    draft: Vec<LlamaToken>,
    /// What the request's drafts have shown so far: how likely the sampler
    /// is to take the next drafted token.
    agreement: Agreement,
    /// The length of the next draft while drafts are taken whole: copied
    /// text comes in long runs, which a per-token chance underrates.
    run_len: usize,
    /// The first token of a draft that was not worth verifying: compared
    /// with the token sampled, free evidence of how good drafts are.
    guess: Option<LlamaToken>,
    /// Where in the slot's tokens the last draft was copied from, advanced
    /// past what was accepted: the next draft continues there when the
    /// sampled token still agrees.
    lookup_at: Option<usize>,
}

/// Recent drafted tokens the sampler took and drafts it cut short, decayed
/// so that the estimate follows the reply (copying, then writing new code).
#[derive(Debug, Clone, Copy, Default)]
struct Agreement {
    taken: f64,
    refused: f64,
}

impl Agreement {
    /// Counts one draft (or guess): `taken` tokens accepted, and whether a
    /// drafted token was refused after them.
    fn observe(&mut self, taken: usize, refused: bool) {
        let decay = AGREEMENT_DECAY.powi((taken + usize::from(refused)) as i32);
        self.taken = self.taken * decay + taken as f64;
        self.refused = self.refused * decay + f64::from(u8::from(refused));
    }

    /// The chance that the sampler takes a drafted token (the estimate of a
    /// geometric run length, starting from one half).
    fn chance(&self) -> f64 {
        (self.taken + 1.0) / (self.taken + self.refused + 2.0)
    }
}

/// Weight in [`Agreement`] of a drafted token against the one after it: the
/// estimate follows about the last 50 tokens drafted.
const AGREEMENT_DECAY: f64 = 0.98;
/// A draft is verified only when it is expected to give this many more
/// tokens per unit of decode time than decoding without it.
const DRAFT_GAIN: f64 = 1.1;

/// The draft length (0: none) that gives the most tokens per unit of
/// decode time, when each drafted token is taken with chance `p` (until
/// one is refused) and each token added to a decode call costs `marginal`
/// times a one-token call. At most `available`.
fn draft_length(p: f64, marginal: f64, available: usize) -> usize {
    let (mut best, mut best_gain) = (0, DRAFT_GAIN);
    let (mut expected, mut run) = (1.0, 1.0);
    for d in 1..=available {
        run *= p;
        expected += run;
        let gain = expected / (1.0 + marginal * d as f64);
        if gain > best_gain {
            (best, best_gain) = (d, gain);
        }
    }
    best
}

impl Active {
    /// Whether the next decode samples its next token from one pending
    /// token (it is generating, not evaluating a prompt).
    fn decoding(&self) -> bool {
        self.generated > 0 && self.pending.len() == 1
    }
}

/// Why a request was not admitted.
enum NotAdmitted {
    /// Another slot is evaluating a prompt this one shares: admit it once
    /// those cells can be shared. Requests behind it may go first.
    Sharing(Box<Waiting>),
    /// No free slot or not enough free cells: it and the requests behind it
    /// wait for running requests to finish.
    Full(Box<Waiting>),
}

/// The distinct cells the slots hold.
fn cells_used<'s>(slots: impl IntoIterator<Item = &'s Slot>) -> usize {
    let mut seen = std::collections::HashSet::new();
    for slot in slots {
        seen.extend(slot.cells.iter().copied());
    }
    seen.len()
}

struct Worker {
    model: Arc<RawModel>,
    name: String,
    model_name: String,
    ctx_size: u32,
    threads: i32,
    parallel: usize,
    batch_size: u32,
    lookup: bool,
    fair_share: bool,
    /// Saved prompt states of this model, for prompts no slot holds.
    prompt_cache: std::cell::RefCell<Option<PromptCache>>,
    stats: Arc<std::sync::Mutex<EngineStats>>,
    /// The id of the next cell written.
    next_cell: std::cell::Cell<u64>,
    /// Service received per client: who is admitted next.
    fair: std::cell::RefCell<FairShare>,
}

impl Worker {
    fn err(&self, reason: impl Into<String>) -> ModelError {
        ModelError::Engine { backend: self.name.clone(), reason: reason.into() }
    }

    fn new_cell(&self) -> u64 {
        let id = self.next_cell.get();
        self.next_cell.set(id + 1);
        id
    }

    fn run(self, jobs: std_mpsc::Receiver<Job>) {
        let Ok(backend) = backend() else { return };
        let model = Arc::clone(&self.model);
        let model: &RawModel = &model;
        let mut gen_ctx: Option<LlamaContext<'_>> = None;
        let mut embed_ctx: Option<LlamaContext<'_>> = None;
        let mut slots: Vec<Slot> = (0..self.parallel)
            .map(|i| Slot {
                seq: i as i32,
                cached: Vec::new(),
                cells: Vec::new(),
                session: None,
                last_used: 0,
                active: None,
            })
            .collect();
        let mut queue: VecDeque<Waiting> = VecDeque::new();
        let mut batch = LlamaBatch::new(self.batch_size as usize, self.parallel as i32);
        let mut clock = 0u64;
        loop {
            // Take new work: block only when there is nothing to do.
            let busy = slots.iter().any(|s| s.active.is_some());
            let mut incoming = Vec::new();
            if !busy && queue.is_empty() {
                match jobs.recv() {
                    Ok(job) => incoming.push(job),
                    Err(_) => return,
                }
            }
            while let Ok(job) = jobs.try_recv() {
                incoming.push(job);
            }
            for job in incoming {
                match job {
                    Job::Shutdown => return,
                    Job::Generate(job) => {
                        let backlogged = queue
                            .iter()
                            .map(|w| &w.active)
                            .chain(slots.iter().filter_map(|s| s.active.as_ref()))
                            .map(|a| a.share.client.as_str());
                        self.fair.borrow_mut().arrive(&job.share.client, backlogged);
                        queue.extend(self.waiting(job));
                    }
                    Job::Embed(inputs, reply) => {
                        let result = self.embed(backend, model, &mut embed_ctx, &inputs);
                        let _ = reply.send(result);
                    }
                }
            }
            queue.retain(|w| !w.active.tx.is_closed());
            if queue.is_empty() && slots.iter().all(|s| s.active.is_none()) {
                continue;
            }
            if gen_ctx.is_none() {
                match self.new_context(backend, model, false) {
                    Ok(ctx) => gen_ctx = Some(ctx),
                    Err(e) => {
                        for w in queue.drain(..) {
                            let _ = w.active.tx.send(Err(self.err(e.to_string())));
                        }
                        continue;
                    }
                }
            }
            let ctx = gen_ctx.as_mut().expect("context was just created");
            // Admit in fair order (see `fair`); a request waiting to share
            // a running one's prompt is passed over this round, one that
            // does not fit keeps its place and the others wait behind it.
            let mut held = Vec::new();
            loop {
                let next = if self.fair_share {
                    self.fair.borrow().pick(queue.iter().map(|w| Candidate {
                        client: &w.active.share.client,
                        priority: w.active.share.priority,
                        preempted: w.preempted,
                    }))
                } else {
                    (!queue.is_empty()).then_some(0)
                };
                let Some(i) = next else { break };
                let w = queue.remove(i).expect("picked from the queue");
                let (client, prompt) = (w.active.share.client.clone(), w.tokens.len());
                let charge = !w.preempted;
                clock += 1;
                match self.admit(ctx, &mut slots, w, clock) {
                    Ok(()) if charge => self.fair.borrow_mut().charge(&client, prompt, 0),
                    Ok(()) => {}
                    Err(NotAdmitted::Sharing(w)) => held.push((i, *w)),
                    Err(NotAdmitted::Full(w)) => {
                        queue.insert(i, *w);
                        break;
                    }
                }
            }
            for (i, w) in held.into_iter().rev() {
                queue.insert(i.min(queue.len()), w);
            }
            self.step(ctx, &mut slots, &mut batch, &mut queue);
        }
    }

    /// A new request, ready to wait for a slot (or `None`, its error sent,
    /// when its grammar does not compile).
    fn waiting(&self, job: GenerateJob) -> Option<Waiting> {
        let sampler = match self.sampler(&job.sampling, job.grammar.as_deref()) {
            Ok(s) => s,
            Err(e) => {
                let _ = job.tx.send(Err(e));
                return None;
            }
        };
        let usage = Usage { prompt_tokens: job.tokens.len() as u64, ..Usage::default() };
        Some(Waiting {
            tokens: job.tokens,
            session: job.session,
            preempted: false,
            active: Active {
                pending: Vec::new(),
                logits_at: None,
                sampler,
                tx: job.tx,
                sampling: job.sampling,
                share: job.share,
                generated: 0,
                bytes: Vec::new(),
                sent: 0,
                usage,
                admitted: 0,
                draft: Vec::new(),
                agreement: Agreement::default(),
                run_len: 1,
                guess: None,
                lookup_at: None,
            },
        })
    }

    fn new_context<'m>(
        &self,
        backend: &LlamaBackend,
        model: &'m RawModel,
        embeddings: bool,
    ) -> Result<LlamaContext<'m>, ModelError> {
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(self.ctx_size))
            .with_n_batch(self.batch_size)
            .with_n_threads(self.threads)
            .with_n_threads_batch(self.threads)
            .with_n_seq_max(self.parallel as u32);
        let params = if embeddings {
            // Encoders see a whole input at once: one micro-batch must hold
            // it, and llama.cpp needs the micro-batch to split evenly into
            // the sequences (it aborts otherwise).
            params
                .with_embeddings(true)
                .with_n_ubatch(self.batch_size)
                .with_n_seq_max(self.embedding_sequences() as u32)
        } else {
            // One pool of cells for all slots, so a single long session can
            // use the whole window.
            params.with_kv_unified(true)
        };
        model
            .new_context(backend, params)
            .map_err(|e| self.err(format!("cannot create a llama.cpp context: {e}")))
    }

    /// Sequences per embedding batch: at most `parallel`, and a divisor of
    /// the batch size.
    fn embedding_sequences(&self) -> usize {
        (1..=self.parallel)
            .rev()
            .find(|n| (self.batch_size as usize).is_multiple_of(*n))
            .unwrap_or(1)
    }

    /// Puts a request into a free slot, sharing or reusing the longest
    /// cached prefix of its tokens, or says why it must wait.
    fn admit(
        &self,
        ctx: &mut LlamaContext<'_>,
        slots: &mut [Slot],
        mut w: Waiting,
        clock: u64,
    ) -> Result<(), NotAdmitted> {
        let free: Vec<usize> = (0..slots.len()).filter(|&i| slots[i].active.is_none()).collect();
        let by_session = w
            .session
            .as_ref()
            .and_then(|k| free.iter().copied().find(|&i| slots[i].session.as_ref() == Some(k)));
        let best = by_session.or_else(|| {
            free.iter().copied().max_by_key(|&i| {
                (common_prefix(&slots[i].cached, &w.tokens), u64::MAX - slots[i].last_used)
            })
        });
        let Some(index) = best else { return Err(NotAdmitted::Full(Box::new(w))) };

        // The last token is always evaluated: its logits start the sampling.
        let limit = w.tokens.len() - 1;
        let own = common_prefix(&slots[index].cached, &w.tokens).min(limit);
        let donor = (0..slots.len())
            .filter(|&i| i != index)
            .map(|i| (i, common_prefix(&slots[i].cached, &w.tokens).min(limit)))
            .max_by_key(|&(_, n)| n)
            .filter(|&(_, n)| n >= own + MIN_SHARED_GAIN);
        let reuse = donor.map_or(own, |(_, n)| n);
        // A slot still evaluating a prompt this one shares: wait for its
        // cells rather than evaluate the same tokens beside it.
        let evaluating = slots.iter().filter_map(|s| {
            let a = s.active.as_ref().filter(|a| a.generated == 0 && !a.pending.is_empty())?;
            let shared = common_prefix(&s.cached, &w.tokens);
            Some(if shared == s.cached.len() {
                shared + common_prefix(&a.pending, &w.tokens[shared..])
            } else {
                shared
            })
        });
        if evaluating.max().is_some_and(|n| n.min(limit) >= reuse + MIN_SHARED_GAIN) {
            return Err(NotAdmitted::Sharing(Box::new(w)));
        }

        // Make room: evict idle slots, least recently used first, until the
        // prompt and some room to grow fit in the pool.
        let total = self.ctx_size as usize;
        let keep = donor.map(|(i, _)| i);
        let prefix_cells = |slots: &[Slot]| -> Vec<u64> {
            match donor {
                Some((d, n)) => slots[d].cells[..n].to_vec(),
                None => slots[index].cells[..reuse].to_vec(),
            }
        };
        let used_after = |slots: &[Slot]| {
            let mut seen: std::collections::HashSet<u64> =
                prefix_cells(slots).into_iter().collect();
            for (i, s) in slots.iter().enumerate() {
                if i != index {
                    seen.extend(s.cells.iter().copied());
                }
            }
            seen.len()
        };
        let need = w.tokens.len() - reuse + GROWTH_ROOM.min(w.active.sampling.max_tokens as usize);
        let mut idle: Vec<usize> = (0..slots.len())
            .filter(|&i| {
                i != index
                    && Some(i) != keep
                    && slots[i].active.is_none()
                    && !slots[i].cells.is_empty()
            })
            .collect();
        idle.sort_by_key(|&i| std::cmp::Reverse(slots[i].last_used));
        while used_after(slots) + need > total {
            let Some(i) = idle.pop() else { break };
            slots[i].evict(ctx);
        }
        let running = slots.iter().any(|s| s.active.is_some());
        if running && used_after(slots) + need > total {
            return Err(NotAdmitted::Full(Box::new(w))); // wait for running requests to finish
        }

        let cells = prefix_cells(slots);
        let slot_seq = slots[index].seq;
        match donor {
            Some((d, n)) => {
                slots[index].evict(ctx);
                let _ = ctx.copy_kv_cache_seq(slots[d].seq, slot_seq, Some(0), Some(n as u32));
                slots[index].cached = w.tokens[..n].to_vec();
                slots[index].cells = cells;
                self.stats.lock().expect("stats lock").prompt_tokens_shared += n as u64;
            }
            None => {
                let slot = &mut slots[index];
                if !matches!(
                    ctx.clear_kv_cache_seq(Some(slot_seq as u32), Some(reuse as u32), None),
                    Ok(true)
                ) {
                    slot.evict(ctx);
                }
                let kept = reuse.min(slot.cached.len());
                slot.cached.truncate(kept);
                slot.cells.truncate(kept);
            }
        }
        if donor.is_none() {
            self.restore(ctx, slots, index, &w.tokens[..limit]);
        }
        let slot = &mut slots[index];
        let reuse = slot.cached.len();
        slot.session = w.session;
        slot.last_used = clock;
        if !w.preempted {
            w.active.usage.cached_tokens = reuse as u64;
            self.stats.lock().expect("stats lock").prompt_tokens_reused += reuse as u64;
        }
        w.active.pending = w.tokens[reuse..].to_vec();
        w.active.logits_at = None;
        w.active.admitted = clock;
        slot.active = Some(w.active);
        Ok(())
    }

    /// Restores into slot `index` the longest head of `tokens` the prompt
    /// cache on disk holds, when it is longer than what the slot holds.
    fn restore(
        &self,
        ctx: &mut LlamaContext<'_>,
        slots: &mut [Slot],
        index: usize,
        tokens: &[LlamaToken],
    ) {
        let mut cache = self.prompt_cache.borrow_mut();
        let Some(cache) = cache.as_mut() else { return };
        let raw: Vec<i32> = tokens.iter().map(|t| t.0).collect();
        let Some((entry, shared)) = cache.best(&raw) else { return };
        if shared < slots[index].cached.len() + MIN_SHARED_GAIN {
            return;
        }
        // The whole saved sequence is restored, then cut to the shared head:
        // its cells must fit beside the other slots'.
        let others = cells_used(slots.iter().enumerate().filter(|&(i, _)| i != index).map(|e| e.1));
        if others + cache.tokens_of(entry) > self.ctx_size as usize {
            return;
        }
        let (_, state) = match cache.load(entry) {
            Ok(found) => found,
            Err(why) => {
                tracing::warn!("prompt cache: ignoring {why}; the prompt is evaluated again");
                return;
            }
        };
        let seq = slots[index].seq;
        slots[index].evict(ctx);
        // SAFETY: the bytes are llama.cpp's own serialization of a sequence
        // (`state_seq_get_data_ext` in `save_prompt`), for a model of the
        // same identity and the same llama.cpp, checked against their
        // SHA-256 on load; llama.cpp checks their shape again.
        let restored =
            unsafe { ctx.state_seq_set_data_ext(&state, seq, LlamaStateSeqFlags::empty()) };
        if !restored {
            tracing::warn!(
                "prompt cache: llama.cpp refused a saved state; the prompt is evaluated again"
            );
            slots[index].evict(ctx);
            return;
        }
        let _ = ctx.clear_kv_cache_seq(Some(seq as u32), Some(shared as u32), None);
        let slot = &mut slots[index];
        slot.cached = tokens[..shared].to_vec();
        slot.cells = (0..shared).map(|_| self.new_cell()).collect();
        self.stats.lock().expect("stats lock").prompt_tokens_restored += shared as u64;
    }

    /// Saves the KV state of a slot whose prompt was just evaluated to the
    /// prompt cache on disk, when the prompt is long and most of it had to
    /// be evaluated (nothing cached held it).
    fn save_prompt(&self, ctx: &LlamaContext<'_>, slot: &Slot, reused: u64) {
        let prompt = slot.cached.len();
        if prompt < MIN_SAVED_PROMPT || 2 * reused as usize > prompt {
            return;
        }
        let mut cache = self.prompt_cache.borrow_mut();
        let Some(cache) = cache.as_mut() else { return };
        let tokens: Vec<i32> = slot.cached.iter().map(|t| t.0).collect();
        if cache.holds(&tokens) {
            return;
        }
        let flags = LlamaStateSeqFlags::empty();
        let size = ctx.state_seq_get_size_ext(slot.seq, flags);
        let mut state = vec![0u8; size];
        // SAFETY: `state` holds the `size` bytes llama.cpp asked for.
        let written = unsafe { ctx.state_seq_get_data_ext(state.as_mut_ptr(), slot.seq, flags) };
        if written != size {
            return;
        }
        match cache.save(&tokens, &state) {
            Ok(()) => self.stats.lock().expect("stats lock").prompts_saved += 1,
            Err(why) => tracing::warn!("prompt cache: {why}"),
        }
    }

    fn sampler(
        &self,
        sampling: &Sampling,
        grammar: Option<&str>,
    ) -> Result<TokenSampler, ModelError> {
        let grammar = match grammar {
            Some(grammar) => {
                Some(LlamaSampler::grammar(&self.model, grammar, "root").map_err(|e| {
                    ModelError::InvalidRequest {
                        backend: self.name.clone(),
                        reason: format!("invalid grammar (llama.cpp GBNF with a `root` rule): {e}"),
                    }
                })?)
            }
            None => None,
        };
        let mut chain = Vec::new();
        if sampling.temperature <= 0.0 {
            chain.push(LlamaSampler::greedy());
        } else {
            if sampling.top_p < 1.0 {
                chain.push(LlamaSampler::top_p(sampling.top_p, 1));
            }
            chain.push(LlamaSampler::temp(sampling.temperature));
            chain.push(LlamaSampler::dist(sampling.seed));
        }
        Ok(TokenSampler {
            chain: LlamaSampler::chain_simple(chain),
            grammar,
            end: self.model.vocab().eos(),
        })
    }

    /// Frees cells until `need` more fit: idle slots first (least recently
    /// used), then the running request admitted last, which goes back to
    /// the front of the queue to continue later. Returns false when only
    /// one running request is left and the cells still do not fit.
    fn make_room(
        &self,
        ctx: &mut LlamaContext<'_>,
        slots: &mut [Slot],
        queue: &mut VecDeque<Waiting>,
        need: impl Fn(&[Slot]) -> usize,
    ) -> bool {
        let total = self.ctx_size as usize;
        while cells_used(slots.iter()) + need(slots) > total {
            let idle = (0..slots.len())
                .filter(|&i| slots[i].active.is_none() && !slots[i].cells.is_empty())
                .min_by_key(|&i| slots[i].last_used);
            if let Some(i) = idle {
                slots[i].evict(ctx);
                continue;
            }
            let running: Vec<usize> =
                (0..slots.len()).filter(|&i| slots[i].active.is_some()).collect();
            if running.len() < 2 {
                return false;
            }
            let last = *running
                .iter()
                .max_by_key(|&&i| slots[i].active.as_ref().map_or(0, |a| a.admitted))
                .expect("two running requests");
            let slot = &mut slots[last];
            let mut active = slot.active.take().expect("running slot");
            let mut tokens = std::mem::take(&mut slot.cached);
            tokens.append(&mut active.pending);
            let session = slot.session.clone();
            slot.evict(ctx);
            self.stats.lock().expect("stats lock").preemptions += 1;
            queue.push_front(Waiting { tokens, session, active, preempted: true });
        }
        true
    }

    /// One decode call for every active slot, then sampling.
    fn step(
        &self,
        ctx: &mut LlamaContext<'_>,
        slots: &mut [Slot],
        batch: &mut LlamaBatch<'_>,
        queue: &mut VecDeque<Waiting>,
    ) {
        for slot in slots.iter_mut() {
            if slot.active.as_ref().is_some_and(|a| a.tx.is_closed()) {
                slot.active = None; // the caller went away
            }
        }
        // Every generating request needs a cell for its next token, and a
        // prompt being evaluated at least one.
        let need = |slots: &[Slot]| {
            let actives = slots.iter().filter_map(|s| s.active.as_ref());
            let decoding = actives.clone().filter(|a| a.decoding()).count();
            decoding + usize::from(actives.clone().any(|a| !a.decoding()))
        };
        if !self.make_room(ctx, slots, queue, need) {
            // One request is left and the window is full: its reply ends here.
            for slot in slots.iter_mut() {
                if let Some(active) = slot.active.take() {
                    finish_request(active, FinishReason::Length, &self.model_name, &self.name);
                }
            }
            return;
        }
        batch.clear();
        let mut room = self.batch_size as usize;
        let mut free_cells = (self.ctx_size as usize).saturating_sub(cells_used(slots.iter()));
        let mut sequences = 0;
        // Generating slots first (one token each), so prefill cannot starve
        // them; then prompts, oldest request first.
        let mut order: Vec<usize> =
            (0..slots.len()).filter(|&i| slots[i].active.is_some()).collect();
        order.sort_by_key(|&i| {
            slots[i].active.as_ref().map(|a| (!a.decoding(), a.admitted)).unwrap_or_default()
        });
        let mut evaluated_prompt = 0u64;
        let generating =
            slots.iter().filter(|s| s.active.as_ref().is_some_and(Active::decoding)).count();
        let marginal = marginal_cost(generating);
        // What each slot held before the batch, to take it back if the
        // decode fails.
        let mut before: Vec<(usize, usize)> = Vec::new();
        for i in order {
            let slot = &mut slots[i];
            let active = slot.active.as_mut().expect("active slot");
            active.logits_at = None;
            active.draft.clear();
            let take = active.pending.len().min(room).min(free_cells);
            if take == 0 {
                continue;
            }
            let last = take == active.pending.len();
            active.guess = None;
            if self.lookup && last && active.decoding() {
                let left =
                    (active.sampling.max_tokens.saturating_sub(active.generated + 1)) as usize;
                let len = DRAFT_MAX.min(room - take).min(free_cells - take).min(left);
                let mut draft =
                    lookup_draft(&slot.cached, active.pending[0], len, &mut active.lookup_at);
                let worth = draft_length(active.agreement.chance(), marginal, draft.len());
                active.guess = draft.first().copied().filter(|_| worth == 0);
                draft.truncate(if worth == 0 { 0 } else { worth.max(active.run_len) });
                active.draft = draft;
            }
            before.push((i, slot.cached.len()));
            let tokens = active.pending[..take].iter().chain(&active.draft);
            for (k, &token) in tokens.enumerate() {
                let pos = slot.cached.len() as i32;
                let logits = last && k + 1 >= take;
                if batch.add(token, pos, &[slot.seq], logits).is_err() {
                    break;
                }
                if logits && k + 1 == take {
                    active.logits_at = Some(batch.n_tokens() - 1);
                }
                slot.cached.push(token);
                slot.cells.push(self.new_cell());
            }
            let added = slot.cached.len() - before.last().expect("just pushed").1;
            // A draft cut short by a full batch is dropped whole.
            if added < take + active.draft.len() {
                let keep = before.last().expect("just pushed").1 + added.min(take);
                slot.cached.truncate(keep);
                slot.cells.truncate(keep);
                active.draft.clear();
            }
            let added = slot.cached.len() - before.last().expect("just pushed").1;
            active.pending.drain(..added.min(take));
            if active.generated == 0 {
                evaluated_prompt += added as u64;
            }
            room -= added;
            free_cells -= added;
            sequences += 1;
        }
        if batch.n_tokens() == 0 {
            return;
        }
        if let Err(e) = ctx.decode(batch) {
            // Take the batch back: its tokens are pending again.
            for &(i, len) in &before {
                let slot = &mut slots[i];
                let _ = ctx.clear_kv_cache_seq(Some(slot.seq as u32), Some(len as u32), None);
                let active = slot.active.as_mut().expect("active slot");
                let mut back = slot.cached.split_off(len);
                slot.cells.truncate(len);
                back.truncate(back.len() - active.draft.len());
                active.draft.clear();
                back.append(&mut active.pending);
                active.pending = back;
                active.logits_at = None;
            }
            if sequences > 1 {
                // Try again with fewer sequences: the one admitted last waits.
                let all = |slots: &[Slot]| cells_used(slots.iter()) + 1;
                let _ = self.make_room(ctx, slots, queue, all);
                return;
            }
            let reason = format!("llama.cpp decode failed: {e}");
            for slot in slots.iter_mut() {
                if let Some(active) = slot.active.take() {
                    let _ = active.tx.send(Err(self.err(reason.clone())));
                    slot.evict(ctx);
                }
            }
            return;
        }
        {
            let mut stats = self.stats.lock().expect("stats lock");
            stats.prompt_tokens_evaluated += evaluated_prompt;
            if sequences > 1 {
                stats.multi_sequence_batches += 1;
            }
        }
        for slot in slots.iter() {
            if let Some(a) = slot.active.as_ref() {
                if a.logits_at.is_some() && a.generated == 0 && a.pending.is_empty() {
                    self.save_prompt(ctx, slot, a.usage.cached_tokens);
                }
            }
        }
        for slot in slots.iter_mut() {
            let Some(active) = slot.active.as_mut() else { continue };
            let Some(at) = active.logits_at else { continue };
            let draft = std::mem::take(&mut active.draft);
            // The tokens in the cache once the sampled pending token is in.
            let base = slot.cached.len() - draft.len();
            let mut accepted = 0;
            let finish = loop {
                let token = active.sampler.sample(ctx, at + accepted as i32);
                if let Some(reason) = self.take_token(active, token, base + accepted) {
                    break Some(reason);
                }
                if draft.get(accepted) == Some(&token) {
                    accepted += 1; // its keys and values are in the cache already
                    continue;
                }
                active.pending.push(token);
                break None;
            };
            if !draft.is_empty() {
                let mut stats = self.stats.lock().expect("stats lock");
                stats.drafts += 1;
                stats.tokens_drafted += draft.len() as u64;
                stats.drafts_accepted += accepted as u64;
                active.agreement.observe(accepted, accepted < draft.len() && finish.is_none());
                active.run_len = if accepted == draft.len() {
                    (2 * accepted).min(DRAFT_MAX)
                } else {
                    accepted.max(1)
                };
                active.lookup_at = active.lookup_at.map(|at| at + accepted);
            } else if let (Some(guess), None) = (active.guess.take(), finish) {
                let right = active.pending.last() == Some(&guess);
                active.agreement.observe(usize::from(right), !right);
            }
            // Drafted tokens the sampler did not take leave the cache.
            let keep = base + accepted;
            if slot.cached.len() > keep {
                let _ = ctx.clear_kv_cache_seq(Some(slot.seq as u32), Some(keep as u32), None);
                slot.cached.truncate(keep);
                slot.cells.truncate(keep);
            }
            if let Some(reason) = finish {
                let active = slot.active.take().expect("active slot");
                finish_request(active, reason, &self.model_name, &self.name);
            }
        }
    }

    /// Adds a sampled token to a request's reply; says whether the reply
    /// ends with it. `cached` is the length of the sequence before it.
    fn take_token(
        &self,
        active: &mut Active,
        token: LlamaToken,
        cached: usize,
    ) -> Option<FinishReason> {
        let vocab = self.model.vocab();
        if vocab.is_eog(token) {
            return Some(FinishReason::Stop);
        }
        active.generated += 1;
        active.usage.completion_tokens += 1;
        self.fair.borrow_mut().charge(&active.share.client, 0, 1);
        self.stats.lock().expect("stats lock").tokens_generated += 1;
        vocab.token_to_piece_into(token, &mut active.bytes, false, None);
        if emit(active) {
            Some(FinishReason::Stop)
        } else if active.generated >= active.sampling.max_tokens
            || cached + 1 >= self.ctx_size as usize
        {
            Some(FinishReason::Length)
        } else {
            None
        }
    }

    fn embed<'m>(
        &self,
        backend: &LlamaBackend,
        model: &'m RawModel,
        ctx: &mut Option<LlamaContext<'m>>,
        inputs: &[Vec<LlamaToken>],
    ) -> Result<(Vec<Vec<f32>>, u64), ModelError> {
        if ctx.is_none() {
            *ctx = Some(self.new_context(backend, model, true)?);
        }
        let ctx = ctx.as_mut().expect("context was just created");
        let mut vectors = Vec::with_capacity(inputs.len());
        let mut batch = LlamaBatch::new(self.batch_size as usize, self.parallel as i32);
        let mut total = 0u64;
        let mut start = 0;
        while start < inputs.len() {
            batch.clear();
            ctx.clear_kv_cache();
            let mut end = start;
            let mut used = 0;
            while end < inputs.len()
                && end - start < self.embedding_sequences()
                && used + inputs[end].len() <= self.batch_size as usize
            {
                batch
                    .add_sequence(&inputs[end], (end - start) as i32, true)
                    .map_err(|e| self.err(format!("embedding batch: {e}")))?;
                used += inputs[end].len();
                end += 1;
            }
            ctx.decode(&mut batch)
                .map_err(|e| self.err(format!("embedding decode failed: {e}")))?;
            for seq in 0..(end - start) {
                let raw = ctx.embeddings_seq_ith(seq as i32).map_err(|e| {
                    self.err(format!("no embedding for input {}: {e}", start + seq))
                })?;
                vectors.push(normalize(raw));
            }
            total += used as u64;
            start = end;
        }
        Ok((vectors, total))
    }
}

fn normalize(v: &[f32]) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm == 0.0 {
        v.to_vec()
    } else {
        v.iter().map(|x| x / norm).collect()
    }
}

/// Drafts up to `len` tokens to follow `history` and then `last`, by prompt
/// lookup: when `at` points at a token equal to `last`, the draft continues
/// after it (the reply is still copying from there); else it is what
/// followed the latest earlier occurrence of the longest recurring suffix
/// (at least [`LOOKUP_MIN_MATCH`] tokens). Sets `at` to where the draft was
/// copied from; an empty draft when nothing recurs.
fn lookup_draft(
    history: &[LlamaToken],
    last: LlamaToken,
    len: usize,
    at: &mut Option<usize>,
) -> Vec<LlamaToken> {
    if len == 0 {
        return Vec::new();
    }
    let n = history.len();
    // Token i of the sequence `history` then `last`.
    let token = |i: usize| if i == n { last } else { history[i] };
    let start = match *at {
        Some(i) if i < n && history[i] == last => Some(i + 1),
        _ => {
            let mut best: Option<(usize, usize)> = None; // (match length, start)
            for i in (0..n.saturating_sub(1)).rev() {
                if history[i] != last {
                    continue;
                }
                let matched = (0..=i.min(LOOKUP_MAX_MATCH - 1))
                    .take_while(|&j| history[i - j] == token(n - j))
                    .count();
                if matched >= LOOKUP_MIN_MATCH && best.is_none_or(|(m, _)| matched > m) {
                    best = Some((matched, i + 1));
                    if matched == LOOKUP_MAX_MATCH {
                        break;
                    }
                }
            }
            best.map(|(_, s)| s)
        }
    };
    let Some(start) = start.filter(|&s| s < n) else {
        *at = None;
        return Vec::new();
    };
    *at = Some(start);
    history[start..(start + len).min(n)].to_vec()
}

fn common_prefix(a: &[LlamaToken], b: &[LlamaToken]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// Sends the text that can no longer be part of a stop sequence. Returns
/// true when a stop sequence matched (the text is then cut before it).
fn emit(active: &mut Active) -> bool {
    let valid = match std::str::from_utf8(&active.bytes) {
        Ok(s) => s.len(),
        Err(e) => e.valid_up_to(),
    };
    let text = std::str::from_utf8(&active.bytes[..valid]).expect("valid prefix");
    let longest_stop = active.sampling.stop.iter().map(|s| s.len()).max().unwrap_or(0);
    let search_from = floor_char_boundary(text, active.sent.saturating_sub(longest_stop));
    let mut cut: Option<usize> = None;
    for stop in active.sampling.stop.iter().filter(|s| !s.is_empty()) {
        if let Some(at) = text[search_from..].find(stop.as_str()) {
            let at = search_from + at;
            cut = Some(cut.map_or(at, |c| c.min(at)));
        }
    }
    let (end, stopped) = match cut {
        Some(at) => (at, true),
        None => {
            // Hold back the longest tail that could start a stop sequence.
            let mut hold = 0;
            for stop in &active.sampling.stop {
                for (k, _) in stop.char_indices().skip(1) {
                    if text.ends_with(&stop[..k]) {
                        hold = hold.max(k);
                    }
                }
            }
            (text.len() - hold, false)
        }
    };
    if end > active.sent {
        let _ = active.tx.send(Ok(StreamEvent::Delta(text[active.sent..end].to_string())));
        active.sent = end;
    }
    if stopped {
        active.bytes.truncate(end);
    }
    stopped
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn finish_request(mut active: Active, reason: FinishReason, model: &str, backend: &str) {
    // Flush what was held back for stop sequences that never came.
    let text = String::from_utf8_lossy(&active.bytes).into_owned();
    if text.len() > active.sent {
        let _ = active.tx.send(Ok(StreamEvent::Delta(text[active.sent..].to_string())));
        active.sent = text.len();
    }
    let _ = active.tx.send(Ok(StreamEvent::Done(Completion {
        text,
        finish_reason: reason,
        usage: active.usage,
        model: model.to_string(),
        backend: backend.to_string(),
    })));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(ids: &[i32]) -> Vec<LlamaToken> {
        ids.iter().map(|&i| LlamaToken(i)).collect()
    }

    #[test]
    fn lookup_drafts_what_followed_the_longest_recurring_suffix() {
        // 1 2 3 4 5 6 | 9 2 3 | 7 8 | ... 2 3 then 4: "2 3 4" recurs at 1..4.
        let history = tokens(&[1, 2, 3, 4, 5, 6, 9, 2, 3, 7, 8, 2, 3]);
        let mut at = None;
        let draft = lookup_draft(&history, LlamaToken(4), 3, &mut at);
        assert_eq!(draft, tokens(&[5, 6, 9]));
        assert_eq!(at, Some(4));
        // The next sampled token agrees with the source: the draft goes on
        // from there without a search.
        let mut longer = history.clone();
        longer.extend(tokens(&[4, 5, 6]));
        let mut at = Some(6);
        assert_eq!(lookup_draft(&longer, LlamaToken(9), 2, &mut at), tokens(&[2, 3]));
        assert_eq!(at, Some(7));
    }

    #[test]
    fn lookup_needs_a_suffix_of_three_tokens_and_a_continuation() {
        let mut at = None;
        // Only "3 4" recurs: too short to predict anything.
        let history = tokens(&[1, 3, 4, 5, 2, 3]);
        assert!(lookup_draft(&history, LlamaToken(4), 4, &mut at).is_empty());
        assert_eq!(at, None);
        // Nothing follows the only earlier occurrence but the suffix itself.
        let history = tokens(&[7, 7, 7]);
        assert!(lookup_draft(&history, LlamaToken(7), 4, &mut at).len() <= 1);
        assert!(lookup_draft(&history, LlamaToken(7), 0, &mut at).is_empty());
        assert!(lookup_draft(&[], LlamaToken(7), 4, &mut at).is_empty());
    }

    #[test]
    fn a_draft_costs_more_among_several_sequences() {
        assert!((marginal_cost(1) - MARGINAL_COST).abs() < 1e-9);
        assert!(marginal_cost(4) > 0.7 && marginal_cost(8) > marginal_cost(4));
        assert!(marginal_cost(8) < 1.0);
        // Copying pays alone, and needs near-certain drafts among eight.
        assert!(draft_length(0.9, marginal_cost(1), 32) > 0);
        assert_eq!(draft_length(0.9, marginal_cost(8), 32), 0);
    }

    #[test]
    fn drafts_are_verified_only_when_they_are_expected_to_pay() {
        // A token drafted at even odds never pays when it costs half a call.
        assert_eq!(draft_length(0.5, 0.45, 32), 0);
        // A reply that copies pays for a long draft ...
        let copying = draft_length(0.99, 0.45, 32);
        assert!(copying >= 8, "{copying}");
        // ... but never longer than what the lookup found.
        assert_eq!(draft_length(0.99, 0.45, 3), 3);
        // On hardware where more tokens per call cost little, drafts grow.
        assert!(draft_length(0.9, 0.05, 32) > draft_length(0.9, 0.45, 32));
        // The chance estimate starts at one half and follows what it sees.
        let mut agreement = Agreement::default();
        assert_eq!(agreement.chance(), 0.5);
        agreement.observe(20, false);
        assert!(agreement.chance() > 0.9);
        for _ in 0..40 {
            agreement.observe(0, true);
        }
        assert!(agreement.chance() < 0.3, "{}", agreement.chance());
    }
}
