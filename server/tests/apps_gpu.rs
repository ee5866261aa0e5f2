//! Scripts see the machine's GPU (here a fake `nvidia-smi`; NVML where a driver is), so
//! torch.js-style branches pick the CUDA build on a GPU box.
//! Its own test binary: it changes PATH for the whole process.

mod apps_common;

use apps_common::*;
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;

#[tokio::test]
async fn scripts_see_the_machines_gpu() {
    let bin = tempfile::tempdir().unwrap();
    let smi = bin.path().join("nvidia-smi");
    std::fs::write(
        &smi,
        r#"#!/bin/sh
case "$*" in
  *--query-gpu=*) echo '0, NVIDIA GeForce RTX 5090, 575.51.03, 100, 32607, 0, 30, GPU-bbbb' ;;
  *--query-compute-apps=*) ;;
  *) echo '| NVIDIA-SMI 575.51.03    Driver Version: 575.51.03    CUDA Version: 12.9 |' ;;
esac
"#,
    )
    .unwrap();
    std::fs::set_permissions(&smi, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap()
    );
    std::env::set_var("PATH", path);

    let f = Fixture::new().await;
    f.put_app(
        "torchy",
        &[(
            "start.json",
            &shell_script(&[
                "echo gpu={{gpu}} model={{gpus[0].model}} blackwell={{kernel.gpus.find(x => / 50.+/.test(x.model)) ? 'yes' : 'no'}}",
            ]),
        )],
    );
    let run = f
        .apps
        .start("torchy", "start.json", Value::Null)
        .await
        .unwrap();
    let record = f.apps.wait(run).await.unwrap();
    assert_eq!(record.outcome.as_deref(), Some("ok"), "{record:?}");
    let log = f.apps.log(run).await.unwrap();
    assert!(
        log.contains("gpu=nvidia model=nvidia geforce rtx 5090 blackwell=yes"),
        "{log}"
    );
}
