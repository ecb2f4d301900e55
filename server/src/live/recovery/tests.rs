use std::path::PathBuf;

use super::*;
use crate::live::effects::statement_effects;
use crate::live::{LiveColumn, LiveIndex, LiveTable, RelationKind};
use crate::schema::{replay, replay_file, ReplayInput};
use crate::sql::Dialect;
use crate::workspace::{TransactionMode, VersionKey};

fn parse(text: &str) -> SqlFile {
    SqlFile::parse(text, Dialect::Postgres, None)
}

fn migration(version: VersionKey, name: &str, up: &str) -> Migration {
    Migration {
        version,
        name: name.into(),
        up: Some(PathBuf::from(up)),
        down: None,
        transaction: TransactionMode::default(),
    }
}

fn set(kind: FrameworkKind, migrations: Vec<Migration>) -> MigrationSet {
    MigrationSet { dir: PathBuf::from("db/migrations"), framework: kind, dialect: Dialect::Postgres, migrations }
}

fn col(name: &str, ty: &str) -> LiveColumn {
    LiveColumn {
        name: name.into(),
        type_sql: ty.into(),
        not_null: false,
        default: None,
        identity: None,
        null_frac: None,
        n_distinct: None,
    }
}

fn table(key: &str, columns: Vec<LiveColumn>, indexes: Vec<LiveIndex>) -> LiveTable {
    LiveTable {
        key: key.into(),
        schema: "public".into(),
        name: key.into(),
        kind: RelationKind::Table,
        row_estimate: None,
        total_bytes: 0,
        columns,
        indexes,
        constraints: Vec::new(),
        triggers: Vec::new(),
        referenced_by: Vec::new(),
    }
}

const BASE: &str = "CREATE TABLE users (id int PRIMARY KEY, email text);\n";
const FAILED: &str = "\
SET lock_timeout = '5s';
CREATE TABLE accounts (id int PRIMARY KEY, owner int);
ALTER TABLE users ADD COLUMN nickname text, ADD CHECK (nickname <> '');
CREATE UNIQUE INDEX CONCURRENTLY ON users (email);
ALTER TABLE users ADD CONSTRAINT users_nick_len CHECK (length(nickname) < 50), ADD COLUMN bio text;
CREATE INDEX accounts_owner_idx ON accounts (owner);
UPDATE users SET nickname = 'x';
";

/// The database after FAILED ran up to the concurrent build, which failed.
fn live() -> LiveSnapshot {
    let invalid = LiveIndex {
        name: "users_email_idx".into(),
        definition: String::new(),
        columns: vec!["email".into()],
        unique: true,
        primary: false,
        valid: false,
        partial: false,
        constraint: None,
        bytes: 0,
    };
    let mut users =
        table("users", vec![col("id", "integer"), col("email", "text"), col("nickname", "text")], vec![invalid]);
    users.constraints.push(crate::live::LiveConstraint {
        name: "users_check".into(),
        kind: crate::live::LiveConstraintKind::Check,
        columns: vec!["nickname".into()],
        definition: "CHECK ((nickname <> ''::text))".into(),
        validated: true,
    });
    let accounts = table("accounts", vec![col("id", "integer"), col("owner", "integer")], vec![]);
    LiveSnapshot {
        database: "dev".into(),
        server_version_num: 150000,
        tables: [("users".to_string(), users), ("accounts".to_string(), accounts)].into_iter().collect(),
        ..LiveSnapshot::default()
    }
}

fn recover(kind: FrameworkKind, migrations: Vec<Migration>, failed_index: usize) -> Recovery {
    let base = parse(BASE);
    let start =
        replay(&[ReplayInput::whole(std::path::Path::new("db/migrations/1.sql"), &base)]).final_schema().clone();
    let file = parse(FAILED);
    let events = replay_file(&start, &file);
    let live = live();
    let effects = statement_effects(&file, &events, &start, &live);
    let s = set(kind, migrations);
    recovery_migration(&s, &s.migrations[failed_index], &file, &effects, &start, &live)
}

fn names(r: &Recovery) -> Vec<&str> {
    r.files.iter().map(|f| f.name.as_str()).collect()
}

