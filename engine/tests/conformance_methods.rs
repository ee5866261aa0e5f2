//! Conformance of the non-shell methods (spec §4.3–§4.9, checklist C-120 …
//! C-151 except C-127). Offline: downloads and requests go to a local HTTP
//! server, git repositories are local `file://` ones, `hf` is a fake
//! executable in `HOME/bin`.
mod common;
#[path = "common/http.rs"]
mod http;

use std::path::Path;
use std::sync::{Arc, Mutex};

use common::*;
use engine::{Host, Interaction, RunOptions};
use http::{Route, Server};
use serde_json::{json, Value};

/// Runs `text` as `<app>/s.js`; panics with the output on failure.
fn run_js(home: &Home, app: &str, text: &str) -> Vec<engine::Event> {
    let s = home.write(app, "s.js", text);
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    r.unwrap_or_else(|e| panic!("{e}\n{}", output(&ev)));
    ev
}

fn read(p: impl AsRef<Path>) -> String {
    std::fs::read_to_string(p.as_ref())
        .unwrap_or_else(|e| panic!("{}: {e}", p.as_ref().display()))
}

/// Records every host interaction and answers `Wait` with `wait_answer`.
struct Recorder {
    seen: Mutex<Vec<Interaction>>,
    wait_answer: Value,
}
impl Host for Recorder {
    fn interact(&self, w: &Interaction) -> Result<Value, String> {
        self.seen.lock().unwrap().push(w.clone());
        Ok(match w {
            Interaction::Wait { .. } => self.wait_answer.clone(),
            Interaction::Proxy { .. } => json!({ "proxy": "https://share.example/x" }),
            _ => Value::Null,
        })
    }
}

fn run_with_host(
    home: &Home,
    script: &Path,
    wait_answer: Value,
) -> (Result<Value, engine::EngineError>, Vec<Interaction>) {
    let host = Arc::new(Recorder {
        seen: Mutex::new(vec![]),
        wait_answer,
    });
    let h = home
        .engine()
        .start(
            script,
            RunOptions {
                host: host.clone(),
                ..Default::default()
            },
        )
        .unwrap();
    let r = h.wait();
    let seen = host.seen.lock().unwrap().clone();
    (r, seen)
}

// ------------------------------------------------------------------ fs --

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
    assert_eq!(read(app.join("deep/er/one.json")), r#"{"z":1,"a":[1,2],"m":{"k":"v"}}"#);
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
    assert_eq!(read(app.join("models/model v2.safetensors")), "named by header");
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
        .filter(|s| !s.headers.get("range").is_some_and(|r| r == "bytes=0-0"))
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
    let hits = srv.hits("/big.bin");
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
    let git = |args: &[&str]| {
        let st = std::process::Command::new("git")
            .args(args)
            .current_dir(&clone)
            .output()
            .unwrap();
        assert!(st.status.success(), "{st:?}");
    };
    git(&["init", "-q"]);
    git(&[
        "remote",
        "add",
        "origin",
        "https://github.com/Owner/Repo.git",
    ]);
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
    let (sink, mut rx) = engine::channel();
    let host = Arc::new(Recorder {
        seen: Mutex::new(vec![]),
        wait_answer: Value::Null,
    });
    let h = home
        .engine()
        .start(
            &s,
            RunOptions {
                host: host.clone(),
                events: sink,
                ..Default::default()
            },
        )
        .unwrap();
    h.wait().unwrap();
    let mut ev = vec![];
    while let Ok(e) = rx.try_recv() {
        ev.push(e);
    }
    assert!(output(&ev).contains("line one\r\nline two\r\n"), "{}", output(&ev));
    assert_eq!(logs(&ev), ["after cat: true"]);
    let seen = host.seen.lock().unwrap();
    let want = home.app("a").join("notes.txt");
    assert!(
        seen.iter().any(|i| matches!(i, Interaction::Open { url, .. } if *url == format!("file://{}", want.display()))),
        "{seen:?}"
    );
}

// -------------------------------------------------------------- memory --

