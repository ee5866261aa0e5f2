//! People in the loop: forms, environment variables, notices.

mod apps_common;

use apps_common::*;
use serde_json::{json, Value};
use server::apps::{AppEvent, AppsError, FormKind};

const ASK: &str = r#"{"run": [
  {"method": "input", "params": {"title": "Who?", "form": [
     {"key": "name", "title": "Name", "required": true},
     {"key": "size", "items": ["small", "big"], "default": "small"}]}},
  {"method": "shell.run", "params": {"message": "echo \"got {{input.name}} {{input.size}}\""}}
]}"#;

#[tokio::test]
async fn an_input_form_waits_for_a_valid_answer() {
    let f = Fixture::new().await;
    f.put_app("form", &[("start.json", ASK)]);
    let mut events = f.apps.events();
    let run = f
        .apps
        .start("form", "start.json", Value::Null)
        .await
        .unwrap();
    let form = next_event(&mut events, "form", |e| match e {
        AppEvent::Form { form } => Some(form.clone()),
        _ => None,
    })
    .await;
    assert_eq!(form.kind, FormKind::Input);
    assert_eq!(form.run_id, run);
    assert_eq!(f.apps.pending(Some("form")), vec![form.clone()]);

    // Wrong answers are refused and the question stays.
    let e = f.apps.answer(&form.id, json!({"size": "big"})).unwrap_err();
    assert!(
        matches!(e, AppsError::InvalidAnswer(_)) && e.to_string().contains("Name is required"),
        "{e}"
    );
    let e = f
        .apps
        .answer(&form.id, json!({"name": "Ada", "size": "huge"}))
        .unwrap_err();
    assert!(e.to_string().contains("small, big"), "{e}");
    assert_eq!(f.apps.pending(None).len(), 1);

    f.apps
        .answer(&form.id, json!({"name": "Ada", "size": "big"}))
        .unwrap();
    assert!(f.apps.pending(None).is_empty());
    assert!(matches!(
        f.apps.answer(&form.id, json!({})).unwrap_err(),
        AppsError::NoSuchForm(_)
    ));
    let rec = f.apps.wait(run).await.unwrap();
    assert_eq!(rec.outcome.as_deref(), Some("ok"), "{rec:?}");
    assert!(f.apps.log(run).await.unwrap().contains("got Ada big"));
}

#[tokio::test]
async fn stopping_a_run_cancels_its_questions() {
    let f = Fixture::new().await;
    f.put_app("form", &[("start.json", ASK)]);
    let mut events = f.apps.events();
    let run = f
        .apps
        .start("form", "start.json", Value::Null)
        .await
        .unwrap();
    let form = next_event(&mut events, "form", |e| match e {
        AppEvent::Form { form } => Some(form.clone()),
        _ => None,
    })
    .await;
    f.apps.stop(run).await.unwrap();
    let rec = f.apps.wait(run).await.unwrap();
    assert_eq!(rec.outcome.as_deref(), Some("stopped"));
    assert!(f.apps.pending(None).is_empty());
    assert!(f.apps.answer(&form.id, json!({"name": "x"})).is_err());
}

#[tokio::test]
async fn missing_environment_variables_are_asked_and_saved() {
    let f = Fixture::new().await;
    let dir = f.put_app(
        "envy",
        &[
            (
                "start.json",
                r#"{"env": [{"key": "PCLOUD_TEST_TOKEN", "title": "Token"}], "run": [
                    {"method": "shell.run", "params": {"message": "echo token=$PCLOUD_TEST_TOKEN"}}]}"#,
            ),
            ("ENVIRONMENT", "# keep me\nOTHER=1\n"),
        ],
    );
    let mut events = f.apps.events();
    let run = f
        .apps
        .start("envy", "start.json", Value::Null)
        .await
        .unwrap();
    let form = next_event(&mut events, "env form", |e| match e {
        AppEvent::Form { form } => Some(form.clone()),
        _ => None,
    })
    .await;
    assert_eq!(form.kind, FormKind::Env);
    assert_eq!(form.params["vars"][0]["key"], "PCLOUD_TEST_TOKEN");
    assert!(f.apps.answer(&form.id, json!({})).is_err());
    f.apps
        .answer(&form.id, json!({"PCLOUD_TEST_TOKEN": "s3cret"}))
        .unwrap();
    let rec = f.apps.wait(run).await.unwrap();
    assert_eq!(rec.outcome.as_deref(), Some("ok"), "{rec:?}");
    assert!(f.apps.log(run).await.unwrap().contains("token=s3cret"));
    let text = std::fs::read_to_string(dir.join("ENVIRONMENT")).unwrap();
    assert!(
        text.starts_with("# keep me\nOTHER=1\n") && text.contains("PCLOUD_TEST_TOKEN=s3cret"),
        "{text}"
    );
    let env = f.apps.environment("envy").unwrap();
    let keys: Vec<&str> = env.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, ["OTHER", "PCLOUD_TEST_TOKEN"]);

    f.apps.set_environment("envy", "OTHER", "2").unwrap();
    let text = std::fs::read_to_string(dir.join("ENVIRONMENT")).unwrap();
    assert!(text.starts_with("# keep me\nOTHER=2\n"), "{text}");
    assert!(f.apps.set_environment("envy", "BAD KEY", "x").is_err());
    assert!(f.apps.set_environment("envy", "K", "two\nlines").is_err());
}

#[tokio::test]
async fn notices_and_opened_urls_are_recorded_and_broadcast() {
    let f = Fixture::new().await;
    f.put_app(
        "talk",
        &[(
            "start.json",
            r#"{"run": [
                {"method": "notify", "params": {"html": "model downloaded"}},
                {"method": "web.open", "params": {"uri": "http://127.0.0.1:7999/"}}
            ]}"#,
        )],
    );
    let mut events = f.apps.events();
    let run = f
        .apps
        .start("talk", "start.json", Value::Null)
        .await
        .unwrap();
    let html = next_event(&mut events, "notify", |e| match e {
        AppEvent::Notify { params, .. } => Some(params["html"].clone()),
        _ => None,
    })
    .await;
    assert_eq!(html, "model downloaded");
    let opened = next_event(&mut events, "open", |e| match e {
        AppEvent::Open { url, .. } => Some(url.clone()),
        _ => None,
    })
    .await;
    assert_eq!(opened, "http://127.0.0.1:7999/");
    f.apps.wait(run).await.unwrap();
    let recorded = f.apps.app_events("talk", 10).await.unwrap();
    let kinds: Vec<&str> = recorded.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["open", "notify"]);
    assert_eq!(recorded[1].payload["html"], "model downloaded");
    // The local URL was proxied while the run lasted, and forgotten after.
    assert!(f.targets.get("talk").is_none());
}
