//! `requires`: what a script (or its app's `pinokio.js`) needs on the
//! machine before its first step.
//!
//! Pinokio's forms: `requires: {bundle: "ai"}` (a named set of machine
//! prerequisites) and `requires: [{type: "conda", name: "ffmpeg", args:
//! "-c conda-forge"}, {gpu: "nvidia", name: "cuda"}, …]`. Entries whose
//! `platform`/`gpu`/`arch` filter (a string or a list) doesn't match the
//! machine are skipped. Our reading, since Pinokio installs these into its
//! own bundled conda and we use the machine's tools instead:
//!
//! * bundle `ai` (and any other bundle name but `dev`): `python3`, `git`,
//!   uv (only with acceleration on, installed on demand) and, on NVIDIA
//!   machines, CUDA (see below). Bundle `dev`: `python3`, `git`, `node`,
//!   `npm`, uv (with acceleration).
//! * `type: "conda"` or no type: the conda-package mapping of
//!   [`super::conda::PACKAGES`] (ffmpeg → `ffmpeg` on PATH, …); a name with
//!   no mapping must be an executable on PATH.
//! * `cuda` (and the cuda/cudnn conda names): the NVIDIA driver
//!   (`nvidia-smi`) or the toolkit (`nvcc`). pip's torch wheels bring the
//!   CUDA runtime, so a driver is enough to run.
//!
//! What can be satisfied is: uv (installed into the home) and apt packages
//! when running as root with `apt-get`. Everything else missing fails the
//! run before its first step with one error listing each item and its fix.

use std::collections::BTreeMap;
use std::process::Command;

use serde::Serialize;
use serde_json::Value;

use super::{conda, tail, which_in, Layout, PythonError};
use crate::sys::SystemInfo;

/// One applicable prerequisite.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Requirement {
    /// `conda`, `bin`, `uv` or `cuda`.
    pub kind: String,
    pub name: String,
}

/// A requirement and whether this machine has it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RequirementStatus {
    #[serde(flatten)]
    pub requirement: Requirement,
    pub present: bool,
    /// How to get it, when it is missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// The requirements `requires` declares that apply to `sys`, bundles expanded.
pub fn declared(requires: &Value, sys: &SystemInfo, accelerated: bool) -> Vec<Requirement> {
    let entries: Vec<&Value> = match requires {
        Value::Array(a) => a.iter().collect(),
        Value::Object(_) => vec![requires],
        _ => vec![],
    };
    let mut out = vec![];
    for e in entries.into_iter().filter(|e| applies(e, sys)) {
        if let Some(b) = e.get("bundle").and_then(Value::as_str) {
            out.extend(bundle(b, sys, accelerated));
            continue;
        }
        let kind = e.get("type").and_then(Value::as_str).unwrap_or("conda");
        let names = crate::util::string_or_list(e.get("name")).unwrap_or_default();
        out.extend(names.into_iter().map(|n| entry(kind, &n)));
    }
    out.dedup();
    out
}

fn req(kind: &str, name: &str) -> Requirement {
    Requirement {
        kind: kind.into(),
        name: name.into(),
    }
}

fn entry(kind: &str, name: &str) -> Requirement {
    match conda::package(name) {
        Some(("@cuda", _)) => req("cuda", &conda::bare_name(name)),
        Some(("uv", _)) => req("uv", "uv"),
        _ if kind == "bin" => req("bin", name),
        _ => req("conda", &conda::bare_name(name)),
    }
}

fn bundle(name: &str, sys: &SystemInfo, accelerated: bool) -> Vec<Requirement> {
    let mut v = vec![req("bin", "python3"), req("bin", "git")];
    if name == "dev" {
        v.extend([req("bin", "node"), req("bin", "npm")]);
    } else if sys.gpu == "nvidia" {
        v.push(req("cuda", "cuda"));
    }
    if accelerated {
        v.push(req("uv", "uv"));
    }
    v
}

/// Whether an entry's `platform`/`gpu`/`arch` filters match the machine.
fn applies(e: &Value, sys: &SystemInfo) -> bool {
    let matches = |key: &str, actual: &str| match e.get(key) {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s == actual,
        Some(Value::Array(a)) => a.iter().any(|v| v.as_str() == Some(actual)),
        Some(_) => true,
    };
    matches("platform", &sys.platform) && matches("gpu", &sys.gpu) && matches("arch", &sys.arch)
}

