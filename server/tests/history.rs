//! History rules against real git repositories built in temporary directories: a Prisma, a
//! goose, a golang-migrate, a Flyway and a Supabase project, each with a bare "origin" remote
//! whose `main` is the shipped ref. Every scenario runs for every framework.

use std::cell::Cell;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use safemig::config::Config;
use safemig::engine::analyze_parsed;
use safemig::history::{self, CommitInfo, GitHistory, HistoryOff, MigrationStatus};
use safemig::rules::context::NoSchema;
use safemig::rules::Finding;
use safemig::sql::{Dialect, SqlFile};
use safemig::workspace::{discover, FrameworkKind, MigrationSet};

// ---------------------------------------------------------------------------------------------
// Projects

/// How one framework lays out a migration.
#[derive(Clone, Copy)]
struct Layout {
    kind: FrameworkKind,
    /// Files a project of this kind has besides its migrations.
    scaffold: &'static [(&'static str, &'static str)],
    /// The files of migration number `n` called `name` whose up part is `sql`: (path, text). The
    /// first is the file findings about the migration go on.
    files: fn(u32, &str, &str) -> Vec<(String, String)>,
    /// Lines before the up SQL in the first file.
    header_lines: usize,
    /// Whether two migrations with the same number share a version key (not Prisma: its key is the
    /// whole directory name).
    number_is_version: bool,
}

fn timestamp(n: u32) -> u64 {
    20260301000000 + u64::from(n)
}

const PRISMA: Layout = Layout {
    kind: FrameworkKind::Prisma,
    scaffold: &[
        ("prisma/schema.prisma", "datasource db {\n  provider = \"postgresql\"\n  url = env(\"DATABASE_URL\")\n}\n"),
        ("prisma/migrations/migration_lock.toml", "provider = \"postgresql\"\n"),
    ],
    files: |n, name, sql| vec![(format!("prisma/migrations/{}_{name}/migration.sql", timestamp(n)), sql.to_string())],
    header_lines: 0,
    number_is_version: false,
};

const GOOSE: Layout = Layout {
    kind: FrameworkKind::Goose,
    scaffold: &[("go.mod", "module example.com/app\n\ngo 1.22\n")],
    files: |n, name, sql| {
        vec![(format!("db/migrations/{n:05}_{name}.sql"), format!("-- +goose Up\n{sql}\n-- +goose Down\nSELECT 1;\n"))]
    },
    header_lines: 1,
    number_is_version: true,
};

const GOLANG_MIGRATE: Layout = Layout {
    kind: FrameworkKind::GolangMigrate,
    scaffold: &[("go.mod", "module example.com/app\n\ngo 1.22\n")],
    files: |n, name, sql| {
        vec![
            (format!("migrations/{n:06}_{name}.up.sql"), sql.to_string()),
            (format!("migrations/{n:06}_{name}.down.sql"), "SELECT 1;\n".to_string()),
        ]
    },
    header_lines: 0,
    number_is_version: true,
};

const FLYWAY: Layout = Layout {
    kind: FrameworkKind::Flyway,
    scaffold: &[("pom.xml", "<project><artifactId>app</artifactId></project>\n")],
    files: |n, name, sql| vec![(format!("src/main/resources/db/migration/V{n}__{name}.sql"), sql.to_string())],
    header_lines: 0,
    number_is_version: true,
};

const SUPABASE: Layout = Layout {
    kind: FrameworkKind::Supabase,
    scaffold: &[("supabase/config.toml", "project_id = \"app\"\n")],
    files: |n, name, sql| vec![(format!("supabase/migrations/{}_{name}.sql", timestamp(n)), sql.to_string())],
    header_lines: 0,
    number_is_version: true,
};

const LAYOUTS: &[Layout] = &[PRISMA, GOOSE, GOLANG_MIGRATE, FLYWAY, SUPABASE];

const USERS: &str = "CREATE TABLE users (\n    id bigint PRIMARY KEY,\n    email text NOT NULL\n);\n";
const ORDERS: &str = "CREATE TABLE orders (\n    id bigint PRIMARY KEY,\n    user_id bigint NOT NULL\n);\n";
const ITEMS: &str = "CREATE TABLE items (\n    id bigint PRIMARY KEY,\n    title text NOT NULL\n);\n";

/// A work tree with a bare `origin` next to it; `origin/main` is the shipped ref.
struct Project {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    layout: Layout,
    day: Cell<u32>,
}

