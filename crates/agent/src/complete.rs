//! Where a completion at a cursor (the `tab` level) should stop.
//!
//! A fill-in-the-middle model writes the code at the cursor and then, left
//! alone, goes on with more code nobody asked for (the next functions of the
//! file). [`CompletionEnd`] watches the text as it streams and says where a
//! person would have stopped:
//!
//! - at the end of the block the cursor is in: the first line indented less
//!   than that block (for a cursor at the top level, the next top-level item
//!   after a blank line);
//! - where the completion starts to repeat the code after the cursor;
//! - after a number of lines, when a limit is set.
//!
//! Indentation decides, as it does for the reader of the code: it works for
//! indentation languages and for formatted brace languages alike (the
//! closing brace of the enclosing block is indented less than its body).

/// Tabs count as this many columns when indentation is compared.
const TAB_WIDTH: usize = 4;

/// Decides where a completion inserted between `prefix` and `suffix` ends.
#[derive(Debug, Clone)]
pub struct CompletionEnd {
    /// Lines must be indented at least this much to stay in the block
    /// (0: the cursor is at the top level).
    block: usize,
    /// The indentation the first completed line starts with: the
    /// whitespace before the cursor when nothing else is on its line.
    lead: Option<usize>,
    /// The first line of code after the cursor: its indentation, trimmed.
    next_line: Option<(usize, String)>,
    /// Whether the text after the cursor starts a new line (a completion
    /// cut at a line end then leaves its own newline out).
    suffix_at_line_end: bool,
    max_lines: Option<usize>,
}

impl CompletionEnd {
    /// The rules for a cursor between `prefix` and `suffix`; `max_lines`
    /// limits the lines of the completion.
    pub fn new(prefix: &str, suffix: &str, max_lines: Option<usize>) -> Self {
        let before = prefix.rsplit('\n').next().unwrap_or("");
        let earlier = &prefix[..prefix.len() - before.len()];
        let (block, lead) = if before.trim().is_empty() {
            let lead = Some(width(before));
            let mut lines = earlier.lines().rev();
            let blank_between = lines.clone().next().is_some_and(|l| l.trim().is_empty());
            match lines.find(|l| !l.trim().is_empty()) {
                // The cursor opens the body of a block.
                Some(prev) if opens_block(prev) => (indent(prev) + 1, lead),
                // Inside a block, on a line of its own.
                Some(prev) if !blank_between => (indent(prev).max(width(before)), lead),
                _ => (width(before), lead),
            }
        } else {
            (indent(before), None)
        };
        let after_cursor_line = if before.trim().is_empty() {
            suffix
        } else {
            suffix.split_once('\n').map_or("", |(_, rest)| rest)
        };
        let next_line = after_cursor_line
            .lines()
            .find(|l| !l.trim().is_empty())
            .map(|l| (indent(l), l.trim().to_string()));
        Self {
            block,
            lead,
            next_line,
            suffix_at_line_end: suffix.starts_with('\n') || suffix.starts_with("\r\n"),
            max_lines: max_lines.filter(|&n| n > 0),
        }
    }

    /// The length of `text` (the completion so far) to keep, once it has
    /// reached its end; `None` while it may go on.
    pub fn end(&self, text: &str) -> Option<usize> {
        let mut start = 0;
        let mut seen_code = false;
        let mut blank_before = false;
        for (number, line) in text.split_inclusive('\n').enumerate() {
            let complete = line.ends_with('\n');
            let body = line.trim_end_matches(['\n', '\r']);
            let code = body.trim();
            if number > 0 || self.lead.is_some() {
                let lead = if number == 0 { self.lead.unwrap_or(0) } else { 0 };
                let column = lead + indent(body);
                if !code.is_empty() {
                    let leaves = if self.block == 0 {
                        seen_code && blank_before && column == 0
                    } else {
                        column < self.block
                    };
                    let repeats = complete
                        && self.next_line.as_ref().is_some_and(|(c, l)| *c == column && l == code);
                    if leaves || repeats {
                        return Some(self.cut_at(text, start));
                    }
                }
            }
            if let Some(max) = self.max_lines {
                if complete && number + 1 >= max {
                    let end = start + line.len();
                    return Some(self.cut_at(text, end));
                }
            }
            if !code.is_empty() {
                seen_code = true;
            }
            blank_before = code.is_empty() && complete;
            start += line.len();
        }
        None
    }

