//! A real `pinokiocloud serve` with the origin fixture app (a Python server
//! that assumes it owns `/`) installed and started, and an HTTP client that
//! resolves `*.localhost` to loopback like browsers do.
#![allow(dead_code)]

use crate::support::{serve_with_env, Server};
use reqwest::header::HeaderMap;
use serde_json::Value;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

pub const APP: &str = "originapp";

const START: &str = r#"{"daemon": true, "run": [
  {"method": "shell.run", "params": {"message": "python3 app.py", "on": [{"event": "/http:\\/\\/[0-9.:]+/", "done": true}]}},
  {"method": "local.set", "params": {"url": "{{input.event[0]}}"}}
]}"#;

pub struct Setup {
    pub server: Server,
    pub port: u16,
    pub home: tempfile::TempDir,
}

/// Serves a fresh home (with `extra` flags) and starts the fixture app.
pub async fn start(extra: &[&str]) -> Setup {
    start_with_env(extra, &[]).await
}

/// [`start`] with extra environment variables for the server.
pub async fn start_with_env(extra: &[&str], envs: &[(&str, String)]) -> Setup {
    let home = tempfile::tempdir().unwrap();
    put_fixture(home.path());
    let server = serve_with_env(home.path(), extra, envs);
    let port: u16 = server.url.rsplit(':').next().unwrap().parse().unwrap();
    let setup = Setup { server, port, home };
    let (status, body) = setup
        .admin("POST", &format!("/api/op/apps/{APP}/start"), Some("{}"))
        .await;
    assert_eq!(status, 200, "start: {body}");
    for _ in 0..300 {
        let (_, body) = setup.admin("GET", "/api/view/origins", None).await;
        let list: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        if list.as_array().is_some_and(|a| !a.is_empty()) {
            return setup;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the fixture app never reported its URL");
}

pub fn put_fixture(home: &Path) {
    let dir = home.join("api").join(APP);
    std::fs::create_dir_all(&dir).unwrap();
    let app_py = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/origin_app/app.py");
    std::fs::copy(&app_py, dir.join("app.py")).unwrap();
    std::fs::write(dir.join("start.json"), START).unwrap();
}

/// A client that sends `*.localhost` to 127.0.0.1 and follows no redirects.
pub fn client(port: u16) -> reqwest::Client {
    let lo = SocketAddr::from(([127, 0, 0, 1], port));
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .resolve(&format!("{APP}.localhost"), lo)
        .resolve("other.localhost", lo)
        .resolve("localhost", lo)
        .build()
        .unwrap()
}

pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_string)
            .collect()
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.body))
    }
}

/// One request with the given extra headers.
pub async fn send(
    client: &reqwest::Client,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Reply {
    let mut req = client.request(method.parse().unwrap(), url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(body) = body {
        req = req
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let resp = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.text().await.unwrap_or_default();
    Reply {
        status,
        headers,
        body,
    }
}

impl Setup {
    pub fn dashboard(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn app_origin(&self) -> String {
        format!("http://{APP}.localhost:{}", self.port)
    }

    /// As the admin, with the bearer token (as the CLI does).
    pub async fn admin(&self, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
        let bearer = format!("Bearer {}", self.server.token);
        let r = send(
            &client(self.port),
            method,
            &format!("{}{path}", self.dashboard()),
            &[("authorization", bearer.as_str())],
            body,
        )
        .await;
        (r.status, r.body)
    }

    /// A dashboard session cookie (`pc_session=…`) from the admin login link.
    pub async fn admin_cookie(&self) -> String {
        let r = send(
            &client(self.port),
            "GET",
            &format!("{}/?token={}", self.dashboard(), self.server.token),
            &[],
            None,
        )
        .await;
        assert_eq!(r.status, 303, "{}", r.body);
        first_pair(&r.cookies()[0])
    }

    /// `/open/<app>?format=json` as the admin: the handoff link and mode.
    pub async fn open_json(&self) -> Value {
        let (status, body) = self
            .admin("GET", &format!("/open/{APP}?format=json"), None)
            .await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    /// Follows a handoff link; returns the app origin's cookie (`name=value`).
    pub async fn handoff(&self, link: &str) -> String {
        let r = send(&client(self.port), "GET", link, &[], None).await;
        assert_eq!(r.status, 303, "handoff {link}: {}", r.body);
        assert_eq!(r.header("location"), Some("/"));
        let cookies = r.cookies();
        assert_eq!(cookies.len(), 1, "{cookies:?}");
        first_pair(&cookies[0])
    }
}

/// `a=b; Path=/…` → `a=b`.
pub fn first_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().trim().to_string()
}
