//! Dedup when things go wrong: files deleted, grown or opened for writing
//! during the pass, read-only folders, another user's files, symlink loops,
//! and a linked file an app rewrites in place. Every file stays intact.

use server::storage::dedup::{self, Options, Report, SwapHook, Trigger};
use server::store::Store;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const SIZE: usize = 64 * 1024;

struct Home {
    _dir: tempfile::TempDir,
    home: PathBuf,
}

impl Home {
    fn new() -> Home {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        Home { _dir: dir, home }
    }

    /// Writes the same bytes at each path (relative to the home).
    fn models(&self, rels: &[&str], seed: u8) -> Vec<PathBuf> {
        let bytes: Vec<u8> = (0..SIZE).map(|i| (i as u8).wrapping_mul(seed)).collect();
        rels.iter()
            .map(|rel| {
                let path = self.home.join(rel);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, &bytes).unwrap();
                path
            })
            .collect()
    }

    async fn pass(&self, hook: Option<SwapHook>) -> Report {
        let store = Store::open(&self.home).await.unwrap();
        let options = Options {
            min_size: 1024,
            before_swap: hook,
            ..Options::new(Trigger::Cli)
        };
        dedup::run(&self.home, &store, options, &|_| {})
            .await
            .unwrap()
    }
}

/// Whether dedup links by hardlink here (same inode), not by clone.
fn hardlinks(h: &Home) -> bool {
    !dedup::reflink_supported(&h.home)
}

fn inode(p: &Path) -> u64 {
    std::fs::metadata(p).unwrap().ino()
}

fn reason<'a>(report: &'a Report, path: &str) -> &'a str {
    report
        .skipped
        .iter()
        .find(|s| s.path == path)
        .map(|s| s.reason.as_str())
        .unwrap_or_else(|| panic!("{path} not skipped: {report:#?}"))
}

#[tokio::test]
async fn a_file_grown_or_deleted_during_the_pass_is_left_as_it_is_now() {
    let h = Home::new();
    let paths = h.models(&["api/a/m.bin", "api/b/m.bin", "api/c/m.bin"], 3);
    let (grown, deleted) = (paths[1].clone(), paths[2].clone());
    let hook = SwapHook(Arc::new(move |path: &Path| {
        if path == grown {
            let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
            std::io::Write::write_all(&mut f, b"more").unwrap();
        } else if path == deleted {
            std::fs::remove_file(path).unwrap();
        }
    }));
    let report = h.pass(Some(hook)).await;
    assert!(reason(&report, "api/b/m.bin").contains("changed during the pass"));
    assert!(reason(&report, "api/c/m.bin").contains("deleted during the pass"));
    assert_eq!(report.files_linked, 0);
    assert_eq!(std::fs::read(&paths[1]).unwrap().len(), SIZE + 4);
    assert!(
        !paths[2].exists(),
        "a deleted file must not come back as a link"
    );
    assert_ne!(inode(&paths[0]), inode(&paths[1]));
    // Nothing of ours is left next to them.
    let names: Vec<_> = std::fs::read_dir(paths[1].parent().unwrap())
        .unwrap()
        .collect();
    assert_eq!(names.len(), 1);
}

#[tokio::test]
async fn a_file_open_for_writing_is_not_linked() {
    let h = Home::new();
    let paths = h.models(&["api/a/m.bin", "api/b/m.bin"], 5);
    let writer = std::fs::OpenOptions::new()
        .append(true)
        .open(&paths[1])
        .unwrap();
    let report = h.pass(None).await;
    let why = reason(&report, "api/b/m.bin");
    assert!(why.contains("open for writing by process"), "{why}");
    assert_ne!(inode(&paths[0]), inode(&paths[1]));
    drop(writer);
    let report = h.pass(None).await;
    assert_eq!(report.files_linked, 1, "{report:#?}");
    if hardlinks(&h) {
        assert_eq!(inode(&paths[0]), inode(&paths[1]));
    }
}

#[tokio::test]
async fn another_users_file_is_not_linked_to_ours() {
    let h = Home::new();
    let paths = h.models(&["api/a/m.bin", "api/b/m.bin"], 7);
    // Only root can give a file away; elsewhere there is no other owner to test.
    if std::os::unix::fs::chown(&paths[1], Some(65534), Some(65534)).is_err() {
        eprintln!("skipped: changing a file's owner needs root");
        return;
    }
    let report = h.pass(None).await;
    assert!(reason(&report, "api/b/m.bin").contains("owned by another user (uid 65534"));
    assert_eq!(std::fs::metadata(&paths[1]).unwrap().uid(), 65534);
    assert_ne!(inode(&paths[0]), inode(&paths[1]));
}

