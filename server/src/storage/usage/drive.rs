//! The shared virtual drive by folder, and which apps link each.
//!
//! A drive folder is what apps link as one unit: each named folder of a peer
//! drive (`drives/peers/<id>/<name>`, e.g. `checkpoints`), the shared Python
//! packages (`drives/pip`), and any other top-level entry of the drive
//! (folders people made by hand).

use super::walk::{tally, Counter, Tally};
use app::api::{AppUsage, DriveFolder, DriveUsage};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Sizes every drive folder under `root` (canonical).
pub fn scan(root: &Path, counter: &mut Counter) -> DriveUsage {
    let mut sizes: BTreeMap<String, Tally> = BTreeMap::new();
    for (name, path) in units(root) {
        let t = tally(&path, counter, "drive");
        let slot = sizes.entry(name).or_default();
        slot.bytes += t.bytes;
        slot.files += t.files;
    }
    let folders: Vec<DriveFolder> = sizes
        .into_iter()
        .map(|(name, t)| DriveFolder {
            name,
            bytes: t.bytes,
            files: t.files,
            linked_by: Vec::new(),
        })
        .collect();
    DriveUsage {
        root: root.display().to_string(),
        bytes: folders.iter().map(|f| f.bytes).sum(),
        folders,
    }
}

/// Every unit under the drive root with the folder name it counts under.
fn units(root: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for (name, path, is_dir) in children(root) {
        if name == "drives" && is_dir {
            drives_units(&path, &mut out);
        } else {
            out.push((name, path));
        }
    }
    out
}

fn drives_units(drives: &Path, out: &mut Vec<(String, PathBuf)>) {
    for (name, path, is_dir) in children(drives) {
        // Shared models moved to a volume: `peers` links there; count them.
        let (path, is_dir) = match moved_peers(drives.parent().unwrap_or(drives)) {
            Some(real) if name == "peers" => (real, true),
            _ => (path, is_dir),
        };
        if name != "peers" || !is_dir {
            out.push((format!("drives/{name}"), path));
            continue;
        }
        for (id, drive, is_dir) in children(&path) {
            if !is_dir {
                // `<id>.json`: which app links what; bookkeeping.
                out.push(("drives/peers".into(), drive));
                continue;
            }
            for (folder, inner, _) in children(&drive) {
                out.push((format!("drives/peers/{id}/{folder}"), inner));
            }
        }
    }
}

/// The real folder of `drives/peers` when it is a link to a volume.
pub fn moved_peers(root: &Path) -> Option<PathBuf> {
    let placement = engine::drive::placement(root);
    placement
        .moved
        .then(|| placement.folder.canonicalize().ok())
        .flatten()
}

/// (name, path, is a real folder) of each entry of `dir`, sorted.
fn children(dir: &Path) -> Vec<(String, PathBuf, bool)> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| {
            let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
            (
                e.file_name().to_string_lossy().into_owned(),
                e.path(),
                is_dir,
            )
        })
        .collect();
    out.sort();
    out
}

/// Points each app's drive links at drive folders (a link to a folder's
/// parent links every folder inside it) and lists the apps on each folder.
pub fn attribute(drive: &mut DriveUsage, apps: &mut [AppUsage]) {
    for app in apps.iter_mut() {
        for link in &mut app.drive_links {
            let target = link.folder.clone();
            let hits: Vec<&mut DriveFolder> = drive
                .folders
                .iter_mut()
                .filter(|f| related(&f.name, &target))
                .collect();
            if let Some(first) = hits.first() {
                if hits.len() == 1 {
                    link.folder = first.name.clone();
                }
            }
            for folder in hits {
                if !folder.linked_by.contains(&app.name) {
                    folder.linked_by.push(app.name.clone());
                }
            }
        }
    }
}

/// Whether one path is inside the other (or they are the same), by components.
fn related(folder: &str, target: &str) -> bool {
    let (a, b) = (Path::new(folder), Path::new(target));
    a.starts_with(b) || b.starts_with(a)
}
