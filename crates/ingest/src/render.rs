//! The digest formats: plain text, Markdown, XML and JSON.
//!
//! A digest is written as segments (header, tree, one per file, notice,
//! footer) so that it can be streamed; each format makes the segments join
//! into a valid document.

use std::fmt::Write as _;
use std::str::FromStr;

use serde::Serialize;

/// The output format of a digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Plain text with `FILE:` banners (the default).
    #[default]
    Text,
    /// Markdown with one fenced code block per file.
    Markdown,
    /// XML with one `<file>` element per file, contents in CDATA.
    Xml,
    /// One JSON object: `summary`, `tree`, `files`, `notice`.
    Json,
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "text" | "txt" | "plain" => Ok(Format::Text),
            "markdown" | "md" => Ok(Format::Markdown),
            "xml" => Ok(Format::Xml),
            "json" => Ok(Format::Json),
            other => Err(format!("unknown format {other:?}; choose text, markdown, xml or json")),
        }
    }
}

/// How much of a file a digest shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileMode {
    /// The whole file.
    Full,
    /// Signatures and doc comments only.
    Outline,
    /// Only the path, in the tree and the notice.
    PathOnly,
}

/// The figures printed at the top of a digest.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Summary {
    pub name: String,
    pub source: String,
    pub files: usize,
    pub skipped: usize,
    pub tokenizer: String,
    /// Tokens in the file contents shown (streaming mode) or in the whole
    /// digest (budget mode, see `budget`).
    pub tokens: usize,
    pub budget: Option<usize>,
}

/// What the closing notice says was cut, and why.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Notice {
    pub outlined: Vec<String>,
    pub path_only: Vec<String>,
    pub skipped: Vec<String>,
    pub secrets: Vec<String>,
    pub problems: Vec<String>,
    pub tree_omitted: bool,
    /// Path-only files are marked in the tree, so the notice only counts them.
    #[serde(skip)]
    pub path_only_in_tree: bool,
    /// At most this many entries of each list are printed (None: all).
    #[serde(skip)]
    pub list_limit: Option<usize>,
}

impl Notice {
    pub fn is_empty(&self) -> bool {
        self.outlined.is_empty()
            && self.path_only.is_empty()
            && self.skipped.is_empty()
            && self.secrets.is_empty()
            && self.problems.is_empty()
            && !self.tree_omitted
    }

    fn lines(&self) -> Vec<String> {
        let list = |title: &str, items: &[String]| -> Option<String> {
            if items.is_empty() {
                return None;
            }
            let shown = self.list_limit.unwrap_or(usize::MAX).min(items.len());
            let mut line = format!("{title} ({}): {}", items.len(), items[..shown].join(", "));
            if shown < items.len() {
                let _ = write!(
                    line,
                    "{}… and {} more",
                    if shown > 0 { ", " } else { "" },
                    items.len() - shown
                );
            }
            Some(line)
        };
        let mut out: Vec<String> = Vec::new();
        out.extend(list("Shortened to outlines", &self.outlined));
        if self.path_only_in_tree && !self.path_only.is_empty() {
            out.push(format!(
                "Left out, path only ({}): marked [path only] in the directory tree",
                self.path_only.len()
            ));
        } else {
            out.extend(list("Left out, path only", &self.path_only));
        }
        out.extend(list("Skipped", &self.skipped));
        out.extend(list("Secrets redacted", &self.secrets));
        out.extend(list("Problems, content missing", &self.problems));
        if self.tree_omitted {
            out.push("The directory tree was left out to fit the token budget.".into());
        }
        out
    }
}

/// Markdown fence language for a path, from its extension.
fn fence_lang(path: &str) -> &'static str {
    let name = path.rsplit('/').next().unwrap_or(path);
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "rs" => "rust",
        "py" | "pyi" => "python",
        "js" | "mjs" | "cjs" => "javascript",
        "jsx" => "jsx",
        "ts" | "mts" | "cts" => "typescript",
        "tsx" => "tsx",
        "go" => "go",
        "java" => "java",
        "c" | "h" => "c",
        "cc" | "cpp" | "cxx" | "hpp" | "hh" | "hxx" => "cpp",
        "md" | "markdown" => "markdown",
        "toml" => "toml",
        "yaml" | "yml" => "yaml",
        "json" => "json",
        "sh" | "bash" => "bash",
        "html" | "htm" => "html",
        "css" => "css",
        "sql" => "sql",
        "rb" => "ruby",
        "kt" | "kts" => "kotlin",
        "swift" => "swift",
        "cs" => "csharp",
        "php" => "php",
        "xml" => "xml",
        _ if name == "Dockerfile" => "dockerfile",
        _ if name == "Makefile" => "makefile",
        _ => "",
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Wraps text in CDATA. Characters XML 1.0 forbids even there (most C0
/// controls) become U+FFFD, so the document always parses.
fn cdata(s: &str) -> String {
    let invalid = |c: char| matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}');
    let cleaned;
    let s = if s.contains(invalid) {
        cleaned = s.replace(invalid, "\u{FFFD}");
        cleaned.as_str()
    } else {
        s
    };
    format!("<![CDATA[{}]]>", s.replace("]]>", "]]]]><![CDATA[>"))
}

