//! `pinokiocloud dedup`: one pass over a home, from the terminal. It works on
//! the home directly, so it runs with or without the dashboard.

use super::{human_bytes, Options, Report, Trigger};
use crate::cloud::env::SystemEnv;
use crate::cloud::platform::{self, PlatformId};
use anyhow::Context;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct DedupArgs {
    /// The home to deduplicate [default: the platform's, as for `serve`].
    #[arg(long, env = "PINOKIOCLOUD_HOME")]
    pub home: Option<PathBuf>,
    /// Find identical files and what linking them would save; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the report as JSON (progress still goes to stderr).
    #[arg(long)]
    pub json: bool,
    /// Smallest file considered, in bytes.
    #[arg(long, default_value_t = super::MIN_SIZE, hide = true)]
    pub min_size: u64,
    /// Platform to assume instead of detecting it.
    #[arg(long, env = "PINOKIOCLOUD_PLATFORM")]
    pub platform: Option<PlatformId>,
}

pub fn dedup_cmd(args: DedupArgs) -> anyhow::Result<ExitCode> {
    let home = match args.home {
        Some(home) => home,
        None => match args.platform {
            Some(id) => platform::by_id(id, &SystemEnv),
            None => platform::detect(&SystemEnv),
        }
        .home()
        .path
        .clone(),
    };
    let home = home
        .canonicalize()
        .with_context(|| format!("there is no home at {}; pass --home DIR", home.display()))?;
    let options = Options {
        dry_run: args.dry_run,
        min_size: args.min_size,
        ..Options::new(Trigger::Cli)
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let report = runtime.block_on(async {
        let store = crate::store::Store::open(&home).await?;
        super::run(&home, &store, options, &|line| eprintln!("{line}")).await
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", describe(&report));
    }
    Ok(ExitCode::SUCCESS)
}

/// The report for people: what was found, saved and left alone, and why.
pub fn describe(report: &Report) -> String {
    let mut out = String::new();
    let verb = if report.dry_run {
        "would free"
    } else {
        "freed"
    };
    out.push_str(&format!(
        "{} large model file(s) seen, {} hashed ({}); {} set(s) of identical files\n",
        report.files_seen,
        report.files_hashed,
        human_bytes(report.bytes_hashed),
        report.groups.len()
    ));
    for group in &report.groups {
        out.push_str(&format!(
            "  {} × {}\n",
            human_bytes(group.size),
            group.paths.len()
        ));
        for (i, path) in group.paths.iter().enumerate() {
            out.push_str(&format!(
                "    {} {path}\n",
                if i == 0 { "keep" } else { "    " }
            ));
        }
    }
    out.push_str(&format!(
        "{} file(s) linked to their twin, {verb} {}\n",
        report.files_linked,
        human_bytes(report.bytes_saved)
    ));
    for skipped in &report.skipped {
        out.push_str(&format!(
            "left alone: {}: {}\n",
            skipped.path, skipped.reason
        ));
    }
    for changed in &report.changed {
        out.push_str(&format!(
            "warning: {} was rewritten in place after dedup linked it, so {} changed with it; \
             reinstall or re-download what needs the old content\n",
            changed.path,
            changed.twins.join(", ")
        ));
    }
    if report.dry_run && !report.groups.is_empty() {
        out.push_str("nothing was changed (dry run); run `pinokiocloud dedup` to link them\n");
    }
    out
}
