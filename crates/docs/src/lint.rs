//! docs-lint: find GUI-only instructions ("click", "navigate to", "press the
//! … button") in the prose of markdown and HTML docs — never inside code —
//! and, given an OpenAPI spec, suggest the `curl` command that does the same.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer};
use regex::Regex;
use serde::Serialize;

use crate::Error;

/// One GUI-only instruction found in a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The file.
    pub path: PathBuf,
    /// 1-based line of the start of the span.
    pub line: usize,
    /// 1-based column (in characters) of the start of the span.
    pub col: usize,
    /// 1-based line of the end of the span.
    pub end_line: usize,
    /// 1-based column just past the end of the span.
    pub end_col: usize,
    /// The rule that matched: `click`, `tap`, `go-to-menu`, `select-dropdown`,
    /// `navigate-to`, `press-button`.
    pub rule: &'static str,
    /// The matched text.
    pub text: String,
    /// What to do about it.
    pub message: String,
    /// A `curl` command doing the same through the API, when a spec was given
    /// and an operation matches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: {:?}: {}",
            self.path.display(),
            self.line,
            self.col,
            self.rule,
            self.text,
            self.message
        )?;
        if let Some(s) = &self.suggestion {
            write!(f, "\n    suggestion: {s}")?;
        }
        Ok(())
    }
}

struct Rule {
    name: &'static str,
    re: Regex,
}

fn rules() -> &'static [Rule] {
    static RULES: OnceLock<Vec<Rule>> = OnceLock::new();
    RULES.get_or_init(|| {
        let r = |name, pat: &str| Rule { name, re: Regex::new(&format!("(?i){pat}")).expect("valid rule") };
        vec![
            r("click", r"\b(?:(?:double|right|left)[- ])?click(?:s|ed|ing)?\b"),
            r("tap", r"\btap(?:s|ped|ping)?\s+(?:on\s+)?(?:the\s+)?\w[\w-]*"),
            r("go-to-menu", r"\bgo\s+to\s+(?:the\s+)?[^.\n]{1,40}?\s+(?:menu|tab|panel|pane|dialog|screen|window)\b"),
            r("select-dropdown", r"\b(?:select|choose|pick)\s+[^.\n]{1,60}?\s+from\s+(?:the\s+)?(?:[a-z]+\s+)?(?:drop-?\s?down|menu|list)\b"),
            r("navigate-to", r"\bnavigate\s+to\b"),
            r("press-button", r"\b(?:press|hit)\s+(?:the\s+)?[^.\n]{1,40}?\s+button\b"),
        ]
    })
}

const MESSAGE: &str =
    "GUI-only instruction: give the command, API call or config change that does this, so an agent can run it";

/// Which files the linter reads.
fn is_doc(p: &Path) -> bool {
    p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        matches!(e.to_ascii_lowercase().as_str(), "md" | "markdown" | "mdx" | "html" | "htm")
    })
}

fn is_html(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"))
}

/// Lints a file or every markdown/HTML file under a folder.
pub fn lint_path(path: &Path, api: Option<&OpenApi>) -> Result<Vec<Finding>, Error> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    let files = if meta.is_dir() {
        let mut v = Vec::new();
        for entry in ignore::WalkBuilder::new(path).build() {
            let entry = entry.map_err(|e| Error::io(path, std::io::Error::other(e.to_string())))?;
            if entry.file_type().is_some_and(|t| t.is_file()) && is_doc(entry.path()) {
                v.push(entry.path().to_path_buf());
            }
        }
        v.sort();
        v
    } else {
        vec![path.to_path_buf()]
    };
    let mut out = Vec::new();
    for f in files {
        let bytes = std::fs::read(&f).map_err(|e| Error::io(&f, e))?;
        let text = if is_html(&f) {
            crate::decode::decode_html(&bytes, None)
                .map_err(|crate::decode::NotText::Binary { offset, kind }| Error::Binary {
                    input: f.display().to_string(),
                    offset,
                    kind,
                })?
                .0
                .into_owned()
        } else {
            crate::decode::check_binary(&bytes).map_err(
                |crate::decode::NotText::Binary { offset, kind }| Error::Binary {
                    input: f.display().to_string(),
                    offset,
                    kind,
                },
            )?;
            String::from_utf8_lossy(&bytes).into_owned()
        };
        out.extend(lint_text(&f, &text, is_html(&f), api));
    }
    Ok(out)
}

