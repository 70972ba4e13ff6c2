//! Black-box tests of `suit keys`: the binary adds, lists, limits and
//! removes keys in a key store in a temporary directory, and `suit serve`
//! (on the small real model) requires them and records their usage.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{text, Home};

const SMOL: &str = "smollm2-135m-instruct-q4_1";

/// `suit keys ARGS` with the key store `keys.db` of `home`.
fn keys(home: &Home, args: &[&str]) -> Output {
    let path = home.work().join("keys.db");
    let mut all = vec!["keys", "--keys", path.to_str().unwrap()];
    all.extend_from_slice(args);
    home.suit(&all, "")
}

fn both(output: &Output) -> String {
    format!("{}{}", text(&output.stdout), text(&output.stderr))
}

#[test]
fn add_prints_the_secret_once_list_never_shows_it_and_rm_refuses_a_missing_key() {
    let home = Home::new();
    let added = keys(&home, &["add", "ci-bot", "--max-tokens", "5000", "--rpm", "30"]);
    assert!(added.status.success(), "{}", both(&added));
    // stdout is the secret alone, so `KEY=$(suit keys add NAME)` works.
    let secret = text(&added.stdout).trim().to_string();
    assert!(secret.starts_with("suit-") && secret.len() >= 48, "{secret:?}");
    assert_eq!(both(&added).matches(&secret).count(), 1, "the secret is printed once");
    let told = text(&added.stderr);
    assert!(told.contains("will not be shown again"), "{told}");
    assert!(told.contains("max 5000 tokens, 30 requests/min"), "{told}");

    let again = keys(&home, &["add", "ci-bot"]);
    assert!(!again.status.success());
    assert!(text(&again.stderr).contains("already exists"), "{}", both(&again));
    let bad = keys(&home, &["add", "no spaces"]);
    assert!(!bad.status.success());
    assert!(text(&bad.stderr).contains("invalid API key name"), "{}", both(&bad));
    assert!(keys(&home, &["add", "editor", "--max-cost", "2.5"]).status.success());

    let listed = keys(&home, &["list"]);
    assert!(listed.status.success(), "{}", both(&listed));
    let table = text(&listed.stdout);
    assert!(table.contains("ci-bot") && table.contains("editor"), "{table}");
    assert!(table.contains("max 5000 tokens, 30 requests/min"), "{table}");
    assert!(table.contains("max 2.5 USD"), "{table}");
    assert!(!both(&listed).contains(&secret), "list never shows a secret");
    assert!(!both(&listed).contains(&secret["suit-".len()..]), "nor part of it");
    let json = keys(&home, &["list", "--json"]);
    let parsed: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(parsed.as_array().unwrap().len(), 2);
    assert_eq!(parsed[0]["limits"]["max_tokens"], 5000);
    assert!(!both(&json).contains(&secret));

    let set = keys(&home, &["set", "ci-bot", "--max-tokens", "none", "--rpm", "60"]);
    assert!(set.status.success(), "{}", both(&set));
    assert!(text(&set.stderr).contains("now has 60 requests/min"), "{}", both(&set));

    let missing = keys(&home, &["rm", "nobody"]);
    assert!(!missing.status.success(), "rm of a missing key fails");
    let message = text(&missing.stderr);
    assert!(message.contains("no API key named `nobody`"), "{message}");
    assert!(message.contains("the keys are: ci-bot, editor"), "{message}");

    let removed = keys(&home, &["rm", "ci-bot"]);
    assert!(removed.status.success(), "{}", both(&removed));
    let listed = text(&keys(&home, &["list"]).stdout);
    assert!(!listed.contains("ci-bot") && listed.contains("editor"), "{listed}");
    let all = text(&keys(&home, &["list", "--all"]).stdout);
    assert!(all.contains("ci-bot (removed"), "{all}");
    let twice = keys(&home, &["rm", "ci-bot"]);
    assert!(!twice.status.success());
    assert!(text(&twice.stderr).contains("the keys are: editor"), "{}", both(&twice));
}

#[test]
fn rm_without_a_key_store_says_so_and_creates_nothing() {
    let home = Home::new();
    let missing = keys(&home, &["rm", "ghost"]);
    assert!(!missing.status.success());
    let message = text(&missing.stderr);
    assert!(message.contains("no API key named `ghost`") && message.contains("does not exist"));
    assert!(!home.work().join("keys.db").exists());
    let listed = keys(&home, &["list"]);
    assert!(listed.status.success());
    assert!(text(&listed.stderr).contains("no API keys"), "{}", both(&listed));
}

#[test]
fn keys_default_to_suit_home() {
    let home = Home::new();
    let added = home.suit(&["keys", "add", "homed"], "");
    assert!(added.status.success(), "{}", both(&added));
    let root = home.work().parent().unwrap().to_path_buf();
    assert!(root.join("keys.db").is_file(), "the store is $SUIT_HOME/keys.db");
    assert!(text(&home.suit(&["keys", "list"], "").stdout).contains("homed"));
}

/// One HTTP/1.1 request with `Connection: close` (and the key, if any);
/// the whole response.
fn http(addr: &str, method: &str, path: &str, key: Option<&str>, body: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let auth = key.map(|k| format!("Authorization: Bearer {k}\r\n")).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn serve_with_a_stored_key_listens_on_an_exposed_address_and_counts_its_tokens() {
    let home = Home::new();
    let added = home.suit(&["keys", "add", "remote", "--max-tokens", "100000"], "");
    assert!(added.status.success(), "{}", both(&added));
    let secret = text(&added.stdout).trim().to_string();
    let dir = home.work().parent().unwrap().to_path_buf();
    let mut child = Command::new(env!("CARGO_BIN_EXE_suit"))
        .args(["serve", "--model", SMOL, "--addr", "0.0.0.0:0"])
        .current_dir(home.work())
        .env("SUIT_HOME", &dir)
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("SUIT_CACHE_DIR", dir.join("cache"))
        .env_remove("SUIT_API_KEY")
        .env_remove("SUIT_KEYS")
        .env_remove("SUIT_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
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
    let port = line
        .split("http://0.0.0.0:")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("no address in the start line: {line}"))
        .to_string();
    let addr = format!("127.0.0.1:{port}");
    let body = format!(
        r#"{{"model":"{SMOL}","messages":[{{"role":"user","content":"Say hi."}}],"max_tokens":4,"temperature":0}}"#
    );
    let refused = http(&addr, "POST", "/v1/chat/completions", None, &body);
    let reply = http(&addr, "POST", "/v1/chat/completions", Some(&secret), &body);
    let usage = http(&addr, "GET", "/v1/usage", Some(&secret), "");
    child.kill().ok();
    child.wait().ok();
    assert!(line.contains("1 key(s)"), "{line}");
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    let json = |response: &str| -> serde_json::Value {
        serde_json::from_str(response.split("\r\n\r\n").nth(1).unwrap()).unwrap()
    };
    let reply = json(&reply);
    let usage = json(&usage);
    let entry = &usage["data"][0];
    assert_eq!(entry["name"], "remote", "{usage}");
    assert_eq!(entry["requests"], 1, "{usage}");
    assert_eq!(entry["prompt_tokens"], reply["usage"]["prompt_tokens"], "{usage}");
    assert_eq!(entry["completion_tokens"], reply["usage"]["completion_tokens"], "{usage}");
    assert!(entry["prompt_tokens"].as_u64().unwrap() > 0, "{usage}");
    let listed = text(&home.suit(&["keys", "list"], "").stdout);
    assert!(listed.contains("remote") && !listed.contains(&secret), "{listed}");
}
