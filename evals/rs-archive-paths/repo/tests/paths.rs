use archpath::{is_safe_entry, join, normalize, relative_to, split};

fn segs(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn splitting() {
    assert_eq!(split("a/./b/../c/"), (false, segs(&["a", "c"])));
    assert_eq!(split("../x/../../y"), (false, segs(&["..", "..", "y"])));
    assert_eq!(split("/../a//b"), (true, segs(&["a", "b"])));
    assert_eq!(split(""), (false, segs(&[])));
    assert_eq!(split("/"), (true, segs(&[])));
    assert_eq!(split("a/b/../../.."), (false, segs(&[".."])));
}

#[test]
fn normalizing() {
    assert_eq!(normalize("a/./b/../c/"), "a/c");
    assert_eq!(normalize("/x/.."), "/");
    assert_eq!(normalize("//usr///lib/"), "/usr/lib");
    assert_eq!(normalize("a/.."), ".");
    assert_eq!(normalize(""), ".");
    assert_eq!(normalize("./"), ".");
    assert_eq!(normalize("../../a"), "../../a");
    assert_eq!(normalize("/../../etc"), "/etc");
    assert_eq!(normalize("..."), "...");
    assert_eq!(normalize("a/.b/c."), "a/.b/c.");
}

#[test]
fn joining() {
    assert_eq!(join("docs/img", "../index.html"), "docs/index.html");
    assert_eq!(join("docs", "/etc/passwd"), "/etc/passwd");
    assert_eq!(join("", "a/b"), "a/b");
    assert_eq!(join("/srv/www/", "./site/"), "/srv/www/site");
    assert_eq!(join("a", "../.."), "..");
    assert_eq!(join("/", ".."), "/");
}

#[test]
fn relative_paths() {
    let rel = |p, b| relative_to(p, b);
    assert_eq!(rel("/a/b/c", "/a/d"), Some("../b/c".to_string()));
    assert_eq!(rel("/a", "/a"), Some(".".to_string()));
    assert_eq!(rel("/a/b", "/a"), Some("b".to_string()));
    assert_eq!(rel("/a", "/a/b/c"), Some("../..".to_string()));
    assert_eq!(rel("x/y/", "./x/z/../w"), Some("../y".to_string()));
    assert_eq!(rel("../a", "b"), Some("../../a".to_string()));
    assert_eq!(rel("/a", "a"), None);
    assert_eq!(rel("a", "/a"), None);
    assert_eq!(rel("a", "../b"), None);
    assert_eq!(rel("../b/c", "../b"), Some("c".to_string()));
}

#[test]
fn safe_entries() {
    assert!(is_safe_entry("docs/readme.md"));
    assert!(is_safe_entry("a/../b"));
    assert!(is_safe_entry("./a//b/"));
    assert!(!is_safe_entry("/etc/passwd"));
    assert!(!is_safe_entry("../evil"));
    assert!(!is_safe_entry("a/../../b"));
    assert!(!is_safe_entry("."));
    assert!(!is_safe_entry("a/.."));
    assert!(!is_safe_entry(""));
}