/// Lints one document's text. `html` selects the HTML reader; otherwise the
/// text is read as markdown.
pub fn lint_text(path: &Path, text: &str, html: bool, api: Option<&OpenApi>) -> Vec<Finding> {
    let prose = if html { html_prose(text) } else { markdown_prose(text) };
    let mut out = Vec::new();
    for rule in rules() {
        for m in rule.re.find_iter(&prose) {
            let (line, col) = line_col(text, m.start());
            let (end_line, end_col) = line_col(text, m.end());
            let matched = &text[m.start()..m.end()];
            let context = sentence(&prose, m.start());
            out.push(Finding {
                path: path.to_path_buf(),
                line,
                col,
                end_line,
                end_col,
                rule: rule.name,
                text: matched.to_string(),
                message: MESSAGE.to_string(),
                suggestion: api.and_then(|a| a.suggest(&context)),
            });
        }
    }
    out.sort_by_key(|f| (f.line, f.col));
    out.dedup_by(|a, b| a.line == b.line && a.col == b.col);
    out
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[start..].chars().count() + 1)
}

/// The prose sentence around `at`, whitespace-collapsed.
fn sentence(prose: &str, at: usize) -> String {
    let start = prose[..at].rfind(['.', '!', '?', '\n']).map_or(0, |i| i + 1);
    let end = prose[at..].find(['.', '!', '?']).map_or(prose.len(), |i| at + i);
    crate::extract::collapse(&prose[start..end])
}

/// The markdown source with everything but prose text blanked to spaces
/// (newlines kept), so offsets in it are offsets in the source.
fn markdown_prose(md: &str) -> String {
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
    let mut keep = vec![false; md.len()];
    let mut in_code = 0u32;
    let parser = Parser::new_ext(
        md,
        Options::ENABLE_TABLES | Options::ENABLE_FOOTNOTES | Options::ENABLE_STRIKETHROUGH,
    );
    for (ev, range) in parser.into_offset_iter() {
        match ev {
            Event::Start(Tag::CodeBlock(_)) => in_code += 1,
            Event::End(TagEnd::CodeBlock) => in_code = in_code.saturating_sub(1),
            Event::Text(_) if in_code == 0 => {
                for k in &mut keep[range] {
                    *k = true;
                }
            }
            _ => {}
        }
    }
    blank_except(md, &keep)
}

