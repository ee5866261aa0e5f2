//! Why a virtual-drive operation failed. Every message names the path
//! involved and, where one exists, the fix.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum DriveError {
    /// A filesystem call failed on `path`.
    #[error("{what} {path}: {source}", path = .path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A path the script asked to link holds a file, not a folder.
    #[error("fs.link: {path} is a file, but a drive entry links a folder. Fix: point `{name}` at the folder that holds the files (e.g. its parent).", path = .path.display())]
    NotAFolder { name: String, path: PathBuf },
    /// A source folder still had entries after its files were moved.
    #[error("fs.link: {path} still has files after moving them into {drive}; nothing was deleted. Fix: move what is left by hand, then run the install again.", path = .path.display(), drive = .drive.display())]
    NotEmptied { path: PathBuf, drive: PathBuf },
    /// A record file under the drive is not valid JSON.
    #[error("the drive record {path} is not valid JSON ({message}). Fix: delete it; it is rebuilt the next time an app links the drive.", path = .path.display())]
    Record { path: PathBuf, message: String },
    /// The shared model folders cannot move where asked (why, and the fix).
    #[error("moving the shared models: {0}")]
    Placement(String),
}

impl DriveError {
    /// A closure for `map_err` that adds what was done and to which path.
    pub fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> DriveError {
        let path = path.to_path_buf();
        move |source| DriveError::Io { what, path, source }
    }
}

pub type Result<T> = std::result::Result<T, DriveError>;
