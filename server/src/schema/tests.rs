//! Unit tests of schema replay.

use std::path::PathBuf;

use super::*;
use crate::sql::SqlFile;

fn parse(sql: &str) -> SqlFile {
    SqlFile::parse(sql, Dialect::Postgres, None)
}

/// Replays `files` as one set (each whole file runs up).
fn run(files: &[&str]) -> (Replay, Vec<SqlFile>) {
    let parsed: Vec<SqlFile> = files.iter().map(|f| parse(f)).collect();
    let paths: Vec<PathBuf> =
        (0..files.len()).map(|i| PathBuf::from(format!("migrations/{:04}_m.sql", i + 1))).collect();
    let inputs: Vec<ReplayInput> = paths.iter().zip(&parsed).map(|(p, f)| ReplayInput::whole(p, f)).collect();
    (replay(&inputs), parsed)
}

fn q(name: &str) -> QualifiedName {
    let parts = name
        .split('.')
        .map(|p| crate::sql::facts::Name { value: p.to_string(), quoted: false, span: Span::default() })
        .collect();
    QualifiedName { parts, span: Span::default() }
}

fn events(r: &Replay, i: usize) -> Vec<String> {
    r.events(i)
        .iter()
        .map(|e| match &e.event {
            ReplayEvent::AlreadyExists { object, existing, .. } => {
                format!("exists {object} ({})", existing.created_phrase())
            }
            ReplayEvent::DoesNotExist { object, missing, .. } => format!("missing {object} {missing:?}"),
        })
        .collect()
}

#[test]
fn tables_columns_and_their_history() {
    let (r, _) = run(&[
        "CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL DEFAULT '', org_id int REFERENCES orgs (id));\nCREATE TABLE orgs (id int PRIMARY KEY);",
        "-- add a column\nALTER TABLE users ADD COLUMN name varchar(50), ALTER COLUMN email DROP NOT NULL;",
        "ALTER TABLE users ALTER COLUMN name TYPE text;\nALTER TABLE users ALTER COLUMN email SET DEFAULT 'x';",
    ]);
    let users = r.final_schema().table(&q("users")).expect("users");
    let cols: Vec<(&str, Option<&str>, bool)> =
        users.columns().map(|c| (c.name.as_str(), c.ty.as_ref().map(|t| t.canonical.as_str()), c.not_null)).collect();
    assert_eq!(
        cols,
        [
            ("id", Some("serial8"), true),
            ("email", Some("text"), false),
            ("org_id", Some("int4"), false),
            ("name", Some("text"), false)
        ]
    );
    assert_eq!(users.column("email").and_then(|c| c.default.as_deref()), Some("'x'"));
    assert_eq!(
        users.history.to_string(),
        "created by 0001_m.sql:1 · altered by 0002_m.sql:2, 0003_m.sql:1, 0003_m.sql:2"
    );
    assert_eq!(
        users.column("name").map(|c| c.history.to_string()).as_deref(),
        Some("created by 0002_m.sql:2 · altered by 0003_m.sql:1")
    );
    // The implicit sequence and the primary key's index exist, by PostgreSQL's names.
    assert!(r.final_schema().sequence(&q("users_id_seq")).is_some());
    assert_eq!(r.final_schema().index("users_pkey").map(|i| i.columns.clone()), Some(vec!["id".to_string()]));
    let fk = users.constraints.iter().find(|c| matches!(c.kind, ConstraintType::ForeignKey { .. })).expect("fk");
    assert_eq!(fk.name, "users_org_id_fkey");
    // The first migration references orgs before creating it: reported (a real failure).
    assert_eq!(events(&r, 0), ["missing table orgs NeverCreated"]);
    // Snapshots are before each migration.
    assert!(r.before(0).table(&q("users")).is_none());
    assert!(r.before(1).table(&q("users")).is_some_and(|t| t.column("name").is_none()));
    assert!(r.after(1).table(&q("users")).is_some_and(|t| t.column("name").is_some()));
}