fn git_in(dir: &Path, args: &[&str], day: u32) -> String {
    let date = format!("2026-03-{:02}T12:00:00+00:00", day.clamp(1, 28));
    let out = Command::new("git")
        .current_dir(dir)
        .args(["-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", "-c", "core.autocrlf=false"])
        .args(args)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Ada")
        .env("GIT_AUTHOR_EMAIL", "ada@example.com")
        .env("GIT_COMMITTER_NAME", "Ada")
        .env("GIT_COMMITTER_EMAIL", "ada@example.com")
        .env("GIT_AUTHOR_DATE", &date)
        .env("GIT_COMMITTER_DATE", &date)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

impl Project {
    fn new(layout: Layout) -> Project {
        let tmp = tempfile::tempdir().expect("temp dir");
        let root = tmp.path().join("app");
        fs::create_dir_all(&root).expect("mkdir");
        git_in(tmp.path(), &["init", "-q", "--bare", "origin.git"], 1);
        let p = Project { _tmp: tmp, root, layout, day: Cell::new(1) };
        p.git(&["init", "-q"]);
        p.git(&["remote", "add", "origin", "../origin.git"]);
        for (path, text) in layout.scaffold {
            p.write(path, text);
        }
        p
    }

    fn git(&self, args: &[&str]) -> String {
        git_in(&self.root, args, self.day.get())
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.root.join(rel);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(path, text).expect("write");
    }

    fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.root.join(rel)).expect("read")
    }

    /// Writes migration `n`; returns its files (the first is the one findings go on).
    fn add(&self, n: u32, name: &str, sql: &str) -> Vec<String> {
        let files = (self.layout.files)(n, name, sql);
        for (path, text) in &files {
            self.write(path, text);
        }
        files.into_iter().map(|(p, _)| p).collect()
    }

    /// Deletes a migration's files (and Prisma's directory).
    fn remove(&self, files: &[String]) {
        for f in files {
            fs::remove_file(self.root.join(f)).expect("remove");
        }
        if let Some(dir) = files.first().and_then(|f| Path::new(f).parent()) {
            let dir = self.root.join(dir);
            if fs::read_dir(&dir).map(|mut d| d.next().is_none()).unwrap_or(false) {
                fs::remove_dir(dir).expect("rmdir");
            }
        }
    }

    /// Commits everything, one day after the previous commit; returns the commit as git shows it.
    fn commit(&self, message: &str) -> CommitInfo {
        self.day.set(self.day.get() + 1);
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
        CommitInfo { hash: self.git(&["rev-parse", "--short", "HEAD"]), date: format!("2026-03-{:02}", self.day.get()) }
    }

    /// Pushes the current branch to origin's `main` and fetches it: it has shipped.
    fn ship(&self) {
        self.git(&["push", "-q", "origin", "HEAD:refs/heads/main"]);
        self.git(&["fetch", "-q", "origin"]);
        self.git(&["remote", "set-head", "origin", "main"]);
    }

    fn sets(&self) -> Vec<MigrationSet> {
        let sets = discover(&self.root, &Config::default()).sets;
        assert_eq!(sets.len(), 1, "{:?}: one set expected, got {sets:#?}", self.layout.kind);
        assert_eq!(sets[0].framework, self.layout.kind);
        sets
    }

    fn history(&self) -> Result<GitHistory, HistoryOff> {
        GitHistory::load(&self.root, &self.sets(), None)
    }

    /// All history findings as (path relative to the root, finding), sorted.
    fn findings(&self) -> Vec<(String, Finding)> {
        let sets = self.sets();
        let git = GitHistory::load(&self.root, &sets, None).expect("history is on");
        self.findings_with(&sets, Some(&git))
    }

    fn findings_with(&self, sets: &[MigrationSet], git: Option<&GitHistory>) -> Vec<(String, Finding)> {
        let mut out: Vec<(String, Finding)> =
            history::findings(sets, git, &read_file).into_iter().map(|(path, f)| (rel(&self.root, &path), f)).collect();
        out.sort_by(|a, b| (&a.0, a.1.range.start, a.1.rule).cmp(&(&b.0, b.1.range.start, b.1.rule)));
        out
    }
}

fn read_file(path: &Path) -> Option<(Arc<str>, Arc<SqlFile>)> {
    let text = fs::read_to_string(path).ok()?;
    let file = SqlFile::parse(&text, Dialect::Postgres, None);
    Some((Arc::from(text), Arc::new(file)))
}

