//! Token counting with a named tokenizer.
//!
//! Counting is exact: equal to tiktoken's `encode_ordinary(text).len()`. It
//! is done in two steps, as tiktoken does it:
//!
//! 1. Split the text into the tokenizer's pre-tokens. ASCII text is split
//!    64 bytes at a time from bit masks ([`crate::bitsplit`]) where
//!    a window's bytes decide it. Elsewhere, runs of ASCII are split
//!    by a hand-written scanner that follows the pattern's alternatives in
//!    order ([`ascii_piece`]); at any byte where the answer could depend on a
//!    non-ASCII character, that one pre-token is found with the pattern itself,
//!    compiled by `regex-automata` (its one look-ahead, `\s+(?!\S)`, is
//!    applied by hand in [`split_lookahead`]). The two agree everywhere, since
//!    a pre-token depends only on the text from where it starts.
//! 2. Count each pre-token with tiktoken's byte-pair merge over the
//!    vocabulary table built into the binary ([`crate::vocab`]). Pre-tokens'
//!    counts are cached per thread.
//!
//! Tests compare this count with tiktoken's on random and real text;
//! docs/decisions.md records the measurements.

use std::cell::RefCell;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use regex_automata::meta::Regex;
use regex_automata::{Anchored, Input};
use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::bitsplit::{self, Window};
use crate::vocab::Vocab;

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
const CACHE_LIMIT: usize = 1 << 18;

/// The front table of [`PieceCounts`] has 2^FRONT_BITS entries (512 KiB).
const FRONT_BITS: u32 = 15;
const FRONT_SLOTS: usize = 1 << FRONT_BITS;
/// The bits of a front entry that hold its key: 15 bytes and a length.
const FRONT_KEY: u128 = (1 << 124) - 1;

/// Pre-tokens longer than this are counted every time they occur.
const LONG: usize = 256;

/// Per thread: the split regex (a clone, so each thread has its own search
/// cache) and the counts of pre-tokens seen, for each tokenizer.
struct ThreadState {
    regex: [Option<Regex>; 2],
    counts: [PieceCounts; 2],
}

/// Counts of pre-tokens seen, by length: one byte is always one token, two
/// bytes one or two (the vocabulary has a table of them); up to 15 bytes are
/// packed into an integer key; up to [`LONG`] bytes are kept as they are.
/// In front of the maps, a direct-mapped table answers for recent pre-tokens
/// of up to 15 bytes with one load and no branch on their length.
#[derive(Default)]
struct PieceCounts {
    /// [`FRONT_SLOTS`] entries (allocated by [`Self::trim`]): a
    /// [`small_key`] in the low 124 bits, its count in the top 4.
    front: Vec<u128>,
    /// 3 to 7 bytes (most pre-tokens): a smaller key keeps the map in cache.
    short: FxHashMap<u64, u32>,
    /// 8 to 15 bytes.
    small: FxHashMap<u128, u32>,
    medium: FxHashMap<Box<[u8]>, u32>,
}

