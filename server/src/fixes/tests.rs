use std::path::Path;

use super::*;
use crate::config::Config;
use crate::engine;
use crate::project::{Disk, Project};
use crate::sql::Dialect;

/// Analyses `text`, applies every fix of `rule`, and returns the fixed text.
pub(super) fn fixed(text: &str, rule: &str, settings: &MigrationSettings) -> Option<String> {
    let config = Config::default();
    let analysis = engine::analyze(text, settings, &config, None);
    let finding = analysis.findings.iter().find(|f| f.rule == rule)?;
    let fixes = for_finding(finding, &FixContext::of(&analysis));
    let fix = fixes.first()?;
    Some(apply(text, &fix.edits))
}

pub(super) fn pg() -> MigrationSettings {
    Config::default().settings(Dialect::Postgres)
}

/// A fix applied in a workspace: the fixed file, and the other files it creates or edits
/// (relative to the workspace root).
#[derive(Debug)]
pub(super) struct Applied {
    pub(super) title: String,
    pub(super) preferred: bool,
    pub(super) safety: Safety,
    pub(super) text: String,
    pub(super) created: Vec<(String, String)>,
    pub(super) edited: Vec<(String, String)>,
    /// (from, to), relative to the root.
    pub(super) renamed: Vec<(String, String)>,
}

/// `fixes` of a file holding `original`, applied in memory, with paths relative to `root`.
pub(super) fn applied(root: &Path, original: &str, fixes: Vec<Fix>) -> Vec<Applied> {
    let relative = |p: &Path| p.strip_prefix(root).unwrap_or(p).display().to_string();
    fixes
        .into_iter()
        .map(|fix| {
            let mut created = Vec::new();
            let mut edited = Vec::new();
            let mut renamed = Vec::new();
            for edit in &fix.edits {
                match edit {
                    FileEdit::Create { path, text } => created.push((relative(path), text.clone())),
                    FileEdit::ReplaceIn { path, range, text, expected } => {
                        let new = format!("{}{text}{}", &expected[..range.start], &expected[range.end..]);
                        edited.push((relative(path), new));
                    }
                    FileEdit::Rename { from, to } => renamed.push((relative(from), relative(to))),
                    FileEdit::Replace { .. } => {}
                }
            }
            Applied {
                title: fix.title.clone(),
                preferred: fix.preferred,
                safety: fix.safety,
                text: apply(original, &fix.edits),
                created,
                edited,
                renamed,
            }
        })
        .collect()
}

/// Writes `files` under a temporary root, analyses the project, and applies each fix of the
/// first `rule` finding in `rel` (in memory).
pub(super) fn fixes_in(files: &[(&str, &str)], rel: &str, rule: &str) -> Vec<Applied> {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    for (name, text) in files {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(&path, text).expect("write");
    }
    let project = Project::open(root, Config::default());
    let analysis = project.analyze(&Disk, None);
    let path = root.join(rel);
    let file = analysis.files.get(&path).unwrap_or_else(|| panic!("{rel} is no migration: {:?}", project.sets));
    let Some(finding) = file.analysis.findings.iter().find(|f| f.rule == rule) else {
        panic!("no {rule} in {rel}: {:?}", file.analysis.findings)
    };
    let place = Place { path: &path, set: &project.sets[file.set], sources: &Disk };
    let schema = analysis.schema_for(&path);
    let mut ctx = FixContext::of(&file.analysis).at(place);
    if let Some(schema) = &schema {
        ctx = ctx.with_schema(schema);
    }
    applied(root, &file.analysis.file.text, for_finding(finding, &ctx))
}

fn only(mut fixes: Vec<Applied>) -> Applied {
    assert_eq!(fixes.len(), 1, "{fixes:#?}");
    fixes.remove(0)
}

// ---- CONCURRENTLY without a transaction ------------------------------------------------------

#[test]
fn create_index_gains_concurrently_and_the_rule_goes_quiet() {
    let text = "-- look users up\r\nCREATE UNIQUE INDEX users_email_idx ON users (email);\r\n";
    let out = fixed(text, "create-index-blocking", &pg()).expect("a fix");
    assert_eq!(out, "-- look users up\r\nCREATE UNIQUE INDEX CONCURRENTLY users_email_idx ON users (email);\r\n");
    let again = engine::analyze(&out, &pg(), &Config::default(), None);
    assert!(again.findings.iter().all(|f| f.rule != "create-index-blocking"), "{:?}", again.findings);
}