#[test]
fn repeated_creates_are_reported_with_their_origin() {
    let (r, _) = run(&[
        "CREATE TABLE users (id int PRIMARY KEY);\nALTER TABLE users ADD COLUMN email text;\nCREATE UNIQUE INDEX users_email_idx ON users (email);",
        "CREATE TABLE users (id int);\nCREATE TABLE IF NOT EXISTS users (id int);\nALTER TABLE users ADD COLUMN email text, ADD COLUMN IF NOT EXISTS email text;\nCREATE INDEX users_email_idx ON users (email);\nCREATE INDEX IF NOT EXISTS users_email_idx ON users (email);\nALTER TABLE users ADD PRIMARY KEY (id);\nALTER TABLE users ADD CONSTRAINT users_email_idx UNIQUE (email);",
    ]);
    assert_eq!(
        events(&r, 1),
        [
            "exists table users (created by 0001_m.sql:1)",
            "exists column users.email (created by 0001_m.sql:2)",
            "exists index users_email_idx (created by 0001_m.sql:3)",
            "exists a primary key on users (created by 0001_m.sql:1)",
            "exists index users_email_idx (created by 0001_m.sql:3)",
        ]
    );
    assert_eq!(r.baseline(), Baseline::Empty);
}

#[test]
fn drops_and_renames_make_names_free_and_later_uses_fail() {
    let (r, _) = run(&[
        "CREATE TABLE customers (id int, email text, old text);\nCREATE INDEX customers_email_idx ON customers (email);",
        "ALTER TABLE customers RENAME TO clients;\nALTER TABLE clients DROP COLUMN old;\nALTER TABLE clients RENAME COLUMN email TO mail;",
        "CREATE TABLE customers (id int);\nALTER TABLE clients ADD COLUMN old text;\nDROP INDEX customers_email_idx;\nCREATE INDEX customers_email_idx ON clients (mail);",
        "ALTER TABLE clients DROP COLUMN email;\nDROP TABLE customers;\nALTER TABLE customers ADD COLUMN x int;\nCREATE INDEX ON clients (nope, mial);",
    ]);
    assert!(events(&r, 1).is_empty(), "{:?}", events(&r, 1));
    assert!(events(&r, 2).is_empty(), "{:?}", events(&r, 2));
    let e = events(&r, 3);
    assert_eq!(e.len(), 4, "{e:?}");
    assert!(e[0].starts_with("missing column clients.email Gone(Renamed { to: \"mail\""), "{e:?}");
    assert!(e[1].starts_with("missing table customers Gone(Dropped"), "{e:?}");
    assert!(e[2].starts_with("missing column clients.nope NotInTable"), "{e:?}");
    assert!(e[3].contains("closest: Some(\"mail\")"), "{e:?}");
    let clients = r.final_schema().table(&q("clients")).expect("clients");
    // The failing index is kept as its author meant it: one report per mistake.
    let idx: Vec<&str> = r.final_schema().indexes_of(clients).map(|i| i.name.as_str()).collect();
    assert_eq!(idx, ["customers_email_idx", "clients_nope_mial_idx"]);
}

#[test]
fn constraints_validate_rename_and_drop_by_postgres_names() {
    let (r, _) = run(&[
        "CREATE TABLE t (a int UNIQUE, b int, CHECK (b > 0));",
        "ALTER TABLE t ADD CONSTRAINT b_nn CHECK (b IS NOT NULL) NOT VALID;\nALTER TABLE t DROP CONSTRAINT t_a_key;",
        "ALTER TABLE t VALIDATE CONSTRAINT b_nn;\nALTER TABLE t ADD CONSTRAINT t_a_key UNIQUE (a);\nALTER TABLE t RENAME CONSTRAINT t_a_key TO t_a_uniq;",
    ]);
    assert!(events(&r, 1).is_empty() && events(&r, 2).is_empty());
    let t = &q("t");
    assert_eq!(r.before(2).has_validated_not_null_check(t, "b"), Some(false));
    assert_eq!(r.final_schema().has_validated_not_null_check(t, "b"), Some(true));
    assert_eq!(r.final_schema().has_index_leading(t, &["a".into()]), Some(true));
    assert_eq!(r.final_schema().has_index_leading(t, &["b".into()]), Some(false));
    assert!(r.final_schema().index("t_a_uniq").is_some() && r.final_schema().index("t_a_key").is_none());
    assert_eq!(r.before(1).index("t_a_key").map(|i| i.constraint), Some(true));
}

#[test]
fn baseline_is_unknown_when_the_first_migration_alters_unknown_tables() {
    let (r, _) = run(&["ALTER TABLE accounts ADD COLUMN plan text;", "CREATE INDEX ON accounts (plan);"]);
    assert_eq!(r.baseline(), Baseline::Unknown { missing: 1 });
    assert_eq!(r.before(1).baseline(), Baseline::Unknown { missing: 1 });
    // Adopted once: the second migration finds it.
    assert!(events(&r, 1).is_empty());
    let accounts = r.final_schema().table(&q("accounts")).expect("adopted");
    assert!(accounts.is_from_baseline() && !accounts.columns_known);
    // Indexes of a baseline table are not all known.
    assert_eq!(r.before(0).has_index_leading(&q("accounts"), &["id".into()]), None);

    let (r, _) = run(&[
        "CREATE TABLE a (id int);",
        "ALTER TABLE b ADD COLUMN x int;\nALTER TABLE c ADD COLUMN x int;\nCREATE INDEX ON d (x);",
    ]);
    assert_eq!(r.baseline(), Baseline::Unknown { missing: 3 });
    let (r, _) = run(&["CREATE TABLE a (id int);", "ALTER TABLE b ADD COLUMN x int;"]);
    assert_eq!(r.baseline(), Baseline::Empty);
}

