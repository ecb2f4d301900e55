//! The dev-database layer against a real PostgreSQL (127.0.0.1:5432, user `postgres`, trust):
//! connection and errors, read-only transactions, the catalog snapshot and data probes.
//!
//! Every test creates its own database (`safemig_t_<test>_<pid>_<n>`) and drops it when it ends,
//! also when it fails ([`TestDb`]'s `Drop`).

use std::path::Path;
use std::time::Duration;

use safemig::config::{DatabaseConfig, Secret};
use safemig::live::catalog::load_snapshot;
use safemig::live::connect::{connect, redact, resolve_url, resolve_url_with, LiveClient, LiveError};
use safemig::live::probe::{self, ProbeOutcome};
use safemig::live::{ForeignKeyRef, LiveConstraintKind, LiveSnapshot, RelationKind};

#[path = "../../tests/support/pg.rs"]
mod pg;
use pg::TestDb;
use safemig::sql::{Dialect, SqlFile};

/// safemig's URL for the test database, with extra parameters (`?sslmode=…`).
fn url(db: &TestDb, params: &str) -> Secret {
    Secret::new(format!("{}{params}", db.url()))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime")
}

fn cfg() -> DatabaseConfig {
    DatabaseConfig { statement_timeout_ms: 5_000, connect_timeout_ms: 5_000, ..DatabaseConfig::default() }
}

async fn client(url: &Secret) -> LiveClient {
    match connect(url, &cfg()).await {
        Ok(c) => c,
        Err(e) => panic!("connect: {e}"),
    }
}

async fn snapshot(client: &LiveClient) -> LiveSnapshot {
    match load_snapshot(client).await {
        Ok(s) => s,
        Err(e) => panic!("snapshot: {e}"),
    }
}

const SHOP: &str = r#"
CREATE SCHEMA billing;
CREATE TABLE customers (id bigint PRIMARY KEY, email text, name text NOT NULL DEFAULT 'x');
CREATE INDEX customers_lower_email ON customers (lower(email));
CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint REFERENCES customers (id),
    amount numeric CHECK (amount > 0),
    note text
);
ALTER TABLE orders ADD CONSTRAINT orders_note_short CHECK (length(note) < 100) NOT VALID;
INSERT INTO customers SELECT g, CASE WHEN g % 4 = 0 THEN NULL ELSE 'c' || g || '@x.io' END, 'n'
    FROM generate_series(1, 1000) g;
INSERT INTO orders (customer_id, amount) SELECT (g % 1000) + 1, g FROM generate_series(1, 500) g;
CREATE TABLE billing."Invoices" (id int PRIMARY KEY, "Total" int);
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch();
ALTER TABLE orders DISABLE TRIGGER orders_touch;
CREATE VIEW big_orders AS SELECT * FROM orders WHERE amount > 100;
CREATE TABLE dups (v int);
INSERT INTO dups VALUES (1), (1), (2);
ANALYZE;
CREATE TABLE fresh (id int);
"#;

