//! Validation of repo-relative paths.

use std::path::{Component, Path, PathBuf};

use crate::error::PathError;

/// Checks a repo-relative path and returns it normalised (`/` separators, no
/// `.` components) together with its absolute location under `root`.
///
/// `root` must be canonical. Refuses absolute paths, `..`, non-UTF-8 names,
/// protected paths, paths whose existing ancestors leave the root through a
/// symbolic link, and paths that are themselves symbolic links.
pub(crate) fn resolve(root: &Path, rel: &str) -> Result<(String, PathBuf), PathError> {
    let normal = check_relative_path(rel)?;
    let full = root.join(&normal);
    // The deepest existing ancestor must stay inside the root once links are resolved.
    let mut ancestor = full.parent();
    while let Some(a) = ancestor {
        if a.exists() {
            let real = a.canonicalize().map_err(|_| PathError::OutsideRoot {
                path: normal.clone(),
                target: a.to_path_buf(),
            })?;
            if !real.starts_with(root) {
                return Err(PathError::OutsideRoot { path: normal, target: real });
            }
            break;
        }
        ancestor = a.parent();
    }
    if let Ok(m) = full.symlink_metadata() {
        if m.file_type().is_symlink() {
            let target = std::fs::read_link(&full).unwrap_or_default();
            let resolved = full.canonicalize().ok();
            return Err(match resolved {
                Some(r) if r.starts_with(root) => PathError::Symlink { path: normal, target },
                Some(r) => PathError::OutsideRoot { path: normal, target: r },
                None => PathError::Symlink { path: normal, target },
            });
        }
    }
    Ok((normal, full))
}

/// Checks, without touching the file system, that `rel` is a relative path
/// inside the repository (no `..`) and not protected (version control,
/// suit's own state, keys and secrets); returns it normalised (`a/b/c`).
/// The agent's policy gate uses this same rule, so nothing it allows is
/// refused later, and the reverse.
pub fn check_relative_path(rel: &str) -> Result<String, PathError> {
    let normal = normalise(rel)?;
    match protected_reason(&normal) {
        Some(reason) => Err(PathError::Protected { path: normal, reason }),
        None => Ok(normal),
    }
}

/// Normalises a relative path to `a/b/c` without touching the file system.
pub(crate) fn normalise(rel: &str) -> Result<String, PathError> {
    if rel.trim().is_empty() {
        return Err(PathError::Empty);
    }
    let p = Path::new(rel);
    let mut parts: Vec<&str> = Vec::new();
    for c in p.components() {
        match c {
            Component::Prefix(_) | Component::RootDir => {
                return Err(PathError::Absolute(rel.to_string()))
            }
            Component::ParentDir => return Err(PathError::ParentDir(rel.to_string())),
            Component::CurDir => {}
            Component::Normal(s) => {
                parts.push(s.to_str().ok_or_else(|| PathError::NotUtf8(rel.to_string()))?)
            }
        }
    }
    if parts.is_empty() {
        return Err(PathError::Empty);
    }
    Ok(parts.join("/"))
}

/// Why a normalised path is protected, if it is.
fn protected_reason(normal: &str) -> Option<&'static str> {
    let parts: Vec<&str> = normal.split('/').collect();
    for part in &parts {
        let lower = part.to_ascii_lowercase();
        if lower == ".git" {
            return Some("version control data");
        }
        if lower == ".suit" {
            return Some("suit's own state");
        }
        if lower == ".ssh" || lower == ".gnupg" {
            return Some("key directory");
        }
    }
    let name = parts.last()?.to_ascii_lowercase();
    let env_template =
        [".example", ".sample", ".template", ".dist"].iter().any(|s| name.ends_with(s));
    if (name == ".env" || name.starts_with(".env.")) && !env_template {
        return Some("environment file with secrets");
    }
    if ["id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"].iter().any(|k| name.starts_with(k)) {
        return Some("SSH private key");
    }
    if [".pem", ".key", ".p12", ".pfx", ".keystore", ".jks"].iter().any(|ext| name.ends_with(ext)) {
        return Some("key or certificate file");
    }
    if [".netrc", ".npmrc", ".pypirc", "credentials", "credentials.json"].contains(&name.as_str()) {
        return Some("credentials file");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_refuses_escapes() {
        assert_eq!(normalise("./src//main.rs").unwrap(), "src/main.rs");
        assert!(matches!(normalise("/etc/passwd"), Err(PathError::Absolute(_))));
        assert!(matches!(normalise("src/../../x"), Err(PathError::ParentDir(_))));
        assert!(matches!(normalise(""), Err(PathError::Empty)));
        assert!(matches!(normalise("."), Err(PathError::Empty)));
    }

    #[test]
    fn protected_names() {
        for p in [
            ".git/config",
            "sub/.git/HEAD",
            ".suit/suit.db",
            ".env",
            "app/.env.local",
            "certs/server.pem",
            "id_rsa",
            "keys/id_ed25519.pub",
            "tls.key",
            ".ssh/config",
        ] {
            assert!(protected_reason(p).is_some(), "{p} should be protected");
        }
        for p in [".env.example", "src/env.rs", "gitignore", "docs/keys.md", ".gitignore"] {
            assert!(protected_reason(p).is_none(), "{p} should be allowed");
        }
    }
}
