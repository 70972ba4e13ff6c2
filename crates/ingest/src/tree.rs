//! The directory tree shown at the top of a digest.

use std::cmp::Ordering;

/// Orders `/`-separated paths component by component, so that a directory's
/// contents stay together (`a/b` sorts before `a.c`). That is byte order with
/// `/` below every other byte, compared without splitting: sorting a large
/// tree's paths by splitting them took a fifth of a repeat run's work.
pub(crate) fn path_order(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let rank = |c: u8| if c == b'/' { 0 } else { c };
    match a.iter().zip(b).position(|(x, y)| x != y) {
        Some(i) => rank(a[i]).cmp(&rank(b[i])),
        None => a.len().cmp(&b.len()),
    }
}

#[derive(Debug)]
struct Node<'a> {
    name: &'a str,
    note: Option<&'a str>,
    is_dir: bool,
    children: Vec<Node<'a>>,
}

/// Renders entries (path, optional note) sorted by [`path_order`] as a tree
/// under `root_name`, one line per file or directory.
pub(crate) fn render_tree(root_name: &str, entries: &[(&str, Option<&str>)]) -> String {
    let mut root = Node { name: root_name, note: None, is_dir: true, children: Vec::new() };
    for (path, note) in entries {
        let parts: Vec<&str> = path.split('/').collect();
        let mut node = &mut root;
        for (i, part) in parts.iter().enumerate() {
            let last = i + 1 == parts.len();
            let reuse =
                matches!(node.children.last(), Some(c) if c.name == *part && c.is_dir && !last);
            if !reuse {
                node.children.push(Node {
                    name: part,
                    note: if last { *note } else { None },
                    is_dir: !last,
                    children: Vec::new(),
                });
            }
            node = node.children.last_mut().expect("just pushed");
        }
    }
    let mut out = String::new();
    out.push_str(root_name);
    out.push_str("/\n");
    write_children(&root, "", &mut out);
    out
}

fn write_children(node: &Node<'_>, prefix: &str, out: &mut String) {
    let count = node.children.len();
    for (i, child) in node.children.iter().enumerate() {
        let last = i + 1 == count;
        out.push_str(prefix);
        out.push_str(if last { "└── " } else { "├── " });
        out.push_str(child.name);
        if child.is_dir {
            out.push('/');
        }
        if let Some(note) = child.note {
            out.push_str("  [");
            out.push_str(note);
            out.push(']');
        }
        out.push('\n');
        if child.is_dir {
            let deeper = format!("{prefix}{}", if last { "    " } else { "│   " });
            write_children(child, &deeper, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config { cases: 2000, failure_persistence: None, ..Default::default() })]
        #[test]
        fn orders_as_the_components_do(a in "[a./_-]{0,3}(/[a./_-]{1,3}){0,3}", b in "[a./_-]{0,3}(/[a./_-]{1,3}){0,3}") {
            proptest::prop_assert_eq!(path_order(&a, &b), a.split('/').cmp(b.split('/')), "{:?} {:?}", a, b);
        }
    }

    #[test]
    fn orders_by_component() {
        let mut v = vec!["a.c", "a/b", "a/a/z", "B", "a"];
        v.sort_by(|a, b| path_order(a, b));
        assert_eq!(v, vec!["B", "a", "a/a/z", "a/b", "a.c"]);
    }

    #[test]
    fn renders_nested_tree_with_notes() {
        let entries = [
            ("README.md", None),
            ("src/lib.rs", None),
            ("src/util/mod.rs", Some("outline")),
            ("z.png", Some("skipped: binary")),
        ];
        let tree = render_tree("repo", &entries);
        let expected = "repo/\n├── README.md\n├── src/\n│   ├── lib.rs\n│   └── util/\n│       └── mod.rs  [outline]\n└── z.png  [skipped: binary]\n";
        assert_eq!(tree, expected);
    }
}
