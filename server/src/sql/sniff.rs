//! Which database a migration's text is written for, when nothing else says: markers in the code
//! (comments and string literals are skipped) that only one database's SQL has.
//!
//! safemig reads PostgreSQL, MySQL and SQLite. ClickHouse and CockroachDB migrations are told
//! apart so that they are not read as PostgreSQL: ClickHouse's DDL is not PostgreSQL's, and
//! CockroachDB's schema changes run online, so PostgreSQL's locking advice would be wrong there.
//!
//! The verdict is conservative: a database is named only when its markers are at least two, or
//! one that nothing else writes (`MergeTree`), and PostgreSQL's own markers (`$$`, `::`, `jsonb`,
//! `CONCURRENTLY`, …) are fewer. Otherwise `None`: the caller keeps its default.

use super::Dialect;

/// A database whose SQL safemig does not check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OtherDatabase {
    ClickHouse,
    CockroachDb,
}

impl OtherDatabase {
    pub fn name(self) -> &'static str {
        match self {
            OtherDatabase::ClickHouse => "ClickHouse",
            OtherDatabase::CockroachDb => "CockroachDB",
        }
    }

    /// The database a directory's name says, looking at its last three components
    /// (`clickhouse/migrations/clustered`, `internal-packages/clickhouse/schema`).
    pub fn named_by(dir: &std::path::Path) -> Option<OtherDatabase> {
        dir.iter().rev().take(3).filter_map(|c| c.to_str()).find_map(|name| {
            name.split(|c: char| !c.is_ascii_alphanumeric()).find_map(|token| {
                match token.to_ascii_lowercase().as_str() {
                    "clickhouse" => Some(OtherDatabase::ClickHouse),
                    "cockroach" | "cockroachdb" | "crdb" => Some(OtherDatabase::CockroachDb),
                    _ => None,
                }
            })
        })
    }
}

/// What the markers say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sniffed {
    Dialect(Dialect),
    Other(OtherDatabase),
}

/// The markers found for one database, with the first one's text and line (for messages).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Evidence {
    pub count: usize,
    /// The first marker as written, and its 1-based line.
    pub first: Option<(String, u32)>,
}

/// The verdict and its evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sniff {
    pub verdict: Sniffed,
    pub evidence: Evidence,
}

