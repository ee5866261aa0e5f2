//! The server's beat and probe for [`Live`]: a beat per load sample (every
//! 2 s), and per beat one system tick plus the running apps whose state
//! moved without an event (downloads report progress, menus follow a
//! running script's variables). Reading them once here replaces every open
//! page re-reading its app each second.

use super::{Beats, Live, Probe};
use crate::apps::{Apps, RunningRun};
use crate::system::SystemMonitor;
use app::live::LiveEvent;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// A running app as seen on the last beat.
type Seen = BTreeMap<String, (Vec<RunningRun>, Option<engine::Menu>)>;

/// The hub as `serve` runs it.
pub fn for_server(apps: &Apps, system: Arc<SystemMonitor>) -> Live {
    let beats: Beats = Box::pin(futures_util::stream::unfold(
        system.samples(),
        |mut samples| async move {
            samples.changed().await.ok()?;
            Some(((), samples))
        },
    ));
    let seen = Arc::new(Mutex::new(Seen::new()));
    let probe_apps = apps.clone();
    let probe: Probe = Arc::new(move || {
        let (apps, system, seen) = (probe_apps.clone(), system.clone(), seen.clone());
        Box::pin(async move {
            let mut events = vec![LiveEvent::System(system.tick().await)];
            let moved = moved_apps(&apps, &seen).await;
            events.extend(moved.into_iter().map(|app| LiveEvent::App { app }));
            events
        })
    });
    Live::start(apps.events(), beats, probe)
}

/// Running apps whose runs or menu differ from the last beat.
async fn moved_apps(apps: &Apps, seen: &Mutex<Seen>) -> Vec<String> {
    let mut now = Seen::new();
    for run in apps.running() {
        now.entry(run.app.clone()).or_default().0.push(run);
    }
    for (app, (_, menu)) in now.iter_mut() {
        *menu = apps.menu(app).await.ok();
    }
    let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
    let moved = now
        .iter()
        .filter(|(app, state)| seen.get(*app) != Some(state))
        .map(|(app, _)| app.clone())
        .collect();
    *seen = now;
    moved
}
