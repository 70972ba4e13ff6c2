//! o200k and cl100k pre-tokens of ASCII text, 64 bytes at a time.
//!
//! The scanner in [`crate::tokens`] decides one pre-token at a time, with a
//! branch on the class of each first byte and a loop over each run; on code
//! most of those branches are mispredicted. Here a window of 64 bytes is
//! classified into bit masks (one bit per byte, with SSE2 where there is
//! one), and the start of every pre-token in it is computed from them at
//! once, with shifts, carries and a bit reversal; the pre-tokens are then
//! read off the mask. The rules are the split patterns', alternative by
//! alternative (see `O200K_SPLIT` and `CL100K_SPLIT` in `tokens.rs`):
//!
//! - words: a run of letters (o200k: cut where a lower case letter is
//!   followed by an upper case one, with a contraction such as `'s` or `'ll`
//!   after it) takes the byte before it as a prefix when that byte is a
//!   blank or the only symbol of its run (unless a space before that symbol
//!   took it); cl100k: a contraction is a pre-token of its own;
//! - digits: runs cut every three digits;
//! - symbols: a run, with a space before it, then any `\r`, `\n` (and, for
//!   o200k, `/`) after it, which can take the first slashes of the next run;
//! - whitespace: a run up to its last line break, then its blanks, the last
//!   of which goes to the next pre-token.
//!
//! Only starts that the window's own bytes decide are used: the window ends
//! before the run of bytes that reaches its end, or before the first
//! non-ASCII byte, and three bytes of look-ahead are kept. The caller goes
//! on from the last start used, and takes the scanner for anything a window
//! cannot decide. Tests compare the result with the scanner and the regex.

/// Bytes in a window.
pub(crate) const WINDOW: usize = 64;

/// Bit masks of a window's bytes: bit i describes byte i.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Masks {
    non_ascii: u64,
    upper: u64,
    lower: u64,
    digit: u64,
    /// `\r` and `\n`.
    newline: u64,
    /// `\t`, `\x0b`, `\x0c` and the space.
    blank: u64,
    /// The space only (the optional space before a run of symbols).
    space: u64,
    slash: u64,
    apostrophe: u64,
}

/// Letters after an apostrophe that make contractions, in either case.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct ContractionMasks {
    /// `s`, `t`, `m`, `d`: `'s`, `'t`, `'m`, `'d`.
    one: u64,
    /// `r`, `v`: `'re`, `'ve`.
    r_v: u64,
    e: u64,
    l: u64,
}

/// Classifies a window byte by byte (the reference for [`masks`]).
#[cfg(any(test, not(target_arch = "x86_64")))]
fn masks_scalar(w: &[u8; WINDOW]) -> Masks {
    let mut m = Masks::default();
    for (i, &b) in w.iter().enumerate() {
        let bit = 1u64 << i;
        let set = |mask: &mut u64, yes: bool| *mask |= if yes { bit } else { 0 };
        set(&mut m.non_ascii, !b.is_ascii());
        set(&mut m.upper, b.is_ascii_uppercase());
        set(&mut m.lower, b.is_ascii_lowercase());
        set(&mut m.digit, b.is_ascii_digit());
        set(&mut m.newline, b == b'\r' || b == b'\n');
        set(&mut m.blank, matches!(b, b'\t' | b'\x0b' | b'\x0c' | b' '));
        set(&mut m.space, b == b' ');
        set(&mut m.slash, b == b'/');
        set(&mut m.apostrophe, b == b'\'');
    }
    m
}

