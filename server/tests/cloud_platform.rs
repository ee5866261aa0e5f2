//! Platform detection and reports from recorded environments
//! (`fixtures/cloud/platform/*.json`: variables + existing paths).

use server::cloud;

use cloud::env::FixtureEnv;
use cloud::platform::{self, PlatformId, PlatformReport};
use std::path::{Path, PathBuf};

const PORT: u16 = 42000;

fn fixture(name: &str) -> FixtureEnv {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cloud/platform")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    FixtureEnv::from_json(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn report(name: &str) -> PlatformReport {
    platform::report(&fixture(name), PORT)
}

fn report_on(name: &str, port: u16) -> PlatformReport {
    platform::report(&fixture(name), port)
}

fn warned(report: &PlatformReport, needle: &str) -> bool {
    report.warnings.iter().any(|w| w.contains(needle))
}

#[test]
fn colab_uses_fast_disk_and_the_notebook_proxy() {
    let r = report("colab");
    assert_eq!(r.id, PlatformId::Colab);
    assert_eq!(r.home, PathBuf::from("/content/pinokio"));
    assert!(!r.home_is_persistent);
    assert_eq!(r.persistent_home, None);
    assert_eq!(r.public_url, None);
    assert!(
        warned(&r, "google.colab.kernel.proxyPort(42000)"),
        "{:?}",
        r.warnings
    );
    assert!(warned(&r, "mount Google Drive"), "{:?}", r.warnings);
    assert!(r.tunnels_allowed, "discouraged, not forbidden");
    assert!(warned(&r, "free Colab"), "{:?}", r.warnings);
}

#[test]
fn colab_offers_drive_when_mounted() {
    let r = report("colab_drive");
    assert_eq!(
        r.id,
        PlatformId::Colab,
        "COLAB_RELEASE_TAG alone marks Colab"
    );
    assert_eq!(
        r.persistent_home,
        Some(PathBuf::from("/content/drive/MyDrive/pinokio"))
    );
    assert!(warned(&r, "--home /content/drive/MyDrive/pinokio"));
}

#[test]
fn runpod_proxy_url_volume_home_and_ssh() {
    let r = report("runpod");
    assert_eq!(r.id, PlatformId::Runpod);
    assert_eq!(r.home, PathBuf::from("/workspace/pinokio"));
    assert!(r.home_is_persistent);
    assert_eq!(
        r.public_url.as_deref(),
        Some("https://a1b2c3d4e5f6g7-42000.proxy.runpod.net")
    );
    assert!(warned(&r, "Expose HTTP Ports"), "{:?}", r.warnings);
    assert_eq!(
        r.ssh_hint.as_deref(),
        Some("ssh -p 10022 -L 42000:127.0.0.1:42000 root@203.0.113.7")
    );
    assert!(r.tunnels_allowed);
}

#[test]
fn runpod_without_volume_warns_and_uses_home() {
    let r = report("runpod_no_volume");
    assert_eq!(r.id, PlatformId::Runpod);
    assert_eq!(r.home, PathBuf::from("/root/pinokio"));
    assert!(!r.home_is_persistent);
    assert!(warned(&r, "no /workspace volume"));
    assert_eq!(r.ssh_hint, None, "no RUNPOD_PUBLIC_IP");
}

#[test]
fn vast_maps_the_port() {
    let r = report("vast");
    assert_eq!(r.id, PlatformId::Vast);
    assert_eq!(r.home, PathBuf::from("/workspace/pinokio"));
    assert_eq!(r.public_url.as_deref(), Some("http://198.51.100.4:40200"));
    assert!(warned(&r, "plain HTTP"));
    assert_eq!(
        r.ssh_hint.as_deref(),
        Some("ssh -p 40122 -L 42000:127.0.0.1:42000 root@198.51.100.4")
    );
}

#[test]
fn vast_without_a_mapping_says_how_to_add_one() {
    let r = report("vast_unmapped");
    assert_eq!(r.id, PlatformId::Vast, "CONTAINER_ID + VAST_* marks Vast");
    assert_eq!(r.public_url, None);
    assert!(
        warned(&r, "VAST_TCP_PORT_42000 is unset"),
        "{:?}",
        r.warnings
    );
    assert!(warned(&r, "-p 42000:42000"));
    // Port 8080 is mapped on the first instance only.
    assert!(report_on("vast", 8080).public_url.is_some());
    assert!(report_on("vast_unmapped", 8080).public_url.is_none());
}

