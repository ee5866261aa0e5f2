//! The disk guard of `fs.download`: a download of announced size that would
//! not fit is refused before it starts, one that fills a real (tmpfs) disk
//! stops with the same "disk full" message, and neither leaves a file that
//! later looks complete. Free space is pretended through
//! `PINOKIOCLOUD_DISK_FREE` in the app's environment, except on the tmpfs.
mod common;
#[path = "common/http.rs"]
mod http;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use engine::sys::disk;
use http::Server;
use serde_json::json;

fn body(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// GETs of `path` that fetched more than the 1-byte probe.
fn transfers(srv: &Server, path: &str) -> usize {
    srv.hits(path)
        .iter()
        .filter(|s| s.headers.get("range").is_none_or(|r| r != "bytes=0-0"))
        .count()
}

fn pretend_free(engine: &engine::Engine, free: &str) {
    engine.set_app_env("a", vec![(disk::FREE_OVERRIDE_VAR.into(), free.into())]);
}

fn assert_disk_full(msg: &str, mount: &Path) {
    let shape = format!("disk full on {}: ", mount.display());
    assert!(msg.contains(&shape), "{msg}");
    assert!(
        msg.contains(" needed, ") && msg.contains(" free ("),
        "{msg}"
    );
    assert!(msg.contains("Storage page (/storage)"), "{msg}");
    assert!(msg.contains("`pinokiocloud dedup`"), "{msg}");
}

#[test]
fn a_download_that_would_not_fit_is_refused_before_it_starts_then_runs_once_there_is_room() {
    let srv = Server::start();
    let data = body(3_000_000);
    srv.file("/m.bin", &data);
    let home = Home::new();
    let script = home.write(
        "a",
        "s.js",
        &format!(
            r#"module.exports = {{ run: [
      {{ method: "fs.download", params: {{ uri: "{0}", dir: "models" }} }},
      {{ method: "fs.download", params: {{ uri: "{0}", path: "exact.bin" }} }} ] }}"#,
            srv.url("/m.bin")
        ),
    );
    let app = home.app("a");
    let e = home.engine();
    pretend_free(&e, "5M");
    let (r, _) = run(&e, &script, json!({}), json!({}));
    let msg = r.unwrap_err().to_string();
    assert_disk_full(&msg, &disk::space(&app).unwrap().mount);
    // 3 MB plus a 3 MB margin, 5 MB free.
    assert!(msg.contains("6.0 MB needed, 5.0 free"), "{msg}");
    assert!(msg.contains("step 0 (fs.download)"), "{msg}");
    assert_eq!(transfers(&srv, "/m.bin"), 0, "nothing was fetched");
    assert!(!app.join("models/m.bin").exists() && !app.join("models/m.bin.part").exists());

    pretend_free(&e, "100G");
    let (r, ev) = run(&e, &script, json!({}), json!({}));
    r.unwrap_or_else(|e| panic!("{e}\n{}", output(&ev)));
    assert_eq!(std::fs::read(app.join("models/m.bin")).unwrap(), data);
    assert_eq!(std::fs::read(app.join("exact.bin")).unwrap(), data);
}

#[test]
fn a_resumed_part_needs_room_only_for_the_rest() {
    let srv = Server::start();
    let data = body(3_000_000);
    srv.file("/big.bin", &data);
    let home = Home::new();
    let app = home.app("a");
    std::fs::write(app.join("big.bin.part"), &data[..2_000_000]).unwrap();
    let script = |name: &str| {
        home.write(
            "a",
            &format!("{name}.js"),
            &format!(
                r#"module.exports = {{ run: [ {{ method: "fs.download", params: {{ uri: "{}", path: "{name}.bin" }} }} ] }}"#,
                srv.url("/big.bin")
            ),
        )
    };
    let e = home.engine();
    // The rest (1 MB) and its margin fit in 2.5 MB; the whole file does not.
    pretend_free(&e, "2.5M");
    let (r, ev) = run(&e, &script("big"), json!({}), json!({}));
    r.unwrap_or_else(|e| panic!("{e}\n{}", output(&ev)));
    assert_eq!(std::fs::read(app.join("big.bin")).unwrap(), data);
    let (r, _) = run(&e, &script("fresh"), json!({}), json!({}));
    assert_disk_full(
        &r.unwrap_err().to_string(),
        &disk::space(&app).unwrap().mount,
    );
    assert!(!app.join("fresh.bin").exists());
}