fn rel(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).to_string_lossy().replace('\\', "/")
}

/// `(file, rule)` pairs, for a readable assertion.
fn summary(findings: &[(String, Finding)]) -> Vec<(String, &'static str)> {
    findings.iter().map(|(p, f)| (p.clone(), f.rule)).collect()
}

fn with_rule<'f>(findings: &'f [(String, Finding)], rule: &str) -> Vec<&'f (String, Finding)> {
    findings.iter().filter(|(_, f)| f.rule == rule).collect()
}

/// 1-based first and last line of a byte range.
fn lines_of(text: &str, range: &std::ops::Range<usize>) -> (usize, usize) {
    let line = |at: usize| text[..at].matches('\n').count() + 1;
    (line(range.start), line(range.end))
}

/// Ships 1 (users) and 2 (orders) from `main`; returns their files and the shipping commit.
fn shipped_base(p: &Project) -> (Vec<String>, Vec<String>, CommitInfo) {
    let one = p.add(1, "create_users", USERS);
    let two = p.add(2, "create_orders", ORDERS);
    let commit = p.commit("users and orders");
    p.ship();
    (one, two, commit)
}

// ---------------------------------------------------------------------------------------------
// A clean branch, statuses, refresh

#[test]
fn a_clean_feature_branch_has_no_history_findings() {
    for &layout in LAYOUTS {
        let p = Project::new(layout);
        let (one, _, shipped) = shipped_base(&p);
        p.git(&["checkout", "-q", "-b", "feature"]);
        let three = p.add(3, "create_items", ITEMS);
        let added = p.commit("items");
        let staged = p.add(4, "add_users_name", "ALTER TABLE users ADD COLUMN name text;\n");
        p.git(&["add", "--", &staged[0]]);
        let untracked = p.add(5, "add_orders_note", "ALTER TABLE orders ADD COLUMN note text;\n");

        assert_eq!(summary(&p.findings()), vec![], "{:?}", layout.kind);

        let git = p.history().expect("history is on");
        assert_eq!(git.shipped_ref(), "origin/main");
        assert_eq!(git.status(&p.root.join(&one[0])), MigrationStatus::Shipped { commit: Some(shipped.clone()) });
        assert_eq!(git.status(&p.root.join(&three[0])), MigrationStatus::Committed { commit: added });
        assert_eq!(git.status(&p.root.join(&staged[0])), MigrationStatus::Uncommitted);
        assert_eq!(git.status(&p.root.join(&untracked[0])), MigrationStatus::Untracked);
    }
}

#[test]
fn refresh_rereads_only_when_head_or_the_ref_moved() {
    let p = Project::new(GOOSE);
    shipped_base(&p);
    p.git(&["checkout", "-q", "-b", "feature"]);
    let mut git = p.history().expect("history is on");
    assert!(!git.moved());
    assert_eq!(git.refresh_if_moved(), Ok(false));

    let three = p.add(3, "create_items", ITEMS);
    assert_eq!(git.status(&p.root.join(&three[0])), MigrationStatus::Untracked);
    p.git(&["add", "-A"]);
    git.refresh_worktree().expect("status");
    assert_eq!(git.status(&p.root.join(&three[0])), MigrationStatus::Uncommitted);

    let commit = p.commit("items");
    assert!(git.moved(), "a commit moves HEAD");
    assert_eq!(git.refresh_if_moved(), Ok(true));
    assert!(!git.moved());
    assert_eq!(git.status(&p.root.join(&three[0])), MigrationStatus::Committed { commit: commit.clone() });
    assert_eq!(git.refresh_if_moved(), Ok(false));

    p.ship();
    assert!(git.moved(), "shipping moves the ref");
    assert_eq!(git.refresh_if_moved(), Ok(true));
    assert_eq!(git.status(&p.root.join(&three[0])), MigrationStatus::Shipped { commit: Some(commit) });
}

#[test]
fn a_relative_or_differently_spelled_path_finds_the_same_file() {
    let p = Project::new(FLYWAY);
    let (one, _, shipped) = shipped_base(&p);
    let git = p.history().expect("history is on");
    let dotted = p.root.join(".").join(&one[0]);
    assert_eq!(git.status(&dotted), MigrationStatus::Shipped { commit: Some(shipped) });
}

