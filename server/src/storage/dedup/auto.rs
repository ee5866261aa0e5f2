//! The automatic pass: after an install finishes, or a run ends or reaches
//! its "ready" point (its downloads are done), a pass runs once things have
//! been quiet for a moment, unless switched off in Settings. Passes never
//! overlap, and a burst of events makes one pass, not one per event.

use super::{Options, Trigger};
use crate::apps::AppEvent;
use crate::store::Store;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::broadcast;

/// Quiet time after the last event before the pass starts.
pub const SETTLE: Duration = Duration::from_secs(10);

/// Which events mean new files may have landed, and why.
fn trigger(event: &AppEvent) -> Option<Trigger> {
    match event {
        AppEvent::Installed { .. } => Some(Trigger::AfterInstall),
        AppEvent::RunEnded { .. } | AppEvent::RunReady { .. } => Some(Trigger::AfterDownload),
        _ => None,
    }
}

/// Runs until the event channel closes (after a last pass if one was due).
pub fn spawn(
    home: PathBuf,
    store: Store,
    events: broadcast::Receiver<AppEvent>,
    settle: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(watch(home, store, events, settle))
}

async fn watch(
    home: PathBuf,
    store: Store,
    mut events: broadcast::Receiver<AppEvent>,
    settle: Duration,
) {
    loop {
        let Some(mut why) = next_trigger(&mut events).await else {
            return;
        };
        // Let the burst settle: each further event restarts the wait.
        let closed = loop {
            match tokio::time::timeout(settle, next_trigger(&mut events)).await {
                Ok(Some(later)) => why = later,
                Ok(None) => break true,
                Err(_) => break false,
            }
        };
        run_if_enabled(&home, &store, why).await;
        if closed {
            return;
        }
    }
}

async fn next_trigger(events: &mut broadcast::Receiver<AppEvent>) -> Option<Trigger> {
    loop {
        match events.recv().await {
            Ok(event) => {
                if let Some(why) = trigger(&event) {
                    return Some(why);
                }
            }
            // Missed events still mean something happened.
            Err(broadcast::error::RecvError::Lagged(_)) => return Some(Trigger::AfterDownload),
            Err(broadcast::error::RecvError::Closed) => return None,
        }
    }
}

async fn run_if_enabled(home: &std::path::Path, store: &Store, why: Trigger) {
    match super::auto_enabled(store).await {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => {
            tracing::warn!("automatic dedup skipped: {e:#}");
            return;
        }
    }
    match super::run(home, store, Options::new(why), &|_| {}).await {
        Ok(report) if report.files_linked > 0 => tracing::info!(
            "dedup after {why:?}: {} file(s) linked, {} freed",
            report.files_linked,
            super::human_bytes(report.bytes_saved)
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!("automatic dedup pass failed: {e:#}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ended() -> AppEvent {
        AppEvent::RunEnded {
            run_id: 1,
            app: "a".into(),
            outcome: "done".into(),
            reason: String::new(),
        }
    }

    /// Two copies of a model, a store, and the watcher fed one event.
    async fn after_one_event(auto: bool, event: AppEvent) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().to_path_buf();
        for app in ["a", "b"] {
            let p = home.join(format!("api/{app}/m.safetensors"));
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, vec![5u8; 17 * 1024 * 1024]).unwrap();
        }
        let store = Store::open(&home).await.unwrap();
        super::super::set_auto(&store, auto).await.unwrap();
        let (tx, rx) = broadcast::channel(8);
        let watcher = spawn(home, store.clone(), rx, Duration::from_millis(50));
        tx.send(event).unwrap();
        drop(tx);
        watcher.await.unwrap();
        (dir, store)
    }

    async fn passes(store: &Store) -> Vec<(String, i64)> {
        sqlx::query_as("SELECT trigger, files_linked FROM dedup_passes")
            .fetch_all(store.pool())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_finished_run_or_install_brings_a_pass_that_links_the_copies() {
        let (_home, store) = after_one_event(true, ended()).await;
        assert_eq!(passes(&store).await, [("after_download".to_string(), 1)]);
        let (_home, store) = after_one_event(true, AppEvent::Installed { app: "a".into() }).await;
        assert_eq!(passes(&store).await, [("after_install".to_string(), 1)]);
    }

    #[tokio::test]
    async fn no_pass_when_switched_off_or_for_events_that_bring_no_files() {
        let (_home, store) = after_one_event(false, ended()).await;
        assert!(passes(&store).await.is_empty());
        assert!(!super::super::auto_enabled(&store).await.unwrap());
        let (_home, store) = after_one_event(true, AppEvent::Changed { app: "a".into() }).await;
        assert!(passes(&store).await.is_empty());
    }
}