    /// `text` cut at byte `at`, the line break before the cut left out when
    /// the code after the cursor brings its own.
    fn cut_at(&self, text: &str, at: usize) -> usize {
        let mut end = at;
        let kept = &text[..end];
        if self.suffix_at_line_end || self.lead.is_none() {
            end = kept.trim_end_matches(['\n', '\r']).len();
        } else {
            // The cursor was at a line start: keep one line break, drop the
            // blank lines the model added before what comes next.
            let trimmed = kept.trim_end_matches(['\n', '\r', ' ', '\t']).len();
            if trimmed < end {
                end = trimmed + 1;
            }
        }
        end
    }
}

/// Columns of leading whitespace.
fn indent(line: &str) -> usize {
    width(&line[..line.len() - line.trim_start().len()])
}

/// Columns of a run of whitespace.
fn width(space: &str) -> usize {
    space.chars().map(|c| if c == '\t' { TAB_WIDTH } else { 1 }).sum()
}

/// Whether a line opens a block whose body follows it.
fn opens_block(line: &str) -> bool {
    let code = line.trim_end();
    [":", "{", "(", "[", "=>", " do", "->"].iter().any(|end| code.ends_with(end))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Splits `file` at the `|` that marks the cursor and returns what is
    /// kept of `completion`.
    fn kept<'a>(file: &str, completion: &'a str, max_lines: Option<usize>) -> &'a str {
        let (prefix, suffix) = file.split_once('|').expect("a cursor");
        let end = CompletionEnd::new(prefix, suffix, max_lines);
        match end.end(completion) {
            Some(n) => &completion[..n],
            None => completion,
        }
    }

    const PY: &str = "def area(w, h):\n    |\n\n\ndef main():\n    print(area(2, 3))\n";

    #[test]
    fn a_body_ends_where_the_next_function_begins() {
        let completion = "return w * h\n\n\ndef perimeter(w, h):\n    return 2 * (w + h)\n";
        assert_eq!(kept(PY, completion, None), "return w * h");
        // Still going: nothing is cut yet.
        let end = CompletionEnd::new("def area(w, h):\n    ", "\n", None);
        assert_eq!(end.end("return w * h\n\n\n  "), None);
        // The indentation of a line is known from its first character.
        assert_eq!(end.end("return w * h\n\n\nd"), Some("return w * h".len()));
    }

    #[test]
    fn a_line_completed_mid_way_ends_at_the_block_end() {
        let file = "fn area(w: u32, h: u32) -> u32 {\n    let a = |\n}\n\nfn main() {}\n";
        let completion = "w * h;\n    a\n}\n\nfn perimeter() {}\n";
        assert_eq!(kept(file, completion, None), "w * h;\n    a");
    }

    #[test]
    fn a_cursor_at_a_line_start_keeps_its_line_break() {
        let file = "def area(w, h):\n|    pass\n";
        let end = CompletionEnd::new("def area(w, h):\n", "    pass\n", None);
        assert_eq!(
            end.end("    return w * h\n\n\ndef main():\n"),
            Some("    return w * h\n".len())
        );
        // The model starts to write the code that already follows.
        assert_eq!(kept(file, "    x = w * h\n    pass\n    y = 1\n", None), "    x = w * h\n");
    }

    #[test]
    fn at_the_top_level_one_item_is_written() {
        let file = "import os\n\n|\n";
        let completion = "def cwd():\n    return os.getcwd()\n\n\ndef home():\n    pass\n";
        assert_eq!(kept(file, completion, None), "def cwd():\n    return os.getcwd()");
    }

    #[test]
    fn a_line_limit_cuts_after_whole_lines() {
        let completion = "a = 1\n    b = 2\n    c = 3\n";
        assert_eq!(kept(PY, completion, Some(2)), "a = 1\n    b = 2");
        assert_eq!(kept(PY, completion, Some(0)), completion, "0 means no limit");
    }

    #[test]
    fn tabs_and_nested_blocks() {
        let file = "func f() {\n\tif x {\n\t\t|\n\t}\n}\n";
        let completion = "y()\n\t\tz()\n\t}\n\tw()\n";
        assert_eq!(kept(file, completion, None), "y()\n\t\tz()");
    }
}
