//! `llms.txt`: build one for a folder of HTML, a site or a set of Markdown
//! files, and check one.
//!
//! The format (the llms.txt proposal): an H1 title; an optional blockquote
//! summary; optional free-form details; then H2 sections, each a list of
//! `- [title](url): description` entries. A section named `Optional` holds
//! pages an agent may skip when its context is short.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rayon::prelude::*;
use url::Url;

use crate::dir::{html_files, md_name, page_url, write_atomic};
use crate::dom::Dom;
use crate::extract::{self, NavNode};
use crate::fetch::{self, CrawlOptions};
use crate::{convert_bytes, ConvertOptions, Error};

// ---------------------------------------------------------------------------
// Build
// ---------------------------------------------------------------------------

/// Options for [`build_from_dir`] and [`build_from_url`].
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Public URL of the output folder: entries link to `<base>/<page>.md`.
    /// Without it, entries use relative links.
    pub base_url: Option<Url>,
    /// The H1 title; by default the site's name taken from its pages.
    pub title: Option<String>,
    /// The blockquote summary; by default the entry page's description.
    pub summary: Option<String>,
    /// Write `page.md` instead of `page.html.md`.
    pub replace_extension: bool,
    /// Crawl limits (URL mode).
    pub crawl: CrawlOptions,
}

/// What a build wrote.
#[derive(Debug, Default)]
pub struct BuildReport {
    /// Path of the `llms.txt` written.
    pub llms_txt: PathBuf,
    /// Path of the `llms-full.txt` written.
    pub llms_full: PathBuf,
    /// Number of entries listed (all sections, `Optional` included).
    pub entries: usize,
    /// Number of sections.
    pub sections: usize,
    /// Pages left out (redirects, empty pages) or failed, with the reason.
    pub skipped: Vec<String>,
}

/// One converted page of the site being indexed.
struct SitePage {
    /// Path relative to the site root, with `/`.
    key: String,
    md_rel: PathBuf,
    title: String,
    description: Option<String>,
    markdown: String,
    full_title: Option<String>,
    /// Whether the build writes the page's markdown to `md_rel` (HTML
    /// input), or links to a Markdown file that is already there.
    copy: bool,
}

/// Pages that are site machinery rather than documents.
fn is_machinery(key: &str) -> bool {
    let name = key.rsplit('/').next().unwrap_or(key);
    matches!(name, "404.html" | "print.html" | "toc.html" | "search.html" | "genindex.html")
}

fn first_paragraph(md: &str) -> Option<String> {
    let mut in_fence = false;
    for line in md.lines() {
        let t = line.trim();
        if t.starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence || t.is_empty() {
            continue;
        }
        let first = t.chars().next()?;
        if matches!(first, '#' | '|' | '>' | '-' | '!' | '<' | '[') || first.is_ascii_digit() {
            continue;
        }
        return Some(plain(t));
    }
    None
}

/// The first paragraph of prose in a Markdown file, its lines joined:
/// headings, code, tables, quotes, lists and HTML are passed over.
fn lead_paragraph(md: &str) -> Option<String> {
    let mut in_fence = false;
    let mut lines: Vec<&str> = Vec::new();
    let mut skipping = false;
    for line in md.lines() {
        let t = line.trim();
        if t.starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        if t.is_empty() {
            if !lines.is_empty() {
                break;
            }
            skipping = false;
            continue;
        }
        if lines.is_empty() {
            let list = t.split_once(['.', ')']).is_some_and(|(n, rest)| {
                !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) && rest.starts_with(' ')
            });
            let first = t.chars().next().unwrap_or(' ');
            if skipping || list || matches!(first, '#' | '|' | '>' | '-' | '*' | '!' | '<' | '[') {
                skipping = true;
                continue;
            }
        }
        lines.push(t);
    }
    (!lines.is_empty()).then(|| plain(&lines.join(" ")))
}

/// Markdown inline → plain text (links to their text, emphasis and escapes removed).
fn plain(md: &str) -> String {
    let mut out = String::with_capacity(md.len());
    let mut chars = md.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            '*' | '_' if !out.ends_with(|p: char| p.is_alphanumeric()) || c == '*' => {}
            ']' if chars.peek() == Some(&'(') => {
                let mut depth = 0;
                for n in chars.by_ref() {
                    match n {
                        '(' => depth += 1,
                        ')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                }
            }
            '[' => {}
            _ => out.push(c),
        }
    }
    out
}

/// A description fit for one list line: plain, single-line, at most ~200 characters.
fn one_line(s: &str) -> String {
    let s = extract::collapse(s);
    if s.chars().count() <= 200 {
        return s;
    }
    let cut: String = s.chars().take(200).collect();
    let cut = cut.rfind(' ').map_or(cut.as_str(), |i| &cut[..i]);
    format!("{}…", cut.trim_end_matches([',', ';', ':', '.']))
}

