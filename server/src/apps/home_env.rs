//! The home ENVIRONMENT file (`<home>/ENVIRONMENT`): variables every app's
//! processes get. Written with Pinokio's defaults when the supervisor opens
//! a home without one; shown and edited in Settings → Environment.
//!
//! A save is validated first (every bad line is named with its number and
//! the fix, and nothing is written), then written to a temporary file that
//! replaces the old one in one rename, so a crash never leaves a
//! half-written file.

use super::{Apps, AppsError, Result};
use std::path::PathBuf;

/// The home file's path and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HomeEnvironment {
    pub path: PathBuf,
    pub text: String,
}

/// Writes Pinokio's default home ENVIRONMENT when the home has none (never
/// touching an existing one).
pub(super) fn ensure(home: &std::path::Path) -> Result<()> {
    engine::environment::ensure_home_file(home)
        .map(drop)
        .map_err(|e| AppsError::Environment {
            app: "home".into(),
            message: e.to_string(),
        })
}

/// Largest text accepted from the editor.
const MAX_LEN: usize = 256 * 1024;

impl Apps {
    fn home_env_path(&self) -> PathBuf {
        self.home().join("ENVIRONMENT")
    }

    /// The home ENVIRONMENT as it is on disk (generated first if missing).
    pub fn home_environment(&self) -> Result<HomeEnvironment> {
        let path = self.home_env_path();
        ensure(self.home())?;
        let bytes =
            std::fs::read(&path).map_err(AppsError::io(format!("reading {}", path.display())))?;
        Ok(HomeEnvironment {
            text: engine::environment::file::decode(&bytes),
            path,
        })
    }

    /// Replaces the home ENVIRONMENT with `text` when every line is valid.
    /// Scripts started afterwards see the new values.
    pub fn set_home_environment(&self, text: &str) -> Result<()> {
        let path = self.home_env_path();
        if text.len() > MAX_LEN {
            return Err(AppsError::Environment {
                app: "home".into(),
                message: format!(
                    "the text is {} bytes; the limit is {MAX_LEN}: keep large data out of ENVIRONMENT",
                    text.len()
                ),
            });
        }
        let problems = engine::environment::validate(text);
        if !problems.is_empty() {
            let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
            return Err(AppsError::Environment {
                app: format!("{} was not saved, fix these lines", path.display()),
                message: format!("\n{}", list.join("\n")),
            });
        }
        let mut text = text.replace("\r\n", "\n");
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        engine::environment::file::write_atomic(&path, &text).map_err(|e| AppsError::Environment {
            app: "home".into(),
            message: e.to_string(),
        })
    }
}
