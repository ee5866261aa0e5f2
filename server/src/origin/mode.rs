//! Which origin an app opens at, decided from how the person reached the
//! dashboard. One pure function ([`choose`]) so that every case is tested
//! and the app page, `pinokiocloud open` and the Open button agree.

use super::host::{is_loopback, split_host, with_port};
use serde::Serialize;
use std::str::FromStr;

/// How an app is served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum OriginMode {
    /// `http://<app>.localhost:<port>` or `https://<app>.<domain>`.
    Subdomain { origin: String },
    /// The dashboard listens on a port of the app's own and serves it at `/`.
    /// The port is assigned by the caller (see [`port_origin`]).
    Port,
    /// A tunnel of the app's own (started by the tunnel layer).
    Tunnel { origin: String },
    /// `/p/<app>/` on the dashboard's origin: the fallback.
    Prefix,
}

impl OriginMode {
    /// The short name shown in the UI and `ls --json`.
    pub fn name(&self) -> &'static str {
        match self {
            OriginMode::Subdomain { .. } => "subdomain",
            OriginMode::Port => "port",
            OriginMode::Tunnel { .. } => "tunnel",
            OriginMode::Prefix => "prefix",
        }
    }
}

/// `--app-origin`: let the decision run (`auto`) or force one mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Prefer {
    #[default]
    Auto,
    Subdomain,
    Port,
    Prefix,
}

impl FromStr for Prefer {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Prefer::Auto),
            "subdomain" => Ok(Prefer::Subdomain),
            "port" => Ok(Prefer::Port),
            "prefix" => Ok(Prefer::Prefix),
            other => Err(format!(
                "unknown app origin mode {other:?}; use auto, subdomain, port or prefix"
            )),
        }
    }
}

/// What the decision looks at.
#[derive(Debug, Clone, Default)]
pub struct ModeInput<'a> {
    pub app: &'a str,
    /// `Host` (or `X-Forwarded-Host`) of the request, e.g. `localhost:42000`.
    pub host: Option<&'a str>,
    /// The request came over https (a TLS-terminating proxy said so).
    pub https: bool,
    /// `--app-domain`.
    pub app_domain: Option<&'a str>,
    /// Ports the platform (or `--app-ports`) exposes for apps.
    pub app_ports: &'a [u16],
    /// The app's own tunnel, when one is up.
    pub tunnel_url: Option<&'a str>,
    pub prefer: Prefer,
}

/// The decision and why, in words for the app page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub mode: OriginMode,
    pub reason: String,
}

/// Decides the origin for one app. Order: on a loopback host a `.localhost`
/// subdomain (works with no DNS, also over `ssh -L`); a `--app-domain`
/// subdomain; a port of the app's own where the platform exposes spare
/// ports; the app's tunnel; else the `/p/<app>/` prefix.
pub fn choose(input: &ModeInput) -> Choice {
    let (host, port) = input.host.map(split_host).unwrap_or_default();
    let shown = input.host.unwrap_or("an unknown address");
    let scheme = if input.https { "https" } else { "http" };
    let port_suffix = port.map(|p| format!(":{p}")).unwrap_or_default();
    let localhost = || OriginMode::Subdomain {
        origin: format!("http://{}.localhost{port_suffix}", label(input.app)),
    };
    let domain = |d: &str| OriginMode::Subdomain {
        origin: format!("{scheme}://{}.{d}{port_suffix}", label(input.app)),
    };
    let choice = |mode, reason: String| Choice { mode, reason };
    match input.prefer {
        Prefer::Prefix => {
            return choice(
                OriginMode::Prefix,
                "--app-origin prefix: apps open under /p/<app>/ on the dashboard's address".into(),
            )
        }
        Prefer::Port => {
            return choice(
                OriginMode::Port,
                "--app-origin port: each app gets a port of its own".into(),
            )
        }
        Prefer::Subdomain => {
            if let Some(d) = input.app_domain.filter(|_| !is_loopback(&host)) {
                return choice(
                    domain(d),
                    format!("--app-origin subdomain with --app-domain {d}"),
                );
            }
            return choice(localhost(), "--app-origin subdomain".into());
        }
        Prefer::Auto => {}
    }
    if input.host.is_some() && is_loopback(&host) {
        return choice(
            localhost(),
            format!(
                "you reached the dashboard at {shown}, on this machine or through an SSH \
                 forward; browsers send every *.localhost name to this machine, so each app \
                 gets its own name"
            ),
        );
    }
    if let Some(d) = input.app_domain {
        return choice(
            domain(d),
            format!("the dashboard was started with --app-domain {d} (wildcard DNS)"),
        );
    }
    if !input.app_ports.is_empty() {
        return choice(
            OriginMode::Port,
            format!(
                "you reached the dashboard at {shown}; this machine exposes ports {} for apps, \
                 so each app gets a port of its own",
                list(input.app_ports)
            ),
        );
    }
    if let Some(url) = input.tunnel_url {
        return choice(
            OriginMode::Tunnel {
                origin: url.trim_end_matches('/').to_string(),
            },
            format!("you reached the dashboard at {shown}; the app has a tunnel of its own"),
        );
    }
    choice(
        OriginMode::Prefix,
        format!(
            "you reached the dashboard at {shown}, which gives no address of its own to each \
             app: no --app-domain, no exposed app ports (--app-ports), no app tunnel. Apps that \
             assume they own / may break under /p/<app>/; open the dashboard through \
             http://localhost:<port> (SSH forward) for per-app origins"
        ),
    )
}

