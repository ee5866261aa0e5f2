//! Finding uv, and installing it once per home when it is missing.
//!
//! Lookup order: `<home>/bin/uv`, then `uv` on the process PATH. A missing
//! uv is installed lazily (the first time a venv is needed) from PyPI with
//! the machine's own pip: `python3 -m pip install --target <home>/tools/uv uv`,
//! then its `bin/uv` is copied to `<home>/bin/uv` and the rest removed. Two runs may need uv at
//! the same moment, in this process or another one on the same home: a
//! mutex plus an `flock` on `<home>/tools/uv.lock` make the second wait and
//! then find the first one's binary.

use std::collections::BTreeMap;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use super::{tail, which_in, Layout, PythonError};

static INSTALL: Mutex<()> = Mutex::new(());

/// The uv this home uses, if there is one already.
pub fn locate(layout: &Layout, path: &str) -> Option<PathBuf> {
    let own = layout.uv_bin();
    if crate::sys::which(&own.to_string_lossy()).is_some() {
        return Some(own);
    }
    which_in("uv", path)
}

/// The uv binary, installing it first when missing. `say` prints a line
/// to the run's terminal; `env` is the environment of the step's processes.
pub fn ensure_uv(
    layout: &Layout,
    env: &BTreeMap<String, String>,
    say: &dyn Fn(&str),
) -> Result<PathBuf, PythonError> {
    let path = env.get("PATH").cloned().unwrap_or_default();
    if let Some(uv) = locate(layout, &path) {
        return Ok(uv);
    }
    let _guard = INSTALL.lock().unwrap_or_else(|p| p.into_inner());
    let io = |e: std::io::Error| PythonError::Io(format!("installing uv: {e}"));
    std::fs::create_dir_all(layout.tools()).map_err(io)?;
    let _lock = FileLock::acquire(&layout.tools().join("uv.lock")).map_err(io)?;
    if let Some(uv) = locate(layout, &path) {
        return Ok(uv);
    }
    let target = layout.tools().join("uv");
    say(&format!(
        "installing uv into {} (once per home; Python acceleration is on)",
        target.display()
    ));
    install(layout, env, &path, &target)?;
    say(&format!("uv is ready at {}", layout.uv_bin().display()));
    Ok(layout.uv_bin())
}

/// `pip install --target` into a fresh folder, then copies the binary.
fn install(
    layout: &Layout,
    env: &BTreeMap<String, String>,
    path: &str,
    target: &Path,
) -> Result<(), PythonError> {
    let fail = |tail: String| PythonError::UvInstall {
        target: target.to_path_buf(),
        bin: layout.uv_bin(),
        tail,
    };
    let python = which_in("python3", path).ok_or_else(|| fail("no python3 on PATH".into()))?;
    let staging = target.with_extension("partial");
    let _ = std::fs::remove_dir_all(&staging);
    let out = Command::new(python)
        .args(["-m", "pip", "install", "--disable-pip-version-check"])
        .args(["--no-warn-script-location", "--upgrade", "--target"])
        .arg(&staging)
        .arg("uv")
        .env_clear()
        .envs(env)
        .output()
        .map_err(|e| fail(format!("cannot run python3: {e}")))?;
    if !out.status.success() {
        let text = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
        return Err(fail(tail(&text, 15)));
    }
    let built = staging.join("bin").join("uv");
    if !built.is_file() {
        return Err(fail(format!("the uv wheel has no {}", built.display())));
    }
    let place = || -> std::io::Result<()> {
        let _ = std::fs::remove_dir_all(target);
        std::fs::rename(&staging, target)?;
        std::fs::create_dir_all(layout.bin())?;
        let tmp = layout.bin().join(".uv.partial");
        std::fs::copy(target.join("bin").join("uv"), &tmp)?;
        std::fs::rename(&tmp, layout.uv_bin())?;
        // The binary is all uv needs; the rest of the wheel is 40 MB of
        // copies a snapshot would otherwise carry.
        std::fs::remove_dir_all(target)
    };
    place().map_err(|e| fail(format!("cannot place the uv binary: {e}")))
}

/// An exclusive `flock` held until dropped.
struct FileLock(File);

impl FileLock {
    fn acquire(path: &Path) -> std::io::Result<Self> {
        let f = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)?;
        // SAFETY: flock on a file descriptor we own; blocks until granted.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(FileLock(f))
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        // SAFETY: unlocking the descriptor this value owns.
        unsafe { libc::flock(self.0.as_raw_fd(), libc::LOCK_UN) };
    }
}
