//! Pinokio's base env, emulated for steps without a `conda` key (spec
//! §4.1.1, C-101). Pinokio activates its own conda `base` there, so
//! `python` exists (Python 3.10) and `PIP_REQUIRE_VIRTUALENV=true` makes pip
//! refuse to install outside a venv. We set the same variable, and when the
//! machine has no `python` command (Debian/Ubuntu ship only `python3`) we
//! put one on PATH: `python3.10` when present, else `python3`.

use std::collections::BTreeMap;
use std::path::Path;

use super::{which_in, Layout};
use crate::methods::quote;

/// The activation lines of the base env.
pub fn lines(layout: &Layout, env: &BTreeMap<String, String>) -> Vec<String> {
    let mut lines = vec!["export PIP_REQUIRE_VIRTUALENV=true".to_string()];
    let path = env.get("PATH").map(String::as_str).unwrap_or("");
    if which_in("python", path).is_some() {
        return lines;
    }
    let found =
        super::venv::local_python(super::BASE_PYTHON, env).or_else(|| which_in("python3", path));
    if let Some(python) = found {
        if link_python(&layout.base_bin(), &python).is_ok() {
            let dir = quote(&layout.base_bin().to_string_lossy());
            lines.push(format!("export PATH={dir}:\"$PATH\""));
        }
    }
    lines
}

/// `<dir>/python` → `python` (replaced when it points elsewhere).
fn link_python(dir: &Path, python: &Path) -> std::io::Result<()> {
    let link = dir.join("python");
    if std::fs::read_link(&link).ok().as_deref() == Some(python) {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    let tmp = crate::util::temp_sibling(&link);
    std::os::unix::fs::symlink(python, &tmp)?;
    std::fs::rename(&tmp, &link)
}
