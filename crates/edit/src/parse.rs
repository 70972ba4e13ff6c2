//! Turning a model's reply into [`Edit`]s.
//!
//! Tolerated, because small models do it: CRLF line ends, prose before,
//! between and after blocks, ```` ```lang ```` fences around SEARCH/REPLACE
//! blocks (or inside their sections), the path on the fence line
//! (```` ```python src/x.py ````), a path written as `` `src/x.py` ``,
//! `**src/x.py**` or `src/x.py:`, 5 to 9 marker characters, a doubled
//! opening fence and a dangling last fence. Never guessed: a block without a
//! path when the target is not unique, an unclosed block, a stray marker.

use crate::path::check_path;
use crate::{Edit, EditError, EditFormat, EditKind, Target};

/// Parses `reply`, written in `format`, into edits.
///
/// `targets` are the files the model was asked to change: when it is not
/// empty, every path in the reply must be one of them, and a block without a
/// path belongs to the only target if there is exactly one.
/// [`EditFormat::Region`] needs exactly one target with a line range.
pub fn parse(format: EditFormat, reply: &str, targets: &[Target]) -> Result<Vec<Edit>, EditError> {
    let text = reply.replace("\r\n", "\n");
    let lines: Vec<&str> = text.split('\n').collect();
    let allowed =
        targets.iter().map(|t| check_path(&t.path)).collect::<Result<Vec<_>, _>>().map_err(
            |e| EditError::Usage(format!("a target given to the parser is invalid: {e}")),
        )?;
    let ctx = Ctx { lines: &lines, allowed: &allowed };
    match format {
        EditFormat::SearchReplace => ctx.search_replace(),
        EditFormat::WholeFile => ctx.whole_files(),
        EditFormat::Region => {
            let regions: Vec<_> = targets.iter().filter(|t| t.lines.is_some()).collect();
            let [target] = regions.as_slice() else {
                return Err(EditError::Usage(format!(
                    "the Region format needs exactly one target with a line range, got {}",
                    regions.len()
                )));
            };
            let (start, end) = target.lines.unwrap_or((1, 1));
            ctx.region(check_path(&target.path)?, start, end)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Marker {
    Search,
    Divider,
    Replace,
}

fn marker(line: &str) -> Option<Marker> {
    let t = line.trim();
    let run = |c: char| t.chars().take_while(|&x| x == c).count();
    let (c, kind, word) = match t.chars().next()? {
        '<' => ('<', Marker::Search, "SEARCH"),
        '=' => ('=', Marker::Divider, ""),
        '>' => ('>', Marker::Replace, "REPLACE"),
        _ => return None,
    };
    let n = run(c);
    if !(5..=9).contains(&n) {
        return None;
    }
    (t[n..].trim() == word).then_some(kind)
}

/// An opening or closing fence: the number of backticks and the info string.
fn fence(line: &str) -> Option<(usize, &str)> {
    let t = line.trim();
    let n = t.chars().take_while(|&c| c == '`').count();
    (n >= 3).then(|| (n, t[n..].trim()))
}

fn is_close(line: &str, ticks: usize) -> bool {
    matches!(fence(line), Some((n, "")) if n >= ticks)
}

/// A line that is nothing but a path (decorations removed).
fn path_line(line: &str) -> Option<&str> {
    let mut t = line.trim();
    if t.starts_with("```") || marker(t).is_some() {
        return None;
    }
    t = t.trim_end_matches(':');
    for wrap in ["**", "`", "\"", "'"] {
        if t.len() > 2 * wrap.len() && t.starts_with(wrap) && t.ends_with(wrap) {
            t = &t[wrap.len()..t.len() - wrap.len()];
        }
    }
    t = t.trim_end_matches(':').trim();
    (!t.is_empty() && !t.contains(char::is_whitespace) && !t.starts_with('#')).then_some(t)
}

/// A fenced block: its opening line (0-based), info string, content lines.
type Block<'a> = (usize, &'a str, Vec<&'a str>);

struct Ctx<'a> {
    lines: &'a [&'a str],
    allowed: &'a [String],
}

impl Ctx<'_> {
    /// A path found at reply line `line` (0-based), checked and allowed.
    fn accept(&self, raw: &str, line: usize) -> Result<String, EditError> {
        let path = check_path(raw)?;
        if !self.allowed.is_empty() && !self.allowed.contains(&path) {
            return Err(EditError::PathNotAllowed {
                line: line + 1,
                path: raw.to_string(),
                allowed: self.allowed.to_vec(),
            });
        }
        Ok(path)
    }

    /// A path named by the info string of a fence (`python src/x.py`).
    fn fence_path<'b>(&self, info: &'b str) -> Option<&'b str> {
        let token = info.split_whitespace().last()?;
        let looks = token.contains('.') || token.contains('/');
        let known = self.allowed.iter().any(|a| a == token);
        (looks || known).then_some(token).filter(|t| path_line(t).is_some())
    }

    /// A line that is a path: decorations removed, and path-like (a `.` or
    /// `/` in it, or one of the allowed paths) so that prose such as `Run:`
    /// is not mistaken for a file name.
    fn path_candidate<'b>(&self, line: &'b str) -> Option<&'b str> {
        path_line(line)
            .filter(|t| t.contains('.') || t.contains('/') || self.allowed.iter().any(|a| a == t))
    }

    fn single_target(&self) -> Option<String> {
        match self.allowed {
            [only] => Some(only.clone()),
            _ => None,
        }
    }

    fn search_replace(&self) -> Result<Vec<Edit>, EditError> {
        let lines = self.lines;
        let mut edits = Vec::new();
        let mut previous: Option<String> = None;
        let mut i = 0;
        while i < lines.len() {
            match marker(lines[i]) {
                None => i += 1,
                Some(Marker::Divider) => {
                    return Err(malformed(i, "a ======= line outside a SEARCH/REPLACE block; every block starts with <<<<<<< SEARCH"))
                }
                Some(Marker::Replace) => {
                    return Err(malformed(i, "a >>>>>>> REPLACE line without a block before it; every block starts with <<<<<<< SEARCH"))
                }
                Some(Marker::Search) => {
                    let start = i;
                    let path = match self.path_before(start)? {
                        Some(p) => p,
                        None => previous.clone().or_else(|| self.single_target()).ok_or_else(|| {
                            malformed(start, "this SEARCH block has no file path; write the path alone on the line before <<<<<<< SEARCH")
                        })?,
                    };
                    let (search, divider) = self.section(start + 1, Marker::Divider, start)?;
                    let (replace, end) = self.section(divider + 1, Marker::Replace, start)?;
                    let (search, replace) = unwrap_fences(search, replace);
                    edits.push(Edit {
                        path: path.clone(),
                        reply_line: start + 1,
                        kind: EditKind::SearchReplace { search: join(&search), replace: join(&replace) },
                    });
                    previous = Some(path);
                    i = end + 1;
                }
            }
        }
        if edits.is_empty() {
            return Err(EditError::NoEdit {
                hint: "Write each change as the file path on its own line, then `<<<<<<< SEARCH`, the exact lines to find, `=======`, the new lines, and `>>>>>>> REPLACE`.".into(),
            });
        }
        Ok(edits)
    }

    /// The path for the block whose SEARCH marker is at `at`, from the
    /// lines above it (skipping blank lines and bare fences).
    fn path_before(&self, at: usize) -> Result<Option<String>, EditError> {
        let mut j = at;
        while j > 0 {
            j -= 1;
            let line = self.lines[j];
            if line.trim().is_empty() {
                continue;
            }
            if let Some((_, info)) = fence(line) {
                if let Some(p) = self.fence_path(info) {
                    return self.accept(p, j).map(Some);
                }
                if info.is_empty() || !info.contains(char::is_whitespace) {
                    continue; // ```python: look further up for the path
                }
                return Ok(None);
            }
            return match self.path_candidate(line) {
                Some(p) => self.accept(p, j).map(Some),
                None => Ok(None),
            };
        }
        Ok(None)
    }

    /// Lines from `from` up to the `until` marker; returns them and the
    /// marker's index.
    fn section(
        &self,
        from: usize,
        until: Marker,
        block: usize,
    ) -> Result<(Vec<&str>, usize), EditError> {
        let expected = match until {
            Marker::Divider => "=======",
            _ => ">>>>>>> REPLACE",
        };
        for k in from..self.lines.len() {
            match marker(self.lines[k]) {
                None => {}
                Some(m) if m == until => return Ok((self.lines[from..k].to_vec(), k)),
                Some(_) => {
                    return Err(malformed(
                        k,
                        &format!(
                            "expected {expected} to continue the block that starts at line {}, found {:?}",
                            block + 1,
                            self.lines[k].trim()
                        ),
                    ))
                }
            }
        }
        Err(malformed(
            block,
            &format!("this SEARCH/REPLACE block is never finished: the {expected} line is missing"),
        ))
    }

    /// Fenced blocks: (opening line, info, content lines).
    fn fenced_blocks(&self) -> Result<Vec<Block<'_>>, EditError> {
        let lines = self.lines;
        let mut blocks = Vec::new();
        let mut i = 0;
        while i < lines.len() {
            let Some((mut ticks, mut info)) = fence(lines[i]) else {
                i += 1;
                continue;
            };
            let mut open = i;
            let first = i;
            // A doubled opening fence: "```" directly followed by "```lang".
            if info.is_empty() {
                if let Some((t2, info2)) = lines.get(i + 1).and_then(|l| fence(l)) {
                    if !info2.is_empty() {
                        (ticks, info, open) = (t2, info2, i + 1);
                    }
                }
            }
            match (open + 1..lines.len()).find(|&k| is_close(lines[k], ticks)) {
                Some(close) => {
                    blocks.push((open, info, lines[open + 1..close].to_vec()));
                    i = close + 1;
                    // A doubled opening fence usually comes with a doubled closing one.
                    if open != first && lines.get(i).is_some_and(|l| is_close(l, 3)) {
                        i += 1;
                    }
                }
                None if lines[open + 1..].iter().all(|l| l.trim().is_empty()) => break, // a dangling last fence
                None => {
                    return Err(malformed(
                        open,
                        "this fenced block is never closed; end it with a line of ```",
                    ))
                }
            }
        }
        Ok(blocks)
    }

    fn whole_files(&self) -> Result<Vec<Edit>, EditError> {
        let blocks = self.fenced_blocks()?;
        if blocks.is_empty() {
            return Err(EditError::NoEdit {
                hint: "Write the file path on its own line, then the complete new file in one fenced block (``` ... ```).".into(),
            });
        }
        let mut edits = Vec::new();
        for (open, info, content) in &blocks {
            let path = match self.fence_path(info) {
                Some(p) => Some(self.accept(p, *open)?),
                None => self.path_line_above(*open)?,
            };
            let path = match path {
                Some(p) => p,
                None if blocks.len() == 1 => self.single_target().ok_or_else(|| {
                    malformed(*open, "this block has no file path; write the path alone on the line before the opening ```")
                })?,
                None => {
                    return Err(malformed(
                        *open,
                        "this block has no file path; with several blocks, write each file's path alone on the line before its opening ```",
                    ))
                }
            };
            edits.push(Edit {
                path,
                reply_line: open + 1,
                kind: EditKind::WholeFile { content: join(content) },
            });
        }
        Ok(edits)
    }

    fn path_line_above(&self, open: usize) -> Result<Option<String>, EditError> {
        let Some(j) = (0..open).rev().find(|&j| !self.lines[j].trim().is_empty()) else {
            return Ok(None);
        };
        match self.path_candidate(self.lines[j]) {
            Some(p) if fence(self.lines[j]).is_none() => self.accept(p, j).map(Some),
            _ => Ok(None),
        }
    }

    fn region(&self, path: String, start: usize, end: usize) -> Result<Vec<Edit>, EditError> {
        let blocks = self.fenced_blocks()?;
        match blocks.as_slice() {
            [] => Err(EditError::NoEdit {
                hint: format!("Write the new text of lines {start}-{end} of {path} in one fenced block (``` ... ```)."),
            }),
            [(open, _, content)] => {
                let content = match without_line_numbers(content, start) {
                    Some(stripped) => join(&stripped),
                    None => join(content),
                };
                Ok(vec![Edit {
                    path,
                    reply_line: open + 1,
                    kind: EditKind::Region { start, end, content },
                }])
            }
            many => Err(malformed(
                many[1].0,
                &format!(
                    "expected one fenced block with the new text of lines {start}-{end}, found {} (opening at lines {})",
                    many.len(),
                    many.iter().map(|b| (b.0 + 1).to_string()).collect::<Vec<_>>().join(", ")
                ),
            )),
        }
    }
}

