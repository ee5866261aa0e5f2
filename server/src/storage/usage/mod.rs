//! Where the disk went: one walk of the home that sizes every app by kind
//! of content, the shared drive by folder, the download caches and the
//! rest, and lists the filesystems all of it lies on.
//!
//! Every file counts once. The drive is walked first, then `<home>/cache`,
//! then the apps (by name), then the rest, and a file hardlinked from
//! several places (dedup's links, venv packages shared through the drive)
//! counts where it was met first. Symlinks are never followed, so a drive
//! folder an app links counts under the drive and the app lists the link.
//!
//! Sizes are file lengths (what `ls -l` shows), not allocated blocks.
//! Unreadable folders are skipped rather than failing the whole scan.

pub mod app;
pub mod drive;
pub mod filesystems;
pub mod walk;

use ::app::api::{AppUsage, CacheUsage, DriveUsage, SizedEntry, StorageUsage};
use anyhow::Context;
use filesystems::Hints;
use std::collections::BTreeSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use walk::{tally, Counter, Progress};

/// `<home>/cache`: shared download caches.
pub const CACHE_DIR: &str = "cache";

/// Scans `home`, updating `progress` as it goes. Blocking: run it on a
/// blocking thread.
pub fn scan(home: &Path, hints: &Hints, progress: Arc<Progress>) -> anyhow::Result<StorageUsage> {
    let home = home
        .canonicalize()
        .with_context(|| format!("there is no home at {}", home.display()))?;
    let meta = std::fs::metadata(&home).with_context(|| format!("reading {}", home.display()))?;
    let mut counter = Counter::new(progress);
    counter.note_device(meta.dev(), &home, "home");

    let drive_root = engine::drive::root_for_home(&home);
    let drive_root = drive_root.canonicalize().unwrap_or(drive_root);
    let mut drive = if drive_root.is_dir() {
        drive::scan(&drive_root, &mut counter)
    } else {
        DriveUsage {
            root: drive_root.display().to_string(),
            ..DriveUsage::default()
        }
    };
    let moved_peers = drive::moved_peers(&drive_root);
    if let Some(peers) = &moved_peers {
        if let Ok(meta) = std::fs::metadata(peers) {
            counter.note_device(meta.dev(), peers, "drive (shared models)");
        }
    }
    let download_cache = cache_usage(&home.join(CACHE_DIR), &mut counter);
    let names = app_names(&home.join("api"));
    let root = app::DriveRoot {
        root: &drive_root,
        moved_peers: moved_peers.as_deref(),
    };
    let mut apps: Vec<AppUsage> = names
        .iter()
        .map(|name| scan_app(&home, name, &root, &mut counter))
        .collect();
    let other = other_entries(&home, &drive_root, &names, &mut counter);
    drive::attribute(&mut drive, &mut apps);
    apps.sort_by(|a, b| b.total_bytes.cmp(&a.total_bytes).then(a.name.cmp(&b.name)));

    let total_bytes = drive.bytes
        + download_cache.bytes
        + apps.iter().map(|a| a.total_bytes).sum::<u64>()
        + other.iter().map(|o| o.bytes).sum::<u64>();
    Ok(StorageUsage {
        home: home.display().to_string(),
        scanned_at: crate::store::now(),
        total_bytes,
        files: counter.progress.files(),
        filesystems: filesystems::describe(&counter.devices, hints),
        apps,
        drive,
        download_cache,
        other,
    })
}

/// App folders under `api` (hidden ones are not apps), sorted.
pub fn app_names(api: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(api)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    names
}

/// An app's folder plus its run logs in `<home>/logs/<app>`.
fn scan_app(home: &Path, name: &str, drive: &app::DriveRoot, counter: &mut Counter) -> AppUsage {
    let dir = home.join("api").join(name);
    let mut usage = app::scan(name, &dir, drive, counter);
    let logs = tally(&home.join("logs").join(name), counter, "home");
    usage.log_bytes += logs.bytes;
    usage.total_bytes += logs.bytes;
    usage
}

fn cache_usage(dir: &Path, counter: &mut Counter) -> CacheUsage {
    let mut folders: Vec<SizedEntry> = children(dir)
        .into_iter()
        .map(|(name, path)| SizedEntry {
            bytes: tally(&path, counter, "cache").bytes,
            name,
        })
        .collect();
    folders.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.name.cmp(&b.name)));
    CacheUsage {
        path: dir.display().to_string(),
        bytes: folders.iter().map(|f| f.bytes).sum(),
        folders,
    }
}

/// Top-level entries of the home besides apps, drive and caches; `logs`
/// counts only logs of apps no longer installed (the rest went to apps).
fn other_entries(
    home: &Path,
    drive_root: &Path,
    apps: &[String],
    counter: &mut Counter,
) -> Vec<SizedEntry> {
    let apps: BTreeSet<&str> = apps.iter().map(String::as_str).collect();
    let mut out = Vec::new();
    for (name, path) in children(home) {
        if name == "api" || name == CACHE_DIR || path == drive_root {
            continue;
        }
        let bytes = if name == "logs" {
            children(&path)
                .into_iter()
                .filter(|(n, _)| !apps.contains(n.as_str()))
                .map(|(_, p)| tally(&p, counter, "home").bytes)
                .sum()
        } else {
            tally(&path, counter, "home").bytes
        };
        if bytes > 0 {
            out.push(SizedEntry { name, bytes });
        }
    }
    out.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.name.cmp(&b.name)));
    out
}

fn children(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .collect();
    out.sort();
    out
}
