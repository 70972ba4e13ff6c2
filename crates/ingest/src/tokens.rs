//! Token counting with a named tokenizer.
//!
//! The BPE tables of tiktoken-rs take a few hundred milliseconds to build, so
//! each is built once per process, lazily, and shared by every thread.
//!
//! Counting is exact but faster than `encode_ordinary(text).len()`: text is
//! split into the tokenizer's pre-tokens with the same pattern compiled by the
//! `regex` crate (its one look-ahead, `\s+(?!\S)`, is applied by hand), and
//! each distinct pre-token is encoded by tiktoken once per thread and cached.
//! BPE never merges across pre-tokens, so the sum of the pieces' counts is the
//! count of the text; tests check it against tiktoken on random and real text.

use std::cell::RefCell;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use regex_automata::meta::Regex;
use regex_automata::{Anchored, Input};
use rustc_hash::FxHashMap;
use serde::Serialize;
use tiktoken_rs::CoreBPE;

/// tiktoken-rs's `O200K_BASE_PAT_STR` without the look-ahead alternative:
/// `\s+(?!\S)|\s+` becomes `\s+`, trimmed by [`split_lookahead`].
const O200K_SPLIT: &str = concat!(
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    r"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    r"|\p{N}{1,3}",
    r"| ?[^\s\p{L}\p{N}]+[\r\n/]*",
    r"|\s*[\r\n]+",
    r"|\s+",
);

/// tiktoken-rs's cl100k pattern (its possessive quantifiers behave as greedy
/// ones here, since nothing after them can force a backtrack) without the
/// look-ahead: `\s+(?!\S)|\s` becomes `\s+`.
const CL100K_SPLIT: &str = concat!(
    r"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*",
    r"|\s+$|\s*[\r\n]|\s+",
);

/// Distinct pre-tokens cached per thread before the cache is cleared.
const CACHE_LIMIT: usize = 1 << 20;

/// Per thread: the split regex (a clone, so each thread has its own search
/// cache) and the pre-token counts, for each tokenizer.
struct ThreadState {
    regex: [Option<Regex>; 2],
    /// Pre-tokens of up to 15 bytes, packed into an integer key (most of them).
    small: [FxHashMap<u128, u32>; 2],
    counts: [FxHashMap<Box<str>, u32>; 2],
}

/// Packs a pre-token of at most 15 bytes, with its length, into a key that
/// no other pre-token shares.
fn small_key(piece: &str) -> Option<u128> {
    let bytes = piece.as_bytes();
    if bytes.len() > 15 {
        return None;
    }
    let mut key = [0u8; 16];
    key[..bytes.len()].copy_from_slice(bytes);
    key[15] = bytes.len() as u8;
    Some(u128::from_le_bytes(key))
}

thread_local! {
    static STATE: RefCell<ThreadState> = RefCell::new(ThreadState {
        regex: [None, None],
        small: [FxHashMap::default(), FxHashMap::default()],
        counts: [FxHashMap::default(), FxHashMap::default()],
    });
}

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

    fn split_regex(self) -> &'static Regex {
        static O200K: OnceLock<Regex> = OnceLock::new();
        static CL100K: OnceLock<Regex> = OnceLock::new();
        let (cell, pattern) = match self {
            TokenizerKind::O200k => (&O200K, O200K_SPLIT),
            TokenizerKind::Cl100k => (&CL100K, CL100K_SPLIT),
        };
        cell.get_or_init(|| Regex::new(pattern).expect("split pattern is valid"))
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
        let _ = self.split_regex();
    }

    /// The number of tokens in `text`; special-token markers count as plain
    /// text. Equal to tiktoken's `encode_ordinary(text).len()`.
    pub fn count(self, text: &str) -> usize {
        if text.is_empty() {
            return 0;
        }
        let bpe = self.bpe();
        let slot = self as usize;
        STATE.with(|state| {
            let mut state = state.borrow_mut();
            let ThreadState { regex, small, counts } = &mut *state;
            let re = regex[slot].get_or_insert_with(|| self.split_regex().clone());
            let cache = &mut counts[slot];
            let small = &mut small[slot];
            if cache.len() > CACHE_LIMIT {
                cache.clear();
            }
            if small.len() > CACHE_LIMIT {
                small.clear();
            }
            let mut total = 0usize;
            let mut pos = 0;
            // Every character starts a pre-token, so each search is anchored
            // where the previous pre-token ended.
            while pos < text.len() {
                let input = Input::new(text).range(pos..).anchored(Anchored::Yes);
                let Some(m) = re.find(input) else {
                    // Unreachable for these patterns; count the rest exactly anyway.
                    total += bpe.encode_ordinary(&text[pos..]).len();
                    break;
                };
                let end = split_lookahead(text, m.start(), m.end());
                let piece = &text[m.start()..end];
                total += match small_key(piece) {
                    Some(key) => {
                        *small.entry(key).or_insert_with(|| bpe.encode_ordinary(piece).len() as u32)
                            as usize
                    }
                    None => match cache.get(piece) {
                        Some(&n) => n as usize,
                        None => {
                            let n = bpe.encode_ordinary(piece).len();
                            cache.insert(piece.into(), n as u32);
                            n
                        }
                    },
                };
                pos = end;
            }
            total
        })
    }

    /// tiktoken's own count, without the pre-token cache (the reference).
    #[cfg(test)]
    fn count_reference(self, text: &str) -> usize {
        self.bpe().encode_ordinary(text).len()
    }
}

