//! Google Colab.
//!
//! Markers: `COLAB_RELEASE_TAG`, `COLAB_GPU`, `COLAB_BACKEND_VERSION`,
//! `COLAB_JUPYTER_IP` (set by Colab's runtime; the common check is
//! `'COLAB_GPU' in os.environ or 'COLAB_RELEASE_TAG' in os.environ`).
//! `/content` is the fast, temporary disk; Google Drive, once mounted with
//! `drive.mount('/content/drive')`, appears at `/content/drive/MyDrive`.
//! Colab's FAQ lists remote web UIs among what free runtimes may not run.

use super::{Exposure, HomeChoice, Platform, PlatformId, TunnelPolicy};
use crate::cloud::env::Env;
use std::path::{Path, PathBuf};

const MARKERS: [&str; 4] = [
    "COLAB_RELEASE_TAG",
    "COLAB_GPU",
    "COLAB_BACKEND_VERSION",
    "COLAB_JUPYTER_IP",
];

const DRIVE: &str = "/content/drive/MyDrive";

pub fn detect(env: &dyn Env) -> Option<Box<dyn Platform>> {
    MARKERS
        .iter()
        .any(|m| env.has(m))
        .then(|| Box::new(Colab::from_env(env)) as Box<dyn Platform>)
}

#[derive(Debug)]
pub struct Colab {
    drive_mounted: bool,
}

impl Colab {
    pub fn from_env(env: &dyn Env) -> Self {
        Colab {
            drive_mounted: env.path_exists(Path::new(DRIVE)),
        }
    }
}

impl Platform for Colab {
    fn id(&self) -> PlatformId {
        PlatformId::Colab
    }

    fn name(&self) -> &'static str {
        "Google Colab"
    }

    /// The fast local disk; Drive is offered as the persistent alternative
    /// because virtual environments on Drive are slow to install and run.
    fn home(&self) -> HomeChoice {
        let drive = PathBuf::from(DRIVE).join("pinokio");
        let note = if self.drive_mounted {
            format!(
                "/content is wiped when the runtime ends; Google Drive is mounted, so pass \
                 --home {} to keep apps (slower)",
                drive.display()
            )
        } else {
            "/content is wiped when the runtime ends; mount Google Drive \
             (drive.mount('/content/drive')) and pass --home /content/drive/MyDrive/pinokio \
             to keep apps"
                .into()
        };
        HomeChoice {
            path: PathBuf::from("/content/pinokio"),
            persistent: false,
            persistent_alternative: self.drive_mounted.then_some(drive),
            note: Some(note),
        }
    }

    fn exposure(&self, port: u16) -> Exposure {
        Exposure {
            public_url: None,
            warnings: vec![format!(
                "Colab gives the server no public URL; open port {port} through the notebook \
                 proxy by running in a cell: from google.colab.output import eval_js; \
                 print(eval_js(\"google.colab.kernel.proxyPort({port})\"))"
            )],
            ssh_hint: None,
        }
    }

    fn tunnel_policy(&self) -> TunnelPolicy {
        TunnelPolicy::Discouraged(
            "free Colab runtimes restrict remote web UIs and tunnels; Colab may disconnect the \
             runtime (paid plans are not restricted)"
                .into(),
        )
    }
}
