//! Expand/contract: `rename-column` and `column-type-rewrite` (a new column kept in sync by a
//! trigger, a batched backfill, the contract step in a dated comment) and `rename-table` (the
//! rename and an updatable view with the old name).
//!
//! Each case applies the fix, then appends the contract step exactly as the fix's comment tells
//! the user to write it (its `--   ` lines) as a later migration, and compares the result with
//! the original set. Column positions differ by design (the new column comes last), so the
//! comparison leaves them out and compares rows by column name. The expand phase is tested on
//! its own: with only the expand step applied, a write through the old name (or type) is seen
//! through the new one and the other way round.

use super::*;

const USERS: &str = "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL DEFAULT '', name text);
INSERT INTO users SELECT g, 'u' || g || '@example.com', 'n' || g FROM generate_series(1, 300) g;
";

const ORDERS: &str = "CREATE TABLE orders (id bigint PRIMARY KEY, amount integer NOT NULL DEFAULT 0, note text);
INSERT INTO orders SELECT g, g * 3, CASE WHEN g % 5 = 0 THEN NULL ELSE 'n' || g END FROM generate_series(1, 300) g;
";

const CUSTOMERS: &str = "CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL);
INSERT INTO customers SELECT g, 'c' || g FROM generate_series(1, 100) g;
";

const RENAME_COLUMN: &str = "ALTER TABLE users RENAME COLUMN email TO email_address;";
const CHANGE_TYPE: &str = "ALTER TABLE orders ALTER COLUMN amount TYPE bigint;";
const CHANGE_TYPE_USING: &str = "ALTER TABLE orders ALTER COLUMN note TYPE jsonb USING to_jsonb(note);";
const RENAME_TABLE: &str = "ALTER TABLE customers RENAME TO clients;";

/// The contract step the fixed file's dated comment names: its `--   ` lines after
/// `-- Contract step`, uncommented.
fn contract_of(text: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in text.lines() {
        let line = line.trim_start();
        if line.starts_with("-- Contract step") {
            inside = true;
        } else if inside {
            match line.strip_prefix("--   ") {
                Some(sql) => {
                    out.push_str(sql);
                    out.push('\n');
                }
                None => inside = false,
            }
        }
    }
    assert!(!out.is_empty(), "no contract step in:\n{text}");
    out
}

/// The catalog without column positions, and every row as JSON (keys by column name).
fn loose(db: &TestDb) -> (Vec<String>, Vec<String>) {
    let mut client = db.sync();
    let catalog = catalog(&mut client)
        .into_iter()
        .map(|line| match line.find(" pos=") {
            Some(i) => {
                let rest = &line[i + 5..];
                let end = rest.find(' ').map_or(line.len(), |j| i + 5 + j);
                format!("{}{}", &line[..i], &line[end..])
            }
            None => line,
        })
        .collect();
    let tables: Vec<String> = client
        .query(
            "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1",
            &[],
        )
        .expect("list the tables")
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut data = Vec::new();
    for table in tables {
        let rows = client.query(&format!("SELECT to_jsonb(x)::text FROM {table} x ORDER BY 1"), &[]).expect("rows");
        data.extend(rows.iter().map(|r| format!("{table}: {}", r.get::<_, String>(0))));
    }
    (catalog, data)
}

fn loose_differences(a: &TestDb, b: &TestDb) -> Vec<String> {
    let ((ca, da), (cb, db)) = (loose(a), loose(b));
    let mut out = Vec::new();
    for (what, left, right) in [("catalog", ca, cb), ("data", da, db)] {
        out.extend(left.iter().filter(|l| !right.contains(l)).map(|l| format!("{what}, original only: {l}")));
        out.extend(right.iter().filter(|r| !left.contains(r)).map(|r| format!("{what}, rewritten only: {r}")));
    }
    out
}