fn malformed(line: usize, message: &str) -> EditError {
    EditError::Malformed { line: line + 1, message: message.to_string() }
}

/// Lines joined, each ending in `\n`.
/// The lines of a region reply without the line numbers the model copied
/// from the numbered context (`   12 code`, `12 | code`, `12: code`), or
/// `None` when the lines are not all numbered from `start` on, or only one
/// is (`3 + 4` may be code). A blank line may be a bare number.
fn without_line_numbers<'a>(lines: &[&'a str], start: usize) -> Option<Vec<&'a str>> {
    let mut out = Vec::with_capacity(lines.len());
    let mut expected = start;
    for line in lines {
        if line.trim().is_empty() {
            out.push("");
            continue;
        }
        let rest = line.trim_start();
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let number: usize = rest[..digits].parse().ok()?;
        if number != expected {
            return None;
        }
        expected += 1;
        let rest = &rest[digits..];
        let code = ["| ", " | ", " |", "|", ": ", ":", " "]
            .iter()
            .find_map(|sep| rest.strip_prefix(sep))
            .or_else(|| rest.is_empty().then_some(""))?;
        out.push(code);
    }
    (expected > start + 1).then_some(out)
}

fn join(lines: &[&str]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// Removes a ```` ``` ```` fence wrapped around the inside of a SEARCH or
/// REPLACE section, when both sections are wrapped (or the other is empty).
fn unwrap_fences<'a>(search: Vec<&'a str>, replace: Vec<&'a str>) -> (Vec<&'a str>, Vec<&'a str>) {
    fn wrapped(s: &[&str]) -> bool {
        s.len() >= 2 && fence(s[0]).is_some() && is_close(s[s.len() - 1], 3)
    }
    let empty = |s: &[&str]| s.iter().all(|l| l.trim().is_empty());
    let (ws, wr) = (wrapped(&search), wrapped(&replace));
    if (ws || empty(&search)) && (wr || empty(&replace)) && (ws || wr) {
        let strip = |s: Vec<&'a str>, w: bool| if w { s[1..s.len() - 1].to_vec() } else { s };
        (strip(search, ws), strip(replace, wr))
    } else {
        (search, replace)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sr(reply: &str, targets: &[Target]) -> Result<Vec<Edit>, EditError> {
        parse(EditFormat::SearchReplace, reply, targets)
    }

    fn replace(edit: &Edit) -> (&str, &str, &str) {
        match &edit.kind {
            EditKind::SearchReplace { search, replace } => {
                (edit.path.as_str(), search.as_str(), replace.as_str())
            }
            other => panic!("not a SEARCH/REPLACE edit: {other:?}"),
        }
    }

    const PLAIN: &str = "src/x.py\n<<<<<<< SEARCH\nold\n=======\nnew\n>>>>>>> REPLACE\n";

    #[test]
    fn plain_block() {
        let edits = sr(PLAIN, &[]).unwrap();
        assert_eq!(edits.len(), 1);
        assert_eq!(replace(&edits[0]), ("src/x.py", "old\n", "new\n"));
        assert_eq!(edits[0].reply_line, 2);
    }

    #[test]
    fn several_blocks_files_and_prose() {
        let reply = "I will fix both.\n\nsrc/a.py\n```python\n<<<<<<< SEARCH\na = 1\n=======\na = 2\n>>>>>>> REPLACE\n```\n\
                     And the second file:\n\n`src/b.py`:\n<<<<<<< SEARCH\nb = 1\n=======\nb = 2\n>>>>>>> REPLACE\n\
                     <<<<<<< SEARCH\nc = 1\n=======\n>>>>>>> REPLACE\nThat is all, hope it helps!\n";
        let edits = sr(reply, &[]).unwrap();
        let got: Vec<_> = edits.iter().map(replace).collect();
        assert_eq!(
            got,
            vec![
                ("src/a.py", "a = 1\n", "a = 2\n"),
                ("src/b.py", "b = 1\n", "b = 2\n"),
                ("src/b.py", "c = 1\n", "")
            ]
        );
        assert_eq!(edits.iter().map(|e| e.reply_line).collect::<Vec<_>>(), vec![5, 14, 19]);
    }

    #[test]
    fn crlf_reply() {
        let edits = sr(&PLAIN.replace('\n', "\r\n"), &[]).unwrap();
        assert_eq!(replace(&edits[0]), ("src/x.py", "old\n", "new\n"));
    }

    #[test]
    fn path_on_the_fence_line_and_decorated_paths() {
        for reply in [
            "```python src/x.py\n<<<<<<< SEARCH\nold\n=======\nnew\n>>>>>>> REPLACE\n```\n",
            "```src/x.py\n<<<<<<< SEARCH\nold\n=======\nnew\n>>>>>>> REPLACE\n```\n",
            "**src/x.py**\n<<<<<<< SEARCH\nold\n=======\nnew\n>>>>>>> REPLACE\n",
            "src/x.py:\n\n<<<<<<<SEARCH\nold\n=====\nnew\n>>>>>>>>> REPLACE   \n",
            "./src/x.py\n<<<<<<< SEARCH\nold\n=======\nnew\n>>>>>>> REPLACE",
        ] {
            let edits = sr(reply, &[]).unwrap_or_else(|e| panic!("{reply:?}: {e}"));
            assert_eq!(replace(&edits[0]), ("src/x.py", "old\n", "new\n"), "{reply:?}");
        }
    }

    #[test]
    fn fences_inside_both_sections_are_removed() {
        let reply = "src/x.py\n<<<<<<< SEARCH\n```python\nold\n```\n=======\n```python\nnew\n```\n>>>>>>> REPLACE\n";
        assert_eq!(replace(&sr(reply, &[]).unwrap()[0]), ("src/x.py", "old\n", "new\n"));
        // Only one side wrapped (and the other not empty): the fence is content.
        let reply = "doc.md\n<<<<<<< SEARCH\n```\ncode\n```\n=======\nprose\n>>>>>>> REPLACE\n";
        assert_eq!(replace(&sr(reply, &[]).unwrap()[0]).1, "```\ncode\n```\n");
    }

    #[test]
    fn missing_path_uses_the_only_target_but_never_guesses_among_several() {
        let reply = "Here you go:\n<<<<<<< SEARCH\nold\n=======\nnew\n>>>>>>> REPLACE\n";
        let edits = sr(reply, &[Target::file("src/x.py")]).unwrap();
        assert_eq!(edits[0].path, "src/x.py");
        let err = sr(reply, &[Target::file("a.py"), Target::file("b.py")]).unwrap_err();
        assert_eq!(
            err,
            EditError::Malformed {
                line: 2,
                message: "this SEARCH block has no file path; write the path alone on the line before <<<<<<< SEARCH".into()
            }
        );
    }

    #[test]
    fn paths_outside_the_targets_or_the_root_are_refused() {
        let err = sr(PLAIN, &[Target::file("src/y.py")]).unwrap_err();
        assert!(
            matches!(&err, EditError::PathNotAllowed { line: 1, path, .. } if path == "src/x.py"),
            "{err}"
        );
        assert!(err.to_string().contains("not one of the files you may edit (src/y.py)"), "{err}");
        let err = sr(&PLAIN.replace("src/x.py", "../x.py"), &[]).unwrap_err();
        assert!(matches!(err, EditError::BadPath { .. }), "{err}");
        let err = sr(&PLAIN.replace("src/x.py", "/etc/x.py"), &[]).unwrap_err();
        assert!(matches!(err, EditError::BadPath { reason: "it is absolute", .. }), "{err}");
    }

    #[test]
    fn malformed_blocks_name_the_line() {
        let cases = [
            ("a.py\n<<<<<<< SEARCH\nold\nnew\n", 2, "the ======= line is missing"),
            ("a.py\n<<<<<<< SEARCH\nold\n=======\nnew\n", 2, "the >>>>>>> REPLACE line is missing"),
            (
                "a.py\n<<<<<<< SEARCH\nold\n<<<<<<< SEARCH\n",
                4,
                "expected ======= to continue the block that starts at line 2",
            ),
            (
                "a.py\n<<<<<<< SEARCH\nx\n=======\ny\n=======\nz\n>>>>>>> REPLACE\n",
                6,
                "expected >>>>>>> REPLACE",
            ),
            ("text\n=======\n", 2, "outside a SEARCH/REPLACE block"),
            ("a.py\n>>>>>>> REPLACE\n", 2, "without a block before it"),
        ];
        for (reply, line, needle) in cases {
            match sr(reply, &[]) {
                Err(EditError::Malformed { line: l, message }) => {
                    assert_eq!(l, line, "{reply:?}: {message}");
                    assert!(message.contains(needle), "{reply:?}: {message}");
                }
                other => panic!("{reply:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn no_edit() {
        for reply in
            ["", "I think the bug is in line 3.", "a.py\n<<<< SEARCH\nx\n==== \ny\n>>>> REPLACE\n"]
        {
            let err = sr(reply, &[]).unwrap_err();
            assert!(matches!(err, EditError::NoEdit { .. }), "{reply:?}: {err}");
            assert!(err.to_string().contains("<<<<<<< SEARCH"), "{err}");
        }
    }

    #[test]
    fn whole_file_single_target_and_several_files() {
        let edits = parse(
            EditFormat::WholeFile,
            "Sure!\n```python\nx = 1\n\ny = 2\n```\nDone.",
            &[Target::file("a.py")],
        )
        .unwrap();
        assert_eq!(edits[0].path, "a.py");
        assert_eq!(edits[0].kind, EditKind::WholeFile { content: "x = 1\n\ny = 2\n".into() });

        let reply = "a.py\n```python\nx = 1\n```\n\nb/c.py\n````\ninner ``` fence\n```\n````\n";
        let edits = parse(EditFormat::WholeFile, reply, &[]).unwrap();
        let got: Vec<_> = edits.iter().map(|e| (e.path.as_str(), e.kind.clone())).collect();
        assert_eq!(
            got,
            vec![
                ("a.py", EditKind::WholeFile { content: "x = 1\n".into() }),
                ("b/c.py", EditKind::WholeFile { content: "inner ``` fence\n```\n".into() }),
            ]
        );
    }

    #[test]
    fn whole_file_quirks() {
        let target = [Target::file("a.py")];
        // A doubled fence around the block, and a dangling last fence.
        for reply in ["```\n```python\nx = 1\n```\n```\n", "```python a.py\nx = 1\n```\n```\n"] {
            let edits = parse(EditFormat::WholeFile, reply, &target)
                .unwrap_or_else(|e| panic!("{reply:?}: {e}"));
            assert_eq!(edits.len(), 1, "{reply:?}");
            assert_eq!(
                edits[0].kind,
                EditKind::WholeFile { content: "x = 1\n".into() },
                "{reply:?}"
            );
        }
        let err = parse(EditFormat::WholeFile, "a.py\n```\nx = 1\n", &target).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 2 of your reply: this fenced block is never closed; end it with a line of ```"
        );
        let err = parse(EditFormat::WholeFile, "x = 1\n", &target).unwrap_err();
        assert!(matches!(err, EditError::NoEdit { .. }));
        // Two blocks, one without a path: never guess which is the file.
        let err = parse(
            EditFormat::WholeFile,
            "a.py\n```\nx\n```\nRun:\n```sh\npython a.py\n```\n",
            &target,
        )
        .unwrap_err();
        assert!(matches!(err, EditError::Malformed { line: 6, .. }), "{err}");
    }

    #[test]
    fn region_reply() {
        let target = [Target::region("a.py", 3, 5)];
        let edits = parse(EditFormat::Region, "```py\n    return 2\n```\n", &target).unwrap();
        assert_eq!(
            edits[0].kind,
            EditKind::Region { start: 3, end: 5, content: "    return 2\n".into() }
        );
        // Line numbers copied from the context are not part of the code.
        let numbered = "```\n    3 def f():\n    4\n    5     return 2\n```\n";
        let edits = parse(EditFormat::Region, numbered, &target).unwrap();
        assert_eq!(
            edits[0].kind,
            EditKind::Region { start: 3, end: 5, content: "def f():\n\n    return 2\n".into() }
        );
        let barred = "```\n3 | def f():\n4 |     return 2\n```\n";
        let edits = parse(EditFormat::Region, barred, &target).unwrap();
        assert_eq!(
            edits[0].kind,
            EditKind::Region { start: 3, end: 5, content: "def f():\n    return 2\n".into() }
        );
        // Numbers that are code, or that do not count from the region's start, stay.
        for code in ["```\n3 + 4\n```\n", "```\n7 def f():\n8     pass\n```\n"] {
            let edits = parse(EditFormat::Region, code, &target).unwrap();
            let EditKind::Region { content, .. } = &edits[0].kind else { unreachable!() };
            assert_eq!(content, &code[4..code.len() - 4], "{code}");
        }
        let err = parse(EditFormat::Region, "```\na\n```\n```\nb\n```\n", &target).unwrap_err();
        assert!(err.to_string().contains("expected one fenced block with the new text of lines 3-5, found 2 (opening at lines 1, 4)"), "{err}");
        let err = parse(EditFormat::Region, "```\na\n```\n", &[Target::file("a.py")]).unwrap_err();
        assert!(matches!(err, EditError::Usage(_)));
    }
}
