//! Quick fixes against a real PostgreSQL (127.0.0.1:5432, user `postgres`, trust).
//!
//! For every fix: a migration set in a temporary directory, in the framework's layout. The
//! original set is applied to one fresh database, the set after the fix (its edits written to disk
//! as `safemig check --fix` writes them) to another, each migration the way its runner sends it
//! ([`Run`]); both then must describe the same catalog (tables, columns, types, nullability,
//! defaults, indexes and their validity, constraints and their validity) and hold the same rows.
//! Then the lock probes: the rewritten statements on a seeded table, in a transaction, with
//! `pg_locks` read after each one ([`probe_in_transaction`]); a concurrent statement outside a
//! transaction, stopped half-way by a session that holds a write lock, with its locks read while
//! it waits and a write to the table going through ([`probe_concurrent`]).
//!
//! Every test creates its own databases (`safemig_fix_<test>_<pid>_<n>`, `tests/support/pg.rs`)
//! and drops them when it ends, also when it fails.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use safemig::config::Config;
use safemig::fixes::{self, FileEdit, Fix, FixContext, Place, ProjectFacts, Safety};
use safemig::project::{Disk, Project};
use safemig::sql::{Dialect, SqlFile, StatementKind};
use safemig::workspace::frameworks::framework;
use safemig::workspace::{Direction, FrameworkKind};

#[path = "../../../tests/support/pg.rs"]
mod pg;
use pg::TestDb;

// ---- databases --------------------------------------------------------------------------------

// ---- running migrations -----------------------------------------------------------------------

/// How a runner sends one migration to PostgreSQL. This is the test's own model of the runners
/// (from their sources, `shared/design/reference/frameworks.md`), not safemig's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Run {
    /// `BEGIN`, the statements, `COMMIT` (goose, Atlas, Flyway, sqlx, dbmate, Diesel by default).
    Wrapped,
    /// The whole text as one simple query: PostgreSQL runs several statements as one implicit
    /// transaction (golang-migrate, Prisma; sqlx, dbmate and Diesel after their opt-out).
    Batch,
    /// Statement by statement, each in its own transaction unless the text opens one (goose,
    /// Atlas and Flyway after their opt-out; psql-style plain files).
    EachStatement,
}

/// The statements of `text`, as safemig splits them (comments and empty statements left out).
fn statements(text: &str) -> Vec<String> {
    let file = SqlFile::parse(text, Dialect::Postgres, None);
    file.statements
        .iter()
        .filter(|s| !matches!(s.kind(), StatementKind::Empty))
        .map(|s| text[s.range.clone()].to_string())
        .collect()
}

/// Applies `text` as `run` says. An error names the statement.
fn apply(client: &mut postgres::Client, text: &str, run: Run) -> Result<(), String> {
    let exec = |client: &mut postgres::Client, sql: &str| {
        client.batch_execute(sql).map_err(|e| format!("{sql}: {}", message(&e)))
    };
    match run {
        Run::Batch => exec(client, text),
        Run::Wrapped => {
            exec(client, "BEGIN")?;
            for s in statements(text) {
                if let Err(e) = exec(client, &s) {
                    let _ = exec(client, "ROLLBACK");
                    return Err(e);
                }
            }
            exec(client, "COMMIT")
        }
        Run::EachStatement => statements(text).iter().try_for_each(|s| exec(client, s)),
    }
}

/// PostgreSQL's own message for a failed statement.
fn message(e: &postgres::Error) -> String {
    e.as_db_error().map_or_else(|| e.to_string(), |d| d.message().to_string())
}

/// One migration as its runner sends it: the text of its up part and how.
#[derive(Debug, Clone)]
struct Step {
    path: PathBuf,
    text: String,
    run: Run,
}

/// The up part of every migration of the set in `dir`, in runner order, and how each runs.
fn steps(dir: &Path) -> Vec<Step> {
    let project = Project::open(dir, Config::default());
    let mut out = Vec::new();
    for set in &project.sets {
        let fw = framework(set.framework);
        for migration in &set.migrations {
            let Some(path) = migration.up.clone() else { continue };
            let text = std::fs::read_to_string(&path).expect("read a migration");
            let up: String = fw
                .sections(&path, &text)
                .iter()
                .filter(|s| s.direction == Direction::Up)
                .map(|s| &text[s.range.clone()])
                .collect();
            let run = runner(set.framework, &path, &text);
            out.push(Step { path, text: up, run });
        }
    }
    out
}

