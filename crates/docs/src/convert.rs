//! The markdown writer: walks the DOM once and writes CommonMark + GFM tables.

use std::borrow::Cow;

use html5ever::{local_name, LocalName};
use url::Url;

use crate::dom::{Data, Dom, NodeId, NONE};
use crate::extract::{self, is_chrome};

/// How to convert a page.
#[derive(Debug, Clone)]
pub struct ConvertOptions {
    /// Resolve relative links and images against this URL (the page's own URL).
    pub base_url: Option<Url>,
    /// Keep only the main content (`<main>`, `<article>` or the densest
    /// block) and drop navigation, headers, footers, sidebars and other
    /// chrome. When false, the whole `<body>` is converted (chrome elements
    /// such as scripts and navigation are still dropped).
    pub main_content: bool,
}

impl Default for ConvertOptions {
    fn default() -> Self {
        ConvertOptions { base_url: None, main_content: true }
    }
}

/// A converted page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Markdown {
    /// The page's `<title>`, whitespace-collapsed.
    pub title: Option<String>,
    /// Text of the first `<h1>`.
    pub h1: Option<String>,
    /// The meta description (`name=description` or `og:description`).
    pub description: Option<String>,
    /// Target of a `<meta http-equiv=refresh>` redirect, if the page is one.
    pub redirect: Option<String>,
    /// The markdown, ending with one newline (empty if the page has no content).
    pub markdown: String,
}

/// Converts an HTML string to markdown. Never fails: malformed HTML is
/// repaired the way browsers do (implied end tags, stray tags ignored).
pub fn convert_html(html: &str, opts: &ConvertOptions) -> Markdown {
    let dom = Dom::parse(html);
    let meta = extract::meta(&dom);
    let base = match (&opts.base_url, &meta.base_href) {
        (Some(b), Some(h)) => b.join(h).ok().or_else(|| Some(b.clone())),
        (Some(b), None) => Some(b.clone()),
        (None, Some(h)) => Url::parse(h).ok(),
        (None, None) => None,
    };
    let root = if opts.main_content { extract::content_root(&dom) } else { 0 };
    // The page's own H1 is the one in its content, not a site banner's.
    let h1 = dom.find(root, &|n| dom.name(n) == Some(&local_name!("h1"))).and_then(|n| {
        let mut t = String::new();
        extract::visible_text(&dom, n, &mut t);
        Some(extract::collapse(&t)).filter(|t| !t.is_empty())
    });
    let mut w = Writer::new(&dom, base);
    w.blocks(root);
    w.flush();
    let mut markdown = w.out;
    let trimmed = markdown.trim_end().len();
    markdown.truncate(trimmed);
    if !markdown.is_empty() {
        markdown.push('\n');
    }
    Markdown {
        title: meta.title,
        h1,
        description: meta.description,
        redirect: meta.refresh,
        markdown,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sep {
    Newline,
    Blank,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Quote,
    Item { tight: bool },
    Other,
}

struct Level {
    first: String,
    rest: String,
    first_pending: bool,
    kind: Kind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Normal,
    Heading,
    Cell,
}

struct Writer<'a> {
    dom: &'a Dom,
    base: Option<Url>,
    has_block: Vec<bool>,
    out: String,
    levels: Vec<Level>,
    sep: Sep,
    inline: String,
    space: bool,
    mode: Mode,
    /// The previous block was a list: (ordered, delimiter char).
    last_list: Option<(bool, char)>,
    /// `id` of the heading being written.
    heading_id: Option<String>,
}

fn is_block(n: &LocalName) -> bool {
    matches!(
        *n,
        local_name!("address")
            | local_name!("article")
            | local_name!("aside")
            | local_name!("blockquote")
            | local_name!("body")
            | local_name!("center")
            | local_name!("details")
            | local_name!("dialog")
            | local_name!("dd")
            | local_name!("div")
            | local_name!("dl")
            | local_name!("dt")
            | local_name!("fieldset")
            | local_name!("figcaption")
            | local_name!("figure")
            | local_name!("footer")
            | local_name!("form")
            | local_name!("h1")
            | local_name!("h2")
            | local_name!("h3")
            | local_name!("h4")
            | local_name!("h5")
            | local_name!("h6")
            | local_name!("header")
            | local_name!("hgroup")
            | local_name!("hr")
            | local_name!("html")
            | local_name!("li")
            | local_name!("listing")
            | local_name!("main")
            | local_name!("menu")
            | local_name!("nav")
            | local_name!("ol")
            | local_name!("p")
            | local_name!("pre")
            | local_name!("section")
            | local_name!("summary")
            | local_name!("table")
            | local_name!("tbody")
            | local_name!("td")
            | local_name!("tfoot")
            | local_name!("th")
            | local_name!("thead")
            | local_name!("tr")
            | local_name!("caption")
            | local_name!("ul")
            | local_name!("xmp")
            | local_name!("plaintext")
    )
}

fn heading_level(n: &LocalName) -> Option<usize> {
    Some(match *n {
        local_name!("h1") => 1,
        local_name!("h2") => 2,
        local_name!("h3") => 3,
        local_name!("h4") => 4,
        local_name!("h5") => 5,
        local_name!("h6") => 6,
        _ => return None,
    })
}

fn is_html_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0C')
}

fn has_class(dom: &Dom, id: NodeId, want: &str) -> bool {
    dom.attr(id, &local_name!("class"))
        .is_some_and(|c| c.split_ascii_whitespace().any(|t| t.contains(want)))
}

