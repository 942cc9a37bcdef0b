use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match ecsform::cli::Cli::try_parse() {
        Ok(cli) => cli,
        // Usage errors exit 1, never 2: with --detailed-exitcode, 2 means "the plan has changes".
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS // --help, --version
            };
        }
    };
    match ecsform::commands::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ecsform::commands::exit_code(&e)
        }
    }
}
