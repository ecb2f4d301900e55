//! The intended change between two definitions of a table: the `ALTER TABLE` statements that take
//! the table as it is (`old`) to the table a `CREATE TABLE` declares (`new`). Used where a
//! migration re-creates a table that exists (`object-already-exists`) and where a shipped
//! migration's `CREATE TABLE` was edited (`shipped-migration-edited`, moved into a new
//! migration).
//!
//! Both sides are replayed tables ([`crate::schema::Table`]: columns with type, default, NOT NULL;
//! constraints by name); what is added is rendered from the new statement's own text (a column's
//! whole definition, a constraint's clause), so nothing the model does not keep (a collation, a
//! check's expression, `ON DELETE CASCADE`) is lost. The statements run in this order: `DROP
//! CONSTRAINT` (removed or changed ones), `ADD COLUMN`, per kept column `DROP DEFAULT` / `TYPE` /
//! `SET DEFAULT` / `SET|DROP NOT NULL`, `DROP COLUMN`, then `ADD CONSTRAINT` (keys before foreign
//! keys).
//!
//! Nothing is guessed: a column missing from `new` is dropped (its data with it: [`Derived`]
//! says so, the fix says so in its title), never renamed. No statements are derived (`None`) when
//! something cannot be compared or rendered exactly: a column whose old type is unknown, one that
//! becomes or stops being identity / serial, a kept column whose new definition holds a collation
//! or a generation expression that differs from (or cannot be compared with) the old one, a kept
//! check, foreign key or exclusion constraint whose old clause text is unknown, an inline
//! constraint of a kept column that carries more than its kind (`CONSTRAINT name`, `DEFERRABLE`,
//! `NULLS NOT DISTINCT`, `NO INHERIT`), a type change PostgreSQL does not make without `USING`
//! (`text` to `int`), a key to drop that a foreign key references (where the schema is known),
//! table options that differ or cannot be compared (`UNLOGGED`, `PARTITION BY`, `INHERITS`,
//! `WITH (…)`: only columns and constraints are derived), or a dialect other than PostgreSQL.

use crate::schema::{Column, Constraint, ConstraintType, History, Origin, Schema, Table};
use crate::sql::facts::{ColumnDef, ConstraintKind, CreateTable, QualifiedName, Span, TableConstraint, TypeName};
use crate::sql::quote::ident;
use crate::sql::{Dialect, Statement, StatementKind};

use super::exists::tokens;

/// The statements that reach the new definition, and what they do to the data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Derived {
    /// Each statement with its final `;`, in the order they run.
    pub statements: Vec<String>,
    pub added_columns: Vec<String>,
    /// Dropped with their data.
    pub dropped_columns: Vec<String>,
    /// Their values are converted to a new type (the table is rewritten; a value that does not
    /// convert fails).
    pub retyped_columns: Vec<String>,
}

impl Derived {
    /// The statements drop or convert data.
    pub fn destructive(&self) -> bool {
        !self.dropped_columns.is_empty() || !self.retyped_columns.is_empty()
    }

    /// What the statements keep or change, for a fix's title: "keeps the new column email",
    /// "drops the column name and its data", "changes the type of age".
    pub fn summary(&self) -> String {
        let plural =
            |names: &[String], one: &'static str, many: &'static str| if names.len() == 1 { one } else { many };
        let mut parts = Vec::new();
        if !self.added_columns.is_empty() {
            let noun = plural(&self.added_columns, "column", "columns");
            parts.push(format!("keeps the new {noun} {}", list(&self.added_columns)));
        }
        parts.extend(self.losses());
        if !self.retyped_columns.is_empty() {
            parts.push(format!("changes the type of {}", list(&self.retyped_columns)));
        }
        if parts.is_empty() {
            parts.push("changes defaults, NOT NULL or constraints".to_string());
        }
        parts.join("; ")
    }

    /// What the statements lose: "drops the column `name` and its data".
    pub fn losses(&self) -> Option<String> {
        let dropped = &self.dropped_columns;
        let (noun, data) = if dropped.len() == 1 { ("column", "its") } else { ("columns", "their") };
        (!dropped.is_empty()).then(|| format!("drops the {noun} {} and {data} data", list(dropped)))
    }
}

