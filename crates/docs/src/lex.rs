//! A fast HTML tokenizer for documents.
//!
//! It follows the HTML tokenization rules that matter for real pages —
//! case-insensitive tag and attribute names, quoted and unquoted attribute
//! values, named (including legacy, semicolon-less) and numeric character
//! references with the windows-1252 fix-ups, comments, doctypes and bogus
//! comments, raw text (`script`, `style`, …), RCDATA (`title`, `textarea`)
//! and `plaintext`, CR/LF normalization — and skips the parse-error
//! bookkeeping a validator needs. Text is scanned with `memchr`, so plain
//! runs cost a memcpy. A tag cut off by the end of input is dropped, as the
//! standard says.

use std::borrow::Cow;

use html5ever::data::{C1_REPLACEMENTS, NAMED_ENTITIES};
use html5ever::LocalName;

use crate::dom::Attr;

/// How the content after a start tag is tokenized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Raw {
    /// Normal markup.
    No,
    /// Raw text up to the matching end tag (script, style, xmp, iframe…).
    Text,
    /// Text with character references up to the matching end tag (title, textarea).
    Rcdata,
    /// Everything to the end is text.
    Plaintext,
}

/// Receives tokens.
pub(crate) trait Sink {
    /// A start tag; the answer says how to read what follows.
    fn start(&mut self, name: LocalName, attrs: Vec<Attr>, self_closing: bool) -> Raw;
    /// An end tag.
    fn end(&mut self, name: LocalName);
    /// Character data, references decoded.
    fn text(&mut self, text: Cow<'_, str>);
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0C' | b'\r')
}

/// Tokenizes `html` into `sink`.
pub(crate) fn tokenize(html: &str, sink: &mut impl Sink) {
    let normalized;
    let html = if html.bytes().any(|b| b == b'\r' || b == 0) {
        normalized = html.replace("\r\n", "\n").replace(['\r'], "\n").replace('\0', "\u{FFFD}");
        normalized.as_str()
    } else {
        html
    };
    let b = html.as_bytes();
    let len = b.len();
    let mut pos = 0;
    while pos < len {
        let lt = memchr::memchr(b'<', &b[pos..]).map_or(len, |i| pos + i);
        if lt > pos {
            sink.text(decode(&html[pos..lt], false));
        }
        if lt >= len {
            break;
        }
        pos = lt;
        match b.get(pos + 1) {
            Some(b'!') => pos = skip_decl(b, pos),
            Some(b'?') => pos = skip_past_gt(b, pos),
            Some(b'/') => match b.get(pos + 2) {
                Some(c) if c.is_ascii_alphabetic() => {
                    let (name, after) = read_name(html, pos + 2);
                    match skip_attrs_to_gt(b, after) {
                        Some(end) => {
                            pos = end;
                            sink.end(name);
                        }
                        None => break,
                    }
                }
                Some(b'>') => pos += 3,
                Some(_) => pos = skip_past_gt(b, pos),
                None => {
                    sink.text(Cow::Borrowed("</"));
                    break;
                }
            },
            Some(c) if c.is_ascii_alphabetic() => {
                let Some((name, attrs, self_closing, end)) = start_tag(html, pos + 1) else {
                    break;
                };
                pos = end;
                let raw_name = name.clone();
                match sink.start(name, attrs, self_closing) {
                    Raw::No => {}
                    Raw::Plaintext => {
                        if pos < len {
                            sink.text(Cow::Borrowed(&html[pos..]));
                        }
                        break;
                    }
                    mode => {
                        let (text_end, after) = find_end_tag(b, pos, &raw_name);
                        if text_end > pos {
                            let t = &html[pos..text_end];
                            sink.text(if mode == Raw::Rcdata {
                                decode(t, false)
                            } else {
                                Cow::Borrowed(t)
                            });
                        }
                        if after <= len && text_end < len {
                            sink.end(raw_name);
                        }
                        pos = after;
                    }
                }
            }
            _ => {
                sink.text(Cow::Borrowed("<"));
                pos += 1;
            }
        }
    }
}

/// `<!-- … -->`, `<!DOCTYPE …>`, `<![CDATA[…]]>` and other `<!` declarations.
fn skip_decl(b: &[u8], pos: usize) -> usize {
    if b[pos..].starts_with(b"<!--") {
        let body = pos + 4;
        // `<!-->` and `<!--->` are complete (empty) comments.
        if b[body..].starts_with(b">") {
            return body + 1;
        }
        if b[body..].starts_with(b"->") {
            return body + 2;
        }
        return memchr::memmem::find(&b[body..], b"-->").map_or(b.len(), |i| body + i + 3);
    }
    if b[pos..].starts_with(b"<![CDATA[") {
        let body = pos + 9;
        return memchr::memmem::find(&b[body..], b"]]>").map_or(b.len(), |i| body + i + 3);
    }
    skip_past_gt(b, pos)
}

fn skip_past_gt(b: &[u8], pos: usize) -> usize {
    memchr::memchr(b'>', &b[pos..]).map_or(b.len(), |i| pos + i + 1)
}

/// Reads a tag or attribute name starting at `at`, lower-cased.
fn read_name(html: &str, at: usize) -> (LocalName, usize) {
    let b = html.as_bytes();
    let mut end = at;
    while end < b.len() && !is_ws(b[end]) && b[end] != b'/' && b[end] != b'>' {
        end += 1;
    }
    (lower_atom(&html[at..end]), end)
}

fn lower_atom(s: &str) -> LocalName {
    if s.bytes().any(|c| c.is_ascii_uppercase()) {
        LocalName::from(s.to_ascii_lowercase())
    } else {
        LocalName::from(s)
    }
}

/// Skips an end tag's attributes (quotes respected) to just past `>`.
fn skip_attrs_to_gt(b: &[u8], mut i: usize) -> Option<usize> {
    while i < b.len() {
        match b[i] {
            b'>' => return Some(i + 1),
            q @ (b'"' | b'\'') => {
                i = memchr::memchr(q, &b[i + 1..]).map(|k| i + 1 + k + 1)?;
            }
            _ => i += 1,
        }
    }
    None
}

/// Parses a start tag whose name starts at `at`. `None` at end of input.
fn start_tag(html: &str, at: usize) -> Option<(LocalName, Vec<Attr>, bool, usize)> {
    let b = html.as_bytes();
    let (name, mut i) = read_name(html, at);
    let mut attrs: Vec<Attr> = Vec::new();
    let mut self_closing = false;
    loop {
        while i < b.len() && is_ws(b[i]) {
            i += 1;
        }
        match *b.get(i)? {
            b'>' => return Some((name, attrs, self_closing, i + 1)),
            b'/' => {
                i += 1;
                self_closing = b.get(i) == Some(&b'>');
                continue;
            }
            _ => {}
        }
        self_closing = false;
        // Attribute name; a leading `=` belongs to it.
        let start = i;
        i += 1;
        while i < b.len() && !is_ws(b[i]) && !matches!(b[i], b'/' | b'>' | b'=') {
            i += 1;
        }
        let attr_name = &html[start..i];
        while i < b.len() && is_ws(b[i]) {
            i += 1;
        }
        let mut value = Cow::Borrowed("");
        if b.get(i) == Some(&b'=') {
            i += 1;
            while i < b.len() && is_ws(b[i]) {
                i += 1;
            }
            match *b.get(i)? {
                q @ (b'"' | b'\'') => {
                    let end = memchr::memchr(q, &b[i + 1..]).map(|k| i + 1 + k)?;
                    value = decode(&html[i + 1..end], true);
                    i = end + 1;
                }
                b'>' => {}
                _ => {
                    let s = i;
                    while i < b.len() && !is_ws(b[i]) && b[i] != b'>' {
                        i += 1;
                    }
                    value = decode(&html[s..i], true);
                }
            }
        }
        let attr_name = lower_atom(attr_name);
        if !attrs.iter().any(|a| a.name == attr_name) {
            attrs.push(Attr { name: attr_name, value: value.into_owned() });
        }
    }
}

/// Finds the end tag `</name` (any case, followed by whitespace, `/` or `>`)
/// from `from`: returns (end of the text, position after the end tag).
fn find_end_tag(b: &[u8], from: usize, name: &LocalName) -> (usize, usize) {
    let n = name.as_bytes();
    let mut i = from;
    while let Some(k) = memchr::memchr(b'<', &b[i..]) {
        let lt = i + k;
        let after_name = lt + 2 + n.len();
        if b.get(lt + 1) == Some(&b'/')
            && b.len() >= after_name
            && b[lt + 2..after_name].eq_ignore_ascii_case(n)
            && b.get(after_name).is_none_or(|&c| is_ws(c) || c == b'/' || c == b'>')
        {
            let end = skip_attrs_to_gt(b, after_name).unwrap_or(b.len());
            return (lt, end);
        }
        i = lt + 1;
    }
    (b.len(), b.len())
}

/// Decodes character references. `attr` applies the attribute-value rule:
/// a legacy reference without `;` followed by an alphanumeric or `=` stays literal.
pub(crate) fn decode(s: &str, attr: bool) -> Cow<'_, str> {
    let Some(first) = memchr::memchr(b'&', s.as_bytes()) else { return Cow::Borrowed(s) };
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    out.push_str(&s[..first]);
    let mut i = first;
    while i < b.len() {
        if b[i] != b'&' {
            let next = memchr::memchr(b'&', &b[i..]).map_or(b.len(), |k| i + k);
            out.push_str(&s[i..next]);
            i = next;
            continue;
        }
        match reference(s, i + 1, attr) {
            Some((text, used)) => {
                out.push_str(&text);
                i += 1 + used;
            }
            None => {
                out.push('&');
                i += 1;
            }
        }
    }
    Cow::Owned(out)
}

