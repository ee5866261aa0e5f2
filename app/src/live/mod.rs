//! The tab's one push channel. The server says *what* changed (an app, the
//! running scripts, a new load sample) over [`PATH`], and each live view
//! refetches only what it shows, only when told: before, every view polled
//! on its own timer, so 30 open phones meant 30 requests every 1–2 s even
//! when nothing happened. When the socket cannot be held, a slow poll takes
//! over (see `socket`).

#[cfg(feature = "hydrate")]
mod socket;

use crate::api::{GpuView, LoadPoint, TunnelView};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Where the channel is served (a WebSocket: unlike `EventSource`, it does
/// not count against the browser's six HTTP/1.1 connections per host, so
/// many open tabs do not starve each other's requests).
pub const PATH: &str = "/ws/live";

/// One message on the channel, a JSON text frame.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LiveEvent {
    /// App `app`'s page may read differently now: runs, forms, notices,
    /// its menu or a download's progress.
    App { app: String },
    /// Apps were installed, removed or renamed.
    Apps,
    /// A script started or ended, or its web UI came up.
    Runs,
    /// A new load sample and GPU reading, taken once for all subscribers.
    System(SystemTick),
    /// Events may have been missed: every view refetches.
    Resync,
}

/// What the System page adds to its charts on each beat.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SystemTick {
    /// Counts the server's samples; every subscriber sees the same numbers.
    pub seq: u64,
    /// The server's clock (unix seconds): uptimes count on from it.
    pub now: i64,
    pub load: Option<LoadPoint>,
    pub gpus: Vec<GpuView>,
    pub tunnel: Option<TunnelView>,
}

/// The tab's view of the channel: counters the live views track.
#[derive(Clone, Copy)]
pub struct Live {
    /// Bumped on every event about any app.
    apps: RwSignal<u64>,
    /// Events per app; re-read when `apps` moves.
    per_app: StoredValue<HashMap<String, u64>>,
    runs: RwSignal<u64>,
    system: RwSignal<Option<SystemTick>>,
    /// Bumped when events may have been missed (connect, reconnect, the
    /// fallback poll): every view refetches.
    resync: RwSignal<u64>,
    opened: StoredValue<bool>,
}

/// Makes the tab's [`Live`] available to every page; call once at the root.
pub fn provide() {
    provide_context(Live {
        apps: RwSignal::new(0),
        per_app: StoredValue::new(HashMap::new()),
        runs: RwSignal::new(0),
        system: RwSignal::new(None),
        resync: RwSignal::new(0),
        opened: StoredValue::new(false),
    });
}

/// The tab's channel, connected on first use in the browser (the server
/// renders one snapshot and never connects).
pub fn use_live() -> Live {
    let live = use_context::<Live>().expect("live::provide() at the root");
    if !live.opened.get_value() {
        live.opened.set_value(true);
        #[cfg(feature = "hydrate")]
        socket::connect(live);
    }
    live
}

impl Live {
    /// Applies one event from the server.
    pub fn apply(&self, event: LiveEvent) {
        match event {
            LiveEvent::App { app } => {
                self.per_app
                    .update_value(|m| *m.entry(app).or_default() += 1);
                self.apps.update(|n| *n += 1);
            }
            LiveEvent::Apps => self.apps.update(|n| *n += 1),
            LiveEvent::Runs => self.runs.update(|n| *n += 1),
            LiveEvent::System(tick) => self.system.set(Some(tick)),
            LiveEvent::Resync => self.resync.update(|n| *n += 1),
        }
    }

    /// Changes when anything about app `name` may have (tracked).
    pub fn app(&self, name: &str) -> (u64, u64) {
        self.apps.track();
        let events = self
            .per_app
            .with_value(|m| m.get(name).copied().unwrap_or(0));
        (events, self.resync.get())
    }

    /// Changes when any app, or the list of apps, may have (tracked).
    pub fn any_app(&self) -> (u64, u64) {
        (self.apps.get(), self.resync.get())
    }

    /// Changes when the running scripts may have (tracked).
    pub fn runs(&self) -> (u64, u64) {
        (self.runs.get(), self.resync.get())
    }

    /// Changes when events may have been missed (tracked).
    pub fn resync(&self) -> u64 {
        self.resync.get()
    }

    /// The newest system sample, if one came since the page loaded (tracked).
    pub fn system(&self) -> Option<SystemTick> {
        self.system.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_travel_as_tagged_json() {
        let app = LiveEvent::App { app: "x".into() };
        assert_eq!(
            serde_json::to_string(&app).unwrap(),
            r#"{"kind":"app","app":"x"}"#
        );
        let tick = LiveEvent::System(SystemTick {
            seq: 3,
            now: 10,
            load: None,
            gpus: vec![],
            tunnel: None,
        });
        let text = serde_json::to_string(&tick).unwrap();
        assert!(text.starts_with(r#"{"kind":"system","seq":3"#), "{text}");
        assert_eq!(serde_json::from_str::<LiveEvent>(&text).unwrap(), tick);
    }

    #[test]
    fn an_event_about_one_app_moves_only_that_app() {
        let owner = Owner::new();
        owner.with(|| {
            provide();
            let live = use_context::<Live>().unwrap();
            let (a, b) = (live.app("a"), live.app("b"));
            live.apply(LiveEvent::App { app: "a".into() });
            assert_ne!(live.app("a"), a);
            assert_eq!(live.app("b"), b);
            live.apply(LiveEvent::Resync);
            assert_ne!(live.app("b"), b, "a resync refetches everything");
        });
    }
}