#[test]
fn c130_local_set_nests_dotted_keys_and_its_result_is_undefined() {
    let home = Home::new();
    let ev = run_js(
        &home,
        "a",
        r#"module.exports = { run: [
      { method: "local.set", params: { "a.b": 1, "list": [], "list[1]": "x", plain: "p" } },
      { method: "log", params: { text: "{{JSON.stringify(local)}} input={{input === null}}" } },
      { method: "local.rm", params: ["a.b", "plain"] },
      { method: "log", params: { text: "{{JSON.stringify(local)}}" } } ] }"#,
    );
    assert_eq!(
        logs(&ev),
        [
            r#"{"a":{"b":1},"list":[null,"x"],"plain":"p"} input=true"#,
            r#"{"a":{},"list":[null,"x"]}"#
        ]
    );
}

#[test]
fn c131_json_set_indexes_arrays_keeps_key_order_and_json_rm_removes_elements() {
    let home = Home::new();
    let app = home.app("a");
    std::fs::write(
        app.join("cfg.json"),
        r#"{"zeta": 1, "alpha": {"list": [10, 20, 30]}, "mid": true}"#,
    )
    .unwrap();
    run_js(
        &home,
        "a",
        r#"module.exports = { run: [
      { method: "json.set", params: { "cfg.json": { "alpha.list.1": 21, "new.deep": "d", "arr.0.name": "first" } } },
      { method: "json.rm", params: { "cfg.json": ["alpha.list.0", "mid"] } },
      { method: "json.set", params: { "fresh/new.json": { "b": 1, "a": 2 } } } ] }"#,
    );
    assert_eq!(
        read(app.join("cfg.json")),
        r#"{
  "zeta": 1,
  "alpha": {
    "list": [
      21,
      30
    ]
  },
  "new": {
    "deep": "d"
  },
  "arr": [
    {
      "name": "first"
    }
  ]
}"#
    );
    assert_eq!(read(app.join("fresh/new.json")), "{\n  \"b\": 1,\n  \"a\": 2\n}");
}

#[test]
fn c132_json_get_puts_the_parsed_file_in_local() {
    let home = Home::new();
    std::fs::write(home.app("a").join("cfg.json"), r#"{"port": 7860, "names": ["x"]}"#).unwrap();
    let ev = run_js(
        &home,
        "a",
        r#"module.exports = { run: [
      { method: "json.get", params: { cfg: "cfg.json" } },
      { method: "log", params: { text: "{{local.cfg.port}} {{local.cfg.names[0]}} {{input === null}}" } } ] }"#,
    );
    assert_eq!(logs(&ev), ["7860 x true"]);
}

#[test]
fn c133_self_set_and_self_rm_edit_json_files_next_to_the_script() {
    let home = Home::new();
    let app = home.app("a");
    home.write(
        "a",
        "sub/s.js",
        r#"module.exports = { run: [
      { method: "self.set", params: { "s.json": { "keep": 1, "drop": 2, "l": [1, 2, 3] } } },
      { method: "self.rm", params: { "s.json": ["drop", "l.2"] } } ] }"#,
    );
    let (r, ev) = run(&home.engine(), &app.join("sub/s.js"), json!({}), json!({}));
    r.unwrap_or_else(|e| panic!("{e}\n{}", output(&ev)));
    let v: Value = serde_json::from_str(&read(app.join("sub/s.json"))).unwrap();
    assert_eq!(v, json!({ "keep": 1, "l": [1, 2] }));
}