/// A link title the reference parser accepts: no brackets, one line.
fn link_title(s: &str) -> String {
    extract::collapse(&s.replace('[', "(").replace(']', ")"))
}

/// A URL the reference parser accepts: no spaces or parentheses.
fn link_url(s: &str) -> String {
    s.replace(' ', "%20").replace('(', "%28").replace(')', "%29")
}

/// Strips a suffix (" - Site", " | Site", " — Site") shared by most titles.
fn common_title_suffix(titles: &[&str]) -> Option<String> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for t in titles {
        for sep in [" - ", " | ", " — ", " – ", " · "] {
            if let Some(i) = t.rfind(sep) {
                *counts.entry(&t[i..]).or_default() += 1;
            }
        }
    }
    let (suffix, n) = counts.into_iter().max_by_key(|(s, n)| (*n, s.len()))?;
    (n * 2 > titles.len() && n >= 2).then(|| suffix.to_string())
}

fn convert_page(
    key: &str,
    bytes: &[u8],
    ct: Option<&str>,
    base: Option<Url>,
    replace: bool,
) -> Result<Option<SitePage>, String> {
    let opts = ConvertOptions { base_url: base, main_content: true };
    let page = convert_bytes(bytes, ct, key, &opts).map_err(|e| e.to_string())?;
    if page.redirect.is_some() {
        return Err(format!("{key}: redirect page, left out"));
    }
    if page.markdown.trim().is_empty() {
        return Err(format!("{key}: no content, left out"));
    }
    let stem = key.rsplit('/').next().unwrap_or(key);
    let stem = stem.split('.').next().unwrap_or(stem);
    let title =
        page.h1.clone().or(page.title.clone()).unwrap_or_else(|| stem.replace(['-', '_'], " "));
    let description = page.description.clone().or_else(|| first_paragraph(&page.markdown));
    Ok(Some(SitePage {
        key: key.to_string(),
        md_rel: md_name(Path::new(key), replace),
        title,
        description,
        markdown: page.markdown,
        full_title: page.title,
        copy: true,
    }))
}

struct Group {
    name: String,
    keys: Vec<String>,
}

