//! The disk guard before installs (issue #10, item 3): a warning when what
//! installs typically take does not fit the free space, naming what could be
//! freed; none when it fits. Free space is pretended with
//! `PINOKIOCLOUD_DISK_FREE` (home ENVIRONMENT, or the CLI's environment).

mod apps_common;
mod support;

use std::path::Path;
use std::process::Command;

use apps_common::{git_repo, PINOKIO_JS};
use server::storage::guard::install_space;
use server::store::Store;
use support::BIN;

fn environment(home: &Path, text: &str) {
    std::fs::write(home.join("ENVIRONMENT"), text).unwrap();
}

#[tokio::test]
async fn an_install_that_would_not_fit_is_warned_about_with_what_could_be_freed() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let store = Store::open(home).await.unwrap();
    std::fs::create_dir_all(home.join("cache/uv/wheels")).unwrap();
    std::fs::write(home.join("cache/uv/wheels/torch.whl"), vec![7u8; 300_000]).unwrap();

    environment(home, "PINOKIOCLOUD_DISK_FREE=8.2G\n");
    let space = install_space(home, &store).await.unwrap();
    assert_eq!(space.free, 8_200_000_000);
    assert!(space.cache_bytes >= 300_000, "{space:?}");
    let warning = space.warning().expect("8.2 GB is short of ~13 GB");
    let mount = &space.mount;
    assert!(
        warning.starts_with(&format!(
            "Only 8.2 GB free on {mount}: installs typically need ~12 GB"
        )),
        "{warning}"
    );
    assert!(warning.contains("MB of download caches"), "{warning}");
    assert!(
        warning.contains("on the Storage page (/storage)"),
        "{warning}"
    );

    environment(home, "PINOKIOCLOUD_DISK_FREE=100G\n");
    let space = install_space(home, &store).await.unwrap();
    assert!(space.fits() && space.warning().is_none(), "{space:?}");

    // The estimate is a setting: smaller apps fit the same disk.
    environment(
        home,
        "PINOKIOCLOUD_DISK_FREE=8.2G\nPINOKIOCLOUD_INSTALL_ESTIMATE=5G\n",
    );
    let space = install_space(home, &store).await.unwrap();
    assert_eq!(space.estimate, 5_000_000_000);
    assert_eq!(space.warning(), None);
}

fn cli_install(home: &Path, url: &str, extra: &[&str], free: &str) -> (bool, String, String) {
    let out = Command::new(BIN)
        .args(["install", url])
        .args(extra)
        .arg("--home")
        .arg(home)
        .env_remove("PINOKIOCLOUD_HOME")
        .env("PINOKIOCLOUD_DISK_FREE", free)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_cli_warns_on_stderr_and_installs_anyway() {
    let home = tempfile::tempdir().unwrap();
    let (_repo, url) = git_repo("guarded-app", &[("pinokio.js", PINOKIO_JS)]);
    let (ok, out, err) = cli_install(home.path(), &url, &[], "1G");
    assert!(ok && out.contains("installed guarded-app"), "{out}{err}");
    assert!(err.contains("warning: Only 1.0 GB free on "), "{err}");
    assert!(err.contains("--no-disk-check"), "{err}");

    let (ok, out, err) = cli_install(home.path(), &url, &["--no-disk-check"], "1G");
    assert!(ok && out.contains("installed guarded-app-2"), "{out}{err}");
    assert!(!err.contains("free on"), "{err}");

    let (ok, _, err) = cli_install(home.path(), &url, &[], "500G");
    assert!(ok && !err.contains("warning:"), "{err}");
}
