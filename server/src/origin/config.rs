//! Building [`OriginConfig`] from `serve`'s flags and the platform.

use super::{OriginConfig, Prefer};
use crate::cloud::platform::Platform;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Why a flag was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("--app-ports {given:?}: {reason}; write ports and ranges like 7001,7002 or 7001-7010")]
    BadPorts { given: String, reason: String },
    #[error("--app-origin: {0}")]
    BadMode(String),
    #[error("--app-domain {0:?} is not a domain name; give the wildcard's parent, e.g. apps.example.org for *.apps.example.org")]
    BadDomain(String),
}

/// The flags as given (`None`: not given).
#[derive(Debug, Default)]
pub struct Flags<'a> {
    pub app_domain: Option<&'a str>,
    pub app_ports: Option<&'a str>,
    pub app_origin: Option<&'a str>,
}

/// Flags plus what the platform knows; the dashboard's own port is never
/// handed to an app.
pub fn build(
    flags: &Flags,
    platform: &dyn Platform,
    bind_host: IpAddr,
    dashboard_port: u16,
) -> Result<OriginConfig, ConfigError> {
    let prefer = match flags.app_origin {
        Some(mode) => mode.parse::<Prefer>().map_err(ConfigError::BadMode)?,
        None => Prefer::Auto,
    };
    let app_domain = match flags.app_domain.map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => Some(check_domain(d)?),
        None => None,
    };
    let mut ports = match flags.app_ports {
        Some(list) => parse_ports(list)?,
        None => Vec::new(),
    };
    ports.extend(platform.app_ports());
    ports.retain(|p| *p != dashboard_port && *p != 0);
    ports.sort_unstable();
    ports.dedup();
    let public_urls: BTreeMap<u16, String> = ports
        .iter()
        .filter_map(|p| Some((*p, platform.public_url_for_port(*p)?)))
        .collect();
    Ok(OriginConfig {
        app_domain,
        app_ports: ports,
        bind_host: Some(bind_host),
        prefer,
        public_urls,
    })
}

/// `7001,7002, 7005-7007` → `[7001, 7002, 7005, 7006, 7007]`.
pub fn parse_ports(list: &str) -> Result<Vec<u16>, ConfigError> {
    let bad = |reason: String| ConfigError::BadPorts {
        given: list.to_string(),
        reason,
    };
    let port = |s: &str| {
        s.trim()
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| bad(format!("{:?} is not a port (1-65535)", s.trim())))
    };
    let mut out = Vec::new();
    for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (port(a)?, port(b)?);
                if b < a || b - a > 1000 {
                    return Err(bad(format!(
                        "{part:?} is not a range of at most 1000 ports"
                    )));
                }
                out.extend(a..=b);
            }
            None => out.push(port(part)?),
        }
    }
    Ok(out)
}

fn check_domain(domain: &str) -> Result<String, ConfigError> {
    let d = domain
        .trim_start_matches("*.")
        .trim_matches('.')
        .to_ascii_lowercase();
    let ok = d.contains('.')
        && d.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if ok {
        Ok(d)
    } else {
        Err(ConfigError::BadDomain(domain.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_and_ranges() {
        assert_eq!(
            parse_ports("7001, 7003-7005").unwrap(),
            vec![7001, 7003, 7004, 7005]
        );
        assert_eq!(parse_ports("").unwrap(), Vec::<u16>::new());
        for bad in ["70000", "a", "7005-7001", "0", "1-5000"] {
            let err = parse_ports(bad).unwrap_err().to_string();
            assert!(err.contains("7001-7010"), "{bad}: {err}");
        }
    }

    #[test]
    fn domains() {
        assert_eq!(
            check_domain("*.Apps.Example.org").unwrap(),
            "apps.example.org"
        );
        assert!(check_domain("localhost").is_err());
        assert!(check_domain("a..b").is_err());
        assert!(check_domain("a b.c").is_err());
    }
}

/// `serve`'s flags for per-app origins.
#[derive(clap::Args, Debug, Default, Clone)]
pub struct OriginArgs {
    /// Serve each app at <app>.<domain> (needs wildcard DNS to this dashboard, e.g. a named tunnel) besides <app>.localhost.
    #[arg(long, env = "PINOKIOCLOUD_APP_DOMAIN")]
    pub app_domain: Option<String>,
    /// Ports the outside reaches that apps may each take as their own origin, e.g. RunPod's exposed HTTP ports: 7001,7002 or 7001-7010.
    #[arg(long, env = "PINOKIOCLOUD_APP_PORTS")]
    pub app_ports: Option<String>,
    /// Where apps open: auto (chosen from how you reach the dashboard), subdomain, port or prefix (/p/<app>/).
    #[arg(long, env = "PINOKIOCLOUD_APP_ORIGIN")]
    pub app_origin: Option<String>,
}

impl OriginArgs {
    /// The origins service for a dashboard bound at `addr`.
    pub fn start(
        &self,
        platform: &dyn Platform,
        addr: std::net::SocketAddr,
        targets: std::sync::Arc<crate::proxy::ProxyTargets>,
        pool: &sqlx::SqlitePool,
    ) -> Result<super::AppOrigins, ConfigError> {
        let flags = Flags {
            app_domain: self.app_domain.as_deref(),
            app_ports: self.app_ports.as_deref(),
            app_origin: self.app_origin.as_deref(),
        };
        let config = build(&flags, platform, addr.ip(), addr.port())?;
        Ok(super::AppOrigins::new(
            config,
            targets,
            super::OriginDb::new(pool.clone()),
        ))
    }
}
