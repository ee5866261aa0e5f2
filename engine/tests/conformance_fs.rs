//! Conformance of `fs.*` (spec §4.3, §4.0; checklist C-120 … C-129 except
//! C-127). Downloads come from a local HTTP server on 127.0.0.1.
mod common;
#[path = "common/http.rs"]
mod http;
#[path = "common/recorder.rs"]
mod recorder;

use std::sync::{Arc, Mutex};

use common::*;
use engine::Interaction;
use http::{Route, Server};
use recorder::*;
use serde_json::{json, Value};

#[test]
fn c120_fs_write_json_one_line_json2_indented_text_verbatim_buffer_bytes() {
    let home = Home::new();
    run_js(
        &home,
        "a",
        r#"module.exports = { run: [
      { method: "fs.write", params: { path: "deep/er/one.json", json: { z: 1, a: [1, 2], m: { k: "v" } } } },
      { method: "fs.write", params: { path: "two.json", json2: { z: 1, a: { b: 2 } } } },
      { method: "fs.write", params: { path: "t.txt", text: "  line1\nline2  " } },
      { method: "fs.write", params: { path: "b64.bin", buffer: "{{Buffer.from('aGk=', 'base64')}}" } },
      { method: "fs.write", params: { path: "node.bin", buffer: { type: "Buffer", data: [0, 255, 10] } } },
      { method: "fs.write", params: { path: "both.json", json: { first: true }, text: "ignored" } } ] }"#,
    );
    let app = home.app("a");
    assert_eq!(
        read(app.join("deep/er/one.json")),
        r#"{"z":1,"a":[1,2],"m":{"k":"v"}}"#
    );
    assert_eq!(
        read(app.join("two.json")),
        "{\n  \"z\": 1,\n  \"a\": {\n    \"b\": 2\n  }\n}"
    );
    assert_eq!(read(app.join("t.txt")), "  line1\nline2  ");
    assert_eq!(std::fs::read(app.join("b64.bin")).unwrap(), b"hi");
    assert_eq!(std::fs::read(app.join("node.bin")).unwrap(), [0u8, 255, 10]);
    assert_eq!(read(app.join("both.json")), r#"{"first":true}"#);
}

#[test]
fn c120_fs_write_replaces_a_link_instead_of_writing_through_it() {
    let home = Home::new();
    let app = home.app("a");
    std::fs::write(app.join("target.txt"), "keep").unwrap();
    std::os::unix::fs::symlink(app.join("target.txt"), app.join("link.txt")).unwrap();
    run_js(
        &home,
        "a",
        r#"module.exports = { run: [ { method: "fs.write", params: { path: "link.txt", text: "new" } } ] }"#,
    );
    assert_eq!(read(app.join("target.txt")), "keep");
    assert_eq!(read(app.join("link.txt")), "new");
    assert!(!std::fs::symlink_metadata(app.join("link.txt"))
        .unwrap()
        .file_type()
        .is_symlink());
}

#[test]
fn c121_fs_read_returns_the_content_in_the_encoding_or_a_buffer() {
    let home = Home::new();
    std::fs::write(home.app("a").join("f.bin"), "héllo").unwrap();
    let ev = run_js(
        &home,
        "a",
        r#"module.exports = { run: [
      { method: "fs.read", params: { path: "f.bin", encoding: "utf8" } },
      { method: "log", params: { text: "utf8 {{input}}" } },
      { method: "fs.read", params: { path: "f.bin", encoding: "base64" } },
      { method: "log", params: { text: "base64 {{input}}" } },
      { method: "fs.read", params: { path: "f.bin", encoding: "hex" } },
      { method: "log", params: { text: "hex {{input}}" } },
      { method: "fs.read", params: { path: "f.bin" } },
      { method: "log", params: { text: "buffer {{Buffer.isBuffer(input)}} {{input.toString()}}" } } ] }"#,
    );
    assert_eq!(
        logs(&ev),
        [
            "utf8 héllo",
            "base64 aMOpbGxv",
            "hex 68c3a96c6c6f",
            "buffer true héllo"
        ]
    );
}

