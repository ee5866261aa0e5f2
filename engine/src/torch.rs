//! Which PyTorch build fits this machine. Launchers pick a wheel index in
//! their `torch.js` (`--index-url https://download.pytorch.org/whl/cu121`)
//! from the platform and GPU alone; a cloud GPU's driver may be too old for
//! that build, and the failure only shows after gigabytes of download, as
//! `torch.cuda.is_available() == False`. This check reads a script's plan
//! before it runs and compares each torch index with the driver.

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;
use serde_json::Value;

use crate::plan::PlanEntry;
use crate::sys::SystemInfo;

/// PyTorch's CUDA wheel indexes, oldest first, with the CUDA toolkit they
/// bundle and the oldest Linux driver that toolkit's release supports
/// (NVIDIA's CUDA release notes, table 3).
const CUDA_BUILDS: [(&str, (u32, u32), &str); 12] = [
    ("cu102", (10, 2), "440.33"),
    ("cu111", (11, 1), "455.23"),
    ("cu113", (11, 3), "465.19.01"),
    ("cu116", (11, 6), "510.39.01"),
    ("cu117", (11, 7), "515.43.04"),
    ("cu118", (11, 8), "520.61.05"),
    ("cu121", (12, 1), "530.30.02"),
    ("cu124", (12, 4), "550.54.14"),
    ("cu126", (12, 6), "560.28.03"),
    ("cu128", (12, 8), "570.26"),
    ("cu129", (12, 9), "575.51.03"),
    ("cu130", (13, 0), "580.65.06"),
];

/// Oldest driver that runs any toolkit of a CUDA major version through
/// minor-version compatibility (works for most kernels, not PTX JIT).
const MINOR_COMPAT: [(u32, &str); 3] = [(11, "450.80.02"), (12, "525.60.13"), (13, "580.65.06")];

/// How well a torch build fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Fits,
    /// Works with a caveat the user should read.
    Caution,
    /// Will not use the GPU (or not start).
    Incompatible,
}

/// One torch install a script would run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TorchFinding {
    /// Script (relative to the app) and step index of the install.
    pub script: String,
    pub index: usize,
    /// `cu121`, `cpu`, `rocm6.2`, or `pypi` for PyPI's default wheel.
    pub build: String,
    pub verdict: Verdict,
    pub message: String,
}

/// What the machine supports and what the script would install.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TorchCheck {
    pub gpu: String,
    pub driver: Option<String>,
    /// Newest CUDA the driver runs.
    pub cuda: Option<String>,
    /// The wheel index to use here (`cu128`, `cpu`, …).
    pub recommended: String,
    pub findings: Vec<TorchFinding>,
}

impl TorchCheck {
    /// The worst verdict, `Fits` when nothing installs torch.
    pub fn verdict(&self) -> Verdict {
        let worst = |v: Verdict| self.findings.iter().any(|f| f.verdict == v);
        if worst(Verdict::Incompatible) {
            Verdict::Incompatible
        } else if worst(Verdict::Caution) {
            Verdict::Caution
        } else {
            Verdict::Fits
        }
    }
}

/// Checks every torch install in `plan` against `system`.
pub fn check(plan: &[PlanEntry], system: &SystemInfo) -> TorchCheck {
    let machine = &Machine::of(system);
    let findings = plan
        .iter()
        .flat_map(|entry| {
            commands(&entry.params)
                .into_iter()
                .filter_map(torch_build)
                .map(move |build| machine.judge(entry, &build))
        })
        .collect();
    TorchCheck {
        gpu: system.gpu.clone(),
        driver: system.gpu_driver.clone(),
        cuda: machine.cuda.map(|(a, b)| format!("{a}.{b}")),
        recommended: machine.recommended(),
        findings,
    }
}

/// The shell lines of a step (`message` string or array).
fn commands(params: &Value) -> Vec<&str> {
    match params.get("message") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    }
}

/// The build a command installs torch from, if it installs torch.
fn torch_build(cmd: &str) -> Option<String> {
    static INSTALLS_TORCH: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\bpip3?\s+install\b.*(?:^|\s)torch(?:[=<>~!]=?[\w.*+]+)?(?:\s|$)")
            .expect("torch install regex")
    });
    static INDEX: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"download\.pytorch\.org/whl/(?:nightly/|test/)?(cu\d{3}|rocm[\d.]+|cpu|xpu)\b")
            .expect("torch index regex")
    });
    if !INSTALLS_TORCH.is_match(cmd) {
        return None;
    }
    Some(
        INDEX
            .captures(cmd)
            .map_or_else(|| "pypi".to_string(), |c| c[1].to_string()),
    )
}

