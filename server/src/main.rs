fn main() -> std::process::ExitCode {
    match std::env::args().nth(1).as_deref() {
        Some("lsp") => match safemig::lsp::serve_stdio() {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("safemig lsp: {e:#}");
                std::process::ExitCode::from(2)
            }
        },
        _ => {
            eprintln!("usage: safemig check|rules|explain|lsp");
            std::process::ExitCode::from(2)
        }
    }
}
