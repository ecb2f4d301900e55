//! Which expressions from a migration a data probe may evaluate on the dev database.
//!
//! A probe runs a CHECK clause, a unique index's keys or predicate, as written in a migration
//! nobody applied yet, on the developer's database. The read-only transaction does not stop
//! everything: `pg_terminate_backend`, session-level advisory locks and `dblink` act outside it.
//! So [`harmless`] lets through only expressions built from column references, literals,
//! operators, casts to built-in types, the grammar's own constructs (`CASE`, `COALESCE`,
//! `SUBSTRING(… FROM …)`, …) and calls of the built-in functions in [`IMMUTABLE`] (every
//! `pg_catalog` overload of that name and arity is immutable: see the live test that checks the
//! list against `pg_proc`). Function calls are sent schema-qualified (`pg_catalog.lower(…)`), and
//! the probe's transaction fixes `search_path` to `pg_catalog`, so no operator, type or function
//! of another schema can be reached by name. Anything else is refused with the reason the
//! finding shows: "calls `f()`", "contains a subquery", "casts to `s.t`", "uses operator `s.op`".

use sqlparser::tokenizer::Token;

use crate::sql::lexer::{self, Tok};
use crate::sql::Dialect;

/// Built-in functions a probe may call: `name` (every arity) or `name/N` (calls with N
/// arguments). Each is in `pg_catalog` and immutable in every overload of that arity.
pub const IMMUTABLE: &[&str] = &[
    "abs",
    "array_length",
    "array_lower",
    "array_ndims",
    "array_position",
    "array_upper",
    "ascii",
    "bit_length",
    "btrim",
    "cardinality",
    "ceil",
    "ceiling",
    "char_length",
    "character_length",
    "chr",
    "div",
    "exp",
    "floor",
    "gcd",
    "initcap",
    "isempty",
    "isfinite",
    "json_array_length",
    "json_typeof",
    "jsonb_array_length",
    "jsonb_exists",
    "jsonb_path_exists",
    "jsonb_typeof",
    "lcm",
    "left",
    "length/1",
    "ln",
    "log",
    "lower",
    "lower_inc",
    "lower_inf",
    "ltrim",
    "md5",
    "mod",
    "num_nonnulls",
    "num_nulls",
    "octet_length",
    "position",
    "power",
    "quote_ident",
    "regexp_like",
    "regexp_match",
    "regexp_replace",
    "replace",
    "reverse",
    "right",
    "round",
    "rtrim",
    "sign",
    "split_part",
    "sqrt",
    "starts_with",
    "strpos",
    "substr",
    "substring",
    "to_hex",
    "translate",
    "trunc",
    "upper",
    "upper_inc",
    "upper_inf",
    "width_bucket",
];

/// Unquoted words that may stand before `(` without calling a function by name: operators and
/// the grammar's own constructs, which PostgreSQL maps to `pg_catalog` itself.
const SYNTAX: &[&str] = &[
    "all",
    "and",
    "any",
    "array",
    "as",
    "at",
    "between",
    "both",
    "case",
    "cast",
    "coalesce",
    "distinct",
    "else",
    "end",
    "escape",
    "for",
    "from",
    "greatest",
    "ilike",
    "in",
    "is",
    "leading",
    "least",
    "like",
    "not",
    "nullif",
    "or",
    "overlay",
    "position",
    "row",
    "similar",
    "some",
    "substring",
    "symmetric",
    "then",
    "to",
    "trailing",
    "trim",
    "when",
    "zone",
];

/// Unquoted words that start a subquery.
const SUBQUERY: &[&str] = &["select", "values", "table", "exists"];

/// Words that continue a type name after `::` / `AS`.
const TYPE_WORDS: &[&str] = &["varying", "precision", "with", "without", "time", "zone"];

