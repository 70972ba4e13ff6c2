//! The embedded llama.cpp backend with real models: SmolLM2-135M for the
//! mechanics (its answers are nonsense, but deterministic), the Qwen2.5-Coder
//! 0.5B for fill-in-the-middle, MiniLM for embeddings.

#![cfg(feature = "embedded")]

mod common;

use std::sync::Arc;

use futures::StreamExt;
use suit_model::llama::{LlamaModel, LlamaOptions, ModelTokenizer};
use suit_model::{
    collect, cosine_similarity, ChatRequest, CompletionRequest, Constraint, FinishReason, Message,
    Model, ModelError, Sampling, StreamEvent,
};

fn smol(parallel: usize, ctx: u32) -> LlamaModel {
    let mut options = LlamaOptions::new("local", common::model_path("smollm2-135m-instruct-q4_1"));
    options.parallel = parallel;
    options.ctx_size = ctx;
    LlamaModel::load(options).expect("load SmolLM2")
}

fn chat(text: &str, max_tokens: u32) -> ChatRequest {
    let mut request = ChatRequest::new(vec![
        Message::system("You are a helpful assistant."),
        Message::user(text),
    ]);
    request.sampling = Sampling::greedy(max_tokens);
    request
}

#[tokio::test]
async fn greedy_decoding_is_deterministic_and_streams() {
    let model = smol(1, 2048);
    let mut stream = model.chat(chat("Name three colors.", 24)).await.unwrap();
    let mut streamed = String::new();
    let mut deltas = 0;
    let done = loop {
        match stream.next().await.expect("stream ended early").unwrap() {
            StreamEvent::Delta(d) => {
                streamed.push_str(&d);
                deltas += 1;
            }
            StreamEvent::Done(done) => break done,
        }
    };
    assert!(deltas > 1, "the answer arrives in pieces, got {deltas}");
    assert_eq!(streamed, done.text);
    assert!(!done.text.trim().is_empty());
    assert!(done.usage.completion_tokens > 0 && done.usage.completion_tokens <= 24);

    // A second model instance (cold cache) and the same instance (warm cache)
    // give the same greedy answer.
    let again = collect(model.chat(chat("Name three colors.", 24)).await.unwrap()).await.unwrap();
    let other = smol(1, 2048);
    let cold = collect(other.chat(chat("Name three colors.", 24)).await.unwrap()).await.unwrap();
    assert_eq!(again.text, done.text);
    assert_eq!(cold.text, done.text);
    assert!(again.usage.cached_tokens > 0, "the second call reused the cache");
}

#[tokio::test]
async fn prefix_reuse_evaluates_only_new_tokens() {
    let model = smol(2, 4096);
    let system = format!(
        "You are a code reviewer. Project rules:\n{}",
        (1..=40)
            .map(|i| format!("- rule {i}: keep functions short and named well.\n"))
            .collect::<String>()
    );
    let mut turn1 =
        ChatRequest::new(vec![Message::system(&system), Message::user("Review: fn a() {}")]);
    turn1.sampling = Sampling::greedy(16);
    turn1.session = Some("s1".into());
    let first = collect(model.chat(turn1.clone()).await.unwrap()).await.unwrap();
    assert_eq!(first.usage.cached_tokens, 0);
    let before = model.stats();

    let mut turn2 = turn1.clone();
    turn2.messages.push(Message::assistant(&first.text));
    turn2.messages.push(Message::user("And: fn b() {}"));
    let prompt2 = model.chat_prompt_tokens(&turn2.messages).unwrap().len() as u64;
    let second = collect(model.chat(turn2).await.unwrap()).await.unwrap();
    let after = model.stats();

    let evaluated = after.prompt_tokens_evaluated - before.prompt_tokens_evaluated;
    assert_eq!(second.usage.prompt_tokens, prompt2);
    assert_eq!(evaluated, second.usage.evaluated_tokens(), "usage matches what was decoded");
    assert!(
        second.usage.cached_tokens >= first.usage.prompt_tokens,
        "turn 1's prompt ({}) is reused, cached {}",
        first.usage.prompt_tokens,
        second.usage.cached_tokens
    );
    assert!(evaluated < 40, "only the new turn is evaluated: {evaluated} of {prompt2} tokens");
}

