//! `suit md`, `suit llms-txt build|check` and `suit docs-lint`: HTML docs
//! an LLM can read, and instructions an agent can execute.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use suit_docs::llms_txt::{self, BuildOptions, CheckOptions, Severity};
use suit_docs::{fetch, lint, ConvertOptions, DirOptions};
use url::Url;

/// HTML → markdown (a file, a folder, or a URL).
#[derive(Args, Debug)]
pub struct MdArgs {
    /// An HTML file, a folder of HTML files, or an http(s) URL.
    pub input: String,
    /// Output folder (folder input only; mirrors the input tree).
    #[arg(short, long)]
    pub out: Option<PathBuf>,
    /// Resolve relative links against this URL (for a folder: the site root).
    #[arg(long)]
    pub base_url: Option<Url>,
    /// Folder mode: write `page.md` instead of `page.html.md`.
    #[arg(long)]
    pub replace_extension: bool,
    /// Convert the whole page, not only its main content.
    #[arg(long)]
    pub keep_chrome: bool,
}

/// Build or check an llms.txt index.
#[derive(Subcommand, Debug)]
pub enum LlmsTxtCommand {
    /// Write llms.txt, llms-full.txt and .md copies for a folder or a site,
    /// or llms.txt and llms-full.txt for Markdown files.
    Build {
        /// A folder of HTML, the http(s) URL of a site's start page, or
        /// Markdown files (`README.md docs/*.md`), listed in that order.
        #[arg(required = true)]
        input: Vec<String>,
        /// Output folder.
        #[arg(short, long, default_value = ".")]
        out: PathBuf,
        /// Public URL of the output folder (entries link to `<URL>/<page>.md`).
        #[arg(long)]
        base_url: Option<Url>,
        /// H1 title (default: the site's name).
        #[arg(long)]
        title: Option<String>,
        /// Blockquote summary (default: the start page's description).
        #[arg(long)]
        summary: Option<String>,
        /// Write `page.md` instead of `page.html.md`.
        #[arg(long)]
        replace_extension: bool,
        /// URL mode: requests in flight at once.
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
        /// URL mode: stop after this many pages.
        #[arg(long, default_value_t = 500)]
        max_pages: usize,
    },
    /// Validate an llms.txt (file or URL) and the links it lists.
    Check {
        /// The llms.txt file or its URL.
        input: String,
        /// Only check the structure, not that links resolve.
        #[arg(long)]
        no_links: bool,
        /// Check links below URL as files below DIR (`URL=DIR`), e.g. before publishing.
        #[arg(long, value_name = "URL=DIR")]
        local: Vec<String>,
    },
}

/// Output format of `suit docs-lint`.
#[derive(ValueEnum, Clone, Copy, Debug, Default)]
pub enum LintFormat {
    /// `file:line:col: rule: "text": message`.
    #[default]
    Text,
    /// A JSON array of findings.
    Json,
}

/// Find GUI-only instructions ("click", "navigate to") in markdown/HTML docs.
#[derive(Args, Debug)]
pub struct DocsLintArgs {
    /// A file or folder.
    pub path: PathBuf,
    /// OpenAPI spec (JSON or YAML): suggest the matching `curl` command.
    #[arg(long)]
    pub openapi: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: LintFormat,
}

/// `suit md`.
pub async fn run_md(a: MdArgs) -> Result<ExitCode> {
    let opts = ConvertOptions { base_url: a.base_url.clone(), main_content: !a.keep_chrome };
    if a.input.starts_with("http://") || a.input.starts_with("https://") {
        let url = Url::parse(&a.input).with_context(|| format!("invalid URL {}", a.input))?;
        let page = fetch::fetch_markdown(&url, &opts, Duration::from_secs(30)).await?;
        print!("{}", page.markdown);
        return Ok(ExitCode::SUCCESS);
    }
    let path = PathBuf::from(&a.input);
    if path.is_dir() {
        let Some(out) = a.out else { bail!("{}: a folder needs --out FOLDER", path.display()) };
        let dopts = DirOptions {
            base_url: a.base_url,
            replace_extension: a.replace_extension,
            keep_chrome: a.keep_chrome,
        };
        let r = suit_docs::convert_dir(&path, &out, &dopts)?;
        for e in &r.failed {
            eprintln!("suit md: {e}");
        }
        eprintln!(
            "{} pages converted into {} ({} failed)",
            r.converted.len(),
            out.display(),
            r.failed.len()
        );
        if !r.failed.is_empty() {
            bail!("{} pages failed", r.failed.len());
        }
        return Ok(ExitCode::SUCCESS);
    }
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let page = suit_docs::convert_bytes(&bytes, None, &a.input, &opts)?;
    print!("{}", page.markdown);
    Ok(ExitCode::SUCCESS)
}

