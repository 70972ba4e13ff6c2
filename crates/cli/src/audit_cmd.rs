//! `suit audit`: report text in a repository aimed at coding agents.

use std::path::PathBuf;
use std::process::ExitCode;

use suit_agent::audit::{audit_dir, ACCEPTED_FILE};

/// Arguments of `suit audit`.
#[derive(clap::Args)]
pub struct AuditArgs {
    /// The folder to audit (default: the current one).
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Print the report as one JSON object (for CI).
    #[arg(long)]
    json: bool,
}

/// Runs `suit audit`: exit 0 when nothing is found, 1 when something is,
/// 2 when the folder cannot be audited.
pub fn run(args: AuditArgs) -> ExitCode {
    let report = match audit_dir(&args.path) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if args.json {
        match serde_json::to_string_pretty(&report) {
            Ok(text) => println!("{text}"),
            Err(e) => {
                eprintln!("error: cannot write the report as JSON: {e}");
                return ExitCode::from(2);
            }
        }
    } else {
        for f in &report.findings {
            println!("{}:{}:{}: {}: {}", f.path, f.line, f.column, f.kind.as_str(), f.reason);
            println!("    {}", f.excerpt);
            println!("    accept it: add `{}` to {ACCEPTED_FILE}", f.fingerprint);
        }
        let accepted = if report.accepted > 0 {
            format!(", {} accepted in {ACCEPTED_FILE}", report.accepted)
        } else {
            String::new()
        };
        eprintln!(
            "suit audit: {} finding{} in {} text files{accepted}",
            report.findings.len(),
            if report.findings.len() == 1 { "" } else { "s" },
            report.files
        );
    }
    if report.findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