/// How `kind` runs the file at `path`: the test's model of each runner. Whether the file opted
/// out is read from the file itself (and its configuration file), the way the runner reads it.
fn runner(kind: FrameworkKind, path: &Path, text: &str) -> Run {
    let first_line = text.lines().next().unwrap_or("");
    let has_line = |l: &str| text.lines().any(|x| x.trim_end() == l);
    let sibling = |name: &str| path.parent().map(|d| d.join(name)).and_then(|p| std::fs::read_to_string(p).ok());
    match kind {
        // goose runs statement by statement, in a transaction unless annotated.
        FrameworkKind::Goose if has_line("-- +goose NO TRANSACTION") => Run::EachStatement,
        FrameworkKind::Goose => Run::Wrapped,
        // Atlas: statement by statement; `-- atlas:txmode none` in the header.
        FrameworkKind::Atlas
            if text.lines().take_while(|l| l.starts_with("--")).any(|l| l == "-- atlas:txmode none") =>
        {
            Run::EachStatement
        }
        FrameworkKind::Atlas => Run::Wrapped,
        // Flyway: statement by statement (JDBC); `<file>.conf` with executeInTransaction=false.
        FrameworkKind::Flyway => {
            let conf = path.file_name().and_then(|n| sibling(&format!("{}.conf", n.to_string_lossy())));
            if conf.is_some_and(|c| c.lines().any(|l| l.replace(' ', "") == "executeInTransaction=false")) {
                Run::EachStatement
            } else {
                Run::Wrapped
            }
        }
        // sqlx, dbmate, Diesel send the file as one query string, in a transaction unless opted out.
        FrameworkKind::Sqlx if first_line == "-- no-transaction" => Run::Batch,
        FrameworkKind::Dbmate if text.lines().any(|l| l.starts_with("-- migrate:up transaction:false")) => Run::Batch,
        FrameworkKind::Diesel
            if sibling("metadata.toml")
                .is_some_and(|m| m.lines().any(|l| l.replace(' ', "") == "run_in_transaction=false")) =>
        {
            Run::Batch
        }
        FrameworkKind::Sqlx | FrameworkKind::Dbmate | FrameworkKind::Diesel => Run::Wrapped,
        FrameworkKind::GolangMigrate | FrameworkKind::Prisma => Run::Batch,
        FrameworkKind::Supabase | FrameworkKind::Drizzle | FrameworkKind::NodePgMigrate => Run::Wrapped,
        // popx sends a `….autocommit.up.sql` file as one `Exec` outside a transaction.
        FrameworkKind::Pop if path.file_name().is_some_and(|n| n.to_string_lossy().ends_with(".autocommit.up.sql")) => {
            Run::Batch
        }
        FrameworkKind::Pop => Run::Wrapped,
        FrameworkKind::Plain => Run::EachStatement,
    }
}

/// Applies the migrations of the set in `dir` in runner order.
fn apply_set(db: &TestDb, dir: &Path) -> Result<(), String> {
    let mut client = db.sync();
    for step in steps(dir) {
        apply(&mut client, &step.text, step.run).map_err(|e| format!("{}: {e}", step.path.display()))?;
    }
    Ok(())
}

// ---- the catalog and the data -----------------------------------------------------------------

const USER_SCHEMA: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'";

/// The schema as sorted lines: relations, columns (position, type, nullability, default,
/// identity, generation), indexes (definition, validity), constraints (definition, validity).
fn catalog(client: &mut postgres::Client) -> Vec<String> {
    let sql = format!(
        "SELECT line FROM (
           SELECT format('relation %s.%s kind=%s', n.nspname, c.relname, c.relkind) AS line
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE {USER_SCHEMA} AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
           UNION ALL
           SELECT format('column %s.%s.%s pos=%s type=%s notnull=%s default=%s identity=%s generated=%s',
                         n.nspname, c.relname, a.attname, a.attnum, format_type(a.atttypid, a.atttypmod),
                         a.attnotnull, coalesce(pg_get_expr(d.adbin, d.adrelid), '-'), a.attidentity, a.attgenerated)
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE {USER_SCHEMA} AND a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
           UNION ALL
           SELECT format('index %s.%s on=%s valid=%s ready=%s live=%s def=%s', n.nspname, ic.relname, t.relname,
                         i.indisvalid, i.indisready, i.indislive, pg_get_indexdef(i.indexrelid))
             FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
             JOIN pg_namespace n ON n.oid = ic.relnamespace
            WHERE {USER_SCHEMA}
           UNION ALL
           SELECT format('constraint %s.%s.%s type=%s validated=%s deferrable=%s index=%s def=%s', n.nspname,
                         c.relname, k.conname, k.contype, k.convalidated, k.condeferrable,
                         coalesce(k.conindid::regclass::text, '-'), pg_get_constraintdef(k.oid))
             FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE {USER_SCHEMA}
         ) x ORDER BY line"
    );
    client.query(&sql, &[]).expect("read the catalog").iter().map(|r| r.get::<_, String>(0)).collect()
}