/// Decodes the reference after an `&` at `at`: (replacement, bytes used).
fn reference(s: &str, at: usize, attr: bool) -> Option<(String, usize)> {
    let b = s.as_bytes();
    if b.get(at) == Some(&b'#') {
        let (hex, digits_at) = match b.get(at + 1) {
            Some(b'x' | b'X') => (true, at + 2),
            _ => (false, at + 1),
        };
        let mut end = digits_at;
        while end < b.len()
            && (if hex { b[end].is_ascii_hexdigit() } else { b[end].is_ascii_digit() })
        {
            end += 1;
        }
        if end == digits_at {
            return None;
        }
        let digits = &s[digits_at..end];
        let n = u32::from_str_radix(&digits[..digits.len().min(8)], if hex { 16 } else { 10 })
            .ok()
            .filter(|_| digits.trim_start_matches('0').len() <= 7)
            .unwrap_or(0x110000);
        let c = match n {
            0 => '\u{FFFD}',
            0x80..=0x9F => C1_REPLACEMENTS[(n - 0x80) as usize]
                .unwrap_or_else(|| char::from_u32(n).unwrap_or('\u{FFFD}')),
            _ => char::from_u32(n).unwrap_or('\u{FFFD}'),
        };
        let used = end - at + usize::from(b.get(end) == Some(&b';'));
        return Some((c.to_string(), used));
    }
    // Named: longest match in the entity table (keys include the `;` when required).
    let mut best: Option<(u32, u32, usize)> = None;
    let mut end = at;
    while end < b.len() && end - at < 40 {
        let c = b[end];
        if !(c.is_ascii_alphanumeric() || c == b';') {
            break;
        }
        end += 1;
        match NAMED_ENTITIES.get(&s[at..end]) {
            Some(&(c1, c2)) => {
                if c1 != 0 {
                    best = Some((c1, c2, end - at));
                }
            }
            None => break,
        }
        if c == b';' {
            break;
        }
    }
    let (c1, c2, used) = best?;
    if attr && !s[at..at + used].ends_with(';') {
        if let Some(&next) = b.get(at + used) {
            if next.is_ascii_alphanumeric() || next == b'=' {
                return None;
            }
        }
    }
    let mut text = String::new();
    text.extend(char::from_u32(c1));
    if c2 != 0 {
        text.extend(char::from_u32(c2));
    }
    Some((text, used))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Rec(Vec<String>);

    impl Sink for Rec {
        fn start(&mut self, name: LocalName, attrs: Vec<Attr>, sc: bool) -> Raw {
            let a: Vec<String> =
                attrs.iter().map(|a| format!("{}={}", &*a.name, a.value)).collect();
            self.0.push(format!(
                "<{}{}{}{}>",
                &*name,
                if a.is_empty() { "" } else { " " },
                a.join(" "),
                if sc { "/" } else { "" }
            ));
            match &*name {
                "script" | "style" => Raw::Text,
                "title" => Raw::Rcdata,
                "plaintext" => Raw::Plaintext,
                _ => Raw::No,
            }
        }
        fn end(&mut self, name: LocalName) {
            self.0.push(format!("</{}>", &*name));
        }
        fn text(&mut self, t: Cow<'_, str>) {
            match self.0.last_mut() {
                Some(l) if !l.starts_with('<') => l.push_str(&t),
                _ => self.0.push(t.into_owned()),
            }
        }
    }

    fn toks(html: &str) -> Vec<String> {
        let mut r = Rec::default();
        tokenize(html, &mut r);
        r.0
    }

    #[test]
    fn tags_attributes_and_references() {
        assert_eq!(
            toks("<A HREF='x&amp;y' data-q=\"a>b\" checked id=z/>t&lt;&#x41;&#65&copy x&notit; &bogus;</A >"),
            vec!["<a href=x&y data-q=a>b checked= id=z/>", "t<AA© x¬it; &bogus;", "</a>"]
        );
        assert_eq!(toks("<a href=\"?a=1&copy=2&amp;b\">"), vec!["<a href=?a=1&copy=2&b>"]);
        assert_eq!(toks("&#0;&#x80;&#1114112;&#xD800;"), vec!["\u{FFFD}€\u{FFFD}\u{FFFD}"]);
    }

    #[test]
    fn comments_raw_text_and_oddities() {
        assert_eq!(toks("a<!-- <p> -->b<!DOCTYPE html><!-->c<?xml x?>d"), vec!["abcd"]);
        assert_eq!(
            toks("<script>if (a<b && c) {}</SCRIPT>x"),
            vec!["<script>", "if (a<b && c) {}", "</script>", "x"]
        );
        assert_eq!(toks("<title>a &amp; <b></title>"), vec!["<title>", "a & <b>", "</title>"]);
        assert_eq!(toks("1 < 2 <3 </ 4"), vec!["1 < 2 <3 "]);
        assert_eq!(toks("x<p class=\"unterminated"), vec!["x"]);
        assert_eq!(toks("a\r\nb\rc"), vec!["a\nb\nc"]);
        assert_eq!(toks("<plaintext><b>x"), vec!["<plaintext>", "<b>x"]);
    }
}
