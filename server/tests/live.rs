//! The live channel (`/ws/live`): a signed-in tab hears that an app changed
//! until its session is revoked, the auth gate refuses it as for any page,
//! and every subscriber shares one sampler.

mod support;

use futures_util::StreamExt;
use server::live::{Beats, Live, Probe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Long enough for a slow CI machine; only a hang reaches it.
const PATIENCE: Duration = Duration::from_secs(60);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Opens `/ws/live` at `base` (an `http://` URL) with these headers.
async fn open(base: &str, headers: &[(&str, &str)]) -> Result<Socket, tungstenite::Error> {
    let url = format!("{}/ws/live", base.replacen("http://", "ws://", 1));
    let mut request = url.into_client_request().unwrap();
    for (name, value) in headers {
        let name = tungstenite::http::HeaderName::from_bytes(name.as_bytes()).unwrap();
        request.headers_mut().insert(name, value.parse().unwrap());
    }
    Ok(tokio_tungstenite::connect_async(request).await?.0)
}

/// The next JSON message on `socket` for which `pick` answers.
async fn next<T>(socket: &mut Socket, mut pick: impl FnMut(&serde_json::Value) -> Option<T>) -> T {
    let read = async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Text(text))) => {
                    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
                    if let Some(found) = pick(&value) {
                        return found;
                    }
                }
                Some(Ok(_)) => {}
                other => panic!("the live socket ended: {other:?}"),
            }
        }
    };
    tokio::time::timeout(PATIENCE, read)
        .await
        .expect("no such message on the live socket")
}

fn status_of(result: Result<Socket, tungstenite::Error>) -> u16 {
    match result {
        Err(tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
        Ok(_) => 101,
    }
}

#[test]
fn a_signed_in_tab_hears_when_an_app_changes_until_signed_out_and_strangers_are_refused() {
    let home = tempfile::tempdir().unwrap();
    let app = home.path().join("api").join("demo");
    std::fs::create_dir_all(&app).unwrap();
    let script = r#"{"run":[{"method":"shell.run","params":{"message":"echo hi"}}]}"#;
    std::fs::write(app.join("start.json"), script).unwrap();
    let server = support::serve(home.path(), &[]);
    let viewer = server.session_as("viewer");
    let cookie = viewer.cookie.clone().unwrap();
    runtime().block_on(async {
        let anonymous = open(&server.url, &[("origin", &server.url)]).await;
        assert_eq!(status_of(anonymous), 401, "no session");
        let foreign = open(
            &server.url,
            &[("cookie", &cookie), ("origin", "https://evil.example")],
        )
        .await;
        assert_eq!(status_of(foreign), 403, "a cross-site page with the cookie");

        let mut socket = open(&server.url, &[("cookie", &cookie), ("origin", &server.url)])
            .await
            .expect("a viewer may listen");
        let started = reqwest::Client::new()
            .post(format!("{}/api/op/apps/demo/start", server.url))
            .bearer_auth(&server.token)
            .header("content-type", "application/json")
            .body(r#"{"script":"start.json"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(started.status(), 200);
        next(&mut socket, |m| {
            (m["kind"] == "app" && m["app"] == "demo").then_some(())
        })
        .await;
        next(&mut socket, |m| (m["kind"] == "runs").then_some(())).await;

        revoke_share_links(&server).await;
        let ended = async {
            while let Some(Ok(message)) = socket.next().await {
                if matches!(message, Message::Close(_)) {
                    break;
                }
            }
        };
        tokio::time::timeout(PATIENCE, ended)
            .await
            .expect("a revoked session kept hearing");
    });
}

/// Revokes every share link, as the admin does on the Settings page.
async fn revoke_share_links(server: &support::Server) {
    let client = reqwest::Client::new();
    let call = |path: &str, form: String| {
        client
            .post(format!("{}{path}", server.url))
            .bearer_auth(&server.token)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
    };
    let links = call("/api/admin/share_links", String::new()).await.unwrap();
    let links: serde_json::Value = serde_json::from_str(&links.text().await.unwrap()).unwrap();
    for link in links.as_array().unwrap() {
        let revoked = call("/api/admin/revoke_share_link", format!("id={}", link["id"]))
            .await
            .unwrap();
        assert_eq!(revoked.status(), 200);
    }
}

/// A hub whose beats the test gives by hand, and a probe that counts.
fn counted_hub() -> (Live, tokio::sync::mpsc::UnboundedSender<()>, Arc<AtomicU64>) {
    let (beat, beats) = tokio::sync::mpsc::unbounded_channel::<()>();
    let beats: Beats = Box::pin(futures_util::stream::unfold(beats, |mut rx| async move {
        rx.recv().await.map(|()| ((), rx))
    }));
    let calls = Arc::new(AtomicU64::new(0));
    let counter = calls.clone();
    let probe: Probe = Arc::new(move || {
        counter.fetch_add(1, Ordering::SeqCst);
        Box::pin(async {
            vec![app::live::LiveEvent::System(app::live::SystemTick {
                seq: 0,
                now: 0,
                load: None,
                gpus: vec![],
                tunnel: None,
            })]
        })
    });
    let (_, events) = tokio::sync::broadcast::channel(1);
    (Live::start(events, beats, probe), beat, calls)
}

/// Yields until `done` holds (no deadline: the test's own timeout is the limit).
async fn until(mut done: impl FnMut() -> bool) {
    while !done() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn many_subscribers_share_one_sampler_and_none_means_no_sampling() {
    let (live, beat, calls) = counted_hub();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = server::live::router(live.clone(), None);
    tokio::spawn(async move { axum::serve(listener, router).await });

    let mut sockets = Vec::new();
    for _ in 0..5 {
        sockets.push(open(&base, &[]).await.unwrap());
    }
    tokio::time::timeout(PATIENCE, until(|| live.subscribers() == 5))
        .await
        .unwrap();
    for _ in 0..3 {
        beat.send(()).unwrap();
    }
    for socket in &mut sockets {
        let mut seqs = Vec::new();
        for _ in 0..3 {
            seqs.push(
                next(socket, |m| {
                    (m["kind"] == "system").then(|| m["seq"].as_u64().unwrap())
                })
                .await,
            );
        }
        assert_eq!(seqs, [1, 2, 3], "every subscriber sees the same samples");
    }
    assert_eq!(
        calls.load(Ordering::SeqCst),
        3,
        "one sample per beat, not per subscriber"
    );

    drop(sockets);
    tokio::time::timeout(PATIENCE, until(|| live.subscribers() == 0))
        .await
        .unwrap();
    beat.send(()).unwrap();
    tokio::time::timeout(PATIENCE, until(|| live.beats() == 4))
        .await
        .unwrap();
    assert_eq!(
        calls.load(Ordering::SeqCst),
        3,
        "nobody listens: nothing is sampled"
    );
    assert_eq!(live.samples(), 3);
}
