//! Turn a repository into one text an LLM can read: a summary, the directory
//! tree, then every text file with its path — or, under a token budget, the
//! most important files in full, others as outlines, the rest by path only.
//!
//! The pipeline is walk → classify → count → pack → render:
//!
//! - **walk** honours `.gitignore` at every depth (with negations), `.ignore`,
//!   `.git/info/exclude`, `.suitignore`, a default ignore list
//!   ([`DEFAULT_IGNORED_DIRS`], [`DEFAULT_IGNORED_FILES`]), hidden files (off
//!   by default), include/exclude globs and a maximum file size;
//! - **classify** tells text from binary by content, never by extension;
//! - **count** uses a named tokenizer ([`Tokenizer`]: a built-in
//!   [`TokenizerKind`] or any [`TokenCounter`], such as a model's);
//! - **pack** ([`IngestOptions::token_budget`]) grades files by importance;
//! - **render** streams text, Markdown, XML or JSON ([`Format`]).
//!
//! Files are read in parallel and the digest is streamed, so memory stays
//! bounded by a window of files, whatever the size of the repository.
//! Secrets are redacted (or their files dropped) and reported in the
//! [`Report`]; the library never prints.
//!
//! ```no_run
//! use suit_ingest::{ingest, IngestOptions};
//!
//! let options = IngestOptions { source: ".".into(), token_budget: Some(50_000), ..Default::default() };
//! let mut out = std::io::stdout().lock();
//! let report = ingest(&options, &mut out, &|_progress| {})?;
//! eprintln!("{} files, {} tokens", report.files.len(), report.content_tokens);
//! # Ok::<(), suit_ingest::IngestError>(())
//! ```

#![warn(missing_docs)]

mod bitsplit;
mod classify;
mod count_cache;
mod error;
mod notebook;
mod outline;
mod rank;
mod remote;
mod render;
mod secrets;
mod tokens;
mod tree;
mod vocab;
mod walk;

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;
use serde::Serialize;

pub use error::IngestError;
pub use outline::{functions, outline, supports as outline_supported, FunctionSpan};
pub use remote::{default_cache_dir, parse_source, RemoteSpec, Source};
pub use render::{FileMode, Format};
pub use secrets::SecretFinding;
pub use tokens::{TokenCounter, Tokenizer, TokenizerKind};
pub use walk::{SkipReason, Skipped, DEFAULT_IGNORED_DIRS, DEFAULT_IGNORED_FILES, SUITIGNORE};

use classify::Content;
use count_cache::CountCache;
use render::{Notice, Renderer, Summary};
use walk::Candidate;

/// The default maximum file size: larger files are skipped and listed.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;

/// Files read and rendered at once while streaming; bounds memory.
const WINDOW: usize = 64;

/// Bytes of file text held at once while streaming (a larger file is alone in its window).
const WINDOW_BYTES: usize = 8 * 1024 * 1024;

/// What to ingest and how.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// A local path, a git URL (`https://host/owner/repo[/tree/REF/SUBPATH]`,
    /// `file://`, `ssh://`, `git@host:owner/repo`) or `owner/repo`.
    pub source: String,
    /// Branch, tag or commit of a remote source (overrides one in the URL).
    pub git_ref: Option<String>,
    /// Only files matching one of these globs (a bare name matches at any depth).
    pub include: Vec<String>,
    /// Leave out files and directories matching these globs.
    pub exclude: Vec<String>,
    /// Include hidden files and directories (names starting with `.`).
    pub hidden: bool,
    /// Follow symbolic links (loops are detected and listed as skipped).
    pub follow_links: bool,
    /// Apply the default ignore list (lockfiles, build outputs, vendored deps, minified assets).
    pub default_ignores: bool,
    /// Files larger than this many bytes are skipped and listed.
    pub max_file_size: u64,
    /// Output format.
    pub format: Format,
    /// Tokenizer used for every count.
    pub tokenizer: Tokenizer,
    /// Pack the whole digest into at most this many tokens.
    pub token_budget: Option<usize>,
    /// Files (paths or globs) to rank first when packing.
    pub named_files: Vec<String>,
    /// Leave out files that contain secrets instead of redacting them.
    pub drop_secrets: bool,
    /// Where remote repositories are cloned; [`default_cache_dir`] if `None`.
    pub cache_dir: Option<PathBuf>,
    /// Keep token counts of files without secrets in this directory, keyed
    /// by content, so a later ingest counts and scans only changed files.
    /// `None`: nothing is cached.
    pub count_cache: Option<PathBuf>,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            source: ".".into(),
            git_ref: None,
            include: Vec::new(),
            exclude: Vec::new(),
            hidden: false,
            follow_links: false,
            default_ignores: true,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            format: Format::Text,
            tokenizer: Tokenizer::default(),
            token_budget: None,
            named_files: Vec::new(),
            drop_secrets: false,
            cache_dir: None,
            count_cache: None,
        }
    }
}

