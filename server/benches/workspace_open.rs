//! Opening a workspace of 10,000 migrations in `safemig lsp`.
//!
//! Generates a goose project (`db/migrations/NNNNN_name.sql`, `-- +goose Up` / `Down`) of
//! realistic migrations in a temp dir: new tables with their keys and indexes, added columns,
//! indexes on existing tables, backfills, foreign keys, renames, drops. Starts the real server
//! over stdio as an editor would (it watches files and shows progress), sends `initialized` and
//! opens one migration, and measures:
//!
//! - `initialized` + `didOpen` → the open file's first `publishDiagnostics` (target ≤ 300 ms);
//! - → every migration analysed and published: the end of the server's work-done progress
//!   (target ≤ 3 s), and how many files got diagnostics;
//! - the server's peak RSS, `VmHWM` in `/proc/<pid>/status` (target < 300 MB);
//! - an edit to the open migration → its new diagnostics, and a migration rewritten on disk
//!   (`didChangeWatchedFiles`) → its new diagnostics.
//!
//! The project is a git repository (all but the last 100 migrations shipped on `main`), so the
//! server reads git history too; `-- --no-git` leaves git out. Run with
//! `cargo bench --bench workspace_open` (`-- 2000` for a smaller workspace).

#[path = "../../tests/support/lsp_client.rs"]
mod lsp_client;

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::json;

use lsp_client::{file_uri, LspClient};

const MIGRATIONS: usize = 10_000;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let count = args.iter().find_map(|a| a.parse::<usize>().ok()).unwrap_or(MIGRATIONS);
    let with_git = !args.iter().any(|a| a == "--no-git");
    let dir = tempfile::tempdir().expect("a temp dir");
    let generated = Instant::now();
    let (files, bytes) = generate(dir.path(), count);
    // All but the last 100 migrations shipped on `main`; the rest committed on a branch.
    let git = with_git && commit_history(dir.path(), &files[..files.len().saturating_sub(100)]);
    let generate_time = generated.elapsed();
    let open_path = &files[files.len() / 2];
    let open_uri = file_uri(open_path);
    let open_text = std::fs::read_to_string(open_path).expect("read the migration to open");

    let mut client = LspClient::spawn();
    let root = file_uri(dir.path());
    client
        .request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": root,
                "workspaceFolders": [{"uri": root, "name": "bench"}],
                "capabilities": {
                    "workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}},
                    "window": {"workDoneProgress": true}
                }
            }),
        )
        .expect("initialize succeeds");
    let started = Instant::now();
    client.notify("initialized", json!({}));
    client.open(&open_uri, 1, &open_text);

    // Everything the server says until its progress ends: when each file was first published.
    let mut published: HashSet<String> = HashSet::new();
    let mut first_open = None;
    let mut first_any = None;
    let mut progress_begun = false;
    let all_done = loop {
        let message = client.next_message();
        match message["method"].as_str() {
            Some("textDocument/publishDiagnostics") => {
                let uri = message["params"]["uri"].as_str().unwrap_or_default().to_string();
                first_any.get_or_insert_with(|| started.elapsed());
                if uri == open_uri && first_open.is_none() {
                    first_open = Some((started.elapsed(), published.len()));
                }
                published.insert(uri);
            }
            Some("$/progress") => match message["params"]["value"]["kind"].as_str() {
                Some("begin") => progress_begun = true,
                Some("end") if progress_begun => break started.elapsed(),
                _ => {}
            },
            _ => {}
        }
    };
    let (first_open, published_before_open) = first_open.expect("the open file was published");
    let (peak, rss) = memory(client.pid());

    // An edit to the open migration: a blocking index appended at its end.
    let lines = open_text.lines().count() as u32;
    let edited = Instant::now();
    client.change(&open_uri, 2, (lines, 0), (lines, 0), "CREATE INDEX bench_edit_idx ON accounts_1 (owner_id);\n");
    let after_edit = client.diagnostics(&open_uri, Some(2));
    let edit_time = edited.elapsed();
    assert!(after_edit["diagnostics"].as_array().is_some_and(|d| !d.is_empty()), "{after_edit}");

    // A migration rewritten on disk (by a generator), reported by the editor's watcher.
    let rewritten = &files[files.len() / 3];
    let mut text = std::fs::read_to_string(rewritten).expect("read a migration");
    text.push_str("-- +goose Up\nCREATE INDEX bench_disk_idx ON accounts_2 (owner_id);\nDROP TABLE bench_gone;\n");
    std::fs::write(rewritten, text).expect("rewrite a migration");
    let rewritten_uri = file_uri(rewritten);
    let written = Instant::now();
    client.notify("workspace/didChangeWatchedFiles", json!({"changes": [{"uri": rewritten_uri, "type": 2}]}));
    client.diagnostics(&rewritten_uri, None);
    let disk_time = written.elapsed();
    let (peak_after, _) = memory(client.pid());

    let status = client.shutdown_and_exit();
    assert!(status.success(), "the server exited with {status:?}");

    let mut report = String::new();
    let _ = writeln!(
        report,
        "workspace_open: {} migrations, {:.1} MB of SQL, {} (generated in {:.0} ms)",
        files.len(),
        bytes as f64 / 1e6,
        if git { "in a git repository (shipped on main, 100 on a branch)" } else { "no git" },
        ms(generate_time)
    );
    let _ = writeln!(
        report,
        "  initialized + didOpen → open file's diagnostics: {:.1} ms (target ≤ 300 ms; {} other files published before it)",
        ms(first_open),
        published_before_open
    );
    if let Some(first) = first_any {
        let _ = writeln!(report, "  → first publishDiagnostics of any file: {:.1} ms", ms(first));
    }
    let _ = writeln!(
        report,
        "  → every migration analysed and published: {:.0} ms (target ≤ 3000 ms); {} files have diagnostics",
        ms(all_done),
        published.len()
    );
    let _ = writeln!(
        report,
        "  server memory after the scan: peak {:.0} MB (target < 300 MB), now {:.0} MB; peak after the edits {:.0} MB",
        peak / 1024.0,
        rss / 1024.0,
        peak_after / 1024.0
    );
    let _ = writeln!(report, "  edit to the open migration → its diagnostics: {:.1} ms", ms(edit_time));
    let _ = writeln!(report, "  migration rewritten on disk → its diagnostics: {:.1} ms", ms(disk_time));
    print!("{report}");
}