#[test]
fn drop_and_reindex_gain_concurrently() {
    assert_eq!(
        fixed("DROP INDEX IF EXISTS users_email_idx;\n", "drop-index-blocking", &pg()).as_deref(),
        Some("DROP INDEX CONCURRENTLY IF EXISTS users_email_idx;\n")
    );
    assert_eq!(
        fixed("REINDEX (VERBOSE) TABLE orders;\n", "reindex-blocking", &pg()).as_deref(),
        Some("REINDEX (VERBOSE) TABLE CONCURRENTLY orders;\n")
    );
    assert_eq!(
        fixed("reindex index orders_pkey;\n", "reindex-blocking", &pg()).as_deref(),
        Some("reindex index CONCURRENTLY orders_pkey;\n")
    );
    // The concurrent drop takes one index and no CASCADE.
    assert_eq!(fixed("DROP INDEX a, b;\n", "drop-index-blocking", &pg()), None);
    assert_eq!(fixed("DROP INDEX a CASCADE;\n", "drop-index-blocking", &pg()), None);
}

#[test]
fn no_fix_inside_a_transaction_without_a_migration_set() {
    let wrapped = MigrationSettings { wraps_in_transaction: true, ..pg() };
    assert_eq!(fixed("CREATE INDEX i ON t (c);\n", "create-index-blocking", &wrapped), None);
    let batch = MigrationSettings { implicit_transaction: true, ..pg() };
    assert_eq!(fixed("SELECT 1;\nCREATE INDEX i ON t (c);\n", "create-index-blocking", &batch), None);
}

// ---- explicit BEGIN … COMMIT -----------------------------------------------------------------

#[test]
fn an_explicit_block_lets_the_statement_go_after_its_commit() {
    let text = "BEGIN;\nALTER TABLE orders ADD COLUMN note text;\n  CREATE INDEX orders_customer_idx ON orders (customer_id);\nCOMMIT;\n";
    let out = fixed(text, "create-index-blocking", &pg()).expect("a fix");
    assert_eq!(
        out,
        "BEGIN;\nALTER TABLE orders ADD COLUMN note text;\nCOMMIT;\nCREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);\n"
    );
    let again = engine::analyze(&out, &pg(), &Config::default(), None);
    assert!(again.findings.iter().all(|f| !f.rule.contains("index") && f.rule != "concurrently-in-transaction"));
    // Passing a later statement about the same table is not safe.
    let text = "BEGIN;\nCREATE INDEX orders_customer_idx ON orders (customer_id, id);\nALTER TABLE orders DROP COLUMN note;\nCOMMIT;\n";
    let analysis = engine::analyze(text, &pg(), &Config::default(), None);
    let finding = analysis.findings.iter().find(|f| f.rule == "create-index-blocking").expect("the build");
    let fixes = for_finding(finding, &FixContext::of(&analysis));
    assert_eq!(fixes[0].safety, Safety::Unsafe, "{fixes:?}");
    // Passing a later statement about the same index breaks the migration: the drop moved after
    // the re-creation fails with "already exists". No fix.
    let text = "BEGIN;\nDROP INDEX orders_customer_idx;\nCREATE INDEX orders_customer_idx ON orders (customer_id, id);\nCOMMIT;\n";
    let analysis = engine::analyze(text, &pg(), &Config::default(), None);
    let finding = analysis.findings.iter().find(|f| f.rule == "drop-index-blocking").expect("the drop");
    assert_eq!(for_finding(finding, &FixContext::of(&analysis)), Vec::new());
    // A block that rolls back has nowhere to go.
    assert_eq!(fixed("BEGIN;\nCREATE INDEX i ON t (c);\nROLLBACK;\n", "create-index-blocking", &pg()), None);
}

// ---- framework opt-outs ----------------------------------------------------------------------

const SEED_GOOSE: &str = "-- +goose Up\nCREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint);\n\n-- +goose Down\nDROP TABLE orders;\n";

#[test]
fn goose_alone_gets_no_transaction() {
    let file = "-- +goose Up\nCREATE INDEX orders_customer_idx ON orders (customer_id);\n\n-- +goose Down\nDROP INDEX orders_customer_idx;\n";
    let fix = only(fixes_in(
        &[("db/migrations/00001_orders.sql", SEED_GOOSE), ("db/migrations/00002_index.sql", file)],
        "db/migrations/00002_index.sql",
        "create-index-blocking",
    ));
    assert_eq!(
        fix.text,
        "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);\n\n-- +goose Down\nDROP INDEX orders_customer_idx;\n"
    );
    assert_eq!(
        fix.title,
        "Use CREATE INDEX CONCURRENTLY, outside the migration's transaction: add `-- +goose NO TRANSACTION`"
    );
    assert!(fix.preferred && fix.safety == Safety::Safe);
    assert!(fix.created.is_empty() && fix.edited.is_empty());
}

