//! Making restored venvs run on this machine.
//!
//! A venv is kept when its base interpreter is there (`home =` in
//! `pyvenv.cfg` exists) and `bin/python -c "import sys"` works; otherwise it
//! is rebuilt from the lock recorded at snapshot time (uv when available,
//! else `python3 -m venv` + pip).
//!
//! Restoring into another folder than the snapshotted home leaves absolute
//! paths to the old folder in `bin/activate*`, script shebangs (`bin/pip`,
//! console scripts) and `.pth` files (editable installs). We *rewrite* them
//! rather than rebuild: the interpreter finds its packages relative to
//! `pyvenv.cfg`, so only those text files name the old place, and rewriting
//! takes milliseconds where a rebuild downloads gigabytes (torch). Only
//! occurrences of `<old home>/` are replaced, in text files under `bin/`,
//! `pyvenv.cfg` and `.pth` files.

use super::manifest::VenvLock;
use super::venv_lock::PyvenvCfg;
use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// What happened to one venv.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Kept,
    /// Kept, with this many files rewritten to the new home.
    Relocated(usize),
    Rebuilt(String),
    Failed(String),
}

/// Checks, relocates or rebuilds the venv of `lock` inside `home`.
pub fn restore(home: &Path, lock: &VenvLock, old_home: &Path, uv: Option<&Path>) -> Outcome {
    let venv = home.join(&lock.path);
    if let Err(why) = works(&venv) {
        return match rebuild(home, &venv, lock, old_home, uv) {
            Ok(how) => Outcome::Rebuilt(format!("{why}; {how}")),
            Err(e) => Outcome::Failed(format!("{why}; rebuilding failed: {e:#}")),
        };
    }
    if old_home == home {
        return Outcome::Kept;
    }
    match relocate(&venv, old_home, home) {
        Ok(0) => Outcome::Kept,
        Ok(n) => Outcome::Relocated(n),
        Err(e) => Outcome::Failed(format!("rewriting paths to the new home: {e:#}")),
    }
}

/// Why the venv does not run here, if it does not.
pub fn works(venv: &Path) -> Result<(), String> {
    let cfg = PyvenvCfg::read(venv);
    match &cfg.home {
        Some(base) if base.is_dir() => {}
        Some(base) => {
            return Err(format!(
                "its base interpreter folder {} is missing",
                base.display()
            ))
        }
        None => return Err("its pyvenv.cfg names no base interpreter".into()),
    }
    let python = venv.join("bin/python");
    match Command::new(&python)
        .args(["-c", "import sys"])
        .env_remove("PYTHONHOME")
        .env_remove("PYTHONPATH")
        .output()
    {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(format!(
            "{} does not start: {}",
            python.display(),
            last_lines(&out.stderr)
        )),
        Err(e) => Err(format!("{} does not start: {e}", python.display())),
    }
}

/// Rewrites `<old>/` to `<new>/` in the venv's path-bearing text files;
/// returns how many changed.
pub fn relocate(venv: &Path, old: &Path, new: &Path) -> anyhow::Result<usize> {
    let (from, to) = (prefix(old), prefix(new));
    let mut changed = 0;
    for file in path_bearing_files(venv) {
        let Ok(bytes) = std::fs::read(&file) else {
            continue;
        };
        if bytes.len() > 1 << 20 || bytes.iter().take(8192).any(|b| *b == 0) {
            continue;
        }
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        };
        if !text.contains(&from) {
            continue;
        }
        std::fs::write(&file, text.replace(&from, &to))
            .with_context(|| format!("rewriting {}", file.display()))?;
        changed += 1;
    }
    Ok(changed)
}

fn prefix(path: &Path) -> String {
    format!("{}/", path.display().to_string().trim_end_matches('/'))
}

/// `pyvenv.cfg`, files directly in `bin/` (not links) and `.pth` files in
/// `lib/python*/site-packages`.
fn path_bearing_files(venv: &Path) -> Vec<PathBuf> {
    let mut files = vec![venv.join("pyvenv.cfg")];
    let regular = |p: &Path| p.symlink_metadata().is_ok_and(|m| m.is_file());
    let list = |dir: &Path| -> Vec<PathBuf> {
        std::fs::read_dir(dir)
            .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default()
    };
    files.extend(list(&venv.join("bin")).into_iter().filter(|p| regular(p)));
    for lib in list(&venv.join("lib")) {
        let pth = list(&lib.join("site-packages"))
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "pth") && regular(p));
        files.extend(pth);
    }
    files
}

