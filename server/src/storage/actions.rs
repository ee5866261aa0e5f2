//! Freeing space from the Storage page: an app's caches, the shared
//! download caches, an app's venvs. Each deletes only what the usage scan
//! classifies as that kind (same rules, [`super::usage::app`]) and says how
//! much it freed. Blocking: call from a blocking thread.

use super::usage::app::{folders_of_kind, Kind};
use super::usage::walk::{tally, Counter};
use super::usage::CACHE_DIR;
use anyhow::Context;
use app::api::human_bytes;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Entries of `<home>/cache` that are not caches: `HF_AUTH` holds the
/// Hugging Face token (`HF_TOKEN_PATH`), which nothing downloads again.
pub const KEEP_IN_CACHE: [&str; 1] = ["HF_AUTH"];

/// What an action removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Freed {
    pub bytes: u64,
    pub folders: usize,
}

/// Deletes the app's cache folders (`__pycache__`, `cache`, `.cache`...).
pub fn clear_app_caches(home: &Path, app: &str) -> anyhow::Result<Freed> {
    let dir = app_dir(home, app)?;
    remove_all(&folders_of_kind(&dir, Kind::Cache))
}

/// Deletes the app's venvs; the caller checks it is not running.
pub fn remove_venvs(home: &Path, app: &str) -> anyhow::Result<Freed> {
    let dir = app_dir(home, app)?;
    let venvs = folders_of_kind(&dir, Kind::Venv);
    if venvs.is_empty() {
        anyhow::bail!(
            "{app} has no venv to remove (none found in {})",
            dir.display()
        );
    }
    remove_all(&venvs)
}

/// Empties `<home>/cache`, keeping [`KEEP_IN_CACHE`].
pub fn clear_download_cache(home: &Path) -> anyhow::Result<Freed> {
    let cache = home.join(CACHE_DIR);
    let entries = match std::fs::read_dir(&cache) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Freed::default()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", cache.display())),
    };
    let mut doomed = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("reading {}", cache.display()))?;
        let keep = KEEP_IN_CACHE.iter().any(|k| entry.file_name() == **k);
        if !keep {
            doomed.push(entry.path());
        }
    }
    remove_all(&doomed)
}

/// The app's folder, refusing names that would leave `<home>/api`.
fn app_dir(home: &Path, app: &str) -> anyhow::Result<PathBuf> {
    crate::apps::check_name(app).map_err(|e| anyhow::anyhow!("{e}"))?;
    let dir = home.join("api").join(app);
    if !dir.is_dir() {
        anyhow::bail!(
            "there is no app {app} (no folder {}); reload the Storage page",
            dir.display()
        );
    }
    Ok(dir)
}

fn remove_all(paths: &[PathBuf]) -> anyhow::Result<Freed> {
    let mut freed = Freed::default();
    let mut counter = Counter::new(Arc::default());
    for path in paths {
        let bytes = tally(path, &mut counter, "").bytes;
        remove(path).with_context(|| {
            format!(
                "could not delete {} (check that you own it and no program holds it open); \
                 {} were freed before this",
                path.display(),
                human_bytes(freed.bytes)
            )
        })?;
        freed.bytes += bytes;
        freed.folders += 1;
    }
    Ok(freed)
}

/// Removes a file, a symlink (not what it points to) or a folder tree.
fn remove(path: &Path) -> std::io::Result<()> {
    let meta = std::fs::symlink_metadata(path)?;
    if meta.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    }
}
