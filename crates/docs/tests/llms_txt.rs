//! llms.txt build and check: on the Rust Book (with the reference parser
//! from PyPI, `pip install llms-txt`), and on a site served over loopback.

mod common;
#[path = "common/server.rs"]
mod server;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::Duration;

use suit_docs::fetch::CrawlOptions;
use suit_docs::llms_txt::{self, BuildOptions, CheckOptions, Origin, Severity};
use url::Url;

fn book() -> PathBuf {
    let out = Command::new("rustc").args(["--print", "sysroot"]).output().expect("rustc runs");
    let p = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
        .join("share/doc/rust/html/book");
    let p = std::env::var("SUIT_RUST_DOCS").map(|d| PathBuf::from(d).join("book")).unwrap_or(p);
    assert!(
        p.join("toc.html").is_file(),
        "the Rust Book is missing at {}: run `rustup component add rust-docs`",
        p.display()
    );
    p
}

/// Parses with the reference implementation and returns (title, summary, [(section, [urls])]).
fn reference_parse(file: &Path) -> serde_json::Value {
    let script = r#"
import json, sys
try:
    from llms_txt import parse_llms_file
except ImportError:
    sys.exit("the reference parser is missing: pip install llms-txt")
d = parse_llms_file(open(sys.argv[1], encoding="utf-8").read())
print(json.dumps({"title": d.title, "summary": d.get("summary"),
    "sections": [[k, [l["url"] for l in v]] for k, v in d.sections.items()]}))
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(file)
        .output()
        .expect("python3 must be installed");
    assert!(
        out.status.success(),
        "reference parser rejected {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json from the reference parser")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn book_llms_txt_is_valid_for_us_and_the_reference_parser() {
    let out = tempfile::tempdir().unwrap();
    let base = Url::parse("https://doc.rust-lang.org/book/").unwrap();
    let opts = BuildOptions { base_url: Some(base.clone()), ..Default::default() };
    let report = llms_txt::build_from_dir(&book(), out.path(), &opts).unwrap();
    assert!(report.entries > 100 && report.sections > 20, "{report:?}");

    let text = std::fs::read_to_string(&report.llms_txt).unwrap();
    assert!(text.starts_with("# The Rust Programming Language\n\n> "));
    assert!(text.contains("\n## Getting Started\n\n- [Getting Started](https://doc.rust-lang.org/book/ch01-00-getting-started.html.md): "));
    assert!(text.contains("- [Installation](https://doc.rust-lang.org/book/ch01-01-installation.html.md): The first step is to install Rust."));
    assert!(text.contains("\n## Optional\n"));

    // Our checker: structure and every link (served from the output folder).
    let copts = CheckOptions {
        resolve_links: true,
        local_roots: vec![(base, out.path().to_path_buf())],
        ..Default::default()
    };
    let diags = llms_txt::check(&text, &Origin::File(report.llms_txt.clone()), &copts).await;
    let errors: Vec<_> = diags.iter().filter(|d| d.severity == Severity::Error).collect();
    assert!(errors.is_empty(), "{errors:?}");

    // The reference parser agrees on title, summary, sections and links.
    let (ours, _) = llms_txt::parse(&text);
    let theirs = reference_parse(&report.llms_txt);
    assert_eq!(theirs["title"], ours.title.clone().unwrap());
    assert_eq!(theirs["summary"], ours.summary.clone().unwrap());
    let sections = theirs["sections"].as_array().unwrap();
    assert_eq!(sections.len(), ours.sections.len());
    for (t, o) in sections.iter().zip(&ours.sections) {
        assert_eq!(t[0], o.name);
        let urls: Vec<&str> =
            t[1].as_array().unwrap().iter().map(|u| u.as_str().unwrap()).collect();
        let ours: Vec<&str> = o.entries.iter().map(|e| e.url.as_str()).collect();
        assert_eq!(urls, ours);
    }

    // llms-full.txt carries the pages in section order; .md copies exist.
    let full = std::fs::read_to_string(&report.llms_full).unwrap();
    let a = full.find("## What Is Ownership?").unwrap();
    let b = full.find("## References and Borrowing").unwrap();
    assert!(a < b);
    assert!(out.path().join("ch04-01-what-is-ownership.html.md").is_file());
}

#[tokio::test]
async fn check_reports_local_problems_with_lines() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.md"), "# A\n").unwrap();
    let text = "# Site\n\n> Summary.\n\n## Docs\n\n- [A](a.md): exists\n- [B](b.md): missing\n- [A again](a.md)\n\n## Empty\n";
    let file = dir.path().join("llms.txt");
    std::fs::write(&file, text).unwrap();
    let diags = llms_txt::check(
        text,
        &Origin::File(file),
        &CheckOptions { resolve_links: true, ..Default::default() },
    )
    .await;
    let found: Vec<(usize, Severity, bool)> =
        diags.iter().map(|d| (d.line, d.severity, d.message.contains("relative"))).collect();
    assert!(found.contains(&(7, Severity::Warning, true)), "{diags:?}");
    assert!(
        diags
            .iter()
            .any(|d| d.line == 8 && d.severity == Severity::Error && d.message.contains("no file")),
        "{diags:?}"
    );
    assert!(
        diags.iter().any(|d| d.line == 9
            && d.severity == Severity::Error
            && d.message.contains("duplicate")),
        "{diags:?}"
    );
    assert!(
        diags.iter().any(|d| d.line == 11
            && d.severity == Severity::Warning
            && d.message.contains("no entries")),
        "{diags:?}"
    );
    assert_eq!(diags.iter().filter(|d| d.severity == Severity::Error).count(), 2, "{diags:?}");
}

