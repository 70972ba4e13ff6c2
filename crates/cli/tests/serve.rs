//! Black-box tests of `suit serve`: the binary answers over HTTP on the real
//! small model, stops on Ctrl-C, and refuses a public address without a key.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{text, Home};

const SMOL: &str = "smollm2-135m-instruct-q4_1";

/// `suit serve ARGS` in `home`, with no key in its environment.
fn serve(home: &Home, args: &[&str]) -> Command {
    let dir = home.work().parent().unwrap().to_path_buf();
    let mut command = Command::new(env!("CARGO_BIN_EXE_suit"));
    command
        .arg("serve")
        .args(args)
        .current_dir(home.work())
        .env("SUIT_HOME", &dir)
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("SUIT_CACHE_DIR", dir.join("cache"))
        .env_remove("SUIT_API_KEY")
        .env_remove("SUIT_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// One HTTP/1.1 request with `Connection: close`; the whole response.
fn http(addr: &str, method: &str, path: &str, body: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

/// Waits for `child` to exit, killing it after `limit`.
fn wait(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > limit {
            child.kill().ok();
            panic!("suit serve did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn serve_answers_over_http_and_stops_on_ctrl_c() {
    let home = Home::new();
    let mut child = serve(&home, &["--model", SMOL, "--addr", "127.0.0.1:0"]).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).ok();
        tx.send(line).ok();
    });
    let line = rx.recv_timeout(Duration::from_secs(300)).unwrap_or_else(|_| {
        child.kill().ok();
        panic!("suit serve printed no start line")
    });
    assert!(line.contains(SMOL) && line.contains("loopback only"), "{line}");
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split("/v1").next())
        .unwrap_or_else(|| panic!("no address in the start line: {line}"))
        .to_string();

    let models = http(&addr, "GET", "/v1/models", "");
    assert!(models.starts_with("HTTP/1.1 200"), "{models}");
    assert!(models.contains(&format!("\"id\":\"{SMOL}\"")), "{models}");
    let body = format!(
        r#"{{"model":"{SMOL}","messages":[{{"role":"user","content":"Say hi."}}],"max_tokens":4,"temperature":0}}"#
    );
    let reply = http(&addr, "POST", "/v1/chat/completions", &body);
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains("\"object\":\"chat.completion\""), "{reply}");
    let unknown = http(&addr, "POST", "/v1/chat/completions", &body.replace(SMOL, "gpt-x"));
    assert!(unknown.starts_with("HTTP/1.1 404"), "{unknown}");

    // Ctrl-C: a clean stop.
    // SAFETY: `kill` only sends a signal to the child this test started.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let status = wait(&mut child, Duration::from_secs(30));
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(status.success(), "{status}: {stderr}");
    assert!(stderr.contains("stopping"), "{stderr}");
}

#[test]
fn serve_refuses_a_public_address_without_a_key() {
    let home = Home::new();
    let output = serve(&home, &["--addr", "0.0.0.0:0"]).output().unwrap();
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(stderr.contains("refusing to serve on 0.0.0.0:0 without an API key"), "{stderr}");
    assert!(stderr.contains("--api-key") && stderr.contains("127.0.0.1"), "{stderr}");
    // No model was loaded for nothing.
    assert!(!stderr.contains("loading"), "{stderr}");
}

/// The body of an HTTP response, as JSON.
fn json_body(response: &str) -> serde_json::Value {
    let body = response.split("\r\n\r\n").nth(1).unwrap_or_default();
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {response}"))
}

/// `suit run --review web` on the real 0.5B coder: the run waits for the
/// page's decisions (taken here over its HTTP routes, as the page takes
/// them), writes the accepted step, and `suit log` / `suit undo` see it.
#[test]
fn run_with_review_on_the_web_waits_for_the_page_and_writes_what_it_accepted() {
    const CODER: &str = "qwen2.5-coder-0.5b-instruct-q4_k_m";
    const BUGGY: &str = "def add(a, b):\n    return a - b\n";
    let home = Home::with_files(&[("calc.py", BUGGY)]);
    let dir = home.work().parent().unwrap().to_path_buf();
    let task = "add(a, b) must return the sum a + b: fix it";
    let mut child = Command::new(env!("CARGO_BIN_EXE_suit"))
        .args(["run", "--review", "web", "--autonomy", "file", "-f", "calc.py", "--model", CODER])
        .args(["--max-steps", "1", "--json", task])
        .current_dir(home.work())
        .env("SUIT_HOME", &dir)
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("SUIT_CACHE_DIR", dir.join("cache"))
        .env("BROWSER", "true")
        .env_remove("SUIT_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            tx.send(line).ok();
        }
    });
    let mut seen = Vec::new();
    let url = loop {
        let line = rx.recv_timeout(Duration::from_secs(300)).unwrap_or_else(|_| {
            child.kill().ok();
            panic!("no review address printed: {seen:?}")
        });
        if let Some(url) = line.strip_prefix("suit: review the steps at ") {
            break url.to_string();
        }
        seen.push(line);
    };
    let addr = url.trim_start_matches("http://").split('/').next().unwrap().to_string();
    let session = url.split("session=").nth(1).unwrap().to_string();
    let path = format!("/v1/sessions/{session}");

    let start = std::time::Instant::now();
    let view = loop {
        let view = json_body(&http(&addr, "GET", &path, ""));
        if view["state"] == "review" {
            break view;
        }
        assert!(view["state"] == "running", "{view}");
        assert!(start.elapsed() < Duration::from_secs(300), "no step to review: {view}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(home.read("calc.py"), BUGGY, "nothing is written before the decisions");
    let hunks: Vec<serde_json::Value> = view["review"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["hunks"].as_array().unwrap().clone())
        .map(|h| serde_json::json!({"id": h["id"], "verdict": "accept"}))
        .collect();
    assert!(!hunks.is_empty(), "{view}");
    let decided = http(
        &addr,
        "POST",
        &format!("{path}/review"),
        &serde_json::json!({ "hunks": hunks }).to_string(),
    );
    assert!(decided.starts_with("HTTP/1.1 200"), "{decided}");

    let status = wait(&mut child, Duration::from_secs(120));
    let mut stdout = String::new();
    child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
    assert!(status.success(), "{status}: {stdout}");
    let events: Vec<serde_json::Value> =
        stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let approval = events.iter().find(|e| e["event"] == "approval").expect("an approval event");
    assert_eq!(approval["by"], "person", "{approval}");
    let after = home.read("calc.py");
    assert_ne!(after, BUGGY, "the accepted step was written");

    let log = home.suit(&["log", "--oneline"], "");
    assert!(text(&log.stdout).contains("[applied]"), "{}", text(&log.stdout));
    assert!(text(&log.stdout).contains("accepted by a person"), "{}", text(&log.stdout));
    let undo = home.suit(&["undo"], "");
    assert!(undo.status.success(), "{}", text(&undo.stderr));
    assert_eq!(home.read("calc.py"), BUGGY, "`suit undo` reverts the step reviewed on the page");
}
