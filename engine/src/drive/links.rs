//! Symlinks into the drive and moves that survive a drive on another
//! filesystem. Links are relative when the link and its target share a
//! top folder (the home), so a snapshot restored under another path still
//! resolves; a drive elsewhere (`PINOKIO_DRIVE=/mnt/...`) gets absolute links.

use std::io;
use std::path::{Component, Path, PathBuf};

use super::error::{DriveError, Result};

/// Whether `link` is a symlink that resolves to `target`.
pub fn points_to(link: &Path, target: &Path) -> bool {
    let is_link = std::fs::symlink_metadata(link)
        .map(|m| m.file_type().is_symlink())
        .unwrap_or(false);
    if !is_link {
        return false;
    }
    match (link.canonicalize(), target.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Creates the symlink `link` → `target` (parents of `link` created).
pub fn symlink(target: &Path, link: &Path) -> Result<()> {
    if let Some(parent) = link.parent() {
        std::fs::create_dir_all(parent).map_err(DriveError::io("creating", parent))?;
    }
    let text = relative_target(target, link).unwrap_or_else(|| target.to_path_buf());
    std::os::unix::fs::symlink(&text, link).map_err(DriveError::io("linking", link))
}

/// `target` written relative to `link`'s folder, when both live under the
/// same first two path components (`/root/pinokio/...`).
fn relative_target(target: &Path, link: &Path) -> Option<PathBuf> {
    let from = canonical_parent(link)?;
    let to = canonical_parent(target)?.join(target.file_name()?);
    let a: Vec<Component> = from.components().collect();
    let b: Vec<Component> = to.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if common < 3 {
        return None;
    }
    let mut out = PathBuf::new();
    for _ in common..a.len() {
        out.push("..");
    }
    for c in &b[common..] {
        out.push(c.as_os_str());
    }
    Some(out)
}

fn canonical_parent(p: &Path) -> Option<PathBuf> {
    p.parent()?.canonicalize().ok()
}

/// Renames `from` to `to`; across filesystems, copies then removes.
pub fn move_path(from: &Path, to: &Path) -> Result<()> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent).map_err(DriveError::io("creating", parent))?;
    }
    match std::fs::rename(from, to) {
        Ok(()) => Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::EXDEV) => {
            copy_tree(from, to, &mut |_| {}).map_err(DriveError::io("copying", from))?;
            remove_tree(from).map_err(DriveError::io("removing", from))
        }
        Err(e) => Err(DriveError::io("moving", from)(e)),
    }
}

/// Copies a file, folder or symlink (symlinks stay symlinks); `copied`
/// hears the size of each file once it is copied.
pub fn copy_tree(from: &Path, to: &Path, copied: &mut dyn FnMut(u64)) -> io::Result<()> {
    let meta = std::fs::symlink_metadata(from)?;
    if meta.file_type().is_symlink() {
        std::os::unix::fs::symlink(std::fs::read_link(from)?, to)
    } else if meta.is_dir() {
        std::fs::create_dir_all(to)?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            copy_tree(&entry.path(), &to.join(entry.file_name()), copied)?;
        }
        Ok(())
    } else {
        let n = std::fs::copy(from, to)?;
        copied(n);
        Ok(())
    }
}

/// Removes a file, a symlink (never what it points to) or a folder tree.
pub fn remove_tree(p: &Path) -> io::Result<()> {
    match std::fs::symlink_metadata(p) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(p),
        Ok(_) => std::fs::remove_file(p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_inside_one_tree_are_relative_and_resolve() {
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("drive/drives/peers/d1/models");
        std::fs::create_dir_all(&target).unwrap();
        let link = d.path().join("api/app/app/models");
        symlink(&target, &link).unwrap();
        let text = std::fs::read_link(&link).unwrap();
        assert!(text.is_relative(), "{text:?}");
        assert!(points_to(&link, &target));
        assert!(!points_to(&target, &target), "a folder is not a link");
    }
}
