//! A compact arena DOM.
//!
//! [`crate::lex`] tokenizes (entities, attributes, raw text, comments); the
//! tree construction here is a small, forgiving
//! subset of the HTML algorithm: implied end tags for `p`, `li`, `dt`/`dd`,
//! table parts and `option`; void elements; end tags that close up to the
//! matching open element and are ignored otherwise. It never fails and never
//! panics, whatever the input, and it is several times cheaper than a full
//! tree builder with reference-counted nodes.

use std::borrow::Cow;

use html5ever::{local_name, LocalName};

use crate::lex::{self, Raw};

/// An attribute: lower-case name, decoded value.
pub(crate) struct Attr {
    pub name: LocalName,
    pub value: String,
}

/// Index of a node in [`Dom::nodes`].
pub(crate) type NodeId = u32;
/// "No node".
pub(crate) const NONE: NodeId = u32::MAX;
/// Deepest nesting kept; deeper elements are flattened into their ancestor.
const MAX_DEPTH: usize = 200;

/// What a node holds.
pub(crate) enum Data {
    Document,
    Element { name: LocalName, attrs: Vec<Attr> },
    Text(String),
}

/// One node; children form a singly linked list.
pub(crate) struct Node {
    pub data: Data,
    pub parent: NodeId,
    pub first_child: NodeId,
    pub last_child: NodeId,
    pub next: NodeId,
}

/// A parsed document. Node 0 is the document root.
pub(crate) struct Dom {
    pub nodes: Vec<Node>,
}

impl Dom {
    /// Parses `html`. Never fails.
    pub fn parse(html: &str) -> Dom {
        let mut st = State {
            dom: Dom {
                nodes: vec![Node {
                    data: Data::Document,
                    parent: NONE,
                    first_child: NONE,
                    last_child: NONE,
                    next: NONE,
                }],
            },
            stack: vec![0],
            foreign: 0,
            skip_newline: false,
        };
        st.dom.nodes.reserve(html.len() / 24);
        lex::tokenize(html, &mut st);
        st.dom
    }

    /// The node `id`.
    #[inline]
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id as usize]
    }

    /// Iterates over the children of `id`.
    pub fn children(&self, id: NodeId) -> Children<'_> {
        Children { dom: self, cur: self.node(id).first_child }
    }

    /// Element name of `id`, if it is an element.
    #[inline]
    pub fn name(&self, id: NodeId) -> Option<&LocalName> {
        match &self.node(id).data {
            Data::Element { name, .. } => Some(name),
            _ => None,
        }
    }

    /// Attribute `attr` of element `id`.
    pub fn attr(&self, id: NodeId, attr: &LocalName) -> Option<&str> {
        match &self.node(id).data {
            Data::Element { attrs, .. } => {
                attrs.iter().find(|a| a.name == *attr).map(|a| a.value.as_str())
            }
            _ => None,
        }
    }

    /// Attribute by name given as a string (for names without a static atom).
    pub fn attr_str(&self, id: NodeId, attr: &str) -> Option<&str> {
        match &self.node(id).data {
            Data::Element { attrs, .. } => {
                attrs.iter().find(|a| &*a.name == attr).map(|a| a.value.as_str())
            }
            _ => None,
        }
    }

    /// Number of non-whitespace text bytes below `id`.
    pub fn text_len(&self, id: NodeId) -> usize {
        let mut n = 0;
        let mut stack = vec![id];
        while let Some(i) = stack.pop() {
            match &self.node(i).data {
                Data::Text(t) => n += t.bytes().filter(|b| !b.is_ascii_whitespace()).count(),
                _ => stack.extend(self.children(i)),
            }
        }
        n
    }

    /// Is there any non-whitespace text below `id`? Stops at the first.
    pub fn has_text(&self, id: NodeId) -> bool {
        let mut stack = vec![id];
        while let Some(i) = stack.pop() {
            match &self.node(i).data {
                Data::Text(t) if t.bytes().any(|b| !b.is_ascii_whitespace()) => return true,
                Data::Text(_) => {}
                _ => stack.extend(self.children(i)),
            }
        }
        false
    }

    /// Depth-first search for the first element satisfying `pred`.
    pub fn find(&self, from: NodeId, pred: &dyn Fn(NodeId) -> bool) -> Option<NodeId> {
        let mut stack = vec![from];
        while let Some(id) = stack.pop() {
            if id != from && pred(id) {
                return Some(id);
            }
            let start = stack.len();
            stack.extend(self.children(id));
            stack[start..].reverse();
        }
        None
    }

    /// All text below `id`, concatenated.
    pub fn text(&self, id: NodeId, out: &mut String) {
        match &self.node(id).data {
            Data::Text(t) => out.push_str(t),
            _ => {
                for c in self.children(id) {
                    self.text(c, out);
                }
            }
        }
    }
}