/// Names as a title lists them: `` `a`, `b` ``.
fn list(names: &[String]) -> String {
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

/// A `CREATE TABLE` with a column list: its facts and its text (the facts' spans are relative to
/// it).
#[derive(Clone, Copy)]
pub(super) struct Declared<'a> {
    pub ct: &'a CreateTable,
    pub text: &'a str,
}

impl<'a> Declared<'a> {
    /// The statement `stmt` of a file whose text is `file_text`, when it is a `CREATE TABLE` that
    /// lists its columns.
    pub fn of(stmt: &'a Statement, file_text: &'a str) -> Option<Self> {
        match stmt.kind() {
            StatementKind::CreateTable(ct) if !ct.columns_implicit && !ct.select_into => {
                Some(Declared { ct, text: file_text.get(stmt.range.clone())? })
            }
            _ => None,
        }
    }

    fn span(&self, span: Span) -> Option<&'a str> {
        self.text.get(span.start as usize..span.end as usize)
    }

    /// The table this statement alone creates, replayed on an empty schema.
    pub fn table(&self, stmt: &Statement, dialect: Dialect) -> Option<Table> {
        let mut schema = Schema::new(dialect);
        schema.apply(stmt, &Origin::here(0));
        schema.table(&self.ct.name).cloned()
    }

    /// The words of the statement outside its name and its list of columns and constraints:
    /// `create unlogged table`, `partition by range ( day )`, `inherits ( p )`, `with ( … )`.
    fn options(&self) -> Vec<String> {
        let words = tokens(Dialect::Postgres, self.text, true);
        let Some(open) = words.iter().position(|w| w == "(") else { return words };
        let mut depth = 0usize;
        let close = words[open..].iter().position(|w| {
            match w.as_str() {
                "(" => depth += 1,
                ")" => depth = depth.saturating_sub(1),
                _ => {}
            }
            depth == 0
        });
        let head = words.iter().take_while(|w| *w != "table").cloned();
        let tail = close.map_or(&[][..], |c| &words[(open + c + 1).min(words.len())..]);
        head.chain(tail.iter().cloned()).collect()
    }

    fn column(&self, name: &str) -> Option<&'a ColumnDef> {
        self.ct.columns.iter().find(|c| c.name.value == name)
    }

    /// The clause of this statement that declares `c` (a constraint of the table it creates):
    /// the table constraint with its name, else the first unnamed one of its kind on its
    /// columns, else the inline one of its column.
    /// `None` when no clause or more than one could be it.
    fn clause(&self, c: &Constraint) -> Option<Clause<'a>> {
        if let Some(tc) = self.ct.constraints.iter().find(|tc| tc.name.as_ref().is_some_and(|n| n.value == c.name)) {
            return Some(Clause::Table(tc));
        }
        let mut candidates: Vec<Clause<'a>> = self
            .ct
            .constraints
            .iter()
            .filter(|tc| tc.name.is_none() && self.same_kind(tc, c))
            .map(Clause::Table)
            .collect();
        if let [column] = c.columns.as_slice() {
            if let Some(def) = self.column(column) {
                let inline = match &c.kind {
                    ConstraintType::PrimaryKey => def.primary_key.map(|_| Inline::PrimaryKey),
                    ConstraintType::Unique => def.unique.map(|_| Inline::Unique),
                    ConstraintType::Check { .. } => def.check.map(Inline::Check),
                    ConstraintType::ForeignKey { .. } => def.references.as_ref().map(|fk| Inline::References(fk.span)),
                    ConstraintType::Exclude => None,
                };
                candidates.extend(inline.map(|i| Clause::Inline(def, i)));
            }
        }
        match candidates.len() {
            1 => candidates.pop(),
            _ => None,
        }
    }

    /// Whether the unnamed table constraint `tc` is of `c`'s kind on `c`'s columns (for a check,
    /// the columns it reads, as the replay counts them).
    fn same_kind(&self, tc: &TableConstraint, c: &Constraint) -> bool {
        let names = |cols: &[crate::sql::facts::Name]| cols.iter().map(|c| c.value.clone()).collect::<Vec<_>>();
        match (&tc.kind, &c.kind) {
            (ConstraintKind::PrimaryKey { columns }, ConstraintType::PrimaryKey)
            | (ConstraintKind::Unique { columns }, ConstraintType::Unique) => names(columns) == c.columns,
            (ConstraintKind::ForeignKey(fk), ConstraintType::ForeignKey { .. }) => names(&fk.columns) == c.columns,
            (ConstraintKind::Check { not_null_of }, ConstraintType::Check { .. }) => {
                let mut read: Vec<String> = not_null_of.iter().cloned().collect();
                for word in &tc.check_words {
                    if self.column(word).is_some() && !read.contains(word) {
                        read.push(word.clone());
                    }
                }
                read == c.columns
            }
            (ConstraintKind::Exclude, ConstraintType::Exclude) => true,
            _ => false,
        }
    }

    /// The clause as the words of `ADD …` (`CONSTRAINT n CHECK (…)`, `UNIQUE (email)`), when it can
    /// be written exactly.
    fn add_sql(&self, clause: &Clause) -> Option<String> {
        match clause {
            Clause::Table(tc) => Some(self.span(tc.span)?.trim().to_string()),
            Clause::Inline(def, inline) => {
                let words = tokens(Dialect::Postgres, self.span(def.span)?, false);
                // What the inline form may carry that `ADD` would not say the same way.
                if words
                    .iter()
                    .any(|w| matches!(w.as_str(), "constraint" | "deferrable" | "initially" | "nulls" | "inherit"))
                {
                    return None;
                }
                let column = ident(&def.name.value);
                Some(match inline {
                    Inline::PrimaryKey => format!("PRIMARY KEY ({column})"),
                    Inline::Unique => format!("UNIQUE ({column})"),
                    Inline::Check(span) => self.span(*span)?.trim().to_string(),
                    Inline::References(span) => format!("FOREIGN KEY ({column}) {}", self.span(*span)?.trim()),
                })
            }
        }
    }

    /// The clause's words for comparing definitions (no `CONSTRAINT name`; an inline foreign key
    /// reads as its table form).
    fn clause_words(&self, clause: &Clause) -> Option<Vec<String>> {
        let text = match clause {
            Clause::Table(tc) => self.text.get(tc.kind_span.start as usize..tc.span.end as usize)?.to_string(),
            Clause::Inline(def, Inline::References(span)) => {
                format!("FOREIGN KEY ({}) {}", ident(&def.name.value), self.span(*span)?)
            }
            Clause::Inline(_, Inline::Check(span)) => self.span(*span)?.to_string(),
            Clause::Inline(def, Inline::PrimaryKey) => format!("PRIMARY KEY ({})", ident(&def.name.value)),
            Clause::Inline(def, Inline::Unique) => format!("UNIQUE ({})", ident(&def.name.value)),
        };
        Some(tokens(Dialect::Postgres, &text, false))
    }
}

