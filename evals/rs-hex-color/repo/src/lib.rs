//! sRGB colors for the theme editor.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb {
    pub r: u8,
    pub g: u8,
    pub b: u8,
}

impl Rgb {
    /// Parses "#rrggbb"; hex digits in either case, the '#' is optional.
    pub fn parse_hex(s: &str) -> Result<Rgb, String> {
        let hex = s.strip_prefix('#').unwrap_or(s);
        if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(format!("not a hex color: {s:?}"));
        }
        let channel = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).unwrap();
        Ok(Rgb { r: channel(0), g: channel(2), b: channel(4) })
    }

    /// "#rrggbb" in lower case.
    pub fn to_hex(&self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.r, self.g, self.b)
    }

    /// True if white text reads better than black on this background.
    pub fn is_dark(&self) -> bool {
        let luma = 299 * self.r as u32 + 587 * self.g as u32 + 114 * self.b as u32;
        luma < 128_000
    }
}
