//! UNIQUE / PRIMARY KEY constraints built from a concurrent index build, and the index a
//! foreign key needs, built before it.

use super::*;

/// Users with unique emails, events without a primary key (ids unique, the column nullable),
/// customers and their orders (no index on `orders.customer_id`).
const SHOP: &str = "CREATE TABLE users (id bigint NOT NULL, org_id bigint, email text, note text);
INSERT INTO users SELECT g, g % 5, 'u' || g || '@example.com', 'n' || g FROM generate_series(1, 500) g;
CREATE TABLE events (id bigint, kind text);
INSERT INTO events SELECT g, 'k' || (g % 3) FROM generate_series(1, 500) g;
CREATE TABLE customers (id bigint PRIMARY KEY, name text);
INSERT INTO customers SELECT g, 'c' || g FROM generate_series(0, 9) g;
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, note text);
INSERT INTO orders SELECT g, g % 7, 'n' || g FROM generate_series(1, 500) g;
";

const EMAIL: &str = "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);";
const ORG_EMAIL: &str = "ALTER TABLE users ADD UNIQUE (org_id, email);";
const PK: &str = "ALTER TABLE events ADD PRIMARY KEY (id);";
const OTHER: &str = "ALTER TABLE customers ADD COLUMN vip boolean;";

/// The statements of the set in `root` after its first migration, as they run: concurrent ones
/// outside any transaction (not probed: `probe_concurrent` is for them), every other one probed
/// in a transaction of its own. Transaction control is skipped.
fn probe_after_seed(db: &TestDb, root: &Path, table: &str) -> Vec<Probed> {
    let all = steps(root);
    let mut client = db.sync();
    apply(&mut client, &all[0].text, all[0].run).expect("the seed migration");
    let pid: i32 = client.query_one("SELECT pg_backend_pid()", &[]).expect("pid").get(0);
    let mut out = Vec::new();
    for sql in all[1..].iter().flat_map(|s| statements(&s.text)) {
        let head = sql.trim_start().to_ascii_uppercase();
        if head.starts_with("BEGIN") || head.starts_with("COMMIT") {
            continue;
        }
        if head.contains("CONCURRENTLY") {
            client.batch_execute(&sql).unwrap_or_else(|e| panic!("{sql}: {}", message(&e)));
            continue;
        }
        client.batch_execute("BEGIN").expect("begin");
        out.push(probe_one(&mut client, pid, table, &sql));
        client.batch_execute("COMMIT").expect("commit");
    }
    out
}

/// The concurrent build of the fixed set lets writes through; the `USING INDEX` step takes its
/// ACCESS EXCLUSIVE lock without scanning, and nothing scans `table` under a lock that blocks
/// writes or rewrites it.
fn probe_fixed(name: &str, root: &Path, table: &str, write: &str) {
    probe_fixed_after(name, root, table, write, "");
}

/// [`probe_fixed`], the concurrent build probed on the seed plus `before` (what the fixed set
/// runs before the build, e.g. the column it indexes).
fn probe_fixed_after(name: &str, root: &Path, table: &str, write: &str, before: &str) {
    let build = steps(root)
        .iter()
        .flat_map(|s| statements(&s.text))
        .find(|s| s.contains("CONCURRENTLY"))
        .unwrap_or_else(|| panic!("no concurrent build in {:?}", steps(root)));
    let db = TestDb::with(&format!("fix_{name}"), &format!("{SHOP}{before}"));
    let probe = probe_concurrent(&db, table, &build, write);
    assert_writes_continue(&probe, table);
    assert_eq!(probe.filenode_before, probe.filenode_after, "{build} rewrote {table}");

    let db = TestDb::with(&format!("fix_{name}"), "");
    let probed = probe_after_seed(&db, root, table);
    let using = probed.iter().find(|p| p.sql.contains("USING INDEX")).unwrap_or_else(|| panic!("{probed:#?}"));
    assert!(using.holds(table, "AccessExclusiveLock") && !using.scanned, "{using:#?}");
    let before = filenode(&mut db.sync(), table);
    assert_no_blocking_scan(&probed, table, before);
}

