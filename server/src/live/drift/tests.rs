use std::path::Path;

use super::*;
use crate::live::{LiveIndex, LiveSnapshot, LiveTable};
use crate::schema::{replay, ReplayInput};
use crate::sql::SqlFile;

fn replayed(files: &[(&str, &str)]) -> Schema {
    let parsed: Vec<(&Path, SqlFile)> =
        files.iter().map(|(p, t)| (Path::new(*p), SqlFile::parse(t, Dialect::Postgres, None))).collect();
    let inputs: Vec<ReplayInput> = parsed.iter().map(|(p, f)| ReplayInput::whole(p, f)).collect();
    replay(&inputs).final_schema().clone()
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

fn index(name: &str, columns: &[&str], unique: bool, primary: bool, constraint: bool) -> LiveIndex {
    LiveIndex {
        name: name.into(),
        definition: String::new(),
        columns: columns.iter().map(|c| c.to_string()).collect(),
        unique,
        primary,
        valid: true,
        partial: false,
        constraint: constraint.then(|| name.to_string()),
        bytes: 0,
    }
}

fn constraint(name: &str, kind: LiveConstraintKind, columns: &[&str], definition: &str) -> LiveConstraint {
    LiveConstraint {
        name: name.into(),
        kind,
        columns: columns.iter().map(|c| c.to_string()).collect(),
        definition: definition.into(),
        validated: true,
    }
}

fn table(key: &str, columns: Vec<LiveColumn>, indexes: Vec<LiveIndex>, constraints: Vec<LiveConstraint>) -> LiveTable {
    let (schema, name) = key.split_once('.').unwrap_or(("public", key));
    LiveTable {
        key: key.into(),
        schema: schema.into(),
        name: name.into(),
        kind: RelationKind::Table,
        row_estimate: None,
        total_bytes: 0,
        columns,
        indexes,
        constraints,
        triggers: Vec::new(),
        referenced_by: Vec::new(),
    }
}

fn snapshot(tables: Vec<LiveTable>) -> LiveSnapshot {
    LiveSnapshot { tables: tables.into_iter().map(|t| (t.key.clone(), t)).collect(), ..LiveSnapshot::default() }
}

const SHOP: &str = "\
CREATE TABLE users (
  id serial PRIMARY KEY,
  email varchar(255) NOT NULL UNIQUE,
  name text DEFAULT 'x',
  created_at timestamptz NOT NULL DEFAULT now(),
  n int DEFAULT -1,
  price decimal(10,2) DEFAULT 0 CHECK (price >= 0),
  tags text[] DEFAULT '{}',
  CHECK (n > -5)
);
CREATE TABLE orders (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id int NOT NULL REFERENCES users (id),
  placed timestamp DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX ON users (lower(email));
CREATE INDEX orders_user_idx ON orders (user_id);
";

/// The catalog PostgreSQL 15 shows for [`SHOP`].
fn shop_live() -> LiveSnapshot {
    snapshot(vec![
        table(
            "users",
            vec![
                col("id", "integer", true, Some("nextval('users_id_seq'::regclass)")),
                col("email", "character varying(255)", true, None),
                col("name", "text", false, Some("'x'::text")),
                col("created_at", "timestamp with time zone", true, Some("now()")),
                col("n", "integer", false, Some("'-1'::integer")),
                col("price", "numeric(10,2)", false, Some("0")),
                col("tags", "text[]", false, Some("'{}'::text[]")),
            ],
            vec![
                index("users_pkey", &["id"], true, true, true),
                index("users_email_key", &["email"], true, false, true),
                index("users_lower_idx", &["lower((email)::text)"], false, false, false),
            ],
            vec![
                constraint("users_pkey", LiveConstraintKind::PrimaryKey, &["id"], "PRIMARY KEY (id)"),
                constraint("users_email_key", LiveConstraintKind::Unique, &["email"], "UNIQUE (email)"),
                constraint(
                    "users_price_check",
                    LiveConstraintKind::Check,
                    &["price"],
                    "CHECK ((price >= (0)::numeric))",
                ),
                constraint("users_n_check", LiveConstraintKind::Check, &["n"], "CHECK ((n > '-5'::integer))"),
            ],
        ),
        table(
            "orders",
            vec![
                LiveColumn { identity: Some('a'), ..col("id", "bigint", true, None) },
                col("user_id", "integer", true, None),
                col("placed", "timestamp without time zone", false, Some("CURRENT_TIMESTAMP")),
            ],
            vec![
                index("orders_pkey", &["id"], true, true, true),
                index("orders_user_idx", &["user_id"], false, false, false),
            ],
            vec![
                constraint("orders_pkey", LiveConstraintKind::PrimaryKey, &["id"], "PRIMARY KEY (id)"),
                constraint(
                    "orders_user_id_fkey",
                    LiveConstraintKind::ForeignKey { table: "users".into(), columns: vec!["id".into()] },
                    &["user_id"],
                    "FOREIGN KEY (user_id) REFERENCES users(id)",
                ),
            ],
        ),
        // The ledger and a table of another schema are not the migrations' business.
        table("schema_migrations", vec![col("version", "bigint", true, None)], vec![], vec![]),
        table("auth.users", vec![col("id", "uuid", true, None)], vec![], vec![]),
    ])
}

#[test]
fn equivalent_spellings_are_not_drift() {
    let schema = replayed(&[("m/1_init.up.sql", SHOP)]);
    let drift = diff(&schema, &shop_live());
    assert_eq!(drift, Vec::new(), "{drift:#?}");
    assert!(built_from(&schema, &shop_live()));
}

#[test]
fn hand_made_changes_are_reported_with_their_origin() {
    let schema = replayed(&[
        ("m/1_init.up.sql", SHOP),
        ("m/2_name.up.sql", "ALTER TABLE users ALTER COLUMN name SET DEFAULT 'y';\n"),
    ]);
    let mut live = shop_live();
    let users = live.tables.get_mut("users").expect("users");
    users.columns.push(col("nickname", "text", false, None));
    users.columns[2].default = Some("'z'::text".into());
    users.columns[1].not_null = false;
    users.columns[4].type_sql = "bigint".into();
    users.indexes.retain(|i| i.name != "users_lower_idx");
    let orders = live.tables.get_mut("orders").expect("orders");
    orders.constraints.retain(|c| c.name != "orders_user_id_fkey");
    let drift = diff(&schema, &live);
    let summary: Vec<(String, DriftObject, DriftKind, Option<String>)> = drift
        .iter()
        .map(|d| (d.table.clone(), d.object.clone(), d.kind, d.origin.as_ref().map(|o| o.to_string())))
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "orders".into(),
                DriftObject::Constraint("orders_user_id_fkey".into()),
                DriftKind::Missing,
                Some("1_init.up.sql:11".into())
            ),
            (
                "users".into(),
                DriftObject::Column("email".into()),
                DriftKind::Nullability,
                Some("1_init.up.sql:1".into())
            ),
            ("users".into(), DriftObject::Column("name".into()), DriftKind::Default, Some("2_name.up.sql:1".into())),
            ("users".into(), DriftObject::Column("n".into()), DriftKind::Type, Some("1_init.up.sql:1".into())),
            ("users".into(), DriftObject::Column("nickname".into()), DriftKind::Extra, None),
            (
                "users".into(),
                DriftObject::Index("users_expr_idx".into()),
                DriftKind::Missing,
                Some("1_init.up.sql:16".into())
            ),
        ]
    );
    let name = &drift[2];
    assert_eq!(name.migrations.as_deref(), Some("`'y'`"));
    assert_eq!(name.database.as_deref(), Some("`'z'::text`"));
    assert_eq!(
        drift[4].describe(),
        "column `users.nickname` (`text`) exists in the database but no migration creates it"
    );
}