/// A tmpfs of `mb` MiB, unmounted on drop.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: PathBuf, mb: u32) -> Result<Tmpfs, String> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return Err("not root: cannot mount a tmpfs".into());
        }
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mb}m"), "tmpfs"])
            .arg(&dir)
            .output()
            .map_err(|e| format!("mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount -t tmpfs failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(Tmpfs(dir))
    }

    fn resize(&self, mb: u32) {
        let ok = Command::new("mount")
            .args(["-o", &format!("remount,size={mb}m")])
            .arg(&self.0)
            .status()
            .unwrap()
            .success();
        assert!(ok, "remount {}", self.0.display());
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_download_that_fills_a_real_disk_stops_cleanly_and_the_retry_completes() {
    let home = Home::new();
    let fs = match Tmpfs::mount(home.path().join("small-disk"), 8) {
        Ok(fs) => fs,
        Err(why) => {
            eprintln!("skipped: {why}");
            return;
        }
    };
    let srv = Server::start();
    let data = body(12_000_000);
    srv.file("/huge.bin", &data);
    let target = fs.0.join("models/huge.bin");
    let script = home.write(
        "a",
        "s.js",
        &format!(
            r#"module.exports = {{ run: [ {{ method: "fs.download", params: {{ uri: "{}", path: "{}" }} }} ] }}"#,
            srv.url("/huge.bin"),
            target.display()
        ),
    );
    let e = home.engine();
    // The guard is told there is room, so the transfer really runs out.
    pretend_free(&e, "100G");
    let (r, ev) = run(&e, &script, json!({}), json!({}));
    let msg = r.unwrap_err().to_string();
    assert_disk_full(&msg, &fs.0);
    assert!(msg.contains("stopped: disk full"), "{msg}\n{}", output(&ev));
    assert!(!target.exists(), "a half file looks complete");
    assert!(
        !fs.0.join("models/huge.bin.part").exists(),
        "the partial file still holds the space"
    );
    assert_eq!(transfers(&srv, "/huge.bin"), 1);

    fs.resize(32);
    let (r, ev) = run(&e, &script, json!({}), json!({}));
    r.unwrap_or_else(|e| panic!("{e}\n{}", output(&ev)));
    assert_eq!(std::fs::read(&target).unwrap(), data);
}

/// A stand-in `hf` in `<home>/bin` (first on every step's PATH): records
/// its arguments, or fails as huggingface_hub does on a full disk, leaving
/// an `.incomplete` file behind.
fn fake_hf(home: &Home) {
    let bin = home.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let hf = bin.join("hf");
    std::fs::write(
        &hf,
        r#"#!/bin/sh
if [ -n "$FAKE_HF_FULL" ]; then
  mkdir -p models/.cache/huggingface/download/unet
  head -c 1000 /dev/zero > models/.cache/huggingface/download/unet/a.safetensors.incomplete
  echo "OSError: [Errno 28] No space left on device"
  exit 1
fi
echo "$@" > hf-args.txt
"#,
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hf, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn hf_download_is_sized_by_the_hub_api_and_refused_when_it_would_not_fit() {
    let srv = Server::start();
    let info = json!({ "siblings": [
        { "rfilename": "unet/a.safetensors", "size": 3_000_000 },
        { "rfilename": "weights.bin", "size": 50_000_000 },
        { "rfilename": "have.safetensors", "size": 2_000_000 } ] });
    srv.file(
        "/api/models/org/model/revision/main",
        info.to_string().as_bytes(),
    );
    let home = Home::new();
    fake_hf(&home);
    let app = home.app("a");
    std::fs::create_dir_all(app.join("models")).unwrap();
    std::fs::write(app.join("models/have.safetensors"), body(2_000_000)).unwrap();
    let script = home.write(
        "a",
        "s.js",
        r#"module.exports = { run: [ { method: "hf.download", params: { _: ["org/model"], "local-dir": "models", exclude: "*.bin" } } ] }"#,
    );
    let e = home.engine();
    let env = |free: &str, full: bool| {
        let mut vars = vec![
            ("HF_ENDPOINT".to_string(), srv.url("")),
            (disk::FREE_OVERRIDE_VAR.to_string(), free.to_string()),
        ];
        if full {
            vars.push(("FAKE_HF_FULL".into(), "1".into()));
        }
        e.set_app_env("a", vars);
    };
    // 3 MB to fetch (the .bin is excluded, have.safetensors is there): 6 MB with the margin.
    env("5M", false);
    let (r, _) = run(&e, &script, json!({}), json!({}));
    let msg = r.unwrap_err().to_string();
    assert_disk_full(&msg, &disk::space(&app).unwrap().mount);
    assert!(msg.contains("hf.download of org/model: disk full"), "{msg}");
    assert!(msg.contains("6.0 MB needed, 5.0 free"), "{msg}");
    assert!(!app.join("hf-args.txt").exists(), "the CLI ran anyway");

    env("7M", false);
    let (r, ev) = run(&e, &script, json!({}), json!({}));
    r.unwrap_or_else(|e| panic!("{e}\n{}", output(&ev)));
    let args = std::fs::read_to_string(app.join("hf-args.txt")).unwrap();
    assert!(args.starts_with("download org/model"), "{args}");

    // Out of disk half way: the same message, and no partial file kept.
    env("7M", true);
    let (r, ev) = run(&e, &script, json!({}), json!({}));
    let msg = r.unwrap_err().to_string();
    assert!(
        msg.contains("hf.download of org/model stopped: disk full on "),
        "{msg}\n{}",
        output(&ev)
    );
    assert!(msg.contains("6.0 MB needed"), "{msg}");
    let partial = app.join("models/.cache/huggingface/download/unet/a.safetensors.incomplete");
    assert!(!partial.exists(), "the partial file is left behind");
}