#[test]
fn c134_setting_the_share_variable_with_share_env_publishes_the_url() {
    let home = Home::new();
    home.write(
        "a",
        "ENVIRONMENT",
        "PINOKIO_SHARE_CLOUDFLARE=true\nPINOKIO_SHARE_PASSCODE=secret\n",
    );
    let s = home.write(
        "a",
        "s.js",
        r#"module.exports = { run: [
      { method: "local.set", params: { other: 1 } },
      { method: "local.set", params: { url: "http://127.0.0.1:7860" } },
      { method: "log", params: { text: "{{local.$share.proxy}}" } } ] }"#,
    );
    let (sink, mut rx) = engine::channel();
    let host = Arc::new(Recorder {
        seen: Mutex::new(vec![]),
        wait_answer: Value::Null,
    });
    let h = home
        .engine()
        .start(
            &s,
            RunOptions {
                host: host.clone(),
                events: sink,
                ..Default::default()
            },
        )
        .unwrap();
    h.wait().unwrap();
    let seen = host.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let Interaction::Proxy { params, .. } = &seen[0] else {
        panic!("{seen:?}")
    };
    assert_eq!(params["uri"], "http://127.0.0.1:7860");
    assert_eq!(params["share"]["cloudflare"], true);
    assert_eq!(params["share"]["passcode"], "secret");
    let mut ev = vec![];
    while let Ok(e) = rx.try_recv() {
        ev.push(e);
    }
    assert_eq!(logs(&ev), ["https://share.example/x"]);
    // Without the share variables nothing is published.
    let home2 = Home::new();
    let s2 = home2.write(
        "a",
        "s.js",
        r#"module.exports = { run: [ { method: "local.set", params: { url: "http://127.0.0.1:1" } } ] }"#,
    );
    let (r, seen) = run_with_host(&home2, &s2, Value::Null);
    r.unwrap();
    assert!(seen.is_empty(), "{seen:?}");
}

// ------------------------------------------------------------- scripts --

/// A launcher repository at `<dir>/launcher.git` with `main` and `dev`
/// branches; returns (its path, the first commit's hash).
fn launcher_repo(dir: &Path) -> (std::path::PathBuf, String) {
    let repo = dir.join("launcher.git");
    std::fs::create_dir_all(&repo).unwrap();
    let git = |args: &[&str]| {
        let o = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"])
            .args(args)
            .current_dir(&repo)
            .output()
            .unwrap();
        assert!(o.status.success(), "git {args:?}: {o:?}");
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    let start = |v: &str| {
        format!(r#"module.exports = {{ run: [ {{ method: "log", params: {{ text: "{v} {{{{args.who}}}}" }} }} ] }}"#)
    };
    git(&["init", "-q", "-b", "main"]);
    std::fs::write(repo.join("start.js"), start("v1")).unwrap();
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "v1"]);
    let first = git(&["rev-parse", "HEAD"]);
    std::fs::write(repo.join("start.js"), start("v2")).unwrap();
    git(&["commit", "-q", "-am", "v2"]);
    git(&["switch", "-q", "-c", "dev"]);
    std::fs::write(repo.join("start.js"), start("dev")).unwrap();
    git(&["commit", "-q", "-am", "dev"]);
    git(&["switch", "-q", "main"]);
    (repo, first)
}

#[test]
fn c138_script_download_clones_into_home_api_and_honours_branch_and_hash() {
    let home = Home::new();
    let src = tempfile::tempdir().unwrap();
    let (repo, first) = launcher_repo(src.path());
    let uri = format!("file://{}", repo.display());
    let folder = engine::paths::clone_folder_name(&uri);
    let clone = home.path().join("api").join(&folder);
    assert!(folder.ends_with("_launcher_git") && !folder.contains('/'), "{folder}");
    for (i, (extra, want)) in [
        ("", "v2"),
        (r#", branch: "dev""#, "dev"),
        (&*format!(r#", hash: "{first}""#), "v1"),
        (r#", branch: "main", pull: true"#, "v2"),
    ]
    .into_iter()
    .enumerate()
    {
        // The file part of the URI is optional for script.download.
        let sub = if i == 0 { "/start.js" } else { "" };
        run_js(
            &home,
            "a",
            &format!(
                r#"module.exports = {{ run: [ {{ method: "script.download", params: {{ uri: "{uri}{sub}"{extra} }} }} ] }}"#
            ),
        );
        let text = read(clone.join("start.js"));
        assert!(text.contains(&format!("text: \"{want} ")), "step {i}: {text}");
    }
    // Only one clone: later downloads found it by its origin.
    let clones = std::fs::read_dir(home.path().join("api"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().join(".git").exists())
        .count();
    assert_eq!(clones, 1);
}

#[test]
fn c138_script_start_of_a_git_uri_clones_then_runs_the_file() {
    let home = Home::new();
    let src = tempfile::tempdir().unwrap();
    let (repo, _) = launcher_repo(src.path());
    let ev = run_js(
        &home,
        "a",
        &format!(
            r#"module.exports = {{ run: [
      {{ method: "script.start", params: {{ uri: "file://{}/start.js", branch: "dev", params: {{ who: "remote" }} }} }} ] }}"#,
            repo.display()
        ),
    );
    assert_eq!(logs(&ev), ["dev remote"]);
}

#[test]
fn c139_script_return_sets_the_result_and_the_script_goes_on() {
    let home = Home::new();
    home.write(
        "a",
        "child.js",
        r#"module.exports = { run: [
      { method: "script.return", params: { answer: 42 } },
      { method: "log", params: { text: "child continues with {{input.answer}}" } },
      { method: "script.return", params: { answer: "{{input.text}}" } } ] }"#,
    );
    let ev = run_js(
        &home,
        "a",
        r#"module.exports = { run: [
      { method: "script.start", params: { uri: "child.js" } },
      { method: "log", params: { text: "caller got {{input.answer}}" } } ] }"#,
    );
    assert_eq!(
        logs(&ev),
        ["child continues with 42", "caller got child continues with 42"]
    );
}

