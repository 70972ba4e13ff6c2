//! Path arithmetic for archive entry names: always '/'-separated, as in zip
//! and tar files, whatever the host OS is. Paths are plain strings; nothing
//! here touches the file system.

/// Whether `path` is absolute, and its segments after normalizing:
/// empty segments (from "//" or a trailing '/') and "." are dropped, and
/// ".." removes the segment before it. A ".." with nothing before it to
/// remove is kept in a relative path ("../a") and dropped in an absolute
/// one ("/../a" is "/a").
///
///   split("a/./b/../c/") == (false, vec!["a", "c"])
///   split("../x/../../y") == (false, vec!["..", "..", "y"])
pub fn split(path: &str) -> (bool, Vec<String>) {
    todo!()
}

/// `path` in normal form: its segments from `split` joined with '/', with a
/// leading '/' if it is absolute. An empty relative path is "." and an empty
/// absolute one is "/". There is never a trailing '/' (except for "/").
///
///   normalize("a/./b/../c/") == "a/c";  normalize("/x/..") == "/"
pub fn normalize(path: &str) -> String {
    todo!()
}

/// `rel` resolved against the directory `base`, normalized. An absolute
/// `rel` ignores `base`; an empty `base` means the current directory.
///
///   join("docs/img", "../index.html") == "docs/index.html"
pub fn join(base: &str, rel: &str) -> String {
    todo!()
}

/// The path that leads from directory `base` to `path`, both normalized
/// first, or None when it cannot be known: when one is absolute and the
/// other is not, or when it would have to climb out of a ".." segment of
/// `base` (for "a" from "../b" we would need the name of the parent).
///
///   relative_to("/a/b/c", "/a/d") == Some("../b/c");  relative_to("/a", "/a") == Some(".")
pub fn relative_to(path: &str, base: &str) -> Option<String> {
    todo!()
}

/// Whether an archive entry can be extracted under the target folder
/// safely: it is relative, it does not normalize to "." and it does not
/// climb above the target folder ("a/../../b" does).
pub fn is_safe_entry(name: &str) -> bool {
    todo!()
}
