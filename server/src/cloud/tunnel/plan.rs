//! Choosing the provider and building its command line.

use super::{find_binary, ProviderKind, TunnelError};
use crate::cloud::env::Env;
use crate::cloud::platform::{Platform, TunnelPolicy};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Which provider to use (`--tunnel auto|cloudflared|ngrok`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProviderChoice {
    /// cloudflared if found, else ngrok if `NGROK_AUTHTOKEN` is set.
    #[default]
    Auto,
    Only(ProviderKind),
}

impl FromStr for ProviderChoice {
    type Err = TunnelError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(ProviderChoice::Auto),
            "cloudflared" | "cloudflare" => Ok(ProviderChoice::Only(ProviderKind::Cloudflared)),
            "ngrok" => Ok(ProviderChoice::Only(ProviderKind::Ngrok)),
            _ => Err(TunnelError::UnknownProvider { given: s.into() }),
        }
    }
}

/// Everything needed to run (and rerun) one tunnel process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    pub kind: ProviderKind,
    pub binary: PathBuf,
    pub args: Vec<String>,
    /// Extra environment for the process (the ngrok token).
    pub env: Vec<(String, String)>,
    /// The front door port it targets.
    pub port: u16,
}

/// Picks the provider for `platform` and builds its launch for the front
/// door `port`; refuses where the platform forbids tunnels.
pub fn plan(
    choice: ProviderChoice,
    platform: &dyn Platform,
    port: u16,
    env: &dyn Env,
    home_bin: &Path,
) -> Result<Launch, TunnelError> {
    if let TunnelPolicy::Forbidden(reason) = platform.tunnel_policy() {
        return Err(TunnelError::Forbidden {
            platform: platform.name().into(),
            reason,
        });
    }
    match choice {
        ProviderChoice::Only(ProviderKind::Cloudflared) => cloudflared(port, env, home_bin),
        ProviderChoice::Only(ProviderKind::Ngrok) => ngrok(port, env, home_bin),
        ProviderChoice::Auto => cloudflared(port, env, home_bin)
            .or_else(|_| ngrok(port, env, home_bin))
            .map_err(|_| TunnelError::NoProvider {
                home_bin: home_bin.to_path_buf(),
            }),
    }
}

fn cloudflared(port: u16, env: &dyn Env, home_bin: &Path) -> Result<Launch, TunnelError> {
    let kind = ProviderKind::Cloudflared;
    Ok(Launch {
        kind,
        binary: find_binary(kind, env, home_bin)?,
        args: kind.args(port),
        env: Vec::new(),
        port,
    })
}

fn ngrok(port: u16, env: &dyn Env, home_bin: &Path) -> Result<Launch, TunnelError> {
    let kind = ProviderKind::Ngrok;
    let token = env
        .var("NGROK_AUTHTOKEN")
        .ok_or(TunnelError::MissingNgrokToken)?;
    Ok(Launch {
        kind,
        binary: find_binary(kind, env, home_bin)?,
        args: kind.args(port),
        // Passed through the environment, never on the command line (`ps`).
        env: vec![("NGROK_AUTHTOKEN".into(), token)],
        port,
    })
}
