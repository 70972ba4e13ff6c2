//! The grammars drive real decoding: SmolLM2-135M (whose answers are
//! nonsense) sampled at temperature 1.0 under each grammar must still produce
//! replies that the parser accepts.

use std::path::{Path, PathBuf};

use suit_edit::{grammar, parse, prompts, EditFormat, Target};
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
    catalog.resolve(name, &mut |_| {}).unwrap_or_else(|e| panic!("cannot get model {name}: {e}")).path
}

const FILE: &str = "def add(a, b):\n    return a - b\n";

#[tokio::test]
async fn smollm2_under_each_grammar_writes_parseable_replies() {
    let mut options = LlamaOptions::new("local", model_path("smollm2-135m-instruct-q4_1"));
    options.ctx_size = 4096;
    let model = LlamaModel::load(options).expect("load SmolLM2");
    let cases = [
        (EditFormat::SearchReplace, vec![Target::file("src/calc.py"), Target::file("tests/test_calc.py")]),
        (EditFormat::WholeFile, vec![Target::file("src/calc.py")]),
        (EditFormat::Region, vec![Target::region("src/calc.py", 2, 2)]),
    ];
    let mut finished = 0;
    for (format, targets) in &cases {
        let paths: Vec<&str> = targets.iter().map(|t| t.path.as_str()).collect();
        let grammar = grammar(*format, &paths);
        for seed in 1..=3 {
            let mut request = ChatRequest::new(vec![
                Message::system(prompts::render(*format, &targets[0])),
                Message::user(format!("src/calc.py:\n```\n{FILE}```\nFix the bug in add.")),
            ]);
            request.sampling = Sampling { temperature: 1.0, seed, max_tokens: 160, ..Sampling::default() };
            request.constraint = Some(Constraint::Grammar(grammar.clone()));
            let done = collect(model.chat(request).await.unwrap()).await.unwrap();
            // A reply cut by max_tokens is unfinished by definition; a
            // finished one must always parse.
            if done.finish_reason == FinishReason::Length {
                continue;
            }
            finished += 1;
            let edits = parse(*format, &done.text, targets)
                .unwrap_or_else(|e| panic!("{format:?} seed {seed}: {e}\n--- reply ---\n{}", done.text));
            assert!(!edits.is_empty());
            assert!(edits.iter().all(|e| paths.contains(&e.path.as_str())), "{edits:?}");
        }
    }
    assert!(finished >= 6, "only {finished} of 9 replies finished within max_tokens");
}
