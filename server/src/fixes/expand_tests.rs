//! Unit tests of the expand/contract fixes (`rename-column`, `rename-table`,
//! `column-type-rewrite`): the exact text each writes.

use super::expand::{contract_date, today};
use super::tests::{fixed, fixes_in, pg};
use super::Safety;

const USERS: &str = "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL DEFAULT '', name text);\n";

/// The dated lines as the fix writes them today.
fn dates() -> (String, String) {
    let t = today();
    (t.to_string(), contract_date(t).to_string())
}

fn sync_function(name: &str, a: &str, b: &str) -> String {
    format!(
        "CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $safemig$\nBEGIN\n  IF TG_OP = 'INSERT' THEN\n    IF NEW.{b} IS NULL THEN\n      NEW.{b} := NEW.{a};\n    ELSE\n      NEW.{a} := NEW.{b};\n    END IF;\n  ELSIF NEW.{b} IS DISTINCT FROM OLD.{b} THEN\n    NEW.{a} := NEW.{b};\n  ELSE\n    NEW.{b} := NEW.{a};\n  END IF;\n  RETURN NEW;\nEND\n$safemig$;"
    )
}

#[test]
fn rename_column_in_a_plain_file_expands_in_place_with_the_backfill_after_it() {
    let fixes = fixes_in(
        &[
            ("migrations/001_users.sql", USERS),
            ("migrations/002_rename.sql", "ALTER TABLE users RENAME COLUMN email TO email_address;\n"),
        ],
        "migrations/002_rename.sql",
        "rename-column",
    );
    assert_eq!(fixes.len(), 1, "{fixes:#?}");
    let fix = &fixes[0];
    assert!(fix.preferred && fix.safety == Safety::Unsafe, "{fix:#?}");
    assert_eq!(
        fix.title,
        "Expand/contract: add `email_address` kept in sync with `email` by a trigger, backfill it right after it, drop `email` in a later release"
    );
    let (today, later) = dates();
    let expected = format!(
        "-- Expand step (safemig, {today}) of renaming users.email to email_address: old code keeps using email, new code uses email_address; the trigger keeps both in sync.\n\
ALTER TABLE users ADD COLUMN email_address text;\n\
ALTER TABLE users ADD CONSTRAINT users_email_address_not_null CHECK (email_address IS NOT NULL) NOT VALID;\n\
{}\n\
CREATE TRIGGER users_email_email_address_sync BEFORE INSERT OR UPDATE ON users FOR EACH ROW EXECUTE FUNCTION users_email_email_address_sync();\n\
-- Contract step (safemig, {today}): a later migration, in a release after the one that ships this (not before {later}), once no running code reads or writes email:\n\
--   BEGIN;\n\
--   SET LOCAL lock_timeout = '5s';\n\
--   ALTER TABLE users VALIDATE CONSTRAINT users_email_address_not_null;\n\
--   DROP TRIGGER users_email_email_address_sync ON users;\n\
--   DROP FUNCTION users_email_email_address_sync();\n\
--   ALTER TABLE users ALTER COLUMN email_address SET NOT NULL;\n\
--   ALTER TABLE users DROP CONSTRAINT users_email_address_not_null;\n\
--   ALTER TABLE users ALTER COLUMN email_address SET DEFAULT '';\n\
--   ALTER TABLE users DROP COLUMN email;\n\
--   COMMIT;\n\
DO $safemig$\n",
        sync_function("users_email_email_address_sync", "email", "email_address")
    );
    assert!(fix.text.starts_with(&expected), "{}", fix.text);
    assert!(
        fix.text.contains("    UPDATE users SET email_address = email\n     WHERE (last_key IS NULL OR id > last_key) AND id <= next_key AND (email_address IS DISTINCT FROM email);\n"),
        "{}",
        fix.text
    );
    assert!(fix.text.contains("    COMMIT;"), "outside a transaction each round commits: {}", fix.text);
    assert!(fix.text.ends_with("END\n$safemig$;\n"), "{}", fix.text);
    assert!(fix.created.is_empty());
}

