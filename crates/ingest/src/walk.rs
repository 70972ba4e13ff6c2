//! Walking a directory tree with the rules people expect from git.
//!
//! `.gitignore` at every depth (with negations), `.ignore`, `.git/info/exclude`,
//! the global git excludes file and `.suitignore` are honoured by the `ignore`
//! crate; on top of that come a default ignore list (lockfiles, build outputs,
//! vendored dependencies, minified assets), hidden-file filtering, user globs
//! and a maximum file size.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use globset::{Glob, GlobSet, GlobSetBuilder};
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::{DirEntry, WalkBuilder, WalkState};
use serde::Serialize;

use crate::count_cache::FileStat;
use crate::IngestError;

/// Directory names skipped by default: build outputs and vendored dependencies.
pub const DEFAULT_IGNORED_DIRS: &[&str] = &[
    "node_modules",
    "bower_components",
    "jspm_packages",
    "target",
    "dist",
    "build",
    "out",
    "__pycache__",
    ".venv",
    "venv",
    ".tox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".gradle",
    ".next",
    ".nuxt",
    ".svelte-kit",
    ".terraform",
    "vendor",
    "coverage",
    ".idea",
    ".vscode",
];

/// File-name globs skipped by default: lockfiles, minified assets, source maps, compiled files.
pub const DEFAULT_IGNORED_FILES: &[&str] = &[
    "Cargo.lock",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lockb",
    "bun.lock",
    "poetry.lock",
    "Pipfile.lock",
    "uv.lock",
    "composer.lock",
    "Gemfile.lock",
    "go.sum",
    "flake.lock",
    "*.min.js",
    "*.min.css",
    "*.map",
    "*.pyc",
    "*.pyo",
    "*.class",
    ".DS_Store",
];

/// The file the user can add to a repository to exclude paths from digests only.
pub const SUITIGNORE: &str = ".suitignore";

/// Why a file found by the walk is not in the digest in full.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SkipReason {
    /// The content is binary (detected from the bytes, not the extension).
    Binary,
    /// The file is larger than the maximum file size.
    TooLarge {
        /// The file's size in bytes.
        size: u64,
        /// The limit in bytes.
        limit: u64,
    },
    /// The file or directory could not be read.
    Unreadable {
        /// The operating system's error.
        error: String,
    },
    /// A symbolic link, not followed (pass `follow_links` to follow links).
    Symlink,
    /// A symbolic link that leads back to one of its own ancestors.
    SymlinkLoop {
        /// The ancestor the link points back to.
        ancestor: String,
    },
    /// The file contains secrets and secrets are dropped rather than redacted.
    Secrets {
        /// How many secrets were found.
        count: usize,
    },
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SkipReason::Binary => f.write_str("binary"),
            SkipReason::TooLarge { size, limit } => {
                write!(f, "too large: {size} bytes, limit {limit}")
            }
            SkipReason::Unreadable { error } => write!(f, "unreadable: {error}"),
            SkipReason::Symlink => f.write_str("symlink, not followed"),
            SkipReason::SymlinkLoop { ancestor } => write!(f, "symlink loop back to {ancestor}"),
            SkipReason::Secrets { count } => write!(f, "dropped: contains {count} secret(s)"),
        }
    }
}

/// A file or directory found by the walk but left out, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// Path relative to the root, with `/` separators.
    pub path: String,
    /// Why it was left out.
    pub reason: SkipReason,
}

/// A file the walk accepted, to be read next.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub rel: String,
    pub abs: PathBuf,
    /// Its metadata, for the count cache.
    pub stat: Option<FileStat>,
}

/// What to walk and how.
#[derive(Debug, Clone)]
pub(crate) struct WalkConfig<'a> {
    pub include: &'a [String],
    pub exclude: &'a [String],
    pub hidden: bool,
    pub follow_links: bool,
    pub default_ignores: bool,
    pub max_file_size: u64,
}

