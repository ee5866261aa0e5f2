//! The hashing phase of a pass: BLAKE3 of every inode that may have a twin,
//! unless the index already knows it at the same size, mtime and inode;
//! rows flushed in batches so a killed pass keeps its work.

use super::candidates::FileStat;
use super::files::{row_for, same, Files, Inode};
use super::index::{self, Row};
use super::{ChangedFile, Report, Skipped};
use crate::store::{now, Store};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Rows are flushed to SQLite this often while hashing, so a killed pass
/// keeps its work without paying a commit per file.
const FLUSH_ROWS: usize = 256;
const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// Files read in one blocking task: a batch closes at this many bytes or
/// files, so a big model is a batch of its own (progress per model) and
/// small files do not each pay a hand-off to the blocking pool.
const BATCH_BYTES: u64 = 64 * 1024 * 1024;
const BATCH_FILES: usize = 256;

/// Hashes (or takes from the index) every inode that may have a twin.
pub async fn hash_all(
    store: &Store,
    files: &Files,
    old: &HashMap<String, Row>,
    report: &mut Report,
    progress: &(dyn Fn(&str) + Send + Sync),
) -> anyhow::Result<Hashed> {
    let wanted = files.to_hash(old);
    let known = |inode: &Inode| {
        files
            .paths(inode)
            .find_map(|c| old.get(&c.rel).filter(|r| same(r, &c.stat)))
            .map(|r| r.hash.clone())
    };
    let mut out = Hashed {
        hashes: HashMap::new(),
        reflinks: HashMap::new(),
    };
    let mut pending: Vec<Row> = Vec::new();
    let mut flushed = Instant::now();
    let mut bufs = Vec::new();
    let mut done = 0;
    for batch in batches(files, &wanted, &known) {
        let unknown: Vec<(Inode, std::path::PathBuf)> = batch
            .iter()
            .filter(|(_, hash)| hash.is_none())
            .map(|(inode, _)| (*inode, files.first(inode).path.clone()))
            .collect();
        if let Some((first, _)) = unknown.first() {
            let f = files.first(first);
            progress(&format!(
                "hashing {}/{}: {} ({})",
                done + 1,
                wanted.len(),
                f.rel,
                super::human_bytes(f.stat.size)
            ));
        }
        let (read, back) = tokio::task::spawn_blocking(move || {
            let read: Vec<_> = unknown
                .into_iter()
                .map(|(inode, path)| (inode, super::hash::file(&path, &mut bufs)))
                .collect();
            (read, bufs)
        })
        .await?;
        bufs = back;
        let mut read: HashMap<Inode, std::io::Result<(String, u64)>> = read.into_iter().collect();
        for (inode, hash) in batch {
            done += 1;
            let hash = match hash {
                Some(hash) => hash,
                None => match read.remove(&inode) {
                    Some(Ok((hash, bytes))) => {
                        report.files_hashed += 1;
                        report.bytes_hashed += bytes;
                        hash
                    }
                    Some(Err(e)) => {
                        report.skipped.push(Skipped {
                            path: files.first(&inode).rel.clone(),
                            reason: format!("cannot be read: {e}"),
                        });
                        continue;
                    }
                    None => continue,
                },
            };
            note_rewrites(store, files, old, &inode, &hash, report).await?;
            record(files, old, &inode, hash, &mut out, &mut pending);
        }
        if pending.len() >= FLUSH_ROWS || flushed.elapsed() >= FLUSH_EVERY {
            // A full disk may refuse the index now; linking frees space, and
            // the rows are written again at the end of the pass.
            if index::write(store, &pending, &[]).await.is_ok() {
                pending.clear();
            }
            flushed = Instant::now();
        }
    }
    index::write(store, &pending, &[]).await.or_else(|e| {
        progress(&format!("the index could not be written yet: {e:#}"));
        anyhow::Ok(())
    })?;
    Ok(out)
}

