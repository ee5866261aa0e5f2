//! Which paths of site-packages belong to one distribution alone, so they
//! can move to the drive as a whole. Usually the top-level entries
//! (`numpy/`, `numpy-2.1.0.dist-info/`, `six.py`); but folders that several
//! distributions install into (`nvidia/` of the CUDA wheels) or that are
//! PEP 420 namespaces (no `__init__.py`: `google/`) are entered, and their
//! children become the units. `__pycache__` folders outside a unit hold
//! other packages' files too and are never moved.

use std::collections::{BTreeMap, BTreeSet};

use super::dist::Dist;

#[derive(Default)]
struct Node {
    owners: BTreeSet<usize>,
    children: BTreeMap<String, Node>,
}

/// For each distribution (same order as `dists`), its units: paths
/// relative to site-packages, the `.dist-info` folder first.
pub fn units(dists: &[Dist]) -> Vec<Vec<String>> {
    let mut root = Node::default();
    for (i, d) in dists.iter().enumerate() {
        for f in &d.files {
            let mut node = &mut root;
            for part in f.path.split('/').filter(|p| !p.is_empty()) {
                node = node.children.entry(part.to_string()).or_default();
                node.owners.insert(i);
            }
        }
    }
    let mut out = vec![vec![]; dists.len()];
    collect(&root, "", &mut out);
    for (i, d) in dists.iter().enumerate() {
        out[i].sort_by_key(|u| (u != &d.dist_info, u.clone()));
    }
    out
}

fn collect(node: &Node, prefix: &str, out: &mut [Vec<String>]) {
    for (name, child) in &node.children {
        if name == "__pycache__" {
            continue;
        }
        let path = format!("{prefix}{name}");
        let leaf = child.children.is_empty();
        let whole = child.owners.len() == 1
            && (leaf || name.ends_with(".dist-info") || child.children.contains_key("__init__.py"));
        match (whole, leaf) {
            (true, _) => {
                let owner = *child.owners.iter().next().expect("one owner");
                out[owner].push(path);
            }
            (false, false) => collect(child, &format!("{path}/"), out),
            // A file claimed by two distributions: left where it is.
            (false, true) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drive::dist::RecordEntry;

    fn dist(name: &str, files: &[&str]) -> Dist {
        Dist {
            name: name.into(),
            version: "1".into(),
            dist_info: format!("{name}-1.dist-info"),
            files: files
                .iter()
                .map(|p| RecordEntry {
                    path: p.to_string(),
                    hash: "h".into(),
                    size: None,
                })
                .collect(),
            editable: false,
        }
    }

    #[test]
    fn shared_and_namespace_folders_are_entered() {
        let d = [
            dist(
                "a",
                &[
                    "a-1.dist-info/RECORD",
                    "nvidia/__init__.py",
                    "nvidia/a/x.so",
                    "six.py",
                    "__pycache__/six.pyc",
                ],
            ),
            dist(
                "b",
                &[
                    "b-1.dist-info/RECORD",
                    "nvidia/__init__.py",
                    "nvidia/b/y.so",
                    "google/b/__init__.py",
                ],
            ),
        ];
        let u = units(&d);
        assert_eq!(u[0], ["a-1.dist-info", "nvidia/a/x.so", "six.py"]);
        assert_eq!(u[1], ["b-1.dist-info", "google/b", "nvidia/b/y.so"]);
    }
}
