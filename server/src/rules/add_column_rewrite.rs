//! `add-column-rewrite`: `ADD COLUMN` that makes PostgreSQL rewrite every row of an existing table.

use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, POSTGRES};
use crate::sql::facts::{AlterAction, ColumnDef, QualifiedName, Span, Volatility};
use crate::sql::recognize::builtin_volatility;
use crate::sql::locks::LockMode;
use crate::sql::ParseOutcome;

pub static RULE: Rule = Rule {
    id: "add-column-rewrite",
    category: Category::Locks,
    default_severity: Severity::Warning,
    dialects: POSTGRES,
    summary: "ADD COLUMN with a volatile default, serial, identity or STORED generated column (or any default before PostgreSQL 11) rewrites the whole table under ACCESS EXCLUSIVE",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
`ALTER TABLE … ADD COLUMN` on a table this migration did not create, when the new column needs a
value computed for every existing row:
- a volatile default: `random()`, `gen_random_uuid()`, `uuid_generate_v4()`, `clock_timestamp()`,
  `nextval(…)`, …;
- a default that calls a user function that is `VOLATILE`, or declares no volatility (PostgreSQL
  then makes it volatile): as the earlier migrations and the statements above it define it
  (`CREATE [OR REPLACE] FUNCTION`, `ALTER FUNCTION … IMMUTABLE | STABLE | VOLATILE`, `DROP
  FUNCTION`, in `DO` blocks too; a schema-qualified call matches that schema, a bare one `public`
  first, then any schema), else as the connected dev database's `pg_proc.provolatile` says. An
  `IMMUTABLE` or `STABLE` one adds instantly. A function neither knows is a **hint** ("may
  rewrite"), without a fix (and nothing when PostgreSQL rejects the statement anyway);
- a `serial` / `bigserial` / `smallserial` type (a `nextval` default in disguise);
- an identity column (`GENERATED … AS IDENTITY`);
- a `GENERATED ALWAYS AS (…) STORED` column;
- before PostgreSQL 11, any default other than `NULL`.

## Why it hurts
PostgreSQL rewrites the whole table to store the new values, holding an ACCESS EXCLUSIVE lock that
blocks every read and write until the rewrite and the index rebuilds are done: minutes on a large
table, and twice its disk space meanwhile. Since PostgreSQL 11 a constant or stable default (`'x'`,
`0`, `now()`) is stored once in the catalog and the column is added instantly; a volatile one still
rewrites.

## Example
```sql
ALTER TABLE users ADD COLUMN public_id uuid NOT NULL DEFAULT gen_random_uuid();
```

## Instead
```sql
ALTER TABLE users ADD COLUMN public_id uuid;                             -- instant
ALTER TABLE users ALTER COLUMN public_id SET DEFAULT gen_random_uuid();  -- new rows only
-- then, in its own migration, backfill existing rows in batches:
UPDATE users SET public_id = gen_random_uuid() WHERE id BETWEEN 1 AND 10000 AND public_id IS NULL;
-- and enforce NOT NULL with a validated CHECK (see set-not-null-scan)
```
For a serial column, add a plain `bigint` column and `SET DEFAULT nextval(…)` from a sequence
afterwards. For an identity column, add a plain column, backfill it, make it NOT NULL, then
`ALTER COLUMN … ADD GENERATED … AS IDENTITY` and move the sequence past the highest value. For a
STORED generated column, add a plain column kept current by a trigger and backfill it (PostgreSQL
18 also offers VIRTUAL generated columns, which are computed on read and add instantly).

## Quick fix
For a default (volatile, or any default before PostgreSQL 11) on a table with a single-column
primary key, **unsafe** and preferred: the column is added without the default (and without its
`NOT NULL`), then
1. `ALTER TABLE users ALTER COLUMN public_id SET DEFAULT gen_random_uuid();` right after it, in the
   same migration: new rows only, instant;
2. a batched backfill of the existing rows still NULL with the same expression: a `DO` loop over
   the primary key, 5,000 rows a round, `UPDATE users SET public_id = gen_random_uuid() WHERE …
   AND (public_id IS NULL)`, committing each round where it runs outside a transaction;
3. for a NOT NULL column (PostgreSQL 12+), the validated-check steps: `ADD CONSTRAINT
   users_public_id_not_null CHECK (public_id IS NOT NULL) NOT VALID`, then `VALIDATE CONSTRAINT`,
   `SET NOT NULL` (no scan) and `DROP CONSTRAINT` in the transaction after it.

Steps 2 and 3 go where `add-column-not-null-no-default`'s second fix puts them: right after the
statement in a file run statement by statement, after the `COMMIT` of an explicit block, else in
new migrations right after this one (the backfill's under the framework's transaction opt-out;
none for Drizzle or a file outside a migration set). The end catalog is the original's (type,
default, nullability); it is unsafe because the existing rows get the same kind of values, not
the values the original would have given them (a volatile default differs row by row anyway), and
until the backfill ends they read NULL.

No fix for a PRIMARY KEY or UNIQUE column (the key needs its values before its index: backfill,
then `CREATE UNIQUE INDEX CONCURRENTLY` and `ADD CONSTRAINT … USING INDEX`), nor for serial,
identity and STORED generated columns: their safe form is a sequence created and owned by hand
(`CREATE SEQUENCE`, a plain `bigint` column, `SET DEFAULT nextval(…)`, a backfill, `ALTER
SEQUENCE … OWNED BY`), an identity added after the backfill, or a trigger — new objects a rewrite
of the statement should not invent; the steps are under "Instead".
"#;

fn check(ctx: &StatementContext, out: &mut Emitter) {
    let Some(at) = ctx.alter_of_existing_table() else { return };
    let mode = LockMode::AccessExclusive;
    for action in &at.actions {
        let AlterAction::AddColumn { column, .. } = &action.action else { continue };
        let Some(rewrite) = rewrite_cause(ctx, column) else { continue };
        let message = format!(
            "{}, so adding `{}` rewrites all of `{}` under an {mode} lock, which {} until the rewrite finishes; {}",
            rewrite.cause,
            column.name,
            at.table,
            mode.blocks(),
            rewrite.instead,
        );
        let f = match rewrite.hedged {
            // A guess about a statement PostgreSQL rejects anyway (`syntax-error` says so) is noise.
            Some(_) if matches!(ctx.stmt.parsed.outcome, ParseOutcome::Invalid { .. }) => continue,
            Some(function) => {
                let message = format!(
                    "the default calls `{function}()`, which {}: if it is VOLATILE (PostgreSQL's default for a function declared without IMMUTABLE or STABLE), adding `{}` may rewrite all of `{}` under an {mode} lock, which {} until the rewrite finishes",
                    if ctx.migration.schema.is_live() {
                        "neither the migrations nor the dev database define"
                    } else {
                        "no migration before this one defines"
                    },
                    column.name,
                    at.table,
                    mode.blocks(),
                );
                out.report_at(Severity::Hint, rewrite.span, message);
                continue;
            }
            None => out.report(rewrite.span, message),
        };
        // What `fixes::columns` offers: not for a key, and NOT NULL needs PostgreSQL 12+.
        let keyed = column.primary_key.is_some() || column.unique.is_some();
        if rewrite.is_default && !keyed && (column.not_null.is_none() || ctx.pg_at_least(12)) {
            f.with_fix("Add the column without the default, SET DEFAULT for new rows and backfill the existing rows in batches");
        }
    }
}

struct Rewrite {
    cause: String,
    instead: String,
    span: Span,
    /// The default expression is the cause (the quick fix moves it to `SET DEFAULT`).
    is_default: bool,
    /// The default calls a function neither the replay nor the dev database knows: it may be
    /// volatile (a hint, without a fix).
    hedged: Option<String>,
}

fn rewrite_cause(ctx: &StatementContext, column: &ColumnDef) -> Option<Rewrite> {
    const SPLIT_DEFAULT: &str =
        "add the column without the default, SET DEFAULT afterwards (it applies to new rows only) and backfill existing rows in batches";
    if let Some(generated) = column.generated.as_ref().filter(|g| g.stored) {
        let virtual_hint =
            if ctx.pg_at_least(18) { " (or use a VIRTUAL generated column, which adds instantly)" } else { "" };
        return Some(Rewrite {
            cause: "a STORED generated column is computed for every existing row".into(),
            instead: format!("add a plain column kept current by a trigger and backfill it in batches{virtual_hint}"),
            span: generated.span,
            is_default: false,
            hedged: None,
        });
    }
    if let Some(generated) = column.generated.as_ref().filter(|g| g.identity) {
        return Some(Rewrite {
            cause: "an identity column takes a sequence value for every existing row".into(),
            instead: "add a plain column, backfill it in batches, make it NOT NULL, then ALTER COLUMN … ADD GENERATED … AS IDENTITY and move the sequence past the highest value".into(),
            span: generated.span,
            is_default: false,
            hedged: None,
        });
    }
    if let Some(ty) = column.ty.as_ref().filter(|t| t.is_serial()) {
        let plain = match ty.canonical.as_str() {
            "serial8" => "bigint",
            "serial2" => "smallint",
            _ => "integer",
        };
        return Some(Rewrite {
            cause: format!("a `{}` column takes a sequence value for every existing row", ty.text),
            instead: format!(
                "add a plain `{plain}` column, SET DEFAULT nextval(…) from a sequence afterwards and backfill existing rows in batches"
            ),
            span: ty.span,
            is_default: false,
            hedged: None,
        });
    }
    let default = column.default.as_ref().filter(|d| !d.is_null)?;
    if let Some(function) = &default.volatile {
        return Some(Rewrite {
            cause: format!("the volatile default `{function}` is computed for every existing row"),
            instead: SPLIT_DEFAULT.into(),
            span: default.span,
            is_default: true,
            hedged: None,
        });
    }
    if !ctx.pg_at_least(11) {
        return Some(Rewrite {
            cause: format!(
                "before PostgreSQL 11 (configured: {}) a default is written into every existing row",
                ctx.settings().postgres_version
            ),
            instead: SPLIT_DEFAULT.into(),
            span: default.span,
            is_default: true,
            hedged: None,
        });
    }
    let mut unknown = None;
    for call in default.calls.iter().filter(|c| builtin_volatility(c.name()).is_none()) {
        match user_function_volatility(ctx, call) {
            Some((Volatility::Volatile, source)) => {
                return Some(Rewrite {
                    cause: format!("the default calls `{call}()`, which is VOLATILE ({source}) and so computed for every existing row"),
                    instead: SPLIT_DEFAULT.into(),
                    span: default.span,
                    is_default: true,
                    hedged: None,
                });
            }
            Some(_) => {}
            None => unknown = unknown.or(Some(call.to_string())),
        }
    }
    let function = unknown?;
    Some(Rewrite { cause: String::new(), instead: String::new(), span: default.span, is_default: true, hedged: Some(function) })
}

/// The volatility of a function a default calls and where it comes from: the replayed
/// migrations (this one's earlier statements included), else the dev database's `pg_proc`.
fn user_function_volatility(ctx: &StatementContext, call: &QualifiedName) -> Option<(Volatility, String)> {
    let events = ctx.replay_events();
    if let Some(f) = events.schema_before(ctx.index).and_then(|s| s.function(call)) {
        let declared = match f.declared {
            Some(v) => format!("declared {}", v.keyword()),
            None => "declared without IMMUTABLE or STABLE, which PostgreSQL takes as VOLATILE".into(),
        };
        return Some((f.volatility(), format!("{declared}; {}", f.history)));
    }
    let v = ctx.migration.schema.live_function_volatility(call)?;
    Some((v, format!("`pg_proc.provolatile` is '{}' in the dev database", v.provolatile())))
}
