//! `/ws/run/<id>`: a run's terminal over a WebSocket. The socket first gets the
//! scrollback (so a reconnecting tab or a second device sees the history),
//! then live output. Text frames from the browser carry keystrokes
//! (`{"type":"input","data":"…"}`, operators only) and size changes
//! (`{"type":"resize","cols":…,"rows":…}`).

use crate::apps::Apps;
use app::auth::{Role, Viewer};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;

pub const ROUTE: &str = "/ws/run/{id}";

pub fn router(apps: Apps) -> Router {
    Router::new().route(ROUTE, get(upgrade)).with_state(apps)
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientMessage {
    Input { data: String },
    Resize { cols: u16, rows: u16 },
}

async fn upgrade(
    ws: WebSocketUpgrade,
    Path(id): Path<i64>,
    State(apps): State<Apps>,
    viewer: Option<Extension<Viewer>>,
) -> Response {
    let writable = viewer.is_some_and(|v| v.role.allows(Role::Operator));
    match apps.attach(id) {
        Ok((scrollback, live)) => {
            ws.on_upgrade(move |socket| pump(socket, apps, id, scrollback, live, writable))
        }
        Err(e) => (
            StatusCode::NOT_FOUND,
            format!("run {id} has no live terminal: {e}"),
        )
            .into_response(),
    }
}

async fn pump(
    socket: WebSocket,
    apps: Apps,
    id: i64,
    scrollback: Vec<u8>,
    mut live: tokio::sync::broadcast::Receiver<bytes::Bytes>,
    writable: bool,
) {
    let (mut tx, mut rx) = socket.split();
    if tx.send(Message::Binary(scrollback.into())).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            chunk = live.recv() => match chunk {
                Ok(bytes) => if tx.send(Message::Binary(bytes)).await.is_err() { return },
                // A slow viewer skips ahead instead of slowing the run down.
                Err(RecvError::Lagged(n)) => {
                    let note = format!("\r\n\x1b[33m[{n} chunks of output skipped]\x1b[0m\r\n");
                    if tx.send(Message::Text(note.into())).await.is_err() { return }
                }
                Err(RecvError::Closed) => {
                    let _ = tx.send(Message::Text("\r\n\x1b[2m[process ended]\x1b[0m\r\n".into())).await;
                    return;
                }
            },
            message = rx.next() => match message {
                Some(Ok(Message::Text(text))) => handle(&apps, id, &text, writable),
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}

fn handle(apps: &Apps, id: i64, text: &str, writable: bool) {
    match serde_json::from_str::<ClientMessage>(text) {
        Ok(ClientMessage::Input { data }) if writable => {
            let _ = apps.send_input(id, data.as_bytes());
        }
        Ok(ClientMessage::Resize { cols, rows }) if writable => {
            let _ = apps.resize(id, cols, rows);
        }
        _ => {}
    }
}
