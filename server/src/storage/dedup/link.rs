//! Replacing a duplicate by its twin's storage, safely.
//!
//! The new link (a reflink clone where the filesystem has them, else a
//! hardlink) is made under a temporary name next to the duplicate and renamed
//! over it, after re-checking that neither file changed since it was hashed.
//! A crash leaves either the old file or the new link under the duplicate's
//! name, plus at most a temporary link that the next pass removes.

use super::candidates::FileStat;
use std::collections::HashMap;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

const TEMP_MARK: &str = ".pinokiocloud-dedup-";

/// How a duplicate now shares its twin's storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Reflink,
    Hardlink,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Reflink => "reflink",
            Method::Hardlink => "hardlink",
        }
    }
}

/// Our temporary links: `.<name>.pinokiocloud-dedup-<pid>.tmp`.
pub fn is_temp_name(name: &str) -> bool {
    name.starts_with('.') && name.contains(TEMP_MARK) && name.ends_with(".tmp")
}

fn temp_path(dup: &Path) -> PathBuf {
    let name = dup.file_name().unwrap_or_default().to_string_lossy();
    dup.with_file_name(format!(".{name}{TEMP_MARK}{}.tmp", std::process::id()))
}

/// Makes `dup` share `keeper`'s storage. `Err` is the reason it was left
/// alone, for the report; the duplicate is intact in every error case.
pub fn replace(
    keeper: &Path,
    keeper_hashed: &FileStat,
    dup: &Path,
    dup_hashed: &FileStat,
) -> Result<Method, String> {
    check_unchanged(keeper, keeper_hashed)?;
    check_unchanged(dup, dup_hashed)?;
    let temp = temp_path(dup);
    let _ = std::fs::remove_file(&temp);
    let method = make_link(keeper, dup_hashed, &temp)?;
    // The last look before the swap: an app may have opened the file since.
    if let Err(reason) = check_unchanged(dup, dup_hashed) {
        let _ = std::fs::remove_file(&temp);
        return Err(reason);
    }
    std::fs::rename(&temp, dup).map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        format!("cannot replace it: {e}")
    })?;
    Ok(method)
}

fn check_unchanged(path: &Path, hashed: &FileStat) -> Result<(), String> {
    match FileStat::read(path) {
        Ok(now) if hashed.unchanged(&now) => Ok(()),
        Ok(_) => Err("changed during the pass; the next pass looks at it again".into()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err("deleted during the pass".into()),
        Err(e) => Err(format!("cannot be read: {e}")),
    }
}

/// A clone when the filesystem can, else a hardlink, at `temp`.
fn make_link(keeper: &Path, dup: &FileStat, temp: &Path) -> Result<Method, String> {
    if reflink(keeper, dup, temp).is_ok() {
        return Ok(Method::Reflink);
    }
    let _ = std::fs::remove_file(temp);
    std::fs::hard_link(keeper, temp)
        .map(|()| Method::Hardlink)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::EMLINK) => "its twin has as many links as the filesystem allows".into(),
            Some(libc::EACCES | libc::EPERM | libc::EROFS) => {
                format!("its folder cannot be written ({e})")
            }
            Some(libc::ENOSPC) => "the disk is full (a link needs a directory entry)".into(),
            _ => format!("cannot link it to its twin: {e}"),
        })
}

/// `FICLONE`: a copy-on-write clone (btrfs, XFS), owner, mode and mtime of
/// the duplicate kept, so nothing an app checks changes.
fn reflink(keeper: &Path, dup: &FileStat, temp: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    const FICLONE: libc::c_ulong = 0x4004_9409;
    let src = std::fs::File::open(keeper)?;
    let dst = std::fs::File::options()
        .write(true)
        .create_new(true)
        .mode(dup.mode)
        .open(temp)?;
    // SAFETY: both descriptors are open files owned by this function.
    if unsafe { libc::ioctl(dst.as_raw_fd(), FICLONE as _, src.as_raw_fd()) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    std::os::unix::fs::fchown(&dst, Some(dup.uid), Some(dup.gid))?;
    let mtime = std::time::UNIX_EPOCH + std::time::Duration::from_nanos(dup.mtime_ns as u64);
    dst.set_modified(mtime)?;
    Ok(())
}

/// Whether `cp --reflink` style clones work in `dir` (tests use it to skip).
pub fn reflink_supported(dir: &Path) -> bool {
    let src = dir.join(".pinokiocloud-reflink-probe");
    let dst = dir.join(".pinokiocloud-reflink-probe.tmp");
    let ok = std::fs::write(&src, b"probe").is_ok()
        && FileStat::read(&src).is_ok_and(|s| reflink(&src, &s, &dst).is_ok());
    let _ = std::fs::remove_file(&src);
    let _ = std::fs::remove_file(&dst);
    ok
}

/// (device, inode) of every regular file some process has open for writing,
/// with one such pid: such a file may be half written, so it is never linked.
pub fn open_for_writing() -> HashMap<(u64, u64), u32> {
    let mut open = HashMap::new();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return open;
    };
    for proc in procs.flatten() {
        let Some(pid) = proc
            .file_name()
            .to_str()
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(proc.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if !writable(&proc.path(), &fd.file_name().to_string_lossy()) {
                continue;
            }
            // stat through the fd link: the open file itself, even if renamed.
            if let Ok(meta) = std::fs::metadata(fd.path()) {
                if meta.is_file() {
                    let s = FileStat::of(&meta);
                    open.insert((s.dev, s.inode), pid);
                }
            }
        }
    }
    open
}

/// `flags:` in fdinfo is octal; the access mode is its low two bits.
fn writable(proc: &Path, fd: &str) -> bool {
    let Ok(info) = std::fs::read_to_string(proc.join("fdinfo").join(fd)) else {
        return false;
    };
    info.lines()
        .find_map(|l| l.strip_prefix("flags:"))
        .and_then(|f| u32::from_str_radix(f.trim(), 8).ok())
        .is_some_and(|flags| flags & libc::O_ACCMODE as u32 != libc::O_RDONLY as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_open_for_writing_is_found_and_one_open_for_reading_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let w = dir.path().join("w.bin");
        let r = dir.path().join("r.bin");
        std::fs::write(&r, b"r").unwrap();
        let _writer = std::fs::File::create(&w).unwrap();
        let _reader = std::fs::File::open(&r).unwrap();
        let open = open_for_writing();
        let key = |p: &Path| {
            let s = FileStat::read(p).unwrap();
            (s.dev, s.inode)
        };
        assert_eq!(open.get(&key(&w)), Some(&std::process::id()));
        assert!(!open.contains_key(&key(&r)));
    }

    #[test]
    fn replace_refuses_a_file_changed_since_it_was_hashed_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let keeper = dir.path().join("a.bin");
        let dup = dir.path().join("b.bin");
        std::fs::write(&keeper, b"same").unwrap();
        std::fs::write(&dup, b"same").unwrap();
        let (k, d) = (
            FileStat::read(&keeper).unwrap(),
            FileStat::read(&dup).unwrap(),
        );
        std::fs::write(&dup, b"same, and then some").unwrap();
        let err = replace(&keeper, &k, &dup, &d).unwrap_err();
        assert!(err.contains("changed during the pass"), "{err}");
        assert_eq!(std::fs::read(&dup).unwrap(), b"same, and then some");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }
}