#[test]
fn rename_column_lists_what_the_contract_carries_over_and_keeps_crlf() {
    let seed = "CREATE TABLE users (id bigint PRIMARY KEY, email text UNIQUE, name text);\r\nCREATE INDEX users_lower_idx ON users (email, name);\r\nCREATE TABLE logins (id bigint PRIMARY KEY, email text REFERENCES users (email));\r\n";
    let fixes = fixes_in(
        &[
            ("migrations/001_users.sql", seed),
            ("migrations/002_rename.sql", "-- keep\r\n  ALTER TABLE users RENAME COLUMN email TO mail;\r\n"),
        ],
        "migrations/002_rename.sql",
        "rename-column",
    );
    let text = &fixes[0].text;
    assert!(text.starts_with("-- keep\r\n  -- Expand step"), "{text}");
    assert!(!text.replace("\r\n", "").contains('\n'), "only CRLF: {text:?}");
    assert!(text.contains("\r\n  ALTER TABLE users ADD COLUMN mail text;\r\n  CREATE FUNCTION"), "{text}");
    assert!(!text.contains("IS NOT NULL) NOT VALID"), "a nullable column needs no check: {text}");
    assert!(
        text.contains("\r\n  -- Before dropping email, re-create on mail what it has (CONCURRENTLY / NOT VALID, in earlier migrations): index users_lower_idx, constraint users_email_key, foreign key logins_email_fkey of logins.\r\n"),
        "{text}"
    );
}

#[test]
fn rename_column_needs_the_type_and_a_key() {
    // No replayed schema: the type of the column is unknown.
    assert_eq!(fixed("ALTER TABLE users RENAME COLUMN email TO mail;\n", "rename-column", &pg()), None);
    // No single-column primary key to batch over.
    let fixes = fixes_in(
        &[
            ("migrations/001_users.sql", "CREATE TABLE users (email text, name text);\n"),
            ("migrations/002_rename.sql", "ALTER TABLE users RENAME COLUMN email TO mail;\n"),
        ],
        "migrations/002_rename.sql",
        "rename-column",
    );
    assert!(fixes.is_empty(), "{fixes:#?}");
    // A serial column would need its sequence moved.
    let fixes = fixes_in(
        &[
            ("migrations/001_users.sql", "CREATE TABLE users (id bigint PRIMARY KEY, n serial);\n"),
            ("migrations/002_rename.sql", "ALTER TABLE users RENAME COLUMN n TO m;\n"),
        ],
        "migrations/002_rename.sql",
        "rename-column",
    );
    assert!(fixes.is_empty(), "{fixes:#?}");
}

const GOOSE_USERS: &str = "-- +goose Up\nCREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL DEFAULT '', name text);\n\n-- +goose Down\nDROP TABLE users;\n";

#[test]
fn rename_column_under_goose_annotates_blocks_and_backfills_in_a_new_migration() {
    let file = "-- +goose Up\nALTER TABLE users RENAME COLUMN email TO email_address;\n\n-- +goose Down\nALTER TABLE users RENAME COLUMN email_address TO email;\n";
    let fixes = fixes_in(
        &[("db/migrations/00001_users.sql", GOOSE_USERS), ("db/migrations/00002_rename.sql", file)],
        "db/migrations/00002_rename.sql",
        "rename-column",
    );
    assert_eq!(fixes.len(), 1, "{fixes:#?}");
    let fix = &fixes[0];
    assert!(
        fix.title.contains("backfill it in a new migration 00003_backfill_users_email_address.sql"),
        "{}",
        fix.title
    );
    assert!(
        fix.text.contains("\n-- +goose StatementBegin\nCREATE FUNCTION users_email_email_address_sync()"),
        "{}",
        fix.text
    );
    assert!(fix.text.contains("$safemig$;\n-- +goose StatementEnd\nCREATE TRIGGER"), "{}", fix.text);
    assert!(!fix.text.contains("DO $safemig$"), "{}", fix.text);
    // The contract runs in goose's transaction: no BEGIN of its own.
    assert!(!fix.text.contains("--   BEGIN;"), "{}", fix.text);
    assert_eq!(fix.created.len(), 1, "{fix:#?}");
    let (name, text) = &fix.created[0];
    assert_eq!(name, "db/migrations/00003_backfill_users_email_address.sql");
    assert!(
        text.starts_with("-- +goose NO TRANSACTION\n-- +goose Up\n-- Backfill split from 00002_rename.sql by safemig (each round commits).\n\n-- +goose StatementBegin\nDO $safemig$\n"),
        "{text}"
    );
    assert!(text.contains("    COMMIT;"), "{text}");
    assert!(text.contains("$safemig$;\n-- +goose StatementEnd\n"), "{text}");
}