#[test]
fn snapshot_reports_catalog_facts() {
    let db = TestDb::with("t_snapshot", SHOP);
    // A failed CREATE UNIQUE INDEX CONCURRENTLY leaves an invalid index behind.
    let failed = db.sync().batch_execute("CREATE UNIQUE INDEX CONCURRENTLY dups_v_key ON dups (v)");
    assert!(failed.is_err(), "duplicates must make the unique build fail");

    let snap = runtime().block_on(async {
        // Default sslmode (prefer): this server has TLS, so the connection is encrypted.
        let client = client(&url(&db, "")).await;
        assert!(client.tls(), "sslmode=prefer uses the server's TLS");
        snapshot(&client).await
    });

    assert!(snap.server_version_num >= 100_000, "{}", snap.server_version_num);
    assert!(
        snap.server_version.starts_with(&(snap.server_version_num / 10_000).to_string()),
        "{}",
        snap.server_version
    );
    assert_eq!(snap.database, db.name);
    assert!(snap.taken_at.is_some());

    let customers = snap.table("customers").expect("customers");
    assert_eq!(customers.kind, RelationKind::Table);
    assert_eq!(customers.schema, "public");
    assert_eq!(customers.row_estimate, Some(1000.0));
    assert!(customers.total_bytes > 8192, "{}", customers.total_bytes);
    let names: Vec<&str> = customers.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["id", "email", "name"]);
    let email = customers.column("email").expect("email");
    assert_eq!(email.type_sql, "text");
    assert!(!email.not_null);
    assert_eq!(email.null_frac, Some(0.25));
    let name = customers.column("name").expect("name");
    assert!(name.not_null);
    assert_eq!(name.default.as_deref(), Some("'x'::text"));
    let pkey = customers.indexes.iter().find(|i| i.name == "customers_pkey").expect("pkey index");
    assert!(pkey.primary && pkey.unique && pkey.valid && !pkey.partial);
    assert_eq!(pkey.columns, ["id"]);
    assert_eq!(pkey.constraint.as_deref(), Some("customers_pkey"));
    assert!(pkey.bytes > 0);
    let lower = customers.indexes.iter().find(|i| i.name == "customers_lower_email").expect("expression index");
    assert_eq!(lower.columns, ["lower(email)"]);
    assert_eq!(lower.constraint, None);
    assert_eq!(
        customers.referenced_by,
        [ForeignKeyRef {
            constraint: "orders_customer_id_fkey".into(),
            table: "orders".into(),
            columns: vec!["customer_id".into()]
        }]
    );

    let orders = snap.table("orders").expect("orders");
    assert_eq!(orders.column("id").and_then(|c| c.identity), Some('a'));
    assert_eq!(orders.column("note").and_then(|c| c.identity), None);
    let constraint = |n: &str| orders.constraints.iter().find(|c| c.name == n).expect(n);
    let fk = constraint("orders_customer_id_fkey");
    assert_eq!(fk.kind, LiveConstraintKind::ForeignKey { table: "customers".into(), columns: vec!["id".into()] });
    assert_eq!(fk.columns, ["customer_id"]);
    assert!(fk.validated);
    assert_eq!(constraint("orders_amount_check").kind, LiveConstraintKind::Check);
    assert!(constraint("orders_amount_check").validated);
    let not_valid = constraint("orders_note_short");
    assert!(!not_valid.validated);
    assert!(not_valid.definition.contains("NOT VALID"), "{}", not_valid.definition);
    assert_eq!(constraint("orders_pkey").kind, LiveConstraintKind::PrimaryKey);
    assert_eq!(orders.triggers.len(), 1);
    assert_eq!(orders.triggers[0].name, "orders_touch");
    assert!(!orders.triggers[0].enabled);
    assert!(orders.triggers[0].definition.contains("EXECUTE FUNCTION touch()"), "{}", orders.triggers[0].definition);

    let dups = snap.table("dups").expect("dups");
    let invalid = dups.indexes.iter().find(|i| i.name == "dups_v_key").expect("the failed index");
    assert!(invalid.unique && !invalid.valid);

    let invoices = snap.table("billing.Invoices").expect("a non-public table is keyed schema.name, case kept");
    assert_eq!(invoices.schema, "billing");
    assert_eq!(invoices.name, "Invoices");
    assert!(invoices.column("Total").is_some());

    let view = snap.table("big_orders").expect("view");
    assert_eq!(view.kind, RelationKind::View);
    assert_eq!(view.row_estimate, None);
    assert_eq!(view.columns.len(), 4);
    // Never analysed: no estimate (PostgreSQL 14+ stores -1).
    if snap.server_version_num >= 140_000 {
        assert_eq!(snap.table("fresh").expect("fresh").row_estimate, None);
    }
    assert!(snap.tables.keys().all(|k| !k.starts_with("pg_") && !k.starts_with("information_schema.")));
}

#[test]
fn snapshot_gives_way_to_a_running_migration() {
    let db = TestDb::with("t_locked", "CREATE TABLE busy (id int PRIMARY KEY, n int DEFAULT 1); ANALYZE;");
    // Another session holds ACCESS EXCLUSIVE, as an ALTER TABLE in progress would.
    let mut migration = db.sync();
    migration.batch_execute("BEGIN; LOCK TABLE busy IN ACCESS EXCLUSIVE MODE").expect("lock");
    let rt = runtime();
    let client = rt.block_on(client(&url(&db, "")));
    let blocked = rt.block_on(load_snapshot(&client));
    migration.batch_execute("ROLLBACK").expect("unlock");
    match blocked {
        Err(LiveError::Timeout { lock: true, reason, .. }) => assert!(reason.contains("locked"), "{reason}"),
        other => panic!("expected a lock timeout, got {other:?}"),
    }
    // Once the lock is gone the same client loads it.
    let snap = rt.block_on(snapshot(&client));
    assert_eq!(snap.table("busy").map(|t| t.indexes.len()), Some(1));
}