#[test]
fn goose_with_other_statements_moves_the_build_to_a_new_migration() {
    let file = "-- +goose Up\r\nALTER TABLE orders ADD COLUMN note text;\r\nCREATE INDEX orders_customer_idx ON orders (customer_id);\r\n\r\n-- +goose Down\r\nALTER TABLE orders DROP COLUMN note;\r\n";
    let fixes = fixes_in(
        &[("db/migrations/00001_orders.sql", SEED_GOOSE), ("db/migrations/00002_note.sql", file)],
        "db/migrations/00002_note.sql",
        "create-index-blocking",
    );
    assert_eq!(fixes.len(), 2, "{fixes:#?}");
    let moved = &fixes[0];
    assert!(moved.preferred && moved.safety == Safety::Safe, "{moved:#?}");
    assert_eq!(
        moved.title,
        "Use CREATE INDEX CONCURRENTLY, in a new migration 00003_create_index_orders_customer_idx.sql (it cannot run in a transaction block)"
    );
    assert_eq!(
        moved.text,
        "-- +goose Up\r\nALTER TABLE orders ADD COLUMN note text;\r\n\r\n-- +goose Down\r\nALTER TABLE orders DROP COLUMN note;\r\n"
    );
    assert_eq!(
        moved.created,
        [(
            "db/migrations/00003_create_index_orders_customer_idx.sql".to_string(),
            "-- +goose NO TRANSACTION\r\n-- +goose Up\r\n-- Moved here from 00002_note.sql by safemig: it cannot run in a transaction block.\r\n\r\nCREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);\r\n\r\n-- +goose Down\r\n-- Nothing to undo here: the down part of 00002_note.sql undoes it, as before the move.\r\n".to_string()
        )]
    );
    // goose runs statements one by one: the opt-out for the whole file works too, but the other
    // statements lose their transaction.
    let whole = &fixes[1];
    assert!(!whole.preferred && whole.safety == Safety::Unsafe, "{whole:#?}");
    assert!(whole.text.starts_with("-- +goose NO TRANSACTION\r\n-- +goose Up\r\n"), "{}", whole.text);
}

#[test]
fn sqlx_atlas_and_dbmate_opt_out_in_the_file() {
    let sqlx = only(fixes_in(
        &[
            ("Cargo.toml", "[package]\nname = \"x\"\n"),
            ("migrations/1_orders.sql", "CREATE TABLE orders (id bigint, customer_id bigint);\n"),
            ("migrations/2_index.sql", "DROP INDEX orders_customer_idx;\n"),
        ],
        "migrations/2_index.sql",
        "drop-index-blocking",
    ));
    assert_eq!(sqlx.text, "-- no-transaction\nDROP INDEX CONCURRENTLY orders_customer_idx;\n");
    assert!(sqlx.title.ends_with("start the file with `-- no-transaction`"), "{}", sqlx.title);

    let atlas = only(fixes_in(
        &[
            ("migrations/atlas.sum", "h1:x=\n"),
            ("migrations/20240101000000_orders.sql", "CREATE TABLE orders (id bigint, customer_id bigint);\n"),
            ("migrations/20240102000000_reindex.sql", "REINDEX INDEX orders_customer_idx;\n"),
        ],
        "migrations/20240102000000_reindex.sql",
        "reindex-blocking",
    ));
    assert_eq!(atlas.text, "-- atlas:txmode none\n\nREINDEX INDEX CONCURRENTLY orders_customer_idx;\n");
    let replaced = only(fixes_in(
        &[
            ("migrations/atlas.sum", "h1:x=\n"),
            ("migrations/20240101000000_orders.sql", "CREATE TABLE orders (id bigint, customer_id bigint);\n"),
            (
                "migrations/20240102000000_index.sql",
                "-- atlas:txmode file\n\nCREATE INDEX i ON orders (customer_id);\n",
            ),
        ],
        "migrations/20240102000000_index.sql",
        "create-index-blocking",
    ));
    assert_eq!(replaced.text, "-- atlas:txmode none\n\nCREATE INDEX CONCURRENTLY i ON orders (customer_id);\n");

    let dbmate = only(fixes_in(
        &[
            ("db/migrations/20240101000000_orders.sql", "-- migrate:up\nCREATE TABLE orders (id bigint, customer_id bigint);\n-- migrate:down\nDROP TABLE orders;\n"),
            ("db/migrations/20240102000000_index.sql", "-- migrate:up\nCREATE INDEX i ON orders (customer_id);\n\n-- migrate:down\nDROP INDEX i;\n"),
        ],
        "db/migrations/20240102000000_index.sql",
        "create-index-blocking",
    ));
    assert_eq!(
        dbmate.text,
        "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON orders (customer_id);\n\n-- migrate:down\nDROP INDEX i;\n"
    );
}

#[test]
fn sqlx_with_other_statements_needs_a_file_of_its_own() {
    // sqlx sends an opted-out file as one query string: only a file of its own runs outside a
    // transaction block, and the opt-out of the whole file is no fix.
    let fix = only(fixes_in(
        &[
            ("Cargo.toml", "[package]\nname = \"x\"\n"),
            ("migrations/1_orders.sql", "CREATE TABLE orders (id bigint, customer_id bigint);\n"),
            (
                "migrations/2_index.sql",
                "ALTER TABLE orders ADD COLUMN note text;\nCREATE INDEX i ON orders (customer_id);\n",
            ),
        ],
        "migrations/2_index.sql",
        "create-index-blocking",
    ));
    assert_eq!(fix.text, "ALTER TABLE orders ADD COLUMN note text;\n");
    assert_eq!(
        fix.created,
        [(
            "migrations/3_create_index_i.sql".to_string(),
            "-- no-transaction\n-- Moved here from 2_index.sql by safemig: it cannot run in a transaction block.\n\nCREATE INDEX CONCURRENTLY i ON orders (customer_id);\n".to_string()
        )]
    );
}

