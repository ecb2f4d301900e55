//! The line model as a property: random incremental edits applied to a [`Document`] (a rope) and
//! to a plain `String` converted from scratch through [`LineIndex`] give the same text and the
//! same line/offset mapping, and `LineIndex` agrees with the LSP's definition of a line (ends at
//! `\n`, `\r\n` or `\r`; nothing else breaks one), written out naively here.
//!
//! Texts and edits are drawn from an alphabet holding every character that some line model
//! breaks at (U+2028, U+2029, NEL, VT, FF, a lone `\r`), a BOM, a surrogate pair, and `\r`/`\n`
//! on their own, so that a `\r\n` is often made or split across edits. Positions are random
//! UTF-16 or UTF-8 columns, past the end of lines and of the text, inside surrogate pairs.
//! `PROPTEST_CASES` sets the number of cases (default 256).

use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, TestCaseError, TestRunner};

use super::{Document, LineCol, LineIndex, PositionEncoding};

const ALPHABET: &[&str] =
    &["a", "é", "😀", "\n", "\r", "\r\n", "\u{2028}", "\u{2029}", "\u{85}", "\u{b}", "\u{c}", "\u{feff}", ";", " "];

fn text_from(alphabet: usize, len: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(0..alphabet, 0..len).prop_map(|ids| ids.into_iter().map(|i| ALPHABET[i]).collect())
}

/// One `didChange` content change, as numbers to be read against the text it applies to.
#[derive(Debug, Clone)]
struct RawEdit {
    /// `None`: replace the whole text.
    range: Option<(u32, u32, u32, u32)>,
    utf8: bool,
    text: String,
}

fn raw_edit() -> impl Strategy<Value = RawEdit> {
    (
        prop::option::weighted(0.95, (0u32..64, 0u32..64, 0u32..64, 0u32..64)),
        prop::bool::weighted(0.2),
        text_from(ALPHABET.len(), 6),
    )
        .prop_map(|(range, utf8, text)| RawEdit { range, utf8, text })
}

/// The LSP's lines, naively: each line's content (without terminator) as a byte range.
fn lsp_lines(text: &str) -> Vec<std::ops::Range<usize>> {
    let bytes = text.as_bytes();
    let (mut lines, mut start, mut i) = (Vec::new(), 0, 0);
    while i < bytes.len() {
        let terminator = match (bytes[i], bytes.get(i + 1)) {
            (b'\r', Some(b'\n')) => 2,
            (b'\r' | b'\n', _) => 1,
            _ => 0,
        };
        if terminator > 0 {
            lines.push(start..i);
            i += terminator;
            start = i;
        } else {
            i += 1;
        }
    }
    lines.push(start..text.len());
    lines
}

/// A position on the text: line up to two past the last, column up to four past the line's end.
fn position(text: &str, line: u32, col: u32, encoding: PositionEncoding) -> LineCol {
    let lines = lsp_lines(text);
    let line = line % (lines.len() as u32 + 2);
    let width = lines.get(line as usize).map_or(0, |r| match encoding {
        PositionEncoding::Utf8 => r.len(),
        PositionEncoding::Utf16 => text[r.clone()].encode_utf16().count(),
    });
    LineCol { line, col: col % (width as u32 + 5) }
}