/// Resolves a nav `href` (relative to `nav_key`) to a page key.
fn nav_key(nav_page: &str, href: &str) -> Option<String> {
    let base = Url::parse("site:/").ok()?.join(nav_page).ok()?;
    let u = base.join(href.trim()).ok()?;
    if u.scheme() != "site" {
        return None;
    }
    let p = u.path().trim_start_matches('/');
    let p = percent_decode(p);
    Some(if p.is_empty() || p.ends_with('/') { format!("{p}index.html") } else { p })
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

fn sections_from_nav(
    nav: &[NavNode],
    nav_page: &str,
    pages: &HashMap<String, usize>,
    titles: &mut HashMap<String, String>,
) -> Vec<Group> {
    fn flatten(
        n: &NavNode,
        nav_page: &str,
        pages: &HashMap<String, usize>,
        titles: &mut HashMap<String, String>,
        out: &mut Vec<String>,
    ) {
        if let Some(k) = n.href.as_deref().and_then(|h| nav_key(nav_page, h)) {
            if pages.contains_key(&k) && !out.contains(&k) {
                if !n.title.is_empty() {
                    titles.entry(k.clone()).or_insert_with(|| n.title.clone());
                }
                out.push(k);
            }
        }
        for c in &n.children {
            flatten(c, nav_page, pages, titles, out);
        }
    }
    let mut sections: Vec<Group> = Vec::new();
    let mut loose_open = false;
    for node in nav {
        if node.href.is_none() && node.children.is_empty() {
            // A part title: the following items belong to it.
            sections.push(Group { name: node.title.clone(), keys: Vec::new() });
            loose_open = true;
            continue;
        }
        let mut keys = Vec::new();
        flatten(node, nav_page, pages, titles, &mut keys);
        if node.children.is_empty() {
            if !loose_open {
                let name =
                    if sections.is_empty() { "Overview".to_string() } else { node.title.clone() };
                sections.push(Group { name, keys: Vec::new() });
                loose_open = true;
            }
            if let Some(s) = sections.last_mut() {
                s.keys.extend(keys);
            }
        } else {
            sections.push(Group { name: node.title.clone(), keys });
            loose_open = false;
        }
    }
    sections.retain(|s| !s.keys.is_empty());
    sections
}

fn title_case(s: &str) -> String {
    let s = s.replace(['-', '_'], " ");
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

fn sections_from_folders(keys: &[String], site: &str) -> Vec<Group> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut root = Vec::new();
    for k in keys {
        match k.split_once('/') {
            Some((dir, _)) => map.entry(dir.to_string()).or_default().push(k.clone()),
            None => root.push(k.clone()),
        }
    }
    let mut out = Vec::new();
    if !root.is_empty() {
        // The index page first.
        root.sort_by_key(|k| (!k.starts_with("index."), k.clone()));
        out.push(Group {
            name: if site.is_empty() { "Docs".into() } else { site.to_string() },
            keys: root,
        });
    }
    for (dir, mut keys) in map {
        keys.sort_by_key(|k| (!k.ends_with("/index.html"), k.clone()));
        out.push(Group { name: title_case(&dir), keys });
    }
    out
}

/// Assembles and writes llms.txt, llms-full.txt and the .md copies.
fn write_site(
    mut pages: Vec<SitePage>,
    nav: Option<(String, Vec<NavNode>)>,
    out_dir: &Path,
    opts: &BuildOptions,
    mut skipped: Vec<String>,
    given: Option<Vec<Group>>,
) -> Result<BuildReport, Error> {
    if pages.is_empty() {
        return Err(Error::Parse {
            path: out_dir.to_path_buf(),
            message: "no HTML pages with content found; nothing to index".into(),
        });
    }
    // Titles: strip the site-name suffix most titles share.
    let titles: Vec<&str> = pages.iter().filter_map(|p| p.full_title.as_deref()).collect();
    let suffix = common_title_suffix(&titles);
    let site_name = suffix
        .as_deref()
        .map(|s| s.trim_start_matches([' ', '-', '|', '—', '–', '·']).trim().to_string());
    for p in &mut pages {
        if let (Some(full), Some(sfx)) = (&p.full_title, &suffix) {
            if Some(&p.title) == p.full_title.as_ref() || p.title.is_empty() {
                if let Some(t) = full.strip_suffix(sfx.as_str()) {
                    p.title = t.trim().to_string();
                }
            }
        }
    }
    let index: HashMap<String, usize> =
        pages.iter().enumerate().map(|(i, p)| (p.key.clone(), i)).collect();
    let entry = ["index.html", "index.htm"].iter().find_map(|k| index.get(*k).copied());
    let title = opts
        .title
        .clone()
        .or(site_name)
        .or_else(|| entry.map(|i| pages[i].title.clone()))
        .unwrap_or_else(|| "Documentation".into());
    let summary = opts.summary.clone().or_else(|| entry.and_then(|i| pages[i].description.clone()));

    let keys: Vec<String> = pages.iter().map(|p| p.key.clone()).collect();
    let mut nav_titles = HashMap::new();
    let mut sections = match (&nav, given) {
        (_, Some(given)) => given,
        (Some((nav_page, tree)), None) => {
            sections_from_nav(tree, nav_page, &index, &mut nav_titles)
        }
        (None, None) => Vec::new(),
    };
    // The navigation names pages the way the site's authors do.
    for (k, t) in nav_titles {
        pages[index[&k]].title = t;
    }
    let listed: HashSet<String> = sections.iter().flat_map(|s| s.keys.iter().cloned()).collect();
    let mut optional: Vec<String> = keys.iter().filter(|k| !listed.contains(*k)).cloned().collect();
    if sections.is_empty() {
        sections = sections_from_folders(&optional, &title);
        optional.clear();
    }

    let link = |p: &SitePage| -> String {
        let rel = p
            .md_rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        match &opts.base_url {
            Some(b) => page_url(b, Path::new(&rel)).map(|u| u.to_string()).unwrap_or(rel),
            None => rel,
        }
    };
    let all: Vec<(String, Vec<String>)> = sections
        .into_iter()
        .map(|s| (s.name, s.keys))
        .chain((!optional.is_empty()).then(|| ("Optional".to_string(), optional)))
        .collect();
    let mut txt = format!("# {}\n", extract::collapse(&title));
    if let Some(s) = &summary {
        txt.push_str(&format!("\n> {}\n", one_line(s)));
    }
    // Details: also keeps the summary readable by parsers that expect text
    // between it and the first section.
    let total: usize = all.iter().map(|(_, k)| k.len()).sum();
    let copies = pages.iter().any(|p| p.copy);
    txt.push_str(&format!(
        "\nThis index lists {total} page{} in {} section{}, each linked to {}. \
         The full text of every page, in this order, is in llms-full.txt.\n",
        if total == 1 { "" } else { "s" },
        all.len(),
        if all.len() == 1 { "" } else { "s" },
        if copies { "a markdown copy" } else { "its Markdown file" },
    ));
    let mut full = String::new();
    let mut entries = 0;
    let mut n_sections = 0;
    for (name, keys) in &all {
        n_sections += 1;
        let name = if name == "Optional" || !name.eq_ignore_ascii_case("optional") {
            name.clone()
        } else {
            format!("{name} (section)")
        };
        txt.push_str(&format!("\n## {}\n\n", extract::collapse(&name)));
        for k in keys {
            let p = &pages[index[k]];
            let url = link_url(&link(p));
            txt.push_str(&format!("- [{}]({})", link_title(&p.title), url));
            if let Some(d) = p.description.as_deref().map(one_line).filter(|d| !d.is_empty()) {
                txt.push_str(": ");
                txt.push_str(&d);
            }
            txt.push('\n');
            entries += 1;
            full.push_str(&format!("# {}\nSource: {}\n\n{}\n", p.title, url, p.markdown));
        }
    }
    for p in pages.iter().filter(|p| p.copy) {
        write_atomic(&out_dir.join(&p.md_rel), p.markdown.as_bytes())?;
    }
    let llms_txt = out_dir.join("llms.txt");
    let llms_full = out_dir.join("llms-full.txt");
    write_atomic(&llms_txt, txt.as_bytes())?;
    write_atomic(&llms_full, full.as_bytes())?;
    skipped.sort();
    Ok(BuildReport { llms_txt, llms_full, entries, sections: n_sections, skipped })
}

/// Finds the site navigation among the entry pages.
fn find_nav(
    candidates: &[(String, String)],
    known: &HashSet<String>,
) -> Option<(String, Vec<NavNode>)> {
    let mut best: Option<(usize, String, Vec<NavNode>)> = None;
    for (key, html) in candidates {
        let dom = Dom::parse(html);
        let is_known = |h: &str| nav_key(key, h).is_some_and(|k| known.contains(&k));
        if let Some(tree) = extract::nav_tree(&dom, &is_known) {
            fn count(n: &[NavNode]) -> usize {
                n.iter().map(|x| 1 + count(&x.children)).sum()
            }
            let c = count(&tree);
            if best.as_ref().is_none_or(|(b, _, _)| c > *b) {
                best = Some((c, key.clone(), tree));
            }
        }
    }
    best.map(|(_, k, t)| (k, t))
}

/// Builds `llms.txt`, `llms-full.txt` and `.md` copies of every page for a
/// folder of HTML, writing into `out_dir`. Sections follow the site's
/// navigation (found on `index.html` or `toc.html`) when there is one, else
/// its folders; pages not in the navigation go to `## Optional`.
pub fn build_from_dir(
    dir: &Path,
    out_dir: &Path,
    opts: &BuildOptions,
) -> Result<BuildReport, Error> {
    let files = html_files(dir)?;
    type Converted = (String, Result<Option<SitePage>, String>, Option<String>);
    let results: Vec<Converted> = files
        .par_iter()
        .map(|f| {
            let rel = f.strip_prefix(dir).unwrap_or(f);
            let key = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            if is_machinery(&key) {
                let html = (key.ends_with("toc.html"))
                    .then(|| {
                        std::fs::read(f).ok().map(|b| String::from_utf8_lossy(&b).into_owned())
                    })
                    .flatten();
                return (key.clone(), Err(format!("{key}: site machinery, left out")), html);
            }
            let bytes = match std::fs::read(f) {
                Ok(b) => b,
                Err(e) => return (key.clone(), Err(format!("{}: {e}", f.display())), None),
            };
            let base = opts.base_url.as_ref().and_then(|b| page_url(b, rel));
            let nav_html = (key == "index.html" || key == "index.htm")
                .then(|| String::from_utf8_lossy(&bytes).into_owned());
            (key.clone(), convert_page(&key, &bytes, None, base, opts.replace_extension), nav_html)
        })
        .collect();
    let mut pages = Vec::new();
    let mut skipped = Vec::new();
    let mut nav_candidates = Vec::new();
    for (key, r, html) in results {
        if let Some(h) = html {
            nav_candidates.push((key, h));
        }
        match r {
            Ok(Some(p)) => pages.push(p),
            Ok(None) => {}
            Err(e) => skipped.push(e),
        }
    }
    let known: HashSet<String> = pages.iter().map(|p| p.key.clone()).collect();
    let nav = find_nav(&nav_candidates, &known);
    write_site(pages, nav, out_dir, opts, skipped, None)
}

/// Builds `llms.txt` and `llms-full.txt` in `out_dir` for Markdown files
/// (a project's README and docs), one section in the order given. Entries
/// link to the files themselves, relative to `out_dir` unless
/// [`BuildOptions::base_url`] names where `out_dir` is published; a page's
/// title is its first `# ` heading, its description its first paragraph.
pub fn build_from_markdown(
    files: &[PathBuf],
    out_dir: &Path,
    opts: &BuildOptions,
) -> Result<BuildReport, Error> {
    let out = out_dir.canonicalize().map_err(|e| Error::io(out_dir, e))?;
    let mut pages = Vec::new();
    for file in files {
        let bytes = std::fs::read(file).map_err(|e| Error::io(file, e))?;
        let markdown = String::from_utf8(bytes).map_err(|_| Error::Parse {
            path: file.clone(),
            message: "not UTF-8 text; llms.txt lists Markdown files".into(),
        })?;
        let path = file.canonicalize().map_err(|e| Error::io(file, e))?;
        let rel = relative_to(&path, &out);
        let key = rel.to_string_lossy().replace('\\', "/");
        let title = markdown
            .lines()
            .find_map(|l| l.strip_prefix("# ").map(|t| plain(t.trim())))
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| {
                let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
                title_case(&stem.unwrap_or_default())
            });
        let description = lead_paragraph(&markdown);
        if pages.iter().any(|p: &SitePage| p.key == key) {
            continue;
        }
        pages.push(SitePage {
            key,
            md_rel: rel,
            title,
            description,
            markdown,
            full_title: None,
            copy: false,
        });
    }
    let title = opts.title.clone().or_else(|| pages.first().map(|p| p.title.clone()));
    let opts = BuildOptions {
        title,
        summary: opts.summary.clone().or_else(|| pages.first()?.description.clone()),
        ..opts.clone()
    };
    let section =
        Group { name: "Docs".into(), keys: pages.iter().map(|p| p.key.clone()).collect() };
    write_site(pages, None, out_dir, &opts, Vec::new(), Some(vec![section]))
}

