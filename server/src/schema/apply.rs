//! One statement's effects on the schema ([`Schema::apply`]).

use std::sync::Arc;

use sqlparser::tokenizer::Token;

use crate::sql::facts::*;
use crate::sql::lexer::Tok;
use crate::sql::{Dialect, Statement};

use super::names::{choose_name, column_part};
use super::*;

impl Schema {
    /// Folds one statement's effects into the schema and returns what it tried that conflicts
    /// with the schema before it. A statement that would fail on the conflict (a `CREATE TABLE`
    /// of an existing table) changes nothing; a missing table is adopted from the baseline so
    /// that it is reported once.
    pub fn apply(&mut self, stmt: &Statement, origin: &Origin) -> Vec<ReplayEvent> {
        if stmt.facts().label == "DO" {
            self.apply_do_block(&stmt.parsed.text, origin);
            return Vec::new();
        }
        if stmt.facts().label == "COPY" {
            self.apply_copy(&stmt.parsed.text);
            return Vec::new();
        }
        if stmt.facts().guard.is_some() {
            // A `DO` block that runs its statement under a condition: its effects count, the
            // conflicts are what the condition guards (like apply_do_block).
            self.apply_facts(stmt.facts(), origin);
            return Vec::new();
        }
        self.apply_facts(stmt.facts(), origin)
    }

    fn apply_facts(&mut self, facts: &StatementFacts, origin: &Origin) -> Vec<ReplayEvent> {
        let mut a = Applier { s: self, facts, origin, events: Vec::new() };
        match &facts.kind {
            StatementKind::CreateTable(ct) => a.create_table(ct),
            StatementKind::AlterTable(at) => a.alter_table(at),
            StatementKind::CreateIndex(ci) => a.create_index(ci),
            StatementKind::DropIndex(di) => a.drop_index(di),
            StatementKind::Drop(d) => a.drop(d),
            StatementKind::CreateObject(co) => a.create_object(co),
            StatementKind::AlterObject(ao) => a.alter_object(ao),
            StatementKind::Insert(ins) => a.insert(ins),
            StatementKind::CreateTrigger { table: Some(table), name: Some(name), or_replace } => {
                a.create_trigger(table, name, *or_replace)
            }
            StatementKind::CreateFunction(cf) => a.create_function(cf),
            StatementKind::AlterFunction(af) => a.alter_function(af),
            StatementKind::CreateExtension(ce) => a.create_extension(ce),
            _ => {}
        }
        a.events
    }

    /// `COPY table [(cols)] FROM …` loads any number of rows (`COPY … TO` reads them).
    fn apply_copy(&mut self, text: &str) {
        let Some(table) = copy_into(self.dialect, text) else { return };
        let key = self.key(&table);
        if let Some(t) = self.tables.get(&key).filter(|t| t.rows != Rows::Filled) {
            let mut t = (**t).clone();
            t.rows = Rows::Filled;
            self.tables.insert(key, Arc::new(t));
        }
    }

    /// The DDL a `DO` block runs (`BEGIN ALTER TABLE …; CREATE INDEX …; END`, also inside `IF …
    /// THEN`): its effects count, since the block ran; what conflicts in it is not reported (its
    /// conditions usually guard exactly that). DDL built as strings for `EXECUTE` stays unseen.
    fn apply_do_block(&mut self, text: &str, origin: &Origin) {
        let dialect = self.dialect.sqlparser();
        let lexed = crate::sql::lexer::tokenize(dialect, text);
        let Some(body) = lexed.tokens.iter().find_map(|t| match &t.token {
            Token::DollarQuotedString(d) => Some(d.value.clone()),
            _ => None,
        }) else {
            return;
        };
        let tokens: Vec<Tok> =
            crate::sql::lexer::tokenize(dialect, &body).tokens.into_iter().filter(|t| !t.is_trivia()).collect();
        let word = |t: &Tok| match &t.token {
            Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
            _ => None,
        };
        let mut i = 0;
        while i < tokens.len() {
            let starts_ddl = matches!(word(&tokens[i]).as_deref(), Some("ALTER" | "CREATE" | "DROP"));
            let after_boundary = i == 0
                || matches!(tokens[i - 1].token, Token::SemiColon)
                || matches!(word(&tokens[i - 1]).as_deref(), Some("BEGIN" | "THEN" | "ELSE" | "LOOP"));
            if !(starts_ddl && after_boundary) {
                i += 1;
                continue;
            }
            let end =
                tokens[i..].iter().position(|t| matches!(t.token, Token::SemiColon)).map_or(tokens.len(), |p| i + p);
            let facts = crate::sql::recognize::recognize(&tokens[i..end]);
            self.apply_facts(&facts, origin);
            i = end.max(i + 1);
        }
    }

    /// Removes the temporary tables (they end with the session that made them).
    pub(crate) fn drop_temporary_tables(&mut self) {
        if self.temporary.is_empty() {
            return;
        }
        for key in self.temporary.take() {
            if self.tables.get(&key).is_some_and(|t| t.temporary) {
                self.remove_table(&key);
            }
        }
    }

    fn register_schema(&mut self, name: &QualifiedName) {
        if let Some(s) = name.schema().filter(|s| *s != "public") {
            let s = self.fold(s.to_string());
            if !self.schemas.contains(&s) {
                self.schemas.insert(s);
            }
        }
    }

    /// The key an index named `index` gets on `table`: PostgreSQL and SQLite put it in the
    /// table's schema; MySQL names indexes per table.
    fn index_key(&self, table: &QualifiedName, index: &str) -> String {
        match self.dialect {
            Dialect::Mysql => format!("{}/{}", self.key(table), index.to_lowercase()),
            _ => match table.schema() {
                Some(s) if s != "public" => self.fold(format!("{s}.{index}")),
                _ => self.fold(index.to_string()),
            },
        }
    }

    /// The key a renamed object gets: it stays in its schema.
    fn renamed_key(&self, old: &QualifiedName, to: &str) -> String {
        match old.schema() {
            Some(s) if s != "public" => self.fold(format!("{s}.{to}")),
            _ => self.fold(to.to_string()),
        }
    }

    fn relation_exists(&self, key: &str) -> bool {
        self.tables.contains_key(key) || self.views.contains_key(key)
    }

    fn remove_table(&mut self, key: &str) -> Option<Arc<Table>> {
        let table = self.tables.remove(key)?;
        for index in &table.indexes {
            self.indexes.remove(index);
        }
        let owned: Vec<String> = self
            .sequences
            .iter()
            .filter(|(_, s)| s.owned_by.as_deref() == Some(key))
            .map(|(k, _)| k.to_string())
            .collect();
        for seq in owned {
            self.sequences.remove(&seq);
        }
        Some(table)
    }

