//! The autonomy slider: how much suit may do without asking.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One position of the slider. Each level is a strict superset of the one
/// before it (`Tab < Edit < File < Repo < Auto`).
#[derive(
    JsonSchema, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Autonomy {
    /// Complete code at a cursor (fill-in-the-middle); a person approves
    /// every insertion.
    Tab,
    /// Change a named region of one file; a person approves every hunk.
    Edit,
    /// Change one file; a person approves every hunk.
    File,
    /// Change several files over several steps and read anything in the
    /// repository; a person approves every step, hunk by hunk.
    Repo,
    /// Apply steps and run allowed commands alone; the project's checks
    /// verify each step and failures are rolled back. Only what the policy
    /// gate escalates goes to a person.
    Auto,
}

impl Autonomy {
    /// All levels, lowest first.
    pub const ALL: [Autonomy; 5] =
        [Autonomy::Tab, Autonomy::Edit, Autonomy::File, Autonomy::Repo, Autonomy::Auto];

    /// The level's name as typed on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Autonomy::Tab => "tab",
            Autonomy::Edit => "edit",
            Autonomy::File => "file",
            Autonomy::Repo => "repo",
            Autonomy::Auto => "auto",
        }
    }

    /// Whether a step may be applied without a person's approval (the
    /// policy gate can still escalate it).
    pub fn applies_alone(self) -> bool {
        self == Autonomy::Auto
    }

    /// Whether a step may touch more than one file.
    pub fn many_files(self) -> bool {
        self >= Autonomy::Repo
    }

    /// Whether the run may take more than one step.
    pub fn many_steps(self) -> bool {
        self >= Autonomy::Repo
    }

    /// Whether edits are limited to a named region of a file.
    pub fn region_only(self) -> bool {
        self <= Autonomy::Edit
    }

    /// Whether commands (checks) may run without asking.
    pub fn runs_commands(self) -> bool {
        self == Autonomy::Auto
    }

    /// The next level up, if any.
    pub fn up(self) -> Option<Autonomy> {
        Self::ALL.get(self as usize + 1).copied()
    }

    /// The next level down, if any.
    pub fn down(self) -> Option<Autonomy> {
        (self as usize).checked_sub(1).map(|i| Self::ALL[i])
    }
}

impl fmt::Display for Autonomy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An autonomy name that is not one of the five levels.
#[derive(Debug, thiserror::Error)]
#[error("unknown autonomy level `{0}`; use one of: tab, edit, file, repo, auto")]
pub struct UnknownAutonomy(String);

impl FromStr for Autonomy {
    type Err = UnknownAutonomy;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownAutonomy(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_ordered_supersets() {
        for pair in Autonomy::ALL.windows(2) {
            let (low, high) = (pair[0], pair[1]);
            assert!(low < high);
            // Anything the lower level may do, the higher may do too.
            assert!(!low.applies_alone() || high.applies_alone());
            assert!(!low.many_files() || high.many_files());
            assert!(!low.many_steps() || high.many_steps());
            assert!(!low.runs_commands() || high.runs_commands());
            assert!(low.region_only() || !high.region_only());
            assert_eq!(low.up(), Some(high));
            assert_eq!(high.down(), Some(low));
        }
        assert_eq!(Autonomy::Auto.up(), None);
        assert_eq!(Autonomy::Tab.down(), None);
    }

    #[test]
    fn parses_names_and_rejects_others() {
        for level in Autonomy::ALL {
            assert_eq!(level.as_str().parse::<Autonomy>().unwrap(), level);
        }
        assert_eq!("AUTO".parse::<Autonomy>().unwrap(), Autonomy::Auto);
        let err = "yolo".parse::<Autonomy>().unwrap_err().to_string();
        assert!(err.contains("yolo") && err.contains("tab, edit, file, repo, auto"));
    }

    #[test]
    fn only_auto_acts_alone() {
        for level in Autonomy::ALL {
            assert_eq!(level.applies_alone(), level == Autonomy::Auto);
            assert_eq!(level.runs_commands(), level == Autonomy::Auto);
        }
    }
}