#[tokio::test]
async fn concurrent_sequences_decode_together_correctly() {
    // Prompts whose continuations are strongly determined, so the small
    // numeric differences between batch shapes cannot flip a token, while
    // any mixing of sequences would.
    let prompts = [
        "1, 2, 3, 4, 5, 6, 7, 8,",
        "Monday, Tuesday, Wednesday, Thursday,",
        "a b c d e f g h",
        "January, February, March, April,",
    ];
    let complete = |p: &str| {
        let mut request = CompletionRequest::text(p);
        request.sampling = Sampling::greedy(12);
        request
    };
    let model = smol(1, 2048);
    let mut alone = Vec::new();
    for p in prompts {
        alone.push(collect(model.complete(complete(p)).await.unwrap()).await.unwrap().text);
    }
    let batched = Arc::new(smol(4, 4096));
    let handles: Vec<_> = prompts
        .iter()
        .map(|p| {
            let model = batched.clone();
            let request = complete(p);
            tokio::spawn(
                async move { collect(model.complete(request).await.unwrap()).await.unwrap() },
            )
        })
        .collect();
    let mut together = Vec::new();
    for h in handles {
        together.push(h.await.unwrap().text);
    }
    assert!(batched.stats().multi_sequence_batches > 0, "requests shared decode batches");
    assert_eq!(together, alone, "batched decoding gives each sequence its own answer");
    assert!(alone[0].contains("9, 10"), "{:?}", alone[0]);
}

#[tokio::test]
async fn candidates_of_one_prompt_share_its_cells_and_answer_as_alone() {
    let rules: String =
        (1..=60).map(|i| format!("- rule {i}: keep functions short and named well.\n")).collect();
    let messages = vec![
        Message::system(format!("You review code.\n{rules}")),
        Message::user("Continue: 1, 2, 3, 4, 5, 6, 7, 8,"),
    ];
    let request = |i: usize| {
        let mut r = ChatRequest::new(messages.clone());
        r.sampling = Sampling::greedy(16);
        r.session = Some(format!("candidates/{i}"));
        r
    };
    let alone = collect(smol(1, 4096).chat(request(0)).await.unwrap()).await.unwrap();
    let model = Arc::new(smol(4, 4096));
    let prompt = model.chat_prompt_tokens(&messages).unwrap().len() as u64;
    // Sent together, as the loop sends its candidates.
    let mut streams = Vec::new();
    for i in 0..4 {
        streams.push(model.chat(request(i)).await.unwrap());
    }
    let replies = futures::future::join_all(streams.into_iter().map(collect)).await;
    let stats = model.stats();
    // A shared prefix changes no answer (the first tokens are strongly
    // determined, whatever the batch shape).
    let head: String = alone.text.chars().take(8).collect();
    for reply in replies {
        let text = reply.unwrap().text;
        assert!(text.starts_with(&head), "{text:?} vs {:?}", alone.text);
    }
    assert!(
        stats.prompt_tokens_evaluated < prompt + 4 * 8,
        "the prompt is evaluated once, not four times: {} of {prompt} tokens",
        stats.prompt_tokens_evaluated
    );
    assert!(stats.prompt_tokens_shared >= 3 * (prompt - 1), "{stats:?}");
    assert!(stats.multi_sequence_batches > 0, "the candidates decoded together");
}