    /// What a `DROP … CASCADE` of the relations `dropped` takes along: the views that read them
    /// (and the views that read those, with their indexes) and the foreign keys of other tables
    /// that reference them.
    fn drop_dependents(&mut self, dropped: Vec<String>, origin: &Origin) {
        let mut queue = dropped;
        while let Some(key) = queue.pop() {
            let views: Vec<String> = self
                .views
                .iter()
                .filter(|(_, v)| v.reads.iter().any(|r| *r == key))
                .map(|(k, _)| k.to_string())
                .collect();
            for k in views {
                if let Some(view) = self.views.remove(&k) {
                    for index in &view.indexes {
                        self.indexes.remove(index);
                    }
                    self.gone.insert(k.clone(), Gone::Dropped { by: origin.clone() });
                    queue.push(k);
                }
            }
            let references =
                |c: &Constraint| matches!(&c.kind, ConstraintType::ForeignKey { table, .. } if *table == key);
            let referencing: Vec<String> = self
                .tables
                .iter()
                .filter(|(_, t)| t.constraints.iter().any(references))
                .map(|(k, _)| k.to_string())
                .collect();
            for k in referencing {
                let Some(t) = self.tables.get(&k) else { continue };
                let mut t = (**t).clone();
                t.constraints.retain(|c| !references(c));
                t.history.touch(origin);
                self.tables.insert(k, Arc::new(t));
            }
        }
    }

    fn name_taken(&self, table: &Table, key_of: &dyn Fn(&str) -> String, name: &str) -> bool {
        table.constraints.iter().any(|c| c.name == name) || self.indexes.contains_key(&key_of(name))
    }
}

struct Applier<'a> {
    s: &'a mut Schema,
    facts: &'a StatementFacts,
    origin: &'a Origin,
    events: Vec<ReplayEvent>,
}

/// Where a `CREATE TABLE`, `ALTER TABLE` or `CREATE INDEX` is working.
struct Target<'q> {
    name: &'q QualifiedName,
    key: String,
    table: Table,
}

impl<'a> Applier<'a> {
    fn already(&mut self, object: ObjectRef, span: Span, existing: &History, guard: Option<&'static str>) {
        self.events.push(ReplayEvent::AlreadyExists { object, span, existing: existing.clone(), guard });
    }

    fn missing(&mut self, object: ObjectRef, span: Span, missing: Missing) {
        self.events.push(ReplayEvent::DoesNotExist { object, span, missing });
    }

    fn col(&self, name: &str) -> String {
        self.s.fold(name.to_string())
    }

