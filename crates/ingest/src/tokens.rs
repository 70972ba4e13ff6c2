//! Token counting with a named tokenizer.
//!
//! The BPE tables of tiktoken-rs take a few hundred milliseconds to build, so
//! each is built once per process, lazily, and shared by every thread.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use tiktoken_rs::CoreBPE;

/// A tokenizer that `ingest` can count with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenizerKind {
    /// OpenAI `o200k_base` (GPT-4o, o-series).
    #[default]
    O200k,
    /// OpenAI `cl100k_base` (GPT-4, GPT-3.5).
    Cl100k,
}

impl TokenizerKind {
    /// The tokenizer's canonical name, as printed in digests.
    pub fn name(self) -> &'static str {
        match self {
            TokenizerKind::O200k => "o200k_base",
            TokenizerKind::Cl100k => "cl100k_base",
        }
    }

    fn bpe(self) -> &'static CoreBPE {
        match self {
            TokenizerKind::O200k => tiktoken_rs::o200k_base_singleton(),
            TokenizerKind::Cl100k => tiktoken_rs::cl100k_base_singleton(),
        }
    }

    /// Builds the tokenizer's tables now (they are otherwise built on first use).
    ///
    /// Call it on a background thread to overlap the build with other work.
    pub fn warm_up(self) {
        let _ = self.bpe();
    }

    /// The number of tokens in `text`; special-token markers count as plain text.
    pub fn count(self, text: &str) -> usize {
        if text.is_empty() {
            return 0;
        }
        self.bpe().encode_ordinary(text).len()
    }
}

impl fmt::Display for TokenizerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for TokenizerKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "o200k" | "o200k_base" => Ok(TokenizerKind::O200k),
            "cl100k" | "cl100k_base" => Ok(TokenizerKind::Cl100k),
            other => Err(format!("unknown tokenizer {other:?}; choose o200k or cl100k")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_differ_by_tokenizer_and_are_positive() {
        let text = "fn main() { println!(\"hello, world\"); }\n";
        let a = TokenizerKind::O200k.count(text);
        let b = TokenizerKind::Cl100k.count(text);
        assert!(a > 5 && b > 5, "{a} {b}");
        assert_eq!(TokenizerKind::O200k.count(""), 0);
        // Known value: "hello world" is two tokens in both encodings.
        assert_eq!(TokenizerKind::O200k.count("hello world"), 2);
        assert_eq!(TokenizerKind::Cl100k.count("hello world"), 2);
    }

    #[test]
    fn parses_names() {
        assert_eq!("o200k".parse::<TokenizerKind>().unwrap(), TokenizerKind::O200k);
        assert_eq!("CL100K_BASE".parse::<TokenizerKind>().unwrap(), TokenizerKind::Cl100k);
        let err = "gpt2".parse::<TokenizerKind>().unwrap_err();
        assert!(err.contains("gpt2") && err.contains("o200k"), "{err}");
    }
}
