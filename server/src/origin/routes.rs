//! The dashboard's side of per-app origins (behind the auth gate):
//! - `GET /open/{app}`: the Open button: mints a handoff code and redirects
//!   to the app's origin (`?format=json`: the link, mode and reason instead,
//!   for `pinokiocloud open` and the app page);
//! - `GET /api/view/origins`: each running app's origin mode (`ls --json`);
//! - `POST /api/admin/origins/{app}/share`: a share link for that app only.

use super::app_site::is_https;
use super::dispatch::{app_path, handoff_link, public_host};
use super::{AppGrant, AppOrigins, OriginInfo};
use crate::auth::Session;
use crate::proxy::check_app_name;
use app::auth::Viewer;
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

/// The routes [`router`] registers (listed for the auth tests).
pub const ROUTES: [(&str, &str); 3] = [
    ("GET", "/open/{app}"),
    ("GET", "/api/view/origins"),
    ("POST", "/api/admin/origins/{app}/share"),
];

pub fn router(origins: AppOrigins) -> Router {
    Router::new()
        .route("/open/{app}", get(open))
        .route("/api/view/origins", get(list))
        .route("/api/admin/origins/{app}/share", post(share))
        .with_state(origins)
}

#[derive(Deserialize)]
struct OpenQuery {
    #[serde(default)]
    format: String,
    /// Where in the app to land (a menu link to `http://127.0.0.1:<port>/x`
    /// opens `/x` on the app's origin).
    path: Option<String>,
}

/// What `GET /open/{app}?format=json` answers.
#[derive(Serialize)]
pub struct OpenLink {
    #[serde(flatten)]
    pub origin: OriginInfo,
    /// The one-time sign-in link (or `/p/<app>/` in prefix mode).
    pub link: String,
}

async fn open(
    State(origins): State<AppOrigins>,
    Path(app): Path<String>,
    Query(query): Query<OpenQuery>,
    req: Request,
) -> Response {
    if let Err(err) = check_app_name(&app) {
        return (StatusCode::BAD_REQUEST, err.to_string()).into_response();
    }
    let next = match query.path.as_deref().map(app_path).transpose() {
        Ok(next) => next.map(str::to_string),
        Err(err) => return (StatusCode::BAD_REQUEST, err).into_response(),
    };
    let Some(viewer) = req.extensions().get::<Viewer>().cloned() else {
        return (StatusCode::UNAUTHORIZED, "sign in first").into_response();
    };
    if !origins.running_apps().contains(&app) {
        return (
            StatusCode::CONFLICT,
            format!("{app} is not running (or has not shown its web UI yet); start it first: pinokiocloud start {app}"),
        )
            .into_response();
    }
    // The app session ends with the dashboard session it came from (and
    // with its share link, when revoked).
    // Nothing borrowed from `req` may live across an await (Body is not Sync).
    let session_hash = req
        .extensions()
        .get::<Session>()
        .map(|s| s.id_hash.clone())
        .filter(|h| !h.is_empty());
    let host = public_host(req.headers());
    let https = is_https(req.headers());
    drop(req);
    let (token_id, session_expires_at) = match &session_hash {
        Some(hash) => match origins.db().session_limits(hash).await {
            Ok(limits) => limits,
            Err(err) => return internal(err),
        },
        None => (None, None),
    };
    let info = origins.open_origin(&app, host.as_deref(), https).await;
    let link = if info.mode == "prefix" {
        match &next {
            Some(next) => format!("{}{next}", info.origin.trim_end_matches('/')),
            None => info.origin.clone(),
        }
    } else {
        let grant = AppGrant {
            app: app.clone(),
            role: viewer.role,
            label: viewer.label,
            token_id,
            session_expires_at,
            parent_session: session_hash.clone(),
        };
        match origins.db().mint_handoff(&grant).await {
            Ok(code) => handoff_link(&info.origin, &code, next.as_deref()),
            Err(err) => return internal(err),
        }
    };
    if query.format == "json" {
        return Json(OpenLink { origin: info, link }).into_response();
    }
    Redirect::to(&link).into_response()
}

async fn list(State(origins): State<AppOrigins>, req: Request) -> Json<Vec<OriginInfo>> {
    let host = public_host(req.headers());
    let https = is_https(req.headers());
    let running = origins.running_apps();
    Json(
        running
            .iter()
            .map(|app| origins.origin_for(app, host.as_deref(), https))
            .collect(),
    )
}

#[derive(Deserialize, Default)]
struct ShareForm {
    #[serde(default)]
    label: String,
    expires_in_hours: Option<u32>,
}

#[derive(Serialize)]
struct ShareLink {
    app: String,
    link: String,
}

async fn share(
    State(origins): State<AppOrigins>,
    Path(app): Path<String>,
    req: Request,
) -> Response {
    if let Err(err) = check_app_name(&app) {
        return (StatusCode::BAD_REQUEST, err.to_string()).into_response();
    }
    let host = public_host(req.headers()).unwrap_or_else(|| "127.0.0.1".into());
    let scheme = if is_https(req.headers()) {
        "https"
    } else {
        "http"
    };
    let bytes = match axum::body::to_bytes(req.into_body(), 64 * 1024).await {
        Ok(bytes) => bytes,
        Err(err) => return (StatusCode::BAD_REQUEST, err.to_string()).into_response(),
    };
    let form: ShareForm = if bytes.is_empty() {
        ShareForm::default()
    } else {
        match serde_json::from_slice(&bytes) {
            Ok(form) => form,
            Err(err) => {
                return (
                    StatusCode::BAD_REQUEST,
                    format!("expected JSON {{\"label\": \"…\", \"expires_in_hours\": 24}}: {err}"),
                )
                    .into_response()
            }
        }
    };
    let expires_at = form
        .expires_in_hours
        .map(|h| crate::store::now() + i64::from(h) * 3600);
    let label = match form.label.trim() {
        "" => format!("{app} only"),
        given => format!("{app} only · {given}"),
    };
    match origins
        .db()
        .create_app_share(&app, &label, expires_at)
        .await
    {
        Ok(token) => Json(ShareLink {
            app,
            link: format!("{scheme}://{host}/?token={token}"),
        })
        .into_response(),
        Err(err) => internal(err),
    }
}

fn internal(err: anyhow::Error) -> Response {
    tracing::error!("origins: {err:#}");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal error; see the server log",
    )
        .into_response()
}