#[test]
fn rename_column_under_golang_migrate_backfills_in_a_file_of_its_own() {
    let fixes = fixes_in(
        &[
            ("migrations/000001_users.up.sql", USERS),
            ("migrations/000001_users.down.sql", "DROP TABLE users;\n"),
            ("migrations/000002_rename.up.sql", "ALTER TABLE users RENAME COLUMN email TO email_address;\n"),
            ("migrations/000002_rename.down.sql", "ALTER TABLE users RENAME COLUMN email_address TO email;\n"),
        ],
        "migrations/000002_rename.up.sql",
        "rename-column",
    );
    let fix = &fixes[0];
    let (name, text) = &fix.created[0];
    assert_eq!(name, "migrations/000003_backfill_users_email_address.up.sql");
    assert!(text.contains("    COMMIT;"), "a file of one statement runs outside a transaction: {text}");
    assert!(!fix.text.contains("--   BEGIN;"), "one query string is one transaction: {}", fix.text);
}

#[test]
fn rename_column_in_an_explicit_block_backfills_after_the_commit() {
    let file = "BEGIN;\nALTER TABLE users RENAME COLUMN email TO email_address;\nCOMMIT;\n";
    let fixes = fixes_in(
        &[("migrations/001_users.sql", USERS), ("migrations/002_rename.sql", file)],
        "migrations/002_rename.sql",
        "rename-column",
    );
    let fix = &fixes[0];
    assert!(fix.title.contains("backfill it after the COMMIT"), "{}", fix.title);
    assert!(fix.text.contains("EXECUTE FUNCTION users_email_email_address_sync();\n-- Contract"), "{}", fix.text);
    assert!(fix.text.contains("--   COMMIT;\nCOMMIT;\nDO $safemig$\n"), "{}", fix.text);
    assert!(fix.text.contains("    COMMIT;  -- each round"), "{}", fix.text);
}

// ---- rename-table ----------------------------------------------------------------------------

#[test]
fn rename_table_leaves_a_view_in_a_transaction() {
    let (today, later) = dates();
    let out = fixed("ALTER TABLE customers RENAME TO clients;\n", "rename-table", &pg()).expect("a fix");
    assert_eq!(
        out,
        format!(
            "BEGIN;\n\
ALTER TABLE customers RENAME TO clients;\n\
-- safemig {today}: old code keeps reading and writing customers through this view (a view over one table is updatable).\n\
-- `SELECT *` is expanded now: columns added to clients later do not appear in the view.\n\
-- Contract step: a later migration, in a release after the one that ships this (not before {later}), once no running code uses customers:\n\
--   DROP VIEW customers;\n\
CREATE VIEW customers AS SELECT * FROM clients;\n\
COMMIT;\n"
        )
    );
    let config = crate::config::Config::default();
    let again = crate::engine::analyze(&out, &pg(), &config, None);
    assert!(again.findings.iter().all(|f| f.rule != "rename-table"), "{:?}", again.findings);
}

#[test]
fn rename_table_in_a_transaction_adds_only_the_view_and_mirrors_the_schema() {
    let wrapped = crate::rules::MigrationSettings { wraps_in_transaction: true, ..pg() };
    let out =
        fixed("  ALTER TABLE sales.\"Customers\" RENAME TO clients;\r\n", "rename-table", &wrapped).expect("a fix");
    assert!(out.starts_with("  ALTER TABLE sales.\"Customers\" RENAME TO clients;\r\n  -- safemig"), "{out}");
    assert!(out.ends_with("\r\n  CREATE VIEW sales.\"Customers\" AS SELECT * FROM sales.clients;\r\n"), "{out}");
    assert!(!out.contains("BEGIN"), "{out}");
}

