//! Starts the built `safemig lsp` binary and speaks LSP to it over stdio. (Being written.)

#[test]
fn binary_exists() {
    assert!(std::path::Path::new(env!("CARGO_BIN_EXE_safemig")).exists());
}
