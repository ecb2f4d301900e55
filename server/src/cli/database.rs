//! The dev database for `safemig check`: which URL (`[database]`, `DATABASE_URL` or the variable
//! `--database-url-env` names, also from `.env` at the project root), loading the live facts once
//! through [`crate::live::load::load_once`] on a small runtime of its own, and the connection state
//! the summary line and the JSON report show. A database that cannot be used is a state and a note,
//! never a crash: the static check runs regardless.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use crate::config::Config;
use crate::live::connect::{self, LiveError};
use crate::live::load::{self, Loaded};
use crate::live::LiveFacts;
use crate::project::{Project, ProjectAnalysis};
use crate::sql::SqlFile;

use super::CheckArgs;

/// How `check` stands with the dev database; messages never hold a credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub(crate) enum DatabaseState {
    /// Read: `user@host:port/database`.
    Connected {
        target: String,
    },
    /// Configured, but connecting, logging in or reading failed.
    Unreachable {
        message: String,
    },
    /// The URL's source could not be read (a `.env` that does not parse).
    Error {
        message: String,
    },
    NotConfigured,
    /// Turned off: `--no-database` or `enabled = false`.
    Off {
        message: String,
    },
}

impl DatabaseState {
    /// `database: connected (postgres@127.0.0.1:5432/app)`, for the summary line.
    pub(crate) fn summary(&self) -> String {
        match self {
            DatabaseState::Connected { target } => format!("database: connected ({target})"),
            DatabaseState::Unreachable { message } => format!("database: unreachable ({message})"),
            DatabaseState::Error { message } => format!("database: error ({message})"),
            DatabaseState::NotConfigured => "database: not configured".into(),
            DatabaseState::Off { message } => format!("database: off ({message})"),
        }
    }

    pub(crate) fn connected(&self) -> bool {
        matches!(self, DatabaseState::Connected { .. })
    }
}

/// Reads the dev database for the project, once. `checked` are the reported files that belong to
/// a migration set (as the analysis names them); those the ledger does not list as applied get
/// their data probes run, as do the pending migrations.
pub(crate) fn read(
    args: &CheckArgs,
    config: &Config,
    project: &Project,
    analysis: &ProjectAnalysis,
    checked: &[&Path],
) -> (DatabaseState, Option<Arc<LiveFacts>>) {
    if args.no_database {
        return (DatabaseState::Off { message: "--no-database".into() }, None);
    }
    let mut database = config.database.clone();
    if let Some(name) = &args.database_url_env {
        // Naming the variable on the command line asks for the database: it overrides the file.
        database.enabled = true;
        database.url = None;
        database.url_env = name.clone();
    }
    let url = match connect::resolve_url(&database, Some(&project.root)) {
        Ok(Some(url)) => url,
        Ok(None) if !database.enabled => {
            let message = "enabled = false in the [database] section of safemig.toml".into();
            return (DatabaseState::Off { message }, None);
        }
        Ok(None) => return (DatabaseState::NotConfigured, None),
        Err(e) => return (DatabaseState::Error { message: e.to_string() }, None),
    };
    let config = Config { database, ..config.clone() };
    let candidates: Vec<(PathBuf, Arc<SqlFile>)> = checked
        .iter()
        .filter_map(|&path| {
            let (set, migration) = project.locate(path)?;
            // Only what runs up can meet the rows; a down file's statements never ran here.
            let runs_up = project.sets.get(set)?.migrations.get(migration)?.up.as_deref() == Some(path);
            let file = &analysis.files.get(path)?.analysis.file;
            runs_up.then(|| (path.to_path_buf(), Arc::clone(file)))
        })
        .collect();
    let file_of = |path: &Path| analysis.files.get(path).map(|f| Arc::clone(&f.analysis.file));
    let loaded = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| LiveError::QueryFailed { code: String::new(), message: format!("cannot start a runtime: {e}") })
        .and_then(|runtime| runtime.block_on(load::load_once(&url, &config, &project.sets, &candidates, &file_of)));
    match loaded {
        Ok(Loaded { facts, target }) => (DatabaseState::Connected { target }, Some(Arc::new(facts))),
        // Connection errors are scrubbed already; the URL is removed again from whatever else.
        Err(e) => (DatabaseState::Unreachable { message: connect::scrub(&e.to_string(), &url) }, None),
    }
}
