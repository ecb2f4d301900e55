//! Data probes never run hostile code from a migration (issue 12, item 9), against a real
//! PostgreSQL (127.0.0.1:5432, user `postgres`, trust).
//!
//! The test database holds functions that act outside the probe's read-only transaction: they
//! terminate another session, take a session-level advisory lock (it outlives the rollback) and
//! write through `dblink` (a second connection, which the read-only transaction does not cover).
//! Every one of them also logs to `ran` through `dblink`, so whatever ran leaves a trace. Pending
//! migrations call them in CHECK clauses and unique index keys; after the probes, nothing happened
//! and the probe says "not probed: calls `f()`". Plain expressions are still probed, also when a
//! user function or operator in `public` would shadow the built-in one through `search_path`.

use std::path::Path;
use std::time::Duration;

use safemig::config::{DatabaseConfig, Secret};
use safemig::live::catalog::load_snapshot;
use safemig::live::connect::{connect, LiveClient};
use safemig::live::probe::{self, ProbeOutcome};
use safemig::sql::{Dialect, SqlFile};

#[path = "../../tests/support/pg.rs"]
mod pg;
use pg::TestDb;

#[path = "../../tests/support/binary.rs"]
mod binary;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime")
}

/// The hostile database: `users` (30 rows: 3 with an upper-case e-mail, 3 with a price ≤ 0),
/// functions with side effects, a `public.lower(varchar)` and a `public.=` for varchar that
/// shadow the built-ins for a varchar column, and a domain whose CHECK takes a lock.
fn hostile(db: &TestDb) {
    let log = format!("dbname={} host=127.0.0.1 port=5432 user=postgres", db.name);
    let log = log.replace('\'', "''");
    db.setup(&format!(
        r#"
CREATE EXTENSION dblink;
CREATE TABLE ran (what text);
CREATE TABLE users (id bigint PRIMARY KEY, email varchar(100) NOT NULL, price int NOT NULL);
INSERT INTO users SELECT g, CASE WHEN g % 10 = 0 THEN 'U' || g || '@X.IO' ELSE 'u' || g || '@x.io' END,
    CASE WHEN g % 10 = 5 THEN 0 ELSE g END FROM generate_series(1, 30) g;
CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
INSERT INTO schema_migrations VALUES (1, false);
CREATE FUNCTION trace(what text) RETURNS boolean LANGUAGE sql
    AS $f$ SELECT dblink_exec('{log}', format('INSERT INTO ran VALUES (%L)', what)) IS NOT NULL $f$;
CREATE FUNCTION kill(pid int) RETURNS boolean LANGUAGE sql
    AS $f$ SELECT trace('kill') AND pg_terminate_backend(pid) $f$;
CREATE FUNCTION grab() RETURNS boolean LANGUAGE sql
    AS $f$ SELECT trace('grab') AND pg_advisory_lock(4242) IS NOT NULL $f$;
CREATE FUNCTION pwn() RETURNS boolean LANGUAGE sql SECURITY DEFINER
    AS $f$ SELECT trace('pwn') AND dblink_exec('{log}', 'CREATE TABLE pwned (x int)') IS NOT NULL $f$;
CREATE FUNCTION public.lower(varchar) RETURNS varchar LANGUAGE sql
    AS $f$ SELECT CASE WHEN trace('lower') AND pg_advisory_lock(4243) IS NOT NULL THEN $1 END $f$;
CREATE FUNCTION public.evil_eq(varchar, varchar) RETURNS boolean LANGUAGE sql
    AS $f$ SELECT trace('eq') AND $1::text OPERATOR(pg_catalog.=) $2::text $f$;
CREATE OPERATOR public.= (LEFTARG = varchar, RIGHTARG = varchar, FUNCTION = public.evil_eq);
CREATE DOMAIN public.locked AS int CHECK (grab());
ANALYZE;
"#
    ));
}

