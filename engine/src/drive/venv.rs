//! `fs.link {venv}`: each installed package of a venv is stored once under
//! `drives/pip/...` and shared back into the venv's site-packages, so apps
//! with the same packages share one copy ([`super::store`]). Pinokio moves
//! the package and symlinks it back; on one filesystem we hardlink its
//! files instead (same disk saving, the layout Pinokio makes under
//! `drives/pip`), because pip unlinks a file before writing it: through a
//! symlinked package folder, `pip install -U` in one app would rewrite the
//! copy every other app links. Across filesystems, symlinks as Pinokio.
//!
//! Not moved, and said so: packages whose files are hardlinks already
//! (uv's cache with acceleration on, see [`super::uv_cache`]; the
//! platform's torch), editable installs, packages without a RECORD or with
//! no hashes in it, and packages whose files no longer match the sizes in
//! their RECORD (patched after install: sharing them would hand the patch
//! to other apps, or take it away from this one). Pinokio does this for
//! Python 3.10 venvs only; here the store path carries `pythonX.Y`, so any
//! version is safe to share.

use std::path::{Path, PathBuf};

use super::dist::{self, Dist};
use super::error::Result;
use super::lock::DriveLock;
use super::records::{self, PackageRecord, Sharing, VenvRecord, VenvRecords};
use super::store;
use super::units::units;
use super::uv_cache::{Shared, UvCache};

/// One `fs.link {venv}` request.
pub struct VenvRequest<'a> {
    pub root: &'a Path,
    pub venv: &'a Path,
    pub app_dir: &'a Path,
    /// `UV_CACHE_DIR` of the app's processes.
    pub uv_cache: Option<&'a Path>,
}

/// What happened to the venv's packages (`name version` strings).
#[derive(Debug)]
pub struct VenvOutcome {
    pub python: String,
    /// How the venv shares the store's files.
    pub mode: store::Mode,
    /// Moved into the drive (this venv had the first copy).
    pub moved: Vec<String>,
    /// Replaced by an identical copy already in the drive.
    pub reused: Vec<String>,
    /// Already sharing the drive's copy.
    pub unchanged: Vec<String>,
    /// Hardlinked from uv's cache: recorded, not moved.
    pub uv_cache: Vec<String>,
    /// Hardlinked from somewhere else: not moved.
    pub hardlinked: Vec<String>,
    /// Left in place, with why.
    pub kept: Vec<(String, String)>,
}

/// `Ok(None)`: no venv (no `lib/python*/site-packages`) at that path.
pub fn link_venv(req: &VenvRequest<'_>) -> Result<Option<VenvOutcome>> {
    let Some((site, python)) = dist::site_packages(req.venv) else {
        return Ok(None);
    };
    let _lock = DriveLock::acquire(req.root)?;
    let dists = dist::scan(&site)?;
    let all_units = units(&dists);
    let mut uv = UvCache::new(req.uv_cache);
    let mut out = VenvOutcome {
        python: python.clone(),
        mode: store::mode_for(&site, &records::pip_dir(req.root))?,
        moved: vec![],
        reused: vec![],
        unchanged: vec![],
        uv_cache: vec![],
        hardlinked: vec![],
        kept: vec![],
    };
    let mut record = VenvRecord {
        app_dir: req.app_dir.to_path_buf(),
        python: python.clone(),
        ..VenvRecord::default()
    };
    for (d, us) in dists.iter().zip(&all_units) {
        let label = format!("{} {}", d.name, d.version);
        let (how, place) = match share(req.root, &site, &python, d, us, &mut uv, out.mode)? {
            Decision::Kept(why) => {
                out.kept.push((label, why));
                (Sharing::Kept, None)
            }
            Decision::Uv(entry) => {
                out.uv_cache.push(label);
                (Sharing::UvCache, Some(entry))
            }
            Decision::Hardlinked => {
                out.hardlinked.push(label);
                (Sharing::Hardlinked, None)
            }
            Decision::Stored(place, done) => {
                match done {
                    d if d.moved > 0 => out.moved.push(label),
                    d if d.replaced > 0 => out.reused.push(label),
                    _ => out.unchanged.push(label),
                }
                (Sharing::Drive, Some(place))
            }
        };
        let version = d.version.clone();
        record.packages.insert(
            d.name.clone(),
            PackageRecord {
                version,
                how,
                place,
            },
        );
    }
    let file = records::venvs_file(req.root);
    let mut all: VenvRecords = records::load(&file)?;
    all.insert(req.venv.to_string_lossy().into_owned(), record);
    records::save(&file, &all)?;
    Ok(Some(out))
}

enum Decision {
    Kept(String),
    Uv(PathBuf),
    Hardlinked,
    Stored(PathBuf, store::Applied),
}

fn share(
    root: &Path,
    site: &Path,
    python: &str,
    d: &Dist,
    us: &[String],
    uv: &mut UvCache,
    mode: store::Mode,
) -> Result<Decision> {
    if d.editable {
        return Ok(Decision::Kept(
            "editable install (its code lives in its project folder)".into(),
        ));
    }
    if us.is_empty() {
        return Ok(Decision::Kept(
            "no files of its own in site-packages".into(),
        ));
    }
    let inside = |path: &str| {
        us.iter().any(|u| {
            path == u
                || path
                    .strip_prefix(u.as_str())
                    .is_some_and(|r| r.starts_with('/'))
        })
    };
    let files: Vec<&dist::RecordEntry> = d
        .files
        .iter()
        .filter(|f| inside(&f.path) && !f.path.ends_with(".pyc"))
        .collect();
    for f in &files {
        let Some(size) = f.size else { continue };
        let on_disk = std::fs::metadata(site.join(&f.path)).map(|m| m.len()).ok();
        if on_disk != Some(size) {
            let why = match on_disk {
                None => format!("{} is missing", f.path),
                Some(_) => format!("{} changed since install", f.path),
            };
            return Ok(Decision::Kept(why));
        }
    }
    let Some(sig) = dist::signature(d, site) else {
        return Ok(Decision::Kept(
            "its RECORD lists no files to compare builds by".into(),
        ));
    };
    let Some((place, store_site)) = store::choose(root, d, python, sig) else {
        return Ok(Decision::Kept(
            "two other builds of this version are in the drive already".into(),
        ));
    };
    let prefix = format!("{}/", d.dist_info);
    if let Some(probe) = files.iter().find(|f| !f.path.starts_with(&prefix)) {
        if !same_file(&site.join(&probe.path), &store_site.join(&probe.path)) {
            match uv.shared(site, &d.dist_info, &probe.path) {
                Some(Shared::Uv(entry)) => return Ok(Decision::Uv(entry)),
                Some(Shared::Elsewhere) => return Ok(Decision::Hardlinked),
                None => {}
            }
        }
    }
    let done = store::apply(site, &store_site, us, mode)?;
    Ok(Decision::Stored(place, done))
}

/// Whether two paths are one inode (the venv's file is the store's).
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::symlink_metadata(a), std::fs::symlink_metadata(b)) {
        (Ok(x), Ok(y)) => x.ino() == y.ino() && x.dev() == y.dev(),
        _ => false,
    }
}
