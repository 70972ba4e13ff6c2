//! Real documentation: the Rust Book and std docs shipped with the toolchain
//! (`rustup component add rust-docs` if missing; `SUIT_RUST_DOCS` overrides
//! the location).

use std::path::PathBuf;
use std::process::Command;

use pulldown_cmark::{Event, Options, Parser, Tag};
use suit_docs::{convert_bytes, convert_dir, ConvertOptions, DirOptions};
use url::Url;

fn rust_docs() -> PathBuf {
    if let Ok(p) = std::env::var("SUIT_RUST_DOCS") {
        return PathBuf::from(p);
    }
    let out = Command::new("rustc").arg("--print").arg("sysroot").output().expect("rustc runs");
    let sysroot = String::from_utf8(out.stdout).expect("utf-8 sysroot");
    let p = PathBuf::from(sysroot.trim()).join("share/doc/rust/html");
    assert!(
        p.join("book/index.html").is_file(),
        "the Rust documentation is missing at {}: run `rustup component add rust-docs` or set SUIT_RUST_DOCS",
        p.display()
    );
    p
}

#[derive(Default, Debug, PartialEq)]
struct Counts {
    code_blocks: usize,
    tables: usize,
    links: usize,
}

/// Structure of markdown, as a CommonMark+GFM parser sees it.
fn md_counts(md: &str) -> Counts {
    let mut c = Counts::default();
    for e in Parser::new_ext(md, Options::ENABLE_TABLES | Options::ENABLE_FOOTNOTES) {
        match e {
            Event::Start(Tag::CodeBlock(_)) => c.code_blocks += 1,
            Event::Start(Tag::Table(_)) => c.tables += 1,
            Event::Start(Tag::Link { .. }) => c.links += 1,
            _ => {}
        }
    }
    c
}

/// Structure of the `<main>` of an mdBook page, counted in the raw HTML.
fn html_counts(html: &str) -> Option<Counts> {
    let start = html.find("<main>")?;
    let end = html[start..].find("</main>").map_or(html.len(), |e| start + e);
    let main = &html[start..end];
    Some(Counts {
        code_blocks: main.matches("<pre").count(),
        tables: main.matches("<table").count(),
        // Heading self-links (`<a class="header">`) are unwrapped on purpose.
        links: main.matches("<a href=").count() + main.matches("<a class=\"").count()
            - main.matches("<a class=\"header\"").count(),
    })
}

#[test]
fn book_chapters_keep_code_tables_and_links() {
    let book = rust_docs().join("book");
    let mut pages = 0;
    let (mut links_html, mut links_md) = (0, 0);
    for entry in std::fs::read_dir(&book).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !(name.starts_with("ch") || name.starts_with("appendix")) || !name.ends_with(".html") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let html = String::from_utf8_lossy(&bytes);
        let Some(want) = html_counts(&html) else { continue }; // redirect stubs
        let page = convert_bytes(&bytes, None, &name, &ConvertOptions::default()).unwrap();
        let got = md_counts(&page.markdown);
        assert_eq!(got.code_blocks, want.code_blocks, "{name}: code blocks");
        assert_eq!(got.tables, want.tables, "{name}: tables");
        links_html += want.links;
        links_md += got.links;
        assert!(!page.markdown.contains("Previous chapter"), "{name}: navigation chrome kept");
        pages += 1;
    }
    assert!(pages > 90, "only {pages} chapters found");
    // Every link survives (a few empty-text anchors are dropped on purpose).
    assert!(
        links_md * 100 >= links_html * 99 && links_md <= links_html,
        "links: {links_md} of {links_html}"
    );
}

