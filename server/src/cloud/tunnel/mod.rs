//! Tunnels to the outside: a supervised `cloudflared` quick tunnel or an
//! in-process ngrok session, restarted with backoff when it dies, its state
//! observable through a `watch` channel. One targets the dashboard port;
//! [`AppTunnels`] keeps one per app, aimed at that app's own listener.
//! A missing cloudflared is downloaded (pinned release, sha256 checked).
//!
//! ```ignore
//! let launch = tunnel::plan(ProviderChoice::Auto, platform.as_ref(), port, &SystemEnv, &home.join("bin"))?;
//! let tunnel = Tunnel::spawn(launch, SupervisorConfig::default());
//! let mut states = tunnel.subscribe(); // TunnelState::Up { url } once public
//! tunnel.stop().await;
//! ```

mod apps;
mod binary;
mod cloudflared;
mod error;
pub mod install;
mod ngrok;
pub mod ngrok_sdk;
mod plan;
mod provider;
mod state;
mod supervisor;

// The public API of this module; the server wires it in.
pub use apps::{AppTunnel, AppTunnels};
pub use binary::find_binary;
pub use error::TunnelError;
pub use install::{install, Download};
pub use ngrok_sdk::NgrokConfig;
pub use plan::{plan, plan_with, Install, Launch, ProviderChoice, Runner};
pub use provider::{LineEvent, ProviderKind};
pub use state::{StateSummary, TunnelState};
pub use supervisor::{SupervisorConfig, Tunnel};