#[tokio::test]
async fn sequences_that_outgrow_the_cache_wait_instead_of_failing() {
    // Four requests that each need ~230 cells in a pool of 512: they cannot
    // all run at once. Some are set aside and continue later; none fails.
    let prompts = [
        "1, 2, 3, 4, 5, 6, 7, 8,",
        "2, 4, 6, 8, 10, 12, 14,",
        "10, 11, 12, 13, 14, 15,",
        "5, 10, 15, 20, 25, 30,",
    ];
    let complete = |p: &str| {
        let mut request = CompletionRequest::text(p);
        request.sampling = Sampling::greedy(220);
        request
    };
    let roomy = smol(1, 2048);
    let mut alone = Vec::new();
    for p in prompts {
        alone.push(collect(roomy.complete(complete(p)).await.unwrap()).await.unwrap());
    }
    let tight = Arc::new(smol(4, 512));
    let handles: Vec<_> = prompts
        .iter()
        .map(|p| {
            let model = tight.clone();
            let request = complete(p);
            tokio::spawn(async move { collect(model.complete(request).await?).await })
        })
        .collect();
    for (h, solo) in handles.into_iter().zip(&alone) {
        let reply = h.await.unwrap().expect("no request fails for want of cells");
        assert_eq!(reply.finish_reason, solo.finish_reason);
        // The first tokens are strongly determined, whatever the batch shape.
        let head: String = solo.text.chars().take(24).collect();
        assert!(reply.text.starts_with(&head), "{:?} vs {:?}", reply.text, solo.text);
        assert_eq!(reply.usage.prompt_tokens, solo.usage.prompt_tokens);
    }
    assert!(tight.stats().preemptions > 0, "{:?}", tight.stats());
}

