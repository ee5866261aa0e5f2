//! `manifest.json`: what a snapshot holds. It is written last (after every
//! file and the database), atomically, and removed first when a snapshot
//! starts, so a snapshot without one is an interrupted snapshot.
//!
//! The home keeps its own record, `<home>/.pinokiocloud-sync.json`: when it
//! was last snapshotted or restored. `serve --snapshot-dir` restores only a
//! snapshot newer than that.

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const MANIFEST: &str = "manifest.json";
/// The home's record of its last snapshot or restore.
pub const SYNC_FILE: &str = ".pinokiocloud-sync.json";
/// The snapshot format this build writes and reads.
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub version: u32,
    /// Unix milliseconds at which the snapshot finished copying.
    pub created_at_ms: u64,
    /// The home it was taken from: paths inside venvs that name it are
    /// rewritten when restoring to another folder.
    pub source_home: PathBuf,
    pub pinokiocloud_version: String,
    /// The folders under `api/`.
    pub apps: Vec<String>,
    pub venvs: Vec<VenvLock>,
    pub files: u64,
    pub bytes: u64,
    /// Files (relative to the home) with an execute bit, put back on
    /// restore where the snapshot's file system dropped it.
    #[serde(default)]
    pub executables: Vec<PathBuf>,
    /// Symlinks stored as `*.pinokiocloud-link` stub files.
    #[serde(default)]
    pub link_stubs: u64,
}

/// What is needed to rebuild a venv on a machine where it does not run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VenvLock {
    /// Relative to the home, e.g. `api/comfy/env`.
    pub path: PathBuf,
    /// `version` (or uv's `version_info`) from `pyvenv.cfg`, e.g. `3.11.7`.
    pub python_version: Option<String>,
    /// `home` from `pyvenv.cfg`: the folder of the base interpreter.
    pub base_home: Option<PathBuf>,
    /// `pip freeze` lines; `None` when they could not be recorded.
    pub requirements: Option<Vec<String>>,
    /// What recorded them: `uv` or `pip`.
    pub locked_with: Option<String>,
}

/// The home's last sync with a snapshot.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SyncRecord {
    /// `created_at_ms` of the snapshot last written or restored.
    pub snapshot_created_at_ms: u64,
    pub snapshot: PathBuf,
    /// `snapshot` or `restore`.
    pub action: String,
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Manifest {
    /// The manifest of a complete snapshot, or an error that says what is
    /// wrong with `dir` and what to do.
    pub fn read(dir: &Path) -> anyhow::Result<Manifest> {
        let path = dir.join(MANIFEST);
        if !dir.is_dir() {
            bail!(
                "there is no snapshot at {}; take one with `pinokiocloud snapshot --to {}`",
                dir.display(),
                dir.display()
            );
        }
        if !path.exists() {
            bail!(
                "the snapshot at {} is incomplete (no {MANIFEST}: it was interrupted while being \
                 written) and was not restored; take a new one with `pinokiocloud snapshot --to {}`",
                dir.display(),
                dir.display()
            );
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let manifest: Manifest = serde_json::from_str(&text).with_context(|| {
            format!("{} is not a PinokioCloud snapshot manifest", path.display())
        })?;
        if manifest.version > VERSION {
            bail!(
                "the snapshot at {} has format {} but this pinokiocloud reads up to {VERSION}; \
                 update pinokiocloud",
                dir.display(),
                manifest.version
            );
        }
        Ok(manifest)
    }

    /// Writes the manifest atomically: the last step of a snapshot.
    pub fn write(&self, dir: &Path) -> anyhow::Result<()> {
        write_json_atomically(&dir.join(MANIFEST), self)
    }
}

/// Marks `dir` as a snapshot in progress (no manifest until it completes).
pub fn start_writing(dir: &Path) -> anyhow::Result<()> {
    let path = dir.join(MANIFEST);
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("removing {}", path.display()))
        }
        _ => Ok(()),
    }
}

impl SyncRecord {
    pub fn read(home: &Path) -> Option<SyncRecord> {
        let text = std::fs::read_to_string(home.join(SYNC_FILE)).ok()?;
        serde_json::from_str(&text).ok()
    }

    pub fn write(&self, home: &Path) -> anyhow::Result<()> {
        write_json_atomically(&home.join(SYNC_FILE), self)
    }
}

fn write_json_atomically<T: Serialize>(path: &Path, value: &T) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interrupted_snapshot_is_named_as_such() {
        let dir = tempfile::tempdir().unwrap();
        let err = Manifest::read(dir.path()).unwrap_err().to_string();
        assert!(err.contains("incomplete"), "{err}");
        let missing = dir.path().join("nope");
        let err = Manifest::read(&missing).unwrap_err().to_string();
        assert!(err.contains("there is no snapshot"), "{err}");
    }
}