#[test]
fn book_page_known_structures() {
    let book = rust_docs().join("book");
    let bytes = std::fs::read(book.join("ch04-01-what-is-ownership.html")).unwrap();
    let opts = ConvertOptions {
        base_url: Url::parse("https://doc.rust-lang.org/book/ch04-01-what-is-ownership.html").ok(),
        main_content: true,
    };
    let page = convert_bytes(&bytes, None, "ch04", &opts).unwrap();
    let md = &page.markdown;
    assert!(
        md.starts_with("## What Is Ownership?\n\n*Ownership* is a set of rules"),
        "{}",
        &md[..200]
    );
    assert!(md.contains("### Ownership Rules\n\n"));
    assert!(md.contains(
        "- Each value in Rust has an *owner*.\n- There can only be one owner at a time.\n"
    ));
    assert!(md.contains("```rust\nfn main() {\n    {                      // s is not valid here"));
    assert!(md.contains("[Listing 4-1](#listing-4-1)"));
    assert!(
        md.contains("](https://doc.rust-lang.org/book/ch03-04-comments.html)")
            || md.contains("](https://doc.rust-lang.org/book/"),
        "relative links resolved"
    );
    assert!(!md.contains("Search this book"));
    assert_eq!(page.title.as_deref(), Some("What is Ownership? - The Rust Programming Language"));

    let bytes = std::fs::read(book.join("appendix-02-operators.html")).unwrap();
    let md = convert_bytes(&bytes, None, "ops", &ConvertOptions::default()).unwrap().markdown;
    assert!(md.contains(
        "| Operator | Example | Explanation | Overloadable? |\n| --- | --- | --- | --- |\n| `!` | `ident!(...)`, `ident!{...}`, `ident![...]` | Macro expansion | |\n"
    ), "{md}");
}

#[test]
fn std_pages_known_structures() {
    let std_docs = rust_docs().join("std");
    let bytes = std::fs::read(std_docs.join("vec/struct.Vec.html")).unwrap();
    let opts = ConvertOptions {
        base_url: Url::parse("https://doc.rust-lang.org/std/vec/struct.Vec.html").ok(),
        main_content: true,
    };
    let md = convert_bytes(&bytes, None, "Vec", &opts).unwrap().markdown;
    assert!(md.starts_with("# Struct Vec\n"), "{}", &md[..100]);
    assert!(md.contains("\n## Examples\n\n```rust\nlet mut vec = Vec::new();\nvec.push(1);\n"));
    assert!(
        md.contains("[`vec!`](https://doc.rust-lang.org/std/macro.vec.html \"macro std::vec\")")
    );
    assert!(
        !md.contains("Run code")
            && !md.contains("Copy item path")
            && !md.contains("Expand description")
    );
    assert!(!md.contains("§"), "heading anchors dropped");

    let bytes = std::fs::read(std_docs.join("collections/index.html")).unwrap();
    let md =
        convert_bytes(&bytes, None, "collections", &ConvertOptions::default()).unwrap().markdown;
    let c = md_counts(&md);
    assert_eq!(c.tables, 1, "the complexity table");
    assert!(md.contains("| get(i) | insert(i) | remove(i) |"));
}

#[test]
fn book_folder_converts_in_parallel_mirroring_the_tree() {
    let book = rust_docs().join("book");
    let out = tempfile::tempdir().unwrap();
    let report = convert_dir(&book, out.path(), &DirOptions::default()).unwrap();
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert!(report.converted.len() > 200);
    assert!(out.path().join("ch04-01-what-is-ownership.html.md").is_file());
    assert!(out.path().join("2018-edition/ch04-01-what-is-ownership.html.md").is_file());
    assert!(report.bytes_out * 3 < report.bytes_in, "markdown is much smaller than the HTML");
    let opts = DirOptions { replace_extension: true, ..DirOptions::default() };
    let out2 = tempfile::tempdir().unwrap();
    convert_dir(&book.join("2018-edition"), out2.path(), &opts).unwrap();
    assert!(out2.path().join("ch04-01-what-is-ownership.md").is_file());
}

