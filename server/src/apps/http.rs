//! A small JSON API over [`Apps`] (what the CLI uses). The path prefixes are
//! what the auth gate enforces: `/api/view/…` viewer, `/api/op/…` operator,
//! `/api/admin/…` admin. Errors are `{"error": message}` with 400/404/409/500.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{Apps, AppsError, RunId};

/// Every route of [`router`], as `(method, path)`, for route tables.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/view/apps"),
    ("GET", "/api/view/apps/running"),
    ("GET", "/api/view/apps/installs"),
    ("GET", "/api/view/apps/pending"),
    ("GET", "/api/view/apps/{app}/menu"),
    ("GET", "/api/view/apps/{app}/runs"),
    ("GET", "/api/view/apps/{app}/events"),
    ("GET", "/api/view/apps/{app}/icon"),
    ("GET", "/api/view/apps/runs/{id}"),
    ("GET", "/api/view/apps/runs/{id}/log"),
    ("POST", "/api/op/apps/{app}/start"),
    ("POST", "/api/op/apps/{app}/stop"),
    ("POST", "/api/op/apps/runs/{id}/stop"),
    ("POST", "/api/op/apps/runs/{id}/input"),
    ("POST", "/api/op/apps/runs/{id}/resize"),
    ("POST", "/api/op/apps/forms/{id}/answer"),
    ("POST", "/api/op/apps/forms/{id}/upload"),
    ("POST", "/api/admin/apps/install"),
    ("POST", "/api/admin/apps/{app}/uninstall"),
    ("POST", "/api/admin/apps/{app}/rename"),
    ("POST", "/api/admin/apps/{app}/autostart"),
    ("GET", "/api/admin/apps/{app}/environment"),
    ("POST", "/api/admin/apps/{app}/environment"),
];

