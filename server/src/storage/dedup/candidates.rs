//! Which files a pass considers: regular files in formats apps treat as
//! read-only (weights, checkpoints, Hugging Face cache blobs, git LFS
//! objects), at least the minimum size. Symlinks are never followed, so a
//! link loop or a link into another tree cannot make a pass wander.

use super::Skipped;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use walkdir::WalkDir;

/// Extensions of files apps load and never rewrite in place.
const MODEL_EXTENSIONS: &[&str] = &[
    "safetensors",
    "ckpt",
    "pt",
    "pth",
    "bin",
    "gguf",
    "onnx",
    "msgpack",
    "h5",
];

/// A file as the walk saw it.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Relative to the home, `/`-separated: the index key.
    pub rel: String,
    pub path: PathBuf,
    pub stat: FileStat,
}

/// What decides whether a file is unchanged, and whether two paths may share
/// storage (same filesystem, owner and permissions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStat {
    pub size: u64,
    pub mtime_ns: i64,
    pub dev: u64,
    pub inode: u64,
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
    /// Links to this inode anywhere, inside the home or not.
    pub nlink: u64,
}

impl FileStat {
    pub fn of(meta: &std::fs::Metadata) -> FileStat {
        FileStat {
            size: meta.len(),
            mtime_ns: meta.mtime() * 1_000_000_000 + meta.mtime_nsec(),
            dev: meta.dev(),
            inode: meta.ino(),
            uid: meta.uid(),
            gid: meta.gid(),
            mode: meta.mode() & 0o7777,
            nlink: meta.nlink(),
        }
    }

    /// Stats `path` without following a final symlink.
    pub fn read(path: &Path) -> std::io::Result<FileStat> {
        std::fs::symlink_metadata(path).map(|m| FileStat::of(&m))
    }

    /// Same bytes as when this stat was taken, as far as metadata can tell.
    pub fn unchanged(&self, now: &FileStat) -> bool {
        self.size == now.size
            && self.mtime_ns == now.mtime_ns
            && self.dev == now.dev
            && self.inode == now.inode
    }
}

/// What a walk of the home found.
#[derive(Debug, Default)]
pub struct Scan {
    pub found: Vec<Candidate>,
    /// Temporary links a killed pass left behind (safe to remove: each is a
    /// second name for a file that is still in place).
    pub leftovers: Vec<PathBuf>,
    /// Unreadable folders and files: reported, never fatal.
    pub skipped: Vec<Skipped>,
}

/// Walks `home` for candidates.
pub fn scan(home: &Path, min_size: u64) -> Scan {
    let mut out = Scan::default();
    let (found, skipped) = (&mut out.found, &mut out.skipped);
    let walk = WalkDir::new(home)
        .follow_links(false)
        .into_iter()
        .filter_entry(|e| !excluded(home, e.path()));
    for entry in walk {
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                let path = err.path().map(|p| rel(home, p)).unwrap_or_default();
                skipped.push(Skipped {
                    path,
                    reason: format!("cannot be read: {}", err),
                });
                continue;
            }
        };
        if !entry.file_type().is_file() {
            continue;
        }
        if super::link::is_temp_name(&entry.file_name().to_string_lossy()) {
            out.leftovers.push(entry.path().to_path_buf());
            continue;
        }
        if !is_model_file(entry.path()) {
            continue;
        }
        match entry.metadata() {
            Ok(meta) if meta.len() >= min_size => found.push(Candidate {
                rel: rel(home, entry.path()),
                path: entry.path().to_path_buf(),
                stat: FileStat::of(&meta),
            }),
            Ok(_) => {}
            Err(err) => skipped.push(Skipped {
                path: rel(home, entry.path()),
                reason: format!("cannot be read: {}", err),
            }),
        }
    }
    out
}

/// The database is never a candidate, whatever it is named like.
fn excluded(home: &Path, path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    path.parent() == Some(home) && name.starts_with(crate::store::DB_FILE)
}

/// A weight format by extension, a Hugging Face cache blob
/// (`models--org--name/blobs/<sha>`), or a git LFS object.
pub fn is_model_file(path: &Path) -> bool {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if MODEL_EXTENSIONS.iter().any(|m| ext.eq_ignore_ascii_case(m)) {
        return true;
    }
    let names: Vec<&str> = path
        .ancestors()
        .skip(1)
        .take(4)
        .map(|a| a.file_name().and_then(|n| n.to_str()).unwrap_or(""))
        .collect();
    let hf_blob = names.first() == Some(&"blobs")
        && names.get(1).is_some_and(|repo| {
            ["models--", "datasets--", "spaces--"]
                .iter()
                .any(|p| repo.starts_with(p))
        });
    // .git/lfs/objects/ab/cd/<oid>
    let lfs = names.get(2) == Some(&"objects") && names.get(3) == Some(&"lfs");
    hf_blob || lfs
}

pub fn rel(home: &Path, path: &Path) -> String {
    path.strip_prefix(home)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_formats_blobs_and_lfs_objects_are_candidates_other_files_are_not() {
        for yes in [
            "api/a/models/x.safetensors",
            "api/a/m.CKPT",
            "api/a/w.gguf",
            "cache/HF_HOME/hub/models--org--name/blobs/0123abcd",
            "api/a/.git/lfs/objects/ab/cd/abcdef0123",
        ] {
            assert!(is_model_file(Path::new(yes)), "{yes}");
        }
        for no in [
            "api/a/app.py",
            "api/a/env/lib/libtorch.so",
            "api/a/blobs/x",
            "api/a/objects/ab/cd/ef",
            "cache/HF_HOME/hub/models--org--name/snapshots/abc/config.json",
        ] {
            assert!(!is_model_file(Path::new(no)), "{no}");
        }
    }

    #[test]
    fn small_files_symlinks_and_the_database_are_not_candidates() {
        let home = tempfile::tempdir().unwrap();
        let h = home.path();
        std::fs::create_dir_all(h.join("api/a")).unwrap();
        std::fs::write(h.join("api/a/big.bin"), vec![1u8; 4096]).unwrap();
        std::fs::write(h.join("api/a/small.bin"), vec![1u8; 10]).unwrap();
        std::fs::write(h.join("pinokiocloud.db"), vec![1u8; 4096]).unwrap();
        std::os::unix::fs::symlink(h.join("api/a/big.bin"), h.join("api/a/link.bin")).unwrap();
        std::os::unix::fs::symlink(h, h.join("api/a/loop")).unwrap();
        let scan = scan(h, 1024);
        let rels: Vec<&str> = scan.found.iter().map(|c| c.rel.as_str()).collect();
        assert_eq!(rels, ["api/a/big.bin"]);
        assert!(scan.skipped.is_empty(), "{:?}", scan.skipped);
    }
}