/// An expand/contract case: the fix is applied, the rule is silent and nothing new fires; the
/// contract step from the comment is written as the migration `contract(sql)` = (path, text);
/// the original set and the fixed set with its contract build the same schema and rows.
/// Returns the fixed workspace (without the contract) and the contract's SQL.
fn check_expand(case: &Case, contract: &dyn Fn(&str) -> Vec<(String, String)>) -> (tempfile::TempDir, String) {
    let original = workspace(case.files);
    let fixed = apply_case(case);

    let text = std::fs::read_to_string(fixed.path().join(case.rel)).expect("read the fixed file");
    let sql = contract_of(&text);
    let contracted = tempfile::tempdir().expect("temp dir");
    copy_tree(fixed.path(), contracted.path());
    for (rel, body) in contract(&sql) {
        let path = contracted.path().join(rel);
        assert!(!path.exists(), "{} exists", path.display());
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, body).expect("write the contract step");
    }
    // The contract step the fix prescribes does not bring the rule back.
    let contract_findings = all_findings(contracted.path());
    assert!(
        !contract_findings.iter().any(|(_, r)| r == case.rule),
        "{}: the contract step fires {}: {contract_findings:?}",
        case.name,
        case.rule
    );
    let a = TestDb::new(&format!("fix_{}", case.name));
    let b = TestDb::new(&format!("fix_{}", case.name));
    apply_set(&a, original.path()).unwrap_or_else(|e| panic!("{}: the original set fails: {e}", case.name));
    apply_set(&b, contracted.path())
        .unwrap_or_else(|e| panic!("{}: the fixed set and its contract step fail: {e}", case.name));
    let diff = loose_differences(&a, &b);
    assert!(diff.is_empty(), "{}: expand + contract build something else:\n{}", case.name, diff.join("\n"));
    (fixed, sql)
}

/// Without column positions, the comparison still sees a missing NOT NULL or default, a
/// leftover column and a changed row.
#[test]
fn the_loose_comparison_sees_nullability_defaults_columns_and_rows() {
    let a = TestDb::with("fix_loose", USERS);
    let b = TestDb::with(
        "fix_loose",
        "CREATE TABLE users (id bigint PRIMARY KEY, name text, email text NOT NULL DEFAULT '');
INSERT INTO users SELECT g, 'n' || g, 'u' || g || '@example.com' FROM generate_series(1, 300) g;",
    );
    assert!(loose_differences(&a, &b).is_empty(), "{:?}", loose_differences(&a, &b));
    let mut c = b.sync();
    for (change, undo, seen) in [
        (
            "ALTER TABLE users ALTER COLUMN email DROP NOT NULL",
            "ALTER TABLE users ALTER COLUMN email SET NOT NULL",
            "notnull=",
        ),
        (
            "ALTER TABLE users ALTER COLUMN email DROP DEFAULT",
            "ALTER TABLE users ALTER COLUMN email SET DEFAULT ''",
            "default=",
        ),
        ("ALTER TABLE users ADD COLUMN extra text", "ALTER TABLE users DROP COLUMN extra", "extra"),
        ("UPDATE users SET name = 'x' WHERE id = 1", "UPDATE users SET name = 'n1' WHERE id = 1", "\"x\""),
    ] {
        c.batch_execute(change).expect("change");
        let diff = loose_differences(&a, &b);
        assert!(diff.iter().any(|d| d.contains(seen)), "{change}: {diff:?}");
        c.batch_execute(undo).expect("undo");
    }
    assert!(loose_differences(&a, &b).is_empty());
}

fn query_one(client: &mut postgres::Client, sql: &str) -> String {
    let row = client.query_one(sql, &[]).unwrap_or_else(|e| panic!("{sql}: {}", message(&e)));
    row.get(0)
}

