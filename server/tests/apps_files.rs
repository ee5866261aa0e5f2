//! Files through the apps API: an app's icon (images inside its folder
//! only), uploads for `type: "file"` questions (into the app's folder,
//! size-limited, no way out), and reading a run's log a page at a time.

mod apps_common;

use apps_common::*;
use serde_json::{json, Value};

async fn serve(f: &Fixture) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = server::apps::http::router(f.apps.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    base
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n-not-really-but-served-as-is";

fn launcher(icon: &str) -> String {
    format!(r#"{{"title": "Pic", "description": "has an icon", "icon": "{icon}", "menu": []}}"#)
}

#[tokio::test]
async fn the_icon_is_served_only_when_it_is_an_image_inside_the_app() {
    let f = Fixture::new().await;
    let dir = f.put_app("pic", &[("pinokio.json", &launcher("img/icon.png"))]);
    std::fs::create_dir_all(dir.join("img")).unwrap();
    std::fs::write(dir.join("img/icon.png"), PNG).unwrap();
    std::fs::write(f.path().join("api/secret.png"), b"outside").unwrap();
    for (name, icon) in [
        ("escape", "../secret.png"),
        ("env", "ENVIRONMENT"),
        ("gone", "missing.png"),
        ("remote", "https://example.com/x.png"),
    ] {
        let d = f.put_app(name, &[("pinokio.json", &launcher(icon))]);
        std::fs::write(d.join("ENVIRONMENT"), "HF_TOKEN=secret\n").unwrap();
    }
    let base = serve(&f).await;
    let client = reqwest::Client::new();

    let r = client
        .get(format!("{base}/api/view/apps/pic/icon"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.bytes().await.unwrap().as_ref(), PNG);

    for (app, want) in [
        ("escape", 400),
        ("env", 404),
        ("gone", 404),
        ("remote", 404),
        ("nope", 404),
        ("..%2Fescape", 400),
    ] {
        let r = client
            .get(format!("{base}/api/view/apps/{app}/icon"))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body = r.text().await.unwrap();
        assert_eq!(status, want, "{app}: {body}");
        assert!(
            !body.contains("outside") && !body.contains("secret\n"),
            "{app}: {body}"
        );
    }
}

/// An app whose start script asks for a file, then prints what it got.
fn upload_app(f: &Fixture, field: Value) {
    let script = json!({"run": [
        {"method": "input", "params": {"title": "Upload", "form": [field]}},
        {"method": "shell.run", "params": {"message": "echo got-{{input.photo}} && cat '{{input.photo}}'"}}
    ]});
    f.put_app("up", &[("start.json", &script.to_string())]);
}

async fn ask(f: &Fixture) -> (i64, String) {
    let mut events = f.apps.events();
    let run = f.apps.start("up", "start.json", Value::Null).await.unwrap();
    let form = next_event(&mut events, "form", |e| match e {
        server::apps::AppEvent::Form { form } => Some(form.clone()),
        _ => None,
    })
    .await;
    (run, form.id)
}

async fn upload(base: &str, form: &str, field: &str, name: &str, body: &[u8]) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{base}/api/op/apps/forms/{form}/upload"))
        .query(&[("field", field), ("name", name)])
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn an_upload_lands_in_the_app_folder_and_answers_with_its_path() {
    let f = Fixture::new().await;
    upload_app(
        &f,
        json!({"key": "photo", "type": "file", "title": "Photo", "path": "inputs", "max_size": 1000, "required": true}),
    );
    let base = serve(&f).await;
    let (run, form) = ask(&f).await;

    let (status, body) = upload(&base, &form, "photo", "big.bin", &[0u8; 1001]).await;
    assert_eq!(status, 413, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("1000 bytes"),
        "{body}"
    );
    let inputs = f.path().join("api/up/inputs");
    assert_eq!(
        std::fs::read_dir(&inputs).unwrap().count(),
        0,
        "a partial upload was left"
    );

    let (status, body) = upload(&base, &form, "other", "a.txt", b"x").await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = upload(&base, "9-9", "photo", "a.txt", b"x").await;
    assert_eq!(status, 404, "{body}");

    // A hostile name keeps only its last segment, inside the field's folder.
    let (status, body) = upload(&base, &form, "photo", "../../../etc/cat.txt", b"meow").await;
    assert_eq!(status, 200, "{body}");
    let saved = body["path"].as_str().unwrap().to_string();
    let want = inputs.canonicalize().unwrap().join("cat.txt");
    assert_eq!(std::path::Path::new(&saved), want);
    assert_eq!(std::fs::read(&want).unwrap(), b"meow");

    f.apps.answer(&form, json!({ "photo": saved })).unwrap();
    f.apps.wait(run).await.unwrap();
    let out = f.apps.log(run).await.unwrap();
    assert!(out.contains(&format!("got-{saved}")), "{out}");
    assert!(out.contains("meow"), "{out}");
}

#[tokio::test]
async fn an_upload_folder_that_leads_out_of_the_app_is_refused() {
    let f = Fixture::new().await;
    upload_app(
        &f,
        json!({"key": "photo", "type": "file", "path": "../../escape"}),
    );
    let base = serve(&f).await;
    let (run, form) = ask(&f).await;
    let (status, body) = upload(&base, &form, "photo", "x.txt", b"x").await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains(".."), "{body}");
    assert!(!f.path().join("escape").exists());
    f.apps.stop(run).await.unwrap();
}

#[tokio::test]
async fn a_log_reads_a_page_at_a_time_as_plain_text_and_downloads_whole() {
    let f = Fixture::new().await;
    f.put_app(
        "chatty",
        &[(
            "start.json",
            &shell_script(&[
                "printf 'first\\n'; for i in $(seq 1 3000); do printf '\\033[32mline %05d\\033[0m\\n' $i; done; printf '10%%\\r100%%\\n'",
            ]),
        )],
    );
    let run = f
        .apps
        .start("chatty", "start.json", Value::Null)
        .await
        .unwrap();
    f.apps.wait(run).await.unwrap();

    let tail = f.apps.log_chunk(run, None, 4096).await.unwrap();
    assert_eq!(tail.end, tail.total);
    assert!(tail.start > 0 && tail.total > 4096);
    assert!(tail.text.contains("line 03000\n100%"), "{}", tail.text);
    assert!(!tail.text.contains('\x1b'), "escapes were kept");
    assert!(
        tail.text.starts_with("line "),
        "a page starts on a line: {:?}",
        &tail.text[..20]
    );
    let mut start = tail.start;
    let mut pages = 1;
    while start > 0 {
        let page = f.apps.log_chunk(run, Some(start), 4096).await.unwrap();
        assert_eq!(page.end, start);
        start = page.start;
        pages += 1;
        if start == 0 {
            assert!(page.text.contains("first"), "{}", page.text);
        }
    }
    assert!(pages > 3, "{pages}");

    let base = serve(&f).await;
    let r = reqwest::get(format!("{base}/api/view/apps/runs/{run}/log?download=1"))
        .await
        .unwrap();
    assert_eq!(
        r.headers()["content-disposition"],
        format!("attachment; filename=\"chatty-run-{run}.log\"").as_str()
    );
    let whole = r.text().await.unwrap();
    assert!(whole.contains("first") && whole.contains("\x1b[32mline 03000"));
}

#[tokio::test]
async fn renaming_a_running_app_is_refused_with_what_to_do() {
    let f = Fixture::new().await;
    f.put_app("busy", &[("start.json", &shell_script(&["sleep 600"]))]);
    let run = f
        .apps
        .start("busy", "start.json", Value::Null)
        .await
        .unwrap();
    let e = f.apps.rename("busy", "calm").await.unwrap_err().to_string();
    assert!(
        e.contains("stop it first") && e.contains(&format!("run {run}")),
        "{e}"
    );
    f.apps.stop(run).await.unwrap();
    f.apps.wait(run).await.unwrap();
    f.apps.rename("busy", "calm").await.unwrap();
}
