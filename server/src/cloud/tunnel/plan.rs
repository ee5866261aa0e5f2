//! Choosing the provider and building how to run it.

use super::install::Download;
use super::ngrok_sdk::NgrokConfig;
use super::{find_binary, ProviderKind, TunnelError};
use crate::cloud::env::Env;
use crate::cloud::platform::{Platform, PlatformId, TunnelPolicy};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Which provider to use (`--tunnel auto|cloudflared|ngrok`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProviderChoice {
    /// cloudflared if found, else ngrok if `NGROK_AUTHTOKEN` is set, else
    /// cloudflared downloaded (where installing is allowed).
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

/// Everything needed to run (and rerun) one tunnel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    pub kind: ProviderKind,
    pub runner: Runner,
    /// The loopback port it targets (the front door, or an app's listener).
    pub port: u16,
}

/// How a tunnel runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Runner {
    /// A program whose log lines give the URL.
    Process {
        binary: PathBuf,
        args: Vec<String>,
        /// Extra environment for the process (the ngrok token).
        env: Vec<(String, String)>,
        /// Where to fetch `binary` from when it is missing.
        install: Option<Download>,
    },
    /// ngrok-rust inside this process: no program at all.
    NgrokSdk(NgrokConfig),
}

impl Launch {
    /// A launch of the program at `binary` with `kind`'s arguments for `port`.
    pub fn process(kind: ProviderKind, binary: PathBuf, port: u16) -> Launch {
        Launch {
            kind,
            runner: Runner::Process {
                binary,
                args: kind.args(port),
                env: Vec::new(),
                install: None,
            },
            port,
        }
    }

    /// The program run, if it is one (not in-process ngrok).
    pub fn binary(&self) -> Option<&Path> {
        match &self.runner {
            Runner::Process { binary, .. } => Some(binary.as_path()),
            Runner::NgrokSdk(_) => None,
        }
    }

    /// The same tunnel aimed at another loopback port.
    pub fn retarget(mut self, port: u16) -> Launch {
        if let Runner::Process { args, .. } = &mut self.runner {
            *args = self.kind.args(port);
        }
        self.port = port;
        self
    }
}

/// May a missing cloudflared be downloaded?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Install {
    Allowed,
    Never,
}

impl Install {
    /// `--tunnel cloudflared` asks for it outright; with `auto`, only on a
    /// cloud machine that has no public address of its own (Colab, Studio
    /// Lab…), where the tunnel is the way in. A laptop (generic) keeps
    /// today's behaviour: no tunnel unless one is installed or asked for.
    pub fn default_for(choice: ProviderChoice, platform: &dyn Platform, port: u16) -> Install {
        let needs_tunnel =
            platform.id() != PlatformId::Generic && platform.exposure(port).public_url.is_none();
        match choice {
            ProviderChoice::Only(ProviderKind::Cloudflared) => Install::Allowed,
            ProviderChoice::Auto if needs_tunnel => Install::Allowed,
            _ => Install::Never,
        }
    }
}

/// Picks the provider for `platform` and builds its launch for the loopback
/// `port`; refuses where the platform forbids tunnels. A cloudflared that is
/// not installed is downloaded on first run when `install` allows.
pub fn plan(
    choice: ProviderChoice,
    platform: &dyn Platform,
    port: u16,
    env: &dyn Env,
    home_bin: &Path,
) -> Result<Launch, TunnelError> {
    plan_with(choice, platform, port, env, home_bin, Install::Never)
}

/// [`plan`] with an explicit install policy.
pub fn plan_with(
    choice: ProviderChoice,
    platform: &dyn Platform,
    port: u16,
    env: &dyn Env,
    home_bin: &Path,
    install: Install,
) -> Result<Launch, TunnelError> {
    if let TunnelPolicy::Forbidden(reason) = platform.tunnel_policy() {
        return Err(TunnelError::Forbidden {
            platform: platform.name().into(),
            reason,
        });
    }
    match choice {
        ProviderChoice::Only(ProviderKind::Cloudflared) => {
            cloudflared(port, env, home_bin, install)
        }
        ProviderChoice::Only(ProviderKind::Ngrok) => ngrok(port, env, home_bin),
        ProviderChoice::Auto => cloudflared(port, env, home_bin, Install::Never)
            .or_else(|_| ngrok(port, env, home_bin))
            .or_else(|err| match install {
                Install::Allowed if !matches!(err, TunnelError::Ngrok { .. }) => {
                    cloudflared(port, env, home_bin, install)
                }
                _ => Err(err),
            })
            .map_err(|err| match err {
                TunnelError::MissingBinary { .. } | TunnelError::MissingNgrokToken => {
                    TunnelError::NoProvider {
                        home_bin: home_bin.to_path_buf(),
                    }
                }
                other => other,
            }),
    }
}

fn cloudflared(
    port: u16,
    env: &dyn Env,
    home_bin: &Path,
    install: Install,
) -> Result<Launch, TunnelError> {
    let kind = ProviderKind::Cloudflared;
    match find_binary(kind, env, home_bin) {
        Ok(binary) => Ok(Launch::process(kind, binary, port)),
        Err(missing) if install == Install::Allowed => {
            // Fails here (not at run time) on a machine with no pinned build.
            let download = Download::cloudflared(env).map_err(|_| missing)?;
            let mut launch = Launch::process(kind, home_bin.join(kind.binary_name()), port);
            if let Runner::Process { install, .. } = &mut launch.runner {
                *install = Some(download);
            }
            Ok(launch)
        }
        Err(missing) => Err(missing),
    }
}

/// ngrok: in-process with ngrok-rust (no program needed) once
/// `NGROK_AUTHTOKEN` is set.
fn ngrok(port: u16, env: &dyn Env, _home_bin: &Path) -> Result<Launch, TunnelError> {
    let config = NgrokConfig::from_env(env)?;
    Ok(Launch {
        kind: ProviderKind::Ngrok,
        runner: Runner::NgrokSdk(config),
        port,
    })
}
