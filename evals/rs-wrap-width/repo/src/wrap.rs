//! Greedy word wrapping.

use crate::width::display_width;

/// The words of `text` laid out in lines of at most `width` columns, words
/// separated by single spaces. A word wider than `width` gets a line of its
/// own (it is not split).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if line.is_empty() {
            line.push_str(word);
        } else if display_width(&line) + 1 + display_width(word) <= width {
            line.push(' ');
            line.push_str(word);
        } else {
            lines.push(std::mem::take(&mut line));
            line.push_str(word);
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Each paragraph (separated by blank lines) wrapped on its own, with an
/// empty line between paragraphs.
pub fn wrap_paragraphs(text: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    for paragraph in text.split("\n\n").filter(|p| !p.trim().is_empty()) {
        if !out.is_empty() {
            out.push(String::new());
        }
        out.extend(wrap(paragraph, width));
    }
    out
}
