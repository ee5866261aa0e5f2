//! Running scripts: terminals, logs, outcomes, proxy URLs, input, stop.

mod apps_common;

use apps_common::*;
use serde_json::{json, Value};
use server::apps::{AppEvent, AppsError};

#[tokio::test]
async fn a_run_streams_to_viewers_logs_and_records_its_end() {
    let f = Fixture::new().await;
    f.put_app(
        "hello",
        &[(
            "start.json",
            &shell_script(&["echo one-$((40+2))", "echo two"]),
        )],
    );
    let mut events = f.apps.events();
    let run = f
        .apps
        .start("hello", "start.json", Value::Null)
        .await
        .unwrap();
    let rec = f.apps.wait(run).await.unwrap();
    assert_eq!(rec.outcome.as_deref(), Some("ok"), "{rec:?}");
    assert!(rec.ended_at.is_some());
    assert_eq!(rec.script, "start.json");
    let log = f.apps.log(run).await.unwrap();
    assert!(log.contains("one-42") && log.contains("two"), "{log}");
    assert!(
        rec.log_path.ends_with(&format!("logs/hello/{run}.log")),
        "{}",
        rec.log_path
    );
    let (scroll, _) = f.apps.attach(run).unwrap();
    assert!(String::from_utf8_lossy(&scroll).contains("one-42"));
    let outcome = next_event(&mut events, "run ended", |e| match e {
        AppEvent::RunEnded {
            run_id, outcome, ..
        } if *run_id == run => Some(outcome.clone()),
        _ => None,
    })
    .await;
    assert_eq!(outcome, "ok");
    assert!(f.apps.running().is_empty());
    let history = f.apps.history("hello").await.unwrap();
    assert_eq!(history.iter().map(|r| r.id).collect::<Vec<_>>(), [run]);
    let listed = f.apps.list().await.unwrap();
    assert!(listed[0].last_used_at.is_some());
}

#[tokio::test]
async fn a_failing_step_is_recorded_with_its_step_and_output_tail() {
    let f = Fixture::new().await;
    f.put_app(
        "broken",
        &[(
            "install.json",
            &shell_script(&["echo fine", "echo 'ERROR: about-to-fail'; exit 3"]),
        )],
    );
    let run = f
        .apps
        .start("broken", "install.json", Value::Null)
        .await
        .unwrap();
    let rec = f.apps.wait(run).await.unwrap();
    assert_eq!(rec.outcome.as_deref(), Some("error"));
    let reason = rec.reason.unwrap();
    assert!(
        reason.contains("step 1") && reason.contains("shell.run"),
        "{reason}"
    );
    assert!(
        reason.contains("printed an error") && reason.contains("about-to-fail"),
        "{reason}"
    );
    let events = f.apps.app_events("broken", 10).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, "error");
    assert_eq!(events[0].run_id, Some(run));
}

#[tokio::test]
async fn unknown_apps_and_scripts_are_refused_with_what_to_do() {
    let f = Fixture::new().await;
    f.put_app("a", &[("start.json", &shell_script(&["true"]))]);
    let e = f
        .apps
        .start("nope", "start.json", Value::Null)
        .await
        .unwrap_err();
    assert!(matches!(e, AppsError::NoSuchApp(_)), "{e}");
    let e = f
        .apps
        .start("a", "missing.json", Value::Null)
        .await
        .unwrap_err();
    assert!(matches!(e, AppsError::NoSuchScript { .. }), "{e}");
    let e = f
        .apps
        .start("a", "../a/start.json", Value::Null)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("inside the app folder"), "{e}");
    assert!(f.apps.history("a").await.unwrap().is_empty());
}

const DAEMON: &str = r#"{
  "daemon": true,
  "run": [
    {"method": "shell.run", "params": {
      "message": "echo \"serving on http://0.0.0.0:$((7000+1)) root=$GRADIO_ROOT_PATH\"; sleep 600",
      "on": [{"event": "/(http:\\/\\/\\S+)/", "done": true}]}},
    {"method": "local.set", "params": {"url": "{{input.event[1]}}"}}
  ]
}"#;

#[tokio::test]
async fn a_daemon_url_is_proxied_while_it_runs_and_stop_kills_its_tree() {
    let f = Fixture::new().await;
    f.put_app("web", &[("start.json", DAEMON)]);
    let mut events = f.apps.events();
    let run = f
        .apps
        .start("web", "start.json", Value::Null)
        .await
        .unwrap();
    let url = next_event(&mut events, "url", |e| match e {
        AppEvent::Url {
            run_id,
            url,
            proxy_path,
            ..
        } if *run_id == run => {
            assert_eq!(proxy_path, "/p/web/");
            Some(url.clone())
        }
        _ => None,
    })
    .await;
    assert_eq!(url, "http://127.0.0.1:7001");
    let text = wait_output(&f.apps, run, "root=").await;
    assert!(
        text.contains("root=/p/web"),
        "launch env reaches the app: {text}"
    );
    let running = f.apps.running();
    assert_eq!(running.len(), 1);
    assert_eq!(running[0].url.as_deref(), Some("http://127.0.0.1:7001"));
    assert_eq!(f.targets.get("web").unwrap().port(), 7001);
    let pid = f
        .apps
        .run_record(run)
        .await
        .unwrap()
        .pid
        .expect("pid recorded") as i32;
    assert!(alive(pid));

    f.apps.stop(run).await.unwrap();
    let rec = f.apps.wait(run).await.unwrap();
    assert_eq!(rec.outcome.as_deref(), Some("stopped"));
    assert_eq!(rec.reason.as_deref(), Some("stopped"));
    assert!(!alive(pid), "the shell's process group is gone");
    assert!(f.targets.get("web").is_none());
    assert!(f.apps.running().is_empty());
    assert!(matches!(
        f.apps.stop(run).await.unwrap_err(),
        AppsError::RunEnded { .. }
    ));
}

