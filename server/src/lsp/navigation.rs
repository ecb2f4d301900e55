//! Navigation without a database: hover, go-to-definition, find-references, completion and code
//! lenses, all answered from the replayed schema of the project's last analysis.
//!
//! A name under the cursor is resolved against the schema as it stands at its statement: the
//! replay's schema before the migration (after it, for a separate down file), then the file's own
//! earlier statements, then the statement itself (so the table a `CREATE TABLE` creates has its
//! definition there). A file outside every migration set starts from an empty schema.

use std::fmt::Write as _;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use sqlparser::tokenizer::Token;
use tower_lsp::lsp_types::{
    CodeLens, Command, CompletionItem, CompletionItemKind, Location, MarkupContent, MarkupKind, Position, Url,
};

use crate::history::MigrationStatus;
use crate::schema::{ConstraintType, History, Origin, Schema, Table};
use crate::sql::facts::{AlterAction, ConstraintKind, Name, ObjectKind, QualifiedName, Span};
use crate::sql::{lexer, SqlFile, Statement, StatementKind};
use crate::text::{LineIndex, PositionEncoding};

use super::convert::Positions;
use super::documents::Snapshot;
use super::workspace::{schema_of_file, ProjectState};

/// What the request is about: one open buffer and the project around it.
pub(crate) struct Context<'a> {
    pub snapshot: &'a Snapshot,
    pub path: &'a Path,
    pub project: Option<&'a ProjectState>,
    /// The dev database's facts, when connected.
    pub live: Option<&'a crate::live::LiveFacts>,
    pub encoding: PositionEncoding,
}

/// A table or column of the replayed schema, by key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    Table(String),
    Column { table: String, column: String },
}

impl Context<'_> {
    fn file(&self) -> Option<&SqlFile> {
        Some(&self.snapshot.analysis.as_ref()?.file)
    }

    fn positions(&self) -> Positions<'_> {
        self.snapshot.positions(self.encoding)
    }

    /// The schema this file starts from.
    fn start_schema(&self, file: &SqlFile) -> Schema {
        self.project.and_then(|p| schema_of_file(p, self.path)).unwrap_or_else(|| Schema::new(file.dialect))
    }

    /// The schema before statement `index` and after it.
    fn schemas_at(&self, file: &SqlFile, index: usize) -> (Schema, Schema) {
        let mut schema = self.start_schema(file);
        let path: Arc<Path> = Arc::from(self.path);
        let origin =
            |stmt: &Statement| Origin::new(Arc::clone(&path), self.snapshot.index.line_of(stmt.range.start) as u32 + 1);
        for stmt in file.statements.iter().take(index) {
            if !matches!(stmt.kind(), StatementKind::Empty) {
                let _ = schema.apply(stmt, &origin(stmt));
            }
        }
        let before = schema.clone();
        if let Some(stmt) = file.statements.get(index) {
            let _ = schema.apply(stmt, &origin(stmt));
        }
        (before, schema)
    }

    /// The table or column named under `pos`, the schema it is found in, and the name's range.
    fn target_at(&self, pos: Position) -> Option<(Target, Schema, Range<usize>)> {
        let file = self.file()?;
        let offset = self.positions().offset(pos)?;
        let index = file.statements.partition_point(|s| s.range.start <= offset).checked_sub(1)?;
        let stmt = &file.statements[index];
        if offset > stmt.range.end {
            return None;
        }
        let rel = (offset - stmt.range.start) as u32;
        let tokens = stmt.parsed.tokens();
        let tokens = &tokens;
        let at = tokens.iter().position(|t| t.start <= rel && rel <= t.end && matches!(t.token, Token::Word(_)))?;
        let Token::Word(word) = &tokens[at].token else { return None };
        let range = stmt.range.start + tokens[at].start as usize..stmt.range.start + tokens[at].end as usize;
        let (before, after) = self.schemas_at(file, index);
        let name = qualified_at(tokens, at);
        let column = name_value(&word.value, word.quote_style.is_some());

        // A foreign key's referenced columns belong to the referenced table.
        for fk in foreign_keys(stmt.kind()) {
            if fk.ref_columns.iter().any(|c| within(c.span, rel)) {
                for schema in [&after, &before] {
                    if let Some((table, _)) = schema.column(&fk.ref_table, &column) {
                        let target = Target::Column { table: table.name.clone(), column: column.clone() };
                        return Some((target, schema.clone(), range));
                    }
                }
            }
        }
        for schema in [&after, &before] {
            if let Some(table) = schema.table(&name) {
                return Some((Target::Table(table.name.clone()), schema.clone(), range));
            }
        }
        for schema in [&after, &before] {
            for table in table_refs(stmt.kind()) {
                if let Some((table, _)) = schema.column(table, &column) {
                    let target = Target::Column { table: table.name.clone(), column: column.clone() };
                    return Some((target, schema.clone(), range));
                }
            }
        }
        None
    }

    /// The (qualified) name under `pos` and its range, whatever it names.
    fn name_at(&self, pos: Position) -> Option<(QualifiedName, Range<usize>)> {
        let file = self.file()?;
        let offset = self.positions().offset(pos)?;
        let index = file.statements.partition_point(|s| s.range.start <= offset).checked_sub(1)?;
        let stmt = &file.statements[index];
        if offset > stmt.range.end {
            return None;
        }
        let rel = (offset - stmt.range.start) as u32;
        let tokens = stmt.parsed.tokens();
        let at = tokens.iter().position(|t| t.start <= rel && rel <= t.end && matches!(t.token, Token::Word(_)))?;
        let range = stmt.range.start + tokens[at].start as usize..stmt.range.start + tokens[at].end as usize;
        Some((qualified_at(&tokens, at), range))
    }

    /// The migration as people name it, for "as of".
    fn label(&self) -> String {
        Origin::new(Arc::from(self.path), 1).file_label().unwrap_or_else(|| self.path.display().to_string())
    }
}