#[test]
fn unique_plain_explicit_and_goose() {
    let plain = check_case(&Case {
        name: "unique_plain",
        files: &[("migrations/001_shop.sql", SHOP), ("migrations/002_unique.sql", &format!("{EMAIL}\n"))],
        rel: "migrations/002_unique.sql",
        rule: "unique-constraint-blocking",
        title: "Build the unique index CONCURRENTLY, then add users_email_key UNIQUE USING INDEX (writes continue",
        safety: Safety::Safe,
    });
    probe_fixed(
        "unique_plain",
        plain.path(),
        "users",
        "INSERT INTO users VALUES (100000, 1, 'new@example.com', 'during')",
    );

    // An unnamed primary key on a nullable column, in an explicit block: the name PostgreSQL
    // gives it, and NOT NULL through a validated check.
    let block = check_case(&Case {
        name: "pk_explicit",
        files: &[("migrations/001_shop.sql", SHOP), ("migrations/002_pk.sql", &format!("BEGIN;\n{PK}\n{OTHER}\nCOMMIT;\n"))],
        rel: "migrations/002_pk.sql",
        rule: "unique-constraint-blocking",
        title: "Build the unique index CONCURRENTLY, then add events_pkey PRIMARY KEY USING INDEX, its columns made NOT NULL through validated CHECKs, after the COMMIT",
        safety: Safety::Safe,
    });
    probe_fixed("pk_explicit", block.path(), "events", "INSERT INTO events VALUES (100000, 'during')");
    let fixed = steps(block.path()).iter().flat_map(|s| statements(&s.text)).collect::<Vec<_>>();
    assert!(fixed.iter().any(|s| s.contains("VALIDATE CONSTRAINT events_id_not_null")), "{fixed:#?}");

    let goose_alone = check_case(&Case {
        name: "unique_goose",
        files: &[("db/migrations/00001_shop.sql", &goose(SHOP)), ("db/migrations/00002_unique.sql", &goose(ORG_EMAIL))],
        rel: "db/migrations/00002_unique.sql",
        rule: "unique-constraint-blocking",
        title: "Build the unique index CONCURRENTLY, then add users_org_id_email_key UNIQUE USING INDEX, outside the migration's transaction: add `-- +goose NO TRANSACTION`",
        safety: Safety::Safe,
    });
    probe_fixed(
        "unique_goose",
        goose_alone.path(),
        "users",
        "INSERT INTO users VALUES (100000, 1, 'new@example.com', 'during')",
    );
}

#[test]
fn unique_golang_migrate_flyway_diesel() {
    // One query string: the check stays, the build and the rest go to two new migrations.
    let golang = check_case(&Case {
        name: "pk_golang",
        files: &[("db/0001_shop.up.sql", SHOP), ("db/0002_pk.up.sql", &format!("{PK}\n{OTHER}\n"))],
        rel: "db/0002_pk.up.sql",
        rule: "unique-constraint-blocking",
        title: "Build the unique index CONCURRENTLY, then add events_pkey PRIMARY KEY USING INDEX, its columns made NOT NULL through validated CHECKs, in new migrations 0003_primary_key_events_pkey.up.sql and 0004_primary_key_events_pkey_then.up.sql",
        safety: Safety::Safe,
    });
    probe_fixed("pk_golang", golang.path(), "events", "INSERT INTO events VALUES (100000, 'during')");

    let flyway = check_case(&Case {
        name: "unique_flyway",
        files: &[("db/migration/V1__shop.sql", SHOP), ("db/migration/V2__unique.sql", EMAIL)],
        rel: "db/migration/V2__unique.sql",
        rule: "unique-constraint-blocking",
        title: "Build the unique index CONCURRENTLY, then add users_email_key UNIQUE USING INDEX, outside the migration's transaction: set `executeInTransaction=false` in V2__unique.sql.conf",
        safety: Safety::Safe,
    });
    probe_fixed(
        "unique_flyway",
        flyway.path(),
        "users",
        "INSERT INTO users VALUES (100000, 1, 'new@example.com', 'during')",
    );

    // Diesel sends an opted-out file as one query string: the build stays alone in it, the
    // USING INDEX step goes to a new migration.
    let diesel = check_case(&Case {
        name: "unique_diesel",
        files: &[
            ("migrations/2024-01-01-000000_shop/up.sql", SHOP),
            ("migrations/2024-01-02-000000_unique/up.sql", EMAIL),
            ("migrations/2024-01-02-000000_unique/down.sql", "ALTER TABLE users DROP CONSTRAINT users_email_key;\n"),
        ],
        rel: "migrations/2024-01-02-000000_unique/up.sql",
        rule: "unique-constraint-blocking",
        title: "Build the unique index CONCURRENTLY, then add users_email_key UNIQUE USING INDEX, outside the migration's transaction: set `run_in_transaction = false` in metadata.toml; the rest in a new migration 2024-01-02-000001_unique_users_email_key_then/up.sql",
        safety: Safety::Safe,
    });
    probe_fixed(
        "unique_diesel",
        diesel.path(),
        "users",
        "INSERT INTO users VALUES (100000, 1, 'new@example.com', 'during')",
    );
}

