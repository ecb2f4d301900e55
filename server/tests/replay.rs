//! Rules that see the schema replayed from earlier migrations: a set of migration texts is
//! replayed with `schema::replay`, then each migration is analysed with the snapshot before it as
//! its `SchemaView` (as the project layer does).

use std::path::PathBuf;

use safemig::config::Config;
use safemig::engine::{self, FileAnalysis};
use safemig::rules::{Finding, SchemaView, Severity};
use safemig::schema::{self, Baseline, ReplayInput};
use safemig::sql::facts::{Name, QualifiedName, Span};
use safemig::sql::{Dialect, SqlFile};

struct Set {
    paths: Vec<PathBuf>,
    texts: Vec<String>,
    files: Vec<SqlFile>,
    replay: schema::Replay,
}

/// Migrations named `0001_<name>.sql`, … in the order given.
fn set(migrations: &[(&str, &str)]) -> Set {
    let paths: Vec<PathBuf> = migrations
        .iter()
        .enumerate()
        .map(|(i, (name, _))| PathBuf::from(format!("db/migrations/{:04}_{name}.sql", i + 1)))
        .collect();
    let texts: Vec<String> = migrations.iter().map(|(_, sql)| sql.to_string()).collect();
    let files: Vec<SqlFile> = texts.iter().map(|t| SqlFile::parse(t, Dialect::Postgres, None)).collect();
    let inputs: Vec<ReplayInput> = paths.iter().zip(&files).map(|(p, f)| ReplayInput::whole(p, f)).collect();
    let replay = schema::replay(&inputs);
    Set { paths, texts, files, replay }
}

impl Set {
    /// Migration `i` analysed with the schema before it.
    fn analyze(&self, i: usize) -> FileAnalysis {
        let config = Config::default();
        let settings = config.settings(Dialect::Postgres);
        engine::analyze_with_schema(&self.texts[i], &settings, &config, &self.replay.before(i), Some(&self.files[i]))
    }

    /// `severity[rule] message @ text` for each finding of `rule` in migration `i`.
    fn findings(&self, i: usize, rule: &str) -> Vec<String> {
        let analysis = self.analyze(i);
        analysis.findings.iter().filter(|f| f.rule == rule).map(|f| self.render(i, f)).collect()
    }

    fn render(&self, i: usize, f: &Finding) -> String {
        format!("{}: {} @ `{}`", f.severity.name(), f.message, &self.texts[i][f.range.clone()])
    }
}

fn name(s: &str) -> QualifiedName {
    let parts = s.split('.').map(|p| Name { value: p.into(), quoted: false, span: Span::default() }).collect();
    QualifiedName { parts, span: Span::default() }
}

const ALREADY: &str = "object-already-exists";
const MISSING: &str = "object-does-not-exist";

#[test]
fn a_column_added_again_names_the_migration_that_added_it() {
    let s = set(&[
        ("create_users", "CREATE TABLE users (id bigint PRIMARY KEY);\n"),
        ("add_email", "-- contact\nALTER TABLE users ADD COLUMN email text;\n"),
        ("profile", "ALTER TABLE users ADD COLUMN bio text;\nALTER TABLE users ADD COLUMN email text;\n"),
    ]);
    assert_eq!(
        s.findings(2, ALREADY),
        ["error: column users.email already exists (created by 0002_add_email.sql:2) — this fails on deploy @ `email`"]
    );
    let analysis = s.analyze(2);
    let f = analysis.findings.iter().find(|f| f.rule == ALREADY).expect("finding");
    assert_eq!(f.fix.as_ref().map(|x| x.title.as_str()), Some("Guard with IF NOT EXISTS"));
    assert!(s.findings(1, ALREADY).is_empty());
}

#[test]
fn regenerated_schema_repeats_tables_indexes_and_constraints() {
    let s = set(&[
        (
            "init",
            "CREATE TABLE orgs (id bigint PRIMARY KEY);\nCREATE TABLE users (id bigint PRIMARY KEY, org_id bigint);\nCREATE INDEX users_org_id_idx ON users (org_id);\nALTER TABLE users ADD CONSTRAINT users_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id);\n",
        ),
        (
            "regenerated",
            "CREATE TABLE IF NOT EXISTS orgs (id bigint PRIMARY KEY);\nCREATE TABLE users (id bigint PRIMARY KEY, org_id bigint);\nCREATE INDEX users_org_id_idx ON users (org_id);\nCREATE INDEX IF NOT EXISTS users_org_id_idx ON users (org_id);\nALTER TABLE users ADD CONSTRAINT users_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id);\n",
        ),
    ]);
    assert_eq!(
        s.findings(1, ALREADY),
        [
            "error: table users already exists (created by 0001_init.sql:2) — this fails on deploy @ `users`",
            "error: index users_org_id_idx already exists (created by 0001_init.sql:3) — this fails on deploy @ `users_org_id_idx`",
            "error: constraint users_org_fk on users already exists (created by 0001_init.sql:4) — this fails on deploy @ `users_org_fk`",
        ]
    );
}

#[test]
fn dropped_since_means_free_again() {
    let s = set(&[
        ("init", "CREATE TABLE users (id bigint PRIMARY KEY, email text);\n"),
        ("drop_email", "ALTER TABLE users DROP COLUMN email;\n"),
        ("re_add", "ALTER TABLE users ADD COLUMN email text;\n"),
        ("swap", "ALTER TABLE users RENAME TO old_users;\nCREATE TABLE users (id bigint PRIMARY KEY);\n"),
    ]);
    assert!(s.findings(2, ALREADY).is_empty());
    assert!(s.findings(3, ALREADY).is_empty());
    assert!(s.findings(3, MISSING).is_empty());
}

