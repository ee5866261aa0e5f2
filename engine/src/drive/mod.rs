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
mod lifecycle;
mod links;
mod lock;
mod merge;
mod peers;
mod placement;
mod records;
mod store;
mod units;
mod uv_cache;
mod venv;

pub(crate) mod method;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use error::DriveError;
pub use lifecycle::{move_app, release_app, Released};
pub use merge::Merged;
pub use peers::{link_drive, DriveOutcome, DriveRequest};
pub use placement::{move_peers, placement, Placement};
pub use records::{LinkRecord, PackageRecord, PeerDrive, Sharing, VenvRecord};
pub use store::Mode;
pub use venv::{link_venv, VenvOutcome, VenvRequest};

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