#[test]
fn flyway_and_diesel_write_their_configuration_files() {
    let seed = "CREATE TABLE orders (id bigint, customer_id bigint);\n";
    let flyway = fixes_in(
        &[
            ("db/migration/V1__orders.sql", seed),
            ("db/migration/V2__index.sql", "CREATE INDEX i ON orders (customer_id);\nSELECT 1;\n"),
        ],
        "db/migration/V2__index.sql",
        "create-index-blocking",
    );
    // Not alone: a new migration V3 with its .conf (and, unsafe, the .conf for the whole of V2).
    assert_eq!(
        flyway[1].created,
        [("db/migration/V2__index.sql.conf".to_string(), "executeInTransaction=false\n".to_string())]
    );
    let flyway = &flyway[0];
    assert_eq!(
        flyway.created.iter().map(|(p, t)| format!("{p}: {t}")).collect::<Vec<_>>(),
        [
            "db/migration/V3__create_index_i.sql: -- Moved here from V2__index.sql by safemig: it cannot run in a transaction block.\n\nCREATE INDEX CONCURRENTLY i ON orders (customer_id);\n",
            "db/migration/V3__create_index_i.sql.conf: executeInTransaction=false\n"
        ]
    );
    let conf = fixes_in(
        &[
            ("db/migration/V1__orders.sql", seed),
            ("db/migration/V2__index.sql", "CREATE INDEX i ON orders (customer_id);\n"),
            ("db/migration/V2__index.sql.conf", "# flyway\nexecuteInTransaction = true # yes\n"),
        ],
        "db/migration/V2__index.sql",
        "create-index-blocking",
    );
    let conf = only(conf);
    assert_eq!(conf.text, "CREATE INDEX CONCURRENTLY i ON orders (customer_id);\n");
    assert_eq!(
        conf.edited,
        [("db/migration/V2__index.sql.conf".to_string(), "# flyway\nexecuteInTransaction = false # yes\n".to_string())]
    );

    let diesel = only(fixes_in(
        &[
            ("migrations/2024-01-01-000000_orders/up.sql", seed),
            ("migrations/2024-01-02-000000_index/up.sql", "CREATE INDEX i ON orders (customer_id);\n"),
            ("migrations/2024-01-02-000000_index/down.sql", "DROP INDEX i;\n"),
        ],
        "migrations/2024-01-02-000000_index/up.sql",
        "create-index-blocking",
    ));
    assert_eq!(
        diesel.created,
        [("migrations/2024-01-02-000000_index/metadata.toml".to_string(), "run_in_transaction = false\n".to_string())]
    );
    let existing = only(fixes_in(
        &[
            ("migrations/2024-01-01-000000_orders/up.sql", seed),
            ("migrations/2024-01-02-000000_index/up.sql", "CREATE INDEX i ON orders (customer_id);\n"),
            ("migrations/2024-01-02-000000_index/metadata.toml", "[other]\nx = 1\n"),
        ],
        "migrations/2024-01-02-000000_index/up.sql",
        "create-index-blocking",
    ));
    assert_eq!(
        existing.edited,
        [(
            "migrations/2024-01-02-000000_index/metadata.toml".to_string(),
            "run_in_transaction = false\n[other]\nx = 1\n".to_string()
        )]
    );
}

