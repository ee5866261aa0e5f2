//! Facts about the machine that templates and `kernel` expose: platform,
//! arch, GPUs (from `nvidia-smi`, else `rocm-smi`, on PATH), RAM. Plans
//! override them to preview another machine.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

mod amd;
pub mod disk;

/// One GPU as scripts see it (`kernel.gpus[i].model`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Gpu {
    pub vendor: String,
    pub model: String,
    /// Video memory in MiB.
    pub vram: u64,
}

/// The machine a script runs (or is planned) on.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SystemInfo {
    /// Node-style: `linux`, `darwin`, `win32`.
    pub platform: String,
    /// Node-style: `x64`, `arm64`.
    pub arch: String,
    /// `nvidia`, `amd`, `apple` or `none`.
    pub gpu: String,
    pub gpus: Vec<Gpu>,
    /// Total RAM in GiB.
    pub ram: u64,
    pub cpus: usize,
    /// NVIDIA driver version (`550.54.15`), when there is one.
    #[serde(default)]
    pub gpu_driver: Option<String>,
    /// Newest CUDA the driver runs (`12.4`, from `nvidia-smi`'s header or
    /// NVML), which decides the PyTorch wheels that work here.
    #[serde(default)]
    pub cuda: Option<String>,
    /// Compute target of the selected GPU: `sm_89` (NVIDIA compute
    /// capability 8.9) or `gfx1100` (AMD), what `gpu_target` shows.
    #[serde(default)]
    pub gpu_target: Option<String>,
}

impl SystemInfo {
    /// Reads this machine: OS/arch from the build target, GPUs from
    /// `nvidia-smi` (if on PATH), RAM from `/proc/meminfo`.
    pub fn detect() -> Self {
        let platform = match std::env::consts::OS {
            "macos" => "darwin",
            "windows" => "win32",
            other => other,
        }
        .to_string();
        let arch = match std::env::consts::ARCH {
            "x86_64" => "x64",
            "aarch64" => "arm64",
            other => other,
        }
        .to_string();
        let (mut gpus, mut gpu_driver) = nvidia_gpus();
        let cuda = gpu_driver.as_ref().and_then(|_| nvidia_cuda());
        let mut gpu_target = (!gpus.is_empty()).then(nvidia_target).flatten();
        if gpus.is_empty() {
            let amd = amd::gpus();
            (gpus, gpu_driver, gpu_target) = (amd.gpus, amd.driver, amd.target);
        }
        let gpu = if gpus.iter().any(|g| g.vendor == "nvidia") {
            "nvidia"
        } else if gpus.iter().any(|g| g.vendor == "amd") {
            "amd"
        } else if let Some(g) = gpus.first() {
            g.vendor.as_str()
        } else if platform == "darwin" && arch == "arm64" {
            "apple"
        } else {
            "none"
        }
        .to_string();
        let cpus = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        SystemInfo {
            platform,
            arch,
            gpu,
            gpus,
            ram: ram_gib(),
            cpus,
            gpu_driver,
            cuda,
            gpu_target,
        }
    }

    /// The same machine seen as another platform/GPU, for plans.
    pub fn with_overrides(mut self, platform: Option<&str>, gpu: Option<&str>) -> Self {
        if let Some(p) = platform {
            self.platform = p.to_string();
            if p == "darwin" {
                self.arch = "arm64".into();
            }
        }
        if let Some(g) = gpu {
            self.gpu = g.to_string();
            self.gpus = match g {
                "nvidia" if !self.gpus.iter().any(|x| x.vendor == "nvidia") => {
                    vec![Gpu {
                        vendor: "nvidia".into(),
                        model: "NVIDIA GeForce RTX 4090".into(),
                        vram: 24564,
                    }]
                }
                "nvidia" => self.gpus,
                "amd" => vec![Gpu {
                    vendor: "amd".into(),
                    model: "AMD Radeon RX 7900 XTX".into(),
                    vram: 24576,
                }],
                "apple" => vec![Gpu {
                    vendor: "apple".into(),
                    model: "Apple M2".into(),
                    vram: 0,
                }],
                _ => vec![],
            };
            if g != "nvidia" {
                (self.gpu_driver, self.cuda) = (None, None);
                self.gpu_target = (g == "amd").then(|| "gfx1100".into());
            } else if self.gpu_driver.is_none() {
                (self.gpu_driver, self.cuda) = (Some("570.86.10".into()), Some("12.8".into()));
                self.gpu_target = Some("sm_89".into());
            }
        }
        self
    }