/// Applies the look-ahead `\s+(?!\S)`: a run of whitespace without a line
/// break, followed by a non-space, gives its last character to the next
/// pre-token. Returns the end of the pre-token that starts at `start`.
fn split_lookahead(text: &str, start: usize, end: usize) -> usize {
    let piece = &text[start..end];
    let mut chars = piece.chars();
    let Some(last) = chars.next_back() else { return end };
    if !last.is_whitespace() || last == '\n' || last == '\r' || chars.as_str().is_empty() {
        return end;
    }
    if !piece.chars().all(char::is_whitespace) {
        return end;
    }
    match text[end..].chars().next() {
        Some(next) if !next.is_whitespace() => end - last.len_utf8(),
        _ => end,
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

    /// Text that exercises every pre-token rule: contractions in both cases,
    /// letters of every category, long digit runs, punctuation with line
    /// breaks and slashes, whitespace runs of every shape, and non-ASCII space.
    fn tricky() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let atoms = prop::sample::select(vec![
            " ",
            "  ",
            "   ",
            "\t",
            "\n",
            "\r\n",
            "\n\n",
            " \n ",
            "\u{3000}",
            "\u{a0}",
            "\u{2028}",
            "a",
            "Z",
            "hello",
            "World",
            "HTTPServer",
            "camelCase",
            "'s",
            "'S",
            "'ll",
            "'RE",
            "'d",
            "\u{17f}",
            "ß",
            "é",
            "Ω",
            "ǅ",
            "ʰ",
            "日本",
            "e\u{301}",
            "ﬁ",
            "K",
            "\u{212a}",
            "123",
            "4567890",
            "٣",
            "½",
            "//",
            "/",
            "{",
            "}",
            "();",
            "->",
            "::",
            ".",
            ",",
            "\"",
            "'",
            "`",
            "#",
            "!=",
            "<=>",
            "😀",
            "\u{200d}",
            "\u{0}",
            "\u{7f}",
            "_",
            "-",
            "=",
            "fn",
            " x",
            " 42",
        ]);
        prop::collection::vec(atoms, 0..40).prop_map(|v| v.concat())
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config { cases: 2000, failure_persistence: None, ..Default::default() })]
        #[test]
        fn fast_count_equals_tiktoken_on_tricky_text(text in tricky()) {
            for kind in [TokenizerKind::O200k, TokenizerKind::Cl100k] {
                proptest::prop_assert_eq!(kind.count(&text), kind.count_reference(&text), "{:?} {:?}", kind, text);
            }
        }

        #[test]
        fn fast_count_equals_tiktoken_on_any_string(text in "\\PC*|[ \t\n\r\u{a0}\u{3000}a-zA-Z0-9'/.]{0,60}") {
            for kind in [TokenizerKind::O200k, TokenizerKind::Cl100k] {
                proptest::prop_assert_eq!(kind.count(&text), kind.count_reference(&text), "{:?} {:?}", kind, text);
            }
        }
    }

    #[test]
    fn fast_count_equals_tiktoken_on_this_crates_sources() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut checked = 0;
        for sub in ["src", "tests"] {
            for entry in std::fs::read_dir(dir.join(sub)).unwrap() {
                let path = entry.unwrap().path();
                if let Ok(text) = std::fs::read_to_string(&path) {
                    for kind in [TokenizerKind::O200k, TokenizerKind::Cl100k] {
                        assert_eq!(
                            kind.count(&text),
                            kind.count_reference(&text),
                            "{kind:?} {}",
                            path.display()
                        );
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked >= 10);
    }

    #[test]
    fn parses_names() {
        assert_eq!("o200k".parse::<TokenizerKind>().unwrap(), TokenizerKind::O200k);
        assert_eq!("CL100K_BASE".parse::<TokenizerKind>().unwrap(), TokenizerKind::Cl100k);
        let err = "gpt2".parse::<TokenizerKind>().unwrap_err();
        assert!(err.contains("gpt2") && err.contains("o200k"), "{err}");
    }
}
