//! What a supervised tunnel is doing, as the dashboard shows it.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum TunnelState {
    /// The first process is starting; no URL yet.
    Starting,
    /// Public at `url`.
    Up { url: String },
    /// The process died (or never produced a URL); trying again.
    Restarting { attempt: u32, last_error: String },
    /// Gave up; `reason` says why and what to do.
    Failed { reason: String },
    /// Stopped on request.
    Stopped,
}

impl TunnelState {
    pub fn url(&self) -> Option<&str> {
        match self {
            TunnelState::Up { url } => Some(url),
            _ => None,
        }
    }

    /// No further change will come.
    pub fn is_final(&self) -> bool {
        matches!(self, TunnelState::Failed { .. } | TunnelState::Stopped)
    }
}
