//! Creating venvs through uv. `--seed` puts the real pip (plus setuptools
//! and wheel) inside, so `python -m pip` and the shim's fallback work and
//! the venv looks like one `python3 -m venv` would make. `--allow-existing`
//! keeps files already in the folder, as `python3 -m venv` does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{pip_shim, tail, PythonError};

/// What Python a new venv is built from.
pub enum PythonRequest {
    /// An interpreter path (e.g. `python3` found on PATH, or a conda env's).
    Path(std::path::PathBuf),
    /// A version uv finds on PATH or downloads (`3.10`, `>=3.11`); `what`
    /// names who asked, for the error message.
    Version { version: String, what: String },
}

/// `uv venv --seed --python <request> <dir>`, then the pip shim.
pub fn create_venv(
    uv: &Path,
    dir: &Path,
    python: &PythonRequest,
    env: &BTreeMap<String, String>,
    say: &dyn Fn(&str),
) -> Result<(), PythonError> {
    let request = match python {
        PythonRequest::Path(p) => p.to_string_lossy().into_owned(),
        PythonRequest::Version { version, .. } => version.clone(),
    };
    say(&format!(
        "creating venv {} with uv (python {request})",
        dir.display()
    ));
    let mut env = env.clone();
    if let PythonRequest::Version { version, .. } = python {
        offer_pyenv_pythons(&mut env, version);
    }
    let out = Command::new(uv)
        .args(["venv", "--seed", "--allow-existing", "--python", &request])
        .arg(dir)
        .env_clear()
        .envs(&env)
        .env("NO_COLOR", "1")
        .output()
        .map_err(|e| PythonError::Io(format!("cannot run {}: {e}", uv.display())))?;
    let text = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        say(line);
    }
    if !out.status.success() {
        return Err(match python {
            PythonRequest::Version { version, what } if no_interpreter(&text) => {
                PythonError::PythonVersion {
                    what: what.clone(),
                    version: version.clone(),
                    tail: tail(&text, 6),
                }
            }
            _ => PythonError::Venv {
                venv: dir.to_path_buf(),
                tail: tail(&text, 10),
            },
        });
    }
    pip_shim::install(dir, uv).map_err(|e| {
        PythonError::Io(format!(
            "cannot write the pip shim in {}: {e}",
            dir.display()
        ))
    })
}

/// Puts pyenv's installed `<version>*` interpreters on uv's PATH. pyenv's
/// shims only run the selected version, so uv would otherwise miss a
/// Python 3.10 that is on the machine and try to download one.
fn offer_pyenv_pythons(env: &mut BTreeMap<String, String>, version: &str) {
    let dirs = pyenv_dirs(env, version);
    if dirs.is_empty() {
        return;
    }
    let path = env.get("PATH").cloned().unwrap_or_default();
    let joined = std::env::join_paths(dirs.into_iter().chain(std::env::split_paths(&path)));
    if let Ok(p) = joined {
        env.insert("PATH".into(), p.to_string_lossy().into_owned());
    }
}

/// pyenv's `bin` folders of installed `<version>` or `<version>.*`
/// Pythons, newest first.
fn pyenv_dirs(env: &BTreeMap<String, String>, version: &str) -> Vec<PathBuf> {
    let root = env
        .get("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| env.get("HOME").map(|h| Path::new(h).join(".pyenv")));
    let Some(versions) = root.map(|r| r.join("versions")) else {
        return vec![];
    };
    let mut dirs: Vec<_> = std::fs::read_dir(&versions)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name == version || name.starts_with(&format!("{version}."))
        })
        .map(|e| e.path().join("bin"))
        .filter(|bin| bin.join("python3").is_file())
        .collect();
    dirs.sort();
    dirs.reverse();
    dirs
}

/// A `python<version>` on this machine that runs: on PATH, else one of
/// pyenv's installed versions.
pub fn local_python(version: &str, env: &BTreeMap<String, String>) -> Option<PathBuf> {
    let name = format!("python{version}");
    let path = env.get("PATH").map(String::as_str).unwrap_or("");
    super::which_in(&name, path)
        .filter(|p| super::runs(p, env))
        .or_else(|| {
            pyenv_dirs(env, version)
                .into_iter()
                .map(|d| d.join(&name))
                .find(|p| super::runs(p, env))
        })
}

/// uv's ways of saying "no such Python here, and I couldn't fetch one".
fn no_interpreter(text: &str) -> bool {
    [
        "No interpreter found",
        "Failed to download",
        "error sending request",
    ]
    .iter()
    .any(|m| text.contains(m))
}
