//! The candidates of a pass grouped by inode (every name of one storage),
//! and what the index knows of each.

use super::candidates::{Candidate, FileStat};
use super::index::Row;
use std::collections::{BTreeMap, HashMap, HashSet};

/// A file's storage: every path that names it shares one content.
pub type Inode = (u64, u64);

/// The candidates, by inode.
pub struct Files {
    pub all: Vec<Candidate>,
    pub by_inode: BTreeMap<Inode, Vec<usize>>,
}

impl Files {
    pub fn new(all: Vec<Candidate>) -> Files {
        let mut by_inode: BTreeMap<Inode, Vec<usize>> = BTreeMap::new();
        for (i, c) in all.iter().enumerate() {
            by_inode
                .entry((c.stat.dev, c.stat.inode))
                .or_default()
                .push(i);
        }
        Files { all, by_inode }
    }

    pub fn paths(&self, inode: &Inode) -> impl Iterator<Item = &Candidate> {
        self.by_inode[inode].iter().map(|&i| &self.all[i])
    }

    pub fn first(&self, inode: &Inode) -> &Candidate {
        &self.all[self.by_inode[inode][0]]
    }

    /// Inodes worth hashing: those sharing their size with another inode on
    /// the same filesystem (a unique size cannot have a twin), and linked
    /// files whose metadata changed (to catch a rewrite in place).
    pub fn to_hash(&self, old: &HashMap<String, Row>) -> Vec<Inode> {
        let mut by_size: HashMap<(u64, u64), usize> = HashMap::new();
        for (inode, paths) in &self.by_inode {
            *by_size
                .entry((inode.0, self.all[paths[0]].stat.size))
                .or_default() += 1;
        }
        let twins: HashSet<&str> = old.values().filter_map(|r| r.twin.as_deref()).collect();
        self.by_inode
            .keys()
            .filter(|inode| {
                let stat = self.first(inode).stat;
                by_size[&(stat.dev, stat.size)] > 1
                    || self.paths(inode).any(|c| {
                        old.get(&c.rel).is_some_and(|r| {
                            (r.linked.is_some() || twins.contains(c.rel.as_str()))
                                && !same(r, &c.stat)
                        })
                    })
            })
            .copied()
            .collect()
    }
}

pub fn same(row: &Row, stat: &FileStat) -> bool {
    row.size == stat.size
        && row.mtime_ns == stat.mtime_ns
        && row.dev == stat.dev
        && row.inode == stat.inode
}

pub fn row_for(
    c: &Candidate,
    stat: &FileStat,
    hash: &str,
    linked: Option<String>,
    twin: Option<String>,
) -> Row {
    Row {
        path: c.rel.clone(),
        size: stat.size,
        mtime_ns: stat.mtime_ns,
        dev: stat.dev,
        inode: stat.inode,
        hash: hash.to_string(),
        linked,
        twin,
    }
}
