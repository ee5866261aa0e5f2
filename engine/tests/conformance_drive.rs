//! C-127: `fs.link` and its older name `fs.share`, the virtual drive
//! (spec §6.4): shared folders between peer apps and shared venv packages.

mod common;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use common::*;
use serde_json::{json, Value};

/// Writes `<app>/.git/config` with an origin URL (how peers name apps).
fn set_origin(home: &Home, app: &str, url: &str) {
    home.write(
        app,
        ".git/config",
        &format!("[core]\n\tbare = false\n[remote \"origin\"]\n\turl = {url}\n"),
    );
}

/// Runs one step in `app` and returns the terminal text; panics on failure.
fn step(home: &Home, app: &str, method: &str, params: Value) -> String {
    let script = home.write(
        app,
        "link.json",
        &json!({ "run": [{ "method": method, "params": params }] }).to_string(),
    );
    let (r, events) = run(&home.engine(), &script, json!({}), json!({}));
    let out = plain_output(&events);
    r.unwrap_or_else(|e| panic!("{method} failed: {e}\n{out}"));
    out
}

fn peer_drives(home: &Home) -> Vec<PathBuf> {
    let dir = home.path().join("drive/drives/peers");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn is_link(p: &Path) -> bool {
    std::fs::symlink_metadata(p)
        .map(|m| m.file_type().is_symlink())
        .unwrap_or(false)
}

/// All regular files under `dir` (following no links), relative paths.
fn files(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, d: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(d).unwrap().filter_map(|e| e.ok()) {
            let m = std::fs::symlink_metadata(e.path()).unwrap();
            if m.is_dir() {
                walk(base, &e.path(), out);
            } else if m.is_file() {
                out.push(
                    e.path()
                        .strip_prefix(base)
                        .unwrap()
                        .to_string_lossy()
                        .into(),
                );
            }
        }
    }
    let mut out = vec![];
    walk(dir, dir, &mut out);
    out.sort();
    out
}

const COMFY: &str = "https://github.com/example/ComfyUI.git";
const FORGE: &str = "https://github.com/example/forge";

fn models_mapping() -> Value {
    json!({ "checkpoints": "app/models/checkpoints", "loras": ["app/models/loras", "app/models/LyCORIS"] })
}

