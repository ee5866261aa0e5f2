//! `pinokiocloud dedup` on real files: three apps holding the same 64 MiB
//! model store it once, a file one byte different is untouched, and a pass
//! killed with SIGKILL leaves every file whole.

mod support;

use serde_json::Value;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use support::BIN;

const MIB: usize = 1024 * 1024;

fn dedup(home: &Path, extra: &[&str]) -> Value {
    let out = Command::new(BIN)
        .args(["dedup", "--json", "--home", home.to_str().unwrap()])
        .args(extra)
        .env_remove("PINOKIOCLOUD_HOME")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "dedup failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Deterministic, incompressible-looking content.
fn model_bytes(len: usize, seed: u8) -> Vec<u8> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64 ^ seed as u64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// Real usage with every hardlinked file counted once, as `du` does.
fn du_bytes(dir: &Path) -> u64 {
    let out = Command::new("du")
        .args(["-s", "--block-size=1"])
        .arg(dir)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// Whether dedup links by hardlink here (shared inode, counted once by
/// `du`); where the filesystem clones, the clones have inodes of their own.
fn hardlinks(dir: &Path) -> bool {
    !server::storage::dedup::reflink_supported(dir)
}

fn inode(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().ino()
}

struct Home {
    _dir: tempfile::TempDir,
    home: PathBuf,
    same: Vec<PathBuf>,
    odd: PathBuf,
    model: Vec<u8>,
}

/// Three apps with the same model in different folders, a fourth whose
/// copy differs in its last byte.
fn three_apps_one_model() -> Home {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let model = model_bytes(64 * MIB, 1);
    let same = vec![
        home.join("api/comfy/models/checkpoints/sdxl.safetensors"),
        home.join("api/forge/models/Stable-diffusion/sdxl.safetensors"),
        home.join("api/fooocus/app/models/checkpoints/base.safetensors"),
    ];
    for path in &same {
        write(path, &model);
    }
    let mut odd_bytes = model.clone();
    *odd_bytes.last_mut().unwrap() ^= 1;
    let odd = home.join("api/other/models/sdxl.safetensors");
    write(&odd, &odd_bytes);
    write(&home.join("api/comfy/main.py"), b"print('hi')\n");
    Home {
        _dir: dir,
        home,
        same,
        odd,
        model,
    }
}

#[test]
fn three_apps_with_the_same_model_store_it_once_and_the_odd_copy_is_untouched() {
    let h = three_apps_one_model();
    let before = du_bytes(&h.home);
    let odd_inode = inode(&h.odd);

    let report = dedup(&h.home, &[]);
    assert_eq!(report["files_seen"], 4, "{report:#}");
    assert_eq!(report["files_linked"], 2, "{report:#}");
    assert_eq!(report["bytes_saved"], 2 * 64 * MIB as u64, "{report:#}");
    assert_eq!(report["groups"].as_array().unwrap().len(), 1, "{report:#}");

    if hardlinks(&h.home) {
        let after = du_bytes(&h.home);
        let freed = before - after;
        assert!(
            freed >= 127 * MIB as u64 && freed <= 129 * MIB as u64,
            "du went from {before} to {after}"
        );
    }
    let kept = inode(&h.same[0]);
    for path in &h.same {
        assert!(
            !hardlinks(&h.home) || inode(path) == kept,
            "{} not linked",
            path.display()
        );
        assert!(
            std::fs::read(path).unwrap() == h.model,
            "{} changed",
            path.display()
        );
    }
    assert_eq!(inode(&h.odd), odd_inode);
    assert!(std::fs::read(&h.odd).unwrap() != h.model);

    // The index makes the next pass read nothing.
    let again = dedup(&h.home, &[]);
    assert_eq!(again["files_hashed"], 0, "{again:#}");
    assert_eq!(again["files_linked"], 0, "{again:#}");

    // Uninstalling the app whose copy was kept leaves the others whole.
    std::fs::remove_dir_all(h.home.join("api/comfy")).unwrap();
    for path in &h.same[1..] {
        assert!(std::fs::read(path).unwrap() == h.model);
    }
}

#[test]
fn a_dry_run_reports_what_it_would_free_and_changes_nothing() {
    let h = three_apps_one_model();
    let inodes: Vec<u64> = h.same.iter().map(|p| inode(p)).collect();
    let report = dedup(&h.home, &["--dry-run"]);
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["files_linked"], 0, "{report:#}");
    assert_eq!(report["bytes_saved"], 2 * 64 * MIB as u64, "{report:#}");
    let paths = report["groups"][0]["paths"].as_array().unwrap();
    assert_eq!(paths.len(), 3, "{report:#}");
    let after: Vec<u64> = h.same.iter().map(|p| inode(p)).collect();
    assert_eq!(inodes, after);

    let text = Command::new(BIN)
        .args(["dedup", "--dry-run", "--home", h.home.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("would free 134 MB"), "{text}");
    assert!(text.contains("nothing was changed (dry run)"), "{text}");
}

#[test]
fn a_pass_killed_midway_leaves_every_file_whole_and_the_next_one_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let model = model_bytes(32 * MIB, 7);
    let paths: Vec<PathBuf> = (0..8)
        .map(|i| home.join(format!("api/app{i}/models/m.safetensors")))
        .collect();
    for p in &paths {
        write(p, &model);
    }
    // A temporary link as a pass killed between link and rename leaves it.
    let leftover = home.join("api/app1/models/.m.safetensors.pinokiocloud-dedup-99999.tmp");
    std::fs::hard_link(&paths[0], &leftover).unwrap();

    let mut child = Command::new(BIN)
        .args([
            "dedup",
            "--home",
            home.to_str().unwrap(),
            "--min-size",
            "1048576",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while std::io::BufRead::read_line(&mut stderr, &mut line).unwrap() > 0 {
        if line.contains("hashing 3/") {
            break;
        }
        line.clear();
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    for p in &paths {
        assert!(
            std::fs::read(p).unwrap() == model,
            "{} damaged",
            p.display()
        );
    }

    let report = dedup(&home, &["--min-size", "1048576"]);
    assert_eq!(report["files_linked"], 7, "{report:#}");
    assert!(
        !leftover.exists(),
        "the killed pass's temporary link is still there"
    );
    let kept = inode(&paths[0]);
    for p in &paths {
        assert!(
            !hardlinks(&home) || inode(p) == kept,
            "{} not linked",
            p.display()
        );
        assert!(std::fs::read(p).unwrap() == model);
    }
}