/// The expand step of `rename-column`, applied: writes through either name are seen through the
/// other.
fn assert_rename_column_syncs(root: &Path) {
    let db = TestDb::new("fix_expand_sync");
    apply_set(&db, root).expect("the fixed set applies");
    let mut c = db.sync();
    assert_eq!(
        query_one(&mut c, "SELECT count(*)::text FROM users WHERE email_address IS DISTINCT FROM email"),
        "0",
        "the backfill copied every row"
    );
    // Old code inserts and updates `email`; new code reads `email_address`.
    c.batch_execute("INSERT INTO users (id, email, name) VALUES (1001, 'old@x', 'o')").expect("old insert");
    assert_eq!(query_one(&mut c, "SELECT email_address FROM users WHERE id = 1001"), "old@x");
    c.batch_execute("UPDATE users SET email = 'old2@x' WHERE id = 1001").expect("old update");
    assert_eq!(query_one(&mut c, "SELECT email_address FROM users WHERE id = 1001"), "old2@x");
    // New code inserts and updates `email_address` (leaving `email` to its default); old code reads `email`.
    c.batch_execute("INSERT INTO users (id, email_address, name) VALUES (1002, 'new@x', 'n')").expect("new insert");
    assert_eq!(query_one(&mut c, "SELECT email FROM users WHERE id = 1002"), "new@x");
    c.batch_execute("UPDATE users SET email_address = 'new2@x' WHERE id = 1002").expect("new update");
    assert_eq!(query_one(&mut c, "SELECT email FROM users WHERE id = 1002"), "new2@x");
    // A write of another column keeps both.
    c.batch_execute("UPDATE users SET name = 'm' WHERE id = 1002").expect("other update");
    assert_eq!(query_one(&mut c, "SELECT email || ' ' || email_address FROM users WHERE id = 1002"), "new2@x new2@x");
    // The NOT VALID check already holds new writes: NULL through the new name is refused.
    let err = c.batch_execute("UPDATE users SET email_address = NULL WHERE id = 1").expect_err("NOT NULL");
    assert!(message(&err).contains("null value") || message(&err).contains("violates"), "{}", message(&err));
}

/// The expand statements of the fixed file (no backfill) on a seeded table, in one transaction:
/// nothing scans the table or rewrites it.
fn probe_expand(name: &str, seed: &str, fixed_text: &str, table: &str) {
    let db = TestDb::with(&format!("fix_{name}"), seed);
    let expand: Vec<String> = statements(fixed_text)
        .into_iter()
        .filter(|s| !s.trim_start().starts_with("DO ") && !s.trim_start().starts_with("DO\n"))
        .filter(|s| !matches!(s.trim().to_ascii_uppercase().as_str(), "BEGIN;" | "COMMIT;"))
        .collect();
    assert!(expand.len() >= 3, "{expand:#?}");
    let before = filenode(&mut db.sync(), table);
    let probed = probe_in_transaction(&db, table, &expand);
    assert!(probed.iter().all(|p| !p.scanned), "the expand step scans {table}: {probed:#?}");
    assert_no_blocking_scan(&probed, table, before);
}

/// The batched backfill of the fixed file, run outside a transaction while another session
/// holds the row with key 1 (an open writer): the loop waits at that row, holding no lock that
/// blocks writes, and a write to another row goes through meanwhile.
fn probe_backfill(name: &str, seed_and_expand: &str, backfill: &str, table: &str, write: &str) {
    let db = TestDb::with(&format!("fix_{name}"), seed_and_expand);
    let mut holder = db.sync();
    let mut watcher = db.sync();
    holder.batch_execute(&format!("BEGIN; SELECT 1 FROM {table} WHERE id = 1 FOR UPDATE")).expect("hold a row");
    let Stalled { pid, running } = stall(&db, &mut holder, &mut watcher, backfill, &waits_for_a_lock);
    let locks: Vec<(String, String)> =
        watcher.query(LOCKS_OF, &[&pid]).expect("read pg_locks").iter().map(|r| (r.get(0), r.get(1))).collect();
    let mut writer = db.sync();
    let wrote = writer.batch_execute(&format!("SET lock_timeout = '10s'; {write}")).map_err(|e| message(&e));
    holder.batch_execute("COMMIT").expect("release the row");
    running.join().expect("the backfill's thread").unwrap_or_else(|e| panic!("the backfill failed: {e}"));
    for (relation, mode) in &locks {
        assert!(!(relation == table && WRITE_BLOCKING.contains(&mode.as_str())), "{mode} on {relation}: {locks:?}");
    }
    assert!(locks.contains(&(table.to_string(), "RowExclusiveLock".to_string())), "{locks:?}");
    assert_eq!(wrote, Ok(()), "a write to {table} while the backfill waited");
}