#[cfg(any(test, not(target_arch = "x86_64")))]
fn contraction_masks_scalar(w: &[u8; WINDOW]) -> ContractionMasks {
    let mut c = ContractionMasks::default();
    for (i, &b) in w.iter().enumerate() {
        let bit = 1u64 << i;
        match b.to_ascii_lowercase() {
            b's' | b't' | b'm' | b'd' => c.one |= bit,
            b'r' | b'v' => c.r_v |= bit,
            b'e' => c.e |= bit,
            b'l' => c.l |= bit,
            _ => {}
        }
    }
    c
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    //! [`super::masks`] with SSE2, which every x86-64 processor has.
    // SAFETY (every `unsafe` block here): SSE2 is part of x86-64's baseline,
    // so its instructions exist wherever this code runs.
    use std::arch::x86_64::*;

    use super::{ContractionMasks, Masks, WINDOW};

    /// The four 16-byte lanes of a window.
    fn lanes(w: &[u8; WINDOW]) -> [__m128i; 4] {
        // Each load reads 16 bytes inside `w`; unaligned loads are allowed.
        std::array::from_fn(|k| unsafe { _mm_loadu_si128(w.as_ptr().add(16 * k).cast()) })
    }

    /// One bit per byte: the top bit of each byte of `test(lane)`.
    fn bits(lanes: [__m128i; 4], test: impl Fn(__m128i) -> __m128i) -> u64 {
        lanes
            .iter()
            .enumerate()
            .map(|(k, &v)| u64::from(unsafe { _mm_movemask_epi8(test(v)) } as u16) << (16 * k))
            .fold(0, |a, b| a | b)
    }

    fn eq(v: __m128i, c: u8) -> __m128i {
        unsafe { _mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8)) }
    }

    fn or(a: __m128i, b: __m128i) -> __m128i {
        unsafe { _mm_or_si128(a, b) }
    }

    /// Bytes in `lo..=hi` (both ASCII; non-ASCII bytes compare as negative).
    fn range(v: __m128i, lo: u8, hi: u8) -> __m128i {
        unsafe {
            let above = _mm_cmpgt_epi8(v, _mm_set1_epi8(lo as i8 - 1));
            let below = _mm_cmplt_epi8(v, _mm_set1_epi8(hi as i8 + 1));
            _mm_and_si128(above, below)
        }
    }

    pub(super) fn masks(w: &[u8; WINDOW]) -> Masks {
        let l = lanes(w);
        let newline = bits(l, |v| or(eq(v, b'\n'), eq(v, b'\r')));
        Masks {
            non_ascii: bits(l, |v| v),
            upper: bits(l, |v| range(v, b'A', b'Z')),
            lower: bits(l, |v| range(v, b'a', b'z')),
            digit: bits(l, |v| range(v, b'0', b'9')),
            newline,
            blank: bits(l, |v| or(range(v, b'\t', b'\r'), eq(v, b' '))) & !newline,
            space: bits(l, |v| eq(v, b' ')),
            slash: bits(l, |v| eq(v, b'/')),
            apostrophe: bits(l, |v| eq(v, b'\'')),
        }
    }

    pub(super) fn contraction_masks(w: &[u8; WINDOW]) -> ContractionMasks {
        // Setting bit 5 lower-cases a letter, and only an upper case letter
        // becomes a lower case one.
        let l = lanes(w).map(|v| or(v, unsafe { _mm_set1_epi8(0x20) }));
        ContractionMasks {
            one: bits(l, |v| or(or(eq(v, b's'), eq(v, b't')), or(eq(v, b'm'), eq(v, b'd')))),
            r_v: bits(l, |v| or(eq(v, b'r'), eq(v, b'v'))),
            e: bits(l, |v| eq(v, b'e')),
            l: bits(l, |v| eq(v, b'l')),
        }
    }
}

#[inline]
fn masks(w: &[u8; WINDOW]) -> Masks {
    #[cfg(target_arch = "x86_64")]
    return sse2::masks(w);
    #[cfg(not(target_arch = "x86_64"))]
    return masks_scalar(w);
}

#[inline]
fn contraction_masks(w: &[u8; WINDOW]) -> ContractionMasks {
    #[cfg(target_arch = "x86_64")]
    return sse2::contraction_masks(w);
    #[cfg(not(target_arch = "x86_64"))]
    return contraction_masks_scalar(w);
}

/// The highest set bit of `mask` at or below `i`; `mask` has bit 0 set.
#[inline]
fn last_at_or_below(mask: u64, i: u32) -> u32 {
    63 - (mask & (u64::MAX >> (63 - i))).leading_zeros()
}

/// What a window decided.
pub(crate) enum Window {
    /// Pre-token starts, relative to the window (bit 0, the window's own
    /// start, is set, and so is at least one more): the pre-tokens are the
    /// spans between consecutive set bits, and the last one is where the
    /// next window begins.
    Starts(u64),
    /// Nothing decided: take the scanner up to this many bytes past the
    /// window's start, then try a window again.
    Scan(usize),
}