/// Every row of every user table, as text, sorted.
fn data(client: &mut postgres::Client) -> Vec<String> {
    let tables: Vec<String> = client
        .query(
            &format!(
                "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE {USER_SCHEMA} AND c.relkind IN ('r', 'p') ORDER BY 1"
            ),
            &[],
        )
        .expect("list the tables")
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut out = Vec::new();
    for table in tables {
        let rows = client
            .query(&format!("SELECT x::text FROM {table} x ORDER BY 1"), &[])
            .expect("read a table")
            .iter()
            .map(|r| format!("{table}: {}", r.get::<_, String>(0)))
            .collect::<Vec<_>>();
        out.extend(rows);
    }
    out
}

/// Where two databases differ, as a readable list (empty when they do not).
fn differences(a: &TestDb, b: &TestDb) -> Vec<String> {
    differences_filled(a, b, &[])
}

/// Every row of every user table like [`data`], except that each column of `filled` (table,
/// column) reads as whether it holds a value (`t`/`f`), not the value itself.
fn data_filled(client: &mut postgres::Client, filled: &[(&str, &str)]) -> Vec<String> {
    let mut out = data(client);
    for (table, column) in filled {
        let columns: Vec<String> = client
            .query(
                "SELECT CASE WHEN attname = $2 THEN format('(%I IS NOT NULL)', attname) ELSE format('%I', attname) END
                   FROM pg_attribute WHERE attrelid = format('public.%I', $1::text)::regclass AND attnum > 0
                    AND NOT attisdropped ORDER BY attnum",
                &[table, column],
            )
            .expect("list the columns")
            .iter()
            .map(|r| r.get(0))
            .collect();
        let prefix = format!("public.{table}: ");
        out.retain(|l| !l.starts_with(&prefix));
        let rows = client
            .query(&format!("SELECT row({})::text FROM public.{table} ORDER BY 1", columns.join(", ")), &[])
            .expect("read a table");
        out.extend(rows.iter().map(|r| format!("{prefix}{}", r.get::<_, String>(0))));
    }
    out.sort();
    out
}

/// Where two databases differ, like [`differences`], for columns whose values are volatile
/// (`gen_random_uuid()`, `random()`): the rewritten set fills each row of `filled` (table,
/// column) with a value of the same kind, not the same value, so those columns compare as
/// filled or not. The catalog (types, defaults, nullability) still compares in full.
fn differences_filled(a: &TestDb, b: &TestDb, filled: &[(&str, &str)]) -> Vec<String> {
    let (mut ca, mut cb) = (a.sync(), b.sync());
    let mut out = Vec::new();
    let (da, db) = (data_filled(&mut ca, filled), data_filled(&mut cb, filled));
    for (what, left, right) in [("catalog", catalog(&mut ca), catalog(&mut cb)), ("data", da, db)] {
        out.extend(left.iter().filter(|l| !right.contains(l)).map(|l| format!("{what}, original only: {l}")));
        out.extend(right.iter().filter(|r| !left.contains(r)).map(|r| format!("{what}, rewritten only: {r}")));
    }
    out
}

// ---- lock probes ------------------------------------------------------------------------------

/// The locks a statement held on the public schema's relations when it finished, and the
/// table's data file.
#[derive(Debug, Clone)]
#[allow(dead_code)] // `sql` is for the failure messages.
struct Probed {
    sql: String,
    /// (relation, mode), sorted.
    locks: Vec<(String, String)>,
    filenode: u32,
    /// The statement scanned the probed table (a sequential scan counted in its transaction).
    scanned: bool,
}

