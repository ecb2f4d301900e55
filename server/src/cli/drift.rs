//! `safemig drift [PATH]`: compares the dev database with the schema the migrations build.
//!
//! Resolves the database URL (`[database]` of `safemig.toml`, else `DATABASE_URL` or the
//! configured variable, also from `.env`), opens the project at PATH (the directory of `--config`
//! or of the nearest `safemig.toml` when there is one), connects read-only, loads the catalog
//! snapshot and each set's ledger, and runs the project analysis with them
//! ([`Project::analyze_live`], as the editor does): each set is compared with the migrations its
//! ledger marks applied, so pending migrations are not drift (the report says how many were left
//! out), and a set without ledger rows with every migration (the report says so). A set the
//! database is not built from (none of its tables exist there) is listed as not compared.
//!
//! Exit status: 0 no drift (pending migrations are not drift), 1 drift (or no set matches the database), 2 error (no database
//! configured, unreachable, login refused, unreadable `--config`). Messages never carry the
//! password: errors are scrubbed of the URL and its credentials.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, ValueEnum};
use serde::Serialize;

use crate::config::{self, Config, Secret};
use crate::live::connect::{self, LiveError};
use crate::live::drift::{Basis, Drift, DriftKind, DriftObject};
use crate::live::{catalog, ledger, LiveFacts, LiveSnapshot};
use crate::project::{Disk, Project, SetDrift};
use crate::schema::Origin;
use crate::workspace::MigrationSet;

use super::Status;

#[derive(Debug, Args)]
pub(super) struct DriftArgs {
    /// The project directory (default: the current directory).
    #[arg(value_name = "PATH", default_value = ".")]
    path: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DriftFormat::Human)]
    format: DriftFormat,
    /// Configuration file (default: safemig.toml in PATH or its nearest ancestor).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DriftFormat {
    Human,
    Json,
}

pub(super) fn run(args: &DriftArgs, out: &mut dyn Write) -> io::Result<Status> {
    let (config, root) = match load_config(args) {
        Ok(found) => found,
        Err(message) => {
            eprintln!("error: {message}");
            return Ok(Status::Trouble);
        }
    };
    let url = match connect::resolve_url(&config.database, Some(&root)) {
        Ok(Some(url)) => url,
        Ok(None) if !config.database.enabled => {
            eprintln!(
                "error: the dev database is disabled (`enabled = false` in the [database] section of safemig.toml)"
            );
            return Ok(Status::Trouble);
        }
        Ok(None) => {
            eprintln!(
                "error: no dev database is configured: set `url` in the [database] section of safemig.toml, or the \
                 {} environment variable (also read from .env)",
                crate::live::connect::redact(&config.database.url_env)
            );
            return Ok(Status::Trouble);
        }
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(Status::Trouble);
        }
    };
    let project = Project::open(&root, config);
    for message in project.messages.iter().filter(|m| !m.starts_with("history checks")) {
        eprintln!("note: {message}");
    }
    let facts = match load(&url, &project) {
        Ok(facts) => Arc::new(facts),
        Err(e) => {
            eprintln!("error: {}", connect::scrub(&e.to_string(), &url));
            return Ok(Status::Trouble);
        }
    };
    drop(url);
    if project.sets.is_empty() {
        eprintln!("error: no migration sets found under {}", display(&root));
        return Ok(Status::Trouble);
    }

    let analysis = project.analyze_live(&Disk, None, Some(Arc::clone(&facts)));
    let live = &facts.snapshot;
    let compared = analysis.drift.iter().filter(|d| d.drift.is_some()).count();
    let drifted = analysis.drift.iter().filter_map(|d| d.drift.as_ref()).any(|d| !d.is_empty());
    match args.format {
        DriftFormat::Human => write_human(out, &project.sets, &analysis.drift, live)?,
        DriftFormat::Json => write_json(out, &project.sets, &analysis.drift, live)?,
    }
    Ok(if drifted || compared == 0 { Status::Findings } else { Status::Clean })
}