/// The hover on a table or column name: its definition as of this migration, and the range of
/// the name.
pub(crate) fn hover(ctx: &Context, pos: Position) -> Option<(String, tower_lsp::lsp_types::Range)> {
    if let Some(found) = live_hover(ctx, pos) {
        return Some(found);
    }
    let (target, schema, range) = ctx.target_at(pos)?;
    let mut md = String::new();
    match &target {
        Target::Table(key) => describe_table(&mut md, &schema, schema.table_by_key(key)?, &ctx.label()),
        Target::Column { table, column } => {
            let table = schema.table_by_key(table)?;
            let col = table.column(column)?;
            let _ = write!(md, "**column `{}.{}`**", table.name, col.name);
            let _ = writeln!(md, " {} — as of `{}`\n", column_summary(col), ctx.label());
            let _ = writeln!(md, "{}\n", col.history);
            let _ = writeln!(md, "table `{}`: {}", table.name, table.history);
        }
    }
    Some((md, ctx.positions().range(range)))
}

/// The hover from the dev database, when it knows the table or column under `pos`.
fn live_hover(ctx: &Context, pos: Position) -> Option<(String, tower_lsp::lsp_types::Range)> {
    let live = ctx.live?;
    let (target, schema, range) = match ctx.target_at(pos) {
        Some(found) => found,
        // A table only the database knows (from before the first migration, or made by hand).
        None => {
            let (name, range) = ctx.name_at(pos)?;
            live.snapshot.table(&name.key())?;
            (Target::Table(name.key()), Schema::new(ctx.file()?.dialect), range)
        }
    };
    let md = match &target {
        Target::Table(key) => {
            let t = live.snapshot.table(key)?;
            let replayed = schema.table_by_key(key).map(|table| (&schema, table));
            super::live_hover::table(live, t, replayed)
        }
        Target::Column { table, column } => {
            let t = live.snapshot.table(table)?;
            let c = t.column(column)?;
            let replayed = schema.table_by_key(table).and_then(|t| t.column(column));
            super::live_hover::column(t, c, replayed)
        }
    };
    Some((md, ctx.positions().range(range)))
}

fn column_summary(col: &crate::schema::Column) -> String {
    let mut out = col.ty.as_ref().map_or_else(|| "(type unknown)".to_string(), |t| t.text.clone());
    if col.not_null {
        out.push_str(" NOT NULL");
    }
    if let Some(default) = &col.default {
        let _ = write!(out, " DEFAULT {default}");
    }
    if col.generated {
        out.push_str(" (generated)");
    }
    out
}

