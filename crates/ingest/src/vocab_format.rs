// The layout of a tokenizer's vocabulary table, written by `build.rs` and
// read by `vocab.rs` (this file is included by both).
//
// All integers are little-endian u32:
//   [0]                  number of tokens N
//   [1]                  number of hash slots S (a power of two)
//   [2 .. 2+65536]       rank of each two-byte string (index: first byte +
//                        256 × second), u32::MAX if it is not a token
//   then N + 1 words     byte offset of each token in the blob, and its end
//   then S words         hash slots: rank + 1 of the token hashed there, 0 if empty
//   then the blob: every token's bytes, in rank order.

/// Words before the token offsets.
const PAIRS_AT: usize = 2;
const PAIRS: usize = 1 << 16;

/// A fast hash of a short byte string, eight bytes at a time; the slot of a
/// token is its hash masked to the table size, then the next free slot.
fn vocab_hash(bytes: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mix = |h: u64, word: u64| (h ^ word).wrapping_mul(K).rotate_left(29);
    let mut h = (bytes.len() as u64).wrapping_mul(K);
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        h = mix(h, u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut word = 0u64;
        for (i, &b) in rest.iter().enumerate() {
            word |= u64::from(b) << (8 * i);
        }
        h = mix(h, word);
    }
    h ^ (h >> 32)
}
