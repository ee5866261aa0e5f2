//! The linking phase of a pass: for each set of identical files, which copy
//! is kept, and each other copy replaced by a link to it when that is safe.

use super::candidates::{Candidate, FileStat};
use super::files::{row_for, Files, Inode};
use super::index::Row;
use super::{link, DuplicateGroup, Options, Report, Skipped};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

/// Identical content stored more than once on one filesystem.
pub struct Group {
    keeper: Inode,
    others: Vec<Inode>,
    hash: String,
}

impl Group {
    pub fn describe(&self, files: &Files) -> DuplicateGroup {
        let paths = std::iter::once(&self.keeper)
            .chain(&self.others)
            .flat_map(|i| files.paths(i).map(|c| c.rel.clone()))
            .collect();
        DuplicateGroup {
            hash: self.hash.clone(),
            size: files.first(&self.keeper).stat.size,
            paths,
        }
    }
}

/// Keeps an inode that is not already a clone, then the one most paths
/// already share (fewest changes), then the first by path, so repeated
/// passes choose the same keeper. Clones of a group member need nothing.
pub fn group(
    files: &Files,
    hashes: &HashMap<Inode, String>,
    reflinks: &HashMap<Inode, String>,
) -> Vec<Group> {
    // Sorted by (filesystem, hash): identical content ends up side by side.
    let mut all: Vec<(u64, &str, Inode)> = hashes
        .iter()
        .map(|(inode, hash)| (inode.0, hash.as_str(), *inode))
        .collect();
    all.sort_unstable();
    let runs: Vec<&[(u64, &str, Inode)]> = all
        .chunk_by(|a, b| (a.0, a.1) == (b.0, b.1))
        .filter(|run| run.len() > 1)
        .collect();
    if runs.is_empty() {
        return Vec::new();
    }
    let inode_of: HashMap<&str, Inode> = files
        .all
        .iter()
        .map(|c| (c.rel.as_str(), (c.stat.dev, c.stat.inode)))
        .collect();
    runs.into_iter()
        .filter_map(|run| {
            let mut inodes: Vec<Inode> = run.iter().map(|r| r.2).collect();
            let clone = |i: &Inode| {
                reflinks
                    .get(i)
                    .and_then(|twin| inode_of.get(twin.as_str()))
                    .is_some_and(|t| t != i && inodes.contains(t))
            };
            let clones: HashSet<Inode> = inodes.iter().filter(|i| clone(i)).copied().collect();
            inodes.sort_by_key(|i| {
                (
                    clones.contains(i),
                    std::cmp::Reverse(files.by_inode[i].len()),
                    files.first(i).rel.clone(),
                )
            });
            let keeper = inodes.remove(0);
            inodes.retain(|i| !clones.contains(i));
            (!inodes.is_empty()).then(|| Group {
                keeper,
                others: inodes,
                hash: run[0].1.to_string(),
            })
        })
        .collect()
}

/// Links each group's other inodes to its keeper; returns the index rows of
/// the paths it changed.
pub async fn link_groups(
    files: &Files,
    groups: Vec<Group>,
    options: &Options,
    report: &mut Report,
) -> anyhow::Result<Vec<Row>> {
    if groups.is_empty() {
        return Ok(Vec::new());
    }
    let writers = link::open_for_writing();
    let mut rows = Vec::new();
    for g in &groups {
        let keeper = files.first(&g.keeper).clone();
        if let Some(pid) = writers.get(&g.keeper) {
            for i in &g.others {
                skip_all(
                    files,
                    i,
                    &format!(
                        "its twin {} is open for writing by process {pid}",
                        keeper.rel
                    ),
                    report,
                );
            }
            continue;
        }
        for inode in &g.others {
            if let Err(reason) = may_link(files, &keeper.stat, inode, &writers) {
                skip_all(files, inode, &reason, report);
                continue;
            }
            let size = files.first(inode).stat.size;
            if options.dry_run {
                report.bytes_saved += size;
                continue;
            }
            let all =
                link_inode(files, &keeper, inode, &g.hash, options, report, &mut rows).await?;
            if all {
                report.bytes_saved += size;
            }
        }
    }
    Ok(rows)
}

/// Why an inode must stay as it is, if it must.
fn may_link(
    files: &Files,
    keeper: &FileStat,
    inode: &Inode,
    writers: &HashMap<Inode, u32>,
) -> Result<(), String> {
    let stat = files.first(inode).stat;
    if let Some(pid) = writers.get(inode) {
        return Err(format!("open for writing by process {pid}"));
    }
    if (stat.uid, stat.gid) != (keeper.uid, keeper.gid) {
        return Err(format!(
            "owned by another user (uid {}, gid {}) than its twin (uid {}, gid {})",
            stat.uid, stat.gid, keeper.uid, keeper.gid
        ));
    }
    if stat.mode != keeper.mode {
        return Err(format!(
            "its permissions ({:o}) differ from its twin's ({:o})",
            stat.mode, keeper.mode
        ));
    }
    let names = files.by_inode[inode].len() as u64;
    if stat.nlink > names {
        return Err(format!(
            "it has {} other name(s) outside the model files this pass sees; linking would free nothing",
            stat.nlink - names
        ));
    }
    Ok(())
}

/// Links every path of `inode`; true when all were (its storage is freed).
async fn link_inode(
    files: &Files,
    keeper: &Candidate,
    inode: &Inode,
    hash: &str,
    options: &Options,
    report: &mut Report,
    rows: &mut Vec<Row>,
) -> anyhow::Result<bool> {
    let mut all = true;
    for c in files.paths(inode) {
        let (keeper, c2, hook) = (keeper.clone(), c.clone(), options.before_swap.clone());
        let outcome = tokio::task::spawn_blocking(move || {
            if let Some(hook) = hook {
                (hook.0)(&c2.path);
            }
            link::replace(&keeper.path, &keeper.stat, &c2.path, &c2.stat)
                .map(|m| (m, FileStat::read(&c2.path)))
        })
        .await?;
        match outcome {
            Ok((method, Ok(now))) => {
                report.files_linked += 1;
                rows.push(row_for(
                    c,
                    &now,
                    hash,
                    Some(method.as_str().into()),
                    Some(keeper.rel.clone()),
                ));
            }
            Ok((_, Err(e))) => anyhow::bail!("{} was linked but cannot be read back: {e}", c.rel),
            Err(reason) => {
                all = false;
                report.skipped.push(Skipped {
                    path: c.rel.clone(),
                    reason,
                });
            }
        }
    }
    Ok(all)
}

fn skip_all(files: &Files, inode: &Inode, reason: &str, report: &mut Report) {
    for c in files.paths(inode) {
        report.skipped.push(Skipped {
            path: c.rel.clone(),
            reason: reason.to_string(),
        });
    }
}

/// A test hook run just before each swap (to change files mid-pass).
#[derive(Clone)]
pub struct SwapHook(pub Arc<dyn Fn(&Path) + Send + Sync>);

impl std::fmt::Debug for SwapHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SwapHook")
    }
}