struct Machine<'a> {
    system: &'a SystemInfo,
    driver: Option<Vec<u32>>,
    cuda: Option<(u32, u32)>,
}

impl<'a> Machine<'a> {
    fn of(system: &'a SystemInfo) -> Self {
        let driver = system.gpu_driver.as_deref().map(version);
        let cuda = system
            .cuda
            .as_deref()
            .and_then(major_minor)
            .or_else(|| driver.as_ref().and_then(|d| cuda_for_driver(d)));
        Machine {
            system,
            driver,
            cuda,
        }
    }

    fn nvidia(&self) -> bool {
        self.system.gpu == "nvidia"
    }

    fn recommended(&self) -> String {
        match self.system.gpu.as_str() {
            "nvidia" => self
                .cuda
                .and_then(|c| {
                    CUDA_BUILDS
                        .iter()
                        .rev()
                        .find(|(_, v, _)| *v <= c)
                        .map(|(tag, ..)| tag.to_string())
                })
                .unwrap_or_else(|| "cpu".into()),
            "amd" => "rocm6.2".into(),
            _ => "cpu".into(),
        }
    }

    fn judge(&self, entry: &PlanEntry, build: &str) -> TorchFinding {
        let (verdict, message) = self.verdict(build);
        TorchFinding {
            script: entry.script.clone(),
            index: entry.index,
            build: build.to_string(),
            verdict,
            message,
        }
    }

    fn verdict(&self, build: &str) -> (Verdict, String) {
        let rec = self.recommended();
        if build == "pypi" {
            return self.cuda_verdict("PyPI's default torch (CUDA 12.x)", (12, 6), &rec);
        }
        if let Some(cuda) = cuda_of(build) {
            return self.cuda_verdict(build, cuda, &rec);
        }
        match (build, self.system.gpu.as_str()) {
            ("cpu", "nvidia") => (
                Verdict::Caution,
                format!("installs CPU-only torch although this machine has an NVIDIA GPU; {rec} would use it"),
            ),
            (b, "nvidia") if b.starts_with("rocm") => (
                Verdict::Incompatible,
                format!("installs an AMD ROCm build of torch on an NVIDIA machine; use {rec}"),
            ),
            _ => (Verdict::Fits, format!("{build} fits this machine")),
        }
    }

    fn cuda_verdict(&self, build: &str, cuda: (u32, u32), rec: &str) -> (Verdict, String) {
        let want = format!("CUDA {}.{}", cuda.0, cuda.1);
        if !self.nvidia() {
            return (
                Verdict::Caution,
                format!("installs {build} ({want}) but there is no NVIDIA GPU here: it runs on the CPU and downloads gigabytes of CUDA libraries for nothing; use {rec}"),
            );
        }
        let (Some(have), Some(driver)) = (self.cuda, self.driver.as_ref()) else {
            return (
                Verdict::Caution,
                format!("installs {build} ({want}); the NVIDIA driver version is unknown, so it was not checked"),
            );
        };
        let shown = self.system.gpu_driver.as_deref().unwrap_or("?");
        let supports = format!("driver {shown} supports CUDA up to {}.{}", have.0, have.1);
        if cuda <= have {
            return (Verdict::Fits, format!("{build} ({want}) fits: {supports}"));
        }
        let compat = MINOR_COMPAT
            .iter()
            .find(|(major, _)| *major == cuda.0)
            .is_some_and(|(_, min)| *driver >= version(min));
        if compat {
            (
                Verdict::Caution,
                format!("{build} needs {want}, newer than this machine's ({supports}); it should run through CUDA minor-version compatibility, but if torch reports 'no kernel image' or PTX errors, switch the index to {rec}"),
            )
        } else {
            (
                Verdict::Incompatible,
                format!("{build} needs {want} but {supports}: torch would not see the GPU; use the {rec} index (https://download.pytorch.org/whl/{rec}) or a machine with a newer driver"),
            )
        }
    }
}

/// `cu121` → 12.1 (PyTorch's tags end in the minor digit).
fn cuda_of(build: &str) -> Option<(u32, u32)> {
    let digits = build.strip_prefix("cu")?;
    let (major, minor) = digits.split_at(digits.len().checked_sub(1)?);
    Some((major.parse().ok()?, minor.parse().ok()?))
}

fn major_minor(v: &str) -> Option<(u32, u32)> {
    let parts = version(v);
    Some((*parts.first()?, parts.get(1).copied().unwrap_or(0)))
}

