//! Per-app origins through a real `pinokiocloud serve` and a fixture app that
//! assumes it owns `/`: subdomain routing by `Host`, per-port listeners, the
//! one-time handoff, cookie scoping and stripping, Origin checks, and the
//! security matrix (app origins and app-only share links get nothing of the
//! dashboard).

mod origin_support;
mod support;

use futures_util::{SinkExt, StreamExt};
use origin_support::*;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// Every dashboard route, as a concrete path (placeholders filled in).
fn dashboard_routes() -> Vec<(String, String)> {
    server::http::route_table()
        .into_iter()
        .map(|(method, path)| {
            let path = path
                .replace("{app}", APP)
                .replace("{id}", "1")
                .replace("{*rest}", "x")
                .replace("/*any", "/x");
            (method, path)
        })
        .filter(|(_, path)| !path.contains('{') && !path.contains('*'))
        .collect()
}

/// A WebSocket on `url` through 127.0.0.1:`port`; the message it echoes, or
/// the handshake's HTTP status when refused.
async fn ws_echo(port: u16, url: &str, headers: &[(&str, &str)]) -> Result<String, u16> {
    let mut req = url.into_client_request().unwrap();
    for (k, v) in headers {
        let name = tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(k.as_bytes());
        req.headers_mut().insert(name.unwrap(), v.parse().unwrap());
    }
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let (mut ws, _) = match tokio_tungstenite::client_async(req, tcp).await {
        Ok(ok) => ok,
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            return Err(resp.status().as_u16())
        }
        Err(e) => panic!("websocket {url}: {e}"),
    };
    ws.send(Message::text("ping")).await.unwrap();
    let reply = ws.next().await.unwrap().unwrap();
    Ok(reply.into_text().unwrap().to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn subdomain_origin_serves_the_app_at_its_root_after_a_one_time_handoff() {
    let s = start(&[]).await;
    let c = client(s.port);
    let origin = s.app_origin();
    let open = s.open_json().await;
    assert_eq!(open["mode"], "subdomain", "{open}");
    assert_eq!(open["origin"], origin.as_str());
    assert!(open["reason"].as_str().unwrap().contains("localhost"));
    let link = open["link"].as_str().unwrap().to_string();
    assert!(
        link.starts_with(&format!("{origin}/__pinokio/handoff?code=")),
        "{link}"
    );

    // Nothing of the app without the origin's own cookie; the dashboard's
    // cookie is not it.
    let admin = s.admin_cookie().await;
    assert!(admin.starts_with("pc_session="));
    for cookie in [None, Some(admin.as_str())] {
        let headers: Vec<(&str, &str)> = cookie.map(|c| ("cookie", c)).into_iter().collect();
        let r = send(&c, "GET", &format!("{origin}/"), &headers, None).await;
        assert_eq!(r.status, 401, "{}", r.body);
        assert!(!r.body.contains("Origin fixture"));
    }

    // The handoff sets a host-only, HttpOnly, Lax cookie of this origin…
    let r = send(&c, "GET", &link, &[], None).await;
    assert_eq!(r.status, 303);
    let set = r.cookies().join("\n");
    assert!(set.starts_with("pc_app_originapp="), "{set}");
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set.contains(attr), "{attr} missing in {set}");
    }
    assert!(!set.to_ascii_lowercase().contains("domain="), "{set}");
    assert!(
        !set.contains("Secure"),
        "plain http must not get Secure: {set}"
    );
    let cookie = first_pair(&set);
    // …once: a second use (a stolen link) is refused.
    let again = send(&c, "GET", &link, &[], None).await;
    assert_eq!(again.status, 403);
    assert!(again.cookies().is_empty());
    // A code is for one app only.
    let other = link.replace("originapp.localhost", "other.localhost");
    assert_eq!(send(&c, "GET", &other, &[], None).await.status, 403);

    // The page at `/`, its absolute asset and API paths, untouched cookies.
    let with = [("cookie", cookie.as_str())];
    let page = send(&c, "GET", &format!("{origin}/"), &with, None).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(r#"<base href="/">"#));
    assert_eq!(page.cookies(), vec!["appcookie=hello; Path=/".to_string()]);
    assert!(
        page.header("x-frame-options").is_none(),
        "apps keep their own framing rules"
    );
    let css = send(&c, "GET", &format!("{origin}/static/app.css"), &with, None).await;
    assert_eq!(
        (css.status, css.header("content-type")),
        (200, Some("text/css"))
    );
    let redirect = send(&c, "GET", &format!("{origin}/private"), &with, None).await;
    assert_eq!(redirect.status, 302);
    assert_eq!(redirect.header("location"), Some("/login"));
    // Gradio apps ask for /p/<app>/… (GRADIO_ROOT_PATH); same thing here.
    let gradio = send(
        &c,
        "GET",
        &format!("{origin}/p/{APP}/api/echo"),
        &with,
        None,
    )
    .await;
    assert_eq!(gradio.json()["path"], "/api/echo");

    // Our cookies and the dashboard's never reach the app.
    let jar = format!("{cookie}; {admin}; pc_app_other=x; appcookie=hello");
    let echo = send(
        &c,
        "POST",
        &format!("{origin}/api/echo?q=1"),
        &[("cookie", jar.as_str()), ("origin", origin.as_str())],
        Some(r#"{"a":1}"#),
    )
    .await
    .json();
    assert_eq!(echo["cookie"], "appcookie=hello");
    assert_eq!(echo["path"], "/api/echo?q=1");
    assert_eq!(echo["body"], r#"{"a":1}"#);
    assert_eq!(echo["x_forwarded_prefix"], "");

    // App origins never serve dashboard routes: the app answers them.
    let dash = send(&c, "GET", &format!("{origin}/api/view/apps"), &with, None).await;
    assert_eq!((dash.status, dash.body.as_str()), (404, "not found"));

    // WebSocket at /ws, from the app's own page only.
    let ws = format!("ws://{APP}.localhost:{}/ws", s.port);
    let own = [("cookie", cookie.as_str()), ("origin", origin.as_str())];
    assert_eq!(ws_echo(s.port, &ws, &own).await, Ok("echo:ping".into()));
    let foreign_origin = format!("http://other.localhost:{}", s.port);
    let foreign = [
        ("cookie", cookie.as_str()),
        ("origin", foreign_origin.as_str()),
    ];
    assert_eq!(ws_echo(s.port, &ws, &foreign).await, Err(403));
    assert_eq!(
        ws_echo(s.port, &ws, &[("origin", origin.as_str())]).await,
        Err(401)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn open_with_a_path_lands_there_on_the_app_origin_and_nowhere_else() {
    let s = start(&[]).await;
    let c = client(s.port);
    let origin = s.app_origin();
    // A menu link to http://127.0.0.1:<port>/api/echo?x=1 becomes this.
    let (status, body) = s
        .admin(
            "GET",
            &format!("/open/{APP}?format=json&path=%2Fapi%2Fecho%3Fx%3D1"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let open: serde_json::Value = serde_json::from_str(&body).unwrap();
    let link = open["link"].as_str().unwrap();
    let r = send(&c, "GET", link, &[], None).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some("/api/echo?x=1"));
    let cookie = first_pair(&r.cookies()[0]);
    let echo = send(
        &c,
        "GET",
        &format!("{origin}/api/echo?x=1"),
        &[("cookie", cookie.as_str())],
        None,
    )
    .await;
    assert_eq!(echo.json()["path"], "/api/echo?x=1");

    // Never to another host: refused with what to give instead…
    for bad in [
        "%2F%2Fevil.example%2F",
        "https%3A%2F%2Fevil.example%2F",
        "%2F%5Cevil.example",
    ] {
        let (status, body) = s
            .admin("GET", &format!("/open/{APP}?path={bad}"), None)
            .await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body.contains("starts with a single '/'"), "{body}");
    }
    // …and a handoff link edited by hand lands on `/`.
    let open = s.open_json().await;
    let forged = format!(
        "{}&next=%2F%2Fevil.example%2F",
        open["link"].as_str().unwrap()
    );
    let r = send(&c, "GET", &forged, &[], None).await;
    assert_eq!((r.status, r.header("location")), (303, Some("/")));
}

#[tokio::test(flavor = "multi_thread")]
async fn signing_out_of_the_dashboard_signs_out_of_the_apps_opened_from_it() {
    let s = start(&[]).await;
    let c = client(s.port);
    let origin = s.app_origin();
    let dashboard_cookie = s.admin_cookie().await;
    let with_dashboard = [("cookie", dashboard_cookie.as_str())];
    let open = send(
        &c,
        "GET",
        &format!("{}/open/{APP}?format=json", s.dashboard()),
        &with_dashboard,
        None,
    )
    .await;
    assert_eq!(open.status, 200, "{}", open.body);
    let app_cookie = s.handoff(open.json()["link"].as_str().unwrap()).await;
    let page = |cookie: String| {
        let c = c.clone();
        let url = format!("{origin}/");
        async move {
            send(&c, "GET", &url, &[("cookie", cookie.as_str())], None)
                .await
                .status
        }
    };
    assert_eq!(page(app_cookie.clone()).await, 200);

    let out = send(
        &c,
        "POST",
        &format!("{}/auth/logout", s.dashboard()),
        &[
            ("cookie", dashboard_cookie.as_str()),
            ("origin", s.dashboard().as_str()),
        ],
        None,
    )
    .await;
    assert_eq!(out.status, 303, "{}", out.body);
    // Checked sessions are trusted for a few seconds, then asked again.
    let mut status = 200;
    for _ in 0..40 {
        status = page(app_cookie.clone()).await;
        if status == 401 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert_eq!(
        status, 401,
        "the app session outlived the dashboard sign-out"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_dashboard_refuses_every_request_from_an_app_origin() {
    let s = start(&[]).await;
    let c = client(s.port);
    let admin = s.admin_cookie().await;
    let app_origin = s.app_origin();
    let port_origin = format!("http://127.0.0.1:{}", s.port + 1);
    let mut checked = 0;
    for (method, path) in dashboard_routes() {
        for origin in [app_origin.as_str(), port_origin.as_str(), "null"] {
            let r = send(
                &c,
                &method,
                &format!("{}{path}", s.dashboard()),
                &[("cookie", admin.as_str()), ("origin", origin)],
                (method == "POST").then_some("{}"),
            )
            .await;
            assert_eq!(r.status, 403, "{method} {path} from {origin}: {}", r.body);
            checked += 1;
        }
    }
    assert!(checked > 60, "only {checked} requests");
    // The same session from the dashboard's own page is served.
    let dashboard = s.dashboard();
    let own = [("cookie", admin.as_str()), ("origin", dashboard.as_str())];
    let r = send(&c, "GET", &format!("{dashboard}/api/view/apps"), &own, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Dashboard pages cannot be framed; no CORS is granted.
    let login = send(&c, "GET", &format!("{dashboard}/login"), &[], None).await;
    assert_eq!(login.header("x-frame-options"), Some("DENY"));
    assert_eq!(
        login.header("content-security-policy"),
        Some("frame-ancestors 'none'")
    );
    let pre = send(
        &c,
        "OPTIONS",
        &format!("{dashboard}/api/view/apps"),
        &[
            ("origin", app_origin.as_str()),
            ("access-control-request-method", "GET"),
        ],
        None,
    )
    .await;
    assert!(pre.header("access-control-allow-origin").is_none());
    assert_eq!(pre.status, 403);
}

#[tokio::test(flavor = "multi_thread")]
async fn per_port_listener_serves_the_app_and_strips_every_pinokio_cookie() {
    let s = start(&["--app-origin", "port"]).await;
    let c = client(s.port);
    let open = s.open_json().await;
    assert_eq!(open["mode"], "port", "{open}");
    let origin = open["origin"].as_str().unwrap().to_string();
    let app_port: u16 = origin.rsplit(':').next().unwrap().parse().unwrap();
    assert_ne!(app_port, s.port);
    assert_eq!(origin, format!("http://127.0.0.1:{app_port}"));
    // The same port again (the app keeps its address).
    assert_eq!(s.open_json().await["origin"], origin.as_str());
    let link = open["link"].as_str().unwrap();
    let cookie = s.handoff(link).await;
    assert_eq!(send(&c, "GET", link, &[], None).await.status, 403);

    let with = [("cookie", cookie.as_str())];
    let page = send(&c, "GET", &format!("{origin}/"), &with, None).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Origin fixture"));
    // Cookies ignore ports: the browser sends the dashboard's here too.
    let admin = s.admin_cookie().await;
    let jar = format!("{admin}; {cookie}; pc_app_x=1; appcookie=hello");
    let echo = send(
        &c,
        "GET",
        &format!("{origin}/api/echo"),
        &[("cookie", jar.as_str())],
        None,
    )
    .await
    .json();
    assert_eq!(echo["cookie"], "appcookie=hello");
    // …and the app's cookie reaches the dashboard's port, where it is nothing.
    let r = send(
        &c,
        "GET",
        &format!("{}/api/view/apps", s.dashboard()),
        &[("cookie", cookie.as_str())],
        None,
    )
    .await;
    assert_eq!(r.status, 401);
    let ws = format!("ws://127.0.0.1:{app_port}/ws");
    let own = [("cookie", cookie.as_str()), ("origin", origin.as_str())];
    assert_eq!(ws_echo(app_port, &ws, &own).await, Ok("echo:ping".into()));
    // No dashboard route on the app's port.
    let r = send(&c, "GET", &format!("{origin}/login"), &with, None).await;
    assert_eq!(r.body, "<h1>app login page</h1>");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_app_only_share_link_opens_that_app_and_nothing_of_the_dashboard() {
    let s = start(&[]).await;
    let c = client(s.port);
    let (status, body) = s
        .admin(
            "POST",
            &format!("/api/admin/origins/{APP}/share"),
            Some(r#"{"label":"bob"}"#),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let share: serde_json::Value = serde_json::from_str(&body).unwrap();
    let link = share["link"].as_str().unwrap().to_string();
    assert!(
        link.starts_with(&format!("{}/?token=", s.dashboard())),
        "{link}"
    );
    let token = link.split("token=").nth(1).unwrap().to_string();

    // The link signs in to the app's origin only: no dashboard cookie.
    let r = send(&c, "GET", &link, &[], None).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(r.cookies().is_empty(), "{:?}", r.cookies());
    let handoff = r.header("location").unwrap().to_string();
    assert!(handoff.starts_with(&format!("{}/__pinokio/handoff?code=", s.app_origin())));
    let cookie = s.handoff(&handoff).await;
    let page = send(
        &c,
        "GET",
        &format!("{}/", s.app_origin()),
        &[("cookie", cookie.as_str())],
        None,
    )
    .await;
    assert_eq!(page.status, 200);

    // Every dashboard page and API: refused, with its cookie, its token as a
    // bearer, or nothing.
    let bearer = format!("Bearer {token}");
    let dashboard = s.dashboard();
    for (method, path) in dashboard_routes() {
        for creds in [
            ("cookie", cookie.as_str()),
            ("authorization", bearer.as_str()),
        ] {
            let r = send(
                &c,
                &method,
                &format!("{dashboard}{path}"),
                &[creds, ("origin", dashboard.as_str())],
                (method == "POST").then_some("{}"),
            )
            .await;
            assert!(
                matches!(r.status, 401 | 403)
                    || path == "/login"
                    || path == "/healthz"
                    || path.starts_with("/api/public/")
                    || path.starts_with("/pkg/")
                    || path == "/favicon.svg"
                    || path == "/auth/login"
                    || path == "/auth/logout",
                "{method} {path} with {}: {} {}",
                creds.0,
                r.status,
                r.body
            );
        }
    }
    // Admin-only: an operator's bearer cannot mint app share links.
    let r = send(
        &c,
        "POST",
        &format!("{dashboard}/api/admin/origins/{APP}/share"),
        &[("authorization", bearer.as_str())],
        Some("{}"),
    )
    .await;
    assert_eq!(r.status, 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_open_prints_a_working_sign_in_link_and_ls_shows_the_mode() {
    let s = start(&[]).await;
    let run = |args: &[&str]| {
        let out = std::process::Command::new(support::BIN)
            .args(args)
            .arg("--home")
            .arg(s.home.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (link, note) = run(&["open", APP]);
    let link = link.trim();
    assert!(
        link.starts_with(&format!("{}/__pinokio/handoff?code=", s.app_origin())),
        "{link}"
    );
    assert!(note.contains("subdomain mode"), "{note}");
    let cookie = s.handoff(link).await;
    let page = send(
        &client(s.port),
        "GET",
        &format!("{}/", s.app_origin()),
        &[("cookie", cookie.as_str())],
        None,
    )
    .await;
    assert_eq!(page.status, 200);

    let (json, _) = run(&["ls", "--json"]);
    let apps: serde_json::Value = serde_json::from_str(&json).unwrap();
    let app = apps
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == APP)
        .unwrap();
    assert_eq!(app["origin"]["mode"], "subdomain", "{app}");
    assert_eq!(
        app["origin"]["origin"],
        "http://originapp.localhost:".to_string() + &s.port.to_string()
    );

    // A stopped app has nothing to open.
    let out = std::process::Command::new(support::BIN)
        .args(["open", "nosuchapp", "--home"])
        .arg(s.home.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not running"));
}