/// A column added with inline UNIQUE: the same column (position, type), the same constraint.
#[test]
fn unique_inline_on_add_column() {
    let block = format!("BEGIN;\nALTER TABLE users ADD COLUMN external_id text UNIQUE;\n{OTHER}\nCOMMIT;\n");
    let fixed = check_case(&Case {
        name: "unique_inline",
        files: &[("migrations/001_shop.sql", SHOP), ("migrations/002_add.sql", &block)],
        rel: "migrations/002_add.sql",
        rule: "unique-constraint-blocking",
        title: "Add the column, build the unique index CONCURRENTLY, then add users_external_id_key UNIQUE USING INDEX, after the COMMIT",
        safety: Safety::Safe,
    });
    let write = "INSERT INTO users VALUES (100000, 1, 'new@example.com', 'during', 'x')";
    probe_fixed_after("unique_inline", fixed.path(), "users", write, "ALTER TABLE users ADD COLUMN external_id text;");
}

/// Without the validated check, `ADD PRIMARY KEY USING INDEX` on a nullable column scans under
/// ACCESS EXCLUSIVE (what the check avoids), and the probe sees it.
#[test]
fn a_primary_key_on_a_nullable_column_scans_without_the_check() {
    let db = TestDb::with("fix_pk_scan", SHOP);
    db.sync().batch_execute("CREATE UNIQUE INDEX CONCURRENTLY events_pkey ON events (id)").expect("build");
    let probed = probe_in_transaction(
        &db,
        "events",
        &["ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY USING INDEX events_pkey".into()],
    );
    assert!(probed[0].scanned && probed[0].holds("events", "AccessExclusiveLock"), "{probed:#?}");
    let before = filenode(&mut db.sync(), "events");
    let caught = std::panic::catch_unwind(|| assert_no_blocking_scan(&probed, "events", before));
    assert!(caught.is_err(), "the probe misses the scan: {probed:#?}");
}

// ---- foreign-key-missing-index -----------------------------------------------------------------

const FK: &str =
    "ALTER TABLE orders ADD CONSTRAINT orders_customer_fkey FOREIGN KEY (customer_id) REFERENCES customers (id);";
const FK_INDEX: &str = "CREATE INDEX orders_customer_id_idx ON orders (customer_id);";

/// The index build of the fixed set runs before the foreign key and lets writes through.
fn probe_fk_index(name: &str, root: &Path) {
    let all: Vec<String> = steps(root).iter().flat_map(|s| statements(&s.text)).collect();
    let build = all.iter().position(|s| s.contains("CREATE INDEX CONCURRENTLY")).unwrap_or_else(|| panic!("{all:#?}"));
    let fk = all.iter().position(|s| s.contains("FOREIGN KEY")).unwrap_or_else(|| panic!("{all:#?}"));
    assert!(build < fk, "the index comes after the foreign key: {all:#?}");
    let db = TestDb::with(&format!("fix_{name}"), SHOP);
    let probe = probe_concurrent(&db, "orders", &all[build], "INSERT INTO orders VALUES (100000, 1, 'during')");
    assert_writes_continue(&probe, "orders");
    assert_eq!(probe.filenode_before, probe.filenode_after);
}

/// The fixed set builds one index more than the original: it is compared with the original plus
/// a plain `CREATE INDEX` of that index after the foreign key (same name, same definition).
#[test]
fn foreign_key_index_plain_explicit_and_new_table() {
    let with_index = format!("{FK}\n{FK_INDEX}\n");
    let plain = check_case_against(
        &Case {
            name: "fk_index_plain",
            files: &[("migrations/001_shop.sql", SHOP), ("migrations/002_fk.sql", &format!("{FK}\n"))],
            rel: "migrations/002_fk.sql",
            rule: "foreign-key-missing-index",
            title: "Create index orders_customer_id_idx CONCURRENTLY on orders (customer_id) before the foreign key",
            safety: Safety::Safe,
        },
        &[("migrations/001_shop.sql", SHOP), ("migrations/002_fk.sql", &with_index)],
    );
    probe_fk_index("fk_index_plain", plain.path());

    let block = format!("BEGIN;\n{FK}\n{OTHER}\nCOMMIT;\n");
    let explicit = check_case_against(
        &Case {
            name: "fk_index_explicit",
            files: &[("migrations/001_shop.sql", SHOP), ("migrations/002_fk.sql", &block)],
            rel: "migrations/002_fk.sql",
            rule: "foreign-key-missing-index",
            title: "Create index orders_customer_id_idx CONCURRENTLY on orders (customer_id) before the BEGIN",
            safety: Safety::Safe,
        },
        &[("migrations/001_shop.sql", SHOP), ("migrations/002_fk.sql", &format!("{block}{FK_INDEX}\n"))],
    );
    probe_fk_index("fk_index_explicit", explicit.path());

    // A table created here is empty: a plain index right after it, which is the reference too.
    let lines = "CREATE TABLE order_lines (id bigint PRIMARY KEY, order_id bigint REFERENCES orders (id));";
    check_case_against(
        &Case {
            name: "fk_index_new_table",
            files: &[("migrations/001_shop.sql", SHOP), ("migrations/002_lines.sql", &format!("{lines}\n"))],
            rel: "migrations/002_lines.sql",
            rule: "foreign-key-missing-index",
            title: "Create index order_lines_order_id_idx on order_lines (order_id) after it (the table is new",
            safety: Safety::Safe,
        },
        &[
            ("migrations/001_shop.sql", SHOP),
            (
                "migrations/002_lines.sql",
                &format!("{lines}\nCREATE INDEX order_lines_order_id_idx ON order_lines (order_id);\n"),
            ),
        ],
    );
}