fn json<T: Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).expect("digest values serialize")
}

fn longest_backtick_run(s: &str) -> usize {
    let (mut best, mut cur) = (0, 0);
    for b in s.bytes() {
        if b == b'`' {
            cur += 1;
            best = best.max(cur);
        } else {
            cur = 0;
        }
    }
    best
}

const RULE: &str = "================================================================";

/// Renders the segments of a digest in one format.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Renderer {
    pub format: Format,
}

impl Renderer {
    pub fn header(&self, s: &Summary) -> String {
        let mut out = String::new();
        match self.format {
            Format::Text | Format::Markdown => {
                let md = self.format == Format::Markdown;
                let tokens = match s.budget {
                    Some(b) => format!("{} in this digest (budget {b}, {})", s.tokens, s.tokenizer),
                    None => format!("{} in file contents ({})", s.tokens, s.tokenizer),
                };
                if md {
                    let _ = writeln!(out, "# Digest of {}\n", s.name);
                    let _ = writeln!(out, "- Source: {}", s.source);
                    let _ = writeln!(out, "- Files: {}", s.files);
                    if s.skipped > 0 {
                        let _ =
                            writeln!(out, "- Skipped: {} (see the notice at the end)", s.skipped);
                    }
                    let _ = writeln!(out, "- Tokens: {tokens}\n");
                } else {
                    let _ = writeln!(out, "Digest of {}", s.name);
                    let _ = writeln!(out, "Source: {}", s.source);
                    let _ = writeln!(out, "Files: {}", s.files);
                    if s.skipped > 0 {
                        let _ = writeln!(out, "Skipped: {} (see the notice at the end)", s.skipped);
                    }
                    let _ = writeln!(out, "Tokens: {tokens}\n");
                }
            }
            Format::Xml => {
                let _ = writeln!(out, "<digest name=\"{}\">", xml_escape(&s.name));
                let _ = write!(
                    out,
                    "<summary source=\"{}\" files=\"{}\" skipped=\"{}\" tokens=\"{}\" tokenizer=\"{}\"",
                    xml_escape(&s.source),
                    s.files,
                    s.skipped,
                    s.tokens,
                    xml_escape(&s.tokenizer)
                );
                if let Some(b) = s.budget {
                    let _ = write!(out, " budget=\"{b}\"");
                }
                out.push_str("/>\n");
            }
            Format::Json => {
                let _ = write!(out, "{{\"summary\":{},", json(s));
            }
        }
        out
    }

    pub fn tree(&self, tree: Option<&str>) -> String {
        match (self.format, tree) {
            (Format::Text, Some(t)) => format!("Directory structure:\n{t}\n"),
            (Format::Markdown, Some(t)) => format!("## Directory structure\n\n```text\n{t}```\n\n"),
            (Format::Xml, Some(t)) => format!("<tree>{}</tree>\n<files>\n", cdata(t)),
            (Format::Xml, None) => "<files>\n".into(),
            (Format::Json, t) => format!("\"tree\":{},\"files\":[", json(&t)),
            (_, None) => String::new(),
        }
    }

    /// One file's segment: its header, `content`, its footer. `index` is its
    /// position among the files written.
    pub fn file(
        &self,
        index: usize,
        path: &str,
        mode: FileMode,
        tokens: usize,
        full_tokens: usize,
        content: &str,
    ) -> String {
        let (head, body, tail) = self.file_parts(index, path, mode, tokens, full_tokens, content);
        [head.as_str(), body.as_deref().unwrap_or(content), tail.as_str()].concat()
    }

