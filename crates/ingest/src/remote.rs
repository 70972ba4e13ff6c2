//! Remote input: a git URL or `owner/repo`, cloned shallowly into a cache.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::IngestError;

/// Where the digest's files come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A local file or directory.
    Local(PathBuf),
    /// A git repository to clone.
    Remote(RemoteSpec),
}

/// A remote repository, as parsed from a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteSpec {
    /// The URL given to `git fetch`.
    pub url: String,
    /// A branch, tag or commit; `None` for the remote's default branch.
    pub git_ref: Option<String>,
    /// A directory or file inside the repository to ingest instead of its root.
    pub subpath: Option<String>,
    /// The repository's name, used as the digest's name.
    pub name: String,
}

fn is_shorthand(input: &str) -> bool {
    let mut parts = input.split('/');
    let ok = |p: Option<&str>| {
        p.is_some_and(|p| {
            !p.is_empty()
                && p != "."
                && p != ".."
                && p.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        })
    };
    ok(parts.next()) && ok(parts.next()) && parts.next().is_none()
}

fn repo_name(url: &str) -> String {
    let trimmed = url.trim_end_matches('/');
    let last = trimmed.rsplit(['/', ':']).next().unwrap_or(trimmed);
    last.trim_end_matches(".git").to_string()
}

/// Parses the input of `suit ingest`: an existing local path, an
/// `https://host/owner/repo[/tree/REF[/SUBPATH]]` URL, another git URL
/// (`file://`, `ssh://`, `git@host:owner/repo`) or `owner/repo` (GitHub).
/// `git_ref` (from `--ref`) overrides a ref found in the URL.
pub fn parse_source(input: &str, git_ref: Option<&str>) -> Result<Source, IngestError> {
    let input = input.trim();
    let git_ref = git_ref.map(str::to_string);
    let bad =
        |reason: &str| IngestError::BadUrl { input: input.to_string(), reason: reason.to_string() };
    if let Some(rest) = input.strip_prefix("https://").or_else(|| input.strip_prefix("http://")) {
        let scheme = if input.starts_with("https://") { "https" } else { "http" };
        let rest = rest.split(['?', '#']).next().unwrap_or(rest);
        let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
        if segments.len() < 3 {
            return Err(bad("expected https://host/owner/repo"));
        }
        let (host, owner, repo) = (segments[0], segments[1], segments[2].trim_end_matches(".git"));
        if repo.is_empty() {
            return Err(bad("the repository name is empty"));
        }
        let mut tail = &segments[3..];
        if tail.first() == Some(&"-") {
            tail = &tail[1..]; // GitLab: /owner/repo/-/tree/REF
        }
        let (url_ref, subpath) = match tail {
            [] => (None, None),
            [kind, r, sub @ ..] if *kind == "tree" || *kind == "blob" => {
                (Some(r.to_string()), (!sub.is_empty()).then(|| sub.join("/")))
            }
            [kind] if *kind == "tree" || *kind == "blob" => {
                return Err(bad("a ref is missing after /tree/"));
            }
            _ => return Err(bad("expected /tree/REF[/SUBPATH] after the repository")),
        };
        if let Some(sub) = &subpath {
            if sub.split('/').any(|p| p == "..") {
                return Err(bad("the subpath may not contain .."));
            }
        }
        return Ok(Source::Remote(RemoteSpec {
            url: format!("{scheme}://{host}/{owner}/{repo}.git"),
            git_ref: git_ref.or(url_ref),
            subpath,
            name: repo.to_string(),
        }));
    }
    let scp_like = input.contains('@') && input.contains(':') && !Path::new(input).exists();
    if input.starts_with("file://")
        || input.starts_with("ssh://")
        || input.starts_with("git://")
        || scp_like
    {
        return Ok(Source::Remote(RemoteSpec {
            url: input.to_string(),
            git_ref,
            subpath: None,
            name: repo_name(input),
        }));
    }
    let path = PathBuf::from(input);
    if !path.exists() && is_shorthand(input) {
        return Ok(Source::Remote(RemoteSpec {
            url: format!("https://github.com/{input}.git"),
            git_ref,
            subpath: None,
            name: repo_name(input),
        }));
    }
    Ok(Source::Local(path))
}

/// The default cache: `$SUIT_CACHE_DIR`, else `$XDG_CACHE_HOME/suit`, else
/// `~/.cache/suit`, else a folder in the temp dir.
pub fn default_cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SUIT_CACHE_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("suit");
    }
    if let Some(home) = std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(home).join(".cache").join("suit");
    }
    std::env::temp_dir().join("suit-cache")
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '_' })
        .collect()
}

fn git(dir: Option<&Path>, args: &[&str]) -> Result<std::process::Output, IngestError> {
    let mut cmd = Command::new("git");
    if let Some(dir) = dir {
        cmd.arg("-C").arg(dir);
    }
    cmd.args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "")
        .env("SSH_ASKPASS", "")
        .stdin(std::process::Stdio::null());
    cmd.output().map_err(|source| IngestError::GitMissing { source })
}

