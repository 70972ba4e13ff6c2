//! Bytes → text: byte-order marks, the declared charset, binary detection.

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};

/// Why bytes are not an HTML page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NotText {
    /// A NUL byte or a known binary signature was found at this offset.
    Binary { offset: usize, kind: &'static str },
}

/// Decodes an HTML page. `content_type` is an HTTP `Content-Type` header, if any.
///
/// Order, as browsers do: byte-order mark, then the transport charset, then a
/// `<meta charset>` / `http-equiv` declaration in the first 1024 bytes, then
/// UTF-8 if the bytes are valid UTF-8, else windows-1252.
pub(crate) fn decode_html<'a>(
    bytes: &'a [u8],
    content_type: Option<&str>,
) -> Result<(Cow<'a, str>, &'static Encoding), NotText> {
    if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        let (text, _) = enc.decode_without_bom_handling(&bytes[bom_len..]);
        return Ok((text, enc));
    }
    check_binary(bytes)?;
    let declared = content_type
        .and_then(charset_param)
        .or_else(|| sniff_meta(&bytes[..bytes.len().min(1024)]))
        .and_then(|label| Encoding::for_label(label.as_bytes()));
    let enc = match declared {
        // A page cannot really be UTF-16 without a BOM; the spec maps it to UTF-8.
        Some(e) if e == encoding_rs::UTF_16LE || e == encoding_rs::UTF_16BE => UTF_8,
        Some(e) => e,
        None if std::str::from_utf8(bytes).is_ok() => UTF_8,
        None => WINDOWS_1252,
    };
    let (text, _) = enc.decode_without_bom_handling(bytes);
    Ok((text, enc))
}

/// Rejects binary data: NUL bytes or well-known file signatures near the start.
pub(crate) fn check_binary(bytes: &[u8]) -> Result<(), NotText> {
    const SIGNATURES: &[(&[u8], &str)] = &[
        (b"\x89PNG", "PNG image"),
        (b"GIF8", "GIF image"),
        (b"\xFF\xD8\xFF", "JPEG image"),
        (b"%PDF-", "PDF document"),
        (b"PK\x03\x04", "ZIP archive"),
        (b"\x1F\x8B", "gzip data"),
        (b"\x7FELF", "ELF executable"),
        (b"wOFF", "web font"),
        (b"wOF2", "web font"),
    ];
    for (sig, kind) in SIGNATURES {
        if bytes.starts_with(sig) {
            return Err(NotText::Binary { offset: 0, kind });
        }
    }
    let head = &bytes[..bytes.len().min(8192)];
    if let Some(offset) = memchr_nul(head) {
        return Err(NotText::Binary { offset, kind: "binary data (NUL byte)" });
    }
    Ok(())
}

fn memchr_nul(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == 0)
}

/// `charset=` parameter of a Content-Type value.
fn charset_param(ct: &str) -> Option<String> {
    let lower = ct.to_ascii_lowercase();
    let i = lower.find("charset=")?;
    let v = lower[i + 8..].trim_start_matches(['"', '\'']);
    let end = v.find(|c: char| c == ';' || c == '"' || c == '\'' || c.is_whitespace());
    let v = &v[..end.unwrap_or(v.len())];
    (!v.is_empty()).then(|| v.to_string())
}

/// Finds `<meta charset=X>` or `<meta http-equiv=content-type content="...charset=X">`.
fn sniff_meta(head: &[u8]) -> Option<String> {
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    let mut at = 0;
    while let Some(pos) = find(&lower[at..], b"<meta") {
        let start = at + pos;
        let end = lower[start..].iter().position(|&c| c == b'>').map_or(lower.len(), |e| start + e);
        let tag = String::from_utf8_lossy(&lower[start..end]);
        if let Some(i) = tag.find("charset") {
            let rest = tag[i + 7..].trim_start();
            if let Some(rest) = rest.strip_prefix('=') {
                let v = rest.trim_start().trim_start_matches(['"', '\'']);
                let e = v.find(|c: char| {
                    c == '"' || c == '\'' || c == ';' || c == '/' || c.is_whitespace()
                });
                let v = &v[..e.unwrap_or(v.len())];
                if !v.is_empty() {
                    return Some(v.to_string());
                }
            }
        }
        at = end;
    }
    None
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_charsets() {
        let latin1 = b"<meta charset=\"iso-8859-1\"><p>caf\xe9</p>";
        let (t, e) = decode_html(latin1, None).unwrap();
        assert!(t.contains("café"), "{t}");
        assert_eq!(e.name(), "windows-1252");
        let sjis = b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=Shift_JIS\"><p>\x93\xfa\x96\x7b</p>";
        assert!(decode_html(sjis, None).unwrap().0.contains("日本"));
        let (t, _) =
            decode_html(b"<p>caf\xe9</p>", Some("text/html; charset=ISO-8859-15")).unwrap();
        assert!(t.contains("café"));
        // Undeclared and not UTF-8: windows-1252.
        assert!(decode_html(b"<p>\x93q\x94</p>", None).unwrap().0.contains("\u{201c}q\u{201d}"));
        // UTF-16 with a BOM is text, not binary.
        let mut utf16 = vec![0xFF, 0xFE];
        for u in "<p>hé</p>".encode_utf16() {
            utf16.extend(u.to_le_bytes());
        }
        assert_eq!(decode_html(&utf16, None).unwrap().0, "<p>hé</p>");
    }

    #[test]
    fn binary_is_rejected() {
        assert!(matches!(
            decode_html(b"\x89PNG\r\n\x1a\n", None),
            Err(NotText::Binary { offset: 0, .. })
        ));
        assert_eq!(
            decode_html(b"<p>ab\0cd", None).unwrap_err(),
            NotText::Binary { offset: 5, kind: "binary data (NUL byte)" }
        );
    }
}