/// The result of a walk: accepted files and skipped entries, both sorted by path.
#[derive(Debug, Default)]
pub(crate) struct WalkResult {
    pub files: Vec<Candidate>,
    pub skipped: Vec<Skipped>,
}

pub(crate) fn glob_set(
    patterns: &[String],
    as_prefix: bool,
) -> Result<Option<GlobSet>, IngestError> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        let trimmed = pattern.trim().trim_start_matches("./").trim_end_matches('/');
        let bad = |e: globset::Error| IngestError::BadGlob {
            pattern: pattern.clone(),
            message: e.kind().to_string(),
        };
        if trimmed.is_empty() {
            return Err(IngestError::BadGlob {
                pattern: pattern.clone(),
                message: "empty pattern".into(),
            });
        }
        // A pattern without a slash matches at any depth, like in .gitignore.
        let anchored = if trimmed.contains('/') || trimmed.starts_with("**") {
            trimmed.to_string()
        } else {
            format!("**/{trimmed}")
        };
        builder.add(Glob::new(&anchored).map_err(bad)?);
        if as_prefix {
            // `--exclude docs` also excludes everything below docs/.
            builder.add(Glob::new(&format!("{anchored}/**")).map_err(bad)?);
        }
    }
    builder
        .build()
        .map(Some)
        .map_err(|e| IngestError::BadGlob { pattern: patterns.join(" "), message: e.to_string() })
}

fn default_file_set() -> GlobSet {
    let mut builder = GlobSetBuilder::new();
    for pattern in DEFAULT_IGNORED_FILES {
        builder.add(Glob::new(pattern).expect("default globs are valid"));
    }
    builder.build().expect("default globs are valid")
}

/// Is `name` (a single path component) ignored by default as a directory?
pub(crate) fn is_default_ignored_dir(name: &str) -> bool {
    DEFAULT_IGNORED_DIRS.contains(&name)
}

/// Turns `path` below `root` into a `/`-separated relative path.
pub(crate) fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let mut out = String::new();
    for (i, part) in rel.components().enumerate() {
        if i > 0 {
            out.push('/');
        }
        out.push_str(&part.as_os_str().to_string_lossy());
    }
    if out.is_empty() {
        // The root itself is a file: name it by its file name.
        out = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    }
    out
}

fn error_to_skip(root: &Path, err: &ignore::Error) -> Option<Skipped> {
    match err {
        ignore::Error::WithPath { path, err } => {
            let mut inner = error_to_skip(root, err)?;
            if inner.path.is_empty() {
                inner.path = relative(root, path);
            }
            Some(inner)
        }
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_to_skip(root, err)
        }
        ignore::Error::Loop { ancestor, child } => Some(Skipped {
            path: relative(root, child),
            reason: SkipReason::SymlinkLoop { ancestor: relative(root, ancestor) },
        }),
        ignore::Error::Io(io) => Some(Skipped {
            path: String::new(),
            reason: SkipReason::Unreadable { error: io.to_string() },
        }),
        // Errors in ignore files (a bad glob in a .gitignore) do not stop the walk,
        // as in git; other kinds carry no path and are reported without one.
        ignore::Error::Glob { .. } => None,
        other => Some(Skipped {
            path: String::new(),
            reason: SkipReason::Unreadable { error: other.to_string() },
        }),
    }
}