/// Iterator over a node's children.
pub(crate) struct Children<'a> {
    dom: &'a Dom,
    cur: NodeId,
}

impl Iterator for Children<'_> {
    type Item = NodeId;
    #[inline]
    fn next(&mut self) -> Option<NodeId> {
        if self.cur == NONE {
            return None;
        }
        let id = self.cur;
        self.cur = self.dom.node(id).next;
        Some(id)
    }
}

pub(crate) struct State {
    dom: Dom,
    /// Open elements; index 0 is the document.
    stack: Vec<NodeId>,
    /// Depth inside `svg`/`math`, where `<x/>` really closes.
    foreign: u32,
    /// Drop one leading newline of the next text (after `<pre>`, `<textarea>`, `<listing>`).
    skip_newline: bool,
}

/// Elements that never have children.
pub(crate) fn is_void(n: &LocalName) -> bool {
    matches!(
        *n,
        local_name!("area")
            | local_name!("base")
            | local_name!("br")
            | local_name!("col")
            | local_name!("embed")
            | local_name!("hr")
            | local_name!("img")
            | local_name!("input")
            | local_name!("link")
            | local_name!("meta")
            | local_name!("source")
            | local_name!("track")
            | local_name!("wbr")
            | local_name!("param")
            | local_name!("keygen")
    )
}

/// Start tags that close an open `<p>`.
fn closes_p(n: &LocalName) -> bool {
    matches!(
        *n,
        local_name!("address")
            | local_name!("article")
            | local_name!("aside")
            | local_name!("blockquote")
            | local_name!("details")
            | local_name!("div")
            | local_name!("dl")
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
            | local_name!("hr")
            | local_name!("main")
            | local_name!("menu")
            | local_name!("nav")
            | local_name!("ol")
            | local_name!("p")
            | local_name!("pre")
            | local_name!("section")
            | local_name!("table")
            | local_name!("ul")
            | local_name!("li")
            | local_name!("dd")
            | local_name!("dt")
            | local_name!("listing")
            | local_name!("summary")
    )
}

fn is_heading(n: &LocalName) -> bool {
    matches!(
        *n,
        local_name!("h1")
            | local_name!("h2")
            | local_name!("h3")
            | local_name!("h4")
            | local_name!("h5")
            | local_name!("h6")
    )
}

/// Elements that bound the search for an implied end tag.
fn is_scope_boundary(n: &LocalName) -> bool {
    matches!(
        *n,
        local_name!("table")
            | local_name!("td")
            | local_name!("th")
            | local_name!("caption")
            | local_name!("html")
            | local_name!("template")
            | local_name!("object")
            | local_name!("marquee")
            | local_name!("applet")
            | local_name!("button")
            | local_name!("svg")
            | local_name!("math")
    )
}

impl State {
    fn top(&self) -> NodeId {
        *self.stack.last().unwrap_or(&0)
    }

    fn name_at(&self, depth: usize) -> Option<&LocalName> {
        self.dom.name(self.stack[depth])
    }

    fn append(&mut self, data: Data) -> NodeId {
        let parent = self.top();
        let id = self.dom.nodes.len() as NodeId;
        self.dom.nodes.push(Node { data, parent, first_child: NONE, last_child: NONE, next: NONE });
        let p = &mut self.dom.nodes[parent as usize];
        let prev = p.last_child;
        p.last_child = id;
        if prev == NONE {
            p.first_child = id;
        } else {
            self.dom.nodes[prev as usize].next = id;
        }
        id
    }

    /// Position in the stack of the nearest open element accepted by `want`,
    /// not looking past a scope boundary or an element accepted by `stop`.
    fn find_open(
        &self,
        want: impl Fn(&LocalName) -> bool,
        stop: impl Fn(&LocalName) -> bool,
    ) -> Option<usize> {
        for depth in (1..self.stack.len()).rev() {
            let Some(n) = self.name_at(depth) else { continue };
            if want(n) {
                return Some(depth);
            }
            if stop(n) || is_scope_boundary(n) {
                return None;
            }
        }
        None
    }

    fn close_to(&mut self, depth: usize) {
        self.stack.truncate(depth.max(1));
    }

    fn text(&mut self, t: Cow<'_, str>) {
        let mut t: &str = &t;
        if self.skip_newline {
            self.skip_newline = false;
            t = t.strip_prefix('\n').unwrap_or(t);
            if t.is_empty() {
                return;
            }
        }
        let parent = self.top();
        let last = self.dom.nodes[parent as usize].last_child;
        if last != NONE {
            if let Data::Text(prev) = &mut self.dom.nodes[last as usize].data {
                prev.push_str(t);
                return;
            }
        }
        self.append(Data::Text(t.to_string()));
    }

