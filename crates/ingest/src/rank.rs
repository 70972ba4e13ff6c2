//! Importance of files for graded packing: files the user names, READMEs and
//! entry points, manifests, git recency and churn, depth and size.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

/// How recently and how often each file changed, from `git log`.
#[derive(Debug, Default)]
pub(crate) struct GitStats {
    /// path → (newest commit time, number of commits touching it)
    files: HashMap<String, (i64, u32)>,
    newest: i64,
    oldest: i64,
    max_churn: u32,
}

/// How many recent commits are read for recency and churn.
const HISTORY: &str = "1000";

impl GitStats {
    /// Reads the recent history of the work tree at `root` (empty if `root` is
    /// not in a git repository or git is missing).
    pub fn read(root: &Path) -> GitStats {
        let out = Command::new("git")
            .arg("-C")
            .arg(root)
            .args([
                "log",
                "--relative",
                "--no-renames",
                "--name-only",
                "--format=%x00%ct",
                "-n",
                HISTORY,
                "--",
                ".",
            ])
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output();
        let Ok(out) = out else { return GitStats::default() };
        if !out.status.success() {
            return GitStats::default();
        }
        Self::parse(&String::from_utf8_lossy(&out.stdout))
    }

    fn parse(log: &str) -> GitStats {
        let mut stats = GitStats { oldest: i64::MAX, ..Default::default() };
        let mut time = 0;
        for line in log.lines() {
            if let Some(ts) = line.strip_prefix('\0') {
                time = ts.trim().parse().unwrap_or(0);
                stats.newest = stats.newest.max(time);
                stats.oldest = stats.oldest.min(time);
            } else if !line.is_empty() {
                let e = stats.files.entry(line.to_string()).or_insert((time, 0));
                e.0 = e.0.max(time);
                e.1 += 1;
                stats.max_churn = stats.max_churn.max(e.1);
            }
        }
        stats
    }

    /// Recency in 0..=1 (1: changed in the newest commit) and churn in 0..=1.
    fn signals(&self, path: &str) -> (f64, f64) {
        let Some(&(time, count)) = self.files.get(path) else { return (0.0, 0.0) };
        let span = (self.newest - self.oldest).max(1) as f64;
        let recency =
            if self.newest == self.oldest { 1.0 } else { (time - self.oldest) as f64 / span };
        let churn = (1.0 + count as f64).ln() / (1.0 + self.max_churn.max(1) as f64).ln();
        (recency, churn)
    }
}

const ENTRY_POINTS: &[&str] = &[
    "main.rs",
    "lib.rs",
    "mod.rs",
    "main.py",
    "__main__.py",
    "__init__.py",
    "app.py",
    "cli.py",
    "index.js",
    "index.ts",
    "index.tsx",
    "main.js",
    "main.ts",
    "app.js",
    "app.ts",
    "server.js",
    "main.go",
    "main.c",
    "main.cpp",
    "main.cc",
    "Main.java",
    "Application.java",
];

const MANIFESTS: &[&str] = &[
    "Cargo.toml",
    "package.json",
    "pyproject.toml",
    "setup.py",
    "setup.cfg",
    "go.mod",
    "pom.xml",
    "build.gradle",
    "build.gradle.kts",
    "CMakeLists.txt",
    "Makefile",
    "meson.build",
    "Gemfile",
    "requirements.txt",
    "tsconfig.json",
    "Dockerfile",
    "docker-compose.yml",
];

/// File names (lower case, without extension) that tell a reader little
/// about the code: licences, changelogs, lists of people, policies. Only
/// files without an extension or with a prose one count (`security.rs` is
/// code).
const PAPERWORK: &[&str] = &[
    "license",
    "licence",
    "copying",
    "notice",
    "authors",
    "contributors",
    "changelog",
    "changes",
    "history",
    "news",
    "code_of_conduct",
    "security",
];

/// A file's importance score; higher is packed first.
pub(crate) fn score(path: &str, tokens: usize, named: bool, git: &GitStats) -> f64 {
    let name = path.rsplit('/').next().unwrap_or(path);
    let depth = path.matches('/').count() as f64;
    let lower = name.to_ascii_lowercase();
    let mut s = 0.0;
    if named {
        s += 1000.0;
    }
    if lower.starts_with("readme") {
        s += if depth == 0.0 { 120.0 } else { 25.0 };
    }
    if ENTRY_POINTS.contains(&name) {
        s += 50.0;
    }
    if MANIFESTS.contains(&name) {
        s += if depth == 0.0 { 45.0 } else { 20.0 };
    }
    if lower.ends_with(".md") || lower.ends_with(".rst") {
        s += 8.0;
    }
    let stem = lower.split(['.', '-']).next().unwrap_or(&lower);
    let prose = match lower.rsplit_once('.') {
        None => true,
        Some((_, ext)) => matches!(ext, "md" | "txt" | "rst" | "adoc" | "markdown"),
    };
    if prose && PAPERWORK.contains(&stem) {
        s -= 60.0;
    }
    let lp = path.to_ascii_lowercase();
    if lp.contains("test")
        || lp.contains("spec")
        || lp.contains("example")
        || lp.contains("bench")
        || lp.contains("fixture")
    {
        s -= 15.0;
    }
    let (recency, churn) = git.signals(path);
    s += 25.0 * recency + 25.0 * churn;
    s -= 4.0 * depth;
    // Smaller files first among equals: more of the repository fits.
    s -= 6.0 * (1.0 + tokens as f64).log10();
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_git_log_into_recency_and_churn() {
        let log = "\u{0}300\n\nsrc/a.rs\nsrc/b.rs\n\u{0}200\n\nsrc/a.rs\n\u{0}100\n\nsrc/c.rs\n";
        let g = GitStats::parse(log);
        let (ra, ca) = g.signals("src/a.rs");
        let (rc, cc) = g.signals("src/c.rs");
        assert_eq!(ra, 1.0);
        assert_eq!(rc, 0.0);
        assert!(ca > cc && ca <= 1.0);
        assert_eq!(g.signals("missing"), (0.0, 0.0));
    }

    #[test]
    fn named_readme_and_entry_points_rank_first() {
        let g = GitStats::default();
        let readme = score("README.md", 500, false, &g);
        let main = score("src/main.rs", 500, false, &g);
        let deep = score("src/a/b/c/util.rs", 500, false, &g);
        let named = score("src/a/b/c/util.rs", 500, true, &g);
        let test = score("tests/it.rs", 500, false, &g);
        assert!(
            named > readme && readme > main && main > deep && main > test,
            "{named} {readme} {main} {deep} {test}"
        );
        assert!(score("src/x.rs", 100, false, &g) > score("src/y.rs", 100_000, false, &g));
        let deep_test = score("tests/a/b/it.rs", 5_000, false, &g);
        for paperwork in ["LICENSE", "LICENSE-MIT", "CHANGELOG.md", "CODE_OF_CONDUCT.md"] {
            assert!(score(paperwork, 200, false, &g) < deep_test, "{paperwork}");
        }
        assert!(score("src/security.rs", 200, false, &g) > deep_test, "code is not paperwork");
    }
}