#[test]
fn rename_table_skips_swaps_and_if_exists() {
    let swap = "ALTER TABLE a RENAME TO a_old;\nALTER TABLE a_new RENAME TO a;\n";
    assert_eq!(fixed(swap, "rename-table", &pg()), None);
    assert_eq!(fixed("ALTER TABLE IF EXISTS a RENAME TO b;\n", "rename-table", &pg()), None);
}

// ---- column-type-rewrite ---------------------------------------------------------------------

const ORDERS: &str = "CREATE TABLE orders (id bigint PRIMARY KEY, amount integer NOT NULL DEFAULT 0, note text);\n";

#[test]
fn column_type_expands_into_a_new_column_with_a_trigger() {
    let fixes = fixes_in(
        &[
            ("migrations/001_orders.sql", ORDERS),
            ("migrations/002_type.sql", "ALTER TABLE orders ALTER COLUMN amount TYPE bigint;\n"),
        ],
        "migrations/002_type.sql",
        "column-type-rewrite",
    );
    assert_eq!(fixes.len(), 1, "{fixes:#?}");
    let fix = &fixes[0];
    assert!(fix.preferred && fix.safety == Safety::Unsafe);
    assert_eq!(
        fix.title,
        "Expand/contract: add `amount_new` bigint kept in sync by a trigger, backfill it right after it, swap it for `amount` in a later release"
    );
    let (today, later) = dates();
    let expected = format!(
        "-- Expand step (safemig, {today}) of changing orders.amount to bigint: amount_new follows amount through the trigger until the contract step swaps them.\n\
ALTER TABLE orders ADD COLUMN amount_new bigint;\n\
ALTER TABLE orders ADD CONSTRAINT orders_amount_new_not_null CHECK (amount_new IS NOT NULL) NOT VALID;\n\
CREATE FUNCTION orders_amount_new_sync() RETURNS trigger LANGUAGE plpgsql AS $safemig$\n\
BEGIN\n  NEW.amount_new := NEW.amount::bigint;\n  RETURN NEW;\nEND\n$safemig$;\n\
CREATE TRIGGER orders_amount_new_sync BEFORE INSERT OR UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION orders_amount_new_sync();\n\
-- Contract step (safemig, {today}): a later migration, in a release after the one that ships this (not before {later}), once no running code depends on the old type of amount:\n\
--   BEGIN;\n\
--   SET LOCAL lock_timeout = '5s';\n\
--   ALTER TABLE orders VALIDATE CONSTRAINT orders_amount_new_not_null;\n\
--   LOCK TABLE orders IN ACCESS EXCLUSIVE MODE;\n\
--   DROP TRIGGER orders_amount_new_sync ON orders;\n\
--   DROP FUNCTION orders_amount_new_sync();\n\
--   ALTER TABLE orders DROP COLUMN amount;\n\
--   ALTER TABLE orders RENAME COLUMN amount_new TO amount;  -- safemig: ignore rename-column — amount keeps its name for the code\n\
--   ALTER TABLE orders ALTER COLUMN amount SET NOT NULL;\n\
--   ALTER TABLE orders DROP CONSTRAINT orders_amount_new_not_null;\n\
--   ALTER TABLE orders ALTER COLUMN amount SET DEFAULT 0;\n\
--   COMMIT;\n\
DO $safemig$\n"
    );
    assert!(fix.text.starts_with(&expected), "{}", fix.text);
    assert!(
        fix.text.contains("    UPDATE orders SET amount_new = amount::bigint\n     WHERE (last_key IS NULL OR id > last_key) AND id <= next_key AND (amount_new IS DISTINCT FROM (amount::bigint));\n"),
        "{}",
        fix.text
    );
}