/// `path` relative to the folder `base` (both absolute), with `..` where
/// it lies outside.
fn relative_to(path: &Path, base: &Path) -> PathBuf {
    let path: Vec<_> = path.components().collect();
    let base: Vec<_> = base.components().collect();
    let common = path.iter().zip(&base).take_while(|(a, b)| a == b).count();
    let mut rel = PathBuf::new();
    for _ in common..base.len() {
        rel.push("..");
    }
    for part in &path[common..] {
        rel.push(part.as_os_str());
    }
    rel
}

/// Crawls the site below `start` (see [`fetch::crawl`]) and builds its
/// `llms.txt` like [`build_from_dir`]. Page keys are URL paths relative to
/// the start page's folder.
pub async fn build_from_url(
    start: &Url,
    out_dir: &Path,
    opts: &BuildOptions,
) -> Result<BuildReport, Error> {
    let report = fetch::crawl(start, &opts.crawl).await?;
    let scope = fetch::scope_of(start);
    let mut skipped: Vec<String> = report.failed.iter().map(|e| e.to_string()).collect();
    skipped.extend(report.disallowed.iter().map(|u| format!("{u}: disallowed by robots.txt")));
    let mut pages = Vec::new();
    let mut seen = HashSet::new();
    let mut nav_candidates = Vec::new();
    for (i, page) in report.pages.iter().enumerate() {
        let rel = page.url.path().strip_prefix(scope.path()).unwrap_or("").to_string();
        let mut key = percent_decode(&rel);
        if key.is_empty() || key.ends_with('/') {
            key.push_str("index.html");
        } else if !key.rsplit('/').next().unwrap_or("").contains('.') {
            key.push_str(".html");
        }
        let key: String = key
            .split('/')
            .filter(|c| !c.is_empty() && *c != "." && *c != "..")
            .collect::<Vec<_>>()
            .join("/");
        if !seen.insert(key.clone()) {
            continue;
        }
        if i == 0 {
            nav_candidates.push((key.clone(), String::from_utf8_lossy(&page.body).into_owned()));
        }
        match convert_page(
            &key,
            &page.body,
            page.content_type.as_deref(),
            Some(page.url.clone()),
            opts.replace_extension,
        ) {
            Ok(Some(p)) => pages.push(p),
            Ok(None) => {}
            Err(e) => skipped.push(e),
        }
    }
    let known: HashSet<String> = pages.iter().map(|p| p.key.clone()).collect();
    let nav = find_nav(&nav_candidates, &known);
    write_site(pages, nav, out_dir, opts, skipped, None)
}

