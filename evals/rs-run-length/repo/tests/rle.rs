use codec::rle::{decode, encode};

#[test]
fn encodes_runs() {
    assert_eq!(encode("aaabcc"), "3ab2c");
    assert_eq!(encode(""), "");
    assert_eq!(encode(&"x".repeat(12)), "12x");
}

#[test]
fn decodes_short_runs() {
    assert_eq!(decode("3ab2c").unwrap(), "aaabcc");
    assert_eq!(decode("abc").unwrap(), "abc");
}

#[test]
fn decodes_multi_digit_counts() {
    assert_eq!(decode("12a").unwrap(), "a".repeat(12));
    assert_eq!(decode("b100c").unwrap(), format!("b{}", "c".repeat(100)));
    assert_eq!(decode("10é2z").unwrap(), format!("{}zz", "é".repeat(10)));
}

#[test]
fn round_trips() {
    for input in ["", "a", "wwwwwwwwwwwwbwwwwwwwwwwwwbbbw", "héééééééééééé!", "  xx  "] {
        assert_eq!(decode(&encode(input)).unwrap(), input);
    }
}

#[test]
fn trailing_count_is_an_error() {
    assert!(decode("3a4").is_err());
    assert!(decode("12").is_err());
}