#[test]
fn c141_script_stop_takes_an_array_of_uris_and_ignores_relative_ones() {
    let home = Home::new();
    let daemon = r#"module.exports = { daemon: true, run: [
      { method: "shell.run", params: { message: "echo up; sleep 1000", on: [{ event: "/up/", done: true }] } } ] }"#;
    let d1 = home.write("a", "d1.js", daemon);
    let d2 = home.write("a", "d2.js", daemon);
    let e = home.engine();
    let h1 = e.start(&d1, RunOptions::default()).unwrap();
    let h2 = e.start(&d2, RunOptions::default()).unwrap();
    assert!(wait_until(|| e.is_running(&d1) && e.is_running(&d2), 20));
    // Relative: ignored as in Pinokio, with a warning.
    let s = home.write(
        "a",
        "stop_rel.js",
        r#"module.exports = { run: [ { method: "script.stop", params: { uri: "d1.js" } } ] }"#,
    );
    let (r, ev) = run(&e, &s, json!({}), json!({}));
    r.unwrap();
    assert!(logs(&ev).iter().any(|l| l.contains("is relative")));
    assert!(e.is_running(&d1));
    let s = home.write(
        "a",
        "stop.js",
        &format!(
            r#"module.exports = {{ run: [ {{ method: "script.stop", params: {{ uri: ["{}", "~/api/a/d2.js"] }} }} ] }}"#,
            d1.display()
        ),
    );
    let (r, _) = run(&e, &s, json!({}), json!({}));
    r.unwrap();
    assert!(wait_until(|| h1.is_finished() && h2.is_finished(), 20));
    assert!(!e.is_running(&d1) && !e.is_running(&d2));
}

#[test]
fn c141_script_restart_of_itself_starts_over_with_its_args_and_empty_local() {
    let home = Home::new();
    let s = home.write(
        "a",
        "s.js",
        r#"module.exports = { run: [
      { method: "log", params: { text: "n={{args.n}} first={{local.first || 'none'}}" } },
      { when: "{{!exists('m')}}", method: "local.set", params: { first: true } },
      { method: "fs.write", params: { path: "m", text: "x" } },
      { when: "{{local.first === true}}", method: "script.restart" },
      { method: "log", params: { text: "end" } } ] }"#,
    );
    let (r, ev) = run(&home.engine(), &s, json!({ "n": 7 }), json!({}));
    r.unwrap_or_else(|e| panic!("{e}\n{}", output(&ev)));
    let l: Vec<String> = logs(&ev)
        .into_iter()
        .filter(|l| !l.starts_with("[pinokio]"))
        .collect();
    assert_eq!(l, ["n=7 first=none", "n=7 first=none", "end"]);
}