/// The pre-token starts in `w`, whose first byte starts a pre-token, by
/// o200k's pattern or (`cl100k`) by cl100k's.
pub(crate) fn window(w: &[u8; WINDOW], cl100k: bool) -> Window {
    let m = masks(w);
    let letter = m.upper | m.lower;
    let whitespace = m.newline | m.blank;
    let symbol = !(letter | m.digit | whitespace | m.non_ascii);

    // Decided region: up to the start of the run that reaches the first
    // non-ASCII byte (or the window's end), keeping three bytes of look-ahead.
    let first_non_ascii = m.non_ascii.trailing_zeros();
    if first_non_ascii <= 3 {
        return Window::Scan(first_non_ascii as usize + 1);
    }
    let run_starts = 1
        | (letter ^ (letter << 1))
        | (m.digit ^ (m.digit << 1))
        | (whitespace ^ (whitespace << 1))
        | (symbol ^ (symbol << 1));
    let mut limit =
        last_at_or_below(run_starts, first_non_ascii.min(64) - 1).min(first_non_ascii - 3);

    // Contractions: `'s`, `'t`, `'m`, `'d` (two bytes), `'re`, `'ve`, `'ll`
    // (three). o200k: after a run of letters, as part of the word.
    let mut contracted = 0;
    // cl100k: a pre-token of their own, where an apostrophe starts one (it
    // starts a run of symbols, and no space before it took it); letters
    // right after one start a word.
    let mut after_contraction = 0;
    let after_letter = m.apostrophe & (letter << 1);
    let starts_symbols = m.apostrophe & !(symbol << 1) & !(m.space << 1);
    if cl100k && starts_symbols != 0 {
        let c = contraction_masks(w);
        let two = starts_symbols & (c.one >> 1);
        let three = starts_symbols & (((c.r_v & (c.e >> 1)) | (c.l & (c.l >> 1))) >> 1);
        after_contraction = ((two << 2) | (three << 3)) & letter;
    } else if !cl100k && after_letter != 0 {
        let c = contraction_masks(w);
        let two = after_letter & (c.one >> 1);
        let three = after_letter & (((c.r_v & (c.e >> 1)) | (c.l & (c.l >> 1))) >> 1);
        contracted = two | (two << 1) | three | (three << 1) | (three << 2);
        // After a contraction the word has ended: an apostrophe right after
        // one starts a new pre-token. Leave such chains to the scanner.
        let chained = (two | three) & ((contracted & letter) << 1);
        if chained != 0 {
            limit = limit.min(chained.trailing_zeros().saturating_sub(1));
        }
    }
    let letter = letter & !contracted;
    let lower = m.lower & !contracted;
    let symbol = symbol & !contracted;

    // A run of symbols followed by a line break takes `[\r\n/]*` (o200k) or
    // `[\r\n]*` (cl100k) after it.
    let symbol_ends = symbol & !(symbol >> 1);
    let taken_from = (symbol_ends << 1) & m.newline;
    let takeable = if cl100k { m.newline } else { m.newline | m.slash };
    let taken = ((takeable.wrapping_add(taken_from) ^ takeable) & takeable) | taken_from;
    let symbol = symbol & !taken;
    let whitespace = whitespace & !taken;

    // Symbols: a run starts a pre-token, unless a space before it took it.
    let after_space = m.space << 1;
    let symbol_starts = symbol & !(symbol << 1);
    let lone_symbol = symbol_starts & !(symbol >> 1);

    // Words: the first letter of a run, and (o200k) an upper case letter
    // after a lower case one; the byte before a run is its prefix when it is
    // a blank or a lone symbol that no space took.
    let first_letters = letter & !(letter << 1);
    let prefixed = first_letters & ((m.blank | (lone_symbol & !after_space)) << 1);
    let case_change = if cl100k { 0 } else { m.upper & !contracted & (lower << 1) };
    let word_starts = (first_letters & !prefixed) | case_change | after_contraction;

    // Whitespace: a run starts a pre-token, so do the blanks after its last
    // line break, and so does its last blank when something else follows.
    let last_newline = {
        // Reversed, the last line break of a run is the first one: either
        // the run's first byte, or the byte after the blanks it starts with.
        let ws = whitespace.reverse_bits();
        let newline = (m.newline & whitespace).reverse_bits();
        let blank = m.blank.reverse_bits();
        let first = ws & !(ws << 1);
        let past_blanks = blank.wrapping_add(first & blank) & !blank;
        ((first | past_blanks) & newline).reverse_bits()
    };
    let whitespace_starts = (whitespace & !(whitespace << 1))
        | ((last_newline << 1) & m.blank)
        | (m.blank & !(whitespace >> 1));

    // Digits: runs, cut every three digits.
    let mut digit_starts = m.digit & !(m.digit << 1);
    let whole_three = m.digit & (m.digit << 1) & (m.digit << 2);
    let mut third = digit_starts;
    loop {
        third = (third << 3) & whole_three;
        if third == 0 {
            break;
        }
        digit_starts |= third;
    }

    let starts = (symbol_starts & !after_space) | word_starts | whitespace_starts | digit_starts;
    debug_assert!(starts & 1 == 1, "a window starts at a pre-token");
    let decided = starts & (u64::MAX >> (63 - limit));
    if decided == 1 {
        return Window::Scan(1);
    }
    Window::Starts(decided)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..Default::default() })]
        #[test]
        fn simd_masks_equal_the_bytewise_ones(bytes in proptest::collection::vec(any::<u8>(), WINDOW)) {
            let w: &[u8; WINDOW] = bytes.as_slice().try_into().unwrap();
            prop_assert_eq!(masks(w), masks_scalar(w));
            prop_assert_eq!(contraction_masks(w), contraction_masks_scalar(w));
        }
    }
}