// ---------------------------------------------------------------------------
// Parse and check
// ---------------------------------------------------------------------------

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Worth fixing; does not fail a check.
    Warning,
    /// Breaks the format or a link; fails a check.
    Error,
}

/// One finding, at a line of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// 1-based line number.
    pub line: usize,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{}: {sev}: {}", self.line, self.message)
    }
}

/// One `- [title](url): description` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Link text.
    pub title: String,
    /// Link target, as written.
    pub url: String,
    /// Text after the colon, if any.
    pub description: Option<String>,
    /// 1-based line.
    pub line: usize,
}

/// An H2 section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The heading text.
    pub name: String,
    /// 1-based line of the heading.
    pub line: usize,
    /// Its entries.
    pub entries: Vec<Entry>,
}

/// A parsed llms.txt.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LlmsTxt {
    /// The H1 title.
    pub title: Option<String>,
    /// The blockquote summary.
    pub summary: Option<String>,
    /// Free-form text between the summary and the first section.
    pub details: String,
    /// The H2 sections, `Optional` included.
    pub sections: Vec<Section>,
}

fn parse_entry(line: &str) -> Result<(String, String, Option<String>), &'static str> {
    let rest = line.trim_start_matches(['-', '*', '+']).trim_start();
    let rest = rest.strip_prefix('[').ok_or("an entry must start with a link: `- [title](url)`")?;
    let close = rest.find("](").ok_or("an entry must be a markdown link: `- [title](url)`")?;
    let title = &rest[..close];
    if title.contains(']') || title.contains('[') {
        return Err("brackets in a link title break llms.txt parsers; remove them");
    }
    let after = &rest[close + 2..];
    let end = after.find(')').ok_or("the link is not closed with `)`")?;
    let url = &after[..end];
    let tail = after[end + 1..].trim();
    let desc = if tail.is_empty() {
        None
    } else if let Some(d) = tail.strip_prefix(':') {
        Some(d.trim().to_string())
    } else {
        return Err("text after the link must follow a colon: `- [title](url): description`");
    };
    Ok((title.trim().to_string(), url.trim().to_string(), desc))
}