#[tokio::test]
async fn runs_of_several_apps_go_on_at_once_and_a_script_runs_once() {
    let f = Fixture::new().await;
    f.put_app("a", &[("start.json", DAEMON)]);
    f.put_app("b", &[("start.json", &DAEMON.replace("7000+1", "7000+2"))]);
    let ra = f.apps.start("a", "start.json", Value::Null).await.unwrap();
    let rb = f.apps.start("b", "start.json", Value::Null).await.unwrap();
    wait_output(&f.apps, ra, "serving").await;
    wait_output(&f.apps, rb, "serving").await;
    let e = f
        .apps
        .start("a", "start.json", Value::Null)
        .await
        .unwrap_err();
    assert!(
        matches!(e, AppsError::AlreadyRunning { run_id, .. } if run_id == ra),
        "{e}"
    );
    let mut apps: Vec<String> = f.apps.running().into_iter().map(|r| r.app).collect();
    apps.sort();
    assert_eq!(apps, ["a", "b"]);
    assert_eq!(f.apps.stop_app("a").await.unwrap(), vec![ra]);
    assert_eq!(f.apps.running().len(), 1);
    f.apps.shutdown().await;
    assert!(f.apps.running().is_empty());
    let rb_rec = f.apps.run_record(rb).await.unwrap();
    assert_eq!(rb_rec.reason.as_deref(), Some("dashboard stopped"));
}

#[tokio::test]
async fn keyboard_input_reaches_the_running_shell() {
    let f = Fixture::new().await;
    f.put_app(
        "ask",
        &[(
            "start.json",
            &shell_script(&["read -p 'Name? ' n; echo \"hello $n\""]),
        )],
    );
    let run = f
        .apps
        .start("ask", "start.json", Value::Null)
        .await
        .unwrap();
    wait_output(&f.apps, run, "Name? ").await;
    f.apps.send_input(run, b"world\r").unwrap();
    let rec = f.apps.wait(run).await.unwrap();
    assert_eq!(rec.outcome.as_deref(), Some("ok"), "{rec:?}");
    assert!(f.apps.log(run).await.unwrap().contains("hello world"));
    assert!(matches!(
        f.apps.send_input(run, b"x").unwrap_err(),
        AppsError::RunEnded { .. }
    ));
}

#[tokio::test]
async fn resizing_reaches_the_terminal() {
    let f = Fixture::new().await;
    f.put_app(
        "tty",
        &[(
            "start.json",
            &shell_script(&["read -p 'go? ' x; echo \"size=$(stty size)\""]),
        )],
    );
    let run = f.apps.start("tty", "start.json", json!({})).await.unwrap();
    wait_output(&f.apps, run, "go? ").await;
    f.apps.resize(run, 101, 33).unwrap();
    assert!(f.apps.resize(run, 0, 10).is_err());
    f.apps.send_input(run, b"\r").unwrap();
    f.apps.wait(run).await.unwrap();
    let log = f.apps.log(run).await.unwrap();
    assert!(log.contains("size=33 101"), "{log}");
}

/// A download bar in the terminal becomes the run's progress (what the
/// app card's bar shows) while it is fresh.
#[tokio::test]
async fn a_download_bar_in_the_terminal_becomes_the_runs_progress() {
    let f = Fixture::new().await;
    f.put_app(
        "dl",
        &[(
            "install.json",
            &shell_script(&[
                "printf 'model.bin:  40%%|####      | 4.00M/10.0M [00:01<00:02, 4.00MB/s]\\r'",
                "sleep 30",
            ]),
        )],
    );
    let run = f
        .apps
        .start("dl", "install.json", Value::Null)
        .await
        .unwrap();
    let mut progress = None;
    for _ in 0..200 {
        progress = f.apps.running().into_iter().find_map(|r| r.progress);
        if progress.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let p = progress.expect("the run reports the bar it printed");
    assert_eq!(p.label, "model.bin");
    assert_eq!((p.done, p.total), (4_000_000, Some(10_000_000)));
    assert_eq!((p.rate, p.eta), (Some(4_000_000), Some(2)));
    let listed = f.apps.list().await.unwrap();
    assert_eq!(
        listed[0].progress.as_ref(),
        Some(&p),
        "the app card sees it too"
    );
    f.apps.stop_app("dl").await.unwrap();
    let rec = f.apps.wait(run).await.unwrap();
    assert_eq!(rec.outcome.as_deref(), Some("stopped"));
}

/// The app page learns, before Install runs, which torch build the script
/// picks and how it fits this machine (the verdicts themselves are covered
/// by the engine's tests with made-up drivers).
#[tokio::test]
async fn torch_check_reads_the_install_plan() {
    let f = Fixture::new().await;
    f.put_app(
        "t",
        &[(
            "install.json",
            &shell_script(&[
                "pip install torch torchvision --index-url https://download.pytorch.org/whl/cu130",
            ]),
        )],
    );
    let check = f
        .apps
        .torch_check("t")
        .await
        .unwrap()
        .expect("installs torch");
    assert_eq!(check.findings[0].build, "cu130");
    assert_eq!(check.findings[0].script, "install.json");
    if check.gpu == "none" {
        // A CUDA build without a GPU runs on the CPU after a big download.
        assert_eq!(check.verdict(), engine::Verdict::Caution, "{check:?}");
        assert_eq!(check.recommended, "cpu");
    }
    f.put_app("plain", &[("install.json", &shell_script(&["echo hi"]))]);
    assert!(f.apps.torch_check("plain").await.unwrap().is_none());
}
