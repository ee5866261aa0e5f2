//! `/auth/login` (password form) and `/auth/logout`.

use super::gate::{
    client_ip, cookie_value, internal, message_page, same_origin, session_cookie, with_cookie,
};
use super::{Auth, SESSION_COOKIE};
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Form, Router};
use serde::Deserialize;

/// The routes [`router`] registers (listed for the auth tests).
pub const ROUTES: [(&str, &str); 2] = [("POST", "/auth/login"), ("POST", "/auth/logout")];

pub fn router() -> Router<Auth> {
    Router::new()
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
}

#[derive(Deserialize)]
struct LoginForm {
    password: String,
    #[serde(default)]
    next: String,
}

async fn login(State(auth): State<Auth>, req: Request) -> Response {
    let ip = client_ip(&req);
    let headers = req.headers().clone();
    if !same_origin(&headers) {
        return (StatusCode::FORBIDDEN, "cross-site sign-in refused").into_response();
    }
    if let Some(wait) = auth.limiter.blocked(ip) {
        let page = message_page(
            "Too many attempts",
            &format!("Try again in {} minutes.", wait.as_secs() / 60 + 1),
        );
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, wait.as_secs().to_string())],
            Html(page),
        )
            .into_response();
    }
    let Ok(Form(form)) = Form::<LoginForm>::from_request(req, &()).await else {
        return (
            StatusCode::BAD_REQUEST,
            "expected a form with a `password` field",
        )
            .into_response();
    };
    match auth.login_with_password(&form.password).await {
        Ok(Some(id)) => {
            auth.limiter.record_success(ip);
            with_cookie(
                Redirect::to(safe_next(&form.next)).into_response(),
                &session_cookie(&id, &headers),
            )
        }
        Ok(None) => {
            auth.limiter.record_failure(ip);
            Redirect::to("/login?error=password").into_response()
        }
        Err(err) => internal(err),
    }
}

async fn logout(State(auth): State<Auth>, req: Request) -> Response {
    if !same_origin(req.headers()) {
        return (StatusCode::FORBIDDEN, "cross-site sign-out refused").into_response();
    }
    if let Some(id) = cookie_value(req.headers(), SESSION_COOKIE) {
        if let Ok(Some(session)) = auth.session(&id).await {
            if let Err(err) = auth.db.delete_session(&session.id_hash).await {
                return internal(err);
            }
        }
    }
    let expired = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    with_cookie(
        Redirect::to("/login?signed_out=1").into_response(),
        &expired,
    )
}

/// Only same-site paths: never an open redirect to another host.
fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") {
        next
    } else {
        "/"
    }
}

use axum::extract::FromRequest;

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next("/apps/x?q=1"), "/apps/x?q=1");
        assert_eq!(safe_next("//evil.example"), "/");
        assert_eq!(safe_next("https://evil.example"), "/");
        assert_eq!(safe_next(""), "/");
    }
}