impl Sniff {
    /// "`ENGINE = MergeTree` on line 3".
    pub fn describe(&self) -> String {
        match &self.evidence.first {
            Some((text, line)) => format!("`{text}` on line {line}"),
            None => "its syntax".to_string(),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Db {
    Postgres,
    Mysql,
    Sqlite,
    ClickHouse,
    Cockroach,
}

/// A marker: words to match in order (upper case, separated by any whitespace), whether it alone
/// decides, and whose it is. A word ending in `(` must be followed by `(`.
struct Marker {
    words: &'static [&'static str],
    decisive: bool,
    db: Db,
}

const fn m(db: Db, decisive: bool, words: &'static [&'static str]) -> Marker {
    Marker { words, decisive, db }
}

const MARKERS: &[Marker] = &[
    // ClickHouse: table engines and cluster DDL.
    m(Db::ClickHouse, true, &["ENGINE", "=", "*MERGETREE"]),
    m(Db::ClickHouse, true, &["ON", "CLUSTER"]),
    m(Db::ClickHouse, true, &["LOWCARDINALITY("]),
    m(Db::ClickHouse, false, &["DATETIME64("]),
    m(Db::ClickHouse, false, &["MATERIALIZE", "INDEX"]),
    m(Db::ClickHouse, false, &["ENGINE", "=", "DISTRIBUTED("]),
    m(Db::ClickHouse, false, &["ENGINE", "=", "MEMORY"]),
    m(Db::ClickHouse, false, &["NULLABLE("]),
    m(Db::ClickHouse, false, &["GRANULARITY"]),
    // CockroachDB.
    m(Db::Cockroach, true, &["INTERLEAVE", "IN", "PARENT"]),
    m(Db::Cockroach, true, &["INVERTED", "INDEX"]),
    m(Db::Cockroach, true, &["USING", "HASH", "WITH", "BUCKET_COUNT"]),
    m(Db::Cockroach, false, &["STORING("]),
    m(Db::Cockroach, false, &["UPSERT", "INTO"]),
    m(Db::Cockroach, false, &["CRDB_INTERNAL"]),
    m(Db::Cockroach, false, &["@INDEX"]),
    // MySQL.
    m(Db::Mysql, true, &["ENGINE", "=", "INNODB"]),
    m(Db::Mysql, true, &["ENGINE", "=", "MYISAM"]),
    m(Db::Mysql, false, &["AUTO_INCREMENT"]),
    m(Db::Mysql, false, &["`"]),
    m(Db::Mysql, false, &["UNSIGNED"]),
    m(Db::Mysql, false, &["DEFAULT", "CHARSET"]),
    m(Db::Mysql, false, &["MODIFY", "COLUMN"]),
    m(Db::Mysql, false, &["ON", "UPDATE", "CURRENT_TIMESTAMP"]),
    // SQLite.
    m(Db::Sqlite, true, &["AUTOINCREMENT"]),
    m(Db::Sqlite, false, &["PRAGMA"]),
    m(Db::Sqlite, true, &["WITHOUT", "ROWID"]),
    m(Db::Sqlite, false, &["INSERT", "OR", "REPLACE"]),
    m(Db::Sqlite, false, &["INSERT", "OR", "IGNORE"]),
    m(Db::Sqlite, false, &["[NAME]"]),
    // PostgreSQL's own: counter-evidence.
    m(Db::Postgres, false, &["$$"]),
    m(Db::Postgres, false, &["::"]),
    m(Db::Postgres, false, &["JSONB"]),
    m(Db::Postgres, false, &["TIMESTAMPTZ"]),
    m(Db::Postgres, false, &["CONCURRENTLY"]),
    m(Db::Postgres, false, &["PLPGSQL"]),
    m(Db::Postgres, false, &["BIGSERIAL"]),
    m(Db::Postgres, false, &["CREATE", "EXTENSION"]),
];

/// One word of the code, upper-cased, with its line and byte range in the text.
struct Word {
    upper: String,
    line: u32,
    start: usize,
    end: usize,
}

/// The code's words: identifiers and keywords, punctuation runs that markers use (`=`, `::`,
/// `$$`, `` ` ``, `@x`), without comments, string literals and quoted names. `(` right after a word is glued to
/// it (`LOWCARDINALITY(`).
fn words(text: &str) -> Vec<Word> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut line = 1u32;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b'\n' => {
                line += 1;
                i += 1;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'#' => {
                // MySQL's line comment; elsewhere an operator, never a marker.
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                    line += u32::from(b[i] == b'\n');
                    i += 1;
                }
                i += 2;
            }
            b'\'' | b'"' => {
                // A string literal, or a quoted name: neither holds markers.
                i += 1;
                while i < b.len() && b[i] != c {
                    line += u32::from(b[i] == b'\n');
                    i += 1;
                }
                i += 1;
            }
            b'$' if b.get(i + 1) == Some(&b'$') => {
                out.push(Word { upper: "$$".into(), line, start: i, end: i + 2 });
                i += 2;
            }
            b':' if b.get(i + 1) == Some(&b':') => {
                out.push(Word { upper: "::".into(), line, start: i, end: i + 2 });
                i += 2;
            }
            b'=' | b'`' => {
                out.push(Word { upper: (c as char).to_string(), line, start: i, end: i + 1 });
                i += 1;
            }
            b'@' if b.get(i + 1).is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
                && i > 0
                && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_' || b[i - 1] == b'"') =>
            {
                // `table@index`: CockroachDB's index reference.
                let start = i;
                i += 1;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                out.push(Word { upper: "@INDEX".into(), line, start, end: i });
            }
            b'[' if i > 0 && matches!(b[i - 1], b' ' | b'\t' | b'\n' | b'(' | b',') => {
                // `[name]`: SQLite's (and SQL Server's) quoted name. PostgreSQL's brackets follow a
                // value (`a[1]`, `int[]`, `ARRAY[x]`), never a space, `(` or `,`.
                let start = i;
                let mut j = i + 1;
                while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_' || b[j] == b' ') {
                    j += 1;
                }
                if j > i + 1 && b.get(j) == Some(&b']') && b[i + 1].is_ascii_alphabetic() {
                    out.push(Word { upper: "[NAME]".into(), line, start, end: j + 1 });
                    i = j + 1;
                } else {
                    i += 1;
                }
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                let mut upper = text[start..i].to_ascii_uppercase();
                let mut j = i;
                while j < b.len() && (b[j] == b' ' || b[j] == b'\t') {
                    j += 1;
                }
                if b.get(j) == Some(&b'(') {
                    upper.push('(');
                }
                out.push(Word { upper, line, start, end: i });
            }
            _ => i += 1,
        }
    }
    out
}

