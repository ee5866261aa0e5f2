//! An incremental one-way mirror of a folder tree, like `rsync -a` with
//! rsync's default quick check: a file is copied only when its size or its
//! modification time (whole seconds, so file systems that keep coarse times,
//! such as FUSE mounts of Google Drive, do not look changed every time)
//! differs. Models are gigabytes, so an unchanged file is never read.
//!
//! Files are written to a temporary name beside the target and renamed into
//! place, with the source's mtime set before the rename: an interrupted copy
//! never leaves a file that the next run would take for up to date, and a
//! busy executable is replaced rather than rewritten. Permission bits
//! (executable scripts) are copied; symlinks are recreated as links with the
//! same target, never followed.

use anyhow::Context;
use std::collections::HashSet;
use std::fs::{self, FileTimes, Metadata};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};
use walkdir::WalkDir;

/// Suffix of the temporary files a copy writes before renaming into place.
const TMP_SUFFIX: &str = ".pinokiocloud-partial";
/// A symlink stored as a small file holding its target, on file systems
/// that refuse symlinks (Google Drive's FUSE mount): `<name>` + this.
pub const LINK_STUB_SUFFIX: &str = ".pinokiocloud-link";

/// What to do with target entries that the source does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extras {
    /// Delete them: the target becomes an exact copy (snapshotting).
    Delete,
    /// Keep and count them: restoring never loses what a home has.
    Keep,
}

/// What a mirror did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MirrorStats {
    /// Files and links looked at in the source.
    pub checked: u64,
    /// Files and links written to the target.
    pub copied: u64,
    pub bytes_copied: u64,
    /// Target entries gone from the source and deleted ([`Extras::Delete`]).
    pub deleted: u64,
    /// Target entries gone from the source and kept ([`Extras::Keep`]).
    pub kept: u64,
    /// Sockets, pipes and devices, which are not copied.
    pub skipped: u64,
    /// Links written as stub files because the target refuses symlinks.
    pub link_stubs: u64,
    /// Folders (relative to the source) holding a `pyvenv.cfg`: the venvs.
    pub venvs: Vec<PathBuf>,
    /// Source files with an execute bit (relative): a target that drops
    /// modes (Google Drive) gets them back from this list on restore.
    pub executables: Vec<PathBuf>,
}

/// How to mirror.
pub struct Options<'a> {
    /// Decides which source paths (relative, never empty) are mirrored, given
    /// whether each is a folder. A refused folder is skipped whole.
    pub include: &'a dyn Fn(&Path, bool) -> bool,
    pub extras: Extras,
    /// `(old, new)`: absolute link targets under `old` are recreated under
    /// `new` (links an app made into its own home, restored elsewhere).
    pub relink: Option<(&'a Path, &'a Path)>,
    /// Write symlinks as stub files from the start. Also switched on by the
    /// first symlink the target refuses.
    pub link_stubs: bool,
}

/// One run of a mirror.
struct Run<'a> {
    options: &'a Options<'a>,
    stats: MirrorStats,
    /// Target paths (relative) that the source accounts for.
    seen: HashSet<PathBuf>,
    link_stubs: bool,
}

/// Mirrors `src` into `dst` (created if missing). `progress` is called now
/// and then with the stats so far.
pub fn mirror(
    src: &Path,
    dst: &Path,
    options: &Options<'_>,
    progress: &mut dyn FnMut(&MirrorStats),
) -> anyhow::Result<MirrorStats> {
    let include = options.include;
    let mut run = Run {
        options,
        stats: MirrorStats::default(),
        seen: HashSet::new(),
        link_stubs: options.link_stubs,
    };
    fs::create_dir_all(dst).with_context(|| format!("creating {}", dst.display()))?;
    let mut last_report = Instant::now();
    let walk = WalkDir::new(src)
        .min_depth(1)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            let rel = e.path().strip_prefix(src).unwrap_or(e.path());
            include(rel, e.file_type().is_dir())
        });
    for entry in walk {
        let entry = entry.with_context(|| format!("reading {}", src.display()))?;
        let rel = entry.path().strip_prefix(src)?.to_path_buf();
        let meta = entry
            .path()
            .symlink_metadata()
            .with_context(|| format!("reading {}", entry.path().display()))?;
        run.entry(entry.path(), dst, rel, &meta)?;
        if last_report.elapsed() > Duration::from_secs(2) {
            progress(&run.stats);
            last_report = Instant::now();
        }
    }
    sweep(dst, &run.seen, options, &mut run.stats)?;
    Ok(run.stats)
}