    /// [`Self::file`] in three parts: what goes before the content, the
    /// content as written if it is not `content` itself (escaped for JSON or
    /// XML), and what goes after. A writer can then write a file's text
    /// without copying it into one string with its header.
    pub fn file_parts(
        &self,
        index: usize,
        path: &str,
        mode: FileMode,
        tokens: usize,
        full_tokens: usize,
        content: &str,
    ) -> (String, Option<String>, String) {
        let label = match mode {
            FileMode::Full => format!("{tokens} tokens"),
            FileMode::Outline => format!("outline, {tokens} tokens of {full_tokens}"),
            FileMode::PathOnly => "path only".into(),
        };
        let nl = if content.ends_with('\n') || content.is_empty() { "" } else { "\n" };
        match self.format {
            Format::Text => {
                (format!("{RULE}\nFILE: {path} ({label})\n{RULE}\n"), None, format!("{nl}\n"))
            }
            Format::Markdown => {
                let fence = "`".repeat(longest_backtick_run(content).max(2) + 1);
                let lang = if mode == FileMode::Outline && fence_lang(path).is_empty() {
                    "text"
                } else {
                    fence_lang(path)
                };
                (
                    format!("## {path}\n\n_{label}_\n\n{fence}{lang}\n"),
                    None,
                    format!("{nl}{fence}\n\n"),
                )
            }
            Format::Xml => {
                let mode = match mode {
                    FileMode::Full => "full",
                    FileMode::Outline => "outline",
                    FileMode::PathOnly => "path-only",
                };
                let head = format!(
                    "<file path=\"{}\" mode=\"{mode}\" tokens=\"{tokens}\">",
                    xml_escape(path)
                );
                (head, Some(cdata(content)), "</file>\n".into())
            }
            Format::Json => {
                #[derive(Serialize)]
                struct F<'a> {
                    path: &'a str,
                    mode: FileMode,
                    tokens: usize,
                    content: &'a str,
                }
                let head = if index > 0 { "," } else { "" };
                (head.into(), Some(json(&F { path, mode, tokens, content })), String::new())
            }
        }
    }

    pub fn notice(&self, n: &Notice) -> String {
        let lines = n.lines();
        match self.format {
            Format::Text | Format::Markdown => {
                let md = self.format == Format::Markdown;
                let mut out = String::from(if md { "## Notice\n\n" } else { "Notice:\n" });
                if n.is_empty() {
                    out.push_str("Complete: every text file found is included in full.\n");
                } else {
                    out.push_str("This digest does not show the whole repository.\n");
                    for l in lines {
                        let _ = writeln!(out, "- {l}");
                    }
                }
                out
            }
            Format::Xml => {
                let mut out = format!("</files>\n<notice complete=\"{}\">", n.is_empty());
                if n.is_empty() {
                    out.push_str("Complete: every text file found is included in full.");
                } else {
                    out.push_str("This digest does not show the whole repository.\n");
                    for l in lines {
                        let _ = writeln!(out, "{}", xml_escape(&l));
                    }
                }
                out.push_str("</notice>\n</digest>\n");
                out
            }
            Format::Json => {
                #[derive(Serialize)]
                struct N<'a> {
                    complete: bool,
                    lines: Vec<String>,
                    #[serde(flatten)]
                    notice: &'a Notice,
                }
                let mut all = vec![if n.is_empty() {
                    "Complete: every text file found is included in full.".to_string()
                } else {
                    "This digest does not show the whole repository.".to_string()
                }];
                all.extend(lines);
                format!(
                    "],\"notice\":{}}}\n",
                    json(&N { complete: n.is_empty(), lines: all, notice: n })
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary() -> Summary {
        Summary {
            name: "r".into(),
            source: "/x".into(),
            files: 1,
            skipped: 0,
            tokenizer: "o200k_base".into(),
            tokens: 3,
            budget: None,
        }
    }

    #[test]
    fn json_segments_join_into_valid_json() {
        let r = Renderer { format: Format::Json };
        let mut n = Notice::default();
        n.skipped.push("a.png (binary)".into());
        let doc = [
            r.header(&summary()),
            r.tree(Some("r/\n└── a\n")),
            r.file(0, "a", FileMode::Full, 3, 3, "x \"q\"\n"),
            r.file(1, "b", FileMode::Outline, 1, 9, "fn b()"),
            r.notice(&n),
        ]
        .concat();
        let v: serde_json::Value = serde_json::from_str(&doc).expect(&doc);
        assert_eq!(v["files"][0]["content"], "x \"q\"\n");
        assert_eq!(v["files"][1]["mode"], "outline");
        assert_eq!(v["notice"]["complete"], false);
        assert_eq!(v["summary"]["tokenizer"], "o200k_base");
    }

    #[test]
    fn markdown_fence_outgrows_backticks_and_xml_escapes_cdata() {
        let r = Renderer { format: Format::Markdown };
        let seg = r.file(0, "a.md", FileMode::Full, 1, 1, "````\ncode\n````\n");
        assert!(seg.contains("`````markdown\n````\ncode\n````\n`````\n"), "{seg}");
        let x = Renderer { format: Format::Xml };
        let seg = x.file(0, "a&b", FileMode::Full, 1, 1, "x]]>y");
        assert!(seg.contains("path=\"a&amp;b\""), "{seg}");
        assert!(seg.contains("<![CDATA[x]]]]><![CDATA[>y]]>"), "{seg}");
        let seg = x.file(0, "c", FileMode::Full, 1, 1, "a\u{c}b\u{1b}[0m\tc\n");
        assert!(seg.contains("<![CDATA[a\u{FFFD}b\u{FFFD}[0m\tc\n]]>"), "{seg}");
    }

    #[test]
    fn notice_truncates_lists_and_says_so() {
        let n = Notice {
            path_only: (0..5).map(|i| format!("f{i}")).collect(),
            list_limit: Some(2),
            ..Default::default()
        };
        let text = Renderer { format: Format::Text }.notice(&n);
        assert!(text.contains("Left out, path only (5): f0, f1, … and 3 more"), "{text}");
        let empty = Renderer { format: Format::Text }.notice(&Notice::default());
        assert!(empty.contains("Complete"), "{empty}");
    }
}
