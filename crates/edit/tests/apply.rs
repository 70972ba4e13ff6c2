//! Replies parsed and applied against real files in a temporary directory.

use std::fs;
use std::path::Path;

use suit_edit::{
    apply, changed_lines, parse, Closest, Edit, EditError, EditFormat, EditKind, FileChange, Target,
};

/// A project on disk; `read` is the closure `apply` gets.
struct Project(tempfile::TempDir);

impl Project {
    fn new(files: &[(&str, &str)]) -> Project {
        let dir = tempfile::tempdir().unwrap();
        for (path, content) in files {
            let full = dir.path().join(path);
            fs::create_dir_all(full.parent().unwrap()).unwrap();
            fs::write(full, content).unwrap();
        }
        Project(dir)
    }

    fn apply(
        &self,
        format: EditFormat,
        reply: &str,
        targets: &[Target],
    ) -> Result<Vec<FileChange>, EditError> {
        let edits = parse(format, reply, targets)?;
        let root = self.0.path().to_path_buf();
        apply(&edits, &move |p: &Path| fs::read_to_string(root.join(p)).ok())
    }

    fn sr(&self, reply: &str) -> Result<Vec<FileChange>, EditError> {
        self.apply(EditFormat::SearchReplace, reply, &[])
    }
}

fn block(path: &str, search: &str, replace: &str) -> String {
    format!("{path}\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n")
}

const CALC: &str = "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n";

#[test]
fn exact_match_modifies_the_file() {
    let p = Project::new(&[("calc.py", CALC)]);
    let changes = p.sr(&block("calc.py", "    return a - b\n", "    return a + b\n")).unwrap();
    assert_eq!(
        changes,
        vec![FileChange::Modified {
            path: "calc.py".into(),
            before: CALC.into(),
            after: CALC.replace("a - b", "a + b")
        }]
    );
    assert_eq!(changed_lines(&changes[0]), 2);
    // Nothing was written.
    assert_eq!(fs::read_to_string(p.0.path().join("calc.py")).unwrap(), CALC);
}

#[test]
fn indentation_pass_reindents_the_replacement() {
    let file =
        "class A:\n    def f(self):\n        if x:\n            return 1\n        return 2\n";
    let p = Project::new(&[("a.py", file)]);
    // The model dropped the method's indentation in both sections.
    let reply = block(
        "a.py",
        "if x:\n    return 1\n",
        "if x:\n    log()\n    return 1\n\nelse:\n    pass\n",
    );
    let changes = p.sr(&reply).unwrap();
    assert_eq!(
        changes[0].after().unwrap(),
        "class A:\n    def f(self):\n        if x:\n            log()\n            return 1\n\n        else:\n            pass\n        return 2\n"
    );
}

#[test]
fn trailing_whitespace_and_unicode_passes() {
    let p = Project::new(&[("a.py", "x = 1   \nmsg = \u{201C}hi\u{201D} \u{2014} ok\n")]);
    let changes = p.sr(&block("a.py", "x = 1\n", "x = 2\n")).unwrap();
    assert_eq!(changes[0].after().unwrap(), "x = 2\nmsg = \u{201C}hi\u{201D} \u{2014} ok\n");
    let changes = p.sr(&block("a.py", "msg = \"hi\" - ok\n", "msg = \"bye\"\n")).unwrap();
    assert_eq!(changes[0].after().unwrap(), "x = 1   \nmsg = \"bye\"\n");
}

#[test]
fn ambiguous_match_is_refused_with_line_numbers() {
    let p = Project::new(&[("a.py", "def f():\n    pass\n\ndef g():\n    pass\n")]);
    let err = p.sr(&block("a.py", "    pass\n", "    return 1\n")).unwrap_err();
    assert_eq!(err, EditError::Ambiguous { path: "a.py".into(), block: 1, lines: vec![2, 5] });
    assert_eq!(
        err.to_string(),
        "SEARCH block 1 for a.py matches 2 places (lines 2, 5); add surrounding lines to SEARCH so it matches exactly one"
    );
}

#[test]
fn no_match_reports_the_closest_lines_and_nothing_is_half_applied() {
    let p = Project::new(&[("a.py", CALC), ("b.py", "y = 1\n")]);
    let reply = format!(
        "{}{}",
        block("b.py", "y = 1\n", "y = 2\n"),
        block("a.py", "def mul(a, c):\n    return a * c\n", "def mul(a, b):\n    return b * a\n")
    );
    let err = p.sr(&reply).unwrap_err();
    let EditError::NoMatch { ref path, block, closest: Some(Closest { start, end, ref text, .. }) } =
        err
    else {
        panic!("{err:?}");
    };
    assert_eq!((path.as_str(), block, start, end), ("a.py", 2, 5, 6));
    assert_eq!(text, "def mul(a, b):\n    return a * b");
    assert!(
        err.to_string().starts_with("SEARCH block 2 for a.py did not match; the closest lines are 5\u{2013}6:\ndef mul(a, b):\n"),
        "{err}"
    );
}

#[test]
fn crlf_files_stay_crlf() {
    let p = Project::new(&[("w.txt", "one\r\ntwo\r\nthree\r\n")]);
    let changes = p.sr(&block("w.txt", "two\n", "2\nzwei\n")).unwrap();
    assert_eq!(changes[0].after().unwrap(), "one\r\n2\r\nzwei\r\nthree\r\n");
    let changes = p.apply(EditFormat::WholeFile, "w.txt\n```\na\nb\n```\n", &[]).unwrap();
    assert_eq!(changes[0].after().unwrap(), "a\r\nb\r\n");
    // A file with mixed line ends: the CRs stay where they were.
    let p = Project::new(&[("m.txt", "a\r\nb\nc\n")]);
    let changes = p.sr(&block("m.txt", "a\n", "A\n")).unwrap();
    assert_eq!(changes[0].after().unwrap(), "A\nb\nc\n");
}

