//! Vast.ai instances.
//!
//! Markers: `VAST_CONTAINERLABEL` (e.g. `C.12345`), or `CONTAINER_ID` together
//! with any `VAST_*` variable. Each open internal port `P` is mapped to a
//! random external port given in `VAST_TCP_PORT_P` on `PUBLIC_IPADDR`;
//! `DATA_DIRECTORY` is the data folder (`/workspace/`). Source:
//! <https://docs.vast.ai/documentation/instances/connect/networking>.

use super::{ssh_forward, Exposure, HomeChoice, Platform, PlatformId};
use crate::cloud::env::Env;
use std::collections::BTreeMap;
use std::path::PathBuf;

pub fn detect(env: &dyn Env) -> Option<Box<dyn Platform>> {
    let marked = env.has("VAST_CONTAINERLABEL")
        || (env.has("CONTAINER_ID") && !env.vars_with_prefix("VAST_").is_empty());
    marked.then(|| Box::new(Vast::from_env(env)) as Box<dyn Platform>)
}

#[derive(Debug)]
pub struct Vast {
    public_ip: Option<String>,
    /// internal port → external port, from `VAST_TCP_PORT_<internal>`.
    tcp_ports: BTreeMap<u16, String>,
    data_dir: PathBuf,
}

impl Vast {
    pub fn from_env(env: &dyn Env) -> Self {
        let tcp_ports = env
            .vars_with_prefix("VAST_TCP_PORT_")
            .into_iter()
            .filter_map(|(k, v)| Some((k["VAST_TCP_PORT_".len()..].parse().ok()?, v)))
            .collect();
        Vast {
            public_ip: env.var("PUBLIC_IPADDR"),
            tcp_ports,
            data_dir: env
                .var("DATA_DIRECTORY")
                .map_or_else(|| PathBuf::from("/workspace"), PathBuf::from),
        }
    }
}

impl Platform for Vast {
    fn id(&self) -> PlatformId {
        PlatformId::Vast
    }

    fn name(&self) -> &'static str {
        "Vast.ai"
    }

    fn home(&self) -> HomeChoice {
        HomeChoice {
            path: self.data_dir.join("pinokio"),
            persistent: true,
            persistent_alternative: None,
            note: Some(
                "Vast.ai keeps the disk while the instance is stopped, but destroying the \
                 instance deletes it; copy results off first"
                    .into(),
            ),
        }
    }

    /// Every mapped port but SSH's; one already in use (Jupyter, the
    /// instance portal) is skipped when an app's listener cannot bind it.
    fn app_ports(&self) -> Vec<u16> {
        self.tcp_ports
            .keys()
            .copied()
            .filter(|p| *p != 22)
            .collect()
    }

    fn public_url_for_port(&self, port: u16) -> Option<String> {
        let ip = self.public_ip.as_ref()?;
        let external = self.tcp_ports.get(&port)?;
        Some(format!("http://{ip}:{external}"))
    }

    fn exposure(&self, port: u16) -> Exposure {
        let mut warnings = Vec::new();
        let external = self.tcp_ports.get(&port);
        let public_url = match (&self.public_ip, external) {
            (Some(ip), Some(ext)) => {
                warnings.push(format!(
                    "http://{ip}:{ext} is plain HTTP: your password crosses the internet \
                     unencrypted; prefer a tunnel or the SSH forward"
                ));
                Some(format!("http://{ip}:{ext}"))
            }
            (None, _) => {
                warnings.push("PUBLIC_IPADDR is not set, so the public address is unknown".into());
                None
            }
            (Some(_), None) => {
                warnings.push(format!(
                    "port {port} is not mapped to a public port (VAST_TCP_PORT_{port} is unset): \
                     add \"-p {port}:{port}\" to the template's Docker options and recreate the \
                     instance, or use a tunnel or the SSH forward"
                ));
                None
            }
        };
        let ssh_hint = self.public_ip.as_deref().map(|ip| {
            let ssh_port = self.tcp_ports.get(&22).map(String::as_str);
            ssh_forward(port, ssh_port, "root", ip)
        });
        Exposure {
            public_url,
            warnings,
            ssh_hint,
        }
    }
}