enum Clause<'a> {
    Table(&'a TableConstraint),
    Inline(&'a ColumnDef, Inline),
}

#[derive(Clone, Copy)]
enum Inline {
    PrimaryKey,
    Unique,
    Check(Span),
    References(Span),
}

/// One side of the comparison: a replayed table and, when known, the `CREATE TABLE` that created
/// it. That statement's text tells how a column or constraint is defined only while the element
/// is as it made it (created by it, altered by nothing since).
pub(super) struct Side<'a> {
    pub table: &'a Table,
    pub declared: Option<Declared<'a>>,
    /// The schema the table is in, when known: the foreign keys of other tables that lean on its
    /// keys (PostgreSQL refuses to drop a key one references).
    pub schema: Option<&'a Schema>,
}

impl<'a> Side<'a> {
    /// The statement that declared an element with this history exactly as it is.
    fn declared_for(&self, history: &History) -> Option<Declared<'a>> {
        let made_by_it = history.created.is_some() && history.created == self.table.history.created;
        (made_by_it && history.altered.is_empty()).then_some(self.declared?)
    }
}

/// The `ALTER TABLE` statements (on `name`, as the new statement writes it) that take `old` to
/// `new`; empty when they define the same table. `None` when that cannot be derived exactly (see
/// the module documentation).
pub(super) fn alter_table(name: &QualifiedName, old: &Side, new: &Side, dialect: Dialect) -> Option<Derived> {
    let new_decl = new.declared?;
    if dialect != Dialect::Postgres
        || !old.table.columns_known
        || !new.table.columns_known
        || old.table.is_from_baseline()
        || old.table.temporary != new.table.temporary
    {
        return None;
    }
    // What the table is beyond its columns (UNLOGGED, PARTITION BY, INHERITS, WITH, …) is not
    // derived: it must be what it was.
    let plain = ["create".to_string()];
    let same_options = match old.declared {
        Some(old_decl) => old_decl.options() == new_decl.options(),
        None => new_decl.options() == plain,
    };
    if !same_options {
        return None;
    }
    let table = name.sql();
    let alter = |action: String| format!("ALTER TABLE {table} {action};");
    let mut out = Derived::default();

    // Columns.
    let in_pk = |t: &Table, column: &str| t.primary_key().is_some_and(|pk| pk.columns.iter().any(|c| c == column));
    let mut add_columns = Vec::new();
    let mut change_columns = Vec::new();
    let mut drop_columns = Vec::new();
    for o in old.table.columns() {
        match new.table.column(&o.name) {
            None => {
                out.dropped_columns.push(o.name.clone());
                drop_columns.push(alter(format!("DROP COLUMN {}", ident(&o.name))));
            }
            Some(n) => {
                let def = new_decl.column(&n.name)?;
                let old_def = old.declared_for(&o.history).and_then(|d| Some((d, d.column(&o.name)?)));
                if unchanged_text(old_def, new_decl, def) {
                    continue;
                }
                let column = ident(&o.name);
                let in_pk = (in_pk(old.table, &o.name), in_pk(new.table, &n.name));
                let statements = column_changes((o, old_def), (n, def, new_decl), in_pk)?;
                if statements.iter().any(|s| s.starts_with("TYPE ")) {
                    out.retyped_columns.push(o.name.clone());
                }
                change_columns.extend(statements.into_iter().map(|s| alter(format!("ALTER COLUMN {column} {s}"))));
            }
        }
    }
    for n in new.table.columns() {
        if old.table.column(&n.name).is_none() {
            let def = new_decl.column(&n.name)?;
            out.added_columns.push(n.name.clone());
            add_columns.push(alter(format!("ADD COLUMN {}", new_decl.span(def.span)?.trim())));
        }
    }

    // Constraints, by name.
    let added = |c: &Constraint| c.columns.iter().any(|col| out.added_columns.contains(col));
    let dropped = |c: &Constraint| c.columns.iter().any(|col| out.dropped_columns.contains(col));
    let mut drop_constraints = Vec::new();
    let mut add_constraints = Vec::new();
    for o in old.table.constraints.iter() {
        let n = new.table.constraint(&o.name);
        let same = match n {
            Some(n) => same_constraint(o, old.declared_for(&o.history).as_ref(), n, new_decl)?,
            None => false,
        };
        let key = matches!(o.kind, ConstraintType::PrimaryKey | ConstraintType::Unique);
        if !same && key && referenced(old, o) {
            return None;
        }
        if !same && !dropped(o) {
            drop_constraints.push((o, alter(format!("DROP CONSTRAINT {}", ident(&o.name)))));
        }
        if let (false, Some(n)) = (same, n) {
            add_constraints.push((n, add_constraint(n, new_decl, &alter, added(n))?));
        }
    }
    for n in new.table.constraints.iter() {
        if old.table.constraint(&n.name).is_none() {
            add_constraints.push((n, add_constraint(n, new_decl, &alter, added(n))?));
        }
    }
    // Foreign keys go first and come last: they may lean on a key that changes.
    let fk = |c: &Constraint| matches!(c.kind, ConstraintType::ForeignKey { .. });
    drop_constraints.sort_by_key(|(c, _)| !fk(c));
    add_constraints.sort_by_key(|(c, _)| fk(c));

    out.statements.extend(drop_constraints.into_iter().map(|(_, s)| s));
    out.statements.extend(add_columns);
    out.statements.extend(change_columns);
    out.statements.extend(drop_columns);
    out.statements.extend(add_constraints.into_iter().filter_map(|(_, s)| s));
    Some(out)
}

