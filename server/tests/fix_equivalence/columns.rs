//! Adding columns: a constant default, the nullable column filled in batches with NOT NULL
//! enforced through a validated check, and a volatile default split into SET DEFAULT and a
//! backfill.

use super::*;

/// 12,000 users: the batched backfill (5,000 rows a round) takes three rounds.
const ROWS: usize = 12_000;
const ROUNDS: i64 = 3;

const USERS: &str = "CREATE TABLE users (id bigint PRIMARY KEY, name text);\n";

fn seeded() -> String {
    format!("{USERS}INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, {ROWS}) g;\n")
}

const NOT_NULL: &str = "add-column-not-null-no-default";
const REWRITE: &str = "add-column-rewrite";
const COUNTRY: &str = "ALTER TABLE users ADD COLUMN country text NOT NULL;";
/// The value the user writes in place of the backfill's marked placeholder.
const PLACEHOLDER: &str = "'' /* safemig: choose the value for existing rows */";

/// The fixed set of `fixed` with the seed migration `seed_rel` holding `seed` and the marked
/// backfill value replaced by `'US'` (what the user chooses), in a new directory.
fn as_the_user_finishes_it(fixed: &Path, seed_rel: &str, seed: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_tree(fixed, dir.path());
    std::fs::write(dir.path().join(seed_rel), seed).expect("write the seed");
    let mut replaced = 0;
    for step in steps(dir.path()) {
        let text = std::fs::read_to_string(&step.path).expect("read");
        if text.contains(PLACEHOLDER) {
            replaced += 1;
            std::fs::write(&step.path, text.replace(PLACEHOLDER, "'US'")).expect("write");
        }
    }
    assert_eq!(replaced, 1, "one migration holds the placeholder");
    dir
}

/// The `ALTER TABLE` statements the fix left in the fixed migration (migration 1 of `root`), up to
/// its backfill, run on the seeded table in one transaction: no rewrite (the data file read before
/// them stays) and no scan under a lock that blocks writes.
fn assert_fixed_statement_instant(name: &str, root: &Path) {
    let db = TestDb::with(&format!("fix_{name}"), &seeded());
    let before = filenode(&mut db.sync(), "users");
    let text = &steps(root)[1].text;
    // The statements before the backfill (the steps after it, in the same file or not, are
    // probed by `probe_set`).
    let alters: Vec<String> = statements(text)
        .into_iter()
        .take_while(|s| !s.starts_with("DO"))
        .filter(|s| s.starts_with("ALTER TABLE"))
        .collect();
    assert!(!alters.is_empty(), "{text}");
    let probed = probe_in_transaction(&db, "users", &alters);
    assert_no_blocking_scan(&probed, "users", before);
    assert!(probed.iter().all(|p| !p.scanned), "{probed:#?}");
}

/// The rounds the backfill committed: each round's rows carry its transaction id.
fn rounds(db: &TestDb) -> i64 {
    db.sync().query_one("SELECT count(DISTINCT xmin::text) FROM users", &[]).expect("xmin").get(0)
}

/// The set in `root` (migrations from 1 on) adds and fills the column without a rewrite of
/// `users` and without a scan under a lock that blocks writes; the backfill committed `rounds`
/// times.
fn probe_filled(name: &str, root: &Path, expected_rounds: i64) {
    let db = TestDb::with(&format!("fix_{name}"), "");
    let probed = probe_set(&db, root, 1, "users");
    let before = probed.first().map(|p| p.filenode).unwrap_or_default();
    assert_no_blocking_scan(&probed, "users", before);
    assert!(probed.iter().any(|p| p.sql.starts_with("DO $safemig$")), "the backfill ran: {probed:#?}");
    assert_eq!(rounds(&db), expected_rounds, "{name}: rounds committed by the backfill");
    let unfilled: i64 =
        db.sync().query_one("SELECT count(*) FROM users WHERE country IS NULL", &[]).expect("count").get(0);
    assert_eq!(unfilled, 0);
}

