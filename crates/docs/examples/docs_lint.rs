//! `docs_lint <PATH> [--openapi SPEC] [--format json]`: stands in for
//! `suit docs-lint` until the CLI wires it. Exits 1 when something is found.

use std::path::Path;

use suit_docs::lint::{lint_path, OpenApi};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: docs_lint <PATH> [--openapi SPEC] [--format json]");
        std::process::exit(2);
    };
    let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1));
    let api = match flag("--openapi").map(|p| OpenApi::load(Path::new(p))) {
        Some(Ok(a)) => Some(a),
        Some(Err(e)) => {
            eprintln!("docs-lint: {e}");
            std::process::exit(2);
        }
        None => None,
    };
    match lint_path(Path::new(path), api.as_ref()) {
        Ok(findings) => {
            if flag("--format").is_some_and(|f| f == "json") {
                println!("{}", serde_json::to_string_pretty(&findings).expect("serializable"));
            } else {
                for f in &findings {
                    println!("{f}");
                }
            }
            std::process::exit(i32::from(!findings.is_empty()));
        }
        Err(e) => {
            eprintln!("docs-lint: {e}");
            std::process::exit(2);
        }
    }
}