#[test]
fn one_query_string_runners_get_a_new_migration_and_supabase_none() {
    let seed = "CREATE TABLE orders (id bigint, customer_id bigint);\n";
    let go = only(fixes_in(
        &[
            ("db/migrations/0001_orders.up.sql", seed),
            (
                "db/migrations/0002_index.up.sql",
                "ALTER TABLE orders ADD COLUMN note text;\nCREATE INDEX i ON orders (customer_id);\n",
            ),
        ],
        "db/migrations/0002_index.up.sql",
        "create-index-blocking",
    ));
    assert_eq!(go.created[0].0, "db/migrations/0003_create_index_i.up.sql");
    assert!(go.created[0].1.ends_with("\nCREATE INDEX CONCURRENTLY i ON orders (customer_id);\n"), "{go:#?}");
    let prisma = only(fixes_in(
        &[
            ("prisma/migrations/migration_lock.toml", "provider = \"postgresql\"\n"),
            ("prisma/migrations/20240101000000_init/migration.sql", seed),
            (
                "prisma/migrations/20240102000000_index/migration.sql",
                "CREATE INDEX i ON orders (customer_id);\nSELECT 1;\n",
            ),
        ],
        "prisma/migrations/20240102000000_index/migration.sql",
        "create-index-blocking",
    ));
    assert_eq!(prisma.created[0].0, "prisma/migrations/20240102000001_create_index_i/migration.sql");
    assert_eq!(prisma.text, "SELECT 1;\n");
    // No key fits between 0002 and an existing 0003: no fix rather than a reordered history.
    let taken = fixes_in(
        &[
            ("db/migrations/0001_orders.up.sql", seed),
            ("db/migrations/0002_index.up.sql", "SELECT 1;\nCREATE INDEX i ON orders (customer_id);\n"),
            ("db/migrations/0003_more.up.sql", "SELECT 1;\n"),
        ],
        "db/migrations/0002_index.up.sql",
        "create-index-blocking",
    );
    assert!(taken.is_empty(), "{taken:#?}");
    let supabase = fixes_in(
        &[
            ("supabase/migrations/20240101000000_orders.sql", seed),
            ("supabase/migrations/20240102000000_index.sql", "CREATE INDEX i ON orders (customer_id);\n"),
        ],
        "supabase/migrations/20240102000000_index.sql",
        "create-index-blocking",
    );
    assert!(supabase.is_empty(), "{supabase:#?}");
}

// ---- NOT VALID, validated checks, lock_timeout ------------------------------------------------

#[test]
fn constraints_are_added_not_valid_and_validated_later() {
    let text = "ALTER TABLE orders\n    ADD CONSTRAINT orders_customer_fkey FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE;\nSELECT 1;\n";
    assert_eq!(
        fixed(text, "constraint-validated-on-add", &pg()).as_deref(),
        Some("ALTER TABLE orders\n    ADD CONSTRAINT orders_customer_fkey FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE NOT VALID;\nALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fkey;\nSELECT 1;\n")
    );
    let block = "BEGIN;\r\nALTER TABLE public.orders ADD CONSTRAINT \"Positive\" CHECK (total > 0), ADD COLUMN x int;\r\nCOMMIT;\r\n";
    let out = fixed(block, "constraint-validated-on-add", &pg()).expect("a fix");
    assert_eq!(
        out,
        "BEGIN;\r\nALTER TABLE public.orders ADD CONSTRAINT \"Positive\" CHECK (total > 0) NOT VALID, ADD COLUMN x int;\r\nCOMMIT;\r\nALTER TABLE public.orders VALIDATE CONSTRAINT \"Positive\";\r\n"
    );
    let again = engine::analyze(&out, &pg(), &Config::default(), None);
    assert!(again
        .findings
        .iter()
        .all(|f| f.rule != "constraint-validated-on-add" && f.rule != "validate-in-same-transaction"));
    // Unnamed: the VALIDATE needs a name.
    assert_eq!(fixed("ALTER TABLE t ADD CHECK (a > 0);\n", "constraint-validated-on-add", &pg()), None);
}

#[test]
fn constraints_in_a_wrapped_migration_validate_in_the_next_one() {
    let file = "-- +goose Up\nSET lock_timeout = '2s';\nALTER TABLE orders ADD CONSTRAINT orders_total_check CHECK (total >= 0);\n\n-- +goose Down\nALTER TABLE orders DROP CONSTRAINT orders_total_check;\n";
    let fix = only(fixes_in(
        &[("db/migrations/00001_orders.sql", SEED_GOOSE), ("db/migrations/00002_check.sql", file)],
        "db/migrations/00002_check.sql",
        "constraint-validated-on-add",
    ));
    assert_eq!(
        fix.title,
        "Add `orders_total_check` NOT VALID and VALIDATE it in a new migration 00003_validate_orders_total_check.sql (reads and writes continue during the scan)"
    );
    assert!(fix.text.contains("CHECK (total >= 0) NOT VALID;\n"), "{}", fix.text);
    assert_eq!(
        fix.created,
        [(
            "db/migrations/00003_validate_orders_total_check.sql".to_string(),
            "-- +goose Up\n-- Split from 00002_check.sql by safemig: this runs in a transaction of its own.\n\nSET LOCAL lock_timeout = '2s';\nALTER TABLE orders VALIDATE CONSTRAINT orders_total_check;\n\n-- +goose Down\n-- Nothing to undo here: the down part of 00002_check.sql undoes it, as before the move.\n".to_string()
        )]
    );
}

#[test]
fn a_statement_inside_a_guarded_do_block_is_not_rewritten() {
    // The rule sees it (the block runs it), but a fix writes plain statements around it.
    let text = "DO $$\nBEGIN\n  IF (SELECT true) THEN\n    ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n  END IF;\nEND\n$$;\n";
    let analysis = engine::analyze(text, &pg(), &Config::default(), None);
    let finding = analysis.findings.iter().find(|f| f.rule == "set-not-null-scan").expect("the rule sees it");
    assert_eq!(for_finding(finding, &FixContext::of(&analysis)), Vec::new());
    // The same statement on its own is fixed (negative case).
    assert!(fixed("ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n", "set-not-null-scan", &pg()).is_some());
}