/// The public origin of a per-port listener: the platform's URL for that
/// port when it publishes one (RunPod, Lightning, Vast), else the host the
/// person already uses with the port swapped.
pub fn port_origin(
    platform_url: Option<&str>,
    request_host: Option<&str>,
    https: bool,
    port: u16,
) -> String {
    if let Some(url) = platform_url {
        return url.trim_end_matches('/').to_string();
    }
    let scheme = if https { "https" } else { "http" };
    let host = with_port(request_host.unwrap_or("127.0.0.1"), port);
    format!("{scheme}://{host}")
}

/// Host labels are lowercase; app names may not be.
fn label(app: &str) -> String {
    app.to_ascii_lowercase()
}

fn list(ports: &[u16]) -> String {
    ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input<'a>(host: &'a str) -> ModeInput<'a> {
        ModeInput {
            app: "Comfy",
            host: Some(host),
            ..ModeInput::default()
        }
    }

    #[test]
    fn loopback_and_ssh_forward_get_localhost_subdomains() {
        for host in ["localhost:42000", "127.0.0.1:42000", "[::1]:42000"] {
            let c = choose(&input(host));
            assert_eq!(
                c.mode,
                OriginMode::Subdomain {
                    origin: "http://comfy.localhost:42000".into()
                },
                "{host}"
            );
            assert!(c.reason.contains("*.localhost"), "{}", c.reason);
        }
        // Ports on the laptop side of an SSH forward are what the browser uses.
        let c = choose(&input("localhost:9999"));
        assert_eq!(
            c.mode,
            OriginMode::Subdomain {
                origin: "http://comfy.localhost:9999".into()
            }
        );
    }

    #[test]
    fn app_domain_wins_off_loopback_and_keeps_the_scheme() {
        let c = choose(&ModeInput {
            app_domain: Some("apps.example.org"),
            https: true,
            app_ports: &[7001],
            ..input("dash.apps.example.org")
        });
        assert_eq!(
            c.mode,
            OriginMode::Subdomain {
                origin: "https://comfy.apps.example.org".into()
            }
        );
        assert!(c.reason.contains("--app-domain"));
    }

    #[test]
    fn exposed_ports_then_tunnel_then_prefix() {
        let ports = [7001, 7002];
        let c = choose(&ModeInput {
            app_ports: &ports,
            tunnel_url: Some("https://t.example/"),
            ..input("abc-42000.proxy.runpod.net")
        });
        assert_eq!(c.mode, OriginMode::Port);
        assert!(c.reason.contains("7001, 7002"), "{}", c.reason);
        let c = choose(&ModeInput {
            tunnel_url: Some("https://t.example/"),
            ..input("abc-42000.proxy.runpod.net")
        });
        assert_eq!(
            c.mode,
            OriginMode::Tunnel {
                origin: "https://t.example".into()
            }
        );
        let c = choose(&input("abc-42000.proxy.runpod.net"));
        assert_eq!(c.mode, OriginMode::Prefix);
        assert!(c.reason.contains("--app-ports"), "{}", c.reason);
    }

    #[test]
    fn forced_modes() {
        let forced = |prefer| {
            choose(&ModeInput {
                prefer,
                ..input("localhost:42000")
            })
            .mode
        };
        assert_eq!(forced(Prefer::Prefix), OriginMode::Prefix);
        assert_eq!(forced(Prefer::Port), OriginMode::Port);
        assert_eq!(
            forced(Prefer::Subdomain),
            OriginMode::Subdomain {
                origin: "http://comfy.localhost:42000".into()
            }
        );
        assert_eq!("PORT".parse::<Prefer>().unwrap(), Prefer::Port);
        assert!("tunnelz".parse::<Prefer>().unwrap_err().contains("auto"));
    }

    #[test]
    fn port_origins_use_the_platform_url_or_swap_the_port() {
        assert_eq!(
            port_origin(Some("https://pod-7001.proxy.runpod.net/"), None, true, 7001),
            "https://pod-7001.proxy.runpod.net"
        );
        assert_eq!(
            port_origin(None, Some("localhost:42000"), false, 7001),
            "http://localhost:7001"
        );
        assert_eq!(
            port_origin(None, Some("1.2.3.4:40100"), false, 7001),
            "http://1.2.3.4:7001"
        );
    }
}
