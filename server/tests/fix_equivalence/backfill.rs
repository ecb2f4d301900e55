//! Data changes moved out of schema migrations and batched (`backfill-in-schema-migration`,
//! `unbatched-backfill`), and the type hints rewritten in place.

use super::*;

/// 12,000 orders: more than two rounds of the loop (5,000 rows each).
const SHOP: &str = "CREATE TABLE customers (id bigint PRIMARY KEY, name text);
INSERT INTO customers SELECT g, 'c' || g FROM generate_series(0, 9) g;
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, note text);
INSERT INTO orders SELECT g, g % 7, CASE WHEN g % 3 = 0 THEN NULL ELSE 'n' || g END FROM generate_series(1, 12000) g;
";

const ADD: &str = "ALTER TABLE orders ADD COLUMN country text;";
const UPDATE: &str = "UPDATE orders SET country = 'US', note = coalesce(note, 'none') WHERE customer_id <> 3;";

fn refs<'a>(files: &'a [(&'a str, String)]) -> Vec<(&'a str, &'a str)> {
    files.iter().map(|(p, t)| (*p, t.as_str())).collect()
}

#[test]
fn backfills_move_to_their_own_migration_in_batches() {
    // goose: the loop alone in a new migration, outside its transaction.
    let files = [
        ("db/migrations/00001_shop.sql", goose(SHOP)),
        ("db/migrations/00002_country.sql", goose(&format!("{ADD}\n{UPDATE}"))),
    ];
    let fixed = check_case(&Case {
        name: "backfill_goose",
        files: &refs(&files),
        rel: "db/migrations/00002_country.sql",
        rule: "backfill-in-schema-migration",
        title: "Move the UPDATE of `orders` to a new migration 00003_backfill_orders.sql, in batches of 5000 rows by id, each committed",
        safety: Safety::Unsafe,
    });
    let created =
        std::fs::read_to_string(fixed.path().join("db/migrations/00003_backfill_orders.sql")).expect("created");
    assert!(created.starts_with("-- +goose NO TRANSACTION\n"), "{created}");

    // goose: a SET NOT NULL after the backfill moves with it; the migration keeps its
    // transaction.
    let files = [
        ("db/migrations/00001_shop.sql", goose(SHOP)),
        (
            "db/migrations/00002_country.sql",
            goose(&format!(
                "{ADD}\nUPDATE orders SET country = 'US';\nALTER TABLE orders ALTER COLUMN country SET NOT NULL;"
            )),
        ),
    ];
    let fixed = check_case(&Case {
        name: "backfill_goose_dependent",
        files: &refs(&files),
        rel: "db/migrations/00002_country.sql",
        rule: "backfill-in-schema-migration",
        title: "Move the UPDATE of `orders` and the statement after it to a new migration 00003_backfill_orders.sql, in batches",
        safety: Safety::Unsafe,
    });
    let created =
        std::fs::read_to_string(fixed.path().join("db/migrations/00003_backfill_orders.sql")).expect("created");
    assert!(created.contains("SET NOT NULL") && !created.contains("NO TRANSACTION"), "{created}");
    // Lower locks: the loop scans `orders` under no write-blocking lock; in the original
    // migration the UPDATE scanned it under the ADD COLUMN's ACCESS EXCLUSIVE.
    let db = TestDb::new("fix_backfill_probe");
    let probed = probe_set(&db, fixed.path(), 2, "orders");
    let looped = probed.iter().find(|p| p.sql.starts_with("-- +goose StatementBegin\nDO") || p.sql.starts_with("DO"));
    let looped = looped.unwrap_or_else(|| panic!("no loop probed: {probed:#?}"));
    assert!(looped.scanned, "{looped:#?}");
    assert_no_blocking_scan(std::slice::from_ref(looped), "orders", looped.filenode);
    let db = TestDb::new("fix_backfill_probe");
    let original = workspace(&refs(&files));
    let probed = probe_set(&db, original.path(), 1, "orders");
    let update = probed.iter().find(|p| p.sql.starts_with("UPDATE")).expect("the UPDATE probed");
    assert!(update.scanned && update.holds("orders", "AccessExclusiveLock"), "{update:#?}");

    // golang-migrate: a file of its own runs outside a transaction; a DELETE with its filter.
    let files = [
        ("db/migrations/0001_shop.up.sql", SHOP.to_string()),
        ("db/migrations/0001_shop.down.sql", "DROP TABLE orders, customers;\n".to_string()),
        (
            "db/migrations/0002_purge.up.sql",
            format!("{ADD}\nDELETE FROM orders WHERE customer_id = 3 AND note IS NULL;\n"),
        ),
        ("db/migrations/0002_purge.down.sql", "ALTER TABLE orders DROP COLUMN country;\n".to_string()),
    ];
    check_case(&Case {
        name: "backfill_golang",
        files: &refs(&files),
        rel: "db/migrations/0002_purge.up.sql",
        rule: "backfill-in-schema-migration",
        title: "Move the DELETE from `orders` to a new migration 0003_backfill_orders.up.sql, in batches of 5000 rows by id, each committed",
        safety: Safety::Unsafe,
    });

    // Prisma: an UPDATE … FROM is moved unchanged (safe: nothing after it names the table).
    let files = [
        ("prisma/migrations/migration_lock.toml", "provider = \"postgresql\"\n".to_string()),
        ("prisma/migrations/20240101000000_shop/migration.sql", SHOP.to_string()),
        (
            "prisma/migrations/20240102000000_names/migration.sql",
            format!("{ADD}\nUPDATE orders SET country = c.name FROM customers c WHERE c.id = orders.customer_id;\n"),
        ),
    ];
    check_case(&Case {
        name: "backfill_prisma",
        files: &refs(&files),
        rel: "prisma/migrations/20240102000000_names/migration.sql",
        rule: "backfill-in-schema-migration",
        title: "Move the UPDATE of `orders` unchanged to a new migration 20240102000001_backfill_orders/migration.sql",
        safety: Safety::Safe,
    });

    // Plain files run statement by statement: the loop stays in place and commits per round.
    let files =
        [("migrations/001_shop.sql", SHOP.to_string()), ("migrations/002_country.sql", format!("{ADD}\n{UPDATE}\n"))];
    check_case(&Case {
        name: "backfill_plain",
        files: &refs(&files),
        rel: "migrations/002_country.sql",
        rule: "backfill-in-schema-migration",
        title: "Run the UPDATE of `orders` in batches of 5000 rows by id, each committed",
        safety: Safety::Unsafe,
    });

    // An explicit block: the loop goes after its COMMIT.
    let files = [
        ("migrations/001_shop.sql", SHOP.to_string()),
        (
            "migrations/002_country.sql",
            format!("BEGIN;\n{ADD}\n{UPDATE}\nCREATE INDEX i ON customers (name);\nCOMMIT;\n"),
        ),
    ];
    check_case(&Case {
        name: "backfill_explicit",
        files: &refs(&files),
        rel: "migrations/002_country.sql",
        rule: "backfill-in-schema-migration",
        title: "Move the UPDATE of `orders` after the COMMIT, in batches of 5000 rows by id, each committed",
        safety: Safety::Unsafe,
    });
}

#[test]
fn unbatched_backfills_become_the_loop() {
    // Alone in a goose migration: the loop in place, with the opt-out.
    let files = [
        ("db/migrations/00001_shop.sql", goose(SHOP)),
        ("db/migrations/00002_notes.sql", goose("UPDATE orders SET note = 'none' WHERE note IS NULL;")),
    ];
    let fixed = check_case(&Case {
        name: "unbatched_goose",
        files: &refs(&files),
        rel: "db/migrations/00002_notes.sql",
        rule: "unbatched-backfill",
        title: "Run the UPDATE of `orders` in batches of 5000 rows by id, each committed, outside the migration's transaction: add `-- +goose NO TRANSACTION`",
        safety: Safety::Unsafe,
    });
    let text = std::fs::read_to_string(fixed.path().join("db/migrations/00002_notes.sql")).expect("fixed");
    assert!(text.contains("-- +goose StatementBegin\nDO $safemig$"), "{text}");

    // sqlx sends the file as one query string: after `-- no-transaction` the loop alone in it
    // commits per round.
    let files = [
        ("Cargo.toml", "[package]\nname = \"x\"\n".to_string()),
        ("migrations/1_shop.sql", SHOP.to_string()),
        ("migrations/2_notes.sql", "UPDATE orders SET note = 'none' WHERE note IS NULL;\n".to_string()),
    ];
    let fixed = check_case(&Case {
        name: "unbatched_sqlx",
        files: &refs(&files),
        rel: "migrations/2_notes.sql",
        rule: "unbatched-backfill",
        title: "Run the UPDATE of `orders` in batches of 5000 rows by id, each committed, outside the migration's transaction: start the file with `-- no-transaction`",
        safety: Safety::Unsafe,
    });
    let text = std::fs::read_to_string(fixed.path().join("migrations/2_notes.sql")).expect("fixed");
    assert!(text.starts_with("-- no-transaction\nDO $safemig$") && text.contains("COMMIT;"), "{text}");

    // A golang-migrate file holding only the statement runs outside a transaction already.
    let files = [
        ("db/migrations/0001_shop.up.sql", SHOP.to_string()),
        ("db/migrations/0002_purge.up.sql", "DELETE FROM orders WHERE note IS NULL;\n".to_string()),
    ];
    check_case(&Case {
        name: "unbatched_golang",
        files: &refs(&files),
        rel: "db/migrations/0002_purge.up.sql",
        rule: "unbatched-backfill",
        title: "Run the DELETE from `orders` in batches of 5000 rows by id, each committed",
        safety: Safety::Unsafe,
    });

    // With other statements in a golang-migrate file: a new migration of its own.
    let files = [
        ("db/migrations/0001_shop.up.sql", SHOP.to_string()),
        (
            "db/migrations/0002_notes.up.sql",
            "INSERT INTO customers VALUES (10, 'ten');\nUPDATE orders SET note = upper(note);\n".to_string(),
        ),
    ];
    check_case(&Case {
        name: "unbatched_golang_moved",
        files: &refs(&files),
        rel: "db/migrations/0002_notes.up.sql",
        rule: "unbatched-backfill",
        title: "Move the UPDATE of `orders` to a new migration 0003_backfill_orders.up.sql, in batches",
        safety: Safety::Unsafe,
    });
}

/// The committing loop releases each round's row locks when the round ends: with a row of the
/// second round held by another session, the loop waits there, and a row of the first round can
/// be written meanwhile (it could not if the whole change were one transaction). The same
/// probe, run on the original statement, sees the write time out.
#[test]
fn the_committing_loop_releases_each_round() {
    let files = [
        ("migrations/001_shop.sql", SHOP.to_string()),
        ("migrations/002_notes.sql", "UPDATE orders SET note = 'x';\n".to_string()),
    ];
    let root = workspace(&refs(&files));
    let fix = fixes_for(root.path(), "migrations/002_notes.sql", "unbatched-backfill");
    let fix = fix.first().expect("a fix");
    write_fix(root.path(), "migrations/002_notes.sql", fix);
    let looped = std::fs::read_to_string(root.path().join("migrations/002_notes.sql")).expect("fixed");
    assert!(looped.starts_with("DO $safemig$") && looped.contains("COMMIT;"), "{looped}");

    let db = TestDb::with("fix_rounds", SHOP);
    let probe = probe_rounds(&db, &looped);
    assert_eq!(probe, Ok(()), "a row of the first round stays locked while the loop waits in the second");
    assert_eq!(count(&db, "SELECT count(*) FROM orders WHERE note = 'x'"), 12_000, "the loop changed every row");

    let db = TestDb::with("fix_rounds", SHOP);
    let original = probe_rounds(&db, "UPDATE orders SET note = 'x';");
    assert!(original.as_ref().is_err_and(|e| e.contains("lock timeout")), "{original:?}");
}

fn count(db: &TestDb, sql: &str) -> i64 {
    db.sync().query_one(sql, &[]).expect("count").get(0)
}

/// Holds row 7000 (second round) in another session, runs `sql` outside a transaction until it
/// waits for that row, then writes row 1 (first round) under a 2 s lock_timeout; releases row
/// 7000 and lets `sql` finish. Returns how the write went.
fn probe_rounds(db: &TestDb, sql: &str) -> Result<(), String> {
    let mut holder = db.sync();
    let mut watcher = db.sync();
    holder.batch_execute("BEGIN; SELECT 1 FROM orders WHERE id = 7000 FOR UPDATE").expect("hold a row");
    let holder_pid: i32 = holder.query_one("SELECT pg_backend_pid()", &[]).expect("pid").get(0);
    let blocked_by_holder = |watcher: &mut postgres::Client, pid: i32| -> bool {
        watcher
            .query_one("SELECT $2 = ANY(pg_blocking_pids($1))", &[&pid, &holder_pid])
            .expect("pg_blocking_pids")
            .get(0)
    };
    let Stalled { running, .. } = stall(db, &mut holder, &mut watcher, sql, &blocked_by_holder);
    let mut writer = db.sync();
    let write = writer
        .batch_execute("SET lock_timeout = '2s'; UPDATE orders SET customer_id = 99 WHERE id = 1")
        .map_err(|e| message(&e));
    holder.batch_execute("COMMIT").expect("release the row");
    running.join().expect("the statement's thread").unwrap_or_else(|e| panic!("`{sql}` failed: {e}"));
    write
}

// ---- type hints -------------------------------------------------------------------------------

/// Applies the type fix of `rule` to a migration creating a table, and checks that the rewritten
/// set builds the same catalog except for exactly `expected` (lines of the original's catalog →
/// lines of the rewritten one).
fn check_type(name: &str, create: &str, rule: &str, expected: &[(&str, &str)]) {
    let files = [
        ("migrations/001_base.sql", "CREATE TABLE keep (id bigint PRIMARY KEY);\n"),
        ("migrations/002_new.sql", create),
    ];
    let original = workspace(&files);
    let fixed = tempfile::tempdir().expect("temp dir");
    copy_tree(original.path(), fixed.path());
    let before = all_findings(fixed.path());
    let offered = fixes_for(fixed.path(), "migrations/002_new.sql", rule);
    let [fix] = offered.as_slice() else { panic!("{name}: {offered:#?}") };
    assert!(fix.preferred && fix.safety == Safety::Unsafe, "{name}: {fix:#?}");
    write_fix(fixed.path(), "migrations/002_new.sql", fix);
    let after = all_findings(fixed.path());
    assert!(!after.iter().any(|(_, r)| r == rule), "{name}: {rule} still fires: {after:?}");
    let new: Vec<_> = after.iter().filter(|(_, r)| !before.iter().any(|(_, b)| b == r)).collect();
    assert!(new.is_empty(), "{name}: new findings after the fix: {new:?}");
    let a = TestDb::new(&format!("fix_{name}"));
    let b = TestDb::new(&format!("fix_{name}"));
    apply_set(&a, original.path()).unwrap_or_else(|e| panic!("{name}: the original fails: {e}"));
    apply_set(&b, fixed.path()).unwrap_or_else(|e| panic!("{name}: the rewritten set fails: {e}"));
    let mut diff = differences(&a, &b);
    diff.sort();
    let mut want: Vec<String> = expected
        .iter()
        .flat_map(|(o, r)| [format!("catalog, original only: {o}"), format!("catalog, rewritten only: {r}")])
        .collect();
    want.sort();
    assert_eq!(diff, want, "{name}: the rewritten table differs by more (or less) than its type");
}

#[test]
fn type_hints_change_exactly_the_type() {
    check_type(
        "bigint",
        "CREATE TABLE a (id integer PRIMARY KEY, n text);\n",
        "prefer-bigint",
        &[(
            "column public.a.id pos=1 type=integer notnull=t default=- identity= generated=",
            "column public.a.id pos=1 type=bigint notnull=t default=- identity= generated=",
        )],
    );
    check_type(
        "identity",
        "CREATE TABLE a (id bigserial PRIMARY KEY, n text);\n",
        "prefer-identity",
        &[(
            "column public.a.id pos=1 type=bigint notnull=t default=nextval('a_id_seq'::regclass) identity= generated=",
            "column public.a.id pos=1 type=bigint notnull=t default=- identity=d generated=",
        )],
    );
    check_type(
        "timestamptz",
        "CREATE TABLE e (id bigint PRIMARY KEY, at timestamp(3) without time zone NOT NULL);\n",
        "prefer-timestamptz",
        &[(
            "column public.e.at pos=2 type=timestamp(3) without time zone notnull=t default=- identity= generated=",
            "column public.e.at pos=2 type=timestamp(3) with time zone notnull=t default=- identity= generated=",
        )],
    );
    check_type(
        "text",
        "CREATE TABLE u (id bigint PRIMARY KEY, name varchar(80) NOT NULL DEFAULT '');\n",
        "prefer-text",
        &[(
            "column public.u.name pos=2 type=character varying(80) notnull=t default=''::character varying identity= generated=",
            "column public.u.name pos=2 type=text notnull=t default=''::text identity= generated=",
        )],
    );
    check_type(
        "jsonb",
        "CREATE TABLE d (id bigint PRIMARY KEY, body json);\n",
        "prefer-jsonb",
        &[(
            "column public.d.body pos=2 type=json notnull=f default=- identity= generated=",
            "column public.d.body pos=2 type=jsonb notnull=f default=- identity= generated=",
        )],
    );
    check_type(
        "char",
        "CREATE TABLE c (id bigint PRIMARY KEY, code char(2));\n",
        "ban-char",
        &[(
            "column public.c.code pos=2 type=character(2) notnull=f default=- identity= generated=",
            "column public.c.code pos=2 type=text notnull=f default=- identity= generated=",
        )],
    );
}