/// The statements of `text` that are `DO` blocks, and the others.
fn split_do(text: &str) -> (Vec<String>, Vec<String>) {
    statements(text).into_iter().partition(|s| s.trim_start().to_ascii_uppercase().starts_with("DO"))
}

/// The goose layout of a contract migration.
fn goose_contract(rel: &'static str) -> impl Fn(&str) -> Vec<(String, String)> {
    move |sql| vec![(rel.to_string(), goose(sql.trim_end()))]
}

#[test]
fn rename_column_plain_goose_and_golang_migrate() {
    // A plain file: statement by statement, the backfill right after the expand step.
    let (plain, contract) = check_expand(
        &Case {
            name: "rename_column_plain",
            files: &[("migrations/001_users.sql", USERS), ("migrations/002_rename.sql", &format!("{RENAME_COLUMN}\n"))],
            rel: "migrations/002_rename.sql",
            rule: "rename-column",
            title: "Expand/contract: add `email_address` kept in sync with `email` by a trigger, backfill it right after it",
            safety: Safety::Unsafe,
        },
        &|sql| vec![("migrations/003_contract.sql".into(), sql.to_string())],
    );
    assert!(contract.starts_with("BEGIN;\n") && contract.ends_with("COMMIT;\n"), "{contract}");
    assert_rename_column_syncs(plain.path());
    let text = std::fs::read_to_string(plain.path().join("migrations/002_rename.sql")).expect("read");
    probe_expand("rename_column_plain", USERS, &text, "users");
    let (backfill, expand) = split_do(&text);
    probe_backfill(
        "rename_column_backfill",
        &format!("{USERS}{}", expand.join("\n")),
        &backfill[0],
        "users",
        "INSERT INTO users (id, email) VALUES (5000, 'during@x')",
    );

    // goose: the expand step in goose's transaction, the backfill in a NO TRANSACTION migration.
    let (goosed, contract) = check_expand(
        &Case {
            name: "rename_column_goose",
            files: &[
                ("db/migrations/00001_users.sql", &goose(USERS)),
                ("db/migrations/00002_rename.sql", &goose(RENAME_COLUMN)),
            ],
            rel: "db/migrations/00002_rename.sql",
            rule: "rename-column",
            title: "Expand/contract: add `email_address` kept in sync with `email` by a trigger, backfill it in a new migration 00003_backfill_users_email_address.sql",
            safety: Safety::Unsafe,
        },
        &goose_contract("db/migrations/00004_contract.sql"),
    );
    assert!(!contract.contains("BEGIN;"), "goose runs the contract in its transaction: {contract}");
    let backfill = std::fs::read_to_string(goosed.path().join("db/migrations/00003_backfill_users_email_address.sql"))
        .expect("the backfill migration");
    assert!(backfill.starts_with("-- +goose NO TRANSACTION\n") && backfill.contains("    COMMIT;"), "{backfill}");
    assert_eq!(
        runner(FrameworkKind::Goose, Path::new("x.sql"), &backfill),
        Run::EachStatement,
        "each round of the loop commits"
    );
    assert_rename_column_syncs(goosed.path());

    // golang-migrate sends a file as one query string: the backfill gets a file of its own.
    let (go, _) = check_expand(
        &Case {
            name: "rename_column_golang_migrate",
            files: &[
                ("db/migrations/0001_users.up.sql", USERS),
                ("db/migrations/0002_rename.up.sql", &format!("{RENAME_COLUMN}\n")),
            ],
            rel: "db/migrations/0002_rename.up.sql",
            rule: "rename-column",
            title: "Expand/contract: add `email_address` kept in sync with `email` by a trigger, backfill it in a new migration 0003_backfill_users_email_address.up.sql",
            safety: Safety::Unsafe,
        },
        &|sql| vec![("db/migrations/0004_contract.up.sql".into(), sql.to_string())],
    );
    assert_rename_column_syncs(go.path());
}