fn describe_table(md: &mut String, schema: &Schema, table: &Table, label: &str) {
    let _ = writeln!(md, "**table `{}`** — as of `{label}`\n", table.name);
    if table.columns().next().is_none() {
        md.push_str("_columns unknown (the table comes from before the first migration)_\n\n");
    } else {
        md.push_str("Columns:\n");
        for col in table.columns() {
            let _ = writeln!(md, "- `{}` {}", col.name, column_summary(col));
        }
        if !table.columns_known {
            md.push_str("- _(and columns safemig cannot see)_\n");
        }
        md.push('\n');
    }
    let indexes: Vec<_> = schema.indexes_of(table).collect();
    if !indexes.is_empty() {
        md.push_str("Indexes:\n");
        for index in indexes {
            let unique = if index.unique { "UNIQUE " } else { "" };
            let partial = if index.partial { " (partial)" } else { "" };
            let _ = writeln!(md, "- `{}` {unique}({}){partial}", index.name, index.columns.join(", "));
        }
        md.push('\n');
    }
    if !table.constraints.is_empty() {
        md.push_str("Constraints:\n");
        for c in &table.constraints {
            let kind = match &c.kind {
                ConstraintType::PrimaryKey => format!("PRIMARY KEY ({})", c.columns.join(", ")),
                ConstraintType::Unique => format!("UNIQUE ({})", c.columns.join(", ")),
                ConstraintType::ForeignKey { table, columns } => {
                    format!("FOREIGN KEY ({}) → {table} ({})", c.columns.join(", "), columns.join(", "))
                }
                ConstraintType::Check { .. } => "CHECK".to_string(),
                ConstraintType::Exclude => "EXCLUDE".to_string(),
            };
            let valid = if c.validated { "" } else { " NOT VALID" };
            let _ = writeln!(md, "- `{}` {kind}{valid}", c.name);
        }
        md.push('\n');
    }
    let _ = writeln!(md, "{}", table.history);
}

/// Where the table or column under `pos` was created.
pub(crate) fn definition(ctx: &Context, pos: Position) -> Option<Location> {
    let (target, schema, _) = ctx.target_at(pos)?;
    let history: &History = match &target {
        Target::Table(key) => &schema.table_by_key(key)?.history,
        Target::Column { table, column } => &schema.table_by_key(table)?.column(column)?.history,
    };
    let created = history.created.as_ref()?;
    let path = created.path.as_deref().unwrap_or(ctx.path);
    statement_location(ctx, path, created.line)
}

/// The statement of `path` that starts on 1-based `line`, as a location (the line itself when
/// the file is not at hand).
fn statement_location(ctx: &Context, path: &Path, line: u32) -> Option<Location> {
    let uri = Url::from_file_path(path).ok()?;
    let file = if path == ctx.path {
        ctx.file()
    } else {
        ctx.project.and_then(|p| Some(&*p.analysis.files.get(path)?.analysis.file))
    };
    let Some(file) = file else {
        let at = Position::new(line.saturating_sub(1), 0);
        return Some(Location { uri, range: tower_lsp::lsp_types::Range { start: at, end: at } });
    };
    let index = if path == ctx.path { LineIndex::new(&file.text) } else { LineIndex::for_file(&file.text) };
    let positions = Positions { text: &file.text, index: &index, encoding: ctx.encoding };
    let wanted = line.saturating_sub(1) as usize;
    let stmt = file.statements.iter().find(|s| index.line_of(s.range.start) == wanted)?;
    Some(Location { uri, range: positions.range(stmt.range.clone()) })
}