#[test]
fn missing_and_extra_tables() {
    let schema = replayed(&[("m/1_init.up.sql", SHOP), ("m/2_more.up.sql", "CREATE TABLE audit (id int);\n")]);
    let mut live = shop_live();
    live.tables.insert("scratch".into(), table("scratch", vec![col("a", "int", false, None)], vec![], vec![]));
    let drift = diff(&schema, &live);
    let kinds: Vec<(&str, DriftKind)> = drift.iter().map(|d| (d.table.as_str(), d.kind)).collect();
    assert_eq!(kinds, [("audit", DriftKind::Missing), ("scratch", DriftKind::Extra)]);
    assert_eq!(drift[0].origin.as_ref().map(|o| o.line), Some(1));
}

#[test]
fn an_unknown_baseline_hides_extra_tables_and_baseline_tables_are_not_compared() {
    // Three tables used, none created: the set starts from a schema safemig cannot see.
    let schema = replayed(&[(
        "m/1_x.up.sql",
        "ALTER TABLE a ADD COLUMN x int;\nALTER TABLE b ADD COLUMN y int;\nALTER TABLE c ADD COLUMN z int;\nCREATE TABLE d (id int);\n",
    )]);
    let live = snapshot(vec![
        table("a", vec![col("id", "int", true, None)], vec![], vec![]),
        table("d", vec![col("id", "integer", false, None)], vec![], vec![]),
        table("other", vec![], vec![], vec![]),
    ]);
    assert_eq!(diff(&schema, &live), Vec::new());
}

