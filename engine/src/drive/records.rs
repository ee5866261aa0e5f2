//! What the drive remembers, as small JSON files beside the data:
//!
//! - `drives/peers/<id>.json` for each peer drive folder `drives/peers/<id>/`:
//!   the repositories that use it (how `peers` find it) and every link an
//!   app made into it (which app links which folder);
//! - `drives/pip/venvs.json`: for each linked venv, how each package is
//!   shared (moved into the drive, or already hardlinked from uv's cache).
//!
//! Written under [`super::lock::DriveLock`], atomically (temp file + rename).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::error::{DriveError, Result};

/// One peer drive folder.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PeerDrive {
    /// Normalised repository URLs (or `dir:<path>`) of the apps using it.
    pub repos: Vec<String>,
    pub links: Vec<LinkRecord>,
}

/// `path` (inside an app) is a symlink to `<drive>/<name>`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LinkRecord {
    pub app: String,
    pub app_dir: PathBuf,
    pub name: String,
    pub path: PathBuf,
}

/// How one venv's packages are shared.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct VenvRecord {
    pub app_dir: PathBuf,
    /// `3.11`: the `lib/pythonX.Y` the packages belong to.
    pub python: String,
    pub packages: BTreeMap<String, PackageRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PackageRecord {
    pub version: String,
    pub how: Sharing,
    /// The store folder under `drives/pip` (`numpy/2.1.0`) for
    /// [`Sharing::Drive`], uv's cache entry for [`Sharing::UvCache`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Sharing {
    /// Shares the copy in `drives/pip/...` (hardlinks; symlinks when the
    /// drive is on another filesystem).
    Drive,
    /// Files are hardlinks of uv's cache: already stored once, not moved.
    UvCache,
    /// Files are hardlinks of something else (the platform's torch): not moved.
    Hardlinked,
    /// Left in place (editable install, files changed since install, no RECORD).
    Kept,
}

pub type VenvRecords = BTreeMap<String, VenvRecord>;

pub fn peers_dir(root: &Path) -> PathBuf {
    root.join("drives").join("peers")
}

pub fn pip_dir(root: &Path) -> PathBuf {
    root.join("drives").join("pip")
}

pub fn venvs_file(root: &Path) -> PathBuf {
    pip_dir(root).join("venvs.json")
}

/// Every peer drive whose folder exists, oldest first (ids sort by time).
pub fn peer_drives(root: &Path) -> Result<Vec<(String, PeerDrive)>> {
    let dir = peers_dir(root);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(vec![]);
    };
    let mut out = vec![];
    for entry in entries {
        let path = entry.map_err(DriveError::io("reading", &dir))?.path();
        let Some(id) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".json"))
        else {
            continue;
        };
        if dir.join(id).is_dir() {
            out.push((id.to_string(), load(&path)?));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

pub fn save_peer(root: &Path, id: &str, drive: &PeerDrive) -> Result<()> {
    save(&peers_dir(root).join(format!("{id}.json")), drive)
}

pub fn load<T: DeserializeOwned + Default>(path: &Path) -> Result<T> {
    match std::fs::read(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(T::default()),
        Err(e) => Err(DriveError::io("reading", path)(e)),
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| DriveError::Record {
            path: path.to_path_buf(),
            message: e.to_string(),
        }),
    }
}

pub fn save<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(DriveError::io("creating", parent))?;
    }
    let text = serde_json::to_vec_pretty(value).expect("records serialise");
    let tmp = crate::util::temp_sibling(path);
    std::fs::write(&tmp, text).map_err(DriveError::io("writing", &tmp))?;
    std::fs::rename(&tmp, path).map_err(DriveError::io("writing", path))
}