#[test]
fn missing_tables_and_columns_across_migrations() {
    let s = set(&[
        ("init", "CREATE TABLE customers (id bigint PRIMARY KEY, email text NOT NULL);\n"),
        ("rename", "ALTER TABLE customers RENAME TO clients;\n"),
        (
            "index",
            "CREATE INDEX customers_email_idx ON customers (email);\nALTER TABLE clients ALTER COLUMN emial SET NOT NULL;\nALTER TABLE invoices ADD COLUMN client_id bigint REFERENCES clients (id);\n",
        ),
    ]);
    assert_eq!(
        s.findings(2, MISSING),
        [
            "warning: table customers does not exist: 0002_rename.sql:1 renames it to clients — this fails on deploy @ `customers`",
            "warning: column clients.emial does not exist: table clients (created by 0001_init.sql:1) has no such column (did you mean `email`?) — this fails on deploy @ `emial`",
            "warning: table invoices does not exist: no earlier migration creates it — this fails on deploy @ `invoices`",
        ]
    );
    assert_eq!(s.replay.baseline(), Baseline::Empty);
}

#[test]
fn a_set_that_starts_from_an_unseen_baseline_says_so_at_info() {
    let s = set(&[
        ("add_plan", "ALTER TABLE accounts ADD COLUMN plan text;\n"),
        (
            "index_plan",
            "CREATE INDEX accounts_plan_idx ON accounts (plan);\nALTER TABLE invoices ADD COLUMN note text;\n",
        ),
    ]);
    assert!(matches!(s.replay.baseline(), Baseline::Unknown { missing: 2 }));
    let first = s.findings(0, MISSING);
    assert_eq!(first.len(), 1);
    assert!(first[0].starts_with("info: table accounts is not created by any earlier migration: this set starts from a baseline safemig cannot see (it uses 2 tables no migration creates)"), "{first:?}");
    // accounts was adopted once; invoices is reported where it first appears, at info.
    let second = s.findings(1, MISSING);
    assert_eq!(second.len(), 1, "{second:?}");
    assert!(second[0].starts_with("info: table invoices"), "{second:?}");
}

#[test]
fn supabase_auth_tables_belong_to_someone_else() {
    let s = set(&[
        ("profiles", "CREATE TABLE profiles (id uuid PRIMARY KEY REFERENCES auth.users (id) ON DELETE CASCADE);\n"),
        ("policy", "ALTER TABLE auth.users ADD COLUMN nickname text;\n"),
    ]);
    assert!(s.findings(0, MISSING).is_empty());
    assert!(s.findings(1, MISSING).is_empty());
    assert_eq!(s.replay.baseline(), Baseline::Empty);
}

#[test]
fn existing_table_means_existing_in_the_replayed_schema() {
    let s = set(&[
        ("init", "CREATE TABLE users (id bigint PRIMARY KEY, email text);\n"),
        (
            "regenerated",
            "CREATE TABLE IF NOT EXISTS users (id bigint PRIMARY KEY, email text);\nCREATE INDEX users_email_idx ON users (email);\n",
        ),
        ("fresh", "DROP TABLE IF EXISTS users;\nCREATE TABLE IF NOT EXISTS users (id bigint PRIMARY KEY, email text);\nCREATE INDEX users_email_idx2 ON users (email);\n"),
    ]);
    // The guarded CREATE TABLE was a no-op: users has rows, and the index build blocks writes.
    assert_eq!(s.findings(1, "create-index-blocking").len(), 1);
    // Dropped and created again in the same migration: new, and empty.
    assert!(s.findings(2, "create-index-blocking").is_empty());
    // Without a schema the guarded CREATE TABLE looks like a new table.
    let config = Config::default();
    let alone = engine::analyze(&s.texts[1], &config.settings(Dialect::Postgres), &config, None);
    assert!(alone.findings.iter().all(|f| f.rule != "create-index-blocking"));
}

#[test]
fn foreign_key_missing_index_sees_indexes_from_earlier_migrations() {
    let s = set(&[
        ("init", "CREATE TABLE orgs (id bigint PRIMARY KEY);\nCREATE TABLE users (id bigint PRIMARY KEY, org_id bigint);\n"),
        ("index", "CREATE INDEX CONCURRENTLY users_org_id_idx ON users (org_id);\n"),
        ("fk", "ALTER TABLE users ADD CONSTRAINT users_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id) NOT VALID;\n"),
        ("other_fk", "ALTER TABLE orgs ADD COLUMN owner_id bigint;\nALTER TABLE orgs ADD CONSTRAINT orgs_owner_fk FOREIGN KEY (owner_id) REFERENCES users (id) NOT VALID;\n"),
    ]);
    assert!(s.findings(2, "foreign-key-missing-index").is_empty());
    assert_eq!(s.findings(3, "foreign-key-missing-index").len(), 1);
}

#[test]
fn column_types_and_checks_come_from_the_replay() {
    let s = set(&[
        ("init", "CREATE TABLE events (id int PRIMARY KEY, payload json, kind varchar(20));\n"),
        ("check", "ALTER TABLE events ADD CONSTRAINT kind_nn CHECK (kind IS NOT NULL) NOT VALID;\nALTER TABLE events VALIDATE CONSTRAINT kind_nn;\n"),
        ("later", "ALTER TABLE events ALTER COLUMN kind SET NOT NULL;\n"),
    ]);
    let before = s.replay.before(2);
    let events = name("events");
    assert_eq!(before.column_type(&events, "payload").map(|t| t.canonical), Some("json".to_string()));
    assert_eq!(before.has_validated_not_null_check(&events, "kind"), Some(true));
    assert_eq!(before.has_table(&events), Some(true));
    assert_eq!(before.has_table(&name("nope")), Some(false));
    assert!(s.findings(2, "set-not-null-scan").is_empty());
    let table = before.table(&events).expect("events");
    assert_eq!(table.history.to_string(), "created by 0001_init.sql:1 · altered by 0002_check.sql:1, 0002_check.sql:2");
    assert_eq!(s.paths.len(), 3);
}

