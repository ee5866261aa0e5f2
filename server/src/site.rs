//! Finds the built site (the hydration JS, WASM and CSS under `pkg/`), so a
//! release binary copied to a GPU box works from any working directory.

use anyhow::bail;
use std::path::{Path, PathBuf};

/// The file whose presence marks a built site.
fn marker(site: &Path) -> PathBuf {
    site.join("pkg").join(format!("{}.js", app::OUTPUT_NAME))
}

/// `--site`, else `site/` next to the binary, else the workspace build output.
/// `None` when no built site exists: pages still render, without hydration.
pub fn locate(explicit: Option<PathBuf>) -> anyhow::Result<Option<PathBuf>> {
    if let Some(site) = explicit {
        if !marker(&site).is_file() {
            bail!(
                "--site {} has no pkg/{}.js; build it with `make build` or point --site at a built site",
                site.display(),
                app::OUTPUT_NAME
            );
        }
        return Ok(Some(site));
    }
    let beside_binary = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("site")));
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/site");
    Ok(beside_binary
        .into_iter()
        .chain([workspace])
        .find(|site| marker(site).is_file())
        .and_then(|site| site.canonicalize().ok()))
}
