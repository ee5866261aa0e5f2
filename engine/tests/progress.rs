//! Progress read off real tools' bars in the PTY.
mod common;
use common::*;
use engine::Event;
use serde_json::json;

#[test]
fn a_real_curl_download_reports_bytes_and_total() {
    let home = Home::new();
    let source = home.path().join("model.bin");
    std::fs::write(&source, vec![7u8; 12 << 20]).unwrap();
    let s = home.write(
        "a",
        "get.js",
        &format!(
            r#"module.exports = {{ run: [
          {{ method: "fs.download", params: {{ uri: "file://{}", dir: "models" }} }} ] }}"#,
            source.display()
        ),
    );
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    r.unwrap();
    let last = ev
        .iter()
        .rev()
        .find_map(|e| match e {
            Event::Progress { progress, .. } => Some(progress.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no progress event; output:\n{}", output(&ev)));
    assert_eq!(last.total, Some(12 << 20), "{last:?}");
    assert_eq!(last.done, 12 << 20);
    assert_eq!(last.fraction(), Some(1.0));
    assert!(home.app("a").join("models/model.bin").exists());
}

#[test]
fn plain_output_reports_no_progress() {
    let home = Home::new();
    let s = home.write(
        "a",
        "s.js",
        r#"module.exports = { run: [
          { method: "shell.run", params: { message: "echo 'Collecting numpy'; echo '50% done'" } } ] }"#,
    );
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    r.unwrap();
    assert!(output(&ev).contains("50% done"));
    assert!(!ev.iter().any(|e| matches!(e, Event::Progress { .. })));
}
