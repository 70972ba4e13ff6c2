use std::path::PathBuf;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The input is not a text page.
    #[error("{input}: not an HTML page: {kind} at byte {offset}; pass HTML files only")]
    Binary {
        /// File or URL.
        input: String,
        /// Where the binary data was found.
        offset: usize,
        /// What it looks like.
        kind: &'static str,
    },
    /// An HTTP request failed or returned an error status.
    #[error("{url}: {message}")]
    Http {
        /// The URL requested.
        url: String,
        /// What happened, and what to do.
        message: String,
    },
    /// A URL could not be parsed.
    #[error("invalid URL {url:?}: {message}")]
    Url {
        /// The text given.
        url: String,
        /// Why it is invalid.
        message: String,
    },
    /// An input file could not be parsed (for example an OpenAPI spec).
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
}
