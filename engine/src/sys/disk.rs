//! Free space, and the filesystem a path lands on: the disk guard that
//! refuses a download (or warns before an install) that would fill the disk.
//! Cloud GPU disks are small; a disk filled to the last byte also breaks the
//! dashboard's database and every app's logs, so the guard keeps a margin.

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Pretends this many bytes are free (plain bytes, or with a `K`/`M`/`G`/`T`
/// suffix, powers of 1000) for the guard's checks: tests, and trying the
/// guard without filling a disk. Read from the environment a step's
/// processes get (so the home or an app `ENVIRONMENT` can set it).
pub const FREE_OVERRIDE_VAR: &str = "PINOKIOCLOUD_DISK_FREE";

/// What to do about a full disk, after every refusal.
pub const HOW_TO_FREE: &str =
    "free space on the Storage page (/storage) or run `pinokiocloud dedup`, then try again";

/// The filesystem a path lands on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Space {
    /// Where that filesystem is mounted (`/`, `/workspace`).
    pub mount: PathBuf,
    /// Bytes this user may still write (`df`'s "Avail").
    pub free: u64,
    /// Size of the filesystem in bytes.
    pub total: u64,
}

/// Not enough room for a write of known size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortage {
    pub mount: PathBuf,
    /// Bytes the write needs, margin not included.
    pub bytes: u64,
    pub free: u64,
    /// `bytes` is a lower bound (the size was not announced).
    pub at_least: bool,
}

impl std::error::Error for Shortage {}

impl std::fmt::Display for Shortage {
    /// `disk full on <mount>: <n> GB needed, <m> free (...)`, then what to
    /// do; needed and free share one unit (MB below 0.1 GB).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let m = margin(self.bytes);
        let needed = self.bytes.saturating_add(m);
        let unit = Unit::for_bytes(needed);
        write!(
            f,
            "disk full on {}: {}{} {} needed, {} free ({} to write + {} kept free); {HOW_TO_FREE}",
            self.mount.display(),
            if self.at_least { "at least " } else { "" },
            unit.amount(needed),
            unit.name(),
            unit.amount(self.free),
            size(self.bytes),
            size(m),
        )
    }
}

/// Room kept free beyond a write: 1 GiB, or 5% of a write over 20 GiB, and
/// never more than the write itself (a small file is not refused over a
/// margin many times its size).
pub fn margin(bytes: u64) -> u64 {
    const GIB: u64 = 1 << 30;
    GIB.max(bytes / 20).min(bytes)
}

/// `Ok` when `bytes` fit on `space` with the margin to spare.
pub fn check(space: &Space, bytes: u64) -> Result<(), Shortage> {
    if space.free >= bytes.saturating_add(margin(bytes)) {
        return Ok(());
    }
    Err(Shortage {
        mount: space.mount.clone(),
        bytes,
        free: space.free,
        at_least: false,
    })
}

/// The filesystem of `path` (or of its nearest existing parent), as it
/// really is.
pub fn space(path: &Path) -> io::Result<Space> {
    let existing = nearest_existing(path);
    let (free, total) = statvfs(&existing)?;
    Ok(Space {
        mount: mount_point(&existing),
        free,
        total,
    })
}

/// [`space`], with free space replaced by [`FREE_OVERRIDE_VAR`] when `env`
/// (the variables a step's processes get) sets it.
pub fn space_in(path: &Path, env: impl Fn(&str) -> Option<String>) -> io::Result<Space> {
    let mut s = space(path)?;
    if let Some(free) = env(FREE_OVERRIDE_VAR).as_deref().and_then(parse_size) {
        s.free = free;
    }
    Ok(s)
}

/// `12`, `12G`, `1.5T`, `800M` (powers of 1000) as bytes.
pub fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let (num, unit) = match t.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => (&t[..i], t[i..].trim_end_matches(['B', 'b'])),
        None => (t, ""),
    };
    let scale: f64 = match unit.to_ascii_uppercase().as_str() {
        "" => 1.0,
        "K" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        _ => return None,
    };
    let n: f64 = num.trim().parse().ok()?;
    (n >= 0.0 && n.is_finite()).then_some((n * scale).round() as u64)
}

/// `6.9 GB`, `250.0 MB`: decimal units, as disk vendors and clouds count.
pub fn size(bytes: u64) -> String {
    let unit = Unit::for_bytes(bytes);
    format!("{} {}", unit.amount(bytes), unit.name())
}

/// GB from 0.1 GB up, else MB.
#[derive(Clone, Copy)]
enum Unit {
    Gb,
    Mb,
}

impl Unit {
    fn for_bytes(bytes: u64) -> Unit {
        if bytes >= 100_000_000 {
            Unit::Gb
        } else {
            Unit::Mb
        }
    }

    fn name(self) -> &'static str {
        match self {
            Unit::Gb => "GB",
            Unit::Mb => "MB",
        }
    }

    /// One decimal.
    fn amount(self, bytes: u64) -> String {
        let scale = match self {
            Unit::Gb => 1e9,
            Unit::Mb => 1e6,
        };
        format!("{:.1}", bytes as f64 / scale)
    }
}

fn nearest_existing(path: &Path) -> PathBuf {
    let mut p = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    while !p.exists() {
        if !p.pop() {
            return PathBuf::from("/");
        }
    }
    p.canonicalize().unwrap_or(p)
}

