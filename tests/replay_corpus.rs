//! Schema replay over the real-world corpus in `../shared/corpus`: every PostgreSQL migration set
//! is replayed end to end, in the order its runner applies it (up files only).
//!
//! - replay never panics, and the final schemas contain tables the repositories really create;
//! - `object-already-exists` and `object-does-not-exist` run on every migration with the schema
//!   before it: these migrations all ran in production, so an `object-already-exists` (error) is
//!   a false positive of ours, and so is an `object-does-not-exist` warning that is not a real
//!   defect of the set; the counts and samples are written to `target/replay-corpus.txt`.

// Only `corpus_dir` is used here; the rest serves the other corpus suites.
#[allow(dead_code)]
#[path = "support/corpus.rs"]
mod corpus;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use safemig::config::Config;
use safemig::engine;
use safemig::rules::Severity;
use safemig::schema::{self, Baseline, ReplayInput};
use safemig::sql::{Dialect, SqlFile};
use safemig::workspace::frameworks::natural_cmp;

/// One migration set of the corpus: where it lives, which files run up, how they are ordered and
/// tables the repository really creates.
struct SetSpec {
    name: &'static str,
    dir: &'static str,
    /// Whether a file (by its path relative to `dir`) is an up migration of the set.
    up: fn(&str) -> bool,
    /// The runner's sort key of a file (by its path relative to `dir`); compared naturally.
    order: fn(&str) -> String,
    tables: &'static [&'static str],
    /// Tables the repository created and a later migration drops: in a snapshot, not at the end.
    dropped: &'static [&'static str],
}

fn file_name(rel: &str) -> &str {
    rel.rsplit('/').next().unwrap_or(rel)
}

fn by_path(rel: &str) -> String {
    rel.to_string()
}

/// Flyway: the version in the file name, whatever directory (location) holds it.
fn by_file_name(rel: &str) -> String {
    file_name(rel).to_string()
}

/// Diesel: the directory's version prefix without its dashes (`2017-08-31-230457_x` is
/// `20170831230457`, after `20140924113530_dumped_migration_1`).
fn diesel_version(rel: &str) -> String {
    let dir = rel.split('/').next().unwrap_or(rel);
    let (version, rest) = dir.split_once('_').unwrap_or((dir, ""));
    format!("{}_{rest}", version.replace('-', ""))
}

/// pop/popx (ory/kratos): a version's PostgreSQL file, or its dialect-free one.
fn popx_postgres_up(rel: &str) -> bool {
    let name = file_name(rel);
    let Some(stem) = name.strip_suffix(".up.sql") else { return false };
    let stem = stem.strip_suffix(".autocommit").unwrap_or(stem);
    let dialect = stem.rsplit_once('.').map(|(_, d)| d);
    matches!(dialect, None | Some("postgres"))
}

/// popx runs a version's dialect-specific file instead of its generic one (no other set has
/// `.postgres.` files).
fn popx_dialect_overrides(files: &mut Vec<(PathBuf, String)>) {
    let specific: Vec<String> =
        files.iter().filter(|(_, r)| r.contains(".postgres.")).map(|(_, r)| r.replacen(".postgres.", ".", 1)).collect();
    files.retain(|(_, r)| !specific.contains(r));
}

