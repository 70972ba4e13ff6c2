//! Tokenizer vocabularies read in place from the binary, and tiktoken's
//! byte-pair merge over them.
//!
//! `build.rs` writes each vocabulary as a hash table (layout in
//! `vocab_format.rs`); here it is used where it lies, so counting needs
//! nothing loaded or built at run time (loading `bpe-openai`'s tables took
//! 60–80 ms, most of a small repository's first run). A pre-token's count is
//! what tiktoken's `byte_pair_encode` gives: 1 if the pre-token is a token,
//! else the number of parts left after merging, again and again, the
//! adjacent pair of lowest rank (the leftmost on a tie).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::OnceLock;

use crate::TokenizerKind;

include!("vocab_format.rs");

/// A vocabulary table (see `vocab_format.rs`).
pub(crate) struct Vocab {
    bytes: &'static [u8],
    slots: usize,
    /// Byte offsets of the token offsets, the slots and the token blob.
    starts_at: usize,
    slots_at: usize,
    blob_at: usize,
}

/// Pre-tokens up to this long are merged with the plain quadratic scan (as
/// tiktoken does), longer ones with a heap.
const SCAN_MAX: usize = 64;

impl Vocab {
    /// The vocabulary of `kind`.
    pub(crate) fn of(kind: TokenizerKind) -> &'static Vocab {
        static O200K: OnceLock<Vocab> = OnceLock::new();
        static CL100K: OnceLock<Vocab> = OnceLock::new();
        match kind {
            TokenizerKind::O200k => O200K.get_or_init(|| {
                Vocab::new(include_bytes!(concat!(env!("OUT_DIR"), "/vocab_o200k_base.bin")))
            }),
            TokenizerKind::Cl100k => CL100K.get_or_init(|| {
                Vocab::new(include_bytes!(concat!(env!("OUT_DIR"), "/vocab_cl100k_base.bin")))
            }),
        }
    }

    fn new(bytes: &'static [u8]) -> Self {
        let word = |i: usize| u32::from_le_bytes(bytes[4 * i..4 * i + 4].try_into().expect("4"));
        let tokens = word(0) as usize;
        debug_assert_eq!(word(PAIRS_AT + PAIRS), 0, "the first token starts the blob");
        let slots = word(1) as usize;
        let starts_at = 4 * (PAIRS_AT + PAIRS);
        let slots_at = starts_at + 4 * (tokens + 1);
        let blob_at = slots_at + 4 * slots;
        Self { bytes, slots, starts_at, slots_at, blob_at }
    }

    #[inline]
    fn word(&self, at: usize) -> u32 {
        u32::from_le_bytes(self.bytes[at..at + 4].try_into().expect("4 bytes"))
    }

    /// The bytes of the token of rank `rank`.
    #[inline]
    pub(crate) fn token(&self, rank: u32) -> &'static [u8] {
        let at = self.starts_at + 4 * rank as usize;
        let (start, end) = (self.word(at) as usize, self.word(at + 4) as usize);
        &self.bytes[self.blob_at + start..self.blob_at + end]
    }

    /// The number of tokens.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.word(0) as usize
    }

    /// The rank of the two-byte string `a b`, or `u32::MAX`.
    #[inline]
    fn pair_rank(&self, a: u8, b: u8) -> u32 {
        self.word(4 * (PAIRS_AT + (usize::from(a) | usize::from(b) << 8)))
    }

    /// The rank of the token `bytes`, if it is one.
    #[inline]
    pub(crate) fn rank(&self, bytes: &[u8]) -> Option<u32> {
        if let [a, b] = bytes {
            return Some(self.pair_rank(*a, *b)).filter(|&r| r != u32::MAX);
        }
        let mask = self.slots - 1;
        let mut slot = vocab_hash(bytes) as usize & mask;
        loop {
            let entry = self.word(self.slots_at + 4 * slot);
            if entry == 0 {
                return None;
            }
            if self.token(entry - 1) == bytes {
                return Some(entry - 1);
            }
            slot = (slot + 1) & mask;
        }
    }

    fn rank_or_max(&self, bytes: &[u8]) -> u32 {
        self.rank(bytes).unwrap_or(u32::MAX)
    }

    /// The number of tokens tiktoken encodes the pre-token `piece` as.
    pub(crate) fn count(&self, piece: &[u8]) -> usize {
        if piece.len() <= 1 {
            return piece.len();
        }
        if self.rank(piece).is_some() {
            return 1;
        }
        if piece.len() <= SCAN_MAX {
            self.merge_scan(piece)
        } else {
            self.merge_heap(piece)
        }
    }

    /// tiktoken's `_byte_pair_merge`, step for step: `parts[i]` is the start
    /// of part i and the rank of part i joined with part i + 1.
    fn merge_scan(&self, piece: &[u8]) -> usize {
        let n = piece.len();
        let mut starts = [0usize; SCAN_MAX + 1];
        let mut ranks = [u32::MAX; SCAN_MAX + 1];
        for i in 0..n - 1 {
            starts[i] = i;
            ranks[i] = self.pair_rank(piece[i], piece[i + 1]);
        }
        starts[n - 1] = n - 1;
        starts[n] = n;
        let mut len = n + 1;
        loop {
            let (mut min, mut at) = (u32::MAX, usize::MAX);
            for (i, &r) in ranks[..len - 1].iter().enumerate() {
                if r < min {
                    (min, at) = (r, i);
                }
            }
            if min == u32::MAX {
                return len - 1;
            }
            let rank_at = |starts: &[usize], j: usize| {
                if j + 3 < len {
                    self.rank_or_max(&piece[starts[j]..starts[j + 3]])
                } else {
                    u32::MAX
                }
            };
            if at > 0 {
                ranks[at - 1] = rank_at(&starts, at - 1);
            }
            ranks[at] = rank_at(&starts, at);
            starts.copy_within(at + 2..len, at + 1);
            ranks.copy_within(at + 2..len, at + 1);
            len -= 1;
        }
    }

    /// The same merges as [`Self::merge_scan`] in O(n log n), for long
    /// pre-tokens: the parts form a linked list, and a heap ordered by (rank,
    /// start) yields the leftmost lowest-ranked pair; entries made stale by an
    /// earlier merge are recognised and skipped.
    fn merge_heap(&self, piece: &[u8]) -> usize {
        let n = piece.len();
        // Part k starts at byte k until merged; part n is the end.
        let mut next: Vec<usize> = (1..=n + 1).collect();
        let mut prev: Vec<usize> = (0..=n).map(|k| k.wrapping_sub(1)).collect();
        let mut alive = vec![true; n + 1];
        let mut rank = vec![u32::MAX; n + 1];
        let pair_rank = |next: &[usize], k: usize| {
            let m = next[k];
            if m >= n {
                return u32::MAX; // part k is the last one
            }
            self.rank_or_max(&piece[k..next[m].min(n)])
        };
        let mut heap = BinaryHeap::with_capacity(n);
        for (k, r) in rank.iter_mut().enumerate().take(n - 1) {
            *r = pair_rank(&next, k);
            if *r != u32::MAX {
                heap.push(Reverse((*r, k)));
            }
        }
        let mut parts = n;
        while let Some(Reverse((r, k))) = heap.pop() {
            if !alive[k] || rank[k] != r {
                continue; // stale
            }
            // Join part k with the part after it.
            let m = next[k];
            alive[m] = false;
            next[k] = next[m];
            if next[m] <= n {
                prev[next[m]] = k;
            }
            parts -= 1;
            rank[k] = pair_rank(&next, k);
            if rank[k] != u32::MAX {
                heap.push(Reverse((rank[k], k)));
            }
            let p = prev[k];
            if p != usize::MAX {
                rank[p] = pair_rank(&next, p);
                if rank[p] != u32::MAX {
                    heap.push(Reverse((rank[p], p)));
                }
            }
        }
        parts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_are_tiktokens() {
        for kind in [TokenizerKind::O200k, TokenizerKind::Cl100k] {
            let vocab = Vocab::of(kind);
            let reference = match kind {
                TokenizerKind::O200k => tiktoken_rs::o200k_base_singleton(),
                TokenizerKind::Cl100k => tiktoken_rs::cl100k_base_singleton(),
            };
            assert!(vocab.len() > 100_000, "{kind}: {} tokens", vocab.len());
            for rank in (0..vocab.len() as u32).step_by(7) {
                let bytes = vocab.token(rank);
                assert_eq!(vocab.rank(bytes), Some(rank), "{kind} {bytes:?}");
                let text = String::from_utf8_lossy(bytes);
                if text.as_bytes() == bytes {
                    assert_eq!(reference.encode_ordinary(&text), vec![rank], "{kind} {text:?}");
                }
            }
            assert_eq!(vocab.rank(b"\xff\xfe no such token \x00"), None);
        }
    }

    #[test]
    fn both_merges_agree_on_long_and_short_pieces() {
        let vocab = Vocab::of(TokenizerKind::O200k);
        let texts: Vec<Vec<u8>> = vec![
            b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".to_vec(),
            b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo".to_vec(),
            "=-".repeat(30).into_bytes(),
            "日本語のテキスト".as_bytes().to_vec(),
            b"xqzjvkwpq".to_vec(),
        ];
        for t in texts {
            assert_eq!(
                vocab.merge_scan(&t),
                vocab.merge_heap(&t),
                "{:?}",
                String::from_utf8_lossy(&t)
            );
        }
    }
}