impl Probed {
    fn holds(&self, relation: &str, mode: &str) -> bool {
        self.locks.iter().any(|(r, m)| r == relation && m == mode)
    }
}

const LOCKS_OF: &str = "SELECT c.relname::text, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
                         WHERE l.pid = $1 AND l.granted AND l.locktype = 'relation'
                           AND c.relnamespace = 'public'::regnamespace ORDER BY 1, 2";

fn filenode(client: &mut postgres::Client, table: &str) -> u32 {
    let row = client.query_one(&format!("SELECT pg_relation_filenode('{table}')::oid"), &[]).expect("filenode");
    row.get(0)
}

/// Sequential scans of `table` so far in this transaction (`pg_stat_xact_user_tables` counts
/// them before they are flushed).
fn seq_scans(client: &mut postgres::Client, table: &str) -> i64 {
    let row = client
        .query_one("SELECT coalesce(max(seq_scan), 0) FROM pg_stat_xact_user_tables WHERE relname = $1", &[&table])
        .expect("read pg_stat_xact_user_tables");
    row.get(0)
}

/// Runs `sql` in the open transaction of `client` (backend `pid`) and reads what it holds.
fn probe_one(client: &mut postgres::Client, pid: i32, table: &str, sql: &str) -> Probed {
    let scans = seq_scans(client, table);
    client.batch_execute(sql).unwrap_or_else(|e| panic!("{sql}: {}", message(&e)));
    let locks = client.query(LOCKS_OF, &[&pid]).expect("read pg_locks");
    let locks = locks.iter().map(|r| (r.get(0), r.get(1))).collect();
    let scanned = seq_scans(client, table) > scans;
    Probed { sql: sql.to_string(), locks, filenode: filenode(client, table), scanned }
}

/// Runs `statements` in one transaction on a seeded database and reads the session's locks,
/// whether `table` was scanned and its data file after each; rolls back at the end.
fn probe_in_transaction(db: &TestDb, table: &str, statements: &[String]) -> Vec<Probed> {
    let mut client = db.sync();
    let pid: i32 = client.query_one("SELECT pg_backend_pid()", &[]).expect("pid").get(0);
    client.batch_execute("BEGIN").expect("begin");
    let out = statements.iter().map(|sql| probe_one(&mut client, pid, table, sql)).collect();
    client.batch_execute("ROLLBACK").expect("rollback");
    out
}

/// Runs the migrations of the set in `root` from migration `from` on (runner order) as their
/// runners do, on a database holding the earlier ones, and probes every statement in the
/// transaction it runs in (a statement outside any transaction gets one of its own, which is
/// what PostgreSQL gives it). Transaction-control statements are run, not probed.
fn probe_set(db: &TestDb, root: &Path, from: usize, table: &str) -> Vec<Probed> {
    let all = steps(root);
    let mut client = db.sync();
    for step in &all[..from] {
        apply(&mut client, &step.text, step.run).expect("apply the earlier migrations");
    }
    let pid: i32 = client.query_one("SELECT pg_backend_pid()", &[]).expect("pid").get(0);
    let mut out = Vec::new();
    for step in &all[from..] {
        // A query string of one statement is no transaction block (a `DO` in it may COMMIT).
        let in_step = step.run == Run::Wrapped || (step.run == Run::Batch && statements(&step.text).len() > 1);
        if in_step {
            client.batch_execute("BEGIN").expect("begin");
        }
        let mut in_block = false;
        for sql in statements(&step.text) {
            let head = sql.trim_start().to_ascii_uppercase();
            if !in_step && (head.starts_with("BEGIN") || head.starts_with("COMMIT")) {
                in_block = head.starts_with("BEGIN");
                client.batch_execute(&sql).expect("transaction control");
                continue;
            }
            // A `DO` block outside any transaction runs bare, as the runner sends it: it may
            // COMMIT per round, which it cannot inside a BEGIN.
            let own = !in_step && !in_block && !head.starts_with("DO");
            if own {
                client.batch_execute("BEGIN").expect("begin");
            }
            out.push(probe_one(&mut client, pid, table, &sql));
            if own {
                client.batch_execute("COMMIT").expect("commit");
            }
        }
        if in_step {
            client.batch_execute("COMMIT").expect("commit");
        }
    }
    out
}

