// The layout of a tokenizer's vocabulary table, written by `build.rs` and
// read by `vocab.rs` (this file is included by both).
//
// All integers are little-endian u32:
//   [0]            number of tokens N
//   [1]            number of hash slots S (a power of two)
//   [2 .. 3+N]     byte offset of each token in the blob, and the blob's end
//   [3+N .. 3+N+S] hash slots: rank + 1 of the token hashed there, 0 if empty
//   then the blob: every token's bytes, in rank order.

/// FNV-1a, 64-bit: the slot of a token is its hash masked to the table size,
/// then the next free slot (linear probing).
fn vocab_hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}