impl Run<'_> {
    /// Brings the target of one source entry in line with it.
    fn entry(
        &mut self,
        src: &Path,
        dst: &Path,
        rel: PathBuf,
        meta: &Metadata,
    ) -> anyhow::Result<()> {
        let kind = meta.file_type();
        if kind.is_dir() {
            sync_dir(&dst.join(&rel), meta)?;
        } else if kind.is_symlink() {
            self.stats.checked += 1;
            let link =
                fs::read_link(src).with_context(|| format!("reading link {}", src.display()))?;
            return self.link(dst, &rel, link);
        } else if let Some(stub_of) = stub_name(&rel).filter(|_| kind.is_file()) {
            self.stats.checked += 1;
            let link =
                fs::read_to_string(src).with_context(|| format!("reading {}", src.display()))?;
            return self.link(dst, &stub_of, PathBuf::from(link));
        } else if kind.is_file() {
            self.stats.checked += 1;
            if meta.permissions().mode() & 0o111 != 0 {
                self.stats.executables.push(rel.clone());
            }
            if rel.file_name().is_some_and(|n| n == "pyvenv.cfg") {
                if let Some(parent) = rel.parent() {
                    self.stats.venvs.push(parent.to_path_buf());
                }
            }
            let target = dst.join(&rel);
            let existing = target.symlink_metadata().ok();
            if !existing.as_ref().is_some_and(|e| same_file(meta, e)) {
                if existing.is_some_and(|e| e.is_dir()) {
                    remove_any(&target)?;
                }
                copy_file(src, &target, meta)?;
                self.stats.copied += 1;
                self.stats.bytes_copied += meta.len();
            }
        } else {
            self.stats.skipped += 1;
        }
        self.seen.insert(rel);
        Ok(())
    }

    /// Makes `rel` a link to `link` in the target: a real symlink, or a stub
    /// file where the target cannot hold one.
    fn link(&mut self, dst: &Path, rel: &Path, mut link: PathBuf) -> anyhow::Result<()> {
        if let Some((old, new)) = self.options.relink {
            if let Ok(rest) = link.strip_prefix(old) {
                link = new.join(rest);
            }
        }
        if !self.link_stubs {
            let target = dst.join(rel);
            match make_link(&target, &link) {
                Ok(wrote) => {
                    self.stats.copied += u64::from(wrote);
                    self.seen.insert(rel.to_path_buf());
                    return Ok(());
                }
                Err(e) if unsupported(&e) => self.link_stubs = true,
                Err(e) => {
                    return Err(e).with_context(|| {
                        format!(
                            "creating the link {} -> {}",
                            target.display(),
                            link.display()
                        )
                    })
                }
            }
        }
        let mut stub = rel.as_os_str().to_os_string();
        stub.push(LINK_STUB_SUFFIX);
        let stub = PathBuf::from(stub);
        let path = dst.join(&stub);
        let text = link.to_string_lossy();
        if fs::read_to_string(&path).ok().as_deref() != Some(text.as_ref()) {
            remove_any(&path)?;
            fs::write(&path, text.as_bytes())
                .with_context(|| format!("writing {}", path.display()))?;
            self.stats.copied += 1;
        }
        self.stats.link_stubs += 1;
        self.seen.insert(stub);
        Ok(())
    }
}

/// `bin/python` of `bin/python.pinokiocloud-link`.
fn stub_name(rel: &Path) -> Option<PathBuf> {
    let name = rel.to_str()?;
    name.strip_suffix(LINK_STUB_SUFFIX)
        .filter(|n| !n.is_empty())
        .map(PathBuf::from)
}

/// Symlinks refused by the file system itself (not a bad path).
fn unsupported(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EPERM | libc::EOPNOTSUPP | libc::ENOSYS)
    )
}

/// Creates or replaces the symlink; false when it was already right.
fn make_link(target: &Path, link: &Path) -> std::io::Result<bool> {
    if fs::read_link(target).ok().as_deref() == Some(link) {
        return Ok(false);
    }
    if target.symlink_metadata().is_ok() {
        remove_any(target).map_err(std::io::Error::other)?;
    }
    std::os::unix::fs::symlink(link, target).map(|()| true)
}

