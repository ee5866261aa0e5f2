//! The Storage page's scanner and actions on real files in a temporary
//! home: sizes per kind, hardlinks counted once, drive links attributed to
//! the drive, actions that delete only what they name, and the CLI.

mod apps_common;

use apps_common::{Fixture, PINOKIO_JS};
use serde_json::Value;
use server::storage::actions;
use server::storage::service::{BusyCheck, Storage};
use server::storage::usage::{self, filesystems::Hints, walk::Progress};
use std::path::Path;
use std::sync::Arc;

fn write(path: &Path, bytes: usize) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, vec![7u8; bytes]).unwrap();
}

fn scan(home: &Path) -> app::api::StorageUsage {
    usage::scan(home, &Hints::default(), Arc::new(Progress::default())).unwrap()
}

fn app<'a>(u: &'a app::api::StorageUsage, name: &str) -> &'a app::api::AppUsage {
    u.apps
        .iter()
        .find(|a| a.name == name)
        .unwrap_or_else(|| panic!("no app {name} in {:?}", u.apps))
}

/// An app with one of everything; returns the sizes each kind must have.
fn put_full_app(home: &Path, name: &str) -> [u64; 5] {
    let dir = home.join("api").join(name);
    write(&dir.join("app.py"), 1_000);
    write(&dir.join("src/pkg/cache/__init__.py"), 10); // a package named cache: code
    write(&dir.join("env/pyvenv.cfg"), 50);
    write(&dir.join("env/lib/site.so"), 20_000);
    write(&dir.join("app/env/bin/activate"), 60);
    write(&dir.join("app/env/lib/x.py"), 3_000);
    write(&dir.join("models/unet.safetensors"), 40_000);
    write(&dir.join("app/weights/vae.PTH"), 5_000);
    write(&dir.join("src/pkg/__pycache__/m.pyc"), 700);
    write(&dir.join("cache/HF_HOME/hub/blob"), 9_000);
    write(&dir.join(".cache/pip/x"), 300);
    write(&dir.join("logs/app.log"), 400);
    write(&home.join("logs").join(name).join("1.log"), 33);
    [1_010, 23_110, 45_000, 10_000, 433]
}

#[test]
fn sizes_per_kind_are_counted_where_they_belong() {
    let home = tempfile::tempdir().unwrap();
    let want = put_full_app(home.path(), "full");
    write(&home.path().join("cache/uv/wheel"), 12_345);
    write(&home.path().join("pinokiocloud.db"), 4_096);
    let u = scan(home.path());
    let a = app(&u, "full");
    let got = [
        a.code_bytes,
        a.venv_bytes,
        a.model_bytes,
        a.cache_bytes,
        a.log_bytes,
    ];
    assert_eq!(got, want, "code, venvs, models, caches, logs");
    assert_eq!(a.total_bytes, want.iter().sum::<u64>());
    let mut venvs = a.venvs.clone();
    venvs.sort();
    assert_eq!(venvs, ["app/env", "env"]);
    assert!(a.caches.contains(&"cache".to_string()), "{:?}", a.caches);
    assert!(
        !a.caches.iter().any(|c| c == "src/pkg/cache"),
        "{:?}",
        a.caches
    );
    assert_eq!(u.download_cache.bytes, 12_345);
    assert!(u
        .other
        .iter()
        .any(|o| o.name == "pinokiocloud.db" && o.bytes == 4_096));
    assert_eq!(u.total_bytes, a.total_bytes + 12_345 + 4_096);
    assert!(!u.filesystems.is_empty());
    assert!(u.filesystems[0].holds.contains(&"home".to_string()));
}