/// `suit llms-txt`.
pub async fn run_llms_txt(cmd: LlmsTxtCommand) -> Result<ExitCode> {
    match cmd {
        LlmsTxtCommand::Build {
            input,
            out,
            base_url,
            title,
            summary,
            replace_extension,
            concurrency,
            max_pages,
        } => {
            let opts = BuildOptions {
                base_url,
                title,
                summary,
                replace_extension,
                crawl: fetch::CrawlOptions { concurrency, max_pages, ..Default::default() },
            };
            let markdown =
                |i: &String| i.to_ascii_lowercase().ends_with(".md") && Path::new(i).is_file();
            let r = match input.as_slice() {
                [one] if one.starts_with("http://") || one.starts_with("https://") => {
                    let url = Url::parse(one).with_context(|| format!("invalid URL {one}"))?;
                    llms_txt::build_from_url(&url, &out, &opts).await?
                }
                [one] if !markdown(one) => llms_txt::build_from_dir(Path::new(one), &out, &opts)?,
                files if files.iter().all(markdown) => {
                    let files: Vec<PathBuf> = files.iter().map(PathBuf::from).collect();
                    llms_txt::build_from_markdown(&files, &out, &opts)?
                }
                _ => bail!(
                    "cannot index {}: give one folder of HTML, one site URL, or Markdown files\n  \
                     fix: e.g. `suit llms-txt build README.md docs/*.md -o docs`",
                    input.join(" ")
                ),
            };
            for s in &r.skipped {
                eprintln!("skipped: {s}");
            }
            eprintln!(
                "wrote {} ({} entr{}, {} section{}) and {}",
                r.llms_txt.display(),
                r.entries,
                if r.entries == 1 { "y" } else { "ies" },
                r.sections,
                if r.sections == 1 { "" } else { "s" },
                r.llms_full.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        LlmsTxtCommand::Check { input, no_links, local } => {
            let mut local_roots = Vec::new();
            for l in &local {
                let (u, d) =
                    l.split_once('=').with_context(|| format!("--local {l}: expected URL=DIR"))?;
                local_roots.push((
                    Url::parse(u).with_context(|| format!("--local {l}: invalid URL"))?,
                    PathBuf::from(d),
                ));
            }
            let (text, origin) = llms_txt::load(&input, Duration::from_secs(30)).await?;
            let opts = CheckOptions {
                resolve_links: !no_links,
                local_roots,
                concurrency: 8,
                timeout: None,
            };
            let diags = llms_txt::check(&text, &origin, &opts).await;
            for d in &diags {
                println!("{input}:{d}");
            }
            let errors = diags.iter().filter(|d| d.severity == Severity::Error).count();
            eprintln!("{errors} errors, {} warnings", diags.len() - errors);
            if errors > 0 {
                bail!("{input}: {errors} errors");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `suit docs-lint`; fails when anything is found, so CI can gate on it.
pub fn run_docs_lint(a: DocsLintArgs) -> Result<ExitCode> {
    let api = a.openapi.as_deref().map(lint::OpenApi::load).transpose()?;
    let findings = lint::lint_path(&a.path, api.as_ref())?;
    match a.format {
        LintFormat::Json => println!("{}", serde_json::to_string_pretty(&findings)?),
        LintFormat::Text => {
            for f in &findings {
                println!("{f}");
            }
        }
    }
    if !findings.is_empty() {
        bail!("{} GUI-only instructions found", findings.len());
    }
    Ok(ExitCode::SUCCESS)
}
