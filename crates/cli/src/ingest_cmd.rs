//! `suit ingest`: a repository as one text an LLM can read.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;
use suit_ingest::{
    default_cache_dir, ingest, Format, IngestError, IngestOptions, Progress, TokenCounter,
    Tokenizer, TokenizerKind, DEFAULT_MAX_FILE_SIZE,
};
use suit_model::catalog::Catalog;
use suit_model::llama::ModelTokenizer;
use suit_model::BackendKind;
use suit_model::Task;

/// Turn a repository into one text an LLM can read.
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Directory, file, git URL (https://host/owner/repo[/tree/REF/SUBPATH]) or owner/repo.
    #[arg(default_value = ".")]
    source: String,
    /// Write the digest to FILE (atomically) instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Output format: text, markdown, xml or json.
    #[arg(short, long, default_value = "text")]
    format: Format,
    /// Only files matching GLOB (repeatable; a bare name matches at any depth).
    #[arg(short, long, value_name = "GLOB")]
    include: Vec<String>,
    /// Leave out files and directories matching GLOB (repeatable).
    #[arg(short, long, value_name = "GLOB")]
    exclude: Vec<String>,
    /// Include hidden files and directories.
    #[arg(long)]
    hidden: bool,
    /// Follow symbolic links.
    #[arg(long)]
    follow_links: bool,
    /// Do not apply the default ignore list (lockfiles, build outputs, vendored deps, minified assets).
    #[arg(long)]
    no_default_ignores: bool,
    /// Skip files larger than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_FILE_SIZE)]
    max_file_size: u64,
    /// Tokenizer: o200k, cl100k, model (the configured local model's own
    /// tokenizer) or model:NAME (a catalog model or a .gguf file).
    #[arg(long, default_value = "o200k", value_name = "TOKENIZER")]
    tokenizer: String,
    /// Pack the digest into at most N tokens: important files in full, then outlines, then paths.
    #[arg(long, value_name = "N")]
    tokens: Option<usize>,
    /// Rank these files (paths or globs) first when packing (repeatable).
    #[arg(long = "file", value_name = "PATH")]
    files: Vec<String>,
    /// Leave out files containing secrets instead of redacting them.
    #[arg(long)]
    drop_secrets: bool,
    /// Branch, tag or commit of a remote repository.
    #[arg(long = "ref", value_name = "REF")]
    git_ref: Option<String>,
    /// Count every file afresh: neither use nor update the cache of token
    /// counts (kept per file content in the cache directory).
    #[arg(long)]
    no_cache: bool,
}

