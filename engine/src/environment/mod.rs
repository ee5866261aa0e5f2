//! The environment of child processes and the ENVIRONMENT files behind it.
//!
//! - [`file`]: the dotenv format, where an app's file lives, validation and
//!   crash-safe writes;
//! - [`defaults`]: the generated home and app files (Pinokio's defaults);
//! - [`build`]: the variables a shell gets, layer by layer (spec §8.1).

pub mod build;
pub mod defaults;
pub mod file;

use std::path::{Path, PathBuf};

pub use build::{dropped, template_env, ACTIVATION, FIXED, KEPT_CUDA, KEPT_SSL};
pub use defaults::{ensure_app_file, ensure_home_file};
pub use file::{app_file, validate, LineProblem};

/// Why an ENVIRONMENT file or folder could not be written.
#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    #[error("{what} {path}: {source}. Fix: make the folder writable (or free disk space) and try again.", path = .path.display())]
    Io {
        what: String,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot create the folder {dir} named by {key} in {file}: {source}. Fix: change {key} there to a folder that can be created.", dir = .dir.display(), file = .file.display())]
    Folder {
        key: String,
        file: PathBuf,
        dir: PathBuf,
        source: std::io::Error,
    },
}

/// Before a script of `app_dir` runs: the home ENVIRONMENT and (for apps
/// under `<home>/api`) the app's are generated when missing, and the
/// folders both name are created. Folders that cannot be created are
/// returned, to be told; a file that cannot be written is an error.
pub fn prepare(home: &Path, app_dir: Option<&Path>) -> Result<Vec<EnvError>, EnvError> {
    ensure_home_file(home)?;
    let mut warnings = defaults::create_folders(&home.join("ENVIRONMENT"), home);
    // Interactive shells save their history to `HISTFILE` there.
    let history = home.join("history");
    if let Err(e) = std::fs::create_dir_all(&history) {
        warnings.push(EnvError::Io {
            what: "creating the shell history folder".into(),
            path: history,
            source: e,
        });
    }
    if let Some(app) = app_dir {
        ensure_app_file(home, app)?;
        warnings.extend(defaults::create_folders(&app_file(app), app));
    }
    Ok(warnings)
}