// ---------------------------------------------------------------------------------------------
// shipped-migration-edited

#[test]
fn an_edited_shipped_migration_is_reported_on_each_changed_hunk() {
    for &layout in LAYOUTS {
        let p = Project::new(layout);
        let one = p.add(1, "create_users", USERS);
        p.commit("users");
        let two = p.add(2, "create_orders", ORDERS);
        let shipped = p.commit("orders");
        p.ship();
        p.git(&["checkout", "-q", "-b", "feature"]);

        // Change line 3 of the SQL and append a statement.
        let old = p.read(&two[0]);
        let new = old.replace("user_id bigint NOT NULL", "user_id bigint NOT NULL REFERENCES users")
            + "CREATE INDEX orders_user_id_idx ON orders (user_id);\n";
        p.write(&two[0], &new);

        let found = p.findings();
        assert_eq!(
            summary(&found),
            vec![(two[0].clone(), "shipped-migration-edited"), (two[0].clone(), "shipped-migration-edited")],
            "{:?}",
            layout.kind
        );
        let h = layout.header_lines;
        assert_eq!(lines_of(&new, &found[0].1.range), (h + 3, h + 3), "{:?}", layout.kind);
        assert_eq!(&new[found[0].1.range.clone()], "    user_id bigint NOT NULL REFERENCES users");
        let last = new.lines().count();
        assert_eq!(lines_of(&new, &found[1].1.range), (last, last), "{:?}", layout.kind);
        assert_eq!(
            found[0].1.message,
            format!(
                "shipped in origin/main (commit {}, {}); editing it creates two timelines — add a new migration instead",
                shipped.hash, shipped.date
            )
        );
        assert_eq!(shipped.date, "2026-03-03");
        assert_eq!(
            found[0].1.fix.as_ref().map(|f| f.title.as_str()),
            Some("Revert the edit; move the change into a new migration")
        );
        // The range lies in the statement the finding names (so suppressions work).
        let file = SqlFile::parse(&new, Dialect::Postgres, None);
        for (_, f) in &found {
            let s = &file.statements[f.statement];
            assert!(s.range.start <= f.range.start && f.range.start < s.range.end, "{:?}: {f:?}", layout.kind);
        }
        // The other shipped migration is untouched.
        assert!(found.iter().all(|(path, _)| *path != one[0]));
    }
}

#[test]
fn a_deletion_in_a_shipped_migration_points_at_the_next_line() {
    let p = Project::new(FLYWAY);
    let (_, two, _) = shipped_base(&p);
    let new = p.read(&two[0]).replace("    user_id bigint NOT NULL\n", "");
    p.write(&two[0], &new);
    let found = p.findings();
    assert_eq!(found.len(), 1);
    assert_eq!(&new[found[0].1.range.clone()], ");");
    assert!(
        found[0].1.message.starts_with("1 line deleted here; this migration shipped in origin/main"),
        "{}",
        found[0].1.message
    );
}

#[test]
fn line_endings_and_unshipped_edits_are_not_shipped_edits() {
    for &layout in LAYOUTS {
        let p = Project::new(layout);
        let (one, _, _) = shipped_base(&p);
        p.git(&["checkout", "-q", "-b", "feature"]);
        let three = p.add(3, "create_items", ITEMS);
        p.commit("items");
        // A CRLF checkout of a shipped file, and an edit to the unshipped one.
        p.write(&one[0], &p.read(&one[0]).replace('\n', "\r\n"));
        p.write(&three[0], &p.read(&three[0]).replace("title text", "title varchar(200)"));
        assert_eq!(summary(&p.findings()), vec![], "{:?}", layout.kind);
    }
}

#[test]
fn a_suppression_comment_silences_an_edit_finding() {
    let p = Project::new(GOLANG_MIGRATE);
    let (_, two, _) = shipped_base(&p);
    let new = format!(
        "-- safemig: ignore shipped-migration-edited — hotfix agreed with ops\n{}",
        p.read(&two[0]).replace("NOT NULL", "NOT NULL DEFAULT 0")
    );
    p.write(&two[0], &new);
    let found = p.findings();
    let external: Vec<Finding> = found.iter().map(|(_, f)| f.clone()).collect();
    // The comment line is an edit too (checksums see it); both hunks belong to statement 0.
    assert_eq!(external.len(), 2, "{found:#?}");
    assert!(external.iter().all(|f| f.statement == 0));
    let config = Config::default();
    let file = Arc::new(SqlFile::parse(&new, Dialect::Postgres, None));
    let analysis = analyze_parsed(file, &config.settings(Dialect::Postgres), &config, &NoSchema, external);
    assert!(analysis.findings.iter().all(|f| f.rule != "shipped-migration-edited"), "{:#?}", analysis.findings);
    assert_eq!(analysis.suppressed.len(), 2);
    assert_eq!(analysis.suppressed[0].reason.as_deref(), Some("hotfix agreed with ops"));
}