/// `550.54.15` → `[550, 54, 15]`, compared part by part.
fn version(v: &str) -> Vec<u32> {
    v.split('.').filter_map(|p| p.trim().parse().ok()).collect()
}

/// Newest CUDA a driver supports when only its version is known.
fn cuda_for_driver(driver: &[u32]) -> Option<(u32, u32)> {
    CUDA_BUILDS
        .iter()
        .rev()
        .find(|(_, _, min)| driver >= version(min).as_slice())
        .map(|(_, cuda, _)| *cuda)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn machine(gpu: &str, driver: Option<&str>, cuda: Option<&str>) -> SystemInfo {
        SystemInfo {
            platform: "linux".into(),
            arch: "x64".into(),
            gpu: gpu.into(),
            gpus: vec![],
            ram: 16,
            cpus: 4,
            gpu_driver: driver.map(String::from),
            cuda: cuda.map(String::from),
            gpu_target: None,
        }
    }

    fn step(cmd: &str) -> PlanEntry {
        PlanEntry {
            script: "torch.js".into(),
            index: 0,
            method: "shell.run".into(),
            params: json!({ "message": [cmd] }),
        }
    }

    const CU121: &str = "uv pip install torch==2.3.1 torchvision --index-url https://download.pytorch.org/whl/cu121";

    #[test]
    fn an_index_newer_than_the_driver_is_incompatible_across_majors() {
        let c = check(
            &[step(CU121)],
            &machine("nvidia", Some("470.82.01"), Some("11.4")),
        );
        assert_eq!(c.findings[0].build, "cu121");
        assert_eq!(c.verdict(), Verdict::Incompatible);
        assert!(c.findings[0]
            .message
            .contains("driver 470.82.01 supports CUDA up to 11.4"));
        assert_eq!(c.recommended, "cu113");
    }

    #[test]
    fn same_major_newer_minor_is_a_caution() {
        let c = check(
            &[step(CU121)],
            &machine("nvidia", Some("525.85.12"), Some("12.0")),
        );
        assert_eq!(c.verdict(), Verdict::Caution);
        assert_eq!(c.recommended, "cu118");
    }

    #[test]
    fn a_new_driver_fits_and_recommends_the_newest_index() {
        let c = check(&[step(CU121)], &machine("nvidia", Some("570.86.10"), None));
        assert_eq!(c.cuda.as_deref(), Some("12.8"));
        assert_eq!(c.verdict(), Verdict::Fits);
        assert_eq!(c.recommended, "cu128");
    }

    #[test]
    fn cpu_and_gpu_mismatches() {
        let cpu = "pip install torch --index-url https://download.pytorch.org/whl/cpu";
        let gpu = machine("nvidia", Some("550.54.15"), Some("12.4"));
        assert_eq!(check(&[step(cpu)], &gpu).verdict(), Verdict::Caution);
        let none = machine("none", None, None);
        assert_eq!(check(&[step(cpu)], &none).verdict(), Verdict::Fits);
        let c = check(&[step(CU121)], &none);
        assert_eq!(
            (c.verdict(), c.recommended.as_str()),
            (Verdict::Caution, "cpu")
        );
    }

    #[test]
    fn only_torch_installs_count() {
        for cmd in [
            "pip install -r requirements.txt",
            "pip install torchaudio-utils",
            "python -c 'import torch'",
            "pip install xformers --index-url https://download.pytorch.org/whl/cu121",
        ] {
            assert!(torch_build(cmd).is_none(), "{cmd}");
        }
        assert_eq!(
            torch_build("pip install torch torchvision").as_deref(),
            Some("pypi")
        );
        assert_eq!(
            torch_build("pip3 install --pre torch --index-url https://download.pytorch.org/whl/nightly/cu128").as_deref(),
            Some("cu128")
        );
        assert_eq!(
            torch_build("uv pip install torch==2.4.0+rocm6.1 --index-url https://download.pytorch.org/whl/rocm6.1").as_deref(),
            Some("rocm6.1")
        );
    }

    #[test]
    fn tags_and_versions_parse() {
        assert_eq!(cuda_of("cu118"), Some((11, 8)));
        assert_eq!(cuda_of("cu130"), Some((13, 0)));
        assert_eq!(cuda_of("cpu"), None);
        assert_eq!(cuda_for_driver(&version("535.104.05")), Some((12, 1)));
        assert_eq!(cuda_for_driver(&version("390.1")), None);
    }
}