#[test]
fn a_separate_down_file_sees_the_schema_after_its_migration() {
    let s = set(&[("init", "CREATE TABLE a (id int);\n"), ("add_b", "CREATE TABLE b (id int);\n")]);
    let config = Config::default();
    let settings = config.settings(Dialect::Postgres);
    let down = "DROP TABLE b;\n";
    let after = engine::analyze_with_schema(down, &settings, &config, &s.replay.after(1), None);
    assert!(after.findings.iter().all(|f| f.rule != MISSING));
    let before = engine::analyze_with_schema(down, &settings, &config, &s.replay.before(1), None);
    let missing: Vec<&Finding> = before.findings.iter().filter(|f| f.rule == MISSING).collect();
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0].severity, Severity::Warning);
}

// ---- implicit drops ------------------------------------------------------------------------

#[test]
fn drop_cascade_takes_dependent_views_and_their_indexes() {
    let s = set(&[
        (
            "init",
            "CREATE TABLE orders (id bigint PRIMARY KEY, total numeric);\nCREATE VIEW order_totals AS SELECT o.id, o.total FROM public.orders o;\nCREATE VIEW big_orders AS SELECT * FROM order_totals WHERE total > 100;\nCREATE MATERIALIZED VIEW daily AS SELECT count(*) FROM orders JOIN (SELECT 1) x ON true;\nCREATE INDEX daily_idx ON daily (count);\n",
        ),
        ("drop", "DROP TABLE orders CASCADE;\n"),
        (
            "again",
            "CREATE TABLE orders (id bigint PRIMARY KEY, total numeric);\nCREATE VIEW order_totals AS SELECT id, total FROM orders;\nCREATE VIEW big_orders AS SELECT * FROM order_totals;\nCREATE MATERIALIZED VIEW daily AS SELECT count(*) FROM orders;\nCREATE INDEX daily_idx ON daily (count);\n",
        ),
    ]);
    assert_eq!(s.findings(2, ALREADY), Vec::<String>::new());
}

#[test]
fn without_cascade_or_without_a_dependency_the_view_stays() {
    let s = set(&[
        (
            "init",
            "CREATE TABLE orders (id bigint PRIMARY KEY);\nCREATE TABLE notes (id bigint PRIMARY KEY);\nCREATE VIEW order_ids AS SELECT id FROM orders;\n",
        ),
        ("drop", "DROP TABLE notes CASCADE;\nDROP TABLE orders;\n"),
        ("again", "CREATE VIEW order_ids AS SELECT 1 AS id;\n"),
    ]);
    assert_eq!(
        s.findings(2, ALREADY),
        ["error: view order_ids already exists (created by 0001_init.sql:3) — this fails on deploy @ `order_ids`"]
    );
}

#[test]
fn drop_column_takes_the_indexes_and_constraints_that_use_it() {
    let s = set(&[
        (
            "init",
            "CREATE TABLE users (id bigint PRIMARY KEY, email text, name text, CONSTRAINT email_not_blank CHECK (email <> ''));\nCREATE INDEX users_email_lower_idx ON users (lower(email));\nCREATE INDEX users_name_idx ON users (name);\nCREATE UNIQUE INDEX users_name_email_idx ON users (name, email);\n",
        ),
        ("drop", "ALTER TABLE users DROP COLUMN email;\n"),
        (
            "again",
            "ALTER TABLE users ADD COLUMN email text;\nALTER TABLE users ADD CONSTRAINT email_not_blank CHECK (email <> '');\nCREATE INDEX users_email_lower_idx ON users (lower(email));\nCREATE UNIQUE INDEX users_name_email_idx ON users (name, email);\nCREATE INDEX users_name_idx ON users (name);\n",
        ),
    ]);
    // The index on another column survives the drop.
    assert_eq!(
        s.findings(2, ALREADY),
        ["error: index users_name_idx already exists (created by 0001_init.sql:3) — this fails on deploy @ `users_name_idx`"]
    );
}

#[test]
fn drop_table_takes_its_indexes_constraints_owned_sequences_and_triggers() {
    let s = set(&[
        (
            "init",
            "CREATE TABLE users (id bigint PRIMARY KEY);\nCREATE TABLE orders (id bigint PRIMARY KEY, no bigint, user_id bigint);\nCREATE SEQUENCE order_no_seq OWNED BY orders.no;\nCREATE SEQUENCE free_seq;\nCREATE INDEX orders_user_idx ON orders (user_id);\nALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);\nCREATE TRIGGER orders_audit AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION audit();\n",
        ),
        ("drop", "DROP TABLE users CASCADE;\nDROP TABLE orders;\n"),
        (
            "again",
            "CREATE TABLE users (id bigint PRIMARY KEY);\nCREATE TABLE orders (id bigint PRIMARY KEY, no bigint, user_id bigint);\nCREATE SEQUENCE order_no_seq OWNED BY orders.no;\nCREATE INDEX orders_user_idx ON orders (user_id);\nALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);\nCREATE TRIGGER orders_audit AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION audit();\nCREATE SEQUENCE free_seq;\n",
        ),
    ]);
    // A sequence nobody owns stays.
    assert_eq!(
        s.findings(2, ALREADY),
        ["error: sequence free_seq already exists (created by 0001_init.sql:4) — this fails on deploy @ `free_seq`"]
    );
    let orders = s.replay.before(1).table(&name("orders")).cloned().expect("orders");
    assert_eq!(orders.triggers().collect::<Vec<_>>(), ["orders_audit"]);
}