    fn start(&mut self, name: LocalName, attrs: Vec<Attr>, self_closing: bool) -> Raw {
        self.skip_newline = false;
        if self.foreign > 0 {
            self.append(Data::Element { name: name.clone(), attrs });
            if !self_closing {
                let id = self.dom.nodes.len() as NodeId - 1;
                self.stack.push(id);
                if matches!(name, local_name!("svg") | local_name!("math")) {
                    self.foreign += 1;
                }
            }
            return Raw::No;
        }
        match name {
            local_name!("html") | local_name!("body") => return Raw::No,
            local_name!("head") => {
                if self.stack.len() > 1 {
                    return Raw::No;
                }
            }
            _ => {}
        }
        // Leave <head> when body content starts.
        if self.stack.len() > 1 && !in_head_content(&name) {
            if let Some(d) = self.find_open(|n| *n == local_name!("head"), |_| false) {
                self.close_to(d);
            }
        }
        if closes_p(&name) {
            if let Some(d) = self.find_open(|n| *n == local_name!("p"), |_| false) {
                self.close_to(d);
            }
        }
        match name {
            local_name!("li") => {
                if let Some(d) = self.find_open(
                    |n| *n == local_name!("li"),
                    |n| matches!(*n, local_name!("ul") | local_name!("ol") | local_name!("menu")),
                ) {
                    self.close_to(d);
                }
            }
            local_name!("dt") | local_name!("dd") => {
                if let Some(d) = self.find_open(
                    |n| matches!(*n, local_name!("dt") | local_name!("dd")),
                    |n| *n == local_name!("dl"),
                ) {
                    self.close_to(d);
                }
            }
            local_name!("tr") => {
                if let Some(d) = self.find_open_in_table(|n| *n == local_name!("tr")) {
                    self.close_to(d);
                }
            }
            local_name!("td") | local_name!("th") => {
                for depth in (1..self.stack.len()).rev() {
                    match self.name_at(depth) {
                        Some(&local_name!("td")) | Some(&local_name!("th")) => {
                            self.close_to(depth);
                            break;
                        }
                        Some(&local_name!("tr")) | Some(&local_name!("table")) => break,
                        _ => {}
                    }
                }
            }
            local_name!("thead") | local_name!("tbody") | local_name!("tfoot") => {
                if let Some(d) = self.find_open_in_table(|n| {
                    matches!(
                        *n,
                        local_name!("thead")
                            | local_name!("tbody")
                            | local_name!("tfoot")
                            | local_name!("tr")
                    )
                }) {
                    self.close_to(d);
                }
            }
            local_name!("option") => {
                if let Some(d) = self.find_open(|n| *n == local_name!("option"), |_| false) {
                    self.close_to(d);
                }
            }
            local_name!("a") => {
                if let Some(d) = self.find_open(|n| *n == local_name!("a"), |_| false) {
                    self.close_to(d);
                }
            }
            ref n
                if is_heading(n)
                    && self.stack.len() > 1
                    && self.name_at(self.stack.len() - 1).is_some_and(is_heading) =>
            {
                self.stack.pop();
            }
            _ => {}
        }
        // Past MAX_DEPTH, elements become leaves and their content goes to
        // the deepest open element: bounded depth keeps every walk safe.
        let void = is_void(&name) || self.stack.len() >= MAX_DEPTH;
        let id = self.append(Data::Element { name: name.clone(), attrs });
        if void {
            return match name {
                local_name!("script") | local_name!("style") => Raw::Text,
                _ => Raw::No,
            };
        }
        self.stack.push(id);
        match name {
            local_name!("svg") | local_name!("math") => {
                if self_closing {
                    self.stack.pop();
                } else {
                    self.foreign += 1;
                }
                Raw::No
            }
            local_name!("pre") | local_name!("listing") => {
                self.skip_newline = true;
                Raw::No
            }
            local_name!("textarea") => {
                self.skip_newline = true;
                Raw::Rcdata
            }
            local_name!("title") => Raw::Rcdata,
            local_name!("style")
            | local_name!("xmp")
            | local_name!("iframe")
            | local_name!("noembed")
            | local_name!("noframes") => Raw::Text,
            local_name!("script") => Raw::Text,
            local_name!("plaintext") => Raw::Plaintext,
            _ => Raw::No,
        }
    }

    fn find_open_in_table(&self, want: impl Fn(&LocalName) -> bool) -> Option<usize> {
        for depth in (1..self.stack.len()).rev() {
            let n = self.name_at(depth)?;
            if want(n) {
                // Close the innermost open part and everything inside it.
                let mut d = depth;
                while d > 1 && self.name_at(d - 1).is_some_and(&want) {
                    d -= 1;
                }
                return Some(d);
            }
            if *n == local_name!("table") {
                return None;
            }
        }
        None
    }

