//! The language server: a thin adapter from LSP to the engine. (Being written.)

/// Serves LSP on stdin/stdout until the client sends `exit`.
pub fn serve_stdio() -> anyhow::Result<()> {
    anyhow::bail!("the language server is not built yet")
}
