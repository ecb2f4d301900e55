//! Facts from tokens. One recogniser serves statements sqlparser parsed and statements it could
//! not (`DROP INDEX CONCURRENTLY`, `REINDEX`, `DO`, …), so rules see the same facts either way and
//! every fact points at the exact clause that states it. It never recurses on input nesting, so
//! 10,000 nested parentheses cost a loop, not a stack.

use sqlparser::tokenizer::Token;

use super::facts::*;
use super::lexer::Tok;

/// Functions whose value differs per row: a column added with such a default rewrites the table.
/// (Extension functions that migrations call by their bare name are here too: `uuid-ossp`'s,
/// `pgcrypto`'s `gen_random_bytes`.)
const VOLATILE_FUNCTIONS: &[&str] = &[
    "random",
    "gen_random_uuid",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "uuidv4",
    "uuidv7",
    "clock_timestamp",
    "timeofday",
    "nextval",
    "gen_random_bytes",
    "txid_current",
    "statement_timestamp",
];

/// Built-in functions (and function-like keywords) a default, check or index expression commonly
/// calls that are not volatile: a call to one of them says nothing about a rewrite. Any other
/// name is a user or extension function whose volatility the schema must tell.
const NON_VOLATILE_BUILTINS: &[&str] = &[
    "abs",
    "age",
    "array_fill",
    "array_length",
    "array_to_json",
    "array_to_string",
    "btrim",
    "cardinality",
    "cast",
    "ceil",
    "ceiling",
    "char_length",
    "character_length",
    "coalesce",
    "concat",
    "concat_ws",
    "current_date",
    "current_schema",
    "current_setting",
    "current_time",
    "current_timestamp",
    "current_user",
    "date",
    "date_part",
    "date_trunc",
    "daterange",
    "decode",
    "encode",
    "extract",
    "floor",
    "format",
    "greatest",
    "inet",
    "int4range",
    "int8range",
    "interval",
    "json_build_array",
    "json_build_object",
    "jsonb_build_array",
    "jsonb_build_object",
    "left",
    "least",
    "length",
    "localtime",
    "localtimestamp",
    "lower",
    "ltrim",
    "make_date",
    "make_interval",
    "make_time",
    "make_timestamp",
    "make_timestamptz",
    "md5",
    "mod",
    "now",
    "nullif",
    "numrange",
    "overlay",
    "point",
    "position",
    "power",
    "regexp_replace",
    "repeat",
    "replace",
    "right",
    "round",
    "row",
    "rtrim",
    "session_user",
    "setweight",
    "sqrt",
    "string_to_array",
    "strpos",
    "substr",
    "substring",
    "timezone",
    "to_char",
    "to_date",
    "to_json",
    "to_jsonb",
    "to_number",
    "to_timestamp",
    "to_tsvector",
    "transaction_timestamp",
    "trim",
    "trunc",
    "tsrange",
    "tstzrange",
    "upper",
    "uuid_nil",
    "uuid_ns_dns",
    "uuid_ns_oid",
    "uuid_ns_url",
    "uuid_ns_x500",
    "uuid_generate_v3",
    "uuid_generate_v5",
];

/// The volatility of a built-in function by its name, when safemig knows it: `Volatile` for
/// [`VOLATILE_FUNCTIONS`], `Stable` for the others it lists; `None` for any other name.
pub fn builtin_volatility(name: &str) -> Option<Volatility> {
    let is = |list: &[&str]| list.iter().any(|f| name.eq_ignore_ascii_case(f));
    if is(VOLATILE_FUNCTIONS) {
        Some(Volatility::Volatile)
    } else if is(NON_VOLATILE_BUILTINS) {
        Some(Volatility::Stable)
    } else {
        None
    }
}

/// Words followed by `(` that call no function: operators, clauses and type names with
/// modifiers (`numeric(10, 2)` after `AS` or `::`).
const NOT_CALLS: &[&str] = &[
    "all",
    "and",
    "any",
    "array",
    "as",
    "between",
    "bit",
    "by",
    "case",
    "char",
    "character",
    "check",
    "decimal",
    "default",
    "else",
    "exists",
    "filter",
    "float",
    "in",
    "include",
    "is",
    "like",
    "not",
    "numeric",
    "on",
    "or",
    "over",
    "precision",
    "references",
    "select",
    "some",
    "then",
    "time",
    "timestamp",
    "unique",
    "using",
    "values",
    "varchar",
    "varying",
    "when",
    "where",
    "with",
    "within",
];

/// The functions called in `toks` (significant tokens of an expression): a name followed by `(`,
/// with its schema when written `schema.name(`, that is not a keyword or a type's modifiers.
pub fn function_calls(toks: &[&Tok]) -> Vec<QualifiedName> {
    let name_of = |t: &Tok| match &t.token {
        Token::Word(w) => Some(Name {
            value: if w.quote_style.is_some() { w.value.clone() } else { w.value.to_lowercase() },
            quoted: w.quote_style.is_some(),
            span: span_of(t),
        }),
        _ => None,
    };
    let mut out = Vec::new();
    for i in 0..toks.len().saturating_sub(1) {
        if !matches!(toks[i + 1].token, Token::LParen) {
            continue;
        }
        let Some(name) = name_of(toks[i]) else { continue };
        if !name.quoted && NOT_CALLS.contains(&name.value.as_str()) {
            continue;
        }
        let before = i.checked_sub(1).map(|j| &toks[j].token);
        if matches!(before, Some(Token::DoubleColon)) {
            continue;
        }
        let mut parts = vec![name];
        if matches!(before, Some(Token::Period)) {
            match i.checked_sub(2).and_then(|j| name_of(toks[j])) {
                Some(schema) => parts.insert(0, schema),
                None => continue,
            }
        }
        let span = parts[0].span.to(parts[parts.len() - 1].span);
        out.push(QualifiedName { parts, span });
    }
    out
}

/// Keywords that end a column's type or default expression.
const COLUMN_CONSTRAINT_WORDS: &[&str] = &[
    "CONSTRAINT",
    "NOT",
    "NULL",
    "DEFAULT",
    "PRIMARY",
    "UNIQUE",
    "REFERENCES",
    "CHECK",
    "GENERATED",
    "COLLATE",
    "AUTO_INCREMENT",
    "AUTOINCREMENT",
    "COMMENT",
    "ON",
    "DEFERRABLE",
    "INITIALLY",
    "IDENTITY",
    "CHARACTER",
    "CHARSET",
    "FIRST",
    "AFTER",
];

pub fn recognize(tokens: &[Tok]) -> StatementFacts {
    let sig: Vec<&Tok> = tokens.iter().filter(|t| !t.is_trivia()).collect();
    if let Some(facts) = guarded_do_block(&sig) {
        return facts;
    }
    let mut c = Cursor { toks: sig, pos: 0, identifiers: Vec::new() };
    if c.toks.is_empty() {
        return StatementFacts {
            kind: StatementKind::Empty,
            label: String::new(),
            head: Span::default(),
            identifiers: vec![],
            guard: None,
        };
    }
    let (kind, label, mut head) = statement(&mut c);
    if matches!(
        kind,
        StatementKind::Other
            | StatementKind::CreateObject(_)
            | StatementKind::AlterObject(_)
            | StatementKind::CreateFunction(_)
            | StatementKind::AlterFunction(_)
            | StatementKind::CreateExtension(_)
    ) {
        // Cover the label's words (`ALTER SEQUENCE`, `COMMENT ON`), not just the first one.
        let words = label.split(' ').filter(|w| !w.is_empty()).count().max(1);
        if let Some(last) = c.toks.iter().take(words).take_while(|t| word_of(t).is_some()).last() {
            head = head.to(span_of(last));
        }
    }
    StatementFacts { kind, label, head, identifiers: std::mem::take(&mut c.identifiers), guard: None }
}

/// `DO [LANGUAGE plpgsql] $tag$ BEGIN IF <condition> THEN <statement>; END IF; END $tag$`: one
/// DDL statement (`ALTER`, `CREATE`, `DROP`) that the block runs only under its condition, as
/// recovery migrations write it. Its facts are the inner statement's, spans shifted into the
/// block, with [`StatementFacts::guard`] on the condition. Any other block is `None` (a `DO`).
fn guarded_do_block(sig: &[&Tok]) -> Option<StatementFacts> {
    let word = |t: &Tok, w: &str| word_of(t).is_some_and(|x| x.eq_ignore_ascii_case(w));
    let plpgsql = |t: &Tok| match &t.token {
        Token::Word(w) => w.value.eq_ignore_ascii_case("plpgsql"),
        Token::SingleQuotedString(s) => s.eq_ignore_ascii_case("plpgsql"),
        _ => false,
    };
    let (first, rest) = sig.split_first()?;
    if !word(first, "DO") {
        return None;
    }
    let rest = match rest {
        [rest @ .., last] if matches!(last.token, Token::SemiColon) => rest,
        _ => rest,
    };
    let body = match rest {
        [body] => *body,
        [l, name, body] | [body, l, name] if word(l, "LANGUAGE") && plpgsql(name) => *body,
        _ => return None,
    };
    let Token::DollarQuotedString(d) = &body.token else { return None };
    // `$tag$` on both sides of the text: the body starts after the opening one.
    let open = 2 + d.tag.as_ref().map_or(0, String::len);
    if (body.end - body.start) as usize != d.value.len() + 2 * open {
        return None;
    }
    let shift = body.start + open as u32;
    let lexed = super::lexer::tokenize(super::Dialect::Postgres.sqlparser(), &d.value);
    if lexed.error.is_some() {
        return None;
    }
    let inner: Vec<Tok> = lexed
        .tokens
        .into_iter()
        .filter(|t| !t.is_trivia())
        .map(|mut t| {
            t.start += shift;
            t.end += shift;
            t
        })
        .collect();
    let semi = |t: &Tok| matches!(t.token, Token::SemiColon);
    if inner.len() < 8 || !word(&inner[0], "BEGIN") || !word(&inner[1], "IF") {
        return None;
    }
    // The condition: up to the first THEN outside parentheses, with no CASE (whose THEN it would
    // be) and no `;` in it.
    let mut depth = 0i64;
    let mut then = None;
    for (i, t) in inner.iter().enumerate().skip(2) {
        match t.token {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            _ if semi(t) || word(t, "CASE") => return None,
            _ if depth == 0 && word(t, "THEN") => {
                then = Some(i);
                break;
            }
            _ => {}
        }
    }
    let then = then.filter(|&t| t > 2)?;
    let end = then + 1 + inner[then + 1..].iter().position(semi)?;
    let statement = &inner[then + 1..end];
    let tail = &inner[end + 1..];
    let closes = match tail {
        [e1, i, s, e2] | [e1, i, s, e2, _] => {
            word(e1, "END") && word(i, "IF") && semi(s) && word(e2, "END") && tail.get(4).is_none_or(semi)
        }
        _ => false,
    };
    let ddl = statement.first().is_some_and(|t| ["ALTER", "CREATE", "DROP"].iter().any(|w| word(t, w)));
    if !closes || !ddl {
        return None;
    }
    let mut facts = recognize(statement);
    if matches!(facts.kind, StatementKind::Other | StatementKind::Empty) {
        return None;
    }
    facts.guard = Some(span_of(&inner[2]).to(span_of(&inner[then - 1])));
    Some(facts)
}

struct Cursor<'a> {
    toks: Vec<&'a Tok>,
    pos: usize,
    identifiers: Vec<Name>,
}

fn word_of(t: &Tok) -> Option<&str> {
    match &t.token {
        Token::Word(w) if w.quote_style.is_none() => Some(&w.value),
        _ => None,
    }
}

fn span_of(t: &Tok) -> Span {
    Span::new(t.start, t.end)
}

/// Guards one token loop of the recogniser: every turn must consume a token, or the loop stops.
/// A loop's state is the cursor's position, so a turn that consumed nothing would repeat itself
/// forever (a stray `]` once did that, allocating on every turn). Call [`Progress::stalled`] at
/// the top of each turn: it ends the loop in a release build and fails the debug assertion in a
/// test or fuzz run, where a stall is a missed case to fix.
struct Progress(Option<usize>);

impl Progress {
    fn new() -> Progress {
        Progress(None)
    }
    fn stalled(&mut self, c: &Cursor) -> bool {
        let stalled = self.0 == Some(c.pos);
        debug_assert!(!stalled, "a recogniser loop made no progress at token {} of {:?}", c.pos, c.peek());
        self.0 = Some(c.pos);
        stalled
    }
}

