//! Request/response header hygiene for a reverse proxy (RFC 9110 §7.6):
//! hop-by-hop headers stop here, `X-Forwarded-*` tell the app who asked and
//! under which prefix, and `Host`/`Origin` are made to look local so that
//! apps with loopback CSRF checks (ComfyUI's origin middleware returns 403
//! when a loopback `Host` and the `Origin` differ) accept the request.

use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::uri::Authority;
use std::net::SocketAddr;

/// Headers that describe one connection, not the message (RFC 9110 §7.6.1),
/// plus the legacy `Proxy-Connection` and `Keep-Alive`.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Removes hop-by-hop headers, including any named in `Connection`.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|t| HeaderName::from_bytes(t.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(*name);
    }
}

/// The `Upgrade` value when the client asks to switch protocols
/// (`Connection: upgrade` + `Upgrade: websocket`), else `None`. `h2c` is
/// not passed on: it is a hop-level offer (curl sends it on every
/// `--http2` request) that this proxy, speaking HTTP/1.1 upstream, declines.
pub fn requested_upgrade(headers: &HeaderMap) -> Option<HeaderValue> {
    let wants = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case("upgrade"));
    let proto = headers
        .get(header::UPGRADE)
        .filter(|p| !p.as_bytes().eq_ignore_ascii_case(b"h2c"));
    proto.filter(|_| wants).cloned()
}

/// Puts back the two hop-by-hop headers an upgrade needs on this hop.
pub fn keep_upgrade(headers: &mut HeaderMap, protocol: HeaderValue) {
    headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    headers.insert(header::UPGRADE, protocol);
}

/// What the front door knew about the original request, before forwarding.
pub struct Forwarded {
    /// The public host the browser used (`X-Forwarded-Host` from a tunnel
    /// in front of us if there was one, else `Host`).
    pub host: Option<HeaderValue>,
    /// `https` when a TLS-terminating tunnel in front said so, else `http`.
    pub proto: HeaderValue,
    /// The `X-Forwarded-For` chain with the peer appended.
    pub for_chain: Option<HeaderValue>,
}

impl Forwarded {
    /// Reads the incoming headers; call before they are rewritten.
    pub fn from_request(headers: &HeaderMap, peer: Option<SocketAddr>) -> Self {
        let host = headers
            .get("x-forwarded-host")
            .or_else(|| headers.get(header::HOST))
            .cloned();
        let proto = headers
            .get("x-forwarded-proto")
            .filter(|v| v.as_bytes().eq_ignore_ascii_case(b"https"))
            .map_or(HeaderValue::from_static("http"), |_| {
                HeaderValue::from_static("https")
            });
        let for_chain = for_chain(headers, peer);
        Self {
            host,
            proto,
            for_chain,
        }
    }
}

/// Appends the peer to any existing `X-Forwarded-For`, as proxies do.
fn for_chain(headers: &HeaderMap, peer: Option<SocketAddr>) -> Option<HeaderValue> {
    let mut parts: Vec<String> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_string)
        .collect();
    if let Some(peer) = peer {
        parts.push(peer.ip().to_string());
    }
    if parts.is_empty() {
        return None;
    }
    HeaderValue::from_str(&parts.join(", ")).ok()
}

/// Rewrites the outbound request headers for `target` under `prefix`.
pub fn prepare_request(headers: &mut HeaderMap, fwd: &Forwarded, target: &Authority, prefix: &str) {
    rewrite_origin(headers, fwd.host.as_ref(), target);
    headers.insert(header::HOST, authority_value(target));
    if let Some(host) = &fwd.host {
        headers.insert("x-forwarded-host", host.clone());
    }
    headers.insert("x-forwarded-proto", fwd.proto.clone());
    match &fwd.for_chain {
        Some(chain) => headers.insert("x-forwarded-for", chain.clone()),
        None => headers.remove("x-forwarded-for"),
    };
    headers.remove("x-forwarded-prefix");
    if prefix.is_empty() {
        return;
    }
    if let Ok(p) = HeaderValue::from_str(prefix) {
        headers.insert("x-forwarded-prefix", p);
    }
}

/// Drops `Authorization: Bearer …`: on the dashboard's origin a bearer value
/// is a PinokioCloud login token (scripts, the CLI), never the app's.
pub fn strip_bearer(headers: &mut HeaderMap) {
    let ours = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("bearer "));
    if ours {
        headers.remove(header::AUTHORIZATION);
    }
}

/// Drops the named cookies from every `Cookie` header (and the header when
/// nothing is left): the dashboard's own session must not reach app code,
/// which may log requests or forward them to third parties.
pub fn hide_cookies(headers: &mut HeaderMap, hidden: &[String]) {
    if hidden.is_empty() || !headers.contains_key(header::COOKIE) {
        return;
    }
    let kept: Vec<String> = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .map(str::trim)
        .filter(|pair| {
            let name = pair.split_once('=').map_or(*pair, |(n, _)| n);
            !pair.is_empty() && !hidden.iter().any(|h| cookie_matches(h, name))
        })
        .map(str::to_string)
        .collect();
    headers.remove(header::COOKIE);
    if let Ok(v) = HeaderValue::from_str(&kept.join("; ")) {
        if !kept.is_empty() {
            headers.insert(header::COOKIE, v);
        }
    }
}

/// `name` is hidden by `pattern`: the same name, or a prefix ending in `*`
/// (`pc_app_*`: every app origin's session cookie).
fn cookie_matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