#[test]
fn reads_are_read_only_single_statement_and_rolled_back() {
    let db = TestDb::with("t_readonly", "CREATE TABLE t (id int);");
    runtime().block_on(async {
        let client = client(&url(&db, "?sslmode=disable")).await;
        assert!(!client.tls());
        let txn = client.read().await.expect("begin");
        let err = txn.query("INSERT INTO t VALUES (1)", &[]).await.expect_err("a write in a read-only transaction");
        assert_eq!(err.sqlstate(), Some("25006"), "{err}");
        drop(txn);

        let txn = client.read().await.expect("begin");
        let err = txn.query("CREATE TABLE u (id int)", &[]).await.expect_err("DDL in a read-only transaction");
        assert_eq!(err.sqlstate(), Some("25006"), "{err}");
        txn.finish().await.expect("rollback");

        // One statement per call: a second one cannot ride along.
        let txn = client.read().await.expect("begin");
        let err = txn.query("SELECT 1; COMMIT", &[]).await.expect_err("two statements");
        assert_eq!(err.sqlstate(), Some("42601"), "{err}");
        txn.finish().await.expect("rollback");

        // A transaction dropped unfinished is rolled back: its local settings are gone.
        let txn = client.read().await.expect("begin");
        txn.query("SELECT set_config('application_name', 'dropped', true)", &[]).await.expect("set_config");
        drop(txn);
        let txn = client.read().await.expect("begin");
        let row = txn
            .query_one("SELECT current_setting('application_name'), current_setting('transaction_read_only')", &[])
            .await
            .expect("settings");
        assert_eq!(row.get::<_, String>(0), "safemig");
        assert_eq!(row.get::<_, String>(1), "on");
        txn.finish().await.expect("rollback");
    });
    let count: i64 = db.sync().query_one("SELECT count(*) FROM t", &[]).expect("count").get(0);
    assert_eq!(count, 0);
}

#[test]
fn statement_timeout_cancels_and_the_client_stays_usable() {
    let db = TestDb::with("t_timeout", "");
    runtime().block_on(async {
        let client = client(&url(&db, "")).await;
        let txn = client.read_with_timeout(Duration::from_millis(200)).await.expect("begin");
        let err = txn.query("SELECT pg_sleep(5)", &[]).await.expect_err("canceled");
        assert!(matches!(err, LiveError::Timeout { after, .. } if after == Duration::from_millis(200)), "{err:?}");
        assert!(err.to_string().contains("200 ms"), "{err}");
        txn.finish().await.expect("rollback");
        assert!(!client.is_closed());
        let txn = client.read().await.expect("begin again");
        let row = txn.query_one("SELECT 41 + 1", &[]).await.expect("usable");
        assert_eq!(row.get::<_, i32>(0), 42);
        txn.finish().await.expect("rollback");
    });
}

#[test]
fn unreachable_server_is_named_without_the_password() {
    let url = Secret::new("postgres://app:hunter2@127.0.0.1:1/db");
    let err = runtime().block_on(connect(&url, &cfg())).expect_err("nothing listens on port 1");
    assert!(matches!(err, LiveError::Unreachable { .. }), "{err:?}");
    let shown = format!("{err} {err:?}");
    assert!(shown.contains("127.0.0.1:1"), "{shown}");
    assert!(!shown.contains("hunter2"), "{shown}");
}

#[test]
fn unknown_database_or_role_is_a_refused_login_without_the_password() {
    let pid = std::process::id();
    for url in [
        format!("postgres://postgres:sekrit99@127.0.0.1:5432/safemig_no_such_db_{pid}"),
        format!("host=127.0.0.1 user=safemig_no_role_{pid} password=sekrit99 dbname=postgres"),
    ] {
        let err = runtime().block_on(connect(&Secret::new(url), &cfg())).expect_err("refused");
        assert!(matches!(err, LiveError::LoginRefused { .. }), "{err:?}");
        let shown = format!("{err} {err:?}");
        assert!(shown.contains("does not exist"), "{shown}");
        assert!(!shown.contains("sekrit99"), "{shown}");
    }
}

