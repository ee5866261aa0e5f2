//! Paperspace Gradient notebooks.
//!
//! Markers: `PAPERSPACE_FQDN`, `PAPERSPACE_NOTEBOOK_REPO_ID`,
//! `PAPERSPACE_CLUSTER_ID`. Gradient publishes exactly one extra port, 6006
//! (meant for TensorBoard), at `https://tensorboard-$PAPERSPACE_FQDN/`; that is
//! how web UIs such as ComfyUI are reached there. `/storage` is the persistent
//! storage shared by a team's notebooks, `/notebooks` the notebook's own
//! persistent folder.

use super::{Exposure, HomeChoice, Platform, PlatformId, TunnelPolicy};
use crate::cloud::env::Env;
use std::path::{Path, PathBuf};

/// The only port Gradient publishes.
pub const PUBLISHED_PORT: u16 = 6006;

const MARKERS: [&str; 3] = [
    "PAPERSPACE_FQDN",
    "PAPERSPACE_NOTEBOOK_REPO_ID",
    "PAPERSPACE_CLUSTER_ID",
];

pub fn detect(env: &dyn Env) -> Option<Box<dyn Platform>> {
    MARKERS
        .iter()
        .any(|m| env.has(m))
        .then(|| Box::new(Paperspace::from_env(env)) as Box<dyn Platform>)
}

#[derive(Debug)]
pub struct Paperspace {
    fqdn: Option<String>,
    has_storage: bool,
    has_notebooks: bool,
    home_dir: PathBuf,
}

impl Paperspace {
    pub fn from_env(env: &dyn Env) -> Self {
        Paperspace {
            fqdn: env.var("PAPERSPACE_FQDN"),
            has_storage: env.path_exists(Path::new("/storage")),
            has_notebooks: env.path_exists(Path::new("/notebooks")),
            home_dir: super::home_pinokio(env),
        }
    }
}

impl Platform for Paperspace {
    fn id(&self) -> PlatformId {
        PlatformId::Paperspace
    }

    fn name(&self) -> &'static str {
        "Paperspace Gradient"
    }

    fn home(&self) -> HomeChoice {
        let (path, persistent, note) = if self.has_storage {
            (PathBuf::from("/storage/pinokio"), true, None)
        } else if self.has_notebooks {
            (PathBuf::from("/notebooks/pinokio"), true, None)
        } else {
            (
                self.home_dir.clone(),
                false,
                Some("neither /storage nor /notebooks exists, so data is lost when the notebook stops".into()),
            )
        };
        HomeChoice {
            path,
            persistent,
            persistent_alternative: None,
            note,
        }
    }

    fn exposure(&self, port: u16) -> Exposure {
        let mut warnings = Vec::new();
        if port != PUBLISHED_PORT {
            warnings.push(format!(
                "Paperspace Gradient publishes only port {PUBLISHED_PORT}, but the dashboard \
                 listens on {port}: restart it with --port {PUBLISHED_PORT} to reach it at \
                 https://tensorboard-<PAPERSPACE_FQDN>/"
            ));
        }
        let public_url = match &self.fqdn {
            Some(fqdn) if port == PUBLISHED_PORT => Some(format!("https://tensorboard-{fqdn}/")),
            Some(_) => None,
            None => {
                warnings.push("PAPERSPACE_FQDN is not set, so the notebook URL is unknown".into());
                None
            }
        };
        Exposure {
            public_url,
            warnings,
            ssh_hint: None,
        }
    }

    fn tunnel_policy(&self) -> TunnelPolicy {
        TunnelPolicy::Forbidden(format!(
            "Paperspace Gradient does not allow tunnels (ngrok, cloudflared) from notebooks and \
             may shut the machine down; use the published port {PUBLISHED_PORT} instead"
        ))
    }
}