const SETS: &[SetSpec] = &[
    SetSpec {
        name: "crates.io (diesel)",
        dir: "diesel/rust-lang__crates.io/migrations",
        up: |r| file_name(r) == "up.sql",
        order: diesel_version,
        tables: &["crates", "versions", "users", "dependencies", "keywords", "categories", "teams", "api_tokens"],
        dropped: &[],
    },
    SetSpec {
        name: "langfuse (prisma)",
        dir: "prisma/langfuse__langfuse/packages/shared/prisma/migrations",
        up: |r| file_name(r) == "migration.sql",
        order: by_path,
        tables: &["projects", "users", "api_keys", "prompts", "datasets", "dataset_items", "organizations"],
        dropped: &["traces", "observations", "scores"],
    },
    SetSpec {
        name: "trigger.dev (prisma)",
        dir: "prisma/triggerdotdev__trigger.dev/internal-packages/database/prisma/migrations",
        up: |r| file_name(r) == "migration.sql",
        order: by_path,
        tables: &["User", "Organization", "Project", "RuntimeEnvironment", "TaskRun", "BackgroundWorker"],
        dropped: &[],
    },
    SetSpec {
        name: "umami (prisma)",
        dir: "prisma/umami-software__umami/prisma/migrations",
        up: |r| file_name(r) == "migration.sql",
        order: by_path,
        tables: &["website", "session", "website_event", "event_data", "team", "report"],
        dropped: &[],
    },
    SetSpec {
        name: "atuin (sqlx)",
        dir: "sqlx/atuinsh__atuin/crates/atuin-server-postgres/migrations",
        up: |r| r.ends_with(".sql") && !r.ends_with(".down.sql"),
        order: by_path,
        tables: &["history", "users", "sessions", "records", "store"],
        dropped: &[],
    },
    SetSpec {
        name: "docs.rs (sqlx)",
        dir: "sqlx/rust-lang__docs.rs/crates/lib/docs_rs_database/migrations",
        up: |r| r.ends_with(".up.sql"),
        order: by_path,
        tables: &["crates", "releases", "builds", "keywords", "owners"],
        dropped: &[],
    },
    SetSpec {
        name: "chatbot-ui (supabase)",
        dir: "supabase-cli/mckaywrigley__chatbot-ui/supabase/migrations",
        up: |r| r.ends_with(".sql"),
        order: by_path,
        tables: &["profiles", "workspaces", "folders", "files", "chats", "messages", "assistants"],
        dropped: &[],
    },
    SetSpec {
        name: "trigger.dev dashboard agent (drizzle)",
        dir: "drizzle/triggerdotdev__trigger.dev/internal-packages/dashboard-agent-db/drizzle",
        up: |r| r.ends_with(".sql"),
        order: by_path,
        tables: &["trigger_dashboard_agent.chats", "trigger_dashboard_agent.chat_messages"],
        dropped: &[],
    },
    SetSpec {
        name: "DSpace (flyway)",
        dir: "flyway/DSpace__DSpace/dspace-api/src/main/resources/org/dspace/storage/rdbms/sqlmigration",
        up: |r| {
            let name = file_name(r);
            name.starts_with('V') && name.ends_with(".sql") && r.contains("postgres") && !r.starts_with("workflow/")
        },
        order: by_file_name,
        tables: &["item", "bitstream", "collection", "community", "eperson", "epersongroup", "handle"],
        dropped: &[],
    },
    SetSpec {
        name: "kratos (popx)",
        dir: "ory-popx/ory__kratos/persistence/sql/migrations/sql",
        up: popx_postgres_up,
        order: by_path,
        tables: &["identities", "identity_credentials", "selfservice_login_flows", "courier_messages", "sessions"],
        dropped: &[],
    },
    SetSpec {
        name: "supabase auth (pop, templated)",
        dir: "pop-fizz-sql/supabase__auth/migrations",
        up: |r| r.ends_with(".up.sql"),
        order: by_path,
        tables: &[],
        dropped: &[],
    },
    SetSpec {
        name: "supabase storage tenant (postgres-migrations)",
        dir: "postgres-migrations/supabase__storage/migrations/tenant",
        up: |r| r.ends_with(".sql"),
        order: by_path,
        tables: &["storage.buckets", "storage.objects", "storage.migrations"],
        dropped: &[],
    },
    SetSpec {
        name: "supabase storage multitenant (postgres-migrations)",
        dir: "postgres-migrations/supabase__storage/migrations/multitenant",
        up: |r| r.ends_with(".sql"),
        order: by_path,
        tables: &["tenants"],
        dropped: &[],
    },
    SetSpec {
        name: "authelia (custom)",
        dir: "authelia-custom/authelia__authelia/internal/storage/migrations/postgres",
        up: |r| r.ends_with(".up.sql"),
        order: by_path,
        tables: &["authentication_logs", "totp_configurations", "webauthn_credentials", "migrations"],
        dropped: &[],
    },
    SetSpec {
        name: "temporal (versioned)",
        dir: "temporal-sql-tool/temporalio__temporal/schema/postgresql/v12/temporal/versioned",
        up: |r| r.ends_with(".sql"),
        order: by_path,
        tables: &["executions", "current_executions", "shards", "history_node"],
        dropped: &[],
    },
];

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).into_iter().flatten().flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// The up files of a set, in runner order, as (path, relative path).
fn set_files(root: &Path, spec: &SetSpec) -> Vec<(PathBuf, String)> {
    let dir = root.join(spec.dir);
    let mut files = Vec::new();
    walk(&dir, &mut files);
    let mut files: Vec<(PathBuf, String)> = files
        .into_iter()
        .filter_map(|p| {
            let rel = p.strip_prefix(&dir).ok()?.to_string_lossy().replace('\\', "/");
            (spec.up)(&rel).then_some((p, rel))
        })
        .collect();
    files.sort_by(|(_, a), (_, b)| natural_cmp(&(spec.order)(a), &(spec.order)(b)).then_with(|| natural_cmp(a, b)));
    popx_dialect_overrides(&mut files);
    files
}

#[derive(Default)]
struct Tally {
    migrations: usize,
    statements: usize,
    replay: Duration,
    tables: usize,
    baseline: String,
    already_exists: [usize; 4],
    does_not_exist: [usize; 4],
    samples: Vec<String>,
}

