//! Which cloud we run on, and what that means for PinokioCloud: where the
//! home should live, how the front door (the one dashboard port) is reached
//! from outside, and whether tunnels are allowed.
//!
//! Detection reads explicit platform variables only (never a bare
//! `/workspace` or `/content` folder), first match wins; see each module for
//! the variables it trusts and where they are documented.

mod colab;
mod generic;
mod kaggle;
mod lightning;
mod paperspace;
mod runpod;
mod studio_lab;
mod vast;

use super::env::Env;
use serde::Serialize;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// Every platform PinokioCloud knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PlatformId {
    Colab,
    Runpod,
    Vast,
    Lightning,
    Paperspace,
    Kaggle,
    SagemakerStudioLab,
    Generic,
}

impl PlatformId {
    pub const ALL: [PlatformId; 8] = [
        PlatformId::Colab,
        PlatformId::Runpod,
        PlatformId::Vast,
        PlatformId::Lightning,
        PlatformId::Paperspace,
        PlatformId::Kaggle,
        PlatformId::SagemakerStudioLab,
        PlatformId::Generic,
    ];

    /// The id as written in config and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            PlatformId::Colab => "colab",
            PlatformId::Runpod => "runpod",
            PlatformId::Vast => "vast",
            PlatformId::Lightning => "lightning",
            PlatformId::Paperspace => "paperspace",
            PlatformId::Kaggle => "kaggle",
            PlatformId::SagemakerStudioLab => "sagemaker_studio_lab",
            PlatformId::Generic => "generic",
        }
    }
}

impl fmt::Display for PlatformId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown `--platform` value.
#[derive(Debug, thiserror::Error)]
#[error("unknown platform {given:?}; use one of: {}", PlatformId::ALL.map(|p| p.as_str()).join(", "))]
pub struct UnknownPlatform {
    pub given: String,
}

impl FromStr for PlatformId {
    type Err = UnknownPlatform;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase().replace('-', "_");
        PlatformId::ALL
            .into_iter()
            .find(|p| p.as_str() == wanted)
            .ok_or_else(|| UnknownPlatform { given: s.into() })
    }
}

/// Where the home should live on this platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HomeChoice {
    pub path: PathBuf,
    /// Survives the machine being stopped or recycled.
    pub persistent: bool,
    /// A slower but persistent place, when the default is the fast disk.
    pub persistent_alternative: Option<PathBuf>,
    /// Something the user should know about this choice.
    pub note: Option<String>,
}

/// How the front door port is reached from outside.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exposure {
    pub public_url: Option<String>,
    pub warnings: Vec<String>,
    /// An SSH port-forward command that reaches the port from a laptop.
    pub ssh_hint: Option<String>,
}

/// Whether a tunnel (cloudflared, ngrok) may be started here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TunnelPolicy {
    Allowed,
    /// Allowed, but the user should know the risk.
    Discouraged(String),
    /// Refused; the text explains why and what to do instead.
    Forbidden(String),
}

impl TunnelPolicy {
    pub fn allows(&self) -> bool {
        !matches!(self, TunnelPolicy::Forbidden(_))
    }
}

/// One cloud's quirks. Built from an [`Env`] snapshot at detection time.
pub trait Platform: Send + Sync + fmt::Debug {
    fn id(&self) -> PlatformId;
    /// Human name, e.g. "RunPod".
    fn name(&self) -> &'static str;
    /// The default home for this platform.
    fn home(&self) -> HomeChoice;
    /// How the front door on `port` is reached from outside.
    fn exposure(&self, port: u16) -> Exposure;
    fn tunnel_policy(&self) -> TunnelPolicy {
        TunnelPolicy::Allowed
    }
    /// Ports (besides the dashboard's) that the outside already reaches and
    /// that apps may each take as an origin of their own. Empty where the
    /// platform does not say which ports it exposes (`--app-ports` adds).
    fn app_ports(&self) -> Vec<u16> {
        Vec::new()
    }
    /// The public URL of `port`, where the platform publishes every exposed
    /// port at an address of its own.
    fn public_url_for_port(&self, _port: u16) -> Option<String> {
        None
    }
}

type Detector = fn(&dyn Env) -> Option<Box<dyn Platform>>;

/// Checked in order; the first that recognises its variables wins.
const DETECTORS: [Detector; 7] = [
    colab::detect,
    kaggle::detect,
    runpod::detect,
    vast::detect,
    lightning::detect,
    paperspace::detect,
    studio_lab::detect,
];

/// The platform this environment belongs to; [`generic`] when none matches.
pub fn detect(env: &dyn Env) -> Box<dyn Platform> {
    DETECTORS
        .iter()
        .find_map(|detector| detector(env))
        .unwrap_or_else(|| Box::new(generic::Generic::from_env(env)))
}

