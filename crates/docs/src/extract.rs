//! Page metadata and main-content selection.

use html5ever::local_name;

use crate::dom::{Data, Dom, NodeId};

/// Metadata found in a page's `<head>` (and its first `<h1>`).
#[derive(Debug, Default, Clone)]
pub(crate) struct Meta {
    pub title: Option<String>,
    pub description: Option<String>,
    pub base_href: Option<String>,
    pub refresh: Option<String>,
}

/// Collapses HTML whitespace runs into single spaces and trims.
pub(crate) fn collapse(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for w in s.split(|c: char| c.is_ascii_whitespace()).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

pub(crate) fn meta(dom: &Dom) -> Meta {
    let mut m = Meta::default();
    for (i, node) in dom.nodes.iter().enumerate() {
        let Data::Element { name, .. } = &node.data else { continue };
        let id = i as NodeId;
        match *name {
            local_name!("title") if m.title.is_none() => {
                let mut t = String::new();
                dom.text(id, &mut t);
                let t = collapse(&t);
                if !t.is_empty() {
                    m.title = Some(t);
                }
            }
            local_name!("base") if m.base_href.is_none() => {
                m.base_href = dom.attr(id, &local_name!("href")).map(str::to_string);
            }
            local_name!("meta") => {
                let key = dom
                    .attr(id, &local_name!("name"))
                    .or_else(|| dom.attr_str(id, "property"))
                    .unwrap_or("")
                    .to_ascii_lowercase();
                let content = dom.attr(id, &local_name!("content")).map(collapse);
                if (key == "description" || key == "og:description") && m.description.is_none() {
                    m.description = content.filter(|c| !c.is_empty());
                } else if dom
                    .attr(id, &local_name!("http-equiv"))
                    .is_some_and(|h| h.eq_ignore_ascii_case("refresh"))
                {
                    m.refresh = content.and_then(|c| {
                        let lower = c.to_ascii_lowercase();
                        let i = lower.find("url=")?;
                        Some(c[i + 4..].trim_matches(['\'', '"', ' ']).to_string())
                    });
                }
            }
            _ => {}
        }
    }
    m
}

/// Class and id fragments that mark page chrome rather than content.
const CHROME_WORDS: &[&str] = &[
    "cookie",
    "consent",
    "gdpr",
    "breadcrumb",
    "skip-link",
    "skip-to",
    "skiplink",
    "edit-this-page",
    "edit-page",
    "edit-link",
    "editlink",
    "improve-this-page",
    "newsletter",
    "social-share",
    "share-buttons",
    "advert",
    "announcement-bar",
    "rightside",
    "test-arrow",
    "doc-anchor",
    "headerlink",
    "hash-link",
    "header-anchor",
    "linenos",
    "line-numbers",
    "copy-button",
    "hideme",
];

fn chrome_words() -> &'static aho_corasick::AhoCorasick {
    static AC: std::sync::OnceLock<aho_corasick::AhoCorasick> = std::sync::OnceLock::new();
    AC.get_or_init(|| {
        aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(CHROME_WORDS)
            .expect("static patterns")
    })
}

/// Whole class tokens that mark chrome.
const CHROME_TOKENS: &[&str] = &[
    "sidebar",
    "navbar",
    "menu-bar",
    "toolbar",
    "pagination",
    "nav-wrapper",
    "anchor",
    "src",
    "toc",
    "sub-heading",
];