#[test]
fn column_type_with_using_reads_the_row_in_the_trigger() {
    let fixes = fixes_in(
        &[
            ("migrations/001_orders.sql", ORDERS),
            ("migrations/002_type.sql", "ALTER TABLE orders ALTER COLUMN note TYPE jsonb USING to_jsonb(note);\n"),
        ],
        "migrations/002_type.sql",
        "column-type-rewrite",
    );
    let text = &fixes[0].text;
    assert!(text.contains("  NEW.note_new := (SELECT to_jsonb(note) FROM (SELECT NEW.*) AS orders);\n"), "{text}");
    assert!(text.contains("UPDATE orders SET note_new = to_jsonb(note)\n"), "{text}");
    assert!(!text.contains("NOT VALID"), "{text}");
    assert!(!text.contains("SET DEFAULT"), "{text}");
}

#[test]
fn column_type_needs_the_replayed_column() {
    assert_eq!(fixed("ALTER TABLE orders ALTER COLUMN amount TYPE bigint;\n", "column-type-rewrite", &pg()), None);
}

#[test]
fn rename_table_rule_accepts_a_view_over_the_new_name_in_the_same_transaction_only() {
    let config = crate::config::Config::default();
    let fires = |text: &str| {
        crate::engine::analyze(text, &pg(), &config, None).findings.iter().any(|f| f.rule == "rename-table")
    };
    assert!(!fires("BEGIN;\nALTER TABLE a RENAME TO b;\nCREATE VIEW a AS SELECT * FROM b;\nCOMMIT;\n"));
    assert!(!fires("BEGIN;\nALTER TABLE s.a RENAME TO \"B\";\nCREATE VIEW s.a AS SELECT * FROM s.\"B\";\nCOMMIT;\n"));
    // Between the two transactions the old name is gone.
    assert!(fires("ALTER TABLE a RENAME TO b;\nCREATE VIEW a AS SELECT * FROM b;\n"));
    // A view over something else.
    assert!(fires("BEGIN;\nALTER TABLE a RENAME TO b;\nCREATE VIEW a AS SELECT * FROM c;\nCOMMIT;\n"));
    assert!(fires("BEGIN;\nALTER TABLE a RENAME TO b;\nCREATE VIEW x AS SELECT * FROM b;\nCOMMIT;\n"));
}

#[test]
fn no_expand_when_later_statements_need_the_change_done() {
    // Prisma's enum swap: the old type goes right after the column leaves it.
    let seed = "CREATE TYPE kind AS ENUM ('a', 'b');\nCREATE TABLE obs (id bigint PRIMARY KEY, k kind NOT NULL);\n";
    let swap = "CREATE TYPE kind_new AS ENUM ('a');\nALTER TABLE obs ALTER COLUMN k TYPE kind_new USING (k::text::kind_new);\nALTER TYPE kind RENAME TO kind_old;\nALTER TYPE kind_new RENAME TO kind;\nDROP TYPE kind_old;\n";
    let files = [("migrations/001_obs.sql", seed), ("migrations/002_swap.sql", swap)];
    assert!(fixes_in(&files, "migrations/002_swap.sql", "column-type-rewrite").is_empty());
    // The old column name is taken again.
    let again = "ALTER TABLE users RENAME COLUMN email TO mail;\nALTER TABLE users ADD COLUMN email text;\n";
    let files = [("migrations/001_users.sql", USERS), ("migrations/002_again.sql", again)];
    assert!(fixes_in(&files, "migrations/002_again.sql", "rename-column").is_empty());
    // The old table name is taken again.
    let again = "ALTER TABLE users RENAME TO accounts;\nCREATE TABLE users (id bigint PRIMARY KEY);\n";
    let files = [("migrations/001_users.sql", USERS), ("migrations/002_again.sql", again)];
    assert!(fixes_in(&files, "migrations/002_again.sql", "rename-table").is_empty());
    // Other statements about the table do not stop it.
    let other = "ALTER TABLE users RENAME COLUMN email TO mail;\nALTER TABLE users ADD COLUMN note text;\n";
    let files = [("migrations/001_users.sql", USERS), ("migrations/002_other.sql", other)];
    assert_eq!(fixes_in(&files, "migrations/002_other.sql", "rename-column").len(), 1);
}