/// A browser on the front door sends `Origin: https://front.door`. When
/// that is our own public origin (same host as the request), the request is
/// same-origin from the app's point of view too, so present it as coming
/// from the app's local origin. Foreign origins pass through unchanged, so
/// the app's own cross-site checks still see and reject them.
fn rewrite_origin(headers: &mut HeaderMap, public_host: Option<&HeaderValue>, target: &Authority) {
    let Some(public_host) = public_host.and_then(|h| h.to_str().ok()) else {
        return;
    };
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
        return;
    };
    let origin_host = origin.split_once("://").map(|(_, rest)| rest);
    if origin_host.is_some_and(|h| h.eq_ignore_ascii_case(public_host)) {
        if let Ok(v) = HeaderValue::from_str(&format!("http://{target}")) {
            headers.insert(header::ORIGIN, v);
        }
    }
}

fn authority_value(target: &Authority) -> HeaderValue {
    // An `Authority` is already a valid header value.
    HeaderValue::from_str(target.as_str()).unwrap_or_else(|_| HeaderValue::from_static("localhost"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn strips_hop_by_hop_and_connection_named() {
        let mut h = map(&[
            ("connection", "keep-alive, x-secret"),
            ("keep-alive", "timeout=5"),
            ("x-secret", "1"),
            ("transfer-encoding", "chunked"),
            ("te", "trailers"),
            ("upgrade", "websocket"),
            ("content-type", "text/plain"),
        ]);
        strip_hop_by_hop(&mut h);
        let left: Vec<_> = h.keys().map(|k| k.as_str()).collect();
        assert_eq!(left, vec!["content-type"]);
    }

    #[test]
    fn detects_upgrade_only_with_connection_token() {
        let h = map(&[
            ("connection", "keep-alive, Upgrade"),
            ("upgrade", "websocket"),
        ]);
        assert_eq!(requested_upgrade(&h).unwrap(), "websocket");
        let h = map(&[("upgrade", "websocket")]);
        assert!(requested_upgrade(&h).is_none());
        let h = map(&[
            ("connection", "Upgrade, HTTP2-Settings"),
            ("upgrade", "h2c"),
        ]);
        assert!(requested_upgrade(&h).is_none());
    }

    #[test]
    fn sets_forwarded_headers_and_local_host() {
        let mut h = map(&[
            ("host", "box.example:8080"),
            ("x-forwarded-for", "1.2.3.4"),
            ("origin", "http://box.example:8080"),
        ]);
        let peer: SocketAddr = "5.6.7.8:999".parse().unwrap();
        let fwd = Forwarded::from_request(&h, Some(peer));
        let target: Authority = "127.0.0.1:7860".parse().unwrap();
        prepare_request(&mut h, &fwd, &target, "/p/sd");
        assert_eq!(h["host"], "127.0.0.1:7860");
        assert_eq!(h["x-forwarded-host"], "box.example:8080");
        assert_eq!(h["x-forwarded-proto"], "http");
        assert_eq!(h["x-forwarded-for"], "1.2.3.4, 5.6.7.8");
        assert_eq!(h["x-forwarded-prefix"], "/p/sd");
        assert_eq!(h["origin"], "http://127.0.0.1:7860");
    }

    #[test]
    fn hides_only_the_named_cookies() {
        let hidden = vec!["pc_session".to_string()];
        let mut h = map(&[("cookie", "a=1; pc_session=secret"), ("cookie", "b=2")]);
        hide_cookies(&mut h, &hidden);
        assert_eq!(
            h.get_all("cookie").iter().collect::<Vec<_>>(),
            vec!["a=1; b=2"]
        );
        let mut h = map(&[("cookie", "pc_session=secret")]);
        hide_cookies(&mut h, &hidden);
        assert!(h.get("cookie").is_none());
        let mut h = map(&[("cookie", "pc_session_x=1")]);
        hide_cookies(&mut h, &hidden);
        assert_eq!(h["cookie"], "pc_session_x=1");
    }

    #[test]
    fn a_trailing_star_hides_every_cookie_with_that_prefix() {
        let hidden = vec!["pc_session".to_string(), "pc_app_*".to_string()];
        let mut h = map(&[(
            "cookie",
            "pc_app_sd=1; app=2; pc_app_x=3; pc_session=4; pc_appx=5",
        )]);
        hide_cookies(&mut h, &hidden);
        assert_eq!(h["cookie"], "app=2; pc_appx=5");
    }

    #[test]
    fn only_bearer_authorization_is_ours_to_strip() {
        let mut h = map(&[("authorization", "Bearer abc")]);
        strip_bearer(&mut h);
        assert!(h.get("authorization").is_none());
        let mut h = map(&[("authorization", "Basic dXNlcjpwdw==")]);
        strip_bearer(&mut h);
        assert_eq!(h["authorization"], "Basic dXNlcjpwdw==");
    }

    #[test]
    fn keeps_foreign_origin_and_tunnel_proto() {
        let mut h = map(&[
            ("host", "box.example"),
            ("x-forwarded-proto", "https"),
            ("origin", "https://evil.example"),
        ]);
        let fwd = Forwarded::from_request(&h, None);
        let target: Authority = "127.0.0.1:1".parse().unwrap();
        prepare_request(&mut h, &fwd, &target, "/p/a");
        assert_eq!(h["origin"], "https://evil.example");
        assert_eq!(h["x-forwarded-proto"], "https");
        assert!(h.get("x-forwarded-for").is_none());
    }
}