/// Parses an llms.txt, reporting structural problems. Never fails.
pub fn parse(text: &str) -> (LlmsTxt, Vec<Diagnostic>) {
    let mut doc = LlmsTxt::default();
    let mut diags = Vec::new();
    let mut diag = |line: usize, severity: Severity, message: String| {
        diags.push(Diagnostic { line, severity, message });
    };
    let mut seen_content = false;
    let mut in_fence = false;
    let mut details = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim_end();
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        }
        if in_fence || line.trim_start().starts_with("```") {
            if doc.sections.is_empty() {
                details.push(line.to_string());
            }
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        if let Some(h) = line.strip_prefix("# ").or((line == "#").then_some("")) {
            if doc.title.is_some() {
                diag(n, Severity::Error, "a second H1: llms.txt has exactly one `# Title`".into());
            } else if seen_content {
                diag(n, Severity::Error, "the H1 title must be the first line".into());
                doc.title = Some(h.trim().to_string());
            } else if h.trim().is_empty() {
                diag(n, Severity::Error, "the H1 title is empty".into());
                doc.title = Some(String::new());
            } else {
                doc.title = Some(h.trim().to_string());
            }
            seen_content = true;
            continue;
        }
        if !seen_content {
            diag(
                n,
                Severity::Error,
                "the file must start with an H1 title: `# Project name`".into(),
            );
            seen_content = true;
        }
        if let Some(h) = line.strip_prefix("## ") {
            let name = h.trim().to_string();
            if doc.sections.iter().any(|s| s.name == name) {
                diag(n, Severity::Warning, format!("section {name:?} appears twice; merge them"));
            }
            doc.sections.push(Section { name, line: n, entries: Vec::new() });
            continue;
        }
        if line.starts_with('#') && line.trim_start_matches('#').starts_with(' ') {
            let level = line.bytes().take_while(|&b| b == b'#').count();
            if level > 2 && !doc.sections.is_empty() {
                diag(n, Severity::Warning, format!("H{level} inside a section: llms.txt sections are flat lists under H2 headings"));
                continue;
            }
        }
        if doc.sections.is_empty() {
            if let Some(q) = line.strip_prefix('>') {
                if doc.summary.is_none() && details.is_empty() {
                    doc.summary = Some(q.trim().to_string());
                    continue;
                }
            }
            details.push(line.to_string());
            continue;
        }
        let section = doc.sections.last_mut().expect("checked non-empty");
        let t = line.trim_start();
        if t.starts_with("- ") || t.starts_with("* ") || t.starts_with("+ ") || t == "-" {
            match parse_entry(t) {
                Ok((title, url, desc)) => {
                    if title.is_empty() {
                        diag(n, Severity::Error, "entry with an empty title".into());
                    }
                    if url.is_empty() {
                        diag(n, Severity::Error, "entry with an empty URL".into());
                    } else if url.contains(char::is_whitespace) {
                        diag(
                            n,
                            Severity::Error,
                            format!("URL {url:?} contains spaces; encode them as %20"),
                        );
                    }
                    if desc.as_deref() == Some("") {
                        diag(
                            n,
                            Severity::Warning,
                            "empty description after the colon; add one or drop the colon".into(),
                        );
                    }
                    section.entries.push(Entry { title, url, description: desc, line: n });
                }
                Err(m) => diag(n, Severity::Error, m.into()),
            }
        } else {
            diag(n, Severity::Error, format!(
                "text in section {:?} that is not a list entry; sections hold only `- [title](url): description` lines",
                section.name
            ));
        }
    }
    doc.details = details.join("\n");
    if doc.title.is_none() && !seen_content {
        diag(1, Severity::Error, "the file must start with an H1 title: `# Project name`".into());
    }
    if doc.title.is_some() && doc.summary.is_none() {
        diag(1, Severity::Warning, "no `> summary` blockquote after the title".into());
    }
    let mut urls: HashMap<String, usize> = HashMap::new();
    for s in &doc.sections {
        if s.entries.is_empty() {
            diag(s.line, Severity::Warning, format!("section {:?} has no entries", s.name));
        }
        for e in &s.entries {
            if let Some(first) = urls.get(&e.url) {
                diag(
                    e.line,
                    Severity::Error,
                    format!("duplicate entry: {} is already listed on line {first}", e.url),
                );
            } else {
                urls.insert(e.url.clone(), e.line);
            }
        }
    }
    diags.sort_by_key(|d| d.line);
    (doc, diags)
}