#[test]
fn tls_modes_follow_libpq() {
    let db = TestDb::with("t_tls", "");
    let snakeoil = "/etc/ssl/certs/ssl-cert-snakeoil.pem";
    runtime().block_on(async {
        let require = client(&url(&db, "?sslmode=require")).await;
        assert!(require.tls());
        // The server's self-signed certificate is in no public root store.
        let err = connect(&url(&db, "?sslmode=verify-full"), &cfg()).await.expect_err("unverifiable certificate");
        assert!(matches!(err, LiveError::Tls { .. }), "{err:?}");
        if Path::new(snakeoil).is_file() {
            // Trusted through sslrootcert: verify-ca checks the chain only, verify-full also the
            // host name (the certificate names `localhost`, not 127.0.0.1).
            let ca = client(&url(&db, &format!("?sslmode=verify-ca&sslrootcert={snakeoil}"))).await;
            assert!(ca.tls());
            let err = connect(&url(&db, &format!("?sslmode=verify-full&sslrootcert={snakeoil}")), &cfg())
                .await
                .expect_err("host name mismatch");
            assert!(matches!(err, LiveError::Tls { .. }), "{err:?}");
        }
        let err = connect(&url(&db, "?sslmode=verify-full&sslrootcert=/nonexistent/root.crt"), &cfg())
            .await
            .expect_err("missing root certificate");
        assert!(err.to_string().contains("/nonexistent/root.crt"), "{err}");
    });
}

#[test]
fn url_resolution_precedence_and_dotenv() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let none = |_: &str| None;
    let mut cfg = DatabaseConfig::default();
    assert_eq!(resolve_url_with(&cfg, Some(root), none).expect("no .env"), None);

    std::fs::write(root.join(".env"), "# dev\nOTHER=1\nDATABASE_URL=\"postgres://dotenv@h/d\"\nDATABASE_URL=second\n")
        .expect("write .env");
    let got = resolve_url_with(&cfg, Some(root), none).expect("reads .env");
    assert_eq!(got.as_ref().map(Secret::expose), Some("postgres://dotenv@h/d"));
    assert_eq!(resolve_url_with(&cfg, None, none).expect("no root"), None);

    let env = |name: &str| (name == "DATABASE_URL").then(|| "postgres://env@h/d".to_string());
    let got = resolve_url_with(&cfg, Some(root), env).expect("env");
    assert_eq!(got.as_ref().map(Secret::expose), Some("postgres://env@h/d"));

    cfg.url = Some(Secret::new("postgres://config@h/d"));
    let got = resolve_url_with(&cfg, Some(root), env).expect("config");
    assert_eq!(got.as_ref().map(Secret::expose), Some("postgres://config@h/d"));

    cfg.enabled = false;
    assert_eq!(resolve_url_with(&cfg, Some(root), env).expect("disabled"), None);

    // The real process environment, under a name no one else uses.
    let var = format!("SAFEMIG_TEST_URL_{}", std::process::id());
    let cfg = DatabaseConfig { url_env: var.clone(), ..DatabaseConfig::default() };
    assert_eq!(resolve_url(&cfg, Some(root)).expect("unset"), None);
    std::env::set_var(&var, "postgres://process@h/d");
    let got = resolve_url(&cfg, Some(root)).expect("set");
    std::env::remove_var(&var);
    assert_eq!(got.as_ref().map(Secret::expose), Some("postgres://process@h/d"));
    // The .env file was read, not loaded into the process.
    assert!(std::env::var("OTHER").is_err());
}

#[test]
fn redact_hides_passwords_in_every_form() {
    assert_eq!(
        redact("postgres://app:s3cr%40t@db:5432/dev?sslmode=require"),
        "postgres://app:***@db:5432/dev?sslmode=require"
    );
    assert_eq!(redact("postgresql://db/dev?password=s3cret&user=app"), "postgresql://db/dev?password=***&user=app");
    assert_eq!(redact("host=db password='s3 cret' user=app"), "host=db password=*** user=app");
    assert_eq!(redact("postgres://app@db/dev"), "postgres://app@db/dev");
}

const DATA: &str = r#"
CREATE TABLE payments (id int PRIMARY KEY, amount numeric);
INSERT INTO payments SELECT g, CASE WHEN g > 53 THEN -g ELSE g END FROM generate_series(1, 100) g;
CREATE TABLE users (id int PRIMARY KEY, email text, code text);
INSERT INTO users SELECT g,
    CASE WHEN g % 4 = 0 THEN NULL WHEN g <= 6 THEN 'dup' || (g % 2) || '@x.io' ELSE 'u' || g || '@x.io' END,
    CASE WHEN g = 20 THEN NULL WHEN g > 17 THEN 'same' ELSE 'c' || g END
    FROM generate_series(1, 20) g;