#[test]
fn a_hardlinked_file_counts_once_where_it_is_met_first() {
    let home = tempfile::tempdir().unwrap();
    let a = home.path().join("api/a/models/m.safetensors");
    let b = home.path().join("api/b/models/m.safetensors");
    let in_drive = home.path().join("drive/shared/big.ckpt");
    write(&a, 50_000);
    std::fs::create_dir_all(b.parent().unwrap()).unwrap();
    std::fs::hard_link(&a, &b).unwrap();
    write(&in_drive, 30_000);
    let c = home.path().join("api/c/big.ckpt");
    std::fs::create_dir_all(c.parent().unwrap()).unwrap();
    std::fs::hard_link(&in_drive, &c).unwrap();
    let u = scan(home.path());
    assert_eq!(app(&u, "a").model_bytes, 50_000);
    assert_eq!(app(&u, "b").model_bytes, 0, "the twin of a's file");
    assert_eq!(app(&u, "c").model_bytes, 0, "the drive was walked first");
    assert_eq!(u.drive.bytes, 30_000);
    assert_eq!(u.total_bytes, 80_000);
}

#[test]
fn drive_folders_linked_by_apps_count_under_the_drive() {
    let home = tempfile::tempdir().unwrap();
    let drive = home.path().join("drive/drives/peers/d1");
    write(&drive.join("checkpoints/sdxl.safetensors"), 70_000);
    write(&drive.join("loras/x.safetensors"), 2_000);
    write(&home.path().join("drive/drives/peers/d1.json"), 10);
    write(&home.path().join("drive/outputs/img.png"), 500);
    for name in ["comfy", "forge"] {
        let models = home.path().join("api").join(name).join("models");
        std::fs::create_dir_all(&models).unwrap();
        std::os::unix::fs::symlink(drive.join("checkpoints"), models.join("checkpoints")).unwrap();
        write(&models.join("own.safetensors"), 100);
    }
    let u = scan(home.path());
    for name in ["comfy", "forge"] {
        let a = app(&u, name);
        assert_eq!(a.model_bytes, 100, "{name} counts only its own model");
        assert_eq!(a.drive_links.len(), 1);
        assert_eq!(a.drive_links[0].path, "models/checkpoints");
        assert_eq!(a.drive_links[0].folder, "drives/peers/d1/checkpoints");
    }
    let folder = |n: &str| u.drive.folders.iter().find(|f| f.name == n).cloned();
    let checkpoints = folder("drives/peers/d1/checkpoints").expect("checkpoints folder");
    assert_eq!(checkpoints.bytes, 70_000);
    assert_eq!(checkpoints.linked_by, ["comfy", "forge"]);
    let loras = folder("drives/peers/d1/loras").expect("loras folder");
    assert!(loras.linked_by.is_empty());
    assert_eq!(folder("outputs").expect("outputs").bytes, 500);
    assert_eq!(u.drive.bytes, 72_510);
}

#[test]
fn clearing_an_apps_caches_removes_only_caches() {
    let home = tempfile::tempdir().unwrap();
    let want = put_full_app(home.path(), "full");
    let freed = actions::clear_app_caches(home.path(), "full").unwrap();
    assert_eq!(freed.bytes, want[3]);
    let dir = home.path().join("api/full");
    assert!(!dir.join("cache").exists() && !dir.join(".cache").exists());
    assert!(!dir.join("src/pkg/__pycache__").exists());
    assert!(
        dir.join("src/pkg/cache/__init__.py").exists(),
        "code named cache"
    );
    let a = scan(home.path()).apps.remove(0);
    assert_eq!(
        [
            a.code_bytes,
            a.venv_bytes,
            a.model_bytes,
            a.cache_bytes,
            a.log_bytes
        ],
        [want[0], want[1], want[2], 0, want[4]]
    );
}

#[test]
fn clearing_download_caches_keeps_the_hugging_face_token() {
    let home = tempfile::tempdir().unwrap();
    write(&home.path().join("cache/uv/a"), 1_000);
    write(&home.path().join("cache/HF_HOME/hub/b"), 2_000);
    write(&home.path().join("cache/HF_AUTH/token"), 37);
    let freed = actions::clear_download_cache(home.path()).unwrap();
    assert_eq!(freed.bytes, 3_000);
    assert!(!home.path().join("cache/uv").exists());
    assert!(!home.path().join("cache/HF_HOME").exists());
    assert_eq!(
        std::fs::read(home.path().join("cache/HF_AUTH/token"))
            .unwrap()
            .len(),
        37
    );
}

