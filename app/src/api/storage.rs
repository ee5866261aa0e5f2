//! The Storage page: where the disk went (per filesystem, per app, the
//! shared drive, download caches), content dedup, and actions that free
//! space. The same [`StorageUsage`] is what `pinokiocloud storage --json`
//! prints, so the page and the CLI never disagree.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Everything the Storage page shows, from memory (never a disk walk).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StorageOverview {
    /// The last finished scan; `None` until the first one is done.
    pub usage: Option<StorageUsage>,
    pub scan: ScanStatus,
    pub dedup: DedupStatus,
    pub models: ModelsPlacement,
}

/// Where the shared models (the virtual drive's peer folders) are kept: on
/// the home's disk, or moved to a persistent volume.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelsPlacement {
    pub folder: String,
    /// On a volume rather than under the home's drive.
    pub moved: bool,
    /// A persistent place on another disk, when the platform has one.
    pub suggested: Option<String>,
    /// A move runs now: bytes copied of the total.
    pub moving: bool,
    pub copied: u64,
    pub total: u64,
    pub last_result: Option<String>,
    pub error: Option<String>,
}

/// The background size scan.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ScanStatus {
    pub running: bool,
    /// Files and bytes counted so far by the scan in progress.
    pub files: u64,
    pub bytes: u64,
    /// Why the last scan failed (the previous result stays shown).
    pub error: Option<String>,
}

/// One scan of the home. Every file is counted once: hardlinks by
/// (device, inode), symlinks never followed into what they point to.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StorageUsage {
    pub home: String,
    /// Unix seconds.
    pub scanned_at: i64,
    /// Everything counted, in bytes and files.
    pub total_bytes: u64,
    pub files: u64,
    pub filesystems: Vec<FilesystemUsage>,
    /// Biggest first.
    pub apps: Vec<AppUsage>,
    pub drive: DriveUsage,
    pub download_cache: CacheUsage,
    /// The rest of the home by top-level name: database, logs of apps no
    /// longer installed, tools.
    pub other: Vec<SizedEntry>,
}

/// A filesystem the home has data on.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FilesystemUsage {
    /// e.g. "local disk", "persistent volume (/workspace)", "Google Drive (/content/drive)".
    pub label: String,
    pub mount_point: String,
    pub fs_type: String,
    pub total_bytes: u64,
    /// What an unprivileged user may still write.
    pub free_bytes: u64,
    /// Which parts of the home live there ("home", "drive", "api/app → /mnt/x").
    pub holds: Vec<String>,
}

/// One installed app, by kind of content.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AppUsage {
    pub name: String,
    pub code_bytes: u64,
    pub venv_bytes: u64,
    pub model_bytes: u64,
    pub cache_bytes: u64,
    pub log_bytes: u64,
    pub total_bytes: u64,
    /// Venv folders, relative to the app.
    pub venvs: Vec<String>,
    /// Cache folders, relative to the app.
    pub caches: Vec<String>,
    /// Symlinks from the app into the shared drive (their content is
    /// counted under the drive, not here).
    pub drive_links: Vec<DriveLink>,
    /// Filled by the server when it answers (not part of a scan).
    pub running: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DriveLink {
    /// The symlink, relative to the app.
    pub path: String,
    /// The drive folder it points into ([`DriveFolder::name`]).
    pub folder: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DriveUsage {
    pub root: String,
    pub bytes: u64,
    pub folders: Vec<DriveFolder>,
}

/// One shared drive folder.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DriveFolder {
    /// Relative to the drive root, e.g. `drives/peers/d1700000000/checkpoints`.
    pub name: String,
    pub bytes: u64,
    pub files: u64,
    /// Apps with a symlink into it.
    pub linked_by: Vec<String>,
}

/// `<home>/cache`: uv, pip, npm and Hugging Face downloads.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CacheUsage {
    pub path: String,
    pub bytes: u64,
    pub folders: Vec<SizedEntry>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SizedEntry {
    pub name: String,
    pub bytes: u64,
}