#[test]
fn golang_migrate_puts_each_concurrent_statement_in_a_file_of_its_own() {
    let r = recover(
        FrameworkKind::GolangMigrate,
        vec![
            migration(VersionKey::Numeric(vec![1]), "init", "db/migrations/0001_init.up.sql"),
            migration(VersionKey::Numeric(vec![2]), "add_accounts", "db/migrations/0002_add_accounts.up.sql"),
        ],
        1,
    );
    assert_eq!(
        names(&r),
        ["0003_recover_add_accounts.up.sql", "0004_recover_add_accounts.up.sql", "0005_recover_add_accounts.up.sql"]
    );
    assert_eq!(r.path(), PathBuf::from("db/migrations/0003_recover_add_accounts.up.sql"));
    assert_eq!(r.ledger_command, "migrate -path db/migrations -database \"$DATABASE_URL\" force 2");
    assert!(r.outside_transaction);
    assert_eq!(r.unguarded, [7]);
    let first = &r.files[0].text;
    assert!(
        first.starts_with("-- Recovery for the failed golang-migrate migration 0002_add_accounts.up.sql"),
        "{first}"
    );
    assert!(first.contains("--   line 2: CREATE TABLE — table `accounts` exists"), "{first}");
    assert!(first.contains("--   migrate -path db/migrations"), "{first}");
    // Exactly one statement per concurrent file.
    let statements = |t: &str| t.lines().filter(|l| !l.starts_with("--") && l.trim_end().ends_with(';')).count();
    assert!(first.contains("\nDROP INDEX CONCURRENTLY IF EXISTS users_email_idx;\n"), "{first}");
    assert_eq!(statements(first), 1);
    let second = &r.files[1].text;
    assert!(
        second.contains("\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS users_email_idx ON users (email);\n"),
        "{second}"
    );
    assert_eq!(statements(second), 1);
    let third = &r.files[2].text;
    assert!(third.contains("SET lock_timeout = '5s';"), "{third}");
    assert!(
        third.contains(
            "IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass('users') AND conname = 'users_nick_len') THEN\n    ALTER TABLE users ADD CONSTRAINT users_nick_len CHECK (length(nickname) < 50);"
        ),
        "{third}"
    );
    assert!(third.contains("ALTER TABLE users ADD COLUMN IF NOT EXISTS bio text;"), "{third}");
    assert!(third.contains("CREATE INDEX IF NOT EXISTS accounts_owner_idx ON accounts (owner);"), "{third}");
    assert!(third.contains("not guarded"), "{third}");
    assert!(third.contains("UPDATE users SET nickname = 'x';"), "{third}");
    // Statement 3 (the unnamed check) already took effect: it is not repeated.
    assert!(!third.contains("nickname <> ''"), "{third}");
}

#[test]
fn goose_uses_one_file_outside_a_transaction() {
    let r = recover(
        FrameworkKind::Goose,
        vec![migration(VersionKey::Numeric(vec![20240101120000]), "init", "db/migrations/20240101120000_init.sql")],
        0,
    );
    assert_eq!(names(&r), ["20240101120001_recover_init.sql"]);
    let text = r.text();
    assert!(text.starts_with("-- +goose NO TRANSACTION\n-- +goose Up\n"), "{text}");
    assert!(text.contains("-- +goose StatementBegin\nDO $safemig$"), "{text}");
    assert!(text.contains("$safemig$;\n-- +goose StatementEnd"), "{text}");
    assert!(text.contains("\n-- +goose Down\n"), "{text}");
    assert!(r
        .ledger_command
        .contains("INSERT INTO goose_db_version (version_id, is_applied) VALUES (20240101120000, true)"));
}