UPDATE users SET email = upper(email) WHERE id = 7;
INSERT INTO users VALUES (21, 'u7@x.io', 'c21');
CREATE TABLE customers (id int PRIMARY KEY);
INSERT INTO customers SELECT generate_series(1, 10);
CREATE TABLE orders (id int PRIMARY KEY, customer_id int);
INSERT INTO orders VALUES (1, 1), (2, 2), (3, 99), (4, NULL), (5, 98), (6, 97), (7, 10);
ALTER TABLE payments ADD CONSTRAINT payments_small CHECK (amount < 60) NOT VALID;
CREATE SEQUENCE s;
ANALYZE;
"#;

/// Plans `sql` against the database and runs every probe.
async fn probe_all(client: &LiveClient, snap: &LiveSnapshot, sql: &str) -> Vec<(probe::ProbeRequest, ProbeOutcome)> {
    let file = SqlFile::parse(sql, Dialect::Postgres, None);
    let mut out = Vec::new();
    for req in probe::plan(&file, snap) {
        let outcome = probe::run(client, &req, Duration::from_secs(5)).await;
        out.push((req, outcome));
    }
    out
}

fn violations(count: u64, example: &str) -> ProbeOutcome {
    ProbeOutcome::Violations { count, lower_bound: false, example: Some(example.into()) }
}

#[test]
fn probes_count_violating_rows() {
    let db = TestDb::with("t_probes", DATA);
    runtime().block_on(async {
        let client = client(&url(&db, "")).await;
        let snap = snapshot(&client).await;
        let one = |results: Vec<(probe::ProbeRequest, ProbeOutcome)>| {
            assert_eq!(results.len(), 1, "{results:?}");
            results.into_iter().next().map(|(_, o)| o)
        };

        // CHECK: 47 rows have amount <= 0; the example is the first by primary key.
        let check = "ALTER TABLE payments ADD CONSTRAINT payments_amount_positive CHECK (amount > 0);";
        assert_eq!(one(probe_all(&client, &snap, check).await), Some(violations(47, "id=54")));

        // SET NOT NULL: ids 4, 8, 12, 16, 20 have no email.
        let not_null = "ALTER TABLE users ALTER COLUMN email SET NOT NULL;";
        assert_eq!(one(probe_all(&client, &snap, not_null).await), Some(violations(5, "id=4")));

        // ADD COLUMN … NOT NULL without a default: every row.
        let add = "ALTER TABLE users ADD COLUMN country text NOT NULL;";
        assert_eq!(one(probe_all(&client, &snap, add).await), Some(violations(21, "id=1")));

        // UNIQUE: dup0@x.io (ids 2, 6) and dup1@x.io (ids 1, 3, 5).
        let unique = "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);";
        assert_eq!(one(probe_all(&client, &snap, unique).await), Some(violations(2, "email=dup0@x.io (2 rows)")));

        // A unique index on an expression: lower(email) also joins U7@X.IO with u7@x.io.
        let index = "CREATE UNIQUE INDEX CONCURRENTLY users_lower_email ON users (lower(email));";
        assert_eq!(one(probe_all(&client, &snap, index).await), Some(violations(3, "lower(email)=dup0@x.io (2 rows)")));
        // A partial one: only the rows the predicate keeps.
        let partial = "CREATE UNIQUE INDEX users_email_partial ON users (email) WHERE id > 2;";
        assert_eq!(one(probe_all(&client, &snap, partial).await), Some(violations(1, "email=dup1@x.io (2 rows)")));

        // PRIMARY KEY: duplicates of code ('same' × 2) and a NULL code (id 20).
        let pk = "ALTER TABLE users DROP CONSTRAINT users_pkey, ADD PRIMARY KEY (code);";
        let results = probe_all(&client, &snap, pk).await;
        let outcomes: Vec<ProbeOutcome> = results.into_iter().map(|(_, o)| o).collect();
        assert_eq!(outcomes, [violations(1, "code=same (2 rows)"), violations(1, "id=20")]);

        // FOREIGN KEY: orders 3, 5 and 6 point at missing customers; the NULL one does not count.
        let fk = "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers;";
        assert_eq!(one(probe_all(&client, &snap, fk).await), Some(violations(3, "id=3, customer_id=99")));

        // VALIDATE of a NOT VALID constraint the database has: amounts 1..53 and none of the
        // negative ones; 60 and above do not exist, so it is clean.
        let validate = "ALTER TABLE payments VALIDATE CONSTRAINT payments_small;";
        assert_eq!(one(probe_all(&client, &snap, validate).await), Some(ProbeOutcome::Clean));
        // VALIDATE of a NOT VALID constraint added earlier in the same migration.
        let both = "ALTER TABLE payments ADD CONSTRAINT p_big CHECK (amount > 50) NOT VALID;\n\
                    ALTER TABLE payments VALIDATE CONSTRAINT p_big;";
        // 1..50 are not above 50, and neither are the 47 negative amounts.
        assert_eq!(one(probe_all(&client, &snap, both).await), Some(violations(97, "id=1")));

        // Clean: no row fails.
        let clean = "ALTER TABLE payments ADD CONSTRAINT payments_present CHECK (amount IS NOT NULL);";
        assert_eq!(one(probe_all(&client, &snap, clean).await), Some(ProbeOutcome::Clean));
    });
}

