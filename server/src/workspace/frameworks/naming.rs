//! Names and layouts of a new migration in a framework's own conventions: the next version
//! key after a migration of the set, and the files the runner expects for it (goose and dbmate
//! annotations, Flyway's `.sql.conf`, Diesel's directory with `metadata.toml`, …). Used by the
//! recovery migration (`live::recovery`) and by quick fixes that move a statement into a
//! migration of its own (`fixes`).

use std::path::{Path, PathBuf};

use crate::workspace::{FrameworkKind, MigrationSet, VersionKey};

/// One file of a new migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFile {
    /// Where it goes: under the set's directory.
    pub path: PathBuf,
    /// The path relative to the set's directory (`0004_x.up.sql`, `20240102120001_x/migration.sql`).
    pub name: String,
    pub text: String,
    /// A runner configuration file rather than SQL (Flyway `.sql.conf`, Diesel `metadata.toml`).
    pub config: bool,
}

/// Names new migrations after one migration of a set (by default its newest).
#[derive(Debug, Clone)]
pub struct Namer {
    kind: FrameworkKind,
    dir: PathBuf,
    /// The base version's text as it appears in names (`0003`, `20240101120000`,
    /// `2024-01-01-120000`, Flyway `1_10`).
    version: String,
    slug: String,
    /// sqlx reversible migrations (`.up.sql` / `.down.sql`).
    reversible: bool,
    /// One directory per migration (Prisma, Diesel, Drizzle's beta layout).
    directories: bool,
    /// Versions count down from the base ([`Namer::before`]) instead of up.
    down: bool,
    /// pop: the dialect tag of the new files (`postgres`).
    tag: &'static str,
}

impl Namer {
    /// Names after the set's newest migration.
    pub fn after_newest(set: &MigrationSet, slug: &str) -> Namer {
        let newest = set.migrations.iter().rev().find_map(|m| m.up.as_deref().or(m.down.as_deref()));
        Namer::from_file(set, newest, slug)
    }

    /// Names after migration `index` of the set.
    pub fn after(set: &MigrationSet, index: usize, slug: &str) -> Namer {
        let base = set.migrations.get(index).and_then(|m| m.up.as_deref().or(m.down.as_deref()));
        Namer::from_file(set, base, slug)
    }

    /// Names after the migration file (or Prisma/Diesel directory file) at `path`, which may be
    /// one the set does not list (a migration at the shipped ref that this branch lacks).
    pub fn after_file(set: &MigrationSet, path: &Path, slug: &str) -> Namer {
        Namer::from_file(set, Some(path), slug)
    }

    /// The base version's text as it appears in names (`0003`, `20240101120000`, Flyway `1_10`).
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Names before migration `index` of the set: its version minus one, two, … in its own
    /// format (`0010` → `0009`, `20240101120000` → `20240101119999`: runners compare the
    /// number, not a time). Whether that still sorts after the migration before it is for the
    /// caller to check.
    pub fn before(set: &MigrationSet, index: usize, slug: &str) -> Namer {
        Namer { down: true, ..Namer::after(set, index, slug) }
    }

    fn from_file(set: &MigrationSet, base: Option<&Path>, slug: &str) -> Namer {
        let file_name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let dir_name = |p: &Path| p.parent().map(file_name).unwrap_or_default();
        let directories = matches!(set.framework, FrameworkKind::Prisma | FrameworkKind::Diesel)
            || (set.framework == FrameworkKind::Drizzle && base.is_some_and(|p| file_name(p) == "migration.sql"));
        let source = base.map(|p| if directories { dir_name(p) } else { file_name(p) }).unwrap_or_default();
        let version = match set.framework {
            FrameworkKind::Flyway => {
                let rest = source.strip_prefix(['V', 'v']).unwrap_or("");
                rest.split("__").next().unwrap_or("").to_string()
            }
            FrameworkKind::Diesel => source.chars().take_while(|c| c.is_ascii_digit() || *c == '-').collect(),
            _ => source.chars().take_while(char::is_ascii_digit).collect(),
        };
        let version = if version.is_empty() { format!("{:04}", set.migrations.len()) } else { version };
        let reversible = set.framework == FrameworkKind::Sqlx && source.ends_with(".up.sql");
        let tag = super::pop::new_file_tag(set.dialect, base);
        Namer {
            kind: set.framework,
            dir: set.dir.clone(),
            version,
            slug: slug.to_string(),
            reversible,
            directories,
            down: false,
            tag,
        }
    }