    /// The GPU Pinokio selects: the first of the `gpu` vendor (for AMD the
    /// one with the most VRAM), else the first one.
    pub fn selected_gpu(&self) -> Option<&Gpu> {
        let same = || self.gpus.iter().filter(|g| g.vendor == self.gpu);
        let pick = if self.gpu == "amd" {
            same().max_by_key(|g| g.vram)
        } else {
            same().next()
        };
        pick.or(self.gpus.first())
    }

    /// Model of the selected GPU, if any, as the probe reports it (scripts
    /// see it lowercased: `gpu_model`).
    pub fn gpu_model(&self) -> Option<&str> {
        self.selected_gpu().map(|g| g.model.as_str())
    }

    /// Total VRAM of the selected GPU in GiB (rounded), 0 without one.
    pub fn vram_gib(&self) -> u64 {
        self.selected_gpu()
            .map(|g| (g.vram + 512) / 1024)
            .unwrap_or(0)
    }
}

/// GPUs and the driver version, from `nvidia-smi`.
fn nvidia_gpus() -> (Vec<Gpu>, Option<String>) {
    let Some(out) = smi(&[
        "--query-gpu=name,memory.total,driver_version",
        "--format=csv,noheader,nounits",
    ]) else {
        return (vec![], None);
    };
    let mut driver = None;
    let gpus = out
        .lines()
        .filter_map(|l| {
            let mut fields = l.split(',').map(str::trim);
            let (name, mem) = (fields.next()?, fields.next()?);
            driver = driver.take().or(fields.next().map(String::from));
            Some(Gpu {
                vendor: "nvidia".into(),
                model: name.to_string(),
                vram: mem.parse().unwrap_or(0),
            })
        })
        .collect();
    (gpus, driver.filter(|d| !d.is_empty()))
}

/// `sm_89` from the first GPU's compute capability (`8.9`); `None` where the
/// driver is too old to report it (the query then fails or prints junk).
fn nvidia_target() -> Option<String> {
    let out = smi(&["--query-gpu=compute_cap", "--format=csv,noheader"])?;
    let cap = out.lines().next()?.trim();
    let (major, minor) = cap.split_once('.')?;
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    (digits(major) && digits(minor)).then(|| format!("sm_{major}{minor}"))
}

/// The `CUDA Version: 12.4` of `nvidia-smi`'s header.
fn nvidia_cuda() -> Option<String> {
    let header = smi(&[])?;
    let (_, rest) = header.split_once("CUDA Version:")?;
    let version: String = rest
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    (!version.is_empty()).then_some(version)
}

fn smi(args: &[&str]) -> Option<String> {
    smi_output("nvidia-smi", args)
}

/// Standard output of a probe program on PATH, when it succeeds.
fn smi_output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(which(program)?).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn ram_gib() -> u64 {
    let text = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let kb: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    (kb + 512 * 1024) / (1024 * 1024)
}

/// Finds an executable on PATH.
pub fn which(name: &str) -> Option<PathBuf> {
    if name.contains('/') {
        return is_exec(Path::new(name)).then(|| PathBuf::from(name));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| is_exec(p))
}

fn is_exec(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// A free TCP port on 127.0.0.1, searching upward from `start`.
pub fn free_port(start: u16) -> u16 {
    (start..u16::MAX)
        .find(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok())
        .unwrap_or(start)
}
