//! `conda:` steps and `conda install` on machines without conda.
//!
//! With a real conda/mamba/micromamba on PATH, a step's `conda` env is
//! created when missing (`create -y -p <path> python=…`, like Pinokio) and
//! activated. Without one (and with acceleration on), the env becomes a uv
//! venv at the same path built from the requested Python, and a `conda`
//! shim goes on PATH that maps `conda install` of common packages onto the
//! system's tools (see [`PACKAGES`]).

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{which_in, Layout};
use crate::methods::quote;

/// A step's `conda` param.
#[derive(Debug, Clone, PartialEq)]
pub struct CondaSpec {
    /// The env: a path (`conda: "env"`, `{path}`) or a name (`{name}`).
    pub target: String,
    pub is_path: bool,
    /// The Python version asked for (`python=3.10` → `3.10`).
    pub python: Option<String>,
    /// `conda.args`: extra words appended to `conda create`.
    pub args: Option<String>,
}

impl CondaSpec {
    /// Reads `conda: "env"` / `{path|name, python, skip}`; None when absent,
    /// empty or skipped.
    pub fn parse(params: &Value) -> Option<Self> {
        let args = params
            .get("conda")
            .and_then(|c| c.get("args"))
            .map(crate::util::scalar_string)
            .filter(|a| !a.trim().is_empty());
        let (target, is_path, python) = match params.get("conda")? {
            Value::String(s) => (s.clone(), true, None),
            Value::Object(o) if !o.get("skip").is_some_and(crate::runner::truthy) => {
                let (t, is_path) = match (o.get("path"), o.get("name")) {
                    (Some(Value::String(p)), _) => (p.clone(), true),
                    (_, Some(Value::String(n))) => (n.clone(), n.contains('/')),
                    _ => return None,
                };
                let py = o.get("python").map(crate::util::scalar_string);
                (t, is_path, py.as_deref().and_then(python_version))
            }
            _ => return None,
        };
        (!target.is_empty()).then_some(CondaSpec {
            target,
            is_path,
            python,
            args,
        })
    }

    /// The env's folder (paths resolve against the shell's cwd).
    pub fn dir(&self, cwd: &Path) -> Option<PathBuf> {
        self.is_path
            .then(|| crate::util::resolve(cwd, &self.target))
    }
}

/// Pinokio's refusal of a `conda` object that names no env.
pub fn check(params: &Value) -> Result<(), String> {
    let Some(Value::Object(o)) = params.get("conda") else {
        return Ok(());
    };
    let names = |k: &str| o.get(k).is_some_and(crate::runner::truthy);
    if names("skip") || names("path") || names("name") {
        return Ok(());
    }
    Err(
        "when specifying conda as an object, the conda.name or conda.path must exist \
         (give {path: \"env\"}, {name: \"myenv\"}, or {skip: true} for no conda env)"
            .into(),
    )
}

/// What `conda.activate` puts in place of the env's activation.
#[derive(Debug, Clone, PartialEq)]
pub enum Activation {
    /// `"minimal"`: just Pinokio's base env.
    Minimal,
    /// The given commands (an array); another string activates nothing.
    Lines(Vec<String>),
}

/// `conda: {path|name, activate}`: the activation it asks for instead of
/// creating and activating the env (as pinokiod, only read beside a path
/// or name, and never with `skip`).
pub fn activation_override(params: &Value) -> Option<Activation> {
    let Some(Value::Object(o)) = params.get("conda") else {
        return None;
    };
    let truthy = |k: &str| o.get(k).is_some_and(crate::runner::truthy);
    if truthy("skip") || !(truthy("path") || truthy("name")) {
        return None;
    }
    match o.get("activate")? {
        Value::String(s) if s == "minimal" => Some(Activation::Minimal),
        Value::Array(items) => Some(Activation::Lines(
            items.iter().map(crate::util::scalar_string).collect(),
        )),
        v if crate::runner::truthy(v) => Some(Activation::Lines(Vec::new())),
        _ => None,
    }
}