fn sync_dir(target: &Path, meta: &Metadata) -> anyhow::Result<()> {
    if !target.symlink_metadata().is_ok_and(|m| m.is_dir()) {
        remove_any(target)?;
        fs::create_dir(target).with_context(|| format!("creating {}", target.display()))?;
    }
    // Some persistent mounts refuse chmod; the folder is still usable.
    let _ = fs::set_permissions(target, meta.permissions());
    Ok(())
}

/// rsync's quick check: same size and same modification second.
pub fn same_file(src: &Metadata, dst: &Metadata) -> bool {
    dst.is_file() && src.len() == dst.len() && mtime_secs(src) == mtime_secs(dst)
}

fn mtime_secs(meta: &Metadata) -> Option<u64> {
    meta.modified()
        .ok()?
        .duration_since(SystemTime::UNIX_EPOCH)
        .ok()
        .map(|d| d.as_secs())
}

/// Copies contents and mode through a temporary file, sets the mtime, then
/// renames into place. A file system that refuses the mode (Google Drive)
/// still gets the file; the restore puts execute bits back from the
/// manifest.
pub fn copy_file(src: &Path, target: &Path, meta: &Metadata) -> anyhow::Result<()> {
    let mut tmp_name = target.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(TMP_SUFFIX);
    let tmp = target.with_file_name(tmp_name);
    let copy = || -> std::io::Result<()> {
        let mut from = fs::File::open(src)?;
        let mut to = fs::File::create(&tmp)?;
        std::io::copy(&mut from, &mut to)?;
        let _ = to.set_permissions(meta.permissions());
        to.set_times(FileTimes::new().set_modified(meta.modified()?))
    };
    copy().with_context(|| format!("copying {} to {}", src.display(), tmp.display()))?;
    fs::rename(&tmp, target)
        .with_context(|| format!("renaming {} to {}", tmp.display(), target.display()))
}

/// Gives `files` (relative to `root`) their execute bits back where a copy
/// lost them; returns how many needed it.
pub fn restore_executables(root: &Path, files: &[PathBuf]) -> usize {
    let mut fixed = 0;
    for rel in files {
        let path = root.join(rel);
        let Ok(meta) = path.symlink_metadata() else {
            continue;
        };
        let mode = meta.permissions().mode();
        if meta.is_file() && mode & 0o111 == 0 {
            let exec = (mode & 0o444) >> 2;
            if fs::set_permissions(&path, fs::Permissions::from_mode(mode | exec)).is_ok() {
                fixed += 1;
            }
        }
    }
    fixed
}

/// Deletes (or counts) what the target has beyond `seen`. Leftover
/// temporary files from an interrupted copy always go. When keeping, what
/// the filter refuses (a home's logs, its database) is not even counted.
fn sweep(
    dst: &Path,
    seen: &HashSet<PathBuf>,
    options: &Options<'_>,
    stats: &mut MirrorStats,
) -> anyhow::Result<()> {
    let extras = options.extras;
    let mut walk = WalkDir::new(dst).min_depth(1).into_iter();
    while let Some(entry) = walk.next() {
        let entry = entry.with_context(|| format!("reading {}", dst.display()))?;
        let rel = entry.path().strip_prefix(dst)?;
        if seen.contains(rel) {
            continue;
        }
        let partial = entry.file_name().to_string_lossy().ends_with(TMP_SUFFIX);
        let is_dir = entry.file_type().is_dir();
        if extras == Extras::Keep && !partial && !(options.include)(rel, is_dir) {
            if is_dir {
                walk.skip_current_dir();
            }
            continue;
        }
        if extras == Extras::Delete || partial {
            remove_any(entry.path())?;
            stats.deleted += u64::from(!partial);
        } else {
            stats.kept += 1;
        }
        if is_dir {
            walk.skip_current_dir();
        }
    }
    Ok(())
}

/// Removes a file, link or folder tree; a missing path is fine.
pub fn remove_any(path: &Path) -> anyhow::Result<()> {
    let result = match path.symlink_metadata() {
        Err(_) => return Ok(()),
        Ok(m) if m.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
    };
    result.with_context(|| format!("removing {}", path.display()))
}

