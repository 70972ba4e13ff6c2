//! Downloading a GGUF file from an http(s) URL into the models directory.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::store::{self, io_err, HashingWriter};
use super::{Phase, Progress};
use crate::ModelError;

/// Whether a model spec is a URL.
pub(crate) fn is_url(spec: &str) -> bool {
    let lower = spec.get(..8).unwrap_or(spec).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// The sha256 pinned by a `#sha256=<hex>` fragment of the URL, if any.
pub(crate) fn pinned_sha256(url: &str) -> Result<Option<String>, ModelError> {
    let Some((_, fragment)) = url.split_once('#') else { return Ok(None) };
    let Some(hex) = fragment.strip_prefix("sha256=") else { return Ok(None) };
    if hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(Some(hex.to_ascii_lowercase()))
    } else {
        Err(ModelError::Download {
            name: url.to_string(),
            reason: format!("`#sha256={hex}` is not a sha256 (64 hex digits)"),
        })
    }
}

/// The cache file name of a URL: its last path segment (sanitized, with a
/// `.gguf` extension) and 8 hex digits of the URL's sha256, so two URLs
/// ending in the same file name do not collide.
pub(crate) fn file_name(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let path = path.split_once("://").map_or(path, |(_, rest)| rest);
    let last = path.split_once('/').map_or("", |(_, p)| p).rsplit('/').next().unwrap_or("");
    let mut stem: String = last
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' })
        .collect();
    stem = stem.trim_start_matches('.').to_string();
    if let Some(s) = stem.strip_suffix(".gguf") {
        stem = s.to_string();
    }
    if stem.is_empty() {
        stem = "model".into();
    }
    stem.truncate(100);
    let digest = format!("{:x}", Sha256::digest(url.as_bytes()));
    format!("{stem}-{}.gguf", &digest[..8])
}

/// Downloads `url` to `dir/file_name` through a temporary file, checks the
/// GGUF magic and the `expected` sha256 if given, and renames it into
/// place. Returns the file's sha256.
pub(crate) fn download(
    url: &str,
    dir: &Path,
    file_name: &str,
    expected: Option<&str>,
    progress: &mut dyn FnMut(Progress),
) -> Result<(PathBuf, String), ModelError> {
    let fail = |reason: String| ModelError::Download { name: url.to_string(), reason };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| fail(format!("cannot start the download runtime: {e}")))?;
    let tmp = store::temp_builder(&store::partial_prefix(file_name))
        .tempfile_in(dir)
        .map_err(io_err("cannot create a temporary file in", dir))?;
    let tmp_path = tmp.path().to_path_buf();
    let (tmp, sha, written) = runtime.block_on(async {
        let client = reqwest::Client::builder()
            .user_agent(concat!("suit/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(std::time::Duration::from_secs(30))
            // Between two reads, not for the whole (possibly 1 GB) body.
            .read_timeout(std::time::Duration::from_secs(60))
            .build()
            .map_err(|e| fail(format!("cannot build the HTTP client: {e}")))?;
        let mut response = client.get(url).send().await.map_err(|e| {
            fail(format!("request failed: {e}\n  fix: check the URL and the network"))
        })?;
        let status = response.status();
        if !status.is_success() {
            return Err(fail(format!("the server answered HTTP {status}\n  fix: check the URL")));
        }
        let total = response.content_length();
        let mut writer = HashingWriter::new(tmp, Phase::Downloading, total, progress);
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| fail(format!("download interrupted: {e}\n  fix: try again")))?
        {
            writer.write_all(&chunk).map_err(io_err("cannot write", &tmp_path))?;
        }
        let (tmp, sha, written) = writer.finish();
        if let Some(total) = total {
            if written != total {
                return Err(fail(format!(
                    "download ended after {written} of {total} bytes\n  fix: try again"
                )));
            }
        }
        Ok((tmp, sha, written))
    })?;
    let mut magic = [0u8; 4];
    if let Ok(mut file) = std::fs::File::open(&tmp_path) {
        let _ = std::io::Read::read_exact(&mut file, &mut magic);
    }
    if &magic != super::gguf::MAGIC {
        return Err(fail(format!(
            "the server sent {written} bytes that are not a GGUF file (they start with {:?})\n  \
             fix: link to the .gguf file itself (on Hugging Face, a /resolve/ URL rather than \
             a /blob/ page)",
            String::from_utf8_lossy(&magic)
        )));
    }
    if let Some(want) = expected {
        if want != sha {
            // Dropping `tmp` deletes it: nothing is installed.
            return Err(ModelError::Checksum {
                what: url.to_string(),
                expected: want.to_string(),
                actual: sha,
            });
        }
    }
    tmp.as_file().sync_all().map_err(io_err("cannot sync", &tmp_path))?;
    let target = dir.join(file_name);
    tmp.persist(&target).map_err(|e| io_err("cannot move into place", &target)(e.error))?;
    store::sync_dir(dir);
    Ok((target, sha))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_come_from_the_last_segment() {
        let a = file_name("https://host/org/repo/resolve/main/Qwen2.5-0.5B.Q4_K_M.gguf?download=1");
        assert!(a.starts_with("Qwen2.5-0.5B.Q4_K_M-") && a.ends_with(".gguf"), "{a}");
        let b = file_name("https://other/Qwen2.5-0.5B.Q4_K_M.gguf");
        assert_ne!(a, b, "same last segment, different URL");
        assert!(file_name("http://host/").starts_with("model-"));
        assert!(file_name("http://host/../../x y").starts_with("x_y-"));
        assert!(is_url("HTTPS://x") && is_url("http://x") && !is_url("models/x.gguf"));
        let hex = "AB".repeat(32);
        assert_eq!(
            pinned_sha256(&format!("http://h/x.gguf#sha256={hex}")).unwrap(),
            Some(hex.to_lowercase())
        );
        assert_eq!(pinned_sha256("http://h/x.gguf#frag").unwrap(), None);
        assert!(pinned_sha256("http://h/x.gguf#sha256=abc").is_err());
    }
}
