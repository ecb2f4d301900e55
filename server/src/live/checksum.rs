//! Each framework's migration checksum, reproduced exactly, so that an applied migration whose
//! file changed since it ran can be told from the ledger (`applied-migration-edited`).
//!
//! Facts from `shared/design/reference/frameworks.md` (the framework sources it cites):
//!
//! - Prisma: SHA-256 of `migration.sql`, 64 lowercase hex digits. Prisma accepts the script as
//!   is, with CRLF→LF and with LF→CRLF, and legacy checksums written without zero padding.
//! - Flyway: `java.util.zip.CRC32` fed the UTF-8 bytes of each line as `BufferedReader.readLine()`
//!   returns them (`\n`, `\r`, `\r\n` dropped), a BOM removed from the first line, stored as a
//!   signed 32-bit integer.
//! - sqlx: SHA-384 of the file's exact bytes (BOM, CRLF and `-- no-transaction` included), 48
//!   raw bytes in a `BYTEA`.
//! - Drizzle: SHA-256 hex of the whole file text (stored, never compared by Drizzle).
//! - Atlas: the `atlas.sum` running hash: one SHA-256 fed every file's name and content in
//!   directory order (the content skipped for a file whose header says `-- atlas:sum ignore`),
//!   its base64 value taken after each file.
//! - Supabase: no checksum; the ledger keeps the statements it ran, compared token by token.
//!
//! The expected values in the tests were computed independently, once, with Python's `hashlib`,
//! `zlib.crc32` and `base64` (and, for Flyway, also with a small Java program that runs
//! `BufferedReader.readLine()` and `java.util.zip.CRC32` exactly as Flyway's
//! `ChecksumCalculator` does), and pasted here as constants.

use std::fmt::Write as _;
use std::ops::Range;

use base64::Engine as _;
use sha2::{Digest, Sha256, Sha384};

use crate::sql::{Dialect, SqlFile};
use crate::workspace::frameworks::atlas;

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Prisma's checksum of a `migration.sql`: 64 lowercase hex digits.
pub fn prisma(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

/// Whether Prisma accepts `stored` as the checksum of `text`: the script as is, with CRLF→LF,
/// or with every line ending CRLF; a stored value that is not 64 characters long is compared
/// with the legacy format (each byte in hex without zero padding).
pub fn prisma_matches(text: &str, stored: &str) -> bool {
    let unix = || text.replace("\r\n", "\n");
    let windows = || unix().replace('\n', "\r\n");
    let digests = [Sha256::digest(text.as_bytes()), Sha256::digest(windows()), Sha256::digest(unix())];
    let stored = stored.trim();
    digests.iter().any(|d| if stored.len() == 64 { hex(d) == stored } else { legacy_hex(d) == stored })
}

/// Prisma's old checksum format: `{:x}` per byte, so `0a` became `a`.
fn legacy_hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:x}");
        s
    })
}

/// Flyway's checksum of a migration script (versioned migrations: the raw file, before
/// placeholders are replaced).
pub fn flyway(text: &str) -> i32 {
    let mut crc = crc32fast::Hasher::new();
    for (i, line) in read_lines(text).enumerate() {
        let line = if i == 0 { line.strip_prefix('\u{feff}').unwrap_or(line) } else { line };
        crc.update(line.as_bytes());
    }
    // Java's `(int) crc32.getValue()`: the low 32 bits, reinterpreted as signed.
    crc.finalize() as i32
}

/// Lines as `java.io.BufferedReader::readLine` returns them: split at `\n`, `\r` or `\r\n`, the
/// terminator dropped, no empty line after a final terminator.
fn read_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = rest.find(['\n', '\r']).unwrap_or(rest.len());
        let line = &rest[..end];
        let after = &rest[end..];
        rest = if let Some(r) = after.strip_prefix("\r\n") {
            r
        } else if after.is_empty() {
            after
        } else {
            &after[1..]
        };
        Some(line)
    })
}

/// sqlx's checksum: SHA-384 of the file's exact bytes.
pub fn sqlx(bytes: &[u8]) -> [u8; 48] {
    Sha384::digest(bytes).into()
}

/// [`sqlx`] as the ledger query returns it (`encode(checksum, 'hex')`).
pub fn sqlx_hex(text: &str) -> String {
    hex(&sqlx(text.as_bytes()))
}

