//! One directory as discovery sees it: its file names, its subdirectories with their file names,
//! the ecosystem it sits in (nearest `Cargo.toml`, `go.mod` or `package.json` above it), and the
//! framework markers found at the top of its numbered `*.sql` files (read once, lazily, only the
//! first few kilobytes of each file).

use std::cell::OnceCell;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// The language ecosystem a directory belongs to: the nearest project file (`Cargo.toml`,
/// `go.mod`, `package.json`) in the directory or up to two levels above it (a crate's
/// `migrations/`, or `db/migrations/` under it), else Rust below a `crates/` directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ecosystem {
    #[default]
    Unknown,
    Rust,
    Go,
    Node,
}

/// How far a project file reaches down: the directory holding it and two levels below.
const MARKER_REACH: u32 = 2;

/// What the walk carries down: the nearest project file and how far up it is, and whether a
/// `crates/` directory is above.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EcosystemContext {
    nearest: Option<(Ecosystem, u32)>,
    crates: bool,
}

impl EcosystemContext {
    /// The context of a directory with these (sorted) files, given its parent's.
    pub fn enter(parent: EcosystemContext, dir_name: Option<&str>, files: &[String]) -> EcosystemContext {
        let has = |name: &str| files.binary_search_by(|f| f.as_str().cmp(name)).is_ok();
        let here = [("Cargo.toml", Ecosystem::Rust), ("go.mod", Ecosystem::Go), ("package.json", Ecosystem::Node)]
            .into_iter()
            .find(|(f, _)| has(f))
            .map(|(_, e)| e);
        EcosystemContext {
            nearest: match here {
                Some(e) => Some((e, 0)),
                None => parent.nearest.map(|(e, d)| (e, d.saturating_add(1))),
            },
            crates: parent.crates || dir_name == Some("crates"),
        }
    }

    pub fn ecosystem(self) -> Ecosystem {
        match self.nearest {
            Some((e, d)) if d <= MARKER_REACH => e,
            _ if self.crates => Ecosystem::Rust,
            _ => Ecosystem::Unknown,
        }
    }
}

impl Ecosystem {
    /// The ecosystem of `dir`, from the disk above it (a few `stat` calls).
    pub fn above(dir: &Path) -> Ecosystem {
        for ancestor in dir.ancestors().take(MARKER_REACH as usize + 1) {
            for (file, eco) in
                [("Cargo.toml", Ecosystem::Rust), ("go.mod", Ecosystem::Go), ("package.json", Ecosystem::Node)]
            {
                if ancestor.join(file).is_file() {
                    return eco;
                }
            }
        }
        if dir.ancestors().any(|a| a.file_name().is_some_and(|n| n == "crates")) {
            Ecosystem::Rust
        } else {
            Ecosystem::Unknown
        }
    }
}

/// A subdirectory and the names of the files directly in it (sorted).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subdir {
    pub name: String,
    pub files: Vec<String>,
}

impl Subdir {
    pub fn has(&self, file: &str) -> bool {
        self.files.binary_search_by(|f| f.as_str().cmp(file)).is_ok()
    }
}

/// What the first kilobytes of a directory's numbered `*.sql` files say about their framework.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Signals {
    /// A `-- +goose …` annotation.
    pub goose: bool,
    /// A `-- migrate:up` / `-- migrate:down` directive.
    pub dbmate: bool,
    /// A `-- Up Migration` / `-- Down Migration` marker.
    pub node_pg_migrate: bool,
    /// Drizzle's `--> statement-breakpoint`.
    pub statement_breakpoint: bool,
    /// A file that starts with sqlx's `-- no-transaction`.
    pub no_transaction: bool,
}

/// How much of each file the marker scan reads.
const HEAD_BYTES: u64 = 8 * 1024;

/// How many files at each end of a directory the marker scan reads.
pub const SAMPLE: usize = 256;

/// One directory's listing. File and subdirectory names are sorted (byte order); names that are not
/// UTF-8 are left out.
#[derive(Debug)]
pub struct Listing {
    pub dir: PathBuf,
    pub files: Vec<String>,
    pub subdirs: Vec<Subdir>,
    pub ecosystem: Ecosystem,
    signals: OnceCell<Signals>,
}

impl Listing {
    pub fn new(dir: PathBuf, mut files: Vec<String>, mut subdirs: Vec<Subdir>, ecosystem: Ecosystem) -> Listing {
        files.sort_unstable();
        subdirs.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        for s in &mut subdirs {
            s.files.sort_unstable();
        }
        Listing { dir, files, subdirs, ecosystem, signals: OnceCell::new() }
    }

