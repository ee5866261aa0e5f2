//! Reusing the platform's torch. Cloud images such as Colab ship a CUDA
//! torch in the system Python; a launcher's fresh venv would download the
//! same gigabytes again. When the venv's Python matches the system's, the
//! torch family is hardlinked into the new venv: no download, no extra
//! disk, and an uninstall inside the venv (when the script wants another
//! version) only drops the venv's links, never the system's files. pip and
//! uv both see the packages as installed, so a script asking for the same
//! version gets "already satisfied".

use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

/// Distributions that make up "torch" on a CUDA image.
const FAMILY: [&str; 5] = ["torch", "torchvision", "torchaudio", "triton", "xformers"];

/// What the system Python has of the torch family.
#[derive(Debug, Deserialize)]
struct BaseReport {
    /// `3.11`.
    python: String,
    dists: Vec<BaseDist>,
}

#[derive(Debug, Deserialize)]
struct BaseDist {
    name: String,
    version: String,
    /// Where the distribution's files live (its site-packages).
    root: PathBuf,
    /// Top-level entries of its files (`torch`, `torch-2.5.1.dist-info`).
    tops: Vec<String>,
}

/// What was linked into a venv.
#[derive(Debug, Clone, PartialEq)]
pub struct Reused {
    /// `torch 2.5.1+cu121`, … as linked.
    pub packages: Vec<String>,
}

/// Lists the torch family of `python` (whose site-packages to reuse).
const PROBE: &str = r#"
import json, sys, importlib.metadata as m
fam = set(sys.argv[1].split(","))
out = []
for d in m.distributions():
    name = (d.metadata["Name"] or "").lower().replace("_", "-")
    if name in fam or name.startswith("nvidia-"):
        tops = sorted({str(f).split("/")[0] for f in (d.files or []) if not str(f).startswith("..")})
        out.append({"name": name, "version": d.version, "root": str(d.locate_file("")), "tops": tops})
print(json.dumps({"python": "%d.%d" % sys.version_info[:2], "dists": out}))
"#;

/// Hardlinks the torch family of `base_python` into `venv` when the base
/// has torch and both run the same Python. `Ok(None)`: nothing to reuse.
pub fn reuse_into(base_python: &Path, venv: &Path) -> io::Result<Option<Reused>> {
    let Some(base) = probe(base_python)? else {
        return Ok(None);
    };
    if !base.dists.iter().any(|d| d.name == "torch") {
        return Ok(None);
    }
    let site = venv
        .join("lib")
        .join(format!("python{}", base.python))
        .join("site-packages");
    if !site.is_dir() {
        // The venv runs another Python: torch's compiled parts would not load.
        return Ok(None);
    }
    let mut packages = vec![];
    for dist in &base.dists {
        for top in &dist.tops {
            let dest = site.join(top);
            if !dest.exists() {
                link_tree(&dist.root.join(top), &dest)?;
            }
        }
        packages.push(format!("{} {}", dist.name, dist.version));
    }
    packages.sort();
    Ok(Some(Reused { packages }))
}

fn probe(python: &Path) -> io::Result<Option<BaseReport>> {
    let out = Command::new(python)
        .args(["-c", PROBE, &FAMILY.join(",")])
        .output()
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", python.display())))?;
    if !out.status.success() {
        return Ok(None);
    }
    Ok(serde_json::from_slice(&out.stdout).ok())
}

/// Recreates `src` at `dest` with hardlinked files (symlinks copied as
/// symlinks). Fails with `CrossesDevices` when the two are on different
/// filesystems, which the caller reports as "not reused".
fn link_tree(src: &Path, dest: &Path) -> io::Result<()> {
    let meta = std::fs::symlink_metadata(src)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", src.display())))?;
    if meta.file_type().is_symlink() {
        let target = std::fs::read_link(src)?;
        return std::os::unix::fs::symlink(target, dest);
    }
    if meta.is_dir() {
        std::fs::create_dir_all(dest)?;
        for entry in std::fs::read_dir(src)? {
            let entry = entry?;
            link_tree(&entry.path(), &dest.join(entry.file_name()))?;
        }
        return Ok(());
    }
    std::fs::hard_link(src, dest)
        .map_err(|e| io::Error::new(e.kind(), format!("linking {}: {e}", src.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_python_without_torch_offers_nothing() {
        let venv = tempfile::tempdir().unwrap();
        let python = crate::sys::which("python3").expect("python3 on PATH");
        assert_eq!(reuse_into(&python, venv.path()).unwrap(), None);
    }

    #[test]
    fn trees_are_hardlinked_and_symlinks_kept() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("torch");
        std::fs::create_dir_all(src.join("lib")).unwrap();
        std::fs::write(src.join("lib/libtorch.so"), b"elf").unwrap();
        std::os::unix::fs::symlink("libtorch.so", src.join("lib/libtorch.so.2")).unwrap();
        let dest = dir.path().join("venv-torch");
        link_tree(&src, &dest).unwrap();
        let (a, b) = (
            std::fs::metadata(src.join("lib/libtorch.so")).unwrap(),
            std::fs::metadata(dest.join("lib/libtorch.so")).unwrap(),
        );
        assert_eq!(a.ino(), b.ino());
        assert_eq!(
            std::fs::read_link(dest.join("lib/libtorch.so.2")).unwrap(),
            Path::new("libtorch.so")
        );
        std::fs::remove_file(dest.join("lib/libtorch.so")).unwrap();
        assert!(
            src.join("lib/libtorch.so").exists(),
            "the base keeps its file"
        );
    }
}