/// Drizzle's `hash`: SHA-256 hex of the whole file text.
pub fn drizzle(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

/// Atlas's running `atlas.sum` hash over a migration directory, fed one file at a time in
/// directory order.
#[derive(Clone, Default)]
pub struct AtlasSum {
    hasher: Sha256,
}

impl AtlasSum {
    pub fn new() -> Self {
        AtlasSum::default()
    }

    /// Feeds the next file (its base name and text) and returns its hash as `atlas.sum` writes it
    /// (base64, without the `h1:` prefix). `None` for a file whose header says
    /// `-- atlas:sum ignore`: its name is hashed, its content is not, and it has no hash of its
    /// own.
    pub fn add(&mut self, name: &str, text: &str) -> Option<String> {
        self.hasher.update(name.as_bytes());
        if atlas::header_directive(text, "sum").is_some_and(|mode| mode.eq_ignore_ascii_case("ignore")) {
            return None;
        }
        self.hasher.update(text.as_bytes());
        Some(base64::engine::general_purpose::STANDARD.encode(self.hasher.clone().finalize()))
    }
}

/// Whether the hash a revision row stores equals the file's computed hash (the stored value may
/// carry the `h1:` prefix of `atlas.sum` lines).
pub fn atlas_matches(stored: &str, computed: &str) -> bool {
    let stored = stored.trim();
    stored.strip_prefix("h1:").unwrap_or(stored) == computed
}

/// A statement reduced to what it runs: its tokens without whitespace and comments, without a
/// final `;`, each as the tokenizer prints it.
fn tokens_of(statement: &str) -> Vec<String> {
    let lexed = crate::sql::lexer::tokenize(Dialect::Postgres.sqlparser(), statement);
    let mut out: Vec<String> = lexed.tokens.iter().filter(|t| !t.is_trivia()).map(|t| t.token.to_string()).collect();
    if let Some(e) = &lexed.error {
        // Keep what could not be tokenised, so that two different broken tails still differ.
        out.push(statement.get(e.offset..).unwrap_or_default().trim().to_string());
    }
    while out.last().is_some_and(|t| t == ";") {
        out.pop();
    }
    out
}

/// Where a file's statements stop matching the statements a Supabase ledger row stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementDiff {
    /// Index of the first statement that differs (in both lists).
    pub index: usize,
    /// The stored statement there (trimmed), `None` when the file has more statements.
    pub stored: Option<String>,
    /// The file's statement there (trimmed), `None` when the ledger has more statements.
    pub file: Option<String>,
    /// Where that statement is in the list of file statements given.
    pub file_position: Option<usize>,
    pub stored_count: usize,
    pub file_count: usize,
}

/// The file's statements as safemig splits them, trimmed (without the final `;`), with their
/// file-absolute ranges.
pub fn statements(file: &SqlFile) -> Vec<(Range<usize>, String)> {
    file.statements
        .iter()
        .filter_map(|s| Some((s.range.clone(), file.text.get(s.range.clone())?)))
        .map(|(r, s)| (r, s.trim().trim_end_matches(';').trim_end().to_string()))
        .filter(|(_, s)| !s.is_empty())
        .collect()
}