#[test]
fn other_schemas_belong_to_someone_else_unless_the_set_creates_there() {
    let (r, _) = run(&[
        "CREATE TABLE profiles (id uuid REFERENCES auth.users (id));",
        "CREATE SCHEMA billing;\nALTER TABLE billing.invoices ADD COLUMN x int;",
    ]);
    assert!(events(&r, 0).is_empty(), "{:?}", events(&r, 0));
    assert_eq!(events(&r, 1), ["missing table billing.invoices NeverCreated"]);
    assert_eq!(r.final_schema().has_table(&q("auth.users")), Some(true));
}

#[test]
fn views_sequences_and_enums() {
    let (r, _) = run(&[
        "CREATE TYPE mood AS ENUM ('ok');\nCREATE SEQUENCE counter;\nCREATE VIEW v AS SELECT 1;",
        "ALTER TYPE mood ADD VALUE 'sad';\nALTER TYPE mood ADD VALUE IF NOT EXISTS 'ok';\nCREATE OR REPLACE VIEW v AS SELECT 2;\nALTER SEQUENCE counter RENAME TO ticket_no;",
        "CREATE TYPE mood AS ENUM ('x');\nALTER TYPE mood ADD VALUE 'sad';\nCREATE SEQUENCE ticket_no;\nCREATE SEQUENCE counter;\nCREATE VIEW v AS SELECT 3;\nALTER TYPE mood RENAME VALUE 'ok' TO 'fine';",
    ]);
    assert!(events(&r, 1).is_empty());
    assert_eq!(
        events(&r, 2),
        [
            "exists type mood (created by 0001_m.sql:1)",
            "exists value 'sad' of enum mood (created by 0002_m.sql:1)",
            "exists sequence ticket_no (created by 0001_m.sql:2)",
            "exists view v (created by 0001_m.sql:3)",
        ]
    );
    let labels: Vec<String> =
        r.final_schema().type_def(&q("mood")).and_then(|t| t.labels.clone()).into_iter().flatten().collect();
    assert_eq!(labels, ["fine", "sad"]);
}

#[test]
fn only_up_sections_replay_and_temporary_tables_end_with_the_migration() {
    let text =
        "-- +goose Up\nCREATE TABLE a (id int);\nCREATE TEMP TABLE scratch (x int);\n-- +goose Down\nDROP TABLE a;\n";
    let file = parse(text);
    let down = text.find("-- +goose Down").expect("fixture");
    let path = PathBuf::from("1_a.sql");
    let r = replay(&[ReplayInput { path: &path, file: &file, up: std::iter::once(0..down).collect() }]);
    assert!(r.final_schema().table(&q("a")).is_some());
    assert!(r.final_schema().table(&q("scratch")).is_none());
}

#[test]
fn prisma_style_index_and_constraint_renames() {
    let (r, _) = run(&[
        "CREATE TABLE \"User\" (\"id\" TEXT NOT NULL, \"email\" TEXT NOT NULL, CONSTRAINT \"User_pkey\" PRIMARY KEY (\"id\"));\nCREATE UNIQUE INDEX \"User_email_key\" ON \"User\"(\"email\");",
        "ALTER TABLE \"User\" RENAME TO \"Account\";\nALTER TABLE \"Account\" RENAME CONSTRAINT \"User_pkey\" TO \"Account_pkey\";\nALTER INDEX \"User_email_key\" RENAME TO \"Account_email_key\";",
        "CREATE UNIQUE INDEX \"User_email_key\" ON \"Account\"(\"email\");\nALTER TABLE \"Account\" DROP CONSTRAINT \"Account_pkey\";\nALTER TABLE \"Account\" ADD CONSTRAINT \"Account_pkey\" PRIMARY KEY (\"id\", \"email\");",
    ]);
    assert!(events(&r, 1).is_empty() && events(&r, 2).is_empty(), "{:?}", events(&r, 2));
    let s = r.final_schema();
    assert_eq!(s.index("Account_email_key").map(|i| i.table.as_str()), Some("Account"));
    assert_eq!(s.table(&q("Account")).and_then(|t| t.primary_key()).map(|c| c.columns.len()), Some(2));
}

