//! One dedup pass: scan, hash what may have a twin, link the twins.

use super::candidates::{self, Candidate};
use super::files::{same, Files, Inode};
use super::hash_phase::{hash_all, Hashed};
use super::index::{self, Row};
use super::link_phase::{group, link_groups};
use super::{Options, Report};
use crate::store::Store;
use std::collections::HashMap;
use std::path::Path;

pub(super) async fn run(
    home: &Path,
    store: &Store,
    options: &Options,
    progress: &(dyn Fn(&str) + Send + Sync),
) -> anyhow::Result<Report> {
    progress("looking for large model files");
    let mut scan = scan(home, options.min_size).await?;
    if !scan.leftovers.is_empty() {
        // Each was a second name of a file: its link counts change, so look again.
        for leftover in &scan.leftovers {
            let _ = std::fs::remove_file(leftover);
        }
        scan = self::scan(home, options.min_size).await?;
    }
    let mut report = Report {
        dry_run: options.dry_run,
        files_seen: scan.found.len() as u64,
        skipped: scan.skipped,
        ..Report::default()
    };
    let old = index::load(store).await?;
    let files = Files::new(scan.found);
    let Hashed { hashes, reflinks } = hash_all(store, &files, &old, &mut report, progress).await?;
    let groups = group(&files, &hashes, &reflinks);
    report.groups = groups.iter().map(|g| g.describe(&files)).collect();
    let linked = link_groups(&files, groups, options, &mut report).await?;
    index::write(store, &linked, &stale(&files, &old, &hashes)).await?;
    progress("done");
    Ok(report)
}

async fn scan(home: &Path, min_size: u64) -> anyhow::Result<candidates::Scan> {
    let home = home.to_path_buf();
    Ok(tokio::task::spawn_blocking(move || candidates::scan(&home, min_size)).await?)
}

/// Index rows to drop: files gone, and files that changed but were not
/// hashed this pass (their size became unique), whose old hash would lie.
fn stale(
    files: &Files,
    old: &HashMap<String, Row>,
    hashes: &HashMap<Inode, String>,
) -> Vec<String> {
    let seen: HashMap<&str, &Candidate> = files.all.iter().map(|c| (c.rel.as_str(), c)).collect();
    old.values()
        .filter(|row| match seen.get(row.path.as_str()) {
            None => true,
            Some(c) => !same(row, &c.stat) && !hashes.contains_key(&(c.stat.dev, c.stat.inode)),
        })
        .map(|row| row.path.clone())
        .collect()
}
