//! The Storage page's calls: sizes from the background scanner, actions
//! that free space, and dedup (issue #10, item 2).

use crate::apps::Apps;
use crate::storage::service::{BusyCheck, Storage};
use app::api::StorageOverview;
use std::sync::Arc;

/// Sizes and dedup state, with which apps run now.
pub async fn overview(storage: &Storage, apps: &Apps) -> Result<StorageOverview, String> {
    let mut overview = storage.overview().await.map_err(|e| format!("{e:#}"))?;
    let running = apps.running();
    if let Some(usage) = &mut overview.usage {
        for app in &mut usage.apps {
            app.running = running.iter().any(|r| r.app == app.name);
        }
    }
    Ok(overview)
}

/// Apps that run or install now (a move of the shared models waits for none).
pub fn active_apps(apps: &Apps) -> Vec<String> {
    let mut names: Vec<String> = apps.running().into_iter().map(|r| r.app).collect();
    names.extend(apps.installs().into_iter().map(|p| p.app));
    names.sort();
    names.dedup();
    names
}

/// An app is busy while one of its scripts runs or it is being installed:
/// its venv is in use then.
pub fn busy_check(apps: &Apps) -> BusyCheck {
    let apps = apps.clone();
    Arc::new(move |name: &str| {
        if let Some(run) = apps.running().into_iter().find(|r| r.app == name) {
            return Some(format!(
                "it is running ({}, run {})",
                run.script, run.run_id
            ));
        }
        apps.installs()
            .iter()
            .any(|p| p.app == name)
            .then(|| "it is being installed".to_string())
    })
}
