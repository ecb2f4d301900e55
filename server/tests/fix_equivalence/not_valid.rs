//! `NOT VALID` constraints, `SET NOT NULL` through a validated check, and `lock_timeout`.

use super::*;

/// Customers and their orders, every row valid for the constraints below, `note` never NULL.
const SHOP: &str = "CREATE TABLE customers (id bigint PRIMARY KEY, name text);
INSERT INTO customers SELECT g, 'c' || g FROM generate_series(0, 9) g;
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, total numeric NOT NULL DEFAULT 0, note text);
INSERT INTO orders SELECT g, g % 7, g * 1.5, 'n' || g FROM generate_series(1, 500) g;
";

const CHECK: &str = "ALTER TABLE orders ADD CONSTRAINT orders_total_check CHECK (total >= 0);";
const FOREIGN: &str =
    "ALTER TABLE orders ADD CONSTRAINT orders_customer_fkey FOREIGN KEY (customer_id) REFERENCES customers (id);";
const NOT_NULL: &str = "ALTER TABLE orders ALTER COLUMN note SET NOT NULL;";

/// The rewritten statements of the set in `root` (from migration 1 on) scan `orders` under
/// no write-blocking lock and rewrite nothing; the original statement would have.
fn probe_rewritten(name: &str, root: &Path, original: &str) {
    let db = TestDb::with(&format!("fix_{name}"), "");
    let probed = probe_set(&db, root, 1, "orders");
    let before = probed.first().map(|p| p.filenode).unwrap_or_default();
    assert!(probed.iter().any(|p| p.scanned), "nothing scanned orders: {probed:#?}");
    assert_no_blocking_scan(&probed, "orders", before);
    // The same probe catches the original.
    let db = TestDb::with(&format!("fix_{name}"), SHOP);
    let original = probe_in_transaction(&db, "orders", &[original.to_string()]);
    let caught = std::panic::catch_unwind(|| assert_no_blocking_scan(&original, "orders", before));
    assert!(caught.is_err(), "the original `{}` passes the probe: {original:#?}", original[0].sql);
}

#[test]
fn not_valid_constraints() {
    let plain = check_case(&Case {
        name: "check_plain",
        files: &[("migrations/001_shop.sql", SHOP), ("migrations/002_check.sql", &format!("{CHECK}\n"))],
        rel: "migrations/002_check.sql",
        rule: "constraint-validated-on-add",
        title: "Add `orders_total_check` NOT VALID and VALIDATE it right after it",
        safety: Safety::Safe,
    });
    probe_rewritten("check_plain", plain.path(), CHECK);

    let explicit = format!("BEGIN;\n{FOREIGN}\nALTER TABLE orders ADD COLUMN paid boolean;\nCOMMIT;\n");
    let block = check_case(&Case {
        name: "fk_explicit",
        files: &[("migrations/001_shop.sql", SHOP), ("migrations/002_fk.sql", &explicit)],
        rel: "migrations/002_fk.sql",
        rule: "constraint-validated-on-add",
        title: "Add `orders_customer_fkey` NOT VALID and VALIDATE it after the COMMIT",
        safety: Safety::Safe,
    });
    probe_rewritten("fk_explicit", block.path(), FOREIGN);

    let wrapped = goose(&format!("SET lock_timeout = '3s';\n{FOREIGN}"));
    let goose_fk = check_case(&Case {
        name: "fk_goose",
        files: &[("db/migrations/00001_shop.sql", &goose(SHOP)), ("db/migrations/00002_fk.sql", &wrapped)],
        rel: "db/migrations/00002_fk.sql",
        rule: "constraint-validated-on-add",
        title: "Add `orders_customer_fkey` NOT VALID and VALIDATE it in a new migration 00003_validate_orders_customer_fkey.sql",
        safety: Safety::Safe,
    });
    probe_rewritten("fk_goose", goose_fk.path(), FOREIGN);

    let batch = check_case(&Case {
        name: "check_golang",
        files: &[
            ("db/migrations/0001_shop.up.sql", SHOP),
            ("db/migrations/0002_check.up.sql", &format!("{CHECK}\nALTER TABLE orders ADD COLUMN paid boolean;\n")),
        ],
        rel: "db/migrations/0002_check.up.sql",
        rule: "constraint-validated-on-add",
        title: "Add `orders_total_check` NOT VALID and VALIDATE it in a new migration 0003_validate_orders_total_check.up.sql",
        safety: Safety::Safe,
    });
    probe_rewritten("check_golang", batch.path(), CHECK);
}

/// `NOT VALID` skips the scan: the add succeeds over a row that breaks the check, which the
/// original statement refuses.
#[test]
fn not_valid_does_not_look_at_existing_rows() {
    let db = TestDb::with("fix_not_valid_rows", SHOP);
    let mut c = db.sync();
    c.batch_execute("INSERT INTO orders VALUES (9999, 1, -5, 'refund')").expect("a negative row");
    let err = c.batch_execute(CHECK).expect_err("validated on add");
    assert!(message(&err).contains("is violated by some row"), "{}", message(&err));
    c.batch_execute(&CHECK.replace(';', " NOT VALID;")).expect("NOT VALID adds without a scan");
}

