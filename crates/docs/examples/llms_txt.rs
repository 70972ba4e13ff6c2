//! `llms_txt build <DIR|URL> OUT [BASE_URL]` and
//! `llms_txt check <FILE|URL> [--no-links] [--local URL=DIR]...`.
//! Stands in for `suit llms-txt` until the CLI wires it.

use std::path::{Path, PathBuf};

use suit_docs::llms_txt::{self, BuildOptions, CheckOptions, Origin, Severity};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match args.first().map(String::as_str) {
        Some("build") if args.len() >= 3 => build(&args[1], Path::new(&args[2]), args.get(3)).await,
        Some("check") if args.len() >= 2 => check(&args[1], &args[2..]).await,
        _ => {
            eprintln!("usage: llms_txt build <DIR|URL> OUT [BASE_URL] | llms_txt check <FILE|URL> [--no-links] [--local URL=DIR]");
            2
        }
    };
    std::process::exit(code);
}

async fn build(input: &str, out: &Path, base: Option<&String>) -> i32 {
    let opts =
        BuildOptions { base_url: base.and_then(|b| url::Url::parse(b).ok()), ..Default::default() };
    let result = if input.starts_with("http://") || input.starts_with("https://") {
        match url::Url::parse(input) {
            Ok(u) => llms_txt::build_from_url(&u, out, &opts).await,
            Err(e) => {
                eprintln!("llms-txt: invalid URL {input:?}: {e}");
                return 2;
            }
        }
    } else {
        llms_txt::build_from_dir(Path::new(input), out, &opts)
    };
    match result {
        Ok(r) => {
            for s in &r.skipped {
                eprintln!("skipped: {s}");
            }
            eprintln!(
                "wrote {} ({} entries in {} sections) and {}",
                r.llms_txt.display(),
                r.entries,
                r.sections,
                r.llms_full.display()
            );
            0
        }
        Err(e) => {
            eprintln!("llms-txt: {e}");
            1
        }
    }
}

async fn check(input: &str, rest: &[String]) -> i32 {
    let mut opts = CheckOptions { resolve_links: true, concurrency: 8, ..Default::default() };
    let mut it = rest.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--no-links" => opts.resolve_links = false,
            "--local" => {
                if let Some((u, d)) = it.next().and_then(|v| v.split_once('=')) {
                    if let Ok(u) = url::Url::parse(u) {
                        opts.local_roots.push((u, PathBuf::from(d)));
                    }
                }
            }
            _ => {}
        }
    }
    let (text, origin) = if input.starts_with("http://") || input.starts_with("https://") {
        let Ok(u) = url::Url::parse(input) else {
            eprintln!("llms-txt: invalid URL {input:?}");
            return 2;
        };
        let client =
            suit_docs::fetch::Client::new(std::time::Duration::from_secs(20)).expect("client");
        match client.get(&u).await {
            Ok(f) if f.status == 200 => {
                (String::from_utf8_lossy(&f.body).into_owned(), Origin::Url(u))
            }
            Ok(f) => {
                eprintln!("llms-txt: {u}: HTTP status {}", f.status);
                return 1;
            }
            Err(e) => {
                eprintln!("llms-txt: {e}");
                return 1;
            }
        }
    } else {
        match std::fs::read_to_string(input) {
            Ok(t) => (t, Origin::File(PathBuf::from(input))),
            Err(e) => {
                eprintln!("llms-txt: {input}: {e}");
                return 1;
            }
        }
    };
    let diags = llms_txt::check(&text, &origin, &opts).await;
    for d in &diags {
        println!("{input}:{d}");
    }
    let errors = diags.iter().filter(|d| d.severity == Severity::Error).count();
    eprintln!("{errors} errors, {} warnings", diags.len() - errors);
    i32::from(errors > 0)
}