    /// The table `name` for a statement that needs it to exist. A missing one is reported (when
    /// its schema is the set's), then adopted from the baseline so the rest of the statement and
    /// the set replays.
    fn require_table<'q>(&mut self, name: &'q QualifiedName) -> Option<Target<'q>> {
        let key = self.s.key(name);
        if let Some(t) = self.s.tables.get(&key) {
            return Some(Target { name, key, table: (**t).clone() });
        }
        if self.s.views.contains_key(&key) {
            return None;
        }
        if self.s.manages(name) {
            let missing = match self.s.gone.get(&key) {
                Some(g) => Missing::Gone(g.clone()),
                None => Missing::NeverCreated,
            };
            self.missing(ObjectRef::Table(key.clone()), name.span, missing);
        }
        Some(Target { name, key, table: baseline_table(&self.s.key(name)) })
    }

    fn store(&mut self, target: Target) {
        self.s.register_schema(target.name);
        self.s.gone.remove(&target.key);
        self.s.tables.insert(target.key, Arc::new(target.table));
    }

    /// A column a statement reads or changes: `None` (reported when the table's columns are all
    /// known) when it is missing.
    fn require_column(&mut self, t: &Target, column: &Name) -> Option<u32> {
        let name = self.col(&column.value);
        if let Some(id) = t.table.column_id(&name) {
            return Some(id);
        }
        // A column this replay saw go is missing even from a table whose other columns are not
        // all known.
        let missing = match t.table.gone_columns.get(&name) {
            Some(g) => Missing::Gone(g.clone()),
            None if t.table.columns_known => Missing::NotInTable {
                table: t.table.history.clone(),
                closest: crate::text::closest(&name, t.table.columns().map(|c| c.name.as_str())).map(str::to_string),
            },
            None => return None,
        };
        self.missing(ObjectRef::Column { table: t.key.clone(), column: name }, column.span, missing);
        None
    }

    /// A column of a baseline table that a statement shows exists: adopted with what is known.
    fn adopt_column(&self, t: &mut Target, column: &Name) -> u32 {
        t.table.push_column(Column {
            name: self.col(&column.value),
            ty: None,
            not_null: false,
            default: None,
            generated: false,
            history: History::baseline(),
        })
    }

    fn column_index(&mut self, t: &mut Target, column: &Name) -> Option<u32> {
        let gone = t.table.gone_columns.contains_key(&self.col(&column.value));
        match self.require_column(t, column) {
            Some(i) => Some(i),
            None if !t.table.columns_known && !gone => Some(self.adopt_column(t, column)),
            None => None,
        }
    }

    // ---- CREATE TABLE ------------------------------------------------------------------------

    fn create_table(&mut self, ct: &CreateTable) {
        let key = self.s.key(&ct.name);
        // A table adopted from the baseline because an earlier statement used it was reported
        // there; its creation is what the set meant.
        let adopted = self.s.tables.get(&key).is_some_and(|t| t.is_from_baseline());
        if self.s.relation_exists(&key) && !adopted {
            if !ct.if_not_exists {
                let existing = self.relation_history(&key);
                let guard = (!ct.select_into).then_some("IF NOT EXISTS");
                self.already(ObjectRef::Table(key), ct.name.span, &existing, guard);
            }
            return;
        }
        let mut table = Table::new(key.clone(), !ct.columns_implicit, ct.temporary, History::created_by(self.origin));
        // A table used before its creation may have held rows all along.
        if !ct.filled_by_query && !adopted {
            table.rows = Rows::Seeded(0);
        }
        let mut t = Target { name: &ct.name, key, table };
        for col in &ct.columns {
            self.add_column_def(&mut t, col);
        }
        for tc in &ct.constraints {
            self.add_constraint(&mut t, tc, false);
        }
        if ct.temporary {
            self.s.temporary.insert(t.key.clone());
        }
        self.store(t);
        // References resolve after the table exists, so a self-reference finds it.
        let fks =
            ct.columns.iter().filter_map(|c| c.references.as_ref()).chain(ct.constraints.iter().filter_map(|tc| {
                match &tc.kind {
                    ConstraintKind::ForeignKey(fk) => Some(fk),
                    _ => None,
                }
            }));
        for fk in fks {
            self.check_reference(fk);
        }
    }

    fn relation_history(&self, key: &str) -> History {
        match (self.s.tables.get(key), self.s.views.get(key)) {
            (Some(t), _) => t.history.clone(),
            (None, Some(v)) => v.history.clone(),
            (None, None) => History::baseline(),
        }
    }

    /// `REFERENCES parent (cols)`: the parent and its columns must exist.
    fn check_reference(&mut self, fk: &ForeignKey) {
        let Some(mut parent) = self.require_table(&fk.ref_table) else { return };
        for col in &fk.ref_columns {
            self.column_index(&mut parent, col);
        }
        // A baseline table learns the columns it is shown to have.
        if parent.table.is_from_baseline() {
            self.store(parent);
        }
    }

    /// A column definition (of `CREATE TABLE` or `ADD COLUMN`) with its inline constraints.
    fn add_column_def(&mut self, t: &mut Target, col: &ColumnDef) {
        let name = self.col(&col.name.value);
        let serial = col.ty.as_ref().is_some_and(TypeName::is_serial);
        let identity = col.generated.as_ref().is_some_and(|g| g.identity);
        t.table.gone_columns.remove(&name);
        t.table.push_column(Column {
            name: name.clone(),
            ty: col.ty.clone(),
            not_null: col.not_null.is_some(),
            default: col.default.as_ref().map(|d| d.text.clone()),
            generated: serial || identity,
            history: History::created_by(self.origin),
        });
        if (serial || identity) && self.s.dialect == Dialect::Postgres {
            let schema = t.name.schema().filter(|s| *s != "public").map(str::to_string);
            let key_of = |n: &str| schema.as_ref().map_or_else(|| n.to_string(), |s| format!("{s}.{n}"));
            let seq = choose_name(t.name.name(), Some(&name), "seq", |n| {
                let k = key_of(n);
                self.s.sequences.contains_key(&k) || self.s.relation_exists(&k)
            });
            let key = key_of(&seq);
            let history = History::created_by(self.origin);
            let sequence =
                Sequence { name: seq, owned_by: Some(t.key.clone()), owned_column: Some(name.clone()), history };
            self.s.sequences.insert(key, Arc::new(sequence));
        }
        let one = || vec![name.clone()];
        if col.primary_key.is_some() {
            self.push_constraint(t, None, ConstraintType::PrimaryKey, one(), true, None);
        }
        if col.unique.is_some() {
            self.push_constraint(t, None, ConstraintType::Unique, one(), true, None);
        }
        if let Some(fk) = &col.references {
            let kind = ConstraintType::ForeignKey {
                table: self.s.key(&fk.ref_table),
                columns: fk.ref_columns.iter().map(|c| self.col(&c.value)).collect(),
            };
            self.push_constraint(t, None, kind, one(), true, None);
        }
        if col.check.is_some() {
            self.push_constraint(t, None, ConstraintType::Check { not_null_of: None }, one(), true, None);
        }
    }

    /// A table constraint of `CREATE TABLE` or `ADD CONSTRAINT`. With `check`, what PostgreSQL
    /// rejects is reported first (a taken name, a second primary key, missing columns).
    fn add_constraint(&mut self, t: &mut Target, tc: &TableConstraint, check: bool) {
        let names = |cols: &[Name], me: &Self| cols.iter().map(|c| me.col(&c.value)).collect::<Vec<_>>();
        let (kind, columns, column_names): (ConstraintType, Vec<String>, &[Name]) = match &tc.kind {
            ConstraintKind::PrimaryKey { columns } => (ConstraintType::PrimaryKey, names(columns, self), columns),
            ConstraintKind::Unique { columns } => (ConstraintType::Unique, names(columns, self), columns),
            ConstraintKind::ForeignKey(fk) => (
                ConstraintType::ForeignKey { table: self.s.key(&fk.ref_table), columns: names(&fk.ref_columns, self) },
                names(&fk.columns, self),
                &fk.columns,
            ),
            ConstraintKind::Check { not_null_of } => {
                // The columns it reads: dropping one of them drops the check.
                let mut columns: Vec<String> = not_null_of.iter().map(|c| self.col(c)).collect();
                for word in &tc.check_words {
                    let word = self.col(word);
                    if t.table.column_id(&word).is_some() && !columns.contains(&word) {
                        columns.push(word);
                    }
                }
                (ConstraintType::Check { not_null_of: not_null_of.as_ref().map(|c| self.col(c)) }, columns, &[])
            }
            ConstraintKind::Exclude => (ConstraintType::Exclude, Vec::new(), &[]),
        };
        let name = tc.name.as_ref().map(|n| n.value.clone());
        if check {
            if let Some(n) = &tc.name {
                if let Some(existing) = t.table.constraint(&n.value) {
                    let history = existing.history.clone();
                    let object = ObjectRef::Constraint { table: t.key.clone(), name: n.value.clone() };
                    self.already(object, n.span, &history, None);
                    return;
                }
                let backed = matches!(kind, ConstraintType::PrimaryKey | ConstraintType::Unique);
                let index_key = self.s.index_key(t.name, &n.value);
                if backed && tc.using_index.is_none() && self.s.dialect != Dialect::Mysql {
                    if let Some(existing) = self.s.indexes.get(&index_key) {
                        let history = existing.history.clone();
                        self.already(ObjectRef::Index(index_key), n.span, &history, None);
                        return;
                    }
                }
            }
            if kind == ConstraintType::PrimaryKey {
                if let Some(pk) = t.table.primary_key() {
                    let history = pk.history.clone();
                    self.already(ObjectRef::PrimaryKey { table: t.key.clone() }, tc.kind_span, &history, None);
                    return;
                }
            }
            for col in column_names {
                self.column_index(t, col);
            }
        }
        if let ConstraintKind::ForeignKey(fk) = &tc.kind {
            if check {
                self.check_reference(fk);
            }
        }
        let validated = tc.not_valid.is_none();
        let using = tc.using_index.as_ref().map(|n| n.value.clone());
        self.push_constraint(t, name, kind, columns, validated, using);
    }

    fn push_constraint(
        &mut self,
        t: &mut Target,
        name: Option<String>,
        kind: ConstraintType,
        columns: Vec<String>,
        validated: bool,
        using_index: Option<String>,
    ) {
        let table_name = t.name.name().to_string();
        let backed = matches!(kind, ConstraintType::PrimaryKey | ConstraintType::Unique);
        let name = name.unwrap_or_else(|| {
            let (part, label) = match &kind {
                ConstraintType::PrimaryKey => (None, "pkey"),
                ConstraintType::Unique => (column_part(&columns), "key"),
                ConstraintType::ForeignKey { .. } => (column_part(&columns), "fkey"),
                // PostgreSQL names a check after its column only when it reads exactly one.
                ConstraintType::Check { .. } if columns.len() == 1 => (column_part(&columns), "check"),
                ConstraintType::Check { .. } => (None, "check"),
                ConstraintType::Exclude => (column_part(&columns), "excl"),
            };
            let target_name = t.name.clone();
            let s = &*self.s;
            let key_of = |n: &str| s.index_key(&target_name, n);
            choose_name(&table_name, part.as_deref(), label, |n| s.name_taken(&t.table, &key_of, n))
        });
        if backed {
            let index_key = self.s.index_key(t.name, &name);
            let reused = using_index.and_then(|old| {
                let old_key = self.s.index_key(t.name, &old);
                let index = self.s.indexes.remove(&old_key)?;
                t.table.indexes.retain(|k| *k != old_key);
                Some(index)
            });
            let mut index = match reused {
                Some(i) => (*i).clone(),
                None => Index {
                    name: name.clone(),
                    table: t.key.clone(),
                    columns: columns.clone(),
                    unique: true,
                    partial: false,
                    constraint: true,
                    history: History::created_by(self.origin),
                },
            };
            index.name = name.clone();
            index.constraint = true;
            index.history.touch(self.origin);
            t.table.indexes.push_back(index_key.clone());
            self.s.indexes.insert(index_key, Arc::new(index));
        }
        t.table.constraints.push_back(Constraint {
            name,
            kind,
            columns,
            validated,
            history: History::created_by(self.origin),
        });
    }

    // ---- ALTER TABLE -------------------------------------------------------------------------

    fn alter_table(&mut self, at: &AlterTable) {
        let key = self.s.key(&at.table);
        if !self.s.tables.contains_key(&key) {
            if self.s.views.contains_key(&key) {
                // ALTER TABLE works on views too; only a rename changes what replay knows.
                for a in &at.actions {
                    if let AlterAction::RenameTable { to } = &a.action {
                        self.rename_view(&at.table, to);
                    }
                }
                return;
            }
            if at.if_exists {
                return;
            }
        }
        let Some(mut t) = self.require_table(&at.table) else { return };
        t.table.history.touch(self.origin);
        for a in &at.actions {
            match &a.action {
                AlterAction::AddColumn { column, if_not_exists } => {
                    let name = self.col(&column.name.value);
                    if let Some(existing) = t.table.column(&name) {
                        if !if_not_exists {
                            let history = existing.history.clone();
                            let object = ObjectRef::Column { table: t.key.clone(), column: name };
                            self.already(object, column.name.span, &history, Some("IF NOT EXISTS"));
                        }
                        continue;
                    }
                    self.add_column_def(&mut t, column);
                    if let Some(fk) = &column.references {
                        self.check_reference(fk);
                    }
                }
                AlterAction::DropColumn { name, if_exists } => {
                    let col = self.col(&name.value);
                    match t.table.remove_column(&col) {
                        Some(_) => self.forget_column(&mut t, &col),
                        None if *if_exists => {}
                        None => {
                            self.require_column(&t, name);
                        }
                    }
                    t.table.gone_columns.insert(col, Gone::Dropped { by: self.origin.clone() });
                }
                AlterAction::AlterColumnType { column, ty, .. } => {
                    self.change_column(&mut t, column, |c| c.ty = Some(ty.clone()));
                }
                AlterAction::SetNotNull { column } => self.change_column(&mut t, column, |c| c.not_null = true),
                AlterAction::DropNotNull { column } => self.change_column(&mut t, column, |c| c.not_null = false),
                AlterAction::SetDefault { column, default } => {
                    self.change_column(&mut t, column, |c| c.default = Some(default.text.clone()))
                }
                AlterAction::DropDefault { column } => self.change_column(&mut t, column, |c| c.default = None),
                AlterAction::AddConstraint(tc) => self.add_constraint(&mut t, tc, true),
                AlterAction::ValidateConstraint { name } => {
                    if let Some(i) = t.table.constraints.iter().position(|c| c.name == name.value) {
                        let mut c = t.table.constraints[i].clone();
                        c.validated = true;
                        c.history.touch(self.origin);
                        t.table.constraints.set(i, c);
                    }
                }
                AlterAction::DropConstraint { name, .. } => self.drop_constraint(&mut t, &name.value),
                AlterAction::RenameColumn { from, to } => {
                    if let Some(id) = self.column_index(&mut t, from) {
                        let old = self.col(&from.value);
                        let new = self.col(&to.value);
                        t.table.update_column(id, |c| {
                            c.name = new.clone();
                            c.history.touch(self.origin);
                        });
                        self.rename_column_refs(&mut t, &old, &new);
                        t.table.gone_columns.remove(&new);
                        t.table.gone_columns.insert(old, Gone::Renamed { to: new, by: self.origin.clone() });
                    }
                }
                AlterAction::RenameConstraint { from, to } => self.rename_constraint(&mut t, &from.value, &to.value),
                AlterAction::RenameTable { to } => {
                    let new_key = self.s.renamed_key(&at.table, &to.value);
                    if new_key == t.key || self.s.relation_exists(&new_key) {
                        continue;
                    }
                    self.rename_table(&mut t, new_key);
                }
                AlterAction::SetSchema => {
                    // The target schema is not in the facts: the table leaves what replay tracks.
                    self.s.remove_table(&t.key);
                    self.s.gone.insert(t.key.clone(), Gone::Moved { by: self.origin.clone() });
                    return;
                }
                AlterAction::SetTablespace | AlterAction::Other(_) => {}
            }
        }
        self.store(t);
    }

    fn change_column(&mut self, t: &mut Target, column: &Name, change: impl FnOnce(&mut Column)) {
        if let Some(id) = self.column_index(t, column) {
            t.table.update_column(id, |c| {
                change(c);
                c.history.touch(self.origin);
            });
        }
    }

    /// A dropped column takes its indexes and constraints with it.
    fn forget_column(&mut self, t: &mut Target, column: &str) {
        let (dead, kept): (Vec<Constraint>, Vec<Constraint>) =
            t.table.constraints.iter().cloned().partition(|c| c.columns.iter().any(|x| x == column));
        if !dead.is_empty() {
            t.table.constraints = kept.into_iter().collect();
        }
        let dead_indexes: Vec<String> = t
            .table
            .indexes
            .iter()
            .filter(|k| self.s.indexes.get(k).is_some_and(|i| i.columns.iter().any(|x| mentions(x, column))))
            .cloned()
            .collect();
        let owned: Vec<String> = self
            .s
            .sequences
            .iter()
            .filter(|(_, s)| s.owned_by.as_deref() == Some(t.key.as_str()) && s.owned_column.as_deref() == Some(column))
            .map(|(k, _)| k.to_string())
            .collect();
        for k in owned {
            self.s.sequences.remove(&k);
        }
        for k in &dead_indexes {
            self.s.indexes.remove(k);
        }
        if !dead_indexes.is_empty() {
            t.table.indexes.retain(|k| !dead_indexes.contains(k));
        }
    }

    fn rename_column_refs(&mut self, t: &mut Target, old: &str, new: &str) {
        let owned: Vec<String> = self
            .s
            .sequences
            .iter()
            .filter(|(_, s)| s.owned_by.as_deref() == Some(t.key.as_str()) && s.owned_column.as_deref() == Some(old))
            .map(|(k, _)| k.to_string())
            .collect();
        for k in owned {
            if let Some(seq) = self.s.sequences.get(&k) {
                let mut seq = (**seq).clone();
                seq.owned_column = Some(new.to_string());
                self.s.sequences.insert(k, Arc::new(seq));
            }
        }
        let rename = |cols: &mut Vec<String>| {
            for c in cols.iter_mut().filter(|c| *c == old) {
                *c = new.to_string();
            }
        };
        for i in 0..t.table.constraints.len() {
            if t.table.constraints[i].columns.iter().any(|c| c == old) {
                let mut c = t.table.constraints[i].clone();
                rename(&mut c.columns);
                if let ConstraintType::Check { not_null_of: Some(col) } = &mut c.kind {
                    if col == old {
                        *col = new.to_string();
                    }
                }
                t.table.constraints.set(i, c);
            }
        }
        for k in t.table.indexes.iter() {
            if let Some(index) = self.s.indexes.get(k).filter(|i| i.columns.iter().any(|c| c == old)) {
                let mut index = (**index).clone();
                rename(&mut index.columns);
                self.s.indexes.insert(k.clone(), Arc::new(index));
            }
        }
    }

    fn drop_constraint(&mut self, t: &mut Target, name: &str) {
        let found = t.table.constraints.iter().position(|c| c.name == name).or_else(|| {
            // An auto-generated name safemig derived differently: a `_pkey` still drops the key.
            name.ends_with("_pkey")
                .then(|| t.table.constraints.iter().position(|c| c.kind == ConstraintType::PrimaryKey))
                .flatten()
        });
        let Some(i) = found else { return };
        let c = t.table.constraints.remove(i);
        if matches!(c.kind, ConstraintType::PrimaryKey | ConstraintType::Unique) {
            let key = self.s.index_key(t.name, &c.name);
            if self.s.indexes.remove(&key).is_some() {
                t.table.indexes.retain(|k| *k != key);
            }
        }
    }

    fn rename_constraint(&mut self, t: &mut Target, from: &str, to: &str) {
        let Some(i) = t.table.constraints.iter().position(|c| c.name == from) else { return };
        let mut c = t.table.constraints[i].clone();
        c.name = to.to_string();
        c.history.touch(self.origin);
        let backed = matches!(c.kind, ConstraintType::PrimaryKey | ConstraintType::Unique);
        t.table.constraints.set(i, c);
        if backed {
            let old = self.s.index_key(t.name, from);
            let new = self.s.index_key(t.name, to);
            self.move_index(t, &old, new, to);
        }
    }

    /// Re-keys an index of `t` (a rename), keeping its table's list in step.
    fn move_index(&mut self, t: &mut Target, old: &str, new: String, name: &str) {
        let Some(index) = self.s.indexes.remove(old) else { return };
        let mut index = (*index).clone();
        index.name = name.to_string();
        index.history.touch(self.origin);
        if let Some(pos) = t.table.indexes.iter().position(|k| k == old) {
            t.table.indexes.set(pos, new.clone());
        }
        self.s.indexes.insert(new, Arc::new(index));
    }

    fn rename_table(&mut self, t: &mut Target, new_key: String) {
        let old_key = std::mem::replace(&mut t.key, new_key.clone());
        self.s.tables.remove(&old_key);
        let owned: Vec<String> = self
            .s
            .sequences
            .iter()
            .filter(|(_, s)| s.owned_by.as_deref() == Some(old_key.as_str()))
            .map(|(k, _)| k.to_string())
            .collect();
        for k in owned {
            if let Some(seq) = self.s.sequences.get(&k) {
                let mut seq = (**seq).clone();
                seq.owned_by = Some(new_key.clone());
                self.s.sequences.insert(k, Arc::new(seq));
            }
        }
        // Its indexes keep their names; they now point at the new key.
        let mut moved = Vec::new();
        for k in t.table.indexes.iter() {
            if let Some(index) = self.s.indexes.get(k) {
                let mut index = (**index).clone();
                index.table = new_key.clone();
                moved.push((k.clone(), index));
            }
        }
        for (k, index) in moved {
            self.s.indexes.insert(k, Arc::new(index));
        }
        t.table.name = new_key.clone();
        self.s.gone.insert(old_key, Gone::Renamed { to: new_key, by: self.origin.clone() });
    }

    fn rename_view(&mut self, old: &QualifiedName, to: &Name) {
        let key = self.s.key(old);
        let new_key = self.s.renamed_key(old, &to.value);
        if self.s.relation_exists(&new_key) {
            return;
        }
        if let Some(view) = self.s.views.remove(&key) {
            let mut view = (*view).clone();
            view.name = new_key.clone();
            view.history.touch(self.origin);
            self.s.views.insert(new_key.clone(), Arc::new(view));
            self.s.gone.insert(key, Gone::Renamed { to: new_key, by: self.origin.clone() });
        }
    }

    // ---- indexes -----------------------------------------------------------------------------

    fn create_index(&mut self, ci: &CreateIndex) {
        let key = self.s.key(&ci.table);
        let key_of_target = key.clone();
        let on_view = self.s.views.contains_key(&key);
        let mut target = if on_view { None } else { self.require_table(&ci.table) };
        // The keys that are plain column names: the recogniser read those as identifiers (an
        // expression or a column with an operator class is kept as text).
        let key_columns: Vec<Name> = {
            let idents = &self.facts.identifiers;
            let mut from = idents.partition_point(|n| n.span.start < ci.table.span.end);
            ci.columns
                .iter()
                .map(|key| {
                    let found = idents[from..].iter().position(|n| n.value == *key);
                    found.map(|p| {
                        from += p + 1;
                        idents[from - 1].clone()
                    })
                })
                .collect::<Vec<_>>()
                .into_iter()
                .flatten()
                .collect()
        };
        if let Some(t) = target.as_mut() {
            for name in &key_columns {
                self.column_index(t, name);
            }
        }
        let table_name = ci.table.name().to_string();
        let name = match &ci.name {
            Some(n) => {
                let index_key = self.s.index_key(&ci.table, &n.value);
                if let Some(existing) = self.s.indexes.get(&index_key) {
                    if !ci.if_not_exists && self.s.dialect != Dialect::Mysql {
                        let history = existing.history.clone();
                        self.already(ObjectRef::Index(index_key), n.span, &history, Some("IF NOT EXISTS"));
                    }
                    if let Some(t) = target {
                        if t.table.is_from_baseline() {
                            self.store(t);
                        }
                    }
                    return;
                }
                n.value.clone()
            }
            None => {
                let s = &*self.s;
                let part = column_part(&ci.columns);
                choose_name(&table_name, part.as_deref(), "idx", |n| s.indexes.contains_key(&s.index_key(&ci.table, n)))
            }
        };
        let index_key = self.s.index_key(&ci.table, &name);
        let index = Index {
            name,
            table: key,
            columns: ci
                .columns
                .iter()
                .map(|c| if key_columns.iter().any(|n| n.value == *c) { self.col(c) } else { c.clone() })
                .collect(),
            unique: ci.unique,
            partial: ci.partial,
            constraint: false,
            history: History::created_by(self.origin),
        };
        self.s.indexes.insert(index_key.clone(), Arc::new(index));
        if let Some(mut t) = target {
            t.table.indexes.push_back(index_key);
            t.table.history.touch(self.origin);
            self.store(t);
        } else if let Some(view) = self.s.views.get(&key_of_target) {
            let mut view = (**view).clone();
            view.indexes.push_back(index_key);
            self.s.views.insert(key_of_target, Arc::new(view));
        }
    }

    fn drop_index(&mut self, di: &DropIndex) {
        for name in &di.names {
            let key = match (&di.table, self.s.dialect) {
                (Some(table), Dialect::Mysql) => self.s.index_key(table, name.name()),
                _ => self.s.key(name),
            };
            let Some(index) = self.s.indexes.remove(&key) else { continue };
            if let Some(t) = self.s.tables.get(&index.table) {
                let mut table = (**t).clone();
                table.indexes.retain(|k| *k != key);
                table.history.touch(self.origin);
                self.s.tables.insert(index.table.clone(), Arc::new(table));
            } else if let Some(v) = self.s.views.get(&index.table) {
                let mut view = (**v).clone();
                view.indexes.retain(|k| *k != key);
                self.s.views.insert(index.table.clone(), Arc::new(view));
            }
        }
    }

    // ---- DROP --------------------------------------------------------------------------------

    fn drop(&mut self, d: &DropObjects) {
        for name in &d.names {
            let key = self.s.key(name);
            match d.object {
                ObjectKind::Table => {
                    if self.s.remove_table(&key).is_none() && !d.if_exists && self.s.manages(name) {
                        let missing = match self.s.gone.get(&key) {
                            Some(g) => Missing::Gone(g.clone()),
                            None => Missing::NeverCreated,
                        };
                        self.missing(ObjectRef::Table(key.clone()), name.span, missing);
                    }
                    self.s.gone.insert(key.clone(), Gone::Dropped { by: self.origin.clone() });
                    // Without CASCADE, PostgreSQL refuses the drop while a view or foreign key
                    // depends on the table: they stay.
                    if d.cascade {
                        self.s.drop_dependents(vec![key], self.origin);
                    }
                }
                ObjectKind::View | ObjectKind::MaterializedView => {
                    if let Some(view) = self.s.views.remove(&key) {
                        for index in &view.indexes {
                            self.s.indexes.remove(index);
                        }
                        self.s.gone.insert(key.clone(), Gone::Dropped { by: self.origin.clone() });
                        if d.cascade {
                            self.s.drop_dependents(vec![key], self.origin);
                        }
                    }
                }
                ObjectKind::Trigger => {
                    let Some(on) = &d.on else { continue };
                    let table_key = self.s.key(on);
                    let trigger = self.col(name.name());
                    if let Some(t) = self.s.tables.get(&table_key).filter(|t| t.triggers.contains_key(&trigger)) {
                        let mut t = (**t).clone();
                        t.triggers.remove(&trigger);
                        self.s.tables.insert(table_key, Arc::new(t));
                    }
                }
                ObjectKind::Sequence => {
                    self.s.sequences.remove(&key);
                }
                ObjectKind::Type => {
                    self.s.types.remove(&key);
                }
                ObjectKind::Function => {
                    self.s.functions.remove(&key);
                }
                ObjectKind::Extension => {
                    self.s.extensions.remove(name.name());
                }
                ObjectKind::Schema if d.cascade => self.drop_schema(name),
                ObjectKind::Schema => {
                    let s = self.col(name.name());
                    self.s.schemas.remove(&s);
                }
                _ => {}
            }
        }
    }

    /// `DROP SCHEMA s CASCADE`: everything in it goes.
    fn drop_schema(&mut self, name: &QualifiedName) {
        let prefix = format!("{}.", self.col(name.name()));
        let tables: Vec<String> = self.s.tables.keys().filter(|k| k.starts_with(&prefix)).map(str::to_string).collect();
        let views: Vec<String> = self.s.views.keys().filter(|k| k.starts_with(&prefix)).map(str::to_string).collect();
        for k in &tables {
            self.s.remove_table(k);
            self.s.gone.insert(k.clone(), Gone::Dropped { by: self.origin.clone() });
        }
        for k in &views {
            self.s.views.remove(k);
            self.s.gone.insert(k.clone(), Gone::Dropped { by: self.origin.clone() });
        }
        // Views and foreign keys elsewhere that depend on what the schema held.
        self.s.drop_dependents(tables.into_iter().chain(views).collect(), self.origin);
        self.s.sequences.retain(|k, _| !k.starts_with(&prefix));
        self.s.types.retain(|k, _| !k.starts_with(&prefix));
        self.s.functions.retain(|k, _| !k.starts_with(&prefix));
        self.s.indexes.retain(|k, _| !k.starts_with(&prefix));
        let s = self.col(name.name());
        self.s.schemas.remove(&s);
    }

    // ---- views, sequences, types, schemas ----------------------------------------------------

    fn create_object(&mut self, co: &CreateObject) {
        let key = self.s.key(&co.name);
        let history = History::created_by(self.origin);
        match co.object {
            ObjectKind::View | ObjectKind::MaterializedView => {
                let reads: im::Vector<String> = co.reads.iter().map(|r| self.s.key(r)).collect();
                if let Some(existing) = self.s.views.get(&key) {
                    if co.or_replace {
                        let mut view = (**existing).clone();
                        view.reads = reads;
                        view.history.touch(self.origin);
                        self.s.views.insert(key, Arc::new(view));
                    } else if !co.if_not_exists {
                        let history = existing.history.clone();
                        let guard = (co.object == ObjectKind::View).then_some("OR REPLACE");
                        let guard = guard.or(Some("IF NOT EXISTS"));
                        self.already(ObjectRef::View(key), co.name.span, &history, guard);
                    }
                    return;
                }
                if self.s.tables.contains_key(&key) {
                    return;
                }
                let materialized = co.object == ObjectKind::MaterializedView;
                self.s.register_schema(&co.name);
                self.s.gone.remove(&key);
                let view = View { name: key.clone(), materialized, indexes: im::Vector::new(), reads, history };
                self.s.views.insert(key, Arc::new(view));
            }
            ObjectKind::Sequence => {
                if let Some(existing) = self.s.sequences.get(&key) {
                    if !co.if_not_exists {
                        let history = existing.history.clone();
                        self.already(ObjectRef::Sequence(key), co.name.span, &history, Some("IF NOT EXISTS"));
                    }
                    return;
                }
                self.s.register_schema(&co.name);
                let (owned_by, owned_column) = self.owner(co.owned_by.as_ref());
                self.s.sequences.insert(key.clone(), Arc::new(Sequence { name: key, owned_by, owned_column, history }));
            }
            ObjectKind::Type => {
                if let Some(existing) = self.s.types.get(&key) {
                    let history = existing.history.clone();
                    self.already(ObjectRef::Type(key), co.name.span, &history, None);
                    return;
                }
                self.s.register_schema(&co.name);
                let labels = co.enum_labels.as_ref().map(|l| l.iter().cloned().collect());
                let added_labels = Map::default();
                self.s.types.insert(key.clone(), Arc::new(TypeDef { name: key, labels, added_labels, history }));
            }
            ObjectKind::Schema => {
                let s = self.col(co.name.name());
                if s != "public" && !self.s.schemas.contains(&s) {
                    self.s.schemas.insert(s);
                }
            }
            _ => {}
        }
    }

    // ---- functions, extensions ---------------------------------------------------------------

    /// `CREATE [OR REPLACE] FUNCTION`: an overload of a name replaces what is known of it.
    fn create_function(&mut self, cf: &CreateFunction) {
        let key = self.s.key(&cf.name);
        let history = match self.s.functions.get(&key) {
            Some(f) => {
                let mut h = f.history.clone();
                h.touch(self.origin);
                h
            }
            None => History::created_by(self.origin),
        };
        let function = Function { name: key.clone(), declared: cf.volatility, history };
        self.s.functions.insert(key, Arc::new(function));
    }

    /// `ALTER FUNCTION … IMMUTABLE|STABLE|VOLATILE` (of a function the migrations did not create
    /// too: from here on its volatility is known) or `… RENAME TO`.
    fn alter_function(&mut self, af: &AlterFunction) {
        let key = self.s.key(&af.name);
        let existing = self.s.functions.get(&key).map(|f| (**f).clone());
        if let Some(to) = &af.rename_to {
            let Some(mut f) = existing else { return };
            self.s.functions.remove(&key);
            let new_key = self.s.renamed_key(&af.name, &to.value);
            f.name = new_key.clone();
            f.history.touch(self.origin);
            self.s.functions.insert(new_key, Arc::new(f));
            return;
        }
        let mut f = existing.unwrap_or(Function { name: key.clone(), declared: None, history: History::baseline() });
        f.declared = af.volatility.or(f.declared);
        f.history.touch(self.origin);
        self.s.functions.insert(key, Arc::new(f));
    }

    fn create_extension(&mut self, ce: &CreateExtension) {
        let name = ce.name.value.clone();
        if self.s.extensions.contains_key(&name) {
            return;
        }
        let schema = ce.schema.as_ref().map(|s| s.value.clone());
        let extension = Extension { name: name.clone(), schema, history: History::created_by(self.origin) };
        self.s.extensions.insert(name, Arc::new(extension));
    }

    fn alter_object(&mut self, ao: &AlterObject) {
        let key = self.s.key(&ao.name);
        match (&ao.object, &ao.action) {
            (ObjectKind::Index, AlterObjectAction::Rename { to }) => {
                let Some(index) = self.s.indexes.get(&key).cloned() else { return };
                let new_key = self.s.renamed_key(&ao.name, &to.value);
                if self.s.indexes.contains_key(&new_key) {
                    return;
                }
                let table_key = index.table.clone();
                let Some(table) = self.s.tables.get(&table_key).map(|t| (**t).clone()) else {
                    // An index on a materialized view.
                    self.s.indexes.remove(&key);
                    let mut index = (*index).clone();
                    index.name = to.value.clone();
                    index.history.touch(self.origin);
                    if let Some(v) = self.s.views.get(&table_key) {
                        let mut view = (**v).clone();
                        if let Some(pos) = view.indexes.iter().position(|k| *k == key) {
                            view.indexes.set(pos, new_key.clone());
                        }
                        self.s.views.insert(table_key, Arc::new(view));
                    }
                    self.s.indexes.insert(new_key, Arc::new(index));
                    return;
                };
                let name = QualifiedName { parts: ao.name.parts.clone(), span: ao.name.span };
                let mut t = Target { name: &name, key: table_key, table };
                if index.constraint {
                    if let Some(i) = t.table.constraints.iter().position(|c| c.name == index.name) {
                        let mut c = t.table.constraints[i].clone();
                        c.name = to.value.clone();
                        t.table.constraints.set(i, c);
                    }
                }
                self.move_index(&mut t, &key, new_key, &to.value);
                let Target { key, table, .. } = t;
                self.s.tables.insert(key, Arc::new(table));
            }
            (ObjectKind::View | ObjectKind::MaterializedView, AlterObjectAction::Rename { to }) => {
                self.rename_view(&ao.name, to)
            }
            (ObjectKind::Sequence, AlterObjectAction::Rename { to }) => {
                let new_key = self.s.renamed_key(&ao.name, &to.value);
                if let Some(seq) = self.s.sequences.remove(&key) {
                    let mut seq = (*seq).clone();
                    seq.name = new_key.clone();
                    seq.history.touch(self.origin);
                    self.s.sequences.insert(new_key, Arc::new(seq));
                }
            }
            (ObjectKind::Sequence, AlterObjectAction::OwnedBy { owner }) => {
                let (owned_by, owned_column) = self.owner(owner.as_ref());
                if let Some(seq) = self.s.sequences.get(&key) {
                    let mut seq = (**seq).clone();
                    seq.owned_by = owned_by;
                    seq.owned_column = owned_column;
                    seq.history.touch(self.origin);
                    self.s.sequences.insert(key, Arc::new(seq));
                }
            }
            (ObjectKind::Trigger, AlterObjectAction::Rename { to }) => {
                let Some(on) = &ao.on else { return };
                let table_key = self.s.key(on);
                let (from, to) = (self.col(ao.name.name()), self.col(&to.value));
                let Some(t) = self.s.tables.get(&table_key) else { return };
                let mut t = (**t).clone();
                if let Some(mut history) = t.triggers.remove(&from) {
                    history.touch(self.origin);
                    t.triggers.insert(to, history);
                    self.s.tables.insert(table_key, Arc::new(t));
                }
            }
            (ObjectKind::Type, AlterObjectAction::Rename { to }) => {
                let new_key = self.s.renamed_key(&ao.name, &to.value);
                if let Some(ty) = self.s.types.remove(&key) {
                    let mut ty = (*ty).clone();
                    ty.name = new_key.clone();
                    ty.history.touch(self.origin);
                    self.s.types.insert(new_key, Arc::new(ty));
                }
            }
            (ObjectKind::Type, AlterObjectAction::AddValue { label, if_not_exists, span }) => {
                let Some(ty) = self.s.types.get(&key) else { return };
                let mut ty = (**ty).clone();
                let Some(labels) = ty.labels.as_mut() else { return };
                if labels.iter().any(|l| l == label) {
                    if !if_not_exists {
                        let object = ObjectRef::EnumValue { ty: key, label: label.clone() };
                        let history = match ty.added_labels.get(label) {
                            Some(origin) => History::created_by(origin),
                            None => ty.history.clone(),
                        };
                        self.already(object, *span, &history, Some("IF NOT EXISTS"));
                    }
                    return;
                }
                labels.push_back(label.clone());
                ty.added_labels.insert(label.clone(), self.origin.clone());
                ty.history.touch(self.origin);
                self.s.types.insert(key, Arc::new(ty));
            }
            (ObjectKind::Type, AlterObjectAction::RenameValue { from, to }) => {
                let Some(ty) = self.s.types.get(&key) else { return };
                let mut ty = (**ty).clone();
                if let Some(labels) = ty.labels.as_mut() {
                    if let Some(i) = labels.iter().position(|l| l == from) {
                        labels.set(i, to.clone());
                    }
                }
                ty.history.touch(self.origin);
                self.s.types.insert(key, Arc::new(ty));
            }
            _ => {}
        }
    }
}