#[test]
fn a_trigger_created_twice_on_one_table_exists_until_dropped_or_renamed() {
    let s = set(&[
        ("init", "CREATE TABLE orders (id bigint PRIMARY KEY);\nCREATE TRIGGER audit AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION f();\n"),
        (
            "again",
            "CREATE TRIGGER audit AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION f();\nCREATE OR REPLACE TRIGGER audit AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION f();\n",
        ),
        (
            "rename",
            "ALTER TRIGGER audit ON orders RENAME TO audit_v1;\nCREATE TRIGGER audit AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION f();\nDROP TRIGGER audit_v1 ON orders;\nCREATE TRIGGER audit_v1 AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION f();\n",
        ),
    ]);
    assert_eq!(
        s.findings(1, ALREADY),
        ["error: trigger audit on orders already exists (created by 0001_init.sql:2) — this fails on deploy @ `audit`"]
    );
    assert_eq!(s.findings(2, ALREADY), Vec::<String>::new());
}

#[test]
fn drop_schema_cascade_takes_everything_in_it_and_what_depends_on_it() {
    let s = set(&[
        (
            "init",
            "CREATE SCHEMA billing;\nCREATE TYPE billing.state AS ENUM ('open', 'paid');\nCREATE TABLE billing.invoices (id bigserial PRIMARY KEY, state billing.state);\nCREATE INDEX invoices_state_idx ON billing.invoices (state);\nCREATE SEQUENCE billing.numbers;\nCREATE VIEW public.open_invoices AS SELECT id FROM billing.invoices;\nCREATE TABLE public.kept (id int);\n",
        ),
        ("drop", "DROP SCHEMA billing CASCADE;\n"),
        (
            "again",
            "CREATE SCHEMA billing;\nCREATE TYPE billing.state AS ENUM ('open', 'paid');\nCREATE TABLE billing.invoices (id bigserial PRIMARY KEY, state billing.state);\nCREATE INDEX invoices_state_idx ON billing.invoices (state);\nCREATE SEQUENCE billing.numbers;\nCREATE VIEW public.open_invoices AS SELECT id FROM billing.invoices;\nCREATE TABLE public.kept (id int);\n",
        ),
    ]);
    assert_eq!(
        s.findings(2, ALREADY),
        ["error: table kept already exists (created by 0001_init.sql:7) — this fails on deploy @ `public.kept`"]
    );
}

// ---- rules that read the replay ------------------------------------------------------------

/// Migration `i` analysed with the schema before it, under `toml` configuration.
fn findings_with(s: &Set, i: usize, toml: &str, rule: &str) -> Vec<String> {
    let (config, problems) = Config::from_toml(toml, "safemig.toml");
    assert!(problems.is_empty(), "{problems:?}");
    let settings = config.settings(Dialect::Postgres);
    let analysis = engine::analyze_with_schema(&s.texts[i], &settings, &config, &s.replay.before(i), Some(&s.files[i]));
    analysis.findings.iter().filter(|f| f.rule == rule).map(|f| s.render(i, f)).collect()
}

const REWRITE: &str = "column-type-rewrite";

#[test]
fn timestamp_to_timestamptz_in_a_utc_session_is_no_rewrite_on_postgres_12() {
    let init = "CREATE TABLE events (id bigint PRIMARY KEY, seen_at timestamp, done_at timestamptz);\n";
    let rewrites = |migration: &str, pg: &str| -> usize {
        let s = set(&[("init", init), ("change", migration)]);
        findings_with(&s, 1, &format!("postgres_version = {pg}"), REWRITE).len()
    };
    let to_tz = "ALTER TABLE events ALTER COLUMN seen_at TYPE timestamptz;\n";
    assert_eq!(rewrites(&format!("SET timezone = 'UTC';\n{to_tz}"), "12"), 0);
    assert_eq!(
        rewrites(
            "SET TIME ZONE 'Etc/UTC';\nALTER TABLE events ALTER COLUMN done_at TYPE timestamp without time zone;\n",
            "12"
        ),
        0
    );
    assert_eq!(rewrites(&format!("BEGIN;\nSET LOCAL timezone TO 'utc';\n{to_tz}COMMIT;\n"), "16"), 0);
    // Without the SET, in another zone, after the SET LOCAL's transaction or a RESET, or to
    // another type: a rewrite.
    assert_eq!(rewrites(to_tz, "12"), 1);
    assert_eq!(rewrites(&format!("SET timezone = 'Europe/Berlin';\n{to_tz}"), "12"), 1);
    assert_eq!(rewrites(&format!("BEGIN;\nSET LOCAL timezone = 'UTC';\nCOMMIT;\n{to_tz}"), "12"), 1);
    assert_eq!(rewrites(&format!("SET timezone = 'UTC';\nRESET timezone;\n{to_tz}"), "12"), 1);
    assert_eq!(rewrites("SET timezone = 'UTC';\nALTER TABLE events ALTER COLUMN seen_at TYPE text;\n", "12"), 1);
    // Before PostgreSQL 12 the change always rewrote the table.
    assert_eq!(rewrites(&format!("SET timezone = 'UTC';\n{to_tz}"), "11"), 1);
}

#[test]
fn a_serial_key_gets_one_type_hint_with_one_fix() {
    let s = set(&[("init", "CREATE TABLE accounts (id serial PRIMARY KEY, counter serial, legacy_id bigserial);\n")]);
    let analysis = s.analyze(0);
    let hints: Vec<(&str, &str, Option<&str>)> = analysis
        .findings
        .iter()
        .filter(|f| f.rule == "prefer-bigint" || f.rule == "prefer-identity")
        .map(|f| (f.rule, &s.texts[0][f.range.clone()], f.fix.as_ref().map(|x| x.title.as_str())))
        .collect();
    assert_eq!(
        hints,
        [
            ("prefer-bigint", "serial", Some("Use bigint GENERATED BY DEFAULT AS IDENTITY")),
            ("prefer-identity", "serial", Some("Use integer GENERATED BY DEFAULT AS IDENTITY")),
            ("prefer-identity", "bigserial", Some("Use bigint GENERATED BY DEFAULT AS IDENTITY")),
        ]
    );
    let bigint = s.findings(0, "prefer-bigint");
    assert!(bigint[0].contains("its sequence is a separate object"), "{bigint:?}");
}

