//! Reading a file and deciding, from its bytes, whether it is text.

use std::path::Path;

/// A file's content as text, or the verdict that it is binary.
#[derive(Debug)]
pub(crate) enum Content {
    /// Text; `replaced` counts invalid UTF-8 sequences shown as U+FFFD.
    Text { text: String, replaced: usize },
    /// Binary content, left out of the digest.
    Binary,
}

/// How many leading bytes are inspected for NUL bytes and encodings.
const SNIFF: usize = 8192;

/// Classifies `bytes` as text or binary, by content only.
pub(crate) fn classify(bytes: Vec<u8>) -> Content {
    let head = &bytes[..bytes.len().min(SNIFF)];
    match content_inspector::inspect(head) {
        content_inspector::ContentType::UTF_16LE => {
            return decode_utf16(&bytes[2..], u16::from_le_bytes)
        }
        content_inspector::ContentType::UTF_16BE => {
            return decode_utf16(&bytes[2..], u16::from_be_bytes)
        }
        content_inspector::ContentType::UTF_32LE | content_inspector::ContentType::UTF_32BE => {
            return Content::Binary
        }
        content_inspector::ContentType::BINARY => return Content::Binary,
        // `inspect` looks for NUL bytes only when there is no byte order mark.
        content_inspector::ContentType::UTF_8_BOM if memchr_nul(head) => return Content::Binary,
        _ => {}
    }
    let bytes = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(_) => bytes[3..].to_vec(),
        None => bytes,
    };
    match String::from_utf8(bytes) {
        Ok(text) => Content::Text { text, replaced: 0 },
        Err(err) => {
            let bytes = err.into_bytes();
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let replaced = text.matches('\u{FFFD}').count();
            // Mostly undecodable: binary without NUL bytes (compressed data...).
            if replaced * 10 > bytes.len().max(1) {
                Content::Binary
            } else {
                Content::Text { text, replaced }
            }
        }
    }
}

fn memchr_nul(bytes: &[u8]) -> bool {
    bytes.contains(&0)
}

fn decode_utf16(bytes: &[u8], word: fn([u8; 2]) -> u16) -> Content {
    let units = bytes.chunks_exact(2).map(|c| word([c[0], c[1]]));
    let mut replaced = 0;
    let text: String = char::decode_utf16(units)
        .map(|r| {
            r.unwrap_or_else(|_| {
                replaced += 1;
                '\u{FFFD}'
            })
        })
        .collect();
    Content::Text { text, replaced }
}

/// Reads and classifies the file at `path`. A Jupyter notebook's text is
/// its cells without outputs ([`crate::notebook`]).
pub(crate) fn read(path: &Path) -> std::io::Result<Content> {
    let content = classify(std::fs::read(path)?);
    if !crate::notebook::is_notebook(path) {
        return Ok(content);
    }
    Ok(match content {
        Content::Text { text, replaced } => match crate::notebook::as_cells(&text) {
            Some(cells) => Content::Text { text: cells, replaced },
            None => Content::Text { text, replaced },
        },
        binary => binary,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_text_whatever_the_extension() {
        match classify(b"const x: number = 1;\n".to_vec()) {
            Content::Text { text, replaced } => {
                assert_eq!(text, "const x: number = 1;\n");
                assert_eq!(replaced, 0);
            }
            Content::Binary => panic!("TypeScript is not binary"),
        }
    }

    #[test]
    fn nul_bytes_and_noise_are_binary() {
        assert!(matches!(classify(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec()), Content::Binary));
        let noise: Vec<u8> =
            (0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8 | 0x80).collect();
        assert!(matches!(classify(noise), Content::Binary));
        // A UTF-8 byte order mark does not make NUL bytes text.
        assert!(matches!(classify(b"\xEF\xBB\xBFdata\0\0\x01\x02".to_vec()), Content::Binary));
        assert!(matches!(classify(b"\xEF\xBB\xBFplain text\n".to_vec()), Content::Text { .. }));
    }

    #[test]
    fn latin1_text_is_kept_with_replacements() {
        let mut bytes =
            b"caf\xe9 au lait, na\xefve r\xe9sum\xe9 of a long enough sentence here\n".to_vec();
        bytes.extend_from_slice(b"more plain ascii text to keep the ratio low\n");
        match classify(bytes) {
            Content::Text { text, replaced } => {
                assert_eq!(replaced, 4);
                assert!(text.starts_with("caf\u{FFFD} au lait"));
            }
            Content::Binary => panic!("latin-1 text is text"),
        }
    }

    #[test]
    fn utf16_with_bom_is_decoded() {
        let mut bytes = vec![0xFF, 0xFE];
        for u in "hi there".encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        match classify(bytes) {
            Content::Text { text, .. } => assert_eq!(text, "hi there"),
            Content::Binary => panic!("utf-16 is text"),
        }
    }
}