/// The named platform built from `env`, for an explicit `--platform` choice
/// that overrides detection.
pub fn by_id(id: PlatformId, env: &dyn Env) -> Box<dyn Platform> {
    match id {
        PlatformId::Colab => Box::new(colab::Colab::from_env(env)),
        PlatformId::Runpod => Box::new(runpod::Runpod::from_env(env)),
        PlatformId::Vast => Box::new(vast::Vast::from_env(env)),
        PlatformId::Lightning => Box::new(lightning::Lightning::from_env(env)),
        PlatformId::Paperspace => Box::new(paperspace::Paperspace::from_env(env)),
        PlatformId::Kaggle => Box::new(kaggle::Kaggle::from_env(env)),
        PlatformId::SagemakerStudioLab => Box::new(studio_lab::StudioLab::from_env(env)),
        PlatformId::Generic => Box::new(generic::Generic::from_env(env)),
    }
}

/// What the dashboard shows about the platform (serializable).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlatformReport {
    pub id: PlatformId,
    pub name: String,
    pub home: PathBuf,
    pub home_is_persistent: bool,
    /// A slower persistent home the user may choose with `--home`.
    pub persistent_home: Option<PathBuf>,
    pub public_url: Option<String>,
    pub tunnels_allowed: bool,
    pub warnings: Vec<String>,
    pub ssh_hint: Option<String>,
}

impl PlatformReport {
    /// The report for `platform` with the front door on `port`.
    pub fn new(platform: &dyn Platform, port: u16) -> Self {
        let home = platform.home();
        let exposure = platform.exposure(port);
        let policy = platform.tunnel_policy();
        let mut warnings = Vec::new();
        warnings.extend(home.note);
        warnings.extend(exposure.warnings);
        match &policy {
            TunnelPolicy::Allowed => {}
            TunnelPolicy::Discouraged(why) | TunnelPolicy::Forbidden(why) => {
                warnings.push(why.clone())
            }
        }
        PlatformReport {
            id: platform.id(),
            name: platform.name().into(),
            home: home.path,
            home_is_persistent: home.persistent,
            persistent_home: home.persistent_alternative,
            public_url: exposure.public_url,
            tunnels_allowed: policy.allows(),
            warnings,
            ssh_hint: exposure.ssh_hint,
        }
    }
}

/// Detects the platform in `env` and reports on it for `port`.
pub fn report(env: &dyn Env, port: u16) -> PlatformReport {
    PlatformReport::new(detect(env).as_ref(), port)
}

/// `ssh [-p PORT] -L port:127.0.0.1:port user@host`: the port-forward that
/// reaches the front door from a laptop.
fn ssh_forward(port: u16, ssh_port: Option<&str>, user: &str, host: &str) -> String {
    let ssh_port = ssh_port
        .filter(|p| *p != "22")
        .map(|p| format!("-p {p} "))
        .unwrap_or_default();
    format!("ssh {ssh_port}-L {port}:127.0.0.1:{port} {user}@{host}")
}

/// `$HOME/pinokio`, or `/root/pinokio` when `$HOME` is unknown.
fn home_pinokio(env: &dyn Env) -> PathBuf {
    env.home_dir()
        .unwrap_or_else(|| PathBuf::from("/root"))
        .join("pinokio")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::env::FixtureEnv;

    #[test]
    fn ids_round_trip_through_from_str() {
        for id in PlatformId::ALL {
            assert_eq!(id.as_str().parse::<PlatformId>().unwrap(), id);
        }
        assert_eq!(
            "SageMaker-Studio-Lab".parse::<PlatformId>().unwrap(),
            PlatformId::SagemakerStudioLab
        );
        let err = "heroku".parse::<PlatformId>().unwrap_err().to_string();
        assert!(err.contains("heroku") && err.contains("runpod"), "{err}");
    }

    #[test]
    fn ssh_forward_omits_default_port() {
        assert_eq!(
            ssh_forward(42000, Some("22"), "root", "1.2.3.4"),
            "ssh -L 42000:127.0.0.1:42000 root@1.2.3.4"
        );
        assert_eq!(
            ssh_forward(8080, Some("40022"), "root", "1.2.3.4"),
            "ssh -p 40022 -L 8080:127.0.0.1:8080 root@1.2.3.4"
        );
    }

    #[test]
    fn by_id_overrides_detection() {
        let env = FixtureEnv::new().with_var("HOME", "/root");
        assert_eq!(detect(&env).id(), PlatformId::Generic);
        let forced = by_id(PlatformId::Runpod, &env);
        assert_eq!(forced.id(), PlatformId::Runpod);
    }
}
