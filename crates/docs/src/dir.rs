//! Whole-folder conversion, in parallel.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use url::Url;

use crate::{convert_bytes, ConvertOptions, Error};

/// Options for [`convert_dir`].
#[derive(Debug, Clone, Default)]
pub struct DirOptions {
    /// Site URL of the input folder's root; each page's links resolve
    /// against the page's own URL below it.
    pub base_url: Option<Url>,
    /// Write `page.md` instead of `page.html.md`.
    pub replace_extension: bool,
    /// Convert whole pages instead of only their main content.
    pub keep_chrome: bool,
}

/// What [`convert_dir`] did.
#[derive(Debug, Default)]
pub struct DirReport {
    /// Files written, as (input, output) paths.
    pub converted: Vec<(PathBuf, PathBuf)>,
    /// Pages that failed, with the reason; the others were still written.
    pub failed: Vec<Error>,
    /// Total HTML bytes read.
    pub bytes_in: u64,
    /// Total markdown bytes written.
    pub bytes_out: u64,
}

/// Lists the HTML files under `dir`, sorted, skipping hidden entries.
pub(crate) fn html_files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let meta = std::fs::metadata(dir).map_err(|e| Error::io(dir, e))?;
    if !meta.is_dir() {
        return Err(Error::io(
            dir,
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a folder"),
        ));
    }
    let mut files = Vec::new();
    for entry in ignore::WalkBuilder::new(dir).standard_filters(false).hidden(true).build() {
        let entry = entry.map_err(|e| Error::io(dir, std::io::Error::other(e.to_string())))?;
        let p = entry.path();
        let is_html = p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"));
        if is_html && entry.file_type().is_some_and(|t| t.is_file()) {
            files.push(p.to_path_buf());
        }
    }
    files.sort();
    Ok(files)
}

/// URL of `rel` (a path relative to the site root) below `base`.
pub(crate) fn page_url(base: &Url, rel: &Path) -> Option<Url> {
    let rel: Vec<String> =
        rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    let mut base = base.clone();
    if !base.path().ends_with('/') {
        let p = format!("{}/", base.path());
        base.set_path(&p);
    }
    base.join(&rel.join("/")).ok()
}

/// Writes `data` to `path` atomically (a temporary file in the same folder,
/// then a rename), creating parent folders.
pub(crate) fn write_atomic(path: &Path, data: &[u8]) -> Result<(), Error> {
    use std::io::Write;
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    let mut tmp = tempfile::NamedTempFile::new_in(parent).map_err(|e| Error::io(parent, e))?;
    tmp.write_all(data).map_err(|e| Error::io(path, e))?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

/// Markdown file name for an HTML file name: `page.html.md`, or `page.md`.
pub(crate) fn md_name(rel: &Path, replace_extension: bool) -> PathBuf {
    if replace_extension {
        rel.with_extension("md")
    } else {
        let mut s = rel.as_os_str().to_os_string();
        s.push(".md");
        PathBuf::from(s)
    }
}

/// Converts every `.html`/`.htm` file under `input` to markdown in `output`,
/// mirroring the folder tree, in parallel. A page that fails is reported in
/// [`DirReport::failed`] and does not stop the others.
pub fn convert_dir(input: &Path, output: &Path, opts: &DirOptions) -> Result<DirReport, Error> {
    let files = html_files(input)?;
    let results: Vec<Result<(PathBuf, PathBuf, u64, u64), Error>> = files
        .par_iter()
        .map(|file| {
            let rel = file.strip_prefix(input).unwrap_or(file);
            let bytes = std::fs::read(file).map_err(|e| Error::io(file, e))?;
            let copts = ConvertOptions {
                base_url: opts.base_url.as_ref().and_then(|b| page_url(b, rel)),
                main_content: !opts.keep_chrome,
            };
            let page = convert_bytes(&bytes, None, &file.display().to_string(), &copts)?;
            let out = output.join(md_name(rel, opts.replace_extension));
            write_atomic(&out, page.markdown.as_bytes())?;
            Ok((file.clone(), out, bytes.len() as u64, page.markdown.len() as u64))
        })
        .collect();
    let mut report = DirReport::default();
    for r in results {
        match r {
            Ok((i, o, bi, bo)) => {
                report.bytes_in += bi;
                report.bytes_out += bo;
                report.converted.push((i, o));
            }
            Err(e) => report.failed.push(e),
        }
    }
    Ok(report)
}