#[test]
fn c121_fs_read_rejects_an_unknown_encoding_by_name() {
    let home = Home::new();
    std::fs::write(home.app("a").join("f.txt"), "x").unwrap();
    let s = home.write(
        "a",
        "s.js",
        r#"module.exports = { run: [ { method: "fs.read", params: { path: "f.txt", encoding: "klingon" } } ] }"#,
    );
    let (r, _) = run(&home.engine(), &s, json!({}), json!({}));
    let msg = r.unwrap_err().to_string();
    assert!(msg.contains("unknown encoding 'klingon'"), "{msg}");
}

#[test]
fn c122_fs_rm_deletes_trees_and_accepts_missing_paths() {
    let home = Home::new();
    let app = home.app("a");
    std::fs::create_dir_all(app.join("tree/sub")).unwrap();
    std::fs::write(app.join("tree/sub/f"), "x").unwrap();
    std::fs::write(app.join("single"), "x").unwrap();
    run_js(
        &home,
        "a",
        r#"module.exports = { run: [
      { method: "fs.rm", params: { path: "tree" } },
      { method: "fs.rm", params: { path: "single" } },
      { method: "fs.rm", params: { path: "never/was" } } ] }"#,
    );
    assert!(!app.join("tree").exists() && !app.join("single").exists());
}

#[test]
fn c123_fs_copy_copies_files_and_folder_trees() {
    let home = Home::new();
    let app = home.app("a");
    std::fs::create_dir_all(app.join("src/sub")).unwrap();
    std::fs::write(app.join("src/sub/f.txt"), "deep").unwrap();
    std::fs::write(app.join("one.txt"), "one").unwrap();
    run_js(
        &home,
        "a",
        r#"module.exports = { run: [
      { method: "fs.copy", params: { src: "one.txt", dest: "out/one-copy.txt" } },
      { method: "fs.copy", params: { src: "src", dest: "tree", options: { recursive: true } } },
      { method: "fs.copy", params: { src: "src", dest: "tree2" } } ] }"#,
    );
    assert_eq!(read(app.join("out/one-copy.txt")), "one");
    assert_eq!(read(app.join("tree/sub/f.txt")), "deep");
    assert_eq!(read(app.join("tree2/sub/f.txt")), "deep");
}

#[test]
fn c124_fs_download_into_dir_uses_the_server_file_name_for_each_url() {
    let srv = Server::start();
    srv.file("/files/plain.bin", b"plain");
    srv.route(
        "/api/download/123",
        Route {
            body: b"named by header".to_vec(),
            disposition: Some(r#"attachment; filename="model v2.safetensors""#.into()),
            ..Default::default()
        },
    );
    let home = Home::new();
    run_js(
        &home,
        "a",
        &format!(
            r#"module.exports = {{ run: [
      {{ method: "fs.download", params: {{ uri: ["{}", "{}?download=true"], dir: "models" }} }},
      {{ method: "fs.download", params: {{ url: "{}", dir: "one" }} }} ] }}"#,
            srv.url("/api/download/123"),
            srv.url("/files/plain.bin"),
            srv.url("/files/plain.bin")
        ),
    );
    let app = home.app("a");
    assert_eq!(
        read(app.join("models/model v2.safetensors")),
        "named by header"
    );
    assert_eq!(read(app.join("models/plain.bin")), "plain");
    assert_eq!(read(app.join("one/plain.bin")), "plain");
    assert!(!app.join("models/plain.bin.part").exists());
}

