use std::path::Path;

use super::*;
use crate::live::{LiveColumn, LiveConstraintKind, LiveTrigger};
use crate::schema::{replay, replay_file, ReplayInput};
use crate::sql::Dialect;

fn parse(text: &str) -> SqlFile {
    SqlFile::parse(text, Dialect::Postgres, None)
}

fn before(sql: &str) -> Schema {
    let file = parse(sql);
    replay(&[ReplayInput::whole(Path::new("m/1_init.up.sql"), &file)]).final_schema().clone()
}

fn col(name: &str, ty: &str, not_null: bool, default: Option<&str>) -> LiveColumn {
    LiveColumn {
        name: name.into(),
        type_sql: ty.into(),
        not_null,
        default: default.map(str::to_string),
        identity: None,
        null_frac: None,
        n_distinct: None,
    }
}

fn table(key: &str, columns: Vec<LiveColumn>) -> LiveTable {
    LiveTable {
        key: key.into(),
        schema: "public".into(),
        name: key.into(),
        kind: RelationKind::Table,
        row_estimate: None,
        total_bytes: 0,
        columns,
        indexes: Vec::new(),
        constraints: Vec::new(),
        triggers: Vec::new(),
        referenced_by: Vec::new(),
    }
}

fn index(name: &str, columns: &[&str], unique: bool, valid: bool) -> LiveIndex {
    LiveIndex {
        name: name.into(),
        definition: String::new(),
        columns: columns.iter().map(|c| c.to_string()).collect(),
        unique,
        primary: false,
        valid,
        partial: false,
        constraint: None,
        bytes: 0,
    }
}

fn check(name: &str, columns: &[&str]) -> LiveConstraint {
    LiveConstraint {
        name: name.into(),
        kind: LiveConstraintKind::Check,
        columns: columns.iter().map(|c| c.to_string()).collect(),
        definition: "CHECK (…)".into(),
        validated: true,
    }
}

fn snapshot(tables: Vec<LiveTable>) -> LiveSnapshot {
    LiveSnapshot { tables: tables.into_iter().map(|t| (t.key.clone(), t)).collect(), ..LiveSnapshot::default() }
}

fn effects(base: &str, failed: &str, live: &LiveSnapshot) -> Vec<StatementEffect> {
    let start = before(base);
    let file = parse(failed);
    let events = replay_file(&start, &file);
    statement_effects(&file, &events, &start, live)
}

fn states(effects: &[StatementEffect]) -> Vec<EffectState> {
    effects.iter().map(|e| e.state).collect()
}

const BASE: &str = "CREATE TABLE users (id int PRIMARY KEY, email text);\n";
const FAILED: &str = "\
CREATE TABLE accounts (id int PRIMARY KEY, owner int);
ALTER TABLE users ADD COLUMN nickname text;
CREATE UNIQUE INDEX CONCURRENTLY ON users (email);
ALTER TABLE users ADD CHECK (nickname <> '');
UPDATE users SET nickname = 'x';
CREATE INDEX accounts_owner_idx ON accounts (owner);
";

#[test]
fn a_failed_concurrent_build_leaves_an_invalid_index() {
    let mut users = table("users", vec![col("id", "integer", true, None), col("email", "text", false, None)]);
    users.columns.push(col("nickname", "text", false, None));
    users.indexes.push(index("users_email_idx", &["email"], true, false));
    let accounts = table("accounts", vec![col("id", "integer", true, None), col("owner", "integer", false, None)]);
    let live = snapshot(vec![users, accounts]);
    let got = effects(BASE, FAILED, &live);
    assert_eq!(
        states(&got),
        [
            EffectState::Applied,
            EffectState::Applied,
            EffectState::Partial,
            EffectState::NotApplied,
            EffectState::NotApplied,
            EffectState::NotApplied,
        ],
        "{got:#?}"
    );
    assert_eq!(got[2].leftover.as_deref(), Some("users_email_idx"));
    assert_eq!(got[2].creates, ["users_email_idx"]);
    assert!(got[2].why.contains("INVALID"), "{}", got[2].why);
    // The unnamed check gets the name PostgreSQL gives it: after the one column it reads.
    assert_eq!(got[3].creates, ["users_nickname_check"]);
    assert!(got[4].why.contains("runner stopped"), "{}", got[4].why);
    assert_eq!(got.iter().map(|e| e.statement).collect::<Vec<_>>(), [0, 1, 2, 3, 4, 5]);
}