/// Commits `shipped` on `main`, then the other migrations on a branch. `false` when git is not
/// there.
fn commit_history(root: &Path, shipped: &[PathBuf]) -> bool {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(["-c", "user.name=bench", "-c", "user.email=bench@example.com", "-c", "commit.gpgsign=false"])
            .args(args)
            .current_dir(root)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !git(&["init", "-q", "-b", "main"]) {
        return false;
    }
    let mut ok = true;
    for batch in shipped.chunks(2_000) {
        let mut args = vec!["add", "--"];
        args.extend(batch.iter().filter_map(|p| p.to_str()));
        ok &= git(&args);
    }
    ok && git(&["commit", "-q", "-m", "shipped"])
        && git(&["checkout", "-q", "-b", "feature"])
        && git(&["add", "."])
        && git(&["commit", "-q", "-m", "new migrations"])
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// (VmHWM, VmRSS) of a process in KB.
fn memory(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// Writes `count` goose migrations under `root/db/migrations`; returns their paths (in order)
/// and their total size.
fn generate(root: &Path, count: usize) -> (Vec<PathBuf>, usize) {
    let dir = root.join("db/migrations");
    std::fs::create_dir_all(&dir).expect("create the migrations directory");
    let mut files = Vec::with_capacity(count);
    let mut bytes = 0;
    for n in 1..=count {
        let (name, up, down) = migration(n);
        let text = format!("-- +goose Up\n{up}\n-- +goose Down\n{down}\n");
        let path = dir.join(format!("{n:05}_{name}.sql"));
        std::fs::write(&path, &text).expect("write a migration");
        bytes += text.len();
        files.push(path);
    }
    (files, bytes)
}

/// Migration `n`: one of the shapes real projects are made of, on tables created earlier.
fn migration(n: usize) -> (String, String, String) {
    // Tables are created every 10 migrations; the others alter the tables that exist by then.
    let table = |k: usize| format!("accounts_{}", k / 10);
    let t = table(n);
    let older = table(n.saturating_sub(10 * (1 + n % 7)));
    let mut up = String::new();
    let (name, down) = match n % 10 {
        0 => {
            let _ = write!(
                up,
                "CREATE TABLE {t} (\n    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n    owner_id bigint NOT NULL REFERENCES {older} (id),\n    name text NOT NULL,\n    email text,\n    status text NOT NULL DEFAULT 'active',\n    balance numeric(12, 2) NOT NULL DEFAULT 0,\n    metadata jsonb,\n    created_at timestamptz NOT NULL DEFAULT now(),\n    updated_at timestamptz NOT NULL DEFAULT now(),\n    CONSTRAINT {t}_name_check CHECK (char_length(name) > 0)\n);\n\nCREATE INDEX {t}_owner_idx ON {t} (owner_id);\nCREATE UNIQUE INDEX {t}_email_idx ON {t} (lower(email)) WHERE email IS NOT NULL;\n\nCOMMENT ON TABLE {t} IS 'Accounts, generation {}';\n",
                n / 10
            );
            (format!("create_{t}"), format!("DROP TABLE {t};"))
        }
        1 => {
            let _ = write!(
                up,
                "ALTER TABLE {t} ADD COLUMN last_login_at timestamptz;\nALTER TABLE {t} ADD COLUMN login_count integer NOT NULL DEFAULT 0;\n"
            );
            (
                format!("add_login_to_{t}"),
                format!("ALTER TABLE {t} DROP COLUMN login_count;\nALTER TABLE {t} DROP COLUMN last_login_at;"),
            )
        }
        2 => {
            let _ = writeln!(up, "CREATE INDEX {older}_status_created_idx_{n} ON {older} (status, created_at DESC);");
            (format!("index_{older}_status"), format!("DROP INDEX {older}_status_created_idx_{n};"))
        }
        3 => {
            let _ = write!(
                up,
                "-- Backfill the new column in one go.\nUPDATE {t}\n   SET login_count = 1,\n       updated_at = now()\n WHERE last_login_at IS NOT NULL\n   AND status <> 'deleted';\n"
            );
            (format!("backfill_{t}_logins"), String::new())
        }
        4 => {
            let _ = write!(
                up,
                "ALTER TABLE {t} ADD COLUMN referrer_id bigint;\nALTER TABLE {t}\n    ADD CONSTRAINT {t}_referrer_fk FOREIGN KEY (referrer_id) REFERENCES {older} (id);\n"
            );
            (format!("add_referrer_to_{t}"), format!("ALTER TABLE {t} DROP COLUMN referrer_id;"))
        }
        5 => {
            let _ = writeln!(up, "ALTER TABLE {t} ALTER COLUMN email SET NOT NULL;");
            (format!("require_{t}_email"), format!("ALTER TABLE {t} ALTER COLUMN email DROP NOT NULL;"))
        }
        6 => {
            let _ = write!(
                up,
                "CREATE TABLE {t}_events (\n    id bigserial PRIMARY KEY,\n    account_id bigint NOT NULL,\n    kind text NOT NULL,\n    payload jsonb NOT NULL DEFAULT '{{}}',\n    happened_at timestamptz NOT NULL DEFAULT now()\n);\nALTER TABLE {t}_events ADD CONSTRAINT {t}_events_account_fk\n    FOREIGN KEY (account_id) REFERENCES {t} (id) NOT VALID;\nALTER TABLE {t}_events VALIDATE CONSTRAINT {t}_events_account_fk;\nCREATE INDEX {t}_events_account_idx ON {t}_events (account_id, happened_at);\n"
            );
            (format!("create_{t}_events"), format!("DROP TABLE {t}_events;"))
        }
        7 => {
            let _ = write!(
                up,
                "ALTER TABLE {t} RENAME COLUMN name TO display_name;\nALTER TABLE {t} ALTER COLUMN balance TYPE numeric(14, 2);\n"
            );
            (format!("rename_{t}_name"), format!("ALTER TABLE {t} RENAME COLUMN display_name TO name;"))
        }
        8 => {
            let _ = write!(
                up,
                "SET lock_timeout = '5s';\nCREATE INDEX CONCURRENTLY {t}_updated_idx ON {t} (updated_at);\nDELETE FROM {t}_events WHERE happened_at < now() - interval '2 years';\n"
            );
            (format!("prune_{t}_events"), format!("DROP INDEX {t}_updated_idx;"))
        }
        _ => {
            let _ = write!(
                up,
                "ALTER TABLE {t} DROP COLUMN metadata;\nDROP INDEX IF EXISTS {older}_status_created_idx_{};\n",
                n.saturating_sub(7)
            );
            (format!("drop_{t}_metadata"), format!("ALTER TABLE {t} ADD COLUMN metadata jsonb;"))
        }
    };
    (name, up, down)
}
