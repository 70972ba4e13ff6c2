//! Any bytes: decode (charset sniffing, binary detection) and convert, with
//! and without main-content extraction. Must never panic; the markdown is
//! empty or ends with exactly one newline.
#![no_main]

use libfuzzer_sys::fuzz_target;
use suit_docs::{convert_bytes, ConvertOptions};

fuzz_target!(|data: &[u8]| {
    for main_content in [true, false] {
        let opts = ConvertOptions {
            base_url: url::Url::parse("https://example.com/a/b.html").ok(),
            main_content,
        };
        if let Ok(page) = convert_bytes(data, None, "fuzz", &opts) {
            let md = page.markdown;
            assert!(md.is_empty() || (md.ends_with('\n') && !md.ends_with("\n\n")));
        }
    }
});