#[test]
fn directory_frameworks_get_a_new_directory() {
    let prisma = recover(
        FrameworkKind::Prisma,
        vec![migration(
            VersionKey::Text("20240101120000_init".into()),
            "init",
            "db/migrations/20240101120000_init/migration.sql",
        )],
        0,
    );
    assert_eq!(prisma.files[0].name, "20240101120001_recover_init/migration.sql");
    assert_eq!(prisma.files.len(), 3);
    assert_eq!(prisma.ledger_command, "npx prisma migrate resolve --applied 20240101120000_init");

    let diesel = recover(
        FrameworkKind::Diesel,
        vec![migration(
            VersionKey::Text("20151219180527".into()),
            "create_users",
            "db/migrations/2015-12-19-180527_create_users/up.sql",
        )],
        0,
    );
    assert_eq!(
        names(&diesel)[..3],
        [
            "2015-12-19-180528_recover_create_users/up.sql",
            "2015-12-19-180528_recover_create_users/down.sql",
            "2015-12-19-180528_recover_create_users/metadata.toml"
        ]
    );
    assert_eq!(diesel.files[2].text, "run_in_transaction = false\n");
    assert!(diesel.files[2].config);
    assert_eq!(diesel.sql_files().count(), 3);
}

#[test]
fn flyway_gets_a_configuration_file() {
    let r = recover(
        FrameworkKind::Flyway,
        vec![migration(VersionKey::Numeric(vec![1, 9]), "Add_accounts", "db/migrations/V1_9__Add_accounts.sql")],
        0,
    );
    assert_eq!(names(&r), ["V1_10__recover_add_accounts.sql", "V1_10__recover_add_accounts.sql.conf"]);
    assert_eq!(r.files[1].text, "executeInTransaction=false\n");
    assert!(r.ledger_command.starts_with("flyway repair"));
}

#[test]
fn runners_that_always_wrap_build_without_concurrently() {
    let r = recover(
        FrameworkKind::Supabase,
        vec![migration(VersionKey::Text("20240101120000".into()), "init", "db/migrations/20240101120000_init.sql")],
        0,
    );
    assert_eq!(names(&r), ["20240101120001_recover_init.sql"]);
    assert!(!r.outside_transaction);
    let text = r.text();
    assert!(text.contains("\nDROP INDEX IF EXISTS users_email_idx;\n"), "{text}");
    assert!(text.contains("\nCREATE UNIQUE INDEX IF NOT EXISTS users_email_idx ON users (email);\n"), "{text}");
    assert!(!text.contains("CONCURRENTLY IF"), "{text}");
    assert_eq!(r.ledger_command, "supabase migration repair --status applied 20240101120000");
}

#[test]
fn guards_for_other_statements() {
    let base = parse("CREATE TABLE t (a int, b int);\n");
    let start = replay(&[ReplayInput::whole(std::path::Path::new("m/1.sql"), &base)]).final_schema().clone();
    let failed = parse(
        "ALTER TABLE t RENAME COLUMN a TO c;\nALTER TABLE t DROP COLUMN b;\nDROP TABLE t2;\nCREATE TYPE mood AS ENUM ('ok');\nCREATE VIEW v AS SELECT 1;\nCREATE SEQUENCE s;\nALTER TABLE t RENAME TO u;\nCREATE INDEX ON u (c);\n",
    );
    let events = replay_file(&start, &failed);
    // Nothing of it took effect: `t` still has `a` and `b`, `t2` still exists.
    let live = LiveSnapshot {
        tables: [("t", vec![col("a", "integer"), col("b", "integer")]), ("t2", vec![col("id", "integer")])]
            .into_iter()
            .map(|(k, cols)| (k.to_string(), table(k, cols, vec![])))
            .collect(),
        ..LiveSnapshot::default()
    };
    let effects = statement_effects(&failed, &events, &start, &live);
    let s = set(FrameworkKind::Plain, vec![migration(VersionKey::Numeric(vec![7]), "x", "db/migrations/007_x.sql")]);
    let r = recovery_migration(&s, &s.migrations[0], &failed, &effects, &start, &live);
    assert_eq!(names(&r), ["008_recover_x.sql"]);
    let text = r.text();
    for expected in [
        "attname = 'a' AND NOT attisdropped) AND NOT EXISTS",
        "ALTER TABLE t RENAME COLUMN a TO c;",
        "ALTER TABLE t DROP COLUMN IF EXISTS b;",
        "DROP TABLE IF EXISTS t2;",
        "WHERE t.typname = 'mood' AND n.nspname = 'public') THEN\n    CREATE TYPE mood AS ENUM ('ok');",
        "CREATE OR REPLACE VIEW v AS SELECT 1;",
        "CREATE SEQUENCE IF NOT EXISTS s;",
        "IF to_regclass('t') IS NOT NULL AND to_regclass('u') IS NULL THEN\n    ALTER TABLE t RENAME TO u;",
        "CREATE INDEX IF NOT EXISTS u_c_idx ON u (c);",
    ] {
        assert!(text.contains(expected), "missing `{expected}` in\n{text}");
    }
    assert!(r.ledger_command.contains("mark migration 7"), "{}", r.ledger_command);
}

