//! `identifier-too-long`: identifiers over PostgreSQL's 63-byte limit (NAMEDATALEN - 1).

use rustc_hash::FxHashSet;

use crate::rules::{Category, Emitter, Rule, Severity, StatementContext, POSTGRES};
use crate::sql::facts::Name;

pub static RULE: Rule = Rule {
    id: "identifier-too-long",
    category: Category::Transactions,
    default_severity: Severity::Warning,
    dialects: POSTGRES,
    summary: "Identifier over 63 bytes: PostgreSQL silently truncates it, and two long names can collide",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it flags
A table, column, index, constraint or other identifier longer than 63 bytes. The limit counts
bytes, not characters: a name with non-ASCII letters reaches it sooner.

## Why it hurts
PostgreSQL truncates longer identifiers to 63 bytes (keeping whole characters) with nothing more
than a NOTICE. The object then has a different name than the one written in the migration and in
the code, and two long names that share their first 63 bytes become the same name: the second
`CREATE INDEX` fails with "already exists", or an `ALTER`/`DROP` silently acts on the other
object. ORMs and generated constraint names reach the limit easily.

## Example
```sql
CREATE INDEX orders_customer_id_created_at_status_shipping_country_region_idx
    ON orders (customer_id, created_at);
```

## Instead
Choose a name of at most 63 bytes, distinct within those bytes:
```sql
CREATE INDEX orders_customer_created_status_idx ON orders (customer_id, created_at);
```

## Quick fix
None: pick a meaningful shorter name rather than the truncated one.
"#;

/// NAMEDATALEN - 1: the longest identifier PostgreSQL keeps, in bytes.
const MAX_IDENTIFIER_BYTES: usize = 63;

fn check(ctx: &StatementContext, out: &mut Emitter) {
    let mut seen = FxHashSet::default();
    for name in &ctx.facts().identifiers {
        // The written form is never shorter than the name, so short spans cannot be too long.
        if ((name.span.end - name.span.start) as usize) <= MAX_IDENTIFIER_BYTES || !seen.insert(name.span) {
            continue;
        }
        let actual = as_postgres_sees(ctx, name);
        if actual.len() <= MAX_IDENTIFIER_BYTES {
            continue;
        }
        let kept = truncate_at_char_boundary(&actual, MAX_IDENTIFIER_BYTES);
        let chars = actual.chars().count();
        let size = if chars == actual.len() {
            format!("{} bytes", actual.len())
        } else {
            format!("{} bytes ({chars} characters)", actual.len())
        };
        out.report(
            name.span,
            format!(
                "`{actual}` is {size}, over PostgreSQL's 63-byte limit: PostgreSQL silently truncates it to `{kept}`, so the object gets a name the code does not use, and two long names that share their first 63 bytes collide (\"already exists\", or an ALTER/DROP hitting the other object); choose a name of at most 63 bytes"
            ),
        );
    }
}

/// The identifier as PostgreSQL stores it: quoted names as written, unquoted names with ASCII
/// letters folded to lower case (PostgreSQL leaves multi-byte characters alone).
fn as_postgres_sees(ctx: &StatementContext, name: &Name) -> String {
    if name.quoted {
        name.value.clone()
    } else {
        ctx.text(name.span).to_ascii_lowercase()
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn truncate_at_char_boundary(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::truncate_at_char_boundary;

    #[test]
    fn truncation_keeps_whole_characters() {
        assert_eq!(truncate_at_char_boundary("abc", 63), "abc");
        assert_eq!(truncate_at_char_boundary("aé", 2), "a");
        assert_eq!(truncate_at_char_boundary("aé", 3), "aé");
        assert_eq!(truncate_at_char_boundary("€€", 5), "€");
    }
}