/// Footnote label from an id or fragment: `fn:1`, `fn-1`, `fnref1` … → `1`.
fn footnote_label(id: &str) -> String {
    let mut s = id.trim_start_matches("user-content-");
    for p in ["footnote-ref-", "footnote-", "fnref:", "fnref-", "fnref", "fn:", "fn-", "fn"] {
        if let Some(r) = s.strip_prefix(p) {
            if !r.is_empty() {
                s = r;
                break;
            }
        }
    }
    let label: String =
        s.chars().filter(|c| !c.is_whitespace() && !matches!(c, '[' | ']' | '^' | '\\')).collect();
    if label.is_empty() {
        "note".into()
    } else {
        label
    }
}

/// Is `c` punctuation in CommonMark's sense (ASCII or Unicode P/S)?
fn is_punct(c: char) -> bool {
    c.is_ascii_punctuation() || (!c.is_ascii() && !c.is_alphanumeric() && !c.is_whitespace())
}

fn is_ws_or_none(c: Option<char>) -> bool {
    c.is_none_or(char::is_whitespace)
}

fn left_flanking(prev: Option<char>, next: Option<char>) -> bool {
    !is_ws_or_none(next)
        && (!next.is_some_and(is_punct) || is_ws_or_none(prev) || prev.is_some_and(is_punct))
}

fn right_flanking(prev: Option<char>, next: Option<char>) -> bool {
    left_flanking(next, prev)
}

/// Can a delimiter run of `d` wrap content `first..last` between `prev` and `next`?
fn delim_ok(d: char, prev: Option<char>, first: char, last: char, next: Option<char>) -> bool {
    if first == d || last == d || prev == Some(d) || next == Some(d) {
        return false;
    }
    let (p, f, l, n) = (prev, Some(first), Some(last), next);
    let open = left_flanking(p, f);
    let close = right_flanking(l, n);
    if d == '*' || d == '~' {
        return open && close;
    }
    // `_` may not open or close inside a word.
    open && close
        && (!right_flanking(p, f) || p.is_some_and(is_punct))
        && (!left_flanking(l, n) || n.is_some_and(is_punct))
}

/// Escapes the start of a paragraph line so it cannot begin a block construct.
fn fix_line_start(line: &str) -> Cow<'_, str> {
    let b = line.as_bytes();
    let Some(&c) = b.first() else { return Cow::Borrowed(line) };
    let after = |i: usize| b.get(i).is_none_or(|&x| x == b' ' || x == b'\t');
    match c {
        b'#' => {
            let n = b.iter().take_while(|&&x| x == b'#').count();
            if n <= 6 && after(n) {
                return Cow::Owned(format!("\\{line}"));
            }
        }
        b'>' => return Cow::Owned(format!("\\{line}")),
        b'-' | b'+' | b'=' if after(1) || line.trim_end().bytes().all(|x| x == c) => {
            return Cow::Owned(format!("\\{line}"));
        }
        b'0'..=b'9' => {
            let n = b.iter().take_while(|x| x.is_ascii_digit()).count();
            if n <= 9 && matches!(b.get(n), Some(b'.') | Some(b')')) && after(n + 1) {
                return Cow::Owned(format!("{}\\{}", &line[..n], &line[n..]));
            }
        }
        _ => {}
    }
    Cow::Borrowed(line)
}

/// Writes `url` as a link destination.
fn push_dest(out: &mut String, url: &str) {
    let mut depth = 0i32;
    let mut balanced = true;
    for c in url.chars() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    balanced = false;
                }
            }
            _ => {}
        }
    }
    balanced &= depth == 0;
    if url.is_empty() || url.chars().any(|c| c == ' ' || c.is_control() || c == '<' || c == '>') {
        out.push('<');
        for c in url.chars() {
            match c {
                '<' | '>' | '\\' => {
                    out.push('\\');
                    out.push(c);
                }
                '\n' | '\r' => out.push_str("%0A"),
                _ => out.push(c),
            }
        }
        out.push('>');
        return;
    }
    for c in url.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '(' | ')' if !balanced => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
}

