//! The home ENVIRONMENT file behind Settings → Environment: generated when
//! a home is opened, saved only when every line is valid, never half
//! written, and seen by scripts started afterwards.

mod apps_common;

use apps_common::*;
use server::apps::AppsError;

#[tokio::test]
async fn the_home_environment_is_generated_validated_saved_and_used() {
    let f = Fixture::new().await;
    let file = f.path().join("ENVIRONMENT");
    let shown = f.apps.home_environment().unwrap();
    assert_eq!(shown.path, file);
    let generated = std::fs::read_to_string(&file).unwrap();
    assert_eq!(shown.text, generated);
    assert!(
        generated.contains("HF_HOME=./cache/HF_HOME")
            && generated.contains("UV_CACHE_DIR=./cache/uv"),
        "{generated}"
    );

    // Bad lines are named with their numbers and fixes; nothing is written.
    let bad = "GOOD=1\nthis is not a variable\nMY-VAR=2\nGOOD=3\nQ=\"open\n";
    let err = f.apps.set_home_environment(bad).unwrap_err();
    assert!(matches!(err, AppsError::Environment { .. }), "{err:?}");
    let msg = err.to_string();
    for needle in [
        "was not saved",
        "line 2: no '='",
        "NAME=value",
        "line 3: MY-VAR",
        "MY_VAR",
        "line 4: GOOD is already set on line 1",
        "line 5:",
        "never closed",
    ] {
        assert!(msg.contains(needle), "{needle:?} missing from: {msg}");
    }
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        generated,
        "file untouched"
    );

    // A valid text replaces the file in one rename (no temp file left).
    let good = "# mine\r\nPCLOUD_HOME_VAR=from-settings\nREL=./models\nHF_HOME=./cache/HF_HOME";
    f.apps.set_home_environment(good).unwrap();
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "# mine\nPCLOUD_HOME_VAR=from-settings\nREL=./models\nHF_HOME=./cache/HF_HOME\n"
    );
    let leftovers: Vec<_> = std::fs::read_dir(f.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // Scripts started afterwards see it. The app's generated ENVIRONMENT
    // inherits the custom key as written, so `./` is the app's folder
    // there (as in Pinokio).
    f.put_app(
        "envy",
        &[(
            "start.json",
            &shell_script(&["echo got=$PCLOUD_HOME_VAR rel=$REL"]),
        )],
    );
    let run = f
        .apps
        .start("envy", "start.json", serde_json::Value::Null)
        .await
        .unwrap();
    let rec = f.apps.wait(run).await.unwrap();
    assert_eq!(rec.outcome.as_deref(), Some("ok"), "{rec:?}");
    let log = f.apps.log(run).await.unwrap();
    let want = format!(
        "got=from-settings rel={}",
        f.path().join("api/envy/models").display()
    );
    assert!(log.contains(&want), "{want} not in {log}");
    f.apps.kill_all_now();
}

#[tokio::test]
async fn an_existing_home_environment_is_never_rewritten_on_open() {
    let f = Fixture::new().await;
    let file = f.path().join("ENVIRONMENT");
    std::fs::write(&file, "ONLY=mine\n").unwrap();
    let (home, store, targets, _ghost) = f.crash();
    let reopened = apps_common::reopen(home.path(), &store, &targets).await;
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "ONLY=mine\n");
    assert_eq!(reopened.home_environment().unwrap().text, "ONLY=mine\n");
    reopened.kill_all_now();
}