#[test]
fn c141_script_restart_of_another_script_stops_and_starts_it_with_params() {
    let home = Home::new();
    let d = home.write(
        "a",
        "d.js",
        r#"module.exports = { daemon: true, run: [
      { method: "fs.write", params: { path: "started-{{args.v || 'first'}}", text: "x" } },
      { method: "shell.run", params: { message: "echo up; sleep 1000", on: [{ event: "/up/", done: true }] } } ] }"#,
    );
    let e = home.engine();
    let h = e.start(&d, RunOptions::default()).unwrap();
    assert!(wait_until(|| e.is_running(&d), 20));
    let s = home.write(
        "a",
        "s.js",
        &format!(
            r#"module.exports = {{ run: [
      {{ method: "script.restart", params: {{ uri: "{}", params: {{ v: "second" }} }} }},
      {{ method: "log", params: {{ text: "{{{{input.scheduled}}}} {{{{input.self}}}}" }} }} ] }}"#,
            d.display()
        ),
    );
    let (r, ev) = run(&e, &s, json!({}), json!({}));
    r.unwrap();
    assert_eq!(logs(&ev), ["true false"]);
    assert!(wait_until(|| h.is_finished(), 20), "the old run was not stopped");
    let app = home.app("a");
    assert!(wait_until(|| app.join("started-second").exists() && e.is_running(&d), 20));
    e.stop(&d);
    assert!(wait_until(|| !e.is_running(&d), 20));
}

// --------------------------------------------------------------- other --

#[test]
fn c144_log_prints_json_on_one_line_and_json2_indented() {
    let home = Home::new();
    let ev = run_js(
        &home,
        "a",
        r#"module.exports = { run: [
      { method: "log", params: { raw: "raw  text" } },
      { method: "log", params: { json: { z: 1, a: [1, 2] } } },
      { method: "log", params: { json2: { z: 1, a: { b: 2 } } } } ] }"#,
    );
    assert_eq!(
        logs(&ev),
        [
            "raw  text",
            r#"{"z":1,"a":[1,2]}"#,
            "{\n  \"z\": 1,\n  \"a\": {\n    \"b\": 2\n  }\n}"
        ]
    );
}

#[test]
fn c145_net_sends_object_data_as_json_and_parses_json_answers() {
    let srv = Server::start();
    srv.route(
        "/fail",
        Route {
            status: Some(500),
            body: b"boom".to_vec(),
            ..Default::default()
        },
    );
    let home = Home::new();
    let ev = run_js(
        &home,
        "a",
        &format!(
            r#"module.exports = {{ run: [
      {{ method: "net", params: {{ url: "{0}", method: "post", data: {{ prompt: "hi", n: 2 }}, params: {{ q: "a b" }} }} }},
      {{ method: "log", params: {{ text: "{{{{input.method}}}} {{{{input.content_type}}}} {{{{input.body}}}} {{{{input.query}}}}" }} }},
      {{ method: "net", params: {{ url: "{0}", method: "post", data: "raw=1", headers: {{ "Content-Type": "text/plain" }} }} }},
      {{ method: "log", params: {{ text: "{{{{input.content_type}}}} {{{{input.body}}}}" }} }} ] }}"#,
            srv.url("/echo")
        ),
    );
    assert_eq!(
        logs(&ev),
        [
            r#"POST application/json {"prompt":"hi","n":2} q=a%20b"#,
            "text/plain raw=1"
        ]
    );
    let s = home.write(
        "a",
        "fail.js",
        &format!(
            r#"module.exports = {{ run: [ {{ method: "net", params: {{ url: "{}" }} }} ] }}"#,
            srv.url("/fail")
        ),
    );
    let (r, _) = run(&home.engine(), &s, json!({}), json!({}));
    let msg = r.unwrap_err().to_string();
    assert!(msg.contains("status code 500"), "{msg}");
}

#[test]
fn c146_process_wait_polls_a_url_until_it_answers() {
    let srv = Server::start();
    srv.route(
        "/ready",
        Route {
            body: b"ok".to_vec(),
            fail_first: 3,
            ..Default::default()
        },
    );
    let home = Home::new();
    let s = home.write(
        "a",
        "s.js",
        &format!(
            r#"module.exports = {{ run: [
      {{ method: "process.wait", params: {{ uri: "{}", interval: 0.1, message: "waiting for the server" }} }},
      {{ method: "log", params: {{ text: "ready" }} }} ] }}"#,
            srv.url("/ready")
        ),
    );
    let (r, seen) = run_with_host(&home, &s, Value::Null);
    r.unwrap();
    assert_eq!(srv.hits("/ready").len(), 4);
    assert!(seen.is_empty(), "a url wait must not ask the host: {seen:?}");
}