/// Whether a foreign key of the schema (another table's, or the table's own) references the key
/// `key` of the side's table.
fn referenced(side: &Side, key: &Constraint) -> bool {
    side.schema.is_some_and(|schema| {
        schema.tables().any(|t| {
            t.constraints.iter().any(|c| {
                matches!(&c.kind, ConstraintType::ForeignKey { table, columns } if *table == side.table.name && *columns == key.columns)
            })
        })
    })
}

/// The column's definition is the same text (layout and case aside) in both statements, and
/// nothing altered it since the old one.
fn unchanged_text(old: Option<(Declared, &ColumnDef)>, new: Declared, def: &ColumnDef) -> bool {
    let Some((old_decl, old_def)) = old else { return false };
    let words = |d: &Declared, c: &ColumnDef| d.span(c.span).map(|t| tokens(Dialect::Postgres, t, false));
    words(&old_decl, old_def).is_some() && words(&old_decl, old_def) == words(&new, def)
}

/// The `ALTER COLUMN` actions (without `ALTER COLUMN c`) that take the kept column `o` to `n`;
/// `in_pk`: whether it is in the old and the new primary key (which keeps it NOT NULL).
/// `old_def`: the old column's definition, when its text is known.
fn column_changes(
    (o, old_def): (&Column, Option<(Declared, &ColumnDef)>),
    (n, def, decl): (&Column, &ColumnDef, Declared),
    in_pk: (bool, bool),
) -> Option<Vec<String>> {
    let (old_ty, new_ty) = (o.ty.as_ref()?, n.ty.as_ref()?);
    if o.generated != n.generated || def.generated.as_ref().is_some_and(|g| !g.identity) {
        return None;
    }
    // The model keeps no collation: the old text must show the same one (or none on both).
    let words = |d: Declared, c: &ColumnDef| d.span(c.span).map(|t| collation(&tokens(Dialect::Postgres, t, false)));
    let new_collation = words(decl, def)?;
    let old_collation = old_def.and_then(|(d, c)| words(d, c));
    if new_collation.is_some() && old_collation.as_ref() != Some(&new_collation) {
        return None;
    }
    let mut out = Vec::new();
    let retype =
        (&old_ty.canonical, &old_ty.modifiers, old_ty.array) != (&new_ty.canonical, &new_ty.modifiers, new_ty.array);
    if retype && (o.generated || old_ty.is_serial() || new_ty.is_serial() || !converts(old_ty, new_ty)) {
        return None;
    }
    let default_words = |d: &Option<String>| d.as_deref().map(|t| tokens(Dialect::Postgres, t, false));
    let redefault = default_words(&o.default) != default_words(&n.default);
    if redefault && o.default.is_some() {
        out.push("DROP DEFAULT".to_string());
    }
    if retype {
        out.push(format!("TYPE {}", decl.span(new_ty.span)?.trim()));
    }
    if redefault {
        if let Some(d) = &def.default {
            out.push(format!("SET {}", decl.span(d.span)?.trim()));
        }
    }
    let (old_not_null, new_not_null) = (o.not_null || in_pk.0, n.not_null || in_pk.1);
    if old_not_null != new_not_null {
        out.push(if new_not_null { "SET NOT NULL" } else { "DROP NOT NULL" }.to_string());
    }
    Some(out)
}