#[test]
fn set_not_null_through_a_validated_check() {
    let plain = check_case(&Case {
        name: "nn_plain",
        files: &[("migrations/001_shop.sql", SHOP), ("migrations/002_nn.sql", &format!("{NOT_NULL}\n"))],
        rel: "migrations/002_nn.sql",
        rule: "set-not-null-scan",
        title: "Enforce NOT NULL through a validated CHECK: add it NOT VALID here, VALIDATE it, SET NOT NULL and drop it right after it",
        safety: Safety::Safe,
    });
    probe_rewritten("nn_plain", plain.path(), NOT_NULL);

    let goose_nn = check_case(&Case {
        name: "nn_goose",
        files: &[("db/migrations/00001_shop.sql", &goose(SHOP)), ("db/migrations/00002_nn.sql", &goose(NOT_NULL))],
        rel: "db/migrations/00002_nn.sql",
        rule: "set-not-null-scan",
        title: "Enforce NOT NULL through a validated CHECK: add it NOT VALID here, VALIDATE it, SET NOT NULL and drop it in a new migration 00003_orders_note_not_null.sql",
        safety: Safety::Safe,
    });
    probe_rewritten("nn_goose", goose_nn.path(), NOT_NULL);

    let prisma = check_case(&Case {
        name: "nn_prisma",
        files: &[
            ("prisma/migrations/migration_lock.toml", "provider = \"postgresql\"\n"),
            ("prisma/migrations/20240101000000_init/migration.sql", SHOP),
            ("prisma/migrations/20240102000000_nn/migration.sql", &format!("{NOT_NULL}\n")),
        ],
        rel: "prisma/migrations/20240102000000_nn/migration.sql",
        rule: "set-not-null-scan",
        title: "Enforce NOT NULL through a validated CHECK",
        safety: Safety::Safe,
    });
    probe_rewritten("nn_prisma", prisma.path(), NOT_NULL);
}

/// The inserted lock_timeout holds in the statement's transaction: behind a reader that keeps
/// the table, the rewritten migration fails with a lock timeout instead of queueing.
fn assert_times_out(name: &str, root: &Path) {
    let db = TestDb::with(&format!("fix_{name}"), "");
    let all = steps(root);
    let mut client = db.sync();
    apply(&mut client, &all[0].text, all[0].run).expect("seed");
    let mut reader = db.sync();
    reader.batch_execute("BEGIN; SELECT count(*) FROM orders").expect("a long reader");
    let err = apply(&mut client, &all[1].text, all[1].run).expect_err("the ALTER waits for the reader");
    assert!(err.contains("lock timeout"), "{err}");
    reader.batch_execute("ROLLBACK").expect("end the reader");
}

#[test]
fn lock_timeout_set_and_set_local() {
    let alter = "ALTER TABLE orders ADD COLUMN paid boolean;";
    let plain = check_case(&Case {
        name: "lt_plain",
        files: &[("migrations/001_shop.sql", SHOP), ("migrations/002_paid.sql", &format!("{alter}\n"))],
        rel: "migrations/002_paid.sql",
        rule: "lock-timeout-missing",
        title: "Insert `SET lock_timeout = '5s';` before this statement",
        safety: Safety::Safe,
    });
    assert_times_out("lt_plain", plain.path());
    let wrapped = check_case(&Case {
        name: "lt_goose",
        files: &[("db/migrations/00001_shop.sql", &goose(SHOP)), ("db/migrations/00002_paid.sql", &goose(alter))],
        rel: "db/migrations/00002_paid.sql",
        rule: "lock-timeout-missing",
        title: "Insert `SET LOCAL lock_timeout = '5s';` before this statement (it ends with the transaction)",
        safety: Safety::Safe,
    });
    assert_times_out("lt_goose", wrapped.path());
}

/// `validate-in-same-transaction`: the VALIDATE leaves the add's transaction, so the scan runs
/// without the add's ACCESS EXCLUSIVE lock (which the probe catches in the original).
#[test]
fn validate_moves_out_of_the_adds_transaction() {
    let added = CHECK.replace(';', " NOT VALID;");
    let validate = "ALTER TABLE orders VALIDATE CONSTRAINT orders_total_check;";
    let block = format!("BEGIN;\n{added}\n{validate}\nCOMMIT;\n");
    let explicit = check_case(&Case {
        name: "validate_explicit",
        files: &[("migrations/001_shop.sql", SHOP), ("migrations/002_check.sql", &block)],
        rel: "migrations/002_check.sql",
        rule: "validate-in-same-transaction",
        title: "Move the VALIDATE of `orders_total_check` after the COMMIT",
        safety: Safety::Safe,
    });
    probe_rewritten("validate_explicit", explicit.path(), &format!("{added}\n{validate}"));
    let goose_set = check_case(&Case {
        name: "validate_goose",
        files: &[
            ("db/migrations/00001_shop.sql", &goose(SHOP)),
            ("db/migrations/00002_check.sql", &goose(&format!("{added}\n{validate}"))),
        ],
        rel: "db/migrations/00002_check.sql",
        rule: "validate-in-same-transaction",
        title: "Move the VALIDATE of `orders_total_check` in a new migration 00003_validate_orders_total_check.sql",
        safety: Safety::Safe,
    });
    probe_rewritten("validate_goose", goose_set.path(), &format!("{added}\n{validate}"));
}
