use textwrap_lite::{center, display_width};

#[test]
fn ascii_width() {
    assert_eq!(display_width(""), 0);
    assert_eq!(display_width("hello"), 5);
    assert_eq!(display_width("a b"), 3);
}

#[test]
fn centering() {
    assert_eq!(center("ab", 6), "  ab  ");
    assert_eq!(center("ab", 5), " ab  ");
    assert_eq!(center("toolong", 3), "toolong");
}