/// Whether PostgreSQL changes a column from type `from` to `to` without a `USING` clause: the
/// same type with other modifiers (`varchar(100)` to `varchar(200)`), or two types with an
/// implicit or assignment cast between them (PostgreSQL 15's `pg_cast`, for the common types).
fn converts(from: &TypeName, to: &TypeName) -> bool {
    if from.array != to.array {
        return false;
    }
    if from.canonical == to.canonical {
        return true;
    }
    !from.array && CASTS.iter().any(|(f, t)| *f == from.canonical && t.split(' ').any(|t| t == to.canonical))
}

/// Implicit and assignment casts: (from, the types it converts to).
const CASTS: &[(&str, &str)] = &[
    ("bool", "bpchar text varchar"),
    ("bpchar", "text varchar"),
    ("date", "timestamp timestamptz"),
    ("float4", "float8 int2 int4 int8 numeric"),
    ("float8", "float4 int2 int4 int8 numeric"),
    ("int2", "float4 float8 int4 int8 numeric"),
    ("int4", "float4 float8 int2 int8 numeric"),
    ("int8", "float4 float8 int2 int4 numeric"),
    ("json", "jsonb"),
    ("jsonb", "json"),
    ("numeric", "float4 float8 int2 int4 int8"),
    ("text", "bpchar varchar"),
    ("time", "timetz"),
    ("timestamp", "date time timestamptz"),
    ("timestamptz", "date time timestamp timetz"),
    ("timetz", "time"),
    ("varchar", "bpchar text"),
];

