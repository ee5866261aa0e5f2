//! The shared state of one scan: which files were already counted (so a
//! hardlinked file counts once, wherever it is linked), which filesystems
//! were seen, and the live progress the page polls.

use std::collections::{HashMap, HashSet};
use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Files and bytes counted so far; shared with whoever shows progress.
#[derive(Debug, Default)]
pub struct Progress {
    pub files: AtomicU64,
    pub bytes: AtomicU64,
}

impl Progress {
    pub fn files(&self) -> u64 {
        self.files.load(Ordering::Relaxed)
    }

    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
}

/// One scan's bookkeeping.
pub struct Counter {
    /// (device, inode) of every multiply-linked file counted so far.
    seen: HashSet<(u64, u64)>,
    /// Each device met, with the first path seen on it and what it holds.
    pub devices: HashMap<u64, (PathBuf, Vec<String>)>,
    pub progress: Arc<Progress>,
}

impl Counter {
    pub fn new(progress: Arc<Progress>) -> Counter {
        Counter {
            seen: HashSet::new(),
            devices: HashMap::new(),
            progress,
        }
    }

    /// The bytes `meta` adds: its length the first time its inode is met,
    /// 0 after (a hardlink of something already counted).
    pub fn count(&mut self, meta: &Metadata) -> u64 {
        if meta.nlink() > 1 && !self.seen.insert((meta.dev(), meta.ino())) {
            return 0;
        }
        let len = meta.len();
        self.progress.files.fetch_add(1, Ordering::Relaxed);
        self.progress.bytes.fetch_add(len, Ordering::Relaxed);
        len
    }

    /// Remembers that `path` (on device `dev`) holds `what`.
    pub fn note_device(&mut self, dev: u64, path: &Path, what: &str) {
        let entry = self
            .devices
            .entry(dev)
            .or_insert_with(|| (path.to_path_buf(), Vec::new()));
        if !what.is_empty() && !entry.1.iter().any(|w| w == what) {
            entry.1.push(what.to_string());
        }
    }
}

/// Bytes and files under one folder.
#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    pub bytes: u64,
    pub files: u64,
}

/// Sums every regular file under `path` (or `path` itself when it is a
/// file), following no symlink. Unreadable folders are skipped: a size
/// page must not fail because one folder belongs to another user.
pub fn tally(path: &Path, counter: &mut Counter, what: &str) -> Tally {
    let mut out = Tally::default();
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return out;
    };
    counter.note_device(meta.dev(), path, what);
    tally_entry(path, &meta, meta.dev(), counter, what, &mut out);
    out
}

fn tally_entry(
    path: &Path,
    meta: &Metadata,
    parent_dev: u64,
    counter: &mut Counter,
    what: &str,
    out: &mut Tally,
) {
    if meta.dev() != parent_dev {
        // A mount inside the folder: its filesystem is listed too.
        counter.note_device(meta.dev(), path, &format!("{what} → {}", path.display()));
    }
    if meta.is_file() {
        out.bytes += counter.count(meta);
        out.files += 1;
    } else if meta.is_dir() {
        let Ok(entries) = std::fs::read_dir(path) else {
            return;
        };
        for entry in entries.flatten() {
            if let Ok(child) = entry.metadata() {
                tally_entry(&entry.path(), &child, meta.dev(), counter, what, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hardlinked_file_counts_once() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a"), vec![1u8; 1000]).unwrap();
        std::fs::hard_link(dir.path().join("a"), dir.path().join("b")).unwrap();
        std::fs::write(dir.path().join("c"), vec![1u8; 10]).unwrap();
        let mut counter = Counter::new(Arc::default());
        let t = tally(dir.path(), &mut counter, "test");
        assert_eq!(t.bytes, 1010);
        assert_eq!(counter.progress.files(), 2);
    }
}
