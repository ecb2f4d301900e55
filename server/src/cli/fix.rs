//! `safemig check --fix [--unsafe]`: applies quick fixes to the checked files before the report.
//!
//! Rounds: analyse the project, apply at most one fix per file (its findings' ranges move once
//! a fix lands), analyse again, until no fix applies (or [`MAX_ROUNDS`]). Per finding, the
//! preferred fix is taken when allowed, else the first allowed one; `--unsafe` allows
//! [`Safety::Unsafe`] fixes too. A file is written only when it still holds the text the fix was
//! computed from, another file is edited only when it still holds what the fix read
//! ([`FileEdit::ReplaceIn`]), a new file is created only when nothing is there yet
//! (`create_new`), and a rename never replaces anything ([`rename_new`]): nothing safemig did not
//! read is ever overwritten. A renamed file is checked (and reported) under its new name.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::Config;
use crate::engine::{self, FileAnalysis, CLI_MAX_BYTES};
use crate::fixes::verify::{self, Verifier};
use crate::fixes::{self, FileEdit, Fix, FixContext, Place, ProjectFacts, Safety};
use crate::live::LiveFacts;
use crate::project::{Disk, Project};
use crate::rules::MigrationSettings;

/// Every applied fix lowers the number of findings ([`verify`]), so rounds end; this bounds them
/// anyway.
const MAX_ROUNDS: usize = 10_000;