#[test]
fn renamed_by_hand_versus_generated_names() {
    let sql = "CREATE TABLE t (a int, b int, CONSTRAINT t_a_uq UNIQUE (a));\nCREATE INDEX ON t (b);\n";
    let schema = replayed(&[("m/1.up.sql", sql)]);
    let live = snapshot(vec![table(
        "t",
        vec![col("a", "integer", false, None), col("b", "integer", false, None)],
        vec![index("t_a_unique", &["a"], true, false, true), index("t_b_idx1", &["b"], false, false, false)],
        vec![constraint("t_a_unique", LiveConstraintKind::Unique, &["a"], "UNIQUE (a)")],
    )]);
    let drift = diff(&schema, &live);
    let objects: Vec<(&DriftObject, DriftKind)> = drift.iter().map(|d| (&d.object, d.kind)).collect();
    // `t_b_idx` vs `t_b_idx1`: both generated, same shape → silent. `t_a_uq` was chosen by the
    // migration: the rename is drift, on the index and the constraint.
    assert_eq!(
        objects,
        [
            (&DriftObject::Index("t_a_uq".into()), DriftKind::Definition),
            (&DriftObject::Constraint("t_a_uq".into()), DriftKind::Definition)
        ]
    );
    assert!(drift[0].database.as_deref().is_some_and(|d| d.contains("t_a_unique")), "{drift:?}");
}

#[test]
fn invalid_index_is_drift() {
    let schema = replayed(&[("m/1.up.sql", "CREATE TABLE t (a int);\nCREATE UNIQUE INDEX t_a ON t (a);\n")]);
    let mut bad = index("t_a", &["a"], true, false, false);
    bad.valid = false;
    let live = snapshot(vec![table("t", vec![col("a", "integer", false, None)], vec![bad], vec![])]);
    let drift = diff(&schema, &live);
    assert_eq!(drift.len(), 1, "{drift:?}");
    assert_eq!(drift[0].kind, DriftKind::Definition);
    assert!(drift[0].describe().contains("INVALID"), "{}", drift[0].describe());
}

#[test]
fn serial_and_identity_defaults() {
    let schema =
        replayed(&[("m/1.up.sql", "CREATE TABLE t (a serial, b int GENERATED BY DEFAULT AS IDENTITY, c int);\n")]);
    let live = snapshot(vec![table(
        "t",
        vec![
            col("a", "integer", true, None),
            LiveColumn { identity: Some('d'), ..col("b", "integer", true, None) },
            LiveColumn { identity: Some('a'), ..col("c", "integer", true, None) },
        ],
        vec![],
        vec![],
    )]);
    let drift = diff(&schema, &live);
    let got: Vec<(&DriftObject, DriftKind)> = drift.iter().map(|d| (&d.object, d.kind)).collect();
    assert_eq!(
        got,
        [
            (&DriftObject::Column("a".into()), DriftKind::Default),
            (&DriftObject::Column("c".into()), DriftKind::Nullability),
            (&DriftObject::Column("c".into()), DriftKind::Default),
        ]
    );
}

