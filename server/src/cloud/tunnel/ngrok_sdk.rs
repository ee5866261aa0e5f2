//! ngrok tunnels inside this process (ngrok-rust): with `NGROK_AUTHTOKEN`
//! set there is nothing to install. One session per tunnel, so stopping one
//! app's tunnel never disturbs another's.

use super::supervisor::RunEnd;
use super::{TunnelError, TunnelState};
use crate::cloud::env::Env;
use ngrok::config::ForwarderBuilder;
use ngrok::prelude::{EndpointInfo, Error as _, TunnelCloser};
use ngrok::session::ConnectError;
use ngrok::tunnel::HttpTunnel;
use std::fmt;
use tokio::sync::watch;

/// Token for the ngrok service.
pub const TOKEN_ENV: &str = "NGROK_AUTHTOKEN";
/// Another ngrok-compatible server (`host:port`) than ngrok's own; for a
/// self-hosted or test server.
pub const SERVER_ENV: &str = "PINOKIOCLOUD_NGROK_SERVER";

const TOKEN_HELP: &str = "https://dashboard.ngrok.com/get-started/your-authtoken";

/// What an in-process ngrok tunnel needs.
#[derive(Clone, PartialEq, Eq)]
pub struct NgrokConfig {
    pub authtoken: String,
    /// `host:port` of the ngrok server; `None` for ngrok's default.
    pub server: Option<String>,
}

/// Never print the token.
impl fmt::Debug for NgrokConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NgrokConfig")
            .field("authtoken", &"<hidden>")
            .field("server", &self.server)
            .finish()
    }
}

impl NgrokConfig {
    /// From `NGROK_AUTHTOKEN` (and [`SERVER_ENV`]); a missing or blank
    /// token is an error that says where to get one.
    pub fn from_env(env: &dyn Env) -> Result<NgrokConfig, TunnelError> {
        let authtoken = env
            .var(TOKEN_ENV)
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .ok_or(TunnelError::MissingNgrokToken)?;
        let server = env
            .var(SERVER_ENV)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        Ok(NgrokConfig { authtoken, server })
    }
}

/// An open ngrok tunnel forwarding to a loopback port.
pub struct NgrokTunnel {
    session: ngrok::Session,
    forwarder: ngrok::forwarder::Forwarder<HttpTunnel>,
}

impl NgrokTunnel {
    pub fn url(&self) -> &str {
        self.forwarder.url()
    }

    pub async fn close(mut self) {
        let _ = self.forwarder.close().await;
        let _ = self.session.close().await;
    }
}

/// Connects to ngrok and forwards a new HTTPS endpoint to
/// `http://127.0.0.1:<port>`.
pub async fn open(config: &NgrokConfig, port: u16) -> Result<NgrokTunnel, TunnelError> {
    let mut builder = ngrok::Session::builder();
    builder.authtoken(config.authtoken.clone());
    if let Some(server) = &config.server {
        builder
            .server_addr(server.clone())
            .map_err(|e| TunnelError::Ngrok {
                reason: format!("{SERVER_ENV}={server} is not a host:port: {e}"),
            })?;
    }
    let session = builder.connect().await.map_err(|e| TunnelError::Ngrok {
        reason: explain_connect(&e, config),
    })?;
    let to: url::Url = format!("http://127.0.0.1:{port}/")
        .parse()
        .expect("a loopback URL parses");
    let forwarder = session
        .http_endpoint()
        .listen_and_forward(to)
        .await
        .map_err(|e| TunnelError::Ngrok {
            reason: format!(
                "ngrok refused the endpoint: {}{}",
                e.msg().trim(),
                code_suffix(&e)
            ),
        })?;
    Ok(NgrokTunnel { session, forwarder })
}

/// Whether an error from [`open`] is the token's fault (retrying won't help).
pub fn is_token_error(reason: &str) -> bool {
    reason.contains(TOKEN_ENV) && reason.contains("refused")
}

/// Says what failed and what to do: a refused token names the variable and
/// where to get a good one; a network failure names the server.
fn explain_connect(err: &ConnectError, config: &NgrokConfig) -> String {
    let server = config
        .server
        .as_deref()
        .unwrap_or("connect.ngrok-agent.com:443");
    match err {
        ConnectError::Auth(rpc) => format!(
            "ngrok refused the token in {TOKEN_ENV}: {}{}; copy your token from {TOKEN_HELP}",
            rpc.msg().trim(),
            code_suffix(rpc)
        ),
        other => format!(
            "{} while connecting to {server}; check that this machine reaches ngrok \
             (and that {TOKEN_ENV} is your token from {TOKEN_HELP})",
            error_chain(other)
        ),
    }
}

/// ` (ERR_NGROK_107)`: the code ngrok's docs index errors by.
fn code_suffix(err: &dyn ngrok::prelude::Error) -> String {
    match err.error_code() {
        Some(code) if !err.msg().contains(code) => format!(" ({code})"),
        _ => String::new(),
    }
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// One supervised run: open, publish the URL, hold it until stopped or the
/// session ends.
pub(super) async fn run_once(
    config: &NgrokConfig,
    port: u16,
    state: &watch::Sender<TunnelState>,
    stop: &mut watch::Receiver<bool>,
) -> RunEnd {
    let opened = tokio::select! {
        opened = open(config, port) => opened,
        _ = stop.changed() => return RunEnd::StopRequested,
    };
    let mut tunnel = match opened {
        Ok(tunnel) => tunnel,
        Err(err) => {
            let error = err.to_string();
            return if is_token_error(&error) {
                RunEnd::Fatal(error)
            } else {
                RunEnd::Died {
                    was_up: false,
                    error,
                }
            };
        }
    };
    let url = tunnel.url().to_string();
    tracing::info!(target: "pinokiocloud::tunnel", "ngrok tunnel up at {url}");
    state.send_replace(TunnelState::Up { url });
    tokio::select! {
        _ = stop.changed() => {
            tunnel.close().await;
            RunEnd::StopRequested
        }
        ended = tunnel.forwarder.join() => {
            let error = match ended {
                Ok(Ok(())) => "the ngrok session ended".to_string(),
                Ok(Err(e)) => format!("the ngrok session ended: {e}"),
                Err(e) => format!("the ngrok forwarder stopped: {e}"),
            };
            RunEnd::Died { was_up: true, error }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::env::FixtureEnv;

    #[test]
    fn the_token_is_required_and_never_printed() {
        let err = NgrokConfig::from_env(&FixtureEnv::new()).unwrap_err();
        assert!(matches!(err, TunnelError::MissingNgrokToken));
        let blank = FixtureEnv::new().with_var(TOKEN_ENV, "  ");
        assert!(NgrokConfig::from_env(&blank).is_err());
        let env = FixtureEnv::new().with_var(TOKEN_ENV, " tok_secret ");
        let config = NgrokConfig::from_env(&env).unwrap();
        assert_eq!(config.authtoken, "tok_secret");
        assert_eq!(config.server, None);
        assert!(!format!("{config:?}").contains("tok_secret"));
    }
}