const BACKFILL: &str = "backfill-in-schema-migration";
const UNBATCHED: &str = "unbatched-backfill";

#[test]
fn backfills_of_system_catalogs_are_not_backfills() {
    let s = set(&[(
        "catalog",
        "ALTER TABLE t ADD COLUMN x int;\nUPDATE pg_catalog.pg_attribute SET attnotnull = true;\nUPDATE pg_type SET typname = 'y';\nUPDATE settings SET a = 1;\n",
    )]);
    let tables = |rule: &str| -> Vec<String> {
        s.findings(0, rule).iter().map(|f| f.split('`').nth(1).unwrap_or("").to_string()).collect()
    };
    assert_eq!(tables(BACKFILL), ["settings"]);
    assert_eq!(tables(UNBATCHED), ["settings"]);
}

#[test]
fn tables_the_set_created_and_seeded_with_a_few_rows_are_not_backfilled() {
    let s = set(&[
        ("init", "CREATE TABLE plans (id int PRIMARY KEY, name text, tier text);\nINSERT INTO plans (id, name) VALUES (1, 'free'), (2, 'pro');\nCREATE TABLE copied (id int PRIMARY KEY, tier text);\nINSERT INTO copied SELECT id, tier FROM plans;\n"),
        ("seed_more", "INSERT INTO plans (id, name) VALUES (3, 'team');\n"),
        ("orders", "CREATE TABLE orders (id int PRIMARY KEY, tier text);\nCREATE TABLE app.codes (id int PRIMARY KEY, tier text);\nINSERT INTO app.codes VALUES (1, 'a');\nCOPY app.codes (id, tier) FROM stdin;\n"),
        ("tier", "ALTER TABLE plans ADD COLUMN rank int;\nUPDATE plans SET tier = 'basic';\nALTER TABLE copied ADD COLUMN rank int;\nUPDATE copied SET tier = 'basic';\nUPDATE accounts SET tier = 'basic';\nUPDATE orders SET tier = 'basic';\nUPDATE app.codes SET tier = 'basic';\n"),
    ]);
    let tables = |rule: &str| -> Vec<String> {
        s.findings(3, rule).iter().map(|f| f.split('`').nth(1).unwrap_or("").to_string()).collect()
    };
    // copied got INSERT … SELECT and app.codes a COPY; accounts existed before the set's
    // knowledge (baseline); no migration put rows in orders: the application fills it.
    assert_eq!(tables(BACKFILL), ["copied", "accounts", "orders", "app.codes"]);
    assert_eq!(tables(UNBATCHED), ["copied", "accounts", "orders", "app.codes"]);
}

#[test]
fn a_seeded_table_past_the_few_rows_is_backfilled_again() {
    let rows: Vec<String> = (0..=safemig::schema::FEW_SEED_ROWS).map(|i| format!("({i})")).collect();
    let seed = format!(
        "CREATE TABLE codes (id int PRIMARY KEY, label text);\nINSERT INTO codes (id) VALUES {};\n",
        rows.join(", ")
    );
    let s =
        set(&[("seed", &seed), ("label", "ALTER TABLE codes ADD COLUMN note text;\nUPDATE codes SET label = 'x';\n")]);
    assert_eq!(s.findings(1, BACKFILL).len(), 1);
    assert_eq!(s.findings(1, UNBATCHED).len(), 1);
}

// ---- newer syntax ---------------------------------------------------------------------------

#[test]
fn postgres_18_not_null_constraints_are_not_null_columns() {
    let s = set(&[
        ("init", "CREATE TABLE users (id bigint, email text, CONSTRAINT users_id_nn NOT NULL id);\n"),
        ("email", "ALTER TABLE users ADD CONSTRAINT users_email_nn NOT NULL email;\n"),
        ("lazy", "ALTER TABLE users ADD COLUMN name text;\nALTER TABLE users ADD CONSTRAINT users_name_nn NOT NULL name NOT VALID;\n"),
    ]);
    let users = s.replay.final_schema().table(&name("users")).cloned().expect("users");
    let not_null: Vec<(&str, bool)> = users.columns().map(|c| (c.name.as_str(), c.not_null)).collect();
    assert_eq!(not_null, [("id", true), ("email", true), ("name", false)]);
    assert_eq!(s.findings(1, "set-not-null-scan").len(), 1);
    assert!(s.findings(2, "set-not-null-scan").is_empty());
}

#[test]
fn sequences_statistics_triggers_and_constraint_alters_are_recognised_without_false_findings() {
    let s = set(&[
        ("init", "CREATE TABLE orders (id bigint PRIMARY KEY, a int, b int);\nCREATE SEQUENCE order_no AS bigint START WITH 100 INCREMENT BY 1 NO CYCLE OWNED BY orders.a;\nCREATE TRIGGER t1 BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION f();\nALTER TABLE orders ADD CONSTRAINT orders_b_fk FOREIGN KEY (b) REFERENCES orders (id);\n"),
        (
            "later",
            "ALTER SEQUENCE order_no RESTART WITH 1000 OWNED BY orders.b;\nCREATE STATISTICS orders_ab ON a, b FROM orders;\nDROP STATISTICS orders_ab;\nALTER TRIGGER t1 ON orders RENAME TO t2;\nALTER TABLE orders ALTER CONSTRAINT orders_b_fk DEFERRABLE INITIALLY DEFERRED;\n",
        ),
    ]);
    let analysis = s.analyze(1);
    // Whether sqlparser reads these forms is the parser's verdict (`syntax-error`, a hint for
    // valid SQL it lacks); the statements' facts come from the recogniser either way.
    let found: Vec<&str> = analysis
        .findings
        .iter()
        .map(|f| f.rule)
        .filter(|r| !matches!(*r, "lock-timeout-missing" | "syntax-error"))
        .collect();
    assert_eq!(found, Vec::<&str>::new());
    let after = s.replay.final_schema();
    assert_eq!(after.sequence(&name("order_no")).and_then(|q| q.owned_by.clone()).as_deref(), Some("orders"));
    let orders = after.table(&name("orders")).expect("orders");
    assert_eq!(orders.triggers().collect::<Vec<_>>(), ["t2"]);
}