/// (b) on an empty table against the original (the same catalog), then with rows against what
/// the original means once the user chose the value (`NOT NULL DEFAULT 'US'`, default dropped),
/// and the lock probes with the rows.
fn nullable_case(name: &str, files: &[(&str, &str)], rel: &str, title: &str, expected_rounds: i64) {
    let fixed = check_case(&Case { name, files, rel, rule: NOT_NULL, title, safety: Safety::Unsafe });
    let (seed_rel, seed_text) = files[0];
    let seed = seed_text.replace(USERS, &seeded());
    let finished = as_the_user_finishes_it(fixed.path(), seed_rel, &seed);
    let meant = TestDb::with(&format!("fix_{name}"), &seeded());
    meant
        .sync()
        .batch_execute(
            "ALTER TABLE users ADD COLUMN country text NOT NULL DEFAULT 'US';
             ALTER TABLE users ALTER COLUMN country DROP DEFAULT;",
        )
        .expect("the original, as meant");
    let rewritten = TestDb::new(&format!("fix_{name}"));
    apply_set(&rewritten, finished.path()).unwrap_or_else(|e| panic!("{name}: {e}"));
    let diff = differences(&meant, &rewritten);
    assert!(diff.is_empty(), "{name}:\n{}", diff.join("\n"));
    assert_eq!(rounds(&rewritten), expected_rounds, "{name}: rounds committed by the backfill");
    assert_fixed_statement_instant(name, finished.path());
    probe_filled(name, finished.path(), expected_rounds);
}

#[test]
fn the_nullable_column_filled_in_batches_then_not_null() {
    let plain = format!("{COUNTRY}\n");
    nullable_case(
        "nn_nullable_plain",
        &[("migrations/001_shop.sql", USERS), ("migrations/002_country.sql", &plain)],
        "migrations/002_country.sql",
        "Add `country` nullable, backfill it in batches and enforce NOT NULL through a validated CHECK right after it",
        ROUNDS,
    );
    nullable_case(
        "nn_nullable_goose",
        &[("db/migrations/00001_shop.sql", &goose(USERS)), ("db/migrations/00002_country.sql", &goose(COUNTRY))],
        "db/migrations/00002_country.sql",
        "Add `country` nullable, backfill it in batches and enforce NOT NULL through a validated CHECK in new migrations 00003_backfill_users_country.sql to 00005_set_users_country_not_null.sql",
        ROUNDS,
    );
    nullable_case(
        "nn_nullable_golang",
        &[("db/migrations/0001_shop.up.sql", USERS), ("db/migrations/0002_country.up.sql", &plain)],
        "db/migrations/0002_country.up.sql",
        "Add `country` nullable, backfill it in batches and enforce NOT NULL through a validated CHECK in new migrations 0003_backfill_users_country.up.sql to 0005_set_users_country_not_null.up.sql",
        ROUNDS,
    );
    // node-pg-migrate always wraps: the loop runs in the migration's transaction, one round
    // after the other, committed once.
    nullable_case(
        "nn_nullable_node_pg",
        &[
            ("migrations/1700000000000_shop.sql", &format!("-- Up Migration\n{USERS}\n-- Down Migration\n")),
            ("migrations/1700000000001_country.sql", &format!("-- Up Migration\n{COUNTRY}\n-- Down Migration\n")),
        ],
        "migrations/1700000000001_country.sql",
        "Add `country` nullable",
        1,
    );
}

#[test]
fn a_constant_default_the_user_chooses() {
    // Against the original on an empty table: the same catalog but for the default.
    let except_the_default = |a: &TestDb, b: &TestDb| {
        let diff = differences(a, b);
        let expected = ["column public.users.country pos=3 type=text notnull=t default=-", "default=''::text"];
        let (about_default, rest): (Vec<String>, Vec<String>) =
            diff.into_iter().partition(|d| expected.iter().any(|e| d.contains(e)));
        assert_eq!(about_default.len(), 2, "the default differs: {about_default:?}");
        rest
    };
    let fixed = check_case_by(
        &Case {
            name: "nn_default_plain",
            files: &[("migrations/001_shop.sql", USERS), ("migrations/002_country.sql", &format!("{COUNTRY}\n"))],
            rel: "migrations/002_country.sql",
            rule: NOT_NULL,
            title: "Add a constant default `DEFAULT ''`",
            safety: Safety::Unsafe,
        },
        &except_the_default,
    );
    // With rows: the original fails, the rewritten set fills every row, instantly.
    let db = TestDb::with("fix_nn_default_rows", &seeded());
    db.sync().batch_execute(COUNTRY).expect_err("the original fails on the first row");
    let filenode_before = filenode(&mut db.sync(), "users");
    let text = std::fs::read_to_string(fixed.path().join("migrations/002_country.sql")).expect("read");
    let probed = probe_in_transaction(&db, "users", &statements(&text));
    assert_no_blocking_scan(&probed, "users", filenode_before);
    assert!(!probed[0].scanned, "{probed:#?}");
    db.sync().batch_execute(&text).expect("the rewritten statement");
    let filled: i64 = db.sync().query_one("SELECT count(*) FROM users WHERE country = ''", &[]).expect("count").get(0);
    assert_eq!(filled, ROWS as i64);
}

