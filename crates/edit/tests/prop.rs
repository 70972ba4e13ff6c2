//! Property: a SEARCH/REPLACE block built from a random file (a random
//! unique region replaced) reproduces the expected file.

use std::path::Path;

use proptest::prelude::*;
use suit_edit::{apply, parse, EditFormat};

fn line() -> impl Strategy<Value = String> {
    (prop::sample::select(vec!["", "    ", "\t", "  "]), "[a-z0-9 =(){}:,.+*\"'#-]{0,12}")
        .prop_map(|(indent, body)| format!("{indent}{body}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    #[test]
    fn replacing_a_unique_region_reproduces_the_expected_file(
        lines in prop::collection::vec(line(), 1..30),
        start in any::<prop::sample::Index>(),
        len in 1usize..6,
        replacement in prop::collection::vec(line(), 0..6),
        crlf in any::<bool>(),
        final_newline in any::<bool>(),
    ) {
        let start = start.index(lines.len());
        let end = (start + len).min(lines.len());
        let region = &lines[start..end];
        prop_assume!(region.iter().any(|l| !l.trim().is_empty()));
        // The region must be unique (exact pass), and its lines must not be
        // read as markers or fences.
        let windows = lines.windows(region.len()).filter(|w| *w == region).count();
        prop_assume!(windows == 1);
        prop_assume!(lines.iter().chain(&replacement).all(|l| !l.trim_start().starts_with("```") && !l.trim_start().starts_with("=====")));
        // A file's text must say what its lines are: an empty last line needs
        // the final newline, and CRLF needs at least one line end.
        prop_assume!(final_newline || !lines[lines.len() - 1].is_empty());
        prop_assume!(!crlf || lines.len() > 1 || final_newline);

        let eol = if crlf { "\r\n" } else { "\n" };
        let render = |ls: &[String]| {
            let mut s = ls.join(eol);
            if final_newline && !ls.is_empty() { s.push_str(eol); }
            s
        };
        let file = render(&lines);
        let expected_lines: Vec<String> =
            lines[..start].iter().chain(&replacement).chain(&lines[end..]).cloned().collect();
        let expected = render(&expected_lines);

        let reply = format!(
            "src/f.txt\n<<<<<<< SEARCH\n{}=======\n{}>>>>>>> REPLACE\n",
            region.iter().map(|l| format!("{l}\n")).collect::<String>(),
            replacement.iter().map(|l| format!("{l}\n")).collect::<String>(),
        );
        let edits = parse(EditFormat::SearchReplace, &reply, &[]).unwrap();
        let changes = apply(&edits, &|p: &Path| (p == Path::new("src/f.txt")).then(|| file.clone())).unwrap();
        let after = changes.first().and_then(|c| c.after()).map(str::to_string).unwrap_or(file.clone());
        prop_assert_eq!(after, expected);
    }
}