#[test]
fn slugs_and_versions() {
    let m = migration(VersionKey::Numeric(vec![3]), "Add Email-index!", "x");
    assert_eq!(slug(&m), "recover_add_email_index");
    assert_eq!(ident("users"), "users");
    assert_eq!(ident("Users"), "\"Users\"");
    assert_eq!(lit("it's"), "'it''s'");
}

// ---- order and guarded INSERTs ----------------------------------------------------------------

const USERS_ROLES: &str = "CREATE TABLE users (id int PRIMARY KEY, role_id int);\nCREATE TABLE audit (note text);\n";

fn pkey(name: &str, columns: &[&str]) -> LiveIndex {
    LiveIndex {
        name: name.into(),
        definition: String::new(),
        columns: columns.iter().map(|c| c.to_string()).collect(),
        unique: true,
        primary: true,
        valid: true,
        partial: false,
        constraint: Some(name.into()),
        bytes: 0,
    }
}

/// The database after `CREATE TABLE roles` of the failed migration took effect.
fn roles_live() -> LiveSnapshot {
    LiveSnapshot {
        database: "dev".into(),
        server_version_num: 150000,
        tables: [
            table("users", vec![col("id", "integer"), col("role_id", "integer")], vec![pkey("users_pkey", &["id"])]),
            table("audit", vec![col("note", "text")], vec![]),
            table("roles", vec![col("id", "integer"), col("name", "text")], vec![pkey("roles_pkey", &["id"])]),
        ]
        .into_iter()
        .map(|t| (t.key.clone(), t))
        .collect(),
        ..LiveSnapshot::default()
    }
}

/// The recovery of `failed` (run after USERS_ROLES) against [`roles_live`], as one plain file.
fn recover_roles(failed: &str) -> String {
    let base = parse(USERS_ROLES);
    let start = replay(&[ReplayInput::whole(std::path::Path::new("m/1.sql"), &base)]).final_schema().clone();
    let file = parse(failed);
    let events = replay_file(&start, &file);
    let live = roles_live();
    let effects = statement_effects(&file, &events, &start, &live);
    let s = set(
        FrameworkKind::Plain,
        vec![migration(VersionKey::Numeric(vec![2]), "roles", "db/migrations/002_roles.sql")],
    );
    let r = recovery_migration(&s, &s.migrations[0], &file, &effects, &start, &live);
    r.text().to_string()
}

fn at(text: &str, what: &str) -> usize {
    text.find(what).unwrap_or_else(|| panic!("missing `{what}` in\n{text}"))
}

#[test]
fn a_seed_of_the_referenced_table_runs_before_the_foreign_key() {
    let text = recover_roles(
        "CREATE TABLE roles (id int PRIMARY KEY, name text);\n\
         ALTER TABLE users ADD CONSTRAINT users_role_fk FOREIGN KEY (role_id) REFERENCES roles (id);\n\
         INSERT INTO roles (id, name) VALUES (1, 'admin'), (2, 'user');\n\
         UPDATE users SET role_id = 2 WHERE role_id IS NULL;\n",
    );
    let insert = at(&text, "INSERT INTO roles (id, name) VALUES (1, 'admin'), (2, 'user') ON CONFLICT DO NOTHING;");
    let update = at(&text, "UPDATE users SET role_id = 2 WHERE role_id IS NULL;");
    let fk = at(&text, "    ALTER TABLE users ADD CONSTRAINT users_role_fk FOREIGN KEY");
    assert!(insert < update && update < fk, "{text}");
    // Each moved statement says why.
    assert!(text.contains("moved before line 2: ADD CONSTRAINT users_role_fk, which checks the rows"), "{text}");
    // CREATE TABLE took effect: not repeated.
    assert!(!text.contains("CREATE TABLE IF NOT EXISTS roles"), "{text}");
}