/// Options for [`check`].
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// Check that every link resolves (local file or HTTP).
    pub resolve_links: bool,
    /// URL prefixes served from local folders: a link below the URL is
    /// checked as a file below the folder instead of over HTTP.
    pub local_roots: Vec<(Url, PathBuf)>,
    /// Requests in flight at once when checking HTTP links.
    pub concurrency: usize,
    /// Per-request timeout.
    pub timeout: Option<Duration>,
}

/// Where the checked llms.txt came from (relative links resolve against it).
#[derive(Debug, Clone)]
pub enum Origin {
    /// A local file.
    File(PathBuf),
    /// A URL.
    Url(Url),
}

/// Reads an llms.txt from a file path or an `http(s)://` URL, with the
/// [`Origin`] its relative links resolve against.
pub async fn load(input: &str, timeout: Duration) -> Result<(String, Origin), Error> {
    if input.starts_with("http://") || input.starts_with("https://") {
        let url = Url::parse(input)
            .map_err(|e| Error::Url { url: input.to_string(), message: e.to_string() })?;
        let page = fetch::Client::new(timeout)?.get(&url).await?;
        if page.status != 200 {
            return Err(Error::Http {
                url: url.to_string(),
                message: format!("HTTP status {}", page.status),
            });
        }
        crate::decode::check_binary(&page.body).map_err(
            |crate::decode::NotText::Binary { offset, kind }| Error::Binary {
                input: url.to_string(),
                offset,
                kind,
            },
        )?;
        Ok((String::from_utf8_lossy(&page.body).into_owned(), Origin::Url(url)))
    } else {
        let path = PathBuf::from(input);
        let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        crate::decode::check_binary(&bytes).map_err(
            |crate::decode::NotText::Binary { offset, kind }| Error::Binary {
                input: input.to_string(),
                offset,
                kind,
            },
        )?;
        Ok((String::from_utf8_lossy(&bytes).into_owned(), Origin::File(path)))
    }
}