fn html(title: &str, body: &str) -> (String, Vec<u8>) {
    ("text/html; charset=utf-8".into(), format!("<html><head><title>{title} - Demo Docs</title></head><body><nav><a href=\"/\">Home</a></nav><main>{body}</main></body></html>").into_bytes())
}

fn site() -> HashMap<String, (String, Vec<u8>)> {
    let mut m = HashMap::new();
    m.insert(
        "/robots.txt".into(),
        ("text/plain".into(), b"User-agent: *\nDisallow: /docs/private/\n".to_vec()),
    );
    m.insert("/docs/".into(), html("Demo", "<h1>Demo</h1><p>Demo is a tool for demos.</p><ul><li><a href=\"a.html\">Alpha</a></li><li><a href=\"b.html\">Beta</a></li><li><a href=\"sub/c.html\">Gamma</a></li><li><a href=\"private/secret.html\">Secret</a></li><li><a href=\"/outside.html\">Outside</a></li><li><a href=\"https://example.invalid/x\">Elsewhere</a></li></ul>"));
    m.insert("/docs/a.html".into(), html("Alpha", "<h1>Alpha</h1><p>Alpha explains the first thing.</p><pre><code class=\"language-sh\">demo alpha</code></pre>"));
    m.insert(
        "/docs/b.html".into(),
        html("Beta", "<h1>Beta</h1><p>Beta, see <a href=\"missing.html\">this</a>.</p>"),
    );
    m.insert(
        "/docs/sub/c.html".into(),
        html("Gamma", "<h1>Gamma</h1><p>Gamma lives in a folder.</p>"),
    );
    m.insert("/docs/private/secret.html".into(), html("Secret", "<p>nope</p>"));
    m.insert("/outside.html".into(), html("Outside", "<p>out of scope</p>"));
    m.insert("/docs/logo.png".into(), ("image/png".into(), b"\x89PNG\r\n\x1a\n".to_vec()));
    m
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawl_builds_llms_txt_politely() {
    let (origin, stats) = server::serve(site(), Duration::from_millis(30)).await;
    let start = Url::parse(&format!("{origin}/docs/")).unwrap();
    let out = tempfile::tempdir().unwrap();
    let opts = BuildOptions {
        base_url: Url::parse("https://demo.example/docs/").ok(),
        crawl: CrawlOptions { concurrency: 2, max_pages: 50, timeout: Duration::from_secs(5) },
        ..Default::default()
    };
    let report = llms_txt::build_from_url(&start, out.path(), &opts).await.unwrap();
    let text = std::fs::read_to_string(&report.llms_txt).unwrap();
    assert!(text.starts_with("# Demo Docs\n\n> Demo is a tool for demos.\n"), "{text}");
    assert!(
        text.contains(
            "- [Alpha](https://demo.example/docs/a.html.md): Alpha explains the first thing."
        ),
        "{text}"
    );
    assert!(text.contains("- [Gamma](https://demo.example/docs/sub/c.html.md)"), "{text}");
    assert!(!text.contains("Secret") && !text.contains("outside"), "{text}");
    assert!(
        report
            .skipped
            .iter()
            .any(|s| s.contains("private/secret.html") && s.contains("robots.txt")),
        "{:?}",
        report.skipped
    );
    assert!(
        report.skipped.iter().any(|s| s.contains("missing.html") && s.contains("404")),
        "{:?}",
        report.skipped
    );
    assert!(stats.max_in_flight.load(Ordering::SeqCst) <= 2, "concurrency limit exceeded");
    assert!(std::fs::read_to_string(out.path().join("a.html.md"))
        .unwrap()
        .contains("```sh\ndemo alpha\n```"));

    // Page limit.
    let out2 = tempfile::tempdir().unwrap();
    let opts2 = BuildOptions {
        crawl: CrawlOptions { max_pages: 2, ..opts.crawl.clone() },
        ..Default::default()
    };
    let r2 = llms_txt::build_from_url(&start, out2.path(), &opts2).await.unwrap();
    assert!(r2.entries <= 2, "{r2:?}");

    // HTTP link check: one good link, one 404, on the right lines.
    let text = format!("# Demo\n\n> S\n\n## Docs\n\n- [A]({origin}/docs/a.html)\n- [M]({origin}/docs/missing.html)\n");
    let diags = llms_txt::check(
        &text,
        &Origin::Url(start.clone()),
        &CheckOptions { resolve_links: true, concurrency: 2, ..Default::default() },
    )
    .await;
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!((diags[0].line, diags[0].severity), (8, Severity::Error));
    assert!(diags[0].message.contains("404"));
}

#[tokio::test]
async fn unreachable_site_is_a_clear_error() {
    // Port 1 on loopback: nothing listens there.
    let start = Url::parse("http://127.0.0.1:1/docs/").unwrap();
    let out = tempfile::tempdir().unwrap();
    let opts = BuildOptions {
        crawl: CrawlOptions { timeout: Duration::from_secs(3), ..Default::default() },
        ..Default::default()
    };
    let err = llms_txt::build_from_url(&start, out.path(), &opts).await.unwrap_err().to_string();
    assert!(err.contains("127.0.0.1:1") && err.contains("cannot connect"), "{err}");
    assert!(!out.path().join("llms.txt").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_page_over_http() {
    let mut pages = site();
    pages.insert(
        "/docs/latin1.html".into(),
        (
            "text/html; charset=iso-8859-1".into(),
            b"<main><p>Caf\xe9 <a href=\"a.html\">a</a></p></main>".to_vec(),
        ),
    );
    let (origin, _) = server::serve(pages, Duration::from_millis(0)).await;
    let opts = suit_docs::ConvertOptions::default();
    let t = Duration::from_secs(5);
    let url = Url::parse(&format!("{origin}/docs/latin1.html")).unwrap();
    let page = suit_docs::fetch::fetch_markdown(&url, &opts, t).await.unwrap();
    assert_eq!(page.markdown, format!("Café [a]({origin}/docs/a.html)\n"));
    let png = Url::parse(&format!("{origin}/docs/logo.png")).unwrap();
    let err = suit_docs::fetch::fetch_markdown(&png, &opts, t).await.unwrap_err().to_string();
    assert!(
        err.contains("logo.png") && err.contains("not an HTML page (content type image/png)"),
        "{err}"
    );
    let missing = Url::parse(&format!("{origin}/docs/nope.html")).unwrap();
    let err = suit_docs::fetch::fetch_markdown(&missing, &opts, t).await.unwrap_err().to_string();
    assert!(err.ends_with("nope.html: HTTP status 404"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawl_delay_from_robots_txt_is_honoured() {
    let mut pages = site();
    pages.insert(
        "/robots.txt".into(),
        ("text/plain".into(), b"User-agent: *\nCrawl-delay: 0.2\n".to_vec()),
    );
    let (origin, stats) = server::serve(pages, Duration::from_millis(0)).await;
    let start = Url::parse(&format!("{origin}/docs/")).unwrap();
    let opts = CrawlOptions { concurrency: 4, max_pages: 4, timeout: Duration::from_secs(5) };
    let t0 = std::time::Instant::now();
    let report = suit_docs::fetch::crawl(&start, &opts).await.unwrap();
    assert_eq!(report.pages.len(), 4);
    assert_eq!(stats.max_in_flight.load(Ordering::SeqCst), 1, "one request at a time");
    assert!(t0.elapsed() >= Duration::from_millis(600), "{:?}", t0.elapsed());
}
