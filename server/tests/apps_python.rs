//! Python settings: acceleration (uv) globally and per app, torch reuse;
//! saved in SQLite, pushed into the engine, kept across restarts and renames.

mod apps_common;

use apps_common::*;
use serde_json::Value;
use server::apps::PythonSettings;

#[tokio::test]
async fn settings_persist_reach_the_engine_and_follow_renames() {
    let f = Fixture::new().await;
    for name in ["a", "b"] {
        f.put_app(name, &[("install.json", &shell_script(&["echo hi"]))]);
    }
    let s = f.apps.python_settings().await.unwrap();
    assert!(s.acceleration, "uv is on by default");
    assert!(
        !s.reuse_platform_torch,
        "torch reuse is for Colab-like images"
    );

    let off = PythonSettings {
        acceleration: false,
        reuse_platform_torch: true,
    };
    f.apps.set_python_settings(off).await.unwrap();
    f.apps.set_app_acceleration("a", Some(true)).await.unwrap();
    let engine = f.apps.engine();
    assert!(engine.acceleration("a") && !engine.acceleration("b"));
    assert_eq!(f.apps.app_acceleration("b").await.unwrap(), None);

    f.apps.rename("a", "c").await.unwrap();
    assert!(
        f.apps.engine().acceleration("c"),
        "the override moved with the app"
    );
    assert!(!f.apps.engine().acceleration("a"));

    let (home, store, targets, _ghost) = f.crash();
    let reopened = apps_common::reopen(home.path(), &store, &targets).await;
    assert_eq!(reopened.python_settings().await.unwrap(), off);
    assert_eq!(reopened.app_acceleration("c").await.unwrap(), Some(true));
    assert!(reopened.engine().acceleration("c") && !reopened.engine().acceleration("b"));

    reopened.set_app_acceleration("c", None).await.unwrap();
    assert!(
        !reopened.engine().acceleration("c"),
        "back to the global setting"
    );
    let err = reopened
        .set_app_acceleration("missing", Some(true))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("missing"), "{err}");
    reopened.kill_all_now();
}

/// With acceleration off for one app, its venv is Pinokio's own
/// (`python3 -m venv`, real pip): no uv is fetched for it.
#[tokio::test]
async fn an_app_with_acceleration_off_gets_a_plain_venv() {
    let f = Fixture::new().await;
    f.put_app(
        "plain",
        &[(
            "install.json",
            r#"{"run": [{"method": "shell.run", "params": {"venv": "env", "message": "pip --version"}}]}"#,
        )],
    );
    f.apps
        .set_app_acceleration("plain", Some(false))
        .await
        .unwrap();
    let run = f
        .apps
        .start("plain", "install.json", Value::Null)
        .await
        .unwrap();
    let rec = f.apps.wait(run).await.unwrap();
    let log = f.apps.log(run).await.unwrap();
    assert_eq!(rec.outcome.as_deref(), Some("ok"), "{log}");
    let pip = std::fs::read_to_string(f.path().join("api/plain/env/bin/pip")).unwrap();
    assert!(!pip.contains("pinokio pip shim"), "real pip:\n{pip}");
    assert!(!f.path().join("bin/uv").exists(), "no uv was installed");
    assert!(log.contains("pip "), "{log}");
}