#[test]
fn files_without_a_final_newline_keep_it_that_way() {
    let p = Project::new(&[("n.txt", "a\nb")]);
    let changes = p.sr(&block("n.txt", "b\n", "c\nd\n")).unwrap();
    assert_eq!(changes[0].after().unwrap(), "a\nc\nd");
    let changes =
        p.apply(EditFormat::WholeFile, "```\nx\n```\n", &[Target::file("n.txt")]).unwrap();
    assert_eq!(changes[0].after().unwrap(), "x");
    let changes =
        p.apply(EditFormat::Region, "```\nB\n```\n", &[Target::region("n.txt", 2, 2)]).unwrap();
    assert_eq!(changes[0].after().unwrap(), "a\nB");
}

#[test]
fn empty_search_creates_a_file_but_never_overwrites_one() {
    let p = Project::new(&[("old.py", "x = 1\n"), ("empty.py", "")]);
    let changes = p.sr(&block("pkg/new.py", "", "def f():\n    return 1\n")).unwrap();
    assert_eq!(
        changes,
        vec![FileChange::Created {
            path: "pkg/new.py".into(),
            after: "def f():\n    return 1\n".into()
        }]
    );
    assert_eq!(changed_lines(&changes[0]), 2);
    // An existing empty file may be filled the same way.
    let changes = p.sr(&block("empty.py", "", "y = 2\n")).unwrap();
    assert_eq!(changes[0].after(), Some("y = 2\n"));
    assert_eq!(changes[0].before(), Some(""));
    let err = p.sr(&block("old.py", "", "y = 2\n")).unwrap_err();
    assert_eq!(err, EditError::FileExists { path: "old.py".into(), block: 1 });
    let err = p.sr(&block("nope.py", "x\n", "y\n")).unwrap_err();
    assert_eq!(err, EditError::MissingFile { path: "nope.py".into(), block: 1 });
}

#[test]
fn removing_a_whole_files_content_and_undoing_it() {
    let p = Project::new(&[("a.py", "x = 1\ny = 2\n")]);
    let changes = p.sr(&block("a.py", "x = 1\ny = 2\n", "")).unwrap();
    assert_eq!(changes[0].after(), Some(""));
    assert_eq!(changed_lines(&changes[0]), 2);
    assert_eq!(changes[0].reverse().after(), Some("x = 1\ny = 2\n"));
    let created = FileChange::Created { path: "n.py".into(), after: "z\n".into() };
    assert_eq!(
        created.reverse(),
        FileChange::Deleted { path: "n.py".into(), before: "z\n".into() }
    );
    assert_eq!(changed_lines(&created.reverse()), 1);
}

#[test]
fn later_blocks_see_earlier_ones_and_no_op_edits_change_nothing() {
    let p = Project::new(&[("a.py", "a\nb\nc\n")]);
    let reply = format!("{}{}", block("a.py", "a\n", "A\n"), block("a.py", "A\nb\n", "A\nB\n"));
    let changes = p.sr(&reply).unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].after(), Some("A\nB\nc\n"));
    assert_eq!(p.sr(&block("a.py", "b\n", "b\n")).unwrap(), vec![]);
}

#[test]
fn region_replacement_and_bounds() {
    let p = Project::new(&[("a.py", CALC)]);
    let changes = p
        .apply(
            EditFormat::Region,
            "```python\n    return a + b\n```",
            &[Target::region("a.py", 2, 2)],
        )
        .unwrap();
    assert_eq!(changes[0].after().unwrap(), CALC.replace("a - b", "a + b"));
    let err =
        p.apply(EditFormat::Region, "```\nx\n```\n", &[Target::region("a.py", 5, 9)]).unwrap_err();
    assert_eq!(err.to_string(), "the region 5-9 of a.py is outside the file, which has 6 lines");
}

#[test]
fn a_region_written_at_another_indentation_is_shifted_back() {
    let file = "class Calc:\n    def add(self, a, b):\n        return a - b\n";
    let p = Project::new(&[("c.py", file)]);
    // The method written as if at the top level, and with the context's line numbers.
    for reply in [
        "```\ndef add(self, a, b):\n    return a + b\n```\n",
        "```\n    2 |     def add(self, a, b):\n    3 |         return a + b\n```\n",
    ] {
        let changes = p.apply(EditFormat::Region, reply, &[Target::region("c.py", 2, 3)]).unwrap();
        assert_eq!(changes[0].after().unwrap(), file.replace("a - b", "a + b"), "{reply}");
    }
    // A first line that is not the region's keeps the reply's indentation.
    let changes = p
        .apply(
            EditFormat::Region,
            "```\n    @staticmethod\n    def add(a, b):\n        return a + b\n```\n",
            &[Target::region("c.py", 2, 3)],
        )
        .unwrap();
    assert!(changes[0].after().unwrap().contains("\n    @staticmethod\n    def add(a, b):\n"));
}

#[test]
fn apply_refuses_escaping_paths_even_from_hand_made_edits() {
    for path in ["../outside.py", "/abs.py", ""] {
        let edit = Edit {
            path: path.into(),
            reply_line: 1,
            kind: EditKind::WholeFile { content: "x\n".into() },
        };
        let err = apply(&[edit], &|_| panic!("must not read {path:?}")).unwrap_err();
        assert!(matches!(err, EditError::BadPath { .. }), "{path:?}: {err}");
    }
}
