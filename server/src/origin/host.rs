//! Reading the `Host` a browser sent: which app's origin it names, if any.
//!
//! `<app>.localhost[:port]` always names an app (browsers resolve every
//! `*.localhost` name to loopback, so it works locally and over `ssh -L`);
//! `<app>.<domain>` does when the dashboard was started with
//! `--app-domain <domain>`. Everything else is the dashboard.

/// `host[:port]` → `(host, port)`, lowercased; IPv6 literals keep brackets.
pub fn split_host(authority: &str) -> (String, Option<u16>) {
    let authority = authority.trim().to_ascii_lowercase();
    if let Some(end) = authority.find(']') {
        let (host, rest) = authority.split_at(end + 1);
        let port = rest.strip_prefix(':').and_then(|p| p.parse().ok());
        return (host.to_string(), port);
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !port.is_empty() => {
            (host.to_string(), port.parse().ok())
        }
        _ => (authority, None),
    }
}

/// True for `localhost`, `*.localhost`, `127.0.0.0/8` and `[::1]`: a host
/// that only this machine (or an SSH forward to it) answers.
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_end_matches('.');
    if host == "localhost" || host.ends_with(".localhost") || host == "[::1]" {
        return true;
    }
    host.parse::<std::net::Ipv4Addr>()
        .is_ok_and(|ip| ip.is_loopback())
}

/// The app label a request's `Host` names, or `None` for the dashboard.
/// The label is lowercase (browsers lowercase host names); the caller maps
/// it onto an app name.
pub fn app_label(authority: &str, app_domain: Option<&str>) -> Option<String> {
    let (host, _) = split_host(authority);
    let host = host.trim_end_matches('.');
    let label = host.strip_suffix(".localhost").or_else(|| {
        let domain = app_domain?.trim().trim_matches('.').to_ascii_lowercase();
        host.strip_suffix(format!(".{domain}").as_str())
    })?;
    (!label.is_empty()).then(|| label.to_string())
}

/// The host with its port replaced (or added): per-port origins live on the
/// same host the person already reaches, at another port.
pub fn with_port(authority: &str, port: u16) -> String {
    let (host, _) = split_host(authority);
    format!("{host}:{port}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_ports_and_ipv6() {
        assert_eq!(
            split_host("A.localhost:42000"),
            ("a.localhost".into(), Some(42000))
        );
        assert_eq!(split_host("[::1]:8080"), ("[::1]".into(), Some(8080)));
        assert_eq!(split_host("[::1]"), ("[::1]".into(), None));
        assert_eq!(split_host("box.example"), ("box.example".into(), None));
    }

    #[test]
    fn localhost_subdomains_name_apps() {
        assert_eq!(
            app_label("comfy.localhost:42000", None).as_deref(),
            Some("comfy")
        );
        assert_eq!(
            app_label("my.app.localhost", None).as_deref(),
            Some("my.app")
        );
        assert_eq!(app_label("localhost:42000", None), None);
        assert_eq!(app_label("127.0.0.1:42000", None), None);
        assert_eq!(app_label(".localhost", None), None);
    }

    #[test]
    fn app_domain_subdomains_name_apps_only_when_configured() {
        let d = Some("apps.example.org");
        assert_eq!(app_label("sd.apps.example.org", d).as_deref(), Some("sd"));
        assert_eq!(
            app_label("SD.Apps.Example.org:443", d).as_deref(),
            Some("sd")
        );
        assert_eq!(app_label("apps.example.org", d), None);
        assert_eq!(app_label("sd.apps.example.org", None), None);
        assert_eq!(app_label("sd.evil-apps.example.org", d), None);
    }

    #[test]
    fn loopback_hosts() {
        for h in [
            "localhost",
            "a.localhost",
            "127.0.0.1",
            "127.1.2.3",
            "[::1]",
        ] {
            assert!(is_loopback(h), "{h}");
        }
        for h in ["10.0.0.1", "box.example", "localhost.example"] {
            assert!(!is_loopback(h), "{h}");
        }
        assert_eq!(with_port("localhost:42000", 7001), "localhost:7001");
        assert_eq!(with_port("1.2.3.4", 7001), "1.2.3.4:7001");
    }
}
