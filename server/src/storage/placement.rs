//! Where the shared models (the virtual drive's peer folders) are kept: on
//! the home's disk, or on a persistent volume while venvs stay on the fast
//! local disk. The move itself is the engine's ([`engine::drive::move_peers`]);
//! this decides where a platform's persistent place is and when a move may
//! run.

use anyhow::Context;
use std::path::{Path, PathBuf};

/// The folder a move to persistent storage uses under a volume.
const FOLDER: &str = "pinokiocloud-models";

/// Where the shared models are now, and where they could go.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ModelsPlacement {
    pub folder: PathBuf,
    /// On a volume rather than under the drive root.
    pub moved: bool,
    /// A persistent place on another filesystem than the home, if the
    /// platform has one (Colab's Drive, RunPod's or Vast's `/workspace`).
    pub suggested: Option<PathBuf>,
}

pub fn describe(home: &Path, persistent_hints: &[PathBuf]) -> ModelsPlacement {
    let now = engine::drive::placement(&engine::drive::root_for_home(home));
    ModelsPlacement {
        folder: now.folder,
        moved: now.moved,
        suggested: suggested(home, persistent_hints),
    }
}

/// The first persistent place that is not on the home's filesystem.
pub fn suggested(home: &Path, persistent_hints: &[PathBuf]) -> Option<PathBuf> {
    let home_mount = engine::sys::disk::mount_point(home);
    persistent_hints
        .iter()
        .filter_map(|p| p.parent().map(Path::to_path_buf))
        .chain(std::iter::once(PathBuf::from("/workspace")))
        .filter(|p| p.is_dir())
        .find(|p| engine::sys::disk::mount_point(p) != home_mount)
        .map(|p| p.join(FOLDER))
}

/// Moves the shared models to `to` (`None`: back under the home's drive).
/// `running` names apps that run now: a move waits for none.
pub async fn move_models(
    home: &Path,
    to: Option<PathBuf>,
    running: Vec<String>,
    progress: impl FnMut(u64, u64) + Send + 'static,
) -> anyhow::Result<ModelsPlacement> {
    if !running.is_empty() {
        anyhow::bail!(
            "stop {} first: a running app may have its models open while they move",
            running.join(", ")
        );
    }
    if let Some(to) = &to {
        if !to.is_absolute() {
            anyhow::bail!(
                "{} is not an absolute path; give the full path of a folder on the volume, e.g. /workspace/{FOLDER}",
                to.display()
            );
        }
    }
    let root = engine::drive::root_for_home(home);
    let mut progress = progress;
    let moved = tokio::task::spawn_blocking(move || {
        engine::drive::move_peers(&root, to.as_deref(), &mut progress)
    })
    .await
    .context("moving the shared models")??;
    Ok(ModelsPlacement {
        folder: moved.folder,
        moved: moved.moved,
        suggested: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_move_is_refused_while_apps_run_or_for_a_relative_path() {
        let home = tempfile::tempdir().unwrap();
        let err = move_models(
            home.path(),
            Some("/tmp/x".into()),
            vec!["comfy".into()],
            |_, _| {},
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("stop comfy first"), "{err}");
        let err = move_models(home.path(), Some("models".into()), vec![], |_, _| {})
            .await
            .unwrap_err();
        assert!(err.to_string().contains("not an absolute path"), "{err}");
    }

    #[tokio::test]
    async fn models_move_to_the_volume_and_back_through_the_server() {
        let base = tempfile::tempdir().unwrap();
        let home = base.path().join("home");
        let model = home.join("drive/drives/peers/p1/models/m.safetensors");
        std::fs::create_dir_all(model.parent().unwrap()).unwrap();
        std::fs::write(&model, b"weights").unwrap();
        let volume = base.path().join("volume").join(FOLDER);
        let placed = move_models(&home, Some(volume.clone()), vec![], |_, _| {})
            .await
            .unwrap();
        assert!(placed.moved);
        assert_eq!(describe(&home, &[]).folder, volume);
        assert_eq!(std::fs::read(&model).unwrap(), b"weights");
        let back = move_models(&home, None, vec![], |_, _| {}).await.unwrap();
        assert!(!back.moved);
        assert_eq!(std::fs::read(&model).unwrap(), b"weights");
    }
}
