//! `pinokiocloud storage [--home DIR] [--json]`: the Storage page in a
//! terminal. Works on the home directly, with or without a dashboard.

use super::usage::{self, filesystems::Hints, walk::Progress};
use anyhow::Context;
use app::api::{human_bytes as h, StorageUsage};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(clap::Args, Debug)]
pub struct StorageArgs {
    /// The home to measure [default: the platform's, as for `serve`].
    #[arg(long, env = "PINOKIOCLOUD_HOME")]
    pub home: Option<PathBuf>,
    /// Print the scan as JSON (the Storage page's data).
    #[arg(long)]
    pub json: bool,
}

/// `pinokiocloud storage`.
pub fn storage_cmd(args: StorageArgs) -> anyhow::Result<ExitCode> {
    let hints = Hints::detect();
    let home = match args.home {
        Some(home) => home,
        None => {
            use crate::cloud::{env::SystemEnv, platform};
            platform::detect(&SystemEnv).home().path
        }
    };
    let usage = usage::scan(&home, &hints, Arc::new(Progress::default()))
        .with_context(|| format!("pass --home DIR if the home is not {}", home.display()))?;
    let text = if args.json {
        serde_json::to_string_pretty(&usage)? + "\n"
    } else {
        render(&usage)
    };
    // A closed pipe (`| head`) is the reader's choice, not an error.
    let _ = std::io::stdout().write_all(text.as_bytes());
    Ok(ExitCode::SUCCESS)
}

/// The human report: aligned tables with human sizes.
pub fn render(u: &StorageUsage) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "home {}: {} in {} files\n",
        u.home,
        h(u.total_bytes),
        u.files
    );
    let fs_rows = u
        .filesystems
        .iter()
        .map(|f| {
            vec![
                f.label.clone(),
                f.mount_point.clone(),
                h(f.free_bytes),
                h(f.total_bytes),
                f.holds.join(", "),
            ]
        })
        .collect();
    table(
        &mut out,
        &["FILESYSTEM", "MOUNT", "FREE", "TOTAL", "HOLDS"],
        fs_rows,
    );
    let app_rows = u
        .apps
        .iter()
        .map(|a| {
            vec![
                a.name.clone(),
                h(a.total_bytes),
                h(a.code_bytes),
                h(a.venv_bytes),
                h(a.model_bytes),
                h(a.cache_bytes),
                h(a.log_bytes),
            ]
        })
        .collect();
    table(
        &mut out,
        &["APP", "TOTAL", "CODE", "VENVS", "MODELS", "CACHES", "LOGS"],
        app_rows,
    );
    let drive_rows = u
        .drive
        .folders
        .iter()
        .map(|f| vec![f.name.clone(), h(f.bytes), f.linked_by.join(", ")])
        .collect();
    table(&mut out, &["DRIVE FOLDER", "SIZE", "LINKED BY"], drive_rows);
    let mut rest: Vec<Vec<String>> = vec![vec![
        "download caches".into(),
        h(u.download_cache.bytes),
        u.download_cache.path.clone(),
    ]];
    rest.extend(
        u.other
            .iter()
            .map(|o| vec![o.name.clone(), h(o.bytes), String::new()]),
    );
    table(&mut out, &["OTHER", "SIZE", "PATH"], rest);
    out
}

/// Left-aligned columns, two spaces apart, then a blank line. Empty tables print nothing.
fn table(out: &mut String, head: &[&str], rows: Vec<Vec<String>>) {
    if rows.is_empty() {
        return;
    }
    let mut widths: Vec<usize> = head.iter().map(|c| c.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let head: Vec<String> = head.iter().map(|s| s.to_string()).collect();
    for row in std::iter::once(&head).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
    }
    out.push('\n');
}