/// No statement scans `table` while its transaction holds a lock that blocks writes (or more),
/// and the table keeps its data file.
fn assert_no_blocking_scan(probed: &[Probed], table: &str, filenode_before: u32) {
    for p in probed {
        if p.scanned {
            for mode in WRITE_BLOCKING {
                assert!(!p.holds(table, mode), "`{}` scans {table} under {mode}: {probed:#?}", p.sql);
            }
        }
        assert_eq!(p.filenode, filenode_before, "`{}` rewrote {table}", p.sql);
    }
}

/// What a concurrent statement held while it waited half-way.
#[derive(Debug)]
struct ConcurrentProbe {
    locks_while_waiting: Vec<(String, String)>,
    /// `write` ran (under a 10 s lock_timeout) while the statement waited.
    write: Result<(), String>,
    filenode_before: u32,
    filenode_after: u32,
}

/// Runs `sql` outside a transaction while another session holds ROW EXCLUSIVE on `table` (an
/// open writer), so that the concurrent statement stops at its wait for older writers; reads
/// the locks it holds then, runs `write` from a third session, lets the writer commit and the
/// statement finish.
fn probe_concurrent(db: &TestDb, table: &str, sql: &str, write: &str) -> ConcurrentProbe {
    let mut holder = db.sync();
    let mut watcher = db.sync();
    let filenode_before = filenode(&mut watcher, table);
    holder.batch_execute(&format!("BEGIN; LOCK TABLE {table} IN ROW EXCLUSIVE MODE")).expect("hold a writer's lock");
    let Stalled { pid, running } = stall(db, &mut holder, &mut watcher, sql, &waits_for_a_lock);
    let locks = watcher.query(LOCKS_OF, &[&pid]).expect("read pg_locks");
    let locks_while_waiting = locks.iter().map(|r| (r.get(0), r.get(1))).collect();
    let mut writer = db.sync();
    let write = writer.batch_execute(&format!("SET lock_timeout = '10s'; {write}")).map_err(|e| message(&e));
    holder.batch_execute("COMMIT").expect("release the writer");
    let done = running.join().expect("the statement's thread");
    done.unwrap_or_else(|e| panic!("`{sql}` failed: {e}"));
    let filenode_after = filenode(&mut watcher, table);
    ConcurrentProbe { locks_while_waiting, write, filenode_before, filenode_after }
}

/// A statement running in a session of its own, stopped behind a lock another session keeps.
struct Stalled {
    /// Its backend.
    pid: i32,
    /// Its outcome, once the lock is released.
    running: std::thread::JoinHandle<Result<(), String>>,
}

