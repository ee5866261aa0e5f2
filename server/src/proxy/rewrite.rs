//! Path and header rewriting between the public `/p/<app>/…` space and the
//! app's own root. Apps believe they live at `/`; the browser must only ever
//! see URLs under the prefix, or it would leave the app (and hit the
//! dashboard) on the next redirect or lose its cookies.

use super::targets::Target;
use axum::http::header::{self, HeaderMap, HeaderValue};

/// The path (and query) to request from the app: the public path minus
/// `/p/<app>` (nothing when `prefix` is empty: the app owns its origin),
/// under the target's base path. `public_path` is the raw, still
/// percent-encoded request path, so encoded bytes pass through intact.
pub fn upstream_path(
    target: &Target,
    prefix: &str,
    public_path: &str,
    query: Option<&str>,
) -> String {
    let rest = if prefix.is_empty() {
        public_path
    } else {
        strip_mount(public_path)
    };
    let mut out = format!("{}{}", target.base_path, rest);
    if out.is_empty() {
        out.push('/');
    }
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// `/p/<app>/x/y` → `/x/y`; `/p/<app>/` → `/`.
fn strip_mount(public_path: &str) -> &str {
    let after_mount = public_path.strip_prefix("/p/").unwrap_or(public_path);
    after_mount.find('/').map_or("/", |i| &after_mount[i..])
}

/// True when the path has a `.` or `..` segment, raw or percent-encoded.
/// Browsers normalise these away, so only a hand-made request has one, and
/// naive static file handlers in Python apps may follow it out of their root.
pub fn has_dot_segment(raw_path: &str) -> bool {
    raw_path.split('/').any(|seg| {
        let lower = seg.to_ascii_lowercase().replace("%2e", ".");
        lower == "." || lower == ".."
    })
}

/// Where an app is mounted: what its URLs must be mapped between.
pub struct Mount<'a> {
    pub target: &'a Target,
    /// `/p/<app>`.
    pub prefix: &'a str,
    /// The host the browser used (see `headers::Forwarded::host`).
    pub public_host: Option<&'a str>,
}

/// Rewrites `Location` and `Set-Cookie` on a response from the app.
pub fn response_headers(headers: &mut HeaderMap, mount: &Mount) {
    if let Some(loc) = headers.get(header::LOCATION).and_then(|v| v.to_str().ok()) {
        if let Some(new) = location(loc, mount) {
            if let Ok(v) = HeaderValue::from_str(&new) {
                headers.insert(header::LOCATION, v);
            }
        }
    }
    let cookies: Vec<HeaderValue> = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| match v.to_str() {
            Ok(s) => {
                HeaderValue::from_str(&set_cookie(s, mount.prefix)).unwrap_or_else(|_| v.clone())
            }
            Err(_) => v.clone(),
        })
        .collect();
    if !cookies.is_empty() {
        headers.remove(header::SET_COOKIE);
        for c in cookies {
            headers.append(header::SET_COOKIE, c);
        }
    }
}

/// Maps a redirect target onto the public prefix, or `None` to leave it:
/// - `http://127.0.0.1:PORT/base/x?q` (the target itself, any loopback
///   spelling with the same port) → `/p/<app>/x?q`;
/// - `http(s)://<public host>/x` (apps that build absolute URLs from
///   `X-Forwarded-Host` but know nothing of the prefix) → `/p/<app>/x`;
/// - root-relative `/x` → `/p/<app>/x`;
/// - URLs already under the prefix (apps told their root path, e.g.
///   Gradio), relative (`x`, `../x`) and foreign URLs are left alone.
pub fn location(loc: &str, mount: &Mount) -> Option<String> {
    if let Some((scheme, authority, path)) = split_absolute(loc) {
        if scheme == "http" && is_same_local_server(authority, mount.target) {
            let base = mount.target.base_path.as_str();
            return Some(join_prefix(mount.prefix, strip_base(path, base)));
        }
        let public = mount
            .public_host
            .is_some_and(|h| h.eq_ignore_ascii_case(authority));
        return if public {
            prefixed(path, mount.prefix)
        } else {
            None
        };
    }
    if loc.starts_with('/') && !loc.starts_with("//") {
        return prefixed(loc, mount.prefix);
    }
    None
}