// ---- keyword column names -------------------------------------------------------------------

/// PostgreSQL's keywords that may name a column unquoted: the unreserved (`U`) and column-name
/// (`C`) categories of `tests/fixtures/keywords/postgres13.txt`.
fn column_name_keywords() -> Vec<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keywords/postgres13.txt");
    let text = std::fs::read_to_string(&path).expect("keyword list");
    let keywords: Vec<String> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(' '))
        .filter(|(_, category)| matches!(*category, "U" | "C"))
        .map(|(kw, _)| kw.to_string())
        .collect();
    assert!(keywords.len() > 300, "{} keywords", keywords.len());
    keywords
}

#[test]
fn every_keyword_that_may_name_a_column_is_kept_as_one() {
    let mut lost = Vec::new();
    for kw in column_name_keywords() {
        let s = set(&[
            ("create", &format!("CREATE TABLE t (id int, {kw} text, tail int);\nCREATE TABLE u (id int);\n")),
            ("add", &format!("ALTER TABLE u ADD COLUMN {kw} varchar(20);\n")),
            ("rename", &format!("ALTER TABLE t RENAME COLUMN {kw} TO renamed;\n")),
            ("drop", &format!("ALTER TABLE u DROP COLUMN {kw};\n")),
        ]);
        let columns = |i: usize, table: &str| -> Vec<String> {
            let schema = s.replay.before(i);
            schema.table(&name(table)).map(|t| t.columns().map(|c| c.name.clone()).collect()).unwrap_or_default()
        };
        let checks = [
            (columns(1, "t"), vec!["id".to_string(), kw.clone(), "tail".to_string()]),
            (columns(2, "u"), vec!["id".to_string(), kw.clone()]),
            (columns(3, "t"), vec!["id".to_string(), "renamed".to_string(), "tail".to_string()]),
            (
                s.replay
                    .final_schema()
                    .table(&name("u"))
                    .map(|t| t.columns().map(|c| c.name.clone()).collect())
                    .unwrap_or_default(),
                vec!["id".to_string()],
            ),
        ];
        for (step, (got, want)) in checks.into_iter().enumerate() {
            if got != want {
                lost.push(format!("{kw} (step {step}): {got:?}"));
            }
        }
        for i in 0..4 {
            let events = s.replay.events(i);
            if !events.is_empty() {
                lost.push(format!("{kw} (migration {i}): {events:?}"));
            }
        }
    }
    assert!(lost.is_empty(), "{} keywords lost:\n{}", lost.len(), lost.join("\n"));
}

// ---- add-column-rewrite: the volatility of user functions in defaults ----------------------------

const ADD_REWRITE: &str = "add-column-rewrite";
const USERS: &str = "CREATE TABLE users (id bigint PRIMARY KEY);\n";
const ADD_CODE: &str = "ALTER TABLE users ADD COLUMN code text DEFAULT next_code();\n";

fn code_function(volatility: &str) -> String {
    format!("CREATE FUNCTION next_code() RETURNS text LANGUAGE sql {volatility} AS $$ SELECT md5(random()::text) $$;\n")
}

#[test]
fn a_default_calling_a_replayed_volatile_function_rewrites_the_table() {
    let s = set(&[("users", USERS), ("fn", &code_function("VOLATILE")), ("add", ADD_CODE)]);
    assert_eq!(
        s.findings(2, ADD_REWRITE),
        ["warning: the default calls `next_code()`, which is VOLATILE (declared VOLATILE; created by 0002_fn.sql:1) and so computed for every existing row, so adding `code` rewrites all of `users` under an ACCESS EXCLUSIVE lock, which blocks reads and writes until the rewrite finishes; add the column without the default, SET DEFAULT afterwards (it applies to new rows only) and backfill existing rows in batches @ `DEFAULT next_code()`"]
    );
    // No clause: PostgreSQL's default, VOLATILE.
    let s = set(&[("users", USERS), ("fn", &code_function("")), ("add", ADD_CODE)]);
    let found = s.findings(2, ADD_REWRITE);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("warning: the default calls `next_code()`, which is VOLATILE (declared without IMMUTABLE or STABLE, which PostgreSQL takes as VOLATILE; created by 0002_fn.sql:1)"),
        "{found:?}"
    );
    // Quick fix offered as for a built-in volatile default.
    let analysis = s.analyze(2);
    assert!(analysis.findings.iter().any(|f| f.rule == ADD_REWRITE && f.fix.is_some()));
}

#[test]
fn a_default_calling_an_immutable_or_stable_function_adds_instantly() {
    for volatility in ["IMMUTABLE", "STABLE", "STRICT IMMUTABLE PARALLEL SAFE"] {
        let s = set(&[("users", USERS), ("fn", &code_function(volatility)), ("add", ADD_CODE)]);
        assert!(s.findings(2, ADD_REWRITE).is_empty(), "{volatility}: {:?}", s.findings(2, ADD_REWRITE));
    }
    // The same function defined earlier in the same migration counts too.
    let s = set(&[("users", USERS), ("add", &format!("{}{ADD_CODE}", code_function("IMMUTABLE")))]);
    assert!(s.findings(1, ADD_REWRITE).is_empty(), "{:?}", s.findings(1, ADD_REWRITE));
    let s = set(&[("users", USERS), ("add", &format!("{}{ADD_CODE}", code_function("VOLATILE")))]);
    let found = s.findings(1, ADD_REWRITE);
    assert!(found.len() == 1 && found[0].contains("created on line 1 of this migration"), "{found:?}");
}

