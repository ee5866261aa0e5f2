//! The shared package store, `drives/pip/<name>/<version>[-<hash>]/lib/
//! pythonX.Y/site-packages/`. A build of a package is identified by its
//! RECORD signature ([`super::dist::signature`]): the first build of a
//! version takes `<version>`, a different build of the same version (another
//! wheel tag, a local patch release) takes `<version>-<hash>`, and a venv
//! with an identical build reuses the copy already there.

use std::path::{Path, PathBuf};

use super::dist::{parse_record, signature, Dist};
use super::error::{DriveError, Result};
use super::links::{move_path, points_to, remove_tree, symlink};
use super::records::pip_dir;

/// The store folder for `dist` (its `site-packages`), or `None` when both
/// candidate folders hold other builds.
pub fn choose(root: &Path, dist: &Dist, python: &str, sig: u64) -> Option<(PathBuf, PathBuf)> {
    let version: String = dist
        .version
        .chars()
        .map(|c| if c == '/' || c == '\\' { '_' } else { c })
        .collect();
    let hashed = format!("{version}-{}", &format!("{sig:016x}")[..8]);
    for ns in [version, hashed] {
        let place = PathBuf::from(&dist.name).join(ns);
        let site = pip_dir(root)
            .join(&place)
            .join("lib")
            .join(format!("python{python}"))
            .join("site-packages");
        if is_free(&site) || stored_signature(&site, dist) == Some(sig) {
            return Some((place, site));
        }
    }
    None
}

fn is_free(site: &Path) -> bool {
    std::fs::read_dir(site).map_or(true, |mut d| d.next().is_none())
}

fn stored_signature(site: &Path, dist: &Dist) -> Option<u64> {
    let text = std::fs::read_to_string(site.join(&dist.dist_info).join("RECORD")).ok()?;
    let stored = Dist {
        files: parse_record(&text),
        ..dist.clone()
    };
    signature(&stored, site)
}

/// What [`apply`] did to one package's units.
#[derive(Debug, Default, PartialEq)]
pub struct Applied {
    /// Files (hardlink mode) or units (symlink mode) put into the store.
    pub moved: usize,
    /// Venv files or units dropped for the store's identical ones.
    pub replaced: usize,
    /// Already shared with the store.
    pub unchanged: usize,
}

/// How a venv shares the store's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Same filesystem: each file of the venv and of the store is one inode
    /// (what uv does from its cache). pip and uv replace or unlink files
    /// when they upgrade or uninstall, so an upgrade in one venv only drops
    /// its own links and can never change another venv's package.
    Hardlink,
    /// Drive on another filesystem: each unit becomes a symlink to the
    /// store (Pinokio's way). An upgrade in the venv would write through
    /// the link, so the terminal is told.
    Symlink,
}

/// Hardlinks when `site` and the store root share a filesystem.
pub fn mode_for(site: &Path, pip: &Path) -> Result<Mode> {
    use std::os::unix::fs::MetadataExt;
    std::fs::create_dir_all(pip).map_err(DriveError::io("creating", pip))?;
    let dev = |p: &Path| {
        std::fs::metadata(p)
            .map(|m| m.dev())
            .map_err(DriveError::io("reading", p))
    };
    Ok(if dev(site)? == dev(pip)? {
        Mode::Hardlink
    } else {
        Mode::Symlink
    })
}

/// Shares each unit of `site` with the same path in `store`: the store
/// gets what it lacks, the venv drops what the store has. The
/// `.dist-info` unit comes first, so a store left half-filled by a crash
/// already has the RECORD that lets the next run finish it.
pub fn apply(site: &Path, store: &Path, units: &[String], mode: Mode) -> Result<Applied> {
    let mut done = Applied::default();
    for unit in units {
        let (ours, theirs) = (site.join(unit), store.join(unit));
        match mode {
            Mode::Hardlink => link_tree(&ours, &theirs, &mut done)?,
            Mode::Symlink => symlink_unit(&ours, &theirs, &mut done)?,
        }
    }
    Ok(done)
}

