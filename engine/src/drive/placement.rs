//! Where the shared model folders live. On clouds with a persistent volume
//! (RunPod `/workspace`, a Vast volume, Colab's Drive) the models are worth
//! keeping there while venvs stay on the fast local disk: the peer folders
//! (`drives/peers`) move to the volume and `drives/peers` becomes a symlink
//! to them. The package store (`drives/pip`) stays beside the venvs, whose
//! files are hardlinks of it and cannot cross filesystems.
//!
//! Apps' links keep resolving through `drives/peers` during and after a
//! move; they are rewritten afterwards so none points at the old place. A
//! move copies first and swaps by rename, so a crash leaves the old folder
//! in use (a stray copy is removed by the next move).

use std::path::{Path, PathBuf};

use super::error::{DriveError, Result};
use super::links;
use super::lock::DriveLock;
use super::records;

/// Suffixes of the folders a move works in, beside their final place.
const PARTIAL: &str = ".partial";
const OLD: &str = ".moving-away";

/// Where the peer folders are now.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Placement {
    /// The folder holding the peer folders (resolved).
    pub folder: PathBuf,
    /// True when it is elsewhere than under the drive root (a volume).
    pub moved: bool,
}

/// Reads where the peer folders are.
pub fn placement(root: &Path) -> Placement {
    let dir = records::peers_dir(root);
    match std::fs::read_link(&dir) {
        Ok(target) => Placement {
            folder: dir.parent().unwrap_or(root).join(target),
            moved: true,
        },
        Err(_) => Placement {
            folder: dir,
            moved: false,
        },
    }
}

