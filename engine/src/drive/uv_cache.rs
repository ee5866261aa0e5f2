//! Recognising packages that uv already stores once. With acceleration on,
//! uv installs a wheel by hardlinking its files from the unpacked copy in
//! its cache (`<UV_CACHE_DIR>/archive-v0/<id>/`), so every venv that has
//! the package shares the same inodes: moving them into the drive would
//! gain nothing. A package counts as uv's when a file of it has more than
//! one link and the cache entry holding its `.dist-info` has the very same
//! inode at the same relative path; other multi-link files (the platform's
//! torch reused into a venv) are shared too and are not moved either.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

pub struct UvCache {
    archive: Option<PathBuf>,
    /// `.dist-info` folder name → cache entries that hold it (built on first use).
    index: Option<HashMap<String, Vec<PathBuf>>>,
}

/// Where a multi-link file's other links are.
#[derive(Debug, PartialEq)]
pub enum Shared {
    /// In this uv cache entry.
    Uv(PathBuf),
    /// Somewhere else.
    Elsewhere,
}

impl UvCache {
    pub fn new(cache_dir: Option<&Path>) -> Self {
        UvCache {
            archive: cache_dir.map(|d| d.join("archive-v0")),
            index: None,
        }
    }

    /// Whether `site/rel` (a file of the distribution `dist_info`) is a
    /// hardlink; `None` when it has one link only.
    pub fn shared(&mut self, site: &Path, dist_info: &str, rel: &str) -> Option<Shared> {
        let meta = std::fs::symlink_metadata(site.join(rel)).ok()?;
        if !meta.is_file() || meta.nlink() < 2 {
            return None;
        }
        let same = |entry: &PathBuf| {
            std::fs::symlink_metadata(entry.join(rel))
                .map(|m| m.ino() == meta.ino() && m.dev() == meta.dev())
                .unwrap_or(false)
        };
        let found = self.entries(dist_info).iter().find(|e| same(e)).cloned();
        Some(found.map(Shared::Uv).unwrap_or(Shared::Elsewhere))
    }

    fn entries(&mut self, dist_info: &str) -> &[PathBuf] {
        let archive = self.archive.clone();
        let index = self
            .index
            .get_or_insert_with(|| build_index(archive.as_deref()));
        index.get(dist_info).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// One `read_dir` per cache entry: cheap next to hashing, and done once per call.
fn build_index(archive: Option<&Path>) -> HashMap<String, Vec<PathBuf>> {
    let mut index: HashMap<String, Vec<PathBuf>> = HashMap::new();
    let Some(entries) = archive.and_then(|a| std::fs::read_dir(a).ok()) else {
        return index;
    };
    for entry in entries.filter_map(|e| e.ok()) {
        let Ok(children) = std::fs::read_dir(entry.path()) else {
            continue;
        };
        for child in children.filter_map(|c| c.ok()) {
            let name = child.file_name().to_string_lossy().into_owned();
            if name.ends_with(".dist-info") {
                index.entry(name).or_default().push(entry.path());
            }
        }
    }
    index
}