/// Is this element page chrome, hidden, or not text at all?
pub(crate) fn is_chrome(dom: &Dom, id: NodeId) -> bool {
    let Data::Element { name, attrs } = &dom.node(id).data else { return false };
    match *name {
        local_name!("script")
        | local_name!("style")
        | local_name!("noscript")
        | local_name!("template")
        | local_name!("head")
        | local_name!("title")
        | local_name!("meta")
        | local_name!("link")
        | local_name!("nav")
        | local_name!("aside")
        | local_name!("footer")
        | local_name!("button")
        | local_name!("select")
        | local_name!("textarea")
        | local_name!("svg")
        | local_name!("canvas")
        | local_name!("iframe")
        | local_name!("object")
        | local_name!("embed")
        | local_name!("video")
        | local_name!("audio")
        | local_name!("dialog")
        | local_name!("map")
        | local_name!("frameset")
        | local_name!("noframes") => return true,
        local_name!("input") => {
            // Task-list checkboxes are content.
            return dom.attr(id, &local_name!("type")) != Some("checkbox");
        }
        local_name!("header") => {
            if dom.find(id, &|n| dom.name(n) == Some(&local_name!("nav"))).is_some() {
                return true;
            }
        }
        local_name!("a") => {
            let mut t = String::new();
            dom.text(id, &mut t);
            let t = t.trim().to_ascii_lowercase();
            if matches!(t.as_str(), "§" | "¶" | "#" | "🔗")
                && dom.attr(id, &local_name!("href")).is_some_and(|h| h.starts_with('#'))
            {
                return true;
            }
            if t.starts_with("edit this page")
                || t.starts_with("edit on github")
                || t.starts_with("suggest an edit")
                || t.starts_with("improve this page")
            {
                return true;
            }
        }
        _ => {}
    }
    for a in attrs {
        let v: &str = &a.value;
        match a.name {
            local_name!("hidden") => return true,
            local_name!("aria-hidden") if v == "true" => {
                // Icons are aria-hidden; so are mdBook's list numbers. Both are chrome.
                return true;
            }
            local_name!("role") => {
                if matches!(
                    v,
                    "navigation" | "banner" | "contentinfo" | "complementary" | "search" | "dialog"
                ) {
                    return true;
                }
            }
            local_name!("style") => {
                let s: String = v.chars().filter(|c| !c.is_whitespace()).collect();
                if s.contains("display:none") || s.contains("visibility:hidden") {
                    return true;
                }
            }
            local_name!("class") | local_name!("id") => {
                if chrome_words().is_match(v) {
                    return true;
                }
                if a.name == local_name!("class")
                    && v.split_ascii_whitespace()
                        .any(|t| CHROME_TOKENS.iter().any(|c| c.eq_ignore_ascii_case(t)))
                {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

/// Picks the element holding the page's main content: `<main>` (or
/// `role=main`), else a single `<article>`, else the element whose direct
/// paragraphs carry the most text (a small Readability-style score), else the
/// whole document.
pub(crate) fn content_root(dom: &Dom) -> NodeId {
    let mut mains = Vec::new();
    let mut articles = Vec::new();
    for (i, node) in dom.nodes.iter().enumerate() {
        let Data::Element { name, .. } = &node.data else { continue };
        let id = i as NodeId;
        if *name == local_name!("main") || dom.attr(id, &local_name!("role")) == Some("main") {
            mains.push(id);
        } else if *name == local_name!("article") {
            articles.push(id);
        }
    }
    let best = match mains.len() {
        0 => None,
        1 => Some(mains[0]),
        _ => mains.iter().copied().filter(|&m| !hidden(dom, m)).max_by_key(|&m| dom.text_len(m)),
    };
    if let Some(best) = best {
        if dom.has_text(best) {
            return best;
        }
    }
    if articles.len() == 1 && dom.has_text(articles[0]) {
        return articles[0];
    }
    densest(dom).unwrap_or(0)
}

fn hidden(dom: &Dom, id: NodeId) -> bool {
    dom.attr(id, &local_name!("hidden")).is_some()
        || dom.attr(id, &local_name!("aria-hidden")) == Some("true")
}

fn densest(dom: &Dom) -> Option<NodeId> {
    let mut score = vec![0f32; dom.nodes.len()];
    for (i, node) in dom.nodes.iter().enumerate() {
        let Data::Element { name, .. } = &node.data else { continue };
        if !matches!(
            *name,
            local_name!("p") | local_name!("pre") | local_name!("blockquote") | local_name!("li")
        ) {
            continue;
        }
        let id = i as NodeId;
        let mut t = String::new();
        dom.text(id, &mut t);
        let len = t.split_ascii_whitespace().map(str::len).sum::<usize>();
        if len < 25 {
            continue;
        }
        let s = 1.0 + (len as f32 / 100.0).min(3.0);
        let parent = node.parent;
        if parent != crate::dom::NONE {
            score[parent as usize] += s;
            let gp = dom.node(parent).parent;
            if gp != crate::dom::NONE {
                score[gp as usize] += s / 2.0;
            }
        }
    }
    let (best, s) =
        score.iter().enumerate().filter(|(i, _)| *i != 0).max_by(|a, b| a.1.total_cmp(b.1))?;
    (*s > 0.0).then_some(best as NodeId)
}

/// One entry of a navigation tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NavNode {
    pub title: String,
    pub href: Option<String>,
    pub children: Vec<NavNode>,
}

/// Text of `id` as a reader sees it: chrome (hidden numbering, icons) left out.
pub(crate) fn visible_text(dom: &Dom, id: NodeId, out: &mut String) {
    for c in dom.children(id) {
        match &dom.node(c).data {
            Data::Text(t) => out.push_str(t),
            Data::Element { .. } if !is_chrome(dom, c) => visible_text(dom, c, out),
            _ => {}
        }
    }
}

fn is_list(dom: &Dom, id: NodeId) -> bool {
    matches!(dom.name(id), Some(&local_name!("ul")) | Some(&local_name!("ol")))
}

/// All `href`s of `<a>` elements, in document order.
pub(crate) fn links(dom: &Dom) -> Vec<String> {
    dom.nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| matches!(&n.data, Data::Element { name, .. } if *name == local_name!("a")))
        .filter_map(|(i, _)| dom.attr(i as NodeId, &local_name!("href")).map(str::to_string))
        .collect()
}

/// The page's navigation tree: the outermost list whose links hit the most
/// pages accepted by `known` (at least three), or `None`.
pub(crate) fn nav_tree(dom: &Dom, known: &dyn Fn(&str) -> bool) -> Option<Vec<NavNode>> {
    let mut best: Option<(usize, NodeId)> = None;
    for (i, node) in dom.nodes.iter().enumerate() {
        let id = i as NodeId;
        if !is_list(dom, id) {
            continue;
        }
        // Outermost lists only.
        let mut p = node.parent;
        let mut nested = false;
        while p != crate::dom::NONE {
            if is_list(dom, p) {
                nested = true;
                break;
            }
            p = dom.node(p).parent;
        }
        if nested {
            continue;
        }
        let mut count = 0;
        let mut stack = vec![id];
        while let Some(n) = stack.pop() {
            if dom.name(n) == Some(&local_name!("a"))
                && dom.attr(n, &local_name!("href")).is_some_and(known)
            {
                count += 1;
            }
            stack.extend(dom.children(n));
        }
        if count >= 3 && best.is_none_or(|(c, _)| count > c) {
            best = Some((count, id));
        }
    }
    best.map(|(_, list)| nav_items(dom, list))
}

fn nav_items(dom: &Dom, list: NodeId) -> Vec<NavNode> {
    let mut out = Vec::new();
    for li in dom.children(list) {
        if dom.name(li) != Some(&local_name!("li")) {
            continue;
        }
        let mut link = None;
        let mut sub = None;
        let mut stack: Vec<NodeId> = dom.children(li).collect();
        stack.reverse();
        while let Some(n) = stack.pop() {
            if is_list(dom, n) {
                sub.get_or_insert(n);
                continue;
            }
            if dom.name(n) == Some(&local_name!("a")) && link.is_none() {
                link = Some(n);
                continue;
            }
            let start = stack.len();
            stack.extend(dom.children(n));
            stack[start..].reverse();
        }
        let mut title = String::new();
        match link {
            Some(a) => visible_text(dom, a, &mut title),
            None => {
                for c in dom.children(li) {
                    if !is_list(dom, c) {
                        match &dom.node(c).data {
                            Data::Text(t) => title.push_str(t),
                            _ if !is_chrome(dom, c) => visible_text(dom, c, &mut title),
                            _ => {}
                        }
                    }
                }
            }
        }
        let title = collapse(&title);
        let children = sub.map(|s| nav_items(dom, s)).unwrap_or_default();
        if title.is_empty() && children.is_empty() {
            continue;
        }
        out.push(NavNode {
            title,
            href: link.and_then(|a| dom.attr(a, &local_name!("href"))).map(str::to_string),
            children,
        });
    }
    out
}