#[test]
fn column_type_plain_and_goose() {
    let (plain, contract) = check_expand(
        &Case {
            name: "column_type_plain",
            files: &[("migrations/001_orders.sql", ORDERS), ("migrations/002_type.sql", &format!("{CHANGE_TYPE}\n"))],
            rel: "migrations/002_type.sql",
            rule: "column-type-rewrite",
            title: "Expand/contract: add `amount_new` bigint kept in sync by a trigger, backfill it right after it",
            safety: Safety::Unsafe,
        },
        &|sql| vec![("migrations/003_contract.sql".into(), sql.to_string())],
    );
    assert!(contract.contains("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE;"), "{contract}");
    let text = std::fs::read_to_string(plain.path().join("migrations/002_type.sql")).expect("read");
    probe_expand("column_type_plain", ORDERS, &text, "orders");
    let (backfill, expand) = split_do(&text);
    probe_backfill(
        "column_type_backfill",
        &format!("{ORDERS}{}", expand.join("\n")),
        &backfill[0],
        "orders",
        "UPDATE orders SET amount = 1 WHERE id = 300",
    );
    // The same probe catches the original: it rewrites the table.
    let db = TestDb::with("fix_column_type_original", ORDERS);
    let before = filenode(&mut db.sync(), "orders");
    let original = probe_in_transaction(&db, "orders", &[CHANGE_TYPE.to_string()]);
    let caught = std::panic::catch_unwind(|| assert_no_blocking_scan(&original, "orders", before));
    assert!(caught.is_err(), "the original passes the probe: {original:#?}");

    // The expand phase: old code writes `amount`, `amount_new` follows.
    let db = TestDb::new("fix_column_type_sync");
    apply_set(&db, plain.path()).expect("the fixed set applies");
    let mut c = db.sync();
    assert_eq!(query_one(&mut c, "SELECT count(*)::text FROM orders WHERE amount_new IS DISTINCT FROM amount"), "0");
    c.batch_execute("INSERT INTO orders (id, amount) VALUES (1001, 7)").expect("insert");
    assert_eq!(query_one(&mut c, "SELECT amount_new::text FROM orders WHERE id = 1001"), "7");
    c.batch_execute("UPDATE orders SET amount = 2147483647 WHERE id = 1001").expect("update");
    assert_eq!(
        query_one(&mut c, "SELECT pg_typeof(amount_new)::text || amount_new FROM orders WHERE id = 1001"),
        "bigint2147483647"
    );

    // goose, with USING: the backfill in a new NO TRANSACTION migration.
    let (goosed, _) = check_expand(
        &Case {
            name: "column_type_goose_using",
            files: &[
                ("db/migrations/00001_orders.sql", &goose(ORDERS)),
                ("db/migrations/00002_type.sql", &goose(CHANGE_TYPE_USING)),
            ],
            rel: "db/migrations/00002_type.sql",
            rule: "column-type-rewrite",
            title: "Expand/contract: add `note_new` jsonb kept in sync by a trigger, backfill it in a new migration 00003_backfill_orders_note_new.sql",
            safety: Safety::Unsafe,
        },
        &goose_contract("db/migrations/00004_contract.sql"),
    );
    let db = TestDb::new("fix_column_type_using_sync");
    apply_set(&db, goosed.path()).expect("the fixed set applies");
    let mut c = db.sync();
    assert_eq!(
        query_one(&mut c, "SELECT count(*)::text FROM orders WHERE note_new IS DISTINCT FROM to_jsonb(note)"),
        "0"
    );
    c.batch_execute("UPDATE orders SET note = 'changed' WHERE id = 1").expect("update");
    assert_eq!(query_one(&mut c, "SELECT note_new::text FROM orders WHERE id = 1"), "\"changed\"");
}

#[test]
fn column_type_golang_migrate() {
    check_expand(
        &Case {
            name: "column_type_golang_migrate",
            files: &[
                ("db/migrations/0001_orders.up.sql", ORDERS),
                ("db/migrations/0002_type.up.sql", &format!("{CHANGE_TYPE}\n")),
            ],
            rel: "db/migrations/0002_type.up.sql",
            rule: "column-type-rewrite",
            title: "Expand/contract: add `amount_new` bigint kept in sync by a trigger, backfill it in a new migration 0003_backfill_orders_amount_new.up.sql",
            safety: Safety::Unsafe,
        },
        &|sql| vec![("db/migrations/0004_contract.up.sql".into(), sql.to_string())],
    );
}

