//! The outermost layer of the dashboard's listener: a request whose `Host`
//! names an app goes to that app's origin ([`app_site`]); every other
//! request is the dashboard's, which gets the isolation rules here:
//! - a request carrying an `Origin` other than the dashboard's own is
//!   refused, whatever its method (app origins are same-site with the
//!   dashboard, so browsers attach its cookie to their credentialed fetches);
//! - dashboard pages may not be framed (`X-Frame-Options: DENY` and CSP
//!   `frame-ancestors 'none'`); apps under `/p/` keep their own headers;
//! - an app-only share link (`/?token=…`) signs its holder in to that app's
//!   origin and nowhere else.

use super::app_site::{self, is_https, page, query_value};
use super::{AppOrigins, HANDOFF_PATH};
use crate::auth::gate::same_origin;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

pub async fn dispatch(State(origins): State<AppOrigins>, req: Request, next: Next) -> Response {
    let host = public_host(req.headers());
    if let Some(app) = host.as_deref().and_then(|h| origins.app_for_host(h)) {
        return app_site::serve(origins, app, req).await;
    }
    if req.headers().contains_key(header::ORIGIN) && !same_origin(req.headers()) {
        return (
            StatusCode::FORBIDDEN,
            "cross-origin request refused: the dashboard answers only its own pages",
        )
            .into_response();
    }
    if req.method() == Method::GET {
        if let Some(token) = query_value(req.uri().query().unwrap_or(""), "token") {
            let https = is_https(req.headers());
            if let Some(response) = app_share_login(&origins, host.as_deref(), https, &token).await
            {
                return response;
            }
        }
    }
    let under_proxy = req.uri().path().starts_with("/p/");
    let mut response = next.run(req).await;
    if !under_proxy {
        forbid_framing(response.headers_mut());
    }
    response
}

/// The host the browser addressed: a tunnel or platform proxy in front may
/// say so in `X-Forwarded-Host` (as the gate's same-origin check reads it).
pub fn public_host(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-forwarded-host")
        .or_else(|| headers.get(header::HOST))
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// `None` when `token` is not an app-only share link (the gate then treats
/// it as an ordinary login link).
async fn app_share_login(
    origins: &AppOrigins,
    host: Option<&str>,
    https: bool,
    token: &str,
) -> Option<Response> {
    let grant = match origins.db().app_share(token).await {
        Ok(grant) => grant?,
        Err(err) => {
            tracing::error!("app share link: {err:#}");
            return Some((StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response());
        }
    };
    let info = origins.open_origin(&grant.app, host, https).await;
    if info.mode == "prefix" {
        return Some(page(
            StatusCode::CONFLICT,
            "This app cannot be shared through this address",
            &format!(
                "{} would open under /p/{}/ on the dashboard's own address, which an app-only link cannot open: {}",
                grant.app, grant.app, info.reason
            ),
        ));
    }
    match origins.db().mint_handoff(&grant).await {
        Ok(code) => Some(Redirect::to(&handoff_link(&info.origin, &code, None)).into_response()),
        Err(err) => {
            tracing::error!("app share link: {err:#}");
            Some((StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response())
        }
    }
}

/// `<origin>/__pinokio/handoff?code=…`: the one-time sign-in link on `origin`; after it the browser goes to
/// `next` (a path on that origin, see [`app_path`]) or `/`.
pub fn handoff_link(origin: &str, code: &str, next: Option<&str>) -> String {
    let mut link = format!("{}{HANDOFF_PATH}?code={code}", origin.trim_end_matches('/'));
    if let Some(next) = next.filter(|n| *n != "/") {
        link.push_str("&next=");
        link.extend(url::form_urlencoded::byte_serialize(next.as_bytes()));
    }
    link
}

/// A place inside an app (`/x?y=1`) that Open may lead to: a path on the
/// app's own origin only, so a crafted link cannot send a person elsewhere
/// (`//host`, `/\host` and schemes are refused).
pub fn app_path(path: &str) -> Result<&str, String> {
    let ok = path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.chars().any(|c| c.is_control() || c.is_whitespace());
    match ok {
        true => Ok(path),
        false => Err(format!(
            "path {path:?} is not a path inside the app: give one that starts with a single '/', e.g. /settings?tab=1"
        )),
    }
}

fn forbid_framing(headers: &mut HeaderMap) {
    headers
        .entry(header::X_FRAME_OPTIONS)
        .or_insert(HeaderValue::from_static("DENY"));
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("frame-ancestors 'none'"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dashboard_pages_cannot_be_framed_but_keep_a_stricter_policy() {
        let mut h = HeaderMap::new();
        forbid_framing(&mut h);
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(h[header::CONTENT_SECURITY_POLICY], "frame-ancestors 'none'");
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'"),
        );
        forbid_framing(&mut h);
        assert_eq!(
            h[header::CONTENT_SECURITY_POLICY],
            "default-src 'self'; frame-ancestors 'none'"
        );
    }

    #[test]
    fn handoff_links_sit_on_the_app_origin() {
        assert_eq!(
            handoff_link("http://sd.localhost:42000/", "abc", None),
            "http://sd.localhost:42000/__pinokio/handoff?code=abc"
        );
        assert_eq!(
            handoff_link("http://sd.localhost:42000", "abc", Some("/x/y?a=1&b=2")),
            "http://sd.localhost:42000/__pinokio/handoff?code=abc&next=%2Fx%2Fy%3Fa%3D1%26b%3D2"
        );
    }

    #[test]
    fn open_leads_only_to_paths_on_the_app_origin() {
        assert_eq!(app_path("/x?y=1#z"), Ok("/x?y=1#z"));
        assert_eq!(app_path("/"), Ok("/"));
        for bad in [
            "//evil.example/",
            "/\\evil.example",
            "https://evil.example/",
            "x/y",
            "",
            "/a b",
            "/a\nb",
        ] {
            let err = app_path(bad).unwrap_err();
            assert!(err.contains("starts with a single '/'"), "{bad}: {err}");
        }
    }

    #[test]
    fn the_public_host_prefers_the_forwarded_one() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:42000"));
        assert_eq!(public_host(&h).as_deref(), Some("127.0.0.1:42000"));
        h.insert(
            "x-forwarded-host",
            HeaderValue::from_static("sd.example.org"),
        );
        assert_eq!(public_host(&h).as_deref(), Some("sd.example.org"));
    }
}