/// Applies fixes to `files` (the files `check` was asked about) in the project at `root`,
/// updating their paths when a fix renames them. Each fix is verified first ([`verify`]): it
/// changes no migration that shipped or that `live`'s ledger records, adds no finding anywhere
/// in its set, and makes its own finding go away. Says what changed on `log`; returns whether
/// something went wrong (a file could not be written).
pub(crate) fn apply_fixes(
    root: &Path,
    config: &Config,
    files: &mut [PathBuf],
    allow_unsafe: bool,
    live: Option<Arc<LiveFacts>>,
    log: &mut dyn Write,
) -> io::Result<bool> {
    let mut trouble = false;
    // (file, rule, statement text, fix title) → why it was not applied, this pass. Cleared
    // before the last pass, so that the run ends only where a fresh run would change nothing.
    let mut refused: HashMap<(PathBuf, &'static str, String, String), String> = HashMap::new();
    // Told once per run.
    let mut told: HashSet<(PathBuf, &'static str, String)> = HashSet::new();
    let mut fresh_pass = false;
    for _ in 0..MAX_ROUNDS {
        let project = Project::open(root, config.clone());
        let analysis = project.analyze_live(&Disk, None, live.clone());
        let mut changed = false;
        let mut renamed: Vec<(PathBuf, PathBuf)> = Vec::new();
        for path in files.iter() {
            let Ok(canonical) = path.canonicalize() else { continue };
            let set_path = analysis.files.keys().find(|p| p.canonicalize().ok().as_ref() == Some(&canonical)).cloned();
            let verifier =
                set_path.as_ref().and_then(|p| Verifier::new(&project, &Disk, Some(&analysis), live.clone(), p));
            let standalone;
            let schema;
            let (file, place, settings): (&FileAnalysis, Option<Place>, Option<MigrationSettings>) = match &set_path {
                Some(set_path) => {
                    let Some(verifier) = &verifier else { continue };
                    let f = &analysis.files[set_path];
                    schema = analysis.schema_for(set_path);
                    (
                        verifier.analysis(),
                        Some(Place { path: set_path, set: &project.sets[f.set], sources: &Disk }),
                        None,
                    )
                }
                None => {
                    let Ok(bytes) = fs::read(path) else { continue };
                    let (analysis, text, settings) =
                        engine::analyze_standalone(&bytes, CLI_MAX_BYTES, config, |t| project.database_for(path, t));
                    let (Some(_), Some(settings)) = (text, settings) else { continue };
                    standalone = analysis;
                    schema = None;
                    (&standalone, None, Some(settings))
                }
            };
            let ledger = place.and_then(|p| live.as_deref()?.ledger_of(&p.set.dir));
            let mut ctx = FixContext::of(file).with(ProjectFacts { git: project.git.as_ref(), ledger });
            if let Some(place) = place {
                ctx = ctx.at(place);
            }
            if let Some(schema) = &schema {
                ctx = ctx.with_schema(schema);
            }
            'findings: for finding in &file.findings {
                let statement = file.file.statements.get(finding.statement).map(|s| s.parsed.text.to_string());
                let statement = statement.unwrap_or_default();
                let mut why_not = None;
                for fix in candidates(fixes::for_finding(finding, &ctx), allow_unsafe) {
                    let key = (canonical.clone(), finding.rule, statement.clone(), fix.title.clone());
                    if let Some(why) = refused.get(&key) {
                        why_not.get_or_insert_with(|| why.clone());
                        continue;
                    }
                    let verdict = match (&verifier, &settings) {
                        (Some(verifier), _) => verifier.check(finding, &fix, true),
                        (None, Some(settings)) => verify::check_standalone(file, settings, config, finding, &fix, true),
                        (None, None) => continue,
                    };
                    if let Err(rejected) = verdict {
                        let why = format!("`{}` {rejected}", fix.title);
                        why_not.get_or_insert_with(|| why.clone());
                        refused.insert(key, why);
                        continue;
                    }
                    match fixes::write::write_fix(root, path, &file.file.text, &fix) {
                        Ok(()) => {
                            report(log, path, &fix)?;
                            renamed.extend(fix.edits.iter().filter_map(|e| match e {
                                FileEdit::Rename { from, to } => Some((from.clone(), to.clone())),
                                _ => None,
                            }));
                            changed = true;
                            break 'findings;
                        }
                        Err(e) => {
                            eprintln!("error: cannot apply `{}` to {}: {e}", fix.title, path.display());
                            refused.insert(key, e.to_string());
                            trouble = true;
                        }
                    }
                }
                if let Some(why) = why_not {
                    if told.insert((canonical.clone(), finding.rule, statement)) {
                        writeln!(log, "not fixed {}: {}: {why}", path.display(), finding.rule)?;
                    }
                }
            }
        }
        for path in files.iter_mut() {
            let Ok(at) = std::path::absolute(&*path) else { continue };
            let moved = renamed.iter().find_map(|(from, to)| {
                let rest = at.strip_prefix(std::path::absolute(from).ok()?).ok()?;
                Some(if rest.as_os_str().is_empty() { to.clone() } else { to.join(rest) })
            });
            if let Some(new) = moved {
                *path = new;
            }
        }
        if changed {
            fresh_pass = false;
        } else if fresh_pass || refused.is_empty() {
            break;
        } else {
            // What was refused earlier may pass now that other fixes landed.
            refused.clear();
            fresh_pass = true;
        }
    }
    Ok(trouble)
}

/// The allowed fixes in the order they are tried: the preferred one first.
fn candidates(fixes: Vec<Fix>, allow_unsafe: bool) -> Vec<Fix> {
    let mut allowed: Vec<Fix> = fixes.into_iter().filter(|f| f.safety == Safety::Safe || allow_unsafe).collect();
    allowed.sort_by_key(|f| !f.preferred);
    allowed
}

fn report(log: &mut dyn Write, path: &Path, fix: &Fix) -> io::Result<()> {
    let safety = match fix.safety {
        Safety::Safe => "safe",
        Safety::Unsafe => "unsafe",
    };
    writeln!(log, "fixed {}: {} ({safety}): {}", path.display(), fix.rule, fix.title)?;
    for edit in &fix.edits {
        match edit {
            FileEdit::Create { path, .. } => writeln!(log, "  created {}", path.display())?,
            FileEdit::ReplaceIn { path, .. } => writeln!(log, "  edited {}", path.display())?,
            FileEdit::Rename { from, to } => writeln!(log, "  renamed {} to {}", from.display(), to.display())?,
            FileEdit::Replace { .. } => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixes::write::{rename_new, write_fix};

    fn fix(edits: Vec<FileEdit>) -> Fix {
        Fix { rule: "create-index-blocking", title: "t".into(), preferred: true, safety: Safety::Safe, edits }
    }

    #[test]
    fn nothing_is_written_over_what_was_not_read() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("1.sql");
        fs::write(&path, "CREATE INDEX i ON t (c);\n").expect("write");
        let insert = FileEdit::Replace { range: 12..12, text: " CONCURRENTLY".into() };
        // The file changed since it was read.
        let err =
            write_fix(dir.path(), &path, "CREATE INDEX i ON t (x);\n", &fix(vec![insert.clone()])).expect_err("stale");
        assert!(err.to_string().contains("changed since"), "{err}");
        // A file to create exists: nothing is written, not even the migration.
        let taken = dir.path().join("2.sql");
        fs::write(&taken, "SELECT 1;\n").expect("write");
        let create = FileEdit::Create { path: taken.clone(), text: "new".into() };
        write_fix(dir.path(), &path, "CREATE INDEX i ON t (c);\n", &fix(vec![insert.clone(), create]))
            .expect_err("exists");
        assert_eq!(fs::read_to_string(&taken).expect("read"), "SELECT 1;\n");
        assert_eq!(fs::read_to_string(&path).expect("read"), "CREATE INDEX i ON t (c);\n");
        // Another file that changed since the fix read it.
        let conf = dir.path().join("1.sql.conf");
        fs::write(&conf, "executeInTransaction=true\n").expect("write");
        let edit = FileEdit::ReplaceIn {
            path: conf.clone(),
            range: 0..0,
            text: "x".into(),
            expected: "something else\n".into(),
        };
        write_fix(dir.path(), &path, "CREATE INDEX i ON t (c);\n", &fix(vec![insert.clone(), edit]))
            .expect_err("stale conf");
        assert_eq!(fs::read_to_string(&path).expect("read"), "CREATE INDEX i ON t (c);\n");
        // All good.
        let new = dir.path().join("sub/3.sql");
        let create = FileEdit::Create { path: new.clone(), text: "SELECT 3;\n".into() };
        write_fix(dir.path(), &path, "CREATE INDEX i ON t (c);\n", &fix(vec![insert, create])).expect("written");
        assert_eq!(fs::read_to_string(&path).expect("read"), "CREATE INDEX CONCURRENTLY i ON t (c);\n");
        assert_eq!(fs::read_to_string(&new).expect("read"), "SELECT 3;\n");
    }

    /// A migration that is a symlink to a file outside the workspace, or a fix that would create
    /// or rename through a symlinked directory to outside it: refused, nothing written.
    #[test]
    fn nothing_is_written_outside_the_workspace() {
        let outer = tempfile::tempdir().expect("temp dir");
        let (root, elsewhere) = (outer.path().join("repo"), outer.path().join("elsewhere"));
        fs::create_dir_all(root.join("db")).expect("mkdir");
        fs::create_dir_all(&elsewhere).expect("mkdir");
        let target = elsewhere.join("secret.sql");
        fs::write(&target, "CREATE INDEX i ON t (c);\n").expect("write");
        let link = root.join("db/1.sql");
        std::os::unix::fs::symlink(&target, &link).expect("symlink");
        let insert = FileEdit::Replace { range: 12..12, text: " CONCURRENTLY".into() };
        let err =
            write_fix(&root, &link, "CREATE INDEX i ON t (c);\n", &fix(vec![insert.clone()])).expect_err("outside");
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied, "{err}");
        assert!(err.to_string().contains("outside the workspace"), "{err}");
        assert_eq!(fs::read_to_string(&target).expect("read"), "CREATE INDEX i ON t (c);\n");
        // A new file under a symlinked directory that leads out.
        let path = root.join("db/2.sql");
        fs::write(&path, "CREATE INDEX i ON t (c);\n").expect("write");
        std::os::unix::fs::symlink(&elsewhere, root.join("out")).expect("symlink");
        let create = FileEdit::Create { path: root.join("out/new/3.sql"), text: "SELECT 3;\n".into() };
        write_fix(&root, &path, "CREATE INDEX i ON t (c);\n", &fix(vec![insert.clone(), create])).expect_err("outside");
        assert!(!elsewhere.join("new").exists());
        assert_eq!(fs::read_to_string(&path).expect("read"), "CREATE INDEX i ON t (c);\n");
        // Negative: the same fix inside the workspace (a symlink that stays inside) is written.
        let inside = root.join("db/4.sql");
        std::os::unix::fs::symlink(&path, &inside).expect("symlink");
        let create = FileEdit::Create { path: root.join("db/new/5.sql"), text: "SELECT 5;\n".into() };
        write_fix(&root, &inside, "CREATE INDEX i ON t (c);\n", &fix(vec![insert, create])).expect("written");
        assert_eq!(fs::read_to_string(&path).expect("read"), "CREATE INDEX CONCURRENTLY i ON t (c);\n");
        assert_eq!(fs::read_to_string(root.join("db/new/5.sql")).expect("read"), "SELECT 5;\n");
    }

    #[test]
    fn a_rename_never_replaces_a_file_or_directory() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("0002_b.up.sql");
        fs::write(&path, "SELECT 2;\n").expect("write");
        let taken = dir.path().join("0003_b.up.sql");
        fs::write(&taken, "SELECT 3;\n").expect("write");
        let rename = |to: &Path| FileEdit::Rename { from: path.clone(), to: to.to_path_buf() };
        let err = write_fix(dir.path(), &path, "SELECT 2;\n", &fix(vec![rename(&taken)])).expect_err("taken");
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read_to_string(&taken).expect("read"), "SELECT 3;\n");
        assert_eq!(fs::read_to_string(&path).expect("read"), "SELECT 2;\n");
        // Even when the name is taken after the check.
        let err = rename_new(&path, &taken).expect_err("taken");
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read_to_string(&taken).expect("read"), "SELECT 3;\n");
        let free = dir.path().join("0004_b.up.sql");
        write_fix(dir.path(), &path, "SELECT 2;\n", &fix(vec![rename(&free)])).expect("renamed");
        assert!(!path.exists());
        assert_eq!(fs::read_to_string(&free).expect("read"), "SELECT 2;\n");
        // A directory (a Prisma or Diesel migration) onto an existing one: refused.
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        fs::create_dir_all(&a).expect("mkdir");
        fs::create_dir_all(&b).expect("mkdir");
        assert_eq!(rename_new(&a, &b).expect_err("taken").kind(), io::ErrorKind::AlreadyExists);
        rename_new(&a, &dir.path().join("c")).expect("renamed");
        assert!(dir.path().join("c").is_dir() && !a.exists());
    }

    #[test]
    fn the_preferred_allowed_fix_wins() {
        let mut unsafe_preferred = fix(Vec::new());
        unsafe_preferred.safety = Safety::Unsafe;
        unsafe_preferred.title = "unsafe".into();
        let mut safe = fix(Vec::new());
        safe.preferred = false;
        safe.title = "safe".into();
        let both = vec![unsafe_preferred, safe];
        let titles = |fixes: Vec<Fix>| fixes.into_iter().map(|f| f.title).collect::<Vec<_>>();
        assert_eq!(titles(candidates(both.clone(), false)), ["safe"]);
        assert_eq!(titles(candidates(both, true)), ["unsafe", "safe"]);
        assert!(candidates(Vec::new(), true).is_empty());
    }
}