/// Validates an llms.txt: structure (per [`parse`]), relative links (a
/// warning: agents may not know the base), and with
/// [`CheckOptions::resolve_links`] that every link resolves.
pub async fn check(text: &str, origin: &Origin, opts: &CheckOptions) -> Vec<Diagnostic> {
    let (doc, mut diags) = parse(text);
    let mut http: Vec<(usize, Url)> = Vec::new();
    for e in doc.sections.iter().flat_map(|s| &s.entries) {
        if e.url.is_empty() {
            continue;
        }
        let absolute = Url::parse(&e.url);
        if absolute.is_err() {
            diags.push(Diagnostic {
                line: e.line,
                severity: Severity::Warning,
                message: format!(
                    "relative link {:?}: agents read llms.txt out of context; use an absolute URL",
                    e.url
                ),
            });
        }
        if !opts.resolve_links {
            continue;
        }
        let target = match (&absolute, origin) {
            (Ok(u), _) => Ok(u.clone()),
            (Err(_), Origin::Url(base)) => base.join(&e.url).map_err(|er| er.to_string()),
            (Err(_), Origin::File(path)) => {
                let dir = path.parent().unwrap_or(Path::new("."));
                let rel = e.url.split(['#', '?']).next().unwrap_or("");
                let p = dir.join(percent_decode(rel));
                if !p.is_file() {
                    diags.push(Diagnostic {
                        line: e.line,
                        severity: Severity::Error,
                        message: format!(
                            "link {:?} does not resolve: no file {}",
                            e.url,
                            p.display()
                        ),
                    });
                }
                continue;
            }
        };
        let u = match target {
            Ok(u) => u,
            Err(m) => {
                diags.push(Diagnostic {
                    line: e.line,
                    severity: Severity::Error,
                    message: format!("invalid link {:?}: {m}", e.url),
                });
                continue;
            }
        };
        if let Some((root, dir)) =
            opts.local_roots.iter().find(|(r, _)| u.as_str().starts_with(r.as_str()))
        {
            let rel = &u.path()[root.path().len().min(u.path().len())..];
            let p = dir.join(percent_decode(rel.trim_start_matches('/')));
            if !p.is_file() {
                diags.push(Diagnostic {
                    line: e.line,
                    severity: Severity::Error,
                    message: format!("link {} does not resolve: no file {}", e.url, p.display()),
                });
            }
            continue;
        }
        match u.scheme() {
            "http" | "https" => http.push((e.line, u)),
            "file" => {
                if !u.to_file_path().is_ok_and(|p| p.is_file()) {
                    diags.push(Diagnostic {
                        line: e.line,
                        severity: Severity::Error,
                        message: format!("link {} does not resolve: no such file", e.url),
                    });
                }
            }
            s => diags.push(Diagnostic {
                line: e.line,
                severity: Severity::Warning,
                message: format!("link {} uses scheme {s:?}, not checked", e.url),
            }),
        }
    }
    if !http.is_empty() {
        match fetch::Client::new(opts.timeout.unwrap_or(Duration::from_secs(15))) {
            Ok(client) => {
                let sem = Arc::new(tokio::sync::Semaphore::new(opts.concurrency.max(1)));
                let mut set = tokio::task::JoinSet::new();
                for (line, u) in http {
                    let client = client.clone();
                    let sem = sem.clone();
                    set.spawn(async move {
                        let _p = sem.acquire_owned().await;
                        (line, u.clone(), client.status(&u).await)
                    });
                }
                while let Some(r) = set.join_next().await {
                    let Ok((line, u, r)) = r else { continue };
                    let message = match r {
                        Ok(s) if (200..400).contains(&s) => continue,
                        Ok(s) => format!("link {u} does not resolve: HTTP status {s}"),
                        Err(e) => format!("link does not resolve: {e}"),
                    };
                    diags.push(Diagnostic { line, severity: Severity::Error, message });
                }
            }
            Err(e) => diags.push(Diagnostic {
                line: 1,
                severity: Severity::Error,
                message: e.to_string(),
            }),
        }
    }
    diags.sort_by_key(|d| (d.line, std::cmp::Reverse(d.severity)));
    diags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_proposal_example() {
        let text = "# FastHTML\n\n> A library.\n\nImportant notes:\n\n- Not a list of links\n\n## Docs\n\n- [Quick start](https://x.dev/start.md): A brief overview\n- [Ref](https://x.dev/ref.md)\n\n## Optional\n\n- [Starlette](https://x.dev/s.md)\n";
        let (doc, diags) = parse(text);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(doc.title.as_deref(), Some("FastHTML"));
        assert_eq!(doc.summary.as_deref(), Some("A library."));
        assert_eq!(doc.sections.len(), 2);
        assert_eq!(doc.sections[0].entries[0].description.as_deref(), Some("A brief overview"));
        assert_eq!(doc.sections[1].name, "Optional");
        assert_eq!(doc.sections[1].entries[0].line, 16);
    }

    #[test]
    fn reports_problems_with_lines() {
        let text = "Intro\n# T\n\n## A\n\n- [x](https://a/x)\n- [y](https://a/x)\n- no link\nprose\n- [](u v)\n\n## Empty\n# Again\n";
        let (_, d) = parse(text);
        let lines: Vec<(usize, Severity)> = d.iter().map(|d| (d.line, d.severity)).collect();
        assert!(lines.contains(&(1, Severity::Error)), "{d:?}");
        assert!(lines.contains(&(2, Severity::Error)), "{d:?}");
        assert!(lines.contains(&(7, Severity::Error)), "duplicate: {d:?}");
        assert!(lines.contains(&(8, Severity::Error)), "{d:?}");
        assert!(lines.contains(&(9, Severity::Error)), "{d:?}");
        assert!(d.iter().filter(|x| x.line == 10).count() >= 2, "{d:?}");
        assert!(lines.contains(&(12, Severity::Warning)), "empty section: {d:?}");
        assert!(lines.contains(&(13, Severity::Error)), "second H1: {d:?}");
    }

    #[test]
    fn a_markdown_file_is_described_by_its_first_paragraph_of_prose() {
        let md = "# Title\n\n[![badge](b.svg)](x)\n\n1. a list\n2. item\n\n```sh\nrun\n```\n\n\
                  42 tasks, all\nsmall. Then *more*.\n\nNext paragraph.\n";
        assert_eq!(lead_paragraph(md).as_deref(), Some("42 tasks, all small. Then more."));
        assert_eq!(lead_paragraph("# Only a title\n"), None);
    }

    #[test]
    fn paths_relative_to_a_folder_climb_out_of_it() {
        let rel = relative_to(Path::new("/r/README.md"), Path::new("/r/docs"));
        assert_eq!(rel, Path::new("../README.md"));
        assert_eq!(relative_to(Path::new("/r/docs/a.md"), Path::new("/r/docs")), Path::new("a.md"));
    }

    #[test]
    fn helpers() {
        assert_eq!(
            first_paragraph("# T\n\n```\ncode\n```\n\nThe [first](x) *real* para.\n").as_deref(),
            Some("The first real para.")
        );
        assert_eq!(
            common_title_suffix(&["A - Book", "B - Book", "Book"]).as_deref(),
            Some(" - Book")
        );
        assert_eq!(nav_key("toc.html", "ch01.html#x").as_deref(), Some("ch01.html"));
        assert_eq!(nav_key("a/index.html", "../b/").as_deref(), Some("b/index.html"));
        assert_eq!(nav_key("index.html", "https://elsewhere/x"), None);
    }
}