/// `http://host:1/x?q` → `("http", "host:1", "/x?q")`; `None` if not absolute.
fn split_absolute(loc: &str) -> Option<(&str, &str, &str)> {
    let (scheme, rest) = loc.split_once("://")?;
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return None;
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let scheme = if scheme.eq_ignore_ascii_case("http") {
        "http"
    } else {
        "https"
    };
    Some((scheme, &rest[..end], &rest[end..]))
}

/// `/base/x` → `/x`, but `/basement` stays: a base is a whole segment.
fn strip_base<'p>(path: &'p str, base: &str) -> &'p str {
    match path.strip_prefix(base) {
        Some(rest) if rest.is_empty() || rest.starts_with(['/', '?', '#']) => rest,
        _ => path,
    }
}

/// A root-relative path under the prefix, unless it already is.
fn prefixed(path: &str, prefix: &str) -> Option<String> {
    if path == prefix || path.starts_with(&format!("{prefix}/")) {
        return None;
    }
    Some(join_prefix(prefix, path))
}

/// `prefix` + a path that may be empty or start with `?`/`#`.
fn join_prefix(prefix: &str, path: &str) -> String {
    if path.starts_with('/') {
        format!("{prefix}{path}")
    } else {
        format!("{prefix}/{path}")
    }
}

/// Apps often redirect to `localhost:PORT` while registered as
/// `127.0.0.1:PORT` (or the reverse); both are the same local server.
fn is_same_local_server(authority: &str, target: &Target) -> bool {
    let Ok(auth) = authority.parse::<axum::http::uri::Authority>() else {
        return false;
    };
    let local =
        |h: &str| h.eq_ignore_ascii_case("localhost") || h == "[::1]" || h.starts_with("127.");
    auth.port_u16().unwrap_or(80) == target.port() && local(auth.host())
}

/// `Path=/x` → `Path=/p/<app>/x`, and drops a `Domain` naming a loopback
/// host (the browser would reject the cookie on the public host).
pub fn set_cookie(cookie: &str, prefix: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    for (i, attr) in cookie.split(';').enumerate() {
        let trimmed = attr.trim();
        let lower = trimmed.to_ascii_lowercase();
        if i > 0 && lower.starts_with("path=") {
            let path = trimmed[5..].trim();
            parts.push(format!("Path={}", cookie_path(path, prefix)));
        } else if i > 0 && lower.starts_with("domain=") && is_loopback_domain(&lower[7..]) {
            continue;
        } else {
            parts.push(if i == 0 {
                attr.to_string()
            } else {
                trimmed.to_string()
            });
        }
    }
    parts.join("; ")
}

fn cookie_path(path: &str, prefix: &str) -> String {
    if !path.starts_with('/') || path == prefix || path.starts_with(&format!("{prefix}/")) {
        return path.to_string();
    }
    join_prefix(prefix, path)
}

