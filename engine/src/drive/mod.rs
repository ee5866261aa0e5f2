//! Virtual drives (spec §6.4, `fs.link` / `fs.share`): folders and Python
//! packages that several apps share, stored once under the drive root
//! (`PINOKIO_DRIVE`, default `<home>/drive`) and symlinked into each app.
//!
//! - [`peers`]: `fs.link {drive, peers}`, shared folders (models, outputs);
//! - [`venv`]: `fs.link {venv}`, one copy of each package build
//!   (hardlinked into venvs; see there why not symlinked);
//! - [`records`]: which app links what, so an uninstall ([`release_app`])
//!   and the server ([`report`]) can tell.
//!
//! Deleting an app folder removes its symlinks, never what they point to
//! (`remove_dir_all` does not follow links), so data another app links
//! stays. A drive folder no app links any more is kept: it holds the
//! user's models, and reinstalling the app (or a peer) finds it again
//! through the repository URL its record keeps.

mod dist;
mod error;
mod identity;
mod links;
mod lock;
mod merge;
mod peers;
mod records;
mod store;
mod units;
mod uv_cache;
mod venv;

pub(crate) mod method;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use error::DriveError;
pub use merge::Merged;
pub use peers::{link_drive, DriveOutcome, DriveRequest};
pub use records::{LinkRecord, PackageRecord, PeerDrive, Sharing, VenvRecord};
pub use store::Mode;
pub use venv::{link_venv, VenvOutcome, VenvRequest};

use lock::DriveLock;

/// The drive root: `PINOKIO_DRIVE` from `env` (relative values are
/// relative to the home, as the home ENVIRONMENT's `./drive` is), else from
/// `<home>/ENVIRONMENT`, else `<home>/drive`.
pub fn root(home: &Path, env: &BTreeMap<String, String>) -> PathBuf {
    let from_home = || {
        crate::script::read_env_file(&home.join("ENVIRONMENT"))
            .get("PINOKIO_DRIVE")
            .cloned()
    };
    env.get("PINOKIO_DRIVE")
        .cloned()
        .or_else(from_home)
        .filter(|v| !v.trim().is_empty())
        .map(|v| crate::util::resolve(home, v.trim()))
        .unwrap_or_else(|| home.join("drive"))
}

/// The drive root for a home as the server sees it (its own environment
/// plus the home ENVIRONMENT file).
pub fn root_for_home(home: &Path) -> PathBuf {
    root(home, &std::env::vars().collect())
}

/// One peer drive folder and who links it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PeerReport {
    pub id: String,
    pub folder: PathBuf,
    pub repos: Vec<String>,
    pub links: Vec<LiveLink>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct LiveLink {
    #[serde(flatten)]
    pub record: LinkRecord,
    /// Whether the path is still a symlink that resolves into this drive.
    pub live: bool,
}

/// Everything linked into the drive: peer folders and shared venvs.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct DriveReport {
    pub peers: Vec<PeerReport>,
    pub venvs: BTreeMap<String, VenvRecord>,
}

pub fn report(root: &Path) -> Result<DriveReport, DriveError> {
    let mut out = DriveReport::default();
    for (id, d) in records::peer_drives(root)? {
        let folder = records::peers_dir(root).join(&id);
        let links = d
            .links
            .into_iter()
            .map(|record| LiveLink {
                live: links::points_to(&record.path, &folder.join(&record.name)),
                record,
            })
            .collect();
        out.peers.push(PeerReport {
            id,
            folder,
            repos: d.repos,
            links,
        });
    }
    out.venvs = records::load(&records::venvs_file(root))?;
    Ok(out)
}

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
