//! The virtual drive at uninstall and rename. Removing an app folder deletes its
//! symlinks into the drive, never the shared data (`remove_dir_all` does
//! not follow links); this forgets the app's links in the drive records so
//! they name only the apps that still use each folder. A drive folder no
//! app links any more is kept (it holds downloaded models; reinstalling
//! the app or a peer finds it again) and logged.

use std::path::Path;

/// Forgets the links of the app that lived in `app_dir`. Failures are
/// logged: the uninstall itself already succeeded.
pub async fn release(home: &Path, app_dir: &Path) {
    let root = engine::drive::root_for_home(home);
    let dir = app_dir.to_path_buf();
    let found = tokio::task::spawn_blocking(move || engine::drive::release_app(&root, &dir)).await;
    match found {
        Ok(Ok(r)) => {
            for folder in &r.unused {
                tracing::info!(folder = %folder.display(), "drive folder no longer linked by any app; kept");
            }
            if !r.unused_packages.is_empty() {
                tracing::info!(
                    count = r.unused_packages.len(),
                    "shared packages no longer linked by any venv; kept"
                );
            }
        }
        Ok(Err(e)) => tracing::warn!(app = %app_dir.display(), "forgetting drive links: {e}"),
        Err(e) => tracing::warn!(app = %app_dir.display(), "forgetting drive links: {e}"),
    }
}

/// Follows an app folder's rename in the drive records.
pub async fn moved(home: &Path, from: &Path, to: &Path) {
    let root = engine::drive::root_for_home(home);
    let (a, b) = (from.to_path_buf(), to.to_path_buf());
    match tokio::task::spawn_blocking(move || engine::drive::move_app(&root, &a, &b)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            tracing::warn!(app = %to.display(), "updating drive links after a rename: {e}")
        }
        Err(e) => tracing::warn!(app = %to.display(), "updating drive links after a rename: {e}"),
    }
}