/// Progress events, for a progress bar on large trees. Sent from worker threads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// A remote repository is being cloned.
    Cloning {
        /// Its URL.
        url: String,
    },
    /// The walk finished.
    Walked {
        /// Files to read.
        files: usize,
        /// Entries skipped during the walk.
        skipped: usize,
    },
    /// Files read, classified and counted so far.
    Read {
        /// Done so far.
        done: usize,
        /// Total to do.
        total: usize,
    },
    /// Files written to the digest so far.
    Written {
        /// Done so far.
        done: usize,
        /// Total to do.
        total: usize,
    },
}

/// One file in the digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileReport {
    /// Path relative to the root, with `/` separators.
    pub path: String,
    /// How much of it the digest shows.
    pub mode: FileMode,
    /// Tokens of what the digest shows of it (0 for path only).
    pub tokens: usize,
    /// Tokens of the whole (redacted) file.
    pub full_tokens: usize,
}

/// What an ingest did: what went in, what was cut or skipped and why.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The directory (or file) that was walked.
    pub root: PathBuf,
    /// Where it came from: the path or URL as given, with ref and commit for a clone.
    pub source: String,
    /// The name of the tokenizer used.
    pub tokenizer: String,
    /// Every text file found, in digest order, with how much of it is shown.
    pub files: Vec<FileReport>,
    /// Entries left out, with the reason (binary, too large, unreadable...).
    pub skipped: Vec<Skipped>,
    /// Secrets found (redacted, or their files dropped).
    pub secrets: Vec<SecretFinding>,
    /// Things the reader should know that did not cut content (invalid UTF-8 replaced...).
    pub warnings: Vec<String>,
    /// Content that should have been in the digest and is not (a file that
    /// vanished or became unreadable while writing). Not empty: incomplete.
    pub problems: Vec<String>,
    /// Tokens of all file contents shown.
    pub content_tokens: usize,
    /// Exact tokens of the whole digest, when packed to a budget.
    pub digest_tokens: Option<usize>,
    /// The token budget, if any.
    pub budget: Option<usize>,
}

impl Report {
    /// True when every file the digest claims to show is really there.
    pub fn is_complete(&self) -> bool {
        self.problems.is_empty()
    }

    /// Files shown as outlines or by path only.
    pub fn shortened(&self) -> impl Iterator<Item = &FileReport> {
        self.files.iter().filter(|f| f.mode != FileMode::Full)
    }
}

/// The files an ingest of the local directory `root` would consider, by the
/// same rules (`.gitignore` at every depth, `.ignore`, `.suitignore`, the
/// default ignore list, hidden files, size limit, include/exclude globs from
/// `options`), as sorted relative paths with `/` separators. Content is not
/// read, so binary files are still listed. For callers that need the file
/// list without a digest, such as the agent's repository map.
pub fn list_files(root: &Path, options: &IngestOptions) -> Result<Vec<String>, IngestError> {
    let walked = walk::walk(root, &walk_config(options))?;
    Ok(walked.files.into_iter().map(|c| c.rel).collect())
}

fn walk_config(options: &IngestOptions) -> walk::WalkConfig<'_> {
    walk::WalkConfig {
        include: &options.include,
        exclude: &options.exclude,
        hidden: options.hidden,
        follow_links: options.follow_links,
        default_ignores: options.default_ignores,
        max_file_size: options.max_file_size,
    }
}

/// A text file after the first pass: counted, its content dropped.
#[derive(Debug)]
struct Analyzed {
    rel: String,
    abs: PathBuf,
    /// Tokens of the text as shown (secrets redacted).
    tokens: usize,
    /// Bytes of text (of the file, when known from the cache's metadata
    /// table); sizes the windows the digest is written in.
    len: usize,
    /// The content key of the text as read: the same text read again needs
    /// no count (and, without secrets, no scan).
    key: u128,
    had_secrets: bool,
}

enum Outcome {
    File(Analyzed, Vec<SecretFinding>, Option<String>),
    Skip(Skipped, Vec<SecretFinding>),
}

/// The text a digest shows of a file: read, classified, redacted.
enum Loaded {
    /// `same`: the text is the one that was counted.
    Text {
        text: String,
        same: bool,
    },
    Binary,
}