/// Compares the statements a Supabase ledger row stored with the file's statements. They are
/// compared token by token: whitespace, comments and a final `;` are not differences (the CLI's
/// splitter keeps comments and trims differently from safemig's; neither changes what runs).
pub fn diff_statements(stored: &[String], file: &[String]) -> Option<StatementDiff> {
    fn reduced(list: &[String]) -> Vec<(usize, &str, Vec<String>)> {
        list.iter().enumerate().map(|(i, s)| (i, s.trim(), tokens_of(s))).filter(|(_, _, t)| !t.is_empty()).collect()
    }
    let stored = reduced(stored);
    let file = reduced(file);
    let n = stored.len().max(file.len());
    let index = (0..n).find(|&i| stored.get(i).map(|s| &s.2) != file.get(i).map(|f| &f.2))?;
    Some(StatementDiff {
        index,
        stored: stored.get(index).map(|s| s.1.to_string()),
        file: file.get(index).map(|f| f.1.to_string()),
        file_position: file.get(index).map(|f| f.0),
        stored_count: stored.len(),
        file_count: file.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCRIPT: &str = "CREATE TABLE users (id bigint PRIMARY KEY);\n";

    // python3: hashlib.sha256(SCRIPT.encode()).hexdigest()
    const SCRIPT_SHA256: &str = "3456c330330e5584db1ea42d855fe843569a61c7c200bd34b52f8f9c03b28f0d";
    // python3: hashlib.sha256(SCRIPT.replace("\n", "\r\n").encode()).hexdigest()
    const SCRIPT_CRLF_SHA256: &str = "1e354ecc79cd44336b514a06571bbe133dedcd525674d7c81bfca52e0dca5379";
    // python3: "".join("%x" % b for b in hashlib.sha256(SCRIPT.encode()).digest())
    const SCRIPT_LEGACY: &str = "3456c33033e5584db1ea42d855fe843569a61c7c20bd34b52f8f9c3b28fd";
    // python3: hashlib.sha384(SCRIPT.encode()).hexdigest()
    const SCRIPT_SHA384: &str =
        "c72d83fd3fa44d3458d479ba249777d97527fde4ccd1e1483878051ba8ee6f15fcf7964f412c5d17e122e4397248e42a";
    // python3: hashlib.sha384(SCRIPT.replace("\n", "\r\n").encode()).hexdigest()
    const SCRIPT_CRLF_SHA384: &str =
        "d8182610c179033267361b7a0304d8623c673b1911a7af438a3446af550446095550b59c74a473ae06c3521b8c4c541a";

    #[test]
    fn prisma_is_zero_padded_lowercase_sha256() {
        assert_eq!(prisma(SCRIPT), SCRIPT_SHA256);
        assert_eq!(prisma(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(prisma(&SCRIPT.replace('\n', "\r\n")), SCRIPT_CRLF_SHA256);
    }

    #[test]
    fn prisma_accepts_either_line_ending_and_legacy_checksums() {
        let crlf = SCRIPT.replace('\n', "\r\n");
        // Applied from an LF checkout, now checked out with CRLF, and the other way round.
        assert!(prisma_matches(&crlf, SCRIPT_SHA256));
        assert!(prisma_matches(SCRIPT, SCRIPT_CRLF_SHA256));
        assert!(prisma_matches(SCRIPT, SCRIPT_SHA256));
        // Mixed endings normalise too.
        assert!(prisma_matches("CREATE TABLE users (id bigint PRIMARY KEY);\r\n", SCRIPT_SHA256));
        // The legacy format drops the leading zero of each byte.
        assert_eq!(legacy_hex(&Sha256::digest(SCRIPT.as_bytes())), SCRIPT_LEGACY);
        assert!(prisma_matches(SCRIPT, SCRIPT_LEGACY));
        assert!(prisma_matches(&crlf, SCRIPT_LEGACY));
        // An edit is an edit.
        assert!(!prisma_matches("CREATE TABLE users (id int PRIMARY KEY);\n", SCRIPT_SHA256));
        assert!(!prisma_matches("CREATE TABLE users (id int PRIMARY KEY);\n", SCRIPT_LEGACY));
        // Trailing whitespace is content.
        assert!(!prisma_matches("CREATE TABLE users (id bigint PRIMARY KEY); \n", SCRIPT_SHA256));
    }

    // Each value computed with python3 (zlib.crc32 over the text with CR/LF removed and a leading
    // BOM dropped, made signed) and with Java's BufferedReader + CRC32 (same results).
    #[test]
    fn flyway_crc32_drops_line_breaks_and_the_bom() {
        assert_eq!(flyway(SCRIPT), 1812668543);
        assert_eq!(flyway(&SCRIPT.replace('\n', "\r\n")), 1812668543);
        assert_eq!(flyway("ab\ncd"), -310194927);
        assert_eq!(flyway("abcd"), -310194927);
        assert_eq!(flyway("a\rb\r\nc\n\nd"), -310194927);
        assert_eq!(flyway("\u{feff}SELECT 1;\n"), 78787420);
        assert_eq!(flyway("SELECT 1;\n"), 78787420);
        assert_eq!(flyway(""), 0);
        assert_eq!(flyway("-- é ü\nSELECT 'ω';\r\n\r\n"), -1794675765);
        // A BOM later in the file is content; spaces are content.
        assert_ne!(flyway("SELECT 1;\n\u{feff}"), flyway("SELECT 1;\n"));
        assert_ne!(flyway("SELECT 1; \n"), flyway("SELECT 1;\n"));
    }

    #[test]
    fn read_lines_splits_like_java() {
        let got: Vec<&str> = read_lines("a\rb\r\nc\n\nd\n").collect();
        assert_eq!(got, ["a", "b", "c", "", "d"]);
        let got: Vec<&str> = read_lines("\r\r\n").collect();
        assert_eq!(got, ["", ""]);
        assert_eq!(read_lines("").count(), 0);
    }

    #[test]
    fn sqlx_is_sha384_of_the_exact_bytes() {
        assert_eq!(sqlx_hex(SCRIPT), SCRIPT_SHA384);
        assert_eq!(sqlx_hex(&SCRIPT.replace('\n', "\r\n")), SCRIPT_CRLF_SHA384);
        assert_eq!(sqlx(SCRIPT.as_bytes()).len(), 48);
        assert_ne!(sqlx_hex(&format!("\u{feff}{SCRIPT}")), SCRIPT_SHA384);
    }

    #[test]
    fn drizzle_is_sha256_hex() {
        assert_eq!(drizzle(SCRIPT), SCRIPT_SHA256);
    }

    // python3: h = hashlib.sha256(); for name, text in files: h.update(name.encode());
    // h.update(text.encode()); base64.b64encode(h.copy().digest())
    #[test]
    fn atlas_hashes_run_over_names_and_contents() {
        let mut sum = AtlasSum::new();
        assert_eq!(
            sum.add("20240101000000_init.sql", "CREATE TABLE t (id int);\n").as_deref(),
            Some("SHzK9HMd1VJXxyfkB4DdEsZDHvMZKf0Wuy5nmE70+m8=")
        );
        assert_eq!(
            sum.add("20240102000000_add.sql", "ALTER TABLE t ADD COLUMN c int;\n").as_deref(),
            Some("GVABBxD8QtLtQX2r5BCsmohPCjUeeNvgQKnsQzE7LPA=")
        );
        // Editing the first file changes every later hash.
        let mut edited = AtlasSum::new();
        edited.add("20240101000000_init.sql", "CREATE TABLE t (id bigint);\n");
        assert_ne!(
            edited.add("20240102000000_add.sql", "ALTER TABLE t ADD COLUMN c int;\n").as_deref(),
            Some("GVABBxD8QtLtQX2r5BCsmohPCjUeeNvgQKnsQzE7LPA=")
        );
        assert!(atlas_matches(
            "h1:SHzK9HMd1VJXxyfkB4DdEsZDHvMZKf0Wuy5nmE70+m8=",
            "SHzK9HMd1VJXxyfkB4DdEsZDHvMZKf0Wuy5nmE70+m8="
        ));
        assert!(atlas_matches(
            "SHzK9HMd1VJXxyfkB4DdEsZDHvMZKf0Wuy5nmE70+m8=",
            "SHzK9HMd1VJXxyfkB4DdEsZDHvMZKf0Wuy5nmE70+m8="
        ));
        assert!(!atlas_matches("h1:x", "SHzK9HMd1VJXxyfkB4DdEsZDHvMZKf0Wuy5nmE70+m8="));
    }

    #[test]
    fn atlas_sum_ignore_skips_the_content() {
        let ignored = "-- atlas:sum ignore\n\nSELECT 1;\n";
        let mut a = AtlasSum::new();
        assert_eq!(a.add("1_a.sql", ignored), None);
        let after_a = a.add("2_b.sql", "SELECT 2;\n");
        // The same as hashing the name alone.
        let mut b = AtlasSum::new();
        b.hasher.update(b"1_a.sql");
        assert_eq!(b.add("2_b.sql", "SELECT 2;\n"), after_a);
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn statements_compare_by_tokens() {
        let file = SqlFile::parse(
            "-- users\ncreate table users (id int);\n\ncreate index i on users (id);\n",
            Dialect::Postgres,
            None,
        );
        let split: Vec<String> = statements(&file).into_iter().map(|(_, s)| s).collect();
        assert_eq!(split, ["create table users (id int)", "create index i on users (id)"]);
        // Supabase stores statements with their comments and own trimming.
        let stored = strings(&["-- users\ncreate table users (id int)", "create index i on users (id);"]);
        assert_eq!(diff_statements(&stored, &split), None);
        let stored = strings(&["create table users (id  int)\n", "  create index i on users (id)"]);
        assert_eq!(diff_statements(&stored, &split), None);

        let edited = strings(&["create table users (id bigint)", "create index i on users (id)"]);
        let d = diff_statements(&stored, &edited).expect("a difference");
        assert_eq!(d.index, 0);
        assert_eq!(d.file.as_deref(), Some("create table users (id bigint)"));
        assert_eq!(d.stored.as_deref(), Some("create table users (id  int)"));

        let more = strings(&["create table users (id int)", "create index i on users (id)", "select 1"]);
        let d = diff_statements(&stored, &more).expect("a difference");
        assert_eq!((d.index, d.stored.as_deref(), d.file.as_deref()), (2, None, Some("select 1")));
        assert_eq!(d.file_position, Some(2));
        assert_eq!((d.stored_count, d.file_count), (2, 3));
        // Empty statements on either side are not statements.
        let with_empty = strings(&["", "create table users (id int);", ";", "create index i on users (id)"]);
        assert_eq!(diff_statements(&with_empty, &split), None);
    }
}
