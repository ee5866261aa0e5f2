//! Recording a venv's lock at snapshot time: the packages it holds (`uv pip
//! freeze` when uv is around, since uv-made venvs may have no pip; else
//! `pip freeze`) and the interpreter it was made from (`pyvenv.cfg`). A venv
//! copied to a fresh machine usually runs as is (same image, same base
//! Python); when it does not, the lock is what rebuilds it.

use super::manifest::VenvLock;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The parts of `pyvenv.cfg` a rebuild needs.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct PyvenvCfg {
    pub home: Option<PathBuf>,
    pub version: Option<String>,
}

impl PyvenvCfg {
    pub fn read(venv: &Path) -> PyvenvCfg {
        let text = std::fs::read_to_string(venv.join("pyvenv.cfg")).unwrap_or_default();
        PyvenvCfg::parse(&text)
    }

    /// `key = value` lines; `version` (venv) or `version_info` (uv, virtualenv).
    pub fn parse(text: &str) -> PyvenvCfg {
        let mut cfg = PyvenvCfg::default();
        for line in text.lines() {
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let value = value.trim().to_string();
            match key.trim() {
                "home" => cfg.home = Some(PathBuf::from(value)),
                "version" | "version_info" if cfg.version.is_none() => cfg.version = Some(value),
                _ => {}
            }
        }
        cfg
    }

    /// `3.11` of `3.11.7`.
    pub fn minor_version(&self) -> Option<String> {
        let v = self.version.as_deref()?;
        let mut parts = v.split('.');
        Some(format!("{}.{}", parts.next()?, parts.next()?))
    }
}

/// Records the lock of the venv at `home/rel`. Failing to freeze is a
/// warning (returned beside the lock), not an error: the files are still
/// snapshotted and usually run as they are.
pub fn lock(home: &Path, rel: &Path, uv: Option<&Path>) -> (VenvLock, Option<String>) {
    let venv = home.join(rel);
    let cfg = PyvenvCfg::read(&venv);
    let (requirements, locked_with, warning) = match freeze(&venv, uv) {
        Ok((lines, tool)) => (Some(lines), Some(tool.to_string()), None),
        Err(why) => (
            None,
            None,
            Some(format!(
                "{}: could not record its packages ({why}); it is snapshotted as files but \
                 cannot be rebuilt if it does not run on the next machine",
                rel.display()
            )),
        ),
    };
    let lock = VenvLock {
        path: rel.to_path_buf(),
        python_version: cfg.version,
        base_home: cfg.home,
        requirements,
        locked_with,
    };
    (lock, warning)
}

fn freeze(venv: &Path, uv: Option<&Path>) -> Result<(Vec<String>, &'static str), String> {
    let python = venv.join("bin/python");
    let (mut cmd, tool) = match uv {
        Some(uv) => {
            let mut c = Command::new(uv);
            c.args(["pip", "freeze", "--python"]).arg(&python);
            (c, "uv")
        }
        None => {
            let mut c = Command::new(&python);
            c.args(["-m", "pip", "freeze"]);
            (c, "pip")
        }
    };
    let out = cmd
        .env_remove("PYTHONPATH")
        .output()
        .map_err(|e| format!("running {tool}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{tool} freeze failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    Ok((lines, tool))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_venv_and_uv_pyvenv_cfg() {
        let venv = PyvenvCfg::parse(
            "home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.11.7\n",
        );
        assert_eq!(venv.home.as_deref(), Some(Path::new("/usr/bin")));
        assert_eq!(venv.minor_version().as_deref(), Some("3.11"));
        let uv = PyvenvCfg::parse(
            "home = /opt/py/bin\nimplementation = CPython\nuv = 0.4.0\nversion_info = 3.12.3\n",
        );
        assert_eq!(uv.version.as_deref(), Some("3.12.3"));
    }
}
