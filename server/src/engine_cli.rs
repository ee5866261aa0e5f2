//! CLI glue for the engine subcommands (`run`, `plan`, `menu`).
//! Placeholder until the engine lands: each command says so and fails.

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Script to run (path to a .js or .json launcher script).
    pub script: PathBuf,
    #[arg(long)]
    pub home: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct PlanArgs {
    pub script: PathBuf,
    #[arg(long)]
    pub home: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct MenuArgs {
    pub app_dir: PathBuf,
    #[arg(long)]
    pub home: Option<PathBuf>,
}

pub fn run(_args: RunArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`run` is not available yet")
}

pub fn plan(_args: PlanArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`plan` is not available yet")
}

pub fn menu(_args: MenuArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`menu` is not available yet")
}
