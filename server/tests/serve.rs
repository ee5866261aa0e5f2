//! The real `pinokiocloud serve` binary: start-up, pages, and bad input.

mod support;

use support::{serve, serve_fails};

#[test]
fn serves_the_catalog_with_every_app_and_creates_the_database() {
    let home = tempfile::tempdir().unwrap();
    let server = serve(home.path(), &[]);
    let (status, body) = server.get("/");
    assert_eq!(status, 200);
    assert!(body.contains("284 apps"), "count missing");
    // The first screens of cards; the browser adds the rest once live.
    assert_eq!(body.matches("class=\"card\"").count(), 24);
    assert!(body.contains("260 more apps are on their way"));
    // Every app is still found by a search rendered on the server.
    let (_, found) = server.get("/?q=ComfyDock");
    assert!(found.contains("ComfyDock-Pinokio"));
    assert!(!found.contains("more apps are on their way"));
    assert!(home.path().join("pinokiocloud.db").is_file());
    let (status, body) = server.get("/healthz");
    assert_eq!((status, body.as_str()), (200, "ok"));
}

#[test]
fn search_in_the_url_is_rendered_on_the_server() {
    let home = tempfile::tempdir().unwrap();
    let server = serve(home.path(), &[]);
    let (status, body) = server.get("/?q=comfy&cat=IMAGE");
    assert_eq!(status, 200);
    let cards = body.matches("class=\"card\"").count();
    assert!(cards > 0 && cards < 284, "{cards} cards");
    assert!(body.contains(&format!("{cards} apps")) || (cards == 1 && body.contains("1 app")));
    assert!(
        !body.contains("ComfyDock-Pinokio"),
        "a UTILITY app leaked into IMAGE"
    );
}

#[test]
fn app_detail_page_and_404_for_unknown_ids() {
    let home = tempfile::tempdir().unwrap();
    let server = serve(home.path(), &[]);
    let (status, body) = server.get("/apps/comfyui");
    assert_eq!(status, 200);
    assert!(body.contains("<h1>comfyui</h1>"), "detail name missing");
    assert!(body.contains("View repository"));
    let (status, body) = server.get("/apps/no-such-app");
    assert_eq!(status, 404);
    assert!(body.contains("Not found"));
    let (status, _) = server.get("/no/such/page");
    assert_eq!(status, 404);
}

#[test]
fn port_in_use_is_a_clear_error_naming_the_port() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let home = tempfile::tempdir().unwrap();
    let err = serve_fails(&["--home", home.path().to_str().unwrap(), "--port", &port]);
    assert!(err.contains(&format!("port {port}")), "{err}");
    assert!(err.contains("--port"), "{err}");
}

#[test]
fn unwritable_home_is_a_clear_error_naming_the_path() {
    // A path below a regular file can never be created, even by root.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-folder");
    std::fs::write(&file, "x").unwrap();
    let home = file.join("home");
    let err = serve_fails(&["--home", home.to_str().unwrap(), "--port", "0"]);
    assert!(err.contains(home.to_str().unwrap()), "{err}");
    assert!(err.contains("--home"), "{err}");
}

#[test]
fn corrupt_database_is_refused_and_left_as_it_was() {
    let home = tempfile::tempdir().unwrap();
    let db = home.path().join("pinokiocloud.db");
    let garbage = b"not a database, but maybe someone's only copy".repeat(100);
    std::fs::write(&db, &garbage).unwrap();
    let err = serve_fails(&["--home", home.path().to_str().unwrap(), "--port", "0"]);
    assert!(err.contains(db.to_str().unwrap()), "{err}");
    assert!(err.contains("left untouched"), "{err}");
    assert_eq!(std::fs::read(&db).unwrap(), garbage);
}

#[test]
fn missing_site_folder_is_a_clear_error() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path().to_str().unwrap();
    let err = serve_fails(&["--home", home, "--port", "0", "--site", "/nonexistent/site"]);
    assert!(err.contains("--site /nonexistent/site"), "{err}");
    assert!(err.contains("make build"), "{err}");
}

/// The `nonce` Leptos puts in each render: the same one twice means the
/// second page came from the cache.
fn render_id(page: &str) -> String {
    let at = page.find("nonce=\"").expect("no nonce in the page") + 7;
    page[at..at + page[at..].find('"').unwrap()].to_string()
}