#[test]
fn lightning_studio_url_and_port_viewer_note() {
    let r = report("lightning");
    assert_eq!(r.id, PlatformId::Lightning);
    assert_eq!(
        r.home,
        PathBuf::from("/teamspace/studios/this_studio/pinokio")
    );
    assert!(r.home_is_persistent);
    assert_eq!(
        r.public_url.as_deref(),
        Some("https://42000-01hq5xyzabcd.cloudspaces.litng.ai")
    );
    assert!(warned(&r, "Port viewer"));
    assert_eq!(
        r.ssh_hint.as_deref(),
        Some("ssh -L 42000:127.0.0.1:42000 s_01hq5xyzabcd@ssh.lightning.ai")
    );
}

#[test]
fn paperspace_publishes_only_6006_and_forbids_tunnels() {
    let on_6006 = report_on("paperspace", 6006);
    assert_eq!(on_6006.id, PlatformId::Paperspace);
    assert_eq!(on_6006.home, PathBuf::from("/storage/pinokio"));
    assert!(on_6006.home_is_persistent);
    assert_eq!(
        on_6006.public_url.as_deref(),
        Some("https://tensorboard-nx7k2m9p4q.clg07azjl.paperspacegradient.com/")
    );
    assert!(!on_6006.tunnels_allowed);

    let r = report("paperspace");
    assert_eq!(r.public_url, None);
    assert!(warned(&r, "--port 6006"), "{:?}", r.warnings);
    assert!(!r.tunnels_allowed);
    assert!(warned(&r, "does not allow tunnels"));

    let notebooks = report("paperspace_notebooks_only");
    assert_eq!(notebooks.home, PathBuf::from("/notebooks/pinokio"));
}

#[test]
fn kaggle_forbids_tunnels_and_is_not_persistent() {
    let r = report("kaggle");
    assert_eq!(r.id, PlatformId::Kaggle);
    assert_eq!(r.home, PathBuf::from("/kaggle/working/pinokio"));
    assert!(!r.home_is_persistent);
    assert!(!r.tunnels_allowed);
    assert_eq!(r.public_url, None);
}

#[test]
fn studio_lab_from_its_user() {
    let r = report("studio_lab");
    assert_eq!(r.id, PlatformId::SagemakerStudioLab);
    assert_eq!(r.home, PathBuf::from("/home/studio-lab-user/pinokio"));
    assert!(r.home_is_persistent);
    assert!(r.tunnels_allowed);
}

#[test]
fn generic_gives_the_ssh_forward() {
    let r = report("generic");
    assert_eq!(r.id, PlatformId::Generic);
    assert_eq!(r.home, PathBuf::from("/home/alice/pinokio"));
    assert_eq!(r.public_url, None);
    assert_eq!(
        r.ssh_hint.as_deref(),
        Some("ssh -p 2222 -L 42000:127.0.0.1:42000 alice@198.51.100.20")
    );
    let bare = platform::report(&FixtureEnv::new().with_var("HOME", "/root"), PORT);
    assert_eq!(
        bare.ssh_hint.as_deref(),
        Some("ssh -L 42000:127.0.0.1:42000 user@host")
    );
}

#[test]
fn folders_alone_never_identify_a_platform() {
    let r = report("bare_workspace");
    assert_eq!(
        r.id,
        PlatformId::Generic,
        "/workspace, /content, /kaggle… are not markers"
    );
    assert_eq!(r.home, PathBuf::from("/root/pinokio"));
    let r = report("container_id_only");
    assert_eq!(
        r.id,
        PlatformId::Generic,
        "CONTAINER_ID without VAST_* is any container"
    );
}

#[test]
fn report_serializes_for_the_dashboard() {
    let json = serde_json::to_value(report("runpod")).unwrap();
    assert_eq!(json["id"], "runpod");
    assert_eq!(json["name"], "RunPod");
    assert_eq!(json["home"], "/workspace/pinokio");
    assert_eq!(json["home_is_persistent"], true);
    assert_eq!(json["tunnels_allowed"], true);
    assert!(json["warnings"].is_array());
    let studio = serde_json::to_value(report("studio_lab")).unwrap();
    assert_eq!(studio["id"], "sagemaker_studio_lab");
    assert_eq!(studio["public_url"], serde_json::Value::Null);
}