fn blank_except(src: &str, keep: &[bool]) -> String {
    let bytes: Vec<u8> =
        src.bytes().zip(keep).map(|(b, &k)| if k || b == b'\n' { b } else { b' ' }).collect();
    // Kept ranges cover whole characters, so the result is valid UTF-8; fall
    // back to a lossy copy rather than panic if that ever fails.
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

struct ProseSink {
    /// (end line, text) of character runs outside code.
    runs: RefCell<Vec<(u64, String)>>,
    code_depth: RefCell<u32>,
}

fn is_code_tag(n: &str) -> bool {
    matches!(n, "pre" | "code" | "kbd" | "samp" | "script" | "style" | "textarea" | "tt" | "var")
}

impl TokenSink for ProseSink {
    type Handle = ();
    fn process_token(&self, token: Token, line: u64) -> TokenSinkResult<()> {
        match token {
            Token::TagToken(tag) if is_code_tag(&tag.name) && !tag.self_closing => {
                let mut d = self.code_depth.borrow_mut();
                match tag.kind {
                    TagKind::StartTag => {
                        *d += 1;
                        match &*tag.name {
                            "script" => {
                                return TokenSinkResult::RawData(
                                    html5ever::tokenizer::states::RawKind::ScriptData,
                                )
                            }
                            "style" => {
                                return TokenSinkResult::RawData(
                                    html5ever::tokenizer::states::RawKind::Rawtext,
                                )
                            }
                            "textarea" => {
                                return TokenSinkResult::RawData(
                                    html5ever::tokenizer::states::RawKind::Rcdata,
                                )
                            }
                            _ => {}
                        }
                    }
                    TagKind::EndTag => *d = d.saturating_sub(1),
                }
            }
            Token::CharacterTokens(t) if *self.code_depth.borrow() == 0 => {
                self.runs.borrow_mut().push((line, t.to_string()));
            }
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

/// The HTML source with everything but prose text blanked. Text runs are
/// located in the source from the tokenizer's line numbers; runs whose
/// source differs from their decoded text (entities) are matched on their
/// decoded text placed at the run's position.
fn html_prose(html: &str) -> String {
    let sink = ProseSink { runs: RefCell::new(Vec::new()), code_depth: RefCell::new(0) };
    let tok = Tokenizer::new(sink, Default::default());
    let q = BufferQueue::default();
    q.push_back(StrTendril::from_slice(html));
    while !matches!(tok.feed(&q), html5ever::TokenizerResult::Done) {}
    tok.end();
    let runs = tok.sink.runs.into_inner();
    let line_starts: Vec<usize> =
        std::iter::once(0).chain(html.match_indices('\n').map(|(i, _)| i + 1)).collect();
    let mut out: Vec<u8> = html.bytes().map(|b| if b == b'\n' { b } else { b' ' }).collect();
    let mut cursor = 0usize;
    for (end_line, text) in runs {
        if text.trim().is_empty() {
            continue;
        }
        let nl = text.matches('\n').count();
        let start_line = (end_line as usize).saturating_sub(nl).max(1);
        let from = line_starts.get(start_line - 1).copied().unwrap_or(0).max(cursor);
        let Some(pos) = html[from..].find(text.as_str()).map(|p| from + p) else { continue };
        out[pos..pos + text.len()].copy_from_slice(text.as_bytes());
        cursor = pos + text.len();
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

// ---------------------------------------------------------------------------
// OpenAPI
// ---------------------------------------------------------------------------

/// One API operation from an OpenAPI document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// HTTP method, upper case.
    pub method: String,
    /// Path template, e.g. `/projects/{id}`.
    pub path: String,
    /// `summary` (or `operationId`, or `description`).
    pub summary: String,
    /// Does the operation take a JSON request body?
    pub json_body: bool,
}

/// The operations of an OpenAPI (3.x or Swagger 2) document.
#[derive(Debug, Clone, Default)]
pub struct OpenApi {
    /// Base URL from `servers[0].url` (or `host` + `basePath`), if any.
    pub server: Option<String>,
    /// All operations.
    pub operations: Vec<Operation>,
}

fn words(s: &str) -> Vec<String> {
    // Split camelCase and snake_case, lower-case, crude plural folding.
    let mut spaced = String::with_capacity(s.len() + 8);
    let mut prev_lower = false;
    for c in s.chars() {
        if c.is_uppercase() && prev_lower {
            spaced.push(' ');
        }
        prev_lower = c.is_lowercase();
        spaced.push(if c.is_alphanumeric() { c } else { ' ' });
    }
    spaced
        .split_whitespace()
        .map(|w| {
            let w = w.to_lowercase();
            match w.strip_suffix("ies") {
                Some(r) if r.len() > 2 => format!("{r}y"),
                _ => match w.strip_suffix('s') {
                    Some(r) if r.len() > 2 && !r.ends_with('s') => r.to_string(),
                    _ => w,
                },
            }
        })
        .filter(|w| !STOP.contains(&w.as_str()))
        .collect()
}

const STOP: &[&str] = &[
    "the", "a", "an", "to", "of", "on", "in", "and", "or", "your", "you", "for", "then", "button",
    "menu", "click", "tap", "press", "select", "from", "dropdown", "navigate", "go", "page", "tab",
    "this", "that", "with", "it", "is", "be", "id", "api", "v1", "v2",
];

fn verb_of(w: &str) -> Option<&'static str> {
    Some(match w {
        "create" | "add" | "new" | "submit" | "invite" | "upload" | "register" | "post" => "POST",
        "delete" | "remove" | "revoke" | "destroy" => "DELETE",
        "update" | "edit" | "change" | "rename" | "modify" | "save" | "set" | "enable"
        | "disable" => "PUT",
        "list" | "view" | "show" | "get" | "see" | "open" | "find" | "search" | "download"
        | "read" => "GET",
        _ => return None,
    })
}

impl OpenApi {
    /// Loads a spec from a JSON or YAML file.
    pub fn load(path: &Path) -> Result<OpenApi, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let value: serde_json::Value = if text.trim_start().starts_with('{') {
            serde_json::from_str(&text).map_err(|e| Error::Parse {
                path: path.into(),
                message: format!("invalid JSON: {e}"),
            })?
        } else {
            serde_yaml_ng::from_str(&text).map_err(|e| Error::Parse {
                path: path.into(),
                message: format!("invalid YAML: {e}"),
            })?
        };
        Self::from_value(&value).map_err(|message| Error::Parse { path: path.into(), message })
    }

    /// Reads the operations of a parsed spec.
    pub fn from_value(v: &serde_json::Value) -> Result<OpenApi, String> {
        let paths = v
            .get("paths")
            .and_then(|p| p.as_object())
            .ok_or("no `paths` object: not an OpenAPI document")?;
        let server = v
            .pointer("/servers/0/url")
            .and_then(|s| s.as_str())
            .map(str::to_string)
            .or_else(|| {
                let host = v.get("host")?.as_str()?;
                let base = v.get("basePath").and_then(|b| b.as_str()).unwrap_or("");
                let scheme = v.pointer("/schemes/0").and_then(|s| s.as_str()).unwrap_or("https");
                Some(format!("{scheme}://{host}{base}"))
            });
        let mut operations = Vec::new();
        for (path, item) in paths {
            let Some(item) = item.as_object() else { continue };
            for (method, op) in item {
                let m = method.to_ascii_uppercase();
                if !matches!(m.as_str(), "GET" | "POST" | "PUT" | "PATCH" | "DELETE") {
                    continue;
                }
                let text = |k: &str| op.get(k).and_then(|s| s.as_str()).map(str::to_string);
                let summary = text("summary")
                    .or_else(|| text("operationId"))
                    .or_else(|| text("description"))
                    .unwrap_or_default();
                let json_body = op.pointer("/requestBody/content/application~1json").is_some()
                    || op.get("parameters").and_then(|p| p.as_array()).is_some_and(|ps| {
                        ps.iter().any(|p| p.get("in").and_then(|i| i.as_str()) == Some("body"))
                    });
                operations.push(Operation { method: m, path: path.clone(), summary, json_body });
            }
        }
        Ok(OpenApi { server, operations })
    }

    /// The best-matching operation for a GUI instruction, as a `curl` command.
    pub fn suggest(&self, instruction: &str) -> Option<String> {
        let ws = words(instruction);
        let verbs: Vec<&str> = ws.iter().filter_map(|w| verb_of(w)).collect();
        let nouns: Vec<&String> = ws.iter().filter(|w| verb_of(w).is_none()).collect();
        let mut best: Option<(i32, &Operation)> = None;
        for op in &self.operations {
            let mut op_words = words(&op.summary);
            op_words.extend(words(&op.path.replace(['{', '}'], " ")));
            let overlap = nouns.iter().filter(|n| op_words.contains(n)).count() as i32;
            if overlap == 0 {
                continue;
            }
            let verb_match =
                verbs.iter().any(|v| *v == op.method || (*v == "PUT" && op.method == "PATCH"));
            let summary_words = words(&op.summary);
            let summary_verb = summary_words.iter().any(|w| ws.contains(w) && verb_of(w).is_some());
            let score =
                overlap * 2 + if verb_match { 3 } else { 0 } + if summary_verb { 2 } else { 0 }
                    - if verbs.is_empty() || verb_match { 0 } else { 2 };
            if best.is_none_or(|(b, _)| score > b) {
                best = Some((score, op));
            }
        }
        let (score, op) = best?;
        if score < 3 {
            return None;
        }
        let base = self.server.as_deref().unwrap_or("$API_URL").trim_end_matches('/');
        let mut cmd = format!(
            "curl -X {} \"{}{}\" -H \"Authorization: Bearer $TOKEN\"",
            op.method, base, op.path
        );
        if op.json_body {
            cmd.push_str(" -H \"Content-Type: application/json\" -d '{…}'");
        }
        if !op.summary.is_empty() {
            cmd.push_str(&format!("  # {}", op.summary));
        }
        Some(cmd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lint(md: &str) -> Vec<(usize, usize, &'static str, String)> {
        lint_text(Path::new("a.md"), md, false, None)
            .into_iter()
            .map(|f| (f.line, f.col, f.rule, f.text))
            .collect()
    }

    #[test]
    fn finds_gui_instructions_in_prose_only() {
        let md = "# Setup\n\nClick **Save**, then navigate to the\nSettings page.\n\n```\nclick here in code\n```\n\nUse `click()` in code spans.\n\n    click in indented code\n\nGo to the **File** menu and select *Export* from the dropdown.\nPress the big red button. Tap on Continue.\n";
        let got = lint(md);
        assert_eq!(
            got,
            vec![
                (3, 1, "click", "Click".to_string()),
                (3, 22, "navigate-to", "navigate to".to_string()),
                (14, 1, "go-to-menu", "Go to the **File** menu".to_string()),
                (14, 29, "select-dropdown", "select *Export* from the dropdown".to_string()),
                (15, 1, "press-button", "Press the big red button".to_string()),
                (15, 27, "tap", "Tap on Continue".to_string()),
            ]
        );
    }

    #[test]
    fn html_prose_positions() {
        let html = "<html><body>\n<p>First, <b>click</b> the icon.</p>\n<pre>click in code</pre>\n<p>Then navigate to X.</p>";
        let f = lint_text(Path::new("a.html"), html, true, None);
        let got: Vec<_> = f.iter().map(|f| (f.line, f.col, f.rule)).collect();
        assert_eq!(got, vec![(2, 14, "click"), (4, 9, "navigate-to")]);
    }

    #[test]
    fn suggests_curl_from_openapi() {
        let spec: serde_json::Value = serde_json::json!({
            "openapi": "3.0.0",
            "servers": [{"url": "https://api.example.com/v1"}],
            "paths": {
                "/projects": {
                    "get": {"summary": "List projects"},
                    "post": {"summary": "Create a project", "requestBody": {"content": {"application/json": {}}}}
                },
                "/projects/{id}": {"delete": {"summary": "Delete a project"}},
                "/users": {"get": {"summary": "List users"}}
            }
        });
        let api = OpenApi::from_value(&spec).unwrap();
        let s = api.suggest("Click Create project to add a new project").unwrap();
        assert!(s.starts_with("curl -X POST \"https://api.example.com/v1/projects\""), "{s}");
        let s = api.suggest("click Delete next to the project").unwrap();
        assert!(
            s.starts_with("curl -X DELETE \"https://api.example.com/v1/projects/{id}\""),
            "{s}"
        );
        assert_eq!(api.suggest("click the weather icon"), None);
    }
}