#[test]
fn c125_fs_download_with_path_saves_exactly_that_file() {
    let srv = Server::start();
    srv.file("/resolve/main/vae.safetensors", b"vae-bytes");
    let home = Home::new();
    run_js(
        &home,
        "a",
        &format!(
            r#"module.exports = {{ run: [
      {{ method: "fs.download", params: {{ uri: "{}?download=true", path: "app/models/vae/my-vae.bin" }} }} ] }}"#,
            srv.url("/resolve/main/vae.safetensors")
        ),
    );
    let app = home.app("a");
    assert_eq!(read(app.join("app/models/vae/my-vae.bin")), "vae-bytes");
    assert!(
        !app.join("app/models/vae/my-vae.bin").is_dir()
            && !app.join("app/models/vae/vae.safetensors").exists()
    );
}

#[test]
fn c126_fs_download_skips_a_file_that_is_already_there() {
    let srv = Server::start();
    srv.file("/m.bin", b"remote");
    let home = Home::new();
    let app = home.app("a");
    std::fs::create_dir_all(app.join("models")).unwrap();
    std::fs::write(app.join("models/m.bin"), "local copy").unwrap();
    std::fs::write(app.join("exact.bin"), "local exact").unwrap();
    let ev = run_js(
        &home,
        "a",
        &format!(
            r#"module.exports = {{ run: [
      {{ method: "fs.download", params: {{ uri: "{0}", dir: "models" }} }},
      {{ method: "fs.download", params: {{ uri: "{0}", path: "exact.bin" }} }} ] }}"#,
            srv.url("/m.bin")
        ),
    );
    assert_eq!(read(app.join("models/m.bin")), "local copy");
    assert_eq!(read(app.join("exact.bin")), "local exact");
    let gets: Vec<_> = srv
        .hits("/m.bin")
        .into_iter()
        .filter(|s| s.headers.get("range").is_none_or(|r| r != "bytes=0-0"))
        .collect();
    assert!(gets.is_empty(), "downloaded again: {gets:?}");
    assert!(output(&ev).contains("already exists; skipping"));
}

#[test]
fn c126_fs_download_resumes_a_partial_file_with_a_range_request() {
    let srv = Server::start();
    let body: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    srv.file("/big.bin", &body);
    let home = Home::new();
    let app = home.app("a");
    std::fs::write(app.join("big.bin.part"), &body[..50_000]).unwrap();
    run_js(
        &home,
        "a",
        &format!(
            r#"module.exports = {{ run: [ {{ method: "fs.download", params: {{ uri: "{}", path: "big.bin" }} }} ] }}"#,
            srv.url("/big.bin")
        ),
    );
    assert_eq!(std::fs::read(app.join("big.bin")).unwrap(), body);
    assert!(!app.join("big.bin.part").exists());
    // Besides the 1-byte probe that asks the size (for the disk guard).
    let hits: Vec<_> = srv
        .hits("/big.bin")
        .into_iter()
        .filter(|s| s.headers.get("range").is_none_or(|r| r != "bytes=0-0"))
        .collect();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(
        hits[0].headers.get("range").map(String::as_str),
        Some("bytes=50000-")
    );
}

#[test]
fn c126_a_broken_transfer_leaves_only_a_part_file_and_the_rerun_completes_it() {
    let srv = Server::start();
    let body: Vec<u8> = (0..100_000u32).map(|i| (i % 13) as u8).collect();
    srv.route(
        "/w.bin",
        Route {
            body: body.clone(),
            break_once: true,
            ..Default::default()
        },
    );
    let home = Home::new();
    let s = home.write(
        "a",
        "s.js",
        &format!(
            r#"module.exports = {{ run: [ {{ method: "fs.download", params: {{ uri: "{}", path: "w.bin" }} }} ] }}"#,
            srv.url("/w.bin")
        ),
    );
    let e = home.engine();
    let (r, _) = run(&e, &s, json!({}), json!({}));
    let msg = r.unwrap_err().to_string();
    let app = home.app("a");
    assert!(msg.contains("w.bin was not written"), "{msg}");
    assert!(!app.join("w.bin").exists(), "a half file looks complete");
    let part = std::fs::read(app.join("w.bin.part")).unwrap();
    assert!(!part.is_empty() && part.len() < body.len());
    let (r, ev) = run(&e, &s, json!({}), json!({}));
    r.unwrap_or_else(|e| panic!("{e}\n{}", output(&ev)));
    assert_eq!(std::fs::read(app.join("w.bin")).unwrap(), body);
    let last = srv.hits("/w.bin").pop().unwrap();
    assert_eq!(
        last.headers.get("range").cloned(),
        Some(format!("bytes={}-", part.len()))
    );
}