#[tokio::test]
async fn a_read_only_folder_is_reported_and_its_file_kept() {
    let h = Home::new();
    let paths = h.models(&["api/a/m.bin", "api/b/ro/m.bin"], 9);
    let folder = paths[1].parent().unwrap().to_path_buf();
    let Some(_unlock) = read_only(&folder) else {
        eprintln!("skipped: cannot make a folder read-only for this user (root without chattr)");
        return;
    };
    let report = h.pass(None).await;
    let why = reason(&report, "api/b/ro/m.bin");
    assert!(why.contains("folder cannot be written"), "{why}");
    assert_eq!(std::fs::read(&paths[1]).unwrap().len(), SIZE);
    assert_ne!(inode(&paths[0]), inode(&paths[1]));
}

/// Makes `dir` unwritable: a mode for users, the immutable flag for root.
fn read_only(dir: &Path) -> Option<Unlock> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    let probe = dir.join(".probe");
    if std::fs::write(&probe, b"x").is_err() {
        return Some(Unlock(dir.to_path_buf(), false));
    }
    let _ = std::fs::remove_file(&probe);
    let ok = std::process::Command::new("chattr")
        .arg("+i")
        .arg(dir)
        .status()
        .is_ok_and(|s| s.success());
    ok.then(|| Unlock(dir.to_path_buf(), true))
}

struct Unlock(PathBuf, bool);

impl Drop for Unlock {
    fn drop(&mut self) {
        use std::os::unix::fs::PermissionsExt;
        if self.1 {
            let _ = std::process::Command::new("chattr")
                .arg("-i")
                .arg(&self.0)
                .status();
        }
        let _ = std::fs::set_permissions(&self.0, std::fs::Permissions::from_mode(0o755));
    }
}

#[tokio::test]
async fn symlinks_and_loops_are_not_followed() {
    let h = Home::new();
    let paths = h.models(&["api/a/m.bin", "api/b/m.bin"], 11);
    std::os::unix::fs::symlink(&h.home, h.home.join("api/a/loop")).unwrap();
    std::os::unix::fs::symlink(&paths[0], h.home.join("api/c.bin")).unwrap();
    let report = h.pass(None).await;
    assert_eq!(report.files_seen, 2, "{report:#?}");
    assert_eq!(report.files_linked, 1);
    assert!(h
        .home
        .join("api/c.bin")
        .symlink_metadata()
        .unwrap()
        .file_type()
        .is_symlink());
}

#[tokio::test]
async fn a_linked_file_rewritten_in_place_is_reported_with_its_twins() {
    let h = Home::new();
    let paths = h.models(&["api/a/m.bin", "api/b/m.bin", "api/c/other.bin"], 13);
    let report = h.pass(None).await;
    assert_eq!(report.files_linked, 2);
    let store = Store::open(&h.home).await.unwrap();
    assert_eq!(
        dedup::summary(&store).await.unwrap().bytes_saved,
        2 * SIZE as u64
    );

    // An app opens its copy read-write and changes bytes in place.
    let original = std::fs::read(&paths[0]).unwrap();
    {
        use std::io::{Seek, Write};
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(&paths[1])
            .unwrap();
        f.seek(std::io::SeekFrom::Start(100)).unwrap();
        f.write_all(b"rewritten").unwrap();
    }
    let report = h.pass(None).await;
    if !hardlinks(&h) {
        // A clone is copied on write: its twins kept their bytes.
        assert!(report.changed.is_empty(), "{report:#?}");
        assert!(std::fs::read(&paths[0]).unwrap() == original);
        return;
    }
    assert!(std::fs::read(&paths[0]).unwrap() != original);
    assert_eq!(report.changed.len(), 1, "{report:#?}");
    let mut names = report.changed[0].twins.clone();
    names.push(report.changed[0].path.clone());
    names.sort();
    assert_eq!(names, ["api/a/m.bin", "api/b/m.bin", "api/c/other.bin"]);
    let summary = dedup::summary(&store).await.unwrap();
    assert_eq!(summary.changed.len(), 1);
}

#[tokio::test]
async fn only_new_or_changed_files_are_hashed_again() {
    let h = Home::new();
    let paths = h.models(&["api/a/m.bin", "api/b/m.bin", "api/c/m.bin"], 17);
    let other = h.models(&["api/d/n.bin"], 19);
    // All four share a size, so all are read once.
    assert_eq!(h.pass(None).await.files_hashed, 4);
    assert_eq!(h.pass(None).await.files_hashed, 0);
    // A new copy of `n.bin`: only it is read, and it is linked.
    h.models(&["api/e/n.bin"], 19);
    let report = h.pass(None).await;
    assert_eq!(report.files_hashed, 1, "{report:#?}");
    assert_eq!(report.files_linked, 1);
    assert_eq!(
        h.pass(None).await.files_linked,
        0,
        "linked files are linked once"
    );
    if hardlinks(&h) {
        assert_eq!(inode(&other[0]), inode(&h.home.join("api/e/n.bin")));
        assert_eq!(inode(&paths[0]), inode(&paths[2]));
    }
}