/// Clones `spec` shallowly into `cache`, replacing an older clone of the same
/// URL and ref only once the new one is complete. Returns the clone's root.
pub(crate) fn clone_into_cache(spec: &RemoteSpec, cache: &Path) -> Result<PathBuf, IngestError> {
    let fail = |stderr: String| IngestError::CloneFailed {
        url: spec.url.clone(),
        git_ref: spec.git_ref.clone(),
        stderr,
    };
    let repos = cache.join("repos");
    std::fs::create_dir_all(&repos)
        .map_err(|e| fail(format!("cannot create the cache {}: {e}", repos.display())))?;
    let key = match &spec.git_ref {
        Some(r) => format!("{}@{}", sanitize(&spec.url), sanitize(r)),
        None => sanitize(&spec.url),
    };
    let target = repos.join(&key);
    let tmp = tempfile_dir(&repos, &key)
        .map_err(|e| fail(format!("cannot create a folder in {}: {e}", repos.display())))?;
    let result = (|| {
        let run = |args: &[&str]| -> Result<(), IngestError> {
            let out = git(Some(&tmp), args)?;
            if out.status.success() {
                Ok(())
            } else {
                let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
                Err(fail(if stderr.is_empty() {
                    format!("git {} failed", args[0])
                } else {
                    stderr
                }))
            }
        };
        run(&["init", "--quiet"])?;
        run(&["remote", "add", "origin", &spec.url])?;
        let want = spec.git_ref.as_deref().unwrap_or("HEAD");
        if run(&["fetch", "--quiet", "--depth", "1", "origin", want]).is_err() {
            // Servers that refuse a shallow fetch of a commit id get a full fetch.
            run(&["fetch", "--quiet", "origin"])?;
            run(&["checkout", "--quiet", "--detach", want])?;
        } else {
            run(&["checkout", "--quiet", "--detach", "FETCH_HEAD"])?;
        }
        Ok(())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if target.exists() {
        let old = repos.join(format!(".old-{key}-{}", std::process::id()));
        let _ = std::fs::rename(&target, &old);
        let _ = std::fs::remove_dir_all(&old);
    }
    std::fs::rename(&tmp, &target)
        .map_err(|e| fail(format!("cannot move the clone into {}: {e}", target.display())))?;
    Ok(target)
}

fn tempfile_dir(parent: &Path, key: &str) -> std::io::Result<PathBuf> {
    for n in 0..1000u32 {
        let dir = parent.join(format!(".tmp-{key}-{}-{n}", std::process::id()));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("too many temporary clone folders"))
}

/// The commit checked out in `dir`, if it is a git work tree.
pub(crate) fn head_commit(dir: &Path) -> Option<String> {
    let out = git(Some(dir), &["rev-parse", "HEAD"]).ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote(input: &str, r: Option<&str>) -> RemoteSpec {
        match parse_source(input, r).unwrap() {
            Source::Remote(spec) => spec,
            other => panic!("{input}: {other:?}"),
        }
    }

    #[test]
    fn parses_urls_with_tree_ref_and_subpath() {
        let s = remote("https://github.com/rust-lang/cargo/tree/1.80.0/src/cargo/core", None);
        assert_eq!(s.url, "https://github.com/rust-lang/cargo.git");
        assert_eq!(s.git_ref.as_deref(), Some("1.80.0"));
        assert_eq!(s.subpath.as_deref(), Some("src/cargo/core"));
        assert_eq!(s.name, "cargo");
        let s = remote("https://gitlab.com/a/b.git", Some("dev"));
        assert_eq!(
            (s.url.as_str(), s.git_ref.as_deref(), s.subpath),
            ("https://gitlab.com/a/b.git", Some("dev"), None)
        );
        let s = remote("https://gitlab.com/a/b/-/tree/main", None);
        assert_eq!(s.git_ref.as_deref(), Some("main"));
        let s = remote("https://github.com/a/b/tree/v1", Some("v2"));
        assert_eq!(s.git_ref.as_deref(), Some("v2"), "--ref wins over the URL");
    }

    #[test]
    fn parses_shorthand_and_other_urls() {
        let s = remote("tokio-rs/axum", None);
        assert_eq!(s.url, "https://github.com/tokio-rs/axum.git");
        assert_eq!(s.name, "axum");
        assert_eq!(remote("git@github.com:a/b.git", None).name, "b");
        assert_eq!(remote("file:///tmp/x/repo.git", None).name, "repo");
    }

    #[test]
    fn local_paths_stay_local_and_bad_urls_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().to_str().unwrap();
        assert_eq!(parse_source(p, None).unwrap(), Source::Local(PathBuf::from(p)));
        assert!(matches!(parse_source("some/deep/path", None).unwrap(), Source::Local(_)));
        for bad in [
            "https://github.com/onlyowner",
            "https://github.com/a/b/tree",
            "https://github.com/a/b/issues/3",
            "https://h/a/b/tree/main/../x",
        ] {
            let err = parse_source(bad, None).unwrap_err().to_string();
            assert!(err.contains(bad), "{err}");
        }
    }
}