/// The `COLLATE name` words of a column definition's words.
fn collation(words: &[String]) -> Option<Vec<String>> {
    let at = words.iter().position(|w| w == "collate")?;
    let mut end = (at + 2).min(words.len());
    while words.get(end).is_some_and(|w| w == ".") {
        end = (end + 2).min(words.len());
    }
    Some(words[at..end].to_vec())
}

/// Whether the constraint `o` of the old table and `n` of the new one (same name) are the same;
/// `None` when that cannot be told.
fn same_constraint(o: &Constraint, old: Option<&Declared>, n: &Constraint, new: Declared) -> Option<bool> {
    if o.kind != n.kind || o.columns != n.columns || o.validated != n.validated {
        return Some(false);
    }
    let new_words = new.clause(n).and_then(|c| new.clause_words(&c))?;
    let old_words = old.and_then(|d| d.clause(o).and_then(|c| d.clause_words(&c)));
    match (&o.kind, old_words) {
        (_, Some(old_words)) => Some(old_words == new_words),
        // A key is its kind and its columns, unless the new clause says more.
        (ConstraintType::PrimaryKey | ConstraintType::Unique, None) => {
            let plain = new_words.iter().all(|w| {
                !matches!(w.as_str(), "deferrable" | "initially" | "nulls" | "include" | "using" | "with" | "where")
            });
            plain.then_some(true)
        }
        _ => None,
    }
}