#[test]
fn a_data_statement_keeps_its_place_when_no_constraint_needs_it() {
    // The insert touches neither the constrained nor the referenced table.
    let text = recover_roles(
        "ALTER TABLE users ADD CONSTRAINT users_role_fk FOREIGN KEY (role_id) REFERENCES roles (id);\n\
         INSERT INTO audit (note) VALUES ('roles added');\n",
    );
    assert!(at(&text, "ADD CONSTRAINT users_role_fk") < at(&text, "INSERT INTO audit"), "{text}");
    assert!(!text.contains("moved before"), "{text}");
    // audit has no key: the insert is copied as it is, not guarded.
    assert!(text.contains("INSERT INTO audit (note) VALUES ('roles added');"), "{text}");
    assert!(!text.contains("ON CONFLICT"), "{text}");

    // A data statement never moves across other DDL, which it may need (here the column it fills).
    let text = recover_roles(
        "ALTER TABLE users ADD CONSTRAINT users_role_fk FOREIGN KEY (role_id) REFERENCES roles (id);\n\
         ALTER TABLE roles ADD COLUMN label text;\n\
         INSERT INTO roles (id, label) VALUES (1, 'admin');\n",
    );
    let fk = at(&text, "    ALTER TABLE users ADD CONSTRAINT users_role_fk FOREIGN KEY");
    let column = at(&text, "ADD COLUMN IF NOT EXISTS label");
    let insert = at(&text, "INSERT INTO roles (id, label)");
    assert!(fk < column && column < insert, "{text}");
}

#[test]
fn inserts_are_guarded_only_where_a_key_covers_the_given_columns() {
    let text = recover_roles(
        "ALTER TABLE users ADD CONSTRAINT users_role_fk FOREIGN KEY (role_id) REFERENCES roles (id);\n\
         INSERT INTO roles VALUES (1, 'admin');\n\
         INSERT INTO roles (name) VALUES ('guest');\n\
         INSERT INTO roles (id, name) SELECT role_id, 'r' || role_id FROM users RETURNING id;\n\
         INSERT INTO roles (id, name) VALUES (9, 'x') ON CONFLICT (id) DO UPDATE SET name = excluded.name;\n",
    );
    // No column list: every column is given, the key among them.
    assert!(text.contains("INSERT INTO roles VALUES (1, 'admin') ON CONFLICT DO NOTHING;"), "{text}");
    // The key `id` is not given: running it again adds another row, whatever guard.
    assert!(text.contains("INSERT INTO roles (name) VALUES ('guest');"), "{text}");
    // INSERT … SELECT likewise; the guard goes before RETURNING.
    assert!(
        text.contains(
            "INSERT INTO roles (id, name) SELECT role_id, 'r' || role_id FROM users ON CONFLICT DO NOTHING RETURNING id;"
        ),
        "{text}"
    );
    // An ON CONFLICT of its own stays as written.
    assert!(text.contains("ON CONFLICT (id) DO UPDATE SET name = excluded.name;"), "{text}");
    // Guarded inserts are not listed as unguarded; the one without a covering key is.
    let header_list = text.lines().find(|l| l.starts_with("-- Not guarded")).unwrap_or_default();
    assert!(header_list.contains("from line 3 of"), "{text}");
    assert!(!header_list.contains('2') && !header_list.contains('4'), "{header_list}");
}

