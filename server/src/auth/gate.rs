//! The middleware in front of every route: resolves the session (cookie or
//! bearer), turns `?token=` login links into sessions, enforces [`policy`], and
//! refuses cross-site writes.

use super::policy::{self, Access};
use super::{Auth, Session, SESSION_COOKIE, SESSION_DAYS};
use app::auth::Role;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use std::net::{IpAddr, SocketAddr};

pub async fn gate(State(auth): State<Auth>, mut req: Request, next: Next) -> Response {
    let required = match policy::required(req.method(), req.uri().path()) {
        Access::Public => return next.run(req).await,
        Access::Role(role) => role,
    };
    let ip = client_ip(&req);
    if req.method() == Method::GET {
        if let Some(token) = query_value(req.uri(), "token") {
            return token_login(&auth, ip, req.uri(), &req.headers().clone(), &token).await;
        }
    }
    let (session, by_cookie) = match resolve(&auth, req.headers()).await {
        Ok(Some(found)) => found,
        Ok(None) => return unauthenticated(&req),
        Err(err) => return internal(err),
    };
    if !session.viewer.role.allows(required) {
        return forbidden(&req, session.viewer.role, required);
    }
    let needs_origin = policy::is_mutating(req.method()) || is_websocket(req.headers());
    if by_cookie && needs_origin && !same_origin(req.headers()) {
        return (
            StatusCode::FORBIDDEN,
            "cross-site request refused: its Origin does not match this dashboard's address",
        )
            .into_response();
    }
    req.extensions_mut().insert(session.viewer.clone());
    req.extensions_mut().insert(session);
    next.run(req).await
}

/// Session from the cookie, else from `Authorization: Bearer` (a login token,
/// for scripts and the CLI). The flag tells whether a cookie carried it.
async fn resolve(auth: &Auth, headers: &HeaderMap) -> anyhow::Result<Option<(Session, bool)>> {
    if let Some(id) = cookie_value(headers, SESSION_COOKIE) {
        if let Some(session) = auth.session(&id).await? {
            return Ok(Some((session, true)));
        }
    }
    let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return Ok(None);
    };
    if let Some(session) = auth.session(token.trim()).await? {
        return Ok(Some((session, false)));
    }
    Ok(auth
        .db
        .use_token(&super::secret::hash(token.trim()))
        .await?
        .map(|grant| {
            let viewer = app::auth::Viewer {
                role: grant.role,
                label: grant.label,
            };
            (
                Session {
                    viewer,
                    id_hash: String::new(),
                },
                false,
            )
        }))
}

async fn token_login(
    auth: &Auth,
    ip: IpAddr,
    uri: &Uri,
    headers: &HeaderMap,
    token: &str,
) -> Response {
    if let Some(wait) = auth.limiter.blocked(ip) {
        return too_many(wait.as_secs());
    }
    match auth.login_with_token(token).await {
        Ok(Some((id, _))) => {
            auth.limiter.record_success(ip);
            let target = without_query_key(uri, "token");
            with_cookie(
                Redirect::to(&target).into_response(),
                &session_cookie(&id, headers),
            )
        }
        Ok(None) => {
            auth.limiter.record_failure(ip);
            Redirect::to("/login?error=link").into_response()
        }
        Err(err) => internal(err),
    }
}

fn unauthenticated(req: &Request) -> Response {
    if wants_html(req) {
        let next = req.uri().path_and_query().map_or("/", |p| p.as_str());
        return Redirect::to(&format!("/login?next={}", encode(next))).into_response();
    }
    (
        StatusCode::UNAUTHORIZED,
        "sign in first: open the login link that `pinokiocloud serve` printed, or a share link",
    )
        .into_response()
}

fn forbidden(req: &Request, have: Role, need: Role) -> Response {
    let message = format!(
        "This needs the {need} role; you are signed in as {have}. Ask the dashboard's admin for a share link with the {need} role."
    );
    if wants_html(req) {
        return (
            StatusCode::FORBIDDEN,
            Html(message_page("Not allowed", &message)),
        )
            .into_response();
    }
    (StatusCode::FORBIDDEN, message).into_response()
}

