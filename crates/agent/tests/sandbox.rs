//! The sandbox of checks, tried as an attacker would: each test is a check
//! command that attempts something a check must not do, and the test
//! asserts that the attempt failed (or was capped) and the check with it.

use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

use suit_agent::sandbox::{protections, Policy, PASSED_ENV};
use suit_agent::{run_check, Check, CheckOutcome, CheckStatus};

/// Runs `command` as a check in `repo` with `policy`.
async fn check(repo: &Path, command: &str, policy: Policy) -> CheckOutcome {
    let check = Check { sandbox: policy, ..Check::new(command) };
    run_check(&check, repo).await
}

/// Whether this machine gives the full sandbox; the tests below need it
/// and say so when it is missing rather than pass without trying.
fn full_sandbox() -> bool {
    let found = protections();
    if !found.missing().is_empty() {
        panic!(
            "this machine lacks {}; the sandbox tests need user namespaces and Landlock",
            found.missing().join(" and ")
        );
    }
    true
}

#[tokio::test]
async fn a_check_cannot_write_outside_the_repository() {
    assert!(full_sandbox());
    let repo = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("planted");
    let out = check(
        repo.path(),
        &format!("echo x > {0} || exit 7; touch inside && echo ok", target.display()),
        Policy::default(),
    )
    .await;
    assert_eq!(out.status, CheckStatus::Failed { code: Some(7) }, "{out:?}");
    assert!(out.output.contains("Permission denied"), "{out:?}");
    assert!(!target.exists());
    assert!(out.isolated);

    // Inside the repository and in its own temporary directory it can.
    let out = check(
        repo.path(),
        "mkdir -p target/debug && echo built > target/debug/out && echo t > \"$TMPDIR/t\" \
         && cat \"$TMPDIR/t\"",
        Policy::default(),
    )
    .await;
    assert!(out.passed(), "{out:?}");
    assert_eq!(std::fs::read_to_string(repo.path().join("target/debug/out")).unwrap(), "built\n");
}

#[tokio::test]
async fn a_check_cannot_read_the_secrets_of_the_home_directory() {
    assert!(full_sandbox());
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".ssh")).unwrap();
    std::fs::write(home.path().join(".ssh/id_ed25519"), "FAKE PRIVATE KEY\n").unwrap();
    std::fs::create_dir_all(home.path().join(".aws")).unwrap();
    std::fs::write(home.path().join(".aws/credentials"), "FAKE AWS KEY\n").unwrap();
    std::fs::write(home.path().join(".bash_history"), "export TOKEN=FAKE\n").unwrap();
    std::fs::write(home.path().join(".gitconfig"), "[user]\nname = t\n").unwrap();
    let repo = tempfile::tempdir().unwrap();
    let policy = Policy { home: Some(home.path().to_path_buf()), ..Policy::default() };
    for secret in ["~/.ssh/id_ed25519", "~/.aws/credentials", "~/.bash_history"] {
        let out = check(repo.path(), &format!("cat {secret}"), policy.clone()).await;
        assert!(!out.passed(), "{secret} was read: {out:?}");
        assert!(!out.output.contains("FAKE"), "{secret} leaked: {out:?}");
        assert!(out.output.contains("Permission denied"), "{out:?}");
    }
    let listing = check(repo.path(), "ls ~/.ssh", policy.clone()).await;
    assert!(!listing.passed(), "{listing:?}");
    // The rest of the home directory stays readable (tools keep their
    // settings there).
    let out = check(repo.path(), "cat ~/.gitconfig", policy).await;
    assert!(out.passed() && out.output.contains("name = t"), "{out:?}");
}

#[tokio::test]
async fn a_check_cannot_reach_a_listener_on_the_hosts_loopback() {
    assert!(full_sandbox());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let repo = tempfile::tempdir().unwrap();
    let out = check(
        repo.path(),
        &format!(
            "python3 -c \"import socket; socket.create_connection(('127.0.0.1', {port}), 3); \
             print('connected')\""
        ),
        Policy::default(),
    )
    .await;
    assert!(!out.passed(), "{out:?}");
    assert!(!out.output.contains("connected"), "{out:?}");
    assert!(out.output.contains("Connection refused"), "{out:?}");
    assert!(listener.accept().is_err(), "the host's listener got a connection");

    // Its own loopback works: a test may serve and connect on 127.0.0.1.
    let own = "python3 -c \"import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); \
               s.listen(); c = socket.create_connection(s.getsockname(), 3); print('own ok')\"";
    let out = check(repo.path(), own, Policy::default()).await;
    assert!(out.passed() && out.output.contains("own ok"), "{out:?}");

    // Allowed the network, it reaches the listener.
    let open = Policy { network: true, ..Policy::default() };
    let out = check(
        repo.path(),
        &format!(
            "python3 -c \"import socket; socket.create_connection(('127.0.0.1', {port}), 3)\""
        ),
        open,
    )
    .await;
    assert!(out.passed(), "{out:?}");
    let mut accepted = listener.accept().expect("the allowed connection").0;
    let mut buf = Vec::new();
    let _ = accepted.read_to_end(&mut buf);
}

