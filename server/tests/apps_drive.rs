//! The virtual drive end to end (C-127): two ComfyUI-shaped apps, real git
//! clones, real `python3 -m venv` and pip (offline, a local wheel), that
//! share their model folders with `fs.share {drive, peers}` (each names the
//! other as a peer) and their packages with `fs.link {venv}`. Uninstalling
//! one leaves the other working.

mod apps_common;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use apps_common::*;
use serde_json::{json, Value};
use server::apps::PythonSettings;

/// A wheel `drivepkg-1.0` with a proper RECORD (sha256 of each file).
fn make_wheel(dir: &Path) -> PathBuf {
    let py = r#"
import base64, hashlib, sys, zipfile
files = {
    "drivepkg/__init__.py": "X = 'shared package works'\n",
    "drivepkg-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: drivepkg\nVersion: 1.0\n",
    "drivepkg-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
def h(t):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(t.encode()).digest()).rstrip(b"=").decode()
record = "".join("%s,%s,%d\n" % (p, h(t), len(t)) for p, t in files.items()) + "drivepkg-1.0.dist-info/RECORD,,\n"
with zipfile.ZipFile(sys.argv[1], "w") as z:
    for p, t in files.items():
        z.writestr(p, t)
    z.writestr("drivepkg-1.0.dist-info/RECORD", record)
"#;
    std::fs::create_dir_all(dir).unwrap();
    let wheel = dir.join("drivepkg-1.0-py3-none-any.whl");
    let st = Command::new("python3")
        .args(["-c", py])
        .arg(&wheel)
        .status()
        .unwrap();
    assert!(st.success());
    wheel
}

/// A git repository at exactly `dir` (so two apps can name each other).
fn git_repo_at(dir: &Path, files: &[(&str, &str)]) -> String {
    write_files(dir, files);
    for args in [
        &["init", "-q"][..],
        &["add", "-A"],
        &["commit", "-q", "-m", "fixture"],
    ] {
        let out = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@t"])
            .args(["-c", "init.defaultBranch=main"])
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    format!("file://{}", dir.display())
}

/// install.json of a ComfyUI-shaped launcher: the app's own model files,
/// a venv with one package, then the drive steps.
fn install_script(seed: &str, wheel: &Path, peer: &str) -> String {
    json!({ "run": [
        { "method": "shell.run", "params": { "message":
            format!("mkdir -p app/models/checkpoints && echo {seed} > app/models/checkpoints/{seed}.txt") } },
        { "method": "shell.run", "params": { "venv": "env", "path": "app", "message":
            format!("pip install --no-index {}", wheel.display()) } },
        { "method": "fs.share", "params": {
            "drive": { "checkpoints": "app/models/checkpoints", "loras": ["app/models/loras", "app/models/LyCORIS"] },
            "peers": [peer] } },
        { "method": "fs.link", "params": { "venv": "app/env" } }
    ] })
    .to_string()
}

const CHECK: &str = r#"{"run": [{"method": "shell.run", "params": {"venv": "env", "path": "app",
  "message": "python -c \"import drivepkg; print('IMPORT', drivepkg.X)\""}}]}"#;

async fn run_ok(f: &Fixture, app: &str, script: &str) -> String {
    let run = f.apps.start(app, script, Value::Null).await.unwrap();
    let rec = f.apps.wait(run).await.unwrap();
    let log = f.apps.log(run).await.unwrap();
    assert_eq!(rec.outcome.as_deref(), Some("ok"), "{app} {script}:\n{log}");
    log
}

fn site_packages(app_dir: &Path) -> PathBuf {
    let lib = app_dir.join("app/env/lib");
    let py = std::fs::read_dir(&lib)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    py.join("site-packages")
}