fn too_many(wait_secs: u64) -> Response {
    let mut response = (
        StatusCode::TOO_MANY_REQUESTS,
        Html(message_page(
            "Too many attempts",
            &format!(
                "Too many failed sign-ins from your address. Try again in {} minutes.",
                wait_secs / 60 + 1
            ),
        )),
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&wait_secs.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

pub(super) fn internal(err: anyhow::Error) -> Response {
    tracing::error!("auth: {err:#}");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal error; see the server log",
    )
        .into_response()
}

/// A minimal page for answers the gate gives before the app renders.
pub(super) fn message_page(title: &str, message: &str) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{t} · PinokioCloud</title><link rel=\"stylesheet\" href=\"/pkg/pinokiocloud.css\"></head><body><main class=\"page\"><div class=\"empty\"><h1>{t}</h1><p>{m}</p><a class=\"btn primary\" href=\"/\">Back to the dashboard</a></div></main></body></html>",
        t = esc(title),
        m = esc(message)
    )
}

pub(super) fn session_cookie(id: &str, headers: &HeaderMap) -> String {
    let secure = if is_https(headers) { "; Secure" } else { "" };
    format!(
        "{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        SESSION_DAYS * 86_400
    )
}

pub(super) fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

pub(super) fn client_ip(req: &Request) -> IpAddr {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([127, 0, 0, 1]), |c| c.0.ip());
    // Tunnels and platform proxies connect from loopback; only then is the
    // forwarded address theirs to give (elsewhere it could be forged).
    if peer.is_loopback() {
        if let Some(forwarded) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse().ok())
        {
            return forwarded;
        }
    }
    peer
}

pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_string())
}

fn query_value(uri: &Uri, key: &str) -> Option<String> {
    uri.query()?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.to_string())
}

fn without_query_key(uri: &Uri, key: &str) -> String {
    let rest: Vec<&str> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty() && pair.split('=').next() != Some(key))
        .collect();
    match rest.is_empty() {
        true => uri.path().to_string(),
        false => format!("{}?{}", uri.path(), rest.join("&")),
    }
}

fn wants_html(req: &Request) -> bool {
    req.method() == Method::GET
        && !is_websocket(req.headers())
        && req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
}

fn is_websocket(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

fn is_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// The Origin (or Referer) host must be the host the browser addressed.
pub(crate) fn same_origin(headers: &HeaderMap) -> bool {
    let host = headers
        .get("x-forwarded-host")
        .or_else(|| headers.get(header::HOST))
        .and_then(|v| v.to_str().ok());
    let origin = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split_once("://")
                .map(|(_, rest)| rest.split('/').next().unwrap_or(""))
        });
    matches!((host, origin), (Some(h), Some(o)) if h.eq_ignore_ascii_case(o))
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn same_origin_compares_hosts() {
        assert!(same_origin(&headers(&[
            ("host", "a:1"),
            ("origin", "http://a:1")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "a:1"),
            ("origin", "http://evil:1")
        ])));
        assert!(!same_origin(&headers(&[("host", "a:1")])));
        assert!(same_origin(&headers(&[
            ("host", "a:1"),
            ("referer", "http://a:1/x/y")
        ])));
    }

    #[test]
    fn token_is_stripped_from_the_redirect() {
        let uri: Uri = "/apps/x?token=abc&q=1".parse().unwrap();
        assert_eq!(without_query_key(&uri, "token"), "/apps/x?q=1");
        let uri: Uri = "/?token=abc".parse().unwrap();
        assert_eq!(without_query_key(&uri, "token"), "/");
    }

    #[test]
    fn cookies_are_found_among_others() {
        let h = headers(&[("cookie", "a=1; pc_session=xyz; b=2")]);
        assert_eq!(cookie_value(&h, "pc_session").as_deref(), Some("xyz"));
        assert_eq!(cookie_value(&h, "c"), None);
    }
}