#[test]
fn probes_that_cannot_run_fail_quietly() {
    let db = TestDb::with("t_probefail", DATA);
    runtime().block_on(async {
        let client = client(&url(&db, "")).await;
        let mut snap = snapshot(&client).await;
        for sql in [
            // The expression does not evaluate on the live schema.
            "ALTER TABLE payments ADD CONSTRAINT c1 CHECK (no_such_column > 0);",
            // Division by zero at run time.
            "ALTER TABLE payments ADD CONSTRAINT c2 CHECK (amount / 0 > 1);",
        ] {
            let file = SqlFile::parse(sql, Dialect::Postgres, None);
            let reqs = probe::plan(&file, &snap);
            assert_eq!(reqs.len(), 1, "{sql}");
            let outcome = probe::run(&client, &reqs[0], Duration::from_millis(300)).await;
            assert!(matches!(outcome, ProbeOutcome::Failed(_)), "{sql}: {outcome:?}");
        }
        // Functions that are not immutable built-ins never reach the database.
        for (sql, why) in [
            ("ALTER TABLE payments ADD CONSTRAINT c3 CHECK (nextval('s') > 0);", "calls `nextval()`"),
            ("ALTER TABLE payments ADD CONSTRAINT c4 CHECK (pg_sleep(1) IS NULL);", "calls `pg_sleep()`"),
        ] {
            let file = SqlFile::parse(sql, Dialect::Postgres, None);
            let reqs = probe::plan(&file, &snap);
            assert_eq!(reqs.len(), 1, "{sql}");
            let outcome = probe::run(&client, &reqs[0], Duration::from_millis(300)).await;
            assert_eq!(outcome, ProbeOutcome::NotProbed(why.into()), "{sql}");
        }

        // A table the planner thinks is large is sampled: the count can only be a lower bound,
        // and a sample without violations proves nothing.
        if let Some(t) = snap.tables.get_mut("payments") {
            t.row_estimate = Some(5e7);
        }
        let sql = "ALTER TABLE payments ADD CONSTRAINT payments_amount_positive CHECK (amount > 0);";
        let file = SqlFile::parse(sql, Dialect::Postgres, None);
        let reqs = probe::plan(&file, &snap);
        assert_eq!(reqs.len(), 1);
        assert_eq!(reqs[0].bound, probe::Bound::Sampled);
        match probe::run(&client, &reqs[0], Duration::from_secs(5)).await {
            ProbeOutcome::Violations { lower_bound, .. } => assert!(lower_bound),
            ProbeOutcome::Inconclusive(_) => {}
            other => panic!("a sample is never exact: {other:?}"),
        }
        assert!(!client.is_closed());
    });
    // nextval() never ran.
    let row = db.sync().query_one("SELECT is_called FROM s", &[]).expect("sequence state");
    assert!(!row.get::<_, bool>(0));
}