/// `python=3.10`, `python==3.10.*`, `3.10` → `3.10`; `python>=3.11` → `>=3.11`.
pub fn python_version(spec: &str) -> Option<String> {
    let s = spec.trim();
    let s = s.strip_prefix("python").unwrap_or(s).trim();
    let s = s
        .strip_prefix("==")
        .or_else(|| s.strip_prefix('='))
        .unwrap_or(s);
    let s = s.trim_end_matches('*').trim_end_matches('.').trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// Which real conda-like tool is installed.
#[derive(Debug, Clone, PartialEq)]
pub struct RealConda {
    pub bin: PathBuf,
    pub name: &'static str,
}

impl RealConda {
    /// The first of conda, mamba, micromamba on `path`, ignoring our shim.
    pub fn find(path: &str, layout: &Layout) -> Option<Self> {
        let shims = layout.shims();
        let path = std::env::join_paths(std::env::split_paths(path).filter(|d| d != &shims))
            .ok()?
            .to_string_lossy()
            .into_owned();
        ["conda", "mamba", "micromamba"]
            .into_iter()
            .find_map(|name| which_in(name, &path).map(|bin| RealConda { bin, name }))
    }

    /// Hook, create-if-missing (path envs), activate.
    pub fn lines(&self, spec: &CondaSpec, cwd: &Path) -> Vec<String> {
        let tool = self.name;
        let hook = match tool {
            "conda" => "eval \"$(conda shell.bash hook)\"".to_string(),
            other => format!("eval \"$({other} shell hook -s bash)\""),
        };
        let mut lines = vec![hook];
        let py = spec.python.as_deref().unwrap_or(super::BASE_PYTHON);
        let mut create = quote(&format!("python={py}"));
        if let Some(args) = &spec.args {
            create = format!("{create} {args}");
        }
        let target = match spec.dir(cwd) {
            Some(dir) => {
                let d = quote(&dir.to_string_lossy());
                lines.push(format!(
                    "if [ ! -d {d} ]; then {tool} create -y -p {d} {create}; fi"
                ));
                d
            }
            None => {
                // Named envs: created with `-n` when `env list` lacks them.
                let n = quote(&spec.target);
                lines.push(format!(
                    "if ! {tool} env list | awk '{{print $1}}' | grep -qxF {n}; then {tool} create -y -n {n} {create}; fi"
                ));
                n
            }
        };
        lines.push(format!("{tool} activate {target}"));
        lines
    }
}

/// What `conda install <pkg>` means without conda: the command that shows
/// the tool is there, and the apt package that provides it. `@cuda` means
/// "report the platform's CUDA (driver via nvidia-smi, toolkit via nvcc)".
pub const PACKAGES: &[(&[&str], &str, &str)] = &[
    (&["ffmpeg"], "ffmpeg", "ffmpeg"),
    (&["git"], "git", "git"),
    (&["git-lfs"], "git-lfs", "git-lfs"),
    (&["nodejs", "node"], "node", "nodejs"),
    (&["sox"], "sox", "sox"),
    (&["cmake"], "cmake", "cmake"),
    (&["make"], "make", "make"),
    (
        &["gcc", "gxx", "cxx-compiler", "c-compiler", "compilers"],
        "g++",
        "build-essential",
    ),
    (&["espeak", "espeak-ng"], "espeak-ng", "espeak-ng"),
    (&["zip"], "zip", "zip"),
    (&["unzip"], "unzip", "unzip"),
    (&["wget"], "wget", "wget"),
    (&["curl"], "curl", "curl"),
    (&["aria2"], "aria2c", "aria2"),
    (&["uv"], "uv", ""),
    (&["python", "pip"], "python3", "python3"),
    (
        &[
            "cuda",
            "cuda-toolkit",
            "cuda-nvcc",
            "cudatoolkit",
            "cudnn",
            "cuda-runtime",
            "cuda-libraries",
            "cuda-libraries-dev",
            "cuda-cudart",
            "libcublas",
            "nccl",
            "pytorch-cuda",
        ],
        "@cuda",
        "",
    ),
];

/// The (check command, apt package) of a conda package name, if mapped.
/// Channels (`conda-forge::x`) and versions (`x=1.2`) are ignored.
pub fn package(name: &str) -> Option<(&'static str, &'static str)> {
    let base = bare_name(name);
    PACKAGES
        .iter()
        .find(|(names, _, _)| names.contains(&base.as_str()))
        .map(|(_, bin, apt)| (*bin, *apt))
}

/// `conda-forge::ffmpeg=6.1` → `ffmpeg`.
pub fn bare_name(name: &str) -> String {
    let n = name.rsplit("::").next().unwrap_or(name);
    let end = n.find(['=', '<', '>', '!', ' ', '[']).unwrap_or(n.len());
    n[..end].trim().to_lowercase()
}

/// Writes `<home>/bin/shims/conda` (when its text changed).
pub fn write_shim(layout: &Layout) -> std::io::Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = layout.shims().join("conda");
    let body = shim_text(layout);
    if std::fs::read_to_string(&path).ok().as_deref() == Some(body.as_str()) {
        return Ok(path);
    }
    std::fs::create_dir_all(layout.shims())?;
    let tmp = crate::util::temp_sibling(&path);
    std::fs::write(&tmp, &body)?;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755))?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

/// The bash `case` arms mapping names to "check-command apt-package".
fn lookup_arms() -> String {
    PACKAGES
        .iter()
        .map(|(names, bin, apt)| format!("    {}) echo \"{bin} {apt}\" ;;\n", names.join("|")))
        .collect()
}

fn shim_text(layout: &Layout) -> String {
    SHIM.replace("__ARMS__", &lookup_arms())
        .replace("__UV__", &quote(&layout.uv_bin().to_string_lossy()))
}