#[tokio::test]
async fn two_peer_apps_share_models_and_packages_and_survive_each_others_uninstall() {
    let f = Fixture::new().await;
    // Offline: Pinokio's own venv + pip, no uv download.
    f.apps
        .set_python_settings(PythonSettings {
            acceleration: false,
            reuse_platform_torch: false,
        })
        .await
        .unwrap();
    let src = tempfile::tempdir().unwrap();
    let wheel = make_wheel(&src.path().join("wheels"));
    let (a_dir, b_dir) = (src.path().join("comfy-a"), src.path().join("comfy-b"));
    let (a_url, b_url) = (
        format!("file://{}", a_dir.display()),
        format!("file://{}", b_dir.display()),
    );
    for (dir, seed, peer) in [(&a_dir, "seed-a", &b_url), (&b_dir, "seed-b", &a_url)] {
        let install = install_script(seed, &wheel, peer);
        git_repo_at(
            dir,
            &[
                ("pinokio.js", PINOKIO_JS),
                ("install.json", &install),
                ("check.json", CHECK),
            ],
        );
    }
    for url in [&a_url, &b_url] {
        f.apps.install(url, None).await.unwrap();
    }
    let log_a = run_ok(&f, "comfy-a", "install.json").await;
    let log_b = run_ok(&f, "comfy-b", "install.json").await;
    assert!(log_a.contains("(new)"), "{log_a}");
    assert!(log_b.contains("shared with file://"), "{log_b}");

    let (app_a, app_b) = (f.path().join("api/comfy-a"), f.path().join("api/comfy-b"));
    let peers = f.path().join("drive/drives/peers");
    let drives: Vec<PathBuf> = std::fs::read_dir(&peers)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(drives.len(), 1, "one drive for both peers: {drives:?}");
    let ckpt = drives[0].join("checkpoints");
    for seed in ["seed-a", "seed-b"] {
        assert!(
            ckpt.join(format!("{seed}.txt")).is_file(),
            "{seed} moved into the drive"
        );
    }
    // A model placed through one app's drive folder is visible in the other.
    std::fs::write(
        app_a.join("app/models/checkpoints/sdxl.safetensors"),
        "weights",
    )
    .unwrap();
    assert_eq!(
        std::fs::read_to_string(app_b.join("app/models/checkpoints/sdxl.safetensors")).unwrap(),
        "weights"
    );
    // One copy of the package, linked from both venvs.
    let (site_a, site_b) = (site_packages(&app_a), site_packages(&app_b));
    let store = f
        .path()
        .join("drive/drives/pip/drivepkg/1.0")
        .join(site_a.strip_prefix(app_a.join("app/env")).unwrap());
    let ino = |p: PathBuf| {
        std::fs::metadata(&p)
            .map(|m| m.ino())
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    };
    let file = "drivepkg/__init__.py";
    assert_eq!(ino(site_a.join(file)), ino(store.join(file)), "{log_a}");
    assert_eq!(ino(site_b.join(file)), ino(store.join(file)), "{log_b}");
    assert!(log_b.contains("reused an identical copy"), "{log_b}");

    // Re-running an install changes nothing.
    let again = run_ok(&f, "comfy-b", "install.json").await;
    assert!(again.contains("already linked"), "{again}");

    f.apps.uninstall("comfy-a").await.unwrap();
    assert!(!app_a.exists());
    assert_eq!(
        std::fs::read_to_string(app_b.join("app/models/checkpoints/seed-a.txt")).unwrap(),
        "seed-a\n",
        "what the uninstalled app brought stays for its peer"
    );
    assert!(app_b
        .join("app/models/checkpoints/sdxl.safetensors")
        .is_file());
    let check = run_ok(&f, "comfy-b", "check.json").await;
    assert!(check.contains("IMPORT shared package works"), "{check}");
    // The drive records name only the app still installed.
    let report = engine::drive::report(&f.path().join("drive")).unwrap();
    let apps: Vec<&str> = report.peers[0]
        .links
        .iter()
        .map(|l| l.record.app.as_str())
        .collect();
    assert!(
        apps.iter().all(|a| *a == "comfy-b") && apps.len() == 3,
        "{apps:?}"
    );
    assert!(report.peers[0].links.iter().all(|l| l.live));
    assert_eq!(report.venvs.len(), 1, "{:?}", report.venvs.keys());
}