/// Every statement of the set (this file's buffer included) that names the table under `pos`
/// (for a column: that names the table and the column), in migration order.
pub(crate) fn references(ctx: &Context, pos: Position) -> Option<Vec<Location>> {
    let (target, schema, _) = ctx.target_at(pos)?;
    let (table, column) = match &target {
        Target::Table(key) => (key.clone(), None),
        Target::Column { table, column } => (table.clone(), Some(column.clone())),
    };
    let mut files: Vec<(std::path::PathBuf, &SqlFile)> = Vec::new();
    let located = ctx.project.and_then(|p| Some((p, p.model.project.locate(ctx.path)?)));
    match located {
        Some((p, (si, _))) => {
            for m in &p.model.project.sets[si].migrations {
                for path in m.files() {
                    let file = if path == ctx.path {
                        ctx.file()
                    } else {
                        p.analysis.files.get(path).map(|f| &*f.analysis.file)
                    };
                    if let Some(file) = file {
                        files.push((path.to_path_buf(), file));
                    }
                }
            }
        }
        None => files.extend(ctx.file().map(|f| (ctx.path.to_path_buf(), f))),
    }
    let mut out = Vec::new();
    for (path, file) in files {
        let Ok(uri) = Url::from_file_path(&path) else { continue };
        let index = if path == ctx.path { LineIndex::new(&file.text) } else { LineIndex::for_file(&file.text) };
        let positions = Positions { text: &file.text, index: &index, encoding: ctx.encoding };
        for stmt in &file.statements {
            let Some(name) = table_refs(stmt.kind()).into_iter().find(|n| schema.key(n) == table) else { continue };
            let span = match &column {
                None => name.span,
                Some(column) => match word_span(stmt, column) {
                    Some(span) => span,
                    None => continue,
                },
            };
            out.push(Location { uri: uri.clone(), range: positions.range(stmt.abs(span)) });
        }
    }
    Some(out)
}

/// The span of the first word token spelling `name` in a statement.
fn word_span(stmt: &Statement, name: &str) -> Option<Span> {
    stmt.parsed.tokens().into_iter().find_map(|t| match &t.token {
        Token::Word(w) if name_value(&w.value, w.quote_style.is_some()) == name => Some(Span::new(t.start, t.end)),
        _ => None,
    })
}

/// What completion offers at a position: table names, or the columns of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Expect {
    Tables,
    Columns(QualifiedName),
}

/// Table and column names in DDL positions.
pub(crate) fn completion(ctx: &Context, pos: Position) -> Option<Vec<CompletionItem>> {
    let file = ctx.file()?;
    let offset = ctx.positions().offset(pos)?;
    // The statement being typed starts after the last `;`-terminated statement before the cursor.
    let ended = file.statements.iter().take_while(|s| s.range.end <= offset && ends_statement(file, s)).count();
    let start = if ended == 0 { 0 } else { file.statements[ended - 1].range.end };
    let text = file.text.get(start..offset)?;
    let lexed = lexer::tokenize(file.dialect.sqlparser(), text);
    let mut words: Vec<(String, bool)> = Vec::new();
    let mut significant: Vec<&lexer::Tok> = lexed.tokens.iter().filter(|t| !t.is_trivia()).collect();
    // A word touching the cursor is the prefix being typed: the client filters by it.
    if significant
        .last()
        .is_some_and(|t| matches!(t.token, Token::Word(_)) && text.get(t.end as usize..).is_some_and(str::is_empty))
    {
        significant.pop();
    }
    // Only the statement being typed counts, whatever the statements before it look like.
    if let Some(end) = significant.iter().rposition(|t| t.token == Token::SemiColon) {
        significant.drain(..=end);
    }
    let tokens: Vec<&Token> = significant.iter().map(|t| &t.token).collect();
    for t in &tokens {
        match t {
            Token::Word(w) => words.push((w.value.to_ascii_uppercase(), w.quote_style.is_some())),
            other => words.push((other.to_string(), false)),
        }
    }
    let expect = expect(&tokens, &words)?;
    let (before, _) = ctx.schemas_at(file, ended);
    let items = match expect {
        Expect::Tables => before
            .tables()
            .map(|t| CompletionItem {
                label: t.name.clone(),
                kind: Some(CompletionItemKind::STRUCT),
                detail: Some(format!("table · {}", t.history)),
                ..CompletionItem::default()
            })
            .collect(),
        Expect::Columns(table) => before
            .table(&table)?
            .columns()
            .map(|c| CompletionItem {
                label: c.name.clone(),
                kind: Some(CompletionItemKind::FIELD),
                detail: Some(column_summary(c)),
                ..CompletionItem::default()
            })
            .collect(),
    };
    Some(items)
}

