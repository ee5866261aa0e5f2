//! Any other Linux machine (a VPS, a workstation, SSH-only clouds).
//!
//! Nothing is published; the dashboard is reached through an SSH port
//! forward or a tunnel. `SSH_CONNECTION` (`client_ip client_port server_ip
//! server_port`, set by sshd) names this machine's address when we were
//! started over SSH.

use super::{ssh_forward, Exposure, HomeChoice, Platform, PlatformId};
use crate::cloud::env::Env;
use std::path::PathBuf;

#[derive(Debug)]
pub struct Generic {
    home: PathBuf,
    user: Option<String>,
    /// This machine's address and SSH port, from `SSH_CONNECTION`.
    ssh_server: Option<(String, String)>,
}

impl Generic {
    pub fn from_env(env: &dyn Env) -> Self {
        let ssh_server = env.var("SSH_CONNECTION").and_then(|c| {
            let parts: Vec<&str> = c.split_whitespace().collect();
            match parts.as_slice() {
                [_, _, ip, port] => Some((ip.to_string(), port.to_string())),
                _ => None,
            }
        });
        Generic {
            home: super::home_pinokio(env),
            user: env.var("USER").or_else(|| env.var("LOGNAME")),
            ssh_server,
        }
    }
}

impl Platform for Generic {
    fn id(&self) -> PlatformId {
        PlatformId::Generic
    }

    fn name(&self) -> &'static str {
        "Linux server"
    }

    fn home(&self) -> HomeChoice {
        HomeChoice {
            path: self.home.clone(),
            persistent: true,
            persistent_alternative: None,
            note: None,
        }
    }

    fn exposure(&self, port: u16) -> Exposure {
        let user = self.user.as_deref().unwrap_or("user");
        let (host, ssh_port) = match &self.ssh_server {
            Some((ip, p)) => (ip.as_str(), Some(p.as_str())),
            None => ("host", None),
        };
        Exposure {
            public_url: None,
            warnings: vec![format!(
                "no public URL on a plain server: forward the port over SSH from your computer, \
                 then open http://127.0.0.1:{port}/ (or start a tunnel)"
            )],
            ssh_hint: Some(ssh_forward(port, ssh_port, user, host)),
        }
    }
}
