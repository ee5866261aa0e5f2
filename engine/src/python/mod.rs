//! Python environments, faster: `uv` underneath `venv`/`pip`, one shared
//! package cache per home, `conda:` steps without conda, and the `requires`
//! prerequisites of scripts.
//!
//! Everything here is behind the acceleration switch ([`Policy`]). Off, a
//! `venv` step is exactly Pinokio's `python3 -m venv` + real pip; on, venvs
//! are made by `uv venv --seed` and get a pip shim that forwards to
//! `uv pip` (falling back to the real pip it keeps inside).

mod base;
mod base_packages;
mod conda;
mod pip_shim;
pub mod requires;
mod uv;
mod venv;
pub use venv::local_python;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::Value;

use crate::methods::quote;
use conda::{CondaSpec, RealConda};
pub use requires::{Requirement, RequirementStatus};

/// The uv a home uses: `<home>/bin/uv`, else `uv` on this process's PATH.
pub fn locate_uv(home: &Path) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    uv::locate(&Layout::new(home), &path)
}

/// Gives an existing venv the pip shim (for venvs rebuilt outside a run,
/// e.g. by a restore). The shim obeys `PINOKIO_UV_PIP=0`, so it is safe
/// where acceleration is off.
pub fn install_pip_shim(venv: &Path, uv: &Path) -> std::io::Result<()> {
    pip_shim::install(venv, uv)
}
use venv::{create_venv, PythonRequest};

/// The Python of Pinokio's base conda env (pinned 3.10.x in Pinokio 8):
/// what new venvs and conda envs get unless a step asks for another.
pub const BASE_PYTHON: &str = "3.10";

/// Why preparing a Python environment failed. Each message names the
/// problem and the fix.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PythonError {
    #[error("installing uv into {target} failed (acceleration is on, so venvs and pip go through uv). pip said:\n{tail}\nFix: turn Python acceleration off for this app, or install uv yourself (`pip install uv`, or put a `uv` binary at {bin}).", target = .target.display(), bin = .bin.display())]
    UvInstall {
        target: PathBuf,
        bin: PathBuf,
        tail: String,
    },
    #[error("no `python3` on PATH to build the venv {venv} from. Fix: install Python 3 (e.g. `apt-get install -y python3 python3-venv`) or put it on PATH.", venv = .venv.display())]
    NoPython { venv: PathBuf },
    #[error("{what} needs Python {version}, but none was found on PATH and uv could not download one:\n{tail}\nFix: install Python {version} (`apt-get install -y python{version} python{version}-venv`, or `pyenv install {version}` and put its bin folder on PATH), or install conda/micromamba so the step runs with real conda.")]
    PythonVersion {
        what: String,
        version: String,
        tail: String,
    },
    #[error("creating the venv {venv} with uv failed:\n{tail}\nFix: check the output above, or turn Python acceleration off for this app to use `python3 -m venv`.", venv = .venv.display())]
    Venv { venv: PathBuf, tail: String },
    #[error("this script needs things this machine lacks:\n{}", .0.join("\n"))]
    Missing(Vec<String>),
    #[error("{0}")]
    Io(String),
    /// A step's `conda` param that Pinokio refuses too.
    #[error("{0}")]
    Conda(String),
}

/// The acceleration switch: global, with per-app overrides. On by default.
pub struct Policy {
    global: Mutex<bool>,
    apps: Mutex<HashMap<String, bool>>,
    /// Hardlink the platform Python's torch into new venvs (see
    /// [`base_packages`]). Off by default: it trades isolation for speed.
    reuse_platform_torch: Mutex<bool>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            global: Mutex::new(true),
            apps: Mutex::new(HashMap::new()),
            reuse_platform_torch: Mutex::new(false),
        }
    }
}

impl Policy {
    pub fn set_global(&self, on: bool) {
        *self.global.lock().expect("policy lock") = on;
    }

