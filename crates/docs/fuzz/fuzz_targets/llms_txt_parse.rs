//! Any text through the llms.txt parser: never panics, and every diagnostic
//! points at a line of the input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let (doc, diags) = suit_docs::llms_txt::parse(text);
    let lines = text.lines().count().max(1);
    for d in &diags {
        assert!(d.line >= 1 && d.line <= lines, "{d:?} outside 1..={lines}");
    }
    for s in &doc.sections {
        assert!(s.entries.iter().all(|e| e.line > s.line));
    }
});