#[test]
fn ten_thousand_migrations_replay_with_shared_snapshots() {
    let texts: Vec<String> = (0..10_000)
        .map(|i| match i % 4 {
            0 => format!("CREATE TABLE t{i} (id bigint PRIMARY KEY, name text NOT NULL);\nCREATE INDEX t{i}_name_idx ON t{i} (name);"),
            1 => format!("ALTER TABLE t{} ADD COLUMN c{i} int REFERENCES t0 (id);\nALTER TABLE t0 ADD COLUMN d{i} int;", i - 1),
            2 => format!("ALTER TABLE t{} ALTER COLUMN c{} SET NOT NULL;\nALTER TABLE t0 ALTER COLUMN d{} TYPE bigint;", i - 2, i - 1, i - 1),
            _ => format!("DROP INDEX t{}_name_idx;\nALTER TABLE t{} RENAME COLUMN name TO label;", i - 3, i - 3),
        })
        .collect();
    let files: Vec<SqlFile> = texts.iter().map(|t| parse(t)).collect();
    let path = PathBuf::from("m.sql");
    let inputs: Vec<ReplayInput> = files.iter().map(|f| ReplayInput::whole(&path, f)).collect();
    // Speed is measured in benchmarks, not here; this checks the result of a large replay.
    let quarter = replay(&inputs[..2_500]);
    let r = replay(&inputs);
    assert_eq!(quarter.len(), 2_500);
    assert_eq!(r.len(), 10_000);
    assert_eq!(r.final_schema().tables().count(), 2_500);
    let first = (0..10_000).find_map(|i| r.events(i).first().map(|e| (i, e.clone())));
    assert_eq!(first, None);
    // t0 was altered by 5,000 statements: its snapshot before each migration still cost O(1).
    assert_eq!(r.final_schema().table(&q("t0")).map(|t| t.column_count()), Some(2 + 1 + 2_500));
}

#[test]
fn ddl_in_do_blocks_counts_and_opclass_keys_are_not_columns() {
    let (r, _) = run(&[
        "CREATE TABLE env (id text PRIMARY KEY, name text);",
        "DO $$\nDECLARE parts text[] := ARRAY['a'];\nBEGIN\n  ALTER TABLE env\n  ADD COLUMN shortcode text;\n  IF true THEN CREATE UNIQUE INDEX env_shortcode_key ON env (shortcode); END IF;\nEND $$;",
        "ALTER TABLE env ALTER COLUMN shortcode SET NOT NULL;\nCREATE INDEX env_name_idx ON env (name text_pattern_ops);\nCREATE INDEX env_name_trgm ON env USING gin (name gin_trgm_ops, lower(name));",
    ]);
    assert!(events(&r, 2).is_empty(), "{:?}", events(&r, 2));
    assert!(r.before(2).index("env_shortcode_key").is_some());
}

#[test]
fn indexes_on_materialized_views_go_with_the_view() {
    let (r, _) = run(&[
        "CREATE TABLE d (crate_id int, n int);\nCREATE MATERIALIZED VIEW recent AS SELECT crate_id, sum(n) FROM d GROUP BY 1;\nCREATE UNIQUE INDEX recent_crate_id ON recent (crate_id);",
        "DROP MATERIALIZED VIEW recent;\nCREATE MATERIALIZED VIEW recent AS SELECT crate_id FROM d;\nCREATE UNIQUE INDEX recent_crate_id ON recent (crate_id);",
    ]);
    assert!(events(&r, 1).is_empty(), "{:?}", events(&r, 1));
}

#[test]
fn template_placeholders_are_not_names() {
    let (r, _) =
        run(&["ALTER TABLE {{ index .Options \"Namespace\" }}.users ADD COLUMN x int;", "CREATE TABLE t (id int);"]);
    assert!(events(&r, 0).is_empty(), "{:?}", events(&r, 0));
}

/// A schema's observable shape: every table with its columns (type, nullability) and origins,
/// and every index.
fn shape(s: &Schema) -> Vec<String> {
    let mut out: Vec<String> = s
        .tables()
        .map(|t| {
            let cols: Vec<String> = t.columns().map(|c| format!("{c:?}")).collect();
            format!("{:?} {:?}", t.history, cols)
        })
        .collect();
    out.extend(s.indexes().map(|i| format!("{i:?}")));
    out.sort();
    out
}