const SHIM: &str = r#"#!/usr/bin/env bash
# pinokio conda shim: conda isn't installed on this machine. `conda install`
# maps common packages onto system tools; other commands say what they do.
say() { echo "[pinokio] $*" >&2; }
lookup() {
  case "$1" in
__ARMS__    *) echo "" ;;
  esac
}
bare() { local n="${1##*::}"; n="${n%%[=<>!]*}"; echo "${n,,}"; }
cuda_report() {
  local ok=1
  if command -v nvidia-smi >/dev/null 2>&1; then
    say "$1: NVIDIA driver present ($(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1))"; ok=0
  fi
  if command -v nvcc >/dev/null 2>&1; then
    say "$1: CUDA toolkit present ($(nvcc --version | tail -1))"; ok=0
  elif [ $ok = 0 ]; then
    say "$1: no nvcc (CUDA toolkit) on PATH; pip's torch wheels bring their own CUDA runtime. Code that compiles CUDA kernels needs the toolkit: apt-get install -y nvidia-cuda-toolkit"
  fi
  return $ok
}
install() {
  local pkgs=() unknown=() need=() apt=() p name m bin pkg
  while [ $# -gt 0 ]; do
    case "$1" in
      -c|--channel|-n|--name|-p|--prefix) shift ;;
      -*) ;;
      *) pkgs+=("$1") ;;
    esac
    shift
  done
  for p in "${pkgs[@]}"; do
    name="$(bare "$p")"; m="$(lookup "$name")"
    if [ -z "$m" ]; then unknown+=("$name"); continue; fi
    bin="${m%% *}"; pkg="${m#* }"
    if [ "$bin" = "@cuda" ]; then
      cuda_report "$name" || { say "$name: no NVIDIA driver or CUDA toolkit on this machine"; need+=("$name"); }
    elif command -v "$bin" >/dev/null 2>&1; then
      say "conda install $name: $bin is already here ($(command -v "$bin"))"
    else
      need+=("$name"); [ -n "$pkg" ] && apt+=("$pkg")
    fi
  done
  if [ ${#unknown[@]} -gt 0 ]; then
    say "error: conda isn't installed here; ${unknown[*]} has no mapping to a system package."
    say "Fix: install ${unknown[*]} yourself (apt-get or pip), or install conda/micromamba, or drop it from the script."
    exit 1
  fi
  [ ${#need[@]} -eq 0 ] && exit 0
  if [ ${#apt[@]} -eq ${#need[@]} ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "conda isn't installed here; installing ${apt[*]} with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get install -y "${apt[@]}" \
      || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "${apt[@]}"; } \
      || { say "apt-get could not install ${apt[*]}."; exit 1; }
    exit 0
  fi
  say "conda isn't installed here and these are missing: ${need[*]}."
  if [ ${#apt[@]} -gt 0 ]; then
    say "Fix: apt-get install -y ${apt[*]} (as root), or install conda/micromamba."
  else
    say "Fix: use a machine image with the NVIDIA driver/CUDA toolkit, or install conda/micromamba."
  fi
  exit 1
}
create() {
  local prefix="" py="" a
  while [ $# -gt 0 ]; do
    case "$1" in
      -p|--prefix) prefix="$2"; shift ;;
      -n|--name) say "conda isn't installed here; named env '$2' can't be made. Fix: use a \`conda: {path: ...}\` step param, or install conda."; exit 1 ;;
      python=*|python==*) py="${1#python=}"; py="${py#=}"; py="${py%%\**}"; py="${py%.}" ;;
    esac
    shift
  done
  [ -n "$prefix" ] || { say "conda create: no -p <path> given"; exit 1; }
  local uv=__UV__; [ -x "$uv" ] || uv="$(command -v uv || true)"
  [ -n "$uv" ] || { say "conda isn't installed here and uv isn't either; cannot create $prefix. Fix: install conda or uv."; exit 1; }
  say "conda isn't installed here; creating $prefix as a uv venv (python ${py:-python3})"
  exec "$uv" venv --seed --allow-existing --python "${py:-python3}" "$prefix"
}
case "${1:-}" in
  install) shift; install "$@" ;;
  create) shift; create "$@" ;;
  activate|deactivate) say "conda isn't installed here; \`conda $*\` does nothing (a step's \`venv\`/\`conda\` param activates its environment)"; exit 0 ;;
  shell.bash|shell) exit 0 ;;
  clean|config|update|init) say "conda isn't installed here; \`conda $*\` skipped"; exit 0 ;;
  --version|-V) echo "conda (pinokio shim: conda is not installed)"; exit 0 ;;
  *) say "conda isn't installed here; \`conda $*\` is not emulated. Fix: install conda or micromamba."; exit 1 ;;
esac
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_versions_read_like_conda_specs() {
        for (spec, want) in [
            ("python=3.10", Some("3.10")),
            ("python==3.10.*", Some("3.10")),
            ("3.11", Some("3.11")),
            ("python>=3.11", Some(">=3.11")),
            ("python", None),
        ] {
            assert_eq!(python_version(spec).as_deref(), want, "{spec}");
        }
    }

    #[test]
    fn package_names_drop_channels_and_versions() {
        assert_eq!(bare_name("conda-forge::ffmpeg=6.1"), "ffmpeg");
        assert_eq!(package("anaconda::cudnn"), Some(("@cuda", "")));
        assert_eq!(package("nodejs>=18"), Some(("node", "nodejs")));
        assert_eq!(package("no-such"), None);
    }
}
