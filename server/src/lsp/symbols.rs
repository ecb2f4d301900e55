//! `textDocument/documentSymbol`: the migration's outline, one entry per statement.

use tower_lsp::lsp_types::{DocumentSymbol, SymbolKind};

use crate::sql::{Statement, StatementKind};
use crate::text::PositionEncoding;

use super::documents::Snapshot;

/// Longest `detail` shown next to a statement's name.
const DETAIL_CHARS: usize = 60;

pub(crate) fn document_symbols(snapshot: &Snapshot, encoding: PositionEncoding) -> Vec<DocumentSymbol> {
    let Some(analysis) = &snapshot.analysis else { return Vec::new() };
    let positions = snapshot.positions(encoding);
    analysis
        .file
        .statements
        .iter()
        .filter(|s| !matches!(s.kind(), StatementKind::Empty))
        .map(|stmt| {
            let head = stmt.abs(stmt.facts().head);
            let selection = if head.is_empty() { stmt.range.start..stmt.range.start } else { head.clone() };
            #[allow(deprecated)] // `deprecated` is a required field of the struct.
            DocumentSymbol {
                name: name(stmt, &snapshot.text),
                detail: detail(&snapshot.text[head.end.min(stmt.range.end)..stmt.range.end]),
                kind: kind(stmt.kind()),
                tags: None,
                deprecated: None,
                range: positions.range(stmt.range.clone()),
                selection_range: positions.range(selection),
                children: None,
            }
        })
        .collect()
}

/// The statement's command label, or its first words when the recognizer has none. Never empty:
/// VS Code rejects symbols without a name.
fn name(stmt: &Statement, text: &str) -> String {
    let label = &stmt.facts().label;
    if !label.is_empty() {
        return label.clone();
    }
    let words: Vec<&str> = text[stmt.range.clone()].split_whitespace().take(3).collect();
    if words.is_empty() {
        "statement".to_string()
    } else {
        truncate(&words.join(" "))
    }
}

/// What follows the command words, on one line: `orders_customer_idx ON orders (customer_id)`.
fn detail(rest: &str) -> Option<String> {
    let collapsed = rest.split_whitespace().collect::<Vec<_>>().join(" ");
    let collapsed = collapsed.trim_end_matches(';').trim_end();
    (!collapsed.is_empty()).then(|| truncate(collapsed))
}

fn truncate(s: &str) -> String {
    match s.char_indices().nth(DETAIL_CHARS) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_string(),
    }
}

fn kind(kind: &StatementKind) -> SymbolKind {
    match kind {
        StatementKind::CreateTable(_) => SymbolKind::STRUCT,
        StatementKind::CreateIndex(_) | StatementKind::DropIndex(_) | StatementKind::Reindex(_) => SymbolKind::KEY,
        StatementKind::AlterTable(_) => SymbolKind::PROPERTY,
        StatementKind::Update(_) | StatementKind::Delete(_) | StatementKind::Insert(_) => SymbolKind::EVENT,
        StatementKind::Transaction(_) => SymbolKind::NAMESPACE,
        StatementKind::Set(_) => SymbolKind::CONSTANT,
        _ => SymbolKind::OBJECT,
    }
}

#[cfg(test)]
mod tests {
    use tower_lsp::lsp_types::Position;

    use super::*;

    #[test]
    fn one_symbol_per_statement_named_by_its_label() {
        let text = "-- 😀\nCREATE TABLE notes (id bigint);\n/* é */ CREATE INDEX i ON orders (customer_id);\n-- end\n";
        let symbols = document_symbols(&Snapshot::analysed(text), PositionEncoding::Utf16);
        let names: Vec<&str> = symbols.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["CREATE TABLE", "CREATE INDEX"]);
        assert_eq!(symbols[1].detail.as_deref(), Some("i ON orders (customer_id)"));
        assert_eq!(symbols[1].selection_range.start, Position::new(2, 8));
        assert_eq!(symbols[1].selection_range.end, Position::new(2, 20));
    }
}
