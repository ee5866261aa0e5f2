//! The HTTP surface: server-rendered pages, server functions, auth routes and
//! static assets, all behind the auth gate.

use crate::apps::Apps;
use crate::auth::{gate::gate, routes as auth_routes, Auth};
use crate::origin::{self, AppOrigins};
use crate::proxy::{self, ProxyOptions, ProxyTargets};
use app::backend::{Backend, BackendHandle};
use app::{shell, App};
use axum::{middleware, routing::get, Router};
use leptos::prelude::{provide_context, LeptosOptions};
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::sync::Arc;

/// Every route the server registers, as `(method, path)`: our own, the pages,
/// and the server functions. The auth tests walk this list, so a new route is
/// covered by the denial tests the moment it exists.
pub fn route_table() -> Vec<(String, String)> {
    let mut table: Vec<(String, String)> = vec![("GET".into(), "/healthz".into())];
    for method in ["GET", "POST"] {
        for path in ["/p/{app}", "/p/{app}/{*rest}"] {
            table.push((method.into(), path.into()));
        }
    }
    table.extend(
        auth_routes::ROUTES
            .iter()
            .map(|(method, path)| (method.to_string(), path.to_string())),
    );
    for listing in generate_route_list(App) {
        for method in listing.methods() {
            table.push((
                format!("{method:?}").to_uppercase(),
                listing.path().to_string(),
            ));
        }
    }
    table.push(("GET".into(), crate::terminal::ROUTE.into()));
    table.push(("GET".into(), crate::live::ROUTE.into()));
    table.extend(
        origin::routes::ROUTES
            .iter()
            .map(|(method, path)| (method.to_string(), path.to_string())),
    );
    table.extend(
        crate::apps::http::ROUTES
            .iter()
            .map(|(method, path)| (method.to_string(), path.to_string())),
    );
    for (path, method) in leptos::server_fn::axum::server_fn_paths() {
        table.push((method.to_string(), path.to_string()));
    }
    table.sort();
    table.dedup();
    table
}

pub fn router(
    options: LeptosOptions,
    auth: Auth,
    backend: Arc<dyn Backend>,
    proxy_targets: Arc<ProxyTargets>,
    apps: Apps,
    origins: AppOrigins,
    live: crate::live::Live,
) -> Router {
    let routes = generate_route_list(App);
    let site_root = options.site_root.clone();
    let handle = BackendHandle(backend);
    let pages = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .leptos_routes_with_context(&options, routes, move || provide_context(handle.clone()), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler(shell))
        .with_state(options);
    pages
        .merge(auth_routes::router().with_state(auth.clone()))
        .merge(crate::apps::http::router(apps.clone()))
        .merge(crate::terminal::router(apps.clone()))
        .merge(crate::live::router(live, Some(auth.clone())))
        .merge(origin::routes::router(origins.clone()))
        // Pages and server-function replies, compressed whole at a cheap
        // level (brotli's best costs more than rendering a page).
        .layer(middleware::from_fn(crate::compression::compress))
        // The catalog, My apps and Running, rendered and compressed once per
        // role (the last two again after each app event).
        .layer(middleware::from_fn_with_state(
            crate::page_cache::PageCache::new(Arc::new(move || apps.emitted())),
            crate::page_cache::serve,
        ))
        // The WASM bundle, JS and CSS at brotli's best, compressed once.
        .layer(middleware::from_fn_with_state(
            crate::asset_cache::AssetCache::new(std::path::Path::new(&*site_root)),
            crate::asset_cache::serve,
        ))
        // Running apps' UIs at /p/<app>/, passed through as the app sent
        // them (never recompressed: models and media are large); our
        // cookies and bearer tokens never reach app code.
        .merge(proxy::router_with(
            proxy_targets,
            ProxyOptions {
                hidden_cookies: origin::HIDDEN_COOKIES.map(String::from).to_vec(),
                strip_authorization: true,
            },
        ))
        .layer(middleware::from_fn_with_state(auth, gate))
        // Outermost: app origins (by Host) never reach the dashboard's routes.
        .layer(middleware::from_fn_with_state(
            origins,
            origin::dispatch::dispatch,
        ))
}

/// `listener` with Nagle's algorithm off on every connection: a response
/// written in pieces (headers, then body) otherwise waits for the client's
/// delayed ACK, about 40 ms per request on a kept-alive connection.
pub fn without_nagle(
    listener: tokio::net::TcpListener,
) -> axum::serve::TapIo<tokio::net::TcpListener, fn(&mut tokio::net::TcpStream)> {
    use axum::serve::ListenerExt;
    fn no_delay(stream: &mut tokio::net::TcpStream) {
        if let Err(err) = stream.set_nodelay(true) {
            tracing::trace!("cannot set TCP_NODELAY: {err}");
        }
    }
    listener.tap_io(no_delay as fn(&mut tokio::net::TcpStream))
}

#[cfg(test)]
mod nagle_tests {
    use axum::serve::Listener;

    #[tokio::test]
    async fn accepted_connections_send_without_waiting_for_acks() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut listener = super::without_nagle(listener);
        let _client = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (stream, _) = listener.accept().await;
        assert!(stream.nodelay().unwrap(), "TCP_NODELAY is off");
    }
}
