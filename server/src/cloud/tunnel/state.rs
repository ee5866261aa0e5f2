//! What a supervised tunnel is doing, as the dashboard shows it.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum TunnelState {
    /// The first process is starting; no URL yet.
    Starting,
    /// Downloading the tunnel program from `url` first.
    Installing {
        url: String,
        received: u64,
        total: Option<u64>,
    },
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

/// A state as three display fields: `state` (`starting`, `installing`,
/// `up`, `restarting`, `failed`, `stopped`), the URL and a detail line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateSummary {
    pub state: &'static str,
    pub url: Option<String>,
    pub detail: Option<String>,
}

impl TunnelState {
    pub fn summary(&self) -> StateSummary {
        let (state, url, detail) = match self {
            TunnelState::Starting => ("starting", None, None),
            TunnelState::Installing {
                url,
                received,
                total,
            } => {
                let progress = super::install::describe(super::install::Progress {
                    received: *received,
                    total: *total,
                });
                (
                    "installing",
                    None,
                    Some(format!("downloading {url}: {progress}")),
                )
            }
            TunnelState::Up { url } => ("up", Some(url.clone()), None),
            TunnelState::Restarting {
                attempt,
                last_error,
            } => (
                "restarting",
                None,
                Some(format!("attempt {attempt}: {last_error}")),
            ),
            TunnelState::Failed { reason } => ("failed", None, Some(reason.clone())),
            TunnelState::Stopped => ("stopped", None, None),
        };
        StateSummary { state, url, detail }
    }
}
