use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = ecsform::cli::Cli::parse();
    match ecsform::app::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
