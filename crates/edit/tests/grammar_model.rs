//! The grammars drive real decoding: SmolLM2-135M (whose answers are
//! nonsense) sampled at temperature 1.0 under each grammar must still produce
//! replies that the parser accepts.

use std::path::{Path, PathBuf};

use suit_edit::{grammar_limited, parse, prompts, EditFormat, Target};
use suit_model::catalog::Catalog;
use suit_model::llama::{LlamaModel, LlamaOptions};
use suit_model::{collect, ChatRequest, Constraint, FinishReason, Message, Model, Sampling};

/// The shared cache of real models: `SUIT_TEST_MODELS`, else
/// `<workspace>/target/test-models`.
fn model_path(name: &str) -> PathBuf {
    let shared = std::env::var_os("SUIT_TEST_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-models"));
    let catalog = Catalog::builtin().expect("built-in catalog").in_dir(shared);
    catalog
        .resolve(name, &mut |_| {})
        .unwrap_or_else(|e| panic!("cannot get model {name}: {e}"))
        .path
}

const FILE: &str = "def add(a, b):\n    return a - b\n";

#[tokio::test]
async fn smollm2_under_each_grammar_writes_parseable_replies() {
    let mut options = LlamaOptions::new("local", model_path("smollm2-135m-instruct-q4_1"));
    options.ctx_size = 4096;
    let model = LlamaModel::load(options).expect("load SmolLM2");
    let cases = [
        (
            EditFormat::SearchReplace,
            vec![Target::file("src/calc.py"), Target::file("tests/test_calc.py")],
        ),
        (EditFormat::WholeFile, vec![Target::file("src/calc.py")]),
        (EditFormat::Region, vec![Target::region("src/calc.py", 2, 2)]),
    ];
    let mut finished = 0;
    let mut failures = Vec::new();
    for (format, targets) in &cases {
        let paths: Vec<&str> = targets.iter().map(|t| t.path.as_str()).collect();
        let grammar = grammar_limited(*format, &paths, 2, 1);
        for seed in 1..=2 {
            let mut request = ChatRequest::new(vec![
                Message::system(prompts::render(*format, &targets[0])),
                Message::user(format!("src/calc.py:\n```\n{FILE}```\nFix the bug in add.")),
            ]);
            request.sampling =
                Sampling { temperature: 1.0, seed, max_tokens: 128, ..Sampling::default() };
            request.constraint = Some(Constraint::Grammar(grammar.clone()));
            let done = match model.chat(request).await {
                Ok(stream) => collect(stream).await,
                Err(e) => Err(e),
            };
            let done = match done {
                Ok(done) => done,
                Err(e) => {
                    failures
                        .push(format!("{format:?} seed {seed}: the model failed: {e}\n{grammar}"));
                    continue;
                }
            };
            // A reply cut by max_tokens is unfinished by definition; a
            // finished one must always parse.
            eprintln!("{format:?} seed {seed} ({:?}):\n{}\n---", done.finish_reason, done.text);
            if done.finish_reason == FinishReason::Length {
                continue;
            }
            finished += 1;
            match parse(*format, &done.text, targets) {
                Ok(edits) if edits.iter().all(|e| paths.contains(&e.path.as_str())) => {}
                Ok(edits) => failures
                    .push(format!("{format:?} seed {seed}: paths outside the set: {edits:?}")),
                Err(e) => failures
                    .push(format!("{format:?} seed {seed}: {e}\n--- reply ---\n{}", done.text)),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(finished >= 3, "only {finished} of 6 replies finished within max_tokens");
}
