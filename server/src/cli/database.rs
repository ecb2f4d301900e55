//! The dev database for `safemig check`: which URL (`[database]`, `DATABASE_URL` or the variable
//! `--database-url-env` names, also from `.env` at the project root), loading the live facts once
//! through [`crate::live::load`] (as the language server does) on a small runtime of its own, and
//! the connection state the summary line and the JSON report show. A database that cannot be used is a state and a note,
//! never a crash: the static check runs regardless.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::config::{Config, Secret};
use crate::live::connect::{self, LiveClient, LiveError};
use crate::live::load;
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

/// A connection `check` keeps for its one run, with the facts read so far.
pub(crate) struct Live {
    // Dropped after the client: the connection's task runs on it.
    client: LiveClient,
    runtime: tokio::runtime::Runtime,
    pub facts: Arc<LiveFacts>,
    url: Secret,
}

/// The most probes one check runs, and how long it starts new ones: a CI job with many pending
/// constraints on a slow database still ends (a probe not run gives no finding).
const PROBES_AT_ONCE: usize = 512;
const PROBE_BUDGET: Duration = Duration::from_secs(30);

/// Connects to the dev database configured for the project and reads its snapshot and the
/// ledgers of the project's sets (the probes need the analysis: [`Live::probe`]).
pub(crate) fn connect(args: &CheckArgs, config: &Config, project: &Project) -> (DatabaseState, Option<Live>) {
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
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => return (DatabaseState::Error { message: format!("cannot start a runtime: {e}") }, None),
    };
    let loaded = runtime.block_on(async {
        let client = connect::connect(&url, &database).await?;
        let facts = load::read_facts(&client, &project.sets, config.small_table_rows, Arc::default()).await?;
        Ok::<_, LiveError>((client, facts))
    });
    match loaded {
        Ok((client, facts)) => {
            let state = DatabaseState::Connected { target: client.display_name() };
            (state, Some(Live { client, runtime, facts: Arc::new(facts), url }))
        }
        // Connection errors are scrubbed already; the URL is removed again from whatever else.
        Err(e) => (DatabaseState::Unreachable { message: connect::scrub(&e.to_string(), &url) }, None),
    }
}

impl Live {
    /// Runs the data probes of `checked` (the reported files of migration sets, as the analysis
    /// names them) that the ledger does not list as applied, and of the pending and failed
    /// migrations. The facts with their outcomes, or `None` when no probe applied.
    pub(crate) fn probe(
        &self,
        project: &Project,
        analysis: &ProjectAnalysis,
        checked: &[&Path],
    ) -> Result<Option<Arc<LiveFacts>>, String> {
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
        let files = load::probe_targets(&project.sets, &self.facts, &candidates, &file_of);
        let ran = self.runtime.block_on(load::run_probes(
            &self.client,
            &self.facts,
            &files,
            true,
            PROBES_AT_ONCE,
            PROBE_BUDGET,
        ));
        match ran {
            Ok(Some(outcomes)) => {
                let facts = LiveFacts { probes: Arc::new(outcomes), ..(*self.facts).clone() };
                Ok(Some(Arc::new(facts)))
            }
            Ok(None) => Ok(None),
            Err(e) => Err(connect::scrub(&e.to_string(), &self.url)),
        }
    }
}