impl Applier<'_> {
    /// `INSERT`: a seeded table stays seeded while only a few listed rows go in.
    fn insert(&mut self, ins: &Insert) {
        let key = self.s.key(&ins.table);
        let Some(t) = self.s.tables.get(&key) else { return };
        let rows = match (t.rows, ins.rows) {
            (Rows::Seeded(n), Some(k)) if n + k <= FEW_SEED_ROWS => Rows::Seeded(n + k),
            _ => Rows::Filled,
        };
        if rows != t.rows {
            let mut t = (**t).clone();
            t.rows = rows;
            self.s.tables.insert(key, Arc::new(t));
        }
    }

    /// `CREATE [OR REPLACE] TRIGGER name … ON table`: trigger names are per table. Triggers of
    /// tables the replay does not hold (baseline, views) are not tracked.
    fn create_trigger(&mut self, table: &QualifiedName, name: &Name, or_replace: bool) {
        let key = self.s.key(table);
        let trigger = self.col(&name.value);
        let Some(t) = self.s.tables.get(&key) else { return };
        if let Some(existing) = t.triggers.get(&trigger) {
            if !or_replace {
                let history = existing.clone();
                self.already(ObjectRef::Trigger { table: key, name: trigger }, name.span, &history, None);
            }
            return;
        }
        let mut t = (**t).clone();
        t.triggers.insert(trigger, History::created_by(self.origin));
        self.s.tables.insert(key, Arc::new(t));
    }

    /// The table key and column of `OWNED BY table.column`.
    fn owner(&self, column: Option<&QualifiedName>) -> (Option<String>, Option<String>) {
        let Some(column) = column.filter(|c| c.parts.len() >= 2) else { return (None, None) };
        let parts = column.parts[..column.parts.len() - 1].to_vec();
        let table = QualifiedName { parts, span: column.span };
        (Some(self.s.key(&table)), Some(self.col(column.name())))
    }
}