#[test]
fn a_function_no_migration_defines_is_a_hedged_hint() {
    let s = set(&[("users", USERS), ("add", ADD_CODE)]);
    assert_eq!(
        s.findings(1, ADD_REWRITE),
        ["hint: the default calls `next_code()`, which no migration before this one defines: if it is VOLATILE (PostgreSQL's default for a function declared without IMMUTABLE or STABLE), adding `code` may rewrite all of `users` under an ACCESS EXCLUSIVE lock, which blocks reads and writes until the rewrite finishes @ `DEFAULT next_code()`"]
    );
    assert!(s.analyze(1).findings.iter().all(|f| f.rule != ADD_REWRITE || f.fix.is_none()));
    // Built-ins keep their verdicts: a stable one is no finding, a volatile one a warning.
    let s = set(&[("users", USERS), ("add", "ALTER TABLE users ADD COLUMN at timestamptz DEFAULT now();\nALTER TABLE users ADD COLUMN k text DEFAULT lower('X');\n")]);
    assert!(s.findings(1, ADD_REWRITE).is_empty(), "{:?}", s.findings(1, ADD_REWRITE));
    let s = set(&[("users", USERS), ("add", "ALTER TABLE users ADD COLUMN r float8 DEFAULT random();\n")]);
    assert!(s.findings(1, ADD_REWRITE)[0].starts_with("warning: the volatile default `random()`"));
    // Not for a statement PostgreSQL rejects (here ClickHouse's CODEC): syntax-error says it all.
    let s =
        set(&[("users", USERS), ("add", "ALTER TABLE users ADD COLUMN m text DEFAULT next_code() CODEC(ZSTD(1));\n")]);
    assert!(s.findings(1, ADD_REWRITE).is_empty(), "{:?}", s.findings(1, ADD_REWRITE));
    // A cast's type modifiers are no call.
    let s =
        set(&[("users", USERS), ("add", "ALTER TABLE users ADD COLUMN n text DEFAULT 'x'::character varying(10);\n")]);
    assert!(s.findings(1, ADD_REWRITE).is_empty(), "{:?}", s.findings(1, ADD_REWRITE));
}

#[test]
fn schema_qualified_functions_match_by_schema_when_given() {
    let defs = "CREATE SCHEMA util;\n\
                CREATE FUNCTION util.next_code() RETURNS text LANGUAGE plpgsql VOLATILE AS $$ BEGIN RETURN md5(random()::text); END $$;\n\
                CREATE FUNCTION public.next_code() RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'x' $$;\n";
    let qualified = "ALTER TABLE users ADD COLUMN code text DEFAULT util.next_code();\n";
    let s = set(&[("users", USERS), ("fn", defs), ("add", qualified), ("add_public", ADD_CODE)]);
    let found = s.findings(2, ADD_REWRITE);
    assert!(
        found.len() == 1 && found[0].starts_with("warning: the default calls `util.next_code()`, which is VOLATILE"),
        "{found:?}"
    );
    assert!(s.findings(3, ADD_REWRITE).is_empty(), "{:?}", s.findings(3, ADD_REWRITE));
    // Only in another schema: the unqualified call may reach it through the search path.
    let only_util =
        "CREATE SCHEMA util;\nCREATE FUNCTION util.next_code() RETURNS text LANGUAGE sql AS 'SELECT 1::text';\n";
    let s = set(&[("users", USERS), ("fn", only_util), ("add", ADD_CODE)]);
    assert_eq!(s.findings(2, ADD_REWRITE).len(), 1);
}

#[test]
fn alter_function_and_drop_function_change_the_verdict() {
    let s = set(&[
        ("users", USERS),
        ("fn", &code_function("VOLATILE")),
        ("stable", "ALTER FUNCTION next_code() IMMUTABLE;\n"),
        ("add", ADD_CODE),
    ]);
    assert!(s.findings(3, ADD_REWRITE).is_empty(), "{:?}", s.findings(3, ADD_REWRITE));
    let s = set(&[
        ("users", USERS),
        ("fn", &code_function("STABLE")),
        ("volatile", "ALTER FUNCTION public.next_code() VOLATILE;\n"),
        ("add", ADD_CODE),
    ]);
    let found = s.findings(3, ADD_REWRITE);
    assert!(
        found.len() == 1
            && found[0].contains("(declared VOLATILE; created by 0002_fn.sql:1 · altered by 0003_volatile.sql:1)"),
        "{found:?}"
    );
    // Dropped: nothing defines it any more.
    let s = set(&[
        ("users", USERS),
        ("fn", &code_function("IMMUTABLE")),
        ("drop", "DROP FUNCTION next_code();\n"),
        ("add", ADD_CODE),
    ]);
    let found = s.findings(3, ADD_REWRITE);
    assert!(found.len() == 1 && found[0].starts_with("hint: "), "{found:?}");
    // Created inside a DO block.
    let in_do = "DO $$ BEGIN CREATE FUNCTION next_code() RETURNS text LANGUAGE sql AS $f$ SELECT 'x' $f$; END $$;\n";
    let s = set(&[("users", USERS), ("fn", in_do), ("add", ADD_CODE)]);
    let found = s.findings(2, ADD_REWRITE);
    assert!(
        found.len() == 1 && found[0].starts_with("warning: ") && found[0].contains("declared without"),
        "{found:?}"
    );
}

// ---- extension-missing -------------------------------------------------------------------------

const EXT: &str = "extension-missing";
const USERS_EXT: &str = "CREATE TABLE users (\n    id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),\n    email citext NOT NULL, -- citext, gin_trgm_ops\n    name text\n);\n";

