//! The filesystems a home spans, named the way a person on that cloud
//! knows them: the container's local disk, RunPod's persistent volume at
//! `/workspace`, Colab's mounted Google Drive.

use crate::cloud::resources::disk_usage;
use app::api::FilesystemUsage;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Places the platform says outlive the machine (its persistent home, or
/// the persistent alternative to a fast local home).
#[derive(Debug, Clone, Default)]
pub struct Hints {
    pub persistent: Vec<PathBuf>,
}

impl Hints {
    /// What the detected platform says.
    pub fn detect() -> Hints {
        use crate::cloud::{env::SystemEnv, platform};
        let home = platform::detect(&SystemEnv).home();
        let mut persistent = Vec::new();
        if home.persistent {
            persistent.push(home.path);
        }
        persistent.extend(home.persistent_alternative);
        Hints { persistent }
    }
}

/// A mounted filesystem from `/proc/self/mountinfo`.
#[derive(Debug, Clone)]
struct Mount {
    point: PathBuf,
    fs_type: String,
}

/// One row per device in `devices` (device → a path on it and what of the
/// home it holds), home's filesystem first.
pub fn describe(
    devices: &HashMap<u64, (PathBuf, Vec<String>)>,
    hints: &Hints,
) -> Vec<FilesystemUsage> {
    let mounts = read_mountinfo();
    let mut rows: Vec<FilesystemUsage> = devices
        .iter()
        .map(|(dev, (path, holds))| row(*dev, path, holds, &mounts, hints))
        .collect();
    // Several devices can be one filesystem seen through bind mounts.
    rows.sort_by(|a, b| a.mount_point.cmp(&b.mount_point));
    rows.dedup_by(|b, a| {
        let same = a.mount_point == b.mount_point;
        if same {
            a.holds.append(&mut b.holds);
        }
        same
    });
    rows.sort_by_key(|r| !r.holds.iter().any(|h| h == "home"));
    rows
}

fn row(
    dev: u64,
    path: &Path,
    holds: &[String],
    mounts: &HashMap<(u64, u64), Vec<Mount>>,
    hints: &Hints,
) -> FilesystemUsage {
    let mount = mount_of(dev, path, mounts);
    let space = disk_usage(path).ok();
    FilesystemUsage {
        label: label(&mount.point, &mount.fs_type, hints),
        mount_point: mount.point.display().to_string(),
        fs_type: mount.fs_type,
        total_bytes: space.map_or(0, |s| s.total_bytes),
        free_bytes: space.map_or(0, |s| s.available_bytes),
        holds: holds.to_vec(),
    }
}

/// A person's name for the filesystem mounted at `point`.
pub fn label(point: &Path, fs_type: &str, hints: &Hints) -> String {
    let shown = point.display();
    if point.starts_with("/content/drive") || fs_type.contains("drive") {
        return format!("Google Drive ({shown})");
    }
    let root = point == Path::new("/");
    let persistent = hints.persistent.iter().any(|p| p.starts_with(point));
    if !root && (persistent || point.starts_with("/workspace")) {
        return format!("persistent volume ({shown})");
    }
    if fs_type == "tmpfs" {
        return format!("memory (tmpfs at {shown})");
    }
    if root {
        return "local disk".to_string();
    }
    format!("disk at {shown}")
}

/// The mount holding `path` on device `dev`: of the mounts of that device,
/// the deepest one above `path`; without mountinfo, the highest folder
/// above `path` still on `dev`.
fn mount_of(dev: u64, path: &Path, mounts: &HashMap<(u64, u64), Vec<Mount>>) -> Mount {
    let candidates = mounts.get(&split_dev(dev)).cloned().unwrap_or_default();
    let best = candidates
        .iter()
        .filter(|m| path.starts_with(&m.point))
        .max_by_key(|m| m.point.as_os_str().len())
        .or(candidates.first());
    if let Some(m) = best {
        return m.clone();
    }
    Mount {
        point: highest_on_device(dev, path),
        fs_type: String::new(),
    }
}

fn highest_on_device(dev: u64, path: &Path) -> PathBuf {
    use std::os::unix::fs::MetadataExt;
    let mut top = path.to_path_buf();
    for p in path.ancestors().skip(1) {
        match std::fs::metadata(p) {
            Ok(m) if m.dev() == dev => top = p.to_path_buf(),
            _ => break,
        }
    }
    top
}

/// (major, minor) of a Linux `dev_t`, as mountinfo writes it.
fn split_dev(dev: u64) -> (u64, u64) {
    let major = ((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0xfff);
    let minor = ((dev >> 12) & 0xffff_ff00) | (dev & 0xff);
    (major, minor)
}

fn read_mountinfo() -> HashMap<(u64, u64), Vec<Mount>> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut out: HashMap<(u64, u64), Vec<Mount>> = HashMap::new();
    for line in text.lines() {
        if let Some((dev, mount)) = parse_mountinfo_line(line) {
            out.entry(dev).or_default().push(mount);
        }
    }
    out
}

/// `36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw`
fn parse_mountinfo_line(line: &str) -> Option<((u64, u64), Mount)> {
    let (left, right) = line.split_once(" - ")?;
    let fields: Vec<&str> = left.split(' ').collect();
    let (major, minor) = fields.get(2)?.split_once(':')?;
    let point = engine::sys::disk::unescape_mount_field(fields.get(4)?);
    let fs_type = right.split(' ').next()?.to_string();
    Some((
        (major.parse().ok()?, minor.parse().ok()?),
        Mount {
            point: PathBuf::from(point),
            fs_type,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_name_the_cloud_storage() {
        let hints = Hints {
            persistent: vec![PathBuf::from("/workspace/pinokio")],
        };
        assert_eq!(label(Path::new("/"), "overlay", &hints), "local disk");
        assert_eq!(
            label(Path::new("/workspace"), "fuse", &hints),
            "persistent volume (/workspace)"
        );
        assert_eq!(
            label(Path::new("/content/drive"), "fuse.drive", &Hints::default()),
            "Google Drive (/content/drive)"
        );
        assert_eq!(label(Path::new("/mnt/x"), "ext4", &hints), "disk at /mnt/x");
    }

    #[test]
    fn mountinfo_lines_parse_with_escapes() {
        let line = "36 35 98:3 / /mnt/my\\040disk rw,noatime shared:1 - ext4 /dev/sda1 rw";
        let ((major, minor), m) = parse_mountinfo_line(line).unwrap();
        assert_eq!((major, minor), (98, 3));
        assert_eq!(m.point, PathBuf::from("/mnt/my disk"));
        assert_eq!(m.fs_type, "ext4");
    }

    #[test]
    fn the_temp_dir_is_on_a_listed_filesystem() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let dev = std::fs::metadata(dir.path()).unwrap().dev();
        let devices = HashMap::from([(dev, (dir.path().to_path_buf(), vec!["home".into()]))]);
        let rows = describe(&devices, &Hints::default());
        assert_eq!(rows.len(), 1);
        assert!(rows[0].total_bytes > 0);
        assert!(dir.path().starts_with(&rows[0].mount_point), "{rows:?}");
    }
}
