//! GPU facts for the dashboard and the engine: NVML first, then
//! `nvidia-smi`. No GPU (no driver, no binary, broken output) is an empty
//! list, never an error.
//!
//! `nvidia-smi --query-gpu=… --format=csv,noheader,nounits` prints one line
//! per GPU, fields separated by `, `, unavailable values as `[N/A]` or
//! `[Not Supported]`; its plain header names the CUDA version
//! (`| NVIDIA-SMI 550.54.15   Driver Version: 550.54.15   CUDA Version: 12.4 |`).

use crate::cloud::env::{which, Env, SystemEnv};
use nvml_wrapper::enum_wrappers::device::TemperatureSensor;
use nvml_wrapper::enums::device::UsedGpuMemory;
use nvml_wrapper::Nvml;
use regex::Regex;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

/// Fields asked of `nvidia-smi --query-gpu`, in this order.
pub const GPU_FIELDS: &str =
    "index,name,driver_version,memory.used,memory.total,utilization.gpu,temperature.gpu,uuid";
/// Fields asked of `nvidia-smi --query-compute-apps`, in this order.
pub const APP_FIELDS: &str = "gpu_uuid,pid,used_memory";

const MIB: u64 = 1024 * 1024;

/// A process using a GPU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GpuProcess {
    pub pid: u32,
    /// `None` where the driver does not report it.
    pub used_mib: Option<u64>,
}

/// One GPU, as the dashboard shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GpuInfo {
    pub index: u32,
    pub name: String,
    pub driver: String,
    pub cuda_version: Option<String>,
    pub vram_used_mib: u64,
    pub vram_total_mib: u64,
    pub utilization_pct: Option<u32>,
    pub temperature_c: Option<u32>,
    pub processes: Vec<GpuProcess>,
    /// Ties processes to the GPU; not shown.
    #[serde(skip)]
    pub uuid: Option<String>,
}

/// Where GPU facts come from.
#[derive(Debug, Clone)]
pub struct GpuProbe {
    pub use_nvml: bool,
    /// `nvidia-smi` to fall back to; `None` when not installed.
    pub nvidia_smi: Option<PathBuf>,
    /// Longest wait for one `nvidia-smi` call (a wedged GPU can hang it).
    pub timeout: Duration,
}

impl GpuProbe {
    /// NVML, then `nvidia-smi` from `PATH`.
    pub fn system() -> Self {
        GpuProbe {
            use_nvml: true,
            nvidia_smi: which("nvidia-smi", &SystemEnv),
            timeout: Duration::from_secs(10),
        }
    }

    /// Only the given `nvidia-smi` (tests, or a known path).
    pub fn nvidia_smi_only(path: impl Into<PathBuf>) -> Self {
        GpuProbe {
            use_nvml: false,
            nvidia_smi: Some(path.into()),
            timeout: Duration::from_secs(10),
        }
    }

    /// Every GPU; empty without one.
    pub async fn query(&self) -> Vec<GpuInfo> {
        if self.use_nvml {
            let from_nvml = tokio::task::spawn_blocking(nvml_gpus).await.ok().flatten();
            if let Some(gpus) = from_nvml {
                return gpus;
            }
        }
        match &self.nvidia_smi {
            Some(smi) => smi_gpus(smi, self.timeout).await,
            None => Vec::new(),
        }
    }
}

/// Every GPU of this machine; empty without one.
pub async fn gpus() -> Vec<GpuInfo> {
    GpuProbe::system().query().await
}

// ---- NVML ----

fn nvml() -> Option<&'static Nvml> {
    static NVML: OnceLock<Option<Nvml>> = OnceLock::new();
    NVML.get_or_init(|| match Nvml::init() {
        Ok(nvml) => Some(nvml),
        Err(err) => {
            tracing::debug!("NVML unavailable ({err}); falling back to nvidia-smi");
            None
        }
    })
    .as_ref()
}

/// `None` when NVML cannot be used at all.
fn nvml_gpus() -> Option<Vec<GpuInfo>> {
    let nvml = nvml()?;
    let count = nvml.device_count().ok()?;
    let driver = nvml.sys_driver_version().unwrap_or_default();
    let cuda = nvml.sys_cuda_driver_version().ok().map(cuda_from_int);
    Some(
        (0..count)
            .filter_map(|i| nvml_device(nvml, i, &driver, &cuda))
            .collect(),
    )
}

fn nvml_device(nvml: &Nvml, index: u32, driver: &str, cuda: &Option<String>) -> Option<GpuInfo> {
    let device = nvml.device_by_index(index).ok()?;
    let memory = device.memory_info().ok()?;
    let processes = device
        .running_compute_processes()
        .unwrap_or_default()
        .into_iter()
        .map(|p| GpuProcess {
            pid: p.pid,
            used_mib: match p.used_gpu_memory {
                UsedGpuMemory::Used(bytes) => Some(bytes / MIB),
                UsedGpuMemory::Unavailable => None,
            },
        })
        .collect();
    Some(GpuInfo {
        index,
        name: device.name().unwrap_or_default(),
        driver: driver.to_string(),
        cuda_version: cuda.clone(),
        vram_used_mib: memory.used / MIB,
        vram_total_mib: memory.total / MIB,
        utilization_pct: device.utilization_rates().ok().map(|u| u.gpu),
        temperature_c: device.temperature(TemperatureSensor::Gpu).ok(),
        processes,
        uuid: device.uuid().ok(),
    })
}