/// `expr` with every function call schema-qualified, or why it must not run: "calls `f()`",
/// "contains a subquery", "casts to `s.t`", "uses operator `s.op`".
pub fn harmless(expr: &str) -> Result<String, String> {
    let lexed = lexer::tokenize(Dialect::Postgres.sqlparser(), expr);
    if lexed.error.is_some() {
        return Err("the expression does not tokenize".into());
    }
    let toks: Vec<&Tok> = lexed.tokens.iter().filter(|t| !t.is_trivia() && !matches!(t.token, Token::EOF)).collect();
    let mut qualify: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        match &toks[i].token {
            Token::SemiColon => return Err("contains a `;`".into()),
            Token::DoubleColon => i = type_name(&toks, i + 1)?,
            Token::Word(_) => {
                let (parts, next) = name_at(&toks, i);
                let keyword = keyword(toks[i]).filter(|_| parts.len() == 1);
                let call = matches!(toks.get(next).map(|t| &t.token), Some(Token::LParen));
                match keyword.as_deref() {
                    Some(k) if SUBQUERY.contains(&k) => return Err("contains a subquery".into()),
                    Some("operator") if call => i = operator(&toks, next)?,
                    Some("as") => i = type_name(&toks, next)?,
                    Some(k) if call && SYNTAX.contains(&k) => i = next,
                    _ if call => {
                        let function = match parts.as_slice() {
                            [f] => f,
                            [schema, f] if schema == "pg_catalog" => f,
                            _ => return Err(format!("calls `{}()`", parts.join("."))),
                        };
                        if !allowed(function, arguments(&toks, next)) {
                            return Err(format!("calls `{}()`", parts.join(".")));
                        }
                        if parts.len() == 1 {
                            qualify.push(toks[i].start as usize);
                        }
                        i = next + 1;
                    }
                    // `type 'literal'` runs the type's input function.
                    _ if parts.len() > 1 && is_string(toks.get(next)) && parts[0] != "pg_catalog" => {
                        return Err(format!("casts to `{}`", parts.join(".")));
                    }
                    _ => i = next,
                }
            }
            _ => i += 1,
        }
    }
    let mut out = String::with_capacity(expr.len() + qualify.len() * 11);
    let mut at = 0;
    for offset in qualify {
        out.push_str(expr.get(at..offset).ok_or("the expression does not tokenize")?);
        out.push_str("pg_catalog.");
        at = offset;
    }
    out.push_str(expr.get(at..).ok_or("the expression does not tokenize")?);
    Ok(out)
}

/// `name` may be called with `arity` arguments.
fn allowed(name: &str, arity: usize) -> bool {
    IMMUTABLE.iter().any(|entry| match entry.split_once('/') {
        Some((n, a)) => n == name && a.parse() == Ok(arity),
        None => *entry == name,
    })
}

/// An unquoted word, lower-cased.
fn keyword(tok: &Tok) -> Option<String> {
    match &tok.token {
        Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_lowercase()),
        _ => None,
    }
}

/// The dotted name starting at `i` (each part as PostgreSQL folds it) and the index after it.
fn name_at(toks: &[&Tok], i: usize) -> (Vec<String>, usize) {
    let mut parts = Vec::new();
    let mut at = i;
    while let Some(Token::Word(w)) = toks.get(at).map(|t| &t.token) {
        parts.push(if w.quote_style.is_some() { w.value.clone() } else { w.value.to_lowercase() });
        if matches!(toks.get(at + 1).map(|t| &t.token), Some(Token::Period))
            && matches!(toks.get(at + 2).map(|t| &t.token), Some(Token::Word(_)))
        {
            at += 2;
        } else {
            return (parts, at + 1);
        }
    }
    (parts, at)
}

fn is_string(tok: Option<&&Tok>) -> bool {
    matches!(
        tok.map(|t| &t.token),
        Some(
            Token::SingleQuotedString(_)
                | Token::EscapedStringLiteral(_)
                | Token::DollarQuotedString(_)
                | Token::NationalStringLiteral(_)
        )
    )
}

