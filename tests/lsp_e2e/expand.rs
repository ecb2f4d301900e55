//! Expand/contract fixes through the editor: `rename-column`, `column-type-rewrite` (a new
//! migration for the backfill, created by the code action) and `rename-table` (the view).

use super::*;

const USERS: &str =
    "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL DEFAULT '', name text, score integer);\n";

#[test]
fn expand_contract_fixes_apply_through_the_editor() {
    // A plain file: the expand step and the backfill in place.
    fix_in_editor(
        &[
            ("db/migrations/001_users.sql", USERS.into()),
            ("db/migrations/002_rename.sql", "ALTER TABLE users RENAME COLUMN email TO email_address;\n".into()),
        ],
        "db/migrations/002_rename.sql",
        "rename-column",
        "Expand/contract: add `email_address` kept in sync with `email` by a trigger, backfill it right after it",
    );
    // goose: the backfill in a new NO TRANSACTION migration (CreateFile).
    fix_in_editor(
        &[
            ("db/migrations/00001_users.sql", goose_file(USERS)),
            ("db/migrations/00002_type.sql", goose_file("ALTER TABLE users ALTER COLUMN score TYPE bigint;")),
        ],
        "db/migrations/00002_type.sql",
        "column-type-rewrite",
        "Expand/contract: add `score_new` bigint kept in sync by a trigger, backfill it in a new migration 00003_backfill_users_score_new.sql",
    );
    // golang-migrate: the rename and the view in the file's one query string.
    fix_in_editor(
        &[
            ("db/migrations/0001_users.up.sql", USERS.into()),
            ("db/migrations/0002_rename.up.sql", "ALTER TABLE users RENAME TO accounts;\n".into()),
        ],
        "db/migrations/0002_rename.up.sql",
        "rename-table",
        "Leave an updatable view `users` over `accounts` in a transaction",
    );
}
