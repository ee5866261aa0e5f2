//! GPU stats through fake `nvidia-smi` programs printing real-format output
//! (NVML is off in these tests; without a driver it is unavailable anyway).

use server::cloud;

use cloud::env::{which, FixtureEnv, SystemEnv};
use cloud::gpu::{engine_values, GpuInfo, GpuProbe, GpuProcess, APP_FIELDS, GPU_FIELDS};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::Duration;
use tempfile::TempDir;

const HEADER: &str = r#"Wed May  1 10:00:00 2024
+-----------------------------------------------------------------------------------------+
| NVIDIA-SMI 550.54.15              Driver Version: 550.54.15      CUDA Version: 12.4     |
|-----------------------------------------+------------------------+----------------------+
| GPU  Name                 Persistence-M | Bus-Id          Disp.A | Volatile Uncorr. ECC |
|=========================================+========================+======================|
|   0  NVIDIA GeForce RTX 4090        On  |   00000000:01:00.0 Off |                  Off |
+-----------------------------------------+------------------------+----------------------+"#;

/// A fake `nvidia-smi` that answers the exact queries we send, and fails
/// (like the real one, with a usage error) on anything else.
fn fake_smi(dir: &TempDir, gpus_csv: &str, apps_csv: &str) -> PathBuf {
    let body = format!(
        r#"#!/bin/sh
case "$*" in
  "") cat <<'H'
{HEADER}
H
  ;;
  "--query-gpu={GPU_FIELDS} --format=csv,noheader,nounits") printf '%s' '{gpus_csv}' ;;
  "--query-compute-apps={APP_FIELDS} --format=csv,noheader,nounits") printf '%s' '{apps_csv}' ;;
  *) echo "Invalid combination of input arguments: $*" >&2; exit 2 ;;
esac
"#
    );
    script(dir, &body)
}

fn script(dir: &TempDir, body: &str) -> PathBuf {
    let path = dir.path().join("nvidia-smi");
    std::fs::write(&path, body).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

async fn query(path: PathBuf) -> Vec<GpuInfo> {
    GpuProbe::nvidia_smi_only(path).query().await
}

#[tokio::test]
async fn one_gpu_with_its_processes() {
    let dir = tempfile::tempdir().unwrap();
    let smi = fake_smi(
        &dir,
        "0, NVIDIA GeForce RTX 4090, 550.54.15, 20432, 24564, 87, 66, GPU-5f1b2c3d-1111-2222-3333-444455556666\n",
        "GPU-5f1b2c3d-1111-2222-3333-444455556666, 31337, 20120\n",
    );
    let gpus = query(smi).await;
    assert_eq!(
        gpus,
        vec![GpuInfo {
            index: 0,
            name: "NVIDIA GeForce RTX 4090".into(),
            driver: "550.54.15".into(),
            cuda_version: Some("12.4".into()),
            vram_used_mib: 20432,
            vram_total_mib: 24564,
            utilization_pct: Some(87),
            temperature_c: Some(66),
            processes: vec![GpuProcess {
                pid: 31337,
                used_mib: Some(20120)
            }],
            uuid: Some("GPU-5f1b2c3d-1111-2222-3333-444455556666".into()),
        }]
    );
    let json = serde_json::to_value(&gpus[0]).unwrap();
    assert_eq!(json["vram_total_mib"], 24564);
    assert_eq!(json["processes"][0]["pid"], 31337);
    assert!(json.get("uuid").is_none());
}

#[tokio::test]
async fn two_gpus_keep_their_own_processes() {
    let dir = tempfile::tempdir().unwrap();
    let smi = fake_smi(
        &dir,
        "0, NVIDIA H100 80GB HBM3, 535.129.03, 1, 81559, 0, 31, GPU-aaaa\n\
         1, NVIDIA H100 80GB HBM3, 535.129.03, 40000, 81559, 99, 71, GPU-bbbb\n",
        "GPU-bbbb, 900, 39990\n",
    );
    let gpus = query(smi).await;
    assert_eq!(gpus.len(), 2);
    assert_eq!(gpus[1].index, 1);
    assert_eq!(gpus[0].processes, vec![]);
    assert_eq!(
        gpus[1].processes,
        vec![GpuProcess {
            pid: 900,
            used_mib: Some(39990)
        }]
    );

    let values = engine_values(&gpus, &FixtureEnv::new(), 0);
    assert_eq!(values.gpu, "nvidia");
    assert_eq!(values.gpu_model.as_deref(), Some("NVIDIA H100 80GB HBM3"));
    assert_eq!(values.gpu_driver.as_deref(), Some("535.129.03"));
    assert_eq!(values.vram, 80);
    let json = serde_json::to_value(&values).unwrap();
    assert_eq!(json["gpus"][1]["model"], "NVIDIA H100 80GB HBM3");
    assert_eq!(json["gpus"][1]["vram"], 81559);
}

#[tokio::test]
async fn broken_output_is_no_gpu() {
    let dir = tempfile::tempdir().unwrap();
    let smi = fake_smi(
        &dir,
        "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n",
        "",
    );
    assert_eq!(query(smi).await, vec![]);
}

#[tokio::test]
async fn a_failing_or_missing_binary_is_no_gpu() {
    let dir = tempfile::tempdir().unwrap();
    let smi = script(
        &dir,
        "#!/bin/sh\necho \"NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\"\nexit 9\n",
    );
    assert_eq!(query(smi).await, vec![]);
    assert_eq!(query(dir.path().join("absent/nvidia-smi")).await, vec![]);
    let none = GpuProbe {
        use_nvml: false,
        nvidia_smi: None,
        timeout: Duration::from_secs(1),
    };
    assert_eq!(none.query().await, vec![]);
}

#[tokio::test]
async fn a_hung_nvidia_smi_is_abandoned() {
    let dir = tempfile::tempdir().unwrap();
    let smi = script(&dir, "#!/bin/sh\nexec sleep 30\n");
    let probe = GpuProbe {
        timeout: Duration::from_millis(200),
        ..GpuProbe::nvidia_smi_only(smi)
    };
    let started = std::time::Instant::now();
    assert_eq!(probe.query().await, vec![]);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn missing_header_leaves_cuda_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "#!/bin/sh\ncase \"$*\" in\n  \"--query-gpu={GPU_FIELDS} --format=csv,noheader,nounits\") echo '0, Tesla T4, 535.104.05, 0, 15360, 0, 43, GPU-t4' ;;\n  *) exit 1 ;;\nesac\n"
    );
    let gpus = query(script(&dir, &body)).await;
    assert_eq!(gpus.len(), 1);
    assert_eq!(gpus[0].cuda_version, None);
    assert_eq!(gpus[0].processes, vec![]);
}

