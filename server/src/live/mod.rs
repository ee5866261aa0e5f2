//! The push channel behind every live view (`app::live`): one hub per
//! server turns app events into small "what changed" messages, and one
//! sampler, shared by every subscriber, reads the machine on each beat.
//! Messages are serialised once and handed to every socket as is.

mod probe;
mod socket;

pub use probe::for_server;
pub use socket::{router, ROUTE};

use crate::apps::AppEvent;
use app::live::LiveEvent;
use axum::extract::ws::Utf8Bytes;
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::broadcast;

/// What one beat reads: the system tick and any app that changed without
/// an event of its own (a download's progress, a menu following a script's
/// variables). Called once per beat, however many subscribers there are.
pub type Probe = Arc<dyn Fn() -> BoxFuture<'static, Vec<LiveEvent>> + Send + Sync>;

/// When to sample (in the server: each new load sample).
pub type Beats = BoxStream<'static, ()>;

/// Messages a slow socket may fall behind by before it is told to resync.
const BACKLOG: usize = 256;

/// The hub. Clone freely.
#[derive(Clone)]
pub struct Live {
    inner: Arc<Inner>,
}

struct Inner {
    tx: broadcast::Sender<Utf8Bytes>,
    beats: AtomicU64,
    samples: AtomicU64,
}

impl Live {
    /// Starts forwarding `events` and sampling with `probe` on `beats`
    /// (only while someone listens). Needs a Tokio runtime.
    pub fn start(events: broadcast::Receiver<AppEvent>, beats: Beats, probe: Probe) -> Live {
        let live = Live {
            inner: Arc::new(Inner {
                tx: broadcast::channel(BACKLOG).0,
                beats: AtomicU64::new(0),
                samples: AtomicU64::new(0),
            }),
        };
        tokio::spawn(live.clone().forward(events));
        tokio::spawn(live.clone().sample(beats, probe));
        live
    }

    /// Every message from now on, already serialised.
    pub fn subscribe(&self) -> broadcast::Receiver<Utf8Bytes> {
        self.inner.tx.subscribe()
    }

    /// Sockets listening now.
    pub fn subscribers(&self) -> usize {
        self.inner.tx.receiver_count()
    }

    /// Beats seen so far, sampled or not.
    pub fn beats(&self) -> u64 {
        self.inner.beats.load(Ordering::SeqCst)
    }

    /// Times the probe ran: one per beat with listeners, not per listener.
    pub fn samples(&self) -> u64 {
        self.inner.samples.load(Ordering::SeqCst)
    }

    fn send(&self, event: &LiveEvent) {
        if self.subscribers() == 0 {
            return;
        }
        match serde_json::to_string(event) {
            Ok(text) => {
                let _ = self.inner.tx.send(text.into());
            }
            Err(err) => tracing::warn!("live: cannot encode {event:?}: {err}"),
        }
    }

    async fn forward(self, mut events: broadcast::Receiver<AppEvent>) {
        loop {
            match events.recv().await {
                Ok(event) => changes(&event).iter().for_each(|e| self.send(e)),
                Err(broadcast::error::RecvError::Lagged(_)) => self.send(&LiveEvent::Resync),
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }

    async fn sample(self, mut beats: Beats, probe: Probe) {
        while beats.next().await.is_some() {
            if self.subscribers() > 0 {
                let seq = self.inner.samples.fetch_add(1, Ordering::SeqCst) + 1;
                for mut event in probe().await {
                    if let LiveEvent::System(tick) = &mut event {
                        tick.seq = seq;
                    }
                    self.send(&event);
                }
            }
            self.inner.beats.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// What an app event means to the live views.
fn changes(event: &AppEvent) -> Vec<LiveEvent> {
    let app = |name: &str| LiveEvent::App {
        app: name.to_string(),
    };
    match event {
        AppEvent::InstallStarted { app: a, .. }
        | AppEvent::Installed { app: a }
        | AppEvent::InstallFailed { app: a, .. }
        | AppEvent::Uninstalled { app: a } => vec![LiveEvent::Apps, app(a)],
        AppEvent::Renamed { from, to } => vec![LiveEvent::Apps, app(from), app(to)],
        AppEvent::RunStarted { app: a, .. }
        | AppEvent::RunReady { app: a, .. }
        | AppEvent::RunEnded { app: a, .. }
        | AppEvent::Url { app: a, .. } => vec![LiveEvent::Runs, app(a)],
        AppEvent::Changed { app: a }
        | AppEvent::Notify { app: a, .. }
        | AppEvent::Open { app: a, .. }
        | AppEvent::Error { app: a, .. }
        | AppEvent::FormClosed { app: a, .. } => vec![app(a)],
        AppEvent::Form { form } => vec![app(&form.app)],
    }
}