/// Recreates the venv from its lock; returns how.
fn rebuild(
    home: &Path,
    venv: &Path,
    lock: &VenvLock,
    old_home: &Path,
    uv: Option<&Path>,
) -> anyhow::Result<String> {
    let Some(requirements) = &lock.requirements else {
        bail!("no package list was recorded for it at snapshot time; reinstall the app");
    };
    let started = Instant::now();
    let text: String = requirements
        .iter()
        .map(|l| format!("{}\n", l.replace(&prefix(old_home), &prefix(home))))
        .collect();
    let name = venv.file_name().unwrap_or_default().to_string_lossy();
    let lock_file = venv.with_file_name(format!(".{name}.pinokiocloud-lock.txt"));
    std::fs::write(&lock_file, text).with_context(|| format!("writing {}", lock_file.display()))?;
    super::mirror::remove_any(venv)?;
    let cfg = PyvenvCfg {
        home: lock.base_home.clone(),
        version: lock.python_version.clone(),
    };
    let result = match uv {
        Some(uv) => rebuild_with_uv(uv, venv, &cfg, &lock_file, requirements.is_empty()),
        None => rebuild_with_pip(venv, &cfg, &lock_file, requirements.is_empty()),
    };
    let _ = std::fs::remove_file(&lock_file);
    let tool = result?;
    Ok(format!(
        "rebuilt with {tool} from its lock ({} packages) in {:.1}s",
        requirements.len(),
        started.elapsed().as_secs_f64()
    ))
}

fn rebuild_with_uv(
    uv: &Path,
    venv: &Path,
    cfg: &PyvenvCfg,
    lock_file: &Path,
    empty: bool,
) -> anyhow::Result<String> {
    let mut create = Command::new(uv);
    create.args(["venv", "--seed"]);
    if let Some(v) = &cfg.version {
        // The machine's own interpreter of that minor version when it has
        // one (pyenv's included, which uv does not look in); else uv finds
        // or downloads it.
        let minor: String = v.splitn(3, '.').take(2).collect::<Vec<_>>().join(".");
        let env: std::collections::BTreeMap<String, String> = std::env::vars().collect();
        match engine::python::local_python(&minor, &env) {
            Some(python) => create.arg("--python").arg(python),
            None => create.args(["--python", v]),
        };
    }
    run(create.arg(venv))?;
    if !empty {
        let mut install = Command::new(uv);
        install
            .args(["pip", "install", "--python"])
            .arg(venv.join("bin/python"))
            .arg("-r")
            .arg(lock_file);
        run(&mut install)?;
    }
    // A uv venv in a PinokioCloud home has its pip going through uv.
    engine::python::install_pip_shim(venv, uv)
        .with_context(|| format!("writing the pip shim in {}", venv.display()))?;
    Ok("uv".into())
}

fn rebuild_with_pip(
    venv: &Path,
    cfg: &PyvenvCfg,
    lock_file: &Path,
    empty: bool,
) -> anyhow::Result<String> {
    let python = base_python(cfg);
    run(Command::new(&python).args(["-m", "venv"]).arg(venv))?;
    if !empty {
        let mut install = Command::new(venv.join("bin/python"));
        install
            .args(["-m", "pip", "install", "--disable-pip-version-check", "-r"])
            .arg(lock_file);
        run(&mut install)?;
    }
    Ok(format!("{} -m venv and pip", python.display()))
}

/// `python3.X` of the recorded version when on PATH, else `python3`.
fn base_python(cfg: &PyvenvCfg) -> PathBuf {
    let env = crate::cloud::env::SystemEnv;
    cfg.minor_version()
        .and_then(|v| crate::cloud::env::which(&format!("python{v}"), &env))
        .or_else(|| crate::cloud::env::which("python3", &env))
        .unwrap_or_else(|| PathBuf::from("python3"))
}

fn run(cmd: &mut Command) -> anyhow::Result<()> {
    let shown = format!("{cmd:?}");
    let out = cmd
        .env_remove("PYTHONHOME")
        .env_remove("VIRTUAL_ENV")
        .output()
        .with_context(|| format!("running {shown}"))?;
    if !out.status.success() {
        bail!("{shown} failed: {}", last_lines(&out.stderr));
    }
    Ok(())
}

fn last_lines(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(8)..].join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relocation_rewrites_only_the_old_home_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let venv = dir.path().join("env");
        std::fs::create_dir_all(venv.join("bin")).unwrap();
        std::fs::create_dir_all(venv.join("lib/python3.11/site-packages")).unwrap();
        std::fs::write(
            venv.join("bin/activate"),
            "VIRTUAL_ENV=\"/old/home/api/a/env\"\nOTHER=/old/home2/x\n",
        )
        .unwrap();
        std::fs::write(venv.join("bin/pip"), "#!/old/home/api/a/env/bin/python\n").unwrap();
        std::fs::write(
            venv.join("lib/python3.11/site-packages/__editable__.a.pth"),
            "/old/home/api/a/src\n",
        )
        .unwrap();
        std::fs::write(venv.join("pyvenv.cfg"), "home = /usr/bin\n").unwrap();
        let n = relocate(&venv, Path::new("/old/home"), Path::new("/new")).unwrap();
        assert_eq!(n, 3);
        let activate = std::fs::read_to_string(venv.join("bin/activate")).unwrap();
        assert!(activate.contains("\"/new/api/a/env\""), "{activate}");
        assert!(activate.contains("/old/home2/x"), "{activate}");
    }
}
