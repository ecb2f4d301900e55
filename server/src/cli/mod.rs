//! `safemig check`, `safemig drift`, `safemig rules`, `safemig explain`, `safemig lsp`: a thin
//! adapter from the terminal to the engine. It finds files and configuration, hands bytes to
//! [`crate::engine::analyze_bytes`], and turns findings into text, JSON, SARIF, GitHub annotations
//! and exit codes. It decides nothing about SQL.

mod catalog;
mod check;
mod database;
mod drift;
mod fix;
mod github;
mod human;
mod json;
mod sarif;

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub use catalog::rules_markdown;

/// Exit status of a run: 0 clean, 1 findings at or above `--fail-on`, 2 usage or IO errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Clean = 0,
    Findings = 1,
    Trouble = 2,
}

impl From<Status> for ExitCode {
    fn from(s: Status) -> ExitCode {
        ExitCode::from(s as u8)
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "safemig",
    version,
    about = "Checks database migrations for locks, rewrites and breaking changes before they ship",
    arg_required_else_help = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check migration files (directories are searched for *.sql) and report findings.
    Check(CheckArgs),
    /// List every rule with its default severity and dialects.
    Rules {
        /// Print the full documentation of every rule as Markdown (this generates docs/rules.md).
        #[arg(long)]
        markdown: bool,
    },
    /// Print a rule's documentation.
    Explain {
        /// The rule id, e.g. create-index-blocking.
        id: String,
    },
    /// Compare the dev database with the schema the migrations build (exit 0: no drift, 1: drift, 2: error).
    Drift(drift::DriftArgs),
    /// Run the language server over stdin and stdout.
    Lsp {
        /// Accepted for editors that pass it (VS Code does); stdio is the only transport.
        #[arg(long)]
        stdio: bool,
    },
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// Files or directories to check.
    #[arg(value_name = "PATH", default_value = ".")]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Configuration file (default: safemig.toml in the nearest ancestor directory of the first PATH).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Lowest severity that makes the exit status 1.
    #[arg(long, value_enum, value_name = "LEVEL", default_value_t = FailOn::Warning)]
    fail_on: FailOn,
    /// The git ref whose migrations count as shipped (overrides `shipped_ref` in safemig.toml; on a
    /// pull request, the target branch, e.g. origin/main).
    #[arg(long, value_name = "REF")]
    shipped_ref: Option<String>,
    /// Apply the safe quick fixes to the checked files first (new migrations are created, no
    /// existing file is overwritten), then report what is left.
    #[arg(long)]
    fix: bool,
    /// Do not read the dev database (by default it is read when `[database]` in safemig.toml,
    /// DATABASE_URL or .env names one).
    #[arg(long, conflicts_with_all = ["database_url_env", "require_database"])]
    no_database: bool,
    /// Read the dev database's URL from this environment variable (or the same key in .env)
    /// instead of DATABASE_URL or safemig.toml.
    #[arg(long, value_name = "NAME")]
    database_url_env: Option<String>,
    /// Exit 2 when the dev database is not configured or cannot be read (by default that is a
    /// note, and the exit status reflects the findings of the static check alone).
    #[arg(long)]
    require_database: bool,
    /// With --fix: apply the unsafe fixes too (they change behaviour or need a follow-up; see each
    /// rule's "Quick fix").
    #[arg(long = "unsafe", requires = "fix")]
    allow_unsafe: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Human,
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// GitHub Actions workflow commands: annotations on the pull request.
    Github,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FailOn {
    Error,
    Warning,
    Info,
    Never,
}

impl FailOn {
    fn threshold(self) -> Option<crate::rules::Severity> {
        use crate::rules::Severity;
        match self {
            FailOn::Error => Some(Severity::Error),
            FailOn::Warning => Some(Severity::Warning),
            FailOn::Info => Some(Severity::Info),
            FailOn::Never => None,
        }
    }
}

/// Runs the command line `args` (including the program name) and returns the exit code.
pub fn main_with_args<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // Help and --version go to stdout and succeed; every usage error exits 2.
            let _ = e.print();
            return if e.use_stderr() { Status::Trouble.into() } else { Status::Clean.into() };
        }
    };
    match cli.command {
        Command::Check(args) => with_stdout(|out| check::run(&args, out)),
        Command::Rules { markdown: false } => with_stdout(|out| catalog::print_table(out).map(|()| Status::Clean)),
        Command::Rules { markdown: true } => {
            with_stdout(|out| out.write_all(rules_markdown().as_bytes()).map(|()| Status::Clean))
        }
        Command::Explain { id } => with_stdout(|out| catalog::explain(&id, out)),
        Command::Drift(args) => with_stdout(|out| drift::run(&args, out)),
        // The server owns stdin and stdout: nothing else may hold them.
        Command::Lsp { stdio: _ } => match crate::lsp::serve_stdio() {
            Ok(crate::lsp::Ended::Cleanly) => Status::Clean.into(),
            Ok(crate::lsp::Ended::ExitWithoutShutdown) => {
                eprintln!("safemig lsp: the client sent `exit` without `shutdown` first");
                ExitCode::from(1)
            }
            Err(e) => {
                eprintln!("error: safemig lsp: {e:#}");
                Status::Trouble.into()
            }
        },
    }
}

/// Runs `report` with buffered, locked stdout and turns its outcome into an exit code.
fn with_stdout(report: impl FnOnce(&mut dyn Write) -> io::Result<Status>) -> ExitCode {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    match report(&mut out).and_then(|status| out.flush().map(|()| status)) {
        Ok(status) => status.into(),
        // `safemig check | head` closes the pipe early: not an error worth a message.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Status::Clean.into(),
        Err(e) => {
            eprintln!("error: cannot write the output: {e}");
            Status::Trouble.into()
        }
    }
}

/// Runs `std::env::args_os()`.
pub fn main() -> ExitCode {
    main_with_args(std::env::args_os())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
