use shortid::{decode, digit_value, encode, encode_padded, DecodeError};

#[test]
fn digit_values() {
    assert_eq!(digit_value('0'), Some(0));
    assert_eq!(digit_value('9'), Some(9));
    assert_eq!(digit_value('A'), Some(10));
    assert_eq!(digit_value('Z'), Some(35));
    assert_eq!(digit_value('a'), Some(36));
    assert_eq!(digit_value('z'), Some(61));
    assert_eq!(digit_value('-'), None);
    assert_eq!(digit_value('é'), None);
}

#[test]
fn encoding() {
    assert_eq!(encode(0), "0");
    assert_eq!(encode(9), "9");
    assert_eq!(encode(61), "z");
    assert_eq!(encode(62), "10");
    assert_eq!(encode(3843), "zz");
    assert_eq!(encode(3844), "100");
    assert_eq!(encode(12345), "3D7");
    assert_eq!(encode(1234567890), "1LY7VK");
    assert_eq!(encode(u64::MAX), "LygHa16AHYF");
}

#[test]
fn padding() {
    assert_eq!(encode_padded(62, 4), "0010");
    assert_eq!(encode_padded(0, 3), "000");
    assert_eq!(encode_padded(3844, 2), "100");
    assert_eq!(encode_padded(5, 0), "5");
}

#[test]
fn decoding() {
    assert_eq!(decode("0"), Ok(0));
    assert_eq!(decode("z"), Ok(61));
    assert_eq!(decode("10"), Ok(62));
    assert_eq!(decode("007"), Ok(7));
    assert_eq!(decode("3D7"), Ok(12345));
    assert_eq!(decode("LygHa16AHYF"), Ok(u64::MAX));
}

#[test]
fn round_trip() {
    let mut n: u64 = 1;
    for _ in 0..200 {
        assert_eq!(decode(&encode(n)), Ok(n));
        assert_eq!(decode(&encode_padded(n, 12)), Ok(n));
        n = n.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    }
}

#[test]
fn errors() {
    assert_eq!(decode(""), Err(DecodeError::Empty));
    assert_eq!(decode("ab-c"), Err(DecodeError::InvalidChar { pos: 2, ch: '-' }));
    assert_eq!(decode("éa"), Err(DecodeError::InvalidChar { pos: 0, ch: 'é' }));
    assert_eq!(decode("aé_"), Err(DecodeError::InvalidChar { pos: 1, ch: 'é' }));
    assert_eq!(decode("a b"), Err(DecodeError::InvalidChar { pos: 1, ch: ' ' }));
    assert_eq!(decode("LygHa16AHYG"), Err(DecodeError::Overflow));
    assert_eq!(decode("zzzzzzzzzzzzzzzzzzzz"), Err(DecodeError::Overflow));
    assert_eq!(decode("00000000000000000000001"), Ok(1));
}