    /// `None` removes the app's override (it follows the global switch).
    pub fn set_app(&self, app: &str, on: Option<bool>) {
        let mut apps = self.apps.lock().expect("policy lock");
        match on {
            Some(v) => apps.insert(app.to_string(), v),
            None => apps.remove(app),
        };
    }

    pub fn set_reuse_platform_torch(&self, on: bool) {
        *self.reuse_platform_torch.lock().expect("policy lock") = on;
    }

    pub fn reuse_platform_torch(&self) -> bool {
        *self.reuse_platform_torch.lock().expect("policy lock")
    }

    pub fn app_override(&self, app: &str) -> Option<bool> {
        self.apps.lock().expect("policy lock").get(app).copied()
    }

    /// Whether `app`'s processes get uv, the pip shim and conda emulation.
    pub fn accelerated(&self, app: &str) -> bool {
        let app_value = self.apps.lock().expect("policy lock").get(app).copied();
        app_value.unwrap_or_else(|| *self.global.lock().expect("policy lock"))
    }
}

/// Where things live under a Pinokio home.
#[derive(Debug, Clone)]
pub struct Layout {
    pub home: PathBuf,
}

impl Layout {
    pub fn new(home: &Path) -> Self {
        Layout {
            home: home.to_path_buf(),
        }
    }
    /// `<home>/bin`: uv and other tools, on every process's PATH.
    pub fn bin(&self) -> PathBuf {
        self.home.join("bin")
    }
    /// `<home>/bin/shims`: the `conda` shim (on PATH only without real conda).
    pub fn shims(&self) -> PathBuf {
        self.bin().join("shims")
    }
    pub fn uv_bin(&self) -> PathBuf {
        self.bin().join("uv")
    }
    pub fn tools(&self) -> PathBuf {
        self.home.join("tools")
    }
    pub fn uv_cache(&self) -> PathBuf {
        self.home.join("cache").join("uv")
    }
    pub fn pip_cache(&self) -> PathBuf {
        self.home.join("cache").join("pip")
    }
    /// `<home>/bin/miniforge/envs`: where `conda: {name}` envs live.
    pub fn conda_envs(&self) -> PathBuf {
        self.bin().join("miniforge").join("envs")
    }
    /// `<home>/bin/base/bin`: `python`/`pip` of the emulated base env.
    pub fn base_bin(&self) -> PathBuf {
        self.bin().join("base").join("bin")
    }
}

/// Adds what every process of a home gets: `<home>/bin` (and, without a
/// real conda, the conda shim folder) in front of PATH, the shared uv/pip
/// caches (unless already set), and `PINOKIO_UV_PIP` telling pip shims of
/// venvs made earlier whether to forward to uv.
pub fn apply_env(env: &mut BTreeMap<String, String>, layout: &Layout, accelerated: bool) {
    let path = env.get("PATH").cloned().unwrap_or_default();
    let mut front = vec![layout.bin()];
    if accelerated && RealConda::find(&path, layout).is_none() {
        front.push(layout.shims());
    }
    let rest = std::env::split_paths(&path).filter(|p| !front.contains(p));
    if let Ok(joined) = std::env::join_paths(front.iter().cloned().chain(rest)) {
        env.insert("PATH".into(), joined.to_string_lossy().into_owned());
    }
    for (key, dir) in [
        ("UV_CACHE_DIR", layout.uv_cache()),
        ("PIP_CACHE_DIR", layout.pip_cache()),
    ] {
        env.entry(key.to_string())
            .or_insert_with(|| dir.to_string_lossy().into_owned());
    }
    let flag = if accelerated { "1" } else { "0" };
    env.insert("PINOKIO_UV_PIP".into(), flag.into());
}

/// Finds an executable named `name` in a PATH string.
pub fn which_in(name: &str, path: &str) -> Option<PathBuf> {
    std::env::split_paths(path)
        .map(|d| d.join(name))
        .find(|p| crate::sys::which(&p.to_string_lossy()).is_some())
}