// ---------------------------------------------------------------------------------------------
// shipped-migration-removed

#[test]
fn a_removed_shipped_migration_is_reported_on_the_migration_that_follows_it() {
    for &layout in LAYOUTS {
        let p = Project::new(layout);
        let (_, two, shipped) = shipped_base(&p);
        let three = p.add(3, "create_items", ITEMS);
        p.commit("items");
        p.ship();
        p.git(&["checkout", "-q", "-b", "feature"]);
        p.remove(&two);

        let found = p.findings();
        assert_eq!(summary(&found), vec![(three[0].clone(), "shipped-migration-removed")], "{:?}", layout.kind);
        let f = &found[0].1;
        let dir = p.sets()[0].dir.clone();
        let name = rel(&dir, &p.root.join(&two[0]));
        assert!(f.message.contains(&format!("`{name}`")), "{:?}: {}", layout.kind, f.message);
        assert!(
            f.message.contains(&format!("shipped in origin/main (commit {}, {})", shipped.hash, shipped.date)),
            "{}",
            f.message
        );
        assert!(f.message.ends_with("(reported on the migration that now follows it)"), "{}", f.message);
        // On the first line of the first statement: visible in the editor and in CI.
        let text = p.read(&three[0]);
        assert_eq!(lines_of(&text, &f.range), (layout.header_lines + 1, layout.header_lines + 1));
        assert_eq!(f.statement, 0);
    }
}

#[test]
fn the_newest_shipped_migration_removed_is_reported_on_the_last_one() {
    let p = Project::new(SUPABASE);
    let (_, two, _) = shipped_base(&p);
    p.remove(&two);
    let found = p.findings();
    assert_eq!(found.len(), 1);
    assert!(found[0].0.ends_with("_create_users.sql"));
    assert!(found[0].1.message.ends_with("(reported on the newest migration of the set)"), "{}", found[0].1.message);
}

#[test]
fn a_shipped_file_the_runner_skips_is_not_removed() {
    let p = Project::new(SUPABASE);
    shipped_base(&p);
    // The Supabase CLI skips `<timestamp>_init.sql`: not a migration of the set, but still there.
    p.write("supabase/migrations/20260301000009_init.sql", "SELECT 1;\n");
    p.commit("init");
    p.ship();
    assert_eq!(p.sets()[0].migrations.len(), 2);
    assert_eq!(summary(&p.findings()), vec![]);
}

#[test]
fn a_renamed_shipped_migration_is_reported_on_its_new_name() {
    for &layout in LAYOUTS {
        let p = Project::new(layout);
        let (_, two, _) = shipped_base(&p);
        p.git(&["checkout", "-q", "-b", "feature"]);
        let contents: Vec<String> = two.iter().map(|f| p.read(f)).collect();
        p.remove(&two);
        let renamed = p.add(5, "create_orders", ORDERS);
        for (f, text) in renamed.iter().zip(&contents) {
            p.write(f, text);
        }
        p.commit("renumber orders");

        let found = p.findings();
        assert_eq!(summary(&found), vec![(renamed[0].clone(), "shipped-migration-removed")], "{:?}", layout.kind);
        assert!(found[0].1.message.starts_with("this looks like `"), "{}", found[0].1.message);
        assert!(found[0].1.message.contains("renamed"), "{}", found[0].1.message);
    }
}

#[test]
fn removing_an_unshipped_migration_or_lacking_a_newer_shipped_one_is_not_a_removal() {
    for &layout in LAYOUTS {
        let p = Project::new(layout);
        shipped_base(&p);
        p.git(&["checkout", "-q", "-b", "feature"]);
        let three = p.add(3, "create_items", ITEMS);
        p.commit("items");
        p.remove(&three);
        // Meanwhile main ships migration 4, which this branch has not merged.
        p.git(&["stash", "-q", "--include-untracked"]);
        p.git(&["checkout", "-q", "main"]);
        p.add(4, "add_users_name", "ALTER TABLE users ADD COLUMN name text;\n");
        p.commit("name");
        p.ship();
        p.git(&["checkout", "-q", "feature"]);
        p.git(&["stash", "pop", "-q"]);
        let found = p.findings();
        assert!(with_rule(&found, "shipped-migration-removed").is_empty(), "{:?}: {found:#?}", layout.kind);
    }
}

