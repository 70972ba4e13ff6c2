//! `md FILE [BASE_URL]` prints a page as markdown; `md DIR OUT [BASE_URL]`
//! converts a folder. Stands in for `suit md` until the CLI wires it.

use std::path::Path;

use suit_docs::{convert_bytes, convert_dir, ConvertOptions, DirOptions};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(input) = args.first() else {
        eprintln!("usage: md FILE [BASE_URL] | md DIR OUT [BASE_URL]");
        std::process::exit(2);
    };
    let path = Path::new(input);
    if path.is_dir() {
        let Some(out) = args.get(1) else {
            eprintln!("md: DIR mode needs an output folder");
            std::process::exit(2);
        };
        let opts = DirOptions {
            base_url: args.get(2).and_then(|u| url::Url::parse(u).ok()),
            ..DirOptions::default()
        };
        match convert_dir(path, Path::new(out), &opts) {
            Ok(r) => {
                for e in &r.failed {
                    eprintln!("md: {e}");
                }
                eprintln!(
                    "md: {} pages, {} → {} bytes, {} failed",
                    r.converted.len(),
                    r.bytes_in,
                    r.bytes_out,
                    r.failed.len()
                );
                if !r.failed.is_empty() {
                    std::process::exit(1);
                }
            }
            Err(e) => {
                eprintln!("md: {e}");
                std::process::exit(1);
            }
        }
        return;
    }
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("md: {input}: {e}");
            std::process::exit(1);
        }
    };
    let opts = ConvertOptions {
        base_url: args.get(1).and_then(|u| url::Url::parse(u).ok()),
        ..ConvertOptions::default()
    };
    match convert_bytes(&bytes, None, input, &opts) {
        Ok(page) => {
            use std::io::Write;
            // A closed pipe (`| head`) is not an error worth a panic.
            let _ = std::io::stdout().write_all(page.markdown.as_bytes());
        }
        Err(e) => {
            eprintln!("md: {e}");
            std::process::exit(1);
        }
    }
}
