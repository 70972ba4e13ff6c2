//! How the loop asks again after a try that was not kept: each retry
//! changes something (the sampling, the failure named, the edit format, the
//! region), so it never sends the same request twice and gives up only when
//! the ladder is climbed.

use suit_edit::EditFormat;

/// One way of asking for a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strategy {
    /// The planned edit format; the first candidate greedy, the others
    /// sampled.
    First,
    /// The closest candidate of the try before, shown as the file it made,
    /// with the failures it causes, to be fixed: a small model that wrote
    /// the right change with a slip (a name it never defined, a missing
    /// import) fixes the slip far more often than it writes it all anew.
    Repair,
    /// The failing tests' assertions named at the top of the request, and
    /// the change tried before; sampled a little hotter.
    NameTheFailure,
    /// The other edit format: SEARCH/REPLACE blocks instead of the whole
    /// file, or the whole file instead of blocks.
    OtherFormat,
    /// The step narrowed to the function a failing test calls.
    Narrow,
    /// Every candidate sampled hot, with fresh seeds.
    Hotter,
}

impl Strategy {
    /// The order the loop tries them in. Narrowing comes before the other
    /// format: a small model asked for SEARCH/REPLACE blocks of a short file
    /// tends to copy the whole file into SEARCH and REPLACE alike, again and
    /// again, which costs minutes and changes nothing.
    pub(crate) const LADDER: [Strategy; 6] = [
        Strategy::First,
        Strategy::Repair,
        Strategy::NameTheFailure,
        Strategy::Narrow,
        Strategy::OtherFormat,
        Strategy::Hotter,
    ];

    /// A short name for events and the stop message.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Strategy::First => "first try",
            Strategy::Repair => "repair of the closest try",
            Strategy::NameTheFailure => "failing assertion named",
            Strategy::OtherFormat => "other edit format",
            Strategy::Narrow => "narrowed to the function under test",
            Strategy::Hotter => "hotter sampling",
        }
    }

    /// Sampling temperature of candidate `i`: each candidate hotter than
    /// the one before. The first is greedy when the request itself is new
    /// (first try, repair, other format, narrowed); a retry that only adds facts
    /// samples it too, so even a single candidate changes.
    pub(crate) fn temperature(self, i: usize) -> f32 {
        const STEPS: [f32; 4] = [0.0, 0.5, 0.8, 1.0];
        let base = match self {
            Strategy::Hotter => 0.7,
            Strategy::NameTheFailure => 0.3,
            _ => 0.0,
        };
        let t = STEPS.get(i).copied().unwrap_or_else(|| 1.0 + 0.1 * (i - 3) as f32);
        (base + t).min(1.5)
    }

    /// The edit format under this strategy, given the planned one.
    pub(crate) fn format(self, planned: EditFormat) -> EditFormat {
        match (self, planned) {
            (Strategy::OtherFormat, EditFormat::WholeFile) => EditFormat::SearchReplace,
            (Strategy::OtherFormat, EditFormat::SearchReplace) => EditFormat::WholeFile,
            _ => planned,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temperatures_differ_per_candidate_and_per_strategy() {
        for s in Strategy::LADDER {
            let ts: Vec<f32> = (0..6).map(|i| s.temperature(i)).collect();
            for pair in ts.windows(2) {
                assert!(pair[0] < pair[1] || pair[1] == 1.5, "{s:?}: {ts:?}");
            }
        }
        assert_eq!(Strategy::First.temperature(0), 0.0);
        assert_eq!(Strategy::OtherFormat.temperature(0), 0.0);
        assert!(Strategy::NameTheFailure.temperature(0) > 0.0);
        assert!(Strategy::Hotter.temperature(0) > 0.5);
        assert_ne!(Strategy::First.temperature(1), Strategy::NameTheFailure.temperature(1));
    }

    #[test]
    fn the_other_format_swaps_whole_files_and_blocks_but_keeps_regions() {
        let s = Strategy::OtherFormat;
        assert_eq!(s.format(EditFormat::WholeFile), EditFormat::SearchReplace);
        assert_eq!(s.format(EditFormat::SearchReplace), EditFormat::WholeFile);
        assert_eq!(s.format(EditFormat::Region), EditFormat::Region);
        assert_eq!(Strategy::First.format(EditFormat::WholeFile), EditFormat::WholeFile);
    }
}