impl<'a> Cursor<'a> {
    /// Moves `n` tokens on, never past the end (a statement cut off after its first words).
    fn advance(&mut self, n: usize) {
        self.pos = self.pos.saturating_add(n).min(self.toks.len());
    }
    /// The tokens from the cursor on.
    fn rest(&self) -> &[&'a Tok] {
        &self.toks[self.pos.min(self.toks.len())..]
    }
    fn peek(&self) -> Option<&'a Tok> {
        self.toks.get(self.pos).copied()
    }
    fn peek_at(&self, n: usize) -> Option<&'a Tok> {
        self.toks.get(self.pos + n).copied()
    }
    fn at_end(&self) -> bool {
        self.pos >= self.toks.len() || matches!(self.toks[self.pos].token, Token::SemiColon)
    }
    fn is_kw_at(&self, n: usize, kw: &str) -> bool {
        self.peek_at(n).and_then(word_of).is_some_and(|w| w.eq_ignore_ascii_case(kw))
    }
    fn is_kw(&self, kw: &str) -> bool {
        self.is_kw_at(0, kw)
    }
    fn is_any_kw(&self, kws: &[&str]) -> bool {
        kws.iter().any(|k| self.is_kw(k))
    }
    fn is_tok(&self, pred: impl Fn(&Token) -> bool) -> bool {
        self.peek().is_some_and(|t| pred(&t.token))
    }
    /// Consumes `kw` if it is next.
    fn eat_kw(&mut self, kw: &str) -> Option<Span> {
        if self.is_kw(kw) {
            let s = span_of(self.toks[self.pos]);
            self.pos += 1;
            Some(s)
        } else {
            None
        }
    }
    /// Consumes the keyword sequence `kws` only if all of it is next.
    fn eat_kws(&mut self, kws: &[&str]) -> Option<Span> {
        if kws.iter().enumerate().all(|(i, k)| self.is_kw_at(i, k)) {
            let s = span_of(self.toks[self.pos]).to(span_of(self.toks[self.pos + kws.len() - 1]));
            self.pos += kws.len();
            Some(s)
        } else {
            None
        }
    }
    fn eat_tok(&mut self, pred: impl Fn(&Token) -> bool) -> Option<Span> {
        if self.is_tok(pred) {
            let s = span_of(self.toks[self.pos]);
            self.pos += 1;
            Some(s)
        } else {
            None
        }
    }
    fn last_span(&self) -> Span {
        self.pos.checked_sub(1).and_then(|p| self.toks.get(p)).map(|t| span_of(t)).unwrap_or_default()
    }
    fn here(&self) -> Span {
        self.peek().map(span_of).unwrap_or_else(|| {
            let e = self.last_span().end;
            Span::new(e, e)
        })
    }
    /// An identifier: a word (keywords allowed, as PostgreSQL does for most of them) or a quoted name.
    fn eat_name(&mut self) -> Option<Name> {
        let t = self.peek()?;
        let name = match &t.token {
            Token::Word(w) => Name {
                value: if w.quote_style.is_some() { w.value.clone() } else { w.value.to_lowercase() },
                quoted: w.quote_style.is_some(),
                span: span_of(t),
            },
            Token::DoubleQuotedString(s) => Name { value: s.clone(), quoted: true, span: span_of(t) },
            _ => return None,
        };
        self.pos += 1;
        self.identifiers.push(name.clone());
        Some(name)
    }
    fn eat_qualified(&mut self) -> Option<QualifiedName> {
        let first = self.eat_name()?;
        let mut span = first.span;
        let mut parts = vec![first];
        while self.is_tok(|t| matches!(t, Token::Period)) {
            self.pos += 1;
            match self.eat_name() {
                Some(n) => {
                    span = span.to(n.span);
                    parts.push(n);
                }
                None => break,
            }
        }
        Some(QualifiedName { parts, span })
    }
    /// Skips one balanced parenthesised group starting at `(`; returns its span.
    fn skip_group(&mut self) -> Option<Span> {
        if !self.is_tok(|t| matches!(t, Token::LParen | Token::LBracket)) {
            return None;
        }
        let start = span_of(self.toks[self.pos]);
        let mut depth = 0i64;
        while let Some(t) = self.peek() {
            match t.token {
                Token::LParen | Token::LBracket => depth += 1,
                Token::RParen | Token::RBracket => depth -= 1,
                Token::SemiColon => break,
                _ => {}
            }
            self.pos += 1;
            if depth <= 0 {
                break;
            }
        }
        Some(start.to(self.last_span()))
    }
    /// `(a, b, c)` as names; expressions inside keep their first identifier.
    fn paren_names(&mut self) -> Vec<Name> {
        let mut out = Vec::new();
        if self.eat_tok(|t| matches!(t, Token::LParen)).is_none() {
            return out;
        }
        let mut progress = Progress::new();
        loop {
            if self.at_end() || progress.stalled(self) {
                break;
            }
            if self.eat_tok(|t| matches!(t, Token::RParen)).is_some() {
                break;
            }
            if let Some(n) = self.eat_name() {
                out.push(n);
            }
            self.skip_until_top_level(|c| c.is_tok(|t| matches!(t, Token::Comma | Token::RParen)));
            self.eat_tok(|t| matches!(t, Token::Comma));
        }
        out
    }
    /// Advances over balanced tokens until `stop` holds at depth 0 (or the statement ends).
    /// Returns the span covered.
    fn skip_until_top_level(&mut self, stop: impl Fn(&Self) -> bool) -> Option<Span> {
        let start = self.pos;
        let mut progress = Progress::new();
        while !self.at_end() && !progress.stalled(self) {
            if stop(self) {
                break;
            }
            if self.is_tok(|t| matches!(t, Token::LParen | Token::LBracket)) {
                self.skip_group();
            } else if self.is_tok(|t| matches!(t, Token::RParen)) {
                // Unbalanced `)`: it closes an enclosing construct (every caller reads inside
                // parentheses or at the top level, none inside brackets, so a stray `]` here
                // closes nothing and is passed over like any other token).
                break;
            } else {
                self.advance(1);
            }
        }
        (self.pos > start).then(|| span_of(self.toks[start]).to(span_of(self.toks[self.pos - 1])))
    }
    fn rest_span(&self, from: usize) -> Span {
        let end = self.pos.max(from + 1).min(self.toks.len());
        let end_tok = (from..end).rev().find(|&i| !matches!(self.toks[i].token, Token::SemiColon)).unwrap_or(from);
        span_of(self.toks[from.min(self.toks.len() - 1)]).to(span_of(self.toks[end_tok]))
    }
    fn upper_words(&self, from: usize, n: usize) -> String {
        self.toks[from.min(self.toks.len())..]
            .iter()
            .take(n)
            .map_while(|t| word_of(t).map(str::to_ascii_uppercase))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn statement(c: &mut Cursor) -> (StatementKind, String, Span) {
    let first = c.here();
    let Some(w) = c.peek().and_then(word_of).map(str::to_ascii_uppercase) else {
        return (StatementKind::Other, String::new(), first);
    };
    match w.as_str() {
        "CREATE" => create(c),
        "ALTER" => alter(c),
        "DROP" => drop(c),
        "TRUNCATE" => {
            c.advance(1);
            c.eat_kw("TABLE");
            let tables = name_list(c);
            let cascade = has_kw_ahead(c, "CASCADE");
            (StatementKind::Truncate { tables, cascade }, "TRUNCATE".into(), first)
        }
        "UPDATE" => {
            c.advance(1);
            c.eat_kw("ONLY");
            let Some(table) = c.eat_qualified() else { return (StatementKind::Other, "UPDATE".into(), first) };
            (StatementKind::Update(data_change(c, table)), "UPDATE".into(), first)
        }
        "DELETE" => {
            c.advance(1);
            c.eat_kw("FROM");
            c.eat_kw("ONLY");
            let Some(table) = c.eat_qualified() else { return (StatementKind::Other, "DELETE".into(), first) };
            (StatementKind::Delete(data_change(c, table)), "DELETE".into(), first)
        }
        "INSERT" | "REPLACE" => {
            c.advance(1);
            c.eat_kw("IGNORE");
            c.eat_kw("INTO");
            let Some(table) = c.eat_qualified() else { return (StatementKind::Other, w, first) };
            let mut columns = None;
            if c.is_tok(|t| matches!(t, Token::LParen)) && !c.is_kw_at(1, "SELECT") && !c.is_kw_at(1, "WITH") {
                // The names refer to columns; they are not names the statement gives.
                let given = c.identifiers.len();
                columns = Some(c.paren_names());
                c.identifiers.truncate(given);
            }
            c.eat_kws(&["OVERRIDING", "SYSTEM", "VALUE"]);
            c.eat_kws(&["OVERRIDING", "USER", "VALUE"]);
            let rows = if c.eat_kws(&["DEFAULT", "VALUES"]).is_some() {
                Some(1)
            } else if c.eat_kw("VALUES").is_some() {
                let mut n = 0;
                while c.skip_group().is_some() {
                    n += 1;
                    if c.eat_tok(|t| matches!(t, Token::Comma)).is_none() {
                        break;
                    }
                }
                Some(n)
            } else {
                None
            };
            while c.eat_tok(|t| matches!(t, Token::LParen)).is_some() {}
            let from_select = rows.is_none() && c.is_any_kw(&["SELECT", "WITH", "TABLE"]);
            // `ON CONFLICT …` and `RETURNING …` follow the rows at the top level.
            let (mut on_conflict, mut returning) = (None, None);
            let mut progress = Progress::new();
            while !c.at_end() && !progress.stalled(c) {
                c.skip_until_top_level(|c| c.is_kw("RETURNING") || c.is_kw("ON") && c.is_kw_at(1, "CONFLICT"));
                if let Some(s) = c.eat_kws(&["ON", "CONFLICT"]) {
                    on_conflict = on_conflict.or(Some(s));
                } else if let Some(s) = c.eat_kw("RETURNING") {
                    returning = Some(s);
                    break;
                } else {
                    // A closer of the parentheses around the query.
                    c.advance(1);
                }
            }
            let insert = Insert { table, from_select, rows, columns, on_conflict, returning };
            (StatementKind::Insert(insert), "INSERT".into(), first)
        }
        "BEGIN" | "START" => {
            c.advance(1);
            // `START TRANSACTION` is one command: cover both words.
            let head = if w == "START" { c.eat_kw("TRANSACTION").map_or(first, |t| first.to(t)) } else { first };
            (StatementKind::Transaction(TransactionControl::Begin), "BEGIN".into(), head)
        }
        "COMMIT" | "END" => (StatementKind::Transaction(TransactionControl::Commit), "COMMIT".into(), first),
        "ROLLBACK" | "ABORT" => {
            c.advance(1);
            c.eat_kw("WORK");
            c.eat_kw("TRANSACTION");
            if c.eat_kw("TO").is_some() {
                (
                    StatementKind::Transaction(TransactionControl::RollbackToSavepoint),
                    "ROLLBACK TO SAVEPOINT".into(),
                    first,
                )
            } else {
                (StatementKind::Transaction(TransactionControl::Rollback), "ROLLBACK".into(), first)
            }
        }
        "SAVEPOINT" => (StatementKind::Transaction(TransactionControl::Savepoint), w, first),
        "RELEASE" => {
            (StatementKind::Transaction(TransactionControl::ReleaseSavepoint), "RELEASE SAVEPOINT".into(), first)
        }
        "SET" => set(c),
        "VACUUM" => {
            c.advance(1);
            let mut full = false;
            let mut progress = Progress::new();
            while !progress.stalled(c) {
                if c.eat_kw("FULL").is_some() {
                    full = true;
                } else if c.is_tok(|t| matches!(t, Token::LParen)) {
                    let start = c.pos;
                    c.skip_group();
                    full |=
                        c.toks[start..c.pos].iter().any(|t| word_of(t).is_some_and(|w| w.eq_ignore_ascii_case("FULL")));
                } else if c.eat_kw("VERBOSE").or_else(|| c.eat_kw("ANALYZE")).or_else(|| c.eat_kw("FREEZE")).is_none() {
                    break;
                }
            }
            // The head is the command and its options, not the table list.
            let head = first.to(c.last_span());
            let tables = name_list(c);
            let label = if full { "VACUUM FULL" } else { "VACUUM" };
            (StatementKind::Vacuum { full, tables }, label.into(), head)
        }
        "CLUSTER" => {
            c.advance(1);
            c.eat_kw("VERBOSE");
            if c.is_tok(|t| matches!(t, Token::LParen)) {
                c.skip_group();
            }
            let table = c.eat_qualified();
            (StatementKind::Cluster { table }, w, first)
        }
        "REINDEX" => {
            c.advance(1);
            if c.is_tok(|t| matches!(t, Token::LParen)) {
                // REINDEX (CONCURRENTLY, VERBOSE) INDEX …  (PostgreSQL 14 option list)
                let start = c.pos;
                c.skip_group();
                let conc = c.toks[start..c.pos]
                    .iter()
                    .find(|t| word_of(t).is_some_and(|w| w.eq_ignore_ascii_case("CONCURRENTLY")));
                let concurrently = conc.map(|t| span_of(t));
                return reindex_target(c, first, concurrently);
            }
            reindex_target(c, first, None)
        }
        "RENAME" if c.is_kw_at(1, "TABLE") => rename_tables(c, first),
        "SELECT" => match select_into(c) {
            Some(ct) => (StatementKind::CreateTable(ct), "SELECT INTO".into(), first),
            None => (StatementKind::Other, w, first),
        },
        "REFRESH" => {
            c.advance(1);
            c.eat_kws(&["MATERIALIZED", "VIEW"]);
            let concurrently = c.eat_kw("CONCURRENTLY").is_some();
            match c.eat_qualified() {
                Some(name) => (
                    StatementKind::RefreshMaterializedView { name, concurrently },
                    "REFRESH MATERIALIZED VIEW".into(),
                    first.to(c.last_span()),
                ),
                None => (StatementKind::Other, "REFRESH".into(), first),
            }
        }
        _ => {
            let label = match w.as_str() {
                "COMMENT" | "GRANT" | "REVOKE" | "SECURITY" => c.upper_words(c.pos, 2),
                _ => w,
            };
            (StatementKind::Other, label, first)
        }
    }
}

/// MySQL `RENAME TABLE a TO b [, c TO d …]`: the same fact as `ALTER TABLE a RENAME TO b` (for the
/// first pair). A list that moves another table into a renamed table's name is the atomic swap
/// online schema-change tools finish with: no name disappears, so it stays `Other`.
fn rename_tables(c: &mut Cursor, first: Span) -> (StatementKind, String, Span) {
    c.advance(2);
    let head = first.to(c.last_span());
    let mut pairs = Vec::new();
    let mut progress = Progress::new();
    while !progress.stalled(c) {
        let start = c.pos;
        let Some(from) = c.eat_qualified() else { break };
        if c.eat_kw("TO").is_none() {
            break;
        }
        let Some(to) = c.eat_qualified() else { break };
        pairs.push((from, to, c.rest_span(start)));
        if c.eat_tok(|t| matches!(t, Token::Comma)).is_none() {
            break;
        }
    }
    let swap = pairs.iter().any(|(from, _, _)| pairs.iter().any(|(_, to, _)| to.key() == from.key()));
    let label = "RENAME TABLE".to_string();
    match pairs.into_iter().next() {
        Some((table, to, span)) if !swap => {
            let Some(to) = to.parts.last().cloned() else { return (StatementKind::Other, label, head) };
            let action = AlterTableAction { action: AlterAction::RenameTable { to }, span, keyword_span: head };
            let at = AlterTable { table, if_exists: false, only: false, actions: vec![action] };
            (StatementKind::AlterTable(at), label, head)
        }
        _ => (StatementKind::Other, label, head),
    }
}

/// `SELECT … INTO [TEMP|UNLOGGED] [TABLE] name FROM …`: PostgreSQL's other `CREATE TABLE … AS`.
/// The `INTO` must come before any top-level `FROM` (MySQL's `… FROM t INTO OUTFILE` and `INTO
/// @variable` are not tables).
fn select_into(c: &mut Cursor) -> Option<CreateTable> {
    c.advance(1);
    let mut progress = Progress::new();
    while !c.at_end() && !c.is_kw("INTO") && !progress.stalled(c) {
        if c.is_any_kw(&["FROM", "UNION", "WHERE"]) {
            return None;
        }
        if c.skip_group().is_none() {
            c.advance(1);
        }
    }
    c.eat_kw("INTO")?;
    let mut temporary = false;
    while let Some(w) = ["TEMP", "TEMPORARY", "UNLOGGED", "TABLE"].iter().find(|w| c.is_kw(w)) {
        temporary |= w.starts_with("TEMP");
        c.advance(1);
    }
    if c.is_any_kw(&["OUTFILE", "DUMPFILE"]) {
        return None;
    }
    let name = c.eat_qualified()?;
    if name.parts.iter().any(|p| p.value.starts_with('@')) {
        return None;
    }
    Some(CreateTable {
        name,
        if_not_exists: false,
        temporary,
        columns: Vec::new(),
        constraints: Vec::new(),
        columns_implicit: true,
        filled_by_query: true,
        select_into: true,
    })
}

fn reindex_target(c: &mut Cursor, first: Span, mut concurrently: Option<Span>) -> (StatementKind, String, Span) {
    let target = c.peek().and_then(word_of).map(str::to_ascii_uppercase).unwrap_or_default();
    if matches!(target.as_str(), "INDEX" | "TABLE" | "SCHEMA" | "DATABASE" | "SYSTEM") {
        c.advance(1);
    }
    if let Some(s) = c.eat_kw("CONCURRENTLY") {
        concurrently = Some(s);
    }
    let head = first.to(c.last_span());
    let name = c.eat_qualified();
    (StatementKind::Reindex(Reindex { target, name, concurrently }), "REINDEX".into(), head)
}

fn has_kw_ahead(c: &Cursor, kw: &str) -> bool {
    c.rest().iter().any(|t| word_of(t).is_some_and(|w| w.eq_ignore_ascii_case(kw)))
}

fn name_list(c: &mut Cursor) -> Vec<QualifiedName> {
    let mut out = Vec::new();
    let mut progress = Progress::new();
    while !progress.stalled(c) {
        c.eat_kw("ONLY");
        if c.is_any_kw(&["CASCADE", "RESTRICT", "RESTART", "CONTINUE"]) {
            break;
        }
        let Some(n) = c.eat_qualified() else { break };
        out.push(n);
        c.eat_tok(|t| matches!(t, Token::Mul));
        if c.eat_tok(|t| matches!(t, Token::Comma)).is_none() {
            break;
        }
    }
    out
}

fn data_change(c: &mut Cursor, table: QualifiedName) -> DataChange {
    // Find a top-level WHERE.
    let mut where_clause = None;
    let mut whole_table = true;
    let mut progress = Progress::new();
    while !c.at_end() && !progress.stalled(c) {
        if c.is_tok(|t| matches!(t, Token::LParen)) {
            c.skip_group();
            continue;
        }
        if let Some(w) = c.eat_kw("WHERE") {
            let body_start = c.pos;
            let body = c.skip_until_top_level(|c| c.is_kw("RETURNING"));
            where_clause = Some(w.to(body.unwrap_or(w)));
            let toks = &c.toks[body_start..c.pos];
            let bounded = toks.iter().enumerate().any(|(i, t)| {
                bounding_comparison(toks, i)
                    || word_of(t).is_some_and(|w| {
                        ["BETWEEN", "IN", "LIMIT", "EXISTS", "ANY", "LIKE", "CURRENT"]
                            .iter()
                            .any(|k| w.eq_ignore_ascii_case(k))
                    })
            });
            whole_table = !bounded;
            break;
        }
        if c.is_kw("LIMIT") {
            // MySQL `UPDATE … LIMIT n` / `DELETE … LIMIT n` without WHERE: one batch.
            whole_table = false;
        }
        c.advance(1);
    }
    DataChange { table, where_clause, whole_table }
}

/// What one side of a comparison in a `WHERE` is, as far as bounding rows goes.
#[derive(PartialEq)]
enum Operand {
    Column,
    Literal,
    /// A function call, subquery, expression or anything else that may bound the rows.
    Other,
}

pub(crate) fn literal_token(t: &Tok) -> bool {
    matches!(
        t.token,
        Token::Number(..)
            | Token::SingleQuotedString(_)
            | Token::DoubleQuotedString(_)
            | Token::NationalStringLiteral(_)
            | Token::EscapedStringLiteral(_)
            | Token::DollarQuotedString(_)
            | Token::HexStringLiteral(_)
            | Token::Placeholder(_)
    ) || word_of(t).is_some_and(|w| ["TRUE", "FALSE", "NULL"].iter().any(|k| w.eq_ignore_ascii_case(k)))
}

/// Whether the comparison operator at `toks[i]` bounds the rows a `WHERE` touches: `id < 1000`,
/// `status = 'x'`, `created_at < now()` do; a join condition (`orders.customer_id = c.id`) and a
/// tautology (`1 = 1`) do not.
fn bounding_comparison(toks: &[&Tok], i: usize) -> bool {
    if !matches!(toks[i].token, Token::Eq | Token::Lt | Token::Gt | Token::LtEq | Token::GtEq) {
        return false;
    }
    let left = match i.checked_sub(1).map(|p| toks[p]) {
        Some(t) if literal_token(t) => Operand::Literal,
        Some(t) if matches!(t.token, Token::Word(_)) => Operand::Column,
        _ => Operand::Other,
    };
    let right = match toks.get(i + 1) {
        Some(t) if literal_token(t) => Operand::Literal,
        Some(t) if matches!(t.token, Token::Word(_)) => {
            let next = toks.get(i + 2).map(|n| &n.token);
            let call_or_typed_literal =
                matches!(next, Some(Token::LParen)) || toks.get(i + 2).is_some_and(|n| literal_token(n));
            let special = word_of(t).is_some_and(|w| {
                ["CURRENT_DATE", "CURRENT_TIME", "CURRENT_TIMESTAMP", "LOCALTIME", "LOCALTIMESTAMP", "INTERVAL"]
                    .iter()
                    .any(|k| w.eq_ignore_ascii_case(k))
            });
            if call_or_typed_literal || special {
                Operand::Other
            } else {
                Operand::Column
            }
        }
        _ => Operand::Other,
    };
    !(left == right && left != Operand::Other)
}

fn set(c: &mut Cursor) -> (StatementKind, String, Span) {
    let first = c.here();
    c.advance(1);
    let local = c.eat_kw("LOCAL").is_some();
    c.eat_kw("SESSION");
    // `SET TIME ZONE x` is `SET timezone = x`.
    let name = if c.eat_kws(&["TIME", "ZONE"]).is_some() {
        "timezone".to_string()
    } else {
        let Some(name) = c.eat_qualified() else { return (StatementKind::Other, "SET".into(), first) };
        name.to_string()
    };
    if c.eat_kw("TO").is_none() {
        c.eat_tok(|t| matches!(t, Token::Eq));
    }
    let mut value = String::new();
    while let Some(t) = c.peek() {
        if matches!(t.token, Token::SemiColon) {
            break;
        }
        let piece = match &t.token {
            Token::SingleQuotedString(s) => s.clone(),
            other => other.to_string(),
        };
        if !value.is_empty() {
            value.push(' ');
        }
        value.push_str(&piece);
        c.advance(1);
    }
    (StatementKind::Set(SetParameter { name, value, local }), "SET".into(), first)
}

fn create(c: &mut Cursor) -> (StatementKind, String, Span) {
    let first = c.here();
    c.advance(1); // CREATE
    let or_replace = c.eat_kws(&["OR", "REPLACE"]).is_some();
    let mut temporary = false;
    loop {
        if c.eat_kw("TEMP").or_else(|| c.eat_kw("TEMPORARY")).is_some() {
            temporary = true;
        } else if c.eat_kw("GLOBAL").or_else(|| c.eat_kw("LOCAL")).or_else(|| c.eat_kw("UNLOGGED")).is_none() {
            break;
        }
    }
    let unique = c.eat_kw("UNIQUE").is_some();
    if c.is_kw("INDEX") {
        c.advance(1);
        let head = first.to(c.last_span());
        return create_index(c, unique, head);
    }
    if c.is_kw("TABLE") {
        c.advance(1);
        let head = first.to(c.last_span());
        return create_table(c, temporary, head);
    }
    // CREATE [OR REPLACE] [CONSTRAINT] TRIGGER name … ON table
    if c.is_kw("TRIGGER") || (c.is_kw("CONSTRAINT") && c.is_kw_at(1, "TRIGGER")) {
        while !c.at_end() && !c.is_kw("TRIGGER") {
            c.advance(1);
        }
        c.eat_kw("TRIGGER");
        let name = if c.is_kw("ON") { None } else { c.eat_name() };
        while !c.at_end() && !c.is_kw("ON") {
            c.advance(1);
        }
        let table = c.eat_kw("ON").and_then(|_| c.eat_qualified());
        return (StatementKind::CreateTrigger { table, name, or_replace }, "CREATE TRIGGER".into(), first);
    }
    if c.is_kw("FUNCTION") || c.is_kw("PROCEDURE") {
        let label = format!("CREATE {}", c.upper_words(c.pos, 1));
        c.advance(1);
        return match c.eat_qualified() {
            Some(name) => {
                let volatility = volatility_clause(c);
                (StatementKind::CreateFunction(CreateFunction { name, or_replace, volatility }), label, first)
            }
            None => (StatementKind::Other, label, first),
        };
    }
    if c.is_kw("EXTENSION") {
        c.advance(1);
        let if_not_exists = c.eat_kws(&["IF", "NOT", "EXISTS"]).is_some();
        let Some(name) = c.eat_name() else { return (StatementKind::Other, "CREATE EXTENSION".into(), first) };
        c.eat_kw("WITH");
        let schema = c.eat_kw("SCHEMA").and_then(|_| c.eat_name());
        let ext = CreateExtension { name, if_not_exists, schema };
        return (StatementKind::CreateExtension(ext), "CREATE EXTENSION".into(), first);
    }
    let mut label = String::from("CREATE");
    for w in c.rest().iter().take(2).map_while(|t| word_of(t)) {
        let up = w.to_ascii_uppercase();
        label.push(' ');
        label.push_str(&up);
        if up != "MATERIALIZED" && up != "TEXT" && up != "FOREIGN" && up != "EVENT" && up != "ACCESS" {
            break;
        }
    }
    let object = match label.as_str() {
        "CREATE VIEW" => ObjectKind::View,
        "CREATE MATERIALIZED VIEW" => ObjectKind::MaterializedView,
        "CREATE SEQUENCE" => ObjectKind::Sequence,
        "CREATE TYPE" | "CREATE DOMAIN" => ObjectKind::Type,
        "CREATE SCHEMA" => ObjectKind::Schema,
        "CREATE STATISTICS" => ObjectKind::Statistics,
        _ => return (StatementKind::Other, label, first),
    };
    match create_object(c, object, or_replace) {
        Some(co) if !temporary => (StatementKind::CreateObject(co), label, first),
        _ => (StatementKind::Other, label, first),
    }
}

/// The `IMMUTABLE`, `STABLE` or `VOLATILE` among a function's options, with the cursor after its
/// name: the argument list and the body (a string, or `BEGIN ATOMIC … END` / `RETURN expr`, where
/// the search stops) are skipped. The last one written wins, as in PostgreSQL.
fn volatility_clause(c: &mut Cursor) -> Option<Volatility> {
    let mut found = None;
    let mut progress = Progress::new();
    while !c.at_end() && !progress.stalled(c) {
        if c.skip_group().is_some() {
            continue;
        }
        let Some(w) = c.peek().and_then(word_of) else {
            c.advance(1);
            continue;
        };
        match w.to_ascii_uppercase().as_str() {
            "BEGIN" | "RETURN" => break,
            "IMMUTABLE" => found = Some(Volatility::Immutable),
            "STABLE" => found = Some(Volatility::Stable),
            "VOLATILE" => found = Some(Volatility::Volatile),
            _ => {}
        }
        c.advance(1);
    }
    found
}

/// `CREATE [OR REPLACE] VIEW|MATERIALIZED VIEW|SEQUENCE|TYPE|DOMAIN|SCHEMA [IF NOT EXISTS] name …`,
/// with the cursor on the object keyword.
fn create_object(c: &mut Cursor, object: ObjectKind, or_replace: bool) -> Option<CreateObject> {
    c.advance(if object == ObjectKind::MaterializedView { 2 } else { 1 });
    let if_not_exists = c.eat_kws(&["IF", "NOT", "EXISTS"]).is_some();
    // `CREATE SCHEMA AUTHORIZATION role` names the schema after the role: not modelled.
    if object == ObjectKind::Schema && c.is_kw("AUTHORIZATION") {
        return None;
    }
    let name = c.eat_qualified()?;
    let mut enum_labels = None;
    if object == ObjectKind::Type && c.eat_kws(&["AS", "ENUM"]).is_some() {
        let start = c.pos;
        c.skip_group();
        let labels = c.toks[start..c.pos]
            .iter()
            .filter_map(|t| match &t.token {
                Token::SingleQuotedString(s) => Some(s.clone()),
                _ => None,
            })
            .collect();
        enum_labels = Some(labels);
    }
    let mut owned_by = None;
    let mut reads = Vec::new();
    let mut on = None;
    match object {
        ObjectKind::Sequence => owned_by = owned_by_clause(c).flatten(),
        ObjectKind::View | ObjectKind::MaterializedView => reads = relations_read(c),
        ObjectKind::Statistics => {
            c.skip_until_top_level(|c| c.is_kw("FROM"));
            on = c.eat_kw("FROM").and_then(|_| c.eat_qualified());
        }
        _ => {}
    }
    Some(CreateObject { object, name, if_not_exists, or_replace, enum_labels, owned_by, reads, on })
}

/// `OWNED BY table.column` or `OWNED BY NONE` among a sequence's options: `None` when the
/// statement does not say, `Some(None)` for `NONE`.
fn owned_by_clause(c: &mut Cursor) -> Option<Option<QualifiedName>> {
    let mut progress = Progress::new();
    while !c.at_end() && !progress.stalled(c) {
        if c.eat_kws(&["OWNED", "BY"]).is_some() {
            if c.eat_kw("NONE").is_some() {
                return Some(None);
            }
            return c.eat_qualified().map(Some);
        }
        if c.skip_group().is_none() {
            c.advance(1);
        }
    }
    None
}

/// Words that follow a relation in `FROM` and are not its alias.
const AFTER_RELATION: &[&str] = &[
    "WHERE",
    "GROUP",
    "ORDER",
    "LIMIT",
    "OFFSET",
    "FETCH",
    "HAVING",
    "WINDOW",
    "UNION",
    "EXCEPT",
    "INTERSECT",
    "JOIN",
    "INNER",
    "LEFT",
    "RIGHT",
    "FULL",
    "CROSS",
    "NATURAL",
    "ON",
    "USING",
    "FOR",
    "WITH",
    "TABLESAMPLE",
    "RETURNING",
];

/// The relations a query reads: every name after `FROM` or `JOIN` (and after the commas of a
/// `FROM` list), at any depth. A function in `FROM` is not a relation. Over-reading is harmless
/// (a view thought to depend on a relation it does not read goes with it on a `CASCADE`);
/// missing one would keep a dropped view alive.
fn relations_read(c: &mut Cursor) -> Vec<QualifiedName> {
    // These names are dependencies, not identifiers this statement introduces.
    let seen = c.identifiers.len();
    let mut out = Vec::new();
    // Per parenthesis depth: whether a FROM list is open there (its commas start relations).
    let mut in_from = vec![false];
    let mut progress = Progress::new();
    while !c.at_end() && !progress.stalled(c) {
        if c.eat_tok(|t| matches!(t, Token::LParen)).is_some() {
            in_from.push(false);
            continue;
        }
        if c.eat_tok(|t| matches!(t, Token::RParen)).is_some() {
            in_from.pop();
            if in_from.is_empty() {
                in_from.push(false);
            }
            continue;
        }
        let open = in_from.last().copied().unwrap_or(false);
        if c.is_kw("FROM") || c.is_kw("JOIN") || (open && c.is_tok(|t| matches!(t, Token::Comma))) {
            c.advance(1);
            if let Some(top) = in_from.last_mut() {
                *top = true;
            }
            if let Some(name) = relation(c) {
                out.push(name);
            }
            continue;
        }
        if c.is_any_kw(&[
            "WHERE",
            "GROUP",
            "HAVING",
            "ORDER",
            "LIMIT",
            "OFFSET",
            "FETCH",
            "WINDOW",
            "UNION",
            "EXCEPT",
            "INTERSECT",
            "RETURNING",
        ]) {
            if let Some(top) = in_from.last_mut() {
                *top = false;
            }
        }
        c.advance(1);
    }
    c.identifiers.truncate(seen);
    out
}

/// The relation at the cursor in a `FROM` list, with its alias consumed; `None` for a subquery
/// or a function.
fn relation(c: &mut Cursor) -> Option<QualifiedName> {
    c.eat_kw("ONLY");
    c.eat_kw("LATERAL");
    let name = c.eat_qualified()?;
    if c.is_tok(|t| matches!(t, Token::LParen)) {
        return None;
    }
    c.eat_kw("AS");
    let alias = c.peek().is_some_and(|t| match &t.token {
        Token::Word(w) => w.quote_style.is_some() || !AFTER_RELATION.iter().any(|k| w.value.eq_ignore_ascii_case(k)),
        _ => false,
    });
    if alias {
        c.advance(1);
    }
    Some(name)
}

fn create_index(c: &mut Cursor, unique: bool, head: Span) -> (StatementKind, String, Span) {
    let concurrently = c.eat_kw("CONCURRENTLY");
    let if_not_exists = c.eat_kws(&["IF", "NOT", "EXISTS"]).is_some();
    let name = if c.is_kw("ON") { None } else { c.eat_name() };
    let label = if unique { "CREATE UNIQUE INDEX" } else { "CREATE INDEX" }.to_string();
    if c.eat_kw("ON").is_none() {
        return (StatementKind::Other, label, head);
    }
    let only = c.eat_kw("ONLY").is_some();
    let Some(table) = c.eat_qualified() else { return (StatementKind::Other, label, head) };
    if c.eat_kw("USING").is_some() {
        c.eat_name();
    }
    let mut columns = Vec::new();
    if c.eat_tok(|t| matches!(t, Token::LParen)).is_some() {
        let mut progress = Progress::new();
        loop {
            if c.at_end() || progress.stalled(c) || c.eat_tok(|t| matches!(t, Token::RParen)).is_some() {
                break;
            }
            let key_start = c.pos;
            // A column alone, or followed by its options: ASC, DESC, NULLS, COLLATE or an
            // operator class (`name gin_trgm_ops`); an expression key is a call or in brackets.
            let simple = c.peek_at(1).is_some_and(|t| matches!(t.token, Token::Comma | Token::RParen | Token::Word(_)));
            let key = if simple { c.eat_name().map(|n| n.value) } else { None };
            let span = c.skip_until_top_level(|c| c.is_tok(|t| matches!(t, Token::Comma | Token::RParen)));
            let text = key.unwrap_or_else(|| {
                c.toks[key_start..c.pos].iter().map(|t| t.token.to_string()).collect::<Vec<_>>().join("")
            });
            let _ = span;
            columns.push(text);
            c.eat_tok(|t| matches!(t, Token::Comma));
        }
    }
    let partial = has_kw_ahead(c, "WHERE");
    (
        StatementKind::CreateIndex(CreateIndex {
            name,
            table,
            unique,
            concurrently,
            if_not_exists,
            only,
            columns,
            partial,
        }),
        label,
        head,
    )
}

fn create_table(c: &mut Cursor, temporary: bool, head: Span) -> (StatementKind, String, Span) {
    let if_not_exists = c.eat_kws(&["IF", "NOT", "EXISTS"]).is_some();
    let Some(name) = c.eat_qualified() else { return (StatementKind::Other, "CREATE TABLE".into(), head) };
    let mut columns = Vec::new();
    let mut constraints = Vec::new();
    let mut columns_implicit = true;
    let mut not_null = Vec::new();
    if c.is_kw("PARTITION") || c.is_kw("AS") || c.is_kw("OF") {
        columns_implicit = true;
    } else if c.eat_tok(|t| matches!(t, Token::LParen)).is_some() {
        columns_implicit = false;
        let mut progress = Progress::new();
        loop {
            if c.at_end() || progress.stalled(c) || c.eat_tok(|t| matches!(t, Token::RParen)).is_some() {
                break;
            }
            if let Some(nn) = not_null_constraint(c) {
                not_null.push(nn);
            } else if c.is_any_kw(&["CONSTRAINT", "CHECK", "UNIQUE", "PRIMARY", "FOREIGN"]) || exclude_constraint_at(c)
            {
                if let Some(tc) = table_constraint(c) {
                    constraints.push(tc);
                }
            } else if c.is_kw("LIKE") {
                columns_implicit = true;
            } else if mysql_index_at(c) {
            } else if let Some(col) = column_def(c) {
                columns.push(col);
            }
            c.skip_until_top_level(|c| c.is_tok(|t| matches!(t, Token::Comma | Token::RParen)));
            c.eat_tok(|t| matches!(t, Token::Comma));
        }
        // `INHERITS (parent)` adds the parent's columns to the ones listed; `(a, b) AS SELECT`
        // only names the query's columns.
        columns_implicit |= c.is_kw("INHERITS") || c.is_kw("AS");
    }
    // PostgreSQL 18: `[CONSTRAINT n] NOT NULL col` as a table element makes `col` NOT NULL.
    for nn in not_null.iter().filter(|nn| nn.not_valid.is_none()) {
        if let Some(col) = columns.iter_mut().find(|col| col.name.value == nn.column.value) {
            col.not_null.get_or_insert(nn.span);
        }
    }
    let filled_by_query = c.is_kw("AS") && !ends_with_no_data(c);
    (
        StatementKind::CreateTable(CreateTable {
            name,
            if_not_exists,
            temporary,
            columns,
            constraints,
            columns_implicit,
            filled_by_query,
            select_into: false,
        }),
        "CREATE TABLE".into(),
        head,
    )
}

/// `… WITH NO DATA` ends the statement: `CREATE TABLE … AS` makes the table empty.
fn ends_with_no_data(c: &Cursor) -> bool {
    let words: Vec<String> = c
        .rest()
        .iter()
        .filter(|t| !matches!(t.token, Token::SemiColon))
        .rev()
        .take(3)
        .filter_map(|t| word_of(t).map(str::to_ascii_uppercase))
        .collect();
    words == ["DATA", "NO", "WITH"]
}

/// A PostgreSQL 18 not-null constraint: `[CONSTRAINT name] NOT NULL column [NO INHERIT] [NOT
/// VALID]` (a table element, or what `ALTER TABLE … ADD` adds).
struct NotNullConstraint {
    column: Name,
    not_valid: Option<Span>,
    /// From `CONSTRAINT` (or `NOT`) to the column.
    span: Span,
}

fn not_null_constraint(c: &mut Cursor) -> Option<NotNullConstraint> {
    let at = if c.is_kw("CONSTRAINT") { 2 } else { 0 };
    if !(c.is_kw_at(at, "NOT") && c.is_kw_at(at + 1, "NULL")) {
        return None;
    }
    let start = c.here();
    let seen = c.identifiers.len();
    let back = c.pos;
    c.advance(at + 2);
    let Some(column) = c.eat_name() else {
        c.identifiers.truncate(seen);
        c.pos = back;
        return None;
    };
    let span = start.to(column.span);
    c.eat_kws(&["NO", "INHERIT"]);
    let not_valid = c.eat_kws(&["NOT", "VALID"]);
    Some(NotNullConstraint { column, not_valid, span })
}

/// `EXCLUDE [USING method] (…)` is a constraint; `exclude boolean` is a column.
fn exclude_constraint_at(c: &Cursor) -> bool {
    c.is_kw("EXCLUDE") && (c.is_kw_at(1, "USING") || c.peek_at(1).is_some_and(|t| matches!(t.token, Token::LParen)))
}

/// MySQL's index definitions in a table body or `ALTER TABLE … ADD`: `KEY|INDEX [name] [USING
/// method] (cols)`, `FULLTEXT|SPATIAL [KEY|INDEX] …` (and ClickHouse's `INDEX name expr TYPE …`). A column named `key` or `index` (both
/// non-reserved in PostgreSQL) is followed by its type instead: `key text`, `key varchar(20)`.
fn mysql_index_at(c: &Cursor) -> bool {
    if !c.is_any_kw(&["KEY", "INDEX", "FULLTEXT", "SPATIAL"]) {
        return false;
    }
    let n =
        if c.is_any_kw(&["FULLTEXT", "SPATIAL"]) && (c.is_kw_at(1, "KEY") || c.is_kw_at(1, "INDEX")) { 2 } else { 1 };
    let token = |k: usize| c.peek_at(k).map(|t| &t.token);
    // ClickHouse: `INDEX name expr TYPE minmax GRANULARITY 1`.
    let (mut k, mut depth) = (n, 0usize);
    while let Some(t) = token(k) {
        match t {
            Token::LParen => depth += 1,
            Token::RParen if depth > 0 => depth -= 1,
            Token::Comma if depth > 0 => {}
            Token::Comma | Token::RParen | Token::SemiColon => break,
            _ if depth == 0 && c.is_kw_at(k, "TYPE") && k > n + 1 => return true,
            _ => {}
        }
        k += 1;
    }
    match token(n) {
        Some(Token::LParen) => true,
        _ if c.is_kw_at(n, "USING") => true,
        Some(Token::Word(_) | Token::DoubleQuotedString(_)) => match token(n + 1) {
            // `key varchar (20)`: a type modifier, not a key list.
            Some(Token::LParen) => !matches!(token(n + 2), Some(Token::Number(..))),
            _ => c.is_kw_at(n + 1, "USING"),
        },
        _ => false,
    }
}

/// Reads a column type starting at the cursor.
fn type_name(c: &mut Cursor) -> Option<TypeName> {
    let start = c.pos;
    let first = c.peek()?;
    let Token::Word(w) = &first.token else { return None };
    if w.quote_style.is_none()
        && COLUMN_CONSTRAINT_WORDS.iter().any(|k| w.value.eq_ignore_ascii_case(k))
        && !w.value.eq_ignore_ascii_case("CHARACTER")
    {
        return None;
    }
    let mut words: Vec<String> = Vec::new();
    // Qualified type names: public.citext
    let qualified = c.eat_qualified()?;
    // A quoted name is the catalog's exact type name: `"char"` is the one-byte internal type, not
    // `char(1)`, so it must not be canonicalised like the SQL keyword.
    let quoted = qualified.parts.last().is_some_and(|n| n.quoted);
    words.push(qualified.name().to_string());
    // Multi-word types.
    let multi: &[&[&str]] = &[&["VARYING"], &["PRECISION"], &["WITH", "TIME", "ZONE"], &["WITHOUT", "TIME", "ZONE"]];
    let mut modifiers = Vec::new();
    let mut progress = Progress::new();
    while !progress.stalled(c) {
        if let Some(group) = multi.iter().find(|g| g.iter().enumerate().all(|(i, k)| c.is_kw_at(i, k))) {
            for k in group.iter() {
                words.push(k.to_ascii_lowercase());
            }
            c.advance(group.len());
            continue;
        }
        if c.is_tok(|t| matches!(t, Token::LParen)) {
            let g_start = c.pos;
            c.skip_group();
            for t in &c.toks[g_start..c.pos] {
                if let Token::Number(n, _) = &t.token {
                    if let Ok(v) = n.parse::<i64>() {
                        modifiers.push(v);
                    }
                }
            }
            continue;
        }
        break;
    }
    let mut array = false;
    while c.is_tok(|t| matches!(t, Token::LBracket)) {
        c.skip_group();
        array = true;
    }
    if c.eat_kw("ARRAY").is_some() {
        array = true;
        if c.is_tok(|t| matches!(t, Token::LBracket)) {
            c.skip_group();
        }
    }
    // MySQL attributes that belong to the type.
    while c.eat_kw("UNSIGNED").or_else(|| c.eat_kw("SIGNED")).or_else(|| c.eat_kw("ZEROFILL")).is_some() {}
    let span = span_of(c.toks[start]).to(c.last_span());
    let text = c.toks[start..c.pos].iter().map(|t| t.token.to_string()).collect::<Vec<_>>().join(" ");
    let written = words.join(" ");
    let canonical = if quoted { written } else { canonical_type(&written, &modifiers) };
    Some(TypeName { canonical, modifiers, array, text, span })
}

pub fn canonical_type(written: &str, modifiers: &[i64]) -> String {
    let s = written.to_ascii_lowercase();
    let c = match s.as_str() {
        "int" | "integer" | "int4" | "mediumint" => "int4",
        "bigint" | "int8" => "int8",
        "smallint" | "int2" | "tinyint" => "int2",
        "serial" | "serial4" => "serial4",
        "bigserial" | "serial8" => "serial8",
        "smallserial" | "serial2" => "serial2",
        "varchar" | "character varying" | "nvarchar" => "varchar",
        "char" | "character" | "bpchar" | "nchar" => "bpchar",
        "timestamp" | "timestamp without time zone" | "datetime" => "timestamp",
        "timestamptz" | "timestamp with time zone" => "timestamptz",
        "time" | "time without time zone" => "time",
        "timetz" | "time with time zone" => "timetz",
        "decimal" | "numeric" => "numeric",
        "real" | "float4" => "float4",
        "double precision" | "float8" | "double" => "float8",
        "float" => {
            if modifiers.first().is_some_and(|p| *p <= 24) {
                "float4"
            } else {
                "float8"
            }
        }
        "boolean" | "bool" => "bool",
        "varbit" | "bit varying" => "varbit",
        other => return other.to_string(),
    };
    c.to_string()
}

fn default_expr(c: &mut Cursor, kw: Span) -> DefaultExpr {
    let start = c.pos;
    // The first token always belongs to the expression (`DEFAULT NULL`, `DEFAULT NOT …` is rare).
    if c.is_tok(|t| matches!(t, Token::LParen)) {
        c.skip_group();
    } else if !c.at_end() {
        c.advance(1);
    }
    c.skip_until_top_level(|c| {
        c.is_tok(|t| matches!(t, Token::Comma))
            || c.peek().and_then(word_of).is_some_and(|w| {
                COLUMN_CONSTRAINT_WORDS.iter().any(|k| w.eq_ignore_ascii_case(k))
                    && !w.eq_ignore_ascii_case("CHARACTER")
            })
    });
    let toks = &c.toks[start..c.pos];
    let text = toks.iter().map(|t| t.token.to_string()).collect::<Vec<_>>().join(" ");
    let is_null = toks.len() == 1 && word_of(toks[0]).is_some_and(|w| w.eq_ignore_ascii_case("NULL"));
    let calls = function_calls(toks);
    let volatile = calls
        .iter()
        .find(|f| builtin_volatility(f.name()) == Some(Volatility::Volatile))
        .map(|f| format!("{}()", f.name()));
    let span = kw.to(c.last_span());
    DefaultExpr { text, span, volatile, is_null, calls }
}

fn column_def(c: &mut Cursor) -> Option<ColumnDef> {
    let name = c.eat_name()?;
    let ty = type_name(c);
    let mut col = ColumnDef {
        name: name.clone(),
        ty,
        not_null: None,
        primary_key: None,
        unique: None,
        default: None,
        generated: None,
        references: None,
        check: None,
        span: name.span,
    };
    let mut progress = Progress::new();
    loop {
        if c.at_end() || c.is_tok(|t| matches!(t, Token::Comma | Token::RParen)) || progress.stalled(c) {
            break;
        }
        if c.eat_kw("CONSTRAINT").is_some() {
            c.eat_name();
        } else if let Some(s) = c.eat_kws(&["NOT", "NULL"]) {
            col.not_null = Some(s);
        } else if c.eat_kw("NULL").is_some() {
        } else if let Some(kw) = c.eat_kw("DEFAULT") {
            col.default = Some(default_expr(c, kw));
        } else if let Some(s) = c.eat_kws(&["PRIMARY", "KEY"]) {
            col.primary_key = Some(s);
            col.not_null.get_or_insert(s);
        } else if let Some(s) = c.eat_kw("UNIQUE") {
            col.unique = Some(s);
            c.eat_kws(&["NULLS", "NOT", "DISTINCT"]);
            c.eat_kws(&["NULLS", "DISTINCT"]);
        } else if c.is_kw("REFERENCES") {
            col.references = references(c, vec![name.clone()]);
        } else if let Some(kw) = c.eat_kw("CHECK") {
            let g = c.skip_group().unwrap_or(kw);
            col.check = Some(kw.to(g));
            c.eat_kws(&["NO", "INHERIT"]);
        } else if let Some(kw) = c.eat_kw("GENERATED") {
            c.eat_kw("ALWAYS");
            c.eat_kws(&["BY", "DEFAULT"]);
            c.eat_kw("AS");
            if c.eat_kw("IDENTITY").is_some() {
                if c.is_tok(|t| matches!(t, Token::LParen)) {
                    c.skip_group();
                }
                col.generated = Some(Generated { identity: true, stored: false, span: kw.to(c.last_span()) });
                col.not_null.get_or_insert(kw.to(c.last_span()));
            } else {
                c.skip_group();
                let stored = c.eat_kw("STORED").is_some();
                col.generated = Some(Generated { identity: false, stored, span: kw.to(c.last_span()) });
            }
        } else if c.eat_kw("COLLATE").is_some() {
            c.eat_qualified();
        } else if c.eat_kw("AS").is_some() {
            // MySQL/SQLite generated column: AS (expr) [STORED|VIRTUAL]
            let kw = c.last_span();
            c.skip_group();
            let stored = c.eat_kw("STORED").is_some();
            c.eat_kw("VIRTUAL");
            col.generated = Some(Generated { identity: false, stored, span: kw.to(c.last_span()) });
        } else if let Some(s) = c.eat_kw("AUTO_INCREMENT").or_else(|| c.eat_kw("AUTOINCREMENT")) {
            col.generated = Some(Generated { identity: true, stored: false, span: s });
        } else if c.is_tok(|t| matches!(t, Token::LParen)) {
            c.skip_group();
        } else {
            c.advance(1);
        }
    }
    col.span = name.span.to(c.last_span());
    Some(col)
}

fn references(c: &mut Cursor, columns: Vec<Name>) -> Option<ForeignKey> {
    let kw = c.eat_kw("REFERENCES")?;
    let ref_table = c.eat_qualified()?;
    let ref_columns = if c.is_tok(|t| matches!(t, Token::LParen)) { c.paren_names() } else { Vec::new() };
    // MATCH …, ON DELETE …, ON UPDATE …, [NOT] DEFERRABLE, INITIALLY …
    let mut progress = Progress::new();
    while !progress.stalled(c) {
        if c.eat_kw("MATCH").is_some() {
            c.advance(1);
        } else if c.eat_kw("ON").is_some() {
            c.advance(1); // DELETE / UPDATE
            if c.eat_kws(&["SET", "NULL"])
                .or_else(|| c.eat_kws(&["SET", "DEFAULT"]))
                .or_else(|| c.eat_kws(&["NO", "ACTION"]))
                .is_none()
            {
                c.advance(1);
            }
            if c.is_tok(|t| matches!(t, Token::LParen)) {
                c.skip_group();
            }
        } else if c.eat_kws(&["NOT", "DEFERRABLE"]).or_else(|| c.eat_kw("DEFERRABLE")).is_some() {
        } else if c.eat_kw("INITIALLY").is_some() {
            c.advance(1);
        } else {
            break;
        }
    }
    Some(ForeignKey { columns, ref_table, ref_columns, span: kw.to(c.last_span()) })
}

fn table_constraint(c: &mut Cursor) -> Option<TableConstraint> {
    let start = c.here();
    let name = if c.eat_kw("CONSTRAINT").is_some() { c.eat_name() } else { None };
    let mut using_index = None;
    let mut check_words = Vec::new();
    let kind_start = c.here();
    let kind = if c.eat_kw("CHECK").is_some() {
        let kind_span = c.last_span();
        let g_start = c.pos;
        c.skip_group();
        let inner: Vec<&Tok> = c.toks[g_start..c.pos]
            .iter()
            .copied()
            .filter(|t| !matches!(t.token, Token::LParen | Token::RParen))
            .collect();
        let not_null_of = match inner.as_slice() {
            [col, is, not, null]
                if word_of(is).is_some_and(|w| w.eq_ignore_ascii_case("IS"))
                    && word_of(not).is_some_and(|w| w.eq_ignore_ascii_case("NOT"))
                    && word_of(null).is_some_and(|w| w.eq_ignore_ascii_case("NULL")) =>
            {
                match &col.token {
                    Token::Word(w) if w.quote_style.is_some() => Some(w.value.clone()),
                    Token::Word(w) => Some(w.value.to_lowercase()),
                    _ => None,
                }
            }
            _ => None,
        };
        c.eat_kws(&["NO", "INHERIT"]);
        let _ = kind_span;
        check_words = c.toks[g_start..c.pos]
            .iter()
            .enumerate()
            .filter(|(i, _)| {
                let next = c.toks.get(g_start + i + 1).map(|t| &t.token);
                let prev = (g_start + i).checked_sub(1).map(|p| &c.toks[p].token);
                !matches!(next, Some(Token::LParen)) && !matches!(prev, Some(Token::DoubleColon | Token::Period))
            })
            .filter_map(|(_, t)| match &t.token {
                Token::Word(w) if w.quote_style.is_some() => Some(w.value.clone()),
                Token::Word(w) => Some(w.value.to_lowercase()),
                _ => None,
            })
            .collect();
        ConstraintKind::Check { not_null_of }
    } else if c.eat_kws(&["FOREIGN", "KEY"]).is_some() {
        if !c.is_tok(|t| matches!(t, Token::LParen)) {
            c.eat_name(); // MySQL: FOREIGN KEY name (cols)
        }
        let cols = c.paren_names();
        let fk = references(c, cols)?;
        ConstraintKind::ForeignKey(fk)
    } else if c.eat_kw("UNIQUE").is_some() {
        c.eat_kws(&["NULLS", "NOT", "DISTINCT"]);
        c.eat_kws(&["NULLS", "DISTINCT"]);
        c.eat_kw("KEY");
        c.eat_kw("INDEX");
        if c.eat_kws(&["USING", "INDEX"]).is_some() {
            using_index = c.eat_name();
            ConstraintKind::Unique { columns: Vec::new() }
        } else {
            if !c.is_tok(|t| matches!(t, Token::LParen)) {
                c.eat_name(); // MySQL: UNIQUE KEY name (cols)
            }
            ConstraintKind::Unique { columns: c.paren_names() }
        }
    } else if c.eat_kws(&["PRIMARY", "KEY"]).is_some() {
        if c.eat_kws(&["USING", "INDEX"]).is_some() {
            using_index = c.eat_name();
            ConstraintKind::PrimaryKey { columns: Vec::new() }
        } else {
            ConstraintKind::PrimaryKey { columns: c.paren_names() }
        }
    } else if c.eat_kw("EXCLUDE").is_some() {
        ConstraintKind::Exclude
    } else {
        return None;
    };
    let kind_span = match &kind {
        ConstraintKind::ForeignKey(_) | ConstraintKind::PrimaryKey { .. } => kind_start.to(c
            .toks
            .get(c.toks.iter().position(|t| span_of(t) == kind_start).unwrap_or(0) + 1)
            .map(|t| span_of(t))
            .unwrap_or(kind_start)),
        _ => kind_start,
    };
    // The rest of the constraint: options, deferrability, NOT VALID.
    let mut not_valid = None;
    let mut progress = Progress::new();
    while !c.at_end() && !c.is_tok(|t| matches!(t, Token::Comma | Token::RParen)) && !progress.stalled(c) {
        if let Some(s) = c.eat_kws(&["NOT", "VALID"]) {
            not_valid = Some(s);
        } else if c.is_tok(|t| matches!(t, Token::LParen)) {
            c.skip_group();
        } else {
            c.advance(1);
        }
    }
    Some(TableConstraint { name, kind, not_valid, using_index, check_words, span: start.to(c.last_span()), kind_span })
}

fn alter(c: &mut Cursor) -> (StatementKind, String, Span) {
    let first = c.here();
    if !c.is_kw_at(1, "TABLE") {
        let label = c.upper_words(c.pos, 2);
        let label = if label == "ALTER MATERIALIZED" { "ALTER MATERIALIZED VIEW".into() } else { label };
        let object = match label.as_str() {
            "ALTER INDEX" => ObjectKind::Index,
            "ALTER VIEW" => ObjectKind::View,
            "ALTER MATERIALIZED VIEW" => ObjectKind::MaterializedView,
            "ALTER SEQUENCE" => ObjectKind::Sequence,
            "ALTER TYPE" | "ALTER DOMAIN" => ObjectKind::Type,
            "ALTER TRIGGER" => ObjectKind::Trigger,
            "ALTER STATISTICS" => ObjectKind::Statistics,
            "ALTER FUNCTION" => {
                return match alter_function(c) {
                    Some(af) => (StatementKind::AlterFunction(af), label, first),
                    None => (StatementKind::Other, label, first),
                }
            }
            _ => return (StatementKind::Other, label, first),
        };
        return match alter_object(c, object) {
            Some(ao) => (StatementKind::AlterObject(ao), label, first),
            None => (StatementKind::Other, label, first),
        };
    }
    c.advance(2);
    let if_exists = c.eat_kws(&["IF", "EXISTS"]).is_some();
    let only = c.eat_kw("ONLY").is_some();
    let head = first.to(c.last_span());
    let Some(table) = c.eat_qualified() else { return (StatementKind::Other, "ALTER TABLE".into(), head) };
    c.eat_tok(|t| matches!(t, Token::Mul));
    let mut actions = Vec::new();
    let mut progress = Progress::new();
    while !c.at_end() && !progress.stalled(c) {
        let start = c.pos;
        if let Some(action) = alter_action(c) {
            actions.push(action);
        }
        // Move to the next top-level comma.
        c.skip_until_top_level(|c| c.is_tok(|t| matches!(t, Token::Comma)));
        if c.eat_tok(|t| matches!(t, Token::Comma)).is_none() && c.pos == start {
            c.advance(1);
        }
    }
    (StatementKind::AlterTable(AlterTable { table, if_exists, only, actions }), "ALTER TABLE".into(), head)
}

/// `ALTER INDEX|VIEW|MATERIALIZED VIEW|SEQUENCE|TYPE|DOMAIN [IF EXISTS] name …`, with the cursor on
/// `ALTER`.
fn alter_object(c: &mut Cursor, object: ObjectKind) -> Option<AlterObject> {
    c.advance(if object == ObjectKind::MaterializedView { 3 } else { 2 });
    let if_exists = c.eat_kws(&["IF", "EXISTS"]).is_some();
    let name = c.eat_qualified()?;
    let on = if object == ObjectKind::Trigger { c.eat_kw("ON").and_then(|_| c.eat_qualified()) } else { None };
    let string_at = |c: &Cursor| match c.peek().map(|t| &t.token) {
        Some(Token::SingleQuotedString(s)) => Some(s.clone()),
        _ => None,
    };
    let action = if c.eat_kws(&["RENAME", "TO"]).is_some() {
        AlterObjectAction::Rename { to: c.eat_name()? }
    } else if c.eat_kws(&["ADD", "VALUE"]).is_some() {
        let if_not_exists = c.eat_kws(&["IF", "NOT", "EXISTS"]).is_some();
        let label = string_at(c)?;
        let span = c.here();
        c.advance(1);
        AlterObjectAction::AddValue { label, if_not_exists, span }
    } else if c.eat_kws(&["RENAME", "VALUE"]).is_some() {
        let from = string_at(c)?;
        c.advance(1);
        c.eat_kw("TO")?;
        let to = string_at(c)?;
        AlterObjectAction::RenameValue { from, to }
    } else if object == ObjectKind::Sequence {
        match owned_by_clause(c) {
            Some(owner) => AlterObjectAction::OwnedBy { owner },
            None => AlterObjectAction::Other,
        }
    } else {
        AlterObjectAction::Other
    };
    Some(AlterObject { object, name, if_exists, action, on })
}

/// `ALTER FUNCTION name [(…)] …` that sets a volatility or renames the function; `None` for
/// anything else (`OWNER TO`, `SET search_path`, …).
fn alter_function(c: &mut Cursor) -> Option<AlterFunction> {
    c.advance(2);
    let name = c.eat_qualified()?;
    c.skip_group();
    let rename_to = c.eat_kws(&["RENAME", "TO"]).and_then(|_| c.eat_name());
    let volatility = if rename_to.is_none() { volatility_clause(c) } else { None };
    (rename_to.is_some() || volatility.is_some()).then_some(AlterFunction { name, volatility, rename_to })
}

fn alter_action(c: &mut Cursor) -> Option<AlterTableAction> {
    let start_idx = c.pos;
    let start = c.here();
    let done = |c: &Cursor, action: AlterAction, kw: Span| -> Option<AlterTableAction> {
        Some(AlterTableAction { action, span: c.rest_span(start_idx), keyword_span: kw })
    };
    if let Some(add) = c.eat_kw("ADD") {
        if let Some(nn) = not_null_constraint(c) {
            // PostgreSQL 18 spells SET NOT NULL as a constraint; `NOT VALID` skips the scan.
            if nn.not_valid.is_some() {
                return done(c, AlterAction::Other("ADD CONSTRAINT NOT NULL NOT VALID".into()), add.to(nn.span));
            }
            return done(c, AlterAction::SetNotNull { column: nn.column }, add.to(nn.span));
        }
        if c.is_any_kw(&["CONSTRAINT", "CHECK", "UNIQUE", "PRIMARY", "FOREIGN"]) || exclude_constraint_at(c) {
            let tc = table_constraint(c)?;
            let kw = add.to(tc.kind_span);
            return done(c, AlterAction::AddConstraint(tc), kw);
        }
        if mysql_index_at(c) || (c.is_kw("PARTITION") && c.peek_at(1).is_some_and(|t| matches!(t.token, Token::LParen)))
        {
            let label = format!("ADD {}", c.peek().and_then(word_of).unwrap_or("").to_ascii_uppercase());
            return done(c, AlterAction::Other(label), add);
        }
        let mut kw = add;
        if let Some(s) = c.eat_kw("COLUMN") {
            kw = kw.to(s);
        }
        let if_not_exists = c.eat_kws(&["IF", "NOT", "EXISTS"]).is_some();
        let column = column_def(c)?;
        return done(c, AlterAction::AddColumn { column, if_not_exists }, kw);
    }
    if let Some(drop) = c.eat_kw("DROP") {
        if let Some(s) = c.eat_kw("CONSTRAINT") {
            let if_exists = c.eat_kws(&["IF", "EXISTS"]).is_some();
            let name = c.eat_name()?;
            return done(c, AlterAction::DropConstraint { name, if_exists }, drop.to(s));
        }
        // MySQL's `DROP INDEX name`, `DROP PRIMARY KEY`, …; a column named `index` or `key`
        // (without the COLUMN keyword) ends the action.
        let column_named_so = c.peek_at(1).is_none_or(|t| matches!(t.token, Token::Comma | Token::SemiColon))
            || c.is_kw_at(1, "CASCADE")
            || c.is_kw_at(1, "RESTRICT");
        if c.is_any_kw(&["INDEX", "KEY", "PRIMARY", "FOREIGN", "PARTITION", "CHECK"]) && !column_named_so {
            let label = format!("DROP {}", c.peek().and_then(word_of).unwrap_or("").to_ascii_uppercase());
            return done(c, AlterAction::Other(label), drop);
        }
        let mut kw = drop;
        if let Some(s) = c.eat_kw("COLUMN") {
            kw = kw.to(s);
        }
        let if_exists = c.eat_kws(&["IF", "EXISTS"]).is_some();
        let name = c.eat_name()?;
        return done(c, AlterAction::DropColumn { name, if_exists }, kw);
    }
    if let Some(kw) = c.eat_kws(&["ALTER", "CONSTRAINT"]) {
        c.eat_name();
        return done(c, AlterAction::Other("ALTER CONSTRAINT".into()), kw);
    }
    if c.is_kw("ALTER") {
        c.advance(1);
        c.eat_kw("COLUMN");
        let column = c.eat_name()?;
        let sub = c.here();
        if c.eat_kws(&["SET", "DATA", "TYPE"]).or_else(|| c.eat_kw("TYPE")).is_some() {
            let kw = sub.to(c.last_span());
            let ty = type_name(c)?;
            let kw = kw.to(ty.span);
            c.eat_kw("COLLATE").map(|_| c.eat_qualified());
            let using = c.eat_kw("USING").map(|u| {
                let rest = c.skip_until_top_level(|c| c.is_tok(|t| matches!(t, Token::Comma)));
                u.to(rest.unwrap_or(u))
            });
            return done(c, AlterAction::AlterColumnType { column, ty, using }, kw);
        }
        if let Some(s) = c.eat_kws(&["SET", "NOT", "NULL"]) {
            return done(c, AlterAction::SetNotNull { column }, s);
        }
        if let Some(s) = c.eat_kws(&["DROP", "NOT", "NULL"]) {
            return done(c, AlterAction::DropNotNull { column }, s);
        }
        if let Some(s) = c.eat_kws(&["SET", "DEFAULT"]) {
            let default = default_expr(c, s);
            let kw = default.span;
            return done(c, AlterAction::SetDefault { column, default }, kw);
        }
        if let Some(s) = c.eat_kws(&["DROP", "DEFAULT"]) {
            return done(c, AlterAction::DropDefault { column }, s);
        }
        let label = format!("ALTER COLUMN {}", c.upper_words(c.pos, 2));
        return done(c, AlterAction::Other(label), start);
    }
    if let Some(v) = c.eat_kws(&["VALIDATE", "CONSTRAINT"]) {
        let name = c.eat_name()?;
        return done(c, AlterAction::ValidateConstraint { name }, v);
    }
    if let Some(r) = c.eat_kw("RENAME") {
        if let Some(to_kw) = c.eat_kw("TO").or_else(|| c.eat_kw("AS")) {
            // MySQL allows `RENAME TO db.new_name`.
            let to = c.eat_qualified()?.parts.pop()?;
            return done(c, AlterAction::RenameTable { to }, r.to(to_kw));
        }
        if c.eat_kw("CONSTRAINT").is_some() {
            let from = c.eat_name()?;
            c.eat_kw("TO");
            let to = c.eat_name()?;
            return done(c, AlterAction::RenameConstraint { from, to }, r);
        }
        if c.is_any_kw(&["INDEX", "KEY"]) {
            return done(c, AlterAction::Other("RENAME INDEX".into()), r);
        }
        let mut kw = r;
        let column_kw = c.eat_kw("COLUMN");
        if let Some(s) = column_kw {
            kw = kw.to(s);
        }
        let from = c.eat_name()?;
        if c.eat_kw("TO").is_none() && column_kw.is_none() && (c.at_end() || c.is_tok(|t| matches!(t, Token::Comma))) {
            // MySQL: `RENAME new_name` (TO is optional there).
            return done(c, AlterAction::RenameTable { to: from }, r);
        }
        let to = c.eat_name()?;
        return done(c, AlterAction::RenameColumn { from, to }, kw);
    }
    // MySQL: `CHANGE [COLUMN] old new definition` renames when the names differ (MySQL column
    // names are case-insensitive).
    if let Some(ch) = c.eat_kw("CHANGE") {
        let mut kw = ch;
        if let Some(s) = c.eat_kw("COLUMN") {
            kw = kw.to(s);
        }
        let from = c.eat_name()?;
        let to = c.eat_name()?;
        if from.value.to_lowercase() == to.value.to_lowercase() {
            return done(c, AlterAction::Other("CHANGE COLUMN".into()), kw);
        }
        return done(c, AlterAction::RenameColumn { from, to }, kw);
    }
    if let Some(s) = c.eat_kws(&["SET", "TABLESPACE"]) {
        return done(c, AlterAction::SetTablespace, s);
    }
    if let Some(s) = c.eat_kws(&["SET", "SCHEMA"]) {
        return done(c, AlterAction::SetSchema, s);
    }
    if let Some(kw) = c.eat_kws(&["DETACH", "PARTITION"]) {
        // The partition name would otherwise hide `CONCURRENTLY` / `FINALIZE` from the label.
        c.eat_qualified();
        let label = match c.peek().and_then(word_of).map(str::to_ascii_uppercase).as_deref() {
            Some("CONCURRENTLY") => "DETACH PARTITION CONCURRENTLY",
            Some("FINALIZE") => "DETACH PARTITION FINALIZE",
            _ => "DETACH PARTITION",
        };
        c.eat_kw("CONCURRENTLY").or_else(|| c.eat_kw("FINALIZE"));
        return done(c, AlterAction::Other(label.into()), kw);
    }
    let label = c.upper_words(c.pos, 3);
    let _ = start;
    done(c, AlterAction::Other(label), start)
}

fn drop(c: &mut Cursor) -> (StatementKind, String, Span) {
    let first = c.here();
    c.advance(1);
    let object_word = c.peek().and_then(word_of).map(str::to_ascii_uppercase).unwrap_or_default();
    let (object, words) = match object_word.as_str() {
        "TABLE" => (ObjectKind::Table, 1),
        "VIEW" => (ObjectKind::View, 1),
        "MATERIALIZED" => (ObjectKind::MaterializedView, 2),
        "INDEX" => (ObjectKind::Index, 1),
        "SEQUENCE" => (ObjectKind::Sequence, 1),
        "SCHEMA" => (ObjectKind::Schema, 1),
        "DATABASE" => (ObjectKind::Database, 1),
        "TYPE" | "DOMAIN" => (ObjectKind::Type, 1),
        "FUNCTION" | "PROCEDURE" => (ObjectKind::Function, 1),
        "TRIGGER" => (ObjectKind::Trigger, 1),
        "EXTENSION" => (ObjectKind::Extension, 1),
        "STATISTICS" => (ObjectKind::Statistics, 1),
        _ => (ObjectKind::Other, 1),
    };
    let label = c.upper_words(c.pos - 1, words + 1);
    c.advance(words);
    if object == ObjectKind::Index {
        let concurrently = c.eat_kw("CONCURRENTLY");
        let head = first.to(c.last_span());
        let if_exists = c.eat_kws(&["IF", "EXISTS"]).is_some();
        let names = name_list(c);
        let table = c.eat_kw("ON").and_then(|_| c.eat_qualified());
        let cascade = has_kw_ahead(c, "CASCADE");
        let drop = DropIndex { names, concurrently, if_exists, cascade, table };
        return (StatementKind::DropIndex(drop), "DROP INDEX".into(), head);
    }
    let head = first.to(c.last_span());
    if object == ObjectKind::Other {
        return (StatementKind::Other, label, head);
    }
    let if_exists = c.eat_kws(&["IF", "EXISTS"]).is_some();
    let names = if object == ObjectKind::Function { c.eat_qualified().into_iter().collect() } else { name_list(c) };
    let on = if object == ObjectKind::Trigger { c.eat_kw("ON").and_then(|_| c.eat_qualified()) } else { None };
    let cascade = has_kw_ahead(c, "CASCADE");
    (StatementKind::Drop(DropObjects { object, names, if_exists, cascade, on }), label, head)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::lexer::tokenize;
    use sqlparser::dialect::PostgreSqlDialect;

    fn facts(sql: &str) -> (StatementFacts, String) {
        let lexed = tokenize(&PostgreSqlDialect {}, sql);
        (recognize(&lexed.tokens), sql.to_string())
    }

    fn text(sql: &str, s: Span) -> &str {
        &sql[s.start as usize..s.end as usize]
    }

    #[test]
    fn create_index_concurrently_and_head() {
        let (f, sql) = facts("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS idx ON ONLY public.users USING btree (lower(email), id) WHERE deleted_at IS NULL;");
        let StatementKind::CreateIndex(ci) = &f.kind else { panic!("{f:?}") };
        assert_eq!(text(&sql, f.head), "CREATE UNIQUE INDEX");
        assert!(ci.unique && ci.if_not_exists && ci.only && ci.partial);
        assert_eq!(text(&sql, ci.concurrently.unwrap()), "CONCURRENTLY");
        assert_eq!(ci.table.key(), "users");
        assert_eq!(ci.columns, ["lower(email)", "id"]);
    }

    #[test]
    fn alter_table_actions_with_exact_spans() {
        let sql = "ALTER TABLE ONLY \"Users\" ADD COLUMN country text NOT NULL, ALTER COLUMN age TYPE bigint USING age::bigint, ADD CONSTRAINT fk FOREIGN KEY (org_id) REFERENCES orgs (id) NOT VALID, ALTER COLUMN x SET NOT NULL;";
        let (f, sql) = facts(sql);
        let StatementKind::AlterTable(at) = &f.kind else { panic!() };
        assert_eq!(at.table.key(), "Users");
        assert_eq!(at.actions.len(), 4);
        let AlterAction::AddColumn { column, .. } = &at.actions[0].action else { panic!() };
        assert_eq!(text(&sql, column.not_null.unwrap()), "NOT NULL");
        assert_eq!(column.ty.as_ref().unwrap().canonical, "text");
        assert_eq!(text(&sql, at.actions[0].keyword_span), "ADD COLUMN");
        let AlterAction::AlterColumnType { ty, using, .. } = &at.actions[1].action else { panic!() };
        assert_eq!(ty.canonical, "int8");
        assert!(using.is_some());
        let AlterAction::AddConstraint(tc) = &at.actions[2].action else { panic!() };
        assert!(tc.not_valid.is_some());
        let ConstraintKind::ForeignKey(fk) = &tc.kind else { panic!() };
        assert_eq!(fk.ref_table.key(), "orgs");
        assert_eq!(text(&sql, tc.kind_span), "FOREIGN KEY");
        assert_eq!(text(&sql, at.actions[3].keyword_span), "SET NOT NULL");
    }

    #[test]
    fn defaults_and_volatility() {
        let (f, _) = facts("ALTER TABLE t ADD COLUMN id uuid DEFAULT gen_random_uuid() NOT NULL;");
        let StatementKind::AlterTable(at) = &f.kind else { panic!() };
        let AlterAction::AddColumn { column, .. } = &at.actions[0].action else { panic!() };
        let d = column.default.as_ref().unwrap();
        assert_eq!(d.volatile.as_deref(), Some("gen_random_uuid()"));
        assert!(column.not_null.is_some());
        let (f, _) = facts("ALTER TABLE t ADD COLUMN created timestamptz DEFAULT now() NOT NULL;");
        let StatementKind::AlterTable(at) = &f.kind else { panic!() };
        let AlterAction::AddColumn { column, .. } = &at.actions[0].action else { panic!() };
        assert_eq!(column.default.as_ref().unwrap().volatile, None);
    }

    #[test]
    fn index_keys_with_an_operator_class_are_their_column() {
        let (f, _) = facts(
            "CREATE INDEX i ON t USING gin (name gin_trgm_ops, email public.text_pattern_ops DESC, (lower(x)), id);",
        );
        let StatementKind::CreateIndex(ci) = f.kind else { panic!("{f:?}") };
        assert_eq!(ci.columns, ["name", "email", "(lower(x))", "id"]);
    }

    #[test]
    fn functions_and_extensions() {
        let create = |sql: &str| match facts(sql).0.kind {
            StatementKind::CreateFunction(cf) => (cf.name.key(), cf.or_replace, cf.volatility),
            other => panic!("{sql}: {other:?}"),
        };
        let body = "RETURNS text LANGUAGE sql AS $$ SELECT 'VOLATILE' $$";
        assert_eq!(create(&format!("CREATE FUNCTION f() {body};")), ("f".into(), false, None));
        assert_eq!(
            create(&format!("CREATE OR REPLACE FUNCTION util.f(a int DEFAULT 1) {body} STABLE STRICT;")),
            ("util.f".into(), true, Some(Volatility::Stable))
        );
        assert_eq!(
            create("CREATE FUNCTION f() RETURNS int LANGUAGE sql IMMUTABLE BEGIN ATOMIC SELECT 1; END;"),
            ("f".into(), false, Some(Volatility::Immutable))
        );
        let alter = |sql: &str| facts(sql).0.kind;
        assert!(matches!(
            alter("ALTER FUNCTION f(int) VOLATILE;"),
            StatementKind::AlterFunction(AlterFunction { volatility: Some(Volatility::Volatile), rename_to: None, .. })
        ));
        assert!(matches!(
            alter("ALTER FUNCTION f RENAME TO g;"),
            StatementKind::AlterFunction(AlterFunction { volatility: None, rename_to: Some(_), .. })
        ));
        assert_eq!(alter("ALTER FUNCTION f() SET search_path = public;"), StatementKind::Other);
        let (f, sql) = facts("CREATE EXTENSION IF NOT EXISTS \"uuid-ossp\" WITH SCHEMA extensions;");
        let StatementKind::CreateExtension(ce) = f.kind else { panic!("{f:?}") };
        assert_eq!((ce.name.value.as_str(), ce.if_not_exists), ("uuid-ossp", true));
        assert_eq!(ce.schema.map(|s| s.value), Some("extensions".into()));
        assert_eq!(text(&sql, f.head), "CREATE EXTENSION");
    }

    #[test]
    fn function_calls_skip_keywords_and_type_modifiers() {
        let lexed = tokenize(
            &PostgreSqlDialect {},
            "coalesce(util.f(x), g (1), 'a'::varchar(3), CAST(y AS numeric(4)), x IN (1))",
        );
        let toks: Vec<&Tok> = lexed.tokens.iter().filter(|t| !t.is_trivia()).collect();
        let names: Vec<String> = function_calls(&toks).iter().map(|q| q.to_string()).collect();
        assert_eq!(names, ["coalesce", "util.f", "g", "cast"]);
    }

    #[test]
    fn unparseable_postgres_still_yields_facts() {
        let (f, sql) = facts("DROP INDEX CONCURRENTLY IF EXISTS a.idx_x, idx_y;");
        let StatementKind::DropIndex(di) = &f.kind else { panic!() };
        assert_eq!(text(&sql, di.concurrently.unwrap()), "CONCURRENTLY");
        assert_eq!(di.names.len(), 2);
        let (f, _) = facts("REINDEX (VERBOSE, CONCURRENTLY) TABLE users;");
        let StatementKind::Reindex(r) = &f.kind else { panic!() };
        assert!(r.concurrently.is_some());
        assert_eq!(r.target, "TABLE");
        let (f, _) = facts("DO $$ BEGIN RAISE NOTICE 'x'; END $$;");
        assert_eq!(f.label, "DO");
    }

    #[test]
    fn drop_index_cascade_and_detach_partition_concurrently() {
        let (f, _) = facts("DROP INDEX users_email_idx CASCADE;");
        let StatementKind::DropIndex(di) = &f.kind else { panic!("{f:?}") };
        assert!(di.cascade && di.concurrently.is_none());
        let (f, _) = facts("DROP INDEX CONCURRENTLY users_email_idx;");
        let StatementKind::DropIndex(di) = &f.kind else { panic!("{f:?}") };
        assert!(!di.cascade);
        let (f, sql) = facts("ALTER TABLE m DETACH PARTITION public.m_2023 CONCURRENTLY;");
        let StatementKind::AlterTable(at) = &f.kind else { panic!("{f:?}") };
        assert_eq!(at.actions[0].action, AlterAction::Other("DETACH PARTITION CONCURRENTLY".into()));
        assert_eq!(text(&sql, at.actions[0].keyword_span), "DETACH PARTITION");
        assert_eq!(text(&sql, at.actions[0].span), "DETACH PARTITION public.m_2023 CONCURRENTLY");
        let (f, _) = facts("ALTER TABLE m DETACH PARTITION m_2023;");
        let StatementKind::AlterTable(at) = &f.kind else { panic!("{f:?}") };
        assert_eq!(at.actions[0].action, AlterAction::Other("DETACH PARTITION".into()));
    }

    #[test]
    fn check_is_not_null_is_recognised() {
        let (f, _) = facts("ALTER TABLE t ADD CONSTRAINT c CHECK ((\"Email\" IS NOT NULL)) NOT VALID;");
        let StatementKind::AlterTable(at) = &f.kind else { panic!() };
        let AlterAction::AddConstraint(tc) = &at.actions[0].action else { panic!() };
        assert_eq!(tc.kind, ConstraintKind::Check { not_null_of: Some("Email".into()) });
    }

    #[test]
    fn quoted_char_is_the_internal_type_not_bpchar() {
        let (f, _) = facts("CREATE TABLE t (a \"char\", b char(2), c CHARACTER VARYING(5)[]);");
        let StatementKind::CreateTable(ct) = &f.kind else { panic!() };
        let canon: Vec<&str> = ct.columns.iter().map(|c| c.ty.as_ref().unwrap().canonical.as_str()).collect();
        assert_eq!(canon, ["char", "bpchar", "varchar"]);
        assert!(ct.columns[2].ty.as_ref().unwrap().array);
    }

    #[test]
    fn vacuum_head_stops_before_the_tables() {
        let (f, sql) = facts("VACUUM (FULL, ANALYZE) public.events, audit_log;");
        let StatementKind::Vacuum { full, tables } = &f.kind else { panic!() };
        assert!(*full);
        assert_eq!(tables.len(), 2);
        assert_eq!(text(&sql, f.head), "VACUUM (FULL, ANALYZE)");
    }

    #[test]
    fn deep_nesting_is_a_loop_not_a_stack() {
        let sql = format!("SELECT {}1{};", "(".repeat(10_000), ")".repeat(10_000));
        let (f, _) = facts(&sql);
        assert_eq!(f.label, "SELECT");
        let sql = format!("CREATE TABLE t (a int DEFAULT {}1{});", "(".repeat(10_000), ")".repeat(10_000));
        let (f, _) = facts(&sql);
        assert!(matches!(f.kind, StatementKind::CreateTable(_)));
    }

    /// Recognises `sql` on a thread that must finish within `secs`. A loop that stops making
    /// progress fails the run at once (the process exits) instead of spinning and allocating while
    /// the other tests go on; a panic (the progress assertion) is an `Err`.
    fn facts_within(sql: &str, secs: u64) -> Result<StatementFacts, String> {
        let owned = sql.to_string();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(facts(&owned).0);
        });
        match rx.recv_timeout(std::time::Duration::from_secs(secs)) {
            Ok(f) => Ok(f),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Err(format!("recognising {sql:?} panicked")),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                // Past the harness's capture: the process ends before it would print.
                let message =
                    format!("recognising {sql:?} did not finish within {secs} s: a token loop made no progress\n");
                let _ = std::io::Write::write_all(&mut std::io::stderr(), message.as_bytes());
                std::process::exit(101);
            }
        }
    }

    #[test]
    fn unbalanced_brackets_end_every_loop() {
        // The issue's reproducers: each hung (or allocated without bound) on the stray `]`.
        let index = facts_within("CREATE INDEX ON o(];", 10).unwrap();
        assert!(matches!(index.kind, StatementKind::CreateIndex(_)), "{index:?}");
        let unique = facts_within("ALTER TABLE t ADD CONSTRAINT c UNIQUE (a ]);", 10).unwrap();
        let StatementKind::AlterTable(at) = &unique.kind else { panic!("{unique:?}") };
        let AlterAction::AddConstraint(tc) = &at.actions[0].action else { panic!("{at:?}") };
        let ConstraintKind::Unique { columns } = &tc.kind else { panic!("{tc:?}") };
        assert_eq!(columns.iter().map(|n| n.value.as_str()).collect::<Vec<_>>(), ["a"]);
        let table = facts_within("CREATE TABLE t (]);", 10).unwrap();
        let StatementKind::CreateTable(ct) = &table.kind else { panic!("{table:?}") };
        assert!(ct.columns.is_empty());
        let fk = facts_within("ALTER TABLE t ADD FOREIGN KEY (a) REFERENCES u (id]);", 10).unwrap();
        let StatementKind::AlterTable(at) = &fk.kind else { panic!("{fk:?}") };
        let AlterAction::AddConstraint(TableConstraint { kind: ConstraintKind::ForeignKey(fk), .. }) =
            &at.actions[0].action
        else {
            panic!("{at:?}")
        };
        assert_eq!(fk.ref_columns.iter().map(|n| n.value.as_str()).collect::<Vec<_>>(), ["id"]);
        // Negative: balanced brackets keep reading as before.
        let good = facts_within("CREATE INDEX ON o (a, b);", 10).unwrap();
        let StatementKind::CreateIndex(ci) = &good.kind else { panic!("{good:?}") };
        assert_eq!(ci.columns, ["a", "b"]);
    }

    #[test]
    fn a_statement_cut_off_after_its_object_words_reads_what_is_there() {
        // `DROP MATERIALIZED` at the end of a file moved the cursor past the end and sliced there.
        for sql in ["DROP MATERIALIZED", "DROP MATERIALIZED\n", "ALTER MATERIALIZED", "CREATE MATERIALIZED", "DROP"] {
            let f = facts_within(sql, 10).unwrap_or_else(|e| panic!("{e}"));
            assert!(
                !matches!(f.kind, StatementKind::Drop(DropObjects { ref names, .. }) if !names.is_empty()),
                "{f:?}"
            );
        }
        let f = facts_within("DROP MATERIALIZED", 10).unwrap();
        assert_eq!(f.label, "DROP MATERIALIZED");
        // Negative: the whole command still names its view.
        let f = facts_within("DROP MATERIALIZED VIEW v;", 10).unwrap();
        let StatementKind::Drop(d) = &f.kind else { panic!("{f:?}") };
        assert_eq!(d.names.iter().map(|n| n.key()).collect::<Vec<_>>(), ["v"]);
    }

    /// The class, not the instances: a stray closer or opener at every token boundary of
    /// statements that reach each loop of the recogniser. Each must finish, without a panic (in a
    /// debug build a loop turn that consumes nothing fails its progress assertion).
    #[test]
    fn a_stray_bracket_anywhere_never_stalls_a_loop() {
        let statements = [
            "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON ONLY s.t USING btree (lower(a), b DESC, (c + 1)) WHERE d IS NULL;",
            "CREATE TABLE t (id bigint PRIMARY KEY, a text NOT NULL DEFAULT 'x' CHECK (a <> ''), b int REFERENCES u (id) ON DELETE SET NULL, CONSTRAINT c UNIQUE (a, b), FOREIGN KEY (b) REFERENCES u (id) MATCH FULL, NOT NULL a, KEY k (a), c numeric(10, 2)[] GENERATED ALWAYS AS (b * 2) STORED) INHERITS (p);",
            "ALTER TABLE ONLY t ADD COLUMN a int DEFAULT nextval('s'), ALTER COLUMN b TYPE bigint USING b::bigint, ADD CONSTRAINT c PRIMARY KEY (a), DROP CONSTRAINT IF EXISTS d, RENAME COLUMN x TO y;",
            "INSERT INTO t (a, b) OVERRIDING SYSTEM VALUE VALUES (1, 2), (3, 4) ON CONFLICT (a) DO UPDATE SET b = 1 RETURNING a;",
            "UPDATE t SET a = 1 WHERE id IN (SELECT id FROM u WHERE b < 10) RETURNING id;",
            "CREATE MATERIALIZED VIEW v AS SELECT a FROM t JOIN u ON t.a = u.a, (SELECT 1) s WHERE a > 1 UNION SELECT b FROM w;",
            "CREATE OR REPLACE FUNCTION f(a int, b text) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT 1 $$;",
            "VACUUM (FULL, ANALYZE) VERBOSE t, u;",
            "SELECT a, b INTO TEMP TABLE t FROM u;",
            "CREATE SEQUENCE s INCREMENT 1 OWNED BY t.id;",
            "RENAME TABLE a TO b, c TO d;",
            "DROP MATERIALIZED VIEW IF EXISTS v, w CASCADE;",
            "TRUNCATE ONLY a, b * RESTART IDENTITY CASCADE;",
            "SET LOCAL statement_timeout TO '5s';",
        ];
        let strays = ["]", ")", "[", "(", ";"];
        for sql in statements {
            let lexed = tokenize(&PostgreSqlDialect {}, sql);
            let cuts: Vec<usize> = lexed.tokens.iter().map(|t| t.start as usize).chain([sql.len()]).collect();
            for cut in cuts {
                for stray in strays {
                    let mutated = format!("{}{stray}{}", &sql[..cut], &sql[cut..]);
                    if let Err(e) = facts_within(&mutated, 10) {
                        panic!("{e}");
                    }
                }
            }
            // Every prefix: a statement cut off anywhere (the end of a file being typed).
            for cut in (0..=sql.len()).filter(|&i| sql.is_char_boundary(i)) {
                if let Err(e) = facts_within(&sql[..cut], 10) {
                    panic!("{e}");
                }
            }
        }
    }

    fn whole_table(sql: &str) -> bool {
        match facts(sql).0.kind {
            StatementKind::Update(d) | StatementKind::Delete(d) => d.whole_table,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn whole_table_data_changes() {
        for sql in [
            "UPDATE users SET plan = 'free';",
            "UPDATE users SET plan = 'free' WHERE plan IS NULL;",
            "UPDATE orders SET archived = true WHERE true;",
            "UPDATE orders SET archived = true WHERE 1 = 1;",
            "UPDATE orders SET name = c.name FROM customers c WHERE orders.customer_id = c.id;",
            "DELETE FROM events WHERE NOT keep AND payload IS NOT NULL;",
            "DELETE FROM events RETURNING id;",
        ] {
            assert!(whole_table(sql), "{sql}");
        }
        for sql in [
            "UPDATE users SET plan = 'free' WHERE id >= $1 AND id < $1 + 1000;",
            "UPDATE users SET plan = 'free' WHERE id BETWEEN 1 AND 1000;",
            "UPDATE orders SET name = c.name FROM customers c WHERE orders.customer_id = c.id AND orders.id < 1000;",
            "DELETE FROM sessions WHERE expires_at < now();",
            "DELETE FROM sessions WHERE expires_at < CURRENT_DATE;",
            "DELETE FROM sessions WHERE created_at::date = '2020-01-01';",
            "DELETE FROM sessions WHERE day = DATE '2020-01-01';",
            "UPDATE users SET plan = 'free' WHERE id IN (SELECT id FROM users LIMIT 10);",
            "DELETE FROM sessions LIMIT 1000;",
            "UPDATE users SET plan = 'free' ORDER BY id LIMIT 1000;",
        ] {
            assert!(!whole_table(sql), "{sql}");
        }
    }

    #[test]
    fn table_renames_in_every_dialect_spelling() {
        let (f, sql) = facts("ALTER TABLE customers RENAME TO clients;");
        let StatementKind::AlterTable(at) = &f.kind else { panic!() };
        assert!(matches!(&at.actions[0].action, AlterAction::RenameTable { to } if to.value == "clients"));
        assert_eq!(text(&sql, at.actions[0].keyword_span), "RENAME TO");

        // MySQL: TO is optional, and RENAME TABLE is its own statement.
        let (f, _) = facts("ALTER TABLE customers RENAME clients;");
        let StatementKind::AlterTable(at) = &f.kind else { panic!() };
        assert!(matches!(&at.actions[0].action, AlterAction::RenameTable { to } if to.value == "clients"));
        let (f, sql) = facts("RENAME TABLE shop.customers TO clients;");
        let StatementKind::AlterTable(at) = &f.kind else { panic!("{f:?}") };
        assert_eq!(at.table.key(), "shop.customers");
        assert!(matches!(&at.actions[0].action, AlterAction::RenameTable { to } if to.value == "clients"));
        assert_eq!(text(&sql, at.actions[0].keyword_span), "RENAME TABLE");
        assert_eq!(text(&sql, f.head), "RENAME TABLE");
        // The cut-over swap of online schema-change tools: no name disappears.
        let (f, _) = facts("RENAME TABLE users TO users_old, users_new TO users;");
        assert!(matches!(f.kind, StatementKind::Other), "{f:?}");
        assert_eq!(f.label, "RENAME TABLE");

        // A column rename is still a column rename.
        let (f, _) = facts("ALTER TABLE t RENAME a TO b;");
        let StatementKind::AlterTable(at) = &f.kind else { panic!() };
        assert!(
            matches!(&at.actions[0].action, AlterAction::RenameColumn { from, to } if from.value == "a" && to.value == "b")
        );
    }

    #[test]
    fn mysql_change_column_renames_only_when_names_differ() {
        let (f, sql) =
            facts("ALTER TABLE users CHANGE COLUMN fullname full_name varchar(255) NOT NULL, CHANGE email Email text;");
        let StatementKind::AlterTable(at) = &f.kind else { panic!() };
        assert_eq!(at.actions.len(), 2);
        assert!(
            matches!(&at.actions[0].action, AlterAction::RenameColumn { from, to } if from.value == "fullname" && to.value == "full_name")
        );
        assert_eq!(text(&sql, at.actions[0].keyword_span), "CHANGE COLUMN");
        assert_eq!(at.actions[1].action, AlterAction::Other("CHANGE COLUMN".into()));
    }

    #[test]
    fn views_sequences_types_and_schemas_are_objects() {
        let (f, sql) = facts("CREATE OR REPLACE VIEW public.active_users AS SELECT * FROM users;");
        let StatementKind::CreateObject(co) = &f.kind else { panic!("{f:?}") };
        assert_eq!((co.object, co.or_replace, co.name.key().as_str()), (ObjectKind::View, true, "active_users"));
        assert_eq!(f.label, "CREATE VIEW");
        assert_eq!(text(&sql, f.head), "CREATE OR");
        let (f, _) = facts("CREATE MATERIALIZED VIEW IF NOT EXISTS stats AS SELECT 1;");
        let StatementKind::CreateObject(co) = &f.kind else { panic!("{f:?}") };
        assert_eq!((co.object, co.if_not_exists), (ObjectKind::MaterializedView, true));
        let (f, _) = facts("CREATE SEQUENCE IF NOT EXISTS billing.invoice_no START 100;");
        let StatementKind::CreateObject(co) = &f.kind else { panic!("{f:?}") };
        assert_eq!((co.object, co.name.key().as_str()), (ObjectKind::Sequence, "billing.invoice_no"));
        let (f, _) = facts("CREATE TYPE \"Role\" AS ENUM ('ADMIN', 'it''s');");
        let StatementKind::CreateObject(co) = &f.kind else { panic!("{f:?}") };
        assert_eq!(co.name.key(), "Role");
        assert_eq!(co.enum_labels.as_deref(), Some(&["ADMIN".to_string(), "it's".to_string()][..]));
        let (f, _) = facts("CREATE TYPE pair AS (a int, b int);");
        let StatementKind::CreateObject(co) = &f.kind else { panic!("{f:?}") };
        assert_eq!((co.object, co.enum_labels.is_none()), (ObjectKind::Type, true));
        let (f, _) = facts("CREATE SCHEMA IF NOT EXISTS auth;");
        assert!(
            matches!(&f.kind, StatementKind::CreateObject(co) if co.object == ObjectKind::Schema && co.if_not_exists)
        );
        // Temporary objects do not outlive the session: not modelled.
        let (f, _) = facts("CREATE TEMP VIEW v AS SELECT 1;");
        assert_eq!((f.kind, f.label.as_str()), (StatementKind::Other, "CREATE VIEW"));
    }

    #[test]
    fn alter_index_type_and_sequence_are_objects() {
        let (f, sql) = facts("ALTER INDEX IF EXISTS \"User_email_key\" RENAME TO \"Account_email_key\";");
        let StatementKind::AlterObject(ao) = &f.kind else { panic!("{f:?}") };
        assert_eq!((ao.object, ao.if_exists, ao.name.key().as_str()), (ObjectKind::Index, true, "User_email_key"));
        assert!(matches!(&ao.action, AlterObjectAction::Rename { to } if to.value == "Account_email_key"));
        assert_eq!((f.label.as_str(), text(&sql, f.head)), ("ALTER INDEX", "ALTER INDEX"));
        let (f, sql) = facts("ALTER TYPE \"Role\" ADD VALUE IF NOT EXISTS 'OWNER' BEFORE 'ADMIN';");
        let StatementKind::AlterObject(ao) = &f.kind else { panic!("{f:?}") };
        let AlterObjectAction::AddValue { label, if_not_exists, span } = &ao.action else { panic!("{ao:?}") };
        assert_eq!((label.as_str(), *if_not_exists, text(&sql, *span)), ("OWNER", true, "'OWNER'"));
        let (f, _) = facts("ALTER TYPE mood RENAME VALUE 'sad' TO 'blue';");
        let StatementKind::AlterObject(ao) = &f.kind else { panic!("{f:?}") };
        assert_eq!(ao.action, AlterObjectAction::RenameValue { from: "sad".into(), to: "blue".into() });
        let (f, _) = facts("ALTER MATERIALIZED VIEW stats RENAME TO daily_stats;");
        assert!(matches!(&f.kind, StatementKind::AlterObject(ao) if ao.object == ObjectKind::MaterializedView));
        let (f, _) = facts("ALTER SEQUENCE users_id_seq RESTART WITH 10;");
        assert!(matches!(&f.kind, StatementKind::AlterObject(ao) if ao.action == AlterObjectAction::Other));
        let (f, _) = facts("ALTER FUNCTION f() OWNER TO x;");
        assert_eq!(f.kind, StatementKind::Other);
    }

    #[test]
    fn inherits_makes_columns_implicit_and_mysql_drop_index_names_its_table() {
        let (f, _) = facts("CREATE TABLE child (extra int) INHERITS (parent);");
        assert!(matches!(&f.kind, StatementKind::CreateTable(ct) if ct.columns_implicit));
        let (f, _) = facts("DROP INDEX idx_email ON users;");
        let StatementKind::DropIndex(di) = &f.kind else { panic!("{f:?}") };
        assert_eq!(di.table.as_ref().map(QualifiedName::key).as_deref(), Some("users"));
    }

    #[test]
    fn start_transaction_head_covers_both_words() {
        let (f, sql) = facts("START TRANSACTION ISOLATION LEVEL SERIALIZABLE;");
        assert_eq!(f.kind, StatementKind::Transaction(TransactionControl::Begin));
        assert_eq!(text(&sql, f.head), "START TRANSACTION");
    }

    #[test]
    fn keyword_named_columns_are_columns_and_mysql_keys_are_not() {
        let (f, _) = facts(
            "CREATE TABLE t (id int, key varchar(20), index text, exclude boolean, KEY idx_a (a), INDEX (b), FULLTEXT KEY ft (c), INDEX ix USING btree (d), INDEX ix_e lower(e) TYPE bloom_filter GRANULARITY 1, EXCLUDE USING gist (r WITH &&));",
        );
        let StatementKind::CreateTable(ct) = &f.kind else { panic!("{f:?}") };
        let names: Vec<&str> = ct.columns.iter().map(|c| c.name.value.as_str()).collect();
        assert_eq!(names, ["id", "key", "index", "exclude"]);
        assert_eq!(ct.constraints.len(), 1);
        let action = |sql: &str| match facts(sql).0.kind {
            StatementKind::AlterTable(at) => at.actions.into_iter().next().map(|a| a.action),
            other => panic!("{other:?}"),
        };
        assert!(
            matches!(action("ALTER TABLE t ADD key text;"), Some(AlterAction::AddColumn { column, .. }) if column.name.value == "key")
        );
        assert!(matches!(action("ALTER TABLE t ADD exclude bool;"), Some(AlterAction::AddColumn { .. })));
        assert_eq!(action("ALTER TABLE t ADD INDEX idx (a);"), Some(AlterAction::Other("ADD INDEX".into())));
        assert_eq!(
            action("ALTER TABLE t ADD INDEX IF NOT EXISTS idx_a a TYPE minmax GRANULARITY 1;"),
            Some(AlterAction::Other("ADD INDEX".into()))
        );
        assert!(matches!(
            action("ALTER TABLE t ADD EXCLUDE USING gist (r WITH &&);"),
            Some(AlterAction::AddConstraint(_))
        ));
        assert!(
            matches!(action("ALTER TABLE t DROP index;"), Some(AlterAction::DropColumn { name, .. }) if name.value == "index")
        );
        assert_eq!(action("ALTER TABLE t DROP INDEX idx_a;"), Some(AlterAction::Other("DROP INDEX".into())));
    }

    #[test]
    fn select_into_and_create_table_as_fill_the_table_from_their_query() {
        let (f, _) = facts("SELECT id, total INTO TEMP report FROM orders;");
        let StatementKind::CreateTable(ct) = &f.kind else { panic!("{f:?}") };
        assert_eq!(
            (ct.name.key().as_str(), ct.temporary, ct.filled_by_query, ct.select_into),
            ("report", true, true, true)
        );
        assert_eq!(f.label, "SELECT INTO");
        for sql in [
            "SELECT 1;",
            "SELECT a FROM t INTO @x;",
            "SELECT a INTO @x FROM t;",
            "SELECT a INTO OUTFILE '/tmp/x' FROM t;",
        ] {
            assert_eq!(facts(sql).0.kind, StatementKind::Other, "{sql}");
        }
        let (f, _) = facts("CREATE TABLE report AS SELECT * FROM orders;");
        assert!(
            matches!(&f.kind, StatementKind::CreateTable(ct) if ct.filled_by_query && ct.columns_implicit && !ct.select_into)
        );
        let (f, _) = facts("CREATE TABLE report (a, b) AS SELECT 1, 2 WITH NO DATA;");
        assert!(matches!(&f.kind, StatementKind::CreateTable(ct) if !ct.filled_by_query && ct.columns_implicit));
        let (f, _) = facts("CREATE TABLE plain (a int);");
        assert!(matches!(&f.kind, StatementKind::CreateTable(ct) if !ct.filled_by_query));
    }

    #[test]
    fn insert_counts_its_listed_rows() {
        let rows = |sql: &str| match facts(sql).0.kind {
            StatementKind::Insert(i) => (i.rows, i.from_select),
            other => panic!("{other:?}"),
        };
        assert_eq!(rows("INSERT INTO plans (id, name) VALUES (1, 'a'), (2, 'b'), (3, f(1, 2));"), (Some(3), false));
        assert_eq!(rows("INSERT INTO plans DEFAULT VALUES;"), (Some(1), false));
        assert_eq!(rows("INSERT INTO plans SELECT * FROM old_plans;"), (None, true));
        assert_eq!(rows("INSERT INTO plans (id) (SELECT 1);"), (None, true));
    }

    #[test]
    fn insert_knows_its_columns_on_conflict_and_returning() {
        let (f, sql) = facts(
            "INSERT INTO plans (id, \"Name\") SELECT a, b FROM x JOIN y ON x.k = y.k ON CONFLICT (id) DO NOTHING RETURNING id;",
        );
        let StatementKind::Insert(i) = &f.kind else { panic!("{f:?}") };
        let columns: Vec<&str> = i.columns.iter().flatten().map(|n| n.value.as_str()).collect();
        assert_eq!(columns, ["id", "Name"]);
        assert_eq!(text(&sql, i.on_conflict.expect("on conflict")), "ON CONFLICT");
        assert_eq!(text(&sql, i.returning.expect("returning")), "RETURNING");
        // Column names of an INSERT refer to columns: they are not names it gives.
        assert!(f.identifiers.iter().all(|n| n.value != "id"), "{:?}", f.identifiers);
        let (f, _) = facts("INSERT INTO plans VALUES (1, '(ON CONFLICT)'), ((SELECT 2), 'RETURNING');");
        let StatementKind::Insert(i) = &f.kind else { panic!("{f:?}") };
        assert_eq!((i.columns.is_none(), i.on_conflict, i.returning), (true, None, None));
        let (f, sql) = facts("INSERT INTO plans (id) (SELECT 1) RETURNING *;");
        let StatementKind::Insert(i) = &f.kind else { panic!("{f:?}") };
        assert_eq!(text(&sql, i.returning.expect("returning")), "RETURNING");
    }

    #[test]
    fn a_guarded_do_block_has_the_facts_of_its_statement() {
        let sql = "DO $safemig$\nBEGIN\n  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'c') THEN\n    ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0);\n  END IF;\nEND\n$safemig$;";
        let (f, text_) = facts(sql);
        let StatementKind::AlterTable(at) = &f.kind else { panic!("{f:?}") };
        assert_eq!(text(&text_, at.table.span), "t");
        assert_eq!(text(&text_, f.head), "ALTER TABLE");
        assert_eq!(
            text(&text_, f.guard.expect("guarded")),
            "NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'c')"
        );
        let (f, _) = facts("DO LANGUAGE plpgsql $$ BEGIN IF true THEN CREATE TYPE mood AS ENUM ('ok'); END IF; END $$");
        assert!(matches!(f.kind, StatementKind::CreateObject(_)) && f.guard.is_some(), "{f:?}");
        // Anything else stays a `DO`: two statements, an ELSE, a CASE in the condition, an
        // exception handler, data changes, another language, no condition.
        for other in [
            "DO $$ BEGIN IF true THEN ALTER TABLE t ADD COLUMN a int; ALTER TABLE t ADD COLUMN b int; END IF; END $$;",
            "DO $$ BEGIN IF true THEN ALTER TABLE t ADD COLUMN a int; ELSE NULL; END IF; END $$;",
            "DO $$ BEGIN IF CASE WHEN true THEN true END THEN ALTER TABLE t ADD COLUMN a int; END IF; END $$;",
            "DO $$ BEGIN ALTER TABLE t ADD COLUMN a int; EXCEPTION WHEN duplicate_column THEN NULL; END $$;",
            "DO $$ BEGIN IF true THEN UPDATE t SET a = 1; END IF; END $$;",
            "DO LANGUAGE plperl $$ BEGIN IF true THEN ALTER TABLE t ADD COLUMN a int; END IF; END $$;",
            "DO $$ BEGIN IF THEN ALTER TABLE t ADD COLUMN a int; END IF; END $$;",
            "DO $$ BEGIN IF true THEN ALTER TABLE t ADD COLUMN a int; END IF; END; $$ x;",
        ] {
            let (f, _) = facts(other);
            assert_eq!((f.label.as_str(), f.guard), ("DO", None), "{other}");
        }
    }

    #[test]
    fn set_time_zone_is_the_timezone_parameter() {
        let (f, _) = facts("SET TIME ZONE 'UTC';");
        assert_eq!(
            f.kind,
            StatementKind::Set(SetParameter { name: "timezone".into(), value: "UTC".into(), local: false })
        );
        let (f, _) = facts("SET LOCAL timezone TO 'Etc/UTC';");
        assert_eq!(
            f.kind,
            StatementKind::Set(SetParameter { name: "timezone".into(), value: "Etc/UTC".into(), local: true })
        );
    }

    #[test]
    fn postgres_18_not_null_constraints() {
        let (f, sql) = facts("ALTER TABLE users ADD CONSTRAINT users_email_nn NOT NULL email;");
        let StatementKind::AlterTable(at) = &f.kind else { panic!("{f:?}") };
        assert!(matches!(&at.actions[0].action, AlterAction::SetNotNull { column } if column.value == "email"));
        assert_eq!(text(&sql, at.actions[0].keyword_span), "ADD CONSTRAINT users_email_nn NOT NULL email");
        let (f, _) = facts("ALTER TABLE users ADD CONSTRAINT nn NOT NULL email NOT VALID;");
        let StatementKind::AlterTable(at) = &f.kind else { panic!("{f:?}") };
        assert_eq!(at.actions[0].action, AlterAction::Other("ADD CONSTRAINT NOT NULL NOT VALID".into()));
        let (f, _) =
            facts("CREATE TABLE u (id int, name text, CONSTRAINT u_id_nn NOT NULL id, NOT NULL name NO INHERIT);");
        let StatementKind::CreateTable(ct) = &f.kind else { panic!("{f:?}") };
        assert!(ct.columns.iter().all(|c| c.not_null.is_some()), "{ct:?}");
        assert!(ct.constraints.is_empty());
    }

    #[test]
    fn sequences_statistics_triggers_and_constraint_alters() {
        let (f, _) = facts("CREATE SEQUENCE s AS bigint START WITH 1 OWNED BY public.orders.no;");
        let StatementKind::CreateObject(co) = &f.kind else { panic!("{f:?}") };
        assert_eq!(co.owned_by.as_ref().map(|o| o.to_string()).as_deref(), Some("public.orders.no"));
        let (f, _) = facts("ALTER SEQUENCE s RESTART WITH 5 OWNED BY NONE;");
        assert!(
            matches!(&f.kind, StatementKind::AlterObject(ao) if ao.action == AlterObjectAction::OwnedBy { owner: None })
        );
        let (f, _) = facts("CREATE STATISTICS IF NOT EXISTS st (ndistinct) ON a, b FROM app.orders;");
        let StatementKind::CreateObject(co) = &f.kind else { panic!("{f:?}") };
        assert_eq!(
            (co.object, co.on.as_ref().map(QualifiedName::key).as_deref()),
            (ObjectKind::Statistics, Some("app.orders"))
        );
        let (f, _) = facts("DROP STATISTICS IF EXISTS st;");
        assert!(matches!(&f.kind, StatementKind::Drop(d) if d.object == ObjectKind::Statistics && d.if_exists));
        let (f, _) =
            facts("CREATE OR REPLACE TRIGGER audit AFTER UPDATE OF a ON orders FOR EACH ROW EXECUTE FUNCTION f();");
        let StatementKind::CreateTrigger { table, name, or_replace } = &f.kind else { panic!("{f:?}") };
        assert_eq!(
            (table.as_ref().map(QualifiedName::key).as_deref(), name.as_ref().map(|n| n.value.as_str()), *or_replace),
            (Some("orders"), Some("audit"), true)
        );
        let (f, _) = facts("ALTER TRIGGER audit ON orders RENAME TO audit_v2;");
        let StatementKind::AlterObject(ao) = &f.kind else { panic!("{f:?}") };
        assert_eq!(
            (ao.object, ao.on.as_ref().map(QualifiedName::key).as_deref()),
            (ObjectKind::Trigger, Some("orders"))
        );
        assert!(matches!(&ao.action, AlterObjectAction::Rename { to } if to.value == "audit_v2"));
        let (f, _) = facts("DROP TRIGGER IF EXISTS audit ON orders;");
        assert!(
            matches!(&f.kind, StatementKind::Drop(d) if d.on.as_ref().map(QualifiedName::key).as_deref() == Some("orders"))
        );
        let (f, _) = facts("ALTER TABLE orders ALTER CONSTRAINT orders_fk DEFERRABLE;");
        let StatementKind::AlterTable(at) = &f.kind else { panic!("{f:?}") };
        assert_eq!(at.actions[0].action, AlterAction::Other("ALTER CONSTRAINT".into()));
    }

    #[test]
    fn views_know_the_relations_they_read() {
        let (f, _) = facts("CREATE VIEW v AS SELECT * FROM a x JOIN b.c ON true, d AS e LEFT JOIN (SELECT 1 FROM f) g ON true, generate_series(1, 2) WHERE EXISTS (SELECT 1 FROM h);");
        let StatementKind::CreateObject(co) = &f.kind else { panic!("{f:?}") };
        let reads: Vec<String> = co.reads.iter().map(QualifiedName::key).collect();
        assert_eq!(reads, ["a", "b.c", "d", "f", "h"]);
        assert!(f.identifiers.iter().all(|i| i.value == "v"), "{:?}", f.identifiers);
    }
}