fn ends_statement(file: &SqlFile, stmt: &Statement) -> bool {
    file.text.get(..stmt.range.end).is_some_and(|t| t.trim_end().ends_with(';'))
}

/// What the tokens before the cursor (without the word being typed) expect next.
fn expect(tokens: &[&Token], words: &[(String, bool)]) -> Option<Expect> {
    let n = words.len();
    let word = |i: usize| words.get(i).map(|(w, quoted)| if *quoted { "" } else { w.as_str() }).unwrap_or("");
    let last = n.checked_sub(1)?;
    // Right after a keyword that names a table.
    let table_keywords = ["ON", "REFERENCES", "INTO", "UPDATE", "JOIN", "TRUNCATE"];
    if table_keywords.contains(&word(last))
        || (word(last) == "TABLE" && ["ALTER", "EXISTS", "DROP", "ONLY"].contains(&word(last.wrapping_sub(1))))
        || (word(last) == "EXISTS" && word(last.wrapping_sub(1)) == "IF" && word(last.wrapping_sub(2)) == "TABLE")
        || (word(last) == "FROM" && word(last.wrapping_sub(1)) == "DELETE")
    {
        return Some(Expect::Tables);
    }
    if word(last) == "ONLY" && word(last.wrapping_sub(1)) == "TABLE" {
        return Some(Expect::Tables);
    }
    // ALTER TABLE t … ALTER|DROP|RENAME [COLUMN]
    let table_of_alter = || {
        let at = words.iter().position(|(w, q)| !q && w == "TABLE")?;
        (word(0) == "ALTER").then_some(())?;
        let mut i = at + 1;
        while ["IF", "EXISTS", "ONLY"].contains(&word(i)) {
            i += 1;
        }
        name_from(tokens, i)
    };
    if word(last) == "COLUMN" && ["ALTER", "DROP", "RENAME"].contains(&word(last.wrapping_sub(1))) {
        return table_of_alter().map(Expect::Columns);
    }
    if word(last) == "EXISTS" && word(last.wrapping_sub(1)) == "IF" && word(last.wrapping_sub(2)) == "COLUMN" {
        return table_of_alter().map(Expect::Columns);
    }
    // Inside the column list after `ON t (` or `REFERENCES t (`, and after `UPDATE t SET`.
    let mut depth = 0i32;
    for i in (0..n).rev() {
        match tokens[i] {
            Token::RParen => depth += 1,
            Token::LParen if depth > 0 => depth -= 1,
            Token::LParen => {
                // `ON t (` / `ON t USING btree (` / `REFERENCES t (`
                let mut j = i;
                if !word(j.wrapping_sub(1)).is_empty() && word(j.wrapping_sub(2)) == "USING" {
                    j -= 2;
                }
                let (name, end) = name_before(tokens, j)?;
                return ["ON", "REFERENCES"].contains(&word(end.wrapping_sub(1))).then_some(Expect::Columns(name));
            }
            _ => {}
        }
    }
    if word(last) == "SET" || word(last) == "," {
        let at = words.iter().position(|(w, q)| !q && w == "UPDATE")?;
        let set = words.iter().position(|(w, q)| !q && w == "SET")?;
        if set > at && !words[set + 1..].iter().any(|(w, q)| !q && (w == "WHERE" || w == "FROM")) {
            return name_from(tokens, at + 1).map(Expect::Columns);
        }
    }
    None
}

/// The (possibly qualified) name starting at token `i`.
fn name_from(tokens: &[&Token], mut i: usize) -> Option<QualifiedName> {
    let mut parts = Vec::new();
    while let Some(Token::Word(w)) = tokens.get(i) {
        parts.push(Name {
            value: name_value(&w.value, w.quote_style.is_some()),
            quoted: w.quote_style.is_some(),
            span: Span::default(),
        });
        if tokens.get(i + 1) != Some(&&Token::Period) {
            break;
        }
        i += 2;
    }
    (!parts.is_empty()).then(|| QualifiedName { parts, span: Span::default() })
}

/// The (possibly qualified) name that ends just before token `end`, and the index of its first
/// token.
fn name_before(tokens: &[&Token], end: usize) -> Option<(QualifiedName, usize)> {
    let mut start = end.checked_sub(1)?;
    if !matches!(tokens.get(start), Some(Token::Word(_))) {
        return None;
    }
    while start >= 2 && tokens[start - 1] == &Token::Period && matches!(tokens[start - 2], Token::Word(_)) {
        start -= 2;
    }
    Some((name_from(tokens, start)?, start))
}