/// Old code reads and writes through the view, new code through the table.
fn assert_view_passes_writes(root: &Path) {
    let db = TestDb::new("fix_rename_table_sync");
    apply_set(&db, root).expect("the fixed set applies");
    let mut c = db.sync();
    c.batch_execute("INSERT INTO customers (id, name) VALUES (1001, 'old')").expect("insert through the view");
    assert_eq!(query_one(&mut c, "SELECT name FROM clients WHERE id = 1001"), "old");
    c.batch_execute("UPDATE customers SET name = 'old2' WHERE id = 1001").expect("update through the view");
    c.batch_execute("INSERT INTO clients (id, name) VALUES (1002, 'new')").expect("insert into the table");
    assert_eq!(
        query_one(&mut c, "SELECT string_agg(name, ',' ORDER BY id) FROM customers WHERE id > 1000"),
        "old2,new"
    );
    c.batch_execute("DELETE FROM customers WHERE id = 1002").expect("delete through the view");
    assert_eq!(query_one(&mut c, "SELECT count(*)::text FROM clients WHERE id > 1000"), "1");
}

#[test]
fn rename_table_plain_goose_and_prisma() {
    let view_title = "Leave an updatable view `customers` over `clients`";
    let (plain, contract) = check_expand(
        &Case {
            name: "rename_table_plain",
            files: &[
                ("migrations/001_customers.sql", CUSTOMERS),
                ("migrations/002_rename.sql", &format!("{RENAME_TABLE}\n")),
            ],
            rel: "migrations/002_rename.sql",
            rule: "rename-table",
            title: view_title,
            safety: Safety::Unsafe,
        },
        &|sql| vec![("migrations/003_contract.sql".into(), sql.to_string())],
    );
    assert_eq!(contract, "DROP VIEW customers;\n");
    assert_view_passes_writes(plain.path());
    // The rename and the view, in one transaction: ACCESS EXCLUSIVE, but no scan and no rewrite.
    let db = TestDb::with("fix_rename_table_probe", CUSTOMERS);
    let before = filenode(&mut db.sync(), "customers");
    let probed = probe_in_transaction(
        &db,
        "clients",
        &[RENAME_TABLE.to_string(), "CREATE VIEW customers AS SELECT * FROM clients;".to_string()],
    );
    assert!(probed.iter().all(|p| !p.scanned), "{probed:#?}");
    assert!(probed[0].holds("clients", "AccessExclusiveLock"), "{probed:#?}");
    assert!(probed.iter().all(|p| p.filenode == before), "{probed:#?}");

    let (goosed, _) = check_expand(
        &Case {
            name: "rename_table_goose",
            files: &[
                ("db/migrations/00001_customers.sql", &goose(CUSTOMERS)),
                ("db/migrations/00002_rename.sql", &goose(RENAME_TABLE)),
            ],
            rel: "db/migrations/00002_rename.sql",
            rule: "rename-table",
            title: view_title,
            safety: Safety::Unsafe,
        },
        &goose_contract("db/migrations/00003_contract.sql"),
    );
    let text = std::fs::read_to_string(goosed.path().join("db/migrations/00002_rename.sql")).expect("read");
    assert!(!text.contains("BEGIN;"), "goose's transaction holds both: {text}");
    assert_view_passes_writes(goosed.path());

    let (prisma, _) = check_expand(
        &Case {
            name: "rename_table_prisma",
            files: &[
                ("prisma/migrations/migration_lock.toml", "provider = \"postgresql\"\n"),
                ("prisma/migrations/20240101000000_init/migration.sql", CUSTOMERS),
                ("prisma/migrations/20240102000000_rename/migration.sql", &format!("{RENAME_TABLE}\n")),
            ],
            rel: "prisma/migrations/20240102000000_rename/migration.sql",
            rule: "rename-table",
            title: view_title,
            safety: Safety::Unsafe,
        },
        &|sql| vec![("prisma/migrations/20240103000000_contract/migration.sql".into(), sql.to_string())],
    );
    assert_view_passes_writes(prisma.path());
}
