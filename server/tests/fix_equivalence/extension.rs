//! `extension-missing` on PostgreSQL: the original set fails on a fresh database (`type "citext"
//! does not exist`, `operator class "gin_trgm_ops" does not exist`); after the fix it applies and
//! builds the same catalog as the set with the `CREATE EXTENSION` written by hand.

use super::*;

const USERS: &str = "-- +goose Up\nCREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL);\n-- +goose Down\nDROP TABLE users;\n";

#[test]
fn create_extension_makes_a_fresh_install_pass() {
    for (name, extension, uses, error) in [
        ("ext_citext", "citext", "ALTER TABLE users ADD COLUMN handle citext;", "type \"citext\" does not exist"),
        (
            "ext_trgm",
            "pg_trgm",
            "CREATE INDEX users_name_trgm ON users USING gin (name gin_trgm_ops);",
            "operator class \"gin_trgm_ops\" does not exist",
        ),
    ] {
        let second = format!("-- +goose Up\n{uses}\n-- +goose Down\nSELECT 1;\n");
        let files = [("db/migrations/00001_users.sql", USERS), ("db/migrations/00002_uses.sql", second.as_str())];
        let by_hand =
            format!("-- +goose Up\nCREATE EXTENSION IF NOT EXISTS {extension};\n{uses}\n-- +goose Down\nSELECT 1;\n");
        let reference = [("db/migrations/00001_users.sql", USERS), ("db/migrations/00002_uses.sql", by_hand.as_str())];

        let original = workspace(&files);
        let db = TestDb::new(&format!("fix_{name}_orig"));
        let failed = apply_set(&db, original.path()).expect_err("a fresh database lacks the extension");
        assert!(failed.contains(error), "{name}: {failed}");

        let case = Case {
            name,
            files: &files,
            rel: "db/migrations/00002_uses.sql",
            rule: "extension-missing",
            title: &format!("Add `CREATE EXTENSION IF NOT EXISTS {extension};` at the top of this migration"),
            safety: Safety::Safe,
        };
        let fixed = check_case_against(&case, &reference);
        let text = std::fs::read_to_string(fixed.path().join(case.rel)).expect("read");
        assert_eq!(text, by_hand, "{name}");
    }
}
