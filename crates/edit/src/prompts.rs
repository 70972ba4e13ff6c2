//! The instructions that teach each edit format to the model, as named
//! templates. `{path}`, `{start}`, `{end}` and `{error}` are filled in by
//! [`render`]; the examples use exactly the syntax [`parse`](crate::parse)
//! and [`grammar`](crate::grammar()) accept.

use crate::{EditFormat, Target};

/// Teaches [`EditFormat::WholeFile`].
pub const WHOLE_FILE: &str = "\
Answer with the complete new content of the file. Write the file path alone on one line, \
then the whole file in one fenced code block. Keep every line that should stay; do not \
shorten the file with comments like \"rest unchanged\". Write nothing after the block.

Example:
{path}
```
def add(a, b):
    return a + b
```
";

/// Teaches [`EditFormat::Region`].
pub const REGION: &str = "\
Answer with the new text of lines {start}-{end} of {path} only, in one fenced code block. \
The block replaces exactly those lines: keep their indentation, and do not repeat the lines \
before or after them. Write nothing after the block.

Example:
```
    return a + b
```
";

/// Teaches [`EditFormat::SearchReplace`].
pub const SEARCH_REPLACE: &str = "\
Answer with one or more SEARCH/REPLACE blocks. Each block is: the file path alone on one \
line, a line `<<<<<<< SEARCH`, the exact lines to find (copied from the file, with their \
indentation), a line `=======`, the new lines, and a line `>>>>>>> REPLACE`. The SEARCH \
lines must match exactly one place in the file: include a few surrounding lines if needed. \
Keep blocks small. To create a new file, leave the SEARCH part empty.

Example:
{path}
<<<<<<< SEARCH
def add(a, b):
    return a - b
=======
def add(a, b):
    return a + b
>>>>>>> REPLACE
";

/// Sent back when a reply could not be applied: `{error}` is the
/// [`EditError`](crate::EditError) message.
pub const FEEDBACK: &str = "\
Your edit was not applied: {error}
Nothing was changed. Answer again with the complete edit in the same format.
";

/// The template for `format`.
pub fn template(format: EditFormat) -> &'static str {
    match format {
        EditFormat::WholeFile => WHOLE_FILE,
        EditFormat::Region => REGION,
        EditFormat::SearchReplace => SEARCH_REPLACE,
    }
}

/// The instructions for `format`, filled in for `target` (its line range
/// is used by [`EditFormat::Region`]).
pub fn render(format: EditFormat, target: &Target) -> String {
    let (start, end) = target.lines.unwrap_or((1, 1));
    template(format)
        .replace("{path}", &target.path)
        .replace("{start}", &start.to_string())
        .replace("{end}", &end.to_string())
}

/// The feedback message for a failed reply.
pub fn feedback(error: &crate::EditError) -> String {
    FEEDBACK.replace("{error}", &error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{apply, parse};

    /// The part of a rendered template after "Example:".
    fn example(text: &str) -> &str {
        text.split_once("Example:\n").expect("every format template has an example").1
    }

    #[test]
    fn examples_parse_and_apply_in_their_own_format() {
        let before = "def add(a, b):\n    return a - b\n";
        let read = |_: &std::path::Path| Some(before.to_string());
        for (format, target) in [
            (EditFormat::WholeFile, Target::file("src/calc.py")),
            (EditFormat::Region, Target::region("src/calc.py", 2, 2)),
            (EditFormat::SearchReplace, Target::file("src/calc.py")),
        ] {
            let text = render(format, &target);
            assert!(!text.contains('{'), "unfilled placeholder in {format:?}: {text}");
            let edits = parse(format, example(&text), std::slice::from_ref(&target))
                .unwrap_or_else(|e| panic!("{format:?} example does not parse: {e}\n{text}"));
            assert_eq!(edits.len(), 1);
            assert_eq!(edits[0].path, "src/calc.py");
            let changes = apply(&edits, &read).unwrap();
            assert_eq!(
                changes[0].after(),
                Some("def add(a, b):\n    return a + b\n"),
                "{format:?}"
            );
        }
    }

    #[test]
    fn region_template_names_the_range() {
        let text = render(EditFormat::Region, &Target::region("lib/x.rs", 10, 24));
        assert!(
            text.starts_with("Answer with the new text of lines 10-24 of lib/x.rs only"),
            "{text}"
        );
    }

    #[test]
    fn feedback_carries_the_error() {
        let err = crate::EditError::NoEdit { hint: "Write a block.".into() };
        assert_eq!(
            feedback(&err),
            "Your edit was not applied: your reply contains no edit. Write a block.\nNothing was changed. Answer again with the complete edit in the same format.\n"
        );
    }
}