#[test]
fn the_catalog_is_rendered_once_per_role_and_never_served_to_another_role() {
    let home = tempfile::tempdir().unwrap();
    let server = serve(home.path(), &[]);
    let get = |creds: &support::Creds, path: &str| {
        let reply = support::request("GET", &format!("{}{path}", server.url), creds, None);
        assert_eq!(reply.status, 200, "{path}");
        reply.body
    };
    let admin = server.admin();
    let first = get(&admin, "/");
    assert!(first.contains(r#"<span data-role="admin""#));
    // The same page again is the kept render.
    assert_eq!(render_id(&get(&admin, "/")), render_id(&first));

    // Another role gets a page of its own, never the admin's.
    let viewer = server.session_as("viewer");
    let seen = get(&viewer, "/");
    assert!(
        seen.contains(r#"<span data-role="viewer""#),
        "a viewer got another role's page"
    );
    assert!(!seen.contains(r#"<span data-role="admin""#));
    assert!(!seen.contains(r#"href="/settings""#));
    assert_ne!(render_id(&seen), render_id(&first));
    // A search is a page of its own too.
    let searched = get(&admin, "/?q=comfy");
    assert_ne!(render_id(&searched), render_id(&first));
    assert!(searched.matches("class=\"card\"").count() < 284);

    // A page that is never kept (System shows the machine as it is now) is
    // rendered every time.
    assert_ne!(
        render_id(&get(&admin, "/system")),
        render_id(&get(&admin, "/system"))
    );
}

#[test]
fn my_apps_and_running_are_kept_until_an_app_event_and_never_served_to_another_role() {
    let home = tempfile::tempdir().unwrap();
    for app in ["demo", "other"] {
        let dir = home.path().join("api").join(app);
        std::fs::create_dir_all(&dir).unwrap();
        let script = r#"{"run":[{"method":"shell.run","params":{"message":"sleep 600"}}]}"#;
        std::fs::write(dir.join("start.json"), script).unwrap();
    }
    // Only events renew the pages here, however slow the machine.
    let server = support::serve_with_env(
        home.path(),
        &[],
        &[("PINOKIOCLOUD_LIVE_PAGE_TTL_MS", "3600000".to_string())],
    );
    let get = |creds: &support::Creds, path: &str| {
        let reply = support::request("GET", &format!("{}{path}", server.url), creds, None);
        assert_eq!(reply.status, 200, "{path}");
        reply.body
    };
    let (admin, viewer) = (server.admin(), server.session_as("viewer"));

    let my = get(&admin, "/my");
    assert!(my.contains(r#"data-installed="demo""#), "{my}");
    assert!(
        my.contains(r#"<form class="install-form""#),
        "the admin can install"
    );
    assert!(!my.contains("badge running"));
    assert_eq!(render_id(&get(&admin, "/my")), render_id(&my), "not kept");
    let running = get(&admin, "/running");
    assert!(running.contains("Nothing is running."));
    assert_eq!(render_id(&get(&admin, "/running")), render_id(&running));

    // A viewer gets a page of their own, never the admin's.
    let seen = get(&viewer, "/my");
    assert_ne!(render_id(&seen), render_id(&my));
    assert!(seen.contains(r#"<span data-role="viewer""#));
    assert!(!seen.contains(r#"<span data-role="admin""#));
    assert!(
        !seen.contains(r#"<form class="install-form""#),
        "a viewer got the admin's page"
    );
    assert_eq!(render_id(&get(&viewer, "/my")), render_id(&seen));

    // An app event (a run starts): the next request renders afresh.
    let run = server
        .call("/api/op/start_script", "app=demo&script=start.json")
        .as_i64()
        .unwrap();
    let my_after = get(&admin, "/my");
    assert_ne!(render_id(&my_after), render_id(&my), "stale after an event");
    assert!(my_after.contains("badge running"), "{my_after}");
    assert_eq!(render_id(&get(&admin, "/my")), render_id(&my_after));
    let running_after = get(&admin, "/running");
    assert_ne!(render_id(&running_after), render_id(&running));
    assert!(running_after.contains(&format!(r#"data-run="{run}""#)));
    let seen_after = get(&viewer, "/my");
    assert_ne!(render_id(&seen_after), render_id(&seen));
    assert!(seen_after.contains("badge running"));
    assert!(!seen_after.contains(r#"<form class="install-form""#));
    assert_ne!(render_id(&seen_after), render_id(&my_after));

    // Another event (a rename): the list reads the new name at once.
    server.call("/api/admin/rename_app", "name=other&to=renamed");
    let renamed = get(&admin, "/my");
    assert!(renamed.contains(r#"data-installed="renamed""#), "{renamed}");
    assert!(!renamed.contains(r#"data-installed="other""#));
    let seen_renamed = get(&viewer, "/my");
    assert!(seen_renamed.contains(r#"data-installed="renamed""#));
    assert!(!seen_renamed.contains(r#"<form class="install-form""#));

    let stopped = support::request(
        "POST",
        &format!("{}/api/op/apps/demo/stop", server.url),
        &admin,
        None,
    );
    assert_eq!(stopped.status, 200, "{}", stopped.body);
}

/// `/pkg/<name>` accepting only `accept`: (status, headers, raw body).
fn fetch_asset(
    server: &support::Server,
    name: &str,
    accept: &str,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    fetch_asset_if(server, name, accept, None)
}

/// `fetch_asset` with `If-None-Match: etag` when given.
fn fetch_asset_if(
    server: &support::Server,
    name: &str,
    accept: &str,
    etag: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut req = reqwest::Client::new()
            .get(format!("{}/pkg/{name}", server.url))
            .header("accept-encoding", accept);
        if let Some(etag) = etag {
            req = req.header("if-none-match", etag);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        (status, headers, r.bytes().await.unwrap().to_vec())
    })
}

fn unbrotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::BrotliDecompress(&mut &bytes[..], &mut out).unwrap();
    out
}

#[test]
fn the_bundle_is_sent_precompressed_at_brotli_best_and_never_stale() {
    let home = tempfile::tempdir().unwrap();
    let site = tempfile::tempdir().unwrap();
    let pkg = site.path().join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    let js: String = (0..4000)
        .map(|i| {
            format!(
                "export function f{i}(x) {{ return x * {i} + {}; }}\n",
                i % 7
            )
        })
        .collect();
    std::fs::write(pkg.join("pinokiocloud.js"), &js).unwrap();
    let server = serve(home.path(), &["--site", site.path().to_str().unwrap()]);
    // The first answers go through the ordinary, cheap compression; once
    // the best one is ready it is sent with an ETag to revalidate against.
    let mut cheap = None;
    let mut precompressed = None;
    for _ in 0..100 {
        let (status, headers, body) = fetch_asset(&server, "pinokiocloud.js", "gzip, br");
        assert_eq!(status, 200);
        assert_eq!(headers["content-encoding"], "br");
        assert_eq!(unbrotli(&body), js.as_bytes());
        if let Some(etag) = headers.get("etag") {
            assert_eq!(headers["content-type"], "text/javascript");
            assert_eq!(headers["cache-control"], "no-cache");
            precompressed = Some((body.len(), etag.to_str().unwrap().to_string()));
            break;
        }
        cheap = Some(body.len());
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let (best, etag) = precompressed.expect("never sent precompressed");
    let cheap = cheap.expect("the first answer was already the best one");
    assert!(best < cheap, "best {best} bytes, cheap {cheap} bytes");
    // A browser that has it gets a 304 and no body.
    let (status, headers, body) =
        fetch_asset_if(&server, "pinokiocloud.js", "gzip, br", Some(&etag));
    assert_eq!((status, body.len()), (304, 0));
    assert_eq!(headers["etag"], etag.as_str());
    // Clients without brotli get what they accept.
    let (_, headers, _) = fetch_asset(&server, "pinokiocloud.js", "gzip");
    assert_eq!(headers["content-encoding"], "gzip");

    // A rebuilt bundle is never answered with the old bytes.
    let rebuilt = js.replace("return x", "return -x");
    std::fs::write(pkg.join("pinokiocloud.js"), &rebuilt).unwrap();
    for _ in 0..5 {
        let (status, _, body) = fetch_asset_if(&server, "pinokiocloud.js", "br", Some(&etag));
        assert_eq!(status, 200, "the old copy's ETag still matched");
        assert_eq!(unbrotli(&body), rebuilt.as_bytes());
    }
}
