//! `/ws/run/{id}` served in-process (the auth gate is covered by `auth.rs`):
//! a viewer gets the scrollback, the live output, and a closing line when
//! the run ends, also when it connects after the end.

mod apps_common;

use apps_common::*;
use futures_util::StreamExt;
use serde_json::Value;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

async fn serve_terminals(f: &Fixture) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("ws://{}", listener.local_addr().unwrap());
    let router = server::terminal::router(f.apps.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    base
}

/// Everything the socket says until it closes (or PATIENCE runs out).
async fn read_to_close(url: &str) -> String {
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let mut seen = String::new();
    let read = async {
        while let Some(Ok(m)) = ws.next().await {
            match m {
                Message::Binary(b) => seen.push_str(&String::from_utf8_lossy(&b)),
                Message::Text(t) => seen.push_str(t.as_str()),
                Message::Close(_) => break,
                _ => {}
            }
        }
    };
    tokio::time::timeout(PATIENCE, read)
        .await
        .unwrap_or_else(|_| panic!("the terminal never closed; it said:\n{seen}"));
    seen
}

#[tokio::test]
async fn a_terminal_closes_with_its_run_also_for_late_viewers() {
    let f = Fixture::new().await;
    f.put_app(
        "t",
        &[(
            "start.json",
            &shell_script(&["sleep 0.5", "echo first-$((1+1))", "echo last-line"]),
        )],
    );
    let base = serve_terminals(&f).await;
    let run = f.apps.start("t", "start.json", Value::Null).await.unwrap();
    let url = format!("{base}/ws/run/{run}");
    let live = read_to_close(&url).await;
    assert!(
        live.contains("first-2") && live.contains("last-line"),
        "{live}"
    );
    assert!(
        live.trim_end().ends_with("[process ended]\x1b[0m"),
        "{live:?}"
    );

    f.apps.wait(run).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let late = read_to_close(&url).await;
    assert!(late.contains("last-line"), "scrollback replayed: {late}");
    assert!(late.contains("[process ended]"), "{late}");
}