    /// The directory of the set.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The version `k + 1` steps after the base (before it, for [`Namer::before`]), in its own
    /// format.
    pub fn next(&self, k: usize) -> String {
        let step = k as u128 + 1;
        let shift = |digits: &str| if self.down { lower(digits, step) } else { bump(digits, step) };
        match self.kind {
            FrameworkKind::Flyway => {
                // Shift the last numeric part: `1_10` → `1_11`, `3` → `4`, `1.2` → `1.3`.
                let cut = self.version.rfind(['.', '_']).map_or(0, |i| i + 1);
                let (head, last) = self.version.split_at(cut);
                let shifted = shift(last);
                // Flyway reads the parts as numbers: `1_10` goes down to `1_9`, not `1_09`.
                let unpadded = if last.starts_with('0') { &shifted } else { shifted.trim_start_matches('0') };
                format!("{head}{}", if unpadded.is_empty() { "0" } else { unpadded })
            }
            FrameworkKind::Diesel => {
                let digits: String = self.version.chars().filter(char::is_ascii_digit).collect();
                let next = shift(&digits);
                if next.len() != digits.len() {
                    return next;
                }
                // Put the dashes back where they were.
                let mut out = String::new();
                let mut d = next.chars();
                for c in self.version.chars() {
                    out.push(if c == '-' { '-' } else { d.next().unwrap_or('0') });
                }
                out
            }
            _ => shift(&self.version),
        }
    }

    /// The version key of migration `k` (as the framework reads it from the file name).
    pub fn version_key(&self, k: usize) -> Option<VersionKey> {
        let first = self.files(k, &|_| String::new(), "", false, "").into_iter().next()?;
        super::framework(self.kind).version_of(&first.path)
    }

