//! The JSON API over the supervisor (served in-process, without the auth
//! gate, which `auth.rs` covers for every route).

mod apps_common;

use apps_common::*;
use serde_json::{json, Value};

struct Api {
    base: String,
    client: reqwest::Client,
}

impl Api {
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}{path}", self.base);
        let req = match method {
            "GET" => self.client.get(url),
            _ => self
                .client
                .post(url)
                .header("content-type", "application/json")
                .body(body.unwrap_or(json!({})).to_string()),
        };
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
}

async fn serve_api(f: &Fixture) -> Api {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = server::apps::http::router(f.apps.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    Api {
        base,
        client: reqwest::Client::new(),
    }
}

#[tokio::test]
async fn start_answer_and_read_back_through_the_api() {
    let f = Fixture::new().await;
    f.put_app(
        "asker",
        &[(
            "start.json",
            r#"{"run": [
              {"method": "input", "params": {"form": [{"key": "name", "required": true}]}},
              {"method": "shell.run", "params": {"message": "echo api-got-{{input.name}}"}}]}"#,
        )],
    );
    let api = serve_api(&f).await;
    let mut events = f.apps.events();

    let (status, body) = api.call("POST", "/api/op/apps/asker/start", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["script"], "start.json");
    let run = body["run_id"].as_i64().unwrap();
    let form = next_event(&mut events, "form", |e| match e {
        server::apps::AppEvent::Form { form } => Some(form.clone()),
        _ => None,
    })
    .await;
    let (_, pending) = api
        .call("GET", "/api/view/apps/pending?app=asker", None)
        .await;
    assert_eq!(pending[0]["id"], form.id.as_str());
    assert_eq!(pending[0]["kind"], "input");

    let answer = format!("/api/op/apps/forms/{}/answer", form.id);
    let (status, body) = api.call("POST", &answer, Some(json!({"value": {}}))).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("name is required"),
        "{body}"
    );
    let (status, _) = api
        .call("POST", &answer, Some(json!({"value": {"name": "bob"}})))
        .await;
    assert_eq!(status, 200);
    f.apps.wait(run).await.unwrap();

    let (_, rec) = api
        .call("GET", &format!("/api/view/apps/runs/{run}"), None)
        .await;
    assert_eq!(rec["outcome"], "ok", "{rec}");
    let (_, log) = api
        .call("GET", &format!("/api/view/apps/runs/{run}/log"), None)
        .await;
    assert!(log.as_str().unwrap().contains("api-got-bob"), "{log}");
    let (_, runs) = api.call("GET", "/api/view/apps/asker/runs", None).await;
    assert_eq!(runs.as_array().unwrap().len(), 1);

    let (status, body) = api.call("POST", "/api/op/apps/nope/start", None).await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = api
        .call(
            "POST",
            "/api/admin/apps/asker/environment",
            Some(json!({"key": "A", "value": "1"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, env) = api
        .call("GET", "/api/admin/apps/asker/environment", None)
        .await;
    // The app's first run generated its ENVIRONMENT (Pinokio's app
    // defaults); the new key is added to it.
    let env = env.as_array().unwrap();
    assert!(env.contains(&json!({"key": "A", "value": "1"})), "{env:?}");
    assert!(
        env.contains(&json!({"key": "HF_HOME", "value": "./cache/HF_HOME"})),
        "{env:?}"
    );
}

#[tokio::test]
async fn terminal_input_and_stop_through_the_api() {
    let f = Fixture::new().await;
    f.put_app(
        "term",
        &[(
            "start.json",
            &shell_script(&["read -p 'Word? ' w; echo \"said $w\"; sleep 600"]),
        )],
    );
    let api = serve_api(&f).await;
    let (_, body) = api
        .call(
            "POST",
            "/api/op/apps/term/start",
            Some(json!({"script": "start.json"})),
        )
        .await;
    let run = body["run_id"].as_i64().unwrap();
    wait_output(&f.apps, run, "Word? ").await;
    let (status, _) = api
        .call(
            "POST",
            &format!("/api/op/apps/runs/{run}/resize"),
            Some(json!({"cols": 80, "rows": 24})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = api
        .call(
            "POST",
            &format!("/api/op/apps/runs/{run}/input"),
            Some(json!({"data": "hi\r"})),
        )
        .await;
    assert_eq!(status, 200);
    wait_output(&f.apps, run, "said hi").await;
    let (_, running) = api.call("GET", "/api/view/apps/running", None).await;
    assert_eq!(running[0]["run_id"], run);
    let (status, _) = api.call("POST", "/api/op/apps/term/stop", None).await;
    assert_eq!(status, 200);
    let (_, rec) = api
        .call("GET", &format!("/api/view/apps/runs/{run}"), None)
        .await;
    assert_eq!(rec["reason"], "stopped", "{rec}");
    let (status, body) = api
        .call(
            "POST",
            &format!("/api/op/apps/runs/{run}/input"),
            Some(json!({"data": "x"})),
        )
        .await;
    assert_eq!(status, 409, "{body}");
}
