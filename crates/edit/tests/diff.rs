//! Unified diffs and accepting a subset of hunks.

use proptest::prelude::*;
use suit_edit::{changed_lines, FileChange, FileDiff};

fn numbered(n: usize) -> String {
    (1..=n).map(|i| format!("line {i}\n")).collect()
}

#[test]
fn hunks_render_and_apply_one_by_one() {
    let old = numbered(30);
    let new = old
        .replace("line 3\n", "line three\n")
        .replace("line 25\n", "")
        .replace("line 30\n", "line 30\nline 31\n");
    let change =
        FileChange::Modified { path: "f.txt".into(), before: old.clone(), after: new.clone() };
    let diff = change.diff(3);
    assert_eq!(diff.hunks().len(), 2, "{}", diff.unified());
    assert_eq!(
        diff.hunks()[0].text(),
        "@@ -1,6 +1,6 @@\n line 1\n line 2\n-line 3\n+line three\n line 4\n line 5\n line 6\n"
    );
    assert_eq!(
        diff.hunks()[1].text(),
        "@@ -22,9 +22,9 @@\n line 22\n line 23\n line 24\n-line 25\n line 26\n line 27\n line 28\n line 29\n line 30\n+line 31\n"
    );
    assert!(diff.unified().starts_with("--- a/f.txt\n+++ b/f.txt\n@@ -1,6"));
    assert_eq!((diff.hunks()[1].added(), diff.hunks()[1].removed()), (1, 1));
    assert_eq!(changed_lines(&change), 4);

    assert_eq!(diff.apply_hunks(&[0, 1]), new);
    assert_eq!(diff.apply_hunks(&[]), old);
    assert_eq!(diff.apply_hunks(&[0]), old.replace("line 3\n", "line three\n"));
    assert_eq!(
        diff.apply_hunks(&[1]),
        old.replace("line 25\n", "").replace("line 30\n", "line 30\nline 31\n")
    );
    // Less context splits the second hunk in two.
    assert_eq!(change.diff(1).hunks().len(), 3);
}

#[test]
fn created_deleted_and_missing_final_newline() {
    let created = FileChange::Created { path: "n.py".into(), after: "a\nb".into() };
    assert_eq!(
        created.diff(3).unified(),
        "--- /dev/null\n+++ b/n.py\n@@ -0,0 +1,2 @@\n+a\n+b\n\\ No newline at end of file\n"
    );
    let deleted = created.reverse();
    assert_eq!(
        deleted.diff(3).unified(),
        "--- a/n.py\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-a\n-b\n\\ No newline at end of file\n"
    );
    assert_eq!(FileDiff::new("same", Some("x\n"), Some("x\n"), 3).unified(), "");
}

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(vec!["a", "b", "c", "d", "", "  e"]), 0..40)
        .prop_map(|lines| lines.iter().map(|l| format!("{l}\n")).collect())
}

proptest! {
    #[test]
    fn any_subset_of_hunks_applies(old in text(), new in text(), pick in prop::collection::vec(any::<bool>(), 40), context in 0usize..4) {
        let diff = FileDiff::new("f", Some(&old), Some(&new), context);
        let all: Vec<usize> = (0..diff.hunks().len()).collect();
        prop_assert_eq!(diff.apply_hunks(&all), new.clone());
        prop_assert_eq!(diff.apply_hunks(&[]), old.clone());
        let chosen: Vec<usize> = all.iter().copied().filter(|&k| pick[k % pick.len()]).collect();
        let partial = diff.apply_hunks(&chosen);
        let cost = |ks: &mut dyn Iterator<Item = usize>| ks.map(|k| diff.hunks()[k].added() + diff.hunks()[k].removed()).sum::<usize>();
        // The partial text is the old one plus exactly the chosen changes:
        // it is no further from old than they are, nor from new than the rest.
        let from_old = changed_lines(&FileChange::Modified { path: "f".into(), before: old.clone(), after: partial.clone() });
        let to_new = changed_lines(&FileChange::Modified { path: "f".into(), before: partial.clone(), after: new.clone() });
        prop_assert!(from_old <= cost(&mut chosen.iter().copied()));
        prop_assert!(to_new <= cost(&mut all.iter().copied().filter(|k| !chosen.contains(k))));
        // Applying the remaining hunks of a fresh diff finishes the job.
        let rest = FileDiff::new("f", Some(&partial), Some(&new), context);
        let every: Vec<usize> = (0..rest.hunks().len()).collect();
        prop_assert_eq!(rest.apply_hunks(&every), new);
    }
}