/// Runs `suit ingest`.
pub fn run(args: IngestArgs, config_file: Option<&Path>) -> Result<ExitCode> {
    let tokenizer = tokenizer(&args.tokenizer, config_file)?;
    let options = IngestOptions {
        source: args.source,
        git_ref: args.git_ref,
        include: args.include,
        exclude: args.exclude,
        hidden: args.hidden,
        follow_links: args.follow_links,
        default_ignores: !args.no_default_ignores,
        max_file_size: args.max_file_size,
        format: args.format,
        tokenizer,
        token_budget: args.tokens,
        named_files: args.files,
        drop_secrets: args.drop_secrets,
        cache_dir: None,
        count_cache: (!args.no_cache).then(|| default_cache_dir().join("ingest")),
    };
    let view = ProgressView::new();
    let progress = |p: Progress| view.show(p);
    // A file is written beside its place, then renamed over it. stdout, a
    // device or a pipe (`-o /dev/stdout`, a FIFO) is written into as the
    // digest is produced: a rename would replace a device with a file.
    let file_target = args
        .output
        .as_deref()
        .filter(|p| !std::fs::metadata(p).is_ok_and(|m| suit_store::is_special(&m)));
    let report = match file_target {
        None => {
            let out: Box<dyn Write> = match &args.output {
                Some(path) => Box::new(
                    std::fs::OpenOptions::new()
                        .write(true)
                        .open(path)
                        .with_context(|| format!("cannot write {}", path.display()))?,
                ),
                None => Box::new(std::io::stdout().lock()),
            };
            let mut w = std::io::BufWriter::with_capacity(1 << 16, out);
            match ingest(&options, &mut w, &progress) {
                Ok(r) => r,
                // `suit ingest | head`: the reader left; not an error.
                Err(IngestError::Write(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                    return Ok(ExitCode::SUCCESS)
                }
                Err(e) => return Err(e.into()),
            }
        }
        Some(path) => {
            // Write beside the target, then rename: never a half-written digest.
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."));
            let tmp = tempfile::NamedTempFile::new_in(dir)
                .with_context(|| format!("cannot create a file in {}", dir.display()))?;
            let report = {
                let mut w = std::io::BufWriter::new(EarlyWriteback::new(tmp.as_file()));
                let r = ingest(&options, &mut w, &progress)?;
                w.flush()?;
                r
            };
            // A temp file is private (0600); the digest gets ordinary permissions.
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                tmp.as_file().set_permissions(std::fs::Permissions::from_mode(0o644))?;
            }
            tmp.persist(path).with_context(|| format!("cannot write {}", path.display()))?;
            report
        }
    };
    view.finish();
    for s in &report.secrets {
        eprintln!(
            "secret {}: {}:{} ({})",
            if options.drop_secrets { "dropped" } else { "redacted" },
            s.path,
            s.line,
            s.kind
        );
    }
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    for s in &report.skipped {
        if matches!(
            s.reason,
            suit_ingest::SkipReason::Unreadable { .. }
                | suit_ingest::SkipReason::SymlinkLoop { .. }
        ) {
            eprintln!("skipped {}: {}", s.path, s.reason);
        }
    }
    let shortened = report.shortened().count();
    eprintln!(
        "{} files, {} tokens ({}){}{}",
        report.files.len() - shortened,
        report.digest_tokens.unwrap_or(report.content_tokens),
        report.tokenizer,
        if shortened > 0 { format!(", {shortened} shortened") } else { String::new() },
        if report.skipped.is_empty() {
            String::new()
        } else {
            format!(", {} skipped", report.skipped.len())
        },
    );
    print_largest(&report.files);
    if !report.is_complete() {
        for p in &report.problems {
            eprintln!("error: {p}");
        }
        eprintln!("error: the digest is incomplete");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// How many of the files with the most tokens the summary names: what to
/// `--exclude`, or what `--tokens N` shortens first.
const LARGEST: usize = 5;

/// Prints the files with the most tokens, with their share of the whole,
/// when there are more than [`LARGEST`] files.
fn print_largest(files: &[suit_ingest::FileReport]) {
    if files.len() <= LARGEST {
        return;
    }
    let total: usize = files.iter().map(|f| f.full_tokens).sum();
    let mut largest: Vec<_> = files.iter().collect();
    largest.sort_by(|a, b| b.full_tokens.cmp(&a.full_tokens).then_with(|| a.path.cmp(&b.path)));
    eprintln!("largest files:");
    for f in &largest[..LARGEST] {
        let share = 100.0 * f.full_tokens as f64 / total.max(1) as f64;
        eprintln!("  {:>9} tokens {share:>5.1}%  {}", f.full_tokens, f.path);
    }
}

/// The tokenizer named by `--tokenizer`: a built-in one, or a local model's.
fn tokenizer(spec: &str, config_file: Option<&Path>) -> Result<Tokenizer> {
    if let Ok(kind) = spec.parse::<TokenizerKind>() {
        return Ok(kind.into());
    }
    let model = match spec.strip_prefix("model:") {
        Some(name) if !name.trim().is_empty() => name.trim().to_string(),
        _ if spec == "model" => active_local_model(config_file)?,
        _ => anyhow::bail!(
            "unknown tokenizer {spec:?}; choose o200k, cl100k, model (the configured local \
             model's) or model:NAME (a catalog model or a .gguf file)"
        ),
    };
    let catalog = Catalog::builtin()?;
    if catalog.pending(&model)?.is_some() {
        anyhow::bail!(
            "the model {model} is not downloaded; run `suit models pull {model}` first, \
             or count with --tokenizer o200k"
        );
    }
    let path = catalog.resolve(&model, &mut |_| {})?.path;
    let vocab = ModelTokenizer::load(&path)
        .with_context(|| format!("cannot load the tokenizer of {}", path.display()))?;
    Ok(Tokenizer::Custom(Arc::new(ModelCounter(vocab))))
}

/// The model the `chat` role uses first among the embedded backends.
fn active_local_model(config_file: Option<&Path>) -> Result<String> {
    let config = crate::config::load_here(config_file)?;
    let embedded =
        |name: &String| config.model.backends.get(name).filter(|b| b.kind == BackendKind::Embedded);
    config.model.roles.chain(Task::Chat).iter().find_map(embedded).map(|b| b.model.clone()).context(
        "no embedded model is configured for chat, so there is no local tokenizer; \
             name one with --tokenizer model:NAME or model:PATH.gguf",
    )
}

/// A model's tokenizer as `ingest` counts with it.
struct ModelCounter(ModelTokenizer);

impl TokenCounter for ModelCounter {
    fn name(&self) -> &str {
        self.0.name()
    }

    fn identity(&self) -> String {
        self.0.identity().to_string()
    }

    fn count(&self, text: &str) -> usize {
        self.0.count(text)
    }
}

/// Progress on stderr: cloning is always said; on a terminal, a bar for
/// reading and writing appears once a run has taken longer than [`Self::QUIET`].
struct ProgressView {
    started: std::time::Instant,
    terminal: bool,
    bar: std::sync::Mutex<Option<(indicatif::ProgressBar, &'static str)>>,
}

impl ProgressView {
    /// Runs shorter than this show no bar.
    const QUIET: std::time::Duration = std::time::Duration::from_millis(500);

    fn new() -> Self {
        use std::io::IsTerminal;
        Self {
            started: std::time::Instant::now(),
            terminal: std::io::stderr().is_terminal(),
            bar: std::sync::Mutex::new(None),
        }
    }

    fn show(&self, p: Progress) {
        let (phase, done, total) = match p {
            Progress::Cloning { url } => return eprintln!("cloning {url}"),
            Progress::Read { done, total } => ("counting", done, total),
            Progress::Written { done, total } => ("writing", done, total),
            _ => return,
        };
        if !self.terminal || self.started.elapsed() < Self::QUIET {
            return;
        }
        let mut slot = self.bar.lock().unwrap_or_else(|e| e.into_inner());
        if slot.as_ref().is_none_or(|(_, shown)| *shown != phase) {
            if let Some((old, _)) = slot.take() {
                old.finish_and_clear();
            }
            let bar = indicatif::ProgressBar::with_draw_target(
                Some(total as u64),
                indicatif::ProgressDrawTarget::stderr(),
            );
            bar.set_style(
                indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} files")
                    .expect("valid template")
                    .progress_chars("=> "),
            );
            bar.set_message(phase);
            *slot = Some((bar, phase));
        }
        if let Some((bar, _)) = slot.as_ref() {
            bar.set_position(done as u64);
        }
    }

    /// Clears the bar before the summary lines.
    fn finish(&self) {
        if let Some((bar, _)) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).take() {
            bar.finish_and_clear();
        }
    }
}

/// A file being written whose full chunks the kernel is asked to start
/// writing to disk right away (Linux `sync_file_range`), while the digest
/// goes on. ext4 writes out a file that is renamed over another before the
/// rename returns; started early, that work overlaps producing the digest
/// instead of following it.
struct EarlyWriteback<'a> {
    file: &'a std::fs::File,
    written: u64,
    started: u64,
}

impl<'a> EarlyWriteback<'a> {
    /// Bytes between two requests.
    const CHUNK: u64 = 4 << 20;

    fn new(file: &'a std::fs::File) -> Self {
        Self { file, written: 0, started: 0 }
    }
}

impl Write for EarlyWriteback<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = (&mut &*self.file).write(buf)?;
        self.written += n as u64;
        if self.written - self.started >= Self::CHUNK {
            #[cfg(target_os = "linux")]
            {
                use std::os::fd::AsRawFd;
                // Only a hint: an error changes nothing about the digest.
                // SAFETY: a valid descriptor and a range within the file.
                unsafe {
                    libc::sync_file_range(
                        self.file.as_raw_fd(),
                        self.started as libc::off64_t,
                        (self.written - self.started) as libc::off64_t,
                        libc::SYNC_FILE_RANGE_WRITE,
                    );
                }
            }
            self.started = self.written;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        (&mut &*self.file).flush()
    }
}
