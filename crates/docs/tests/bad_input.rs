//! Bad input never panics and gets a clear error.

use suit_docs::{convert_bytes, convert_dir, convert_html, ConvertOptions, DirOptions, Error};

fn opts() -> ConvertOptions {
    ConvertOptions::default()
}

#[test]
fn malformed_html_converts() {
    let cases = [
        "<p>unclosed <em>emphasis <strong>and strong",
        "</div></p></li>stray end tags<p>",
        "<table><td>cell without row<td>another</table>",
        "<ul><li>a<li>b</ol><p>mismatched",
        "<<<>>>&&&;&#xZZZZ;&#99999999;<a href=>x</a>",
        "<pre><code>unterminated code",
        "<script>never closed",
        "<!-- unterminated comment",
        "<h1><h2>nested headings</h1></h2>",
        "<a href=\"x\"><a href=\"y\">nested links</a></a>",
        "<table><tr><td colspan=0 rowspan=99999>x</td></tr><tr><td colspan=abc>y</td></tr></table>",
        "<ol start=-5><li>negative</li></ol><ol start=99999999999999999999><li>huge</li></ol>",
        "\u{0}\u{1}\u{FEFF}<p>\u{0}nul</p>",
        "",
    ];
    for html in cases {
        let md = convert_html(html, &opts()).markdown;
        assert!(md.is_empty() || md.ends_with('\n'), "{html:?} → {md:?}");
    }
    assert_eq!(convert_html("<p>unclosed <em>emphasis", &opts()).markdown, "unclosed *emphasis*\n");
    assert_eq!(convert_html("<ul><li>a<li>b</ul>", &opts()).markdown, "- a\n- b\n");
}

#[test]
fn random_bytes_never_panic() {
    // A deterministic generator over HTML-ish alphabets.
    let alphabet: Vec<&str> = vec![
        "<p>",
        "</p>",
        "<li>",
        "<ul>",
        "</ul>",
        "<ol start=3>",
        "<table>",
        "<tr>",
        "<td>",
        "<th>",
        "</table>",
        "<pre>",
        "</pre>",
        "<code>",
        "</code>",
        "<em>",
        "</em>",
        "<a href=x>",
        "</a>",
        "<blockquote>",
        "</blockquote>",
        "<h2>",
        "</h2>",
        "<br>",
        "<hr>",
        "<dl><dt>",
        "<dd>",
        "*",
        "_",
        "`",
        "[",
        "]",
        "\\",
        "#",
        "-",
        "1.",
        " ",
        "\n",
        "text",
        "&amp;",
        "|",
        "<img src=y alt=z>",
    ];
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..500 {
        let mut html = String::new();
        for _ in 0..60 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            html.push_str(alphabet[(state % alphabet.len() as u64) as usize]);
        }
        let md =
            convert_html(&html, &ConvertOptions { base_url: None, main_content: false }).markdown;
        assert!(md.is_empty() || md.ends_with('\n'));
    }
}

#[test]
fn very_large_page_converts() {
    let mut html = String::from("<html><body><main>");
    for i in 0..60_000 {
        html.push_str(&format!(
            "<h2>Section {i}</h2><p>Paragraph {i} with <a href=\"/p/{i}\">a link</a> and <code>code</code>.</p>\
             <table><tr><th>k</th><th>v</th></tr><tr><td>{i}</td><td>x</td></tr></table>"
        ));
    }
    html.push_str("</main></body></html>");
    assert!(html.len() > 8_000_000);
    let md = convert_html(&html, &opts()).markdown;
    assert!(md.contains(
        "## Section 59999\n\nParagraph 59999 with [a link](/p/59999) and `code`.\n\n| k | v |"
    ));
}

#[test]
fn non_utf8_pages_honour_their_charset() {
    let latin1 = b"<html><head><meta charset=\"ISO-8859-1\"><title>Caf\xe9</title></head><body><main><p>Cr\xe8me br\xfbl\xe9e</p></main></body></html>";
    let page = convert_bytes(latin1, None, "latin1.html", &opts()).unwrap();
    assert_eq!(page.markdown, "Crème brûlée\n");
    assert_eq!(page.title.as_deref(), Some("Café"));
    let sjis = b"<meta http-equiv=\"content-type\" content=\"text/html; charset=shift_jis\"><p>\x93\xfa\x96\x7b\x8c\xea</p>";
    assert_eq!(convert_bytes(sjis, None, "sjis.html", &opts()).unwrap().markdown, "日本語\n");
    // The HTTP header wins over the meta declaration.
    let page = convert_bytes(
        b"<meta charset=utf-8><p>\xe9t\xe9</p>",
        Some("text/html; charset=windows-1252"),
        "x",
        &opts(),
    )
    .unwrap();
    assert_eq!(page.markdown, "été\n");
}

#[test]
fn binary_files_are_rejected_clearly() {
    let err =
        convert_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", None, "logo.html", &opts()).unwrap_err();
    assert!(matches!(err, Error::Binary { .. }));
    assert_eq!(
        err.to_string(),
        "logo.html: not an HTML page: PNG image at byte 0; pass HTML files only"
    );

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("good.html"), "<p>fine</p>").unwrap();
    std::fs::write(dir.path().join("bad.html"), b"<p>\0\0\0\x01\x02").unwrap();
    let out = tempfile::tempdir().unwrap();
    let report = convert_dir(dir.path(), out.path(), &DirOptions::default()).unwrap();
    assert_eq!(report.converted.len(), 1);
    assert_eq!(report.failed.len(), 1);
    let msg = report.failed[0].to_string();
    assert!(msg.contains("bad.html") && msg.contains("NUL byte) at byte 3"), "{msg}");
    assert!(!out.path().join("bad.html.md").exists());
    assert_eq!(std::fs::read_to_string(out.path().join("good.html.md")).unwrap(), "fine\n");
}

#[test]
fn missing_folder_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let err = convert_dir(&missing, dir.path(), &DirOptions::default()).unwrap_err();
    assert!(matches!(err, Error::Io { .. }));
    assert!(err.to_string().starts_with(&missing.display().to_string()), "{err}");
}