#[test]
fn c146_process_wait_on_resources_waits_for_a_file_and_times_out_clearly() {
    let home = Home::new();
    let app = home.app("a");
    let s = home.write(
        "a",
        "s.js",
        r#"module.exports = { run: [
      { method: "process.wait", params: { on: { resources: ["flag.txt"], interval: 20 } } },
      { method: "log", params: { text: "flag seen" } } ] }"#,
    );
    let e = home.engine();
    let (sink, mut rx) = engine::channel();
    let h = e
        .start(
            &s,
            RunOptions {
                events: sink,
                ..Default::default()
            },
        )
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(!h.is_finished(), "did not wait for the file");
    std::fs::write(app.join("flag.txt"), "x").unwrap();
    h.wait().unwrap();
    let mut ev = vec![];
    while let Ok(x) = rx.try_recv() {
        ev.push(x);
    }
    assert_eq!(logs(&ev), ["flag seen"]);
    let t = home.write(
        "a",
        "t.js",
        r#"module.exports = { run: [ { method: "process.wait", params: { on: { resources: ["tcp:127.0.0.1:1"], timeout: 200 } } } ] }"#,
    );
    let (r, _) = run(&e, &t, json!({}), json!({}));
    let msg = r.unwrap_err().to_string();
    assert!(msg.contains("timed out waiting for tcp:127.0.0.1:1"), "{msg}");
}

#[test]
fn c147_web_open_keeps_urls_and_maps_file_paths() {
    let home = Home::new();
    let s = home.write(
        "a",
        "s.js",
        r#"module.exports = { run: [
      { method: "web.open", params: { uri: "http://127.0.0.1:7860/x" } },
      { method: "web.open", params: { uri: "outputs/index.html" } },
      { method: "web.open", params: { uri: "~/api/a/readme.md" } },
      { method: "uri.open", params: { uri: "vscode://open", params: { path: "/a b" } } },
      { method: "browser.open", params: { uri: "https://example.com" } } ] }"#,
    );
    let (r, seen) = run_with_host(&home, &s, Value::Null);
    r.unwrap();
    let urls: Vec<String> = seen
        .iter()
        .filter_map(|i| match i {
            Interaction::Open { url, .. } => Some(url.clone()),
            _ => None,
        })
        .collect();
    let app = home.app("a");
    assert_eq!(
        urls,
        [
            "http://127.0.0.1:7860/x".to_string(),
            format!("file://{}", app.join("outputs/index.html").display()),
            format!("file://{}", app.join("readme.md").display()),
            "vscode://open?path=%2Fa%20b".to_string(),
            "https://example.com".to_string(),
        ]
    );
}

/// A fake CLI in `HOME/bin` that records its arguments and folder.
fn fake_cli(home: &Home, name: &str) {
    let bin = home.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let p = bin.join(name);
    std::fs::write(
        &p,
        format!(
            "#!/bin/sh\nprintf '%s|' \"{name}\" \"$@\" > \"{}/calls.txt\"\npwd >> \"{}/calls.txt\"\n",
            home.path().display(),
            home.path().display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// An `hf.download` step whose PATH holds only `HOME/bin` and the system's.
fn hf_step(home: &Home) -> String {
    format!(
        r#"module.exports = {{ run: [ {{ method: "hf.download", params: {{
  path: "app/models", env: {{ PATH: "{}/bin:/usr/bin:/bin" }},
  _: ["org/model", "weights.safetensors"], "local-dir": "ckpt", quiet: true, "dry-run": false }} }} ] }}"#,
        home.path().display()
    )
}