#[test]
fn sets_of_other_databases_are_not_built_here() {
    let schema = replayed(&[("m/1.up.sql", "CREATE TABLE elsewhere (id int);\n")]);
    assert!(!built_from(&schema, &shop_live()));
}

#[test]
fn types_normalise() {
    let ty = |sql: &str| {
        let file = SqlFile::parse(&format!("CREATE TABLE t (c {sql});"), Dialect::Postgres, None);
        let schema = replayed(&[("m/1.sql", &file.text)]);
        let t = schema.table_by_key("t").expect("t");
        NormType::of_replay(t.column("c").and_then(|c| c.ty.as_ref()).expect("typed"))
    };
    let pairs = [
        ("serial", "integer"),
        ("bigserial", "bigint"),
        ("int", "integer"),
        ("varchar(255)", "character varying(255)"),
        ("character varying", "character varying"),
        ("timestamptz", "timestamp with time zone"),
        ("timestamp(3)", "timestamp(3) without time zone"),
        ("bool", "boolean"),
        ("float8", "double precision"),
        ("float", "double precision"),
        ("real", "real"),
        ("decimal(10, 2)", "numeric(10,2)"),
        ("char", "character(1)"),
        ("int[]", "integer[]"),
        ("varchar(20)[]", "character varying(20)[]"),
        ("citext", "public.citext"),
        ("\"char\"", "\"char\""),
        ("jsonb", "jsonb"),
    ];
    for (written, catalog) in pairs {
        assert_eq!(ty(written), NormType::of_live(catalog), "{written} vs {catalog}");
    }
    assert_ne!(ty("varchar(255)"), NormType::of_live("character varying(100)"));
    assert_ne!(ty("int"), NormType::of_live("bigint"));
    assert_ne!(ty("text"), NormType::of_live("text[]"));
    assert_ne!(ty("char"), NormType::of_live("\"char\""));
}

#[test]
fn defaults_normalise() {
    let same = [
        ("'x'", "'x'::text"),
        ("'x' :: character varying", "'x'::character varying"),
        ("now ( )", "now()"),
        ("CURRENT_TIMESTAMP", "now()"),
        ("current_timestamp", "CURRENT_TIMESTAMP"),
        ("- 1", "'-1'::integer"),
        ("0", "(0)::numeric"),
        ("'{}'", "'{}'::text[]"),
        ("'{}' :: jsonb", "'{}'::jsonb"),
        ("interval '1 day'", "'1 day'::interval"),
        ("TRUE", "true"),
        ("nextval ( 'a_seq' )", "nextval('a_seq'::regclass)"),
        ("( now ( ) AT TIME ZONE 'utc' )", "(now() AT TIME ZONE 'utc'::text)"),
        ("'it''s'", "'it''s'::text"),
        ("'active'", "'active'::status"),
        ("0.00", "0.00"),
        ("ARRAY [ ] :: text [ ]", "ARRAY[]::text[]"),
        ("'2024-01-01' :: timestamp with time zone", "'2024-01-01 00:00:00+00'::timestamp with time zone"),
    ];
    for (i, (written, catalog)) in same.iter().enumerate() {
        if i == same.len() - 1 {
            // Different texts stay different.
            assert_ne!(normalize_default(written), normalize_default(catalog));
        } else {
            assert_eq!(normalize_default(written), normalize_default(catalog), "{written} vs {catalog}");
        }
    }
    assert_ne!(normalize_default("'x'"), normalize_default("'y'::text"));
    assert_ne!(normalize_default("1"), normalize_default("2"));
    assert_eq!(normalize_default("NULL"), "null");
    assert_eq!(compact("nextval ( 'a' :: regclass )"), "nextval('a'::regclass)");
}