#[test]
fn foreign_key_index_goose_golang_migrate_flyway() {
    let goose_fk = goose(FK);
    let goose_ref = goose(&format!("{FK}\n{FK_INDEX}"));
    let goosed = check_case_against(
        &Case {
            name: "fk_index_goose",
            files: &[("db/migrations/00001_shop.sql", &goose(SHOP)), ("db/migrations/00005_fk.sql", &goose_fk)],
            rel: "db/migrations/00005_fk.sql",
            rule: "foreign-key-missing-index",
            title: "Create index orders_customer_id_idx CONCURRENTLY on orders (customer_id) in a new migration 00004_index_orders_customer_id_idx.sql before this one",
            safety: Safety::Safe,
        },
        &[("db/migrations/00001_shop.sql", &goose(SHOP)), ("db/migrations/00005_fk.sql", &goose_ref)],
    );
    probe_fk_index("fk_index_goose", goosed.path());
    // No version between 00001 and 00002: the migration opts out (the key is all it does).
    let consecutive = check_case_against(
        &Case {
            name: "fk_index_goose_opt_out",
            files: &[("db/migrations/00001_shop.sql", &goose(SHOP)), ("db/migrations/00002_fk.sql", &goose_fk)],
            rel: "db/migrations/00002_fk.sql",
            rule: "foreign-key-missing-index",
            title: "Create index orders_customer_id_idx CONCURRENTLY on orders (customer_id) before the foreign key, outside the migration's transaction: add `-- +goose NO TRANSACTION`",
            safety: Safety::Safe,
        },
        &[("db/migrations/00001_shop.sql", &goose(SHOP)), ("db/migrations/00002_fk.sql", &goose_ref)],
    );
    probe_fk_index("fk_index_goose_opt_out", consecutive.path());

    let with_other = format!("{FK}\n{OTHER}\n");
    let golang = check_case_against(
        &Case {
            name: "fk_index_golang",
            files: &[("db/0010_shop.up.sql", SHOP), ("db/0020_fk.up.sql", &with_other)],
            rel: "db/0020_fk.up.sql",
            rule: "foreign-key-missing-index",
            title: "Create index orders_customer_id_idx CONCURRENTLY on orders (customer_id) in a new migration 0019_index_orders_customer_id_idx.up.sql before this one",
            safety: Safety::Safe,
        },
        &[("db/0010_shop.up.sql", SHOP), ("db/0020_fk.up.sql", &format!("{with_other}{FK_INDEX}\n"))],
    );
    probe_fk_index("fk_index_golang", golang.path());

    let flyway = check_case_against(
        &Case {
            name: "fk_index_flyway",
            files: &[("db/migration/V1__shop.sql", SHOP), ("db/migration/V3__fk.sql", FK)],
            rel: "db/migration/V3__fk.sql",
            rule: "foreign-key-missing-index",
            title: "Create index orders_customer_id_idx CONCURRENTLY on orders (customer_id) in a new migration V2__index_orders_customer_id_idx.sql before this one",
            safety: Safety::Safe,
        },
        &[("db/migration/V1__shop.sql", SHOP), ("db/migration/V3__fk.sql", &format!("{FK}\n{FK_INDEX}\n"))],
    );
    assert!(flyway.path().join("db/migration/V2__index_orders_customer_id_idx.sql.conf").exists());
    probe_fk_index("fk_index_flyway", flyway.path());
}
