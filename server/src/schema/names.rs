//! The names PostgreSQL gives objects a statement does not name (`users_pkey`, `users_email_key`,
//! `orders_customer_id_fkey`, `users_id_seq`, `users_email_idx`), so that a later
//! `DROP CONSTRAINT users_email_key` finds what it drops.

/// PostgreSQL's `NAMEDATALEN - 1`.
const MAX_NAME_BYTES: usize = 63;

/// PostgreSQL's `makeObjectName`: `name1_name2_label`, truncating the longer of the two names
/// first so that the result fits in 63 bytes.
pub(crate) fn make_object_name(name1: &str, name2: Option<&str>, label: &str) -> String {
    let mut overhead = label.len() + 1;
    if name2.is_some() {
        overhead += 1;
    }
    let avail = MAX_NAME_BYTES.saturating_sub(overhead);
    let mut n1 = name1.len();
    let mut n2 = name2.map_or(0, str::len);
    while n1 + n2 > avail {
        if n1 > n2 {
            n1 -= 1;
        } else {
            n2 -= 1;
        }
    }
    let mut out = String::with_capacity(MAX_NAME_BYTES);
    out.push_str(clip(name1, n1));
    if let Some(n2s) = name2 {
        out.push('_');
        out.push_str(clip(n2s, n2));
    }
    out.push('_');
    out.push_str(label);
    out
}

/// `s` cut to at most `n` bytes on a character boundary (PostgreSQL's `pg_mbcliplen`).
fn clip(s: &str, n: usize) -> &str {
    let mut n = n.min(s.len());
    while !s.is_char_boundary(n) {
        n -= 1;
    }
    &s[..n]
}

/// PostgreSQL's `ChooseRelationName` / `ChooseConstraintName`: the first of `name1_name2_label`,
/// `…_label1`, `…_label2`, … that `taken` does not report as used.
pub(crate) fn choose_name(name1: &str, name2: Option<&str>, label: &str, taken: impl Fn(&str) -> bool) -> String {
    let first = make_object_name(name1, name2, label);
    if !taken(&first) {
        return first;
    }
    (1..1000)
        .map(|n| make_object_name(name1, name2, &format!("{label}{n}")))
        .find(|candidate| !taken(candidate))
        .unwrap_or(first)
}

/// The column part of an index or constraint name: column names joined by `_`, an expression
/// as `expr` (PostgreSQL's `ChooseIndexColumnNames`).
pub(crate) fn column_part(columns: &[String]) -> Option<String> {
    if columns.is_empty() {
        return None;
    }
    let parts: Vec<&str> = columns
        .iter()
        .map(|c| if c.chars().all(|ch| ch.is_alphanumeric() || ch == '_' || ch == '$') { c.as_str() } else { "expr" })
        .collect();
    Some(parts.join("_"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_are_joined() {
        assert_eq!(make_object_name("users", None, "pkey"), "users_pkey");
        assert_eq!(make_object_name("users", Some("email"), "key"), "users_email_key");
        assert_eq!(column_part(&["org_id".into(), "lower(email)".into()]).as_deref(), Some("org_id_expr"));
    }

    #[test]
    fn long_names_truncate_the_longer_part_first() {
        let table = "a".repeat(50);
        let name = make_object_name(&table, Some("email_address"), "key");
        assert_eq!(name.len(), 63);
        assert_eq!(name, format!("{}_email_address_key", "a".repeat(45)));
        let name = make_object_name(&"t".repeat(40), Some(&"c".repeat(40)), "fkey");
        assert_eq!(name, format!("{}_{}_fkey", "t".repeat(29), "c".repeat(28)));
    }

    #[test]
    fn taken_names_get_a_number() {
        let name = choose_name("users", Some("email"), "idx", |n| n == "users_email_idx");
        assert_eq!(name, "users_email_idx1");
    }
}