// ---------------------------------------------------------------------------------------------
// duplicate-migration-version and conflicting-migrations: two branches each add "the next" one

/// Ships 1 and 2; branch `a` adds 3 touching `users`; branch `b` (from main) adds 3 touching
/// `table_b`; `a` merges `b`.
fn merge_two_branches(p: &Project, table_b: &str) -> (Vec<String>, Vec<String>, CommitInfo, CommitInfo) {
    shipped_base(p);
    p.git(&["checkout", "-q", "-b", "a"]);
    let a = p.add(3, "add_users_phone", "ALTER TABLE users ADD COLUMN phone text;\n");
    let ca = p.commit("phone");
    p.git(&["checkout", "-q", "-b", "b", "main"]);
    let b = p.add(3, "add_plan", &format!("ALTER TABLE {table_b} ADD COLUMN plan text;\n"));
    let cb = p.commit("plan");
    p.git(&["checkout", "-q", "a"]);
    p.git(&["merge", "-q", "--no-ff", "-m", "merge b", "b"]);
    (a, b, ca, cb)
}

#[test]
fn a_merge_of_two_branches_that_each_add_the_next_migration() {
    for &layout in LAYOUTS {
        let p = Project::new(layout);
        let (a, b, ca, cb) = merge_two_branches(&p, "users");
        let found = p.findings();

        let mut expected = vec![(a[0].clone(), "conflicting-migrations"), (b[0].clone(), "conflicting-migrations")];
        if layout.number_is_version {
            expected.push((a[0].clone(), "duplicate-migration-version"));
            expected.push((b[0].clone(), "duplicate-migration-version"));
        }
        let mut got = summary(&found);
        got.sort();
        expected.sort();
        assert_eq!(got, expected, "{:?}", layout.kind);

        let dir = p.sets()[0].dir.clone();
        let (name_a, name_b) = (rel(&dir, &p.root.join(&a[0])), rel(&dir, &p.root.join(&b[0])));
        for (path, f) in with_rule(&found, "conflicting-migrations") {
            let (this, other, other_commit) = if *path == a[0] { (&a[0], &name_b, &cb) } else { (&b[0], &name_a, &ca) };
            assert!(
                f.message
                    .starts_with(&format!("table `users` is also changed by `{other}` (commit {}", other_commit.hash)),
                "{}",
                f.message
            );
            assert!(
                f.message.contains(&format!("added on parallel branches (commits {} and {})", ca.hash, cb.hash))
                    || f.message.contains(&format!("added on parallel branches (commits {} and {})", cb.hash, ca.hash)),
                "{}",
                f.message
            );
            // Reported on the table name.
            assert_eq!(&p.read(this)[f.range.clone()], "users");
        }
        for (_, f) in with_rule(&found, "duplicate-migration-version") {
            assert!(f.message.contains("is also used by"), "{}", f.message);
            assert_eq!(f.fix.as_ref().map(|x| x.title.as_str()), Some("Renumber to the next version"));
        }
    }
}

#[test]
fn parallel_branches_touching_different_tables_do_not_conflict() {
    for &layout in LAYOUTS {
        let p = Project::new(layout);
        let (a, b, _, _) = merge_two_branches(&p, "orders");
        let found = p.findings();
        assert!(with_rule(&found, "conflicting-migrations").is_empty(), "{:?}: {found:#?}", layout.kind);
        let mut dups: Vec<String> =
            with_rule(&found, "duplicate-migration-version").into_iter().map(|(p, _)| p.clone()).collect();
        dups.sort();
        let mut expected = if layout.number_is_version { vec![a[0].clone(), b[0].clone()] } else { vec![] };
        expected.sort();
        assert_eq!(dups, expected, "{:?}", layout.kind);
    }
}

