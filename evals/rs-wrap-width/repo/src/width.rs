//! How wide text is on the terminal. Every character counts as one column
//! (we don't handle double-width East Asian characters yet).

/// The number of columns `s` takes up.
pub fn display_width(s: &str) -> usize {
    s.len()
}

/// `s` centred in `width` columns, padded with spaces on both sides (an odd
/// space goes on the right). Text wider than `width` is returned as is.
pub fn center(s: &str, width: usize) -> String {
    let w = display_width(s);
    if w >= width {
        return s.to_string();
    }
    let left = (width - w) / 2;
    let right = width - w - left;
    format!("{}{}{}", " ".repeat(left), s, " ".repeat(right))
}