#[test]
fn set_not_null_goes_through_a_validated_check() {
    let text = "  ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n";
    assert_eq!(
        fixed(text, "set-not-null-scan", &pg()).as_deref(),
        Some("  ALTER TABLE users ADD CONSTRAINT users_email_not_null CHECK (email IS NOT NULL) NOT VALID;\n  ALTER TABLE users VALIDATE CONSTRAINT users_email_not_null;\n  ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n  ALTER TABLE users DROP CONSTRAINT users_email_not_null;\n")
    );
    let out = fixed(text, "set-not-null-scan", &pg()).unwrap_or_default();
    let again = engine::analyze(&out, &pg(), &Config::default(), None);
    assert!(again.findings.iter().all(|f| f.rule != "set-not-null-scan"), "{:?}", again.findings);
    // Several actions, or PostgreSQL 11: no fix.
    assert_eq!(
        fixed("ALTER TABLE u ALTER COLUMN a SET NOT NULL, ALTER COLUMN b SET NOT NULL;", "set-not-null-scan", &pg()),
        None
    );
    let pg11 = MigrationSettings { postgres_version: crate::config::PgVersion::new(11, 0), ..pg() };
    assert_eq!(fixed(text, "set-not-null-scan", &pg11), None);
}

#[test]
fn set_not_null_in_a_batch_moves_the_rest_to_a_new_migration() {
    let file = "ALTER TABLE users ADD COLUMN nick text;\nALTER TABLE ONLY users ALTER COLUMN \"Email\" SET NOT NULL;\n";
    let fix = only(fixes_in(
        &[
            ("db/migrations/0001_users.up.sql", "CREATE TABLE users (id int, \"Email\" text);\n"),
            ("db/migrations/0002_nn.up.sql", file),
        ],
        "db/migrations/0002_nn.up.sql",
        "set-not-null-scan",
    ));
    assert_eq!(
        fix.text,
        "ALTER TABLE users ADD COLUMN nick text;\nALTER TABLE ONLY users ADD CONSTRAINT users_email_not_null CHECK (\"Email\" IS NOT NULL) NOT VALID;\n"
    );
    assert_eq!(fix.created[0].0, "db/migrations/0003_users_email_not_null.up.sql");
    assert!(fix.created[0].1.ends_with("\nALTER TABLE ONLY users VALIDATE CONSTRAINT users_email_not_null;\nALTER TABLE ONLY users ALTER COLUMN \"Email\" SET NOT NULL;\nALTER TABLE ONLY users DROP CONSTRAINT users_email_not_null;\n"), "{}", fix.created[0].1);
}

#[test]
fn lock_timeout_is_set_before_the_statement_and_local_in_a_transaction() {
    let text = "-- add it\nALTER TABLE users ADD COLUMN nick text;\n";
    assert_eq!(
        fixed(text, "lock-timeout-missing", &pg()).as_deref(),
        Some("-- add it\nSET lock_timeout = '5s';\nALTER TABLE users ADD COLUMN nick text;\n")
    );
    let block = "BEGIN;\r\n    ALTER TABLE users ADD COLUMN nick text;\r\nCOMMIT;\r\n";
    let settings = MigrationSettings { lock_timeout: "750ms".into(), ..pg() };
    let out = fixed(block, "lock-timeout-missing", &settings).expect("a fix");
    assert_eq!(
        out,
        "BEGIN;\r\n    SET LOCAL lock_timeout = '750ms';\r\n    ALTER TABLE users ADD COLUMN nick text;\r\nCOMMIT;\r\n"
    );
    let again = engine::analyze(&out, &settings, &Config::default(), None);
    assert!(again.findings.iter().all(|f| f.rule != "lock-timeout-missing"), "{:?}", again.findings);
    let wrapped = MigrationSettings { wraps_in_transaction: true, ..pg() };
    assert!(
        fixed(text, "lock-timeout-missing", &wrapped).is_some_and(|t| t.contains("SET LOCAL lock_timeout = '5s';\n"))
    );
}

#[test]
fn runners_that_always_wrap_get_no_concurrent_fix_and_drizzle_no_new_migration() {
    let seed = "CREATE TABLE orders (id bigint, customer_id bigint, total numeric);\n";
    let journal = r#"{"entries":[{"idx":0,"when":1,"tag":"0000_orders"},{"idx":1,"when":2,"tag":"0001_index"}]}"#;
    let drizzle = [
        ("drizzle/meta/_journal.json", journal),
        ("drizzle/0000_orders.sql", seed),
        ("drizzle/0001_index.sql", "CREATE INDEX i ON orders (customer_id);\n--> statement-breakpoint\nALTER TABLE orders ADD CONSTRAINT c CHECK (total > 0);\n"),
    ];
    assert!(fixes_in(&drizzle, "drizzle/0001_index.sql", "create-index-blocking").is_empty());
    // The VALIDATE would need a journal entry that only drizzle-kit writes.
    assert!(fixes_in(&drizzle, "drizzle/0001_index.sql", "constraint-validated-on-add").is_empty());
    let node = [
        ("migrations/1700000000000_orders.sql", "-- Up Migration\nCREATE TABLE orders (id bigint, customer_id bigint);\n-- Down Migration\nDROP TABLE orders;\n"),
        ("migrations/1700000000001_index.sql", "-- Up Migration\nCREATE INDEX i ON orders (customer_id);\n-- Down Migration\nDROP INDEX i;\n"),
    ];
    assert!(fixes_in(&node, "migrations/1700000000001_index.sql", "create-index-blocking").is_empty());
}