/// Start-tag counts of the structural elements in an HTML fragment.
fn tag_counts(html: &str) -> std::collections::BTreeMap<String, usize> {
    use html5ever::tendril::StrTendril;
    use html5ever::tokenizer::{
        BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer,
    };
    use std::cell::RefCell;
    // Markup inside code (`pre`, `code`, `kbd`…) is not counted: code holds
    // text only in markdown. `kbd`/`samp`/`tt` count as `code`.
    struct Count(RefCell<std::collections::BTreeMap<String, usize>>, RefCell<u32>);
    impl TokenSink for Count {
        type Handle = ();
        fn process_token(&self, t: Token, _: u64) -> TokenSinkResult<()> {
            if let Token::TagToken(tag) = t {
                if tag.kind == TagKind::StartTag && matches!(&*tag.name, "script" | "style") {
                    return TokenSinkResult::RawData(
                        html5ever::tokenizer::states::RawKind::ScriptData,
                    );
                }
                let n = match &*tag.name {
                    "kbd" | "samp" | "tt" => "code",
                    n => n,
                };
                let mut depth = self.1.borrow_mut();
                let code_like = n == "pre" || n == "code";
                let counted = *depth == 0;
                if code_like {
                    match tag.kind {
                        TagKind::StartTag => *depth += 1,
                        TagKind::EndTag => *depth = depth.saturating_sub(1),
                    }
                }
                let structural = matches!(
                    n,
                    "h1" | "h2"
                        | "h3"
                        | "h4"
                        | "h5"
                        | "h6"
                        | "ul"
                        | "ol"
                        | "li"
                        | "pre"
                        | "table"
                        | "tr"
                        | "th"
                        | "td"
                        | "blockquote"
                        | "em"
                        | "strong"
                        | "code"
                        | "img"
                        | "dl"
                        | "dt"
                        | "dd"
                );
                if counted && tag.kind == TagKind::StartTag && structural {
                    *self.0.borrow_mut().entry(n.to_string()).or_default() += 1;
                }
            }
            TokenSinkResult::Continue
        }
    }
    let tok = Tokenizer::new(
        Count(RefCell::new(Default::default()), RefCell::new(0)),
        Default::default(),
    );
    let q = BufferQueue::default();
    q.push_back(StrTendril::from_slice(html));
    let _ = tok.feed(&q);
    tok.end();
    tok.sink.0.into_inner()
}

#[test]
fn book_round_trip_keeps_structure() {
    // HTML → markdown → HTML (pulldown-cmark, GFM): the structural elements of
    // each chapter's <main> come back, element for element.
    let book = rust_docs().join("book");
    let mut opts = pulldown_cmark::Options::empty();
    opts.insert(
        Options::ENABLE_TABLES
            | Options::ENABLE_FOOTNOTES
            | Options::ENABLE_STRIKETHROUGH
            | Options::ENABLE_DEFINITION_LIST,
    );
    let (mut pages, mut same) = (0, 0);
    let mut diffs = Vec::new();
    for entry in std::fs::read_dir(&book).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !(name.starts_with("ch") || name.starts_with("appendix")) || !name.ends_with(".html") {
            continue;
        }
        let html = std::fs::read_to_string(&path).unwrap();
        let Some(start) = html.find("<main>") else { continue };
        let end = html[start..].find("</main>").map_or(html.len(), |e| start + e);
        let md = suit_docs::convert_html(&html, &ConvertOptions::default()).markdown;
        let mut back = String::new();
        pulldown_cmark::html::push_html(&mut back, Parser::new_ext(&md, opts));
        let (want, got) = (tag_counts(&html[start..end]), tag_counts(&back));
        pages += 1;
        if want == got {
            same += 1;
        } else {
            diffs.push(format!("{name}: {want:?}\n   → {got:?}"));
        }
    }
    eprintln!("Book round trip: {same}/{pages} chapters keep every structural element");
    assert!(pages > 90);
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

#[test]
fn std_round_trip_keeps_structure() {
    let std_docs = rust_docs().join("std");
    let mut opts = Options::empty();
    opts.insert(
        Options::ENABLE_TABLES
            | Options::ENABLE_FOOTNOTES
            | Options::ENABLE_STRIKETHROUGH
            | Options::ENABLE_DEFINITION_LIST,
    );
    let mut diffs = Vec::new();
    for page in [
        "vec/struct.Vec.html",
        "collections/index.html",
        "option/enum.Option.html",
        "fs/index.html",
        "iter/trait.Iterator.html",
    ] {
        let html = std::fs::read_to_string(std_docs.join(page)).unwrap();
        let start = html.find("<section id=\"main-content\"").unwrap();
        let end = html[start..].find("</main>").map_or(html.len(), |e| start + e);
        let md = suit_docs::convert_html(&html, &ConvertOptions::default()).markdown;
        let mut back = String::new();
        pulldown_cmark::html::push_html(&mut back, Parser::new_ext(&md, opts));
        let (want, got) = (tag_counts(&html[start..end]), tag_counts(&back));
        if want != got {
            diffs.push(format!("{page}: {want:?}\n   → {got:?}"));
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}
