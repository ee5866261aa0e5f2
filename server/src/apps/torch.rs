//! The app page's torch advice: which torch build the install script
//! would fetch and whether it fits this machine's GPU driver. Planning a
//! script runs its JavaScript, and the page asks every 1.5 s, so answers
//! are kept until the install script changes.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::SystemTime;

use super::error::{AppsError, Result};
use super::Apps;

/// A check and the install script (path, modification time) it was made from.
type Cached = (PathBuf, SystemTime, Option<engine::TorchCheck>);

/// Checks by app.
#[derive(Default)]
pub struct CheckCache(Mutex<HashMap<String, Cached>>);

impl Apps {
    /// `None` when the app has no install script, installs no torch, or
    /// its install script does not plan (that error shows when it runs).
    pub async fn torch_check(&self, app: &str) -> Result<Option<engine::TorchCheck>> {
        let dir = self.shared().existing_app(app)?;
        let Some((script, modified)) = ["install.js", "install.json"].iter().find_map(|f| {
            let p = dir.join(f);
            let m = p.metadata().ok().filter(|m| m.is_file())?.modified().ok()?;
            Some((p, m))
        }) else {
            return Ok(None);
        };
        let cache = &self.shared().torch_checks.0;
        if let Some((path, at, check)) = cache.lock().expect("torch cache").get(app) {
            if *path == script && *at == modified {
                return Ok(check.clone());
            }
        }
        let engine = self.shared().engine.clone();
        let planned = script.clone();
        let check = tokio::task::spawn_blocking(move || engine.torch_check(&planned))
            .await
            .map_err(|e| AppsError::Io {
                context: format!("checking the torch install of {app}"),
                source: std::io::Error::other(e.to_string()),
            })?
            .ok()
            .filter(|c| !c.findings.is_empty());
        cache
            .lock()
            .expect("torch cache")
            .insert(app.to_string(), (script, modified, check.clone()));
        Ok(check)
    }
}