#[tokio::test]
async fn a_check_that_prints_a_gigabyte_is_stopped_fast() {
    let repo = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let out =
        check(repo.path(), "head -c 1073741824 /dev/zero | tr '\\0' 'x'", Policy::default()).await;
    assert!(
        matches!(&out.status, CheckStatus::Stopped { reason } if reason.contains("printed more than")),
        "{:?}",
        out.status
    );
    assert!(out.output.len() <= 128 << 10, "kept {} bytes", out.output.len());
    assert!(started.elapsed() < Duration::from_secs(60), "took {:?}", started.elapsed());
}

#[tokio::test]
async fn a_check_that_forks_without_end_is_capped() {
    assert!(full_sandbox());
    let repo = tempfile::tempdir().unwrap();
    // Bounded, so that a sandbox that failed to cap it cannot take the
    // machine down: 400 processes that each leave a line, against a cap of
    // 64 processes.
    let policy = Policy { processes: 64, ..Policy::default() };
    let out = check(
        repo.path(),
        "for i in $(seq 1 400); do (echo x >> forks; exec sleep 10) & done; wait",
        policy,
    )
    .await;
    let started = std::fs::read_to_string(repo.path().join("forks")).unwrap().lines().count();
    assert!((1..=64).contains(&started), "{started} processes started: {out:?}");
    assert!(!out.passed(), "{out:?}");
    // What it left behind went with it.
    assert!(out.duration < Duration::from_secs(8), "{out:?}");
}

#[tokio::test]
async fn a_check_that_burns_cpu_is_stopped_at_its_cpu_limit() {
    let repo = tempfile::tempdir().unwrap();
    let policy = Policy { cpu_seconds: 1, ..Policy::default() };
    let out = check(repo.path(), "python3 -c 'while True: pass'", policy).await;
    assert!(
        matches!(&out.status, CheckStatus::Stopped { reason } if reason.contains("CPU time")),
        "{:?}",
        out.status
    );
}

#[tokio::test]
async fn only_allowlisted_environment_variables_reach_a_check() {
    let repo = tempfile::tempdir().unwrap();
    let shell_set = ["PWD", "SHLVL", "_", "OLDPWD", "TMPDIR", "TMP", "TEMP"];
    let hidden: Vec<String> = std::env::vars()
        .map(|(name, _)| name)
        .filter(|n| !PASSED_ENV.contains(&n.as_str()) && !shell_set.contains(&n.as_str()))
        .collect();
    assert!(!hidden.is_empty(), "the test needs a variable off the allowlist (cargo sets CARGO_*)");
    let out = check(repo.path(), "env", Policy::default()).await;
    assert!(out.passed(), "{out:?}");
    let seen: Vec<&str> =
        out.output.lines().filter_map(|l| l.split_once('=')).map(|(n, _)| n).collect();
    for name in &hidden {
        assert!(!seen.contains(&name.as_str()), "{name} reached the check");
    }
    for name in &seen {
        assert!(PASSED_ENV.contains(name) || shell_set.contains(name), "{name} was passed");
    }
    assert!(seen.contains(&"PATH"), "{seen:?}");
    // A variable the user names is passed.
    let named = Policy { env: vec![hidden[0].clone()], ..Policy::default() };
    let out = check(repo.path(), "env", named).await;
    assert!(out.output.lines().any(|l| l.starts_with(&format!("{}=", hidden[0]))), "{out:?}");
}

/// Copies the eval task `name`'s project into a temporary directory.
fn task_repo(name: &str) -> tempfile::TempDir {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../evals").join(name).join("repo");
    let to = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("cp")
        .arg("-r")
        .arg(format!("{}/.", from.display()))
        .arg(to.path())
        .status()
        .unwrap();
    assert!(status.success());
    to
}

#[tokio::test]
async fn project_test_runners_work_in_the_sandbox() {
    assert!(full_sandbox());
    // Each task's tests fail before its fix: the runner must get as far
    // as running them and reporting the failures, not trip on the sandbox.
    let cases = [
        ("py-roman", "python3 -m unittest -q", "Ran "),
        ("rs-median", "cargo test --offline -q", "test result: FAILED"),
        ("js-query-string", "node --test", "# fail"),
    ];
    for (task, command, ran) in cases {
        let repo = task_repo(task);
        let out = check(repo.path(), command, Policy::default()).await;
        assert!(out.isolated, "{out:?}");
        assert!(out.output.contains(ran), "{task}: {}", out.output);
        assert!(!out.output.contains("Permission denied"), "{task}: {}", out.output);
    }
}
