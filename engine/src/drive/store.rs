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
    /// Units moved from the venv into the store.
    pub moved: usize,
    /// Units whose venv copy was dropped for the store's identical one.
    pub replaced: usize,
    /// Units already linked to the store.
    pub unchanged: usize,
}

/// Makes each unit of `site` a symlink to the same path in `store`:
/// moved there when the store lacks it, replaced when the store has it.
/// The `.dist-info` unit comes first, so a store left half-filled by a
/// crash still has the RECORD that lets the next run finish it.
pub fn apply(site: &Path, store: &Path, units: &[String]) -> Result<Applied> {
    let mut done = Applied::default();
    for unit in units {
        let (ours, theirs) = (site.join(unit), store.join(unit));
        if points_to(&ours, &theirs) {
            done.unchanged += 1;
            continue;
        }
        let meta = std::fs::symlink_metadata(&ours).map_err(DriveError::io("reading", &ours))?;
        let stored = std::fs::symlink_metadata(&theirs).is_ok();
        if meta.file_type().is_symlink() && !stored {
            // A link to somewhere else that the store cannot stand in for.
            continue;
        }
        if stored {
            remove_tree(&ours).map_err(DriveError::io("removing", &ours))?;
            done.replaced += 1;
        } else {
            move_path(&ours, &theirs)?;
            done.moved += 1;
        }
        symlink(&theirs, &ours)?;
    }
    Ok(done)
}