/// Starts `sql` in a new session of `db` and waits (without asserting on time) until
/// `waiting(watcher, pid)` says it waits; if it finishes or never waits, rolls `holder` back
/// and fails.
fn stall(
    db: &TestDb,
    holder: &mut postgres::Client,
    watcher: &mut postgres::Client,
    sql: &str,
    waiting: &dyn Fn(&mut postgres::Client, i32) -> bool,
) -> Stalled {
    let mut worker = db.sync();
    let pid: i32 = worker.query_one("SELECT pg_backend_pid()", &[]).expect("pid").get(0);
    let statement = sql.to_string();
    let running = std::thread::spawn(move || worker.batch_execute(&statement).map_err(|e| message(&e)));
    let deadline = Instant::now() + Duration::from_secs(120);
    while !waiting(watcher, pid) {
        if running.is_finished() || Instant::now() > deadline {
            let _ = holder.batch_execute("ROLLBACK");
            panic!("`{sql}` never waited for the lock held: {:?}", running.join());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Stalled { pid, running }
}

/// Whether backend `pid` waits for a lock.
fn waits_for_a_lock(watcher: &mut postgres::Client, pid: i32) -> bool {
    let waiting: i64 = watcher
        .query_one("SELECT count(*) FROM pg_locks WHERE pid = $1 AND NOT granted", &[&pid])
        .expect("read pg_locks")
        .get(0);
    waiting > 0
}

/// Locks that block writes to a table (or more).
const WRITE_BLOCKING: &[&str] = &["ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"];

fn assert_writes_continue(probe: &ConcurrentProbe, table: &str) {
    for (relation, mode) in &probe.locks_while_waiting {
        assert!(
            !(relation == table && WRITE_BLOCKING.contains(&mode.as_str())),
            "{mode} on {relation} while waiting: {probe:?}"
        );
    }
    assert_eq!(probe.write, Ok(()), "a write to {table} while the statement ran");
}

// ---- fixtures and fixes -----------------------------------------------------------------------

/// A migration set in a temporary directory: `files` are (path relative to the root, text).
fn workspace(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (rel, text) in files {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("create dirs");
        std::fs::write(&path, text).expect("write a fixture");
    }
    dir
}

/// Copies a directory tree.
fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// The findings of `rule` in the file at `rel`, and every rule id found anywhere in the set.
fn analyse(root: &Path, rel: &str) -> (Project, safemig::project::ProjectAnalysis, PathBuf) {
    let project = Project::open(root, Config::default());
    let analysis = project.analyze(&Disk, None);
    (project, analysis, root.join(rel))
}

/// Every (file, rule) the project reports, sorted.
fn all_findings(root: &Path) -> Vec<(String, String)> {
    let project = Project::open(root, Config::default());
    let analysis = project.analyze(&Disk, None);
    let mut out: Vec<(String, String)> = analysis
        .files
        .iter()
        .flat_map(|(path, f)| {
            let name = path.strip_prefix(root).unwrap_or(path).display().to_string();
            f.analysis.findings.iter().map(move |x| (name.clone(), x.rule.to_string()))
        })
        .collect();
    out.sort();
    out
}

/// The fixes safemig offers for the first `rule` finding in `rel`, with the project's facts (git
/// history, the replayed schema) as the editor and `check --fix` give them.
fn fixes_for(root: &Path, rel: &str, rule: &str) -> Vec<Fix> {
    let (project, analysis, path) = analyse(root, rel);
    let file = analysis.files.get(&path).unwrap_or_else(|| panic!("{rel} is not a migration of the set"));
    let finding = file
        .analysis
        .findings
        .iter()
        .find(|f| f.rule == rule)
        .unwrap_or_else(|| panic!("no {rule} in {rel}: {:?}", file.analysis.findings));
    let set = &project.sets[file.set];
    let place = Place { path: &path, set, sources: &Disk };
    let schema = analysis.schema_for(&path);
    let facts = ProjectFacts { git: project.git.as_ref(), ledger: None };
    let mut ctx = FixContext::of(&file.analysis).with(facts).at(place);
    if let Some(schema) = &schema {
        ctx = ctx.with_schema(schema);
    }
    fixes::for_finding(finding, &ctx)
}

/// Writes a fix's edits as `check --fix` does (replacements in `rel`, new files created).
fn write_fix(root: &Path, rel: &str, fix: &Fix) {
    let path = root.join(rel);
    let text = std::fs::read_to_string(&path).expect("read the fixed file");
    let fixed = fixes::apply(&text, &fix.edits);
    std::fs::write(&path, fixed).expect("write the fixed file");
    for edit in &fix.edits {
        match edit {
            FileEdit::Create { path, text } => {
                assert!(!path.exists(), "the fix would overwrite {}", path.display());
                std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
                std::fs::write(path, text).expect("create a file");
            }
            FileEdit::ReplaceIn { path, range, text, expected } => {
                let old = std::fs::read_to_string(path).expect("read the other file");
                assert_eq!(&old, expected, "{} changed since the fix was computed", path.display());
                let new = format!("{}{text}{}", &old[..range.start], &old[range.end..]);
                std::fs::write(path, new).expect("edit the other file");
            }
            FileEdit::Rename { from, to } => {
                assert!(!to.exists(), "the fix would overwrite {}", to.display());
                std::fs::rename(from, to).expect("rename");
            }
            FileEdit::Replace { .. } => {}
        }
    }
}

/// What one fix case checks: the rule goes quiet, nothing new fires, and the rewritten set
/// builds the same schema and rows as the original.
struct Case<'a> {
    name: &'a str,
    files: &'a [(&'a str, &'a str)],
    /// The file the fix is asked for.
    rel: &'a str,
    rule: &'a str,
    /// The fix's title starts with this.
    title: &'a str,
    safety: Safety,
}

/// Runs `case` and returns the root of the fixed workspace (kept alive by the returned guard).
fn check_case(case: &Case) -> tempfile::TempDir {
    check_case_with(case, case.files, &differences)
}

/// [`check_case`], comparing the rewritten set with `reference` rather than the original: for
/// a fix that adds an object on purpose (an index), the original set plus that object.
fn check_case_against(case: &Case, reference: &[(&str, &str)]) -> tempfile::TempDir {
    check_case_with(case, reference, &differences)
}

/// [`check_case`], with `compare` (original database, rewritten database) listing where the two
/// differ: for fixes whose end state differs from the original by design (a default the user
/// chooses, volatile values that are of the same kind but not the same).
fn check_case_by(case: &Case, compare: &dyn Fn(&TestDb, &TestDb) -> Vec<String>) -> tempfile::TempDir {
    check_case_with(case, case.files, compare)
}

/// Applies the fix of `case` (the one titled `case.title…`, of `case.safety`) to a copy of its
/// workspace and checks that its rule no longer fires and nothing fires that did not before.
/// Returns the fixed workspace.
fn apply_case(case: &Case) -> tempfile::TempDir {
    let original = workspace(case.files);
    let fixed = tempfile::tempdir().expect("temp dir");
    copy_tree(original.path(), fixed.path());
    let before = all_findings(fixed.path());
    let offered = fixes_for(fixed.path(), case.rel, case.rule);
    let fix = offered
        .iter()
        .find(|f| f.title.starts_with(case.title))
        .unwrap_or_else(|| panic!("{}: no fix titled `{}…` in {offered:#?}", case.name, case.title));
    assert_eq!(fix.safety, case.safety, "{}: {fix:#?}", case.name);
    write_fix(fixed.path(), case.rel, fix);

    let after = all_findings(fixed.path());
    assert!(
        !after.iter().any(|(_, r)| r == case.rule),
        "{}: {} still fires after the fix: {after:?}",
        case.name,
        case.rule
    );
    let new: Vec<_> = after.iter().filter(|(_, r)| !before.iter().any(|(_, b)| b == r)).collect();
    assert!(new.is_empty(), "{}: new findings after the fix: {new:?}", case.name);
    fixed
}

/// Applies the fix of `case`, then compares the rewritten set with the set `reference` by
/// `compare`.
fn check_case_with(
    case: &Case,
    reference: &[(&str, &str)],
    compare: &dyn Fn(&TestDb, &TestDb) -> Vec<String>,
) -> tempfile::TempDir {
    let fixed = apply_case(case);

    // Same catalog and rows from the original and the rewritten set.
    let a = TestDb::new(&format!("fix_{}", case.name));
    let b = TestDb::new(&format!("fix_{}", case.name));
    let reference = workspace(reference);
    apply_set(&a, reference.path()).unwrap_or_else(|e| panic!("{}: the original set fails: {e}", case.name));
    apply_set(&b, fixed.path()).unwrap_or_else(|e| panic!("{}: the rewritten set fails: {e}", case.name));
    let diff = compare(&a, &b);
    assert!(diff.is_empty(), "{}: the rewritten set builds something else:\n{}", case.name, diff.join("\n"));
    fixed
}

// ---- the harness's own tests ------------------------------------------------------------------

const SEED: &str = "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, note text);
INSERT INTO orders SELECT g, g % 7, 'n' || g FROM generate_series(1, 200) g;";

/// The comparison sees an INVALID index, a NOT VALID constraint, a nullability change and a row.
#[test]
fn the_comparison_sees_validity_nullability_and_rows() {
    let a = TestDb::with("fix_cmp", SEED);
    let b = TestDb::with("fix_cmp", SEED);
    assert!(differences(&a, &b).is_empty(), "{:?}", differences(&a, &b));

    a.sync().batch_execute("ALTER TABLE orders ADD CONSTRAINT c CHECK (id > 0)").expect("add");
    b.sync().batch_execute("ALTER TABLE orders ADD CONSTRAINT c CHECK (id > 0) NOT VALID").expect("add");
    let diff = differences(&a, &b);
    assert!(diff.iter().any(|d| d.contains("validated=f")), "{diff:?}");
    b.sync().batch_execute("ALTER TABLE orders VALIDATE CONSTRAINT c").expect("validate");
    assert!(differences(&a, &b).is_empty());

    a.sync().batch_execute("CREATE UNIQUE INDEX u ON orders (customer_id)").expect_err("duplicates");
    // A failed concurrent build leaves an INVALID index behind.
    b.sync().batch_execute("CREATE UNIQUE INDEX CONCURRENTLY u ON orders (customer_id)").expect_err("duplicates");
    let diff = differences(&a, &b);
    assert!(diff.iter().any(|d| d.contains("index public.u") && d.contains("valid=f")), "{diff:?}");
    b.sync().batch_execute("DROP INDEX u").expect("drop");

    b.sync().batch_execute("ALTER TABLE orders ALTER COLUMN note SET NOT NULL").expect("not null");
    assert!(differences(&a, &b).iter().any(|d| d.contains("notnull=t")));
    b.sync().batch_execute("ALTER TABLE orders ALTER COLUMN note DROP NOT NULL").expect("nullable");

    b.sync().batch_execute("UPDATE orders SET note = 'x' WHERE id = 1").expect("update");
    assert!(differences(&a, &b).iter().any(|d| d.starts_with("data")));
}

/// The runner model: a batch is one implicit transaction, statement by statement is not.
#[test]
fn batches_refuse_concurrent_builds_and_statements_do_not() {
    let db = TestDb::with("fix_runs", SEED);
    let text = "SELECT 1;\nCREATE INDEX CONCURRENTLY i ON orders (customer_id);\n";
    let mut c = db.sync();
    let err = apply(&mut c, text, Run::Batch).expect_err("a batch is a transaction");
    assert!(err.contains("cannot run inside a transaction block"), "{err}");
    apply(&mut c, text, Run::Wrapped).expect_err("wrapped");
    apply(&mut c, text, Run::EachStatement).expect("one by one");
    apply(&mut c, "DROP INDEX CONCURRENTLY i;", Run::Batch).expect("a single statement is no block");
}

/// The probes see what they must: ACCESS EXCLUSIVE for a scanning SET NOT NULL, a new data file
/// for a rewrite, and a concurrent build that lets writes through.
#[test]
fn the_lock_probes_see_blocking_locks_and_rewrites() {
    let db = TestDb::with("fix_probe", SEED);
    let steps = probe_in_transaction(
        &db,
        "orders",
        &[
            "ALTER TABLE orders ALTER COLUMN note SET NOT NULL".into(),
            "ALTER TABLE orders ALTER COLUMN id TYPE int".into(),
        ],
    );
    assert!(steps[0].holds("orders", "AccessExclusiveLock") && steps[0].scanned, "{steps:?}");
    let before = filenode(&mut db.sync(), "orders");
    let caught = std::panic::catch_unwind(|| assert_no_blocking_scan(&steps[..1], "orders", before));
    assert!(caught.is_err(), "a scan under ACCESS EXCLUSIVE must fail the check");
    let not_valid = probe_in_transaction(&db, "orders", &["ALTER TABLE orders ADD CHECK (id > 0) NOT VALID".into()]);
    assert!(!not_valid[0].scanned, "{not_valid:?}");
    let before = filenode(&mut db.sync(), "orders");
    assert_eq!(steps[0].filenode, before, "SET NOT NULL does not rewrite");
    assert_ne!(steps[1].filenode, before, "a type change rewrites: {steps:?}");

    let blocking = probe_in_transaction(&db, "orders", &["CREATE INDEX i ON orders (customer_id)".into()]);
    assert!(blocking[0].holds("orders", "ShareLock"), "{blocking:?}");

    let probe = probe_concurrent(
        &db,
        "orders",
        "CREATE INDEX CONCURRENTLY i ON orders (customer_id)",
        "INSERT INTO orders VALUES (1000, 1, 'during the build')",
    );
    assert_writes_continue(&probe, "orders");
    assert!(probe.locks_while_waiting.contains(&("orders".into(), "ShareUpdateExclusiveLock".into())), "{probe:?}");
    assert_eq!(probe.filenode_before, probe.filenode_after);
}

// ---- framework file shapes shared by the cases ------------------------------------------------

fn goose(sql: &str) -> String {
    format!("-- +goose Up\n{sql}\n\n-- +goose Down\nSELECT 1;\n")
}

fn dbmate(sql: &str) -> String {
    format!("-- migrate:up\n{sql}\n\n-- migrate:down\n")
}

// ---- the fixes, a module per family -----------------------------------------------------------

mod backfill;
mod columns;
mod concurrently;
mod expand;
mod extension;
mod history;
mod not_valid;
mod unique;
