//! Agent sessions over HTTP (`/v1/sessions`) on a real server on loopback,
//! a real repository in a temporary directory and its SQLite journal. The
//! model is scripted (it answers each request with the next whole-file
//! edit of its script) where a test is about the session's control flow;
//! the last test runs the real test model behind the review page.

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::{json, Value};
use suit_model::{
    ChatRequest, Completion, CompletionRequest, Embeddings, FinishReason, Model, ModelError,
    StreamEvent, TextStream, Usage,
};
use suit_server::{ServedModels, ServerConfig, SessionSettings, Sessions};

/// Answers each chat with the next reply of its script, whole.
struct ScriptedModel(Mutex<Vec<String>>);

#[async_trait]
impl Model for ScriptedModel {
    fn name(&self) -> &str {
        "scripted"
    }

    async fn chat(&self, _: ChatRequest) -> Result<TextStream, ModelError> {
        let mut script = self.0.lock().unwrap();
        let text = if script.is_empty() { "DONE".to_string() } else { script.remove(0) };
        let done = Completion {
            text,
            finish_reason: FinishReason::Stop,
            usage: Usage { prompt_tokens: 50, cached_tokens: 0, completion_tokens: 20 },
            model: "scripted".into(),
            backend: "scripted".into(),
        };
        Ok(Box::pin(futures::stream::iter([Ok(StreamEvent::Done(done))])))
    }

    async fn complete(&self, _: CompletionRequest) -> Result<TextStream, ModelError> {
        Err(ModelError::Unsupported { backend: "scripted".into(), operation: "complete".into() })
    }

    async fn embed(&self, _: Vec<String>) -> Result<Embeddings, ModelError> {
        Err(ModelError::Unsupported { backend: "scripted".into(), operation: "embed".into() })
    }

    async fn tokenize(&self, text: &str) -> Result<Vec<u32>, ModelError> {
        Ok(text.split_whitespace().map(|_| 0).collect())
    }
}

/// Two bugs far enough apart to be two hunks.
const BUGGY: &str = "def add(a, b):\n    return a - b\n\n\nA = 1\nB = 2\nC = 3\nD = 4\nE = 5\nF = 6\nG = 7\n\n\ndef mul(a, b):\n    return a + b\n";
const FIXED: &str = "def add(a, b):\n    return a + b\n\n\nA = 1\nB = 2\nC = 3\nD = 4\nE = 5\nF = 6\nG = 7\n\n\ndef mul(a, b):\n    return a * b\n";

struct Setup {
    root: tempfile::TempDir,
    server: common::Running,
    client: reqwest::Client,
}

impl Setup {
    /// A server whose sessions may change the repositories under a fresh
    /// root, with a `calc` repository in it; the model answers `replies`.
    async fn new(replies: &[&str]) -> Self {
        let model: Arc<dyn Model> =
            Arc::new(ScriptedModel(Mutex::new(replies.iter().map(|r| r.to_string()).collect())));
        let mut template = suit_agent::RunConfig::for_model("scripted", 8192, true, 1024);
        template.constrain = false;
        Self::with_model(model, "scripted", template).await
    }

