//! Statements whose verdict must be exact, shared by the parser's and the rule's tests.

/// Typos PostgreSQL rejects, each with the tail of the statement from the token where
/// PostgreSQL's grammar stops: each is `Invalid` there, with PostgreSQL's message.
pub(crate) const TYPOS: &[(&str, &str)] = &[
    ("ALTER TABL users ADD COLUMN a int;", "TABL users ADD COLUMN a int;"),
    ("CREAT TABLE users (id int);", "CREAT TABLE users (id int);"),
    ("CREATE TABLE users (id int DEFUALT 0);", "DEFUALT 0);"),
    ("CREATE TABLE users (id int NOT NUL);", "NUL);"),
    ("UPDATE users SET a = 1 WHER id = 1;", "WHER id = 1;"),
    ("UPDATE users ST a = 1;", "a = 1;"),
    ("CREATE TABLE users (id int, name text,);", ");"),
    ("ALTER TABLE users VALIDAT CONSTRAINT users_a_check;", "VALIDAT CONSTRAINT users_a_check;"),
    ("ALTER TABLE users VALIDATE CONSTRAINTT users_a_check;", "CONSTRAINTT users_a_check;"),
    ("ALTER TABLE users ADD COLUMN ;", ";"),
    ("ALTER TABLE users ALTER COLUMN a SET DEFUALT 0;", "DEFUALT 0;"),
    ("ALTER TABLE users DROP COLUM a;", "a;"),
    ("CREATE INDX users_a_idx ON users (a);", "INDX users_a_idx ON users (a);"),
    ("CREATE INDEX CONCURENTLY users_a_idx ON users (a);", "users_a_idx ON users (a);"),
    ("CREATE INDEX users_a_idx users (a);", "users (a);"),
    ("CREATE UNIQUE INDEX users_a_idx ON users USNG btree (a);", "USNG btree (a);"),
    ("CREATE TABLE users (id int;", ";"),
    ("CREATE TABLE users (id int", ""),
    ("INSERT INTO users (id VALUES (1);", "VALUES (1);"),
    ("DELETE users WHERE id = 1;", "users WHERE id = 1;"),
    ("SELECT 1 FORM users;", "users;"),
    ("CREATE TABLE café (é int DEFUALT 1);", "DEFUALT 1);"),
];

/// Valid PostgreSQL, much of it beyond sqlparser: never `Invalid`.
pub(crate) const VALID: &[&str] = &[
    "DO $$ BEGIN PERFORM 1; END $$;",
    "DROP INDEX CONCURRENTLY IF EXISTS users_a_idx;",
    "ALTER SEQUENCE users_id_seq OWNED BY users.id;",
    "ALTER SEQUENCE users_id_seq RESTART WITH 1000;",
    "CREATE STATISTICS users_stats (dependencies) ON a, b FROM users;",
    "ALTER TABLE users ADD CONSTRAINT users_a_not_null NOT NULL a;",
    "CREATE TABLE t (a int, CONSTRAINT t_a_nn NOT NULL a);",
    "ALTER TABLE users ALTER CONSTRAINT users_org_fk DEFERRABLE INITIALLY DEFERRED;",
    "CREATE TRIGGER touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch();",
    "COMMENT ON FUNCTION auth.uid() IS 'current user';",
    "COMMENT ON COLUMN users.a IS 'a';",
    "GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO app;",
    "GRANT USAGE ON SCHEMA auth TO authenticated;",
    "CREATE POLICY own_rows ON users FOR SELECT TO authenticated USING (auth.uid() = id);",
    "ALTER POLICY own_rows ON users USING (true);",
    "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');",
    "ALTER TYPE mood ADD VALUE IF NOT EXISTS 'ecstatic' AFTER 'happy';",
    "REINDEX INDEX CONCURRENTLY users_a_idx;",
    "ALTER TRIGGER touch ON users RENAME TO touch2;",
    "SELECT U&'d\\0061t\\+000061';",
    "SELECT E'\\'';",
    "SELECT /* nested /* comment */ */ 1;",
    "-- +goose Up\n-- +goose StatementBegin\nSELECT 1;",
    "SELECT concat('${handle.canonical.prefix}', h.handle) FROM handle h;",
    "CREATE TABLE key (key text, value text, type text, name text);",
    // Reads like a misspelt `ADD CONSTRAINT`, and is a column `constrain` of type
    // `users_a_check` with a CHECK: PostgreSQL's grammar accepts it (the type lookup fails later).
    "ALTER TABLE users ADD CONSTRAIN users_a_check CHECK (a > 0);",
];