#[test]
fn data_statements_stay_behind_constraints_they_act_through() {
    // An UPDATE of the referenced key goes through ON UPDATE CASCADE: it stays after the key.
    let text = recover_roles(
        "ALTER TABLE users ADD CONSTRAINT users_role_fk FOREIGN KEY (role_id) REFERENCES roles (id) ON UPDATE CASCADE;\n\
         UPDATE roles SET id = id + 100;\n",
    );
    assert!(at(&text, "    ALTER TABLE users ADD CONSTRAINT users_role_fk") < at(&text, "UPDATE roles SET"), "{text}");
    // An ON CONFLICT of its own may name the key the constraint creates.
    let text = recover_roles(
        "ALTER TABLE audit ADD CONSTRAINT audit_note_key UNIQUE (note);\n\
         INSERT INTO audit (note) VALUES ('x') ON CONFLICT (note) DO NOTHING;\n",
    );
    assert!(
        at(&text, "    ALTER TABLE audit ADD CONSTRAINT audit_note_key") < at(&text, "INSERT INTO audit"),
        "{text}"
    );
    // A NOT VALID constraint checks only the rows written after it: moving them before it would
    // let them in unchecked.
    let text = recover_roles(
        "ALTER TABLE users ADD CONSTRAINT users_role_fk FOREIGN KEY (role_id) REFERENCES roles (id) NOT VALID;\n\
         UPDATE users SET role_id = 7;\n",
    );
    assert!(at(&text, "    ALTER TABLE users ADD CONSTRAINT users_role_fk") < at(&text, "UPDATE users SET"), "{text}");
    assert!(!text.contains("moved before"), "{text}");
}

#[test]
fn the_key_of_a_table_the_failed_migration_creates_guards_its_seed() {
    // `plans` does not exist in the database yet: its key comes from the replayed migration.
    let text = recover_roles(
        "CREATE TABLE plans (code text PRIMARY KEY, name text);\n\
         INSERT INTO plans (code, name) VALUES ('free', 'Free') -- the default plan\n;\n",
    );
    assert!(text.contains("CREATE TABLE IF NOT EXISTS plans"), "{text}");
    // The guard goes after the last token; a comment before the `;` would swallow it.
    assert!(text.contains("INSERT INTO plans (code, name) VALUES ('free', 'Free') ON CONFLICT DO NOTHING;"), "{text}");
    assert!(!text.contains("plan;"), "{text}");
}

// ---- a recovery analysed as a migration -------------------------------------------------------

/// The rules that fire on each statement of `sql`, run against `schema` (the statement's text
/// with the ids).
fn rules_on(sql: &str, schema: &crate::schema::Schema) -> Vec<(String, Vec<&'static str>)> {
    let analysis = crate::engine::analyze_with_schema(
        sql,
        &crate::rules::MigrationSettings::default(),
        &crate::config::Config::default(),
        schema,
        None,
    );
    analysis
        .file
        .statements
        .iter()
        .map(|s| {
            let mut ids: Vec<&'static str> = analysis
                .findings
                .iter()
                .filter(|f| f.range.start >= s.range.start && f.range.end <= s.range.end)
                .map(|f| f.rule)
                .collect();
            ids.sort_unstable();
            ids.dedup();
            (sql[s.range.clone()].to_string(), ids)
        })
        .collect()
}