    /// The same on `model`, with runs set up as `template`.
    async fn with_model(
        model: Arc<dyn Model>,
        name: &str,
        template: suit_agent::RunConfig,
    ) -> Self {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("calc")).unwrap();
        std::fs::write(root.path().join("calc/calc.py"), BUGGY).unwrap();
        let sessions = Sessions::new(SessionSettings {
            roots: vec![root.path().to_path_buf()],
            model: model.clone(),
            template,
        })
        .unwrap();
        let config = ServerConfig { sessions: Some(Arc::new(sessions)), ..Default::default() };
        let models = ServedModels::one(suit_server::Served::new(model, name));
        let server = common::spawn_server(models, config).await;
        Self { root, server, client: reqwest::Client::new() }
    }

    fn repo(&self) -> String {
        self.root.path().join("calc").display().to_string()
    }

    fn read(&self) -> String {
        std::fs::read_to_string(self.root.path().join("calc/calc.py")).unwrap()
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let url = format!("{}{path}", self.server.base);
        let response = self.client.post(url).json(&body).send().await.unwrap();
        (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> Value {
        let url = format!("{}{path}", self.server.base);
        self.client.get(url).send().await.unwrap().json().await.unwrap()
    }

    /// Starts a session on `calc/calc.py` at `file`, one step at most.
    async fn start(&self) -> String {
        let (status, view) = self
            .post(
                "/v1/sessions",
                json!({"task": "add subtracts and mul adds: fix both", "repo": self.repo(),
                       "files": ["calc.py"], "max_steps": 1}),
            )
            .await;
        assert_eq!(status, 201, "{view}");
        view["id"].as_str().unwrap().to_string()
    }

    /// The session once its `state` is `state` (within 20 s).
    async fn wait_for(&self, id: &str, state: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let view = self.get(&format!("/v1/sessions/{id}")).await;
            if view["state"] == state {
                return view;
            }
            assert!(Instant::now() < deadline, "never `{state}`: {view}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Runs the browser script `tests/clients/NAME` (Selenium, with the
    /// Python of `SUIT_TEST_PYTHON`) against this server and repository,
    /// with `env` added; checks that it passed and returns its stdout. Its
    /// screenshot goes to `target/test-artifacts/SCREENSHOT`.
    async fn browse(&self, name: &str, screenshot: &str, env: &[(&str, &str)]) -> String {
        let python = std::env::var_os("SUIT_TEST_PYTHON").unwrap_or_else(|| {
            panic!(
                "SUIT_TEST_PYTHON is not set: this test drives Chromium with Selenium.\n  fix: \
                 run scripts/test.sh (it installs chromium and chromium-driver, and makes \
                 target/test-venv with the pinned `selenium`), or set SUIT_TEST_PYTHON to a \
                 Python that has `selenium` and `axe-core-python`"
            )
        });
        let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-artifacts");
        std::fs::create_dir_all(&artifacts).unwrap();
        let screenshot = artifacts.join(screenshot);
        let _ = std::fs::remove_file(&screenshot);
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients").join(name);
        let run = tokio::process::Command::new(python)
            .arg(&script)
            .env("SUIT_BASE_URL", &self.server.base)
            .env("SUIT_REPO", self.repo())
            .env("SUIT_FILE", "calc.py")
            .env("SUIT_BEFORE", BUGGY)
            .env("SUIT_SCREENSHOT", &screenshot)
            .envs(env.iter().copied())
            .kill_on_drop(true)
            .output();
        // The real model decodes on the test machine's cores: minutes at worst.
        let output = tokio::time::timeout(Duration::from_secs(900), run)
            .await
            .expect("the browser test ended within 900 s")
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success() && stdout.contains("all review page checks passed"),
            "{}\n{stdout}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        let png = std::fs::read(&screenshot).unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a screenshot was saved");
        stdout
    }

    /// The event stream, from after `last` when given, as (id, event).
    async fn events(&self, id: &str, last: Option<usize>) -> Vec<(usize, Value)> {
        let mut request = self.client.get(format!("{}/v1/sessions/{id}/events", self.server.base));
        if let Some(last) = last {
            request = request.header("Last-Event-ID", last.to_string());
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        let text = response.text().await.unwrap();
        text.split("\n\n")
            .filter(|block| block.starts_with("id: "))
            .map(|block| {
                let (id, data) = block.split_once('\n').unwrap();
                let id = id["id: ".len()..].parse().unwrap();
                (id, serde_json::from_str(&data["data: ".len()..]).unwrap())
            })
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_person_accepts_one_hunk_rejects_another_and_undoes_the_step_over_http() {
    let s = Setup::new(&[&format!("calc.py\n```python\n{FIXED}```\n")]).await;
    let id = s.start().await;
    let view = s.wait_for(&id, "review").await;
    // Proposed, shown, and not written.
    assert_eq!(s.read(), BUGGY);
    let hunks = view["review"]["files"][0]["hunks"].as_array().unwrap().clone();
    assert_eq!(hunks.len(), 2, "{view}");
    assert!(hunks[0]["text"].as_str().unwrap().contains("+    return a + b"));
    let (first, second) = (hunks[0]["id"].as_str().unwrap(), hunks[1]["id"].as_str().unwrap());

    let review = format!("/v1/sessions/{id}/review");
    let (status, view) =
        s.post(&review, json!({"hunks": [{"id": first, "verdict": "accept"}]})).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["state"], "review", "one hunk is still undecided");
    assert_eq!(view["review"]["files"][0]["hunks"][0]["verdict"], "accept");
    assert_eq!(s.read(), BUGGY);
    // The same hunk twice, a hunk that does not exist: refused, nothing written.
    let (status, body) =
        s.post(&review, json!({"hunks": [{"id": first, "verdict": "reject"}]})).await;
    assert_eq!(status, 409, "{body}");
    let (status, body) =
        s.post(&review, json!({"hunks": [{"id": "9-9-9", "verdict": "accept"}]})).await;
    assert_eq!(status, 404, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("9-9-9"), "{body}");

    let (status, _) =
        s.post(&review, json!({"hunks": [{"id": second, "verdict": "reject"}]})).await;
    assert_eq!(status, 200);
    let view = s.wait_for(&id, "finished").await;
    assert_eq!(view["outcome"], "done", "{view}");
    assert_eq!(s.read(), BUGGY.replace("a - b", "a + b"), "only the accepted hunk");

    // The stream holds the whole run, valid under the published schema.
    let events = s.events(&id, None).await;
    let ids: Vec<usize> = events.iter().map(|(i, _)| *i).collect();
    assert_eq!(ids, (0..events.len()).collect::<Vec<_>>());
    let published = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/events.schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(published).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for (_, event) in &events {
        assert!(validator.is_valid(event), "{event}");
    }
    let approval = events.iter().find(|(_, e)| e["event"] == "approval").unwrap();
    assert_eq!(approval.1["decision"], json!({"decision": "partial", "hunks": [0]}));
    assert_eq!(approval.1["by"], "person");
    assert_eq!(events.last().unwrap().1["event"], "finished");
    // A client that reconnects misses nothing and sees nothing twice.
    let rest = s.events(&id, Some(3)).await;
    assert_eq!(rest, events[4..].to_vec());

    // The session is over: decisions are refused; undo restores the bytes.
    let (status, _) =
        s.post(&review, json!({"hunks": [{"id": second, "verdict": "accept"}]})).await;
    assert_eq!(status, 409);
    let (status, undone) = s.post(&format!("/v1/sessions/{id}/undo"), json!({})).await;
    assert_eq!(status, 200, "{undone}");
    assert_eq!(undone["checkpoints"].as_array().unwrap().len(), 1);
    assert_eq!(s.read(), BUGGY);
    let (status, body) = s.post(&format!("/v1/sessions/{id}/undo"), json!({})).await;
    assert_eq!(status, 400, "nothing left to undo: {body}");
}

/// A step a session wrote is in the repository's journal, the one `suit
/// log` lists and `suit undo` reverts (opened here as the CLI opens it).
#[tokio::test(flavor = "multi_thread")]
async fn a_session_step_is_in_the_journal_of_suit_log_and_suit_undo() {
    let s = Setup::new(&[&format!("calc.py\n```python\n{FIXED}```\n")]).await;
    let id = s.start().await;
    let view = s.wait_for(&id, "review").await;
    let hunks: Vec<Value> = view["review"]["files"][0]["hunks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| json!({"id": h["id"], "verdict": "accept"}))
        .collect();
    let (status, _) = s.post(&format!("/v1/sessions/{id}/review"), json!({"hunks": hunks})).await;
    assert_eq!(status, 200);
    s.wait_for(&id, "finished").await;
    assert_eq!(s.read(), FIXED);

    let repo = s.root.path().join("calc");
    let store =
        suit_store::SqliteStore::open(&suit_store::SqliteStore::default_path(&repo)).unwrap();
    let ws = suit_store::Workspace::open(&repo, Arc::new(store)).unwrap();
    let log = ws.log(Some(10)).unwrap();
    assert_eq!(log.len(), 1, "one step in the journal");
    assert_eq!(log[0].state, suit_store::CheckpointState::Applied);
    assert_eq!(log[0].files[0].path, "calc.py");
    let report = ws.undo(1, false).unwrap();
    assert_eq!(report.undone.len(), 1);
    assert_eq!(s.read(), BUGGY, "`suit undo` reverts a session's step");
    // The session's own undo finds nothing left to undo.
    let (status, body) = s.post(&format!("/v1/sessions/{id}/undo"), json!({})).await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stopped_session_writes_nothing_and_its_stream_ends() {
    let s = Setup::new(&[&format!("calc.py\n```python\n{FIXED}```\n")]).await;
    let id = s.start().await;
    s.wait_for(&id, "review").await;
    let (status, _) = s.post(&format!("/v1/sessions/{id}/stop"), json!({})).await;
    assert_eq!(status, 200);
    let view = s.wait_for(&id, "finished").await;
    assert_eq!(view["outcome"], "refused", "{view}");
    assert_eq!(s.read(), BUGGY);
    let events = s.events(&id, None).await;
    assert_eq!(events.last().unwrap().1["event"], "finished");
    let (status, _) = s.post(&format!("/v1/sessions/{id}/stop"), json!({})).await;
    assert_eq!(status, 409);
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_are_refused_outside_the_roots_and_on_bad_requests() {
    let s = Setup::new(&[]).await;
    let elsewhere = tempfile::tempdir().unwrap();
    let task = "fix it";
    let cases = [
        (json!({"task": task, "repo": elsewhere.path().display().to_string()}), 403),
        (json!({"task": task, "repo": format!("{}/../..", s.repo())}), 403),
        (json!({"task": task, "repo": "calc"}), 400),
        (json!({"task": task, "repo": format!("{}/missing", s.repo())}), 400),
        (json!({"task": "  ", "repo": s.repo()}), 400),
        (json!({"task": task, "repo": s.repo(), "autonomy": "max"}), 400),
        (json!({"task": task, "repo": s.repo(), "files": ["nope.py"]}), 400),
        (json!({"task": task, "repo": s.repo(), "surprise": 1}), 400),
    ];
    for (body, status) in cases {
        let (got, answer) = s.post("/v1/sessions", body.clone()).await;
        assert_eq!(got, status, "{body} -> {answer}");
        assert!(answer["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{answer}");
    }
    assert_eq!(s.get("/v1/sessions").await["data"], json!([]), "none was started");
    let (status, _) = s.post("/v1/sessions/s99/stop", json!({})).await;
    assert_eq!(status, 404);
    assert_eq!(s.read(), BUGGY);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_review_page_is_served_whole_with_a_strict_content_policy() {
    let s = Setup::new(&[]).await;
    for (path, kind) in [
        ("/", "text/html"),
        ("/gui/app.js", "text/javascript"),
        ("/gui/app.css", "text/css"),
        ("/gui/highlight.min.js", "text/javascript"),
    ] {
        let response = s.client.get(format!("{}{path}", s.server.base)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let headers = response.headers().clone();
        assert!(headers["content-type"].to_str().unwrap().starts_with(kind), "{path}");
        assert!(headers["content-security-policy"].to_str().unwrap().contains("script-src 'self'"));
        let body = response.text().await.unwrap();
        assert!(body.len() > 500, "{path}");
    }
}

/// A real headless Chromium (chromedriver, driven by Selenium from
/// `SUIT_TEST_PYTHON`) on the review page: the form starts a session, the
/// keyboard rejects one hunk and accepts the other, a second tab follows
/// within a second, `u` undoes; axe-core finds no serious or critical
/// accessibility problem on the page showing the hunks. The screenshot is kept in
/// `target/test-artifacts/review-page.png`.
#[tokio::test(flavor = "multi_thread")]
async fn the_review_page_in_a_real_browser_decides_hunk_by_hunk_and_undoes() {
    let s = Setup::new(&[&format!("calc.py\n```python\n{FIXED}```\n")]).await;
    let after = BUGGY.replace("a + b", "a * b");
    s.browse("review_page.py", "review-page.png", &[("SUIT_AFTER", &after)]).await;
    assert_eq!(s.read(), BUGGY, "undone from the page");
}

/// The review page on a session whose model is the real test model
/// (`common::CODER`, embedded): the browser starts the session, accepts
/// every hunk the model proposed and undoes it; then the run's event
/// stream validates against the published schema, and a client that
/// reconnects from any event misses none and sees none twice.
#[tokio::test(flavor = "multi_thread")]
async fn the_review_page_on_the_real_model_accepts_its_step_and_undoes_it() {
    let model: Arc<dyn Model> = common::load(common::CODER, 8192).await;
    let template = suit_agent::RunConfig::for_model(common::CODER, 8192, true, 512);
    let s = Setup::with_model(model, common::CODER, template).await;
    let task = "In calc.py, add(a, b) must return the sum a + b: fix it.";
    let stdout = s
        .browse("review_accept_all.py", "review-page-real-model.png", &[("SUIT_TASK", task)])
        .await;
    let result: Value = serde_json::from_str(stdout.lines().rev().nth(1).unwrap()).unwrap();
    assert_eq!(s.read(), BUGGY, "undone from the page");

    let id = result["session"].as_str().unwrap();
    let events = s.events(id, None).await;
    let ids: Vec<usize> = events.iter().map(|(i, _)| *i).collect();
    assert_eq!(ids, (0..events.len()).collect::<Vec<_>>());
    let published = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/events.schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(published).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for (_, event) in &events {
        if let Err(error) = validator.validate(event) {
            panic!("an event of the real run does not validate: {error}\n{event}");
        }
    }
    let kinds: Vec<&str> = events.iter().map(|(_, e)| e["event"].as_str().unwrap()).collect();
    for kind in ["run_started", "context_summary", "proposal", "diff", "approval", "applied"] {
        assert!(kinds.contains(&kind), "no `{kind}` event in {kinds:?}");
    }
    assert_eq!(kinds.last(), Some(&"finished"));
    for last in [0, events.len() / 2, events.len() - 1] {
        assert_eq!(s.events(id, Some(last)).await, events[last + 1..].to_vec(), "from {last}");
    }
}