    /// The files of migration `k` (the `k + 1`-th after the base): `body(goose)` is its SQL
    /// (goose wants `StatementBegin`/`StatementEnd` around PL/pgSQL blocks), `intro` the comment
    /// lines that open it, `down` the text of its down part where the framework has one;
    /// `outside_transaction` adds the framework's opt-out.
    pub fn files(
        &self,
        k: usize,
        body: &dyn Fn(bool) -> String,
        intro: &str,
        outside_transaction: bool,
        down: &str,
    ) -> Vec<NewFile> {
        let v = self.next(k);
        let s = &self.slug;
        let mut out = Vec::new();
        let mut file = |name: String, text: String, config: bool| {
            out.push(NewFile { path: self.dir.join(&name), name, text, config });
        };
        match self.kind {
            FrameworkKind::GolangMigrate => file(format!("{v}_{s}.up.sql"), format!("{intro}\n{}", body(false)), false),
            FrameworkKind::Goose => {
                let mut text = String::new();
                if outside_transaction {
                    text.push_str("-- +goose NO TRANSACTION\n");
                }
                text.push_str("-- +goose Up\n");
                text.push_str(intro);
                text.push('\n');
                text.push_str(&body(true));
                text.push_str("\n-- +goose Down\n");
                text.push_str(down);
                file(format!("{v}_{s}.sql"), text, false);
            }
            FrameworkKind::Dbmate => {
                let directive =
                    if outside_transaction { "-- migrate:up transaction:false\n" } else { "-- migrate:up\n" };
                file(
                    format!("{v}_{s}.sql"),
                    format!("{directive}{intro}\n{}\n-- migrate:down\n{down}", body(false)),
                    false,
                );
            }
            FrameworkKind::Sqlx => {
                let directive = if outside_transaction { "-- no-transaction\n" } else { "" };
                let text = format!("{directive}{intro}\n{}", body(false));
                if self.reversible {
                    file(format!("{v}_{s}.up.sql"), text, false);
                    file(format!("{v}_{s}.down.sql"), down.to_string(), false);
                } else {
                    file(format!("{v}_{s}.sql"), text, false);
                }
            }
            FrameworkKind::Atlas => {
                let directive = if outside_transaction { "-- atlas:txmode none\n\n" } else { "" };
                file(format!("{v}_{s}.sql"), format!("{directive}{intro}\n{}", body(false)), false);
            }
            FrameworkKind::Flyway => {
                let name = format!("V{v}__{s}.sql");
                file(name.clone(), format!("{intro}\n{}", body(false)), false);
                if outside_transaction {
                    file(format!("{name}.conf"), "executeInTransaction=false\n".into(), true);
                }
            }
            FrameworkKind::Prisma => file(format!("{v}_{s}/migration.sql"), format!("{intro}\n{}", body(false)), false),
            FrameworkKind::Diesel => {
                file(format!("{v}_{s}/up.sql"), format!("{intro}\n{}", body(false)), false);
                file(format!("{v}_{s}/down.sql"), down.to_string(), false);
                if outside_transaction {
                    file(format!("{v}_{s}/metadata.toml"), "run_in_transaction = false\n".into(), true);
                }
            }
            FrameworkKind::Drizzle if self.directories => {
                file(format!("{v}_{s}/migration.sql"), format!("{intro}\n{}", body(false)), false)
            }
            FrameworkKind::Pop => {
                // Tagged: the SQL is for this dialect; popx wants a down file for every up file.
                let t = self.tag;
                file(format!("{v}_{s}.{t}.up.sql"), format!("{intro}\n{}", body(false)), false);
                file(format!("{v}_{s}.{t}.down.sql"), down.to_string(), false);
            }
            FrameworkKind::NodePgMigrate => file(
                format!("{v}_{s}.sql"),
                format!("-- Up Migration\n{intro}\n{}\n-- Down Migration\n{down}", body(false)),
                false,
            ),
            FrameworkKind::Supabase | FrameworkKind::Drizzle | FrameworkKind::Plain => {
                file(format!("{v}_{s}.sql"), format!("{intro}\n{}", body(false)), false)
            }
        }
        out
    }
}

/// Whether [`Namer::files`] writes the framework's transaction opt-out when asked
/// (`outside_transaction`): the frameworks that have one for a single migration.
pub fn writes_opt_out(kind: FrameworkKind) -> bool {
    matches!(
        kind,
        FrameworkKind::Goose
            | FrameworkKind::Dbmate
            | FrameworkKind::Sqlx
            | FrameworkKind::Atlas
            | FrameworkKind::Flyway
            | FrameworkKind::Diesel
    )
}

/// Whether the runner applies a migration file written by [`Namer::files`] as it is. Drizzle
/// applies only what `meta/_journal.json` lists, which `drizzle-kit` writes.
pub fn runner_reads_new_files(kind: FrameworkKind) -> bool {
    kind != FrameworkKind::Drizzle
}

/// `digits + step`, zero-padded to the same width.
pub fn bump(digits: &str, step: u128) -> String {
    match digits.parse::<u128>() {
        Ok(n) => format!("{:0width$}", n.saturating_add(step), width = digits.len()),
        Err(_) => format!("{digits}{step}"),
    }
}

/// `digits - step`, zero-padded to the same width; `digits` itself when that would go below
/// zero (a version no new migration can take).
pub fn lower(digits: &str, step: u128) -> String {
    match digits.parse::<u128>().ok().and_then(|n| n.checked_sub(step)) {
        Some(n) => format!("{:0width$}", n, width = digits.len()),
        None => digits.to_string(),
    }
}