#[test]
fn an_extension_object_used_before_any_create_extension_fails_a_fresh_install() {
    let s = set(&[("users", USERS_EXT)]);
    assert_eq!(
        s.findings(0, EXT),
        [
            "warning: `uuid_generate_v4` is a function of the `uuid-ossp` extension, and no earlier migration runs `CREATE EXTENSION \"uuid-ossp\"`: on a fresh database this statement fails @ `uuid_generate_v4`",
            "warning: `citext` is a type of the `citext` extension, and no earlier migration runs `CREATE EXTENSION citext`: on a fresh database this statement fails @ `citext`",
        ]
    );
    let analysis = s.analyze(0);
    let titles: Vec<_> = analysis
        .findings
        .iter()
        .filter(|f| f.rule == EXT)
        .filter_map(|f| f.fix.as_ref())
        .map(|f| f.title.clone())
        .collect();
    assert_eq!(titles[0], "Add `CREATE EXTENSION IF NOT EXISTS \"uuid-ossp\";` at the top of this migration");

    // An index opclass, an exclusion constraint's `=` on a scalar, a PostGIS type and function.
    let s = set(&[
        ("users", "CREATE TABLE users (id bigint PRIMARY KEY, name text);\n"),
        ("trgm", "-- USING gin (name gin_trgm_ops)\nCREATE INDEX users_name_trgm ON users USING gin (name gin_trgm_ops);\nCOMMENT ON INDEX users_name_trgm IS 'gin_trgm_ops';\n"),
        ("bookings", "CREATE TABLE bookings (room_id int, during tstzrange, EXCLUDE USING gist (room_id WITH =, during WITH &&));\n"),
        ("places", "CREATE TABLE places (id bigint PRIMARY KEY, at geometry(Point, 4326) CHECK (ST_IsValid(at)));\n"),
    ]);
    assert_eq!(
        s.findings(1, EXT),
        ["warning: `gin_trgm_ops` is an operator class of the `pg_trgm` extension, and no earlier migration runs `CREATE EXTENSION pg_trgm`: on a fresh database this statement fails @ `gin_trgm_ops`"]
    );
    assert_eq!(
        s.findings(2, EXT),
        ["warning: `room_id WITH =` in a gist exclusion constraint (`room_id` is int4) needs the `btree_gist` extension, and no earlier migration runs `CREATE EXTENSION btree_gist`: on a fresh database this statement fails @ `room_id WITH =`"]
    );
    let places = s.findings(3, EXT);
    assert_eq!(places.len(), 1, "one finding per extension: {places:?}");
    assert!(places[0].contains("`geometry` is a type of the `postgis` extension"), "{places:?}");
    // A gin index on a scalar column the replay knows: btree_gin (an array column is no scalar).
    let s = set(&[
        ("t", "CREATE TABLE events (id bigint PRIMARY KEY, kind int NOT NULL, tags text[]);\n"),
        ("idx", "CREATE INDEX events_kind_tags ON events USING gin (kind, tags);\nCREATE INDEX events_tags ON events USING gin (tags);\n"),
    ]);
    assert_eq!(
        s.findings(1, EXT),
        ["warning: a gin index on the int4 column `kind` needs the `btree_gin` extension, and no earlier migration runs `CREATE EXTENSION btree_gin`: on a fresh database this statement fails @ `kind`"]
    );
}

#[test]
fn an_extension_created_earlier_or_a_look_alike_of_the_chain_is_no_finding() {
    // Earlier in the chain, schema-qualified, guarded.
    let ext = "CREATE EXTENSION IF NOT EXISTS \"uuid-ossp\" WITH SCHEMA extensions;\nCREATE EXTENSION citext;\n";
    let s = set(&[("ext", ext), ("users", USERS_EXT)]);
    assert!(s.findings(1, EXT).is_empty(), "{:?}", s.findings(1, EXT));
    // Earlier in the same migration; in a DO block.
    let s = set(&[("users", &format!("{ext}{USERS_EXT}"))]);
    assert!(s.findings(0, EXT).is_empty(), "{:?}", s.findings(0, EXT));
    let in_do =
        "DO $$ BEGIN CREATE EXTENSION IF NOT EXISTS \"uuid-ossp\"; CREATE EXTENSION IF NOT EXISTS citext; END $$;\n";
    let s = set(&[("ext", in_do), ("users", USERS_EXT)]);
    assert!(s.findings(1, EXT).is_empty(), "{:?}", s.findings(1, EXT));
    // Later in the same migration is too late; dropped since is gone.
    let s = set(&[("users", &format!("{USERS_EXT}{ext}"))]);
    assert_eq!(s.findings(0, EXT).len(), 2);
    let s = set(&[("ext", ext), ("drop", "DROP EXTENSION citext;\n"), ("users", USERS_EXT)]);
    let found = s.findings(2, EXT);
    assert!(found.len() == 1 && found[0].contains("`citext` extension"), "{found:?}");
    // The chain's own type and function of the same names.
    let own = "CREATE DOMAIN citext AS text;\nCREATE FUNCTION uuid_generate_v4() RETURNS uuid LANGUAGE sql AS 'SELECT gen_random_uuid()';\n";
    let s = set(&[("own", own), ("users", USERS_EXT)]);
    assert!(s.findings(1, EXT).is_empty(), "{:?}", s.findings(1, EXT));
    // A gist exclusion on ranges only, a btree index: nothing needed.
    let s = set(&[(
        "bookings",
        "CREATE TABLE bookings (room_id int, during tstzrange, EXCLUDE USING gist (during WITH &&));\nCREATE INDEX bookings_room ON bookings (room_id);\n",
    )]);
    assert!(s.findings(0, EXT).is_empty(), "{:?}", s.findings(0, EXT));
    // gen_random_uuid() is core since PostgreSQL 13 (the default version here).
    let s = set(&[("t", "CREATE TABLE t (id uuid PRIMARY KEY DEFAULT gen_random_uuid());\n")]);
    assert!(s.findings(0, EXT).is_empty(), "{:?}", s.findings(0, EXT));
    // A set that starts from a baseline safemig cannot see (it alters tables nobody created).
    let s =
        set(&[("alter", "ALTER TABLE accounts ADD COLUMN email citext;\nALTER TABLE orders ADD COLUMN tag citext;\n")]);
    assert!(s.findings(0, EXT).is_empty(), "{:?}", s.findings(0, EXT));
}