/// Moves the peer folders to `to` (`None`: back under the drive root).
/// `progress(copied, total)` hears bytes as they are copied. Refused when
/// `to` holds something else or lacks the room.
pub fn move_peers(
    root: &Path,
    to: Option<&Path>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Placement> {
    let _lock = DriveLock::acquire(root)?;
    recover(root)?;
    let dir = records::peers_dir(root);
    let now = placement(root);
    let dest = to.map(Path::to_path_buf).unwrap_or_else(|| dir.clone());
    let already = match to {
        None => !now.moved,
        Some(p) => same_place(&now.folder, p),
    };
    if already {
        return Ok(now);
    }
    refuse_occupied(&dest, to.is_none())?;
    let total = tree_size(&now.folder);
    ensure_room(&dest, total)?;
    let partial = with_suffix(&dest, PARTIAL);
    links::remove_tree(&partial).map_err(DriveError::io("removing", &partial))?;
    if now.folder.exists() {
        let mut copied = 0;
        links::copy_tree(&now.folder, &partial, &mut |n| {
            copied += n;
            progress(copied, total);
        })
        .map_err(DriveError::io("copying", &now.folder))?;
    } else {
        std::fs::create_dir_all(&partial).map_err(DriveError::io("creating", &partial))?;
    }
    swap(&dir, &now, &partial, &dest, to.is_some())?;
    relink(root)?;
    Ok(placement(root))
}

/// Puts the copy in place and `drives/peers` on it, then drops the old copy.
fn swap(dir: &Path, now: &Placement, partial: &Path, dest: &Path, away: bool) -> Result<()> {
    let old = with_suffix(dir, OLD);
    std::fs::rename(dir, &old).map_err(DriveError::io("moving", dir))?;
    let placed = if away {
        std::fs::rename(partial, dest)
            .and_then(|()| std::os::unix::fs::symlink(dest, dir))
            .map_err(DriveError::io("placing", dest))
    } else {
        std::fs::rename(partial, dir).map_err(DriveError::io("placing", dir))
    };
    if let Err(e) = placed {
        let _ = std::fs::rename(&old, dir);
        return Err(e);
    }
    // The old copy: a real folder under the drive, or the volume's folder
    // behind the old symlink.
    links::remove_tree(&old).map_err(DriveError::io("removing", &old))?;
    if now.moved {
        links::remove_tree(&now.folder).map_err(DriveError::io("removing", &now.folder))?;
    }
    Ok(())
}

/// Finishes or undoes a move a crash interrupted.
fn recover(root: &Path) -> Result<()> {
    let dir = records::peers_dir(root);
    let old = with_suffix(&dir, OLD);
    if std::fs::symlink_metadata(&old).is_err() {
        return Ok(());
    }
    if std::fs::symlink_metadata(&dir).is_err() {
        return std::fs::rename(&old, &dir).map_err(DriveError::io("restoring", &dir));
    }
    links::remove_tree(&old).map_err(DriveError::io("removing", &old))
}

/// Rewrites every app link recorded into the peer folders, so that links
/// made through the old place (absolute ones) follow the new one.
fn relink(root: &Path) -> Result<()> {
    for (id, drive) in records::peer_drives(root)? {
        for link in &drive.links {
            let is_link = std::fs::symlink_metadata(&link.path)
                .map(|m| m.file_type().is_symlink())
                .unwrap_or(false);
            if !is_link {
                continue;
            }
            let target = records::peers_dir(root).join(&id).join(&link.name);
            let temp = with_suffix(&link.path, ".relink");
            let _ = std::fs::remove_file(&temp);
            links::symlink(&target, &temp)?;
            std::fs::rename(&temp, &link.path).map_err(DriveError::io("relinking", &link.path))?;
        }
    }
    Ok(())
}

fn refuse_occupied(dest: &Path, home: bool) -> Result<()> {
    let occupied = !home
        && std::fs::read_dir(dest)
            .map(|mut d| d.next().is_some())
            .unwrap_or(false);
    if occupied {
        return Err(DriveError::Placement(format!(
            "{} is not empty; choose an empty or new folder for the shared models",
            dest.display()
        )));
    }
    Ok(())
}

fn ensure_room(dest: &Path, bytes: u64) -> Result<()> {
    let space = crate::sys::disk::space(dest).map_err(DriveError::io("checking", dest))?;
    crate::sys::disk::check(&space, bytes).map_err(|s| DriveError::Placement(s.to_string()))
}

fn same_place(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut name = p.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    p.with_file_name(name)
}

/// Bytes of regular files under `path` (symlinks not followed).
fn tree_size(path: &Path) -> u64 {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::read_dir(path)
            .map(|d| d.flatten().map(|e| tree_size(&e.path())).sum())
            .unwrap_or(0),
        Ok(m) if m.is_file() => m.len(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drive::{LinkRecord, PeerDrive};

    /// A drive with one peer folder holding a model, linked from an app.
    fn drive_with_a_linked_model(base: &Path) -> (PathBuf, PathBuf) {
        let root = base.join("home/drive");
        let model = records::peers_dir(&root).join("p1/models/m.safetensors");
        std::fs::create_dir_all(model.parent().unwrap()).unwrap();
        std::fs::write(&model, vec![3u8; 4096]).unwrap();
        let app = base.join("home/api/app");
        std::fs::create_dir_all(&app).unwrap();
        let link = app.join("models");
        links::symlink(&records::peers_dir(&root).join("p1/models"), &link).unwrap();
        let record = LinkRecord {
            app: "app".into(),
            app_dir: app,
            name: "models".into(),
            path: link.clone(),
        };
        let drive = PeerDrive {
            repos: vec!["dir:app".into()],
            links: vec![record],
        };
        records::save_peer(&root, "p1", &drive).unwrap();
        (root, link)
    }

    #[test]
    fn models_move_to_a_volume_and_back_and_the_app_link_keeps_working() {
        let base = tempfile::tempdir().unwrap();
        let (root, link) = drive_with_a_linked_model(base.path());
        let volume = base.path().join("volume/pinokiocloud-models");
        let mut heard = 0;
        let placed = move_peers(&root, Some(&volume), &mut |c, t| {
            assert!(c <= t);
            heard = c;
        })
        .unwrap();
        assert!(placed.moved);
        assert_eq!(
            heard,
            4096 + std::fs::metadata(volume.join("p1.json")).unwrap().len()
        );
        assert!(volume.join("p1/models/m.safetensors").is_file());
        assert_eq!(
            std::fs::read(link.join("m.safetensors")).unwrap(),
            vec![3u8; 4096]
        );
        assert!(!base
            .path()
            .join("home/drive/drives/peers.moving-away")
            .exists());
        // New links made now resolve too; moving back leaves nothing on the volume.
        let back = move_peers(&root, None, &mut |_, _| {}).unwrap();
        assert!(!back.moved);
        assert!(!volume.exists());
        assert!(records::peers_dir(&root)
            .join("p1/models/m.safetensors")
            .is_file());
        assert_eq!(
            std::fs::read(link.join("m.safetensors")).unwrap(),
            vec![3u8; 4096]
        );
    }

    #[test]
    fn a_folder_with_other_things_in_it_is_refused_and_nothing_moves() {
        let base = tempfile::tempdir().unwrap();
        let (root, link) = drive_with_a_linked_model(base.path());
        let volume = base.path().join("volume");
        std::fs::create_dir_all(&volume).unwrap();
        std::fs::write(volume.join("notes.txt"), b"mine").unwrap();
        let err = move_peers(&root, Some(&volume), &mut |_, _| {}).unwrap_err();
        assert!(err.to_string().contains("is not empty"), "{err}");
        assert!(!placement(&root).moved);
        assert!(link.join("m.safetensors").is_file());
    }

    #[test]
    fn a_move_cut_between_its_renames_is_undone_by_the_next() {
        let base = tempfile::tempdir().unwrap();
        let (root, link) = drive_with_a_linked_model(base.path());
        let dir = records::peers_dir(&root);
        std::fs::rename(&dir, with_suffix(&dir, OLD)).unwrap();
        assert!(!link.join("m.safetensors").exists());
        let volume = base.path().join("volume/models");
        move_peers(&root, Some(&volume), &mut |_, _| {}).unwrap();
        assert!(link.join("m.safetensors").is_file());
        assert!(volume.join("p1/models/m.safetensors").is_file());
    }
}