/// Whether `python` starts (a pyenv shim of a version that isn't selected
/// is on PATH but fails).
pub fn runs(python: &Path, env: &BTreeMap<String, String>) -> bool {
    std::process::Command::new(python)
        .args(["-c", ""])
        .env_clear()
        .envs(env)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The last `n` non-empty lines of a command's output.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Everything a shell step needs to set up its Python environment.
pub struct ShellSetup<'a> {
    pub params: &'a Value,
    /// The shell's working folder (relative `venv`/`conda` paths resolve here).
    pub cwd: &'a Path,
    /// The environment the shell will get.
    pub env: &'a BTreeMap<String, String>,
    pub layout: &'a Layout,
    pub accelerated: bool,
    /// Link the platform Python's torch into venvs made from it.
    pub reuse_platform_torch: bool,
    /// Prints a line to the run's terminal.
    pub say: &'a dyn Fn(&str),
}

impl ShellSetup<'_> {
    /// Prepares the step's conda env and venv (creating them when missing)
    /// and returns the bash lines that activate them, in Pinokio's order:
    /// conda first, then the venv (built from the conda env's Python).
    pub fn lines(&self) -> Result<Vec<String>, PythonError> {
        let path = self.env.get("PATH").cloned().unwrap_or_default();
        let real = RealConda::find(&path, self.layout);
        if self.accelerated && real.is_none() {
            conda::write_shim(self.layout)
                .map_err(|e| PythonError::Io(format!("cannot write the conda shim: {e}")))?;
        }
        if self.accelerated && mentions_uv(self.params) {
            uv::ensure_uv(self.layout, self.env, self.say)?;
        }
        let mut lines = vec![];
        let mut base: Option<PathBuf> = None;
        conda::check(self.params).map_err(PythonError::Conda)?;
        if let Some(replaced) = conda::activation_override(self.params) {
            // `conda.activate` replaces the activation: no env is made.
            match replaced {
                conda::Activation::Minimal => lines.extend(base::lines(self.layout, self.env)),
                conda::Activation::Lines(given) => lines.extend(given),
            }
        } else if let Some(spec) = CondaSpec::parse(self.params) {
            match (&real, spec.dir(self.cwd)) {
                (Some(real), _) => lines.extend(real.lines(&spec, self.cwd)),
                (None, dir) if self.accelerated => {
                    // Named envs live where Pinokio keeps them.
                    let dir = dir.unwrap_or_else(|| self.layout.conda_envs().join(&spec.target));
                    let request = PythonRequest::Version {
                        version: spec.python.clone().unwrap_or_else(|| BASE_PYTHON.into()),
                        what: format!("the conda env {}", dir.display()),
                    };
                    self.ensure_venv(&dir, &request)?;
                    lines.push(activate(&dir));
                    base = Some(dir.join("bin").join("python"));
                }
                _ => {}
            }
        }
        if self.params.get("conda").is_none() {
            lines.extend(base::lines(self.layout, self.env));
        }
        if let Some(dir) = self.venv_dir() {
            let asked = self.venv_python();
            if !self.accelerated && asked.is_none() && base.is_none() {
                if let Some(plain) = plain_venv_lines(&dir, self.env) {
                    lines.extend(plain);
                    return Ok(lines);
                }
            }
            let request = match (asked, base) {
                (Some(v), _) => PythonRequest::Version {
                    version: conda::python_version(&v).unwrap_or(v),
                    what: format!("the venv {} (venv_python)", dir.display()),
                },
                (_, Some(p)) => PythonRequest::Path(p),
                // Reusing the platform's torch (opt-in) needs the venv built
                // from that platform Python, whatever its version.
                _ if self.reuse_platform_torch && self.platform_python().is_some() => {
                    PythonRequest::Path(self.platform_python().unwrap_or_default())
                }
                _ => PythonRequest::Version {
                    version: BASE_PYTHON.into(),
                    what: format!(
                        "the venv {} (new venvs use Pinokio's base Python {BASE_PYTHON}; set `venv_python` for another)",
                        dir.display()
                    ),
                },
            };
            self.ensure_venv(&dir, &request)?;
            lines.push(activate(&dir));
        }
        Ok(lines)
    }

    /// Venv folder (relative to the shell's cwd), if the step asks for one:
    /// `venv: "dir"` or `venv: {path: "dir", python}`.
    fn venv_dir(&self) -> Option<PathBuf> {
        let v = self.params.get("venv")?;
        v.get("path")
            .unwrap_or(v)
            .as_str()
            .filter(|v| !v.is_empty())
            .map(|v| crate::util::resolve(self.cwd, v))
    }

    /// `python3` on the shell's PATH (the platform's Python).
    fn platform_python(&self) -> Option<PathBuf> {
        which_in(
            "python3",
            self.env.get("PATH").map(String::as_str).unwrap_or(""),
        )
    }

    /// The Python a new venv asks for: `venv_python`, else `venv.python`.
    fn venv_python(&self) -> Option<String> {
        let from = |v: Option<&Value>| {
            v.filter(|v| !v.is_null())
                .map(crate::util::scalar_string)
                .filter(|s| !s.is_empty())
        };
        from(self.params.get("venv_python"))
            .or_else(|| from(self.params.get("venv").and_then(|v| v.get("python"))))
    }

    /// Creates the venv through uv unless it exists; re-applies the pip
    /// shim of existing accelerated venvs.
    fn ensure_venv(&self, dir: &Path, request: &PythonRequest) -> Result<(), PythonError> {
        if dir.join("bin").join("activate").is_file() {
            return pip_shim::heal(dir).map_err(|e| PythonError::Io(e.to_string()));
        }
        let uv = uv::ensure_uv(self.layout, self.env, self.say)?;
        create_venv(&uv, dir, request, self.env, self.say)?;
        if let (true, PythonRequest::Path(python)) = (self.reuse_platform_torch, request) {
            self.reuse_torch(python, dir);
        }
        Ok(())
    }

    /// Best effort: a venv without the platform's torch still works (the
    /// script downloads torch), so failures are told, not raised.
    fn reuse_torch(&self, python: &Path, dir: &Path) {
        match base_packages::reuse_into(python, dir) {
            Ok(Some(reused)) => (self.say)(&format!(
                "reusing the platform's {} (hardlinked from {}, nothing to download)",
                reused.packages.join(", "),
                python.display()
            )),
            Ok(None) => {}
            Err(e) => (self.say)(&format!(
                "could not reuse the platform's torch ({e}); the script installs its own"
            )),
        }
    }
}

/// Whether the step's commands call uv directly (`uv pip install …`).
fn mentions_uv(params: &Value) -> bool {
    let re = |s: &str| {
        s.split(|c: char| c.is_whitespace() || c == ';' || c == '&' || c == '|')
            .any(|w| w == "uv")
    };
    match params.get("message") {
        Some(Value::String(s)) => re(s),
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).any(re),
        _ => false,
    }
}

fn activate(dir: &Path) -> String {
    format!(". {}/bin/activate", quote(&dir.to_string_lossy()))
}

/// Pinokio's own venv lines (acceleration off): `python3.10 -m venv` when
/// missing, then activate. None when this machine has no runnable
/// `python3.10` (on PATH or pyenv's): the venv is then made by uv, which
/// fetches 3.10.
pub fn plain_venv_lines(venv: &Path, env: &BTreeMap<String, String>) -> Option<Vec<String>> {
    let python = venv::local_python(BASE_PYTHON, env)?;
    let v = quote(&venv.to_string_lossy());
    let py = quote(&python.to_string_lossy());
    Some(vec![
        format!("if [ ! -f {v}/bin/activate ]; then {py} -m venv {v}; fi"),
        format!(". {v}/bin/activate"),
    ])
}