/// `wanted` in order, cut into batches by the bytes and files still to
/// read; each inode comes with its hash when the index knows it.
fn batches(
    files: &Files,
    wanted: &[Inode],
    known: &dyn Fn(&Inode) -> Option<String>,
) -> Vec<Vec<(Inode, Option<String>)>> {
    let mut out = vec![Vec::new()];
    let (mut bytes, mut count) = (0u64, 0usize);
    for inode in wanted {
        let hash = known(inode);
        if hash.is_none() {
            let size = files.first(inode).stat.size;
            if count > 0 && (bytes + size > BATCH_BYTES || count >= BATCH_FILES) {
                out.push(Vec::new());
                (bytes, count) = (0, 0);
            }
            bytes += size;
            count += 1;
        }
        out.last_mut().expect("never empty").push((*inode, hash));
    }
    out
}

/// Keeps an inode's hash and queues the index rows of its paths that
/// changed.
fn record(
    files: &Files,
    old: &HashMap<String, Row>,
    inode: &Inode,
    hash: String,
    out: &mut Hashed,
    pending: &mut Vec<Row>,
) {
    let mut links = Vec::new();
    for c in files.paths(inode) {
        let before = old.get(&c.rel);
        let (linked, twin) = carried_link(before, &c.stat);
        links.push((linked.clone(), twin.clone()));
        if before.is_some_and(|r| same(r, &c.stat) && r.hash == hash) {
            continue;
        }
        pending.push(row_for(c, &c.stat, &hash, linked, twin));
    }
    if let Some(twin) = reflinked(&links) {
        out.reflinks.insert(*inode, twin);
    }
    out.hashes.insert(*inode, hash);
}

/// What hashing learnt: each inode's hash, and the inodes that are already
/// reflink clones of a twin (with the twin's path): distinct inodes, shared
/// storage, nothing to do.
pub struct Hashed {
    pub hashes: HashMap<Inode, String>,
    pub reflinks: HashMap<Inode, String>,
}

/// The link an index row records, unless its file changed since: a clone
/// rewritten no longer shares its blocks (a hardlink's sharing is checked by
/// inode wherever it is counted).
fn carried_link(before: Option<&Row>, stat: &FileStat) -> (Option<String>, Option<String>) {
    match before {
        Some(r) if r.linked.as_deref() == Some("reflink") && !same(r, stat) => (None, None),
        Some(r) => (r.linked.clone(), r.twin.clone()),
        None => (None, None),
    }
}

/// The twin, when every name of an inode is a reflink clone of it.
fn reflinked(links: &[(Option<String>, Option<String>)]) -> Option<String> {
    let twin = links.first()?.1.clone()?;
    links
        .iter()
        .all(|(l, t)| l.as_deref() == Some("reflink") && t.as_ref() == Some(&twin))
        .then_some(twin)
}

/// A file dedup had linked now holds other bytes: if its storage is shared,
/// every other name changed with it. Reported, and kept for the Storage page.
async fn note_rewrites(
    store: &Store,
    files: &Files,
    old: &HashMap<String, Row>,
    inode: &Inode,
    hash: &str,
    report: &mut Report,
) -> anyhow::Result<()> {
    let Some(expected) = files
        .paths(inode)
        .filter_map(|c| old.get(&c.rel))
        .find(|r| {
            r.hash != hash
                && (r.linked.is_some() || old.values().any(|o| o.twin.as_deref() == Some(&r.path)))
        })
    else {
        return Ok(());
    };
    let paths: Vec<String> = files.paths(inode).map(|c| c.rel.clone()).collect();
    if paths.len() < 2 {
        return Ok(());
    }
    let changed = ChangedFile {
        path: expected.path.clone(),
        twins: paths.into_iter().filter(|p| *p != expected.path).collect(),
        detected_at: now(),
    };
    index::record_changed(store, &changed, &expected.hash, hash).await?;
    report.changed.push(changed);
    Ok(())
}