#[test]
fn c127_fs_share_is_the_older_name_of_fs_link() {
    let home = Home::new();
    home.write(
        "comfy",
        "app/models/checkpoints/sd15.safetensors",
        "weights",
    );
    let out = step(
        &home,
        "comfy",
        "fs.share",
        json!({ "drive": models_mapping() }),
    );
    let drives = peer_drives(&home);
    assert_eq!(drives.len(), 1, "{out}");
    let name = drives[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(
        name.starts_with('d') && name[1..].parse::<u128>().is_ok(),
        "{name}"
    );
    let app = home.path().join("api/comfy/app/models");
    for p in ["checkpoints", "loras", "LyCORIS"] {
        assert!(is_link(&app.join(p)), "{p} is a link\n{out}");
    }
    assert_eq!(
        std::fs::read_to_string(drives[0].join("checkpoints/sd15.safetensors")).unwrap(),
        "weights"
    );
    assert_eq!(
        std::fs::read_to_string(app.join("checkpoints/sd15.safetensors")).unwrap(),
        "weights",
        "the app still sees its file through the link"
    );
    // Two paths of one name share one drive folder.
    std::fs::write(app.join("loras/x.pt"), "l").unwrap();
    assert!(app.join("LyCORIS/x.pt").is_file());
    assert!(
        out.contains("drive folder") && out.contains("(new)"),
        "{out}"
    );
}

#[test]
fn c127_drive_peers_join_the_first_existing_peer_drive() {
    let home = Home::new();
    set_origin(&home, "comfy", COMFY);
    set_origin(&home, "forge", FORGE);
    set_origin(&home, "other", "https://github.com/example/other.git");
    // Two drives exist: comfy's and other's (made without peers).
    step(
        &home,
        "comfy",
        "fs.link",
        json!({ "drive": models_mapping() }),
    );
    step(
        &home,
        "other",
        "fs.link",
        json!({ "drive": { "checkpoints": "ckpt" } }),
    );
    assert_eq!(peer_drives(&home).len(), 2);
    let comfy_drive = peer_drives(&home)[0].clone();
    // forge names a missing repo, then comfy (any spelling), then other:
    // it joins comfy's drive, the first that exists in its list.
    let out = step(
        &home,
        "forge",
        "fs.link",
        json!({ "drive": models_mapping(), "peers": [
            "https://github.com/example/not-installed.git",
            "http://github.com/Example/comfyui/",
            "https://github.com/example/other.git" ] }),
    );
    assert_eq!(peer_drives(&home).len(), 2, "no new drive\n{out}");
    assert!(
        out.contains("shared with https://github.com/example/comfyui"),
        "{out}"
    );
    let forge_ckpt = home.path().join("api/forge/app/models/checkpoints");
    assert_eq!(
        forge_ckpt.canonicalize().unwrap(),
        comfy_drive.join("checkpoints").canonicalize().unwrap()
    );
    // A model placed through one app is visible in the other.
    std::fs::write(forge_ckpt.join("model.safetensors"), "m").unwrap();
    assert_eq!(
        std::fs::read_to_string(
            home.path()
                .join("api/comfy/app/models/checkpoints/model.safetensors")
        )
        .unwrap(),
        "m"
    );
    // The record says who links the drive.
    let report = engine::drive::report(&home.path().join("drive")).unwrap();
    let shared = report
        .peers
        .iter()
        .find(|p| p.folder == comfy_drive)
        .unwrap();
    assert!(shared
        .repos
        .contains(&"https://github.com/example/forge".to_string()));
    let apps: Vec<&str> = shared.links.iter().map(|l| l.record.app.as_str()).collect();
    assert!(
        apps.contains(&"comfy") && apps.contains(&"forge"),
        "{apps:?}"
    );
    assert!(shared.links.iter().all(|l| l.live));
}

#[test]
fn c127_drive_merge_keeps_every_file_on_a_name_clash() {
    let home = Home::new();
    set_origin(&home, "comfy", COMFY);
    set_origin(&home, "forge", FORGE);
    home.write(
        "comfy",
        "app/models/checkpoints/x.safetensors",
        "from comfy",
    );
    home.write("comfy", "app/models/checkpoints/same.bin", "same bytes");
    step(
        &home,
        "comfy",
        "fs.link",
        json!({ "drive": { "checkpoints": "app/models/checkpoints" } }),
    );
    home.write(
        "forge",
        "app/models/checkpoints/x.safetensors",
        "from forge",
    );
    home.write("forge", "app/models/checkpoints/same.bin", "same bytes");
    home.write("forge", "app/models/checkpoints/sub/y.bin", "y");
    home.write("forge", "app/models/checkpoints/only-forge.bin", "f");
    let out = step(
        &home,
        "forge",
        "fs.link",
        json!({ "drive": { "checkpoints": "app/models/checkpoints" }, "peers": [COMFY] }),
    );
    let drive = peer_drives(&home)[0].join("checkpoints");
    assert_eq!(
        files(&drive),
        [
            "only-forge.bin",
            "same.bin",
            "sub/y.bin",
            "x (forge).safetensors",
            "x.safetensors"
        ],
        "{out}"
    );
    assert_eq!(
        std::fs::read_to_string(drive.join("x.safetensors")).unwrap(),
        "from comfy"
    );
    assert_eq!(
        std::fs::read_to_string(drive.join("x (forge).safetensors")).unwrap(),
        "from forge"
    );
    assert!(out.contains("name clash"), "{out}");
    assert!(out.contains("1 duplicate files dropped"), "{out}");
}

#[test]
fn c127_rerunning_install_leaves_links_alone_and_duplicates_nothing() {
    let home = Home::new();
    set_origin(&home, "comfy", COMFY);
    home.write("comfy", "app/models/checkpoints/a.bin", "a");
    let params = json!({ "drive": models_mapping(), "peers": [FORGE] });
    step(&home, "comfy", "fs.link", params.clone());
    let link = home.path().join("api/comfy/app/models/checkpoints");
    let before = std::fs::read_link(&link).unwrap();
    let out = step(&home, "comfy", "fs.link", params);
    assert_eq!(std::fs::read_link(&link).unwrap(), before);
    assert_eq!(peer_drives(&home).len(), 1);
    assert!(
        out.contains("already linked") && !out.contains("linked /"),
        "{out}"
    );
    assert_eq!(files(&peer_drives(&home)[0]), ["checkpoints/a.bin"]);
    let report = engine::drive::report(&home.path().join("drive")).unwrap();
    assert_eq!(report.peers[0].links.len(), 3, "one record per path");
}

#[test]
fn c127_drive_skips_absolute_and_dot_paths_like_pinokio() {
    let home = Home::new();
    let out = step(
        &home,
        "a",
        "fs.link",
        json!({ "drive": { "x": "/etc", "y": "./models", "z": "models" } }),
    );
    assert!(!Path::new("/etc")
        .symlink_metadata()
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(is_link(&home.path().join("api/a/models")));
    assert!(!home.path().join("api/a/y").exists());
    assert_eq!(out.matches("skipped").count(), 2, "{out}");
}

// ---- venv -------------------------------------------------------------

/// A package `name` `version` in `site`: files `(rel, text)`, plus a
/// dist-info with METADATA and a RECORD listing everything.
fn install_pkg(site: &Path, name: &str, version: &str, files: &[(&str, &str)]) {
    let di = format!("{name}-{version}.dist-info");
    let mut record = String::new();
    let mut all: Vec<(String, String)> = files
        .iter()
        .map(|(p, t)| (p.to_string(), t.to_string()))
        .collect();
    all.push((
        format!("{di}/METADATA"),
        format!("Name: {name}\nVersion: {version}\n"),
    ));
    all.push((format!("{di}/INSTALLER"), "pip\n".into()));
    for (rel, text) in &all {
        let p = site.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        let h = text.bytes().fold(1469598103934665603u64, |h, b| {
            (h ^ b as u64).wrapping_mul(1099511628211)
        });
        record.push_str(&format!("{rel},sha256={h:x},{}\n", text.len()));
    }
    record.push_str(&format!("{di}/RECORD,,\n../../../bin/{name},sha256=s,3\n"));
    std::fs::write(site.join(&di).join("RECORD"), record).unwrap();
}

fn site(home: &Home, app: &str) -> PathBuf {
    let s = home.app(app).join("env/lib/python3.11/site-packages");
    std::fs::create_dir_all(&s).unwrap();
    s
}

fn python_can_import(site: &Path, code: &str) -> String {
    let out = std::process::Command::new("python3")
        .args(["-c", code])
        .env("PYTHONPATH", site)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn store(home: &Home, rel: &str) -> PathBuf {
    home.path().join("drive/drives/pip").join(rel)
}

fn same_inode(a: &Path, b: &Path) -> bool {
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.ino() == y.ino() && x.dev() == y.dev(),
        _ => false,
    }
}

#[test]
fn c127_venv_packages_go_to_the_drive_and_identical_copies_are_reused() {
    let home = Home::new();
    let foo = [
        ("foo/__init__.py", "VALUE = 'foo one'\n"),
        ("foo/sub/data.txt", "d"),
    ];
    let a = site(&home, "a");
    install_pkg(&a, "foo", "1.0", &foo);
    install_pkg(&a, "six", "1.16.0", &[("six.py", "X = 6\n")]);
    // Two distributions share `nvidia/`: each stores only its own part.
    let nv = |n: &str| format!("N='{n}'\n");
    install_pkg(
        &a,
        "nvidia_x",
        "2",
        &[
            ("nvidia/__init__.py", ""),
            ("nvidia/x/__init__.py", &nv("x")),
        ],
    );
    install_pkg(
        &a,
        "nvidia_y",
        "2",
        &[
            ("nvidia/__init__.py", ""),
            ("nvidia/y/__init__.py", &nv("y")),
        ],
    );
    let out = step(&home, "a", "fs.link", json!({ "venv": "env" }));
    assert!(out.contains("4 packages stored"), "{out}");
    // Same filesystem: the venv's files and the store's are one inode.
    let foo_store = store(&home, "foo/1.0/lib/python3.11/site-packages");
    for rel in [
        "foo/__init__.py",
        "foo/sub/data.txt",
        "foo-1.0.dist-info/METADATA",
    ] {
        assert!(
            same_inode(&a.join(rel), &foo_store.join(rel)),
            "{rel}\n{out}"
        );
    }
    let six_store = store(&home, "six/1.16.0/lib/python3.11/site-packages");
    assert!(same_inode(&a.join("six.py"), &six_store.join("six.py")));
    let nx = store(&home, "nvidia-x/2/lib/python3.11/site-packages/nvidia");
    assert!(same_inode(
        &a.join("nvidia/x/__init__.py"),
        &nx.join("x/__init__.py")
    ));
    assert!(!nx.join("y").exists(), "each stores only its own part");
    assert_eq!(
        python_can_import(
            &a,
            "import foo, six, nvidia.x, nvidia.y; print(foo.VALUE, six.X, nvidia.x.N, nvidia.y.N)"
        ),
        "foo one 6 x y"
    );

    // App b has the identical foo: its copy is dropped for the drive's.
    let b = site(&home, "b");
    install_pkg(&b, "foo", "1.0", &foo);
    let out = step(&home, "b", "fs.link", json!({ "venv": "env" }));
    assert!(out.contains("1 reused an identical copy"), "{out}");
    assert!(same_inode(
        &b.join("foo/__init__.py"),
        &foo_store.join("foo/__init__.py")
    ));
    assert_eq!(
        std::fs::metadata(a.join("foo/__init__.py"))
            .unwrap()
            .nlink(),
        3
    );
    // An upgrade in one venv (pip unlinks a file, then writes it) leaves
    // the other venvs' copy alone.
    std::fs::remove_file(b.join("foo/__init__.py")).unwrap();
    std::fs::write(b.join("foo/__init__.py"), "VALUE = 'upgraded in b'\n").unwrap();
    assert_eq!(
        python_can_import(&a, "import foo; print(foo.VALUE)"),
        "foo one"
    );
    assert_eq!(
        python_can_import(&b, "import foo; print(foo.VALUE)"),
        "upgraded in b"
    );

    // App c has another build of foo 1.0: it gets its own store folder.
    let c = site(&home, "c");
    install_pkg(
        &c,
        "foo",
        "1.0",
        &[("foo/__init__.py", "VALUE = 'other build'\n")],
    );
    step(&home, "c", "fs.link", json!({ "venv": "env" }));
    let builds: Vec<String> = std::fs::read_dir(store(&home, "foo"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(builds.len(), 2, "{builds:?}");
    let other = builds.iter().find(|b| b.as_str() != "1.0").unwrap();
    assert!(other.starts_with("1.0-") && other.len() == 12, "{other}");
    let c_store = store(&home, &format!("foo/{other}/lib/python3.11/site-packages"));
    assert!(same_inode(
        &c.join("foo/__init__.py"),
        &c_store.join("foo/__init__.py")
    ));
    assert_eq!(
        python_can_import(&c, "import foo; print(foo.VALUE)"),
        "other build"
    );
    assert_eq!(
        python_can_import(&a, "import foo; print(foo.VALUE)"),
        "foo one"
    );

    // Re-running changes nothing.
    let out = step(&home, "a", "fs.link", json!({ "venv": "env" }));
    assert!(
        out.contains("0 packages stored") && out.contains("4 already linked"),
        "{out}"
    );
}

#[test]
fn c127_venv_package_changed_after_install_stays_in_the_venv() {
    let home = Home::new();
    let a = site(&home, "a");
    install_pkg(&a, "foo", "1.0", &[("foo/__init__.py", "VALUE = 1\n")]);
    std::fs::write(
        a.join("foo/__init__.py"),
        "VALUE = 'patched by the launcher'\n",
    )
    .unwrap();
    let out = step(&home, "a", "fs.link", json!({ "venv": "env" }));
    assert!(!store(&home, "foo").exists(), "{out}");
    assert!(
        out.contains("kept foo 1.0 in the venv: foo/__init__.py changed since install"),
        "{out}"
    );
}

#[test]
fn c127_venv_hardlinked_from_uv_cache_is_recorded_not_moved() {
    let home = Home::new();
    let cache = home.path().join("uvcache");
    let entry = cache.join("archive-v0/Ab12Cd");
    install_pkg(&entry, "bar", "2.0", &[("bar/__init__.py", "B = 2\n")]);
    let a = site(&home, "a");
    // uv links the wheel's files from its cache and writes its own
    // INSTALLER and RECORD.
    std::fs::create_dir_all(a.join("bar")).unwrap();
    std::fs::create_dir_all(a.join("bar-2.0.dist-info")).unwrap();
    for rel in ["bar/__init__.py", "bar-2.0.dist-info/METADATA"] {
        std::fs::hard_link(entry.join(rel), a.join(rel)).unwrap();
    }
    for rel in ["bar-2.0.dist-info/INSTALLER", "bar-2.0.dist-info/RECORD"] {
        std::fs::copy(entry.join(rel), a.join(rel)).unwrap();
    }
    home.write(
        "a",
        "ENVIRONMENT",
        &format!("UV_CACHE_DIR={}\n", cache.display()),
    );
    let out = step(&home, "a", "fs.link", json!({ "venv": "env" }));
    assert!(!is_link(&a.join("bar")), "nothing moved\n{out}");
    assert_eq!(
        std::fs::metadata(a.join("bar/__init__.py")).unwrap().ino(),
        std::fs::metadata(entry.join("bar/__init__.py"))
            .unwrap()
            .ino()
    );
    assert!(out.contains("1 hardlinked from uv's cache"), "{out}");
    assert!(out.contains("hardlinks of its cache"), "{out}");
    let report = engine::drive::report(&home.path().join("drive")).unwrap();
    let rec = &report.venvs.values().next().unwrap().packages["bar"];
    assert_eq!(rec.how, engine::drive::Sharing::UvCache);
    assert_eq!(rec.place.as_deref(), Some(entry.as_path()));
    assert!(!store(&home, "bar").exists());
}

#[test]
fn c127_real_pip_venv_is_shared_and_still_imports() {
    let home = Home::new();
    let wheels = home.path().join("wheels");
    let wheel = make_wheel(&wheels);
    let engine = home.engine();
    engine.set_acceleration(false);
    let script = home.write(
        "a",
        "install.json",
        &json!({ "run": [
            { "method": "shell.run", "params": { "venv": "env", "message":
                format!("pip install --no-index {}", wheels.join(wheel).display()) } },
            { "method": "fs.link", "params": { "venv": "env" } },
            { "method": "shell.run", "params": { "venv": "env", "message":
                "python -c \"import tinypkg; print('IMPORT', tinypkg.hello())\"" } }
        ] })
        .to_string(),
    );
    let (r, events) = run(&engine, &script, json!({}), json!({}));
    let out = plain_output(&events);
    r.unwrap_or_else(|e| panic!("{e}\n{out}"));
    assert!(out.contains("IMPORT hello from tinypkg"), "{out}");
    let site = std::fs::read_dir(home.path().join("api/a/env/lib"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .join("site-packages");
    let rel = site.strip_prefix(home.path().join("api/a/env")).unwrap();
    let stored = store(&home, "tinypkg/0.1").join(rel);
    assert!(
        same_inode(
            &site.join("tinypkg/__init__.py"),
            &stored.join("tinypkg/__init__.py")
        ),
        "{out}"
    );
}

#[test]
fn c127_release_app_forgets_its_links_and_deletes_no_data() {
    let home = Home::new();
    set_origin(&home, "comfy", COMFY);
    set_origin(&home, "forge", FORGE);
    set_origin(&home, "solo", "https://github.com/example/solo");
    home.write("comfy", "app/models/checkpoints/a.bin", "a");
    step(
        &home,
        "comfy",
        "fs.link",
        json!({ "drive": { "checkpoints": "app/models/checkpoints" } }),
    );
    step(
        &home,
        "forge",
        "fs.link",
        json!({ "drive": { "checkpoints": "app/models/checkpoints" }, "peers": [COMFY] }),
    );
    step(
        &home,
        "solo",
        "fs.link",
        json!({ "drive": { "out": "outputs" } }),
    );
    let root = home.path().join("drive");
    // A renamed app keeps its links (they are relative) and its records follow.
    let (old, new) = (
        home.path().join("api/forge"),
        home.path().join("api/forge2"),
    );
    std::fs::rename(&old, &new).unwrap();
    engine::drive::move_app(&root, &old, &new).unwrap();
    let report = engine::drive::report(&root).unwrap();
    let forge = report.peers[0]
        .links
        .iter()
        .find(|l| l.record.app == "forge2")
        .unwrap();
    assert!(
        forge.live && forge.record.path.starts_with(&new),
        "{forge:?}"
    );
    assert_eq!(
        std::fs::read_to_string(new.join("app/models/checkpoints/a.bin")).unwrap(),
        "a"
    );
    std::fs::rename(&new, &old).unwrap();
    engine::drive::move_app(&root, &new, &old).unwrap();
    for app in ["comfy", "solo"] {
        let dir = home.path().join("api").join(app);
        std::fs::remove_dir_all(&dir).unwrap();
        let released = engine::drive::release_app(&root, &dir).unwrap();
        if app == "comfy" {
            assert_eq!(released.shared.len(), 1, "{released:?}");
        } else {
            assert_eq!(released.unused.len(), 1, "{released:?}");
            assert!(released.unused[0].is_dir(), "kept");
        }
    }
    assert_eq!(
        std::fs::read_to_string(home.path().join("api/forge/app/models/checkpoints/a.bin"))
            .unwrap(),
        "a"
    );
    let report = engine::drive::report(&root).unwrap();
    let apps: Vec<&str> = report
        .peers
        .iter()
        .flat_map(|p| &p.links)
        .map(|l| l.record.app.as_str())
        .collect();
    assert_eq!(apps, ["forge"]);
}

/// A drive on another filesystem (`PINOKIO_DRIVE=/mnt/...`): folders are
/// copied there (a rename cannot cross filesystems) and packages are
/// symlinked, as Pinokio does, with a warning about upgrades.
#[test]
fn c127_drive_on_another_filesystem_moves_by_copy_and_symlinks_packages() {
    use std::os::unix::fs::MetadataExt;
    let home = Home::new();
    let Ok(other) = tempfile::tempdir_in("/dev/shm") else {
        eprintln!("skipped: no /dev/shm to hold a drive on another filesystem");
        return;
    };
    let dev = |p: &Path| std::fs::metadata(p).unwrap().dev();
    if dev(other.path()) == dev(home.path()) {
        eprintln!("skipped: /dev/shm is on the home's filesystem here");
        return;
    }
    home.write(
        "a",
        "ENVIRONMENT",
        &format!("PINOKIO_DRIVE={}\n", other.path().display()),
    );
    home.write("a", "app/models/m.bin", "model");
    let a = site(&home, "a");
    install_pkg(&a, "foo", "1.0", &[("foo/__init__.py", "VALUE = 'far'\n")]);
    step(
        &home,
        "a",
        "fs.link",
        json!({ "drive": { "models": "app/models" } }),
    );
    let out = step(&home, "a", "fs.link", json!({ "venv": "env" }));
    let models = home.path().join("api/a/app/models");
    assert!(is_link(&models));
    assert_eq!(
        std::fs::read_to_string(models.join("m.bin")).unwrap(),
        "model"
    );
    assert!(models.canonicalize().unwrap().starts_with(other.path()));
    assert!(is_link(&a.join("foo")), "{out}");
    assert!(out.contains("another filesystem"), "{out}");
    assert_eq!(python_can_import(&a, "import foo; print(foo.VALUE)"), "far");
    let again = step(&home, "a", "fs.link", json!({ "venv": "env" }));
    assert!(again.contains("1 already linked"), "{again}");
}
