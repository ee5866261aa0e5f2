//! Tunnels to the front door: a supervised `cloudflared` quick tunnel or
//! `ngrok` agent that always targets the dashboard port, restarted with
//! backoff when it dies, its state observable through a `watch` channel.
//!
//! ```ignore
//! let launch = tunnel::plan(ProviderChoice::Auto, platform.as_ref(), port, &SystemEnv, &home.join("bin"))?;
//! let tunnel = Tunnel::spawn(launch, SupervisorConfig::default());
//! let mut states = tunnel.subscribe(); // TunnelState::Up { url } once public
//! tunnel.stop().await;
//! ```

mod binary;
mod cloudflared;
mod error;
mod ngrok;
mod plan;
mod provider;
mod state;
mod supervisor;

// The public API of this module; the server wires it in.
#[allow(unused_imports)]
pub use binary::{find_binary, install_into};
pub use error::TunnelError;
#[allow(unused_imports)]
pub use plan::{plan, Launch, ProviderChoice};
pub use provider::{LineEvent, ProviderKind};
pub use state::TunnelState;
#[allow(unused_imports)]
pub use supervisor::{SupervisorConfig, Tunnel};
