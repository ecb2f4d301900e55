//! A directory of numbered `*.sql` files with no known tool (`001_init.sql`, `0002-add-users.sql`):
//! ordered by the leading number, then by name; `*.down.sql` files are the down part of their
//! version. Nothing is assumed about transactions: the runner is unknown (`assume_in_transaction`
//! in `safemig.toml` says it wraps).

use std::path::Path;

use super::{file_name, leading_digits, numeric, pair, strip_sql, whole, Entry, Framework};
use crate::sql::Dialect;
use crate::workspace::listing::Listing;
use crate::workspace::{Direction, FrameworkKind, Migration, Section, TransactionMode, VersionKey};

pub struct Plain;

fn parse_name(file: &str) -> Option<(&str, &str, Direction, &str)> {
    let stem = strip_sql(file)?;
    let (base, direction) = match (stem.strip_suffix(".up"), stem.strip_suffix(".down")) {
        (Some(b), _) => (b, Direction::Up),
        (_, Some(b)) => (b, Direction::Down),
        _ => (stem, Direction::Up),
    };
    let (digits, rest) = leading_digits(base);
    (!digits.is_empty()).then(|| (digits, rest.trim_start_matches(['_', '-', '.', ' ']), direction, base))
}

impl Framework for Plain {
    fn kind(&self) -> FrameworkKind {
        FrameworkKind::Plain
    }

    /// At least two numbered `*.sql` files, or one in a directory whose name says migrations.
    fn detect_listing(&self, listing: &Listing) -> bool {
        let count = listing.numbered_sql().take(2).count();
        count >= 2 || (count == 1 && listing.name().is_some_and(|n| n.to_ascii_lowercase().contains("migrat")))
    }

    fn collect(&self, listing: &Listing, dialect: Dialect, _problems: &mut Vec<String>) -> Vec<Migration> {
        let mut entries: Vec<Entry> = listing
            .numbered_sql()
            .filter_map(|file| {
                let (digits, name, direction, base) = parse_name(file)?;
                Some(Entry {
                    version: numeric(digits)?,
                    name: name.to_string(),
                    base: base.to_string(),
                    file: file.to_string(),
                    direction,
                })
            })
            .collect();
        entries.sort_by(|a, b| a.version.cmp(&b.version).then_with(|| a.file.cmp(&b.file)));
        pair(listing, entries, |path| self.transaction_in(path, "", dialect))
    }

    fn sections(&self, path: &Path, text: &str) -> Vec<Section> {
        whole(text, super::direction_by_name(path))
    }

    fn transaction(&self, _path: &Path, _text: &str) -> TransactionMode {
        TransactionMode::default()
    }

    fn out_of_order(&self) -> &'static str {
        "the runner of this directory is unknown: it may apply it, skip it or refuse to run"
    }

    fn version_of(&self, path: &Path) -> Option<VersionKey> {
        numeric(parse_name(file_name(path)?)?.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_names() {
        assert_eq!(parse_name("0002-add-users.sql"), Some(("0002", "add-users", Direction::Up, "0002-add-users")));
        assert_eq!(parse_name("3_x.down.sql"), Some(("3", "x", Direction::Down, "3_x")));
        assert_eq!(parse_name("patch8.sql"), None);
        let v = |f: &str| Plain.version_of(Path::new(f));
        assert!(v("9_a.sql") < v("10_a.sql"));
        assert_eq!(Plain.transaction(Path::new("1.sql"), "SELECT 1"), TransactionMode::default());
    }
}
