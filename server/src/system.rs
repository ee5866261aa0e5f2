//! What the System page shows: the platform report, the tunnel's state, GPUs
//! and a short history of machine load, gathered in one place.

use crate::cloud::gpu::{self, GpuInfo};
use crate::cloud::platform::PlatformReport;
use crate::cloud::resources::{ResourceSnapshot, Sampler};
use crate::cloud::tunnel::Tunnel;
use app::api::{GpuView, LoadPoint, PlatformView, SystemStatus, TunnelView};
use app::live::SystemTick;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::{watch, Mutex as AsyncMutex};

/// GPU queries run `nvidia-smi`: share one answer between close polls.
const GPU_CACHE: Duration = Duration::from_millis(1500);

pub struct SystemMonitor {
    platform: PlatformReport,
    /// The home in use (may differ from the platform's default).
    home: std::path::PathBuf,
    tunnel: Option<Tunnel>,
    load: Sampler<ResourceSnapshot>,
    gpus: AsyncMutex<Option<(Instant, Vec<GpuInfo>)>>,
    /// Tunnel state when none runs, e.g. why none was started.
    no_tunnel_reason: Mutex<Option<String>>,
}

impl SystemMonitor {
    pub fn new(
        platform: PlatformReport,
        home: std::path::PathBuf,
        tunnel: Option<Tunnel>,
        load: Sampler<ResourceSnapshot>,
        no_tunnel_reason: Option<String>,
    ) -> SystemMonitor {
        SystemMonitor {
            platform,
            home,
            tunnel,
            load,
            gpus: AsyncMutex::new(None),
            no_tunnel_reason: Mutex::new(no_tunnel_reason),
        }
    }

    pub async fn status(&self) -> SystemStatus {
        SystemStatus {
            platform: platform_view(&self.platform, &self.home),
            tunnel: self.tunnel_view(),
            gpus: self.gpus().await.iter().map(gpu_view).collect(),
            history: self.load.history().iter().map(load_point).collect(),
        }
    }

    /// What the live channel sends on each beat: the newest load sample,
    /// GPUs and the tunnel (the history the page already has).
    pub async fn tick(&self) -> SystemTick {
        SystemTick {
            seq: 0,
            now: crate::store::now(),
            load: self.load.latest().as_ref().map(load_point),
            gpus: self.gpus().await.iter().map(gpu_view).collect(),
            tunnel: self.tunnel_view(),
        }
    }

    /// Changes with every new load sample: the live channel's beat.
    pub fn samples(&self) -> watch::Receiver<Option<ResourceSnapshot>> {
        self.load.subscribe()
    }

    async fn gpus(&self) -> Vec<GpuInfo> {
        let mut cache = self.gpus.lock().await;
        if let Some((at, gpus)) = cache.as_ref() {
            if at.elapsed() < GPU_CACHE {
                return gpus.clone();
            }
        }
        let gpus = gpu::gpus().await;
        *cache = Some((Instant::now(), gpus.clone()));
        gpus
    }

    fn tunnel_view(&self) -> Option<TunnelView> {
        let Some(tunnel) = &self.tunnel else {
            let reason = self
                .no_tunnel_reason
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()?;
            return Some(TunnelView {
                provider: "none".into(),
                state: "off".into(),
                url: None,
                detail: Some(reason),
            });
        };
        let provider = tunnel.kind().binary_name().to_string();
        let summary = tunnel.state().summary();
        let (state, url, detail) = (summary.state, summary.url, summary.detail);
        Some(TunnelView {
            provider,
            state: state.into(),
            url,
            detail,
        })
    }
}

fn platform_view(report: &PlatformReport, home: &std::path::Path) -> PlatformView {
    let default_home = report
        .home
        .canonicalize()
        .unwrap_or_else(|_| report.home.clone());
    PlatformView {
        name: report.name.clone(),
        home: home.display().to_string(),
        home_is_persistent: (default_home == home).then_some(report.home_is_persistent),
        persistent_home: report
            .persistent_home
            .as_ref()
            .map(|p| p.display().to_string()),
        public_url: report.public_url.clone(),
        tunnels_allowed: report.tunnels_allowed,
        warnings: report.warnings.clone(),
        ssh_hint: report.ssh_hint.clone(),
    }
}

fn gpu_view(gpu: &GpuInfo) -> GpuView {
    GpuView {
        index: gpu.index,
        name: gpu.name.clone(),
        driver: gpu.driver.clone(),
        cuda_version: gpu.cuda_version.clone(),
        vram_used_mib: gpu.vram_used_mib,
        vram_total_mib: gpu.vram_total_mib,
        utilization_pct: gpu.utilization_pct,
        temperature_c: gpu.temperature_c,
        processes: gpu.processes.len(),
    }
}

fn load_point(s: &ResourceSnapshot) -> LoadPoint {
    LoadPoint {
        at_unix_ms: s.at_unix_ms,
        cpu_pct: s.cpu_pct,
        ram_used_bytes: s.ram_used_bytes,
        ram_total_bytes: s.ram_total_bytes,
        disk_used_bytes: s.disk_used_bytes,
        disk_total_bytes: s.disk_total_bytes,
    }
}
