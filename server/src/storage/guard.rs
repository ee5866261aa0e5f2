//! The disk guard before an install (issue #10, item 3): nothing tells an
//! app's size before its clone, so the check is against a documented
//! estimate, a torch venv plus code (~12 GB; `PINOKIOCLOUD_INSTALL_ESTIMATE`
//! in the home ENVIRONMENT changes it, e.g. `30G`). The warning names what
//! could be freed: the download caches (`<home>/cache`) and duplicate files
//! dedup found, both on the Storage page. The downloads' own guard is the
//! engine's ([`engine::sys::disk`]).

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use anyhow::Context;
use engine::sys::disk;
use serde::Serialize;

use crate::store::Store;

/// The home ENVIRONMENT (or process) variable that overrides the estimate.
pub const ESTIMATE_VAR: &str = "PINOKIOCLOUD_INSTALL_ESTIMATE";

/// What an install typically takes: a torch venv (~5–8 GB with CUDA
/// wheels) plus the app's code and first files.
pub const DEFAULT_ESTIMATE: u64 = 12_000_000_000;

/// Where an install lands, and whether it fits.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InstallSpace {
    /// The filesystem of `<home>/api`.
    pub mount: String,
    pub free: u64,
    /// What an install is expected to take.
    pub estimate: u64,
    /// The estimate plus the margin the guard keeps free.
    pub needed: u64,
    /// Bytes deleting `<home>/cache` would give back (files linked
    /// elsewhere, e.g. into venvs, are not counted: they stay).
    pub cache_bytes: u64,
    /// Bytes duplicates take that dedup has found but not linked yet.
    pub duplicate_bytes: u64,
}

impl InstallSpace {
    pub fn fits(&self) -> bool {
        self.free >= self.needed
    }

    /// The warning to show before installing, `None` when it fits.
    pub fn warning(&self) -> Option<String> {
        if self.fits() {
            return None;
        }
        let mut freeable = vec![];
        if self.cache_bytes > 0 {
            freeable.push(format!(
                "{} of download caches",
                disk::size(self.cache_bytes)
            ));
        }
        if self.duplicate_bytes > 0 {
            freeable.push(format!(
                "{} of duplicate files",
                disk::size(self.duplicate_bytes)
            ));
        }
        let free_what = match freeable.is_empty() {
            true => "Uninstall apps you no longer use, or remove their venvs".to_string(),
            false => format!("You can free {}", freeable.join(" and ")),
        };
        Some(format!(
            "Only {} free on {}: installs typically need ~{} (a Python environment with torch, plus the app), and {} should stay free. {free_what} on the Storage page (/storage).",
            disk::size(self.free),
            self.mount,
            approx(self.estimate),
            disk::size(self.needed - self.estimate),
        ))
    }
}

/// An estimate in whole GB (`12 GB`): more digits would claim precision it
/// does not have.
fn approx(bytes: u64) -> String {
    match bytes {
        b if b >= 1_000_000_000 => format!("{:.0} GB", b as f64 / 1e9),
        b => disk::size(b),
    }
}

/// Checks the disk of `<home>/api` against the install estimate. Free space
/// and the estimate follow `PINOKIOCLOUD_DISK_FREE` / [`ESTIMATE_VAR`] in the
/// home ENVIRONMENT (or this process's environment).
pub async fn install_space(home: &Path, store: &Store) -> anyhow::Result<InstallSpace> {
    let dup = crate::storage::dedup::summary(store)
        .await
        .context("reading duplicates from the dedup index")?;
    let home = home.to_path_buf();
    tokio::task::spawn_blocking(move || measure(&home, dup.pending_bytes))
        .await
        .context("measuring the disk")?
}

fn measure(home: &Path, duplicate_bytes: u64) -> anyhow::Result<InstallSpace> {
    let env = settings(home);
    let var = |k: &str| env.get(k).cloned().or_else(|| std::env::var(k).ok());
    let space = disk::space_in(&home.join("api"), var)
        .with_context(|| format!("reading free space of {}", home.display()))?;
    let estimate = var(ESTIMATE_VAR)
        .as_deref()
        .and_then(disk::parse_size)
        .unwrap_or(DEFAULT_ESTIMATE);
    Ok(InstallSpace {
        mount: space.mount.display().to_string(),
        free: space.free,
        estimate,
        needed: estimate.saturating_add(disk::margin(estimate)),
        cache_bytes: freeable_bytes(&home.join("cache")),
        duplicate_bytes,
    })
}

/// The home ENVIRONMENT's values.
fn settings(home: &Path) -> BTreeMap<String, String> {
    engine::environment::file::read_resolved(&home.join("ENVIRONMENT"), home)
}

/// Disk blocks of the files under `dir` that deleting them would free (a
/// file with other hard links stays allocated). Symlinks are not followed.
fn freeable_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => freeable_bytes(&e.path()),
            Ok(m) if m.is_file() && m.nlink() == 1 => m.blocks() * 512,
            _ => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space(free: u64) -> InstallSpace {
        InstallSpace {
            mount: "/workspace".into(),
            free,
            estimate: DEFAULT_ESTIMATE,
            needed: DEFAULT_ESTIMATE + disk::margin(DEFAULT_ESTIMATE),
            cache_bytes: 3_400_000_000,
            duplicate_bytes: 6_900_000_000,
        }
    }

    #[test]
    fn the_warning_says_what_is_free_needed_and_freeable() {
        let w = space(8_200_000_000).warning().unwrap();
        assert!(
            w.starts_with("Only 8.2 GB free on /workspace: installs typically need ~12 GB"),
            "{w}"
        );
        assert!(w.contains("You can free 3.4 GB of download caches and 6.9 GB of duplicate files on the Storage page (/storage)."), "{w}");
        assert_eq!(space(20_000_000_000).warning(), None);
    }

    #[test]
    fn only_unshared_cache_files_count_as_freeable() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("uv/x")).unwrap();
        std::fs::write(d.path().join("uv/x/wheel"), vec![1u8; 64 * 1024]).unwrap();
        std::fs::write(d.path().join("linked"), vec![1u8; 64 * 1024]).unwrap();
        std::fs::hard_link(d.path().join("linked"), d.path().join("venv-copy")).unwrap();
        let n = freeable_bytes(d.path());
        assert!((64 * 1024..128 * 1024).contains(&n), "{n}");
    }
}
