//! Fuzz target (issue 12): split + recognise + rules over arbitrary input, in every dialect.
//! Whatever the text, the analysis finishes without a panic (in a debug build, a recogniser loop
//! that stops making progress fails its assertion), and every statement and finding lies inside
//! the text, on character boundaries.
//!
//! CI runs a short budget (`SAFEMIG_FUZZ_CASES`, default 2,000 inputs); a long run:
//! `SAFEMIG_FUZZ_CASES=10000000 cargo test --release -p safemig --test fuzz_sql`.

use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, FileFailurePersistence};

use safemig::config::Config;
use safemig::engine;
use safemig::sql::Dialect;

/// Pieces SQL is made of, and the ones that broke the recogniser before: brackets of both kinds,
/// statements cut after their first words, quotes and bodies left open, operators, comments.
const PIECES: &[&str] = &[
    "CREATE",
    "TABLE",
    "INDEX",
    "UNIQUE",
    "CONCURRENTLY",
    "ON",
    "ONLY",
    "USING",
    "ALTER",
    "ADD",
    "COLUMN",
    "CONSTRAINT",
    "PRIMARY",
    "KEY",
    "FOREIGN",
    "REFERENCES",
    "CHECK",
    "DEFAULT",
    "NOT",
    "NULL",
    "DROP",
    "MATERIALIZED",
    "VIEW",
    "SEQUENCE",
    "OWNED",
    "BY",
    "TYPE",
    "AS",
    "ENUM",
    "SET",
    "DATA",
    "RENAME",
    "TO",
    "INSERT",
    "INTO",
    "VALUES",
    "SELECT",
    "FROM",
    "WHERE",
    "JOIN",
    "UPDATE",
    "DELETE",
    "RETURNING",
    "CONFLICT",
    "BEGIN",
    "COMMIT",
    "DO",
    "IF",
    "THEN",
    "END",
    "FUNCTION",
    "RETURNS",
    "IMMUTABLE",
    "VACUUM",
    "FULL",
    "REINDEX",
    "TRUNCATE",
    "CASCADE",
    "EXCLUDE",
    "GENERATED",
    "ALWAYS",
    "STORED",
    "INHERITS",
    "PARTITION",
    "AND",
    "OR",
    "IN",
    "IS",
    "t",
    "a",
    "b",
    "id",
    "\"Q\"",
    "s.t",
    "int",
    "bigint",
    "text",
    "numeric(10, 2)",
    "now()",
    "nextval('s')",
    "'x'",
    "'",
    "\"",
    "$$",
    "$tag$",
    "E'\\n'",
    "--",
    "/*",
    "*/",
    "-- c\n",
    "1",
    "-1",
    "(",
    ")",
    "[",
    "]",
    "{{",
    "}}",
    "${p}",
    ",",
    ";",
    ".",
    "::",
    "+",
    "||",
    "=",
    "<",
    "*",
    "@",
    "\\",
    " ",
    "\n",
    "\r",
    "\t",
    "é",
    "😀",
    "\u{2028}",
    "\0",
];

fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => proptest::sample::select(PIECES).prop_map(str::to_string),
        1 => any::<char>().prop_map(String::from),
    ]
}

fn sql_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::collection::vec(piece(), 0..48).prop_map(|pieces| pieces.join(" ")),
        2 => proptest::collection::vec(piece(), 0..48).prop_map(|pieces| pieces.concat()),
        1 => any::<String>(),
    ]
}

fn cases() -> u32 {
    std::env::var("SAFEMIG_FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(2_000)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_text_is_split_recognised_and_checked_without_a_panic(text in sql_text(), which in 0..3usize) {
        let dialect = [Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite][which];
        let config = Config::default();
        let analysis = engine::analyze(&text, &config.settings(dialect), &config, None);
        for s in &analysis.file.statements {
            prop_assert!(s.range.start <= s.range.end && s.range.end <= text.len(), "{:?} in {:?}", s.range, text);
            prop_assert!(text.is_char_boundary(s.range.start) && text.is_char_boundary(s.range.end));
        }
        for f in &analysis.findings {
            prop_assert!(f.range.start <= f.range.end && f.range.end <= text.len(), "{f:?} in {text:?}");
            prop_assert!(text.is_char_boundary(f.range.start) && text.is_char_boundary(f.range.end), "{f:?} in {text:?}");
            prop_assert!(f.rule != "internal-error");
        }
    }
}