/// `ALTER TABLE … ADD <clause>` for the new constraint `n`; `Some(None)` when the `ADD COLUMN` of
/// its column already declares it inline.
fn add_constraint(
    n: &Constraint,
    decl: Declared,
    alter: &dyn Fn(String) -> String,
    on_added_column: bool,
) -> Option<Option<String>> {
    let clause = decl.clause(n)?;
    if on_added_column && matches!(clause, Clause::Inline(..)) {
        return Some(None);
    }
    Some(Some(alter(format!("ADD {}", decl.add_sql(&clause)?))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::SqlFile;

    /// The statements that take the table of `old` (a `CREATE TABLE`, its text known or not) to
    /// the one of `new`.
    fn derive(old: &str, new: &str, old_text_known: bool) -> Option<Vec<String>> {
        derived(old, new, old_text_known).map(|d| d.statements)
    }

    fn derived(old: &str, new: &str, old_text_known: bool) -> Option<Derived> {
        let old_file = SqlFile::parse(old, Dialect::Postgres, None);
        let new_file = SqlFile::parse(new, Dialect::Postgres, None);
        let (o, n) = (&old_file.statements[0], &new_file.statements[0]);
        let (od, nd) = (Declared::of(o, old).expect("create table"), Declared::of(n, new).expect("create table"));
        let mut schema = Schema::new(Dialect::Postgres);
        schema.apply(o, &Origin::here(1));
        let old_table = schema.table(&od.ct.name).expect("old").clone();
        let new_table = nd.table(n, Dialect::Postgres).expect("new");
        let old_side = Side { table: &old_table, declared: old_text_known.then_some(od), schema: None };
        let new_side = Side { table: &new_table, declared: Some(nd), schema: None };
        alter_table(&nd.ct.name, &old_side, &new_side, Dialect::Postgres)
    }

    #[test]
    fn a_new_column_is_added_with_its_whole_definition() {
        let got = derive(
            "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);",
            "create table users (\n  id bigint primary key,\n  email TEXT not null,\n  name text COLLATE \"C\" DEFAULT 'x' CHECK (name <> '')\n);",
            true,
        );
        assert_eq!(
            got,
            Some(vec![
                "ALTER TABLE users ADD COLUMN name text COLLATE \"C\" DEFAULT 'x' CHECK (name <> '');".to_string()
            ])
        );
    }

    #[test]
    fn the_same_definition_derives_nothing() {
        let sql = "CREATE TABLE t (id int PRIMARY KEY, a text COLLATE \"C\", CONSTRAINT positive CHECK (id > 0));";
        assert_eq!(derive(sql, sql, true), Some(vec![]));
    }

    #[test]
    fn kept_columns_change_type_default_and_nullability() {
        let got = derive(
            "CREATE TABLE t (id int PRIMARY KEY, a int DEFAULT 1, b text NOT NULL, c text);",
            "CREATE TABLE t (id int PRIMARY KEY, a bigint DEFAULT 2, b text, c text DEFAULT 'x' NOT NULL);",
            false,
        );
        assert_eq!(
            got,
            Some(vec![
                "ALTER TABLE t ALTER COLUMN a DROP DEFAULT;".to_string(),
                "ALTER TABLE t ALTER COLUMN a TYPE bigint;".to_string(),
                "ALTER TABLE t ALTER COLUMN a SET DEFAULT 2;".to_string(),
                "ALTER TABLE t ALTER COLUMN b DROP NOT NULL;".to_string(),
                "ALTER TABLE t ALTER COLUMN c SET DEFAULT 'x';".to_string(),
                "ALTER TABLE t ALTER COLUMN c SET NOT NULL;".to_string(),
            ])
        );
    }

    #[test]
    fn a_missing_column_is_dropped_never_renamed() {
        let derived = derived("CREATE TABLE t (id int, name text);", "CREATE TABLE t (id int, full_name text);", false)
            .expect("derived");
        assert_eq!(derived.statements, ["ALTER TABLE t ADD COLUMN full_name text;", "ALTER TABLE t DROP COLUMN name;"]);
        assert!(derived.destructive());
        assert_eq!(derived.summary(), "keeps the new column `full_name`; drops the column `name` and its data");
    }

    #[test]
    fn constraints_are_dropped_and_added_by_name() {
        let got = derive(
            "CREATE TABLE t (id int PRIMARY KEY, a int CHECK (a > 0), b int, c int, CONSTRAINT b_small CHECK (b < 10));",
            "CREATE TABLE t (id int PRIMARY KEY, a int, b int UNIQUE, c int REFERENCES t (id) ON DELETE CASCADE, CONSTRAINT b_small CHECK (b < 20));",
            true,
        );
        assert_eq!(
            got,
            Some(vec![
                "ALTER TABLE t DROP CONSTRAINT t_a_check;".to_string(),
                "ALTER TABLE t DROP CONSTRAINT b_small;".to_string(),
                "ALTER TABLE t ADD CONSTRAINT b_small CHECK (b < 20);".to_string(),
                "ALTER TABLE t ADD UNIQUE (b);".to_string(),
                "ALTER TABLE t ADD FOREIGN KEY (c) REFERENCES t (id) ON DELETE CASCADE;".to_string(),
            ])
        );
    }

    #[test]
    fn what_cannot_be_compared_or_written_exactly_derives_nothing() {
        // A kept check whose old expression is unknown.
        let old = "CREATE TABLE t (id int, CONSTRAINT c CHECK (id > 0));";
        assert_eq!(derive(old, "CREATE TABLE t (id int, CONSTRAINT c CHECK (id > 1));", false), None);
        // The same, known from its text: changed.
        assert_eq!(
            derive(old, "CREATE TABLE t (id int, CONSTRAINT c CHECK (id > 1));", true),
            Some(vec![
                "ALTER TABLE t DROP CONSTRAINT c;".to_string(),
                "ALTER TABLE t ADD CONSTRAINT c CHECK (id > 1);".to_string()
            ])
        );
        // A collation on a kept column whose old definition is unknown.
        assert_eq!(derive("CREATE TABLE t (a text);", "CREATE TABLE t (a text COLLATE \"C\");", false), None);
        // Partitioning, inheritance, storage options are not derived.
        let plain = "CREATE TABLE t (day date);";
        assert_eq!(derive(plain, "CREATE TABLE t (day date, n int) PARTITION BY RANGE (day);", true), None);
        assert_eq!(derive(plain, "CREATE UNLOGGED TABLE t (day date, n int);", true), None);
        assert_eq!(derive(plain, "CREATE TABLE t (day date, n int) WITH (fillfactor = 70);", false), None);
        let partitioned = "CREATE TABLE t (day date) PARTITION BY RANGE (day);";
        assert_eq!(
            derive(partitioned, "CREATE TABLE IF NOT EXISTS t (day date, n int) PARTITION BY RANGE (day);", true),
            Some(vec!["ALTER TABLE t ADD COLUMN n int;".to_string()])
        );
        // text to int needs a USING clause nobody can guess.
        assert_eq!(derive("CREATE TABLE t (a text);", "CREATE TABLE t (a int);", true), None);
        // serial to int.
        assert_eq!(derive("CREATE TABLE t (a serial);", "CREATE TABLE t (a int);", false), None);
        // An inline constraint with a name on a kept column.
        assert_eq!(derive("CREATE TABLE t (a int);", "CREATE TABLE t (a int CONSTRAINT u UNIQUE);", true), None);
    }

    #[test]
    fn a_key_another_table_references_is_not_dropped() {
        let old = "CREATE TABLE t (id int PRIMARY KEY, code text UNIQUE);";
        let old_file = SqlFile::parse(old, Dialect::Postgres, None);
        let refs = SqlFile::parse("CREATE TABLE r (code text REFERENCES t (code));", Dialect::Postgres, None);
        let mut schema = Schema::new(Dialect::Postgres);
        schema.apply(&old_file.statements[0], &Origin::here(1));
        schema.apply(&refs.statements[0], &Origin::here(2));
        let derive_in = |new: &str| {
            let file = SqlFile::parse(new, Dialect::Postgres, None);
            let nd = Declared::of(&file.statements[0], new).expect("create");
            let new_table = nd.table(&file.statements[0], Dialect::Postgres).expect("new");
            let old_table = schema.table(&nd.ct.name).expect("old");
            let old_side =
                Side { table: old_table, declared: Declared::of(&old_file.statements[0], old), schema: Some(&schema) };
            let new_side = Side { table: &new_table, declared: Some(nd), schema: None };
            alter_table(&nd.ct.name, &old_side, &new_side, Dialect::Postgres).map(|d| d.statements)
        };
        // The unique key r references would go: PostgreSQL refuses.
        assert_eq!(derive_in("CREATE TABLE t (id int PRIMARY KEY, code text);"), None);
        // The primary key nobody references may go.
        assert_eq!(
            derive_in("CREATE TABLE t (id int, code text UNIQUE);"),
            Some(vec![
                "ALTER TABLE t DROP CONSTRAINT t_pkey;".to_string(),
                "ALTER TABLE t ALTER COLUMN id DROP NOT NULL;".to_string()
            ])
        );
    }

    #[test]
    fn a_primary_key_keeps_its_columns_not_null() {
        assert_eq!(
            derive("CREATE TABLE t (id int NOT NULL);", "CREATE TABLE t (id int, PRIMARY KEY (id));", true),
            Some(vec!["ALTER TABLE t ADD PRIMARY KEY (id);".to_string()])
        );
        assert_eq!(
            derive("CREATE TABLE t (id int PRIMARY KEY);", "CREATE TABLE t (id int);", true),
            Some(vec![
                "ALTER TABLE t DROP CONSTRAINT t_pkey;".to_string(),
                "ALTER TABLE t ALTER COLUMN id DROP NOT NULL;".to_string()
            ])
        );
    }
}
