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
    match apps.attach(id).and_then(|a| Ok((a, apps.ended(id)?))) {
        Ok(((scrollback, live), ended)) => ws.on_upgrade(move |socket| {
            pump(
                socket,
                apps,
                id,
                Feed {
                    scrollback,
                    live,
                    ended,
                },
                writable,
            )
        }),
        Err(e) => (
            StatusCode::NOT_FOUND,
            format!("run {id} has no live terminal: {e}"),
        )
            .into_response(),
    }
}

/// What a terminal shows: the scrollback, then live output until the run ends.
struct Feed {
    scrollback: Vec<u8>,
    live: tokio::sync::broadcast::Receiver<bytes::Bytes>,
    ended: tokio::sync::watch::Receiver<Option<crate::apps::RunRecord>>,
}

const ENDED: &str = "\r\n\x1b[2m[process ended]\x1b[0m\r\n";

async fn pump(socket: WebSocket, apps: Apps, id: i64, feed: Feed, writable: bool) {
    let Feed {
        scrollback,
        mut live,
        mut ended,
    } = feed;
    let (mut tx, mut rx) = socket.split();
    if tx.send(Message::Binary(scrollback.into())).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            // The run keeps its output channel open while late viewers may
            // still attach, so its end is its own signal.
            () = async { let _ = ended.wait_for(Option::is_some).await; } => {
                while let Ok(bytes) = live.try_recv() {
                    if tx.send(Message::Binary(bytes)).await.is_err() { return }
                }
                let _ = tx.send(Message::Text(ENDED.into())).await;
                let _ = tx.close().await;
                return;
            },
            chunk = live.recv() => match chunk {
                Ok(bytes) => if tx.send(Message::Binary(bytes)).await.is_err() { return },
                // A slow viewer skips ahead instead of slowing the run down.
                Err(RecvError::Lagged(n)) => {
                    let note = format!("\r\n\x1b[33m[{n} chunks of output skipped]\x1b[0m\r\n");
                    if tx.send(Message::Text(note.into())).await.is_err() { return }
                }
                Err(RecvError::Closed) => {
                    let _ = tx.send(Message::Text(ENDED.into())).await;
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