#[test]
fn corpus_sets_replay_end_to_end() {
    let root = corpus::corpus_dir();
    let config = Config::default();
    let settings = config.settings(Dialect::Postgres);
    let mut report = String::new();
    let mut missing_tables = Vec::new();
    let mut errors = Vec::new();
    let mut total = Tally::default();
    for spec in SETS {
        let files = set_files(&root, spec);
        assert!(files.len() >= 3, "{}: only {} migrations found in {}", spec.name, files.len(), spec.dir);
        let texts: Vec<String> = files
            .iter()
            .map(|(p, _)| {
                let bytes = std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                String::from_utf8_lossy(&bytes).into_owned()
            })
            .collect();
        let parsed: Vec<SqlFile> = texts.iter().map(|t| SqlFile::parse(t, Dialect::Postgres, None)).collect();
        let inputs: Vec<ReplayInput> = files.iter().zip(&parsed).map(|((p, _), f)| ReplayInput::whole(p, f)).collect();
        let start = Instant::now();
        let replay = schema::replay(&inputs);
        let mut t = Tally { replay: start.elapsed(), migrations: files.len(), ..Default::default() };
        t.statements = parsed.iter().map(|f| f.statements.len()).sum();
        t.tables = replay.final_schema().tables().filter(|t| !t.is_from_baseline()).count();
        t.baseline = match replay.baseline() {
            Baseline::Unknown { missing } => format!("unknown ({missing} tables used, never created)"),
            b => format!("{b:?}").to_lowercase(),
        };
        for table in spec.tables {
            let found = replay.final_schema().table_by_key(table).is_some_and(|t| !t.is_from_baseline());
            if !found {
                missing_tables.push(format!("{}: table {table} is not in the final schema", spec.name));
            }
        }
        for table in spec.dropped {
            let existed = (0..replay.len()).any(|i| replay.before(i).table_by_key(table).is_some());
            let gone = replay.final_schema().table_by_key(table).is_none();
            if !(existed && gone) {
                missing_tables.push(format!("{}: table {table} is not created, then dropped", spec.name));
            }
        }
        for (i, text) in texts.iter().enumerate() {
            let analysis = engine::analyze_with_schema(text, &settings, &config, &replay.before(i), Some(&parsed[i]));
            for f in &analysis.findings {
                let counts = match f.rule {
                    "object-already-exists" => &mut t.already_exists,
                    "object-does-not-exist" => &mut t.does_not_exist,
                    _ => continue,
                };
                counts[f.severity as usize] += 1;
                let line = text[..f.range.start].matches('\n').count() + 1;
                let sample = format!("{}:{line} {}[{}] {}", files[i].1, f.severity.name(), f.rule, f.message);
                if f.severity == Severity::Error {
                    errors.push(format!("{}: {sample}", spec.name));
                }
                t.samples.push(sample);
            }
        }
        writeln!(
            report,
            "{:<48} {:>4} migrations {:>6} statements {:>4} tables  replay {:>7.2?}  baseline {}\n    object-already-exists {:?}  object-does-not-exist {:?}  (hint, info, warning, error)",
            spec.name, t.migrations, t.statements, t.tables, t.replay, t.baseline, t.already_exists, t.does_not_exist
        )
        .ok();
        for s in t.samples.iter().take(usize::MAX) {
            writeln!(report, "    {s}").ok();
        }
        total.migrations += t.migrations;
        total.statements += t.statements;
        total.replay += t.replay;
        for k in 0..4 {
            total.already_exists[k] += t.already_exists[k];
            total.does_not_exist[k] += t.does_not_exist[k];
        }
    }
    writeln!(
        report,
        "total: {} migrations, {} statements replayed in {:.2?}; object-already-exists {:?}, object-does-not-exist {:?} (hint, info, warning, error)",
        total.migrations, total.statements, total.replay, total.already_exists, total.does_not_exist
    )
    .ok();
    let target_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target");
    std::fs::create_dir_all(&target_dir).ok();
    std::fs::write(target_dir.join("replay-corpus.txt"), &report).ok();
    eprintln!("{report}");

    assert!(missing_tables.is_empty(), "{}", missing_tables.join("\n"));
    // Every set here ran in production: a missing object outside an unseen baseline is ours.
    let does_not_exist =
        total.does_not_exist[Severity::Warning as usize] + total.does_not_exist[Severity::Error as usize];
    assert_eq!(does_not_exist, 0, "object-does-not-exist warnings on production migrations:\n{report}");
    assert!(
        errors.is_empty(),
        "{} error findings on migrations that ran in production:\n{}",
        errors.len(),
        errors.join("\n")
    );
}
