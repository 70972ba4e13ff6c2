//! GBNF grammars (llama.cpp's grammar syntax, start rule `root`) that
//! constrain decoding to a well-formed reply in each format. Everything a
//! grammar accepts, [`parse`](crate::parse) accepts.

use crate::EditFormat;

/// The grammar for replies in `format` that may name only `paths` (when
/// `paths` is empty: any relative path of letters, digits, `_`, `-`, `.`
/// and `/` that ends in an extension). Paths should be valid ([`check_path`](crate::check_path))
/// and contain no whitespace.
pub fn grammar(format: EditFormat, paths: &[&str]) -> String {
    build(format, paths, None)
}

/// As [`grammar()`], with at most `max_lines` lines in each SEARCH, REPLACE
/// or fenced section and at most `max_blocks` blocks (files, for
/// `WholeFile`): the leash, enforced while decoding. It also makes the
/// model stop: an unbounded grammar lets a weak model add blocks until
/// `max_tokens`.
pub fn grammar_limited(
    format: EditFormat,
    paths: &[&str],
    max_lines: usize,
    max_blocks: usize,
) -> String {
    build(format, paths, Some((max_lines, max_blocks.max(1))))
}

fn build(format: EditFormat, paths: &[&str], limits: Option<(usize, usize)>) -> String {
    let many = limits.map_or("*".to_string(), |(n, _)| format!("{{0,{n}}}"));
    let more = limits.map_or("*".to_string(), |(_, b)| format!("{{0,{}}}", b - 1));
    let path = if paths.is_empty() {
        "path ::= (segment \"/\")* segment \".\" [a-zA-Z0-9]+\nsegment ::= [a-zA-Z0-9_] [a-zA-Z0-9_.-]*\n".to_string()
    } else {
        let alternatives: Vec<String> = paths.iter().map(|p| literal(p)).collect();
        format!("path ::= {}\n", alternatives.join(" | "))
    };
    let rest = "rest ::= [^\\n]* \"\\n\"\n";
    match format {
        EditFormat::SearchReplace => format!(
            "root ::= block (\"\\n\"? block){more}\n\
             block ::= path \"\\n<<<<<<< SEARCH\\n\" line{many} \"=======\\n\" line{many} \">>>>>>> REPLACE\\n\"\n\
             {path}{}{rest}",
            not_starting_with(&['<', '=', '>'], 5, "line")
        ),
        EditFormat::WholeFile => format!(
            "root ::= file (\"\\n\" file){more} \"\\n\"?\n\
             file ::= path \"\\n```\" lang \"\\n\" body \"```\"\n\
             {path}{}",
            fence_body(&many)
        ),
        EditFormat::Region => format!("root ::= \"```\" lang \"\\n\" body \"```\" \"\\n\"?\n{}", fence_body(&many)),
    }
}

fn fence_body(many: &str) -> String {
    format!(
        "lang ::= [a-z]*\nbody ::= bline{many}\n{}rest ::= [^\\n]* \"\\n\"\n",
        not_starting_with(&['`'], 3, "bline")
    )
}

/// Rules named `name` for one line (with its `\n`) that does not start
/// with `run` copies of any of `chars`.
fn not_starting_with(chars: &[char], run: usize, name: &str) -> String {
    let class = |cs: &[char]| cs.iter().map(|c| escape_class(*c)).collect::<String>();
    let mut out = format!("{name} ::= \"\\n\" | [^{}\\n] rest", class(chars));
    for (k, c) in chars.iter().enumerate() {
        out.push_str(&format!(" | {} {name}-{k}-1", literal(&c.to_string())));
    }
    out.push('\n');
    for (k, c) in chars.iter().enumerate() {
        for depth in 1..run {
            let more = if depth + 1 < run {
                format!(" | {} {name}-{k}-{}", literal(&c.to_string()), depth + 1)
            } else {
                String::new()
            };
            out.push_str(&format!(
                "{name}-{k}-{depth} ::= \"\\n\" | [^{}\\n] rest{more}\n",
                escape_class(*c)
            ));
        }
    }
    out
}

/// A GBNF string literal.
fn literal(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn escape_class(c: char) -> String {
    match c {
        ']' | '[' | '^' | '-' | '\\' => format!("\\{c}"),
        c => c.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_restricted_and_escaped() {
        let g = grammar(EditFormat::SearchReplace, &["src/a.py", "we\"ird.rs"]);
        assert!(g.contains("path ::= \"src/a.py\" | \"we\\\"ird.rs\"\n"), "{g}");
        assert!(g.starts_with("root ::= "));
        let free = grammar(EditFormat::WholeFile, &[]);
        assert!(free.contains("segment ::="), "{free}");
    }

    #[test]
    fn limited_grammars_bound_every_section() {
        let g = grammar_limited(EditFormat::SearchReplace, &["a.py"], 7, 2);
        assert!(g.starts_with("root ::= block (\"\\n\"? block){0,1}\n"), "{g}");
        assert!(g.contains("line{0,7} \"=======\\n\" line{0,7}"), "{g}");
        assert!(!g.contains("line*"), "{g}");
        for format in [EditFormat::WholeFile, EditFormat::Region] {
            let g = grammar_limited(format, &["a.py"], 3, 1);
            assert!(g.contains("body ::= bline{0,3}\n"), "{g}");
            assert!(grammar(format, &["a.py"]).contains("body ::= bline*\n"));
        }
    }

    #[test]
    fn marker_lines_are_excluded_from_content() {
        let g = not_starting_with(&['='], 3, "l");
        assert_eq!(
            g,
            "l ::= \"\\n\" | [^=\\n] rest | \"=\" l-0-1\nl-0-1 ::= \"\\n\" | [^=\\n] rest | \"=\" l-0-2\nl-0-2 ::= \"\\n\" | [^=\\n] rest\n"
        );
    }

    #[test]
    fn every_rule_used_is_defined() {
        for format in [EditFormat::SearchReplace, EditFormat::WholeFile, EditFormat::Region] {
            for paths in [&[][..], &["a.py"][..]] {
                let g = grammar(format, paths);
                let defined: Vec<&str> =
                    g.lines().filter_map(|l| l.split(" ::= ").next()).collect();
                for line in g.lines() {
                    let body = line.split_once(" ::= ").expect("one rule per line").1;
                    let mut in_literal = false;
                    let mut in_class = false;
                    let mut word = String::new();
                    let mut prev = ' ';
                    for c in body.chars().chain([' ']) {
                        match c {
                            '"' if !in_class && prev != '\\' => in_literal = !in_literal,
                            '[' if !in_literal && prev != '\\' => in_class = true,
                            ']' if in_class && prev != '\\' => in_class = false,
                            c if !in_literal
                                && !in_class
                                && (c.is_ascii_alphanumeric() || c == '-') =>
                            {
                                word.push(c)
                            }
                            _ => {
                                if !word.is_empty() && !in_literal && !in_class {
                                    assert!(
                                        defined.contains(&word.as_str()),
                                        "{word} undefined in\n{g}"
                                    );
                                }
                                word.clear();
                            }
                        }
                        prev = c;
                    }
                }
            }
        }
    }
}
