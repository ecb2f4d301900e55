//! `extension-missing`: a type, operator class or function of an extension used before any
//! migration of the chain runs `CREATE EXTENSION`.
//!
//! [`EXTENSION_OBJECTS`] is the one table of what belongs to which extension. The chain's
//! extensions come from the replay (`CREATE EXTENSION`, `DROP EXTENSION`, in `DO` blocks too),
//! the statements above this one in the same migration included.

use sqlparser::tokenizer::Token;

use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, POSTGRES};
use crate::schema::{Baseline, Schema};
use crate::sql::facts::*;
use crate::sql::lexer::Tok;
use crate::sql::recognize::function_calls;

pub static RULE: Rule = Rule {
    id: "extension-missing",
    category: Category::History,
    default_severity: Severity::Warning,
    dialects: POSTGRES,
    summary: "a type, operator class or function of an extension used with no CREATE EXTENSION earlier in the chain",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
A statement that uses an object of a well-known extension when no earlier migration of the set
(nor an earlier statement of the same migration) runs `CREATE EXTENSION` for it, or one dropped it
since:
- a column type (`CREATE TABLE`, `ADD COLUMN`, `ALTER COLUMN … TYPE`): `citext` (citext),
  `hstore` (hstore), `ltree` (ltree), `geometry` / `geography` (postgis), `vector` / `halfvec`
  (vector), …;
- an operator class in `CREATE INDEX` or an `EXCLUDE` constraint: `gin_trgm_ops` (pg_trgm),
  `vector_cosine_ops` (vector), `gist_int4_ops` (btree_gist), …;
- a `gist` index or exclusion constraint on a plain scalar column (`room_id WITH =`) needs
  btree_gist, a `gin` index on one btree_gin (when the replay knows the column's type);
- a function called in a default, a `CHECK`, a generated column or an index expression:
  `uuid_generate_v4()` (uuid-ossp), `similarity()` (pg_trgm), `crypt()` / `digest()` (pgcrypto),
  `ST_*()` (postgis), `unaccent()`, …; `gen_random_uuid()` only before PostgreSQL 13 (it is core
  since).

Nothing is flagged when the name is a type or function an earlier migration created itself
(`CREATE TYPE citext …`, `CREATE FUNCTION similarity(…)`), for the extensions the platform
installs before any migration (Supabase: `uuid-ossp`, `pgcrypto`, `pg_stat_statements`, `pgjwt`,
`pg_graphql`, `supabase_vault`, `pgsodium`), nor when the set does not start from an empty
database (a file checked on its own, or a set that uses tables no migration creates: the
extension may be in that baseline). Comments and strings are not read.

With a dev database connected that has the extension, the finding stays (a database built from
the migrations still fails) and says it was installed there by hand.

## Why it hurts
The migrations work on every database someone prepared by hand and fail on a fresh one — a new
developer's, CI's, a new environment's: `type "citext" does not exist`, `operator class
"gin_trgm_ops" does not exist for access method "gin"`, `function uuid_generate_v4() does not
exist`.

## Example
```sql
-- 0001_users.sql (no CREATE EXTENSION anywhere before)
CREATE TABLE users (id uuid PRIMARY KEY DEFAULT uuid_generate_v4(), email citext NOT NULL);
```

## Instead
```sql
CREATE EXTENSION IF NOT EXISTS "uuid-ossp";
CREATE EXTENSION IF NOT EXISTS citext;
CREATE TABLE users (id uuid PRIMARY KEY DEFAULT uuid_generate_v4(), email citext NOT NULL);
```

## Quick fix
**Safe**: `CREATE EXTENSION IF NOT EXISTS <name>;` on its own line at the top of the migration
(before its first statement, after a runner's header such as `-- +goose Up`), when the statement
runs up. As every fix, it is refused for a migration that is shipped or applied: then add the
`CREATE EXTENSION` to a new migration that runs first on a fresh database, by hand.
"#;

/// How a migration uses an extension's object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UseKind {
    Type,
    OperatorClass,
    Function,
    /// A plain scalar column as a `gist` or `gin` key (btree_gist, btree_gin); the use's name
    /// says what it is.
    ScalarKey,
}

impl UseKind {
    fn phrase(self) -> &'static str {
        match self {
            UseKind::Type => "a type",
            UseKind::OperatorClass => "an operator class",
            UseKind::Function => "a function",
            UseKind::ScalarKey => "a scalar key",
        }
    }
}

/// An object an extension brings.
#[derive(Debug, Clone, Copy)]
pub struct ExtensionObject {
    pub extension: &'static str,
    pub kind: UseKind,
    /// Lower case; a name ending in `*` is a prefix (`st_*`).
    pub name: &'static str,
    /// Only before this PostgreSQL major version (`gen_random_uuid`, core since 13).
    pub before_pg: Option<u32>,
}

const fn obj(extension: &'static str, kind: UseKind, name: &'static str) -> ExtensionObject {
    ExtensionObject { extension, kind, name, before_pg: None }
}

use UseKind::{Function as F, OperatorClass as O, Type as T};

/// What belongs to which extension: the one table of it.
pub const EXTENSION_OBJECTS: &[ExtensionObject] = &[
    obj("pg_trgm", O, "gin_trgm_ops"),
    obj("pg_trgm", O, "gist_trgm_ops"),
    obj("pg_trgm", F, "similarity"),
    obj("pg_trgm", F, "word_similarity"),
    obj("pg_trgm", F, "strict_word_similarity"),
    obj("pg_trgm", F, "show_trgm"),
    obj("uuid-ossp", F, "uuid_generate_v1"),
    obj("uuid-ossp", F, "uuid_generate_v1mc"),
    obj("uuid-ossp", F, "uuid_generate_v3"),
    obj("uuid-ossp", F, "uuid_generate_v4"),
    obj("uuid-ossp", F, "uuid_generate_v5"),
    obj("uuid-ossp", F, "uuid_nil"),
    obj("uuid-ossp", F, "uuid_ns_dns"),
    obj("uuid-ossp", F, "uuid_ns_url"),
    obj("uuid-ossp", F, "uuid_ns_oid"),
    obj("uuid-ossp", F, "uuid_ns_x500"),
    obj("citext", T, "citext"),
    obj("hstore", T, "hstore"),
    obj("pgcrypto", F, "crypt"),
    obj("pgcrypto", F, "gen_salt"),
    obj("pgcrypto", F, "digest"),
    obj("pgcrypto", F, "hmac"),
    obj("pgcrypto", F, "gen_random_bytes"),
    obj("pgcrypto", F, "pgp_sym_encrypt"),
    obj("pgcrypto", F, "pgp_sym_decrypt"),
    obj("pgcrypto", F, "pgp_pub_encrypt"),
    obj("pgcrypto", F, "pgp_pub_decrypt"),
    obj("pgcrypto", F, "armor"),
    obj("pgcrypto", F, "dearmor"),
    ExtensionObject { extension: "pgcrypto", kind: F, name: "gen_random_uuid", before_pg: Some(13) },
    obj("postgis", T, "geometry"),
    obj("postgis", T, "geography"),
    obj("postgis", T, "box2d"),
    obj("postgis", T, "box3d"),
    obj("postgis", F, "st_*"),
    obj("btree_gist", O, "gist_int2_ops"),
    obj("btree_gist", O, "gist_int4_ops"),
    obj("btree_gist", O, "gist_int8_ops"),
    obj("btree_gist", O, "gist_float4_ops"),
    obj("btree_gist", O, "gist_float8_ops"),
    obj("btree_gist", O, "gist_numeric_ops"),
    obj("btree_gist", O, "gist_text_ops"),
    obj("btree_gist", O, "gist_bpchar_ops"),
    obj("btree_gist", O, "gist_bytea_ops"),
    obj("btree_gist", O, "gist_uuid_ops"),
    obj("btree_gist", O, "gist_date_ops"),
    obj("btree_gist", O, "gist_time_ops"),
    obj("btree_gist", O, "gist_timestamp_ops"),
    obj("btree_gist", O, "gist_timestamptz_ops"),
    obj("btree_gist", O, "gist_interval_ops"),
    obj("btree_gist", O, "gist_bool_ops"),
    obj("btree_gist", O, "gist_enum_ops"),
    obj("ltree", T, "ltree"),
    obj("ltree", T, "lquery"),
    obj("ltree", T, "ltxtquery"),
    obj("vector", T, "vector"),
    obj("vector", T, "halfvec"),
    obj("vector", T, "sparsevec"),
    obj("vector", O, "vector_l2_ops"),
    obj("vector", O, "vector_ip_ops"),
    obj("vector", O, "vector_cosine_ops"),
    obj("vector", O, "vector_l1_ops"),
    obj("vector", O, "halfvec_l2_ops"),
    obj("vector", O, "halfvec_ip_ops"),
    obj("vector", O, "halfvec_cosine_ops"),
    obj("pg_stat_statements", F, "pg_stat_statements_reset"),
    obj("unaccent", F, "unaccent"),
    obj("fuzzystrmatch", F, "levenshtein"),
    obj("fuzzystrmatch", F, "soundex"),
    obj("fuzzystrmatch", F, "metaphone"),
    obj("fuzzystrmatch", F, "dmetaphone"),
    obj("intarray", O, "gin__int_ops"),
    obj("intarray", O, "gist__int_ops"),
    obj("cube", T, "cube"),
    obj("earthdistance", F, "ll_to_earth"),
    obj("earthdistance", F, "earth_distance"),
];

/// Column types (canonical names) that `gist` and `gin` index only through btree_gist and
/// btree_gin.
const BTREE_SCALARS: &[&str] = &[
    "int2",
    "int4",
    "int8",
    "float4",
    "float8",
    "numeric",
    "text",
    "varchar",
    "bpchar",
    "bytea",
    "uuid",
    "date",
    "time",
    "timestamp",
    "timestamptz",
    "interval",
    "bool",
    "money",
    "oid",
];

/// The extension object `name` (lower case) of `kind` names.
pub fn extension_object(kind: UseKind, name: &str) -> Option<&'static ExtensionObject> {
    EXTENSION_OBJECTS.iter().find(|o| {
        o.kind == kind
            && match o.name.strip_suffix('*') {
                Some(prefix) => name.starts_with(prefix) && name.len() > prefix.len(),
                None => o.name == name,
            }
    })
}

/// One use of an extension's object in the statement.
pub(crate) struct Use {
    pub extension: &'static str,
    pub kind: UseKind,
    /// As written (lower case); for a [`UseKind::ScalarKey`] what it is.
    pub name: String,
    /// Statement-relative.
    pub span: Span,
}

fn check(ctx: &StatementContext, out: &mut Emitter) {
    for u in missing(ctx) {
        let ext_sql = crate::sql::quote::ident(u.extension);
        let by_hand = if ctx.migration.schema.live_has_extension(u.extension) == Some(true) {
            " (the dev database has it, installed by hand: a database built from the migrations will not)"
        } else {
            ""
        };
        let what = if u.kind == UseKind::ScalarKey {
            format!("{} needs the `{}` extension", u.name, u.extension)
        } else {
            format!("`{}` is {} of the `{}` extension", u.name, u.kind.phrase(), u.extension)
        };
        out.report(
            u.span,
            format!(
                "{what}, and no earlier migration runs `CREATE EXTENSION {ext_sql}`: on a fresh database this statement fails{by_hand}"
            ),
        )
        .with_fix(format!("Add `CREATE EXTENSION IF NOT EXISTS {ext_sql};` at the top of this migration"));
    }
}

/// The extensions this statement uses that the chain has not created by then, each with its
/// first use: what the rule reports, and what its quick fix creates.
pub(crate) fn missing(ctx: &StatementContext) -> Vec<Use> {
    if !matches!(ctx.kind(), StatementKind::CreateTable(_) | StatementKind::AlterTable(_) | StatementKind::CreateIndex(_))
    {
        return Vec::new();
    }
    let events = ctx.replay_events();
    let Some(schema) = events.schema_before(ctx.index) else { return Vec::new() };
    // Only a chain that starts from an empty database says what a fresh install has.
    if schema.baseline() != Baseline::Empty {
        return Vec::new();
    }
    let mut out: Vec<Use> = Vec::new();
    for u in uses(ctx, schema) {
        if out.iter().any(|o| o.extension == u.extension)
            || schema.extension(u.extension).is_some()
            || ctx.settings().preinstalled_extensions.contains(&u.extension)
        {
            continue;
        }
        out.push(u);
    }
    out
}

/// An `EXCLUDE` constraint: its span, the columns of the `CREATE TABLE` it is in, its table.
type Exclusion<'a> = (Span, Option<&'a [ColumnDef]>, Option<&'a QualifiedName>);

/// Every use of an extension's object in the statement, in order.
fn uses(ctx: &StatementContext, schema: &Schema) -> Vec<Use> {
    let mut out = Vec::new();
    let mut spans: Vec<Span> = Vec::new();
    let mut types: Vec<&TypeName> = Vec::new();
    let mut excludes: Vec<Exclusion> = Vec::new();
    let column = |col: &'_ ColumnDef, spans: &mut Vec<Span>| {
        spans.extend(col.default.as_ref().map(|d| d.span));
        spans.extend(col.check);
        spans.extend(col.generated.as_ref().map(|g| g.span));
    };
    let constraint = |tc: &TableConstraint, spans: &mut Vec<Span>| {
        if let ConstraintKind::Check { .. } = tc.kind {
            spans.push(tc.span);
        }
    };
    let toks = ctx.stmt.parsed.tokens();
    match ctx.kind() {
        StatementKind::CreateTable(ct) => {
            for col in &ct.columns {
                types.extend(&col.ty);
                column(col, &mut spans);
            }
            for tc in &ct.constraints {
                constraint(tc, &mut spans);
                if tc.kind == ConstraintKind::Exclude {
                    excludes.push((tc.span, Some(&ct.columns), Some(&ct.name)));
                }
            }
        }
        StatementKind::AlterTable(at) => {
            for a in &at.actions {
                match &a.action {
                    AlterAction::AddColumn { column: col, .. } => {
                        types.extend(&col.ty);
                        column(col, &mut spans);
                    }
                    AlterAction::AlterColumnType { ty, using, .. } => {
                        types.push(ty);
                        spans.extend(*using);
                    }
                    AlterAction::SetDefault { default, .. } => spans.push(default.span),
                    AlterAction::AddConstraint(tc) => {
                        constraint(tc, &mut spans);
                        if tc.kind == ConstraintKind::Exclude {
                            excludes.push((tc.span, None, Some(&at.table)));
                        }
                    }
                    _ => {}
                }
            }
        }
        StatementKind::CreateIndex(ci) => {
            // From the key list's `(` on: key columns and expressions, opclasses, INCLUDE, WHERE.
            let on = toks.iter().position(|t| matches!(&t.token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("ON")));
            let keys = on.and_then(|on| toks[on..].iter().position(|t| matches!(t.token, Token::LParen)).map(|p| on + p));
            if let Some(open) = keys {
                let head: Vec<&Tok> = toks[..open].iter().collect();
                let method = index_method(&head);
                let rest: Vec<&Tok> = toks[open..].iter().collect();
                out.extend(calls(&rest, schema, ctx));
                out.extend(element_uses(&rest, method.as_deref(), |col| schema.column(&ci.table, col).and_then(|(_, c)| c.ty.clone()), false));
            }
        }
        _ => {}
    }
    for ty in types {
        let name = ty.canonical.as_str();
        let Some(o) = extension_object(UseKind::Type, name) else { continue };
        let own = QualifiedName {
            parts: vec![Name { value: name.to_string(), quoted: false, span: Span::default() }],
            span: Span::default(),
        };
        if schema.type_def(&own).is_none() {
            out.push(Use { extension: o.extension, kind: UseKind::Type, name: name.to_string(), span: ty.span });
        }
    }
    for span in spans {
        let within: Vec<&Tok> = toks.iter().filter(|t| t.start >= span.start && t.end <= span.end).collect();
        out.extend(calls(&within, schema, ctx));
    }
    for (span, own_columns, table) in excludes {
        let within: Vec<&Tok> = toks.iter().filter(|t| t.start >= span.start && t.end <= span.end).collect();
        let Some(open) = within.iter().position(|t| matches!(t.token, Token::LParen)) else { continue };
        let method = index_method(&within[..open]);
        let type_of = |col: &str| {
            own_columns
                .and_then(|cols| cols.iter().find(|c| c.name.value == col).and_then(|c| c.ty.clone()))
                .or_else(|| table.and_then(|t| schema.column(t, col)).and_then(|(_, c)| c.ty.clone()))
        };
        out.extend(element_uses(&within[open..], method.as_deref(), type_of, true));
    }
    out.sort_by_key(|u| u.span.start);
    out
}

/// The calls in `toks` to an extension's function (not one a migration created).
fn calls(toks: &[&Tok], schema: &Schema, ctx: &StatementContext) -> Vec<Use> {
    function_calls(toks)
        .into_iter()
        .filter_map(|call| {
            let name = call.name().to_string();
            let o = extension_object(UseKind::Function, &name)?;
            if o.before_pg.is_some_and(|v| ctx.pg_at_least(v)) || schema.function(&call).is_some() {
                return None;
            }
            Some(Use { extension: o.extension, kind: UseKind::Function, name, span: call.span })
        })
        .collect()
}

/// `USING method` before the key list, lower case.
fn index_method(toks: &[&Tok]) -> Option<String> {
    let i = toks.iter().rposition(|t| matches!(&t.token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("USING")))?;
    match &toks.get(i + 1)?.token {
        Token::Word(w) => Some(w.value.to_lowercase()),
        _ => None,
    }
}

/// The elements of a key list starting at its `(`: opclasses of extensions, and plain scalar
/// columns that `gist` (btree_gist) or `gin` (btree_gin) index only through an extension — in an
/// exclusion constraint (`col WITH =`), a scalar column compared with `=`.
fn element_uses(
    toks: &[&Tok],
    method: Option<&str>,
    type_of: impl Fn(&str) -> Option<TypeName>,
    exclusion: bool,
) -> Vec<Use> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut element: Vec<&Tok> = Vec::new();
    let mut elements: Vec<Vec<&Tok>> = Vec::new();
    for t in toks {
        match t.token {
            Token::LParen | Token::LBracket => {
                depth += 1;
                if depth == 1 {
                    continue;
                }
            }
            Token::RParen | Token::RBracket => {
                depth -= 1;
                if depth == 0 {
                    elements.push(std::mem::take(&mut element));
                    break;
                }
            }
            Token::Comma if depth == 1 => {
                elements.push(std::mem::take(&mut element));
                continue;
            }
            _ => {}
        }
        element.push(t);
    }
    let word = |t: &Tok| match &t.token {
        Token::Word(w) => Some(if w.quote_style.is_some() { w.value.clone() } else { w.value.to_lowercase() }),
        _ => None,
    };
    for el in elements {
        let mut opclass = false;
        for t in &el {
            if let Some(o) = word(t).and_then(|w| extension_object(UseKind::OperatorClass, &w)) {
                out.push(Use {
                    extension: o.extension,
                    kind: UseKind::OperatorClass,
                    name: o.name.to_string(),
                    span: Span::new(t.start, t.end),
                });
                opclass = true;
            }
        }
        if opclass {
            continue;
        }
        let Some(first) = el.first() else { continue };
        let Some(col) = word(first) else { continue };
        let scalar = type_of(&col).filter(|ty| !ty.array && BTREE_SCALARS.contains(&ty.canonical.as_str()));
        let Some(ty) = scalar else { continue };
        let span = Span::new(first.start, el.last().map_or(first.end, |t| t.end));
        let plain = el.len() == 1 || (el.len() == 2 && word(el[1]).is_some_and(|w| matches!(w.as_str(), "asc" | "desc")));
        let needs = match method {
            Some("gist") if exclusion => {
                let is_eq = el.len() == 3
                    && word(el[1]).as_deref() == Some("with")
                    && matches!(el[2].token, Token::Eq);
                is_eq.then_some(("btree_gist", format!("`{col} WITH =` in a gist exclusion constraint (`{col}` is {})", ty.canonical)))
            }
            Some("gist") if plain => Some(("btree_gist", format!("a gist index on the {} column `{col}`", ty.canonical))),
            Some("gin") if plain => Some(("btree_gin", format!("a gin index on the {} column `{col}`", ty.canonical))),
            _ => None,
        };
        if let Some((extension, what)) = needs {
            out.push(Use { extension, kind: UseKind::ScalarKey, name: what, span });
        }
    }
    out
}
