//! Lightning AI Studios.
//!
//! Markers: `LIGHTNING_CLOUDSPACE_HOST`, `LIGHTNING_CLOUD_PROJECT_ID`,
//! `LIGHTNING_CLOUD_SPACE_ID` (the `lightning` package reads the first to
//! know it runs in a Studio). A port is served at
//! `https://<port>-<LIGHTNING_CLOUDSPACE_HOST>` once it is opened with the
//! Studio's "Port viewer" plugin; the Studio's files live in
//! `/teamspace/studios/this_studio` (persistent). SSH: `s_<space id>@ssh.lightning.ai`.

use super::{ssh_forward, Exposure, HomeChoice, Platform, PlatformId};
use crate::cloud::env::Env;
use std::path::PathBuf;

const MARKERS: [&str; 3] = [
    "LIGHTNING_CLOUDSPACE_HOST",
    "LIGHTNING_CLOUD_PROJECT_ID",
    "LIGHTNING_CLOUD_SPACE_ID",
];

pub fn detect(env: &dyn Env) -> Option<Box<dyn Platform>> {
    MARKERS
        .iter()
        .any(|m| env.has(m))
        .then(|| Box::new(Lightning::from_env(env)) as Box<dyn Platform>)
}

#[derive(Debug)]
pub struct Lightning {
    host: Option<String>,
    space_id: Option<String>,
}

impl Lightning {
    pub fn from_env(env: &dyn Env) -> Self {
        Lightning {
            host: env.var("LIGHTNING_CLOUDSPACE_HOST"),
            space_id: env.var("LIGHTNING_CLOUD_SPACE_ID"),
        }
    }

    /// The host may be given bare (`01hxyz`) or fully qualified.
    fn qualified_host(&self) -> Option<String> {
        let host = self.host.as_deref()?;
        Some(if host.contains('.') {
            host.to_string()
        } else {
            format!("{host}.cloudspaces.litng.ai")
        })
    }
}

impl Platform for Lightning {
    fn id(&self) -> PlatformId {
        PlatformId::Lightning
    }

    fn name(&self) -> &'static str {
        "Lightning AI"
    }

    fn home(&self) -> HomeChoice {
        HomeChoice {
            path: PathBuf::from("/teamspace/studios/this_studio/pinokio"),
            persistent: true,
            persistent_alternative: None,
            note: None,
        }
    }

    /// Each port added to the Studio's port viewer has its own host.
    fn public_url_for_port(&self, port: u16) -> Option<String> {
        self.qualified_host()
            .map(|host| format!("https://{port}-{host}"))
    }

    fn exposure(&self, port: u16) -> Exposure {
        let mut warnings = vec![format!(
            "Lightning serves port {port} only after you open it: in the Studio, add the \
             \"Port viewer\" plugin and add port {port}"
        )];
        let public_url = self
            .qualified_host()
            .map(|host| format!("https://{port}-{host}"));
        if public_url.is_none() {
            warnings
                .push("LIGHTNING_CLOUDSPACE_HOST is not set, so the Studio URL is unknown".into());
        }
        let ssh_hint = self
            .space_id
            .as_deref()
            .map(|id| ssh_forward(port, None, &format!("s_{id}"), "ssh.lightning.ai"));
        Exposure {
            public_url,
            warnings,
            ssh_hint,
        }
    }
}
