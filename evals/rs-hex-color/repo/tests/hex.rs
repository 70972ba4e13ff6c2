use colors::Rgb;

fn rgb(r: u8, g: u8, b: u8) -> Rgb {
    Rgb { r, g, b }
}

#[test]
fn long_form() {
    assert_eq!(Rgb::parse_hex("#ffaa00"), Ok(rgb(255, 170, 0)));
    assert_eq!(Rgb::parse_hex("1A2b3C"), Ok(rgb(0x1a, 0x2b, 0x3c)));
    assert_eq!(rgb(255, 170, 0).to_hex(), "#ffaa00");
}

#[test]
fn short_form() {
    assert_eq!(Rgb::parse_hex("#fa0"), Ok(rgb(255, 170, 0)));
    assert_eq!(Rgb::parse_hex("ABC"), Ok(rgb(0xaa, 0xbb, 0xcc)));
    assert_eq!(Rgb::parse_hex("#000"), Ok(rgb(0, 0, 0)));
    assert_eq!(Rgb::parse_hex("#fa0").unwrap().to_hex(), "#ffaa00");
}

#[test]
fn rejects_bad_input() {
    for bad in ["", "#", "#ab", "#abcd", "#abcde", "#abcdefa", "#ggg", "#12345g", "#é0", "fa 0"] {
        assert!(Rgb::parse_hex(bad).is_err(), "{bad:?} should be rejected");
    }
}

#[test]
fn darkness() {
    assert!(Rgb::parse_hex("#123").unwrap().is_dark());
    assert!(!Rgb::parse_hex("#fff").unwrap().is_dark());
}
