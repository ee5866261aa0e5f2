//! Keeping the drive records true when an app folder goes away or moves.
//! The data itself never needs it: deleting an app folder removes its
//! links, not what they point to, and relative links survive a rename.

use std::path::{Path, PathBuf};

use super::error::DriveError;
use super::lock::DriveLock;
use super::records::{self, Sharing};

/// What [`release_app`] found.
#[derive(Debug, Default, PartialEq)]
pub struct Released {
    /// Drive folders the app linked that other apps still link.
    pub shared: Vec<PathBuf>,
    /// Drive folders no app links any more (kept, see the module doc).
    pub unused: Vec<PathBuf>,
    /// Package store folders (`drives/pip/<name>/<version>`) no venv links any more (kept).
    pub unused_packages: Vec<PathBuf>,
}

/// Forgets the links of the app in `app_dir` (call it when the app is
/// uninstalled). Never deletes drive data.
pub fn release_app(root: &Path, app_dir: &Path) -> Result<Released, DriveError> {
    let _lock = DriveLock::acquire(root)?;
    let mut out = Released::default();
    for (id, mut d) in records::peer_drives(root)? {
        let before = d.links.len();
        d.links
            .retain(|l| !l.path.starts_with(app_dir) && l.app_dir != app_dir);
        if d.links.len() == before {
            continue;
        }
        let folder = records::peers_dir(root).join(&id);
        match d.links.is_empty() {
            true => out.unused.push(folder),
            false => out.shared.push(folder),
        }
        records::save_peer(root, &id, &d)?;
    }
    let file = records::venvs_file(root);
    let mut venvs: records::VenvRecords = records::load(&file)?;
    let (count, before) = (venvs.len(), places(&venvs));
    venvs.retain(|path, v| !Path::new(path).starts_with(app_dir) && v.app_dir != app_dir);
    if venvs.len() != count {
        let after = places(&venvs);
        let pip = records::pip_dir(root);
        out.unused_packages = before
            .into_iter()
            .filter(|p| !after.contains(p))
            .map(|p| pip.join(p))
            .collect();
        records::save(&file, &venvs)?;
    }
    Ok(out)
}

/// Store folders the venv records point at.
fn places(venvs: &records::VenvRecords) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = venvs
        .values()
        .flat_map(|v| v.packages.values())
        .filter(|p| p.how == Sharing::Drive)
        .filter_map(|p| p.place.clone())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Rewrites the records of the app moved from `from` to `to` (a rename):
/// its links and venvs keep being counted as used.
pub fn move_app(root: &Path, from: &Path, to: &Path) -> Result<(), DriveError> {
    let _lock = DriveLock::acquire(root)?;
    let moved = |p: &Path| p.strip_prefix(from).ok().map(|rest| to.join(rest));
    let name = to
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    for (id, mut d) in records::peer_drives(root)? {
        let mut changed = false;
        for l in d.links.iter_mut().filter(|l| l.app_dir == from) {
            l.path = moved(&l.path).unwrap_or_else(|| l.path.clone());
            l.app_dir = to.to_path_buf();
            l.app = name.clone();
            changed = true;
        }
        if changed {
            records::save_peer(root, &id, &d)?;
        }
    }
    let file = records::venvs_file(root);
    let venvs: records::VenvRecords = records::load(&file)?;
    if venvs.values().any(|v| v.app_dir == from) {
        let renamed = venvs
            .into_iter()
            .map(|(k, mut v)| match moved(Path::new(&k)) {
                Some(new) if v.app_dir == from => {
                    v.app_dir = to.to_path_buf();
                    (new.to_string_lossy().into_owned(), v)
                }
                _ => (k, v),
            })
            .collect::<records::VenvRecords>();
        records::save(&file, &renamed)?;
    }
    Ok(())
}
