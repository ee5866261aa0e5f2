//! RunPod pods.
//!
//! Markers: `RUNPOD_POD_ID` (always set in a pod, with `RUNPOD_PUBLIC_IP`,
//! `RUNPOD_TCP_PORT_22` when TCP ports are public). Sources:
//! <https://docs.runpod.io/pods/templates/environment-variables>,
//! proxy URL format `https://[POD_ID]-[PORT].proxy.runpod.net` from
//! <https://docs.runpod.io/pods/configuration/expose-ports>.

use super::{ssh_forward, Exposure, HomeChoice, Platform, PlatformId};
use crate::cloud::env::Env;
use std::path::{Path, PathBuf};

pub fn detect(env: &dyn Env) -> Option<Box<dyn Platform>> {
    env.has("RUNPOD_POD_ID")
        .then(|| Box::new(Runpod::from_env(env)) as Box<dyn Platform>)
}

#[derive(Debug)]
pub struct Runpod {
    pod_id: Option<String>,
    public_ip: Option<String>,
    ssh_port: Option<String>,
    has_volume: bool,
    home_dir: PathBuf,
}

impl Runpod {
    pub fn from_env(env: &dyn Env) -> Self {
        Runpod {
            pod_id: env.var("RUNPOD_POD_ID"),
            public_ip: env.var("RUNPOD_PUBLIC_IP"),
            ssh_port: env.var("RUNPOD_TCP_PORT_22"),
            has_volume: env.path_exists(Path::new("/workspace")),
            home_dir: super::home_pinokio(env),
        }
    }
}

impl Platform for Runpod {
    fn id(&self) -> PlatformId {
        PlatformId::Runpod
    }

    fn name(&self) -> &'static str {
        "RunPod"
    }

    fn home(&self) -> HomeChoice {
        if self.has_volume {
            return HomeChoice {
                path: PathBuf::from("/workspace/pinokio"),
                persistent: true,
                persistent_alternative: None,
                note: None,
            };
        }
        HomeChoice {
            path: self.home_dir.clone(),
            persistent: false,
            persistent_alternative: None,
            note: Some(
                "this pod has no /workspace volume, so apps and models are lost when the pod \
                 is reset; attach a volume (Edit Pod → Volume Disk, mounted at /workspace)"
                    .into(),
            ),
        }
    }

    /// RunPod does not list the exposed HTTP ports in the pod's
    /// environment; `--app-ports` names them. Each is at its own proxy host.
    fn public_url_for_port(&self, port: u16) -> Option<String> {
        self.pod_id
            .as_ref()
            .map(|id| format!("https://{id}-{port}.proxy.runpod.net"))
    }

    fn exposure(&self, port: u16) -> Exposure {
        let mut warnings = vec![format!(
            "RunPod's proxy serves port {port} only if it is listed under \"Expose HTTP Ports\" \
             (Edit Pod or the template); this cannot be checked from inside the pod. \
             The proxy also cuts requests that take longer than 100 seconds."
        )];
        let public_url = match &self.pod_id {
            Some(id) => Some(format!("https://{id}-{port}.proxy.runpod.net")),
            None => {
                warnings.push("RUNPOD_POD_ID is not set, so the proxy URL is unknown".into());
                None
            }
        };
        let ssh_hint = self
            .public_ip
            .as_deref()
            .map(|ip| ssh_forward(port, self.ssh_port.as_deref(), "root", ip));
        Exposure {
            public_url,
            warnings,
            ssh_hint,
        }
    }
}
