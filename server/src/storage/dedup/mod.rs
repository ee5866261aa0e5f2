//! Content dedup: every identical large model file under the home is stored
//! once, whoever downloaded it.
//!
//! A pass walks the home for model-format files of at least
//! [`MIN_SIZE`], buckets them by size (a file whose size is unique is never
//! read), hashes the rest with BLAKE3 (skipping those the index in SQLite
//! already knows at the same size, mtime and inode) and replaces each
//! duplicate by a reflink or, where the filesystem has none, a hardlink to its
//! twin. The swap is a rename over the duplicate after re-checking its size
//! and mtime, so a crash leaves the old file or the new link, never neither.

pub mod auto;
mod candidates;
mod cli;
mod files;
mod hash;
mod hash_phase;
mod index;
mod link;
mod link_phase;
mod lock;
mod pass;

pub use cli::{dedup_cmd, DedupArgs};
pub use link::reflink_supported;
pub use link_phase::SwapHook;

use crate::store::Store;
use anyhow::Context;
use serde::Serialize;
use std::path::Path;

/// Files smaller than this are not worth a hash.
pub const MIN_SIZE: u64 = 16 * 1024 * 1024;

/// The settings key of the automatic pass after installs and downloads.
pub const AUTO_SETTING: &str = "storage.dedup_auto";

/// Why a pass runs (kept with the pass, shown on the Storage page).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    Cli,
    Button,
    AfterInstall,
    AfterDownload,
}

#[derive(Debug, Clone)]
pub struct Options {
    /// Find duplicates, change nothing.
    pub dry_run: bool,
    pub trigger: Trigger,
    /// Smallest file considered (tests and benches lower it).
    pub min_size: u64,
    /// Runs before each swap; tests use it to change files mid-pass.
    pub before_swap: Option<SwapHook>,
}

impl Options {
    pub fn new(trigger: Trigger) -> Options {
        Options {
            dry_run: false,
            trigger,
            min_size: MIN_SIZE,
            before_swap: None,
        }
    }
}

/// What a pass found and did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub dry_run: bool,
    /// Candidate files seen (model formats, at least the minimum size).
    pub files_seen: u64,
    /// Files read and hashed this pass (the rest came from the index).
    pub files_hashed: u64,
    pub bytes_hashed: u64,
    /// Sets of identical files stored more than once before this pass.
    pub groups: Vec<DuplicateGroup>,
    /// Files replaced by a link to their twin (0 in a dry run).
    pub files_linked: u64,
    /// Bytes this pass freed (what it would free, in a dry run).
    pub bytes_saved: u64,
    /// Files left alone, each with the reason (open for writing, changed
    /// during the pass, another filesystem, permission...).
    pub skipped: Vec<Skipped>,
    /// Linked files found rewritten in place since dedup linked them.
    pub changed: Vec<ChangedFile>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DuplicateGroup {
    pub hash: String,
    pub size: u64,
    /// Paths relative to the home; the first is the copy that is kept.
    pub paths: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChangedFile {
    pub path: String,
    /// Other paths that shared its storage and so changed with it.
    pub twins: Vec<String>,
    pub detected_at: i64,
}

/// The state of dedup for the Storage page: from the index, no disk reads.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Whether a pass runs after each install and download.
    pub auto: bool,
    pub last_pass_at: Option<i64>,
    /// Files dedup has replaced by links, still in place.
    pub files_linked: u64,
    /// Bytes those links save now.
    pub bytes_saved: u64,
    /// Identical files found but not yet linked (e.g. by a dry run).
    pub pending_files: u64,
    pub pending_bytes: u64,
    pub changed: Vec<ChangedFile>,
}

/// Runs one pass over `home`. `progress` gets a line per phase and per file
/// hashed. Fails at once when another pass runs on this home.
pub async fn run(
    home: &Path,
    store: &Store,
    options: Options,
    progress: &(dyn Fn(&str) + Send + Sync),
) -> anyhow::Result<Report> {
    let _lock = lock::PassLock::acquire(home)?;
    // On a full disk even this row may not fit; the pass itself frees space.
    let id = index::pass_started(store, options.dry_run, options.trigger).await;
    let result = pass::run(home, store, &options, progress).await;
    let (report, error) = match &result {
        Ok(report) => (report.clone(), None),
        Err(e) => (Report::default(), Some(format!("{e:#}"))),
    };
    match id {
        Ok(id) => index::pass_ended(store, id, &report, error.as_deref()).await?,
        Err(e) => tracing::warn!("dedup pass not recorded: {e:#}"),
    }
    result
}

/// Reads the dedup state from the index.
pub async fn summary(store: &Store) -> anyhow::Result<Summary> {
    let (files_linked, bytes_saved) = index::saved(store).await?;
    let (pending_files, pending_bytes) = index::pending(store).await?;
    Ok(Summary {
        auto: auto_enabled(store).await?,
        last_pass_at: index::last_pass_at(store).await?,
        files_linked,
        bytes_saved,
        pending_files,
        pending_bytes,
        changed: index::changed(store).await?,
    })
}

/// Whether the automatic pass is on (it is unless switched off).
pub async fn auto_enabled(store: &Store) -> anyhow::Result<bool> {
    let value: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE key = ?")
        .bind(AUTO_SETTING)
        .fetch_optional(store.pool())
        .await
        .context("reading the dedup setting")?;
    Ok(value.as_deref() != Some("off"))
}

pub async fn set_auto(store: &Store, on: bool) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES (?, ?) \
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    )
    .bind(AUTO_SETTING)
    .bind(if on { "on" } else { "off" })
    .execute(store.pool())
    .await
    .context("saving the dedup setting")?;
    Ok(())
}

pub use app::api::human_bytes;