/// NVML's `12040` → `"12.4"`.
pub fn cuda_from_int(version: i32) -> String {
    format!("{}.{}", version / 1000, (version % 1000) / 10)
}

// ---- nvidia-smi ----

async fn smi_gpus(smi: &Path, timeout: Duration) -> Vec<GpuInfo> {
    let query = format!("--query-gpu={GPU_FIELDS}");
    let Some(csv) = run(smi, &[&query, "--format=csv,noheader,nounits"], timeout).await else {
        return Vec::new();
    };
    let mut gpus = parse_gpu_csv(&csv);
    if gpus.is_empty() {
        return gpus;
    }
    let cuda = run(smi, &[], timeout)
        .await
        .and_then(|h| parse_cuda_version(&h));
    let apps_query = format!("--query-compute-apps={APP_FIELDS}");
    let apps = run(
        smi,
        &[&apps_query, "--format=csv,noheader,nounits"],
        timeout,
    )
    .await
    .map(|text| parse_apps_csv(&text))
    .unwrap_or_default();
    for gpu in &mut gpus {
        gpu.cuda_version = cuda.clone();
    }
    attach_processes(&mut gpus, apps);
    gpus
}

/// The program's stdout when it exits successfully within `timeout`.
async fn run(program: &Path, args: &[&str], timeout: Duration) -> Option<String> {
    let output = tokio::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    match tokio::time::timeout(timeout, output).await {
        Ok(Ok(out)) if out.status.success() => Some(String::from_utf8_lossy(&out.stdout).into()),
        Ok(Ok(out)) => {
            tracing::debug!("{} {args:?} failed: {}", program.display(), out.status);
            None
        }
        Ok(Err(err)) => {
            tracing::debug!("cannot run {}: {err}", program.display());
            None
        }
        Err(_) => {
            tracing::warn!(
                "{} {args:?} took over {timeout:?}; ignoring GPUs",
                program.display()
            );
            None
        }
    }
}

/// Parses `--query-gpu=GPU_FIELDS` output; malformed lines are skipped.
pub fn parse_gpu_csv(text: &str) -> Vec<GpuInfo> {
    text.lines().filter_map(parse_gpu_line).collect()
}

fn parse_gpu_line(line: &str) -> Option<GpuInfo> {
    let fields: Vec<&str> = line.split(',').map(str::trim).collect();
    let [index, name, driver, used, total, util, temp, rest @ ..] = fields.as_slice() else {
        return None;
    };
    Some(GpuInfo {
        index: index.parse().ok()?,
        name: name.to_string(),
        driver: driver.to_string(),
        cuda_version: None,
        vram_used_mib: used.parse().ok()?,
        vram_total_mib: total.parse().ok()?,
        utilization_pct: util.parse().ok(),
        temperature_c: temp.parse().ok(),
        processes: Vec::new(),
        uuid: rest
            .first()
            .filter(|u| u.starts_with("GPU-"))
            .map(|u| u.to_string()),
    })
}

/// The `CUDA Version: X.Y` of `nvidia-smi`'s header.
pub fn parse_cuda_version(header: &str) -> Option<String> {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    let pattern =
        PATTERN.get_or_init(|| Regex::new(r"CUDA Version:\s*([0-9]+(?:\.[0-9]+)*)").unwrap());
    pattern.captures(header).map(|c| c[1].to_string())
}

/// One compute process as `--query-compute-apps=APP_FIELDS` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppLine {
    pub gpu_uuid: String,
    pub process: GpuProcess,
}

/// Parses `--query-compute-apps=APP_FIELDS` output.
pub fn parse_apps_csv(text: &str) -> Vec<AppLine> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            let [uuid, pid, used] = fields.as_slice() else {
                return None;
            };
            Some(AppLine {
                gpu_uuid: uuid.to_string(),
                process: GpuProcess {
                    pid: pid.parse().ok()?,
                    used_mib: used.parse().ok(),
                },
            })
        })
        .collect()
}

/// Gives each GPU its processes (by UUID; a lone GPU takes them all).
fn attach_processes(gpus: &mut [GpuInfo], apps: Vec<AppLine>) {
    let lone = gpus.len() == 1;
    for app in apps {
        let target = gpus
            .iter_mut()
            .position(|g| g.uuid.as_deref() == Some(app.gpu_uuid.as_str()))
            .or(lone.then_some(0));
        if let Some(i) = target {
            gpus[i].processes.push(app.process);
        }
    }
}

// ---- engine values ----