fn is_loopback_domain(domain: &str) -> bool {
    let d = domain.trim().trim_start_matches('.');
    d == "localhost" || d.starts_with("127.") || d == "[::1]" || d == "::1"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(url: &str) -> Target {
        Target::parse("sd", url).unwrap()
    }

    #[test]
    fn maps_public_paths_onto_the_target() {
        let root = target("http://127.0.0.1:7860/");
        assert_eq!(upstream_path(&root, "/p/sd", "/p/sd/", None), "/");
        assert_eq!(
            upstream_path(&root, "/p/sd", "/p/sd/a/b%20c", Some("x=1&y")),
            "/a/b%20c?x=1&y"
        );
        let sub = target("http://127.0.0.1:7860/base/");
        assert_eq!(upstream_path(&sub, "/p/sd", "/p/sd/", None), "/base/");
        assert_eq!(upstream_path(&sub, "/p/sd", "/p/sd/x", None), "/base/x");
    }

    #[test]
    fn finds_dot_segments() {
        assert!(has_dot_segment("/p/sd/../x"));
        assert!(has_dot_segment("/p/sd/%2E%2e/x"));
        assert!(has_dot_segment("/p/sd/./x"));
        assert!(!has_dot_segment("/p/sd/..x/.hidden/a.b"));
    }

    fn mount<'a>(t: &'a Target, public_host: Option<&'a str>) -> Mount<'a> {
        Mount {
            target: t,
            prefix: "/p/sd",
            public_host,
        }
    }

    #[test]
    fn rewrites_locations() {
        let t = target("http://127.0.0.1:7860/");
        let p = &mount(&t, Some("box.example"));
        assert_eq!(
            location("http://127.0.0.1:7860/x?q=1", p).unwrap(),
            "/p/sd/x?q=1"
        );
        assert_eq!(location("http://localhost:7860/", p).unwrap(), "/p/sd/");
        assert_eq!(location("http://127.0.0.1:7860", p).unwrap(), "/p/sd/");
        assert_eq!(location("/login", p).unwrap(), "/p/sd/login");
        assert_eq!(location("/", p).unwrap(), "/p/sd/");
        assert_eq!(location("/p/sd/already", p), None);
        assert_eq!(location("/p/sdx", p).unwrap(), "/p/sd/p/sdx");
        assert_eq!(location("relative/x", p), None);
        assert_eq!(location("//cdn.example/x", p), None);
        assert_eq!(location("http://127.0.0.1:9999/x", p), None);
        assert_eq!(location("https://example.com/x", p), None);
        assert_eq!(location("https://box.example/x", p).unwrap(), "/p/sd/x");
        assert_eq!(location("http://BOX.example?q", p).unwrap(), "/p/sd/?q");
        assert_eq!(location("https://box.example/p/sd/x", p), None);
        assert_eq!(location("https://127.0.0.1:7860/x", p), None);
        assert_eq!(location("ftp://127.0.0.1:7860/x", p), None);
        let sub = target("http://127.0.0.1:7860/base/");
        assert_eq!(
            location("http://127.0.0.1:7860/base/x", &mount(&sub, None)).unwrap(),
            "/p/sd/x"
        );
        assert_eq!(
            location("http://127.0.0.1:7860/basement", &mount(&sub, None)).unwrap(),
            "/p/sd/basement"
        );
    }

    #[test]
    fn rewrites_cookie_paths_and_loopback_domains() {
        let p = "/p/sd";
        assert_eq!(set_cookie("a=1; Path=/", p), "a=1; Path=/p/sd/");
        assert_eq!(
            set_cookie("a=1; path=/api; HttpOnly", p),
            "a=1; Path=/p/sd/api; HttpOnly"
        );
        assert_eq!(set_cookie("a=1; Path=/p/sd/x", p), "a=1; Path=/p/sd/x");
        assert_eq!(
            set_cookie("a=1; Domain=localhost; Path=/", p),
            "a=1; Path=/p/sd/"
        );
        assert_eq!(
            set_cookie("a=1; Domain=example.com", p),
            "a=1; Domain=example.com"
        );
        assert_eq!(set_cookie("path=/x; Secure", p), "path=/x; Secure");
    }

    #[test]
    fn response_headers_rewrites_every_cookie() {
        let t = target("http://127.0.0.1:7860/");
        let mut h = HeaderMap::new();
        h.insert(header::LOCATION, "/next".parse().unwrap());
        h.append(header::SET_COOKIE, "a=1; Path=/".parse().unwrap());
        h.append(header::SET_COOKIE, "b=2; Path=/x".parse().unwrap());
        response_headers(&mut h, &mount(&t, None));
        assert_eq!(h[header::LOCATION], "/p/sd/next");
        let cookies: Vec<_> = h.get_all(header::SET_COOKIE).iter().collect();
        assert_eq!(cookies, vec!["a=1; Path=/p/sd/", "b=2; Path=/p/sd/x"]);
    }
}
