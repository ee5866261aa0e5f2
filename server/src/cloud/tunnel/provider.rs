//! The two tunnel programs: their command lines and how their logs say
//! "the tunnel is up at URL" or "something failed".

use super::{cloudflared, ngrok};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    Cloudflared,
    Ngrok,
}

/// What one log line tells us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineEvent {
    /// The public URL of the tunnel.
    Url(String),
    /// An error worth showing if the process dies.
    Error(String),
    Other,
}

impl ProviderKind {
    /// The executable's name.
    pub fn binary_name(self) -> &'static str {
        match self {
            ProviderKind::Cloudflared => "cloudflared",
            ProviderKind::Ngrok => "ngrok",
        }
    }

    /// Where to download it.
    pub fn download_url(self) -> &'static str {
        match self {
            ProviderKind::Cloudflared => {
                "https://github.com/cloudflare/cloudflared/releases/latest"
            }
            ProviderKind::Ngrok => "https://ngrok.com/download",
        }
    }

    /// Arguments that tunnel `http://127.0.0.1:<port>`.
    pub fn args(self, port: u16) -> Vec<String> {
        match self {
            ProviderKind::Cloudflared => cloudflared::args(port),
            ProviderKind::Ngrok => ngrok::args(port),
        }
    }

    /// Reads one line of the program's stdout or stderr.
    pub fn parse_line(self, line: &str) -> LineEvent {
        match self {
            ProviderKind::Cloudflared => cloudflared::parse_line(line),
            ProviderKind::Ngrok => ngrok::parse_line(line),
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.binary_name())
    }
}