#[test]
fn c128_fs_paths_accept_relative_absolute_tilde_and_git_uri_forms() {
    let home = Home::new();
    let clone = home.app("some_clone");
    git_repo_with_origin(&clone, "https://github.com/Owner/Repo.git");
    let abs = home.path().join("elsewhere/abs.txt");
    run_js(
        &home,
        "a",
        &format!(
            r#"module.exports = {{ run: [
      {{ method: "fs.write", params: {{ path: "rel/r.txt", text: "rel" }} }},
      {{ method: "fs.write", params: {{ path: "{}", text: "abs" }} }},
      {{ method: "fs.write", params: {{ path: "~/api/other/t.txt", text: "tilde" }} }},
      {{ method: "fs.write", params: {{ path: "https://github.com/owner/repo.git/sub/g.txt", text: "git" }} }},
      {{ method: "fs.copy", params: {{ src: "https://github.com/owner/repo.git/sub/g.txt", dest: "~/api/other/g2.txt" }} }},
      {{ method: "fs.read", params: {{ path: "~/api/other/g2.txt", encoding: "utf8" }} }},
      {{ method: "log", params: {{ text: "{{{{input}}}}" }} }} ] }}"#,
            abs.display()
        ),
    );
    assert_eq!(read(home.app("a").join("rel/r.txt")), "rel");
    assert_eq!(read(&abs), "abs");
    assert_eq!(read(home.path().join("api/other/t.txt")), "tilde");
    assert_eq!(read(clone.join("sub/g.txt")), "git");
    assert_eq!(read(home.path().join("api/other/g2.txt")), "git");
    // A git URI of a repository that is not cloned is a precise error.
    let s = home.write(
        "a",
        "bad.js",
        r#"module.exports = { run: [ { method: "fs.write", params: { path: "https://github.com/x/none.git/f", text: "x" } } ] }"#,
    );
    let (r, _) = run(&home.engine(), &s, json!({}), json!({}));
    let msg = r.unwrap_err().to_string();
    assert!(
        msg.contains("no app under") && msg.contains("none.git"),
        "{msg}"
    );
}

#[test]
fn c129_fs_cat_prints_the_file_and_fs_open_hands_the_path_over() {
    let home = Home::new();
    std::fs::write(home.app("a").join("notes.txt"), "line one\nline two\n").unwrap();
    let s = home.write(
        "a",
        "s.js",
        r#"module.exports = { run: [
      { method: "fs.cat", params: { path: "notes.txt" } },
      { method: "log", params: { text: "after cat: {{input == null}}" } },
      { method: "fs.open", params: { path: "notes.txt" } } ] }"#,
    );
    let host = Arc::new(Recorder {
        seen: Mutex::new(vec![]),
        wait_answer: Value::Null,
    });
    let (r, ev) = run_with_host(&home.engine(), &s, Value::Null, host.clone());
    r.unwrap();
    assert!(
        output(&ev).contains("line one\r\nline two\r\n"),
        "{}",
        output(&ev)
    );
    assert_eq!(logs(&ev), ["after cat: true"]);
    let seen = host.seen.lock().unwrap();
    let want = home.app("a").join("notes.txt");
    assert!(
        seen.iter().any(|i| matches!(i, Interaction::Open { url, .. } if *url == format!("file://{}", want.display()))),
        "{seen:?}"
    );
}
