//! What an app's origin serves: the handoff sign-in step, then the app
//! itself at `/` for holders of that origin's session cookie. Nothing of the
//! dashboard is reachable here.

use super::{cookie_name, AppOrigins, HANDOFF_PATH};
use crate::auth::gate::{cookie_value, same_origin};
use app::auth::Role;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};

/// Every request that reached `app`'s origin (by `Host` or by port).
pub async fn serve(origins: AppOrigins, app: String, mut req: Request) -> Response {
    // Nothing borrowed from `req` may live across an await (Body is not Sync).
    let (is_handoff, is_ours) = {
        let path = req.uri().path();
        (path == HANDOFF_PATH, path.starts_with("/__pinokio/"))
    };
    if is_handoff {
        let query = req.uri().query().unwrap_or("");
        let code = query_value(query, "code");
        // Only a path on this origin; anything else lands on `/`.
        let next = url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "next")
            .and_then(|(_, v)| super::dispatch::app_path(&v).ok().map(str::to_string));
        let https = is_https(req.headers());
        return handoff(&origins, &app, code, next, https).await;
    }
    if is_ours {
        return (StatusCode::NOT_FOUND, "no such PinokioCloud page").into_response();
    }
    let id = cookie_value(req.headers(), &cookie_name(&app));
    let role = match id {
        Some(id) => match origins.session_role(&app, &id).await {
            Ok(role) => role,
            Err(err) => return internal(err),
        },
        None => None,
    };
    let Some(role) = role else {
        return page(
            StatusCode::UNAUTHORIZED,
            "Sign in to this app",
            &format!("Open {app} from the PinokioCloud dashboard (its Open button, or `pinokiocloud open {app}`) to sign in to this address."),
        );
    };
    if !role.allows(Role::Operator) {
        return page(
            StatusCode::FORBIDDEN,
            "Not allowed",
            &format!("Using {app} needs the operator role; you are signed in as {role}."),
        );
    }
    // Another origin's page must not drive this app's WebSockets with the
    // person's cookie (browsers do not apply CORS to WebSockets).
    if is_websocket(req.headers()) && has_foreign_origin(req.headers()) {
        return (
            StatusCode::FORBIDDEN,
            "cross-origin WebSocket refused: its Origin is not this app's address",
        )
            .into_response();
    }
    strip_gradio_prefix(&app, &mut req);
    match origins.proxy().handle_at_root(&app, req).await {
        Ok(resp) => resp,
        Err(err) => {
            tracing::debug!(app, error = %err, "app origin request failed");
            err.into_response()
        }
    }
}

/// `GET /__pinokio/handoff?code=…[&next=…]`: spends the one-time code, sets
/// this origin's session cookie and goes to `next` (a path here) or `/`.
async fn handoff(
    origins: &AppOrigins,
    app: &str,
    code: Option<String>,
    next: Option<String>,
    https: bool,
) -> Response {
    let grant = match code {
        Some(code) => match origins.db().take_handoff(app, &code).await {
            Ok(grant) => grant,
            Err(err) => return internal(err),
        },
        None => None,
    };
    let Some(grant) = grant else {
        return page(
            StatusCode::FORBIDDEN,
            "This sign-in link has expired",
            &format!("Sign-in links work once, for a minute. Open {app} again from the dashboard."),
        );
    };
    let (id, max_age) = match origins.db().create_session(&grant).await {
        Ok(session) => session,
        Err(err) => return internal(err),
    };
    let secure = if https { "; Secure" } else { "" };
    // No Domain attribute: a host-only cookie, never sent to the dashboard's
    // host or to another app's subdomain.
    let cookie = format!(
        "{}={id}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
        cookie_name(app)
    );
    let location = HeaderValue::from_str(next.as_deref().unwrap_or("/"))
        .unwrap_or(HeaderValue::from_static("/"));
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        headers.append(header::SET_COOKIE, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    response
}

/// Gradio apps are started with `GRADIO_ROOT_PATH=/p/<app>` and so ask for
/// `/p/<app>/…`; on their own origin that is simply `/…`.
fn strip_gradio_prefix(app: &str, req: &mut Request) {
    let prefix = crate::proxy::prefix(app);
    let path = req.uri().path();
    let Some(rest) = path.strip_prefix(&prefix) else {
        return;
    };
    if !(rest.is_empty() || rest.starts_with('/')) {
        return;
    }
    let rest = if rest.is_empty() { "/" } else { rest };
    let pq = match req.uri().query() {
        Some(q) => format!("{rest}?{q}"),
        None => rest.to_string(),
    };
    if let Ok(uri) = pq.parse() {
        *req.uri_mut() = uri;
    }
}

fn has_foreign_origin(headers: &HeaderMap) -> bool {
    headers.contains_key(header::ORIGIN) && !same_origin(headers)
}

fn is_websocket(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

pub(super) fn is_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

pub(super) fn query_value(query: &str, key: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.to_string())
}

/// A small self-contained page (no dashboard assets: this is not the
/// dashboard's origin).
pub(super) fn page(status: StatusCode, title: &str, message: &str) -> Response {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{t} · PinokioCloud</title></head><body style=\"font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem\"><h1>{t}</h1><p>{m}</p></body></html>",
        t = esc(title),
        m = esc(message)
    );
    (status, Html(body)).into_response()
}

fn internal(err: anyhow::Error) -> Response {
    tracing::error!("app origin: {err:#}");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal error; see the server log",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradio_prefix_is_stripped_on_the_app_origin() {
        let mut req = Request::new(axum::body::Body::empty());
        *req.uri_mut() = "/p/sd/assets/x.js?v=1".parse().unwrap();
        strip_gradio_prefix("sd", &mut req);
        assert_eq!(req.uri(), "/assets/x.js?v=1");
        *req.uri_mut() = "/p/sdx/a".parse().unwrap();
        strip_gradio_prefix("sd", &mut req);
        assert_eq!(req.uri(), "/p/sdx/a");
        *req.uri_mut() = "/p/sd".parse().unwrap();
        strip_gradio_prefix("sd", &mut req);
        assert_eq!(req.uri(), "/");
    }
}