/// `prefix` and `words` as a file-name slug: lower case, `_` between words, at most 60 bytes.
pub fn slug(prefix: &str, words: &str) -> String {
    let mut s = String::from(prefix);
    let mut last_sep = s.is_empty() || s.ends_with('_');
    for c in words.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
            last_sep = false;
        } else if !last_sep {
            s.push('_');
            last_sep = true;
        }
    }
    while s.ends_with('_') {
        s.pop();
    }
    s.truncate(60);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::Dialect;
    use crate::workspace::{Migration, TransactionMode};

    fn set(kind: FrameworkKind, files: &[&str]) -> MigrationSet {
        let dir = PathBuf::from("/m");
        let migrations = files
            .iter()
            .map(|f| Migration {
                version: super::super::framework(kind)
                    .version_of(&dir.join(f))
                    .unwrap_or(VersionKey::Text(f.to_string())),
                name: String::new(),
                up: Some(dir.join(f)),
                down: None,
                transaction: TransactionMode::default(),
            })
            .collect();
        MigrationSet { dir, framework: kind, dialect: Dialect::Postgres, migrations }
    }

    #[test]
    fn next_names_follow_the_base_migration() {
        let s = set(FrameworkKind::GolangMigrate, &["0001_a.up.sql", "0002_b.up.sql"]);
        let after_first = Namer::after(&s, 0, "x");
        assert_eq!(after_first.files(0, &|_| String::new(), "", false, "")[0].name, "0002_x.up.sql");
        assert_eq!(after_first.version_key(0), Some(VersionKey::Numeric(vec![2])));
        assert_eq!(Namer::after_newest(&s, "x").files(0, &|_| String::new(), "", false, "")[0].name, "0003_x.up.sql");
        let p = set(FrameworkKind::Prisma, &["20240101120000_init/migration.sql"]);
        let files = Namer::after(&p, 0, "y").files(0, &|_| "SELECT 1;\n".into(), "-- hi\n", false, "");
        assert_eq!(files[0].name, "20240101120001_y/migration.sql");
        assert_eq!(files[0].text, "-- hi\n\nSELECT 1;\n");
    }

    #[test]
    fn names_before_a_migration_count_down_in_its_format() {
        let s = set(FrameworkKind::Goose, &["00001_a.sql", "00005_b.sql"]);
        let before = Namer::before(&s, 1, "x");
        assert_eq!(before.files(0, &|_| String::new(), "", false, "")[0].name, "00004_x.sql");
        assert_eq!(before.version_key(0), Some(VersionKey::Numeric(vec![4])));
        let d = set(FrameworkKind::Diesel, &["2024-01-01-120000_init/up.sql"]);
        assert_eq!(
            Namer::before(&d, 0, "y").files(0, &|_| String::new(), "", false, "")[0].name,
            "2024-01-01-119999_y/up.sql"
        );
        let f = set(FrameworkKind::Flyway, &["V1_10__a.sql"]);
        assert_eq!(Namer::before(&f, 0, "z").files(0, &|_| String::new(), "", false, "")[0].name, "V1_9__z.sql");
        assert_eq!(lower("0000", 1), "0000");
    }

    #[test]
    fn pop_writes_a_tagged_up_and_down_file() {
        let s = set(FrameworkKind::Pop, &["20240101000000_a.postgres.up.sql", "20240102000000_b.up.sql"]);
        let names = |n: &Namer| -> Vec<String> {
            n.files(0, &|_| String::new(), "", false, "DROP INDEX i;\n").into_iter().map(|f| f.name).collect()
        };
        // After an untagged file: the set's dialect.
        assert_eq!(
            names(&Namer::after_newest(&s, "x")),
            ["20240102000001_x.postgres.up.sql", "20240102000001_x.postgres.down.sql"]
        );
        assert_eq!(names(&Namer::after(&s, 0, "y"))[0], "20240101000001_y.postgres.up.sql");
        assert_eq!(Namer::after(&s, 0, "y").version_key(0), Some(VersionKey::Text("20240101000001".into())));
        let mut sqlite = set(FrameworkKind::Pop, &["1_a.sqlite.up.sql"]);
        sqlite.dialect = Dialect::Sqlite;
        assert_eq!(names(&Namer::after_newest(&sqlite, "z"))[0], "2_z.sqlite3.up.sql");
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("recover_", "Add Email-index!"), "recover_add_email_index");
        assert_eq!(slug("", "orders_Customer idx"), "orders_customer_idx");
        assert_eq!(bump("0009", 1), "0010");
        assert_eq!(bump("20240101120000", 2), "20240101120002");
    }
}