/// Side-effect-free status of each requirement (for plans and checks).
pub fn statuses(
    reqs: &[Requirement],
    env: &BTreeMap<String, String>,
    layout: &Layout,
) -> Vec<RequirementStatus> {
    let path = env.get("PATH").cloned().unwrap_or_default();
    reqs.iter()
        .map(|r| {
            let present = present(r, &path, layout);
            RequirementStatus {
                requirement: r.clone(),
                present,
                fix: (!present).then(|| fix(r)),
            }
        })
        .collect()
}

fn present(r: &Requirement, path: &str, layout: &Layout) -> bool {
    let has = |bin: &str| which_in(bin, path).is_some();
    match r.kind.as_str() {
        "uv" => super::uv::locate(layout, path).is_some(),
        "cuda" => has("nvidia-smi") || has("nvcc"),
        "conda" => match conda::package(&r.name) {
            Some((bin, _)) => has(bin),
            None => has(&r.name),
        },
        _ => has(&r.name),
    }
}

/// The apt package that provides a requirement, if we know one.
fn apt_package(r: &Requirement) -> Option<&'static str> {
    match r.kind.as_str() {
        "conda" => conda::package(&r.name).map(|(_, apt)| apt),
        "bin" => match r.name.as_str() {
            "python3" => Some("python3-venv"),
            "git" => Some("git"),
            "node" | "npm" => Some("nodejs npm"),
            _ => None,
        },
        _ => None,
    }
    .filter(|a| !a.is_empty())
}

fn fix(r: &Requirement) -> String {
    match (r.kind.as_str(), apt_package(r)) {
        ("uv", _) => "turn Python acceleration on (uv installs itself), or `pip install uv`".into(),
        ("cuda", _) => "use a machine with an NVIDIA GPU and driver (nvidia-smi), or install the CUDA toolkit (nvcc)".into(),
        (_, Some(apt)) => format!("`apt-get install -y {apt}` (as root), or install conda/micromamba"),
        ("conda", None) => format!(
            "conda isn't installed here and `{}` has no mapping to a system package: install it yourself so it is on PATH, or install conda",
            r.name
        ),
        _ => format!("install `{}` so it is on PATH", r.name),
    }
}

/// Checks `reqs`, installs what can be installed (uv; apt packages as
/// root), and fails with every missing item and its fix.
pub fn check_requirements(
    reqs: &[Requirement],
    env: &BTreeMap<String, String>,
    layout: &Layout,
    say: &dyn Fn(&str),
) -> Result<(), PythonError> {
    let first = statuses(reqs, env, layout);
    let missing: Vec<&RequirementStatus> = first.iter().filter(|s| !s.present).collect();
    if missing.is_empty() {
        return Ok(());
    }
    if missing.iter().any(|s| s.requirement.kind == "uv") {
        super::uv::ensure_uv(layout, env, say)?;
    }
    let apt: Vec<&str> = missing
        .iter()
        .filter_map(|s| apt_package(&s.requirement))
        .flat_map(str::split_whitespace)
        .collect();
    if !apt.is_empty() && can_apt(env) {
        apt_install(&apt, env, say);
    }
    let left: Vec<String> = statuses(reqs, env, layout)
        .into_iter()
        .filter(|s| !s.present)
        .map(|s| {
            format!(
                "  - {} ({}): missing. Fix: {}",
                s.requirement.name,
                s.requirement.kind,
                s.fix.unwrap_or_default()
            )
        })
        .collect();
    match left.is_empty() {
        true => Ok(()),
        false => Err(PythonError::Missing(left)),
    }
}

/// apt is used only as root, with apt-get on PATH.
fn can_apt(env: &BTreeMap<String, String>) -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    root && which_in("apt-get", env.get("PATH").map(String::as_str).unwrap_or("")).is_some()
}

fn apt_install(pkgs: &[&str], env: &BTreeMap<String, String>, say: &dyn Fn(&str)) {
    say(&format!("installing {} with apt-get", pkgs.join(" ")));
    let run = |args: &[&str]| {
        Command::new("apt-get")
            .args(args)
            .env_clear()
            .envs(env)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .output()
    };
    let mut install = vec!["install", "-y"];
    install.extend(pkgs);
    let ok =
        |o: &std::io::Result<std::process::Output>| o.as_ref().is_ok_and(|o| o.status.success());
    let mut out = run(&install);
    if !ok(&out) {
        let _ = run(&["update"]);
        out = run(&install);
    }
    if let Ok(o) = &out {
        let text = String::from_utf8_lossy(&o.stdout) + String::from_utf8_lossy(&o.stderr);
        say(&tail(&text, 5));
    }
}
