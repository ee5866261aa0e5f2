//! The home folder: where apps, logs and the database live.

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};

/// `--home`, else `~/pinokio`.
pub fn resolve(explicit: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    match explicit {
        Some(path) => Ok(path),
        None => match dirs::home_dir() {
            Some(home) => Ok(home.join("pinokio")),
            None => bail!("cannot find your home folder; pass --home DIR to choose where PinokioCloud keeps its data"),
        },
    }
}

/// Creates the home if missing and proves it is writable, so a read-only
/// volume fails at start with the path named, not later inside an install.
pub fn prepare(home: &Path) -> anyhow::Result<PathBuf> {
    let hint = "pass --home DIR with a folder you can write to";
    std::fs::create_dir_all(home)
        .with_context(|| format!("cannot create the home folder {} ({hint})", home.display()))?;
    let probe = home.join(".pinokiocloud-write-test");
    std::fs::write(&probe, b"ok").with_context(|| {
        format!(
            "the home folder {} is not writable ({hint})",
            home.display()
        )
    })?;
    let _ = std::fs::remove_file(&probe);
    home.canonicalize()
        .with_context(|| format!("cannot resolve the home folder {}", home.display()))
}