/// The hostile CHECK clauses and index keys, and what the outcome must say. `victim` is the
/// backend a kill would end.
fn hostile_migrations(victim: i32, db: &TestDb) -> Vec<(String, &'static str)> {
    let conn = format!("dbname={} host=127.0.0.1 port=5432 user=postgres", db.name);
    vec![
        (format!("ALTER TABLE users ADD CONSTRAINT h1 CHECK (pg_terminate_backend({victim}) AND price > 0);"), "calls `pg_terminate_backend()`"),
        (format!("ALTER TABLE users ADD CONSTRAINT h2 CHECK (kill({victim}));"), "calls `kill()`"),
        (format!("ALTER TABLE users ADD CONSTRAINT h3 CHECK (public.kill({victim}));"), "calls `public.kill()`"),
        ("ALTER TABLE users ADD CONSTRAINT h4 CHECK (pg_catalog.pg_advisory_lock(4244) IS NOT NULL);".into(), "calls `pg_catalog.pg_advisory_lock()`"),
        ("ALTER TABLE users ADD CONSTRAINT h5 CHECK (grab());".into(), "calls `grab()`"),
        ("ALTER TABLE users ADD CONSTRAINT h6 CHECK (\"pwn\"());".into(), "calls `pwn()`"),
        (
            format!("ALTER TABLE users ADD CONSTRAINT h7 CHECK (dblink_exec('{conn}', 'CREATE TABLE pwned (x int)') = 'OK');"),
            "calls `dblink_exec()`",
        ),
        ("ALTER TABLE users ADD CONSTRAINT h8 CHECK (price > (SELECT count(*) FROM ran WHERE grab()));".into(), "contains a subquery"),
        ("CREATE UNIQUE INDEX h9 ON users ((grab()), email);".into(), "calls `grab()`"),
        ("CREATE UNIQUE INDEX h10 ON users (email) WHERE pwn();".into(), "calls `pwn()`"),
        ("ALTER TABLE users ADD CONSTRAINT h11 CHECK (price::public.locked > 0);".into(), "casts to `public.locked`"),
        ("ALTER TABLE users ADD CONSTRAINT h12 CHECK (price OPERATOR(public.=) price);".into(), "uses operator `public.=`"),
    ]
}

/// Nothing the hostile functions do happened: `victim` answers, no table `pwned`, nothing in
/// `ran`, no advisory lock held by anyone (asked while safemig's session may still be open).
fn assert_nothing_happened(db: &TestDb, victim: &mut postgres::Client) {
    victim.simple_query("SELECT 1").expect("the other session is alive");
    let mut admin = db.sync();
    let pwned: i64 =
        admin.query_one("SELECT count(*) FROM pg_class WHERE relname = 'pwned'", &[]).expect("pg_class").get(0);
    assert_eq!(pwned, 0, "a table was created");
    let ran: Vec<String> = admin.query("SELECT what FROM ran", &[]).expect("ran").iter().map(|r| r.get(0)).collect();
    assert!(ran.is_empty(), "hostile functions ran: {ran:?}");
    let locks: i64 =
        admin.query_one("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'", &[]).expect("pg_locks").get(0);
    assert_eq!(locks, 0, "an advisory lock is held");
}

async fn client(db: &TestDb) -> LiveClient {
    let cfg = DatabaseConfig { statement_timeout_ms: 5_000, connect_timeout_ms: 5_000, ..DatabaseConfig::default() };
    connect(&Secret::new(db.url()), &cfg).await.unwrap_or_else(|e| panic!("connect: {e}"))
}

/// Through the library, with safemig's session still open when the locks are read.
#[test]
fn hostile_expressions_are_not_probed() {
    let db = TestDb::new("t_hostile_probe");
    hostile(&db);
    let mut victim = db.sync();
    let pid: i32 = victim.query_one("SELECT pg_backend_pid()", &[]).expect("pid").get(0);
    let rt = runtime();
    let client = rt.block_on(client(&db));
    let snap = rt.block_on(load_snapshot(&client)).unwrap_or_else(|e| panic!("snapshot: {e}"));
    for (sql, why_expected) in hostile_migrations(pid, &db) {
        let file = SqlFile::parse(&sql, Dialect::Postgres, None);
        let reqs = probe::plan(&file, &snap);
        assert!(!reqs.is_empty(), "planned: {sql}");
        for req in &reqs {
            match rt.block_on(probe::run(&client, req, Duration::from_secs(5))) {
                ProbeOutcome::NotProbed(why) => assert!(why.contains(why_expected), "{sql}: {why}"),
                other => panic!("{sql}: probed: {other:?}"),
            }
        }
    }
    assert_nothing_happened(&db, &mut victim);

    // Plain expressions are still probed and find the rows; `lower` and `=` are the built-ins
    // even though `public` has a better match for a varchar column.
    for (sql, count) in [
        ("ALTER TABLE users ADD CONSTRAINT p1 CHECK (price > 0);", 3),
        ("ALTER TABLE users ADD CONSTRAINT p2 CHECK (lower(email) = email);", 3),
        ("ALTER TABLE users ADD CONSTRAINT p3 CHECK (pg_catalog.lower(email) = email::text AND length(email) < 100);", 3),
        ("ALTER TABLE users ADD CONSTRAINT p4 CHECK (CAST(price AS numeric(10, 2)) > 0 AND email LIKE '%@%');", 3),
        ("CREATE UNIQUE INDEX p5 ON users (lower(email), (price % 2 = 0)) WHERE email <> 'x';", 0),
    ] {
        let file = SqlFile::parse(sql, Dialect::Postgres, None);
        let reqs = probe::plan(&file, &snap);
        assert_eq!(reqs.len(), 1, "{sql}");
        match rt.block_on(probe::run(&client, &reqs[0], Duration::from_secs(5))) {
            ProbeOutcome::Violations { count: n, .. } => assert_eq!(n, count, "{sql}"),
            ProbeOutcome::Clean => assert_eq!(count, 0, "{sql}"),
            other => panic!("{sql}: {other:?}"),
        }
    }
    // safemig's session is still open: a session-level lock would show.
    assert_nothing_happened(&db, &mut victim);
    assert!(!client.is_closed());
}