fn word_matches(pattern: &str, word: &str) -> bool {
    match pattern.strip_prefix('*') {
        Some(suffix) => word.ends_with(suffix),
        None => pattern == word,
    }
}

/// Counts of markers in one text, per database, with the first decisive or plain marker.
#[derive(Default, Clone)]
pub struct Tally {
    counts: [usize; 5],
    decisive: [usize; 5],
    first: [Option<(String, u32)>; 5],
}

fn slot(db: Db) -> usize {
    db as usize
}

impl Tally {
    /// Adds the markers of `text`.
    pub fn add(&mut self, text: &str) {
        let words = words(text);
        for (i, _) in words.iter().enumerate() {
            for marker in MARKERS {
                let n = marker.words.len();
                let Some(run) = words.get(i..i + n) else { continue };
                if !run.iter().zip(marker.words).all(|(w, p)| word_matches(p, &w.upper)) {
                    continue;
                }
                let s = slot(marker.db);
                self.counts[s] += 1;
                self.decisive[s] += usize::from(marker.decisive);
                if self.first[s].is_none() || (marker.decisive && self.decisive[s] == 1) {
                    let (start, end) = (run[0].start, run[n - 1].end);
                    let written = text[start..end].split_whitespace().collect::<Vec<_>>().join(" ");
                    self.first[s] = Some((written, run[0].line));
                }
            }
        }
    }

    /// The verdict, when the markers are clear.
    pub fn verdict(&self) -> Option<Sniff> {
        let pg = self.counts[slot(Db::Postgres)];
        let candidates = [Db::ClickHouse, Db::Cockroach, Db::Mysql, Db::Sqlite];
        let (db, count) = candidates.iter().map(|&d| (d, self.counts[slot(d)])).max_by_key(|&(_, n)| n)?;
        let s = slot(db);
        let clear = (self.decisive[s] > 0 || count >= 2) && count > pg;
        let runner_up = candidates.iter().filter(|&&d| d != db).map(|&d| self.counts[slot(d)]).max().unwrap_or(0);
        if !clear || runner_up * 2 >= count {
            return None;
        }
        let verdict = match db {
            Db::ClickHouse => Sniffed::Other(OtherDatabase::ClickHouse),
            Db::Cockroach => Sniffed::Other(OtherDatabase::CockroachDb),
            Db::Mysql => Sniffed::Dialect(Dialect::Mysql),
            Db::Sqlite => Sniffed::Dialect(Dialect::Sqlite),
            Db::Postgres => return None,
        };
        Some(Sniff { verdict, evidence: Evidence { count, first: self.first[s].clone() } })
    }
}

