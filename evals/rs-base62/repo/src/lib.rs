//! Short ids for share links: numbers written in base 62.

/// The 62 digits, in order of value: '0'..='9' are 0-9, 'A'..='Z' are
/// 10-35 and 'a'..='z' are 36-61.
pub const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Why a string is not a base-62 number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The string was empty.
    Empty,
    /// `ch` at byte offset `pos` is not a base-62 digit.
    InvalidChar { pos: usize, ch: char },
    /// The number is larger than u64::MAX.
    Overflow,
}

/// The value of the base-62 digit `c`, or None if `c` is not one.
pub fn digit_value(c: char) -> Option<u64> {
    todo!()
}

/// `n` in base 62, most significant digit first, with no leading zeros
/// (0 is "0"): encode(61) == "z", encode(62) == "10".
pub fn encode(n: u64) -> String {
    todo!()
}

/// `n` in base 62, padded on the left with '0' to at least `width`
/// characters: encode_padded(62, 4) == "0010". Longer numbers are not cut.
pub fn encode_padded(n: u64, width: usize) -> String {
    todo!()
}

/// The number the base-62 string `s` stands for; leading zeros are fine
/// ("007" is 7). The first invalid character is reported, with its byte
/// offset; a value above u64::MAX is an Overflow (never a panic or a
/// wrapped-around number).
pub fn decode(s: &str) -> Result<u64, DecodeError> {
    todo!()
}
