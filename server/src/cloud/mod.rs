//! The cloud layer: which platform we run on, where data should live, how the
//! front door is reached from outside (platform proxies, tunnels), and the GPU.
//!
//! Everything here reads the machine through [`env::Env`], so detection and
//! binary lookup can be tested from recorded fixtures instead of the real
//! process environment.

pub mod env;
pub mod gpu;
pub mod platform;
pub mod resources;
pub mod tunnel;
