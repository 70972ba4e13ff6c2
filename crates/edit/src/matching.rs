//! Finding a SEARCH text in a file, in passes from strict to lenient.

use std::time::{Duration, Instant};

use similar::TextDiff;
use unicode_normalization::UnicodeNormalization;

use crate::Closest;

/// The pass of the matcher that found a SEARCH text. Passes run in this
/// order; the first that finds anything decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchPass {
    /// Byte for byte, line by line.
    Exact,
    /// Ignoring whitespace at the end of lines.
    TrailingWhitespace,
    /// Ignoring the common indentation (relative indentation must agree);
    /// the replacement is re-indented to the file's indentation.
    Indentation,
    /// As `Indentation`, after NFKC normalization and mapping typographic
    /// quotes and dashes to ASCII.
    Unicode,
}

/// Where a SEARCH text was found.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Found {
    /// First matching line, 0-based.
    pub start: usize,
    /// Number of lines matched.
    pub len: usize,
    /// The pass that matched.
    pub pass: MatchPass,
    /// For the lenient passes: (the file's indentation, the SEARCH's).
    pub indent: Option<(String, String)>,
}

/// Why a SEARCH text was not found.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Miss {
    /// Nowhere; the closest window if the file has lines.
    None(Option<Closest>),
    /// In several places (first lines, 1-based).
    Ambiguous(Vec<usize>),
}

/// Finds `search` (lines without terminators, not empty) in `file`.
pub(crate) fn find(file: &[&str], search: &[&str]) -> Result<Found, Miss> {
    let n = search.len();
    if n == 0 || n > file.len() {
        return Err(Miss::None(closest(file, search)));
    }
    let windows = 0..=file.len() - n;
    let exact: Vec<usize> = windows.clone().filter(|&i| file[i..i + n] == *search).collect();
    if let Some(found) = decide(exact, n, MatchPass::Exact, None)? {
        return Ok(found);
    }
    let trailing: Vec<usize> = windows
        .clone()
        .filter(|&i| file[i..i + n].iter().zip(search).all(|(a, b)| a.trim_end() == b.trim_end()))
        .collect();
    if let Some(found) = decide(trailing, n, MatchPass::TrailingWhitespace, None)? {
        return Ok(found);
    }
    let search_owned: Vec<String> = search.iter().map(|s| s.to_string()).collect();
    let file_owned: Vec<String> = file.iter().map(|s| s.to_string()).collect();
    if let Some(found) = lenient(&file_owned, &search_owned, MatchPass::Indentation)? {
        return Ok(found);
    }
    let file_norm: Vec<String> = file.iter().map(|l| normalize(l)).collect();
    let search_norm: Vec<String> = search.iter().map(|l| normalize(l)).collect();
    if let Some(found) = lenient(&file_norm, &search_norm, MatchPass::Unicode)? {
        return Ok(found);
    }
    Err(Miss::None(closest(file, search)))
}

fn decide(
    starts: Vec<usize>,
    len: usize,
    pass: MatchPass,
    indent: Option<(String, String)>,
) -> Result<Option<Found>, Miss> {
    match starts.as_slice() {
        [] => Ok(None),
        [start] => Ok(Some(Found { start: *start, len, pass, indent })),
        many => Err(Miss::Ambiguous(many.iter().map(|s| s + 1).collect())),
    }
}

/// The indentation-insensitive comparison, on already transformed lines.
fn lenient(file: &[String], search: &[String], pass: MatchPass) -> Result<Option<Found>, Miss> {
    let n = search.len();
    let (search_indent, search_body) = dedent(search);
    let mut starts = Vec::new();
    let mut indent = None;
    for i in 0..=file.len() - n {
        let window = &file[i..i + n];
        if !window.iter().zip(search).all(|(a, b)| a.trim() == b.trim()) {
            continue;
        }
        let (file_indent, body) = dedent(window);
        if body == search_body {
            starts.push(i);
            indent = Some((file_indent, search_indent.clone()));
        }
    }
    let indent = if starts.len() == 1 { indent } else { None };
    decide(starts, n, pass, indent)
}

/// The common leading whitespace of the non-blank lines, and the lines
/// without it (and without trailing whitespace; blank lines empty).
fn dedent(lines: &[String]) -> (String, Vec<String>) {
    let mut common: Option<&str> = None;
    for line in lines.iter().filter(|l| !l.trim().is_empty()) {
        let ws = &line[..line.len() - line.trim_start().len()];
        common = Some(match common {
            None => ws,
            Some(c) => {
                let k = c.bytes().zip(ws.bytes()).take_while(|(a, b)| a == b).count();
                &c[..k]
            }
        });
    }
    let common = common.unwrap_or("").to_string();
    let body = lines
        .iter()
        .map(|l| {
            if l.trim().is_empty() {
                String::new()
            } else {
                l[common.len()..].trim_end().to_string()
            }
        })
        .collect();
    (common, body)
}

/// NFKC, then typographic quotes, dashes and odd spaces to ASCII.
pub(crate) fn normalize(line: &str) -> String {
    line.nfkc()
        .map(|c| match c {
            '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' => '\'',
            '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' => '"',
            '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
            c if c != '\t' && c.is_whitespace() && c != '\n' => ' ',
            c => c,
        })
        .collect()
}

