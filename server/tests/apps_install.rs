//! Installing apps with real git clones of local fixture repositories.

mod apps_common;

use apps_common::*;
use server::apps::{AppsError, InstallPhase};

#[tokio::test]
async fn installs_from_a_git_url_names_the_folder_and_reads_the_launcher() {
    let f = Fixture::new().await;
    let (_repo, url) = git_repo(
        "fixture-app.git",
        &[
            ("pinokio.js", PINOKIO_JS),
            ("start.json", &shell_script(&["echo hi"])),
        ],
    );
    let mut events = f.apps.events();
    let app = f.apps.install(&url, None).await.unwrap();
    assert_eq!(app.name, "fixture-app");
    assert_eq!(app.title, "Fixture App");
    assert_eq!(app.description.as_deref(), Some("A test app"));
    assert_eq!(app.source_url.as_deref(), Some(url.as_str()));
    assert!(f.path().join("api/fixture-app/pinokio.js").is_file());
    assert!(
        f.path().join("api/fixture-app/.git").is_dir(),
        "a real clone"
    );
    let progress = f.apps.install_progress("fixture-app").unwrap();
    let p = progress.borrow().clone();
    assert_eq!(p.phase, InstallPhase::Done);
    assert_eq!(p.overall, 100);
    // git's own progress lines were read and parsed along the way.
    assert!(
        matches!(
            p.stage.as_deref(),
            Some("Receiving objects" | "Resolving deltas")
        ),
        "{p:?}"
    );
    assert_eq!(p.percent, Some(100), "{p:?}");
    next_event(&mut events, "installed", |e| match e {
        server::apps::AppEvent::Installed { app } if app == "fixture-app" => Some(()),
        _ => None,
    })
    .await;

    // The same repository again lands next to it, never on top of it.
    let again = f.apps.install(&url, None).await.unwrap();
    assert_eq!(again.name, "fixture-app-2");
    let names: Vec<String> = f
        .apps
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(names, ["fixture-app", "fixture-app-2"]);

    // A folder the user names must be free.
    let err = f.apps.install(&url, Some("fixture-app")).await.unwrap_err();
    assert!(matches!(err, AppsError::FolderTaken { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("two installs into the same folder are refused"),
        "{err}"
    );
    let named = f.apps.install(&url, Some("mine")).await.unwrap();
    assert_eq!(named.name, "mine");
}

#[tokio::test]
async fn a_repository_that_is_not_a_pinokio_app_is_removed_with_what_was_missing() {
    let f = Fixture::new().await;
    let (_repo, url) = git_repo("plain", &[("README.md", "# not an app")]);
    let err = f.apps.install(&url, None).await.unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, AppsError::NotPinokioApp { .. }), "{msg}");
    assert!(
        msg.contains("pinokio.js") && msg.contains("install.js"),
        "{msg}"
    );
    assert!(!f.path().join("api/plain").exists());
    let leftovers: Vec<_> = std::fs::read_dir(f.path().join("api")).unwrap().collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert!(f.apps.list().await.unwrap().is_empty());
    let p = f.apps.install_progress("plain").unwrap().borrow().clone();
    assert_eq!(p.phase, InstallPhase::Failed);
}

#[tokio::test]
async fn an_unreachable_repository_reports_what_git_said() {
    let f = Fixture::new().await;
    let missing = f.path().join("nowhere/repo.git");
    let err = f
        .apps
        .install(&format!("file://{}", missing.display()), None)
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, AppsError::Install { .. }), "{msg}");
    assert!(msg.contains("git said"), "{msg}");
    assert!(msg.contains("nowhere/repo.git"), "{msg}");
    assert!(f.apps.list().await.unwrap().is_empty());
}

#[tokio::test]
async fn uninstall_stops_the_app_then_removes_folder_logs_and_rows() {
    let f = Fixture::new().await;
    let (_repo, url) = git_repo(
        "sleepy",
        &[(
            "start.json",
            r#"{"daemon": true, "run": [{"method": "shell.run", "params": {"message": "echo up; sleep 600", "on": [{"event": "/up/", "done": true}]}}]}"#,
        )],
    );
    let app = f.apps.install(&url, None).await.unwrap();
    let run = f
        .apps
        .start(&app.name, "start.json", serde_json::Value::Null)
        .await
        .unwrap();
    wait_output(&f.apps, run, "up").await;
    f.apps.uninstall(&app.name).await.unwrap();
    let rec = f.apps.run_record(run).await;
    assert!(rec.is_err(), "rows removed: {rec:?}");
    assert!(f.apps.running().is_empty());
    assert!(!f.path().join("api/sleepy").exists());
    assert!(!f.path().join("logs/sleepy").exists());
    assert!(f.apps.list().await.unwrap().is_empty());
}

#[tokio::test]
async fn rename_moves_the_folder_and_history_and_refuses_clashes() {
    let f = Fixture::new().await;
    let (_repo, url) = git_repo(
        "orig",
        &[("start.json", &shell_script(&["echo renamed-run"]))],
    );
    f.apps.install(&url, None).await.unwrap();
    let run = f
        .apps
        .start("orig", "start.json", serde_json::Value::Null)
        .await
        .unwrap();
    f.apps.wait(run).await.unwrap();
    f.put_app("taken", &[("start.json", "{}")]);
    assert!(matches!(
        f.apps.rename("orig", "taken").await.unwrap_err(),
        AppsError::FolderTaken { .. }
    ));
    assert!(matches!(
        f.apps.rename("orig", "../x").await.unwrap_err(),
        AppsError::BadName(_)
    ));
    f.apps.rename("orig", "better").await.unwrap();
    assert!(f.path().join("api/better/start.json").is_file());
    let history = f.apps.history("better").await.unwrap();
    assert_eq!(history.len(), 1);
    assert!(f
        .apps
        .log(history[0].id)
        .await
        .unwrap()
        .contains("renamed-run"));
    assert!(f.apps.history("orig").await.unwrap().is_empty());
}
