//! Command-line interface: one subcommand per thing a user does.

use crate::{app_cli, engine_cli, serve, snapshot};
use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "pinokiocloud",
    version,
    about = "Run Pinokio AI apps on cloud GPUs, from one web dashboard."
)]
pub struct Cli {
    /// What to do; without one, `serve` with its defaults.
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Start the dashboard and print the URL to open.
    Serve(serve::ServeArgs),
    /// Run a Pinokio script, streaming its output.
    Run(engine_cli::RunArgs),
    /// Show what a script would do, without doing it.
    Plan(engine_cli::PlanArgs),
    /// Print an app's launcher menu.
    Menu(engine_cli::MenuArgs),
    /// Install an app from a git URL, a local folder or a catalog id.
    Install(app_cli::InstallArgs),
    /// Start an app's script (default: its start script).
    Start(app_cli::StartArgs),
    /// Stop every running script of an app.
    Stop(app_cli::StopArgs),
    /// List installed apps and what runs.
    Ls(app_cli::LsArgs),
    /// Print the log of an app's latest run (or --run ID).
    Logs(app_cli::LogsArgs),
    /// Print a sign-in link that opens a running app at its own address.
    Open(crate::origin::cli::OpenArgs),
    /// Copy the home (apps, venvs, database) to persistent storage, incrementally.
    Snapshot(snapshot::SnapshotArgs),
    /// Restore a home from a snapshot (keeps what the home has beyond it).
    Restore(snapshot::RestoreArgs),
    /// Store every identical large model file once (reflink or hardlink).
    Dedup(crate::storage::dedup::DedupArgs),
    /// Show where the disk went: per filesystem, app, drive folder and cache.
    Storage(crate::storage::cli::StorageArgs),
    /// List every HTTP route with the access it requires (JSON lines).
    #[command(hide = true)]
    Routes,
    /// Rebuild the shipped catalog from the upstream Pinokio app list.
    #[command(hide = true)]
    CatalogImport {
        /// Upstream `cleaned_pinokio_apps.json`.
        source: PathBuf,
        /// Where to write the normalised catalog.
        out: PathBuf,
    },
}

impl Cli {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let command = self
            .command
            .unwrap_or_else(|| Command::Serve(serve::ServeArgs::from_defaults()));
        match command {
            Command::Serve(args) => serve::run(args).map(|()| ExitCode::SUCCESS),
            Command::Run(args) => engine_cli::run(args),
            Command::Plan(args) => engine_cli::plan(args),
            Command::Menu(args) => engine_cli::menu(args),
            Command::Install(args) => app_cli::install(args),
            Command::Start(args) => app_cli::start(args),
            Command::Stop(args) => app_cli::stop(args),
            Command::Ls(args) => app_cli::ls(args),
            Command::Logs(args) => app_cli::logs(args),
            Command::Open(args) => crate::origin::cli::open(args),
            Command::Snapshot(args) => snapshot::snapshot_cmd(args),
            Command::Restore(args) => snapshot::restore_cmd(args),
            Command::Dedup(args) => crate::storage::dedup::dedup_cmd(args),
            Command::Storage(args) => crate::storage::cli::storage_cmd(args),
            Command::CatalogImport { source, out } => catalog_import(&source, &out),
            Command::Routes => print_routes(),
        }
    }
}

fn catalog_import(source: &Path, out: &Path) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(source)
        .with_context(|| format!("reading catalog source {}", source.display()))?;
    let apps = app::catalog::import::import(&text)
        .with_context(|| format!("importing {}", source.display()))?;
    let mut json = serde_json::to_string_pretty(&apps)?;
    json.push('\n');
    std::fs::write(out, json).with_context(|| format!("writing {}", out.display()))?;
    println!("wrote {} apps to {}", apps.len(), out.display());
    Ok(ExitCode::SUCCESS)
}

fn print_routes() -> anyhow::Result<ExitCode> {
    use crate::auth::policy::{self, Access};
    let table = tokio::runtime::Runtime::new()
        .context("starting the async runtime")?
        .block_on(async { crate::http::route_table() });
    for (method, path) in table {
        let parsed = method.parse().unwrap_or(axum::http::Method::GET);
        let access = match policy::required(&parsed, &path) {
            Access::Public => "public".to_string(),
            Access::Role(role) => role.to_string(),
        };
        println!(
            "{}",
            serde_json::json!({ "method": method, "path": path, "access": access })
        );
    }
    Ok(ExitCode::SUCCESS)
}