    fn end(&mut self, name: LocalName) {
        self.skip_newline = false;
        match name {
            local_name!("html") | local_name!("body") => return,
            local_name!("br") => {
                self.append(Data::Element { name, attrs: Vec::new() });
                return;
            }
            _ => {}
        }
        let heading = is_heading(&name);
        for depth in (1..self.stack.len()).rev() {
            let Some(n) = self.name_at(depth) else { continue };
            if *n == name || (heading && is_heading(n)) {
                if matches!(*n, local_name!("svg") | local_name!("math")) {
                    self.foreign = self.foreign.saturating_sub(1);
                }
                // Leaving a foreign subtree implicitly leaves nested foreign roots too.
                let nested = self.stack[depth + 1..]
                    .iter()
                    .filter(|&&id| {
                        matches!(
                            self.dom.name(id),
                            Some(&local_name!("svg")) | Some(&local_name!("math"))
                        )
                    })
                    .count() as u32;
                self.foreign = self.foreign.saturating_sub(nested);
                self.close_to(depth);
                return;
            }
            // An end tag does not reach out of a table cell or a table.
            if self.foreign == 0
                && matches!(*n, local_name!("td") | local_name!("th") | local_name!("table"))
                && !matches!(
                    name,
                    local_name!("tr")
                        | local_name!("tbody")
                        | local_name!("thead")
                        | local_name!("tfoot")
                        | local_name!("table")
                        | local_name!("td")
                        | local_name!("th")
                )
            {
                return;
            }
        }
    }
}

fn in_head_content(n: &LocalName) -> bool {
    matches!(
        *n,
        local_name!("title")
            | local_name!("meta")
            | local_name!("link")
            | local_name!("script")
            | local_name!("style")
            | local_name!("base")
            | local_name!("noscript")
            | local_name!("template")
    )
}

impl lex::Sink for State {
    fn start(&mut self, name: LocalName, attrs: Vec<Attr>, self_closing: bool) -> Raw {
        State::start(self, name, attrs, self_closing)
    }
    fn end(&mut self, name: LocalName) {
        State::end(self, name)
    }
    fn text(&mut self, text: Cow<'_, str>) {
        State::text(self, text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(dom: &Dom, id: NodeId, out: &mut String) {
        match &dom.node(id).data {
            Data::Text(t) => out.push_str(t),
            Data::Element { name, .. } => {
                out.push('<');
                out.push_str(name);
                out.push('>');
                for c in dom.children(id) {
                    shape(dom, c, out);
                }
                out.push_str("</");
                out.push_str(name);
                out.push('>');
            }
            Data::Document => {
                for c in dom.children(id) {
                    shape(dom, c, out);
                }
            }
        }
    }

    fn parse(html: &str) -> String {
        let dom = Dom::parse(html);
        let mut out = String::new();
        shape(&dom, 0, &mut out);
        out
    }

    #[test]
    fn implied_end_tags() {
        assert_eq!(parse("<p>a<p>b<div>c</div>"), "<p>a</p><p>b</p><div>c</div>");
        assert_eq!(
            parse("<ul><li>a<li>b<ul><li>c</ul></ul>"),
            "<ul><li>a</li><li>b<ul><li>c</li></ul></li></ul>"
        );
        assert_eq!(parse("<dl><dt>a<dd>b<dt>c</dl>"), "<dl><dt>a</dt><dd>b</dd><dt>c</dt></dl>");
        assert_eq!(
            parse("<table><tr><td>a<td>b<tr><td>c</table>"),
            "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>"
        );
    }

    #[test]
    fn depth_is_bounded() {
        let html = "<div>".repeat(20_000) + "deep" + &"</div>".repeat(20_000);
        let dom = Dom::parse(&html);
        let mut max = 0;
        for (i, _) in dom.nodes.iter().enumerate() {
            let mut d = 0;
            let mut p = dom.node(i as NodeId).parent;
            while p != NONE {
                d += 1;
                p = dom.node(p).parent;
            }
            max = max.max(d);
        }
        assert!(max <= MAX_DEPTH, "{max}");
        let mut t = String::new();
        dom.text(0, &mut t);
        assert_eq!(t, "deep");
    }

    #[test]
    fn stray_end_tags_and_raw_text() {
        assert_eq!(parse("a</div>b</p>c"), "abc");
        assert_eq!(parse("<script>if (a<b) {}</script>x"), "<script>if (a<b) {}</script>x");
        assert_eq!(parse("<pre>\nfn x()</pre>"), "<pre>fn x()</pre>");
        assert_eq!(parse("<td><em>x</td>y"), "<td><em>x</em></td>y");
        assert_eq!(
            parse("<svg><path/><g></g></svg><p>x"),
            "<svg><path></path><g></g></svg><p>x</p>"
        );
    }
}