/// Content dedup as the page shows it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DedupStatus {
    /// Whether a pass runs after each install and download.
    pub auto: bool,
    pub last_pass_at: Option<i64>,
    pub files_linked: u64,
    pub bytes_saved: u64,
    pub pending_files: u64,
    pub pending_bytes: u64,
    /// Linked files rewritten in place since (their twins changed too).
    pub changed: Vec<String>,
    /// A pass started from the page is in progress.
    pub running: bool,
    /// Its latest progress line.
    pub progress: Option<String>,
    /// What the last pass started here did, or why it failed.
    pub last_result: Option<String>,
    pub error: Option<String>,
}

/// `1.5 GB`-style sizes, for the page and the CLI: decimal units, as disks
/// are sold and clouds bill (and as the disk guard's messages count).
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    match unit {
        0 => format!("{bytes} B"),
        _ if value < 10.0 => format!("{value:.1} {}", UNITS[unit]),
        _ => format!("{value:.0} {}", UNITS[unit]),
    }
}

#[cfg(feature = "ssr")]
use super::auth::ssr::guard;

#[server(endpoint = "admin/storage_overview")]
pub async fn load_storage_overview() -> Result<StorageOverview, ServerFnError> {
    guard(crate::auth::Role::Admin)?
        .storage_overview()
        .await
        .map_err(ServerFnError::new)
}

/// Starts a new scan in the background (one already running is kept).
#[server(endpoint = "admin/storage_rescan")]
pub async fn storage_rescan() -> Result<(), ServerFnError> {
    guard(crate::auth::Role::Admin)?
        .storage_rescan()
        .await
        .map_err(ServerFnError::new)
}

/// Deletes the app's cache folders; returns a sentence saying what was freed.
#[server(endpoint = "admin/storage_clear_app_caches")]
pub async fn clear_app_caches(name: String) -> Result<String, ServerFnError> {
    guard(crate::auth::Role::Admin)?
        .clear_app_caches(name)
        .await
        .map_err(ServerFnError::new)
}

/// Empties `<home>/cache` except the Hugging Face token.
#[server(endpoint = "admin/storage_clear_download_cache")]
pub async fn clear_download_cache() -> Result<String, ServerFnError> {
    guard(crate::auth::Role::Admin)?
        .clear_download_cache()
        .await
        .map_err(ServerFnError::new)
}

/// Deletes the app's venvs (refused while it runs).
#[server(endpoint = "admin/storage_remove_venvs")]
pub async fn remove_app_venvs(name: String) -> Result<String, ServerFnError> {
    guard(crate::auth::Role::Admin)?
        .remove_app_venvs(name)
        .await
        .map_err(ServerFnError::new)
}

/// Starts a dedup pass in the background.
#[server(endpoint = "admin/storage_dedup")]
pub async fn start_dedup() -> Result<(), ServerFnError> {
    guard(crate::auth::Role::Admin)?
        .start_dedup()
        .await
        .map_err(ServerFnError::new)
}

/// Moves the shared models to `to` (`None`: back to the home's disk), in
/// the background; refused while apps run.
#[server(endpoint = "admin/storage_move_models")]
pub async fn move_models(to: Option<String>) -> Result<(), ServerFnError> {
    guard(crate::auth::Role::Admin)?
        .move_models(to)
        .await
        .map_err(ServerFnError::new)
}

#[server(endpoint = "admin/dedup_auto")]
pub async fn dedup_auto() -> Result<bool, ServerFnError> {
    guard(crate::auth::Role::Admin)?
        .dedup_auto()
        .await
        .map_err(ServerFnError::new)
}

#[server(endpoint = "admin/set_dedup_auto")]
pub async fn set_dedup_auto(on: bool) -> Result<(), ServerFnError> {
    guard(crate::auth::Role::Admin)?
        .set_dedup_auto(on)
        .await
        .map_err(ServerFnError::new)
}

#[cfg(test)]
mod tests {
    use super::human_bytes;

    #[test]
    fn sizes_read_in_decimal_units_like_df_h() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1500), "1.5 KB");
        assert_eq!(human_bytes(64 * 1024 * 1024), "67 MB");
        assert_eq!(human_bytes(7_000_000_001), "7.0 GB");
    }
}
