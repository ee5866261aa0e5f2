//! The front door's auth, against the real binary: every registered route is
//! denied to anonymous and under-privileged callers; login links, share links,
//! revocation, expiry, CSRF, rate limiting, password and logout.

mod support;

use serde::Deserialize;
use support::{request, serve, Creds, BIN};

#[derive(Deserialize)]
struct Route {
    method: String,
    path: String,
    access: String,
}

fn routes() -> Vec<Route> {
    let out = std::process::Command::new(BIN)
        .arg("routes")
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn rank(role: &str) -> u8 {
    match role {
        "public" => 0,
        "viewer" => 1,
        "operator" => 2,
        "admin" => 3,
        other => panic!("unknown access {other}"),
    }
}

/// A concrete URL for a route pattern (`/apps/{id}` → `/apps/x`).
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            if seg.starts_with('{') || seg.starts_with(':') {
                "x"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The test's own statement of who may use what, independent of the
/// server's policy table: the server must list and enforce exactly this.
fn expected_access(path: &str) -> &'static str {
    const PUBLIC: [&str; 4] = [
        "/login",
        "/auth/login",
        "/healthz",
        "/api/public/login_options",
    ];
    if PUBLIC.contains(&path) {
        return "public";
    }
    match path.split('/').nth(1).unwrap_or("") {
        // What the disk holds and deleting it: an admin's.
        "settings" | "storage" => "admin",
        // Opening an app signs in to its own origin: using an app is an operator's.
        "open" => "operator",
        "api" => match path.split('/').nth(2).unwrap_or("") {
            "view" => "viewer",
            "op" => "operator",
            _ => "admin",
        },
        _ => "viewer",
    }
}

fn denied(status: u16, location: &Option<String>) -> bool {
    status == 401
        || status == 403
        || (status == 303 && location.as_deref().is_some_and(|l| l.starts_with("/login")))
}

#[test]
fn every_registered_route_denies_anonymous_and_under_privileged_access() {
    let home = tempfile::tempdir().unwrap();
    let server = serve(home.path(), &[]);
    let routes = routes();
    assert!(
        routes.len() >= 10,
        "route table looks incomplete: {}",
        routes.len()
    );
    let sessions = [
        (
            "anonymous",
            0,
            Creds {
                origin: Some(server.url.clone()),
                ..Creds::default()
            },
        ),
        ("viewer", 1, server.session_as("viewer")),
        ("operator", 2, server.session_as("operator")),
        ("admin", 3, server.session_as("admin")),
    ];
    for route in &routes {
        assert_eq!(
            route.access,
            expected_access(&route.path),
            "{} {}",
            route.method,
            route.path
        );
        let url = format!("{}{}", server.url, concrete(&route.path));
        let body = (route.method != "GET").then_some("");
        for (who, level, creds) in &sessions {
            // Logging out would end the session the next routes need.
            if route.path == "/auth/logout" && *level > 0 {
                continue;
            }
            let reply = request(&route.method, &url, creds, body);
            let must_deny = *level < rank(&route.access);
            assert_eq!(
                denied(reply.status, &reply.location),
                must_deny,
                "{who} {} {} -> {} (needs {})",
                route.method,
                route.path,
                reply.status,
                route.access
            );
        }
    }
}

#[test]
fn every_server_function_declares_its_role_in_its_path() {
    for route in routes().iter().filter(|r| r.path.starts_with("/api/")) {
        let scope = route.path.split('/').nth(2).unwrap_or("");
        assert!(
            ["public", "view", "op", "admin"].contains(&scope),
            "{} has no role prefix (/api/view|op|admin|public/…)",
            route.path
        );
    }
}

#[test]
fn login_link_sets_an_http_only_cookie_and_strips_the_token() {
    let home = tempfile::tempdir().unwrap();
    let server = serve(home.path(), &[]);
    let reply = request(
        "GET",
        &format!("{}/apps/x?token={}&q=1", server.url, server.token),
        &Creds::default(),
        None,
    );
    assert_eq!(reply.status, 303);
    assert_eq!(reply.location.as_deref(), Some("/apps/x?q=1"));
    let cookie = reply.set_cookie.unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let session = Creds {
        cookie: Some(cookie.split(';').next().unwrap().into()),
        ..Creds::default()
    };
    assert_eq!(
        request("GET", &format!("{}/", server.url), &session, None).status,
        200
    );
}

#[test]
fn a_wrong_token_lands_on_the_login_page_without_detail() {
    let home = tempfile::tempdir().unwrap();
    let server = serve(home.path(), &[]);
    let reply = request(
        "GET",
        &format!("{}/?token=wrong-token-value", server.url),
        &Creds::default(),
        None,
    );
    assert_eq!(reply.status, 303);
    assert_eq!(reply.location.as_deref(), Some("/login?error=link"));
    assert!(reply.set_cookie.is_none());
    let page = request(
        "GET",
        &format!("{}/login?error=link", server.url),
        &Creds::default(),
        None,
    );
    assert_eq!(page.status, 200);
    assert!(page.body.contains("invalid or has expired"));
    assert!(!page.body.contains("wrong-token-value"));
    // Pages without a session send people to the login page; APIs answer 401.
    let html = Creds {
        accept_html: true,
        ..Creds::default()
    };
    let reply = request("GET", &format!("{}/apps/x", server.url), &html, None);
    assert_eq!(
        (reply.status, reply.location.as_deref()),
        (303, Some("/login?next=/apps/x"))
    );
    let reply = request(
        "POST",
        &format!("{}/api/view/whoami", server.url),
        &Creds::default(),
        Some(""),
    );
    assert_eq!(reply.status, 401);
}

#[test]
fn failed_logins_are_rate_limited() {
    let home = tempfile::tempdir().unwrap();
    let server = serve(home.path(), &[]);
    for i in 0..10 {
        let reply = request(
            "GET",
            &format!("{}/?token=guess{i}", server.url),
            &Creds::default(),
            None,
        );
        assert_eq!(reply.status, 303);
    }
    // Even the right token waits now: guessing must not be told apart.
    let reply = request(
        "GET",
        &format!("{}/?token={}", server.url, server.token),
        &Creds::default(),
        None,
    );
    assert_eq!(reply.status, 429);
}

#[test]
fn cross_site_writes_are_refused() {
    let home = tempfile::tempdir().unwrap();
    let server = serve(home.path(), &[]);
    let mut admin = server.session_as("admin");
    let url = format!("{}/api/admin/create_share_link", server.url);
    admin.origin = Some("http://evil.example".into());
    assert_eq!(
        request("POST", &url, &admin, Some("role=admin&label=x")).status,
        403
    );
    admin.origin = None;
    assert_eq!(
        request("POST", &url, &admin, Some("role=admin&label=x")).status,
        403
    );
    admin.origin = Some(server.url.clone());
    assert_eq!(
        request("POST", &url, &admin, Some("role=admin&label=x")).status,
        200
    );
}

#[test]
fn a_viewer_cannot_call_admin_functions_by_hand() {
    let home = tempfile::tempdir().unwrap();
    let server = serve(home.path(), &[]);
    let viewer = server.session_as("viewer");
    let reply = request(
        "POST",
        &format!("{}/api/admin/create_share_link", server.url),
        &viewer,
        Some("role=admin&label=x"),
    );
    assert_eq!(reply.status, 403);
    assert!(
        reply.body.contains("needs the admin role"),
        "{}",
        reply.body
    );
    let page = request(
        "GET",
        &format!("{}/settings", server.url),
        &Creds {
            accept_html: true,
            ..viewer
        },
        None,
    );
    assert_eq!(page.status, 403);
}

#[test]
fn revoking_a_share_link_ends_its_sessions() {
    let home = tempfile::tempdir().unwrap();
    let server = serve(home.path(), &[]);
    let operator = server.session_as("operator");
    let whoami = format!("{}/api/view/whoami", server.url);
    let me = request("POST", &whoami, &operator, Some(""));
    assert_eq!(me.status, 200);
    assert!(me.body.contains("\"operator\""), "{}", me.body);
    let links = request(
        "POST",
        &format!("{}/api/admin/share_links", server.url),
        &server.admin(),
        Some(""),
    );
    let id = serde_json::from_str::<serde_json::Value>(&links.body).unwrap()[0]["id"]
        .as_i64()
        .unwrap();
    let revoke = request(
        "POST",
        &format!("{}/api/admin/revoke_share_link", server.url),
        &server.admin(),
        Some(&format!("id={id}")),
    );
    assert_eq!(revoke.status, 200, "{}", revoke.body);
    assert_eq!(request("POST", &whoami, &operator, Some("")).status, 401);
}

#[test]
fn an_expired_share_link_does_not_sign_in() {
    let home = tempfile::tempdir().unwrap();
    let server = serve(home.path(), &[]);
    let link = server.share_link("viewer", Some(0));
    let reply = request("GET", &link, &Creds::default(), None);
    assert_eq!(reply.location.as_deref(), Some("/login?error=link"));
}

#[test]
fn logout_ends_the_session() {
    let home = tempfile::tempdir().unwrap();
    let server = serve(home.path(), &[]);
    let viewer = server.session_as("viewer");
    let reply = request(
        "POST",
        &format!("{}/auth/logout", server.url),
        &viewer,
        Some(""),
    );
    assert_eq!(
        (reply.status, reply.location.as_deref()),
        (303, Some("/login?signed_out=1"))
    );
    assert_eq!(
        request(
            "POST",
            &format!("{}/api/view/whoami", server.url),
            &viewer,
            Some("")
        )
        .status,
        401
    );
}

#[test]
fn password_login_works_and_a_wrong_password_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let server = serve(home.path(), &["--password", "correct horse battery"]);
    let login = format!("{}/auth/login", server.url);
    let browser = Creds {
        origin: Some(server.url.clone()),
        ..Creds::default()
    };
    let wrong = request("POST", &login, &browser, Some("password=nope&next=/"));
    assert_eq!(wrong.location.as_deref(), Some("/login?error=password"));
    let right = request(
        "POST",
        &login,
        &browser,
        Some("password=correct+horse+battery&next=/apps/x"),
    );
    assert_eq!(right.location.as_deref(), Some("/apps/x"));
    let cookie = right
        .set_cookie
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let me = request(
        "POST",
        &format!("{}/api/view/whoami", server.url),
        &Creds {
            cookie: Some(cookie),
            ..browser
        },
        Some(""),
    );
    assert!(me.body.contains("\"admin\""), "{}", me.body);
}

#[test]
fn rotating_the_admin_token_retires_the_old_link_but_keeps_sessions() {
    let home = tempfile::tempdir().unwrap();
    let server = serve(home.path(), &[]);
    let admin = server.session_as("admin");
    let old_link = format!("{}/?token={}", server.url, server.token);
    let reply = request(
        "POST",
        &format!("{}/api/admin/rotate_admin_token", server.url),
        &admin,
        Some(""),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let new_link: String = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(
        request("GET", &old_link, &Creds::default(), None)
            .location
            .as_deref(),
        Some("/login?error=link")
    );
    assert!(server.login(&new_link).is_some());
    assert_eq!(
        request(
            "POST",
            &format!("{}/api/view/whoami", server.url),
            &admin,
            Some("")
        )
        .status,
        200
    );
}