/// Whether an index key (a column name, or an expression's text) reads `column`.
fn mentions(key: &str, column: &str) -> bool {
    key == column || key.split(|c: char| !(c.is_alphanumeric() || c == '_')).any(|w| w == column)
}

/// A table that replay had not seen, adopted from the baseline: its columns are unknown.
fn baseline_table(key: &str) -> Table {
    Table::new(key.to_string(), false, false, History::baseline())
}

/// The table a `COPY [schema.]table [(cols)] FROM …` statement loads rows into (`None` for a
/// `COPY … TO`, which reads them, or a `COPY (query) …`).
pub(crate) fn copy_into(dialect: Dialect, text: &str) -> Option<QualifiedName> {
    let lexed = crate::sql::lexer::tokenize(dialect.sqlparser(), text);
    let toks: Vec<&Tok> = lexed.tokens.iter().filter(|t| !t.is_trivia()).collect();
    let loads = toks
        .iter()
        .any(|t| matches!(&t.token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("FROM")));
    // `COPY [schema.]table …`: the dotted words after `COPY`.
    let mut parts = Vec::new();
    for (i, t) in toks.iter().enumerate().skip(1) {
        match &t.token {
            Token::Word(w) if i % 2 == 1 => {
                let value = if w.quote_style.is_some() { w.value.clone() } else { w.value.to_lowercase() };
                parts.push(Name { value, quoted: w.quote_style.is_some(), span: Span::default() });
            }
            Token::Period if i % 2 == 0 => {}
            _ => break,
        }
    }
    (loads && !parts.is_empty()).then_some(QualifiedName { parts, span: Span::default() })
}