#[tokio::test]
async fn constrained_output_always_parses() {
    let model = smol(1, 2048);
    let schema = serde_json::json!({
        "type": "object",
        "properties": {
            "name": {"type": "string", "maxLength": 12},
            "age": {"type": "integer"},
            "tags": {"type": "array", "items": {"type": "string", "maxLength": 8}, "maxItems": 3}
        },
        "required": ["name", "age", "tags"],
        "additionalProperties": false
    });
    for seed in 0..4 {
        let mut request = chat("Describe a person as JSON.", 96);
        request.sampling.temperature = 1.0;
        request.sampling.seed = seed;
        request.constraint = Some(Constraint::JsonSchema(schema.clone()));
        let done = collect(model.chat(request).await.unwrap()).await.unwrap();
        let value: serde_json::Value = serde_json::from_str(&done.text)
            .unwrap_or_else(|e| panic!("seed {seed}: not JSON ({e}): {}", done.text));
        assert!(value["name"].is_string(), "seed {seed}: {value}");
        assert!(value["age"].is_i64(), "seed {seed}: {value}");
        assert!(value["tags"].as_array().is_some_and(|t| t.iter().all(|x| x.is_string())));
        assert_eq!(value.as_object().unwrap().len(), 3, "no extra keys: {value}");
    }
    let mut yes_no = chat("Is the sky blue?", 8);
    yes_no.sampling.temperature = 1.0;
    yes_no.constraint = Some(Constraint::Grammar(r#"root ::= "yes" | "no""#.into()));
    let done = collect(model.chat(yes_no).await.unwrap()).await.unwrap();
    assert!(done.text == "yes" || done.text == "no", "got {:?}", done.text);

    let mut bad = chat("x", 8);
    bad.constraint = Some(Constraint::Grammar("root ::= (".into()));
    let err = match model.chat(bad).await {
        Ok(stream) => collect(stream).await.unwrap_err(),
        Err(e) => e,
    };
    assert!(err.to_string().contains("grammar"), "{err}");
}

#[tokio::test]
async fn stop_sequences_and_max_tokens() {
    let model = smol(1, 2048);
    let mut request = CompletionRequest::text("1, 2, 3, 4, 5, 6,");
    request.sampling = Sampling::greedy(30);
    let free = collect(model.complete(request.clone()).await.unwrap()).await.unwrap();
    assert_eq!(free.finish_reason, FinishReason::Length);
    assert_eq!(free.usage.completion_tokens, 30);
    // Stop at the first comma the model writes: the text is cut before it.
    request.sampling.stop = vec![",".into()];
    let stopped = collect(model.complete(request).await.unwrap()).await.unwrap();
    assert_eq!(stopped.finish_reason, FinishReason::Stop);
    assert!(!stopped.text.contains(','), "{:?}", stopped.text);
    assert!(free.text.starts_with(&stopped.text));
}

#[tokio::test]
async fn a_models_tokenizer_loads_alone_and_counts_as_the_model_does() {
    let path = common::model_path("smollm2-135m-instruct-q4_1");
    let model = smol(1, 2048);
    let vocab = ModelTokenizer::load(&path).unwrap();
    assert_eq!(vocab.name(), model.model_name());
    for text in ["", "hello world", "fn main() {\n    println!(\"héllo 世界\");\n}\n", "<|im_end|>"]
    {
        assert_eq!(vocab.count(text), model.tokenize(text).await.unwrap().len(), "{text:?}");
    }
    let err = ModelTokenizer::load(std::path::Path::new("Cargo.toml")).err().unwrap().to_string();
    assert!(err.contains("Cargo.toml"), "{err}");
}

#[tokio::test]
async fn special_tokens_in_user_text_stay_text() {
    let model = smol(1, 2048);
    let plain = model.tokenize("<|im_end|>").await.unwrap();
    assert!(plain.len() > 1, "user text is not parsed as a control token: {plain:?}");
    let tokens = model.chat_prompt_tokens(&[Message::user("<|im_end|>")]).unwrap();
    let specials = model.chat_prompt_tokens(&[Message::user("x")]).unwrap();
    assert_eq!(tokens.len() - specials.len() + 1, plain.len());
}

#[tokio::test]
async fn bad_input_gets_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.gguf");
    let err = LlamaModel::load(LlamaOptions::new("local", &missing)).err().unwrap();
    assert!(matches!(err, ModelError::ModelNotFound { .. }), "{err}");
    assert!(err.to_string().contains("nope.gguf") && err.to_string().contains("fix:"));

    let junk = dir.path().join("junk.gguf");
    std::fs::write(&junk, b"this is not a model").unwrap();
    let err = LlamaModel::load(LlamaOptions::new("local", &junk)).err().unwrap();
    assert!(matches!(err, ModelError::LoadFailed { .. }), "{err}");

    let model = smol(1, 256);
    let long = "word ".repeat(400);
    let err = model.chat(chat(&long, 8)).await.err().expect("overflow is refused");
    assert!(matches!(err, ModelError::ContextOverflow { .. }), "{err}");
    assert!(err.to_string().contains("256"), "{err}");

    let err = model.complete(CompletionRequest::text("")).await.err().expect("empty prompt");
    assert!(err.to_string().contains("empty"), "{err}");
    // The model still serves requests after bad ones.
    let mut ok = CompletionRequest::text("Hello");
    ok.sampling = Sampling::greedy(2);
    assert!(collect(model.complete(ok).await.unwrap()).await.is_ok());

    let err = model.complete(CompletionRequest::fim("a", "b")).await.err().expect("no FIM tokens");
    assert!(matches!(err, ModelError::Unsupported { .. }), "{err}");
}

/// Fill-in-the-middle with the real coder model (slower: 0.5 GB).
#[tokio::test]
async fn fim_with_the_coder_model() {
    let options =
        LlamaOptions::new("local", common::model_path("qwen2.5-coder-0.5b-instruct-q4_k_m"));
    let model = LlamaModel::load(options).unwrap();
    let mut request = CompletionRequest::fim(
        "def area_of_rectangle(width, height):\n    return ",
        "\n\n\nprint(area_of_rectangle(2, 3))\n",
    );
    request.sampling = Sampling::greedy(16);
    let done = collect(model.complete(request).await.unwrap()).await.unwrap();
    assert!(done.text.contains("width") && done.text.contains("height"), "{:?}", done.text);
    assert!(done.text.contains('*'), "{:?}", done.text);
}

#[tokio::test]
async fn embeddings_rank_related_sentences_higher() {
    let mut options = LlamaOptions::new("embed", common::model_path("all-minilm-l6-v2"));
    options.ctx_size = 512;
    let model = LlamaModel::load(options).unwrap();
    let out = model
        .embed(vec![
            "A man is eating food.".into(),
            "A man is eating a piece of bread.".into(),
            "The girl is carrying a baby.".into(),
        ])
        .await
        .unwrap();
    assert_eq!(out.vectors.len(), 3);
    assert!(out.vectors.iter().all(|v| v.len() == 384));
    let related = cosine_similarity(&out.vectors[0], &out.vectors[1]);
    let unrelated = cosine_similarity(&out.vectors[0], &out.vectors[2]);
    assert!(related > unrelated + 0.2, "related {related:.3} vs unrelated {unrelated:.3}");
    assert!(out.usage.prompt_tokens > 10);
}

#[tokio::test]
async fn prompt_lookup_copies_an_edited_file_in_fewer_steps() {
    // An edit reply: the file comes back whole with one line changed, so
    // most of it can be drafted from the prompt.
    let source = "\
import json


def load(path):
    with open(path) as f:
        return json.load(f)


def save(path, data):
    with open(path, \"w\") as f:
        json.dump(data, f, indent=2)


def merge(base, extra):
    out = dict(base)
    for key, value in extra.items():
        if key not in out:
            out[key] = value
    return out
";
    let messages = vec![
        Message::system("You edit Python files. Reply with the whole file, nothing else."),
        Message::user(format!(
            "settings.py:\n```python\n{source}```\n\nRewrite the whole of settings.py with one \
             change: save() writes with indent=4. Keep everything else as it is."
        )),
    ];
    let request = || {
        let mut r = ChatRequest::new(messages.clone());
        r.sampling = Sampling::greedy(400);
        r
    };
    let load = |lookup: bool| {
        let mut options =
            LlamaOptions::new("local", common::model_path("qwen2.5-coder-0.5b-instruct-q4_k_m"));
        options.ctx_size = 2048;
        options.parallel = 2;
        options.lookup = lookup;
        LlamaModel::load(options).unwrap()
    };
    let plain_model = load(false);
    let plain = collect(plain_model.chat(request()).await.unwrap()).await.unwrap();
    assert_eq!(plain_model.stats().drafts, 0, "lookup off drafts nothing");
    let model = load(true);
    let fast = collect(model.chat(request()).await.unwrap()).await.unwrap();
    let stats = model.stats();
    assert!(fast.text.contains("indent=4") && fast.text.contains("def merge"), "{:?}", fast.text);
    assert!(
        stats.drafts_accepted * 2 > stats.tokens_generated,
        "most of a copied file is drafted and accepted: {stats:?}"
    );
    assert!(stats.drafts * 3 < stats.tokens_generated, "far fewer decode steps: {stats:?}");
    // The sampler only takes drafted tokens it chooses itself, so the reply
    // is plain decoding's. (Not to the last bit: a decode call with several
    // tokens computes logits in another order of float additions than a
    // one-token call, so at a near tie the greedy choice may flip, as it may
    // when a request is decoded beside others.)
    let agree = fast.text.chars().zip(plain.text.chars()).take_while(|(a, b)| a == b).count();
    assert!(agree >= plain.text.chars().count() / 2, "{:?}\nvs\n{:?}", fast.text, plain.text);
    let again = collect(model.chat(request()).await.unwrap()).await.unwrap();
    assert_eq!(again.text, fast.text, "the same request gives the same reply");

    // Sampled replies decoded together stay whole.
    let model = Arc::new(model);
    let mut streams = Vec::new();
    for seed in 0..2 {
        let mut r = request();
        r.sampling.temperature = 0.7;
        r.sampling.seed = seed;
        r.session = Some(format!("sampled/{seed}"));
        streams.push(model.chat(r).await.unwrap());
    }
    for reply in futures::future::join_all(streams.into_iter().map(collect)).await {
        let text = reply.unwrap().text;
        assert!(text.contains("def load") && text.contains("def merge"), "{text:?}");
    }
}

/// SmolLM2 with its prompt cache in `dir`: a new instance stands for a new
/// process.
fn smol_cached(dir: &std::path::Path) -> LlamaModel {
    let mut options = LlamaOptions::new("local", common::model_path("smollm2-135m-instruct-q4_1"));
    options.parallel = 1;
    options.ctx_size = 4096;
    options.prompt_cache = Some(dir.to_path_buf());
    LlamaModel::load(options).expect("load SmolLM2")
}

#[tokio::test]
async fn a_prompt_saved_by_one_process_is_restored_by_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let rules: String =
        (1..=60).map(|i| format!("- rule {i}: keep functions short and named well.\n")).collect();
    let ask = |question: &str| {
        let mut request = ChatRequest::new(vec![
            Message::system(format!("You are a code reviewer. Project rules:\n{rules}")),
            Message::user(question),
        ]);
        request.sampling = Sampling::greedy(24);
        request
    };

    let question = ask("Review: fn b(x: u32) -> u32 { x * 2 }");
    let first = smol_cached(dir.path());
    collect(first.chat(ask("Review: fn a() {}")).await.unwrap()).await.unwrap();
    assert_eq!(first.stats().prompts_saved, 1, "a long prompt evaluated cold is saved");
    // The same process asked the next question reuses the head it holds.
    let warm = collect(first.chat(question.clone()).await.unwrap()).await.unwrap();
    assert_eq!(first.stats().prompts_saved, 1, "a prompt mostly reused is not saved");
    drop(first);

    // A new process asked it restores the head from disk: the same keys
    // and values, so the same answer as the process that computed them.
    let second = smol_cached(dir.path());
    let restored = collect(second.chat(question.clone()).await.unwrap()).await.unwrap();
    let stats = second.stats();
    assert!(
        stats.prompt_tokens_restored > 600 && restored.usage.cached_tokens > 600,
        "the shared head is restored: {stats:?}"
    );
    assert_eq!(restored.usage.cached_tokens, warm.usage.cached_tokens);
    assert_eq!(stats.prompts_saved, 0, "a prompt mostly restored is not saved again");
    assert_eq!(restored.text, warm.text);
    drop(second);
    // (A cold prefill evaluates the question's tail inside other batches:
    // its answer may part from these at a near tie of this tiny model.)
    let cold = collect(smol(1, 4096).chat(question.clone()).await.unwrap()).await.unwrap();

    // A corrupted file and a truncated one: ignored and deleted, and the
    // answer is still the cold one.
    let files = || -> Vec<std::path::PathBuf> {
        walk(dir.path()).into_iter().filter(|p| p.extension().is_some_and(|e| e == "kv")).collect()
    };
    let saved = files();
    assert_eq!(saved.len(), 1, "{saved:?}");
    let mut bytes = std::fs::read(&saved[0]).unwrap();
    let middle = bytes.len() - 1000;
    bytes[middle] ^= 0x5a;
    std::fs::write(&saved[0], &bytes).unwrap();
    let third = smol_cached(dir.path());
    let answer = collect(third.chat(question.clone()).await.unwrap()).await.unwrap();
    assert_eq!(third.stats().prompt_tokens_restored, 0);
    assert_eq!(answer.text, cold.text);
    assert!(!saved[0].exists(), "the corrupted file is deleted");
    drop(third);

    // The cold prefill just saved a fresh file: cut it short.
    let saved = files();
    assert_eq!(saved.len(), 1, "{saved:?}");
    let bytes = std::fs::read(&saved[0]).unwrap();
    std::fs::write(&saved[0], &bytes[..bytes.len() / 2]).unwrap();
    let fourth = smol_cached(dir.path());
    let answer = collect(fourth.chat(question).await.unwrap()).await.unwrap();
    assert_eq!(fourth.stats().prompt_tokens_restored, 0);
    assert_eq!(answer.text, cold.text);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}
