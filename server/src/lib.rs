//! safemig: makes database migrations safe to write and safe to ship.
//!
//! See ARCHITECTURE.md for the map. The engine (`text`, `sql`, `rules`, `config`, `engine`) is
//! synchronous and knows nothing of LSP; `lsp` and `cli` are thin adapters over it.

pub mod cli;
pub mod config;
pub mod engine;
pub mod fixes;
pub mod history;
pub mod live;
pub mod lsp;
pub mod project;
pub mod rules;
pub mod schema;
pub mod sql;
pub mod text;
pub mod workspace;