/// One GPU as Pinokio scripts see it (`kernel.gpus[i]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EngineGpu {
    pub vendor: String,
    pub model: String,
    /// Video memory in MiB.
    pub vram: u64,
}

/// The values the Pinokio engine exposes as `kernel.gpu`, `kernel.gpus`, …
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EngineGpuValues {
    /// `nvidia`, `amd`, `apple` or `none`.
    pub gpu: String,
    pub gpus: Vec<EngineGpu>,
    pub gpu_model: Option<String>,
    pub gpu_driver: Option<String>,
    /// Newest CUDA the driver runs (NVML or `nvidia-smi`'s header).
    pub cuda: Option<String>,
    /// VRAM of the first GPU in GiB (rounded), 0 without one.
    pub vram: u64,
    /// Total RAM in GiB (rounded).
    pub ram: u64,
}

/// Engine values from `gpus`; AMD is recognised by the ROCm device
/// `/dev/kfd`, Apple by the build target. `ram_bytes` is total memory.
pub fn engine_values(gpus: &[GpuInfo], env: &dyn Env, ram_bytes: u64) -> EngineGpuValues {
    let gpu = if !gpus.is_empty() {
        "nvidia"
    } else if env.path_exists(Path::new("/dev/kfd")) {
        "amd"
    } else if cfg!(all(target_os = "macos", target_arch = "aarch64")) {
        "apple"
    } else {
        "none"
    };
    let engine_gpus: Vec<EngineGpu> = gpus
        .iter()
        .map(|g| EngineGpu {
            vendor: "nvidia".into(),
            model: g.name.clone(),
            vram: g.vram_total_mib,
        })
        .collect();
    EngineGpuValues {
        gpu: gpu.into(),
        gpu_model: gpus.first().map(|g| g.name.clone()),
        gpu_driver: gpus.first().map(|g| g.driver.clone()),
        cuda: gpus.first().and_then(|g| g.cuda_version.clone()),
        vram: engine_gpus.first().map_or(0, |g| (g.vram + 512) / 1024),
        ram: (ram_bytes + 512 * MIB) / (1024 * MIB),
        gpus: engine_gpus,
    }
}

/// Engine values for this machine right now.
pub async fn engine_values_now() -> EngineGpuValues {
    let gpus = gpus().await;
    let ram = crate::cloud::resources::total_memory_bytes();
    engine_values(&gpus, &SystemEnv, ram)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::env::FixtureEnv;

    const TWO: &str = "0, NVIDIA A100-SXM4-80GB, 550.54.15, 1024, 81920, 37, 45, GPU-aaaa\n\
                       1, NVIDIA A100-SXM4-80GB, 550.54.15, 0, 81920, [N/A], [Not Supported], GPU-bbbb\n";

    #[test]
    fn parses_two_gpus_with_unavailable_values() {
        let gpus = parse_gpu_csv(TWO);
        assert_eq!(gpus.len(), 2);
        assert_eq!(gpus[0].name, "NVIDIA A100-SXM4-80GB");
        assert_eq!(gpus[0].utilization_pct, Some(37));
        assert_eq!(gpus[1].utilization_pct, None);
        assert_eq!(gpus[1].temperature_c, None);
        assert_eq!(gpus[1].uuid.as_deref(), Some("GPU-bbbb"));
    }

    #[test]
    fn processes_go_to_their_gpu() {
        let mut gpus = parse_gpu_csv(TWO);
        let apps = parse_apps_csv("GPU-bbbb, 4242, 2048\nGPU-aaaa, 7, [N/A]\n");
        attach_processes(&mut gpus, apps);
        assert_eq!(
            gpus[0].processes,
            vec![GpuProcess {
                pid: 7,
                used_mib: None
            }]
        );
        assert_eq!(
            gpus[1].processes,
            vec![GpuProcess {
                pid: 4242,
                used_mib: Some(2048)
            }]
        );
    }

    #[test]
    fn cuda_versions() {
        assert_eq!(cuda_from_int(12040), "12.4");
        assert_eq!(cuda_from_int(11080), "11.8");
        let header = "| NVIDIA-SMI 550.54.15              Driver Version: 550.54.15      CUDA Version: 12.4     |";
        assert_eq!(parse_cuda_version(header).as_deref(), Some("12.4"));
        assert_eq!(parse_cuda_version("no header"), None);
    }

    #[test]
    fn engine_values_round_like_the_engine() {
        let gpus = parse_gpu_csv(TWO);
        let values = engine_values(&gpus, &FixtureEnv::new(), 83 * 1024 * MIB + 100);
        assert_eq!(values.gpu, "nvidia");
        assert_eq!(values.vram, 80);
        assert_eq!(values.ram, 83);
        assert_eq!(values.gpus.len(), 2);
        assert_eq!(values.gpu_driver.as_deref(), Some("550.54.15"));
        let amd = engine_values(&[], &FixtureEnv::new().with_path("/dev/kfd"), 0);
        assert_eq!(amd.gpu, "amd");
        assert_eq!(amd.gpu_model, None);
        assert_eq!(amd.vram, 0);
    }
}