/// The database `text` is written for, when its markers say so clearly.
pub fn sniff(text: &str) -> Option<Sniff> {
    let mut tally = Tally::default();
    tally.add(text);
    tally.verdict()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(text: &str) -> Option<Sniffed> {
        sniff(text).map(|s| s.verdict)
    }

    #[test]
    fn clickhouse_cockroach_mysql_and_sqlite_are_told_apart() {
        let ch = "CREATE TABLE events (id UUID, at DateTime64(3))\nENGINE = ReplacingMergeTree ORDER BY id;";
        assert_eq!(verdict(ch), Some(Sniffed::Other(OtherDatabase::ClickHouse)));
        let s = sniff(ch).unwrap();
        assert_eq!(s.describe(), "`ENGINE = ReplacingMergeTree` on line 2");
        assert_eq!(
            verdict("ALTER TABLE t ON CLUSTER default ADD INDEX i c TYPE minmax GRANULARITY 1;"),
            Some(Sniffed::Other(OtherDatabase::ClickHouse))
        );
        assert_eq!(
            verdict("CREATE INVERTED INDEX i ON identities (traits);"),
            Some(Sniffed::Other(OtherDatabase::CockroachDb))
        );
        assert_eq!(
            verdict("DROP INDEX IF EXISTS sessions@sessions_nid_idx;\nDROP INDEX t@u;"),
            Some(Sniffed::Other(OtherDatabase::CockroachDb))
        );
        assert_eq!(
            verdict("CREATE TABLE `users` (`id` int NOT NULL AUTO_INCREMENT) ENGINE=InnoDB;"),
            Some(Sniffed::Dialect(Dialect::Mysql))
        );
        assert_eq!(
            verdict("PRAGMA foreign_keys = off;\nCREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT);"),
            Some(Sniffed::Dialect(Dialect::Sqlite))
        );
        assert_eq!(
            verdict("CREATE TABLE [monitor_tag] ([id] INTEGER NOT NULL, [value] TEXT);"),
            Some(Sniffed::Dialect(Dialect::Sqlite))
        );
    }

    #[test]
    fn postgresql_and_unclear_text_get_no_verdict() {
        for text in [
            "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);",
            "CREATE INDEX CONCURRENTLY i ON t (a);",
            // A marker inside a comment or a string is no marker.
            "-- ENGINE = MergeTree\nCREATE TABLE t (a int);",
            "/* PRAGMA x; AUTOINCREMENT */ INSERT INTO notes VALUES ('ON CLUSTER with ENGINE = MergeTree');",
            // One weak marker is not enough.
            "CREATE TABLE t (n int); -- fine\nINSERT INTO t VALUES (1); SELECT 'x' AS pragma_like;",
            "ALTER TABLE t ADD COLUMN flags int; COMMENT ON COLUMN t.flags IS 'unsigned';",
            // PostgreSQL's own markers outweigh a weak foreign one.
            "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql; SELECT '1'::jsonb; -- `x`",
            // PostgreSQL's brackets: subscripts, array types and constructors.
            "UPDATE t SET tags[1] = 'a', v = ARRAY[x, y]; ALTER TABLE t ADD COLUMN ids int[];",
            // An email address or a psql variable is no CockroachDB index reference.
            "INSERT INTO users (email) VALUES ('a@b.c'); SELECT :'x';",
        ] {
            assert_eq!(verdict(text), None, "{text}");
        }
    }

    #[test]
    fn directory_names_say_clickhouse_or_cockroach() {
        use std::path::Path;
        assert_eq!(
            OtherDatabase::named_by(Path::new("packages/shared/clickhouse/migrations/clustered")),
            Some(OtherDatabase::ClickHouse)
        );
        assert_eq!(
            OtherDatabase::named_by(Path::new("internal-packages/clickhouse/schema")),
            Some(OtherDatabase::ClickHouse)
        );
        assert_eq!(OtherDatabase::named_by(Path::new("db/cockroach")), Some(OtherDatabase::CockroachDb));
        assert_eq!(OtherDatabase::named_by(Path::new("clickhouse/a/b/migrations")), None);
        assert_eq!(OtherDatabase::named_by(Path::new("db/migrations")), None);
    }
}
