//! UNIQUE / PRIMARY KEY through a concurrent index build, and the index a foreign key needs,
//! applied through the editor.

use super::*;

const USERS: &str = "CREATE TABLE users (id bigint NOT NULL, email text);\n\
                     CREATE TABLE events (id bigint, kind text);\n\
                     CREATE TABLE customers (id bigint PRIMARY KEY);\n\
                     CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint);\n";
const FK: &str =
    "ALTER TABLE orders ADD CONSTRAINT orders_customer_fkey FOREIGN KEY (customer_id) REFERENCES customers (id);";

#[test]
fn unique_and_primary_key_fixes_apply_through_the_editor() {
    let rule = "unique-constraint-blocking";
    // A plain file: the build and the USING INDEX step in place.
    fix_in_editor(
        &[
            ("migrations/001_users.sql", USERS.into()),
            ("migrations/002_unique.sql", "ALTER TABLE users ADD UNIQUE (email);\n".into()),
        ],
        "migrations/002_unique.sql",
        rule,
        "Build the unique index CONCURRENTLY, then add users_email_key UNIQUE USING INDEX (writes continue",
    );
    // Inline UNIQUE on ADD COLUMN in an explicit block: the column stays, the rest after the COMMIT.
    fix_in_editor(
        &[
            ("migrations/001_users.sql", USERS.into()),
            ("migrations/002_column.sql", "BEGIN;\nALTER TABLE users ADD COLUMN handle text UNIQUE;\nCOMMIT;\n".into()),
        ],
        "migrations/002_column.sql",
        rule,
        "Add the column, build the unique index CONCURRENTLY, then add users_handle_key UNIQUE USING INDEX, after the COMMIT",
    );
    // goose: a primary key through a validated check, under the opt-out.
    fix_in_editor(
        &[
            ("db/migrations/00001_users.sql", goose_file(USERS)),
            ("db/migrations/00002_pk.sql", goose_file("ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (id);")),
        ],
        "db/migrations/00002_pk.sql",
        rule,
        "Build the unique index CONCURRENTLY, then add events_pkey PRIMARY KEY USING INDEX, its columns made NOT NULL through validated CHECKs, outside the migration's transaction: add `-- +goose NO TRANSACTION`",
    );
    // golang-migrate: two new migrations (CreateFile), the build alone in the first.
    fix_in_editor(
        &[
            ("db/migrations/0001_users.up.sql", USERS.into()),
            (
                "db/migrations/0002_unique.up.sql",
                "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);\nALTER TABLE orders ADD COLUMN note text;\n".into(),
            ),
        ],
        "db/migrations/0002_unique.up.sql",
        rule,
        "Build the unique index CONCURRENTLY, then add users_email_key UNIQUE USING INDEX, in new migrations 0003_unique_users_email_key.up.sql and 0004_unique_users_email_key_then.up.sql",
    );
}

#[test]
fn foreign_key_index_fixes_apply_through_the_editor() {
    let rule = "foreign-key-missing-index";
    fix_in_editor(
        &[("migrations/001_shop.sql", USERS.into()), ("migrations/002_fk.sql", format!("BEGIN;\n{FK}\nCOMMIT;\n"))],
        "migrations/002_fk.sql",
        rule,
        "Create index orders_customer_id_idx CONCURRENTLY on orders (customer_id) before the BEGIN",
    );
    // goose: a new migration that sorts before this one.
    fix_in_editor(
        &[("db/migrations/00001_shop.sql", goose_file(USERS)), ("db/migrations/00003_fk.sql", goose_file(FK))],
        "db/migrations/00003_fk.sql",
        rule,
        "Create index orders_customer_id_idx CONCURRENTLY on orders (customer_id) in a new migration 00002_index_orders_customer_id_idx.sql before this one",
    );
    // Flyway, consecutive versions: the opt-out (.sql.conf created), the key being all it does.
    fix_in_editor(
        &[("db/migration/V1__shop.sql", USERS.into()), ("db/migration/V2__fk.sql", format!("{FK}\n"))],
        "db/migration/V2__fk.sql",
        rule,
        "Create index orders_customer_id_idx CONCURRENTLY on orders (customer_id) before the foreign key, outside the migration's transaction: set `executeInTransaction=false` in V2__fk.sql.conf",
    );
}