/// (available, total) bytes of the filesystem holding `path`.
fn statvfs(path: &Path) -> io::Result<(u64, u64)> {
    let c = CString::new(path.as_os_str().as_bytes())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a NUL-terminated path and `st` a valid out-pointer.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let frsize = st.f_frsize as u64;
    Ok((
        (st.f_bavail as u64).saturating_mul(frsize),
        (st.f_blocks as u64).saturating_mul(frsize),
    ))
}

/// Where the filesystem of (existing, canonical) `path` is mounted: the
/// longest mount point in `/proc/self/mountinfo` that contains it, else the
/// highest parent on the same device.
pub fn mount_point(path: &Path) -> PathBuf {
    std::fs::read_to_string("/proc/self/mountinfo")
        .ok()
        .and_then(|text| longest_mount(&text, path))
        .unwrap_or_else(|| same_device_root(path))
}

/// The longest mount point of a mountinfo text that is a prefix (by whole
/// components) of `path`.
fn longest_mount(mountinfo: &str, path: &Path) -> Option<PathBuf> {
    mountinfo
        .lines()
        .filter_map(|l| l.split(' ').nth(4).map(unescape_mount_field))
        .map(PathBuf::from)
        .filter(|m| path.starts_with(m))
        .max_by_key(|m| m.components().count())
}

/// mountinfo escapes space, tab, newline and backslash as `\040`-style octal.
pub fn unescape_mount_field(field: &str) -> String {
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let oct = b
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match (b[i], oct) {
            (b'\\', Some(d)) => {
                out.push(d.iter().fold(0u8, |a, c| a.wrapping_mul(8) + (c - b'0')));
                i += 4;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Walks up from `path` while the parent is on the same device.
fn same_device_root(path: &Path) -> PathBuf {
    let dev = |p: &Path| std::fs::metadata(p).map(|m| m.dev()).ok();
    let mut cur = path.to_path_buf();
    while let Some(parent) = cur.parent() {
        if dev(parent).is_none() || dev(parent) != dev(&cur) {
            break;
        }
        cur = parent.to_path_buf();
    }
    cur
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 253:0 / / rw,relatime - ext4 /dev/vda rw
30 27 0:40 / /workspace rw,relatime - ext4 /dev/vdb rw
31 30 0:41 / /workspace/my\\040models rw,relatime - tmpfs tmpfs rw
32 27 0:42 / /work rw,relatime - overlay overlay rw
";

    #[test]
    fn the_longest_whole_component_mount_wins() {
        let m = |p: &str| longest_mount(MOUNTINFO, Path::new(p)).unwrap();
        assert_eq!(m("/workspace/pinokio/api"), Path::new("/workspace"));
        assert_eq!(
            m("/workspace/my models/a"),
            Path::new("/workspace/my models")
        );
        assert_eq!(m("/workspace2/x"), Path::new("/"), "not a component prefix");
        assert_eq!(m("/work"), Path::new("/work"));
        assert_eq!(m("/home/u"), Path::new("/"));
    }

    #[test]
    fn this_machines_root_and_a_missing_path_have_a_space() {
        let s = space(Path::new("/no/such/dir/anywhere")).unwrap();
        assert_eq!(s.mount, mount_point(Path::new("/")));
        assert!(s.total > 0 && s.free <= s.total, "{s:?}");
        let tmp = tempfile::tempdir().unwrap();
        let t = space(&tmp.path().join("not/yet")).unwrap();
        assert!(tmp.path().canonicalize().unwrap().starts_with(&t.mount));
        assert_eq!(same_device_root(Path::new("/")), Path::new("/"));
    }

    #[test]
    fn the_override_replaces_only_free_space() {
        let env = |k: &str| (k == FREE_OVERRIDE_VAR).then(|| "2.5G".to_string());
        let s = space_in(Path::new("/"), env).unwrap();
        assert_eq!(s.free, 2_500_000_000);
        assert_eq!(parse_size("lots"), None);
        assert_eq!(parse_size("12"), Some(12));
        assert_eq!(parse_size("800 MB"), Some(800_000_000));
        assert_eq!(parse_size("-1"), None);
    }

    #[test]
    fn margin_is_a_gib_or_five_percent_but_never_more_than_the_write() {
        assert_eq!(margin(10), 10);
        assert_eq!(margin(7_000_000_000), 1 << 30);
        assert_eq!(margin(100_000_000_000), 5_000_000_000);
    }

    #[test]
    fn a_shortage_reads_as_disk_full_with_what_is_needed_and_free() {
        let space = Space {
            mount: "/workspace".into(),
            free: 7_500_000_000,
            total: 50_000_000_000,
        };
        let err = check(&space, 6_900_000_000).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("disk full on /workspace: 8.0 GB needed, 7.5 free (6.9 GB to write + 1.1 GB kept free); free space on the Storage page (/storage) or run `pinokiocloud dedup`"),
            "{msg}"
        );
        assert!(check(&space, 6_000_000_000).is_ok());
        assert_eq!(size(12_000_000_000), "12.0 GB");
        assert_eq!(size(50_000_000), "50.0 MB");
        let small = check(&space, 3_000_000).map(drop);
        assert_eq!(small, Ok(()));
        let tight = Space {
            free: 5_000_000,
            ..space
        };
        let msg = check(&tight, 3_000_000).unwrap_err().to_string();
        assert!(
            msg.contains(": 6.0 MB needed, 5.0 free (3.0 MB to write + 3.0 MB kept free)"),
            "{msg}"
        );
    }
}
