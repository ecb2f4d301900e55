//! Adding columns: a constant default, the nullable column and its later steps, a volatile
//! default split into SET DEFAULT and a backfill, applied through the editor.

use super::*;

const USERS: &str = "CREATE TABLE users (id bigint PRIMARY KEY, name text);\n";

#[test]
fn column_fixes_apply_through_the_editor() {
    let country = "ALTER TABLE users ADD COLUMN country text NOT NULL;";
    // A plain file: the constant default in place.
    fix_in_editor(
        &[("migrations/001_users.sql", USERS.into()), ("migrations/002_country.sql", format!("{country}\n"))],
        "migrations/002_country.sql",
        "add-column-not-null-no-default",
        "Add a constant default `DEFAULT ''`",
    );
    // goose: the column nullable here, three new migrations (CreateFile) after it.
    fix_in_editor(
        &[("db/migrations/00001_users.sql", goose_file(USERS)), ("db/migrations/00002_country.sql", goose_file(country))],
        "db/migrations/00002_country.sql",
        "add-column-not-null-no-default",
        "Add `country` nullable, backfill it in batches and enforce NOT NULL through a validated CHECK in new migrations 00003_backfill_users_country.sql to 00005_set_users_country_not_null.sql",
    );
    // An explicit block: SET DEFAULT inside it, the backfill and the NOT NULL steps after the COMMIT.
    fix_in_editor(
        &[
            ("migrations/001_users.sql", USERS.into()),
            (
                "migrations/002_public_id.sql",
                "BEGIN;\nALTER TABLE users ADD COLUMN public_id uuid NOT NULL DEFAULT gen_random_uuid();\nCOMMIT;\n".into(),
            ),
        ],
        "migrations/002_public_id.sql",
        "add-column-rewrite",
        "Add `public_id` without the default, SET DEFAULT for new rows, backfill the existing rows in batches and enforce NOT NULL through a validated CHECK after the COMMIT",
    );
    // golang-migrate: the backfill in a new migration of its own.
    fix_in_editor(
        &[
            ("db/migrations/0001_users.up.sql", USERS.into()),
            ("db/migrations/0002_token.up.sql", "ALTER TABLE users ADD COLUMN token text DEFAULT md5(random()::text);\n".into()),
        ],
        "db/migrations/0002_token.up.sql",
        "add-column-rewrite",
        "Add `token` without the default, SET DEFAULT for new rows, backfill the existing rows in batches in a new migration 0003_backfill_users_token.up.sql",
    );
}
