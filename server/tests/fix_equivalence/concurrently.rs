//! `CONCURRENTLY` fixes for index builds, drops and rebuilds, in every framework's transaction opt-out.

use super::*;

/// The seed every CONCURRENTLY case starts from: a table with rows and an index.
const ORDERS: &str = "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, note text);
INSERT INTO orders SELECT g, g % 7, 'n' || g FROM generate_series(1, 500) g;
CREATE INDEX orders_note_idx ON orders (note);
";

const BUILD: &str = "CREATE INDEX orders_customer_idx ON orders (customer_id);";
const DROP: &str = "DROP INDEX orders_note_idx;";
const REBUILD: &str = "REINDEX INDEX orders_note_idx;";
const OTHER: &str = "ALTER TABLE orders ADD COLUMN shipped boolean;";

/// The statement with CONCURRENTLY in the rewritten set.
fn concurrent_statement(root: &Path) -> String {
    steps(root)
        .iter()
        .flat_map(|s| statements(&s.text))
        .find(|s| s.contains("CONCURRENTLY"))
        .unwrap_or_else(|| panic!("no CONCURRENTLY statement in {:?}", steps(root)))
}

/// The concurrent statement of the fixed set lets writes through, holds no write-blocking lock
/// and rewrites nothing.
fn probe_fixed(name: &str, root: &Path) {
    let sql = concurrent_statement(root);
    let db = TestDb::with(&format!("fix_{name}"), ORDERS);
    let probe = probe_concurrent(&db, "orders", &sql, "INSERT INTO orders VALUES (100000, 1, 'during')");
    assert_writes_continue(&probe, "orders");
    assert_eq!(probe.filenode_before, probe.filenode_after, "{sql} rewrote the table");
}

#[test]
fn concurrently_plain_and_explicit_blocks() {
    let explicit = format!("BEGIN;\n{OTHER}\n{BUILD}\nCOMMIT;\n");
    for (name, file, title) in [
        ("plain", format!("{BUILD}\n"), "Use CREATE INDEX CONCURRENTLY (writes continue"),
        ("explicit", explicit, "Use CREATE INDEX CONCURRENTLY, after the COMMIT"),
    ] {
        let fixed = check_case(&Case {
            name,
            files: &[("migrations/001_orders.sql", ORDERS), ("migrations/002_index.sql", &file)],
            rel: "migrations/002_index.sql",
            rule: "create-index-blocking",
            title,
            safety: Safety::Safe,
        });
        probe_fixed(name, fixed.path());
    }
}

#[test]
fn concurrently_goose() {
    let alone = check_case(&Case {
        name: "goose_alone",
        files: &[("db/migrations/00001_orders.sql", &goose(ORDERS)), ("db/migrations/00002_index.sql", &goose(BUILD))],
        rel: "db/migrations/00002_index.sql",
        rule: "create-index-blocking",
        title: "Use CREATE INDEX CONCURRENTLY, outside the migration's transaction: add `-- +goose NO TRANSACTION`",
        safety: Safety::Safe,
    });
    probe_fixed("goose_alone", alone.path());
    let with_other = goose(&format!("{OTHER}\n{DROP}"));
    for (title, safety) in [
        ("Use DROP INDEX CONCURRENTLY, in a new migration 00003_drop_index_orders_note_idx.sql", Safety::Safe),
        ("Use DROP INDEX CONCURRENTLY, with the whole migration outside its transaction", Safety::Unsafe),
    ] {
        let fixed = check_case(&Case {
            name: "goose_other",
            files: &[("db/migrations/00001_orders.sql", &goose(ORDERS)), ("db/migrations/00002_drop.sql", &with_other)],
            rel: "db/migrations/00002_drop.sql",
            rule: "drop-index-blocking",
            title,
            safety,
        });
        probe_fixed("goose_other", fixed.path());
    }
}

