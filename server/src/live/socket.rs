//! `/ws/live`: the hub's messages to one browser tab over a WebSocket. The
//! tab only listens; a socket that falls behind is told to resync rather
//! than being sent what it missed. The socket outlives the request the gate
//! checked, so its session is checked again as it goes: signing out or a
//! revoked share link ends it.

use super::Live;
use crate::auth::{Auth, Session};
use app::live::LiveEvent;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Router};
use std::time::{Duration, Instant};
use tokio::sync::broadcast::{self, error::RecvError};

pub const ROUTE: &str = app::live::PATH;

/// A signed-out or revoked session stops hearing within about this long.
const RECHECK: Duration = Duration::from_secs(5);

/// `auth` checks cookie sessions again while a socket lasts (`None`:
/// nothing to check, as in a router without the gate).
pub fn router(live: Live, auth: Option<Auth>) -> Router {
    Router::new()
        .route(ROUTE, get(upgrade))
        .with_state((live, auth))
}

async fn upgrade(
    ws: WebSocketUpgrade,
    State((live, auth)): State<(Live, Option<Auth>)>,
    session: Option<Extension<Session>>,
) -> Response {
    let messages = live.subscribe();
    // Bearer tokens (scripts) carry no session id to look up again.
    let session = session.map(|s| s.0.id_hash).filter(|id| !id.is_empty());
    let signed = Signed {
        check: auth.zip(session),
        at: Instant::now(),
    };
    ws.on_upgrade(move |socket| pump(socket, messages, signed))
}

/// The session a socket was opened with, and when it was last found valid.
struct Signed {
    check: Option<(Auth, String)>,
    at: Instant,
}

impl Signed {
    /// False once the session is gone (a database error is not proof).
    async fn still(&mut self) -> bool {
        let Some((auth, id_hash)) = &self.check else {
            return true;
        };
        if self.at.elapsed() < RECHECK {
            return true;
        }
        match auth.db.session(id_hash).await {
            Ok(None) => false,
            Ok(Some(_)) | Err(_) => {
                self.at = Instant::now();
                true
            }
        }
    }
}

async fn pump(
    mut socket: WebSocket,
    mut messages: broadcast::Receiver<Utf8Bytes>,
    mut signed: Signed,
) {
    loop {
        let text = tokio::select! {
            message = messages.recv() => match message {
                Ok(text) => text,
                Err(RecvError::Lagged(_)) => resync(),
                Err(RecvError::Closed) => return,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                Some(Ok(_)) => continue,
            },
        };
        if !signed.still().await {
            let _ = socket.send(Message::Close(None)).await;
            return;
        }
        if socket.send(Message::Text(text)).await.is_err() {
            return;
        }
    }
}

fn resync() -> Utf8Bytes {
    serde_json::to_string(&LiveEvent::Resync)
        .unwrap_or_default()
        .into()
}