/// Connects, and loads the catalog snapshot and the sets' ledgers, on a runtime of its own.
fn load(url: &Secret, project: &Project) -> Result<LiveFacts, LiveError> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| {
        LiveError::QueryFailed { code: String::new(), message: format!("cannot start the async runtime: {e}") }
    })?;
    runtime.block_on(async {
        let client = connect::connect(url, &project.config.database).await?;
        let snapshot = catalog::load_snapshot(&client).await?;
        let ledgers = ledger::read_all(&client, &project.sets).await?;
        Ok(LiveFacts {
            snapshot: Arc::new(snapshot),
            ledgers,
            small_table_rows: project.config.small_table_rows,
            probes: Arc::default(),
        })
    })
}

/// `--config FILE`, else `safemig.toml` in PATH or its nearest ancestor; and the project root:
/// the configuration's directory, else PATH.
fn load_config(args: &DriftArgs) -> Result<(Config, PathBuf), String> {
    let path_dir = if args.path.is_dir() {
        args.path.clone()
    } else if args.path.exists() {
        args.path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf()
    } else {
        return Err(format!("{} does not exist", args.path.display()));
    };
    let file = match &args.config {
        Some(file) => Some(file.clone()),
        None => find_config(&path_dir),
    };
    let Some(file) = file else { return Ok((Config::default(), path_dir)) };
    let text = match config::read_config_file(&file) {
        Ok(text) => text,
        Err(e) if args.config.is_some() => {
            return Err(format!("cannot read the configuration file {}: {e}", file.display()))
        }
        Err(e) => {
            eprintln!("warning: cannot read {}: {e}; using the defaults", file.display());
            return Ok((Config::default(), path_dir));
        }
    };
    let (config, problems) = Config::from_toml(&text, &file.display().to_string());
    for p in &problems {
        let line = p.line.map(|l| format!(":{l}")).unwrap_or_default();
        let key = if p.key.is_empty() { String::new() } else { format!(": {}", p.key) };
        eprintln!("warning: {}{line}{key}: {}", p.source, p.message);
    }
    let root = file.parent().filter(|d| !d.as_os_str().is_empty()).map_or(path_dir, Path::to_path_buf);
    Ok((config, root))
}

fn find_config(start: &Path) -> Option<PathBuf> {
    let start = start.canonicalize().ok()?;
    start.ancestors().map(|d| d.join(config::FILE_NAME)).find(|p| config::config_candidate(p))
}

/// A path as the user would type it from here: relative to the current directory when it is
/// under it, without a leading `./`.
fn display(path: &Path) -> String {
    let cwd = std::env::current_dir().ok().and_then(|d| d.canonicalize().ok());
    let relative = cwd.as_deref().and_then(|cwd| path.strip_prefix(cwd).ok()).filter(|p| !p.as_os_str().is_empty());
    let shown = relative.unwrap_or(path);
    let shown = shown.strip_prefix(".").ok().filter(|p| !p.as_os_str().is_empty()).unwrap_or(shown);
    shown.display().to_string()
}

/// Where a migration statement is, as people name it: `0001_init.up.sql:3`.
fn origin_label(origin: &Origin) -> String {
    origin.to_string()
}

fn header(live: &LiveSnapshot) -> String {
    let version =
        if live.server_version.is_empty() { String::new() } else { format!(" (PostgreSQL {})", live.server_version) };
    format!("database `{}`{version}", live.database)
}

fn write_human(
    out: &mut dyn Write,
    sets: &[MigrationSet],
    results: &[SetDrift],
    live: &LiveSnapshot,
) -> io::Result<()> {
    let mut total = 0;
    let mut tables = 0;
    for (set, result) in sets.iter().zip(results) {
        let count = match set.migrations.len() {
            1 => "1 migration".to_string(),
            n => format!("{n} migrations"),
        };
        let name = format!("{} ({}, {count})", display(&set.dir), set.framework);
        let note = result.basis.note().map(|n| format!(" — {n}")).unwrap_or_default();
        let Some(drift) = &result.drift else {
            writeln!(out, "{name}: not compared — none of its tables exist in {}\n", header(live))?;
            continue;
        };
        if drift.is_empty() {
            writeln!(out, "{name}: no drift from {}{note}\n", header(live))?;
            continue;
        }
        writeln!(out, "{name} vs {}{note}:", header(live))?;
        let mut current: Option<&str> = None;
        for d in drift {
            if current != Some(d.table.as_str()) {
                writeln!(out, "\n  {}", d.table)?;
                current = Some(&d.table);
                tables += 1;
            }
            writeln!(out, "    {}", human_line(d))?;
            total += 1;
        }
        writeln!(out)?;
    }
    let compared = results.iter().filter(|r| r.drift.is_some()).count();
    if compared == 0 {
        writeln!(
            out,
            "No migration set matches {}: is it the right database, or were the migrations never applied to it?",
            header(live)
        )
    } else if total == 0 {
        writeln!(out, "No drift.")
    } else {
        let diffs = if total == 1 { "1 difference".to_string() } else { format!("{total} differences") };
        let in_tables = if tables == 1 { "1 table".to_string() } else { format!("{tables} tables") };
        writeln!(out, "{diffs} in {in_tables}.")
    }
}

