//! Restart safety: runs left by a dashboard that died are cleaned up.

mod apps_common;

use apps_common::*;
use serde_json::Value;
use server::apps::{Apps, AppsError};

const DAEMON: &str = r#"{"daemon": true, "run": [{"method": "shell.run", "params": {
  "message": "echo up; sleep 600", "on": [{"event": "/up/", "done": true}]}}]}"#;

#[tokio::test]
async fn a_restart_kills_orphaned_processes_and_records_why() {
    let f = Fixture::new().await;
    let marker = format!("PCLOUD_ORPHAN_TEST={}", std::process::id());
    f.put_app(
        "orphan",
        &[
            ("start.json", DAEMON),
            ("ENVIRONMENT", &format!("{marker}\n")),
        ],
    );
    let run = f
        .apps
        .start("orphan", "start.json", Value::Null)
        .await
        .unwrap();
    wait_output(&f.apps, run, "up").await;
    // Groups are recorded as the run starts them.
    let pid = loop {
        if let Some(pid) = f.apps.run_record(run).await.unwrap().pid {
            break pid as i32;
        }
        tokio::task::yield_now().await;
    };
    assert!(alive(pid));
    assert!(!pids_with_env(&marker).is_empty());

    // While one supervisor has the home, a second is refused.
    let second = Apps::open(f.path(), f.store.pool().clone(), f.targets.clone()).await;
    assert!(matches!(second, Err(AppsError::HomeLocked { .. })));

    // The dashboard "crashes": its supervisor goes away without stopping anything.
    let (home, store, targets, _ghost) = f.crash();
    assert!(alive(pid), "a crash leaves the processes running");

    let reopened = apps_common::reopen(home.path(), &store, &targets).await;
    assert!(!alive(pid), "the orphaned shell was stopped");
    assert!(
        pids_with_env(&marker).is_empty(),
        "nothing of the run is left"
    );
    let rec = reopened.run_record(run).await.unwrap();
    assert_eq!(rec.outcome.as_deref(), Some("interrupted"));
    assert_eq!(
        rec.reason.as_deref(),
        Some("dashboard restarted; stopped orphaned processes")
    );
    reopened.kill_all_now();
}

#[tokio::test]
async fn a_restart_after_the_processes_died_says_so() {
    let f = Fixture::new().await;
    f.put_app("gone", &[("start.json", DAEMON)]);
    let run = f
        .apps
        .start("gone", "start.json", Value::Null)
        .await
        .unwrap();
    wait_output(&f.apps, run, "up").await;
    let pid = loop {
        if let Some(pid) = f.apps.run_record(run).await.unwrap().pid {
            break pid as i32;
        }
        tokio::task::yield_now().await;
    };
    let (home, store, targets, _ghost) = f.crash();
    // The processes die with the machine, say.
    engine::kill_group(pid);
    assert!(!alive(pid));
    let reopened = apps_common::reopen(home.path(), &store, &targets).await;
    let rec = reopened.run_record(run).await.unwrap();
    assert_eq!(
        rec.reason.as_deref(),
        Some("dashboard restarted; process was gone")
    );
    reopened.kill_all_now();
}

#[tokio::test]
async fn autostart_apps_start_when_the_supervisor_opens() {
    let f = Fixture::new().await;
    f.put_app(
        "auto",
        &[("pinokio.js", PINOKIO_JS), ("start.json", DAEMON)],
    );
    f.apps.set_autostart("auto", true).await.unwrap();
    assert!(f.apps.list().await.unwrap()[0].autostart);
    let (home, store, targets, _ghost) = f.crash();
    let reopened = apps_common::reopen(home.path(), &store, &targets).await;
    let running = reopened.running();
    assert_eq!(running.len(), 1);
    assert_eq!(
        (running[0].app.as_str(), running[0].script.as_str()),
        ("auto", "start.json")
    );
    reopened.shutdown().await;
    assert!(reopened.running().is_empty());
}