#[test]
fn concurrently_sqlx_atlas_dbmate() {
    let cargo = ("Cargo.toml", "[package]\nname = \"x\"\n");
    let sqlx_alone = check_case(&Case {
        name: "sqlx_alone",
        files: &[cargo, ("migrations/1_orders.sql", ORDERS), ("migrations/2_drop.sql", DROP)],
        rel: "migrations/2_drop.sql",
        rule: "drop-index-blocking",
        title:
            "Use DROP INDEX CONCURRENTLY, outside the migration's transaction: start the file with `-- no-transaction`",
        safety: Safety::Safe,
    });
    probe_fixed("sqlx_alone", sqlx_alone.path());
    let other = format!("{OTHER}\n{REBUILD}\n");
    let sqlx_other = check_case(&Case {
        name: "sqlx_other",
        files: &[cargo, ("migrations/1_orders.sql", ORDERS), ("migrations/2_reindex.sql", &other)],
        rel: "migrations/2_reindex.sql",
        rule: "reindex-blocking",
        title: "Use REINDEX INDEX CONCURRENTLY, in a new migration 3_reindex_orders_note_idx.sql",
        safety: Safety::Safe,
    });
    probe_fixed("sqlx_other", sqlx_other.path());

    let sum = ("migrations/atlas.sum", "h1:x=\n");
    let atlas = check_case(&Case {
        name: "atlas",
        files: &[
            sum,
            ("migrations/20240101000000_orders.sql", ORDERS),
            ("migrations/20240102000000_reindex.sql", REBUILD),
        ],
        rel: "migrations/20240102000000_reindex.sql",
        rule: "reindex-blocking",
        title: "Use REINDEX INDEX CONCURRENTLY, outside the migration's transaction: add `-- atlas:txmode none`",
        safety: Safety::Safe,
    });
    probe_fixed("atlas", atlas.path());

    let dbmate_alone = check_case(&Case {
        name: "dbmate",
        files: &[
            ("db/migrations/20240101000000_orders.sql", &dbmate(ORDERS)),
            ("db/migrations/20240102000000_index.sql", &dbmate(BUILD)),
        ],
        rel: "db/migrations/20240102000000_index.sql",
        rule: "create-index-blocking",
        title: "Use CREATE INDEX CONCURRENTLY, outside the migration's transaction: write the directive as `-- migrate:up transaction:false`",
        safety: Safety::Safe,
    });
    probe_fixed("dbmate", dbmate_alone.path());
    let dbmate_other = check_case(&Case {
        name: "dbmate_other",
        files: &[
            ("db/migrations/20240101000000_orders.sql", &dbmate(ORDERS)),
            ("db/migrations/20240102000000_index.sql", &dbmate(&format!("{BUILD}\n{OTHER}"))),
        ],
        rel: "db/migrations/20240102000000_index.sql",
        rule: "create-index-blocking",
        title: "Use CREATE INDEX CONCURRENTLY, in a new migration 20240102000001_create_index_orders_customer_idx.sql",
        // The build moves past a later ALTER TABLE of the same table.
        safety: Safety::Unsafe,
    });
    probe_fixed("dbmate_other", dbmate_other.path());
}

#[test]
fn concurrently_flyway_and_diesel() {
    let flyway = check_case(&Case {
        name: "flyway",
        files: &[("db/migration/V1__orders.sql", ORDERS), ("db/migration/V2__index.sql", BUILD)],
        rel: "db/migration/V2__index.sql",
        rule: "create-index-blocking",
        title: "Use CREATE INDEX CONCURRENTLY, outside the migration's transaction: set `executeInTransaction=false` in V2__index.sql.conf",
        safety: Safety::Safe,
    });
    assert!(flyway.path().join("db/migration/V2__index.sql.conf").exists());
    probe_fixed("flyway", flyway.path());
    let conf = check_case(&Case {
        name: "flyway_conf",
        files: &[
            ("db/migration/V1__orders.sql", ORDERS),
            ("db/migration/V2__drop.sql", DROP),
            ("db/migration/V2__drop.sql.conf", "executeInTransaction=true\n"),
        ],
        rel: "db/migration/V2__drop.sql",
        rule: "drop-index-blocking",
        title: "Use DROP INDEX CONCURRENTLY, outside the migration's transaction",
        safety: Safety::Safe,
    });
    probe_fixed("flyway_conf", conf.path());

    let diesel = check_case(&Case {
        name: "diesel",
        files: &[
            ("migrations/2024-01-01-000000_orders/up.sql", ORDERS),
            ("migrations/2024-01-02-000000_index/up.sql", BUILD),
            ("migrations/2024-01-02-000000_index/down.sql", "DROP INDEX orders_customer_idx;\n"),
        ],
        rel: "migrations/2024-01-02-000000_index/up.sql",
        rule: "create-index-blocking",
        title: "Use CREATE INDEX CONCURRENTLY, outside the migration's transaction: set `run_in_transaction = false` in metadata.toml",
        safety: Safety::Safe,
    });
    probe_fixed("diesel", diesel.path());
    let existing = check_case(&Case {
        name: "diesel_metadata",
        files: &[
            ("migrations/2024-01-01-000000_orders/up.sql", ORDERS),
            ("migrations/2024-01-02-000000_index/up.sql", REBUILD),
            ("migrations/2024-01-02-000000_index/metadata.toml", "run_in_transaction = true\n"),
        ],
        rel: "migrations/2024-01-02-000000_index/up.sql",
        rule: "reindex-blocking",
        title: "Use REINDEX INDEX CONCURRENTLY, outside the migration's transaction",
        safety: Safety::Safe,
    });
    let metadata = std::fs::read_to_string(existing.path().join("migrations/2024-01-02-000000_index/metadata.toml"))
        .expect("metadata.toml");
    assert_eq!(metadata, "run_in_transaction = false\n");
    probe_fixed("diesel_metadata", existing.path());
}

