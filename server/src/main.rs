//! `pinokiocloud`: the dashboard server and its command line.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    match server::cli::Cli::parse().run() {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
