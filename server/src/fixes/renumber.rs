//! `duplicate-migration-version` and `migration-out-of-order`: "Renumber to the next version"
//! renames every file of an unshipped migration (golang-migrate's `.up.sql` and `.down.sql`,
//! Flyway's `.sql.conf` sibling, the directory of a Prisma or Diesel migration) to the next free
//! version after the newest migration of the set — or after the newest one at the shipped ref,
//! when that one shipped after this branch forked — keeping the rest of each name.
//!
//! Only a migration git knows is unshipped is renumbered, except for a duplicate version without
//! git (then nothing is known to have shipped, and the fix is [`Safety::Unsafe`]). Safety:
//! - a duplicate is [`Safety::Safe`] when it never shipped and no other migration sorts after
//!   its version (renumbering then changes the order of nothing but the clash, whose order the
//!   runner could not tell anyway); else it now runs after migrations it used to precede:
//!   [`Safety::Unsafe`].
//! - out of order: [`Safety::Unsafe`] where the framework would have applied the file (Prisma,
//!   sqlx, Diesel, dbmate: production would run it after the newer one, fresh databases before;
//!   after the rename both run it last, a change for fresh databases); [`Safety::Safe`] where
//!   the runner refuses to migrate or never applies it (goose, Flyway, Supabase, Atlas,
//!   golang-migrate, node-pg-migrate): the rename is what makes it run at all.
//!
//! Drizzle applies only what its journal lists: no fix there.

use std::path::{Path, PathBuf};

use crate::rules::Finding;
use crate::workspace::frameworks::naming::{runner_reads_new_files, Namer};
use crate::workspace::frameworks::{direction_by_name, framework};
use crate::workspace::{Direction, FrameworkKind, MigrationSet, VersionKey};

use super::{FileEdit, Fix, FixContext, Safety};

pub(super) fn duplicate(finding: &Finding, ctx: &FixContext, out: &mut Vec<Fix>) {
    let Some(place) = ctx.place else { return };
    let Some((_, migration)) = place.set.migration_of(place.path) else { return };
    let version = migration.version.clone();
    let others_after = place.set.migrations.iter().any(|m| m.version > version);
    let safe = ctx.project.git.is_some() && !others_after;
    renumber(finding, ctx, if safe { Safety::Safe } else { Safety::Unsafe }, out);
}

pub(super) fn out_of_order(finding: &Finding, ctx: &FixContext, out: &mut Vec<Fix>) {
    let Some(place) = ctx.place else { return };
    if ctx.project.git.is_none() {
        return;
    }
    let applies_anyway = !matches!(
        place.set.framework,
        FrameworkKind::Goose
            | FrameworkKind::Flyway
            | FrameworkKind::Supabase
            | FrameworkKind::Atlas
            | FrameworkKind::GolangMigrate
            | FrameworkKind::NodePgMigrate
    );
    renumber(finding, ctx, if applies_anyway { Safety::Unsafe } else { Safety::Safe }, out);
}

fn renumber(finding: &Finding, ctx: &FixContext, safety: Safety, out: &mut Vec<Fix>) {
    let Some(place) = ctx.place else { return };
    let set = place.set;
    if !runner_reads_new_files(set.framework) {
        return;
    }
    let Some((index, migration)) = set.migration_of(place.path) else { return };
    if ctx.project.git.is_some_and(|g| g.is_shipped(migration)) {
        return;
    }
    let Some((newest, newest_path)) = newest(ctx, set) else { return };
    let old = Namer::after(set, index, "").version().to_string();
    let new = Namer::after_file(set, &newest_path, "").next(0);
    let fw = framework(set.framework);
    let mut renames: Vec<(PathBuf, PathBuf)> = Vec::new();
    for file in migration.files() {
        let Some((from, to)) = renamed(file, &old, &new) else { return };
        if !renames.iter().any(|(f, _)| *f == from) {
            renames.push((from, to));
        }
        // Flyway's per-migration configuration goes with its file.
        let conf = PathBuf::from(format!("{}.conf", file.display()));
        if set.framework == FrameworkKind::Flyway && place.sources.text(&conf).is_some() {
            let Some(pair) = renamed(&conf, &old, &new) else { return };
            renames.push(pair);
        }
    }
    let Some(up) = migration.up.as_deref().or(migration.down.as_deref()) else { return };
    let moved = renames.iter().find_map(|(from, to)| up.strip_prefix(from).ok().map(|rest| to.join(rest)));
    let Some(key) = moved.as_deref().and_then(|p| fw.version_of(p)) else { return };
    if key <= newest || set.migrations.iter().any(|m| m.version == key) {
        return;
    }
    // Never overwrite: every target must be free.
    if renames.iter().any(|(_, to)| to.symlink_metadata().is_ok()) {
        return;
    }
    let shown = moved.as_deref().map(|p| p.strip_prefix(&set.dir).unwrap_or(p).display().to_string());
    out.push(Fix {
        rule: finding.rule,
        title: format!("Renumber to the next version ({})", shown.unwrap_or_default()),
        preferred: true,
        safety,
        edits: renames.into_iter().map(|(from, to)| FileEdit::Rename { from, to }).collect(),
    });
}

/// The newest version of the set, with its file: among its migrations, and among the files at
/// the shipped ref this branch does not have yet.
fn newest(ctx: &FixContext, set: &MigrationSet) -> Option<(VersionKey, PathBuf)> {
    let mut best: Option<(VersionKey, PathBuf)> = set
        .migrations
        .iter()
        .filter_map(|m| Some((m.version.clone(), m.up.clone().or_else(|| m.down.clone())?)))
        .max_by(|a, b| a.0.cmp(&b.0));
    if let Some(git) = ctx.project.git {
        let fw = framework(set.framework);
        for (rel, _, in_branch) in git.shipped_under(&set.dir) {
            let path = set.dir.join(&rel);
            if in_branch || direction_by_name(&path) == Direction::Down {
                continue;
            }
            let Some(version) = fw.version_of(&path) else { continue };
            if best.as_ref().is_none_or(|(v, _)| version > *v) {
                best = Some((version, path));
            }
        }
    }
    best
}

/// What to rename so that `file` carries version `new` instead of `old`: the file itself when
/// its name starts with the version (after Flyway's `V`), else its directory (Prisma, Diesel).
fn renamed(file: &Path, old: &str, new: &str) -> Option<(PathBuf, PathBuf)> {
    let swap = |name: &str| -> Option<String> {
        let (prefix, rest) = match name.strip_prefix(['V', 'v']) {
            Some(rest) if rest.starts_with(old) => (&name[..1], rest),
            _ => ("", name),
        };
        let tail = rest.strip_prefix(old)?;
        // The version must end where the old one did (`0003_x`, not `00031_x`).
        if tail.starts_with(|c: char| c.is_ascii_digit()) {
            return None;
        }
        Some(format!("{prefix}{new}{tail}"))
    };
    let name = file.file_name()?.to_str()?;
    if let Some(to) = swap(name) {
        return Some((file.to_path_buf(), file.with_file_name(to)));
    }
    let dir = file.parent()?;
    let to = swap(dir.file_name()?.to_str()?)?;
    Some((dir.to_path_buf(), dir.with_file_name(to)))
}
