//! `CONCURRENTLY` for index builds: the keyword, and getting the statement out of the
//! transaction it cannot run in.

use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::Token;

use crate::rules::{Finding, MigrationContext, NoSchema};
use crate::sql::StatementKind;

use super::{FileEdit, Fix, FixContext, Safety};

/// `create-index-blocking`: `CREATE [UNIQUE] INDEX` → `CREATE [UNIQUE] INDEX CONCURRENTLY`.
pub(super) fn create_index(finding: &Finding, ctx: &FixContext, out: &mut Vec<Fix>) {
    let Some(statement) = ctx.file.statements.get(finding.statement) else { return };
    let StatementKind::CreateIndex(ci) = statement.kind() else { return };
    if ci.concurrently.is_some() {
        return;
    }
    // Where the statement runs: a concurrent build refuses every transaction block.
    let migration = MigrationContext::new(ctx.file, ctx.settings, &NoSchema);
    if migration.statement(finding.statement).transaction().is_some() {
        // Moving the statement out of its transaction is framework work (issue: quick fixes);
        // offering the keyword alone would trade this finding for concurrently-in-transaction.
        return;
    }
    let Some(after_index) = keyword_end(&statement.parsed.tokens(), Keyword::INDEX) else { return };
    let at = statement.range.start + after_index;
    out.push(Fix {
        rule: finding.rule,
        title: format!(
            "Use CREATE {}INDEX CONCURRENTLY (writes continue during the build)",
            if ci.unique { "UNIQUE " } else { "" }
        ),
        preferred: true,
        safety: Safety::Safe,
        edits: vec![FileEdit::Replace { range: at..at, text: " CONCURRENTLY".into() }],
    });
}

/// The statement-relative end of the first `keyword` token.
fn keyword_end(tokens: &[crate::sql::lexer::Tok], keyword: Keyword) -> Option<usize> {
    tokens
        .iter()
        .find(|t| matches!(&t.token, Token::Word(w) if w.keyword == keyword && w.quote_style.is_none()))
        .map(|t| t.end as usize)
}