#[test]
fn concurrently_one_query_string_runners() {
    let other = format!("{OTHER}\n{BUILD}\n");
    let go = check_case(&Case {
        name: "golang_migrate",
        files: &[("db/migrations/0001_orders.up.sql", ORDERS), ("db/migrations/0002_index.up.sql", &other)],
        rel: "db/migrations/0002_index.up.sql",
        rule: "create-index-blocking",
        title: "Use CREATE INDEX CONCURRENTLY, in a new migration 0003_create_index_orders_customer_idx.up.sql",
        safety: Safety::Safe,
    });
    probe_fixed("golang_migrate", go.path());
    let prisma = check_case(&Case {
        name: "prisma",
        files: &[
            ("prisma/migrations/migration_lock.toml", "provider = \"postgresql\"\n"),
            ("prisma/migrations/20240101000000_init/migration.sql", ORDERS),
            ("prisma/migrations/20240102000000_index/migration.sql", &format!("{DROP}\n{OTHER}\n")),
        ],
        rel: "prisma/migrations/20240102000000_index/migration.sql",
        rule: "drop-index-blocking",
        title:
            "Use DROP INDEX CONCURRENTLY, in a new migration 20240102000001_drop_index_orders_note_idx/migration.sql",
        safety: Safety::Safe,
    });
    probe_fixed("prisma", prisma.path());
}

/// `concurrently-in-transaction`: the original fails ("cannot run inside a transaction block"),
/// so the rewritten set is compared with the set that builds the same index without the keyword.
#[test]
fn concurrent_statements_leave_the_transaction() {
    let concurrent = BUILD.replace("INDEX", "INDEX CONCURRENTLY");
    for (name, files, reference, rel, title) in [
        (
            "cit_goose",
            vec![
                ("db/migrations/00001_orders.sql", goose(ORDERS)),
                ("db/migrations/00002_index.sql", goose(&concurrent)),
            ],
            vec![("db/migrations/00001_orders.sql", goose(ORDERS)), ("db/migrations/00002_index.sql", goose(BUILD))],
            "db/migrations/00002_index.sql",
            "Run it outside a transaction block, outside the migration's transaction: add `-- +goose NO TRANSACTION`",
        ),
        (
            "cit_explicit",
            vec![
                ("migrations/001_orders.sql", ORDERS.to_string()),
                ("migrations/002_index.sql", format!("BEGIN;\n{OTHER}\n{concurrent}\nCOMMIT;\n")),
            ],
            vec![
                ("migrations/001_orders.sql", ORDERS.to_string()),
                ("migrations/002_index.sql", format!("BEGIN;\n{OTHER}\n{BUILD}\nCOMMIT;\n")),
            ],
            "migrations/002_index.sql",
            "Run it outside a transaction block, after the COMMIT",
        ),
        (
            "cit_golang",
            vec![
                ("db/migrations/0001_orders.up.sql", ORDERS.to_string()),
                ("db/migrations/0002_index.up.sql", format!("{OTHER}\n{concurrent}\n")),
            ],
            vec![
                ("db/migrations/0001_orders.up.sql", ORDERS.to_string()),
                ("db/migrations/0002_index.up.sql", format!("{OTHER}\n{BUILD}\n")),
            ],
            "db/migrations/0002_index.up.sql",
            "Run it outside a transaction block, in a new migration 0003_create_index_orders_customer_idx.up.sql",
        ),
    ] {
        let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
        let reference: Vec<(&str, &str)> = reference.iter().map(|(p, t)| (*p, t.as_str())).collect();
        let original = workspace(&files);
        let db = TestDb::new(&format!("fix_{name}_orig"));
        let err = apply_set(&db, original.path()).expect_err("the original fails");
        assert!(err.contains("cannot run inside a transaction block"), "{name}: {err}");
        let fixed = check_case_with(
            &Case { name, files: &files, rel, rule: "concurrently-in-transaction", title, safety: Safety::Safe },
            &reference,
            &|a, b| differences(a, b),
        );
        probe_fixed(name, fixed.path());
    }
}