const PUBLIC_ID: &str = "ALTER TABLE users ADD COLUMN public_id uuid NOT NULL DEFAULT gen_random_uuid();";
const TOKEN: &str = "ALTER TABLE users ADD COLUMN token text DEFAULT md5(random()::text);";

/// Fix 2's case: the same catalog, every row filled with a value of the same kind; the
/// rewritten steps rewrite nothing, the original does; the backfill commits `expected_rounds`.
fn volatile_case(name: &str, files: &[(&str, &str)], rel: &str, title: &str, filled: (&str, &str), rounds_: i64) {
    let compare = |a: &TestDb, b: &TestDb| differences_filled(a, b, &[filled]);
    let fixed = check_case_by(&Case { name, files, rel, rule: REWRITE, title, safety: Safety::Unsafe }, &compare);
    let db = TestDb::with(&format!("fix_{name}"), "");
    let probed = probe_set(&db, fixed.path(), 1, "users");
    let after_first = probed.first().map(|p| p.filenode).unwrap_or_default();
    assert_no_blocking_scan(&probed, "users", after_first);
    assert_eq!(rounds(&db), rounds_, "{name}: rounds committed by the backfill");
    // ADD COLUMN and SET DEFAULT themselves: no rewrite from the data file before them.
    assert_fixed_statement_instant(name, fixed.path());
    // The same probe catches the original's rewrite.
    let db = TestDb::with(&format!("fix_{name}"), &seeded());
    let before = filenode(&mut db.sync(), "users");
    let original = files[1].1.lines().find(|l| l.starts_with("ALTER TABLE")).expect("the original statement");
    let probed = probe_in_transaction(&db, "users", &[original.to_string()]);
    let caught = std::panic::catch_unwind(|| assert_no_blocking_scan(&probed, "users", before));
    assert!(caught.is_err(), "the original passes the probe: {probed:#?}");
}

#[test]
fn a_volatile_default_becomes_set_default_and_a_backfill() {
    let seeded = seeded();
    let block = format!("BEGIN;\n{PUBLIC_ID}\nCOMMIT;\n");
    volatile_case(
        "rw_explicit",
        &[("migrations/001_shop.sql", &seeded), ("migrations/002_public_id.sql", &block)],
        "migrations/002_public_id.sql",
        "Add `public_id` without the default, SET DEFAULT for new rows, backfill the existing rows in batches and enforce NOT NULL through a validated CHECK after the COMMIT",
        ("users", "public_id"),
        ROUNDS,
    );
    volatile_case(
        "rw_goose",
        &[("db/migrations/00001_shop.sql", &goose(&seeded)), ("db/migrations/00002_token.sql", &goose(TOKEN))],
        "db/migrations/00002_token.sql",
        "Add `token` without the default, SET DEFAULT for new rows, backfill the existing rows in batches in a new migration 00003_backfill_users_token.sql",
        ("users", "token"),
        ROUNDS,
    );
    volatile_case(
        "rw_prisma",
        &[
            ("prisma/migrations/20240101000000_init/migration.sql", &seeded),
            ("prisma/migrations/20240102000000_public_id/migration.sql", &format!("{PUBLIC_ID}\n")),
            ("prisma/migrations/migration_lock.toml", "provider = \"postgresql\"\n"),
        ],
        "prisma/migrations/20240102000000_public_id/migration.sql",
        "Add `public_id` without the default, SET DEFAULT for new rows, backfill the existing rows in batches and enforce NOT NULL through a validated CHECK in new migrations 20240102000001_backfill_users_public_id/migration.sql to 20240102000003_set_users_public_id_not_null/migration.sql",
        ("users", "public_id"),
        ROUNDS,
    );
}

/// The comparison for volatile columns sees a row left NULL and ignores the values themselves.
#[test]
fn filled_columns_compare_by_presence() {
    let a = TestDb::with("fix_filled", &seeded());
    let b = TestDb::with("fix_filled", &seeded());
    a.sync().batch_execute("ALTER TABLE users ADD COLUMN token text DEFAULT md5(random()::text)").expect("add");
    b.sync().batch_execute("ALTER TABLE users ADD COLUMN token text DEFAULT md5(random()::text)").expect("add");
    assert!(!differences(&a, &b).is_empty(), "random values differ");
    assert!(differences_filled(&a, &b, &[("users", "token")]).is_empty());
    b.sync().batch_execute("UPDATE users SET token = NULL WHERE id = 7").expect("unfill a row");
    let diff = differences_filled(&a, &b, &[("users", "token")]);
    assert!(diff.iter().any(|d| d.starts_with("data") && d.contains("(7,u7,f)")), "{diff:?}");
}