#[test]
fn a_constraint_the_recovery_guards_is_seen_like_a_plain_one() {
    let fk = "ALTER TABLE users ADD CONSTRAINT users_role_fk FOREIGN KEY (role_id) REFERENCES roles (id)";
    let text = recover_roles(&format!("{fk};\nINSERT INTO roles (id) VALUES (1);\n"));
    let block = at(&text, "DO $safemig$");
    let file = parse(&text);
    let stmt = file.statements.iter().find(|s| s.range.start == block).expect("the DO block is a statement");
    // Its facts are the constraint's, with spans into the block.
    let StatementKind::AlterTable(at_) = stmt.kind() else { panic!("{:?}", stmt.facts()) };
    assert!(matches!(&at_.actions[..], [a] if matches!(a.action, AlterAction::AddConstraint(_))), "{at_:?}");
    assert_eq!(&text[stmt.abs(at_.table.span)], "users");
    assert!(stmt.facts().guard.is_some());

    // The replayed schema has the constraint, and a guarded re-run reports no conflict.
    let roles = "CREATE TABLE roles (id int PRIMARY KEY, name text);\n";
    let base = parse(&format!("{USERS_ROLES}{roles}"));
    let start = replay(&[ReplayInput::whole(std::path::Path::new("m/1.sql"), &base)]).final_schema().clone();
    let events = replay_file(&start, &file);
    assert!(events.per_statement.iter().all(Vec::is_empty), "{:?}", events.per_statement);
    let mut after = start.clone();
    for s in &file.statements {
        after.apply(s, &crate::schema::Origin::here(0));
    }
    let users = after.table_by_key("users").expect("users");
    assert!(users.constraint("users_role_fk").is_some(), "{users:?}");
    let again = replay_file(&after, &file);
    assert!(again.per_statement.iter().all(Vec::is_empty), "{:?}", again.per_statement);

    // The rules of a plain ADD CONSTRAINT apply to it, the same ones.
    let plain = rules_on(&format!("{fk};\n"), &start);
    assert!(plain[0].1.contains(&"foreign-key-missing-index"), "{plain:?}");
    assert!(plain[0].1.contains(&"constraint-validated-on-add"), "{plain:?}");
    let guarded = rules_on(&text, &start);
    let on_block = guarded.iter().find(|(s, _)| s.starts_with("DO $safemig$")).expect("the block");
    assert_eq!(on_block.1, plain[0].1, "{guarded:#?}");
    // existing-rows-violate probes it like the plain statement.
    let probes = crate::live::probe::targets(&file);
    assert_eq!(probes.len(), 1, "{probes:?}");
}

#[test]
fn renames_and_types_the_recovery_guards_reach_the_replayed_schema() {
    let base = parse("CREATE TABLE t (a int, b int);\nCREATE INDEX t_a_idx ON t (a);\n");
    let start = replay(&[ReplayInput::whole(std::path::Path::new("m/1.sql"), &base)]).final_schema().clone();
    let failed = parse(
        "ALTER TABLE t RENAME COLUMN a TO c;\nCREATE TYPE mood AS ENUM ('ok');\nALTER INDEX t_a_idx RENAME TO t_c_idx;\nALTER TABLE t RENAME TO u;\n",
    );
    let live = LiveSnapshot {
        tables: [("t".to_string(), table("t", vec![col("a", "integer"), col("b", "integer")], vec![]))]
            .into_iter()
            .collect(),
        ..LiveSnapshot::default()
    };
    let effects = statement_effects(&failed, &replay_file(&start, &failed), &start, &live);
    let s = set(FrameworkKind::Plain, vec![migration(VersionKey::Numeric(vec![7]), "x", "db/migrations/007_x.sql")]);
    let r = recovery_migration(&s, &s.migrations[0], &failed, &effects, &start, &live);
    let file = parse(r.text());
    let guards = file.statements.iter().filter(|s| s.facts().guard.is_some()).count();
    assert_eq!(guards, 4, "{}", r.text());
    let events = replay_file(&start, &file);
    assert!(events.per_statement.iter().all(Vec::is_empty), "{:?}", events.per_statement);
    let mut after = start.clone();
    for stmt in &file.statements {
        after.apply(stmt, &crate::schema::Origin::here(0));
    }
    let u = after.table_by_key("u").expect("renamed table");
    assert!(u.column("c").is_some() && u.column("a").is_none());
    assert!(after.index("t_c_idx").is_some() && after.index("t_a_idx").is_none());
    assert!(after.types().any(|t| t.name == "mood"), "{:?}", after.types().collect::<Vec<_>>());
}

#[test]
fn a_failed_recovery_is_recovered_with_its_blocks_as_they_are() {
    let first =
        recover_roles("ALTER TABLE users ADD CONSTRAINT users_role_fk FOREIGN KEY (role_id) REFERENCES roles (id);\n");
    let block_start = at(&first, "DO $safemig$");
    let block =
        &first[block_start..first[block_start..].find("$safemig$;").map_or(first.len(), |e| block_start + e + 9)];
    // The recovery failed too (the data was still wrong): its own recovery repeats the block.
    let second = recover_roles(&first);
    assert!(second.contains(&format!("{block};")), "{second}");
    assert_eq!(second.matches("DO $safemig$").count(), 1, "{second}");
    assert!(!second.contains("not guarded"), "{second}");
}