#[test]
fn no_expand_in_a_down_migration_and_array_enum_swaps_are_seen() {
    let files = [
        ("migrations/1_users.up.sql", USERS),
        ("migrations/1_users.down.sql", "DROP TABLE users;\n"),
        ("migrations/2_rename.up.sql", "ALTER TABLE users RENAME COLUMN name TO full_name;\n"),
        ("migrations/2_rename.down.sql", "ALTER TABLE users RENAME COLUMN email TO mail;\n"),
    ];
    assert_eq!(fixes_in(&files, "migrations/2_rename.up.sql", "rename-column").len(), 1);
    assert!(fixes_in(&files, "migrations/2_rename.down.sql", "rename-column").is_empty());
    let seed =
        "CREATE TYPE \"Kind\" AS ENUM ('a', 'b');\nCREATE TABLE obs (id bigint PRIMARY KEY, ks \"Kind\"[] NOT NULL);\n";
    let swap = "BEGIN;\nCREATE TYPE \"Kind_new\" AS ENUM ('a');\nALTER TABLE obs ALTER COLUMN ks TYPE \"Kind_new\"[] USING (ks::text::\"Kind_new\"[]);\nALTER TYPE \"Kind\" RENAME TO \"Kind_old\";\nALTER TYPE \"Kind_new\" RENAME TO \"Kind\";\nDROP TYPE \"Kind_old\";\nCOMMIT;\n";
    let files = [("migrations/001_obs.sql", seed), ("migrations/002_swap.sql", swap)];
    assert!(fixes_in(&files, "migrations/002_swap.sql", "column-type-rewrite").is_empty());
}

#[test]
fn rename_column_keeps_the_type_as_written() {
    let seed = "CREATE TABLE t (id bigint PRIMARY KEY, a varchar(255)[], b numeric(10, 2), c \"My Type\" []);\n";
    for (from, ty) in [("a", "varchar(255)[]"), ("b", "numeric(10,2)"), ("c", "\"My Type\"[]")] {
        let rename = format!("ALTER TABLE t RENAME COLUMN {from} TO x;\n");
        let files = [("migrations/001_t.sql", seed), ("migrations/002_r.sql", rename.as_str())];
        let fixes = fixes_in(&files, "migrations/002_r.sql", "rename-column");
        assert!(fixes[0].text.contains(&format!("ADD COLUMN x {ty};")), "{}", fixes[0].text);
    }
}

#[test]
fn no_type_expand_before_a_type_change_even_when_the_old_type_is_unknown() {
    let seed = "CREATE TABLE obs (id bigint PRIMARY KEY, k text);\n";
    let swap =
        "ALTER TABLE obs ALTER COLUMN k TYPE kind_new USING (k::kind_new);\nALTER TYPE kind_new RENAME TO kind;\n";
    let files = [("migrations/001_obs.sql", seed), ("migrations/002_swap.sql", swap)];
    assert!(fixes_in(&files, "migrations/002_swap.sql", "column-type-rewrite").is_empty());
}

#[test]
fn a_goose_file_without_transaction_still_gets_a_contract_for_gooses_default() {
    let file = "-- +goose NO TRANSACTION\n-- +goose Up\nALTER TABLE users RENAME COLUMN email TO email_address;\n\n-- +goose Down\nSELECT 1;\n";
    let fixes = fixes_in(
        &[("db/migrations/00001_users.sql", GOOSE_USERS), ("db/migrations/00002_rename.sql", file)],
        "db/migrations/00002_rename.sql",
        "rename-column",
    );
    let fix = &fixes[0];
    assert!(fix.title.contains("backfill it right after it"), "{}", fix.title);
    assert!(fix.created.is_empty());
    // A new goose migration runs in a transaction: the contract needs no BEGIN of its own.
    assert!(!fix.text.contains("--   BEGIN;"), "{}", fix.text);
    assert!(fix.text.contains("\n-- +goose StatementBegin\nDO $safemig$\n"), "{}", fix.text);
    assert!(fix.text.contains("    COMMIT;  -- each round"), "{}", fix.text);
}