/// Walks the venv's copy: a file the store lacks is linked into the store;
/// a file the store has becomes a hardlink of the store's (swapped in
/// atomically). Symlinks inside packages are left as they are. Costs one
/// `link` per new file: the file type comes from the directory listing and
/// the store is only examined when the link says the file exists.
fn link_tree(ours: &Path, theirs: &Path, done: &mut Applied) -> Result<()> {
    let meta = std::fs::symlink_metadata(ours).map_err(DriveError::io("reading", ours))?;
    match meta.file_type() {
        t if t.is_dir() => link_dir(ours, theirs, done),
        t if t.is_file() => link_file(ours, theirs, done),
        _ => Ok(()),
    }
}

fn link_dir(ours: &Path, theirs: &Path, done: &mut Applied) -> Result<()> {
    std::fs::create_dir_all(theirs).map_err(DriveError::io("creating", theirs))?;
    for entry in std::fs::read_dir(ours).map_err(DriveError::io("reading", ours))? {
        let entry = entry.map_err(DriveError::io("reading", ours))?;
        let kind = entry
            .file_type()
            .map_err(DriveError::io("reading", &entry.path()))?;
        let (a, b) = (entry.path(), theirs.join(entry.file_name()));
        if kind.is_dir() {
            link_dir(&a, &b, done)?;
        } else if kind.is_file() {
            link_file(&a, &b, done)?;
        }
    }
    Ok(())
}

fn link_file(ours: &Path, theirs: &Path, done: &mut Applied) -> Result<()> {
    use std::io::ErrorKind;
    use std::os::unix::fs::MetadataExt;
    let mut tried = std::fs::hard_link(ours, theirs);
    if matches!(&tried, Err(e) if e.kind() == ErrorKind::NotFound) {
        if let Some(parent) = theirs.parent() {
            std::fs::create_dir_all(parent).map_err(DriveError::io("creating", parent))?;
        }
        tried = std::fs::hard_link(ours, theirs);
    }
    match tried {
        Ok(()) => {
            done.moved += 1;
            return Ok(());
        }
        Err(e) if e.kind() != ErrorKind::AlreadyExists => {
            return Err(DriveError::io("linking", theirs)(e));
        }
        Err(_) => {}
    }
    let a = std::fs::symlink_metadata(ours).map_err(DriveError::io("reading", ours))?;
    let b = std::fs::symlink_metadata(theirs).map_err(DriveError::io("reading", theirs))?;
    if a.ino() == b.ino() && a.dev() == b.dev() {
        done.unchanged += 1;
    } else if b.is_file() {
        let tmp = ours.with_file_name(format!(
            ".{}.drive-link",
            ours.file_name().unwrap_or_default().to_string_lossy()
        ));
        let _ = std::fs::remove_file(&tmp);
        std::fs::hard_link(theirs, &tmp).map_err(DriveError::io("linking", &tmp))?;
        std::fs::rename(&tmp, ours).map_err(DriveError::io("replacing", ours))?;
        done.replaced += 1;
    }
    Ok(())
}

fn symlink_unit(ours: &Path, theirs: &Path, done: &mut Applied) -> Result<()> {
    if points_to(ours, theirs) {
        done.unchanged += 1;
        return Ok(());
    }
    let meta = std::fs::symlink_metadata(ours).map_err(DriveError::io("reading", ours))?;
    let stored = std::fs::symlink_metadata(theirs).is_ok();
    if meta.file_type().is_symlink() && !stored {
        // A link to somewhere else that the store cannot stand in for.
        return Ok(());
    }
    if stored {
        remove_tree(ours).map_err(DriveError::io("removing", ours))?;
        done.replaced += 1;
    } else {
        move_path(ours, theirs)?;
        done.moved += 1;
    }
    symlink(theirs, ours)
}
