//! The names PostgreSQL gives the objects a fix writes, so that the catalog a fixed migration
//! builds is the one the original would have built.

/// The longest identifier PostgreSQL keeps (`NAMEDATALEN - 1` bytes).
const MAX: usize = 63;

/// PostgreSQL's `makeObjectName`: `name1_name2_label`, with `name1` and `name2` shortened (the
/// longer one first, a byte at a time) until the whole fits in 63 bytes. This is how it names
/// an unnamed index (`orders_customer_id_idx`), unique constraint (`users_email_key`) or primary
/// key (`users_pkey`).
pub(super) fn object_name(name1: &str, name2: Option<&str>, label: &str) -> String {
    let overhead = name2.map_or(0, |_| 1) + label.len() + 1;
    let avail = MAX.saturating_sub(overhead);
    let (mut n1, mut n2) = (name1.len(), name2.map_or(0, str::len));
    while n1 + n2 > avail {
        if n1 > n2 {
            n1 -= 1;
        } else {
            n2 -= 1;
        }
    }
    let mut out = clip(name1, n1).to_string();
    if let Some(name2) = name2 {
        out.push('_');
        out.push_str(clip(name2, n2));
    }
    out.push('_');
    out.push_str(label);
    out
}

/// PostgreSQL's `ChooseIndexNameAddition`: the column names joined by `_`, cut where it passes
/// the identifier length (`makeObjectName` shortens it further).
pub(super) fn columns_addition(columns: &[&str]) -> String {
    let mut out = String::new();
    for c in columns {
        if !out.is_empty() {
            out.push('_');
        }
        out.push_str(c);
        if out.len() > MAX {
            break;
        }
    }
    out
}

/// The first `len` bytes of `s`, cut back to a character boundary (`pg_mbcliplen`).
fn clip(s: &str, len: usize) -> &str {
    let mut end = len.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// `name` as SQL: bare when PostgreSQL would read it back unchanged (reserved words quoted).
pub(super) use crate::sql::quote::ident;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_postgresql_chooses_them() {
        assert_eq!(object_name("users", Some("email"), "key"), "users_email_key");
        assert_eq!(object_name("users", None, "pkey"), "users_pkey");
        assert_eq!(
            object_name("order_lines", Some(&columns_addition(&["order_id", "line"])), "idx"),
            "order_lines_order_id_line_idx"
        );
        let long = "a".repeat(70);
        let name = object_name(&long, Some("customer_id"), "idx");
        assert_eq!(name.len(), 63);
        assert!(name.ends_with("_customer_id_idx"), "{name}");
        // Both long: the longer is cut first, then both in turn.
        let name = object_name(&"t".repeat(40), Some(&"c".repeat(40)), "key");
        assert_eq!(name, format!("{}_{}_key", "t".repeat(29), "c".repeat(29)));
        assert_eq!(ident("users_pkey"), "users_pkey");
        assert_eq!(ident("Users"), "\"Users\"");
    }
}