pub fn router(apps: Apps) -> Router {
    Router::new()
        .route("/api/view/apps", get(list))
        .route("/api/view/apps/running", get(running))
        .route("/api/view/apps/installs", get(installs))
        .route("/api/view/apps/pending", get(pending))
        .route("/api/view/apps/{app}/menu", get(menu))
        .route("/api/view/apps/{app}/runs", get(history))
        .route("/api/view/apps/{app}/events", get(app_events))
        .route("/api/view/apps/{app}/icon", get(icon))
        .route("/api/view/apps/runs/{id}", get(run))
        .route("/api/view/apps/runs/{id}/log", get(log))
        .route("/api/op/apps/{app}/start", post(start))
        .route("/api/op/apps/{app}/stop", post(stop_app))
        .route("/api/op/apps/runs/{id}/stop", post(stop))
        .route("/api/op/apps/runs/{id}/input", post(input))
        .route("/api/op/apps/runs/{id}/resize", post(resize))
        .route("/api/op/apps/forms/{id}/answer", post(answer))
        // Uploads stream to disk under their own, per-field size limit.
        .route(
            "/api/op/apps/forms/{id}/upload",
            post(upload).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/api/admin/apps/install", post(install))
        .route("/api/admin/apps/{app}/uninstall", post(uninstall))
        .route("/api/admin/apps/{app}/rename", post(rename))
        .route("/api/admin/apps/{app}/autostart", post(autostart))
        .route(
            "/api/admin/apps/{app}/environment",
            get(environment).post(set_environment),
        )
        .with_state(apps)
}

struct ApiError(AppsError);

impl From<AppsError> for ApiError {
    fn from(e: AppsError) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self.0 {
            e if e.is_not_found() => StatusCode::NOT_FOUND,
            AppsError::FolderTaken { .. }
            | AppsError::Busy { .. }
            | AppsError::AlreadyRunning { .. }
            | AppsError::RunEnded { .. } => StatusCode::CONFLICT,
            AppsError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            e if e.is_client_error() => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        (status, Json(json!({ "error": self.0.to_string() }))).into_response()
    }
}

type ApiResult<T> = Result<Json<T>, ApiError>;

async fn list(State(apps): State<Apps>) -> ApiResult<Value> {
    Ok(Json(json!(apps.list().await?)))
}

async fn running(State(apps): State<Apps>) -> Json<Value> {
    Json(json!(apps.running()))
}

async fn installs(State(apps): State<Apps>) -> Json<Value> {
    Json(json!(apps.installs()))
}

#[derive(Deserialize)]
struct AppFilter {
    app: Option<String>,
}

async fn pending(State(apps): State<Apps>, Query(q): Query<AppFilter>) -> Json<Value> {
    Json(json!(apps.pending(q.app.as_deref())))
}

async fn menu(State(apps): State<Apps>, Path(app): Path<String>) -> ApiResult<Value> {
    Ok(Json(json!(apps.menu(&app).await?)))
}

async fn history(State(apps): State<Apps>, Path(app): Path<String>) -> ApiResult<Value> {
    Ok(Json(json!(apps.history(&app).await?)))
}

async fn app_events(State(apps): State<Apps>, Path(app): Path<String>) -> ApiResult<Value> {
    Ok(Json(json!(apps.app_events(&app, 100).await?)))
}

async fn run(State(apps): State<Apps>, Path(id): Path<RunId>) -> ApiResult<Value> {
    Ok(Json(json!(apps.run_record(id).await?)))
}

#[derive(Deserialize, Default)]
struct LogQuery {
    /// Present (`?download=1`): sent as a file to save
    /// (`<app>-run-<id>.log`) instead of shown.
    download: Option<String>,
}

/// The whole log as it was written (escapes kept, for a terminal or a file).
async fn log(
    State(apps): State<Apps>,
    Path(id): Path<RunId>,
    Query(q): Query<LogQuery>,
) -> Result<Response, ApiError> {
    let text = apps.log(id).await?;
    let mut response = text.into_response();
    if q.download.is_some() {
        let app = apps.run_record(id).await?.app;
        let disposition = format!("attachment; filename=\"{app}-run-{id}.log\"");
        if let Ok(v) = axum::http::HeaderValue::from_str(&disposition) {
            response
                .headers_mut()
                .insert(axum::http::header::CONTENT_DISPOSITION, v);
        }
    }
    Ok(response)
}

/// The app's icon, only when it is an image file inside the app's folder.
/// SVGs are served under a CSP that forbids scripts: one opened directly
/// is then as inert as one shown in an `<img>`.
async fn icon(State(apps): State<Apps>, Path(app): Path<String>) -> Result<Response, ApiError> {
    use axum::http::header;
    let (path, mime) = apps.icon(&app).await?;
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(AppsError::io(format!("reading {}", path.display())))?;
    Ok((
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, "private, max-age=300"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; sandbox",
            ),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Deserialize)]
struct UploadQuery {
    field: String,
    name: String,
}

/// The request body is the file itself; answers `{"path": saved path}`.
async fn upload(
    State(apps): State<Apps>,
    Path(id): Path<String>,
    Query(q): Query<UploadQuery>,
    body: axum::body::Body,
) -> ApiResult<Value> {
    let path = apps
        .save_upload(&id, &q.field, &q.name, body.into_data_stream())
        .await?;
    Ok(Json(json!({ "path": path })))
}

#[derive(Deserialize, Default)]
struct StartBody {
    script: Option<String>,
    #[serde(default)]
    args: Value,
}

async fn start(
    State(apps): State<Apps>,
    Path(app): Path<String>,
    body: Option<Json<StartBody>>,
) -> ApiResult<Value> {
    let body = body.map(|b| b.0).unwrap_or_default();
    let script = match body.script {
        Some(s) => s,
        None => apps.default_script(&app).await?,
    };
    let run_id = apps.start(&app, &script, body.args).await?;
    Ok(Json(json!({ "run_id": run_id, "script": script })))
}

async fn stop_app(State(apps): State<Apps>, Path(app): Path<String>) -> ApiResult<Value> {
    apps.shared().existing_app(&app)?;
    Ok(Json(json!({ "stopped": apps.stop_app(&app).await? })))
}

async fn stop(State(apps): State<Apps>, Path(id): Path<RunId>) -> ApiResult<Value> {
    apps.stop(id).await?;
    Ok(Json(json!({ "stopped": [id] })))
}

#[derive(Deserialize)]
struct InputBody {
    data: String,
}

async fn input(
    State(apps): State<Apps>,
    Path(id): Path<RunId>,
    Json(b): Json<InputBody>,
) -> ApiResult<Value> {
    apps.send_input(id, b.data.as_bytes())?;
    Ok(Json(json!({ "ok": true })))
}

#[derive(Deserialize)]
struct ResizeBody {
    cols: u16,
    rows: u16,
}

async fn resize(
    State(apps): State<Apps>,
    Path(id): Path<RunId>,
    Json(b): Json<ResizeBody>,
) -> ApiResult<Value> {
    apps.resize(id, b.cols, b.rows)?;
    Ok(Json(json!({ "ok": true })))
}

#[derive(Deserialize)]
struct AnswerBody {
    value: Value,
}

async fn answer(
    State(apps): State<Apps>,
    Path(id): Path<String>,
    Json(b): Json<AnswerBody>,
) -> ApiResult<Value> {
    apps.answer(&id, b.value)?;
    Ok(Json(json!({ "ok": true })))
}

#[derive(Deserialize)]
struct InstallBody {
    /// A git URL, a local folder, or a catalog id.
    source: String,
    folder: Option<String>,
}

async fn install(State(apps): State<Apps>, Json(b): Json<InstallBody>) -> ApiResult<Value> {
    let source = resolve_source(&b.source);
    Ok(Json(json!(
        apps.install(&source, b.folder.as_deref()).await?
    )))
}

/// A catalog id becomes its repository URL; anything else is a source as is.
pub fn resolve_source(source: &str) -> String {
    let looks_like_id = !source.contains('/') && !source.contains(':');
    match app::catalog::find(source).filter(|_| looks_like_id) {
        Some(entry) => entry.repo_url.clone(),
        None => source.to_string(),
    }
}

async fn uninstall(State(apps): State<Apps>, Path(app): Path<String>) -> ApiResult<Value> {
    apps.uninstall(&app).await?;
    Ok(Json(json!({ "ok": true })))
}

#[derive(Deserialize)]
struct RenameBody {
    to: String,
}

async fn rename(
    State(apps): State<Apps>,
    Path(app): Path<String>,
    Json(b): Json<RenameBody>,
) -> ApiResult<Value> {
    apps.rename(&app, &b.to).await?;
    Ok(Json(json!({ "ok": true })))
}

#[derive(Deserialize)]
struct AutostartBody {
    on: bool,
}

async fn autostart(
    State(apps): State<Apps>,
    Path(app): Path<String>,
    Json(b): Json<AutostartBody>,
) -> ApiResult<Value> {
    apps.set_autostart(&app, b.on).await?;
    Ok(Json(json!({ "ok": true })))
}

async fn environment(State(apps): State<Apps>, Path(app): Path<String>) -> ApiResult<Value> {
    Ok(Json(json!(apps.environment(&app)?)))
}

#[derive(Deserialize)]
struct EnvBody {
    key: String,
    value: String,
}

async fn set_environment(
    State(apps): State<Apps>,
    Path(app): Path<String>,
    Json(b): Json<EnvBody>,
) -> ApiResult<Value> {
    apps.set_environment(&app, &b.key, &b.value)?;
    Ok(Json(json!({ "ok": true })))
}