/// `add-column-rewrite` asks the database about a function the migrations never define: its
/// `pg_proc.provolatile`.
#[test]
fn a_default_function_only_the_database_defines_is_judged_by_its_provolatile() {
    let db = TestDb::with(
        "fn_volatility",
        "CREATE TABLE users (id bigint PRIMARY KEY);
         CREATE FUNCTION vol_code() RETURNS text LANGUAGE sql AS $$ SELECT md5(random()::text) $$;
         CREATE FUNCTION imm_code() RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'x' $$;",
    );
    let rt = runtime();
    let snap = rt.block_on(async { snapshot(&client(&url(&db, "")).await).await });
    use safemig::sql::facts::Volatility;
    assert_eq!(snap.functions.get("vol_code"), Some(&Volatility::Volatile));
    assert_eq!(snap.functions.get("imm_code"), Some(&Volatility::Immutable));
    assert_eq!(snap.functions.get("pg_catalog.random"), Some(&Volatility::Volatile));
    assert!(snap.extensions.contains("plpgsql"), "{:?}", snap.extensions);

    let facts = safemig::live::LiveFacts { snapshot: std::sync::Arc::new(snap), ..Default::default() };
    let replayed = safemig::schema::Schema::new(Dialect::Postgres);
    let view = safemig::live::LiveView { replayed: &replayed, live: Some(&facts) };
    let config = safemig::config::Config::default();
    let settings = config.settings(Dialect::Postgres);
    let rewrite = |sql: &str| -> Vec<(String, String)> {
        safemig::engine::analyze_with_schema(sql, &settings, &config, &view, None)
            .findings
            .into_iter()
            .filter(|f| f.rule == "add-column-rewrite")
            .map(|f| (f.severity.name().to_string(), f.message))
            .collect()
    };
    let volatile = rewrite("ALTER TABLE users ADD COLUMN a text DEFAULT vol_code();");
    assert_eq!(volatile.len(), 1, "{volatile:?}");
    assert_eq!(volatile[0].0, "warning");
    assert!(
        volatile[0].1.starts_with(
            "the default calls `vol_code()`, which is VOLATILE (`pg_proc.provolatile` is 'v' in the dev database)"
        ),
        "{volatile:?}"
    );
    assert_eq!(rewrite("ALTER TABLE users ADD COLUMN a text DEFAULT imm_code();"), vec![]);
    let unknown = rewrite("ALTER TABLE users ADD COLUMN a text DEFAULT nowhere_code();");
    assert_eq!(unknown.len(), 1, "{unknown:?}");
    assert_eq!(unknown[0].0, "hint");
    assert!(unknown[0].1.contains("which neither the migrations nor the dev database define"), "{unknown:?}");
}

/// `extension-missing` with a dev database that has the extension: the finding stays (a fresh
/// database still fails) and says it was installed there by hand.
#[test]
fn an_extension_installed_by_hand_is_still_missing_from_the_chain() {
    let db = TestDb::with("ext_by_hand", "CREATE EXTENSION citext;");
    let rt = runtime();
    let snap = rt.block_on(async { snapshot(&client(&url(&db, "")).await).await });
    assert!(snap.extensions.contains("citext"), "{:?}", snap.extensions);
    let facts = safemig::live::LiveFacts { snapshot: std::sync::Arc::new(snap), ..Default::default() };
    let mut replayed = safemig::schema::Schema::new(Dialect::Postgres);
    replayed.set_baseline(safemig::schema::Baseline::Empty);
    let config = safemig::config::Config::default();
    let settings = config.settings(Dialect::Postgres);
    let missing = |live: Option<&safemig::live::LiveFacts>| -> Vec<String> {
        let view = safemig::live::LiveView { replayed: &replayed, live };
        let sql = "CREATE TABLE users (id bigint PRIMARY KEY, email citext, tags hstore);";
        safemig::engine::analyze_with_schema(sql, &settings, &config, &view, None)
            .findings
            .into_iter()
            .filter(|f| f.rule == "extension-missing")
            .map(|f| f.message)
            .collect()
    };
    let with_db = missing(Some(&facts));
    assert_eq!(with_db.len(), 2, "{with_db:?}");
    assert!(
        with_db[0].starts_with("`citext` is a type of the `citext` extension")
            && with_db[0].ends_with(
                "(the dev database has it, installed by hand: a database built from the migrations will not)"
            ),
        "{with_db:?}"
    );
    // hstore is not installed there: no such clause.
    assert!(with_db[1].contains("`hstore` extension") && !with_db[1].contains("by hand"), "{with_db:?}");
    let without = missing(None);
    assert!(without.len() == 2 && !without[0].contains("by hand"), "{without:?}");
}
