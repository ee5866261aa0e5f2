//! Kaggle notebooks.
//!
//! Markers: `KAGGLE_KERNEL_RUN_TYPE` (`Interactive` or `Batch`) and
//! `KAGGLE_URL_BASE`, both set by Kaggle's kernel runtime. `/kaggle/working`
//! is the 20 GB output folder, kept only when a version is saved.

use super::{Exposure, HomeChoice, Platform, PlatformId, TunnelPolicy};
use crate::cloud::env::Env;
use std::path::PathBuf;

pub fn detect(env: &dyn Env) -> Option<Box<dyn Platform>> {
    (env.has("KAGGLE_KERNEL_RUN_TYPE") || env.has("KAGGLE_URL_BASE"))
        .then(|| Box::new(Kaggle::from_env(env)) as Box<dyn Platform>)
}

#[derive(Debug)]
pub struct Kaggle;

impl Kaggle {
    pub fn from_env(_env: &dyn Env) -> Self {
        Kaggle
    }
}

impl Platform for Kaggle {
    fn id(&self) -> PlatformId {
        PlatformId::Kaggle
    }

    fn name(&self) -> &'static str {
        "Kaggle"
    }

    fn home(&self) -> HomeChoice {
        HomeChoice {
            path: PathBuf::from("/kaggle/working/pinokio"),
            persistent: false,
            persistent_alternative: None,
            note: Some(
                "/kaggle/working is kept only as a saved version's output (20 GB at most); \
                 everything else is lost when the session ends"
                    .into(),
            ),
        }
    }

    fn exposure(&self, _port: u16) -> Exposure {
        Exposure {
            public_url: None,
            warnings: vec![
                "Kaggle publishes no ports: the dashboard is reachable only from inside the notebook".into(),
            ],
            ssh_hint: None,
        }
    }

    fn tunnel_policy(&self) -> TunnelPolicy {
        TunnelPolicy::Forbidden(
            "Kaggle does not allow tunnels or remote web UIs from notebooks; run PinokioCloud \
             on another platform to use the dashboard from a browser"
                .into(),
        )
    }
}
