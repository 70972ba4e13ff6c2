//! The `AGENTS.md` chain: project instructions from the repository root down
//! to the working directory, outermost first, so nearer files can refine
//! what the root says.

use std::path::Path;

use crate::{Segment, Shrink, Source};

/// The instruction file's name.
pub const AGENTS_FILE: &str = "AGENTS.md";

/// Largest instruction file read, in bytes; larger ones are cut.
const MAX_BYTES: usize = 64 * 1024;

/// The `AGENTS.md` files from `root` down to `cwd` (both included; `cwd`
/// outside `root` means just the root's), one segment each, outermost
/// first. Unreadable or non-UTF-8 files are skipped: instructions are
/// advice, and a missing one must not stop work.
pub fn agents_chain(root: &Path, cwd: &Path) -> Vec<Segment> {
    let mut dirs = vec![root.to_path_buf()];
    if let Ok(rel) = cwd.strip_prefix(root) {
        let mut dir = root.to_path_buf();
        for part in rel.components() {
            dir.push(part);
            dirs.push(dir.clone());
        }
    }
    dirs.iter()
        .filter_map(|dir| {
            let path = dir.join(AGENTS_FILE);
            let bytes = std::fs::read(&path).ok()?;
            let mut text = String::from_utf8(bytes).ok()?;
            if text.len() > MAX_BYTES {
                let mut end = MAX_BYTES;
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                text.truncate(end);
            }
            if text.trim().is_empty() {
                return None;
            }
            let rel = path
                .strip_prefix(root)
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_else(|_| AGENTS_FILE.to_string());
            Some(
                Segment::new(
                    Source::Instructions(rel.clone()),
                    format!("Project instructions {rel}"),
                    text,
                )
                .priority(85)
                .shrink(Shrink::KeepHead),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_runs_from_root_to_cwd_outermost_first() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("crates/core/src")).unwrap();
        std::fs::write(root.join("AGENTS.md"), "Use tabs.\n").unwrap();
        std::fs::write(root.join("crates/AGENTS.md"), "").unwrap(); // empty: skipped
        std::fs::write(root.join("crates/core/AGENTS.md"), "Run cargo test -p core.\n").unwrap();
        std::fs::write(root.join("crates/core/src/AGENTS.md"), [0xff, 0xfe]).unwrap(); // not UTF-8
        let chain = agents_chain(root, &root.join("crates/core/src"));
        let labels: Vec<String> = chain.iter().map(|s| s.source.label()).collect();
        assert_eq!(labels, ["agents:AGENTS.md", "agents:crates/core/AGENTS.md"]);
        assert_eq!(chain[1].text, "Run cargo test -p core.\n");
        assert!(!chain[0].source.trusted());
        // A sibling directory does not see crates/core's file.
        assert_eq!(agents_chain(root, &root.join("docs")).len(), 1);
        // A cwd outside the root gets the root's only.
        assert_eq!(agents_chain(root, Path::new("/")).len(), 1);
    }
}
