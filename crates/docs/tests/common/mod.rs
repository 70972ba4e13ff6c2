//! Shared test helpers: markdown rendering and structural HTML comparison.
#![allow(dead_code)]

use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer};

/// Renders markdown to HTML with pulldown-cmark (CommonMark, plus GFM tables,
/// strikethrough and footnotes when `gfm`).
pub fn render(md: &str, gfm: bool) -> String {
    let mut opts = pulldown_cmark::Options::empty();
    if gfm {
        opts |= pulldown_cmark::Options::ENABLE_TABLES
            | pulldown_cmark::Options::ENABLE_STRIKETHROUGH
            | pulldown_cmark::Options::ENABLE_FOOTNOTES
            | pulldown_cmark::Options::ENABLE_DEFINITION_LIST
            | pulldown_cmark::Options::ENABLE_TASKLISTS;
    }
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, pulldown_cmark::Parser::new_ext(md, opts));
    html
}

/// Does the markdown contain raw HTML (so its HTML is not made from markdown alone)?
pub fn has_raw_html(md: &str) -> bool {
    pulldown_cmark::Parser::new(md)
        .any(|e| matches!(e, pulldown_cmark::Event::Html(_) | pulldown_cmark::Event::InlineHtml(_)))
}

struct Collect(RefCell<Vec<(String, bool)>>, RefCell<u32>);

const BLOCKS: &[&str] = &[
    "p",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "hr",
    "div",
    "dl",
    "dt",
    "dd",
    "br",
    "section",
];

impl TokenSink for Collect {
    type Handle = ();
    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let mut out = self.0.borrow_mut();
        let mut pre = self.1.borrow_mut();
        match token {
            Token::TagToken(tag) => {
                let name = tag.name.to_string();
                if name == "pre" && tag.kind == TagKind::EndTag {
                    *pre = pre.saturating_sub(1);
                }
                let mut attrs: Vec<String> = tag
                    .attrs
                    .iter()
                    .map(|a| format!("{}={:?}", &*a.name.local, &*a.value))
                    .collect();
                attrs.sort();
                let s = match tag.kind {
                    TagKind::StartTag => format!("<{name} {}>", attrs.join(" ")),
                    TagKind::EndTag => format!("</{name}>"),
                };
                out.push((s, BLOCKS.contains(&name.as_str())));
                if name == "pre" && tag.kind == TagKind::StartTag {
                    *pre += 1;
                }
            }
            Token::CharacterTokens(t) => {
                let t: String = if *pre > 0 {
                    t.to_string()
                } else {
                    let mut s = String::new();
                    let mut ws = false;
                    for c in t.chars() {
                        if c.is_ascii_whitespace() {
                            ws = true;
                        } else {
                            if ws {
                                s.push(' ');
                            }
                            ws = false;
                            s.push(c);
                        }
                    }
                    if ws {
                        s.push(' ');
                    }
                    s
                };
                let in_pre = *pre > 0;
                match out.last_mut() {
                    Some((last, false)) if last.starts_with('#') => {
                        if !in_pre && last.ends_with(' ') && t.starts_with(' ') {
                            last.push_str(&t[1..]);
                        } else {
                            last.push_str(&t);
                        }
                    }
                    _ => out.push((format!("#{t}"), false)),
                }
                if in_pre {
                    // Mark pre text so it is never trimmed.
                    let last = out.last_mut().unwrap();
                    if !last.0.starts_with("#\u{0}") {
                        last.0.insert(1, '\u{0}');
                    }
                }
            }
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

/// A structural, whitespace-normalized view of an HTML fragment: tags with
/// sorted attributes, and text with whitespace runs collapsed (exact inside
/// `<pre>`), whitespace next to block boundaries dropped.
pub fn normalize(html: &str) -> Vec<String> {
    let tok =
        Tokenizer::new(Collect(RefCell::new(Vec::new()), RefCell::new(0)), Default::default());
    let q = BufferQueue::default();
    q.push_back(StrTendril::from_slice(html));
    let _ = tok.feed(&q);
    tok.end();
    let v = tok.sink.0.into_inner();
    let mut out = Vec::with_capacity(v.len());
    for i in 0..v.len() {
        let (s, _) = &v[i];
        if !s.starts_with('#') || s.starts_with("#\u{0}") {
            out.push(s.clone());
            continue;
        }
        let mut t: &str = &s[1..];
        if i == 0 || v[i - 1].1 {
            t = t.trim_start();
        }
        if i + 1 == v.len() || v[i + 1].1 {
            t = t.trim_end();
        }
        if !t.is_empty() {
            out.push(format!("#{t}"));
        }
    }
    out
}
