fn main() -> std::process::ExitCode {
    kgen::run()
}