/// `LineIndex` is the naive definition, and maps every position the way `doc` does.
fn check_mapping(text: &str, doc: &Document) -> Result<(), TestCaseError> {
    let index = LineIndex::new(text);
    let lines = lsp_lines(text);
    prop_assert_eq!(index.line_count(), lines.len());
    prop_assert_eq!(doc.line_count(), lines.len(), "the rope's lines in {:?}", text);
    for (n, range) in lines.iter().enumerate() {
        prop_assert_eq!(index.line_range(text, n), range.clone(), "line {} of {:?}", n, text);
        for encoding in [PositionEncoding::Utf16, PositionEncoding::Utf8] {
            let width = match encoding {
                PositionEncoding::Utf8 => range.len(),
                PositionEncoding::Utf16 => text[range.clone()].encode_utf16().count(),
            };
            for col in 0..width as u32 + 2 {
                let pos = LineCol { line: n as u32, col };
                let offset = index.offset(text, pos, encoding);
                prop_assert!(range.contains(&offset) || offset == range.end, "{:?} → {} in {:?}", pos, offset, text);
                prop_assert_eq!(doc.offset(pos, encoding), offset, "{:?} {:?} in {:?}", pos, encoding, text);
            }
        }
    }
    for pos in [LineCol { line: lines.len() as u32, col: 0 }, LineCol { line: u32::MAX, col: u32::MAX }] {
        prop_assert_eq!(index.offset(text, pos, PositionEncoding::Utf16), text.len());
        prop_assert_eq!(doc.offset(pos, PositionEncoding::Utf16), text.len());
    }
    // Every character boundary maps to a position on its line and back (an offset between the
    // `\r` and `\n` of a pair stands for the end of the line's content).
    for (offset, _) in text.char_indices().chain([(text.len(), ' ')]) {
        let pos = index.position(text, offset, PositionEncoding::Utf16);
        let line = &lines[pos.line as usize];
        prop_assert!(line.start <= offset && offset <= line.end + 1, "{} → {:?} in {:?}", offset, pos, text);
        prop_assert_eq!(index.offset(text, pos, PositionEncoding::Utf16), offset.min(line.end));
        let utf8 = index.position(text, offset, PositionEncoding::Utf8);
        prop_assert_eq!(utf8.col as usize, offset.min(line.end) - line.start);
    }
    Ok(())
}

/// How many edits were applied and checked (reported at the end of the run).
static EDITS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn run(initial: &str, edits: &[RawEdit]) -> Result<(), TestCaseError> {
    let mut doc = Document::new(initial, 1);
    let mut model = initial.to_string();
    check_mapping(&model, &doc)?;
    for edit in edits {
        let encoding = if edit.utf8 { PositionEncoding::Utf8 } else { PositionEncoding::Utf16 };
        let range =
            edit.range.map(|(l1, c1, l2, c2)| (position(&model, l1, c1, encoding), position(&model, l2, c2, encoding)));
        let result = doc.apply_change(range, &edit.text, encoding);
        match range {
            None => model = edit.text.clone(),
            Some((start, end)) if end < start => prop_assert!(result.is_err()),
            Some((start, end)) => {
                // From scratch: a new index over the whole text.
                let index = LineIndex::new(&model);
                let from = index.offset(&model, start, encoding);
                let to = index.offset(&model, end, encoding).max(from);
                model.replace_range(from..to, &edit.text);
            }
        }
        prop_assert_eq!(doc.text(), model.as_str());
        check_mapping(&model, &doc)?;
        EDITS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    Ok(())
}

#[test]
fn random_edits_keep_the_rope_and_the_line_index_equal() {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(256);
    let config = RunnerConfig { cases, failure_persistence: None, ..RunnerConfig::default() };
    let strategy = (text_from(ALPHABET.len(), 24), prop::collection::vec(raw_edit(), 1..12));
    TestRunner::new(config).run(&strategy, |(initial, edits)| run(&initial, &edits)).unwrap_or_else(|e| panic!("{e}"));
    eprintln!("{cases} cases, {} edits checked", EDITS.load(std::sync::atomic::Ordering::Relaxed));
}

#[test]
fn a_crlf_made_and_split_across_edits() {
    let lc = |line, col| LineCol { line, col };
    let utf16 = PositionEncoding::Utf16;
    // "a\r" + "\n" typed after it: one line break, not two.
    let mut doc = Document::new("a\rb", 1);
    doc.apply_change(Some((lc(1, 0), lc(1, 0))), "\n", utf16).expect("a forward range");
    assert_eq!((doc.text().as_str(), doc.line_count()), ("a\r\nb", 2));
    assert_eq!(doc.offset(lc(1, 0), utf16), 3);
    // A character typed between them splits the pair again: "a\r" "x\n" "b" on three lines.
    let mut doc = Document::new("a\r\nb", 1);
    doc.apply_change(Some((lc(0, 1), lc(1, 0))), "\rx\n", utf16).expect("a forward range");
    assert_eq!((doc.text().as_str(), doc.line_count()), ("a\rx\nb", 3));
    assert_eq!(doc.offset(lc(1, 1), utf16), 3);
    run("a\r", &[RawEdit { range: Some((1, 0, 1, 0)), utf8: false, text: "\nb".into() }])
        .unwrap_or_else(|e| panic!("{e}"));
}