pub use crate::cloud::env::is_executable as executable;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_travel_as_stubs_where_symlinks_are_refused_and_come_back() {
        let root = tempfile::tempdir().unwrap();
        let (src, mid, back) = (
            root.path().join("s"),
            root.path().join("m"),
            root.path().join("b"),
        );
        fs::create_dir_all(src.join("bin")).unwrap();
        fs::write(src.join("bin/tool"), "#!/bin/sh\n").unwrap();
        fs::set_permissions(src.join("bin/tool"), fs::Permissions::from_mode(0o755)).unwrap();
        std::os::unix::fs::symlink("tool", src.join("bin/alias")).unwrap();
        let mut options = Options {
            include: &|_, _| true,
            extras: Extras::Delete,
            relink: None,
            link_stubs: true,
        };
        let out = mirror(&src, &mid, &options, &mut |_| {}).unwrap();
        assert_eq!((out.link_stubs, out.executables.len()), (1, 1));
        assert_eq!(
            fs::read_to_string(mid.join("bin/alias.pinokiocloud-link")).unwrap(),
            "tool"
        );
        assert_eq!(mirror(&src, &mid, &options, &mut |_| {}).unwrap().copied, 0);
        // A mount that dropped the execute bit.
        fs::set_permissions(mid.join("bin/tool"), fs::Permissions::from_mode(0o644)).unwrap();
        options.link_stubs = false;
        mirror(&mid, &back, &options, &mut |_| {}).unwrap();
        assert_eq!(
            fs::read_link(back.join("bin/alias")).unwrap(),
            Path::new("tool")
        );
        assert!(!executable(&back.join("bin/tool")));
        assert_eq!(restore_executables(&back, &out.executables), 1);
        assert!(executable(&back.join("bin/tool")));
    }

    fn run(src: &Path, dst: &Path, extras: Extras) -> MirrorStats {
        let options = Options {
            include: &|_, _| true,
            extras,
            relink: None,
            link_stubs: false,
        };
        mirror(src, dst, &options, &mut |_| {}).unwrap()
    }

    #[test]
    fn copies_changes_only_and_keeps_links_and_modes() {
        let (src, dst) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (s, d) = (src.path(), dst.path().join("out"));
        fs::create_dir_all(s.join("bin")).unwrap();
        fs::write(s.join("bin/tool"), "#!/bin/sh\n").unwrap();
        fs::set_permissions(s.join("bin/tool"), fs::Permissions::from_mode(0o755)).unwrap();
        fs::write(s.join("data"), "abc").unwrap();
        std::os::unix::fs::symlink("bin/tool", s.join("link")).unwrap();
        let first = run(s, &d, Extras::Delete);
        assert_eq!((first.checked, first.copied), (3, 3));
        assert!(executable(&d.join("bin/tool")));
        assert_eq!(
            fs::read_link(d.join("link")).unwrap(),
            Path::new("bin/tool")
        );

        let again = run(s, &d, Extras::Delete);
        assert_eq!((again.checked, again.copied), (3, 0));

        fs::write(s.join("data"), "abcd").unwrap();
        fs::remove_file(s.join("link")).unwrap();
        let third = run(s, &d, Extras::Delete);
        assert_eq!((third.copied, third.bytes_copied, third.deleted), (1, 4, 1));
        assert!(!d.join("link").exists());
    }

    #[test]
    fn keep_mode_counts_extras_and_filters_skip_trees() {
        let (src, dst) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        fs::create_dir_all(src.path().join("logs")).unwrap();
        fs::write(src.path().join("logs/a.log"), "x").unwrap();
        fs::write(src.path().join("keep"), "x").unwrap();
        fs::write(dst.path().join("mine"), "x").unwrap();
        let options = Options {
            include: &|rel, _| !rel.starts_with("logs"),
            extras: Extras::Keep,
            relink: Some((Path::new("/old"), Path::new("/new"))),
            link_stubs: false,
        };
        std::os::unix::fs::symlink("/old/x", src.path().join("abs")).unwrap();
        let stats = mirror(src.path(), dst.path(), &options, &mut |_| {}).unwrap();
        assert_eq!(
            fs::read_link(dst.path().join("abs")).unwrap(),
            Path::new("/new/x")
        );
        assert_eq!((stats.copied, stats.kept, stats.deleted), (2, 1, 0));
        assert!(dst.path().join("mine").exists());
        assert!(!dst.path().join("logs").exists());
    }
}