/// The code lens on a migration's first line: its position in its set and its git status.
pub(crate) fn code_lens(
    project: &ProjectState,
    path: &Path,
    live: Option<&crate::live::LiveFacts>,
) -> Option<CodeLens> {
    let (si, mi) = project.model.project.locate(path)?;
    let set = &project.model.project.sets[si];
    let mut title = format!("#{} of {}", mi + 1, set.migrations.len());
    // Where it stands in the dev database first: `applied 2026-03-02 14:10 UTC`, `pending`, `FAILED`.
    if let Some(state) = live.and_then(|live| ledger_state(set, mi, live)) {
        title = format!("{state} · {title}");
    }
    if let Some(git) = &project.model.project.git {
        let status = match git.status(path) {
            MigrationStatus::Shipped { commit: Some(c) } => {
                format!("shipped in {} ({}, {})", git.shipped_ref(), c.hash, c.date)
            }
            MigrationStatus::Shipped { commit: None } => format!("shipped in {}", git.shipped_ref()),
            MigrationStatus::Committed { commit } => {
                format!("not shipped (committed in {}, {})", commit.hash, commit.date)
            }
            MigrationStatus::Uncommitted | MigrationStatus::Untracked => "uncommitted".to_string(),
        };
        let _ = write!(title, " · {status}");
    }
    let _ = write!(title, " · {} {}", set.framework, set.dialect.name());
    let at = Position::new(0, 0);
    Some(CodeLens {
        range: tower_lsp::lsp_types::Range { start: at, end: at },
        command: Some(Command { title, command: String::new(), arguments: None }),
        data: None,
    })
}

/// The migration's state in the dev database's ledger (`pending` when the framework keeps a
/// ledger the database does not have yet); `None` when the framework keeps none.
fn ledger_state(
    set: &crate::workspace::MigrationSet,
    migration: usize,
    live: &crate::live::LiveFacts,
) -> Option<String> {
    match live.ledger_of(&set.dir) {
        Some(ledger) => crate::live::ledger::statuses(set, ledger)
            .into_iter()
            .find(|s| s.migration == Some(migration))
            .map(|s| s.state.lens()),
        None if crate::workspace::frameworks::framework(set.framework).ledger().is_some() => Some("pending".into()),
        None => None,
    }
}

/// Markdown as hover contents.
pub(crate) fn markup(value: String) -> MarkupContent {
    MarkupContent { kind: MarkupKind::Markdown, value }
}

/// An identifier as the schema keys it: unquoted names fold to lower case.
fn name_value(value: &str, quoted: bool) -> String {
    if quoted {
        value.to_string()
    } else {
        value.to_lowercase()
    }
}

fn within(span: Span, rel: u32) -> bool {
    span.start <= rel && rel <= span.end
}

/// The possibly qualified name whose last part (or schema part) is token `at`.
fn qualified_at(tokens: &[lexer::Tok], at: usize) -> QualifiedName {
    let word = |i: usize| match tokens.get(i).map(|t| &t.token) {
        Some(Token::Word(w)) => Some(Name {
            value: name_value(&w.value, w.quote_style.is_some()),
            quoted: w.quote_style.is_some(),
            span: Span::new(tokens[i].start, tokens[i].end),
        }),
        _ => None,
    };
    let is_period = |i: usize| tokens.get(i).is_some_and(|t| t.token == Token::Period);
    let mut first = at;
    while first >= 2 && is_period(first - 1) && word(first - 2).is_some() {
        first -= 2;
    }
    let mut last = at;
    while is_period(last + 1) && word(last + 2).is_some() {
        last += 2;
    }
    let parts: Vec<Name> = (first..=last).step_by(2).filter_map(word).collect();
    let span = Span::new(tokens[first].start, tokens[last].end);
    QualifiedName { parts, span }
}