#[test]
fn everything_after_the_last_applied_statement_is_ordered() {
    // The data change sits before a statement that took effect: it ran.
    let failed = "UPDATE users SET email = lower(email);\nALTER TABLE users ADD COLUMN nickname text;\nALTER TABLE users ALTER COLUMN nickname SET NOT NULL;\n";
    let users = table(
        "users",
        vec![col("id", "integer", true, None), col("email", "text", false, None), col("nickname", "text", false, None)],
    );
    let got = effects(BASE, failed, &snapshot(vec![users]));
    assert_eq!(states(&got), [EffectState::Applied, EffectState::Applied, EffectState::NotApplied], "{got:#?}");
    assert!(got[0].why.contains("a later statement"), "{}", got[0].why);
}

#[test]
fn evidence_out_of_order_leaves_unknowns_alone() {
    let failed =
        "ALTER TABLE users ADD COLUMN a text;\nUPDATE users SET a = 'x';\nALTER TABLE users ADD COLUMN b text;\n";
    // `a` is missing but `b` exists: someone changed the database by hand.
    let users = table("users", vec![col("id", "integer", true, None), col("b", "text", false, None)]);
    let got = effects(BASE, failed, &snapshot(vec![users]));
    assert_eq!(states(&got), [EffectState::NotApplied, EffectState::Unknown, EffectState::Applied]);
}

#[test]
fn drops_renames_defaults_and_constraints() {
    let base = "CREATE TABLE users (id int PRIMARY KEY, email text, old text, n int DEFAULT 1);\nCREATE INDEX users_email_idx ON users (email);\nCREATE TABLE gone (id int);\n";
    let failed = "\
DROP TABLE gone;
DROP INDEX users_email_idx;
ALTER TABLE users RENAME COLUMN old TO new;
ALTER TABLE users ALTER COLUMN n SET DEFAULT 2;
ALTER TABLE users ADD CONSTRAINT users_n_positive CHECK (n > 0) NOT VALID;
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
ALTER TABLE users ALTER COLUMN n TYPE bigint;
CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch();
";
    let mut users = table(
        "users",
        vec![
            col("id", "integer", true, None),
            col("email", "text", false, None),
            col("new", "text", false, None),
            col("n", "integer", false, Some("2")),
        ],
    );
    users.constraints.push(LiveConstraint { validated: false, ..check("users_n_positive", &["n"]) });
    users.triggers.push(LiveTrigger { name: "users_touch".into(), definition: String::new(), enabled: true });
    let got = effects(base, failed, &snapshot(vec![users]));
    assert_eq!(
        states(&got),
        [
            EffectState::Applied,
            EffectState::Applied,
            EffectState::Applied,
            EffectState::Applied,
            EffectState::Applied,
            EffectState::NotApplied,
            EffectState::NotApplied,
            EffectState::Applied,
        ],
        "{got:#?}"
    );
    assert!(got[4].why.contains("NOT VALID"), "{}", got[4].why);
    assert_eq!(got[5].why, "column `users.email` is still nullable");
    assert_eq!(got[6].why, "column `users.n` has type `integer`, not `bigint`");
}

#[test]
fn objects_that_existed_before_prove_nothing() {
    let failed = "CREATE TABLE IF NOT EXISTS users (id int);\nCREATE TABLE t (a int);\nDROP TABLE t;\n";
    let users = table("users", vec![col("id", "integer", true, None)]);
    let got = effects(BASE, failed, &snapshot(vec![users]));
    // Neither the no-op nor the table created and dropped again shows in the catalog; the drop
    // does, and the order settles the others.
    assert_eq!(states(&got), [EffectState::Applied; 3], "{got:#?}");
    assert!(got[0].why.starts_with("table `users` existed before"), "{}", got[0].why);
    assert!(got[1].why.starts_with("a later statement of this migration drops"), "{}", got[1].why);
}