#[test]
fn migrations_added_in_order_on_one_branch_do_not_conflict() {
    for &layout in LAYOUTS {
        let p = Project::new(layout);
        shipped_base(&p);
        p.git(&["checkout", "-q", "-b", "feature"]);
        p.add(3, "add_users_phone", "ALTER TABLE users ADD COLUMN phone text;\n");
        p.commit("phone");
        p.add(4, "backfill_users_phone", "UPDATE users SET phone = '' WHERE id < 1000;\n");
        p.commit("backfill");
        p.add(5, "users_phone_not_null", "ALTER TABLE users ALTER COLUMN phone SET NOT NULL;\n");
        assert_eq!(summary(&p.findings()), vec![], "{:?}", layout.kind);
    }
}

#[test]
fn an_uncommitted_migration_numbered_before_a_pulled_one_conflicts() {
    let p = Project::new(GOOSE);
    shipped_base(&p);
    p.git(&["checkout", "-q", "-b", "feature"]);
    // A teammate's migration 4 arrives (committed); ours, written before, is numbered 3.
    let theirs = p.add(4, "add_users_plan", "ALTER TABLE users ADD COLUMN plan text;\n");
    let commit = p.commit("teammate: plan");
    let ours = p.add(3, "add_users_phone", "ALTER TABLE users ADD COLUMN phone text;\n");
    let found = p.findings();
    let mut got = summary(&found);
    got.sort();
    assert_eq!(got, vec![(ours[0].clone(), "conflicting-migrations"), (theirs[0].clone(), "conflicting-migrations")]);
    let (_, f) = found.iter().find(|(path, _)| *path == ours[0]).expect("ours");
    assert!(f.message.contains(&format!("(commit {}, {})", commit.hash, commit.date)), "{}", f.message);
    assert!(
        f.message
            .contains("`00003_add_users_phone.sql` was added after `00004_add_users_plan.sql` but sorts before it"),
        "{}",
        f.message
    );
}

#[test]
fn without_git_duplicates_are_still_found() {
    let p = Project::new(FLYWAY);
    let one = p.add(1, "create_users", USERS);
    let other = p.add(1, "create_orders", ORDERS);
    let sets = p.sets();
    let found = p.findings_with(&sets, None);
    let mut got = summary(&found);
    got.sort();
    let mut expected =
        vec![(one[0].clone(), "duplicate-migration-version"), (other[0].clone(), "duplicate-migration-version")];
    expected.sort();
    assert_eq!(got, expected);
}

// ---------------------------------------------------------------------------------------------
// migration-out-of-order

#[test]
fn a_migration_that_sorts_before_a_shipped_one_is_out_of_order() {
    for &layout in LAYOUTS {
        let p = Project::new(layout);
        shipped_base(&p);
        p.git(&["checkout", "-q", "-b", "feature"]);
        let three = p.add(3, "create_items", ITEMS);
        p.commit("items");
        // Meanwhile main ships migration 4.
        p.git(&["checkout", "-q", "main"]);
        let four = p.add(4, "add_users_name", "ALTER TABLE users ADD COLUMN name text;\n");
        let shipped = p.commit("name");
        p.ship();
        p.git(&["checkout", "-q", "feature"]);
        let dir = p.sets()[0].dir.clone();
        let (name3, name4) = (rel(&dir, &p.root.join(&three[0])), rel(&dir, &p.root.join(&four[0])));
        let clause = safemig::workspace::frameworks::framework(layout.kind).out_of_order();

        // Before merging: the branch does not have 4 yet, the warning comes early.
        let found = p.findings();
        assert_eq!(summary(&found), vec![(three[0].clone(), "migration-out-of-order")], "{:?}", layout.kind);
        assert_eq!(
            found[0].1.message,
            format!(
                "`{name3}` sorts before `{name4}`, which already shipped in origin/main (commit {}, {}) after this branch forked: {clause}",
                shipped.hash, shipped.date
            )
        );

        // After merging main.
        p.git(&["merge", "-q", "--no-ff", "-m", "merge main", "origin/main"]);
        let found = p.findings();
        assert_eq!(summary(&found), vec![(three[0].clone(), "migration-out-of-order")], "{:?}", layout.kind);
        assert_eq!(
            found[0].1.message,
            format!(
                "`{name3}` sorts before `{name4}`, which already shipped in origin/main (commit {}, {}): {clause}",
                shipped.hash, shipped.date
            )
        );
        assert_eq!(found[0].1.fix.as_ref().map(|f| f.title.as_str()), Some("Renumber to the next version"));

        // Renumbered after the newest shipped one: fine.
        p.remove(&three);
        p.add(5, "create_items", ITEMS);
        p.commit("renumber");
        assert_eq!(summary(&p.findings()), vec![], "{:?}", layout.kind);
    }
}

