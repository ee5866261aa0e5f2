//! Protocol upgrades (WebSocket): Gradio's queue, ComfyUI's progress feed
//! and Jupyter kernels all need one. The proxy does not speak WebSocket; it
//! passes the handshake through, and once both sides have switched it
//! copies raw bytes both ways until either side closes.

use super::error::ProxyError;
use super::forward::unreachable_error;
use super::targets::Target;
use axum::extract::Request;
use axum::http::uri::Uri;
use axum::http::StatusCode;
use axum::response::Response;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// Sends the upgrade request on a fresh, dedicated connection (an upgraded
/// connection can never go back to a pool) and, when the app answers
/// `101 Switching Protocols`, splices the two upgraded streams together.
pub async fn tunnel(
    app: &str,
    target: &Target,
    mut req: Request,
    on_client: OnUpgrade,
) -> Result<Response<hyper::body::Incoming>, ProxyError> {
    let unreachable = |e: &dyn std::error::Error| unreachable_error(app, target, e);
    // `host()` keeps IPv6 brackets, so `[::1]:port` parses as an address.
    let addr = format!("{}:{}", target.authority.host(), target.port());
    let stream = TcpStream::connect(&addr)
        .await
        .map_err(|e| unreachable(&e))?;
    let _ = stream.set_nodelay(true);
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| unreachable(&e))?;
    tokio::spawn(async move {
        if let Err(err) = conn.with_upgrades().await {
            tracing::debug!(error = %err, "upgrade connection to app ended");
        }
    });
    *req.uri_mut() = origin_form(req.uri());
    let mut response = sender
        .send_request(req)
        .await
        .map_err(|e| unreachable(&e))?;
    if response.status() == StatusCode::SWITCHING_PROTOCOLS {
        let on_app = hyper::upgrade::on(&mut response);
        tokio::spawn(splice(app.to_string(), on_client, on_app));
    }
    Ok(response)
}

/// The request line of a direct connection carries only path and query.
fn origin_form(uri: &Uri) -> Uri {
    uri.path_and_query()
        .map_or_else(|| Uri::from_static("/"), |pq| Uri::from(pq.clone()))
}

/// Waits for both sides to finish switching, then copies until one closes.
async fn splice(app: String, on_client: OnUpgrade, on_app: OnUpgrade) {
    let (client, upstream) = match tokio::try_join!(on_client, on_app) {
        Ok(pair) => pair,
        Err(err) => {
            tracing::debug!(app, error = %err, "upgrade did not complete");
            return;
        }
    };
    let mut client = TokioIo::new(client);
    let mut upstream = TokioIo::new(upstream);
    match tokio::io::copy_bidirectional(&mut client, &mut upstream).await {
        Ok((up, down)) => tracing::debug!(app, up, down, "tunnel closed"),
        Err(err) => tracing::debug!(app, error = %err, "tunnel ended with an error"),
    }
}