/// A transaction that ends before the file does: the SET must outlive it, or the statements
/// after the COMMIT wait for their locks with no timeout (seen in the corpus: ory/kratos files
/// of `…;COMMIT TRANSACTION;BEGIN TRANSACTION;` blocks, Prisma files with a BEGIN…COMMIT block).
#[test]
fn lock_timeout_outlives_a_transaction_that_ends_before_the_file() {
    let text = "BEGIN;\nDROP TABLE a;\nCOMMIT;\nBEGIN;\nDROP TABLE b;\nCOMMIT;\n";
    let out = fixed(text, "lock-timeout-missing", &pg()).expect("a fix");
    assert_eq!(out, "BEGIN;\nSET lock_timeout = '5s';\nDROP TABLE a;\nCOMMIT;\nBEGIN;\nDROP TABLE b;\nCOMMIT;\n");
    let again = engine::analyze(&out, &pg(), &Config::default(), None);
    assert!(again.findings.iter().all(|f| f.rule != "lock-timeout-missing"), "{:?}", again.findings);
}

/// A down file's statement never moves into a new migration: that would apply what the rollback
/// was to do (seen in the corpus: Diesel `down.sql` files that restore a NOT NULL).
#[test]
fn a_down_file_gets_no_new_migration() {
    let files = [
        ("migrations/2024-01-01-000000_shop/up.sql", "CREATE TABLE orders (id bigint PRIMARY KEY, note text);\n"),
        ("migrations/2024-01-01-000000_shop/down.sql", "DROP TABLE orders;\n"),
        ("migrations/2024-01-02-000000_nullable/up.sql", "ALTER TABLE orders ALTER COLUMN note DROP NOT NULL;\n"),
        ("migrations/2024-01-02-000000_nullable/down.sql", "ALTER TABLE orders ALTER COLUMN note SET NOT NULL;\n"),
    ];
    let down = fixes_in(&files, "migrations/2024-01-02-000000_nullable/down.sql", "set-not-null-scan");
    assert!(down.iter().all(|f| f.created.is_empty()), "{down:#?}");
}

#[test]
fn a_concurrent_statement_in_a_block_moves_after_its_commit() {
    let text = "BEGIN;\nALTER TABLE orders ADD COLUMN note text;\nCREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);\nCOMMIT;\n";
    let out = fixed(text, "concurrently-in-transaction", &pg()).expect("a fix");
    assert_eq!(
        out,
        "BEGIN;\nALTER TABLE orders ADD COLUMN note text;\nCOMMIT;\nCREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);\n"
    );
    let again = engine::analyze(&out, &pg(), &Config::default(), None);
    assert!(again.findings.iter().all(|f| f.rule != "concurrently-in-transaction"), "{:?}", again.findings);
}

#[test]
fn a_concurrent_statement_in_a_goose_migration_gets_the_opt_out() {
    let goose = "-- +goose Up\nCREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);\n\n-- +goose Down\nDROP INDEX orders_customer_idx;\n";
    let files = [
        (
            "db/migrations/00001_shop.sql",
            "-- +goose Up\nCREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint);\n",
        ),
        ("db/migrations/00002_index.sql", goose),
    ];
    let fix = only(fixes_in(&files, "db/migrations/00002_index.sql", "concurrently-in-transaction"));
    assert!(
        fix.title.starts_with("Run it outside a transaction block, outside the migration's transaction"),
        "{fix:#?}"
    );
    assert!(fix.text.starts_with("-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY"), "{}", fix.text);
    assert_eq!(fix.safety, Safety::Safe);
}