#[tokio::test]
async fn two_passes_at_once_are_refused_with_what_to_do() {
    let h = Home::new();
    h.models(&["api/a/m.bin", "api/b/m.bin"], 23);
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let rx = std::sync::Mutex::new(rx);
    let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
    let started = std::sync::Mutex::new(Some(started_tx));
    let hook = SwapHook(Arc::new(move |_: &Path| {
        if let Some(s) = started.lock().unwrap().take() {
            let _ = s.send(());
        }
        let _ = rx
            .lock()
            .unwrap()
            .recv_timeout(std::time::Duration::from_secs(30));
    }));
    let home = h.home.clone();
    let first = tokio::spawn(async move {
        let store = Store::open(&home).await.unwrap();
        let options = Options {
            min_size: 1024,
            before_swap: Some(hook),
            ..Options::new(Trigger::Button)
        };
        dedup::run(&home, &store, options, &|_| {}).await
    });
    started_rx.await.unwrap();
    let store = Store::open(&h.home).await.unwrap();
    let second = dedup::run(&h.home, &store, Options::new(Trigger::Cli), &|_| {}).await;
    let err = format!("{:#}", second.unwrap_err());
    assert!(err.contains("another dedup pass is running"), "{err}");
    tx.send(()).unwrap();
    assert_eq!(first.await.unwrap().unwrap().files_linked, 1);
}

#[tokio::test]
async fn reflinks_keep_each_file_its_own_where_the_filesystem_clones() {
    let h = Home::new();
    if !dedup::reflink_supported(&h.home) {
        eprintln!(
            "skipped: this filesystem has no reflinks (FICLONE); hardlinks are tested instead"
        );
        return;
    }
    let paths = h.models(&["api/a/m.bin", "api/b/m.bin"], 29);
    let report = h.pass(None).await;
    assert_eq!(report.files_linked, 1);
    assert_ne!(inode(&paths[0]), inode(&paths[1]));
    let store = Store::open(&h.home).await.unwrap();
    assert_eq!(
        dedup::summary(&store).await.unwrap().bytes_saved,
        SIZE as u64
    );
    // A second pass sees the clone as done, not as a duplicate.
    let again = h.pass(None).await;
    assert!(again.groups.is_empty(), "{again:#?}");
    std::fs::write(&paths[1], b"changed").unwrap();
    assert_eq!(std::fs::read(&paths[0]).unwrap().len(), SIZE);
}

#[tokio::test]
async fn on_a_full_disk_dedup_still_frees_space_and_keeps_every_file() {
    let Some(disk) = SmallDisk::mount(8 * 1024 * 1024) else {
        eprintln!("skipped: mounting a small tmpfs needs root (mount -t tmpfs)");
        return;
    };
    let home = disk.0.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    drop(Store::open(&home).await.unwrap());
    let model: Vec<u8> = (0..1024 * 1024u32).map(|i| (i % 253) as u8).collect();
    let paths: Vec<PathBuf> = ["a", "b", "c"]
        .iter()
        .map(|app| {
            let p = home.join(format!("api/{app}/m.safetensors"));
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, &model).unwrap();
            p
        })
        .collect();
    fill(&home.join("filler"));
    let before = free(&home);
    let store = Store::open(&home).await.unwrap();
    let options = Options {
        min_size: 64 * 1024,
        ..Options::new(Trigger::Cli)
    };
    let report = dedup::run(&home, &store, options, &|_| {}).await.unwrap();
    assert_eq!(report.files_linked, 2, "{report:#?}");
    for p in &paths {
        assert!(std::fs::read(p).unwrap() == model);
    }
    // Two copies freed, less what the index took once there was room.
    let after = free(&home);
    assert!(
        after >= before + 2 * 1024 * 1024 - 128 * 1024,
        "{before} -> {after}"
    );
}

/// A tmpfs of `size` bytes on a temporary folder, unmounted on drop.
struct SmallDisk(tempfile::TempDir);

impl SmallDisk {
    fn mount(size: u64) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().unwrap();
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| SmallDisk(dir))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(self.0.path())
            .status();
    }
}

/// Writes until the disk is full.
fn fill(path: &Path) {
    use std::io::Write;
    let mut f = std::fs::File::create(path).unwrap();
    let block = vec![7u8; 64 * 1024];
    while f.write_all(&block).is_ok() {}
    let _ = f.sync_all();
}

fn free(path: &Path) -> u64 {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::statvfs(c.as_ptr(), &mut s) }, 0);
    s.f_bavail as u64 * s.f_frsize as u64
}