#[test]
fn no_gpu_engine_values() {
    let values = engine_values(&[], &FixtureEnv::new(), 16 * 1024 * 1024 * 1024);
    assert_eq!(values.gpus, vec![]);
    assert_eq!(values.vram, 0);
    assert_eq!(values.ram, 16);
    if cfg!(target_os = "linux") {
        assert_eq!(values.gpu, "none");
    }
}

/// On a real NVIDIA machine: NVML and `nvidia-smi` must both see the GPUs
/// and agree. Run there with `cargo test -p server --test cloud_gpu -- --ignored`.
#[tokio::test]
#[ignore = "needs an NVIDIA GPU and driver"]
async fn real_gpu_nvml_and_nvidia_smi_agree() {
    let timeout = Duration::from_secs(20);
    let nvml = GpuProbe {
        use_nvml: true,
        nvidia_smi: None,
        timeout,
    }
    .query()
    .await;
    let smi_path = which("nvidia-smi", &SystemEnv).expect("nvidia-smi on PATH");
    let smi = GpuProbe::nvidia_smi_only(smi_path).query().await;
    println!("nvml: {}", serde_json::to_string_pretty(&nvml).unwrap());
    println!(
        "nvidia-smi: {}",
        serde_json::to_string_pretty(&smi).unwrap()
    );
    println!(
        "uuids: {:?} / {:?}",
        nvml.iter().map(|g| &g.uuid).collect::<Vec<_>>(),
        smi.iter().map(|g| &g.uuid).collect::<Vec<_>>()
    );
    println!(
        "platform: {}",
        serde_json::to_string_pretty(&cloud::platform::report(&SystemEnv, 42000)).unwrap()
    );
    assert!(!nvml.is_empty(), "NVML found no GPU");
    assert_eq!(nvml.len(), smi.len());
    for (a, b) in nvml.iter().zip(&smi) {
        assert_eq!((a.index, &a.name, &a.driver), (b.index, &b.name, &b.driver));
        assert_eq!(a.cuda_version, b.cuda_version);
        assert!(a.cuda_version.is_some());
        assert_eq!(a.uuid, b.uuid);
        assert!(a.vram_total_mib > 0);
        assert!(
            a.vram_total_mib.abs_diff(b.vram_total_mib) * 100 <= b.vram_total_mib,
            "{a:?} vs {b:?}"
        );
        assert!(a.temperature_c.is_some() && b.temperature_c.is_some());
        assert!(a.utilization_pct.is_some() && b.utilization_pct.is_some());
    }
    let values =
        cloud::gpu::engine_values(&nvml, &SystemEnv, cloud::resources::total_memory_bytes());
    println!("engine: {}", serde_json::to_string_pretty(&values).unwrap());
    assert_eq!(values.gpu, "nvidia");
}
