//! The machine: platform, public address, tunnel, GPUs and load history.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SystemStatus {
    pub platform: PlatformView,
    pub tunnel: Option<TunnelView>,
    pub gpus: Vec<GpuView>,
    /// Oldest first, one point per sampling interval.
    pub history: Vec<LoadPoint>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlatformView {
    pub name: String,
    pub home: String,
    /// The platform's judgement of its default home; `None` when the user
    /// chose another with `--home` (we cannot tell then).
    pub home_is_persistent: Option<bool>,
    pub persistent_home: Option<String>,
    /// The front door as the platform exposes it (no token).
    pub public_url: Option<String>,
    pub tunnels_allowed: bool,
    pub warnings: Vec<String>,
    pub ssh_hint: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TunnelView {
    pub provider: String,
    /// `starting`, `up`, `restarting`, `failed`, `stopped`, `off`.
    pub state: String,
    pub url: Option<String>,
    pub detail: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GpuView {
    pub index: u32,
    pub name: String,
    pub driver: String,
    pub cuda_version: Option<String>,
    pub vram_used_mib: u64,
    pub vram_total_mib: u64,
    pub utilization_pct: Option<u32>,
    pub temperature_c: Option<u32>,
    pub processes: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoadPoint {
    pub at_unix_ms: u64,
    pub cpu_pct: f32,
    pub ram_used_bytes: u64,
    pub ram_total_bytes: u64,
    pub disk_used_bytes: u64,
    pub disk_total_bytes: u64,
}

#[server(endpoint = "view/system_status")]
pub async fn load_system_status() -> Result<SystemStatus, ServerFnError> {
    super::auth::ssr::require(crate::auth::Role::Viewer)?;
    super::auth::ssr::backend()?
        .0
        .system_status()
        .await
        .map_err(ServerFnError::new)
}
