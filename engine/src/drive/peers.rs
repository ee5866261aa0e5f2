//! `fs.link {drive: {name: path | [paths]}, peers: [git urls]}`: folders
//! that several apps share (models, outputs), stored once under
//! `<root>/drives/peers/d<timestamp>/<name>` and symlinked into each app.
//!
//! Which drive folder: the one this app's repository already uses (so a
//! re-run changes nothing), else the first existing drive of a `peers`
//! repository (in the order the script lists them), else a new one.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use super::error::{DriveError, Result};
use super::identity;
use super::links::{points_to, symlink};
use super::lock::DriveLock;
use super::merge::{merge_into, Merged};
use super::records::{self, LinkRecord, PeerDrive};

/// One `fs.link {drive}` request, paths already absolute.
pub struct DriveRequest<'a> {
    /// The drive root (`PINOKIO_DRIVE`, default `<home>/drive`).
    pub root: &'a Path,
    pub app: &'a str,
    pub app_dir: &'a Path,
    /// Mapping values resolve against this folder (the script's).
    pub cwd: &'a Path,
    pub mapping: &'a Map<String, Value>,
    pub peers: &'a [String],
}

/// What linking did.
#[derive(Debug, Default)]
pub struct DriveOutcome {
    /// The drive folder used.
    pub folder: PathBuf,
    /// Whether it was made by this call.
    pub created: bool,
    /// The peer repository whose drive was joined, if any.
    pub joined: Option<String>,
    /// Paths replaced by (or made as) links now.
    pub linked: Vec<PathBuf>,
    /// Paths that already were links to the drive (left alone).
    pub unchanged: Vec<PathBuf>,
    /// Entries skipped, with why.
    pub skipped: Vec<String>,
    pub merged: Merged,
}

pub fn link_drive(req: &DriveRequest<'_>) -> Result<DriveOutcome> {
    let _lock = DriveLock::acquire(req.root)?;
    let own = identity::of_app(req.app_dir);
    let mut out = DriveOutcome::default();
    let (id, mut drive) = choose(req, &own, &mut out)?;
    out.folder = records::peers_dir(req.root).join(&id);
    std::fs::create_dir_all(&out.folder).map_err(DriveError::io("creating", &out.folder))?;
    if !drive.repos.contains(&own) {
        drive.repos.push(own);
    }
    for (name, value) in req.mapping {
        let Some(paths) = entry_paths(name, value, &mut out.skipped) else {
            continue;
        };
        let target = out.folder.join(name);
        std::fs::create_dir_all(&target).map_err(DriveError::io("creating", &target))?;
        for rel in paths {
            let path = crate::util::resolve(req.cwd, &rel);
            match link_one(&path, &target, req.app, &mut out.merged)? {
                State::Unchanged => out.unchanged.push(path.clone()),
                State::Linked => out.linked.push(path.clone()),
                State::Nested => {
                    out.skipped.push(format!(
                        "{} (it lies inside the drive folder {}, or holds it)",
                        path.display(),
                        target.display()
                    ));
                    continue;
                }
            }
            let record = LinkRecord {
                app: req.app.to_string(),
                app_dir: req.app_dir.to_path_buf(),
                name: name.clone(),
                path,
            };
            if !drive.links.contains(&record) {
                drive.links.push(record);
            }
        }
    }
    records::save_peer(req.root, &id, &drive)?;
    Ok(out)
}

/// The drive folder id and its record (see the module doc for the order).
fn choose(
    req: &DriveRequest<'_>,
    own: &str,
    out: &mut DriveOutcome,
) -> Result<(String, PeerDrive)> {
    let drives = records::peer_drives(req.root)?;
    if let Some(found) = drives
        .iter()
        .find(|(_, d)| d.repos.iter().any(|r| r == own))
    {
        return Ok(found.clone());
    }
    for peer in req.peers.iter().map(|p| identity::normalize(p)) {
        if let Some(found) = drives.iter().find(|(_, d)| d.repos.contains(&peer)) {
            out.joined = Some(peer);
            return Ok(found.clone());
        }
    }
    out.created = true;
    Ok((new_id(req.root), PeerDrive::default()))
}

/// `d<milliseconds>`, bumped until no folder or record has it.
fn new_id(root: &Path) -> String {
    let dir = records::peers_dir(root);
    let mut ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    loop {
        let id = format!("d{ms}");
        if !dir.join(&id).exists() && !dir.join(format!("{id}.json")).exists() {
            return id;
        }
        ms += 1;
    }
}

/// The paths of one mapping entry, or `None` (with the reason noted) when
/// Pinokio skips it: names and paths that are absolute or start with `.`.
fn entry_paths(name: &str, value: &Value, skipped: &mut Vec<String>) -> Option<Vec<String>> {
    let bad = |s: &str| s.is_empty() || s.starts_with('.') || Path::new(s).is_absolute();
    if bad(name) || name.split('/').any(|c| c == "..") {
        skipped.push(format!(
            "drive name '{name}' (must be relative and not start with '.')"
        ));
        return None;
    }
    let paths = match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect(),
        other => {
            skipped.push(format!(
                "'{name}': {other} (expected a path or a list of paths)"
            ));
            return None;
        }
    };
    if let Some(p) = paths.iter().find(|p| bad(p)) {
        skipped.push(format!(
            "'{name}': path '{p}' (paths must be relative to the script and not start with '.')"
        ));
        return None;
    }
    Some(paths)
}

enum State {
    Unchanged,
    Linked,
    Nested,
}

/// Makes `path` a symlink to `target`, moving what `path` held into it.
fn link_one(path: &Path, target: &Path, app: &str, merged: &mut Merged) -> Result<State> {
    if points_to(path, target) {
        return Ok(State::Unchanged);
    }
    let meta = match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            symlink(target, path)?;
            return Ok(State::Linked);
        }
        Err(e) => return Err(DriveError::io("reading", path)(e)),
        Ok(m) => m,
    };
    if meta.file_type().is_symlink() {
        // A link elsewhere (an older drive, a dangling link): only the
        // link is replaced; what it pointed to is left as it was.
        std::fs::remove_file(path).map_err(DriveError::io("removing", path))?;
        symlink(target, path)?;
        return Ok(State::Linked);
    }
    if !meta.is_dir() {
        return Err(DriveError::NotAFolder {
            name: target
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into(),
            path: path.to_path_buf(),
        });
    }
    let (canon, tcanon) = (canonical(path)?, canonical(target)?);
    if canon.starts_with(&tcanon) || tcanon.starts_with(&canon) {
        return Ok(State::Nested);
    }
    merge_into(path, target, app, merged)?;
    std::fs::remove_dir(path).map_err(|_| DriveError::NotEmptied {
        path: path.to_path_buf(),
        drive: target.to_path_buf(),
    })?;
    symlink(target, path)?;
    Ok(State::Linked)
}

fn canonical(p: &Path) -> Result<PathBuf> {
    p.canonicalize().map_err(DriveError::io("resolving", p))
}
