//! Any text through docs-lint (markdown and HTML readers): never panics, and
//! every span lies inside the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|text: &str| {
    for html in [false, true] {
        for f in suit_docs::lint::lint_text(Path::new("fuzz"), text, html, None) {
            assert!(f.line >= 1 && f.end_line >= f.line);
        }
    }
});
