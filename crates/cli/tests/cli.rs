//! Black-box tests of the `suit` binary with the real small model
//! (SmolLM2-135M: its answers are nonsense, but real and deterministic).

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{text, Home};

const SMOL: &str = "smollm2-135m-instruct-q4_1";

fn stdout(o: &Output) -> String {
    text(&o.stdout)
}

fn stderr(o: &Output) -> String {
    text(&o.stderr)
}

fn json_lines(o: &Output) -> Vec<serde_json::Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[test]
fn ask_streams_an_answer_and_reports_usage_as_json() {
    let home = Home::new();
    let plain = home.suit(&["ask", "--model", SMOL, "--max-tokens", "12", "Say hello."], "");
    assert!(plain.status.success(), "{}", stderr(&plain));
    assert!(!stdout(&plain).trim().is_empty());

    let json =
        home.suit(&["ask", "--model", SMOL, "--max-tokens", "12", "--json", "Say hello."], "");
    assert!(json.status.success(), "{}", stderr(&json));
    let out = &json_lines(&json)[0];
    assert_eq!(out["text"].as_str().unwrap().trim(), stdout(&plain).trim(), "greedy is repeatable");
    assert_eq!(out["backend"], "local");
    let generated = out["usage"]["completion_tokens"].as_u64().unwrap();
    assert!(generated > 0 && generated <= 12);
    assert_eq!(out["session"]["total"]["calls"], 1);
}

#[test]
fn piped_stdin_is_added_to_the_question() {
    let home = Home::new();
    let args = ["ask", "--model", SMOL, "--max-tokens", "4", "--json", "Summarize:"];
    let bare = home.suit(&args, "");
    let piped = home.suit(&args, &"fn main() { println!(\"hi\"); }\n".repeat(10));
    let tokens = |o: &Output| json_lines(o)[0]["usage"]["prompt_tokens"].as_u64().unwrap();
    assert!(tokens(&piped) > tokens(&bare) + 50, "{} vs {}", tokens(&piped), tokens(&bare));
}

#[test]
fn chat_keeps_history_and_reuses_the_cache() {
    let home = Home::new();
    let out = home.suit(
        &["chat", "--model", SMOL, "--max-tokens", "8", "--json"],
        "What is Rust?\n/usage\nAnd what is Cargo?\n/exit\nnot read\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let turns = json_lines(&out);
    assert_eq!(turns.len(), 2);
    let first = &turns[0]["usage"];
    let second = &turns[1]["usage"];
    assert!(
        second["prompt_tokens"].as_u64() > first["prompt_tokens"].as_u64(),
        "turn 2 carries turn 1"
    );
    assert!(
        second["cached_tokens"].as_u64().unwrap() >= first["prompt_tokens"].as_u64().unwrap(),
        "turn 2 reuses turn 1's evaluated prefix: {second}"
    );
    assert!(stderr(&out).contains("\"calls\": 1"), "/usage prints the meter: {}", stderr(&out));
}

#[test]
fn an_unreachable_backend_fails_over_to_the_embedded_model() {
    let home = Home::new();
    home.write(
        "suit.toml",
        &format!(
            r#"
[backends.remote]
kind = "openai"
base_url = "http://127.0.0.1:9/v1"
model = "gpt-x"
[backends.local]
model = "{SMOL}"
[roles]
chat = ["remote", "local"]
[retry]
max_retries = 0
"#
        ),
    );
    let out = home.suit(&["ask", "--max-tokens", "6", "--json", "hi"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    let result = &json_lines(&out)[0];
    assert_eq!(result["backend"], "local");
    assert_eq!(result["session"]["backends"]["remote"]["failures"], 1, "{result}");

    // Alone, the unreachable backend is named with the fix.
    let out = home.suit(&["ask", "--backend", "remote", "hi"], "");
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("cannot reach backend remote") && err.contains("fix:"), "{err}");
}

#[test]
fn budgets_refuse_further_calls() {
    let home = Home::new();
    home.write("suit.toml", "[budget]\nmax_calls = 1\n");
    let out = home.suit(&["chat", "--model", SMOL, "--max-tokens", "4", "--json"], "one\ntwo\n");
    assert!(!out.status.success());
    assert_eq!(json_lines(&out).len(), 1, "the first call is served");
    assert!(stderr(&out).contains("budget exhausted"), "{}", stderr(&out));
}

#[test]
fn bad_config_is_reported_with_the_file() {
    let home = Home::new();
    home.write("suit.toml", "[roles\nchat = [\"local\"]\n");
    let out = home.suit(&["ask", "hi"], "");
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("suit.toml") && err.contains("invalid config"), "{err}");

    home.write("suit.toml", "[roles]\nchat = [\"nowhere\"]\n");
    let out = home.suit(&["ask", "hi"], "");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("nowhere"), "{}", stderr(&out));
}

#[test]
fn missing_and_corrupt_models_are_explained() {
    let home = Home::new();
    let out = home.suit(&["ask", "--model", "/nonexistent/model.gguf", "hi"], "");
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("/nonexistent/model.gguf") && err.contains("fix:"), "{err}");

    let out = home.suit(&["ask", "--model", "no-such-model", "hi"], "");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("suit models list"), "{}", stderr(&out));

    // A private cache with a corrupted copy of the small model.
    let dir = tempfile::tempdir().unwrap();
    let models = dir.path().join("models");
    std::fs::create_dir_all(&models).unwrap();
    let good = home.suit(&["models", "path", SMOL], "");
    assert!(good.status.success(), "{}", stderr(&good));
    let mut bytes = std::fs::read(stdout(&good).trim()).unwrap();
    let name = Path::new(stdout(&good).trim()).file_name().unwrap().to_owned();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(models.join(&name), &bytes).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_suit"))
        .args(["ask", "--model", SMOL, "hi"])
        .env("SUIT_HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("sha256") || err.contains("checksum"), "{err}");
    assert!(err.contains(SMOL), "{err}");
}

