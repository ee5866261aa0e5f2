//! The registry of running apps: app name → local base URL.
//!
//! Only loopback `http://` targets are accepted. The proxy sits behind the
//! one public port, so a target anywhere else would turn it into an open
//! proxy into the cloud provider's network (metadata endpoints included).

use axum::http::uri::{Authority, Uri};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::RwLock;

/// Why a target or app name was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TargetError {
    #[error(
        "app name {0:?} is not allowed: use letters, digits, '.', '_' or '-', not '.' or '..'"
    )]
    BadAppName(String),
    #[error("target {url:?} for app {app:?} is not a valid URL: {reason}")]
    BadUrl {
        app: String,
        url: String,
        reason: String,
    },
    #[error("target {url:?} for app {app:?} must use http:// (the proxy speaks plain HTTP to local apps)")]
    NotHttp { app: String, url: String },
    #[error("target {url:?} for app {app:?} is not on this machine: only loopback hosts (127.0.0.0/8, ::1, localhost) may be proxied")]
    NotLoopback { app: String, url: String },
}

/// One app's local server, parsed once when registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `host:port` to connect to and to send as `Host`.
    pub authority: Authority,
    /// The base path without a trailing slash (`""` for the root).
    pub base_path: String,
}

impl Target {
    /// Parses and checks a base URL such as `http://127.0.0.1:7860/`.
    pub fn parse(app: &str, url: &str) -> Result<Self, TargetError> {
        check_app_name(app)?;
        let bad = |reason: String| TargetError::BadUrl {
            app: app.to_string(),
            url: url.to_string(),
            reason,
        };
        let uri: Uri = url.parse().map_err(|e| bad(format!("{e}")))?;
        if uri.scheme_str() != Some("http") {
            return Err(TargetError::NotHttp {
                app: app.to_string(),
                url: url.to_string(),
            });
        }
        let authority = uri
            .authority()
            .cloned()
            .ok_or_else(|| bad("no host".into()))?;
        if authority.as_str().contains('@') {
            return Err(bad("credentials in the URL are not supported".into()));
        }
        if !is_loopback_host(authority.host()) {
            return Err(TargetError::NotLoopback {
                app: app.to_string(),
                url: url.to_string(),
            });
        }
        if uri.query().is_some() {
            return Err(bad("a base URL cannot carry a query".into()));
        }
        let base_path = uri.path().trim_end_matches('/').to_string();
        Ok(Self {
            authority,
            base_path,
        })
    }

    /// The port, defaulting to 80 like any `http://` URL.
    pub fn port(&self) -> u16 {
        self.authority.port_u16().unwrap_or(80)
    }
}

/// True for `localhost`, `127.0.0.0/8` and `::1` (written `[::1]` in URLs).
fn is_loopback_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// App names become one path segment and a log field: keep them to a
/// boring charset so that `..`, `/`, `%` or spaces can never reach a URL.
pub fn check_app_name(app: &str) -> Result<(), TargetError> {
    let charset_ok = app
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    let ok = charset_ok && !app.is_empty() && app.len() <= 128 && app != "." && app != "..";
    if ok {
        Ok(())
    } else {
        Err(TargetError::BadAppName(app.to_string()))
    }
}

/// The registry, shared as `Arc<ProxyTargets>` between the app launcher
/// (which sets and removes targets) and the proxy (which reads them).
#[derive(Debug, Default)]
pub struct ProxyTargets {
    map: RwLock<BTreeMap<String, Target>>,
}

impl ProxyTargets {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers or replaces `app` → `url` (e.g. `http://127.0.0.1:7860/`).
    pub fn set(&self, app: &str, url: &str) -> Result<(), TargetError> {
        let target = Target::parse(app, url)?;
        self.write().insert(app.to_string(), target);
        Ok(())
    }

    /// Forgets `app` (it stopped); returns whether it was registered.
    pub fn remove(&self, app: &str) -> bool {
        self.write().remove(app).is_some()
    }

    pub fn get(&self, app: &str) -> Option<Target> {
        self.read().get(app).cloned()
    }

    /// All apps, sorted by name, with their base URLs.
    pub fn list(&self) -> Vec<(String, String)> {
        self.read()
            .iter()
            .map(|(app, t)| {
                (
                    app.clone(),
                    format!("http://{}{}/", t.authority, t.base_path),
                )
            })
            .collect()
    }

    /// A poisoned lock only means a panic elsewhere mid-insert of a plain
    /// map; the map itself is still consistent, so keep serving.
    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Target>> {
        self.map.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Target>> {
        self.map.write().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_loopback_targets() {
        let t = Target::parse("a", "http://127.0.0.1:7860/").unwrap();
        assert_eq!(t.authority.as_str(), "127.0.0.1:7860");
        assert_eq!(t.base_path, "");
        let t = Target::parse("a", "http://localhost:8188/sub/").unwrap();
        assert_eq!(t.base_path, "/sub");
        assert!(Target::parse("a", "http://[::1]:9000").is_ok());
        assert!(Target::parse("a", "http://127.9.9.9:1/").is_ok());
    }

    #[test]
    fn refuses_anything_off_the_machine() {
        for url in [
            "http://10.0.0.1:80/",
            "http://169.254.169.254/latest/meta-data/",
            "http://example.com/",
            "http://0.0.0.0:7860/",
            "http://127.0.0.1.nip.io:7860/",
        ] {
            assert!(
                matches!(
                    Target::parse("a", url),
                    Err(TargetError::NotLoopback { .. })
                ),
                "{url} was accepted"
            );
        }
        assert!(matches!(
            Target::parse("a", "https://127.0.0.1:1/"),
            Err(TargetError::NotHttp { .. })
        ));
        assert!(matches!(
            Target::parse("a", "http://user@127.0.0.1:1/"),
            Err(TargetError::BadUrl { .. })
        ));
        assert!(matches!(
            Target::parse("a", "not a url"),
            Err(TargetError::BadUrl { .. })
        ));
    }

    #[test]
    fn app_names_are_one_safe_segment() {
        for ok in ["comfyui", "stable-diffusion_webui.git", "A1"] {
            assert!(check_app_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".", "..", "a/b", "a b", "%2e", "a\\b", "é"] {
            assert!(check_app_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn registry_set_get_list_remove() {
        let reg = ProxyTargets::new();
        reg.set("b", "http://127.0.0.1:2/").unwrap();
        reg.set("a", "http://127.0.0.1:1/x/").unwrap();
        assert!(reg.set("c", "http://8.8.8.8/").is_err());
        assert_eq!(reg.get("a").unwrap().port(), 1);
        assert_eq!(
            reg.list(),
            vec![
                ("a".to_string(), "http://127.0.0.1:1/x/".to_string()),
                ("b".to_string(), "http://127.0.0.1:2/".to_string()),
            ]
        );
        assert!(reg.remove("a"));
        assert!(!reg.remove("a"));
        assert!(reg.get("a").is_none());
    }
}
