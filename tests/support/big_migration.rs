//! A generated migration of realistic, messy statements, shared by the LSP benchmarks.

use std::fmt::Write as _;

/// A realistic, messy migration: new tables with their indexes, columns, constraints and
/// backfills on existing tables, comments in between.
pub fn migration(statements: usize) -> String {
    let mut sql = String::from("-- Quarterly schema changes.\nSET lock_timeout = '5s';\n\n");
    for i in 0..statements {
        let g = i / 10;
        let existing = format!("orders_{}", g % 50);
        let _ = match i % 10 {
            0 => writeln!(
                sql,
                "-- Accounts, part {g}.\nCREATE TABLE accounts_{g} (\n    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n    owner_id bigint NOT NULL,\n    name text NOT NULL,\n    status text,\n    created_at timestamptz NOT NULL DEFAULT now()\n);"
            ),
            1 => writeln!(sql, "CREATE INDEX accounts_{g}_owner_idx ON accounts_{g} (owner_id);"),
            2 => writeln!(sql, "ALTER TABLE accounts_{g} ADD COLUMN note_{g} text;"),
            3 => writeln!(sql, "ALTER TABLE {existing} ADD COLUMN flag_{g} boolean NOT NULL DEFAULT false;"),
            4 => writeln!(sql, "CREATE INDEX {existing}_status_{g}_idx ON {existing} (status, created_at);"),
            5 => writeln!(
                sql,
                "/* backfill in batches */\nUPDATE {existing} SET status = 'archived'\n WHERE id BETWEEN {} AND {} AND created_at < now() - interval '1 year';",
                g * 10_000,
                g * 10_000 + 9_999
            ),
            6 => writeln!(
                sql,
                "ALTER TABLE {existing} ADD CONSTRAINT {existing}_account_{g}_fk\n    FOREIGN KEY (account_id) REFERENCES accounts_{g} (id) NOT VALID;"
            ),
            7 => writeln!(sql, "ALTER TABLE {existing} VALIDATE CONSTRAINT {existing}_account_{g}_fk;"),
            8 => writeln!(sql, "COMMENT ON TABLE accounts_{g} IS 'accounts of group {g}';"),
            _ => writeln!(sql, "ALTER TABLE accounts_{g} ALTER COLUMN status SET DEFAULT 'new';\n"),
        };
    }
    sql
}