#[test]
fn a_prompt_longer_than_the_context_is_refused_clearly() {
    let home = Home::new();
    home.write("suit.toml", &format!("[backends.local]\nmodel = \"{SMOL}\"\nctx_size = 128\n"));
    let out = home.suit(&["ask", "hi"], &"many words here ".repeat(100));
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("context window") && err.contains("128"), "{err}");
}

#[test]
fn models_list_shows_the_catalog() {
    let home = Home::new();
    let out = home.suit(&["models", "list", "--json"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    let rows: Vec<serde_json::Value> = serde_json::from_str(&stdout(&out)).unwrap();
    let default = rows.iter().find(|r| r["default"] == true).unwrap();
    assert_eq!(default["name"], "qwen2.5-coder-1.5b-instruct-q4_k_m");
    assert!(rows.iter().any(|r| r["name"] == "all-minilm-l6-v2"));
    let smol = rows.iter().find(|r| r["name"] == SMOL).unwrap();
    assert_eq!(smol["installed"], true);
}

#[test]
fn models_bench_measures_the_model_and_restores_a_saved_prompt() {
    let home = Home::new();
    let out = home.suit(&["models", "bench", SMOL, "--threads", "2", "--json"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    let r: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let number = |v: &serde_json::Value| v.as_f64().unwrap_or(0.0);
    assert!((500..=512).contains(&r["prompt_tokens"].as_u64().unwrap()), "{r}");
    assert!(number(&r["prompt_tokens_per_s"]) > 0.0 && number(&r["generation_tokens_per_s"]) > 0.0);
    assert!(r["generated_tokens"].as_u64().unwrap() > 16, "{r}");
    assert!(r["edit"]["tokens"].as_u64().unwrap() > 0, "{r}");
    // The second engine found the first one's prompt on disk.
    assert!(r["restored_tokens"].as_u64().unwrap() >= 500, "{r}");
}

#[test]
fn ingest_writes_into_a_pipe_and_atomically_into_a_file() {
    use std::os::unix::fs::FileTypeExt;
    let home = Home::with_files(&[("a.txt", "hello\n")]);
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("digest.pipe");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let out = home.suit(&["ingest", ".", "-o", fifo.to_str().unwrap()], "");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(reader.join().unwrap().contains("FILE: a.txt"));
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo(), "the pipe is not replaced");

    let file = dir.path().join("digest.txt");
    let out = home.suit(&["ingest", ".", "-o", file.to_str().unwrap()], "");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(std::fs::read_to_string(&file).unwrap().contains("hello"));
    let names: Vec<_> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 2, "no temporary file is left: {names:?}");
}

#[test]
fn ingest_names_the_largest_files_on_stderr() {
    let files: Vec<(String, String)> =
        (1..=7).map(|i| (format!("f{i}.txt"), "word ".repeat(i * 10))).collect();
    let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
    let home = Home::with_files(&files);
    let out = home.suit(&["ingest", "."], "");
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    let listed: Vec<&str> = err
        .lines()
        .skip_while(|l| *l != "largest files:")
        .skip(1)
        .filter_map(|l| l.split_whitespace().last())
        .collect();
    assert_eq!(listed, ["f7.txt", "f6.txt", "f5.txt", "f4.txt", "f3.txt"], "{err}");
}

#[test]
fn ingest_counts_with_a_local_models_tokenizer() {
    let code = "fn main() {\n    println!(\"héllo, wörld\");\n}\n";
    let config = format!("[backends.local]\nmodel = \"{SMOL}\"\n");
    let home = Home::with_files(&[("main.rs", code), ("suit.toml", &config)]);
    let path = home.suit(&["models", "path", SMOL], "");
    assert!(path.status.success(), "{}", stderr(&path));
    let vocab = suit_model::llama::ModelTokenizer::load(Path::new(stdout(&path).trim())).unwrap();
    let expected = vocab.count(code);
    assert_ne!(
        expected,
        suit_ingest::TokenizerKind::O200k.count(code),
        "the test tells them apart"
    );
    let model_spec = format!("model:{SMOL}");
    for spec in ["model", model_spec.as_str()] {
        let out = home.suit(&["ingest", ".", "--tokenizer", spec], "");
        assert!(out.status.success(), "{spec}: {}", stderr(&out));
        let digest = stdout(&out);
        assert!(digest.contains(&format!("FILE: main.rs ({expected} tokens)")), "{digest}");
        assert!(digest.contains(&format!("({})", vocab.name())), "{digest}");
    }

    let out = home.suit(&["ingest", ".", "--tokenizer", "gpt2"], "");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("unknown tokenizer") && stderr(&out).contains("o200k"));
    let out = home.suit(&["ingest", ".", "--tokenizer", "model:/nonexistent/m.gguf"], "");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("/nonexistent/m.gguf"), "{}", stderr(&out));
}