#[test]
fn c148_hf_download_runs_hf_download_with_args_in_path() {
    let home = Home::new();
    fake_cli(&home, "hf");
    fake_cli(&home, "huggingface-cli");
    let ev = run_js(&home, "a", &hf_step(&home));
    let calls = read(home.path().join("calls.txt"));
    let app = home.app("a");
    assert_eq!(
        calls.trim_end(),
        format!(
            "hf|download|org/model|weights.safetensors|--local-dir|ckpt|--quiet|{}",
            app.join("app/models").display()
        ),
        "{}",
        output(&ev)
    );
}

#[test]
fn c148_hf_download_falls_back_to_huggingface_cli() {
    let home = Home::new();
    fake_cli(&home, "huggingface-cli");
    let ev = run_js(&home, "a", &hf_step(&home));
    let calls = read(home.path().join("calls.txt"));
    assert!(
        calls.starts_with("huggingface-cli|download|org/model|weights.safetensors|"),
        "{calls}\n{}",
        output(&ev)
    );
}

#[test]
fn c150_modal_asks_the_host_and_returns_the_answer() {
    let home = Home::new();
    let s = home.write(
        "a",
        "s.js",
        r#"module.exports = { run: [
      { method: "modal", params: { title: "Ollama", description: "Install Ollama first", buttons: ["Done"] } },
      { method: "fs.write", params: { path: "answer.json", json: "{{input}}" } } ] }"#,
    );
    let (r, seen) = run_with_host(&home, &s, json!({ "button": "Done" }));
    r.unwrap();
    assert!(matches!(&seen[..], [Interaction::Wait { params, .. }] if params["title"] == "Ollama"), "{seen:?}");
    assert_eq!(read(home.app("a").join("answer.json")), r#"{"button":"Done"}"#);
}

#[test]
fn c151_exec_runs_without_a_terminal_and_returns_stdout_stderr_error() {
    let home = Home::new();
    std::fs::create_dir_all(home.app("a").join("sub")).unwrap();
    let ev = run_js(
        &home,
        "a",
        r#"module.exports = { run: [
      { method: "exec", params: { message: "pwd; echo out; echo err >&2; [ -t 1 ] && echo tty || echo notty; echo $X", path: "sub", env: { X: "from-env" } } },
      { method: "fs.write", params: { path: "r.json", json: "{{input}}" } } ] }"#,
    );
    let v: Value = serde_json::from_str(&read(home.app("a").join("r.json"))).unwrap();
    let sub = home.app("a").join("sub");
    assert_eq!(
        v,
        json!({ "stdout": format!("{}\nout\nnotty\nfrom-env\n", sub.display()), "stderr": "err\n", "error": null }),
        "{}",
        output(&ev)
    );
    let s = home.write(
        "a",
        "f.js",
        r#"module.exports = { run: [ { method: "exec", params: { message: "echo bad >&2; exit 3" } } ] }"#,
    );
    let (r, _) = run(&home.engine(), &s, json!({}), json!({}));
    let msg = r.unwrap_err().to_string();
    assert!(msg.contains("exit code 3") && msg.contains("bad"), "{msg}");
}

#[test]
fn desktop_only_methods_become_notices_instead_of_unknown_methods() {
    let home = Home::new();
    let s = home.write(
        "a",
        "s.js",
        r#"module.exports = { run: [
      { method: "clipboard.copy", params: { text: "abc" } },
      { method: "app.launch", params: { id: "x" } },
      { method: "htmlmodal.open", params: { html: "<b>x</b>" } },
      { method: "fs.make", params: { path: "made/deep" } },
      { method: "log", params: { text: "still running" } } ] }"#,
    );
    let (r, seen) = run_with_host(&home, &s, Value::Null);
    r.unwrap();
    let notes: Vec<String> = seen
        .iter()
        .filter_map(|i| match i {
            Interaction::Notify { params, .. } => params["method"].as_str().map(String::from),
            _ => None,
        })
        .collect();
    assert_eq!(notes, ["clipboard.copy", "app.launch", "htmlmodal.open"]);
    assert!(home.app("a").join("made/deep").is_dir());
    for m in ["fs.make", "fs.cat", "self.rm", "local.rm", "script.restart", "modal", "hf.upload", "set", "rm"] {
        assert!(engine::Engine::methods().contains(&m), "{m} missing");
    }
}