/// Reads, classifies and redacts a file again, to write it. The text that was
/// counted, without secrets, is shown as it is; anything else is scanned.
fn load(f: &Analyzed) -> std::io::Result<Loaded> {
    Ok(match classify::read(&f.abs)? {
        Content::Binary => Loaded::Binary,
        Content::Text { text, .. } => {
            let same = f.key == count_cache::content_key(&f.rel, &text);
            if same && !f.had_secrets {
                Loaded::Text { text, same }
            } else {
                let (redacted, _) = secrets::redact(&f.rel, &text);
                Loaded::Text { text: redacted.unwrap_or(text), same }
            }
        }
    })
}

fn analyze(c: Candidate, opts: &IngestOptions, counts: &CountCache) -> Outcome {
    if let Some(stat) = &c.stat {
        if let Some((key, tokens)) = counts.get_by_stat(&c.abs, stat) {
            let len = usize::try_from(stat.size()).unwrap_or(usize::MAX);
            let file = Analyzed { rel: c.rel, abs: c.abs, tokens, len, key, had_secrets: false };
            return Outcome::File(file, Vec::new(), None);
        }
    }
    let (text, replaced) = match classify::read(&c.abs) {
        Ok(Content::Text { text, replaced }) => (text, replaced),
        Ok(Content::Binary) => {
            return Outcome::Skip(Skipped { path: c.rel, reason: SkipReason::Binary }, Vec::new())
        }
        Err(e) => {
            return Outcome::Skip(
                Skipped { path: c.rel, reason: SkipReason::Unreadable { error: e.to_string() } },
                Vec::new(),
            )
        }
    };
    let warning = (replaced > 0).then(|| {
        format!("{}: not valid UTF-8; {replaced} invalid sequence(s) shown as U+FFFD", c.rel)
    });
    let key = count_cache::content_key(&c.rel, &text);
    let cached = counts.get(key);
    // A clean text needs neither a scan nor a count; one with secrets is
    // scanned (to redact it and report them) but not counted again.
    let (text, findings) = match cached {
        Some(hit) if !hit.secrets => (text, Vec::new()),
        _ => {
            let (redacted, findings) = secrets::redact(&c.rel, &text);
            (redacted.unwrap_or(text), findings)
        }
    };
    if opts.drop_secrets && !findings.is_empty() {
        return Outcome::Skip(
            Skipped { path: c.rel, reason: SkipReason::Secrets { count: findings.len() } },
            findings,
        );
    }
    let tokens = match cached {
        Some(hit) => hit.tokens,
        None => {
            let tokens = opts.tokenizer.count(&text);
            counts.insert(key, tokens, !findings.is_empty());
            tokens
        }
    };
    // Only clean files go into the metadata table (a hit there skips the
    // scan), and not those shown with replacement characters, so that each
    // run warns about them.
    if let (Some(stat), true, 0) = (&c.stat, findings.is_empty(), replaced) {
        counts.insert_stat(&c.abs, stat, key);
    }
    let had_secrets = !findings.is_empty();
    let file = Analyzed { rel: c.rel, abs: c.abs, tokens, len: text.len(), key, had_secrets };
    Outcome::File(file, findings, warning)
}

/// Resolves the source to a local root, cloning a remote one. Returns the
/// root, the digest's name and a description of the source.
fn resolve(
    opts: &IngestOptions,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<(PathBuf, String, String), IngestError> {
    match parse_source(&opts.source, opts.git_ref.as_deref())? {
        Source::Local(path) => {
            if !path.exists() && std::fs::symlink_metadata(&path).is_err() {
                return Err(IngestError::NotFound { path });
            }
            let canonical = path.canonicalize().map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => IngestError::NotFound { path: path.clone() },
                _ => IngestError::Unreadable { path: path.clone(), source: e },
            })?;
            let name = canonical
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "/".into());
            Ok((canonical, name, path.display().to_string()))
        }
        Source::Remote(spec) => {
            progress(Progress::Cloning { url: spec.url.clone() });
            let cache = opts.cache_dir.clone().unwrap_or_else(default_cache_dir);
            let clone = remote::clone_into_cache(&spec, &cache)?;
            let commit = remote::head_commit(&clone).unwrap_or_default();
            let mut source = spec.url.clone();
            if let Some(r) = &spec.git_ref {
                source.push_str(&format!(" at {r}"));
            }
            if !commit.is_empty() {
                source.push_str(&format!(" (commit {})", &commit[..commit.len().min(12)]));
            }
            let mut root = clone;
            if let Some(sub) = &spec.subpath {
                root = root.join(sub);
                if !root.exists() {
                    return Err(IngestError::SubpathMissing {
                        url: spec.url.clone(),
                        subpath: sub.clone(),
                    });
                }
                source.push_str(&format!(", {sub}"));
            }
            Ok((root, spec.name.clone(), source))
        }
    }
}