/// `+ column nickname text: only in the database — no migration creates it`.
fn human_line(d: &Drift) -> String {
    let object = format!("{} {}", d.object.noun(), d.object.name().unwrap_or(&d.table));
    let defined = |d: &Drift| d.origin.as_ref().map(|o| format!(" ({})", origin_label(o))).unwrap_or_default();
    let mig = d.migrations.as_deref().unwrap_or("");
    let db = d.database.as_deref().unwrap_or("");
    match d.kind {
        DriftKind::Extra => match &d.object {
            DriftObject::Column(_) => {
                format!("+ {object}: only in the database ({db}) — no migration creates it; added by hand?")
            }
            _ => format!("+ {object}: only in the database — no migration creates it; created by hand?"),
        },
        DriftKind::Missing => {
            format!("- {object}: missing from the database — the migrations create it{} as {mig}", defined(d))
        }
        kind => format!(
            "~ {object} {}: migrations {mig}{} · database {db}",
            match kind {
                DriftKind::Type => "type",
                DriftKind::Nullability => "nullability",
                DriftKind::Default => "default",
                _ => "definition",
            },
            defined(d)
        ),
    }
}

#[derive(Serialize)]
struct JsonReport<'a> {
    database: &'a str,
    server_version: &'a str,
    sets: Vec<JsonSet>,
    total: usize,
}

#[derive(Serialize)]
struct JsonSet {
    dir: String,
    framework: String,
    /// `false`: none of the set's tables exist in the database; it was not compared.
    compared: bool,
    /// `ledger`: compared with the migrations the ledger marks applied; `all`: no ledger rows,
    /// compared with every migration.
    basis: &'static str,
    /// Migrations the ledger lists as not applied yet: their changes were not counted.
    pending: usize,
    /// Why the comparison is against every migration, or what was left out.
    note: Option<String>,
    drift: Vec<JsonDrift>,
}

#[derive(Serialize)]
struct JsonDrift {
    table: String,
    object: &'static str,
    name: Option<String>,
    kind: &'static str,
    migrations: Option<String>,
    database: Option<String>,
    defined_by: Option<JsonOrigin>,
    message: String,
}

#[derive(Serialize)]
struct JsonOrigin {
    path: String,
    line: u32,
}

fn write_json(out: &mut dyn Write, sets: &[MigrationSet], results: &[SetDrift], live: &LiveSnapshot) -> io::Result<()> {
    let sets: Vec<JsonSet> = sets
        .iter()
        .zip(results)
        .map(|(set, result)| JsonSet {
            dir: display(&set.dir),
            framework: set.framework.to_string(),
            compared: result.drift.is_some(),
            basis: match result.basis {
                Basis::Ledger { .. } => "ledger",
                Basis::NoLedger { .. } => "all",
            },
            pending: match result.basis {
                Basis::Ledger { pending, .. } => pending,
                Basis::NoLedger { .. } => 0,
            },
            note: result.basis.note(),
            drift: result
                .drift
                .iter()
                .flatten()
                .map(|d| JsonDrift {
                    table: d.table.clone(),
                    object: d.object.noun(),
                    name: d.object.name().map(str::to_string),
                    kind: d.kind.name(),
                    migrations: d.migrations.clone(),
                    database: d.database.clone(),
                    defined_by: d
                        .origin
                        .as_ref()
                        .and_then(|o| Some(JsonOrigin { path: display(o.path.as_deref()?), line: o.line })),
                    message: crate::rules::schema_drift::message(d, live),
                })
                .collect(),
        })
        .collect();
    let total = sets.iter().map(|s| s.drift.len()).sum();
    let report = JsonReport { database: &live.database, server_version: &live.server_version, sets, total };
    serde_json::to_writer_pretty(&mut *out, &report)?;
    writeln!(out)
}
