//! Paths named by the model: relative to the caller's root, never outside it.

use std::path::{Component, Path};

use crate::EditError;

/// Checks that `path` is a non-empty relative path that stays under the
/// root, and returns it in canonical form (`./` prefixes and empty
/// components removed, `/` separators).
pub fn check_path(path: &str) -> Result<String, EditError> {
    let bad = |reason| EditError::BadPath { path: path.to_string(), reason };
    if path.trim().is_empty() {
        return Err(bad("it is empty"));
    }
    if path.contains('\0') {
        return Err(bad("it contains a NUL byte"));
    }
    if path.starts_with('/') || path.starts_with('\\') || has_drive(path) {
        return Err(bad("it is absolute"));
    }
    let mut parts = Vec::new();
    for component in Path::new(path).components() {
        match component {
            Component::Normal(part) => parts.push(part.to_string_lossy().into_owned()),
            Component::CurDir => {}
            Component::ParentDir => return Err(bad("it leaves the project with `..`")),
            Component::RootDir | Component::Prefix(_) => return Err(bad("it is absolute")),
        }
    }
    if parts.iter().any(|p| p.split('\\').any(|s| s == "..")) {
        return Err(bad("it leaves the project with `..`"));
    }
    if parts.is_empty() {
        return Err(bad("it names the project root, not a file"));
    }
    Ok(parts.join("/"))
}

fn has_drive(path: &str) -> bool {
    let b = path.as_bytes();
    b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_relative_paths_and_canonicalizes() {
        assert_eq!(check_path("src/x.py").unwrap(), "src/x.py");
        assert_eq!(check_path("./src//x.py").unwrap(), "src/x.py");
        assert_eq!(check_path("Makefile").unwrap(), "Makefile");
    }

    #[test]
    fn refuses_empty_absolute_and_escaping_paths() {
        for (path, reason) in [
            ("", "empty"),
            ("  ", "empty"),
            ("/etc/passwd", "absolute"),
            ("\\windows", "absolute"),
            ("C:\\x", "absolute"),
            ("../x", ".."),
            ("src/../../x", ".."),
            ("src\\..\\x", ".."),
            (".", "root"),
        ] {
            let err = check_path(path).unwrap_err();
            assert!(
                matches!(&err, EditError::BadPath { reason: r, .. } if r.contains(reason)),
                "{path:?}: {err}"
            );
        }
    }
}