/// Re-indents replacement lines (without terminators) from the SEARCH's
/// indentation to the file's.
pub(crate) fn reindent(lines: &[&str], file_indent: &str, search_indent: &str) -> Vec<String> {
    let width = |ws: &str| ws.chars().map(|c| if c == '\t' { 4 } else { 1 }).sum::<usize>();
    let tabs = !file_indent.is_empty() && file_indent.chars().all(|c| c == '\t');
    lines
        .iter()
        .map(|line| {
            if line.trim().is_empty() {
                String::new()
            } else if let Some(rest) = line.strip_prefix(search_indent) {
                format!("{file_indent}{rest}")
            } else {
                let body = line.trim_start();
                let own = width(&line[..line.len() - body.len()]);
                let w = (own + width(file_indent)).saturating_sub(width(search_indent));
                let pad =
                    if tabs { "\t".repeat(w / 4) + &" ".repeat(w % 4) } else { " ".repeat(w) };
                format!("{pad}{body}")
            }
        })
        .collect()
}

/// The window of the file most similar to `search`: a cheap line score picks
/// candidates, `similar`'s character ratio ranks them.
fn closest(file: &[&str], search: &[&str]) -> Option<Closest> {
    if file.is_empty() {
        return None;
    }
    let n = search.len().clamp(1, file.len());
    let quick = |a: &str, b: &str| {
        let (a, b) = (a.trim(), b.trim());
        if a == b {
            return 1.0;
        }
        let longest = a.len().max(b.len()) as f32;
        let prefix = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
        let suffix = a.bytes().rev().zip(b.bytes().rev()).take_while(|(x, y)| x == y).count();
        ((prefix + suffix).min(longest as usize) as f32) / longest
    };
    let mut scored: Vec<(f32, usize)> = (0..=file.len() - n)
        .map(|i| (file[i..i + n].iter().zip(search).map(|(a, b)| quick(a, b)).sum::<f32>(), i))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let wanted = search.join("\n");
    let deadline = Instant::now() + Duration::from_millis(200);
    scored
        .iter()
        .take(8)
        .map(|&(_, i)| {
            let text = file[i..i + n].join("\n");
            let ratio = TextDiff::configure().deadline(deadline).diff_chars(&wanted, &text).ratio();
            Closest { start: i + 1, end: i + n, text, ratio }
        })
        .fold(None, |best: Option<Closest>, c| match best {
            Some(b) if b.ratio >= c.ratio => Some(b),
            _ => Some(c),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(s: &str) -> Vec<&str> {
        s.lines().collect()
    }

    #[test]
    fn passes_in_order() {
        let file = lines("def f():\n    return 1   \n\ndef g():\n    return \u{201C}x\u{201D}\n");
        let f = find(&file, &lines("def f():\n    return 1   ")).unwrap();
        assert_eq!((f.start, f.pass), (0, MatchPass::Exact));
        let f = find(&file, &lines("def f():\n    return 1")).unwrap();
        assert_eq!((f.start, f.pass), (0, MatchPass::TrailingWhitespace));
        let f = find(&file, &lines("  def f():\n      return 1")).unwrap();
        assert_eq!((f.start, f.pass), (0, MatchPass::Indentation));
        assert_eq!(f.indent, Some((String::new(), "  ".to_string())));
        let f = find(&file, &lines("def g():\n    return \"x\"")).unwrap();
        assert_eq!((f.start, f.pass), (3, MatchPass::Unicode));
    }

    #[test]
    fn indentation_pass_keeps_relative_indentation() {
        let file = lines("if a:\n    if b:\n        x()\n");
        // Same lines, but the relative indentation differs: no match.
        assert!(matches!(find(&file, &lines("if b:\nx()")), Err(Miss::None(_))));
        let f = find(&file, &lines("if b:\n    x()")).unwrap();
        assert_eq!((f.start, f.pass), (1, MatchPass::Indentation));
        assert_eq!(f.indent, Some(("    ".to_string(), String::new())));
    }

    #[test]
    fn ambiguity_lists_every_candidate_and_stops_at_the_first_pass() {
        let file = lines("x = 1\ny = 2\nx = 1\n  x = 1\n");
        assert_eq!(find(&file, &lines("x = 1")), Err(Miss::Ambiguous(vec![1, 3])));
        // Exact finds one match: the indented copy found by a later pass is irrelevant.
        let file = lines("x = 1\n  x = 1 \n");
        assert_eq!(find(&file, &lines("x = 1")).unwrap().start, 0);
    }

    #[test]
    fn closest_window_is_reported() {
        let file = lines("a\nb\ndef total(xs):\n    return sum(xs)\nc\nd\n");
        let Err(Miss::None(Some(c))) =
            find(&file, &lines("def total(items):\n    return sum(items)"))
        else {
            panic!("expected a miss with a closest window");
        };
        assert_eq!((c.start, c.end), (3, 4));
        assert!(c.ratio > 0.7 && c.ratio < 1.0, "{}", c.ratio);
        assert_eq!(c.text, "def total(xs):\n    return sum(xs)");
    }

    #[test]
    fn normalize_maps_typography() {
        assert_eq!(
            normalize("\u{2018}a\u{2019} \u{2013} \u{201C}b\u{201D}\u{00A0}\u{2026}"),
            "'a' - \"b\" ..."
        );
    }

    #[test]
    fn reindent_shifts_and_keeps_blank_lines() {
        let out = reindent(&["if x:", "    y()", "", "z()"], "        ", "");
        assert_eq!(out, vec!["        if x:", "            y()", "", "        z()"]);
        let out = reindent(&["  a", "b"], "\t", "  ");
        assert_eq!(out, vec!["\ta", "  b"]);
    }
}
