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
    assert_eq!(body.matches("class=\"card\"").count(), 284);
    assert!(body.contains("ComfyDock-Pinokio"));
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
    assert!(first.contains(r#"data-role="admin""#));
    // The same page again is the kept render.
    assert_eq!(render_id(&get(&admin, "/")), render_id(&first));

    // Another role gets a page of its own, never the admin's.
    let viewer = server.session_as("viewer");
    let seen = get(&viewer, "/");
    assert!(
        seen.contains(r#"data-role="viewer""#),
        "a viewer got another role's page"
    );
    assert!(!seen.contains(r#"data-role="admin""#));
    assert!(!seen.contains(r#"href="/settings""#));
    assert_ne!(render_id(&seen), render_id(&first));
    // A search is a page of its own too.
    let searched = get(&admin, "/?q=comfy");
    assert_ne!(render_id(&searched), render_id(&first));
    assert!(searched.matches("class=\"card\"").count() < 284);

    // Pages with live state are rendered every time.
    assert_ne!(
        render_id(&get(&admin, "/my")),
        render_id(&get(&admin, "/my"))
    );
}
