fn main() -> std::process::ExitCode {
    do_cli::main()
}