impl PieceCounts {
    /// The count of `bytes[start..end]`, from the cache or from `vocab`.
    /// [`Self::trim`] must have run first.
    #[inline]
    fn count(&mut self, vocab: &Vocab, bytes: &[u8], start: usize, end: usize) -> usize {
        if end - start > 15 {
            return self.count_in_maps(vocab, bytes, start, end);
        }
        let key = small_key(bytes, start, end);
        let mixed = (key as u64 ^ (key >> 64) as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let slot = (mixed >> (64 - FRONT_BITS)) as usize;
        let entry = self.front[slot];
        if entry & FRONT_KEY == key {
            return (entry >> 124) as usize;
        }
        let n = self.count_in_maps(vocab, bytes, start, end);
        self.front[slot] = key | ((n as u128) << 124);
        n
    }

    /// [`Self::count`] without the front table.
    fn count_in_maps(&mut self, vocab: &Vocab, bytes: &[u8], start: usize, end: usize) -> usize {
        let piece = &bytes[start..end];
        match piece.len() {
            1 => 1,
            // The vocabulary has a table of two-byte tokens.
            2 => 2 - usize::from(vocab.rank(piece).is_some()),
            3..=7 => {
                // The low 7 bytes hold the piece, the top byte its length.
                let key = small_key(bytes, start, end) as u64 | ((piece.len() as u64) << 56);
                *self.short.entry(key).or_insert_with(|| vocab.count(piece) as u32) as usize
            }
            8..=15 => {
                let key = small_key(bytes, start, end);
                *self.small.entry(key).or_insert_with(|| vocab.count(piece) as u32) as usize
            }
            16..=LONG => match self.medium.get(piece) {
                Some(&n) => n as usize,
                None => {
                    let n = vocab.count(piece);
                    self.medium.insert(piece.into(), n as u32);
                    n
                }
            },
            _ => vocab.count(piece),
        }
    }

    /// Readies the caches for a text: allocates the front table the first
    /// time, and clears maps that grew too large.
    fn trim(&mut self) {
        if self.front.is_empty() {
            self.front = vec![0; FRONT_SLOTS];
        }
        if self.short.len() > CACHE_LIMIT {
            self.short.clear();
        }
        if self.small.len() > CACHE_LIMIT {
            self.small.clear();
        }
        if self.medium.len() > CACHE_LIMIT / 64 {
            self.medium.clear();
        }
    }
}

/// `LOW_BYTES[n]` keeps the low `n` bytes of a `u128` (a table load is
/// cheaper than a variable 128-bit shift).
static LOW_BYTES: [u128; 16] = {
    let mut t = [0u128; 16];
    let mut n = 1;
    while n < 16 {
        t[n] = (1u128 << (8 * n)) - 1;
        n += 1;
    }
    t
};

/// Packs `bytes[start..end]` (at most 15 bytes), with its length, into a key
/// that no other piece shares.
#[inline]
fn small_key(bytes: &[u8], start: usize, end: usize) -> u128 {
    let len = end - start;
    debug_assert!(len <= 15);
    let word = match bytes.get(start..start + 16) {
        // One unaligned load, masked to the piece.
        Some(window) => {
            let all = u128::from_le_bytes(window.try_into().expect("16 bytes"));
            all & LOW_BYTES[len]
        }
        None => {
            let mut key = [0u8; 16];
            key[..len].copy_from_slice(&bytes[start..end]);
            u128::from_le_bytes(key)
        }
    };
    word | ((len as u128) << 120)
}

thread_local! {
    static STATE: RefCell<ThreadState> = RefCell::new(ThreadState {
        regex: [None, None],
        counts: Default::default(),
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
        let cell = match self {
            TokenizerKind::O200k => &O200K,
            TokenizerKind::Cl100k => &CL100K,
        };
        cell.get_or_init(|| Regex::new(split_pattern(self)).expect("split pattern is valid"))
    }

    /// The number of tokens in `text`; special-token markers count as plain
    /// text. Equal to tiktoken's `encode_ordinary(text).len()`.
    pub fn count(self, text: &str) -> usize {
        if text.is_empty() {
            return 0;
        }
        let vocab = Vocab::of(self);
        let slot = self as usize;
        STATE.with(|state| {
            let mut state = state.borrow_mut();
            let ThreadState { regex, counts } = &mut *state;
            let re = &mut regex[slot];
            let counts = &mut counts[slot];
            counts.trim();
            let bytes = text.as_bytes();
            let mut total = 0usize;
            for_each_piece(self, re, text, |start, end| {
                total += counts.count(vocab, bytes, start, end);
            });
            total
        })
    }
}

/// The pre-token pattern of `kind` (without its look-ahead).
pub(crate) fn split_pattern(kind: TokenizerKind) -> &'static str {
    match kind {
        TokenizerKind::O200k => O200K_SPLIT,
        TokenizerKind::Cl100k => CL100K_SPLIT,
    }
}

/// Calls `f` with the start and end of each pre-token of `text`, in order;
/// together they are exactly `text`. `re` is the split regex, compiled here
/// the first time a pre-token needs it (it takes milliseconds, and ASCII
/// text never does).
fn for_each_piece(
    kind: TokenizerKind,
    re: &mut Option<Regex>,
    text: &str,
    mut f: impl FnMut(usize, usize),
) {
    let bytes = text.as_bytes();
    let mut pos = 0;
    // Windows of 64 bytes where they decide, else the scanner up to here.
    let mut scan_to = 0;
    let cl100k = kind == TokenizerKind::Cl100k;
    // Starts from the last window not yet reached, relative to `base`. One
    // place calls `f`, so that it is inlined.
    let (mut pending, mut base) = (0u64, 0);
    while pos < bytes.len() {
        let end = if pending != 0 {
            let end = base + pending.trailing_zeros() as usize;
            pending &= pending - 1;
            end
        } else {
            if pos >= scan_to {
                match bytes.get(pos..pos + bitsplit::WINDOW) {
                    Some(window) => {
                        match bitsplit::window(window.try_into().expect("a window"), cl100k) {
                            Window::Starts(starts) => {
                                (pending, base) = (starts & !1, pos);
                                continue;
                            }
                            Window::Scan(n) => scan_to = pos + n,
                        }
                    }
                    None => scan_to = usize::MAX,
                }
            }
            match ascii_piece(kind, bytes, pos) {
                Some(end) => end,
                None => {
                    regex_piece(re.get_or_insert_with(|| kind.split_regex().clone()), text, pos)
                }
            }
        };
        f(pos, end);
        pos = end;
    }
}

/// The end of the pre-token that starts at `pos` (a character boundary),
/// found with the split pattern.
fn regex_piece(re: &Regex, text: &str, pos: usize) -> usize {
    let input = Input::new(text).range(pos..).anchored(Anchored::Yes);
    match re.find(input) {
        Some(m) if m.end() > pos => split_lookahead(text, m.start(), m.end()),
        // Unreachable: every character starts some alternative. Make progress
        // by one character rather than fail.
        _ => pos + text[pos..].chars().next().map_or(1, char::len_utf8),
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

/// `\s` on ASCII: tab, line feed, vertical tab, form feed, carriage return, space.
fn is_space(b: u8) -> bool {
    matches!(CLASS[usize::from(b)], BLANK | NEWLINE)
}

fn is_newline(b: u8) -> bool {
    CLASS[usize::from(b)] == NEWLINE
}

/// `[^\s\p{L}\p{N}]` on ASCII.
fn is_symbol(b: u8) -> bool {
    CLASS[usize::from(b)] == SYMBOL
}

/// The end of the run of bytes from `pos` that satisfy `class`, or `None` if
/// the run stops at a non-ASCII byte (whose character might continue it).
fn run(bytes: &[u8], pos: usize, class: impl Fn(u8) -> bool) -> Option<usize> {
    let mut i = pos;
    while i < bytes.len() && class(bytes[i]) {
        i += 1;
    }
    match bytes.get(i) {
        Some(&b) if !b.is_ascii() => None,
        _ => Some(i),
    }
}

/// [`run`] of ASCII lower case letters, eight bytes at a time.
#[inline]
fn lower_run(bytes: &[u8], pos: usize) -> Option<usize> {
    const HI: u64 = 0x8080_8080_8080_8080;
    const ONES: u64 = 0x0101_0101_0101_0101;
    let mut i = pos;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let w = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        // Per byte, for ASCII bytes: high bit of `ge_a` set if b >= b'a',
        // of `gt_z` if b > b'z'. A non-ASCII byte may carry into the bytes
        // after it, which no longer matter: the run ends there.
        let ge_a = w.wrapping_add(ONES * u64::from(0x80 - b'a'));
        let gt_z = w.wrapping_add(ONES * u64::from(0x80 - b'z' - 1));
        let lower = ge_a & !gt_z & !w & HI;
        let stop = !lower & HI;
        if stop != 0 {
            i += (stop.trailing_zeros() / 8) as usize;
            return if bytes[i].is_ascii() { Some(i) } else { None };
        }
        i += 8;
    }
    run(bytes, i, |b| b.is_ascii_lowercase())
}

/// The length of the contraction `(?i:'s|'t|'re|'ve|'m|'ll|'d)` at `pos`:
/// `Some(0)` if there is none, `None` if a non-ASCII character decides it.
fn contraction(bytes: &[u8], pos: usize) -> Option<usize> {
    if bytes.get(pos) != Some(&b'\'') {
        return Some(0);
    }
    let lower = |i: usize| match bytes.get(i) {
        Some(&b) if !b.is_ascii() => None,
        Some(&b) => Some(Some(b.to_ascii_lowercase())),
        None => Some(None),
    };
    Some(match lower(pos + 1)? {
        Some(b's' | b't' | b'm' | b'd') => 2,
        Some(first @ (b'r' | b'v' | b'l')) => {
            let second = if first == b'l' { b'l' } else { b'e' };
            if lower(pos + 2)? == Some(second) {
                3
            } else {
                0
            }
        }
        _ => 0,
    })
}

/// Classes of bytes, for [`ascii_piece`]'s first decision.
const LETTER: u8 = 1;
const DIGIT: u8 = 2;
/// `\s` except line breaks.
const BLANK: u8 = 3;
const NEWLINE: u8 = 4;
/// `[^\s\p{L}\p{N}]` on ASCII.
const SYMBOL: u8 = 5;
const NON_ASCII: u8 = 6;

/// The class of every byte.
static CLASS: [u8; 256] = {
    let mut t = [NON_ASCII; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        t[b] = if c.is_ascii_alphabetic() {
            LETTER
        } else if c.is_ascii_digit() {
            DIGIT
        } else if c == b'\r' || c == b'\n' {
            NEWLINE
        } else if matches!(c, b'\t' | b'\x0b' | b'\x0c' | b' ') {
            BLANK
        } else {
            SYMBOL
        };
        b += 1;
    }
    t
};

/// The end of the pre-token that starts at `pos`, found without the regex
/// when the answer depends on ASCII bytes only; `None` otherwise.
///
/// It follows the pattern's alternatives in order, with their greedy
/// quantifiers; see the patterns above. A word may start with one blank or
/// symbol; a run of symbols with one space.
#[inline]
fn ascii_piece(kind: TokenizerKind, bytes: &[u8], pos: usize) -> Option<usize> {
    let c = *bytes.get(pos)?;
    let cl100k = kind == TokenizerKind::Cl100k;
    let next = || bytes.get(pos + 1).map_or(NEWLINE, |&n| CLASS[usize::from(n)]);
    match CLASS[usize::from(c)] {
        LETTER => word(cl100k, bytes, pos),
        DIGIT => {
            // \p{N}{1,3}
            let mut i = pos + 1;
            while i < bytes.len() && i - pos < 3 && bytes[i].is_ascii_digit() {
                i += 1;
            }
            if i - pos < 3 && bytes.get(i).is_some_and(|b| !b.is_ascii()) {
                return None;
            }
            Some(i)
        }
        SYMBOL => {
            // cl100k: '(?i:[sdmt]|ll|ve|re)
            if cl100k && c == b'\'' {
                let n = contraction(bytes, pos)?;
                if n > 0 {
                    return Some(pos + n);
                }
            }
            match next() {
                LETTER => word(cl100k, bytes, pos + 1),
                NON_ASCII => None,
                _ => symbols(cl100k, bytes, pos),
            }
        }
        BLANK => match next() {
            LETTER => word(cl100k, bytes, pos + 1),
            NON_ASCII => None,
            SYMBOL if c == b' ' => symbols(cl100k, bytes, pos + 1),
            _ => whitespace(cl100k, bytes, pos),
        },
        NEWLINE => whitespace(cl100k, bytes, pos),
        _ => None,
    }
}

/// A word whose first letter is at `start`: `\p{L}+` (cl100k), or upper case
/// letters, then lower case ones, then a contraction (o200k).
#[inline]
fn word(cl100k: bool, bytes: &[u8], start: usize) -> Option<usize> {
    if cl100k {
        return run(bytes, start, |b| b.is_ascii_alphabetic());
    }
    let upper = run(bytes, start, |b| b.is_ascii_uppercase())?;
    let end = lower_run(bytes, upper)?;
    Some(end + contraction(bytes, end)?)
}

/// Symbols from `start`, then `[\r\n/]*` (o200k) or `[\r\n]*` (cl100k).
#[inline]
fn symbols(cl100k: bool, bytes: &[u8], start: usize) -> Option<usize> {
    let mut i = run(bytes, start, is_symbol)?;
    while i < bytes.len() && (is_newline(bytes[i]) || (!cl100k && bytes[i] == b'/')) {
        i += 1;
    }
    Some(i)
}

/// Whitespace from `pos`, as the pattern's last alternatives split it.
fn whitespace(cl100k: bool, bytes: &[u8], pos: usize) -> Option<usize> {
    let end = run(bytes, pos, is_space)?;
    if cl100k && end == bytes.len() {
        // \s+$
        return Some(end);
    }
    // \s*[\r\n]+ (o200k) or \s*[\r\n] (cl100k): up to the last line break.
    if let Some(last) = bytes[pos..end].iter().rposition(|&b| is_newline(b)) {
        return Some(pos + last + 1);
    }
    // \s+(?!\S), then \s+ (o200k) or \s (cl100k).
    // A single character is `\s` either way.
    if end < bytes.len() && end - pos >= 2 {
        Some(end - 1)
    } else {
        Some(end)
    }
}

/// A token counter from outside this crate, such as a local model's own
/// tokenizer (the model layer provides one; `ingest` does not depend on it).
pub trait TokenCounter: Send + Sync {
    /// The name printed in digests, e.g. the model's name.
    fn name(&self) -> &str;
    /// Identifies the vocabulary (e.g. the model file's name and size):
    /// cached counts are reused only under the same identity.
    fn identity(&self) -> String;
    /// The number of tokens in `text`, without special tokens.
    fn count(&self, text: &str) -> usize;
}

/// The tokenizer a digest counts with: a built-in one or a [`TokenCounter`].
#[derive(Clone)]
pub enum Tokenizer {
    /// `o200k_base` or `cl100k_base`, built in.
    Builtin(TokenizerKind),
    /// Any other counter, e.g. the active local model's tokenizer.
    Custom(std::sync::Arc<dyn TokenCounter>),
}

impl Tokenizer {
    /// The tokenizer's name, as printed in digests.
    pub fn name(&self) -> &str {
        match self {
            Tokenizer::Builtin(kind) => kind.name(),
            Tokenizer::Custom(counter) => counter.name(),
        }
    }

    /// The number of tokens in `text`.
    pub fn count(&self, text: &str) -> usize {
        match self {
            Tokenizer::Builtin(kind) => kind.count(text),
            Tokenizer::Custom(counter) => counter.count(text),
        }
    }

    /// A file-name-safe name for this tokenizer's count cache.
    pub(crate) fn cache_name(&self) -> String {
        match self {
            Tokenizer::Builtin(kind) => kind.name().to_string(),
            Tokenizer::Custom(counter) => {
                format!("model-{:016x}", xxhash_rust::xxh3::xxh3_64(counter.identity().as_bytes()))
            }
        }
    }

    /// Everything a count depends on, for the count cache's fingerprint.
    pub(crate) fn identity(&self) -> String {
        match self {
            Tokenizer::Builtin(kind) => format!("{}\n{}", kind.name(), split_pattern(*kind)),
            Tokenizer::Custom(counter) => counter.identity(),
        }
    }
}

impl Default for Tokenizer {
    fn default() -> Self {
        Tokenizer::Builtin(TokenizerKind::default())
    }
}

impl From<TokenizerKind> for Tokenizer {
    fn from(kind: TokenizerKind) -> Self {
        Tokenizer::Builtin(kind)
    }
}

impl fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tokenizer::Builtin(kind) => write!(f, "{kind:?}"),
            Tokenizer::Custom(counter) => write!(f, "Custom({:?})", counter.name()),
        }
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