/// `safemig check` on a project whose pending migration is hostile: nothing happens, the
/// findings say what was not probed, and a plain CHECK next to them still finds its rows.
#[test]
fn check_does_not_run_hostile_migrations() {
    let db = TestDb::new("t_hostile_check");
    hostile(&db);
    let mut victim = db.sync();
    let pid: i32 = victim.query_one("SELECT pg_backend_pid()", &[]).expect("pid").get(0);
    let dir = tempfile::tempdir().expect("temp dir");
    let migrations = dir.path().join("migrations");
    std::fs::create_dir_all(&migrations).expect("mkdir");
    let hostile: Vec<String> = hostile_migrations(pid, &db).into_iter().map(|(sql, _)| sql).collect();
    for (name, text) in [
        (
            "0001_users.up.sql",
            "CREATE TABLE users (id bigint PRIMARY KEY, email varchar(100) NOT NULL, price int NOT NULL);\n"
                .to_string(),
        ),
        ("0002_hostile.up.sql", hostile.join("\n") + "\n"),
        ("0003_plain.up.sql", "ALTER TABLE users ADD CONSTRAINT plain CHECK (lower(email) = email);\n".to_string()),
    ] {
        std::fs::write(migrations.join(name), text).expect("write a migration");
    }
    let root = dir.path().canonicalize().expect("canonical");
    let run = binary::run(Path::new(&root), &["check", "migrations"], &[("DATABASE_URL", &db.url())]);
    let all = format!("{}\n{}", run.stdout, run.stderr);
    assert_nothing_happened(&db, &mut victim);
    assert!(all.contains("not probed: calls `pg_terminate_backend()`"), "{all}");
    assert!(all.contains("not probed: calls `grab()`"), "{all}");
    assert!(all.contains("not probed: calls `dblink_exec()`"), "{all}");
    assert!(all.contains("3 existing rows of `users` violate CHECK `plain`"), "{all}");
}

/// Every function a probe may call is a built-in of `pg_catalog` whose every overload of the
/// allowed arity is immutable (PostgreSQL 15's catalog; older servers lack some, such as
/// `regexp_like`, and the probe then fails quietly).
#[test]
fn the_allow_list_is_immutable_built_ins() {
    let db = TestDb::new("t_allow_list");
    let mut client = db.sync();
    for entry in safemig::live::harmless::IMMUTABLE {
        let (name, arity) = match entry.split_once('/') {
            Some((n, a)) => (n, Some(a.parse::<i16>().expect("arity"))),
            None => (*entry, None),
        };
        let row = client
            .query_one(
                "SELECT count(*), count(*) FILTER (WHERE provolatile <> 'i' OR oid >= 16384) FROM pg_proc \
                 WHERE pronamespace = 'pg_catalog'::regnamespace AND proname = $1 \
                 AND ($2::int2 IS NULL OR pronargs = $2)",
                &[&name, &arity],
            )
            .expect("pg_proc");
        let (all, bad): (i64, i64) = (row.get(0), row.get(1));
        assert!(all > 0, "{entry} is not in pg_catalog");
        assert_eq!(bad, 0, "{entry} has overloads that are not immutable built-ins");
    }
}
