//! Per-app listeners: a port that serves one app at `/` (the app origin of
//! per-port mode, and what a per-app tunnel points at).

use super::{app_site, AppOrigins};
use axum::extract::Request;
use axum::response::IntoResponse;
use axum::Router;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use tokio::task::JoinHandle;

/// Loopback listeners (for tunnels) and public ones (exposed ports) are
/// kept apart: an app may have one of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Loopback,
    Public,
}

struct Running {
    port: u16,
    task: JoinHandle<()>,
}

#[derive(Default)]
pub struct Listeners {
    map: BTreeMap<(Kind, String), Running>,
}

impl Listeners {
    pub fn port_of(&self, kind: Kind, app: &str) -> Option<u16> {
        self.map
            .get(&(kind, app.to_string()))
            .filter(|r| !r.task.is_finished())
            .map(|r| r.port)
    }

    pub fn taken_ports(&self) -> BTreeSet<u16> {
        self.map.values().map(|r| r.port).collect()
    }

    pub fn stop(&mut self, app: &str) {
        for kind in [Kind::Loopback, Kind::Public] {
            if let Some(r) = self.map.remove(&(kind, app.to_string())) {
                r.task.abort();
            }
        }
    }
}

/// The port of `app`'s `kind` listener, binding `addr` first if it has none.
/// Must be called inside the Tokio runtime.
pub fn ensure(
    origins: &AppOrigins,
    kind: Kind,
    app: &str,
    addr: SocketAddr,
) -> std::io::Result<u16> {
    crate::proxy::check_app_name(app)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()))?;
    let mut listeners = origins.lock_listeners();
    if let Some(port) = listeners.port_of(kind, app) {
        return Ok(port);
    }
    let std_listener = std::net::TcpListener::bind(addr).map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!("cannot listen on {addr} for app {app}: {e}"),
        )
    })?;
    std_listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(std_listener)?;
    let port = listener.local_addr()?.port();
    let router = {
        let origins = origins.clone();
        let app = app.to_string();
        Router::new().fallback(move |req: Request| {
            let origins = origins.clone();
            let app = app.clone();
            async move { app_site::serve(origins, app, req).await.into_response() }
        })
    };
    let name = app.to_string();
    let task = tokio::spawn(async move {
        let served = axum::serve(
            crate::http::without_nagle(listener),
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
        if let Err(err) = served {
            tracing::warn!(app = name, error = %err, "app origin listener stopped");
        }
    });
    listeners
        .map
        .insert((kind, app.to_string()), Running { port, task });
    Ok(port)
}
