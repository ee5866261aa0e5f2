//! The typed stream a run produces. The server forwards these to the UI; the
//! CLI prints them. Sending never blocks and never fails the run.

use std::path::PathBuf;

use serde::{Serialize, Serializer};
use serde_json::Value;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

/// One thing that happened during a run.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A script (top level or called by `script.start`) begins.
    ScriptStart { script: PathBuf, args: Value },
    /// A step begins; `step` is the rendered step (method, params...).
    StepStart {
        script: PathBuf,
        index: usize,
        total: usize,
        step: Value,
    },
    /// Raw terminal bytes of a shell (ANSI included).
    Output {
        script: PathBuf,
        shell: String,
        #[serde(serialize_with = "lossy")]
        data: Vec<u8>,
    },
    /// A step finished; `result` becomes the next step's `input`.
    StepEnd {
        script: PathBuf,
        index: usize,
        result: Value,
    },
    /// A method that concerns a person (notify, input, web.open...).
    Method {
        script: PathBuf,
        index: usize,
        method: String,
        params: Value,
    },
    /// A download or extraction moved on (read off the shell's own
    /// progress bar: pip, uv, curl, git, Hugging Face); throttled.
    Progress {
        script: PathBuf,
        shell: String,
        progress: crate::progress::Progress,
    },
    /// Something went wrong that Pinokio passes over (a shell command's
    /// non-zero exit); the run goes on, and the server records it.
    Warning {
        script: PathBuf,
        index: usize,
        message: String,
    },
    /// `log` method output and `console.log` of scripts.
    Log { script: PathBuf, text: String },
    /// A run failed; `message` is the full error.
    Error { script: PathBuf, message: String },
    /// A daemon script finished its steps and keeps its processes running.
    DaemonReady { script: PathBuf },
    /// A script ended (`ok` false on error, `stopped` when stopped).
    ScriptEnd {
        script: PathBuf,
        ok: bool,
        stopped: bool,
    },
}

fn lossy<S: Serializer>(data: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&String::from_utf8_lossy(data))
}

/// Where events go. Cloneable; a sink without a receiver drops events.
#[derive(Clone, Default)]
pub struct EventSink(Option<UnboundedSender<Event>>);

impl EventSink {
    /// A sink that discards everything.
    pub fn none() -> Self {
        EventSink(None)
    }

    /// Whether anyone listens (lets callers skip building costly events).
    pub fn is_connected(&self) -> bool {
        self.0.as_ref().is_some_and(|tx| !tx.is_closed())
    }

    pub fn emit(&self, e: Event) {
        if let Some(tx) = &self.0 {
            let _ = tx.send(e);
        }
    }
}

/// A connected sink/receiver pair. The receiver works from async code
/// (`recv().await`) and from threads (`blocking_recv()`).
pub fn channel() -> (EventSink, UnboundedReceiver<Event>) {
    let (tx, rx) = unbounded_channel();
    (EventSink(Some(tx)), rx)
}
