//! `pinokiocloud`: the dashboard server and its command line.

mod auth;
mod backend;
mod cli;
#[allow(dead_code)] // wired into the server by the front-door work
mod cloud;
mod engine_cli;
mod home;
mod http;
mod serve;
mod site;
mod store;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cli.run() {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
