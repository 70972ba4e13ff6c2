//! HTML documentation for LLMs.
//!
//! `suit-docs` turns documentation written for people into text an agent can
//! read and act on:
//!
//! - [`convert_html`] / [`convert_bytes`]: HTML → CommonMark with GFM tables,
//!   keeping only the main content; [`convert_dir`] does a whole folder in
//!   parallel.
//! - [`llms_txt`]: build an `llms.txt` index (plus `llms-full.txt` and `.md`
//!   copies) for a folder or a site, and check one against the llms.txt
//!   proposal.
//! - [`lint`]: find GUI-only instructions ("click", "navigate to") in docs
//!   and suggest the matching `curl` command from an OpenAPI spec.
//!
//! ```
//! use suit_docs::{convert_html, ConvertOptions};
//! let page = convert_html(
//!     "<main><h1>Install</h1><p>Run <code>cargo install suit</code>.</p></main>",
//!     &ConvertOptions::default(),
//! );
//! assert_eq!(page.markdown, "# Install\n\nRun `cargo install suit`.\n");
//! ```

mod convert;
mod decode;
mod dir;
mod dom;
mod error;
mod extract;
pub mod fetch;
mod lex;
pub mod lint;
pub mod llms_txt;

pub use convert::{convert_html, ConvertOptions, Markdown};
pub use dir::{convert_dir, DirOptions, DirReport};
pub use error::Error;

/// Converts the bytes of an HTML page: honours a byte-order mark, the
/// `content_type` header's charset (if given) and a `<meta charset>`
/// declaration; rejects binary data with [`Error::Binary`].
pub fn convert_bytes(
    bytes: &[u8],
    content_type: Option<&str>,
    source: &str,
    opts: &ConvertOptions,
) -> Result<Markdown, Error> {
    let (text, _) = decode::decode_html(bytes, content_type).map_err(|e| match e {
        decode::NotText::Binary { offset, kind } => {
            Error::Binary { input: source.to_string(), offset, kind }
        }
    })?;
    Ok(convert_html(&text, opts))
}