/// Every table a statement names (the one it acts on first).
pub(crate) fn table_refs(kind: &StatementKind) -> Vec<&QualifiedName> {
    let mut out = Vec::new();
    match kind {
        StatementKind::CreateTable(t) => out.push(&t.name),
        StatementKind::CreateIndex(i) => out.push(&i.table),
        StatementKind::DropIndex(d) => out.extend(d.table.as_ref()),
        StatementKind::AlterTable(a) => out.push(&a.table),
        StatementKind::Drop(d)
            if matches!(d.object, ObjectKind::Table | ObjectKind::View | ObjectKind::MaterializedView) =>
        {
            out.extend(&d.names)
        }
        StatementKind::Truncate { tables, .. } | StatementKind::Vacuum { tables, .. } => out.extend(tables),
        StatementKind::Update(d) | StatementKind::Delete(d) => out.push(&d.table),
        StatementKind::Insert(i) => out.push(&i.table),
        StatementKind::Cluster { table } | StatementKind::CreateTrigger { table, .. } => out.extend(table.as_ref()),
        _ => {}
    }
    out.extend(foreign_keys(kind).into_iter().map(|fk| &fk.ref_table));
    out
}

/// The foreign keys a statement declares.
fn foreign_keys(kind: &StatementKind) -> Vec<&crate::sql::facts::ForeignKey> {
    let mut out = Vec::new();
    match kind {
        StatementKind::CreateTable(t) => {
            out.extend(t.columns.iter().filter_map(|c| c.references.as_ref()));
            out.extend(t.constraints.iter().filter_map(|c| match &c.kind {
                ConstraintKind::ForeignKey(fk) => Some(fk),
                _ => None,
            }));
        }
        StatementKind::AlterTable(a) => {
            for action in &a.actions {
                match &action.action {
                    AlterAction::AddColumn { column, .. } => out.extend(column.references.as_ref()),
                    AlterAction::AddConstraint(c) => {
                        if let ConstraintKind::ForeignKey(fk) = &c.kind {
                            out.push(fk);
                        }
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(text: &str) -> Vec<String> {
        let snapshot = Snapshot::analysed(text);
        let ctx = Context {
            snapshot: &snapshot,
            path: Path::new("/w/m/001.sql"),
            project: None,
            live: None,
            encoding: PositionEncoding::Utf16,
        };
        let line = text.matches('\n').count() as u32;
        let character = text.rsplit('\n').next().map_or(0, str::len) as u32;
        let mut out: Vec<String> =
            completion(&ctx, Position::new(line, character)).unwrap_or_default().into_iter().map(|i| i.label).collect();
        out.sort();
        out
    }

    #[test]
    fn completion_offers_tables_and_columns_in_ddl_positions() {
        let schema = "CREATE TABLE users (id bigint, email text);\nCREATE TABLE orders (id bigint, total numeric);\n";
        assert_eq!(labels(&format!("{schema}CREATE INDEX i ON ")), ["orders", "users"]);
        assert_eq!(labels(&format!("{schema}ALTER TABLE ")), ["orders", "users"]);
        assert_eq!(labels(&format!("{schema}ALTER TABLE us")), ["orders", "users"]);
        assert_eq!(labels(&format!("{schema}CREATE INDEX i ON orders (total, ")), ["id", "total"]);
        assert_eq!(labels(&format!("{schema}ALTER TABLE users DROP COLUMN ")), ["email", "id"]);
        assert_eq!(labels(&format!("{schema}ALTER TABLE users ALTER COLUMN e")), ["email", "id"]);
        assert_eq!(labels(&format!("{schema}UPDATE orders SET ")), ["id", "total"]);
        assert_eq!(
            labels(&format!("{schema}ALTER TABLE orders ADD CONSTRAINT f FOREIGN KEY (id) REFERENCES users (")),
            ["email", "id"]
        );
        assert!(labels(&format!("{schema}SELECT ")).is_empty());
        let long = "CREATE TABLE users (id bigint, name text);\nALTER TABLE users ALTER COLUMN name SET NOT NULL;\nUPDATE orders SET total = 0 WHERE id = 1;\nCREATE INDEX CONCURRENTLY orders_user_idx ON orders (user_id);\nCREATE INDEX CONCURRENTLY orders_total_idx ON orders (total, id);\nALTER TABLE users DROP COLUMN ";
        assert_eq!(labels(long), ["id", "name"]);
    }
}