    /// Reads `dir` and its immediate subdirectories from disk (for a single directory outside a
    /// workspace walk). The ecosystem comes from the ancestors on disk.
    pub fn read(dir: &Path) -> io::Result<Listing> {
        let (files, subdir_names) = read_names(dir)?;
        let subdirs = subdir_names
            .into_iter()
            .map(|name| {
                let files = read_names(&dir.join(&name)).map(|(f, _)| f).unwrap_or_default();
                Subdir { name, files }
            })
            .collect();
        Ok(Listing::new(dir.to_path_buf(), files, subdirs, Ecosystem::above(dir)))
    }

    pub fn has_file(&self, name: &str) -> bool {
        self.files.binary_search_by(|f| f.as_str().cmp(name)).is_ok()
    }

    pub fn subdir(&self, name: &str) -> Option<&Subdir> {
        self.subdirs.binary_search_by(|s| s.name.as_str().cmp(name)).ok().map(|i| &self.subdirs[i])
    }

    /// The directory's own name.
    pub fn name(&self) -> Option<&str> {
        self.dir.file_name().and_then(|n| n.to_str())
    }

    /// The name of the directory above it.
    pub fn parent_name(&self) -> Option<&str> {
        self.dir.parent().and_then(Path::file_name).and_then(|n| n.to_str())
    }

    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    /// Files whose name ends in `.sql` (any case).
    pub fn sql_files(&self) -> impl Iterator<Item = &str> {
        self.files.iter().map(String::as_str).filter(|f| is_sql(f))
    }

    /// `*.sql` files whose name starts with a digit.
    pub fn numbered_sql(&self) -> impl Iterator<Item = &str> {
        self.sql_files().filter(|f| f.as_bytes().first().is_some_and(u8::is_ascii_digit))
    }

    /// Framework markers in the first kilobytes of the numbered `*.sql` files, scanned once. The
    /// scan stops at the first file carrying a goose, dbmate, node-pg-migrate or Drizzle marker, and
    /// in a large directory reads only the first and last [`SAMPLE`] files (goose and dbmate need
    /// their marker in every file; a marker only in the middle of a huge directory is missed).
    pub fn signals(&self) -> Signals {
        *self.signals.get_or_init(|| {
            let mut s = Signals::default();
            let count = self.numbered_sql().count();
            let sampled = self
                .numbered_sql()
                .enumerate()
                .filter(|(i, _)| *i < SAMPLE || *i + SAMPLE >= count)
                .map(|(_, name)| name);
            for name in sampled {
                let Some(head) = read_head(&self.path(name), HEAD_BYTES) else { continue };
                scan_head(&head, &mut s);
                if s.goose || s.dbmate || s.node_pg_migrate || s.statement_breakpoint {
                    break;
                }
            }
            s
        })
    }
}

/// The file and subdirectory names of `dir` (sorted). Symlinked files count as files; symlinked
/// directories are not followed.
pub fn read_names(dir: &Path) -> io::Result<(Vec<String>, Vec<String>)> {
    let mut files = Vec::new();
    let mut subdirs = Vec::new();
    for entry in fs::read_dir(dir)? {
        let Ok(entry) = entry else { continue };
        let Ok(name) = entry.file_name().into_string() else { continue };
        let Ok(kind) = entry.file_type() else { continue };
        if kind.is_dir() {
            subdirs.push(name);
        } else if kind.is_file() || (kind.is_symlink() && fs::metadata(entry.path()).is_ok_and(|m| m.is_file())) {
            files.push(name);
        }
    }
    files.sort_unstable();
    subdirs.sort_unstable();
    Ok((files, subdirs))
}

pub fn is_sql(name: &str) -> bool {
    name.len() > 4 && name.as_bytes()[name.len() - 4..].eq_ignore_ascii_case(b".sql")
}

/// The first `limit` bytes of a file, lossily decoded.
pub fn read_head(path: &Path, limit: u64) -> Option<String> {
    let mut buf = Vec::new();
    fs::File::open(path).ok()?.take(limit).read_to_end(&mut buf).ok()?;
    Some(String::from_utf8_lossy(&buf).into_owned())
}

/// A whole file, lossily decoded (`None` when it cannot be read).
pub fn read_text(path: &Path) -> Option<String> {
    let bytes = fs::read(path).ok()?;
    Some(match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

fn scan_head(head: &str, s: &mut Signals) {
    s.no_transaction |= head.starts_with("-- no-transaction");
    s.statement_breakpoint |= head.contains("--> statement-breakpoint");
    for line in head.lines() {
        s.goose |= super::frameworks::goose::annotation(line).is_some();
        s.dbmate |= super::frameworks::dbmate::directive(line).is_some();
        s.node_pg_migrate |= super::frameworks::node_pg_migrate::marker(line).is_some();
    }
}