/// Asks git, in the background, which tracked files match an ignore rule
/// (see [`add_tracked_ignored`]); `None` if git cannot be started.
fn spawn_tracked_ignored(root: &Path) -> Option<std::process::Child> {
    std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["ls-files", "-z", "--cached", "--ignored", "--exclude-standard"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()
}

/// Git keeps tracking a file that matches an ignore rule once it was added;
/// the walk skips it, so such files are taken from `git`'s answer (a child
/// started by [`spawn_tracked_ignored`] while the walk ran) and added back,
/// under the same hidden, default-ignore, glob and size rules.
fn add_tracked_ignored(
    git: std::process::Child,
    root: &Path,
    cfg: &WalkConfig<'_>,
    include: Option<&GlobSet>,
    exclude: Option<&GlobSet>,
    defaults: Option<&GlobSet>,
    result: &mut WalkResult,
) {
    let out = git.wait_with_output();
    let Ok(out) = out else { return };
    if !out.status.success() || out.stdout.is_empty() {
        return;
    }
    let listed = String::from_utf8_lossy(&out.stdout);
    let mut matchers = HashMap::new();
    for rel in listed.split('\0').filter(|p| !p.is_empty()) {
        let parts: Vec<&str> = rel.split('/').collect();
        let (dirs, name) = parts.split_at(parts.len() - 1);
        let name = name[0];
        if parts.contains(&".git") {
            continue;
        }
        if !cfg.hidden && parts.iter().any(|p| p.starts_with('.')) {
            continue;
        }
        if cfg.default_ignores && dirs.iter().any(|d| is_default_ignored_dir(d)) {
            continue;
        }
        if defaults.is_some_and(|d| d.is_match(name)) {
            continue;
        }
        if include.is_some_and(|i| !i.is_match(rel)) {
            continue;
        }
        let excluded =
            exclude.is_some_and(|e| (1..=parts.len()).any(|n| e.is_match(parts[..n].join("/"))));
        if excluded {
            continue;
        }
        let abs = root.join(rel);
        if excluded_by_own_ignore_files(root, &abs, &mut matchers) {
            continue;
        }
        let Ok(meta) = std::fs::symlink_metadata(&abs) else { continue };
        let rel = rel.to_string();
        if meta.file_type().is_symlink() && !cfg.follow_links {
            result.skipped.push(Skipped { path: rel, reason: SkipReason::Symlink });
        } else if !abs.is_file() {
            continue;
        } else {
            let meta = abs.metadata().ok();
            let size = meta.as_ref().map_or(0, |m| m.len());
            if size > cfg.max_file_size {
                result.skipped.push(Skipped {
                    path: rel,
                    reason: SkipReason::TooLarge { size, limit: cfg.max_file_size },
                });
            } else {
                let stat = meta.as_ref().and_then(FileStat::of);
                result.files.push(Candidate { rel, abs, stat });
            }
        }
    }
}

/// Do the non-git ignore files (`.ignore`, `.suitignore`) in the directories
/// from `root` down to `path` exclude it? The deepest match wins, as in a walk.
fn excluded_by_own_ignore_files(
    root: &Path,
    path: &Path,
    matchers: &mut HashMap<PathBuf, Option<Gitignore>>,
) -> bool {
    let mut verdict = false;
    let mut dir = root.to_path_buf();
    let rel = path.strip_prefix(root).unwrap_or(path);
    let mut parts: Vec<_> = rel.components().collect();
    parts.pop();
    for i in 0..=parts.len() {
        if i > 0 {
            dir.push(parts[i - 1]);
        }
        let matcher = matchers.entry(dir.clone()).or_insert_with(|| {
            let mut builder = GitignoreBuilder::new(&dir);
            let mut any = false;
            for name in [".ignore", SUITIGNORE] {
                let file = dir.join(name);
                if file.is_file() {
                    any = true;
                    let _ = builder.add(file);
                }
            }
            if any {
                builder.build().ok()
            } else {
                None
            }
        });
        if let Some(m) = matcher {
            match m.matched_path_or_any_parents(path, false) {
                ignore::Match::Ignore(_) => verdict = true,
                ignore::Match::Whitelist(_) => verdict = false,
                ignore::Match::None => {}
            }
        }
    }
    verdict
}

/// Walks `root` and returns the files to read and the entries skipped on the way.
pub(crate) fn walk(root: &Path, cfg: &WalkConfig<'_>) -> Result<WalkResult, IngestError> {
    let meta = std::fs::metadata(root).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => IngestError::NotFound { path: root.to_path_buf() },
        _ => IngestError::Unreadable { path: root.to_path_buf(), source: e },
    })?;
    if meta.is_dir() {
        std::fs::read_dir(root)
            .map_err(|e| IngestError::Unreadable { path: root.to_path_buf(), source: e })?;
    }
    let include = glob_set(cfg.include, true)?;
    let exclude = glob_set(cfg.exclude, true)?;
    let defaults = cfg.default_ignores.then(default_file_set);
    // git answers while the walk runs (nothing below returns early).
    let git = if meta.is_dir() { spawn_tracked_ignored(root) } else { None };

    let root_owned = root.to_path_buf();
    let mut builder = WalkBuilder::new(root);
    builder
        .hidden(!cfg.hidden)
        .parents(true)
        .ignore(true)
        .git_ignore(true)
        .git_global(true)
        .git_exclude(true)
        .require_git(false)
        .follow_links(cfg.follow_links)
        .add_custom_ignore_filename(SUITIGNORE)
        .threads(rayon::current_num_threads().clamp(1, 8));
    {
        let exclude = exclude.clone();
        let default_ignores = cfg.default_ignores;
        let root = root_owned.clone();
        builder.filter_entry(move |entry| {
            if entry.depth() == 0 {
                return true;
            }
            let name = entry.file_name().to_string_lossy();
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            if name == ".git" {
                return false;
            }
            if default_ignores && is_dir && is_default_ignored_dir(&name) {
                return false;
            }
            if let Some(exclude) = &exclude {
                if exclude.is_match(relative(&root, entry.path())) {
                    return false;
                }
            }
            true
        });
    }

    let found = Mutex::new(WalkResult::default());
    let root_ref = root_owned.as_path();
    let accept = |entry: DirEntry| -> Option<Result<Candidate, Skipped>> {
        let file_type = entry.file_type()?;
        if file_type.is_dir() {
            return None;
        }
        let rel = relative(root_ref, entry.path());
        if let Some(defaults) = &defaults {
            if defaults.is_match(entry.file_name()) {
                return None;
            }
        }
        if let Some(include) = &include {
            if !include.is_match(&rel) {
                return None;
            }
        }
        if file_type.is_symlink() {
            return Some(Err(Skipped { path: rel, reason: SkipReason::Symlink }));
        }
        if !file_type.is_file() {
            return None; // sockets, fifos, devices
        }
        match entry.metadata() {
            Ok(meta) if meta.len() > cfg.max_file_size => Some(Err(Skipped {
                path: rel,
                reason: SkipReason::TooLarge { size: meta.len(), limit: cfg.max_file_size },
            })),
            Ok(meta) => Some(Ok(Candidate {
                rel,
                abs: entry.path().to_path_buf(),
                stat: FileStat::of(&meta),
            })),
            Err(e) => Some(Err(Skipped {
                path: rel,
                reason: SkipReason::Unreadable { error: e.to_string() },
            })),
        }
    };
    builder.build_parallel().run(|| {
        let found = &found;
        let accept = &accept;
        Box::new(move |result| {
            let outcome = match result {
                Ok(entry) => accept(entry),
                Err(err) => error_to_skip(root_ref, &err).map(Err),
            };
            match outcome {
                Some(Ok(c)) => found.lock().expect("walk lock").files.push(c),
                Some(Err(s)) => found.lock().expect("walk lock").skipped.push(s),
                None => {}
            }
            WalkState::Continue
        })
    });
    let mut result = found.into_inner().expect("walk lock");
    if let Some(git) = git {
        add_tracked_ignored(
            git,
            root,
            cfg,
            include.as_ref(),
            exclude.as_ref(),
            defaults.as_ref(),
            &mut result,
        );
    }
    result.files.sort_by(|a, b| crate::tree::path_order(&a.rel, &b.rel));
    result.files.dedup_by(|a, b| a.rel == b.rel);
    result.skipped.sort_by(|a, b| crate::tree::path_order(&a.path, &b.path));
    Ok(result)
}