/// The index of the `)` closing the `(` at `open`, or the end.
fn close(toks: &[&Tok], open: usize) -> usize {
    let mut depth = 0usize;
    for (i, t) in toks.iter().enumerate().skip(open) {
        match t.token {
            Token::LParen | Token::LBracket => depth += 1,
            Token::RParen | Token::RBracket => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    toks.len()
}

/// The number of arguments of the call whose `(` is at `open`.
fn arguments(toks: &[&Tok], open: usize) -> usize {
    let end = close(toks, open);
    if end == open + 1 {
        return 0;
    }
    let mut depth = 0usize;
    let mut commas = 0;
    for t in toks.get(open + 1..end).unwrap_or_default() {
        match t.token {
            Token::LParen | Token::LBracket => depth += 1,
            Token::RParen | Token::RBracket => depth = depth.saturating_sub(1),
            Token::Comma if depth == 0 => commas += 1,
            _ => {}
        }
    }
    commas + 1
}

/// Skips the type name of a cast starting at `i`: only a `pg_catalog` type when qualified (an
/// unqualified one resolves in `pg_catalog` only, through the probe's `search_path`), with a
/// constant type modifier and array brackets. Returns the index after it.
fn type_name(toks: &[&Tok], i: usize) -> Result<usize, String> {
    let (parts, mut at) = name_at(toks, i);
    match parts.as_slice() {
        [] | [_] => {}
        [schema, _] if schema == "pg_catalog" => {}
        _ => return Err(format!("casts to `{}`", parts.join("."))),
    }
    loop {
        match toks.get(at).map(|t| &t.token) {
            Some(Token::Word(w))
                if w.quote_style.is_none() && TYPE_WORDS.contains(&w.value.to_lowercase().as_str()) =>
            {
                at += 1
            }
            Some(Token::LParen | Token::LBracket) => {
                let end = close(toks, at);
                let inner = toks.get(at + 1..end).unwrap_or_default();
                if !inner.iter().all(|t| matches!(t.token, Token::Number(..) | Token::Comma)) {
                    return Err(format!("casts to `{}` with a computed modifier", parts.join(".")));
                }
                at = end + 1;
            }
            _ => return Ok(at),
        }
    }
}

/// Checks `OPERATOR(schema.op)` whose `(` is at `open`: only `pg_catalog` operators. Returns the
/// index after the `)`.
fn operator(toks: &[&Tok], open: usize) -> Result<usize, String> {
    let end = close(toks, open);
    let inner: String = toks.get(open + 1..end).unwrap_or_default().iter().map(|t| t.token.to_string()).collect();
    let in_catalog =
        toks.get(open + 1).map(|t| name_at(std::slice::from_ref(t), 0).0).is_some_and(|p| p == ["pg_catalog"])
            && matches!(toks.get(open + 2).map(|t| &t.token), Some(Token::Period));
    if in_catalog {
        Ok(end + 1)
    } else {
        Err(format!("uses operator `{inner}`"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_expressions_pass_with_their_calls_qualified() {
        for (expr, sent) in [
            ("(price > 0)", "(price > 0)"),
            ("(lower(email) = email)", "(pg_catalog.lower(email) = email)"),
            ("(\"lower\"(email) = email)", "(pg_catalog.\"lower\"(email) = email)"),
            ("(pg_catalog.upper(a) <> a)", "(pg_catalog.upper(a) <> a)"),
            (
                "(length(btrim(name)) BETWEEN 1 AND 100)",
                "(pg_catalog.length(pg_catalog.btrim(name)) BETWEEN 1 AND 100)",
            ),
            (
                "(amount::numeric(10, 2) > 0 AND CAST(x AS character varying(3)) IS NOT NULL)",
                "(amount::numeric(10, 2) > 0 AND CAST(x AS character varying(3)) IS NOT NULL)",
            ),
            (
                "(t.a::timestamp(3) with time zone < '2020-01-01'::pg_catalog.timestamptz)",
                "(t.a::timestamp(3) with time zone < '2020-01-01'::pg_catalog.timestamptz)",
            ),
            (
                "(CASE WHEN a IN (1, 2) THEN coalesce(b, 0) ELSE nullif(c, 1) END > 0)",
                "(CASE WHEN a IN (1, 2) THEN coalesce(b, 0) ELSE nullif(c, 1) END > 0)",
            ),
            (
                "(substring(s FROM 1 FOR 2) <> '' AND position('@' IN s) > 0)",
                "(substring(s FROM 1 FOR 2) <> '' AND position('@' IN s) > 0)",
            ),
            ("(a OPERATOR(pg_catalog.=) b)", "(a OPERATOR(pg_catalog.=) b)"),
            ("(tags = ARRAY['x'] AND a = ANY (ARRAY[1, 2]))", "(tags = ARRAY['x'] AND a = ANY (ARRAY[1, 2]))"),
        ] {
            assert_eq!(harmless(expr).as_deref(), Ok(sent), "{expr}");
        }
    }

    #[test]
    fn anything_else_says_why() {
        for (expr, why) in [
            ("(pg_terminate_backend(42))", "calls `pg_terminate_backend()`"),
            ("(pg_catalog.pg_advisory_lock(1) IS NOT NULL)", "calls `pg_catalog.pg_advisory_lock()`"),
            ("(public.lower(email) = email)", "calls `public.lower()`"),
            ("(\"Lower\"(email) = email)", "calls `Lower()`"),
            ("(dblink_exec('x', 'y') = 'OK')", "calls `dblink_exec()`"),
            ("(now() > created_at)", "calls `now()`"),
            ("(length(b, 'UTF8') > 0)", "calls `length()`"),
            ("(a > (SELECT 1))", "contains a subquery"),
            ("(EXISTS (VALUES (1)))", "contains a subquery"),
            ("(a::public.locked > 0)", "casts to `public.locked`"),
            ("(CAST(a AS public.locked) > 0)", "casts to `public.locked`"),
            ("(public.locked '1' > 0)", "casts to `public.locked`"),
            ("(a OPERATOR(public.=) b)", "uses operator `public.=`"),
            ("(a); SELECT 1", "contains a `;`"),
            ("(x.y.z(1))", "calls `x.y.z()`"),
        ] {
            assert_eq!(harmless(expr), Err(why.to_string()), "{expr}");
        }
    }
}
