//! Plain HTTP forwarding: one request in, one request to the app, its
//! response back, with both bodies streamed frame by frame (uploads of
//! model files and SSE progress streams must not wait for the whole body).

use super::error::ProxyError;
use super::targets::{check_app_name, ProxyTargets, Target};
use super::{headers, prefix, rewrite, upgrade, ProxyOptions};
use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::http::uri::{PathAndQuery, Scheme, Uri};
use axum::http::{header, StatusCode, Version};
use axum::response::Response;
use hyper::body::Incoming;
use hyper::upgrade::OnUpgrade;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::net::SocketAddr;
use std::sync::Arc;

/// The handler state: the registry, the options and one pooled HTTP/1
/// client.
#[derive(Clone)]
pub struct Proxy {
    targets: Arc<ProxyTargets>,
    hidden_cookies: Arc<[String]>,
    strip_authorization: bool,
    client: Client<HttpConnector, Body>,
}

impl Proxy {
    pub fn new(targets: Arc<ProxyTargets>, options: ProxyOptions) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        // Local apps close idle keep-alive connections at will; a pooled
        // connection that died is retried by the client when safe.
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Self {
            targets,
            hidden_cookies: options.hidden_cookies.into(),
            strip_authorization: options.strip_authorization,
            client,
        }
    }

    /// Resolves `app`, then forwards or tunnels `req` (a `/p/<app>/…` path)
    /// to it.
    pub async fn handle(&self, app: &str, req: Request) -> Result<Response, ProxyError> {
        self.handle_under(app, &prefix(app), req).await
    }

    /// Like [`Proxy::handle`] for an app served at the root of its own
    /// origin: paths go to the app unchanged and nothing is re-prefixed.
    pub async fn handle_at_root(&self, app: &str, req: Request) -> Result<Response, ProxyError> {
        self.handle_under(app, "", req).await
    }

    /// Forwards `req`, whose public path starts with `prefix` (`""` at the
    /// root of an app's own origin).
    async fn handle_under(
        &self,
        app: &str,
        prefix: &str,
        req: Request,
    ) -> Result<Response, ProxyError> {
        let target = self.resolve(app, req.uri().path())?;
        let fwd = forwarded(&req);
        let (mut outbound, client_upgrade) = outbound_request(prefix, app, &target, &fwd, req)?;
        headers::hide_cookies(outbound.headers_mut(), &self.hidden_cookies);
        if self.strip_authorization {
            headers::strip_bearer(outbound.headers_mut());
        }
        let response = match client_upgrade {
            Some(on_client) => upgrade::tunnel(app, &target, outbound, on_client).await?,
            None => self.send(app, &target, outbound).await?,
        };
        let mount = rewrite::Mount {
            target: &target,
            prefix,
            public_host: fwd.host.as_ref().and_then(|h| h.to_str().ok()),
        };
        Ok(finish_response(response, &mount))
    }

    /// The app's target, once the name and path are known to be safe.
    fn resolve(&self, app: &str, public_path: &str) -> Result<Target, ProxyError> {
        check_app_name(app)?;
        if rewrite::has_dot_segment(public_path) {
            return Err(ProxyError::BadPath(format!(
                "{public_path} has a '.' or '..' segment"
            )));
        }
        self.targets.get(app).ok_or_else(|| ProxyError::NotRunning {
            app: app.to_string(),
        })
    }

    async fn send(
        &self,
        app: &str,
        target: &Target,
        req: Request,
    ) -> Result<Response<Incoming>, ProxyError> {
        self.client
            .request(req)
            .await
            .map_err(|e| unreachable_error(app, target, &e))
    }
}

/// What to tell the app about the client; the peer address is there when
/// the server was started with `into_make_service_with_connect_info`.
fn forwarded(req: &Request) -> headers::Forwarded {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ci| ci.0);
    headers::Forwarded::from_request(req.headers(), peer)
}

/// The request to send upstream, plus the client's pending upgrade when
/// the client asked to switch protocols.
type Outbound = (Request, Option<OnUpgrade>);

/// Builds the upstream request from the public one: same method, body and
/// (cleaned) headers, new URI and `Host`. An upgrade request keeps its
/// `Connection: upgrade` + `Upgrade` and hands back the client's pending
/// upgrade, to be spliced to the app's once both sides have switched.
fn outbound_request(
    prefix: &str,
    app: &str,
    target: &Target,
    fwd: &headers::Forwarded,
    mut req: Request,
) -> Result<Outbound, ProxyError> {
    let upgrade = headers::requested_upgrade(req.headers());
    let path = rewrite::upstream_path(target, prefix, req.uri().path(), req.uri().query());
    *req.uri_mut() = upstream_uri(app, target, &path)?;
    *req.version_mut() = Version::HTTP_11;
    let on_client = upgrade
        .as_ref()
        .and_then(|_| req.extensions_mut().remove::<OnUpgrade>());
    let h = req.headers_mut();
    headers::strip_hop_by_hop(h);
    headers::prepare_request(h, fwd, &target.authority, prefix);
    if let (Some(proto), Some(_)) = (upgrade, &on_client) {
        headers::keep_upgrade(h, proto);
    }
    Ok((req, on_client))
}

fn upstream_uri(app: &str, target: &Target, path: &str) -> Result<Uri, ProxyError> {
    let bad = |reason: String| ProxyError::BadRequest {
        app: app.to_string(),
        reason,
    };
    let pq: PathAndQuery = path
        .parse()
        .map_err(|e| bad(format!("path {path:?}: {e}")))?;
    Uri::builder()
        .scheme(Scheme::HTTP)
        .authority(target.authority.clone())
        .path_and_query(pq)
        .build()
        .map_err(|e| bad(e.to_string()))
}

/// Maps the app's response back: hop-by-hop headers off (unless switching
/// protocols, where `Upgrade`/`Connection` are the point), URLs rewritten,
/// body streamed frame by frame.
fn finish_response(response: Response<Incoming>, mount: &rewrite::Mount) -> Response {
    let (mut parts, body) = response.into_parts();
    let switching = parts.status == StatusCode::SWITCHING_PROTOCOLS;
    let upgrade = parts.headers.get(header::UPGRADE).cloned();
    headers::strip_hop_by_hop(&mut parts.headers);
    if let (true, Some(proto)) = (switching, upgrade) {
        headers::keep_upgrade(&mut parts.headers, proto);
    }
    rewrite::response_headers(&mut parts.headers, mount);
    Response::from_parts(parts, Body::new(body))
}

/// Any failure to get a response (refused, reset, closed before the
/// headers) means the app is not serving: 502 with the dashboard hint.
pub fn unreachable_error(app: &str, target: &Target, err: &dyn std::error::Error) -> ProxyError {
    ProxyError::Unreachable {
        app: app.to_string(),
        target: format!("http://{}{}/", target.authority, target.base_path),
        reason: error_chain(err),
    }
}

/// `err: source: source…`, since hyper's top-level messages are vague.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