/// Ingests `options.source` and writes the digest to `out`.
///
/// Returns what went in and what did not. Problems with single files are in
/// the report and in the digest's closing notice, never silent; an `Err` means
/// no digest (or, for [`IngestError::Write`], a digest cut short) was written.
pub fn ingest(
    options: &IngestOptions,
    out: &mut dyn Write,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Report, IngestError> {
    let tokenizer = options.tokenizer.clone();
    let counts = match &options.count_cache {
        Some(dir) => CountCache::load(dir, &tokenizer),
        None => CountCache::disabled(),
    };
    let (root, name, source) = resolve(options, progress)?;
    // Packing ranks files by their git history: read it while the files are.
    let git = options.token_budget.map(|_| {
        let root = root.clone();
        std::thread::spawn(move || rank::GitStats::read(&root))
    });
    let walked = walk::walk(&root, &walk_config(options))?;
    progress(Progress::Walked { files: walked.files.len(), skipped: walked.skipped.len() });

    let total = walked.files.len();
    let done = AtomicUsize::new(0);
    let outcomes: Vec<Outcome> = walked
        .files
        .into_par_iter()
        .map(|c| {
            let o = analyze(c, options, &counts);
            let n = done.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_multiple_of(WINDOW) || n == total {
                progress(Progress::Read { done: n, total });
            }
            o
        })
        .collect();
    counts.save();

    let mut files = Vec::with_capacity(outcomes.len());
    let mut skipped = walked.skipped;
    let mut secrets = Vec::new();
    let mut warnings = Vec::new();
    for o in outcomes {
        match o {
            Outcome::File(a, f, w) => {
                files.push(a);
                secrets.extend(f);
                warnings.extend(w);
            }
            Outcome::Skip(s, f) => {
                skipped.push(s);
                secrets.extend(f);
            }
        }
    }
    skipped.sort_by(|a, b| tree::path_order(&a.path, &b.path));

    let mut report = Report {
        root: root.clone(),
        source: source.clone(),
        tokenizer: tokenizer.name().to_string(),
        files: Vec::new(),
        skipped,
        secrets,
        warnings,
        problems: Vec::new(),
        content_tokens: 0,
        digest_tokens: None,
        budget: options.token_budget,
    };
    let ctx = Ctx { renderer: Renderer { format: options.format }, name, source, tokenizer };
    match options.token_budget {
        None => stream(&ctx, &files, &mut report, out, progress)?,
        Some(budget) => {
            let named = walk_named(&options.named_files)?;
            let git = git.and_then(|h| h.join().ok()).unwrap_or_default();
            packed(&ctx, &files, budget, &named, &git, &mut report, out)?;
        }
    }
    out.flush()?;
    Ok(report)
}

fn walk_named(patterns: &[String]) -> Result<Option<globset::GlobSet>, IngestError> {
    walk::glob_set(patterns, false)
}

struct Ctx {
    renderer: Renderer,
    name: String,
    source: String,
    tokenizer: Tokenizer,
}

fn skip_note(s: &Skipped) -> String {
    format!("skipped: {}", s.reason)
}

fn notice_base(report: &Report) -> Notice {
    Notice {
        skipped: report
            .skipped
            .iter()
            .map(|s| format!("{} ({})", if s.path.is_empty() { "?" } else { &s.path }, s.reason))
            .collect(),
        secrets: report
            .secrets
            .iter()
            .map(|f| format!("{}:{} ({})", f.path, f.line, f.kind))
            .collect(),
        ..Default::default()
    }
}

/// Tree entries: files (with a note for shortened ones) and skipped entries, in path order.
fn tree_text(name: &str, files: &[(&str, Option<&str>)], skipped: &[Skipped]) -> String {
    let notes: Vec<String> = skipped.iter().map(skip_note).collect();
    let mut entries: Vec<(&str, Option<&str>)> = files.to_vec();
    entries.extend(
        skipped
            .iter()
            .zip(&notes)
            .filter(|(s, _)| !s.path.is_empty())
            .map(|(s, n)| (s.path.as_str(), Some(n.as_str()))),
    );
    entries.sort_by(|a, b| tree::path_order(a.0, b.0));
    entries.dedup_by(|a, b| a.0 == b.0);
    tree::render_tree(name, &entries)
}

/// Renders one file's segment from disk, as shown in `mode`: the segment,
/// the tokens of the content shown, and a problem if it could not be read.
fn file_segment(
    ctx: &Ctx,
    index: usize,
    f: &Analyzed,
    mode: FileMode,
) -> (String, usize, Option<String>) {
    let ([head, body, tail], tokens, problem) = file_segment_parts(ctx, index, f, mode);
    ([head, body, tail].concat(), tokens, problem)
}

/// [`file_segment`] in the parts of [`Renderer::file_parts`]: header,
/// content, footer. The content is the text as read, not copied.
fn file_segment_parts(
    ctx: &Ctx,
    index: usize,
    f: &Analyzed,
    mode: FileMode,
) -> ([String; 3], usize, Option<String>) {
    let parts = |shown: String, tokens: usize| {
        let (head, escaped, tail) =
            ctx.renderer.file_parts(index, &f.rel, mode, tokens, f.tokens, &shown);
        [head, escaped.unwrap_or(shown), tail]
    };
    let problem = |what: String| {
        let parts = parts(format!("[content missing: {what}]"), 0);
        (parts, 0, Some(format!("{}: {what}", f.rel)))
    };
    let (text, same) = match load(f) {
        Ok(Loaded::Text { text, same }) => (text, same),
        Ok(Loaded::Binary) => {
            return problem("the file became binary while the digest was written".into())
        }
        Err(e) => return problem(format!("could not be read while the digest was written: {e}")),
    };
    let (shown, tokens) = match mode {
        FileMode::Full => {
            let tokens = if same { f.tokens } else { ctx.tokenizer.count(&text) };
            (text, tokens)
        }
        FileMode::Outline => {
            let o = outline::outline(&f.rel, &text).unwrap_or_default();
            let t = ctx.tokenizer.count(&o);
            (o, t)
        }
        FileMode::PathOnly => (String::new(), 0),
    };
    (parts(shown, tokens), tokens, None)
}

/// Can `f` be shown as an outline? Its language must have outlines, and it
/// must not be so large that parsing it would cost more than the rest of
/// the digest.
fn outlinable(f: &Analyzed) -> bool {
    outline::supports(&f.rel) && f.tokens > 1 && f.len <= MAX_OUTLINE_BYTES
}

/// The rendered outline of `f` (see [`file_segment`]), if there is one, the
/// file could be read, and the outline is shorter than the file.
fn outline_segment(ctx: &Ctx, f: &Analyzed) -> Option<(String, usize, Option<String>)> {
    let segment = file_segment(ctx, 0, f, FileMode::Outline);
    (segment.2.is_none() && segment.1 > 0 && segment.1 < f.tokens).then_some(segment)
}

/// Streams the whole digest: every text file in full.
fn stream(
    ctx: &Ctx,
    files: &[Analyzed],
    report: &mut Report,
    out: &mut dyn Write,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<(), IngestError> {
    let content_tokens: usize = files.iter().map(|f| f.tokens).sum();
    let summary = Summary {
        name: ctx.name.clone(),
        source: ctx.source.clone(),
        files: files.len(),
        skipped: report.skipped.len(),
        tokenizer: ctx.tokenizer.name().to_string(),
        tokens: content_tokens,
        budget: None,
    };
    out.write_all(ctx.renderer.header(&summary).as_bytes())?;
    let entries: Vec<(&str, Option<&str>)> = files.iter().map(|f| (f.rel.as_str(), None)).collect();
    out.write_all(
        ctx.renderer.tree(Some(&tree_text(&ctx.name, &entries, &report.skipped))).as_bytes(),
    )?;
    let mut shown_tokens = 0;
    // Windows are read and rendered on another thread while this one writes
    // the previous window, so reading and writing overlap; at most three
    // windows are in memory (being read, queued, being written).
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    std::thread::scope(|scope| -> Result<(), IngestError> {
        scope.spawn(move || {
            let mut start = 0;
            while start < files.len() {
                // A window holds at most WINDOW files and about WINDOW_BYTES of text.
                let mut end = start;
                let mut bytes = 0;
                while end < files.len()
                    && end - start < WINDOW
                    && (end == start || bytes + files[end].len <= WINDOW_BYTES)
                {
                    bytes += files[end].len;
                    end += 1;
                }
                let segments: Vec<_> = files[start..end]
                    .par_iter()
                    .enumerate()
                    .map(|(i, f)| file_segment_parts(ctx, start + i, f, FileMode::Full))
                    .collect();
                if tx.send((start, end, segments)).is_err() {
                    return; // the writer stopped on an error
                }
                start = end;
            }
        });
        for (start, end, segments) in rx {
            for ((parts, tokens, problem), f) in segments.into_iter().zip(&files[start..end]) {
                for part in parts {
                    out.write_all(part.as_bytes())?;
                }
                shown_tokens += tokens;
                report.files.push(FileReport {
                    path: f.rel.clone(),
                    mode: FileMode::Full,
                    tokens,
                    full_tokens: f.tokens,
                });
                report.problems.extend(problem);
            }
            progress(Progress::Written { done: end, total: files.len() });
        }
        Ok(())
    })?;
    let mut notice = notice_base(report);
    notice.problems = report.problems.clone();
    out.write_all(ctx.renderer.notice(&notice).as_bytes())?;
    report.content_tokens = shown_tokens;
    Ok(())
}

/// Below this many tokens left, no more file content is tried.
const MIN_USEFUL: usize = 24;

/// The share of a packed digest's content budget first given to outlines of
/// the most important files, before any file is shown in full.
const OUTLINE_SHARE_PERCENT: usize = 40;

/// Outlines are no longer tried after this many files in a row whose outline
/// did not fit (each one costs a parse).
const MAX_MISSES: usize = 64;

/// Larger files are not outlined: tree-sitter takes about a second for
/// 4 MB of C, and an outline of such a file would crowd out other files.
const MAX_OUTLINE_BYTES: usize = 512 * 1024;

/// An outline is rarely smaller than this share of its file: a file is not
/// parsed when even an outline this small would not fit.
const SMALLEST_OUTLINE_PERCENT: usize = 3;

/// At most this many tokens go to the first outlines: enough for a map of
/// a large repository's most important files, without parsing all of them
/// when a large budget would show most of them in full anyway.
const OUTLINE_SHARE_MAX: usize = 50_000;

/// Notice and tree sizes tried, from the most to the least informative, when
/// the skeleton of a packed digest is too big for the budget.
const LEVELS: &[(bool, Option<usize>)] =
    &[(true, None), (true, Some(20)), (false, Some(20)), (false, Some(0))];

/// Packs the digest into `budget` tokens and writes it.
fn packed(
    ctx: &Ctx,
    files: &[Analyzed],
    budget: usize,
    named: &Option<globset::GlobSet>,
    git: &rank::GitStats,
    report: &mut Report,
    out: &mut dyn Write,
) -> Result<(), IngestError> {
    let count = |s: &str| ctx.tokenizer.count(s);
    let is_named = |f: &Analyzed| named.as_ref().is_some_and(|n| n.is_match(&f.rel));
    let scores: Vec<f64> =
        files.iter().map(|f| rank::score(&f.rel, f.tokens, is_named(f), git)).collect();
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_by(|&a, &b| {
        scores[b].total_cmp(&scores[a]).then_with(|| tree::path_order(&files[a].rel, &files[b].rel))
    });

    let mut modes = vec![FileMode::PathOnly; files.len()];
    let mut cache = HashMap::new();
    let base = notice_base(report);

    // Renders the whole digest for the given modes; returns it with the tokens shown.
    type Cache = HashMap<(usize, FileMode), (String, usize, Option<String>)>;
    let render = |cache: &mut Cache,
                  modes: &[FileMode],
                  level: (bool, Option<usize>),
                  claim: usize|
     -> (String, usize, Vec<String>) {
        let mut notice = base.clone();
        notice.list_limit = level.1;
        notice.tree_omitted = !level.0;
        notice.path_only_in_tree = level.0;
        let missing: Vec<(usize, FileMode)> = (0..files.len())
            .map(|i| (i, modes[i]))
            .filter(|key| key.1 != FileMode::PathOnly && !cache.contains_key(key))
            .collect();
        let made: Vec<_> = missing
            .into_par_iter()
            .map(|(i, mode)| ((i, mode), file_segment(ctx, 0, &files[i], mode)))
            .collect();
        cache.extend(made);
        let mut body = String::new();
        let mut shown = 0;
        let mut problems = Vec::new();
        let mut index = 0;
        for (i, f) in files.iter().enumerate() {
            match modes[i] {
                FileMode::PathOnly => notice.path_only.push(f.rel.clone()),
                mode => {
                    if mode == FileMode::Outline {
                        notice.outlined.push(f.rel.clone());
                    }
                    // Every segment shown was made above.
                    let (seg, t, p) = &cache[&(i, mode)];
                    // JSON needs a separator before all but the first file.
                    if index > 0 && ctx.renderer.format == Format::Json {
                        body.push(',');
                    }
                    body.push_str(seg.strip_prefix(',').unwrap_or(seg));
                    shown += *t;
                    problems.extend(p.clone());
                    index += 1;
                }
            }
        }
        notice.problems = problems.clone();
        let summary = Summary {
            name: ctx.name.clone(),
            source: ctx.source.clone(),
            files: files.len(),
            skipped: report.skipped.len(),
            tokenizer: ctx.tokenizer.name().to_string(),
            tokens: claim,
            budget: Some(budget),
        };
        let tree = level.0.then(|| {
            let notes: Vec<(&str, Option<&str>)> = files
                .iter()
                .zip(modes)
                .map(|(f, m)| {
                    let note = match m {
                        FileMode::Full => None,
                        FileMode::Outline => Some("outline"),
                        FileMode::PathOnly => Some("path only"),
                    };
                    (f.rel.as_str(), note)
                })
                .collect();
            tree_text(&ctx.name, &notes, &report.skipped)
        });
        let doc = [
            ctx.renderer.header(&summary),
            ctx.renderer.tree(tree.as_deref()),
            body,
            ctx.renderer.notice(&notice),
        ]
        .concat();
        (doc, shown, problems)
    };

    // 1. The skeleton: every file by path only, at the most informative level that fits.
    let mut level = None;
    let mut needed = 0;
    for &lvl in LEVELS {
        let (doc, _, _) = render(&mut cache, &modes, lvl, budget);
        needed = count(&doc);
        if needed <= budget {
            level = Some((lvl, needed));
            break;
        }
    }
    let Some((level, skeleton)) = level else {
        return Err(IngestError::BudgetTooSmall { budget, needed });
    };

    // 2. Each file's mode, within what the skeleton leaves.
    // Tokens a file costs beyond its content: its header and, for an
    // outline, its path in the notice's list (and a larger header).
    let overheads: Vec<usize> = files
        .iter()
        .map(|f| count(&ctx.renderer.file(1, &f.rel, FileMode::Full, f.tokens, f.tokens, "")) + 2)
        .collect();
    let outline_overheads: Vec<usize> = files
        .iter()
        .map(|f| {
            let header = ctx.renderer.file(1, &f.rel, FileMode::Outline, f.tokens, f.tokens, "");
            count(&header) + count(&f.rel) + 4
        })
        .collect();
    // Parses the files `which` not parsed yet (in parallel), records their
    // outline sizes and keeps the rendered outlines for the digest.
    let parse = |outlines: &mut [Option<Option<usize>>], cache: &mut Cache, which: &[usize]| {
        let need: Vec<usize> = which
            .iter()
            .copied()
            .filter(|&i| outlines[i].is_none() && outlinable(&files[i]))
            .collect();
        let parsed: Vec<(usize, Option<_>)> =
            need.par_iter().map(|&i| (i, outline_segment(ctx, &files[i]))).collect();
        for (i, segment) in parsed {
            outlines[i] = Some(segment.as_ref().map(|s| s.1));
            if let Some(segment) = segment {
                cache.insert((i, FileMode::Outline), segment);
            }
        }
        for &i in which {
            outlines[i].get_or_insert(None);
        }
    };
    let mut outlines: Vec<Option<Option<usize>>> = vec![None; files.len()];
    let parse_one = |outlines: &mut [Option<Option<usize>>], cache: &mut Cache, i: usize| {
        parse(outlines, cache, &[i]);
        outlines[i].flatten()
    };
    // Outlines for path-only files in order of importance while `room`
    // lasts. Parsing is the costly part of packing: a file is parsed only if
    // its outline could fit (at its smallest likely size), and the search
    // stops after a long run of files that do not fit.
    let add_outlines = |outlines: &mut [Option<Option<usize>>],
                        cache: &mut Cache,
                        modes: &mut [FileMode],
                        room: &mut usize| {
        let mut misses = 0;
        for chunk in order.chunks(32) {
            if *room < MIN_USEFUL || misses >= MAX_MISSES {
                break;
            }
            let candidates: Vec<usize> = chunk
                .iter()
                .copied()
                .filter(|&i| modes[i] == FileMode::PathOnly && outlinable(&files[i]))
                .filter(|&i| {
                    let smallest = files[i].tokens * SMALLEST_OUTLINE_PERCENT / 100;
                    smallest + outline_overheads[i] <= *room
                })
                .collect();
            parse(outlines, cache, &candidates);
            for i in candidates {
                let Some(size) = outlines[i].flatten() else { continue };
                if size + outline_overheads[i] <= *room {
                    modes[i] = FileMode::Outline;
                    *room -= size + outline_overheads[i];
                    misses = 0;
                } else {
                    misses += 1;
                }
            }
        }
    };
    let room = budget - skeleton;
    let everything: usize = files.iter().zip(&overheads).map(|(f, oh)| f.tokens + oh).sum();
    if everything <= room {
        modes.fill(FileMode::Full);
    } else {
        let mut remaining = room;
        // a. Files the user named, in full if they fit, else outlined.
        for &i in order.iter().filter(|&&i| is_named(&files[i])) {
            let (f, oh) = (&files[i], overheads[i]);
            if f.tokens + oh <= remaining {
                modes[i] = FileMode::Full;
                remaining -= f.tokens + oh;
            } else {
                let oh = outline_overheads[i];
                let size = parse_one(&mut outlines, &mut cache, i);
                if let Some(size) = size.filter(|size| size + oh <= remaining) {
                    modes[i] = FileMode::Outline;
                    remaining -= size + oh;
                }
            }
        }
        // b. Breadth: outlines of the most important files, within a share
        //    of what is left, so that full texts cannot crowd out the map of
        //    the rest.
        let mut share = (remaining * OUTLINE_SHARE_PERCENT / 100).min(OUTLINE_SHARE_MAX);
        let before = share;
        add_outlines(&mut outlines, &mut cache, &mut modes, &mut share);
        remaining -= before - share;
        // c. Depth: in order of importance, files in full where the
        //    difference fits.
        for &i in &order {
            let (f, oh) = (&files[i], overheads[i]);
            let now = match modes[i] {
                FileMode::Full => continue,
                FileMode::Outline => outlines[i].flatten().unwrap_or(0) + outline_overheads[i],
                FileMode::PathOnly => 0,
            };
            if f.tokens + oh <= remaining + now {
                modes[i] = FileMode::Full;
                remaining = remaining + now - (f.tokens + oh);
            }
        }
        // d. What is left: outlines of files still shown by path only.
        add_outlines(&mut outlines, &mut cache, &mut modes, &mut remaining);
    }

    // 3. Exact check: count the real digest; shed the least important content
    //    until it fits, and make the claimed total equal the real one.
    let mut claim = budget;
    let mut tries = 0;
    loop {
        let (doc, shown, problems) = render(&mut cache, &modes, level, claim);
        let n = count(&doc);
        if n <= budget && n == claim {
            out.write_all(doc.as_bytes())?;
            report.content_tokens = shown;
            report.digest_tokens = Some(n);
            report.problems = problems;
            for (i, f) in files.iter().enumerate() {
                let tokens = match modes[i] {
                    FileMode::PathOnly => 0,
                    m => cache.get(&(i, m)).map_or(0, |c| c.1),
                };
                report.files.push(FileReport {
                    path: f.rel.clone(),
                    mode: modes[i],
                    tokens,
                    full_tokens: f.tokens,
                });
            }
            return Ok(());
        }
        tries += 1;
        if n > budget || tries > 4 {
            let mut to_free = n.saturating_sub(budget).max(1) as isize;
            for &i in order.iter().rev() {
                if to_free <= 0 {
                    break;
                }
                let f = &files[i];
                match modes[i] {
                    FileMode::PathOnly => continue,
                    FileMode::Full => match parse_one(&mut outlines, &mut cache, i) {
                        Some(ot) => {
                            modes[i] = FileMode::Outline;
                            to_free -= (f.tokens - ot) as isize;
                        }
                        None => {
                            modes[i] = FileMode::PathOnly;
                            to_free -= (f.tokens + overheads[i]) as isize;
                        }
                    },
                    FileMode::Outline => {
                        modes[i] = FileMode::PathOnly;
                        to_free -=
                            (outlines[i].flatten().unwrap_or(0) + outline_overheads[i]) as isize;
                    }
                }
            }
            tries = 0;
            claim = budget;
        } else {
            claim = n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use count_cache::FileStat;

    /// A metadata entry that no longer tells the truth (the file changed
    /// without a visible change of size or times) cannot put old text or a
    /// secret into the digest: the text read is checked against the entry.
    #[test]
    fn a_stale_metadata_entry_shows_neither_old_text_nor_a_secret() {
        let dir = tempfile::tempdir().unwrap();
        let cache_dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let old = "print('hello')\n";
        let token = format!("ghp_{}", "Q7wE".repeat(9));
        let new = format!("TOKEN = '{token}'\n");
        std::fs::write(root.join("config.py"), &new).unwrap();
        let stat = FileStat::of(&std::fs::metadata(root.join("config.py")).unwrap()).unwrap();
        let mut cache = CountCache::load(cache_dir.path(), &TokenizerKind::O200k.into());
        cache.settle_everything();
        let old_key = count_cache::content_key("config.py", old);
        cache.insert(old_key, 777, false);
        cache.insert_stat(&root.join("config.py"), &stat, old_key);
        cache.save();

        let options = IngestOptions {
            source: root.display().to_string(),
            count_cache: Some(cache_dir.path().to_path_buf()),
            ..IngestOptions::default()
        };
        let mut out = Vec::new();
        ingest(&options, &mut out, &|_| {}).unwrap();
        let digest = String::from_utf8(out).unwrap();
        assert!(!digest.contains(&token) && !digest.contains("hello"), "{digest}");
        assert!(digest.contains("TOKEN = '[REDACTED:github-token]'"), "{digest}");
        let fresh = TokenizerKind::O200k.count("TOKEN = '[REDACTED:github-token]'\n");
        assert!(digest.contains(&format!("FILE: config.py ({fresh} tokens)")), "{digest}");
    }
}