// ---------------------------------------------------------------------------------------------
// History off

#[test]
fn outside_a_git_repository_history_is_off_with_one_message() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("db/migrations");
    fs::create_dir_all(&dir).expect("mkdir");
    fs::write(dir.join("00001_create_users.sql"), format!("-- +goose Up\n{USERS}")).expect("write");
    let sets = discover(tmp.path(), &Config::default()).sets;
    assert_eq!(sets.len(), 1);
    let off = GitHistory::load(tmp.path(), &sets, None).expect_err("not a repository");
    assert!(off.message.contains("is not inside a git work tree"), "{}", off.message);
    assert!(off.message.starts_with("history checks ("), "{}", off.message);
    assert!(history::findings(&sets, None, &read_file).is_empty());
}

#[test]
fn without_a_shipped_ref_history_is_off_with_one_message() {
    let p = Project::new(GOOSE);
    p.git(&["checkout", "-q", "-b", "work"]);
    p.add(1, "create_users", USERS);
    p.commit("users");
    let off = p.history().expect_err("no main, master or origin");
    assert!(off.message.contains("no shipped ref found"), "{}", off.message);
    assert!(off.message.contains("shipped_ref"), "{}", off.message);

    // No ref configured: the automatic fallback found nothing, which is a note, not a wrong ref.
    assert_eq!(off.unresolved_ref, None);

    let sets = p.sets();
    let off = GitHistory::load(&p.root, &sets, Some("origin/release")).expect_err("no such ref");
    assert!(off.message.contains("the shipped ref `origin/release` names no commit"), "{}", off.message);
    assert!(p.findings_with(&sets, None).is_empty());

    // A local `main` is the fallback when there is no remote.
    p.git(&["branch", "main"]);
    let git = p.history().expect("main exists");
    assert_eq!(git.shipped_ref(), "main");
}

#[test]
fn a_configured_ref_that_names_nothing_lists_the_refs_that_exist() {
    let p = Project::new(GOOSE);
    shipped_base(&p);
    p.git(&["tag", "v1.0"]);
    p.git(&["checkout", "-q", "-b", "work"]);
    let sets = p.sets();
    let off = GitHistory::load(&p.root, &sets, Some("origin/mian")).expect_err("a typo");
    let wrong = off.unresolved_ref.as_ref().expect("a configured ref that does not resolve is told apart");
    assert_eq!(wrong.name, "origin/mian");
    // Local branches, remote-tracking branches and tags; the closest first.
    assert_eq!(wrong.candidates.first().map(String::as_str), Some("origin/main"), "{:?}", wrong.candidates);
    for name in ["main", "work", "v1.0"] {
        assert!(wrong.candidates.iter().any(|c| c == name), "{name} in {:?}", wrong.candidates);
    }
    assert!(!wrong.candidates.iter().any(|c| c.ends_with("HEAD")), "{:?}", wrong.candidates);
    assert!(off.message.contains("origin/mian") && off.message.contains("origin/main"), "{}", off.message);

    // The same ref spelled right resolves.
    let git = GitHistory::load(&p.root, &sets, Some("origin/main")).expect("origin/main exists");
    assert_eq!(git.shipped_ref(), "origin/main");
}

#[test]
fn a_configured_ref_wins() {
    let p = Project::new(PRISMA);
    shipped_base(&p);
    p.git(&["checkout", "-q", "-b", "release"]);
    let three = p.add(3, "create_items", ITEMS);
    p.commit("items");
    p.git(&["checkout", "-q", "-b", "feature"]);
    let sets = p.sets();
    let git = GitHistory::load(&p.root, &sets, Some("release")).expect("release exists");
    assert_eq!(git.shipped_ref(), "release");
    assert!(matches!(git.status(&p.root.join(&three[0])), MigrationStatus::Shipped { .. }));
    let default = GitHistory::load(&p.root, &sets, None).expect("origin/main");
    assert!(matches!(default.status(&p.root.join(&three[0])), MigrationStatus::Committed { .. }));
}

// ---------------------------------------------------------------------------------------------
// Scale: run with `cargo test --release --test history -- --ignored --nocapture`
