fn main() -> std::process::ExitCode {
    safemig::cli::main()
}