fn push_title(out: &mut String, title: Option<&str>) {
    let Some(t) = title else { return };
    out.push_str(" \"");
    for c in t.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

impl<'a> Writer<'a> {
    fn new(dom: &'a Dom, base: Option<Url>) -> Self {
        let mut has_block = vec![false; dom.nodes.len()];
        for i in (1..dom.nodes.len()).rev() {
            let node = &dom.nodes[i];
            let block =
                has_block[i] || matches!(&node.data, Data::Element { name, .. } if is_block(name));
            if block && node.parent != NONE {
                has_block[node.parent as usize] = true;
            }
        }
        Writer {
            dom,
            base,
            has_block,
            out: String::new(),
            levels: Vec::new(),
            sep: Sep::Blank,
            inline: String::new(),
            space: false,
            mode: Mode::Normal,
            last_list: None,
            heading_id: None,
        }
    }

    fn attr(&self, id: NodeId, name: &LocalName) -> Option<&'a str> {
        self.dom.attr(id, name)
    }

    fn ctx_sep(&self) -> Sep {
        match self.levels.last() {
            Some(Level { kind: Kind::Item { tight: true }, .. }) => Sep::Newline,
            _ => Sep::Blank,
        }
    }

    // ---- block output -------------------------------------------------

    fn write_prefix(&mut self) {
        for l in &mut self.levels {
            if l.first_pending {
                self.out.push_str(&l.first);
                l.first_pending = false;
            } else {
                self.out.push_str(&l.rest);
            }
        }
    }

    /// Ends the current line and starts a continuation line of the current block.
    fn line_break(&mut self) {
        self.out.push('\n');
        for l in &self.levels {
            self.out.push_str(&l.rest);
        }
    }

    /// Separates a new block from the previous one and writes the prefixes.
    fn begin_block(&mut self) {
        if !self.out.is_empty() {
            self.out.push('\n');
            if self.sep == Sep::Blank {
                let start = self.out.len();
                for l in self.levels.iter().filter(|l| !l.first_pending) {
                    self.out.push_str(&l.rest);
                }
                let keep = self.out.trim_end_matches(' ').len().max(start);
                self.out.truncate(keep);
                self.out.push('\n');
            }
        }
        self.write_prefix();
        self.sep = self.ctx_sep();
        self.last_list = None;
    }

    fn push_level(&mut self, first: String, rest: String, kind: Kind) {
        self.flush();
        self.levels.push(Level { first, rest, first_pending: true, kind });
    }

    fn pop_level(&mut self) {
        self.flush();
        if self.levels.last().is_some_and(|l| l.first_pending) {
            // An empty container still shows its marker.
            self.begin_block();
            let keep = self.out.trim_end_matches(' ').len();
            self.out.truncate(keep);
        }
        self.levels.pop();
        self.sep = self.ctx_sep();
        self.last_list = None;
    }

    /// Writes the pending inline text as a paragraph.
    fn flush(&mut self) {
        self.space = false;
        if self.inline.is_empty() {
            return;
        }
        let text = std::mem::take(&mut self.inline);
        let mut t = text.trim_matches(is_html_ws);
        while let Some(s) = t.strip_suffix("\\\n") {
            t = s.trim_end_matches(is_html_ws);
        }
        if !t.is_empty() {
            self.begin_block();
            for (i, line) in t.split('\n').enumerate() {
                if i > 0 {
                    self.line_break();
                }
                let line = fix_line_start(line.trim_start_matches(is_html_ws));
                self.out.push_str(&line);
            }
        }
        let mut text = text;
        text.clear();
        self.inline = text;
    }

    /// Converts the children of `id` as a sequence of blocks.
    fn blocks(&mut self, id: NodeId) {
        for c in self.dom.children(id) {
            self.node(c);
        }
    }

    fn node(&mut self, id: NodeId) {
        let dom = self.dom;
        let name = match &dom.node(id).data {
            Data::Text(t) => {
                self.text(t);
                return;
            }
            Data::Document => return self.blocks(id),
            Data::Element { name, .. } => name,
        };
        if is_chrome(dom, id) {
            return;
        }
        if !is_block(name) && !self.has_block[id as usize] {
            return self.inline_element(id, name);
        }
        if self.mode != Mode::Normal {
            // Blocks inside a table cell or heading are flattened.
            if *name == local_name!("pre") {
                return self.code_span(id);
            }
            if !self.inline.is_empty() && !self.inline.ends_with(' ') {
                self.inline.push_str(if self.mode == Mode::Cell { "<br>" } else { " " });
            }
            self.space = false;
            return self.blocks(id);
        }
        if let Some(level) = heading_level(name) {
            return self.heading(id, level);
        }
        match *name {
            local_name!("pre")
            | local_name!("listing")
            | local_name!("xmp")
            | local_name!("plaintext") => {
                self.flush();
                self.code_block(id);
            }
            local_name!("blockquote") => {
                self.push_level("> ".into(), "> ".into(), Kind::Quote);
                self.blocks(id);
                self.pop_level();
            }
            local_name!("ul") | local_name!("menu") => self.list(id, false),
            local_name!("ol") => self.list(id, true),
            local_name!("dl") => self.def_list(id),
            local_name!("table") => self.table(id),
            local_name!("hr") => {
                self.flush();
                let item_start = self
                    .levels
                    .last()
                    .is_some_and(|l| l.first_pending && matches!(l.kind, Kind::Item { .. }));
                let rule = if item_start {
                    "___"
                } else if self.sep == Sep::Newline {
                    "***"
                } else {
                    "---"
                };
                self.begin_block();
                self.out.push_str(rule);
            }
            _ if has_class(dom, id, "footnote-definition")
                && self.attr(id, &local_name!("id")).is_some() =>
            {
                self.footnote_def(id, self.attr(id, &local_name!("id")).unwrap_or(""));
            }
            _ if has_class(dom, id, "footnotes")
                || self.attr(id, &local_name!("role")) == Some("doc-endnotes") =>
            {
                self.footnote_section(id);
            }
            _ => {
                self.flush();
                self.blocks(id);
                self.flush();
            }
        }
    }

    // ---- inline output ------------------------------------------------

    fn text(&mut self, t: &str) {
        let mut prev = self.inline.chars().next_back();
        let mut chars = t.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if is_html_ws(c) {
                if !self.inline.is_empty() {
                    self.space = true;
                }
                continue;
            }
            if self.space {
                self.inline.push(' ');
                prev = Some(' ');
                self.space = false;
            }
            let next = chars.peek().map(|&(_, n)| n);
            let esc = match c {
                '\\' | '`' | '*' | '[' | ']' | '~' => true,
                '_' => {
                    !(prev.is_some_and(char::is_alphanumeric)
                        && next.is_some_and(char::is_alphanumeric))
                }
                '<' => {
                    next.is_some_and(|n| n.is_ascii_alphabetic() || matches!(n, '/' | '!' | '?'))
                }
                '&' => {
                    let rest = &t[i + 1..];
                    let rest = rest.strip_prefix('#').unwrap_or(rest);
                    let n = rest.bytes().take_while(u8::is_ascii_alphanumeric).count();
                    n > 0 && rest.as_bytes().get(n) == Some(&b';')
                }
                _ => false,
            };
            if esc {
                self.inline.push('\\');
            }
            self.inline.push(c);
            prev = Some(c);
        }
    }

    fn flush_space(&mut self) {
        if self.space {
            self.inline.push(' ');
            self.space = false;
        }
    }

    fn inline_children(&mut self, id: NodeId) {
        for c in self.dom.children(id) {
            self.node(c);
        }
    }

    /// The first character that will follow element `id` in the output.
    fn next_char(&self, id: NodeId) -> Option<char> {
        if self.space {
            return Some(' ');
        }
        let dom = self.dom;
        let mut cur = id;
        loop {
            let next = dom.node(cur).next;
            if next != NONE {
                return match &dom.node(next).data {
                    Data::Text(t) => t.chars().next().map(|c| if is_html_ws(c) { ' ' } else { c }),
                    Data::Element { name, .. } if is_block(name) || *name == local_name!("br") => {
                        None
                    }
                    Data::Element { .. } => {
                        let mut s = String::new();
                        dom.text(next, &mut s);
                        Some(s.chars().next().map_or('a', |c| if is_html_ws(c) { ' ' } else { c }))
                    }
                    Data::Document => None,
                };
            }
            cur = dom.node(cur).parent;
            if cur == NONE || dom.name(cur).is_none_or(is_block) {
                return None;
            }
        }
    }

    /// Wraps `self.inline[start..]` in emphasis delimiters (or HTML tags when
    /// no delimiter can open and close there).
    fn wrap(&mut self, id: NodeId, start: usize, delims: [&str; 2], tag: &str) {
        let content = &self.inline[start..];
        let lead = content.len() - content.trim_start_matches(' ').len();
        let body = content.trim_start_matches(' ');
        let (Some(first), Some(last)) = (body.chars().next(), body.chars().next_back()) else {
            return;
        };
        let open_at = start + lead;
        let prev = self.inline[..open_at].chars().next_back();
        let next = self.next_char(id);
        let d = delims
            .iter()
            .find(|d| delim_ok(d.chars().next().unwrap_or('*'), prev, first, last, next));
        match d {
            Some(d) => {
                self.inline.insert_str(open_at, d);
                self.inline.push_str(d);
            }
            None => {
                self.inline.insert_str(open_at, &format!("<{tag}>"));
                self.inline.push_str(&format!("</{tag}>"));
            }
        }
    }

    fn resolve(&self, href: &str) -> String {
        let href = href.trim();
        if href.starts_with('#') {
            return href.to_string();
        }
        match &self.base {
            Some(b) => b.join(href).map(|u| u.to_string()).unwrap_or_else(|_| href.to_string()),
            None => href.to_string(),
        }
    }

    fn inline_element(&mut self, id: NodeId, name: &LocalName) {
        match *name {
            local_name!("em") | local_name!("i") | local_name!("cite") | local_name!("dfn") => {
                let start = self.inline.len();
                self.inline_children(id);
                self.wrap(id, start, ["*", "_"], "em");
            }
            local_name!("strong") | local_name!("b") => {
                let start = self.inline.len();
                self.inline_children(id);
                self.wrap(id, start, ["**", "__"], "strong");
            }
            local_name!("del") | local_name!("s") | local_name!("strike") => {
                let start = self.inline.len();
                self.inline_children(id);
                self.wrap(id, start, ["~~", "~~"], "del");
            }
            local_name!("code") | local_name!("kbd") | local_name!("samp") | local_name!("tt") => {
                self.code_span(id)
            }
            local_name!("a") => self.link(id),
            local_name!("img") => self.image(id),
            local_name!("br") => match self.mode {
                Mode::Normal => {
                    self.inline.push_str("\\\n");
                    self.space = false;
                }
                Mode::Heading => self.space = !self.inline.is_empty(),
                Mode::Cell => {
                    self.inline.push_str("<br>");
                    self.space = false;
                }
            },
            local_name!("input") => {
                if self.inline.trim().is_empty() {
                    let checked = self.attr(id, &local_name!("checked")).is_some();
                    self.inline.clear();
                    self.inline.push_str(if checked { "[x]" } else { "[ ]" });
                    self.space = true;
                }
            }
            local_name!("sup") => {
                if let Some(label) = self.footnote_ref(id) {
                    self.flush_space();
                    self.inline.push_str("[^");
                    self.inline.push_str(&label);
                    self.inline.push(']');
                } else {
                    self.inline_children(id);
                }
            }
            local_name!("wbr") => {}
            _ => self.inline_children(id),
        }
    }

    fn footnote_ref(&self, sup: NodeId) -> Option<String> {
        let dom = self.dom;
        let a = dom.children(sup).find(|&c| dom.name(c) == Some(&local_name!("a")))?;
        let href = dom.attr(a, &local_name!("href"))?.strip_prefix('#')?;
        let marked = has_class(dom, sup, "footnote")
            || has_class(dom, a, "footnote")
            || dom.attr(a, &local_name!("role")) == Some("doc-noteref")
            || dom.attr_str(a, "data-footnote-ref").is_some()
            || href.starts_with("fn");
        marked.then(|| footnote_label(href))
    }

    fn code_span(&mut self, id: NodeId) {
        let mut code = String::new();
        self.dom.text(id, &mut code);
        let code = code.replace(['\n', '\r'], " ");
        if code.is_empty() {
            return;
        }
        self.flush_space();
        let longest = code.split(|c| c != '`').map(str::len).max().unwrap_or(0);
        let fence = "`".repeat(longest + 1);
        let pad = code.starts_with('`')
            || code.ends_with('`')
            || (code.starts_with(' ') && code.ends_with(' ') && code.trim() != "");
        self.inline.push_str(&fence);
        if pad {
            self.inline.push(' ');
        }
        self.inline.push_str(&code);
        if pad {
            self.inline.push(' ');
        }
        self.inline.push_str(&fence);
    }

    fn link(&mut self, id: NodeId) {
        let dom = self.dom;
        let href = self.attr(id, &local_name!("href"));
        let Some(href) =
            href.filter(|h| !h.trim_start().to_ascii_lowercase().starts_with("javascript:"))
        else {
            return self.inline_children(id);
        };
        // A heading's link to itself (mdBook's `<a class="header">`) is just its text.
        if self.mode == Mode::Heading
            && href.starts_with('#')
            && (self.heading_id.as_deref() == Some(&href[1..]) || has_class(dom, id, "header"))
        {
            return self.inline_children(id);
        }
        let url = self.resolve(href);
        let mut raw = String::new();
        dom.text(id, &mut raw);
        let only_text = dom.children(id).all(|c| matches!(dom.node(c).data, Data::Text(_)));
        if only_text && !raw.is_empty() && self.attr(id, &local_name!("title")).is_none() {
            let scheme_ok = url.starts_with("http://") || url.starts_with("https://");
            let autolink = (scheme_ok && raw == href.trim())
                || (url.strip_prefix("mailto:") == Some(raw.as_str()) && raw.contains('@'));
            if autolink && !raw.contains(|c: char| c.is_whitespace() || c == '<' || c == '>') {
                self.flush_space();
                self.inline.push('<');
                self.inline.push_str(&raw);
                self.inline.push('>');
                return;
            }
        }
        let start = self.inline.len();
        self.inline_children(id);
        let content = &self.inline[start..];
        let lead = content.len() - content.trim_start_matches(' ').len();
        if content[lead..].is_empty() {
            return;
        }
        // `!` right before the link would make it an image.
        if self.inline[..start + lead].ends_with('!') {
            self.inline.insert(start + lead - 1, '\\');
            self.inline.insert(start + lead + 1, '[');
        } else {
            self.inline.insert(start + lead, '[');
        }
        self.inline.push_str("](");
        push_dest(&mut self.inline, &url);
        let title = self.attr(id, &local_name!("title"));
        push_title(&mut self.inline, title);
        self.inline.push(')');
    }

    fn image(&mut self, id: NodeId) {
        let Some(src) = self.attr(id, &local_name!("src")) else { return };
        let alt = self.attr(id, &local_name!("alt")).unwrap_or("");
        if src.starts_with("data:") {
            // Inline image data is thousands of useless tokens: keep the alt text.
            return self.text(alt);
        }
        let url = self.resolve(src);
        self.flush_space();
        self.inline.push_str("![");
        let space = self.space;
        self.text(alt);
        self.space = space;
        self.inline.push_str("](");
        push_dest(&mut self.inline, &url);
        let title = self.attr(id, &local_name!("title"));
        push_title(&mut self.inline, title);
        self.inline.push(')');
    }

    // ---- blocks -----------------------------------------------------------

    fn heading(&mut self, id: NodeId, level: usize) {
        self.flush();
        let mode = std::mem::replace(&mut self.mode, Mode::Heading);
        self.heading_id = self.attr(id, &local_name!("id")).map(str::to_string);
        self.inline_children(id);
        self.heading_id = None;
        self.mode = mode;
        self.space = false;
        let text = std::mem::take(&mut self.inline);
        let mut t = text.trim().to_string();
        if t.ends_with('#') {
            t.insert(t.len() - 1, '\\');
        }
        self.begin_block();
        for _ in 0..level {
            self.out.push('#');
        }
        if !t.is_empty() {
            self.out.push(' ');
            self.out.push_str(&t);
        }
    }

    fn code_lang(&self, pre: NodeId) -> Option<String> {
        let dom = self.dom;
        let code = dom.children(pre).find(|&c| dom.name(c) == Some(&local_name!("code")));
        let mut cands = Vec::with_capacity(4);
        cands.extend(code);
        cands.push(pre);
        let parent = dom.node(pre).parent;
        if parent != NONE {
            cands.push(parent);
            let gp = dom.node(parent).parent;
            if gp != NONE {
                cands.push(gp);
            }
        }
        for &c in &cands {
            if let Some(l) = dom.attr_str(c, "data-lang") {
                return Some(l.to_string());
            }
            let Some(class) = dom.attr(c, &local_name!("class")) else { continue };
            for t in class.split_ascii_whitespace() {
                for p in ["language-", "lang-", "highlight-source-", "highlight-"] {
                    if let Some(l) = t.strip_prefix(p) {
                        if !l.is_empty() && l != "default" && l != "none" {
                            return Some(l.to_string());
                        }
                    }
                }
                if c == pre && t == "rust" {
                    return Some("rust".into());
                }
            }
        }
        None
    }

    fn code_text(&self, id: NodeId, out: &mut String) {
        let dom = self.dom;
        for c in dom.children(id) {
            match &dom.node(c).data {
                Data::Text(t) => out.push_str(t),
                Data::Element { name, .. } => {
                    if *name == local_name!("br") {
                        out.push('\n');
                    } else if !is_chrome(dom, c) {
                        // A block inside code (rustdoc's `where` clauses) starts a line.
                        if is_block(name) && !out.is_empty() && !out.ends_with('\n') {
                            out.push('\n');
                        }
                        self.code_text(c, out);
                    }
                }
                Data::Document => {}
            }
        }
    }

    fn code_block(&mut self, id: NodeId) {
        let mut code = String::new();
        self.code_text(id, &mut code);
        let code = code.replace("\r\n", "\n").replace('\r', "\n");
        let code = code.strip_suffix('\n').unwrap_or(&code);
        let lang = self.code_lang(id).filter(|l| !l.contains('`'));
        let longest = code.split(|c| c != '`').map(str::len).max().unwrap_or(0);
        let fence = "`".repeat(longest.max(2) + 1);
        self.begin_block();
        self.out.push_str(&fence);
        if let Some(l) = lang {
            self.out.push_str(&l);
        }
        if !code.is_empty() {
            for line in code.split('\n') {
                self.line_break();
                if line.is_empty() {
                    let keep = self.out.trim_end_matches(' ').len();
                    self.out.truncate(keep);
                }
                self.out.push_str(line);
            }
        }
        self.line_break();
        self.out.push_str(&fence);
    }

    fn list(&mut self, id: NodeId, ordered: bool) {
        let dom = self.dom;
        self.flush();
        let items: Vec<NodeId> =
            dom.children(id).filter(|&c| dom.name(c).is_some() && !is_chrome(dom, c)).collect();
        if items.is_empty() {
            return;
        }
        let mut delim = if ordered { '.' } else { '-' };
        if self.last_list == Some((ordered, delim)) {
            delim = if ordered { ')' } else { '*' };
        }
        let tight = !items
            .iter()
            .any(|&li| dom.children(li).any(|c| dom.name(c) == Some(&local_name!("p"))));
        let mut n: u64 = if ordered {
            self.attr(id, &local_name!("start")).and_then(|s| s.trim().parse().ok()).unwrap_or(1)
        } else {
            0
        };
        let reversed = self.attr(id, &local_name!("reversed")).is_some();
        for &li in &items {
            if dom.name(li) == Some(&local_name!("li")) || !self.has_block[li as usize] {
                if ordered {
                    if let Some(v) =
                        self.attr(li, &local_name!("value")).and_then(|v| v.parse().ok())
                    {
                        n = v;
                    }
                }
                let marker = if ordered { format!("{n}{delim} ") } else { format!("{delim} ") };
                let rest = " ".repeat(marker.len());
                self.push_level(marker, rest, Kind::Item { tight });
                if dom.name(li) == Some(&local_name!("li")) {
                    self.blocks(li);
                } else {
                    self.node(li);
                }
                self.pop_level();
                self.sep = if tight { Sep::Newline } else { Sep::Blank };
                if reversed {
                    n = n.saturating_sub(1);
                } else {
                    n += 1;
                }
            } else {
                // A stray block inside a list (e.g. a nested list not in an <li>).
                self.node(li);
            }
        }
        self.sep = self.ctx_sep();
        self.last_list = Some((ordered, delim));
    }

    fn def_list(&mut self, id: NodeId) {
        let dom = self.dom;
        self.flush();
        let mut prev_dd = false;
        for c in dom.children(id) {
            match dom.name(c) {
                Some(&local_name!("dt")) => {
                    if !prev_dd && self.sep == Sep::Newline {
                        self.sep = Sep::Newline;
                    }
                    self.blocks(c);
                    self.flush();
                    self.sep = Sep::Newline;
                    prev_dd = false;
                }
                Some(&local_name!("dd")) => {
                    self.push_level(": ".into(), "  ".into(), Kind::Other);
                    self.blocks(c);
                    self.pop_level();
                    self.sep = Sep::Blank;
                    prev_dd = true;
                }
                Some(_) => self.node(c),
                None => {}
            }
        }
        self.sep = self.ctx_sep();
    }

    fn footnote_def(&mut self, id: NodeId, target: &str) {
        let dom = self.dom;
        self.flush();
        let label = footnote_label(target);
        self.push_level(format!("[^{label}]: "), "    ".into(), Kind::Other);
        for c in dom.children(id) {
            if has_class(dom, c, "footnote-definition-label") {
                continue;
            }
            if self.is_backref(c) {
                continue;
            }
            self.node(c);
        }
        self.pop_level();
    }

    fn is_backref(&self, id: NodeId) -> bool {
        let dom = self.dom;
        if dom.name(id) != Some(&local_name!("a")) {
            return false;
        }
        let mut t = String::new();
        dom.text(id, &mut t);
        has_class(dom, id, "backref")
            || has_class(dom, id, "reversefootnote")
            || dom.attr(id, &local_name!("role")) == Some("doc-backlink")
            || dom.attr_str(id, "data-footnote-backref").is_some()
            || matches!(t.trim(), "↩" | "↩︎" | "↑")
    }

    fn footnote_section(&mut self, id: NodeId) {
        let dom = self.dom;
        self.flush();
        let Some(list) = dom.find(id, &|n| dom.name(n) == Some(&local_name!("ol"))) else {
            return self.blocks(id);
        };
        for li in dom.children(list) {
            if dom.name(li) != Some(&local_name!("li")) {
                continue;
            }
            let target = dom.attr(li, &local_name!("id")).unwrap_or("").to_string();
            let label = footnote_label(&target);
            self.push_level(format!("[^{label}]: "), "    ".into(), Kind::Other);
            self.footnote_body(li);
            self.pop_level();
        }
    }

    fn footnote_body(&mut self, id: NodeId) {
        let dom = self.dom;
        for c in dom.children(id) {
            if self.is_backref(c) {
                continue;
            }
            if dom.name(c) == Some(&local_name!("p")) {
                self.flush();
                for g in dom.children(c) {
                    if !self.is_backref(g) {
                        self.node(g);
                    }
                }
                self.flush();
            } else {
                self.node(c);
            }
        }
    }

    // ---- tables -------------------------------------------------------------

    fn table(&mut self, id: NodeId) {
        let dom = self.dom;
        self.flush();
        let mut rows: Vec<(NodeId, bool)> = Vec::new();
        let mut caption = None;
        for c in dom.children(id) {
            match dom.name(c) {
                Some(&local_name!("tr")) => rows.push((c, false)),
                Some(&local_name!("thead"))
                | Some(&local_name!("tbody"))
                | Some(&local_name!("tfoot")) => {
                    let head = dom.name(c) == Some(&local_name!("thead"));
                    rows.extend(
                        dom.children(c)
                            .filter(|&r| dom.name(r) == Some(&local_name!("tr")))
                            .map(|r| (r, head)),
                    );
                }
                Some(&local_name!("caption")) => caption = Some(c),
                _ => {}
            }
        }
        let cells_of = |r: NodeId| -> Vec<NodeId> {
            dom.children(r)
                .filter(|&c| {
                    matches!(dom.name(c), Some(&local_name!("td")) | Some(&local_name!("th")))
                })
                .collect()
        };
        let nested = dom.find(id, &|n| dom.name(n) == Some(&local_name!("table"))).is_some();
        let single = rows.len() <= 1 && rows.first().is_none_or(|&(r, _)| cells_of(r).len() <= 1);
        if nested || single {
            // A layout table: its cells are just containers.
            for (r, _) in rows {
                for c in cells_of(r) {
                    self.blocks(c);
                    self.flush();
                }
            }
            return;
        }
        if let Some(c) = caption {
            self.blocks(c);
            self.flush();
        }
        let mut grid: Vec<Vec<String>> = Vec::new();
        let mut carry: Vec<Option<(String, usize)>> = Vec::new();
        let mut aligns: Vec<Option<&str>> = Vec::new();
        let mut header_rows = 0;
        for (ri, &(r, in_head)) in rows.iter().enumerate() {
            let cells = cells_of(r);
            if ri == header_rows
                && (in_head
                    || (!cells.is_empty()
                        && cells.iter().all(|&c| dom.name(c) == Some(&local_name!("th")))))
            {
                header_rows += 1;
            }
            let mut row: Vec<String> = Vec::new();
            let mut col = 0;
            let take_carry =
                |row: &mut Vec<String>,
                 col: &mut usize,
                 carry: &mut Vec<Option<(String, usize)>>| {
                    while let Some(Some((text, left))) = carry.get_mut(*col) {
                        row.push(text.clone());
                        *left -= 1;
                        if *left == 0 {
                            carry[*col] = None;
                        }
                        *col += 1;
                    }
                };
            for c in cells {
                take_carry(&mut row, &mut col, &mut carry);
                let text = self.cell(c);
                let span = |a: &LocalName| {
                    self.attr(c, a)
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(1)
                        .clamp(1, 1000)
                };
                let colspan = span(&local_name!("colspan"));
                let rowspan = span(&local_name!("rowspan"));
                if ri == 0 || aligns.len() <= col {
                    let align = self.attr(c, &local_name!("align")).or_else(|| {
                        let style = self.attr(c, &local_name!("style"))?;
                        let i = style.find("text-align:")?;
                        let v = style[i + 11..].trim_start();
                        ["left", "center", "right"].into_iter().find(|a| v.starts_with(a))
                    });
                    if aligns.len() <= col {
                        aligns.resize(col + 1, None);
                    }
                    aligns[col] = align;
                }
                for k in 0..colspan {
                    let t = if k == 0 { text.clone() } else { String::new() };
                    if rowspan > 1 {
                        if carry.len() <= col {
                            carry.resize(col + 1, None);
                        }
                        carry[col] = Some((t.clone(), rowspan - 1));
                    }
                    row.push(t);
                    col += 1;
                }
            }
            take_carry(&mut row, &mut col, &mut carry);
            grid.push(row);
        }
        let width = grid.iter().map(Vec::len).max().unwrap_or(0);
        if width == 0 {
            return;
        }
        for row in &mut grid {
            row.resize(width, String::new());
        }
        if header_rows > 1 {
            // GFM has one header row: merge the others into it, column by column.
            let extra: Vec<Vec<String>> = grid.drain(1..header_rows).collect();
            for row in extra {
                for (i, cell) in row.into_iter().enumerate() {
                    if !cell.is_empty() && cell != grid[0][i] {
                        if !grid[0][i].is_empty() {
                            grid[0][i].push(' ');
                        }
                        grid[0][i].push_str(&cell);
                    }
                }
            }
        }
        self.begin_block();
        for (ri, row) in grid.iter().enumerate() {
            if ri > 0 {
                self.line_break();
            }
            self.out.push('|');
            for cell in row {
                self.out.push(' ');
                self.out.push_str(cell);
                if !cell.is_empty() {
                    self.out.push(' ');
                }
                self.out.push('|');
            }
            if ri == 0 {
                self.line_break();
                self.out.push('|');
                for i in 0..width {
                    self.out.push_str(match aligns.get(i).copied().flatten() {
                        Some("left") => " :-- |",
                        Some("center") => " :-: |",
                        Some("right") => " --: |",
                        _ => " --- |",
                    });
                }
            }
        }
    }

    fn cell(&mut self, id: NodeId) -> String {
        let saved = std::mem::take(&mut self.inline);
        let space = std::mem::replace(&mut self.space, false);
        let mode = std::mem::replace(&mut self.mode, Mode::Cell);
        self.inline_children(id);
        self.mode = mode;
        self.space = space;
        let cell = std::mem::replace(&mut self.inline, saved);
        let cell = cell.trim();
        let mut out = String::with_capacity(cell.len());
        for c in cell.chars() {
            match c {
                '|' => out.push_str("\\|"),
                '\n' => out.push(' '),
                _ => out.push(c),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md(html: &str) -> String {
        convert_html(html, &ConvertOptions { base_url: None, main_content: false }).markdown
    }

    #[test]
    fn basic_blocks() {
        assert_eq!(
            md("<h2>Title</h2><p>Hello <em>world</em> and <strong>you</strong>.</p>"),
            "## Title\n\nHello *world* and **you**.\n"
        );
        assert_eq!(
            md("<ol start=\"3\"><li>a</li><li>b<ul><li>c</li></ul></li></ol>"),
            "3. a\n4. b\n   - c\n"
        );
        assert_eq!(md("<blockquote><p>a</p><p>b</p></blockquote>"), "> a\n>\n> b\n");
        assert_eq!(
            md("<pre><code class=\"language-rust\">fn main() {}\n</code></pre>"),
            "```rust\nfn main() {}\n```\n"
        );
    }

    #[test]
    fn escaping() {
        assert_eq!(
            md("<p>*not em* and [x] and a_b and _c</p>"),
            "\\*not em\\* and \\[x\\] and a_b and \\_c\n"
        );
        assert_eq!(
            md("<p># not a heading</p><p>1. not a list</p><p>- nor this</p>"),
            "\\# not a heading\n\n1\\. not a list\n\n\\- nor this\n"
        );
        assert_eq!(md("<p>AT&amp;T &amp;copy; &lt;div&gt;</p>"), "AT&T \\&copy; \\<div>\n");
    }

    #[test]
    fn inline_code_fences() {
        assert_eq!(md("<p><code>a`b</code> <code>`x</code></p>"), "``a`b`` `` `x ``\n");
    }

    #[test]
    fn links_and_images() {
        let opts = ConvertOptions {
            base_url: Url::parse("https://ex.com/docs/a/page.html").ok(),
            main_content: false,
        };
        let out = convert_html("<p><a href=\"../b.html\" title=\"T\">B</a> <img src=\"i.png\" alt=\"pic\"> <a href=\"#x\">x</a> <a href=\"https://ex.com\">https://ex.com</a></p>", &opts).markdown;
        assert_eq!(out, "[B](https://ex.com/docs/b.html \"T\") ![pic](https://ex.com/docs/a/i.png) [x](#x) <https://ex.com>\n");
        assert_eq!(md("<a href=\"a b(c\">t</a>"), "[t](<a b(c>)\n");
    }

    #[test]
    fn tables_with_spans() {
        let html = "<table><thead><tr><th>A</th><th align=right>B</th><th>C</th></tr></thead>\
            <tbody><tr><td rowspan=2>x</td><td colspan=2>y|z</td></tr><tr><td>1</td><td>2</td></tr></tbody></table>";
        assert_eq!(
            md(html),
            "| A | B | C |\n| --- | --: | --- |\n| x | y\\|z | |\n| x | 1 | 2 |\n"
        );
    }

    #[test]
    fn definition_lists_and_footnotes() {
        assert_eq!(
            md("<dl><dt>Term</dt><dd>Def</dd><dt>T2</dt><dd><p>D2</p></dd></dl>"),
            "Term\n: Def\n\nT2\n: D2\n"
        );
        let html = "<p>Text<sup id=\"fnref:1\"><a href=\"#fn:1\" class=\"footnote-ref\">1</a></sup>.</p>\
            <section class=\"footnotes\"><ol><li id=\"fn:1\"><p>Note. <a href=\"#fnref:1\" class=\"reversefootnote\">↩</a></p></li></ol></section>";
        assert_eq!(md(html), "Text[^1].\n\n[^1]: Note.\n");
    }

    #[test]
    fn emphasis_edge_cases() {
        assert_eq!(md("<p><strong><em>x</em></strong></p>"), "__*x*__\n");
        assert_eq!(md("<p>a<em>\"b\"</em>c</p>"), "a<em>\"b\"</em>c\n");
        assert_eq!(md("<p>snake<em>case</em></p>"), "snake*case*\n");
    }

    #[test]
    fn main_content_drops_chrome() {
        let html = "<html><head><title>T</title><meta name=description content=\"D\"></head><body>\
            <nav><a href=/>Home</a></nav><div class=cookie-banner>We use cookies</div>\
            <main><h1>Hello <a class=anchor href=\"#h\">§</a></h1><p>Body text.</p><script>x()</script>\
            <a href=\"https://github.com/x/edit/main/a.md\">Edit this page</a></main><footer>(c)</footer></body></html>";
        let out = convert_html(html, &ConvertOptions::default());
        assert_eq!(out.markdown, "# Hello\n\nBody text.\n");
        assert_eq!(out.title.as_deref(), Some("T"));
        assert_eq!(out.description.as_deref(), Some("D"));
    }
}