    fn tiktoken(kind: TokenizerKind) -> &'static tiktoken_rs::CoreBPE {
        match kind {
            TokenizerKind::O200k => tiktoken_rs::o200k_base_singleton(),
            TokenizerKind::Cl100k => tiktoken_rs::cl100k_base_singleton(),
        }
    }

    /// tiktoken's own count (the reference).
    fn reference(kind: TokenizerKind, text: &str) -> usize {
        tiktoken(kind).encode_ordinary(text).len()
    }

    const KINDS: [TokenizerKind; 2] = [TokenizerKind::O200k, TokenizerKind::Cl100k];

    /// The pre-tokens of `text`, found as counting finds them (windows, then
    /// the scanner, then the regex).
    fn pieces(kind: TokenizerKind, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        for_each_piece(kind, &mut None, text, |a, b| out.push(text[a..b].to_string()));
        out
    }

    /// The pre-tokens of `text`, found with the regex only.
    fn regex_pieces(kind: TokenizerKind, text: &str) -> Vec<String> {
        let (mut out, mut pos) = (Vec::new(), 0);
        while pos < text.len() {
            let end = regex_piece(kind.split_regex(), text, pos);
            out.push(text[pos..end].to_string());
            pos = end;
        }
        out
    }

    /// The implementation this one replaced: regex split, tiktoken per
    /// pre-token, cached. Kept to measure against.
    fn count_previous(kind: TokenizerKind, text: &str) -> usize {
        thread_local! {
            static CACHE: RefCell<[FxHashMap<Box<[u8]>, u32>; 2]> = RefCell::new(Default::default());
        }
        let bpe = tiktoken(kind);
        let re = kind.split_regex();
        CACHE.with(|cache| {
            let cache = &mut cache.borrow_mut()[kind as usize];
            let (mut total, mut pos) = (0, 0);
            while pos < text.len() {
                let end = regex_piece(re, text, pos);
                let piece = &text[pos..end];
                total += match cache.get(piece.as_bytes()) {
                    Some(&n) => n as usize,
                    None => {
                        let n = bpe.encode_ordinary(piece).len();
                        cache.insert(piece.as_bytes().into(), n as u32);
                        n
                    }
                };
                pos = end;
            }
            total
        })
    }

    fn crate_sources() -> Vec<(std::path::PathBuf, String)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut out = Vec::new();
        for sub in ["src", "tests", "tests/common"] {
            for entry in std::fs::read_dir(dir.join(sub)).unwrap() {
                let path = entry.unwrap().path();
                if let Ok(text) = std::fs::read_to_string(&path) {
                    out.push((path, text));
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn long_lines_and_runs_count_exactly() {
        let mut texts = vec![
            "a".repeat(20_000),
            "Ab".repeat(5_000),
            "0123456789".repeat(2_000),
            " ".repeat(5_000) + "x",
            "\n".repeat(3_000) + "  ",
            "=-".repeat(5_000),
            "日本語のテキスト".repeat(500),
            "😀👍🏽".repeat(500),
            format!("let data = \"{}\";\n", "QUJD".repeat(4_000)),
        ];
        texts.push(texts.concat());
        for text in &texts {
            for kind in KINDS {
                assert_eq!(
                    kind.count(text),
                    reference(kind, text),
                    "{kind:?} {}",
                    &text[..40.min(text.len())]
                );
            }
        }
    }

    /// Random text made of pieces of every kind the scanner and regex meet.
    fn mixed() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let part = prop_oneof![
            tricky(),
            "[ -~]{0,120}",
            "[ -~\t\n\r\x0b\x0c]{0,60}",
            "[ \t]{1,12}[\r\n]{0,3}[ \t]{0,6}",
            "[0-9]{1,20}",
            "[a-zA-Z']{1,20}",
            "\\PC{0,12}",
            "[\u{4e00}-\u{9fff}\u{3040}-\u{30ff}]{1,12}",
            "[\u{1f300}-\u{1f6ff}\u{200d}\u{fe0f}]{1,6}",
            "[\u{a0}\u{85}\u{2000}-\u{200a}\u{3000}]{1,3}",
            "[a-zA-Z]{0,4}[\u{c0}-\u{24f}\u{300}-\u{36f}]{1,4}[a-z]{0,4}",
        ];
        prop::collection::vec(part, 0..12).prop_map(|v| v.concat())
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config { cases: 3000, failure_persistence: None, ..Default::default() })]
        #[test]
        fn ascii_scanner_splits_like_the_regex(text in mixed()) {
            for kind in KINDS {
                proptest::prop_assert_eq!(pieces(kind, &text), regex_pieces(kind, &text), "{:?} {:?}", kind, text);
            }
        }

        #[test]
        fn windows_split_long_ascii_like_the_regex(text in long_ascii()) {
            for kind in KINDS {
                proptest::prop_assert_eq!(pieces(kind, &text), regex_pieces(kind, &text), "{:?} {:?}", kind, text);
            }
        }

        #[test]
        fn count_equals_tiktoken_on_mixed_text(text in mixed()) {
            for kind in KINDS {
                proptest::prop_assert_eq!(kind.count(&text), reference(kind, &text), "{:?} {:?}", kind, text);
            }
        }

        #[test]
        fn count_equals_tiktoken_on_windows_of_real_text(start in 0usize..1_000_000, len in 0usize..4_000) {
            let all: String = crate_sources().into_iter().map(|(_, t)| t).collect();
            let mut a = start % all.len().max(1);
            while !all.is_char_boundary(a) { a -= 1; }
            let mut b = (a + len).min(all.len());
            while !all.is_char_boundary(b) { b -= 1; }
            let text = &all[a..b];
            for kind in KINDS {
                proptest::prop_assert_eq!(kind.count(text), reference(kind, text), "{:?} {:?}", kind, text);
            }
        }
    }

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

    /// ASCII text long enough for several 64-byte windows: the atoms of
    /// [`tricky`] that are ASCII and more of the same kind, or random
    /// printable bytes with line breaks.
    fn long_ascii() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let more = [
            "\n    ", "'LL", "'ve", "'m", "'x", "/*", "*/", ";\n", "\x0b", "\x0c", "0x1F", "don't",
            "it's's",
        ];
        let atoms = prop::sample::select([ASCII_ATOMS, &more].concat());
        prop_oneof![
            prop::collection::vec(atoms, 20..400).prop_map(|v| v.concat()),
            "[ -~\t\n\r]{64,600}",
        ]
    }

    /// ASCII pieces of text for [`tricky`] and [`long_ascii`].
    const ASCII_ATOMS: &[&str] = &[
        " ",
        "  ",
        "   ",
        "\t",
        "\n",
        "\r\n",
        "\n\n",
        " \n ",
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
        "123",
        "4567890",
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
        "\u{0}",
        "\u{7f}",
        "_",
        "-",
        "=",
        "fn",
        " x",
        " 42",
    ];

    /// Text that exercises every pre-token rule: contractions in both cases,
    /// letters of every category, long digit runs, punctuation with line
    /// breaks and slashes, whitespace runs of every shape, and non-ASCII space.
    fn tricky() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let non_ascii = [
            "\u{3000}", "\u{a0}", "\u{2028}", "\u{17f}", "ß", "é", "Ω", "ǅ", "ʰ", "日本",
            "e\u{301}", "ﬁ", "K", "\u{212a}", "٣", "½", "😀", "\u{200d}",
        ];
        let atoms = prop::sample::select([ASCII_ATOMS, &non_ascii].concat());
        prop::collection::vec(atoms, 0..40).prop_map(|v| v.concat())
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config { cases: 2000, failure_persistence: None, ..Default::default() })]
        #[test]
        fn fast_count_equals_tiktoken_on_tricky_text(text in tricky()) {
            for kind in [TokenizerKind::O200k, TokenizerKind::Cl100k] {
                proptest::prop_assert_eq!(kind.count(&text), reference(kind, &text), "{:?} {:?}", kind, text);
            }
        }

        #[test]
        fn fast_count_equals_tiktoken_on_any_string(text in "\\PC*|[ \t\n\r\u{a0}\u{3000}a-zA-Z0-9'/.]{0,60}") {
            for kind in [TokenizerKind::O200k, TokenizerKind::Cl100k] {
                proptest::prop_assert_eq!(kind.count(&text), reference(kind, &text), "{:?} {:?}", kind, text);
            }
        }
    }

    #[test]
    fn fast_count_equals_tiktoken_on_this_crates_sources() {
        let sources = crate_sources();
        assert!(sources.len() >= 10);
        for (path, text) in &sources {
            for kind in KINDS {
                assert_eq!(kind.count(text), reference(kind, text), "{kind:?} {}", path.display());
                assert_eq!(
                    pieces(kind, text),
                    regex_pieces(kind, text),
                    "{kind:?} {}",
                    path.display()
                );
            }
        }
    }

    /// Files under `dir`, read recursively, valid UTF-8 and at most 1 MB
    /// each, in an order mixed by a hash of their path, up to `cap` bytes.
    fn corpus(dir: &std::path::Path, cap: usize) -> Vec<String> {
        use std::hash::{Hash, Hasher};
        let (mut stack, mut files) = (vec![dir.to_path_buf()], Vec::new());
        while let Some(d) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&d) else { continue };
            for entry in entries.flatten() {
                let Ok(ft) = entry.file_type() else { continue };
                if ft.is_dir() {
                    stack.push(entry.path());
                } else if ft.is_file() {
                    let mut h = rustc_hash::FxHasher::default();
                    entry.path().hash(&mut h);
                    files.push((h.finish(), entry.path()));
                }
            }
        }
        files.sort();
        let (mut out, mut total) = (Vec::new(), 0);
        for (_, path) in files {
            if total >= cap {
                break;
            }
            if std::fs::metadata(&path).map_or(true, |m| m.len() > 1 << 20) {
                continue;
            }
            if let Ok(text) = std::fs::read_to_string(&path) {
                total += text.len();
                out.push(text);
            }
        }
        out
    }

    fn bpe_openai_count(kind: TokenizerKind, text: &str) -> usize {
        match kind {
            TokenizerKind::O200k => bpe_openai::o200k_base().count(text),
            TokenizerKind::Cl100k => bpe_openai::cl100k_base().count(text),
        }
    }

    /// Seconds taken by `f` and its result.
    fn timed<T>(f: impl FnOnce() -> T) -> (f64, T) {
        let t = std::time::Instant::now();
        let r = f();
        (t.elapsed().as_secs_f64(), r)
    }

    /// Measures the counters side by side and compares them with tiktoken,
    /// file by file, on this crate's sources and on the files under
    /// `SUIT_TOKENS_CORPUS` (a directory; `SUIT_TOKENS_CORPUS_MB` caps it,
    /// default 120). Run it in release:
    /// `cargo test --release -p suit-ingest --lib measure_counting -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn measure_counting() {
        for kind in KINDS {
            let (new, _) = timed(|| bpe_openai_count(kind, "x"));
            let (old, _) = timed(|| tiktoken(kind));
            println!(
                "{kind}: load bpe-openai {:.0} ms, build tiktoken {:.0} ms",
                new * 1e3,
                old * 1e3
            );
        }
        let own: String = crate_sources().into_iter().map(|(_, t)| t).collect();
        let big = std::env::var("SUIT_TOKENS_CORPUS").map_or_else(
            |_| Vec::new(),
            |dir| {
                let mb = std::env::var("SUIT_TOKENS_CORPUS_MB")
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(120);
                corpus(std::path::Path::new(&dir), mb << 20)
            },
        );
        let big_bytes: usize = big.iter().map(String::len).sum();
        let non_ascii = big.iter().filter(|t| !t.is_ascii()).count();
        println!(
            "own sources: {} bytes; corpus: {} files, {} bytes, {} files with non-ASCII",
            own.len(),
            big.len(),
            big_bytes,
            non_ascii
        );
        type Counter = fn(TokenizerKind, &str) -> usize;
        let counters: [(&str, Counter); 4] = [
            ("tiktoken encode_ordinary", reference),
            ("previous (regex + tiktoken, cached)", count_previous),
            ("bpe-openai own count", bpe_openai_count),
            ("new count", |k, t| k.count(t)),
        ];
        for kind in KINDS {
            let mb = |bytes: usize, secs: f64| bytes as f64 / secs / 1e6;
            let expected_own = reference(kind, &own);
            let expected: Vec<usize> = big.iter().map(|t| reference(kind, t)).collect();
            let mut rates = Vec::new();
            for (name, count) in counters {
                // Own sources: best of 5 (caches warm after the first).
                let mut best = f64::MAX;
                let mut n_own = 0;
                for _ in 0..5 {
                    let (secs, n) = timed(|| count(kind, &own));
                    best = best.min(secs);
                    n_own = n;
                }
                let (secs, counts) =
                    timed(|| big.iter().map(|t| count(kind, t)).collect::<Vec<_>>());
                let (mut bad_files, mut bad_bytes) = (0, 0);
                for ((t, got), want) in big.iter().zip(&counts).zip(&expected) {
                    if got != want {
                        bad_files += 1;
                        bad_bytes += t.len();
                    }
                }
                rates.push((mb(own.len(), best), mb(big_bytes, secs)));
                println!(
                    "{kind} {name:<38} own {:>8.1} MB/s{}  corpus {:>8.1} MB/s  tokens {}  mismatched files {bad_files} ({bad_bytes} bytes)",
                    mb(own.len(), best),
                    if n_own == expected_own { "" } else { " (MISMATCH)" },
                    mb(big_bytes, secs),
                    counts.iter().sum::<usize>(),
                );
            }
            // The split alone, best of 3, to see what the lookups cost.
            let split_secs = (0..3)
                .map(|_| {
                    timed(|| {
                        let mut n = 0usize;
                        for t in &big {
                            for_each_piece(kind, &mut None, t, |a, b| n += b - a);
                        }
                        n
                    })
                    .0
                })
                .fold(f64::MAX, f64::min);
            println!(
                "{kind} split into pre-tokens only: corpus {:>8.1} MB/s",
                mb(big_bytes, split_secs)
            );
            let (prev, new) = (rates[1], rates[3]);
            println!(
                "{kind} new/previous: own {:.1}x, corpus {:.1}x",
                new.0 / prev.0,
                new.1 / prev.1
            );
        }
    }

    #[test]
    fn parses_names() {
        assert_eq!("o200k".parse::<TokenizerKind>().unwrap(), TokenizerKind::O200k);
        assert_eq!("CL100K_BASE".parse::<TokenizerKind>().unwrap(), TokenizerKind::Cl100k);
        let err = "gpt2".parse::<TokenizerKind>().unwrap_err();
        assert!(err.contains("gpt2") && err.contains("o200k"), "{err}");
    }
}
