//! WebSocket tunnelling through the proxy: a real axum WebSocket app behind
//! it, a real tungstenite client in front.

use server::proxy;
#[allow(dead_code)]
mod proxy_support;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use futures_util::{SinkExt, StreamExt};
use proxy::ProxyTargets;
use proxy_support::{dead_port, no_hang, serve};
use std::sync::Arc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message as WsMessage};

/// Greets first (app → client without a prompt), then echoes text and
/// binary frames until the client closes.
async fn ws_echo(ws: WebSocketUpgrade) -> Response {
    ws.protocols(["chat"]).on_upgrade(echo_loop)
}

async fn echo_loop(mut socket: WebSocket) {
    if socket.send(Message::Text("hello".into())).await.is_err() {
        return;
    }
    while let Some(Ok(msg)) = socket.recv().await {
        let reply = match msg {
            Message::Text(t) => Message::Text(format!("echo:{}", t.as_str()).into()),
            Message::Binary(b) => Message::Binary(b),
            Message::Close(_) => return,
            _ => continue,
        };
        if socket.send(reply).await.is_err() {
            return;
        }
    }
}

async fn setup() -> (std::net::SocketAddr, Arc<ProxyTargets>) {
    let backend = serve(Router::new().route("/ws", get(ws_echo))).await;
    let targets = Arc::new(ProxyTargets::new());
    targets.set("chat", &format!("http://{backend}/")).unwrap();
    let front = serve(proxy::router(targets.clone())).await;
    (front, targets)
}

#[tokio::test]
async fn websocket_echo_through_the_proxy() {
    let (front, _targets) = setup().await;
    let mut req = format!("ws://{front}/p/chat/ws?session=1")
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("sec-websocket-protocol", "chat".parse().unwrap());
    let (mut ws, resp) = no_hang("ws handshake", tokio_tungstenite::connect_async(req))
        .await
        .unwrap();
    assert_eq!(resp.status(), 101);
    assert_eq!(resp.headers()["sec-websocket-protocol"], "chat");

    let greeting = no_hang("greeting", ws.next()).await.unwrap().unwrap();
    assert_eq!(greeting, WsMessage::Text("hello".into()));

    ws.send(WsMessage::Text("ping 1".into())).await.unwrap();
    let reply = no_hang("text echo", ws.next()).await.unwrap().unwrap();
    assert_eq!(reply, WsMessage::Text("echo:ping 1".into()));

    let big: Vec<u8> = (0..300_000).map(|i| (i % 256) as u8).collect();
    ws.send(WsMessage::Binary(big.clone().into()))
        .await
        .unwrap();
    let reply = no_hang("binary echo", ws.next()).await.unwrap().unwrap();
    assert_eq!(reply, WsMessage::Binary(big.into()));

    ws.close(None).await.unwrap();
}

#[tokio::test]
async fn websocket_to_a_stopped_app_is_a_502() {
    let (front, targets) = setup().await;
    let port = dead_port().await;
    targets
        .set("down", &format!("http://127.0.0.1:{port}/"))
        .unwrap();
    let err = tokio_tungstenite::connect_async(format!("ws://{front}/p/down/ws"))
        .await
        .unwrap_err();
    match err {
        tungstenite::Error::Http(resp) => {
            assert_eq!(resp.status(), 502);
            let body = String::from_utf8_lossy(resp.body().as_deref().unwrap_or_default());
            assert!(body.contains("down is not running"), "{body}");
        }
        other => panic!("expected an HTTP 502, got {other:?}"),
    }
}

#[tokio::test]
async fn websocket_to_an_unknown_app_is_a_404() {
    let (front, _targets) = setup().await;
    let err = tokio_tungstenite::connect_async(format!("ws://{front}/p/nobody/ws"))
        .await
        .unwrap_err();
    match err {
        tungstenite::Error::Http(resp) => assert_eq!(resp.status(), 404),
        other => panic!("expected an HTTP 404, got {other:?}"),
    }
}

/// Sends one text frame through the proxy to the app registered as `app`
/// and returns the greeting and the echo.
async fn round_trip(front: std::net::SocketAddr, app: &str) -> (WsMessage, WsMessage) {
    let url = format!("ws://{front}/p/{app}/ws");
    let (mut ws, _) = no_hang("ws handshake", tokio_tungstenite::connect_async(url))
        .await
        .unwrap();
    let greeting = no_hang("greeting", ws.next()).await.unwrap().unwrap();
    ws.send(WsMessage::Text("x".into())).await.unwrap();
    let echo = no_hang("echo", ws.next()).await.unwrap().unwrap();
    (greeting, echo)
}

#[tokio::test]
async fn websocket_to_targets_named_localhost_or_ipv6_loopback() {
    let (front, targets) = setup().await;
    let backend = serve(Router::new().route("/ws", get(ws_echo))).await;
    let url = format!("http://localhost:{}/", backend.port());
    targets.set("byname", &url).unwrap();
    let (greeting, echo) = round_trip(front, "byname").await;
    assert_eq!(greeting, WsMessage::Text("hello".into()));
    assert_eq!(echo, WsMessage::Text("echo:x".into()));

    // Not every host has IPv6 loopback; where it has, it must work too.
    let Ok(listener) = tokio::net::TcpListener::bind("[::1]:0").await else {
        eprintln!("no IPv6 loopback here: [::1] part skipped");
        return;
    };
    let v6 = listener.local_addr().unwrap();
    let router = Router::new().route("/ws", get(ws_echo));
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    targets.set("v6", &format!("http://{v6}/")).unwrap();
    let (_, echo) = round_trip(front, "v6").await;
    assert_eq!(echo, WsMessage::Text("echo:x".into()));
}