#[tokio::test]
async fn the_service_scans_in_the_background_and_rescans_after_actions() {
    let home = tempfile::tempdir().unwrap();
    put_full_app(home.path(), "full");
    write(&home.path().join("cache/pip/w"), 50_000);
    let store = server::store::Store::open(home.path()).await.unwrap();
    let idle: BusyCheck = Arc::new(|_| None);
    let storage = Storage::start(home.path(), store, Hints::default(), idle);
    let before = storage.scan_now().await.unwrap();
    assert_eq!(before.download_cache.bytes, 50_000);
    let said = storage.clear_download_cache().await.unwrap();
    assert!(said.contains("50 KB"), "{said}");
    // The action asked for a rescan; the overview reflects it once done.
    let after = storage.scan_now().await.unwrap();
    assert_eq!(after.download_cache.bytes, 0);
    let overview = storage.overview().await.unwrap();
    assert_eq!(overview.usage.unwrap().download_cache.bytes, 0);
    assert!(overview.scan.error.is_none());
}

#[tokio::test]
async fn a_venv_is_not_removed_while_its_app_runs() {
    let fx = Fixture::new().await;
    let start = apps_common::shell_script(&["echo up; sleep 60"]);
    let dir = fx.put_app(
        "busy",
        &[
            ("pinokio.js", PINOKIO_JS),
            ("start.json", &start),
            ("env/pyvenv.cfg", "home = /usr/bin"),
        ],
    );
    let busy = server::backend::storage::busy_check(&fx.apps);
    let storage = Storage::start(fx.path(), fx.store.clone(), Hints::default(), busy);
    let run = fx
        .apps
        .start("busy", "start.json", Value::Null)
        .await
        .unwrap();
    apps_common::wait_output(&fx.apps, run, "up").await;
    let err = storage.remove_venvs("busy").await.unwrap_err().to_string();
    assert!(
        err.contains("running") && err.contains("Stop it first"),
        "{err}"
    );
    assert!(dir.join("env/pyvenv.cfg").exists());
    fx.apps.stop(run).await.unwrap();
    let ended = async {
        while !fx.apps.running().is_empty() {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(apps_common::PATIENCE, ended)
        .await
        .unwrap();
    let said = storage.remove_venvs("busy").await.unwrap();
    assert!(said.contains("Removed 1 venv"), "{said}");
    assert!(!dir.join("env").exists());
    assert!(dir.join("start.json").exists(), "code stays");
}

#[test]
fn storage_json_and_table_report_the_home() {
    let home = tempfile::tempdir().unwrap();
    let want = put_full_app(home.path(), "full");
    let run = |extra: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_pinokiocloud"))
            .arg("storage")
            .arg("--home")
            .arg(home.path())
            .args(extra)
            .env_remove("PINOKIOCLOUD_HOME")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let json: Value = serde_json::from_str(&run(&["--json"])).unwrap();
    let a = &json["apps"][0];
    assert_eq!(a["name"], "full");
    assert_eq!(a["venv_bytes"], want[1]);
    assert_eq!(a["model_bytes"], want[2]);
    assert_eq!(a["total_bytes"], want.iter().sum::<u64>());
    assert!(json["filesystems"][0]["total_bytes"].as_u64().unwrap() > 0);
    let table = run(&[]);
    let header = table.lines().find(|l| l.starts_with("APP")).unwrap();
    let row = table.lines().find(|l| l.starts_with("full ")).unwrap();
    // Columns line up: each value starts where its heading does.
    assert_eq!(header.find("VENVS"), row.find("23 KB"), "{table}");
}
