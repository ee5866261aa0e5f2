//! One app folder by kind of content: code, venvs, models, caches, logs.
//!
//! The first rule that matches a folder decides for everything inside it:
//! - a venv is a folder with `pyvenv.cfg` or `bin/activate` (looked for in
//!   the top three levels, where Pinokio apps keep them: `env`, `app/env`);
//! - a cache is `__pycache__` anywhere, or a folder named like a cache
//!   (`cache`, `.cache`, Hugging Face caches...) in the top two levels
//!   (deeper, a folder called `cache` is as likely a Python package);
//! - logs are the app's top-level `logs` folder;
//! - models are files in model formats outside those folders;
//! - everything else is code.
//!
//! Symlinks are never followed: one into the shared drive is listed as a
//! drive link (its content counts under the drive), one elsewhere only adds
//! the filesystem it lands on.

use super::walk::Counter;
use app::api::{AppUsage, DriveLink};
use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Extensions apps treat as model weights (as dedup does).
pub const MODEL_EXTENSIONS: [&str; 12] = [
    "safetensors",
    "sft",
    "ckpt",
    "pt",
    "pth",
    "bin",
    "gguf",
    "ggml",
    "onnx",
    "msgpack",
    "h5",
    "pb",
];

/// Folder names that hold caches (see the module docs for where).
pub const CACHE_NAMES: [&str; 8] = [
    "cache",
    ".cache",
    "hf_cache",
    ".hf_cache",
    "huggingface_cache",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Code,
    Venv,
    Model,
    Cache,
    Log,
}

/// Where symlinks into the drive are resolved against.
pub struct DriveRoot<'a> {
    /// Canonical drive root.
    pub root: &'a Path,
    /// Where `drives/peers` really is when the shared models were moved to
    /// a volume (canonical): links resolving there are drive links too.
    pub moved_peers: Option<&'a Path>,
}

/// Scans `dir` (the app folder `name`).
pub fn scan(name: &str, dir: &Path, drive: &DriveRoot<'_>, counter: &mut Counter) -> AppUsage {
    let mut usage = AppUsage {
        name: name.to_string(),
        ..AppUsage::default()
    };
    let what = format!("api/{name}");
    // Followed: an app folder may itself be a link to another disk.
    if let Ok(meta) = std::fs::metadata(dir) {
        counter.note_device(meta.dev(), dir, &what);
        let mut walk = AppWalk {
            app_dir: dir,
            label: &what,
            drive,
            counter,
            usage: &mut usage,
        };
        walk.visit(dir, &meta, 0, None);
    }
    usage.total_bytes = usage.code_bytes
        + usage.venv_bytes
        + usage.model_bytes
        + usage.cache_bytes
        + usage.log_bytes;
    usage
}

struct AppWalk<'a, 'b> {
    app_dir: &'a Path,
    label: &'a str,
    drive: &'a DriveRoot<'b>,
    counter: &'a mut Counter,
    usage: &'a mut AppUsage,
}

impl AppWalk<'_, '_> {
    fn visit(&mut self, dir: &Path, meta: &Metadata, depth: usize, kind: Option<Kind>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(child) = entry.metadata() else {
                continue;
            };
            if child.dev() != meta.dev() {
                let what = format!("{} → {}", self.label, path.display());
                self.counter.note_device(child.dev(), &path, &what);
            }
            if child.file_type().is_symlink() {
                self.symlink(&path);
            } else if child.is_dir() {
                let inner = kind.or_else(|| self.classify_dir(&path, depth + 1));
                self.visit(&path, &child, depth + 1, inner);
            } else if child.is_file() {
                let bytes = self.counter.count(&child);
                self.add(kind.unwrap_or_else(|| file_kind(&path)), bytes);
            }
        }
    }

    /// The kind a folder starts, recording venvs and caches by path.
    fn classify_dir(&mut self, path: &Path, depth: usize) -> Option<Kind> {
        let kind = dir_kind(path, depth)?;
        let rel = self.rel(path);
        match kind {
            Kind::Venv => self.usage.venvs.push(rel),
            Kind::Cache => self.usage.caches.push(rel),
            _ => {}
        }
        Some(kind)
    }

    fn symlink(&mut self, path: &Path) {
        let Ok(target) = path.canonicalize() else {
            return; // dangling: nothing on disk
        };
        let in_drive = target
            .strip_prefix(self.drive.root)
            .map(Path::to_path_buf)
            .ok()
            .or_else(|| {
                let peers = self.drive.moved_peers?;
                Some(Path::new("drives/peers").join(target.strip_prefix(peers).ok()?))
            });
        if let Some(rel) = in_drive {
            self.usage.drive_links.push(DriveLink {
                path: self.rel(path),
                folder: rel.to_string_lossy().into_owned(),
            });
        } else if let Ok(meta) = std::fs::metadata(&target) {
            let what = format!("{} → {}", self.label, target.display());
            self.counter.note_device(meta.dev(), &target, &what);
        }
    }

    fn add(&mut self, kind: Kind, bytes: u64) {
        let slot = match kind {
            Kind::Code => &mut self.usage.code_bytes,
            Kind::Venv => &mut self.usage.venv_bytes,
            Kind::Model => &mut self.usage.model_bytes,
            Kind::Cache => &mut self.usage.cache_bytes,
            Kind::Log => &mut self.usage.log_bytes,
        };
        *slot += bytes;
    }

    fn rel(&self, path: &Path) -> String {
        path.strip_prefix(self.app_dir)
            .unwrap_or(path)
            .to_string_lossy()
            .into_owned()
    }
}

/// What kind of folder `path` (at `depth` below the app, 1 = top) starts.
pub fn dir_kind(path: &Path, depth: usize) -> Option<Kind> {
    let name = path.file_name()?.to_string_lossy();
    if name == "__pycache__" {
        return Some(Kind::Cache);
    }
    if depth <= 3 && is_venv(path) {
        return Some(Kind::Venv);
    }
    if depth <= 2 && CACHE_NAMES.contains(&name.as_ref()) {
        return Some(Kind::Cache);
    }
    if depth == 1 && name == "logs" {
        return Some(Kind::Log);
    }
    None
}

pub fn is_venv(path: &Path) -> bool {
    path.join("pyvenv.cfg").is_file() || path.join("bin").join("activate").is_file()
}

fn file_kind(path: &Path) -> Kind {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    match ext {
        Some(ext) if MODEL_EXTENSIONS.contains(&ext.as_str()) => Kind::Model,
        _ => Kind::Code,
    }
}

/// The app's folders of `kind` (venvs or caches), as absolute paths: what
/// the actions on the Storage page delete. Same rules as the scan.
pub fn folders_of_kind(app_dir: &Path, kind: Kind) -> Vec<PathBuf> {
    let mut out = Vec::new();
    collect(app_dir, 0, kind, &mut out);
    out
}

fn collect(dir: &Path, depth: usize, kind: Kind, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if !is_dir {
            continue;
        }
        let path = entry.path();
        match dir_kind(&path, depth + 1) {
            Some(k) if k == kind => out.push(path),
            // Inside another kind (e.g. `__pycache__` in a venv) it belongs there.
            Some(_) => {}
            None => collect(&path, depth + 1, kind, out),
        }
    }
}