#[test]
fn snapshots_between_checkpoints_equal_a_replay_of_the_prefix() {
    // More migrations than two checkpoint intervals, touching the same tables over and over.
    let texts: Vec<String> = (0..40)
        .map(|i| match i % 5 {
            0 => format!("CREATE TABLE t{i} (id bigint PRIMARY KEY);"),
            1 => format!("ALTER TABLE t{} ADD COLUMN c{i} int NOT NULL DEFAULT 0;", i - 1),
            2 => format!("CREATE INDEX t{}_c_idx ON t{} (c{});", i - 2, i - 2, i - 1),
            3 => format!("ALTER TABLE t{} RENAME COLUMN c{} TO d{i};", i - 3, i - 2),
            _ => format!("DROP INDEX t{}_c_idx;", i - 4),
        })
        .collect();
    let files: Vec<SqlFile> = texts.iter().map(|t| parse(t)).collect();
    let paths: Vec<PathBuf> = (0..files.len()).map(|i| PathBuf::from(format!("{:04}_m.sql", i + 1))).collect();
    let inputs: Vec<ReplayInput> = paths.iter().zip(&files).map(|(p, f)| ReplayInput::whole(p, f)).collect();
    let full = replay(&inputs);
    for i in 0..=inputs.len() {
        let prefix = replay(&inputs[..i]);
        assert_eq!(shape(&full.before(i)), shape(prefix.final_schema()), "before migration {i}");
    }
    // Asked again, in another order, the recently folded schemas come from memory: still equal.
    for i in (0..=inputs.len()).rev().chain([3, 3, 21, 3]) {
        let prefix = replay(&inputs[..i]);
        assert_eq!(shape(&full.before(i)), shape(prefix.final_schema()), "before migration {i}, asked again");
    }
    assert_eq!(shape(&full.after(39)), shape(full.final_schema()));
}

/// A replay continued from an unchanged prefix of a previous one equals a replay from scratch:
/// every schema before and after each migration, every event, the baseline estimate.
#[test]
fn a_continued_replay_equals_a_replay_from_scratch() {
    // 40 migrations (more than two checkpoints), with tables used before any creates them
    // (the baseline estimate), creates, drops and re-creates.
    let mut files: Vec<String> = Vec::new();
    for i in 0..40 {
        files.push(match i % 5 {
            0 => format!("CREATE TABLE t{i} (id bigint PRIMARY KEY, v text);"),
            1 => format!("ALTER TABLE t{} ADD COLUMN c{i} int;", i - 1),
            2 => format!("CREATE INDEX i{i} ON t{} (v);", i - 2),
            3 => format!("ALTER TABLE legacy{i} ADD COLUMN x int;"),
            _ => format!("DROP TABLE t{};\nCREATE TABLE t{} (id bigint);", i - 4, i - 4),
        });
    }
    let parsed: Vec<SqlFile> = files.iter().map(|f| parse(f)).collect();
    let paths: Vec<PathBuf> = (0..files.len()).map(|i| PathBuf::from(format!("m/{i:04}.sql"))).collect();
    let inputs: Vec<ReplayInput> = paths.iter().zip(&parsed).map(|(p, f)| ReplayInput::whole(p, f)).collect();
    // The previous replay saw a different tail: the continued one must not keep any of it.
    let mut old_tail: Vec<SqlFile> = parsed.clone();
    old_tail[30] = parse("CREATE TABLE other (id bigint);");
    let old_inputs: Vec<ReplayInput> = paths.iter().zip(&old_tail).map(|(p, f)| ReplayInput::whole(p, f)).collect();
    let previous = replay(&old_inputs);
    let fresh = replay(&inputs);
    let shape = |r: &Replay| {
        let schemas: Vec<String> = (0..=r.len()).map(|i| format!("{:?}", r.before(i))).collect();
        let evs: Vec<Vec<String>> = (0..r.len()).map(|i| events(r, i)).collect();
        (schemas, evs, r.baseline())
    };
    let want = shape(&fresh);
    assert!(matches!(fresh.baseline(), Baseline::Unknown { .. }), "the estimate is exercised");
    for kept in [0, 1, 15, 16, 17, 29, 30] {
        let continued = replay_continued(&previous, kept, &inputs);
        assert!(shape(&continued) == want, "continued after {kept} unchanged migrations differs");
        // Folded in one pass from `kept` on: the same schemas as one by one.
        let folded: Vec<String> = fresh.befores_from(kept).iter().map(|s| format!("{s:?}")).collect();
        assert!(folded[..] == want.0[kept..], "folded from {kept} differs");
    }
}
