//! What the browser sees when the proxy cannot reach an app: a short HTML
//! page that tells the user what to do, never a bare connection reset.

use super::targets::TargetError;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// Why a proxied request failed, each with the status it maps to.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// A malformed app name or path (`..`): 400.
    #[error("bad proxy path: {0}")]
    BadPath(String),
    /// No target registered under that name: 404.
    #[error("{app} is not running; start it from the dashboard")]
    NotRunning { app: String },
    /// Registered, but nothing answered (refused, reset, closed early): 502.
    #[error(
        "{app} is not running; start it from the dashboard (could not reach {target}: {reason})"
    )]
    Unreachable {
        app: String,
        target: String,
        reason: String,
    },
    /// The request could not be turned into an upstream request: 400.
    #[error("cannot forward this request to {app}: {reason}")]
    BadRequest { app: String, reason: String },
}

impl From<TargetError> for ProxyError {
    fn from(err: TargetError) -> Self {
        Self::BadPath(err.to_string())
    }
}

impl ProxyError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadPath(_) | Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::NotRunning { .. } => StatusCode::NOT_FOUND,
            Self::Unreachable { .. } => StatusCode::BAD_GATEWAY,
        }
    }
}

impl IntoResponse for ProxyError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = escape_html(&self.to_string());
        let body = format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>{code}</title></head>\
             <body><h1>{code}</h1><p>{message}</p><p><a href=\"/\">Back to the dashboard</a></p>\
             </body></html>\n",
            code = status,
        );
        (
            status,
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            body,
        )
            .into_response()
    }
}

/// App names are checked, but paths and OS error texts are not: escape all.
fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_messages() {
        let e = ProxyError::NotRunning { app: "sd".into() };
        assert_eq!(e.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            e.to_string(),
            "sd is not running; start it from the dashboard"
        );
        let e = ProxyError::Unreachable {
            app: "sd".into(),
            target: "127.0.0.1:1".into(),
            reason: "refused".into(),
        };
        assert_eq!(e.status(), StatusCode::BAD_GATEWAY);
        assert!(e.to_string().starts_with("sd is not running"));
        assert_eq!(
            ProxyError::BadPath("x".into()).status(),
            StatusCode::BAD_REQUEST
        );
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape_html("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
    }
}