#[test]
fn validate_moves_to_a_later_transaction() {
    let text = "BEGIN;\nALTER TABLE orders ADD CONSTRAINT orders_total_check CHECK (total >= 0) NOT VALID;\nALTER TABLE orders VALIDATE CONSTRAINT orders_total_check;\nCOMMIT;\n";
    let out = fixed(text, "validate-in-same-transaction", &pg()).expect("a fix");
    assert_eq!(
        out,
        "BEGIN;\nALTER TABLE orders ADD CONSTRAINT orders_total_check CHECK (total >= 0) NOT VALID;\nCOMMIT;\nALTER TABLE orders VALIDATE CONSTRAINT orders_total_check;\n"
    );
    let files = [
        ("db/migrations/0001_shop.up.sql", "CREATE TABLE orders (id bigint PRIMARY KEY, total numeric);\n"),
        (
            "db/migrations/0002_check.up.sql",
            "ALTER TABLE orders ADD CONSTRAINT orders_total_check CHECK (total >= 0) NOT VALID;\nALTER TABLE orders VALIDATE CONSTRAINT orders_total_check;\n",
        ),
    ];
    let fix = only(fixes_in(&files, "db/migrations/0002_check.up.sql", "validate-in-same-transaction"));
    assert_eq!(fix.text, "ALTER TABLE orders ADD CONSTRAINT orders_total_check CHECK (total >= 0) NOT VALID;\n");
    assert_eq!(fix.created[0].0, "db/migrations/0003_validate_orders_total_check.up.sql");
    assert!(
        fix.created[0].1.ends_with("\nALTER TABLE orders VALIDATE CONSTRAINT orders_total_check;\n"),
        "{}",
        fix.created[0].1
    );
}

/// No fix where the statement cannot leave its transaction, and none for a VALIDATE inside the
/// add's own statement.
#[test]
fn statements_that_cannot_leave_their_transaction_get_no_fix() {
    let supabase = [
        (
            "supabase/migrations/20240101000000_shop.sql",
            "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint);\n",
        ),
        (
            "supabase/migrations/20240102000000_index.sql",
            "CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);\nSELECT 1;\n",
        ),
    ];
    let offered = fixes_in(&supabase, "supabase/migrations/20240102000000_index.sql", "concurrently-in-transaction");
    assert!(offered.is_empty(), "{offered:#?}");
    let one_statement =
        "BEGIN;\nALTER TABLE orders ADD CONSTRAINT c CHECK (total >= 0) NOT VALID, VALIDATE CONSTRAINT c;\nCOMMIT;\n";
    let analysis = engine::analyze(one_statement, &pg(), &Config::default(), None);
    let finding = analysis.findings.iter().find(|f| f.rule == "validate-in-same-transaction").expect("the finding");
    assert_eq!(for_finding(finding, &FixContext::of(&analysis)), Vec::new());
}

#[test]
fn a_statement_postgres_rejects_gets_no_fix() {
    // A Go template in a quoted name: the index rule still reads the tokens, but moving the
    // statement to a CONCURRENTLY migration would write SQL that fails again.
    let templated = "CREATE INDEX users_email_idx ON \"{{ index .Options \"Namespace\" }}\".users (email);\n";
    assert_eq!(fixed(templated, "create-index-blocking", &pg()), None);
    let analysis = engine::analyze(templated, &pg(), &Config::default(), None);
    assert!(analysis.findings.iter().any(|f| f.rule == "create-index-blocking"), "{:?}", analysis.findings);
    // The same statement, valid, keeps its fix.
    let valid = "CREATE INDEX users_email_idx ON \"Namespace\".users (email);\n";
    assert!(fixed(valid, "create-index-blocking", &pg()).is_some_and(|t| t.contains("CONCURRENTLY")));
}

// ---- extension-missing -----------------------------------------------------------------------

#[test]
fn create_extension_goes_before_the_first_statement_of_the_up_part() {
    let goose = "-- +goose Up\n-- users\nCREATE TABLE users (id bigint PRIMARY KEY);\nALTER TABLE users ADD COLUMN email citext;\n-- +goose Down\nDROP TABLE users;\n";
    let fix = only(fixes_in(
        &[("db/migrations/00001_users.sql", goose)],
        "db/migrations/00001_users.sql",
        "extension-missing",
    ));
    assert_eq!(fix.title, "Add `CREATE EXTENSION IF NOT EXISTS citext;` at the top of this migration");
    assert_eq!(fix.safety, Safety::Safe);
    assert_eq!(
        fix.text,
        "-- +goose Up\n-- users\nCREATE EXTENSION IF NOT EXISTS citext;\nCREATE TABLE users (id bigint PRIMARY KEY);\nALTER TABLE users ADD COLUMN email citext;\n-- +goose Down\nDROP TABLE users;\n"
    );
    // A name that needs quotes, CRLF line ends, indentation kept.
    let plain = "  CREATE TABLE a (id int);\r\n  CREATE TABLE b (id uuid DEFAULT uuid_generate_v4());\r\n";
    let fix = only(fixes_in(&[("migrations/0001_init.sql", plain)], "migrations/0001_init.sql", "extension-missing"));
    assert_eq!(
        fix.text,
        "  CREATE EXTENSION IF NOT EXISTS \"uuid-ossp\";\r\n  CREATE TABLE a (id int);\r\n  CREATE TABLE b (id uuid DEFAULT uuid_generate_v4());\r\n"
    );
    assert!(fix.created.is_empty() && fix.edited.is_empty() && fix.renamed.is_empty());
}
